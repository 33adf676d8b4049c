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

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/xalloc.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double percentile(const double *sorted, size_t n, double p)
{
	double rank = p * (double)(n - 1);
	size_t lo = (size_t)rank;

	if (lo + 1 >= n)
		return sorted[n - 1];
	return sorted[lo] + (rank - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

void dora_stats_compute(double *v, size_t n, struct dora_stats *out)
{
	double sum = 0;

	*out = (struct dora_stats){.count = n};
	if (n == 0)
		return;
	qsort(v, n, sizeof *v, cmp_double);
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	out->mean = sum / (double)n;
	out->p50 = percentile(v, n, 0.50);
	out->p75 = percentile(v, n, 0.75);
	out->p90 = percentile(v, n, 0.90);
}

static bool in(int64_t t, int64_t from_us, int64_t to_us)
{
	return t >= from_us && t < to_us;
}

void dora_figures_compute(const struct dora_deployment *deps, size_t ndeps,
			  const struct dora_change *changes, size_t nchanges, int64_t from_us,
			  int64_t to_us, struct dora_figures *out)
{
	double *rec = xcalloc(ndeps + 1, sizeof *rec), *lead = xcalloc(nchanges + 1, sizeof *lead);

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
				(double)(changes[i].deployed_us - changes[i].first_us) / 1e6;
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
