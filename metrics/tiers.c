/*
 * metrics/tiers.c: the DORA tier table (tiers.h).
 *
 * Data lines: year, metric, tier, op (">=" or "<="), bound, source id, tab-separated.
 * Source lines: "#source" TAB id TAB citation. Other "#" lines and blank lines are comments.
 * Tiers are tried best first (elite, high, medium); a figure meeting none is "low". A year
 * with no line for a metric gives no tier for it (e.g. a report without that metric).
 */
#include "metrics/tiers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xalloc.h"

#define TIERS_MAX_ROWS 256
#define TIERS_MAX_SOURCES 32

static const char *const metric_names[TIERS_NMETRICS] = {
	"deployment_frequency", "lead_time", "change_failure_rate", "recovery_time"};
static const char *const tier_names[] = {"elite", "high", "medium", "low"};

struct tier_row {
	int year, metric, tier;
	bool at_least;
	double bound;
	char source[32];
};

struct dora_tiers {
	struct tier_row rows[TIERS_MAX_ROWS];
	size_t nrows;
	struct { char id[32]; char *citation; } sources[TIERS_MAX_SOURCES];
	size_t nsources;
	struct buf years;
};

static int index_of(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

static bool parse_source(struct dora_tiers *t, char *line)
{
	char *id = strtok(line + strlen("#source"), "\t"), *cite = strtok(NULL, "\n");

	if (!id || !cite || t->nsources == TIERS_MAX_SOURCES || strlen(id) >= 32)
		return false;
	snprintf(t->sources[t->nsources].id, 32, "%s", id);
	t->sources[t->nsources++].citation = xstrdup(cite);
	return true;
}

static bool parse_row(struct dora_tiers *t, char *line)
{
	char *f[6], *save = NULL;
	size_t n = 0;

	for (char *p = strtok_r(line, "\t", &save); p && n < 6; p = strtok_r(NULL, "\t", &save))
		f[n++] = p;
	if (n != 6 || t->nrows == TIERS_MAX_ROWS)
		return false;
	struct tier_row *r = &t->rows[t->nrows];
	char *end;
	r->year = (int)strtol(f[0], &end, 10);
	r->metric = index_of(metric_names, TIERS_NMETRICS, f[1]);
	r->tier = index_of(tier_names, 4, f[2]);
	r->at_least = strcmp(f[3], ">=") == 0;
	r->bound = strtod(f[4], NULL);
	if (*end || r->metric < 0 || r->tier < 0 || (!r->at_least && strcmp(f[3], "<=") != 0) ||
	    strlen(f[5]) >= sizeof r->source)
		return false;
	snprintf(r->source, sizeof r->source, "%s", f[5]);
	t->nrows++;
	return true;
}

static void collect_years(struct dora_tiers *t)
{
	int last = 0;

	for (size_t i = 0; i < t->nrows; i++) { /* rows are grouped by year in the file */
		if (t->rows[i].year == last)
			continue;
		buf_printf(&t->years, "%s%d", t->years.len ? ", " : "", t->rows[i].year);
		last = t->rows[i].year;
	}
}

struct dora_tiers *tiers_parse(const char *tsv, struct err *err)
{
	struct dora_tiers *t = xcalloc(1, sizeof *t);
	char *text = xstrdup(tsv), *save = NULL;
	int lineno = 0;

	t->years = (struct buf)BUF_INIT(0);
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		line[strcspn(line, "\r")] = '\0';
		bool ok = true;
		if (strncmp(line, "#source\t", 8) == 0)
			ok = parse_source(t, line);
		else if (line[0] && line[0] != '#')
			ok = parse_row(t, line);
		if (!ok) {
			(void)err_set(err, ST_INVALID, "tiers data: bad line %d", lineno);
			free(text);
			tiers_free(t);
			return NULL;
		}
	}
	free(text);
	collect_years(t);
	return t;
}

void tiers_free(struct dora_tiers *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nsources; i++)
		free(t->sources[i].citation);
	buf_release(&t->years);
	free(t);
}

const char *tiers_classify(const struct dora_tiers *t, int year, enum tiers_metric m, double v)
{
	bool any = false;

	for (int tier = 0; tier < 4; tier++) {
		for (size_t i = 0; i < t->nrows; i++) {
			const struct tier_row *r = &t->rows[i];
			if (r->year != year || r->metric != (int)m)
				continue;
			any = true;
			if (r->tier == tier && (r->at_least ? v >= r->bound : v <= r->bound))
				return tier_names[tier];
		}
	}
	return any ? "low" : NULL;
}

bool tiers_has_year(const struct dora_tiers *t, int year)
{
	for (size_t i = 0; i < t->nrows; i++)
		if (t->rows[i].year == year)
			return true;
	return false;
}

int tiers_latest_year(const struct dora_tiers *t)
{
	int y = 0;

	for (size_t i = 0; i < t->nrows; i++)
		if (t->rows[i].year > y)
			y = t->rows[i].year;
	return y;
}

const char *tiers_years(const struct dora_tiers *t)
{
	return buf_cstr(&t->years);
}

const char *tiers_source(const struct dora_tiers *t, int year)
{
	for (size_t i = 0; i < t->nrows; i++) {
		if (t->rows[i].year != year)
			continue;
		for (size_t k = 0; k < t->nsources; k++)
			if (strcmp(t->sources[k].id, t->rows[i].source) == 0)
				return t->sources[k].citation;
	}
	return "";
}
