/*
 * tests/web/test_pipelines_http.c: GET /api/v1/pipeline-runs and /api/v1/pipeline-runs/run
 * through the real path (HTTP ingest of CDEvents 0.4.1, correlation, the API, against the
 * real binary and PostgreSQL), checked against figures computed by hand.
 *
 * Data: tests/data/pipelines/runs.jsonl (context.source /jenkins/agent-1, subject.source
 * /ci/jenkins, except pipeline "deploy": context.source /argo and no subject.source) and
 * tests/data/scenarios/checkout.jsonl (pr-1, shop-ci, 2026-03-02).
 *
 * Hand computation, day 2026-04-01 (Q = queued, S = started, F = finished):
 *   run      pipeline Q      S         F         outcome  queued running duration tasks
 *   b-1      build    08:00  08:01     08:11     success      60     600      660     4
 *   b-2      build    09:00  09:03     09:13     failure     180     600      780     0
 *   b-3      build    -      10:00     10:20     error      null    1200     1200     0
 *   b-4      build    11:00  11:02     -         -           120    null     null     0
 *   d-1      deploy   12:00  -         12:30     cancel     null    null     1800     0
 *   d-2      deploy   13:00  13:00:30  13:10:30  success      30     600      630     1
 *   e-early  edge     23:59  +1 00:01  -         -           120    null     null     0
 *   newest first: e-early d-2 d-1 b-4 b-3 b-2 b-1 (7 runs)
 *   build: 4 runs, 1 succeeded, 2 failed (failure, error), median of 660 780 1200 = 780,
 *          last outcome error (b-4 has none yet), last started 11:02
 *   deploy: 2 runs, 1 succeeded, 0 failed (cancel is neither), median of 1800 630 = 1215,
 *          last outcome success, last started 13:00:30
 *   edge: 1 run, median null (no duration), last outcome null, last started 04-02 00:01
 * Day 2026-04-02: e-from (Q exactly at from 00:00:00, S 00:00:10, F 00:01:10 success: 10,
 *   60, 70) and e-only (only F 12:00, failure: every duration null); e-early is not in it
 *   (its first known time is the day before), e-to (Q exactly at to, 04-03 00:00) is not.
 *   edge: 2 runs, 1 succeeded, 1 failed, median 70, last outcome failure, last started
 *   00:00:10.
 * Task runs of b-1, sent out of order: tb1-c compile S 08:01:30 F 08:05 (210 s); tb1-a lint
 *   and tb1-b test both S 08:05 (60 s, 300 s: same start, so by id); tb1-z upload has no
 *   started event (F 08:10:30): last, null duration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "support/http.h"
#include "support/server.h"
#include "web/ingest_helpers.h"

static struct test_server srv;
static char *db_url;

#define RUNS "/api/v1/pipeline-runs?"
#define RUN "/api/v1/pipeline-runs/run?"
#define DAY1 "from=2026-04-01T00:00:00Z&to=2026-04-02T00:00:00Z"
#define DAY2 "from=2026-04-02T00:00:00Z&to=2026-04-03T00:00:00Z"
#define T1(hms) "\"2026-04-01T" hms ".000000Z\""

static int setup(void **state)
{
	(void)state;
	db_url = test_server_open(&srv, "pipelines", NULL);
	post_jsonl(srv.port, MODE_BARE, "pipelines/runs.jsonl");
	post_jsonl(srv.port, MODE_STRUCTURED, "pipelines/runs.jsonl"); /* duplicates: no change */
	post_jsonl(srv.port, MODE_BATCH, "scenarios/checkout.jsonl");
	test_server_wait_correlated(&srv, 120);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_server_close(&srv, &db_url);
	return 0;
}

/* GET `path` with extra `headers` (or NULL); fails unless the answer is `status`. */
static void fetch(const char *path, const char *headers, int status, struct http_response *r)
{
	if (http_request(srv.port, "GET", path, headers, NULL, 0, r) != status)
		fail_msg("GET %s: expected %d, got %d: %s", path, status, r->status, r->body);
}

