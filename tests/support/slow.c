/* tests/support/slow.c: requests sent slowly from their own threads (see slow.h). */
#include "support/slow.h"

#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/xalloc.h"
#include "support/http.h"
#include "support/load.h"
#include "support/server.h"

void slow_post_init(struct slow_request *r, int port, const char *content_type,
                    const struct buf *body)
{
	struct buf b = BUF_INIT(0);

	buf_printf(&b,
	           "POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: "
	           "close\r\n" TEST_TOKEN_HEADER "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
	           port, content_type, body->len);
	*r = (struct slow_request){.port = port, .at_once = b.len, .pieces = 1};
	buf_append(&b, body->data, body->len);
	r->bytes = buf_detach(&b, &r->len);
	r->send = r->len;
}

void slow_event_init(struct slow_request *r, int port, const char *source, int id)
{
	struct buf body = BUF_INIT(0);
	char *ev = load_event(source, id);

	buf_puts(&body, ev);
	slow_post_init(r, port, "application/json", &body);
	free(ev);
	buf_release(&body);
}

void slow_raw_init(struct slow_request *r, int port, const char *bytes, int gap_ms)
{
	*r = (struct slow_request){
	    .port = port, .bytes = xstrdup(bytes), .len = strlen(bytes), .gap_ms = gap_ms};
	r->send = r->pieces = (int)r->len;
}

/* Wait gap_ms; whether the server answered or closed the connection meanwhile. */
static bool server_spoke(int fd, int gap_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, gap_ms) != 0;
}

static void *slow_main(void *arg)
{
	struct slow_request *r = arg;
	struct http_response resp = {0};
	int64_t t0 = clock_mono_us();
	int fd = http_open(r->port);
	size_t off = r->at_once, rest = r->send - r->at_once;

	r->connected = fd >= 0;
	if (fd < 0)
		return NULL;
	size_t piece = r->pieces > 0 ? (rest + (size_t)r->pieces - 1) / (size_t)r->pieces : rest;
	bool ok = http_send_all(fd, r->bytes, r->at_once);
	while (ok && off < r->send && !server_spoke(fd, r->gap_ms)) {
		size_t n = r->send - off < piece ? r->send - off : piece;
		ok = http_send_all(fd, r->bytes + off, n);
		off += n;
	}
	r->status = http_read_response(fd, &resp);
	r->seconds = (double)(clock_mono_us() - t0) / 1e6;
	http_response_release(&resp);
	close(fd);
	return NULL;
}

void slow_start(struct slow_request *r)
{
	if (pthread_create(&r->thread, NULL, slow_main, r) != 0)
		abort();
}

void slow_join(struct slow_request *r)
{
	pthread_join(r->thread, NULL);
}

void slow_release(struct slow_request *r)
{
	free(r->bytes);
	memset(r, 0, sizeof *r);
}
