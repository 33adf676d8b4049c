/*
 * sql/correlate_store.c: the set-based statements behind correlation (see 0002_model.sql).
 *
 * Why recompute instead of patch: an entity row (a change, a pipeline run...) is always
 * re-aggregated from ALL facts with its key, and links are re-derived for every fact whose
 * evidence the batch could have changed. Each derived row is therefore a function of the set
 * of stored events, not of their arrival order, which is what makes incremental correlation
 * converge and equal `cdlens recorrelate`.
 *
 * The `touched` temporary table collects the (kind, key) of every node whose facts or links
 * changed in the batch; later steps (artifacts' changes, deployment attribution, incident
 * attribution) recompute exactly what depends on those nodes.
 *
 * Ties are broken by (ts, source, id) or by key, never by arrival order.
 * When you add an entity table: add its recompute statement to apply_entities(), its name
 * to reset's TRUNCATE list, and its columns to the convergence test's comparison.
 */
#include "sql/correlate_store.h"

#include <stdlib.h>
#include <string.h>

#include "sql/db_internal.h"

#define SEQS "seq = ANY($1::bigint[])"
#define AFFECTED(kind) \
	"kind = '" kind "' AND key = ANY (ARRAY(SELECT key FROM facts WHERE " SEQS          \
	" AND kind = '" kind "'))"
#define AT(pred) "min(ts) FILTER (WHERE predicate = '" pred "')"
#define LATEST(col)                                                                  \
	"(array_agg(" col " ORDER BY ts DESC, ev_source DESC, ev_id DESC) FILTER (WHERE " col \
	" IS NOT NULL))[1]"
#define EARLIEST(col)                                                                \
	"(array_agg(" col " ORDER BY ts, ev_source, ev_id) FILTER (WHERE " col " IS NOT NULL))[1]"
#define EVIDENCE "cdlens_key2(ev_source, ev_id)"
/* col, but only from an incident's detected/reported events */
#define OPENING(col) "CASE WHEN predicate IN ('detected', 'reported') THEN " col " END"

static enum status run(struct db_conn *conn, const char *sql, int nparams,
		       const char *const *params, const char *what, struct err *err)
{
	PGresult *res = db_query_prepared(conn, sql, nparams, params, PGRES_COMMAND_OK, what, err);

	if (!res)
		return err->status;
	PQclear(res);
	return ST_OK;
}

enum status correlate_store_begin(struct db_conn *conn, struct err *err)
{
	/* One correlator at a time (several servers may share a database): recomputation reads
	 * what earlier batches wrote. The lock is released at COMMIT or ROLLBACK. */
	static const char sql[] =
		"BEGIN;"
		"SET LOCAL client_min_messages = warning;"
		"SET LOCAL plan_cache_mode = force_custom_plan;"
		"SELECT pg_advisory_xact_lock(hashtext('cdlens.correlate'));"
		"CREATE TEMP TABLE IF NOT EXISTS touched (kind text NOT NULL, key text COLLATE \"C\")"
		" ON COMMIT DELETE ROWS;"
		"CREATE TEMP TABLE IF NOT EXISTS attr_rows (deployment text COLLATE \"C\","
		" change text COLLATE \"C\", rule text, direct boolean, evidence text COLLATE \"C\","
		" PRIMARY KEY (deployment, change, rule)) ON COMMIT DELETE ROWS;";
	PGresult *res = db_query(conn, sql, 0, NULL, PGRES_COMMAND_OK, "begin correlation", err);

	if (!res)
		return err->status;
	PQclear(res);
	return ST_OK;
}

enum status correlate_store_commit(struct db_conn *conn, struct err *err)
{
	return db_exec(conn, "COMMIT", err);
}

void correlate_store_rollback(struct db_conn *conn)
{
	struct err ignored = {0};

	if (db_conn_ok(conn))
		(void)db_exec(conn, "ROLLBACK", &ignored);
}

enum status correlate_store_claim(struct db_conn *conn, size_t limit, struct buf *seqs, size_t *n,
				  struct err *err)
{
	static const char sql[] =
		"DELETE FROM correlate_queue WHERE seq IN (SELECT seq FROM correlate_queue"
		" ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING seq";
	char lim[24];

	snprintf(lim, sizeof lim, "%zu", limit);
	const char *params[] = {lim};
	PGresult *res = db_query_prepared(conn, sql, 1, params, PGRES_TUPLES_OK, "claim events", err);

	if (!res)
		return err->status;
	buf_reset(seqs);
	buf_putc(seqs, '{');
	*n = (size_t)PQntuples(res);
	for (int i = 0; i < PQntuples(res); i++)
		buf_printf(seqs, "%s%s", i ? "," : "", PQgetvalue(res, i, 0));
	buf_putc(seqs, '}');
	PQclear(res);
	return ST_OK;
}

enum status correlate_store_purls(struct db_conn *conn, const char *seqs,
				  correlate_store_string_fn fn, void *arg, struct err *err)
{
	static const char sql[] =
		"SELECT DISTINCT p FROM events e CROSS JOIN LATERAL (VALUES"
		" (CASE WHEN e.subject = 'artifact' THEN e.subject_id END),"
		" (e.raw #>> '{subject,content,artifactId}')) v(p)"
		" WHERE e." SEQS " AND p IS NOT NULL";
	const char *params[] = {seqs};
	PGresult *res = db_query_prepared(conn, sql, 1, params, PGRES_TUPLES_OK, "list purls", err);

	if (!res)
		return err->status;
	for (int i = 0; i < PQntuples(res); i++)
		fn(arg, PQgetvalue(res, i, 0));
	PQclear(res);
	return ST_OK;
}

/* What each event says, in columns. Unknown subjects (tickets, branches, custom events,
 * service.published) have no kind and no fact. */
