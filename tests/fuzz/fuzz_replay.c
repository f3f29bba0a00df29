/*
 * fuzz_replay.c — a fuzz target's driver in every build, with any compiler (fuzz.h).
 *
 *   fuzz_<target> [--mutations N] [--seed S] [--regressions DIR] [--write-seeds DIR]
 *                 [FILE|DIR]...
 *
 * Given files or directories of files (an input libFuzzer saved, a corpus), runs each
 * once. Given none, runs the files of the --regressions directory (inputs that once broke
 * a property, kept in tests/fuzz/regress/<target>/), every seed of the target, then N
 * mutations of the seeds (default
 * 20,000): each a seed changed by one to four edits (bits flipped, bytes set, ranges
 * deleted, inserted, repeated or spliced from another seed, tokens of the target's
 * inserted), drawn from a PRNG seeded with S (default 1), so a run repeats exactly. If an
 * input aborts, it is saved to fuzz-failure.bin first, for a rerun as a FILE argument.
 * --write-seeds writes the seeds to DIR as files, a starting corpus for libFuzzer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/number.h"
#include "base/prng.h"
#include "fuzz.h"

#define FUZZ_SEEDS_MAX 256
#define FUZZ_MUTATIONS_MAX 100000000u
#define FUZZ_FILE_MAX_BYTES ((size_t)1 << 20)
#define FUZZ_FAILURE_FILE "fuzz-failure.bin"

struct fuzz_corpus {
	uint8_t *inputs[FUZZ_SEEDS_MAX];
	size_t lens[FUZZ_SEEDS_MAX];
	size_t count;
};

static void fuzz_corpus_add(void *ctx, const uint8_t *data, size_t size)
{
	struct fuzz_corpus *c = ctx;
	if (c->count == FUZZ_SEEDS_MAX || size > FUZZ_INPUT_MAX_BYTES) {
		fprintf(stderr, "fuzz_replay: seed %zu dropped (at most %d seeds of %d bytes)\n",
		        c->count, FUZZ_SEEDS_MAX, FUZZ_INPUT_MAX_BYTES);
		return;
	}
	c->inputs[c->count] = malloc(size ? size : 1);
	FUZZ_REQUIRE(c->inputs[c->count] != NULL);
	memcpy(c->inputs[c->count], data, size);
	c->lens[c->count++] = size;
}

static void fuzz_corpus_free(struct fuzz_corpus *c)
{
	for (size_t i = 0; i < c->count; i++)
		free(c->inputs[i]);
}

/* The input running now, saved by the abort handler. */
static const uint8_t *fuzz_current;
static size_t fuzz_current_len;

