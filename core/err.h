#ifndef CORE_ERR_H
#define CORE_ERR_H
/*
 * The status of an operation and the message explaining it (practice 6).
 * `status` is the kind of failure; web/ maps it to HTTP in one place. `msg` states what
 * went wrong, lowercase with no trailing period; `detail` carries specifics; `pointer`
 * is the JSON pointer of the offending input field, when there is one.
 * Threads: a struct err belongs to one thread.
 */
#include <stdarg.h>
#include <stddef.h>

enum status {
	ST_OK = 0,
	ST_INVALID,       /* the input is wrong: 400 */
	ST_UNAUTHORIZED,  /* missing or wrong credentials: 401 */
	ST_FORBIDDEN,     /* refused whatever the credentials: 403 */
	ST_NOT_FOUND,     /* 404 */
	ST_TOO_LARGE,     /* an input limit was crossed: 413 */
	ST_UNSUPPORTED,   /* media type not handled: 415 */
	ST_CONFLICT,      /* 409 */
	ST_UNAVAILABLE,   /* a dependency is down, retry later: 503 */
	ST_INTERNAL,      /* a bug or unexpected failure: 500 */
};

struct err {
	enum status status;
	char msg[256];
	char detail[512];
	char pointer[256];
};

/* Set status and message; clears detail and pointer. Returns `st` for `return err_set(...)`. */
__attribute__((format(printf, 3, 4))) enum status err_set(struct err *err, enum status st,
							    const char *fmt, ...);
/* Set the detail line (specifics or a hint). */
__attribute__((format(printf, 2, 3))) void err_detail(struct err *err, const char *fmt, ...);
/* Set the JSON pointer of the offending field. */
void err_pointer(struct err *err, const char *pointer);
/* Reset to ST_OK with empty strings. */
void err_clear(struct err *err);
/* s[0..n) quoted for a message: printable ASCII as it is, any other byte as %XX, so the
 * result is ASCII whatever the input (a message never ends inside a UTF-8 character nor
 * carries invalid UTF-8 into a JSON reply). At most max_in input bytes and max_out output
 * bytes are shown, then "..." when cut. `out` needs max_out + 4 bytes; returns out. */
const char *err_quote(char *out, const char *s, size_t n, size_t max_in, size_t max_out);
/* A short name for a status ("invalid", "unavailable", ...), for logs and metrics. */
const char *status_name(enum status st);

#endif
