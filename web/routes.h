#ifndef WEB_ROUTES_H
#define WEB_ROUTES_H
/*
 * THE route table and the one dispatcher civetweb calls for every request.
 * routes_dispatch() builds a struct request, finds the route by exact path and method
 * (404 / 405 with Allow otherwise), calls the handler, logs, and releases the request.
 * Threads: called concurrently from civetweb worker threads; the table is read-only.
 */
#include <stddef.h>

struct mg_connection;

/* civetweb request handler; cbdata is the struct app. Returns the HTTP status sent.
 * Every request is counted in app->http under its route's index in the table (a 405 under
 * the first route with its path), or HTTP_STATS_OTHER when no route has its path. */
int routes_dispatch(struct mg_connection *conn, void *cbdata);

/* The route table, read-only, for GET /metrics (route labels): the number of routes, and the
 * method and path of route i < routes_count(). The strings are static. */
size_t routes_count(void);
const char *routes_method(size_t i);
const char *routes_path(size_t i);

#endif
