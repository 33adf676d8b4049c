/*
 * tests/web/test_dora_http.c: the DORA figures through the real path (HTTP against the real
 * binary and PostgreSQL), checked against figures computed by hand from the definitions in
 * docs/METRICS.md.
 *
 * Data: tests/data/scenarios/checkout.jsonl (day 2026-03-02, environment "prod") and
 * tests/data/stages/stages.jsonl (day 2026-04-01: the lead-time breakdown), posted twice (the
 * second time all duplicates), plus the events below (day 2026-03-05, environment
 * "eu/production": an incident naming neither service nor artifact, never resolved).
 *
 * Hand computation, 2026-03-02, prod (staging is not production):
 *   deployments: d-prod-1 shop 10:40, d-cart-1 cart 11:00, d-prod-2 shop 11:30 (upgraded),
 *                d-prod-3 shop 11:50 (rolledback)                               -> 4, 4/day
 *   failed: d-prod-2 (next is a rollback; inc-1 attributed, opened 11:45 < 11:50) -> 1/4
 *   recovery: d-prod-2 restored when inc-1 is resolved, 12:10 (the rollback at 11:50 does
 *             not restore while an incident of it is open)                    -> 2400 s
 *   rework: d-prod-3 (a rollback)                                             -> 1/4
 *   lead time (first production deployment - earliest change event):
 *     101 at d-prod-1 10:40 - created 09:00 = 6000 s; 102 at d-prod-2 (commit range)
 *     11:30 - created 09:30 = 7200 s; 103 at d-prod-2 11:30 - created 10:40 = 3000 s
 *     -> n 3, mean 5400, median 6000, p75 6600, p90 6960 (linear interpolation)
 *   tiers (2024): 4/day elite; 6000 s elite; 25% low; 2400 s elite.
 * 2026-03-05, eu/production:
 *   d-api-1 09:00, d-web-1 09:30, inc-2 09:40 (no service, no artifact: the latest
 *   deployment of any service -> d-web-1), d-web-2 10:00 (web, while inc-2 is open)
 *   -> 3 deployments, failed 1 (d-web-1, open: never restored), rework 1 (d-web-2),
 *      no changes: lead time null; no recoveries: recovery statistics null.
 *
 * Lead time breakdown (docs/METRICS.md): ends created C, merged M, artifact A (the earliest
 * packaged/signed/published or build finish of an artifact built from the change, else of
 * the artifact its first deployment deployed), first deployment F (any environment),
 * production P; each end clamped to [the previous known end, P]; stages C-M, M-A, A-F, F-P.
 *   101: C 09:00 M 10:00 A 10:10 (build b-1, before packaged 10:11) F 10:25 (staging)
 *        P 10:40 -> 3600, 600, 900, 900 (= 6000)
 *   102: commit range, no artifact of its own: A = d-prod-2's artifact ccc3, built 11:05;
 *        C 09:30 M 10:30 F = P 11:30 -> 3600, 2100, 1500, 0 (= 7200)
 *   103: C 10:40 M 11:00 A 11:05 (b-2) F = P 11:30 -> 1200, 300, 1500, 0 (= 3000)
 * tests/data/stages/stages.jsonl, 2026-04-01 (ledger and pay, each its own repository):
 *   201: C 09:00 M 09:20 A 09:28 (b-201; packaged 09:30) F = P 10:00 -> 1200, 480, 1920, 0
 *   202: C 10:00 M 10:10 A 10:20 F 10:30 (staging) P 11:00 -> 600, 600, 600, 1800
 *   203: commit range of d-ledger-3 (merged 11:10, between 202's 10:10 and 204's 11:20):
 *        A = 204's artifact, built 11:25; C 10:50 F = P 12:00 -> 1200, 900, 2100, 0
 *   204: C 11:00 M 11:20 A 11:25 F = P 12:00 -> 1200, 300, 2100, 0
 *   205: never merged (created 13:00, updated 13:10): A 13:20 F = P 14:00
 *        -> null, null, 2400, 0 (2400 < lead time 3600)
 *   206: built 14:20 before its merge 14:30: A clamped to M; C 14:00 F 14:40 (staging)
 *        P 15:00 -> 1800, 0, 600, 1200 (= 3600; A-F is counted from the merge)
 *   207: packaged 15:50, after P 15:40: A clamped to P; C 15:10 M 15:20 -> 600, 1200, 0, 0
 *   208: chainId link to d-pay-4, whose artifact nothing else names: A unknown;
 *        C 16:00 M 16:10 F = P 16:30 -> 600, null, null, 0
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

#include <cjson/cJSON.h>

#include "support/fixture.h"
#include "support/http.h"
#include "support/server.h"
#include "support/testdb.h"
#include "web/ingest_helpers.h"

static struct test_server srv;
static char *db_url;

#define DAY1 "from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z"
#define DAY4 "from=2026-03-05T00:00:00Z&to=2026-03-06T00:00:00Z"

#define EVENT(id, type, ts, subject, content)                                                \
	"{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"" id "\",\"source\":\"/cd\","          \
	"\"type\":\"dev.cdevents." type "\",\"timestamp\":\"2026-03-05T" ts "Z\"},"               \
	"\"subject\":{\"id\":\"" subject "\",\"source\":\"/cd\",\"content\":" content "}}"

static const char *const day4_events[] = {
	EVENT("d-api-1", "service.deployed.0.3.0", "09:00:00", "api",
	      "{\"environment\":{\"id\":\"eu/production\"},\"artifactId\":\"pkg:npm/api@1.0.0\"}"),
	EVENT("d-web-1", "service.deployed.0.3.0", "09:30:00", "web",
	      "{\"environment\":{\"id\":\"eu/production\"},\"artifactId\":\"pkg:npm/web@2.0.0\"}"),
	EVENT("inc-2-detected", "incident.detected.0.3.0", "09:40:00", "inc-2",
	      "{\"description\":\"latency\",\"environment\":{\"id\":\"eu/production\"}}"),
	EVENT("d-web-2", "service.upgraded.0.3.0", "10:00:00", "web",
	      "{\"environment\":{\"id\":\"eu/production\"},\"artifactId\":\"pkg:npm/web@2.0.1\"}"),
};

/* 2026-03-07, prod: the edge cases of docs/METRICS.md's rules (see day7_rules()). */
#define EVENT7(id, type, ts, subject, content)                                               \
	"{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"" id "\",\"source\":\"/cd\","          \
	"\"type\":\"dev.cdevents." type "\",\"timestamp\":\"2026-03-07T" ts "Z\"},"               \
	"\"subject\":{\"id\":\"" subject "\",\"source\":\"/cd\",\"content\":" content "}}"
