/*
 * web/server.c: civetweb set-up. The only place that knows civetweb's option names.
 * Why keep-alive with many threads: civetweb serves one connection per worker thread, and
 * producers keep connections open, so the thread count bounds concurrent producers; extra
 * connections wait in civetweb's queue (connection_queue), then in the kernel's listen
 * backlog; beyond both, the kernel drops new connection attempts (the client's connect()
 * waits and retries), it does not refuse them.
 * HTTPS (--tls-cert): every --listen port gets civetweb's "s" suffix (HTTPS only, no plain
 * port beside it), TLS 1.2 or later; the files are checked first (web/tls.c), and our
 * init_ssl callback loads them into civetweb's context, which also allows a key in its own
 * file (civetweb 1.15's ssl_certificate option wants certificate and key in one file).
 *
 * Slow clients. civetweb gives a client --request-timeout-ms (T) to send its request line and
 * headers, and closes an idle keep-alive connection after T (at most 30 s). It bounds a body
 * less well: one mg_read() waits until it has all the bytes it asked for, for as long as
 * each byte comes within T of the previous one. So every request inside a handler has a
 * deadline, start + T, and a watchdog thread (watchdog_main(), every WATCHDOG_TICK_MS)
 * shuts down the reading side of the connection of a request past it: a body still being
 * received ends there (request_read_body() answers 400, nothing is stored), while a request
 * that is only waiting for its commit or its query is not affected (it writes its answer as
 * usual; the connection then closes). civetweb does not give the socket of a connection, so
 * the watchdog finds it in /proc/self/fd by its two ends (for_each_fd()).
 *
 * Shutdown (server_stop), in this order, because civetweb's mg_stop() sets a stop flag that
 * makes every later mg_write() a no-op: a request whose commit ends after mg_stop() began
 * would be stored but never acknowledged.
 *   1. stop_listening(): the listening sockets are shut down, so new connections are refused;
 *   2. drain(): requests already inside a handler finish (body, commit, 202), for at most
 *      T + --db-statement-timeout-ms + --db-connect-timeout; one that starts meanwhile (a
 *      queued connection, the next request on a keep-alive one) gets 503 + Retry-After +
 *      Connection: close, and nothing of it is stored;
 *   3. mg_stop(): ends the connections that are left and joins the workers.
 * civetweb has no call to stop accepting, so step 1 works under it (Linux): each listening
 * socket, found in /proc/self/fd by its port, is shut down, and its descriptor number is
 * pointed (dup2) at an unbound UDP socket, which civetweb's accept loop polls without ever
 * seeing a connection, and which mg_stop() closes as usual. Without /proc, step 2 still
 * answers every new request with 503.
 */
#include "web/server.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "web/app.h"
#include "web/routes.h"
#include "web/tls.h"

#define SERVER_MAX_PORTS 32
#define WATCHDOG_TICK_MS 100

/* The two ends of a TCP connection, as civetweb reports them. */
struct peer {
	char addr[48]; /* the client's address, inet_ntop() form */
	int port;      /* the client's port */
	int local;     /* our (listening) port */
};

/* A request inside a handler. */
struct slot {
	bool busy;
	bool cut;            /* the watchdog shut its reading side */
	int64_t deadline_us; /* clock_mono_us() after which it may not read */
	struct peer peer;
};

struct server {
	struct mg_context *ctx;
	void *tls_compat; /* web/tls.h; NULL without TLS */
	struct app *app;
	pthread_mutex_t lock;  /* guards everything below */
	pthread_cond_t idle;   /* signalled when inflight drops to 0 */
	pthread_cond_t wake;   /* the watchdog's timer; signalled when stopping */
	struct slot *slots;    /* one per worker thread, plus a margin */
	int nslots;
	int inflight;          /* requests inside routes_dispatch() */
	bool draining;         /* server_stop() began: requests that start now get 503 */
	bool stopping;         /* the watchdog must end */
	bool watching;         /* the watchdog thread runs */
	pthread_t watchdog;
};

static int log_civetweb(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	log_warn("http: %.*s", (int)strcspn(message, "\n"), message);
	return 1;
}

/* The title of a problem civetweb's layer answers (RFC 9457: the status's phrase). */
static const char *status_title(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 417: return "Expectation Failed";
	case 421: return "Misdirected Request";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	}
	return status < 500 ? "Bad Request" : "Server Error";
}

