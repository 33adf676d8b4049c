/*
 * correlate/purl.c: parse, normalize and print package-urls (the contract is in purl.h).
 *
 * Why one funnel: the purl-spec defines "parse" (string -> components) and "build"
 * (components -> canonical string), and both must normalize identically or the same
 * artifact gets two canonical spellings. So both end in normalize():
 *
 *   purl_parse():  split_subpath ─► split_qualifiers ─► split_scheme_type ─► split_path
 *                  (right to left, percent-decoding each piece into a raw struct purl) ─┐
 *   purl_build():  copy_purl (deep copy of the caller's decoded components) ──────────┤
 *                                                                                      ▼
 *   normalize():   check_type ─► segments ─► name ─► normalize_qualifiers
 *                  ─► apply_type_rules (fold case, pypi, pub, mlflow)
 *                  ─► check_type_rules (namespace requirement, required qualifier, ...)
 *                                                                                      ▼
 *   purl_format(): "pkg:" type "/" namespace "/" name "@" version "?" k=v&k=v "#" subpath
 *                  with every piece percent-encoded by put_encoded()
 *
 * Splitting follows the spec's how-to-parse ('#' then '?' from the right, then "pkg:" and
 * the type from the left) with one deliberate difference: the version '@' is searched in
 * the last path segment only, so an unencoded npm scope (`pkg:npm/@babel/core`) stays a
 * namespace, as the spec tests require. The name is the text between the last '/' and that
 * '@', so `pkg:swift/github.com/Alamofire/@5.4.3` has an empty name and is rejected.
 *
 * Invariants: (1) whatever leaves normalize() with ST_OK has the shape documented in
 * purl.h, so purl_format() cannot fail; (2) every failing public call leaves *out zeroed;
 * (3) input is bounded by PURL_MAX_LEN before any allocation proportional to it; (4) the
 * canonical string of an accepted purl is at most PURL_MAX_LEN bytes, so it parses again.
 *
 * When you add a type rule: add its bit to enum purl_rule (purl.h), set it in the row of
 * purl_types.c, implement it in apply_type_rules() if it changes a value or in
 * check_type_rules() if it rejects one, and add cases to tests/correlate/test_purl.c.
 */
#include "correlate/purl.h"

#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

/* A piece of the input being split; not NUL-terminated. */
struct span {
	const char *p;
	size_t n;
};

/* ---- ASCII helpers (not <ctype.h>: locale-independent and safe for bytes >= 0x80) ---- */

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_alpha(char c)
{
	return is_lower(c) || is_upper(c);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

/* The characters a canonical purl never percent-encodes (ECMA-427 5.4). */
static bool is_unreserved(char c)
{
	return is_alnum(c) || c == '.' || c == '-' || c == '_' || c == '~' || c == ':';
}

/* Lowercase A-Z in place; NULL is a no-op. */
static void ascii_lower(char *s)
{
	for (; s && *s; s++)
		if (is_upper(*s))
			*s = (char)(*s - 'A' + 'a');
}

static const char *span_rchr(struct span s, char c)
{
	for (size_t i = s.n; i > 0; i--)
		if (s.p[i - 1] == c)
			return s.p + i - 1;
	return NULL;
}

static struct span span_after(struct span s, const char *at)
{
	return (struct span){at + 1, s.n - (size_t)(at + 1 - s.p)};
}

static int hex_value(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* ---- Quoting input in messages ---- */

#define SHOWN_MAX 64                      /* input bytes a message quotes from one piece */
#define SHOWN_SIZE (3 * SHOWN_MAX + 4)    /* its room once escaped, with "..." */
#define SHOWN_DETAIL_MAX 160              /* input bytes the detail quotes (512-byte field) */

static const char hex_digits[] = "0123456789ABCDEF";

/* s[0..n) for an error message (core/err.h err_quote()): ASCII whatever the input, at most
 * `max` input bytes, then "..." when cut. `out` needs 3 * max + 4 bytes. */
static const char *shown(char *out, const char *s, size_t n, size_t max)
{
	return err_quote(out, s, n, max, 3 * max);
}

/* ---- Decoding and splitting (purl_parse) ---- */

/* Percent-decode `s` into a new string *out; `what` names the component in errors. */
static enum status decode(struct span s, const char *what, char **out, struct err *err)
{
	char *d = xmalloc(s.n + 1);
	size_t n = 0;
	enum status st = ST_OK;

	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];

		if (c == '%') {
			int hi = i + 2 < s.n ? hex_value(s.p[i + 1]) : -1;
			int lo = hi < 0 ? -1 : hex_value(s.p[i + 2]);

			if (lo < 0) {
				st = err_set(err, ST_INVALID, "invalid percent-encoding in %s",
				             what);
				goto out;
			}
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0') {
			st = err_set(err, ST_INVALID, "%s contains an encoded NUL byte", what);
			goto out;
		}
		d[n++] = c;
	}
	d[n] = '\0';
	*out = d;
	d = NULL;
out:
	free(d);
	return st;
}

