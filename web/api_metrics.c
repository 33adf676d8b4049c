/*
 * web/api_metrics.c: GET /metrics, for Prometheus (text exposition format 0.0.4).
 *
 * Families (docs/API.md lists them with their labels):
 *   from this process's memory, always present:
 *     cdlens_ingest_*        committer counters, refused ingest requests by reason
 *     cdlens_http_*          requests by route, method and status; latency histograms
 *     cdlens_db_pool_*       the API connection pool
 *     cdlens_correlation_*   correlator counters (zero when --correlate=false)
 *   from the database, in one connection:
 *     cdlens_correlation_pending_events / _lag_seconds   the queue, as GET /readyz shows it
 *     cdlens_dora_*{service}  the last 30 days per service, exactly as
 *                             GET /api/v1/dora/services computes them (api_dora.h)
 *     cdlens_database_up     1 when the database part was read, else 0
 *
 * Why the database part is all or nothing: a scrape must still answer (200) when PostgreSQL
 * is down, since that is when the other figures matter most; so the database families are
 * written to their own buffer and appended only when every query succeeded, and
 * cdlens_database_up says which happened. A figure with no data (null in the JSON API) has no
 * sample, never a 0 or NaN.
 *
 * Format rules kept here: every family gets its HELP and TYPE lines before its samples, and
 * all its samples together; label values are escaped (backslash, double quote, newline);
 * HELP texts are constants without either. Lines end with \n, including the last one.
 * When you add a family: write it through family() and sample_*(), and add it to docs/API.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "correlate/correlator.h"
#include "ingest/committer.h"
#include "metrics/dora.h"
#include "sql/correlate_store.h"
#include "sql/db.h"
#include "web/api_dora.h"
#include "web/api_dora_params.h"
#include "web/app.h"
#include "web/handlers.h"
#include "web/http_stats.h"
#include "web/request.h"
#include "web/routes.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* ---- the exposition format ---- */

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void label_value(struct buf *b, const char *v)
{
	buf_putc(b, '"');
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_putc(b, '\\');
		if (*v == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *v);
	}
	buf_putc(b, '"');
}

/* `name{k1="v1",...} `; labels: name, value pairs ending with NULL (NULL itself: none). */
static void sample_start(struct buf *b, const char *name, const char *const *labels)
{
	buf_puts(b, name);
	for (size_t i = 0; labels && labels[i]; i += 2) {
		buf_printf(b, "%c%s=", i ? ',' : '{', labels[i]);
		label_value(b, labels[i + 1]);
	}
	buf_puts(b, labels && labels[0] ? "} " : " ");
}

static void sample_u(struct buf *b, const char *name, const char *const *labels, uint64_t v)
{
	sample_start(b, name, labels);
	buf_printf(b, "%llu\n", (unsigned long long)v);
}

/* Shortest of %.15g / %.17g that reads back as v; NaN and infinities as the format spells. */
static void sample_d(struct buf *b, const char *name, const char *const *labels, double v)
{
	sample_start(b, name, labels);
	if (isnan(v))
		buf_puts(b, "NaN");
	else if (isinf(v))
		buf_puts(b, v > 0 ? "+Inf" : "-Inf");
	else
		buf_double(b, v);
	buf_putc(b, '\n');
}

/* ---- in-process counters ---- */

