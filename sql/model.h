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

/*
 * Longest identifier, in bytes: context.id and source, chainId, a link's contextId,
 * subject.id and source, and the subject.content fields the correlator makes keys of
 * (ingest/cdevent.c key_fields[]). The linked model joins up to three identifiers into one
 * key (a change: its repository's id and source, and its own id), and an index entry holds
 * up to three keys (edges: to, from and the evidence), all in one btree entry, which
 * PostgreSQL limits to 2704 bytes; random text cannot be compressed there. With 256 bytes
 * each, the widest entry stays near 2,100 bytes (tests/web/test_correlate_http.c
 * identifiers_at_their_limits).
 */
#define EVENT_MAX_ID 256
/* Longest purl (an artifact's subject.id, content.artifactId). Its canonical form can be
 * three times longer (percent-escapes); the correlator keys an artifact by the canonical
 * form only when that too fits in EVENT_MAX_PURL, else by the purl as given. */
#define EVENT_MAX_PURL 512

/* Free the strings of *ev and zero it. A zeroed struct is a no-op. */
void event_release(struct event *ev);

#endif