static enum status insert_facts(struct db_conn *conn, const char *seqs, const char *purl_map,
				struct err *err)
{
	static const char sql[] =
		"INSERT INTO facts (seq, ev_source, ev_id, kind, key, predicate, ts, chain_id, name,"
		" url, outcome, detail, repo, repo_id, artifact, environment, service, parent,"
		" change_id, change_repo, links)"
		" SELECT e.seq, e.source, e.id, k.kind,"
		"  CASE k.kind WHEN 'change' THEN cdlens_key2(r.repo, e.subject_id)"
		"   WHEN 'repository' THEN r.repo"
		"   WHEN 'artifact' THEN coalesce($2::jsonb ->> e.subject_id, e.subject_id)"
		"   WHEN 'deployment' THEN cdlens_key2(e.source, e.id)"
		"   ELSE e.subject_id END,"
		"  e.predicate, e.ts, e.chain_id,"
		"  coalesce(x.c->>'name', x.c->>'pipelineName', x.c->>'taskName',"
		"   x.c->'testSuite'->>'name', x.c->'testCase'->>'name'),"
		"  coalesce(x.c->>'uri', x.c->>'url', x.c->>'ticketURI'),"
		"  x.c->>'outcome',"
		"  coalesce(x.c->>'errors', x.c->>'reason', x.c->>'description'),"
		"  r.repo, r.repo_id,"
		"  coalesce($2::jsonb ->> (x.c->>'artifactId'), x.c->>'artifactId'),"
		"  CASE WHEN k.kind = 'deployment' THEN coalesce(x.c->'environment'->>'id', '')"
		"   ELSE x.c->'environment'->>'id' END," /* a deployment always has a pair */
		"  CASE k.kind WHEN 'deployment' THEN e.subject_id ELSE x.c->'service'->>'id' END,"
		"  coalesce(x.c->'pipelineRun'->>'id', x.c->'testSuiteRun'->>'id'),"
		"  CASE k.kind WHEN 'change' THEN e.subject_id ELSE x.c->'change'->>'id' END,"
		"  CASE k.kind WHEN 'artifact' THEN cdlens_repo_canon(x.c->'change'->>'source') END,"
		"  CASE WHEN jsonb_typeof(e.raw->'context'->'links') = 'array'"
		"   THEN e.raw->'context'->'links' END"
		" FROM events e"
		" CROSS JOIN LATERAL (SELECT e.raw->'subject'->'content' AS c) x"
		" CROSS JOIN LATERAL (SELECT CASE e.subject"
		"   WHEN 'change' THEN 'change' WHEN 'repository' THEN 'repository'"
		"   WHEN 'build' THEN 'build' WHEN 'artifact' THEN 'artifact'"
		"   WHEN 'pipelinerun' THEN 'pipeline_run' WHEN 'taskrun' THEN 'task_run'"
		"   WHEN 'testsuiterun' THEN 'test_suite_run' WHEN 'testcaserun' THEN 'test_case_run'"
		"   WHEN 'environment' THEN 'environment' WHEN 'incident' THEN 'incident'"
		"   WHEN 'service' THEN CASE WHEN e.predicate IN"
		"    ('deployed', 'upgraded', 'rolledback', 'removed') THEN 'deployment' END"
		"  END AS kind) k"
		" CROSS JOIN LATERAL (SELECT CASE"
		"   WHEN k.kind = 'change' THEN coalesce(CASE"
		"    WHEN x.c->'repository'->>'id' IS NOT NULL THEN"
		"     cdlens_repo_key(x.c->'repository'->>'id', x.c->'repository'->>'source')"
		"    ELSE cdlens_repo_canon(coalesce(e.subject_source, e.source)) END, '')"
		"   WHEN k.kind = 'repository' THEN coalesce("
		"    cdlens_repo_canon(coalesce(x.c->>'uri', x.c->>'url')),"
		"    cdlens_repo_key(e.subject_id, coalesce(e.subject_source, e.source)), e.subject_id)"
		"  END AS repo,"
		"  CASE WHEN k.kind = 'change' THEN cdlens_repo_canon(x.c->'repository'->>'id')"
		"  END AS repo_id) r"
		" WHERE e." SEQS " AND k.kind IS NOT NULL"
		" ON CONFLICT (seq) DO NOTHING";
	static const char links_sql[] =
		"INSERT INTO fact_links (seq, target_id, link_type, link_kind)"
		" SELECT DISTINCT ON (f.seq, t.target, t.type) f.seq, t.target, t.type, t.kind"
		" FROM facts f CROSS JOIN LATERAL jsonb_array_elements(f.links) l"
		" CROSS JOIN LATERAL (SELECT coalesce(l->'from'->>'contextId', l->'from'->>'context_id',"
		"   l->'target'->>'contextId', l->'target'->>'context_id') AS target,"
		"  upper(coalesce(l->>'linkType', l->>'link_type')) AS type,"
		"  coalesce(l->>'linkKind', l->>'link_kind') AS kind) t"
		" WHERE f." SEQS " AND f.links IS NOT NULL AND jsonb_typeof(l) = 'object'"
		"  AND t.target IS NOT NULL AND t.type IS NOT NULL"
		" ORDER BY f.seq, t.target, t.type, t.kind"
		" ON CONFLICT DO NOTHING";
	/* 'merged': changes whose merge time this batch may have moved; only those can enter
	 * or leave commit ranges (correlate_store_load_attribution) */
	static const char touch_sql[] =
		"INSERT INTO touched (kind, key) SELECT DISTINCT kind, key FROM facts WHERE " SEQS
		" UNION SELECT DISTINCT 'merged', key FROM facts WHERE " SEQS
		"  AND kind = 'change' AND predicate = 'merged'";
	const char *params[] = {seqs, purl_map};
	enum status st = run(conn, sql, 2, params, "extract facts", err);

	if (st == ST_OK)
		st = run(conn, links_sql, 1, params, "extract links", err);
	if (st == ST_OK)
		st = run(conn, touch_sql, 1, params, "mark touched nodes", err);
	return st;
}

