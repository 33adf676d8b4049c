/*
 * sql/trace_store.c: the statements behind GET /api/v1/trace (see trace_store.h).
 *
 * Why JSON in SQL: a trace is a tree of a dozen entity kinds with nested lists (a pipeline
 * run's task runs, a deployment's changes and incidents). Building each section with jsonb
 * in the database keeps one statement per section, escapes every string with PostgreSQL's
 * JSON writer, and brings no rows to C that would need a struct each.
 *
 * Data flow: seed_*() -> `seed` JSON {"changes":[keys], "artifacts":[...], "deployments",
 * "builds", "pipeline_runs"} -> expand() -> `nodes` JSON (the same members plus "task_runs"
 * and "incidents", each capped) -> one statement per section, each taking `nodes` as $1.
 * Keys are the model's keys: changes and deployments are cdlens_key2() arrays as text, so
 * their parts are read back with ::jsonb ->> 0 / 1.
 *
 * Invariants: every statement is parameterized; timestamps are formatted in UTC by TS() and
 * durations are float8 seconds by SECS(); lists are ordered by time, then key, never by
 * arrival order, so a trace depends only on the stored events.
 * When you add a member to a section: change its statement here, the description in
 * docs/API.md and the assertions in tests/web/test_trace_http.c.
 */
#include "sql/trace_store.h"

#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "sql/db_internal.h"

#define XSTR(x) #x
#define STR(x) XSTR(x)
#define CAP STR(TRACE_STORE_MAX_NODES)

/* RFC 3339 in UTC with microseconds, as clock_format_rfc3339() writes; NULL stays NULL. */
#define TS(x) "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
/* Seconds from `a` to `b` as a JSON number; NULL when either is NULL. */
#define SECS(a, b) "extract(epoch FROM (" b ") - (" a "))::float8"
/* The keys of one member of the nodes JSON ($1). */
#define NODES(set) "SELECT jsonb_array_elements_text($1::jsonb -> '" set "')"
/* A change key (cdlens_key2(repo, id)) as {"repository", "id"}; NULL stays NULL. */
#define CHANGE_REF(k)                                                                      \
	"CASE WHEN " k " IS NOT NULL THEN jsonb_build_object('repository', (" k ")::jsonb ->> 0," \
	" 'id', (" k ")::jsonb ->> 1) END"
/* The events (facts) of one node, oldest first. */
#define EVENTS(kind, key)                                                                  \
	"(SELECT coalesce(jsonb_agg(jsonb_build_object('source', f.ev_source, 'id', f.ev_id,"    \
	" 'type', e.type, 'timestamp', " TS("f.ts") ") ORDER BY f.ts, f.ev_source, f.ev_id),"    \
	" '[]') FROM facts f JOIN events e ON e.seq = f.seq"                                     \
	" WHERE f.kind = '" kind "' AND f.key = " key ")"
/*
 * A link's evidence as an object: {"chain_id": id}, {"artifact": purl}, {"deployment":
 * {"source", "id"}} (commit_range: the previous deployment), {"event": {"source", "id"}}
 * (the event that states the link), or {"value": text} for anything else; NULL stays NULL.
 */
#define EVIDENCE(rule, ev)                                                                 \
	"CASE WHEN " ev " IS NULL THEN NULL"                                                     \
	" WHEN " rule " = 'chain_id' THEN jsonb_build_object('chain_id', " ev ")"                \
	" WHEN " rule " = 'artifact' THEN jsonb_build_object('artifact', " ev ")"                \
	" WHEN " ev " ~ '^\\[\".*\"\\]$' THEN jsonb_build_object(CASE WHEN " rule                 \
	" = 'commit_range' THEN 'deployment' ELSE 'event' END, jsonb_build_object('source',"    \
	" (" ev ")::jsonb ->> 0, 'id', (" ev ")::jsonb ->> 1))"                                   \
	" ELSE jsonb_build_object('value', " ev ") END"

struct seed {
	long matches;  /* nodes the selector matched */
	char *json;    /* the seed sets */
	char *sources; /* deployment: JSON array of the event sources that matched */
};

/* How many bytes of `s` a message shows: at most 100, cut at a UTF-8 character boundary. */
static int shown(const char *s)
{
	size_t n = strlen(s);

	if (n <= 100)
		return (int)n;
	for (n = 100; n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80; n--)
		;
	return (int)n;
}

