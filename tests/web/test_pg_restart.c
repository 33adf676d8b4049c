/*
 * tests/web/test_pg_restart.c: PostgreSQL crashes (immediate shutdown) and restarts while a
 * producer keeps sending. Every event acknowledged with 202 must be stored exactly once;
 * requests during the outage get 503 with Retry-After; the server recovers by itself; a
 * producer that retries its 503s (and any request that got no response) ends with every event
 * stored exactly once.
 * Runs serially (it restarts the shared test server, TEST_PG_DIR).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/buf.h"
#include "support/http.h"
#include "support/server.h"
#include "support/testdb.h"
#include "web/ingest_helpers.h"

#define MAX_EVENTS 20000

static struct test_server srv;
static int status_of[MAX_EVENTS];
static atomic_int sent, acked, refused;
static atomic_bool stop;
static atomic_int retry_after_seen;

static char *event_json(int i)
{
	struct buf b = BUF_INIT(0);

	buf_printf(&b, "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"ev-%d\",\"source\":\"/restart\","
		       "\"type\":\"dev.cdevents.pipelinerun.queued.0.2.0\",\"timestamp\":\"2026-03-01T10:00:00Z\"},"
		       "\"subject\":{\"id\":\"run-%d\",\"content\":{\"pipelineName\":\"p\",\"uri\":\"/p\"}}}",
		   i, i);
	return buf_detach(&b, NULL);
}

static int send_event(int i)
{
	struct http_response r;
	char *ev = event_json(i);
	char ra[16];
	int status = post_event(srv.port, MODE_BARE, ev, &r);

	if (status == 503 && http_header(&r, "Retry-After", ra, sizeof ra))
		atomic_fetch_add(&retry_after_seen, 1);
	http_response_release(&r);
	free(ev);
	return status;
}

static void *producer(void *arg)
{
	(void)arg;
	for (int i = 0; i < MAX_EVENTS && !atomic_load(&stop); i++) {
		status_of[i] = send_event(i);
		atomic_fetch_add(&sent, 1);
		if (status_of[i] == 202)
			atomic_fetch_add(&acked, 1);
		else if (status_of[i] == 503)
			atomic_fetch_add(&refused, 1);
		if (status_of[i] != 202) /* back off, as a producer honouring Retry-After would */
			nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
	}
	return NULL;
}

static int no_response(void)
{
	int n = 0;

	for (int i = 0; i < atomic_load(&sent); i++)
		n += status_of[i] == 0;
	return n;
}

static void wait_for_acks(int target)
{
	for (int i = 0; i < 600 && atomic_load(&acked) < target; i++)
		nanosleep(&(struct timespec){.tv_nsec = 50000000}, NULL);
	assert_true(atomic_load(&acked) >= target);
}

static void restart_loses_no_acknowledged_event(void **state)
{
	(void)state;
	char cmd[1024];
	const char *pgdir = getenv("TEST_PG_DIR");
	char *url = testdb_create("pg_restart");
	pthread_t thread;

	if (!pgdir)
		fail_msg("TEST_PG_DIR is not set: run the tests with scripts/test.sh");
	test_server_start(&srv, url, (const char *const[]){"--log-level=error", NULL});
	pthread_create(&thread, NULL, producer, NULL);
	wait_for_acks(200);
	snprintf(cmd, sizeof cmd, "%s/scripts/pg.sh restart '%s' 2", CDLENS_SOURCE_DIR, pgdir);
	assert_int_equal(system(cmd), 0);
	int before = atomic_load(&acked);
	wait_for_acks(before + 200); /* recovered by itself */
	atomic_store(&stop, true);
	pthread_join(thread, NULL);

	int n = atomic_load(&sent), ok = 0;
	assert_true(atomic_load(&refused) > 0);             /* the outage was seen ... */
	assert_int_equal(atomic_load(&retry_after_seen), atomic_load(&refused)); /* ... as 503 + Retry-After */
	assert_int_equal(atomic_load(&acked) + atomic_load(&refused), atomic_load(&sent) - no_response());
	for (int i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof id, "ev-%d", i);
		long stored = testdb_long(url, "SELECT count(*) FROM events WHERE source = '/restart' AND id = $1",
					  1, (const char *const[]){id});
		if (status_of[i] == 202 && stored != 1)
			fail_msg("acknowledged event %s stored %ld times", id, stored);
		/* 0: no response at all (connection level); like a 503, it is not an acknowledgement */
		if (status_of[i] != 202 && status_of[i] != 503 && status_of[i] != 0)
			fail_msg("event %s got status %d (expected 202 or 503)", id, status_of[i]);
		ok += status_of[i] == 202;
	}
	/* the producer retries what was refused; then everything is stored exactly once */
	for (int i = 0; i < n; i++)
		if (status_of[i] != 202)
			assert_int_equal(send_event(i), 202);
	assert_int_equal(testdb_long(url, "SELECT count(*) FROM events", 0, NULL), n);
	assert_int_equal(testdb_long(url, "SELECT count(DISTINCT id) FROM events", 0, NULL), n);
	print_message("sent %d events, %d acknowledged first time, %d refused with 503 during the "
		      "outage, 0 lost\n", n, ok, n - ok);
	assert_int_equal(test_server_stop(&srv), 0);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(restart_loses_no_acknowledged_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