/* Re-aggregate every entity the batch has facts for, from all its facts. */
static enum status apply_entities(struct db_conn *conn, const char *seqs, struct err *err)
{
	static const char changes[] =
		"INSERT INTO changes (key, repo, id, repo_id, description, created_at, updated_at,"
		" reviewed_at, merged_at, abandoned_at, first_at)"
		" SELECT key, min(repo), min(change_id), " LATEST("repo_id") ", " LATEST("detail") ","
		AT("created") "," AT("updated") "," AT("reviewed") "," AT("merged") ","
		AT("abandoned") ", coalesce(min(ts) FILTER (WHERE predicate IN"
		" ('created', 'updated', 'reviewed', 'merged')), min(ts))"
		" FROM facts WHERE " AFFECTED("change") " GROUP BY key"
		" ON CONFLICT (key) DO UPDATE SET repo = excluded.repo, id = excluded.id,"
		" repo_id = excluded.repo_id, description = excluded.description,"
		" created_at = excluded.created_at, updated_at = excluded.updated_at,"
		" reviewed_at = excluded.reviewed_at, merged_at = excluded.merged_at,"
		" abandoned_at = excluded.abandoned_at, first_at = excluded.first_at";
	static const char repositories[] =
		"INSERT INTO repositories (key, name, url, created_at, modified_at, deleted_at)"
		" SELECT key, " LATEST("name") ", " LATEST("url") ", " AT("created") ","
		AT("modified") ", " AT("deleted")
		" FROM facts WHERE " AFFECTED("repository") " GROUP BY key"
		" ON CONFLICT (key) DO UPDATE SET name = excluded.name, url = excluded.url,"
		" created_at = excluded.created_at, modified_at = excluded.modified_at,"
		" deleted_at = excluded.deleted_at";
	static const char builds[] =
		"INSERT INTO builds (key, artifact, queued_at, started_at, finished_at)"
		" SELECT key, " LATEST("artifact") ", " AT("queued") ", " AT("started") ","
		AT("finished") " FROM facts WHERE " AFFECTED("build") " GROUP BY key"
		" ON CONFLICT (key) DO UPDATE SET artifact = excluded.artifact,"
		" queued_at = excluded.queued_at, started_at = excluded.started_at,"
		" finished_at = excluded.finished_at";
	static const char artifacts[] =
		"INSERT INTO artifacts (key, packaged_at, signed_at, published_at, deleted_at)"
		" SELECT key, " AT("packaged") ", " AT("signed") ", " AT("published") ","
		AT("deleted") " FROM facts WHERE " AFFECTED("artifact") " GROUP BY key"
		" ON CONFLICT (key) DO UPDATE SET packaged_at = excluded.packaged_at,"
		" signed_at = excluded.signed_at, published_at = excluded.published_at,"
		" deleted_at = excluded.deleted_at";
	static const char pipeline_runs[] =
		"INSERT INTO pipeline_runs (key, name, url, outcome, errors, queued_at, started_at,"
		" finished_at)"
		" SELECT key, " LATEST("name") ", " LATEST("url") ", " LATEST("outcome") ","
		LATEST("detail") ", " AT("queued") ", " AT("started") ", " AT("finished")
		" FROM facts WHERE " AFFECTED("pipeline_run") " GROUP BY key"
		" ON CONFLICT (key) DO UPDATE SET name = excluded.name, url = excluded.url,"
		" outcome = excluded.outcome, errors = excluded.errors, queued_at = excluded.queued_at,"
		" started_at = excluded.started_at, finished_at = excluded.finished_at";
	static const char task_runs[] =
		"INSERT INTO task_runs (key, name, url, outcome, errors, pipeline_run, started_at,"
		" finished_at)"
		" SELECT key, " LATEST("name") ", " LATEST("url") ", " LATEST("outcome") ","
		LATEST("detail") ", " LATEST("parent") ", " AT("started") ", " AT("finished")
		" FROM facts WHERE " AFFECTED("task_run") " GROUP BY key"
		" ON CONFLICT (key) DO UPDATE SET name = excluded.name, url = excluded.url,"
		" outcome = excluded.outcome, errors = excluded.errors,"
		" pipeline_run = excluded.pipeline_run, started_at = excluded.started_at,"
		" finished_at = excluded.finished_at";
	static const char test_suite_runs[] =
		"INSERT INTO test_suite_runs (key, name, environment, outcome, reason, queued_at,"
		" started_at, finished_at)"
		" SELECT key, " LATEST("name") ", " LATEST("environment") ", " LATEST("outcome") ","
		LATEST("detail") ", " AT("queued") ", " AT("started") ", " AT("finished")
		" FROM facts WHERE " AFFECTED("test_suite_run") " GROUP BY key"
		" ON CONFLICT (key) DO UPDATE SET name = excluded.name,"
		" environment = excluded.environment, outcome = excluded.outcome,"
		" reason = excluded.reason, queued_at = excluded.queued_at,"
		" started_at = excluded.started_at, finished_at = excluded.finished_at";
	static const char test_case_runs[] =
		"INSERT INTO test_case_runs (key, name, environment, outcome, reason, test_suite_run,"
		" queued_at, started_at, finished_at, skipped_at)"
		" SELECT key, " LATEST("name") ", " LATEST("environment") ", " LATEST("outcome") ","
		LATEST("detail") ", " LATEST("parent") ", " AT("queued") ", " AT("started") ","
		AT("finished") ", " AT("skipped")
		" FROM facts WHERE " AFFECTED("test_case_run") " GROUP BY key"
		" ON CONFLICT (key) DO UPDATE SET name = excluded.name,"
		" environment = excluded.environment, outcome = excluded.outcome,"
		" reason = excluded.reason, test_suite_run = excluded.test_suite_run,"
		" queued_at = excluded.queued_at, started_at = excluded.started_at,"
		" finished_at = excluded.finished_at, skipped_at = excluded.skipped_at";
	static const char environments[] =
		"INSERT INTO environments (key, name, url, created_at, modified_at, deleted_at)"
		" SELECT key, " LATEST("name") ", " LATEST("url") ", " AT("created") ","
		AT("modified") ", " AT("deleted")
		" FROM facts WHERE " AFFECTED("environment") " GROUP BY key"
		" ON CONFLICT (key) DO UPDATE SET name = excluded.name, url = excluded.url,"
		" created_at = excluded.created_at, modified_at = excluded.modified_at,"
		" deleted_at = excluded.deleted_at";
	static const char deployments[] =
		"INSERT INTO deployments (key, ev_source, ev_id, service, environment, artifact,"
		" kind, at)"
		" SELECT key, ev_source, ev_id, service, environment, artifact, predicate, ts"
		" FROM facts WHERE " SEQS " AND kind = 'deployment'"
		" ON CONFLICT (key) DO NOTHING";
	/* An incident's environment, service and artifact are those its detection or report
	 * names (the earliest that names one). A resolution often names the FIXED artifact, so
	 * it never supplies the artifact; it fills the environment or service only when no
	 * detection or report named one. */
	static const char incidents[] =
		"INSERT INTO incidents (key, description, ticket_url, environment, service, artifact,"
		" detected_at, reported_at, resolved_at, opened_at)"
		" SELECT key, " EARLIEST("detail") ", " LATEST("url") ","
		" coalesce(" EARLIEST(OPENING("environment")) ", " EARLIEST("environment") "),"
		" coalesce(" EARLIEST(OPENING("service")) ", " EARLIEST("service") "),"
		EARLIEST(OPENING("artifact")) ", " AT("detected") ", " AT("reported") ","
		/* a resolution stamped before the opening (clock skew) counts as at the opening:
		 * an incident is never restored before it began */
		" CASE WHEN " AT("resolved") " IS NOT NULL THEN greatest(" AT("resolved") ","
		"  least(" AT("detected") ", " AT("reported") ")) END,"
		" least(" AT("detected") ", " AT("reported") ")"
		" FROM facts WHERE " AFFECTED("incident") " GROUP BY key"
		" ON CONFLICT (key) DO UPDATE SET description = excluded.description,"
		" ticket_url = excluded.ticket_url, environment = excluded.environment,"
		" service = excluded.service, artifact = excluded.artifact,"
		" detected_at = excluded.detected_at, reported_at = excluded.reported_at,"
		" resolved_at = excluded.resolved_at, opened_at = excluded.opened_at";
	static const char *const all[] = {
		changes,  repositories,	   builds,	   artifacts,	 pipeline_runs, task_runs,
		test_suite_runs, test_case_runs, environments, deployments, incidents,
	};
	const char *params[] = {seqs};

	for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
		if (run(conn, all[i], 1, params, "recompute entities", err) != ST_OK)
			return err->status;
	}
	return ST_OK;
}

/* Subject references that need no lookup: the referenced key is known from the fact alone,
 * so these edges only ever accumulate. */
static enum status apply_reference_edges(struct db_conn *conn, const char *seqs, struct err *err)
{
	static const char sql[] =
		"WITH f AS (SELECT * FROM facts WHERE " SEQS "),"
		" r AS ("
		"  SELECT 'repository' AS fk, repo AS fkey, kind AS tk, key AS tkey,"
		"   'repository_reference' AS rule, " EVIDENCE " AS ev"
		"   FROM f WHERE kind = 'change' AND repo <> ''"
		"  UNION ALL SELECT 'build', key, 'artifact', artifact, 'artifact_reference', " EVIDENCE
		"   FROM f WHERE kind = 'build' AND artifact IS NOT NULL"
		"  UNION ALL SELECT 'artifact', artifact, kind, key, 'artifact_reference', " EVIDENCE
		"   FROM f WHERE kind IN ('deployment', 'incident') AND artifact IS NOT NULL"
		"  UNION ALL SELECT 'environment', environment, kind, key, 'environment_reference', "
		EVIDENCE " FROM f WHERE kind IN ('deployment', 'incident', 'test_suite_run',"
		"   'test_case_run') AND environment IS NOT NULL"
		"  UNION ALL SELECT 'pipeline_run', parent, kind, key, 'pipeline_run_reference', "
		EVIDENCE " FROM f WHERE kind = 'task_run' AND parent IS NOT NULL"
		"  UNION ALL SELECT 'test_suite_run', parent, kind, key, 'test_suite_run_reference', "
		EVIDENCE " FROM f WHERE kind = 'test_case_run' AND parent IS NOT NULL"
		" ), ins AS (INSERT INTO edges (from_kind, from_key, to_kind, to_key, rule, evidence)"
		"  SELECT * FROM r ON CONFLICT DO NOTHING RETURNING from_kind, from_key, to_kind, to_key)"
		" INSERT INTO touched (kind, key)"
		"  SELECT from_kind, from_key FROM ins UNION SELECT to_kind, to_key FROM ins";
	const char *params[] = {seqs};

	return run(conn, sql, 1, params, "link subject references", err);
}

