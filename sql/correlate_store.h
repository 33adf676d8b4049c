#ifndef SQL_CORRELATE_STORE_H
#define SQL_CORRELATE_STORE_H
/*
 * The statements of the correlator (correlate/correlator.c drives them). One batch is:
 *
 *   correlate_store_begin      BEGIN, serialise correlators, reset the `touched` work table
 *   correlate_store_claim      take up to N queued event seqs (removed from the queue)
 *   correlate_store_purls      the package URLs the batch names (the caller canonicalises them)
 *   correlate_store_apply      facts -> entity tables -> edges -> artifacts' changes
 *   correlate_store_load_attribution / correlate_store_save_attribution
 *                              which changes each affected deployment shipped
 *   correlate_store_incidents  which deployment each affected incident belongs to
 *   correlate_store_production_* which environments are production (--production-env)
 *   correlate_store_metric_facts  per-deployment and per-change DORA facts
 *   correlate_store_commit     COMMIT (or correlate_store_rollback)
 *
 * `seqs` arguments are PostgreSQL array literals ("{1,2,3}") built by correlate_store_claim.
 * Errors (all functions): ST_UNAVAILABLE (connection lost), ST_INTERNAL (a statement failed),
 * with err->msg set. Threads: a db_conn is used by one thread at a time.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

struct db_conn;

enum status correlate_store_begin(struct db_conn *conn, struct err *err);
enum status correlate_store_commit(struct db_conn *conn, struct err *err);
/* Roll back the open transaction, if any; never fails (a lost connection rolls back anyway). */
void correlate_store_rollback(struct db_conn *conn);

/* Claim up to `limit` queued seqs, lowest first, into `seqs` (reset first) as an array
 * literal; *n is how many. */
enum status correlate_store_claim(struct db_conn *conn, size_t limit, struct buf *seqs, size_t *n,
				  struct err *err);

/* Call fn(arg, purl) once for every distinct package URL the claimed events name. */
typedef void (*correlate_store_string_fn)(void *arg, const char *s);
enum status correlate_store_purls(struct db_conn *conn, const char *seqs,
				  correlate_store_string_fn fn, void *arg, struct err *err);

/* Extract the facts of the claimed events and recompute everything they affect, up to the
 * artifacts' changes. `purl_map` is a JSON object mapping each spelling to its canonical form. */
enum status correlate_store_apply(struct db_conn *conn, const char *seqs, const char *purl_map,
				  struct err *err);

/*
 * One candidate row per (deployment, direct-change candidate) of the deployments to
 * re-attribute (save) and of their predecessors (context, !save), ordered by pair, deployment
 * time, rank. change/rule/repo are NULL when the deployment has no candidate; merged_us is
 * meaningful only when has_merged.
 */
struct correlate_store_candidate {
	const char *deployment, *pair, *change, *rule, *repo, *evidence;
	int rank;
	bool has_merged, save;
	int64_t merged_us;
};
typedef void (*correlate_store_candidate_fn)(void *arg, const struct correlate_store_candidate *c);
enum status correlate_store_load_attribution(struct db_conn *conn, correlate_store_candidate_fn fn,
					     void *arg, struct err *err);

/*
 * Replace the deployment_changes (and commit_range edges) of the deployments in `deployments`
 * (JSON array of keys) with `direct` (JSON array of {"d","c","rule","evidence"}) and the
 * changes inside `ranges` (JSON array of {"d","prev","lo","hi"}: lo/hi are the change keys that
 * bound the range, exclusive/inclusive by merge time).
 */
enum status correlate_store_save_attribution(struct db_conn *conn, const char *deployments,
					     const char *direct, const char *ranges,
					     struct err *err);

/* Re-attribute every incident whose environment, artifact or own events were touched. */
enum status correlate_store_incidents(struct db_conn *conn, struct err *err);

/* Refresh the DORA facts (deployment_facts, change_deployments) of what the batch touched;
 * call after correlate_store_incidents. */
enum status correlate_store_metric_facts(struct db_conn *conn, struct err *err);

/*
 * Production environments (0005_production_facts.sql). The pattern itself is matched in C
 * (metrics/production.c); these statements read the candidates and store the outcome.
 * correlate_store_production_pattern: *same = the recorded pattern equals `pattern`.
 * correlate_store_production_candidates: fn(arg, id, name, stored) for every environment
 *   (all) or for those this batch touched (a new deployment's environment, an environment
 *   event); `stored` = it is recorded as production now.
 * correlate_store_production_update: with `pattern` non-NULL, forget every recorded
 *   environment and record the pattern first (a full rebuild); then record `add` and forget
 *   `remove` (JSON arrays of ids) and rebuild the production facts of every change deployed
 *   to them (marked 'chg_prod' in touched, refreshed by correlate_store_metric_facts).
 */
typedef void (*correlate_store_env_fn)(void *arg, const char *id, const char *name, bool stored);
enum status correlate_store_production_pattern(struct db_conn *conn, const char *pattern,
					       bool *same, struct err *err);
enum status correlate_store_production_candidates(struct db_conn *conn, bool all,
						  correlate_store_env_fn fn, void *arg,
						  struct err *err);
enum status correlate_store_production_update(struct db_conn *conn, const char *pattern,
					      const char *add, const char *remove,
					      struct err *err);

/* Move one event out of the queue into correlate_failed with `error` (own transaction). */
enum status correlate_store_fail(struct db_conn *conn, const char *seq, const char *error,
				 struct err *err);

/* Empty every derived table and queue every event again (one transaction). */
enum status correlate_store_reset(struct db_conn *conn, struct err *err);

/* Events not yet correlated, and the age of the oldest one in seconds (0 when none). */
enum status correlate_store_pending(struct db_conn *conn, int64_t *pending, double *oldest_s,
				    struct err *err);

#endif
