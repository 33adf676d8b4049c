/*
 * tests/ingest/test_cdevents_types.c: the generated event type table against the vendored
 * upstream data (tests/data/cdevents-spec), and the lookup rules of ingest/cdevents_lookup.c.
 *
 * The conformance tests are the check that the generator read the schemas correctly:
 * every upstream example must be found with CDEV_EXACT, carry every required field the
 * table lists, and have the JSON type, non-emptiness and enum value the table gives for
 * every field it carries. When you add a release, add it to `releases` below.
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

#include "ingest/cdevents_types.h"
#include "support/fixture.h"

struct release {
	const char *name;
	size_t ntypes;
	size_t nfields;
};

static const struct release releases[] = {
    {"0.3.0", 39, 190},
    {"0.4.1", 45, 241},
    {"0.5.1", 45, 241},
};
#define NRELEASES (sizeof releases / sizeof releases[0])

/* Walk a table path ("environment/id") from `content`; NULL if any step is missing. */
static const cJSON *pointer_get(const cJSON *content, const char *path)
{
	char seg[256];
	const cJSON *node = content;

	while (node && *path) {
		size_t n = 0;
		for (; *path && *path != '/'; path++) {
			char c = *path;
			if (c == '~') {
				c = path[1] == '1' ? '/' : '~';
				path++;
			}
			assert_true(n < sizeof seg - 1);
			seg[n++] = c;
		}
		seg[n] = '\0';
		if (*path == '/')
			path++;
		node = cJSON_IsObject(node) ? cJSON_GetObjectItemCaseSensitive(node, seg) : NULL;
	}
	return node;
}

/* The parent path of `path` ("environment" for "environment/id"; "" for top level). */
static void parent_of(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	assert_true(n < cap);
	memcpy(out, path, n);
	out[n] = '\0';
}

static bool kind_matches(const cJSON *v, enum cdev_kind kind)
{
	switch (kind) {
	case CDEV_ANY:
		return true;
	case CDEV_STRING:
		return cJSON_IsString(v);
	case CDEV_OBJECT:
		return cJSON_IsObject(v);
	case CDEV_ARRAY:
		return cJSON_IsArray(v);
	case CDEV_BOOLEAN:
		return cJSON_IsBool(v);
	case CDEV_NUMBER:
		return cJSON_IsNumber(v);
	case CDEV_INTEGER:
		return cJSON_IsNumber(v) && v->valuedouble == (double)(int64_t)v->valuedouble;
	}
	return false;
}

static bool in_enum(const char *s, const char *const *values)
{
	for (; *values; values++)
		if (!strcmp(*values, s))
			return true;
	return false;
}

/* Check every field of `t` against the example's subject.content. */
static void check_content(const char *file, const struct cdev_type *t, const cJSON *content)
{
	for (size_t i = 0; i < t->nfields; i++) {
		const struct cdev_field *f = &t->fields[i];
		char parent[256];

		parent_of(f->path, parent, sizeof parent);
		const cJSON *up = pointer_get(content, parent);
		const cJSON *v = pointer_get(content, f->path);
		if (!v) {
			if (up && f->required)
				fail_msg("%s: required field %s missing", file, f->path);
			continue;
		}
		if (!kind_matches(v, f->kind))
			fail_msg("%s: field %s has the wrong type", file, f->path);
		if (f->nonempty && cJSON_IsString(v) && !strcmp(v->valuestring, ""))
			fail_msg("%s: field %s is empty", file, f->path);
		if (f->enum_values &&
		    (!cJSON_IsString(v) || !in_enum(v->valuestring, f->enum_values)))
			fail_msg("%s: field %s has value %s outside its enum", file, f->path,
			         cJSON_GetStringValue(v));
	}
}

