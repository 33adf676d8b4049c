#ifndef SQL_PIPELINE_STORE_H
#define SQL_PIPELINE_STORE_H
/*
 * Pipeline runs and their task runs, read from the linked model (pipeline_runs, task_runs in
 * sql/migrations/0002_model.sql) for GET /api/v1/pipeline-runs and /api/v1/pipeline-runs/run.
 *
 * Identity: a run's key is its CDEvents subject id (docs/CORRELATION.md, "Identities"); the
 * trace API shows the same key as a pipeline run's `id`. `source` is the subject source of
 * the run's earliest event (subject.source, or context.source when the event has none); a
 * run whose events came from several sources is still one run, and any of those sources
 * (subject or context) finds it (pipeline_store_run).
 * Times: RFC 3339 texts in UTC with microseconds (as clock_format_rfc3339() writes), NULL
 * when unknown. Durations: seconds, NAN when either end is unknown (never 0 for unknown).
 * Ownership: row strings are borrowed for the duration of the callback.
 * Errors (all calls): ST_UNAVAILABLE (connection), ST_INTERNAL.
 * Threads: a db_conn is used by one thread at a time.
 */
#include <stdbool.h>

#include "core/err.h"

struct db_conn;

#define PIPELINE_STORE_MAX_RUNS 1000      /* the largest `limit` */
#define PIPELINE_STORE_MAX_TASK_RUNS 1000 /* task runs of one run in a detail (the earliest) */

/* Which runs: first known time coalesce(queued_at, started_at, finished_at) in [from, to). */
struct pipeline_store_filter {
	const char *from, *to;  /* RFC 3339 */
	const char *pipelines;  /* JSON array of run names (exact match), or NULL: all */
	int limit;              /* 1 to PIPELINE_STORE_MAX_RUNS */
};

/* One pipeline run. Member names are the JSON names of docs/API.md. */
struct pipeline_store_run {
	const char *id, *source;
	const char *pipeline, *url, *outcome, *errors;    /* NULL when no event said */
	const char *queued_at, *started_at, *finished_at; /* NULL when unknown */
	double queued_seconds;   /* started - queued */
	double running_seconds;  /* finished - started */
	double duration_seconds; /* finished - (queued, else started) */
	long task_runs;          /* how many task runs name it */
};

/* One task run of a pipeline run. */
struct pipeline_store_task_run {
	const char *id, *source, *task, *url, *outcome, *errors, *started_at, *finished_at;
	double duration_seconds; /* finished - started */
};

/* Per pipeline name, over every run of the window (not only the `limit` newest). */
struct pipeline_store_summary {
	const char *pipeline;            /* NULL: the runs no event named */
	long runs, succeeded, failed;    /* all; outcome "success"; "failure" or "error" */
	double median_duration_seconds;  /* percentile_cont(0.5) of the known durations, or NAN */
	const char *last_outcome;        /* of the newest run that has an outcome, or NULL */
	const char *last_started_at;     /* the latest started_at, or NULL */
};

typedef void (*pipeline_store_run_fn)(void *arg, const struct pipeline_store_run *r);
typedef void (*pipeline_store_task_run_fn)(void *arg, const struct pipeline_store_task_run *t);
typedef void (*pipeline_store_summary_fn)(void *arg, const struct pipeline_store_summary *s);

/*
 * The runs of the window, newest first (first known time descending, then id descending), at
 * most f->limit of them, to `run_fn`; then, unless `summary_fn` is NULL, one summary per
 * pipeline name over all the window's runs, by name (byte order; unnamed last). Both read
 * one snapshot, so the summaries count exactly the runs the list was cut from.
 */
enum status pipeline_store_window(struct db_conn *conn, const struct pipeline_store_filter *f,
				  pipeline_store_run_fn run_fn, pipeline_store_summary_fn summary_fn,
				  void *arg, struct err *err);

/*
 * The run with key `id` that has an event whose subject.source or context.source is
 * `source`, to `run_fn`, then its task runs (by started_at, unknown last, then id; at most
 * PIPELINE_STORE_MAX_TASK_RUNS) to `task_fn`, from one snapshot.
 * Errors: ST_NOT_FOUND (no such run from that source; err->msg does not repeat the
 *         values, which the caller can quote as it needs).
 */
enum status pipeline_store_run(struct db_conn *conn, const char *id, const char *source,
			       pipeline_store_run_fn run_fn, pipeline_store_task_run_fn task_fn,
			       void *arg, struct err *err);

#endif
