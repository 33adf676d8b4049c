/*
 * web/routes.c: the route table and dispatcher.
 * When you add an endpoint: add a row here, its handler to handlers.h, and document it in
 * docs/API.md and web/openapi.json (tests/web/test_openapi_http.c checks that every row of
 * this table is in the OpenAPI document, reading the rows from this file: keep one
 * {"METHOD", "/path", handler} per line).
 * Every request is counted in app->http (web/http_stats.h) by the row it matched.
 * Access: each row says who may call it (enum route_access); a new read endpoint is ROUTE_READ.
 */
#include "web/routes.h"

#include <civetweb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "web/app.h"
#include "web/handlers.h"
#include "web/http_stats.h"
#include "web/request.h"

/* Who may call a route: ingest checks its token itself (before reading the body), probes
 * are open, everything else (and every page and asset) needs a read token when
 * --read-tokens is set (request_authenticate()). */
enum route_access { ROUTE_INGEST, ROUTE_OPEN, ROUTE_READ };

struct route {
	const char *method, *path;
	int (*handler)(struct request *req);
	enum route_access access;
};

static const struct route routes[] = {
	{"POST", "/api/v1/events", api_events_post, ROUTE_INGEST},
	{"POST", "/", api_events_post, ROUTE_INGEST}, /* Knative-style sinks post to the root */
	{"GET", "/healthz", api_healthz, ROUTE_OPEN},
	{"GET", "/readyz", api_readyz, ROUTE_OPEN},
	{"GET", "/api/v1/dora", api_dora, ROUTE_READ},
	{"GET", "/api/v1/dora/services", api_dora_services, ROUTE_READ},
	{"GET", "/api/v1/deployments", api_deployments, ROUTE_READ},
	{"GET", "/api/v1/changes", api_changes, ROUTE_READ},
	{"GET", "/api/v1/incidents", api_incidents, ROUTE_READ},
	{"GET", "/api/v1/trace", api_trace, ROUTE_READ},
	{"GET", "/api/v1/pipeline-runs", api_pipeline_runs, ROUTE_READ},
	{"GET", "/api/v1/pipeline-runs/run", api_pipeline_run, ROUTE_READ},
	{"GET", "/metrics", api_metrics, ROUTE_READ},
	{"GET", "/api/v1/openapi.json", api_openapi, ROUTE_READ},
};

#define NROUTES (sizeof routes / sizeof routes[0])
_Static_assert(NROUTES < HTTP_STATS_ROUTES, "raise HTTP_STATS_ROUTES: one slot per route + other");

size_t routes_count(void)
{
	return NROUTES;
}

const char *routes_method(size_t i)
{
	return routes[i].method;
}

const char *routes_path(size_t i)
{
	return routes[i].path;
}

static void request_id(char out[17])
{
	static atomic_uint_fast64_t counter, epoch; /* epoch: set by the first request */
	uint_fast64_t n = atomic_fetch_add(&counter, 1), zero = 0;

	if (!atomic_load(&epoch))
		atomic_compare_exchange_strong(&epoch, &zero, (uint_fast64_t)clock_now_us());
	snprintf(out, 17, "%08x%08x", (unsigned)(atomic_load(&epoch) & 0xffffffff),
		 (unsigned)(n & 0xffffffff));
}

static bool method_matches(const char *route_method, const char *method)
{
	return strcmp(route_method, method) == 0 ||
	       (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

/* Call `handler` when the request may read (always, with no --read-tokens), else 401. */
static int serve_read(struct request *req, int (*handler)(struct request *req))
{
	const char *reader;

	if (!request_authenticate(req, REQUEST_READ, &reader))
		return reply_problem(req, &req->err, -1);
	return handler(req);
}

/* Serve the request; *slot: the route it matched (for a 405, the first with its path),
 * else HTTP_STATS_OTHER. */
static int route(struct request *req, size_t *slot)
{
	char allow[64] = "";

	*slot = HTTP_STATS_OTHER;
	for (size_t i = 0; i < NROUTES; i++) {
		if (strcmp(routes[i].path, req->path) != 0)
			continue;
		if (*slot == HTTP_STATS_OTHER)
			*slot = i;
		if (method_matches(routes[i].method, req->method)) {
			*slot = i;
			if (routes[i].access == ROUTE_READ)
				return serve_read(req, routes[i].handler);
			return routes[i].handler(req);
		}
		if (strlen(allow) + strlen(routes[i].method) + 3 < sizeof allow)
			snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s",
				 allow[0] ? ", " : "", routes[i].method);
	}
	/* the dashboard pages and their assets (web/pages.c): GET / is a page, POST / ingest */
	if (pages_has(req->path)) {
		if (method_matches("GET", req->method)) {
			*slot = HTTP_STATS_OTHER;
			return serve_read(req, pages_serve);
		}
		snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%sGET, HEAD",
			 allow[0] ? ", " : "");
	}
	if (allow[0])
		return reply_not_allowed(req, allow);
	err_set(&req->err, ST_NOT_FOUND, "no resource at %s", req->path);
	return reply_problem(req, &req->err, -1);
}

int routes_dispatch(struct mg_connection *conn, void *cbdata)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct app *app = cbdata;
	struct request req = {.conn = conn, .app = app, .body = BUF_INIT(0)};
	size_t slot;

	req.start_us = clock_mono_us();
	request_id(req.id);
	req.method = ri->request_method;
	req.path = ri->local_uri ? ri->local_uri : ri->request_uri;
	req.query = ri->query_string;
	int status;
	/* a malformed request (ambiguous length, no Host) is refused before any handler */
	if (request_well_formed(&req)) {
		status = route(&req, &slot);
	} else {
		slot = HTTP_STATS_OTHER;
		status = reply_problem(&req, &req.err, -1);
	}
	int64_t us = clock_mono_us() - req.start_us;
	http_stats_record(&app->http, slot, req.method, status, us);
	if (status >= 400)
		log_info("req=%s %s %s status=%d us=%lld peer=%s msg=\"%s\" detail=\"%s\"", req.id,
			 req.method, req.path, status, (long long)us, ri->remote_addr, req.err.msg,
			 req.err.detail);
	else
		log_debug("req=%s %s %s status=%d us=%lld", req.id, req.method, req.path, status,
			  (long long)us);
	buf_release(&req.body);
	return status;
}
