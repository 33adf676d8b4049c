/*
 * ingest/demo.c: `cdlens demo`, a made-up organisation's CDEvents history (see demo.h).
 *
 * The flow of one merged change of service S (repository R), as emitted by change_flow():
 *
 *   change.created -> change.reviewed -> change.merged ─┐ (chainId from here on)
 *   pipelinerun.queued -> started -> taskrun "build" -> build.started/finished (purl, CI
 *   spelling) -> artifact.packaged (registry spelling, names the change) -> taskrun "test"
 *   -> pipelinerun.finished ── success ──► service.deployed/upgraded dev -> staging
 *
 * and of the production releases of S, every 3 to 14 hours (release(), no chainId):
 *
 *   newest artifact staged for 30 min ──► eu/prod ──(5-45 min)──► us/prod  (CD spelling)
 *        └─ incident_rate: incident.detected (env only | service | service + artifact)
 *              └─ 50% with a service and a previous artifact: service.rolledback
 *           incident.resolved
 *
 * Changes arrive per repository (a Poisson process conditioned on its count; repositories
 * differ in size, and a repository's first services change more often), so one production
 * deployment of S ships, by commit range, the changes of the other services of R merged since
 * the previous one: the attribution rule across services that needs exercising.
 *
 * Why records, not JSON: the history is generated as 32-byte records, sorted by time, and
 * spelled out as JSON one request at a time, so 5 million events fit in memory. Every id,
 * digest and choice comes from the seed (repo_flow() reseeds per repository; ids hash the
 * seed and a number), so a seed always gives the same bytes. The events-per-change ratio
 * depends on the release cadence, so demo_generate() measures it and regenerates (at most
 * DEMO_PASSES times) until the count is within 2% of the request and not below it, then drops
 * the latest events beyond the request: the history holds exactly the requested number (its
 * last moments may end mid-chain, as any live history does).
 *
 * Shell: demo_run() submits `batch`-sized application/cloudevents-batch+json requests (or
 * bare events) through envelope_parse() and committer_submit(), exactly what
 * POST /api/v1/events does after authentication, from one thread per committer.
 * When you add an event type: add the kind to demo.h (keep the producer groups together),
 * its row to `types`, its subject id and content below, and the conformance check in
 * tests/ingest/test_demo.c picks it up.
 */
#include "ingest/demo.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "ingest/committer.h"
#include "ingest/envelope.h"
#include "sql/db.h"
#include "sql/migrate.h"

#define SEC_US INT64_C(1000000)
#define MIN_US (60 * SEC_US)
#define HOUR_US (60 * MIN_US)
#define DAY_US (24 * HOUR_US)
#define DEMO_WARMUP_US (32 * HOUR_US) /* first merge: its change.created is after the start */
#define DEMO_RING 16                  /* staged artifacts remembered per service */
#define DEMO_PASSES 5        /* passes to get within 2% above the request */
#define DEMO_SHORT_PASSES 30 /* passes to get at least the request */
#define DEMO_MAX_THREADS 16
#define DEMO_MAX_US INT64_C(253402300799000000) /* 9999-12-31T23:59:59Z */

/* Type versions from tests/data/cdevents-spec/{0.5.1,0.4.1}/conformance/<s>_<p>.json. */
static const struct demo_type types[DEMO_KIND_COUNT] = {
    [DEMO_ENVIRONMENT_CREATED] = {"environment", "created", "environment", "0.3.0", "0.2.0"},
    [DEMO_CHANGE_CREATED] = {"change", "created", "change", "0.4.0", "0.3.0"},
    [DEMO_CHANGE_REVIEWED] = {"change", "reviewed", "change", "0.3.0", "0.2.0"},
    [DEMO_CHANGE_MERGED] = {"change", "merged", "change", "0.3.0", "0.2.0"},
    [DEMO_PIPELINE_QUEUED] = {"pipelinerun", "queued", "pipelineRun", "0.3.0", "0.2.0"},
    [DEMO_PIPELINE_STARTED] = {"pipelinerun", "started", "pipelineRun", "0.3.0", "0.2.0"},
    [DEMO_PIPELINE_FINISHED] = {"pipelinerun", "finished", "pipelineRun", "0.3.0", "0.2.0"},
    [DEMO_TASK_STARTED] = {"taskrun", "started", "taskRun", "0.3.0", "0.2.0"},
    [DEMO_TASK_FINISHED] = {"taskrun", "finished", "taskRun", "0.3.0", "0.2.0"},
    [DEMO_BUILD_STARTED] = {"build", "started", "build", "0.3.0", "0.2.0"},
    [DEMO_BUILD_FINISHED] = {"build", "finished", "build", "0.3.0", "0.2.0"},
    [DEMO_ARTIFACT_PACKAGED] = {"artifact", "packaged", "artifact", "0.3.0", "0.2.0"},
    [DEMO_SERVICE_DEPLOYED] = {"service", "deployed", "service", "0.3.0", "0.2.0"},
    [DEMO_SERVICE_UPGRADED] = {"service", "upgraded", "service", "0.3.0", "0.2.0"},
    [DEMO_SERVICE_ROLLEDBACK] = {"service", "rolledback", "service", "0.3.0", "0.2.0"},
    [DEMO_INCIDENT_DETECTED] = {"incident", "detected", "incident", "0.3.0", "0.2.0"},
    [DEMO_INCIDENT_RESOLVED] = {"incident", "resolved", "incident", "0.3.0", "0.2.0"},
};

/* The organisation: repository i holds services 3i..3i+2 with the defaults. */
static const char *const repo_names[] = {"storefront", "payments",  "catalog", "identity",
                                         "fulfilment", "messaging", "search",  "platform"};
static const char *const service_names[] = {
    "web-shop",        "checkout-api", "cart",           "payments-api", "ledger",
    "fraud-scoring",   "catalog-api",  "pricing",        "inventory",    "auth",
    "accounts",        "sessions",     "orders",         "shipping",     "returns",
    "email-sender",    "push-gateway", "sms-relay",      "search-api",   "indexer",
    "recommendations", "api-gateway",  "config-service", "audit-log"};