/* Check one conformance example; returns the table index it matched. */
static size_t check_example(const struct release *rel, const char *name)
{
	char rel_path[512];
	struct cdev_type_name tn;
	enum cdev_match how = CDEV_NEWER_MINOR;

	snprintf(rel_path, sizeof rel_path, "cdevents-spec/%s/conformance/%s", rel->name, name);
	struct fixture fx = fixture_load(rel_path);
	cJSON *doc = cJSON_ParseWithLength(fx.data, fx.len);
	assert_non_null(doc);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "context"), "type");
	const cJSON *subject = cJSON_GetObjectItemCaseSensitive(doc, "subject");
	assert_true(cJSON_IsString(type));
	assert_true(cdev_type_parse(type->valuestring, &tn));
	assert_false(tn.custom);
	const struct cdev_type *t =
	    cdev_type_find(tn.subject, tn.predicate, tn.major, tn.minor, tn.patch, &how);
	if (!t)
		fail_msg("%s: type %s not in the table", rel_path, type->valuestring);
	assert_int_equal(how, CDEV_EXACT);
	assert_string_equal(t->release, rel->name);
	if (t->subject_type_required)
		assert_non_null(cJSON_GetObjectItemCaseSensitive(subject, "type"));
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(subject, "content");
	if (t->content_required)
		assert_true(cJSON_IsObject(content));
	check_content(rel_path, t, content);
	cJSON_Delete(doc);
	fixture_release(&fx);
	return (size_t)(t - cdev_types);
}

/* Every example of every release is found exactly, and every table entry has an example. */
static void conformance_examples_match_table(void **state)
{
	(void)state;
	bool *seen = calloc(cdev_ntypes, sizeof *seen);

	assert_non_null(seen);
	for (size_t r = 0; r < NRELEASES; r++) {
		char dir[128], **names = NULL;

		snprintf(dir, sizeof dir, "cdevents-spec/%s/conformance", releases[r].name);
		size_t n = fixture_list(dir, ".json", &names);
		assert_int_equal(n, releases[r].ntypes);
		for (size_t i = 0; i < n; i++) {
			size_t idx = check_example(&releases[r], names[i]);
			assert_false(seen[idx]);
			seen[idx] = true;
		}
		fixture_names_free(names, n);
	}
	for (size_t i = 0; i < cdev_ntypes; i++)
		if (!seen[i])
			fail_msg("no conformance example for %s.%s %s (%s)", cdev_types[i].subject,
			         cdev_types[i].predicate, cdev_types[i].version,
			         cdev_types[i].release);
	free(seen);
}

/* 39, 45 and 45 types (one per schema file), with the field counts of the generated file. */
static void table_counts_per_release(void **state)
{
	(void)state;
	size_t total = 0;

	for (size_t r = 0; r < NRELEASES; r++) {
		char dir[128], **names = NULL;
		size_t ntypes = 0, nfields = 0;

		for (size_t i = 0; i < cdev_ntypes; i++) {
			if (strcmp(cdev_types[i].release, releases[r].name))
				continue;
			ntypes++;
			nfields += cdev_types[i].nfields;
		}
		snprintf(dir, sizeof dir, "cdevents-spec/%s/schemas", releases[r].name);
		size_t nschemas = fixture_list(dir, ".json", &names);
		fixture_names_free(names, nschemas);
		assert_int_equal(ntypes, releases[r].ntypes);
		assert_int_equal(nschemas, releases[r].ntypes);
		assert_int_equal(nfields, releases[r].nfields);
		total += ntypes;
	}
	assert_int_equal(total, cdev_ntypes);
}

static void check_fields_well_formed(const struct cdev_type *t)
{
	assert_true((t->fields == NULL) == (t->nfields == 0));
	for (size_t i = 0; i < t->nfields; i++) {
		const struct cdev_field *f = &t->fields[i];
		char parent[256];
		bool found = false;

		assert_true(f->path[0] != '\0' && f->path[0] != '/');
		assert_true(!f->nonempty || f->kind == CDEV_STRING);
		assert_true(!f->enum_values || f->enum_values[0] != NULL);
		parent_of(f->path, parent, sizeof parent);
		if (!parent[0])
			continue;
		for (size_t j = 0; j < i && !found; j++)
			found =
			    !strcmp(t->fields[j].path, parent) && t->fields[j].kind == CDEV_OBJECT;
		if (!found)
			fail_msg("%s.%s %s: %s listed before its parent", t->subject, t->predicate,
			         t->version, f->path);
	}
}

