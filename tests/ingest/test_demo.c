/*
 * tests/ingest/test_demo.c: the demo history generator (ingest/demo.c), without a database.
 *
 * What is checked: the hard-coded type versions against the vendored conformance examples;
 * same seed, same bytes; the event count close to the request; every event valid through
 * envelope_parse() (bare, and in batches as demo_run() sends them); time order and the window;
 * the shape of the organisation (services, repositories, environments, incidents, rollbacks,
 * 0.4.1 share); the three purl spellings of one artifact canonicalising to one; the flags.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "correlate/purl.h"
#include "ingest/demo.h"
#include "ingest/envelope.h"
#include "support/fixture.h"

#define START_US INT64_C(1756684800000000) /* 2025-09-01T00:00:00Z */
#define DAY_US INT64_C(86400000000)

static struct demo_options options(long events, unsigned seed)
{
	struct demo_options opt;

	demo_options_init(&opt);
	opt.events = events;
	opt.seed = seed;
	opt.start_us = START_US;
	return opt;
}

static void generate(const struct demo_options *opt, struct demo_events *out)
{
	struct err err = {0};

	memset(out, 0, sizeof *out);
	if (demo_generate(opt, out, &err) != ST_OK)
		fail_msg("demo_generate: %s", err.msg);
}

/* The CDEvent of ev, parsed (caller deletes). */
static cJSON *parsed(const struct demo_options *opt, const struct demo_event *ev)
{
	struct buf b = BUF_INIT(0);

	demo_event_json(opt, ev, &b);
	cJSON *root = cJSON_Parse(buf_cstr(&b));
	assert_non_null(root);
	buf_release(&b);
	return root;
}

static const char *at(const cJSON *root, const char *a, const char *b, const char *c)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, a);

	v = b ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
	v = c ? cJSON_GetObjectItemCaseSensitive(v, c) : v;
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- the type table ---- */

static void check_release(const struct demo_type *t, const char *release, const char *version)
{
	char path[256], want[128];

	snprintf(path, sizeof path, "cdevents-spec/%s/conformance/%s_%s.json", release, t->subject,
	         t->predicate);
	struct fixture f = fixture_load(path);
	cJSON *root = cJSON_Parse(f.data);
	snprintf(want, sizeof want, "dev.cdevents.%s.%s.%s", t->subject, t->predicate, version);
	const char *type = at(root, "context", "type", NULL);
	if (!type || strcmp(type, want) != 0)
		fail_msg("%s: context.type is %s, the table says %s", path, type, want);
	if (strcmp(release, "0.4.1") == 0) /* subject.type is required there */
		assert_string_equal(at(root, "subject", "type", NULL), t->subject_type);
	cJSON_Delete(root);
	fixture_release(&f);
}

static void type_table_matches_conformance(void **state)
{
	(void)state;
	for (int k = 0; k < DEMO_KIND_COUNT; k++) {
		const struct demo_type *t = demo_type_of((enum demo_kind)k);
		assert_non_null(t->subject);
		check_release(t, "0.5.1", t->v051);
		check_release(t, "0.4.1", t->v041);
	}
}

/* ---- determinism and size ---- */

static char *all_json(const struct demo_options *opt)
{
	struct demo_events evs;
	struct buf b = BUF_INIT(0);

	generate(opt, &evs);
	demo_batch_json(opt, evs.v, evs.n, &b);
	demo_events_release(&evs);
	return buf_detach(&b, NULL);
}

static void same_seed_same_bytes(void **state)
{
	(void)state;
	const struct demo_options a = options(3000, 7), b = options(3000, 8);
	char *one = all_json(&a), *two = all_json(&a), *other = all_json(&b);

	assert_string_equal(one, two);
	assert_true(strcmp(one, other) != 0);
	free(one);
	free(two);
	free(other);
}

static void count_is_the_request(void **state)
{
	(void)state;
	static const long sizes[] = {100, 1000, 3000, 20000, 100000};

	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		for (unsigned seed = 1; seed <= 3; seed++) {
			struct demo_options opt = options(sizes[i], seed);
			struct demo_events evs;
			generate(&opt, &evs);
			if (evs.n != (size_t)sizes[i])
				fail_msg("asked for %ld events (seed %u), got %zu", sizes[i], seed,
				         evs.n);
			demo_events_release(&evs);
		}
	}
}

