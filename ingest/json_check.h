#ifndef INGEST_JSON_CHECK_H
#define INGEST_JSON_CHECK_H
/*
 * Strict JSON syntax check (RFC 8259) of untrusted bytes, run before cJSON sees them.
 * Why: cJSON accepts things PostgreSQL's jsonb refuses (".5", "+1", "01", invalid UTF-8,
 * "\u0000"), and an event the database refuses at commit time would fail its whole group.
 * Also bounds nesting depth and number size, so later stages need no such checks.
 * Threads: pure; safe from any thread.
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define JSON_CHECK_MAX_DEPTH 64

/*
 * Check that s[0..len) is exactly one JSON value (surrounding whitespace allowed) with valid
 * UTF-8, no NUL bytes or \u0000 escapes, unpaired surrogates, nesting of at most max_depth, and
 * numbers of at most 512 characters whose exponent stays within +-1000.
 * Errors: ST_INVALID, with err->msg naming the byte offset and the problem.
 */
enum status json_check(const char *s, size_t len, int max_depth, struct err *err);

/* Whether s[0..len) is valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
bool json_utf8_valid(const char *s, size_t len);

/*
 * The length of the longest prefix of s[0..len) that is valid UTF-8 and at most `max` bytes:
 * how much of untrusted text an error message may quote ("%.*s") so that the message stays
 * valid UTF-8 (it goes into a JSON reply as it is) and never ends inside a character.
 */
size_t json_utf8_prefix(const char *s, size_t len, size_t max);

#endif
