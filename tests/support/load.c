/* tests/support/load.c: producer threads for the fault tests (see load.h). */
#include "support/load.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "support/http.h"
#include "support/server.h"
#include "support/testdb.h"

#define LOAD_MAX_PRODUCERS 16

struct load {
	struct load_options opt;
	atomic_int next; /* the next event number to hand out */
	atomic_int status[LOAD_MAX_EVENTS];
	atomic_int requests, answers_503, retry_after;
	atomic_bool stop;
	pthread_t threads[LOAD_MAX_PRODUCERS];
	int nthreads;
};

struct producer {
	struct load *load;
	int index;
};

char *load_event(const char *source, int i)
{
	struct buf b = BUF_INIT(0);

	buf_printf(&b,
	           "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"%d\",\"source\":\"%s\","
	           "\"type\":\"dev.cdevents.pipelinerun.queued.0.2.0\","
	           "\"timestamp\":\"2026-03-01T10:00:00Z\"},\"subject\":{\"id\":\"run-%d\","
	           "\"content\":{\"pipelineName\":\"%s\",\"uri\":\"/p\"}}}",
	           i, source, i, source);
	return buf_detach(&b, NULL);
}

void load_batch(struct buf *b, const char *source, int first, int n)
{
	buf_putc(b, '[');
	for (int i = first; i < first + n; i++) {
		char *ev = load_event(source, i);
		buf_printf(b,
		           "%s{\"specversion\":\"1.0\",\"id\":\"%d\",\"source\":\"%s\","
		           "\"type\":\"dev.cdevents.pipelinerun.queued.0.2.0\",\"data\":%s}",
		           i > first ? "," : "", i, source, ev);
		free(ev);
	}
	buf_putc(b, ']');
}

/* POST body with the given media type, one connection; an HTTP status or LOAD_NO_*. */
static int post(struct load *l, int port, const char *type, const struct buf *body, bool *duplicate)
{
	struct buf req = BUF_INIT(0);
	struct http_response r = {0};
	char value[32];
	int fd = http_open(port), status = LOAD_NO_CONNECTION;

	if (fd < 0)
		return status;
	buf_printf(&req,
	           "POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: "
	           "close\r\n" TEST_TOKEN_HEADER "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
	           port, type, body->len);
	buf_append(&req, body->data, body->len);
	http_send_all(fd, req.data, req.len);
	status = http_read_response(fd, &r);
	close(fd);
	if (status == 503)
		atomic_fetch_add(&l->answers_503, 1);
	if (status == 503 && http_header(&r, "Retry-After", value, sizeof value))
		atomic_fetch_add(&l->retry_after, 1);
	if (duplicate)
		*duplicate = strstr(r.body, "\"duplicates\":1") != NULL;
	http_response_release(&r);
	buf_release(&req);
	return status;
}

/* Send events first..first+n-1 in one request (bare when n is 1); record the outcome. */
static void send_events(struct load *l, int first, int n, bool as_batch)
{
	struct buf body = BUF_INIT(0);
	char *ev = NULL;

	if (as_batch) {
		load_batch(&body, l->opt.source, first, n);
	} else {
		ev = load_event(l->opt.source, first);
		buf_puts(&body, ev);
	}
	int status =
	    post(l, l->opt.port,
	         as_batch ? "application/cloudevents-batch+json" : "application/json", &body, NULL);
	for (int i = first; i < first + n; i++)
		atomic_store(&l->status[i], status);
	atomic_fetch_add(&l->requests, 1);
	free(ev);
	buf_release(&body);
	if (status != 202)
		nanosleep(&(struct timespec){.tv_nsec = l->opt.pause_ms * 1000000L}, NULL);
}

static void *producer_main(void *arg)
{
	struct producer *p = arg;
	struct load *l = p->load;
	bool batches = p->index % 2 == 1;
	int n = batches ? l->opt.batch : 1;

	while (!atomic_load(&l->stop)) {
		int first = atomic_fetch_add(&l->next, n);
		if (first + n > l->opt.max_events) {
			atomic_fetch_sub(&l->next, n);
			break;
		}
		send_events(l, first, n, batches);
	}
	free(p);
	return NULL;
}

struct load *load_start(const struct load_options *opt)
{
	struct load *l = xcalloc(1, sizeof *l);

