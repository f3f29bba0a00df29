/*
 * slt_main.c — cairn-slt, the sqllogictest runner.
 *
 *     cairn-slt [--verbose] [--slow MS] PATH...
 *     cairn-slt [--verbose] [--slow MS] --ratchet RATCHET PATH...
 *     cairn-slt [--verbose] [--slow MS] --update-ratchet RATCHET PATH...
 *
 * Each PATH is a test file or a folder searched (recursively, in name order) for files
 * ending in .test or .slt. Every file runs against its own fresh in-memory database. One
 * line per file, `FILE: N passed, N failed, N skipped`, and last `total: ...`.
 *
 * Exit status: without a ratchet, 0 when no record failed and 1 otherwise. With
 * --ratchet, 0 when no file passed fewer records than RATCHET records for it (failures
 * are expected there: the corpus measures how far the engine has come), 1 on a regression,
 * and 77 (meson's "skipped") when a PATH does not exist, e.g. a fresh clone without the
 * corpus. --update-ratchet raises RATCHET's numbers to this run's (never lowers them).
 * A file's key in the ratchet is its path inside the folder given as PATH.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/number.h"
#include "net/repl_conn.h"
#include "net/slt_ratchet.h"
#include "net/slt_run.h"

#define SLT_MAX_FILES 100000
#define SLT_MAX_DEPTH 16
#define SLT_EXIT_SKIP 77

struct slt__file {
	char *path; /* to open */
	char *key;  /* in the ratchet: the path inside the folder named on the command line */
};

struct slt__files {
	struct slt__file *items;
	size_t count;
	size_t cap;
};

static err *slt__add_file(struct slt__files *files, const char *path, const char *key)
{
	if (files->count == SLT_MAX_FILES)
		return err_new(ERR_LIMIT, "more than %d test files", SLT_MAX_FILES);
	if (files->count == files->cap) {
		size_t cap = files->cap ? 2 * files->cap : 32;
		struct slt__file *items = realloc(files->items, cap * sizeof *items);
		if (!items)
			return err_new(ERR_NOMEM, "out of memory");
		files->items = items;
		files->cap = cap;
	}
	char *p = strdup(path), *k = strdup(key);
	if (!p || !k) {
		free(p);
		free(k);
		return err_new(ERR_NOMEM, "out of memory");
	}
	files->items[files->count++] = (struct slt__file){.path = p, .key = k};
	return NULL;
}

static void slt__files_free(struct slt__files *files)
{
	for (size_t i = 0; i < files->count; i++) {
		free(files->items[i].path);
		free(files->items[i].key);
	}
	free(files->items);
}

static bool slt__is_test_name(const char *name)
{
	size_t n = strlen(name);
	return (n > 5 && strcmp(name + n - 5, ".test") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".slt") == 0);
}

static int slt__name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static err *slt__walk(struct slt__files *files, const char *dir, const char *prefix, int depth);

/* Adds entry `name` of folder `dir` (key prefix `prefix`): a test file, or a folder to walk. */
static err *slt__walk_entry(struct slt__files *files, const char *dir, const char *prefix,
                            const char *name, int depth)
{
	char path[4096], key[4096];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path ||
	    (size_t)snprintf(key, sizeof key, "%s%s", prefix, name) >= sizeof key)
		return err_new(ERR_LIMIT, "path too long under %s", dir);
	struct stat st;
	if (stat(path, &st) != 0)
		return err_new(ERR_IO, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		size_t n = strlen(key);
		if (n + 1 >= sizeof key)
			return err_new(ERR_LIMIT, "path too long under %s", dir);
		key[n] = '/';
		key[n + 1] = '\0';
		return slt__walk(files, path, key, depth + 1);
	}
	if (S_ISREG(st.st_mode) && slt__is_test_name(name))
		return slt__add_file(files, path, key);
	return NULL;
}

/* Adds every test file under `dir`, in name order; keys start with `prefix`. */
static err *slt__walk(struct slt__files *files, const char *dir, const char *prefix, int depth)
{
	if (depth > SLT_MAX_DEPTH)
		return err_new(ERR_LIMIT, "%s: folders nested deeper than %d", dir, SLT_MAX_DEPTH);
	DIR *d = opendir(dir);
	if (!d)
		return err_new(ERR_IO, "%s: %s", dir, strerror(errno));
	char **names = NULL;
	size_t count = 0, cap = 0;
	err *e = NULL;
	struct dirent *ent;
	while (!e && (ent = readdir(d))) {
		if (ent->d_name[0] == '.')
			continue;
		if (count == SLT_MAX_FILES) {
			e = err_new(ERR_LIMIT, "%s: too many entries", dir);
			break;
		}
		if (count == cap) {
			cap = cap ? 2 * cap : 16;
			char **more = realloc(names, cap * sizeof *names);
			if (!more) {
				e = err_new(ERR_NOMEM, "out of memory");
				break;
			}
			names = more;
		}
		names[count] = strdup(ent->d_name);
		if (!names[count])
			e = err_new(ERR_NOMEM, "out of memory");
		else
			count++;
	}
	closedir(d);
	if (!e)
		qsort(names, count, sizeof *names, slt__name_cmp);
	for (size_t i = 0; i < count && !e; i++)
		e = slt__walk_entry(files, dir, prefix, names[i], depth);
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return e;
}

/* ---- running ---- */

static err *slt__run_one(const struct slt__file *file, const struct slt_options *opt,
                         struct slt_counts *counts)
{
	struct repl_conn *conn;
	TRY(repl_conn_open_local(":memory:", &conn));
	err *e = slt_run_file(file->path, conn, opt, counts);
	repl_conn_close(conn);
	return e;
}

