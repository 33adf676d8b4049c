/*
 * web/server.c: civetweb set-up. The only place that knows civetweb's option names.
 * Why keep-alive with many threads: civetweb serves one connection per worker thread, and
 * producers keep connections open, so the thread count bounds concurrent producers; extra
 * connections wait in the accept queue (connection_queue), beyond which they are refused.
 * HTTPS (--tls-cert): every --listen port gets civetweb's "s" suffix (HTTPS only, no plain
 * port beside it), TLS 1.2 or later; the files are checked first (web/tls.c), and our
 * init_ssl callback loads them into civetweb's context, which also allows a key in its own
 * file (civetweb 1.15's ssl_certificate option wants certificate and key in one file).
 */
#include "web/server.h"

#include <civetweb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "web/app.h"
#include "web/routes.h"
#include "web/tls.h"

struct server {
	struct mg_context *ctx;
	void *tls_compat; /* web/tls.h; NULL without TLS */
};

static int log_civetweb(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	log_warn("http: %.*s", (int)strcspn(message, "\n"), message);
	return 1;
}

/* civetweb's own errors (malformed request line, headers too large...) as problem+json. */
static int http_error(struct mg_connection *conn, int status, const char *msg)
{
	char body[512];
	int n = snprintf(body, sizeof body,
			 "{\"type\":\"about:blank\",\"status\":%d,\"detail\":\"request refused by "
			 "the HTTP layer\"}",
			 status);

	(void)msg;
	mg_response_header_start(conn, status);
	mg_response_header_add(conn, "Content-Type", "application/problem+json", -1);
	mg_response_header_add(conn, "X-Content-Type-Options", "nosniff", -1);
	mg_response_header_add(conn, "Content-Security-Policy",
			       "default-src 'none'; frame-ancestors 'none'", -1);
	mg_response_header_add(conn, "X-Frame-Options", "DENY", -1);
	mg_response_header_add(conn, "Referrer-Policy", "no-referrer", -1);
	mg_response_header_add(conn, "Cache-Control", "no-store", -1);
	char len[16];
	snprintf(len, sizeof len, "%d", n);
	mg_response_header_add(conn, "Content-Length", len, -1);
	mg_response_header_send(conn);
	mg_write(conn, body, (size_t)n);
	return 0;
}

static bool tls_on(const struct config *cfg)
{
	return cfg->tls_cert && *cfg->tls_cert;
}

/* civetweb's init_ssl callback: our certificate and key into its SSL_CTX. */
static int init_ssl(void *ssl_ctx, void *user_data)
{
	const struct config *cfg = ((const struct app *)user_data)->cfg;

	return tls_setup_ctx(ssl_ctx, cfg->tls_cert, cfg->tls_key);
}

/* --listen with civetweb's "s" (HTTPS) after every port that has no suffix yet. */
static void https_ports(const char *listen, struct buf *out)
{
	for (const char *p = listen; *p;) {
		size_t len = strcspn(p, ",");
		buf_append(out, p, len);
		if (len && p[len - 1] >= '0' && p[len - 1] <= '9')
			buf_putc(out, 's');
		p += len;
		if (*p == ',')
			buf_putc(out, *p++);
	}
}

/* Before mg_start2() with TLS: civetweb can serve it, the files are good, OpenSSL loads. */
static enum status tls_prepare(const struct config *cfg, struct server *srv, struct err *err)
{
	if (!mg_check_feature(MG_FEATURES_TLS))
		return err_set(err, ST_UNSUPPORTED, "--tls-cert: this civetweb library was built "
			       "without TLS support");
	if (tls_check(cfg->tls_cert, cfg->tls_key, err) != ST_OK)
		return err->status;
	srv->tls_compat = tls_compat_open();
	if (!(mg_init_library(MG_FEATURES_TLS) & MG_FEATURES_TLS))
		return err_set(err, ST_UNSUPPORTED, "--tls-cert: civetweb could not load OpenSSL "
			       "(it opens libssl.so and libcrypto.so, from Debian's libssl-dev)");
	return ST_OK;
}

struct server *server_start(struct app *app, struct err *err)
{
	const struct config *cfg = app->cfg;
	char threads[16], timeout[16], queue[16];
	struct mg_callbacks callbacks = {.log_message = log_civetweb, .http_error = http_error};
	struct server *srv = xcalloc(1, sizeof *srv);
	struct buf ports = BUF_INIT(0);

	if (tls_on(cfg)) {
		if (tls_prepare(cfg, srv, err) != ST_OK)
			goto fail;
		https_ports(cfg->listen, &ports);
		callbacks.init_ssl = init_ssl;
	} else {
		mg_init_library(0);
		buf_puts(&ports, cfg->listen);
	}
	snprintf(threads, sizeof threads, "%ld", cfg->http_threads);
	snprintf(timeout, sizeof timeout, "%ld", cfg->request_timeout_ms);
	snprintf(queue, sizeof queue, "%ld", cfg->max_connections);
	const char *options[] = {
		"listening_ports", buf_cstr(&ports),
		"ssl_protocol_version", "4", /* TLS 1.2 and later (also set in tls_setup_ctx) */
		"num_threads", threads,
		"request_timeout_ms", timeout,
		"keep_alive_timeout_ms", "30000",
		"enable_keep_alive", "yes",
		"connection_queue", queue,
		"listen_backlog", queue,
		"tcp_nodelay", "1",
		"linger_timeout_ms", "1000",
		NULL,
	};
	struct mg_init_data init = {.callbacks = &callbacks, .user_data = app,
				    .configuration_options = options};
	struct mg_error_data error = {0};
	char ebuf[256] = "";
	error.text = ebuf;
	error.text_buffer_size = sizeof ebuf;

	srv->ctx = mg_start2(&init, &error);
	if (!srv->ctx) {
		err_set(err, ST_INVALID, "could not start the HTTP server on \"%s\": %s",
			buf_cstr(&ports), ebuf[0] ? ebuf : "unknown error");
		goto fail;
	}
	mg_set_request_handler(srv->ctx, "/", routes_dispatch, app);
	buf_release(&ports);
	return srv;
fail:
	buf_release(&ports);
	server_stop(srv);
	return NULL;
}

void server_stop(struct server *srv)
{
	if (!srv)
		return;
	if (srv->ctx)
		mg_stop(srv->ctx);
	mg_exit_library();
	tls_compat_close(srv->tls_compat);
	free(srv);
}
