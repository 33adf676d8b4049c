#ifndef CORRELATE_ATTRIBUTION_H
#define CORRELATE_ATTRIBUTION_H
/*
 * Which changes a deployment shipped (pure: no I/O, no globals).
 *
 * Direct changes: every candidate change of the best (lowest) rank. Candidates come from
 * explicit links (rank 0), chainId (1) and the deployed artifact's built-from change (3);
 * sql/ supplies them ranked (cdlens_rule_rank).
 *
 * Commit range: a deployment D of service S in environment E also ships every change merged
 * into the same repository after the bound of the previous deployment of S in E and no
 * later than D's own bound, where a deployment's bound is its direct change merged last.
 * No range is drawn when either deployment has no merged direct change, when the two
 * bounds lie in different repositories, or when D's bound is not later than the previous
 * one (a rollback ships nothing new). The first deployment of S in E ships only its direct
 * changes: its history before cdlens is unknown, and attributing all of it would turn every
 * old change into a lead-time outlier.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct attribution_candidate {
	const char *change;   /* NULL: the deployment has no candidate at all */
	const char *repo;     /* repository of the change, NULL when the change is unknown */
	int rank;
	bool has_merged;
	int64_t merged_us;
};

/* One deployment; deployments of one (service, environment) share `pair` and are given in
 * time order, pairs contiguous. Candidates of a deployment are given best rank first. */
struct attribution_deployment {
	const char *pair;
	const struct attribution_candidate *cands;
	size_t ncands;
};

struct attribution_direct { size_t deployment, candidate; };
/* Changes merged in (previous's candidate lo, deployment's candidate hi] ship with deployment. */
struct attribution_range { size_t deployment, previous, lo, hi; };

struct attribution {
	struct attribution_direct *direct;
	size_t ndirect;
	struct attribution_range *ranges;
	size_t nranges;
};

/*
 * Compute direct changes and commit ranges for `n` deployments.
 * Ownership: *out owns its arrays (attribution_release); indexes refer to `deps`/cands.
 * Threads: pure.
 */
void attribution_compute(const struct attribution_deployment *deps, size_t n,
			 struct attribution *out);
void attribution_release(struct attribution *a); /* zeroed struct: no-op */

#endif
