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
#define IN_SERVICES(col) \
	"($4::jsonb IS NULL OR " col " = ANY (ARRAY(SELECT jsonb_array_elements_text($4::jsonb))))"
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

/*
 * Per production deployment D of S in E in the window:
 *   next     the next production deployment of S in E (any time later);
 *   failed   next is a rollback, or an incident attributed to D opened before next;
 *   restored the earliest of that rollback and the resolution of those incidents;
 *   rework   D is a rollback, or an incident attributed to an earlier deployment of S in E
 *            is open at D's time (opened at or before it, not resolved by then).
 */
enum status metrics_store_deployments(struct db_conn *conn, const struct metrics_filter *f,
				      bool with_changes, metrics_store_deployment_fn fn,
				      void *arg, struct err *err)
{
	/* rework is found from the incidents' side: the few incidents open during the window,
	 * each joined to the deployments of its deployment's S in E made while it was open
	 * (probing every deployment for open incidents would cost deployments x incidents) */
	static const char sql[] =
		"WITH rw AS (SELECT DISTINCT ON (d.key) d.key, i.key AS incident"
		"  FROM incidents i JOIN incident_deployments x ON x.incident = i.key"
		"  JOIN deployments e ON e.key = x.deployment"
		"  CROSS JOIN LATERAL (SELECT d.key, d.at, d.ev_source, d.ev_id FROM deployments d"
		"   WHERE d.service = e.service AND d.environment = e.environment"
		"    AND d.at >= greatest(i.opened_at, e.at, $1::timestamptz)"
		"    AND d.at < least(coalesce(i.resolved_at, 'infinity'), $2::timestamptz)"
		"    AND d.kind IN " PRODUCTION_KINDS
		"    AND (d.at, d.ev_source, d.ev_id) > (e.at, e.ev_source, e.ev_id)) d"
		"  WHERE i.opened_at < $2::timestamptz"
		"   AND (i.resolved_at IS NULL OR i.resolved_at > $1::timestamptz)"
		"   AND " IN_ENVS("e.environment")
		"  ORDER BY d.key, i.opened_at, i.key),"
		/* one object {deployment: incident}: a lookup per row instead of a join rescan */
		" rwm AS MATERIALIZED (SELECT coalesce(jsonb_object_agg(key, incident), '{}') AS m FROM rw)"
		" SELECT d.key, d.ev_source, d.ev_id, d.service, d.environment, d.kind, d.artifact,"
		"  " US("d.at") ", n.key, n.kind, " US("n.at") ", fi.keys, " US("fi.resolved") ","
		"  rwm.m ->> d.key,"
		"  CASE WHEN $5 THEN (SELECT coalesce(jsonb_agg(jsonb_build_object("
		"    'repository', dc.change::jsonb ->> 0, 'id', dc.change::jsonb ->> 1,"
		"    'rule', dc.rule) ORDER BY dc.direct DESC, dc.change, dc.rule), '[]')"
		"   FROM deployment_changes dc WHERE dc.deployment = d.key) END"
		" FROM deployments d"
		" LEFT JOIN LATERAL (SELECT n.key, n.kind, n.at FROM deployments n"
		"  WHERE n.service = d.service AND n.environment = d.environment"
		"   AND n.kind IN " PRODUCTION_KINDS " AND n.at >= d.at"
		"   AND (n.at, n.ev_source, n.ev_id) > (d.at, d.ev_source, d.ev_id)"
		"  ORDER BY n.at, n.ev_source, n.ev_id LIMIT 1) n ON true"
		" LEFT JOIN LATERAL (SELECT jsonb_agg(i.key ORDER BY i.opened_at, i.key) AS keys,"
		"   min(i.resolved_at) AS resolved"
		"  FROM incident_deployments x JOIN incidents i ON i.key = x.incident"
		"  WHERE x.deployment = d.key AND (n.at IS NULL OR i.opened_at < n.at)) fi ON true"
		" CROSS JOIN rwm"
		" WHERE d.at >= $1::timestamptz AND d.at < $2::timestamptz"
		"  AND " IN_ENVS("d.environment") " AND " IN_SERVICES("d.service")
		"  AND d.kind IN " PRODUCTION_KINDS
		" ORDER BY d.at, d.ev_source, d.ev_id";
	const char *params[] = {f->from, f->to, f->environments, f->services,
				with_changes ? "true" : "false"};
	PGresult *res = db_query_prepared(conn, sql, 5, params, PGRES_TUPLES_OK,
					  "load production deployments", err);

	if (!res)
		return err->status;
	for (int i = 0; i < PQntuples(res); i++) {
		bool rolled_back = opt(res, i, 9) && strcmp(PQgetvalue(res, i, 9), "rolledback") == 0;
		bool incident = !PQgetisnull(res, i, 11);
		int64_t rb = rolled_back ? us(res, i, 10) : 0, resolved = us(res, i, 12);
		struct metrics_deployment_row r = {
			.key = PQgetvalue(res, i, 0), .ev_source = PQgetvalue(res, i, 1),
			.ev_id = PQgetvalue(res, i, 2), .service = PQgetvalue(res, i, 3),
			.environment = PQgetvalue(res, i, 4), .kind = PQgetvalue(res, i, 5),
			.artifact = opt(res, i, 6), .at_us = us(res, i, 7),
			.next_us = us(res, i, 10),
			.failed = rolled_back || incident,
			.rolled_back_by = rolled_back ? PQgetvalue(res, i, 8) : NULL,
			.incidents = incident ? PQgetvalue(res, i, 11) : NULL,
			.restored = rb || (incident && !PQgetisnull(res, i, 12)),
			.rework_incident = opt(res, i, 13),
			.changes = opt(res, i, 14),
		};
		r.restored_us = rb && (!resolved || rb < resolved) ? rb : resolved;
		r.rework = strcmp(r.kind, "rolledback") == 0 || r.rework_incident;
		fn(arg, &r);
	}
	PQclear(res);
	return ST_OK;
}

