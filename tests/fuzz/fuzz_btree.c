/*
 * fuzz_btree.c — a B+-tree file damaged in any way, opened and used (fuzz.h).
 *
 * The harness builds a real file once (a few hundred keys, a value long enough for an
 * overflow chain, two commits), then applies the input to a copy as patches: a page byte,
 * a two-byte offset, a length byte and that many bytes, written at that place of that page
 * (pages past the end grow the file). With the first byte's low bit set it then computes
 * every page's checksum again, so the damage passes the checksum and reaches what the
 * page's fields claim.
 *
 * Properties, beyond the sanitizers' and the assertions': the file opens or is refused
 * with an error naming its reason; an open tree is verified, scanned both ways, read by key,
 * written and committed, each step succeeding or failing with such an error.
 */
#include <string.h>

#include "base/buf.h"
#include "base/checksum.h"
#include "fuzz.h"
#include "storage/btree.h"
#include "storage/vfs_memory.h"

#define FUZZ_BTREE_PAGE 4096
#define FUZZ_BTREE_PAGES_MAX 64
#define FUZZ_BTREE_PATH "t.db"
#define FUZZ_BTREE_DISK_BYTES ((size_t)4 << 20)
/* A small page cache: the tree is small, and a big one costs each input its setup. */
static const struct btree_options fuzz_btree_options = {.cache_bytes = (size_t)256 << 10};
#define FUZZ_BTREE_KEYS 300
/* Entries an iteration visits at most: a damaged tree may loop. */
#define FUZZ_BTREE_SCAN_MAX 10000

static void fuzz_btree_check(err *e)
{
	if (!e)
		return;
	FUZZ_REQUIRE(err_msg(e)[0] != '\0' && err_code(e) != ERR_INTERNAL);
	err_free(e);
}

static struct slice fuzz_btree_slice(const void *bytes, size_t len)
{
	return (struct slice){.ptr = bytes, .len = len};
}

/* Reads the whole file of `vfs` into `out`. */
static void fuzz_btree_read_file(struct vfs *vfs, struct buf *out)
{
	struct vfs_file *f;
	FUZZ_REQUIRE(vfs_open(vfs, FUZZ_BTREE_PATH, 0, &f) == NULL);
	uint64_t size;
	FUZZ_REQUIRE(vfs_size(f, &size) == NULL);
	FUZZ_REQUIRE(size <= FUZZ_BTREE_PAGES_MAX * FUZZ_BTREE_PAGE);
	FUZZ_REQUIRE(buf_reserve(out, (size_t)size) == NULL);
	FUZZ_REQUIRE(vfs_read_exact(f, 0, out->data, (size_t)size) == NULL);
	out->len = (size_t)size;
	vfs_close(f);
}

/* The undamaged file, built on first use. */
static const struct buf *fuzz_btree_base(void)
{
	static struct buf base;
	static bool built;
	if (built)
		return &base;
	struct vfs *vfs;
	FUZZ_REQUIRE(vfs_memory_new(FUZZ_BTREE_DISK_BYTES, &vfs) == NULL);
	struct kv *kv;
	FUZZ_REQUIRE(btree_open(vfs, FUZZ_BTREE_PATH, &fuzz_btree_options, &kv) == NULL);
	char key[32], value[64];
	for (int i = 0; i < FUZZ_BTREE_KEYS; i++) {
		int klen = snprintf(key, sizeof key, "key-%05d", i * 7 % 1000);
		int vlen = snprintf(value, sizeof value, "value %d of the fuzz tree", i);
		FUZZ_REQUIRE(kv_put(kv, fuzz_btree_slice(key, (size_t)klen),
		                    fuzz_btree_slice(value, (size_t)vlen)) == NULL);
		if (i == FUZZ_BTREE_KEYS / 2)
			FUZZ_REQUIRE(kv_commit(kv, fuzz_btree_slice("m1", 2), true) == NULL);
	}
	static uint8_t big[6000];
	memset(big, 'b', sizeof big);
	FUZZ_REQUIRE(kv_put(kv, fuzz_btree_slice("big", 3), fuzz_btree_slice(big, sizeof big)) ==
	             NULL);
	FUZZ_REQUIRE(kv_delete(kv, fuzz_btree_slice("key-00007", 9)) == NULL);
	FUZZ_REQUIRE(kv_commit(kv, fuzz_btree_slice("m2", 2), true) == NULL);
	kv_close(kv);
	buf_init(&base, FUZZ_BTREE_PAGES_MAX * FUZZ_BTREE_PAGE);
	fuzz_btree_read_file(vfs, &base);
	vfs_memory_free(vfs);
	built = true;
	return &base;
}

