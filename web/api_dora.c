/*
 * web/api_dora.c: GET /api/v1/dora, /api/v1/dora/services and the drill-down lists
 * /api/v1/deployments, /api/v1/changes, /api/v1/incidents (docs/API.md, docs/METRICS.md).
 *
 * Every figure is computed (metrics/dora.c) from exactly the rows the drill-down lists
 * return for the same parameters, so a number can always be re-counted from its list.
 * Parameters shared by all five: from, to (RFC 3339; default the 30 days up to now), service
 * and environment (repeatable), format=csv (or Accept: text/csv) for the lists.
 * GET /metrics exports the /dora/services figures of the last 30 days through
 * api_dora_services_figures() (api_dora.h), the same code path as the endpoint.
 * When you add a parameter or a member: change docs/API.md and web/openapi.json too.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/xalloc.h"
#include "metrics/dora.h"
#include "metrics/production.h"
#include "metrics/tiers.h"
#include "sql/db.h"
#include "sql/metrics_store.h"
#include "web/api_dora.h"
#include "web/api_dora_params.h"
#include "web/app.h"
#include "web/handlers.h"
#include "web/request.h"

/* ---- figures as JSON ---- */

static void add_number_or_null(cJSON *o, const char *name, bool present, double v)
{
	if (present)
		cJSON_AddNumberToObject(o, name, v);
	else
		cJSON_AddNullToObject(o, name);
}

static void add_tier(cJSON *o, const struct dora_tiers *t, int year, enum tiers_metric m,
		     bool present, double v)
{
	const char *tier = present ? tiers_classify(t, year, m, v) : NULL;

	if (tier)
		cJSON_AddStringToObject(o, "tier", tier);
	else
		cJSON_AddNullToObject(o, "tier");
}

static void add_stats(cJSON *o, const struct dora_stats *s)
{
	add_number_or_null(o, "mean_seconds", s->count, s->mean);
	add_number_or_null(o, "median_seconds", s->count, s->p50);
	add_number_or_null(o, "p75_seconds", s->count, s->p75);
	add_number_or_null(o, "p90_seconds", s->count, s->p90);
}

static void add_figures(cJSON *root, const struct dora_figures *f, const struct dora_tiers *t,
			int year)
{
	cJSON *o = cJSON_AddObjectToObject(root, "deployment_frequency");
	cJSON_AddNumberToObject(o, "deployments", (double)f->deployments);
	cJSON_AddNumberToObject(o, "per_day", f->per_day);
	add_tier(o, t, year, TIERS_DEPLOYMENT_FREQUENCY, f->deployments, f->per_day);

	o = cJSON_AddObjectToObject(root, "lead_time");
	cJSON_AddNumberToObject(o, "changes", (double)f->changes);
	add_stats(o, &f->lead);
	add_tier(o, t, year, TIERS_LEAD_TIME, f->lead.count, f->lead.p50);

	double cfr = f->deployments ? (double)f->failed / (double)f->deployments : 0;
	o = cJSON_AddObjectToObject(root, "change_failure_rate");
	cJSON_AddNumberToObject(o, "deployments", (double)f->deployments);
	cJSON_AddNumberToObject(o, "failed", (double)f->failed);
	add_number_or_null(o, "rate", f->deployments, cfr);
	add_tier(o, t, year, TIERS_CHANGE_FAILURE_RATE, f->deployments, cfr);

	o = cJSON_AddObjectToObject(root, "recovery_time");
	cJSON_AddNumberToObject(o, "recoveries", (double)f->recoveries);
	cJSON_AddNumberToObject(o, "open", (double)f->open);
	add_stats(o, &f->recovery);
	add_tier(o, t, year, TIERS_RECOVERY_TIME, f->recovery.count, f->recovery.p50);

	o = cJSON_AddObjectToObject(root, "rework_rate");
	cJSON_AddNumberToObject(o, "deployments", (double)f->deployments);
	cJSON_AddNumberToObject(o, "rework", (double)f->rework);
	add_number_or_null(o, "rate", f->deployments,
			   f->deployments ? (double)f->rework / (double)f->deployments : 0);
}