#define NREPO_NAMES (sizeof repo_names / sizeof *repo_names)
#define NSERVICE_NAMES (sizeof service_names / sizeof *service_names)

static const struct {
	const char *id, *name, *cd_source;
} envs[DEMO_ENV_COUNT] = {
    [DEMO_ENV_DEV] = {"dev", "Development", "/argocd/nonprod"},
    [DEMO_ENV_STAGING] = {"staging", "Staging", "/argocd/nonprod"},
    [DEMO_ENV_PROD_EU] = {"eu/prod", "Production EU", "/argocd/eu"},
    [DEMO_ENV_PROD_US] = {"us/prod", "Production US", "/argocd/us"},
};

static const char *const change_titles[] = {
    "Fix retry storm in %s",        "Add request metrics to %s", "Bump the base image of %s",
    "Tidy the configuration of %s", "Speed up start-up of %s",   "Handle timeouts in %s"};
static const char *const service_alerts[] = {"%s error rate above SLO", "%s p99 latency above 2 s",
                                             "%s pods crash-looping", "%s returns stale data"};
static const char *const env_alerts[] = {"%s: elevated 5xx at the edge load balancer",
                                         "%s: database failover", "%s: DNS resolution failures"};

enum hash_tag { TAG_EVENT = 1, TAG_CHAIN, TAG_OLD, TAG_REPO, TAG_SIZE, TAG_DIGEST, TAG_TEXT };

/* ---- deterministic randomness: an LCG whose output is scrambled by mix64() ---- */

struct rng {
	uint64_t s;
};

static uint64_t mix64(uint64_t z)
{
	z ^= z >> 31;
	z *= UINT64_C(0xbf58476d1ce4e5b9);
	z ^= z >> 29;
	z *= UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 32);
}

static uint64_t hash3(uint64_t a, uint64_t b, uint64_t c)
{
	return mix64(mix64(mix64(a + UINT64_C(0x9e3779b97f4a7c15)) ^ b) ^ c);
}

static uint64_t rng_next(struct rng *r)
{
	r->s = r->s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
	return mix64(r->s);
}

/* [0, 1) */
static double unit_of(uint64_t x)
{
	return (double)(x >> 11) * 0x1p-53;
}

static double rng_between(struct rng *r, double lo, double hi)
{
	return lo + (hi - lo) * unit_of(rng_next(r));
}

static int64_t mins(double m)
{
	return (int64_t)(m * (double)MIN_US);
}

static int64_t secs(double s)
{
	return (int64_t)(s * (double)SEC_US);
}

const struct demo_type *demo_type_of(enum demo_kind kind)
{
	return &types[kind];
}

static unsigned repo_of(const struct demo_options *opt, unsigned service)
{
	return (unsigned)((unsigned long)service * (unsigned)opt->repositories /
	                  (unsigned)opt->services);
}

/* The CD tool and the alert manager stamp whole seconds; CI and SCM microseconds. */
static bool whole_seconds(enum demo_kind kind)
{
	return kind == DEMO_ENVIRONMENT_CREATED || kind >= DEMO_SERVICE_DEPLOYED;
}

void demo_options_init(struct demo_options *opt)
{
	*opt = (struct demo_options){
	    .events = DEMO_DEFAULT_EVENTS,
	    .seed = 1,
	    .now_us = clock_now_us(),
	    .days = DEMO_DEFAULT_DAYS,
	    .services = DEMO_DEFAULT_SERVICES,
	    .repositories = DEMO_DEFAULT_REPOSITORIES,
	    .batch = DEMO_DEFAULT_BATCH,
	    .old_share = 0.2,
	    .incident_rate = 0.08,
	};
}

/* ---- the generator ---- */

struct staged {
	int64_t at; /* ready for production from here */
	uint32_t run;
};

struct svc_state {
	uint32_t runs, nstaged;
	struct staged staged[DEMO_RING];
	uint32_t in_env[DEMO_ENV_COUNT]; /* artifact (run) running there; 0: none yet */
	uint32_t bad;                    /* newest artifact rolled back: never released again */
	int64_t next_release;
};

struct gen {
	const struct demo_options *opt;
	int64_t start, end;
	struct rng rng;
	struct svc_state *svc;
	struct demo_events *out;
	uint32_t seq, incidents;
};

/* Record ev unless it falls outside the window (work still in flight at the end). */
static void emit(struct gen *g, struct demo_event ev)
{
	struct demo_events *out = g->out;

	if (whole_seconds(ev.kind))
		ev.ts_us -= ev.ts_us % SEC_US;
	if (ev.ts_us < g->start || ev.ts_us > g->end)
		return;
	ev.seq = ++g->seq;
	if (unit_of(hash3(g->opt->seed, TAG_OLD, ev.seq)) < g->opt->old_share)
		ev.flags |= DEMO_OLD_FORM;
	if (out->n == out->cap) {
		out->cap = out->cap ? out->cap * 2 : 4096;
		out->v = xrealloc(out->v, out->cap * sizeof *out->v);
	}
	out->v[out->n++] = ev;
}

static void emit_at(struct gen *g, struct demo_event ev, int64_t at, enum demo_kind kind,
                    unsigned flags)
{
	ev.ts_us = at;
	ev.kind = (uint8_t)kind;
	ev.flags = (uint8_t)(ev.flags | flags);
	emit(g, ev);
}

static void deploy(struct gen *g, unsigned s, enum demo_env env, int64_t at, uint32_t run,
                   uint32_t change, unsigned flags)
{
	struct svc_state *v = &g->svc[s];
	const struct demo_event ev = {.service = (uint16_t)s,
	                              .env = (uint8_t)env,
	                              .run = run,
	                              .change = change,
	                              .flags = (uint8_t)flags};

	emit_at(g, ev, at, v->in_env[env] ? DEMO_SERVICE_UPGRADED : DEMO_SERVICE_DEPLOYED, 0);
	v->in_env[env] = run;
}

