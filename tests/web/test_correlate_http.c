/*
 * tests/web/test_correlate_http.c: the correlator through the real path. Events are posted
 * over HTTP to the real binary, the correlator thread builds the linked model in PostgreSQL,
 * and the derived tables are read back.
 *
 * 1. scenario_is_linked: tests/data/scenarios/checkout.jsonl (0.3, 0.4 and 0.5 events, three
 *    spellings of one repository and of one purl) gives the links its generator documents.
 * 2. converges_in_any_order: the same scenario in 20 random orders, with duplicates, in all
 *    ingest modes and with batches of several events, sometimes waiting for correlation
 *    after each request and sometimes not (so batch boundaries differ): every derived table
 *    is identical to the in-order run.
 * 3. recorrelate_matches_incremental: `cdlens recorrelate` rebuilds the same tables.
 * 4. lag_is_visible_and_caught_up: a server with --correlate=false leaves the events queued
 *    and /readyz shows how many and for how long; a correlating server started later catches
 *    up to the same tables.
 * 5. identifiers_at_their_limits: the scenario with every identifier padded to its ingest
 *    limit (sql/model.h EVENT_MAX_ID, EVENT_MAX_PURL) and every other string to 4,000 bytes,
 *    with incompressible multibyte text: every event is correlated, none set aside (the
 *    model's keys join several identifiers into one btree entry, and a string ingest does
 *    not limit must not reach an index); one byte more is a 400 and stores nothing.
 * 6. rules_migration_rebuilds_the_model: migration 0008 rebuilds derived rows that older
 *    rules left, to the same tables as the in-order run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "core/buf.h"
#include "support/fixture.h"
#include "support/http.h"
#include "support/server.h"
#include "sql/model.h"
#include "support/testdb.h"
#include "web/ingest_helpers.h"

#define MAX_EVENTS 64
#define ORDERS 20

static struct test_server srv;
static char *db_url;
static struct fixture scenario;
static char *events[MAX_EVENTS];
static size_t nevents;
static char *reference; /* dump of the in-order run */

/* Every derived table as sorted JSON lines; arrival-order columns (seq) are left out and
 * fact_links name their event instead. */
static const char dump_sql[] =
	"SELECT string_agg(line, E'\\n' ORDER BY line) FROM ("
	" SELECT 'facts ' || (to_jsonb(t) - 'seq')::text AS line FROM facts t"
	" UNION ALL SELECT 'fact_links ' || ((to_jsonb(l) - 'seq')"
	"  || jsonb_build_object('event', cdlens_key2(f.ev_source, f.ev_id)))::text"
	"  FROM fact_links l JOIN facts f USING (seq)"
	" UNION ALL SELECT 'repositories ' || to_jsonb(t)::text FROM repositories t"
	" UNION ALL SELECT 'changes ' || to_jsonb(t)::text FROM changes t"
	" UNION ALL SELECT 'builds ' || to_jsonb(t)::text FROM builds t"
	" UNION ALL SELECT 'artifacts ' || to_jsonb(t)::text FROM artifacts t"
	" UNION ALL SELECT 'pipeline_runs ' || to_jsonb(t)::text FROM pipeline_runs t"
	" UNION ALL SELECT 'task_runs ' || to_jsonb(t)::text FROM task_runs t"
	" UNION ALL SELECT 'test_suite_runs ' || to_jsonb(t)::text FROM test_suite_runs t"
	" UNION ALL SELECT 'test_case_runs ' || to_jsonb(t)::text FROM test_case_runs t"
	" UNION ALL SELECT 'environments ' || to_jsonb(t)::text FROM environments t"
	" UNION ALL SELECT 'deployments ' || to_jsonb(t)::text FROM deployments t"
	" UNION ALL SELECT 'incidents ' || to_jsonb(t)::text FROM incidents t"
	" UNION ALL SELECT 'edges ' || to_jsonb(t)::text FROM edges t"
	" UNION ALL SELECT 'deployment_changes ' || to_jsonb(t)::text FROM deployment_changes t"
	" UNION ALL SELECT 'incident_deployments ' || to_jsonb(t)::text FROM incident_deployments t"
	" UNION ALL SELECT 'correlate_failed ' || to_jsonb(t)::text FROM correlate_failed t"
	" UNION ALL SELECT 'deployment_facts ' || to_jsonb(t)::text FROM deployment_facts t"
	" UNION ALL SELECT 'change_deployments ' || to_jsonb(t)::text FROM change_deployments t"
	" UNION ALL SELECT 'production_environments ' || to_jsonb(t)::text"
	"  FROM production_environments t"
	" UNION ALL SELECT 'change_production ' || to_jsonb(t)::text FROM change_production t"
	" UNION ALL SELECT 'change_service_production ' || to_jsonb(t)::text"
	"  FROM change_service_production t"
	") x";

