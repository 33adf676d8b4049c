#ifndef CORE_CLOCK_H
#define CORE_CLOCK_H
/*
 * Time: RFC 3339 timestamps to and from microseconds since the Unix epoch (UTC).
 * Threads: pure; safe from any thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parse an RFC 3339 date-time ("2023-03-20T14:27:05.315384Z", "...+02:00"; 't'/'z' and a
 * space separator are allowed, fractions of 0 to 9 digits, years 0001-9999). A time zone
 * is required. On success stores microseconds since the epoch in *us (fraction digits past
 * the sixth are truncated) and the offset in minutes in *offset_min (either may be NULL).
 * Returns false on any deviation; the input need not be NUL-terminated.
 */
bool clock_parse_rfc3339(const char *s, size_t len, int64_t *us, int *offset_min);

/* Format `us` as "YYYY-MM-DDTHH:MM:SS.ffffffZ" into out (at least 28 bytes). */
void clock_format_rfc3339(int64_t us, char out[static 28]);

/* Wall-clock now, in microseconds since the epoch. */
int64_t clock_now_us(void);
/* Monotonic clock, in microseconds, for measuring durations. */
int64_t clock_mono_us(void);

#endif
