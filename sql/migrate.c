/*
 * sql/migrate.c: apply embedded migrations.
 *
 * Why one transaction: PostgreSQL DDL is transactional, so a failing migration leaves the
 * schema exactly as it was. pg_advisory_xact_lock serialises concurrent runners (two servers
 * starting together); the lock key is an arbitrary constant owned by cdlens.
 * When you add a migration: create sql/migrations/NNNN_name.sql (next number) and, if it adds
 * a table the model mirrors, update sql/model.h.
 */
#include "sql/migrate.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "sql/db_internal.h"

#define MIGRATE_LOCK_KEY "7301452023"

int migrate_latest(void)
{
	return migrations_count ? migrations[migrations_count - 1].version : 0;
}

static enum status apply_one(struct db_conn *conn, const struct migration *m, struct err *err)
{
	static const char record[] =
		"INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)";
	char version[16];
	const char *params[] = {version, m->name};
	PGresult *res = PQexec(db_pg(conn), m->sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		char what[128];
		snprintf(what, sizeof what, "apply migration %04d_%s", m->version, m->name);
		enum status st = db_result_error(conn, res, what, err);
		PQclear(res);
		return st;
	}
	PQclear(res);
	snprintf(version, sizeof version, "%d", m->version);
	res = db_query(conn, record, 2, params, PGRES_COMMAND_OK, "record a migration", err);
	if (!res)
		return err->status;
	PQclear(res);
	log_info("migration applied version=%d name=%s", m->version, m->name);
	return ST_OK;
}

static enum status apply_missing(struct db_conn *conn, int *applied, struct err *err)
{
	static const char create[] =
		"CREATE TABLE IF NOT EXISTS schema_migrations ("
		" version int PRIMARY KEY, name text NOT NULL,"
		" applied_at timestamptz NOT NULL DEFAULT now())";
	enum status st;
	int current = 0;

	PGresult *res = db_query(conn, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")", 0,
				 NULL, PGRES_TUPLES_OK, "lock the schema", err);

	if (!res)
		return err->status;
	PQclear(res);
	if ((st = db_exec(conn, create, err)) != ST_OK)
		return st;
	if ((st = migrate_current(conn, &current, err)) != ST_OK)
		return st;
	for (int i = 0; i < migrations_count; i++) {
		if (migrations[i].version <= current)
			continue;
		if ((st = apply_one(conn, &migrations[i], err)) != ST_OK)
			return st;
		(*applied)++;
	}
	return ST_OK;
}

enum status migrate_run(struct db_conn *conn, int *applied, struct err *err)
{
	int count = 0;
	enum status st = db_exec(conn, "BEGIN", err);

	if (st != ST_OK)
		return st;
	st = apply_missing(conn, &count, err);
	if (st == ST_OK)
		st = db_exec(conn, "COMMIT", err);
	else
		db_exec(conn, "ROLLBACK", &(struct err){0});
	if (applied)
		*applied = st == ST_OK ? count : 0;
	return st;
}

enum status migrate_current(struct db_conn *conn, int *version, struct err *err)
{
	static const char sql[] =
		"SELECT coalesce(max(version), 0) FROM schema_migrations";
	static const char exists[] = "SELECT to_regclass('schema_migrations') IS NOT NULL";
	PGresult *res = db_query(conn, exists, 0, NULL, PGRES_TUPLES_OK, "read the schema", err);

	if (!res)
		return err->status;
	bool present = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	*version = 0;
	if (!present)
		return ST_OK;
	res = db_query(conn, sql, 0, NULL, PGRES_TUPLES_OK, "read the schema version", err);
	if (!res)
		return err->status;
	*version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return ST_OK;
}