static void fuzz_on_abort(int sig)
{
	int fd = open(FUZZ_FAILURE_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		size_t done = 0;
		while (done < fuzz_current_len) {
			ssize_t n = write(fd, fuzz_current + done, fuzz_current_len - done);
			if (n <= 0)
				break;
			done += (size_t)n;
		}
		close(fd);
		static const char note[] =
		    "fuzz_replay: the failing input is in " FUZZ_FAILURE_FILE "\n";
		ssize_t ignored = write(STDERR_FILENO, note, sizeof note - 1);
		(void)ignored;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void fuzz_run(const uint8_t *data, size_t size)
{
	fuzz_current = data;
	fuzz_current_len = size;
	LLVMFuzzerTestOneInput(data, size);
	fuzz_current = NULL;
	fuzz_current_len = 0;
}

/* ---- mutations ---- */

struct fuzz_input {
	uint8_t bytes[FUZZ_INPUT_MAX_BYTES];
	size_t len;
};

static void fuzz_insert(struct fuzz_input *in, size_t at, const uint8_t *bytes, size_t n)
{
	if (n > FUZZ_INPUT_MAX_BYTES - in->len)
		n = FUZZ_INPUT_MAX_BYTES - in->len;
	memmove(in->bytes + at + n, in->bytes + at, in->len - at);
	memcpy(in->bytes + at, bytes, n);
	in->len += n;
}

/* Applies one random edit to `in`; `other` is another seed to splice from. */
static void fuzz_edit(struct prng *p, struct fuzz_input *in, const uint8_t *other, size_t other_len)
{
	static const uint8_t interesting[] = {0x00, 0x01, 0x7f, 0x80, 0xff, '\'', '(', ';', '9'};
	size_t at = (size_t)prng_below(p, in->len + 1);
	switch (prng_below(p, 7)) {
	case 0: /* flip a bit */
		if (in->len > 0)
			in->bytes[at % in->len] ^= (uint8_t)(1u << prng_below(p, 8));
		break;
	case 1: /* set a byte */
		if (in->len > 0)
			in->bytes[at % in->len] =
			    prng_chance(p, 0.5) ? interesting[prng_below(p, sizeof interesting)]
			                        : (uint8_t)prng_next(p);
		break;
	case 2: { /* delete a range */
		size_t n = 1 + (size_t)prng_below(p, 8);
		if (at + n > in->len)
			n = in->len - at;
		memmove(in->bytes + at, in->bytes + at + n, in->len - at - n);
		in->len -= n;
		break;
	}
	case 3: { /* insert random bytes */
		uint8_t bytes[8];
		size_t n = 1 + (size_t)prng_below(p, sizeof bytes);
		for (size_t i = 0; i < n; i++)
			bytes[i] = (uint8_t)prng_next(p);
		fuzz_insert(in, at, bytes, n);
		break;
	}
	case 4: { /* insert a token */
		size_t tokens = 0;
		while (fuzz_tokens[tokens])
			tokens++;
		if (tokens > 0) {
			const char *t = fuzz_tokens[prng_below(p, tokens)];
			fuzz_insert(in, at, (const uint8_t *)t, strlen(t));
		}
		break;
	}
	case 5: { /* repeat a range of the input itself */
		if (in->len == 0)
			break;
		size_t from = (size_t)prng_below(p, in->len);
		size_t n = 1 + (size_t)prng_below(p, 32);
		if (from + n > in->len)
			n = in->len - from;
		uint8_t copy[32];
		memcpy(copy, in->bytes + from, n);
		fuzz_insert(in, at, copy, n);
		break;
	}
	default: { /* keep a prefix, then another seed's tail */
		size_t from = (size_t)prng_below(p, other_len + 1);
		in->len = at;
		fuzz_insert(in, at, other + from, other_len - from);
		break;
	}
	}
}

static void fuzz_mutations(const struct fuzz_corpus *c, uint32_t count, uint64_t seed)
{
	if (c->count == 0)
		return;
	struct prng p;
	prng_seed(&p, seed);
	static struct fuzz_input in;
	for (uint32_t i = 0; i < count; i++) {
		size_t base = (size_t)prng_below(&p, c->count);
		size_t other = (size_t)prng_below(&p, c->count);
		memcpy(in.bytes, c->inputs[base], c->lens[base]);
		in.len = c->lens[base];
		for (uint64_t edits = 1 + prng_below(&p, 4); edits > 0; edits--)
			fuzz_edit(&p, &in, c->inputs[other], c->lens[other]);
		fuzz_run(in.bytes, in.len);
	}
}

/* ---- files ---- */

static int fuzz_run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "fuzz_replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	uint8_t *data = malloc(FUZZ_FILE_MAX_BYTES);
	FUZZ_REQUIRE(data != NULL);
	size_t len = fread(data, 1, FUZZ_FILE_MAX_BYTES, f);
	bool too_long = fgetc(f) != EOF;
	fclose(f);
	if (too_long)
		fprintf(stderr, "fuzz_replay: %s: longer than %zu bytes, skipped\n", path,
		        FUZZ_FILE_MAX_BYTES);
	else
		fuzz_run(data, len);
	free(data);
	return too_long;
}

static int fuzz_run_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "fuzz_replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return fuzz_run_file(path);
	DIR *dir = opendir(path);
	if (!dir) {
		fprintf(stderr, "fuzz_replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	int failures = 0;
	struct dirent *d;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		char file[4096];
		snprintf(file, sizeof file, "%s/%s", path, d->d_name);
		failures += fuzz_run_file(file);
	}
	closedir(dir);
	return failures;
}

static int fuzz_write_seeds(const struct fuzz_corpus *c, const char *dir)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "fuzz_replay: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < c->count; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/seed-%03zu", dir, i);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(c->inputs[i], 1, c->lens[i], f) != c->lens[i] || fclose(f) != 0) {
			fprintf(stderr, "fuzz_replay: %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	printf("%zu seeds written to %s\n", c->count, dir);
	return 0;
}

static int fuzz_usage(const char *program, err *e)
{
	if (e) {
		fprintf(stderr, "%s: %s\n", program, err_msg(e));
		err_free(e);
	}
	fprintf(stderr,
	        "usage: %s [--mutations N] [--seed S] [--regressions DIR] [--write-seeds DIR] "
	        "[FILE|DIR]...\n",
	        program);
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t mutations = 20000, seed = 1;
	const char *seeds_dir = NULL, *regressions = NULL;
	int first_path = argc;
	for (int i = 1; i < argc; i++) {
		bool has_value = i + 1 < argc;
		err *e = NULL;
		if (strcmp(argv[i], "--mutations") == 0 && has_value)
			e = number_parse_u64(argv[++i], FUZZ_MUTATIONS_MAX, &mutations);
		else if (strcmp(argv[i], "--seed") == 0 && has_value)
			e = number_parse_u64(argv[++i], UINT64_MAX, &seed);
		else if (strcmp(argv[i], "--write-seeds") == 0 && has_value)
			seeds_dir = argv[++i];
		else if (strcmp(argv[i], "--regressions") == 0 && has_value)
			regressions = argv[++i];
		else if (argv[i][0] == '-')
			return fuzz_usage(argv[0],
			                  err_new(ERR_INVALID, "unknown flag %s", argv[i]));
		else {
			first_path = i;
			break;
		}
		if (e)
			return fuzz_usage(argv[0], e);
	}
	signal(SIGABRT, fuzz_on_abort);

	struct fuzz_corpus corpus = {.count = 0};
	fuzz_seeds(fuzz_corpus_add, &corpus);
	int failures = 0;
	if (seeds_dir) {
		failures = fuzz_write_seeds(&corpus, seeds_dir);
	} else if (first_path < argc) {
		for (int i = first_path; i < argc; i++)
			failures += fuzz_run_path(argv[i]);
		printf("%d inputs run\n", argc - first_path);
	} else {
		if (regressions)
			failures += fuzz_run_path(regressions);
		for (size_t i = 0; i < corpus.count; i++)
			fuzz_run(corpus.inputs[i], corpus.lens[i]);
		fuzz_mutations(&corpus, (uint32_t)mutations, seed);
		printf("%zu seeds and %llu mutations run, every property held\n", corpus.count,
		       (unsigned long long)mutations);
	}
	fuzz_corpus_free(&corpus);
	return failures ? 1 : 0;
}
