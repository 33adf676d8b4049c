/*
 * sql/db.c: connections and the bounded pool.
 *
 * Why a pool with lazy connections: the server must start (and answer /healthz and 503s)
 * while PostgreSQL is still down, and reconnect by itself once it is back. Each pooled
 * connection is checked with PQstatus on acquire and reset when bad.
 *
 * Limits (db_set_limits()): connect_timeout bounds a connection attempt to a host that does
 * not answer; tcp_user_timeout and keepalives (same number of seconds) drop an established
 * connection whose host stopped answering, instead of waiting for TCP to give up (about
 * 15 minutes); statement_timeout makes PostgreSQL cancel a statement that waits too long (a
 * lock, an overloaded server), which is ST_UNAVAILABLE like a lost connection.
 *
 * Pool invariant: `free_list` holds `nfree` connection slots (some may be unconnected);
 * `outstanding` = size - nfree. db_acquire waits on `cond` while nfree == 0; `waiting` counts
 * the threads doing so and `timeouts` those that gave up (both under `lock`, for metrics).
 */
#include "sql/db_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/xalloc.h"

#define DB_MAX_PREPARED 64

struct db_conn {
	PGconn *pg;
	char *url;
	const char *prepared[DB_MAX_PREPARED]; /* statement texts prepared on this session */
	int nprepared;
};

/* Set once by main() before any thread connects, like the log level; read-only after. */
static struct db_limits limits;

struct db_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *url;
	struct db_conn **free_list;
	int nfree, size;
	int waiting;       /* threads blocked in pool_take */
	uint64_t timeouts; /* pool_take calls that gave up */
};

PGconn *db_pg(struct db_conn *conn)
{
	return conn->pg;
}

static bool sqlstate_is(const char *state, const char *prefix)
{
	return state && strncmp(state, prefix, strlen(prefix)) == 0;
}

enum status db_result_error(struct db_conn *conn, const PGresult *res, const char *what,
			    struct err *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn->pg);
	enum status st = ST_INTERNAL;

	/* no SQLSTATE: the error was made by libpq itself, i.e. the connection broke;
	 * 57014: cancelled, by statement_timeout (a lock or an overloaded server).
	 * Class 54 (program limit exceeded, such as an index entry over 2704 bytes) stays
	 * ST_INTERNAL: ingest's identifier limits (sql/model.h) keep every accepted event
	 * under PostgreSQL's limits, so reaching one is a cdlens bug, not the producer's */
	if (!state || PQstatus(conn->pg) != CONNECTION_OK || sqlstate_is(state, "08") ||
	    sqlstate_is(state, "57P0") || sqlstate_is(state, "57014") || sqlstate_is(state, "53"))
		st = ST_UNAVAILABLE;
	else if (sqlstate_is(state, "23505"))
		st = ST_CONFLICT;
	else if (sqlstate_is(state, "22"))
		st = ST_INVALID;
	err_set(err, st, "could not %s", what);
	err_detail(err, "%s%s%.*s", state ? state : "", state ? ": " : "",
		   (int)strcspn(msg ? msg : "", "\n"), msg ? msg : "");
	return st;
}

/* res when it has the expected status; otherwise err is set, res cleared, NULL returned. */
static PGresult *expect_result(struct db_conn *conn, PGresult *res, ExecStatusType expect,
			       const char *what, struct err *err)
{
	if (res && PQresultStatus(res) == expect)
		return res;
	db_result_error(conn, res, what, err);
	PQclear(res);
	return NULL;
}

PGresult *db_query(struct db_conn *conn, const char *sql, int nparams, const char *const *params,
		   ExecStatusType expect, const char *what, struct err *err)
{
	/* Without parameters, the simple protocol: it accepts several ;-separated statements
	 * (one transaction script) and returns the last one's result. */
	PGresult *res = nparams ? PQexecParams(conn->pg, sql, nparams, NULL, params, NULL, NULL, 0)
				: PQexec(conn->pg, sql);

	return expect_result(conn, res, expect, what, err);
}

static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* The statement name for `sql` on this session, preparing it on first use; NULL on failure.
 * The caller makes sure a slot is free. */
