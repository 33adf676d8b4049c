/*
 * tests/web/test_hostile_http.c: hostile input against the real binary and a private
 * PostgreSQL (label db; issue 6).
 *
 * Every request of tests/data/hostile/ (INDEX.md: the format, and each case's category and
 * expected status) and every generated case (wrong JSON types in every checked field of
 * CDEvents and CloudEvents, bodies and batches over the limits, 10 000-deep nesting, huge
 * strings and numbers) must get:
 *   - a 4xx (the one INDEX.md names), and exactly one response on the connection, so nothing
 *     sent after a refused request's end is ever read as another request;
 *   - an application/problem+json body that is valid JSON (json_check(), as strict as
 *     PostgreSQL) with type, status (the HTTP status) and title;
 *   - no change to the events table, and a server that still runs.
 * At the end the table holds exactly the rows (and checksum) it had before the corpus, the
 * server is healthy, stops with status 0 and its log has no sanitizer report (ASan builds).
 * When you add a file to tests/data/hostile/: add its row to INDEX.md (the test fails on a
 * file without a row and on a row without a file).
 */
#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "ingest/cdevents_types.h"
#include "ingest/json_check.h"
#include "support/fixture.h"
#include "support/http.h"
#include "support/server.h"
#include "support/testdb.h"
#include "web/ingest_helpers.h"

#define CASES_MIN 200
#define MAX_BODY (1 << 20) /* the server's default --max-body */
#define MAX_BATCH "50"
#define TOKEN TEST_TOKEN_HEADER /* support/server.h: the test server's ingest token */
#define HTTP_LAYER "request refused by the HTTP layer" /* civetweb's own answers */

static char *db_url;
static struct test_server srv;
static char *baseline; /* count and checksum of the events table before the corpus */
static long baseline_count;

static struct {
	int files, generated, http_layer;
} tally;

static const char checksum_sql[] =
	"SELECT count(*) || ':' || md5(coalesce(string_agg(seq || '|' || source || '|' || id ||"
	" '|' || raw::text, ',' ORDER BY seq), '')) FROM events";

static long count_events(void)
{
	return testdb_long(db_url, "SELECT count(*) FROM events", 0, NULL);
}

/* ---- one exchange ---- */

struct answer {
	struct buf raw; /* every byte the server sent */
	int status;     /* 0: no status line */
	const char *body;
	size_t body_len;
	long content_length; /* -1: none */
};

static const char *header_in(const struct answer *a, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);
	const char *end = strstr(buf_cstr(&a->raw), "\r\n\r\n");

	for (const char *p = strstr(buf_cstr(&a->raw), "\r\n"); p && end && p < end;
	     p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
			const char *v = p + 3 + n + strspn(p + 3 + n, " ");
			snprintf(out, cap, "%.*s", (int)strcspn(v, "\r\n"), v);
			return out;
		}
	}
	return NULL;
}

/* Send `bytes`, close the sending side, read until the server closes. */
static void exchange(const char *bytes, size_t len, struct answer *a)
{
	char chunk[65536], cl[32];
	int fd = http_open(srv.port);
	ssize_t n;

	*a = (struct answer){.raw = BUF_INIT(0), .content_length = -1};
	assert_true(fd >= 0);
	http_send_all(fd, bytes, len); /* the server may close before it has read everything */
	shutdown(fd, SHUT_WR);
	while ((n = recv(fd, chunk, sizeof chunk, 0)) > 0)
		buf_append(&a->raw, chunk, (size_t)n);
	close(fd);
	const char *data = buf_cstr(&a->raw), *end = strstr(data, "\r\n\r\n");
	if (sscanf(data, "HTTP/%*d.%*d %d", &a->status) != 1 || !end)
		a->status = 0;
	a->body = end ? end + 4 : data;
	a->body_len = a->raw.len - (size_t)(a->body - data);
	if (a->status && header_in(a, "Content-Length", cl, sizeof cl))
		a->content_length = strtol(cl, NULL, 10);
}

/* The answer is one problem document for its status, alone on the connection (`head`: a
 * HEAD request, no body); its "pointer" member (or "") into pointer[cap]. Returns whether
 * civetweb wrote it rather than cdlens. */
