/*
 * tests/fuzz/fuzz_purl.c: libFuzzer target for the package-URL parser (correlate/purl.c):
 * purl_parse(), purl_build(), purl_format() and purl_canonicalize(), in lenient and strict
 * mode. The correlator joins artifacts on the canonical string, so the invariants are
 * about that string being a fixed point.
 *
 * Input: the purl bytes as they are (`len` = the input size; libFuzzer's buffer has exactly
 * that size, so a read past it is an ASan report).
 *
 * Invariants checked, in each mode, beyond "no crash, leak or undefined behaviour":
 *   accepted  the components have the shape purl.h documents (type [a-z][a-z0-9.-]*, name
 *             not empty, absent parts NULL and never "", no empty namespace or subpath
 *             segment, no "." or ".." in the subpath, qualifier keys [a-z][a-z0-9._-]*
 *             strictly sorted, values not empty); the canonical string parses again, to
 *             the same components and the same string; purl_build() of the components and
 *             purl_canonicalize() of the input give that string too.
 *   modes     what strict mode accepts, lenient mode accepts, with the same canonical string
 *             unless the type folds case only in lenient mode (git).
 *   refused   *out is zeroed; for valid UTF-8 input (purls reach cdlens inside JSON or a
 *             decoded query), the message and detail are valid UTF-8 (fuzz_check_err).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "correlate/purl.h"
#include "fuzz_check.h"
#include "ingest/json_check.h"

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool key_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') ||
	       (!first && ((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'));
}

/* NULL, or not empty with no empty segment (and no dot segment when `dots`). */
static void check_segments(const char *s, bool dots, const char *what)
{
	FUZZ_CHECK(!s || *s, "%s is \"\" instead of NULL", what);
	for (const char *seg = s, *end; seg; seg = end ? end + 1 : NULL) {
		end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);
		FUZZ_CHECK(n > 0, "%s \"%s\" has an empty segment", what, s);
		FUZZ_CHECK(!dots || !((n == 1 && seg[0] == '.') || (n == 2 && !strncmp(seg, "..", 2))),
			   "%s \"%s\" has a dot segment", what, s);
	}
}

static void check_shape(const struct purl *p)
{
	FUZZ_CHECK(p->type && key_char(p->type[0], true), "type \"%s\"", p->type);
	for (const char *c = p->type + 1; *c; c++)
		FUZZ_CHECK(key_char(*c, false) && *c != '_', "type \"%s\"", p->type);
	FUZZ_CHECK(p->name && *p->name, "accepted purl without a name");
	FUZZ_CHECK(!p->version || *p->version, "version is \"\" instead of NULL");
	check_segments(p->namespace_, false, "namespace");
	check_segments(p->subpath, true, "subpath");
	for (size_t i = 0; i < p->nqualifiers; i++) {
		const struct purl_qualifier *q = &p->qualifiers[i];
		FUZZ_CHECK(q->key && key_char(q->key[0], true), "qualifier key \"%s\"", q->key);
		for (const char *c = q->key + 1; *c; c++)
			FUZZ_CHECK(key_char(*c, false), "qualifier key \"%s\"", q->key);
		FUZZ_CHECK(q->value && *q->value, "qualifier %s has an empty value", q->key);
		FUZZ_CHECK(i == 0 || strcmp(p->qualifiers[i - 1].key, q->key) < 0,
			   "qualifiers not strictly sorted at \"%s\"", q->key);
	}
}

static bool same_purl(const struct purl *a, const struct purl *b)
{
	if (!same(a->type, b->type) || !same(a->namespace_, b->namespace_) ||
	    !same(a->name, b->name) || !same(a->version, b->version) ||
	    !same(a->subpath, b->subpath) || a->nqualifiers != b->nqualifiers)
		return false;
	for (size_t i = 0; i < a->nqualifiers; i++)
		if (!same(a->qualifiers[i].key, b->qualifiers[i].key) ||
		    !same(a->qualifiers[i].value, b->qualifiers[i].value))
			return false;
	return true;
}

/* The canonical string of `p` (the caller frees), checked to be a fixed point. */
static char *check_canonical(const struct purl *p, unsigned flags, const uint8_t *data,
			     size_t size)
{
	struct purl again = {0}, built = {0};
	struct buf canon = BUF_INIT(0);
	struct err err = {0};
	char *c1 = purl_format(p);

	FUZZ_CHECK(purl_parse(c1, strlen(c1), flags, &again, &err) == ST_OK,
		   "canonical \"%s\" does not parse: %s", c1, err.msg);
	char *c2 = purl_format(&again);
	FUZZ_CHECK(strcmp(c1, c2) == 0, "canonical \"%s\" becomes \"%s\"", c1, c2);
	FUZZ_CHECK(same_purl(p, &again), "canonical \"%s\" parses to other components", c1);
	FUZZ_CHECK(purl_build(p, flags, &built, &err) == ST_OK, "build of \"%s\" fails: %s", c1,
		   err.msg);
	char *c3 = purl_format(&built);
	FUZZ_CHECK(strcmp(c1, c3) == 0, "build of \"%s\" gives \"%s\"", c1, c3);
	FUZZ_CHECK(purl_canonicalize((const char *)data, size, flags, &canon, &err) == ST_OK &&
			   strcmp(buf_cstr(&canon), c1) == 0,
		   "canonicalize gives \"%s\", parse+format \"%s\"", buf_cstr(&canon), c1);
	buf_release(&canon);
	free(c3);
	free(c2);
	purl_release(&built);
	purl_release(&again);
	return c1;
}

/* Parse in one mode; returns the canonical string (the caller frees) or NULL. */
static char *run_mode(const uint8_t *data, size_t size, unsigned flags, bool *fold_rule)
{
	struct purl p;
	struct err err = {0};
	static const struct purl zero;
	enum status st = purl_parse((const char *)data, size, flags, &p, &err);

	if (st != ST_OK) {
		FUZZ_CHECK(memcmp(&p, &zero, sizeof p) == 0, "a failed parse left components");
		if (json_utf8_valid((const char *)data, size) && !memchr(data, '\0', size))
			fuzz_check_err(&err, st, "purl_parse");
		return NULL;
	}
	check_shape(&p);
	char *canonical = check_canonical(&p, flags, data, size);
	const struct purl_type *t = purl_type_find(p.type);
	*fold_rule = t && (t->rules & PURL_RULE_LENIENT_FOLD);
	purl_release(&p);
	return canonical;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool fold_rule = false;
	char *lenient = run_mode(data, size, 0, &fold_rule);
	char *strict = run_mode(data, size, PURL_STRICT, &fold_rule);

	FUZZ_CHECK(!strict || lenient, "strict mode accepts \"%s\", lenient mode refuses it",
		   strict);
	FUZZ_CHECK(!strict || fold_rule || strcmp(strict, lenient) == 0,
		   "strict \"%s\" and lenient \"%s\" differ", strict, lenient);
	free(strict);
	free(lenient);
	return 0;
}
