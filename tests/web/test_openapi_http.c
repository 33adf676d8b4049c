/*
 * tests/web/test_openapi_http.c: GET /api/v1/openapi.json through the real binary.
 *
 * The document must be the JSON of web/openapi.json (embedded at build time, so a stale
 * build shows here), declare OpenAPI 3.1.x, and agree with THE route table: every row of
 * web/routes.c (read from the source tree at test time, so a new route without its
 * description fails) has its path and method, and every operation described is a row. Also
 * checked: every local $ref resolves, the repeatable parameters are arrays exploded in form
 * style, ingest requires the bearer scheme, reads may require a read token (bearer or Basic)
 * with a 401 while the probes stay open, and every operation has responses.
 * Label db: the server needs its database to start.
 */
#include <ctype.h>
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

#include "support/fixture.h"
#include "support/http.h"
#include "support/server.h"

static struct test_server srv;
static char *db_url;
static char *served;   /* the body of GET /api/v1/openapi.json */
static cJSON *doc;     /* parsed */

#define MAX_ROUTES 64

struct route_row {
	char method[16], path[256];
	bool read; /* ROUTE_READ: needs a read token when --read-tokens is set */
};

/* The rows of `routes[] = { ... };` in web/routes.c: {"METHOD", "/path", handler}. */
static size_t read_route_table(struct route_row *rows)
{
	struct fixture f;
	size_t n = 0;
	bool inside = false;

	if (fixture_read_path(CDLENS_SOURCE_DIR "/web/routes.c", &f) != 0)
		fail_msg("cannot read %s/web/routes.c", CDLENS_SOURCE_DIR);
	for (char *line = strtok(f.data, "\n"); line; line = strtok(NULL, "\n")) {
		if (strstr(line, "routes[] = {"))
			inside = true;
		else if (inside && strncmp(line, "};", 2) == 0)
			break;
		else if (inside && n < MAX_ROUTES &&
			 sscanf(line, " {\"%15[^\"]\", \"%255[^\"]\"", rows[n].method,
				rows[n].path) == 2)
			rows[n++].read = strstr(line, "ROUTE_READ") != NULL;
	}
	fixture_release(&f);
	return n;
}

static const cJSON *get(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static const char *str(const cJSON *o, const char *name)
{
	return cJSON_GetStringValue(get(o, name));
}

/* "GET" -> "get" into out[16]. */
static const char *lowercase(const char *method, char out[16])
{
	size_t i = 0;

	for (; method[i] && i + 1 < 16; i++)
		out[i] = (char)tolower((unsigned char)method[i]);
	out[i] = '\0';
	return out;
}

static const cJSON *operation(const char *path, const char *method)
{
	char lower[16];

	return get(get(get(doc, "paths"), path), lowercase(method, lower));
}

static void served_equals_source(void **state)
{
	(void)state;
	struct fixture f;

	if (fixture_read_path(CDLENS_SOURCE_DIR "/web/openapi.json", &f) != 0)
		fail_msg("cannot read web/openapi.json");
	assert_int_equal(strlen(served), f.len);
	assert_memory_equal(served, f.data, f.len);
	fixture_release(&f);
}

static void is_openapi_3_1(void **state)
{
	(void)state;
	const char *v = str(doc, "openapi");

	assert_non_null(v);
	assert_true(strncmp(v, "3.1.", 4) == 0);
	assert_non_null(str(get(doc, "info"), "title"));
	assert_non_null(str(get(doc, "info"), "version"));
}

static void every_route_is_described(void **state)
{
	(void)state;
	struct route_row rows[MAX_ROUTES];
	size_t n = read_route_table(rows);

	assert_true(n >= 12); /* the table as of this test, at least */
	for (size_t i = 0; i < n; i++) {
		const cJSON *op = operation(rows[i].path, rows[i].method);
		if (!cJSON_IsObject(op))
			fail_msg("route %s %s is not in web/openapi.json", rows[i].method,
				 rows[i].path);
		if (!cJSON_IsObject(get(op, "responses")))
			fail_msg("%s %s has no responses", rows[i].method, rows[i].path);
	}
}

static bool in_table(const struct route_row *rows, size_t n, const char *path, const char *op)
{
	char lower[16];

	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].path, path) && !strcmp(lowercase(rows[i].method, lower), op))
			return true;
	return false;
}

static void every_operation_is_a_route(void **state)
{
	(void)state;
	static const char *const methods[] = {"get",     "put",  "post",  "delete",
					      "options", "head", "patch", "trace"};
	struct route_row rows[MAX_ROUTES];
	size_t n = read_route_table(rows);
	const cJSON *item;

	cJSON_ArrayForEach(item, get(doc, "paths"))
		for (size_t m = 0; m < sizeof methods / sizeof *methods; m++)
			if (get(item, methods[m]) && !in_table(rows, n, item->string, methods[m]))
				fail_msg("%s %s is described but not routed", methods[m],
					 item->string);
}

/* Resolve a local reference "#/a/b/c" (no ~ escapes are used in our document). */
static const cJSON *resolve(const char *ref)
{
	char copy[256], *save = NULL;
	const cJSON *node = doc;

	if (strncmp(ref, "#/", 2) != 0 || strlen(ref) >= sizeof copy)
		return NULL;
	snprintf(copy, sizeof copy, "%s", ref + 2);
	for (char *p = strtok_r(copy, "/", &save); p && node; p = strtok_r(NULL, "/", &save))
		node = get(node, p);
	return node;
}

