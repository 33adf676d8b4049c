/*
 * tests/web/test_faults_kill.c: `kill -9` of the server under load, then a restart on the
 * same database (label db). Four producers (two sending bare events, two batches of 25) keep
 * sending while the server is killed. Then, in SQL: every event acknowledged with 202 is
 * stored, nothing is stored twice, and nothing is stored that was never sent; a producer
 * that re-sends every event it has no 202 for ends with each event stored exactly once; and
 * the correlator of the restarted server links every stored event (its queue empties, no
 * event fails, one pipeline run per event), so nothing acknowledged is lost from the linked
 * model either.
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

#define SOURCE "/faults/kill"

static void kill_under_load_loses_no_acknowledged_event(void **state)
{
	(void)state;
	char *url = testdb_create("faults_kill");
	struct test_server srv;
	struct load_counts c;

	test_server_start(&srv, url, (const char *const[]){"--log-level=warn", NULL});
	struct load *load = load_start(&(struct load_options){.port = srv.port,
	                                                      .source = SOURCE,
	                                                      .producers = 4,
	                                                      .batch = 25,
	                                                      .max_events = LOAD_MAX_EVENTS,
	                                                      .pause_ms = 20});
	assert_true(load_wait(load, 1000, 60) >= 1000);
	test_server_kill(&srv); /* SIGKILL while the producers send */
	load_stop(load);
	load_count(load, &c);

	/* the kill cut requests in flight; before it, every answer was 202 */
	assert_int_equal(c.other + c.refused, 0);
	assert_true(c.no_response > 0);
	long rows = load_stored(url, SOURCE, false);
	assert_int_equal(load_missing_acked(load, url), 0);              /* every 202 is there */
	assert_int_equal(load_stored(url, SOURCE, true), rows);          /* none twice */
	assert_true(rows >= c.acked && rows <= c.acked + c.no_response); /* none unsent */

	test_server_start(&srv, url, (const char *const[]){"--log-level=warn", NULL});
	int had = load_resend_unacknowledged(load, srv.port);
	assert_int_equal(had, rows - c.acked); /* stored without an answer: retried as duplicates */
	assert_int_equal(load_stored(url, SOURCE, false), c.events);
	assert_int_equal(load_stored(url, SOURCE, true), c.events);

	test_server_wait_correlated(&srv, 120);
	assert_int_equal(testdb_long(url, "SELECT count(*) FROM correlate_queue", 0, NULL), 0);
	assert_int_equal(testdb_long(url, "SELECT count(*) FROM correlate_failed", 0, NULL), 0);
	assert_int_equal(testdb_long(url, "SELECT count(*) FROM pipeline_runs WHERE name = $1", 1,
	                             (const char *const[]){SOURCE}),
	                 c.events);
	print_message("kill -9 under load: %d requests carrying %d events (4 producers, bare and "
	              "batches of 25); %d events acknowledged before the kill, all stored; %d sent "
	              "without an answer, %d of them stored anyway; %d found no server; after the "
	              "restart and the retries %d stored exactly once and correlated, 0 lost\n",
	              c.requests, c.events, c.acked, c.no_response, (int)(rows - c.acked),
	              c.no_connection, c.events);
	assert_int_equal(test_server_stop(&srv), 0);
	load_free(load);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(kill_under_load_loses_no_acknowledged_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
