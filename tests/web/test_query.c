/*
 * tests/web/test_query.c: the query-string parser (web/query.c).
 *
 * `cases` is one table: an input query string, and either the decoded pairs it gives
 * (written "name=value|name=value", with <NONE> for no pairs) or the exact error message.
 * Limits (64 parameters, 2048-byte values) and the lookup functions have their own tests.
 * The last tests are of dora_params_parse() (web/api_dora_params.c), the DORA endpoints'
 * parameters on top of the parser, where fuzzing (tests/fuzz/fuzz_query.c) found bugs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "metrics/tiers.h"
#include "web/api_dora_params.h"
#include "web/app.h"
#include "web/query.h"
#include "web/request.h"

struct query_case {
	const char *qs;
	const char *pairs; /* expected "n=v|n=v" on success; NULL: must fail */
	const char *msg;   /* expected err.msg on failure */
};

#define NONE "<NONE>"

static const struct query_case cases[] = {
	/* empty and degenerate input */
	{NULL, NONE, NULL},
	{"", NONE, NULL},
	{"&", NONE, NULL},
	{"&&&", NONE, NULL},
	/* plain pairs, order kept */
	{"a=1", "a=1", NULL},
	{"change=101&repository=github.com/acme/shop", "change=101|repository=github.com/acme/shop",
	 NULL},
	{"a=1&&b=2&", "a=1|b=2", NULL},
	/* missing '=' and empty values and names */
	{"flag", "flag=", NULL},
	{"flag&a=1", "flag=|a=1", NULL},
	{"a=", "a=", NULL},
	{"=x", "=x", NULL},
	{"=", "=", NULL},
	/* only the first '=' splits */
	{"a=b=c", "a=b=c", NULL},
	/* repeated names keep every value */
	{"service=a&service=b&x=1&service=c", "service=a|service=b|x=1|service=c", NULL},
	/* '+' and percent-decoding, in names and values */
	{"q=a+b", "q=a b", NULL},
	{"q=a%2Bb", "q=a+b", NULL},
	{"q=%26%3D%25", "q=&=%", NULL},
	{"my+name=1", "my name=1", NULL},
	{"%63hange=101", "change=101", NULL},
	{"repository=https%3A%2F%2Fgithub.com%2Facme%2Fshop.git",
	 "repository=https://github.com/acme/shop.git", NULL},
	{"artifact=pkg:oci/shop@sha256%253Accc3", "artifact=pkg:oci/shop@sha256%3Accc3", NULL},
	{"x=%e2%82%ac", "x=\xe2\x82\xac", NULL},
	{"x=%E2%82%AC", "x=\xe2\x82\xac", NULL},
	{"x=\xe2\x82\xac", "x=\xe2\x82\xac", NULL},
	/* bad escapes: the message names the parameter and quotes the escape */
	{"change=%zz", NULL, "parameter \"change\" has an invalid percent-escape \"%zz\""},
	{"change=10%4", NULL, "parameter \"change\" has an invalid percent-escape \"%4\""},
	{"change=10%", NULL, "parameter \"change\" has an invalid percent-escape \"%\""},
	{"change=%g1&x=1", NULL, "parameter \"change\" has an invalid percent-escape \"%g1\""},
	{"a=1&ch%zzange=1", NULL, "parameter \"ch%zzange\" has an invalid percent-escape \"%zz\""},
	{"a%=1", NULL, "parameter \"a%\" has an invalid percent-escape \"%\""},
	/* the escape is quoted like a name: a raw byte after '%' must not reach the message
	 * (found by tests/fuzz/fuzz_query.c; input in tests/fuzz/regressions/query/) */
	{"x=%\xae", NULL, "parameter \"x\" has an invalid percent-escape \"%%AE\""},
	{"%\xae", NULL, "parameter \"%%AE\" has an invalid percent-escape \"%%AE\""},
	{"x=a%\xe2\x82\xac", NULL, "parameter \"x\" has an invalid percent-escape \"%%E2%82\""},
	/* NUL bytes and invalid UTF-8, after decoding */
	{"x=a%00b", NULL, "parameter \"x\" contains a NUL byte"},
	{"x%00=1", NULL, "parameter \"x%00\" contains a NUL byte"},
	{"x=%ff", NULL, "parameter \"x\" is not valid UTF-8"},
	{"x=%c0%af", NULL, "parameter \"x\" is not valid UTF-8"},       /* overlong '/' */
	{"x=%ed%a0%80", NULL, "parameter \"x\" is not valid UTF-8"},    /* a surrogate */
	{"x=%e2%82", NULL, "parameter \"x\" is not valid UTF-8"},       /* truncated */
	{"x=\xff", NULL, "parameter \"x\" is not valid UTF-8"},         /* raw byte */
	{"%ff=1", NULL, "parameter \"%ff\" is not valid UTF-8"},
	{"\xff=1", NULL, "parameter \"%FF\" is not valid UTF-8"},
};