static bool check_problem(const char *label, const struct answer *a, bool head, char *pointer,
			  size_t cap)
{
	char ct[128];
	struct err err = {0};

	if (!header_in(a, "Content-Type", ct, sizeof ct))
		ct[0] = '\0';
	if (strcmp(ct, "application/problem+json") != 0)
		fail_msg("%s: Content-Type \"%s\": %s", label, ct, buf_cstr(&a->raw));
	if (a->content_length < 0 || a->body_len != (head ? 0 : (size_t)a->content_length))
		fail_msg("%s: %zu bytes after the headers, Content-Length %ld: a second response?\n%s",
			 label, a->body_len, a->content_length, buf_cstr(&a->raw));
	if (head)
		return false;
	if (json_check(a->body, a->body_len, JSON_CHECK_MAX_DEPTH, &err) != ST_OK)
		fail_msg("%s: the problem body is not valid JSON (%s): %s", label, err.msg, a->body);
	cJSON *root = cJSON_ParseWithLength(a->body, a->body_len);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
	const cJSON *title = cJSON_GetObjectItemCaseSensitive(root, "title");
	const cJSON *detail = cJSON_GetObjectItemCaseSensitive(root, "detail");
	const cJSON *ptr = cJSON_GetObjectItemCaseSensitive(root, "pointer");
	if (!cJSON_IsString(type) || strcmp(type->valuestring, "about:blank") != 0 ||
	    !cJSON_IsNumber(st) || (int)st->valuedouble != a->status ||
	    !cJSON_IsString(detail) || !detail->valuestring[0])
		fail_msg("%s: not a problem document for %d: %s", label, a->status, a->body);
	/* civetweb's own answers come from web/server.c http_error(); titled like the rest */
	bool http_layer = strcmp(detail->valuestring, HTTP_LAYER) == 0 ||
			  strstr(detail->valuestring, "HTTP version is not supported") != NULL;
	if (!cJSON_IsString(title) || !title->valuestring[0])
		fail_msg("%s: problem without a title: %s", label, a->body);
	tally.http_layer += http_layer;
	snprintf(pointer, cap, "%s", cJSON_IsString(ptr) ? ptr->valuestring : "");
	cJSON_Delete(root);
	return http_layer;
}

/*
 * Send one hostile request and check the answer: status `want` (0: any 4xx), the problem body, the pointer when `pointer` is not NULL, and that
 * cdlens answered, not civetweb, unless `layer_ok` (a request that must reach cdlens' code
 * and is refused by civetweb was built wrong); then that the table did not change and the
 * server runs.
 */
static void expect_refused(const char *label, const char *bytes, size_t len, int want,
			   const char *pointer, bool layer_ok)
{
	struct answer a;
	char got[512] = "";

	exchange(bytes, len, &a);
	bool ok = want ? a.status == want : a.status >= 400 && a.status < 500;
	if (!ok)
		fail_msg("%s: expected %d, got %d:\n%.2000s", label, want, a.status,
			 buf_cstr(&a.raw));
	bool head = len > 5 && memcmp(bytes, "HEAD ", 5) == 0;
	if (check_problem(label, &a, head, got, sizeof got) && !layer_ok)
		fail_msg("%s: refused by civetweb, not by cdlens: %s", label, a.body);
	if (pointer && strcmp(got, pointer) != 0)
		fail_msg("%s: pointer \"%s\", expected \"%s\": %s", label, got, pointer, a.body);
	buf_release(&a.raw);
	if (count_events() != baseline_count)
		fail_msg("%s: the events table changed", label);
	if (test_server_wait_exit(&srv, 0) != -1)
		fail_msg("%s: the server exited", label);
}

/* ---- the files ---- */

/* A .req file as bytes to send (see INDEX.md): request line, Host, token, Content-Length
 * added where the file has none. */
