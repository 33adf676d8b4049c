/*
 * metrics/dora.c: counts, rates and statistics of the DORA figures (rules in dora.h and
 * docs/METRICS.md).
 *
 * Percentiles: for n sorted values, p is at rank p * (n - 1) and interpolated linearly
 * between the two neighbours, exactly PostgreSQL's percentile_cont, so a figure can be
 * re-checked with SQL over the drill-down rows.
 * Recovery belongs to the failed deployment (its window and bucket), lead time to the
 * change's first production deployment.
 */
#include "metrics/dora.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/xalloc.h"

/*
 * Selection instead of sorting: after select_kth(v, lo, hi, k), v[k] holds the value a sort of
 * v[lo..hi] would put there, with no greater value before it and no smaller after it. The
 * API computes thousands of percentiles per request; a full qsort per bucket was most of
 * /api/v1/dora's time at a million events (docs/PERFORMANCE.md).
 */
static void swap(double *a, double *b)
{
	double t = *a;

	*a = *b;
	*b = t;
}

static void select_kth(double *v, ptrdiff_t lo, ptrdiff_t hi, ptrdiff_t k)
{
	while (lo < hi) {
		ptrdiff_t mid = lo + (hi - lo) / 2, i = lo, j = hi;
		/* median of three as the pivot: sorted runs stay linear */
		if (v[mid] < v[lo])
			swap(&v[mid], &v[lo]);
		if (v[hi] < v[lo])
			swap(&v[hi], &v[lo]);
		if (v[hi] < v[mid])
			swap(&v[hi], &v[mid]);
		double pivot = v[mid];
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j)
				swap(&v[i++], &v[j--]);
		}
		/* now v[lo..j] <= pivot <= v[i..hi], and v[j+1..i-1] == pivot */
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;
	}
}

/* Percentile p of v[0..n), given that v[0..from) already holds the `from` smallest values
 * (earlier, smaller percentiles); reorders v[from..n). *next: the new `from`. */
static double percentile(double *v, size_t n, double p, size_t from, size_t *next)
{
	double rank = p * (double)(n - 1);
	size_t lo = (size_t)rank;

	select_kth(v, (ptrdiff_t)from, (ptrdiff_t)n - 1, (ptrdiff_t)lo);
	*next = lo + 1;
	if (lo + 1 >= n)
		return v[lo];
	double up = v[lo + 1]; /* the next value in sorted order: the least of the rest */
	for (size_t i = lo + 2; i < n; i++)
		if (v[i] < up)
			up = v[i];
	return v[lo] + (rank - (double)lo) * (up - v[lo]);
}

double dora_lead_seconds(int64_t first_us, int64_t deployed_us)
{
	return deployed_us > first_us ? (double)(deployed_us - first_us) / 1e6 : 0;
}

void dora_stats_compute(double *v, size_t n, struct dora_stats *out)
{
	double sum = 0;
	size_t from = 0;

	*out = (struct dora_stats){.count = n};
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	out->mean = sum / (double)n;
	out->p50 = percentile(v, n, 0.50, from, &from);
	out->p75 = percentile(v, n, 0.75, from, &from);
	out->p90 = percentile(v, n, 0.90, from, &from);
}

static bool in(int64_t t, int64_t from_us, int64_t to_us)
{
	return t >= from_us && t < to_us;
}

void dora_figures_compute(const struct dora_deployment *deps, size_t ndeps,
			  const struct dora_change *changes, size_t nchanges, int64_t from_us,
			  int64_t to_us, struct dora_figures *out)
{
	size_t nrec = 0, nlead = 0;

	/* counted first so the arrays are as small as the window's sample (buckets are small) */
	for (size_t i = 0; i < ndeps; i++)
		nrec += deps[i].failed && deps[i].restored && in(deps[i].at_us, from_us, to_us);
	for (size_t i = 0; i < nchanges; i++)
		nlead += in(changes[i].deployed_us, from_us, to_us);
	double *rec = xmalloc((nrec + 1) * sizeof *rec), *lead = xmalloc((nlead + 1) * sizeof *lead);

	*out = (struct dora_figures){0};
	for (size_t i = 0; i < ndeps; i++) {
		const struct dora_deployment *d = &deps[i];
		if (!in(d->at_us, from_us, to_us))
			continue;
		out->deployments++;
		out->rework += d->rework;
		if (!d->failed)
			continue;
		out->failed++;
		if (d->restored)
			rec[out->recoveries++] = (double)(d->restored_us - d->at_us) / 1e6;
		else
			out->open++;
	}
	for (size_t i = 0; i < nchanges; i++) {
		if (in(changes[i].deployed_us, from_us, to_us))
			lead[out->changes++] =
				dora_lead_seconds(changes[i].first_us, changes[i].deployed_us);
	}
	out->per_day = (double)out->deployments * (double)DORA_US_PER_DAY / (double)(to_us - from_us);
	dora_stats_compute(lead, out->changes, &out->lead);
	dora_stats_compute(rec, out->recoveries, &out->recovery);
	free(rec);
	free(lead);
}

enum dora_bucket dora_bucket_parse(const char *s)
{
	if (!s)
		return DORA_BUCKET_NONE;
	if (!strcmp(s, "day"))
		return DORA_BUCKET_DAY;
	if (!strcmp(s, "week"))
		return DORA_BUCKET_WEEK;
	if (!strcmp(s, "month"))
		return DORA_BUCKET_MONTH;
	return DORA_BUCKET_NONE;
}

/* The first bucket boundary strictly after t. */
static int64_t next_boundary(int64_t t, enum dora_bucket b)
{
	time_t secs = (time_t)(t >= 0 ? t / 1000000 : (t - 999999) / 1000000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	if (b == DORA_BUCKET_DAY)
		tm.tm_mday += 1;
	else if (b == DORA_BUCKET_WEEK)
		tm.tm_mday += 7 - (tm.tm_wday + 6) % 7; /* to next Monday */
	else {
		tm.tm_mday = 1;
		tm.tm_mon += 1;
	}
	return (int64_t)timegm(&tm) * 1000000;
}

size_t dora_buckets(int64_t from_us, int64_t to_us, enum dora_bucket b, int64_t **starts)
{
	size_t n = 0, cap = 16;

	*starts = xmalloc(cap * sizeof **starts);
	for (int64_t t = from_us; t < to_us; t = b ? next_boundary(t, b) : to_us) {
		if (n + 2 > cap)
			*starts = xrealloc(*starts, (cap *= 2) * sizeof **starts);
		(*starts)[n++] = t;
	}
	(*starts)[n] = to_us;
	return n;
}
