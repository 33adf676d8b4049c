/*
 * tests/core/test_buf.c: the growable buffer (core/buf.c): growth, the NUL invariant, the
 * sticky overflow flag, JSON string escaping and the lifecycle verbs on zeroed structs.
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

/* The invariant of buf.h: data NUL-terminated, len < cap, whenever data is set. */
static void check_invariant(const struct buf *b)
{
	if (!b->data) {
		assert_int_equal(b->len, 0);
		return;
	}
	assert_true(b->len < b->cap);
	assert_int_equal(b->data[b->len], '\0');
}

static void zeroed_buffer_is_empty(void **state)
{
	(void)state;
	struct buf b = {0};

	assert_string_equal(buf_cstr(&b), "");
	buf_reset(&b);
	assert_null(b.data);
	buf_release(&b);
	buf_release(&b); /* twice is fine */
	buf_release(NULL);
	assert_null(b.data);
	assert_int_equal(b.len, 0);

	size_t len = 99;
	char *p = buf_detach(&b, &len); /* never NULL, even when nothing was appended */
	assert_non_null(p);
	assert_string_equal(p, "");
	assert_int_equal(len, 0);
	free(p);
	p = buf_detach(&b, NULL);
	assert_string_equal(p, "");
	free(p);
}

/* Appends of every size up to 10000 bytes keep the invariant and the content. */
static void growth_keeps_content(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(0);
	size_t expect = 0;

	for (size_t n = 0; n < 200; n++) {
		char chunk[200];
		memset(chunk, (int)('a' + n % 26), n);
		buf_append(&b, chunk, n);
		expect += n;
		assert_int_equal(b.len, expect);
		check_invariant(&b);
	}
	size_t off = 0;
	for (size_t n = 0; n < 200; n++)
		for (size_t i = 0; i < n; i++, off++)
			assert_int_equal(b.data[off], 'a' + n % 26);
	assert_false(b.overflow);
	buf_release(&b);
	assert_null(b.data);
}

static void append_helpers(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(0);

	buf_puts(&b, "abc");
	buf_putc(&b, '-');
	buf_append(&b, "xyz", 2);
	buf_puts(&b, "");
	buf_append(&b, "q", 0);
	assert_string_equal(buf_cstr(&b), "abc-xy");
	assert_int_equal(b.len, 6);
	/* embedded NUL bytes are kept; len counts them */
	buf_append(&b, "\0z", 2);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, "abc-xy\0z", 9);
	check_invariant(&b);
	buf_release(&b);
}

/* buf_printf has a fast path for results under 256 bytes; both sides of it, and long ones. */
static void printf_lengths(void **state)
{
	(void)state;
	static const size_t widths[] = {0, 1, 254, 255, 256, 257, 511, 4096, 100000};

	for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
		struct buf b = BUF_INIT(0);
		const size_t w = widths[i];

		buf_puts(&b, "<");
		buf_printf(&b, "%0*d", (int)w, 7);
		buf_printf(&b, "%s|%zu", ">", w);
		char tail[32];
		snprintf(tail, sizeof tail, ">|%zu", w);
		const size_t expect = 1 + (w ? w : 1) + strlen(tail);
		assert_int_equal(b.len, expect);
		assert_int_equal(b.data[0], '<');
		assert_int_equal(b.data[expect - strlen(tail) - 1], '7');
		assert_string_equal(b.data + expect - strlen(tail), tail);
		check_invariant(&b);
		buf_release(&b);
	}
}

/* Reaching max exactly is fine; one byte more drops the append and sets the flag, which then
 * stays set (later small appends are dropped too) until reset/detach/release. */
