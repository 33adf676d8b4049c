#ifndef CORRELATE_CORRELATOR_H
#define CORRELATE_CORRELATOR_H
/*
 * The correlator: turns committed events into the linked model (sql/migrations/0002_model.sql).
 *
 * Events are queued by a trigger in the transaction that stores them; one background thread
 * takes them in batches, each batch in one transaction, so the model is always a consistent
 * picture of the events correlated so far and nothing committed is ever skipped. The lag is
 * the queue (correlate_store_pending), shown by /readyz.
 *
 * Threads: correlator_stats() is thread-safe; correlator_drain() uses the caller's connection.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct db_conn;
struct correlator;
struct production;

struct correlator_stats {
	uint64_t events, batches, failed_batches;
	bool db_ok;   /* the last batch or connection attempt succeeded */
};

/* Largest batch taken at once; smaller batches come naturally when the queue is short. */
#define CORRELATOR_BATCH 2000

/* Start the background thread on `db_url`. Connects lazily and re-connects after failures,
 * so this never fails on an unreachable database. `prod` (--production-env) decides which
 * environments' facts are precomputed as production; borrowed, must outlive the correlator. */
struct correlator *correlator_new(const char *db_url, const struct production *prod);
/* Stop the thread (finishing its batch) and free. NULL: no-op. */
void correlator_free(struct correlator *c);
/* Counters since start; NULL (correlation off in this process): all zero. */
void correlator_stats(struct correlator *c, struct correlator_stats *out);

/*
 * Correlate one batch of at most `limit` queued events on `conn`; *events is how many were
 * taken (0: the queue was empty). A batch that fails for a reason other than the connection
 * is rolled back; with limit 1 the event is set aside in correlate_failed instead, so one
 * bad event cannot stall the queue.
 * Errors: ST_UNAVAILABLE (connection lost; the batch stays queued), ST_INTERNAL.
 */
enum status correlator_batch(struct db_conn *conn, const struct production *prod, size_t limit,
			     size_t *events, struct err *err);

/* Run batches until the queue is empty (used by `cdlens recorrelate`). *events: total. */
enum status correlator_drain(struct db_conn *conn, const struct production *prod, size_t *events,
			     struct err *err);

#endif
