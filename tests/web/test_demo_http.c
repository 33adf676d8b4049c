/*
 * tests/web/test_demo_http.c: `cdlens demo` end to end (label db).
 *
 * demo_run() is called in-process (it is what the `demo` command runs) on a fresh database;
 * then the real server is started, its correlator links the history, and the linked model is
 * read back: both production regions deployed, commit ranges drawn (also across services of
 * one repository), incidents attributed by artifact, service and environment, the three purl
 * spellings joined, nothing set aside. A sample of the same events is then posted to the
 * server over HTTP (bare and batch): valid, and already stored. A second demo_run() with the
 * same options stores nothing new.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "ingest/demo.h"
#include "support/http.h"
#include "support/server.h"
#include "support/testdb.h"

#define EVENTS 3000
#define SAMPLE 200

static char *db_url;
static struct test_server srv;

static struct demo_options demo_options(void)
{
	struct demo_options opt;

	demo_options_init(&opt);
	opt.events = EVENTS;
	opt.seed = 42;
	assert_true(clock_parse_rfc3339("2026-06-01T00:00:00Z", 20, &opt.start_us, NULL));
	return opt;
}

static struct config demo_config(void)
{
	return (struct config){
	    .database_url = db_url, .committers = 2, .commit_max_events = 5000, .max_batch = 1000};
}

static long rows(const char *sql)
{
	return testdb_long(db_url, sql, 0, NULL);
}

static void expect_rows(const char *what, const char *sql, long min, long max)
{
	const long got = rows(sql);

	if (got < min || got > max)
		fail_msg("%s: expected %ld..%ld rows, got %ld (%s)", what, min, max, got, sql);
}

/* Wait until /readyz reports an empty correlation queue (fails after 120 s). */
static void wait_correlated(void)
{
	test_server_wait_correlated(&srv, 120);
}