static void add_time(cJSON *o, const char *name, int64_t us)
{
	char ts[28];

	clock_format_rfc3339(us, ts);
	cJSON_AddStringToObject(o, name, ts);
}

static cJSON *bucket_json(const struct dora_figures *f, int64_t start, int64_t end)
{
	cJSON *b = cJSON_CreateObject();

	add_time(b, "start", start);
	add_time(b, "end", end);
	cJSON_AddNumberToObject(b, "deployments", (double)f->deployments);
	cJSON_AddNumberToObject(b, "per_day", f->per_day);
	cJSON_AddNumberToObject(b, "changes", (double)f->changes);
	add_number_or_null(b, "lead_time_median_seconds", f->lead.count, f->lead.p50);
	add_number_or_null(b, "lead_time_p90_seconds", f->lead.count, f->lead.p90);
	cJSON_AddNumberToObject(b, "failed", (double)f->failed);
	add_number_or_null(b, "change_failure_rate", f->deployments,
			   f->deployments ? (double)f->failed / (double)f->deployments : 0);
	cJSON_AddNumberToObject(b, "recoveries", (double)f->recoveries);
	cJSON_AddNumberToObject(b, "open", (double)f->open);
	add_number_or_null(b, "recovery_median_seconds", f->recovery.count, f->recovery.p50);
	cJSON_AddNumberToObject(b, "rework", (double)f->rework);
	add_number_or_null(b, "rework_rate", f->deployments,
			   f->deployments ? (double)f->rework / (double)f->deployments : 0);
	return b;
}

/* ---- rows -> arrays ---- */

struct rows {
	struct dora_deployment *deps;
	char **dep_service;
	size_t ndeps, cap_deps, cap_service;
	struct dora_change *changes;
	size_t nchanges, cap_changes;
};

static void take_deployment(void *arg, const struct metrics_deployment_row *r)
{
	struct rows *rows = arg;

	rows->deps = xgrow(rows->deps, rows->ndeps, &rows->cap_deps, sizeof *rows->deps);
	rows->dep_service = xgrow(rows->dep_service, rows->ndeps, &rows->cap_service,
				  sizeof *rows->dep_service);
	rows->deps[rows->ndeps] = (struct dora_deployment){r->at_us, r->failed, r->restored,
							   r->rework, r->restored_us};
	rows->dep_service[rows->ndeps++] = xstrdup(r->service);
}

static void take_change(void *arg, const struct metrics_change_row *r)
{
	struct rows *rows = arg;

	rows->changes = xgrow(rows->changes, rows->nchanges, &rows->cap_changes,
			      sizeof *rows->changes);
	rows->changes[rows->nchanges++] = (struct dora_change){r->deployed_us, r->first_us};
}

static void rows_release(struct rows *rows)
{
	for (size_t i = 0; i < rows->ndeps; i++)
		free(rows->dep_service[i]);
	free(rows->dep_service);
	free(rows->deps);
	free(rows->changes);
	*rows = (struct rows){0};
}

static enum status load_rows(struct db_conn *conn, const struct metrics_filter *f,
			     struct rows *rows, struct err *err)
{
	enum status st = metrics_store_deployments(conn, f, false, take_deployment, rows, err);

	return st == ST_OK ? metrics_store_changes(conn, f, false, take_change, rows, err) : st;
}

/* ---- GET /api/v1/dora ---- */

