/* tests/support/testdb.c: per-test databases on the private test server (see testdb.h). */
#include "support/testdb.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/xalloc.h"

static const char *base_url(void)
{
	const char *url = getenv("TEST_DATABASE_URL");

	if (!url || !*url)
		fail_msg("TEST_DATABASE_URL is not set: run the tests with scripts/test.sh, which "
			 "starts a private PostgreSQL");
	return url;
}

/* `url` with its database name replaced by `db`. */
static char *with_database(const char *url, const char *db)
{
	const char *q = strchr(url, '?');
	size_t end = q ? (size_t)(q - url) : strlen(url);
	const char *slash = url + end;
	struct buf b = BUF_INIT(0);

	while (slash > url && *slash != '/')
		slash--;
	if (slash <= url + 13) /* only the "postgresql://" slashes: no path */
		slash = url + end;
	buf_append(&b, url, (size_t)(slash - url));
	buf_printf(&b, "/%s%s", db, q ? q : "");
	return buf_detach(&b, NULL);
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static PGconn *connect_or_fail(const char *url)
{
	PGconn *c = PQconnectdb(url);

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("could not connect to %s: %s", url, PQerrorMessage(c));
	PQsetNoticeProcessor(c, quiet, NULL);
	return c;
}

char *testdb_create(const char *hint)
{
	char name[64], sql[200];
	PGconn *c = connect_or_fail(base_url());

	snprintf(name, sizeof name, "%s_%d", hint, (int)getpid());
	/* names come from the test code, not from input; identifiers cannot be parameters */
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	PQclear(PQexec(c, sql));
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("could not create database %s: %s", name, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return with_database(base_url(), name);
}

char *testdb_scalar(const char *url, const char *sql, int nparams, const char *const *params)
{
	PGconn *c = connect_or_fail(url);
	PGresult *r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
	char *out = NULL;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("query failed: %s: %s", sql, PQerrorMessage(c));
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		out = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return out;
}

long testdb_long(const char *url, const char *sql, int nparams, const char *const *params)
{
	char *v = testdb_scalar(url, sql, nparams, params);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

void testdb_exec(const char *url, const char *sql)
{
	PGconn *c = connect_or_fail(url);
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("statement failed: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

struct testdb_hold {
	PGconn *conn;
	int ms;
	pthread_t thread;
};

static void *hold_main(void *arg)
{
	struct testdb_hold *h = arg;

	nanosleep(&(struct timespec){.tv_sec = h->ms / 1000, .tv_nsec = h->ms % 1000 * 1000000L},
		  NULL);
	PQclear(PQexec(h->conn, "COMMIT"));
	return NULL;
}

struct testdb_hold *testdb_hold(const char *url, const char *lock_sql, int ms)
{
	struct testdb_hold *h = xcalloc(1, sizeof *h);

	h->conn = connect_or_fail(url);
	h->ms = ms;
	PQclear(PQexec(h->conn, "BEGIN"));
	PGresult *r = PQexec(h->conn, lock_sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("statement failed: %s: %s", lock_sql, PQerrorMessage(h->conn));
	PQclear(r);
	if (pthread_create(&h->thread, NULL, hold_main, h) != 0)
		abort();
	return h;
}

void testdb_hold_end(struct testdb_hold *h)
{
	if (!h)
		return;
	pthread_join(h->thread, NULL);
	PQfinish(h->conn);
	free(h);
}
