/*
 * checksum.h — the one checksum cairn uses for pages, log entries and frames.
 *
 * checksum32() is the low 32 bits of XXH3-64 over the bytes. It detects corruption (torn
 * writes, bit flips, garbage on a socket); it is not a defence against an adversary.
 * checksum_stream hashes a sequence of byte ranges as if concatenated, 64 bits wide, for
 * state hashes that compare whole replicas.
 */
#ifndef CAIRN_BASE_CHECKSUM_H
#define CAIRN_BASE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

uint32_t checksum32(const void *bytes, size_t len);

struct checksum_stream {
	void *state; /* an XXH3 state; NULL if allocation failed (digest then returns 0) */
};

void checksum_stream_init(struct checksum_stream *s);
void checksum_stream_add(struct checksum_stream *s, const void *bytes, size_t len);
/* Returns the hash of everything added and releases the stream. */
uint64_t checksum_stream_end(struct checksum_stream *s);

#endif
