/*
 * tests/ingest/test_cdevent.c: the CDEvent validator (ingest/cdevent.c).
 *
 * Documents are parsed with cJSON and handed to cdevent_extract(). Most cases are one edit
 * (set or delete the member at a JSON pointer) of a small valid base event, listed in the
 * `rejected` and `accepted` tables with the expected status, err->pointer and err->msg.
 * Every vendored upstream conformance example must extract, and is then mutated field by
 * field against the type table (conformance_mutations). cdevent_split_type() and
 * cdevent_parse_semver() have tables of their own.
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

#include "core/log.h"
#include "ingest/cdevent.h"
#include "ingest/cdevents_types.h"
#include "sql/model.h"
#include "support/fixture.h"

/* A 0.5.1 service.deployed with only the required fields plus subject.source. */
static const char base_deployed[] =
    "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"e1\",\"source\":\"/src\","
    "\"type\":\"dev.cdevents.service.deployed.0.3.0\","
    "\"timestamp\":\"2024-01-02T03:04:05.678901Z\"},"
    "\"subject\":{\"id\":\"svc\",\"source\":\"/subj\",\"content\":{\"environment\":"
    "{\"id\":\"prod\"},\"artifactId\":\"pkg:oci/app@sha256%3Aabc\"}}}";
#define BASE_TS 1704164645678901

/* A 0.5.1 pipelinerun.finished: content fields all optional, outcome is an enum. */
static const char base_pipeline[] =
    "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"p1\",\"source\":\"/ci\","
    "\"type\":\"dev.cdevents.pipelinerun.finished.0.3.0\","
    "\"timestamp\":\"2024-01-02T03:04:05Z\"},"
    "\"subject\":{\"id\":\"run-1\",\"content\":{\"pipelineName\":\"build\","
    "\"outcome\":\"success\"}}}";

/* An event type a 0.6 producer may send that this build does not know. */
static const char base_approval[] =
    "{\"context\":{\"specversion\":\"0.6.0-draft\",\"id\":\"a1\",\"source\":\"/gate\","
    "\"type\":\"dev.cdevents.approval.requested.0.1.0\","
    "\"timestamp\":\"2024-01-02T03:04:05Z\"},"
    "\"subject\":{\"id\":\"change-7\",\"content\":{\"anything\":true}}}";

/* The member at `path` ("/a/0/b"), creating nothing; the parent when `parent` is set. */
static cJSON *walk(cJSON *root, const char *path, bool parent, const char **last)
{
	cJSON *node = root;
	char seg[128];

	assert_true(path[0] == '/');
	for (const char *p = path + 1;;) {
		size_t n = strcspn(p, "/");
		assert_true(n < sizeof seg);
		memcpy(seg, p, n);
		seg[n] = '\0';
		if (parent && !p[n]) {
			*last = p;
			return node;
		}
		node = cJSON_IsArray(node) ? cJSON_GetArrayItem(node, atoi(seg))
		                           : cJSON_GetObjectItemCaseSensitive(node, seg);
		if (!node)
			fail_msg("no member at %s", path);
		if (!p[n])
			return node;
		p += n + 1;
	}
}

/* Set the member at `path` to the JSON text `value`, or delete it when value is NULL. */
static void edit(cJSON *root, const char *path, const char *value)
{
	const char *name = NULL;
	cJSON *parent = walk(root, path, true, &name);

	if (!value) {
		if (cJSON_IsArray(parent))
			cJSON_DeleteItemFromArray(parent, atoi(name));
		else
			cJSON_DeleteItemFromObjectCaseSensitive(parent, name);
		return;
	}
	cJSON *v = cJSON_Parse(value);
	if (!v)
		fail_msg("bad test value %s", value);
	if (cJSON_GetObjectItemCaseSensitive(parent, name))
		cJSON_ReplaceItemInObjectCaseSensitive(parent, name, v);
	else
		cJSON_AddItemToObject(parent, name, v);
}

static cJSON *parse(const char *text)
{
	cJSON *doc = cJSON_Parse(text);

	if (!doc)
		fail_msg("test document does not parse: %s", text);
	return doc;
}

/* *out must be all zero after a failure. */
static void assert_zeroed(const struct event *ev)
{
	static const struct event zero = {0};

	assert_memory_equal(ev, &zero, sizeof zero);
}

/* Extract `doc`, expecting failure; checks the status, pointer and message. */
static void expect_reject(const cJSON *doc, const struct ce_attrs *ce, const char *ptr,
                          const char *pointer, const char *msg, const char *label)
{
	struct event ev;
	struct err err = {0};

	memset(&ev, 0x5a, sizeof ev);
	if (cdevent_extract(doc, ce, ptr, &ev, &err) != ST_INVALID)
		fail_msg("%s: accepted, expected \"%s\"", label, msg);
	assert_int_equal(err.status, ST_INVALID);
	if (strcmp(err.pointer, pointer) != 0 || (msg && strcmp(err.msg, msg) != 0))
		fail_msg("%s: got pointer \"%s\" msg \"%s\"; expected \"%s\" \"%s\"", label,
		         err.pointer, err.msg, pointer, msg ? msg : "(any)");
	assert_zeroed(&ev);
}

struct edit_case {
	const char *base;
	const char *path;           /* NULL: no edit */
	const char *value;          /* NULL: delete */
	const char *path2, *value2; /* a second edit, or NULL */
	const char *pointer;
	const char *msg;
};

#define SPEC_MISSING "missing field /context/specversion (or context.version before CDEvents 0.5)"
#define NOT_A_VERSION " must be a version such as \"0.5.1\""
#define UNSUPPORTED_SPEC(v)                                                                        \
	": unsupported CDEvents spec version \"" v "\" (0.3 or later is required)"
#define NOT_A_TYPE(t)                                                                              \
	"/context/type: \"" t "\" is not a CDEvents type "                                         \
	"(expected dev.cdevents.<subject>.<predicate>.<version>)"
#define NOT_RFC3339(t) "/context/timestamp: \"" t "\" is not an RFC 3339 date-time with a time zone"

