/*
 * core/config.c: THE option table and its loader.
 *
 * Secrets: token values (--ingest-tokens, --read-tokens) never appear in a problem message,
 * and neither does the value of an unknown option (a mistyped --ingest-token=NAME:SECRET)
 * nor the argument that follows one (--ingest-token NAME:SECRET): start-up errors end up in
 * logs that more people read than should know the secrets.
 *
 * When you add an option: add a field to struct config, one row to `fields` below, and a
 * line in README.md's configuration table. Nothing else reads the environment.
 */
#include "core/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"

enum config_type { CFG_STR, CFG_INT, CFG_BOOL };

struct config_field {
	const char *flag;  /* without the leading -- */
	const char *env;
	enum config_type type;
	size_t offset;
	const char *def;   /* NULL: no default */
	long min, max;
	const char *help;
};

#define F(field) offsetof(struct config, field)

static const struct config_field fields[] = {
	{"database-url", "CDLENS_DATABASE_URL", CFG_STR, F(database_url), NULL, 0, 0,
	 "PostgreSQL connection string (libpq URI or key=value); required"},
	{"listen", "CDLENS_LISTEN", CFG_STR, F(listen), "127.0.0.1:8080", 0, 0,
	 "address:port to serve HTTP on (civetweb listening_ports syntax)"},
	{"ingest-tokens", "CDLENS_INGEST_TOKENS", CFG_STR, F(ingest_tokens), "", 0, 0,
	 "comma-separated NAME:SECRET bearer tokens for POST /api/v1/events"},
	{"insecure-no-auth", "CDLENS_INSECURE_NO_AUTH", CFG_BOOL, F(insecure_no_auth), "false", 0,
	 0, "accept events without a token when no tokens are configured (local trials only)"},
	{"read-tokens", "CDLENS_READ_TOKENS", CFG_STR, F(read_tokens), "", 0, 0,
	 "comma-separated NAME:SECRET tokens that reading (API, /metrics, pages) requires; "
	 "empty: reads are open"},
	{"tls-cert", "CDLENS_TLS_CERT", CFG_STR, F(tls_cert), "", 0, 0,
	 "PEM certificate (and chain) file: serve HTTPS, TLS 1.2 or later, instead of HTTP"},
	{"tls-key", "CDLENS_TLS_KEY", CFG_STR, F(tls_key), "", 0, 0,
	 "PEM private key file of --tls-cert (empty: the key is in the --tls-cert file)"},
	{"max-body", "CDLENS_MAX_BODY", CFG_INT, F(max_body), "1048576", 1024, 1L << 30,
	 "largest request body accepted, in bytes (larger: 413)"},
	{"max-batch", "CDLENS_MAX_BATCH", CFG_INT, F(max_batch), "1000", 1, 100000,
	 "most events in one batch request (more: 413)"},
	{"http-threads", "CDLENS_HTTP_THREADS", CFG_INT, F(http_threads), "128", 2, 1024,
	 "HTTP worker threads (each open keep-alive connection holds one)"},
	{"max-connections", "CDLENS_MAX_CONNECTIONS", CFG_INT, F(max_connections), "1024", 1,
	 100000, "connections queued beyond the worker threads before new ones are refused"},
	{"request-timeout-ms", "CDLENS_REQUEST_TIMEOUT_MS", CFG_INT, F(request_timeout_ms),
	 "30000", 100, 3600000, "time a client has to send a request before it is dropped"},
	{"db-pool", "CDLENS_DB_POOL", CFG_INT, F(db_pool), "4", 1, 64,
	 "PostgreSQL connections for API queries"},
	{"db-connect-timeout", "CDLENS_DB_CONNECT_TIMEOUT", CFG_INT, F(db_connect_timeout_s), "5",
	 2, 3600, "seconds to wait for a PostgreSQL connection (libpq connect_timeout; also the "
	 "time unacknowledged data or keepalives may go unanswered before a connection is "
	 "dropped)"},
	{"db-statement-timeout-ms", "CDLENS_DB_STATEMENT_TIMEOUT_MS", CFG_INT,
	 F(db_statement_timeout_ms), "30000", 0, 86400000,
	 "longest statement of the server's sessions (PostgreSQL statement_timeout; longer: 503); "
	 "0 keeps the database's setting"},
	{"committers", "CDLENS_COMMITTERS", CFG_INT, F(committers), "2", 1, 16,
	 "group-commit threads, each with its own PostgreSQL connection"},
	{"commit-max-events", "CDLENS_COMMIT_MAX_EVENTS", CFG_INT, F(commit_max_events), "5000",
	 1, 100000, "most events written in one group-commit transaction"},
	{"production-env", "CDLENS_PRODUCTION_ENV", CFG_STR, F(production_env),
	 "^(.*[/:])?(prod|production)$", 0, 0,
	 "environments whose id or name matches this POSIX extended regex (case-insensitive) "
	 "are production"},
	{"correlate", "CDLENS_CORRELATE", CFG_BOOL, F(correlate), "true", 0, 0,
	 "run the correlator in this process (false: an ingest-only node; another server or "
	 "`cdlens recorrelate` links the events)"},
	{"retry-after", "CDLENS_RETRY_AFTER", CFG_INT, F(retry_after_s), "2", 1, 3600,
	 "seconds sent in Retry-After while the database is unavailable"},
	{"log-level", "CDLENS_LOG_LEVEL", CFG_STR, F(log_level), "info", 0, 0,
	 "error, warn, info or debug"},
};