static char *value_dup(const PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? NULL : xstrdup(PQgetvalue(res, 0, col));
}

/* Run a statement that returns exactly one row; NULL with err set otherwise. */
static PGresult *one_row(struct db_conn *conn, const char *sql, int nparams,
			 const char *const *params, const char *what, struct err *err)
{
	PGresult *res = db_query_prepared(conn, sql, nparams, params, PGRES_TUPLES_OK, what, err);

	if (res && PQntuples(res) != 1) {
		err_set(err, ST_INTERNAL, "could not %s", what);
		err_detail(err, "expected one row, got %d", PQntuples(res));
		PQclear(res);
		return NULL;
	}
	return res;
}

/* Run a seed statement: (matches, seed JSON[, sources]). */
static enum status seed_run(struct db_conn *conn, const char *sql, int nparams,
			    const char *const *params, struct seed *s, struct err *err)
{
	PGresult *res = one_row(conn, sql, nparams, params, "find the trace's starting point", err);

	if (!res)
		return err->status;
	s->matches = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	s->json = value_dup(res, 1);
	s->sources = PQnfields(res) > 2 ? value_dup(res, 2) : NULL;
	PQclear(res);
	return ST_OK;
}

/*
 * A change: its id in a repository named in any spelling. The canonical name must equal the
 * change's repository key or its repository id, or one must end with the other at a '/'
 * (host/org/repo vs org/repo), as for change references; exact matches win over suffixes.
 */
static enum status seed_change(struct db_conn *conn, const struct trace_store_selector *sel,
			       struct seed *s, struct err *err)
{
	static const char sql[] =
		"WITH r AS (SELECT cdlens_repo_canon($2::text) AS r),"
		" m AS (SELECT c.key, coalesce(c.repo = r.r OR c.repo_id = r.r, false) AS exact"
		"  FROM changes c, r WHERE c.id = $1::text AND (c.repo = r.r OR c.repo_id = r.r"
		"   OR right(c.repo, length(r.r) + 1) = '/' || r.r"
		"   OR right(r.r, length(c.repo) + 1) = '/' || c.repo"
		"   OR right(c.repo_id, length(r.r) + 1) = '/' || r.r"
		"   OR right(r.r, length(c.repo_id) + 1) = '/' || c.repo_id)),"
		" best AS (SELECT key FROM m"
		"  WHERE exact OR NOT EXISTS (SELECT 1 FROM m WHERE exact))"
		" SELECT (SELECT count(*) FROM best), jsonb_build_object("
		"  'changes', (SELECT coalesce(jsonb_agg(key ORDER BY key), '[]') FROM best),"
		"  'artifacts', (SELECT coalesce(jsonb_agg(a.key ORDER BY a.key), '[]')"
		"   FROM artifacts a WHERE a.change IN (SELECT key FROM best)))::text";
	const char *params[] = {sel->id, sel->scope};
	enum status st = seed_run(conn, sql, 2, params, s, err);

	if (st == ST_OK && s->matches == 0)
		st = err_set(err, ST_NOT_FOUND,
			     "no change \"%.*s\" in repository \"%.*s\" has been seen",
			     shown(sel->id), sel->id, shown(sel->scope), sel->scope);
	return st;
}

/* An artifact: seen when it has events, or a build or deployment names it. C = its change. */
static enum status seed_artifact(struct db_conn *conn, const struct trace_store_selector *sel,
				 struct seed *s, struct err *err)
{
	static const char sql[] =
		"SELECT (EXISTS (SELECT 1 FROM artifacts WHERE key = $1::text)"
		"  OR EXISTS (SELECT 1 FROM deployments WHERE artifact = $1::text)"
		"  OR EXISTS (SELECT 1 FROM builds WHERE artifact = $1::text))::int,"
		" jsonb_build_object('artifacts', jsonb_build_array($1::text),"
		"  'changes', (SELECT coalesce(jsonb_agg(change), '[]') FROM artifacts"
		"   WHERE key = $1::text AND change IS NOT NULL))::text";
	const char *params[] = {sel->id};
	enum status st = seed_run(conn, sql, 1, params, s, err);

	if (st == ST_OK && s->matches == 0)
		st = err_set(err, ST_NOT_FOUND, "no artifact \"%.*s\" has been seen",
			     shown(sel->id), sel->id);
	return st;
}

