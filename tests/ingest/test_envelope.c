/*
 * tests/ingest/test_envelope.c: from an HTTP request to events (ingest/envelope.c).
 *
 * Requests are built by hand as struct ingest_request. The four modes (binary, structured,
 * batch, bare) each have a table; structured and batch cases are edits (set or delete a
 * member at a JSON pointer) of a valid CloudEvent, re-serialised with cJSON. Duplicate member
 * names are written as raw text, since cJSON would not keep them apart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/log.h"
#include "ingest/envelope.h"
#include "ingest/json_check.h"

#define TYPE "dev.cdevents.service.deployed.0.3.0"
#define CONTENT                                                                                    \
	"\"content\": {\"environment\": {\"id\": \"prod\"}, \"artifactId\": \"pkg:oci/app@1\"}"

/* A complete CDEvent, with whitespace and escapes that a re-serialisation would change. */
static const char cdevent_full[] =
    "\n  {\"context\": {\"specversion\": \"0.5.1\", \"id\": \"e1\", \"source\": \"/src\",\n"
    "   \"type\": \"" TYPE "\", \"timestamp\": \"2024-01-02T03:04:05.678901Z\"},\n"
    "   \"subject\": {\"id\": \"svc\", \"note\": \"caf\\u00e9 \\/ 1.0e2\", " CONTENT "}}\r\n";
#define FULL_TS 1704164645678901

/* A CDEvent whose context has only the spec version: the envelope must supply the rest. */
static const char cdevent_bare_context[] =
    "{\"context\":{\"specversion\":\"0.5.1\"},\"subject\":{\"id\":\"svc\"," CONTENT "}}";

/* A structured CloudEvent carrying cdevent_bare_context. */
static const char structured_base[] =
    "{\"specversion\":\"1.0\",\"id\":\"ce-1\",\"source\":\"/ce\",\"type\":\"" TYPE "\","
    "\"time\":\"2024-01-02T04:04:05+01:00\",\"datacontenttype\":\"application/json\","
    "\"data\":{\"context\":{\"specversion\":\"0.5.1\"},\"subject\":{\"id\":\"svc\"," CONTENT "}}}";
#define CE_TS 1704164645000000

#define NOT_JSON "the request body is not valid JSON: invalid JSON at byte "

struct request_spec {
	const char *content_type;
	const struct ingest_header *headers;
	size_t nheaders;
	size_t max_batch;
};

static enum status run(const struct request_spec *spec, const char *body, size_t len,
                       struct ingest_batch *out, struct err *err)
{
	const struct ingest_request req = {
	    .content_type = spec->content_type,
	    .headers = spec->headers,
	    .nheaders = spec->nheaders,
	    .body = body,
	    .len = len,
	    .producer = "ci",
	    .req_id = "req-1",
	    .max_batch = spec->max_batch ? spec->max_batch : 100,
	};

	err_clear(err);
	memset(out, 0x5a, sizeof *out);
	return envelope_parse(&req, out, err);
}

static enum status run_text(const char *content_type, const char *body, struct ingest_batch *out,
                            struct err *err)
{
	const struct request_spec spec = {content_type, NULL, 0, 0};

	return run(&spec, body, strlen(body), out, err);
}

/* A failed parse leaves no events. */
static void assert_empty(const struct ingest_batch *b)
{
	assert_null(b->events);
	assert_int_equal(b->n, 0);
}

/* ---- JSON editing (same helpers as test_cdevent.c) ---- */

static cJSON *walk(cJSON *root, const char *path, const char **last)
{
	cJSON *node = root;
	char seg[128];

	for (const char *p = path + 1;;) {
		size_t n = strcspn(p, "/");
		assert_true(n < sizeof seg);
		memcpy(seg, p, n);
		seg[n] = '\0';
		if (!p[n]) {
			*last = p;
			return node;
		}
		node = cJSON_IsArray(node) ? cJSON_GetArrayItem(node, atoi(seg))
		                           : cJSON_GetObjectItemCaseSensitive(node, seg);
		if (!node)
			fail_msg("no member at %s", path);
		p += n + 1;
	}
}

/* Set the member at `path` to the JSON text `value`, or delete it (value NULL). */
static void edit(cJSON *root, const char *path, const char *value)
{
	const char *name;
	cJSON *parent = walk(root, path, &name);

	if (!value) {
		cJSON_DeleteItemFromObjectCaseSensitive(parent, name);
		return;
	}
	cJSON *v = cJSON_Parse(value);
	if (!v)
		fail_msg("bad test value %s", value);
	if (cJSON_IsArray(parent))
		cJSON_ReplaceItemInArray(parent, atoi(name), v);
	else if (cJSON_GetObjectItemCaseSensitive(parent, name))
		cJSON_ReplaceItemInObjectCaseSensitive(parent, name, v);
	else
		cJSON_AddItemToObject(parent, name, v);
}

/* `text` with one or two edits, re-serialised (malloc'ed). */
static char *edited(const char *text, const char *path, const char *value, const char *path2,
                    const char *value2)
{
	cJSON *doc = cJSON_Parse(text);

	assert_non_null(doc);
	if (path)
		edit(doc, path, value);
	if (path2)
		edit(doc, path2, value2);
	char *out = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return out;
}