#define PROD7(svc, artifact)                                                                 \
	"{\"environment\":{\"id\":\"prod\"},\"artifactId\":\"pkg:npm/" svc "@" artifact "\"}"
#define INC7(svc, extra) "{\"environment\":{\"id\":\"prod\"},\"service\":{\"id\":\"" svc "\"}" extra "}"

static const char *const day7_events[] = {
	/* resolved "before" it was detected: counts as resolved at the detection */
	EVENT7("d-neg-1", "service.deployed.0.3.0", "10:00:00", "neg", PROD7("neg", "1.0.0")),
	EVENT7("inc-neg-detected", "incident.detected.0.3.0", "10:05:00", "inc-neg", INC7("neg", "")),
	EVENT7("inc-neg-resolved", "incident.resolved.0.3.0", "09:50:00", "inc-neg", INC7("neg", "")),
	/* names an artifact never deployed: attributed by its service */
	EVENT7("d-art-1", "service.deployed.0.3.0", "11:00:00", "art", PROD7("art", "1.0.0")),
	EVENT7("inc-art-detected", "incident.detected.0.3.0", "11:30:00", "inc-art",
	       INC7("art", ",\"artifactId\":\"pkg:npm/art@2.0.0\"")),
	EVENT7("inc-art-resolved", "incident.resolved.0.3.0", "12:00:00", "inc-art", INC7("art", "")),
	/* two incidents: restored when the last is resolved */
	EVENT7("d-two-1", "service.deployed.0.3.0", "13:00:00", "two", PROD7("two", "1.0.0")),
	EVENT7("inc-ta-detected", "incident.detected.0.3.0", "13:05:00", "inc-ta", INC7("two", "")),
	EVENT7("inc-tb-detected", "incident.detected.0.3.0", "13:10:00", "inc-tb", INC7("two", "")),
	EVENT7("inc-ta-resolved", "incident.resolved.0.3.0", "13:15:00", "inc-ta", INC7("two", "")),
	EVENT7("inc-tb-resolved", "incident.resolved.0.3.0", "15:00:00", "inc-tb", INC7("two", "")),
	/* a change whose only event is stamped after its deployment: lead time 0, not -1800 */
	"{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"d-late-1\",\"source\":\"/cd\","
	"\"type\":\"dev.cdevents.service.deployed.0.3.0\",\"timestamp\":\"2026-03-07T16:00:00Z\","
	"\"chainId\":\"ch-late\"},\"subject\":{\"id\":\"late\",\"source\":\"/cd\",\"content\":"
	PROD7("late", "1.0.0") "}}",
	"{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"c901-created\",\"source\":\"/scm\","
	"\"type\":\"dev.cdevents.change.created.0.4.0\",\"timestamp\":\"2026-03-07T16:30:00Z\","
	"\"chainId\":\"ch-late\"},\"subject\":{\"id\":\"901\",\"source\":\"/scm\",\"content\":"
	"{\"repository\":{\"id\":\"acme/late\",\"source\":\"https://github.com\"}}}}",
};

