/*
 * tests/web/test_access_http.c: who may do what, through the real binary and PostgreSQL
 * (label db). See docs/SECURITY.md.
 *
 * One server with two ingest tokens (ci, cd) and two read tokens (dash, prom):
 * - each stored event carries the name of the token that sent it (checked in SQL);
 * - ingest takes only ingest secrets as Bearer, and nothing with an Origin (a web page's
 *   request, 403, also without tokens); reads (every API path, /metrics, the
 *   OpenAPI document, every page and asset, GET and HEAD) take only read secrets, as Bearer
 *   or as the password of HTTP Basic, and otherwise answer 401 with both challenges and a
 *   problem body; /healthz and /readyz stay open;
 * - every reply carries the security headers once (a page its own CSP, not two), civetweb's
 *   answer to an unparsable request included.
 * Other servers: --insecure-no-auth says so loudly (even with --log-level=error) and leaves
 * reads open by default; bad options stop the server without printing a secret.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "support/fixture.h"
#include "support/http.h"
#include "support/server.h"
#include "support/testdb.h"

static char *db_url;
static struct test_server srv;

#define INGEST_TOKENS "--ingest-tokens=ci:ingest-secret-ci,cd:ingest-secret-cd"
#define READ_TOKENS "--read-tokens=dash:read-secret-dash,prom:read-secret-prom"

#define AUTH(value) "Authorization: " value "\r\n"
#define INGEST_CI AUTH("Bearer ingest-secret-ci")
#define INGEST_CD AUTH("Bearer ingest-secret-cd")
#define READ_DASH AUTH("Bearer read-secret-dash")
#define BASIC_PROM AUTH("Basic YW55b25lOnJlYWQtc2VjcmV0LXByb20=") /* anyone:read-secret-prom */
#define BASIC_INGEST AUTH("Basic eDppbmdlc3Qtc2VjcmV0LWNp")         /* x:ingest-secret-ci */
#define BASIC_NO_COLON AUTH("Basic cmVhZC1zZWNyZXQtZGFzaA==")       /* read-secret-dash */
#define BASIC_SHORT AUTH("Basic ZGFzaDpyZWFkLXNlY3JldC1kYXM=")      /* dash:read-secret-das */
#define JSON "Content-Type: application/json\r\n"

static const char event_template[] =
	"{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"%s\",\"source\":\"/test/ci\","
	"\"type\":\"dev.cdevents.pipelinerun.queued.0.3.0\","
	"\"timestamp\":\"2026-01-02T03:04:05Z\"},"
	"\"subject\":{\"id\":\"run-%s\",\"source\":\"/test/ci\",\"content\":{"
	"\"pipelineName\":\"build\",\"uri\":\"https://ci.example/run\"}}}";

/* POST a bare CDEvent with id `id` and the given extra headers; returns the status. */
static int post(struct test_server *s, const char *id, const char *headers)
{
	char body[1024], all[512];
	struct http_response r;

	snprintf(body, sizeof body, event_template, id, id);
	snprintf(all, sizeof all, "%s%s", JSON, headers);
	int status = http_request(s->port, "POST", "/api/v1/events", all, body, strlen(body), &r);
	http_response_release(&r);
	return status;
}

static char *producer_of(const char *id)
{
	return testdb_scalar(db_url,
			     "SELECT coalesce(producer, '(null)') FROM events WHERE id = $1", 1,
			     (const char *const[]){id});
}

