/*
 * fuzz_log.c — a Raft log directory of any content, opened as a node opens it at start
 * (fuzz.h): the durable log's recovery, the hard state, then Raft made from both.
 *
 * Input: the first byte's low bit picks raw mode (the rest of the input is the segment
 * file) or record mode (the harness writes a valid header for the first index the next
 * byte names, then records whose checksums it computes, so the fuzzer reaches what lies
 * behind a checksum: a record is a length byte below 0xf0 and that many payload bytes;
 * a byte from 0xf0 appends the rest of the input as it is, a torn tail). The first byte's
 * second bit adds a hard state file: a length byte and that many bytes.
 *
 * Properties, beyond the sanitizers' and the assertions': the log opens or refuses with
 * an error naming its reason; an open log loads every entry it claims, at its index; Raft
 * made from it and its hard state starts or refuses, never trips over it.
 */
#include <string.h>

#include "base/buf.h"
#include "base/checksum.h"
#include "base/prng.h"
#include "fuzz.h"
#include "raft/durable_log.h"
#include "raft/hard_state.h"
#include "raft/raft.h"
#include "storage/vfs_memory.h"

#define FUZZ_LOG_DIR "log"
#define FUZZ_LOG_DISK_BYTES ((size_t)64 << 20)
#define FUZZ_LOG_RECORD_TAIL 0xf0
/* Entries loaded back at most per input. */
#define FUZZ_LOG_LOAD_MAX 1024

static void fuzz_log_write(struct vfs *vfs, const char *path, const uint8_t *bytes, size_t len)
{
	struct vfs_file *f;
	FUZZ_REQUIRE(vfs_open(vfs, path, VFS_CREATE, &f) == NULL);
	FUZZ_REQUIRE(vfs_write(f, 0, bytes, len) == NULL);
	FUZZ_REQUIRE(vfs_sync(f) == NULL);
	vfs_close(f);
}

/* Record mode: a valid header, then the input's records with their checksums computed. */
static uint64_t fuzz_log_records(const uint8_t *d, size_t n, struct buf *out)
{
	uint64_t first = 1 + (n > 0 ? d[0] % 8 : 0);
	uint8_t header[20] = {'C', 'R', 'N', 'L', 'O', 'G', '0', '1'};
	store_u64be(header + 8, first);
	store_u32be(header + 16, checksum32(header, 16));
	FUZZ_REQUIRE(buf_append(out, header, sizeof header) == NULL);
	size_t at = n > 0 ? 1 : 0;
	while (at < n) {
		uint8_t tag = d[at++];
		if (tag >= FUZZ_LOG_RECORD_TAIL) {
			FUZZ_REQUIRE(buf_append(out, d + at, n - at) == NULL);
			break;
		}
		size_t len = tag < n - at ? tag : n - at;
		uint8_t head[8];
		store_u32be(head, (uint32_t)len);
		store_u32be(head + 4, checksum32(d + at, len));
		FUZZ_REQUIRE(buf_append(out, head, sizeof head) == NULL);
		FUZZ_REQUIRE(buf_append(out, d + at, len) == NULL);
		at += len;
	}
	return first;
}

