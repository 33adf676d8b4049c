/*
 * web/api_pipelines.c: pipeline runs, for the dashboard's Gantt page (web/static/pipelines.js):
 *   GET /api/v1/pipeline-runs      the runs of a window, newest first (at most `limit`), and
 *                                  a summary per pipeline over all of them; JSON or CSV;
 *   GET /api/v1/pipeline-runs/run  one run (id and source, as the list gives them) with its
 *                                  task runs.
 *
 * Parameters go through the DORA endpoints' parser (api_dora_params.h), so the window
 * defaults, the repeatable filters (`pipeline` here) and the 400 problems are those of the
 * other lists.
 * Rows are written from column tables (member, kind), one table per row type serving both
 * the JSON and the CSV writer, so the two always agree with each other and with the header.
 * When you add a column: sql/pipeline_store.{h,c}, the table here, docs/API.md and
 * web/openapi.json.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "sql/db.h"
#include "sql/pipeline_store.h"
#include "web/api_dora_params.h"
#include "web/app.h"
#include "web/handlers.h"
#include "web/query.h"
#include "web/request.h"

#define PIPELINES_DEFAULT_LIMIT 100

/* ---- rows: one column table per row type ---- */

enum column_kind {
	COLUMN_TEXT,    /* const char *, NULL: null */
	COLUMN_SECONDS, /* double, NAN: null */
	COLUMN_COUNT,   /* long */
};

struct column {
	const char *name; /* the JSON member and CSV header: the struct member's name */
	enum column_kind kind;
	size_t offset;
};

#define COLUMN(type, member, kind) {#member, COLUMN_##kind, offsetof(struct type, member)}
#define NCOLUMNS(table) (sizeof table / sizeof table[0])
#define RUN(member, kind) COLUMN(pipeline_store_run, member, kind)
#define TASK(member, kind) COLUMN(pipeline_store_task_run, member, kind)
#define SUMMARY(member, kind) COLUMN(pipeline_store_summary, member, kind)

/* In the order of docs/API.md (and of the CSV header). */
static const struct column run_columns[] = {
	RUN(id, TEXT), RUN(source, TEXT), RUN(pipeline, TEXT), RUN(url, TEXT), RUN(outcome, TEXT),
	RUN(errors, TEXT), RUN(queued_at, TEXT), RUN(started_at, TEXT), RUN(finished_at, TEXT),
	RUN(queued_seconds, SECONDS), RUN(running_seconds, SECONDS),
	RUN(duration_seconds, SECONDS), RUN(task_runs, COUNT),
};
static const struct column task_run_columns[] = {
	TASK(id, TEXT), TASK(source, TEXT), TASK(task, TEXT), TASK(url, TEXT), TASK(outcome, TEXT),
	TASK(errors, TEXT), TASK(started_at, TEXT), TASK(finished_at, TEXT),
	TASK(duration_seconds, SECONDS),
};
static const struct column summary_columns[] = {
	SUMMARY(pipeline, TEXT), SUMMARY(runs, COUNT), SUMMARY(succeeded, COUNT),
	SUMMARY(failed, COUNT), SUMMARY(median_duration_seconds, SECONDS),
	SUMMARY(last_outcome, TEXT), SUMMARY(last_started_at, TEXT),
};

static const char *column_text(const struct column *c, const void *row)
{
	return *(const char *const *)((const char *)row + c->offset);
}

/* A number column's value; NAN when absent. */
static double column_number(const struct column *c, const void *row)
{
	const char *at = (const char *)row + c->offset;

	return c->kind == COLUMN_COUNT ? (double)*(const long *)at : *(const double *)at;
}

static cJSON *row_json(const struct column *cols, size_t n, const void *row)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; i < n; i++) {
		const char *s = cols[i].kind == COLUMN_TEXT ? column_text(&cols[i], row) : NULL;
		double v = cols[i].kind == COLUMN_TEXT ? NAN : column_number(&cols[i], row);
		cJSON_AddItemToObject(o, cols[i].name,
				      s ? cJSON_CreateString(s)
					: isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v));
	}
	return o;
}

