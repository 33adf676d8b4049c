/*
 * ingest/envelope.c: CloudEvents HTTP binding (binary, structured, batch) and bare CDEvents.
 *
 * Mode selection follows the CloudEvents HTTP binding: the media type decides first
 * (application/cloudevents+json: structured; application/cloudevents-batch+json: batch);
 * otherwise a ce-specversion header means binary mode; otherwise application/json is a bare
 * CDEvent. Every body is checked by json_check() before cJSON parses it, and every parsed
 * document is checked for duplicate member names, which RFC 8259 leaves undefined.
 * When you add a mode: extend envelope_parse() and docs/INGEST.md.
 */
#include "ingest/envelope.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/base64.h"
#include "core/buf.h"
#include "core/xalloc.h"
#include "ingest/cdevent.h"
#include "ingest/json_check.h"

enum media { MEDIA_NONE, MEDIA_JSON, MEDIA_CE, MEDIA_CE_BATCH, MEDIA_OTHER };

/* Whether every charset parameter among `params` (what follows the media type:
 * "; name=value" or "; name=\"value\"") is exactly utf-8 or us-ascii, in any case. Other
 * parameters are ignored; a quoted value may hold ';'. */
static bool charset_ok(const char *params)
{
	for (const char *p = params; *p == ';';) {
		p += 1 + strspn(p + 1, " \t");
		size_t n = strcspn(p, "=; \t");
		bool charset = n == 7 && strncasecmp(p, "charset", 7) == 0;
		p += n + strspn(p + n, " \t");
		const char *v = p;
		size_t vlen = 0;
		if (*p == '=') {
			p += 1 + strspn(p + 1, " \t");
			v = p + (*p == '"');
			vlen = *p == '"' ? strcspn(v, "\"") : strcspn(p, "; \t");
			p = v + vlen + (*p == '"' && v[vlen] == '"');
		}
		p += strspn(p, " \t");
		if (charset && ((*p && *p != ';') ||
				(!(vlen == 5 && strncasecmp(v, "utf-8", 5) == 0) &&
				 !(vlen == 8 && strncasecmp(v, "us-ascii", 8) == 0))))
			return false;
		p += strcspn(p, ";");
	}
	return true;
}

/* Media type of a Content-Type value, ignoring parameters; a charset other than UTF-8 is OTHER. */
static enum media media_of(const char *ct, struct err *err)
{
	if (!ct || !*ct)
		return MEDIA_NONE;
	size_t n = strcspn(ct, ";");
	const char *params = ct + n;
	while (n && isspace((unsigned char)ct[n - 1]))
		n--;
	while (n && isspace((unsigned char)*ct))
		ct++, n--;
	if (!charset_ok(params)) {
		err_set(err, ST_UNSUPPORTED, "unsupported charset in Content-Type \"%.*s\"",
			(int)json_utf8_prefix(ct, strlen(ct), 100), ct);
		return MEDIA_OTHER;
	}
	if (n == 16 && strncasecmp(ct, "application/json", n) == 0)
		return MEDIA_JSON;
	if (n == 28 && strncasecmp(ct, "application/cloudevents+json", n) == 0)
		return MEDIA_CE;
	if (n == 34 && strncasecmp(ct, "application/cloudevents-batch+json", n) == 0)
		return MEDIA_CE_BATCH;
	err_set(err, ST_UNSUPPORTED, "unsupported media type \"%.*s\"",
		(int)json_utf8_prefix(ct, n, 100), ct);
	err_detail(err, "Send CDEvents as application/json (binary mode or a bare CDEvent), "
			"application/cloudevents+json or application/cloudevents-batch+json.");
	return MEDIA_OTHER;
}

static const char *find_header(const struct ingest_request *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

static int hexval(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : (tolower((unsigned char)c) - 'a' + 10);
}

/* A header value in quoted-string form ("..." with backslash escapes, RFC 9110 5.6.4),
 * unquoted into *out; false when the quotes are malformed (no closing quote, a lone
 * backslash at the end, anything but whitespace after the closing quote). */
static bool unquote(const char *v, struct buf *out)
{
	const char *p = v + 1;

	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && !*++p)
			return false;
		buf_putc(out, *p);
	}
	return *p == '"' && p[1 + strspn(p + 1, " \t")] == '\0';
}

/* Decode a ce-* header value as the CloudEvents HTTP binding (3.1.3.2) says: first unquote
 * a quoted-string, then percent-decode once. */
