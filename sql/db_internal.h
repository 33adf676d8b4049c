#ifndef SQL_DB_INTERNAL_H
#define SQL_DB_INTERNAL_H
/* For the .c files of sql/ only: the libpq handle behind a db_conn, and SQLSTATE -> status mapping. */
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "sql/db.h"

PGconn *db_pg(struct db_conn *conn);
/*
 * Turn a failed result (or NULL) into a status and message: connection loss (no SQLSTATE),
 * class 08, 53 (resources) and 57P0x -> ST_UNAVAILABLE; 23505 -> ST_CONFLICT;
 * class 22 -> ST_INVALID; else ST_INTERNAL.
 * Does not PQclear(res).
 */
enum status db_result_error(struct db_conn *conn, const PGresult *res, const char *what,
			    struct err *err);
/* Run a parameterised statement expecting `expect`; on failure clears res and returns NULL.
 * With nparams == 0 the text may hold several ;-separated statements (the last one's result). */
PGresult *db_query(struct db_conn *conn, const char *sql, int nparams, const char *const *params,
		   ExecStatusType expect, const char *what, struct err *err);

/* Same as db_query for a statement text with static storage (a `static const char[]`): it is
 * prepared once per session, on first use, and executed by name afterwards. */
PGresult *db_query_prepared(struct db_conn *conn, const char *sql, int nparams,
			    const char *const *params, ExecStatusType expect, const char *what,
			    struct err *err);

/* db_query_prepared with results in PostgreSQL's binary format (PGRES_TUPLES_OK expected):
 * no text formatting of timestamps and numbers, for queries returning many rows. Text
 * columns read as usual; others through the helpers below. */
PGresult *db_query_binary(struct db_conn *conn, const char *sql, int nparams,
			  const char *const *params, const char *what, struct err *err);
/* A binary int8 value (NULL or another width: 0). */
int64_t db_binary_int64(const PGresult *res, int row, int col);
/* A binary timestamptz as microseconds since the Unix epoch (NULL: 0). */
int64_t db_binary_time_us(const PGresult *res, int row, int col);
/* A binary boolean (NULL: false). */
bool db_binary_bool(const PGresult *res, int row, int col);

#endif