static long reply_member(const struct http_response *r, const char *name)
{
	char key[32];
	snprintf(key, sizeof key, "\"%s\":", name);
	const char *p = strstr(r->body, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static int setup(void **state)
{
	(void)state;
	db_url = testdb_create("demo");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (srv.pid > 0) /* a test failed with the server running */
		test_server_kill(&srv);
	free(db_url);
	return 0;
}

static void run_demo(struct demo_result *res)
{
	const struct config cfg = demo_config();
	const struct demo_options opt = demo_options();
	struct err err = {0};

	if (demo_run(&cfg, &opt, res, &err) != ST_OK)
		fail_msg("demo_run: %s: %s", err.msg, err.detail);
	printf("demo: %zu events (%zu changes), generated in %lld ms, submitted in %lld ms\n",
	       res->events, res->changes, (long long)res->generate_ms, (long long)res->submit_ms);
}

static void stored(void **state)
{
	(void)state;
	struct demo_result res;

	run_demo(&res);
	assert_true(res.events >= EVENTS * 9 / 10 && res.events <= EVENTS * 11 / 10);
	assert_int_equal(res.accepted, res.events);
	assert_int_equal(res.duplicates, 0);
	assert_int_equal(res.requests, (res.events + DEMO_DEFAULT_BATCH - 1) / DEMO_DEFAULT_BATCH);
	expect_rows("events stored", "SELECT count(*) FROM events", EVENTS * 9 / 10,
	            EVENTS * 11 / 10);
	assert_int_equal(rows("SELECT count(*) FROM events"), (long)res.events);
	expect_rows("every event by the demo producer, in batch mode",
	            "SELECT count(*) FROM events"
	            " WHERE producer IS DISTINCT FROM 'demo' OR mode <> 'batch'",
	            0, 0);
	expect_rows("about a fifth in 0.4.1 form",
	            "SELECT count(*) * 100 / (SELECT count(*) FROM"
	            " events) FROM events WHERE spec_version = '0.4.1'",
	            15, 25);
	expect_rows("months of data", "SELECT extract(day FROM max(ts) - min(ts))::int FROM events",
	            119, 120);
}

static void linked(void **state)
{
	(void)state;
	test_server_start(&srv, db_url, NULL);
	wait_correlated();
	expect_rows("nothing set aside", "SELECT count(*) FROM correlate_failed", 0, 0);
	expect_rows("24 services", "SELECT count(DISTINCT service) FROM deployments", 24, 24);
	expect_rows("8 repositories", "SELECT count(DISTINCT repo) FROM changes", 8, 8);
	expect_rows("eu/prod deployments",
	            "SELECT count(*) FROM deployments WHERE environment = 'eu/prod'", 100, 1000);
	expect_rows("us/prod deployments",
	            "SELECT count(*) FROM deployments WHERE environment = 'us/prod'", 100, 1000);
	expect_rows("rollbacks", "SELECT count(*) FROM deployments WHERE kind = 'rolledback'", 1,
	            100);
	expect_rows("commit ranges",
	            "SELECT count(*) FROM deployment_changes WHERE rule = 'commit_range'", 1,
	            100000);
	expect_rows(
	    "commit ranges across services of one repository",
	    "SELECT count(*) FROM"
	    " deployment_changes dc JOIN deployments d ON d.key = dc.deployment JOIN artifacts a"
	    " ON a.change = dc.change WHERE dc.rule = 'commit_range' AND d.environment = 'eu/prod'"
	    " AND a.key NOT LIKE 'pkg:oci/' || d.service || '@%'",
	    1, 100000);
	/* both production environments are production under the default --production-env */
	struct http_response r = {0};
	assert_int_equal(http_request(srv.port, "GET", "/api/v1/dora?from=2025-01-01T00:00:00Z"
				      "&to=2027-01-01T00:00:00Z", NULL, NULL, 0, &r), 200);
	if (!strstr(r.body, "\"environments\":[\"eu/prod\",\"us/prod\"]"))
		fail_msg("default production environments: %.300s", r.body);
	http_response_release(&r);
}

static void incidents_and_artifacts_linked(void **state)
{
	(void)state;
	expect_rows("incidents attributed", "SELECT count(*) FROM incident_deployments", 1, 1000);
	expect_rows("by artifact, service and environment",
	            "SELECT count(DISTINCT rule) FROM incident_deployments", 3, 3);
	expect_rows("incidents naming only the environment",
	            "SELECT count(*) FROM incidents WHERE"
	            " service IS NULL AND environment LIKE '%/prod'",
	            1, 1000);
	expect_rows("three purl spellings, one artifact: every build's",
	            "SELECT count(*) FROM builds b"
	            " WHERE artifact IS NOT NULL AND NOT EXISTS (SELECT 1 FROM artifacts a WHERE"
	            " a.key = b.artifact AND a.packaged_at IS NOT NULL)",
	            0, 0);
	expect_rows(
	    "and every deployment's",
	    "SELECT count(*) FROM deployments d WHERE NOT EXISTS"
	    " (SELECT 1 FROM artifacts a WHERE a.key = d.artifact AND a.packaged_at IS NOT NULL)",
	    0, 0);
	expect_rows("every artifact knows its change",
	            "SELECT count(*) FROM artifacts WHERE change IS NULL", 0, 0);
}

/* The same events through the real server: valid (202) and already stored. */
static void sample_over_http(void **state)
{
	(void)state;
	const struct demo_options opt = demo_options();
	struct demo_events evs = {0};
	struct buf body = BUF_INIT(0);
	struct http_response r = {0};
	struct err err = {0};

	assert_int_equal(demo_generate(&opt, &evs, &err), ST_OK);
	demo_batch_json(&opt, evs.v + evs.n / 2, SAMPLE, &body);
	http_request(srv.port, "POST", "/api/v1/events",
	             TEST_TOKEN_HEADER "Content-Type: application/cloudevents-batch+json\r\n",
	             buf_cstr(&body), body.len, &r);
	if (r.status != 202 || reply_member(&r, "duplicates") != SAMPLE)
		fail_msg("batch: %d %s", r.status, r.body);
	http_response_release(&r);
	for (size_t i = 0; i < evs.n; i += evs.n / 20) {
		buf_reset(&body);
		demo_event_json(&opt, &evs.v[i], &body);
		http_request(srv.port, "POST", "/api/v1/events",
		             TEST_TOKEN_HEADER "Content-Type: application/json\r\n",
		             buf_cstr(&body), body.len, &r);
		if (r.status != 202 || reply_member(&r, "duplicates") != 1)
			fail_msg("bare event %zu: %d %s\n%s", i, r.status, r.body, buf_cstr(&body));
		http_response_release(&r);
	}
	buf_release(&body);
	demo_events_release(&evs);
}

static void second_run_adds_nothing(void **state)
{
	(void)state;
	const long before = rows("SELECT count(*) FROM events");
	struct demo_result res;

	run_demo(&res);
	assert_int_equal(res.accepted, 0);
	assert_int_equal(res.duplicates, res.events);
	assert_int_equal(rows("SELECT count(*) FROM events"), before);
	wait_correlated();
	expect_rows("nothing set aside", "SELECT count(*) FROM correlate_failed", 0, 0);
	assert_int_equal(test_server_stop(&srv), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(stored),
	    cmocka_unit_test(linked),
	    cmocka_unit_test(incidents_and_artifacts_linked),
	    cmocka_unit_test(sample_over_http),
	    cmocka_unit_test(second_run_adds_nothing),
	};

	log_set_level(LOG_WARN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
