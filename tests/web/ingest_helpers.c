/* tests/web/ingest_helpers.c: see ingest_helpers.h. */
#include "web/ingest_helpers.h"

#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "support/fixture.h"
#include "support/server.h"

const char *const post_mode_names[MODE_COUNT] = {"bare", "binary", "structured", "batch"};

/* Percent-encode a header value as the CloudEvents HTTP binding asks. */
static void header_value(struct buf *b, const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f || *p == '%' || *p == '"')
			buf_printf(b, "%%%02X", *p);
		else
			buf_putc(b, (char)*p);
	}
}

static const char *ctx_string(const cJSON *ctx, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ctx, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void binary_headers(struct buf *h, const cJSON *ctx)
{
	static const char *const map[][2] = {
		{"ce-id", "id"}, {"ce-source", "source"}, {"ce-type", "type"}, {"ce-time", "timestamp"}};

	buf_puts(h, "Content-Type: application/json; charset=utf-8\r\nce-specversion: 1.0\r\n");
	for (size_t i = 0; i < 4; i++) {
		const char *v = ctx_string(ctx, map[i][1]);
		if (!v)
			continue;
		buf_printf(h, "%s: ", map[i][0]);
		header_value(h, v);
		buf_puts(h, "\r\n");
	}
}

static void structured_body(struct buf *b, const cJSON *ctx, const char *event)
{
	buf_puts(b, "{\"specversion\":\"1.0\",\"id\":");
	buf_json_cstr(b, ctx_string(ctx, "id") ? ctx_string(ctx, "id") : "x");
	buf_puts(b, ",\"source\":");
	buf_json_cstr(b, ctx_string(ctx, "source") ? ctx_string(ctx, "source") : "x");
	buf_puts(b, ",\"type\":");
	buf_json_cstr(b, ctx_string(ctx, "type") ? ctx_string(ctx, "type") : "x");
	buf_puts(b, ",\"datacontenttype\":\"application/json\",\"data\":");
	buf_puts(b, event);
	buf_putc(b, '}');
}

int post_event(int port, enum post_mode mode, const char *event, struct http_response *out)
{
	struct buf headers = BUF_INIT(0), body = BUF_INIT(0);
	cJSON *root = cJSON_Parse(event);
	const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(root, "context");

	buf_puts(&headers, TEST_TOKEN_HEADER);
	switch (mode) {
	case MODE_BARE:
		buf_puts(&headers, "Content-Type: application/json\r\n");
		buf_puts(&body, event);
		break;
	case MODE_BINARY:
		binary_headers(&headers, ctx);
		buf_puts(&body, event);
		break;
	case MODE_STRUCTURED:
		buf_puts(&headers, "Content-Type: application/cloudevents+json\r\n");
		structured_body(&body, ctx, event);
		break;
	default:
		buf_puts(&headers, "Content-Type: application/cloudevents-batch+json\r\n");
		buf_putc(&body, '[');
		structured_body(&body, ctx, event);
		buf_putc(&body, ']');
		break;
	}
	int status = http_request(port, "POST", "/api/v1/events", buf_cstr(&headers), buf_cstr(&body),
				  body.len, out);
	cJSON_Delete(root);
	buf_release(&headers);
	buf_release(&body);
	return status;
}

size_t post_jsonl(int port, enum post_mode mode, const char *relpath)
{
	struct fixture f = fixture_load(relpath);
	size_t n = 0;

	for (char *line = strtok(f.data, "\n"); line; line = strtok(NULL, "\n"), n++) {
		struct http_response r = {0};
		if (post_event(port, mode, line, &r) != 202)
			fail_msg("%s line %zu refused (%d): %s", relpath, n + 1, r.status, r.body);
		http_response_release(&r);
	}
	fixture_release(&f);
	return n;
}

int post_batch(int port, const char *const *events, size_t n, struct http_response *out)
{
	struct buf body = BUF_INIT(0);

	buf_putc(&body, '[');
	for (size_t i = 0; i < n; i++) {
		cJSON *root = cJSON_Parse(events[i]);
		buf_puts(&body, i ? "," : "");
		structured_body(&body, cJSON_GetObjectItemCaseSensitive(root, "context"), events[i]);
		cJSON_Delete(root);
	}
	buf_putc(&body, ']');
	int status = http_request(port, "POST", "/api/v1/events",
				  TEST_TOKEN_HEADER
				  "Content-Type: application/cloudevents-batch+json\r\n",
				  buf_cstr(&body), body.len, out);
	buf_release(&body);
	return status;
}

long reply_count(const struct http_response *r, const char *member)
{
	cJSON *root = cJSON_Parse(r->body);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, member);
	long n = cJSON_IsNumber(v) ? (long)v->valuedouble : -1;

	cJSON_Delete(root);
	return n;
}

const char *assert_problem(const struct http_response *r, int status, char *buf, size_t cap)
{
	char ct[128];
	cJSON *root = cJSON_Parse(r->body);

	if (r->status != status)
		fail_msg("expected status %d, got %d: %s", status, r->status, r->body);
	assert_non_null(http_header(r, "Content-Type", ct, sizeof ct));
	assert_string_equal(ct, "application/problem+json");
	assert_non_null(root);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
	const cJSON *detail = cJSON_GetObjectItemCaseSensitive(root, "detail");
	const cJSON *pointer = cJSON_GetObjectItemCaseSensitive(root, "pointer");
	assert_true(cJSON_IsNumber(st) && (int)st->valuedouble == status);
	assert_true(cJSON_IsString(detail) && detail->valuestring[0]);
	snprintf(buf, cap, "%s", cJSON_IsString(pointer) ? pointer->valuestring : "");
	cJSON_Delete(root);
	return buf;
}