/* A deployment event (of any source when none is given): D0, A = its artifact, C = the
 * changes it shipped. */
static enum status seed_deployment(struct db_conn *conn, const struct trace_store_selector *sel,
				   struct seed *s, struct err *err)
{
	static const char sql[] =
		"WITH d AS (SELECT key, ev_source, artifact FROM deployments"
		"  WHERE ev_id = $1::text AND ($2::text IS NULL OR ev_source = $2::text))"
		" SELECT (SELECT count(*) FROM d), jsonb_build_object("
		"  'deployments', (SELECT coalesce(jsonb_agg(key ORDER BY key), '[]') FROM d),"
		"  'artifacts', (SELECT coalesce(jsonb_agg(DISTINCT artifact), '[]') FROM d"
		"   WHERE artifact IS NOT NULL),"
		"  'changes', (SELECT coalesce(jsonb_agg(DISTINCT change), '[]')"
		"   FROM deployment_changes WHERE deployment IN (SELECT key FROM d)))::text,"
		" (SELECT jsonb_agg(ev_source ORDER BY ev_source) FROM d)::text";
	const char *params[] = {sel->id, sel->scope};
	enum status st = seed_run(conn, sql, 2, params, s, err);

	if (st != ST_OK)
		return st;
	if (s->matches == 0 && sel->scope)
		return err_set(err, ST_NOT_FOUND,
			       "no deployment event \"%.*s\" from source \"%.*s\" has been seen",
			       shown(sel->id), sel->id, shown(sel->scope), sel->scope);
	if (s->matches == 0)
		return err_set(err, ST_NOT_FOUND, "no deployment event \"%.*s\" has been seen",
			       shown(sel->id), sel->id);
	if (s->matches > 1) {
		err_set(err, ST_INVALID, "deployment event \"%.*s\" was sent by %ld sources",
			shown(sel->id), sel->id, s->matches);
		err_detail(err, "Give the source too; the sources are %s.", s->sources);
		return ST_INVALID;
	}
	return ST_OK;
}

/* A chain: the changes, artifacts, deployments, builds and pipeline runs of its events. */
#define CHAIN_KEYS(kind) \
	"(SELECT coalesce(jsonb_agg(key ORDER BY key), '[]') FROM f WHERE kind = '" kind "')"
static enum status seed_chain(struct db_conn *conn, const struct trace_store_selector *sel,
			      struct seed *s, struct err *err)
{
	static const char sql[] =
		"WITH f AS (SELECT DISTINCT kind, key FROM facts WHERE chain_id = $1::text)"
		" SELECT (SELECT count(*) FROM f), jsonb_build_object("
		"  'changes', " CHAIN_KEYS("change") ", 'artifacts', " CHAIN_KEYS("artifact") ","
		"  'deployments', " CHAIN_KEYS("deployment") ", 'builds', " CHAIN_KEYS("build") ","
		"  'pipeline_runs', " CHAIN_KEYS("pipeline_run") ")::text";
	const char *params[] = {sel->id};
	enum status st = seed_run(conn, sql, 1, params, s, err);

	if (st == ST_OK && s->matches == 0)
		st = err_set(err, ST_NOT_FOUND, "no event with chain id \"%.*s\" has been seen",
			     shown(sel->id), sel->id);
	return st;
}

/* The node sets of the trace from its seed (see trace_store.h). Each is capped: deployments
 * and task runs keep the earliest, the other sets the smallest keys. */
#define SEED(set) "SELECT jsonb_array_elements_text(j -> '" set "') AS key FROM s"
#define CAPPED(name, cols, from, order)                                                    \
	name "_all AS (SELECT " cols " FROM " from " ORDER BY " order " LIMIT " CAP " + 1),"      \
	name " AS (SELECT * FROM " name "_all ORDER BY " order " LIMIT " CAP ")"
