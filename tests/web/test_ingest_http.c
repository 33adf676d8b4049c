/*
 * tests/web/test_ingest_http.c: POST /api/v1/events end to end, against the real binary and
 * a private PostgreSQL (label db). Covers the four modes, duplicates, every error status,
 * every conformance example of 0.3.0/0.4.1/0.5.1 in each mode, and the third-party corpus
 * with its expected outcomes (tests/data/cdevents-corpus/EXPECTED.tsv).
 */
#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "support/fixture.h"
#include "support/http.h"
#include "support/server.h"
#include "support/testdb.h"
#include "web/ingest_helpers.h"

static char *db_url;
static struct test_server srv;

static const char event_template[] =
	"{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"%s\",\"source\":\"/test/ci\","
	"\"type\":\"dev.cdevents.service.deployed.0.3.0\",\"timestamp\":\"2026-01-02T03:04:05.123+02:00\","
	"\"chainId\":\"chain-1\"},"
	"\"subject\":{\"id\":\"svc/checkout\",\"source\":\"/test/cd\",\"content\":{\"environment\":{\"id\":\"prod\"},"
	"\"artifactId\":\"pkg:oci/checkout@sha256%%3Aabc\"}}}";

static char *make_event(const char *id)
{
	struct buf b = BUF_INIT(0);

	buf_printf(&b, event_template, id);
	return buf_detach(&b, NULL);
}

static long count_events(void)
{
	return testdb_long(db_url, "SELECT count(*) FROM events", 0, NULL);
}

static void truncate_events(void)
{
	testdb_exec(db_url, "TRUNCATE events");
}

static int setup(void **state)
{
	(void)state;
	db_url = test_server_open(
	    &srv, "ingest_http",
	    (const char *const[]){"--max-body=65536", "--max-batch=50", "--log-level=warn", NULL});
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_server_close(&srv, &db_url);
	return 0;
}

static void health_endpoints_answer(void **state)
{
	(void)state;
	struct http_response r;

	assert_int_equal(http_request(srv.port, "GET", "/healthz", NULL, NULL, 0, &r), 200);
	http_response_release(&r);
	assert_int_equal(http_request(srv.port, "GET", "/readyz", NULL, NULL, 0, &r), 200);
	assert_non_null(strstr(r.body, "\"schema_version\":"));
	http_response_release(&r);
}

/* Each mode stores one row with the extracted columns, and the raw event as received. */
static void each_mode_stores_the_event(void **state)
{
	(void)state;
	truncate_events();
	for (int m = 0; m < MODE_COUNT; m++) {
		char id[32];
		struct http_response r;
		snprintf(id, sizeof id, "mode-%s", post_mode_names[m]);
		char *ev = make_event(id);
		assert_int_equal(post_event(srv.port, (enum post_mode)m, ev, &r), 202);
		assert_int_equal(reply_count(&r, "accepted"), 1);
		assert_int_equal(reply_count(&r, "duplicates"), 0);
		http_response_release(&r);
		const char *p[] = {id};
		char *mode = testdb_scalar(db_url, "SELECT mode FROM events WHERE id = $1", 1, p);
		assert_string_equal(mode, post_mode_names[m]);
		char *cols = testdb_scalar(db_url,
			"SELECT concat_ws('|', source, type, subject, predicate, type_version, spec_version,"
			" subject_id, subject_source, chain_id, producer,"
			" to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'),"
			" raw->'context'->>'timestamp', raw = $2::jsonb) FROM events WHERE id = $1",
			2, (const char *const[]){id, ev});
		assert_string_equal(cols, "/test/ci|dev.cdevents.service.deployed.0.3.0|service|deployed|"
					  "0.3.0|0.5.1|svc/checkout|/test/cd|chain-1|test|"
					  "2026-01-02 01:04:05.123000|2026-01-02T03:04:05.123+02:00|t");
		free(cols);
		free(mode);
		free(ev);
	}
	assert_int_equal(count_events(), MODE_COUNT);
}

