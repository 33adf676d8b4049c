/*
 * tests/core/test_clock.c: RFC 3339 parsing and formatting (core/clock.c).
 *
 * Expected microsecond values were computed independently (Python's datetime), not with the
 * code under test. Parsing is table-driven: `good` lists inputs with their exact result,
 * `bad` lists inputs that must be refused.
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

#include "core/clock.h"

struct good_case {
	const char *in;
	int64_t us;
	int offset_min;
};

static const struct good_case good[] = {
    {"1970-01-01T00:00:00Z", 0, 0},
    {"2023-03-20T14:27:05.315384Z", 1679322425315384, 0},
    /* 't', 'z' and a space separator */
    {"2023-03-20t14:27:05.315384z", 1679322425315384, 0},
    {"2023-03-20 14:27:05.315384Z", 1679322425315384, 0},
    /* fractions of 1 to 9 digits; past the sixth digit they are truncated, not rounded */
    {"1970-01-01T00:00:00.1Z", 100000, 0},
    {"1970-01-01T00:00:00.12Z", 120000, 0},
    {"1970-01-01T00:00:00.123Z", 123000, 0},
    {"1970-01-01T00:00:00.0001Z", 100, 0},
    {"1970-01-01T00:00:00.00001Z", 10, 0},
    {"1970-01-01T00:00:00.000001Z", 1, 0},
    {"1970-01-01T00:00:00.0000009Z", 0, 0},
    {"1970-01-01T00:00:00.1234567Z", 123456, 0},
    {"1970-01-01T00:00:00.12345678Z", 123456, 0},
    {"1970-01-01T00:00:00.999999999Z", 999999, 0},
    {"1970-01-01T00:00:00.000000000Z", 0, 0},
    /* offsets */
    {"2023-03-20T16:27:05.315384+02:00", 1679322425315384, 120},
    {"2023-03-20T14:27:05-05:30", 1679342225000000, -330},
    {"2023-03-20T14:27:05.315384+00:00", 1679322425315384, 0},
    {"2023-03-20T14:27:05.315384-00:00", 1679322425315384, 0},
    {"1970-01-01T00:00:00-01:00", 3600000000, -60},
    {"1969-12-31T23:00:00-01:00", 0, -60},
    {"1970-01-01T01:00:00+01:00", 0, 60},
    {"2000-01-01T00:00:00+23:59", 946684800000000 - 1439 * 60000000LL, 1439},
    {"2000-01-01T00:00:00-23:59", 946684800000000 + 1439 * 60000000LL, -1439},
    /* before 1970 */
    {"1969-12-31T23:59:59.5Z", -500000, 0},
    {"1969-12-31T23:59:59.999999Z", -1, 0},
    {"1969-07-20T20:17:40Z", -14182940000000, 0},
    {"1960-01-01T00:00:00-01:00", -315615600000000, -60},
    {"1900-01-01T00:00:00Z", -2208988800000000, 0},
    /* leap days: every 4 years, not centuries, but every 400 years */
    {"2000-02-29T12:00:00Z", 951825600000000, 0},
    {"2024-02-29T00:00:00Z", 1709164800000000, 0},
    {"1600-02-29T00:00:00Z", -11670998400000000, 0},
    /* last day of every 31-day month is fine */
    {"2023-01-31T00:00:00Z", 1675123200000000, 0},
    {"2023-12-31T23:59:59Z", 1704067199000000, 0},
    /* year range */
    {"0001-01-01T00:00:00Z", -62135596800000000, 0},
    {"9999-12-31T23:59:59.999999Z", 253402300799999999, 0},
    {"9999-12-31T23:59:59.999999999Z", 253402300799999999, 0},
    /* a leap second folds onto the end of the previous second */
    {"2016-12-31T23:59:60Z", 1483228799999999, 0},
    {"2016-12-31T23:59:60.5Z", 1483228799999999, 0},
};

