/*
 * web/api_trace.c: GET /api/v1/trace, the delivery trace of one change, artifact, deployment
 * or chain (what was built, packaged and deployed where, what broke, what was rolled back).
 *
 * Order: parse the query string (400) -> check that exactly one selector is given, with only
 * the parameters it takes (400) -> canonicalize a purl (400) -> load the trace in one
 * snapshot (sql/trace_store.c; 404 when nothing matches, 503 without a database) -> 200.
 *
 * The sections arrive from PostgreSQL as JSON texts and are placed in the response as they
 * are; cJSON writes the rest. The final text then gets '<', '>' and '&' as \u escapes, like
 * every JSON text cdlens writes (core/buf.c), so it can be embedded in HTML. This is safe on
 * the whole text because in JSON those bytes can only occur inside strings.
 * When you add a parameter: add it to `params` below, to the problem tests in
 * tests/web/test_trace_http.c and to docs/API.md.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "correlate/purl.h"
#include "sql/db.h"
#include "sql/trace_store.h"
#include "web/app.h"
#include "web/handlers.h"
#include "web/query.h"
#include "web/request.h"

#define SELECTORS_HINT                                                                      \
	"Give exactly one of change (with repository), artifact, deployment (optionally with " \
	"source) or chain."

/* Every parameter the endpoint knows: the four selectors, then the ones that qualify one. */
static const struct {
	const char *name;
	const char *selector; /* NULL: this is a selector */
} params[] = {
	{"change", NULL},	{"artifact", NULL},	     {"deployment", NULL},
	{"chain", NULL},	{"repository", "change"}, {"source", "deployment"},
};

#define NPARAMS (sizeof params / sizeof params[0])

static bool known(const char *name)
{
	for (size_t i = 0; i < NPARAMS; i++)
		if (strcmp(params[i].name, name) == 0)
			return true;
	return false;
}

/* Each known parameter at most once and not empty; returns the selector given, if one. */
static enum status one_selector(const struct query *q, const char **selector, struct err *err)
{
	*selector = NULL;
	for (size_t i = 0; i < NPARAMS; i++) {
		const char *name = params[i].name, *v = query_get(q, name);
		if (query_count(q, name) > 1)
			return err_set(err, ST_INVALID, "parameter \"%s\" is given more than once",
				       name);
		if (v && !v[0])
			return err_set(err, ST_INVALID, "parameter \"%s\" is empty", name);
		if (!v || params[i].selector)
			continue;
		if (*selector) {
			err_set(err, ST_INVALID, "parameters \"%s\" and \"%s\" cannot be combined",
				*selector, name);
			err_detail(err, SELECTORS_HINT);
			return ST_INVALID;
		}
		*selector = name;
	}
	return ST_OK;
}

/* Without a selector: name the first unknown parameter, or else the first qualifying one
 * (given without its selector), or else all four selectors. */
static enum status no_selector(const struct query *q, struct err *err)
{
	char shown[QUERY_QUOTE_MAX];
	const char *unknown = NULL;
	size_t lone = NPARAMS;

	for (size_t i = 0; i < q->n && !unknown; i++)
		if (!known(q->params[i].name))
			unknown = q->params[i].name;
	for (size_t i = 0; i < NPARAMS && lone == NPARAMS; i++)
		if (query_get(q, params[i].name))
			lone = i;
	if (unknown)
		err_set(err, ST_INVALID, "unknown parameter \"%s\"",
			query_quote_name(unknown, shown));
	else if (lone < NPARAMS)
		err_set(err, ST_INVALID, "parameter \"%s\" is only used with \"%s\"",
			params[lone].name, params[lone].selector);
	else
		err_set(err, ST_INVALID, "missing parameter \"change\", \"artifact\", "
					 "\"deployment\" or \"chain\"");
	err_detail(err, SELECTORS_HINT);
	return ST_INVALID;
}

/* The qualifying parameters given must belong to `selector`; change needs repository. */
static enum status companions(const struct query *q, const char *selector, struct err *err)
{
	for (size_t i = 0; i < NPARAMS; i++)
		if (params[i].selector && query_get(q, params[i].name) &&
		    strcmp(params[i].selector, selector) != 0)
			return err_set(err, ST_INVALID, "parameter \"%s\" is only used with \"%s\"",
				       params[i].name, params[i].selector);
	if (strcmp(selector, "change") == 0 && !query_get(q, "repository")) {
		err_set(err, ST_INVALID, "missing parameter \"repository\"");
		err_detail(err, "A change id is unique only within its repository: add "
				"repository=<name>, in any spelling (https://github.com/org/"
				"repo.git, github.com/org/repo, org/repo).");
		return ST_INVALID;
	}
	return ST_OK;
}