static void wait_correlated(void)
{
	test_server_wait_correlated(&srv, 120);
}

static void post_events(enum post_mode mode, const char *const *events, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct http_response r = {0};
		if (post_event(srv.port, mode, events[i], &r) != 202)
			fail_msg("event %zu refused: %s\n%s", i, r.body, events[i]);
		http_response_release(&r);
	}
}

static void post_all(enum post_mode mode)
{
	post_jsonl(srv.port, mode, "scenarios/checkout.jsonl");
	post_jsonl(srv.port, mode, "stages/stages.jsonl");
	post_events(mode, day4_events, sizeof day4_events / sizeof *day4_events);
	post_events(mode, day7_events, sizeof day7_events / sizeof *day7_events);
}

static int setup(void **state)
{
	(void)state;
	db_url = test_server_open(&srv, "dora", NULL);
	post_all(MODE_BARE);
	post_all(MODE_STRUCTURED); /* all duplicates: the figures must not move */
	wait_correlated();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_server_close(&srv, &db_url);
	return 0;
}

/* GET path, expect `status`, return the parsed body (caller deletes). */
static cJSON *get_json(const char *path, int status)
{
	struct http_response r = {0};
	int got = http_request(srv.port, "GET", path, NULL, NULL, 0, &r);

	if (got != status)
		fail_msg("GET %s: expected %d, got %d: %s", path, status, got, r.body);
	cJSON *root = cJSON_Parse(r.body);
	if (!root)
		fail_msg("GET %s: body is not JSON: %s", path, r.body);
	http_response_release(&r);
	return root;
}

static const cJSON *at(const cJSON *root, const char *a, const char *b)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(root, a);

	return b ? cJSON_GetObjectItemCaseSensitive(x, b) : x;
}

static void want_number(const cJSON *root, const char *a, const char *b, double want)
{
	const cJSON *v = at(root, a, b);

	if (!cJSON_IsNumber(v) || v->valuedouble < want - 1e-6 || v->valuedouble > want + 1e-6)
		fail_msg("%s.%s: expected %g, got %s", a, b ? b : "", want,
			 v ? cJSON_PrintUnformatted(v) : "(missing)");
}

static void want_null(const cJSON *root, const char *a, const char *b)
{
	if (!cJSON_IsNull(at(root, a, b)))
		fail_msg("%s.%s: expected null", a, b ? b : "");
}

static void want_string(const cJSON *root, const char *a, const char *b, const char *want)
{
	const cJSON *v = at(root, a, b);

	if (!cJSON_IsString(v) || strcmp(v->valuestring, want) != 0)
		fail_msg("%s.%s: expected \"%s\", got %s", a, b ? b : "", want,
			 v ? cJSON_PrintUnformatted(v) : "(missing)");
}

static void day1_figures(void **state)
{
	(void)state;
	cJSON *r = get_json("/api/v1/dora?" DAY1, 200);

	want_number(r, "deployment_frequency", "deployments", 4);
	want_number(r, "deployment_frequency", "per_day", 4);
	want_string(r, "deployment_frequency", "tier", "elite");
	want_number(r, "lead_time", "changes", 3);
	want_number(r, "lead_time", "mean_seconds", 5400);
	want_number(r, "lead_time", "median_seconds", 6000);
	want_number(r, "lead_time", "p75_seconds", 6600);
	want_number(r, "lead_time", "p90_seconds", 6960);
	want_string(r, "lead_time", "tier", "elite");
	want_number(r, "change_failure_rate", "failed", 1);
	want_number(r, "change_failure_rate", "rate", 0.25);
	want_string(r, "change_failure_rate", "tier", "low");
	want_number(r, "recovery_time", "recoveries", 1);
	want_number(r, "recovery_time", "open", 0);
	want_number(r, "recovery_time", "median_seconds", 2400);
	want_number(r, "recovery_time", "p90_seconds", 2400);
	want_string(r, "recovery_time", "tier", "elite");
	want_number(r, "rework_rate", "rework", 1);
	want_number(r, "rework_rate", "rate", 0.25);
	want_number(r, "window", "days", 1);
	want_number(r, "report", "year", 2024);
	const cJSON *envs = at(r, "filters", "environments");
	assert_int_equal(cJSON_GetArraySize(envs), 2); /* prod and eu/production, not staging */
	cJSON_Delete(r);
}

