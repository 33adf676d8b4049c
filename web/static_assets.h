#ifndef WEB_STATIC_ASSETS_H
#define WEB_STATIC_ASSETS_H
/* The dashboard's files, embedded at build time by web/embed_static.cmake (served by
 * web/pages.c). Each is NUL-terminated after `len` bytes. */
#include <stddef.h>

struct static_asset {
	const char *name, *type;
	const unsigned char *data;
	size_t len;
};

extern const struct static_asset static_assets[];
extern const size_t static_assets_count;

#endif
