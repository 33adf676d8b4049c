/*
 * tests/correlate/test_purl.c: correlate/purl.c against the purl-spec suite and cdlens cases.
 *
 * 1. spec_suite: every case of every file ending in -test.json under
 *    tests/data/purl-spec/tests/spec and tests/data/purl-spec/tests/types. The schema
 *    (purl-test.schema-0.2) has three test types, each mapped to one call:
 *      parse    -> purl_parse(), compare the decoded components (or expect failure)
 *      validate -> purl_canonicalize(), compare the canonical string (or expect failure)
 *      build    -> purl_build() + purl_format(), compare the string (or expect failure)
 *    test_group "required" runs with PURL_STRICT, "recommended" without (see purl.h: the
 *    recommended cases repair producer mistakes that strict parsing must reject, e.g. the
 *    gem and rpm cases with uppercase qualifier keys are a required parse failure and a
 *    recommended validate success). An unknown test_type or test_group fails the test:
 *    nothing is skipped. Each passing success case also gets two extra checks: it succeeds
 *    in lenient mode too, and its canonical string canonicalizes to itself.
 *    The suite contradicts itself once (see `contradictions` below): that case is run in
 *    the mode consistent with the rest of the suite, must pass there, must give the
 *    opposite result in the other mode, and is listed in the output.
 * 2. type_table: purl_types.c agrees with every types/<type>-definition.json and
 *    purl-types-index.json.
 * 3. cdlens tables: spellings seen from CDEvents producers must join (same canonical form),
 *    and malformed input must be rejected with a clear message.
 *
 * When you re-vendor the purl-spec data: run this test; a new rule shows up as a failing
 * case named by file, index and description.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/err.h"
#include "correlate/purl.h"
#include "support/fixture.h"

#define SUITE_DIR "purl-spec/tests"

enum { KIND_PARSE, KIND_VALIDATE, KIND_BUILD, NKINDS };
static const char *const kind_names[NKINDS] = {"parse", "validate", "build"};

struct stats {
	size_t files, run, passed, extra, contradictions;
	size_t by_kind[NKINDS];
};

/* One case being run: enough to report a failure by name. */
struct spec_case {
	const char *file;
	size_t index;
	const cJSON *json;
	unsigned flags;
	int kind;
	bool expect_failure;
};

/*
 * Cases whose test_group contradicts other cases of the suite. maven #13 is a "required"
 * parse that expects the uppercase key "repositorY_url" to be lowercased, while the
 * "required" gem #1 and rpm #1 parses expect uppercase keys to be rejected ("Should fail
 * as qualifier keys are not in lowercase"), as ECMA-427 5.6.6 says ("The key shall be
 * composed only of lowercase ASCII letters..."). No single strict rule passes all three,
 * so this case runs in lenient mode (where its expected components must match exactly),
 * and strict mode must reject it. An entry that no longer matches its case fails the test,
 * so a fixed upstream file shows up here.
 */
/* clang-format off */
static const struct contradiction {
	const char *file;
	size_t index;
	const char *input;
	unsigned flags; /* the mode the case runs in */
} contradictions[] = {
	{SUITE_DIR "/types/maven-test.json", 13,
	 "pkg:Maven/org.apache.xmlgraphics/batik-anim@1.9.1?type=pom&repositorY_url=repo.spring.io/release",
	 0},
};
/* clang-format on */
#define NCONTRADICTIONS (sizeof contradictions / sizeof contradictions[0])

/* ---- JSON helpers ---- */

static const cJSON *field(const cJSON *obj, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(obj, name);
}

