#ifndef WEB_QUERY_H
#define WEB_QUERY_H
/*
 * The query string of a GET request (application/x-www-form-urlencoded, as browsers and
 * URLSearchParams write it) parsed into decoded (name, value) pairs.
 *
 *   "change=101&repository=github.com%2Facme%2Fshop"
 *       -> (change, 101) (repository, github.com/acme/shop)
 *
 * Rules: pairs are separated by '&' and empty pairs ("a=1&&b=2") are skipped; a pair without
 * '=' has the value ""; '+' decodes to a space and %XX to the byte XX in names and values;
 * a repeated name keeps every value, in order (`service=a&service=b`). Everything else is
 * refused rather than guessed at, so that handlers see only clean text:
 *   - a '%' not followed by two hex digits ("%zz", a trailing "%4");
 *   - a decoded NUL byte, or decoded bytes that are not valid UTF-8;
 *   - more than QUERY_MAX_PARAMS pairs, or a name or value longer than QUERY_MAX_VALUE bytes
 *     once decoded.
 * Threads: pure; safe from any thread.
 */
#include <stddef.h>

#include "core/err.h"

#define QUERY_MAX_PARAMS 64
#define QUERY_MAX_VALUE 2048

struct query_param {
	char *name;  /* decoded, NUL-terminated, valid UTF-8; owned by the query */
	char *value; /* same; "" when the pair had no '=' */
};

/* A parsed query string: a value, put it on the stack and zero it. */
struct query {
	struct query_param *params; /* in the order given; owned */
	size_t n;
};

/*
 * Parse `qs` (the part after '?', without it; NULL or "" gives no parameters) into `*out`.
 * Ownership: on ST_OK `*out` owns its strings; call query_release(out). On failure `*out` is
 *            zeroed and nothing needs releasing.
 * Errors: ST_INVALID, with err->msg naming the parameter ("parameter \"change\" has an invalid
 *         percent-escape \"%zz\"") and err->detail saying what is allowed.
 * Threads: pure.
 */
enum status query_parse(const char *qs, struct query *out, struct err *err);

/* The first value of `name`, or NULL when it is absent. Points into `q`. */
const char *query_get(const struct query *q, const char *name);

/* How many times `name` occurs. */
size_t query_count(const struct query *q, const char *name);

/* Size of the buffer query_quote_name() writes. */
#define QUERY_QUOTE_MAX 72

/*
 * `name` as error messages show it: printable ASCII kept, every other byte as %XX, cut to 64
 * bytes with "..." after. Writes into `out` and returns it. Safe for any bytes, so a message
 * built with it is always valid UTF-8 whatever was sent.
 */
const char *query_quote_name(const char *name, char out[QUERY_QUOTE_MAX]);

/* Free every string and zero `q`. NULL or a zeroed query: no-op. */
void query_release(struct query *q);

#endif