static void write_ingest(const struct app *app, struct buf *b)
{
	struct committer_stats cs;

	committer_stats(app->committer, &cs);
	family(b, "cdlens_ingest_events_total", "counter",
	       "CDEvents received in accepted ingest requests, new (accepted) or already stored "
	       "(duplicate).");
	sample_u(b, "cdlens_ingest_events_total", (const char *[]){"result", "accepted", NULL},
		 cs.accepted);
	sample_u(b, "cdlens_ingest_events_total", (const char *[]){"result", "duplicate", NULL},
		 cs.duplicates);
	family(b, "cdlens_ingest_requests_rejected_total", "counter",
	       "Ingest requests refused, by reason (the kind of error the problem response "
	       "reports).");
	const int nstatus = (int)(sizeof app->rejected / sizeof app->rejected[0]);
	for (int st = ST_OK + 1; st < nstatus && strcmp(status_name(st), "unknown") != 0; st++)
		sample_u(b, "cdlens_ingest_requests_rejected_total",
			 (const char *[]){"reason", status_name(st), NULL},
			 atomic_load_explicit(&app->rejected[st], memory_order_relaxed));
	family(b, "cdlens_ingest_queued_events", "gauge",
	       "Events accepted by request threads and waiting for their group commit.");
	sample_u(b, "cdlens_ingest_queued_events", NULL, cs.queued_events);
	family(b, "cdlens_ingest_transactions_total", "counter",
	       "Group-commit transactions, committed or failed.");
	sample_u(b, "cdlens_ingest_transactions_total",
		 (const char *[]){"result", "committed", NULL},
		 cs.transactions - cs.failed_transactions);
	sample_u(b, "cdlens_ingest_transactions_total", (const char *[]){"result", "failed", NULL},
		 cs.failed_transactions);
}

/* A series is written when it counted something, or when it is a route's own method (so
 * every route has its series from the start). */
static bool series_shown(size_t slot, enum http_stats_method m,
			 const struct http_stats_snapshot *s)
{
	if (s->count > 0)
		return true;
	return slot < routes_count() && strcmp(routes_method(slot), http_stats_method_name(m)) == 0;
}

static const char *slot_route(size_t slot)
{
	return slot < routes_count() ? routes_path(slot) : "other";
}

/* The route slots in use: the table's rows, then "other"; HTTP_STATS_ROUTES ends. */
static size_t next_slot(size_t slot)
{
	return slot + 1 < routes_count() ? slot + 1
	       : slot < HTTP_STATS_OTHER ? HTTP_STATS_OTHER : HTTP_STATS_ROUTES;
}

static void write_histogram(size_t slot, enum http_stats_method m,
			    const struct http_stats_snapshot *s, struct buf *b)
{
	const char *route = slot_route(slot), *method = http_stats_method_name(m);
	char le[32];

	for (size_t i = 0; i <= HTTP_STATS_NBOUNDS; i++) {
		if (i < HTTP_STATS_NBOUNDS)
			snprintf(le, sizeof le, "%g", http_stats_bounds[i]);
		else
			snprintf(le, sizeof le, "+Inf");
		sample_u(b, "cdlens_http_request_duration_seconds_bucket",
			 (const char *[]){"route", route, "method", method, "le", le, NULL},
			 s->cumulative[i]);
	}
	sample_d(b, "cdlens_http_request_duration_seconds_sum",
		 (const char *[]){"route", route, "method", method, NULL}, s->sum_seconds);
	sample_u(b, "cdlens_http_request_duration_seconds_count",
		 (const char *[]){"route", route, "method", method, NULL}, s->count);
}

static void write_codes(size_t slot, enum http_stats_method m,
			const struct http_stats_snapshot *s, struct buf *b)
{
	for (size_t c = 0; c < HTTP_STATS_NCODES; c++)
		if (s->codes[c])
			sample_u(b, "cdlens_http_requests_total",
				 (const char *[]){"route", slot_route(slot), "method",
						  http_stats_method_name(m), "code",
						  http_stats_code_name(c), NULL},
				 s->codes[c]);
}

static void write_http(const struct http_stats *h, struct buf *b)
{
	struct http_stats_snapshot s;

	family(b, "cdlens_http_request_duration_seconds", "histogram",
	       "Time from the request's arrival to the end of its response, by route (the path "
	       "in the route table, or other) and method.");
	for (size_t slot = 0; slot < HTTP_STATS_ROUTES; slot = next_slot(slot))
		for (enum http_stats_method m = 0; m < HTTP_STATS_NMETHODS; m++) {
			http_stats_read(h, slot, m, &s);
			if (series_shown(slot, m, &s))
				write_histogram(slot, m, &s, b);
		}
	family(b, "cdlens_http_requests_total", "counter",
	       "HTTP requests answered, by route, method and status code.");
	for (size_t slot = 0; slot < HTTP_STATS_ROUTES; slot = next_slot(slot))
		for (enum http_stats_method m = 0; m < HTTP_STATS_NMETHODS; m++) {
			http_stats_read(h, slot, m, &s);
			write_codes(slot, m, &s, b);
		}
}

