#ifndef WEB_API_DORA_H
#define WEB_API_DORA_H
/*
 * What web/api_dora.c offers besides its route handlers (handlers.h): the per-service DORA
 * figures, for GET /metrics (web/api_metrics.c).
 */
#include <stdint.h>

#include "core/err.h"

struct request;
struct db_conn;
struct dora_figures;

/* Called once per service; `service` and `f` are borrowed for the call. */
typedef void (*api_dora_service_fn)(void *arg, const char *service, const struct dora_figures *f);

/*
 * The figures GET /api/v1/dora/services?from=F&to=T (no other parameter: every production
 * environment, every service) computes for the window [from_us, to_us), by the same code:
 * fn(arg, service, figures) for each service with a production deployment in the window, in
 * name order. The production environments follow req->app->production.
 * Ownership: borrows req and conn (a connection the caller acquired).
 * Errors: the database's (ST_UNAVAILABLE, ST_INTERNAL), in req->err.
 * Threads: per request.
 */
enum status api_dora_services_figures(struct request *req, struct db_conn *conn,
				      int64_t from_us, int64_t to_us, api_dora_service_fn fn,
				      void *arg);

#endif