static const struct edit_case rejected[] = {
    /* shape */
    {base_deployed, "/context", NULL, NULL, NULL, "/context", "missing field /context"},
    {base_deployed, "/context", "null", NULL, NULL, "/context", "missing field /context"},
    {base_deployed, "/context", "[]", NULL, NULL, "/context", "/context must be an object"},
    {base_deployed, "/context", "\"x\"", NULL, NULL, "/context", "/context must be an object"},
    {base_deployed, "/subject", NULL, NULL, NULL, "/subject", "missing field /subject"},
    {base_deployed, "/subject", "7", NULL, NULL, "/subject", "/subject must be an object"},
    /* spec version */
    {base_deployed, "/context/specversion", NULL, NULL, NULL, "/context/specversion", SPEC_MISSING},
    {base_deployed, "/context/specversion", "null", NULL, NULL, "/context/specversion",
     SPEC_MISSING},
    {base_deployed, "/context/specversion", "0.5", NULL, NULL, "/context/specversion",
     "/context/specversion" NOT_A_VERSION},
    {base_deployed, "/context/specversion", "\"0.5\"", NULL, NULL, "/context/specversion",
     "/context/specversion" NOT_A_VERSION},
    {base_deployed, "/context/specversion", "\"v0.5.1\"", NULL, NULL, "/context/specversion",
     "/context/specversion" NOT_A_VERSION},
    {base_deployed, "/context/specversion", "\"0.05.1\"", NULL, NULL, "/context/specversion",
     "/context/specversion" NOT_A_VERSION},
    {base_deployed, "/context/specversion", "\"\"", NULL, NULL, "/context/specversion",
     "/context/specversion" NOT_A_VERSION},
    {base_deployed, "/context/specversion", "\"0.2.0\"", NULL, NULL, "/context/specversion",
     "/context/specversion" UNSUPPORTED_SPEC("0.2.0")},
    {base_deployed, "/context/specversion", "\"0.1.0\"", NULL, NULL, "/context/specversion",
     "/context/specversion" UNSUPPORTED_SPEC("0.1.0")},
    {base_deployed, "/context/specversion", "\"99.0.0\"", NULL, NULL, "/context/specversion",
     "/context/specversion" UNSUPPORTED_SPEC("99.0.0")},
    {base_deployed, "/context/specversion", "\"1.0.0\"", NULL, NULL, "/context/specversion",
     "/context/specversion" UNSUPPORTED_SPEC("1.0.0")},
    {base_deployed, "/context/specversion", NULL, "/context/version", "\"0.2.0\"",
     "/context/version", "/context/version" UNSUPPORTED_SPEC("0.2.0")},
    {base_deployed, "/context/specversion", NULL, "/context/version", "4", "/context/version",
     "/context/version" NOT_A_VERSION},
    {base_deployed, "/context/specversion", "null", "/context/version", "\"x\"", "/context/version",
     "/context/version" NOT_A_VERSION},
    /* required context strings */
    {base_deployed, "/context/id", NULL, NULL, NULL, "/context/id", "missing field /context/id"},
    {base_deployed, "/context/id", "null", NULL, NULL, "/context/id", "missing field /context/id"},
    {base_deployed, "/context/id", "\"\"", NULL, NULL, "/context/id",
     "/context/id must be a non-empty string"},
    {base_deployed, "/context/id", "42", NULL, NULL, "/context/id",
     "/context/id must be a non-empty string"},
    {base_deployed, "/context/id", "{}", NULL, NULL, "/context/id",
     "/context/id must be a non-empty string"},
    {base_deployed, "/context/source", NULL, NULL, NULL, "/context/source",
     "missing field /context/source"},
    {base_deployed, "/context/source", "\"\"", NULL, NULL, "/context/source",
     "/context/source must be a non-empty string"},
    {base_deployed, "/context/source", "[\"/src\"]", NULL, NULL, "/context/source",
     "/context/source must be a non-empty string"},
    {base_deployed, "/context/type", NULL, NULL, NULL, "/context/type",
     "missing field /context/type"},
    {base_deployed, "/context/type", "true", NULL, NULL, "/context/type",
     "/context/type must be a non-empty string"},
    {base_deployed, "/context/timestamp", NULL, NULL, NULL, "/context/timestamp",
     "missing field /context/timestamp"},
    {base_deployed, "/context/timestamp", "1704164645", NULL, NULL, "/context/timestamp",
     "/context/timestamp must be a non-empty string"},
    /* the first missing field is reported: id before source before type before timestamp */
    {base_deployed, "/context/timestamp", NULL, "/context/source", NULL, "/context/source",
     "missing field /context/source"},
    /* spec version is checked before the id */
    {base_deployed, "/context/id", NULL, "/context/specversion", "\"0.2.0\"",
     "/context/specversion", "/context/specversion" UNSUPPORTED_SPEC("0.2.0")},
    /* event type */
    {base_deployed, "/context/type", "\"dev.cdevents.service.deployed\"", NULL, NULL,
     "/context/type", NOT_A_TYPE("dev.cdevents.service.deployed")},
    {base_deployed, "/context/type", "\"com.example.service.deployed.0.3.0\"", NULL, NULL,
     "/context/type", NOT_A_TYPE("com.example.service.deployed.0.3.0")},
    {base_deployed, "/context/type", "\"dev.cdevents.service.deployed.0.3\"", NULL, NULL,
     "/context/type", NOT_A_TYPE("dev.cdevents.service.deployed.0.3")},
    {base_deployed, "/context/type", "\"dev.cdevents.service.deployed.0.3.0.1\"", NULL, NULL,
     "/context/type", NOT_A_TYPE("dev.cdevents.service.deployed.0.3.0.1")},
    {base_deployed, "/context/type", "\"dev.cdevents.service-x.deployed.0.3.0\"", NULL, NULL,
     "/context/type", NOT_A_TYPE("dev.cdevents.service-x.deployed.0.3.0")},
    {base_deployed, "/context/type", "\"dev.cdeventsx.resource.created.0.1.0\"", NULL, NULL,
     "/context/type", NOT_A_TYPE("dev.cdeventsx.resource.created.0.1.0")},
    {base_deployed, "/context/type", "\"dev.cdeventsx.-resource.created.0.1.0\"", NULL, NULL,
     "/context/type", NOT_A_TYPE("dev.cdeventsx.-resource.created.0.1.0")},
    {base_deployed, "/context/type", "\"dev.cdevents.service.exploded.0.1.0\"", NULL, NULL,
     "/context/type", "/context/type: unknown event type \"dev.cdevents.service.exploded.0.1.0\""},
    {base_deployed, "/context/type", "\"dev.cdevents.approval.requested.0.1.0\"", NULL, NULL,
     "/context/type",
     "/context/type: unknown event type \"dev.cdevents.approval.requested.0.1.0\""},
    {base_deployed, "/context/type", "\"dev.cdevents.Service.deployed.0.3.0\"", NULL, NULL,
     "/context/type", "/context/type: unknown event type \"dev.cdevents.Service.deployed.0.3.0\""},
    {base_deployed, "/context/type", "\"dev.cdevents.service.deployed.1.0.0\"", NULL, NULL,
     "/context/type",
     "/context/type: unsupported version of event type \"dev.cdevents.service.deployed.1.0.0\""},
    {base_deployed, "/context/type", "\"dev.cdevents.service.deployed.0.0.1\"", NULL, NULL,
     "/context/type",
     "/context/type: unsupported version of event type \"dev.cdevents.service.deployed.0.0.1\""},
    /* a newer spec does not excuse an unknown version of a known type */
    {base_deployed, "/context/type", "\"dev.cdevents.service.deployed.0.0.1\"",
     "/context/specversion", "\"0.6.0-draft\"", "/context/type",
     "/context/type: unsupported version of event type \"dev.cdevents.service.deployed.0.0.1\""},
    /* timestamp */
    {base_deployed, "/context/timestamp", "\"2024-01-02T03:04:05\"", NULL, NULL,
     "/context/timestamp", NOT_RFC3339("2024-01-02T03:04:05")},
    {base_deployed, "/context/timestamp", "\"2024-02-30T03:04:05Z\"", NULL, NULL,
     "/context/timestamp", NOT_RFC3339("2024-02-30T03:04:05Z")},
    {base_deployed, "/context/timestamp", "\"yesterday\"", NULL, NULL, "/context/timestamp",
     NOT_RFC3339("yesterday")},
    /* the type is checked before the timestamp */
    {base_deployed, "/context/timestamp", "\"now\"", "/context/type", "\"x\"", "/context/type",
     NOT_A_TYPE("x")},
    /* optional context fields */
    {base_deployed, "/context/chainId", "\"\"", NULL, NULL, "/context/chainId",
     "/context/chainId must be a non-empty string"},
    {base_deployed, "/context/chainId", "5", NULL, NULL, "/context/chainId",
     "/context/chainId must be a non-empty string"},
    {base_deployed, "/context/chain_id", "\"\"", NULL, NULL, "/context/chain_id",
     "/context/chain_id must be a non-empty string"},
    {base_deployed, "/context/chain_id", "{}", NULL, NULL, "/context/chain_id",
     "/context/chain_id must be a non-empty string"},
    {base_deployed, "/context/chainId", "\"\"", "/context/chain_id", "\"c2\"", "/context/chainId",
     "/context/chainId must be a non-empty string"},
    {base_deployed, "/context/schemaUri", "5", NULL, NULL, "/context/schemaUri",
     "/context/schemaUri must be a string"},
    {base_deployed, "/context/links", "{}", NULL, NULL, "/context/links",
     "/context/links must be an array of link objects"},
    {base_deployed, "/context/links", "\"x\"", NULL, NULL, "/context/links",
     "/context/links must be an array of link objects"},
    {base_deployed, "/context/links", "[\"x\"]", NULL, NULL, "/context/links/0",
     "/context/links/0 must be a link object"},
    {base_deployed, "/context/links", "[{},{},[]]", NULL, NULL, "/context/links/2",
     "/context/links/2 must be a link object"},
    {base_deployed, "/context/links", "[{},null]", NULL, NULL, "/context/links/1",
     "/context/links/1 must be a link object"},
    /* subject */
    {base_deployed, "/subject/id", NULL, NULL, NULL, "/subject/id", "missing field /subject/id"},
    {base_deployed, "/subject/id", "null", NULL, NULL, "/subject/id", "missing field /subject/id"},
    {base_deployed, "/subject/id", "\"\"", NULL, NULL, "/subject/id",
     "/subject/id must be a non-empty string"},
    {base_deployed, "/subject/id", "1", NULL, NULL, "/subject/id",
     "/subject/id must be a non-empty string"},
    {base_deployed, "/subject/source", "1", NULL, NULL, "/subject/source",
     "/subject/source must be a string"},
    {base_deployed, "/subject/type", "{}", NULL, NULL, "/subject/type",
     "/subject/type must be a string"},
    {base_deployed, "/subject/content", "[]", NULL, NULL, "/subject/content",
     "/subject/content must be an object"},
    {base_deployed, "/subject/content", "\"x\"", NULL, NULL, "/subject/content",
     "/subject/content must be an object"},
    {base_deployed, "/subject/content", NULL, NULL, NULL, "/subject/content",
     "missing field /subject/content"},
    {base_deployed, "/subject/content", "null", NULL, NULL, "/subject/content",
     "missing field /subject/content"},
    /* content of service.deployed: environment.id and artifactId required */
    {base_deployed, "/subject/content/environment", NULL, NULL, NULL,
     "/subject/content/environment", "missing field /subject/content/environment"},
    {base_deployed, "/subject/content/environment", "null", NULL, NULL,
     "/subject/content/environment", "missing field /subject/content/environment"},
    {base_deployed, "/subject/content/environment", "\"prod\"", NULL, NULL,
     "/subject/content/environment", "/subject/content/environment must be an object"},
    {base_deployed, "/subject/content/environment/id", NULL, NULL, NULL,
     "/subject/content/environment/id", "missing field /subject/content/environment/id"},
    {base_deployed, "/subject/content/environment/id", "\"\"", NULL, NULL,
     "/subject/content/environment/id", "/subject/content/environment/id must not be empty"},
    {base_deployed, "/subject/content/environment/id", "5", NULL, NULL,
     "/subject/content/environment/id", "/subject/content/environment/id must be a string"},
    {base_deployed, "/subject/content/environment/source", "5", NULL, NULL,
     "/subject/content/environment/source", "/subject/content/environment/source must be a string"},
    {base_deployed, "/subject/content/environment/source", "\"\"", NULL, NULL,
     "/subject/content/environment/source",
     "/subject/content/environment/source must not be empty"},
    {base_deployed, "/subject/content/artifactId", NULL, NULL, NULL, "/subject/content/artifactId",
     "missing field /subject/content/artifactId"},
    {base_deployed, "/subject/content/artifactId", "null", NULL, NULL,
     "/subject/content/artifactId", "missing field /subject/content/artifactId"},
    {base_deployed, "/subject/content/artifactId", "[]", NULL, NULL, "/subject/content/artifactId",
     "/subject/content/artifactId must be a string"},
    /* the context is checked before the subject */
    {base_deployed, "/subject/id", NULL, "/context/id", NULL, "/context/id",
     "missing field /context/id"},
    /* a newer minor is still checked for the fields it must have, and their types */
    {base_deployed, "/context/type", "\"dev.cdevents.service.deployed.0.4.0\"",
     "/subject/content/artifactId", NULL, "/subject/content/artifactId",
     "missing field /subject/content/artifactId"},
    {base_deployed, "/context/type", "\"dev.cdevents.service.deployed.0.9.0\"",
     "/subject/content/environment/id", "7", "/subject/content/environment/id",
     "/subject/content/environment/id must be a string"},
    /* enums: enforced on an exact match and on the same minor */
    {base_pipeline, "/subject/content/outcome", "\"pass\"", NULL, NULL, "/subject/content/outcome",
     "/subject/content/outcome: \"pass\" is not an allowed value"},
    {base_pipeline, "/subject/content/outcome", "\"Success\"", NULL, NULL,
     "/subject/content/outcome", "/subject/content/outcome: \"Success\" is not an allowed value"},
    {base_pipeline, "/subject/content/outcome", "\"pass\"", "/context/type",
     "\"dev.cdevents.pipelinerun.finished.0.3.1\"", "/subject/content/outcome",
     "/subject/content/outcome: \"pass\" is not an allowed value"},
    {base_pipeline, "/subject/content/outcome", "\"pass\"", "/context/specversion",
     "\"0.6.0-draft\"", "/subject/content/outcome",
     "/subject/content/outcome: \"pass\" is not an allowed value"},
    /* ... while non-emptiness and types hold on a newer minor too */
    {base_pipeline, "/subject/content/outcome", "\"\"", "/context/type",
     "\"dev.cdevents.pipelinerun.finished.0.4.0\"", "/subject/content/outcome",
     "/subject/content/outcome must not be empty"},
    {base_pipeline, "/subject/content/outcome", "1", "/context/type",
     "\"dev.cdevents.pipelinerun.finished.0.4.0\"", "/subject/content/outcome",
     "/subject/content/outcome must be a string"},
    {base_pipeline, "/subject/content/pipelineName", "false", NULL, NULL,
     "/subject/content/pipelineName", "/subject/content/pipelineName must be a string"},
    /* an unknown type of a newer spec is kept, but still needs a subject id */
    {base_approval, "/subject/id", NULL, NULL, NULL, "/subject/id", "missing field /subject/id"},
    {base_approval, "/subject/content", "[]", NULL, NULL, "/subject/content",
     "/subject/content must be an object"},
    {base_approval, "/context/id", NULL, NULL, NULL, "/context/id", "missing field /context/id"},
};

