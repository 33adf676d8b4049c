/*
 * web/api_lists.c: the drill-down lists behind the DORA figures, as JSON or CSV:
 *   GET /api/v1/deployments  production deployments, why each failed / is rework, the changes
 *                            it shipped and by which rule;
 *   GET /api/v1/changes      changes at their first production deployment, with lead time
 *                            and its breakdown into four stages;
 *   GET /api/v1/incidents    incidents, with the deployment each is attributed to and why.
 * Same parameters as /api/v1/dora (api_dora_params.h); the rows are those the figures count.
 * When you add a column: add it to both the JSON and the CSV writer, and docs/API.md.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "sql/db.h"
#include "sql/metrics_store.h"
#include "web/api_dora_params.h"
#include "web/app.h"
#include "web/handlers.h"
#include "web/request.h"

struct list {
	cJSON *items;   /* JSON mode */
	struct buf csv; /* CSV mode */
	bool csv_mode;
};

static void time_or_null(cJSON *o, const char *name, bool present, int64_t us)
{
	char ts[28];

	if (!present) {
		cJSON_AddNullToObject(o, name);
		return;
	}
	clock_format_rfc3339(us, ts);
	cJSON_AddStringToObject(o, name, ts);
}

static void csv_time(struct buf *b, bool present, int64_t us, bool first)
{
	char ts[28];

	if (!first)
		buf_putc(b, ',');
	if (present) {
		clock_format_rfc3339(us, ts);
		buf_puts(b, ts);
	}
}

static void string_or_null(cJSON *o, const char *name, const char *s)
{
	if (s)
		cJSON_AddStringToObject(o, name, s);
	else
		cJSON_AddNullToObject(o, name);
}

/* A model key cdlens_key2(source, id) as {"source", "id"}. */
static cJSON *event_ref(const char *key2)
{
	cJSON *a = key2 ? cJSON_Parse(key2) : NULL, *o;

	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 2) {
		cJSON_Delete(a);
		return cJSON_CreateNull();
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "source", cJSON_GetStringValue(cJSON_GetArrayItem(a, 0)));
	cJSON_AddStringToObject(o, "id", cJSON_GetStringValue(cJSON_GetArrayItem(a, 1)));
	cJSON_Delete(a);
	return o;
}

/* ---- deployments ---- */

static void deployment_json(struct list *l, const struct metrics_deployment_row *r)
{
	cJSON *o = cJSON_CreateObject(), *ev = cJSON_AddObjectToObject(o, "event");

	time_or_null(o, "at", true, r->at_us);
	cJSON_AddStringToObject(o, "service", r->service);
	cJSON_AddStringToObject(o, "environment", r->environment);
	cJSON_AddStringToObject(o, "kind", r->kind);
	string_or_null(o, "artifact", r->artifact);
	cJSON_AddStringToObject(ev, "source", r->ev_source);
	cJSON_AddStringToObject(ev, "id", r->ev_id);
	cJSON_AddBoolToObject(o, "failed", r->failed);
	cJSON_AddItemToObject(o, "rolled_back_by", event_ref(r->rolled_back_by));
	cJSON_AddItemToObject(o, "incidents", r->incidents ? cJSON_Parse(r->incidents)
							   : cJSON_CreateArray());
	time_or_null(o, "restored_at", r->failed && r->restored, r->restored_us);
	if (r->failed && r->restored)
		cJSON_AddNumberToObject(o, "recovery_seconds", (double)(r->restored_us - r->at_us) / 1e6);
	else
		cJSON_AddNullToObject(o, "recovery_seconds");
	cJSON_AddBoolToObject(o, "rework", r->rework);
	string_or_null(o, "rework_incident", r->rework_incident);
	cJSON_AddItemToObject(o, "changes", r->changes ? cJSON_Parse(r->changes) : cJSON_CreateArray());
	cJSON_AddItemToArray(l->items, o);
}

/* CSV: list members joined by spaces; changes as repository#id(rule). */
static void csv_joined(struct buf *b, const char *json, bool changes)
{
	struct buf cell = BUF_INIT(0);
	cJSON *a = json ? cJSON_Parse(json) : NULL, *x;

	cJSON_ArrayForEach(x, a) {
		buf_puts(&cell, cell.len ? " " : "");
		if (!changes) {
			buf_puts(&cell, cJSON_GetStringValue(x) ? cJSON_GetStringValue(x) : "");
			continue;
		}
		buf_printf(&cell, "%s#%s(%s)",
			   cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "repository")),
			   cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "id")),
			   cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "rule")));
	}
	csv_text(b, buf_cstr(&cell), false);
	cJSON_Delete(a);
	buf_release(&cell);
}