/* Standard base64 of n bytes (malloc'ed, padded). */
static char *b64(const char *s, size_t n)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(4 * (n / 3 + 1) + 1), *o = out;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)(unsigned char)s[i] << 16;
		v |= i + 1 < n ? (unsigned)(unsigned char)s[i + 1] << 8 : 0;
		v |= i + 2 < n ? (unsigned char)s[i + 2] : 0;
		*o++ = abc[v >> 18 & 63];
		*o++ = abc[v >> 12 & 63];
		*o++ = i + 1 < n ? abc[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? abc[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* ---- media types ---- */

enum body_kind { BODY_BARE, BODY_STRUCTURED, BODY_BATCH };

struct media_case {
	const char *content_type;
	enum body_kind body;
	enum status want;
	const char *mode; /* on ST_OK */
	const char *msg;  /* on failure */
};

static const struct media_case media[] = {
    {"application/json", BODY_BARE, ST_OK, "bare", NULL},
    {"application/json; charset=utf-8", BODY_BARE, ST_OK, "bare", NULL},
    {"application/json;charset=UTF-8", BODY_BARE, ST_OK, "bare", NULL},
    {"Application/JSON; Charset=\"utf-8\"", BODY_BARE, ST_OK, "bare", NULL},
    {"application/json ; charset=us-ascii", BODY_BARE, ST_OK, "bare", NULL},
    {"  application/json  ", BODY_BARE, ST_OK, "bare", NULL},
    {"application/json; profile=x", BODY_BARE, ST_OK, "bare", NULL},
    {NULL, BODY_BARE, ST_OK, "bare", NULL},
    {"", BODY_BARE, ST_OK, "bare", NULL},
    {"application/cloudevents+json", BODY_STRUCTURED, ST_OK, "structured", NULL},
    {"application/cloudevents+json; charset=utf-8", BODY_STRUCTURED, ST_OK, "structured", NULL},
    {"APPLICATION/CLOUDEVENTS+JSON", BODY_STRUCTURED, ST_OK, "structured", NULL},
    {"application/cloudevents-batch+json", BODY_BATCH, ST_OK, "batch", NULL},
    {"application/cloudevents-batch+json;charset=utf-8", BODY_BATCH, ST_OK, "batch", NULL},
    {"application/json; charset=iso-8859-1", BODY_BARE, ST_UNSUPPORTED, NULL,
     "unsupported charset in Content-Type \"application/json; charset=iso-8859-1\""},
    {"application/json; charset=utf-16", BODY_BARE, ST_UNSUPPORTED, NULL,
     "unsupported charset in Content-Type \"application/json; charset=utf-16\""},
    {"application/cloudevents+json; charset=latin1", BODY_STRUCTURED, ST_UNSUPPORTED, NULL,
     "unsupported charset in Content-Type \"application/cloudevents+json; charset=latin1\""},
    {"text/plain", BODY_BARE, ST_UNSUPPORTED, NULL, "unsupported media type \"text/plain\""},
    {"text/json", BODY_BARE, ST_UNSUPPORTED, NULL, "unsupported media type \"text/json\""},
    {"application/xml", BODY_BARE, ST_UNSUPPORTED, NULL,
     "unsupported media type \"application/xml\""},
    {"application/json5", BODY_BARE, ST_UNSUPPORTED, NULL,
     "unsupported media type \"application/json5\""},
    {"application/jsonx; charset=utf-8", BODY_BARE, ST_UNSUPPORTED, NULL,
     "unsupported media type \"application/jsonx\""},
    {"application/cloudevents+xml", BODY_STRUCTURED, ST_UNSUPPORTED, NULL,
     "unsupported media type \"application/cloudevents+xml\""},
    {"application/cloudevents", BODY_STRUCTURED, ST_UNSUPPORTED, NULL,
     "unsupported media type \"application/cloudevents\""},
    {"multipart/form-data; boundary=x", BODY_BARE, ST_UNSUPPORTED, NULL,
     "unsupported media type \"multipart/form-data\""},
    {";", BODY_BARE, ST_UNSUPPORTED, NULL, "unsupported media type \"\""},
    /* header bytes that are not UTF-8 are not quoted (found by tests/fuzz/fuzz_envelope.c,
     * tests/fuzz/regressions/envelope/media-type-not-utf8) */
    {"application/jso\x92\xf5", BODY_BARE, ST_UNSUPPORTED, NULL,
     "unsupported media type \"application/jso\""},
    {"text/caf\xc3\xa9\xff", BODY_BARE, ST_UNSUPPORTED, NULL,
     "unsupported media type \"text/caf\xc3\xa9\""},
    {"application/json; charset=\xe9", BODY_BARE, ST_UNSUPPORTED, NULL,
     "unsupported charset in Content-Type \"application/json; charset=\""},
    /* the charset is compared whole, not by prefix (tests/data/hostile/) */
    {"application/json; charset=utf-8x", BODY_BARE, ST_UNSUPPORTED, NULL,
     "unsupported charset in Content-Type \"application/json; charset=utf-8x\""},
    {"application/json; charset=\"utf-8x\"", BODY_BARE, ST_UNSUPPORTED, NULL,
     "unsupported charset in Content-Type \"application/json; charset=\"utf-8x\"\""},
    {"application/json; charset=us-asciiz", BODY_BARE, ST_UNSUPPORTED, NULL,
     "unsupported charset in Content-Type \"application/json; charset=us-asciiz\""},
    {"application/json; charset=utf-8 latin1", BODY_BARE, ST_UNSUPPORTED, NULL,
     "unsupported charset in Content-Type \"application/json; charset=utf-8 latin1\""},
    {"application/json; charset=", BODY_BARE, ST_UNSUPPORTED, NULL,
     "unsupported charset in Content-Type \"application/json; charset=\""},
    {"application/json; charset", BODY_BARE, ST_UNSUPPORTED, NULL,
     "unsupported charset in Content-Type \"application/json; charset\""},
    {"application/json; charset=utf-8; charset=latin1", BODY_BARE, ST_UNSUPPORTED, NULL,
     "unsupported charset in Content-Type \"application/json; charset=utf-8; charset=latin1\""},
    {"application/json; CHARSET = \"UTF-8\" ; v=1", BODY_BARE, ST_OK, "bare", NULL},
    {"application/json; profile=\"a;charset=x\"; charset=utf-8", BODY_BARE, ST_OK, "bare", NULL},
    /* a parameter whose name merely ends in "charset" is not the charset */
    {"application/json; xcharset=latin1", BODY_BARE, ST_OK, "bare", NULL},
};

static void media_types(void **state)
{
	(void)state;
	char *batch = NULL;
	size_t nb = strlen(structured_base);

	batch = malloc(nb + 3);
	snprintf(batch, nb + 3, "[%s]", structured_base);
	for (size_t i = 0; i < sizeof media / sizeof media[0]; i++) {
		const struct media_case *c = &media[i];
		const char *body = c->body == BODY_BARE         ? cdevent_full
		                   : c->body == BODY_STRUCTURED ? structured_base
		                                                : batch;
		struct ingest_batch out;
		struct err err;

		enum status st = run_text(c->content_type, body, &out, &err);
		if (st != c->want)
			fail_msg("\"%s\": status %d (%s)",
			         c->content_type ? c->content_type : "(null)", st, err.msg);
		if (st == ST_OK) {
			assert_int_equal(out.n, 1);
			assert_string_equal(out.events[0].mode, c->mode);
			assert_int_equal(out.item, -1);
		} else {
			assert_int_equal(err.status, c->want);
			assert_string_equal(err.msg, c->msg);
			assert_empty(&out);
		}
		ingest_batch_release(&out);
	}
	free(batch);
}

/* A 415 says what to send instead. */
static void unsupported_media_hint(void **state)
{
	(void)state;
	struct ingest_batch out;
	struct err err;

	assert_int_equal(run_text("text/plain", cdevent_full, &out, &err), ST_UNSUPPORTED);
	assert_non_null(strstr(err.detail, "application/cloudevents+json"));
	assert_string_equal(err.pointer, "");
	/* the media type decides before the body is read: even an empty body gets 415 */
	assert_int_equal(run_text("text/plain", "", &out, &err), ST_UNSUPPORTED);
	/* and before the ce-* headers */
	const struct ingest_header h[] = {{"ce-specversion", "1.0"}};
	const struct request_spec spec = {"text/plain", h, 1, 0};
	assert_int_equal(run(&spec, cdevent_full, strlen(cdevent_full), &out, &err),
	                 ST_UNSUPPORTED);
	ingest_batch_release(&out);
}

/* A body in a content coding is refused (415) before it is parsed: it is not the JSON it
 * claims to be, even when it happens to parse; so is a request with two Content-Types
 * (tests/data/hostile/). */
static void content_encodings(void **state)
{
	(void)state;
	static const struct {
		const char *coding;
		enum status want;
	} cases[] = {
	    {"identity", ST_OK},
	    {" IDENTITY ", ST_OK},
	    {"", ST_OK},
	    {"gzip", ST_UNSUPPORTED},
	    {"deflate", ST_UNSUPPORTED},
	    {"br", ST_UNSUPPORTED},
	    {"gzip, identity", ST_UNSUPPORTED},
	    {"identity, gzip", ST_UNSUPPORTED},
	    {"x-\xff", ST_UNSUPPORTED},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct ingest_header h[] = {{"content-encoding", cases[i].coding}};
		const struct request_spec spec = {"application/json", h, 1, 0};
		struct ingest_batch out;
		struct err err;
		enum status st = run(&spec, cdevent_full, strlen(cdevent_full), &out, &err);
		if (st != cases[i].want)
			fail_msg("Content-Encoding \"%s\": status %d (%s)", cases[i].coding, st,
			         err.msg);
		if (st != ST_OK) {
			assert_true(json_utf8_valid(err.msg, strlen(err.msg)));
			assert_non_null(strstr(err.msg, "unsupported content encoding \""));
			assert_non_null(strstr(err.detail, "uncompressed"));
			assert_empty(&out);
		}
		ingest_batch_release(&out);
	}
	/* two Content-Types (a proxy in front may read the other one) */
	const struct ingest_header two[] = {{"Content-Type", "application/json"},
	                                    {"content-type", "text/plain"}};
	const struct request_spec dup = {"application/json", two, 2, 0};
	struct ingest_batch dout;
	struct err derr;
	assert_int_equal(run(&dup, cdevent_full, strlen(cdevent_full), &dout, &derr),
	                 ST_UNSUPPORTED);
	assert_string_equal(derr.msg, "more than one Content-Type");
	assert_empty(&dout);
	/* the media type is checked first */
	const struct ingest_header gz[] = {{"Content-Encoding", "gzip"}};
	const struct request_spec xml = {"application/xml", gz, 1, 0};
	struct ingest_batch out;
	struct err err;
	assert_int_equal(run(&xml, "<a/>", 4, &out, &err), ST_UNSUPPORTED);
	assert_string_equal(err.msg, "unsupported media type \"application/xml\"");
}

/* The media type decides before the ce-* headers: a structured or batch body with a
 * ce-specversion header is still structured or batch. */
static void media_type_beats_headers(void **state)
{
	(void)state;
	const struct ingest_header h[] = {{"ce-specversion", "0.1"}, {"ce-id", "%zz"}};
	const struct request_spec ce = {"application/cloudevents+json", h, 2, 0};
	const struct request_spec batch = {"application/cloudevents-batch+json", h, 2, 0};
	struct ingest_batch out;
	struct err err;

	assert_int_equal(run(&ce, structured_base, strlen(structured_base), &out, &err), ST_OK);
	assert_string_equal(out.events[0].mode, "structured");
	assert_string_equal(out.events[0].id, "ce-1");
	ingest_batch_release(&out);
	assert_int_equal(run(&batch, "[]", 2, &out, &err), ST_OK);
	ingest_batch_release(&out);
	/* an empty (NULL) body is invalid JSON, not a crash */
	const struct request_spec json = {"application/json", NULL, 0, 0};
	assert_int_equal(run(&json, NULL, 0, &out, &err), ST_INVALID);
	assert_string_equal(err.msg, NOT_JSON "0: unexpected end of input");
	assert_int_equal(run(&batch, NULL, 0, &out, &err), ST_INVALID);
	assert_int_equal(run(&ce, NULL, 0, &out, &err), ST_INVALID);
}

/* ---- bare mode ---- */

static void bare_event(void **state)
{
	(void)state;
	struct ingest_batch out;
	struct err err;

	assert_int_equal(run_text("application/json", cdevent_full, &out, &err), ST_OK);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.item, -1);
	const struct event *ev = &out.events[0];
	assert_string_equal(ev->mode, "bare");
	assert_string_equal(ev->producer, "ci");
	assert_string_equal(ev->id, "e1");
	assert_string_equal(ev->source, "/src");
	assert_string_equal(ev->subject, "service");
	assert_string_equal(ev->subject_id, "svc");
	assert_int_equal(ev->ts_us, FULL_TS);
	/* raw is the body, byte for byte */
	assert_int_equal(ev->raw_len, strlen(cdevent_full));
	assert_memory_equal(ev->raw, cdevent_full, ev->raw_len);
	assert_int_equal(ev->raw[ev->raw_len], '\0');
	ingest_batch_release(&out);
	assert_empty(&out);
	assert_int_equal(out.item, -1);
}

/* Only `len` bytes of the body are read. */
static void bare_uses_len(void **state)
{
	(void)state;
	const size_t n = strlen(cdevent_full);
	char *body = malloc(n + 8);
	struct ingest_batch out;
	struct err err;
	const struct request_spec spec = {"application/json", NULL, 0, 0};

	memcpy(body, cdevent_full, n);
	memcpy(body + n, "garbage", 8);
	assert_int_equal(run(&spec, body, n, &out, &err), ST_OK);
	assert_int_equal(out.events[0].raw_len, n);
	assert_memory_equal(out.events[0].raw, cdevent_full, n);
	ingest_batch_release(&out);
	assert_int_equal(run(&spec, body, n + 7, &out, &err), ST_INVALID);
	free(body);
}

/* Without ce-specversion, ce-* headers are ignored: the CDEvent must be complete. */
static void bare_ignores_other_ce_headers(void **state)
{
	(void)state;
	const struct ingest_header h[] = {{"ce-id", "from-header"}, {"ce-source", "/h"}};
	const struct request_spec spec = {"application/json", h, 2, 0};
	struct ingest_batch out;
	struct err err;

	assert_int_equal(run(&spec, cdevent_full, strlen(cdevent_full), &out, &err), ST_OK);
	assert_string_equal(out.events[0].mode, "bare");
	assert_string_equal(out.events[0].id, "e1");
	ingest_batch_release(&out);
	assert_int_equal(run(&spec, cdevent_bare_context, strlen(cdevent_bare_context), &out, &err),
	                 ST_INVALID);
	assert_string_equal(err.pointer, "/context/id");
	assert_string_equal(err.msg, "missing field /context/id");
	ingest_batch_release(&out);
}

struct body_case {
	const char *body;
	size_t len;
	const char *msg;
	const char *pointer;
};

/* clang-format off */
#define BODY(s, msg, ptr) {s, sizeof s - 1, msg, ptr}
/* clang-format on */

static const struct body_case bad_bodies[] = {
    BODY("", NOT_JSON "0: unexpected end of input", ""),
    BODY("  \n", NOT_JSON "3: unexpected end of input", ""),
    BODY("{", NOT_JSON "1: expected a member name", ""),
    BODY("{\"context\":01}", NOT_JSON "13: leading zero in number", ""),
    BODY("{\"a\":\"\\u0000\"}", NOT_JSON "12: \\u0000 is not allowed", ""),
    BODY("{\"a\":\"\xc0\x80\"}", NOT_JSON "6: invalid UTF-8", ""),
    BODY("{}\0", NOT_JSON "2: unexpected data after the JSON value", ""),
    BODY("\xef\xbb\xbf{}", NOT_JSON "0: byte order mark is not allowed", ""),
    BODY("[]", "/: expected a CDEvent JSON object", ""),
    BODY("\"x\"", "/: expected a CDEvent JSON object", ""),
    BODY("null", "/: expected a CDEvent JSON object", ""),
    BODY("{}", "missing field /context", "/context"),
    BODY("{\"context\":{},\"subject\":{}}",
         "missing field /context/specversion (or context.version "
         "before CDEvents 0.5)",
         "/context/specversion"),
};

static void bare_bad_bodies(void **state)
{
	(void)state;
	const struct request_spec spec = {"application/json", NULL, 0, 0};

	for (size_t i = 0; i < sizeof bad_bodies / sizeof bad_bodies[0]; i++) {
		const struct body_case *c = &bad_bodies[i];
		struct ingest_batch out;
		struct err err;

		if (run(&spec, c->body, c->len, &out, &err) != ST_INVALID)
			fail_msg("bad_bodies[%zu] accepted", i);
		if (strcmp(err.msg, c->msg) != 0 || strcmp(err.pointer, c->pointer) != 0)
			fail_msg("bad_bodies[%zu]: \"%s\" at \"%s\"", i, err.msg, err.pointer);
		assert_empty(&out);
		assert_int_equal(out.item, -1);
	}
}

/* ---- binary mode ---- */

struct header_case {
	const char *name, *value; /* name NULL: leave the header out */
};

struct binary_case {
	struct header_case extra; /* replaces the header of the same name (case-insensitive) */
	const char *body;         /* NULL: cdevent_bare_context */
	enum status want;
	const char *msg; /* failure message, or on ST_OK the expected id */
	const char *pointer;
};

#define BAD_UTF8(h) "header " h " is not valid UTF-8 after percent-decoding"
#define BAD_PCT(h) "invalid percent-encoding in header " h
#define BAD_QUOTE(h) "invalid quoted-string in header " h

static const struct binary_case binary[] = {
    {{NULL, NULL}, NULL, ST_OK, "ce-1", ""},
    /* header names in any case */
    {{"CE-ID", "ce-2"}, NULL, ST_OK, "ce-2", ""},
    {{"Ce-Id", "ce-3"}, NULL, ST_OK, "ce-3", ""},
    /* percent-encoded values */
    {{"ce-id", "a%20b"}, NULL, ST_OK, "a b", ""},
    {{"ce-id", "%E2%82%AC%c3%a9"}, NULL, ST_OK, "\xe2\x82\xac\xc3\xa9", ""},
    {{"ce-id", "100%25"}, NULL, ST_OK, "100%", ""},
    {{"ce-id", "%41%42"}, NULL, ST_OK, "AB", ""},
    {{"ce-specversion", "1%2E0"}, NULL, ST_OK, "ce-1", ""},
    {{"ce-id", "100%"}, NULL, ST_INVALID, BAD_PCT("ce-id"), ""},
    {{"ce-id", "%4"}, NULL, ST_INVALID, BAD_PCT("ce-id"), ""},
    {{"ce-id", "%zz"}, NULL, ST_INVALID, BAD_PCT("ce-id"), ""},
    {{"ce-id", "%g0"}, NULL, ST_INVALID, BAD_PCT("ce-id"), ""},
    {{"ce-id", "%0g"}, NULL, ST_INVALID, BAD_PCT("ce-id"), ""},
    {{"ce-source", "/a%%20"}, NULL, ST_INVALID, BAD_PCT("ce-source"), ""},
    {{"ce-time", "%"}, NULL, ST_INVALID, BAD_PCT("ce-time"), ""},
    {{"ce-id", "a%00b"}, NULL, ST_INVALID, BAD_UTF8("ce-id"), ""},
    {{"ce-id", "%C3"}, NULL, ST_INVALID, BAD_UTF8("ce-id"), ""},
    {{"ce-id", "%C0%80"}, NULL, ST_INVALID, BAD_UTF8("ce-id"), ""},
    {{"ce-id", "%ED%A0%80"}, NULL, ST_INVALID, BAD_UTF8("ce-id"), ""},
    {{"ce-type", "\xff"}, NULL, ST_INVALID, BAD_UTF8("ce-type"), ""},
    /* quoted-string values are unquoted first, then percent-decoded (3.1.3.2) */
    {{"ce-id", "\"quoted id\""}, NULL, ST_OK, "quoted id", ""},
    {{"ce-id", "\"a\\\"b\\\\c%41\""}, NULL, ST_OK, "a\"b\\cA", ""},
    {{"ce-specversion", "\"1.0\""}, NULL, ST_OK, "ce-1", ""},
    {{"ce-id", "\"\"  "}, NULL, ST_INVALID, "missing field /context/id", "/context/id"},
    {{"ce-id", "a\"b\""}, NULL, ST_OK, "a\"b\"", ""},
    {{"ce-id", "\"unterminated"}, NULL, ST_INVALID, BAD_QUOTE("ce-id"), ""},
    {{"ce-id", "\"a\"b"}, NULL, ST_INVALID, BAD_QUOTE("ce-id"), ""},
    {{"ce-id", "\"a\\"}, NULL, ST_INVALID, BAD_QUOTE("ce-id"), ""},
    {{"ce-id", "\""}, NULL, ST_INVALID, BAD_QUOTE("ce-id"), ""},
    {{"ce-source", "\"%zz\""}, NULL, ST_INVALID, BAD_PCT("ce-source"), ""},
    {{"ce-source", "\"%00\""}, NULL, ST_INVALID, BAD_UTF8("ce-source"), ""},
    /* ce-specversion must be 1.0 */
    {{"ce-specversion", "0.3"},
     NULL,
     ST_INVALID,
     "unsupported CloudEvents specversion \"0.3\" in ce-specversion (expected \"1.0\")",
     ""},
    {{"ce-specversion", "1.0.0"},
     NULL,
     ST_INVALID,
     "unsupported CloudEvents specversion \"1.0.0\" in ce-specversion (expected \"1.0\")",
     ""},
    {{"ce-specversion", ""},
     NULL,
     ST_INVALID,
     "unsupported CloudEvents specversion \"\" in ce-specversion (expected \"1.0\")",
     ""},
    /* required headers */
    {{"ce-id", NULL}, NULL, ST_INVALID, "missing header ce-id", ""},
    {{"ce-source", NULL}, NULL, ST_INVALID, "missing header ce-source", ""},
    {{"ce-type", NULL}, NULL, ST_INVALID, "missing header ce-type", ""},
    /* ce-time is optional when the CDEvent has a timestamp */
    {{"ce-time", NULL}, cdevent_full, ST_OK, "e1", ""},
    /* ... and required when it has not */
    {{"ce-time", NULL}, NULL, ST_INVALID, "missing field /context/timestamp", "/context/timestamp"},
    {{"ce-time", "2024-01-02T04:04:05"},
     NULL,
     ST_INVALID,
     "/context/timestamp: \"2024-01-02T04:04:05\" is not an RFC 3339 date-time with a time zone",
     "/context/timestamp"},
    /* an empty header fills nothing */
    {{"ce-id", ""}, NULL, ST_INVALID, "missing field /context/id", "/context/id"},
    /* the CDEvent wins over the headers */
    {{"ce-id", "other"}, cdevent_full, ST_OK, "e1", ""},
    /* the body is still checked */
    {{NULL, NULL}, "{\"context\":[]}", ST_INVALID, "/context must be an object", "/context"},
    {{NULL, NULL}, "{", ST_INVALID, NOT_JSON "1: expected a member name", ""},
};

static void binary_mode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof binary / sizeof binary[0]; i++) {
		const struct binary_case *c = &binary[i];
		struct ingest_header h[6] = {
		    {"ce-specversion", "1.0"},
		    {"ce-id", "ce-1"},
		    {"ce-source", "/ce"},
		    {"ce-type", TYPE},
		    {"ce-time", "2024-01-02T04:04:05+01:00"},
		    {"x-other", "%zz"}, /* not a ce-* header: never decoded */
		};
		size_t n = 6;
		for (size_t k = 0; c->extra.name && k < n; k++) {
			if (strcasecmp(h[k].name, c->extra.name) != 0)
				continue;
			if (c->extra.value) {
				h[k].name = c->extra.name;
				h[k].value = c->extra.value;
			} else {
				h[k] = h[--n];
			}
			break;
		}
		const char *body = c->body ? c->body : cdevent_bare_context;
		const struct request_spec spec = {"application/json", h, n, 0};
		struct ingest_batch out;
		struct err err;

		enum status st = run(&spec, body, strlen(body), &out, &err);
		if (st != c->want)
			fail_msg("binary[%zu]: status %d (%s)", i, st, err.msg);
		if (st != ST_OK) {
			if (strcmp(err.msg, c->msg) != 0 || strcmp(err.pointer, c->pointer) != 0)
				fail_msg("binary[%zu]: \"%s\" at \"%s\"", i, err.msg, err.pointer);
			assert_empty(&out);
			continue;
		}
		assert_int_equal(out.n, 1);
		const struct event *ev = &out.events[0];
		assert_string_equal(ev->mode, "binary");
		assert_string_equal(ev->id, c->msg);
		assert_int_equal(ev->raw_len, strlen(body));
		assert_memory_equal(ev->raw, body, ev->raw_len);
		assert_string_equal(ev->producer, "ci");
		ingest_batch_release(&out);
	}
}

