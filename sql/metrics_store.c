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

/* Per production deployment in the window, with its precomputed facts (deployment_facts,
 * kept by the correlator: the next deployment of S in E, failure, restoration, rework). */
enum status metrics_store_deployments(struct db_conn *conn, const struct metrics_filter *f,
				      bool with_changes, metrics_store_deployment_fn fn,
				      void *arg, struct err *err)
{
	static const char sql[] =
		"SELECT d.key, d.ev_source, d.ev_id, d.service, d.environment, d.kind, d.artifact,"
		"  " US("d.at") ", f.next, f.next_kind, " US("f.next_at") ", f.incidents,"
		"  " US("f.restored_at") ", f.rework_incident, f.failed,"
		"  CASE WHEN $5 THEN (SELECT coalesce(jsonb_agg(jsonb_build_object("
		"    'repository', dc.change::jsonb ->> 0, 'id', dc.change::jsonb ->> 1,"
		"    'rule', dc.rule) ORDER BY dc.direct DESC, dc.change, dc.rule), '[]')"
		"   FROM deployment_changes dc WHERE dc.deployment = d.key) END"
		" FROM deployments d JOIN deployment_facts f ON f.deployment = d.key"
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

/* A change's first production deployment among the filtered ones; the change counts if that
 * falls in the window. change_deployments holds each change's first deployment per S in E, so
 * this reads the window's rows and checks that the change had none before the window. */
enum status metrics_store_changes(struct db_conn *conn, const struct metrics_filter *f,
				  bool details, metrics_store_change_fn fn, void *arg,
				  struct err *err)
{
	static const char sql[] =
		"WITH w AS (SELECT DISTINCT ON (cd.change) cd.* FROM change_deployments cd"
		"  WHERE cd.first_at >= $1::timestamptz AND cd.first_at < $2::timestamptz"
		"   AND cd.change_first_at IS NOT NULL"
		"   AND " IN_ENVS("cd.environment") " AND " IN_SERVICES("cd.service")
		"  ORDER BY cd.change, cd.first_at, cd.deployment)"
		" SELECT w.change, CASE WHEN $5 THEN w.change::jsonb ->> 0 END,"
		"  CASE WHEN $5 THEN w.change::jsonb ->> 1 END, w.deployment,"
		"  CASE WHEN $5 THEN w.deployment::jsonb ->> 0 END,"
		"  CASE WHEN $5 THEN w.deployment::jsonb ->> 1 END, w.service, w.environment,"
		"  w.rule, " US("w.change_first_at") ", " US("w.first_at")
		/* the change's earliest filtered row: one probe of (change, first_at) */
		" FROM w WHERE (SELECT o.first_at FROM change_deployments o WHERE o.change = w.change"
		"   AND " IN_ENVS("o.environment") " AND " IN_SERVICES("o.service")
		"  ORDER BY o.first_at LIMIT 1) >= $1::timestamptz"
		" ORDER BY w.first_at, w.change";
	const char *params[] = {f->from, f->to, f->environments, f->services,
				details ? "true" : "false"};
	PGresult *res = db_query_prepared(conn, sql, 5, params, PGRES_TUPLES_OK,
					  "load changes at their first production deployment", err);

	if (!res)
		return err->status;
	for (int i = 0; i < PQntuples(res); i++) {
		struct metrics_change_row r = {
			.key = PQgetvalue(res, i, 0), .repository = opt(res, i, 1),
			.id = opt(res, i, 2), .deployment = PQgetvalue(res, i, 3),
			.ev_source = opt(res, i, 4), .ev_id = opt(res, i, 5),
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
