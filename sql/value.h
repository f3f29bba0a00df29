/*
 * value.h — SQL values: the five types, their text rendering, ordering and arithmetic.
 *
 * A `struct sql_value` is a small tagged union. Text values own their bytes (always
 * NUL-terminated, always valid UTF-8): copy with sql_value_copy(), release with
 * sql_value_free(). Every other type is a plain value and needs no release, but calling
 * sql_value_free() on any value is always correct.
 *
 * Semantics (docs/sql.md is the user-facing statement of the same rules):
 *   - NULL is the absence of a value; operators on NULL give NULL (three-valued logic for
 *     AND/OR/NOT lives in the expression evaluator).
 *   - INTEGER is 64-bit signed; an operation whose result does not fit is an error
 *     (ERR_LIMIT "integer overflow"), never a wrap-around.
 *   - FLOAT is an IEEE double. Mixing INTEGER and FLOAT in arithmetic yields FLOAT and
 *     comparisons between them are numeric (SQLite's rules, which the conformance corpus
 *     expects). A NaN result becomes NULL, as in SQLite.
 *   - Division or remainder by zero yields NULL (SQLite-compatible); integer division
 *     truncates toward zero.
 *   - TEXT is UTF-8, validated on entry; comparison is bytewise (memcmp order).
 *
 * Text rendering (sql_value_format): integers in decimal, floats with "%.15g" plus ".0"
 * when that looks like an integer (so 3.0 prints "3.0", 1e20 prints "1e+20"), "inf",
 * "-inf", booleans TRUE / FALSE, NULL as "NULL", text as its bytes.
 */
#ifndef CAIRN_SQL_VALUE_H
#define CAIRN_SQL_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/* Text values may never be longer than this (VARCHAR(n) limits are checked separately). */
#define SQL_TEXT_MAX_BYTES (64 * 1024)
/* The default limit of VARCHAR / TEXT columns without an explicit length. */
#define SQL_VARCHAR_DEFAULT_BYTES 1024

enum sql_value_type {
	SQL_NULL = 0,
	SQL_BOOL,
	SQL_INT,
	SQL_FLOAT,
	SQL_TEXT,
};

struct sql_value {
	enum sql_value_type type;
	union {
		bool b;
		int64_t i;
		double f;
		struct {
			char *ptr; /* owned, NUL-terminated */
			uint32_t len;
		} s;
	} u;
};

/* The type's name as SQL spells it: "NULL", "BOOLEAN", "INTEGER", "FLOAT", "TEXT". */
const char *sql_value_type_name(enum sql_value_type t);

static inline struct sql_value sql_null(void)
{
	return (struct sql_value){.type = SQL_NULL};
}

static inline struct sql_value sql_bool(bool b)
{
	return (struct sql_value){.type = SQL_BOOL, .u.b = b};
}

/*
 * Built field by field, not as a compound literal: zeroing the rest of the union makes
 * the compiler assemble the value in memory and copy it out with one wide load, which
 * stalls on store forwarding in the per-row loops (arithmetic, row decoding).
 */
static inline struct sql_value sql_int(int64_t i)
{
	struct sql_value v;
	v.type = SQL_INT;
	v.u.i = i;
	return v;
}

/* A float; NaN becomes NULL. */
struct sql_value sql_float(double f);

/*
 * True when `f` is a whole number that an INTEGER holds exactly (never NaN, an infinity
 * or a value beyond the 64-bit range); then *out is that integer.
 */
bool sql_float_is_int(double f, int64_t *out);

/*
 * Makes a text value holding a copy of `len` bytes. ERR_TYPE if the bytes are not valid
 * UTF-8, ERR_LIMIT past SQL_TEXT_MAX_BYTES. On error *out is NULL.
 */
err *sql_text(const char *bytes, size_t len, struct sql_value *out);

/* True when `len` bytes are valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool sql_utf8_valid(const char *bytes, size_t len);
/* The number of code points in valid UTF-8 text. */
size_t sql_utf8_length(const char *bytes, size_t len);

/* The TEXT halves of sql_value_free() and sql_value_copy(), kept out of line. */
void sql_value_free_text(struct sql_value *v);
err *sql_value_copy_text(struct sql_value *dst, const struct sql_value *src);

/*
 * Releases what the value owns and makes it NULL. Inline, like the two below: executors
 * call them for every value of every row, and only TEXT owns anything.
 */
static inline void sql_value_free(struct sql_value *v)
{
	if (v->type == SQL_TEXT)
		sql_value_free_text(v);
	*v = sql_null();
}

/* Frees `count` values (each becomes NULL). */
static inline void sql_values_free(struct sql_value *values, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++)
		sql_value_free(&values[i]);
}

/* Makes *dst an independent copy of *src (dst is overwritten, not freed). */
static inline err *sql_value_copy(struct sql_value *dst, const struct sql_value *src)
{
	if (src->type != SQL_TEXT) {
		*dst = *src;
		return NULL;
	}
	return sql_value_copy_text(dst, src);
}

/* Appends the text rendering described above to `out`. */
err *sql_value_format(const struct sql_value *v, struct buf *out);

/* Formats a double the way sql_value_format does into buf (at least 32 bytes). */
void sql_format_float(double f, char *buf, size_t size);

static inline bool sql_value_is_numeric(const struct sql_value *v)
{
	return v->type == SQL_INT || v->type == SQL_FLOAT;
}

/*
 * The total order used by ORDER BY, DISTINCT, GROUP BY and indexes: NULL first, then
 * numbers (BOOLEAN as 0 and 1, INTEGER and FLOAT compared numerically; of equal numbers
 * a BOOLEAN sorts first, then an INTEGER, then a FLOAT, so the order is total), then TEXT
 * (bytewise). Returns <0, 0 or >0.
 */
int sql_value_order(const struct sql_value *a, const struct sql_value *b);

/*
 * SQL comparison (=, <, ...): *out is NULL if either side is NULL, else -1, 0 or 1 in
 * *cmp with *is_null false. BOOLEAN, INTEGER and FLOAT compare numerically (1 = 1.0,
 * TRUE = 1: a BOOLEAN counts as 0 or 1). TEXT with anything else is ERR_TYPE (the
 * planner rejects it first).
 */
err *sql_value_compare(const struct sql_value *a, const struct sql_value *b, int *cmp,
                       bool *is_null);

/* Arithmetic. NULL in, NULL out; ERR_TYPE for non-numbers; ERR_LIMIT on overflow. */
enum sql_arith { SQL_ADD, SQL_SUB, SQL_MUL, SQL_DIV, SQL_MOD };
err *sql_value_arith(enum sql_arith op, const struct sql_value *a, const struct sql_value *b,
                     struct sql_value *out);
err *sql_value_negate(const struct sql_value *a, struct sql_value *out);

/* Text concatenation `a || b`: NULL if either is NULL; numbers are rendered as text. */
err *sql_value_concat(const struct sql_value *a, const struct sql_value *b, struct sql_value *out);

/*
 * CAST(v AS type). NULL stays NULL. TEXT to INTEGER/FLOAT reads a leading number as
 * SQLite does ('12abc' -> 12, 'abc' -> 0); FLOAT to INTEGER truncates toward zero and is
 * an error out of range; BOOLEAN to INTEGER is 0/1; anything to TEXT is its rendering;
 * INTEGER/FLOAT to BOOLEAN is "not zero"; TEXT to BOOLEAN accepts true/false/1/0.
 */
err *sql_value_cast(const struct sql_value *v, enum sql_value_type to, struct sql_value *out);

#endif
