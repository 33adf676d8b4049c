/*
 * tests/web/test_faults_slow.c: slow and stalled clients (label db, runs serially: it
 * measures times). One server with --http-threads=4 --max-connections=4
 * --request-timeout-ms=1000 (T):
 *   - each kind of slow client is dropped after about T: headers sent byte by byte and never
 *     finished, a body that stops, a body trickled a byte at a time, an idle kept-alive
 *     connection; nothing of theirs is stored;
 *   - with every worker held by stalled clients (three times as many as workers), a normal
 *     request waits, and is served once the timeouts have freed the workers: the stalled
 *     clients go in waves of --http-threads, each wave held at most 2 T, so the wait is at
 *     most (stalled / workers) x 2 T plus a margin;
 *   - a GET answered without reading its announced body closes its connection: a client
 *     trickling that body does not hold a worker;
 *   - connections beyond the workers and --max-connections are not accepted (their connect
 *     does not complete: the kernel drops the attempt, it does not refuse it), and the
 *     server serves again once the held ones are gone (on a second server whose T is long
 *     enough to keep them held while they are counted).
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/clock.h"
#include "support/http.h"
#include "support/load.h"
#include "support/server.h"
#include "support/slow.h"
#include "support/testdb.h"

#define SOURCE "/faults/slow"
#define T_MS 1000
#define WORKERS 4
#define QUEUE 4
#define SLOWLORIS "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"

static char *url;
static struct test_server srv;

static double since(int64_t t0)
{
	return (double)(clock_mono_us() - t0) / 1e6;
}

static void bare_event(struct slow_request *r, int id)
{
	slow_event_init(r, srv.port, SOURCE, id);
}

/* Headers byte by byte, 100 ms apart, never finished. */
static void slowloris(struct slow_request *r)
{
	slow_raw_init(r, srv.port, SLOWLORIS, 100);
}