static void day4_incident_without_service(void **state)
{
	(void)state;
	cJSON *r = get_json("/api/v1/dora?" DAY4, 200);

	want_number(r, "deployment_frequency", "deployments", 3);
	want_number(r, "change_failure_rate", "failed", 1);
	want_number(r, "recovery_time", "recoveries", 0);
	want_number(r, "recovery_time", "open", 1);
	want_null(r, "recovery_time", "median_seconds");
	want_null(r, "recovery_time", "tier");
	want_number(r, "lead_time", "changes", 0);
	want_null(r, "lead_time", "mean_seconds");
	want_null(r, "lead_time", "tier");
	want_number(r, "rework_rate", "rework", 1);
	cJSON_Delete(r);

	r = get_json("/api/v1/incidents?" DAY4, 200);
	const cJSON *inc = cJSON_GetArrayItem(at(r, "incidents", NULL), 0);
	want_string(inc, "id", NULL, "inc-2");
	want_string(inc, "rule", NULL, "environment");
	want_string(at(inc, "deployment", NULL), "id", NULL, "d-web-1");
	want_null(inc, "resolved_at", NULL);
	cJSON_Delete(r);
}

/* 2026-03-07, prod: d-neg-1 10:00, d-art-1 11:00, d-two-1 13:00, d-late-1 16:00 -> 4.
 *   inc-neg (service neg) detected 10:05, "resolved" 09:50: resolved at 10:05 -> 300 s
 *   inc-art (service art, artifact art@2.0.0, never deployed): by its service -> d-art-1;
 *     resolved 12:00 -> 3600 s
 *   inc-ta, inc-tb on d-two-1, resolved 13:15 and 15:00: restored at 15:00 -> 7200 s
 *   failed 3 of 4, recoveries 3 (median 3600), none rework (no other deployment of a
 *   failed service); change 901 (chain ch-late) created 16:30 after d-late-1 16:00:
 *   lead time 0, not -1800. */
static void day7_rules(void **state)
{
	(void)state;
	cJSON *r = get_json("/api/v1/dora?from=2026-03-07T00:00:00Z&to=2026-03-08T00:00:00Z", 200);

	want_number(r, "deployment_frequency", "deployments", 4);
	want_number(r, "change_failure_rate", "failed", 3);
	want_number(r, "recovery_time", "recoveries", 3);
	want_number(r, "recovery_time", "open", 0);
	want_number(r, "recovery_time", "mean_seconds", (300 + 3600 + 7200) / 3.0);
	want_number(r, "recovery_time", "median_seconds", 3600);
	want_number(r, "rework_rate", "rework", 0);
	want_number(r, "lead_time", "changes", 1);
	want_number(r, "lead_time", "median_seconds", 0);
	want_number(r, "lead_time", "mean_seconds", 0);
	cJSON_Delete(r);

	r = get_json("/api/v1/incidents?from=2026-03-07T00:00:00Z&to=2026-03-08T00:00:00Z", 200);
	const cJSON *list = at(r, "incidents", NULL);
	assert_int_equal(cJSON_GetArraySize(list), 4);
	for (int i = 0; i < 4; i++) {
		const cJSON *inc = cJSON_GetArrayItem(list, i), *id = at(inc, "id", NULL);
		if (strcmp(id->valuestring, "inc-art") == 0) {
			want_string(inc, "rule", NULL, "service");
			want_string(at(inc, "deployment", NULL), "id", NULL, "d-art-1");
		}
		if (strcmp(id->valuestring, "inc-neg") == 0)
			want_string(inc, "resolved_at", NULL, "2026-03-07T10:05:00.000000Z");
	}
	cJSON_Delete(r);

	r = get_json("/api/v1/changes?from=2026-03-07T00:00:00Z&to=2026-03-08T00:00:00Z", 200);
	const cJSON *c = cJSON_GetArrayItem(at(r, "changes", NULL), 0);
	want_string(c, "id", NULL, "901");
	want_number(c, "lead_time_seconds", NULL, 0);
	cJSON_Delete(r);
}

