#ifndef TESTS_WEB_INGEST_HELPERS_H
#define TESTS_WEB_INGEST_HELPERS_H
/* Shared by the ingest integration tests: posting one CDEvent in each of the four modes. */
#include <stddef.h>

#include "support/http.h"

enum post_mode { MODE_BARE, MODE_BINARY, MODE_STRUCTURED, MODE_BATCH, MODE_COUNT };

extern const char *const post_mode_names[MODE_COUNT];

/* POST the CDEvent JSON text `event` to /api/v1/events in `mode` (batch: a batch of one).
 * Returns the HTTP status; *out holds the response (release it). */
int post_event(int port, enum post_mode mode, const char *event, struct http_response *out);
/* POST every line of tests/data/<relpath> (one CDEvent per line) in `mode`; fails the test
 * on any answer but 202. Returns the number of events posted. */
size_t post_jsonl(int port, enum post_mode mode, const char *relpath);
/* POST n CDEvent JSON texts as one application/cloudevents-batch+json request. */
int post_batch(int port, const char *const *events, size_t n, struct http_response *out);
/* The "accepted" / "duplicates" members of a 202 body, or -1. */
long reply_count(const struct http_response *r, const char *member);
/* Assert that r is an RFC 9457 problem with the given status; returns its "pointer" (or ""),
 * copied into buf. */
const char *assert_problem(const struct http_response *r, int status, char *buf, size_t cap);

#endif
