/*
 * ingest/cdevents_lookup.c: find an event type in the generated table, and parse the
 * context.type strings that name them.
 *
 * Why hand-written and separate: ingest/cdevents_types.c is regenerated from the schemas
 * and must hold only data; the rules for matching versions are policy, documented in
 * ingest/cdevents_types.h and tested in tests/ingest/test_cdevents_types.c.
 *
 * The table is small (129 entries) and read-only, so lookups are a linear scan with no
 * index and no state: thread-safe without locks. Versions in the table are generated from
 * a strict pattern, so version_of() cannot fail on them.
 *
 * Version matching, for a request major.minor.patch against the entries of the same
 * subject.predicate and major:
 *   exact match                     -> CDEV_EXACT        (newest release on a tie)
 *   same minor, other patch         -> CDEV_SAME_MINOR   (highest patch, then newest release)
 *   minor above every known minor   -> CDEV_NEWER_MINOR  (highest minor.patch, newest release)
 *   otherwise                       -> NULL
 *
 * When you change the matching rules: update the header comment of cdev_type_find() and the
 * lookup table in tests/ingest/test_cdevents_types.c.
 */
#include "ingest/cdevents_types.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct version {
	int major, minor, patch;
};

/* Parse one version number at *s: "0" or [1-9][0-9]{0,8}. Advances *s past it. */
static bool number_parse(const char **s, int *out)
{
	const char *p = *s;
	int v = 0, n = 0;

	if (*p == '0') {
		*out = 0;
		*s = p + 1;
		return true;
	}
	for (; *p >= '0' && *p <= '9' && n < 9; p++, n++)
		v = v * 10 + (*p - '0');
	if (n == 0 || (*p >= '0' && *p <= '9'))
		return false;
	*out = v;
	*s = p;
	return true;
}

/* Parse "<N>.<N>.<N>" (whole string); see number_parse(). */
static bool version_parse(const char *s, struct version *v)
{
	return number_parse(&s, &v->major) && *s++ == '.' && number_parse(&s, &v->minor) &&
	       *s++ == '.' && number_parse(&s, &v->patch) && *s == '\0';
}

/* Version of a table entry (generated, always valid). */
static struct version version_of(const struct cdev_type *t)
{
	struct version v = {0};

	(void)version_parse(t->version, &v);
	return v;
}

/* <0, 0, >0 like strcmp, comparing major, minor, patch in turn. */
static int version_cmp(struct version a, struct version b)
{
	if (a.major != b.major)
		return a.major < b.major ? -1 : 1;
	if (a.minor != b.minor)
		return a.minor < b.minor ? -1 : 1;
	if (a.patch != b.patch)
		return a.patch < b.patch ? -1 : 1;
	return 0;
}

static int release_cmp(const struct cdev_type *a, const struct cdev_type *b)
{
	struct version ra = {0}, rb = {0};

	(void)version_parse(a->release, &ra);
	(void)version_parse(b->release, &rb);
	return version_cmp(ra, rb);
}

/* Is `t` a better pick than `best`: a higher type version, or the same one in a newer
 * release? A NULL `best` loses to anything. */
static bool better(const struct cdev_type *t, const struct cdev_type *best)
{
	if (!best)
		return true;
	int c = version_cmp(version_of(t), version_of(best));
	return c > 0 || (c == 0 && release_cmp(t, best) > 0);
}

const struct cdev_type *cdev_type_find_in(const struct cdev_type *table, size_t n,
                                          const char *subject, const char *predicate, int major,
                                          int minor, int patch, enum cdev_match *how)
{
	const struct cdev_type *exact = NULL, *same = NULL, *top = NULL;
	const struct version want = {major, minor, patch};

	if (!subject || !predicate)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct cdev_type *t = &table[i];
		const struct version v = version_of(t);

		if (strcmp(t->subject, subject) || strcmp(t->predicate, predicate) ||
		    v.major != major)
			continue;
		if (version_cmp(v, want) == 0 && better(t, exact))
			exact = t;
		if (v.minor == minor && better(t, same))
			same = t;
		if (better(t, top))
			top = t;
	}
	const struct cdev_type *found = exact ? exact : same;
	enum cdev_match m = exact ? CDEV_EXACT : CDEV_SAME_MINOR;
	if (!found && top && minor > version_of(top).minor) {
		found = top;
		m = CDEV_NEWER_MINOR;
	}
	if (found && how)
		*how = m;
	return found;
}