/* Seconds until the server closes a kept-alive connection left idle after one request. */
static double idle_keep_alive(void)
{
	struct http_response r;
	char req[64];
	int fd = http_open(srv.port);

	snprintf(req, sizeof req, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(http_exchange(fd, req, strlen(req), &r), 200);
	http_response_release(&r);
	int64_t t0 = clock_mono_us();
	http_read_response(fd, &r); /* returns when the server closes */
	http_response_release(&r);
	close(fd);
	return since(t0);
}

/* Dropped after T; plus up to civetweb's 1 s lingering close when the client left part of
 * its body unsent (the server waits that long for it before closing). */
static void assert_dropped_after_timeout(const char *what, double seconds)
{
	print_message("%s: dropped after %.2f s\n", what, seconds);
	if (seconds < 0.9 * T_MS / 1000 || seconds > T_MS / 1000.0 + 2.5)
		fail_msg("%s: dropped after %.2f s, expected about %d ms", what, seconds, T_MS);
}

static void slow_clients_are_dropped_after_the_request_timeout(void **state)
{
	(void)state;
	struct slow_request r[3];

	slowloris(&r[0]);
	bare_event(&r[1], 1); /* the body stops after 10 bytes */
	r[1].send = r[1].at_once + 10;
	bare_event(&r[2], 2); /* the body comes a byte per 100 ms: 20 s for the whole */
	r[2].pieces = (int)(r[2].len - r[2].at_once);
	r[2].gap_ms = 100;
	for (int i = 0; i < 3; i++)
		slow_start(&r[i]);
	double keep_alive = idle_keep_alive();
	for (int i = 0; i < 3; i++)
		slow_join(&r[i]);
	assert_dropped_after_timeout("headers sent byte by byte", r[0].seconds);
	assert_dropped_after_timeout("body stopped after 10 bytes", r[1].seconds);
	assert_dropped_after_timeout("body trickled a byte per 100 ms", r[2].seconds);
	assert_dropped_after_timeout("idle kept-alive connection", keep_alive);
	for (int i = 0; i < 3; i++) {
		assert_int_not_equal(r[i].status, 202);
		slow_release(&r[i]);
	}
	assert_int_equal(testdb_long(url, "SELECT count(*) FROM events", 0, NULL), 0);
}

static void a_normal_request_is_served_once_timeouts_free_the_workers(void **state)
{
	(void)state;
	enum { STALLED = 3 * WORKERS };
	struct slow_request stalled[STALLED], normal;

	bare_event(&normal, 10);
	slow_start(&normal);
	slow_join(&normal);
	assert_int_equal(normal.status, 202);
	double idle_s = normal.seconds;
	slow_release(&normal);

	for (int i = 0; i < STALLED; i++) {
		slowloris(&stalled[i]);
		stalled[i].send = 20; /* then nothing more, ever */
		slow_start(&stalled[i]);
	}
	nanosleep(&(struct timespec){.tv_nsec = 300000000}, NULL); /* every worker is held */
	bare_event(&normal, 11);
	slow_start(&normal);
	slow_join(&normal);
	double last = 0;
	for (int i = 0; i < STALLED; i++) {
		slow_join(&stalled[i]);
		assert_true(stalled[i].connected);
		assert_int_not_equal(stalled[i].status, 202);
		last = stalled[i].seconds > last ? stalled[i].seconds : last;
		slow_release(&stalled[i]);
	}
	/* civetweb counts T from when a worker takes a connection, and checks it when a read
	 * returns (a read waits up to T): a client that trickles its headers, then stops, holds
	 * a worker up to 2 T. The stalled clients go in waves of WORKERS. */
	double bound = STALLED / WORKERS * 2.0 * T_MS / 1000 + 2;
	print_message(
	    "%d stalled clients on %d workers: all dropped within %.2f s; a normal request "
	    "sent 0.3 s after them took %.2f s (%.3f s with none; bound %.1f s)\n",
	    STALLED, WORKERS, last, normal.seconds, idle_s, bound);
	assert_true(last <= bound);
	assert_int_equal(normal.status, 202);
	/* it did wait, for one wave of timeouts at least (it came 0.3 s after the first); how
	 * many depends on where the accept queues put it */
	assert_true(normal.seconds >= 0.5 * T_MS / 1000);
	assert_true(normal.seconds <= bound);
	slow_release(&normal);
}

/* ---- a body nobody reads ---- */

struct trickle {
	int fd[WORKERS];
	double closed_at[WORKERS]; /* seconds after the answers; 0: still open */
	int64_t t0;
	double run_s;
};

/* A byte every 200 ms on every connection until each is closed or run_s has passed. */
static void *trickle_main(void *arg)
{
	struct trickle *t = arg;

	while (since(t->t0) < t->run_s) {
		int open = 0;
		for (int i = 0; i < WORKERS; i++) {
			char c;
			if (t->closed_at[i] > 0)
				continue;
			ssize_t n = recv(t->fd[i], &c, 1, MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ||
			    send(t->fd[i], "x", 1, MSG_NOSIGNAL) < 0) {
				t->closed_at[i] = since(t->t0);
				continue;
			}
			open++;
		}
		if (!open)
			break;
		nanosleep(&(struct timespec){.tv_nsec = 200000000}, NULL);
	}
	return NULL;
}

/* A GET with a body (Content-Length: 100 MB) is answered without the body being read; the
 * client then trickles it. Kept alive, civetweb would read and discard the rest before the
 * next request, with no deadline but a byte within T: one such client per worker held the
 * server for as long as they trickled. Now the answer says Connection: close and the
 * connection closes; a normal request meanwhile is served at once. */
static void an_unread_body_does_not_hold_a_worker(void **state)
{
	(void)state;
	const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\nx";
	struct trickle t = {.run_s = 6};
	struct http_response r;
	pthread_t thread;

	for (int i = 0; i < WORKERS; i++) {
		t.fd[i] = http_open(srv.port);
		assert_true(t.fd[i] >= 0);
		assert_int_equal(http_exchange(t.fd[i], req, sizeof req - 1, &r), 200);
		assert_non_null(strstr(r.headers, "Connection: close"));
		http_response_release(&r);
	}
	t.t0 = clock_mono_us();
	assert_int_equal(pthread_create(&thread, NULL, trickle_main, &t), 0);
	nanosleep(&(struct timespec){.tv_nsec = 500000000}, NULL);
	int64_t t1 = clock_mono_us();
	assert_int_equal(http_request(srv.port, "GET", "/healthz", NULL, NULL, 0, &r), 200);
	double normal_s = since(t1);
	http_response_release(&r);
	pthread_join(thread, NULL);
	double last = 0;
	for (int i = 0; i < WORKERS; i++) {
		close(t.fd[i]);
		if (t.closed_at[i] == 0)
			fail_msg("connection %d still open after %.1f s of trickling", i, t.run_s);
		last = t.closed_at[i] > last ? t.closed_at[i] : last;
	}
	print_message("%d GETs trickling unread bodies: closed within %.2f s; a normal request "
		      "meanwhile took %.3f s\n", WORKERS, last, normal_s);
	assert_true(last < 2.5); /* the close, then civetweb's lingering of at most 1 s */
	assert_true(normal_s < 0.5 * T_MS / 1000);
}

/* Connect without blocking; the descriptor once the handshake completes within ms, else -1
 * with errno ETIMEDOUT (or the connection's error). */
static int connect_within(int port, int ms)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), err = ETIMEDOUT;
	socklen_t len = sizeof err;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0)
		return fd;
	if (errno == EINPROGRESS) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		if (poll(&p, 1, ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
		    err == 0)
			return fd;
	} else {
		err = errno;
	}
	close(fd);
	errno = err;
	return -1;
}