static void build_req(const struct fixture *f, struct buf *out)
{
	const char *sep = strstr(f->data, "\n\n");
	const char *head_end = sep ? sep : f->data + f->len, *body = sep ? sep + 2 : head_end;
	size_t body_len = (size_t)(f->data + f->len - body);
	struct buf line = BUF_INIT(0), headers = BUF_INIT(0);
	bool host = false, auth = false, length = false, first = true;

	for (const char *p = f->data; p < head_end;) {
		const char *nl = memchr(p, '\n', (size_t)(head_end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(head_end - p);
		size_t sp = strcspn(p, " "), colon = strcspn(p, ":");
		if (first && sp < n && sp < colon) {
			buf_append(&line, p, n);
		} else if (n) {
			host |= strncasecmp(p, "Host:", 5) == 0;
			auth |= strncasecmp(p, "Authorization:", 14) == 0;
			length |= strncasecmp(p, "Content-Length:", 15) == 0 ||
				  strncasecmp(p, "Transfer-Encoding:", 18) == 0;
			buf_append(&headers, p, n);
			buf_puts(&headers, "\r\n");
		}
		first = false;
		p += n + 1;
	}
	if (!line.len)
		buf_puts(&line, "POST /api/v1/events HTTP/1.1");
	buf_printf(out, "%s\r\n%s%s%s", line.data, host ? "" : "Host: 127.0.0.1\r\n",
		   auth ? "" : TOKEN, buf_cstr(&headers));
	if (!length && (body_len || strncmp(line.data, "POST ", 5) == 0))
		buf_printf(out, "Content-Length: %zu\r\n", body_len);
	buf_puts(out, "\r\n");
	buf_append(out, body, body_len);
	buf_release(&line);
	buf_release(&headers);
}

struct index_row {
	char file[128], category[32], status[16];
};

/* The case rows of INDEX.md: "| `file` | category | status | what |". */
static size_t read_index(struct index_row **rows)
{
	struct fixture f = fixture_load("hostile/INDEX.md");
	size_t n = 0, cap = 512;
	char *save = NULL;

	*rows = calloc(cap, sizeof **rows);
	for (char *line = strtok_r(f.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct index_row r;
		if (sscanf(line, "| `%127[^`]` | %31s | %15s |", r.file, r.category, r.status) != 3)
			continue;
		assert_true(n < cap);
		(*rows)[n++] = r;
	}
	fixture_release(&f);
	return n;
}

/* Every file of tests/data/hostile/ is refused as INDEX.md says. */
static void corpus_files(void **state)
{
	(void)state;
	struct index_row *rows;
	size_t nrows = read_index(&rows), nfiles = 0;
	const char *suffixes[] = {".req", ".raw"};

	for (size_t s = 0; s < 2; s++) {
		char **names;
		size_t n = fixture_list("hostile", suffixes[s], &names);
		for (size_t i = 0; i < n; i++) {
			const struct index_row *row = NULL;
			for (size_t k = 0; k < nrows && !row; k++)
				row = strcmp(rows[k].file, names[i]) == 0 ? &rows[k] : NULL;
			if (!row)
				fail_msg("tests/data/hostile/%s has no row in INDEX.md", names[i]);
			char path[256];
			struct buf req = BUF_INIT(0);
			snprintf(path, sizeof path, "hostile/%s", names[i]);
			struct fixture f = fixture_load(path);
			if (s == 0)
				build_req(&f, &req);
			else
				buf_append(&req, f.data, f.len);
			expect_refused(names[i], req.data, req.len, atoi(row->status), NULL,
				       strcmp(row->category, "http") == 0);
			fixture_release(&f);
			buf_release(&req);
		}
		nfiles += n;
		fixture_names_free(names, n);
	}
	if (nfiles != nrows)
		fail_msg("INDEX.md lists %zu cases, tests/data/hostile/ holds %zu", nrows, nfiles);
	tally.files = (int)nfiles;
	free(rows);
}

/* ---- generated: wrong types in every field ---- */

/* The CloudEvent attributes a mutated CDEvent travels with: its original context's id,
 * source, type and timestamp, as "id", "source", "type" and "time". */
enum { ATTR_ID, ATTR_SOURCE, ATTR_TYPE, ATTR_TIME, NATTRS };
static const char *const attr_names[NATTRS] = {"id", "source", "type", "time"};
struct attrs {
	const char *v[NATTRS];
};

static void post_request(struct buf *req, const char *headers, const char *body, size_t len)
{
	buf_printf(req, "POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n" TOKEN
			"%sContent-Length: %zu\r\n\r\n", headers, len);
	buf_append(req, body, len);
}

/* A structured CloudEvent with attributes `a` and the CDEvent text `data`, appended to b. */
static void structured(struct buf *b, const struct attrs *a, const char *data)
{
	cJSON *ce = cJSON_CreateObject();

	cJSON_AddStringToObject(ce, "specversion", "1.0");
	for (int i = 0; i < NATTRS; i++)
		cJSON_AddStringToObject(ce, attr_names[i], a->v[i]);
	cJSON_AddItemToObject(ce, "data", cJSON_Parse(data));
	char *text = cJSON_PrintUnformatted(ce);
	buf_puts(b, text);
	cJSON_free(text);
	cJSON_Delete(ce);
}

/* `event` (a CDEvent text) as a request in `mode`; *prefix: the pointer of the CDEvent. */
static void request_in_mode(struct buf *req, enum post_mode mode, const struct attrs *a,
			    const char *event, const char **prefix)
{
	struct buf h = BUF_INIT(0), body = BUF_INIT(0);

	*prefix = mode == MODE_STRUCTURED ? "/data" : mode == MODE_BATCH ? "/0/data" : "";
	if (mode == MODE_BARE || mode == MODE_BINARY) {
		buf_puts(&h, "Content-Type: application/json\r\n");
		buf_puts(&body, event);
	}
	if (mode == MODE_BINARY) {
		/* the examples' values need no percent-encoding: printable ASCII, no '%' or '"' */
		buf_puts(&h, "ce-specversion: 1.0\r\n");
		for (int i = 0; i < NATTRS; i++)
			buf_printf(&h, "ce-%s: %s\r\n", attr_names[i], a->v[i]);
	} else if (mode == MODE_STRUCTURED) {
		buf_puts(&h, "Content-Type: application/cloudevents+json\r\n");
		structured(&body, a, event);
	} else if (mode == MODE_BATCH) {
		buf_puts(&h, "Content-Type: application/cloudevents-batch+json\r\n");
		buf_putc(&body, '[');
		structured(&body, a, event);
		buf_putc(&body, ']');
	}
	post_request(req, buf_cstr(&h), body.data, body.len);
	buf_release(&h);
	buf_release(&body);
}

/* Set the member at `path` ("/a/b") of a copy of `doc` to the JSON text `value` (NULL:
 * delete it); returns the copy as text (free it). */
static char *mutated(const cJSON *doc, const char *path, const char *value)
{
	cJSON *copy = cJSON_Duplicate(doc, true), *node = copy;
	char name[128];

	for (const char *p = path + 1;;) {
		size_t n = strcspn(p, "/");
		snprintf(name, sizeof name, "%.*s", (int)n, p);
		if (!p[n]) {
			cJSON_DeleteItemFromObjectCaseSensitive(node, name);
			if (value)
				cJSON_AddItemToObject(node, name, cJSON_Parse(value));
			break;
		}
		node = cJSON_GetObjectItemCaseSensitive(node, name);
		assert_non_null(node);
		p += n + 1;
	}
	char *text = cJSON_PrintUnformatted(copy);
	cJSON_Delete(copy);
	return text;
}

static int mode_turn; /* the mode of the next generated case: the four in turn */

/* Send `doc` with `path` set to `value` (NULL: deleted) and expect 400 at `path`; bare_only:
 * in bare mode only (the envelope would fill the field). */
static void expect_field_refused(const cJSON *doc, const struct attrs *a, const char *label,
				 const char *path, const char *value, bool bare_only)
{
	enum post_mode mode = bare_only ? MODE_BARE : (enum post_mode)(mode_turn++ % MODE_COUNT);
	char *event = mutated(doc, path, value), what[512], pointer[300];
	const char *prefix;
	struct buf req = BUF_INIT(0);

	request_in_mode(&req, mode, a, event, &prefix);
	snprintf(what, sizeof what, "%s %s = %s (%s)", label, path, value ? value : "(deleted)",
		 post_mode_names[mode]);
	snprintf(pointer, sizeof pointer, "%s%s", prefix, path);
	expect_refused(what, req.data, req.len, 400, pointer, false);
	tally.generated++;
	buf_release(&req);
	cJSON_free(event);
}

/* The JSON values that are not of `kind`. */
static const char *const *wrong_values(enum cdev_kind kind)
{
	static const char *const not_string[] = {"42", "true", "[]", "{}", NULL};
	static const char *const not_object[] = {"\"x\"", "42", "false", "[]", NULL};
	static const char *const not_array[] = {"\"x\"", "-1.5", "true", "{}", NULL};

	return kind == CDEV_STRING ? not_string : kind == CDEV_OBJECT ? not_object
			 : kind == CDEV_ARRAY ? not_array : NULL;
}

static void each_wrong_value(const cJSON *doc, const struct attrs *a, const char *label,
			     const char *path, enum cdev_kind kind)
{
	for (const char *const *v = wrong_values(kind); v && *v; v++)
		expect_field_refused(doc, a, label, path, *v, false);
}

/* The subject.content fields of the type table that `content` can carry (parent present). */
static void content_fields(const cJSON *doc, const struct attrs *a, const char *label)
{
	struct cdev_type_name tn;
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(doc, "subject"), "content");

	assert_true(cdev_type_parse(a->v[ATTR_TYPE], &tn));
	const struct cdev_type *t =
		cdev_type_find(tn.subject, tn.predicate, tn.major, tn.minor, tn.patch, NULL);
	assert_non_null(t);
	for (size_t i = 0; i < t->nfields; i++) {
		const struct cdev_field *f = &t->fields[i];
		const char *slash = strchr(f->path, '/');
		char parent[128], path[256];
		snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - f->path) : 0, f->path);
		if (slash && (strchr(slash + 1, '/') ||
			      !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(content, parent))))
			continue;
		snprintf(path, sizeof path, "/subject/content/%s", f->path);
		each_wrong_value(doc, a, label, path, f->kind);
		if (f->required) {
			expect_field_refused(doc, a, label, path, NULL, false);
			expect_field_refused(doc, a, label, path, "null", false);
		}
	}
}

