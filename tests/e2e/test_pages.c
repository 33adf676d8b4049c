/*
 * tests/e2e/test_pages.c: the dashboard in a real browser (Debian's headless Chromium driven by
 * playwright-core) against the real server and PostgreSQL.
 *
 * Setup: a fresh database, the real binary, tests/data/scenarios/checkout.jsonl (changes,
 * builds, artifacts, deployments, an incident, a pipeline run with task runs) plus the events
 * below (a service and an incident whose names are HTML markup, in environment "prod"; on
 * 2026-02-10 a service and pipeline named with 250 characters and an incident described with
 * 3,000 characters, none of them with a space), correlated. Each cmocka test runs one check of
 * tests/e2e/pages.mjs (node) and requires it to exit 0; pages.mjs says what it compares.
 * Every page must load without console errors, failed requests or CSP violations.
 * Screenshots: CDLENS_E2E_OUT (the build folder's e2e-screenshots/).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/server.h"
#include "web/ingest_helpers.h"

static struct test_server srv;
static char *db_url;

#define EVENT(id, type, ts, subject, content)                                                \
	"{\"context\":{\"specversion\":\"0.4.1\",\"id\":\"" id "\",\"source\":\"/e2e\","          \
	"\"type\":\"dev.cdevents." type "\",\"timestamp\":\"2026-03-02T" ts "Z\"},"               \
	"\"subject\":{\"id\":\"" subject "\",\"source\":\"/e2e\",\"content\":" content "}}"

/* Markup in a service name, an incident description and a pipeline name, and a javascript:
 * URL: the pages must show them as text and link nothing. x-run is also the newest run of the
 * day and only queued (the pipelines page draws it from its queue time to now). */
#define MARKUP_SERVICE "<img src=x onerror=window.__xss=1>"
#define MARKUP_DESCRIPTION "<script>window.__xss=2</script> & <b>bold</b>"

static const char *const extra_events[] = {
	EVENT("x-1", "service.deployed.0.2.0", "12:30:00", MARKUP_SERVICE,
	      "{\"environment\":{\"id\":\"prod\"},\"artifactId\":\"pkg:npm/x@1.0.0\"}"),
	EVENT("x-inc", "incident.detected.0.2.0", "12:40:00", "inc-x",
	      "{\"description\":\"" MARKUP_DESCRIPTION "\",\"environment\":{\"id\":\"prod\"},"
	      "\"service\":{\"id\":\"" MARKUP_SERVICE "\"}}"),
	EVENT("x-run-q", "pipelinerun.queued.0.2.0", "12:45:00", "x-run",
	      "{\"pipelineName\":\"" MARKUP_SERVICE "\",\"url\":\"javascript:window.__xss=3\"}"),
};

/* The long names of 2026-02-10 (pages.mjs builds the same): the pages must not grow wider
 * than the screen for them. Service ids may be up to EVENT_MAX_ID - 1 (255) bytes. */
#define LONG_SERVICE_LEN 250
#define LONG_DESCRIPTION_LEN 3000

static void post_long_names(void)
{
	char service[LONG_SERVICE_LEN + 1], description[LONG_DESCRIPTION_LEN + 1];
	char ev[3][LONG_DESCRIPTION_LEN + 1024];

	memset(service, 's', sizeof service - 1);
	memcpy(service, "long-", 5);
	service[sizeof service - 1] = '\0';
	memset(description, 'd', sizeof description - 1);
	description[sizeof description - 1] = '\0';
	snprintf(ev[0], sizeof ev[0],
		 "{\"context\":{\"specversion\":\"0.4.1\",\"id\":\"long-1\",\"source\":\"/e2e\","
		 "\"type\":\"dev.cdevents.service.deployed.0.2.0\",\"timestamp\":\"2026-02-10T10:00:00Z\"},"
		 "\"subject\":{\"id\":\"%s\",\"source\":\"/e2e\",\"content\":{\"environment\":"
		 "{\"id\":\"prod\"},\"artifactId\":\"pkg:npm/long@1.0.0\"}}}", service);
	snprintf(ev[1], sizeof ev[1],
		 "{\"context\":{\"specversion\":\"0.4.1\",\"id\":\"long-inc\",\"source\":\"/e2e\","
		 "\"type\":\"dev.cdevents.incident.detected.0.2.0\",\"timestamp\":\"2026-02-10T10:30:00Z\"},"
		 "\"subject\":{\"id\":\"inc-long\",\"source\":\"/e2e\",\"content\":{\"description\":\"%s\","
		 "\"environment\":{\"id\":\"prod\"},\"service\":{\"id\":\"%s\"}}}}", description, service);
	snprintf(ev[2], sizeof ev[2],
		 "{\"context\":{\"specversion\":\"0.4.1\",\"id\":\"long-run-q\",\"source\":\"/e2e\","
		 "\"type\":\"dev.cdevents.pipelinerun.queued.0.2.0\",\"timestamp\":\"2026-02-10T09:00:00Z\"},"
		 "\"subject\":{\"id\":\"long-run\",\"source\":\"/e2e\",\"content\":{\"pipelineName\":\"%s\"}}}",
		 service);
	for (size_t i = 0; i < 3; i++) {
		struct http_response r = {0};
		if (post_event(srv.port, MODE_BARE, ev[i], &r) != 202)
			fail_msg("long-name event %zu refused: %s", i, r.body);
		http_response_release(&r);
	}
}

