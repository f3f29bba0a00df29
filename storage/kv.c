#include "storage/kv.h"

#include <assert.h>
#include <string.h>

/* Encoded operation: op (1 byte), key length (u32 BE), key, [value length (u32 BE), value]. */

void kv_batch_init(struct kv_batch *b)
{
	buf_init(&b->ops, KV_BATCH_MAX_BYTES);
	b->count = 0;
}

void kv_batch_free(struct kv_batch *b)
{
	buf_free(&b->ops);
	b->count = 0;
}

void kv_batch_clear(struct kv_batch *b)
{
	buf_clear(&b->ops);
	b->count = 0;
}

err *kv_check_key(struct slice key)
{
	if (key.len == 0)
		return err_new(ERR_INVALID, "empty key");
	if (key.len > KV_KEY_MAX)
		return err_new(ERR_LIMIT, "key of %zu bytes exceeds the limit of %d bytes", key.len,
		               KV_KEY_MAX);
	return NULL;
}

err *kv_check_value(struct slice value)
{
	if (value.len > KV_VALUE_MAX)
		return err_new(ERR_LIMIT, "value of %zu bytes exceeds the limit of %d bytes",
		               value.len, KV_VALUE_MAX);
	return NULL;
}

static err *kv__batch_add(struct kv_batch *b, enum kv_op op, struct slice key,
                          const struct slice *value)
{
	TRY(kv_check_key(key));
	if (value)
		TRY(kv_check_value(*value));
	size_t need = 1 + 4 + key.len + (value ? 4 + value->len : 0);
	TRY(buf_reserve(&b->ops, need));
	uint8_t opcode = (uint8_t)op;
	/* cannot fail after the reserve */
	buf_append(&b->ops, &opcode, 1);
	buf_append_u32be(&b->ops, (uint32_t)key.len);
	buf_append(&b->ops, key.ptr, key.len);
	if (value) {
		buf_append_u32be(&b->ops, (uint32_t)value->len);
		buf_append(&b->ops, value->ptr, value->len);
	}
	b->count++;
	return NULL;
}

err *kv_batch_put(struct kv_batch *b, struct slice key, struct slice value)
{
	return kv__batch_add(b, KV_PUT, key, &value);
}

err *kv_batch_delete(struct kv_batch *b, struct slice key)
{
	return kv__batch_add(b, KV_DELETE, key, NULL);
}

void kv_batch_cursor_init(struct kv_batch_cursor *c, const struct kv_batch *b)
{
	c->batch = b;
	c->offset = 0;
}

bool kv_batch_next(struct kv_batch_cursor *c, enum kv_op *op, struct slice *key,
                   struct slice *value)
{
	const struct buf *ops = &c->batch->ops;
	if (c->offset >= ops->len)
		return false;
	const uint8_t *p = ops->data + c->offset;
	*op = (enum kv_op)p[0];
	assert(*op == KV_PUT || *op == KV_DELETE);
	uint32_t klen = load_u32be(p + 1);
	*key = slice_of(p + 5, klen);
	p += 5 + klen;
	if (*op == KV_PUT) {
		uint32_t vlen = load_u32be(p);
		*value = slice_of(p + 4, vlen);
		p += 4 + vlen;
	} else {
		*value = slice_of(NULL, 0);
	}
	c->offset = (size_t)(p - ops->data);
	assert(c->offset <= ops->len);
	return true;
}

err *kv_put(struct kv *kv, struct slice key, struct slice value)
{
	struct kv_batch b;
	kv_batch_init(&b);
	err *e = kv_batch_put(&b, key, value);
	if (!e)
		e = kv_apply(kv, &b);
	kv_batch_free(&b);
	return e;
}

err *kv_delete(struct kv *kv, struct slice key)
{
	struct kv_batch b;
	kv_batch_init(&b);
	err *e = kv_batch_delete(&b, key);
	if (!e)
		e = kv_apply(kv, &b);
	kv_batch_free(&b);
	return e;
}