/* The header values fill id, source, type and time. */
static void binary_fills_context(void **state)
{
	(void)state;
	const struct ingest_header h[] = {
	    {"Ce-Specversion", "1.0"},
	    {"Ce-Id", "ce-1"},
	    {"Ce-Source", "/ce%2Fsource"},
	    {"Ce-Type", TYPE},
	    {"Ce-Time", "2024-01-02T04:04:05%2B01:00"},
	};
	const struct request_spec spec = {NULL, h, 5, 0};
	struct ingest_batch out;
	struct err err;

	assert_int_equal(run(&spec, cdevent_bare_context, strlen(cdevent_bare_context), &out, &err),
	                 ST_OK);
	const struct event *ev = &out.events[0];
	assert_string_equal(ev->mode, "binary");
	assert_string_equal(ev->id, "ce-1");
	assert_string_equal(ev->source, "/ce/source");
	assert_string_equal(ev->type, TYPE);
	assert_int_equal(ev->ts_us, CE_TS);
	assert_string_equal(ev->spec_version, "0.5.1");
	ingest_batch_release(&out);
}

/* ---- structured mode ---- */

struct structured_case {
	const char *path, *value; /* an edit of structured_base (value NULL: delete) */
	const char *path2, *value2;
	const char *msg; /* NULL: accepted */
	const char *pointer;
};