static char *percent_decode(const char *name, const char *v, struct err *err)
{
	struct buf out = BUF_INIT(0), unquoted = BUF_INIT(0);
	char *decoded = NULL;

	if (*v == '"') {
		if (!unquote(v, &unquoted)) {
			err_set(err, ST_INVALID, "invalid quoted-string in header %s", name);
			goto out;
		}
		v = buf_cstr(&unquoted);
	}
	for (const char *p = v; *p; p++) {
		if (*p != '%') {
			buf_putc(&out, *p);
			continue;
		}
		if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2])) {
			err_set(err, ST_INVALID, "invalid percent-encoding in header %s", name);
			goto out;
		}
		buf_putc(&out, (char)(hexval(p[1]) * 16 + hexval(p[2])));
		p += 2;
	}
	if (out.len != strlen(buf_cstr(&out)) || !json_utf8_valid(buf_cstr(&out), out.len))
		err_set(err, ST_INVALID, "header %s is not valid UTF-8 after percent-decoding", name);
	else
		decoded = buf_detach(&out, NULL);
out:
	buf_release(&unquoted);
	buf_release(&out);
	return decoded;
}

static int cmp_member(const void *a, const void *b)
{
	return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* The first member name that occurs twice in the object, or NULL. Sorting keeps large
 * objects at O(n log n) so a hostile body cannot make this quadratic. */
static const char *duplicate_name(const cJSON *obj)
{
	size_t n = 0, i = 0;
	const char *dup = NULL;

	for (const cJSON *m = obj->child; m; m = m->next)
		n++;
	if (n < 2)
		return NULL;
	const cJSON **members = xmalloc(n * sizeof *members);
	for (const cJSON *m = obj->child; m; m = m->next)
		members[i++] = m;
	qsort(members, n, sizeof *members, cmp_member);
	for (i = 1; i < n && !dup; i++)
		if (strcmp(members[i]->string, members[i - 1]->string) == 0)
			dup = members[i]->string;
	free(members);
	return dup;
}

/* Append "/name" to a JSON pointer, escaping '~' and '/' (RFC 6901). */
static void pointer_push(struct buf *path, const char *name)
{
	buf_putc(path, '/');
	for (; *name; name++) {
		if (*name == '~' || *name == '/')
			buf_puts(path, *name == '~' ? "~0" : "~1");
		else
			buf_putc(path, *name);
	}
}

/* The error for a duplicate member at `path`. A path too long for err->pointer is cut to
 * the longest ancestor that fits (a cut inside a name would point elsewhere, or inside a
 * UTF-8 character); the message quotes at most 200 bytes of it, whole characters only. */
static void duplicate_error(const struct buf *path, struct err *err)
{
	char pointer[sizeof err->pointer];
	size_t n = path->len;

	err_set(err, ST_INVALID, "duplicate member name at %.*s",
		(int)json_utf8_prefix(path->data, n, 200), path->data);
	while (n >= sizeof pointer)
		for (n--; n && path->data[n] != '/'; n--)
			;
	snprintf(pointer, sizeof pointer, "%.*s", (int)n, path->data);
	err_pointer(err, pointer);
}

/* Duplicate member names anywhere in the tree; fills err with the pointer of the first. */
static bool has_duplicates(const cJSON *node, struct buf *path, struct err *err)
{
	const char *dup = cJSON_IsObject(node) ? duplicate_name(node) : NULL;
	int index = 0;

	if (dup) {
		pointer_push(path, dup);
		duplicate_error(path, err);
		return true;
	}
	for (const cJSON *a = node->child; a; a = a->next, index++) {
		size_t mark = path->len;
		if (cJSON_IsObject(node))
			pointer_push(path, a->string);
		else
			buf_printf(path, "/%d", index);
		bool found = a->child != NULL && has_duplicates(a, path, err);
		path->len = mark;
		path->data[mark] = '\0';
		if (found)
			return true;
	}
	return false;
}

/* json_check + cJSON parse + duplicate check. */
static cJSON *parse_json(const char *s, size_t len, const char *what, struct err *err)
{
	struct buf path = BUF_INIT(0);
	cJSON *root = NULL;

	if (json_check(s, len, JSON_CHECK_MAX_DEPTH, err) != ST_OK) {
		char msg[sizeof err->msg];
		snprintf(msg, sizeof msg, "%s", err->msg);
		err_set(err, ST_INVALID, "%s is not valid JSON: %s", what, msg);
		return NULL;
	}
	root = cJSON_ParseWithLength(s, len);
	if (!root) {
		err_set(err, ST_INVALID, "%s is not valid JSON", what);
		return NULL;
	}
	buf_puts(&path, "");
	if (has_duplicates(root, &path, err)) {
		cJSON_Delete(root);
		root = NULL;
	}
	buf_release(&path);
	return root;
}

static void batch_push(struct ingest_batch *b, size_t *cap, struct event *ev)
{
	if (b->n == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		b->events = xrealloc(b->events, *cap * sizeof *b->events);
	}
	b->events[b->n++] = *ev;
}

static enum status finish_event(const struct ingest_request *req, const char *mode, char *raw,
				size_t raw_len, struct event *ev)
{
	ev->mode = mode;
	ev->producer = req->producer;
	ev->raw = raw;
	ev->raw_len = raw_len;
	return ST_OK;
}

/* How ce_string_attr() checks an attribute; absent and null are the same. */
enum { ATTR_REQUIRED = 1 << 0, ATTR_NONEMPTY = 1 << 1 };

static enum status ce_string_attr(const cJSON *ce, const char *name, int flags, const char *ptr,
				  const char **out, struct err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ce, name);

	*out = NULL;
	if (!v || cJSON_IsNull(v)) {
		if (!(flags & ATTR_REQUIRED))
			return ST_OK;
		err_set(err, ST_INVALID, "missing CloudEvents attribute %s/%s", ptr, name);
	} else if (!cJSON_IsString(v) || ((flags & ATTR_NONEMPTY) && !*v->valuestring)) {
		err_set(err, ST_INVALID, "CloudEvents attribute %s/%s must be a %sstring", ptr, name,
			flags & ATTR_NONEMPTY ? "non-empty " : "");
	} else {
		*out = v->valuestring;
		return ST_OK;
	}
	char pointer[128];
	snprintf(pointer, sizeof pointer, "%s/%s", ptr, name);
	err_pointer(err, pointer);
	return ST_INVALID;
}

