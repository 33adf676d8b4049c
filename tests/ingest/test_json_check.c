/*
 * tests/ingest/test_json_check.c: the strict RFC 8259 recogniser (ingest/json_check.c).
 *
 * `cases` is one table of valid and invalid documents. Inputs are byte arrays with their
 * length, so NUL bytes and invalid UTF-8 can be written in place. For an invalid document
 * the table gives the problem text json_check() puts after "invalid JSON at byte N: ";
 * `exact` checks the byte offsets of a few. Depth limits and json_utf8_valid() have their
 * own tables.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "ingest/json_check.h"
#include "support/fixture.h"

struct json_case {
	const char *in;
	size_t len;
	const char *problem; /* NULL: valid */
};

/* clang-format off */
#define OK(s) {s, sizeof s - 1, NULL}
#define NO(s, why) {s, sizeof s - 1, why}
/* clang-format on */

#define UNEXPECTED "unexpected character"
#define TRAILING "unexpected data after the JSON value"
#define BADNUM "invalid number"
#define EXPONENT "number exponent out of range"
#define UTF8 "invalid UTF-8"

static const struct json_case cases[] = {
    /* scalars at the top level (RFC 8259 allows any value) */
    OK("0"),
    OK("-0"),
    OK("1"),
    OK("-1"),
    OK("123"),
    OK("1.5"),
    OK("-1.5e10"),
    OK("0.0"),
    OK("0e0"),
    OK("0E-0"),
    OK("1e5"),
    OK("1E5"),
    OK("1e+5"),
    OK("1e-5"),
    OK("-0.0e+0"),
    OK("12345678901234567890123456789"),
    OK("1.0000000000000000000000001"),
    /* exponents up to +-1000, leading zeros in the exponent do not count */
    OK("1e1000"),
    OK("1e-1000"),
    OK("1E+1000"),
    OK("1e0001000"),
    OK("1e000000"),
    OK("9.99e999"),
    OK("1e0999"),
    OK("true"),
    OK("false"),
    OK("null"),
    OK("\"\""),
    OK("\"a\""),
    /* whitespace: space, tab, CR, LF only */
    OK(" 1 "),
    OK("\t\r\n{}\n"),
    OK(" [ ] "),
    OK("[ 1 , 2 ]"),
    OK("{ \"a\" : 1 }"),
    /* containers */
    OK("[]"),
    OK("{}"),
    OK("[1,2,3]"),
    OK("[[],{},[[]]]"),
    OK("{\"\":0}"),
    OK("{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}"),
    OK("{\"a\":1,\"a\":2}"), /* duplicates are envelope.c's business */
    OK("[\"x\",-1,0.5,{\"k\":[]}]"),
    /* escapes */
    OK("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""),
    OK("\"\\u0041\""),
    OK("\"\\u00e9\\u00E9\""),
    OK("\"\\u0001\""),
    OK("\"\\u001f\""),
    OK("\"\\uFFFF\""),
    OK("\"\\ufffe\""),
    OK("\"\\uD83D\\uDE00\""),
    OK("\"\\ud83d\\ude00\""),
    OK("\"\\uD800\\uDC00\""),
    OK("\"\\uDBFF\\uDFFF\""),
    OK("\"\\uD7FF\\uE000\""),
    /* raw characters: DEL is not a control character in JSON */
    OK("\"\x7f\""),
    OK("\"'\""),
    OK("\"/\""),
    /* UTF-8 at each length boundary */
    OK("\"\xc2\x80\""),         /* U+0080 */
    OK("\"\xc3\xa9\""),         /* e acute */
    OK("\"\xdf\xbf\""),         /* U+07FF */
    OK("\"\xe0\xa0\x80\""),     /* U+0800 */
    OK("\"\xe2\x82\xac\""),     /* euro sign */
    OK("\"\xed\x9f\xbf\""),     /* U+D7FF, just below the surrogates */
    OK("\"\xee\x80\x80\""),     /* U+E000, just above them */
    OK("\"\xef\xbf\xbf\""),     /* U+FFFF */
    OK("\"\xf0\x90\x80\x80\""), /* U+10000 */
    OK("\"\xf0\x9f\x98\x80\""), /* emoji */
    OK("\"\xf4\x8f\xbf\xbf\""), /* U+10FFFF */
    OK("{\"\xc3\xa9\":\"\xe2\x82\xac\"}"),

    /* empty input and BOM */
    NO("", "unexpected end of input"),
    NO("   ", "unexpected end of input"),
    NO("\xef\xbb\xbf{}", "byte order mark is not allowed"),
    NO("\xef\xbb\xbf", "byte order mark is not allowed"),
    NO("{}\xef\xbb\xbf", TRAILING),
    /* numbers */
    NO("01", "leading zero in number"),
    NO("-01", "leading zero in number"),
    NO("00", "leading zero in number"),
    NO("[007]", "leading zero in number"),
    NO("+1", UNEXPECTED),
    NO(".5", UNEXPECTED),
    NO("[.5]", UNEXPECTED),
    NO("1.", BADNUM),
    NO("-", BADNUM),
    NO("-.5", BADNUM),
    NO("--1", BADNUM),
    NO("1e", BADNUM),
    NO("1e+", BADNUM),
    NO("1e-", BADNUM),
    NO("1.e5", BADNUM),
    NO("1ee5", BADNUM),
    NO("[1.]", BADNUM),
    NO("-a", BADNUM),
    NO("1e1001", EXPONENT),
    NO("1e-1001", EXPONENT),
    NO("1E+1001", EXPONENT),
    NO("1e0001001", EXPONENT),
    NO("1e9999", EXPONENT),
    NO("1e10000", EXPONENT),
    NO("1e99999999999999999999", EXPONENT),
    NO("0e2000", EXPONENT),
    NO("0x10", TRAILING),
    NO("1.5.5", TRAILING),
    NO("1 2", TRAILING),
    NO("1,", TRAILING),
    NO("1e5.5", TRAILING),
    NO("NaN", UNEXPECTED),
    NO("Infinity", UNEXPECTED),
    NO("-Infinity", BADNUM),
    NO("[1,NaN]", UNEXPECTED),
    /* literals */
    NO("tru", UNEXPECTED),
    NO("True", UNEXPECTED),
    NO("nul", UNEXPECTED),
    NO("NULL", UNEXPECTED),
    NO("nulll", TRAILING),
    NO("falsey", TRAILING),
    NO("undefined", UNEXPECTED),
    NO("[t]", UNEXPECTED),
    /* strings */
    NO("\"abc", "unterminated string"),
    NO("\"", "unterminated string"),
    NO("\"\\", "unterminated string"),
    NO("\"\\\"", "unterminated string"),
    NO("'a'", UNEXPECTED),
    NO("\"\\x\"", "invalid escape"),
    NO("\"\\'\"", "invalid escape"),
    NO("\"\\U0041\"", "invalid escape"),
    NO("\"\\a\"", "invalid escape"),
    NO("\"\\0\"", "invalid escape"),
    NO("\"\\u00\"", "truncated \\u escape"),
    NO("\"\\u", "truncated \\u escape"),
    NO("\"\\u00g0\"", "invalid \\u escape"),
    NO("\"\\u-123\"", "invalid \\u escape"),
    NO("\"\\u0000\"", "\\u0000 is not allowed"),
    NO("\"a\\u0000b\"", "\\u0000 is not allowed"),
    NO("\"\\uD800\"", "unpaired high surrogate"),
    NO("\"\\uDBFF\"", "unpaired high surrogate"),
    NO("\"\\uD800x\"", "unpaired high surrogate"),
    NO("\"\\uD800\\u0041\"", "unpaired high surrogate"),
    NO("\"\\uD800\\uD800\"", "unpaired high surrogate"),
    NO("\"\\uD800\\uE000\"", "unpaired high surrogate"),
    NO("\"\\uD800\\n\"", "unpaired high surrogate"),
    NO("\"\\uD800\\u0000\"", "unpaired high surrogate"),
    NO("\"\\uD800\\uDC0", "truncated \\u escape"),
    NO("\"\\uDC00\"", "unpaired low surrogate"),
    NO("\"\\uDFFF\"", "unpaired low surrogate"),
    NO("\"\\uDC00\\uD800\"", "unpaired low surrogate"),
    NO("\"a\tb\"", "control character in string"),
    NO("\"a\nb\"", "control character in string"),
    NO("\"\r\"", "control character in string"),
    NO("\"\x01\"", "control character in string"),
    NO("\"\x1f\"", "control character in string"),
    /* invalid UTF-8 in strings: overlongs */
    NO("\"\xc0\x80\"", UTF8),
    NO("\"\xc0\xaf\"", UTF8),
    NO("\"\xc1\xbf\"", UTF8),
    NO("\"\xe0\x80\x80\"", UTF8),
    NO("\"\xe0\x80\xaf\"", UTF8),
    NO("\"\xe0\x9f\xbf\"", UTF8),
    NO("\"\xf0\x80\x80\x80\"", UTF8),
    NO("\"\xf0\x8f\xbf\xbf\"", UTF8),
    /* UTF-16 surrogates encoded in UTF-8 (CESU-8) */
    NO("\"\xed\xa0\x80\"", UTF8),
    NO("\"\xed\xaf\xbf\"", UTF8),
    NO("\"\xed\xb0\x80\"", UTF8),
    NO("\"\xed\xbf\xbf\"", UTF8),
    NO("\"\xed\xa0\xbd\xed\xb8\x80\"", UTF8),
    /* beyond U+10FFFF, and bytes that never occur */
    NO("\"\xf4\x90\x80\x80\"", UTF8),
    NO("\"\xf5\x80\x80\x80\"", UTF8),
    NO("\"\xf7\xbf\xbf\xbf\"", UTF8),
    NO("\"\xf8\x88\x80\x80\x80\"", UTF8),
    NO("\"\xfc\x84\x80\x80\x80\x80\"", UTF8),
    NO("\"\xfe\"", UTF8),
    NO("\"\xff\"", UTF8),
    /* lone continuation bytes, and sequences cut short by another character */
    NO("\"\x80\"", UTF8),
    NO("\"\xbf\"", UTF8),
    NO("\"a\x80\x80\"", UTF8),
    NO("\"\xc3\"", UTF8),
    NO("\"\xc3(\"", UTF8),
    NO("\"\xe2\x82\"", UTF8),
    NO("\"\xf0\x9f\x98\"", UTF8),
    NO("\"\xe2\x82\xac\xac\"", UTF8),
    /* sequences cut short by the end of the input */
    NO("\"\xc3", "truncated UTF-8"),
    NO("\"\xe2\x82", "truncated UTF-8"),
    NO("\"\xf0\x9f\x98", "truncated UTF-8"),
    /* UTF-8 outside strings */
    NO("\xc3\xa9", UNEXPECTED),
    NO("[1,\xc2\xa0 2]", UNEXPECTED),
    /* structure */
    NO("[", "unexpected end of input"),
    NO("[1", "expected ',' or ']'"),
    NO("[1,", "unexpected end of input"),
    NO("]", UNEXPECTED),
    NO("}", UNEXPECTED),
    NO("{", "expected a member name"),
    NO("{\"a\"", "expected ':'"),
    NO("{\"a\":", "unexpected end of input"),
    NO("{\"a\":1", "expected ',' or '}'"),
    NO("[1,]", UNEXPECTED),
    NO("[,1]", UNEXPECTED),
    NO("[,]", UNEXPECTED),
    NO("[1 2]", "expected ',' or ']'"),
    NO("[1;2]", "expected ',' or ']'"),
    NO("{\"a\"}", "expected ':'"),
    NO("{\"a\" 1}", "expected ':'"),
    NO("{\"a\"=1}", "expected ':'"),
    NO("{\"a\":}", UNEXPECTED),
    NO("{\"a\":1,}", "expected a member name"),
    NO("{,}", "expected a member name"),
    NO("{a:1}", "expected a member name"),
    NO("{'a':1}", "expected a member name"),
    NO("{1:2}", "expected a member name"),
    NO("{null:1}", "expected a member name"),
    NO("{\"a\":1 \"b\":2}", "expected ',' or '}'"),
    NO("[1}", "expected ',' or ']'"),
    NO("{\"a\":1]", "expected ',' or '}'"),
    NO("[1]]", TRAILING),
    NO("{}}", TRAILING),
    NO("[][]", TRAILING),
    NO("{}{}", TRAILING),
    NO("\"a\"\"b\"", TRAILING),
    NO("[1]x", TRAILING),
    NO("{\"a\":1}//", TRAILING),
    NO("/*c*/1", UNEXPECTED),
    /* whitespace that JSON does not allow */
    NO("\v1", UNEXPECTED),
    NO("\f1", UNEXPECTED),
    NO("[1,\v2]", UNEXPECTED),
    NO("1\v", TRAILING),
    /* NUL bytes anywhere */
    NO("\0", "NUL byte"),
    NO("[1,\0 2]", "NUL byte"),
    NO("1\0", TRAILING),
    NO("{}\0", TRAILING),
    NO("\"a\0b\"", "NUL byte in string"),
    NO("\0{}", "NUL byte"),
    NO("{\"a\0\":1}", "NUL byte in string"),
};

/* The message is "invalid JSON at byte N: <problem>". */
static void check_message(const struct err *err, const char *problem, size_t i)
{
	const char *colon = strstr(err->msg, ": ");

	assert_int_equal(err->status, ST_INVALID);
	if (strncmp(err->msg, "invalid JSON at byte ", 21) != 0 || !colon ||
	    strcmp(colon + 2, problem) != 0)
		fail_msg("case %zu: message \"%s\", expected problem \"%s\"", i, err->msg, problem);
}

static void table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct json_case *c = &cases[i];
		struct err err = {0};
		enum status st = json_check(c->in, c->len, JSON_CHECK_MAX_DEPTH, &err);

		if (!c->problem) {
			if (st != ST_OK)
				fail_msg("case %zu rejected: %s", i, err.msg);
			assert_int_equal(err.status, ST_OK);
			continue;
		}
		if (st != ST_INVALID)
			fail_msg("case %zu accepted, expected \"%s\"", i, c->problem);
		check_message(&err, c->problem, i);
	}
}

