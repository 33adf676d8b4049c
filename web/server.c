/*
 * web/server.c: civetweb set-up. The only place that knows civetweb's option names.
 * Why keep-alive with many threads: civetweb serves one connection per worker thread, and
 * producers keep connections open, so the thread count bounds concurrent producers; extra
 * connections wait in the accept queue (connection_queue), beyond which they are refused.
 */
#include "web/server.h"

#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "web/app.h"
#include "web/routes.h"

struct server {
	struct mg_context *ctx;
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
	char len[16];
	snprintf(len, sizeof len, "%d", n);
	mg_response_header_add(conn, "Content-Length", len, -1);
	mg_response_header_send(conn);
	mg_write(conn, body, (size_t)n);
	return 0;
}

struct server *server_start(struct app *app, struct err *err)
{
	const struct config *cfg = app->cfg;
	char threads[16], timeout[16], queue[16];
	struct mg_callbacks callbacks = {.log_message = log_civetweb, .http_error = http_error};

	snprintf(threads, sizeof threads, "%ld", cfg->http_threads);
	snprintf(timeout, sizeof timeout, "%ld", cfg->request_timeout_ms);
	snprintf(queue, sizeof queue, "%ld", cfg->max_connections);
	const char *options[] = {
		"listening_ports", cfg->listen,
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

	mg_init_library(0);
	struct mg_context *ctx = mg_start2(&init, &error);
	if (!ctx) {
		err_set(err, ST_INVALID, "could not start the HTTP server on \"%s\": %s", cfg->listen,
			ebuf[0] ? ebuf : "unknown error");
		return NULL;
	}
	mg_set_request_handler(ctx, "/", routes_dispatch, app);
	struct server *srv = xcalloc(1, sizeof *srv);
	srv->ctx = ctx;
	return srv;
}

void server_stop(struct server *srv)
{
	if (!srv)
		return;
	mg_stop(srv->ctx);
	mg_exit_library();
	free(srv);
}
