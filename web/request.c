/*
 * web/request.c: replies and request helpers over civetweb.
 * Why our own reply functions: every response must carry the same headers (content type,
 * no-store caching for API data, request id) and errors must share one problem+json shape.
 */
#include "web/request.h"

#include <civetweb.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "web/app.h"

int status_http(enum status st)
{
	switch (st) {
	case ST_OK: return 200;
	case ST_INVALID: return 400;
	case ST_UNAUTHORIZED: return 401;
	case ST_NOT_FOUND: return 404;
	case ST_TOO_LARGE: return 413;
	case ST_UNSUPPORTED: return 415;
	case ST_CONFLICT: return 409;
	case ST_UNAVAILABLE: return 503;
	case ST_INTERNAL: return 500;
	}
	return 500;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Status";
}

/* "Mon, 23 Nov 2026 09:00:00 GMT" */
static void http_date(char out[32])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, 32, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/*
 * The whole response goes out in ONE write: with TCP_NODELAY, separate writes for the
 * headers and the body cost a second segment (and syscall) per response, which was the
 * largest single cost of ingest under load.
 */
int reply_with_headers(struct request *req, int status, const char *content_type,
		       const char *extra_headers, const char *body, size_t len)
{
	struct buf out = BUF_INIT(0);
	char date[32];
	bool head = strcasecmp(req->method, "HEAD") == 0;

	/* API answers are never cached; a caller may say otherwise (the dashboard's assets) */
	bool own_cache = extra_headers && strstr(extra_headers, "Cache-Control:");

	http_date(date);
	req->status = status;
	buf_printf(&out,
		   "HTTP/1.1 %d %s\r\n"
		   "Date: %s\r\n"
		   "Content-Type: %s\r\n"
		   "Content-Length: %zu\r\n"
		   "%s"
		   "X-Content-Type-Options: nosniff\r\n"
		   "X-Request-Id: %s\r\n"
		   "%s\r\n",
		   status, reason(status), date, content_type, len,
		   own_cache ? "" : "Cache-Control: no-store\r\n", req->id,
		   extra_headers ? extra_headers : "");
	if (!head)
		buf_append(&out, body, len);
	mg_write(req->conn, out.data, out.len);
	buf_release(&out);
	return status;
}

int reply_json(struct request *req, int status, const char *json, size_t len)
{
	return reply_with_headers(req, status, "application/json", NULL, json, len);
}

/* Append `json` with '<', '>' and '&' written as \u escapes: the same JSON value, and safe
 * to embed in an HTML page whatever the events contained. */
static void append_html_safe(struct buf *out, const char *json)
{
	for (const char *p = json; *p;) {
		size_t n = strcspn(p, "<>&");
		buf_append(out, p, n);
		p += n;
		if (*p)
			buf_printf(out, "\\u%04x", (unsigned)(unsigned char)*p++);
	}
}

int reply_cjson(struct request *req, struct cJSON *root)
{
	struct buf body = BUF_INIT(0);
	char *text = cJSON_PrintUnformatted(root);

	if (!text)
		abort(); /* out of memory (practice 10) */
	append_html_safe(&body, text);
	int status = reply_json(req, 200, body.data, body.len);
	cJSON_free(text);
	cJSON_Delete(root);
	buf_release(&body);
	return status;
}

int reply_csv(struct request *req, const struct buf *csv)
{
	return reply_with_headers(req, 200, "text/csv; charset=utf-8", NULL, buf_cstr(csv),
				  csv->len);
}

int reply_problem(struct request *req, const struct err *err, int index)
{
	int status = status_http(err->status);
	struct buf b = BUF_INIT(0);
	char extra[128] = "";


	buf_printf(&b, "{\"type\":\"about:blank\",\"title\":\"%s\",\"status\":%d,\"detail\":",
		   reason(status), status);
	buf_json_cstr(&b, err->msg);
	if (err->pointer[0] || err->status == ST_INVALID) {
		buf_puts(&b, ",\"pointer\":");
		buf_json_cstr(&b, err->pointer);
	}
	if (index >= 0)
		buf_printf(&b, ",\"index\":%d", index);
	if (err->detail[0] && status < 500) { /* 5xx details are server internals: log only */
		buf_puts(&b, ",\"hint\":");
		buf_json_cstr(&b, err->detail);
	}
	buf_puts(&b, ",\"instance\":");
	buf_json_cstr(&b, req->path);
	buf_printf(&b, ",\"request_id\":\"%s\"}", req->id);
	if (status == 503)
		snprintf(extra, sizeof extra, "Retry-After: %ld\r\n", req->app->cfg->retry_after_s);
	else if (status == 401)
		snprintf(extra, sizeof extra, "WWW-Authenticate: Bearer realm=\"cdlens\"\r\n");
	else if (status == 413)
		snprintf(extra, sizeof extra, "Connection: close\r\n");
	reply_with_headers(req, status, "application/problem+json", extra, buf_cstr(&b), b.len);
	buf_release(&b);
	return status;
}

const char *request_header(const struct request *req, const char *name)
{
	return mg_get_header(req->conn, name);
}

enum status request_read_body(struct request *req, size_t max)
{
	const struct mg_request_info *ri = mg_get_request_info(req->conn);
	char chunk[16384];
	int n;

	req->body.max = max;
	if (ri->content_length > (long long)max)
		return err_set(&req->err, ST_TOO_LARGE, "request body of %lld bytes exceeds the "
			       "limit of %zu bytes", ri->content_length, max);
	while ((n = mg_read(req->conn, chunk, sizeof chunk)) > 0) {
		buf_append(&req->body, chunk, (size_t)n);
		if (req->body.overflow)
			return err_set(&req->err, ST_TOO_LARGE, "request body exceeds the limit of "
				       "%zu bytes", max);
	}
	if (n < 0 || (ri->content_length >= 0 && (long long)req->body.len != ri->content_length))
		return err_set(&req->err, ST_INVALID, "the request body ended early");
	return ST_OK;
}
