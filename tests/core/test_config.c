/*
 * tests/core/test_config.c: the option table and config_load() (core/config.c).
 *
 * Every test starts from an environment without CDLENS_* variables (setup clears them), sets
 * what it needs with setenv() and passes flags as an argv array. Precedence under test:
 * flag > environment > default; every problem is reported at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/config.h"

#define DB "postgresql://localhost/cdlens"

/* Remove every CDLENS_* variable, so the caller's environment cannot leak into a test. */
static int clear_env(void **state)
{
	(void)state;
	for (;;) {
		char name[256] = "";
		for (char **e = environ; *e; e++) {
			if (strncmp(*e, "CDLENS_", 7) == 0) {
				size_t n = strcspn(*e, "=");
				assert_true(n < sizeof name);
				memcpy(name, *e, n);
				name[n] = '\0';
				break;
			}
		}
		if (!*name)
			return 0;
		unsetenv(name);
	}
}

/* config_load over a NULL-terminated list of flags (argv[0] is a program name). */
static enum status load(struct config *cfg, unsigned flags, struct err *err,
                        const char *const *args)
{
	char *argv[64] = {"cdlens"};
	int argc = 1;

	for (; args && *args; args++) {
		assert_true(argc < 63);
		argv[argc++] = (char *)*args;
	}
	err_clear(err);
	return config_load(cfg, argc, argv, 1, flags, err);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void defaults(void **state)
{
	(void)state;
	struct config cfg;
	struct err err;

	assert_int_equal(load(&cfg, 0, &err, ARGS("--database-url=" DB)), ST_OK);
	assert_string_equal(cfg.database_url, DB);
	assert_string_equal(cfg.listen, "127.0.0.1:8080");
	assert_string_equal(cfg.ingest_tokens, "");
	assert_false(cfg.insecure_no_auth);
	assert_int_equal(cfg.max_body, 1048576);
	assert_int_equal(cfg.max_batch, 1000);
	assert_int_equal(cfg.http_threads, 128);
	assert_int_equal(cfg.max_connections, 1024);
	assert_int_equal(cfg.request_timeout_ms, 30000);
	assert_int_equal(cfg.db_pool, 4);
	assert_int_equal(cfg.db_connect_timeout_s, 5);
	assert_int_equal(cfg.db_statement_timeout_ms, 30000);
	assert_int_equal(cfg.committers, 2);
	assert_int_equal(cfg.commit_max_events, 5000);
	assert_int_equal(cfg.retry_after_s, 2);
	assert_true(cfg.correlate);
	assert_string_equal(cfg.production_env, "^(.*[/:])?(prod|production)$");
	assert_string_equal(cfg.log_level, "info");
	assert_int_equal(cfg.ntokens, 0);
	assert_int_equal(err.status, ST_OK);
	config_release(&cfg);
	assert_int_equal(load(&cfg, 0, &err, ARGS("--database-url=" DB, "--correlate=false")), ST_OK);
	assert_false(cfg.correlate);
	config_release(&cfg);
	/* 0: no statement timeout of cdlens's own (the database's setting applies) */
	assert_int_equal(load(&cfg, 0, &err, ARGS("--database-url=" DB, "--db-connect-timeout=2",
						  "--db-statement-timeout-ms=0")), ST_OK);
	assert_int_equal(cfg.db_connect_timeout_s, 2);
	assert_int_equal(cfg.db_statement_timeout_ms, 0);
	config_release(&cfg);
	assert_null(cfg.database_url);
	assert_null(cfg.listen);
}

/* The database is required, from either source. */
static void database_required(void **state)
{
	(void)state;
	struct config cfg;
	struct err err;

	assert_int_equal(load(&cfg, 0, &err, NULL), ST_INVALID);
	assert_int_equal(err.status, ST_INVALID);
	assert_string_equal(err.msg, "invalid configuration: no database configured: set "
	                             "CDLENS_DATABASE_URL or --database-url");
	assert_string_equal(err.detail,
	                    "no database configured: set CDLENS_DATABASE_URL or --database-url");
	config_release(&cfg);

	assert_int_equal(load(&cfg, 0, &err, ARGS("--database-url=")), ST_INVALID);
	assert_non_null(strstr(err.msg, "no database configured"));
	config_release(&cfg);

	setenv("CDLENS_DATABASE_URL", "", 1);
	assert_int_equal(load(&cfg, 0, &err, NULL), ST_INVALID);
	config_release(&cfg);

	setenv("CDLENS_DATABASE_URL", DB, 1);
	assert_int_equal(load(&cfg, 0, &err, NULL), ST_OK);
	assert_string_equal(cfg.database_url, DB);
	config_release(&cfg);
}

struct precedence_case {
	const char *env_name, *env_value; /* NULL: not set */
	const char *flags[3];
	const char *want_listen;
	long want_pool;
	bool want_insecure;
};

static const struct precedence_case precedence[] = {
    {NULL, NULL, {NULL}, "127.0.0.1:8080", 4, false},
    {"CDLENS_LISTEN", "0.0.0.0:9000", {NULL}, "0.0.0.0:9000", 4, false},
    {"CDLENS_LISTEN", "0.0.0.0:9000", {"--listen=[::1]:81"}, "[::1]:81", 4, false},
    {"CDLENS_LISTEN", "0.0.0.0:9000", {"--listen", "[::1]:81"}, "[::1]:81", 4, false},
    {"CDLENS_LISTEN", "", {NULL}, "", 4, false},
    {"CDLENS_DB_POOL", "8", {NULL}, "127.0.0.1:8080", 8, false},
    {"CDLENS_DB_POOL", "8", {"--db-pool=9"}, "127.0.0.1:8080", 9, false},
    {"CDLENS_DB_POOL", "8", {"--db-pool", "9"}, "127.0.0.1:8080", 9, false},
    {NULL, NULL, {"--db-pool=3", "--db-pool=5"}, "127.0.0.1:8080", 5, false},
    {NULL, NULL, {"--listen=a:1", "--listen=b:2"}, "b:2", 4, false},
    {"CDLENS_INSECURE_NO_AUTH", "true", {NULL}, "127.0.0.1:8080", 4, true},
    {"CDLENS_INSECURE_NO_AUTH", "1", {NULL}, "127.0.0.1:8080", 4, true},
    {"CDLENS_INSECURE_NO_AUTH", "yes", {NULL}, "127.0.0.1:8080", 4, true},
    {"CDLENS_INSECURE_NO_AUTH", "false", {NULL}, "127.0.0.1:8080", 4, false},
    {"CDLENS_INSECURE_NO_AUTH", "0", {NULL}, "127.0.0.1:8080", 4, false},
    {"CDLENS_INSECURE_NO_AUTH", "no", {NULL}, "127.0.0.1:8080", 4, false},
    {"CDLENS_INSECURE_NO_AUTH", "yes", {"--insecure-no-auth=no"}, "127.0.0.1:8080", 4, false},
    {"CDLENS_INSECURE_NO_AUTH", "no", {"--insecure-no-auth"}, "127.0.0.1:8080", 4, true},
    {NULL, NULL, {"--insecure-no-auth"}, "127.0.0.1:8080", 4, true},
    {NULL, NULL, {"--insecure-no-auth=true"}, "127.0.0.1:8080", 4, true},
    {NULL, NULL, {"--insecure-no-auth=0"}, "127.0.0.1:8080", 4, false},
    /* a boolean flag never takes the next argument as its value */
    {NULL, NULL, {"--insecure-no-auth", "--db-pool=7"}, "127.0.0.1:8080", 7, true},
};

static void flag_env_default_precedence(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof precedence / sizeof precedence[0]; i++) {
		const struct precedence_case *c = &precedence[i];
		const char *args[6] = {"--database-url", DB};
		struct config cfg;
		struct err err;

		clear_env(NULL);
		if (c->env_name)
			setenv(c->env_name, c->env_value, 1);
		for (int k = 0; k < 3 && c->flags[k]; k++)
			args[2 + k] = c->flags[k];
		if (load(&cfg, 0, &err, args) != ST_OK)
			fail_msg("case %zu: %s", i, err.msg);
		assert_string_equal(cfg.listen, c->want_listen);
		assert_int_equal(cfg.db_pool, c->want_pool);
		assert_int_equal(cfg.insecure_no_auth, c->want_insecure);
		config_release(&cfg);
	}
}