static const struct structured_case structured[] = {
    {NULL, NULL, NULL, NULL, NULL, NULL},
    /* extension attributes and other members are ignored */
    {"/myextension", "\"x\"", NULL, NULL, NULL, NULL},
    {"/subject", "\"ce-subject\"", NULL, NULL, NULL, NULL},
    {"/time", NULL, "/data/context/timestamp", "\"2024-01-02T03:04:05Z\"", NULL, NULL},
    {"/time", "null", "/data/context/timestamp", "\"2024-01-02T03:04:05Z\"", NULL, NULL},
    /* datacontenttype: absent, or any JSON media type */
    {"/datacontenttype", NULL, NULL, NULL, NULL, NULL},
    {"/datacontenttype", "null", NULL, NULL, NULL, NULL},
    {"/datacontenttype", "\"application/json; charset=utf-8\"", NULL, NULL, NULL, NULL},
    {"/datacontenttype", "\"Application/JSON\"", NULL, NULL, NULL, NULL},
    {"/datacontenttype", "\"application/cdevents+json\"", NULL, NULL, NULL, NULL},
    {"/datacontenttype", "\"text/json\"", NULL, NULL, NULL, NULL},
    {"/datacontenttype", "\"text/plain\"", NULL, NULL,
     "/datacontenttype \"text/plain\" is not JSON, so data is not a CDEvent", "/datacontenttype"},
    {"/datacontenttype", "\"application/xml\"", NULL, NULL,
     "/datacontenttype \"application/xml\" is not JSON, so data is not a CDEvent",
     "/datacontenttype"},
    {"/datacontenttype", "\"json\"", NULL, NULL,
     "/datacontenttype \"json\" is not JSON, so data is not a CDEvent", "/datacontenttype"},
    {"/datacontenttype", "\"\"", NULL, NULL,
     "/datacontenttype \"\" is not JSON, so data is not a CDEvent", "/datacontenttype"},
    {"/datacontenttype", "5", NULL, NULL, "CloudEvents attribute /datacontenttype must be a string",
     "/datacontenttype"},
    /* required attributes */
    {"/specversion", NULL, NULL, NULL, "missing CloudEvents attribute /specversion",
     "/specversion"},
    {"/specversion", "null", NULL, NULL, "missing CloudEvents attribute /specversion",
     "/specversion"},
    {"/specversion", "1.0", NULL, NULL,
     "CloudEvents attribute /specversion must be a non-empty string", "/specversion"},
    {"/specversion", "\"0.3\"", NULL, NULL,
     "unsupported CloudEvents specversion \"0.3\" (expected \"1.0\")", "/specversion"},
    {"/specversion", "\"1\"", NULL, NULL,
     "unsupported CloudEvents specversion \"1\" (expected \"1.0\")", "/specversion"},
    {"/id", NULL, NULL, NULL, "missing CloudEvents attribute /id", "/id"},
    {"/id", "\"\"", NULL, NULL, "CloudEvents attribute /id must be a non-empty string", "/id"},
    {"/id", "7", NULL, NULL, "CloudEvents attribute /id must be a non-empty string", "/id"},
    {"/source", NULL, NULL, NULL, "missing CloudEvents attribute /source", "/source"},
    {"/type", NULL, NULL, NULL, "missing CloudEvents attribute /type", "/type"},
    {"/type", "[]", NULL, NULL, "CloudEvents attribute /type must be a non-empty string", "/type"},
    {"/time", "5", NULL, NULL, "CloudEvents attribute /time must be a string", "/time"},
    /* subject and dataschema are not used, but must be non-empty strings when present */
    {"/subject", "42", NULL, NULL, "CloudEvents attribute /subject must be a non-empty string",
     "/subject"},
    {"/subject", "\"\"", NULL, NULL, "CloudEvents attribute /subject must be a non-empty string",
     "/subject"},
    {"/dataschema", "{}", NULL, NULL,
     "CloudEvents attribute /dataschema must be a non-empty string", "/dataschema"},
    {"/dataschema", "[\"https://x\"]", NULL, NULL,
     "CloudEvents attribute /dataschema must be a non-empty string", "/dataschema"},
    /* no time anywhere */
    {"/time", NULL, NULL, NULL, "missing field /data/context/timestamp", "/data/context/timestamp"},
    {"/time", "\"\"", NULL, NULL, "missing field /data/context/timestamp",
     "/data/context/timestamp"},
    /* data */
    {"/data", NULL, NULL, NULL, "missing CloudEvents attribute /data (the CDEvent)", "/data"},
    {"/data", "\"text\"", NULL, NULL, "/data must be a CDEvent JSON object", "/data"},
    {"/data", "[]", NULL, NULL, "/data must be a CDEvent JSON object", "/data"},
    {"/data", "null", NULL, NULL, "/data must be a CDEvent JSON object", "/data"},
    {"/data_base64", "\"e30=\"", NULL, NULL, "a CloudEvent must not have both data and data_base64",
     "/data_base64"},
    /* the CDEvent's failures point into data */
    {"/data/subject/id", NULL, NULL, NULL, "missing field /data/subject/id", "/data/subject/id"},
    {"/data/context/id", "\"\"", NULL, NULL, "/data/context/id must be a non-empty string",
     "/data/context/id"},
    {"/data/context/specversion", "\"0.2.0\"", NULL, NULL,
     "/data/context/specversion: unsupported CDEvents spec version \"0.2.0\" (0.3 or later is "
     "required)",
     "/data/context/specversion"},
    {"/data/subject/content/environment", NULL, NULL, NULL,
     "missing field /data/subject/content/environment", "/data/subject/content/environment"},
    {"/data/context", "5", NULL, NULL, "/data/context must be an object", "/data/context"},
};

