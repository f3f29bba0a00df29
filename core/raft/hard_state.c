#include "raft/hard_state.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/checksum.h"
#include "base/codec.h"

#define RAFT__HS_MAGIC "CRNHS001"
#define RAFT__HS_MAGIC_LEN 8
/* Header, a four-field msgpack array of u64s (at most 37 bytes), checksum. */
#define RAFT__HS_MAX_BYTES 64

static err *raft__hs_path(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, VFS_PATH_MAX, "%s/%s", dir, name);
	if (n < 0 || n >= VFS_PATH_MAX)
		return err_new(ERR_LIMIT, "path %s/%s too long", dir, name);
	return NULL;
}

/* Decodes a file image into *out and the id of the node that saved it (0: not kept). */
static err *raft__hs_decode(const uint8_t *bytes, size_t size, struct raft_hard_state *out,
                            uint32_t *owner)
{
	assert(bytes != NULL && out != NULL);
	assert(size <= RAFT__HS_MAX_BYTES + 1);
	if (size < RAFT__HS_MAGIC_LEN + 8 || memcmp(bytes, RAFT__HS_MAGIC, RAFT__HS_MAGIC_LEN) != 0)
		return err_new(ERR_CORRUPT, "hard state: bad header");
	uint32_t len = load_u32be(bytes + RAFT__HS_MAGIC_LEN);
	if ((size_t)len + RAFT__HS_MAGIC_LEN + 8 != size)
		return err_new(ERR_CORRUPT, "hard state: length %u does not match the file", len);
	const uint8_t *payload = bytes + RAFT__HS_MAGIC_LEN + 4;
	if (checksum32(payload, len) != load_u32be(payload + len))
		return err_new(ERR_CORRUPT, "hard state: checksum mismatch");
	struct codec_doc doc;
	const msgpack_object *root;
	TRY(err_wrap(codec_parse(&doc, payload, len, &root), "hard state"));
	struct codec_in in;
	codec_in_init(&in, root, 3, 4);
	out->term = codec_get_u64(&in);
	uint64_t vote = codec_get_u64(&in);
	out->commit = codec_get_u64(&in);
	uint64_t node = codec_in_remaining(&in) > 0 ? codec_get_u64(&in) : 0;
	if (vote > UINT32_MAX)
		codec_in_fail(&in, "vote out of range");
	if (node > UINT32_MAX)
		codec_in_fail(&in, "node id out of range");
	out->vote = (uint32_t)vote;
	*owner = (uint32_t)node;
	err *e = codec_in_end(&in, false);
	codec_doc_free(&doc);
	return err_wrap(e, "hard state");
}

err *raft_hard_state_load(struct vfs *vfs, const char *dir, uint32_t self,
                          struct raft_hard_state *out)
{
	assert(vfs != NULL && dir != NULL);
	memset(out, 0, sizeof *out);
	char path[VFS_PATH_MAX];
	TRY(raft__hs_path(path, dir, "hardstate"));
	struct vfs_file *f;
	err *e = vfs_open(vfs, path, 0, &f);
	if (e && err_is(e, ERR_NOT_FOUND)) {
		err_free(e);
		return NULL; /* a new node */
	}
	TRY(e);
	uint8_t bytes[RAFT__HS_MAX_BYTES + 1];
	size_t got = 0;
	e = vfs_read(f, 0, bytes, sizeof bytes, &got);
	vfs_close(f);
	TRY(err_wrap(e, "reading %s", path));
	uint32_t owner = 0;
	TRY(raft__hs_decode(bytes, got, out, &owner));
	if (owner != 0 && owner != self) {
		memset(out, 0, sizeof *out);
		return err_new(ERR_INVALID,
		               "%s was saved by node %u, and this is node %u: a data directory "
		               "belongs to one node (started as another, a node could vote twice "
		               "in one term)",
		               path, owner, self);
	}
	return NULL;
}

/* Encodes the file image of node `self`'s `hs` into `b`. */
static err *raft__hs_encode(uint32_t self, const struct raft_hard_state *hs, struct buf *b)
{
	assert(b->len == 0);
	assert(b->max_bytes >= RAFT__HS_MAX_BYTES);
	static const uint8_t no_length[4] = {0};
	TRY(buf_append(b, RAFT__HS_MAGIC, RAFT__HS_MAGIC_LEN));
	TRY(buf_append(b, no_length, sizeof no_length));
	struct codec_out o;
	codec_out_init(&o, b);
	codec_put_array(&o, 4);
	codec_put_u64(&o, hs->term);
	codec_put_u64(&o, hs->vote);
	codec_put_u64(&o, hs->commit);
	codec_put_u64(&o, self);
	TRY(codec_out_end(&o));
	size_t len = b->len - RAFT__HS_MAGIC_LEN - 4;
	store_u32be(b->data + RAFT__HS_MAGIC_LEN, (uint32_t)len);
	return buf_append_u32be(b, checksum32(b->data + RAFT__HS_MAGIC_LEN + 4, len));
}

/* Writes `bytes` as the whole content of `path`, synced. */
static err *raft__hs_write_file(struct vfs *vfs, const char *path, struct slice bytes)
{
	struct vfs_file *f;
	TRY(vfs_open(vfs, path, VFS_CREATE, &f));
	err *e = vfs_truncate(f, 0);
	if (!e)
		e = vfs_write(f, 0, bytes.ptr, bytes.len);
	if (!e)
		e = vfs_sync(f);
	vfs_close(f);
	return err_wrap(e, "writing %s", path);
}

err *raft_hard_state_save(struct vfs *vfs, const char *dir, uint32_t self,
                          const struct raft_hard_state *hs)
{
	assert(vfs != NULL && dir != NULL);
	char tmp[VFS_PATH_MAX], path[VFS_PATH_MAX];
	TRY(raft__hs_path(tmp, dir, "hardstate.tmp"));
	TRY(raft__hs_path(path, dir, "hardstate"));
	struct buf b;
	buf_init(&b, RAFT__HS_MAX_BYTES);
	err *e = raft__hs_encode(self, hs, &b);
	if (!e)
		e = raft__hs_write_file(vfs, tmp, buf_slice(&b));
	buf_free(&b);
	TRY(err_wrap(e, "saving hard state"));
	return err_wrap(vfs_rename(vfs, tmp, path), "saving hard state");
}