static int setup(void **state)
{
	(void)state;
	if (access("/usr/bin/chromium", X_OK) != 0)
		fail_msg("/usr/bin/chromium is missing: scripts/deps.sh --test installs Debian's chromium");
	if (system("bash " CDLENS_SOURCE_DIR "/tests/support/npm_ci.sh " CDLENS_E2E_DIR
		   " playwright-core") != 0)
		fail_msg("playwright-core could not be installed (tests/support/npm_ci.sh)");
	db_url = test_server_open(&srv, "e2e", NULL);
	post_jsonl(srv.port, MODE_BARE, "scenarios/checkout.jsonl");
	for (size_t i = 0; i < sizeof extra_events / sizeof *extra_events; i++) {
		struct http_response r = {0};
		if (post_event(srv.port, MODE_BARE, extra_events[i], &r) != 202)
			fail_msg("event %zu refused: %s", i, r.body);
		http_response_release(&r);
	}
	post_long_names();
	test_server_wait_correlated(&srv, 120);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_server_close(&srv, &db_url);
	return 0;
}

/* node pages.mjs --check NAME against this server; the test fails unless it exits 0. */
static void check(const char *name)
{
	char cmd[1024];

	snprintf(cmd, sizeof cmd,
		 "node %s/pages.mjs --base http://127.0.0.1:%d --token test-secret-1 --out %s"
		 " --check %s --markup-service '%s' --markup-description '%s'",
		 CDLENS_E2E_DIR, srv.port, CDLENS_E2E_OUT, name, MARKUP_SERVICE,
		 MARKUP_DESCRIPTION);
	int rc = system(cmd);
	if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0)
		fail_msg("pages.mjs --check %s failed (exit %d); its output is above", name,
			 rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc));
}

static void overview(void **state) { (void)state; check("overview"); }
static void filters(void **state) { (void)state; check("filters"); }
static void keyboard(void **state) { (void)state; check("keyboard"); }
static void lead_time(void **state) { (void)state; check("lead-time"); }
static void deployments(void **state) { (void)state; check("deployments"); }
static void pipelines(void **state) { (void)state; check("pipelines"); }
static void trace(void **state) { (void)state; check("trace"); }
static void markup(void **state) { (void)state; check("markup"); }
static void empty(void **state) { (void)state; check("empty"); }
static void drilldown(void **state) { (void)state; check("drilldown"); }
static void refresh(void **state) { (void)state; check("refresh"); }
static void window_select(void **state) { (void)state; check("window"); }
static void options(void **state) { (void)state; check("options"); }
static void lookup(void **state) { (void)state; check("lookup"); }
static void stale(void **state) { (void)state; check("stale"); }
static void long_names(void **state) { (void)state; check("long"); }
static void contrast(void **state) { (void)state; check("contrast"); }
static void details(void **state) { (void)state; check("details"); }
static void carry(void **state) { (void)state; check("carry"); }
static void live(void **state) { (void)state; check("live"); } /* posts events: last */
static void clock(void **state) { (void)state; check("clock"); } /* posts an event stamped now */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(overview),    cmocka_unit_test(filters),
		cmocka_unit_test(keyboard),    cmocka_unit_test(lead_time),
		cmocka_unit_test(deployments), cmocka_unit_test(pipelines),
		cmocka_unit_test(trace),       cmocka_unit_test(markup),
		cmocka_unit_test(empty),       cmocka_unit_test(drilldown),
		cmocka_unit_test(refresh),     cmocka_unit_test(window_select),
		cmocka_unit_test(options),     cmocka_unit_test(lookup),
		cmocka_unit_test(stale),       cmocka_unit_test(long_names),
		cmocka_unit_test(contrast),    cmocka_unit_test(details),
		cmocka_unit_test(carry),       cmocka_unit_test(live),
		cmocka_unit_test(clock),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
