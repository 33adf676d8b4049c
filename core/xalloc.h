#ifndef CORE_XALLOC_H
#define CORE_XALLOC_H
/*
 * Allocation that never returns NULL. On out-of-memory the process logs one line and
 * aborts (practice 10): inputs are bounded instead, so OOM is a bug or a dying machine.
 * Threads: all functions are thread-safe.
 */
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/*
 * Make room in array `p` (elements of `size` bytes, capacity *cap) for element index `n`,
 * doubling the capacity as needed; returns the (possibly moved) array. Appending n items
 * one by one costs O(n) copying in total, not O(n^2).
 */
void *xgrow(void *p, size_t n, size_t *cap, size_t size);
/* xstrdup(NULL) returns NULL. */
char *xstrdup(const char *s);
/* Copy at most n bytes of s and NUL-terminate. */
char *xstrndup(const char *s, size_t n);

#endif