static void task(struct gen *g, struct demo_event ev, int64_t from, int64_t to, unsigned which,
                 bool ok)
{
	emit_at(g, ev, from, DEMO_TASK_STARTED, which);
	emit_at(g, ev, to, DEMO_TASK_FINISHED, which | (ok ? 0 : DEMO_FAILED));
}

/* The pipeline run of one change; returns its end when it passed, else 0. */
static int64_t ci_flow(struct gen *g, unsigned s, int64_t merged, uint32_t change, uint32_t run)
{
	struct rng *r = &g->rng;
	const struct demo_event ev = {
	    .service = (uint16_t)s, .change = change, .run = run, .flags = DEMO_CHAINED};
	const int64_t queued = merged + secs(rng_between(r, 5, 60));
	const int64_t started = queued + secs(rng_between(r, 5, 300));
	int64_t end = started + secs(rng_between(r, 60, 600));
	const bool built = unit_of(rng_next(r)) >= 0.02;
	bool passed = built;

	emit_at(g, ev, queued, DEMO_PIPELINE_QUEUED, 0);
	emit_at(g, ev, started, DEMO_PIPELINE_STARTED, 0);
	task(g, ev, started, end, 0, built);
	emit_at(g, ev, started + SEC_US, DEMO_BUILD_STARTED, 0);
	emit_at(g, ev, end, DEMO_BUILD_FINISHED, built ? 0 : DEMO_FAILED);
	if (built) {
		emit_at(g, ev, end + secs(rng_between(r, 5, 20)), DEMO_ARTIFACT_PACKAGED, 0);
		const int64_t tested = end + secs(rng_between(r, 30, 900));
		passed = unit_of(rng_next(r)) >= 0.04;
		task(g, ev, end + SEC_US, tested, DEMO_TEST_TASK, passed);
		end = tested;
	}
	end += secs(rng_between(r, 5, 60));
	emit_at(g, ev, end, DEMO_PIPELINE_FINISHED,
	        passed ? 0 : DEMO_FAILED | (built ? DEMO_TEST_TASK : 0));
	return passed ? end : 0;
}

/* One change of service s merged at t: review, CI, and when it passes, dev and staging. */
static void change_flow(struct gen *g, unsigned s, int64_t t, uint32_t change)
{
	struct rng *r = &g->rng;
	struct svc_state *v = &g->svc[s];
	const struct demo_event ev = {.service = (uint16_t)s, .change = change};
	const int64_t created = t - mins(rng_between(r, 30, 1800));
	int64_t span = (t - created) / 2;

	span = span < mins(120) ? span : mins(120);
	const int64_t reviewed = t - MIN_US - (int64_t)(unit_of(rng_next(r)) * (double)span);
	emit_at(g, ev, created, DEMO_CHANGE_CREATED, 0);
	emit_at(g, ev, reviewed, DEMO_CHANGE_REVIEWED, 0);
	emit_at(g, ev, t, DEMO_CHANGE_MERGED, DEMO_CHAINED);
	g->out->changes++;
	const uint32_t run = ++v->runs;
	const int64_t passed = ci_flow(g, s, t, change, run);
	if (!passed)
		return;
	const int64_t dev = passed + mins(rng_between(r, 1, 5));
	const int64_t staging = dev + mins(rng_between(r, 10, 40));
	deploy(g, s, DEMO_ENV_DEV, dev, run, change, DEMO_CHAINED);
	deploy(g, s, DEMO_ENV_STAGING, staging, run, change, DEMO_CHAINED);
	v->staged[v->nstaged++ % DEMO_RING] = (struct staged){staging + mins(30), run};
}

static void incident(struct gen *g, unsigned s, enum demo_env env, int64_t deployed, uint32_t prev,
                     uint32_t run)
{
	struct rng *r = &g->rng;
	struct svc_state *v = &g->svc[s];
	const double scope = unit_of(rng_next(r));
	struct demo_event ev = {.service = (uint16_t)s,
	                        .env = (uint8_t)env,
	                        .run = run,
	                        .incident = ++g->incidents,
	                        .flags = scope < 0.25   ? DEMO_NO_SERVICE
	                                 : scope < 0.55 ? DEMO_NAMES_ARTIFACT
	                                                : 0};
	const int64_t detected = deployed + mins(rng_between(r, 2, 90));
	int64_t resolved = detected + mins(rng_between(r, 10, 600));

	emit_at(g, ev, detected, DEMO_INCIDENT_DETECTED, 0);
	if (prev && !(ev.flags & DEMO_NO_SERVICE) && unit_of(rng_next(r)) < 0.5) {
		const int64_t back = detected + mins(rng_between(r, 2, 30));
		const struct demo_event rb = {
		    .service = (uint16_t)s, .env = (uint8_t)env, .run = prev};
		emit_at(g, rb, back, DEMO_SERVICE_ROLLEDBACK, 0);
		v->in_env[env] = prev;
		v->bad = run;
		resolved = back + mins(rng_between(r, 1, 20));
	}
	ev.flags &= DEMO_NO_SERVICE; /* a resolution names no artifact */
	emit_at(g, ev, resolved, DEMO_INCIDENT_RESOLVED, 0);
}

static uint32_t newest_staged(const struct svc_state *v, int64_t at)
{
	const uint32_t n = v->nstaged < DEMO_RING ? v->nstaged : DEMO_RING;
	uint32_t best = 0;

	for (uint32_t i = 0; i < n; i++)
		if (v->staged[i].at <= at && v->staged[i].run > best)
			best = v->staged[i].run;
	return best > v->bad ? best : 0;
}

