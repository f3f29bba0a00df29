/*
 * err.h — errors as values.
 *
 * Every fallible function in cairn returns `err *`: NULL means success, anything else is
 * an owned error the caller must either return (possibly wrapped with context) or release
 * with err_free(). An error carries a code from a small enum, so callers can branch on
 * the kind of failure, and a human-readable message, so the user is told what happened.
 *
 * Allocation failure while creating an error never loses the error: the functions fall
 * back to a static "out of memory" error that err_free() ignores.
 */
#ifndef CAIRN_BASE_ERR_H
#define CAIRN_BASE_ERR_H

#include <stdbool.h>

enum err_code {
	ERR_IO = 1,          /* the operating system or the (simulated) disk failed */
	ERR_CORRUPT,         /* stored or received data failed a checksum or is malformed */
	ERR_NOMEM,           /* an allocation failed */
	ERR_INVALID,         /* the caller passed something that makes no sense */
	ERR_NOT_FOUND,       /* the named thing does not exist */
	ERR_EXISTS,          /* the named thing exists already */
	ERR_LIMIT,           /* a bound was hit: size, count, depth */
	ERR_DECODE,          /* bytes could not be decoded into the expected value */
	ERR_SYNTAX,          /* SQL text could not be parsed */
	ERR_TYPE,            /* a value has the wrong type */
	ERR_CONSTRAINT,      /* a constraint would be violated */
	ERR_CONFLICT,        /* a serialization failure: retry the transaction */
	ERR_UNAVAILABLE,     /* no leader, not enough replicas, shutting down */
	ERR_UNKNOWN_OUTCOME, /* the operation may or may not have happened */
	ERR_INTERNAL,        /* a bug in cairn: an invariant that should hold did not */
};

typedef struct err err;

/* Returns a new error with `code` and a printf-formatted message. Never returns NULL. */
err *err_new(enum err_code code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Returns `e` with "context: " prepended to its message; the code is kept. Takes
 * ownership of `e`. Wrapping NULL returns NULL, so `return err_wrap(f(), "...")` is a
 * correct way to propagate.
 */
err *err_wrap(err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

enum err_code err_code(const err *e);
const char *err_msg(const err *e);
bool err_is(const err *e, enum err_code code);

/* The name of a code, e.g. "corruption"; for logs and the client protocol. */
const char *err_code_name(enum err_code code);

/* Releases `e`; NULL is allowed. */
void err_free(err *e);

/* Evaluates `expr` (an err *) and returns it from the calling function if it is an error. */
#define TRY(expr)                      \
	do {                           \
		err *try_e_ = (expr);  \
		if (try_e_)            \
			return try_e_; \
	} while (0)

#endif