/* The canonical form of the artifact parameter into `purl`. */
static enum status canonical_artifact(const char *given, struct buf *purl, struct err *err)
{
	struct err perr = {0};

	if (purl_canonicalize(given, strlen(given), 0, purl, &perr) == ST_OK)
		return ST_OK;
	/* purl messages quote input as ASCII (err_quote()): safe in a JSON reply as they are */
	err_set(err, ST_INVALID, "parameter \"artifact\" is not a valid package URL: %s",
		perr.msg);
	err_detail(err, "Give a package URL such as pkg:oci/app@sha256%%3Aabc?repository_url="
			"ghcr.io/org/app, in any spelling of it.");
	return ST_INVALID;
}

/* Check the parameters and fill `sel` (its strings point into `q` and `purl`). */
static enum status selector_of(const struct query *q, struct trace_store_selector *sel,
			       struct buf *purl, struct err *err)
{
	const char *selector;
	enum status st = one_selector(q, &selector, err);

	if (st != ST_OK)
		return st;
	if (!selector)
		return no_selector(q, err);
	if ((st = companions(q, selector, err)) != ST_OK)
		return st;
	const char *id = query_get(q, selector);
	if (strcmp(selector, "change") == 0) {
		*sel = (struct trace_store_selector){TRACE_STORE_BY_CHANGE, id,
						     query_get(q, "repository")};
	} else if (strcmp(selector, "artifact") == 0) {
		st = canonical_artifact(id, purl, err);
		*sel = (struct trace_store_selector){TRACE_STORE_BY_ARTIFACT, buf_cstr(purl), NULL};
	} else if (strcmp(selector, "deployment") == 0) {
		*sel = (struct trace_store_selector){TRACE_STORE_BY_DEPLOYMENT, id,
						     query_get(q, "source")};
	} else {
		*sel = (struct trace_store_selector){TRACE_STORE_BY_CHAIN, id, NULL};
	}
	return st;
}

/* The "query" member: the selector as given (and the purl as it was matched). */
static void add_query(cJSON *root, const struct query *q, const struct trace_store_selector *sel)
{
	cJSON *o = cJSON_AddObjectToObject(root, "query");

	switch (sel->by) {
	case TRACE_STORE_BY_CHANGE:
		cJSON_AddStringToObject(o, "change", sel->id);
		cJSON_AddStringToObject(o, "repository", sel->scope);
		break;
	case TRACE_STORE_BY_ARTIFACT:
		cJSON_AddStringToObject(o, "artifact", query_get(q, "artifact"));
		cJSON_AddStringToObject(o, "purl", sel->id);
		break;
	case TRACE_STORE_BY_DEPLOYMENT:
		cJSON_AddStringToObject(o, "deployment", sel->id);
		if (sel->scope)
			cJSON_AddStringToObject(o, "source", sel->scope);
		else
			cJSON_AddNullToObject(o, "source");
		break;
	case TRACE_STORE_BY_CHAIN:
		cJSON_AddStringToObject(o, "chain", sel->id);
		break;
	}
}

static int reply_trace(struct request *req, const struct query *q,
		       const struct trace_store_selector *sel, const struct trace_store_result *r)
{
	cJSON *root = cJSON_CreateObject();

	add_query(root, q, sel);
	cJSON_AddRawToObject(root, "changes", r->changes);
	cJSON_AddRawToObject(root, "builds", r->builds);
	cJSON_AddRawToObject(root, "artifacts", r->artifacts);
	cJSON_AddRawToObject(root, "pipeline_runs", r->pipeline_runs);
	cJSON_AddRawToObject(root, "environments", r->environments);
	cJSON_AddRawToObject(root, "links", r->links);
	cJSON_AddBoolToObject(root, "truncated", r->truncated);
	return reply_cjson(req, root);
}

int api_trace(struct request *req)
{
	struct query q = {0};
	struct trace_store_selector sel = {0};
	struct trace_store_result r = {0};
	struct buf purl = BUF_INIT(0);
	struct db_conn *conn = NULL;
	int status;

	if (query_parse(req->query, &q, &req->err) != ST_OK ||
	    selector_of(&q, &sel, &purl, &req->err) != ST_OK) {
		status = reply_problem(req, &req->err, -1);
		goto out;
	}
	if (!(conn = db_acquire(req->app->pool, 1000, &req->err))) {
		status = reply_problem(req, &req->err, -1);
		goto out;
	}
	enum status st = trace_store_load(conn, &sel, &r, &req->err);
	db_release(req->app->pool, conn); /* before writing: the reply may be slow to send */
	conn = NULL;
	status = st == ST_OK ? reply_trace(req, &q, &sel, &r) : reply_problem(req, &req->err, -1);
out:
	db_release(req->app->pool, conn);
	trace_store_result_release(&r);
	buf_release(&purl);
	query_release(&q);
	return status;
}