static void deployment_csv(struct list *l, const struct metrics_deployment_row *r)
{
	struct buf *b = &l->csv;
	cJSON *rb = event_ref(r->rolled_back_by);

	csv_time(b, true, r->at_us, true);
	csv_text(b, r->service, false);
	csv_text(b, r->environment, false);
	csv_text(b, r->kind, false);
	csv_text(b, r->ev_source, false);
	csv_text(b, r->ev_id, false);
	csv_text(b, r->artifact, false);
	csv_text(b, r->failed ? "true" : "false", false);
	csv_text(b, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rb, "id")), false);
	csv_joined(b, r->incidents, false);
	csv_time(b, r->failed && r->restored, r->restored_us, false);
	csv_number(b, r->failed && r->restored, (double)(r->restored_us - r->at_us) / 1e6, false);
	csv_text(b, r->rework ? "true" : "false", false);
	csv_text(b, r->rework_incident, false);
	csv_joined(b, r->changes, true);
	buf_puts(b, "\r\n");
	cJSON_Delete(rb);
}

static void take_deployment(void *arg, const struct metrics_deployment_row *r)
{
	struct list *l = arg;

	if (l->csv_mode)
		deployment_csv(l, r);
	else
		deployment_json(l, r);
}

/* ---- changes ---- */

/* The lead-time breakdown (docs/METRICS.md), in enum metrics_stage order; the CSV columns
 * are these names prefixed with "stage_". */
static const char *const stage_names[METRICS_STAGES] = {
	"created_to_merged_seconds", "merged_to_artifact_seconds",
	"artifact_to_first_deployment_seconds", "first_deployment_to_production_seconds",
};

static void stages_json(cJSON *o, const struct metrics_change_row *r)
{
	cJSON *stages = cJSON_AddObjectToObject(o, "stages");

	for (int k = 0; k < METRICS_STAGES; k++) {
		if (r->stage_us[k] == METRICS_STAGE_UNKNOWN)
			cJSON_AddNullToObject(stages, stage_names[k]);
		else
			cJSON_AddNumberToObject(stages, stage_names[k],
						(double)r->stage_us[k] / 1e6);
	}
}

static void take_change(void *arg, const struct metrics_change_row *r)
{
	struct list *l = arg;
	double lead = dora_lead_seconds(r->first_us, r->deployed_us);

	if (l->csv_mode) {
		struct buf *b = &l->csv;
		csv_text(b, r->repository, true);
		csv_text(b, r->id, false);
		csv_time(b, true, r->first_us, false);
		csv_time(b, true, r->deployed_us, false);
		csv_number(b, true, lead, false);
		csv_text(b, r->service, false);
		csv_text(b, r->environment, false);
		csv_text(b, r->ev_source, false);
		csv_text(b, r->ev_id, false);
		csv_text(b, r->rule, false);
		for (int k = 0; k < METRICS_STAGES; k++)
			csv_number(b, r->stage_us[k] != METRICS_STAGE_UNKNOWN,
				   (double)r->stage_us[k] / 1e6, false);
		buf_puts(b, "\r\n");
		return;
	}
	cJSON *o = cJSON_CreateObject(), *ev;
	cJSON_AddStringToObject(o, "repository", r->repository);
	cJSON_AddStringToObject(o, "id", r->id);
	time_or_null(o, "first_at", true, r->first_us);
	time_or_null(o, "deployed_at", true, r->deployed_us);
	cJSON_AddNumberToObject(o, "lead_time_seconds", lead);
	stages_json(o, r);
	ev = cJSON_AddObjectToObject(o, "deployment");
	cJSON_AddStringToObject(ev, "source", r->ev_source);
	cJSON_AddStringToObject(ev, "id", r->ev_id);
	cJSON_AddStringToObject(ev, "service", r->service);
	cJSON_AddStringToObject(ev, "environment", r->environment);
	cJSON_AddStringToObject(o, "rule", r->rule);
	cJSON_AddItemToArray(l->items, o);
}

/* ---- incidents ---- */

