/*
 * core/err.c: the one error carrier passed through every layer.
 * When you add a status: extend status_name() and web/reply.c's HTTP mapping.
 */
#include "core/err.h"

#include <stdbool.h>
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

const char *err_quote(char *out, const char *s, size_t n, size_t max_in, size_t max_out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0, o = 0;

	for (; i < n && i < max_in; i++) {
		unsigned char c = (unsigned char)s[i];
		bool plain = c >= 0x20 && c < 0x7f;
		if (o + (plain ? 1 : 3) > max_out)
			break;
		if (plain) {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '%';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	if (i < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

const char *status_name(enum status st)
{
	switch (st) {
	case ST_OK: return "ok";
	case ST_INVALID: return "invalid";
	case ST_UNAUTHORIZED: return "unauthorized";
	case ST_FORBIDDEN: return "forbidden";
	case ST_NOT_FOUND: return "not_found";
	case ST_TOO_LARGE: return "too_large";
	case ST_UNSUPPORTED: return "unsupported";
	case ST_CONFLICT: return "conflict";
	case ST_UNAVAILABLE: return "unavailable";
	case ST_INTERNAL: return "internal";
	}
	return "unknown";
}
