/*
 * core/err.c: the one error carrier passed through every layer.
 * When you add a status: extend status_name() and web/reply.c's HTTP mapping.
 */
#include "core/err.h"

#include <stdio.h>
#include <string.h>

enum status err_set(struct err *err, enum status st, const char *fmt, ...)
{
	va_list ap;

	err->status = st;
	err->detail[0] = '\0';
	err->pointer[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return st;
}

void err_detail(struct err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof err->detail, fmt, ap);
	va_end(ap);
}

void err_pointer(struct err *err, const char *pointer)
{
	snprintf(err->pointer, sizeof err->pointer, "%s", pointer);
}

void err_clear(struct err *err)
{
	memset(err, 0, sizeof *err);
}

const char *status_name(enum status st)
{
	switch (st) {
	case ST_OK: return "ok";
	case ST_INVALID: return "invalid";
	case ST_UNAUTHORIZED: return "unauthorized";
	case ST_NOT_FOUND: return "not_found";
	case ST_TOO_LARGE: return "too_large";
	case ST_UNSUPPORTED: return "unsupported";
	case ST_CONFLICT: return "conflict";
	case ST_UNAVAILABLE: return "unavailable";
	case ST_INTERNAL: return "internal";
	}
	return "unknown";
}