static void resent_event_is_a_duplicate(void **state)
{
	(void)state;
	struct http_response r;
	char *ev = make_event("dup-1");

	truncate_events();
	for (int m = 0; m < MODE_COUNT; m++) {
		assert_int_equal(post_event(srv.port, (enum post_mode)m, ev, &r), 202);
		assert_int_equal(reply_count(&r, "accepted"), m == 0 ? 1 : 0);
		assert_int_equal(reply_count(&r, "duplicates"), m == 0 ? 0 : 1);
		http_response_release(&r);
	}
	assert_int_equal(count_events(), 1);
	free(ev);
}

static void batch_counts_repeats_inside_it(void **state)
{
	(void)state;
	struct buf body = BUF_INIT(0);
	struct http_response r;
	const char *ids[] = {"b-1", "b-2", "b-1", "b-3"};

	truncate_events();
	buf_putc(&body, '[');
	for (size_t i = 0; i < 4; i++) {
		char *ev = make_event(ids[i]);
		buf_printf(&body, "%s{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"/test/ci\","
			   "\"type\":\"dev.cdevents.service.deployed.0.3.0\",\"data\":%s}",
			   i ? "," : "", ids[i], ev);
		free(ev);
	}
	buf_putc(&body, ']');
	assert_int_equal(http_request(srv.port, "POST", "/api/v1/events",
				      TEST_TOKEN_HEADER "Content-Type: application/cloudevents-batch+json\r\n",
				      body.data, body.len, &r), 202);
	assert_int_equal(reply_count(&r, "accepted"), 3);
	assert_int_equal(reply_count(&r, "duplicates"), 1);
	http_response_release(&r);
	assert_int_equal(count_events(), 3);
	buf_release(&body);
}

static void root_path_accepts_events(void **state)
{
	(void)state;
	struct http_response r;
	char *ev = make_event("root-1");

	truncate_events();
	assert_int_equal(http_request(srv.port, "POST", "/", TEST_TOKEN_HEADER
				      "Content-Type: application/json\r\n", ev, strlen(ev), &r), 202);
	assert_int_equal(reply_count(&r, "accepted"), 1);
	http_response_release(&r);
	free(ev);
}

static void cloudevent_attributes_lose_to_the_cdevent(void **state)
{
	(void)state;
	struct http_response r;
	char *ev = make_event("ctx-id");

	truncate_events();
	assert_int_equal(http_request(srv.port, "POST", "/api/v1/events", TEST_TOKEN_HEADER
				      "Content-Type: application/json\r\nce-specversion: 1.0\r\n"
				      "ce-id: other-id\r\nce-source: /other\r\nce-type: other.type\r\n",
				      ev, strlen(ev), &r), 202);
	http_response_release(&r);
	assert_int_equal(testdb_long(db_url, "SELECT count(*) FROM events WHERE id = 'ctx-id' AND "
					     "source = '/test/ci'", 0, NULL), 1);
	free(ev);
}

struct error_case {
	const char *name, *headers, *body;
	int status;
	const char *pointer; /* expected "pointer" member, or NULL to skip the check */
};

