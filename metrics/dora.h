#ifndef METRICS_DORA_H
#define METRICS_DORA_H
/*
 * The DORA figures from rows (pure: no I/O, no globals; definitions in docs/METRICS.md).
 *
 * sql/metrics_store.c supplies one row per production deployment in the window (with its
 * failed / restored / rework facts) and one per change counted for lead time; this module
 * turns them into counts, rates and duration statistics, for the whole window and per bucket.
 * Statistics interpolate linearly between ranks, as PostgreSQL's percentile_cont does.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DORA_US_PER_DAY (86400LL * 1000000)

struct dora_deployment {
	int64_t at_us;
	bool failed, restored, rework;
	int64_t restored_us; /* meaningful when restored */
};

struct dora_change {
	int64_t deployed_us; /* first production deployment */
	int64_t first_us;    /* earliest created/updated/reviewed/merged */
};

/* count 0: every other member is meaningless (the API writes null). */
struct dora_stats {
	size_t count;
	double mean, p50, p75, p90;
};

struct dora_figures {
	size_t deployments, failed, rework, changes, recoveries, open;
	double per_day;                 /* deployments / days */
	struct dora_stats lead, recovery; /* seconds */
};

enum dora_bucket { DORA_BUCKET_NONE = 0, DORA_BUCKET_DAY, DORA_BUCKET_WEEK, DORA_BUCKET_MONTH };

/*
 * Figures of the rows whose time (deployment, or a change's first production deployment)
 * lies in [from_us, to_us). Rows may be in any order.
 * Threads: pure.
 */
void dora_figures_compute(const struct dora_deployment *deps, size_t ndeps,
			  const struct dora_change *changes, size_t nchanges, int64_t from_us,
			  int64_t to_us, struct dora_figures *out);

/* A change's lead time in seconds, from its first event to its production deployment; a
 * negative one (clock skew between producers, or a change event sent late with an earlier
 * time than it should have) counts as 0 (docs/METRICS.md). Threads: pure. */
double dora_lead_seconds(int64_t first_us, int64_t deployed_us);

/* Statistics of `v` (n values, reordered) into *out; n == 0 gives count 0. Threads: pure. */
void dora_stats_compute(double *v, size_t n, struct dora_stats *out);

/*
 * Bucket boundaries covering [from_us, to_us): calendar days, ISO weeks (Monday) or months in
 * UTC; the first bucket starts at from_us, the last ends at to_us.
 * Returns the number of buckets; (*starts)[i] is bucket i's start, (*starts)[n] == to_us.
 * Ownership: *starts is malloc'ed (free()). Bounded by the caller's window limit.
 * Threads: pure.
 */
size_t dora_buckets(int64_t from_us, int64_t to_us, enum dora_bucket b, int64_t **starts);

/* "day", "week", "month" -> enum; anything else -> DORA_BUCKET_NONE. */
enum dora_bucket dora_bucket_parse(const char *s);

#endif
