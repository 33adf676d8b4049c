#ifndef TESTS_FUZZ_FUZZ_CHECK_H
#define TESTS_FUZZ_FUZZ_CHECK_H
/*
 * What the libFuzzer targets in tests/fuzz/ share: an invariant check that aborts (libFuzzer
 * then saves the input as a crash), and the checks every parser's error must pass.
 * Threads: libFuzzer runs one input at a time; nothing here is shared.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Abort with "file:line: invariant failed: cond: message" when `cond` is false. */
#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                         \
	} while (0)

__attribute__((noreturn, format(printf, 4, 5))) void fuzz_fail(const char *file, int line,
							       const char *cond,
							       const char *fmt, ...);

/* `s` is NULL or valid UTF-8 (ingest's json_utf8_valid: no overlongs or surrogates). */
bool fuzz_utf8(const char *s);

/* A NUL-terminated copy of the input (the caller frees). The input is cut at its first NUL,
 * as a C string from civetweb would be. */
char *fuzz_cstr(const uint8_t *data, size_t size);

/*
 * A failed parse explains itself in text a reply can carry: err->status is `st`, the
 * message is not empty, and message, detail and pointer are valid UTF-8 (they go into
 * JSON problem bodies as they are). `what` names the parser in the report.
 */
void fuzz_check_err(const struct err *err, enum status st, const char *what);

#endif
