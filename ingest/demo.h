#ifndef INGEST_DEMO_H
#define INGEST_DEMO_H
/*
 * `cdlens demo`: the CDEvents history of a made-up organisation, submitted through the ingest
 * path (envelope_parse + committer_submit, as POST /api/v1/events does), so the correlator
 * links it like real traffic and the dashboard has something to show.
 *
 * The organisation (defaults): 24 services in 8 repositories (several services per repository,
 * so a deployment's commit range spans other services' changes), environments dev, staging,
 * prod-eu and prod-us, 120 days ending now (rounded down to the hour). Every merged change runs
 * a pipeline (build and test task runs, a build, an artifact), goes to dev and staging, and
 * production releases ship the newest staged artifact to prod-eu, then prod-us. Some releases
 * cause incidents (some naming only the environment, some naming the artifact); some of those
 * are rolled back. About 20% of the events are in CDEvents 0.4.1 form, the rest 0.5.1; the
 * CI, the registry and the CD tool spell one artifact's purl three ways.
 *
 * Two halves: demo_generate() and demo_event_json() are pure (same options and seed, same
 * bytes); demo_run() is the shell that talks to PostgreSQL.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"

#define DEMO_DEFAULT_EVENTS 100000
#define DEMO_MIN_EVENTS 100
#define DEMO_MAX_EVENTS 5000000 /* bounds memory: 32 bytes per event before formatting */
#define DEMO_DEFAULT_DAYS 120
#define DEMO_DEFAULT_SERVICES 24
#define DEMO_DEFAULT_REPOSITORIES 8
#define DEMO_MAX_SERVICES 240
#define DEMO_DEFAULT_BATCH 500 /* events per application/cloudevents-batch+json request */

/* The event types the demo emits, grouped by producer (environment, SCM, CI, CD, alerting):
 * demo.c relies on the groups being contiguous and in this order. */
enum demo_kind {
	DEMO_ENVIRONMENT_CREATED,
	DEMO_CHANGE_CREATED,
	DEMO_CHANGE_REVIEWED,
	DEMO_CHANGE_MERGED,
	DEMO_PIPELINE_QUEUED,
	DEMO_PIPELINE_STARTED,
	DEMO_PIPELINE_FINISHED,
	DEMO_TASK_STARTED,
	DEMO_TASK_FINISHED,
	DEMO_BUILD_STARTED,
	DEMO_BUILD_FINISHED,
	DEMO_ARTIFACT_PACKAGED,
	DEMO_SERVICE_DEPLOYED,
	DEMO_SERVICE_UPGRADED,
	DEMO_SERVICE_ROLLEDBACK,
	DEMO_INCIDENT_DETECTED,
	DEMO_INCIDENT_RESOLVED,
	DEMO_KIND_COUNT
};

enum demo_env {
	DEMO_ENV_DEV,
	DEMO_ENV_STAGING,
	DEMO_ENV_PROD_EU,
	DEMO_ENV_PROD_US,
	DEMO_ENV_COUNT
};

enum demo_flags {
	DEMO_OLD_FORM = 1 << 0,       /* CDEvents 0.4.1 form: context.version, subject.type, url */
	DEMO_FAILED = 1 << 1,         /* task run, build or pipeline run that failed */
	DEMO_TEST_TASK = 1 << 2,      /* the task run is the "test" task (else "build") */
	DEMO_NO_SERVICE = 1 << 3,     /* incident naming only its environment */
	DEMO_NAMES_ARTIFACT = 1 << 4, /* incident naming the deployed artifact */
	DEMO_CHAINED = 1 << 5,        /* carries the change's context.chainId */
};

/* One CDEvent to be, in 32 bytes; demo_event_json() spells it out. */
struct demo_event {
	int64_t ts_us;     /* context.timestamp, UTC microseconds */
	uint32_t seq;      /* emission number: names context.id, breaks ties of equal times */
	uint16_t service;  /* index into the organisation (unused by environment events) */
	uint8_t kind;      /* enum demo_kind */
	uint8_t env;       /* enum demo_env, for deployments, incidents and environments */
	uint8_t flags;     /* enum demo_flags */
	uint32_t change;   /* change (pull request) number within the service's repository */
	uint32_t run;      /* the service's pipeline run, build and artifact number */
	uint32_t incident; /* incident number */
};