static const char reset_sql[] =
	"TRUNCATE events, correlate_queue, facts, fact_links, repositories, changes, builds,"
	" artifacts, pipeline_runs, task_runs, test_suite_runs, test_case_runs, environments,"
	" deployments, incidents, edges, deployment_changes, incident_deployments, correlate_failed,"
	" deployment_facts, change_deployments, production_pattern, production_environments,"
	" change_production, change_service_production";

/* Wait until /readyz reports an empty correlation queue (fails after 60 s). */
static void wait_correlated(void)
{
	test_server_wait_correlated(&srv, 120);
}

static char *dump(void)
{
	char *d = testdb_scalar(db_url, dump_sql, 0, NULL);

	assert_non_null(d);
	return d;
}

static void load_scenario(void)
{
	scenario = fixture_load("scenarios/checkout.jsonl");
	for (char *line = strtok(scenario.data, "\n"); line; line = strtok(NULL, "\n")) {
		assert_true(nevents < MAX_EVENTS);
		events[nevents++] = line;
	}
	assert_true(nevents >= 25);
}

static int setup(void **state)
{
	(void)state;
	load_scenario();
	db_url = test_server_open(&srv, "correlate", NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fixture_release(&scenario);
	free(reference);
	test_server_close(&srv, &db_url);
	return 0;
}

static void post_one(enum post_mode mode, const char *ev)
{
	struct http_response r = {0};
	int status = post_event(srv.port, mode, ev, &r);

	if (status != 202)
		fail_msg("POST (%s) answered %d: %s", post_mode_names[mode], status, r.body);
	http_response_release(&r);
}

/* ---- 1. the scenario's links ---- */

static void expect_rows(const char *what, const char *sql, long n)
{
	long got = testdb_long(db_url, sql, 0, NULL);

	if (got != n)
		fail_msg("%s: expected %ld, got %ld (%s)", what, n, got, sql);
}

#define A1 "'pkg:oci/shop@sha256:aaa1?arch=amd64&repository_url=ghcr.io%2Facme%2Fshop'"
#define A3 "'pkg:oci/shop@sha256:ccc3?repository_url=ghcr.io%2Facme%2Fshop'"
#define CHANGE(id) "'[\"github.com/acme/shop\", \"" id "\"]'"
#define DEP(id) "'[\"/argocd\", \"" id "\"]'"

static void scenario_is_linked(void **state)
{
	(void)state;
	for (size_t i = 0; i < nevents; i++)
		post_one(MODE_BARE, events[i]);
	wait_correlated();
	reference = dump();

	expect_rows("three spellings of the repository are one", "SELECT count(DISTINCT repo) FROM changes"
		    " WHERE repo = 'github.com/acme/shop'", 1);
	expect_rows("three changes", "SELECT count(*) FROM changes", 3);
	expect_rows("change 102 times from 0.5 events", "SELECT count(*) FROM changes WHERE key = "
		    CHANGE("102") " AND reviewed_at = '2026-03-02T10:15:00Z' AND first_at ="
		    " '2026-03-02T09:30:00Z'", 1);
	expect_rows("three spellings of A1 are one artifact", "SELECT count(*) FROM deployments"
		    " WHERE artifact = " A1, 3);
	expect_rows("A1 built from 101 by reference (0.3 event)", "SELECT count(*) FROM artifacts"
		    " WHERE key = " A1 " AND change = " CHANGE("101") " AND change_rule = 'change_reference'"
		    " AND packaged_at = '2026-03-02T10:11:00Z' AND published_at IS NOT NULL", 1);
	expect_rows("A3 built from 103: chainId beats the reference", "SELECT count(*) FROM artifacts"
		    " WHERE key = " A3 " AND change = " CHANGE("103") " AND change_rule = 'chain_id'", 1);
	expect_rows("A3 also names 103 as acme/shop (suffix of the repository)",
		    "SELECT count(*) FROM edges WHERE from_key = " CHANGE("103") " AND to_key = " A3
		    " AND rule = 'change_reference'", 1);
	expect_rows("build b-1 produced A1", "SELECT count(*) FROM builds WHERE key = 'b-1' AND"
		    " artifact = " A1 " AND started_at = '2026-03-02T10:03:00Z'", 1);
	expect_rows("task runs of pr-1 (0.3 and 0.5 events)", "SELECT count(*) FROM task_runs"
		    " WHERE pipeline_run = 'pr-1' AND outcome = 'success'", 2);
	expect_rows("pipeline run outcome and times", "SELECT count(*) FROM pipeline_runs WHERE"
		    " key = 'pr-1' AND name = 'shop-ci' AND queued_at < started_at AND finished_at ="
		    " '2026-03-02T10:20:00Z' AND outcome = 'success'", 1);
	expect_rows("chain A links the pipeline run to the build", "SELECT count(*) FROM edges WHERE"
		    " from_kind = 'pipeline_run' AND to_key = 'b-1' AND rule = 'chain_id'", 1);
	expect_rows("context.links tie A3 to d-prod-2", "SELECT count(*) FROM edges WHERE from_key ="
		    " " A3 " AND to_key = " DEP("d-prod-2") " AND rule = 'links'", 1);
	expect_rows("test suite run from 0.4 and 0.5 events", "SELECT count(*) FROM"
		    " test_suite_runs WHERE key = 'ts-1' AND name = 'Smoke' AND environment ="
		    " 'staging' AND outcome = 'fail' AND started_at < finished_at", 1);
	expect_rows("test case runs of ts-1 (0.3 and 0.5)", "SELECT count(*) FROM test_case_runs"
		    " WHERE test_suite_run = 'ts-1' AND finished_at IS NOT NULL", 2);
	/* 2 case runs -> suite; every test event names staging: 2 suite + 2 case events */
	expect_rows("test runs are linked to their suite and environment", "SELECT count(*) FROM"
		    " edges WHERE (rule = 'test_suite_run_reference' AND from_key = 'ts-1')"
		    " OR (rule = 'environment_reference' AND to_kind LIKE 'test_%')", 6);
	expect_rows("chain A links the suite run to the artifact's build", "SELECT count(*) FROM"
		    " edges WHERE rule = 'chain_id' AND from_key = 'b-1' AND to_key = 'ts-1'", 1);
	expect_rows("environment names", "SELECT count(*) FROM environments WHERE key = 'prod' AND"
		    " name = 'Production EU' AND created_at < modified_at", 1);
	expect_rows("d-prod-1 ships 101 only (first in prod)", "SELECT count(*) FROM"
		    " deployment_changes WHERE deployment = " DEP("d-prod-1"), 1);
	expect_rows("d-prod-2 ships 103 directly", "SELECT count(*) FROM deployment_changes WHERE"
		    " deployment = " DEP("d-prod-2") " AND change = " CHANGE("103") " AND direct"
		    " AND rule = 'artifact'", 1);
	expect_rows("d-prod-2 ships 102 by commit range after d-prod-1", "SELECT count(*) FROM"
		    " deployment_changes WHERE deployment = " DEP("d-prod-2") " AND change = "
		    CHANGE("102") " AND NOT direct AND rule = 'commit_range' AND evidence = "
		    DEP("d-prod-1"), 1);
	expect_rows("the commit-range link is an edge too", "SELECT count(*) FROM edges WHERE"
		    " rule = 'commit_range' AND from_key = " CHANGE("102"), 1);
	expect_rows("the rollback ships nothing new", "SELECT count(*) FROM deployment_changes"
		    " WHERE deployment = " DEP("d-prod-3") " AND rule = 'commit_range'", 0);
	expect_rows("cart has no known change", "SELECT count(*) FROM deployment_changes WHERE"
		    " deployment = " DEP("d-cart-1"), 0);
	expect_rows("inc-1 belongs to d-prod-2 by service", "SELECT count(*) FROM"
		    " incident_deployments WHERE incident = 'inc-1' AND deployment = " DEP("d-prod-2")
		    " AND rule = 'service'", 1);
	expect_rows("the resolution's artifact does not move the incident", "SELECT count(*) FROM"
		    " incidents WHERE key = 'inc-1' AND artifact IS NULL AND resolved_at IS NOT NULL"
		    " AND description = 'checkout <b>errors</b>'", 1);
	expect_rows("nothing set aside", "SELECT count(*) FROM correlate_failed", 0);
}

/* ---- 2. any order ---- */

static uint64_t rng_state;
static size_t rnd(size_t n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (size_t)((rng_state >> 33) % n);
}

/* Report the first line that differs, for a readable failure. */
static void assert_same_dump(const char *want, const char *got, int order)
{
	if (strcmp(want, got) == 0)
		return;
	size_t i = 0, line = 0;
	while (want[i] && want[i] == got[i])
		i++;
	while (i > 0 && want[i - 1] != '\n')
		i--;
	for (size_t k = 0; k < i; k++)
		line += want[k] == '\n';
	fail_msg("order %d: derived tables differ at line %zu:\n want: %.300s\n  got: %.300s",
		 order, line + 1, want + i, got + i);
}

static void post_in_order(const size_t *perm, size_t n, int order)
{
	const bool wait_each = order % 2 == 0;
	size_t i = 0;

	while (i < n) {
		size_t k = 1 + (order % 3 == 0 ? rnd(5) : 0); /* some orders post batches */
		if (i + k > n)
			k = n - i;
		if (k > 1) {
			const char *batch[8];
			for (size_t j = 0; j < k; j++)
				batch[j] = events[perm[i + j]];
			struct http_response r = {0};
			assert_int_equal(post_batch(srv.port, batch, k, &r), 202);
			http_response_release(&r);
		} else {
			post_one((enum post_mode)rnd(3), events[perm[i]]);
		}
		i += k;
		if (wait_each)
			wait_correlated();
	}
}

static void converges_in_any_order(void **state)
{
	(void)state;
	size_t perm[MAX_EVENTS * 2];

	assert_non_null(reference);
	for (int order = 1; order <= ORDERS; order++) {
		rng_state = (uint64_t)order * 7919;
		size_t n = nevents;
		for (size_t i = 0; i < nevents; i++)
			perm[i] = i;
		for (size_t i = 0; i < nevents / 4; i++) /* about a quarter sent twice */
			perm[n++] = rnd(nevents);
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = rnd(i + 1), t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
		}
		testdb_exec(db_url, reset_sql);
		post_in_order(perm, n, order);
		wait_correlated();
		char *got = dump();
		assert_same_dump(reference, got, order);
		free(got);
	}
}