/* Opens the log and makes Raft from it, as node_open() does. */
static void fuzz_log_open(struct vfs *vfs)
{
	struct raft_dlog *log;
	struct raft_dlog_recovery recovery;
	err *e = raft_dlog_open(vfs, FUZZ_LOG_DIR, RAFT_DLOG_SEGMENT_BYTES, &log, &recovery);
	if (e) {
		FUZZ_REQUIRE(err_msg(e)[0] != '\0' && err_code(e) != ERR_INTERNAL);
		err_free(e);
		return;
	}
	uint64_t last = raft_dlog_last_index(log);
	FUZZ_REQUIRE(recovery.last_index == last);
	for (uint64_t i = last > FUZZ_LOG_LOAD_MAX ? last - FUZZ_LOG_LOAD_MAX + 1 : 1; i <= last;
	     i++) {
		struct raft_entry entry;
		e = raft_dlog_load(log, i, &entry);
		if (e) { /* entries before the log's first segment are gone */
			FUZZ_REQUIRE(err_msg(e)[0] != '\0' && err_code(e) != ERR_INTERNAL);
			err_free(e);
			continue;
		}
		FUZZ_REQUIRE(entry.index == i);
		free((void *)entry.data);
	}
	struct raft_hard_state hs;
	e = raft_hard_state_load(vfs, FUZZ_LOG_DIR, 1, &hs);
	if (e) {
		FUZZ_REQUIRE(err_msg(e)[0] != '\0');
		err_free(e);
		hs =
		    (struct raft_hard_state){.term = last > 0 ? raft_dlog_terms(log)[last - 1] : 0};
	}
	static const uint32_t peers[] = {1, 2, 3};
	struct raft_config config;
	raft_config_default(&config, 1, peers, 3);
	struct prng prng;
	prng_seed(&prng, 1);
	struct raft_initial initial = {
	    .hard_state = hs, .terms = raft_dlog_terms(log), .last_index = last};
	struct raft *r;
	e = raft_new(&config, &initial, &prng, raft_dlog_source(log), &r);
	if (e) {
		FUZZ_REQUIRE(err_msg(e)[0] != '\0' && err_code(e) != ERR_INTERNAL);
		err_free(e);
	} else {
		err_free(raft_tick(r));
		raft_free(r);
	}
	raft_dlog_close(log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	bool records = (data[0] & 1) != 0, hard_state = (data[0] & 2) != 0;
	const uint8_t *d = data + 1;
	size_t n = size - 1;
	struct vfs *vfs;
	FUZZ_REQUIRE(vfs_memory_new(FUZZ_LOG_DISK_BYTES, &vfs) == NULL);
	FUZZ_REQUIRE(vfs_mkdir(vfs, FUZZ_LOG_DIR) == NULL);
	if (hard_state && n > 0) {
		size_t len = d[0] < n - 1 ? d[0] : n - 1;
		fuzz_log_write(vfs, FUZZ_LOG_DIR "/hardstate", d + 1, len);
		d += 1 + len;
		n -= 1 + len;
	}
	struct buf segment;
	buf_init(&segment, 9 * size + 64); /* a record of one byte takes nine */
	uint64_t first = 1;
	if (records)
		first = fuzz_log_records(d, n, &segment);
	else
		FUZZ_REQUIRE(buf_append(&segment, d, n) == NULL);
	char path[64];
	snprintf(path, sizeof path, FUZZ_LOG_DIR "/seg-%020llu", (unsigned long long)first);
	fuzz_log_write(vfs, path, segment.data, segment.len);
	buf_free(&segment);
	fuzz_log_open(vfs);
	vfs_memory_free(vfs);
	return 0;
}

/* ---- seeds: a real log, as raw bytes and as records ---- */

/* Writes a log of a few batches and returns its segment file's bytes in *out. */
static void fuzz_log_real(struct buf *out)
{
	struct vfs *vfs;
	FUZZ_REQUIRE(vfs_memory_new(FUZZ_LOG_DISK_BYTES, &vfs) == NULL);
	struct raft_dlog *log;
	struct raft_dlog_recovery recovery;
	FUZZ_REQUIRE(raft_dlog_open(vfs, FUZZ_LOG_DIR, RAFT_DLOG_SEGMENT_BYTES, &log, &recovery) ==
	             NULL);
	static const uint8_t command[] = {'s', 'e', 't', ' ', 'x'};
	struct raft_entry entries[3] = {
	    {.term = 1, .index = 1, .type = RAFT_ENTRY_NOOP},
	    {.term = 1,
	     .index = 2,
	     .type = RAFT_ENTRY_NORMAL,
	     .origin = 2,
	     .id = 9,
	     .data = command,
	     .len = sizeof command},
	    {.term = 2,
	     .index = 3,
	     .type = RAFT_ENTRY_NORMAL,
	     .origin = 1,
	     .id = 4,
	     .data = command,
	     .len = 3},
	};
	FUZZ_REQUIRE(raft_dlog_append(log, entries, 2) == NULL);
	FUZZ_REQUIRE(raft_dlog_append(log, entries + 2, 1) == NULL);
	raft_dlog_close(log);
	struct vfs_file *f;
	FUZZ_REQUIRE(vfs_open(vfs, FUZZ_LOG_DIR "/seg-00000000000000000001", 0, &f) == NULL);
	uint8_t bytes[FUZZ_INPUT_MAX_BYTES];
	size_t got;
	FUZZ_REQUIRE(vfs_read(f, 0, bytes, sizeof bytes, &got) == NULL);
	vfs_close(f);
	vfs_memory_free(vfs);
	while (got > 0 && bytes[got - 1] == 0) /* the zeroed space ahead of the records */
		got--;
	FUZZ_REQUIRE(buf_append(out, bytes, got) == NULL);
}

void fuzz_seeds(fuzz_add_fn *add, void *ctx)
{
	struct buf file, seed;
	buf_init(&file, FUZZ_INPUT_MAX_BYTES);
	buf_init(&seed, FUZZ_INPUT_MAX_BYTES);
	fuzz_log_real(&file);
	/* raw: the file as it is */
	FUZZ_REQUIRE(buf_append(&seed, "\x00", 1) == NULL);
	FUZZ_REQUIRE(buf_append(&seed, file.data, file.len) == NULL);
	add(ctx, seed.data, seed.len);
	/* records: first index 1, each record's payload after its length byte */
	buf_clear(&seed);
	FUZZ_REQUIRE(buf_append(&seed, "\x01\x00", 2) == NULL);
	for (size_t at = 20; at + 8 <= file.len;) {
		uint32_t len = load_u32be(file.data + at);
		if (len == 0 || len >= FUZZ_LOG_RECORD_TAIL || at + 8 + len > file.len)
			break;
		uint8_t tag = (uint8_t)len;
		FUZZ_REQUIRE(buf_append(&seed, &tag, 1) == NULL);
		FUZZ_REQUIRE(buf_append(&seed, file.data + at + 8, len) == NULL);
		at += 8 + len;
	}
	add(ctx, seed.data, seed.len);
	/* the same with a hard state of term 2 and a vote: a length byte, then the file */
	buf_clear(&seed);
	struct vfs *vfs;
	FUZZ_REQUIRE(vfs_memory_new(FUZZ_LOG_DISK_BYTES, &vfs) == NULL);
	FUZZ_REQUIRE(vfs_mkdir(vfs, FUZZ_LOG_DIR) == NULL);
	FUZZ_REQUIRE(raft_hard_state_save(vfs, FUZZ_LOG_DIR, 1,
	                                  &(struct raft_hard_state){.term = 2, .vote = 1}) == NULL);
	struct vfs_file *f;
	FUZZ_REQUIRE(vfs_open(vfs, FUZZ_LOG_DIR "/hardstate", 0, &f) == NULL);
	uint8_t hs[64];
	size_t got;
	FUZZ_REQUIRE(vfs_read(f, 0, hs, sizeof hs, &got) == NULL);
	vfs_close(f);
	vfs_memory_free(vfs);
	uint8_t head[2] = {0x02, (uint8_t)got};
	FUZZ_REQUIRE(buf_append(&seed, head, 2) == NULL);
	FUZZ_REQUIRE(buf_append(&seed, hs, got) == NULL);
	FUZZ_REQUIRE(buf_append(&seed, file.data, file.len) == NULL);
	add(ctx, seed.data, seed.len);
	buf_free(&seed);
	buf_free(&file);
}

/* The segment's magic, a record length that claims much, msgpack headers. */
const char *const fuzz_tokens[] = {
    "CRNLOG01", "CRNHS001", "\xff\xff\xff\xff", "\x96\x01\x01\x01", "\xc4\x05", "\xcf", NULL,
};
