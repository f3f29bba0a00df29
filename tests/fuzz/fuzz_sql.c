/*
 * fuzz_sql.c — SQL text of any kind through a whole database (fuzz.h).
 *
 * Each input runs in a fresh in-memory database that holds two small tables with every
 * kind of column, constraint and index, as at most FUZZ_SQL_STATEMENTS statements of one
 * session. Properties, beyond the sanitizers' (no crash, leak or undefined behaviour):
 *   - every statement ends in a result, and an error result has a code other than
 *     ERR_INTERNAL (a bug in cairn) and a message;
 *   - every statement consumes some text, and no more than was left;
 *   - afterwards the database still answers a new session's query (bad input never leaves
 *     it unusable).
 */
#include <string.h>

#include "fuzz.h"
#include "sql/database.h"

/* Inputs longer than this are skipped: longer text mostly repeats what shorter text does. */
#define FUZZ_SQL_MAX_BYTES 2048
#define FUZZ_SQL_STATEMENTS 16

static const char fuzz_sql_schema[] =
    "CREATE TABLE c (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL UNIQUE, v FLOAT "
    "DEFAULT 1.5);"
    "CREATE TABLE a (id INTEGER PRIMARY KEY, cid INTEGER REFERENCES c, b BOOLEAN, s "
    "VARCHAR, n INTEGER DEFAULT 7);"
    "CREATE INDEX a_s ON a (s);"
    "INSERT INTO c VALUES (1, 'x', 2.5), (2, 'y', NULL), (3, 'z', -1.0);"
    "INSERT INTO a VALUES (1, 1, TRUE, 'p', 10), (2, 1, FALSE, 'q', NULL), "
    "(3, 2, NULL, NULL, 30), (4, NULL, TRUE, 'p', 5);";

/* Runs up to `max` statements of text[0..len); returns how many failed. */
static int fuzz_sql_run(struct sql_session *s, const char *text, size_t len, int max)
{
	int failed = 0;
	size_t off = 0;
	for (int i = 0; i < max && off < len; i++) {
		struct sql_result r;
		size_t used = 0;
		sql_session_execute(s, text + off, len - off, &r, &used);
		FUZZ_REQUIRE(used <= len - off);
		FUZZ_REQUIRE(r.kind == SQL_RESULT_NONE || used > 0);
		if (r.kind == SQL_RESULT_ERROR) {
			failed++;
			FUZZ_REQUIRE(r.error != NULL && err_code(r.error) != ERR_INTERNAL);
			FUZZ_REQUIRE(err_msg(r.error)[0] != '\0');
		}
		bool done = r.kind == SQL_RESULT_NONE;
		sql_result_free(&r);
		if (done)
			break;
		off += used;
	}
	return failed;
}

static void fuzz_sql_still_answers(struct sql_db *db)
{
	struct sql_session *s;
	err *e = sql_session_open(db, &s);
	FUZZ_REQUIRE(e == NULL);
	struct sql_result r;
	size_t used;
	static const char probe[] = "SELECT 1 + 1";
	sql_session_execute(s, probe, sizeof probe - 1, &r, &used);
	FUZZ_REQUIRE(r.kind == SQL_RESULT_ROWS && r.row_count == 1 && r.column_count == 1);
	FUZZ_REQUIRE(r.values[0].type == SQL_INT && r.values[0].u.i == 2);
	sql_result_free(&r);
	sql_session_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_SQL_MAX_BYTES)
		return 0;
	struct sql_db *db;
	err *e = sql_db_open(":memory:", &db);
	FUZZ_REQUIRE(e == NULL);
	struct sql_session *s;
	e = sql_session_open(db, &s);
	FUZZ_REQUIRE(e == NULL);
	FUZZ_REQUIRE(fuzz_sql_run(s, fuzz_sql_schema, sizeof fuzz_sql_schema - 1, 100) == 0);
	fuzz_sql_run(s, (const char *)data, size, FUZZ_SQL_STATEMENTS);
	sql_session_close(s); /* rolls back a transaction the input left open */
	fuzz_sql_still_answers(db);
	sql_db_close(db);
	return 0;
}

static const char *const fuzz_sql_seeds[] = {
    "SELECT * FROM a JOIN c ON a.cid = c.id WHERE c.v > 0 ORDER BY a.id DESC LIMIT 2",
    "SELECT cid, COUNT(*), SUM(n), AVG(n), MIN(s), MAX(s) FROM a GROUP BY cid HAVING "
    "COUNT(*) > 1",
    "SELECT a.id, c.name FROM a LEFT JOIN c ON a.cid = c.id WHERE a.s IS NULL OR a.b",
    "SELECT * FROM a WHERE s = 'p' AND n BETWEEN 1 AND 20",
    "SELECT id FROM c WHERE id IN (SELECT cid FROM a) UNION SELECT 9",
    "SELECT CASE WHEN n > 5 THEN 'big' ELSE 'small' END, CAST(n AS FLOAT) / 3 FROM a",
    "SELECT DISTINCT s || '!' FROM a WHERE s LIKE 'p%' OFFSET 1",
    "EXPLAIN SELECT * FROM a, c WHERE a.cid = c.id AND c.name = 'x'",
    "INSERT INTO a (id, cid, s) VALUES (5, 3, 'r'); UPDATE a SET n = n + 1 WHERE cid = 3",
    "DELETE FROM c WHERE id = 3; DELETE FROM a WHERE cid = 3; DELETE FROM c WHERE id = 3",
    "BEGIN; UPDATE c SET v = v * 2; SELECT * FROM c; ROLLBACK; SELECT * FROM c",
    "BEGIN READ ONLY; SELECT COUNT(*) FROM a; COMMIT",
    "CREATE TABLE t (k VARCHAR PRIMARY KEY, x INTEGER UNIQUE); INSERT INTO t VALUES "
    "('a', 1); DROP TABLE t",
    "INSERT INTO c VALUES (4, 'x', 0.0)",
    "SELECT 9223372036854775807 + 1, -9223372036854775808 / -1, 1 / 0, 1e308 * 10",
    "SELECT NULL = NULL, NULL IS NULL, NOT (TRUE AND NULL), 'a' < 'b'",
    NULL,
};

void fuzz_seeds(fuzz_add_fn *add, void *ctx)
{
	for (size_t i = 0; fuzz_sql_seeds[i]; i++)
		add(ctx, (const uint8_t *)fuzz_sql_seeds[i], strlen(fuzz_sql_seeds[i]));
}

const char *const fuzz_tokens[] = {
    "SELECT ",
    " FROM ",
    " WHERE ",
    " JOIN ",
    " ON ",
    " GROUP BY ",
    " ORDER BY ",
    " LIMIT ",
    " HAVING ",
    " UNION ",
    "INSERT INTO ",
    " VALUES ",
    "UPDATE ",
    " SET ",
    "DELETE FROM ",
    "CREATE TABLE ",
    "DROP TABLE ",
    "CREATE INDEX ",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "EXPLAIN ",
    " AND ",
    " OR ",
    " NOT ",
    " IS NULL",
    " IN (",
    "(",
    ")",
    ",",
    ";",
    "*",
    "'",
    "NULL",
    "TRUE",
    "9223372036854775807",
    "-1.5e300",
    " a ",
    " c ",
    "a.id",
    "c.name",
    "COUNT(*)",
    " PRIMARY KEY",
    " UNIQUE",
    " REFERENCES c",
    NULL,
};