/* The byte offsets in a few messages. */
static const struct json_case exact[] = {
    NO("\xef\xbb\xbf{}", "invalid JSON at byte 0: byte order mark is not allowed"),
    NO("[1,\0 2]", "invalid JSON at byte 3: NUL byte"),
    NO("\"a\tb\"", "invalid JSON at byte 2: control character in string"),
    NO("[\"\xc0\x80\"]", "invalid JSON at byte 2: invalid UTF-8"),
    NO("{\"a\":1,}", "invalid JSON at byte 7: expected a member name"),
    NO("1 2", "invalid JSON at byte 2: unexpected data after the JSON value"),
    NO("\"\\x\"", "invalid JSON at byte 2: invalid escape"),
    NO("  x", "invalid JSON at byte 2: unexpected character"),
    NO("", "invalid JSON at byte 0: unexpected end of input"),
};

static void exact_messages(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
		struct err err = {0};

		assert_int_equal(json_check(exact[i].in, exact[i].len, JSON_CHECK_MAX_DEPTH, &err),
		                 ST_INVALID);
		assert_string_equal(err.msg, exact[i].problem);
		assert_string_equal(err.pointer, "");
	}
}

/* Only `len` bytes are read: a valid prefix of a longer buffer is valid, and a cut
 * inside a value is not. */
