/*
 * web/api_health.c: GET /healthz (the process answers) and GET /readyz (the database is
 * reachable and migrated to the version this binary expects). Load balancers and the test
 * scripts poll /readyz before sending traffic.
 */
#include <stdio.h>
#include <string.h>

#include "ingest/committer.h"
#include "sql/db.h"
#include "sql/migrate.h"
#include "web/app.h"
#include "web/handlers.h"
#include "web/request.h"

int api_healthz(struct request *req)
{
	static const char body[] = "{\"status\":\"ok\"}";

	return reply_json(req, 200, body, sizeof body - 1);
}

int api_readyz(struct request *req)
{
	struct db_conn *conn = db_acquire(req->app->pool, 1000, &req->err);
	struct committer_stats stats;
	char body[256];
	int version = 0;

	if (!conn)
		return reply_problem(req, &req->err, -1);
	enum status st = migrate_current(conn, &version, &req->err);
	db_release(req->app->pool, conn);
	if (st != ST_OK)
		return reply_problem(req, &req->err, -1);
	if (version != migrate_latest()) {
		err_set(&req->err, ST_UNAVAILABLE, "database schema is at version %d, expected %d",
			version, migrate_latest());
		return reply_problem(req, &req->err, -1);
	}
	committer_stats(req->app->committer, &stats);
	int n = snprintf(body, sizeof body,
			 "{\"status\":\"ready\",\"schema_version\":%d,\"queued_events\":%zu}",
			 version, stats.queued_events);
	return reply_json(req, 200, body, (size_t)n);
}
