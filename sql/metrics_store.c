/*
 * sql/metrics_store.c: the row queries behind the DORA figures (see metrics_store.h and
 * docs/METRICS.md for the definitions they implement).
 *
 * Each statement reads the linked model through its indexes: deployments by (environment,
 * at) and (service, environment, at), deployment_changes by change, incidents by
 * (environment, opened_at). Nothing here scans `events`.
 * "The next production deployment of S in E" is always the next in (at, source, id) order,
 * the same total order the correlator uses, so ties never depend on storage order.
 * When you change a definition: change docs/METRICS.md, this file and
 * tests/web/test_dora_http.c together.
 */
#include "sql/metrics_store.h"

#include <stdlib.h>
#include <string.h>

#include "sql/db_internal.h"

#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"
#define IN_ENVS(col) col " = ANY (ARRAY(SELECT jsonb_array_elements_text($3::jsonb)))"
/* col is among the services of JSON array parameter n, or n is NULL (all services) */
#define IN_SERVICES_AT(col, n)                                                         \
	"(" n "::jsonb IS NULL OR " col " = ANY (ARRAY(SELECT jsonb_array_elements_text(" n \
	"::jsonb))))"
#define IN_SERVICES(col) IN_SERVICES_AT(col, "$4")
#define PRODUCTION_KINDS "('deployed', 'upgraded', 'rolledback')"

