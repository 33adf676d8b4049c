/*
 * correlate/purl_types.c: THE table of registered purl types and their rules.
 *
 * Why a C table and not the JSON definitions at run time: the purl module depends on core
 * only (no JSON reader), and the rules that matter for canonical form fit in a few columns.
 * The definitions stay the source of truth: tests/correlate/test_purl.c reads every
 * tests/data/purl-spec/types/<type>-definition.json and fails when a row below disagrees
 * with it (namespace requirement, case_sensitive of each component, required qualifier) or
 * when purl-types-index.json lists a type that has no row.
 *
 * Column meaning: fold_* is true where the definition says "case_sensitive": false (absent
 * means case-sensitive). Rules beyond case folding are the enum purl_rule bits, implemented
 * in purl.c's apply_type_rules() and check_type_rules().
 *
 * When you add a type: add its row here (sorted by name: lookup is a binary search), vendor
 * its definition under tests/data/purl-spec/types/, and if it needs a new rule bit, add the
 * bit to purl.h and its code to purl.c.
 */
#include "correlate/purl.h"

#include <stdlib.h>
#include <string.h>

#define N PURL_RULE_NAME_PATH
#define L PURL_RULE_LENIENT_FOLD

/* clang-format off */
static const struct purl_type types[] = {
	/* type                namespace         ns     name   version subpath required   rules */
	{ "alpm",              PURL_REQUIRED,   true,  true,  false, false, NULL,     0 },
	{ "apk",               PURL_REQUIRED,   true,  true,  false, false, NULL,     0 },
	{ "bazel",             PURL_PROHIBITED, false, false, false, false, NULL,     0 },
	{ "bitbucket",         PURL_REQUIRED,   true,  true,  false, false, NULL,     0 },
	{ "bitnami",           PURL_PROHIBITED, false, true,  false, false, NULL,     0 },
	{ "brew",              PURL_OPTIONAL,   true,  true,  false, false, NULL,     0 },
	{ "cargo",             PURL_PROHIBITED, false, false, false, false, NULL,     0 },
	{ "chrome-extension",  PURL_PROHIBITED, false, true,  false, false, NULL,     PURL_RULE_CHROME_ID },
	{ "cocoapods",         PURL_PROHIBITED, false, false, false, false, NULL,     0 },
	{ "composer",          PURL_REQUIRED,   true,  true,  false, false, NULL,     0 },
	{ "conan",             PURL_OPTIONAL,   false, false, false, false, NULL,     0 },
	{ "conda",             PURL_PROHIBITED, false, false, false, false, NULL,     0 },
	{ "cpan",              PURL_OPTIONAL,   false, false, false, false, NULL,     PURL_RULE_NO_MODULE_NAME },
	{ "cran",              PURL_PROHIBITED, false, false, false, false, NULL,     0 },
	{ "deb",               PURL_REQUIRED,   true,  true,  false, false, NULL,     0 },
	{ "docker",            PURL_OPTIONAL,   false, false, false, false, NULL,     0 },
	{ "gem",               PURL_PROHIBITED, false, false, false, false, NULL,     0 },
	{ "generic",           PURL_OPTIONAL,   false, false, false, false, NULL,     0 },
	{ "git",               PURL_REQUIRED,   false, false, false, false, NULL,     N | L },
	{ "github",            PURL_REQUIRED,   true,  true,  false, false, NULL,     0 },
	{ "golang",            PURL_REQUIRED,   false, false, false, false, NULL,     0 },
	{ "hackage",           PURL_PROHIBITED, false, false, false, false, NULL,     0 },
	{ "hex",               PURL_OPTIONAL,   true,  true,  false, false, NULL,     0 },
	{ "huggingface",       PURL_REQUIRED,   false, false, true,  false, NULL,     0 },
	{ "julia",             PURL_PROHIBITED, false, false, false, false, "uuid",   0 },
	{ "luarocks",          PURL_OPTIONAL,   true,  true,  false, false, NULL,     0 },
	{ "maven",             PURL_REQUIRED,   false, false, false, false, NULL,     0 },
	{ "mlflow",            PURL_PROHIBITED, false, false, false, false, NULL,     PURL_RULE_MLFLOW_NAME },
	{ "npm",               PURL_OPTIONAL,   false, false, false, false, NULL,     0 },
	{ "nuget",             PURL_PROHIBITED, false, false, false, false, NULL,     0 },
	{ "oci",               PURL_PROHIBITED, false, true,  true,  false, NULL,     0 },
	{ "opam",              PURL_PROHIBITED, false, false, false, false, NULL,     0 },
	{ "otp",               PURL_PROHIBITED, false, true,  false, true,  NULL,     0 },
	{ "pub",               PURL_PROHIBITED, false, true,  false, false, NULL,     PURL_RULE_PUB_NAME },
	{ "pypi",              PURL_PROHIBITED, false, true,  true,  false, NULL,     PURL_RULE_PYPI_NAME },
	{ "qpkg",              PURL_REQUIRED,   true,  false, false, false, NULL,     0 },
	{ "rpm",               PURL_REQUIRED,   true,  false, false, false, NULL,     0 },
	{ "swid",              PURL_OPTIONAL,   false, false, false, false, "tag_id", 0 },
	{ "swift",             PURL_REQUIRED,   false, false, false, false, NULL,     0 },
	{ "vcpkg",             PURL_PROHIBITED, false, false, false, false, NULL,     0 },
	{ "vscode-extension",  PURL_REQUIRED,   true,  true,  true,  false, NULL,     0 },
	{ "yocto",             PURL_OPTIONAL,   true,  false, false, false, NULL,     0 },
};
/* clang-format on */

#undef N
#undef L

#define NTYPES (sizeof types / sizeof types[0])

static int cmp_type(const void *key, const void *elem)
{
	return strcmp(key, ((const struct purl_type *)elem)->type);
}

const struct purl_type *purl_type_find(const char *type)
{
	if (!type)
		return NULL;
	return bsearch(type, types, NTYPES, sizeof types[0], cmp_type);
}

size_t purl_type_count(void)
{
	return NTYPES;
}

const struct purl_type *purl_type_at(size_t i)
{
	return i < NTYPES ? &types[i] : NULL;
}