static void overflow_is_sticky(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(8);

	buf_puts(&b, "12345");
	buf_puts(&b, "678");
	assert_false(b.overflow);
	assert_string_equal(buf_cstr(&b), "12345678");
	buf_putc(&b, '9');
	assert_true(b.overflow);
	assert_string_equal(buf_cstr(&b), "12345678");
	buf_reset(&b);
	assert_false(b.overflow);
	assert_int_equal(b.max, 8);
	assert_string_equal(buf_cstr(&b), "");

	buf_puts(&b, "1234");
	buf_puts(&b, "56789"); /* the whole append is dropped, not cut */
	assert_true(b.overflow);
	assert_string_equal(buf_cstr(&b), "1234");
	buf_puts(&b, "x"); /* would fit, but the flag is sticky */
	buf_putc(&b, 'y');
	buf_append(&b, "z", 1);
	buf_printf(&b, "%d", 1);
	buf_json_cstr(&b, "a");
	assert_true(b.overflow);
	assert_string_equal(buf_cstr(&b), "1234");
	check_invariant(&b);

	size_t len = 0;
	char *p = buf_detach(&b, &len);
	assert_string_equal(p, "1234");
	assert_int_equal(len, 4);
	free(p);
	assert_false(b.overflow);
	assert_null(b.data);
	buf_puts(&b, "abcdefgh"); /* the limit survives detach */
	buf_putc(&b, 'i');
	assert_true(b.overflow);
	buf_release(&b);
	assert_false(b.overflow);
}

/* buf_printf's slow path (>= 256 bytes) honours the limit too. */
static void overflow_printf(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(300);

	buf_printf(&b, "%0*d", 299, 1);
	assert_false(b.overflow);
	assert_int_equal(b.len, 299);
	buf_printf(&b, "%0*d", 2, 1);
	assert_true(b.overflow);
	assert_int_equal(b.len, 299);
	buf_release(&b);

	struct buf c = BUF_INIT(1000);
	buf_printf(&c, "%0*d", 1001, 5);
	assert_true(c.overflow);
	assert_int_equal(c.len, 0);
	assert_string_equal(buf_cstr(&c), "");
	buf_release(&c);
}

/* max = 0 means unlimited. */
static void unlimited(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(0);
	char chunk[4096];

	memset(chunk, 'x', sizeof chunk);
	for (int i = 0; i < 512; i++)
		buf_append(&b, chunk, sizeof chunk);
	assert_false(b.overflow);
	assert_int_equal(b.len, 512 * sizeof chunk);
	check_invariant(&b);
	buf_release(&b);
}

