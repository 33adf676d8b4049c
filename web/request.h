#ifndef WEB_REQUEST_H
#define WEB_REQUEST_H
/*
 * One HTTP request and the replies to it (practice 12): the dispatcher in routes.c creates
 * a struct request, passes it to the route's handler, and releases it; handlers never free
 * request memory themselves. Every reply goes through reply_json() / reply_problem(), which
 * map enum status to HTTP in ONE place (status_http).
 * Threads: a request belongs to the civetweb worker thread serving it.
 */
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

struct mg_connection;
struct app;
struct cJSON;

struct request {
	struct mg_connection *conn;
	const struct app *app;
	char id[17];             /* printed on every log line about this request */
	const char *method, *path, *query;
	struct buf body;         /* owned */
	struct err err;
	int64_t start_us;
	int status;              /* the status sent, for the access log and metrics */
};

/* HTTP status for a failure kind. */
int status_http(enum status st);
/* Send `status` with a JSON body (`json` must be a complete JSON text). Returns status. */
int reply_json(struct request *req, int status, const char *json, size_t len);
/* Send 200 with a cJSON tree as application/json, '<', '>' and '&' escaped as \u003c...
 * (the same JSON value, safe to embed in a page); frees the tree. Returns 200. */
int reply_cjson(struct request *req, struct cJSON *root);
/* Send 200 with a CSV body (text/csv; charset=utf-8). */
int reply_csv(struct request *req, const struct buf *csv);
/* Same with extra header lines ("Name: value\r\n..."), or NULL. */
int reply_with_headers(struct request *req, int status, const char *content_type,
		       const char *extra_headers, const char *body, size_t len);
/*
 * Send an RFC 9457 application/problem+json body for `err` (its status decides the HTTP
 * status); `index` >= 0 adds the failing batch item. Adds Retry-After on 503 and
 * WWW-Authenticate on 401. Returns the HTTP status.
 */
int reply_problem(struct request *req, const struct err *err, int index);
/* Value of a request header (case-insensitive), or NULL. */
const char *request_header(const struct request *req, const char *name);
/* Read the whole body into req->body, at most `max` bytes.
 * Errors: ST_TOO_LARGE (413), ST_INVALID (the client stopped sending). */
enum status request_read_body(struct request *req, size_t max);

#endif