static void write_pool(struct db_pool *pool, struct buf *b)
{
	struct db_pool_stats ps;

	db_pool_stats(pool, &ps);
	family(b, "cdlens_db_pool_connections", "gauge",
	       "Connection slots of the API database pool, idle or in use (--db-pool in all).");
	sample_u(b, "cdlens_db_pool_connections", (const char *[]){"state", "idle", NULL},
		 (uint64_t)(ps.size - ps.in_use));
	sample_u(b, "cdlens_db_pool_connections", (const char *[]){"state", "in_use", NULL},
		 (uint64_t)ps.in_use);
	family(b, "cdlens_db_pool_waiting", "gauge",
	       "Requests waiting for a free connection of the API pool.");
	sample_u(b, "cdlens_db_pool_waiting", NULL, (uint64_t)ps.waiting);
	family(b, "cdlens_db_pool_timeouts_total", "counter",
	       "Requests that found no free pool connection within their wait (answered 503).");
	sample_u(b, "cdlens_db_pool_timeouts_total", NULL, ps.timeouts);
}

static void write_correlator(struct correlator *c, struct buf *b)
{
	struct correlator_stats cs;

	correlator_stats(c, &cs); /* NULL (correlation off here): zeroes */
	family(b, "cdlens_correlation_enabled", "gauge",
	       "1 when this process runs the correlator, 0 for an ingest-only node "
	       "(--correlate=false).");
	sample_u(b, "cdlens_correlation_enabled", NULL, c != NULL);
	family(b, "cdlens_correlation_events_total", "counter",
	       "Events linked into the model by this process's correlator.");
	sample_u(b, "cdlens_correlation_events_total", NULL, cs.events);
	family(b, "cdlens_correlation_batches_total", "counter",
	       "Correlation batches (transactions) run by this process, failed ones included.");
	sample_u(b, "cdlens_correlation_batches_total", NULL, cs.batches);
	family(b, "cdlens_correlation_failed_batches_total", "counter",
	       "Correlation batches that failed and were rolled back (retried later).");
	sample_u(b, "cdlens_correlation_failed_batches_total", NULL, cs.failed_batches);
}

/* ---- from the database ---- */

struct service_figures {
	char *service;
	struct dora_figures f;
};

struct services {
	struct service_figures *v;
	size_t n;
};

static void take_service(void *arg, const char *service, const struct dora_figures *f)
{
	struct services *s = arg;

	s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
	s->v[s->n++] = (struct service_figures){xstrdup(service), *f};
}

static void services_release(struct services *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].service);
	free(s->v);
	*s = (struct services){0};
}

enum dora_value {
	DV_DEPLOYMENTS, DV_PER_DAY, DV_CFR, DV_LEAD_P50, DV_LEAD_P90, DV_RECOVERY_P50,
	DV_RECOVERY_P90, DV_REWORK
};

/* One figure as GET /api/v1/dora/services writes it; false where it writes null. */
static bool dora_value(const struct dora_figures *f, enum dora_value w, double *v)
{
	const double n = (double)f->deployments;

	switch (w) {
	case DV_DEPLOYMENTS: *v = n; return true;
	case DV_PER_DAY: *v = f->per_day; return true;
	case DV_CFR: *v = n ? (double)f->failed / n : 0; return f->deployments;
	case DV_LEAD_P50: *v = f->lead.p50; return f->lead.count;
	case DV_LEAD_P90: *v = f->lead.p90; return f->lead.count;
	case DV_RECOVERY_P50: *v = f->recovery.p50; return f->recovery.count;
	case DV_RECOVERY_P90: *v = f->recovery.p90; return f->recovery.count;
	case DV_REWORK: *v = n ? (double)f->rework / n : 0; return f->deployments;
	}
	return false;
}

