/*
 * tests/correlate/test_attribution.c: the attribution rules of correlate/attribution.c.
 *
 * Table-driven: each case lists the deployments of one or more (service, environment) pairs in
 * time order with their ranked candidate changes, and the expected result as text:
 * direct changes "d<i>:<change>" and ranges "d<i>:(<lo>,<hi>]", in output order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "correlate/attribution.h"

#define H(x) ((int64_t)(x) * 3600 * 1000000) /* hours to microseconds */

/* Candidates: change, repo, rank, merged?, merged time. */
#define C(ch, rp, rk, m, t) {ch, rp, rk, m, H(t)}
#define NONE {NULL, NULL, 9, false, 0}

struct attr_case {
	const char *name;
	struct attribution_deployment deps[6];
	size_t n;
	const char *expect;
};

static const struct attribution_candidate c101[] = {C("101", "r", 3, true, 1)};
static const struct attribution_candidate c103[] = {C("103", "r", 3, true, 3)};
static const struct attribution_candidate c105[] = {C("105", "r", 3, true, 5)};
static const struct attribution_candidate none[] = {NONE};
static const struct attribution_candidate unmerged[] = {C("104", "r", 3, false, 0)};
static const struct attribution_candidate other_repo[] = {C("900", "q", 3, true, 4)};
/* links (rank 0) beat the artifact's change (rank 3): only 103 is direct */
static const struct attribution_candidate ranked[] = {C("103", "r", 0, true, 3),
						      C("102", "r", 3, true, 2)};
/* two chain candidates of equal rank: both direct, the later-merged one bounds the range */
static const struct attribution_candidate tie[] = {C("104", "r", 1, true, 4),
						   C("105", "r", 1, true, 5)};
/* an unknown change (no repository known) can be direct but bounds nothing */
static const struct attribution_candidate phantom[] = {C("777", NULL, 2, false, 0)};

#define DEP(pair, cands) {pair, cands, sizeof cands / sizeof *cands}

static const struct attr_case cases[] = {
	{"first deployment ships only its direct change", {DEP("p", c101)}, 1, "d0:101"},
	{"second deployment ships the range after the previous bound",
	 {DEP("p", c101), DEP("p", c105)}, 2, "d0:101 d1:105 d1:(101,105]"},
	{"rollback to an older change ships nothing new",
	 {DEP("p", c105), DEP("p", c101)}, 2, "d0:105 d1:101"},
	{"redeploy of the same change: empty range is not drawn",
	 {DEP("p", c103), DEP("p", c103)}, 2, "d0:103 d1:103"},
	{"previous deployment without a known change: no range",
	 {DEP("p", none), DEP("p", c105)}, 2, "d1:105"},
	{"deployment without a known change ships nothing",
	 {DEP("p", c101), DEP("p", none)}, 2, "d0:101"},
	{"unmerged bound: direct only, and the next range cannot start there",
	 {DEP("p", c101), DEP("p", unmerged), DEP("p", c105)}, 3, "d0:101 d1:104 d2:105"},
	{"bounds in different repositories: no range",
	 {DEP("p", c101), DEP("p", other_repo)}, 2, "d0:101 d1:900"},
	{"pairs do not bound each other",
	 {DEP("p", c101), DEP("q", c105), DEP("q", c105)}, 3, "d0:101 d1:105 d2:105"},
	{"best rank only is direct", {DEP("p", c101), DEP("p", ranked)}, 2,
	 "d0:101 d1:103 d1:(101,103]"},
	{"equal ranks are all direct, the latest merge bounds the range",
	 {DEP("p", c101), DEP("p", tie), DEP("p", c105)}, 3,
	 "d0:101 d1:104 d1:105 d1:(101,105] d2:105"},
	{"a change nobody has seen is direct but bounds nothing",
	 {DEP("p", c101), DEP("p", phantom), DEP("p", c105)}, 3, "d0:101 d1:777 d2:105"},
	{"three deployments chain their ranges",
	 {DEP("p", c101), DEP("p", c103), DEP("p", c105)}, 3,
	 "d0:101 d1:103 d1:(101,103] d2:105 d2:(103,105]"},
};

static void describe(const struct attr_case *c, const struct attribution *a, struct buf *out)
{
	size_t r = 0;

	/* direct changes and ranges interleaved by deployment, as the rules are read */
	for (size_t d = 0; d < c->n; d++) {
		for (size_t i = 0; i < a->ndirect; i++) {
			if (a->direct[i].deployment == d)
				buf_printf(out, "%sd%zu:%s", out->len ? " " : "", d,
					   c->deps[d].cands[a->direct[i].candidate].change);
		}
		for (; r < a->nranges && a->ranges[r].deployment == d; r++) {
			const struct attribution_range *g = &a->ranges[r];
			buf_printf(out, " d%zu:(%s,%s]", d,
				   c->deps[g->previous].cands[g->lo].change,
				   c->deps[g->deployment].cands[g->hi].change);
		}
	}
}

static void attribution_table(void **state)
{
	(void)state;
	int failures = 0;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct attribution a;
		struct buf got = BUF_INIT(0);
		attribution_compute(cases[i].deps, cases[i].n, &a);
		describe(&cases[i], &a, &got);
		if (strcmp(buf_cstr(&got), cases[i].expect) != 0) {
			print_error("case \"%s\": expected \"%s\", got \"%s\"\n", cases[i].name,
				    cases[i].expect, buf_cstr(&got));
			failures++;
		}
		buf_release(&got);
		attribution_release(&a);
	}
	assert_int_equal(failures, 0);
}

static void release_accepts_zeroed(void **state)
{
	(void)state;
	struct attribution a = {0};

	attribution_release(&a);
	attribution_compute(NULL, 0, &a);
	assert_int_equal(a.ndirect, 0);
	assert_int_equal(a.nranges, 0);
	attribution_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(attribution_table),
		cmocka_unit_test(release_accepts_zeroed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
