/*
 * log.h — log levels and the line format.
 *
 * Every log line names the node and the time its env gives (virtual milliseconds in the
 * simulator, the wall clock for real), so interleaved logs of five nodes read as one story:
 *
 *     12.345s n3 WARN raft: stepping down, no quorum heard for 1000ms
 *
 * Nodes log through env_logf() (env.h); programs without a node use log_format() directly.
 */
#ifndef CAIRN_BASE_LOG_H
#define CAIRN_BASE_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
	LOG_OFF, /* as a threshold: log nothing */
};

/* A line longer than this is cut. */
#define LOG_LINE_MAX 1024

const char *log_level_name(enum log_level level);

/* Parses "debug", "info", "warn", "error" or "off"; returns -1 if none matches. */
int log_level_parse(const char *name);

/* Writes the prefixed line (no trailing newline) into out; always NUL-terminates. */
void log_format(char *out, size_t cap, uint64_t now_ms, uint32_t node_id, enum log_level level,
                const char *fmt, va_list ap);

#endif
