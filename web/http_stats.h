#ifndef WEB_HTTP_STATS_H
#define WEB_HTTP_STATS_H
/*
 * Per-route HTTP request counters and latency histograms, for GET /metrics.
 *
 * A series is one (route slot, method) pair. The route slot is the index of the route in the
 * table of web/routes.c, or HTTP_STATS_OTHER for a path the table does not know; the method
 * is one of a fixed set (anything else counts as HTTP_STATS_METHOD_OTHER), so the number of
 * series is bounded whatever clients send. Each series counts requests per response status
 * (a fixed set of codes plus "other") and per latency bucket (HTTP_STATS_BOUNDS, seconds).
 *
 * Lifetime: a zeroed struct http_stats is ready to use and needs no release. It lives BY
 * VALUE in struct app (web/app.h): main()'s `struct app app = {.cfg = ...}` initialiser
 * zeroes every member it does not name, which for atomic objects is a valid initial value
 * (C17 6.7.9p10, p21 and 7.17.2.1), so web/main.c does not need to know about it.
 *
 * Threads: http_stats_record() and the readers may run concurrently from any thread. They use
 * relaxed C11 atomic adds and loads, no locks: a reader may see a request in one counter and
 * not yet in another, which the next scrape corrects. http_stats_read() derives the total
 * count from the buckets it read, so a histogram's +Inf bucket always equals its _count.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_STATS_ROUTES 32                     /* route slots, including "other" */
#define HTTP_STATS_OTHER (HTTP_STATS_ROUTES - 1) /* the slot of unknown paths */
#define HTTP_STATS_NBOUNDS 13                    /* latency bucket upper bounds */
#define HTTP_STATS_NCODES 18                     /* known status codes + "other" */

enum http_stats_method {
	HTTP_STATS_GET,
	HTTP_STATS_HEAD,
	HTTP_STATS_POST,
	HTTP_STATS_PUT,
	HTTP_STATS_DELETE,
	HTTP_STATS_PATCH,
	HTTP_STATS_OPTIONS,
	HTTP_STATS_METHOD_OTHER,
	HTTP_STATS_NMETHODS
};

/* Upper bounds of the latency buckets in seconds, ascending (0.001 ... 10). */
extern const double http_stats_bounds[HTTP_STATS_NBOUNDS];

struct http_stats_series {
	atomic_uint_fast64_t buckets[HTTP_STATS_NBOUNDS + 1]; /* not cumulative; last: > 10 s */
	atomic_uint_fast64_t sum_us;                          /* total latency, microseconds */
	atomic_uint_fast64_t codes[HTTP_STATS_NCODES];
};

struct http_stats {
	struct http_stats_series series[HTTP_STATS_ROUTES][HTTP_STATS_NMETHODS];
};

/* One series as read by http_stats_read(): cumulative buckets, as the exposition wants. */
struct http_stats_snapshot {
	uint64_t cumulative[HTTP_STATS_NBOUNDS + 1]; /* [i]: requests <= bound i; last: +Inf */
	uint64_t count;                              /* == cumulative[HTTP_STATS_NBOUNDS] */
	double sum_seconds;
	uint64_t codes[HTTP_STATS_NCODES];
};

/*
 * Count one request of route slot `route` (>= HTTP_STATS_ROUTES counts as HTTP_STATS_OTHER),
 * method `method` (any text; NULL or unknown: other), response status `code`, taking `us`
 * microseconds (negative: 0). Threads: safe from any thread; lock-free.
 */
void http_stats_record(struct http_stats *s, size_t route, const char *method, int code,
		       int64_t us);

/* Read one series into *out. Threads: safe from any thread. */
void http_stats_read(const struct http_stats *s, size_t route, enum http_stats_method method,
		     struct http_stats_snapshot *out);

/* The method's name ("GET", ..., "other" for HTTP_STATS_METHOD_OTHER). */
const char *http_stats_method_name(enum http_stats_method method);

/* The status code counted in codes[i] as text ("200", ..., "other" for the last slot). */
const char *http_stats_code_name(size_t i);

#endif