static void structured_mode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof structured / sizeof structured[0]; i++) {
		const struct structured_case *c = &structured[i];
		char *body = edited(structured_base, c->path, c->value, c->path2, c->value2);
		struct ingest_batch out;
		struct err err;

		enum status st = run_text("application/cloudevents+json", body, &out, &err);
		if (!c->msg) {
			if (st != ST_OK)
				fail_msg("structured[%zu] rejected: %s", i, err.msg);
			assert_int_equal(out.n, 1);
			assert_string_equal(out.events[0].mode, "structured");
			assert_string_equal(out.events[0].id, "ce-1");
		} else {
			if (st != ST_INVALID)
				fail_msg("structured[%zu] accepted", i);
			if (strcmp(err.msg, c->msg) != 0 || strcmp(err.pointer, c->pointer) != 0)
				fail_msg("structured[%zu]: \"%s\" at \"%s\"", i, err.msg,
				         err.pointer);
			assert_empty(&out);
			assert_int_equal(out.item, -1);
		}
		ingest_batch_release(&out);
		cJSON_free(body);
	}
}

/* The attributes fill the CDEvent's context; raw is the data member as JSON. */
static void structured_fields_and_raw(void **state)
{
	(void)state;
	struct ingest_batch out;
	struct err err;

	assert_int_equal(run_text("application/cloudevents+json", structured_base, &out, &err),
	                 ST_OK);
	const struct event *ev = &out.events[0];
	assert_string_equal(ev->id, "ce-1");
	assert_string_equal(ev->source, "/ce");
	assert_string_equal(ev->type, TYPE);
	assert_int_equal(ev->ts_us, CE_TS);
	assert_string_equal(ev->producer, "ci");
	assert_int_equal(ev->raw_len, strlen(ev->raw));
	cJSON *raw = cJSON_ParseWithLength(ev->raw, ev->raw_len);
	cJSON *whole = cJSON_Parse(structured_base);
	assert_non_null(raw);
	assert_true(cJSON_Compare(raw, cJSON_GetObjectItemCaseSensitive(whole, "data"), true));
	cJSON_Delete(raw);
	cJSON_Delete(whole);
	ingest_batch_release(&out);

	/* the root must be an object */
	assert_int_equal(run_text("application/cloudevents+json", "[]", &out, &err), ST_INVALID);
	assert_string_equal(err.msg, "/: expected a CloudEvent JSON object");
	assert_string_equal(err.pointer, "");
	assert_int_equal(run_text("application/cloudevents+json", "{", &out, &err), ST_INVALID);
	assert_string_equal(err.msg, NOT_JSON "1: expected a member name");
}

