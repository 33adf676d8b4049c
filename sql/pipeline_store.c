/*
 * sql/pipeline_store.c: the statements behind GET /api/v1/pipeline-runs and
 * /api/v1/pipeline-runs/run (see pipeline_store.h and docs/API.md).
 *
 * Why these shapes: a window is an index range on a run's first known time (FIRST_AT, spelled
 * exactly as the expression index of migrations/0006_pipeline_runs.sql, so that the planner
 * matches it), read newest first and cut at the limit; the per-pipeline summaries aggregate
 * the same range. PostgreSQL formats the times (TS) and computes the durations (SECS), as in
 * sql/trace_store.c, so web/ copies texts and numbers and the JSON and CSV agree.
 * A run's source is looked up in its facts (index facts_kind_key) and their events (by seq).
 *
 * Invariants: every statement is parameterized; lists have a total order (time, then key), so
 * they depend only on the stored events; an unknown end gives a NULL duration, never 0.
 * When you add a column: RUN_COLUMNS or the task-run statement here, the struct in
 * pipeline_store.h, the column table in web/api_pipelines.c, docs/API.md, web/openapi.json.
 */
#include "sql/pipeline_store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "sql/db_internal.h"

#define XSTR(x) #x
#define STR(x) XSTR(x)

/* RFC 3339 in UTC with microseconds, as clock_format_rfc3339() writes; NULL stays NULL. */
#define TS(x) "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
/* Seconds from `a` to `b`; NULL when either is NULL. */
#define SECS(a, b) "extract(epoch FROM (" b ") - (" a "))::float8"
/* A run's first known time: what places it in a window and orders the list. */
#define FIRST_AT "coalesce(p.queued_at, p.started_at, p.finished_at)"
/* From queued (else started) to finished. */
#define DURATION SECS("coalesce(p.queued_at, p.started_at)", "p.finished_at")
/* The subject source of the earliest event of a node. */
#define SOURCE(kind, key)                                                                       \
	"(SELECT coalesce(e.subject_source, e.source) FROM facts f JOIN events e ON e.seq = f.seq" \
	" WHERE f.kind = '" kind "' AND f.key = " key                                             \
	" ORDER BY f.ts, f.ev_source, f.ev_id LIMIT 1)"
/* The members of struct pipeline_store_run, in order (run_row()). */
#define RUN_COLUMNS                                                                            \
	"p.key, " SOURCE("pipeline_run", "p.key") ", p.name, p.url, p.outcome, p.errors, "       \
	TS("p.queued_at") ", " TS("p.started_at") ", " TS("p.finished_at") ", "                  \
	SECS("p.queued_at", "p.started_at") ", " SECS("p.started_at", "p.finished_at") ", "       \
	DURATION ", (SELECT count(*) FROM task_runs t WHERE t.pipeline_run = p.key)"
/* $1, $2: the window [from, to). */
#define IN_RANGE FIRST_AT " >= $1::timestamptz AND " FIRST_AT " < $2::timestamptz"
/* The same, and $3: a JSON array of run names, or NULL for all. */
#define IN_WINDOW                                                                              \
	IN_RANGE " AND ($3::jsonb IS NULL"                                                        \
	" OR p.name = ANY (ARRAY(SELECT jsonb_array_elements_text($3::jsonb))))"
/* The outcome of the newest run in the range that has one, among the runs where `cond`:
 * a backward scan of that pipeline's runs in pipeline_runs_name_first_at (migration 0007),
 * stopping at the first with an outcome (ordering every pipeline's runs in the aggregate
 * instead costs a sort of the whole window). */
#define LAST_OUTCOME(cond)                                                                     \
	"(SELECT p.outcome FROM pipeline_runs p WHERE " cond " AND " IN_RANGE                   \
	" AND p.outcome IS NOT NULL ORDER BY " FIRST_AT " DESC, p.key DESC LIMIT 1)"

