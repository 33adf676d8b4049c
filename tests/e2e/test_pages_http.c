/*
 * tests/e2e/test_pages_http.c: how the dashboard is served, over HTTP from the real binary
 * (the browser test, test_pages, checks what the pages show).
 *
 * Checked: every page path answers its shell with that page's script and no inline script,
 * with the security headers (CSP, no framing, no referrer, nosniff) and an ETag that a
 * conditional GET turns into 304; HEAD matches GET; every asset a page names is served with
 * its content type; Chart.js is Debian's file byte for byte, with its licence; HTML is not
 * reachable under /static/, nor is anything outside the embedded set; a page path refuses
 * other methods with 405 and Allow; API replies still say no-store.
 * Label db: the server needs its database to start.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "support/fixture.h"
#include "support/http.h"
#include "support/server.h"

static struct test_server srv;
static char *db_url;

static const struct {
	const char *path, *script;
} pages[] = {
	{"/", "overview.js"},
	{"/lead-time", "lead-time.js"},
	{"/deployments", "deployments.js"},
	{"/pipelines", "pipelines.js"},
	{"/trace?change=1&repository=r", "trace.js"},
};

#define CHART_JS "/usr/share/javascript/chart.js/chart.min.js"

static int setup(void **state)
{
	(void)state;
	db_url = test_server_open(&srv, "pages_http", NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_server_close(&srv, &db_url);
	return 0;
}

static void get(const char *path, const char *headers, struct http_response *r)
{
	http_request(srv.port, "GET", path, headers, NULL, 0, r);
}

static void assert_header(const struct http_response *r, const char *name, const char *want)
{
	char v[512];

	if (!http_header(r, name, v, sizeof v))
		fail_msg("no %s header", name);
	if (strcmp(v, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", name, v, want);
}

static void security_headers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
		struct http_response r = {0};
		get(pages[i].path, NULL, &r);
		assert_int_equal(r.status, 200);
		assert_header(&r, "Content-Type", "text/html; charset=utf-8");
		assert_header(&r, "Content-Security-Policy",
			      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' "
			      "data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
			      "frame-ancestors 'none'");
		assert_header(&r, "X-Frame-Options", "DENY");
		assert_header(&r, "Referrer-Policy", "no-referrer");
		assert_header(&r, "X-Content-Type-Options", "nosniff");
		assert_header(&r, "Cache-Control", "no-cache");
		http_response_release(&r);
	}
}

/* Each page is the shell with its own script, and every <script> is an external file. */
static void shells(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
		struct http_response r = {0};
		char want[128];
		get(pages[i].path, NULL, &r);
		assert_int_equal(r.status, 200);
		snprintf(want, sizeof want, "<script defer src=\"/static/%s\"></script>",
			 pages[i].script);
		assert_non_null(strstr(r.body, want));
		assert_null(strstr(r.body, "{{"));
		for (const char *s = strstr(r.body, "<script"); s; s = strstr(s + 1, "<script"))
			assert_int_equal(strncmp(s, "<script defer src=\"/static/", 27), 0);
		assert_null(strstr(r.body, " on")); /* no inline event handler attributes */
		http_response_release(&r);
	}
}

/* What a page links (src= and href= under /static/) is served, with its type. */
static void assets(void **state)
{
	(void)state;
	struct http_response page = {0};
	size_t seen = 0;

	get("/", NULL, &page);
	assert_int_equal(page.status, 200);
	for (const char *p = strstr(page.body, "\"/static/"); p; p = strstr(p + 1, "\"/static/")) {
		char path[128], type[128];
		struct http_response r = {0};
		assert_int_equal(sscanf(p, "\"%127[^\"]\"", path), 1);
		get(path, NULL, &r);
		if (r.status != 200)
			fail_msg("%s: %d", path, r.status);
		assert_non_null(http_header(&r, "Content-Type", type, sizeof type));
		const char *ext = strrchr(path, '.');
		if (strcmp(ext, ".js") == 0)
			assert_string_equal(type, "text/javascript; charset=utf-8");
		else if (strcmp(ext, ".css") == 0)
			assert_string_equal(type, "text/css; charset=utf-8");
		else
			fail_msg("unexpected asset %s", path);
		assert_true(r.body_len > 100);
		http_response_release(&r);
		seen++;
	}
	assert_int_equal(seen, 4); /* style.css, chart.min.js, common.js, overview.js */
	http_response_release(&page);
}