static void rejected_edits(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++) {
		const struct edit_case *c = &rejected[i];
		char label[64];
		cJSON *doc = parse(c->base);
		if (c->path)
			edit(doc, c->path, c->value);
		if (c->path2)
			edit(doc, c->path2, c->value2);
		snprintf(label, sizeof label, "rejected[%zu]", i);
		expect_reject(doc, NULL, "", c->pointer, c->msg, label);
		cJSON_Delete(doc);
	}
}

/* The same failures with a pointer prefix (batch item 3 in structured mode), and with a NULL
 * prefix, which means "". */
static void pointer_prefix(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++) {
		const struct edit_case *c = &rejected[i];
		char pointer[256], msg[512], label[64];
		cJSON *doc = parse(c->base);
		if (c->path)
			edit(doc, c->path, c->value);
		if (c->path2)
			edit(doc, c->path2, c->value2);
		snprintf(pointer, sizeof pointer, "/3/data%s", c->pointer);
		/* every message names the field by its full pointer */
		const char *at = strstr(c->msg, c->pointer);
		assert_non_null(at);
		snprintf(msg, sizeof msg, "%.*s/3/data%s", (int)(at - c->msg), c->msg, at);
		snprintf(label, sizeof label, "prefixed rejected[%zu]", i);
		expect_reject(doc, NULL, "/3/data", pointer, msg, label);
		snprintf(label, sizeof label, "NULL-prefix rejected[%zu]", i);
		expect_reject(doc, NULL, NULL, c->pointer, c->msg, label);
		cJSON_Delete(doc);
	}
}

/* A root that is not an object, with and without a prefix. */
static void root_not_object(void **state)
{
	(void)state;
	static const char *const roots[] = {"[]", "\"x\"", "1", "null", "true", "[{}]"};

	for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
		cJSON *doc = parse(roots[i]);
		expect_reject(doc, NULL, "", "", "/: expected a CDEvent JSON object", roots[i]);
		expect_reject(doc, NULL, "/data", "/data", "/data: expected a CDEvent JSON object",
		              roots[i]);
		cJSON_Delete(doc);
	}
	expect_reject(NULL, NULL, "", "", "/: expected a CDEvent JSON object", "NULL root");
	cJSON *empty = parse("{}");
	expect_reject(empty, NULL, "", "/context", "missing field /context", "{}");
	cJSON_Delete(empty);
}

/* What a valid extraction fills in. */
static void extract_fields(void **state)
{
	(void)state;
	cJSON *doc = parse(base_deployed);
	struct event ev;
	struct err err = {0};

	memset(&ev, 0x5a, sizeof ev);
	assert_int_equal(cdevent_extract(doc, NULL, "", &ev, &err), ST_OK);
	assert_string_equal(ev.id, "e1");
	assert_string_equal(ev.source, "/src");
	assert_string_equal(ev.type, "dev.cdevents.service.deployed.0.3.0");
	assert_string_equal(ev.subject, "service");
	assert_string_equal(ev.predicate, "deployed");
	assert_string_equal(ev.type_version, "0.3.0");
	assert_string_equal(ev.spec_version, "0.5.1");
	assert_string_equal(ev.subject_id, "svc");
	assert_string_equal(ev.subject_source, "/subj");
	assert_null(ev.chain_id);
	assert_int_equal(ev.ts_us, BASE_TS);
	/* left for the caller */
	assert_null(ev.raw);
	assert_int_equal(ev.raw_len, 0);
	assert_null(ev.mode);
	assert_null(ev.producer);
	/* strings are copies: the document can go */
	cJSON_Delete(doc);
	assert_string_equal(ev.id, "e1");
	event_release(&ev);
	assert_zeroed(&ev);
}

