/*
 * slt_result.h — query results rendered, sorted and hashed the way sqllogictest does it.
 *
 * Each value is rendered as text according to its column's type letter, whatever type
 * the engine returned (the conformance corpus was made with SQLite, whose client API
 * converts on request):
 *   - NULL is "NULL" in every column;
 *   - 'I': integers in decimal; floats truncated toward zero (saturating at the 64-bit
 *     range); booleans 1 / 0; text read as SQLite reads a leading integer ('12abc' is 12);
 *   - 'R': "%.3f" of the number (negative zero prints as 0.000, as SQLite prints it);
 *     booleans 1.000 / 0.000; text read as a leading number;
 *   - 'T': text with every byte outside printable ASCII replaced by '@', the empty string
 *     as "(empty)"; numbers and booleans as the engine renders them (sql_value_format).
 * rowsort sorts rows (comparing rendered values column by column with strcmp), valuesort
 * sorts all values, nosort keeps the engine's order. The hash of a result is the MD5 of
 * every rendered value followed by '\n', in that order.
 */
#ifndef CAIRN_NET_SLT_RESULT_H
#define CAIRN_NET_SLT_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "net/md5.h"
#include "net/slt_record.h"
#include "sql/database.h"

/* The rendered values of one result, row after row (or sorted, see above). */
struct slt_rendered {
	char **values; /* count NUL-terminated strings pointing into `bytes` */
	size_t count;
	struct buf bytes;
};

/* Appends the rendering of `v` in a column of type `type` ('I', 'R' or 'T'). */
err *slt_render_value(const struct sql_value *v, char type, struct buf *out);

/*
 * Renders every value of result `r` (an SQL_RESULT_ROWS with as many columns as `types`
 * has letters) and sorts them as `sort` says. *out is empty on error.
 */
err *slt_render(const struct sql_result *r, const char *types, enum slt_sort sort,
                struct slt_rendered *out);

void slt_rendered_free(struct slt_rendered *rendered);

/* The MD5 of the rendered values, each followed by '\n'. */
void slt_rendered_hash(const struct slt_rendered *rendered, char hex[MD5_HEX_BYTES]);

/*
 * Parses an expected-results line of the form "N values hashing to HEX" (32 lowercase
 * hex digits). Returns false when the line is anything else.
 */
bool slt_parse_hash_line(const char *line, uint64_t *count, char hex[MD5_HEX_BYTES]);

#endif
