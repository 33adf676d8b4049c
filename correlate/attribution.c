/*
 * correlate/attribution.c: direct changes and commit ranges (rules in attribution.h).
 *
 *   deployments of S in E, in time order:   D1 ------ D2 ------ D3
 *   bound (direct change merged last):      c3        c7        (none)
 *   ships:                                  c3        c4..c7    direct only
 *
 * Invariant: the result depends only on the input order sql/ guarantees (pair, time,
 * source, id; candidates by rank then key), never on hashing or arrival order.
 */
#include "correlate/attribution.h"

#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

/* Index of the best-ranked candidate merged last, or -1. */
static long bound_of(const struct attribution_deployment *d)
{
	long best = -1;

	for (size_t i = 0; i < d->ncands; i++) {
		const struct attribution_candidate *c = &d->cands[i];
		if (!c->change || c->rank != d->cands[0].rank)
			break;
		if (c->has_merged && (best < 0 || c->merged_us > d->cands[best].merged_us))
			best = (long)i;
	}
	return best;
}

/* The arrays are sized once by attribution_compute: at most one direct entry per candidate
 * and one range per deployment. */
static void add_direct(struct attribution *out, size_t dep, size_t cand)
{
	out->direct[out->ndirect++] = (struct attribution_direct){dep, cand};
}

static void add_range(struct attribution *out, const struct attribution_deployment *deps,
		      size_t dep, size_t prev)
{
	long hi = bound_of(&deps[dep]), lo = bound_of(&deps[prev]);

	if (hi < 0 || lo < 0)
		return;
	const struct attribution_candidate *h = &deps[dep].cands[hi], *l = &deps[prev].cands[lo];
	if (!h->repo || !l->repo || strcmp(h->repo, l->repo) != 0 || h->merged_us <= l->merged_us)
		return;
	out->ranges[out->nranges++] =
		(struct attribution_range){dep, prev, (size_t)lo, (size_t)hi};
}

void attribution_compute(const struct attribution_deployment *deps, size_t n,
			 struct attribution *out)
{
	size_t ncands = 0;

	for (size_t i = 0; i < n; i++)
		ncands += deps[i].ncands;
	*out = (struct attribution){.direct = xcalloc(ncands + 1, sizeof *out->direct),
				    .ranges = xcalloc(n + 1, sizeof *out->ranges)};
	for (size_t i = 0; i < n; i++) {
		const struct attribution_deployment *d = &deps[i];
		for (size_t k = 0; k < d->ncands && d->cands[k].change &&
				   d->cands[k].rank == d->cands[0].rank; k++)
			add_direct(out, i, k);
		if (i > 0 && strcmp(deps[i - 1].pair, d->pair) == 0)
			add_range(out, deps, i, i - 1);
	}
}

void attribution_release(struct attribution *a)
{
	free(a->direct);
	free(a->ranges);
	*a = (struct attribution){0};
}
