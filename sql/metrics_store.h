#ifndef SQL_METRICS_STORE_H
#define SQL_METRICS_STORE_H
/*
 * The rows behind the DORA figures (docs/METRICS.md), read from the linked model
 * (0002_model.sql): production deployments with their failure, restoration and rework facts,
 * changes at their first production deployment, incidents. metrics/dora.c aggregates them;
 * the drill-down endpoints list the very same rows, so every figure can be traced to them.
 *
 * Filters (all calls): `from`/`to` are RFC 3339 texts (window [from, to)); `environments` is
 * a JSON array of the production environment ids to include; `services` a JSON array of
 * service ids, or NULL for all. Rows come in time order.
 * Errors: ST_UNAVAILABLE (connection), ST_INTERNAL. Threads: one db_conn per thread.
 * Ownership: row strings are borrowed for the duration of the callback.
 */
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct db_conn;

struct metrics_filter {
	const char *from, *to;
	const char *environments; /* JSON array */
	const char *services;     /* JSON array or NULL */
	/* The --production-env pattern when `environments` are all the production ones (no
	 * environment filter): lets the queries use the correlator's precomputed first
	 * production deployments if it used the same pattern. NULL: never. */
	const char *production;
};

/* Every environment id deployments name, with its name from environment events (or NULL). */
typedef void (*metrics_store_env_fn)(void *arg, const char *id, const char *name);
enum status metrics_store_environments(struct db_conn *conn, metrics_store_env_fn fn, void *arg,
				       struct err *err);

struct metrics_deployment_row {
	const char *key, *ev_source, *ev_id, *service, *environment, *kind, *artifact;
	int64_t at_us;
	bool failed, restored, rework;
	const char *rolled_back_by;   /* the next deployment when it is a rollback, else NULL */
	int64_t next_us;              /* the next production deployment of S in E; 0: none */
	const char *incidents;        /* JSON array of attributed incident ids before the next */
	int64_t restored_us;          /* meaningful when restored */
	const char *rework_incident;  /* the open incident that makes it rework, or NULL */
	const char *changes;          /* JSON array [{repository,id,rule}] or NULL (not asked) */
};
typedef void (*metrics_store_deployment_fn)(void *arg, const struct metrics_deployment_row *r);
/* Production deployments in the window. With details, in time order, every member set
 * (changes: those each one shipped); without (for figures), in no particular order and only
 * service, at_us, failed, restored, restored_us and rework set (the rest NULL / 0). */
enum status metrics_store_deployments(struct db_conn *conn, const struct metrics_filter *f,
				      bool details, metrics_store_deployment_fn fn, void *arg,
				      struct err *err);

/* The lead-time breakdown of a change (docs/METRICS.md, "Lead time breakdown"): the stages
 * between its five ends created, merged, artifact, first deployment and production. */
enum metrics_stage {
	METRICS_STAGE_CREATED_TO_MERGED,
	METRICS_STAGE_MERGED_TO_ARTIFACT,
	METRICS_STAGE_ARTIFACT_TO_FIRST_DEPLOYMENT,
	METRICS_STAGE_FIRST_DEPLOYMENT_TO_PRODUCTION,
	METRICS_STAGES
};
#define METRICS_STAGE_UNKNOWN (-1) /* a stage with an unknown end; known stages are >= 0 */

struct metrics_change_row {
	const char *key, *repository, *id, *deployment, *ev_source, *ev_id, *service,
		*environment, *rule;
	int64_t first_us, deployed_us;
	int64_t stage_us[METRICS_STAGES]; /* microseconds, or METRICS_STAGE_UNKNOWN */
};
typedef void (*metrics_store_change_fn)(void *arg, const struct metrics_change_row *r);
/* Changes whose first production deployment (among the filtered ones) is in the window.
 * With details, in time order with every member set, stages included; without (for
 * figures), in no particular order with only first_us and deployed_us set (strings NULL,
 * stages METRICS_STAGE_UNKNOWN). Both sources (see the .c) give the same stages. */
enum status metrics_store_changes(struct db_conn *conn, const struct metrics_filter *f,
				  bool details, metrics_store_change_fn fn, void *arg,
				  struct err *err);
/* For each service S (of the filter): the changes whose first production deployment of S
 * (in the filtered environments) is in the window, as /api/v1/dora?service=S counts them;
 * only service, first_us and deployed_us are set. One query for all services. */
enum status metrics_store_service_changes(struct db_conn *conn, const struct metrics_filter *f,
					  metrics_store_change_fn fn, void *arg, struct err *err);

struct metrics_incident_row {
	const char *key, *description, *environment, *service, *artifact, *deployment,
		*deployment_service, *rule;
	int64_t opened_us, resolved_us; /* resolved_us 0: open */
};
typedef void (*metrics_store_incident_fn)(void *arg, const struct metrics_incident_row *r);
/* Incidents in the environments opened in the window (service filter: the incident's
 * service or its deployment's). */
enum status metrics_store_incidents(struct db_conn *conn, const struct metrics_filter *f,
				    metrics_store_incident_fn fn, void *arg, struct err *err);

#endif