/* How many header lines named `name` the response has; the first one's value in v. */
static int header_count(const struct http_response *r, const char *name, char *v, size_t cap)
{
	int n = 0;
	size_t len = strlen(name);

	for (const char *p = strstr(r->headers, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2;
		if (strncasecmp(line, name, len) != 0 || line[len] != ':')
			continue;
		const char *value = line + len + 1 + strspn(line + len + 1, " ");
		if (n++ == 0 && v)
			snprintf(v, cap, "%.*s", (int)strcspn(value, "\r"), value);
	}
	return n;
}

static int setup(void **state)
{
	(void)state;
	const char *const args[] = {INGEST_TOKENS, READ_TOKENS, "--log-level=warn", NULL};

	db_url = test_server_open(&srv, "access_http", args);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_server_close(&srv, &db_url);
	return 0;
}

/* Two producers, two tokens: each event row names the token it came with. */
static void producer_is_the_token_name(void **state)
{
	(void)state;
	assert_int_equal(post(&srv, "from-ci", INGEST_CI), 202);
	assert_int_equal(post(&srv, "from-cd", INGEST_CD), 202);
	assert_int_equal(post(&srv, "from-ci-lower", AUTH("bearer ingest-secret-ci")), 202);
	char *ci = producer_of("from-ci"), *cd = producer_of("from-cd");
	char *lower = producer_of("from-ci-lower");
	assert_string_equal(ci, "ci");
	assert_string_equal(cd, "cd");
	assert_string_equal(lower, "ci");
	free(ci);
	free(cd);
	free(lower);
	/* a re-sent event keeps the producer of its first arrival */
	assert_int_equal(post(&srv, "from-ci", INGEST_CD), 202);
	ci = producer_of("from-ci");
	assert_string_equal(ci, "ci");
	free(ci);
}

/* Ingest takes an ingest secret, exactly, as Bearer; nothing else stores anything. */
static void ingest_refuses_other_credentials(void **state)
{
	(void)state;
	static const struct {
		const char *headers, *detail;
	} cases[] = {
		{"", "missing bearer token"},
		{READ_DASH, "invalid bearer token"},         /* a read token does not ingest */
		{BASIC_INGEST, "missing bearer token"},      /* no Basic for ingest */
		{AUTH("Bearer ingest-secret-c"), "invalid bearer token"},  /* a prefix */
		{AUTH("Bearer ingest-secret-cii"), "invalid bearer token"}, /* one byte more */
		{AUTH("Bearer INGEST-SECRET-CI"), "invalid bearer token"},
		{AUTH("Bearer "), "invalid bearer token"},
		{AUTH("Bearer ingest-secret-ci,ingest-secret-cd"), "invalid bearer token"},
	};
	long before = testdb_long(db_url, "SELECT count(*) FROM events", 0, NULL);

	/* a good token from a web page (Origin): 403, whatever the credentials */
	assert_int_equal(post(&srv, "refused", INGEST_CI "Origin: https://ci.example\r\n"), 403);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char body[512], all[256], v[128];
		struct http_response r;
		snprintf(body, sizeof body, event_template, "refused", "refused");
		snprintf(all, sizeof all, "%s%s", JSON, cases[i].headers);
		int status = http_request(srv.port, "POST", "/api/v1/events", all, body,
					  strlen(body), &r);
		if (status != 401)
			fail_msg("case %zu: status %d", i, status);
		assert_int_equal(header_count(&r, "WWW-Authenticate", v, sizeof v), 1);
		assert_string_equal(v, "Bearer realm=\"cdlens\"");
		assert_non_null(strstr(r.body, cases[i].detail));
		assert_non_null(strstr(r.body, "\"status\":401"));
		http_response_release(&r);
	}
	assert_int_equal(testdb_long(db_url, "SELECT count(*) FROM events", 0, NULL), before);
}

/* Every read path, its status for a reader (200, or 404 for a query that finds nothing). */
static const struct {
	const char *path;
	int status;
} reads[] = {
	{"/api/v1/dora", 200},
	{"/api/v1/dora/services", 200},
	{"/api/v1/deployments", 200},
	{"/api/v1/deployments?format=csv", 200},
	{"/api/v1/changes", 200},
	{"/api/v1/incidents", 200},
	{"/api/v1/trace?chain=none", 404},
	{"/api/v1/pipeline-runs", 200},
	{"/api/v1/pipeline-runs/run?id=run-from-ci&source=/test/ci", 200},
	{"/api/v1/openapi.json", 200},
	{"/metrics", 200},
	{"/", 200},
	{"/lead-time", 200},
	{"/deployments", 200},
	{"/pipelines", 200},
	{"/trace", 200},
	{"/static/common.js", 200},
	{"/static/style.css", 200},
	{"/static/chart.min.js", 200},
};

