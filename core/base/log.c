#include "base/log.h"

#include <stdio.h>
#include <string.h>

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};

const char *log_level_name(enum log_level level)
{
	return (unsigned)level <= LOG_OFF ? level_names[level] : "?";
}

int log_level_parse(const char *name)
{
	static const char *const lower[] = {"debug", "info", "warn", "error", "off"};
	for (int i = 0; i <= LOG_OFF; i++)
		if (strcmp(name, lower[i]) == 0)
			return i;
	return -1;
}

void log_format(char *out, size_t cap, uint64_t now_ms, uint32_t node_id, enum log_level level,
                const char *fmt, va_list ap)
{
	if (cap == 0)
		return;
	int n = snprintf(out, cap, "%llu.%03llus n%u %s ", (unsigned long long)(now_ms / 1000),
	                 (unsigned long long)(now_ms % 1000), node_id, log_level_name(level));
	if (n < 0 || (size_t)n >= cap)
		return;
	vsnprintf(out + n, cap - (size_t)n, fmt, ap);
}