#define KEYS(name) "(SELECT coalesce(jsonb_agg(key ORDER BY key), '[]') FROM " name ")"
#define OVER(name) "(SELECT count(*) FROM " name "_all) > " CAP
static enum status expand(struct db_conn *conn, const char *seed, char **nodes, bool *truncated,
			  struct err *err)
{
	static const char sql[] =
		"WITH s AS (SELECT $1::jsonb AS j),"
		CAPPED("c", "DISTINCT key", "(" SEED("changes") ") x(key)", "key") ","
		CAPPED("a", "DISTINCT key", "(" SEED("artifacts") ") x(key)", "key") ","
		" d_keys AS (" SEED("deployments")
		"  UNION SELECT d.key FROM deployments d JOIN a ON d.artifact = a.key"
		"  UNION SELECT dc.deployment FROM deployment_changes dc"
		"   JOIN c ON dc.change = c.key),"
		CAPPED("d", "d.key, d.at", "deployments d JOIN d_keys k ON k.key = d.key",
		       "at, key") ","
		" b_keys AS (" SEED("builds")
		"  UNION SELECT b.key FROM builds b JOIN a ON b.artifact = a.key"
		"  UNION SELECT e.from_key FROM edges e JOIN a ON e.to_kind = 'artifact'"
		"   AND e.to_key = a.key WHERE e.from_kind = 'build'"
		"  UNION SELECT e.to_key FROM edges e JOIN a ON e.from_kind = 'artifact'"
		"   AND e.from_key = a.key WHERE e.to_kind = 'build'),"
		CAPPED("b", "key", "b_keys x(key)", "key") ","
		" n AS (SELECT 'change' AS kind, key FROM c UNION ALL SELECT 'artifact', key FROM a"
		"  UNION ALL SELECT 'deployment', key FROM d UNION ALL SELECT 'build', key FROM b),"
		" p_keys AS (" SEED("pipeline_runs")
		"  UNION SELECT e.from_key FROM edges e JOIN n ON e.to_kind = n.kind"
		"   AND e.to_key = n.key WHERE e.from_kind = 'pipeline_run'"
		"  UNION SELECT e.to_key FROM edges e JOIN n ON e.from_kind = n.kind"
		"   AND e.from_key = n.key WHERE e.to_kind = 'pipeline_run'),"
		CAPPED("p", "key", "p_keys x(key)", "key") ","
		CAPPED("t", "t.key, t.started_at", "task_runs t JOIN p ON t.pipeline_run = p.key",
		       "started_at, key") ","
		CAPPED("i", "DISTINCT incident AS key",
		       "incident_deployments WHERE deployment IN (SELECT key FROM d)", "key")
		" SELECT jsonb_build_object('changes', " KEYS("c") ", 'artifacts', " KEYS("a") ","
		"  'deployments', " KEYS("d") ", 'builds', " KEYS("b") ","
		"  'pipeline_runs', " KEYS("p") ", 'task_runs', " KEYS("t") ","
		"  'incidents', " KEYS("i") ")::text,"
		" " OVER("c") " OR " OVER("a") " OR " OVER("d") " OR " OVER("b") " OR " OVER("p")
		" OR " OVER("t") " OR " OVER("i");
	const char *params[] = {seed};
	PGresult *res = one_row(conn, sql, 1, params, "collect the trace's nodes", err);

	if (!res)
		return err->status;
	*nodes = xstrdup(PQgetvalue(res, 0, 0));
	*truncated = PQgetvalue(res, 0, 1)[0] == 't';
	PQclear(res);
	return ST_OK;
}

/* Run a section statement (one JSON text column, one row) with the nodes as $1. */
static enum status section(struct db_conn *conn, const char *sql, const char *nodes,
			   const char *what, char **out, struct err *err)
{
	const char *params[] = {nodes};
	PGresult *res = one_row(conn, sql, 1, params, what, err);

	if (!res)
		return err->status;
	*out = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return ST_OK;
}

