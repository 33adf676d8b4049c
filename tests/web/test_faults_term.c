/*
 * tests/web/test_faults_term.c: SIGTERM with requests in flight (label db, runs serially).
 * The server stops accepting (a new connection is refused, a new request on a kept-alive
 * connection gets 503 + Retry-After), finishes what is inside its handlers (requests waiting
 * for a commit held up by a lock, large batches still being sent slowly: each answered 202
 * and stored), drops what cannot finish (a batch whose body stalls: no 202, none of it
 * stored), and exits 0 within --request-timeout-ms + --db-statement-timeout-ms +
 * --db-connect-timeout + 5 s. A second test: stalled clients (headers or body never
 * finished) hold the exit no longer than --request-timeout-ms.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/clock.h"
#include "support/http.h"
#include "support/load.h"
#include "support/server.h"
#include "support/slow.h"
#include "support/testdb.h"

#define SOURCE "/faults/term"
#define TIMEOUT_MS 3000    /* --request-timeout-ms */
#define STATEMENT_MS 10000 /* --db-statement-timeout-ms */
#define CONNECT_S 5        /* --db-connect-timeout (the default) */
#define EXIT_BOUND_S ((TIMEOUT_MS + STATEMENT_MS) / 1000 + CONNECT_S + 5)
#define COMMITTING 6 /* bare events waiting for their commit at SIGTERM: ids 0..5 */
#define BATCH 50     /* events per slow batch: ids 100.., 200.., stalled one 300.. */

static long stored_between(const char *url, int from, int to)
{
	char lo[16], hi[16];

	snprintf(lo, sizeof lo, "%d", from);
	snprintf(hi, sizeof hi, "%d", to);
	return testdb_long(url,
	                   "SELECT count(*) FROM events WHERE source = $1 AND id::int BETWEEN "
	                   "$2::int AND $3::int",
	                   3, (const char *const[]){SOURCE, lo, hi});
}

/* A batch of BATCH events from `first`; its body goes in 10 pieces 100 ms apart (1 s), or
 * stops for ever half-way when `stall`. */
static void batch_request(struct slow_request *r, int port, int first, bool stall)
{
	struct buf body = BUF_INIT(0);

	load_batch(&body, SOURCE, first, BATCH);
	slow_post_init(r, port, "application/cloudevents-batch+json", &body);
	r->pieces = 10;
	r->gap_ms = 100;
	if (stall)
		r->send = r->at_once + body.len / 2;
	buf_release(&body);
}

