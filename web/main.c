/*
 * web/main.c: the cdlens binary. main() reads like a table of contents (practice 20);
 * it is the only place that exits the process on a failure (practice 9).
 *
 *   cdlens serve     config -> migrate -> committers + pool -> HTTP -> wait for SIGTERM
 *                    -> stop HTTP (refuse new connections, in-flight requests finish and are
 *                    answered, web/server.c) -> drain committers -> exit 0
 *                    (the correlator thread follows the committed events throughout)
 *   cdlens migrate   config -> apply missing migrations -> exit
 *   cdlens demo      config -> migrate -> refuse a database with real events -> generate a
 *                    history -> through the ingest path -> correlate it -> exit
 *   cdlens recorrelate  config -> migrate -> empty the linked model -> correlate every
 *                    stored event again -> exit (safe while servers run: they wait)
 */
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "correlate/correlator.h"
#include "ingest/demo.h"
#include "metrics/production.h"
#include "metrics/tiers.h"
#include "ingest/committer.h"
#include "sql/correlate_store.h"
#include "sql/db.h"
#include "sql/event_store.h"
#include "sql/migrate.h"
#include "web/app.h"
#include "web/server.h"
#include "web/tls.h"

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("cdlens: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void usage(FILE *out)
{
	fputs("usage: cdlens <command> [options]\n"
	      "\n"
	      "CDEvents ingest, correlation and DORA metrics on PostgreSQL.\n"
	      "\n"
	      "commands:\n"
	      "  serve      apply migrations, then serve the HTTP API (ingest, health)\n"
	      "  migrate    apply missing database migrations and exit\n"
	      "  demo       fill the database with a realistic organisation's history (through the\n"
	      "             ingest path): demo --events N [--seed S] [--demo-start RFC3339]\n"
	      "             [--demo-days D] [--demo-batch N] [--demo-force]; events are permanent,\n"
	      "             so it refuses a database holding other events unless --demo-force\n"
	      "  recorrelate  rebuild the linked model (changes, builds, deployments, ...) from\n"
	      "             the stored events, e.g. after an upgrade with new correlation rules\n"
	      "  help       show this text (also --help)\n"
	      "  version    show the version (also --version)\n"
	      "\n"
	      "options (flag, environment variable, meaning):\n",
	      out);
	config_usage(out);
}

static void load_config(struct config *cfg, int argc, char **argv, unsigned flags)
{
	struct err err = {0};

	if (config_load(cfg, argc, argv, 2, flags, &err) != ST_OK)
		die("%s", err.msg);
	log_set_level((enum log_level)log_level_parse(cfg->log_level));
	/* every command: a database host that does not answer fails the connection in time;
	 * statements (migrations, recorrelate) are not limited, except while serving */
	db_set_limits(&(struct db_limits){.connect_timeout_s = cfg->db_connect_timeout_s});
}

static void migrate_or_die(const struct config *cfg)
{
	struct err err = {0};
	int applied = 0;
	struct db_conn *conn = db_connect(cfg->database_url, &err);

	if (!conn)
		die("%s: %s", err.msg, err.detail);
	if (migrate_run(conn, &applied, &err) != ST_OK)
		die("could not apply migrations: %s: %s", err.msg, err.detail);
	db_disconnect(conn);
	log_info("database schema ready version=%d applied=%d", migrate_latest(), applied);
}

static int cmd_migrate(int argc, char **argv)
{
	struct config cfg;

	load_config(&cfg, argc, argv, 0);
	migrate_or_die(&cfg);
	config_release(&cfg);
	return 0;
}

static struct production *production_or_die(const struct config *cfg)
{
	struct err err = {0};
	struct production *prod = production_new(cfg->production_env, &err);

	if (!prod)
		die("%s", err.msg);
	return prod;
}

static int cmd_recorrelate(int argc, char **argv)
{
	struct config cfg;
	struct err err = {0};
	size_t events = 0;

	load_config(&cfg, argc, argv, 0);
	struct production *prod = production_or_die(&cfg);
	migrate_or_die(&cfg);
	struct db_conn *conn = db_connect(cfg.database_url, &err);
	if (!conn)
		die("%s: %s", err.msg, err.detail);
	int64_t t0 = clock_mono_us();
	if (correlate_store_reset(conn, &err) != ST_OK)
		die("%s: %s", err.msg, err.detail);
	if (correlator_drain(conn, prod, &events, &err) != ST_OK)
		die("could not correlate: %s: %s", err.msg, err.detail);
	db_disconnect(conn);
	production_free(prod);
	log_info("linked model rebuilt events=%zu ms=%lld", events,
		 (long long)((clock_mono_us() - t0) / 1000));
	config_release(&cfg);
	return 0;
}

/* Remove `flag` from argv; whether it was there. */
static bool take_flag(int *argc, char **argv, const char *flag)
{
	for (int i = 2; i < *argc; i++) {
		if (strcmp(argv[i], flag) == 0) {
			memmove(&argv[i], &argv[i + 1], (size_t)(*argc - i) * sizeof *argv);
			(*argc)--;
			return true;
		}
	}
	return false;
}

/* Events cannot be deleted: a demo written into a real database would stay for ever. */
static void refuse_real_database(const struct config *cfg)
{
	struct err err = {0};
	bool other = false;
	struct db_conn *conn = db_connect(cfg->database_url, &err);

	if (!conn || event_store_has_other(conn, "demo", &other, &err) != ST_OK)
		die("%s: %s", err.msg, err.detail);
	db_disconnect(conn);
	if (other)
		die("the database already holds events that are not from the demo, and events can "
		    "never be deleted: use an empty database, or add --demo-force");
}

static int cmd_demo(int argc, char **argv)
{
	struct config cfg;
	struct demo_options opt;
	struct demo_result res;
	struct err err = {0};
	size_t linked = 0;

	demo_options_init(&opt);
	bool force = take_flag(&argc, argv, "--demo-force");
	if (demo_parse_args(&argc, argv, 2, &opt, &err) != ST_OK)
		die("%s %s", err.msg, err.detail);
	load_config(&cfg, argc, argv, 0);
	struct production *prod = production_or_die(&cfg);
	migrate_or_die(&cfg);
	if (!force)
		refuse_real_database(&cfg);
	if (demo_run(&cfg, &opt, &res, &err) != ST_OK)
		die("demo: %s: %s", err.msg, err.detail);
	struct db_conn *conn = db_connect(cfg.database_url, &err);
	if (!conn || correlator_drain(conn, prod, &linked, &err) != ST_OK)
		die("could not correlate: %s: %s", err.msg, err.detail);
	db_disconnect(conn);
	production_free(prod);
	printf("stored %zu demo events (%zu duplicates), correlated %zu\n", res.accepted,
	       res.duplicates, linked);
	config_release(&cfg);
	return 0;
}

static bool tls(const struct config *cfg)
{
	return cfg->tls_cert[0] != '\0';
}

/* Whether every --listen address is a loopback one (nobody else can connect). */
static bool loopback_only(const char *listen)
{
	for (const char *p = listen; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		if (strncmp(p, "127.", 4) != 0 && strncmp(p, "localhost:", 10) != 0 &&
		    strncmp(p, "[::1]:", 6) != 0)
			return false;
	}
	return true;
}

/*
 * Who can do what, at start. Open ingest is said loudly: at warn level whatever
 * --log-level is, framed, so it stands out in a terminal and in a journal.
 */
static void log_access(const struct config *cfg)
{
	static const char frame[] = "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!";

	if (cfg->ntokens == 0) {
		log_write(LOG_WARN, "%s", frame);
		log_write(LOG_WARN, "INSECURE: --insecure-no-auth is set and no ingest tokens are "
			  "configured: ANYONE who can reach %s can write events, which feed the "
			  "DORA figures. For local trials only: set CDLENS_INGEST_TOKENS.",
			  cfg->listen);
		log_write(LOG_WARN, "%s", frame);
	}
	log_info("access ingest_tokens=%zu read=%s tls=%s", cfg->ntokens,
		 cfg->nreaders ? "token" : "open", tls(cfg) ? "on" : "off");
	if ((cfg->ntokens || cfg->nreaders) && !tls(cfg) && !loopback_only(cfg->listen))
		log_warn("tokens travel in clear text over plain HTTP on %s: set --tls-cert and "
			 "--tls-key, or serve through a TLS proxy", cfg->listen);
}

static void wait_for_signal(const sigset_t *set)
{
	int sig = 0;

	sigwait(set, &sig);
	log_info("signal %d received: stopping (in-flight requests finish first)", sig);
}

static int cmd_serve(int argc, char **argv)
{
	struct config cfg;
	struct app app = {.cfg = &cfg};
	struct err err = {0};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread inherits the mask */
	signal(SIGPIPE, SIG_IGN);
	load_config(&cfg, argc, argv, CONFIG_NEED_INGEST_AUTH);
	if (tls(&cfg) && tls_check(cfg.tls_cert, cfg.tls_key, &err) != ST_OK)
		die("%s", err.msg); /* before anything starts (server_start() checks again) */
	log_access(&cfg);
	struct production *prod = production_or_die(&cfg);
	struct dora_tiers *tiers = tiers_parse(tiers_builtin, &err);
	if (!tiers)
		die("%s", err.msg);
	app.production = prod;
	app.tiers = tiers;
	migrate_or_die(&cfg);
	db_set_limits(&(struct db_limits){.connect_timeout_s = cfg.db_connect_timeout_s,
					  .statement_timeout_ms = cfg.db_statement_timeout_ms});
	app.pool = db_pool_new(cfg.database_url, (int)cfg.db_pool);
	app.committer = committer_new(cfg.database_url, (int)cfg.committers,
				      (size_t)cfg.commit_max_events);
	if (cfg.correlate)
		app.correlator = correlator_new(cfg.database_url, prod);
	else
		log_info("correlation is off in this process (--correlate=false): events stay queued"
			 " until a server with correlation on links them");
	struct server *srv = server_start(&app, &err);
	if (!srv)
		die("%s", err.msg);
	log_info("cdlens %s listening on %s://%s", CDLENS_VERSION, tls(&cfg) ? "https" : "http",
		 cfg.listen);
	wait_for_signal(&set);
	server_stop(srv);
	committer_free(app.committer);
	correlator_free(app.correlator);
	db_pool_free(app.pool);
	production_free(prod);
	tiers_free(tiers);
	log_info("stopped");
	config_release(&cfg);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "help";

	if (!strcmp(cmd, "serve"))
		return cmd_serve(argc, argv);
	if (!strcmp(cmd, "migrate"))
		return cmd_migrate(argc, argv);
	if (!strcmp(cmd, "recorrelate"))
		return cmd_recorrelate(argc, argv);
	if (!strcmp(cmd, "demo"))
		return cmd_demo(argc, argv);
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("cdlens %s\n", CDLENS_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	die("unknown command \"%s\"", cmd);
}