/* GET `path` (200) as parsed JSON; the caller deletes it. */
static cJSON *body_of(const char *path)
{
	struct http_response r = {0};

	fetch(path, NULL, 200, &r);
	cJSON *root = cJSON_Parse(r.body);
	http_response_release(&r);
	assert_non_null(root);
	return root;
}

static const cJSON *member(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

/* `got` must be the JSON value `want` exactly (every member, nulls included). */
static void want_json(const cJSON *got, const char *want, const char *what)
{
	cJSON *w = cJSON_Parse(want);

	if (!w)
		fail_msg("%s: the expected text is not JSON: %s", what, want);
	if (!cJSON_Compare(got, w, true))
		fail_msg("%s:\n  got  %s\n  want %s", what, got ? cJSON_PrintUnformatted(got) : "nothing",
			 want);
	cJSON_Delete(w);
}

/* The "id" members of a list, joined by spaces. */
static void want_ids(const cJSON *list, const char *want)
{
	char got[512] = "";
	const cJSON *x;

	cJSON_ArrayForEach(x, list) {
		const char *id = cJSON_GetStringValue(member(x, "id"));
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", got[0] ? " " : "",
			 id ? id : "?");
	}
	if (strcmp(got, want) != 0)
		fail_msg("ids: got \"%s\", want \"%s\"", got, want);
}

/* GET a list and check its run ids, its pipelines' names and "truncated". */
static void want_list(const char *path, const char *ids, const char *pipelines, bool truncated)
{
	cJSON *r = body_of(path), *names = cJSON_CreateArray();
	const cJSON *p;

	want_ids(member(r, "runs"), ids);
	cJSON_ArrayForEach(p, member(r, "pipelines"))
		cJSON_AddItemToArray(names, cJSON_Duplicate(member(p, "pipeline"), true));
	want_json(names, pipelines, path);
	if (cJSON_IsTrue(member(r, "truncated")) != truncated)
		fail_msg("%s: truncated should be %s", path, truncated ? "true" : "false");
	cJSON_Delete(names);
	cJSON_Delete(r);
}