/* ---- 3. recorrelate ---- */

static int run_recorrelate(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl(CDLENS_BIN, CDLENS_BIN, "recorrelate", "--database-url", db_url,
		      "--log-level", "warn", (char *)NULL);
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void recorrelate_matches_incremental(void **state)
{
	(void)state;
	assert_non_null(reference);
	assert_int_equal(run_recorrelate(), 0);
	wait_correlated();
	char *got = dump();
	assert_same_dump(reference, got, 0);
	free(got);
	/* and the queue it left is empty: nothing was set aside or lost */
	expect_rows("queue empty after recorrelate", "SELECT count(*) FROM correlate_queue", 0);
}

/* ---- 4. an ingest-only node, then catching up ---- */

static long readyz_number(const char *member, double *value)
{
	struct http_response r = {0};
	char key[64];

	assert_int_equal(http_request(srv.port, "GET", "/readyz", NULL, NULL, 0, &r), 200);
	snprintf(key, sizeof key, "\"%s\":", member);
	const char *p = strstr(r.body, key);
	assert_non_null(p);
	*value = strtod(p + strlen(key), NULL);
	http_response_release(&r);
	return (long)*value;
}

static void lag_is_visible_and_caught_up(void **state)
{
	(void)state;
	static const char *const ingest_only[] = {"--correlate=false", NULL};
	double v;

	assert_non_null(reference);
	assert_int_equal(test_server_stop(&srv), 0);
	testdb_exec(db_url, reset_sql);
	test_server_start(&srv, db_url, ingest_only);
	for (size_t i = 0; i < nevents; i++)
		post_one(MODE_BARE, events[i]);
	usleep(1200 * 1000);
	assert_int_equal(readyz_number("pending_events", &v), (long)nevents);
	assert_true(readyz_number("lag_seconds", &v) >= 0 && v >= 1.0);
	expect_rows("nothing correlated by an ingest-only node", "SELECT count(*) FROM facts", 0);
	assert_int_equal(test_server_stop(&srv), 0);

	test_server_start(&srv, db_url, NULL); /* correlating again: teardown stops it */
	wait_correlated();
	char *got = dump();
	assert_same_dump(reference, got, 0);
	free(got);
}

/* ---- 5. identifiers at their limits ---- */

/* `s` + "~" + letters drawn from a generator seeded by `s` (so that equal identifiers stay
 * equal, and links hold), one, two and three bytes long, then "x" up to exactly `n` bytes.
 * The text does not compress, as PostgreSQL would otherwise shrink the index entries. */
static char *pad_to(const char *s, size_t n)
{
	/* 62 ASCII letters and digits and 4 multibyte letters: random text of 66 symbols has
	 * too few repeats for PostgreSQL's compression (pglz) to shrink it */
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	static const char *const wide[] = {"\xc3\xa9", "\xc3\x9f", "\xd0\xb6", "\xe2\x86\x92"};
	uint64_t seed = 1469598103934665603ULL;
	size_t len = strlen(s);
	struct buf b = BUF_INIT(0);

	for (const char *p = s; *p; p++)
		seed = (seed ^ (unsigned char)*p) * 1099511628211ULL;
	if (len >= n)
		return strdup(s);
	buf_puts(&b, s);
	buf_putc(&b, '~');
	for (;;) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		size_t pick = (size_t)(seed >> 33) % 66;
		char one[2] = {pick < 62 ? alnum[pick] : 0, 0};
		const char *l = pick < 62 ? one : wide[pick - 62];
		if (b.len + strlen(l) > n)
			break;
		buf_puts(&b, l);
	}
	while (b.len < n)
		buf_putc(&b, 'x');
	char *out = strdup(buf_cstr(&b));
	buf_release(&b);
	return out;
}

