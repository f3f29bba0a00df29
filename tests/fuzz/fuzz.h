/*
 * fuzz.h — what a fuzz target promises its two drivers.
 *
 * A target (fuzz_sql.c: SQL text through a whole database; fuzz_wire.c: every decoder of
 * bytes that arrive from a peer, a client or the log; fuzz_raft.c: a Raft node under any
 * sequence of inputs and peers' messages; fuzz_log.c: a Raft log directory of any content
 * opened as a node starts; fuzz_btree.c: a damaged B+-tree file opened and used) defines
 *
 *   - LLVMFuzzerTestOneInput(data, size): runs one input and returns 0. Bad input must
 *     end in an error value, never a crash, a leak or undefined behaviour (the sanitizers
 *     watch), and the target checks its own properties with FUZZ_REQUIRE (a broken one
 *     aborts, as a crash would, so both drivers report it);
 *   - fuzz_seeds(add, ctx): hands each of its seed inputs (valid encodings, statements
 *     that work) to `add`;
 *   - fuzz_tokens: NULL-terminated fragments worth splicing into inputs (keywords, magic
 *     bytes).
 *
 * The drivers: libFuzzer itself, with clang (meson option -Dfuzz=true; docs/architecture.md, "Fuzz targets"),
 * and fuzz_replay.c in every build, which reruns saved inputs or, given none, runs the
 * seeds and a bounded number of deterministic mutations of them: the test suite's run.
 */
#ifndef CAIRN_TESTS_FUZZ_H
#define CAIRN_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Seeds and the replay driver's mutations are at most this long (libFuzzer has -max_len). */
#define FUZZ_INPUT_MAX_BYTES 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef void fuzz_add_fn(void *ctx, const uint8_t *data, size_t size);
void fuzz_seeds(fuzz_add_fn *add, void *ctx);

extern const char *const fuzz_tokens[];

/* A property of the target that must hold for every input. */
#define FUZZ_REQUIRE(cond)                                                                       \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: fuzz property broken: %s\n", __FILE__, __LINE__, \
			        #cond);                                                          \
			abort();                                                                 \
		}                                                                                \
	} while (0)

#endif