/* The answer written out whole, with Connection: close: where civetweb's header calls do
 * not fit (see send_problem()). */
static void write_whole(struct mg_connection *conn, int status, const char *body, int n,
			const char *retry_after)
{
	mg_printf(conn,
		  "HTTP/1.1 %d %s\r\nContent-Type: application/problem+json\r\n"
		  "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n"
		  "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
		  "X-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n%s%s%s"
		  "Content-Length: %d\r\nConnection: close\r\n\r\n",
		  status, status_title(status), retry_after ? "Retry-After: " : "",
		  retry_after ? retry_after : "", retry_after ? "\r\n" : "", n);
	mg_write(conn, body, (size_t)n);
}

/* A problem+json answer written with civetweb's own calls (no struct request here); detail
 * is a literal of ours, put into the JSON as it is (no quote or backslash in it). `closing`:
 * the connection is being closed (connection_close()), where civetweb's header calls would
 * leak their list, which it frees only after a request it dispatched. */
static void send_problem(struct mg_connection *conn, int status, const char *detail,
			 const char *retry_after, bool closing)
{
	char body[512], len[16];
	int n = snprintf(body, sizeof body,
			 "{\"type\":\"about:blank\",\"title\":\"%s\",\"status\":%d,"
			 "\"detail\":\"%s\"}",
			 status_title(status), status, detail);

	/* civetweb also refuses its header calls on a connection it took for a WebSocket
	 * upgrade (which we do not serve): the answer is then written out whole too, so that
	 * it has a status line, and the connection closes */
	if (closing || mg_response_header_start(conn, status) < 0) {
		write_whole(conn, status, body, n, retry_after);
		return;
	}
	mg_response_header_add(conn, "Content-Type", "application/problem+json", -1);
	mg_response_header_add(conn, "X-Content-Type-Options", "nosniff", -1);
	mg_response_header_add(conn, "Content-Security-Policy",
			       "default-src 'none'; frame-ancestors 'none'", -1);
	mg_response_header_add(conn, "X-Frame-Options", "DENY", -1);
	mg_response_header_add(conn, "Referrer-Policy", "no-referrer", -1);
	mg_response_header_add(conn, "Cache-Control", "no-store", -1);
	if (retry_after)
		mg_response_header_add(conn, "Retry-After", retry_after, -1);
	snprintf(len, sizeof len, "%d", n);
	mg_response_header_add(conn, "Content-Length", len, -1);
	mg_response_header_send(conn);
	mg_write(conn, body, (size_t)n);
}

/* Set when civetweb answers a request it never dispatched (local_uri NULL: a malformed
 * request line or headers, a bad version); such an answer always ends the connection, so
 * connection_close() knows the last request was answered. Per worker thread, because a
 * connection lives in one worker from accept to close; cleared at each close. */
static _Thread_local bool answered_undispatched;
/* Set when civetweb begins serving a connection (after the TLS handshake, with TLS): a
 * connection whose handshake failed is closed without ever reading a request, and its
 * request_info still holds the worker's previous request, which must not be answered. */
static _Thread_local bool connection_began;

static int init_connection(const struct mg_connection *conn, void **data)
{
	(void)conn;
	*data = NULL;
	connection_began = true;
	return 0;
}

/* civetweb's own errors (malformed request line, headers too large or too slow...). */
static int http_error(struct mg_connection *conn, int status, const char *msg)
{
	(void)msg;
	if (!mg_get_request_info(conn)->local_uri)
		answered_undispatched = true;
	/* an unsupported HTTP version (civetweb: 505) is the client's malformed request: a 4xx,
	 * so that no hostile request is ever answered 5xx (docs/RELIABILITY.md) */
	if (status == 505)
		send_problem(conn, 400, "the HTTP version is not supported: send HTTP/1.0 or 1.1",
			     NULL, false);
	else
		send_problem(conn, status, "request refused by the HTTP layer", NULL, false);
	return 0;
}

/* Two well-formed request targets civetweb 1.15 parses but neither dispatches nor answers:
 * it closes the connection silently (process_new_connection(): "TODO: Deal with '*'" and
 * "TODO: handle non-local request (PROXY)"). Its connection_close callback still runs
 * before the socket closes, and there the request is known as one with a request line but
 * no local_uri that civetweb did not answer (answered_undispatched), on a connection that
 * began (connection_began): it gets its 4xx here.
 * Absolute-form for this server's own port is dispatched as usual ("enable_auth_domain_
 * check" is off: RFC 9112 3.2.2 has a server accept it, and cdlens ignores Host anyway). */
