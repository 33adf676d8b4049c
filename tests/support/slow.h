#ifndef TESTS_SUPPORT_SLOW_H
#define TESTS_SUPPORT_SLOW_H
/*
 * Slow and stalled clients for the fault tests: one request sent from its own thread, the
 * first `at_once` bytes at once, then the rest up to `send` bytes in `pieces` equal pieces
 * (the last may be shorter) `gap_ms` apart, stopping early if the server answers or closes
 * the connection; then the client waits for the answer (a client that stalls sends less
 * than the whole request and never the rest). Each request uses its own connection.
 * Threads: slow_start() and slow_join() from the test thread.
 */
#include <pthread.h>
#include <stddef.h>

struct buf;

struct slow_request {
	int port;
	char *bytes; /* the whole request (owned; slow_release() frees it) */
	size_t len;
	size_t at_once; /* sent at once: the request line and headers, by slow_post_init() */
	size_t send;    /* bytes sent at all: len, by slow_post_init() */
	int pieces;     /* the bytes after at_once, up to send, in this many pieces ... */
	int gap_ms;     /* ... this far apart */
	/* results, after slow_join() */
	int connected;  /* 0: the connection was refused */
	int status;     /* the answer's status; 0 when the connection ended without one */
	double seconds; /* from the start until the answer or the end of the connection */
	pthread_t thread;
};

/* A POST /api/v1/events of `body` with the test token; everything at once, one piece. */
void slow_post_init(struct slow_request *r, int port, const char *content_type,
                    const struct buf *body);
/* slow_post_init() of event `id` of `source` (load_event(), tests/support/load.h), bare. */
void slow_event_init(struct slow_request *r, int port, const char *source, int id);
/* A request of raw bytes (e.g. headers that never end), sent byte by byte. */
void slow_raw_init(struct slow_request *r, int port, const char *bytes, int gap_ms);
void slow_start(struct slow_request *r);
void slow_join(struct slow_request *r);
void slow_release(struct slow_request *r); /* zeroed: no-op */

#endif
