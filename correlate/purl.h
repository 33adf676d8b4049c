#ifndef CORRELATE_PURL_H
#define CORRELATE_PURL_H
/*
 * Package URLs (purl, ECMA-427): parse, normalize and print the canonical form.
 *
 * CDEvents identify artifacts by purl, and two producers often spell the same artifact
 * differently (`pkg:OCI/app@sha256%3Aab` vs `pkg:oci/app@sha256:ab`, qualifiers in another
 * order, uppercase keys). The correlator therefore compares canonical strings only: it
 * treats two purls as the same artifact when purl_canonicalize() gives equal strings.
 *
 * The canonical form follows the purl-spec (how-to-build, character encoding, and the
 * per-type rules in types/<type>-definition.json, compiled into the table of purl_type_find()):
 *   - scheme "pkg", type lowercased; leading '/' after "pkg:" dropped;
 *   - namespace, name, version folded to lowercase where the type says case-insensitive,
 *     plus type rules (pypi '_' -> '-', pub [^a-z0-9_] -> '_', mlflow on Databricks);
 *   - every byte percent-encoded (uppercase hex) except A-Z a-z 0-9 . - _ ~ and ':',
 *     and the '/' that separates namespace and subpath segments (and git name segments);
 *   - qualifiers with lowercase keys, sorted by key, pairs with empty values dropped;
 *   - subpath without empty, "." and ".." segments; empty components omitted.
 * Case folding is ASCII only; other bytes (UTF-8) are kept as given.
 *
 * Strictness: by default the parser accepts the purl-spec's lenient grammar and applies its
 * "recommended" normalizations of common producer mistakes: uppercase qualifier keys are
 * lowercased, a key without '=' counts as an empty value (so it is dropped), a repeated
 * identical key=value pair is merged, and git namespace and name are lowercased. With
 * PURL_STRICT the first three are errors (keys shall be lowercase and unique, ECMA-427
 * 5.6.6) and git keeps its case (its type definition says case-sensitive). Both modes
 * reject a key given two different values. cdlens joins on the default (lenient) form.
 *
 * Threads: every function is pure (the type table is read-only); safe from any thread.
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/* Longest purl string accepted by purl_parse() and purl_canonicalize(), in bytes; a purl
 * whose canonical form (purl_format()) would be longer is refused too, so that every
 * canonical string parses again. */
#define PURL_MAX_LEN 4096

struct purl_qualifier {
	char *key;   /* [a-z][a-z0-9._-]*, unique within the purl */
	char *value; /* percent-decoded, never empty */
};

/*
 * The decoded components of a purl. After purl_parse() or purl_build(): `type` and `name`
 * are non-empty, the other strings are NULL when absent (never ""), `namespace_` and
 * `subpath` hold their segments joined by '/', and `qualifiers` is sorted by key.
 * Every string is owned by the struct; release with purl_release().
 */
struct purl {
	char *type;
	char *namespace_;
	char *name;
	char *version;
	char *subpath;
	size_t nqualifiers;
	struct purl_qualifier *qualifiers;
};

enum purl_flags {
	PURL_STRICT = 1 << 0, /* reject what the spec forbids instead of repairing it (above) */
};

/*
 * Parse the purl string `s` of `len` bytes (need not be NUL-terminated) into `*out`,
 * validate it against its type's rules and normalize it (see the top of this file).
 * Ownership: on ST_OK `*out` owns copies of all strings; call purl_release(out).
 *            On failure `*out` is zeroed and nothing needs releasing.
 * Errors: ST_INVALID (syntax, bad percent-escape, NUL byte, longer than PURL_MAX_LEN
 *         as given or in canonical form, missing name, or a type rule such as a prohibited namespace), with err->msg
 *         naming the problem and err->detail quoting the input. Both show input bytes
 *         outside printable ASCII as %XX and cut long input with "...", so they are ASCII
 *         whatever the input.
 * Threads: pure.
 */
enum status purl_parse(const char *s, size_t len, unsigned flags, struct purl *out,
                       struct err *err);

/*
 * Build a purl from decoded components: validate and normalize a copy of `*in` exactly as
 * purl_parse() does after splitting (in->qualifiers may be unsorted and have empty values;
 * in->type may be mixed case). This is the purl-spec "build" operation; pass the result to
 * purl_format() for the string.
 * Ownership: `*in` is only read; on ST_OK `*out` owns its strings (purl_release(out)),
 *            on failure `*out` is zeroed.
 * Errors: ST_INVALID (missing type or name, bad type or qualifier key, type rule, canonical
 *         form longer than PURL_MAX_LEN), as above.
 * Threads: pure.
 */
enum status purl_build(const struct purl *in, unsigned flags, struct purl *out, struct err *err);

/*
 * The canonical string of `p`, which must come from purl_parse() or purl_build() (a
 * hand-filled struct is encoded as given, not normalized: use purl_build() for that).
 * Ownership: returns a malloc'ed string the caller frees; never NULL (aborts on OOM).
 * Threads: pure.
 */
char *purl_format(const struct purl *p);

/*
 * Parse `s` (`len` bytes) and append its canonical form to `out` (parse + format).
 * Ownership: `out` stays the caller's; nothing is appended on failure. Check out->overflow
 *            if the buffer has a limit.
 * Errors: as purl_parse().
 * Threads: pure.
 */
enum status purl_canonicalize(const char *s, size_t len, unsigned flags, struct buf *out,
                              struct err *err);

/* Free every string of `p` and zero it. NULL or a zeroed struct: no-op. */
void purl_release(struct purl *p);

/* ---- The per-type rules (correlate/purl_types.c), exposed for tests and diagnostics. ---- */

enum purl_requirement { PURL_OPTIONAL = 0, PURL_REQUIRED, PURL_PROHIBITED };

/* Type-specific rules beyond case folding, one bit each. */
enum purl_rule {
	PURL_RULE_NAME_PATH = 1 << 0,     /* git: namespace is one segment, name may hold '/' */
	PURL_RULE_LENIENT_FOLD = 1 << 1,  /* git: without PURL_STRICT, lowercase namespace+name */
	PURL_RULE_PYPI_NAME = 1 << 2,     /* pypi: '_' in the name becomes '-' */
	PURL_RULE_PUB_NAME = 1 << 3,      /* pub: name bytes outside [a-z0-9_] become '_' */
	PURL_RULE_MLFLOW_NAME = 1 << 4,   /* mlflow: lowercase the name on Databricks servers */
	PURL_RULE_CHROME_ID = 1 << 5,     /* chrome-extension: name [a-p]{32}, version d(.d){0,3} */
	PURL_RULE_NO_MODULE_NAME = 1 << 6 /* cpan: the name must not contain "::" */
};

/* One registered type, transcribed from purl-spec types/<type>-definition.json. */
struct purl_type {
	const char *type;
	enum purl_requirement namespace_req;
	bool fold_namespace; /* the definition says case_sensitive: false -> lowercase */
	bool fold_name;
	bool fold_version;
	bool fold_subpath;
	const char *required_qualifier; /* key that must be present, or NULL */
	unsigned rules;                 /* enum purl_rule bits */
};

/* The rules of the lowercase type `type`, or NULL when it is not registered (an unregistered
 * type is valid and gets only the generic rules). Returns a pointer into a static table. */
const struct purl_type *purl_type_find(const char *type);
/* Iterate over the table: purl_type_at(i) for i < purl_type_count(); NULL past the end. */
size_t purl_type_count(void);
const struct purl_type *purl_type_at(size_t i);

#endif
