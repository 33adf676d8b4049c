/*
 * core/xalloc.c: allocation wrappers that abort on failure.
 *
 * Why: every caller would otherwise need an error path for a condition that cannot be
 * handled sensibly; we bound input sizes instead (see INGEST limits in core/config.c).
 */
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void oom(size_t n)
{
	char line[96];
	int len = snprintf(line, sizeof line, "fatal: out of memory allocating %zu bytes\n", n);

	if (len > 0 && write(STDERR_FILENO, line, (size_t)len) < 0)
		abort();
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (!p)
		oom(count * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void *xgrow(void *p, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return p;
	size_t want = *cap ? *cap : 8;
	while (want <= n)
		want *= 2;
	*cap = want;
	return xrealloc(p, want * size);
}