static void window_edges(void **state)
{
	(void)state;
	/* [10:40, 11:30): d-prod-1 counts (from is inclusive), d-prod-2 does not (to is not) */
	cJSON *r = get_json("/api/v1/dora?from=2026-03-02T10:40:00Z&to=2026-03-02T11:30:00Z", 200);
	want_number(r, "deployment_frequency", "deployments", 2);
	want_number(r, "lead_time", "changes", 1);
	want_number(r, "lead_time", "median_seconds", 6000);
	want_number(r, "change_failure_rate", "rate", 0);
	cJSON_Delete(r);
	/* [11:30, 12:00): 102 and 103 first reach production here; 101 came back with the
	 * rollback at 11:50 but its first production deployment was before the window */
	r = get_json("/api/v1/dora?from=2026-03-02T11:30:00Z&to=2026-03-02T12:00:00Z", 200);
	want_number(r, "deployment_frequency", "deployments", 2);
	want_number(r, "lead_time", "changes", 2);
	want_number(r, "lead_time", "median_seconds", 5100);
	want_number(r, "change_failure_rate", "failed", 1);
	want_number(r, "rework_rate", "rework", 1);
	cJSON_Delete(r);
}

static void filters(void **state)
{
	(void)state;
	cJSON *r = get_json("/api/v1/dora?" DAY1 "&service=cart", 200);
	want_number(r, "deployment_frequency", "deployments", 1);
	want_number(r, "change_failure_rate", "rate", 0);
	want_string(r, "change_failure_rate", "tier", "elite");
	want_number(r, "lead_time", "changes", 0);
	want_null(r, "lead_time", "median_seconds");
	cJSON_Delete(r);

	r = get_json("/api/v1/dora?" DAY1 "&service=shop&service=cart&environment=prod", 200);
	want_number(r, "deployment_frequency", "deployments", 4);
	want_number(r, "lead_time", "changes", 3);
	cJSON_Delete(r);

	r = get_json("/api/v1/dora?" DAY1 "&environment=eu%2Fproduction", 200);
	want_number(r, "deployment_frequency", "deployments", 0);
	want_null(r, "deployment_frequency", "tier");
	want_null(r, "change_failure_rate", "rate");
	cJSON_Delete(r);

	r = get_json("/api/v1/dora?" DAY1 "&report=2022", 200);
	want_string(r, "deployment_frequency", "tier", "high"); /* 2022 had no elite */
	cJSON_Delete(r);
}

static void services_ranking(void **state)
{
	(void)state;
	cJSON *r = get_json("/api/v1/dora/services?" DAY1, 200);
	const cJSON *list = at(r, "services", NULL);

	assert_int_equal(cJSON_GetArraySize(list), 2);
	const cJSON *cart = cJSON_GetArrayItem(list, 0), *shop = cJSON_GetArrayItem(list, 1);
	want_string(cart, "service", NULL, "cart");
	want_number(cart, "deployment_frequency", "deployments", 1);
	want_string(shop, "service", NULL, "shop");
	want_number(shop, "deployment_frequency", "deployments", 3);
	want_number(shop, "change_failure_rate", "failed", 1);
	want_number(shop, "lead_time", "changes", 3);
	cJSON_Delete(r);
}

static void buckets(void **state)
{
	(void)state;
	cJSON *r = get_json("/api/v1/dora?from=2026-03-02T00:00:00Z&to=2026-03-06T00:00:00Z"
			    "&bucket=day", 200);
	const cJSON *b = at(r, "buckets", NULL);

	assert_int_equal(cJSON_GetArraySize(b), 4);
	want_string(cJSON_GetArrayItem(b, 0), "start", NULL, "2026-03-02T00:00:00.000000Z");
	want_number(cJSON_GetArrayItem(b, 0), "deployments", NULL, 4);
	want_number(cJSON_GetArrayItem(b, 0), "lead_time_median_seconds", NULL, 6000);
	want_number(cJSON_GetArrayItem(b, 1), "deployments", NULL, 0);
	want_null(cJSON_GetArrayItem(b, 1), "lead_time_median_seconds", NULL);
	want_number(cJSON_GetArrayItem(b, 3), "deployments", NULL, 3);
	want_number(cJSON_GetArrayItem(b, 3), "failed", NULL, 1);
	want_number(r, "deployment_frequency", "deployments", 7);
	cJSON_Delete(r);
}

