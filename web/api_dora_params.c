/*
 * web/api_dora_params.c: parameters and replies shared by the DORA endpoints
 * (api_dora_params.h). Invalid input is a 400 naming the parameter; nothing here builds SQL:
 * the filters travel as JSON arrays in bound parameters.
 */
#include "web/api_dora_params.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/xalloc.h"
#include "metrics/production.h"
#include "metrics/tiers.h"
#include "web/app.h"
#include "web/request.h"

static bool allowed_name(const char *name, const char *const *allowed)
{
	for (size_t i = 0; allowed[i]; i++)
		if (strcmp(allowed[i], name) == 0)
			return true;
	return false;
}

static enum status check_names(const struct query *q, const char *const *allowed,
			       struct err *err)
{
	/* the lists' filters; each is refused as unknown where it is not allowed */
	static const char *const repeatable[] = {"service", "environment", "pipeline", NULL};
	char quoted[QUERY_QUOTE_MAX];

	for (size_t i = 0; i < q->n; i++) {
		const char *name = q->params[i].name;
		if (!allowed_name(name, allowed))
			return err_set(err, ST_INVALID, "unknown parameter \"%s\"",
				       query_quote_name(name, quoted));
		if (!allowed_name(name, repeatable) && query_count(q, name) > 1)
			return err_set(err, ST_INVALID, "parameter \"%s\" is given more than once",
				       name);
		if (!q->params[i].value[0])
			return err_set(err, ST_INVALID, "parameter \"%s\" is empty", name);
	}
	return ST_OK;
}

static enum status parse_time(const struct query *q, const char *name, int64_t *us,
			      struct err *err)
{
	const char *v = query_get(q, name);

	if (v && !clock_parse_rfc3339(v, strlen(v), us, NULL)) {
		err_set(err, ST_INVALID, "parameter \"%s\" is not an RFC 3339 date-time", name);
		err_detail(err, "for example 2026-03-01T00:00:00Z");
		return ST_INVALID;
	}
	return ST_OK;
}

/* 0001-01-01T00:00:00Z: the earliest instant core/clock.c (and so the SQL) takes. */
#define DORA_EARLIEST_US (-62135596800LL * 1000000)

static enum status parse_window(const struct query *q, struct dora_params *p, struct err *err)
{
	const int64_t day = DORA_US_PER_DAY;

	p->to_us = clock_now_us();
	if (parse_time(q, "to", &p->to_us, err) != ST_OK)
		return ST_INVALID;
	p->from_us = p->to_us - DORA_DEFAULT_DAYS * day;
	if (parse_time(q, "from", &p->from_us, err) != ST_OK)
		return ST_INVALID;
	if (p->from_us < DORA_EARLIEST_US) /* only a default "from": a given one is in range */
		return err_set(err, ST_INVALID, "parameter \"to\" is less than %d days after "
			       "0001-01-01, so the default \"from\" is out of range: give \"from\" "
			       "too", DORA_DEFAULT_DAYS);
	if (p->from_us >= p->to_us)
		return err_set(err, ST_INVALID, "parameter \"from\" must be earlier than \"to\"");
	if (p->to_us - p->from_us > DORA_MAX_DAYS * day)
		return err_set(err, ST_INVALID, "the window from \"from\" to \"to\" is longer than %d"
			       " days", DORA_MAX_DAYS);
	clock_format_rfc3339(p->from_us, p->from);
	clock_format_rfc3339(p->to_us, p->to);
	return ST_OK;
}

static enum status parse_options(struct request *req, struct dora_params *p)
{
	const struct query *q = &p->q;
	const char *bucket = query_get(q, "bucket"), *report = query_get(q, "report");
	const char *format = query_get(q, "format"), *accept = request_header(req, "Accept");
	int64_t days = (p->to_us - p->from_us) / DORA_US_PER_DAY;

	p->bucket = bucket ? dora_bucket_parse(bucket)
			   : days <= 62 ? DORA_BUCKET_DAY : days <= 366 ? DORA_BUCKET_WEEK
								: DORA_BUCKET_MONTH;
	if (p->bucket == DORA_BUCKET_NONE)
		return err_set(&req->err, ST_INVALID, "parameter \"bucket\" must be day, week or "
			       "month");
	p->year = tiers_latest_year(req->app->tiers);
	if (report) {
		/* four digits exactly: strtol() would also take " 2023", "+2023", "02023" and, cut
		 * to int, 4294969319 as 2023 */
		bool digits = strlen(report) == 4 && strspn(report, "0123456789") == 4;
		int y = digits ? atoi(report) : 0;
		if (!digits || !tiers_has_year(req->app->tiers, y))
			return err_set(&req->err, ST_INVALID, "parameter \"report\" names no DORA "
				       "report year with tiers (%s)", tiers_years(req->app->tiers));
		p->year = y;
	}
	if (format && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0)
		return err_set(&req->err, ST_INVALID, "parameter \"format\" must be csv or json");
	p->csv = format ? strcmp(format, "csv") == 0 : accept && strstr(accept, "text/csv");
	return ST_OK;
}