/* The value after '=' is taken whole, '=' and spaces included. */
static void value_with_equals(void **state)
{
	(void)state;
	struct config cfg;
	struct err err;

	assert_int_equal(load(&cfg, 0, &err, ARGS("--database-url=host=/tmp dbname=x")), ST_OK);
	assert_string_equal(cfg.database_url, "host=/tmp dbname=x");
	config_release(&cfg);
	assert_int_equal(load(&cfg, 0, &err, ARGS("--database-url", "--listen=x")), ST_OK);
	assert_string_equal(cfg.database_url, "--listen=x"); /* "--flag value" takes it as is */
	assert_string_equal(cfg.listen, "127.0.0.1:8080");
	config_release(&cfg);
}

struct bad_case {
	const char *env_name, *env_value;
	const char *flag;
	const char *problem; /* the exact problem text */
};

static const struct bad_case bad_values[] = {
    {NULL, NULL, "--db-pool=0", "--db-pool: invalid value \"0\" (expected 1 to 64)"},
    {NULL, NULL, "--db-pool=65", "--db-pool: invalid value \"65\" (expected 1 to 64)"},
    {NULL, NULL, "--db-pool=-1", "--db-pool: invalid value \"-1\" (expected 1 to 64)"},
    {NULL, NULL, "--db-pool=abc", "--db-pool: invalid value \"abc\" (expected 1 to 64)"},
    {NULL, NULL, "--db-pool=4x", "--db-pool: invalid value \"4x\" (expected 1 to 64)"},
    {NULL, NULL, "--db-pool=", "--db-pool: invalid value \"\" (expected 1 to 64)"},
    {NULL, NULL, "--db-pool=4.0", "--db-pool: invalid value \"4.0\" (expected 1 to 64)"},
    {NULL, NULL, "--max-body=99999999999999999999999",
     "--max-body: invalid value \"99999999999999999999999\" (expected 1024 to 1073741824)"},
    {NULL, NULL, "--max-body=1023",
     "--max-body: invalid value \"1023\" (expected 1024 to "
     "1073741824)"},
    {NULL, NULL, "--max-batch=100001",
     "--max-batch: invalid value \"100001\" (expected 1 to 100000)"},
    {NULL, NULL, "--http-threads=1", "--http-threads: invalid value \"1\" (expected 2 to 1024)"},
    {NULL, NULL, "--request-timeout-ms=99",
     "--request-timeout-ms: invalid value \"99\" (expected 100 to 3600000)"},
    {NULL, NULL, "--committers=17", "--committers: invalid value \"17\" (expected 1 to 16)"},
    {NULL, NULL, "--retry-after=0", "--retry-after: invalid value \"0\" (expected 1 to 3600)"},
    {NULL, NULL, "--commit-max-events=0",
     "--commit-max-events: invalid value \"0\" (expected 1 to 100000)"},
    {NULL, NULL, "--max-connections=100001",
     "--max-connections: invalid value \"100001\" (expected 1 to 100000)"},
    /* libpq treats a connect_timeout of 1 as 2 */
    {NULL, NULL, "--db-connect-timeout=1",
     "--db-connect-timeout: invalid value \"1\" (expected 2 to 3600)"},
    {NULL, NULL, "--db-statement-timeout-ms=-1",
     "--db-statement-timeout-ms: invalid value \"-1\" (expected 0 to 86400000)"},
    {"CDLENS_DB_STATEMENT_TIMEOUT_MS", "30s", NULL,
     "--db-statement-timeout-ms: invalid value \"30s\" (expected 0 to 86400000)"},
    {"CDLENS_DB_POOL", "100", NULL, "--db-pool: invalid value \"100\" (expected 1 to 64)"},
    {"CDLENS_DB_POOL", "", NULL, "--db-pool: invalid value \"\" (expected 1 to 64)"},
    {NULL, NULL, "--insecure-no-auth=maybe",
     "--insecure-no-auth: \"maybe\" is not true or "
     "false"},
    {NULL, NULL, "--insecure-no-auth=", "--insecure-no-auth: \"\" is not true or false"},
    {"CDLENS_INSECURE_NO_AUTH", "TRUE", NULL, "--insecure-no-auth: \"TRUE\" is not true or false"},
    {NULL, NULL, "--log-level=loud",
     "--log-level: unknown level \"loud\" (expected error, warn, info or debug)"},
    {NULL, NULL, "--log-level=DEBUG",
     "--log-level: unknown level \"DEBUG\" (expected error, warn, info or debug)"},
    {"CDLENS_LOG_LEVEL", "", NULL,
     "--log-level: unknown level \"\" (expected error, warn, info or debug)"},
    {NULL, NULL, "--nope", "unknown option \"--nope\""},
    /* the value of an unknown option is not shown: it may be a mistyped token's secret */
    {NULL, NULL, "--nope=1", "unknown option \"--nope\" (its value is not shown)"},
    {NULL, NULL, "--", "unknown option \"--\""},
    {NULL, NULL, "--LISTEN=x",
     "unknown option \"--LISTEN\" (did you mean --listen?) (its value is not shown)"},
    {NULL, NULL, "--list=x",
     "unknown option \"--list\" (did you mean --listen?) (its value is not shown)"},
    {NULL, NULL, "--ingest-token=ci:secret-1234",
     "unknown option \"--ingest-token\" (did you mean --ingest-tokens?) (its value is not "
     "shown)"},
    {NULL, NULL, "--read-tokens=r:1234567", "--read-tokens: each entry must be NAME:SECRET "
     "with a name of [A-Za-z0-9_.-] and a secret of at least 8 characters"},
    {NULL, NULL, "--tls-key=k.pem", "--tls-key needs --tls-cert"},
    {NULL, NULL, "--listen=127.0.0.1:8443s",
     "--listen: \"127.0.0.1:8443s\" is an HTTPS port and needs --tls-cert"},
    {NULL, NULL, "--read-tokens=a:secret-12,b:secret-12",
     "tokens \"a\" and \"b\" have the same secret (a secret must belong to one token only)"},
    {NULL, NULL, "-l", "unexpected argument \"-l\""},
    {NULL, NULL, "serve", "unexpected argument \"serve\""},
    {NULL, NULL, "--listen", "option \"--listen\" needs a value"},
    {NULL, NULL, "--db-pool", "option \"--db-pool\" needs a value"},
};