static void uses_len(void **state)
{
	(void)state;
	const char text[] = "{\"a\":[1,2]}garbage";
	struct err err = {0};

	assert_int_equal(json_check(text, 11, JSON_CHECK_MAX_DEPTH, &err), ST_OK);
	assert_int_equal(json_check(text, sizeof text - 1, JSON_CHECK_MAX_DEPTH, &err), ST_INVALID);
	for (size_t n = 0; n < 11; n++)
		if (json_check(text, n, JSON_CHECK_MAX_DEPTH, &err) != ST_INVALID)
			fail_msg("prefix of %zu bytes accepted", n);
	/* numbers and literals stop at len, too */
	assert_int_equal(json_check("123", 2, 8, &err), ST_OK);
	assert_int_equal(json_check("1e5", 2, 8, &err), ST_INVALID);
	assert_int_equal(json_check("true", 3, 8, &err), ST_INVALID);
	assert_int_equal(json_check("-1", 1, 8, &err), ST_INVALID);
}

/* depth levels of `open` ... `close` around a 0 (arrays) or as {"a": ...} (objects). */
static void nest(struct buf *b, int depth, bool objects)
{
	for (int i = 0; i < depth; i++)
		buf_puts(b, objects ? "{\"a\":" : "[");
	buf_puts(b, "0");
	for (int i = 0; i < depth; i++)
		buf_putc(b, objects ? '}' : ']');
}