/* The pairs of q as "n=v|n=v", or NONE. */
static char *flatten(const struct query *q)
{
	struct buf b = BUF_INIT(0);

	for (size_t i = 0; i < q->n; i++)
		buf_printf(&b, "%s%s=%s", i ? "|" : "", q->params[i].name, q->params[i].value);
	if (q->n == 0)
		buf_puts(&b, NONE);
	return buf_detach(&b, NULL);
}

static void parses_the_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct query_case *c = &cases[i];
		struct query q = {0};
		struct err err = {0};
		enum status st = query_parse(c->qs, &q, &err);

		if (c->pairs) {
			if (st != ST_OK)
				fail_msg("case %zu (%s): %s", i, c->qs, err.msg);
			char *got = flatten(&q);
			if (strcmp(got, c->pairs) != 0)
				fail_msg("case %zu (%s): got \"%s\"", i, c->qs, got);
			free(got);
		} else {
			if (st != ST_INVALID)
				fail_msg("case %zu (%s): accepted", i, c->qs);
			assert_string_equal(err.msg, c->msg);
			assert_null(q.params);
			assert_int_equal(q.n, 0);
		}
		query_release(&q);
	}
}

static char *repeat(const char *prefix, char c, size_t n)
{
	struct buf b = BUF_INIT(0);

	buf_puts(&b, prefix);
	for (size_t i = 0; i < n; i++)
		buf_putc(&b, c);
	return buf_detach(&b, NULL);
}

static void values_are_limited_to_2048_bytes(void **state)
{
	(void)state;
	struct query q = {0};
	struct err err = {0};
	char *ok = repeat("v=", 'x', QUERY_MAX_VALUE);
	char *big = repeat("v=", 'x', QUERY_MAX_VALUE + 1);
	struct buf enc = BUF_INIT(0); /* 2048 decoded bytes written as 6144 */

	assert_int_equal(query_parse(ok, &q, &err), ST_OK);
	assert_int_equal(strlen(query_get(&q, "v")), QUERY_MAX_VALUE);
	query_release(&q);
	assert_int_equal(query_parse(big, &q, &err), ST_INVALID);
	assert_string_equal(err.msg, "parameter \"v\" is longer than 2048 bytes");
	buf_puts(&enc, "v=");
	for (size_t i = 0; i < QUERY_MAX_VALUE; i++)
		buf_puts(&enc, "%41");
	assert_int_equal(query_parse(buf_cstr(&enc), &q, &err), ST_OK);
	query_release(&q);
	buf_puts(&enc, "%41");
	assert_int_equal(query_parse(buf_cstr(&enc), &q, &err), ST_INVALID);
	buf_release(&enc);
	free(ok);
	free(big);
}

static void names_are_limited_and_shortened_in_messages(void **state)
{
	(void)state;
	struct query q = {0};
	struct err err = {0};
	char *name = repeat("", 'n', QUERY_MAX_VALUE + 1);

	assert_int_equal(query_parse(name, &q, &err), ST_INVALID);
	/* the name is cut to 64 bytes in the message */
	char want[128];
	snprintf(want, sizeof want, "parameter \"%.64s...\" is longer than 2048 bytes", name);
	assert_string_equal(err.msg, want);
	free(name);
}

static void at_most_64_parameters(void **state)
{
	(void)state;
	struct query q = {0};
	struct err err = {0};
	struct buf b = BUF_INIT(0);

	for (int i = 0; i < QUERY_MAX_PARAMS; i++)
		buf_printf(&b, "%sp%d=%d", i ? "&" : "", i, i);
	assert_int_equal(query_parse(buf_cstr(&b), &q, &err), ST_OK);
	assert_int_equal(q.n, QUERY_MAX_PARAMS);
	assert_string_equal(query_get(&q, "p63"), "63");
	query_release(&q);
	buf_puts(&b, "&&"); /* empty pairs do not count */
	assert_int_equal(query_parse(buf_cstr(&b), &q, &err), ST_OK);
	query_release(&q);
	buf_puts(&b, "x");
	assert_int_equal(query_parse(buf_cstr(&b), &q, &err), ST_INVALID);
	assert_string_equal(err.msg, "more than 64 query parameters");
	assert_null(q.params);
	buf_release(&b);
}