static void bad_values_are_reported(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
		const struct bad_case *c = &bad_values[i];
		struct config cfg;
		struct err err;
		char want[512];

		clear_env(NULL);
		if (c->env_name)
			setenv(c->env_name, c->env_value, 1);
		const char *args[] = {"--database-url=" DB, c->flag, NULL};
		if (load(&cfg, 0, &err, args) != ST_INVALID)
			fail_msg("case %zu (%s) was accepted", i, c->flag ? c->flag : c->env_value);
		assert_string_equal(err.detail, c->problem);
		snprintf(want, sizeof want, "invalid configuration: %s", c->problem);
		assert_string_equal(err.msg, want);
		config_release(&cfg);
	}
}

struct bound_case {
	const char *flag;
	size_t offset;
	long value;
};

/* clang-format off */
#define B(flag, field, v) {"--" flag "=" #v, offsetof(struct config, field), v}
/* clang-format on */

/* The bounds themselves are accepted. */
static const struct bound_case bounds[] = {
    B("max-body", max_body, 1024),
    B("max-body", max_body, 1073741824),
    B("max-batch", max_batch, 1),
    B("max-batch", max_batch, 100000),
    B("http-threads", http_threads, 2),
    B("http-threads", http_threads, 1024),
    B("max-connections", max_connections, 1),
    B("max-connections", max_connections, 100000),
    B("request-timeout-ms", request_timeout_ms, 100),
    B("request-timeout-ms", request_timeout_ms, 3600000),
    B("db-pool", db_pool, 1),
    B("db-pool", db_pool, 64),
    B("committers", committers, 1),
    B("committers", committers, 16),
    B("commit-max-events", commit_max_events, 1),
    B("commit-max-events", commit_max_events, 100000),
    B("retry-after", retry_after_s, 1),
    B("retry-after", retry_after_s, 3600),
};