/* ---- validity ---- */

static void check_bare(const struct demo_options *opt, const struct demo_event *ev)
{
	struct buf b = BUF_INIT(0);
	struct ingest_batch out = {0};
	struct err err = {0};

	demo_event_json(opt, ev, &b);
	const struct ingest_request req = {.content_type = "application/json",
	                                   .body = buf_cstr(&b),
	                                   .len = b.len,
	                                   .req_id = "t",
	                                   .max_batch = 1};
	if (envelope_parse(&req, &out, &err) != ST_OK)
		fail_msg("rejected: %s (%s)\n%s", err.msg, err.pointer, buf_cstr(&b));
	assert_int_equal(out.n, 1);
	const struct event *e = &out.events[0];
	assert_string_equal(e->mode, "bare");
	assert_true(e->ts_us == ev->ts_us);
	assert_string_equal(e->subject, demo_type_of(ev->kind)->subject);
	assert_string_equal(e->predicate, demo_type_of(ev->kind)->predicate);
	assert_string_equal(e->spec_version, ev->flags & DEMO_OLD_FORM ? "0.4.1" : "0.5.1");
	assert_true((e->chain_id != NULL) == ((ev->flags & DEMO_CHAINED) != 0));
	ingest_batch_release(&out);
	buf_release(&b);
}

static void every_event_validates(void **state)
{
	(void)state;
	struct demo_options opt = options(3000, 5);
	struct demo_events evs;

	generate(&opt, &evs);
	for (size_t i = 0; i < evs.n; i++)
		check_bare(&opt, &evs.v[i]);
	demo_events_release(&evs);
}

static void batches_validate(void **state)
{
	(void)state;
	struct demo_options opt = options(3000, 5);
	struct demo_events evs;
	size_t total = 0;

	generate(&opt, &evs);
	for (size_t from = 0; from < evs.n; from += DEMO_DEFAULT_BATCH) {
		size_t n = evs.n - from < DEMO_DEFAULT_BATCH ? evs.n - from : DEMO_DEFAULT_BATCH;
		struct buf b = BUF_INIT(1u << 20); /* the server's default body limit */
		struct ingest_batch out = {0};
		struct err err = {0};
		demo_batch_json(&opt, evs.v + from, n, &b);
		assert_false(b.overflow);
		const struct ingest_request req = {.content_type =
		                                       "application/cloudevents-batch+json",
		                                   .body = buf_cstr(&b),
		                                   .len = b.len,
		                                   .req_id = "t",
		                                   .max_batch = DEMO_DEFAULT_BATCH};
		if (envelope_parse(&req, &out, &err) != ST_OK)
			fail_msg("batch at %zu rejected: %s (%s)", from, err.msg, err.pointer);
		assert_int_equal(out.n, n);
		assert_string_equal(out.events[0].mode, "batch");
		total += out.n;
		ingest_batch_release(&out);
		buf_release(&b);
	}
	assert_int_equal(total, evs.n);
	demo_events_release(&evs);
}

/* ---- time ---- */

static void check_window(const struct demo_events *evs, int64_t start, int64_t end)
{
	assert_true(evs->start_us == start);
	assert_true(evs->end_us == end);
	assert_true(evs->n > 0);
	assert_true(evs->v[0].ts_us >= start);
	assert_true(evs->v[evs->n - 1].ts_us <= end);
	for (size_t i = 1; i < evs->n; i++) {
		const struct demo_event *a = &evs->v[i - 1], *b = &evs->v[i];
		assert_true(a->ts_us < b->ts_us || (a->ts_us == b->ts_us && a->seq < b->seq));
	}
	/* months of data: the last merge is in the last week */
	int64_t last_merge = 0;
	for (size_t i = 0; i < evs->n; i++)
		if (evs->v[i].kind == DEMO_CHANGE_MERGED)
			last_merge = evs->v[i].ts_us;
	assert_true(last_merge > end - 7 * DAY_US);
}

