/*
 * tests/web/test_metrics_http.c: GET /metrics through the real path (the real binary over
 * HTTP, on a private PostgreSQL).
 *
 * Every scrape is parsed as the Prometheus text format 0.0.4 demands, and the parse itself is
 * the first check: each sample line is `name{labels} value` with valid names, escaped label
 * values and a number; each family has one HELP then one TYPE line before its samples, and its
 * samples come together; histogram buckets are cumulative, their `le` ascend and end at +Inf,
 * which equals _count, and _sum is there.
 *
 * Then:
 *   - counters: posting the N events of tests/data/scenarios/checkout.jsonl shows accepted N,
 *     posting them again duplicate N; a request without a token, one with bad JSON and one
 *     of another media type show under reasons unauthorized, invalid and unsupported; the
 *     HTTP counters and histograms count them under their route, an unknown path under
 *     route "other", a wrong method under its route with code 405.
 *   - DORA gauges: the scenario is dated 2026-03-02, outside "the last 30 days", so events
 *     dated from 5 days ago are posted (services pay, search and one whose name needs label
 *     escaping) and every gauge must equal the figure GET /api/v1/dora/services gives for the
 *     30 days up to now; a null figure must have no sample. Hand check for pay (prod):
 *     deployed T+3h (change 201 created T: 10800 s), upgraded T+5h (change 202 created T+3h30:
 *     5400 s), incident T+5h10, rolled back T+5h30, incident resolved T+6h -> 3 deployments,
 *     1 failed (restored when its incident is resolved, after 3600 s: the rollback does not
 *     restore while it is open), 1 rework; lead time median 8100 s, p90 10260 s.
 *   - database down (connections to the test database refused, its sessions terminated): the
 *     scrape still answers 200 with the in-process families, cdlens_database_up 0 and no
 *     database family; once connections are allowed again, cdlens_database_up is 1.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/clock.h"
#include "support/fixture.h"
#include "support/http.h"
#include "support/server.h"
#include "support/testdb.h"
#include "web/ingest_helpers.h"

static struct test_server srv;
static char *db_url, *db_name;

/* ---- a strict parser of the exposition format ---- */

#define MAX_LABELS 8

struct sample {
	char *name;
	char *keys[MAX_LABELS], *values[MAX_LABELS]; /* values unescaped */
	int nlabels;
	double value;
};

struct family {
	char *name, *type;
	bool has_help;
};

struct expo {
	char *text; /* the raw body */
	struct sample *samples;
	size_t nsamples;
	struct family *families;
	size_t nfamilies;
};

