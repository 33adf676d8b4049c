#ifndef WEB_ROUTES_H
#define WEB_ROUTES_H
/*
 * THE route table and the one dispatcher civetweb calls for every request.
 * routes_dispatch() builds a struct request, finds the route by exact path and method
 * (404 / 405 with Allow otherwise), calls the handler, logs, and releases the request.
 * Threads: called concurrently from civetweb worker threads; the table is read-only.
 */
struct mg_connection;

/* civetweb request handler; cbdata is the struct app. Returns the HTTP status sent. */
int routes_dispatch(struct mg_connection *conn, void *cbdata);

#endif
