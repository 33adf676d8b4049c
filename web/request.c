/*
 * web/request.c: replies and request helpers over civetweb.
 * Why our own reply functions: every response must carry the same headers (content type,
 * no-store caching for API data, request id, security headers) and errors must share one
 * problem+json shape.
 * Authentication is here too, so ingest (web/api_events.c) and read access (web/routes.c)
 * check tokens the same way.
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

#include "core/base64.h"
#include "core/clock.h"
#include "core/config.h"
#include "ingest/json_check.h"
#include "web/app.h"

/* A JSON or CSV answer opened in a browser may load, run and frame nothing. */
#define API_CSP "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"

int status_http(enum status st)
{
	switch (st) {
	case ST_OK: return 200;
	case ST_INVALID: return 400;
	case ST_UNAUTHORIZED: return 401;
	case ST_FORBIDDEN: return 403;
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
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
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

/* Why the request's framing is ambiguous (RFC 9112 6.3), or NULL when it is not: a proxy in
 * front may read such a request's end, and so the start of the next one, differently. */
static const char *framing_problem(const struct request *req)
{
	const struct mg_request_info *ri = mg_get_request_info(req->conn);
	int lengths = 0, codings = 0;

	for (int i = 0; i < ri->num_headers; i++) {
		const char *name = ri->http_headers[i].name, *v = ri->http_headers[i].value;
		if (strcasecmp(name, "Transfer-Encoding") == 0) {
			/* civetweb frames only "chunked"; it takes "identity" (obsolete, RFC 9112
			 * removed it) as no body at all, so the body would be read as a next request */
			if (strcasecmp(v + strspn(v, " \t"), "chunked") != 0)
				return "Transfer-Encoding other than chunked";
			codings++;
			continue;
		}
		if (strcasecmp(name, "Content-Length") != 0)
			continue;
		lengths++;
		v += strspn(v, " \t");
		size_t n = strspn(v, "0123456789");
		if (n == 0 || v[n + strspn(v + n, " \t")] != '\0')
			return "Content-Length is not a number of bytes";
	}
	/* civetweb keeps the first MG_MAX_HEADERS header fields and drops the rest unseen,
	 * a Content-Length among them */
	if (ri->num_headers >= MG_MAX_HEADERS)
		return "too many header fields";
	if (lengths > 1)
		return "more than one Content-Length";
	if (codings > 1)
		return "more than one Transfer-Encoding";
	if (lengths && codings)
		return "both Content-Length and Transfer-Encoding";
	return NULL;
}

bool request_well_formed(struct request *req)
{
	const struct mg_request_info *ri = mg_get_request_info(req->conn);
	const char *problem = framing_problem(req);
	int hosts = 0;

	if (problem) {
		err_set(&req->err, ST_INVALID, "the request's length is ambiguous: %s", problem);
		err_detail(&req->err, "Send at most %d header fields, and the body with one "
				      "Content-Length, or with Transfer-Encoding: chunked and no "
				      "Content-Length.", MG_MAX_HEADERS - 1);
		return false;
	}
	for (int i = 0; i < ri->num_headers; i++)
		hosts += strcasecmp(ri->http_headers[i].name, "Host") == 0;
	if (hosts > 1 || (hosts == 0 && strcmp(ri->http_version, "1.1") == 0)) {
		err_set(&req->err, ST_INVALID, "the request has %s Host header (HTTP/1.1 needs one)",
			hosts ? "more than one" : "no");
		return false;
	}
	return true;
}

/* Whether the connection must close after this answer. When a body was announced and not
 * read (a GET with one, a refused POST), keeping the connection would have civetweb read
 * and discard the rest before the next request, with no deadline but a byte every
 * --request-timeout-ms: a client trickling it would hold the worker for ever. Closing
 * skips that. Also after a refusal whose framing is ambiguous, or of a POST whose body
 * was not read (it would be parsed as the next request). */
static bool must_close(const struct request *req, int status)
{
	const struct mg_request_info *ri = mg_get_request_info(req->conn);
	bool announced = mg_get_header(req->conn, "Transfer-Encoding") ||
			 (mg_get_header(req->conn, "Content-Length") && ri->content_length != 0);

	if (!req->body_read && announced)
		return true;
	if (status < 400)
		return false;
	return framing_problem(req) || (!req->body_read && strcmp(req->method, "POST") == 0);
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
	bool close = must_close(req, status);

	/* API answers are never cached, and allow nothing to a browser that opens one (no
	 * script, no style, no framing); a caller may say otherwise (the dashboard's pages) */
	bool own_cache = extra_headers && strstr(extra_headers, "Cache-Control:");
	bool own_csp = extra_headers && strstr(extra_headers, "Content-Security-Policy:");

	/* a 304 has no body, and a Content-Length on it would have to be the 200's (RFC 9110) */
	char length[48] = "";
	if (status != 304)
		snprintf(length, sizeof length, "Content-Length: %zu\r\n", len);

	http_date(date);
	req->status = status;
	buf_printf(&out,
		   "HTTP/1.1 %d %s\r\n"
		   "Date: %s\r\n"
		   "Content-Type: %s\r\n"
		   "%s"
		   "%s%s"
		   "X-Content-Type-Options: nosniff\r\n"
		   "X-Frame-Options: DENY\r\n"
		   "Referrer-Policy: no-referrer\r\n"
		   "X-Request-Id: %s\r\n"
		   "%s%s\r\n",
		   status, reason(status), date, content_type, length,
		   own_cache ? "" : "Cache-Control: no-store\r\n",
		   own_csp ? "" : API_CSP,
		   req->id, extra_headers ? extra_headers : "", close ? "Connection: close\r\n" : "");
	if (!head)
		buf_append(&out, body, len);
	if (close) /* civetweb does not read our headers: tell it too */
		mg_disable_connection_keep_alive(req->conn);
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

/* Append `text` as a JSON string, each byte that is not part of valid UTF-8 (a path or a
 * header can hold any) written as U+FFFD, so that the problem body is always valid JSON. */
static void append_json_text(struct buf *b, const char *text)
{
	struct buf clean = BUF_INIT(0);
	size_t len = strlen(text);

	for (size_t n; len; text += n, len -= n) {
		n = json_utf8_prefix(text, len, len);
		buf_append(&clean, text, n);
		if (n < len) {
			buf_puts(&clean, "\xef\xbf\xbd");
			n++;
		}
	}
	buf_json_str(b, buf_cstr(&clean), clean.len);
	buf_release(&clean);
}

/* The RFC 9457 body (members in the order docs/INGEST.md lists) and its reply. */
static int send_problem(struct request *req, int status, const struct err *err, int index,
			const char *extra)
{
	struct buf b = BUF_INIT(0);

	buf_printf(&b, "{\"type\":\"about:blank\",\"title\":\"%s\",\"status\":%d,\"detail\":",
		   reason(status), status);
	append_json_text(&b, err->msg);
	if (err->pointer[0] || status == 400) {
		buf_puts(&b, ",\"pointer\":");
		append_json_text(&b, err->pointer);
	}
	if (index >= 0)
		buf_printf(&b, ",\"index\":%d", index);
	if (err->detail[0] && status < 500) { /* 5xx details are server internals: log only */
		buf_puts(&b, ",\"hint\":");
		append_json_text(&b, err->detail);
	}
	buf_puts(&b, ",\"instance\":");
	append_json_text(&b, req->path);
	buf_printf(&b, ",\"request_id\":\"%s\"}", req->id);
	reply_with_headers(req, status, "application/problem+json", extra, buf_cstr(&b), b.len);
	buf_release(&b);
	return status;
}

int reply_problem(struct request *req, const struct err *err, int index)
{
	int status = status_http(err->status);
	char extra[192] = "";

	if (status == 503)
		snprintf(extra, sizeof extra, "Retry-After: %ld\r\n", req->app->cfg->retry_after_s);
	else if (status == 401 && req->access == REQUEST_READ) /* Basic: browsers ask for it */
		snprintf(extra, sizeof extra, "WWW-Authenticate: Bearer realm=\"cdlens read\"\r\n"
			 "WWW-Authenticate: Basic realm=\"cdlens read\", charset=\"UTF-8\"\r\n");
	else if (status == 401)
		snprintf(extra, sizeof extra, "WWW-Authenticate: Bearer realm=\"cdlens\"\r\n");
	return send_problem(req, status, err, index, extra);
}

int reply_not_allowed(struct request *req, const char *allow)
{
	char extra[128];

	err_set(&req->err, ST_INVALID, "method %s is not allowed on %s", req->method, req->path);
	snprintf(extra, sizeof extra, "Allow: %s\r\n", allow);
	return send_problem(req, 405, &req->err, -1, extra);
}

/* The secret in an Authorization header: "Bearer SECRET", or when `basic` is allowed,
 * "Basic base64(USER:SECRET)" decoded into *scratch. NULL when absent or malformed. */
static const char *presented_secret(const char *auth, bool basic, struct buf *scratch,
				    size_t *len)
{
	if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
		*len = strlen(auth + 7);
		return auth + 7;
	}
	if (!auth || !basic || strncasecmp(auth, "Basic ", 6) != 0 ||
	    !base64_decode(auth + 6, strlen(auth + 6), scratch) || scratch->overflow ||
	    !scratch->len)
		return NULL;
	const char *colon = memchr(scratch->data, ':', scratch->len);
	if (!colon)
		return NULL;
	*len = scratch->len - (size_t)(colon + 1 - scratch->data);
	return colon + 1;
}

bool request_authenticate(struct request *req, enum request_access access, const char **name)
{
	const struct config *cfg = req->app->cfg;
	bool read = access == REQUEST_READ;
	const struct config_token *tokens = read ? cfg->readers : cfg->tokens;
	size_t n = read ? cfg->nreaders : cfg->ntokens, len = 0;
	struct buf scratch = BUF_INIT(4096);

	req->access = access;
	*name = NULL;
	/* Any web page can make a browser POST to any address without asking first (a form, or
	 * fetch() with a text body), and the browser adds Origin. Producers are not web pages,
	 * and no page may write events: on a server without ingest tokens (--insecure-no-auth)
	 * this keeps a page its user visits from writing into it. */
	if (!read && request_header(req, "Origin")) {
		err_set(&req->err, ST_FORBIDDEN, "ingest takes no requests from web pages");
		err_detail(&req->err, "The request has an Origin header, which browsers add to "
				      "requests a page makes; send events from a producer.");
		return false;
	}
	if (n == 0)
		return true; /* open: --insecure-no-auth, or no --read-tokens */
	const char *secret = presented_secret(request_header(req, "Authorization"), read,
					      &scratch, &len);
	const struct config_token *t = secret ? config_token_match(tokens, n, secret, len) : NULL;
	buf_release(&scratch);
	if (t) {
		*name = t->name;
		return true;
	}
	if (secret)
		err_set(&req->err, ST_UNAUTHORIZED, "invalid %s token", read ? "read" : "bearer");
	else if (read)
		err_set(&req->err, ST_UNAUTHORIZED, "missing read token");
	else
		err_set(&req->err, ST_UNAUTHORIZED, "missing bearer token");
	if (!secret && read)
		err_detail(&req->err, "Send \"Authorization: Bearer <token>\" with a token from "
				      "CDLENS_READ_TOKENS (a browser asks for it: any user name, the "
				      "token as password).");
	else if (!secret)
		err_detail(&req->err, "Send the header \"Authorization: Bearer <token>\" with a "
				      "token from CDLENS_INGEST_TOKENS.");
	return false;
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
	/* civetweb sees no length when the header block was cut short (a folded line ends it):
	 * what follows would be read as the next request */
	if (ri->content_length < 0 && !request_header(req, "Transfer-Encoding"))
		return err_set(&req->err, ST_INVALID, "the request has no Content-Length");
	if (ri->content_length > (long long)max)
		return err_set(&req->err, ST_TOO_LARGE, "request body of %lld bytes exceeds the "
			       "limit of %zu bytes", ri->content_length, max);
	/* civetweb bounds each mg_read() by --request-timeout-ms, not the whole body: a client
	 * trickling bytes could hold this worker for ever without a deadline of our own */
	int64_t deadline = req->start_us + req->app->cfg->request_timeout_ms * 1000;
	while ((n = mg_read(req->conn, chunk, sizeof chunk)) > 0) {
		buf_append(&req->body, chunk, (size_t)n);
		if (req->body.overflow)
			return err_set(&req->err, ST_TOO_LARGE, "request body exceeds the limit of "
				       "%zu bytes", max);
		if (clock_mono_us() > deadline && (ri->content_length < 0 ||
						   (long long)req->body.len < ri->content_length))
			return err_set(&req->err, ST_INVALID, "the request body was not received "
				       "within %ld ms", req->app->cfg->request_timeout_ms);
	}
	if (n < 0 || (ri->content_length >= 0 && (long long)req->body.len != ri->content_length))
		return err_set(&req->err, ST_INVALID, "the request body ended early");
	req->body_read = true;
	return ST_OK;
}