/* A context string of an example, as a header value needs no percent-encoding. */
static const char *ctx_string(const cJSON *doc, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(doc, "context"), name);

	assert_true(cJSON_IsString(v));
	for (const char *p = v->valuestring; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '%' || *p == '"')
			fail_msg("context.%s \"%s\" would need percent-encoding", name, v->valuestring);
	return v->valuestring;
}

/* Every checked field of main event types, to every JSON type it must not have. */
static void cdevent_field_types(void **state)
{
	(void)state;
	static const char *const examples[] = {
		"service_deployed", "build_finished", "change_merged", "pipelinerun_finished",
		"incident_detected", "artifact_published", "environment_created",
		"testcaserun_finished"};
	static const char *const context[] = {"/context/specversion", "/context/id",
					      "/context/source", "/context/type",
					      "/context/timestamp", "/context/chainId",
					      "/context/schemaUri", "/subject/id",
					      "/subject/source", "/subject/type"};
	int before = tally.generated;

	for (size_t e = 0; e < sizeof examples / sizeof *examples; e++) {
		char path[128];
		snprintf(path, sizeof path, "cdevents-spec/0.5.1/conformance/%s.json", examples[e]);
		struct fixture f = fixture_load(path);
		cJSON *doc = cJSON_Parse(f.data);
		const struct attrs a = {{ctx_string(doc, "id"), ctx_string(doc, "source"),
					 ctx_string(doc, "type"), ctx_string(doc, "timestamp")}};
		for (size_t i = 0; i < sizeof context / sizeof *context; i++)
			each_wrong_value(doc, &a, examples[e], context[i], CDEV_STRING);
		each_wrong_value(doc, &a, examples[e], "/context/links", CDEV_ARRAY);
		each_wrong_value(doc, &a, examples[e], "/subject/content", CDEV_OBJECT);
		content_fields(doc, &a, examples[e]);
		/* what the envelope would fill in can be missing in bare mode only */
		for (size_t i = 1; i <= 4; i++)
			expect_field_refused(doc, &a, examples[e], context[i], NULL, true);
		expect_field_refused(doc, &a, examples[e], "/context/specversion", NULL, false);
		expect_field_refused(doc, &a, examples[e], "/subject/id", NULL, false);
		expect_field_refused(doc, &a, examples[e], "/subject/id", "null", false);
		cJSON_Delete(doc);
		fixture_release(&f);
	}
	print_message("wrong types and missing fields of %zu CDEvents: %d cases\n",
		      sizeof examples / sizeof *examples, tally.generated - before);
}