/* The string value of obj[name], or NULL when absent or null. */
static const char *str_field(const cJSON *obj, const char *name)
{
	const cJSON *f = field(obj, name);

	return cJSON_IsString(f) ? f->valuestring : NULL;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static const struct contradiction *find_contradiction(const struct spec_case *c)
{
	const char *input = str_field(c->json, "input");

	for (size_t i = 0; i < NCONTRADICTIONS; i++)
		if (strcmp(contradictions[i].file, c->file) == 0 &&
		    contradictions[i].index == c->index && input &&
		    strcmp(contradictions[i].input, input) == 0)
			return &contradictions[i];
	return NULL;
}

static void report(const struct spec_case *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void report(const struct spec_case *c, const char *fmt, ...)
{
	char *input = cJSON_PrintUnformatted(field(c->json, "input"));
	char *expected = cJSON_PrintUnformatted(field(c->json, "expected_output"));
	const char *group = str_field(c->json, "test_group");
	const char *description = str_field(c->json, "description");
	va_list ap;

	fprintf(stderr, "FAIL %s #%zu [%s, %s] %s\n", c->file, c->index, group ? group : "?",
	        kind_names[c->kind], description ? description : "");
	fprintf(stderr, "  input:    %s\n  expected: %s%s\n  got:      ", input ? input : "(none)",
	        expected ? expected : "(none)", c->expect_failure ? " (failure)" : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cJSON_free(input);
	cJSON_free(expected);
}

/* ---- Comparing parse results ---- */

static bool same_qualifiers(const struct purl *p, const cJSON *expected)
{
	size_t n = 0;
	const cJSON *q;

	if (!expected || cJSON_IsNull(expected))
		return p->nqualifiers == 0;
	cJSON_ArrayForEach(q, expected)
	{
		bool found = false;

		for (size_t i = 0; i < p->nqualifiers; i++)
			if (strcmp(p->qualifiers[i].key, q->string) == 0)
				found = cJSON_IsString(q) &&
				        strcmp(p->qualifiers[i].value, q->valuestring) == 0;
		if (!found)
			return false;
		n++;
	}
	return n == p->nqualifiers;
}

static bool same_components(const struct purl *p, const cJSON *want)
{
	return same_str(p->type, str_field(want, "type")) &&
	       same_str(p->namespace_, str_field(want, "namespace")) &&
	       same_str(p->name, str_field(want, "name")) &&
	       same_str(p->version, str_field(want, "version")) &&
	       same_str(p->subpath, str_field(want, "subpath")) &&
	       same_qualifiers(p, field(want, "qualifiers"));
}

/* Build a struct purl from the JSON components; strings are borrowed from the JSON. */
static struct purl components_from_json(const cJSON *in)
{
	const cJSON *qs = field(in, "qualifiers");
	struct purl p = {
	    .type = (char *)str_field(in, "type"),
	    .namespace_ = (char *)str_field(in, "namespace"),
	    .name = (char *)str_field(in, "name"),
	    .version = (char *)str_field(in, "version"),
	    .subpath = (char *)str_field(in, "subpath"),
	};
	const cJSON *q;
	size_t i = 0;

	p.nqualifiers = cJSON_IsObject(qs) ? (size_t)cJSON_GetArraySize(qs) : 0;
	p.qualifiers = calloc(p.nqualifiers ? p.nqualifiers : 1, sizeof *p.qualifiers);
	assert_non_null(p.qualifiers);
	if (cJSON_IsObject(qs))
		cJSON_ArrayForEach(q, qs)
		{
			p.qualifiers[i].key = q->string;
			p.qualifiers[i].value = cJSON_IsString(q) ? q->valuestring : NULL;
			i++;
		}
	return p;
}

/* ---- Running one case: each returns the canonical string on success (caller frees) ---- */

static char *run_parse(const struct spec_case *c, unsigned flags, struct err *err, bool *match)
{
	const char *in = str_field(c->json, "input");
	struct purl p = {0};
	char *canon = NULL;

	if (purl_parse(in, strlen(in), flags, &p, err) != ST_OK)
		goto out;
	canon = purl_format(&p);
	*match = same_components(&p, field(c->json, "expected_output"));
out:
	purl_release(&p);
	return canon;
}

static char *run_validate(const struct spec_case *c, unsigned flags, struct err *err, bool *match)
{
	const char *in = str_field(c->json, "input");
	struct buf out = BUF_INIT(0);

	if (purl_canonicalize(in, strlen(in), flags, &out, err) != ST_OK) {
		buf_release(&out);
		return NULL;
	}
	*match = same_str(buf_cstr(&out), str_field(c->json, "expected_output"));
	return buf_detach(&out, NULL);
}

static char *run_build(const struct spec_case *c, unsigned flags, struct err *err, bool *match)
{
	struct purl in = components_from_json(field(c->json, "input"));
	struct purl p = {0};
	char *canon = NULL;

	if (purl_build(&in, flags, &p, err) != ST_OK)
		goto out;
	canon = purl_format(&p);
	*match = same_str(canon, str_field(c->json, "expected_output"));
out:
	free(in.qualifiers);
	purl_release(&p);
	return canon;
}

static char *run_kind(const struct spec_case *c, unsigned flags, struct err *err, bool *match)
{
	switch (c->kind) {
	case KIND_PARSE:
		return run_parse(c, flags, err, match);
	case KIND_VALIDATE:
		return run_validate(c, flags, err, match);
	default:
		return run_build(c, flags, err, match);
	}
}

/* Extra checks on a passing success case: lenient mode accepts it too, and the canonical
 * string is a fixed point of purl_canonicalize(). */
static bool check_invariants(const struct spec_case *c, const char *canon, struct stats *st)
{
	struct err err = {0};
	struct buf again = BUF_INIT(0);
	bool match = true, ok = false;
	char *lenient = run_kind(c, 0, &err, &match);

	if (!lenient) {
		report(c, "lenient mode rejected it: %s", err.msg);
		goto out;
	}
	if (purl_canonicalize(canon, strlen(canon), c->flags, &again, &err) != ST_OK ||
	    strcmp(buf_cstr(&again), canon) != 0) {
		report(c, "canonical \"%s\" is not a fixed point: \"%s\" %s", canon,
		       buf_cstr(&again), err.msg);
		goto out;
	}
	st->extra += 2;
	ok = true;
out:
	free(lenient);
	buf_release(&again);
	return ok;
}

static bool run_case(const struct spec_case *c, struct stats *st)
{
	struct err err = {0};
	bool match = false, ok = false;
	char *canon = run_kind(c, c->flags, &err, &match);

	if (c->expect_failure) {
		ok = !canon && err.status == ST_INVALID && err.msg[0];
		if (!ok)
			report(c, "%s", canon ? canon : "failed without a message");
		goto out;
	}
	if (!canon || !match) {
		report(c, "%s", canon ? canon : err.msg);
		goto out;
	}
	ok = check_invariants(c, canon, st);
out:
	free(canon);
	return ok;
}

/* A listed contradiction: the other mode must give the opposite result, and the case must
 * pass in its listed mode. */
static bool run_contradiction(struct spec_case *c, const struct contradiction *x, struct stats *st)
{
	struct err err = {0};
	bool match = false;
	char *canon = run_kind(c, x->flags ^ PURL_STRICT, &err, &match);
	bool flipped = (canon != NULL) == c->expect_failure;

	free(canon);
	st->contradictions++;
	if (!flipped) {
		report(c,
		       "listed as a contradiction, but both modes agree: remove it from the list");
		return false;
	}
	c->flags = x->flags;
	printf("note: %s #%zu (%s) ran in %s mode: it contradicts other cases of the suite\n",
	       c->file, c->index, str_field(c->json, "test_group"),
	       x->flags & PURL_STRICT ? "strict" : "lenient");
	return run_case(c, st);
}

/* Fill `c` from the JSON case; false (and a report) when the case is not understood. */
static bool read_case(struct spec_case *c)
{
	const char *type = str_field(c->json, "test_type");
	const char *group = str_field(c->json, "test_group");
	const cJSON *input = field(c->json, "input");

	c->kind = -1;
	for (int k = 0; k < NKINDS; k++)
		if (type && strcmp(type, kind_names[k]) == 0)
			c->kind = k;
	c->expect_failure = cJSON_IsTrue(field(c->json, "expected_failure"));
	c->flags = group && strcmp(group, "required") == 0 ? PURL_STRICT : 0;
	if (c->kind >= 0 && group && (c->flags || strcmp(group, "recommended") == 0) &&
	    (c->kind == KIND_BUILD ? cJSON_IsObject(input) : cJSON_IsString(input)))
		return true;
	fprintf(stderr, "FAIL %s #%zu: unknown test_type \"%s\", test_group \"%s\" or input\n",
	        c->file, c->index, type ? type : "(none)", group ? group : "(none)");
	c->kind = KIND_PARSE;
	return false;
}

static void run_file(const char *dir, const char *name, struct stats *st)
{
	char path[512];
	struct fixture f;
	cJSON *doc, *tc;
	size_t index = 0;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fixture_load(path);
	doc = cJSON_ParseWithLength(f.data, f.len);
	if (!doc || !cJSON_IsArray(field(doc, "tests")))
		fail_msg("%s: not a purl test file", path);
	cJSON_ArrayForEach(tc, field(doc, "tests"))
	{
		struct spec_case c = {.file = path, .index = index++, .json = tc};
		bool known = read_case(&c);
		const struct contradiction *x = known ? find_contradiction(&c) : NULL;

		st->run++;
		st->by_kind[c.kind]++;
		if (known && (x ? run_contradiction(&c, x, st) : run_case(&c, st)))
			st->passed++;
	}
	st->files++;
	cJSON_Delete(doc);
	fixture_release(&f);
}

static void run_dir(const char *dir, struct stats *st)
{
	char **names;
	size_t n = fixture_list(dir, "-test.json", &names);

	if (n == 0)
		fail_msg("no purl test files in %s", dir);
	for (size_t i = 0; i < n; i++)
		run_file(dir, names[i], st);
	fixture_names_free(names, n);
}

static void spec_suite(void **state)
{
	struct stats st = {0};

	(void)state;
	run_dir(SUITE_DIR "/spec", &st);
	run_dir(SUITE_DIR "/types", &st);
	printf("purl-spec suite: %zu files, %zu cases (parse %zu, validate %zu, build %zu): "
	       "%zu passed, %zu failed; %zu of them run in the other mode as listed "
	       "contradictions; %zu extra invariant checks passed\n",
	       st.files, st.run, st.by_kind[KIND_PARSE], st.by_kind[KIND_VALIDATE],
	       st.by_kind[KIND_BUILD], st.passed, st.run - st.passed, st.contradictions, st.extra);
	assert_true(st.run > 0);
	assert_int_equal(st.passed, st.run);
	assert_int_equal(st.contradictions, NCONTRADICTIONS); /* every listed case was found */
}

/* ---- The type table against the vendored definitions ---- */

static enum purl_requirement requirement_of(const cJSON *def, const char *component)
{
	const char *req = str_field(field(def, component), "requirement");

	if (req && strcmp(req, "required") == 0)
		return PURL_REQUIRED;
	if (req && strcmp(req, "prohibited") == 0)
		return PURL_PROHIBITED;
	return PURL_OPTIONAL;
}

/* "case_sensitive": false means fold; absent means case-sensitive. */
static bool folds(const cJSON *def, const char *component)
{
	return cJSON_IsFalse(field(field(def, component), "case_sensitive"));
}

static const char *required_qualifier_of(const cJSON *def, size_t *count)
{
	const cJSON *q;
	const char *key = NULL;

	*count = 0;
	cJSON_ArrayForEach(q, field(def, "qualifiers_definition"))
	{
		const char *req = str_field(q, "requirement");

		if (req && strcmp(req, "required") == 0) {
			key = str_field(q, "key");
			(*count)++;
		}
	}
	return key;
}

static int check_definition(const cJSON *def, const char *file)
{
	const char *type = str_field(def, "type");
	const struct purl_type *t = purl_type_find(type);
	size_t nreq;
	const char *req = required_qualifier_of(def, &nreq);

	if (!t) {
		fprintf(stderr, "%s: type \"%s\" has no row in purl_types.c\n", file, type);
		return 1;
	}
	if (t->namespace_req != requirement_of(def, "namespace_definition") ||
	    t->fold_namespace != folds(def, "namespace_definition") ||
	    t->fold_name != folds(def, "name_definition") ||
	    t->fold_version != folds(def, "version_definition") ||
	    t->fold_subpath != folds(def, "subpath_definition") || nreq > 1 ||
	    !same_str(t->required_qualifier, req)) {
		fprintf(stderr, "%s: the row of \"%s\" in purl_types.c disagrees\n", file, type);
		return 1;
	}
	return 0;
}

static int check_index(void)
{
	struct fixture f = fixture_load("purl-spec/purl-types-index.json");
	cJSON *index = cJSON_ParseWithLength(f.data, f.len);
	const cJSON *t;
	int bad = 0;

	assert_true(cJSON_IsArray(index));
	cJSON_ArrayForEach(t, index) if (!cJSON_IsString(t) || !purl_type_find(t->valuestring))
	{
		fprintf(stderr, "purl-types-index.json: \"%s\" has no row in purl_types.c\n",
		        cJSON_IsString(t) ? t->valuestring : "?");
		bad++;
	}
	if ((size_t)cJSON_GetArraySize(index) != purl_type_count())
		bad++;
	cJSON_Delete(index);
	fixture_release(&f);
	return bad;
}

static void type_table(void **state)
{
	char **names;
	size_t n = fixture_list("purl-spec/types", "-definition.json", &names);
	int bad = check_index();

	(void)state;
	for (size_t i = 0; i < n; i++) {
		char path[512];

		snprintf(path, sizeof path, "purl-spec/types/%s", names[i]);
		struct fixture f = fixture_load(path);
		cJSON *def = cJSON_ParseWithLength(f.data, f.len);

		bad += def ? check_definition(def, names[i]) : 1;
		cJSON_Delete(def);
		fixture_release(&f);
	}
	for (size_t i = 1; i < purl_type_count(); i++) /* bsearch needs sorted rows */
		bad += strcmp(purl_type_at(i - 1)->type, purl_type_at(i)->type) >= 0;
	printf("purl type table: %zu rows, %zu definitions checked\n", purl_type_count(), n);
	assert_int_equal(n, purl_type_count());
	assert_int_equal(bad, 0);
	assert_null(purl_type_at(purl_type_count()));
	fixture_names_free(names, n);
}

/* ---- cdlens cases ---- */

#define DIGEST "0b31a9e4d2c5f6071829a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"

/* clang-format off */
static const struct {
	const char *input, *canonical;
} canonical_cases[] = {
	/* OCI artifacts: the digest colon may come encoded; type and digest case vary */
	{"pkg:oci/myapp@sha256%3A" DIGEST, "pkg:oci/myapp@sha256:" DIGEST},
	{"pkg:oci/myapp@sha256:" DIGEST, "pkg:oci/myapp@sha256:" DIGEST},
	{"PKG:OCI/MyApp@SHA256:0B31A9E4?tag=v1.2&arch=amd64", "pkg:oci/myapp@sha256:0b31a9e4?arch=amd64&tag=v1.2"},
	{"pkg://oci/myapp@sha256:0b31", "pkg:oci/myapp@sha256:0b31"},
	{"pkg:oci/myapp@sha256:0b31?repository_url=ghcr.io/acme/myapp", "pkg:oci/myapp@sha256:0b31?repository_url=ghcr.io%2Facme%2Fmyapp"},
	{"pkg:oci/myapp@sha256:0b31?repository_url=ghcr.io%2facme%2Fmyapp", "pkg:oci/myapp@sha256:0b31?repository_url=ghcr.io%2Facme%2Fmyapp"},
	{"pkg:oci/myapp@sha256:0b31?Tag=latest&Repository_URL=ghcr.io", "pkg:oci/myapp@sha256:0b31?repository_url=ghcr.io&tag=latest"},
	/* qualifiers: order, empty values, empty pairs */
	{"pkg:npm/left-pad@1.3.0?b=2&a=1", "pkg:npm/left-pad@1.3.0?a=1&b=2"},
	{"pkg:npm/left-pad@1.3.0?a=&b=&checksum=sha256:ab", "pkg:npm/left-pad@1.3.0?checksum=sha256:ab"},
	{"pkg:npm/left-pad@1.3.0?arch=", "pkg:npm/left-pad@1.3.0"},
	{"pkg:npm/left-pad@1.3.0?&&a=1&", "pkg:npm/left-pad@1.3.0?a=1"},
	{"pkg:npm/left-pad@1.3.0?", "pkg:npm/left-pad@1.3.0"},
	{"pkg:npm/left-pad@1.3.0?flag&b=1", "pkg:npm/left-pad@1.3.0?b=1"},
	{"pkg:npm/left-pad@1.3.0?a=1&b=2&A=1", "pkg:npm/left-pad@1.3.0?a=1&b=2"},
	{"pkg:npm/left-pad@", "pkg:npm/left-pad"},
	/* subpath: empty, "." and ".." segments go */
	{"pkg:golang/github.com/gorilla/context@234fd47e#/./api/../v1//", "pkg:golang/github.com/gorilla/context@234fd47e#api/v1"},
	{"pkg:npm/left-pad@1.3.0#", "pkg:npm/left-pad@1.3.0"},
	{"pkg:npm/left-pad@1.3.0#%2E/..", "pkg:npm/left-pad@1.3.0"},
	/* percent-encoding: decode what need not be encoded, encode what must, uppercase hex */
	{"pkg:npm/%6Ceft-pad@1.3.0", "pkg:npm/left-pad@1.3.0"},
	{"pkg:deb/debian/attr@1:2.4.47-2%2bb1", "pkg:deb/debian/attr@1:2.4.47-2%2Bb1"},
	{"pkg:deb/debian/attr@1%3A2.4.47-2+b1", "pkg:deb/debian/attr@1:2.4.47-2%2Bb1"},
	{"pkg:generic/my pkg@1 0", "pkg:generic/my%20pkg@1%200"},
	{"pkg:generic/caf\xc3\xa9@1", "pkg:generic/caf%C3%A9@1"},
	{"pkg:generic/a%2Fb@1", "pkg:generic/a%2Fb@1"},
	/* type rules */
	{"pkg:PyPI/Django_REST_framework@3.14.0", "pkg:pypi/django-rest-framework@3.14.0"},
	{"pkg:github/Package-URL/Purl-Spec@V1.0", "pkg:github/package-url/purl-spec@V1.0"},
	{"pkg:npm/@Angular/core@16.0.0", "pkg:npm/%40Angular/core@16.0.0"},
	{"pkg:pub/Flutter-Test@1.0.0", "pkg:pub/flutter_test@1.0.0"},
	{"pkg:git/github.com/Acme/Repo@abc", "pkg:git/github.com/acme/repo@abc"},
	{"pkg:chrome-extension/DLPNGALGNEFJEIEFHMPKLPFIOHADPGLK@1.2", "pkg:chrome-extension/dlpngalgnefjeiefhmpklpfiohadpglk@1.2"},
	{"pkg:docker/library/nginx@sha256%3Aabc?repository_url=docker.io", "pkg:docker/library/nginx@sha256:abc?repository_url=docker.io"},
	/* unregistered types keep their case apart from the type itself */
	{"pkg:Acme-Internal/Tools/Builder@1", "pkg:acme-internal/Tools/Builder@1"},
};
/* clang-format on */

static void cdlens_canonical(void **state)
{
	size_t failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof canonical_cases / sizeof canonical_cases[0]; i++) {
		const char *in = canonical_cases[i].input;
		struct buf out = BUF_INIT(0);
		struct err err = {0};
		enum status st = purl_canonicalize(in, strlen(in), 0, &out, &err);

		if (st != ST_OK || strcmp(buf_cstr(&out), canonical_cases[i].canonical) != 0) {
			fprintf(stderr, "FAIL %s\n  expected: %s\n  got:      %s\n", in,
			        canonical_cases[i].canonical,
			        st == ST_OK ? buf_cstr(&out) : err.msg);
			failed++;
		}
		buf_release(&out);
	}
	assert_int_equal(failed, 0);
}

/* Spellings of one artifact seen from different producers: all must join. */
/* clang-format off */
static const char *const same_artifact[][5] = {
	{"pkg:oci/myapp@sha256%3A" DIGEST, "pkg:oci/myapp@sha256:" DIGEST,
	 "pkg:OCI/myapp@sha256:" DIGEST, "pkg://oci/MyApp@sha256%3a" DIGEST, NULL},
	{"pkg:oci/myapp@sha256:" DIGEST "?tag=v1&arch=amd64",
	 "pkg:oci/myapp@sha256:" DIGEST "?arch=amd64&tag=v1",
	 "pkg:Oci/myapp@sha256:" DIGEST "?Arch=amd64&TAG=v1&repository_url=",
	 "pkg:oci/myapp@sha256:" DIGEST "?tag=v1&arch=amd64#", NULL},
	{"pkg:maven/org.example/app@1.0?type=jar&classifier=sources",
	 "pkg:MAVEN/org.example/app@1.0?classifier=sources&type=jar",
	 "pkg:maven/org.example/app@1.0?classifier=sources&type=%6Aar", NULL},
};
/* clang-format on */

static char *canonical_or_null(const char *s)
{
	struct buf out = BUF_INIT(0);
	struct err err = {0};

	if (purl_canonicalize(s, strlen(s), 0, &out, &err) != ST_OK) {
		fprintf(stderr, "FAIL %s: %s\n", s, err.msg);
		buf_release(&out);
		return NULL;
	}
	return buf_detach(&out, NULL);
}

static void cdlens_same_artifact(void **state)
{
	(void)state;
	for (size_t g = 0; g < sizeof same_artifact / sizeof same_artifact[0]; g++) {
		char *first = canonical_or_null(same_artifact[g][0]);

		assert_non_null(first);
		for (size_t i = 1; same_artifact[g][i]; i++) {
			char *other = canonical_or_null(same_artifact[g][i]);

			assert_non_null(other);
			assert_string_equal(other, first);
			free(other);
		}
		free(first);
	}
}

/* clang-format off */
static const struct {
	const char *input;
	unsigned flags;
	const char *msg;
} rejected_cases[] = {
	{"", 0, "missing scheme \"pkg:\""},
	{"npm/left-pad@1.3.0", 0, "missing scheme \"pkg:\""},
	{"https://example.com/x", 0, "scheme \"https\" is not \"pkg\""},
	{"pkg:npm", 0, "missing '/' between type and name"},
	{"pkg:npm/", 0, "missing name"},
	{"pkg:npm/@1.0", 0, "missing name"},
	{"pkg:git/github.com/acme/@abc", 0, "missing name"},
	{"pkg:1npm/x", 0, "type \"1npm\" does not start with a letter"},
	{"pkg:np_m/x", 0, "type \"np_m\" contains an invalid character"},
	{"pkg:npm/x%2", 0, "invalid percent-encoding in name"},
	{"pkg:npm/x@1%zz", 0, "invalid percent-encoding in version"},
	{"pkg:npm/x%00", 0, "name contains an encoded NUL byte"},
	{"pkg:npm/a%2Fb/x", 0, "namespace segment contains an encoded '/'"},
	{"pkg:npm/x#a%2Fb", 0, "subpath segment contains an encoded '/'"},
	{"pkg:npm/x?flag", PURL_STRICT, "qualifier \"flag\" has no '='"},
	{"pkg:npm/x?a=1&a=1", PURL_STRICT, "duplicate qualifier key \"a\""},
	{"pkg:npm/x?=1", 0, "empty qualifier key"},
	{"pkg:npm/x?1a=1", 0, "qualifier key \"1a\" does not start with a letter"},
	{"pkg:npm/x?a%20b=1", 0, "qualifier key \"a%20b\" contains an invalid character"},
	{"pkg:npm/x?a=1&a=2", 0, "duplicate qualifier key \"a\""},
	{"pkg:npm/x?a=1&A=2", 0, "duplicate qualifier key \"a\""},
	{"pkg:npm/x?Arch=x86", PURL_STRICT, "qualifier key \"Arch\" is not lowercase"},
	{"pkg:oci/library/nginx@sha256:ab", 0, "type \"oci\" does not allow a namespace"},
	{"pkg:maven/commons-io@2.0", 0, "type \"maven\" requires a namespace"},
	{"pkg:julia/Dates@1.9.0", 0, "type \"julia\" requires the qualifier \"uuid\""},
	{"pkg:cpan/URI::PackageURL", 0, "cpan name \"URI::PackageURL\" is a module name, not a distribution"},
	{"pkg:chrome-extension/dogs", 0, "chrome-extension name is not 32 letters a-p"},
	/* input bytes outside printable ASCII are shown as %XX, in messages and the detail, so
	 * that both are ASCII whatever the input (found by tests/fuzz/fuzz_purl.c;
	 * tests/fuzz/regressions/purl/detail-cut-inside-utf8) */
	{"pkg:caf\xc3\xa9/x", 0, "type \"caf%C3%A9\" contains an invalid character"},
	{"pkg:\xc3\xa9/x", 0, "type \"%C3%A9\" does not start with a letter"},
	{"pk\xc3\xa9:npm/x", 0, "scheme \"pk%C3%A9\" is not \"pkg\""},
	{"pkg:npm/x?fl\xc3\xa9g", PURL_STRICT, "qualifier \"fl%C3%A9g\" has no '='"},
	{"pkg:npm/x?\xc3\xa9=1", 0, "qualifier key \"%C3%A9\" does not start with a letter"},
	{"pkg:npm/x?a\xc3\xa9=1", 0, "qualifier key \"a%C3%A9\" contains an invalid character"},
	{"pkg:npm/x?A\xc3\xa9=1", PURL_STRICT, "qualifier key \"A%C3%A9\" is not lowercase"},
	/* a decoded name can hold any byte */
	{"pkg:cpan/A%FF::B", 0, "cpan name \"A%FF::B\" is a module name, not a distribution"},
	{"pkg:cpan/A%0A::B", 0, "cpan name \"A%0A::B\" is a module name, not a distribution"},
};
/* clang-format on */

static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

static void rejects_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof rejected_cases / sizeof rejected_cases[0]; i++) {
		const char *in = rejected_cases[i].input;
		struct purl p;
		struct err err = {0};

		memset(&p, 0xa5, sizeof p); /* failure must zero it */
		assert_int_equal(purl_parse(in, strlen(in), rejected_cases[i].flags, &p, &err),
		                 ST_INVALID);
		assert_string_equal(err.msg, rejected_cases[i].msg);
		assert_true(printable(err.msg) && printable(err.detail));
		assert_true(!printable(in) || strstr(err.detail, in));
		assert_null(p.type);
		assert_null(p.name);
		assert_null(p.qualifiers);
		assert_int_equal(p.nqualifiers, 0);
		purl_release(&p);
	}
}

