#ifndef CORE_BASE64_H
#define CORE_BASE64_H
/* RFC 4648 base64 (standard alphabet) decoding. Threads: pure. */
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* Decode s[0..len) into out (appended). Padding is optional; whitespace is not allowed.
 * Returns false on an invalid character or length. */
bool base64_decode(const char *s, size_t len, struct buf *out);

#endif