/* `ce` (a structured CloudEvent) with attribute `name` set to the JSON text `value` ("-":
 * deleted; data_base64 replaces data), alone or as a batch of one: 400 at the attribute. */
static void expect_attribute_refused(const cJSON *ce, bool batch, const char *name,
				     const char *value)
{
	cJSON *copy = cJSON_Duplicate(ce, true);
	struct buf body = BUF_INIT(0), req = BUF_INIT(0);
	char pointer[64], label[128];

	cJSON_DeleteItemFromObjectCaseSensitive(copy, name);
	if (strcmp(name, "data_base64") == 0)
		cJSON_DeleteItemFromObjectCaseSensitive(copy, "data");
	if (strcmp(value, "-") != 0)
		cJSON_AddItemToObject(copy, name, cJSON_Parse(value));
	char *text = cJSON_PrintUnformatted(copy);
	buf_printf(&body, batch ? "[%s]" : "%s", text);
	post_request(&req, batch ? "Content-Type: application/cloudevents-batch+json\r\n"
				 : "Content-Type: application/cloudevents+json\r\n",
		     body.data, body.len);
	snprintf(pointer, sizeof pointer, "%s/%s", batch ? "/0" : "", name);
	snprintf(label, sizeof label, "%s %s = %s", batch ? "batch" : "structured", name, value);
	expect_refused(label, req.data, req.len, 400, pointer, false);
	tally.generated++;
	cJSON_free(text);
	cJSON_Delete(copy);
	buf_release(&body);
	buf_release(&req);
}

/* Every attribute of a structured CloudEvent (and of a batch item), to every wrong value. */
static void cloudevent_attribute_types(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		const char *const values[8]; /* NULL-terminated; "-" deletes the attribute */
	} attrs[] = {
		{"specversion", {"42", "true", "[]", "{}", "\"\"", "null", "-", NULL}},
		{"id", {"42", "true", "[]", "{}", "\"\"", "null", "-", NULL}},
		{"source", {"42", "true", "[]", "{}", "\"\"", "null", "-", NULL}},
		{"type", {"42", "true", "[]", "{}", "\"\"", "null", "-", NULL}},
		{"time", {"42", "true", "[]", "{}", NULL}},
		{"datacontenttype", {"42", "true", "[]", "{}", NULL}},
		{"subject", {"42", "true", "[]", "{}", "\"\"", NULL}},
		{"dataschema", {"42", "true", "[]", "{}", "\"\"", NULL}},
		{"data", {"\"x\"", "42", "true", "[]", "null", "-", NULL}},
		{"data_base64", {"42", "true", "[]", "{}", "\"!!\"", NULL}},
	};
	struct fixture f = fixture_load("cdevents-spec/0.5.1/conformance/service_deployed.json");
	const struct attrs a = {{"ce-1", "/hostile", "dev.cdevents.service.deployed.0.3.0",
				 "2023-03-20T14:27:05Z"}};
	struct buf base = BUF_INIT(0);
	int before = tally.generated;

	structured(&base, &a, f.data);
	cJSON *ce = cJSON_Parse(base.data);
	for (int batch = 0; batch < 2; batch++)
		for (size_t i = 0; i < sizeof attrs / sizeof *attrs; i++)
			for (const char *const *v = attrs[i].values; *v; v++)
				expect_attribute_refused(ce, batch, attrs[i].name, *v);
	print_message("CloudEvents attributes of every wrong type: %d cases\n",
		      tally.generated - before);
	cJSON_Delete(ce);
	buf_release(&base);
	fixture_release(&f);
}

