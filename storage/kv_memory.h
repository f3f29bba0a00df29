/*
 * kv_memory.h — the memory KV engine: storage/kv.h held entirely in RAM.
 *
 * Used by tests, the simulator's `:memory:` nodes and the embedded `:memory:` database.
 * It implements the kv.h contract exactly:
 *
 *   - kv_apply() applies a whole batch or nothing: every allocation the batch needs is made
 *     before the first change, so the only failure (ERR_NOMEM) leaves the engine untouched.
 *   - kv_commit() durably records nothing (there is no disk) but keeps the metadata, which
 *     kv_meta() returns until the engine is closed. Closing discards everything.
 *   - Iterators walk the live structure and are valid until the next apply or commit; the
 *     engine counts generations and asserts on use of a stale iterator.
 *
 * The keys live in a skip list whose node heights come from a PRNG seeded with a constant,
 * so the shape of the structure (and therefore any behaviour that could depend on it) is
 * the same on every run and every replica. Lookups, inserts and deletes are O(log n)
 * expected; a million keys is an ordinary size.
 */
#ifndef CAIRN_STORAGE_KV_MEMORY_H
#define CAIRN_STORAGE_KV_MEMORY_H

#include "base/err.h"
#include "storage/kv.h"

/* Opens an empty memory engine. Release it with kv_close(). */
err *kvmem_open(struct kv **out);

#endif
