#ifndef TESTS_SUPPORT_TESTDB_H
#define TESTS_SUPPORT_TESTDB_H
/*
 * Databases for db-labelled tests. TEST_DATABASE_URL (set by the README's test command after
 * it starts a private PostgreSQL) names a database on that server; testdb_create() makes a
 * fresh, empty database beside it for one test program, so tests can run in parallel.
 * Without TEST_DATABASE_URL the test FAILS (a skipped database test is a failed run).
 */
#include <stddef.h>

/* Create database "<hint>_<pid>" (dropped first if it exists); returns its URL (malloc'ed). */
char *testdb_create(const char *hint);
/* Run a query on `url` with text parameters and return the first column of the first row
 * (malloc'ed; NULL for SQL NULL or no row). Fails the test on error. */
char *testdb_scalar(const char *url, const char *sql, int nparams, const char *const *params);
/* Same, parsed as a long. */
long testdb_long(const char *url, const char *sql, int nparams, const char *const *params);
/* Run a statement; fails the test on error. */
void testdb_exec(const char *url, const char *sql);

/* Hold a lock from another session: a thread opens a connection, runs BEGIN and `lock_sql`
 * (e.g. "LOCK TABLE events IN SHARE MODE"), keeps the transaction open for `ms`
 * milliseconds, then commits. Returns once the lock is granted (fails the test if the
 * statement fails). testdb_hold_end() waits for the commit and frees. */
struct testdb_hold;
struct testdb_hold *testdb_hold(const char *url, const char *lock_sql, int ms);
void testdb_hold_end(struct testdb_hold *h);

#endif