static void chart_js_is_debians(void **state)
{
	(void)state;
	struct fixture f;
	struct http_response r = {0};

	assert_int_equal(fixture_read_path(CHART_JS, &f), 0);
	get("/static/chart.min.js", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, f.len);
	assert_memory_equal(r.body, f.data, f.len);
	fixture_release(&f);
	http_response_release(&r);

	get("/static/chart.js.LICENSE.txt", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
	assert_non_null(strstr(r.body, "License: Expat"));
	assert_non_null(strstr(r.body, "Chart.js"));
	http_response_release(&r);
}

static void conditional_get(void **state)
{
	(void)state;
	struct http_response r = {0}, again = {0}, other = {0};
	char etag[64], headers[128];

	get("/static/common.js", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(http_header(&r, "ETag", etag, sizeof etag));
	assert_int_equal(etag[0], '"');

	snprintf(headers, sizeof headers, "If-None-Match: %s\r\n", etag);
	get("/static/common.js", headers, &again);
	assert_int_equal(again.status, 304);
	assert_int_equal(again.body_len, 0);
	assert_int_equal(strncmp(again.headers, "HTTP/1.1 304 Not Modified\r\n", 27), 0);
	char length[32];
	assert_null(http_header(&again, "Content-Length", length, sizeof length));
	assert_header(&again, "ETag", etag);
	http_response_release(&again);

	get("/static/common.js", "If-None-Match: \"0000000000000000\"\r\n", &other);
	assert_int_equal(other.status, 200);
	assert_int_equal(other.body_len, r.body_len);
	http_response_release(&other);

	/* pages differ only in their script: their ETags differ too */
	struct http_response a = {0}, b = {0};
	char ea[64], eb[64];
	get("/lead-time", NULL, &a);
	get("/deployments", NULL, &b);
	assert_non_null(http_header(&a, "ETag", ea, sizeof ea));
	assert_non_null(http_header(&b, "ETag", eb, sizeof eb));
	assert_string_not_equal(ea, eb);
	http_response_release(&a);
	http_response_release(&b);
	http_response_release(&r);
}

static void head_matches_get(void **state)
{
	(void)state;
	struct http_response g = {0}, h = {0};
	char lg[32], lh[32];

	get("/pipelines", NULL, &g);
	http_request(srv.port, "HEAD", "/pipelines", NULL, NULL, 0, &h);
	assert_int_equal(h.status, 200);
	assert_int_equal(h.body_len, 0);
	assert_non_null(http_header(&g, "Content-Length", lg, sizeof lg));
	assert_non_null(http_header(&h, "Content-Length", lh, sizeof lh));
	assert_string_equal(lg, lh);
	assert_int_equal(strtoul(lg, NULL, 10), g.body_len);
	http_response_release(&g);
	http_response_release(&h);
}

static void not_served(void **state)
{
	(void)state;
	static const char *const paths[] = {
		"/static/page.html", "/static/", "/static/nope.js", "/static/../web/pages.c",
		"/static/%2e%2e/CMakeLists.txt", "/index.html", "/static/common.js/", "/lead-time/x",
	};
	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
		struct http_response r = {0};
		get(paths[i], NULL, &r);
		if (r.status != 404)
			fail_msg("%s: %d, want 404", paths[i], r.status);
		char type[64];
		assert_non_null(http_header(&r, "Content-Type", type, sizeof type));
		assert_string_equal(type, "application/problem+json");
		http_response_release(&r);
	}
}

static void other_methods(void **state)
{
	(void)state;
	struct http_response r = {0};

	http_request(srv.port, "POST", "/lead-time", "Content-Type: application/json\r\n", "{}", 2,
		     &r);
	assert_int_equal(r.status, 405);
	assert_header(&r, "Allow", "GET, HEAD");
	http_response_release(&r);

	/* / is also the ingest endpoint: both are allowed */
	http_request(srv.port, "DELETE", "/", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 405);
	assert_header(&r, "Allow", "POST, GET, HEAD");
	http_response_release(&r);
}

static void api_is_not_cached(void **state)
{
	(void)state;
	struct http_response r = {0};

	get("/api/v1/dora", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Cache-Control", "no-store");
	http_response_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(security_headers), cmocka_unit_test(shells),
		cmocka_unit_test(assets),           cmocka_unit_test(chart_js_is_debians),
		cmocka_unit_test(conditional_get),  cmocka_unit_test(head_matches_get),
		cmocka_unit_test(not_served),       cmocka_unit_test(other_methods),
		cmocka_unit_test(api_is_not_cached),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
