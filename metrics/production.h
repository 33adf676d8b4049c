#ifndef METRICS_PRODUCTION_H
#define METRICS_PRODUCTION_H
/*
 * Which environments are production: those whose id or name matches the configured POSIX
 * extended regular expression, case-insensitively (--production-env; docs/METRICS.md).
 * Threads: a compiled matcher is read-only; production_match() is safe from any thread.
 */
#include <stdbool.h>

#include "core/err.h"

#define PRODUCTION_DEFAULT "^(.*[/:])?(prod|production)$"

struct production;

/* Compile `pattern`. Errors: ST_INVALID (not a valid extended regex; err->msg says why). */
struct production *production_new(const char *pattern, struct err *err);
void production_free(struct production *p); /* NULL: no-op */
/* Whether the environment with this id (and name, which may be NULL) is production. */
bool production_match(const struct production *p, const char *id, const char *name);
/* The pattern it was compiled from (borrowed, lives as long as p). */
const char *production_pattern(const struct production *p);

#endif