/* Applies the input's patches to `file`; returns false if the input asks for too much. */
static bool fuzz_btree_patch(const uint8_t *d, size_t n, struct buf *file)
{
	size_t at = 0;
	while (n - at >= 4) {
		size_t page = d[at] % FUZZ_BTREE_PAGES_MAX;
		size_t offset = ((size_t)d[at + 1] << 8 | d[at + 2]) % FUZZ_BTREE_PAGE;
		size_t len = d[at + 3];
		at += 4;
		if (len > n - at)
			len = n - at;
		if (len > FUZZ_BTREE_PAGE - offset)
			len = FUZZ_BTREE_PAGE - offset;
		size_t end = page * FUZZ_BTREE_PAGE + offset + len;
		if (end > file->len) {
			size_t grown =
			    (end + FUZZ_BTREE_PAGE - 1) / FUZZ_BTREE_PAGE * FUZZ_BTREE_PAGE;
			if (buf_reserve(file, grown - file->len) != NULL)
				return false;
			memset(file->data + file->len, 0, grown - file->len);
			file->len = grown;
		}
		memcpy(file->data + page * FUZZ_BTREE_PAGE + offset, d + at, len);
		at += len;
	}
	return true;
}

static void fuzz_btree_checksums(struct buf *file)
{
	for (size_t p = 0; p + FUZZ_BTREE_PAGE <= file->len; p += FUZZ_BTREE_PAGE) {
		uint8_t *page = file->data + p;
		store_u32be(page, checksum32(page + 4, FUZZ_BTREE_PAGE - 4));
	}
}

static void fuzz_btree_scan(struct kv *kv, bool reverse)
{
	struct kv_iter *it;
	err *e = kv_iter_open(kv, NULL, NULL, reverse, &it);
	if (e) {
		fuzz_btree_check(e);
		return;
	}
	for (int i = 0; i < FUZZ_BTREE_SCAN_MAX; i++) {
		struct slice key, value;
		bool done;
		e = kv_iter_next(it, &key, &value, &done);
		if (e || done)
			break;
		FUZZ_REQUIRE(key.len >= 1 && key.len <= KV_KEY_MAX && value.len <= KV_VALUE_MAX);
	}
	fuzz_btree_check(e);
	kv_iter_close(it);
}

/* Everything a node does with its state file, each step allowed to fail cleanly. */
static void fuzz_btree_use(struct kv *kv)
{
	fuzz_btree_check(btree_verify(kv));
	fuzz_btree_scan(kv, false);
	fuzz_btree_scan(kv, true);
	struct buf value, meta;
	buf_init(&value, KV_VALUE_MAX);
	buf_init(&meta, KV_META_MAX);
	bool found;
	fuzz_btree_check(kv_get(kv, fuzz_btree_slice("key-00140", 9), &value, &found));
	fuzz_btree_check(kv_get(kv, fuzz_btree_slice("big", 3), &value, &found));
	fuzz_btree_check(kv_meta(kv, &meta));
	fuzz_btree_check(kv_put(kv, fuzz_btree_slice("key-00500", 9), fuzz_btree_slice("v", 1)));
	fuzz_btree_check(kv_delete(kv, fuzz_btree_slice("key-00014", 9)));
	fuzz_btree_check(kv_commit(kv, fuzz_btree_slice("m3", 2), true));
	buf_free(&value);
	buf_free(&meta);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	struct buf file;
	buf_init(&file, FUZZ_BTREE_PAGES_MAX * FUZZ_BTREE_PAGE);
	const struct buf *base = fuzz_btree_base();
	FUZZ_REQUIRE(buf_append(&file, base->data, base->len) == NULL);
	if (!fuzz_btree_patch(data + 1, size - 1, &file)) {
		buf_free(&file);
		return 0;
	}
	if (data[0] & 1)
		fuzz_btree_checksums(&file);
	struct vfs *vfs;
	FUZZ_REQUIRE(vfs_memory_new(FUZZ_BTREE_DISK_BYTES, &vfs) == NULL);
	struct vfs_file *f;
	FUZZ_REQUIRE(vfs_open(vfs, FUZZ_BTREE_PATH, VFS_CREATE, &f) == NULL);
	FUZZ_REQUIRE(vfs_write(f, 0, file.data, file.len) == NULL);
	FUZZ_REQUIRE(vfs_sync(f) == NULL);
	vfs_close(f);
	buf_free(&file);
	struct kv *kv;
	err *e = btree_open(vfs, FUZZ_BTREE_PATH, &fuzz_btree_options, &kv);
	if (e)
		fuzz_btree_check(e);
	else {
		fuzz_btree_use(kv);
		kv_close(kv);
	}
	vfs_memory_free(vfs);
	return 0;
}

/*
 * Seeds: the file as built, and patches of a leaf's cell count, a branch's child, the
 * meta page's root and a free-list length, each with checksums computed again.
 */
void fuzz_seeds(fuzz_add_fn *add, void *ctx)
{
	static const uint8_t seeds[][16] = {
	    {1},
	    {1, 2, 0, 14, 2, 0xff, 0xff},
	    {1, 3, 0, 24, 8, 0, 0, 0, 0, 0, 0, 0, 40},
	    {1, 0, 0, 40, 8, 0, 0, 0, 0, 0, 0, 0, 1},
	    {1, 1, 0, 56, 4, 0x7f, 0xff, 0xff, 0xff},
	    {0, 4, 0, 12, 1, 3},
	};
	static const size_t lens[] = {1, 7, 13, 13, 9, 6};
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
		add(ctx, seeds[i], lens[i]);
}

/* Page types, counts that claim much or little, page numbers past the end. */
const char *const fuzz_tokens[] = {
    "\x01", "\x02", "\x03", "\x04", "\x05", "\xff\xff", "\x10\x00", "\x7f\xff\xff\xff", NULL,
};