/* A production release of service s at `at`, when there is something new to ship. */
static void release(struct gen *g, unsigned s, int64_t at)
{
	struct svc_state *v = &g->svc[s];
	const uint32_t run = newest_staged(v, at);
	const uint32_t eu = v->in_env[DEMO_ENV_PROD_EU], us = v->in_env[DEMO_ENV_PROD_US];

	v->next_release = at + mins(rng_between(&g->rng, 180, 840));
	if (!run || (run == eu && run == us))
		return;
	const int64_t us_at = at + mins(rng_between(&g->rng, 5, 45));
	deploy(g, s, DEMO_ENV_PROD_EU, at, run, 0, 0);
	deploy(g, s, DEMO_ENV_PROD_US, us_at, run, 0, 0);
	if (unit_of(rng_next(&g->rng)) >= g->opt->incident_rate)
		return;
	if (unit_of(rng_next(&g->rng)) < 0.5)
		incident(g, s, DEMO_ENV_PROD_US, us_at, us, run);
	else
		incident(g, s, DEMO_ENV_PROD_EU, at, eu, run);
}

static void releases_until(struct gen *g, const unsigned *members, unsigned n, int64_t t)
{
	for (unsigned i = 0; i < n; i++)
		while (g->svc[members[i]].next_release < t)
			release(g, members[i], g->svc[members[i]].next_release);
}

/* n merge times in [from, to): the order statistics of uniform times, from normalised
 * exponential spacings (a Poisson process conditioned on its count). Caller frees. */
static int64_t *merge_times(struct rng *r, size_t n, int64_t from, int64_t to)
{
	int64_t *times = xmalloc((n + 1) * sizeof *times);
	double *cum = xmalloc((n + 1) * sizeof *cum), sum = 0;

	for (size_t i = 0; i <= n; i++)
		cum[i] = sum += -log(1 - unit_of(rng_next(r)));
	for (size_t i = 0; i < n; i++)
		times[i] = from + (int64_t)((double)(to - from) * (cum[i] / sum));
	free(cum);
	return times;
}

/* Every change merged into repository `repo`, and its services' releases, in time order. */
static void repo_flow(struct gen *g, unsigned repo, size_t nchanges)
{
	unsigned members[DEMO_MAX_SERVICES], n = 0;
	struct rng *r = &g->rng;
	const int64_t first = g->start + DEMO_WARMUP_US;

	for (unsigned s = 0; s < (unsigned)g->opt->services; s++)
		if (repo_of(g->opt, s) == repo)
			members[n++] = s;
	r->s = hash3(g->opt->seed, TAG_REPO, repo);
	uint32_t change = 100 + (uint32_t)(rng_next(r) % 900);
	for (unsigned i = 0; i < n; i++) {
		g->svc[members[i]].runs = 1000 + (uint32_t)(rng_next(r) % 9000);
		g->svc[members[i]].next_release = first + mins(rng_between(r, 60, 720));
	}
	int64_t *times = merge_times(r, nchanges, first, g->end);
	for (size_t i = 0; i < nchanges; i++) {
		const double pick = unit_of(rng_next(r)); /* squared: earlier services busier */
		releases_until(g, members, n, times[i]);
		change_flow(g, members[(unsigned)(pick * pick * n)], times[i], change);
		change += 1 + (rng_next(r) % 4 == 0); /* some numbers went to abandoned changes */
	}
	free(times);
	releases_until(g, members, n, g->end);
}

/* `total` changes shared among the repositories by size (0.5 to 1.5), rounding the running
 * sum so the shares add up to round(total). */
static size_t repo_share(const struct demo_options *opt, double total, unsigned repo)
{
	double all = 0, before = 0;

	for (unsigned i = 0; i < (unsigned)opt->repositories; i++) {
		const double w = 0.5 + unit_of(hash3(opt->seed, TAG_SIZE, i));
		before += i < repo ? w : 0;
		all += w;
	}
	const double from = total * before / all;
	const double w = 0.5 + unit_of(hash3(opt->seed, TAG_SIZE, repo));
	return (size_t)llround(from + total * w / all) - (size_t)llround(from);
}

static void generate_pass(const struct demo_options *opt, double changes, struct demo_events *out)
{
	struct gen g = {.opt = opt, .start = out->start_us, .end = out->end_us, .out = out};

	g.svc = xcalloc((size_t)opt->services, sizeof *g.svc);
	out->n = 0;
	out->changes = 0;
	for (unsigned e = 0; e < DEMO_ENV_COUNT; e++)
		emit(&g, (struct demo_event){.ts_us = out->start_us + e * MIN_US,
		                             .kind = DEMO_ENVIRONMENT_CREATED,
		                             .env = (uint8_t)e});
	for (unsigned repo = 0; repo < (unsigned)opt->repositories; repo++)
		repo_flow(&g, repo, repo_share(opt, changes, repo));
	free(g.svc);
}

