/*
 * tests/web/test_faults_db.c: a database that answers late or not at all (label db, runs
 * serially: it measures times).
 *   - statement timeout: another session holds a lock that makes the inserts wait; with
 *     --db-statement-timeout-ms=1000 each request gets 503 + Retry-After after about that,
 *     nothing of them is stored, and re-sent after the lock is gone they are stored once;
 *   - connect timeout: `cdlens migrate` against a host that accepts TCP connections and
 *     never answers (tests/support/pgproxy.c, silent) gives up after --db-connect-timeout;
 *   - the same while serving: the database's network goes silent under a running server
 *     (its connections are cut, new ones are never answered); every request still gets 503
 *     + Retry-After within --db-connect-timeout plus a margin, /readyz too, and once the
 *     network is back the server recovers by itself; re-sent, every event is stored once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/clock.h"
#include "support/http.h"
#include "support/load.h"
#include "support/pgproxy.h"
#include "support/server.h"
#include "support/testdb.h"

#define STATEMENT_MS 1000
#define CONNECT_S 2
#define SILENT_EVENTS 4 /* requests while the network is silent */

static char *url;

static double since(int64_t t0)
{
	return (double)(clock_mono_us() - t0) / 1e6;
}

/* Send events 0..n-1 of `source`, from n producers at once (one request each); returns the
 * load, finished, with the time until the last answer in *slowest. */
static struct load *send_at_once(int port, const char *source, int n, double *slowest)
{
	int64_t t0 = clock_mono_us();
	struct load *l = load_start(&(struct load_options){
	    .port = port, .source = source, .producers = n, .batch = 1, .max_events = n});

	load_join(l); /* each producer ends after its one request */
	*slowest = since(t0);
	return l;
}

/* Re-send every event of the load without a 202; each must end up stored once. */
static void resend_and_check(struct load *l, int port, const char *source, int n)
{
	load_resend_unacknowledged(l, port);
	assert_int_equal(load_stored(url, source, false), n);
	assert_int_equal(load_stored(url, source, true), n);
}

static void a_lock_gets_503_after_the_statement_timeout(void **state)
{
	(void)state;
	struct test_server srv;
	struct load_counts c;
	char statement[48];
	double slowest;

	snprintf(statement, sizeof statement, "--db-statement-timeout-ms=%d", STATEMENT_MS);
	test_server_start(&srv, url, (const char *const[]){statement, "--log-level=error", NULL});
	struct testdb_hold *lock = testdb_hold(url, "LOCK TABLE events IN SHARE MODE", 3000);
	struct load *l = send_at_once(srv.port, "/faults/lock", 3, &slowest);
	load_count(l, &c);
	assert_int_equal(load_stored(url, "/faults/lock", false), 0); /* nothing half-stored */
	testdb_hold_end(lock);
	print_message("a lock held 3 s, --db-statement-timeout-ms=%d: %d requests, %d answered "
	              "503 (%d with Retry-After), all within %.2f s; none stored\n",
	              STATEMENT_MS, c.requests, c.refused, c.retry_after, slowest);
	assert_int_equal(c.refused, 3);
	assert_int_equal(c.answers_503, 3);
	assert_int_equal(c.retry_after, 3);
	assert_true(slowest >= 0.9 * STATEMENT_MS / 1000);
	assert_true(slowest <= 3.0 * STATEMENT_MS / 1000 + 2); /* 2 committers: 2 rounds at most */
	resend_and_check(l, srv.port, "/faults/lock", 3);
	load_free(l);
	assert_int_equal(test_server_stop(&srv), 0);
}

/* The URL of this test's database through the proxy. */
static char *proxied_url(const struct pgproxy *p)
{
	struct buf b = BUF_INIT(0);

	buf_printf(&b, "postgresql://postgres@127.0.0.1:%d/%s", pgproxy_port(p),
	           strrchr(url, '/') + 1);
	return buf_detach(&b, NULL);
}

static struct pgproxy *proxy_to_test_server(void)
{
	char path[512];
	const char *dir = getenv("TEST_PG_DIR");

	if (!dir)
		fail_msg("TEST_PG_DIR is not set: run the tests with scripts/test.sh");
	snprintf(path, sizeof path, "%s/sock/.s.PGSQL.5432", dir);
	return pgproxy_start(path);
}

