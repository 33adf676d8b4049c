/*
 * web/http_stats.c: the request counters behind cdlens_http_request_duration_seconds and
 * cdlens_http_requests_total (see http_stats.h).
 *
 * Why fixed arrays of atomics: the dispatcher records every request, on every worker thread,
 * so recording must cost a few uncontended atomic adds and never a lock or an allocation. The
 * arrays are sized at compile time (routes x methods x (buckets + codes)), about 60 KiB.
 * Buckets are stored per interval (not cumulative), so a request touches one bucket; the
 * reader accumulates them.
 * When you add a status code that handlers send: add it to `codes` and HTTP_STATS_NCODES.
 */
#include "web/http_stats.h"

#include <string.h>

const double http_stats_bounds[HTTP_STATS_NBOUNDS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

static const char *const methods[HTTP_STATS_NMETHODS] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other",
};

/* The last slot ("other", code 0) collects every code not listed. */
static const struct {
	int code;
	const char *name;
} codes[HTTP_STATS_NCODES] = {
	{200, "200"}, {201, "201"}, {202, "202"}, {204, "204"}, {301, "301"}, {304, "304"},
	{400, "400"}, {401, "401"}, {403, "403"}, {404, "404"}, {405, "405"}, {409, "409"},
	{413, "413"}, {415, "415"}, {429, "429"}, {500, "500"}, {503, "503"}, {0, "other"},
};

static enum http_stats_method method_index(const char *method)
{
	for (int i = 0; method && i < HTTP_STATS_METHOD_OTHER; i++)
		if (strcmp(methods[i], method) == 0)
			return (enum http_stats_method)i;
	return HTTP_STATS_METHOD_OTHER;
}

static size_t code_index(int code)
{
	size_t i = 0;

	while (i < HTTP_STATS_NCODES - 1 && codes[i].code != code)
		i++;
	return i;
}

static size_t bucket_index(int64_t us)
{
	size_t i = 0;

	while (i < HTTP_STATS_NBOUNDS && (double)us > http_stats_bounds[i] * 1e6)
		i++;
	return i;
}

void http_stats_record(struct http_stats *s, size_t route, const char *method, int code,
		       int64_t us)
{
	if (route >= HTTP_STATS_ROUTES)
		route = HTTP_STATS_OTHER;
	if (us < 0)
		us = 0;
	struct http_stats_series *x = &s->series[route][method_index(method)];

	atomic_fetch_add_explicit(&x->buckets[bucket_index(us)], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&x->sum_us, (uint_fast64_t)us, memory_order_relaxed);
	atomic_fetch_add_explicit(&x->codes[code_index(code)], 1, memory_order_relaxed);
}

void http_stats_read(const struct http_stats *s, size_t route, enum http_stats_method method,
		     struct http_stats_snapshot *out)
{
	const struct http_stats_series *x = &s->series[route][method];
	uint64_t total = 0;

	*out = (struct http_stats_snapshot){0};
	for (size_t i = 0; i <= HTTP_STATS_NBOUNDS; i++) {
		total += atomic_load_explicit(&x->buckets[i], memory_order_relaxed);
		out->cumulative[i] = total;
	}
	out->count = total;
	out->sum_seconds = (double)atomic_load_explicit(&x->sum_us, memory_order_relaxed) / 1e6;
	for (size_t i = 0; i < HTTP_STATS_NCODES; i++)
		out->codes[i] = atomic_load_explicit(&x->codes[i], memory_order_relaxed);
}

const char *http_stats_method_name(enum http_stats_method method)
{
	return methods[method];
}

const char *http_stats_code_name(size_t i)
{
	return codes[i].name;
}