/* A purl padded in its name ("pkg:oci/shop" + "-" + text, then "@version?..."), with
 * multibyte letters: its canonical form (percent-escaped) is longer than the limit. */
static char *pad_purl(const char *purl, size_t n)
{
	size_t head = strcspn(purl, "@?");
	struct buf b = BUF_INIT(0);

	buf_append(&b, purl, head);
	buf_putc(&b, '-');
	char *name = pad_to(buf_cstr(&b), n - (strlen(purl) - head));
	buf_release(&b);
	buf_puts(&b, name);
	buf_puts(&b, purl + head);
	free(name);
	char *out = strdup(buf_cstr(&b));
	buf_release(&b);
	return out;
}

#define UNLIMITED_PAD 4000 /* bytes given to strings ingest does not limit */

/* Pad every string under `node` to `n` bytes (purls to EVENT_MAX_PURL), except the ones
 * with a fixed form (types, versions, timestamps, outcomes). */
static void pad_all(cJSON *node, size_t n)
{
	static const char *const fixed[] = {"type", "version", "specversion", "timestamp",
					    "outcome", "schemaUri"};

	for (cJSON *c = node->child; c; c = c->next) {
		bool skip = false;
		for (size_t i = 0; c->string && i < sizeof fixed / sizeof *fixed; i++)
			skip |= strcmp(c->string, fixed[i]) == 0;
		if (cJSON_IsString(c) && !skip) {
			char *v = strncmp(c->valuestring, "pkg:", 4) == 0
					  ? pad_purl(c->valuestring, EVENT_MAX_PURL)
					  : pad_to(c->valuestring, n);
			cJSON_SetValuestring(c, v);
			free(v);
		} else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
			pad_all(c, n);
		}
	}
}