/* artifact.packaged's content.change, resolved against the changes seen so far. Re-derived
 * for the batch's references and for every older reference to a change id the batch saw.
 * A reference "names" a change's repository when the canonical names are equal or one ends
 * with the other at a "/" boundary (host/org/repo vs org/repo); the exact match wins.
 * Unresolved references point at the key the reference itself spells. */
/* Does change `c` (repo, repo_id, id) answer reference `r` (change_repo, change_id)? */
#define NAMES_REPO(c, r)                                                                    \
	"(" r ".change_repo IS NULL OR " c ".repo = " r ".change_repo OR " c ".repo_id = " r   \
	".change_repo OR right(" c ".repo, length(" r ".change_repo) + 1) = '/' || " r          \
	".change_repo OR right(" r ".change_repo, length(" c ".repo_id) + 1) = '/' || " c        \
	".repo_id)"
/* The batch's references, and older ones that a change of the batch could answer (same id
 * and a repository name that matches: ids like "42" repeat across repositories), found from
 * the batch's side through facts_change_ref. */
#define CHANGE_REFS                                                                           \
	"SELECT f.*, coalesce((SELECT c.key FROM changes c WHERE c.id = f.change_id AND "          \
	NAMES_REPO("c", "f") " ORDER BY c.repo IS NOT DISTINCT FROM f.change_repo DESC, c.key"    \
	" LIMIT 1), cdlens_key2(coalesce(f.change_repo, ''), f.change_id)) AS resolved"            \
	" FROM facts f WHERE f.seq = ANY (ARRAY("                                                 \
	"  SELECT seq FROM facts WHERE " SEQS " AND kind = 'artifact' AND change_id IS NOT NULL"  \
	"  UNION SELECT a.seq FROM facts b JOIN facts a ON a.change_id = b.change_id"             \
	"   AND a.kind = 'artifact' WHERE b." SEQS " AND b.kind = 'change' AND "                  \
	NAMES_REPO("b", "a") "))"
/* Only links whose resolution changed are removed, and ON CONFLICT keeps existing ones, so a
 * re-resolution that finds the same change touches nothing downstream. */
static enum status apply_change_edges(struct db_conn *conn, const char *seqs, struct err *err)
{
	static const char del[] =
		"WITH refs AS (" CHANGE_REFS "),"
		" d AS (DELETE FROM edges e USING refs r WHERE e.rule = 'change_reference'"
		"  AND e.evidence = cdlens_key2(r.ev_source, r.ev_id) AND e.from_key <> r.resolved"
		"  RETURNING e.from_kind, e.from_key, e.to_kind, e.to_key)"
		" INSERT INTO touched (kind, key)"
		"  SELECT from_kind, from_key FROM d UNION SELECT to_kind, to_key FROM d";
	static const char ins[] =
		"WITH refs AS (" CHANGE_REFS "),"
		" i AS (INSERT INTO edges (from_kind, from_key, to_kind, to_key, rule, evidence)"
		"  SELECT 'change', r.resolved, 'artifact', r.key, 'change_reference',"
		"   cdlens_key2(r.ev_source, r.ev_id)"
		"  FROM refs r ON CONFLICT DO NOTHING"
		"  RETURNING from_kind, from_key, to_kind, to_key)"
		" INSERT INTO touched (kind, key)"
		"  SELECT from_kind, from_key FROM i UNION SELECT to_kind, to_key FROM i";
	const char *params[] = {seqs};
	enum status st = run(conn, del, 1, params, "unlink change references", err);

	return st == ST_OK ? run(conn, ins, 1, params, "link change references", err) : st;
}

/* chainId: every two subjects of different kinds in one chain are linked, upstream to
 * downstream. Facts are only ever added, so a chain's links only grow: each batch adds the
 * pairs that involve one of its own subjects. Chains with more than CHAIN_MAX subjects are a
 * producer reusing one id for unrelated work; linking them pairwise would be quadratic
 * noise, so once a chain grows past the limit its links are removed and no more are made. */
#define CHAIN_MAX "200"
#define BATCH_CHAINS "SELECT DISTINCT chain_id FROM facts WHERE " SEQS " AND chain_id IS NOT NULL"
static enum status apply_chain_edges(struct db_conn *conn, const char *seqs, struct err *err)
{
	static const char del[] =
		"WITH big AS (SELECT chain_id FROM facts WHERE chain_id = ANY (ARRAY(" BATCH_CHAINS "))"
		"  GROUP BY chain_id HAVING count(DISTINCT (kind, key)) > " CHAIN_MAX "),"
		" d AS (DELETE FROM edges WHERE rule = 'chain_id' AND evidence IN (SELECT chain_id FROM big)"
		"  RETURNING from_kind, from_key, to_kind, to_key)"
		" INSERT INTO touched (kind, key)"
		"  SELECT from_kind, from_key FROM d UNION SELECT to_kind, to_key FROM d";
	static const char ins[] =
		"WITH b AS (SELECT DISTINCT chain_id, kind, key FROM facts"
		"  WHERE " SEQS " AND chain_id IS NOT NULL),"
		" n AS (SELECT DISTINCT chain_id, kind, key FROM facts"
		"  WHERE chain_id = ANY (ARRAY(SELECT DISTINCT chain_id FROM b))),"
		" ok AS (SELECT chain_id FROM n GROUP BY chain_id HAVING count(*) <= " CHAIN_MAX "),"
		" p AS (SELECT a.kind AS fk, a.key AS fkey, x.kind AS tk, x.key AS tkey, a.chain_id"
		"   FROM b a JOIN n x USING (chain_id) WHERE cdlens_stage(a.kind) < cdlens_stage(x.kind)"
		"  UNION SELECT x.kind, x.key, a.kind, a.key, a.chain_id"
		"   FROM b a JOIN n x USING (chain_id) WHERE cdlens_stage(x.kind) < cdlens_stage(a.kind)),"
		" i AS (INSERT INTO edges (from_kind, from_key, to_kind, to_key, rule, evidence)"
		"  SELECT fk, fkey, tk, tkey, 'chain_id', chain_id FROM p"
		"  WHERE chain_id IN (SELECT chain_id FROM ok) ON CONFLICT DO NOTHING"
		"  RETURNING from_kind, from_key, to_kind, to_key)"
		" INSERT INTO touched (kind, key)"
		"  SELECT from_kind, from_key FROM i UNION SELECT to_kind, to_key FROM i";
	const char *params[] = {seqs};
	enum status st = run(conn, del, 1, params, "unlink oversized chains", err);

	return st == ST_OK ? run(conn, ins, 1, params, "link chains", err) : st;
}

/* context.links: the subject of the linking event and the subject of the event it names.
 * Made when the second of the two events arrives: for the batch's links, and for older
 * links naming an event of the batch. Only ever added, like the facts they come from. */
#define LINKING                                                                           \
	"SELECT * FROM facts WHERE " SEQS " OR seq = ANY (ARRAY(SELECT seq FROM fact_links"  \
	" WHERE target_id = ANY (ARRAY(SELECT ev_id FROM facts WHERE " SEQS "))))"