/* The CDEvents type of a kind, per spec release (hard-coded from the conformance examples in
 * tests/data/cdevents-spec/<release>/conformance, which tests/ingest/test_demo.c checks). */
struct demo_type {
	const char *subject, *predicate;
	const char *subject_type; /* subject.type in 0.4.1 form */
	const char *v051, *v041;  /* the type version in spec 0.5.1 and in 0.4.1 */
};

/* The row of `kind` (< DEMO_KIND_COUNT); points into a static table. */
const struct demo_type *demo_type_of(enum demo_kind kind);

/* What to generate. A plain value: fill with demo_options_init(), then override fields. */
struct demo_options {
	long events; /* number of events (exactly) */
	unsigned seed;
	int64_t start_us; /* first instant of the history; 0: `days` before now_us */
	int64_t now_us;   /* when start_us is 0 the history ends here, rounded down to the hour */
	int days;         /* length of the history */
	int services, repositories;
	size_t batch;         /* events per batch request; 0: one bare event per request */
	double old_share;     /* share of events in 0.4.1 form */
	double incident_rate; /* per production release */
};

/* Defaults above; now_us = the current time. */
void demo_options_init(struct demo_options *opt);

/*
 * Take the demo's own flags out of argv[first..*argc) and apply them to *opt:
 *   --events N  --seed S  --demo-start RFC3339  --demo-days D  --demo-batch N (0: bare)
 * as "--flag value" or "--flag=value". The other arguments are kept, in order, and *argc is
 * lowered, so the rest can go to config_load().
 * Errors: ST_INVALID (missing or malformed value, out of range), naming the flag; argv may
 * then be partly compacted.
 * Threads: pure.
 */
enum status demo_parse_args(int *argc, char **argv, int first, struct demo_options *opt,
                            struct err *err);

/* The generated history, sorted by (ts_us, seq). */
struct demo_events {
	struct demo_event *v;
	size_t n, cap;
	int64_t start_us, end_us; /* the window: every ts_us is within [start_us, end_us] */
	size_t changes;           /* merged changes */
};

/*
 * Generate the history described by *opt into *out (which must be zeroed).
 * Deterministic: the same options give the same events.
 * Ownership: on ST_OK the caller owns *out (demo_events_release); on failure *out is empty.
 * Errors: ST_INVALID (an option out of range; err->msg names it).
 * Threads: pure.
 */
enum status demo_generate(const struct demo_options *opt, struct demo_events *out, struct err *err);
/* Free and zero. A zeroed struct: no-op. */
void demo_events_release(struct demo_events *evs);

/* Append the CDEvent JSON of *ev to `out`. `opt` must be the one that generated it.
 * Threads: pure. */
void demo_event_json(const struct demo_options *opt, const struct demo_event *ev, struct buf *out);
/* Append evs[0..n) as an application/cloudevents-batch+json body (a JSON array of structured
 * CloudEvents whose `data` is the CDEvent). Threads: pure. */
void demo_batch_json(const struct demo_options *opt, const struct demo_event *evs, size_t n,
                     struct buf *out);

struct demo_result {
	size_t events, changes; /* generated */
	size_t accepted, duplicates, requests;
	int64_t start_us, end_us; /* the history's window */
	int64_t generate_ms, submit_ms;
};

/*
 * Apply missing migrations on cfg->database_url, generate the history and submit it in
 * requests of opt->batch events (min with cfg->max_batch when that is set), each through
 * envelope_parse() and committer_submit() on a committer with cfg->committers threads and
 * cfg->commit_max_events per transaction; as many requests are in flight as there are
 * committers. Events already stored (a second run with the same options) count as
 * duplicates. The events' producer is "demo".
 * Ownership: borrows cfg and opt; fills *out (also on failure, with what was done).
 * Errors: ST_INVALID (options), ST_UNAVAILABLE (database unreachable), ST_INTERNAL (a
 * migration failed, or a generated event was rejected: a bug).
 * Threads: call from one thread; it starts and joins its own.
 */
enum status demo_run(const struct config *cfg, const struct demo_options *opt,
                     struct demo_result *out, struct err *err);

#endif