/* Decode each '/'-separated segment of `s` and join them with '/' into *out (NULL when `s`
 * is empty). A segment that decodes to something containing '/' is an error; empty and
 * dot segments are left for normalize_segments(). */
static enum status decode_segments(struct span s, const char *what, char **out, struct err *err)
{
	struct buf b = BUF_INIT(0);
	char *seg = NULL;
	enum status st = ST_OK;
	size_t start = 0;

	for (size_t i = 0; i <= s.n && s.n; i++) {
		if (i < s.n && s.p[i] != '/')
			continue;
		st = decode((struct span){s.p + start, i - start}, what, &seg, err);
		if (st != ST_OK)
			goto out;
		if (strchr(seg, '/')) {
			st = err_set(err, ST_INVALID, "%s segment contains an encoded '/'", what);
			goto out;
		}
		if (start)
			buf_putc(&b, '/');
		buf_puts(&b, seg);
		free(seg);
		seg = NULL;
		start = i + 1;
	}
	*out = s.n ? buf_detach(&b, NULL) : NULL;
out:
	free(seg);
	buf_release(&b);
	return st;
}

static void push_qualifier(struct purl *p, char *key, char *value)
{
	size_t n = p->nqualifiers;

	if ((n & (n - 1)) == 0) /* 0, 1, 2, 4, ...: grow to the next power of two */
		p->qualifiers = xrealloc(p->qualifiers, (n ? 2 * n : 1) * sizeof *p->qualifiers);
	p->qualifiers[n] = (struct purl_qualifier){key, value};
	p->nqualifiers = n + 1;
}

/* `#subpath`: the text after the last '#'. */
static enum status split_subpath(struct span *rest, struct purl *raw, struct err *err)
{
	const char *hash = span_rchr(*rest, '#');

	if (!hash)
		return ST_OK;
	struct span sub = span_after(*rest, hash);

	rest->n = (size_t)(hash - rest->p);
	return decode_segments(sub, "subpath", &raw->subpath, err);
}

/* One `key=value` pair; the key is kept raw and checked by normalize_qualifiers(). A key
 * without '=' is an error under PURL_STRICT and a pair with an empty value otherwise. */
static enum status split_pair(struct span pair, unsigned flags, struct purl *raw, struct err *err)
{
	const char *eq = pair.n ? memchr(pair.p, '=', pair.n) : NULL;
	char *value = NULL, q[SHOWN_SIZE];

	if (!pair.n)
		return ST_OK; /* "a=1&&b=2" */
	if (!eq && (flags & PURL_STRICT))
		return err_set(err, ST_INVALID, "qualifier \"%s\" has no '='",
		               shown(q, pair.p, pair.n, SHOWN_MAX));
	if (!eq) {
		push_qualifier(raw, xstrndup(pair.p, pair.n), xstrdup(""));
		return ST_OK;
	}
	enum status st = decode(span_after(pair, eq), "qualifier value", &value, err);