static const char *opt(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static int64_t us(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

enum status metrics_store_environments(struct db_conn *conn, metrics_store_env_fn fn, void *arg,
				       struct err *err)
{
	/* a loose index scan: one probe per distinct environment, not one row per deployment */
	static const char sql[] =
		"WITH RECURSIVE e AS ("
		"  (SELECT environment FROM deployments ORDER BY environment LIMIT 1)"
		"  UNION ALL SELECT (SELECT d.environment FROM deployments d"
		"   WHERE d.environment > e.environment ORDER BY d.environment LIMIT 1)"
		"  FROM e WHERE e.environment IS NOT NULL)"
		" SELECT e.environment, v.name FROM e LEFT JOIN environments v ON v.key = e.environment"
		" WHERE e.environment IS NOT NULL ORDER BY 1";
	PGresult *res = db_query_prepared(conn, sql, 0, NULL, PGRES_TUPLES_OK,
					  "list environments", err);

	if (!res)
		return err->status;
	for (int i = 0; i < PQntuples(res); i++)
		fn(arg, PQgetvalue(res, i, 0), opt(res, i, 1));
	PQclear(res);
	return ST_OK;
}

/* Per production deployment in the window, with its precomputed facts (deployment_facts,
 * kept by the correlator: the deployment's own columns, the next deployment of S in E,
 * failure, restoration, rework). Filters read deployment_facts' copy of the deployment's
 * columns, so the figures' narrow query and the list's detailed one select the same rows. */
#define DEPLOYMENTS_WHERE                                                              \
	" WHERE f.at >= $1::timestamptz AND f.at < $2::timestamptz"                     \
	"  AND " IN_ENVS("f.environment") " AND " IN_SERVICES("f.service")              \
	"  AND f.kind IN " PRODUCTION_KINDS

static enum status deployment_figures(struct db_conn *conn, const struct metrics_filter *f,
				      metrics_store_deployment_fn fn, void *arg,
				      struct err *err)
{
	/* one range of deployment_facts_env_at per environment; binary: no time formatting */
	static const char sql[] =
		"SELECT f.service, f.at, f.failed, f.restored_at,"
		"  f.kind = 'rolledback' OR f.rework_incident IS NOT NULL"
		" FROM deployment_facts f" DEPLOYMENTS_WHERE;
	const char *params[] = {f->from, f->to, f->environments, f->services};
	PGresult *res = db_query_binary(conn, sql, 4, params, "load production deployments",
					err);

	if (!res)
		return err->status;
	for (int i = 0; i < PQntuples(res); i++) {
		struct metrics_deployment_row r = {
			.service = PQgetvalue(res, i, 0), .at_us = db_binary_time_us(res, i, 1),
			.failed = db_binary_bool(res, i, 2), .rework = db_binary_bool(res, i, 4),
		};
		r.restored = r.failed && !PQgetisnull(res, i, 3);
		r.restored_us = db_binary_time_us(res, i, 3);
		fn(arg, &r);
	}
	PQclear(res);
	return ST_OK;
}

enum status metrics_store_deployments(struct db_conn *conn, const struct metrics_filter *f,
				      bool details, metrics_store_deployment_fn fn, void *arg,
				      struct err *err)
{
	static const char sql[] =
		"SELECT d.key, d.ev_source, d.ev_id, f.service, f.environment, f.kind, d.artifact,"
		"  " US("f.at") ", f.next, f.next_kind, " US("f.next_at") ", f.incidents,"
		"  " US("f.restored_at") ", f.rework_incident, f.failed,"
		"  (SELECT coalesce(jsonb_agg(jsonb_build_object("
		"    'repository', dc.change::jsonb ->> 0, 'id', dc.change::jsonb ->> 1,"
		"    'rule', dc.rule) ORDER BY dc.direct DESC, dc.change, dc.rule), '[]')"
		"   FROM deployment_changes dc WHERE dc.deployment = d.key)"
		" FROM deployment_facts f JOIN deployments d ON d.key = f.deployment"
		DEPLOYMENTS_WHERE
		" ORDER BY f.at, d.ev_source, d.ev_id";
	const char *params[] = {f->from, f->to, f->environments, f->services};

	if (!details)
		return deployment_figures(conn, f, fn, arg, err);
	PGresult *res = db_query_prepared(conn, sql, 4, params, PGRES_TUPLES_OK,
					  "load production deployments", err);
	if (!res)
		return err->status;
	for (int i = 0; i < PQntuples(res); i++) {
		bool rolled_back = opt(res, i, 9) && strcmp(PQgetvalue(res, i, 9), "rolledback") == 0;
		struct metrics_deployment_row r = {
			.key = PQgetvalue(res, i, 0), .ev_source = PQgetvalue(res, i, 1),
			.ev_id = PQgetvalue(res, i, 2), .service = PQgetvalue(res, i, 3),
			.environment = PQgetvalue(res, i, 4), .kind = PQgetvalue(res, i, 5),
			.artifact = opt(res, i, 6), .at_us = us(res, i, 7),
			.next_us = us(res, i, 10),
			.rolled_back_by = rolled_back ? PQgetvalue(res, i, 8) : NULL,
			.incidents = opt(res, i, 11),
			.rework_incident = opt(res, i, 13),
			.failed = PQgetvalue(res, i, 14)[0] == 't',
			.changes = opt(res, i, 15),
		};
		r.restored = r.failed && !PQgetisnull(res, i, 12);
		r.restored_us = us(res, i, 12);
		r.rework = strcmp(r.kind, "rolledback") == 0 || r.rework_incident;
		fn(arg, &r);
	}
	PQclear(res);
	return ST_OK;
}

/* ---- changes at their first production deployment ----
 *
 * Two sources with the same answer:
 *   general: change_deployments (each change's first deployment per S in E) for the filtered
 *     environments and services: the window's rows, DISTINCT ON the change, and a probe that
 *     the change had no filtered row before the window;
 *   fast: when the environments are all production ones by the pattern the correlator used
 *     (0005_production_facts.sql), change_production (one row per change, or
 *     change_service_production with a service filter) holds that first deployment already.
 * Every query returns the same columns (binary format); without details the text columns are
 * NULL so the figures' queries stay within their indexes. Ties: the smaller deployment key.
 *
 * With details, each row also carries the ends of its lead-time stages (docs/METRICS.md,
 * "Lead time breakdown"), read by STAGE_JOINS and STAGE_ENDS with one probe per lookup:
 * merged_at by the changes key; the artifacts built from the change by artifacts_change, the
 * builds of each by builds_artifact; the first deployment's time by the first entry of
 * change_deployments_change_at (LIMIT 1). Only for a change without a built artifact of known
 * time: its first deployment (ties: the smaller key) and that deployment's artifact, by keys.
 * Only the change key enters, so both sources give the same ends; change_stages() (C) turns
 * them into stages with the row's own created and production times. */
#define CHANGE_DETAILS(t)                                                                     \
	t ".change, " t ".change::jsonb ->> 0, " t ".change::jsonb ->> 1, " t ".deployment, " t \
	".deployment::jsonb ->> 0, " t ".deployment::jsonb ->> 1, " t ".service, " t          \
	".environment, " t ".rule, " t ".change_first_at, " t ".first_at, " STAGE_ENDS(t)
#define CHANGE_FIGURES(t)                                                                 \
	"NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text," \
	" NULL::text, NULL::text, " t ".change_first_at, " t ".first_at"
/* An artifact became known at the earliest of its packaged, signed and published times and
 * the finish of the first build of it (builds.artifact). BUILT_AT(k): that finish for the
 * artifact key expression k. */
#define BUILT_AT(k) "(SELECT min(b.finished_at) FROM builds b WHERE b.artifact = " k ")"
/* merged; artifact: built from the change, else the one its first deployment deployed
 * (coalesce() evaluates that fallback only when it is needed); first deployment */
#define STAGE_ENDS(t)                                                                        \
	"sc.merged_at, coalesce(sa.at, (SELECT least((SELECT least(x.packaged_at, x.signed_at,"  \
	" x.published_at) FROM artifacts x WHERE x.key = d.artifact), " BUILT_AT("d.artifact") \
	") FROM change_deployments cd JOIN deployments d ON d.key = cd.deployment"              \
	" WHERE cd.change = " t ".change ORDER BY cd.first_at, cd.deployment LIMIT 1)),"        \
	" sf.first_at"
#define STAGE_JOINS(t)                                                                     \
	" LEFT JOIN changes sc ON sc.key = " t ".change"                                       \
	" CROSS JOIN LATERAL (SELECT min(least(a.packaged_at, a.signed_at, a.published_at, "   \
	BUILT_AT("a.key") ")) AS at FROM artifacts a WHERE a.change = " t ".change) sa"        \
	" LEFT JOIN LATERAL (SELECT cd.first_at FROM change_deployments cd"                    \
	"  WHERE cd.change = " t ".change ORDER BY cd.first_at LIMIT 1) sf ON true"
#define IN_WINDOW(t) \
	" " t ".first_at >= $1::timestamptz AND " t ".first_at < $2::timestamptz"
#define FAST_ALL(cols, joins, order)                                                   \
	"SELECT " cols " FROM change_production p" joins " WHERE" IN_WINDOW("p")          \
	"  AND p.change_first_at IS NOT NULL" order
#define FAST_SERVICES(cols, joins, order)                                              \
	"WITH w AS (SELECT DISTINCT ON (s.change) s.* FROM change_service_production s"     \
	"  WHERE" IN_WINDOW("s") " AND s.change_first_at IS NOT NULL"                        \
	"   AND " IN_SERVICES_AT("s.service", "$3")                                          \
	"  ORDER BY s.change, s.first_at, s.deployment)"                                     \
	" SELECT " cols " FROM w" joins " WHERE NOT EXISTS (SELECT 1"                        \
	"  FROM change_service_production o"                                                 \
	"  WHERE o.change = w.change AND " IN_SERVICES_AT("o.service", "$3")                 \
	"   AND o.first_at < $1::timestamptz)" order
#define BY_TIME(t) " ORDER BY " t ".first_at, " t ".change"

/* Whether the fast tables answer for this filter: all production environments, and the
 * correlator used the same pattern as this server. */
static enum status fast_path(struct db_conn *conn, const struct metrics_filter *f, bool *fast,
			     struct err *err)
{
	static const char sql[] =
		"SELECT EXISTS (SELECT 1 FROM production_pattern WHERE pattern = $1)";
	const char *params[] = {f->production};
	PGresult *res;

	*fast = false;
	if (!f->production)
		return ST_OK;
	if (!(res = db_query_prepared(conn, sql, 1, params, PGRES_TUPLES_OK,
				      "read the production pattern", err)))
		return err->status;
	*fast = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return ST_OK;
}

/*
 * The stages of a change row from its ends (columns 11-13: merged, artifact, first
 * deployment; created and production are the row's own times). An end's effective time is
 * its time, no later than production and no earlier than the effective time of the latest
 * known end before it; a stage is the difference of the effective times of its two ends,
 * unknown when either is. So stages are never negative, the known ones never overlap, and
 * when all four are known they add up to the lead time (docs/METRICS.md).
 */
static void change_stages(const PGresult *res, int row, bool details,
			  struct metrics_change_row *r)
{
	int64_t at[METRICS_STAGES + 1] = {r->first_us, 0, 0, 0, r->deployed_us};
	bool known[METRICS_STAGES + 1] = {true, false, false, false, true};
	int64_t floor_us = r->first_us; /* the effective time of the latest known end */

	for (int k = 1; k < METRICS_STAGES; k++) {
		known[k] = details && !PQgetisnull(res, row, 10 + k);
		at[k] = known[k] ? db_binary_time_us(res, row, 10 + k) : 0;
	}
	for (int k = 1; k <= METRICS_STAGES; k++) {
		int64_t prev = floor_us;

		r->stage_us[k - 1] = METRICS_STAGE_UNKNOWN;
		if (!details || !known[k])
			continue;
		floor_us = at[k] < r->deployed_us ? at[k] : r->deployed_us;
		floor_us = floor_us > prev ? floor_us : prev;
		if (known[k - 1])
			r->stage_us[k - 1] = floor_us - prev;
	}
}

enum status metrics_store_changes(struct db_conn *conn, const struct metrics_filter *f,
				  bool details, metrics_store_change_fn fn, void *arg,
				  struct err *err)
{
	static const char general[] =
		"WITH w AS (SELECT DISTINCT ON (cd.change) cd.* FROM change_deployments cd"
		"  WHERE" IN_WINDOW("cd") " AND cd.change_first_at IS NOT NULL"
		"   AND " IN_ENVS("cd.environment") " AND " IN_SERVICES("cd.service")
		"  ORDER BY cd.change, cd.first_at, cd.deployment)"
		" SELECT " CHANGE_DETAILS("w") " FROM w" STAGE_JOINS("w")
		/* the change's earliest filtered row: one probe of (change, first_at) */
		" WHERE (SELECT o.first_at FROM change_deployments o WHERE o.change = w.change"
		"   AND " IN_ENVS("o.environment") " AND " IN_SERVICES("o.service")
		"  ORDER BY o.first_at LIMIT 1) >= $1::timestamptz" BY_TIME("w");
	static const char all_details[] =
		FAST_ALL(CHANGE_DETAILS("p"), STAGE_JOINS("p"), BY_TIME("p"));
	static const char all_figures[] = FAST_ALL(CHANGE_FIGURES("p"), "", "");
	static const char services_details[] =
		FAST_SERVICES(CHANGE_DETAILS("w"), STAGE_JOINS("w"), BY_TIME("w"));
	static const char services_figures[] = FAST_SERVICES(CHANGE_FIGURES("w"), "", "");
	const char *params[] = {f->from, f->to, f->environments, f->services};
	bool fast = false;
	const char *sql = general;
	int nparams = 4;

	if (fast_path(conn, f, &fast, err) != ST_OK)
		return err->status;
	if (fast && !f->services) {
		sql = details ? all_details : all_figures;
		nparams = 2;
	} else if (fast) {
		sql = details ? services_details : services_figures;
		params[2] = f->services; /* $3 in these statements */
		nparams = 3;
	}
	PGresult *res = db_query_binary(conn, sql, nparams, params,
					"load changes at their first production deployment", err);
	if (!res)
		return err->status;
	for (int i = 0; i < PQntuples(res); i++) {
		struct metrics_change_row r = {
			.key = opt(res, i, 0), .repository = opt(res, i, 1), .id = opt(res, i, 2),
			.deployment = opt(res, i, 3), .ev_source = opt(res, i, 4),
			.ev_id = opt(res, i, 5), .service = opt(res, i, 6),
			.environment = opt(res, i, 7), .rule = opt(res, i, 8),
			.first_us = db_binary_time_us(res, i, 9),
			.deployed_us = db_binary_time_us(res, i, 10),
		};
		change_stages(res, i, details, &r);
		fn(arg, &r);
	}
	PQclear(res);
	return ST_OK;
}

enum status metrics_store_service_changes(struct db_conn *conn, const struct metrics_filter *f,
					  metrics_store_change_fn fn, void *arg, struct err *err)
{
	/* a (change, S) row counts for S when the change's first filtered deployment of S is
	 * in the window: change_service_production holds it (fast), or the window's rows of
	 * change_deployments with a probe that (change, S) had none before (general) */
	static const char fast_sql[] =
		"SELECT s.service, s.change_first_at, s.first_at FROM change_service_production s"
		" WHERE" IN_WINDOW("s") " AND s.change_first_at IS NOT NULL"
		"  AND " IN_SERVICES_AT("s.service", "$3");
	static const char general[] =
		"WITH w AS (SELECT DISTINCT ON (cd.change, cd.service) cd.* FROM change_deployments cd"
		"  WHERE" IN_WINDOW("cd") " AND cd.change_first_at IS NOT NULL"
		"   AND " IN_ENVS("cd.environment") " AND " IN_SERVICES("cd.service")
		"  ORDER BY cd.change, cd.service, cd.first_at, cd.deployment)"
		" SELECT w.service, w.change_first_at, w.first_at FROM w"
		" WHERE NOT EXISTS (SELECT 1 FROM change_deployments o WHERE o.change = w.change"
		"  AND o.service = w.service AND " IN_ENVS("o.environment")
		"  AND o.first_at < $1::timestamptz)";
	const char *params[] = {f->from, f->to, f->environments, f->services};
	bool fast = false;

	if (fast_path(conn, f, &fast, err) != ST_OK)
		return err->status;
	if (fast)
		params[2] = f->services;
	PGresult *res = db_query_binary(conn, fast ? fast_sql : general, fast ? 3 : 4, params,
					"load changes at their first production deployment of "
					"each service", err);
	if (!res)
		return err->status;
	for (int i = 0; i < PQntuples(res); i++) {
		struct metrics_change_row r = {
			.service = PQgetvalue(res, i, 0),
			.first_us = db_binary_time_us(res, i, 1),
			.deployed_us = db_binary_time_us(res, i, 2),
		};
		fn(arg, &r);
	}
	PQclear(res);
	return ST_OK;
}

enum status metrics_store_incidents(struct db_conn *conn, const struct metrics_filter *f,
				    metrics_store_incident_fn fn, void *arg, struct err *err)
{
	static const char sql[] =
		"SELECT i.key, i.description, i.environment, i.service, i.artifact, x.deployment,"
		"  d.service, x.rule, " US("i.opened_at") ", " US("i.resolved_at")
		" FROM incidents i"
		" LEFT JOIN incident_deployments x ON x.incident = i.key"
		" LEFT JOIN deployments d ON d.key = x.deployment"
		" WHERE i.opened_at >= $1::timestamptz AND i.opened_at < $2::timestamptz"
		"  AND " IN_ENVS("i.environment")
		"  AND ($4::jsonb IS NULL OR " IN_SERVICES("i.service") " AND i.service IS NOT NULL"
		"   OR " IN_SERVICES("d.service") " AND d.service IS NOT NULL)"
		" ORDER BY i.opened_at, i.key";
	const char *params[] = {f->from, f->to, f->environments, f->services};
	PGresult *res = db_query_prepared(conn, sql, 4, params, PGRES_TUPLES_OK,
					  "load incidents", err);

	if (!res)
		return err->status;
	for (int i = 0; i < PQntuples(res); i++) {
		struct metrics_incident_row r = {
			.key = PQgetvalue(res, i, 0), .description = opt(res, i, 1),
			.environment = opt(res, i, 2), .service = opt(res, i, 3),
			.artifact = opt(res, i, 4), .deployment = opt(res, i, 5),
			.deployment_service = opt(res, i, 6), .rule = opt(res, i, 7),
			.opened_us = us(res, i, 8), .resolved_us = us(res, i, 9),
		};
		fn(arg, &r);
	}
	PQclear(res);
	return ST_OK;
}
