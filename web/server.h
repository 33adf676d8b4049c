#ifndef WEB_SERVER_H
#define WEB_SERVER_H
/*
 * The HTTP server: civetweb started with options from the config, one dispatcher for all
 * paths, over HTTPS when --tls-cert is set. server_stop() stops accepting, lets in-flight
 * handlers finish, and returns.
 * Threads: call start/stop from main only.
 */
#include "core/err.h"

struct app;
struct server;

/* Errors: ST_INVALID (bad listen address or option, or a bad --tls-cert / --tls-key:
 * err->msg says which), ST_UNSUPPORTED (TLS asked for, but civetweb cannot serve it). */
struct server *server_start(struct app *app, struct err *err);
void server_stop(struct server *srv);  /* NULL: no-op */

#endif