/* A change's first production deployment among the filtered ones; the change counts if that
 * falls in the window. The best-ranked rule that linked it is reported. */
enum status metrics_store_changes(struct db_conn *conn, const struct metrics_filter *f,
				  metrics_store_change_fn fn, void *arg, struct err *err)
{
	static const char sql[] =
		"WITH f AS (SELECT DISTINCT ON (dc.change) dc.change, d.key, d.ev_source, d.ev_id,"
		"   d.service, d.environment, d.at, dc.rule"
		"  FROM deployments d JOIN deployment_changes dc ON dc.deployment = d.key"
		"  WHERE " IN_ENVS("d.environment") " AND " IN_SERVICES("d.service")
		"   AND d.kind IN " PRODUCTION_KINDS " AND d.at < $2::timestamptz"
		"  ORDER BY dc.change, d.at, d.ev_source, d.ev_id, cdlens_rule_rank(dc.rule))"
		" SELECT c.key, c.repo, c.id, f.key, f.ev_source, f.ev_id, f.service, f.environment,"
		"  f.rule, " US("c.first_at") ", " US("f.at")
		" FROM f JOIN changes c ON c.key = f.change"
		" WHERE f.at >= $1::timestamptz"
		" ORDER BY f.at, c.key";
	const char *params[] = {f->from, f->to, f->environments, f->services};
	PGresult *res = db_query_prepared(conn, sql, 4, params, PGRES_TUPLES_OK,
					  "load changes at their first production deployment", err);

	if (!res)
		return err->status;
	for (int i = 0; i < PQntuples(res); i++) {
		struct metrics_change_row r = {
			.key = PQgetvalue(res, i, 0), .repository = PQgetvalue(res, i, 1),
			.id = PQgetvalue(res, i, 2), .deployment = PQgetvalue(res, i, 3),
			.ev_source = PQgetvalue(res, i, 4), .ev_id = PQgetvalue(res, i, 5),
			.service = PQgetvalue(res, i, 6), .environment = PQgetvalue(res, i, 7),
			.rule = PQgetvalue(res, i, 8), .first_us = us(res, i, 9),
			.deployed_us = us(res, i, 10),
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
