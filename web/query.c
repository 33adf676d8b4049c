/*
 * web/query.c: the query-string parser (see query.h for the rules).
 *
 * Why our own: civetweb's mg_get_var() returns the first value only, decodes into a fixed
 * buffer and reports a bad escape the same way as a missing name, and we want repeated
 * names, exact limits and a message that names the offending parameter.
 *
 * Each pair is split at the first '=', then the name and the value are decoded separately
 * (so an encoded "%3D" inside a value stays a value byte). Decoded text never holds NUL and is
 * valid UTF-8: handlers can pass it to SQL as text and into messages as it is.
 * When you add a rule: document it in query.h and add rows to tests/web/test_query.c.
 */
#include "web/query.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "ingest/json_check.h"

/* `s` (n bytes, undecoded or decoded) as shown in a message: printable ASCII kept, any
 * other byte as %XX, cut to 64 output bytes. */
static void quote_name(char out[QUERY_QUOTE_MAX], const char *s, size_t n)
{
	err_quote(out, s, n, n, 64);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode s[0..n) ('+' and %XX) into a new NUL-terminated string of *len bytes. Returns NULL
 * when an escape is invalid, with *bad set to its offset in s. */
static char *decode(const char *s, size_t n, size_t *len, size_t *bad)
{
	char *out = xmalloc(n + 1);
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] != '%') {
			out[o++] = s[i];
		} else {
			int hi = i + 1 < n ? hex_digit(s[i + 1]) : -1;
			int lo = i + 2 < n ? hex_digit(s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				*bad = i;
				free(out);
				return NULL;
			}
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		}
	}
	out[o] = '\0';
	*len = o;
	return out;
}

/*
 * Decode one name or value (`raw`, n bytes) into *out, checking escapes, NUL, length and
 * UTF-8. `shown`/`nshown` is the parameter name as the message should show it.
 */
static enum status decode_part(const char *raw, size_t n, const char *shown, size_t nshown,
			       char **out, struct err *err)
{
	char name[QUERY_QUOTE_MAX], escape[QUERY_QUOTE_MAX];
	size_t len = 0, bad = 0;

	quote_name(name, shown, nshown);
	*out = decode(raw, n, &len, &bad);
	if (!*out) {
		/* quoted like the name: the bytes after '%' may be anything, "%\xae" included */
		quote_name(escape, raw + bad, n - bad < 3 ? n - bad : 3);
		err_set(err, ST_INVALID, "parameter \"%s\" has an invalid percent-escape \"%s\"",
			name, escape);
		err_detail(err, "Every '%%' must be followed by two hexadecimal digits; write a "
				"literal '%%' as %%25.");
		return ST_INVALID;
	}
	enum status st = ST_OK;
	if (len > QUERY_MAX_VALUE)
		st = err_set(err, ST_INVALID, "parameter \"%s\" is longer than %d bytes", name,
			     QUERY_MAX_VALUE);
	else if (memchr(*out, '\0', len))
		st = err_set(err, ST_INVALID, "parameter \"%s\" contains a NUL byte", name);
	else if (!json_utf8_valid(*out, len)) {
		st = err_set(err, ST_INVALID, "parameter \"%s\" is not valid UTF-8", name);
		err_detail(err, "Percent-encode text as UTF-8 bytes.");
	}
	if (st != ST_OK) {
		free(*out);
		*out = NULL;
	}
	return st;
}

/* Parse one non-empty pair s[0..n) into *p. */
static enum status parse_pair(const char *s, size_t n, struct query_param *p, struct err *err)
{
	const char *eq = memchr(s, '=', n);
	size_t nlen = eq ? (size_t)(eq - s) : n;
	enum status st = decode_part(s, nlen, s, nlen, &p->name, err);

	if (st != ST_OK)
		return st;
	if (!eq) {
		p->value = xstrdup("");
		return ST_OK;
	}
	st = decode_part(eq + 1, n - nlen - 1, p->name, strlen(p->name), &p->value, err);
	if (st != ST_OK) {
		free(p->name);
		p->name = NULL;
	}
	return st;
}

enum status query_parse(const char *qs, struct query *out, struct err *err)
{
	struct query q = {0};
	size_t cap = 0;
	enum status st = ST_OK;

	for (const char *p = qs ? qs : ""; *p;) {
		size_t n = strcspn(p, "&");
		if (n > 0 && q.n == QUERY_MAX_PARAMS) {
			st = err_set(err, ST_INVALID, "more than %d query parameters",
				     QUERY_MAX_PARAMS);
			goto out;
		}
		if (n > 0 && q.n == cap) {
			cap = cap ? cap * 2 : 8;
			q.params = xrealloc(q.params, cap * sizeof *q.params);
		}
		if (n > 0 && (st = parse_pair(p, n, &q.params[q.n], err)) != ST_OK)
			goto out;
		q.n += n > 0;
		p += n + (p[n] == '&');
	}
out:
	if (st != ST_OK)
		query_release(&q);
	*out = q;
	return st;
}

const char *query_quote_name(const char *name, char out[QUERY_QUOTE_MAX])
{
	quote_name(out, name, strlen(name));
	return out;
}

const char *query_get(const struct query *q, const char *name)
{
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->params[i].name, name) == 0)
			return q->params[i].value;
	return NULL;
}

size_t query_count(const struct query *q, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < q->n; i++)
		n += strcmp(q->params[i].name, name) == 0;
	return n;
}

void query_release(struct query *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n; i++) {
		free(q->params[i].name);
		free(q->params[i].value);
	}
	free(q->params);
	*q = (struct query){0};
}
