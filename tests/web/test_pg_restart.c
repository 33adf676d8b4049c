/*
 * tests/web/test_pg_restart.c: PostgreSQL crashes (immediate shutdown) and restarts while
 * producers keep sending (one bare events, one batches of 10: tests/support/load.c). Every
 * event acknowledged with 202 is stored exactly once; every request during the outage is
 * answered, with 503 and Retry-After; the server recovers by itself (acknowledgements resume
 * without a restart of cdlens, and its correlator links every stored event); a producer that
 * retries its 503s ends with every event stored exactly once.
 * Runs serially (it restarts the shared test server, TEST_PG_DIR).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "support/load.h"
#include "support/server.h"
#include "support/testdb.h"

#define SOURCE "/restart"

static void restart_loses_no_acknowledged_event(void **state)
{
	(void)state;
	char cmd[1024];
	const char *pgdir = getenv("TEST_PG_DIR");
	char *url = testdb_create("pg_restart");
	struct test_server srv;
	struct load_counts c;

	if (!pgdir)
		fail_msg("TEST_PG_DIR is not set: run the tests with scripts/test.sh");
	test_server_start(&srv, url, (const char *const[]){"--log-level=error", NULL});
	struct load *load = load_start(&(struct load_options){.port = srv.port,
	                                                      .source = SOURCE,
	                                                      .producers = 2,
	                                                      .batch = 10,
	                                                      .max_events = LOAD_MAX_EVENTS,
	                                                      .pause_ms = 20});
	assert_true(load_wait(load, 200, 30) >= 200);
	snprintf(cmd, sizeof cmd, "%s/scripts/pg.sh restart '%s' 2", CDLENS_SOURCE_DIR, pgdir);
	assert_int_equal(system(cmd), 0);
	load_count(load, &c);
	assert_true(load_wait(load, c.acked + 200, 30) >= c.acked + 200); /* recovered by itself */
	load_stop(load);
	load_count(load, &c);

	/* the outage was seen, every request was answered, with 202 or 503 + Retry-After */
	assert_true(c.refused > 0);
	if (c.no_response + c.no_connection + c.other)
		fail_msg("%d events got no answer, %d no connection, %d another status",
		         c.no_response, c.no_connection, c.other);
	assert_int_equal(c.retry_after, c.answers_503);
	assert_int_equal(load_missing_acked(load, url), 0); /* every 202 stored ... */
	assert_int_equal(load_stored(url, SOURCE, true),
	                 load_stored(url, SOURCE, false)); /* once */
	load_resend_unacknowledged(load, srv.port);
	assert_int_equal(load_stored(url, SOURCE, false), c.events);
	assert_int_equal(load_stored(url, SOURCE, true), c.events);
	test_server_wait_correlated(&srv, 120); /* the correlator came back too */
	assert_int_equal(testdb_long(url, "SELECT count(*) FROM pipeline_runs WHERE name = $1", 1,
	                             (const char *const[]){SOURCE}),
	                 c.events);
	print_message(
	    "sent %d requests carrying %d events (bare and batches of 10), %d acknowledged "
	    "first time, %d refused with 503 + Retry-After during the outage (%d 503 "
	    "answers), 0 lost; after the retries %d stored once and correlated\n",
	    c.requests, c.events, c.acked, c.refused, c.answers_503, c.events);
	assert_int_equal(test_server_stop(&srv), 0);
	load_free(load);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(restart_loses_no_acknowledged_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
