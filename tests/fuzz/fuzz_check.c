/*
 * tests/fuzz/fuzz_check.c: the helpers of fuzz_check.h.
 */
#include "fuzz_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/json_check.h"

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: invariant failed: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

bool fuzz_utf8(const char *s)
{
	return !s || json_utf8_valid(s, strlen(s));
}

char *fuzz_cstr(const uint8_t *data, size_t size)
{
	size_t n = strnlen((const char *)data, size);
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, data, n);
	s[n] = '\0';
	return s;
}

void fuzz_check_err(const struct err *err, enum status st, const char *what)
{
	FUZZ_CHECK(err->status == st, "%s returned %s but err says %s", what, status_name(st),
		   status_name(err->status));
	FUZZ_CHECK(err->msg[0], "%s failed without a message", what);
	FUZZ_CHECK(fuzz_utf8(err->msg), "%s: message is not UTF-8: %s", what, err->msg);
	FUZZ_CHECK(fuzz_utf8(err->detail), "%s: detail is not UTF-8: %s", what, err->detail);
	FUZZ_CHECK(fuzz_utf8(err->pointer), "%s: pointer is not UTF-8: %s", what, err->pointer);
}