	if (st == ST_OK)
		push_qualifier(raw, xstrndup(pair.p, (size_t)(eq - pair.p)), value);
	return st;
}

/* `?k=v&k=v`: the text after the last '?'. */
static enum status split_qualifiers(struct span *rest, unsigned flags, struct purl *raw,
                                    struct err *err)
{
	const char *q = span_rchr(*rest, '?');

	if (!q)
		return ST_OK;
	struct span all = span_after(*rest, q);
	size_t start = 0;

	rest->n = (size_t)(q - rest->p);
	for (size_t i = 0; i <= all.n; i++) {
		if (i < all.n && all.p[i] != '&')
			continue;
		enum status st =
		    split_pair((struct span){all.p + start, i - start}, flags, raw, err);

		if (st != ST_OK)
			return st;
		start = i + 1;
	}
	return ST_OK;
}

/* `pkg:` (any case), optional '/'s, then the type up to the next '/'. */
static enum status split_scheme_type(struct span *rest, struct purl *raw, struct err *err)
{
	const char *colon = rest->n ? memchr(rest->p, ':', rest->n) : NULL;
	const char *p = rest->p, *end = rest->p + rest->n;
	char q[SHOWN_SIZE];

	if (!colon)
		return err_set(err, ST_INVALID, "missing scheme \"pkg:\"");
	if (colon - p != 3 || (p[0] | 0x20) != 'p' || (p[1] | 0x20) != 'k' || (p[2] | 0x20) != 'g')
		return err_set(err, ST_INVALID, "scheme \"%s\" is not \"pkg\"",
		               shown(q, p, (size_t)(colon - p), 32));
	for (p = colon + 1; p < end && *p == '/'; p++)
		;
	const char *slash = memchr(p, '/', (size_t)(end - p));

	if (!slash)
		return err_set(err, ST_INVALID, "missing '/' between type and name");
	raw->type = xstrndup(p, (size_t)(slash - p));
	*rest = (struct span){slash + 1, (size_t)(end - slash - 1)};
	return ST_OK;
}

/* `namespace/name@version`: the name and version come from the last segment. */
static enum status split_path(struct span rest, struct purl *raw, struct err *err)
{
	while (rest.n && rest.p[rest.n - 1] == '/')
		rest.n--;
	const char *slash = span_rchr(rest, '/');
	struct span ns = {rest.p, slash ? (size_t)(slash - rest.p) : 0};
	struct span last = slash ? span_after(rest, slash) : rest;
	const char *at = span_rchr(last, '@');
	struct span name = {last.p, at ? (size_t)(at - last.p) : last.n};
	enum status st = decode_segments(ns, "namespace", &raw->namespace_, err);

	if (st == ST_OK)
		st = decode(name, "name", &raw->name, err);
	if (st == ST_OK && at)
		st = decode(span_after(last, at), "version", &raw->version, err);
	return st;
}

static enum status check_input(const char *s, size_t len, struct err *err)
{
	if (len > PURL_MAX_LEN)
		return err_set(err, ST_INVALID, "purl is longer than %d bytes", PURL_MAX_LEN);
	if (memchr(s, '\0', len))
		return err_set(err, ST_INVALID, "purl contains a NUL byte");
	return ST_OK;
}

/* ---- Normalization (shared by purl_parse and purl_build) ---- */

static bool is_dot_segment(const char *seg, size_t n)
{
	return (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.');
}

/* Rewrite *s without empty segments (and without "." and ".." when `dots`); NULL when
 * nothing is left. */
static void normalize_segments(char **s, bool dots)
{
	struct buf b = BUF_INIT(0);

	if (!*s)
		return;
	for (const char *seg = *s, *end; seg; seg = end ? end + 1 : NULL) {
		end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);

		if (n == 0 || (dots && is_dot_segment(seg, n)))
			continue;
		if (b.len)
			buf_putc(&b, '/');
		buf_append(&b, seg, n);
	}
	free(*s);
	*s = b.len ? buf_detach(&b, NULL) : NULL;
	buf_release(&b);
}