/* prefix, n two-byte characters (U+00E9), suffix: input that escaping makes longer. */
static void put_accented(struct buf *b, const char *prefix, int n, const char *suffix)
{
	buf_puts(b, prefix);
	for (int i = 0; i < n; i++)
		buf_puts(b, "\xc3\xa9");
	buf_puts(b, suffix);
}

/* Long input is cut in messages (64 bytes) and the detail (160 bytes), escaped as above. */
static void messages_cut_long_input(void **state)
{
	struct buf in = BUF_INIT(0);
	struct purl p;
	struct err err = {0};

	(void)state;
	put_accented(&in, "pkg:a", 100, "/x");
	assert_int_equal(purl_parse(buf_cstr(&in), in.len, 0, &p, &err), ST_INVALID);
	assert_non_null(strstr(err.msg, "\"a%C3%A9"));
	assert_non_null(strstr(err.msg, "%C3...\" contains an invalid character"));
	/* the detail quotes at most 160 input bytes, escaped: "pkg:a", 77 characters and a byte */
	assert_int_equal(strlen(err.detail), strlen("purl \"pkg:a") + 77 * 6 + strlen("%C3...\""));
	assert_string_equal(err.detail + strlen(err.detail) - 7, "%C3...\"");
	buf_release(&in);
}

