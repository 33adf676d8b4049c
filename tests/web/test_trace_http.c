/*
 * tests/web/test_trace_http.c: GET /api/v1/trace end to end (label db). The checkout
 * scenario (tests/data/scenarios/checkout.jsonl; see gen.py for its story) is posted to the
 * real binary, the correlator builds the linked model, and each selector's trace is read
 * back and checked member by member with cJSON:
 *   change 101 (repository spelled as a git URL): its artifact, build, pipeline run, the
 *     staging and prod deployments including the rollback, and the lead-time durations;
 *   change 102: shipped by d-prod-2 through the commit range;
 *   artifact A3 (another purl spelling): change 103 by chain id, the incident and rollback;
 *   deployment d-prod-2, chain chain-A, and a deployment id two sources share;
 *   404 and 400 problems, and markup in event text surviving as the exact JSON string;
 *   a trace larger than the node cap (added last, in its own service and environment).
 */
#include <cjson/cJSON.h>
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
#include "support/fixture.h"
#include "support/http.h"
#include "support/server.h"
#include "support/testdb.h"
#include "web/ingest_helpers.h"

#define A1 "pkg:oci/shop@sha256:aaa1?arch=amd64&repository_url=ghcr.io%2Facme%2Fshop"
#define A3 "pkg:oci/shop@sha256:ccc3?repository_url=ghcr.io%2Facme%2Fshop"
#define DAY "2026-03-02T"

static struct test_server srv;
static char *db_url;

/* Two deployment events with one id from two sources, of two artifacts, in their own service
 * and environment (so they change nothing in the scenario's traces). */
static const char twin_template[] =
	"{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"d-twin\",\"source\":\"%s\","
	"\"type\":\"dev.cdevents.service.deployed.0.3.0\",\"timestamp\":\"2026-03-02T13:00:00Z\"},"
	"\"subject\":{\"id\":\"twin\",\"source\":\"%s\","
	"\"content\":{\"environment\":{\"id\":\"qa\"},"
	"\"artifactId\":\"pkg:oci/twin@%s\"}}}";

static void post_one(const char *ev)
{
	struct http_response r = {0};
	int status = post_event(srv.port, MODE_BARE, ev, &r);

	if (status != 202)
		fail_msg("POST answered %d: %s", status, r.body);
	http_response_release(&r);
}

static void post_scenario(void)
{
	size_t n = post_jsonl(srv.port, MODE_BARE, "scenarios/checkout.jsonl");

	assert_true(n >= 29);
	for (int i = 0; i < 2; i++) {
		const char *src = i ? "/argocd-eu" : "/argocd-us";
		struct buf b = BUF_INIT(0);
		buf_printf(&b, twin_template, src, src, i ? "2.0" : "1.0");
		post_one(buf_cstr(&b));
		buf_release(&b);
	}
}

/* Wait until every accepted event is stored and correlated. */
static void wait_correlated(void)
{
	test_server_wait_correlated(&srv, 120);
}

static int setup(void **state)
{
	(void)state;
	db_url =
	    test_server_open(&srv, "trace_http", (const char *const[]){"--log-level=warn", NULL});
	post_scenario();
	wait_correlated();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_server_close(&srv, &db_url);
	return 0;
}

/* ---- helpers over the response ---- */

static char *trace_path(const char *qs)
{
	struct buf b = BUF_INIT(0);

	buf_printf(&b, "/api/v1/trace%s%s", qs[0] ? "?" : "", qs);
	return buf_detach(&b, NULL);
}

/* GET the trace for `qs`, expect 200 application/json, return the parsed body (and the raw
 * body in *raw when raw is not NULL; free it). */
static cJSON *get_trace(const char *qs, char **raw)
{
	struct http_response r = {0};
	char *path = trace_path(qs);
	char ct[128];

	if (http_request(srv.port, "GET", path, NULL, NULL, 0, &r) != 200)
		fail_msg("GET %s answered %d: %s", path, r.status, r.body);
	assert_non_null(http_header(&r, "Content-Type", ct, sizeof ct));
	assert_string_equal(ct, "application/json");
	cJSON *root = cJSON_Parse(r.body);
	assert_non_null(root);
	if (raw)
		*raw = strdup(r.body);
	http_response_release(&r);
	free(path);
	return root;
}

static const cJSON *member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!v)
		fail_msg("no member \"%s\"", name);
	return v;
}

