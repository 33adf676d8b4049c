/*
 * ingest/committer.c: the group-commit queue and its threads (see committer.h for the picture).
 *
 * Invariants:
 *   - a job is on the queue until a committer takes it; after that only that committer
 *     touches it until it sets job->done under the lock and signals job->cond.
 *   - committers take whole jobs, never splitting one request across transactions, so a
 *     batch request is atomic.
 *   - when a group fails for a data reason (not a connection loss), each job is retried in a
 *     transaction of its own, so one bad request cannot fail its neighbours.
 * Shutdown: committer_free() sets `stopping`; threads drain the queue before exiting.
 */
#include "ingest/committer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "sql/db.h"
#include "sql/event_store.h"

/* After a failed connection attempt, fail fast for this long before trying again. */
#define COMMITTER_RECONNECT_US 250000

struct job {
	const struct ingest_batch *batch;
	struct job *next;
	pthread_cond_t cond;
	bool done;
	enum status status;
	size_t accepted, duplicates;
	struct err err;
};

struct committer {
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct job *head, *tail;
	size_t queued_events, max_events;
	bool stopping;
	char *db_url;
	int nthreads;
	pthread_t *threads;
	struct committer_stats stats;
};

/* Take whole jobs from the queue head, up to max_events (always at least one job). */
static struct job *take_jobs(struct committer *c)
{
	struct job *first = c->head, *last = NULL;
	size_t events = 0;

	for (struct job *j = c->head; j; j = j->next) {
		if (last && events + j->batch->n > c->max_events)
			break;
		events += j->batch->n;
		last = j;
	}
	c->head = last->next;
	if (!c->head)
		c->tail = NULL;
	last->next = NULL;
	c->queued_events -= events;
	return first;
}

/* One transaction for the jobs in the list: the group insert is a single statement, so in
 * autocommit it is its own transaction, committed when the statement returns; no BEGIN and
 * COMMIT round trips are needed. */
static enum status write_group(struct db_conn *conn, struct job *jobs, struct err *err)
{
	size_t n = 0, pos = 0;
	enum status st;

	for (struct job *j = jobs; j; j = j->next)
		n += j->batch->n;
	struct event *evs = xmalloc(n * sizeof *evs);
	bool *inserted = xcalloc(n, sizeof *inserted);
	for (struct job *j = jobs; j; j = j->next)
		for (size_t i = 0; i < j->batch->n; i++)
			evs[pos++] = j->batch->events[i];
	st = event_store_insert(conn, evs, n, inserted, err);
	pos = 0;
	for (struct job *j = jobs; j; j = j->next) {
		j->accepted = j->duplicates = 0;
		for (size_t i = 0; i < j->batch->n; i++)
			*(inserted[pos++] ? &j->accepted : &j->duplicates) += 1;
	}
	free(inserted);
	free(evs);
	return st;
}

static void set_status(struct job *jobs, enum status st, const struct err *err)
{
	for (struct job *j = jobs; j; j = j->next) {
		j->status = st;
		j->err = *err;
	}
}

/* Write a group; on a data error, isolate the bad request by retrying each job alone. */
static void commit_jobs(struct db_conn *conn, struct job *jobs)
{
	struct err err = {0};
	enum status st = write_group(conn, jobs, &err);

	if (st == ST_OK || st == ST_UNAVAILABLE || !jobs->next) {
		if (st != ST_OK)
			db_conn_ensure(conn, &(struct err){0});
		set_status(jobs, st, &err);
		return;
	}
	log_warn("group commit failed, retrying requests one by one: %s (%s)", err.msg, err.detail);
	db_conn_ensure(conn, &(struct err){0});
	for (struct job *j = jobs; j; j = j->next) {
		struct job *next = j->next;
		j->next = NULL;
		commit_jobs(conn, j);
		j->next = next;
	}
}