static enum status apply_link_edges(struct db_conn *conn, const char *seqs, struct err *err)
{
	static const char ins[] =
		"WITH f AS (" LINKING "),"
		" i AS (INSERT INTO edges (from_kind, from_key, to_kind, to_key, rule, evidence)"
		"  SELECT CASE WHEN up THEN t.kind ELSE f.kind END, CASE WHEN up THEN t.key ELSE f.key END,"
		"   CASE WHEN up THEN f.kind ELSE t.kind END, CASE WHEN up THEN f.key ELSE t.key END,"
		"   'links', cdlens_key2(f.ev_source, f.ev_id)"
		"  FROM f JOIN fact_links l ON l.seq = f.seq JOIN facts t ON t.ev_id = l.target_id"
		"  CROSS JOIN LATERAL (SELECT cdlens_stage(t.kind) <= cdlens_stage(f.kind) AS up) s"
		"  WHERE (t.kind, t.key) <> (f.kind, f.key) ON CONFLICT DO NOTHING"
		"  RETURNING from_kind, from_key, to_kind, to_key)"
		" INSERT INTO touched (kind, key)"
		"  SELECT from_kind, from_key FROM i UNION SELECT to_kind, to_key FROM i";
	const char *params[] = {seqs};

	return run(conn, ins, 1, params, "link linked events", err);
}

/* The change each touched artifact was built from: the best-ranked change link, then the
 * smallest key. */
static enum status apply_artifact_changes(struct db_conn *conn, struct err *err)
{
	static const char sql[] =
		"UPDATE artifacts a SET change = b.change, change_rule = b.rule"
		" FROM (SELECT t.key, best.change, best.rule"
		"  FROM (SELECT DISTINCT key FROM touched WHERE kind = 'artifact') t"
		"  LEFT JOIN LATERAL (SELECT e.from_key AS change, e.rule FROM edges e"
		"   WHERE e.to_kind = 'artifact' AND e.to_key = t.key AND e.from_kind = 'change'"
		"   ORDER BY cdlens_rule_rank(e.rule), e.from_key LIMIT 1) best ON true) b"
		" WHERE a.key = b.key AND (a.change IS DISTINCT FROM b.change"
		"  OR a.change_rule IS DISTINCT FROM b.rule)";

	return run(conn, sql, 0, NULL, "choose artifacts' changes", err);
}

enum status correlate_store_apply(struct db_conn *conn, const char *seqs, const char *purl_map,
				  struct err *err)
{
	enum status st = insert_facts(conn, seqs, purl_map, err);

	if (st == ST_OK)
		st = apply_entities(conn, seqs, err);
	if (st == ST_OK)
		st = apply_reference_edges(conn, seqs, err);
	if (st == ST_OK)
		st = apply_change_edges(conn, seqs, err);
	if (st == ST_OK)
		st = apply_chain_edges(conn, seqs, err);
	if (st == ST_OK)
		st = apply_link_edges(conn, seqs, err);
	if (st == ST_OK)
		st = db_exec(conn, "ANALYZE touched", err);
	if (st == ST_OK)
		st = apply_artifact_changes(conn, err);
	return st;
}

static const char *value_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/*
 * What to re-attribute, per (service, environment): a deployment's attribution depends only
 * on its own candidates, its predecessor's bound and the changes merged between them. So
 * each pair is recomputed from `t0`, the earliest of: a touched deployment; a deployment of a
 * touched artifact; a deployment whose bound was merged no earlier than a change whose merge
 * the batch brought (that change may now fall inside its range; only a change.merged event
 * can move a merge time, so other touched changes cannot change any range). Deployments before t0 are not re-attributed;
 * the ones at the latest time before t0 come along as context (save = false) so the first
 * re-attributed one has its predecessor. Usually t0 is recent and the suffix is short.
 */
enum status correlate_store_load_attribution(struct db_conn *conn, correlate_store_candidate_fn fn,
					     void *arg, struct err *err)
{
	static const char sql[] =
		"WITH starts AS ("
		"  SELECT d.service, d.environment, d.at FROM deployments d"
		"   JOIN touched t ON t.kind = 'deployment' AND t.key = d.key"
		"  UNION ALL SELECT d.service, d.environment, d.at FROM deployments d"
		"   JOIN touched t ON t.kind = 'artifact' AND t.key = d.artifact"
		"  UNION ALL SELECT d.service, d.environment, d.at"
		"   FROM touched t JOIN changes c ON t.kind = 'merged' AND c.key = t.key"
		"   JOIN changes c2 ON c2.repo = c.repo AND c2.merged_at >= c.merged_at"
		"   JOIN deployment_changes dc ON dc.change = c2.key AND dc.direct"
		"   JOIN deployments d ON d.key = dc.deployment"
		" ), pairs AS (SELECT service, environment, min(at) AS t0 FROM starts GROUP BY 1, 2),"
		" bounds AS MATERIALIZED (SELECT p.service, p.environment, p.t0, coalesce((SELECT max(d.at)"
		"   FROM deployments d WHERE d.service = p.service"
		"    AND d.environment = p.environment"
		"    AND d.kind <> 'removed' AND d.at < p.t0), p.t0) AS from_at FROM pairs p)"
		" SELECT d.key, cdlens_key2(d.service, d.environment), cand.change, cand.rule,"
		"  cdlens_rule_rank(cand.rule), c.repo, c.merged_at IS NOT NULL,"
		"  (extract(epoch FROM c.merged_at) * 1000000)::bigint, cand.evidence, d.at >= b.t0"
		/* LATERAL: an index range per pair, never a scan of all deployments */
		" FROM bounds b CROSS JOIN LATERAL (SELECT * FROM deployments d"
		"  WHERE d.service = b.service AND d.environment = b.environment"
		"   AND d.at >= b.from_at) d"
		" LEFT JOIN LATERAL ("
		"  SELECT e.from_key AS change, e.rule, NULL::text AS evidence FROM edges e"
		"   WHERE e.to_kind = 'deployment' AND e.to_key = d.key AND e.from_kind = 'change'"
		"    AND e.rule IN ('links', 'chain_id')"
		"  UNION SELECT a.change, 'artifact', a.key FROM artifacts a"
		"   WHERE a.key = d.artifact AND a.change IS NOT NULL"
		" ) cand ON true"
		" LEFT JOIN changes c ON c.key = cand.change"
		" WHERE d.kind <> 'removed'"
		" ORDER BY 2, d.at, d.ev_source, d.ev_id, 5, 3";
	PGresult *res = db_query_prepared(conn, sql, 0, NULL, PGRES_TUPLES_OK,
					  "load deployments to attribute", err);

	if (!res)
		return err->status;
	for (int i = 0; i < PQntuples(res); i++) {
		struct correlate_store_candidate c = {
			.deployment = PQgetvalue(res, i, 0),
			.pair = PQgetvalue(res, i, 1),
			.change = value_or_null(res, i, 2),
			.rule = value_or_null(res, i, 3),
			.rank = atoi(PQgetvalue(res, i, 4)),
			.repo = value_or_null(res, i, 5),
			.has_merged = PQgetvalue(res, i, 6)[0] == 't',
			.merged_us = strtoll(PQgetvalue(res, i, 7), NULL, 10),
			.evidence = value_or_null(res, i, 8),
			.save = PQgetvalue(res, i, 9)[0] == 't',
		};
		fn(arg, &c);
	}
	PQclear(res);
	return ST_OK;
}

/* The desired rows go to the attr_rows work table first; then only rows that differ are
 * deleted or inserted. Rewriting every row of the re-attributed suffix each batch (a
 * production release can ship a hundred changes) was most of the correlator's time. */