/* ---- generated: large ---- */

static const char *const media_types[MODE_COUNT] = {
	"application/json", "application/json", "application/cloudevents+json",
	"application/cloudevents-batch+json"};

static void expect_body_refused(const char *label, const char *content_type, const char *extra,
				const struct buf *body, int want)
{
	struct buf req = BUF_INIT(0), h = BUF_INIT(0);

	buf_printf(&h, "Content-Type: %s\r\n%s", content_type, extra ? extra : "");
	post_request(&req, buf_cstr(&h), body->data, body->len);
	expect_refused(label, req.data, req.len, want, NULL, want == 0);
	tally.generated++;
	buf_release(&req);
	buf_release(&h);
}

/* A valid event request that must never be read: it follows a refused request. */
static void smuggled(struct buf *out)
{
	struct buf ev = BUF_INIT(0);

	buf_puts(&ev, "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"smuggled-large\",\"source\":"
		      "\"/hostile\",\"type\":\"dev.cdevents.build.started.0.2.0\",\"timestamp\":"
		      "\"2026-01-02T03:04:05Z\"},\"subject\":{\"id\":\"b\",\"content\":{}}}");
	post_request(out, "Content-Type: application/json\r\n", ev.data, ev.len);
	buf_release(&ev);
}

/* POST `body` as application/json in chunks of 64 KiB. */
static void chunked_request(struct buf *req, const struct buf *body)
{
	buf_puts(req, "POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n" TOKEN
		      "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (size_t off = 0; off < body->len; off += 65536) {
		size_t n = body->len - off < 65536 ? body->len - off : 65536;
		buf_printf(req, "%zx\r\n", n);
		buf_append(req, body->data + off, n);
		buf_puts(req, "\r\n");
	}
	buf_puts(req, "0\r\n\r\n");
}

/* Bodies and batches over the limits: 413, one response, nothing read after it. */
static void oversized(void **state)
{
	(void)state;
	struct buf body = BUF_INIT(0), req = BUF_INIT(0);
	int before = tally.generated;

	buf_puts(&body, "{\"context\":{\"id\":\"");
	while (body.len < MAX_BODY + 1)
		buf_putc(&body, 'x');
	buf_puts(&body, "\"}}");
	for (int m = 0; m < MODE_COUNT; m++)
		expect_body_refused(post_mode_names[m], media_types[m],
				    m == MODE_BINARY ? "ce-specversion: 1.0\r\n" : NULL, &body, 413);
	/* the same, with a second request behind it on the connection */
	post_request(&req, "Content-Type: application/json\r\n", body.data, body.len);
	smuggled(&req);
	expect_refused("over the limit, then another request", req.data, req.len, 413, NULL,
		       false);
	/* chunked: 413 as soon as the limit is passed; then another request */
	buf_reset(&req);
	chunked_request(&req, &body);
	expect_refused("chunked over the limit", req.data, req.len, 413, NULL, false);
	smuggled(&req);
	expect_refused("chunked over the limit, then another request", req.data, req.len, 413,
		       NULL, false);
	/* 100 001 empty items: counted before any is looked at */
	buf_reset(&body);
	buf_putc(&body, '[');
	for (int i = 0; i <= 100000; i++)
		buf_puts(&body, i ? ",{}" : "{}");
	buf_putc(&body, ']');
	expect_body_refused("batch of 100001", media_types[MODE_BATCH], NULL, &body, 413);
	tally.generated += 3;
	print_message("over the size limits: %d cases\n", tally.generated - before);
	buf_release(&body);
	buf_release(&req);
}

/* `depth` nested arrays (or objects) around 1, or unclosed when `closed` is false. */
static void nest(struct buf *b, int depth, bool objects, bool closed)
{
	for (int i = 0; i < depth; i++)
		buf_puts(b, objects ? "{\"a\":" : "[");
	buf_putc(b, '1');
	for (int i = 0; closed && i < depth; i++)
		buf_putc(b, objects ? '}' : ']');
}

