/*
 * web/api_events.c: POST /api/v1/events (and POST /), the ingest endpoint.
 *
 * Order: authenticate with an ingest token (401, request_authenticate(); the token's name is
 * stored with each event) -> read the body within the limit (413) -> parse and validate the
 * whole request (400/413/415) -> group commit (503 while the database is down) -> 202.
 * The 202 is written only after committer_submit() returns ST_OK, i.e. after COMMIT.
 */
#include <civetweb.h>
#include <stdio.h>

#include "core/config.h"
#include "core/log.h"
#include "ingest/committer.h"
#include "ingest/envelope.h"
#include "web/app.h"
#include "web/handlers.h"
#include "web/request.h"

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
	const char *producer; /* the token's name, stored with each event */
	size_t accepted, duplicates;
	char reply[96];
	int status;

	if (!request_authenticate(req, REQUEST_INGEST, &producer))
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
