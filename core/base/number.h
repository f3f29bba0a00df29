/*
 * number.h — whole decimal numbers read from text: flags, configuration values, the
 * numbers in trace and test files.
 *
 * One strict rule for all of them: the text is one or more ASCII digits and nothing
 * else (no sign, blank or suffix), and the value is at most `max`. Anything else is an
 * ERR_INVALID error that quotes the text; a number is never truncated, wrapped or read
 * from a prefix (strtoull alone reads " +12abc" as 12 and a twenty-five-digit number as
 * its largest value).
 */
#ifndef CAIRN_BASE_NUMBER_H
#define CAIRN_BASE_NUMBER_H

#include <stdint.h>

#include "base/err.h"

/* Parses the whole of `text` into *out (untouched on error). */
err *number_parse_u64(const char *text, uint64_t max, uint64_t *out);

/* The same for a value of at least `min` too (a count of 1 or more, say). */
err *number_parse_range(const char *text, uint64_t min, uint64_t max, uint64_t *out);

#endif