static const char *const bad[] = {
    "",
    "2023-03-20",
    "2023-03-20T14:27",
    "2023-03-20T14:27:05",             /* no time zone */
    "2023-03-20T14:27:05.123",         /* no time zone */
    "2023-03-20T14:27:05.315384",      /* no time zone */
    "2023-03-20T14:27:05.Z",           /* a dot needs digits */
    "2023-03-20T14:27:05.1234567890Z", /* 10 fraction digits */
    "2023-03-20T14:27:05,5Z",          /* comma fraction */
    "2023-03-20T14:27:05ZZ",
    "2023-03-20T14:27:05Z ",
    " 2023-03-20T14:27:05Z",
    "2023-03-20T14:27:05 Z",
    "2023-03-20T14:27:05UTC",
    "2023-03-20T14:27:05+02",
    "2023-03-20T14:27:05+0200",
    "2023-03-20T14:27:05+02:0",
    "2023-03-20T14:27:05+02:000",
    "2023-03-20T14:27:05+2:00",
    "2023-03-20T14:27:05+24:00",
    "2023-03-20T14:27:05+23:60",
    "2023-03-20T14:27:05*02:00",
    "2023-03-20T14:27:05+0a:00",
    "2023-03-20X14:27:05Z",
    "2023-03-20_14:27:05Z",
    "20230320T142705Z",
    "2023/03/20T14:27:05Z",
    "2023-03-20T14-27-05Z",
    "2023-3-20T14:27:05Z",
    "23-03-20T14:27:05Z",
    "+2023-03-20T14:27:05Z",
    "-2023-03-20T14:27:05Z",
    "2023-0a-20T14:27:05Z",
    "2023-03-2 T14:27:05Z",
    "2023-03-20T1 :27:05Z",
    "2023-03-20T14:27:-5Z",
    /* impossible dates and times */
    "2023-13-01T00:00:00Z",
    "2023-00-01T00:00:00Z",
    "2023-01-00T00:00:00Z",
    "2023-01-32T00:00:00Z",
    "2023-02-29T00:00:00Z",
    "2023-02-30T00:00:00Z",
    "2024-02-30T00:00:00Z",
    "1900-02-29T00:00:00Z",
    "2023-04-31T00:00:00Z",
    "2023-06-31T00:00:00Z",
    "2023-09-31T00:00:00Z",
    "2023-11-31T00:00:00Z",
    "2023-03-20T24:00:00Z",
    "2023-03-20T23:60:00Z",
    "2023-03-20T23:59:61Z",
    "2023-03-20T99:00:00Z",
    /* years outside 0001-9999, also when only the UTC instant is */
    "0000-01-01T00:00:00Z",
    "0000-12-31T23:59:59Z",
    "0001-01-01T00:00:00+00:01",
    "9999-12-31T23:59:59-00:01",
    "10000-01-01T00:00:00Z",
};

static void parse_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		int64_t us = -42;
		int off = -42;

		if (!clock_parse_rfc3339(good[i].in, strlen(good[i].in), &us, &off))
			fail_msg("clock_parse_rfc3339(\"%s\") failed", good[i].in);
		if (us != good[i].us || off != good[i].offset_min)
			fail_msg("%s: got %lld us offset %d, expected %lld us offset %d",
			         good[i].in, (long long)us, off, (long long)good[i].us,
			         good[i].offset_min);
	}
}

static void parse_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t us = 42;
		int off = 42;

		if (clock_parse_rfc3339(bad[i], strlen(bad[i]), &us, &off))
			fail_msg("clock_parse_rfc3339(\"%s\") succeeded", bad[i]);
		assert_int_equal(us, 42); /* outputs untouched on failure */
		assert_int_equal(off, 42);
	}
}