static enum status stage_attribution(struct db_conn *conn, const char *direct,
				     const char *ranges, struct err *err)
{
	static const char ins_direct[] =
		"INSERT INTO attr_rows (deployment, change, rule, direct, evidence)"
		" SELECT DISTINCT d, c, rule, true, evidence FROM jsonb_to_recordset($1::jsonb)"
		"  AS r(d text, c text, rule text, evidence text)";
	/* Changes merged into the range's repository after `lo` and no later than `hi`; a
	 * change that is also direct keeps only its direct row. */
	static const char ins_range[] =
		"INSERT INTO attr_rows (deployment, change, rule, direct, evidence)"
		" SELECT DISTINCT r.d, c.key, 'commit_range', false, r.prev"
		" FROM jsonb_to_recordset($1::jsonb) AS r(d text, prev text, lo text, hi text)"
		" JOIN changes lo ON lo.key = r.lo JOIN changes hi ON hi.key = r.hi"
		" JOIN changes c ON c.repo = hi.repo AND c.merged_at > lo.merged_at"
		"  AND c.merged_at <= hi.merged_at"
		" WHERE NOT EXISTS (SELECT 1 FROM attr_rows a WHERE a.deployment = r.d"
		"  AND a.change = c.key)";
	const char *p2[] = {direct}, *p3[] = {ranges};
	enum status st = run(conn, ins_direct, 1, p2, "stage direct changes", err);

	if (st == ST_OK)
		st = run(conn, ins_range, 1, p3, "stage commit ranges", err);
	return st == ST_OK ? db_exec(conn, "ANALYZE attr_rows", err) : st;
}

enum status correlate_store_save_attribution(struct db_conn *conn, const char *deployments,
					     const char *direct, const char *ranges,
					     struct err *err)
{
	/* every change whose attribution rows change is marked 'chg_deps' in touched, for the
	 * change_deployments refresh (correlate_store_metric_facts) */
	static const char del[] =
		/* = ANY(ARRAY(...)): an index lookup per key, where IN (subquery) would be
		 * planned as a hash join over the whole table */
		"WITH x AS (DELETE FROM deployment_changes dc"
		"  WHERE dc.deployment = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))"
		"   AND NOT EXISTS (SELECT 1 FROM attr_rows a WHERE a.deployment = dc.deployment"
		"    AND a.change = dc.change AND a.rule = dc.rule AND a.direct = dc.direct"
		"    AND a.evidence IS NOT DISTINCT FROM dc.evidence)"
		"  RETURNING change)"
		" INSERT INTO touched (kind, key) SELECT DISTINCT 'chg_deps', change FROM x";
	static const char ins[] =
		"WITH i AS (INSERT INTO deployment_changes (deployment, change, rule, direct, evidence)"
		"  SELECT deployment, change, rule, direct, evidence FROM attr_rows"
		"  ON CONFLICT DO NOTHING RETURNING change)"
		" INSERT INTO touched (kind, key) SELECT DISTINCT 'chg_deps', change FROM i";
	static const char del_edges[] =
		"DELETE FROM edges e USING (SELECT jsonb_array_elements_text($1::jsonb) AS key) d"
		" WHERE e.to_kind = 'deployment' AND e.to_key = d.key AND e.rule = 'commit_range'"
		"  AND NOT EXISTS (SELECT 1 FROM attr_rows a WHERE a.deployment = e.to_key"
		"   AND a.change = e.from_key AND a.rule = 'commit_range' AND a.evidence = e.evidence)";
	static const char ins_edges[] =
		"INSERT INTO edges (from_kind, from_key, to_kind, to_key, rule, evidence)"
		" SELECT 'change', change, 'deployment', deployment, 'commit_range', evidence"
		" FROM attr_rows WHERE rule = 'commit_range' ON CONFLICT DO NOTHING";
	const char *p1[] = {deployments};
	enum status st = stage_attribution(conn, direct, ranges, err);

	if (st == ST_OK)
		st = run(conn, del, 1, p1, "clear changed attribution", err);
	if (st == ST_OK)
		st = run(conn, ins, 0, NULL, "store attribution", err);
	if (st == ST_OK)
		st = run(conn, del_edges, 1, p1, "unlink changed commit ranges", err);
	if (st == ST_OK)
		st = run(conn, ins_edges, 0, NULL, "link commit ranges", err);
	return st;
}

/* Incidents to re-attribute: touched ones, and those opened at or after a touched deployment
 * in their environment (or, without an environment, naming its artifact): a deployment can
 * only be chosen by incidents opened after it. */
enum status correlate_store_incidents(struct db_conn *conn, struct err *err)
{
	static const char mark[] =
		"WITH td AS (SELECT d.environment, d.artifact, d.at FROM deployments d"
		"  JOIN touched t ON t.kind = 'deployment' AND t.key = d.key)"
		" INSERT INTO touched (kind, key)"
		" SELECT 'incident_attr', key FROM touched WHERE kind = 'incident'"
		" UNION SELECT 'incident_attr', i.key FROM (SELECT environment, min(at) AS t0 FROM td"
		"   GROUP BY 1) e JOIN incidents i ON i.environment = e.environment"
		"   AND i.opened_at >= e.t0"
		" UNION SELECT 'incident_attr', i.key FROM (SELECT artifact, min(at) AS t0 FROM td"
		"   GROUP BY 1) a JOIN incidents i ON i.environment IS NULL"
		"   AND i.artifact = a.artifact AND i.opened_at >= a.t0";
	/* old and new deployments of re-attributed incidents are marked 'dep_facts' */
	static const char del[] =
		"WITH d AS (DELETE FROM incident_deployments WHERE incident IN"
		"  (SELECT key FROM touched WHERE kind = 'incident_attr') RETURNING deployment)"
		" INSERT INTO touched (kind, key) SELECT DISTINCT 'dep_facts', deployment FROM d";
	/* The latest deployment at or before the incident's first detected/reported time: of its
	 * artifact if it names one; when none (it names an artifact never deployed there, or
	 * spelt otherwise), of its service in its environment; when it names no service, of any
	 * service in its environment. The first rule that finds one wins (`rank`). */
	static const char ins[] =
		"WITH n AS (INSERT INTO incident_deployments (incident, deployment, rule)"
		" SELECT i.key, p.key, p.rule FROM incidents i"
		" CROSS JOIN LATERAL (SELECT * FROM ("
		"  (SELECT d.key, 'artifact' AS rule, 1 AS rank FROM deployments d"
		"   WHERE i.artifact IS NOT NULL AND d.artifact = i.artifact"
		"    AND (i.environment IS NULL OR d.environment = i.environment)"
		"    AND d.kind <> 'removed' AND d.at <= i.opened_at"
		"   ORDER BY d.at DESC, d.ev_source DESC, d.ev_id DESC LIMIT 1)"
		"  UNION ALL (SELECT d.key, 'service', 2 FROM deployments d"
		"   WHERE i.service IS NOT NULL AND d.service = i.service"
		"    AND d.environment = i.environment AND d.kind <> 'removed' AND d.at <= i.opened_at"
		"   ORDER BY d.at DESC, d.ev_source DESC, d.ev_id DESC LIMIT 1)"
		"  UNION ALL (SELECT d.key, 'environment', 3 FROM deployments d"
		"   WHERE i.service IS NULL AND d.environment = i.environment"
		"    AND d.kind <> 'removed' AND d.at <= i.opened_at"
		"   ORDER BY d.at DESC, d.ev_source DESC, d.ev_id DESC LIMIT 1)) x"
		"  ORDER BY rank LIMIT 1) p"
		" WHERE i.key IN (SELECT key FROM touched WHERE kind = 'incident_attr')"
		" RETURNING deployment)"
		" INSERT INTO touched (kind, key) SELECT DISTINCT 'dep_facts', deployment FROM n";
	enum status st = run(conn, mark, 0, NULL, "find incidents to attribute", err);