static const char *str(const cJSON *o, const char *name)
{
	const cJSON *v = member(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *o, const char *name)
{
	const cJSON *v = member(o, name);

	if (!cJSON_IsNumber(v))
		fail_msg("member \"%s\" is not a number", name);
	return v->valuedouble;
}

/* The element of array `arr` whose string member `name` is `value`, or NULL. */
static const cJSON *find(const cJSON *arr, const char *name, const char *value)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, arr) {
		const char *s = str(e, name);
		if (s && strcmp(s, value) == 0)
			return e;
	}
	return NULL;
}

/* The string members `name` of the elements of `arr`, joined with ','. */
static char *ids(const cJSON *arr, const char *name)
{
	struct buf b = BUF_INIT(0);
	const cJSON *e;

	cJSON_ArrayForEach(e, arr)
		buf_printf(&b, "%s%s", b.len ? "," : "", str(e, name));
	return buf_detach(&b, NULL);
}

static void assert_ids(const cJSON *arr, const char *name, const char *want)
{
	char *got = ids(arr, name);

	if (strcmp(got, want) != 0)
		fail_msg("expected [%s], got [%s]", want, got);
	free(got);
}

/* The deployment with event id `id` in environment `env`. */
static const cJSON *deployment(const cJSON *root, const char *env, const char *id)
{
	const cJSON *e = find(member(root, "environments"), "id", env), *d;

	if (!e)
		fail_msg("no environment %s", env);
	cJSON_ArrayForEach(d, member(e, "deployments")) {
		if (strcmp(str(member(d, "event"), "id"), id) == 0)
			return d;
	}
	fail_msg("no deployment %s in %s", id, env);
	return NULL;
}

/* The event ids of each environment's deployments: "staging:a,b;prod:c". */
static void assert_environments(const cJSON *root, const char *want)
{
	struct buf b = BUF_INIT(0);
	const cJSON *e, *d;

	cJSON_ArrayForEach(e, member(root, "environments")) {
		buf_printf(&b, "%s%s:", b.len ? ";" : "", str(e, "id"));
		size_t start = b.len;
		cJSON_ArrayForEach(d, member(e, "deployments"))
			buf_printf(&b, "%s%s", b.len > start ? "," : "",
				   str(member(d, "event"), "id"));
	}
	assert_string_equal(buf_cstr(&b), want);
	buf_release(&b);
}

/* ---- traces ---- */

