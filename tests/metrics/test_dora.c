/*
 * tests/metrics/test_dora.c: metrics/dora.c without a database.
 *
 * Statistics are checked against a reference written the obvious way (sort, then
 * percentile_cont's linear interpolation) on random samples with many ties, and on the edge
 * sizes 1 and 2; figures and buckets on a hand-computed sample. The HTTP tests
 * (tests/web/test_dora_http.c) check the same definitions end to end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics/dora.h"

/* cmocka 1.1 (Debian 12) has no assert_double_equal */
#define assert_near(a, b) near((a), (b), #a, __LINE__)
static void near(double got, double want, const char *what, int line)
{
	if (!(got - want < 1e-9 && want - got < 1e-9))
		fail_msg("line %d: %s = %.12g, expected %.12g", line, what, got, want);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* percentile_cont(p) of v, by sorting a copy */
static double reference(const double *v, size_t n, double p)
{
	double *s = malloc(n * sizeof *s);

	memcpy(s, v, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp);
	double rank = p * (double)(n - 1), r;
	size_t lo = (size_t)rank;
	r = lo + 1 >= n ? s[n - 1] : s[lo] + (rank - (double)lo) * (s[lo + 1] - s[lo]);
	free(s);
	return r;
}

static void stats_match_sorting(void **state)
{
	(void)state;
	unsigned seed = 12345;
	static const size_t sizes[] = {1, 2, 3, 4, 5, 10, 11, 99, 100, 1000, 4097};

	for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
		for (int round = 0; round < 20; round++) {
			size_t n = sizes[s];
			double *v = malloc(n * sizeof *v), *copy = malloc(n * sizeof *v), sum = 0;
			for (size_t i = 0; i < n; i++) {
				/* round 0: sorted, 1: reversed, 2: all equal, else random with ties */
				v[i] = round == 0 ? (double)i : round == 1 ? (double)(n - i)
					: round == 2 ? 7.0 : (double)(rand_r(&seed) % (round * 3 + 1));
				sum += v[i];
			}
			memcpy(copy, v, n * sizeof *v);
			struct dora_stats st;
			dora_stats_compute(v, n, &st);
			assert_int_equal(st.count, n);
			assert_near(st.mean, sum / (double)n);
			assert_near(st.p50, reference(copy, n, 0.50));
			assert_near(st.p75, reference(copy, n, 0.75));
			assert_near(st.p90, reference(copy, n, 0.90));
			qsort(v, n, sizeof *v, cmp); /* only reordered: the same multiset */
			qsort(copy, n, sizeof *v, cmp);
			assert_memory_equal(v, copy, n * sizeof *v);
			free(v);
			free(copy);
		}
	}
}

static void stats_of_nothing(void **state)
{
	(void)state;
	struct dora_stats st;

	dora_stats_compute(NULL, 0, &st);
	assert_int_equal(st.count, 0);
}

#define H (3600LL * 1000000) /* one hour in microseconds */

static void figures_by_hand(void **state)
{
	(void)state;
	/* a day from 0: deployments at 1h (failed, restored 30 min later), 2h (rework), 3h
	 * (failed, open) and 30h (outside); changes deployed at 1h (lead 2h), 3h (lead 1h) and
	 * 30h (outside) */
	const struct dora_deployment deps[] = {
		{1 * H, true, true, false, 1 * H + H / 2}, {2 * H, false, false, true, 0},
		{3 * H, true, false, false, 0}, {30 * H, true, true, true, 31 * H}};
	const struct dora_change changes[] = {{1 * H, -1 * H}, {3 * H, 2 * H}, {30 * H, 0}};
	struct dora_figures f;

	dora_figures_compute(deps, 4, changes, 3, 0, 24 * H, &f);
	assert_int_equal(f.deployments, 3);
	assert_near(f.per_day, 3.0);
	assert_int_equal(f.failed, 2);
	assert_int_equal(f.rework, 1);
	assert_int_equal(f.recoveries, 1);
	assert_int_equal(f.open, 1);
	assert_near(f.recovery.p50, 1800);
	assert_int_equal(f.changes, 2);
	assert_near(f.lead.mean, 5400);
	assert_near(f.lead.p50, 5400);
	assert_near(f.lead.p90, 6840); /* 3600 + 0.9 * 3600 */

	dora_figures_compute(deps, 4, changes, 3, 48 * H, 72 * H, &f); /* an empty window */
	assert_int_equal(f.deployments, 0);
	assert_int_equal(f.lead.count, 0);
	assert_int_equal(f.recovery.count, 0);
}

static void weeks_start_on_monday(void **state)
{
	(void)state;
	int64_t *starts = NULL;
	/* 2026-03-04 (a Wednesday) to 2026-03-20: Wed, Mon 9th, Mon 16th */
	const int64_t from = 1772582400LL * 1000000, to = 1773964800LL * 1000000;
	size_t n = dora_buckets(from, to, DORA_BUCKET_WEEK, &starts);

	assert_int_equal(n, 3);
	assert_true(starts[0] == from);
	assert_true(starts[1] == 1773014400LL * 1000000); /* 2026-03-09T00:00:00Z */
	assert_true(starts[2] == 1773619200LL * 1000000); /* 2026-03-16T00:00:00Z */
	assert_true(starts[3] == to);
	free(starts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stats_match_sorting),
		cmocka_unit_test(stats_of_nothing),
		cmocka_unit_test(figures_by_hand),
		cmocka_unit_test(weeks_start_on_monday),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
