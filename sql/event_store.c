/*
 * sql/event_store.c: the group insert into `events`.
 *
 * Why one jsonb parameter: a group holds up to thousands of events from many requests. They
 * travel as ONE parameter, a JSON array of records, which PostgreSQL expands with
 * jsonb_to_recordset; the raw CDEvent rides inside each record as a JSON value, so it is parsed
 * once and stored as jsonb. No SQL text is built from input: the statement is constant.
 *
 * Duplicates: DISTINCT ON keeps the first occurrence (lowest n) of each (source, id) inside
 * the group, ON CONFLICT skips the ones already stored, and the final SELECT returns the
 * positions that were really inserted.
 * When you add a column to events: extend struct event, append_record() and both column lists.
 */
#include "sql/event_store.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "sql/db_internal.h"

static void append_record(struct buf *b, size_t n, const struct event *ev)
{
	char ts[28];

	clock_format_rfc3339(ev->ts_us, ts);
	buf_printf(b, "%s{\"n\":%zu,\"source\":", n ? "," : "", n);
	buf_json_cstr(b, ev->source);
	buf_puts(b, ",\"id\":");
	buf_json_cstr(b, ev->id);
	buf_puts(b, ",\"type\":");
	buf_json_cstr(b, ev->type);
	buf_puts(b, ",\"subject\":");
	buf_json_cstr(b, ev->subject);
	buf_puts(b, ",\"predicate\":");
	buf_json_cstr(b, ev->predicate);
	buf_puts(b, ",\"type_version\":");
	buf_json_cstr(b, ev->type_version);
	buf_puts(b, ",\"spec_version\":");
	buf_json_cstr(b, ev->spec_version);
	buf_puts(b, ",\"subject_id\":");
	buf_json_cstr(b, ev->subject_id);
	buf_puts(b, ",\"subject_source\":");
	buf_json_cstr(b, ev->subject_source);
	buf_puts(b, ",\"chain_id\":");
	buf_json_cstr(b, ev->chain_id);
	buf_printf(b, ",\"ts\":\"%s\",\"mode\":", ts);
	buf_json_cstr(b, ev->mode);
	buf_puts(b, ",\"producer\":");
	buf_json_cstr(b, ev->producer);
	buf_puts(b, ",\"raw\":");
	buf_append(b, ev->raw, ev->raw_len);
	buf_putc(b, '}');
}

enum status event_store_insert(struct db_conn *conn, const struct event *evs, size_t n,
			       bool *inserted, struct err *err)
{
	static const char sql[] =
		"WITH input AS MATERIALIZED ("
		"  SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(n int, source text, id text,"
		"   type text, subject text, predicate text, type_version text, spec_version text,"
		"   subject_id text, subject_source text, chain_id text, ts timestamptz, mode text,"
		"   producer text, raw jsonb)"
		"), ins AS ("
		"  INSERT INTO events (source, id, type, subject, predicate, type_version,"
		"   spec_version, subject_id, subject_source, chain_id, ts, mode, producer, raw)"
		"  SELECT DISTINCT ON (source, id) source, id, type, subject, predicate,"
		"   type_version, spec_version, subject_id, subject_source, chain_id, ts, mode,"
		"   producer, raw"
		"  FROM input ORDER BY source, id, n"
		"  ON CONFLICT (source, id) DO NOTHING"
		"  RETURNING source, id"
		")"
		"SELECT min(input.n) FROM input JOIN ins USING (source, id)"
		" GROUP BY input.source, input.id";
	struct buf json = BUF_INIT(0);
	PGresult *res = NULL;

	buf_putc(&json, '[');
	for (size_t i = 0; i < n; i++) {
		append_record(&json, i, &evs[i]);
		inserted[i] = false;
	}
	buf_putc(&json, ']');
	const char *params[] = {buf_cstr(&json)};
	res = db_query_prepared(conn, sql, 1, params, PGRES_TUPLES_OK, "store events", err);
	buf_release(&json);
	if (!res)
		return err->status;
	for (int row = 0; row < PQntuples(res); row++) {
		long pos = strtol(PQgetvalue(res, row, 0), NULL, 10);
		if (pos >= 0 && (size_t)pos < n)
			inserted[pos] = true;
	}
	PQclear(res);
	return ST_OK;
}

enum status event_store_has_other(struct db_conn *conn, const char *producer, bool *other,
				  struct err *err)
{
	static const char sql[] =
		"SELECT EXISTS (SELECT 1 FROM events WHERE producer IS DISTINCT FROM $1)";
	const char *params[] = {producer};
	PGresult *res = db_query(conn, sql, 1, params, PGRES_TUPLES_OK, "look for events", err);

	if (!res)
		return err->status;
	*other = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return ST_OK;
}