void dora_params_json_array(const struct query *q, const char *name, struct buf *out)
{
	bool first = true;

	for (size_t i = 0; i < q->n; i++) {
		if (strcmp(q->params[i].name, name) != 0)
			continue;
		buf_putc(out, first ? '[' : ',');
		buf_json_cstr(out, q->params[i].value);
		first = false;
	}
	if (!first)
		buf_putc(out, ']');
}

enum status dora_params_parse(struct request *req, const char *const *allowed,
			      struct dora_params *p)
{
	*p = (struct dora_params){.services = BUF_INIT(0), .environments = BUF_INIT(0)};
	if (query_parse(req->query, &p->q, &req->err) != ST_OK ||
	    check_names(&p->q, allowed, &req->err) != ST_OK ||
	    parse_window(&p->q, p, &req->err) != ST_OK || parse_options(req, p) != ST_OK)
		return ST_INVALID;
	dora_params_json_array(&p->q, "service", &p->services);
	p->filter = (struct metrics_filter){p->from, p->to, "[]",
					    p->services.len ? buf_cstr(&p->services) : NULL, NULL};
	return ST_OK;
}

/* ---- production environments ---- */

struct envs {
	const struct production *prod;
	const struct query *q;   /* the requested environments, if any */
	struct buf *out;
	char *by_name[QUERY_MAX_PARAMS]; /* requested ids that are production by their name */
	size_t nby_name;
	char *known[QUERY_MAX_PARAMS]; /* requested ids of environments that have deployments */
	size_t nknown;
	bool first, requested;
};

static void add_env(struct envs *e, const char *id)
{
	buf_putc(e->out, e->first ? '[' : ',');
	buf_json_cstr(e->out, id);
	e->first = false;
}

static bool is_requested(const struct query *q, const char *id)
{
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->params[i].name, "environment") == 0 && strcmp(q->params[i].value, id) == 0)
			return true;
	return false;
}

/* Known environments: all production ones by default; when some are requested, those whose
 * name (not id) makes them production are accepted here, the rest by id below. */
static void take_env(void *arg, const char *id, const char *name)
{
	struct envs *e = arg;

	if (e->requested && is_requested(e->q, id) && e->nknown < QUERY_MAX_PARAMS)
		e->known[e->nknown++] = xstrdup(id);
	if (!e->requested) {
		if (production_match(e->prod, id, name))
			add_env(e, id);
	} else if (is_requested(e->q, id) && !production_match(e->prod, id, NULL) &&
		   production_match(e->prod, NULL, name) && e->nby_name < QUERY_MAX_PARAMS) {
		e->by_name[e->nby_name++] = xstrdup(id);
	}
}

static enum status add_requested(struct request *req, struct envs *e)
{
	for (size_t i = 0; i < e->q->n; i++) {
		const char *id = e->q->params[i].value;
		if (strcmp(e->q->params[i].name, "environment") != 0)
			continue;
		bool known = false;
		for (size_t k = 0; k < e->nknown && !known; k++)
			known = strcmp(e->known[k], id) == 0;
		if (!known) {
			/* a typo or another case ("PROD" for "prod") would read as no activity */
			err_set(&req->err, ST_INVALID, "parameter \"environment\": no deployment was "
				"ever made to \"%.100s\"", id);
			err_detail(&req->err, "environment ids are compared exactly, case included; "
				   "the known ones are in the \"filters\" of /api/v1/dora without it");
			return ST_INVALID;
		}
		if (production_match(e->prod, id, NULL)) {
			add_env(e, id);
			continue;
		}
		bool by_name = false;
		for (size_t k = 0; k < e->nby_name && !by_name; k++)
			by_name = strcmp(e->by_name[k], id) == 0;
		if (by_name) {
			add_env(e, id);
		} else {
			err_set(&req->err, ST_INVALID, "parameter \"environment\": \"%.100s\" is not a"
				" production environment", id);
			err_detail(&req->err, "production environments are those whose id or name "
				   "matches %s (--production-env)", req->app->cfg->production_env);
			return ST_INVALID;
		}
	}
	return ST_OK;
}