/* Parents precede children, releases are ascending, 0.3/0.4 require subject.type. */
static void table_is_well_formed(void **state)
{
	(void)state;

	for (size_t i = 0; i < cdev_ntypes; i++) {
		const struct cdev_type *t = &cdev_types[i];
		bool is_051 = !strcmp(t->release, "0.5.1");

		assert_true(i == 0 || strcmp(cdev_types[i - 1].release, t->release) <= 0);
		assert_true(t->content_required);
		assert_true(t->subject_type_required == !is_051);
		check_fields_well_formed(t);
	}
}

struct lookup_case {
	const char *subject, *predicate;
	int major, minor, patch;
	const char *version, *release; /* expected; NULL: not found */
	enum cdev_match how;
};

/* Versions: service.deployed 0.1.1 (0.3.0), 0.2.0 (0.4.1), 0.3.0 (0.5.1);
 *           change.created 0.1.2, 0.3.0, 0.4.0; ticket.closed 0.1.0 (0.4.1), 0.2.0 (0.5.1). */
static const struct lookup_case lookups[] = {
    {"service", "deployed", 0, 1, 1, "0.1.1", "0.3.0", CDEV_EXACT},
    {"service", "deployed", 0, 2, 0, "0.2.0", "0.4.1", CDEV_EXACT},
    {"service", "deployed", 0, 3, 0, "0.3.0", "0.5.1", CDEV_EXACT},
    {"artifact", "deleted", 0, 1, 0, "0.1.0", "0.4.1", CDEV_EXACT},
    {"service", "deployed", 0, 1, 0, "0.1.1", "0.3.0", CDEV_SAME_MINOR},
    {"service", "deployed", 0, 1, 7, "0.1.1", "0.3.0", CDEV_SAME_MINOR},
    {"service", "deployed", 0, 3, 4, "0.3.0", "0.5.1", CDEV_SAME_MINOR},
    {"service", "deployed", 0, 4, 0, "0.3.0", "0.5.1", CDEV_NEWER_MINOR},
    {"change", "created", 0, 9, 3, "0.4.0", "0.5.1", CDEV_NEWER_MINOR},
    {"change", "created", 0, 2, 0, NULL, NULL, CDEV_EXACT},   /* older unknown minor */
    {"ticket", "closed", 0, 0, 1, NULL, NULL, CDEV_EXACT},    /* older unknown minor */
    {"service", "exploded", 0, 1, 1, NULL, NULL, CDEV_EXACT}, /* unknown predicate */
    {"rocket", "deployed", 0, 1, 1, NULL, NULL, CDEV_EXACT},  /* unknown subject */
    {"service", "deployed", 1, 0, 0, NULL, NULL, CDEV_EXACT}, /* different major */
    {"service", "deployed", 1, 9, 0, NULL, NULL, CDEV_EXACT}, /* different major */
    {"Service", "deployed", 0, 1, 1, NULL, NULL, CDEV_EXACT}, /* case-sensitive */
    {"pipelinerun", "finished", 0, 3, 0, "0.3.0", "0.5.1", CDEV_EXACT},
    {"pipelineRun", "finished", 0, 3, 0, NULL, NULL, CDEV_EXACT},
};