struct depth_case {
	int depth, max_depth;
	bool objects;
	bool ok;
};

static const struct depth_case depths[] = {
    {0, 0, false, true},       {1, 0, false, false},     {1, 1, false, true},
    {2, 1, false, false},      {2, 1, true, false},      {63, 64, false, true},
    {64, 64, false, true},     {65, 64, false, false},   {64, 64, true, true},
    {65, 64, true, false},     {1000, 64, false, false}, {100000, 64, false, false},
    {100000, 64, true, false},
};

static void depth_limit(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
		struct buf b = BUF_INIT(0);
		struct err err = {0};

		nest(&b, depths[i].depth, depths[i].objects);
		enum status st = json_check(b.data, b.len, depths[i].max_depth, &err);
		if ((st == ST_OK) != depths[i].ok)
			fail_msg("depth %d (max %d, %s): %s", depths[i].depth, depths[i].max_depth,
			         depths[i].objects ? "objects" : "arrays", err.msg);
		if (!depths[i].ok)
			assert_non_null(strstr(err.msg, ": nesting too deep"));
		buf_release(&b);
	}
}

/* Depth is nesting, not the number of containers: many siblings at depth 1 are fine, and
 * mixing arrays and objects counts both. */
static void depth_counts_nesting_only(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(0);
	struct err err = {0};

	buf_putc(&b, '[');
	for (int i = 0; i < 10000; i++)
		buf_puts(&b, i ? ",[]" : "[]");
	buf_putc(&b, ']');
	assert_int_equal(json_check(b.data, b.len, 2, &err), ST_OK);
	assert_int_equal(json_check(b.data, b.len, 1, &err), ST_INVALID);
	buf_reset(&b);
	for (int i = 0; i < 32; i++)
		buf_puts(&b, "[{\"k\":");
	buf_puts(&b, "null");
	for (int i = 0; i < 32; i++)
		buf_puts(&b, "}]");
	assert_int_equal(json_check(b.data, b.len, 64, &err), ST_OK);
	assert_int_equal(json_check(b.data, b.len, 63, &err), ST_INVALID);
	/* the depth is restored when a container closes */
	buf_reset(&b);
	buf_puts(&b, "[");
	for (int i = 0; i < 100; i++)
		buf_puts(&b, i ? ",[[[0]]]" : "[[[0]]]");
	buf_puts(&b, "]");
	assert_int_equal(json_check(b.data, b.len, 4, &err), ST_OK);
	assert_int_equal(json_check(b.data, b.len, 3, &err), ST_INVALID);
	buf_release(&b);
}

