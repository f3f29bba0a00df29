/*
 * slt_ratchet.h — the conformance ratchet: the number of records of each corpus file that
 * passed last time we recorded it, which later runs may not fall below.
 *
 * The file (tests/sql/slt_ratchet.txt) holds one line per corpus file, `PATH PASSED`,
 * sorted by path; lines starting with '#' are comments. PATH is the file's path inside
 * the corpus folder. Recording only ever raises a number (slt_ratchet_raise()), so the
 * ratchet climbs as the engine improves and a regression fails the test suite.
 */
#ifndef CAIRN_NET_SLT_RATCHET_H
#define CAIRN_NET_SLT_RATCHET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define SLT_RATCHET_MAX_ENTRIES 100000
#define SLT_RATCHET_MAX_PATH 1024

struct slt_ratchet_entry {
	char *path;
	uint64_t passed;
};

struct slt_ratchet {
	struct slt_ratchet_entry *entries; /* sorted by path */
	size_t count;
	size_t cap;
};

/*
 * Reads a ratchet file. A missing file is an empty ratchet when `missing_ok`, else
 * ERR_NOT_FOUND; a malformed line is ERR_CORRUPT naming the line.
 */
err *slt_ratchet_load(const char *file, bool missing_ok, struct slt_ratchet *out);

/* The recorded count for `path`; *found is false (and 0 returned) when there is none. */
uint64_t slt_ratchet_get(const struct slt_ratchet *r, const char *path, bool *found);

/* Records max(recorded, passed) for `path`, adding the entry if needed. */
err *slt_ratchet_raise(struct slt_ratchet *r, const char *path, uint64_t passed);

/* Writes the ratchet to `file` (through a temporary file and a rename). */
err *slt_ratchet_save(const struct slt_ratchet *r, const char *file);

void slt_ratchet_free(struct slt_ratchet *r);

#endif