static int by_time(const void *a, const void *b)
{
	const struct demo_event *x = a, *y = b;

	if (x->ts_us != y->ts_us)
		return x->ts_us < y->ts_us ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static enum status check_options(const struct demo_options *opt, struct err *err)
{
	const char *bad = NULL;

	if (opt->events < DEMO_MIN_EVENTS || opt->events > DEMO_MAX_EVENTS)
		bad = "events";
	else if (opt->days < 3 || opt->days > 3650)
		bad = "days";
	else if (opt->services < 1 || opt->services > DEMO_MAX_SERVICES)
		bad = "services";
	else if (opt->repositories < 1 || opt->repositories > opt->services)
		bad = "repositories";
	else if (!(opt->old_share >= 0 && opt->old_share <= 1))
		bad = "old_share";
	else if (!(opt->incident_rate >= 0 && opt->incident_rate <= 1))
		bad = "incident_rate";
	else if (opt->start_us < 0 || opt->start_us > DEMO_MAX_US - opt->days * DAY_US ||
	         (!opt->start_us && opt->now_us < opt->days * DAY_US + HOUR_US))
		bad = "start";
	if (!bad)
		return ST_OK;
	err_set(err, ST_INVALID, "demo option %s is out of range", bad);
	err_detail(err,
	           "events %d-%d, days 3-3650, services 1-%d, repositories 1-services, "
	           "start within years 1970-9999",
	           DEMO_MIN_EVENTS, DEMO_MAX_EVENTS, DEMO_MAX_SERVICES);
	return ST_INVALID;
}

enum status demo_generate(const struct demo_options *opt, struct demo_events *out, struct err *err)
{
	enum status st = check_options(opt, err);
	double per_change = 16.5; /* events per merged change; measured after each pass */

	if (st != ST_OK)
		return st;
	out->end_us = opt->start_us ? opt->start_us + opt->days * DAY_US
	                            : opt->now_us - opt->now_us % HOUR_US;
	out->start_us = out->end_us - opt->days * DAY_US;
	/* aim 0.5% high so that the count lands at or above the request */
	double target = (double)(opt->events - DEMO_ENV_COUNT) * 1.005;
	for (int pass = 0;; pass++) {
		generate_pass(opt, target / per_change, out);
		double ratio = (double)out->n / (double)opt->events;
		if (ratio >= 1 && (ratio < 1.02 || pass >= DEMO_PASSES))
			break;
		if (out->changes == 0 || pass >= DEMO_SHORT_PASSES) {
			/* cannot reach the request: refuse rather than pretend */
			demo_events_release(out);
			return err_set(err, ST_INVALID,
				       "demo: cannot generate %ld events with these options", opt->events);
		}
		per_change = (double)(out->n - DEMO_ENV_COUNT) / (double)out->changes;
		if (ratio < 1) /* small histories: changes come in whole numbers per repository */
			target *= 1 + (1 - ratio > 0.01 ? 1 - ratio : 0.01);
	}
	qsort(out->v, out->n, sizeof *out->v, by_time);
	if (out->n > (size_t)opt->events)
		out->n = (size_t)opt->events;
	return ST_OK;
}

void demo_events_release(struct demo_events *evs)
{
	free(evs->v);
	memset(evs, 0, sizeof *evs);
}

/* ---- spelling an event out ---- */

struct names {
	char service[48], repo[48];
};

struct head {
	char id[40], type[96], ts[32], source[128];
};

enum spelling { SPELL_CI, SPELL_REGISTRY, SPELL_CD };

static void names_of(const struct demo_options *opt, unsigned s, struct names *out)
{
	const unsigned r = repo_of(opt, s);

	if (s < NSERVICE_NAMES)
		snprintf(out->service, sizeof out->service, "%s", service_names[s]);
	else
		snprintf(out->service, sizeof out->service, "%s-%u",
		         service_names[s % NSERVICE_NAMES], (unsigned)(s / NSERVICE_NAMES + 1));
	if (r < NREPO_NAMES)
		snprintf(out->repo, sizeof out->repo, "%s", repo_names[r]);
	else
		snprintf(out->repo, sizeof out->repo, "%s-%u", repo_names[r % NREPO_NAMES],
		         (unsigned)(r / NREPO_NAMES + 1));
}

/* A version-4-shaped UUID from the seed, a tag and a number. */
static void uuid_of(unsigned seed, enum hash_tag tag, uint64_t x, char out[40])
{
	const uint64_t a = hash3(seed, tag, x), b = mix64(a ^ x);

	snprintf(out, 40, "%08" PRIx32 "-%04" PRIx32 "-4%03" PRIx32 "-%04" PRIx32 "-%012" PRIx64,
	         (uint32_t)(a >> 32), (uint32_t)(a >> 16) & 0xffff, (uint32_t)a & 0xfff,
	         (uint32_t)(b >> 48 & 0x3fff) | 0x8000, b & UINT64_C(0xffffffffffff));
}

/* The artifact of (service, run) as a purl, spelled as each producer spells it. */
static void purl_of(const struct demo_options *opt, const struct demo_event *ev,
                    const struct names *nm, enum spelling how, char out[256])
{
	char hex[65];

	for (int i = 0; i < 4; i++)
		snprintf(hex + 16 * i, 17, "%016" PRIx64,
		         hash3(opt->seed, TAG_DIGEST,
		               (uint64_t)ev->service << 40 | (uint64_t)ev->run << 2 | (unsigned)i));
	if (how == SPELL_CI)
		snprintf(out, 256,
		         "pkg:oci/%s@sha256%%3A%s?arch=amd64&repository_url="
		         "registry.acme.example%%2Facme",
		         nm->service, hex);
	else if (how == SPELL_REGISTRY)
		snprintf(out, 256,
		         "pkg:oci/%s@sha256:%s?repository_url=registry.acme.example/acme"
		         "&arch=amd64",
		         nm->service, hex);
	else
		snprintf(out, 256,
		         "pkg:oci/%s@sha256:%s?arch=amd64&repository_url="
		         "registry.acme.example/acme",
		         nm->service, hex);
}

static void source_of(const struct demo_event *ev, const struct names *nm, char *out, size_t cap)
{
	const enum demo_kind k = ev->kind;

	if (k >= DEMO_CHANGE_CREATED && k <= DEMO_CHANGE_MERGED)
		snprintf(out, cap, "https://git.acme.example/acme/%s", nm->repo);
	else if (k >= DEMO_PIPELINE_QUEUED && k <= DEMO_ARTIFACT_PACKAGED)
		snprintf(out, cap, "https://ci.acme.example/acme/%s", nm->repo);
	else if (k >= DEMO_INCIDENT_DETECTED)
		snprintf(out, cap, "https://alerts.acme.example/alertmanager");
	else
		snprintf(out, cap, "%s", envs[ev->env].cd_source);
}

static void head_of(const struct demo_options *opt, const struct demo_event *ev,
                    const struct names *nm, struct head *h)
{
	const struct demo_type *t = demo_type_of(ev->kind);

	uuid_of(opt->seed, TAG_EVENT, ev->seq, h->id);
	snprintf(h->type, sizeof h->type, "dev.cdevents.%s.%s.%s", t->subject, t->predicate,
	         ev->flags & DEMO_OLD_FORM ? t->v041 : t->v051);
	clock_format_rfc3339(ev->ts_us, h->ts);
	if (whole_seconds(ev->kind))
		strcpy(h->ts + 19, "Z");
	source_of(ev, nm, h->source, sizeof h->source);
}

static void subject_id(const struct demo_options *opt, const struct demo_event *ev,
                       const struct names *nm, char out[256])
{
	const enum demo_kind k = ev->kind;
	const char *task = ev->flags & DEMO_TEST_TASK ? "test" : "build";

	if (k == DEMO_ENVIRONMENT_CREATED)
		snprintf(out, 256, "%s", envs[ev->env].id);
	else if (k <= DEMO_CHANGE_MERGED)
		snprintf(out, 256, "%" PRIu32, ev->change);
	else if (k <= DEMO_PIPELINE_FINISHED)
		snprintf(out, 256, "%s-ci-%" PRIu32, nm->service, ev->run);
	else if (k <= DEMO_TASK_FINISHED)
		snprintf(out, 256, "%s-ci-%" PRIu32 "-%s", nm->service, ev->run, task);
	else if (k <= DEMO_BUILD_FINISHED)
		snprintf(out, 256, "%s-build-%" PRIu32, nm->service, ev->run);
	else if (k == DEMO_ARTIFACT_PACKAGED)
		purl_of(opt, ev, nm, SPELL_REGISTRY, out);
	else if (k <= DEMO_SERVICE_ROLLEDBACK)
		snprintf(out, 256, "%s", nm->service);
	else
		snprintf(out, 256, "INC-%" PRIu32, ev->incident);
}

static void put_change(struct buf *b, const struct demo_options *opt, const struct demo_event *ev,
                       const struct names *nm)
{
	if (ev->kind == DEMO_CHANGE_CREATED) {
		uint64_t h = hash3(opt->seed, TAG_TEXT, (uint64_t)ev->service << 32 | ev->change);
		char title[128];
		snprintf(title, sizeof title,
		         change_titles[h % (sizeof change_titles / sizeof *change_titles)],
		         nm->service);
		buf_puts(b, "\"description\":");
		buf_json_cstr(b, title);
		buf_putc(b, ',');
	}
	buf_printf(b, "\"repository\":{\"id\":\"acme/%s\",\"source\":\"https://git.acme.example\"}",
	           nm->repo);
}

/* pipelinerun.* and taskrun.* content; `url` is the 0.4.1 spelling of `uri`. */
static void put_run(struct buf *b, const struct demo_event *ev, const struct names *nm)
{
	const char *uri = ev->flags & DEMO_OLD_FORM ? "url" : "uri";
	const bool task = ev->kind == DEMO_TASK_STARTED || ev->kind == DEMO_TASK_FINISHED;
	const char *which = ev->flags & DEMO_TEST_TASK ? "test" : "build";
	const bool failed = ev->flags & DEMO_FAILED;

	if (task)
		buf_printf(
		    b,
		    "\"taskName\":\"%s\",\"%s\":\"https://ci.acme.example/acme/%s/runs/%" PRIu32
		    "/%s\",\"pipelineRun\":{\"id\":\"%s-ci-%" PRIu32 "\"}",
		    which, uri, nm->repo, ev->run, which, nm->service, ev->run);
	else
		buf_printf(b,
		           "\"pipelineName\":\"%s-ci\",\"%s\":\"https://ci.acme.example/acme/%s/"
		           "runs/%" PRIu32 "\"",
		           nm->service, uri, nm->repo, ev->run);
	if (ev->kind == DEMO_TASK_FINISHED || ev->kind == DEMO_PIPELINE_FINISHED)
		buf_printf(b, ",\"outcome\":\"%s\"", failed ? "failure" : "success");
	if (failed && ev->kind == DEMO_PIPELINE_FINISHED)
		buf_printf(b, ",\"errors\":\"task %s failed\"", which);
}

static void put_incident(struct buf *b, const struct demo_options *opt, const struct demo_event *ev,
                         const struct names *nm)
{
	const bool service = !(ev->flags & DEMO_NO_SERVICE);
	char text[160], purl[256];

	if (ev->kind == DEMO_INCIDENT_DETECTED) {
		const uint64_t h = hash3(opt->seed, TAG_TEXT, ev->incident);
		if (service)
			snprintf(text, sizeof text, service_alerts[h % 4], nm->service);
		else
			snprintf(text, sizeof text, env_alerts[h % 3], envs[ev->env].id);
		buf_puts(b, "\"description\":");
		buf_json_cstr(b, text);
		buf_putc(b, ',');
	}
	buf_printf(b, "\"environment\":{\"id\":\"%s\"}", envs[ev->env].id);
	if (service)
		buf_printf(b, ",\"service\":{\"id\":\"%s\"}", nm->service);
	if (ev->flags & DEMO_NAMES_ARTIFACT) {
		purl_of(opt, ev, nm, SPELL_CD, purl);
		buf_printf(b, ",\"artifactId\":\"%s\"", purl);
	}
}

static void put_content(struct buf *b, const struct demo_options *opt, const struct demo_event *ev,
                        const struct names *nm)
{
	const enum demo_kind k = ev->kind;
	char purl[256];

	if (k == DEMO_ENVIRONMENT_CREATED) {
		buf_printf(b,
		           "\"name\":\"%s\",\"%s\":\"https://argocd.acme.example/applications"
		           "?env=%s\"",
		           envs[ev->env].name, ev->flags & DEMO_OLD_FORM ? "url" : "uri",
		           envs[ev->env].id);
	} else if (k <= DEMO_CHANGE_MERGED) {
		put_change(b, opt, ev, nm);
	} else if (k <= DEMO_TASK_FINISHED) {
		put_run(b, ev, nm);
	} else if (k == DEMO_BUILD_FINISHED && !(ev->flags & DEMO_FAILED)) {
		purl_of(opt, ev, nm, SPELL_CI, purl);
		buf_printf(b, "\"artifactId\":\"%s\"", purl);
	} else if (k == DEMO_ARTIFACT_PACKAGED) {
		buf_printf(b,
		           "\"change\":{\"id\":\"%" PRIu32 "\",\"source\":"
		           "\"https://git.acme.example/acme/%s.git\"}",
		           ev->change, nm->repo);
	} else if (k >= DEMO_SERVICE_DEPLOYED && k <= DEMO_SERVICE_ROLLEDBACK) {
		purl_of(opt, ev, nm, SPELL_CD, purl);
		buf_printf(
		    b, "\"environment\":{\"id\":\"%s\",\"source\":\"%s\"},\"artifactId\":\"%s\"",
		    envs[ev->env].id, envs[ev->env].cd_source, purl);
	} else if (k >= DEMO_INCIDENT_DETECTED) {
		put_incident(b, opt, ev, nm);
	}
}

static void put_cdevent(struct buf *b, const struct demo_options *opt, const struct demo_event *ev,
                        const struct names *nm, const struct head *h)
{
	const bool old = ev->flags & DEMO_OLD_FORM;
	char id[256], chain[40];

	buf_printf(b,
	           "{\"context\":{\"id\":\"%s\",\"source\":\"%s\",\"type\":\"%s\","
	           "\"timestamp\":\"%s\",%s",
	           h->id, h->source, h->type, h->ts,
	           old ? "\"version\":\"0.4.1\"" : "\"specversion\":\"0.5.1\"");
	if (ev->flags & DEMO_CHAINED) {
		uuid_of(opt->seed, TAG_CHAIN,
		        (uint64_t)repo_of(opt, ev->service) << 32 | ev->change, chain);
		buf_printf(b, ",\"chainId\":\"%s\"", chain);
	}
	subject_id(opt, ev, nm, id);
	buf_printf(b, "},\"subject\":{\"id\":\"%s\",\"source\":\"%s\",", id, h->source);
	if (old)
		buf_printf(b, "\"type\":\"%s\",", demo_type_of(ev->kind)->subject_type);
	buf_puts(b, "\"content\":{");
	put_content(b, opt, ev, nm);
	buf_puts(b, "}}}");
}

void demo_event_json(const struct demo_options *opt, const struct demo_event *ev, struct buf *out)
{
	struct names nm;
	struct head h;

	names_of(opt, ev->service, &nm);
	head_of(opt, ev, &nm, &h);
	put_cdevent(out, opt, ev, &nm, &h);
}

void demo_batch_json(const struct demo_options *opt, const struct demo_event *evs, size_t n,
                     struct buf *out)
{
	buf_putc(out, '[');
	for (size_t i = 0; i < n; i++) {
		struct names nm;
		struct head h;
		names_of(opt, evs[i].service, &nm);
		head_of(opt, &evs[i], &nm, &h);
		buf_printf(
		    out,
		    "%s{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"%s\","
		    "\"type\":\"%s\",\"time\":\"%s\",\"datacontenttype\":\"application/json\","
		    "\"data\":",
		    i ? "," : "", h.id, h.source, h.type, h.ts);
		put_cdevent(out, opt, &evs[i], &nm, &h);
		buf_putc(out, '}');
	}
	buf_putc(out, ']');
}

/* ---- command-line flags ---- */

static const struct {
	const char *name;
	long long min, max;
} flags[] = {
    {"--events", DEMO_MIN_EVENTS, DEMO_MAX_EVENTS},
    {"--seed", 0, 4294967295LL},
    {"--demo-start", 0, 0}, /* an RFC 3339 date-time */
    {"--demo-days", 3, 3650},
    {"--demo-batch", 0, 10000},
};
#define NFLAGS (sizeof flags / sizeof *flags)

/* The index of arg's flag (setting *value for "--flag=value"), or -1 when not ours. */
static int match_flag(const char *arg, const char **value)
{
	for (size_t i = 0; i < NFLAGS; i++) {
		size_t n = strlen(flags[i].name);
		if (strncmp(arg, flags[i].name, n) == 0 && (arg[n] == '\0' || arg[n] == '=')) {
			*value = arg[n] == '=' ? arg + n + 1 : NULL;
			return (int)i;
		}
	}
	return -1;
}

static enum status apply_flag(struct demo_options *opt, int which, const char *value,
                              struct err *err)
{
	char *end = NULL;
	long long v = 0;
	int64_t us = 0;

	if (which == 2 && clock_parse_rfc3339(value, strlen(value), &us, NULL) && us >= 0) {
		opt->start_us = us;
		return ST_OK;
	}
	if (which != 2)
		v = strtoll(value, &end, 10);
	if (which == 2 || !*value || *end || v < flags[which].min || v > flags[which].max) {
		err_set(err, ST_INVALID, "invalid value \"%.60s\" for %s", value,
		        flags[which].name);
		if (which == 2)
			err_detail(err,
			           "expected an RFC 3339 date-time such as 2026-01-01T00:00:00Z");
		else
			err_detail(err, "expected an integer from %lld to %lld", flags[which].min,
			           flags[which].max);
		return ST_INVALID;
	}
	if (which == 0)
		opt->events = (long)v;
	else if (which == 1)
		opt->seed = (unsigned)v;
	else if (which == 3)
		opt->days = (int)v;
	else
		opt->batch = (size_t)v;
	return ST_OK;
}

enum status demo_parse_args(int *argc, char **argv, int first, struct demo_options *opt,
                            struct err *err)
{
	int kept = first;

	for (int i = first; i < *argc; i++) {
		const char *value = NULL;
		const int which = match_flag(argv[i], &value);
		if (which < 0) {
			argv[kept++] = argv[i];
			continue;
		}
		if (!value && i + 1 >= *argc)
			return err_set(err, ST_INVALID, "missing value for %s", flags[which].name);
		if (!value)
			value = argv[++i];
		enum status st = apply_flag(opt, which, value, err);
		if (st != ST_OK)
			return st;
	}
	argv[kept] = NULL;
	*argc = kept;
	return ST_OK;
}

/* ---- the shell: submitting through the ingest path ---- */

struct submitter {
	const struct demo_options *opt;
	const struct demo_events *evs;
	struct committer *committer;
	size_t per_request; /* events per batch request; 0: one bare event per request */
	size_t max_batch;
	pthread_mutex_t lock; /* guards everything below */
	size_t next, done, logged_tenths;
	struct demo_result *res;
	enum status st;
	struct err err;
};

/* The next request's events [*from, *from + *n); false when all are taken or one failed. */
static bool take(struct submitter *s, size_t *from, size_t *n)
{
	pthread_mutex_lock(&s->lock);
	const bool ok = s->st == ST_OK && s->next < s->evs->n;
	if (ok) {
		const size_t k = s->per_request ? s->per_request : 1, left = s->evs->n - s->next;
		*from = s->next;
		*n = k < left ? k : left;
		s->next += *n;
	}
	pthread_mutex_unlock(&s->lock);
	return ok;
}

static void account(struct submitter *s, size_t n, enum status st, size_t accepted,
                    size_t duplicates, const struct err *err)
{
	pthread_mutex_lock(&s->lock);
	s->res->requests++;
	s->res->accepted += accepted;
	s->res->duplicates += duplicates;
	s->done += n;
	if (st != ST_OK && s->st == ST_OK) {
		s->st = st;
		s->err = *err;
	}
	if (s->done * 10 / s->evs->n > s->logged_tenths) {
		s->logged_tenths = s->done * 10 / s->evs->n;
		log_info("demo progress submitted=%zu of=%zu", s->done, s->evs->n);
	}
	pthread_mutex_unlock(&s->lock);
}

/* One request, as POST /api/v1/events handles it after authentication. */
static enum status submit_one(struct submitter *s, size_t from, size_t n, struct buf *body,
                              size_t *accepted, size_t *duplicates, struct err *err)
{
	struct ingest_batch batch = {0};
	char req_id[32];
	enum status st;

	buf_reset(body);
	if (s->per_request)
		demo_batch_json(s->opt, s->evs->v + from, n, body);
	else
		demo_event_json(s->opt, s->evs->v + from, body);
	snprintf(req_id, sizeof req_id, "demo-%zu", from);
	const struct ingest_request req = {.content_type =
	                                       s->per_request ? "application/cloudevents-batch+json"
	                                                      : "application/json",
	                                   .body = buf_cstr(body),
	                                   .len = body->len,
	                                   .producer = "demo",
	                                   .req_id = req_id,
	                                   .max_batch = s->max_batch};
	if ((st = envelope_parse(&req, &batch, err)) != ST_OK) {
		char msg[sizeof err->msg];
		snprintf(msg, sizeof msg, "%s", err->msg);
		st = err_set(err, ST_INTERNAL, "generated event rejected (a bug): %s", msg);
		goto out;
	}
	st = committer_submit(s->committer, &batch, accepted, duplicates, err);
out:
	ingest_batch_release(&batch);
	return st;
}

static void *submit_worker(void *arg)
{
	struct submitter *s = arg;
	struct buf body = BUF_INIT(0);
	size_t from, n;

	while (take(s, &from, &n)) {
		struct err err = {0};
		size_t accepted = 0, duplicates = 0;
		enum status st = submit_one(s, from, n, &body, &accepted, &duplicates, &err);
		account(s, n, st, accepted, duplicates, &err);
	}
	buf_release(&body);
	return NULL;
}

/* One submitting thread per committer (this one included), so commits overlap formatting. */
static enum status submit_all(const struct config *cfg, const struct demo_options *opt,
                              const struct demo_events *evs, struct demo_result *res,
                              struct err *err)
{
	const int threads = cfg->committers < 1                  ? 1
	                    : cfg->committers > DEMO_MAX_THREADS ? DEMO_MAX_THREADS
	                                                         : (int)cfg->committers;
	size_t per = opt->batch;
	pthread_t tids[DEMO_MAX_THREADS];
	int started = 0;

	if (cfg->max_batch > 0 && per > (size_t)cfg->max_batch)
		per = (size_t)cfg->max_batch;
	struct submitter s = {
	    .opt = opt, .evs = evs, .per_request = per, .max_batch = per ? per : 1, .res = res};
	s.committer =
	    committer_new(cfg->database_url, threads,
	                  cfg->commit_max_events > 0 ? (size_t)cfg->commit_max_events : 5000);
	pthread_mutex_init(&s.lock, NULL);
	while (started < threads - 1 &&
	       pthread_create(&tids[started], NULL, submit_worker, &s) == 0)
		started++;
	submit_worker(&s);
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	committer_free(s.committer);
	pthread_mutex_destroy(&s.lock);
	if (s.st != ST_OK)
		*err = s.err;
	return s.st;
}

static enum status apply_migrations(const char *url, struct err *err)
{
	struct db_conn *conn = db_connect(url, err);
	enum status st;

	if (!conn)
		return err->status;
	st = migrate_run(conn, NULL, err);
	db_disconnect(conn);
	return st;
}

enum status demo_run(const struct config *cfg, const struct demo_options *opt,
                     struct demo_result *out, struct err *err)
{
	struct demo_events evs = {0};
	char from[32], to[32];
	int64_t t0 = clock_mono_us();
	enum status st;

	memset(out, 0, sizeof *out);
	if ((st = demo_generate(opt, &evs, err)) != ST_OK)
		goto out;
	*out = (struct demo_result){.events = evs.n,
	                            .changes = evs.changes,
	                            .start_us = evs.start_us,
	                            .end_us = evs.end_us,
	                            .generate_ms = (clock_mono_us() - t0) / 1000};
	clock_format_rfc3339(evs.start_us, from);
	clock_format_rfc3339(evs.end_us, to);
	log_info("demo history generated events=%zu changes=%zu from=%s to=%s seed=%u ms=%lld",
	         evs.n, evs.changes, from, to, opt->seed, (long long)out->generate_ms);
	if ((st = apply_migrations(cfg->database_url, err)) != ST_OK)
		goto out;
	t0 = clock_mono_us();
	st = submit_all(cfg, opt, &evs, out, err);
	out->submit_ms = (clock_mono_us() - t0) / 1000;
	log_info("demo history submitted requests=%zu accepted=%zu duplicates=%zu ms=%lld",
	         out->requests, out->accepted, out->duplicates, (long long)out->submit_ms);
out:
	demo_events_release(&evs);
	return st;
}