/* A large, flat document is accepted. */
static void large_document(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(0);
	struct err err = {0};

	buf_putc(&b, '[');
	for (int i = 0; i < 100000; i++)
		buf_printf(&b, "%s{\"n\":%d,\"s\":\"\\u00e9\xc3\xa9\"}", i ? "," : "", i);
	buf_putc(&b, ']');
	assert_int_equal(json_check(b.data, b.len, JSON_CHECK_MAX_DEPTH, &err), ST_OK);
	buf_release(&b);
}

/* Every vendored upstream example is valid. */
static void conformance_examples_valid(void **state)
{
	(void)state;
	static const char *const dirs[] = {
	    "cdevents-spec/0.3.0/conformance", "cdevents-spec/0.4.1/conformance",
	    "cdevents-spec/0.5.1/conformance", "cdevents-spec/0.4.1/custom",
	    "cdevents-spec/0.5.1/custom",
	};

	for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
		char **names;
		size_t n = fixture_list(dirs[d], ".json", &names);

		assert_true(n > 0);
		for (size_t i = 0; i < n; i++) {
			char path[512];
			struct err err = {0};
			snprintf(path, sizeof path, "%s/%s", dirs[d], names[i]);
			struct fixture f = fixture_load(path);
			if (json_check(f.data, f.len, JSON_CHECK_MAX_DEPTH, &err) != ST_OK)
				fail_msg("%s: %s", path, err.msg);
			fixture_release(&f);
		}
		fixture_names_free(names, n);
	}
}

struct utf8_case {
	const char *in;
	size_t len;
	bool valid;
};

/* clang-format off */
#define U(s, v) {s, sizeof s - 1, v}
/* clang-format on */

