/*
 * correlate/correlator.c: the background thread and the batch procedure.
 *
 *   queue (trigger-filled) --claim--> batch --canonical purls (C)--> facts, entities, edges (SQL)
 *        --candidates--> attribution_compute (pure C) --> deployment_changes
 *        --> incident attribution --> COMMIT
 *
 * Why a queue table and not "seq > last seen": identity values are handed out before commit,
 * so a later seq can commit first; a cursor would skip the earlier one for ever.
 * Why polling: the queue is checked every CORRELATOR_IDLE_US when idle. It is cheap, needs no
 * wiring between ingest and correlate, and also sees events inserted by other processes.
 * Failure isolation: a batch that fails for a non-connection reason is retried one event at a
 * time for CORRELATOR_BATCH events; the one that still fails alone is set aside.
 */
#include "correlate/correlator.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "correlate/attribution.h"
#include "correlate/purl.h"
#include "metrics/production.h"
#include "sql/correlate_store.h"
#include "sql/db.h"
#include "sql/model.h"

#define CORRELATOR_IDLE_US 50000
#define CORRELATOR_RETRY_US 250000

struct correlator {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	char *db_url;
	const struct production *prod;
	pthread_t thread;
	struct correlator_stats stats;
};

/* ---- canonical purls ---- */

/* A purl's key is its canonical form, unless that is longer than EVENT_MAX_PURL (ingest
 * bounds the purl as given, percent-escapes can triple it): then the purl as given, so
 * that every key fits the model's indexes (sql/model.h). */
static void add_purl(void *arg, const char *raw)
{
	struct buf *map = arg;
	struct buf canon = BUF_INIT(PURL_MAX_LEN);
	struct err err = {0};

	if (purl_canonicalize(raw, strlen(raw), 0, &canon, &err) == ST_OK && !canon.overflow &&
	    canon.len <= EVENT_MAX_PURL && strcmp(buf_cstr(&canon), raw) != 0) {
		buf_putc(map, map->len > 1 ? ',' : ' ');
		buf_json_cstr(map, raw);
		buf_putc(map, ':');
		buf_json_cstr(map, buf_cstr(&canon));
	}
	buf_release(&canon);
}

/* ---- attribution: rows from sql/ -> pure compute -> JSON back to sql/ ---- */

struct row {
	char *deployment, *pair, *change, *rule, *repo, *evidence;
	bool save; /* false: a predecessor loaded as context, its attribution is not rewritten */
	struct attribution_candidate cand;
};

struct rows {
	struct row *v;
	size_t n, cap;
};

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void add_row(void *arg, const struct correlate_store_candidate *c)
{
	struct rows *rows = arg;

	rows->v = xgrow(rows->v, rows->n, &rows->cap, sizeof *rows->v);
	struct row *r = &rows->v[rows->n++];
	*r = (struct row){
		.deployment = xstrdup(c->deployment), .pair = xstrdup(c->pair),
		.change = dup_or_null(c->change), .rule = dup_or_null(c->rule),
		.repo = dup_or_null(c->repo), .evidence = dup_or_null(c->evidence),
		.save = c->save,
	};
	r->cand = (struct attribution_candidate){r->change, r->repo, c->rank, c->has_merged,
						 c->merged_us};
}

static void rows_release(struct rows *rows)
{
	for (size_t i = 0; i < rows->n; i++) {
		struct row *r = &rows->v[i];
		free(r->deployment), free(r->pair), free(r->change);
		free(r->rule), free(r->repo), free(r->evidence);
	}
	free(rows->v);
}

/* Group consecutive rows of one deployment; deps[i].cands points into `cands`. */
static size_t group_rows(const struct rows *rows, struct attribution_deployment *deps,
			 struct attribution_candidate *cands, size_t *first_row)
{
	size_t n = 0;

	for (size_t i = 0; i < rows->n; i++) {
		cands[i] = rows->v[i].cand;
		if (i == 0 || strcmp(rows->v[i].deployment, rows->v[i - 1].deployment) != 0) {
			first_row[n] = i;
			deps[n++] = (struct attribution_deployment){rows->v[i].pair, &cands[i], 0};
		}
		deps[n - 1].ncands++;
	}
	return n;
}