/* Day 1's runs as the list must give them, newest first. */
static const char *const day1_rows[] = {
	"{\"id\":\"e-early\",\"source\":\"/ci/jenkins\",\"pipeline\":\"edge\","
	"\"url\":\"https://ci.example/e-early\",\"outcome\":null,\"errors\":null,"
	"\"queued_at\":" T1("23:59:00") ",\"started_at\":\"2026-04-02T00:01:00.000000Z\","
	"\"finished_at\":null,\"queued_seconds\":120,\"running_seconds\":null,"
	"\"duration_seconds\":null,\"task_runs\":0}",
	"{\"id\":\"d-2\",\"source\":\"/argo\",\"pipeline\":\"deploy\","
	"\"url\":\"https://ci.example/d-2\",\"outcome\":\"success\",\"errors\":null,"
	"\"queued_at\":" T1("13:00:00") ",\"started_at\":" T1("13:00:30") ","
	"\"finished_at\":" T1("13:10:30") ",\"queued_seconds\":30,\"running_seconds\":600,"
	"\"duration_seconds\":630,\"task_runs\":1}",
	"{\"id\":\"d-1\",\"source\":\"/argo\",\"pipeline\":\"deploy\","
	"\"url\":\"https://ci.example/d-1\",\"outcome\":\"cancel\",\"errors\":null,"
	"\"queued_at\":" T1("12:00:00") ",\"started_at\":null,\"finished_at\":" T1("12:30:00")
	",\"queued_seconds\":null,\"running_seconds\":null,\"duration_seconds\":1800,"
	"\"task_runs\":0}",
	"{\"id\":\"b-4\",\"source\":\"/ci/jenkins\",\"pipeline\":\"build\","
	"\"url\":\"https://ci.example/b-4\",\"outcome\":null,\"errors\":null,"
	"\"queued_at\":" T1("11:00:00") ",\"started_at\":" T1("11:02:00") ","
	"\"finished_at\":null,\"queued_seconds\":120,\"running_seconds\":null,"
	"\"duration_seconds\":null,\"task_runs\":0}",
	"{\"id\":\"b-3\",\"source\":\"/ci/jenkins\",\"pipeline\":\"build\","
	"\"url\":\"https://ci.example/b-3\",\"outcome\":\"error\",\"errors\":null,"
	"\"queued_at\":null,\"started_at\":" T1("10:00:00") ",\"finished_at\":" T1("10:20:00")
	",\"queued_seconds\":null,\"running_seconds\":1200,\"duration_seconds\":1200,"
	"\"task_runs\":0}",
	"{\"id\":\"b-2\",\"source\":\"/ci/jenkins\",\"pipeline\":\"build\","
	"\"url\":\"https://ci.example/b-2\",\"outcome\":\"failure\","
	"\"errors\":\"3 tests failed, \\\"flaky\\\" 1\",\"queued_at\":" T1("09:00:00") ","
	"\"started_at\":" T1("09:03:00") ",\"finished_at\":" T1("09:13:00") ","
	"\"queued_seconds\":180,\"running_seconds\":600,\"duration_seconds\":780,"
	"\"task_runs\":0}",
	"{\"id\":\"b-1\",\"source\":\"/ci/jenkins\",\"pipeline\":\"build\","
	"\"url\":\"https://ci.example/b-1\",\"outcome\":\"success\",\"errors\":null,"
	"\"queued_at\":" T1("08:00:00") ",\"started_at\":" T1("08:01:00") ","
	"\"finished_at\":" T1("08:11:00") ",\"queued_seconds\":60,\"running_seconds\":600,"
	"\"duration_seconds\":660,\"task_runs\":4}",
};

static void day1_runs(void **state)
{
	(void)state;
	cJSON *r = body_of(RUNS DAY1);
	const cJSON *runs = member(r, "runs");
	size_t n = sizeof day1_rows / sizeof *day1_rows;

	assert_int_equal(cJSON_GetArraySize(runs), n);
	for (size_t i = 0; i < n; i++)
		want_json(cJSON_GetArrayItem(runs, (int)i), day1_rows[i], "day 1 run");
	want_json(member(r, "window"),
		  "{\"from\":\"2026-04-01T00:00:00.000000Z\",\"to\":\"2026-04-02T00:00:00.000000Z\","
		  "\"days\":1,\"bucket\":\"day\"}", "window");
	want_json(member(r, "truncated"), "false", "truncated");
	cJSON_Delete(r);
}

static void day1_summaries(void **state)
{
	(void)state;
	cJSON *r = body_of(RUNS DAY1 "&limit=1"); /* the summaries count every run anyway */

	want_json(member(r, "pipelines"),
		  "[{\"pipeline\":\"build\",\"runs\":4,\"succeeded\":1,\"failed\":2,"
		  "\"median_duration_seconds\":780,\"last_outcome\":\"error\","
		  "\"last_started_at\":" T1("11:02:00") "},"
		  "{\"pipeline\":\"deploy\",\"runs\":2,\"succeeded\":1,\"failed\":0,"
		  "\"median_duration_seconds\":1215,\"last_outcome\":\"success\","
		  "\"last_started_at\":" T1("13:00:30") "},"
		  "{\"pipeline\":\"edge\",\"runs\":1,\"succeeded\":0,\"failed\":0,"
		  "\"median_duration_seconds\":null,\"last_outcome\":null,"
		  "\"last_started_at\":\"2026-04-02T00:01:00.000000Z\"}]", "day 1 pipelines");
	want_json(member(r, "truncated"), "true", "truncated");
	cJSON_Delete(r);
}