/* Its own server, with a request timeout long enough that idle connections stay held while
 * the test opens them one by one, each given 2.5 s (the kernel retries a dropped SYN after
 * 1 s), until one is not accepted. */
static void connections_beyond_the_limit_are_not_accepted(void **state)
{
	(void)state;
	enum {
		MOST = WORKERS + 2 * QUEUE + 2
	}; /* workers, civetweb's queue, listen backlog + 1,
	    * one in civetweb's hands */
	struct test_server held;
	char threads[32], queue[32];
	int fds[MOST + 1], accepted = 0;

	snprintf(threads, sizeof threads, "--http-threads=%d", WORKERS);
	snprintf(queue, sizeof queue, "--max-connections=%d", QUEUE);
	test_server_start(&held, url,
	                  (const char *const[]){threads, queue, "--request-timeout-ms=60000",
	                                        "--log-level=error", NULL});
	while (accepted <= MOST && (fds[accepted] = connect_within(held.port, 2500)) >= 0)
		accepted++;
	int refused = accepted <= MOST && errno == ECONNREFUSED;
	for (int i = 0; i < accepted; i++)
		close(fds[i]);
	print_message("idle connections with %d workers and --max-connections=%d: %d accepted "
	              "(at most %d expected), the next one not accepted within 2.5 s (%s)\n",
	              WORKERS, QUEUE, accepted, MOST,
	              refused ? "refused" : "no answer, not refused");
	assert_true(accepted >= WORKERS + QUEUE);
	assert_true(accepted <= MOST);
	assert_false(refused);

	struct slow_request normal; /* and the server serves again once they are gone */
	slow_event_init(&normal, held.port, SOURCE, 20);
	slow_start(&normal);
	slow_join(&normal);
	assert_int_equal(normal.status, 202);
	slow_release(&normal);
	assert_int_equal(test_server_stop(&held), 0);
}

static int setup(void **state)
{
	(void)state;
	char threads[32], queue[32], timeout[48];

	snprintf(threads, sizeof threads, "--http-threads=%d", WORKERS);
	snprintf(queue, sizeof queue, "--max-connections=%d", QUEUE);
	snprintf(timeout, sizeof timeout, "--request-timeout-ms=%d", T_MS);
	url = test_server_open(
	    &srv, "faults_slow",
	    (const char *const[]){threads, queue, timeout, "--log-level=error", NULL});
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_server_close(&srv, &url);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(slow_clients_are_dropped_after_the_request_timeout),
	    cmocka_unit_test(a_normal_request_is_served_once_timeouts_free_the_workers),
	    cmocka_unit_test(an_unread_body_does_not_hold_a_worker),
	    cmocka_unit_test(connections_beyond_the_limit_are_not_accepted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