static void json_keyval(struct buf *b, const char *key, const char *val, bool comma)
{
	buf_printf(b, "%s\"%s\":", comma ? "," : "", key);
	buf_json_cstr(b, val);
}

static void attribution_json(const struct rows *rows, const struct attribution *a,
			     const size_t *first_row, size_t ndeps, struct buf *deps_json,
			     struct buf *direct, struct buf *ranges)
{
	bool first = true;

	buf_putc(deps_json, '[');
	for (size_t i = 0; i < ndeps; i++) {
		if (!rows->v[first_row[i]].save)
			continue;
		buf_puts(deps_json, first ? "" : ",");
		buf_json_cstr(deps_json, rows->v[first_row[i]].deployment);
		first = false;
	}
	buf_putc(deps_json, ']');
	first = true;
	buf_putc(direct, '[');
	for (size_t i = 0; i < a->ndirect; i++) {
		const struct row *r = &rows->v[first_row[a->direct[i].deployment] +
					       a->direct[i].candidate];
		if (!r->save)
			continue;
		buf_puts(direct, first ? "{" : ",{");
		json_keyval(direct, "d", r->deployment, false);
		json_keyval(direct, "c", r->change, true);
		json_keyval(direct, "rule", r->rule, true);
		json_keyval(direct, "evidence", r->evidence, true);
		buf_putc(direct, '}');
		first = false;
	}
	buf_putc(direct, ']');
	first = true;
	buf_putc(ranges, '[');
	for (size_t i = 0; i < a->nranges; i++) {
		const struct attribution_range *g = &a->ranges[i];
		const struct row *hi = &rows->v[first_row[g->deployment] + g->hi];
		const struct row *lo = &rows->v[first_row[g->previous] + g->lo];
		if (!hi->save)
			continue;
		buf_puts(ranges, first ? "{" : ",{");
		json_keyval(ranges, "d", hi->deployment, false);
		json_keyval(ranges, "prev", lo->deployment, true);
		json_keyval(ranges, "lo", lo->change, true);
		json_keyval(ranges, "hi", hi->change, true);
		buf_putc(ranges, '}');
		first = false;
	}
	buf_putc(ranges, ']');
}

static enum status attribute(struct db_conn *conn, struct err *err)
{
	struct rows rows = {0};
	struct attribution a = {0};
	struct buf deps_json = BUF_INIT(0), direct = BUF_INIT(0), ranges = BUF_INIT(0);
	enum status st = correlate_store_load_attribution(conn, add_row, &rows, err);

	if (st != ST_OK || rows.n == 0)
		goto out;
	struct attribution_deployment *deps = xcalloc(rows.n, sizeof *deps);
	struct attribution_candidate *cands = xcalloc(rows.n, sizeof *cands);
	size_t *first_row = xcalloc(rows.n, sizeof *first_row);
	size_t ndeps = group_rows(&rows, deps, cands, first_row);
	attribution_compute(deps, ndeps, &a);
	attribution_json(&rows, &a, first_row, ndeps, &deps_json, &direct, &ranges);
	if (log_level >= LOG_DEBUG) {
		size_t best = 0, run = 0;
		const char *bp = "";
		for (size_t i = 0; i < ndeps; i++) {
			run = i && !strcmp(deps[i].pair, deps[i - 1].pair) ? run + 1 : 1;
			if (run > best)
				best = run, bp = deps[i].pair;
		}
		log_debug("attribution candidates=%zu deployments=%zu direct=%zu ranges=%zu "
			  "longest=%zu pair=%s", rows.n, ndeps, a.ndirect, a.nranges, best, bp);
	}
	free(deps), free(cands), free(first_row);
	st = correlate_store_save_attribution(conn, buf_cstr(&deps_json), buf_cstr(&direct),
					      buf_cstr(&ranges), err);
out:
	buf_release(&deps_json), buf_release(&direct), buf_release(&ranges);
	attribution_release(&a);
	rows_release(&rows);
	return st;
}