/* Changes, by first activity: timestamps, lead-time durations and events. */
static enum status trace_changes(struct db_conn *conn, const char *nodes, char **out,
				 struct err *err)
{
	static const char sql[] =
		"SELECT coalesce(jsonb_agg(o ORDER BY first_at NULLS LAST, key), '[]')::text FROM ("
		" SELECT k.key, c.first_at, jsonb_build_object('key', k.key,"
		"  'repository', k.key::jsonb ->> 0, 'id', k.key::jsonb ->> 1,"
		"  'description', c.description, 'created_at', " TS("c.created_at") ","
		"  'updated_at', " TS("c.updated_at") ", 'reviewed_at', " TS("c.reviewed_at") ","
		"  'merged_at', " TS("c.merged_at") ", 'abandoned_at', " TS("c.abandoned_at") ","
		"  'durations', jsonb_build_object("
		"   'created_to_merged_seconds', " SECS("c.created_at", "c.merged_at") ","
		"   'merged_to_packaged_seconds', " SECS("c.merged_at", "p.packaged_at") ","
		"   'first_deployment_seconds', " SECS("c.first_at", "fd.at") ","
		"   'first_deployment_by_environment', coalesce(fd.by_env, '{}')),"
		"  'events', " EVENTS("change", "k.key") ") AS o"
		" FROM (" NODES("changes") ") k(key)"
		" LEFT JOIN changes c ON c.key = k.key"
		" LEFT JOIN LATERAL (SELECT min(a.packaged_at) AS packaged_at FROM artifacts a"
		"  WHERE a.change = k.key) p ON true"
		" LEFT JOIN LATERAL (SELECT min(x.at) AS at, jsonb_object_agg(x.environment, "
		SECS("c.first_at", "x.at") ") FILTER (WHERE x.environment IS NOT NULL) AS by_env"
		"  FROM (SELECT d.environment, min(d.at) AS at FROM deployment_changes dc"
		"   JOIN deployments d ON d.key = dc.deployment WHERE dc.change = k.key"
		"   GROUP BY d.environment) x) fd ON true"
		") s";

	return section(conn, sql, nodes, "describe the trace's changes", out, err);
}

/* Builds, by first activity. */
static enum status trace_builds(struct db_conn *conn, const char *nodes, char **out,
				struct err *err)
{
	static const char sql[] =
		"SELECT coalesce(jsonb_agg(o ORDER BY t NULLS LAST, key), '[]')::text FROM ("
		" SELECT k.key, coalesce(b.queued_at, b.started_at, b.finished_at) AS t,"
		"  jsonb_build_object('id', k.key, 'queued_at', " TS("b.queued_at") ","
		"  'started_at', " TS("b.started_at") ", 'finished_at', " TS("b.finished_at") ","
		"  'duration_seconds', " SECS("b.started_at", "b.finished_at") ","
		"  'artifact', b.artifact, 'events', " EVENTS("build", "k.key") ") AS o"
		" FROM (" NODES("builds") ") k(key) LEFT JOIN builds b ON b.key = k.key"
		") s";

	return section(conn, sql, nodes, "describe the trace's builds", out, err);
}

/* Artifacts, by first activity, with the change each was built from. */
static enum status trace_artifacts(struct db_conn *conn, const char *nodes, char **out,
				   struct err *err)
{
	static const char sql[] =
		"SELECT coalesce(jsonb_agg(o ORDER BY t NULLS LAST, key), '[]')::text FROM ("
		" SELECT k.key, coalesce(a.packaged_at, a.signed_at, a.published_at) AS t,"
		"  jsonb_build_object('purl', k.key, 'packaged_at', " TS("a.packaged_at") ","
		"  'signed_at', " TS("a.signed_at") ", 'published_at', " TS("a.published_at") ","
		"  'change', " CHANGE_REF("a.change") ", 'change_rule', a.change_rule,"
		"  'events', " EVENTS("artifact", "k.key") ") AS o"
		" FROM (" NODES("artifacts") ") k(key) LEFT JOIN artifacts a ON a.key = k.key"
		") s";

	return section(conn, sql, nodes, "describe the trace's artifacts", out, err);
}

/* Pipeline runs, by first activity, with their task runs. */
static enum status trace_pipeline_runs(struct db_conn *conn, const char *nodes, char **out,
				       struct err *err)
{
	static const char sql[] =
		"SELECT coalesce(jsonb_agg(o ORDER BY t NULLS LAST, key), '[]')::text FROM ("
		" SELECT k.key, coalesce(p.queued_at, p.started_at, p.finished_at) AS t,"
		"  jsonb_build_object('id', k.key, 'name', p.name, 'url', p.url,"
		"  'outcome', p.outcome,"
		"  'queued_at', " TS("p.queued_at") ", 'started_at', " TS("p.started_at") ","
		"  'finished_at', " TS("p.finished_at") ","
		"  'queued_seconds', " SECS("p.queued_at", "p.started_at") ","
		"  'run_seconds', " SECS("p.started_at", "p.finished_at") ","
		"  'task_runs', tr.list, 'events', " EVENTS("pipeline_run", "k.key") ") AS o"
		" FROM (" NODES("pipeline_runs") ") k(key)"
		" LEFT JOIN pipeline_runs p ON p.key = k.key"
		" CROSS JOIN LATERAL (SELECT coalesce(jsonb_agg(jsonb_build_object('id', t.key,"
		"   'name', t.name, 'outcome', t.outcome, 'started_at', " TS("t.started_at") ","
		"   'finished_at', " TS("t.finished_at") ","
		"   'duration_seconds', " SECS("t.started_at", "t.finished_at") ")"
		"   ORDER BY t.started_at NULLS LAST, t.key), '[]') AS list"
		"  FROM task_runs t WHERE t.pipeline_run = k.key"
		"   AND t.key IN (" NODES("task_runs") ")) tr"
		") s";