static void int_bounds_accepted(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
		struct config cfg;
		struct err err;

		if (load(&cfg, 0, &err, ARGS("--database-url=" DB, bounds[i].flag)) != ST_OK)
			fail_msg("%s: %s", bounds[i].flag, err.msg);
		assert_int_equal(*(long *)((char *)&cfg + bounds[i].offset), bounds[i].value);
		config_release(&cfg);
	}
}

static void log_levels(void **state)
{
	(void)state;
	static const char *const levels[] = {"error", "warn", "info", "debug"};

	for (size_t i = 0; i < 4; i++) {
		struct config cfg;
		struct err err;

		setenv("CDLENS_LOG_LEVEL", levels[i], 1);
		assert_int_equal(load(&cfg, 0, &err, ARGS("--database-url=" DB)), ST_OK);
		assert_string_equal(cfg.log_level, levels[i]);
		config_release(&cfg);
	}
}

/* Every problem is listed in detail, in order (environment, flags, then combinations);
 * msg starts with the first. */
static void all_problems_at_once(void **state)
{
	(void)state;
	struct config cfg;
	struct err err;

	setenv("CDLENS_MAX_BATCH", "0", 1);
	assert_int_equal(
	    load(&cfg, CONFIG_NEED_INGEST_AUTH, &err,
	         ARGS("--db-pool=0", "--nope", "--log-level=loud", "--ingest-tokens=bad")),
	    ST_INVALID);
	assert_string_equal(
	    err.detail,
	    "--max-batch: invalid value \"0\" (expected 1 to 100000); "
	    "--db-pool: invalid value \"0\" (expected 1 to 64); "
	    "unknown option \"--nope\"; "
	    "--ingest-tokens: each entry must be NAME:SECRET with a name of [A-Za-z0-9_.-] and a "
	    "secret of at least 8 characters; "
	    "no database configured: set CDLENS_DATABASE_URL or --database-url; "
	    "--log-level: unknown level \"loud\" (expected error, warn, info or debug); "
	    "no ingest tokens configured: set CDLENS_INGEST_TOKENS=NAME:SECRET, or "
	    "--insecure-no-auth for a local trial");
	static const char first[] = "invalid configuration: --max-batch: invalid value \"0\"";
	assert_memory_equal(err.msg, first, sizeof first - 1);
	assert_true(strlen(err.msg) < sizeof err.msg);
	config_release(&cfg);
}

