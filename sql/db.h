#ifndef SQL_DB_H
#define SQL_DB_H
/*
 * PostgreSQL connections: single connections (for the committers, which own one each) and
 * a bounded pool (for API queries). The only module that includes libpq-fe.h; a PGresult
 * never leaves sql/.
 *
 * Reconnection: db_conn_ensure() re-establishes a connection that libpq reports as bad,
 * so callers never need to know a restart happened. A failed connection attempt is
 * ST_UNAVAILABLE, which web/ turns into 503 with Retry-After.
 * Threads: a db_conn belongs to one thread at a time; the pool is thread-safe.
 */
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct db_conn;
struct db_pool;

/* Limits for every connection opened after the call; 0 leaves a limit to libpq and the
 * server (or to the same parameter in the URL, which a non-zero limit overrides).
 * connect_timeout_s: libpq connect_timeout; also tcp_user_timeout and the keepalive idle and
 * interval times, so an established connection whose host stopped answering is dropped.
 * statement_timeout_ms: SET statement_timeout on each new session; a statement cancelled by
 * it is ST_UNAVAILABLE.
 * Threads: call from main() before any thread connects (not thread-safe). */
struct db_limits {
	long connect_timeout_s;
	long statement_timeout_ms;
};
void db_set_limits(const struct db_limits *limits);

/* Open a connection to `url`. Errors: ST_UNAVAILABLE (cannot connect), ST_INVALID (bad URL). */
struct db_conn *db_connect(const char *url, struct err *err);
void db_disconnect(struct db_conn *conn);  /* NULL: no-op */
/* Reconnect if the connection is bad. Errors: ST_UNAVAILABLE. */
enum status db_conn_ensure(struct db_conn *conn, struct err *err);
/* Whether libpq reports the connection as usable. */
bool db_conn_ok(const struct db_conn *conn);
/* Run a statement without parameters or results (BEGIN, COMMIT, ...). */
enum status db_exec(struct db_conn *conn, const char *sql, struct err *err);

/* A pool of `size` lazily opened connections. Never fails: connecting happens on acquire. */
struct db_pool *db_pool_new(const char *url, int size);
void db_pool_free(struct db_pool *pool);   /* NULL: no-op; connections must be released */
/* Take a connection, waiting up to timeout_ms; (re)connects if needed.
 * Errors: ST_UNAVAILABLE (timeout or database unreachable). */
struct db_conn *db_acquire(struct db_pool *pool, int timeout_ms, struct err *err);
void db_release(struct db_pool *pool, struct db_conn *conn);  /* NULL conn: no-op */

/* The pool's state at one instant (for GET /metrics). */
struct db_pool_stats {
	int size;          /* connection slots (--db-pool) */
	int in_use;        /* slots taken by callers; size - in_use are idle (opened lazily) */
	int waiting;       /* callers blocked in db_acquire() for a free slot */
	uint64_t timeouts; /* db_acquire() calls that found no free slot in time, since start */
};
/* Fill *out from one consistent look at the pool. Threads: safe (takes the pool's lock). */
void db_pool_stats(struct db_pool *pool, struct db_pool_stats *out);

#endif