static void row_csv(struct buf *b, const struct column *cols, size_t n, const void *row)
{
	for (size_t i = 0; i < n; i++) {
		if (cols[i].kind == COLUMN_TEXT) {
			csv_text(b, column_text(&cols[i], row), i == 0);
		} else {
			double v = column_number(&cols[i], row);
			csv_number(b, !isnan(v), v, i == 0);
		}
	}
	buf_puts(b, "\r\n");
}

static void header_csv(struct buf *b, const struct column *cols, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		buf_puts(b, i ? "," : "");
		buf_puts(b, cols[i].name);
	}
	buf_puts(b, "\r\n");
}

/* ---- GET /api/v1/pipeline-runs ---- */

struct runs_out {
	cJSON *runs, *pipelines; /* JSON mode */
	struct buf csv;          /* CSV mode */
	bool csv_mode;
	long listed, total; /* runs listed; runs in the window (the summaries' sum) */
};

static void take_run(void *arg, const struct pipeline_store_run *r)
{
	struct runs_out *out = arg;

	out->listed++;
	if (out->csv_mode)
		row_csv(&out->csv, run_columns, NCOLUMNS(run_columns), r);
	else
		cJSON_AddItemToArray(out->runs, row_json(run_columns, NCOLUMNS(run_columns), r));
}

static void take_summary(void *arg, const struct pipeline_store_summary *s)
{
	struct runs_out *out = arg;

	out->total += s->runs;
	cJSON_AddItemToArray(out->pipelines,
			     row_json(summary_columns, NCOLUMNS(summary_columns), s));
}

static enum status parse_limit(const struct query *q, int *limit, struct err *err)
{
	const char *v = query_get(q, "limit");
	char *end = NULL;
	long n = v ? strtol(v, &end, 10) : PIPELINES_DEFAULT_LIMIT;

	if (v && (v[0] < '0' || v[0] > '9' || *end || n < 1 || n > PIPELINE_STORE_MAX_RUNS))
		return err_set(err, ST_INVALID, "parameter \"limit\" must be a whole number from 1 "
			       "to %d", PIPELINE_STORE_MAX_RUNS);
	*limit = (int)n;
	return ST_OK;
}

/* All the list's parameters into `p` (window, format) and `f` (which points into `p` and
 * `names`). Errors: ST_INVALID naming the parameter, in req->err. */
static enum status list_params(struct request *req, struct dora_params *p, struct buf *names,
			       struct pipeline_store_filter *f)
{
	static const char *const allowed[] = {"from", "to", "format", "limit", "pipeline", NULL};
	enum status st = dora_params_parse(req, allowed, p);

	if (st == ST_OK)
		st = parse_limit(&p->q, &f->limit, &req->err);
	dora_params_json_array(&p->q, "pipeline", names);
	f->from = p->from;
	f->to = p->to;
	f->pipelines = names->len ? buf_cstr(names) : NULL;
	return st;
}

/* The reply to a loaded list: CSV, or the JSON tree (which it takes). */
static int reply_runs(struct request *req, bool csv, cJSON *root, struct runs_out *out)
{
	if (csv) {
		cJSON_Delete(root);
		return reply_csv(req, &out->csv);
	}
	cJSON_AddBoolToObject(root, "truncated", out->total > out->listed);
	return reply_cjson(req, root);
}