/* A value too long to quote in full is still an error (the problem text is cut short), and
 * so are many problems that do not all fit in the message. */
static void huge_values_still_rejected(void **state)
{
	(void)state;
	static const char *const prefixes[] = {"--log-level=", "--", "",
	                                       "--insecure-no-auth=", "--db-pool="};
	static const char *const problems[] = {
	    "--log-level: unknown level \"xxx", "unknown option \"--xxx",
	    "unexpected argument \"xxx", "--insecure-no-auth: \"xxx", "--db-pool: invalid value"};
	char *arg = malloc(8192);
	struct config cfg;
	struct err err;

	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		size_t n = strlen(prefixes[i]);
		memcpy(arg, prefixes[i], n);
		memset(arg + n, 'x', 6000);
		arg[n + 6000] = '\0';
		if (load(&cfg, 0, &err, ARGS("--database-url=" DB, arg)) != ST_INVALID)
			fail_msg("a 6000-byte value after \"%s\" was accepted", prefixes[i]);
		if (strncmp(err.detail, problems[i], strlen(problems[i])) != 0)
			fail_msg("detail: %.80s", err.detail);
		config_release(&cfg);
	}
	/* 40 unknown options of 300 bytes: more than the problem list holds */
	char *args[41];
	for (int i = 0; i < 40; i++) {
		args[i] = malloc(320);
		snprintf(args[i], 320, "--unknown-%02d-", i);
		memset(args[i] + 13, 'y', 300);
		args[i][313] = '\0';
	}
	args[40] = NULL;
	assert_int_equal(load(&cfg, 0, &err, (const char *const *)args), ST_INVALID);
	static const char first[] = "unknown option \"--unknown-00-yyy";
	assert_memory_equal(err.detail, first, sizeof first - 1);
	config_release(&cfg);
	for (int i = 0; i < 40; i++)
		free(args[i]);
	free(arg);
}

/* argv before `first` is not looked at (the program name and a subcommand). */
static void first_argument(void **state)
{
	(void)state;
	char *argv[] = {"cdlens", "serve", "--database-url=" DB, "--db-pool=7", NULL};
	struct config cfg;
	struct err err = {0};

	assert_int_equal(config_load(&cfg, 4, argv, 2, 0, &err), ST_OK);
	assert_int_equal(cfg.db_pool, 7);
	config_release(&cfg);
	assert_int_equal(config_load(&cfg, 4, argv, 1, 0, &err), ST_INVALID);
	assert_string_equal(err.detail, "unexpected argument \"serve\"");
	config_release(&cfg);
	assert_int_equal(config_load(&cfg, 4, argv, 4, 0, &err), ST_INVALID); /* no flags */
	config_release(&cfg);
}

struct token_case {
	const char *value;
	size_t ntokens; /* expected when valid */
	const char *names[3], *secrets[3];
	bool valid;
};

#define TOKEN_PROBLEM                                                                              \
	"--ingest-tokens: each entry must be NAME:SECRET with a name of [A-Za-z0-9_.-] and a "     \
	"secret of at least 8 characters"

static const struct token_case tokens[] = {
    {"", 0, {NULL}, {NULL}, true},
    {"ci:12345678", 1, {"ci"}, {"12345678"}, true},
    {"a:12345678,b.c-D_9:secret:with:colons",
     2,
     {"a", "b.c-D_9"},
     {"12345678", "secret:with:colons"},
     true},
    {"x:        ", 1, {"x"}, {"        "}, true}, /* spaces are secret characters too */
    {"a:s3cr3t-one,b:s3cr3t-two,c:s3cr3t-3rd",
     3,
     {"a", "b", "c"},
     {"s3cr3t-one", "s3cr3t-two", "s3cr3t-3rd"},
     true},
    {"a:1234567", 0, {NULL}, {NULL}, false}, /* secret of 7 */
    {"a:", 0, {NULL}, {NULL}, false},
    {":12345678", 0, {NULL}, {NULL}, false}, /* empty name */
    {"a12345678", 0, {NULL}, {NULL}, false}, /* no colon */
    {"a b:12345678", 0, {NULL}, {NULL}, false},
    {"a/b:12345678", 0, {NULL}, {NULL}, false},
    {"caf\xc3\xa9:12345678", 0, {NULL}, {NULL}, false},
    {" a:12345678", 0, {NULL}, {NULL}, false},
    {",a:12345678", 0, {NULL}, {NULL}, false}, /* empty entry */
    {"a:12345678,,b:12345678", 0, {NULL}, {NULL}, false},
    {"a:12345678,b:short", 0, {NULL}, {NULL}, false},
    {"a:12345678;b:12345678", 1, {"a"}, {"12345678;b:12345678"}, true},
};