static const struct {
	const char *name, *help;
	enum dora_value first;
	int quantiles; /* 0: one value; 2: first is the median, first + 1 the 90th percentile */
} dora_families[] = {
	{"cdlens_dora_deployments", "Production deployments of the service in the last 30 days.",
	 DV_DEPLOYMENTS, 0},
	{"cdlens_dora_deployments_per_day",
	 "Production deployments of the service per day over the last 30 days.", DV_PER_DAY, 0},
	{"cdlens_dora_change_failure_rate",
	 "Failed production deployments / production deployments of the service, last 30 days.",
	 DV_CFR, 0},
	{"cdlens_dora_lead_time_seconds",
	 "Change lead time of the service's changes first deployed to production in the last 30 "
	 "days: median (0.5) and 90th percentile (0.9).", DV_LEAD_P50, 2},
	{"cdlens_dora_recovery_time_seconds",
	 "Failed deployment recovery time of the service's restored failures of the last 30 days: "
	 "median (0.5) and 90th percentile (0.9).", DV_RECOVERY_P50, 2},
	{"cdlens_dora_rework_rate",
	 "Rework deployments / production deployments of the service, last 30 days.", DV_REWORK,
	 0},
};

static void write_dora(const struct services *s, struct buf *b)
{
	static const char *const quantile[] = {"0.5", "0.9"};
	double v;

	for (size_t k = 0; k < sizeof dora_families / sizeof *dora_families; k++) {
		family(b, dora_families[k].name, "gauge", dora_families[k].help);
		bool quantiles = dora_families[k].quantiles;
		for (size_t i = 0; i < s->n; i++)
			for (int q = 0; q < (quantiles ? 2 : 1); q++) {
				if (!dora_value(&s->v[i].f, dora_families[k].first + q, &v))
					continue;
				const char *labels[] = {"service", s->v[i].service,
							quantiles ? "quantile" : NULL, quantile[q],
							NULL};
				sample_d(b, dora_families[k].name, labels, v);
			}
	}
}

static void write_pending(int64_t pending, double lag_s, struct buf *b)
{
	family(b, "cdlens_correlation_pending_events", "gauge",
	       "Committed events the correlator has not linked yet (all processes).");
	sample_u(b, "cdlens_correlation_pending_events", NULL, (uint64_t)pending);
	family(b, "cdlens_correlation_lag_seconds", "gauge",
	       "How long the oldest event not yet correlated has waited (0 when none).");
	sample_d(b, "cdlens_correlation_lag_seconds", NULL, lag_s);
}

/* The database families into *b, or false with req->err set (and *b partly written). */
static bool read_database(struct request *req, struct buf *b)
{
	struct db_conn *conn = db_acquire(req->app->pool, 1000, &req->err);
	struct services services = {0};
	int64_t pending = 0, to_us = clock_now_us();
	double lag_s = 0;
	bool ok = false;

	if (!conn)
		goto out;
	if (correlate_store_pending(conn, &pending, &lag_s, &req->err) != ST_OK ||
	    api_dora_services_figures(req, conn, to_us - DORA_DEFAULT_DAYS * DORA_US_PER_DAY,
				      to_us, take_service, &services) != ST_OK)
		goto out;
	write_pending(pending, lag_s, b);
	write_dora(&services, b);
	ok = true;
out:
	db_release(req->app->pool, conn);
	services_release(&services);
	return ok;
}

int api_metrics(struct request *req)
{
	const struct app *app = req->app;
	struct buf out = BUF_INIT(0), db = BUF_INIT(0);

	write_ingest(app, &out);
	write_http(&app->http, &out);
	write_pool(app->pool, &out); /* before read_database takes a connection */
	write_correlator(app->correlator, &out);
	bool db_ok = read_database(req, &db);
	if (db_ok)
		buf_puts(&out, buf_cstr(&db));
	else
		log_warn("req=%s metrics: the database figures are left out: %s (%s)", req->id,
			 req->err.msg, req->err.detail);
	family(&out, "cdlens_database_up", "gauge",
	       "1 when this scrape read the database figures (correlation queue, DORA), else 0.");
	sample_u(&out, "cdlens_database_up", NULL, db_ok);
	int status = reply_with_headers(req, 200, METRICS_CONTENT_TYPE, NULL, buf_cstr(&out),
					out.len);
	buf_release(&db);
	buf_release(&out);
	return status;
}
