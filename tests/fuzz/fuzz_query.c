/*
 * tests/fuzz/fuzz_query.c: libFuzzer target for the query-parameter parser: query_parse()
 * (web/query.c) and the DORA endpoints' dora_params_parse() (web/api_dora_params.c) on top
 * of it, with no server: the two sources are compiled into this program, and the two
 * functions of web/request.c that api_dora_params.c needs are replaced below
 * (request_header() finds no header; reply_csv() is never reached by parsing).
 *
 * Input: the query string (the part after '?'), cut at its first NUL byte as civetweb's
 * C string would be.
 *
 * Invariants checked beyond "no crash, leak or undefined behaviour":
 *   query_parse        accepted: at most QUERY_MAX_PARAMS pairs, names and values valid
 *                      UTF-8 of at most QUERY_MAX_VALUE bytes; the pairs percent-encoded
 *                      and joined again parse to the same pairs; query_get()/query_count()
 *                      agree with the pairs. Refused: *out is zeroed, the message names a
 *                      parameter ("parameter \"...\"" or the parameter count) and is UTF-8.
 *   dora_params_parse  accepted only when query_parse accepts; the window is positive and at
 *                      most DORA_MAX_DAYS days, its RFC 3339 strings parse back to its
 *                      bounds; the bucket is day, week or month; the report year has tiers
 *                      and is exactly the `report` value when one is given; the services
 *                      filter is valid JSON. Refused: the message is UTF-8 and names a
 *                      parameter or the window.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "fuzz_check.h"
#include "ingest/json_check.h"
#include "metrics/tiers.h"
#include "web/api_dora_params.h"
#include "web/app.h"
#include "web/query.h"
#include "web/request.h"

/* The names the DORA endpoints accept, together (web/api_dora.c, web/api_lists.c). */
static const char *const allowed[] = {"from",   "to",     "service", "environment",
				      "bucket", "report", "format",  NULL};
static struct app app;

const char *request_header(const struct request *req, const char *name)
{
	(void)req;
	(void)name;
	return NULL;
}

int reply_csv(struct request *req, const struct buf *csv)
{
	(void)req;
	(void)csv;
	abort(); /* parsing never replies */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct err err = {0};

	(void)argc;
	(void)argv;
	app.tiers = tiers_parse(tiers_builtin, &err);
	if (!app.tiers) {
		fprintf(stderr, "tiers: %s\n", err.msg);
		abort();
	}
	return 0;
}

/* Percent-encode everything but unreserved characters (RFC 3986). */
static void put_encoded(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~", c))
			buf_putc(b, (char)c);
		else
			buf_printf(b, "%%%02X", c);
	}
}

/* The pairs encoded and joined again parse to the same pairs. */
static void check_reencoded(const struct query *q)
{
	struct buf qs = BUF_INIT(0);
	struct query again = {0};
	struct err err = {0};

	for (size_t i = 0; i < q->n; i++) {
		if (i)
			buf_putc(&qs, '&');
		put_encoded(&qs, q->params[i].name);
		buf_putc(&qs, '=');
		put_encoded(&qs, q->params[i].value);
	}
	FUZZ_CHECK(query_parse(buf_cstr(&qs), &again, &err) == ST_OK, "re-encoded \"%s\": %s",
		   buf_cstr(&qs), err.msg);
	FUZZ_CHECK(again.n == q->n, "re-encoded \"%s\" has %zu pairs, not %zu", buf_cstr(&qs),
		   again.n, q->n);
	for (size_t i = 0; i < q->n; i++)
		FUZZ_CHECK(strcmp(again.params[i].name, q->params[i].name) == 0 &&
				   strcmp(again.params[i].value, q->params[i].value) == 0,
			   "re-encoded pair %zu differs", i);
	query_release(&again);
	buf_release(&qs);
}

