#ifndef WEB_REQUEST_H
#define WEB_REQUEST_H
/*
 * One HTTP request and the replies to it (practice 12): the dispatcher in routes.c creates
 * a struct request, passes it to the route's handler, and releases it; handlers never free
 * request memory themselves. Every reply goes through reply_json() / reply_problem(), which
 * map enum status to HTTP in ONE place (status_http). Every reply carries the same security
 * headers: nosniff, no framing, no referrer, and a Content-Security-Policy that allows
 * nothing unless the caller passes its own (the dashboard's pages).
 * Threads: a request belongs to the civetweb worker thread serving it.
 */
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

struct mg_connection;
struct app;
struct cJSON;

/* What a request needs a token for: each kind has its own tokens, and one never grants
 * the other (--ingest-tokens, --read-tokens). */
enum request_access { REQUEST_INGEST = 0, REQUEST_READ };

struct request {
	struct mg_connection *conn;
	const struct app *app;
	char id[17];             /* printed on every log line about this request */
	const char *method, *path, *query;
	struct buf body;         /* owned */
	struct err err;
	int64_t start_us;
	int status;              /* the status sent, for the access log and metrics */
	bool body_read;          /* request_read_body() read the whole body */
	enum request_access access; /* set by request_authenticate(); decides a 401's challenge */
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
/* Same with extra header lines ("Name: value\r\n..."), or NULL.
 * An error reply (>= 400) to a request whose body was not read whole (refused before it was
 * read, too large, cut short) or whose framing is ambiguous says "Connection: close", and
 * the connection closes after it: the rest of such a body is never read as a next request. */
int reply_with_headers(struct request *req, int status, const char *content_type,
		       const char *extra_headers, const char *body, size_t len);
/*
 * Send an RFC 9457 application/problem+json body for `err` (its status decides the HTTP
 * status); `index` >= 0 adds the failing batch item. Adds Retry-After on 503 and
 * WWW-Authenticate on 401. Returns the HTTP status.
 */
int reply_problem(struct request *req, const struct err *err, int index);
/* Send 405 as a problem body like reply_problem()'s, with "Allow: <allow>". Returns 405. */
int reply_not_allowed(struct request *req, const char *allow);
/*
 * Whether the request is well formed where civetweb lets it through (RFC 9112): its framing
 * is unambiguous (fewer than MG_MAX_HEADERS header fields, since civetweb drops the rest
 * unseen; at most one Content-Length, of digits only, and not with Transfer-Encoding), and
 * an HTTP/1.1 request has exactly one Host. Otherwise fills req->err (ST_INVALID) and returns
 * false: answer 400. After a framing problem the connection is closed, since where this
 * request ends, and the next begins, is not known.
 */
bool request_well_formed(struct request *req);
/*
 * Whether the request may have `access`: true when no tokens of that kind are configured
 * (open; *name = NULL) or when it presents one of their secrets (*name = the token's name,
 * owned by the config). Ingest takes "Authorization: Bearer SECRET"; read access also takes
 * "Basic base64(USER:SECRET)" (USER is ignored), which browsers send for their pages.
 * Secrets are compared with config_token_match() (constant time).
 * Errors: false with req->err = ST_UNAUTHORIZED ("missing ..." or "invalid ..."); the 401
 * that reply_problem() then sends challenges for the same kind of access.
 */
bool request_authenticate(struct request *req, enum request_access access, const char **name);
/* Value of a request header (case-insensitive), or NULL. */
const char *request_header(const struct request *req, const char *name);
/* Read the whole body into req->body, at most `max` bytes, within --request-timeout-ms of
 * the handler's start (req->start_us; web/server.c cuts the reading side of a connection
 * that is still sending after that, so a client trickling bytes cannot hold a worker).
 * Errors: ST_TOO_LARGE (413), ST_INVALID (no Content-Length and not chunked; the client
 * stopped sending, or was too slow). */
enum status request_read_body(struct request *req, size_t max);

#endif