static void window_edges(void **state)
{
	(void)state;
	cJSON *r = body_of(RUNS DAY2);

	want_ids(member(r, "runs"), "e-only e-from"); /* not e-early (day 1), not e-to (at `to`) */
	want_json(cJSON_GetArrayItem(member(r, "runs"), 0),
		  "{\"id\":\"e-only\",\"source\":\"/ci/jenkins\",\"pipeline\":\"edge\","
		  "\"url\":\"https://ci.example/e-only\",\"outcome\":\"failure\",\"errors\":null,"
		  "\"queued_at\":null,\"started_at\":null,"
		  "\"finished_at\":\"2026-04-02T12:00:00.000000Z\",\"queued_seconds\":null,"
		  "\"running_seconds\":null,\"duration_seconds\":null,\"task_runs\":0}", "e-only");
	want_json(cJSON_GetArrayItem(member(r, "runs"), 1),
		  "{\"id\":\"e-from\",\"source\":\"/ci/jenkins\",\"pipeline\":\"edge\","
		  "\"url\":\"https://ci.example/e-from\",\"outcome\":\"success\",\"errors\":null,"
		  "\"queued_at\":\"2026-04-02T00:00:00.000000Z\","
		  "\"started_at\":\"2026-04-02T00:00:10.000000Z\","
		  "\"finished_at\":\"2026-04-02T00:01:10.000000Z\",\"queued_seconds\":10,"
		  "\"running_seconds\":60,\"duration_seconds\":70,\"task_runs\":0}", "e-from");
	want_json(member(r, "pipelines"),
		  "[{\"pipeline\":\"edge\",\"runs\":2,\"succeeded\":1,\"failed\":1,"
		  "\"median_duration_seconds\":70,\"last_outcome\":\"failure\","
		  "\"last_started_at\":\"2026-04-02T00:00:10.000000Z\"}]", "day 2 pipelines");
	cJSON_Delete(r);
	want_list(RUNS "from=2026-04-03T00:00:00Z&to=2026-04-04T00:00:00Z", "e-to", "[\"edge\"]",
		  false);
	/* [08:00, 09:00): b-1 (queued exactly at from) but not b-2 (queued exactly at to) */
	want_list(RUNS "from=2026-04-01T08:00:00Z&to=2026-04-01T09:00:00Z", "b-1", "[\"build\"]",
		  false);
	/* a run belongs by its earliest time: b-3 has no queued event, so its start counts */
	want_list(RUNS "from=2026-04-01T09:30:00Z&to=2026-04-01T10:30:00Z", "b-3", "[\"build\"]",
		  false);
}

static void filter_and_limit(void **state)
{
	(void)state;
	want_list(RUNS DAY1 "&pipeline=deploy", "d-2 d-1", "[\"deploy\"]", false);
	want_list(RUNS DAY1 "&pipeline=edge&pipeline=deploy", "e-early d-2 d-1",
		  "[\"deploy\",\"edge\"]", false);
	want_list(RUNS DAY1 "&pipeline=nope", "", "[]", false);
	want_list(RUNS DAY1 "&pipeline=build&limit=2", "b-4 b-3", "[\"build\"]", true);
	want_list(RUNS DAY1 "&limit=3", "e-early d-2 d-1", "[\"build\",\"deploy\",\"edge\"]", true);
	want_list(RUNS DAY1 "&limit=6", "e-early d-2 d-1 b-4 b-3 b-2", "[\"build\",\"deploy\",\"edge\"]",
		  true);
	want_list(RUNS DAY1 "&limit=7", "e-early d-2 d-1 b-4 b-3 b-2 b-1",
		  "[\"build\",\"deploy\",\"edge\"]", false);
	want_list(RUNS DAY1 "&limit=1000&pipeline=b%75ild", "b-4 b-3 b-2 b-1", "[\"build\"]", false);
}

