/*
 * tests/fuzz/fuzz_envelope.c: libFuzzer target for the CloudEvents/CDEvents parser:
 * envelope_parse() (ingest/envelope.c) with json_check() and cdevent_extract() behind it,
 * called as web/api_events.c calls it, with no server and no database.
 *
 * Input: a request in the format of tests/data/corpus-requests/ (see its README): header
 * lines "Name: value" ('\n' or "\r\n"), an empty line, then the body bytes to the end. An
 * input without an empty line is all headers and an empty body. Content-Type is the first
 * header of that name (case-insensitive, as mg_get_header() finds it); at most 64 headers
 * are passed on, as web/api_events.c does; max_batch is FUZZ_MAX_BATCH. The body is copied
 * into a buffer of exactly its length, so a read past `len` is an ASan report.
 *
 * Invariants checked beyond "no crash, leak or undefined behaviour":
 *   accepted  every event has non-empty valid UTF-8 id, source, type, subject, predicate,
 *             type_version, spec_version and subject_id (subject_source and chain_id NULL or
 *             the same), the identifiers among them within their limits (sql/model.h); its
 *             type splits back into subject, predicate and version; its spec version is 0.3
 *             or later; its time is within years 0001-9999; its mode matches the media type;
 *             `raw` has no NUL byte and passes json_check() (so PostgreSQL's jsonb takes it);
 *             and `raw` re-validated with cdevent_extract(), the event's own attributes as
 *             the CloudEvent fallbacks, gives the same columns (what is stored is what was
 *             validated). A batch holds at most max_batch events.
 *   refused   the status is 400, 413 (batch only) or 415; no events are left; the message,
 *             detail and pointer are valid UTF-8 (fuzz_check_err); the pointer is "" or
 *             starts with '/'; a failing item index appears only for a batch.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "core/clock.h"
#include "core/log.h"
#include "fuzz_check.h"
#include "ingest/cdevent.h"
#include "ingest/envelope.h"
#include "ingest/json_check.h"
#include "sql/model.h"

#define FUZZ_MAX_HEADERS 64
#define FUZZ_MAX_BATCH 16
#define FUZZ_PRODUCER "fuzz"
#define YEAR_1_US (-62135596800000000LL)     /* 0001-01-01T00:00:00Z */
#define YEAR_10000_US (253402300800000000LL) /* 10000-01-01T00:00:00Z */

struct fuzz_request {
	char *text; /* the header block, NUL-terminated and cut into names and values */
	char *body; /* exactly `len` bytes, no terminator */
	struct ingest_header headers[FUZZ_MAX_HEADERS];
	struct ingest_request req;
};

/* Cut one header line (NUL-terminated, no '\n') into r->headers when it has a ':'. */
static void add_header(struct fuzz_request *r, char *line)
{
	char *colon = strchr(line, ':');

	if (!colon || r->req.nheaders == FUZZ_MAX_HEADERS)
		return;
	*colon = '\0';
	char *value = colon + 1 + strspn(colon + 1, " \t");
	r->headers[r->req.nheaders++] = (struct ingest_header){line, value};
	if (!r->req.content_type && strcasecmp(line, "Content-Type") == 0)
		r->req.content_type = value;
}

static void split_request(const uint8_t *data, size_t size, struct fuzz_request *r)
{
	char *p, *end;

	r->text = malloc(size + 1);
	if (!r->text)
		abort();
	memcpy(r->text, data, size);
	r->text[size] = '\0';
	r->req = (struct ingest_request){.headers = r->headers, .producer = FUZZ_PRODUCER,
					 .req_id = "fuzz", .max_batch = FUZZ_MAX_BATCH};
	for (p = r->text, end = r->text + size; p < end;) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		char *next = eol ? eol + 1 : end;
		size_t n = (size_t)((eol ? eol : end) - p);
		if (n && p[n - 1] == '\r')
			n--;
		p[n] = '\0';
		if (n == 0 && eol) {
			p = next;
			break;
		}
		add_header(r, p);
		p = next;
	}
	r->req.len = (size_t)(end - p);
	r->body = malloc(r->req.len ? r->req.len : 1);
	if (!r->body)
		abort();
	memcpy(r->body, data + (p - r->text), r->req.len);
	r->req.body = r->body;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The string columns: required ones are not empty, optional ones NULL or not empty; all
 * valid UTF-8. */
static void check_strings(const struct event *ev)
{
	size_t subject_max = same(ev->subject, "artifact") ? EVENT_MAX_PURL : EVENT_MAX_ID;
	const struct {
		const char *value, *name;
		bool required;
		size_t max; /* 0: no limit of its own */
	} cols[] = {
	    {ev->id, "id", true, EVENT_MAX_ID},
	    {ev->source, "source", true, EVENT_MAX_ID},
	    {ev->type, "type", true, 0},
	    {ev->subject, "subject", true, 0},
	    {ev->predicate, "predicate", true, 0},
	    {ev->type_version, "type_version", true, 0},
	    {ev->spec_version, "spec_version", true, 0},
	    {ev->subject_id, "subject_id", true, subject_max},
	    {ev->subject_source, "subject_source", false, EVENT_MAX_ID},
	    {ev->chain_id, "chain_id", false, EVENT_MAX_ID},
	};

	for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
		FUZZ_CHECK(cols[i].value || !cols[i].required, "accepted event without %s",
			   cols[i].name);
		FUZZ_CHECK(!cols[i].value || *cols[i].value, "%s is \"\"", cols[i].name);
		FUZZ_CHECK(fuzz_utf8(cols[i].value), "%s is not UTF-8", cols[i].name);
		FUZZ_CHECK(!cols[i].value || !cols[i].max || strlen(cols[i].value) <= cols[i].max,
			   "%s is longer than its limit of %zu bytes", cols[i].name, cols[i].max);
	}
}

