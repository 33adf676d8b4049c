/*
 * metrics/production.c: the production-environment pattern (production.h).
 * regexec() is documented thread-safe on a compiled regex_t in glibc, so one matcher is
 * shared by all request threads.
 */
#include "metrics/production.h"

#include <regex.h>
#include <stdlib.h>

#include "core/xalloc.h"

struct production {
	regex_t re;
	char *pattern;
};

struct production *production_new(const char *pattern, struct err *err)
{
	struct production *p = xcalloc(1, sizeof *p);
	int rc = regcomp(&p->re, pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB);

	if (rc != 0) {
		char why[128];
		regerror(rc, &p->re, why, sizeof why);
		free(p);
		(void)err_set(err, ST_INVALID, "invalid production environment pattern \"%s\": %s",
			      pattern, why);
		return NULL;
	}
	p->pattern = xstrdup(pattern);
	return p;
}

void production_free(struct production *p)
{
	if (!p)
		return;
	regfree(&p->re);
	free(p->pattern);
	free(p);
}

bool production_match(const struct production *p, const char *id, const char *name)
{
	return (id && regexec(&p->re, id, 0, NULL, 0) == 0) ||
	       (name && regexec(&p->re, name, 0, NULL, 0) == 0);
}

const char *production_pattern(const struct production *p)
{
	return p->pattern;
}