/* ---- production environments ---- */

struct classify {
	const struct production *prod;
	bool all;               /* a new pattern: nothing recorded counts */
	struct buf add, remove; /* JSON arrays being built */
};

static void json_list_add(struct buf *b, const char *id)
{
	buf_putc(b, b->len ? ',' : '[');
	buf_json_cstr(b, id);
}

static void classify_env(void *arg, const char *id, const char *name, bool stored)
{
	struct classify *c = arg;
	bool now = production_match(c->prod, id, name);

	if (c->all)
		stored = false;
	if (now && !stored)
		json_list_add(&c->add, id);
	else if (!now && stored)
		json_list_add(&c->remove, id);
}

/* Record which environments are production now: all of them again when the recorded pattern
 * is not ours (first start, or --production-env changed), else those this batch touched. */
static enum status classify_production(struct db_conn *conn, const struct production *prod,
				       struct err *err)
{
	struct classify c = {.prod = prod, .add = BUF_INIT(0), .remove = BUF_INIT(0)};
	bool same = false;
	enum status st = correlate_store_production_pattern(conn, production_pattern(prod), &same,
							    err);

	c.all = !same;
	if (st == ST_OK)
		st = correlate_store_production_candidates(conn, c.all, classify_env, &c, err);
	if (st == ST_OK && (c.all || c.add.len || c.remove.len)) {
		if (c.all)
			log_info("production environments: applying --production-env %s to the "
				 "linked model", production_pattern(prod));
		buf_puts(&c.add, c.add.len ? "]" : "[]");
		buf_puts(&c.remove, c.remove.len ? "]" : "[]");
		st = correlate_store_production_update(conn, c.all ? production_pattern(prod) : NULL,
						       buf_cstr(&c.add), buf_cstr(&c.remove), err);
	}
	buf_release(&c.add);
	buf_release(&c.remove);
	return st;
}

/* ---- one batch ---- */

static enum status run_batch(struct db_conn *conn, const struct production *prod, size_t limit,
			     struct buf *seqs, size_t *n, struct err *err)
{
	struct buf map = BUF_INIT(0);
	enum status st = correlate_store_begin(conn, err);

	*n = 0;
	if (st == ST_OK)
		st = correlate_store_claim(conn, limit, seqs, n, err);
	if (st == ST_OK && *n == 0) /* nothing queued: still apply a new --production-env */
		st = classify_production(conn, prod, err) == ST_OK
			     ? correlate_store_metric_facts(conn, err) : err->status;
	if (st != ST_OK || *n == 0)
		goto out;
	buf_putc(&map, '{');
	st = correlate_store_purls(conn, buf_cstr(seqs), add_purl, &map, err);
	buf_putc(&map, '}');
	if (st == ST_OK)
		st = correlate_store_apply(conn, buf_cstr(seqs), buf_cstr(&map), err);
	if (st == ST_OK)
		st = attribute(conn, err);
	if (st == ST_OK)
		st = correlate_store_incidents(conn, err);
	if (st == ST_OK)
		st = classify_production(conn, prod, err);
	if (st == ST_OK)
		st = correlate_store_metric_facts(conn, err);
out:
	if (st == ST_OK)
		st = correlate_store_commit(conn, err);
	if (st != ST_OK)
		correlate_store_rollback(conn);
	buf_release(&map);
	return st;
}

enum status correlator_batch(struct db_conn *conn, const struct production *prod, size_t limit,
			     size_t *events, struct err *err)
{
	struct buf seqs = BUF_INIT(0);
	enum status st = db_conn_ensure(conn, err);

	*events = 0;
	if (st == ST_OK)
		st = run_batch(conn, prod, limit, &seqs, events, err);
	if (st != ST_OK && st != ST_UNAVAILABLE && limit == 1 && *events == 1) {
		/* seqs is "{N}": set that one event aside so the queue moves on */
		char seq[24];
		snprintf(seq, sizeof seq, "%.*s", (int)(seqs.len - 2), seqs.data + 1);
		log_error("correlation of event seq=%s failed, set aside: %s (%s)", seq, err->msg,
			  err->detail);
		struct err ignored = {0};
		if (correlate_store_fail(conn, seq, err->detail[0] ? err->detail : err->msg,
					 &ignored) == ST_OK)
			st = ST_OK;
	}
	buf_release(&seqs);
	return st;
}