static void check_lookup(const struct cdev_type *table, size_t n, const struct lookup_case *c)
{
	const enum cdev_match unset = (enum cdev_match)99; /* not a valid value */
	enum cdev_match how = unset;
	const struct cdev_type *t = cdev_type_find_in(table, n, c->subject, c->predicate, c->major,
	                                              c->minor, c->patch, &how);

	if (!c->version) {
		if (t)
			fail_msg("%s.%s %d.%d.%d: expected no match, got %s", c->subject,
			         c->predicate, c->major, c->minor, c->patch, t->version);
		assert_int_equal(how, unset); /* left untouched */
		return;
	}
	if (!t)
		fail_msg("%s.%s %d.%d.%d: expected %s", c->subject, c->predicate, c->major,
		         c->minor, c->patch, c->version);
	assert_string_equal(t->subject, c->subject);
	assert_string_equal(t->predicate, c->predicate);
	assert_string_equal(t->version, c->version);
	assert_string_equal(t->release, c->release);
	assert_int_equal(how, c->how);
}

static void lookup_rules(void **state)
{
	(void)state;

	for (size_t i = 0; i < sizeof lookups / sizeof lookups[0]; i++)
		check_lookup(cdev_types, cdev_ntypes, &lookups[i]);
	/* cdev_type_find() is the same search; `how` may be NULL */
	assert_ptr_equal(
	    cdev_type_find("service", "deployed", 0, 1, 0, NULL),
	    cdev_type_find_in(cdev_types, cdev_ntypes, "service", "deployed", 0, 1, 0, NULL));
	assert_null(cdev_type_find(NULL, "deployed", 0, 1, 1, NULL));
	assert_null(cdev_type_find("service", NULL, 0, 1, 1, NULL));
}

/* Rules the real data does not exercise: one type version in several releases, several
 * patches of one minor. */
static const struct cdev_type synthetic[] = {
    {"x", "done", "0.2.0", "0.5.1", NULL, 0, false, true},
    {"x", "done", "0.1.0", "0.3.0", NULL, 0, true, true},
    {"x", "done", "0.1.3", "0.3.0", NULL, 0, true, true},
    {"x", "done", "0.2.0", "0.4.1", NULL, 0, true, true},
    {"x", "done", "0.2.1", "0.3.0", NULL, 0, true, true},
    {"x", "done", "0.1.3", "0.4.1", NULL, 0, true, true},
    {"x", "done", "0.2.1", "0.4.1", NULL, 0, true, true},
    {"x", "done", "1.0.0", "0.5.1", NULL, 0, false, true},
    {"y", "done", "0.1.0", "0.3.0", NULL, 0, true, true},
    {"y", "done", "0.3.0", "0.4.1", NULL, 0, true, true},
};

static const struct lookup_case synthetic_lookups[] = {
    {"x", "done", 0, 2, 0, "0.2.0", "0.5.1", CDEV_EXACT},
    {"x", "done", 0, 1, 3, "0.1.3", "0.4.1", CDEV_EXACT},
    {"x", "done", 0, 1, 1, "0.1.3", "0.4.1", CDEV_SAME_MINOR},
    {"x", "done", 0, 2, 5, "0.2.1", "0.4.1", CDEV_SAME_MINOR},
    {"x", "done", 0, 3, 0, "0.2.1", "0.4.1", CDEV_NEWER_MINOR},
    {"x", "done", 0, 0, 9, NULL, NULL, CDEV_EXACT},
    {"x", "done", 1, 0, 2, "1.0.0", "0.5.1", CDEV_SAME_MINOR},
    {"x", "done", 1, 1, 0, "1.0.0", "0.5.1", CDEV_NEWER_MINOR},
    {"x", "done", 2, 0, 0, NULL, NULL, CDEV_EXACT},
    {"y", "done", 0, 2, 0, NULL, NULL, CDEV_EXACT}, /* a gap between known minors */
    {"y", "done", 0, 4, 0, "0.3.0", "0.4.1", CDEV_NEWER_MINOR},
    {"y", "done", 0, 0, 0, NULL, NULL, CDEV_EXACT},
};

static void lookup_prefers_newest_release_and_patch(void **state)
{
	(void)state;
	const size_t n = sizeof synthetic / sizeof synthetic[0];

	for (size_t i = 0; i < sizeof synthetic_lookups / sizeof synthetic_lookups[0]; i++)
		check_lookup(synthetic, n, &synthetic_lookups[i]);
}

