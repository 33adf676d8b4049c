/* core/base64.c: strict RFC 4648 base64 decoding (padding optional, no line breaks). */
#include "core/base64.h"

static int sextet(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

bool base64_decode(const char *s, size_t len, struct buf *out)
{
	unsigned acc = 0;
	int bits = 0;
	size_t pad = 0;

	while (len > 0 && s[len - 1] == '=')
		len--, pad++;
	if (len % 4 == 1 || (pad && (pad > 2 || (len + pad) % 4 != 0)))
		return false;
	for (size_t i = 0; i < len; i++) {
		int v = sextet((unsigned char)s[i]);
		if (v < 0)
			return false;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_putc(out, (char)((acc >> bits) & 0xff));
		}
	}
	return true;
}