static void assert_read_refused(const char *method, const char *path, const char *headers,
				const char *detail)
{
	char v[128];
	struct http_response r;

	if (http_request(srv.port, method, path, headers, NULL, 0, &r) != 401)
		fail_msg("%s %s with \"%s\": status %d", method, path, headers, r.status);
	/* both challenges: Bearer for scripts, Basic so that a browser asks for the token */
	assert_int_equal(header_count(&r, "WWW-Authenticate", v, sizeof v), 2);
	assert_non_null(strstr(r.headers, "WWW-Authenticate: Bearer realm=\"cdlens read\"\r\n"));
	assert_non_null(strstr(r.headers, "WWW-Authenticate: Basic realm=\"cdlens read\", "
					  "charset=\"UTF-8\"\r\n"));
	assert_int_equal(header_count(&r, "Content-Type", v, sizeof v), 1);
	assert_string_equal(v, "application/problem+json");
	if (strcmp(method, "GET") == 0) {
		assert_non_null(strstr(r.body, "\"status\":401"));
		assert_non_null(strstr(r.body, detail));
	} else {
		assert_int_equal(r.body_len, 0);
	}
	http_response_release(&r);
}

static void assert_read_allowed(const char *method, const char *path, const char *headers,
				int want)
{
	struct http_response r;

	if (http_request(srv.port, method, path, headers, NULL, 0, &r) != want)
		fail_msg("%s %s with \"%s\": status %d, want %d", method, path, headers, r.status,
			 want);
	http_response_release(&r);
}

static void reads_need_a_read_token(void **state)
{
	(void)state;
	static const char *const methods[] = {"GET", "HEAD"};

	assert_int_equal(post(&srv, "from-ci", INGEST_CI), 202); /* the run a path names */
	test_server_wait_correlated(&srv, 30);
	for (size_t i = 0; i < sizeof reads / sizeof *reads; i++) {
		for (size_t m = 0; m < 2; m++) {
			const char *p = reads[i].path, *meth = methods[m];
			assert_read_refused(meth, p, NULL, "missing read token");
			assert_read_refused(meth, p, INGEST_CI, "invalid read token");
			assert_read_refused(meth, p, BASIC_INGEST, "invalid read token");
			assert_read_refused(meth, p, BASIC_NO_COLON, "missing read token");
			assert_read_refused(meth, p, BASIC_SHORT, "invalid read token");
			assert_read_refused(meth, p, AUTH("Basic !!!"), "missing read token");
			assert_read_refused(meth, p, AUTH("Token read-secret-dash"),
					    "missing read token");
			assert_read_allowed(meth, p, READ_DASH, reads[i].status);
			assert_read_allowed(meth, p, BASIC_PROM, reads[i].status);
			assert_read_allowed(meth, p, AUTH("BEARER read-secret-prom"),
					    reads[i].status);
		}
	}
}

/* One request and the status it must get. */
struct call {
	const char *method, *path, *headers;
	int status;
};

/* Send c; fails the test unless it gets c->status. The response is in *r (release it). */
static void send_call(const struct call *c, struct http_response *r)
{
	if (http_request(srv.port, c->method, c->path, c->headers, NULL, 0, r) != c->status)
		fail_msg("%s %s: status %d, want %d", c->method, c->path, r->status, c->status);
}

/* Probes need nothing; paths that are not there say so without asking for a token; a
 * reader cannot post to a read path (405), nor ingest (401, above). */
static void probes_stay_open(void **state)
{
	(void)state;
	static const struct call calls[] = {
		{"GET", "/healthz", NULL, 200},
		{"GET", "/readyz", NULL, 200},
		{"HEAD", "/readyz", NULL, 200},
		{"GET", "/nothing-here", NULL, 404},
		{"GET", "/static/nothing.js", NULL, 404},
		{"POST", "/api/v1/dora", READ_DASH, 405},
	};

	for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
		struct http_response r;
		send_call(&calls[i], &r);
		assert_int_equal(header_count(&r, "WWW-Authenticate", NULL, 0), 0);
		http_response_release(&r);
	}
}