static void change_101_in_another_spelling(void **state)
{
	(void)state;
	cJSON *root = get_trace("change=101&repository=https%3A%2F%2Fgithub.com%2Facme%2Fshop.git",
				NULL);
	const cJSON *q = member(root, "query");

	assert_string_equal(str(q, "change"), "101");
	assert_string_equal(str(q, "repository"), "https://github.com/acme/shop.git");
	assert_false(cJSON_IsTrue(member(root, "truncated")));

	const cJSON *changes = member(root, "changes");
	assert_int_equal(cJSON_GetArraySize(changes), 1);
	const cJSON *c = cJSON_GetArrayItem(changes, 0);
	assert_string_equal(str(c, "repository"), "github.com/acme/shop");
	assert_string_equal(str(c, "id"), "101");
	assert_string_equal(str(c, "created_at"), DAY "09:00:00.000000Z");
	assert_string_equal(str(c, "merged_at"), DAY "10:00:00.000000Z");
	assert_true(cJSON_IsNull(member(c, "reviewed_at")));
	const cJSON *dur = member(c, "durations");
	assert_true(num(dur, "created_to_merged_seconds") == 3600);
	assert_true(num(dur, "merged_to_packaged_seconds") == 660);
	assert_true(num(dur, "first_deployment_seconds") == 5100); /* 09:00 -> staging 10:25 */
	assert_true(num(member(dur, "first_deployment_by_environment"), "staging") == 5100);
	assert_true(num(member(dur, "first_deployment_by_environment"), "prod") == 6000);
	assert_ids(member(c, "events"), "id", "c101-created,c101-merged");
	const cJSON *ev = cJSON_GetArrayItem(member(c, "events"), 0);
	assert_string_equal(str(ev, "source"), "https://github.com/acme/shop");
	assert_string_equal(str(ev, "type"), "dev.cdevents.change.created.0.1.2");
	assert_string_equal(str(ev, "timestamp"), DAY "09:00:00.000000Z");

	const cJSON *arts = member(root, "artifacts");
	assert_ids(arts, "purl", A1);
	const cJSON *a = cJSON_GetArrayItem(arts, 0);
	assert_string_equal(str(a, "change_rule"), "change_reference");
	assert_string_equal(str(member(a, "change"), "repository"), "github.com/acme/shop");
	assert_string_equal(str(member(a, "change"), "id"), "101");
	assert_string_equal(str(a, "packaged_at"), DAY "10:11:00.000000Z");
	assert_ids(member(a, "events"), "id", "a1-packaged,a1-published");

	assert_ids(member(root, "builds"), "id", "b-1");
	const cJSON *b = cJSON_GetArrayItem(member(root, "builds"), 0);
	assert_string_equal(str(b, "artifact"), A1);
	assert_true(num(b, "duration_seconds") == 420);

	assert_ids(member(root, "pipeline_runs"), "id", "pr-1");
	const cJSON *pr = cJSON_GetArrayItem(member(root, "pipeline_runs"), 0);
	assert_string_equal(str(pr, "name"), "shop-ci");
	assert_string_equal(str(pr, "outcome"), "success");
	assert_true(num(pr, "queued_seconds") == 60);
	assert_true(num(pr, "run_seconds") == 1080);
	assert_ids(member(pr, "task_runs"), "id", "tr-1,tr-2");
	assert_true(num(cJSON_GetArrayItem(member(pr, "task_runs"), 1), "duration_seconds") == 480);
	assert_ids(member(pr, "events"), "id", "pr1-queued,pr1-started,pr1-finished");

	assert_environments(root, "staging:d-staging-1;prod:d-prod-1,d-prod-3");
	assert_string_equal(str(find(member(root, "environments"), "id", "staging"), "name"),
			    "Staging");
	const cJSON *d1 = deployment(root, "prod", "d-prod-1");
	assert_string_equal(str(d1, "kind"), "deployed");
	assert_string_equal(str(d1, "artifact"), A1);
	assert_true(cJSON_IsNull(member(d1, "rolled_back_by"))); /* next is d-prod-2, an upgrade */
	assert_string_equal(str(find(member(d1, "changes"), "id", "101"), "rule"), "artifact");
	assert_string_equal(str(deployment(root, "prod", "d-prod-3"), "kind"), "rolledback");

	bool linked = false;
	const cJSON *l;
	cJSON_ArrayForEach(l, member(root, "links")) {
		linked |= strcmp(str(l, "rule"), "change_reference") == 0 &&
			  strcmp(str(member(l, "to"), "key"), A1) == 0 &&
			  strcmp(str(member(member(l, "evidence"), "event"), "id"),
				 "a1-packaged") == 0;
	}
	assert_true(linked);
	cJSON_Delete(root);
}

static void change_102_shipped_by_commit_range(void **state)
{
	(void)state;
	cJSON *root = get_trace("change=102&repository=acme/shop", NULL);

	assert_ids(member(root, "changes"), "id", "102");
	assert_environments(root, "prod:d-prod-2");
	const cJSON *c = find(member(deployment(root, "prod", "d-prod-2"), "changes"), "id", "102");
	assert_non_null(c);
	assert_string_equal(str(c, "rule"), "commit_range");
	assert_string_equal(str(member(member(c, "evidence"), "deployment"), "id"), "d-prod-1");
	cJSON_Delete(root);
}

static void artifact_in_another_spelling(void **state)
{
	(void)state;
	char *raw = NULL;
	/* pkg:OCI/shop@sha256%3Accc3?repository_url=ghcr.io/acme/shop, percent-encoded */
	cJSON *root = get_trace("artifact=pkg%3AOCI%2Fshop%40sha256%253Accc3%3Frepository_url%3D"
				"ghcr.io%2Facme%2Fshop", &raw);
	const cJSON *q = member(root, "query");

	assert_string_equal(str(q, "artifact"),
			    "pkg:OCI/shop@sha256%3Accc3?repository_url=ghcr.io/acme/shop");
	assert_string_equal(str(q, "purl"), A3);
	assert_ids(member(root, "artifacts"), "purl", A3);
	assert_string_equal(str(cJSON_GetArrayItem(member(root, "artifacts"), 0), "change_rule"),
			    "chain_id");
	assert_ids(member(root, "changes"), "id", "103");
	assert_ids(member(root, "builds"), "id", "b-2");
	assert_environments(root, "prod:d-prod-2");

	const cJSON *d = deployment(root, "prod", "d-prod-2");
	assert_string_equal(str(d, "kind"), "upgraded");
	const cJSON *inc = member(d, "incidents");
	assert_int_equal(cJSON_GetArraySize(inc), 1);
	const cJSON *i = cJSON_GetArrayItem(inc, 0);
	assert_string_equal(str(i, "id"), "inc-1");
	assert_string_equal(str(i, "rule"), "service");
	assert_string_equal(str(i, "description"), "checkout <b>errors</b>");
	assert_string_equal(str(i, "detected_at"), DAY "11:45:00.000000Z");
	assert_string_equal(str(i, "resolved_at"), DAY "12:10:00.000000Z");
	assert_true(num(i, "detected_after_seconds") == 900);
	assert_true(num(i, "resolved_after_seconds") == 2400);
	const cJSON *rb = member(d, "rolled_back_by");
	assert_string_equal(str(rb, "source"), "/argocd");
	assert_string_equal(str(rb, "id"), "d-prod-3");
	assert_string_equal(str(rb, "at"), DAY "11:50:00.000000Z");
	/* markup is escaped in the text (and HTML-safe), exact once parsed */
	assert_null(strstr(raw, "<b>"));
	assert_non_null(strstr(raw, "checkout \\u003cb\\u003eerrors\\u003c/b\\u003e"));
	free(raw);
	cJSON_Delete(root);
}