/* A kept-alive connection that has served one request; -1 on failure. */
static int keep_alive_connection(int port)
{
	struct http_response r;
	char req[128];
	int fd = http_open(port);

	snprintf(req, sizeof req, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", port);
	assert_true(fd >= 0);
	assert_int_equal(http_exchange(fd, req, strlen(req), &r), 200);
	http_response_release(&r);
	return fd;
}

/* The next request on the kept-alive connection, after SIGTERM: 503 + Retry-After. */
static void assert_refused_on(int fd, int port)
{
	struct http_response r;
	struct buf req = BUF_INIT(0);
	char *ev = load_event(SOURCE, 400), value[16];

	buf_printf(&req,
	           "POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" TEST_TOKEN_HEADER
	           "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	           port, strlen(ev), ev);
	assert_int_equal(http_exchange(fd, req.data, req.len, &r), 503);
	assert_non_null(http_header(&r, "Retry-After", value, sizeof value));
	http_response_release(&r);
	buf_release(&req);
	free(ev);
	close(fd);
}

/* Wait until the query on url counts at least n. */
static void wait_for(const char *db, const char *sql, long n)
{
	for (int i = 0; i < 1000 && testdb_long(db, sql, 0, NULL) < n; i++)
		nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
	assert_true(testdb_long(db, sql, 0, NULL) >= n);
}

/* Wait until /readyz shows at least n events queued for commit (held up by the lock). */
static void wait_queued(int port, int n)
{
	for (int i = 0; i < 1000; i++) {
		struct http_response r;
		http_request(port, "GET", "/readyz", NULL, NULL, 0, &r);
		const char *q = strstr(r.body, "\"queued_events\":");
		long queued = q ? strtol(q + 16, NULL, 10) : 0;
		http_response_release(&r);
		if (queued >= n)
			return;
		nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
	}
	fail_msg("the requests did not reach the commit queue within 10 s");
}

static void sigterm_finishes_in_flight_requests(void **state)
{
	(void)state;
	struct test_server srv;
	struct slow_request committing[COMMITTING], batches[3];
	char timeout[48], statement[48], *url = testdb_create("faults_term");

	snprintf(timeout, sizeof timeout, "--request-timeout-ms=%d", TIMEOUT_MS);
	snprintf(statement, sizeof statement, "--db-statement-timeout-ms=%d", STATEMENT_MS);
	test_server_start(&srv, url,
	                  (const char *const[]){timeout, statement, "--http-threads=16",
	                                        "--committers=1", "--log-level=warn", NULL});
	int kept = keep_alive_connection(srv.port);
	struct testdb_hold *lock = testdb_hold(url, "LOCK TABLE events IN SHARE MODE", 5000);
	/* one committer: it takes the first request alone and waits for the lock, the others
	 * queue behind it; SIGTERM comes once all are known to be waiting */
	for (int i = 0; i < COMMITTING; i++) {
		slow_event_init(&committing[i], srv.port, SOURCE, i);
		slow_start(&committing[i]);
		if (i == 0)
			wait_for(url,
			         "SELECT count(*) FROM pg_locks WHERE NOT granted AND "
			         "relation = 'events'::regclass",
			         1);
	}
	for (int i = 0; i < 3; i++) {
		batch_request(&batches[i], srv.port, 100 * (i + 1), i == 2);
		slow_start(&batches[i]);
	}
	wait_queued(srv.port, COMMITTING - 1);
	int64_t t0 = clock_mono_us();
	test_server_signal(&srv, SIGTERM);
	nanosleep(&(struct timespec){.tv_nsec = 200000000}, NULL);
	int fd = http_open(srv.port);
	assert_int_equal(fd, -1); /* new connections are refused */
	assert_int_equal(errno, ECONNREFUSED);
	assert_refused_on(kept, srv.port);
	int status = test_server_wait_exit(&srv, EXIT_BOUND_S);
	double exit_s = (double)(clock_mono_us() - t0) / 1e6;
	assert_int_equal(status, 0);
	testdb_hold_end(lock);

	for (int i = 0; i < COMMITTING; i++) {
		slow_join(&committing[i]);
		assert_int_equal(committing[i].status, 202);
		slow_release(&committing[i]);
	}
	for (int i = 0; i < 3; i++)
		slow_join(&batches[i]);
	assert_int_equal(batches[0].status, 202);
	assert_int_equal(batches[1].status, 202);
	assert_int_not_equal(batches[2].status, 202);
	assert_int_equal(stored_between(url, 0, COMMITTING - 1), COMMITTING);
	assert_int_equal(stored_between(url, 100, 100 + BATCH - 1), BATCH);
	assert_int_equal(stored_between(url, 200, 200 + BATCH - 1), BATCH);
	assert_int_equal(stored_between(url, 300, 400),
	                 0); /* the stalled batch, the refused event */
	print_message(
	    "SIGTERM with %d requests in flight (%d bare waiting for a commit held by a "
	    "lock, 2 batches of %d being sent over 1 s, 1 batch stalled half-way): %d "
	    "answered 202 and stored (%d events), the stalled one got %d and stored 0; "
	    "new connection refused, request on a kept-alive connection 503; exit 0 after "
	    "%.1f s (bound %d s)\n",
	    COMMITTING + 3, COMMITTING, BATCH, COMMITTING + 2, COMMITTING + 2 * BATCH,
	    batches[2].status, exit_s, EXIT_BOUND_S);
	for (int i = 0; i < 3; i++)
		slow_release(&batches[i]);
	free(url);
}

/* A client that stalls gets the time it would have had without the signal, no more: the
 * exit waits at most --request-timeout-ms for it. */
static void sigterm_waits_for_stalled_clients_at_most_the_request_timeout(void **state)
{
	(void)state;
	struct test_server srv;
	struct slow_request stalled[8];
	char timeout[48], *url = testdb_create("faults_term_stalled");

	snprintf(timeout, sizeof timeout, "--request-timeout-ms=%d", TIMEOUT_MS);
	test_server_start(
	    &srv, url,
	    (const char *const[]){timeout, "--http-threads=8", "--log-level=warn", NULL});
	for (int i = 0; i < 8; i++) { /* half headers that never end, half bodies that stop */
		if (i % 2)
			slow_event_init(&stalled[i], srv.port, SOURCE, 500 + i);
		else
			slow_raw_init(&stalled[i], srv.port, "POST /api/v1/events HTTP/1.1\r\n",
			              50);
		stalled[i].send = i % 2 ? stalled[i].at_once + 10 : 20;
		slow_start(&stalled[i]);
	}
	nanosleep(&(struct timespec){.tv_nsec = 500000000}, NULL);
	int64_t t0 = clock_mono_us();
	test_server_signal(&srv, SIGTERM);
	assert_int_equal(test_server_wait_exit(&srv, TIMEOUT_MS / 1000 + 5), 0);
	double exit_s = (double)(clock_mono_us() - t0) / 1e6;
	for (int i = 0; i < 8; i++) {
		slow_join(&stalled[i]);
		assert_int_not_equal(stalled[i].status, 202);
		slow_release(&stalled[i]);
	}
	assert_int_equal(stored_between(url, 500, 507), 0);
	print_message("SIGTERM with 8 stalled clients (4 in their headers, 4 in their bodies; "
	              "request timeout %d ms): exit 0 after %.1f s (bound %d s), nothing stored\n",
	              TIMEOUT_MS, exit_s, TIMEOUT_MS / 1000 + 5);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sigterm_finishes_in_flight_requests),
	    cmocka_unit_test(sigterm_waits_for_stalled_clients_at_most_the_request_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
