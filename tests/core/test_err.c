/*
 * tests/core/test_err.c: the error carrier (core/err.c): err_set() clears what an earlier
 * error left, and err_quote() shows any input as cut, ASCII-only text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"

static void set_clears_detail_and_pointer(void **state)
{
	(void)state;
	struct err err = {0};

	assert_int_equal(err_set(&err, ST_INVALID, "bad %s", "thing"), ST_INVALID);
	err_detail(&err, "hint %d", 1);
	err_pointer(&err, "/a");
	assert_int_equal(err_set(&err, ST_TOO_LARGE, "too big"), ST_TOO_LARGE);
	assert_string_equal(err.msg, "too big");
	assert_string_equal(err.detail, "");
	assert_string_equal(err.pointer, "");
	err_clear(&err);
	assert_int_equal(err.status, ST_OK);
	assert_string_equal(err.msg, "");
}

/* Plain text is kept; controls, DEL, bytes >= 0x80 and a NUL become %XX. */
static void quote_escapes_all_but_printable_ascii(void **state)
{
	(void)state;
	char out[64];
	const char in[] = "a b\t\x7f\xc3\xa9\0z";

	assert_string_equal(err_quote(out, in, sizeof in - 1, 100, 60), "a b%09%7F%C3%A9%00z");
	assert_string_equal(err_quote(out, "", 0, 10, 10), "");
}

/* Cut by input bytes (max_in) or by output bytes (max_out), never inside a %XX; "..." marks
 * the cut, and only a cut. */
static void quote_cuts_whole_pieces(void **state)
{
	(void)state;
	char out[32];

	assert_string_equal(err_quote(out, "abcdef", 6, 4, 20), "abcd...");
	assert_string_equal(err_quote(out, "abcd", 4, 4, 20), "abcd");
	assert_string_equal(err_quote(out, "abcdef", 6, 100, 3), "abc...");
	assert_string_equal(err_quote(out, "ab\xff", 3, 100, 4), "ab...");
	assert_string_equal(err_quote(out, "ab\xff", 3, 100, 5), "ab%FF");
	/* the most a buffer of max_out + 4 receives */
	memset(out, '#', sizeof out);
	err_quote(out, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 10, 100, 27);
	assert_string_equal(out, "%FF%FF%FF%FF%FF%FF%FF%FF%FF...");
	assert_int_equal(strlen(out), 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(set_clears_detail_and_pointer),
	    cmocka_unit_test(quote_escapes_all_but_printable_ascii),
	    cmocka_unit_test(quote_cuts_whole_pieces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