static void connection_close(const struct mg_connection *cconn)
{
	const struct mg_request_info *ri = mg_get_request_info(cconn);
	bool answered = answered_undispatched, began = connection_began;

	answered_undispatched = connection_began = false;
	if (!began || answered || !ri || !ri->request_uri || ri->local_uri)
		return;
	/* civetweb passes its own, non-const connection; writing the answer needs it so */
	struct mg_connection *conn = (struct mg_connection *)cconn;

	if (strcmp(ri->request_uri, "*") == 0)
		send_problem(conn, 400,
			     "the asterisk-form request target (*) names no resource: cdlens "
			     "serves paths, such as /api/v1/events",
			     NULL, true);
	else
		send_problem(conn, 421,
			     "the absolute request target names another server (its port is not "
			     "this server's): send the path alone",
			     NULL, true);
}

/* ---- requests in flight ---- */

/* A slot for the request, or -1 when shutdown began; counts it in flight. */
static int admit(struct server *srv, const struct mg_request_info *ri)
{
	int i = 0;
	int64_t deadline = clock_mono_us() + srv->app->cfg->request_timeout_ms * 1000;

	pthread_mutex_lock(&srv->lock);
	if (srv->draining) {
		pthread_mutex_unlock(&srv->lock);
		return -1;
	}
	while (i < srv->nslots - 1 && srv->slots[i].busy) /* one per worker: never all busy */
		i++;
	struct slot *s = &srv->slots[i];
	*s = (struct slot){.busy = true,
			   .peer.port = ri->remote_port,
			   .peer.local = ri->server_port,
			   .deadline_us = deadline};
	snprintf(s->peer.addr, sizeof s->peer.addr, "%s", ri->remote_addr);
	srv->inflight++;
	pthread_mutex_unlock(&srv->lock);
	return i;
}

static void release(struct server *srv, int slot)
{
	pthread_mutex_lock(&srv->lock);
	srv->slots[slot].busy = false;
	if (--srv->inflight == 0)
		pthread_cond_broadcast(&srv->idle);
	pthread_mutex_unlock(&srv->lock);
}

/* Every request passes here: tracked while in flight, refused once shutdown began. */
static int dispatch(struct mg_connection *conn, void *cbdata)
{
	struct server *srv = cbdata;
	int slot = admit(srv, mg_get_request_info(conn));

	if (slot < 0) {
		char retry[24];
		snprintf(retry, sizeof retry, "%ld", srv->app->cfg->retry_after_s);
		mg_disable_connection_keep_alive(conn);
		send_problem(conn, 503, "the server is shutting down; nothing was stored", retry,
			     false);
		return 503;
	}
	int status = routes_dispatch(conn, srv->app);
	release(srv, slot);
	return status;
}

/* ---- sockets under civetweb (Linux) ---- */

/* Call fn(fd, arg) for every open descriptor of the process (none without /proc). */
static void for_each_fd(void (*fn)(int fd, void *arg), void *arg)
{
	DIR *dir = opendir("/proc/self/fd");

	if (!dir)
		return;
	for (struct dirent *e; (e = readdir(dir));)
		if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(dir))
			fn(atoi(e->d_name), arg);
	closedir(dir);
}

/* The port of a socket address, and its host in inet_ntop() form when `host` is given. */
static int address_port(const struct sockaddr_storage *a, char *host, size_t cap)
{
	const struct sockaddr_in *v4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)a;

	if (a->ss_family != AF_INET && a->ss_family != AF_INET6)
		return -1;
	if (host)
		inet_ntop(a->ss_family, a->ss_family == AF_INET ? (const void *)&v4->sin_addr
								: (const void *)&v6->sin6_addr,
			  host, (socklen_t)cap);
	return ntohs(a->ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
}

struct listeners {
	struct mg_server_port ports[SERVER_MAX_PORTS];
	int nports, closed;
};

/* Shut listening socket `fd` down (queued connections are reset, new ones refused) and
 * leave an inert UDP socket under its number for civetweb to poll and close. */