static cJSON *dora_json(const struct dora_params *p, const struct rows *rows,
			const struct dora_tiers *tiers)
{
	cJSON *root = cJSON_CreateObject();
	struct dora_figures f;
	int64_t *starts = NULL;

	dora_params_describe(p, tiers, root);
	dora_figures_compute(rows->deps, rows->ndeps, rows->changes, rows->nchanges, p->from_us,
			     p->to_us, &f);
	add_figures(root, &f, tiers, p->year);
	size_t n = dora_buckets(p->from_us, p->to_us, p->bucket, &starts);
	cJSON *buckets = cJSON_AddArrayToObject(root, "buckets");
	for (size_t i = 0; i < n; i++) {
		dora_figures_compute(rows->deps, rows->ndeps, rows->changes, rows->nchanges,
				     starts[i], starts[i + 1], &f);
		cJSON_AddItemToArray(buckets, bucket_json(&f, starts[i], starts[i + 1]));
	}
	free(starts);
	return root;
}

int api_dora(struct request *req)
{
	static const char *const allowed[] = {"from", "to", "service", "environment", "bucket",
					      "report", NULL};
	struct dora_params p = {0};
	struct rows rows = {0};
	struct db_conn *conn = NULL;
	int status;

	if (dora_params_parse(req, allowed, &p) != ST_OK ||
	    !(conn = db_acquire(req->app->pool, 1000, &req->err)) ||
	    dora_params_environments(req, conn, &p) != ST_OK ||
	    load_rows(conn, &p.filter, &rows, &req->err) != ST_OK) {
		status = reply_problem(req, &req->err, -1);
		goto out;
	}
	db_release(req->app->pool, conn);
	conn = NULL;
	cJSON *root = dora_json(&p, &rows, req->app->tiers);
	status = reply_cjson(req, root);
out:
	db_release(req->app->pool, conn);
	rows_release(&rows);
	dora_params_release(&p);
	return status;
}

/* ---- GET /api/v1/dora/services ---- */

/* Distinct services of the deployment rows, sorted. Every service with a counted change has
 * a deployment in the window: the change's first production deployment of it. */
static size_t distinct_services(const struct rows *rows, const char ***out)
{
	const char **v = xcalloc(rows->ndeps + 1, sizeof *v);
	size_t n = 0;

	for (size_t i = 0; i < rows->ndeps; i++)
		v[n++] = rows->dep_service[i];
	qsort(v, n, sizeof *v, dora_params_cmp_str);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || strcmp(v[k - 1], v[i]) != 0)
			v[k++] = v[i];
	*out = v;
	return k;
}

/* Index of `service` in the sorted `services`; n when absent. */
static size_t service_index(const char *const *services, size_t n, const char *service)
{
	const char **hit = bsearch(&service, services, n, sizeof *services, dora_params_cmp_str);

	return hit ? (size_t)(hit - (const char **)services) : n;
}

/* The changes of /api/v1/dora?service=S for every S at once (metrics_store_service_changes),
 * each tagged with its service's index in the sorted list. */
struct tagged_changes {
	const char *const *services;
	size_t nservices;
	struct dora_change *changes;
	size_t *service, n, cap, cap_service;
};

static void take_tagged_change(void *arg, const struct metrics_change_row *r)
{
	struct tagged_changes *t = arg;
	size_t k = service_index(t->services, t->nservices, r->service);

	if (k == t->nservices)
		return; /* cannot happen (see distinct_services); never count it for a wrong one */
	t->changes = xgrow(t->changes, t->n, &t->cap, sizeof *t->changes);
	t->service = xgrow(t->service, t->n, &t->cap_service, sizeof *t->service);
	t->changes[t->n] = (struct dora_change){r->deployed_us, r->first_us};
	t->service[t->n++] = k;
}

/* fn(arg, service, figures) for each service of `all`, in name order. A change counts for a
 * service at its first production deployment OF THAT SERVICE, as /api/v1/dora?service=S
 * counts it. */