enum slt__mode { SLT_PLAIN, SLT_CHECK_RATCHET, SLT_UPDATE_RATCHET };

/* Compares a file's result with the ratchet; returns false on a regression. */
static bool slt__check_file(const struct slt_ratchet *ratchet, const struct slt__file *file,
                            uint64_t passed, size_t *rose)
{
	bool found;
	uint64_t recorded = slt_ratchet_get(ratchet, file->key, &found);
	if (passed < recorded) {
		printf("REGRESSION %s: %" PRIu64 " passed, the ratchet says %" PRIu64 "\n",
		       file->key, passed, recorded);
		return false;
	}
	if (passed > recorded || !found)
		(*rose)++;
	return true;
}

/* Reports ratchet entries no file of this run matched; returns false if there are any. */
static bool slt__check_missing(const struct slt_ratchet *ratchet, const struct slt__files *files)
{
	bool ok = true;
	for (size_t r = 0; r < ratchet->count; r++) {
		bool ran = false;
		for (size_t f = 0; f < files->count && !ran; f++)
			ran = strcmp(files->items[f].key, ratchet->entries[r].path) == 0;
		if (!ran) {
			printf("MISSING %s: recorded in the ratchet but not found\n",
			       ratchet->entries[r].path);
			ok = false;
		}
	}
	return ok;
}

static void slt__usage(FILE *out)
{
	fprintf(out, "usage: cairn-slt [--verbose] [--slow MS] [--ratchet FILE | "
	             "--update-ratchet FILE] PATH...\n");
}

int main(int argc, char **argv)
{
	struct slt_options opt = {.report = stdout};
	enum slt__mode mode = SLT_PLAIN;
	const char *ratchet_file = NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--verbose") == 0) {
			opt.verbose = true;
		} else if (strcmp(a, "--slow") == 0 && i + 1 < argc) {
			err *e = number_parse_u64(argv[++i], UINT32_MAX, &opt.slow_ms);
			if (e || opt.slow_ms == 0) {
				fprintf(stderr,
				        "cairn-slt: --slow needs a number of milliseconds%s%s\n",
				        e ? ": " : "", e ? err_msg(e) : "");
				err_free(e);
				return 2;
			}
		} else if ((strcmp(a, "--ratchet") == 0 || strcmp(a, "--update-ratchet") == 0) &&
		           i + 1 < argc) {
			mode = a[2] == 'r' ? SLT_CHECK_RATCHET : SLT_UPDATE_RATCHET;
			ratchet_file = argv[++i];
		} else if (strcmp(a, "--help") == 0) {
			slt__usage(stdout);
			return 0;
		} else {
			slt__usage(stderr);
			return 2;
		}
	}
	if (i == argc) {
		slt__usage(stderr);
		return 2;
	}

	struct slt__files files = {0};
	err *e = NULL;
	for (; i < argc && !e; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			printf("%s: %s\n", argv[i], strerror(errno));
			if (mode == SLT_CHECK_RATCHET) {
				printf("skipped: the sqllogictest corpus is not here\n");
				slt__files_free(&files);
				return SLT_EXIT_SKIP;
			}
			slt__files_free(&files);
			return 1;
		}
		e = S_ISDIR(st.st_mode) ? slt__walk(&files, argv[i], "", 0)
		                        : slt__add_file(&files, argv[i], argv[i]);
	}

	struct slt_ratchet ratchet = {0};
	if (!e && mode != SLT_PLAIN)
		e = slt_ratchet_load(ratchet_file, mode == SLT_UPDATE_RATCHET, &ratchet);
	if (e) {
		fprintf(stderr, "cairn-slt: %s\n", err_msg(e));
		err_free(e);
		slt__files_free(&files);
		return 1;
	}

	struct slt_counts total = {0};
	bool ok = true;
	size_t rose = 0;
	for (size_t f = 0; f < files.count; f++) {
		struct slt_counts counts = {0};
		e = slt__run_one(&files.items[f], &opt, &counts);
		if (e) {
			printf("%s: %s\n", files.items[f].path, err_msg(e));
			err_free(e);
			ok = false;
			continue;
		}
		printf("%s: %" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64 " skipped\n",
		       files.items[f].path, counts.passed, counts.failed, counts.skipped);
		fflush(stdout);
		total.passed += counts.passed;
		total.failed += counts.failed;
		total.skipped += counts.skipped;
		if (mode == SLT_PLAIN)
			ok &= counts.failed == 0;
		else if (mode == SLT_CHECK_RATCHET)
			ok &= slt__check_file(&ratchet, &files.items[f], counts.passed, &rose);
		else if ((e = slt_ratchet_raise(&ratchet, files.items[f].key, counts.passed))) {
			printf("%s: %s\n", files.items[f].key, err_msg(e));
			err_free(e);
			ok = false;
		}
	}
	printf("total: %" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64 " skipped\n", total.passed,
	       total.failed, total.skipped);
	if (total.failed > 0 && !opt.verbose)
		printf(
		    "(--verbose shows each failure: its line, the SQL, what was expected and got)\n");
	if (mode == SLT_CHECK_RATCHET)
		ok &= slt__check_missing(&ratchet, &files);
	if (mode == SLT_CHECK_RATCHET && rose > 0)
		printf("%zu file(s) passed more than the ratchet records; raise it with "
		       "--update-ratchet %s\n",
		       rose, ratchet_file);
	if (mode == SLT_UPDATE_RATCHET && ok) {
		e = slt_ratchet_save(&ratchet, ratchet_file);
		if (e) {
			printf("%s\n", err_msg(e));
			err_free(e);
			ok = false;
		}
	}
	slt_ratchet_free(&ratchet);
	slt__files_free(&files);
	return ok ? 0 : 1;
}