static const char *prepared_name(struct db_conn *conn, const char *sql, int nparams,
				 char name[16], const char *what, struct err *err)
{
	int i = 0;

	while (i < conn->nprepared && conn->prepared[i] != sql)
		i++;
	snprintf(name, 16, "s%d", i);
	if (i < conn->nprepared)
		return name;
	PGresult *res = PQprepare(conn->pg, name, sql, nparams, NULL);
	if (!expect_result(conn, res, PGRES_COMMAND_OK, what, err))
		return NULL;
	PQclear(res);
	conn->prepared[conn->nprepared++] = sql;
	return name;
}

static PGresult *query_prepared(struct db_conn *conn, const char *sql, int nparams,
				const char *const *params, int format, ExecStatusType expect,
				const char *what, struct err *err)
{
	char name[16];
	PGresult *res;

	if (conn->nprepared == DB_MAX_PREPARED) { /* more statements than slots: unprepared */
		res = PQexecParams(conn->pg, sql, nparams, NULL, params, NULL, NULL, format);
	} else {
		if (!prepared_name(conn, sql, nparams, name, what, err))
			return NULL;
		res = PQexecPrepared(conn->pg, name, nparams, params, NULL, NULL, format);
	}
	return expect_result(conn, res, expect, what, err);
}

PGresult *db_query_prepared(struct db_conn *conn, const char *sql, int nparams,
			    const char *const *params, ExecStatusType expect, const char *what,
			    struct err *err)
{
	return query_prepared(conn, sql, nparams, params, 0, expect, what, err);
}

PGresult *db_query_binary(struct db_conn *conn, const char *sql, int nparams,
			  const char *const *params, const char *what, struct err *err)
{
	return query_prepared(conn, sql, nparams, params, 1, PGRES_TUPLES_OK, what, err);
}

int64_t db_binary_int64(const PGresult *res, int row, int col)
{
	const unsigned char *p = (const unsigned char *)PQgetvalue(res, row, col);
	uint64_t v = 0;

	if (PQgetisnull(res, row, col) || PQgetlength(res, row, col) != 8)
		return 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

int64_t db_binary_time_us(const PGresult *res, int row, int col)
{
	/* timestamptz on the wire: microseconds since 2000-01-01 00:00:00 UTC */
	return PQgetisnull(res, row, col) ? 0
					  : db_binary_int64(res, row, col) + 946684800000000LL;
}

bool db_binary_bool(const PGresult *res, int row, int col)
{
	return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] != 0;
}

void db_set_limits(const struct db_limits *l)
{
	limits = *l;
}

/* PQconnectdbParams() with the URL expanded first, so that the limits given after it
 * override the same parameters in the URL. */
static PGconn *connect_with_limits(const char *url)
{
	char seconds[24], ms[24];
	const char *keys[6] = {"dbname"}, *values[6] = {url};
	int n = 1;

	if (limits.connect_timeout_s > 0) {
		snprintf(seconds, sizeof seconds, "%ld", limits.connect_timeout_s);
		snprintf(ms, sizeof ms, "%ld", limits.connect_timeout_s * 1000);
		keys[n] = "connect_timeout", values[n++] = seconds;
		keys[n] = "tcp_user_timeout", values[n++] = ms;
		keys[n] = "keepalives_idle", values[n++] = seconds;
		keys[n] = "keepalives_interval", values[n++] = seconds;
	}
	keys[n] = values[n] = NULL;
	return PQconnectdbParams(keys, values, 1);
}

static enum status open_pg(struct db_conn *conn, struct err *err)
{
	char settings[96] = "SET jit = off";

	PQfinish(conn->pg);
	conn->nprepared = 0; /* a new session has no prepared statements */
	conn->pg = connect_with_limits(conn->url);
	if (PQstatus(conn->pg) == CONNECTION_OK) {
		PQsetNoticeProcessor(conn->pg, quiet_notice, NULL);
		/* JIT compiles "expensive" plans for hundreds of milliseconds; our statements touch
		 * few rows through indexes and were measured 20x slower with it (correlation). */
		if (limits.statement_timeout_ms > 0)
			snprintf(settings + strlen(settings), sizeof settings - strlen(settings),
				 "; SET statement_timeout = %ld", limits.statement_timeout_ms);
		PQclear(PQexec(conn->pg, settings));
		return ST_OK;
	}
	const char *msg = PQerrorMessage(conn->pg);
	err_set(err, ST_UNAVAILABLE, "could not connect to the database");
	err_detail(err, "%.*s", (int)strcspn(msg, "\n"), msg);
	PQfinish(conn->pg);
	conn->pg = NULL;
	return ST_UNAVAILABLE;
}