struct accepted_case {
	const char *base;
	const char *path, *value;
	const char *path2, *value2;
	/* checks (NULL: not checked) */
	const char *spec_version, *type_version, *subject, *chain_id, *subject_source;
	int64_t ts_us; /* 0: not checked */
};

static const struct accepted_case accepted[] = {
    /* unknown fields are ignored everywhere */
    {base_deployed, "/extra", "1", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {base_deployed, "/context/extra", "{\"x\":[1]}", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {base_deployed, "/subject/extra", "null", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {base_deployed, "/subject/content/extra", "[1,2]", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {base_deployed, "/subject/content/environment/extra", "1", NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, 0},
    /* subject.type is optional, and not checked against the event type */
    {base_deployed, "/subject/type", "\"service\"", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {base_deployed, "/subject/type", "\"anything\"", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {base_deployed, "/subject/type", "null", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    /* null optional fields are absent; an empty subject.source is stored as NULL */
    {base_deployed, "/subject/source", "null", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {base_deployed, "/subject/source", "\"\"", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {base_deployed, "/context/chainId", "null", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {base_deployed, "/context/chain_id", "null", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {base_deployed, "/context/schemaUri", "null", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {base_deployed, "/context/schemaUri", "\"\"", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {base_deployed, "/context/links", "null", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {base_deployed, "/context/links", "[]", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {base_deployed, "/context/links", "[{},{\"linkType\":\"END\"}]", NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, 0},
    {base_deployed, "/subject/content/environment/source", "null", NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, 0},
    /* chainId and chain_id (the 0.4.1 markdown spelling); chainId wins */
    {base_deployed, "/context/chainId", "\"c1\"", NULL, NULL, NULL, NULL, NULL, "c1", NULL, 0},
    {base_deployed, "/context/chain_id", "\"c2\"", NULL, NULL, NULL, NULL, NULL, "c2", NULL, 0},
    {base_deployed, "/context/chainId", "\"c1\"", "/context/chain_id", "\"c2\"", NULL, NULL, NULL,
     "c1", NULL, 0},
    {base_deployed, "/context/chainId", "null", "/context/chain_id", "\"c2\"", NULL, NULL, NULL,
     "c2", NULL, 0},
    {base_deployed, "/context/chainId", "\"c1\"", "/context/chain_id", "5", NULL, NULL, NULL, "c1",
     NULL, 0},
    /* spec versions 0.3 and later, under either name; specversion wins over version */
    {base_deployed, "/context/specversion", "\"0.3.0\"", NULL, NULL, "0.3.0", NULL, NULL, NULL,
     NULL, 0},
    {base_deployed, "/context/specversion", "\"0.4.1\"", NULL, NULL, "0.4.1", NULL, NULL, NULL,
     NULL, 0},
    {base_deployed, "/context/specversion", "\"0.5.0\"", NULL, NULL, "0.5.0", NULL, NULL, NULL,
     NULL, 0},
    {base_deployed, "/context/specversion", "\"0.3.9\"", NULL, NULL, "0.3.9", NULL, NULL, NULL,
     NULL, 0},
    {base_deployed, "/context/specversion", "\"0.5.1-rc.1\"", NULL, NULL, "0.5.1-rc.1", NULL, NULL,
     NULL, NULL, 0},
    {base_deployed, "/context/specversion", "\"0.6.0-draft\"", NULL, NULL, "0.6.0-draft", NULL,
     NULL, NULL, NULL, 0},
    {base_deployed, "/context/specversion", "\"0.99999.0\"", NULL, NULL, "0.99999.0", NULL, NULL,
     NULL, NULL, 0},
    {base_deployed, "/context/specversion", NULL, "/context/version", "\"0.4.1\"", "0.4.1", NULL,
     NULL, NULL, NULL, 0},
    {base_deployed, "/context/specversion", "null", "/context/version", "\"0.3.0\"", "0.3.0", NULL,
     NULL, NULL, NULL, 0},
    {base_deployed, "/context/version", "\"0.2.0\"", NULL, NULL, "0.5.1", NULL, NULL, NULL, NULL,
     0},
    /* type versions: same minor other patch, newer minor, other releases' versions */
    {base_deployed, "/context/type", "\"dev.cdevents.service.deployed.0.3.7\"", NULL, NULL, NULL,
     "0.3.7", NULL, NULL, NULL, 0},
    {base_deployed, "/context/type", "\"dev.cdevents.service.deployed.0.4.0\"", NULL, NULL, NULL,
     "0.4.0", NULL, NULL, NULL, 0},
    {base_deployed, "/context/type", "\"dev.cdevents.service.deployed.0.2.0\"", NULL, NULL, NULL,
     "0.2.0", NULL, NULL, NULL, 0},
    {base_deployed, "/context/type", "\"dev.cdevents.service.deployed.0.1.1\"", NULL, NULL, NULL,
     "0.1.1", NULL, NULL, NULL, 0},
    {base_deployed, "/context/type", "\"dev.cdevents.service.deployed.0.3.0-draft\"", NULL, NULL,
     NULL, "0.3.0-draft", NULL, NULL, NULL, 0},
    /* timestamps with offsets and the other separators */
    {base_deployed, "/context/timestamp", "\"2024-01-02T03:04:05-07:00\"", NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, 1704189845000000},
    {base_deployed, "/context/timestamp", "\"2024-01-02 03:04:05.678901z\"", NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, BASE_TS},
    /* enum values: allowed ones, and anything on a newer minor */
    {base_pipeline, "/subject/content/outcome", "\"failure\"", NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, 0},
    {base_pipeline, "/subject/content/outcome", "\"cancel\"", NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, 0},
    {base_pipeline, "/subject/content/outcome", "\"error\"", NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, 0},
    {base_pipeline, "/subject/content/outcome", "null", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     0},
    {base_pipeline, "/subject/content/outcome", "\"pass\"", "/context/type",
     "\"dev.cdevents.pipelinerun.finished.0.4.0\"", NULL, "0.4.0", NULL, NULL, NULL, 0},
    {base_pipeline, "/subject/content/outcome", "\"skipped\"", "/context/type",
     "\"dev.cdevents.pipelinerun.finished.0.7.2\"", NULL, NULL, NULL, NULL, NULL, 0},
    /* in 0.4.1 (type 0.2.0) outcome had no enum */
    {base_pipeline, "/subject/content/outcome", "\"pass\"", "/context/type",
     "\"dev.cdevents.pipelinerun.finished.0.2.0\"", NULL, NULL, NULL, NULL, NULL, 0},
    /* content is optional when its type requires no top-level field */
    {base_pipeline, "/subject/content", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {base_pipeline, "/subject/content", "{}", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {base_pipeline, "/subject/content", "{}", "/context/type",
     "\"dev.cdevents.build.queued.0.3.0\"", NULL, NULL, "build", NULL, NULL, 0},
    {base_pipeline, "/subject/content", NULL, "/context/type",
     "\"dev.cdevents.build.queued.0.3.0\"", NULL, NULL, "build", NULL, NULL, 0},
    /* a newer spec's unknown event type is kept as is */
    {base_pipeline, "/context/type", "\"dev.cdevents.approval.requested.0.1.0\"",
     "/context/specversion", "\"0.6.0-draft\"", "0.6.0-draft", "0.1.0", "approval", NULL, NULL, 0},
    {base_pipeline, "/context/type", "\"dev.cdevents.approval.requested.0.1.0\"",
     "/context/specversion", "\"0.6.0\"", "0.6.0", "0.1.0", "approval", NULL, NULL, 0},
    /* custom events: any content object */
    {base_pipeline, "/context/type", "\"dev.cdeventsx.mytool-resource.created.0.1.0\"",
     "/subject/content", "{\"anything\":[1,{\"x\":null}]}", NULL, "0.1.0", "mytool-resource", NULL,
     NULL, 0},
    {base_pipeline, "/context/type", "\"dev.cdeventsx.my2tool-Res.Created.10.20.30\"",
     "/subject/content", NULL, NULL, "10.20.30", "my2tool-Res", NULL, NULL, 0},
};

static void accepted_edits(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
		const struct accepted_case *c = &accepted[i];
		cJSON *doc = parse(c->base);
		struct event ev;
		struct err err = {0};

		edit(doc, c->path, c->value);
		if (c->path2)
			edit(doc, c->path2, c->value2);
		if (cdevent_extract(doc, NULL, "", &ev, &err) != ST_OK)
			fail_msg("accepted[%zu] rejected: %s (at %s)", i, err.msg, err.pointer);
		if (c->spec_version)
			assert_string_equal(ev.spec_version, c->spec_version);
		if (c->type_version)
			assert_string_equal(ev.type_version, c->type_version);
		if (c->subject)
			assert_string_equal(ev.subject, c->subject);
		if (c->chain_id)
			assert_string_equal(ev.chain_id, c->chain_id);
		if (c->ts_us)
			assert_int_equal(ev.ts_us, c->ts_us);
		event_release(&ev);
		cJSON_Delete(doc);
	}
}

/* subject.source: a string is kept, "" and null become NULL. */
static void subject_source_values(void **state)
{
	(void)state;
	static const struct {
		const char *value;
		const char *want;
	} cases[] = {{"\"/s\"", "/s"}, {"\"\"", NULL}, {"null", NULL}, {NULL, NULL}};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *doc = parse(base_deployed);
		struct event ev;
		struct err err = {0};

		edit(doc, "/subject/source", cases[i].value);
		assert_int_equal(cdevent_extract(doc, NULL, "", &ev, &err), ST_OK);
		if (cases[i].want)
			assert_string_equal(ev.subject_source, cases[i].want);
		else
			assert_null(ev.subject_source);
		event_release(&ev);
		cJSON_Delete(doc);
	}
}

/* Context fields a CDEvent lacks are filled from the CloudEvent attributes; when both are
 * there, the CDEvent wins. */
static void cloudevent_attributes(void **state)
{
	(void)state;
	const struct ce_attrs ce = {"ce-id", "/ce-src", "dev.cdevents.service.deployed.0.3.0",
	                            "2024-01-02T10:04:05.678901+07:00", "req-1"};
	struct event ev;
	struct err err = {0};

	/* all four missing: all from ce */
	cJSON *doc = parse(base_deployed);
	edit(doc, "/context/id", NULL);
	edit(doc, "/context/source", NULL);
	edit(doc, "/context/type", NULL);
	edit(doc, "/context/timestamp", "null");
	assert_int_equal(cdevent_extract(doc, &ce, "", &ev, &err), ST_OK);
	assert_string_equal(ev.id, "ce-id");
	assert_string_equal(ev.source, "/ce-src");
	assert_string_equal(ev.type, "dev.cdevents.service.deployed.0.3.0");
	assert_string_equal(ev.subject, "service");
	assert_int_equal(ev.ts_us, BASE_TS);
	event_release(&ev);
	cJSON_Delete(doc);

	/* all present and different: the CDEvent wins (a warning is logged) */
	const struct ce_attrs other = {"other", "/other", "dev.cdevents.build.queued.0.3.0",
	                               "2000-01-01T00:00:00Z", NULL};
	doc = parse(base_deployed);
	assert_int_equal(cdevent_extract(doc, &other, "", &ev, &err), ST_OK);
	assert_string_equal(ev.id, "e1");
	assert_string_equal(ev.source, "/src");
	assert_string_equal(ev.subject, "service");
	assert_int_equal(ev.ts_us, BASE_TS);
	event_release(&ev);

	/* an empty attribute does not fill anything */
	const struct ce_attrs empty = {"", "", "", "", NULL};
	edit(doc, "/context/id", NULL);
	expect_reject(doc, &empty, "", "/context/id", "missing field /context/id", "empty ce");
	/* a NULL member neither */
	const struct ce_attrs partial = {NULL, "/x", NULL, NULL, NULL};
	expect_reject(doc, &partial, "", "/context/id", "missing field /context/id", "NULL ce.id");
	/* a present-but-empty CDEvent field is an error even when ce has the value */
	edit(doc, "/context/id", "\"\"");
	expect_reject(doc, &ce, "", "/context/id", "/context/id must be a non-empty string",
	              "empty id");
	cJSON_Delete(doc);

	/* a filled-in type and time are validated like the CDEvent's own */
	const struct ce_attrs bad_time = {"i", "/s", "dev.cdevents.service.deployed.0.3.0",
	                                  "2024-01-02T03:04:05", NULL};
	doc = parse(base_deployed);
	edit(doc, "/context/timestamp", NULL);
	expect_reject(doc, &bad_time, "/data", "/data/context/timestamp",
	              "/data" NOT_RFC3339("2024-01-02T03:04:05"), "ce time");
	edit(doc, "/context/type", NULL);
	const struct ce_attrs bad_type = {"i", "/s", "com.example.thing", "2024-01-02T03:04:05Z",
	                                  NULL};
	expect_reject(doc, &bad_type, "", "/context/type", NOT_A_TYPE("com.example.thing"),
	              "ce type");
	cJSON_Delete(doc);
}

/* context.id and context.source are the events table's key: at most EVENT_MAX_ID bytes
 * each, whether the CDEvent carries them or the CloudEvent fills them in (a longer key failed
 * the insert with a 500; tests/data/hostile/). */
static void context_key_length(void **state)
{
	(void)state;
	char long_id[EVENT_MAX_ID + 2], value[EVENT_MAX_ID + 16];
	struct event ev;
	struct err err = {0};

	memset(long_id, 'k', sizeof long_id - 1);
	long_id[sizeof long_id - 1] = '\0'; /* EVENT_MAX_ID + 1 bytes */
	const char *fields[] = {"/context/id", "/context/source"};
	for (size_t i = 0; i < 2; i++) {
		char msg[128];
		cJSON *doc = parse(base_deployed);
		snprintf(value, sizeof value, "\"%.*s\"", EVENT_MAX_ID, long_id);
		edit(doc, fields[i], value);
		assert_int_equal(cdevent_extract(doc, NULL, "", &ev, &err), ST_OK);
		assert_int_equal(strlen(i ? ev.source : ev.id), EVENT_MAX_ID);
		event_release(&ev);
		snprintf(value, sizeof value, "\"%s\"", long_id);
		edit(doc, fields[i], value);
		snprintf(msg, sizeof msg, "%s is longer than %d bytes", fields[i], EVENT_MAX_ID);
		expect_reject(doc, NULL, "", fields[i], msg, fields[i]);
		/* filled in from the CloudEvent */
		const struct ce_attrs ce = {long_id, long_id, NULL, NULL, NULL};
		edit(doc, fields[i], NULL);
		snprintf(msg, sizeof msg, "/data%s is longer than %d bytes", fields[i], EVENT_MAX_ID);
		snprintf(value, sizeof value, "/data%s", fields[i]);
		expect_reject(doc, &ce, "/data", value, msg, "filled");
		cJSON_Delete(doc);
	}
}

static const char base_artifact[] =
    "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"a1\",\"source\":\"/ci\","
    "\"type\":\"dev.cdevents.artifact.published.0.2.0\",\"timestamp\":\"2024-01-02T03:04:05Z\"},"
    "\"subject\":{\"id\":\"pkg:oci/app@1\",\"content\":{}}}";
static const char base_change[] =
    "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"c1\",\"source\":\"/scm\","
    "\"type\":\"dev.cdevents.change.merged.0.3.0\",\"timestamp\":\"2024-01-02T03:04:05Z\"},"
    "\"subject\":{\"id\":\"42\",\"content\":{\"repository\":{\"id\":\"acme/shop\","
    "\"source\":\"https://github.com\"}}}}";
static const char base_repository[] =
    "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"r1\",\"source\":\"/scm\","
    "\"type\":\"dev.cdevents.repository.created.0.3.0\",\"timestamp\":\"2024-01-02T03:04:05Z\"},"
    "\"subject\":{\"id\":\"acme/shop\",\"content\":{\"name\":\"shop\","
    "\"uri\":\"https://github.com/acme/shop\"}}}";

/* Every identifier the linked model keys on: at its limit accepted, one byte over refused
 * with its pointer (sql/model.h: a longer value could not be indexed and was set aside by
 * the correlator). */
static void identifier_lengths(void **state)
{
	(void)state;
	static const struct {
		const char *base, *path;
		int max;
	} cases[] = {
		{base_deployed, "/context/chainId", EVENT_MAX_ID},
		{base_deployed, "/context/links/0/from/contextId", EVENT_MAX_ID},
		{base_deployed, "/context/links/0/target/context_id", EVENT_MAX_ID},
		{base_deployed, "/context/links/0/linkType", EVENT_MAX_ID},
		{base_deployed, "/context/links/0/link_kind", EVENT_MAX_ID},
		{base_pipeline, "/subject/content/name", EVENT_MAX_ID},
		{base_deployed, "/subject/id", EVENT_MAX_ID},
		{base_deployed, "/subject/source", EVENT_MAX_ID},
		{base_deployed, "/subject/content/environment/id", EVENT_MAX_ID},
		{base_deployed, "/subject/content/artifactId", EVENT_MAX_PURL},
		{base_artifact, "/subject/id", EVENT_MAX_PURL},
		{base_change, "/subject/content/repository/id", EVENT_MAX_ID},
		{base_change, "/subject/content/repository/source", EVENT_MAX_ID},
		{base_pipeline, "/subject/content/pipelineName", EVENT_MAX_ID},
		{base_repository, "/subject/content/uri", EVENT_MAX_ID},
		/* whatever the type: an unknown one's content is keyed the same way */
		{base_approval, "/subject/content/environment/id", EVENT_MAX_ID},
		{base_approval, "/subject/content/change/source", EVENT_MAX_ID},
		{base_approval, "/subject/content/service/id", EVENT_MAX_ID},
		{base_approval, "/subject/content/pipelineRun/id", EVENT_MAX_ID},
		{base_approval, "/subject/content/testSuiteRun/id", EVENT_MAX_ID},
	};
	char value[EVENT_MAX_PURL + 8], msg[160];
	struct event ev;
	struct err err = {0};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		cJSON *doc = parse(cases[i].base);
		const char *p = cases[i].path;
		if (strncmp(p, "/context/links/", 15) == 0)
			edit(doc, "/context/links", "[{\"from\":{},\"target\":{}}]");
		else if (strncmp(p, "/subject/content/", 17) == 0 && strchr(p + 17, '/')) {
			char parent[96];
			snprintf(parent, sizeof parent, "%.*s", (int)(strrchr(p, '/') - p), p);
			if (!cJSON_GetObjectItem(walk(doc, "/subject/content", false, NULL),
						 parent + 17))
				edit(doc, parent, "{}");
		}
		value[0] = '"';
		memset(value + 1, 'v', (size_t)cases[i].max);
		snprintf(value + 1 + cases[i].max, 8, "\"");
		edit(doc, p, value);
		if (cdevent_extract(doc, NULL, "", &ev, &err) != ST_OK)
			fail_msg("%s at %d bytes: %s", p, cases[i].max, err.msg);
		event_release(&ev);
		snprintf(value + 1 + cases[i].max, 8, "v\"");
		edit(doc, p, value);
		snprintf(msg, sizeof msg, "%s is longer than %d bytes", p, cases[i].max);
		expect_reject(doc, NULL, "", p, msg, p);
		edit(doc, p, "7"); /* "must be a (non-empty) string" */
		expect_reject(doc, NULL, "", p, NULL, p);
		cJSON_Delete(doc);
	}

	/* a url is a key only for a repository: a long one elsewhere is kept */
	cJSON *doc = parse(base_pipeline);
	value[0] = '"';
	memset(value + 1, 'u', EVENT_MAX_PURL);
	snprintf(value + 1 + EVENT_MAX_PURL, 8, "\"");
	edit(doc, "/subject/content/url", value);
	assert_int_equal(cdevent_extract(doc, NULL, "", &ev, &err), ST_OK);
	event_release(&ev);
	cJSON_Delete(doc);
}

/* Spec versions: which are accepted, and under which name. */
struct spec_case {
	const char *field; /* "specversion" or "version" */
	const char *value;
	bool ok;
};

static const struct spec_case specs[] = {
    {"specversion", "0.3.0", true},    {"specversion", "0.4.0", true},
    {"specversion", "0.4.1", true},    {"specversion", "0.5.0", true},
    {"specversion", "0.5.1", true},    {"specversion", "0.6.0-draft", true},
    {"specversion", "0.6.0", true},    {"version", "0.3.0", true},
    {"version", "0.4.1", true},        {"version", "0.5.0-draft", true},
    {"version", "0.5.1", true},        {"specversion", "0.2.0", false},
    {"specversion", "0.2.9", false},   {"specversion", "0.0.1", false},
    {"specversion", "99.0.0", false},  {"specversion", "1.0.0", false},
    {"version", "0.2.0", false},       {"specversion", "0.5", false},
    {"specversion", "0.5.1.0", false}, {"specversion", "latest", false},
};

static void spec_versions(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		cJSON *doc = parse(base_deployed);
		struct event ev;
		struct err err = {0};
		char path[64], value[64];

		edit(doc, "/context/specversion", NULL);
		snprintf(path, sizeof path, "/context/%s", specs[i].field);
		snprintf(value, sizeof value, "\"%s\"", specs[i].value);
		edit(doc, path, value);
		enum status st = cdevent_extract(doc, NULL, "", &ev, &err);
		if ((st == ST_OK) != specs[i].ok)
			fail_msg("%s=%s: %s", specs[i].field, specs[i].value,
			         st == ST_OK ? "accepted" : err.msg);
		if (st == ST_OK)
			assert_string_equal(ev.spec_version, specs[i].value);
		else
			assert_string_equal(err.pointer, path);
		event_release(&ev);
		cJSON_Delete(doc);
	}
}

/* The timestamp of every upstream example. */
static int64_t example_ts(const char *ts)
{
	if (!strcmp(ts, "2023-03-20T14:27:05.315384Z"))
		return 1679322425315384;
	if (!strcmp(ts, "2022-11-11T13:52:20.079Z"))
		return 1668174740079000;
	fail_msg("unexpected example timestamp %s", ts);
	return 0;
}

static const char *str_at(const cJSON *doc, const char *a, const char *b)
{
	return cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, a), b));
}

static const char *const releases[] = {"0.3.0", "0.4.1", "0.5.1"};

/* Load and extract one example; returns the parsed document (caller deletes). */
static cJSON *check_example(const char *release, const char *dir, const char *name, bool custom)
{
	char path[256];
	struct event ev;
	struct err err = {0};

	snprintf(path, sizeof path, "cdevents-spec/%s/%s/%s", release, dir, name);
	struct fixture f = fixture_load(path);
	cJSON *doc = parse(f.data);
	fixture_release(&f);
	if (cdevent_extract(doc, NULL, "", &ev, &err) != ST_OK)
		fail_msg("%s: %s (at %s)", path, err.msg, err.pointer);

	const char *type = str_at(doc, "context", "type");
	/* "version" up to 0.4.1, "specversion" from 0.5 (the 0.4.1 custom example: "0.5.0-draft")
	 */
	const char *spec =
	    str_at(doc, "context", strcmp(release, "0.5.1") ? "version" : "specversion");
	assert_non_null(spec);
	if (!custom)
		assert_string_equal(spec, release);
	assert_string_equal(ev.spec_version, spec);
	assert_string_equal(ev.type, type);
	assert_string_equal(ev.id, str_at(doc, "context", "id"));
	assert_string_equal(ev.source, str_at(doc, "context", "source"));
	assert_string_equal(ev.subject_id, str_at(doc, "subject", "id"));
	assert_string_equal(ev.subject_source, str_at(doc, "subject", "source"));
	const char *chain = str_at(doc, "context", "chainId");
	if (chain)
		assert_string_equal(ev.chain_id, chain);
	else
		assert_null(ev.chain_id);
	assert_int_equal(ev.ts_us, example_ts(str_at(doc, "context", "timestamp")));

	/* subject_predicate.json names the type; the version is the rest of the type string */
	char want_subject[64], want_type[160];
	if (custom) {
		strcpy(want_subject, "mytool-resource");
		assert_string_equal(ev.predicate, "created");
	} else {
		const char *us = strchr(name, '_');
		snprintf(want_subject, sizeof want_subject, "%.*s", (int)(us - name), name);
		char pred[64];
		snprintf(pred, sizeof pred, "%.*s", (int)(strlen(us + 1) - 5), us + 1);
		assert_string_equal(ev.predicate, pred);
	}
	assert_string_equal(ev.subject, want_subject);
	snprintf(want_type, sizeof want_type, "dev.%s.%s.%s.%s", custom ? "cdeventsx" : "cdevents",
	         ev.subject, ev.predicate, ev.type_version);
	assert_string_equal(want_type, type);
	event_release(&ev);
	return doc;
}

static void conformance_examples_extract(void **state)
{
	(void)state;
	size_t total = 0;

	for (size_t r = 0; r < 3; r++) {
		char dir[64], **names;
		snprintf(dir, sizeof dir, "cdevents-spec/%s/conformance", releases[r]);
		size_t n = fixture_list(dir, ".json", &names);
		for (size_t i = 0; i < n; i++, total++)
			cJSON_Delete(check_example(releases[r], "conformance", names[i], false));
		fixture_names_free(names, n);
		if (r > 0)
			cJSON_Delete(
			    check_example(releases[r], "custom", "conformance.json", true));
	}
	assert_int_equal(total, 39 + 45 + 45);
}

/* A wrong-typed JSON value for a field of `kind` (NULL: any value is fine). */
static const char *wrong_value(enum cdev_kind kind)
{
	switch (kind) {
	case CDEV_STRING:
		return "12345";
	case CDEV_OBJECT:
		return "\"text\"";
	case CDEV_ARRAY:
		return "{}";
	case CDEV_BOOLEAN:
		return "\"true\"";
	case CDEV_NUMBER:
	case CDEV_INTEGER:
		return "\"1\"";
	case CDEV_ANY:
		break;
	}
	return NULL;
}

static const char *kind_text(enum cdev_kind kind)
{
	switch (kind) {
	case CDEV_STRING:
		return "a string";
	case CDEV_OBJECT:
		return "an object";
	case CDEV_ARRAY:
		return "an array";
	case CDEV_BOOLEAN:
		return "a boolean";
	case CDEV_NUMBER:
		return "a number";
	case CDEV_INTEGER:
		return "an integer";
	case CDEV_ANY:
		break;
	}
	return "a value";
}

/* Mutate one field of one example and expect the given failure. */
static void expect_mutation(const char *text, const char *path, const char *value,
                            const char *pointer, const char *msg, const char *label)
{
	cJSON *doc = parse(text);

	edit(doc, path, value);
	expect_reject(doc, NULL, "", pointer, msg, label);
	cJSON_Delete(doc);
}

/* For every field the table lists and the example carries (or could carry): a wrong type,
 * "" where it must not be empty, a value outside its enum, and deletion when required. */
static void mutate_fields(const char *text, const char *label)
{
	cJSON *doc = parse(text);
	const char *type = str_at(doc, "context", "type");
	struct cdev_type_name tn;

	assert_true(cdev_type_parse(type, &tn));
	const struct cdev_type *t =
	    cdev_type_find(tn.subject, tn.predicate, tn.major, tn.minor, tn.patch, NULL);
	assert_non_null(t);
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "subject"), "content");
	for (size_t i = 0; i < t->nfields; i++) {
		const struct cdev_field *f = &t->fields[i];
		char path[256], pointer[256], msg[512], parent[256];
		const char *slash = strrchr(f->path, '/');

		snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - f->path) : 0,
		         f->path);
		bool parent_there =
		    !slash || cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(content, parent));
		if (slash && strchr(parent, '/'))
			continue; /* deeper paths do not occur in the table */
		if (!parent_there)
			continue;
		snprintf(path, sizeof path, "/subject/content/%s", f->path);
		snprintf(pointer, sizeof pointer, "/subject/content/%s", f->path);
		const char *wrong = wrong_value(f->kind);
		if (wrong) {
			snprintf(msg, sizeof msg, "%s must be %s", pointer, kind_text(f->kind));
			expect_mutation(text, path, wrong, pointer, msg, label);
		}
		if (f->required) {
			snprintf(msg, sizeof msg, "missing field %s", pointer);
			expect_mutation(text, path, NULL, pointer, msg, label);
			expect_mutation(text, path, "null", pointer, msg, label);
		}
		if (f->nonempty && f->kind == CDEV_STRING) {
			snprintf(msg, sizeof msg, "%s must not be empty", pointer);
			expect_mutation(text, path, "\"\"", pointer, msg, label);
		}
		if (f->enum_values) {
			snprintf(msg, sizeof msg, "%s: \"no-such-value\" is not an allowed value",
			         pointer);
			expect_mutation(text, path, "\"no-such-value\"", pointer, msg, label);
		}
	}
	cJSON_Delete(doc);
}

static void conformance_mutations(void **state)
{
	(void)state;
	for (size_t r = 0; r < 3; r++) {
		char dir[64], path[160], **names;
		snprintf(dir, sizeof dir, "cdevents-spec/%s/conformance", releases[r]);
		size_t n = fixture_list(dir, ".json", &names);
		for (size_t i = 0; i < n; i++) {
			snprintf(path, sizeof path, "%s/%s", dir, names[i]);
			struct fixture f = fixture_load(path);
			mutate_fields(f.data, path);
			/* context and subject essentials, and the pointers of their failures */
			expect_mutation(f.data, "/subject/id", NULL, "/subject/id",
			                "missing field /subject/id", path);
			expect_mutation(f.data, "/context/id", NULL, "/context/id",
			                "missing field /context/id", path);
			expect_mutation(f.data, "/context/timestamp", "\"2023-03-20T14:27:05\"",
			                "/context/timestamp", NULL, path);
			expect_mutation(f.data, "/subject/content", "[]", "/subject/content",
			                "/subject/content must be an object", path);
			if (r > 0)
				expect_mutation(f.data, "/context/links", "[1]", "/context/links/0",
				                "/context/links/0 must be a link object", path);
			/* subject.type may go in every release */
			cJSON *doc = parse(f.data);
			struct event ev;
			struct err err = {0};
			if (cJSON_GetObjectItemCaseSensitive(
			        cJSON_GetObjectItemCaseSensitive(doc, "subject"), "type"))
				edit(doc, "/subject/type", NULL);
			assert_int_equal(cdevent_extract(doc, NULL, "", &ev, &err), ST_OK);
			event_release(&ev);
			cJSON_Delete(doc);
			fixture_release(&f);
		}
		fixture_names_free(names, n);
	}
}

/* The custom examples: content is any object, but an object it must be. */
static void custom_examples(void **state)
{
	(void)state;
	for (size_t r = 1; r < 3; r++) {
		char path[128];
		snprintf(path, sizeof path, "cdevents-spec/%s/custom/conformance.json",
		         releases[r]);
		struct fixture f = fixture_load(path);
		expect_mutation(f.data, "/subject/content", "\"x\"", "/subject/content",
		                "/subject/content must be an object", path);
		expect_mutation(f.data, "/subject/id", "\"\"", "/subject/id",
		                "/subject/id must be a non-empty string", path);
		expect_mutation(f.data, "/context/type", "\"dev.cdeventsx.mytool-.created.0.1.0\"",
		                "/context/type", NOT_A_TYPE("dev.cdeventsx.mytool-.created.0.1.0"),
		                path);
		cJSON *doc = parse(f.data);
		struct event ev;
		struct err err = {0};
		edit(doc, "/subject/content", NULL);
		edit(doc, "/subject/anything", "{}");
		assert_int_equal(cdevent_extract(doc, NULL, "", &ev, &err), ST_OK);
		assert_true(strncmp(ev.spec_version, "0.5", 3) == 0);
		event_release(&ev);
		cJSON_Delete(doc);
		fixture_release(&f);
	}
}

struct split_case {
	const char *type;
	bool ok;
	const char *subject, *predicate, *version;
	bool custom;
};

static const struct split_case splits[] = {
    {"dev.cdevents.service.deployed.0.3.0", true, "service", "deployed", "0.3.0", false},
    {"dev.cdevents.pipelinerun.finished.0.1.1", true, "pipelinerun", "finished", "0.1.1", false},
    {"dev.cdevents.approval.requested.0.1.0", true, "approval", "requested", "0.1.0", false},
    {"dev.cdevents.Service.Deployed.1.2.3", true, "Service", "Deployed", "1.2.3", false},
    {"dev.cdevents.service.deployed.0.3.0-draft", true, "service", "deployed", "0.3.0-draft",
     false},
    {"dev.cdevents.a.b.99999.99999.99999", true, "a", "b", "99999.99999.99999", false},
    {"dev.cdeventsx.mytool-resource.created.0.1.0", true, "mytool-resource", "created", "0.1.0",
     true},
    {"dev.cdeventsx.my2tool-Res.Created.10.20.30", true, "my2tool-Res", "Created", "10.20.30",
     true},
    {"dev.cdeventsx.1-a.b.0.0.0", true, "1-a", "b", "0.0.0", true},
    {"", false, NULL, NULL, NULL, false},
    {"dev.cdevents.", false, NULL, NULL, NULL, false},
    {"dev.cdevents.service", false, NULL, NULL, NULL, false},
    {"dev.cdevents.service.deployed", false, NULL, NULL, NULL, false},
    {"dev.cdevents.service.deployed.", false, NULL, NULL, NULL, false},
    {"dev.cdevents..deployed.0.1.0", false, NULL, NULL, NULL, false},
    {"dev.cdevents.service..0.1.0", false, NULL, NULL, NULL, false},
    {"dev.cdevents.service.deployed.0.1", false, NULL, NULL, NULL, false},
    {"dev.cdevents.service.deployed.0.1.0.0", false, NULL, NULL, NULL, false},
    {"dev.cdevents.service.deployed.v1", false, NULL, NULL, NULL, false},
    {"dev.cdevents.service.deployed.01.0.0", false, NULL, NULL, NULL, false},
    {"dev.cdevents.service.deployed.0.1.0+build", false, NULL, NULL, NULL, false},
    {"dev.cdevents.serv1ce.deployed.0.1.0", false, NULL, NULL, NULL, false},
    {"dev.cdevents.service_x.deployed.0.1.0", false, NULL, NULL, NULL, false},
    {"dev.cdevents.service-x.deployed.0.1.0", false, NULL, NULL, NULL, false},
    {"dev.cdevents.service.deploy-ed.0.1.0", false, NULL, NULL, NULL, false},
    {"dev.cdevents.service.deployed1.0.1.0", false, NULL, NULL, NULL, false},
    {"dev.cdeventsx.resource.created.0.1.0", false, NULL, NULL, NULL, false},
    {"dev.cdeventsx.mytool-.created.0.1.0", false, NULL, NULL, NULL, false},
    {"dev.cdeventsx.-resource.created.0.1.0", false, NULL, NULL, NULL, false},
    {"dev.cdeventsx.my-tool-res.created.0.1.0", false, NULL, NULL, NULL, false},
    {"dev.cdeventsx.mytool-res1.created.0.1.0", false, NULL, NULL, NULL, false},
    {"dev.cdeventsx.mytool-res.cre-ated.0.1.0", false, NULL, NULL, NULL, false},
    {"DEV.CDEVENTS.service.deployed.0.1.0", false, NULL, NULL, NULL, false},
    {"cdevents.service.deployed.0.1.0", false, NULL, NULL, NULL, false},
    {"dev.cdevents", false, NULL, NULL, NULL, false},
    {" dev.cdevents.service.deployed.0.1.0", false, NULL, NULL, NULL, false},
};

static void split_type_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof splits / sizeof splits[0]; i++) {
		const struct split_case *c = &splits[i];
		char subject[128], predicate[128], version[128];
		bool custom = !c->custom;

		bool ok = cdevent_split_type(c->type, subject, predicate, version, sizeof subject,
		                             &custom);
		if (ok != c->ok)
			fail_msg("cdevent_split_type(\"%s\") = %d", c->type, ok);
		if (!ok)
			continue;
		assert_string_equal(subject, c->subject);
		assert_string_equal(predicate, c->predicate);
		assert_string_equal(version, c->version);
		assert_int_equal(custom, c->custom);
	}
}

/* Each part must fit in `cap` bytes including the NUL. */
static void split_type_capacity(void **state)
{
	(void)state;
	char s[8], p[8], v[8];
	bool custom;

	assert_true(
	    cdevent_split_type("dev.cdevents.abcdefg.abcdefg.1.2.345", s, p, v, 8, &custom));
	assert_string_equal(s, "abcdefg");
	assert_string_equal(v, "1.2.345");
	assert_false(cdevent_split_type("dev.cdevents.abcdefgh.a.1.2.3", s, p, v, 8, &custom));
	assert_false(cdevent_split_type("dev.cdevents.a.abcdefgh.1.2.3", s, p, v, 8, &custom));
	assert_false(cdevent_split_type("dev.cdevents.a.b.1.2.3456", s, p, v, 8, &custom));
}

struct semver_case {
	const char *s;
	bool ok;
	int major, minor, patch;
};

static const struct semver_case semvers[] = {
    {"0.0.0", true, 0, 0, 0},
    {"0.5.1", true, 0, 5, 1},
    {"1.2.3", true, 1, 2, 3},
    {"10.20.30", true, 10, 20, 30},
    {"99999.99999.99999", true, 99999, 99999, 99999},
    {"0.6.0-draft", true, 0, 6, 0},
    {"1.2.3-rc.1", true, 1, 2, 3},
    {"1.2.3-a-b", true, 1, 2, 3},
    {"1.2.3-0", true, 1, 2, 3},
    {"", false, 0, 0, 0},
    {"1", false, 0, 0, 0},
    {"1.2", false, 0, 0, 0},
    {"1.2.", false, 0, 0, 0},
    {"1.2.3.", false, 0, 0, 0},
    {"1.2.3.4", false, 0, 0, 0},
    {"01.2.3", false, 0, 0, 0},
    {"1.02.3", false, 0, 0, 0},
    {"1.2.03", false, 0, 0, 0},
    {"00.0.0", false, 0, 0, 0},
    {"100000.0.0", false, 0, 0, 0},
    {"0.100000.0", false, 0, 0, 0},
    {"0.0.1000000", false, 0, 0, 0},
    {"1.2.3-", false, 0, 0, 0},
    {"1.2.3-rc_1", false, 0, 0, 0},
    {"1.2.3-rc 1", false, 0, 0, 0},
    {"1.2.3+build", false, 0, 0, 0},
    {"1.2.3-rc+build", false, 0, 0, 0},
    {"v1.2.3", false, 0, 0, 0},
    {"1..3", false, 0, 0, 0},
    {".1.2", false, 0, 0, 0},
    {"1.2.3 ", false, 0, 0, 0},
    {" 1.2.3", false, 0, 0, 0},
    {"-1.2.3", false, 0, 0, 0},
    {"1.-2.3", false, 0, 0, 0},
    {"1.2.3-\xc3\xa9", false, 0, 0, 0},
    {"a.b.c", false, 0, 0, 0},
};

static void semver_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof semvers / sizeof semvers[0]; i++) {
		const struct semver_case *c = &semvers[i];
		int major = -1, minor = -1, patch = -1;

		bool ok = cdevent_parse_semver(c->s, &major, &minor, &patch);
		if (ok != c->ok)
			fail_msg("cdevent_parse_semver(\"%s\") = %d", c->s, ok);
		if (!ok)
			continue;
		assert_int_equal(major, c->major);
		assert_int_equal(minor, c->minor);
		assert_int_equal(patch, c->patch);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rejected_edits),
	    cmocka_unit_test(pointer_prefix),
	    cmocka_unit_test(root_not_object),
	    cmocka_unit_test(extract_fields),
	    cmocka_unit_test(accepted_edits),
	    cmocka_unit_test(subject_source_values),
	    cmocka_unit_test(cloudevent_attributes),
	    cmocka_unit_test(context_key_length),
	    cmocka_unit_test(identifier_lengths),
	    cmocka_unit_test(spec_versions),
	    cmocka_unit_test(conformance_examples_extract),
	    cmocka_unit_test(conformance_mutations),
	    cmocka_unit_test(custom_examples),
	    cmocka_unit_test(split_type_table),
	    cmocka_unit_test(split_type_capacity),
	    cmocka_unit_test(semver_table),
	};

	/* the CloudEvent/CDEvent disagreement warnings are expected here */
	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