static void get_and_count(void **state)
{
	(void)state;
	struct query q = {0};
	struct err err = {0};

	assert_int_equal(query_parse("service=a&x&service=b&Service=c", &q, &err), ST_OK);
	assert_string_equal(query_get(&q, "service"), "a");
	assert_string_equal(query_get(&q, "x"), "");
	assert_string_equal(query_get(&q, "Service"), "c"); /* names are case-sensitive */
	assert_null(query_get(&q, "missing"));
	assert_int_equal(query_count(&q, "service"), 2);
	assert_int_equal(query_count(&q, "x"), 1);
	assert_int_equal(query_count(&q, "missing"), 0);
	query_release(&q);
	query_release(&q); /* released twice: a zeroed query is a no-op */
	query_release(NULL);
}

/* The DORA tests' state: the built-in tiers table. */
static int tiers_setup(void **state)
{
	struct err err = {0};

	*state = tiers_parse(tiers_builtin, &err);
	return *state ? 0 : -1;
}

static int tiers_teardown(void **state)
{
	tiers_free(*state);
	return 0;
}

/* dora_params_parse() of `qs` with the DORA endpoint's parameter names; the request's error
 * is copied to *err. */
static enum status dora_parse(void **state, const char *qs, struct dora_params *p,
			      struct err *err)
{
	static const char *const allowed[] = {"from", "to", "service", "environment", "bucket",
					      "report", NULL};
	const struct app app = {.tiers = *state};
	struct request req = {.app = &app, .query = qs};
	enum status st = dora_params_parse(&req, allowed, p);

	*err = req.err;
	return st;
}

/* The default "from" (30 days before "to") cannot fall before 0001-01-01, the earliest time
 * the window strings and the SQL take (found by tests/fuzz/fuzz_query.c; input in
 * tests/fuzz/regressions/query/to-in-year-1). */
static void dora_window_stays_in_range(void **state)
{
	struct dora_params p;
	struct err err;

	assert_int_equal(dora_parse(state, "to=0001-01-01T00:00:00Z", &p, &err), ST_INVALID);
	assert_string_equal(err.msg, "parameter \"to\" is less than 30 days after 0001-01-01, so the "
				 "default \"from\" is out of range: give \"from\" too");
	dora_params_release(&p);
	assert_int_equal(dora_parse(state, "to=0001-01-31T00:00:00Z", &p, &err), ST_OK);
	assert_string_equal(p.from, "0001-01-01T00:00:00.000000Z");
	dora_params_release(&p);
	assert_int_equal(dora_parse(state, "from=0001-01-01T00:00:00Z&to=0001-01-02T00:00:00Z", &p,
				    &err),
			 ST_OK);
	assert_string_equal(p.from, "0001-01-01T00:00:00.000000Z");
	dora_params_release(&p);
}

/* report is a year written as four digits, nothing else (found by tests/fuzz/fuzz_query.c:
 * "02023" was taken as 2023, and 4294969319, cut to an int, too; inputs in
 * tests/fuzz/regressions/query/report-*). */
static void dora_report_year_is_exact(void **state)
{
	static const char *const refused[] = {"report=02023", "report=+2023", "report=%2B2023",
					      "report=2023+", "report=4294969319", "report=-2023",
					      "report=0x7e7", "report=2023.0"};
	struct dora_params p;
	struct err err;

	assert_int_equal(dora_parse(state, "report=2023", &p, &err), ST_OK);
	assert_int_equal(p.year, 2023);
	dora_params_release(&p);
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		if (dora_parse(state, refused[i], &p, &err) != ST_INVALID)
			fail_msg("%s: accepted as %d", refused[i], p.year);
		assert_non_null(strstr(err.msg, "parameter \"report\" names no DORA report year"));
		dora_params_release(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_the_table),
		cmocka_unit_test(values_are_limited_to_2048_bytes),
		cmocka_unit_test(names_are_limited_and_shortened_in_messages),
		cmocka_unit_test(at_most_64_parameters),
		cmocka_unit_test(get_and_count),
		cmocka_unit_test_setup_teardown(dora_window_stays_in_range, tiers_setup,
						tiers_teardown),
		cmocka_unit_test_setup_teardown(dora_report_year_is_exact, tiers_setup,
						tiers_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