static void drill_down_matches_figures(void **state)
{
	(void)state;
	cJSON *r = get_json("/api/v1/deployments?" DAY1, 200);
	const cJSON *list = at(r, "deployments", NULL), *d;
	int failed = 0, rework = 0;

	assert_int_equal(cJSON_GetArraySize(list), 4);
	cJSON_ArrayForEach(d, list) {
		failed += cJSON_IsTrue(at(d, "failed", NULL));
		rework += cJSON_IsTrue(at(d, "rework", NULL));
		if (strcmp(cJSON_GetStringValue(at(d, "event", "id")), "d-prod-2") != 0)
			continue;
		want_string(at(d, "rolled_back_by", NULL), "id", NULL, "d-prod-3");
		const cJSON *inc = cJSON_GetArrayItem(at(d, "incidents", NULL), 0);
		assert_true(cJSON_IsString(inc) && strcmp(inc->valuestring, "inc-1") == 0);
		want_number(d, "recovery_seconds", NULL, 2400); /* inc-1 resolved 12:10 */
		assert_int_equal(cJSON_GetArraySize(at(d, "changes", NULL)), 2); /* 103, 102 */
	}
	assert_int_equal(failed, 1);
	assert_int_equal(rework, 1);
	cJSON_Delete(r);

	r = get_json("/api/v1/changes?" DAY1, 200);
	list = at(r, "changes", NULL);
	assert_int_equal(cJSON_GetArraySize(list), 3);
	cJSON_ArrayForEach(d, list) {
		if (strcmp(cJSON_GetStringValue(at(d, "id", NULL)), "102") == 0) {
			want_string(d, "rule", NULL, "commit_range");
			want_number(d, "lead_time_seconds", NULL, 7200);
		}
	}
	cJSON_Delete(r);
}

static void csv_lists(void **state)
{
	(void)state;
	struct http_response r = {0};
	char ct[64];

	assert_int_equal(http_request(srv.port, "GET", "/api/v1/changes?" DAY1 "&format=csv", NULL,
				      NULL, 0, &r), 200);
	assert_non_null(http_header(&r, "Content-Type", ct, sizeof ct));
	assert_string_equal(ct, "text/csv; charset=utf-8");
	assert_non_null(strstr(r.body, "repository,id,first_at,deployed_at,lead_time_seconds"));
	assert_non_null(strstr(r.body, "github.com/acme/shop,102,2026-03-02T09:30:00.000000Z,"
				       "2026-03-02T11:30:00.000000Z,7200,shop,prod,/argocd,d-prod-2,"
				       "commit_range,3600,2100,1500,0\r\n"));
	http_response_release(&r);
	assert_int_equal(http_request(srv.port, "GET", "/api/v1/deployments?" DAY1,
				      "Accept: text/csv\r\n", NULL, 0, &r), 200);
	size_t lines = 0;
	for (const char *p = r.body; (p = strstr(p, "\r\n")); p += 2)
		lines++;
	assert_int_equal(lines, 5); /* header + 4 deployments */
	http_response_release(&r);
	/* the incident description holds markup and a comma-free text: quoted only if needed */
	assert_int_equal(http_request(srv.port, "GET", "/api/v1/incidents?" DAY1 "&format=csv", NULL,
				      NULL, 0, &r), 200);
	assert_non_null(strstr(r.body, "checkout <b>errors</b>"));
	http_response_release(&r);
}

#define MARCH_2_TO_APRIL_1 "from=2026-03-02T00:00:00Z&to=2026-04-02T00:00:00Z"
#define APRIL1 "from=2026-04-01T00:00:00Z&to=2026-04-02T00:00:00Z"
#define UNKNOWN (-1.0)

static const char *const stage_names[] = {
	"created_to_merged_seconds", "merged_to_artifact_seconds",
	"artifact_to_first_deployment_seconds", "first_deployment_to_production_seconds",
};

/* The header's hand computation (UNKNOWN: null). */
static const struct {
	const char *id;
	double lead, stages[4];
} expected_stages[] = {
	{"101", 6000, {3600, 600, 900, 900}},
	{"102", 7200, {3600, 2100, 1500, 0}},
	{"103", 3000, {1200, 300, 1500, 0}},
	{"201", 3600, {1200, 480, 1920, 0}},
	{"202", 3600, {600, 600, 600, 1800}},
	{"203", 4200, {1200, 900, 2100, 0}},
	{"204", 3600, {1200, 300, 2100, 0}},
	{"205", 3600, {UNKNOWN, UNKNOWN, 2400, 0}},
	{"206", 3600, {1800, 0, 600, 1200}},
	{"207", 1800, {600, 1200, 0, 0}},
	{"208", 1800, {600, UNKNOWN, UNKNOWN, 0}},
};

static const cJSON *change_by_id(const cJSON *list, const char *id)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, list) {
		if (strcmp(cJSON_GetStringValue(at(c, "id", NULL)), id) == 0)
			return c;
	}
	fail_msg("change %s is not listed", id);
	return NULL;
}

static void want_stage(const cJSON *c, size_t k, double want)
{
	const cJSON *v = at(c, "stages", stage_names[k]);
	bool ok = want == UNKNOWN ? cJSON_IsNull(v)
				  : cJSON_IsNumber(v) && v->valuedouble > want - 1e-6 &&
					    v->valuedouble < want + 1e-6;

	if (!ok)
		fail_msg("change %s: stages.%s: expected %g (-1: null), got %s",
			 cJSON_GetStringValue(at(c, "id", NULL)), stage_names[k], want,
			 v ? cJSON_PrintUnformatted(v) : "(missing)");
}