static void known_subject_predicates(void **state)
{
	(void)state;

	assert_true(cdev_type_known("service", "deployed"));
	assert_true(cdev_type_known("ticket", "closed"));       /* 0.4.1 on */
	assert_true(cdev_type_known("testcaserun", "skipped")); /* 0.4.1 on */
	assert_true(cdev_type_known("artifact", "published"));  /* no fields in 0.3.0 */
	assert_false(cdev_type_known("service", "exploded"));
	assert_false(cdev_type_known("approval", "requested")); /* 0.6.0-draft only */
	assert_false(cdev_type_known("pipelineRun", "started"));
	assert_false(cdev_type_known(NULL, "started"));
	assert_false(cdev_type_known("service", NULL));
}

struct parse_case {
	const char *type;
	bool custom;
	const char *tool, *subject, *predicate;
	int major, minor, patch;
};

static const struct parse_case parses[] = {
    {"dev.cdevents.service.deployed.0.3.0", false, "", "service", "deployed", 0, 3, 0},
    {"dev.cdevents.pipelinerun.finished.10.200.3", false, "", "pipelinerun", "finished", 10, 200,
     3},
    {"dev.cdevents.a.b.999999999.0.0", false, "", "a", "b", 999999999, 0, 0},
    {"dev.cdeventsx.mytool-resource.created.0.1.0", true, "mytool", "resource", "created", 0, 1, 0},
    {"dev.cdeventsx.My2tool-Res.Created.9.8.7", true, "My2tool", "Res", "Created", 9, 8, 7},
};

static const char *const bad_types[] = {
    "dev.cdevents.service.deployed.0.3",
    "dev.cdevents.service.deployed.0.3.0.1",
    "dev.cdevents.service.deployed.0.3.0-draft",
    "dev.cdevents.service.deployed.0.03.0",
    "dev.cdevents.service.deployed.0.3.",
    "dev.cdevents.service.deployed.1000000000.0.0",
    "dev.cdevents.pipelineRun.started.0.1.0",
    "dev.cdevents.service..0.1.0",
    "dev.cdevents.service.deployed",
    "dev.cdevents.",
    "dev.cdevents",
    "",
    "dev.cdeventsx.mytool.created.0.1.0",           /* no "-<subject>" */
    "dev.cdeventsx.my-tool-resource.created.0.1.0", /* '-' in the tool */
    "dev.cdeventsx.mytool-res2.created.0.1.0",      /* digit in the subject */
    "dev.cdeventsx.mytool-resource.created.0.10.0", /* one digit per part */
    "dev.cdeventsx.mytool-resource.created.0.1",
    "dev.cdeventsx.mytool-resource.created.0.1.0.1",
    "dev.cdeventsx.mytool-resource.created.0.1.0x",
    "dev.cdeventsx.mytool-resource.created.0.1.",
    "dev.cdeventsx.mytool-resource.created.",
    "dev.cdevents.x.service.deployed.0.1.0",
    "dev.cdeventsy.mytool-resource.created.0.1.0",
    "com.example.service.deployed.0.1.0",
};

static void parse_type_strings(void **state)
{
	(void)state;

	for (size_t i = 0; i < sizeof parses / sizeof parses[0]; i++) {
		const struct parse_case *c = &parses[i];
		struct cdev_type_name n;

		if (!cdev_type_parse(c->type, &n))
			fail_msg("cdev_type_parse(\"%s\") failed", c->type);
		assert_int_equal(n.custom, c->custom);
		assert_string_equal(n.tool, c->tool);
		assert_string_equal(n.subject, c->subject);
		assert_string_equal(n.predicate, c->predicate);
		assert_int_equal(n.major, c->major);
		assert_int_equal(n.minor, c->minor);
		assert_int_equal(n.patch, c->patch);
	}
	for (size_t i = 0; i < sizeof bad_types / sizeof bad_types[0]; i++) {
		struct cdev_type_name n;

		memset(&n, 0x55, sizeof n);
		if (cdev_type_parse(bad_types[i], &n))
			fail_msg("cdev_type_parse(\"%s\") succeeded", bad_types[i]);
		assert_false(n.custom); /* zeroed on failure */
		assert_string_equal(n.subject, "");
		assert_int_equal(n.major, 0);
	}
}