/* ---- API contract ---- */

static void parse_components(void **state)
{
	const char *in = "pkg:git/codeberg.org/Forgejo/forgejo@a72d?b=2&a=x%20y#docs/./readme.md";
	struct purl p;
	struct err err = {0};

	(void)state;
	assert_int_equal(purl_parse(in, strlen(in), PURL_STRICT, &p, &err), ST_OK);
	assert_string_equal(p.type, "git");
	assert_string_equal(p.namespace_, "codeberg.org");
	assert_string_equal(p.name, "Forgejo/forgejo");
	assert_string_equal(p.version, "a72d");
	assert_string_equal(p.subpath, "docs/readme.md");
	assert_int_equal(p.nqualifiers, 2);
	assert_string_equal(p.qualifiers[0].key, "a");
	assert_string_equal(p.qualifiers[0].value, "x y");
	assert_string_equal(p.qualifiers[1].key, "b");
	purl_release(&p);
	purl_release(&p); /* zeroed: no-op */
	purl_release(NULL);
}

static void input_is_bounded(void **state)
{
	char *s = malloc(PURL_MAX_LEN + 2);
	struct purl p;
	struct err err = {0};
	size_t prefix = strlen("pkg:generic/");

	(void)state;
	memcpy(s, "pkg:generic/", prefix);
	memset(s + prefix, 'a', PURL_MAX_LEN + 1 - prefix);
	s[PURL_MAX_LEN + 1] = '\0';
	assert_int_equal(purl_parse(s, PURL_MAX_LEN + 1, 0, &p, &err), ST_INVALID);
	assert_string_equal(err.msg, "purl is longer than 4096 bytes");
	assert_int_equal(purl_parse(s, PURL_MAX_LEN, 0, &p, &err), ST_OK);
	purl_release(&p);
	/* the length, not a NUL, ends the input */
	assert_int_equal(purl_parse("pkg:npm/x@1.0XYZ", 13, 0, &p, &err), ST_OK);
	assert_string_equal(p.version, "1.0");
	purl_release(&p);
	assert_int_equal(purl_parse("pkg:npm/x\0y", 11, 0, &p, &err), ST_INVALID);
	assert_string_equal(err.msg, "purl contains a NUL byte");
	free(s);
}