static void deep_nesting(void **state)
{
	(void)state;
	struct buf body = BUF_INIT(0), deep = BUF_INIT(0);
	int before = tally.generated;

	nest(&deep, 10000, false, true);
	expect_body_refused("10000 arrays", "application/json", NULL, &deep, 400);
	nest(&body, 10000, true, true);
	expect_body_refused("10000 objects", "application/json", NULL, &body, 400);
	buf_reset(&body);
	nest(&body, 100000, false, false);
	expect_body_refused("100000 unclosed arrays", "application/json", NULL, &body, 400);
	buf_reset(&body);
	buf_printf(&body, "{\"specversion\":\"1.0\",\"id\":\"d\",\"source\":\"/s\",\"type\":\"t\","
			  "\"data\":%s}", deep.data);
	expect_body_refused("10000 deep in data", "application/cloudevents+json", NULL, &body, 400);
	buf_reset(&body);
	buf_printf(&body, "[%s]", deep.data);
	expect_body_refused("10000 deep batch", "application/cloudevents-batch+json", NULL, &body,
			    400);
	/* the same inside data_base64: "WWWW" is "[[[" */
	buf_reset(&body);
	buf_puts(&body, "{\"specversion\":\"1.0\",\"id\":\"d\",\"source\":\"/s\",\"type\":\"t\","
			"\"data_base64\":\"");
	for (int i = 0; i < 3400; i++)
		buf_puts(&body, "W1tb");
	buf_puts(&body, "\"}");
	expect_body_refused("10200 deep in data_base64", "application/cloudevents+json", NULL,
			    &body, 400);
	print_message("deep nesting: %d cases\n", tally.generated - before);
	buf_release(&body);
	buf_release(&deep);
}

/* A service.deployed CDEvent whose context member `name` is the JSON text `value`. */
static void event_with(struct buf *b, const char *name, const char *value)
{
	static const char *const names[] = {"specversion", "id", "source", "type", "timestamp",
					    "links"};
	static const char *const values[] = {"\"0.5.1\"", "\"huge-1\"", "\"/hostile\"",
					     "\"dev.cdevents.service.deployed.0.3.0\"",
					     "\"2026-01-02T03:04:05Z\"", "[]"};

	buf_puts(b, "{\"context\":{");
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		buf_printf(b, "%s\"%s\":%s", i ? "," : "", names[i],
			   strcmp(names[i], name) ? values[i] : value);
	buf_puts(b, "},\"subject\":{\"id\":\"svc\",\"content\":{\"environment\":{\"id\":\"prod\"},"
		    "\"artifactId\":\"pkg:oci/x@sha256%3Aabc\"}}}");
}

/* A JSON string of `n` pseudo-random letters: PostgreSQL cannot compress them, so a key
 * made of them is as long in an index as it is here. */
static void letters(struct buf *b, size_t n)
{
	unsigned x = 12345;

	buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		buf_putc(b, (char)('a' + (x >> 16) % 26));
	}
	buf_putc(b, '"');
}

static void huge_values(void **state)
{
	(void)state;
	static const char *const fields[] = {"specversion", "id", "source", "type", "timestamp",
					     "links"};
	struct buf big = BUF_INIT(0), name = BUF_INIT(0), body = BUF_INIT(0), req = BUF_INIT(0);
	int before = tally.generated;

	letters(&big, 900000);
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
		char label[64];
		buf_reset(&body);
		event_with(&body, fields[i], big.data);
		snprintf(label, sizeof label, "900 KB context.%s", fields[i]);
		expect_body_refused(label, "application/json", NULL, &body, 400);
	}
	/* a 450 KB member name, twice */
	letters(&name, 450000);
	buf_reset(&body);
	buf_printf(&body, "{%s:1,%s:2}", name.data, name.data);
	expect_body_refused("a 450 KB name twice", "application/json", NULL, &body, 400);
	/* a number of 100 000 digits */
	buf_reset(&body);
	buf_puts(&body, "{\"x\":");
	for (int i = 0; i < 100000; i++)
		buf_putc(&body, (char)('1' + i % 9));
	buf_putc(&body, '}');
	expect_body_refused("100000 digits", "application/json", NULL, &body, 400);
	/* a header and a URL past civetweb's limits: any 4xx */
	buf_reset(&name);
	buf_puts(&name, "ce-specversion: 1.0\r\nce-id: ");
	for (int i = 0; i < 20000; i++)
		buf_putc(&name, 'i');
	buf_puts(&name, "\r\n");
	buf_reset(&body);
	buf_puts(&body, "{}");
	expect_body_refused("a 20 KB ce-id", "application/json", name.data, &body, 0);
	buf_puts(&req, "GET /api/v1/dora?service=");
	for (int i = 0; i < 100000; i++)
		buf_putc(&req, 's');
	buf_puts(&req, " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	expect_refused("a 100 KB URL", req.data, req.len, 0, NULL, true);
	tally.generated++;
	print_message("huge strings and numbers: %d cases\n", tally.generated - before);
	buf_release(&big);
	buf_release(&name);
	buf_release(&body);
	buf_release(&req);
}

