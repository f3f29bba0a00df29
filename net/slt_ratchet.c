/*
 * slt_ratchet.c — reading, raising and writing the conformance ratchet file.
 */
#include "net/slt_ratchet.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/number.h"

/* The index of `path`, or where it would be inserted (*found says which). */
static size_t slt__ratchet_find(const struct slt_ratchet *r, const char *path, bool *found)
{
	size_t lo = 0, hi = r->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->entries[mid].path, path);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

uint64_t slt_ratchet_get(const struct slt_ratchet *r, const char *path, bool *found)
{
	size_t i = slt__ratchet_find(r, path, found);
	return *found ? r->entries[i].passed : 0;
}

err *slt_ratchet_raise(struct slt_ratchet *r, const char *path, uint64_t passed)
{
	if (strlen(path) >= SLT_RATCHET_MAX_PATH || strchr(path, ' ') || strchr(path, '\n'))
		return err_new(ERR_INVALID, "path '%.100s' cannot be recorded in a ratchet", path);
	bool found;
	size_t i = slt__ratchet_find(r, path, &found);
	if (found) {
		if (passed > r->entries[i].passed)
			r->entries[i].passed = passed;
		return NULL;
	}
	if (r->count == SLT_RATCHET_MAX_ENTRIES)
		return err_new(ERR_LIMIT, "a ratchet holds at most %d files",
		               SLT_RATCHET_MAX_ENTRIES);
	if (r->count == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct slt_ratchet_entry *entries = realloc(r->entries, cap * sizeof *entries);
		if (!entries)
			return err_new(ERR_NOMEM, "out of memory");
		r->entries = entries;
		r->cap = cap;
	}
	char *copy = strdup(path);
	if (!copy)
		return err_new(ERR_NOMEM, "out of memory");
	memmove(&r->entries[i + 1], &r->entries[i], (r->count - i) * sizeof *r->entries);
	r->entries[i] = (struct slt_ratchet_entry){.path = copy, .passed = passed};
	r->count++;
	return NULL;
}

/* Parses one non-comment line `PATH PASSED` into the ratchet. */
static err *slt__ratchet_line(struct slt_ratchet *r, char *line, unsigned line_no)
{
	char *space = strrchr(line, ' ');
	uint64_t passed = 0;
	err *bad = space && space != line ? number_parse_u64(space + 1, UINT64_MAX, &passed) : NULL;
	err_free(bad);
	if (!space || space == line || bad)
		return err_new(ERR_CORRUPT, "line %u: expected 'PATH PASSED'", line_no);
	*space = '\0';
	bool found;
	slt_ratchet_get(r, line, &found);
	if (found)
		return err_new(ERR_CORRUPT, "line %u: %s is listed twice", line_no, line);
	return slt_ratchet_raise(r, line, passed);
}

err *slt_ratchet_load(const char *file, bool missing_ok, struct slt_ratchet *out)
{
	memset(out, 0, sizeof *out);
	FILE *f = fopen(file, "r");
	if (!f) {
		if (errno == ENOENT && missing_ok)
			return NULL;
		return err_new(errno == ENOENT ? ERR_NOT_FOUND : ERR_IO, "%s: %s", file,
		               strerror(errno));
	}
	char line[SLT_RATCHET_MAX_PATH + 32];
	err *e = NULL;
	for (unsigned line_no = 1; !e && fgets(line, sizeof line, f); line_no++) {
		size_t len = strlen(line);
		if (len == sizeof line - 1 && line[len - 1] != '\n') {
			e = err_new(ERR_CORRUPT, "line %u is too long", line_no);
			break;
		}
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		e = slt__ratchet_line(out, line, line_no);
		if (out->count >= SLT_RATCHET_MAX_ENTRIES && !e)
			e = err_new(ERR_LIMIT, "more than %d entries", SLT_RATCHET_MAX_ENTRIES);
	}
	fclose(f);
	if (e) {
		slt_ratchet_free(out);
		return err_wrap(e, "%s", file);
	}
	return NULL;
}

err *slt_ratchet_save(const struct slt_ratchet *r, const char *file)
{
	char tmp[SLT_RATCHET_MAX_PATH + 8];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", file) >= sizeof tmp)
		return err_new(ERR_INVALID, "ratchet path too long");
	FILE *f = fopen(tmp, "w");
	if (!f)
		return err_new(ERR_IO, "%s: %s", tmp, strerror(errno));
	fprintf(f,
	        "# The sqllogictest conformance ratchet: records passed per corpus file.\n"
	        "# Checked by the slt-corpus test; raise with\n"
	        "#   build/cairn-slt --update-ratchet tests/sql/slt_ratchet.txt ../shared/slt\n");
	for (size_t i = 0; i < r->count; i++) {
		assert(i == 0 || strcmp(r->entries[i - 1].path, r->entries[i].path) < 0);
		fprintf(f, "%s %" PRIu64 "\n", r->entries[i].path, r->entries[i].passed);
	}
	bool failed = ferror(f) != 0;
	failed |= fclose(f) != 0;
	if (failed || rename(tmp, file) != 0) {
		remove(tmp);
		return err_new(ERR_IO, "could not write %s", file);
	}
	return NULL;
}

void slt_ratchet_free(struct slt_ratchet *r)
{
	for (size_t i = 0; i < r->count; i++)
		free(r->entries[i].path);
	free(r->entries);
	memset(r, 0, sizeof *r);
}