int api_pipeline_runs(struct request *req)
{
	struct dora_params p = {0};
	struct buf names = BUF_INIT(0);
	struct pipeline_store_filter f = {0};
	struct runs_out out = {.csv = BUF_INIT(0)};
	struct db_conn *conn = NULL;
	cJSON *root = cJSON_CreateObject();
	int status;

	if (list_params(req, &p, &names, &f) != ST_OK ||
	    !(conn = db_acquire(req->app->pool, 1000, &req->err))) {
		status = reply_problem(req, &req->err, -1);
		goto out;
	}
	out.csv_mode = p.csv;
	dora_params_describe(&p, req->app->tiers, root); /* the window, as the other lists */
	cJSON_DeleteItemFromObjectCaseSensitive(root, "filters");
	cJSON_DeleteItemFromObjectCaseSensitive(root, "report");
	out.runs = cJSON_AddArrayToObject(root, "runs");
	out.pipelines = cJSON_AddArrayToObject(root, "pipelines");
	header_csv(&out.csv, run_columns, NCOLUMNS(run_columns));
	enum status st = pipeline_store_window(conn, &f, take_run, p.csv ? NULL : take_summary,
					       &out, &req->err);
	db_release(req->app->pool, conn); /* before writing: the reply may be slow to send */
	conn = NULL;
	if (st != ST_OK) {
		status = reply_problem(req, &req->err, -1);
		goto out;
	}
	status = reply_runs(req, p.csv, root, &out);
	root = NULL;
out:
	db_release(req->app->pool, conn);
	cJSON_Delete(root);
	buf_release(&out.csv);
	buf_release(&names);
	dora_params_release(&p);
	return status;
}

/* ---- GET /api/v1/pipeline-runs/run ---- */

struct detail {
	cJSON *root, *task_runs;
};

static void take_detail_run(void *arg, const struct pipeline_store_run *r)
{
	struct detail *d = arg;

	cJSON_AddItemToObject(d->root, "run", row_json(run_columns, NCOLUMNS(run_columns), r));
	d->task_runs = cJSON_AddArrayToObject(d->root, "task_runs");
}

static void take_task_run(void *arg, const struct pipeline_store_task_run *t)
{
	struct detail *d = arg;

	cJSON_AddItemToArray(d->task_runs,
			     row_json(task_run_columns, NCOLUMNS(task_run_columns), t));
}

/* Both id and source are required. Errors: ST_INVALID naming the missing one. */
static enum status run_selector(const struct query *q, const char **id, const char **source,
				struct err *err)
{
	*id = query_get(q, "id");
	*source = query_get(q, "source");
	if (*id && *source)
		return ST_OK;
	err_set(err, ST_INVALID, "missing parameter \"%s\"", *id ? "source" : "id");
	err_detail(err, "Give the id and the source of a run as GET /api/v1/pipeline-runs "
			"lists them.");
	return ST_INVALID;
}

static int reply_not_found(struct request *req, const char *id, const char *source)
{
	char shown_id[QUERY_QUOTE_MAX], shown_source[QUERY_QUOTE_MAX];

	err_set(&req->err, ST_NOT_FOUND, "no pipeline run \"%s\" from source \"%s\" has been seen",
		query_quote_name(id, shown_id), query_quote_name(source, shown_source));
	return reply_problem(req, &req->err, -1);
}

int api_pipeline_run(struct request *req)
{
	static const char *const allowed[] = {"id", "source", NULL};
	struct dora_params p = {0};
	struct detail d = {.root = cJSON_CreateObject()};
	struct db_conn *conn = NULL;
	const char *id = NULL, *source = NULL;
	int status;

	if (dora_params_parse(req, allowed, &p) != ST_OK ||
	    run_selector(&p.q, &id, &source, &req->err) != ST_OK ||
	    !(conn = db_acquire(req->app->pool, 1000, &req->err))) {
		status = reply_problem(req, &req->err, -1);
		goto out;
	}
	enum status st = pipeline_store_run(conn, id, source, take_detail_run, take_task_run, &d,
					    &req->err);
	db_release(req->app->pool, conn);
	conn = NULL;
	if (st == ST_NOT_FOUND) {
		status = reply_not_found(req, id, source);
	} else if (st != ST_OK) {
		status = reply_problem(req, &req->err, -1);
	} else {
		status = reply_cjson(req, d.root);
		d.root = NULL;
	}
out:
	db_release(req->app->pool, conn);
	cJSON_Delete(d.root);
	dora_params_release(&p);
	return status;
}
