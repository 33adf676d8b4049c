/*
 * tests/core/test_base64.c: strict RFC 4648 base64 decoding (core/base64.c).
 * Padding is optional but, when present, must be the right amount; no whitespace, no
 * URL-safe alphabet.
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

#include "core/base64.h"

struct good_case {
	const char *in;
	const char *out;
	size_t out_len;
};

/* clang-format off */
#define G(in, out) {in, out, sizeof out - 1}
/* clang-format on */

static const struct good_case good[] = {
    /* RFC 4648 section 10, padded and unpadded */
    G("", ""),
    G("Zg==", "f"),
    G("Zg", "f"),
    G("Zm8=", "fo"),
    G("Zm8", "fo"),
    G("Zm9v", "foo"),
    G("Zm9vYg==", "foob"),
    G("Zm9vYg", "foob"),
    G("Zm9vYmE=", "fooba"),
    G("Zm9vYmE", "fooba"),
    G("Zm9vYmFy", "foobar"),
    /* the whole alphabet, incl. '+' and '/' */
    G("+/+/", "\xfb\xff\xbf"),
    G("AAAA", "\0\0\0"),
    G("////", "\xff\xff\xff"),
    G("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    G("YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXowMTIzNDU2Nzg5", "abcdefghijklmnopqrstuvwxyz0123456789"),
    G("eyJhIjoxfQ==", "{\"a\":1}"),
};

static const char *const bad[] = {
    "Z",                                           /* one sextet cannot make a byte */
    "Z===",       "Zm9vY",      "Zm9vY=",   "Zg=", /* wrong amount of padding */
    "Zg===",      "Zg=====",    "Zm8==",    "Zm9v=",
    "Zm9v==",     "Zm9v====",   "=",        "==",
    "===",        "====",       "Zg==Zg==", /* padding in the middle */
    "Z=g=",       "Zm9v YmFy",              /* whitespace */
    "Zm9v\nYmFy", "Zm9vYmFy\n", " Zm9v",    "Zm9v\r\n",
    "-_-_", /* URL-safe alphabet */
    "Zm9v!",      "Zm9v.",      "Zm9v\x80", "\xc3\xa9\xc3\xa9",
};

static void decode_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct buf out = BUF_INIT(0);

		if (!base64_decode(good[i].in, strlen(good[i].in), &out))
			fail_msg("base64_decode(\"%s\") failed", good[i].in);
		assert_int_equal(out.len, good[i].out_len);
		if (good[i].out_len)
			assert_memory_equal(out.data, good[i].out, good[i].out_len);
		buf_release(&out);
	}
}

static void decode_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct buf out = BUF_INIT(0);

		if (base64_decode(bad[i], strlen(bad[i]), &out))
			fail_msg("base64_decode(\"%s\") succeeded", bad[i]);
		buf_release(&out);
	}
}

/* Output is appended; the input need not be NUL-terminated (only len bytes are read). */
static void appends_and_uses_len(void **state)
{
	(void)state;
	struct buf out = BUF_INIT(0);

	buf_puts(&out, ">");
	assert_true(base64_decode("Zm9vYmFy!!!", 8, &out));
	assert_string_equal(buf_cstr(&out), ">foobar");
	assert_true(base64_decode("Zg==", 2, &out));
	assert_string_equal(buf_cstr(&out), ">foobarf");
	assert_false(base64_decode("Zm9v", 1, &out));
	buf_release(&out);
}

/* A NUL byte inside the length is an invalid character, not an end. */
static void nul_is_invalid(void **state)
{
	(void)state;
	struct buf out = BUF_INIT(0);

	assert_false(base64_decode("Zm\0v", 4, &out));
	buf_release(&out);
}

/* Round trip of every byte value through a reference encoder. */
static void round_trip_all_bytes(void **state)
{
	(void)state;
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char raw[256];
	char enc[400];

	for (int i = 0; i < 256; i++)
		raw[i] = (unsigned char)(255 - i);
	for (size_t n = 0; n <= sizeof raw; n += 1 + n / 8) {
		size_t e = 0;
		for (size_t i = 0; i < n; i += 3) {
			unsigned v = (unsigned)raw[i] << 16;
			v |= i + 1 < n ? (unsigned)raw[i + 1] << 8 : 0;
			v |= i + 2 < n ? raw[i + 2] : 0;
			enc[e++] = alphabet[v >> 18 & 63];
			enc[e++] = alphabet[v >> 12 & 63];
			enc[e++] = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
			enc[e++] = i + 2 < n ? alphabet[v & 63] : '=';
		}
		for (int padded = 0; padded < 2; padded++) {
			size_t len = e;
			while (!padded && len && enc[len - 1] == '=')
				len--;
			struct buf out = BUF_INIT(0);
			assert_true(base64_decode(enc, len, &out));
			assert_int_equal(out.len, n);
			if (n)
				assert_memory_equal(out.data, raw, n);
			buf_release(&out);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(decode_good),          cmocka_unit_test(decode_bad),
	    cmocka_unit_test(appends_and_uses_len), cmocka_unit_test(nul_is_invalid),
	    cmocka_unit_test(round_trip_all_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
