#ifndef SQL_TRACE_STORE_H
#define SQL_TRACE_STORE_H
/*
 * The delivery trace of one change, artifact, deployment or chain, read from the linked model
 * (sql/migrations/0002_model.sql) for GET /api/v1/trace.
 *
 * A trace is computed in three steps, all in one read-only REPEATABLE READ transaction so
 * that every section sees the same correlated state:
 *   seed      the selector's own nodes: the changes C and artifacts A it names (and, for a
 *             deployment or a chain, its deployments, builds and pipeline runs);
 *   expand    deployments D (of an artifact in A, or shipping a change in C), builds (of an
 *             artifact in A, or linked to one), pipeline runs (linked by an edge to any
 *             change, artifact, build or deployment of the trace) with their task runs, and
 *             the incidents attributed to a deployment in D;
 *   sections  one JSON array per part of the response, built by PostgreSQL's jsonb
 *             functions (so every string is escaped by the database's JSON writer).
 * Each node set is capped at TRACE_STORE_MAX_NODES (deployments and task runs keep the
 * earliest, the other sets the smallest keys); `truncated` says a cap was hit.
 * Threads: a db_conn is used by one thread at a time.
 */
#include <stdbool.h>

#include "core/err.h"

struct db_conn;

#define TRACE_STORE_MAX_NODES 500

enum trace_store_by {
	TRACE_STORE_BY_CHANGE,     /* id: change id; scope: repository, any spelling */
	TRACE_STORE_BY_ARTIFACT,   /* id: canonical purl (purl_canonicalize); scope unused */
	TRACE_STORE_BY_DEPLOYMENT, /* id: event id; scope: event source, or NULL for any */
	TRACE_STORE_BY_CHAIN,      /* id: chain id; scope unused */
};

/* What to trace. Strings are the caller's; they must be NUL-free UTF-8 (query_parse()). */
struct trace_store_selector {
	enum trace_store_by by;
	const char *id;
	const char *scope;
};

/* The sections of a trace, each a JSON array text (owned; see docs/API.md for the members). */
struct trace_store_result {
	char *changes, *builds, *artifacts, *pipeline_runs, *environments, *links;
	bool truncated; /* a node set had more than TRACE_STORE_MAX_NODES members */
};

/*
 * Load the trace of `sel` into `*out`.
 * Ownership: on ST_OK `*out` owns its strings; call trace_store_result_release(out). On
 *            failure `*out` is zeroed.
 * Errors: ST_NOT_FOUND (the selector matches nothing the model has seen), ST_INVALID (a
 *         deployment id sent by several sources and no source given), each with err->msg
 *         naming what was asked for; ST_UNAVAILABLE (connection lost), ST_INTERNAL.
 * Threads: see the top of this file.
 */
enum status trace_store_load(struct db_conn *conn, const struct trace_store_selector *sel,
			     struct trace_store_result *out, struct err *err);

/* Free the sections and zero `r`. NULL or a zeroed result: no-op. */
void trace_store_result_release(struct trace_store_result *r);

#endif