#define NFIELDS (sizeof fields / sizeof fields[0])

static const struct config_field *field_by_flag(const char *name, size_t len)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (strlen(fields[i].flag) == len && strncmp(fields[i].flag, name, len) == 0)
			return &fields[i];
	return NULL;
}

/* Each problem is cut to 511 bytes, so one huge value cannot crowd out the others. */
static void problem(struct buf *problems, const char *fmt, const char *a, const char *b)
{
	char text[512];

	snprintf(text, sizeof text, fmt, a, b);
	if (problems->len)
		buf_puts(problems, "; ");
	buf_puts(problems, text);
}

/* Store `value` into the field; record a problem when it does not parse or is out of range. */
static void set_field(struct config *cfg, const struct config_field *f, const char *value,
		      struct buf *problems)
{
	char *dst = (char *)cfg + f->offset;

	if (f->type == CFG_STR) {
		free(*(char **)dst);
		*(char **)dst = xstrdup(value);
	} else if (f->type == CFG_BOOL) {
		if (!strcmp(value, "true") || !strcmp(value, "1") || !strcmp(value, "yes"))
			*(bool *)dst = true;
		else if (!strcmp(value, "false") || !strcmp(value, "0") || !strcmp(value, "no"))
			*(bool *)dst = false;
		else
			problem(problems, "--%s: \"%s\" is not true or false", f->flag, value);
	} else {
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno || end == value || *end || v < f->min || v > f->max) {
			char range[64];
			snprintf(range, sizeof range, "%s\" (expected %ld to %ld)", value, f->min,
				 f->max);
			problem(problems, "--%s: invalid value \"%s", f->flag, range);
		} else {
			*(long *)dst = v;
		}
	}
}

/* A known flag the unknown `name` was probably meant to be (same letters in another case,
 * or one is a prefix of the other), or NULL. */
static const char *flag_like(const char *name, size_t len)
{
	for (size_t i = 0; len >= 3 && i < NFIELDS; i++) {
		size_t flen = strlen(fields[i].flag);
		if (!strncasecmp(fields[i].flag, name, len < flen ? len : flen))
			return fields[i].flag;
	}
	return NULL;
}

/*
 * An unknown option: named without its value (--x=VALUE), and the next argument is taken as
 * its value when it is not an option itself (--x VALUE), so that neither is shown: a mistyped
 * --ingest-token=NAME:SECRET must not print the secret. Returns the arguments consumed.
 */