	if (st == ST_OK)
		st = run(conn, del, 0, NULL, "clear incident attribution", err);
	if (st == ST_OK)
		st = run(conn, ins, 0, NULL, "attribute incidents", err);
	return st;
}

/*
 * The DORA facts (0004_metric_facts.sql) of what this batch changed:
 *   change_deployments for every change whose attribution rows or own times changed;
 *   deployment_facts for each (service, environment) from the earliest touched deployment
 *   (new, or whose incidents were re-attributed), with its predecessor, whose `next` changes.
 */
#define PROD_KINDS "('deployed', 'upgraded', 'rolledback')"
enum status correlate_store_metric_facts(struct db_conn *conn, struct err *err)
{
	static const char del_changes[] =
		"DELETE FROM change_deployments WHERE change IN"
		" (SELECT key FROM touched WHERE kind IN ('chg_deps', 'change'))";
	static const char ins_changes[] =
		"INSERT INTO change_deployments (change, service, environment, first_at, deployment,"
		" rule, change_first_at)"
		" SELECT DISTINCT ON (dc.change, d.service, d.environment) dc.change, d.service,"
		"  d.environment, d.at, d.key, dc.rule, c.first_at"
		" FROM deployment_changes dc JOIN deployments d ON d.key = dc.deployment"
		" LEFT JOIN changes c ON c.key = dc.change"
		" WHERE dc.change IN (SELECT key FROM touched WHERE kind IN ('chg_deps', 'change'))"
		"  AND d.kind IN " PROD_KINDS " AND d.environment IS NOT NULL"
		" ORDER BY dc.change, d.service, d.environment, d.at, d.ev_source, d.ev_id,"
		"  cdlens_rule_rank(dc.rule), dc.rule";
	static const char deployments[] =
		"WITH starts AS (SELECT d.service, d.environment, d.at FROM deployments d"
		"  JOIN touched t ON t.kind IN ('deployment', 'dep_facts') AND t.key = d.key"
		"  WHERE d.kind IN " PROD_KINDS "),"
		" pairs AS (SELECT service, environment, min(at) AS t0 FROM starts GROUP BY 1, 2),"
		" bounds AS MATERIALIZED (SELECT p.service, p.environment, coalesce((SELECT max(d.at)"
		"   FROM deployments d WHERE d.service = p.service AND d.environment = p.environment"
		"    AND d.kind IN " PROD_KINDS " AND d.at < p.t0), p.t0) AS from_at FROM pairs p)"
		" INSERT INTO deployment_facts (deployment, next, next_kind, next_at, incidents, failed,"
		"  restored_at, rework_incident, service, environment, kind, at)"
		" SELECT d.key, n.key, n.kind, n.at, fi.keys,"
		"  coalesce(n.kind = 'rolledback', false) OR fi.keys IS NOT NULL,"
		/* restored: with incidents, when the last of them is resolved (a rollback that
		 * leaves one open has not restored the service); without, at the rollback */
		"  CASE WHEN fi.keys IS NULL THEN CASE WHEN n.kind = 'rolledback' THEN n.at END"
		"   WHEN fi.all_resolved THEN fi.resolved END, rw.key,"
		"  d.service, d.environment, d.kind, d.at"
		" FROM bounds b CROSS JOIN LATERAL (SELECT * FROM deployments d"
		"  WHERE d.service = b.service AND d.environment = b.environment"
		"   AND d.at >= b.from_at) d"
		" LEFT JOIN LATERAL (SELECT n.key, n.kind, n.at FROM deployments n"
		"  WHERE n.service = d.service AND n.environment = d.environment"
		"   AND n.kind IN " PROD_KINDS " AND n.at >= d.at"
		"   AND (n.at, n.ev_source, n.ev_id) > (d.at, d.ev_source, d.ev_id)"
		"  ORDER BY n.at, n.ev_source, n.ev_id LIMIT 1) n ON true"
		" LEFT JOIN LATERAL (SELECT jsonb_agg(i.key ORDER BY i.opened_at, i.key) AS keys,"
		"   max(i.resolved_at) AS resolved, bool_and(i.resolved_at IS NOT NULL) AS all_resolved"
		"  FROM incident_deployments x JOIN incidents i ON i.key = x.incident"
		"  WHERE x.deployment = d.key AND (n.at IS NULL OR i.opened_at < n.at)) fi ON true"
		/* rework: an incident attributed to an earlier deployment of S in E, open at d.
		 * Open at t = resolved after t, or unresolved: each branch an index range that
		 * stays small however long the history (0004's incidents_env_* indexes). */
		" LEFT JOIN LATERAL (SELECT i.key FROM ("
		"   SELECT key, opened_at FROM incidents WHERE environment = d.environment"
		"    AND resolved_at > d.at AND opened_at <= d.at"
		"   UNION ALL SELECT key, opened_at FROM incidents WHERE environment = d.environment"
		"    AND resolved_at IS NULL AND opened_at <= d.at"
		"   UNION ALL SELECT key, opened_at FROM incidents WHERE environment IS NULL"
		"    AND (resolved_at IS NULL OR resolved_at > d.at) AND opened_at <= d.at) i"
		"  JOIN incident_deployments x ON x.incident = i.key"
		"  JOIN deployments e ON e.key = x.deployment"
		"  WHERE e.service = d.service AND e.environment = d.environment"
		"   AND (e.at, e.ev_source, e.ev_id) < (d.at, d.ev_source, d.ev_id)"
		"  ORDER BY i.opened_at, i.key LIMIT 1) rw ON true"
		" WHERE d.kind IN " PROD_KINDS
		" ON CONFLICT (deployment) DO UPDATE SET next = excluded.next,"
		" next_kind = excluded.next_kind, next_at = excluded.next_at,"
		" incidents = excluded.incidents, failed = excluded.failed,"
		" restored_at = excluded.restored_at, rework_incident = excluded.rework_incident,"
		" service = excluded.service, environment = excluded.environment,"
		" kind = excluded.kind, at = excluded.at";
	/* each touched change's first production deployment, overall and per service; ties
	 * broken by the deployment key, as sql/metrics_store.c's general query does */
	static const char del_production[] =
		"WITH t AS (SELECT DISTINCT key FROM touched"
		"  WHERE kind IN ('chg_deps', 'change', 'chg_prod')),"
		" a AS (DELETE FROM change_production WHERE change IN (SELECT key FROM t))"
		" DELETE FROM change_service_production WHERE change IN (SELECT key FROM t)";
	static const char ins_production[] =
		"INSERT INTO change_production (change, service, environment, first_at, deployment,"
		" rule, change_first_at)"
		" SELECT DISTINCT ON (cd.change) cd.change, cd.service, cd.environment, cd.first_at,"
		"  cd.deployment, cd.rule, cd.change_first_at"
		" FROM change_deployments cd JOIN production_environments p"
		"  ON p.environment = cd.environment"
		" WHERE cd.change IN (SELECT key FROM touched"
		"  WHERE kind IN ('chg_deps', 'change', 'chg_prod'))"
		" ORDER BY cd.change, cd.first_at, cd.deployment";
	static const char ins_service_production[] =
		"INSERT INTO change_service_production (change, service, environment, first_at,"
		" deployment, rule, change_first_at)"
		" SELECT DISTINCT ON (cd.change, cd.service) cd.change, cd.service, cd.environment,"
		"  cd.first_at, cd.deployment, cd.rule, cd.change_first_at"
		" FROM change_deployments cd JOIN production_environments p"
		"  ON p.environment = cd.environment"
		" WHERE cd.change IN (SELECT key FROM touched"
		"  WHERE kind IN ('chg_deps', 'change', 'chg_prod'))"
		" ORDER BY cd.change, cd.service, cd.first_at, cd.deployment";
	enum status st = run(conn, del_changes, 0, NULL, "clear change deployments", err);