static const struct utf8_case utf8[] = {
    U("", true),
    U("plain ascii", true),
    U("\0", true),
    U("a\0b", true),
    U("\x7f", true),
    U("\xc2\x80", true),
    U("caf\xc3\xa9", true),
    U("\xdf\xbf", true),
    U("\xe0\xa0\x80", true),
    U("\xe2\x82\xac", true),
    U("\xed\x9f\xbf", true),
    U("\xee\x80\x80", true),
    U("\xef\xbf\xbf", true),
    U("\xf0\x90\x80\x80", true),
    U("\xf0\x9f\x98\x80", true),
    U("\xf4\x8f\xbf\xbf", true),
    U("\"quotes\" and \\ are fine", true),
    /* overlongs */
    U("\xc0\x80", false),
    U("\xc1\xbf", false),
    U("\xe0\x80\x80", false),
    U("\xe0\x9f\xbf", false),
    U("\xf0\x80\x80\x80", false),
    U("\xf0\x8f\xbf\xbf", false),
    /* surrogates */
    U("\xed\xa0\x80", false),
    U("\xed\xbf\xbf", false),
    /* too large, never-used bytes */
    U("\xf4\x90\x80\x80", false),
    U("\xf5\x80\x80\x80", false),
    U("\xf8\x88\x80\x80\x80", false),
    U("\xfe", false),
    U("\xff", false),
    /* continuation bytes alone, truncated sequences (also at the very end) */
    U("\x80", false),
    U("a\xbf", false),
    U("\xc3", false),
    U("a\xc3", false),
    U("\xe2\x82", false),
    U("\xf0\x9f\x98", false),
    U("\xc3(", false),
    U("\xe2(\xac", false),
    U("\xe2\x82\xac\x80", false),
};

static void utf8_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof utf8 / sizeof utf8[0]; i++)
		if (json_utf8_valid(utf8[i].in, utf8[i].len) != utf8[i].valid)
			fail_msg("json_utf8_valid case %zu: expected %s", i,
			         utf8[i].valid ? "valid" : "invalid");
}

/* json_utf8_valid reads only len bytes. */
static void utf8_uses_len(void **state)
{
	(void)state;
	assert_true(json_utf8_valid("ab\xff", 2));
	assert_false(json_utf8_valid("\xe2\x82\xac", 2));
	assert_true(json_utf8_valid("\xe2\x82\xac", 3));
	assert_true(json_utf8_valid(NULL, 0));
}

/* json_utf8_prefix: how much of a value a message may quote (whole characters only). */
static void utf8_prefix(void **state)
{
	static const struct {
		const char *in;
		size_t max, want;
	} prefix[] = {
	    {"abc", 10, 3},
	    {"abc", 2, 2},
	    {"abc", 0, 0},
	    {"caf\xc3\xa9", 5, 5},
	    {"caf\xc3\xa9", 4, 3},          /* the cut would fall inside \xc3\xa9 */
	    {"\xe2\x82\xac\xe2\x82\xac", 5, 3},
	    {"\xf0\x9f\x98\x80", 3, 0},
	    {"ab\xff", 10, 2},               /* stops before an invalid byte */
	    {"a\xc0\xaf" "b", 10, 1},          /* or an overlong */
	    {"\xed\xa0\x80", 10, 0},        /* or a surrogate */
	};

	(void)state;
	for (size_t i = 0; i < sizeof prefix / sizeof prefix[0]; i++) {
		size_t got = json_utf8_prefix(prefix[i].in, strlen(prefix[i].in), prefix[i].max);
		if (got != prefix[i].want)
			fail_msg("json_utf8_prefix case %zu: %zu, expected %zu", i, got,
			         prefix[i].want);
	}
	assert_int_equal(json_utf8_prefix("a\xc3\xa9", 2, 10), 1); /* reads only len bytes */
	assert_int_equal(json_utf8_prefix(NULL, 0, 10), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(table),
	    cmocka_unit_test(exact_messages),
	    cmocka_unit_test(uses_len),
	    cmocka_unit_test(depth_limit),
	    cmocka_unit_test(depth_counts_nesting_only),
	    cmocka_unit_test(large_document),
	    cmocka_unit_test(conformance_examples_valid),
	    cmocka_unit_test(utf8_table),
	    cmocka_unit_test(utf8_uses_len),
	    cmocka_unit_test(utf8_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