static void token_parsing(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
		const struct token_case *c = &tokens[i];
		struct config cfg;
		struct err err;

		setenv("CDLENS_INGEST_TOKENS", c->value, 1);
		enum status st = load(&cfg, 0, &err, ARGS("--database-url=" DB));
		if (!c->valid) {
			if (st != ST_INVALID)
				fail_msg("tokens \"%s\" accepted", c->value);
			assert_non_null(strstr(err.detail, TOKEN_PROBLEM));
			config_release(&cfg);
			continue;
		}
		if (st != ST_OK)
			fail_msg("tokens \"%s\": %s", c->value, err.msg);
		assert_string_equal(cfg.ingest_tokens, c->value);
		assert_int_equal(cfg.ntokens, c->ntokens);
		for (size_t k = 0; k < c->ntokens; k++) {
			assert_string_equal(cfg.tokens[k].name, c->names[k]);
			assert_string_equal(cfg.tokens[k].secret, c->secrets[k]);
		}
		config_release(&cfg);
		assert_int_equal(cfg.ntokens, 0);
	}
}

/* Names of exactly 64 characters are fine, 65 are not; the flag overrides the variable. */
static void token_name_length_and_flag(void **state)
{
	(void)state;
	char value[128];
	struct config cfg;
	struct err err;

	memset(value, 'n', 64);
	strcpy(value + 64, ":12345678");
	setenv("CDLENS_INGEST_TOKENS", "env:env-secret", 1);
	char flag[160];
	snprintf(flag, sizeof flag, "--ingest-tokens=%s", value);
	assert_int_equal(load(&cfg, 0, &err, ARGS("--database-url=" DB, flag)), ST_OK);
	assert_int_equal(cfg.ntokens, 1);
	assert_int_equal(strlen(cfg.tokens[0].name), 64);
	config_release(&cfg);

	memset(value, 'n', 65);
	strcpy(value + 65, ":12345678");
	snprintf(flag, sizeof flag, "--ingest-tokens=%s", value);
	assert_int_equal(load(&cfg, 0, &err, ARGS("--database-url=" DB, flag)), ST_INVALID);
	config_release(&cfg);
}

/* Up to CONFIG_MAX_TOKENS tokens; one more is a problem. */
static void token_count_limit(void **state)
{
	(void)state;
	char value[CONFIG_MAX_TOKENS * 24 + 32] = "";
	struct config cfg;
	struct err err;

	for (int i = 0; i < CONFIG_MAX_TOKENS; i++)
		snprintf(value + strlen(value), sizeof value - strlen(value), "%st%d:secret-%02d",
		         i ? "," : "", i, i);
	setenv("CDLENS_INGEST_TOKENS", value, 1);
	assert_int_equal(load(&cfg, CONFIG_NEED_INGEST_AUTH, &err, ARGS("--database-url=" DB)),
	                 ST_OK);
	assert_int_equal(cfg.ntokens, CONFIG_MAX_TOKENS);
	assert_string_equal(cfg.tokens[63].name, "t63");
	assert_string_equal(cfg.tokens[63].secret, "secret-63");
	config_release(&cfg);

	strcat(value, ",extra:secret-xx");
	setenv("CDLENS_INGEST_TOKENS", value, 1);
	assert_int_equal(load(&cfg, 0, &err, ARGS("--database-url=" DB)), ST_INVALID);
	assert_string_equal(err.detail, "--ingest-tokens: more than 64 tokens");
	config_release(&cfg);
}