static void migrate_gives_up_on_a_silent_host(void **state)
{
	(void)state;
	struct pgproxy *proxy = proxy_to_test_server();
	char *db = proxied_url(proxy), cmd[1024], log[256], line[512] = "";

	pgproxy_set_silent(proxy, true);
	snprintf(log, sizeof log, "migrate-%d.log", (int)getpid());
	snprintf(cmd, sizeof cmd,
	         "timeout 60 %s migrate --database-url '%s' --db-connect-timeout=%d "
	         ">%s 2>&1",
	         CDLENS_BIN, db, CONNECT_S, log);
	int64_t t0 = clock_mono_us();
	int status = system(cmd);
	double took = since(t0);
	FILE *f = fopen(log, "r");
	if (f && !fgets(line, sizeof line, f))
		line[0] = '\0';
	if (f)
		fclose(f);
	print_message("cdlens migrate against a host that never answers, --db-connect-timeout=%d: "
	              "exit %d after %.2f s: %s",
	              CONNECT_S, WEXITSTATUS(status), took, line);
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_true(took >= 0.9 * CONNECT_S && took <= CONNECT_S + 3);
	assert_non_null(strstr(line, "timeout expired"));
	assert_true(pgproxy_accepted(proxy) >= 1);
	free(db);
	pgproxy_free(proxy);
}

static int readyz(int port, double *seconds)
{
	struct http_response r;
	int64_t t0 = clock_mono_us();
	int status = http_request(port, "GET", "/readyz", NULL, NULL, 0, &r);

	*seconds = since(t0);
	http_response_release(&r);
	return status;
}

/* Events 0..n-1 of `source` one at a time, pausing 100 ms after each failure as a producer
 * honouring Retry-After would; the time it all took in *took. */
static struct load *send_one_by_one(int port, const char *source, int n, double *took)
{
	struct load *l = load_start(&(struct load_options){
	    .port = port, .source = source, .producers = 1, .max_events = n, .pause_ms = 100});
	int64_t t0 = clock_mono_us();

	load_join(l);
	*took = since(t0);
	return l;
}

static void a_silent_network_gets_503_within_the_connect_timeout(void **state)
{
	(void)state;
	struct pgproxy *proxy = proxy_to_test_server();
	char *db = proxied_url(proxy), connect[48];
	struct test_server srv;
	struct load_counts c;
	double took, ready_s, ready2_s;

	snprintf(connect, sizeof connect, "--db-connect-timeout=%d", CONNECT_S);
	test_server_start(&srv, db, (const char *const[]){connect, "--log-level=error", NULL});
	struct load *before = send_one_by_one(srv.port, "/faults/net-before", 5, &took);
	load_count(before, &c);
	assert_int_equal(c.acked, 5);

	pgproxy_set_silent(proxy, true);
	struct load *l = send_one_by_one(srv.port, "/faults/net", SILENT_EVENTS, &took);
	load_count(l, &c);
	/* the first finds its pooled connection cut, the second must connect: both 503 */
	int ready = readyz(srv.port, &ready_s), ready2 = readyz(srv.port, &ready2_s);
	double per_request = took / SILENT_EVENTS; /* each includes a 100 ms pause after a 503 */
	print_message("database network silent (--db-connect-timeout=%d): %d requests one by one, "
	              "%d answered 503 (%d with Retry-After) in %.2f s (%.2f s each on average); "
	              "/readyz %d after %.2f s, again %d after %.2f s\n",
	              CONNECT_S, c.requests, c.refused, c.retry_after, took, per_request, ready,
	              ready_s, ready2, ready2_s);
	assert_int_equal(c.refused, SILENT_EVENTS);
	assert_int_equal(c.answers_503, SILENT_EVENTS);
	assert_int_equal(c.retry_after, SILENT_EVENTS);
	assert_true(took <= SILENT_EVENTS * (CONNECT_S + 1.5));
	assert_int_equal(ready, 503);
	assert_int_equal(ready2, 503);
	assert_true(ready_s <= CONNECT_S + 2.5 && ready2_s <= CONNECT_S + 2.5);

	pgproxy_set_silent(proxy, false); /* back: the server recovers by itself */
	int64_t t0 = clock_mono_us();
	struct load *after = load_start(&(struct load_options){.port = srv.port,
	                                                       .source = "/faults/net-after",
	                                                       .producers = 1,
	                                                       .max_events = LOAD_MAX_EVENTS,
	                                                       .pause_ms = 100});
	assert_true(load_wait(after, 1, 30) >= 1);
	print_message("network back: first 202 after %.2f s, without a restart\n", since(t0));
	load_free(after);
	resend_and_check(l, srv.port, "/faults/net", SILENT_EVENTS);
	assert_int_equal(test_server_stop(&srv), 0);
	load_free(before);
	load_free(l);
	free(db);
	pgproxy_free(proxy);
}

static int setup(void **state)
{
	(void)state;
	url = testdb_create("faults_db");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(url);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_lock_gets_503_after_the_statement_timeout),
	    cmocka_unit_test(migrate_gives_up_on_a_silent_host),
	    cmocka_unit_test(a_silent_network_gets_503_within_the_connect_timeout),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
