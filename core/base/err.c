#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Messages longer than this are cut; an error message is for a person, not a payload. */
#define ERR_MSG_MAX 1024

struct err {
	enum err_code code;
	bool is_static;
	char msg[];
};

static err err_oom = {.code = ERR_NOMEM, .is_static = true};

static err *err_vmake(enum err_code code, const char *prefix, const char *fmt, va_list ap)
{
	char text[ERR_MSG_MAX];
	const char *msg = text;
	size_t text_len;
	if (!strchr(fmt, '%')) { /* a message without conversions needs no formatting */
		msg = fmt;
		text_len = strnlen(fmt, sizeof text - 1);
	} else {
		if (vsnprintf(text, sizeof text, fmt, ap) < 0)
			text[0] = '\0';
		text_len = strlen(text);
	}
	size_t prefix_len = prefix ? strlen(prefix) : 0;
	err *e = malloc(sizeof *e + prefix_len + text_len + 1);
	if (!e)
		return &err_oom;
	e->code = code;
	e->is_static = false;
	if (prefix_len)
		memcpy(e->msg, prefix, prefix_len);
	memcpy(e->msg + prefix_len, msg, text_len);
	e->msg[prefix_len + text_len] = '\0';
	return e;
}

err *err_new(enum err_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err *e = err_vmake(code, NULL, fmt, ap);
	va_end(ap);
	return e;
}

err *err_wrap(err *e, const char *fmt, ...)
{
	if (!e)
		return NULL;
	if (e->is_static)
		return e;
	char context[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(context, sizeof context, fmt, ap);
	va_end(ap);
	if (n < 0)
		return e;
	err *wrapped = err_new(e->code, "%s: %s", context, e->msg);
	if (wrapped->is_static)
		return e; /* keep the original rather than lose it */
	err_free(e);
	return wrapped;
}

enum err_code err_code(const err *e)
{
	return e ? e->code : 0;
}

const char *err_msg(const err *e)
{
	if (!e)
		return "ok";
	if (e->is_static)
		return "out of memory";
	return e->msg;
}

bool err_is(const err *e, enum err_code code)
{
	return e && e->code == code;
}

const char *err_code_name(enum err_code code)
{
	switch (code) {
	case ERR_IO: return "io";
	case ERR_CORRUPT: return "corruption";
	case ERR_NOMEM: return "out of memory";
	case ERR_INVALID: return "invalid";
	case ERR_NOT_FOUND: return "not found";
	case ERR_EXISTS: return "exists";
	case ERR_LIMIT: return "limit";
	case ERR_DECODE: return "decode";
	case ERR_SYNTAX: return "syntax";
	case ERR_TYPE: return "type";
	case ERR_CONSTRAINT: return "constraint";
	case ERR_CONFLICT: return "serialization failure";
	case ERR_UNAVAILABLE: return "unavailable";
	case ERR_UNKNOWN_OUTCOME: return "outcome unknown";
	case ERR_INTERNAL: return "internal";
	}
	return "unknown";
}

void err_free(err *e)
{
	if (e && !e->is_static)
		free(e);
}