/* The member at a JSON pointer ("/subject/content/0/id"; no escapes in these events). */
static cJSON *at_pointer(cJSON *node, const char *pointer)
{
	char seg[128];

	for (const char *p = pointer; node && *p == '/';) {
		size_t n = strcspn(p + 1, "/");
		assert_true(n < sizeof seg);
		memcpy(seg, p + 1, n);
		seg[n] = '\0';
		node = cJSON_IsArray(node) ? cJSON_GetArrayItem(node, atoi(seg))
					   : cJSON_GetObjectItemCaseSensitive(node, seg);
		p += n + 1;
	}
	return node;
}

/* Post `text` with every identifier at its limit and every other string at UNLIMITED_PAD
 * bytes. The limits are learnt from ingest's answers: a 400 "<pointer> is longer than N
 * bytes" has that field padded to N instead and the event sent again; so any string ingest
 * does not limit reaches the correlator at 4,000 bytes. Returns the fields learnt. */
static int post_padded(const char *text)
{
	cJSON *orig = cJSON_Parse(text), *doc = cJSON_Duplicate(orig, true);
	int learnt = 0;

	assert_non_null(doc);
	pad_all(cJSON_GetObjectItem(doc, "context"), UNLIMITED_PAD);
	pad_all(cJSON_GetObjectItem(doc, "subject"), UNLIMITED_PAD);
	for (;;) {
		struct http_response r = {0};
		char *ev = cJSON_PrintUnformatted(doc), pointer[256];
		int status = post_event(srv.port, MODE_BARE, ev, &r), max = 0;
		const char *p = strstr(r.body ? r.body : "", "\"pointer\":\"");
		const char *m = strstr(r.body ? r.body : "", " is longer than ");
		free(ev);
		if (status == 202) {
			http_response_release(&r);
			break;
		}
		if (status != 400 || !p || !m || sscanf(p + 11, "%255[^\"]", pointer) != 1 ||
		    sscanf(m + 16, "%d", &max) != 1 || learnt > 40)
			fail_msg("padded event refused (%d): %.600s", status, r.body);
		http_response_release(&r);
		cJSON *was = at_pointer(orig, pointer), *now = at_pointer(doc, pointer);
		assert_true(cJSON_IsString(was) && cJSON_IsString(now));
		char *v = strncmp(was->valuestring, "pkg:", 4) == 0 ? pad_purl(was->valuestring, (size_t)max)
								    : pad_to(was->valuestring, (size_t)max);
		cJSON_SetValuestring(now, v);
		free(v);
		learnt++;
	}
	cJSON_Delete(doc);
	cJSON_Delete(orig);
	return learnt;
}

