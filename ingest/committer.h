#ifndef INGEST_COMMITTER_H
#define INGEST_COMMITTER_H
/*
 * Group commit: many request threads hand their validated events to a few committer
 * threads, each owning one PostgreSQL connection. A committer takes every waiting request
 * (up to a row limit) and writes them in ONE transaction, so N concurrent producers cost one
 * fsync instead of N. committer_submit() returns only after the transaction holding the
 * caller's events has committed (or failed), so a 2xx is never sent for uncommitted data.
 *
 *   request thread                      committer thread
 *   committer_submit() -- enqueue -->   take all queued jobs (<= max events)
 *        wait on job->done              event_store_insert(...) (one statement = one txn)
 *        <------- signal -------------  mark each job done with its counts or error
 *
 * Threads: committer_submit() and committer_stats() are thread-safe.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "ingest/envelope.h"

struct committer;

struct committer_stats {
	uint64_t accepted, duplicates, transactions, failed_transactions;
	size_t queued_events;
	bool db_ok;           /* the last transaction or connection attempt succeeded */
};

/* Start `threads` committers on `db_url`. Connections are opened lazily and re-opened after
 * a failure, so this never fails on an unreachable database. */
struct committer *committer_new(const char *db_url, int threads, size_t max_events);
/* Commit everything still queued, stop the threads and free. NULL: no-op. */
void committer_free(struct committer *c);

/*
 * Store the batch's events; blocks until their transaction ends.
 * On ST_OK, *accepted events were new and *duplicates were already stored (or repeated).
 * Errors: ST_UNAVAILABLE (the database is unreachable: nothing of this batch is stored, or the
 * commit outcome is unknown; a retry is safe because duplicates are detected), ST_INVALID (the
 * database refused a value in this batch), ST_INTERNAL.
 * Ownership: borrows the batch.
 */
enum status committer_submit(struct committer *c, const struct ingest_batch *batch,
			     size_t *accepted, size_t *duplicates, struct err *err);

void committer_stats(struct committer *c, struct committer_stats *out);

#endif
