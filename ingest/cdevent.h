#ifndef INGEST_CDEVENT_H
#define INGEST_CDEVENT_H
/*
 * One CDEvent: validate a parsed JSON document and extract the columns of struct event.
 * The rules (which spec versions, event types and fields are accepted) are documented in
 * docs/INGEST.md; the per-type content fields come from ingest/cdevents_types.c.
 * Threads: pure; safe from any thread.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "sql/model.h"

/* CloudEvent attributes of the envelope, used to fill context fields a CDEvent lacks.
 * Any member may be NULL. `req_id` tags the log line written when they disagree. */
struct ce_attrs {
	const char *id, *source, *type, *time;
	const char *req_id;
};

/*
 * Validate the CDEvent `root` and fill *out (all strings copied; raw, mode and producer are
 * left for the caller). `ptr` is the JSON pointer of root within the request body ("" for a
 * bare event, "/data" in structured mode, "/3/data" for batch item 3); error pointers start
 * with it.
 * Ownership: on ST_OK the caller owns *out (event_release). On failure *out is zeroed.
 * Errors: ST_INVALID, with err->msg saying what is wrong and err->pointer naming the field.
 */
enum status cdevent_extract(const cJSON *root, const struct ce_attrs *ce, const char *ptr,
			    struct event *out, struct err *err);

/* Split a CDEvents type string. Exposed for tests. On success fills subject, predicate and
 * version (NUL-terminated, copied into the given buffers of `cap` bytes) and *custom. */
bool cdevent_split_type(const char *type, char *subject, char *predicate, char *version,
			size_t cap, bool *custom);

/* Parse "MAJOR.MINOR.PATCH[-pre]" (each part 0-99999). */
bool cdevent_parse_semver(const char *s, int *major, int *minor, int *patch);

#endif
