/*
 * ingest/cdevent.c: the CDEvent validator.
 *
 * Order of checks (the first failure is reported, with a JSON pointer):
 *   shape (object, context, subject) -> spec version -> context.id/source/type/timestamp
 *   (filled from CloudEvent attributes when missing) -> optional context fields ->
 *   subject.id/source/type -> subject.content against the type table.
 *
 * Tolerance, on purpose: unknown fields are ignored everywhere; subject.type is optional in
 * every version; a null optional field counts as absent; a newer minor version of a known type
 * is checked only for the fields it must still have. What is rejected is what would make the
 * event unusable or ambiguous (no id, no time zone, unknown type, wrong field types).
 * When you change a rule: update docs/INGEST.md and tests/ingest/test_cdevent.c.
 */
#include "ingest/cdevent.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "ingest/cdevents_types.h"
#include "ingest/json_check.h"

/* Oldest and newest spec minor versions (0.x) this build knows. */
#define CDEVENT_MIN_MINOR 3
#define CDEVENT_KNOWN_MINOR 5
/* Identifier limits: EVENT_MAX_ID and EVENT_MAX_PURL in sql/model.h. A longer value was
 * stored, then failed the correlator's inserts (SQLSTATE 54000: "index row size exceeds
 * btree maximum") and was set aside, or, for context.id and source (UNIQUE (source, id)),
 * failed the ingest insert with a 500. */

struct check {
	const char *ptr; /* prefix */
	struct err *err;
};

/* `arg` is often the offending value: at most 100 bytes of it are quoted, whole UTF-8
 * characters only, so that the message fits and stays valid UTF-8. */
static enum status invalid(struct check *c, const char *field, const char *fmt, const char *arg)
{
	char pointer[256], shown[104];

	snprintf(pointer, sizeof pointer, "%s%s", c->ptr, field);
	snprintf(shown, sizeof shown, "%.*s", (int)json_utf8_prefix(arg, strlen(arg), 100), arg);
	err_set(c->err, ST_INVALID, fmt, pointer, shown);
	err_pointer(c->err, pointer);
	return ST_INVALID;
}

static const cJSON *member(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsNull(v) ? NULL : v;
}

/* An identifier of at most `max` bytes (sql/model.h EVENT_MAX_ID, EVENT_MAX_PURL). */
static enum status check_length(struct check *c, const char *field, const char *s, size_t max)
{
	char limit[48];

	if (strlen(s) <= max)
		return ST_OK;
	snprintf(limit, sizeof limit, "%zu bytes", max);
	return invalid(c, field, "%s is longer than %s", limit);
}

bool cdevent_parse_semver(const char *s, int *major, int *minor, int *patch)
{
	int *parts[] = {major, minor, patch};

	for (int i = 0; i < 3; i++) {
		int v = 0, n = 0;
		for (; isdigit((unsigned char)*s) && n < 6; s++, n++)
			v = v * 10 + (*s - '0');
		if (n == 0 || n > 5 || (n > 1 && s[-n] == '0'))
			return false;
		*parts[i] = v;
		if (i < 2 && *s++ != '.')
			return false;
	}
	if (*s == '\0')
		return true;
	if (*s++ != '-' || !*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-')
			return false;
	return true;
}

static bool copy_part(const char *start, size_t n, char *dst, size_t cap)
{
	if (n == 0 || n >= cap)
		return false;
	memcpy(dst, start, n);
	dst[n] = '\0';
	return true;
}

static bool all_alpha(const char *s, bool allow_tool_prefix)
{
	const char *start = s;
	bool dash = false;

	for (; *s; s++) {
		if (allow_tool_prefix && *s == '-' && !dash && s[1] && s != start)
			dash = true;
		else if (!isalpha((unsigned char)*s) && !(allow_tool_prefix && !dash && isdigit((unsigned char)*s)))
			return false;
	}
	return !allow_tool_prefix || dash;
}

bool cdevent_split_type(const char *type, char *subject, char *predicate, char *version,
			size_t cap, bool *custom)
{
	static const char std[] = "dev.cdevents.", ext[] = "dev.cdeventsx.";
	const char *p;
	int a, b, c;

	if (strncmp(type, std, sizeof std - 1) == 0)
		p = type + sizeof std - 1, *custom = false;
	else if (strncmp(type, ext, sizeof ext - 1) == 0)
		p = type + sizeof ext - 1, *custom = true;
	else
		return false;
	const char *dot1 = strchr(p, '.');
	const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!dot2 || !copy_part(p, (size_t)(dot1 - p), subject, cap) ||
	    !copy_part(dot1 + 1, (size_t)(dot2 - dot1 - 1), predicate, cap) ||
	    !copy_part(dot2 + 1, strlen(dot2 + 1), version, cap))
		return false;
	return all_alpha(subject, *custom) && all_alpha(predicate, false) &&
	       cdevent_parse_semver(version, &a, &b, &c);
}