static void check_query(const struct query *q)
{
	FUZZ_CHECK(q->n <= QUERY_MAX_PARAMS, "%zu pairs", q->n);
	for (size_t i = 0; i < q->n; i++) {
		const struct query_param *p = &q->params[i];
		FUZZ_CHECK(p->name && p->value, "pair %zu has a NULL", i);
		FUZZ_CHECK(strlen(p->name) <= QUERY_MAX_VALUE && strlen(p->value) <= QUERY_MAX_VALUE,
			   "pair %zu is too long", i);
		FUZZ_CHECK(fuzz_utf8(p->name) && fuzz_utf8(p->value), "pair %zu is not UTF-8", i);
		FUZZ_CHECK(query_count(q, p->name) >= 1, "query_count misses \"%s\"", p->name);
		const char *first = query_get(q, p->name);
		size_t k = 0;
		while (strcmp(q->params[k].name, p->name) != 0)
			k++;
		FUZZ_CHECK(first == q->params[k].value, "query_get(\"%s\") is not the first value",
			   p->name);
	}
	check_reencoded(q);
}

static void check_params(const struct dora_params *p, const struct query *q)
{
	const char *report = query_get(q, "report");
	const char *services = buf_cstr(&p->services);
	struct err err = {0};
	int64_t from, to;
	char year[16];

	FUZZ_CHECK(p->from_us < p->to_us && p->to_us - p->from_us <= DORA_MAX_DAYS * DORA_US_PER_DAY,
		   "window %lld..%lld", (long long)p->from_us, (long long)p->to_us);
	FUZZ_CHECK(clock_parse_rfc3339(p->from, strlen(p->from), &from, NULL) && from == p->from_us &&
			   clock_parse_rfc3339(p->to, strlen(p->to), &to, NULL) && to == p->to_us,
		   "window strings %s..%s", p->from, p->to);
	FUZZ_CHECK(p->bucket == DORA_BUCKET_DAY || p->bucket == DORA_BUCKET_WEEK ||
			   p->bucket == DORA_BUCKET_MONTH,
		   "bucket %d", (int)p->bucket);
	FUZZ_CHECK(tiers_has_year(app.tiers, p->year), "report year %d has no tiers", p->year);
	snprintf(year, sizeof year, "%d", p->year);
	FUZZ_CHECK(!report || strcmp(report, year) == 0, "report=\"%s\" taken as %d", report,
		   p->year);
	FUZZ_CHECK(!p->services.len ||
			   json_check(services, p->services.len, JSON_CHECK_MAX_DEPTH, &err) == ST_OK,
		   "services filter %s: %s", services, err.msg);
	FUZZ_CHECK(!p->services.len == !query_get(q, "service"), "services filter %s", services);
}

static bool names_a_parameter(const char *msg)
{
	return strstr(msg, "parameter \"") || strstr(msg, "query parameters") ||
	       strstr(msg, "the window from \"from\" to \"to\"");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *qs = fuzz_cstr(data, size);
	struct query q;
	struct err err = {0};
	static const struct query zero;
	enum status st = query_parse(qs, &q, &err);

	if (st == ST_OK) {
		check_query(&q);
	} else {
		FUZZ_CHECK(memcmp(&q, &zero, sizeof q) == 0, "a failed parse left pairs");
		fuzz_check_err(&err, st, "query_parse");
		FUZZ_CHECK(names_a_parameter(err.msg), "message names no parameter: %s", err.msg);
	}

	struct request req = {.app = &app, .query = qs};
	struct dora_params p;
	enum status pst = dora_params_parse(&req, allowed, &p);
	if (pst == ST_OK) {
		FUZZ_CHECK(st == ST_OK, "dora_params_parse accepts what query_parse refuses");
		check_params(&p, &q);
	} else {
		fuzz_check_err(&req.err, pst, "dora_params_parse");
		FUZZ_CHECK(names_a_parameter(req.err.msg), "message names no parameter: %s",
			   req.err.msg);
	}
	dora_params_release(&p);
	query_release(&q);
	free(qs);
	return 0;
}
