#ifndef METRICS_TIERS_H
#define METRICS_TIERS_H
/*
 * DORA performance tiers (elite / high / medium / low) by report year, from the data file
 * metrics/tiers.tsv (compiled into the binary as tiers_builtin; format and sources in the
 * file itself). A figure gets the best tier whose bound it meets; meeting none is "low".
 * Threads: a parsed table is read-only; all lookups are safe from any thread.
 */
#include <stdbool.h>

#include "core/err.h"

enum tiers_metric {
	TIERS_DEPLOYMENT_FREQUENCY, /* production deployments per day */
	TIERS_LEAD_TIME,            /* median seconds */
	TIERS_CHANGE_FAILURE_RATE,  /* fraction */
	TIERS_RECOVERY_TIME,        /* median seconds */
	TIERS_NMETRICS
};

struct dora_tiers;

extern const char tiers_builtin[]; /* metrics/tiers.tsv, NUL-terminated */

/* Parse the TSV text. Errors: ST_INVALID naming the line. Ownership: tiers_free(). */
struct dora_tiers *tiers_parse(const char *tsv, struct err *err);
void tiers_free(struct dora_tiers *t); /* NULL: no-op */

/* "elite", "high", "medium" or "low"; NULL when the year has no tiers for the metric. */
const char *tiers_classify(const struct dora_tiers *t, int year, enum tiers_metric m, double v);
bool tiers_has_year(const struct dora_tiers *t, int year);
int tiers_latest_year(const struct dora_tiers *t);
/* The years as "2019, 2021, ..." (for messages). Points into t. */
const char *tiers_years(const struct dora_tiers *t);
/* The citation of a year's source, or "" when unknown. Points into t. */
const char *tiers_source(const struct dora_tiers *t, int year);

#endif