static const char *opt(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static double seconds(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NAN : strtod(PQgetvalue(res, row, col), NULL);
}

static long count(const PGresult *res, int row, int col)
{
	return strtol(PQgetvalue(res, row, col), NULL, 10);
}

/* Each row of a RUN_COLUMNS result to `fn`; returns how many. */
static int each_run(const PGresult *res, pipeline_store_run_fn fn, void *arg)
{
	int n = PQntuples(res);

	for (int i = 0; i < n; i++) {
		struct pipeline_store_run r = {
			.id = PQgetvalue(res, i, 0), .source = opt(res, i, 1),
			.pipeline = opt(res, i, 2), .url = opt(res, i, 3), .outcome = opt(res, i, 4),
			.errors = opt(res, i, 5), .queued_at = opt(res, i, 6),
			.started_at = opt(res, i, 7), .finished_at = opt(res, i, 8),
			.queued_seconds = seconds(res, i, 9), .running_seconds = seconds(res, i, 10),
			.duration_seconds = seconds(res, i, 11), .task_runs = count(res, i, 12),
		};
		fn(arg, &r);
	}
	return n;
}

/* One snapshot for the statements of a call: the correlator commits while we read. */
static enum status snapshot_begin(struct db_conn *conn, struct err *err)
{
	return db_exec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
}

/* COMMIT after success; else ROLLBACK (if the connection still works) and return `st`. */
static enum status snapshot_end(struct db_conn *conn, enum status st, struct err *err)
{
	struct err ignored = {0};

	if (st == ST_OK)
		return db_exec(conn, "COMMIT", err);
	if (db_conn_ok(conn))
		(void)db_exec(conn, "ROLLBACK", &ignored);
	return st;
}

static enum status window_runs(struct db_conn *conn, const struct pipeline_store_filter *f,
			       pipeline_store_run_fn fn, void *arg, struct err *err)
{
	static const char sql[] =
		"SELECT " RUN_COLUMNS " FROM pipeline_runs p WHERE " IN_WINDOW
		" ORDER BY " FIRST_AT " DESC, p.key DESC LIMIT $4::int";
	char limit[16];

	snprintf(limit, sizeof limit, "%d", f->limit);
	const char *params[] = {f->from, f->to, f->pipelines, limit};
	PGresult *res = db_query_prepared(conn, sql, 4, params, PGRES_TUPLES_OK,
					  "load pipeline runs", err);
	if (!res)
		return err->status;
	each_run(res, fn, arg);
	PQclear(res);
	return ST_OK;
}

static enum status window_summaries(struct db_conn *conn, const struct pipeline_store_filter *f,
				    pipeline_store_summary_fn fn, void *arg, struct err *err)
{
	static const char sql[] =
		"SELECT g.name, g.runs, g.succeeded, g.failed, g.median, CASE WHEN g.name IS NULL"
		" THEN " LAST_OUTCOME("p.name IS NULL") " ELSE " LAST_OUTCOME("p.name = g.name")
		" END, " TS("g.last_started") " FROM ("
		" SELECT p.name, count(*) AS runs,"
		"  count(*) FILTER (WHERE p.outcome = 'success') AS succeeded,"
		"  count(*) FILTER (WHERE p.outcome IN ('failure', 'error')) AS failed,"
		"  percentile_cont(0.5) WITHIN GROUP (ORDER BY " DURATION ") AS median,"
		"  max(p.started_at) AS last_started"
		" FROM pipeline_runs p WHERE " IN_WINDOW " GROUP BY p.name) g"
		" ORDER BY g.name COLLATE \"C\" NULLS LAST";
	const char *params[] = {f->from, f->to, f->pipelines};
	PGresult *res = db_query_prepared(conn, sql, 3, params, PGRES_TUPLES_OK,
					  "summarize pipeline runs", err);

	if (!res)
		return err->status;
	for (int i = 0; i < PQntuples(res); i++) {
		struct pipeline_store_summary s = {
			.pipeline = opt(res, i, 0), .runs = count(res, i, 1),
			.succeeded = count(res, i, 2), .failed = count(res, i, 3),
			.median_duration_seconds = seconds(res, i, 4), .last_outcome = opt(res, i, 5),
			.last_started_at = opt(res, i, 6),
		};
		fn(arg, &s);
	}
	PQclear(res);
	return ST_OK;
}

enum status pipeline_store_window(struct db_conn *conn, const struct pipeline_store_filter *f,
				  pipeline_store_run_fn run_fn, pipeline_store_summary_fn summary_fn,
				  void *arg, struct err *err)
{
	enum status st = snapshot_begin(conn, err);

	if (st != ST_OK)
		return st;
	st = window_runs(conn, f, run_fn, arg, err);
	if (st == ST_OK && summary_fn)
		st = window_summaries(conn, f, summary_fn, arg, err);
	return snapshot_end(conn, st, err);
}

static enum status one_run(struct db_conn *conn, const char *id, const char *source,
			   pipeline_store_run_fn fn, void *arg, struct err *err)
{
	static const char sql[] =
		"SELECT " RUN_COLUMNS " FROM pipeline_runs p WHERE p.key = $1"
		" AND EXISTS (SELECT FROM facts f JOIN events e ON e.seq = f.seq"
		"  WHERE f.kind = 'pipeline_run' AND f.key = p.key"
		"   AND (e.subject_source = $2 OR e.source = $2))";
	const char *params[] = {id, source};
	PGresult *res = db_query_prepared(conn, sql, 2, params, PGRES_TUPLES_OK,
					  "load the pipeline run", err);

	if (!res)
		return err->status;
	int n = each_run(res, fn, arg);
	PQclear(res);
	return n ? ST_OK : err_set(err, ST_NOT_FOUND, "no such pipeline run has been seen");
}

static enum status task_runs(struct db_conn *conn, const char *id,
			     pipeline_store_task_run_fn fn, void *arg, struct err *err)
{
	static const char sql[] =
		"SELECT t.key, " SOURCE("task_run", "t.key") ", t.name, t.url, t.outcome, t.errors, "
		TS("t.started_at") ", " TS("t.finished_at") ", " SECS("t.started_at", "t.finished_at")
		" FROM task_runs t WHERE t.pipeline_run = $1"
		" ORDER BY t.started_at NULLS LAST, t.key LIMIT " STR(PIPELINE_STORE_MAX_TASK_RUNS);
	const char *params[] = {id};
	PGresult *res = db_query_prepared(conn, sql, 1, params, PGRES_TUPLES_OK,
					  "load the task runs", err);

	if (!res)
		return err->status;
	for (int i = 0; i < PQntuples(res); i++) {
		struct pipeline_store_task_run t = {
			.id = PQgetvalue(res, i, 0), .source = opt(res, i, 1), .task = opt(res, i, 2),
			.url = opt(res, i, 3), .outcome = opt(res, i, 4), .errors = opt(res, i, 5),
			.started_at = opt(res, i, 6), .finished_at = opt(res, i, 7),
			.duration_seconds = seconds(res, i, 8),
		};
		fn(arg, &t);
	}
	PQclear(res);
	return ST_OK;
}

enum status pipeline_store_run(struct db_conn *conn, const char *id, const char *source,
			       pipeline_store_run_fn run_fn, pipeline_store_task_run_fn task_fn,
			       void *arg, struct err *err)
{
	enum status st = snapshot_begin(conn, err);

	if (st != ST_OK)
		return st;
	st = one_run(conn, id, source, run_fn, arg, err);
	if (st == ST_OK)
		st = task_runs(conn, id, task_fn, arg, err);
	return snapshot_end(conn, st, err);
}
