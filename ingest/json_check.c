/*
 * ingest/json_check.c: a recursive-descent recogniser for JSON that builds nothing.
 *
 * Grammar (RFC 8259):  value = object / array / string / number / true / false / null
 * The scanner keeps one cursor; every function consumes one production or fails with the
 * offset where it stopped. Depth is bounded, so recursion is bounded.
 */
#include "ingest/json_check.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct scan {
	const unsigned char *s;
	size_t len, pos;
	int depth, max_depth;
	struct err *err;
};

static bool fail(struct scan *sc, const char *what)
{
	err_set(sc->err, ST_INVALID, "invalid JSON at byte %zu: %s", sc->pos, what);
	return false;
}

static void skip_ws(struct scan *sc)
{
	while (sc->pos < sc->len && strchr(" \t\r\n", sc->s[sc->pos]) && sc->s[sc->pos])
		sc->pos++;
}

static bool literal(struct scan *sc, const char *word)
{
	size_t n = strlen(word);

	if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
		return fail(sc, "unexpected character");
	sc->pos += n;
	return true;
}

/* One UTF-8 sequence starting at sc->pos (first byte >= 0x80); rejects overlongs/surrogates. */
static bool utf8_seq(struct scan *sc)
{
	const unsigned char *p = sc->s + sc->pos;
	size_t left = sc->len - sc->pos;
	unsigned c = p[0], n, min;
	uint32_t cp;

	if (c >= 0xc2 && c <= 0xdf)
		n = 1, cp = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 2, cp = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 3, cp = c & 0x07, min = 0x10000;
	else
		return fail(sc, "invalid UTF-8");
	if (left < n + 1)
		return fail(sc, "truncated UTF-8");
	for (unsigned i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return fail(sc, "invalid UTF-8");
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return fail(sc, "invalid UTF-8");
	sc->pos += n + 1;
	return true;
}

static bool hex4(struct scan *sc, unsigned *out)
{
	unsigned v = 0;

	if (sc->len - sc->pos < 4)
		return fail(sc, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		unsigned char c = sc->s[sc->pos + (size_t)i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return fail(sc, "invalid \\u escape");
	}
	sc->pos += 4;
	*out = v;
	return true;
}

/* After "\u": a code unit, paired when it is a high surrogate. */
static bool unicode_escape(struct scan *sc)
{
	unsigned hi, lo;

	if (!hex4(sc, &hi))
		return false;
	if (hi == 0)
		return fail(sc, "\\u0000 is not allowed");
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return fail(sc, "unpaired low surrogate");
	if (hi < 0xd800 || hi > 0xdbff)
		return true;
	if (sc->len - sc->pos < 2 || sc->s[sc->pos] != '\\' || sc->s[sc->pos + 1] != 'u')
		return fail(sc, "unpaired high surrogate");
	sc->pos += 2;
	if (!hex4(sc, &lo))
		return false;
	if (lo < 0xdc00 || lo > 0xdfff)
		return fail(sc, "unpaired high surrogate");
	return true;
}

static bool string(struct scan *sc)
{
	sc->pos++; /* opening quote */
	while (sc->pos < sc->len) {
		unsigned char c = sc->s[sc->pos];
		if (c == '"') {
			sc->pos++;
			return true;
		}
		if (c < 0x20)
			return fail(sc, c ? "control character in string" : "NUL byte in string");
		if (c >= 0x80) {
			if (!utf8_seq(sc))
				return false;
			continue;
		}
		sc->pos++;
		if (c != '\\')
			continue;
		if (sc->pos >= sc->len)
			break;
		c = sc->s[sc->pos++];
		if (c == 'u') {
			if (!unicode_escape(sc))
				return false;
		} else if (!strchr("\"\\/bfnrt", c) || !c) {
			sc->pos--;
			return fail(sc, "invalid escape");
		}
	}
	return fail(sc, "unterminated string");
}

static bool number_token(struct scan *sc);

static size_t digits(struct scan *sc)
{
	size_t start = sc->pos;

	while (sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9')
		sc->pos++;
	return sc->pos - start;
}

/* Longest number token accepted: jsonb refuses numerics past its own precision limits, and
 * such a value would otherwise fail the whole group at commit time. */
#define JSON_CHECK_MAX_NUMBER 512

static bool number(struct scan *sc)
{
	size_t token = sc->pos;
	bool ok = number_token(sc);

	if (ok && sc->pos - token > JSON_CHECK_MAX_NUMBER) {
		sc->pos = token;
		return fail(sc, "number too long");
	}
	return ok;
}

static bool number_token(struct scan *sc)
{
	if (sc->s[sc->pos] == '-')
		sc->pos++;
	size_t start = sc->pos, n = digits(sc);
	if (n == 0)
		return fail(sc, "invalid number");
	if (n > 1 && sc->s[start] == '0')
		return fail(sc, "leading zero in number");
	if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
		sc->pos++;
		if (digits(sc) == 0)
			return fail(sc, "invalid number");
	}
	if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
		sc->pos++;
		if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
			sc->pos++;
		size_t es = sc->pos, en = digits(sc);
		if (en == 0)
			return fail(sc, "invalid number");
		size_t sig = en;
		for (size_t i = es; i < es + en && sc->s[i] == '0'; i++)
			sig--;
		if (sig > 4 || (sig == 4 && memcmp(sc->s + sc->pos - 4, "1000", 4) > 0))
			return fail(sc, "number exponent out of range");
	}
	return true;
}

static bool value(struct scan *sc);

/* object or array: `open` already seen; members separated by commas */
static bool container(struct scan *sc, bool object)
{
	const char close = object ? '}' : ']';

	if (++sc->depth > sc->max_depth)
		return fail(sc, "nesting too deep");
	sc->pos++;
	skip_ws(sc);
	if (sc->pos < sc->len && sc->s[sc->pos] == close) {
		sc->pos++, sc->depth--;
		return true;
	}
	for (;;) {
		skip_ws(sc);
		if (object) {
			if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
				return fail(sc, "expected a member name");
			if (!string(sc))
				return false;
			skip_ws(sc);
			if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
				return fail(sc, "expected ':'");
			sc->pos++;
		}
		if (!value(sc))
			return false;
		skip_ws(sc);
		if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
			sc->pos++;
			continue;
		}
		if (sc->pos < sc->len && sc->s[sc->pos] == close) {
			sc->pos++, sc->depth--;
			return true;
		}
		return fail(sc, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static bool value(struct scan *sc)
{
	skip_ws(sc);
	if (sc->pos >= sc->len)
		return fail(sc, "unexpected end of input");
	switch (sc->s[sc->pos]) {
	case '{': return container(sc, true);
	case '[': return container(sc, false);
	case '"': return string(sc);
	case 't': return literal(sc, "true");
	case 'f': return literal(sc, "false");
	case 'n': return literal(sc, "null");
	default:
		if (sc->s[sc->pos] == '-' || (sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9'))
			return number(sc);
		return fail(sc, sc->s[sc->pos] ? "unexpected character" : "NUL byte");
	}
}

enum status json_check(const char *s, size_t len, int max_depth, struct err *err)
{
	struct scan sc = {(const unsigned char *)s, len, 0, 0, max_depth, err};

	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		return fail(&sc, "byte order mark is not allowed"), ST_INVALID;
	if (!value(&sc))
		return ST_INVALID;
	skip_ws(&sc);
	if (sc.pos != len)
		return fail(&sc, "unexpected data after the JSON value"), ST_INVALID;
	return ST_OK;
}

size_t json_utf8_prefix(const char *s, size_t len, size_t max)
{
	struct err ignored;
	struct scan sc = {(const unsigned char *)s, len < max ? len : max, 0, 0, 0, &ignored};

	while (sc.pos < sc.len) {
		size_t at = sc.pos;
		if (sc.s[sc.pos] < 0x80)
			sc.pos++;
		else if (!utf8_seq(&sc)) /* also a character cut by `max` */
			return at;
	}
	return sc.pos;
}

bool json_utf8_valid(const char *s, size_t len)
{
	return json_utf8_prefix(s, len, len) == len;
}