	return section(conn, sql, nodes, "describe the trace's pipeline runs", out, err);
}

/*
 * Deployments grouped by environment (environments by first deployment), each with the
 * changes it shipped, the incidents attributed to it, and the rollback that replaced it: the
 * next deployment of its service in its environment, when that one is a rollback.
 */
static enum status trace_environments(struct db_conn *conn, const char *nodes, char **out,
				      struct err *err)
{
	static const char sql[] =
		"WITH dep AS (SELECT d.environment, d.at, d.ev_source, d.ev_id,"
		"  jsonb_build_object('key', d.key, 'service', d.service, 'kind', d.kind,"
		"  'at', " TS("d.at") ", 'artifact', d.artifact,"
		"  'event', jsonb_build_object('source', d.ev_source, 'id', d.ev_id),"
		"  'changes', ch.list, 'incidents', inc.list,"
		"  'rolled_back_by', CASE WHEN nx.kind = 'rolledback' THEN jsonb_build_object("
		"   'source', nx.ev_source, 'id', nx.ev_id, 'at', " TS("nx.at") ") END) AS o"
		" FROM deployments d"
		" CROSS JOIN LATERAL (SELECT coalesce(jsonb_agg(jsonb_build_object("
		"   'repository', dc.change::jsonb ->> 0, 'id', dc.change::jsonb ->> 1,"
		"   'rule', dc.rule, 'evidence', " EVIDENCE("dc.rule", "dc.evidence") ")"
		"   ORDER BY NOT dc.direct, cdlens_rule_rank(dc.rule), dc.change), '[]') AS list"
		"  FROM deployment_changes dc WHERE dc.deployment = d.key) ch"
		" CROSS JOIN LATERAL (SELECT coalesce(jsonb_agg(jsonb_build_object('id', i.key,"
		"   'description', i.description, 'detected_at', " TS("i.detected_at") ","
		"   'reported_at', " TS("i.reported_at") ", 'resolved_at', " TS("i.resolved_at") ","
		"   'rule', idp.rule,"
		"   'detected_after_seconds', "
		SECS("d.at", "least(i.detected_at, i.reported_at)") ","
		"   'resolved_after_seconds', " SECS("d.at", "i.resolved_at") ")"
		"   ORDER BY least(i.detected_at, i.reported_at), i.key), '[]') AS list"
		"  FROM incident_deployments idp JOIN incidents i ON i.key = idp.incident"
		"  WHERE idp.deployment = d.key) inc"
		" LEFT JOIN LATERAL (SELECT n.kind, n.ev_source, n.ev_id, n.at FROM deployments n"
		"  WHERE n.service = d.service AND n.environment = d.environment"
		"   AND (n.at, n.ev_source, n.ev_id) > (d.at, d.ev_source, d.ev_id)"
		"  ORDER BY n.at, n.ev_source, n.ev_id LIMIT 1) nx ON true"
		" WHERE d.key IN (" NODES("deployments") "))"
		" SELECT coalesce(jsonb_agg(jsonb_build_object('id', g.environment, 'name', e.name,"
		"  'deployments', g.list) ORDER BY g.first, g.environment NULLS LAST), '[]')::text"
		" FROM (SELECT environment, min(at) AS first,"
		"  jsonb_agg(o ORDER BY at, ev_source, ev_id) AS list"
		"  FROM dep GROUP BY environment) g"
		" LEFT JOIN environments e ON e.key = g.environment";

	return section(conn, sql, nodes, "describe the trace's deployments", out, err);
}

