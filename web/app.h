#ifndef WEB_APP_H
#define WEB_APP_H
/*
 * The process state, owned by main() and passed explicitly to every handler (practice 16):
 * the read-only config, the shared objects that have their own locks, and counters that
 * are C11 atomics (zeroed by main()'s initialiser; see web/http_stats.h).
 */
#include <stdatomic.h>

#include "web/http_stats.h"

struct config;
struct db_pool;
struct committer;
struct correlator;
struct production;
struct dora_tiers;

struct app {
	const struct config *cfg;
	struct db_pool *pool;
	struct committer *committer;
	struct correlator *correlator;
	const struct production *production; /* --production-env, compiled */
	const struct dora_tiers *tiers;      /* metrics/tiers.tsv, parsed */
	atomic_uint_fast64_t rejected[16]; /* ingest requests refused, by enum status */
	struct http_stats http;            /* requests by route, method, status, latency */
};

#endif