static bool json_media(const char *dct)
{
	size_t n = strcspn(dct, ";");

	while (n && isspace((unsigned char)dct[n - 1]))
		n--;
	return (n == 16 && strncasecmp(dct, "application/json", 16) == 0) ||
	       (n > 5 && strncasecmp(dct + n - 5, "+json", 5) == 0) ||
	       (n == 9 && strncasecmp(dct, "text/json", 9) == 0);
}

/* The CloudEvents context attributes of a structured event, into *attrs. */
static enum status ce_attributes(const cJSON *ce, const char *ptr, struct ce_attrs *attrs,
				 struct err *err)
{
	const int required = ATTR_REQUIRED | ATTR_NONEMPTY;
	const char *specversion, *dct, *ignored;
	enum status st;

	if (!cJSON_IsObject(ce)) {
		err_set(err, ST_INVALID, "%s: expected a CloudEvent JSON object", *ptr ? ptr : "/");
		err_pointer(err, ptr);
		return ST_INVALID;
	}
	/* subject and dataschema are not used, but a CloudEvent needs them to be strings */
	if ((st = ce_string_attr(ce, "specversion", required, ptr, &specversion, err)) ||
	    (st = ce_string_attr(ce, "id", required, ptr, &attrs->id, err)) ||
	    (st = ce_string_attr(ce, "source", required, ptr, &attrs->source, err)) ||
	    (st = ce_string_attr(ce, "type", required, ptr, &attrs->type, err)) ||
	    (st = ce_string_attr(ce, "time", 0, ptr, &attrs->time, err)) ||
	    (st = ce_string_attr(ce, "datacontenttype", 0, ptr, &dct, err)) ||
	    (st = ce_string_attr(ce, "subject", ATTR_NONEMPTY, ptr, &ignored, err)) ||
	    (st = ce_string_attr(ce, "dataschema", ATTR_NONEMPTY, ptr, &ignored, err)))
		return st;
	char pointer[128];
	if (strcmp(specversion, "1.0") != 0) {
		snprintf(pointer, sizeof pointer, "%s/specversion", ptr);
		err_set(err, ST_INVALID, "unsupported CloudEvents specversion \"%.*s\" (expected "
			"\"1.0\")", (int)json_utf8_prefix(specversion, strlen(specversion), 20),
			specversion);
		err_pointer(err, pointer);
		return ST_INVALID;
	}
	if (dct && !json_media(dct)) {
		snprintf(pointer, sizeof pointer, "%s/datacontenttype", ptr);
		err_set(err, ST_INVALID, "%s \"%.*s\" is not JSON, so data is not a CDEvent",
			pointer, (int)json_utf8_prefix(dct, strlen(dct), 60), dct);
		err_pointer(err, pointer);
		return ST_INVALID;
	}
	return ST_OK;
}