static int unknown_option(const char *arg, size_t nlen, const char *next, struct buf *problems)
{
	char name[128];
	const char *like = flag_like(arg + 2, nlen);
	bool valued = arg[2 + nlen] == '=' || (next && strncmp(next, "--", 2) != 0);

	snprintf(name, sizeof name, "%.*s", (int)(nlen + 2 < 120 ? nlen + 2 : 120), arg);
	char hint[128] = "";
	if (like)
		snprintf(hint, sizeof hint, " (did you mean --%s?)", like);
	if (valued)
		strcat(hint, " (its value is not shown)");
	problem(problems, "unknown option \"%s\"%s", name, hint);
	return 1 + (arg[2 + nlen] != '=' && valued);
}

/* Apply argv[first..argc): --name=value, --name value, or --name for booleans. */
static void apply_flags(struct config *cfg, int argc, char **argv, int first,
			struct buf *problems)
{
	for (int i = first; i < argc; i++) {
		const char *arg = argv[i];
		if (strncmp(arg, "--", 2) != 0) {
			problem(problems, "unexpected argument \"%s\"%s", arg, "");
			continue;
		}
		const char *name = arg + 2, *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		const struct config_field *f = field_by_flag(name, nlen);
		if (!f) {
			const char *next = i + 1 < argc ? argv[i + 1] : NULL;
			i += unknown_option(arg, nlen, next, problems) - 1;
			continue;
		}
		if (eq)
			set_field(cfg, f, eq + 1, problems);
		else if (f->type == CFG_BOOL)
			set_field(cfg, f, "true", problems);
		else if (i + 1 < argc)
			set_field(cfg, f, argv[++i], problems);
		else
			problem(problems, "option \"%s\" needs a value%s", arg, "");
	}
}

static bool token_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", s[i]))
			return false;
	return true;
}

/* Split "name:secret,name2:secret2" (the value of --`flag`) into out[*n]. Problems name the
 * option, never an entry: an entry may be a secret. */
static void parse_tokens(const char *value, const char *flag, struct config_token *out,
			 size_t *n, struct buf *problems)
{
	const char *p = value;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *colon = memchr(p, ':', len);
		if (!colon || !token_name_ok(p, (size_t)(colon - p)) || len - (size_t)(colon - p) < 9)
			problem(problems, "--%s: each entry must be NAME:SECRET with a name of "
				"[A-Za-z0-9_.-] and a secret of at least 8 characters%s", flag, "");
		else if (*n == CONFIG_MAX_TOKENS)
			problem(problems, "--%s: more than 64 tokens%s", flag, "");
		else {
			struct config_token *t = &out[(*n)++];
			t->name = xstrndup(p, (size_t)(colon - p));
			t->secret = xstrndup(colon + 1, len - (size_t)(colon - p) - 1);
		}
		p = comma ? comma + 1 : NULL;
	}
}

/* A secret must name one token and grant one kind of access: the same secret twice (in one
 * list, or as an ingest and a read token) is a problem, reported by the tokens' names. */
static void check_unique_secrets(const struct config *cfg, struct buf *problems)
{
	const struct config_token *all[2 * CONFIG_MAX_TOKENS];
	size_t n = 0;

	for (size_t i = 0; i < cfg->ntokens; i++)
		all[n++] = &cfg->tokens[i];
	for (size_t i = 0; i < cfg->nreaders; i++)
		all[n++] = &cfg->readers[i];
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (!strcmp(all[i]->secret, all[j]->secret)) {
				char names[160];
				snprintf(names, sizeof names, "\"%s\" and \"%s\"", all[i]->name,
					 all[j]->name);
				problem(problems, "tokens %s have the same secret%s", names,
					" (a secret must belong to one token only)");
			}
}

/* --listen entries that end in "s" are HTTPS ports (civetweb syntax): they need a
 * certificate; --tls-key alone means nothing. */
static void check_tls(const struct config *cfg, struct buf *problems)
{
	bool tls = cfg->tls_cert && *cfg->tls_cert;

	if (!tls && cfg->tls_key && *cfg->tls_key)
		problem(problems, "--tls-key needs --tls-cert%s%s", "", "");
	for (const char *p = cfg->listen; !tls && p && *p;) {
		size_t len = strcspn(p, ",");
		if (len && p[len - 1] == 's') {
			char entry[128];
			snprintf(entry, sizeof entry, "%.*s", (int)(len < 120 ? len : 120), p);
			problem(problems, "--listen: \"%s\" is an HTTPS port and needs "
				"--tls-cert%s", entry, "");
			break;
		}
		p += len + (p[len] == ',');
	}
}