/* The canonical form is bounded too, so that it always parses again: escaping makes it up to
 * three times longer than the input (found by tests/fuzz/fuzz_purl.c;
 * tests/fuzz/regressions/purl/canonical-too-long). */
static void canonical_form_is_bounded(void **state)
{
	struct buf in = BUF_INIT(0), out = BUF_INIT(0);
	struct purl p;
	struct err err = {0};

	(void)state;
	/* "pkg:generic/" + 680 two-byte characters (4080 bytes escaped) + "aaaa": 4096 bytes */
	put_accented(&in, "pkg:generic/", 680, "aaaa");
	assert_int_equal(purl_canonicalize(buf_cstr(&in), in.len, 0, &out, &err), ST_OK);
	assert_int_equal(out.len, PURL_MAX_LEN);
	assert_int_equal(purl_parse(buf_cstr(&out), out.len, 0, &p, &err), ST_OK);
	purl_release(&p);
	buf_putc(&in, 'a'); /* 1377 bytes given, 4097 canonical */
	assert_int_equal(purl_parse(buf_cstr(&in), in.len, 0, &p, &err), ST_INVALID);
	assert_string_equal(err.msg, "purl is longer than 4096 bytes in canonical form");
	assert_null(p.name);
	buf_release(&out);
	buf_release(&in);
}