static void time_order_and_window(void **state)
{
	(void)state;
	struct demo_options opt = options(3000, 3);
	struct demo_events evs;
	int64_t now;

	generate(&opt, &evs);
	check_window(&evs, START_US, START_US + 120 * DAY_US);
	demo_events_release(&evs);
	/* default: 120 days ending now, rounded down to the hour */
	assert_true(clock_parse_rfc3339("2026-11-23T11:28:38.5Z", 22, &now, NULL));
	opt.start_us = 0;
	opt.now_us = now;
	opt.days = 30;
	int64_t hour;
	assert_true(clock_parse_rfc3339("2026-11-23T11:00:00Z", 20, &hour, NULL));
	generate(&opt, &evs);
	check_window(&evs, hour - 30 * DAY_US, hour);
	demo_events_release(&evs);
}

/* ---- the organisation ---- */

struct shape {
	size_t services[256], deploys[DEMO_ENV_COUNT], rollbacks, old, events;
	size_t incidents_env_only, incidents_artifact, incidents_service;
	size_t nservices;
};

static void tally(const struct demo_event *ev, struct shape *s)
{
	const bool deploy =
	    ev->kind >= DEMO_SERVICE_DEPLOYED && ev->kind <= DEMO_SERVICE_ROLLEDBACK;

	s->events++;
	s->old += (ev->flags & DEMO_OLD_FORM) != 0;
	s->rollbacks += ev->kind == DEMO_SERVICE_ROLLEDBACK;
	if (deploy) {
		s->deploys[ev->env] += ev->kind != DEMO_SERVICE_ROLLEDBACK;
		s->nservices += s->services[ev->service]++ == 0;
	}
	if (ev->kind == DEMO_INCIDENT_DETECTED) {
		s->incidents_env_only += (ev->flags & DEMO_NO_SERVICE) != 0;
		s->incidents_artifact += (ev->flags & DEMO_NAMES_ARTIFACT) != 0;
		s->incidents_service += !(ev->flags & (DEMO_NO_SERVICE | DEMO_NAMES_ARTIFACT));
	}
}

/* Distinct repository ids named by change events, and the 0.4.1 spelling of uri. */
static size_t count_repositories(const struct demo_options *opt, const struct demo_events *evs)
{
	char seen[16][64];
	size_t n = 0;

	for (size_t i = 0; i < evs->n; i++) {
		const struct demo_event *ev = &evs->v[i];
		if (ev->kind == DEMO_PIPELINE_STARTED) {
			cJSON *root = parsed(opt, ev);
			const bool old = ev->flags & DEMO_OLD_FORM;
			assert_non_null(at(root, "subject", "content", old ? "url" : "uri"));
			assert_null(at(root, "subject", "content", old ? "uri" : "url"));
			assert_true((at(root, "subject", "type", NULL) != NULL) == old);
			cJSON_Delete(root);
		}
		if (ev->kind != DEMO_CHANGE_MERGED)
			continue;
		cJSON *root = parsed(opt, ev);
		const cJSON *subject = cJSON_GetObjectItemCaseSensitive(root, "subject");
		const cJSON *content = cJSON_GetObjectItemCaseSensitive(subject, "content");
		const char *repo = at(content, "repository", "id", NULL);
		assert_non_null(repo);
		size_t k = 0;
		while (k < n && strcmp(seen[k], repo) != 0)
			k++;
		if (k == n && n < 16)
			snprintf(seen[n++], sizeof seen[0], "%s", repo);
		cJSON_Delete(root);
	}
	return n;
}

static void organisation_shape(void **state)
{
	(void)state;
	struct demo_options opt = options(3000, 11);
	struct demo_events evs;
	struct shape s = {0};

	generate(&opt, &evs);
	for (size_t i = 0; i < evs.n; i++)
		tally(&evs.v[i], &s);
	assert_int_equal(s.nservices, DEMO_DEFAULT_SERVICES);
	assert_int_equal(count_repositories(&opt, &evs), DEMO_DEFAULT_REPOSITORIES);
	for (int e = 0; e < DEMO_ENV_COUNT; e++)
		assert_true(s.deploys[e] > 100);
	/* both production regions get every release */
	if (labs((long)s.deploys[DEMO_ENV_PROD_EU] - (long)s.deploys[DEMO_ENV_PROD_US]) > 3)
		fail_msg("prod-eu %zu deployments, prod-us %zu", s.deploys[DEMO_ENV_PROD_EU],
		         s.deploys[DEMO_ENV_PROD_US]);
	assert_true(s.rollbacks > 0);
	assert_true(s.incidents_env_only > 0);
	assert_true(s.incidents_artifact > 0);
	assert_true(s.incidents_service > 0);
	assert_true(s.old > s.events * 15 / 100 && s.old < s.events * 25 / 100);
	demo_events_release(&evs);
}

