#ifndef CORE_BUF_H
#define CORE_BUF_H
/*
 * A growable byte buffer with a sticky overflow flag (practice 11).
 * Invariant: `data` is NUL-terminated whenever it is non-NULL. Appending never fails:
 * past `max` bytes (0 = unlimited) the append is dropped and `overflow` is set, and
 * the caller checks it once at the end.
 * Ownership: the buffer owns `data`; buf_release() frees it. A zeroed buf is valid and empty.
 * Threads: a buf belongs to one thread.
 */
#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len, cap, max;
	bool overflow;
};

#define BUF_INIT(limit) { .max = (limit) }

void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
__attribute__((format(printf, 2, 3))) void buf_printf(struct buf *b, const char *fmt, ...);
/* Append `s` (n bytes) as a quoted JSON string, escaping quotes, backslashes and controls. */
void buf_json_str(struct buf *b, const char *s, size_t n);
/* Same, for a NUL-terminated string; NULL appends the JSON literal null. */
void buf_json_cstr(struct buf *b, const char *s);
/* Append a finite `v` in the shortest of %.15g and %.17g that reads back as v: 0.1, not
 * 0.10000000000000001 (as cJSON writes numbers). */
void buf_double(struct buf *b, double v);
/* "" when empty, never NULL. */
const char *buf_cstr(const struct buf *b);
/* Empty the buffer but keep its memory and limit. */
void buf_reset(struct buf *b);
/* Hand the data to the caller (who frees it) and reset the buffer; never NULL. */
char *buf_detach(struct buf *b, size_t *len);
void buf_release(struct buf *b);

#endif