static void deployment_d_prod_2(void **state)
{
	(void)state;
	const char *qs[] = {"deployment=d-prod-2", "deployment=d-prod-2&source=%2Fargocd"};

	for (size_t k = 0; k < 2; k++) {
		cJSON *root = get_trace(qs[k], NULL);
		const cJSON *q = member(root, "query");
		assert_string_equal(str(q, "deployment"), "d-prod-2");
		if (k == 0)
			assert_true(cJSON_IsNull(member(q, "source")));
		else
			assert_string_equal(str(q, "source"), "/argocd");
		assert_environments(root, "prod:d-prod-2");
		assert_ids(member(root, "changes"), "id", "102,103");
		assert_ids(member(root, "artifacts"), "purl", A3);
		assert_ids(member(root, "builds"), "id", "b-2");
		const cJSON *d = deployment(root, "prod", "d-prod-2");
		assert_string_equal(str(member(d, "rolled_back_by"), "id"), "d-prod-3");
		cJSON_Delete(root);
	}
}

static void chain_a(void **state)
{
	(void)state;
	cJSON *root = get_trace("chain=chain-A", NULL);

	assert_string_equal(str(member(root, "query"), "chain"), "chain-A");
	assert_ids(member(root, "pipeline_runs"), "id", "pr-1");
	assert_ids(member(cJSON_GetArrayItem(member(root, "pipeline_runs"), 0), "task_runs"), "id",
		   "tr-1,tr-2");
	assert_ids(member(root, "builds"), "id", "b-1");
	assert_int_equal(cJSON_GetArraySize(member(root, "changes")), 0);
	cJSON_Delete(root);
}

static void deployment_id_shared_by_two_sources(void **state)
{
	(void)state;
	struct http_response r = {0};
	char ptr[64];
	char *path = trace_path("deployment=d-twin");

	http_request(srv.port, "GET", path, NULL, NULL, 0, &r);
	assert_problem(&r, 400, ptr, sizeof ptr);
	cJSON *p = cJSON_Parse(r.body);
	assert_string_equal(str(p, "detail"), "deployment event \"d-twin\" was sent by 2 sources");
	assert_non_null(strstr(str(p, "hint"), "\"/argocd-eu\", \"/argocd-us\""));
	cJSON_Delete(p);
	http_response_release(&r);
	free(path);

	cJSON *root = get_trace("deployment=d-twin&source=/argocd-eu", NULL);
	assert_environments(root, "qa:d-twin");
	assert_string_equal(str(member(deployment(root, "qa", "d-twin"), "event"), "source"),
			    "/argocd-eu");
	cJSON_Delete(root);
}

/* ---- problems ---- */

struct problem_case {
	const char *qs;
	int status;
	const char *detail;
};