static void rejected_requests_store_nothing(void **state)
{
	(void)state;
	static const char ok_event[] =
		"{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"e1\",\"source\":\"/s\","
		"\"type\":\"dev.cdevents.build.started.0.2.0\",\"timestamp\":\"2026-01-01T00:00:00Z\"},"
		"\"subject\":{\"id\":\"b\",\"content\":{}}}";
	const struct error_case cases[] = {
		{"no token", "Content-Type: application/json\r\n", ok_event, 401, NULL},
		{"wrong token", "Authorization: Bearer nope-nope-nope\r\nContent-Type: application/json\r\n",
		 ok_event, 401, NULL},
		{"media type", TEST_TOKEN_HEADER "Content-Type: text/plain\r\n", ok_event, 415, NULL},
		{"binary xml", TEST_TOKEN_HEADER "Content-Type: application/xml\r\nce-specversion: 1.0\r\n"
		 "ce-id: 1\r\nce-source: /s\r\nce-type: t\r\n", "<a/>", 415, NULL},
		{"broken json", TEST_TOKEN_HEADER "Content-Type: application/json\r\n", "{\"context\":", 400, NULL},
		{"missing context", TEST_TOKEN_HEADER "Content-Type: application/json\r\n",
		 "{\"subject\":{\"id\":\"x\"}}", 400, "/context"},
		{"bad timestamp", TEST_TOKEN_HEADER "Content-Type: application/json\r\n",
		 "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"e1\",\"source\":\"/s\","
		 "\"type\":\"dev.cdevents.build.started.0.2.0\",\"timestamp\":\"yesterday\"},"
		 "\"subject\":{\"id\":\"b\",\"content\":{}}}", 400, "/context/timestamp"},
		{"missing content field", TEST_TOKEN_HEADER "Content-Type: application/json\r\n",
		 "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"e1\",\"source\":\"/s\","
		 "\"type\":\"dev.cdevents.service.deployed.0.3.0\",\"timestamp\":\"2026-01-01T00:00:00Z\"},"
		 "\"subject\":{\"id\":\"b\",\"content\":{\"environment\":{\"id\":\"prod\"}}}}", 400,
		 "/subject/content/artifactId"},
		{"binary without ce-id", TEST_TOKEN_HEADER "Content-Type: application/json\r\n"
		 "ce-specversion: 1.0\r\nce-source: /s\r\nce-type: t\r\n", ok_event, 400, NULL},
		{"bad percent-encoding", TEST_TOKEN_HEADER "Content-Type: application/json\r\n"
		 "ce-specversion: 1.0\r\nce-id: a%zz\r\nce-source: /s\r\nce-type: t\r\n", ok_event, 400, NULL},
		{"structured data not object", TEST_TOKEN_HEADER "Content-Type: application/cloudevents+json\r\n",
		 "{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\",\"data\":\"x\"}", 400, "/data"},
		{"batch item error", TEST_TOKEN_HEADER "Content-Type: application/cloudevents-batch+json\r\n",
		 "[{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\",\"data\":{\"context\":"
		 "{\"specversion\":\"0.5.1\",\"id\":\"ok1\",\"source\":\"/s\",\"type\":\"dev.cdevents.build.started.0.2.0\","
		 "\"timestamp\":\"2026-01-01T00:00:00Z\"},\"subject\":{\"id\":\"b\",\"content\":{}}}},"
		 "{\"specversion\":\"1.0\",\"id\":\"2\",\"source\":\"/s\",\"type\":\"t\",\"data\":{\"context\":{}}}]",
		 400, "/1/data/subject"},
		{"duplicate keys", TEST_TOKEN_HEADER "Content-Type: application/json\r\n",
		 "{\"context\":{\"id\":\"a\",\"id\":\"b\"}}", 400, "/context/id"},
	};

	truncate_events();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct http_response r;
		char pointer[256];
		http_request(srv.port, "POST", "/api/v1/events", cases[i].headers, cases[i].body,
			     strlen(cases[i].body), &r);
		if (r.status != cases[i].status)
			fail_msg("%s: expected %d, got %d: %s", cases[i].name, cases[i].status, r.status, r.body);
		assert_problem(&r, cases[i].status, pointer, sizeof pointer);
		if (cases[i].pointer && strcmp(pointer, cases[i].pointer) != 0)
			fail_msg("%s: pointer \"%s\", expected \"%s\"", cases[i].name, pointer, cases[i].pointer);
		if (cases[i].status == 401)
			assert_non_null(strstr(r.headers, "WWW-Authenticate: Bearer"));
		http_response_release(&r);
	}
	assert_int_equal(count_events(), 0);
}