/* data_base64 carries the CDEvent as bytes; raw is exactly those bytes. */
static void structured_base64(void **state)
{
	(void)state;
	struct ingest_batch out;
	struct err err;
	char value[1024];

	char *enc = b64(cdevent_full, strlen(cdevent_full));
	snprintf(value, sizeof value, "\"%s\"", enc);
	char *body = edited(structured_base, "/data", NULL, "/data_base64", value);
	assert_int_equal(run_text("application/cloudevents+json", body, &out, &err), ST_OK);
	const struct event *ev = &out.events[0];
	assert_string_equal(ev->mode, "structured");
	assert_string_equal(ev->id, "e1"); /* the CDEvent's own id wins */
	assert_int_equal(ev->raw_len, strlen(cdevent_full));
	assert_memory_equal(ev->raw, cdevent_full, ev->raw_len);
	ingest_batch_release(&out);
	cJSON_free(body);

	/* unpadded base64 is fine too */
	enc[strcspn(enc, "=")] = '\0';
	snprintf(value, sizeof value, "\"%s\"", enc);
	body = edited(structured_base, "/data", NULL, "/data_base64", value);
	assert_int_equal(run_text("application/cloudevents+json", body, &out, &err), ST_OK);
	ingest_batch_release(&out);
	cJSON_free(body);
	free(enc);

	/* the CloudEvent attributes fill what the decoded CDEvent lacks */
	enc = b64(cdevent_bare_context, strlen(cdevent_bare_context));
	snprintf(value, sizeof value, "\"%s\"", enc);
	free(enc);
	body = edited(structured_base, "/data", NULL, "/data_base64", value);
	assert_int_equal(run_text("application/cloudevents+json", body, &out, &err), ST_OK);
	assert_string_equal(out.events[0].id, "ce-1");
	assert_int_equal(out.events[0].ts_us, CE_TS);
	ingest_batch_release(&out);
	cJSON_free(body);
}

struct b64_case {
	const char *decoded; /* NULL: use `raw` as the JSON string value */
	const char *raw;
	const char *msg, *pointer;
};

static const struct b64_case bad_b64[] = {
    {NULL, "\"!!!!\"", "/data_base64 is not valid base64", "/data_base64"},
    {NULL, "\"e30\\n\"", "/data_base64 is not valid base64", "/data_base64"},
    {NULL, "\"e30===\"", "/data_base64 is not valid base64", "/data_base64"},
    {NULL, "\"e\"", "/data_base64 is not valid base64", "/data_base64"},
    {NULL, "5", "/data_base64 is not valid base64", "/data_base64"},
    {NULL, "{}", "/data_base64 is not valid base64", "/data_base64"},
    {"{", NULL, "/data_base64 is not valid JSON: invalid JSON at byte 1: expected a member name",
     "/data_base64"},
    {"", NULL, "/data_base64 is not valid JSON: invalid JSON at byte 0: unexpected end of input",
     "/data_base64"},
    {"{\"a\":\"\xff\"}", NULL,
     "/data_base64 is not valid JSON: invalid JSON at byte 6: invalid UTF-8", "/data_base64"},
    {"[]", NULL, "/data_base64: expected a CDEvent JSON object", "/data_base64"},
    {"{\"a\":1,\"a\":2}", NULL, "duplicate member name at /a", "/data_base64"},
    {"{\"context\":{\"specversion\":\"0.5.1\"},\"subject\":{}}", NULL,
     "missing field /data_base64/subject/id", "/data_base64/subject/id"},
};

static void structured_bad_base64(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_b64 / sizeof bad_b64[0]; i++) {
		const struct b64_case *c = &bad_b64[i];
		char value[512];
		struct ingest_batch out;
		struct err err;

		if (c->decoded) {
			char *enc = b64(c->decoded, strlen(c->decoded));
			snprintf(value, sizeof value, "\"%s\"", enc);
			free(enc);
		} else {
			snprintf(value, sizeof value, "%s", c->raw);
		}
		char *body = edited(structured_base, "/data", NULL, "/data_base64", value);
		assert_int_equal(run_text("application/cloudevents+json", body, &out, &err),
		                 ST_INVALID);
		if (strcmp(err.msg, c->msg) != 0 || strcmp(err.pointer, c->pointer) != 0)
			fail_msg("bad_b64[%zu]: \"%s\" at \"%s\"", i, err.msg, err.pointer);
		assert_empty(&out);
		cJSON_free(body);
	}
}

/* ---- batch mode ---- */

#define BATCH "application/cloudevents-batch+json"

