/*
 * number.c — whole decimal numbers from text (see number.h).
 */
#include "base/number.h"

#include <assert.h>
#include <stddef.h>

err *number_parse_u64(const char *text, uint64_t max, uint64_t *out)
{
	if (*text == '\0')
		return err_new(ERR_INVALID, "empty number");
	uint64_t v = 0;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return err_new(ERR_INVALID, "'%s' is not a number", text);
		uint64_t digit = (uint64_t)(*p - '0');
		if (digit > max || v > (max - digit) / 10)
			return err_new(ERR_INVALID, "'%s' is above %llu", text,
			               (unsigned long long)max);
		v = v * 10 + digit;
	}
	*out = v;
	return NULL;
}

err *number_parse_range(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	assert(min <= max);
	uint64_t v;
	TRY(number_parse_u64(text, max, &v));
	if (v < min)
		return err_new(ERR_INVALID, "'%s' is below %llu", text, (unsigned long long)min);
	*out = v;
	return NULL;
}