static bool name_char(char c, bool first, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

/* Length of the metric (colon) or label name at s; 0 when there is none. */
static size_t name_len(const char *s, bool colon)
{
	size_t n = 0;

	while (name_char(s[n], n == 0, colon))
		n++;
	return n;
}

static struct family *find_family(struct expo *e, const char *name)
{
	for (size_t i = 0; i < e->nfamilies; i++)
		if (strcmp(e->families[i].name, name) == 0)
			return &e->families[i];
	return NULL;
}

/* "# HELP name text" opens a family (never seen before); "# TYPE name type" must follow. */
static void parse_comment(struct expo *e, const char *line)
{
	char name[256], type[32];

	if (sscanf(line, "# HELP %255s", name) == 1) {
		if (find_family(e, name))
			fail_msg("a second HELP (or HELP after samples) for %s: %s", name, line);
		assert_int_equal(name_len(name, true), strlen(name));
		e->families = realloc(e->families, (e->nfamilies + 1) * sizeof *e->families);
		e->families[e->nfamilies++] = (struct family){strdup(name), NULL, true};
		return;
	}
	if (sscanf(line, "# TYPE %255s %31s", name, type) != 2)
		fail_msg("unexpected comment line: %s", line);
	struct family *f = e->nfamilies ? &e->families[e->nfamilies - 1] : NULL;
	if (!f || strcmp(f->name, name) != 0 || f->type)
		fail_msg("TYPE %s does not follow its HELP line", name);
	if (strcmp(type, "counter") && strcmp(type, "gauge") && strcmp(type, "histogram"))
		fail_msg("unexpected type %s", type);
	f->type = strdup(type);
}

/* Parse `"value"` at *p (unescaping \\, \" and \n) into a new string; advances *p. */
static char *parse_label_value(const char **p)
{
	struct buf v = BUF_INIT(0);
	const char *s = *p;

	if (*s++ != '"')
		fail_msg("label value must be quoted: %s", *p);
	for (; *s != '"'; s++) {
		if (!*s || *s == '\n')
			fail_msg("unterminated label value: %s", *p);
		if (*s == '\\') {
			s++;
			if (*s != '\\' && *s != '"' && *s != 'n')
				fail_msg("bad escape in label value: %s", *p);
			buf_putc(&v, *s == 'n' ? '\n' : *s);
		} else {
			buf_putc(&v, *s);
		}
	}
	*p = s + 1;
	char *out = strdup(buf_cstr(&v));
	buf_release(&v);
	return out;
}

static const char *parse_labels(const char *p, struct sample *s)
{
	if (*p != '{')
		return p;
	for (p++; *p != '}';) {
		size_t n = name_len(p, false);
		if (!n || p[n] != '=' || s->nlabels == MAX_LABELS)
			fail_msg("bad label at: %s", p);
		s->keys[s->nlabels] = strndup(p, n);
		p += n + 1;
		s->values[s->nlabels++] = parse_label_value(&p);
		if (*p == ',')
			p++;
		else if (*p != '}')
			fail_msg("expected , or } at: %s", p);
	}
	return p + 1;
}

/* The family a sample name belongs to: itself, or a histogram's name for its series. */
static struct family *family_of(struct expo *e, const char *name)
{
	static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
	struct family *f = find_family(e, name);

	for (size_t i = 0; !f && i < 3; i++) {
		size_t n = strlen(name), k = strlen(suffixes[i]);
		if (n > k && strcmp(name + n - k, suffixes[i]) == 0) {
			char *base = strndup(name, n - k);
			f = find_family(e, base);
			free(base);
			if (f && strcmp(f->type, "histogram") != 0)
				f = NULL;
		}
	}
	return f;
}

static void parse_sample(struct expo *e, const char *line)
{
	struct sample s = {0};
	size_t n = name_len(line, true);
	char *end;

	if (!n)
		fail_msg("sample line without a metric name: %s", line);
	s.name = strndup(line, n);
	const char *p = parse_labels(line + n, &s);
	if (*p != ' ')
		fail_msg("expected one space before the value: %s", line);
	s.value = strtod(p + 1, &end);
	if (end == p + 1 || *end)
		fail_msg("bad value in: %s", line);
	struct family *f = family_of(e, s.name);
	if (!f || !f->type)
		fail_msg("sample before (or without) its HELP and TYPE: %s", line);
	if (f != &e->families[e->nfamilies - 1])
		fail_msg("samples of %s are not together: %s", f->name, line);
	e->samples = realloc(e->samples, (e->nsamples + 1) * sizeof *e->samples);
	e->samples[e->nsamples++] = s;
}

static void expo_release(struct expo *e)
{
	for (size_t i = 0; i < e->nsamples; i++) {
		for (int k = 0; k < e->samples[i].nlabels; k++) {
			free(e->samples[i].keys[k]);
			free(e->samples[i].values[k]);
		}
		free(e->samples[i].name);
	}
	for (size_t i = 0; i < e->nfamilies; i++) {
		free(e->families[i].name);
		free(e->families[i].type);
	}
	free(e->samples);
	free(e->families);
	free(e->text);
	*e = (struct expo){0};
}

static void parse_exposition(struct expo *e, const char *body)
{
	size_t len = strlen(body);

	if (!len || body[len - 1] != '\n')
		fail_msg("the exposition must end with a line feed");
	e->text = strdup(body);
	char *copy = strdup(body), *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			parse_comment(e, line);
		else
			parse_sample(e, line);
	}
	free(copy);
	for (size_t i = 0; i < e->nfamilies; i++)
		if (!e->families[i].type)
			fail_msg("family %s has no TYPE line", e->families[i].name);
}

/* ---- histogram rules ---- */