static void close_listener(int fd, void *arg)
{
	struct listeners *l = arg;
	struct sockaddr_storage addr;
	socklen_t len = sizeof addr, optlen = sizeof(int);
	int listening = 0, port;

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) != 0 || !listening ||
	    getsockname(fd, (struct sockaddr *)&addr, &len) != 0 ||
	    (port = address_port(&addr, NULL, 0)) < 0)
		return;
	for (int i = 0; i < l->nports; i++) {
		if (l->ports[i].port != port)
			continue;
		int old = dup(fd), inert = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (old >= 0 && inert >= 0 && dup2(inert, fd) == fd) {
			shutdown(old, SHUT_RDWR);
			l->closed++;
		}
		if (old >= 0)
			close(old);
		if (inert >= 0)
			close(inert);
		return;
	}
}

/* Step 1 of the shutdown (see the top of the file); returns the sockets closed. */
static int stop_listening(struct server *srv)
{
	struct listeners l = {0};

	l.nports = mg_get_server_ports(srv->ctx, SERVER_MAX_PORTS, l.ports);
	for_each_fd(close_listener, &l);
	return l.closed;
}

struct late {
	const struct peer *peers;
	int n;
	long timeout_ms;
};

/* Shut the reading side of `fd` if it is the connection of one of the late requests. */
static void cut_if_late(int fd, void *arg)
{
	const struct late *late = arg;
	struct sockaddr_storage remote, local;
	socklen_t rlen = sizeof remote, llen = sizeof local;
	char host[48];

	if (getpeername(fd, (struct sockaddr *)&remote, &rlen) != 0 ||
	    getsockname(fd, (struct sockaddr *)&local, &llen) != 0)
		return;
	int port = address_port(&remote, host, sizeof host);
	int local_port = address_port(&local, NULL, 0);
	for (int i = 0; i < late->n; i++) {
		const struct peer *p = &late->peers[i];
		if (p->port == port && p->local == local_port && !strcmp(p->addr, host)) {
			shutdown(fd, SHUT_RD);
			log_info("http: a request from %s:%d is still in its handler after %ld ms: "
				 "its connection stops receiving", host, port, late->timeout_ms);
		}
	}
}

/* Mark the requests past their deadline as cut; copies their peers into out[]. */
static int take_late(struct server *srv, struct peer *out)
{
	int64_t now = clock_mono_us();
	int n = 0;

	for (int i = 0; i < srv->nslots; i++) {
		struct slot *s = &srv->slots[i];
		if (s->busy && !s->cut && now > s->deadline_us) {
			s->cut = true;
			out[n++] = s->peer;
		}
	}
	return n;
}

/* CLOCK_REALTIME in ms milliseconds, for pthread_cond_timedwait(). */
static struct timespec deadline_in(long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += ms % 1000 * 1000000L;
	if (t.tv_nsec >= 1000000000)
		t.tv_sec++, t.tv_nsec -= 1000000000;
	return t;
}

static void *watchdog_main(void *arg)
{
	struct server *srv = arg;
	struct peer *peers = xcalloc((size_t)srv->nslots, sizeof *peers);

	pthread_mutex_lock(&srv->lock);
	while (!srv->stopping) {
		struct timespec tick = deadline_in(WATCHDOG_TICK_MS);
		pthread_cond_timedwait(&srv->wake, &srv->lock, &tick);
		struct late late = {peers, take_late(srv, peers),
				    srv->app->cfg->request_timeout_ms};
		if (!late.n)
			continue;
		pthread_mutex_unlock(&srv->lock);
		for_each_fd(cut_if_late, &late);
		pthread_mutex_lock(&srv->lock);
	}
	pthread_mutex_unlock(&srv->lock);
	free(peers);
	return NULL;
}

/* ---- start ---- */

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

/* mg_start2() with our options; NULL with err set. */
static struct mg_context *start_civetweb(struct app *app, const char *ports,
					 struct mg_callbacks *callbacks, struct err *err)
{
	const struct config *cfg = app->cfg;
	char threads[24], timeout[24], keep_alive[24], queue[24], ebuf[256] = "";