/* A release reaches prod-us 5 to 45 minutes after prod-eu. */
static void production_regions_follow_each_other(void **state)
{
	(void)state;
	struct demo_options opt = options(3000, 2);
	struct demo_events evs;
	size_t checked = 0;

	generate(&opt, &evs);
	for (size_t i = 0; i < evs.n; i++) {
		const struct demo_event *eu = &evs.v[i];
		if (eu->env != DEMO_ENV_PROD_EU ||
		    (eu->kind != DEMO_SERVICE_DEPLOYED && eu->kind != DEMO_SERVICE_UPGRADED))
			continue;
		size_t j = i + 1;
		while (j < evs.n && !(evs.v[j].env == DEMO_ENV_PROD_US && evs.v[j].run == eu->run &&
		                      evs.v[j].service == eu->service &&
		                      evs.v[j].kind != DEMO_SERVICE_ROLLEDBACK))
			j++;
		if (j == evs.n) /* the window ended in between */
			continue;
		const int64_t gap = evs.v[j].ts_us - eu->ts_us;
		assert_true(gap >= 4 * 60 * INT64_C(1000000) && gap <= 46 * 60 * INT64_C(1000000));
		checked++;
	}
	assert_true(checked > 100);
	demo_events_release(&evs);
}

/* ---- purls: three producers, one artifact ---- */

static const struct demo_event *find(const struct demo_events *evs, enum demo_kind kind,
                                     const struct demo_event *like)
{
	for (size_t i = 0; i < evs->n; i++) {
		const struct demo_event *ev = &evs->v[i];
		if (ev->kind == kind && ev->service == like->service && ev->run == like->run)
			return ev;
	}
	fail_msg("no %s.%s event for the artifact", demo_type_of(kind)->subject,
	         demo_type_of(kind)->predicate);
	return NULL;
}

static char *canonical(const char *purl)
{
	struct buf b = BUF_INIT(0);
	struct err err = {0};

	if (purl_canonicalize(purl, strlen(purl), 0, &b, &err) != ST_OK)
		fail_msg("purl %s: %s", purl, err.msg);
	return buf_detach(&b, NULL);
}

static void purl_spellings_join(void **state)
{
	(void)state;
	struct demo_options opt = options(1000, 4);
	struct demo_events evs;
	const struct demo_event *build = NULL;

	generate(&opt, &evs);
	for (size_t i = 0; i < evs.n && !build; i++)
		if (evs.v[i].kind == DEMO_BUILD_FINISHED && !(evs.v[i].flags & DEMO_FAILED))
			build = &evs.v[i];
	assert_non_null(build);
	cJSON *b = parsed(&opt, build);
	cJSON *p = parsed(&opt, find(&evs, DEMO_ARTIFACT_PACKAGED, build));
	cJSON *d = parsed(&opt, find(&evs, DEMO_SERVICE_DEPLOYED, build));
	const char *spelled[3] = {at(b, "subject", "content", "artifactId"),
	                          at(p, "subject", "id", NULL),
	                          at(d, "subject", "content", "artifactId")};
	char *canon[3];
	for (int i = 0; i < 3; i++) {
		assert_non_null(spelled[i]);
		canon[i] = canonical(spelled[i]);
	}
	assert_non_null(strstr(spelled[0], "sha256%3A"));
	assert_non_null(strstr(spelled[1], "sha256:"));
	assert_true(strcmp(spelled[0], spelled[1]) != 0 && strcmp(spelled[1], spelled[2]) != 0);
	assert_string_equal(canon[0], canon[1]);
	assert_string_equal(canon[1], canon[2]);
	for (int i = 0; i < 3; i++)
		free(canon[i]);
	cJSON_Delete(b);
	cJSON_Delete(p);
	cJSON_Delete(d);
	demo_events_release(&evs);
}