static const char *label(const struct sample *s, const char *key)
{
	for (int i = 0; i < s->nlabels; i++)
		if (strcmp(s->keys[i], key) == 0)
			return s->values[i];
	return NULL;
}

/* Same labels, except `skip` (which `a` may have and `b` not). */
static bool same_labels(const struct sample *a, const struct sample *b, const char *skip)
{
	int na = 0;

	for (int i = 0; i < a->nlabels; i++) {
		if (skip && strcmp(a->keys[i], skip) == 0)
			continue;
		const char *v = label(b, a->keys[i]);
		if (!v || strcmp(v, a->values[i]) != 0)
			return false;
		na++;
	}
	return na == b->nlabels;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The series of the histogram `count` (a _count sample): buckets ascending and cumulative,
 * ending at +Inf == count, and a _sum. Returns the number of buckets. */
static size_t check_histogram_series(const struct expo *e, const struct sample *count)
{
	size_t base = strlen(count->name) - strlen("_count"), nbuckets = 0;
	double last_le = -INFINITY, last_v = 0;
	bool has_sum = false;

	for (size_t i = 0; i < e->nsamples; i++) {
		const struct sample *s = &e->samples[i];
		if (strncmp(s->name, count->name, base) != 0)
			continue;
		if (!strcmp(s->name + base, "_sum") && same_labels(s, count, NULL))
			has_sum = true;
		if (strcmp(s->name + base, "_bucket") != 0 || !same_labels(s, count, "le"))
			continue;
		const char *le = label(s, "le");
		double bound = le ? strtod(le, NULL) : NAN;
		if (!le || !(bound > last_le) || s->value < last_v)
			fail_msg("%s: bucket le=%s is not ascending and cumulative", s->name, le);
		last_le = bound;
		last_v = s->value;
		nbuckets++;
	}
	if (!has_sum || nbuckets == 0 || !isinf(last_le) || last_v != count->value)
		fail_msg("%s{route=%s}: needs _sum and buckets ending at +Inf == _count",
			 count->name, label(count, "route"));
	return nbuckets;
}

static void check_histograms(const struct expo *e)
{
	size_t buckets = 0, seen = 0;

	for (size_t i = 0; i < e->nsamples; i++) {
		const struct sample *s = &e->samples[i];
		if (ends_with(s->name, "_bucket"))
			seen++;
		if (ends_with(s->name, "_count"))
			buckets += check_histogram_series(e, s);
	}
	assert_int_equal(buckets, seen); /* every bucket belongs to a series with a _count */
}

/* ---- scraping and looking up ---- */

static void scrape(struct expo *e)
{
	struct http_response r = {0};
	char ct[128];

	assert_int_equal(http_request(srv.port, "GET", "/metrics", NULL, NULL, 0, &r), 200);
	assert_non_null(http_header(&r, "Content-Type", ct, sizeof ct));
	assert_string_equal(ct, "text/plain; version=0.0.4; charset=utf-8");
	*e = (struct expo){0};
	parse_exposition(e, r.body);
	check_histograms(e);
	http_response_release(&r);
}

/* The sample `name` with exactly the labels `kv` (name, value pairs, NULL-terminated). */
static const struct sample *find(const struct expo *e, const char *name, const char *const *kv)
{
	for (size_t i = 0; i < e->nsamples; i++) {
		const struct sample *s = &e->samples[i];
		int n = 0;
		bool match = strcmp(s->name, name) == 0;
		for (; match && kv && kv[n]; n += 2) {
			const char *v = label(s, kv[n]);
			match = v && strcmp(v, kv[n + 1]) == 0;
		}
		if (match && n / 2 == s->nlabels)
			return s;
	}
	return NULL;
}

static double value(const struct expo *e, const char *name, const char *const *kv)
{
	const struct sample *s = find(e, name, kv);

	if (!s)
		fail_msg("no sample %s{%s=%s...}", name, kv && kv[0] ? kv[0] : "",
			 kv && kv[0] ? kv[1] : "");
	return s->value;
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

static double metric_now(const char *name, const char *const *kv)
{
	struct expo e;

	scrape(&e);
	double v = value(&e, name, kv);
	expo_release(&e);
	return v;
}

/* ---- tests ---- */

static void wait_correlated(void)
{
	test_server_wait_correlated(&srv, 120);
}

static size_t post_scenario(void)
{
	return post_jsonl(srv.port, MODE_BARE, "scenarios/checkout.jsonl");
}

static void well_formed_from_the_start(void **state)
{
	(void)state;
	struct expo e;

	scrape(&e);
	assert_int_equal(value(&e, "cdlens_database_up", NULL), 1);
	assert_int_equal(value(&e, "cdlens_correlation_enabled", NULL), 1);
	assert_int_equal(value(&e, "cdlens_db_pool_connections", L("state", "idle")) +
				 value(&e, "cdlens_db_pool_connections", L("state", "in_use")),
			 4); /* --db-pool default */
	assert_int_equal(value(&e, "cdlens_db_pool_waiting", NULL), 0);
	assert_int_equal(value(&e, "cdlens_db_pool_timeouts_total", NULL), 0);
	/* every route has its histogram from the start; the families exist without data */
	assert_non_null(find(&e, "cdlens_http_request_duration_seconds_count",
			     L("route", "/api/v1/dora", "method", "GET")));
	assert_non_null(find(&e, "cdlens_http_request_duration_seconds_count",
			     L("route", "/", "method", "POST")));
	assert_non_null(find_family(&e, "cdlens_dora_lead_time_seconds"));
	expo_release(&e);
}

static void post_status(const char *headers, const char *body, int want)
{
	struct http_response r = {0};

	assert_int_equal(http_request(srv.port, "POST", "/api/v1/events", headers, body,
				      strlen(body), &r),
			 want);
	http_response_release(&r);
}

static void ingest_counters(void **state)
{
	(void)state;
	const char *const accepted[] = {"result", "accepted", NULL};
	const char *const duplicate[] = {"result", "duplicate", NULL};
	const char *const ok202[] = {"route", "/api/v1/events", "method", "POST",
				     "code",  "202",            NULL};
	double a0 = metric_now("cdlens_ingest_events_total", accepted);
	double d0 = metric_now("cdlens_ingest_events_total", duplicate);
	double h0 = metric_now("cdlens_http_request_duration_seconds_count",
			       L("route", "/api/v1/events", "method", "POST"));

	size_t n = post_scenario();
	assert_true(n > 30);
	assert_int_equal(metric_now("cdlens_ingest_events_total", accepted) - a0, n);
	post_scenario();
	assert_int_equal(metric_now("cdlens_ingest_events_total", duplicate) - d0, n);
	assert_int_equal(metric_now("cdlens_http_requests_total", ok202), 2 * n);

	post_status("Content-Type: application/json\r\n", "{}", 401);
	post_status(TEST_TOKEN_HEADER "Content-Type: application/json\r\n", "{\"context\":", 400);
	post_status(TEST_TOKEN_HEADER "Content-Type: text/plain\r\n", "{}", 415);
	struct expo e;
	scrape(&e);
	assert_int_equal(value(&e, "cdlens_ingest_requests_rejected_total",
			       L("reason", "unauthorized")), 1);
	assert_int_equal(value(&e, "cdlens_ingest_requests_rejected_total",
			       L("reason", "invalid")), 1);
	assert_int_equal(value(&e, "cdlens_ingest_requests_rejected_total",
			       L("reason", "unsupported")), 1);
	assert_int_equal(value(&e, "cdlens_ingest_requests_rejected_total",
			       L("reason", "too_large")), 0);
	assert_int_equal(value(&e, "cdlens_http_requests_total",
			       L("route", "/api/v1/events", "method", "POST", "code", "401")), 1);
	assert_int_equal(value(&e, "cdlens_http_request_duration_seconds_count",
			       L("route", "/api/v1/events", "method", "POST")) - h0, 2 * n + 3);
	expo_release(&e);
}

static void routes_and_methods(void **state)
{
	(void)state;
	struct http_response r = {0};

	assert_int_equal(http_request(srv.port, "GET", "/no/such/path", NULL, NULL, 0, &r), 404);
	http_response_release(&r);
	assert_int_equal(http_request(srv.port, "DELETE", "/metrics", NULL, NULL, 0, &r), 405);
	http_response_release(&r);
	assert_int_equal(http_request(srv.port, "HEAD", "/healthz", NULL, NULL, 0, &r), 200);
	http_response_release(&r);
	struct expo e;
	scrape(&e);
	assert_int_equal(value(&e, "cdlens_http_requests_total",
			       L("route", "other", "method", "GET", "code", "404")), 1);
	assert_int_equal(value(&e, "cdlens_http_requests_total",
			       L("route", "/metrics", "method", "DELETE", "code", "405")), 1);
	assert_int_equal(value(&e, "cdlens_http_requests_total",
			       L("route", "/healthz", "method", "HEAD", "code", "200")), 1);
	assert_true(value(&e, "cdlens_http_requests_total",
			  L("route", "/readyz", "method", "GET", "code", "200")) >= 1);
	/* the scrape counts the previous ones */
	assert_true(value(&e, "cdlens_http_request_duration_seconds_count",
			  L("route", "/metrics", "method", "GET")) >= 5);
	expo_release(&e);
}

/* ---- DORA gauges against GET /api/v1/dora/services ---- */

#define ODD_SERVICE "odd \"svc\"\n\\ x" /* needs every label escape */

/* One CDEvent dated t0 + offset seconds. `subject_json` is the JSON string of subject.id. */
static void post_recent(int64_t t0, int offset, const char *id, const char *type,
			const char *subject_json, const char *content)
{
	char ts[28];
	struct buf ev = BUF_INIT(0);
	struct http_response r = {0};

	clock_format_rfc3339(t0 + (int64_t)offset * 1000000, ts);
	buf_printf(&ev,
		   "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"%s\",\"source\":\"/recent\","
		   "\"type\":\"dev.cdevents.%s\",\"timestamp\":\"%s\"},\"subject\":{\"id\":%s,"
		   "\"source\":\"/recent\",\"content\":%s}}",
		   id, type, ts, subject_json, content);
	if (post_event(srv.port, MODE_BARE, buf_cstr(&ev), &r) != 202)
		fail_msg("recent event %s refused: %s", id, r.body);
	http_response_release(&r);
	buf_release(&ev);
}

#define PROD "{\"environment\":{\"id\":\"prod\"},\"artifactId\":\""
#define PAY1 "pkg:oci/pay@sha256%3Ap1"
#define PAY2 "pkg:oci/pay@sha256%3Ap2"

static void post_recent_history(int64_t t0)
{
	const int h = 3600;

	post_recent(t0, 0, "c201-created", "change.created.0.4.0", "\"201\"",
		    "{\"repository\":{\"id\":\"acme/pay\"}}");
	post_recent(t0, 1 * h, "c201-merged", "change.merged.0.3.0", "\"201\"",
		    "{\"repository\":{\"id\":\"acme/pay\"}}");
	post_recent(t0, 2 * h, "p1-packaged", "artifact.packaged.0.3.0", "\"" PAY1 "\"",
		    "{\"change\":{\"id\":\"201\",\"source\":\"acme/pay\"}}");
	post_recent(t0, 3 * h, "d-pay-1", "service.deployed.0.3.0", "\"pay\"", PROD PAY1 "\"}");
	post_recent(t0, 3 * h + 1800, "c202-created", "change.created.0.4.0", "\"202\"",
		    "{\"repository\":{\"id\":\"acme/pay\"}}");
	post_recent(t0, 4 * h, "p2-packaged", "artifact.packaged.0.3.0", "\"" PAY2 "\"",
		    "{\"change\":{\"id\":\"202\",\"source\":\"acme/pay\"}}");
	post_recent(t0, 5 * h, "d-pay-2", "service.upgraded.0.3.0", "\"pay\"", PROD PAY2 "\"}");
	post_recent(t0, 5 * h + 600, "inc-p-detected", "incident.detected.0.3.0", "\"inc-p\"",
		    "{\"environment\":{\"id\":\"prod\"},\"service\":{\"id\":\"pay\"}}");
	post_recent(t0, 5 * h + 1800, "d-pay-3", "service.rolledback.0.3.0", "\"pay\"",
		    PROD PAY1 "\"}");
	post_recent(t0, 6 * h, "inc-p-resolved", "incident.resolved.0.3.0", "\"inc-p\"",
		    "{\"environment\":{\"id\":\"prod\"},\"service\":{\"id\":\"pay\"}}");
	post_recent(t0, 23 * h, "d-search-staging", "service.deployed.0.3.0", "\"search\"",
		    "{\"environment\":{\"id\":\"staging\"},\"artifactId\":\"pkg:oci/search@1\"}");
	post_recent(t0, 24 * h, "d-search-1", "service.deployed.0.3.0", "\"search\"",
		    PROD "pkg:oci/search@1\"}");
	post_recent(t0, 48 * h, "d-odd-1", "service.deployed.0.3.0",
		    "\"odd \\\"svc\\\"\\n\\\\ x\"", PROD "pkg:oci/odd@1\"}");
}

static const cJSON *member(const cJSON *o, const char *a, const char *b)
{
	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, a), b);
}