/* data_base64: decode, then parse the bytes as the CDEvent JSON. */
static enum status structured_base64(const struct ingest_request *req, const cJSON *b64,
				     const struct ce_attrs *attrs, const char *ptr,
				     const char *mode, struct event *out, struct err *err)
{
	struct buf decoded = BUF_INIT(0);
	char pointer[128];
	cJSON *root = NULL;
	enum status st = ST_INVALID;

	snprintf(pointer, sizeof pointer, "%s/data_base64", ptr);
	if (!cJSON_IsString(b64) ||
	    !base64_decode(b64->valuestring, strlen(b64->valuestring), &decoded)) {
		err_set(err, ST_INVALID, "%s is not valid base64", pointer);
		err_pointer(err, pointer);
		goto out;
	}
	if (!(root = parse_json(buf_cstr(&decoded), decoded.len, pointer, err))) {
		err_pointer(err, pointer);
		goto out;
	}
	if ((st = cdevent_extract(root, attrs, pointer, out, err)) != ST_OK)
		goto out;
	size_t len;
	char *raw = buf_detach(&decoded, &len);
	st = finish_event(req, mode, raw, len, out);
out:
	cJSON_Delete(root);
	buf_release(&decoded);
	return st;
}

/* The CDEvent inside a structured CloudEvent: `data` (an object) or `data_base64`. */
static enum status structured_event(const struct ingest_request *req, const cJSON *ce,
				    const char *ptr, const char *mode, struct event *out,
				    struct err *err)
{
	struct ce_attrs attrs = {.req_id = req->req_id};
	enum status st = ce_attributes(ce, ptr, &attrs, err);
	char pointer[128];

	if (st != ST_OK)
		return st;
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(ce, "data");
	const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(ce, "data_base64");
	if (data && b64) {
		snprintf(pointer, sizeof pointer, "%s/data_base64", ptr);
		err_set(err, ST_INVALID, "a CloudEvent must not have both data and data_base64");
		err_pointer(err, pointer);
		return ST_INVALID;
	}
	if (b64)
		return structured_base64(req, b64, &attrs, ptr, mode, out, err);
	snprintf(pointer, sizeof pointer, "%s/data", ptr);
	if (!data || !cJSON_IsObject(data)) {
		err_set(err, ST_INVALID, data ? "%s must be a CDEvent JSON object"
					      : "missing CloudEvents attribute %s (the CDEvent)",
			pointer);
		err_pointer(err, pointer);
		return ST_INVALID;
	}
	if ((st = cdevent_extract(data, &attrs, pointer, out, err)) != ST_OK)
		return st;
	char *raw = cJSON_PrintUnformatted(data);
	char *copy = xstrdup(raw);
	cJSON_free(raw);
	return finish_event(req, mode, copy, strlen(copy), out);
}

static enum status parse_structured(const struct ingest_request *req, struct ingest_batch *out,
				    struct err *err)
{
	cJSON *root = parse_json(req->body, req->len, "the request body", err);
	struct event ev = {0};
	size_t cap = 0;
	enum status st = ST_INVALID;

	if (!root)
		return ST_INVALID;
	if ((st = structured_event(req, root, "", "structured", &ev, err)) == ST_OK)
		batch_push(out, &cap, &ev);
	cJSON_Delete(root);
	return st;
}

static enum status parse_batch(const struct ingest_request *req, struct ingest_batch *out,
			       struct err *err)
{
	cJSON *root = parse_json(req->body, req->len, "the request body", err);
	size_t cap = 0;
	enum status st = ST_INVALID;
	int index = 0;

	if (!root)
		return ST_INVALID;
	if (!cJSON_IsArray(root)) {
		err_set(err, ST_INVALID, "a batch must be a JSON array of CloudEvents");
		err_pointer(err, "");
		goto out;
	}
	if ((size_t)cJSON_GetArraySize(root) > req->max_batch) {
		st = err_set(err, ST_TOO_LARGE, "batch of %d events exceeds the limit of %zu",
			     cJSON_GetArraySize(root), req->max_batch);
		goto out;
	}
	st = ST_OK;
	for (const cJSON *item = root->child; item && st == ST_OK; item = item->next, index++) {
		char ptr[32];
		struct event ev = {0};
		snprintf(ptr, sizeof ptr, "/%d", index);
		if ((st = structured_event(req, item, ptr, "batch", &ev, err)) == ST_OK)
			batch_push(out, &cap, &ev);
		else
			out->item = index;
	}
out:
	cJSON_Delete(root);
	return st;
}