static void empty_to_null(char **s)
{
	if (*s && !**s) {
		free(*s);
		*s = NULL;
	}
}

/* The type: [A-Za-z][A-Za-z0-9.-]*, case-insensitive, canonical lowercase (ECMA-427 5.6.2). */
static enum status check_type(struct purl *p, struct err *err)
{
	const char *t = p->type;
	char q[SHOWN_SIZE];

	if (!t || !*t)
		return err_set(err, ST_INVALID, "missing type");
	if (!is_alpha(t[0]))
		return err_set(err, ST_INVALID, "type \"%s\" does not start with a letter",
		               shown(q, t, strlen(t), SHOWN_MAX));
	for (; *t; t++)
		if (!is_alnum(*t) && *t != '.' && *t != '-')
			return err_set(err, ST_INVALID, "type \"%s\" contains an invalid character",
			               shown(q, p->type, strlen(p->type), SHOWN_MAX));
	ascii_lower(p->type);
	return ST_OK;
}

/* git: the namespace is the host only; later namespace segments belong to the name. */
static void move_name_path(struct purl *p)
{
	char *slash = p->namespace_ ? strchr(p->namespace_, '/') : NULL;
	struct buf b = BUF_INIT(0);

	normalize_segments(&p->name, false);
	if (!slash || !p->name)
		return;
	buf_puts(&b, slash + 1);
	buf_putc(&b, '/');
	buf_puts(&b, p->name);
	*slash = '\0';
	free(p->name);
	p->name = buf_detach(&b, NULL);
}

/* A key: [a-z][a-z0-9._-]*; uppercase is folded, or rejected under PURL_STRICT. */
static enum status check_key(char *key, unsigned flags, struct err *err)
{
	char q[SHOWN_SIZE];

	if (!key || !*key)
		return err_set(err, ST_INVALID, "empty qualifier key");
	if (!is_alpha(key[0]))
		return err_set(err, ST_INVALID, "qualifier key \"%s\" does not start with a letter",
		               shown(q, key, strlen(key), SHOWN_MAX));
	for (const char *c = key; *c; c++) {
		if (is_upper(*c) && (flags & PURL_STRICT))
			return err_set(err, ST_INVALID, "qualifier key \"%s\" is not lowercase",
			               shown(q, key, strlen(key), SHOWN_MAX));
		if (!is_alnum(*c) && *c != '.' && *c != '-' && *c != '_')
			return err_set(err, ST_INVALID,
			               "qualifier key \"%s\" contains an invalid character",
			               shown(q, key, strlen(key), SHOWN_MAX));
	}
	ascii_lower(key);
	return ST_OK;
}

/* A pair with an empty value is the same as no pair (ECMA-427 5.6.6). */
static void drop_empty_values(struct purl *p)
{
	size_t kept = 0;

	for (size_t i = 0; i < p->nqualifiers; i++) {
		struct purl_qualifier q = p->qualifiers[i];

		if (q.value && *q.value) {
			p->qualifiers[kept++] = q;
			continue;
		}
		free(q.key);
		free(q.value);
	}
	p->nqualifiers = kept;
}

static int cmp_qualifier(const void *a, const void *b)
{
	return strcmp(((const struct purl_qualifier *)a)->key,
	              ((const struct purl_qualifier *)b)->key);
}

/* Keys must be unique (ECMA-427 5.6.6). Without PURL_STRICT a repeated pair with the same
 * value is merged; a key given two different values has no meaning and is an error.
 * Expects the qualifiers sorted by key. */
static enum status merge_duplicates(struct purl *p, unsigned flags, struct err *err)
{
	size_t kept = 0;