enum status dora_params_environments(struct request *req, struct db_conn *conn,
				     struct dora_params *p)
{
	struct envs e = {.prod = req->app->production, .q = &p->q, .out = &p->environments,
			 .first = true, .requested = query_count(&p->q, "environment") > 0};
	enum status st = metrics_store_environments(conn, take_env, &e, &req->err);

	if (st == ST_OK && e.requested)
		st = add_requested(req, &e);
	for (size_t i = 0; i < e.nby_name; i++)
		free(e.by_name[i]);
	for (size_t i = 0; i < e.nknown; i++)
		free(e.known[i]);
	if (st != ST_OK)
		return st;
	buf_puts(&p->environments, e.first ? "[]" : "]");
	p->filter.environments = buf_cstr(&p->environments);
	p->filter.production = e.requested ? NULL : production_pattern(req->app->production);
	return ST_OK;
}

void dora_params_describe(const struct dora_params *p, const struct dora_tiers *tiers,
			  struct cJSON *root)
{
	char ts[28];
	cJSON *w = cJSON_AddObjectToObject(root, "window");

	clock_format_rfc3339(p->from_us, ts);
	cJSON_AddStringToObject(w, "from", ts);
	clock_format_rfc3339(p->to_us, ts);
	cJSON_AddStringToObject(w, "to", ts);
	cJSON_AddNumberToObject(w, "days", (double)(p->to_us - p->from_us) / DORA_US_PER_DAY);
	static const char *const names[] = {"", "day", "week", "month"};
	cJSON_AddStringToObject(w, "bucket", names[p->bucket]);
	cJSON *f = cJSON_AddObjectToObject(root, "filters");
	cJSON_AddItemToObject(f, "services", p->services.len ? cJSON_Parse(buf_cstr(&p->services))
							     : cJSON_CreateNull());
	cJSON_AddItemToObject(f, "environments", cJSON_Parse(buf_cstr(&p->environments)));
	cJSON *r = cJSON_AddObjectToObject(root, "report");
	cJSON_AddNumberToObject(r, "year", p->year);
	cJSON_AddStringToObject(r, "source", tiers_source(tiers, p->year));
}

void dora_params_release(struct dora_params *p)
{
	query_release(&p->q);
	buf_release(&p->services);
	buf_release(&p->environments);
}

int dora_params_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- replies ---- */

void csv_text(struct buf *b, const char *s, bool first)
{
	if (!first)
		buf_putc(b, ',');
	if (!s)
		return;
	bool quote = strpbrk(s, ",\"\r\n") || strchr("=+-@\t", s[0]) != NULL;
	if (!quote) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '"');
	if (s[0] && strchr("=+-@\t", s[0]))
		buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

void csv_number(struct buf *b, bool present, double v, bool first)
{
	if (!first)
		buf_putc(b, ',');
	if (present)
		buf_double(b, v);
}

static const struct cJSON *member(const struct cJSON *o, const char *a, const char *b)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);

	return b ? cJSON_GetObjectItemCaseSensitive(x, b) : x;
}

static void csv_json_value(struct buf *b, const struct cJSON *v)
{
	if (cJSON_IsNumber(v))
		csv_number(b, true, v->valuedouble, false);
	else
		csv_text(b, cJSON_IsString(v) ? v->valuestring : NULL, false);
}

int reply_services_csv(struct request *req, const struct cJSON *list)
{
	static const char *const cols[][2] = {
		{"deployment_frequency", "deployments"}, {"deployment_frequency", "per_day"},
		{"deployment_frequency", "tier"},       {"lead_time", "changes"},
		{"lead_time", "median_seconds"},        {"lead_time", "p90_seconds"},
		{"lead_time", "tier"},                  {"change_failure_rate", "failed"},
		{"change_failure_rate", "rate"},        {"change_failure_rate", "tier"},
		{"recovery_time", "recoveries"},        {"recovery_time", "open"},
		{"recovery_time", "median_seconds"},    {"recovery_time", "tier"},
		{"rework_rate", "rework"},              {"rework_rate", "rate"},
	};
	struct buf csv = BUF_INIT(0);
	const cJSON *s;

	buf_puts(&csv, "service");
	for (size_t i = 0; i < sizeof cols / sizeof *cols; i++)
		buf_printf(&csv, ",%s_%s", cols[i][0], cols[i][1]);
	buf_puts(&csv, "\r\n");
	cJSON_ArrayForEach(s, list) {
		csv_text(&csv, cJSON_GetStringValue(member(s, "service", NULL)), true);
		for (size_t i = 0; i < sizeof cols / sizeof *cols; i++)
			csv_json_value(&csv, member(s, cols[i][0], cols[i][1]));
		buf_puts(&csv, "\r\n");
	}
	int status = reply_csv(req, &csv);
	buf_release(&csv);
	return status;
}