/* ---- set-up and the end ---- */

static int setup(void **state)
{
	(void)state;
	struct http_response r;

	db_url = testdb_create("hostile_http");
	test_server_start(&srv, db_url, (const char *const[]){"--max-batch=" MAX_BATCH,
							       "--log-level=warn", NULL});
	/* rows to protect: a realistic history, in every mode */
	post_jsonl(srv.port, MODE_BARE, "scenarios/checkout.jsonl");
	for (int m = 0; m < MODE_COUNT; m++) {
		char ev[512];
		snprintf(ev, sizeof ev,
			 "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"before-%d\",\"source\":"
			 "\"/hostile\",\"type\":\"dev.cdevents.build.queued.0.3.0\",\"timestamp\":"
			 "\"2026-01-02T03:04:05Z\"},\"subject\":{\"id\":\"b-%d\"}}", m, m);
		assert_int_equal(post_event(srv.port, (enum post_mode)m, ev, &r), 202);
		http_response_release(&r);
	}
	baseline = testdb_scalar(db_url, checksum_sql, 0, NULL);
	baseline_count = count_events();
	assert_true(baseline_count > 30);
	return 0;
}

/* The two request targets civetweb leaves to us (web/server.c connection_close()): the
 * absolute form for this server's port is served like its path, whatever the host; on a
 * keep-alive connection an asterisk-form request after an answered one still gets its own
 * answer (the "answered" mark is per request, not per connection). */
static void absolute_and_asterisk_forms(void **state)
{
	(void)state;
	char req[256];
	struct answer a;

	snprintf(req, sizeof req,
		 "GET http://any-name.example:%d/healthz HTTP/1.1\r\nHost: x\r\n"
		 "Connection: close\r\n\r\n", srv.port);
	exchange(req, strlen(req), &a);
	assert_int_equal(a.status, 200);
	assert_non_null(strstr(a.body, "\"status\":\"ok\""));
	buf_release(&a.raw);

	const char pipelined[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
				 "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n";
	exchange(pipelined, sizeof pipelined - 1, &a);
	const char *second = strstr(a.body, "HTTP/1.1 ");
	assert_int_equal(a.status, 200);
	assert_non_null(second);
	assert_true(strncmp(second, "HTTP/1.1 400 ", 13) == 0);
	assert_non_null(strstr(second, "application/problem+json"));
	assert_non_null(strstr(second, "asterisk-form request target (*)"));
	buf_release(&a.raw);
}

/* Nothing stored, same rows; the server healthy; stops with 0; no sanitizer report. */
static void server_and_table_survive(void **state)
{
	(void)state;
	struct http_response r;
	struct fixture log = {0};
	int total = tally.files + tally.generated;

	char *now = testdb_scalar(db_url, checksum_sql, 0, NULL);
	assert_string_equal(now, baseline);
	free(now);
	assert_int_equal(http_request(srv.port, "GET", "/healthz", NULL, NULL, 0, &r), 200);
	http_response_release(&r);
	assert_int_equal(http_request(srv.port, "GET", "/readyz", NULL, NULL, 0, &r), 200);
	http_response_release(&r);
	print_message("hostile requests: %d (%d files, %d generated), all refused; %d answered by "
		      "civetweb itself; events table unchanged (%ld rows)\n",
		      total, tally.files, tally.generated, tally.http_layer, baseline_count);
	assert_true(total >= CASES_MIN);
	assert_int_equal(test_server_stop(&srv), 0);
	assert_int_equal(fixture_read_path(srv.log_path, &log), 0);
	if (strstr(log.data, "Sanitizer") || strstr(log.data, "runtime error:"))
		fail_msg("sanitizer report in %s:\n%s", srv.log_path, log.data);
	fixture_release(&log);
}

static int teardown(void **state)
{
	(void)state;
	if (srv.pid)
		test_server_kill(&srv);
	free(baseline);
	free(db_url);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(corpus_files),
		cmocka_unit_test(cdevent_field_types),
		cmocka_unit_test(cloudevent_attribute_types),
		cmocka_unit_test(oversized),
		cmocka_unit_test(deep_nesting),
		cmocka_unit_test(huge_values),
		cmocka_unit_test(absolute_and_asterisk_forms),
		cmocka_unit_test(server_and_table_survive),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