/* A usable connection, or NULL with err set; rate-limits reconnection attempts. */
static struct db_conn *connection(struct committer *c, struct db_conn **conn,
				  int64_t *last_failure, struct err *err)
{
	if (*conn && db_conn_ok(*conn))
		return *conn;
	if (clock_mono_us() - *last_failure < COMMITTER_RECONNECT_US) {
		err_set(err, ST_UNAVAILABLE, "the database is unavailable");
		return NULL;
	}
	if (*conn && db_conn_ensure(*conn, err) == ST_OK)
		return *conn;
	if (!*conn && (*conn = db_connect(c->db_url, err)))
		return *conn;
	*last_failure = clock_mono_us();
	log_warn("committer cannot reach the database: %s (%s)", err->msg, err->detail);
	return NULL;
}

static void finish_jobs(struct committer *c, struct job *jobs)
{
	pthread_mutex_lock(&c->lock);
	for (struct job *j = jobs, *next; j; j = next) {
		next = j->next;
		if (j->status == ST_OK) {
			c->stats.accepted += j->accepted;
			c->stats.duplicates += j->duplicates;
		}
		j->done = true;
		pthread_cond_signal(&j->cond);
	}
	pthread_mutex_unlock(&c->lock);
}

static void *committer_main(void *arg)
{
	struct committer *c = arg;
	struct db_conn *conn = NULL;
	int64_t last_failure = -COMMITTER_RECONNECT_US;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->head && !c->stopping)
			pthread_cond_wait(&c->work, &c->lock);
		if (!c->head)
			break;
		struct job *jobs = take_jobs(c);
		pthread_mutex_unlock(&c->lock);

		struct err err = {0};
		if (connection(c, &conn, &last_failure, &err))
			commit_jobs(conn, jobs);
		else
			set_status(jobs, ST_UNAVAILABLE, &err);
		bool ok = jobs->status != ST_UNAVAILABLE;
		if (!ok) { /* libpq may still call a dead session OK: start a fresh one next time */
			db_disconnect(conn);
			conn = NULL;
		}
		pthread_mutex_lock(&c->lock);
		c->stats.transactions++;
		c->stats.failed_transactions += jobs->status != ST_OK;
		c->stats.db_ok = ok;
		pthread_mutex_unlock(&c->lock);
		finish_jobs(c, jobs);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	db_disconnect(conn);
	return NULL;
}

struct committer *committer_new(const char *db_url, int threads, size_t max_events)
{
	struct committer *c = xcalloc(1, sizeof *c);

	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->work, NULL);
	c->db_url = xstrdup(db_url);
	c->max_events = max_events;
	c->nthreads = threads;
	c->stats.db_ok = true;
	c->threads = xcalloc((size_t)threads, sizeof *c->threads);
	for (int i = 0; i < threads; i++)
		if (pthread_create(&c->threads[i], NULL, committer_main, c) != 0)
			abort();
	return c;
}

void committer_free(struct committer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_broadcast(&c->work);
	pthread_mutex_unlock(&c->lock);
	for (int i = 0; i < c->nthreads; i++)
		pthread_join(c->threads[i], NULL);
	free(c->threads);
	free(c->db_url);
	pthread_cond_destroy(&c->work);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

enum status committer_submit(struct committer *c, const struct ingest_batch *batch,
			     size_t *accepted, size_t *duplicates, struct err *err)
{
	struct job job = {.batch = batch};

	*accepted = *duplicates = 0;
	if (batch->n == 0)
		return ST_OK;
	pthread_cond_init(&job.cond, NULL);
	pthread_mutex_lock(&c->lock);
	if (c->tail)
		c->tail->next = &job;
	else
		c->head = &job;
	c->tail = &job;
	c->queued_events += batch->n;
	pthread_cond_signal(&c->work);
	while (!job.done)
		pthread_cond_wait(&job.cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	pthread_cond_destroy(&job.cond);
	if (job.status != ST_OK) {
		*err = job.err;
		return job.status;
	}
	*accepted = job.accepted;
	*duplicates = job.duplicates;
	return ST_OK;
}

void committer_stats(struct committer *c, struct committer_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	out->queued_events = c->queued_events;
	pthread_mutex_unlock(&c->lock);
}
