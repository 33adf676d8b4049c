/*
 * tests/support/pgproxy.c: a relay from loopback TCP to PostgreSQL's Unix socket (see
 * pgproxy.h). One thread polls the listening socket, a pipe the test thread writes to when it
 * changes the mode, and both ends of every relayed connection. PostgreSQL's messages are
 * small, so a blocking write to the other end is enough.
 */
#include "support/pgproxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/xalloc.h"
#include "support/http.h"

#define PGPROXY_MAX 64 /* connections, relayed or silent */

struct pgproxy {
	char path[108];
	int listen_fd, port;
	int wake[2]; /* test thread -> relay thread */
	int ack[2];  /* relay thread -> test thread: mode change done */
	atomic_bool silent, stop;
	atomic_int accepted;
	int client[PGPROXY_MAX];   /* -1: free */
	int upstream[PGPROXY_MAX]; /* -1: a silent connection (never answered) */
	pthread_t thread;
};

static int connect_upstream(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void drop(struct pgproxy *p, int i)
{
	close(p->client[i]);
	if (p->upstream[i] >= 0)
		close(p->upstream[i]);
	p->client[i] = p->upstream[i] = -1;
}

static void take_connection(struct pgproxy *p)
{
	int fd = accept(p->listen_fd, NULL, NULL), i = 0;

	if (fd < 0)
		return;
	atomic_fetch_add(&p->accepted, 1);
	while (i < PGPROXY_MAX && p->client[i] >= 0)
		i++;
	if (i == PGPROXY_MAX) {
		close(fd);
		return;
	}
	p->client[i] = fd;
	p->upstream[i] = -1;
	if (!atomic_load(&p->silent) && (p->upstream[i] = connect_upstream(p->path)) < 0)
		drop(p, i);
}

/* Move what `from` has to `to`; false when either end is closed. */
static bool relay(int from, int to)
{
	char buf[65536];
	ssize_t n = read(from, buf, sizeof buf);

	return n > 0 && http_send_all(to, buf, (size_t)n);
}

/* Both directions of one relayed pair, as poll found them; false when one end closed. */
static bool relay_pair(const struct pollfd *pair)
{
	return (!pair[0].revents || relay(pair[0].fd, pair[1].fd)) &&
	       (!pair[1].revents || relay(pair[1].fd, pair[0].fd));
}

/* Poll set: [0] wake pipe, [1] listening socket, then both ends of each relayed pair. */
static int poll_set(struct pgproxy *p, struct pollfd *fds, int *slot)
{
	int n = 2;

	fds[0] = (struct pollfd){.fd = p->wake[0], .events = POLLIN};
	fds[1] = (struct pollfd){.fd = p->listen_fd, .events = POLLIN};
	for (int i = 0; i < PGPROXY_MAX; i++) {
		if (p->client[i] < 0 || p->upstream[i] < 0)
			continue; /* free, or silent: never read */
		slot[n] = i;
		fds[n++] = (struct pollfd){.fd = p->client[i], .events = POLLIN};
		slot[n] = i;
		fds[n++] = (struct pollfd){.fd = p->upstream[i], .events = POLLIN};
	}
	return n;
}

static void mode_changed(struct pgproxy *p)
{
	char c;

	if (read(p->wake[0], &c, 1) != 1)
		return;
	bool silent = atomic_load(&p->silent);

	for (int i = 0; i < PGPROXY_MAX; i++) /* going silent: relayed ones; back: silent ones */
		if (p->client[i] >= 0 && (p->upstream[i] >= 0) == silent)
			drop(p, i);
	if (write(p->ack[1], "x", 1) != 1)
		abort();
}

static void *relay_main(void *arg)
{
	struct pgproxy *p = arg;
	struct pollfd fds[2 + 2 * PGPROXY_MAX];
	int slot[2 + 2 * PGPROXY_MAX];

	while (!atomic_load(&p->stop)) {
		int n = poll_set(p, fds, slot);
		if (poll(fds, (nfds_t)n, 100) <= 0)
			continue;
		for (int k = 2; k < n; k += 2) {
			int i = slot[k];
			if (!relay_pair(&fds[k]))
				drop(p, i);
		}
		if (fds[0].revents)
			mode_changed(p);
		if (fds[1].revents & POLLIN)
			take_connection(p);
	}
	return NULL;
}

struct pgproxy *pgproxy_start(const char *socket_path)
{
	struct pgproxy *p = xcalloc(1, sizeof *p);
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t len = sizeof addr;

	snprintf(p->path, sizeof p->path, "%s", socket_path);
	for (int i = 0; i < PGPROXY_MAX; i++)
		p->client[i] = p->upstream[i] = -1;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(p->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
	    listen(p->listen_fd, 64) != 0 ||
	    getsockname(p->listen_fd, (struct sockaddr *)&addr, &len) != 0 || pipe(p->wake) != 0 ||
	    pipe(p->ack) != 0)
		fail_msg("pgproxy: could not listen on 127.0.0.1");
	p->port = ntohs(addr.sin_port);
	if (pthread_create(&p->thread, NULL, relay_main, p) != 0)
		abort();
	return p;
}

int pgproxy_port(const struct pgproxy *p)
{
	return p->port;
}

int pgproxy_accepted(struct pgproxy *p)
{
	return atomic_load(&p->accepted);
}

void pgproxy_set_silent(struct pgproxy *p, bool silent)
{
	char c;

	atomic_store(&p->silent, silent);
	if (write(p->wake[1], "x", 1) != 1 || read(p->ack[0], &c, 1) != 1)
		fail_msg("pgproxy: the relay thread did not answer");
}

void pgproxy_free(struct pgproxy *p)
{
	if (!p)
		return;
	atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
	for (int i = 0; i < PGPROXY_MAX; i++)
		if (p->client[i] >= 0)
			drop(p, i);
	close(p->listen_fd);
	close(p->wake[0]);
	close(p->wake[1]);
	close(p->ack[0]);
	close(p->ack[1]);
	free(p);
}