/* Two RFC 3339 strings naming the same instant (offsets and fraction digits aside). */
static bool same_instant(const char *a, const char *b)
{
	int64_t ta, tb;

	return clock_parse_rfc3339(a, strlen(a), &ta, NULL) &&
	       clock_parse_rfc3339(b, strlen(b), &tb, NULL) && ta == tb;
}

/* A string member that may be filled from the envelope; returns its value or NULL. */
static const char *context_value(struct check *c, const cJSON *ctx, const char *name,
				 const char *fallback, const struct ce_attrs *ce, enum status *st)
{
	const cJSON *v = member(ctx, name);
	char field[64];

	snprintf(field, sizeof field, "/context/%s", name);
	if (v && (!cJSON_IsString(v) || !*v->valuestring)) {
		*st = invalid(c, field, "%s must be a non-empty string%s", "");
		return NULL;
	}
	if (v && fallback && strcmp(v->valuestring, fallback) != 0 && !same_instant(v->valuestring, fallback))
		log_warn("req=%s cloudevent attribute disagrees with the cdevent field=%s "
			 "cdevent=\"%.80s\" cloudevent=\"%.80s\"",
			 ce && ce->req_id ? ce->req_id : "-", name, v->valuestring, fallback);
	if (v)
		return v->valuestring;
	if (fallback && *fallback)
		return fallback;
	*st = invalid(c, field, "missing field %s%s", "");
	return NULL;
}

/* context_value(), at most `max` bytes long (0: no limit). */
static const char *context_string(struct check *c, const cJSON *ctx, const char *name,
				  size_t max, const char *fallback, const struct ce_attrs *ce,
				  enum status *st)
{
	const char *s = context_value(c, ctx, name, fallback, ce, st);
	char field[64];

	if (!s || !max)
		return s;
	snprintf(field, sizeof field, "/context/%s", name);
	if ((*st = check_length(c, field, s, max)) != ST_OK)
		return NULL;
	return s;
}

static enum status spec_version(struct check *c, const cJSON *ctx, struct event *out)
{
	const cJSON *v = member(ctx, "specversion");
	const char *field = "/context/specversion";
	int major, minor, patch;

	if (!v) {
		v = member(ctx, "version");
		field = "/context/version";
	}
	if (!v)
		return invalid(c, "/context/specversion", "missing field %s%s",
			       " (or context.version before CDEvents 0.5)");
	if (!cJSON_IsString(v) || !cdevent_parse_semver(v->valuestring, &major, &minor, &patch))
		return invalid(c, field, "%s must be a version such as \"0.5.1\"%s", "");
	if (major != 0 || minor < CDEVENT_MIN_MINOR)
		return invalid(c, field, "%s: unsupported CDEvents spec version \"%s\" (0.3 or later "
			       "is required)", v->valuestring);
	out->spec_version = xstrdup(v->valuestring);
	return ST_OK;
}

static enum status check_type(struct check *c, const char *type, struct event *out,
			      const struct cdev_type **def, enum cdev_match *how)
{
	char subject[128], predicate[128], version[128];
	bool custom;
	int major, minor, patch, smaj, smin, spat;

	*def = NULL;
	if (!cdevent_split_type(type, subject, predicate, version, sizeof subject, &custom))
		return invalid(c, "/context/type", "%s: \"%s\" is not a CDEvents type "
			       "(expected dev.cdevents.<subject>.<predicate>.<version>)", type);
	cdevent_parse_semver(version, &major, &minor, &patch);
	cdevent_parse_semver(out->spec_version, &smaj, &smin, &spat);
	out->subject = xstrdup(subject);
	out->predicate = xstrdup(predicate);
	out->type_version = xstrdup(version);
	if (custom)
		return ST_OK;
	if (!cdev_type_known(subject, predicate)) {
		if (smin > CDEVENT_KNOWN_MINOR) /* a newer spec's new type: keep it raw */
			return ST_OK;
		return invalid(c, "/context/type", "%s: unknown event type \"%s\"", type);
	}
	*def = cdev_type_find(subject, predicate, major, minor, patch, how);
	if (!*def)
		return invalid(c, "/context/type", "%s: unsupported version of event type \"%s\"",
			       type);
	return ST_OK;
}