/* Names up to CDEV_NAME_MAX - 1 bytes fit; one more fails. NULL fails. */
static void parse_bounds(void **state)
{
	(void)state;
	char name[CDEV_NAME_MAX + 1], type[256];
	struct cdev_type_name n;

	memset(name, 'a', sizeof name);
	name[CDEV_NAME_MAX - 1] = '\0';
	snprintf(type, sizeof type, "dev.cdevents.%s.deployed.0.1.0", name);
	assert_true(cdev_type_parse(type, &n));
	assert_int_equal(strlen(n.subject), CDEV_NAME_MAX - 1);
	name[CDEV_NAME_MAX - 1] = 'a';
	name[CDEV_NAME_MAX] = '\0';
	snprintf(type, sizeof type, "dev.cdeventsx.%s-res.created.0.1.0", name);
	assert_false(cdev_type_parse(type, &n));
	assert_false(cdev_type_parse(NULL, &n));
}

static const char *string_at(const cJSON *doc, const char *const *keys)
{
	for (; *keys && doc; keys++)
		doc = cJSON_GetObjectItemCaseSensitive(doc, *keys);
	return cJSON_GetStringValue(doc);
}

/* The macros are the upstream patterns, and the upstream custom examples parse. */
static void custom_events_follow_upstream(void **state)
{
	(void)state;
	static const char *const type_keys[] = {"properties", "context", "properties",
	                                        "type",       "pattern", NULL};
	static const char *const subject_type_keys[] = {"properties", "subject", "properties",
	                                                "type",       "pattern", NULL};
	static const char *const custom_releases[] = {"0.4.1", "0.5.1"};

	for (size_t r = 0; r < 2; r++) {
		char path[128];
		struct cdev_type_name n;

		snprintf(path, sizeof path, "cdevents-spec/%s/custom/schema.json",
		         custom_releases[r]);
		struct fixture fx = fixture_load(path);
		cJSON *schema = cJSON_ParseWithLength(fx.data, fx.len);
		assert_non_null(schema);
		assert_string_equal(string_at(schema, type_keys), CDEV_CUSTOM_TYPE_PATTERN);
		const char *st = string_at(schema, subject_type_keys);
		if (r == 0)
			assert_string_equal(st, CDEV_CUSTOM_SUBJECT_TYPE_PATTERN);
		else
			assert_null(st); /* 0.5.1 dropped subject.type */
		cJSON_Delete(schema);
		fixture_release(&fx);

		snprintf(path, sizeof path, "cdevents-spec/%s/custom/conformance.json",
		         custom_releases[r]);
		fx = fixture_load(path);
		cJSON *example = cJSON_ParseWithLength(fx.data, fx.len);
		assert_non_null(example);
		assert_true(cdev_type_parse(
		    string_at(example, (const char *const[]){"context", "type", NULL}), &n));
		assert_true(n.custom);
		assert_string_equal(n.tool, "mytool");
		assert_string_equal(n.subject, "resource");
		assert_string_equal(n.predicate, "created");
		assert_null(
		    cdev_type_find(n.subject, n.predicate, n.major, n.minor, n.patch, NULL));
		cJSON_Delete(example);
		fixture_release(&fx);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(table_counts_per_release),
	    cmocka_unit_test(table_is_well_formed),
	    cmocka_unit_test(conformance_examples_match_table),
	    cmocka_unit_test(lookup_rules),
	    cmocka_unit_test(lookup_prefers_newest_release_and_patch),
	    cmocka_unit_test(known_subject_predicates),
	    cmocka_unit_test(parse_type_strings),
	    cmocka_unit_test(parse_bounds),
	    cmocka_unit_test(custom_events_follow_upstream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