/* A batch, or after a data failure CORRELATOR_BATCH single-event batches. */
static enum status step(struct db_conn *conn, const struct production *prod, size_t *isolate,
			size_t *events, struct err *err)
{
	enum status st = correlator_batch(conn, prod, *isolate ? 1 : CORRELATOR_BATCH, events, err);

	if (*isolate)
		(*isolate)--;
	if (st != ST_OK && st != ST_UNAVAILABLE && !*isolate) {
		log_warn("correlation batch failed, retrying event by event: %s (%s)", err->msg,
			 err->detail);
		*isolate = CORRELATOR_BATCH;
	}
	return st;
}

enum status correlator_drain(struct db_conn *conn, const struct production *prod, size_t *events,
			     struct err *err)
{
	size_t isolate = 0, n = 0, tries = 0;

	*events = 0;
	for (;;) {
		enum status st = step(conn, prod, &isolate, &n, err);
		if (st == ST_UNAVAILABLE || (st != ST_OK && ++tries > 2 * CORRELATOR_BATCH))
			return st;
		*events += st == ST_OK ? n : 0;
		if (st == ST_OK && n == 0 && !isolate)
			return ST_OK;
	}
}

/* ---- the thread ---- */

static void wait_us(struct correlator *c, int64_t us)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(us / 1000000);
	ts.tv_nsec += (long)(us % 1000000) * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&c->lock);
	if (!c->stopping)
		pthread_cond_timedwait(&c->wake, &c->lock, &ts);
	pthread_mutex_unlock(&c->lock);
}

static bool stopping(struct correlator *c)
{
	pthread_mutex_lock(&c->lock);
	bool s = c->stopping;
	pthread_mutex_unlock(&c->lock);
	return s;
}

static void record(struct correlator *c, enum status st, size_t n)
{
	pthread_mutex_lock(&c->lock);
	c->stats.db_ok = st != ST_UNAVAILABLE;
	if (st == ST_OK && n) {
		c->stats.events += n;
		c->stats.batches++;
	} else if (st != ST_OK && st != ST_UNAVAILABLE) {
		c->stats.failed_batches++;
	}
	pthread_mutex_unlock(&c->lock);
}

static void *correlator_main(void *arg)
{
	struct correlator *c = arg;
	struct err err = {0};
	struct db_conn *conn = db_connect(c->db_url, &err);
	size_t isolate = 0;

	while (!stopping(c)) {
		size_t n = 0;
		enum status st = conn ? step(conn, c->prod, &isolate, &n, &err) : ST_UNAVAILABLE;
		record(c, st, n);
		if (st == ST_UNAVAILABLE && !conn)
			conn = db_connect(c->db_url, &err);
		if (st == ST_UNAVAILABLE)
			wait_us(c, CORRELATOR_RETRY_US);
		else if (st == ST_OK && n == 0 && !isolate)
			wait_us(c, CORRELATOR_IDLE_US);
	}
	db_disconnect(conn);
	return NULL;
}

struct correlator *correlator_new(const char *db_url, const struct production *prod)
{
	struct correlator *c = xcalloc(1, sizeof *c);

	c->prod = prod;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	c->db_url = xstrdup(db_url);
	if (pthread_create(&c->thread, NULL, correlator_main, c) != 0)
		abort(); /* like OOM: no thread means no service; startup only */
	return c;
}

void correlator_free(struct correlator *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_broadcast(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c->db_url);
	free(c);
}

void correlator_stats(struct correlator *c, struct correlator_stats *out)
{
	*out = (struct correlator_stats){0};
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	pthread_mutex_unlock(&c->lock);
}