/* The gauge equals the JSON figure; a null figure has no sample. */
static void same_figure(const struct expo *e, const char *gauge, const char *service,
			const char *quantile, const cJSON *figure)
{
	const char *const kv[] = {"service", service, quantile ? "quantile" : NULL, quantile, NULL};
	const struct sample *s = find(e, gauge, kv);

	if (cJSON_IsNull(figure)) {
		if (s)
			fail_msg("%s{service=%s}: the API says null, the gauge is %g", gauge,
				 service, s->value);
		return;
	}
	if (!cJSON_IsNumber(figure) || !s)
		fail_msg("%s{service=%s,quantile=%s}: missing (API: %s)", gauge, service,
			 quantile ? quantile : "", cJSON_PrintUnformatted(figure));
	double want = figure->valuedouble;
	if (fabs(s->value - want) > 1e-9 * fmax(1, fabs(want)))
		fail_msg("%s{service=%s}: gauge %.17g, API %.17g", gauge, service, s->value, want);
}

static void same_service(const struct expo *e, const cJSON *svc)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(svc, "service"));

	same_figure(e, "cdlens_dora_deployments", name, NULL,
		    member(svc, "deployment_frequency", "deployments"));
	same_figure(e, "cdlens_dora_deployments_per_day", name, NULL,
		    member(svc, "deployment_frequency", "per_day"));
	same_figure(e, "cdlens_dora_change_failure_rate", name, NULL,
		    member(svc, "change_failure_rate", "rate"));
	same_figure(e, "cdlens_dora_lead_time_seconds", name, "0.5",
		    member(svc, "lead_time", "median_seconds"));
	same_figure(e, "cdlens_dora_lead_time_seconds", name, "0.9",
		    member(svc, "lead_time", "p90_seconds"));
	same_figure(e, "cdlens_dora_recovery_time_seconds", name, "0.5",
		    member(svc, "recovery_time", "median_seconds"));
	same_figure(e, "cdlens_dora_recovery_time_seconds", name, "0.9",
		    member(svc, "recovery_time", "p90_seconds"));
	same_figure(e, "cdlens_dora_rework_rate", name, NULL, member(svc, "rework_rate", "rate"));
}