static void assert_security_headers(const struct http_response *r, const char *csp)
{
	char v[512];

	assert_int_equal(header_count(r, "Content-Security-Policy", v, sizeof v), 1);
	if (strcmp(v, csp) != 0)
		fail_msg("CSP \"%s\", want \"%s\"", v, csp);
	assert_int_equal(header_count(r, "X-Frame-Options", v, sizeof v), 1);
	assert_string_equal(v, "DENY");
	assert_int_equal(header_count(r, "Referrer-Policy", v, sizeof v), 1);
	assert_string_equal(v, "no-referrer");
	assert_int_equal(header_count(r, "X-Content-Type-Options", v, sizeof v), 1);
	assert_string_equal(v, "nosniff");
}

/* API replies of every kind carry a CSP that allows nothing, no framing and no referrer;
 * a page carries its own CSP instead, once. */
static void security_headers_on_every_reply(void **state)
{
	(void)state;
	static const char api_csp[] = "default-src 'none'; frame-ancestors 'none'";
	static const struct call api[] = {
		{"GET", "/api/v1/dora", READ_DASH, 200},
		{"GET", "/api/v1/changes?format=csv", READ_DASH, 200},
		{"GET", "/api/v1/openapi.json", READ_DASH, 200},
		{"GET", "/metrics", READ_DASH, 200},
		{"GET", "/api/v1/dora", NULL, 401},
		{"GET", "/api/v1/dora?bucket=year", READ_DASH, 400},
		{"GET", "/api/v1/trace?chain=none", READ_DASH, 404},
		{"DELETE", "/api/v1/dora", READ_DASH, 405},
		{"GET", "/healthz", NULL, 200},
		{"HEAD", "/readyz", NULL, 200},
		{"POST", "/api/v1/events", JSON, 401},
	};
	struct http_response r;

	for (size_t i = 0; i < sizeof api / sizeof *api; i++) {
		send_call(&api[i], &r);
		assert_security_headers(&r, api_csp);
		http_response_release(&r);
	}
	send_call(&(struct call){"GET", "/", READ_DASH, 200}, &r);
	char v[512];
	assert_int_equal(header_count(&r, "Content-Security-Policy", v, sizeof v), 1);
	assert_non_null(strstr(v, "script-src 'self'"));
	assert_non_null(strstr(v, "frame-ancestors 'none'"));
	assert_security_headers(&r, v);
	http_response_release(&r);
	/* civetweb's own answer to a request it cannot parse */
	static const char garbage[] = "GARBAGE\r\n\r\n";
	assert_int_equal(http_raw(srv.port, garbage, sizeof garbage - 1, &r), 400);
	assert_security_headers(&r, api_csp);
	http_response_release(&r);
	/* a 202 too */
	char body[1024];
	snprintf(body, sizeof body, event_template, "headers", "headers");
	assert_int_equal(http_request(srv.port, "POST", "/api/v1/events", JSON INGEST_CI, body,
				      strlen(body), &r), 202);
	assert_security_headers(&r, api_csp);
	http_response_release(&r);
}

static char *log_of(const struct test_server *s)
{
	struct fixture f;

	if (fixture_read_path(s->log_path, &f) != 0)
		fail_msg("cannot read %s", s->log_path);
	return f.data;
}