static enum status check_timestamp(struct check *c, const char *ts, struct event *out)
{
	if (!clock_parse_rfc3339(ts, strlen(ts), &out->ts_us, NULL))
		return invalid(c, "/context/timestamp", "%s: \"%s\" is not an RFC 3339 date-time "
			       "with a time zone", ts);
	return ST_OK;
}

/* The contextId (or context_id) of a link's from and target, and its linkType and linkKind
 * (or link_type, link_kind): the correlator keys links by them, so when present each is an
 * identifier (a string of at most EVENT_MAX_ID bytes). */
static enum status check_link_ends(struct check *c, const cJSON *link, const char *at)
{
	static const char *const ends[] = {"from", "target"}, *const names[] = {"contextId",
										  "context_id"};
	static const char *const kinds[] = {"linkType", "link_type", "linkKind", "link_kind"};
	char field[160];

	for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
		const cJSON *v = member(link, kinds[k]);
		if (!v)
			continue;
		snprintf(field, sizeof field, "%s/%s", at, kinds[k]);
		if (!cJSON_IsString(v))
			return invalid(c, field, "%s must be a string%s", "");
		if (check_length(c, field, v->valuestring, EVENT_MAX_ID) != ST_OK)
			return ST_INVALID;
	}
	for (size_t e = 0; e < 2; e++) {
		const cJSON *end = member(link, ends[e]);
		for (size_t n = 0; end && cJSON_IsObject(end) && n < 2; n++) {
			const cJSON *v = member(end, names[n]);
			if (!v)
				continue;
			snprintf(field, sizeof field, "%s/%s/%s", at, ends[e], names[n]);
			if (!cJSON_IsString(v))
				return invalid(c, field, "%s must be a string%s", "");
			if (check_length(c, field, v->valuestring, EVENT_MAX_ID) != ST_OK)
				return ST_INVALID;
		}
	}
	return ST_OK;
}

/* chainId / chain_id, schemaUri and links. */
static enum status optional_context(struct check *c, const cJSON *ctx, struct event *out)
{
	const cJSON *chain = member(ctx, "chainId");
	const char *chain_field = "/context/chainId";

	if (!chain) {
		chain = member(ctx, "chain_id");
		chain_field = "/context/chain_id";
	}
	if (chain && (!cJSON_IsString(chain) || !*chain->valuestring))
		return invalid(c, chain_field, "%s must be a non-empty string%s", "");
	if (chain && check_length(c, chain_field, chain->valuestring, EVENT_MAX_ID) != ST_OK)
		return ST_INVALID;
	if (chain)
		out->chain_id = xstrdup(chain->valuestring);
	const cJSON *uri = member(ctx, "schemaUri");
	if (uri && !cJSON_IsString(uri))
		return invalid(c, "/context/schemaUri", "%s must be a string%s", "");
	const cJSON *links = member(ctx, "links");
	if (links && !cJSON_IsArray(links))
		return invalid(c, "/context/links", "%s must be an array of link objects%s", "");
	int i = 0;
	for (const cJSON *l = links ? links->child : NULL; l; l = l->next, i++) {
		char field[80];
		snprintf(field, sizeof field, "/context/links/%d", i);
		if (!cJSON_IsObject(l))
			return invalid(c, field, "%s must be a link object%s", "");
		if (check_link_ends(c, l, field) != ST_OK)
			return ST_INVALID;
	}
	return ST_OK;
}

static enum status check_context(struct check *c, const cJSON *ctx, const struct ce_attrs *ce,
				 struct event *out, const struct cdev_type **def,
				 enum cdev_match *how)
{
	enum status st = ST_OK;
	const char *id, *source, *type, *ts;