/* A batch of `n` copies of structured_base with ids ce-0, ce-1, ...; item `bad` edited. */
static char *batch_of(size_t n, long bad, const char *path, const char *value)
{
	struct buf b = BUF_INIT(0);

	buf_putc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof id, "\"ce-%zu\"", i);
		char *item =
		    edited(structured_base, "/id", id, (long)i == bad ? path : NULL, value);
		buf_printf(&b, "%s%s", i ? "," : "", item);
		cJSON_free(item);
	}
	buf_putc(&b, ']');
	return buf_detach(&b, NULL);
}

static void batch_ok(void **state)
{
	(void)state;
	struct ingest_batch out;
	struct err err;

	assert_int_equal(run_text(BATCH, "[]", &out, &err), ST_OK);
	assert_int_equal(out.n, 0);
	assert_int_equal(out.item, -1);
	ingest_batch_release(&out);
	assert_int_equal(run_text(BATCH, " [ ] ", &out, &err), ST_OK);
	assert_int_equal(out.n, 0);
	ingest_batch_release(&out);

	char *body = batch_of(5, -1, NULL, NULL);
	assert_int_equal(run_text(BATCH, body, &out, &err), ST_OK);
	assert_int_equal(out.n, 5);
	assert_int_equal(out.item, -1);
	for (size_t i = 0; i < 5; i++) {
		char id[32];
		snprintf(id, sizeof id, "ce-%zu", i);
		assert_string_equal(out.events[i].id, id);
		assert_string_equal(out.events[i].mode, "batch");
		assert_string_equal(out.events[i].producer, "ci");
		assert_non_null(out.events[i].raw);
	}
	ingest_batch_release(&out);
	assert_empty(&out);
	free(body);
}

struct batch_case {
	size_t n;
	long bad;
	const char *path, *value;
	const char *msg, *pointer;
};

static const struct batch_case batch_errors[] = {
    {3, 2, "/data/context/id", "\"\"", "/2/data/context/id must be a non-empty string",
     "/2/data/context/id"},
    {3, 0, "/data/subject/id", NULL, "missing field /0/data/subject/id", "/0/data/subject/id"},
    {3, 1, "/specversion", "\"0.3\"",
     "unsupported CloudEvents specversion \"0.3\" (expected "
     "\"1.0\")",
     "/1/specversion"},
    {3, 1, "/id", NULL, "missing CloudEvents attribute /1/id", "/1/id"},
    {12, 11, "/data", "[]", "/11/data must be a CDEvent JSON object", "/11/data"},
    {3, 2, "/data_base64", "\"e30=\"", "a CloudEvent must not have both data and data_base64",
     "/2/data_base64"},
    {3, 1, "/datacontenttype", "\"text/xml\"",
     "/1/datacontenttype \"text/xml\" is not JSON, so data is not a CDEvent", "/1/datacontenttype"},
    {2, 1, "/data/context/type", "\"dev.cdevents.nope.nope.0.1.0\"",
     "/1/data/context/type: unknown event type \"dev.cdevents.nope.nope.0.1.0\"",
     "/1/data/context/type"},
};

static void batch_item_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof batch_errors / sizeof batch_errors[0]; i++) {
		const struct batch_case *c = &batch_errors[i];
		char *body = batch_of(c->n, c->bad, c->path, c->value);
		struct ingest_batch out;
		struct err err;

		assert_int_equal(run_text(BATCH, body, &out, &err), ST_INVALID);
		if (strcmp(err.msg, c->msg) != 0 || strcmp(err.pointer, c->pointer) != 0)
			fail_msg("batch_errors[%zu]: \"%s\" at \"%s\"", i, err.msg, err.pointer);
		assert_int_equal(out.item, c->bad);
		assert_empty(&out);
		free(body);
	}
}

/* Items that are not objects, and bodies that are not arrays. */
static void batch_shapes(void **state)
{
	(void)state;
	struct ingest_batch out;
	struct err err;
	char body[4096];

	snprintf(body, sizeof body, "[%s,5]", structured_base);
	assert_int_equal(run_text(BATCH, body, &out, &err), ST_INVALID);
	assert_string_equal(err.msg, "/1: expected a CloudEvent JSON object");
	assert_string_equal(err.pointer, "/1");
	assert_int_equal(out.item, 1);
	assert_empty(&out);

	assert_int_equal(run_text(BATCH, "[null]", &out, &err), ST_INVALID);
	assert_string_equal(err.pointer, "/0");
	assert_int_equal(out.item, 0);

	static const char *const not_arrays[] = {"{}", "\"x\"", "1", "null"};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(run_text(BATCH, not_arrays[i], &out, &err), ST_INVALID);
		assert_string_equal(err.msg, "a batch must be a JSON array of CloudEvents");
		assert_string_equal(err.pointer, "");
		assert_int_equal(out.item, -1);
	}
	/* a whole structured event is not a batch */
	assert_int_equal(run_text(BATCH, structured_base, &out, &err), ST_INVALID);
	assert_int_equal(run_text(BATCH, "[", &out, &err), ST_INVALID);
	assert_string_equal(err.msg, NOT_JSON "1: unexpected end of input");
	assert_int_equal(out.item, -1);
}

/* More than max_batch items: 413, before any item is looked at. */
static void batch_too_large(void **state)
{
	(void)state;
	struct ingest_batch out;
	struct err err;
	char *body = batch_of(3, 0, "/id", NULL); /* item 0 is invalid, too */
	const struct request_spec two = {BATCH, NULL, 0, 2}, three = {BATCH, NULL, 0, 3};

	assert_int_equal(run(&two, body, strlen(body), &out, &err), ST_TOO_LARGE);
	assert_int_equal(err.status, ST_TOO_LARGE);
	assert_string_equal(err.msg, "batch of 3 events exceeds the limit of 2");
	assert_int_equal(out.item, -1);
	assert_empty(&out);
	/* at the limit: the items are checked */
	assert_int_equal(run(&three, body, strlen(body), &out, &err), ST_INVALID);
	assert_int_equal(out.item, 0);
	free(body);

	body = batch_of(3, -1, NULL, NULL);
	assert_int_equal(run(&three, body, strlen(body), &out, &err), ST_OK);
	assert_int_equal(out.n, 3);
	ingest_batch_release(&out);
	free(body);

	const struct request_spec one = {BATCH, NULL, 0, 1};
	assert_int_equal(run(&one, "[1,2]", 5, &out, &err), ST_TOO_LARGE);
	assert_int_equal(run(&one, "[]", 2, &out, &err), ST_OK);
	ingest_batch_release(&out);
}

/* ---- duplicate member names ---- */

struct dup_case {
	const char *content_type;
	const char *body;
	const char *pointer;
};

#define CTX_OK                                                                                     \
	"\"specversion\":\"0.5.1\",\"id\":\"e1\",\"source\":\"/s\",\"type\":\"" TYPE "\","         \
	"\"timestamp\":\"2024-01-02T03:04:05Z\""
#define SUBJ_OK "\"id\":\"svc\"," CONTENT