/* Beside the scenario: every other content field the correlator reads (sql/correlate_store.c
 * insert_facts()), and a link with all its members. */
static const char *const extra_events[] = {
	"{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"x-run\",\"source\":\"/ci\","
	"\"type\":\"dev.cdevents.pipelinerun.finished.0.3.0\",\"timestamp\":\"2026-03-02T12:00:00Z\","
	"\"chainId\":\"x-chain\",\"links\":[{\"linkType\":\"RELATION\",\"linkKind\":\"TRIGGER\","
	"\"from\":{\"contextId\":\"c101-merged\"},\"target\":{\"contextId\":\"x-run\"}}]},"
	"\"subject\":{\"id\":\"x-run-1\",\"source\":\"/ci\",\"content\":{\"name\":\"nightly\","
	"\"pipelineName\":\"nightly\",\"url\":\"https://ci/x\",\"uri\":\"https://ci/y\","
	"\"outcome\":\"failure\",\"errors\":\"boom\",\"reason\":\"r\",\"description\":\"d\","
	"\"ticketURI\":\"https://t/1\",\"taskName\":\"t\",\"testSuite\":{\"name\":\"s\"},"
	"\"testCase\":{\"name\":\"c\"},\"environment\":{\"id\":\"prod\"},\"service\":{\"id\":\"s\"},"
	"\"pipelineRun\":{\"id\":\"p\"},\"testSuiteRun\":{\"id\":\"t\"},"
	"\"change\":{\"id\":\"101\",\"source\":\"https://github.com/acme/shop\"},"
	"\"artifactId\":\"pkg:oci/shop@sha256%3Aaaa1\"}}}",
	"{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"x-incident\",\"source\":\"/pager\","
	"\"type\":\"dev.cdevents.incident.detected.0.2.0\",\"timestamp\":\"2026-03-03T12:00:00Z\"},"
	"\"subject\":{\"id\":\"x-inc-1\",\"source\":\"/pager\",\"content\":{\"description\":\"d\","
	"\"environment\":{\"id\":\"prod\",\"source\":\"/envs\"},\"service\":{\"id\":\"shop\","
	"\"source\":\"/svc\"},\"artifactId\":\"pkg:oci/shop@sha256%3Aaaa1\","
	"\"ticketURI\":\"https://t/2\"}}}",
};

