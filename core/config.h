#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H
/*
 * The server's configuration: ONE table of options in config.c (practice 15).
 * Each option can be given as a flag (--listen=ADDR or --listen ADDR) or an environment
 * variable (CDLENS_LISTEN); flags win over the environment, which wins over defaults.
 * config_load() validates everything and reports every problem at once. After start-up the
 * struct is read-only and shared by all threads.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/err.h"

#define CONFIG_MAX_TOKENS 64

/* One named token ("producer name" or reader name : secret). */
struct config_token {
	char *name;
	char *secret;
};

struct config {
	char *database_url;
	char *listen;
	char *ingest_tokens;  /* raw "name:secret,..." as given */
	bool insecure_no_auth;
	char *read_tokens;    /* raw "name:secret,..."; "" leaves reads open */
	char *tls_cert;       /* PEM certificate (chain) file; "" serves plain HTTP */
	char *tls_key;        /* PEM private key file; "": the key is in tls_cert */
	long max_body;        /* bytes */
	long max_batch;       /* events per batch request */
	long http_threads;
	long max_connections; /* concurrent connections accepted (queue length) */
	long request_timeout_ms;
	long db_pool;
	long db_connect_timeout_s;   /* libpq connect_timeout (seconds) */
	long db_statement_timeout_ms; /* statement_timeout of serve's sessions; 0: the server's */
	long committers;
	long commit_max_events; /* events per group-commit transaction */
	bool correlate;         /* run the correlator thread */
	char *production_env;   /* regex naming production environments */
	long retry_after_s;
	char *log_level;
	/* derived by config_load() */
	struct config_token tokens[CONFIG_MAX_TOKENS];  /* ingest */
	size_t ntokens;
	struct config_token readers[CONFIG_MAX_TOKENS]; /* read access (API, pages) */
	size_t nreaders;
};

enum config_flags {
	CONFIG_NEED_INGEST_AUTH = 1 << 0, /* serving: tokens or --insecure-no-auth required */
};

/*
 * Fill *cfg from defaults, the environment (envp-style lookups through getenv) and
 * argv[first..argc). Unknown flags and out-of-range values are errors.
 * Ownership: *cfg owns its strings; release with config_release().
 * Errors: ST_INVALID, with err->msg naming the first problem and err->detail listing all.
 * Threads: not thread-safe (reads the environment); call from main only.
 */
enum status config_load(struct config *cfg, int argc, char **argv, int first, unsigned flags,
			struct err *err);
void config_release(struct config *cfg);
/* Print the option table (flag, variable, default, description) for --help. */
void config_usage(FILE *out);

/*
 * The token among tokens[0..n) whose secret is secret[0..len), or NULL.
 * Every secret is compared over all `len` bytes without an early exit, and the match is
 * selected without a branch, so the time taken depends only on `len` and the configuration:
 * not on which token matches, nor on where a wrong secret differs.
 * Threads: pure; safe from any thread.
 */
const struct config_token *config_token_match(const struct config_token *tokens, size_t n,
					      const char *secret, size_t len);

#endif