static enum status each_service(struct db_conn *conn, const struct metrics_filter *filter,
				int64_t from_us, int64_t to_us, const struct rows *all,
				api_dora_service_fn fn, void *arg, struct err *err)
{
	const char **services = NULL;
	size_t n = distinct_services(all, &services);
	struct tagged_changes t = {.services = services, .nservices = n};
	enum status st = metrics_store_service_changes(conn, filter, take_tagged_change, &t, err);
	struct dora_deployment *deps = xcalloc(all->ndeps + 1, sizeof *deps);
	struct dora_change *changes = xcalloc(t.n + 1, sizeof *changes);

	for (size_t k = 0; k < n && st == ST_OK; k++) {
		size_t nd = 0, nc = 0;
		struct dora_figures figures;
		for (size_t i = 0; i < all->ndeps; i++)
			if (strcmp(all->dep_service[i], services[k]) == 0)
				deps[nd++] = all->deps[i];
		for (size_t i = 0; i < t.n; i++)
			if (t.service[i] == k)
				changes[nc++] = t.changes[i];
		dora_figures_compute(deps, nd, changes, nc, from_us, to_us, &figures);
		fn(arg, services[k], &figures);
	}
	free(deps);
	free(changes);
	free(t.changes);
	free(t.service);
	free(services);
	return st;
}

struct services_json {
	cJSON *list;
	const struct dora_tiers *tiers;
	int year;
};

static void add_service_json(void *arg, const char *service, const struct dora_figures *f)
{
	struct services_json *sj = arg;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "service", service);
	add_figures(o, f, sj->tiers, sj->year);
	cJSON_AddItemToArray(sj->list, o);
}

enum status api_dora_services_figures(struct request *req, struct db_conn *conn,
				      int64_t from_us, int64_t to_us, api_dora_service_fn fn,
				      void *arg)
{
	struct dora_params p = {.services = BUF_INIT(0), .environments = BUF_INIT(0),
				.from_us = from_us, .to_us = to_us};
	struct rows rows = {0};

	clock_format_rfc3339(from_us, p.from);
	clock_format_rfc3339(to_us, p.to);
	p.filter = (struct metrics_filter){p.from, p.to, "[]", NULL, NULL}; /* as dora_params_parse */
	enum status st = dora_params_environments(req, conn, &p);
	if (st == ST_OK)
		st = metrics_store_deployments(conn, &p.filter, false, take_deployment, &rows,
					       &req->err);
	if (st == ST_OK)
		st = each_service(conn, &p.filter, from_us, to_us, &rows, fn, arg, &req->err);
	rows_release(&rows);
	dora_params_release(&p);
	return st;
}

int api_dora_services(struct request *req)
{
	static const char *const allowed[] = {"from", "to", "service", "environment", "report",
					      "format", NULL};
	struct dora_params p = {0};
	struct rows rows = {0};
	struct db_conn *conn = NULL;
	cJSON *root = cJSON_CreateObject();
	int status;

	if (dora_params_parse(req, allowed, &p) != ST_OK ||
	    !(conn = db_acquire(req->app->pool, 1000, &req->err)) ||
	    dora_params_environments(req, conn, &p) != ST_OK ||
	    metrics_store_deployments(conn, &p.filter, false, take_deployment, &rows,
				      &req->err) != ST_OK) {
		status = reply_problem(req, &req->err, -1);
		goto out;
	}
	dora_params_describe(&p, req->app->tiers, root);
	cJSON *list = cJSON_AddArrayToObject(root, "services");
	struct services_json sj = {list, req->app->tiers, p.year};
	if (each_service(conn, &p.filter, p.from_us, p.to_us, &rows, add_service_json, &sj,
			 &req->err) != ST_OK) {
		status = reply_problem(req, &req->err, -1);
		goto out;
	}
	db_release(req->app->pool, conn);
	conn = NULL;
	if (p.csv) {
		status = reply_services_csv(req, list);
	} else {
		status = reply_cjson(req, root);
		root = NULL; /* reply_cjson took it */
	}
out:
	cJSON_Delete(root);
	db_release(req->app->pool, conn);
	rows_release(&rows);
	dora_params_release(&p);
	return status;
}
