/*
 * web/api_events.c: POST /api/v1/events (and POST /), the ingest endpoint.
 *
 * Order: authenticate (401) -> read the body within the limit (413) -> parse and validate
 * the whole request (400/413/415) -> group commit (503 while the database is down) -> 202.
 * The 202 is written only after committer_submit() returns ST_OK, i.e. after COMMIT.
 */
#include <civetweb.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "core/log.h"
#include "ingest/committer.h"
#include "ingest/envelope.h"
#include "web/app.h"
#include "web/handlers.h"
#include "web/request.h"

/* Compare in time that depends only on the lengths, not on where the bytes differ. */
static bool same_secret(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	unsigned char diff = alen != blen;

	for (size_t i = 0; i < alen; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i % (blen ? blen : 1)];
	return diff == 0;
}

/* The name of the token presented, or NULL with req->err set. Checks every token so the time
 * taken does not reveal which one matched. */
static const char *authenticate(struct request *req, bool *ok)
{
	const struct config *cfg = req->app->cfg;
	const char *auth = request_header(req, "Authorization");
	const char *name = NULL;

	*ok = true;
	if (cfg->ntokens == 0)
		return NULL;
	*ok = false;
	if (!auth || strncasecmp(auth, "Bearer ", 7) != 0) {
		err_set(&req->err, ST_UNAUTHORIZED, "missing bearer token");
		err_detail(&req->err, "Send the header \"Authorization: Bearer <token>\" with a "
				      "token from CDLENS_INGEST_TOKENS.");
		return NULL;
	}
	const char *token = auth + 7;
	size_t len = strlen(token);
	for (size_t i = 0; i < cfg->ntokens; i++)
		if (same_secret(token, len, cfg->tokens[i].secret))
			name = cfg->tokens[i].name;
	if (!name) {
		err_set(&req->err, ST_UNAUTHORIZED, "invalid bearer token");
		return NULL;
	}
	*ok = true;
	return name;
}

static size_t collect_headers(struct request *req, struct ingest_header *out, size_t cap)
{
	const struct mg_request_info *ri = mg_get_request_info(req->conn);
	size_t n = 0;

	for (int i = 0; i < ri->num_headers && n < cap; i++)
		out[n++] = (struct ingest_header){ri->http_headers[i].name, ri->http_headers[i].value};
	return n;
}

static int reject(struct request *req, int index)
{
	atomic_fetch_add(&((struct app *)req->app)->rejected[req->err.status], 1);
	return reply_problem(req, &req->err, index);
}

int api_events_post(struct request *req)
{
	const struct config *cfg = req->app->cfg;
	struct ingest_header headers[64];
	struct ingest_batch batch = {0};
	bool authorized;
	size_t accepted, duplicates;
	char reply[96];
	int status;

	const char *producer = authenticate(req, &authorized);
	if (!authorized)
		return reject(req, -1);
	if (request_read_body(req, (size_t)cfg->max_body) != ST_OK)
		return reject(req, -1);
	struct ingest_request in = {
		.content_type = request_header(req, "Content-Type"),
		.headers = headers,
		.nheaders = collect_headers(req, headers, 64),
		.body = buf_cstr(&req->body),
		.len = req->body.len,
		.producer = producer,
		.req_id = req->id,
		.max_batch = (size_t)cfg->max_batch,
	};
	if (envelope_parse(&in, &batch, &req->err) != ST_OK)
		return reject(req, batch.item);
	if (committer_submit(req->app->committer, &batch, &accepted, &duplicates, &req->err) !=
	    ST_OK) {
		status = reject(req, -1);
	} else {
		int n = snprintf(reply, sizeof reply, "{\"accepted\":%zu,\"duplicates\":%zu}",
				 accepted, duplicates);
		status = reply_json(req, 202, reply, (size_t)n);
	}
	ingest_batch_release(&batch);
	return status;
}