/* --insecure-no-auth is announced even at --log-level=error, and reads are open by default. */
static void insecure_no_auth_is_loud(void **state)
{
	(void)state;
	struct test_server open;
	struct http_response r;

	test_server_start(&open, db_url,
			  (const char *const[]){"--insecure-no-auth", "--log-level=error",
						 "--correlate=false", NULL}); /* srv correlates */
	char *log = log_of(&open);
	assert_non_null(strstr(log, " warn INSECURE: --insecure-no-auth is set"));
	assert_non_null(strstr(log, "ANYONE who can reach 127.0.0.1:"));
	assert_non_null(strstr(log, "!!!!!!!!!!!!!!!!!!!!"));
	free(log);
	assert_int_equal(post(&open, "anonymous", ""), 202);
	char *producer = producer_of("anonymous");
	assert_string_equal(producer, "(null)");
	free(producer);
	/* but not from a web page: what a page can make a browser send without asking, a
	 * text/plain body with its Origin, is refused, and nothing is stored */
	char body[1024];
	snprintf(body, sizeof body, event_template, "from-a-page", "from-a-page");
	assert_int_equal(http_request(open.port, "POST", "/api/v1/events",
				      "Content-Type: text/plain\r\nOrigin: https://evil.example\r\n",
				      body, strlen(body), &r), 403);
	assert_non_null(strstr(r.body, "ingest takes no requests from web pages"));
	http_response_release(&r);
	assert_int_equal(post(&open, "from-a-page", "Origin: null\r\n"), 403);
	assert_int_equal(testdb_long(db_url, "SELECT count(*) FROM events WHERE id = 'from-a-page'",
				     0, NULL), 0);
	assert_int_equal(http_request(open.port, "GET", "/api/v1/dora", NULL, NULL, 0, &r), 200);
	http_response_release(&r);
	assert_int_equal(http_request(open.port, "GET", "/", NULL, NULL, 0, &r), 200);
	http_response_release(&r);
	assert_int_equal(test_server_stop(&open), 0);
	/* the server with tokens said nothing of the kind */
	log = log_of(&srv);
	assert_null(strstr(log, "INSECURE"));
	free(log);
}

#define MISTYPED                                                                           \
	"unknown option \"--ingest-token\" (did you mean --ingest-tokens?) (its value is not "  \
	"shown)"

/* A mistyped or malformed token option stops the server, and its secret is nowhere in what
 * it printed. */
static void bad_options_hide_secrets(void **state)
{
	(void)state;
	static const struct {
		const char *env; /* CDLENS_READ_TOKENS, or NULL */
		const char *args[3];
		const char *says;
	} cases[] = {
		{NULL, {"--ingest-token=ci:s3cret-value-1"}, MISTYPED},
		{NULL, {"--ingest-token", "ci:s3cret-value-1"}, MISTYPED},
		{NULL, {"--read-token=dash:s3cret-value-1"}, "(did you mean --read-tokens?)"},
		{NULL, {"--ingest-tokens=ci:s3cret-value-1,s3cret-value-2"},
		 "--ingest-tokens: each entry must be NAME:SECRET"},
		{NULL, {"--read-tokens", "dash=s3cret-value-1"},
		 "--read-tokens: each entry must be NAME:SECRET"},
		{"x:s3cret-value-1,short:s3cret", {NULL}, "--read-tokens: each entry must be"},
		{NULL, {"--ingest-tokens=ci:s3cret-value-1", "--read-tokens=dash:s3cret-value-1"},
		 "tokens \"ci\" and \"dash\" have the same secret"},
		{NULL, {"--read-tokens=a:s3cret-value-1,b:s3cret-value-1"},
		 "tokens \"a\" and \"b\" have the same secret"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct test_server bad;
		const char *args[4] = {cases[i].args[0], cases[i].args[1], cases[i].args[2], NULL};
		if (cases[i].env)
			setenv("CDLENS_READ_TOKENS", cases[i].env, 1);
		test_server_spawn(&bad, db_url, args);
		int status = test_server_wait_exit(&bad, 30);
		unsetenv("CDLENS_READ_TOKENS");
		char *log = log_of(&bad);
		if (status != 1)
			fail_msg("case %zu: exit status %d; log: %s", i, status, log);
		if (!strstr(log, cases[i].says))
			fail_msg("case %zu: no \"%s\" in: %s", i, cases[i].says, log);
		if (strstr(log, "s3cret"))
			fail_msg("case %zu: the secret was printed: %s", i, log);
		free(log);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(producer_is_the_token_name),
		cmocka_unit_test(ingest_refuses_other_credentials),
		cmocka_unit_test(reads_need_a_read_token),
		cmocka_unit_test(probes_stay_open),
		cmocka_unit_test(security_headers_on_every_reply),
		cmocka_unit_test(insecure_no_auth_is_loud),
		cmocka_unit_test(bad_options_hide_secrets),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