	for (size_t i = 1; i < p->nqualifiers; i++) {
		const struct purl_qualifier *a = &p->qualifiers[i - 1], *b = &p->qualifiers[i];

		if (strcmp(a->key, b->key) == 0 &&
		    ((flags & PURL_STRICT) || strcmp(a->value, b->value) != 0))
			return err_set(err, ST_INVALID, "duplicate qualifier key \"%.64s\"",
			               b->key);
	}
	for (size_t i = 0; i < p->nqualifiers; i++) {
		struct purl_qualifier q = p->qualifiers[i];

		if (kept && strcmp(p->qualifiers[kept - 1].key, q.key) == 0) {
			free(q.key);
			free(q.value);
			continue;
		}
		p->qualifiers[kept++] = q;
	}
	p->nqualifiers = kept;
	return ST_OK;
}

static enum status normalize_qualifiers(struct purl *p, unsigned flags, struct err *err)
{
	for (size_t i = 0; i < p->nqualifiers; i++) {
		enum status st = check_key(p->qualifiers[i].key, flags, err);

		if (st != ST_OK)
			return st;
	}
	drop_empty_values(p);
	if (p->nqualifiers > 1)
		qsort(p->qualifiers, p->nqualifiers, sizeof *p->qualifiers, cmp_qualifier);
	return merge_duplicates(p, flags, err);
}

/* The value of qualifier `key`, or NULL. */
static const char *qualifier_value(const struct purl *p, const char *key)
{
	for (size_t i = 0; i < p->nqualifiers; i++)
		if (strcmp(p->qualifiers[i].key, key) == 0)
			return p->qualifiers[i].value;
	return NULL;
}

static bool host_ends_with(const char *host, size_t n, const char *suffix)
{
	size_t len = strlen(suffix);

	return n >= len && memcmp(host + n - len, suffix, len) == 0;
}

/* mlflow: model names are case-insensitive on Databricks, case-sensitive elsewhere
 * (Azure ML), per the mlflow type definition; the server is the repository_url. */
static bool mlflow_folds_name(const struct purl *p)
{
	const char *url = qualifier_value(p, "repository_url");
	const char *host = url ? strstr(url, "://") : NULL;

	if (!host)
		return false;
	host += 3;
	size_t n = strcspn(host, "/:?#");

	return host_ends_with(host, n, ".azuredatabricks.net") ||
	       host_ends_with(host, n, ".databricks.com");
}

/* pub: names are [a-z0-9_] only; anything else becomes '_'. */
static void pub_name(char *s)
{
	for (; *s; s++)
		if (!is_lower(*s) && !is_digit(*s) && *s != '_')
			*s = '_';
}

static void replace_byte(char *s, char from, char to)
{
	for (; *s; s++)
		if (*s == from)
			*s = to;
}

/* Rules that change values: case folding and name rewriting. */
static void apply_type_rules(struct purl *p, const struct purl_type *t, unsigned flags)
{
	bool lenient = !(flags & PURL_STRICT) && (t->rules & PURL_RULE_LENIENT_FOLD);

	if (t->fold_namespace || lenient)
		ascii_lower(p->namespace_);
	if (t->fold_name || lenient || ((t->rules & PURL_RULE_MLFLOW_NAME) && mlflow_folds_name(p)))
		ascii_lower(p->name);
	if (t->fold_version)
		ascii_lower(p->version);
	if (t->fold_subpath)
		ascii_lower(p->subpath);
	if (t->rules & PURL_RULE_PYPI_NAME)
		replace_byte(p->name, '_', '-');
	if (t->rules & PURL_RULE_PUB_NAME)
		pub_name(p->name);
}

/* True when `v` is 1 to `max_parts` dot-separated runs of digits. */
static bool is_dotted_number(const char *v, int max_parts)
{
	for (int parts = 1;; parts++) {
		size_t n = strspn(v, "0123456789");

		if (n == 0 || parts > max_parts)
			return false;
		v += n;
		if (*v == '\0')
			return true;
		if (*v++ != '.')
			return false;
	}
}

