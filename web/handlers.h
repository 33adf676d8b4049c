#ifndef WEB_HANDLERS_H
#define WEB_HANDLERS_H
#include <stdbool.h>
/* Route handlers: each takes the request, replies, and returns the HTTP status sent. */
struct request;

int api_events_post(struct request *req);   /* web/api_events.c */
int api_healthz(struct request *req);       /* web/api_health.c */
int api_readyz(struct request *req);        /* web/api_health.c */
int api_dora(struct request *req);          /* web/api_dora.c */
int api_dora_services(struct request *req); /* web/api_dora.c */
int api_deployments(struct request *req);   /* web/api_lists.c */
int api_changes(struct request *req);       /* web/api_lists.c */
int api_incidents(struct request *req);     /* web/api_lists.c */
int api_trace(struct request *req);         /* web/api_trace.c */
int api_pipeline_runs(struct request *req); /* web/api_pipelines.c */
int api_pipeline_run(struct request *req);  /* web/api_pipelines.c */
int api_metrics(struct request *req);       /* web/api_metrics.c */
int api_openapi(struct request *req);       /* web/api_openapi.c */

/* The dashboard (web/pages.c): whether `path` is a page or an asset; serve it (GET/HEAD). */
bool pages_has(const char *path);
int pages_serve(struct request *req);

#endif