/* The known stages of a row never add up to more than its lead time, and all four to it. */
static void stages_add_up(const cJSON *c)
{
	double sum = 0, lead = at(c, "lead_time_seconds", NULL)->valuedouble;
	int known = 0;

	for (size_t k = 0; k < 4; k++) {
		const cJSON *v = at(c, "stages", stage_names[k]);
		if (cJSON_IsNumber(v)) {
			assert_true(v->valuedouble >= 0);
			sum += v->valuedouble;
			known++;
		}
	}
	if (sum > lead + 1e-6 || (known == 4 && sum < lead - 1e-6))
		fail_msg("change %s: stages add up to %g, lead time %g",
			 cJSON_GetStringValue(at(c, "id", NULL)), sum, lead);
}

static void lead_time_stages(void **state)
{
	(void)state;
	cJSON *r = get_json("/api/v1/changes?" MARCH_2_TO_APRIL_1, 200);
	const cJSON *list = at(r, "changes", NULL), *c;

	assert_int_equal(cJSON_GetArraySize(list), 12); /* 101-103, 201-208, 901 */
	for (size_t i = 0; i < sizeof expected_stages / sizeof *expected_stages; i++) {
		c = change_by_id(list, expected_stages[i].id);
		want_number(c, "lead_time_seconds", NULL, expected_stages[i].lead);
		for (size_t k = 0; k < 4; k++)
			want_stage(c, k, expected_stages[i].stages[k]);
	}
	cJSON_ArrayForEach(c, list)
		stages_add_up(c);
	cJSON_Delete(r);
}

static void lead_time_stages_csv(void **state)
{
	(void)state;
	static const char *const want[] = {
		",rule,stage_created_to_merged_seconds,stage_merged_to_artifact_seconds,"
		"stage_artifact_to_first_deployment_seconds,"
		"stage_first_deployment_to_production_seconds\r\n",
		"github.com/acme/pay,206,2026-04-01T14:00:00.000000Z,2026-04-01T15:00:00.000000Z,"
		"3600,pay,prod,/stages,d-pay-2,artifact,1800,0,600,1200\r\n",
		",d-pay-1,artifact,,,2400,0\r\n", /* unknown stages are empty cells */
		",d-pay-4,chain_id,600,,,0\r\n",
	};
	struct http_response r = {0};

	assert_int_equal(http_request(srv.port, "GET", "/api/v1/changes?" APRIL1 "&format=csv",
				      NULL, NULL, 0, &r), 200);
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		if (!strstr(r.body, want[i]))
			fail_msg("the CSV lacks %s in:\n%s", want[i], r.body);
	}
	http_response_release(&r);
}

