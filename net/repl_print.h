/*
 * repl_print.h — how the REPL shows a statement's result.
 *
 *   rows       one line per row, values separated by '|' (`1|Sicario`), NULL as "NULL",
 *              numbers and booleans as sql_value_format() renders them; with headers on,
 *              a first line of column names in the same form
 *   counts     "Inserted 3 rows", "Updated 1 row", "Deleted 0 rows"
 *   DDL        "Created table", "Dropped table", "Created index", "Dropped index"
 *   BEGIN      "Began transaction at version 12" ("Began read-only transaction at version
 *              12" for READ ONLY and AS OF SYSTEM TIME)
 *   COMMIT     "Committed transaction at version 13"; ROLLBACK "Rolled back transaction"
 *   EXPLAIN    the plan tree as the engine renders it
 *   errors     "Error: MESSAGE" on the error stream
 */
#ifndef CAIRN_NET_REPL_PRINT_H
#define CAIRN_NET_REPL_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include "base/err.h"
#include "sql/database.h"

/*
 * Prints result `r` as described above: to `out`, or an error to `errors`. Returns an
 * error only when a value could not be rendered (out of memory).
 */
err *repl_print_result(const struct sql_result *r, bool headers, FILE *out, FILE *errors);

#endif
