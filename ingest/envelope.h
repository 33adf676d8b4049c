#ifndef INGEST_ENVELOPE_H
#define INGEST_ENVELOPE_H
/*
 * From an HTTP request to validated events: the four ways CDEvents arrive.
 *   binary      ce-* headers + the CDEvent as an application/json body
 *   structured  application/cloudevents+json, the CDEvent in `data` or `data_base64`
 *   batch       application/cloudevents-batch+json, an array of structured events
 *   bare        a CDEvent posted as application/json without ce-* headers
 * A request is accepted or rejected as a whole.
 * Threads: pure; safe from any thread.
 */
#include <stddef.h>

#include "core/err.h"
#include "sql/model.h"

struct ingest_header {
	const char *name, *value;
};

/* What web/ hands over; everything is borrowed for the duration of the call. */
struct ingest_request {
	const char *content_type;  /* NULL when absent */
	const struct ingest_header *headers;
	size_t nheaders;
	const char *body;
	size_t len;
	const char *producer;      /* token name, or NULL */
	const char *req_id;
	size_t max_batch;
};

struct ingest_batch {
	struct event *events;
	size_t n;
	int item;  /* on a batch error: the failing item's index, else -1 */
};

/*
 * Parse and validate the request into out->events.
 * Ownership: on ST_OK the caller owns *out (ingest_batch_release). On failure *out holds no
 * events (its `item` may name the failing batch item).
 * Errors: ST_INVALID (400; err->pointer names the field), ST_UNSUPPORTED (415: media type),
 * ST_TOO_LARGE (413: more than max_batch events). Whatever the input, err->msg, detail and
 * pointer are valid UTF-8: they quote only a bounded prefix of a value, whole characters.
 */
enum status envelope_parse(const struct ingest_request *req, struct ingest_batch *out,
			   struct err *err);
void ingest_batch_release(struct ingest_batch *b);

#endif