	if ((st = spec_version(c, ctx, out)) != ST_OK)
		return st;
	if (!(id = context_string(c, ctx, "id", EVENT_MAX_ID, ce ? ce->id : NULL, ce, &st)) ||
	    !(source = context_string(c, ctx, "source", EVENT_MAX_ID, ce ? ce->source : NULL, ce,
				      &st)) ||
	    !(type = context_string(c, ctx, "type", 0, ce ? ce->type : NULL, ce, &st)) ||
	    !(ts = context_string(c, ctx, "timestamp", 0, ce ? ce->time : NULL, ce, &st)))
		return st;
	out->id = xstrdup(id);
	out->source = xstrdup(source);
	out->type = xstrdup(type);
	if ((st = check_type(c, type, out, def, how)) != ST_OK)
		return st;
	if ((st = check_timestamp(c, ts, out)) != ST_OK)
		return st;
	return optional_context(c, ctx, out);
}

static const char *kind_name(enum cdev_kind kind)
{
	switch (kind) {
	case CDEV_STRING: return "a string";
	case CDEV_OBJECT: return "an object";
	case CDEV_ARRAY: return "an array";
	case CDEV_BOOLEAN: return "a boolean";
	case CDEV_NUMBER: return "a number";
	case CDEV_INTEGER: return "an integer";
	case CDEV_ANY: break;
	}
	return "a value";
}

static bool kind_ok(const cJSON *v, enum cdev_kind kind)
{
	switch (kind) {
	case CDEV_STRING: return cJSON_IsString(v);
	case CDEV_OBJECT: return cJSON_IsObject(v);
	case CDEV_ARRAY: return cJSON_IsArray(v);
	case CDEV_BOOLEAN: return cJSON_IsBool(v);
	case CDEV_NUMBER: return cJSON_IsNumber(v);
	case CDEV_INTEGER:
		return cJSON_IsNumber(v) && v->valuedouble > -9e15 && v->valuedouble < 9e15 &&
		       v->valuedouble == (double)(long long)v->valuedouble;
	case CDEV_ANY: break;
	}
	return true;
}

/* Resolve "a/b/c" under content. *parent_missing is set when a parent object is absent. */
static const cJSON *resolve(const cJSON *content, const char *path, bool *parent_missing)
{
	const cJSON *cur = content;
	char name[128];

	*parent_missing = false;
	while (cur) {
		size_t n = strcspn(path, "/");
		if (n >= sizeof name)
			return NULL;
		memcpy(name, path, n);
		name[n] = '\0';
		const cJSON *next = cJSON_IsObject(cur) ? member(cur, name) : NULL;
		if (!path[n])
			return next;
		if (!next || !cJSON_IsObject(next)) {
			*parent_missing = true;
			return NULL;
		}
		cur = next;
		path += n + 1;
	}
	return NULL;
}

static bool in_enum(const char *s, const char *const *values)
{
	for (; *values; values++)
		if (strcmp(s, *values) == 0)
			return true;
	return false;
}

static enum status check_field(struct check *c, const cJSON *content, const struct cdev_field *f,
			       enum cdev_match how)
{
	char field[256];
	bool parent_missing;
	const cJSON *v = resolve(content, f->path, &parent_missing);

	snprintf(field, sizeof field, "/subject/content/%s", f->path);
	if (!v)
		return f->required && !parent_missing ? invalid(c, field, "missing field %s%s", "")
						      : ST_OK;
	if (!kind_ok(v, f->kind))
		return invalid(c, field, "%s must be %s", kind_name(f->kind));
	if (f->kind == CDEV_STRING && f->nonempty && !*v->valuestring)
		return invalid(c, field, "%s must not be empty%s", "");
	if (f->enum_values && cJSON_IsString(v) && how != CDEV_NEWER_MINOR &&
	    !in_enum(v->valuestring, f->enum_values))
		return invalid(c, field, "%s: \"%s\" is not an allowed value", v->valuestring);
	return ST_OK;
}

/* The subject.content values the correlator makes keys of or indexes (sql/correlate_store.c
 * insert_facts()), whatever the event type: when present, a string of at most its limit. */
