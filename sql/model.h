#ifndef SQL_MODEL_H
#define SQL_MODEL_H
/*
 * The C mirror of the schema in sql/migrations (practice: a schema change touches one folder).
 * Plain value structs; layers above sql/ may include this header.
 */
#include <stddef.h>
#include <stdint.h>

/*
 * One accepted CDEvent, as stored in the `events` table.
 * Ownership: when produced by ingest (cdevent_extract), every string is owned by the struct
 * and freed by event_release(); subject_source, chain_id and producer may be NULL.
 * `raw` is the CDEvent JSON text exactly as received (or, for structured/batch mode, the
 * `data` member re-serialised), stored as jsonb.
 */
struct event {
	char *source, *id, *type;
	char *subject, *predicate, *type_version, *spec_version;
	char *subject_id, *subject_source, *chain_id;
	int64_t ts_us;        /* context.timestamp, UTC microseconds; offset kept in raw */
	const char *mode;     /* "binary", "structured", "batch" or "bare": static string */
	const char *producer; /* ingest token name, or NULL: borrowed from the config */
	char *raw;
	size_t raw_len;
};

/* Free the strings of *ev and zero it. A zeroed struct is a no-op. */
void event_release(struct event *ev);

#endif