static cJSON *services_last_30_days(void)
{
	char from[28], to[28], path[160];
	struct http_response r = {0};
	int64_t now = clock_now_us();

	clock_format_rfc3339(now - 30LL * 86400 * 1000000, from);
	clock_format_rfc3339(now, to);
	snprintf(path, sizeof path, "/api/v1/dora/services?from=%s&to=%s", from, to);
	if (http_request(srv.port, "GET", path, NULL, NULL, 0, &r) != 200)
		fail_msg("GET %s: %d %s", path, r.status, r.body);
	cJSON *root = cJSON_Parse(r.body);
	assert_non_null(root);
	http_response_release(&r);
	return root;
}

static size_t count_samples(const struct expo *e, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < e->nsamples; i++)
		n += strcmp(e->samples[i].name, name) == 0;
	return n;
}

static void dora_gauges_equal_services_api(void **state)
{
	(void)state;
	int64_t t0 = clock_now_us() / 1000000 * 1000000 - 5LL * 86400 * 1000000;
	struct expo e;

	post_recent_history(t0);
	wait_correlated();
	cJSON *root = services_last_30_days();
	scrape(&e);
	const cJSON *services = cJSON_GetObjectItemCaseSensitive(root, "services"), *svc;
	/* odd, pay and search; the scenario's services are older than 30 days */
	assert_int_equal(cJSON_GetArraySize(services), 3);
	assert_int_equal(count_samples(&e, "cdlens_dora_deployments"), 3);
	cJSON_ArrayForEach(svc, services)
		same_service(&e, svc);
	/* the figures are real, not two empty sets agreeing */
	assert_int_equal(value(&e, "cdlens_dora_deployments", L("service", "pay")), 3);
	double cfr = value(&e, "cdlens_dora_change_failure_rate", L("service", "pay"));
	assert_true(fabs(cfr - 1.0 / 3) < 1e-12);
	assert_int_equal(value(&e, "cdlens_dora_lead_time_seconds",
			       L("service", "pay", "quantile", "0.5")), 8100);
	assert_int_equal(value(&e, "cdlens_dora_lead_time_seconds",
			       L("service", "pay", "quantile", "0.9")), 10260);
	assert_int_equal(value(&e, "cdlens_dora_recovery_time_seconds",
			       L("service", "pay", "quantile", "0.5")), 3600);
	assert_null(find(&e, "cdlens_dora_lead_time_seconds",
			 L("service", "search", "quantile", "0.5"))); /* no changes: null */
	assert_int_equal(value(&e, "cdlens_dora_deployments", L("service", ODD_SERVICE)), 1);
	assert_non_null(strstr(e.text, "cdlens_dora_deployments{service=\"odd \\\"svc\\\"\\n"
				       "\\\\ x\"} 1\n"));
	assert_int_equal(value(&e, "cdlens_correlation_pending_events", NULL), 0);
	assert_true(value(&e, "cdlens_correlation_events_total", NULL) >= 13);
	expo_release(&e);
	cJSON_Delete(root);
}