struct db_conn *db_connect(const char *url, struct err *err)
{
	struct db_conn *conn = xcalloc(1, sizeof *conn);

	conn->url = xstrdup(url);
	if (open_pg(conn, err) != ST_OK) {
		db_disconnect(conn);
		return NULL;
	}
	return conn;
}

void db_disconnect(struct db_conn *conn)
{
	if (!conn)
		return;
	PQfinish(conn->pg);
	free(conn->url);
	free(conn);
}

bool db_conn_ok(const struct db_conn *conn)
{
	return conn->pg && PQstatus(conn->pg) == CONNECTION_OK;
}

enum status db_conn_ensure(struct db_conn *conn, struct err *err)
{
	if (db_conn_ok(conn) && PQtransactionStatus(conn->pg) == PQTRANS_IDLE)
		return ST_OK;
	if (conn->pg && PQstatus(conn->pg) == CONNECTION_OK) {
		/* a transaction left open by a failed caller: roll it back */
		PGresult *res = PQexec(conn->pg, "ROLLBACK");
		PQclear(res);
		if (PQstatus(conn->pg) == CONNECTION_OK)
			return ST_OK;
	}
	log_info("reconnecting to the database");
	return open_pg(conn, err);
}

enum status db_exec(struct db_conn *conn, const char *sql, struct err *err)
{
	PGresult *res = db_query(conn, sql, 0, NULL, PGRES_COMMAND_OK, "run a statement", err);

	if (!res)
		return err->status;
	PQclear(res);
	return ST_OK;
}

struct db_pool *db_pool_new(const char *url, int size)
{
	struct db_pool *pool = xcalloc(1, sizeof *pool);

	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->cond, NULL);
	pool->url = xstrdup(url);
	pool->size = pool->nfree = size;
	pool->free_list = xcalloc((size_t)size, sizeof *pool->free_list);
	for (int i = 0; i < size; i++) {
		pool->free_list[i] = xcalloc(1, sizeof **pool->free_list);
		pool->free_list[i]->url = xstrdup(url);
	}
	return pool;
}

void db_pool_free(struct db_pool *pool)
{
	if (!pool)
		return;
	for (int i = 0; i < pool->nfree; i++)
		db_disconnect(pool->free_list[i]);
	free(pool->free_list);
	free(pool->url);
	pthread_cond_destroy(&pool->cond);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

static struct db_conn *pool_take(struct db_pool *pool, int timeout_ms)
{
	struct timespec deadline;
	struct db_conn *conn = NULL;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000)
		deadline.tv_sec++, deadline.tv_nsec -= 1000000000;
	pthread_mutex_lock(&pool->lock);
	pool->waiting++; /* seen by db_pool_stats only while the wait releases the lock */
	while (pool->nfree == 0)
		if (pthread_cond_timedwait(&pool->cond, &pool->lock, &deadline) == ETIMEDOUT)
			break;
	pool->waiting--;
	if (pool->nfree > 0)
		conn = pool->free_list[--pool->nfree];
	else
		pool->timeouts++;
	pthread_mutex_unlock(&pool->lock);
	return conn;
}

struct db_conn *db_acquire(struct db_pool *pool, int timeout_ms, struct err *err)
{
	struct db_conn *conn = pool_take(pool, timeout_ms);

	if (!conn) {
		err_set(err, ST_UNAVAILABLE, "no database connection free within %d ms", timeout_ms);
		return NULL;
	}
	if (db_conn_ensure(conn, err) != ST_OK) {
		db_release(pool, conn);
		return NULL;
	}
	return conn;
}

void db_pool_stats(struct db_pool *pool, struct db_pool_stats *out)
{
	pthread_mutex_lock(&pool->lock);
	*out = (struct db_pool_stats){.size = pool->size, .in_use = pool->size - pool->nfree,
				      .waiting = pool->waiting, .timeouts = pool->timeouts};
	pthread_mutex_unlock(&pool->lock);
}

void db_release(struct db_pool *pool, struct db_conn *conn)
{
	if (!conn)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->free_list[pool->nfree++] = conn;
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
}