static void identifiers_at_their_limits(void **state)
{
	(void)state;
	long facts = testdb_long(db_url, "SELECT count(*) FROM facts", 0, NULL);
	struct http_response r = {0};

	assert_true(facts >= 25);
	testdb_exec(db_url, reset_sql);
	int learnt = 0;
	for (size_t i = 0; i < nevents; i++)
		learnt += post_padded(events[i]);
	for (size_t i = 0; i < sizeof extra_events / sizeof *extra_events; i++)
		learnt += post_padded(extra_events[i]);
	facts += (long)(sizeof extra_events / sizeof *extra_events);
	print_message("%d fields padded to their limit, the other strings to %d bytes\n", learnt,
		      UNLIMITED_PAD);
	assert_true(learnt > (int)nevents); /* context.id and source at least */
	wait_correlated();
	expect_rows("nothing set aside", "SELECT count(*) FROM correlate_failed", 0);
	expect_rows("a fact per event, as without padding", "SELECT count(*) FROM facts", facts);
	expect_rows("padded purls keyed as given (canonical form too long)",
		    "SELECT count(*) FROM artifacts WHERE octet_length(key) <> 512", 0);
	long widest = testdb_long(db_url,
				  "SELECT max(octet_length(to_key) + octet_length(from_key)"
				  " + octet_length(evidence)) FROM edges", 0, NULL);
	print_message("widest edge key: %ld bytes (btree entries hold at most 2704)\n", widest);
	assert_true(widest > 1700);
	assert_true(testdb_long(db_url, "SELECT count(*) FROM deployment_changes", 0, NULL) > 0);
	assert_true(testdb_long(db_url, "SELECT count(*) FROM incident_deployments", 0, NULL) > 0);

	/* one byte over: 400 at the field, nothing stored */
	long stored = testdb_long(db_url, "SELECT count(*) FROM events", 0, NULL);
	cJSON *doc = cJSON_Parse(events[nevents - 1]);
	char *id = pad_to("over", EVENT_MAX_ID + 1);
	cJSON_SetValuestring(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "subject"), "id"), id);
	char *ev = cJSON_PrintUnformatted(doc);
	assert_int_equal(post_event(srv.port, MODE_BARE, ev, &r), 400);
	assert_non_null(strstr(r.body, "\"pointer\":\"/subject/id\""));
	assert_non_null(strstr(r.body, "is longer than 256 bytes"));
	http_response_release(&r);
	expect_rows("nothing stored from the refused event", "SELECT count(*) FROM events", stored);
	free(ev);
	free(id);
	cJSON_Delete(doc);
}

/* ---- 6. a rules migration rebuilds the model ---- */

/* Migration 0008 (the correlator's rules changed) empties the derived tables and queues every
 * event again: derived rows left by other rules (here: made wrong by hand, as the old rules
 * made them) are rebuilt by the running server, to the same tables as the in-order run. */
static void rules_migration_rebuilds_the_model(void **state)
{
	(void)state;
	assert_non_null(reference);
	testdb_exec(db_url, reset_sql);
	for (size_t i = 0; i < nevents; i++)
		post_one(MODE_BARE, events[i]);
	wait_correlated();
	assert_int_equal(test_server_stop(&srv), 0);
	testdb_exec(db_url, "UPDATE deployment_facts SET restored_at = NULL, failed = NOT failed");
	testdb_exec(db_url, "DELETE FROM incident_deployments");
	testdb_exec(db_url, "DELETE FROM schema_migrations WHERE version = 8");
	assert_true(testdb_long(db_url, "SELECT count(*) FROM deployment_facts WHERE failed AND"
				" restored_at IS NULL", 0, NULL) > 0); /* stale before the migration */
	test_server_start(&srv, db_url, NULL); /* migrates, then correlates the queue */
	wait_correlated();
	expect_rows("0008 applied again", "SELECT count(*) FROM schema_migrations WHERE version = 8",
		    1);
	char *got = dump();
	assert_same_dump(reference, got, 0);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scenario_is_linked),
		cmocka_unit_test(converges_in_any_order),
		cmocka_unit_test(recorrelate_matches_incremental),
		cmocka_unit_test(lag_is_visible_and_caught_up),
		cmocka_unit_test(identifiers_at_their_limits),
		cmocka_unit_test(rules_migration_rebuilds_the_model),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
