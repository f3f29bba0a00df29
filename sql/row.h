/*
 * row.h — how a table row is stored: a msgpack array of its column values.
 *
 * Each value is msgpack nil, boolean, integer, float64 or string, so a row decodes
 * without the schema; the decoder then checks it against the schema (column count), so
 * stored bytes are never trusted. Text is validated as UTF-8 on decode.
 */
#ifndef CAIRN_SQL_ROW_H
#define CAIRN_SQL_ROW_H

#include <msgpack.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/codec.h"
#include "base/err.h"
#include "sql/value.h"

/* Appends one value to an encoding in progress. */
void sql_row_put_value(struct codec_out *out, const struct sql_value *v);

/* Decodes one msgpack object into an owned value. */
err *sql_row_get_value(const msgpack_object *o, struct sql_value *out);

/* Clears `out` and encodes `count` values as one array. */
err *sql_row_encode(const struct sql_value *values, uint32_t count, struct buf *out);

/*
 * Decodes a row of exactly `count` values into `values` (owned: free each one). On
 * error every value is NULL.
 */
err *sql_row_decode(struct slice bytes, struct sql_value *values, uint32_t count);

#endif
