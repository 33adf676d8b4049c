/*
 * web/api_health.c: GET /healthz (the process answers) and GET /readyz (the database is
 * reachable and migrated to the version this binary expects). Load balancers and the test
 * scripts poll /readyz before sending traffic.
 */
#include <stdio.h>
#include <string.h>

#include "correlate/correlator.h"
#include "ingest/committer.h"
#include "sql/correlate_store.h"
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
	struct correlator_stats cs;
	char body[512];
	int version = 0;

	if (!conn)
		return reply_problem(req, &req->err, -1);
	int64_t pending = 0;
	double lag_s = 0;
	enum status st = migrate_current(conn, &version, &req->err);
	if (st == ST_OK && version == migrate_latest())
		st = correlate_store_pending(conn, &pending, &lag_s, &req->err);
	db_release(req->app->pool, conn);
	if (st != ST_OK)
		return reply_problem(req, &req->err, -1);
	if (version != migrate_latest()) {
		err_set(&req->err, ST_UNAVAILABLE, "database schema is at version %d, expected %d",
			version, migrate_latest());
		return reply_problem(req, &req->err, -1);
	}
	committer_stats(req->app->committer, &stats);
	correlator_stats(req->app->correlator, &cs); /* NULL (correlation off): zeroes */
	int n = snprintf(body, sizeof body,
			 "{\"status\":\"ready\",\"schema_version\":%d,\"queued_events\":%zu,"
			 "\"correlation\":{\"pending_events\":%lld,\"lag_seconds\":%.3f,"
			 "\"correlated_events\":%llu,\"failed_batches\":%llu}}",
			 version, stats.queued_events, (long long)pending, lag_s,
			 (unsigned long long)cs.events, (unsigned long long)cs.failed_batches);
	return reply_json(req, 200, body, (size_t)n);
}
