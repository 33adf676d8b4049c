#ifndef WEB_API_DORA_PARAMS_H
#define WEB_API_DORA_PARAMS_H
/*
 * The parameters shared by the DORA endpoints (web/api_dora.c, web/api_lists.c), and reply
 * helpers they share. Threads: per request.
 */
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "metrics/dora.h"
#include "sql/metrics_store.h"
#include "web/query.h"

struct request;
struct db_conn;
struct dora_tiers;
struct cJSON;

#define DORA_DEFAULT_DAYS 30
#define DORA_MAX_DAYS 3660

struct dora_params {
	struct query q;
	int64_t from_us, to_us;
	char from[28], to[28];          /* RFC 3339, as passed to SQL */
	enum dora_bucket bucket;
	int year;                       /* tier report year */
	bool csv;
	struct buf services;            /* JSON array, or empty: all */
	struct buf environments;        /* JSON array of the production environments used */
	struct metrics_filter filter;   /* points into the members above */
};

/*
 * Parse req->query into *p: `allowed` (NULL-terminated) are the accepted names; any other is
 * a 400; only service, environment and pipeline may repeat. from/to default to the DORA_DEFAULT_DAYS days before now; the window must be
 * positive and at most DORA_MAX_DAYS days. bucket defaults to day (up to 62 days), week (up
 * to 1 year) or month. Errors: ST_INVALID naming the parameter, in req->err.
 */
enum status dora_params_parse(struct request *req, const char *const *allowed,
			      struct dora_params *p);
/* Decide the production environments (all known ones, or the requested ones, which must be
 * production). Errors: ST_INVALID (a requested environment is not production), DB errors. */
enum status dora_params_environments(struct request *req, struct db_conn *conn,
				     struct dora_params *p);
/* Add "window", "filters" and "report" members to a response object. */
void dora_params_describe(const struct dora_params *p, const struct dora_tiers *tiers,
			  struct cJSON *root);
void dora_params_release(struct dora_params *p);
int dora_params_cmp_str(const void *a, const void *b); /* qsort of const char * */
/* Append the values of parameter `name` to `out` as a JSON array; nothing when there are none. */
void dora_params_json_array(const struct query *q, const char *name, struct buf *out);

/* Reply with the /api/v1/dora/services list as CSV. */
int reply_services_csv(struct request *req, const struct cJSON *list);

/* Append one CSV field (RFC 4180 quoting; a text starting with = + - @ is prefixed with '
 * so spreadsheets do not run it as a formula). NULL: empty field. */
void csv_text(struct buf *b, const char *s, bool first);
void csv_number(struct buf *b, bool present, double v, bool first);

#endif