static void bad_parameters(void **state)
{
	(void)state;
	static const char *const bad[][2] = {
		{"/api/v1/dora?from=yesterday", "from"},
		{"/api/v1/dora?from=2026-03-03T00:00:00Z&to=2026-03-02T00:00:00Z", "from"},
		{"/api/v1/dora?bucket=year", "bucket"},
		{"/api/v1/dora?report=1999", "report"},
		{"/api/v1/dora?environment=staging", "environment"},
		{"/api/v1/dora?environment=PROD", "environment"},       /* ids are exact */
		{"/api/v1/dora?environment=production", "environment"}, /* no such environment */
		{"/api/v1/dora?colour=blue", "colour"},
		{"/api/v1/dora?from=2026-03-02T00:00:00Z&from=2026-03-01T00:00:00Z", "from"},
		{"/api/v1/deployments?format=xml", "format"},
		{"/api/v1/dora?from=2016-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", "days"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct http_response r = {0};
		char pointer[64];
		http_request(srv.port, "GET", bad[i][0], NULL, NULL, 0, &r);
		assert_problem(&r, 400, pointer, sizeof pointer);
		if (!strstr(r.body, bad[i][1]))
			fail_msg("%s: the problem does not name \"%s\": %s", bad[i][0], bad[i][1],
				 r.body);
		http_response_release(&r);
	}
}

/* GET path (200) as compact JSON without its "filters" member, which names the parameters. */
static char *figures_text(const char *path)
{
	cJSON *r = get_json(path, 200);

	cJSON_DeleteItemFromObjectCaseSensitive(r, "filters");
	char *text = cJSON_PrintUnformatted(r);
	cJSON_Delete(r);
	return text;
}

/*
 * Without an environment filter the API reads the correlator's precomputed first production
 * deployments (change_production, change_service_production); naming every production
 * environment explicitly takes the general query over change_deployments. Both must give
 * the same answer for every endpoint, window and service filter: for /api/v1/changes, the
 * same rows with the same lead-time stages.
 */
static void paths_agree(const char *all_envs)
{
	static const char *const endpoints[] = {"/api/v1/dora", "/api/v1/dora/services",
						 "/api/v1/changes", "/api/v1/deployments"};
	static const char *const windows[] = {
		DAY1, DAY4, "from=2026-03-01T00:00:00Z&to=2026-03-08T00:00:00Z",
		"from=2026-03-02T10:40:00Z&to=2026-03-02T11:30:00Z", APRIL1};
	static const char *const services[] = {"", "&service=shop", "&service=shop&service=cart",
					       "&service=web&service=cart", "&service=pay"};
	char fast[512], general[512];

	for (size_t e = 0; e < sizeof endpoints / sizeof *endpoints; e++)
		for (size_t w = 0; w < sizeof windows / sizeof *windows; w++)
			for (size_t k = 0; k < sizeof services / sizeof *services; k++) {
				snprintf(fast, sizeof fast, "%s?%s%s", endpoints[e], windows[w],
					 services[k]);
				snprintf(general, sizeof general, "%s%s", fast, all_envs);
				char *a = figures_text(fast), *b = figures_text(general);
				if (strcmp(a, b) != 0)
					fail_msg("%s\n  %s\nand %s\n  %s\ndiffer", fast, a, general, b);
				free(a);
				free(b);
			}
}

/* Poll until the correlator has applied `pattern` (10 s). */
static void wait_pattern(const char *pattern)
{
	const char *params[] = {pattern};

	for (int i = 0; i < 200; i++) {
		if (testdb_long(db_url, "SELECT count(*) FROM production_pattern WHERE pattern = $1",
				1, params) == 1)
			return;
		usleep(50000);
	}
	fail_msg("the correlator did not apply --production-env %s", pattern);
}

static void precomputed_and_general_agree(void **state)
{
	(void)state;
	wait_pattern("^(.*[/:])?(prod|production)$");
	assert_true(testdb_long(db_url, "SELECT count(*) FROM change_production", 0, NULL) == 12);
	paths_agree("&environment=prod&environment=eu%2Fproduction");
	/* the comparison covers stages: both paths list them, known ones included */
	cJSON *r = get_json("/api/v1/changes?" APRIL1 "&environment=prod", 200);
	const cJSON *c = change_by_id(at(r, "changes", NULL), "202");
	want_number(c, "stages", "first_deployment_to_production_seconds", 1800);
	cJSON_Delete(r);
}

/* Run last: restarts the server with another pattern, then renames an environment. */
static void production_pattern_changes(void **state)
{
	(void)state;
	static const char *const narrow[] = {"--production-env", "^prod$", NULL};

	assert_int_equal(test_server_stop(&srv), 0);
	test_server_start(&srv, db_url, narrow);
	wait_pattern("^prod$");
	cJSON *r = get_json("/api/v1/dora?" DAY4, 200);
	want_number(r, "deployment_frequency", "deployments", 0); /* eu/production is not */
	cJSON_Delete(r);
	paths_agree("&environment=prod");

	/* staging becomes production by its new name: its earlier deployments are now the
	 * changes' first production deployments (lead times shrink), on both paths */
	struct http_response res = {0};
	if (post_event(srv.port, MODE_BARE,
		       EVENT("env-staging-renamed", "environment.modified.0.3.0", "08:00:00",
			     "staging", "{\"name\":\"prod\"}"), &res) != 202)
		fail_msg("rename refused: %s", res.body);
	http_response_release(&res);
	wait_correlated();
	assert_true(testdb_long(db_url, "SELECT count(*) FROM production_environments"
				" WHERE environment = 'staging'", 0, NULL) == 1);
	r = get_json("/api/v1/dora?" DAY1, 200);
	want_number(r, "deployment_frequency", "deployments", 5); /* 4 in prod, 1 in staging */
	cJSON_Delete(r);
	paths_agree("&environment=prod&environment=staging");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(day1_figures),
		cmocka_unit_test(day4_incident_without_service),
		cmocka_unit_test(day7_rules),
		cmocka_unit_test(window_edges),
		cmocka_unit_test(filters),
		cmocka_unit_test(services_ranking),
		cmocka_unit_test(buckets),
		cmocka_unit_test(drill_down_matches_figures),
		cmocka_unit_test(csv_lists),
		cmocka_unit_test(lead_time_stages),
		cmocka_unit_test(lead_time_stages_csv),
		cmocka_unit_test(bad_parameters),
		cmocka_unit_test(precomputed_and_general_agree),
		cmocka_unit_test(production_pattern_changes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
