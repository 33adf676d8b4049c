/*
 * web/pages.c: the dashboard's pages and assets (docs/DASHBOARD.md).
 *
 * The pages are static HTML + JavaScript embedded in the binary (web/embed_static.cmake):
 * they read the same JSON API as scripts do, so there is no page-only endpoint and no number
 * computed twice. Page paths (/, /lead-time, /deployments, /pipelines, /trace) serve their
 * HTML file; /static/NAME serves an asset. Every reply carries the security headers below:
 * a Content-Security-Policy that allows scripts, styles and requests from this origin only
 * (no inline script anywhere), no framing, no referrer (and, from reply_with_headers, no
 * MIME sniffing).
 * Assets are revalidated by ETag (a hash of the embedded bytes): a new binary is never
 * served stale from a browser's cache.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "web/handlers.h"
#include "web/request.h"
#include "web/static_assets.h"

#define SECURITY_HEADERS                                                                    \
	"Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self';" \
	" img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self';"   \
	" frame-ancestors 'none'\r\n"                                                         \
	"X-Frame-Options: DENY\r\n"                                                          \
	"Referrer-Policy: no-referrer\r\n"

#define STATIC_PREFIX "/static/"

static const struct {
	const char *path, *file;
} pages[] = {
	{"/", "index.html"},
	{"/lead-time", "lead-time.html"},
	{"/deployments", "deployments.html"},
	{"/pipelines", "pipelines.html"},
	{"/trace", "trace.html"},
};

static const struct static_asset *asset_named(const char *name)
{
	for (size_t i = 0; i < static_assets_count; i++)
		if (strcmp(static_assets[i].name, name) == 0)
			return &static_assets[i];
	return NULL;
}

/* The asset for a request path, or NULL. HTML files are reached by their page path only. */
static const struct static_asset *asset_for(const char *path)
{
	for (size_t i = 0; i < sizeof pages / sizeof *pages; i++)
		if (strcmp(pages[i].path, path) == 0)
			return asset_named(pages[i].file);
	if (strncmp(path, STATIC_PREFIX, strlen(STATIC_PREFIX)) != 0)
		return NULL;
	const struct static_asset *a = asset_named(path + strlen(STATIC_PREFIX));
	return a && !strstr(a->name, ".html") ? a : NULL;
}

bool pages_has(const char *path)
{
	return asset_for(path) != NULL;
}

/* FNV-1a, 64 bits: changes whenever the embedded bytes do. */
static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

int pages_serve(struct request *req)
{
	const struct static_asset *a = asset_for(req->path);
	char etag[24], headers[sizeof SECURITY_HEADERS + 96];

	snprintf(etag, sizeof etag, "\"%016llx\"", (unsigned long long)fnv1a(a->data, a->len));
	snprintf(headers, sizeof headers, SECURITY_HEADERS "Cache-Control: no-cache\r\nETag: %s\r\n",
		 etag);
	const char *match = request_header(req, "If-None-Match");
	if (match && strstr(match, etag))
		return reply_with_headers(req, 304, a->type, headers, "", 0);
	return reply_with_headers(req, 200, a->type, headers, (const char *)a->data, a->len);
}