static void limits_and_methods(void **state)
{
	(void)state;
	struct http_response r;
	char pointer[64];
	struct buf big = BUF_INIT(0), batch = BUF_INIT(0);

	truncate_events();
	buf_puts(&big, "{\"context\":{\"id\":\"");
	for (int i = 0; i < 70000; i++)
		buf_putc(&big, 'x');
	buf_puts(&big, "\"}}");
	http_request(srv.port, "POST", "/api/v1/events", TEST_TOKEN_HEADER
		     "Content-Type: application/json\r\n", big.data, big.len, &r);
	assert_problem(&r, 413, pointer, sizeof pointer);
	http_response_release(&r);

	buf_putc(&batch, '[');
	for (int i = 0; i < 51; i++)
		buf_printf(&batch, "%s{\"specversion\":\"1.0\",\"id\":\"%d\",\"source\":\"/s\",\"type\":\"t\","
			   "\"data\":{}}", i ? "," : "", i);
	buf_putc(&batch, ']');
	http_request(srv.port, "POST", "/api/v1/events", TEST_TOKEN_HEADER
		     "Content-Type: application/cloudevents-batch+json\r\n", batch.data, batch.len, &r);
	assert_problem(&r, 413, pointer, sizeof pointer);
	http_response_release(&r);

	assert_int_equal(http_request(srv.port, "GET", "/api/v1/events", NULL, NULL, 0, &r), 405);
	char allow[32];
	assert_string_equal(http_header(&r, "Allow", allow, sizeof allow), "POST");
	http_response_release(&r);
	assert_int_equal(http_request(srv.port, "PUT", "/healthz", NULL, "", 0, &r), 405);
	http_response_release(&r);
	assert_int_equal(http_request(srv.port, "GET", "/nope", NULL, NULL, 0, &r), 404);
	assert_problem(&r, 404, pointer, sizeof pointer);
	http_response_release(&r);
	assert_int_equal(count_events(), 0);
	buf_release(&big);
	buf_release(&batch);
}

/* Every conformance example (and the custom one) of each release, in each of the four modes. */
static void conformance_examples_in_every_mode(void **state)
{
	(void)state;
	const char *dirs[] = {"cdevents-spec/0.3.0/conformance", "cdevents-spec/0.4.1/conformance",
			      "cdevents-spec/0.5.1/conformance", "cdevents-spec/0.4.1/custom",
			      "cdevents-spec/0.5.1/custom"};
	int posted = 0;

	for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
		char **names;
		size_t n = fixture_list(dirs[d], ".json", &names);
		for (size_t i = 0; i < n; i++) {
			char path[512];
			if (strstr(dirs[d], "custom") && strcmp(names[i], "conformance.json") != 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", dirs[d], names[i]);
			struct fixture f = fixture_load(path);
			for (int m = 0; m < MODE_COUNT; m++) {
				struct http_response r;
				truncate_events();
				int status = post_event(srv.port, (enum post_mode)m, f.data, &r);
				if (status != 202 || reply_count(&r, "accepted") != 1)
					fail_msg("%s in %s mode: %d %s", path, post_mode_names[m], status, r.body);
				http_response_release(&r);
				assert_int_equal(count_events(), 1);
				posted++;
			}
			fixture_release(&f);
		}
		fixture_names_free(names, n);
	}
	/* 39 + 45 + 45 examples and two custom ones, four modes each */
	assert_int_equal(posted, (39 + 45 + 45 + 2) * MODE_COUNT);
}