static const struct key_field {
	const char *subject; /* only for this subject; NULL: any */
	const char *path;
	size_t max;
} key_fields[] = {
	{NULL, "artifactId", EVENT_MAX_PURL},
	{NULL, "change/id", EVENT_MAX_ID},
	{NULL, "change/source", EVENT_MAX_ID},
	{NULL, "environment/id", EVENT_MAX_ID},
	{NULL, "name", EVENT_MAX_ID}, /* a pipeline run's name (indexed) when it has one */
	{NULL, "pipelineName", EVENT_MAX_ID},
	{NULL, "pipelineRun/id", EVENT_MAX_ID},
	{NULL, "repository/id", EVENT_MAX_ID},
	{NULL, "repository/source", EVENT_MAX_ID},
	{NULL, "service/id", EVENT_MAX_ID},
	{NULL, "testSuiteRun/id", EVENT_MAX_ID},
	{"repository", "uri", EVENT_MAX_ID},
	{"repository", "url", EVENT_MAX_ID},
};

static enum status check_key_fields(struct check *c, const cJSON *content, const char *subject)
{
	char field[256];
	bool parent_missing;

	for (size_t i = 0; i < sizeof key_fields / sizeof *key_fields; i++) {
		const struct key_field *k = &key_fields[i];
		const cJSON *v = k->subject && strcmp(k->subject, subject) != 0
					 ? NULL
					 : resolve(content, k->path, &parent_missing);
		if (!v)
			continue;
		snprintf(field, sizeof field, "/subject/content/%s", k->path);
		if (!cJSON_IsString(v))
			return invalid(c, field, "%s must be a string%s", "");
		if (check_length(c, field, v->valuestring, k->max) != ST_OK)
			return ST_INVALID;
	}
	return ST_OK;
}

static enum status check_subject(struct check *c, const cJSON *subj, struct event *out,
				 const struct cdev_type *def, enum cdev_match how)
{
	const cJSON *id = member(subj, "id"), *source = member(subj, "source");
	const cJSON *stype = member(subj, "type"), *content = member(subj, "content");
	enum status st;

	if (!id)
		return invalid(c, "/subject/id", "missing field %s%s", "");
	if (!cJSON_IsString(id) || !*id->valuestring)
		return invalid(c, "/subject/id", "%s must be a non-empty string%s", "");
	if (source && !cJSON_IsString(source))
		return invalid(c, "/subject/source", "%s must be a string%s", "");
	if (stype && !cJSON_IsString(stype))
		return invalid(c, "/subject/type", "%s must be a string%s", "");
	if (content && !cJSON_IsObject(content))
		return invalid(c, "/subject/content", "%s must be an object%s", "");
	if (check_length(c, "/subject/id", id->valuestring,
			 strcmp(out->subject, "artifact") == 0 ? EVENT_MAX_PURL : EVENT_MAX_ID) ||
	    (source && check_length(c, "/subject/source", source->valuestring, EVENT_MAX_ID)) ||
	    (content && check_key_fields(c, content, out->subject)))
		return ST_INVALID;
	out->subject_id = xstrdup(id->valuestring);
	out->subject_source = source && *source->valuestring ? xstrdup(source->valuestring) : NULL;
	for (size_t i = 0; def && i < def->nfields; i++) {
		if (!content && def->fields[i].required && !strchr(def->fields[i].path, '/'))
			return invalid(c, "/subject/content", "missing field %s%s", "");
		if (content && (st = check_field(c, content, &def->fields[i], how)) != ST_OK)
			return st;
	}
	return ST_OK;
}

enum status cdevent_extract(const cJSON *root, const struct ce_attrs *ce, const char *ptr,
			    struct event *out, struct err *err)
{
	struct check c = {ptr ? ptr : "", err};
	const struct cdev_type *def = NULL;
	enum cdev_match how = CDEV_EXACT;
	enum status st = ST_INVALID;

	memset(out, 0, sizeof *out);
	if (!cJSON_IsObject(root)) {
		err_set(err, ST_INVALID, "%s: expected a CDEvent JSON object", *c.ptr ? c.ptr : "/");
		err_pointer(err, c.ptr);
		goto out;
	}
	const cJSON *ctx = member(root, "context"), *subj = member(root, "subject");
	if (!ctx || !cJSON_IsObject(ctx)) {
		invalid(&c, "/context", ctx ? "%s must be an object%s" : "missing field %s%s", "");
		goto out;
	}
	if (!subj || !cJSON_IsObject(subj)) {
		invalid(&c, "/subject", subj ? "%s must be an object%s" : "missing field %s%s", "");
		goto out;
	}
	if ((st = check_context(&c, ctx, ce, out, &def, &how)) != ST_OK)
		goto out;
	st = check_subject(&c, subj, out, def, how);
out:
	if (st != ST_OK)
		event_release(out);
	return st;
}