/* chrome-extension: the id is [a-p]{32}; the version has 1 to 4 numeric parts. */
static enum status check_chrome(const struct purl *p, struct err *err)
{
	size_t n = strspn(p->name, "abcdefghijklmnop");

	if (n != 32 || p->name[n])
		return err_set(err, ST_INVALID, "chrome-extension name is not 32 letters a-p");
	if (p->version && !is_dotted_number(p->version, 4))
		return err_set(err, ST_INVALID,
		               "chrome-extension version is not 1 to 4 dot-separated numbers");
	return ST_OK;
}

/* Rules that reject values. */
static enum status check_type_rules(const struct purl *p, const struct purl_type *t,
                                    struct err *err)
{
	char q[SHOWN_SIZE];

	if (t->namespace_req == PURL_REQUIRED && !p->namespace_)
		return err_set(err, ST_INVALID, "type \"%s\" requires a namespace", t->type);
	if (t->namespace_req == PURL_PROHIBITED && p->namespace_)
		return err_set(err, ST_INVALID, "type \"%s\" does not allow a namespace", t->type);
	if (t->required_qualifier && !qualifier_value(p, t->required_qualifier))
		return err_set(err, ST_INVALID, "type \"%s\" requires the qualifier \"%s\"",
		               t->type, t->required_qualifier);
	if ((t->rules & PURL_RULE_NO_MODULE_NAME) && strstr(p->name, "::"))
		return err_set(err, ST_INVALID,
		               "%s name \"%s\" is a module name, not a distribution", t->type,
		               shown(q, p->name, strlen(p->name), SHOWN_MAX));
	if (t->rules & PURL_RULE_CHROME_ID)
		return check_chrome(p, err);
	return ST_OK;
}

static enum status check_canonical_length(const struct purl *p, struct err *err);

static enum status normalize(struct purl *p, unsigned flags, struct err *err)
{
	enum status st = check_type(p, err);
	const struct purl_type *t = st == ST_OK ? purl_type_find(p->type) : NULL;

	if (st != ST_OK)
		return st;
	normalize_segments(&p->namespace_, false);
	normalize_segments(&p->subpath, true);
	empty_to_null(&p->version);
	if (t && (t->rules & PURL_RULE_NAME_PATH))
		move_name_path(p); /* before the check: an empty name must not borrow a segment */
	if (!p->name || !*p->name)
		return err_set(err, ST_INVALID, "missing name");
	st = normalize_qualifiers(p, flags, err);
	if (st == ST_OK && t) {
		apply_type_rules(p, t, flags);
		st = check_type_rules(p, t, err);
	}
	return st == ST_OK ? check_canonical_length(p, err) : st;
}

/* ---- Formatting ---- */

/* Append `s` percent-encoded; '/' is kept as a segment separator when `keep_slash`. */
static void put_encoded(struct buf *b, const char *s, bool keep_slash)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (is_unreserved(*s) || (keep_slash && c == '/')) {
			buf_putc(b, *s);
			continue;
		}
		char triplet[3] = {'%', hex_digits[c >> 4], hex_digits[c & 15]};

		buf_append(b, triplet, sizeof triplet);
	}
}

static bool present(const char *s)
{
	return s && *s;
}

static void format_into(struct buf *b, const struct purl *p)
{
	const struct purl_type *t = purl_type_find(p->type);

	buf_puts(b, "pkg:");
	put_encoded(b, p->type ? p->type : "", false);
	buf_putc(b, '/');
	if (present(p->namespace_)) {
		put_encoded(b, p->namespace_, true);
		buf_putc(b, '/');
	}
	put_encoded(b, p->name ? p->name : "", t && (t->rules & PURL_RULE_NAME_PATH));
	if (present(p->version)) {
		buf_putc(b, '@');
		put_encoded(b, p->version, false);
	}
	for (size_t i = 0; i < p->nqualifiers; i++) {
		buf_putc(b, i ? '&' : '?');
		buf_puts(b, p->qualifiers[i].key);
		buf_putc(b, '=');
		put_encoded(b, p->qualifiers[i].value, false);
	}
	if (present(p->subpath)) {
		buf_putc(b, '#');
		put_encoded(b, p->subpath, true);
	}
}