/* The event's type, spec version and time are what the validator promises. */
static void check_type_and_time(const struct event *ev)
{
	char subject[128], predicate[128], version[128];
	bool custom;
	int major, minor, patch;

	FUZZ_CHECK(cdevent_split_type(ev->type, subject, predicate, version, sizeof subject,
				      &custom),
		   "accepted type \"%s\" does not split", ev->type);
	FUZZ_CHECK(same(subject, ev->subject) && same(predicate, ev->predicate) &&
			   same(version, ev->type_version),
		   "type \"%s\" split differently", ev->type);
	FUZZ_CHECK(cdevent_parse_semver(ev->spec_version, &major, &minor, &patch) && major == 0 &&
			   minor >= 3,
		   "accepted spec version \"%s\"", ev->spec_version);
	FUZZ_CHECK(ev->ts_us >= YEAR_1_US && ev->ts_us < YEAR_10000_US, "time %lld out of range",
		   (long long)ev->ts_us);
}

/* What is stored (`raw`) validates again to the same columns. */
static void check_raw_revalidates(const struct event *ev)
{
	struct err err = {0};
	struct event again = {0};
	char time[28];

	FUZZ_CHECK(ev->raw && ev->raw_len == strlen(ev->raw), "raw is missing or holds a NUL");
	FUZZ_CHECK(json_check(ev->raw, ev->raw_len, JSON_CHECK_MAX_DEPTH, &err) == ST_OK,
		   "stored raw fails json_check: %s", err.msg);
	cJSON *root = cJSON_ParseWithLength(ev->raw, ev->raw_len);
	FUZZ_CHECK(root, "cJSON cannot parse the stored raw");
	clock_format_rfc3339(ev->ts_us, time);
	const struct ce_attrs ce = {ev->id, ev->source, ev->type, time, "fuzz"};
	enum status st = cdevent_extract(root, &ce, "", &again, &err);
	FUZZ_CHECK(st == ST_OK, "stored raw does not validate again: %s", err.msg);
	FUZZ_CHECK(same(again.id, ev->id) && same(again.source, ev->source) &&
			   same(again.type, ev->type) && same(again.subject_id, ev->subject_id) &&
			   same(again.subject_source, ev->subject_source) &&
			   same(again.chain_id, ev->chain_id) &&
			   same(again.spec_version, ev->spec_version) && again.ts_us == ev->ts_us,
		   "stored raw validates to other columns (id \"%s\" vs \"%s\")", again.id, ev->id);
	event_release(&again);
	cJSON_Delete(root);
}

static void check_event(const struct event *ev, const char *media)
{
	check_strings(ev);
	FUZZ_CHECK(ev->producer && strcmp(ev->producer, FUZZ_PRODUCER) == 0, "producer lost");
	FUZZ_CHECK(ev->mode && (strcmp(ev->mode, media) == 0 ||
				(strcmp(media, "single") == 0 &&
				 (strcmp(ev->mode, "bare") == 0 || strcmp(ev->mode, "binary") == 0))),
		   "mode %s for a %s request", ev->mode ? ev->mode : "(null)", media);
	check_type_and_time(ev);
	check_raw_revalidates(ev);
}

/* "structured", "batch" or "single" (binary or bare), from the Content-Type's media type
 * (parameters and surrounding white space ignored, as ingest/envelope.c does). */
static const char *media_kind(const char *ct)
{
	size_t n = ct ? strcspn(ct, ";") : 0;

	while (n && isspace((unsigned char)ct[n - 1]))
		n--;
	while (n && isspace((unsigned char)*ct))
		ct++, n--;
	if (n == 28 && strncasecmp(ct, "application/cloudevents+json", n) == 0)
		return "structured";
	if (n == 34 && strncasecmp(ct, "application/cloudevents-batch+json", n) == 0)
		return "batch";
	return "single";
}

static void check_refusal(enum status st, const struct ingest_batch *b, const struct err *err,
			  const char *media)
{
	bool batch = strcmp(media, "batch") == 0;

	FUZZ_CHECK(st == ST_INVALID || st == ST_UNSUPPORTED || (st == ST_TOO_LARGE && batch),
		   "status %s for a %s request", status_name(st), media);
	fuzz_check_err(err, st, "envelope_parse");
	FUZZ_CHECK(!b->events && b->n == 0, "a refused request left %zu events", b->n);
	FUZZ_CHECK(!err->pointer[0] || err->pointer[0] == '/', "pointer \"%s\"", err->pointer);
	FUZZ_CHECK(b->item == -1 || (batch && b->item >= 0), "item %d for a %s request", b->item,
		   media);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR); /* attribute disagreements are logged at warn: not here */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_request r = {0};
	struct ingest_batch out = {0};
	struct err err = {0};

	split_request(data, size, &r);
	const char *media = media_kind(r.req.content_type);
	enum status st = envelope_parse(&r.req, &out, &err);
	if (st == ST_OK) {
		FUZZ_CHECK(out.item == -1 && out.n <= FUZZ_MAX_BATCH, "batch of %zu, item %d", out.n,
			   out.item);
		FUZZ_CHECK(out.n == 1 || strcmp(media, "batch") == 0, "%zu events from a %s request",
			   out.n, media);
		for (size_t i = 0; i < out.n; i++)
			check_event(&out.events[i], media);
	} else {
		check_refusal(st, &out, &err, media);
	}
	ingest_batch_release(&out);
	free(r.body);
	free(r.text);
	return 0;
}