/* The edges whose both ends are nodes of the trace, upstream first. */
static enum status trace_links(struct db_conn *conn, const char *nodes, char **out,
			       struct err *err)
{
	static const char sql[] =
		"WITH n AS (SELECT 'change' AS kind, k FROM (" NODES("changes") ") x(k)"
		"  UNION ALL SELECT 'artifact', k FROM (" NODES("artifacts") ") x(k)"
		"  UNION ALL SELECT 'deployment', k FROM (" NODES("deployments") ") x(k)"
		"  UNION ALL SELECT 'build', k FROM (" NODES("builds") ") x(k)"
		"  UNION ALL SELECT 'pipeline_run', k FROM (" NODES("pipeline_runs") ") x(k)"
		"  UNION ALL SELECT 'task_run', k FROM (" NODES("task_runs") ") x(k)"
		"  UNION ALL SELECT 'incident', k FROM (" NODES("incidents") ") x(k))"
		" SELECT coalesce(jsonb_agg(jsonb_build_object("
		"  'from', jsonb_build_object('kind', e.from_kind, 'key', e.from_key),"
		"  'to', jsonb_build_object('kind', e.to_kind, 'key', e.to_key), 'rule', e.rule,"
		"  'evidence', " EVIDENCE("e.rule", "e.evidence") ")"
		"  ORDER BY cdlens_stage(e.from_kind), e.from_key,"
		"  cdlens_stage(e.to_kind), e.to_key, e.rule, e.evidence), '[]')::text"
		" FROM edges e JOIN n f ON f.kind = e.from_kind AND f.k = e.from_key"
		" JOIN n t ON t.kind = e.to_kind AND t.k = e.to_key";

	return section(conn, sql, nodes, "describe the trace's links", out, err);
}

static enum status seed(struct db_conn *conn, const struct trace_store_selector *sel,
			struct seed *s, struct err *err)
{
	switch (sel->by) {
	case TRACE_STORE_BY_CHANGE: return seed_change(conn, sel, s, err);
	case TRACE_STORE_BY_ARTIFACT: return seed_artifact(conn, sel, s, err);
	case TRACE_STORE_BY_DEPLOYMENT: return seed_deployment(conn, sel, s, err);
	case TRACE_STORE_BY_CHAIN: return seed_chain(conn, sel, s, err);
	}
	return err_set(err, ST_INTERNAL, "unknown trace selector %d", (int)sel->by);
}

static enum status sections(struct db_conn *conn, const char *nodes, struct trace_store_result *r,
			    struct err *err)
{
	enum status st = trace_changes(conn, nodes, &r->changes, err);

	if (st == ST_OK)
		st = trace_builds(conn, nodes, &r->builds, err);
	if (st == ST_OK)
		st = trace_artifacts(conn, nodes, &r->artifacts, err);
	if (st == ST_OK)
		st = trace_pipeline_runs(conn, nodes, &r->pipeline_runs, err);
	if (st == ST_OK)
		st = trace_environments(conn, nodes, &r->environments, err);
	if (st == ST_OK)
		st = trace_links(conn, nodes, &r->links, err);
	return st;
}

enum status trace_store_load(struct db_conn *conn, const struct trace_store_selector *sel,
			     struct trace_store_result *out, struct err *err)
{
	struct trace_store_result r = {0};
	struct seed s = {0};
	char *nodes = NULL;
	bool in_tx = false;
	/* One snapshot for every statement: the correlator commits while we read. */
	enum status st = db_exec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);

	if (st != ST_OK)
		goto out;
	in_tx = true;
	if ((st = seed(conn, sel, &s, err)) != ST_OK)
		goto out;
	if ((st = expand(conn, s.json, &nodes, &r.truncated, err)) != ST_OK)
		goto out;
	if ((st = sections(conn, nodes, &r, err)) != ST_OK)
		goto out;
	st = db_exec(conn, "COMMIT", err);
	in_tx = false;
out:
	if (in_tx && db_conn_ok(conn)) {
		struct err ignored = {0};
		(void)db_exec(conn, "ROLLBACK", &ignored);
	}
	if (st != ST_OK)
		trace_store_result_release(&r);
	*out = r;
	free(nodes);
	free(s.json);
	free(s.sources);
	return st;
}

void trace_store_result_release(struct trace_store_result *r)
{
	if (!r)
		return;
	free(r->changes);
	free(r->builds);
	free(r->artifacts);
	free(r->pipeline_runs);
	free(r->environments);
	free(r->links);
	*r = (struct trace_store_result){0};
}
