#ifndef SQL_MIGRATE_H
#define SQL_MIGRATE_H
/*
 * The migration runner. Migrations are the files sql/migrations/NNNN_name.sql, embedded into
 * the binary at build time (embed_migrations.cmake). migrate_run() applies the missing ones in
 * order, in ONE transaction under an advisory lock, recording each in schema_migrations; so it
 * is safe to run twice and from two processes at once.
 * Threads: uses the given connection only.
 */
#include "core/err.h"
#include "sql/db.h"

struct migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct migration migrations[];
extern const int migrations_count;

/* Apply missing migrations; *applied (may be NULL) gets how many were applied.
 * Errors: ST_UNAVAILABLE (connection), ST_INTERNAL (a migration failed; nothing applied). */
enum status migrate_run(struct db_conn *conn, int *applied, struct err *err);
/* Highest applied version (0 when none) into *version. Errors: ST_UNAVAILABLE, ST_INTERNAL. */
enum status migrate_current(struct db_conn *conn, int *version, struct err *err);
/* The version this binary expects: the last embedded migration. */
int migrate_latest(void);

#endif