static const struct problem_case problems[] = {
	{"change=999&repository=github.com/x/y", 404,
	 "no change \"999\" in repository \"github.com/x/y\" has been seen"},
	{"change=101&repository=github.com/acme/other", 404,
	 "no change \"101\" in repository \"github.com/acme/other\" has been seen"},
	{"artifact=pkg:oci/shop@sha256%253Affff", 404,
	 "no artifact \"pkg:oci/shop@sha256:ffff\" has been seen"},
	{"deployment=d-nope", 404, "no deployment event \"d-nope\" has been seen"},
	{"deployment=d-prod-2&source=/elsewhere", 404,
	 "no deployment event \"d-prod-2\" from source \"/elsewhere\" has been seen"},
	{"chain=chain-Z", 404, "no event with chain id \"chain-Z\" has been seen"},
	{"", 400, "missing parameter \"change\", \"artifact\", \"deployment\" or \"chain\""},
	{"change=101", 400, "missing parameter \"repository\""},
	{"change=101&repository=acme/shop&artifact=pkg:oci/x@1", 400,
	 "parameters \"change\" and \"artifact\" cannot be combined"},
	{"chain=chain-A&deployment=d-prod-2", 400,
	 "parameters \"deployment\" and \"chain\" cannot be combined"},
	{"artifact=shop:1.0", 400,
	 "parameter \"artifact\" is not a valid package URL: scheme \"shop\" is not \"pkg\""},
	{"change=%zz&repository=acme/shop", 400,
	 "parameter \"change\" has an invalid percent-escape \"%zz\""},
	{"chain=a%4", 400, "parameter \"chain\" has an invalid percent-escape \"%4\""},
	{"foo=1", 400, "unknown parameter \"foo\""},
	{"repository=acme/shop", 400, "parameter \"repository\" is only used with \"change\""},
	{"chain=chain-A&source=/argocd", 400,
	 "parameter \"source\" is only used with \"deployment\""},
	{"change=101&change=102&repository=acme/shop", 400,
	 "parameter \"change\" is given more than once"},
	{"chain=", 400, "parameter \"chain\" is empty"},
	{"chain=%00", 400, "parameter \"chain\" contains a NUL byte"},
};

static void problems_name_the_parameter(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof problems / sizeof problems[0]; i++) {
		const struct problem_case *c = &problems[i];
		struct http_response r = {0};
		char ptr[64];
		char *path = trace_path(c->qs);

		http_request(srv.port, "GET", path, NULL, NULL, 0, &r);
		assert_problem(&r, c->status, ptr, sizeof ptr);
		cJSON *p = cJSON_Parse(r.body);
		if (strcmp(str(p, "detail"), c->detail) != 0)
			fail_msg("GET %s: detail \"%s\", expected \"%s\"", path, str(p, "detail"),
				 c->detail);
		assert_string_equal(str(p, "instance"), "/api/v1/trace");
		cJSON_Delete(p);
		http_response_release(&r);
		free(path);
	}
}

static void unknown_parameters_beside_a_selector_are_ignored(void **state)
{
	(void)state;
	cJSON *root = get_trace("chain=chain-A&_=1700000000", NULL);

	assert_ids(member(root, "pipeline_runs"), "id", "pr-1");
	cJSON_Delete(root);
}

/* 501 deployments of one artifact: the trace keeps the earliest 500 and says it is cut. */
static void a_large_trace_is_truncated(void **state)
{
	(void)state;
	enum { N = 501 };
	char *evs[N];
	struct http_response r = {0};

	for (int i = 0; i < N; i++) {
		struct buf b = BUF_INIT(0);
		buf_printf(&b, "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"many-%03d\","
			   "\"source\":\"/load\",\"type\":\"dev.cdevents.service.deployed.0.3.0\","
			   "\"timestamp\":\"2026-03-03T00:%02d:%02dZ\"},"
			   "\"subject\":{\"id\":\"many\",\"content\":{"
			   "\"environment\":{\"id\":\"load\"},\"artifactId\":\"pkg:oci/many@1\"}}}",
			   i, i / 60, i % 60);
		evs[i] = buf_detach(&b, NULL);
	}
	assert_int_equal(post_batch(srv.port, (const char *const *)evs, N, &r), 202);
	http_response_release(&r);
	wait_correlated();
	cJSON *root = get_trace("artifact=pkg:oci/many@1", NULL);
	assert_true(cJSON_IsTrue(member(root, "truncated")));
	const cJSON *deps = member(find(member(root, "environments"), "id", "load"), "deployments");
	assert_int_equal(cJSON_GetArraySize(deps), N - 1);
	assert_string_equal(str(member(cJSON_GetArrayItem(deps, 0), "event"), "id"), "many-000");
	assert_string_equal(str(member(cJSON_GetArrayItem(deps, N - 2), "event"), "id"),
			    "many-499");
	cJSON_Delete(root);
	for (int i = 0; i < N; i++)
		free(evs[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(change_101_in_another_spelling),
		cmocka_unit_test(change_102_shipped_by_commit_range),
		cmocka_unit_test(artifact_in_another_spelling),
		cmocka_unit_test(deployment_d_prod_2),
		cmocka_unit_test(chain_a),
		cmocka_unit_test(deployment_id_shared_by_two_sources),
		cmocka_unit_test(problems_name_the_parameter),
		cmocka_unit_test(unknown_parameters_beside_a_selector_are_ignored),
		cmocka_unit_test(a_large_trace_is_truncated), /* last: adds events */
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