/* The canonical string must parse again, so it is held to PURL_MAX_LEN too: escaping can
 * make it three times longer than the input (every byte >= 0x80 becomes %XX). */
static enum status check_canonical_length(const struct purl *p, struct err *err)
{
	struct buf b = BUF_INIT(PURL_MAX_LEN);

	format_into(&b, p);
	bool over = b.overflow;

	buf_release(&b);
	return over ? err_set(err, ST_INVALID, "purl is longer than %d bytes in canonical form",
	                      PURL_MAX_LEN)
	            : ST_OK;
}

/* ---- Public functions ---- */

enum status purl_parse(const char *s, size_t len, unsigned flags, struct purl *out, struct err *err)
{
	struct purl raw = {0};
	struct span rest = {s ? s : "", s ? len : 0};
	enum status st;

	*out = (struct purl){0};
	st = check_input(rest.p, rest.n, err);
	if (st != ST_OK)
		goto out;
	st = split_subpath(&rest, &raw, err);
	if (st != ST_OK)
		goto out;
	st = split_qualifiers(&rest, flags, &raw, err);
	if (st != ST_OK)
		goto out;
	st = split_scheme_type(&rest, &raw, err);
	if (st != ST_OK)
		goto out;
	st = split_path(rest, &raw, err);
	if (st != ST_OK)
		goto out;
	st = normalize(&raw, flags, err);
	if (st != ST_OK)
		goto out;
	*out = raw;
	raw = (struct purl){0};
out:
	if (st != ST_OK) {
		char q[3 * SHOWN_DETAIL_MAX + 4];
		err_detail(err, "purl \"%s\"", shown(q, s ? s : "", s ? len : 0, SHOWN_DETAIL_MAX));
	}
	purl_release(&raw);
	return st;
}

static void copy_purl(const struct purl *in, struct purl *out)
{
	out->type = xstrdup(in->type);
	out->namespace_ = xstrdup(in->namespace_);
	out->name = xstrdup(in->name);
	out->version = xstrdup(in->version);
	out->subpath = xstrdup(in->subpath);
	for (size_t i = 0; i < in->nqualifiers; i++)
		push_qualifier(out, xstrdup(in->qualifiers[i].key),
		               xstrdup(in->qualifiers[i].value));
}

enum status purl_build(const struct purl *in, unsigned flags, struct purl *out, struct err *err)
{
	struct purl p = {0};
	enum status st;

	*out = (struct purl){0};
	copy_purl(in, &p);
	st = normalize(&p, flags, err);
	if (st != ST_OK)
		goto out;
	*out = p;
	p = (struct purl){0};
out:
	purl_release(&p);
	return st;
}

char *purl_format(const struct purl *p)
{
	struct buf b = BUF_INIT(0);

	format_into(&b, p);
	return buf_detach(&b, NULL);
}

enum status purl_canonicalize(const char *s, size_t len, unsigned flags, struct buf *out,
                              struct err *err)
{
	struct purl p = {0};
	enum status st = purl_parse(s, len, flags, &p, err);

	if (st != ST_OK)
		goto out;
	format_into(out, &p);
out:
	purl_release(&p);
	return st;
}

void purl_release(struct purl *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nqualifiers; i++) {
		free(p->qualifiers[i].key);
		free(p->qualifiers[i].value);
	}
	free(p->qualifiers);
	free(p->type);
	free(p->namespace_);
	free(p->name);
	free(p->version);
	free(p->subpath);
	*p = (struct purl){0};
}