static size_t check_refs(const cJSON *node)
{
	size_t n = 0;
	const cJSON *child;

	if (node->string && strcmp(node->string, "$ref") == 0) {
		if (!cJSON_IsString(node) || !resolve(node->valuestring))
			fail_msg("unresolved $ref %s", cJSON_GetStringValue(node));
		return 1;
	}
	cJSON_ArrayForEach(child, node)
		n += check_refs(child);
	return n;
}

static void refs_resolve(void **state)
{
	(void)state;
	assert_true(check_refs(doc) > 50);
}

static void repeatable_parameters_are_arrays(void **state)
{
	(void)state;
	static const char *const names[] = {"service", "environment", "pipeline"};

	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char ref[64];
		snprintf(ref, sizeof ref, "#/components/parameters/%s", names[i]);
		const cJSON *p = resolve(ref);
		assert_non_null(p);
		assert_string_equal(str(p, "in"), "query");
		assert_string_equal(str(p, "style"), "form");
		assert_true(cJSON_IsTrue(get(p, "explode")));
		assert_string_equal(str(get(p, "schema"), "type"), "array");
	}
}

static void ingest_requires_bearer(void **state)
{
	(void)state;
	static const char *const paths[] = {"/api/v1/events", "/"};

	for (size_t i = 0; i < 2; i++) {
		const cJSON *sec = get(operation(paths[i], "POST"), "security");
		const cJSON *first = cJSON_GetArrayItem(sec, 0);
		assert_true(cJSON_IsObject(first) && first->child);
		char ref[128];
		snprintf(ref, sizeof ref, "#/components/securitySchemes/%s", first->child->string);
		const cJSON *scheme = resolve(ref);
		assert_non_null(scheme);
		assert_string_equal(str(scheme, "type"), "http");
		assert_string_equal(str(scheme, "scheme"), "bearer");
	}
}

/* The scheme named by the only member of a security requirement object. */
static const cJSON *scheme_of(const cJSON *requirement)
{
	char ref[128];

	assert_true(cJSON_IsObject(requirement) && requirement->child);
	snprintf(ref, sizeof ref, "#/components/securitySchemes/%s", requirement->child->string);
	return resolve(ref);
}

/* Reads: open, or a read token as bearer or Basic password (the document-wide requirement,
 * which every ROUTE_READ row keeps, with a 401); the probes are open whatever is set. */
static void reads_may_require_a_read_token(void **state)
{
	(void)state;
	const cJSON *sec = get(doc, "security");
	struct route_row rows[MAX_ROUTES];
	size_t n = read_route_table(rows), nread = 0;

	assert_int_equal(cJSON_GetArraySize(sec), 3);
	assert_null(cJSON_GetArrayItem(sec, 0)->child); /* {}: no token (the default) */
	assert_string_equal(str(scheme_of(cJSON_GetArrayItem(sec, 1)), "scheme"), "bearer");
	assert_string_equal(str(scheme_of(cJSON_GetArrayItem(sec, 2)), "scheme"), "basic");
	for (size_t i = 0; i < n; i++) {
		const cJSON *op = operation(rows[i].path, rows[i].method);
		const cJSON *own = get(op, "security");
		if (rows[i].read) {
			nread++;
			if (own || !get(get(op, "responses"), "401"))
				fail_msg("%s %s: reads need the document's security and a 401",
					 rows[i].method, rows[i].path);
		} else if (!strcmp(rows[i].method, "GET") &&
			   !(cJSON_IsArray(own) && cJSON_GetArraySize(own) == 0)) {
			fail_msg("%s %s is open: \"security\": [] expected", rows[i].method,
				 rows[i].path);
		}
	}
	assert_true(nread >= 10);
	assert_true(cJSON_IsArray(get(operation("/healthz", "GET"), "security")));
	assert_true(cJSON_IsArray(get(operation("/readyz", "GET"), "security")));
}

static int setup(void **state)
{
	(void)state;
	struct http_response r = {0};
	char ct[64];

	db_url = test_server_open(&srv, "openapi", NULL);
	assert_int_equal(http_request(srv.port, "GET", "/api/v1/openapi.json", NULL, NULL, 0, &r),
			 200);
	assert_non_null(http_header(&r, "Content-Type", ct, sizeof ct));
	assert_string_equal(ct, "application/json");
	served = strdup(r.body);
	doc = cJSON_Parse(served);
	if (!doc)
		fail_msg("GET /api/v1/openapi.json is not JSON near: %.60s", cJSON_GetErrorPtr());
	http_response_release(&r);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cJSON_Delete(doc);
	free(served);
	test_server_close(&srv, &db_url);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(served_equals_source),
		cmocka_unit_test(is_openapi_3_1),
		cmocka_unit_test(every_route_is_described),
		cmocka_unit_test(every_operation_is_a_route),
		cmocka_unit_test(refs_resolve),
		cmocka_unit_test(repeatable_parameters_are_arrays),
		cmocka_unit_test(ingest_requires_bearer),
		cmocka_unit_test(reads_may_require_a_read_token),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