/* Allow or refuse connections to the test database; refusing also ends its sessions. */
static void database_connections(bool allow)
{
	const char *admin = getenv("TEST_DATABASE_URL");
	const char *const params[] = {db_name};
	char sql[256];

	snprintf(sql, sizeof sql, "ALTER DATABASE \"%s\" ALLOW_CONNECTIONS %s", db_name,
		 allow ? "true" : "false");
	testdb_exec(admin, sql);
	if (!allow)
		free(testdb_scalar(admin, "SELECT count(pg_terminate_backend(pid, 5000))::text FROM "
				   "pg_stat_activity WHERE datname = $1", 1, params));
}

static void database_down_keeps_answering(void **state)
{
	(void)state;
	struct expo e;
	double up = 0;

	database_connections(false);
	scrape(&e);
	assert_int_equal(value(&e, "cdlens_database_up", NULL), 0);
	assert_null(find_family(&e, "cdlens_dora_deployments"));
	assert_null(find_family(&e, "cdlens_correlation_pending_events"));
	assert_non_null(find(&e, "cdlens_ingest_events_total", L("result", "accepted")));
	assert_non_null(find(&e, "cdlens_db_pool_timeouts_total", NULL));
	expo_release(&e);
	database_connections(true);
	for (int i = 0; i < 100 && up != 1; i++) {
		usleep(i ? 100000 : 0);
		up = metric_now("cdlens_database_up", NULL);
	}
	assert_int_equal(up, 1);
}

static int setup(void **state)
{
	(void)state;
	db_url = test_server_open(&srv, "metrics", NULL);
	db_name = testdb_scalar(db_url, "SELECT current_database()", 0, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(db_name);
	test_server_close(&srv, &db_url);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(well_formed_from_the_start),
		cmocka_unit_test(ingest_counters),
		cmocka_unit_test(routes_and_methods),
		cmocka_unit_test(dora_gauges_equal_services_api),
		cmocka_unit_test(database_down_keeps_answering),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