/* Binary mode: the ce-* headers, percent-decoded, fill what the CDEvent lacks. */
static enum status binary_attrs(const struct ingest_request *req, char *vals[5], struct err *err)
{
	static const char *const names[] = {"ce-specversion", "ce-id", "ce-source", "ce-type",
					    "ce-time"};

	for (int i = 0; i < 5; i++) {
		const char *v = find_header(req, names[i]);
		if (!v && i < 4)
			return err_set(err, ST_INVALID, "missing header %s", names[i]);
		if (v && !(vals[i] = percent_decode(names[i], v, err)))
			return ST_INVALID;
	}
	if (strcmp(vals[0], "1.0") != 0)
		return err_set(err, ST_INVALID, "unsupported CloudEvents specversion \"%.*s\" in "
			       "ce-specversion (expected \"1.0\")",
			       (int)json_utf8_prefix(vals[0], strlen(vals[0]), 20), vals[0]);
	return ST_OK;
}

static enum status parse_single(const struct ingest_request *req, bool binary,
				struct ingest_batch *out, struct err *err)
{
	char *vals[5] = {0};
	cJSON *root = NULL;
	struct event ev = {0};
	size_t cap = 0;
	enum status st = ST_INVALID;

	if (binary && (st = binary_attrs(req, vals, err)) != ST_OK)
		goto out;
	if (!(root = parse_json(req->body, req->len, "the request body", err))) {
		st = ST_INVALID;
		goto out;
	}
	struct ce_attrs attrs = {vals[1], vals[2], vals[3], vals[4], req->req_id};
	if ((st = cdevent_extract(root, binary ? &attrs : NULL, "", &ev, err)) != ST_OK)
		goto out;
	finish_event(req, binary ? "binary" : "bare", xstrndup(req->body, req->len), req->len, &ev);
	batch_push(out, &cap, &ev);
out:
	cJSON_Delete(root);
	for (int i = 0; i < 5; i++)
		free(vals[i]);
	return st;
}

/* A body sent in a content coding (gzip, ...) is not the JSON it claims to be: only the
 * identity coding (or no Content-Encoding) is taken, else ST_UNSUPPORTED. */
static enum status content_coding(const struct ingest_request *req, struct err *err)
{
	const char *coding = find_header(req, "Content-Encoding");

	if (!coding)
		return ST_OK;
	coding += strspn(coding, " \t");
	size_t n = strlen(coding);
	while (n && (coding[n - 1] == ' ' || coding[n - 1] == '\t'))
		n--;
	if (n == 0 || (n == 8 && strncasecmp(coding, "identity", 8) == 0))
		return ST_OK;
	err_set(err, ST_UNSUPPORTED, "unsupported content encoding \"%.*s\"",
		(int)json_utf8_prefix(coding, n, 100), coding);
	err_detail(err, "Send the body uncompressed, without Content-Encoding.");
	return ST_UNSUPPORTED;
}

/* The media type of the request: one Content-Type (two may be read differently by a proxy
 * in front), and the body in no content coding; else MEDIA_OTHER with err set (415). */
static enum media request_media(const struct ingest_request *req, struct err *err)
{
	size_t types = 0;

	for (size_t i = 0; i < req->nheaders; i++)
		types += strcasecmp(req->headers[i].name, "Content-Type") == 0;
	if (types > 1) {
		err_set(err, ST_UNSUPPORTED, "more than one Content-Type");
		return MEDIA_OTHER;
	}
	enum media media = media_of(req->content_type, err);
	if (media != MEDIA_OTHER && content_coding(req, err) != ST_OK)
		return MEDIA_OTHER;
	return media;
}

enum status envelope_parse(const struct ingest_request *req, struct ingest_batch *out,
			   struct err *err)
{
	enum status st;
	bool binary = find_header(req, "ce-specversion") != NULL;

	memset(out, 0, sizeof *out);
	out->item = -1;
	switch (request_media(req, err)) {
	case MEDIA_CE: st = parse_structured(req, out, err); break;
	case MEDIA_CE_BATCH: st = parse_batch(req, out, err); break;
	case MEDIA_NONE:
	case MEDIA_JSON: st = parse_single(req, binary, out, err); break;
	default: st = err->status; break;
	}
	if (st != ST_OK) {
		int item = out->item;
		ingest_batch_release(out);
		out->item = item;
	}
	return st;
}

void ingest_batch_release(struct ingest_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		event_release(&b->events[i]);
	free(b->events);
	b->events = NULL;
	b->n = 0;
	b->item = -1;
}
