#include "base/env.h"

#include <stdarg.h>

void env_logf(const struct env *env, enum log_level level, const char *fmt, ...)
{
	if (level < env->log_level || !env->log_line)
		return;
	char line[LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	log_format(line, sizeof line, env_now_ms(env), env->node_id, level, fmt, ap);
	va_end(ap);
	env->log_line(env->impl, level, line);
}