static void take_incident(void *arg, const struct metrics_incident_row *r)
{
	struct list *l = arg;
	cJSON *dep = event_ref(r->deployment);

	if (l->csv_mode) {
		struct buf *b = &l->csv;
		csv_text(b, r->key, true);
		csv_text(b, r->environment, false);
		csv_text(b, r->service, false);
		csv_text(b, r->artifact, false);
		csv_time(b, true, r->opened_us, false);
		csv_time(b, r->resolved_us != 0, r->resolved_us, false);
		csv_text(b, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(dep, "source")), false);
		csv_text(b, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(dep, "id")), false);
		csv_text(b, r->deployment_service, false);
		csv_text(b, r->rule, false);
		csv_text(b, r->description, false);
		buf_puts(b, "\r\n");
		cJSON_Delete(dep);
		return;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", r->key);
	string_or_null(o, "description", r->description);
	string_or_null(o, "environment", r->environment);
	string_or_null(o, "service", r->service);
	string_or_null(o, "artifact", r->artifact);
	time_or_null(o, "opened_at", true, r->opened_us);
	time_or_null(o, "resolved_at", r->resolved_us != 0, r->resolved_us);
	if (cJSON_IsObject(dep))
		cJSON_AddStringToObject(dep, "service", r->deployment_service);
	cJSON_AddItemToObject(o, "deployment", dep);
	string_or_null(o, "rule", r->rule);
	cJSON_AddItemToArray(l->items, o);
}

/* ---- the three handlers ---- */

enum list_kind { LIST_DEPLOYMENTS, LIST_CHANGES, LIST_INCIDENTS };

static const char *const list_names[] = {"deployments", "changes", "incidents"};
static const char *const csv_headers[] = {
	"at,service,environment,kind,event_source,event_id,artifact,failed,rolled_back_by,"
	"incidents,restored_at,recovery_seconds,rework,rework_incident,changes\r\n",
	"repository,id,first_at,deployed_at,lead_time_seconds,service,environment,event_source,"
	"event_id,rule,stage_created_to_merged_seconds,stage_merged_to_artifact_seconds,"
	"stage_artifact_to_first_deployment_seconds,stage_first_deployment_to_production_seconds"
	"\r\n",
	"id,environment,service,artifact,opened_at,resolved_at,deployment_source,deployment_id,"
	"deployment_service,rule,description\r\n",
};

static enum status load_list(struct db_conn *conn, enum list_kind kind,
			     const struct metrics_filter *f, struct list *l, struct err *err)
{
	if (kind == LIST_DEPLOYMENTS)
		return metrics_store_deployments(conn, f, true, take_deployment, l, err);
	if (kind == LIST_CHANGES)
		return metrics_store_changes(conn, f, true, take_change, l, err);
	return metrics_store_incidents(conn, f, take_incident, l, err);
}

static int api_list(struct request *req, enum list_kind kind)
{
	static const char *const allowed[] = {"from", "to", "service", "environment", "format",
					      NULL};
	struct dora_params p = {0};
	struct list l = {.csv = BUF_INIT(0)};
	struct db_conn *conn = NULL;
	cJSON *root = cJSON_CreateObject();
	int status;

	if (dora_params_parse(req, allowed, &p) != ST_OK ||
	    !(conn = db_acquire(req->app->pool, 1000, &req->err)) ||
	    dora_params_environments(req, conn, &p) != ST_OK) {
		status = reply_problem(req, &req->err, -1);
		goto out;
	}
	l.csv_mode = p.csv;
	dora_params_describe(&p, req->app->tiers, root);
	cJSON_DeleteItemFromObjectCaseSensitive(root, "report");
	l.items = cJSON_AddArrayToObject(root, list_names[kind]);
	buf_puts(&l.csv, csv_headers[kind]);
	if (load_list(conn, kind, &p.filter, &l, &req->err) != ST_OK) {
		status = reply_problem(req, &req->err, -1);
		goto out;
	}
	db_release(req->app->pool, conn);
	conn = NULL;
	if (p.csv) {
		status = reply_csv(req, &l.csv);
	} else {
		status = reply_cjson(req, root);
		root = NULL;
	}
out:
	cJSON_Delete(root);
	buf_release(&l.csv);
	db_release(req->app->pool, conn);
	dora_params_release(&p);
	return status;
}

int api_deployments(struct request *req)
{
	return api_list(req, LIST_DEPLOYMENTS);
}

int api_changes(struct request *req)
{
	return api_list(req, LIST_CHANGES);
}

int api_incidents(struct request *req)
{
	return api_list(req, LIST_INCIDENTS);
}
