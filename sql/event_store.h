#ifndef SQL_EVENT_STORE_H
#define SQL_EVENT_STORE_H
/*
 * Writing raw events. event_store_insert() writes a group of events with ONE statement, so in
 * autocommit it is a transaction of its own (the committer's group commit).
 * Threads: uses the given connection only.
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "sql/db.h"
#include "sql/model.h"

/*
 * Insert evs[0..n) unless an event with the same (source, id) is already stored or appears
 * earlier in the array. inserted[i] is set true for each event written, false for duplicates.
 * Ownership: borrows evs; inserted is caller-allocated with n entries.
 * Errors: ST_UNAVAILABLE (connection lost), ST_INVALID (the database refused a value, e.g.
 * a timestamp out of its range), ST_INTERNAL.
 */
enum status event_store_insert(struct db_conn *conn, const struct event *evs, size_t n,
			       bool *inserted, struct err *err);

/* Whether `events` holds any row (producer NULL: any producer; else only that producer's
 * events count as "other"). *other: events exist whose producer differs from `producer`.
 * Errors: ST_UNAVAILABLE, ST_INTERNAL. */
enum status event_store_has_other(struct db_conn *conn, const char *producer, bool *other,
				  struct err *err);

#endif