	snprintf(threads, sizeof threads, "%ld", cfg->http_threads);
	snprintf(timeout, sizeof timeout, "%ld", cfg->request_timeout_ms);
	/* an idle keep-alive connection holds a worker as long as a slow request may */
	snprintf(keep_alive, sizeof keep_alive, "%ld",
		 cfg->request_timeout_ms < 30000 ? cfg->request_timeout_ms : 30000);
	snprintf(queue, sizeof queue, "%ld", cfg->max_connections);
	const char *options[] = {
		"listening_ports", ports,
		"ssl_protocol_version", "4", /* TLS 1.2 and later (also set in tls_setup_ctx) */
		"num_threads", threads,
		"request_timeout_ms", timeout,
		"keep_alive_timeout_ms", keep_alive,
		"enable_keep_alive", "yes",
		"connection_queue", queue,
		"listen_backlog", queue,
		"tcp_nodelay", "1",
		"linger_timeout_ms", "1000",
		"enable_auth_domain_check", "no", /* see connection_close() */
		NULL,
	};
	struct mg_init_data init = {.callbacks = callbacks, .user_data = app,
				    .configuration_options = options};
	struct mg_error_data error = {.text = ebuf, .text_buffer_size = sizeof ebuf};
	struct mg_context *ctx = mg_start2(&init, &error);

	if (!ctx)
		err_set(err, ST_INVALID, "could not start the HTTP server on \"%s\": %s", ports,
			ebuf[0] ? ebuf : "unknown error");
	return ctx;
}

struct server *server_start(struct app *app, struct err *err)
{
	const struct config *cfg = app->cfg;
	struct mg_callbacks callbacks = {.log_message = log_civetweb,
					 .http_error = http_error,
					 .init_connection = init_connection,
					 .connection_close = connection_close};
	struct server *srv = xcalloc(1, sizeof *srv);
	struct buf ports = BUF_INIT(0);

	srv->app = app;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->idle, NULL);
	pthread_cond_init(&srv->wake, NULL);
	srv->nslots = (int)cfg->http_threads + 1;
	srv->slots = xcalloc((size_t)srv->nslots, sizeof *srv->slots);
	if (tls_on(cfg)) {
		if (tls_prepare(cfg, srv, err) != ST_OK)
			goto fail;
		https_ports(cfg->listen, &ports);
		callbacks.init_ssl = init_ssl;
	} else {
		mg_init_library(0);
		buf_puts(&ports, cfg->listen);
	}
	if (!(srv->ctx = start_civetweb(app, buf_cstr(&ports), &callbacks, err)))
		goto fail;
	srv->watching = pthread_create(&srv->watchdog, NULL, watchdog_main, srv) == 0;
	if (!srv->watching)
		abort();
	mg_set_request_handler(srv->ctx, "/", dispatch, srv);
	buf_release(&ports);
	return srv;
fail:
	buf_release(&ports);
	server_stop(srv);
	return NULL;
}

/* ---- stop ---- */

/* Step 2: wait until no request is inside a handler, for at most timeout_ms; returns the
 * requests left. */
static int drain(struct server *srv, long timeout_ms)
{
	struct timespec deadline = deadline_in(timeout_ms);

	pthread_mutex_lock(&srv->lock);
	srv->draining = true;
	if (srv->inflight)
		log_info("waiting for %d request(s) in flight", srv->inflight);
	while (srv->inflight > 0)
		if (pthread_cond_timedwait(&srv->idle, &srv->lock, &deadline) != 0)
			break;
	int left = srv->inflight;
	pthread_mutex_unlock(&srv->lock);
	return left;
}

static void stop_watchdog(struct server *srv)
{
	if (!srv->watching)
		return;
	pthread_mutex_lock(&srv->lock);
	srv->stopping = true;
	pthread_cond_signal(&srv->wake);
	pthread_mutex_unlock(&srv->lock);
	pthread_join(srv->watchdog, NULL);
}

void server_stop(struct server *srv)
{
	if (!srv)
		return;
	if (srv->ctx) {
		const struct config *cfg = srv->app->cfg;
		int closed = stop_listening(srv);
		int left = drain(srv, cfg->request_timeout_ms + cfg->db_statement_timeout_ms +
					      cfg->db_connect_timeout_s * 1000);
		log_info("http: listening sockets closed=%d, requests still in flight=%d", closed,
			 left);
		mg_stop(srv->ctx);
	}
	stop_watchdog(srv);
	mg_exit_library();
	tls_compat_close(srv->tls_compat);
	free(srv->slots);
	pthread_cond_destroy(&srv->wake);
	pthread_cond_destroy(&srv->idle);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}