/* A rejected token list never echoes a secret into the error. */
static void token_errors_hide_secrets(void **state)
{
	(void)state;
	struct config cfg;
	struct err err;

	setenv("CDLENS_INGEST_TOKENS", "good:supersecret1,bad name:supersecret2,x:short", 1);
	assert_int_equal(load(&cfg, 0, &err, ARGS("--database-url=" DB)), ST_INVALID);
	assert_null(strstr(err.msg, "supersecret"));
	assert_null(strstr(err.detail, "supersecret"));
	assert_null(strstr(err.detail, "short"));
	/* two bad entries: two problems */
	assert_string_equal(err.detail, TOKEN_PROBLEM "; " TOKEN_PROBLEM);
	config_release(&cfg);
}

/* An unknown option's value given as the next argument is taken with it, unshown; an
 * option after it is still read. */
static void unknown_option_hides_next_argument(void **state)
{
	(void)state;
	struct config cfg;
	struct err err;

	assert_int_equal(load(&cfg, 0, &err,
			      ARGS("--database-url=" DB, "--ingest-token", "ci:secret-1234",
				   "--db-pool=9")),
			 ST_INVALID);
	assert_string_equal(err.detail, "unknown option \"--ingest-token\" (did you mean "
					"--ingest-tokens?) (its value is not shown)");
	assert_int_equal(cfg.db_pool, 9);
	config_release(&cfg);
	/* followed by an option: nothing is taken */
	assert_int_equal(load(&cfg, 0, &err, ARGS("--database-url=" DB, "--nope", "--db-pool=9")),
			 ST_INVALID);
	assert_string_equal(err.detail, "unknown option \"--nope\"");
	assert_int_equal(cfg.db_pool, 9);
	config_release(&cfg);
}

/* Read tokens parse like ingest tokens, into their own list; an ingest secret used as a
 * read secret is refused by names only. */
static void read_tokens(void **state)
{
	(void)state;
	struct config cfg;
	struct err err;

	setenv("CDLENS_READ_TOKENS", "dash:read-secret-1,prom:read-secret-2", 1);
	assert_int_equal(
	    load(&cfg, 0, &err, ARGS("--database-url=" DB, "--ingest-tokens=ci:s3cr3t-ci")), ST_OK);
	assert_int_equal(cfg.nreaders, 2);
	assert_string_equal(cfg.readers[1].name, "prom");
	assert_string_equal(cfg.readers[1].secret, "read-secret-2");
	assert_int_equal(cfg.ntokens, 1);
	config_release(&cfg);
	assert_int_equal(cfg.nreaders, 0);
	assert_int_equal(load(&cfg, 0, &err,
			      ARGS("--database-url=" DB, "--ingest-tokens=ci:read-secret-2")),
			 ST_INVALID);
	assert_string_equal(err.detail, "tokens \"ci\" and \"prom\" have the same secret (a "
					"secret must belong to one token only)");
	config_release(&cfg);
}

/* config_token_match: exact secrets only, whichever token it is. */
static void token_match(void **state)
{
	(void)state;
	struct config_token t[] = {{"a", "secret-aaa"}, {"b", "secret-bbbb"}, {"c", "s3"}};
	static const struct {
		const char *given;
		const char *want; /* name, or NULL */
	} cases[] = {
		{"secret-aaa", "a"}, {"secret-bbbb", "b"}, {"s3", "c"},
		{"secret-aa", NULL}, {"secret-aaaa", NULL}, {"secret-bbb", NULL},
		{"secret-aab", NULL}, {"Secret-aaa", NULL}, {"", NULL},
		{"s3s3", NULL}, /* the secret repeated: compared over the given length */
		{"secret-aaasecret-aaa", NULL},
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const struct config_token *m =
		    config_token_match(t, 3, cases[i].given, strlen(cases[i].given));
		if (cases[i].want ? !m || strcmp(m->name, cases[i].want) : m != NULL)
			fail_msg("\"%s\": matched %s", cases[i].given, m ? m->name : "nothing");
	}
	assert_null(config_token_match(t, 0, "secret-aaa", 10));
	/* the length given is compared, not a C string: a NUL is just a byte that differs */
	assert_null(config_token_match(t, 3, "secret-aa\0", 10));
}

struct auth_case {
	unsigned flags;
	const char *tokens; /* CDLENS_INGEST_TOKENS, NULL: unset */
	const char *flag;   /* extra flag or NULL */
	enum status want;
};