	l->opt = *opt;
	if (l->opt.max_events > LOAD_MAX_EVENTS)
		l->opt.max_events = LOAD_MAX_EVENTS;
	for (int i = 0; i < LOAD_MAX_EVENTS; i++)
		atomic_init(&l->status[i], LOAD_UNSENT);
	for (int i = 0; i < opt->producers && i < LOAD_MAX_PRODUCERS; i++) {
		struct producer *p = xcalloc(1, sizeof *p);
		*p = (struct producer){l, i};
		if (pthread_create(&l->threads[l->nthreads], NULL, producer_main, p) != 0)
			abort();
		l->nthreads++;
	}
	return l;
}

void load_join(struct load *l)
{
	for (int i = 0; i < l->nthreads; i++)
		pthread_join(l->threads[i], NULL);
	l->nthreads = 0;
}

void load_stop(struct load *l)
{
	atomic_store(&l->stop, true);
	load_join(l);
}

void load_free(struct load *l)
{
	if (!l)
		return;
	load_stop(l);
	free(l);
}

void load_count(struct load *l, struct load_counts *out)
{
	int n = atomic_load(&l->next);

	*out = (struct load_counts){.requests = atomic_load(&l->requests),
	                            .answers_503 = atomic_load(&l->answers_503),
	                            .retry_after = atomic_load(&l->retry_after)};
	for (int i = 0; i < n; i++) {
		int s = load_status(l, i);
		if (s == LOAD_UNSENT) /* handed out, request not finished yet */
			continue;
		out->events++;
		out->acked += s == 202;
		out->refused += s == 503;
		out->no_response += s == LOAD_NO_RESPONSE;
		out->no_connection += s == LOAD_NO_CONNECTION;
		out->other +=
		    s != 202 && s != 503 && s != LOAD_NO_RESPONSE && s != LOAD_NO_CONNECTION;
	}
}

int load_wait(struct load *l, int acked, int timeout_s)
{
	struct load_counts c;

	for (int i = 0;; i++) {
		load_count(l, &c);
		if (c.acked >= acked || i >= timeout_s * 20)
			return c.acked;
		nanosleep(&(struct timespec){.tv_nsec = 50000000}, NULL);
	}
}

int load_status(struct load *l, int i)
{
	return atomic_load(&l->status[i]);
}

int load_resend(struct load *l, int port, int i, bool *duplicate)
{
	struct buf body = BUF_INIT(0);
	char *ev = load_event(l->opt.source, i);

	buf_puts(&body, ev);
	int status = post(l, port, "application/json", &body, duplicate);
	free(ev);
	buf_release(&body);
	return status;
}

long load_missing_acked(struct load *l, const char *db_url)
{
	static const char sql[] =
	    "SELECT count(*) FROM unnest($2::text[]) AS a(id) WHERE NOT EXISTS "
	    "(SELECT 1 FROM events e WHERE e.source = $1 AND e.id = a.id)";
	struct buf ids = BUF_INIT(0);
	int n = atomic_load(&l->next);

	buf_putc(&ids, '{');
	for (int i = 0; i < n; i++)
		if (load_status(l, i) == 202)
			buf_printf(&ids, "%s%d", ids.len > 1 ? "," : "", i);
	buf_putc(&ids, '}');
	long missing = testdb_long(db_url, sql, 2, (const char *const[]){l->opt.source, ids.data});
	buf_release(&ids);
	return missing;
}

int load_resend_unacknowledged(struct load *l, int port)
{
	int n = atomic_load(&l->next), had = 0;

	for (int i = 0; i < n; i++) {
		bool duplicate = false;
		int status = load_status(l, i);
		for (int tries = 0; status != 202 && tries < 50; tries++) {
			if (tries)
				nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
			status = load_resend(l, port, i, &duplicate);
			had += status == 202 && duplicate;
		}
		if (status != 202)
			fail_msg("re-sent event %d got %d", i, status);
	}
	return had;
}

long load_stored(const char *db_url, const char *source, bool distinct)
{
	return testdb_long(db_url,
	                   distinct ? "SELECT count(DISTINCT id) FROM events WHERE source = $1"
	                            : "SELECT count(*) FROM events WHERE source = $1",
	                   1, (const char *const[]){source});
}
