/*
 * web/pages.c: the dashboard's pages and assets (docs/DASHBOARD.md).
 *
 * The pages are static HTML + JavaScript embedded in the binary (web/embed_static.cmake):
 * they read the same JSON API as scripts do, so there is no page-only endpoint and no number
 * computed twice. Every page is the one shell web/static/page.html with its own script put
 * in for {{script}}; page paths (/, /lead-time, /deployments, /pipelines, /trace) serve that,
 * and /static/NAME serves an asset (HTML only through its page path). Every reply carries
 * a Content-Security-Policy that allows scripts, styles and requests from this origin only
 * (no inline script anywhere) and, from reply_with_headers(), no framing, no referrer and
 * no MIME sniffing. With --read-tokens, pages and assets need a read token like the API
 * (web/routes.c); browsers send it as HTTP Basic credentials, so the pages' scripts never
 * handle it.
 * Assets are revalidated by ETag (a hash of the embedded bytes): a new binary is never
 * served stale from a browser's cache.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "web/handlers.h"
#include "web/request.h"
#include "web/static_assets.h"

/* Replaces the API's CSP (which allows nothing); no framing, no referrer and nosniff come
 * from reply_with_headers() as for every reply. */
#define SECURITY_HEADERS                                                                    \
	"Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self';" \
	" img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self';"   \
	" frame-ancestors 'none'\r\n"

#define STATIC_PREFIX "/static/"

#define SHELL "page.html"
#define SHELL_SLOT "{{script}}"

static const struct {
	const char *path, *script;
} pages[] = {
	{"/", "overview.js"},
	{"/lead-time", "lead-time.js"},
	{"/deployments", "deployments.js"},
	{"/pipelines", "pipelines.js"},
	{"/trace", "trace.js"},
};

static const struct static_asset *asset_named(const char *name)
{
	for (size_t i = 0; i < static_assets_count; i++)
		if (strcmp(static_assets[i].name, name) == 0)
			return &static_assets[i];
	return NULL;
}

static const char *page_script(const char *path)
{
	for (size_t i = 0; i < sizeof pages / sizeof *pages; i++)
		if (strcmp(pages[i].path, path) == 0)
			return pages[i].script;
	return NULL;
}

/* The asset at /static/NAME, or NULL. HTML is reached through a page path only. */
static const struct static_asset *asset_for(const char *path)
{
	if (strncmp(path, STATIC_PREFIX, strlen(STATIC_PREFIX)) != 0)
		return NULL;
	const struct static_asset *a = asset_named(path + strlen(STATIC_PREFIX));
	return a && !strstr(a->name, ".html") ? a : NULL;
}

bool pages_has(const char *path)
{
	return page_script(path) || asset_for(path);
}

/* FNV-1a, 64 bits: changes whenever the embedded bytes do. */
static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* A reply of `len` bytes, or 304 when the browser's copy (If-None-Match) is current. */
static int serve(struct request *req, const char *type, const void *data, size_t len)
{
	char etag[24], headers[sizeof SECURITY_HEADERS + 96];

	snprintf(etag, sizeof etag, "\"%016llx\"", (unsigned long long)fnv1a(data, len));
	snprintf(headers, sizeof headers, SECURITY_HEADERS "Cache-Control: no-cache\r\nETag: %s\r\n",
		 etag);
	const char *match = request_header(req, "If-None-Match");
	if (match && strstr(match, etag))
		return reply_with_headers(req, 304, type, headers, "", 0);
	return reply_with_headers(req, 200, type, headers, (const char *)data, len);
}

int pages_serve(struct request *req)
{
	const char *script = page_script(req->path);

	if (!script) {
		const struct static_asset *a = asset_for(req->path);
		return serve(req, a->type, a->data, a->len);
	}
	/* the shell with the page's script */
	const struct static_asset *shell = asset_named(SHELL);
	const char *text = shell ? (const char *)shell->data : "";
	const char *slot = strstr(text, SHELL_SLOT);
	struct buf page = BUF_INIT(0);

	if (!slot) {
		err_set(&req->err, ST_INTERNAL, "the page shell " SHELL " has no " SHELL_SLOT);
		return reply_problem(req, &req->err, -1);
	}

	buf_append(&page, text, (size_t)(slot - text));
	buf_puts(&page, script);
	buf_puts(&page, slot + strlen(SHELL_SLOT));
	int rc = serve(req, shell->type, page.data, page.len);
	buf_release(&page);
	return rc;
}