static void csv(void **state)
{
	(void)state;
	static const char header[] = "id,source,pipeline,url,outcome,errors,queued_at,started_at,"
				     "finished_at,queued_seconds,running_seconds,duration_seconds,"
				     "task_runs\r\ne-early,";
	struct http_response r = {0};
	char ct[64];
	size_t lines = 0;

	fetch(RUNS DAY1 "&format=csv", NULL, 200, &r);
	assert_non_null(http_header(&r, "Content-Type", ct, sizeof ct));
	assert_string_equal(ct, "text/csv; charset=utf-8");
	assert_true(strncmp(r.body, header, strlen(header)) == 0);
	assert_non_null(strstr(r.body, "\r\nb-2,/ci/jenkins,build,https://ci.example/b-2,failure,"
				       "\"3 tests failed, \"\"flaky\"\" 1\",2026-04-01T09:00:00.000000Z,"
				       "2026-04-01T09:03:00.000000Z,2026-04-01T09:13:00.000000Z,180,600,"
				       "780,0\r\n"));
	assert_non_null(strstr(r.body, "\r\nb-4,/ci/jenkins,build,https://ci.example/b-4,,,"
				       "2026-04-01T11:00:00.000000Z,2026-04-01T11:02:00.000000Z,,120,,,"
				       "0\r\n"));
	for (const char *p = r.body; (p = strstr(p, "\r\n")); p += 2)
		lines++;
	assert_int_equal(lines, 8); /* header + 7 runs */
	http_response_release(&r);
	fetch(RUNS DAY1 "&pipeline=deploy&limit=1", "Accept: text/csv\r\n", 200, &r);
	assert_non_null(strstr(r.body, "task_runs\r\nd-2,/argo,deploy,"));
	assert_null(strstr(r.body, "d-1"));
	http_response_release(&r);
}

static void detail(void **state)
{
	(void)state;
	cJSON *r = body_of(RUN "id=b-1&source=%2Fci%2Fjenkins");
	const cJSON *tasks = member(r, "task_runs");

	want_ids(tasks, "tb1-c tb1-a tb1-b tb1-z");
	want_json(cJSON_GetArrayItem(tasks, 1),
		  "{\"id\":\"tb1-a\",\"source\":\"/ci/jenkins\",\"task\":\"lint\","
		  "\"url\":\"https://ci.example/b-1/tb1-a\",\"outcome\":\"failure\","
		  "\"errors\":\"2 warnings\",\"started_at\":" T1("08:05:00") ","
		  "\"finished_at\":" T1("08:06:00") ",\"duration_seconds\":60}", "tb1-a");
	want_json(member(cJSON_GetArrayItem(tasks, 0), "duration_seconds"), "210", "tb1-c");
	want_json(member(cJSON_GetArrayItem(tasks, 2), "duration_seconds"), "300", "tb1-b");
	want_json(cJSON_GetArrayItem(tasks, 3),
		  "{\"id\":\"tb1-z\",\"source\":\"/ci/jenkins\",\"task\":\"upload\","
		  "\"url\":\"https://ci.example/b-1/tb1-z\",\"outcome\":\"success\",\"errors\":null,"
		  "\"started_at\":null,\"finished_at\":" T1("08:10:30") ",\"duration_seconds\":null}",
		  "tb1-z");
	cJSON *list = body_of(RUNS DAY1 "&pipeline=build");
	char *row = cJSON_PrintUnformatted(cJSON_GetArrayItem(member(list, "runs"), 3));
	want_json(member(r, "run"), row, "the run is its list row");
	free(row);
	cJSON_Delete(list);
	cJSON_Delete(r);
	/* any source the run's events name finds it: here the events' context.source */
	r = body_of(RUN "id=b-1&source=/jenkins/agent-1");
	want_json(member(member(r, "run"), "source"), "\"/ci/jenkins\"", "source");
	cJSON_Delete(r);
	r = body_of(RUN "id=d-2&source=/argo");
	want_ids(member(r, "task_runs"), "td2-deploy");
	want_json(member(cJSON_GetArrayItem(member(r, "task_runs"), 0), "duration_seconds"), "480",
		  "td2-deploy");
	cJSON_Delete(r);
	r = body_of(RUN "id=b-2&source=/ci/jenkins");
	want_json(member(r, "task_runs"), "[]", "b-2 has no task runs");
	cJSON_Delete(r);
}