/* reset keeps the memory; detach hands it over and empties the buffer. */
static void reset_and_detach(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(0);

	buf_puts(&b, "hello");
	char *mem = b.data;
	size_t cap = b.cap;
	buf_reset(&b);
	assert_ptr_equal(b.data, mem);
	assert_int_equal(b.cap, cap);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	buf_puts(&b, "again");
	assert_string_equal(buf_cstr(&b), "again");

	size_t len = 0;
	char *p = buf_detach(&b, &len);
	assert_ptr_equal(p, mem);
	assert_string_equal(p, "again");
	assert_int_equal(len, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_string_equal(buf_cstr(&b), "");
	buf_puts(&b, "new");
	assert_string_equal(buf_cstr(&b), "new");
	free(p);
	buf_release(&b);
}

struct json_case {
	const char *in;
	size_t len;
	const char *out;
};

/* clang-format off */
#define J(s, o) {s, sizeof s - 1, o}
/* clang-format on */

static const struct json_case json_cases[] = {
    J("", "\"\""),
    J("plain", "\"plain\""),
    J("say \"hi\"", "\"say \\\"hi\\\"\""),
    J("back\\slash", "\"back\\\\slash\""),
    J("/", "\"/\""), /* '/' need not be escaped */
    J("a\nb\rc\td", "\"a\\nb\\rc\\td\""),
    J("\b\f", "\"\\u0008\\u000c\""),
    J("\x01\x1f", "\"\\u0001\\u001f\""),
    J("\0", "\"\\u0000\""),
    J("a\0b", "\"a\\u0000b\""),
    J("\x7f", "\"\x7f\""),
    /* <, > and & so the JSON can be embedded in HTML */
    J("<script>&</script>", "\"\\u003cscript\\u003e\\u0026\\u003c/script\\u003e\""),
    /* UTF-8 is copied through unchanged */
    J("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""),
    J("\"\"\"", "\"\\\"\\\"\\\"\""),
    J("x\"", "\"x\\\"\""),
    J("\"x", "\"\\\"x\""),
};

/* The shortest text that reads back: 0.1 and 0.3, not 0.10000000000000001; 17 digits only
 * when 15 do not read back. */
static void doubles_shortest(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(0);
	const double values[] = {0.1, 0.3, 2400, 1.0 / 3, 1e-7, -0.25, 123456789012.5};

	buf_double(&b, 0.1);
	buf_putc(&b, ' ');
	buf_double(&b, 0.3);
	buf_putc(&b, ' ');
	buf_double(&b, 2400);
	assert_string_equal(buf_cstr(&b), "0.1 0.3 2400");
	for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
		buf_reset(&b);
		buf_double(&b, values[i]);
		assert_true(strtod(buf_cstr(&b), NULL) == values[i]);
		assert_true(strlen(buf_cstr(&b)) <= 24);
	}
	buf_reset(&b);
	buf_double(&b, 1.0 / 3); /* needs 17 significant digits */
	assert_string_equal(buf_cstr(&b), "0.33333333333333331");
	buf_release(&b);
}

static void json_escaping(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof json_cases / sizeof json_cases[0]; i++) {
		struct buf b = BUF_INIT(0);

		buf_json_str(&b, json_cases[i].in, json_cases[i].len);
		if (strcmp(buf_cstr(&b), json_cases[i].out) != 0)
			fail_msg("case %zu: got %s, expected %s", i, buf_cstr(&b),
			         json_cases[i].out);
		assert_int_equal(b.len, strlen(json_cases[i].out));
		buf_release(&b);
	}
}

/* Every byte below 0x20 comes out escaped; nothing below 0x20 stays raw. */
static void json_escapes_all_controls(void **state)
{
	(void)state;
	char in[32];
	struct buf b = BUF_INIT(0);

	for (int c = 0; c < 32; c++)
		in[c] = (char)c;
	buf_json_str(&b, in, sizeof in);
	for (size_t i = 0; i < b.len; i++)
		assert_true((unsigned char)b.data[i] >= 0x20);
	assert_non_null(strstr(b.data, "\\u001e"));
	assert_non_null(strstr(b.data, "\\t\\n\\u000b\\u000c\\r"));
	buf_release(&b);
}

static void json_cstr(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(0);

	buf_json_cstr(&b, NULL);
	buf_putc(&b, ',');
	buf_json_cstr(&b, "");
	buf_putc(&b, ',');
	buf_json_cstr(&b, "a\"b");
	assert_string_equal(buf_cstr(&b), "null,\"\",\"a\\\"b\"");
	buf_release(&b);
}

/* The escaping respects the overflow limit like any other append. */
static void json_overflow(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(10);

	buf_json_cstr(&b, "<<<<");
	assert_true(b.overflow);
	assert_true(b.len <= 10);
	check_invariant(&b);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(zeroed_buffer_is_empty),
	    cmocka_unit_test(growth_keeps_content),
	    cmocka_unit_test(append_helpers),
	    cmocka_unit_test(printf_lengths),
	    cmocka_unit_test(overflow_is_sticky),
	    cmocka_unit_test(overflow_printf),
	    cmocka_unit_test(unlimited),
	    cmocka_unit_test(reset_and_detach),
	    cmocka_unit_test(json_escaping),
	    cmocka_unit_test(json_escapes_all_controls),
	    cmocka_unit_test(json_cstr),
	    cmocka_unit_test(json_overflow),
	    cmocka_unit_test(doubles_shortest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