static const struct dup_case dups[] = {
    {"application/json", "{\"context\":{" CTX_OK ",\"id\":\"e2\"},\"subject\":{" SUBJ_OK "}}",
     "/context/id"},
    {"application/json",
     "{\"context\":{" CTX_OK "},\"subject\":{" SUBJ_OK "},\"subject\":{" SUBJ_OK "}}", "/subject"},
    {"application/json",
     "{\"context\":{" CTX_OK "},\"subject\":{" SUBJ_OK ",\"x\":[1,{\"a\":1,\"a\":2}]}}",
     "/subject/x/1/a"},
    {"application/json", "{\"a\":1,\"\\u0061\":2}", "/a"},
    {"application/json", "{\"\":1,\"\":2}", "/"},
    {"application/json", "{\"a/b\":{\"m~n\":{\"x\":1,\"x\":2}}}", "/a~1b/m~0n/x"},
    {"application/json", "[[{\"k\":{\"k\":1,\"k\":1}}]]", "/0/0/k/k"},
    {"application/cloudevents+json",
     "{\"specversion\":\"1.0\",\"id\":\"1\",\"id\":\"2\",\"source\":\"/s\",\"type\":\"t\"}", "/id"},
    {"application/cloudevents+json",
     "{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\",\"data\":"
     "{\"context\":{" CTX_OK "},\"subject\":{" SUBJ_OK ",\"id\":\"other\"}}}",
     "/data/subject/id"},
    {BATCH, "[{},{\"a\":{\"b\":[],\"b\":[]}}]", "/1/a/b"},
};

static void duplicate_names(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof dups / sizeof dups[0]; i++) {
		struct ingest_batch out;
		struct err err;
		char msg[512];

		assert_int_equal(run_text(dups[i].content_type, dups[i].body, &out, &err),
		                 ST_INVALID);
		snprintf(msg, sizeof msg, "duplicate member name at %s", dups[i].pointer);
		if (strcmp(err.msg, msg) != 0 || strcmp(err.pointer, dups[i].pointer) != 0)
			fail_msg("dups[%zu]: \"%s\" at \"%s\"", i, err.msg, err.pointer);
		assert_empty(&out);
		assert_int_equal(out.item, -1);
	}
	/* binary mode too */
	const struct ingest_header h[] = {
	    {"ce-specversion", "1.0"}, {"ce-id", "i"}, {"ce-source", "/s"}, {"ce-type", TYPE}};
	const struct request_spec spec = {"application/json", h, 4, 0};
	struct ingest_batch out;
	struct err err;
	const char *body = dups[0].body;
	assert_int_equal(run(&spec, body, strlen(body), &out, &err), ST_INVALID);
	assert_string_equal(err.pointer, "/context/id");
}

/* n copies of s. */
static char *repeat(const char *s, size_t n)
{
	struct buf b = BUF_INIT(0);

	for (size_t i = 0; i < n; i++)
		buf_puts(&b, s);
	return buf_detach(&b, NULL);
}

/* Messages quote at most so many bytes of a value, and only whole UTF-8 characters: a
 * message goes into a JSON reply as it is (found by tests/fuzz/fuzz_envelope.c). */
static void messages_quote_whole_characters(void **state)
{
	(void)state;
	char *e15 = repeat("\xc3\xa9", 15), *e9 = repeat("\xc3\xa9", 9);
	char *e80 = repeat("\xc3\xa9", 80), *e50 = repeat("\xc3\xa9", 50);
	struct buf body = BUF_INIT(0), want = BUF_INIT(0);
	struct ingest_batch out;
	struct err err;

	/* the CloudEvents specversion: 20 bytes at most, so "1" and 9 two-byte characters */
	buf_printf(&body, "{\"specversion\":\"1%s\",\"id\":\"i\",\"source\":\"/s\",\"type\":\"t\","
		   "\"data\":{}}", e15);
	assert_int_equal(run_text("application/cloudevents+json", buf_cstr(&body), &out, &err),
	                 ST_INVALID);
	buf_printf(&want, "unsupported CloudEvents specversion \"1%s\" (expected \"1.0\")", e9);
	assert_string_equal(err.msg, buf_cstr(&want));
	/* a CDEvent value (context.type): 100 bytes at most */
	buf_reset(&body);
	buf_reset(&want);
	buf_printf(&body, "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"i\",\"source\":\"/s\","
		   "\"type\":\"x%s\",\"timestamp\":\"2024-01-02T03:04:05Z\"},\"subject\":{"
		   SUBJ_OK "}}", e80);
	assert_int_equal(run_text("application/json", buf_cstr(&body), &out, &err), ST_INVALID);
	buf_printf(&want, "/context/type: \"x%.98s\" is not a CDEvents type", e50);
	assert_non_null(strstr(err.msg, buf_cstr(&want)));
	buf_release(&want);
	buf_release(&body);
	free(e15);
	free(e9);
	free(e80);
	free(e50);
}

/* A duplicate deeper than err->pointer can hold is pointed at by its nearest ancestor that
 * fits, never by a pointer cut inside a name or a character. */
static void long_duplicate_paths(void **state)
{
	(void)state;
	char *name = repeat("\xc3\xa9", 30); /* 60 bytes: 61 per level with its '/' */
	struct buf body = BUF_INIT(0), path = BUF_INIT(0);
	struct ingest_batch out;
	struct err err;

	for (int i = 0; i < 5; i++) {
		buf_printf(&body, "{\"%s\":", name);
		buf_printf(&path, "/%s", name);
	}
	buf_puts(&body, "{\"a\":1,\"a\":2}}}}}}");
	assert_int_equal(run_text("application/json", buf_cstr(&body), &out, &err), ST_INVALID);
	/* the full path, /<name>x5/a, is 307 bytes: its 4-level ancestor (244) is the pointer */
	assert_int_equal(strlen(err.pointer), 4 * 61);
	assert_memory_equal(err.pointer, buf_cstr(&path), 4 * 61);
	assert_true(json_utf8_valid(err.msg, strlen(err.msg)));
	assert_empty(&out);
	buf_release(&path);
	buf_release(&body);
	free(name);
}

/* Names that only look alike are not duplicates. */
static void near_duplicates_accepted(void **state)
{
	(void)state;
	static const char body[] =
	    "{\"context\":{" CTX_OK ",\"Id\":\"x\",\"id \":\"y\"},\"subject\":{" SUBJ_OK
	    ",\"x\":[{\"a\":1},{\"a\":1}],\"y\":{\"a\":{\"a\":{\"a\":1}}}}}";
	struct ingest_batch out;
	struct err err;

	assert_int_equal(run_text("application/json", body, &out, &err), ST_OK);
	assert_int_equal(out.n, 1);
	ingest_batch_release(&out);
}

static void release_is_safe(void **state)
{
	(void)state;
	struct ingest_batch b = {0};

	ingest_batch_release(&b);
	ingest_batch_release(&b);
	ingest_batch_release(NULL);
	assert_int_equal(b.item, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(media_types),
	    cmocka_unit_test(unsupported_media_hint),
	    cmocka_unit_test(content_encodings),
	    cmocka_unit_test(media_type_beats_headers),
	    cmocka_unit_test(bare_event),
	    cmocka_unit_test(bare_uses_len),
	    cmocka_unit_test(bare_ignores_other_ce_headers),
	    cmocka_unit_test(bare_bad_bodies),
	    cmocka_unit_test(binary_mode),
	    cmocka_unit_test(binary_fills_context),
	    cmocka_unit_test(structured_mode),
	    cmocka_unit_test(structured_fields_and_raw),
	    cmocka_unit_test(structured_base64),
	    cmocka_unit_test(structured_bad_base64),
	    cmocka_unit_test(batch_ok),
	    cmocka_unit_test(batch_item_errors),
	    cmocka_unit_test(batch_shapes),
	    cmocka_unit_test(batch_too_large),
	    cmocka_unit_test(duplicate_names),
	    cmocka_unit_test(near_duplicates_accepted),
	    cmocka_unit_test(messages_quote_whole_characters),
	    cmocka_unit_test(long_duplicate_paths),
	    cmocka_unit_test(release_is_safe),
	};

	/* the CloudEvent/CDEvent disagreement warnings are expected here */
	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