/* The scenario the dashboard's test uses has a pipeline run with two task runs. */
static void checkout_scenario(void **state)
{
	(void)state;
	cJSON *r = body_of(RUNS "from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z");

	want_json(member(r, "runs"),
		  "[{\"id\":\"pr-1\",\"source\":\"/ci/acme\",\"pipeline\":\"shop-ci\","
		  "\"url\":\"https://ci.acme/pr-1\",\"outcome\":\"success\",\"errors\":null,"
		  "\"queued_at\":\"2026-03-02T10:01:00.000000Z\","
		  "\"started_at\":\"2026-03-02T10:02:00.000000Z\","
		  "\"finished_at\":\"2026-03-02T10:20:00.000000Z\",\"queued_seconds\":60,"
		  "\"running_seconds\":1080,\"duration_seconds\":1140,\"task_runs\":2}]", "pr-1");
	cJSON_Delete(r);
	r = body_of(RUN "id=pr-1&source=/ci/acme");
	want_ids(member(r, "task_runs"), "tr-1 tr-2");
	cJSON_Delete(r);
}

static void default_window(void **state)
{
	(void)state;
	cJSON *r = body_of(RUNS);

	want_json(member(member(r, "window"), "days"), "30", "default window");
	assert_true(cJSON_IsArray(member(r, "runs")) && cJSON_IsArray(member(r, "pipelines")));
	cJSON_Delete(r);
}

static void problems(void **state)
{
	(void)state;
	static const struct {
		const char *path;
		int status;
		const char *names; /* what the problem's detail must contain */
	} bad[] = {
		{RUNS "limit=0", 400, "\\\"limit\\\""},
		{RUNS "limit=1001", 400, "\\\"limit\\\""},
		{RUNS "limit=ten", 400, "\\\"limit\\\""},
		{RUNS "limit=5&limit=6", 400, "\\\"limit\\\""},
		{RUNS "pipeline=", 400, "\\\"pipeline\\\""},
		{RUNS "from=yesterday", 400, "\\\"from\\\""},
		{RUNS "from=2026-04-02T00:00:00Z&to=2026-04-01T00:00:00Z", 400, "\\\"from\\\""},
		{RUNS "format=xml", 400, "\\\"format\\\""},
		{RUNS "service=shop", 400, "\\\"service\\\""},
		{RUNS "bad=%zz", 400, "percent"},
		{RUN "source=/ci/jenkins", 400, "\\\"id\\\""},
		{RUN "id=b-1", 400, "\\\"source\\\""},
		{RUN "id=&source=/ci/jenkins", 400, "\\\"id\\\""},
		{RUN "id=b-1&source=/ci/jenkins&limit=1", 400, "\\\"limit\\\""},
		{RUN "id=b-1&id=b-2&source=/ci/jenkins", 400, "\\\"id\\\""},
		{RUN "id=b-1&source=/elsewhere", 404, "b-1"},
		{RUN "id=nope&source=/ci/jenkins", 404, "nope"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct http_response r = {0};
		char pointer[64];
		http_request(srv.port, "GET", bad[i].path, NULL, NULL, 0, &r);
		assert_problem(&r, bad[i].status, pointer, sizeof pointer);
		if (!strstr(r.body, bad[i].names))
			fail_msg("%s: the problem does not name %s: %s", bad[i].path, bad[i].names,
				 r.body);
		http_response_release(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(day1_runs),	    cmocka_unit_test(day1_summaries),
		cmocka_unit_test(window_edges),	    cmocka_unit_test(filter_and_limit),
		cmocka_unit_test(csv),		    cmocka_unit_test(detail),
		cmocka_unit_test(checkout_scenario), cmocka_unit_test(default_window),
		cmocka_unit_test(problems),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
