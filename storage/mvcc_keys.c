/*
 * mvcc_keys.c — building and splitting the keys described in mvcc_keys.h.
 */
#include "storage/mvcc_keys.h"

#include <assert.h>
#include <string.h>

#include "storage/keycode.h"

static err *mvcc__key_space(struct buf *out, uint8_t space)
{
	buf_clear(out);
	return buf_append(out, &space, 1);
}

err *mvcc__key_data_prefix(struct buf *out, struct slice user_key)
{
	assert(user_key.len <= MVCC_KEY_MAX + 1);
	TRY(mvcc__key_space(out, MVCC__SPACE_DATA));
	return keycode_put_bytes(out, user_key);
}

err *mvcc__key_data(struct buf *out, struct slice user_key, uint64_t version)
{
	assert(user_key.len >= 1 && user_key.len <= MVCC_KEY_MAX);
	TRY(mvcc__key_data_prefix(out, user_key));
	TRY(keycode_put_u64(out, UINT64_MAX - version));
	assert(out->len <= KV_KEY_MAX);
	return NULL;
}

err *mvcc__key_meta(struct buf *out, const char *name)
{
	TRY(mvcc__key_space(out, MVCC__SPACE_META));
	return keycode_put_string(out, slice_of(name, strlen(name)));
}

err *mvcc__key_outcome(struct buf *out, uint64_t index)
{
	TRY(mvcc__key_space(out, MVCC__SPACE_OUTCOME));
	return keycode_put_u64(out, index);
}

err *mvcc__key_range(struct buf *out, uint64_t index, uint64_t seq)
{
	TRY(mvcc__key_space(out, MVCC__SPACE_RANGE));
	TRY(keycode_put_u64(out, index));
	return keycode_put_u64(out, seq);
}

err *mvcc__data_range(const struct slice *from, const struct slice *to, struct buf *lo,
                      struct buf *hi)
{
	if (from)
		TRY(mvcc__key_data_prefix(lo, *from));
	else
		TRY(mvcc__key_space(lo, MVCC__SPACE_DATA));
	if (to)
		TRY(mvcc__key_data_prefix(hi, *to));
	else
		TRY(mvcc__key_space(hi, MVCC__SPACE_DATA + 1));
	assert(lo->len >= 1 && hi->len >= 1);
	return NULL;
}

err *mvcc__data_key_split(struct slice kv_key, size_t *group_len, uint64_t *version)
{
	/* space byte, at least the BYTES tag and terminator, then the version */
	size_t n = kv_key.len - MVCC__VERSION_SUFFIX;
	if (kv_key.len < 1 + 3 + MVCC__VERSION_SUFFIX || kv_key.ptr[0] != MVCC__SPACE_DATA ||
	    kv_key.ptr[n] != KEYCODE_U64)
		return err_new(ERR_CORRUPT, "malformed MVCC data key of %zu bytes", kv_key.len);
	/* read in place: every version key of every scan passes here */
	*group_len = n;
	*version = UINT64_MAX - load_u64be(kv_key.ptr + n + 1);
	return NULL;
}

err *mvcc__data_group_user(struct slice group, struct buf *out)
{
	buf_clear(out);
	err *e = NULL;
	if (group.len < 1 + 3 || group.ptr[0] != MVCC__SPACE_DATA) {
		e = err_new(ERR_DECODE, "not a data key group");
	} else {
		struct slice cursor = slice_of(group.ptr + 1, group.len - 1);
		e = keycode_get_bytes(&cursor, out);
		if (!e && cursor.len != 0)
			e = err_new(ERR_DECODE, "trailing bytes");
	}
	if (e) {
		err_free(e);
		buf_clear(out);
		return err_new(ERR_CORRUPT, "malformed user key in an MVCC data key");
	}
	return NULL;
}