/* Either output may be NULL. */
static void parse_null_outputs(void **state)
{
	(void)state;
	const char *s = "2023-03-20T16:27:05+02:00";
	int64_t us = 0;
	int off = 0;

	assert_true(clock_parse_rfc3339(s, strlen(s), NULL, NULL));
	assert_true(clock_parse_rfc3339(s, strlen(s), &us, NULL));
	assert_int_equal(us, 1679322425000000);
	assert_true(clock_parse_rfc3339(s, strlen(s), NULL, &off));
	assert_int_equal(off, 120);
}

/* The input need not be NUL-terminated; only `len` bytes are read. */
static void parse_uses_len(void **state)
{
	(void)state;
	const char text[] = "2023-03-20T14:27:05Zjunk";
	char exact[20];
	int64_t us = 0;

	memcpy(exact, text, sizeof exact); /* no NUL */
	assert_true(clock_parse_rfc3339(exact, sizeof exact, &us, NULL));
	assert_int_equal(us, 1679322425000000);
	assert_false(clock_parse_rfc3339(text, strlen(text), &us, NULL));
	/* a length cut inside the value */
	assert_false(clock_parse_rfc3339(text, 19, &us, NULL));
	assert_false(clock_parse_rfc3339(text, 0, &us, NULL));
	/* the offset is cut short */
	const char off[] = "2023-03-20T14:27:05+02:00";
	assert_false(clock_parse_rfc3339(off, sizeof off - 2, &us, NULL));
}

struct format_case {
	int64_t us;
	const char *out;
};

static const struct format_case formats[] = {
    {0, "1970-01-01T00:00:00.000000Z"},
    {1, "1970-01-01T00:00:00.000001Z"},
    {-1, "1969-12-31T23:59:59.999999Z"},
    {-500000, "1969-12-31T23:59:59.500000Z"},
    {-1000000, "1969-12-31T23:59:59.000000Z"},
    {1679322425315384, "2023-03-20T14:27:05.315384Z"},
    {951825600000000, "2000-02-29T12:00:00.000000Z"},
    {-2208988800000000, "1900-01-01T00:00:00.000000Z"},
    {-62135596800000000, "0001-01-01T00:00:00.000000Z"},
    {253402300799999999, "9999-12-31T23:59:59.999999Z"},
};

static void format_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		char out[28];

		memset(out, 'x', sizeof out);
		clock_format_rfc3339(formats[i].us, out);
		assert_string_equal(out, formats[i].out);
	}
}

/* format -> parse gives the same instant, across the whole year range and both signs. */
static void format_round_trip(void **state)
{
	(void)state;
	const int64_t lo = -62135596800000000, hi = 253402300799999999;
	const int64_t step = (hi - lo) / 997;

	for (int64_t us = lo; us <= hi - 7; us += step + 7) {
		char out[28];
		int64_t back = 0;
		int off = 1;

		clock_format_rfc3339(us, out);
		assert_int_equal(strlen(out), 27);
		if (!clock_parse_rfc3339(out, strlen(out), &back, &off) || back != us)
			fail_msg("round trip of %lld through \"%s\" gave %lld", (long long)us, out,
			         (long long)back);
		assert_int_equal(off, 0);
	}
	/* parse -> format -> parse of every `good` case */
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		char out[28];
		int64_t back = 0;

		clock_format_rfc3339(good[i].us, out);
		assert_true(clock_parse_rfc3339(out, strlen(out), &back, NULL));
		assert_int_equal(back, good[i].us);
	}
}

static void clocks_advance(void **state)
{
	(void)state;
	const int64_t now = clock_now_us(), mono = clock_mono_us();

	assert_true(now > 1672531200000000); /* after 2023-01-01 */
	assert_true(now < 253402300799999999);
	assert_true(mono >= 0);
	assert_true(clock_mono_us() >= mono);
	assert_true(clock_now_us() >= now - 1000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_good),         cmocka_unit_test(parse_bad),
	    cmocka_unit_test(parse_null_outputs), cmocka_unit_test(parse_uses_len),
	    cmocka_unit_test(format_table),       cmocka_unit_test(format_round_trip),
	    cmocka_unit_test(clocks_advance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