	if (st == ST_OK)
		st = run(conn, ins_changes, 0, NULL, "store change deployments", err);
	if (st == ST_OK)
		st = run(conn, deployments, 0, NULL, "store deployment facts", err);
	if (st == ST_OK)
		st = run(conn, del_production, 0, NULL, "clear production facts", err);
	if (st == ST_OK)
		st = run(conn, ins_production, 0, NULL, "store first production deployments", err);
	if (st == ST_OK)
		st = run(conn, ins_service_production, 0, NULL,
			 "store first production deployments per service", err);
	return st;
}

/* ---- production environments ---- */

enum status correlate_store_production_pattern(struct db_conn *conn, const char *pattern,
					       bool *same, struct err *err)
{
	static const char sql[] =
		"SELECT EXISTS (SELECT 1 FROM production_pattern WHERE pattern = $1)";
	const char *params[] = {pattern};
	PGresult *res = db_query_prepared(conn, sql, 1, params, PGRES_TUPLES_OK,
					  "read the production pattern", err);

	if (!res)
		return err->status;
	*same = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return ST_OK;
}

enum status correlate_store_production_candidates(struct db_conn *conn, bool all,
						  correlate_store_env_fn fn, void *arg,
						  struct err *err)
{
	static const char touched_sql[] =
		"SELECT x.env, v.name, p.environment IS NOT NULL FROM ("
		"  SELECT d.environment AS env FROM touched t JOIN deployments d"
		"   ON t.kind = 'deployment' AND d.key = t.key WHERE d.environment IS NOT NULL"
		"  UNION SELECT key FROM touched WHERE kind = 'environment') x"
		" LEFT JOIN environments v ON v.key = x.env"
		" LEFT JOIN production_environments p ON p.environment = x.env ORDER BY 1";
	/* every environment deployments name (a loose index scan: one probe per environment)
	 * and every one environment events describe */
	static const char all_sql[] =
		"WITH RECURSIVE e AS ("
		"  (SELECT environment FROM deployments ORDER BY environment LIMIT 1)"
		"  UNION ALL SELECT (SELECT d.environment FROM deployments d"
		"   WHERE d.environment > e.environment ORDER BY d.environment LIMIT 1)"
		"  FROM e WHERE e.environment IS NOT NULL)"
		" SELECT x.env, v.name, p.environment IS NOT NULL FROM ("
		"  SELECT environment AS env FROM e WHERE environment IS NOT NULL"
		"  UNION SELECT key FROM environments) x"
		" LEFT JOIN environments v ON v.key = x.env"
		" LEFT JOIN production_environments p ON p.environment = x.env ORDER BY 1";
	PGresult *res = db_query_prepared(conn, all ? all_sql : touched_sql, 0, NULL,
					  PGRES_TUPLES_OK, "read environments to classify", err);

	if (!res)
		return err->status;
	for (int i = 0; i < PQntuples(res); i++)
		fn(arg, PQgetvalue(res, i, 0), PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1),
		   PQgetvalue(res, i, 2)[0] == 't');
	PQclear(res);
	return ST_OK;
}

enum status correlate_store_production_update(struct db_conn *conn, const char *pattern,
					      const char *add, const char *remove,
					      struct err *err)
{
	/* a new pattern: every change is re-derived (DELETE, not TRUNCATE, so readers of the
	 * old rows are not blocked while this transaction runs) */
	static const char reset[] =
		"WITH p AS (INSERT INTO production_pattern (pattern) VALUES ($1)"
		"  ON CONFLICT (only_row) DO UPDATE SET pattern = excluded.pattern),"
		" e AS (DELETE FROM production_environments),"
		" c AS (DELETE FROM change_production),"
		" s AS (DELETE FROM change_service_production)"
		" INSERT INTO touched (kind, key) SELECT DISTINCT 'chg_prod', change"
		"  FROM change_deployments";
	static const char changed[] =
		"WITH a AS (INSERT INTO production_environments (environment)"
		"  SELECT jsonb_array_elements_text($1::jsonb) ON CONFLICT DO NOTHING"
		"  RETURNING environment),"
		" r AS (DELETE FROM production_environments"
		"  WHERE environment = ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))"
		"  RETURNING environment)"
		" INSERT INTO touched (kind, key) SELECT DISTINCT 'chg_prod', cd.change"
		"  FROM (SELECT environment FROM a UNION SELECT environment FROM r) x"
		"  JOIN change_deployments cd ON cd.environment = x.environment";
	const char *p1[] = {pattern}, *p2[] = {add, remove};
	enum status st = ST_OK;

	if (pattern)
		st = run(conn, reset, 1, p1, "reset production environments", err);
	if (st == ST_OK)
		st = run(conn, changed, 2, p2, "record production environments", err);
	return st;
}

enum status correlate_store_fail(struct db_conn *conn, const char *seq, const char *error,
				 struct err *err)
{
	static const char sql[] =
		"WITH d AS (DELETE FROM correlate_queue WHERE seq = $1::bigint RETURNING seq)"
		" INSERT INTO correlate_failed (seq, error) SELECT seq, $2 FROM d"
		" ON CONFLICT (seq) DO UPDATE SET error = excluded.error, failed_at = now()";
	const char *params[] = {seq, error};

	return run(conn, sql, 2, params, "set an event aside", err);
}

enum status correlate_store_reset(struct db_conn *conn, struct err *err)
{
	static const char sql[] =
		"BEGIN;"
		"SELECT pg_advisory_xact_lock(hashtext('cdlens.correlate'));"
		"TRUNCATE facts, fact_links, repositories, changes, builds, artifacts, pipeline_runs,"
		" task_runs, test_suite_runs, test_case_runs, environments, deployments, incidents,"
		" edges, deployment_changes, incident_deployments, correlate_failed,"
		" deployment_facts, change_deployments, production_pattern, production_environments,"
		" change_production, change_service_production;"
		"INSERT INTO correlate_queue (seq) SELECT seq FROM events ON CONFLICT DO NOTHING;"
		"COMMIT;";
	PGresult *res = db_query(conn, sql, 0, NULL, PGRES_COMMAND_OK, "reset the linked model", err);

	if (!res) {
		correlate_store_rollback(conn);
		return err->status;
	}
	PQclear(res);
	return ST_OK;
}

enum status correlate_store_pending(struct db_conn *conn, int64_t *pending, double *oldest_s,
				    struct err *err)
{
	static const char sql[] =
		/* exact up to 100,000; beyond, the seq span (an upper bound: identities skipped by
		 * duplicates and failed inserts leave gaps), so /readyz stays cheap under backlog */
		"WITH c AS (SELECT count(*) AS n FROM (SELECT 1 FROM correlate_queue LIMIT 100001) x)"
		" SELECT CASE WHEN c.n <= 100000 THEN c.n ELSE (SELECT max(seq) - min(seq) + 1"
		"  FROM correlate_queue) END, coalesce(extract(epoch FROM now() -"
		" (SELECT received_at FROM events WHERE seq = (SELECT min(seq) FROM correlate_queue))),"
		" 0)::float8 FROM c";
	PGresult *res = db_query_prepared(conn, sql, 0, NULL, PGRES_TUPLES_OK,
					  "measure correlation lag", err);

	if (!res)
		return err->status;
	*pending = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	*oldest_s = strtod(PQgetvalue(res, 0, 1), NULL);
	PQclear(res);
	return ST_OK;
}