static void canonicalize_appends(void **state)
{
	struct buf out = BUF_INIT(0);
	struct err err = {0};

	(void)state;
	buf_puts(&out, "artifact=");
	assert_int_equal(purl_canonicalize("pkg:NPM/x@1", 11, 0, &out, &err), ST_OK);
	assert_string_equal(buf_cstr(&out), "artifact=pkg:npm/x@1");
	assert_int_equal(purl_canonicalize("pkg:npm/", 8, 0, &out, &err), ST_INVALID);
	assert_string_equal(buf_cstr(&out), "artifact=pkg:npm/x@1");
	buf_release(&out);
}

static void build_normalizes_a_copy(void **state)
{
	struct purl_qualifier qs[] = {{"Tag", "v1"}, {"arch", "amd64"}, {"empty", ""}};
	struct purl in = {.type = "OCI",
	                  .name = "MyApp",
	                  .version = "sha256:AB",
	                  .nqualifiers = 3,
	                  .qualifiers = qs};
	struct purl p;
	struct err err = {0};

	(void)state;
	assert_int_equal(purl_build(&in, 0, &p, &err), ST_OK);
	char *s = purl_format(&p);

	assert_string_equal(s, "pkg:oci/myapp@sha256:ab?arch=amd64&tag=v1");
	assert_string_equal(in.type, "OCI"); /* input untouched */
	assert_string_equal(qs[0].key, "Tag");
	free(s);
	purl_release(&p);
	assert_int_equal(purl_build(&in, PURL_STRICT, &p, &err), ST_INVALID);
	assert_string_equal(err.msg, "qualifier key \"Tag\" is not lowercase");
	assert_null(p.type);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(spec_suite),
	    cmocka_unit_test(type_table),
	    cmocka_unit_test(cdlens_canonical),
	    cmocka_unit_test(cdlens_same_artifact),
	    cmocka_unit_test(rejects_malformed),
	    cmocka_unit_test(messages_cut_long_input),
	    cmocka_unit_test(parse_components),
	    cmocka_unit_test(input_is_bounded),
	    cmocka_unit_test(canonical_form_is_bounded),
	    cmocka_unit_test(canonicalize_appends),
	    cmocka_unit_test(build_normalizes_a_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
