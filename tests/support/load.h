#ifndef TESTS_SUPPORT_LOAD_H
#define TESTS_SUPPORT_LOAD_H
/*
 * Producers for the fault tests. Threads send numbered CDEvents to a cdlens server, one
 * request per connection: even-numbered producers one bare event per request, odd-numbered
 * ones batches of `batch` structured CloudEvents. Event n is a pipelinerun.queued with
 * context.id "n", context.source and pipelineName = `source`, subject "run-n"; each event is
 * sent once, and what its request got is recorded, so a test can hold the database to it.
 * Threads: load_start() / load_stop() / load_free() from the test thread; the getters may be
 * called while producers run (they read atomics).
 */
#include <stdbool.h>

#define LOAD_MAX_EVENTS 100000
/* load_status() values besides HTTP statuses */
#define LOAD_UNSENT (-2)        /* not handed to a request (yet) */
#define LOAD_NO_CONNECTION (-1) /* the connection was refused: certainly not stored */
#define LOAD_NO_RESPONSE 0      /* connected, sent (part of) it, no answer: outcome unknown */

struct load_options {
	int port;
	const char *source;
	int producers;  /* threads */
	int batch;      /* events per batch request (odd producers) */
	int max_events; /* at most LOAD_MAX_EVENTS */
	int pause_ms;   /* after a request that did not get 202, as a producer honouring
	                 * Retry-After would */
};

struct load_counts {
	int events; /* handed to a request */
	int requests;
	int acked;         /* events whose request got 202 */
	int refused;       /* events whose request got 503 */
	int no_response;   /* events whose request was sent but got no answer */
	int no_connection; /* events whose request found no server */
	int other;         /* events whose request got any other status */
	int answers_503;   /* requests answered 503 */
	int retry_after;   /* ... of which carried Retry-After */
};

struct load;

/* Start opt->producers threads. Ownership: copies *opt (source must outlive the load). */
struct load *load_start(const struct load_options *opt);
/* Stop the producers (each finishes its current request) and join them. */
void load_stop(struct load *l);
/* Wait for the producers to send all max_events (they are not stopped). */
void load_join(struct load *l);
void load_free(struct load *l); /* NULL: no-op; stops first */
/* Wait until at least `acked` events are acknowledged, or timeout_s; returns the count. */
int load_wait(struct load *l, int acked, int timeout_s);
void load_count(struct load *l, struct load_counts *out);
/* What the request carrying event i got: an HTTP status or one of LOAD_*. */
int load_status(struct load *l, int i);
/* Send event i again, alone (bare), to `port`; returns the status; on 202, *duplicate
 * says whether the server already had it. */
int load_resend(struct load *l, int port, int i, bool *duplicate);
/* Re-send every event whose request did not get 202, alone (bare), to `port`, as a producer
 * does: again after a 503 (a committer learns that its connection broke from the next
 * statement on it), up to 50 times 100 ms apart. Fails the test if one never gets 202.
 * Returns how many the server already had (stored although their request got no 202). */
int load_resend_unacknowledged(struct load *l, int port);
/* Rows (distinct: distinct ids) of `source` in the events table of `db_url`. */
long load_stored(const char *db_url, const char *source, bool distinct);
/* Acknowledged events missing from the events table of `db_url` (one query). */
long load_missing_acked(struct load *l, const char *db_url);
/* The CDEvent JSON of event i for `source` (malloc'ed). */
char *load_event(const char *source, int i);
/* Append events first..first+n-1 as a JSON array of structured CloudEvents. */
struct buf;
void load_batch(struct buf *b, const char *source, int first, int n);

#endif