const struct cdev_type *cdev_type_find(const char *subject, const char *predicate, int major,
                                       int minor, int patch, enum cdev_match *how)
{
	return cdev_type_find_in(cdev_types, cdev_ntypes, subject, predicate, major, minor, patch,
	                         how);
}

bool cdev_type_known(const char *subject, const char *predicate)
{
	if (!subject || !predicate)
		return false;
	for (size_t i = 0; i < cdev_ntypes; i++)
		if (!strcmp(cdev_types[i].subject, subject) &&
		    !strcmp(cdev_types[i].predicate, predicate))
			return true;
	return false;
}

/* Character classes of the two grammars. */
enum name_class { NAME_LOWER, NAME_ALPHA, NAME_ALNUM };

static bool in_class(char c, enum name_class cls)
{
	bool lower = c >= 'a' && c <= 'z';
	bool alpha = lower || (c >= 'A' && c <= 'Z');

	switch (cls) {
	case NAME_LOWER:
		return lower;
	case NAME_ALPHA:
		return alpha;
	case NAME_ALNUM:
		return alpha || (c >= '0' && c <= '9');
	}
	return false;
}

/* Copy a non-empty run of `cls` characters at *s into out[CDEV_NAME_MAX], then require
 * the terminator `end`. Advances *s past the terminator. */
static bool name_parse(const char **s, enum name_class cls, char end, char *out)
{
	size_t n = 0;

	while (in_class((*s)[n], cls)) {
		if (n == CDEV_NAME_MAX - 1)
			return false;
		out[n] = (*s)[n];
		n++;
	}
	out[n] = '\0';
	if (n == 0 || (*s)[n] != end)
		return false;
	*s += n + 1;
	return true;
}

/* dev.cdevents.<subject>.<predicate>.<N>.<N>.<N>, after the "dev.cdevents." prefix. */
static bool standard_parse(const char *s, struct cdev_type_name *out)
{
	struct version v = {0};

	if (!name_parse(&s, NAME_LOWER, '.', out->subject) ||
	    !name_parse(&s, NAME_LOWER, '.', out->predicate) || !version_parse(s, &v))
		return false;
	out->major = v.major;
	out->minor = v.minor;
	out->patch = v.patch;
	return true;
}

/* <tool>-<subject>.<predicate>.<D>.<D>.<D>, after the "dev.cdeventsx." prefix. */
static bool custom_parse(const char *s, struct cdev_type_name *out)
{
	if (!name_parse(&s, NAME_ALNUM, '-', out->tool) ||
	    !name_parse(&s, NAME_ALPHA, '.', out->subject) ||
	    !name_parse(&s, NAME_ALPHA, '.', out->predicate))
		return false;
	for (int i = 0; i < 3; i++) {
		const char *d = s + 2 * i; /* d[1] is read only when d[0] is a digit, not NUL */

		if (d[0] < '0' || d[0] > '9' || d[1] != (i < 2 ? '.' : '\0'))
			return false;
	}
	out->major = s[0] - '0';
	out->minor = s[2] - '0';
	out->patch = s[4] - '0';
	out->custom = true;
	return true;
}

bool cdev_type_parse(const char *type, struct cdev_type_name *out)
{
	static const char std[] = "dev.cdevents.", custom[] = "dev.cdeventsx.";
	bool ok = false;

	*out = (struct cdev_type_name){0};
	if (!type)
		return false;
	if (!strncmp(type, std, sizeof std - 1))
		ok = standard_parse(type + sizeof std - 1, out);
	else if (!strncmp(type, custom, sizeof custom - 1))
		ok = custom_parse(type + sizeof custom - 1, out);
	if (!ok)
		*out = (struct cdev_type_name){0};
	return ok;
}