static void check_combinations(struct config *cfg, unsigned flags, struct buf *problems)
{
	if (!cfg->database_url || !*cfg->database_url)
		problem(problems, "no database configured%s%s",
			": set CDLENS_DATABASE_URL or --database-url", "");
	if (log_level_parse(cfg->log_level) < 0)
		problem(problems, "--log-level: unknown level \"%s\"%s", cfg->log_level,
			" (expected error, warn, info or debug)");
	if ((flags & CONFIG_NEED_INGEST_AUTH) && !cfg->ntokens && !cfg->insecure_no_auth)
		problem(problems, "no ingest tokens configured%s%s",
			": set CDLENS_INGEST_TOKENS=NAME:SECRET, or --insecure-no-auth for a local trial",
			"");
	check_unique_secrets(cfg, problems);
	check_tls(cfg, problems);
}

enum status config_load(struct config *cfg, int argc, char **argv, int first, unsigned flags,
			struct err *err)
{
	struct buf problems = BUF_INIT(4096);

	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < NFIELDS; i++) {
		const char *env = getenv(fields[i].env);
		if (fields[i].def)
			set_field(cfg, &fields[i], fields[i].def, &problems);
		if (env)
			set_field(cfg, &fields[i], env, &problems);
	}
	apply_flags(cfg, argc, argv, first, &problems);
	parse_tokens(cfg->ingest_tokens, "ingest-tokens", cfg->tokens, &cfg->ntokens, &problems);
	parse_tokens(cfg->read_tokens, "read-tokens", cfg->readers, &cfg->nreaders, &problems);
	check_combinations(cfg, flags, &problems);
	if (!problems.len && !problems.overflow) {
		buf_release(&problems);
		return ST_OK;
	}
	err_set(err, ST_INVALID, "invalid configuration: %s", buf_cstr(&problems));
	snprintf(err->detail, sizeof err->detail, "%s", buf_cstr(&problems));
	buf_release(&problems);
	return ST_INVALID;
}

void config_release(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < NFIELDS; i++)
		if (fields[i].type == CFG_STR)
			free(*(char **)((char *)cfg + fields[i].offset));
	for (size_t i = 0; i < cfg->ntokens; i++) {
		free(cfg->tokens[i].name);
		free(cfg->tokens[i].secret);
	}
	for (size_t i = 0; i < cfg->nreaders; i++) {
		free(cfg->readers[i].name);
		free(cfg->readers[i].secret);
	}
	memset(cfg, 0, sizeof *cfg);
}

void config_usage(FILE *out)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct config_field *f = &fields[i];
		fprintf(out, "  --%-20s %-26s %s", f->flag, f->env, f->help);
		if (f->def && *f->def)
			fprintf(out, " [default: %s]", f->def);
		fputc('\n', out);
	}
}

/* Whether secret[0..len) differs from `secret`: 0 or 1, in time that depends on `len` and
 * strlen(secret) only (every byte is looked at; volatile keeps the compiler from stopping
 * at the first difference). */
static unsigned secret_differs(const char *given, size_t len, const char *secret)
{
	size_t slen = strlen(secret), k = 0;
	volatile unsigned char diff = len != slen;

	for (size_t i = 0; i < len && slen; i++) {
		diff |= (unsigned char)given[i] ^ (unsigned char)secret[k];
		k = k + 1 == slen ? 0 : k + 1; /* wraps on the secret's length, not its bytes */
	}
	return diff != 0;
}

const struct config_token *config_token_match(const struct config_token *tokens, size_t n,
					      const char *secret, size_t len)
{
	size_t found = n; /* none */

	for (size_t i = 0; i < n; i++) {
		size_t hit = 1u ^ secret_differs(secret, len, tokens[i].secret);
		found ^= (found ^ i) & (0 - hit); /* found = hit ? i : found, without a branch */
	}
	return found < n ? &tokens[found] : NULL;
}