static const struct auth_case auth[] = {
    {0, NULL, NULL, ST_OK},
    {CONFIG_NEED_INGEST_AUTH, NULL, NULL, ST_INVALID},
    {CONFIG_NEED_INGEST_AUTH, "", NULL, ST_INVALID},
    {CONFIG_NEED_INGEST_AUTH, "ci:12345678", NULL, ST_OK},
    {CONFIG_NEED_INGEST_AUTH, NULL, "--insecure-no-auth", ST_OK},
    {CONFIG_NEED_INGEST_AUTH, NULL, "--insecure-no-auth=false", ST_INVALID},
    {CONFIG_NEED_INGEST_AUTH, NULL, "--ingest-tokens=ci:12345678", ST_OK},
    {CONFIG_NEED_INGEST_AUTH, "ci:12345678", "--ingest-tokens=", ST_INVALID},
    {CONFIG_NEED_INGEST_AUTH, "ci:12345678", "--insecure-no-auth", ST_OK},
};

static void need_ingest_auth(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof auth / sizeof auth[0]; i++) {
		struct config cfg;
		struct err err;

		clear_env(NULL);
		if (auth[i].tokens)
			setenv("CDLENS_INGEST_TOKENS", auth[i].tokens, 1);
		const char *args[] = {"--database-url=" DB, auth[i].flag, NULL};
		enum status st = load(&cfg, auth[i].flags, &err, args);
		if (st != auth[i].want)
			fail_msg("case %zu: status %d (%s)", i, st, err.msg);
		if (st != ST_OK)
			assert_string_equal(
			    err.detail, "no ingest tokens configured: set "
			                "CDLENS_INGEST_TOKENS=NAME:SECRET, or --insecure-no-auth "
			                "for a local trial");
		config_release(&cfg);
	}
}

static void release_is_safe(void **state)
{
	(void)state;
	struct config cfg;

	memset(&cfg, 0, sizeof cfg);
	config_release(&cfg);
	config_release(&cfg);
	config_release(NULL);
}

static void usage_lists_every_option(void **state)
{
	(void)state;
	static const char *const expect[] = {
	    "--database-url",
	    "CDLENS_DATABASE_URL",
	    "--listen",
	    "CDLENS_LISTEN",
	    "[default: 127.0.0.1:8080]",
	    "--ingest-tokens",
	    "--insecure-no-auth",
	    "--read-tokens",
	    "CDLENS_READ_TOKENS",
	    "--tls-cert",
	    "CDLENS_TLS_CERT",
	    "--tls-key",
	    "CDLENS_TLS_KEY",
	    "--max-body",
	    "[default: 1048576]",
	    "--max-batch",
	    "--http-threads",
	    "--max-connections",
	    "--request-timeout-ms",
	    "--db-pool",
	    "CDLENS_DB_POOL",
	    "--db-connect-timeout",
	    "CDLENS_DB_CONNECT_TIMEOUT",
	    "--db-statement-timeout-ms",
	    "CDLENS_DB_STATEMENT_TIMEOUT_MS",
	    "--committers",
	    "--commit-max-events",
	    "--production-env",
	    "CDLENS_PRODUCTION_ENV",
	    "--correlate",
	    "CDLENS_CORRELATE",
	    "--retry-after",
	    "--log-level",
	    "[default: info]",
	};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	config_usage(out);
	fclose(out);
	for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
		if (!strstr(text, expect[i]))
			fail_msg("usage lacks %s", expect[i]);
	assert_null(strstr(text, "[default: ]")); /* empty defaults are not shown */
	size_t lines = 0;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 21);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(defaults, clear_env),
	    cmocka_unit_test_setup(database_required, clear_env),
	    cmocka_unit_test_setup(flag_env_default_precedence, clear_env),
	    cmocka_unit_test_setup(value_with_equals, clear_env),
	    cmocka_unit_test_setup(bad_values_are_reported, clear_env),
	    cmocka_unit_test_setup(int_bounds_accepted, clear_env),
	    cmocka_unit_test_setup(log_levels, clear_env),
	    cmocka_unit_test_setup(all_problems_at_once, clear_env),
	    cmocka_unit_test_setup(huge_values_still_rejected, clear_env),
	    cmocka_unit_test_setup(first_argument, clear_env),
	    cmocka_unit_test_setup(token_parsing, clear_env),
	    cmocka_unit_test_setup(token_name_length_and_flag, clear_env),
	    cmocka_unit_test_setup(token_count_limit, clear_env),
	    cmocka_unit_test_setup(token_errors_hide_secrets, clear_env),
	    cmocka_unit_test_setup(need_ingest_auth, clear_env),
	    cmocka_unit_test_setup(release_is_safe, clear_env),
	    cmocka_unit_test_setup(usage_lists_every_option, clear_env),
	    cmocka_unit_test_setup(unknown_option_hides_next_argument, clear_env),
	    cmocka_unit_test_setup(read_tokens, clear_env),
	    cmocka_unit_test_setup(token_match, clear_env),
	};

	return cmocka_run_group_tests(tests, clear_env, NULL);
}