/* ---- options ---- */

struct args_case {
	const char *argv[10];
	enum status st;
	const char *kept[10]; /* argv after, from index 2 */
	long events;
	unsigned seed;
	int64_t start_us;
	size_t batch;
	const char *msg;
};

static const struct args_case args_cases[] = {
    {{"cdlens", "demo", "--events", "5000", "--database-url", "x", "--seed=3"},
     ST_OK,
     {"--database-url", "x"},
     5000,
     3,
     0,
     DEMO_DEFAULT_BATCH,
     NULL},
    {{"cdlens", "demo", "--log-level=warn", "--demo-start", "2025-09-01T00:00:00Z",
      "--demo-batch=0"},
     ST_OK,
     {"--log-level=warn"},
     DEMO_DEFAULT_EVENTS,
     1,
     START_US,
     0,
     NULL},
    {{"cdlens", "demo", "--events"}, ST_INVALID, {NULL}, 0, 0, 0, 0, "missing value for --events"},
    {{"cdlens", "demo", "--events=12"},
     ST_INVALID,
     {NULL},
     0,
     0,
     0,
     0,
     "invalid value \"12\" for --events"},
    {{"cdlens", "demo", "--seed", "x1"},
     ST_INVALID,
     {NULL},
     0,
     0,
     0,
     0,
     "invalid value \"x1\" for --seed"},
    {{"cdlens", "demo", "--demo-start", "yesterday"},
     ST_INVALID,
     {NULL},
     0,
     0,
     0,
     0,
     "invalid value \"yesterday\" for --demo-start"},
    {{"cdlens", "demo", "--eventsx", "1"},
     ST_OK,
     {"--eventsx", "1"},
     DEMO_DEFAULT_EVENTS,
     1,
     0,
     DEMO_DEFAULT_BATCH,
     NULL},
};

static void parse_args_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof args_cases / sizeof *args_cases; i++) {
		const struct args_case *c = &args_cases[i];
		char *argv[11] = {0};
		int argc = 0;
		struct demo_options opt;
		struct err err = {0};
		while (c->argv[argc]) {
			argv[argc] = (char *)c->argv[argc];
			argc++;
		}
		demo_options_init(&opt);
		assert_int_equal(demo_parse_args(&argc, argv, 2, &opt, &err), c->st);
		if (c->st != ST_OK) {
			assert_string_equal(err.msg, c->msg);
			continue;
		}
		for (int k = 0; k < 10 && c->kept[k]; k++)
			assert_string_equal(argv[2 + k], c->kept[k]);
		assert_null(argv[argc]);
		assert_int_equal(opt.events, c->events);
		assert_int_equal(opt.seed, c->seed);
		assert_true(opt.start_us == c->start_us);
		assert_int_equal(opt.batch, c->batch);
	}
}

static void bad_options_are_refused(void **state)
{
	(void)state;
	struct demo_options opt = options(3000, 1);
	struct demo_events evs = {0};
	struct err err = {0};

	opt.repositories = 30;
	assert_int_equal(demo_generate(&opt, &evs, &err), ST_INVALID);
	assert_string_equal(err.msg, "demo option repositories is out of range");
	assert_null(evs.v);
	opt = options(10, 1);
	assert_int_equal(demo_generate(&opt, &evs, &err), ST_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(type_table_matches_conformance),
	    cmocka_unit_test(same_seed_same_bytes),
	    cmocka_unit_test(count_is_the_request),
	    cmocka_unit_test(every_event_validates),
	    cmocka_unit_test(batches_validate),
	    cmocka_unit_test(time_order_and_window),
	    cmocka_unit_test(organisation_shape),
	    cmocka_unit_test(production_regions_follow_each_other),
	    cmocka_unit_test(purl_spellings_join),
	    cmocka_unit_test(parse_args_table),
	    cmocka_unit_test(bad_options_are_refused),
	};

	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