/* A .req file: header lines, an empty line, then the body. */
static void load_req(const char *name, struct buf *headers, struct fixture *body)
{
	char path[1100];

	snprintf(path, sizeof path, "corpus-requests/%s", name);
	struct fixture f = fixture_load(path);
	const char *sep = strstr(f.data, "\n\n");
	size_t hlen = sep ? (size_t)(sep - f.data) + 1 : f.len;
	const char *b = sep ? sep + 2 : f.data + f.len;
	for (const char *line = f.data; line < f.data + hlen;) {
		const char *nl = memchr(line, '\n', (size_t)(f.data + hlen - line));
		size_t n = nl ? (size_t)(nl - line) : (size_t)(f.data + hlen - line);
		if (n && line[n - 1] == '\r')
			n--;
		if (n)
			buf_printf(headers, "%.*s\r\n", (int)n, line);
		line += (nl ? (size_t)(nl - line) + 1 : n);
	}
	body->len = (size_t)(f.data + f.len - b);
	body->data = malloc(body->len + 1);
	memcpy(body->data, b, body->len);
	body->data[body->len] = '\0';
	fixture_release(&f);
}

/* Replay one corpus row; returns false (after printing why) when the outcome differs. */
static bool replay_row(const char *path, const char *replay, int status, long accepted)
{
	struct buf headers = BUF_INIT(0);
	struct fixture body = {0};
	struct http_response r;
	char pointer[256];

	buf_puts(&headers, TEST_TOKEN_HEADER);
	if (strncmp(replay, "json:", 5) == 0) {
		char rel[1100];
		snprintf(rel, sizeof rel, "cdevents-corpus/%s", path);
		body = fixture_load(rel);
		buf_printf(&headers, "Content-Type: %s\r\n", replay + 5);
	} else {
		load_req(replay + 4, &headers, &body);
	}
	truncate_events();
	http_request(srv.port, "POST", "/api/v1/events", buf_cstr(&headers), body.data, body.len, &r);
	bool ok = r.status == status && (status != 202 || reply_count(&r, "accepted") == accepted);
	if (!ok)
		print_error("corpus %s: expected %d (accepted %ld), got %d: %s\n", path, status,
			    accepted, r.status, r.body);
	else if (status != 202) {
		assert_problem(&r, status, pointer, sizeof pointer);
		assert_int_equal(count_events(), 0);
	} else {
		assert_int_equal(count_events(), accepted);
	}
	http_response_release(&r);
	fixture_release(&body);
	buf_release(&headers);
	return ok;
}

/* Every file of the third-party corpus gets its expected status; rejected ones store nothing. */
static void corpus_files_get_their_expected_outcome(void **state)
{
	(void)state;
	struct fixture tsv = fixture_load("cdevents-corpus/EXPECTED.tsv");
	int rows = 0, accepted_rows = 0, wrong = 0;
	char *save = NULL;

	strtok_r(tsv.data, "\n", &save); /* header */
	for (char *line; (line = strtok_r(NULL, "\n", &save));) {
		char path[512], replay[512], acc[16];
		int status;
		if (sscanf(line, "%511[^\t]\t%511[^\t]\t%d\t%15[^\t]", path, replay, &status, acc) != 4)
			fail_msg("bad EXPECTED.tsv line: %s", line);
		wrong += !replay_row(path, replay, status, strtol(acc, NULL, 10));
		rows++;
		accepted_rows += status == 202;
	}
	fixture_release(&tsv);
	assert_int_equal(wrong, 0);
	/* the manifest covers every corpus file: 395 files, of which 257 are accepted */
	assert_int_equal(rows, 395);
	assert_int_equal(accepted_rows, 257);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(health_endpoints_answer),
		cmocka_unit_test(each_mode_stores_the_event),
		cmocka_unit_test(resent_event_is_a_duplicate),
		cmocka_unit_test(batch_counts_repeats_inside_it),
		cmocka_unit_test(root_path_accepts_events),
		cmocka_unit_test(cloudevent_attributes_lose_to_the_cdevent),
		cmocka_unit_test(rejected_requests_store_nothing),
		cmocka_unit_test(limits_and_methods),
		cmocka_unit_test(conformance_examples_in_every_mode),
		cmocka_unit_test(corpus_files_get_their_expected_outcome),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
