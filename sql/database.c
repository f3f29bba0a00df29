/*
 * database.c — the embedded, single-node database of database.h.
 *
 * One KV engine (the B+-tree file `cairn.db` in the database directory, or the memory
 * engine), one MVCC store over it, and a host for sessions that reads at the latest
 * applied version and commits with mvcc_commit_local() — the same session code a
 * replicated node drives through Raft.
 *
 * Transaction ids must never repeat across restarts; without a clock, the id generator is
 * seeded from the store's last commit metadata (which holds the applied version), so every
 * open that follows a commit draws a different stream. Opens that committed nothing in
 * between may repeat a stream, but then no id from it was ever applied.
 */
#include <stdlib.h>
#include <string.h>

#include "base/checksum.h"
#include "base/prng.h"
#include "sql/session.h"
#include "storage/btree.h"
#include "storage/kv_memory.h"
#include "storage/vfs_posix.h"

#define DB_FILE "cairn.db"
/*
 * Garbage collection after commits, as a replica does it (core/node/node.h): every
 * DB_GC_INTERVAL versions one slice of at most DB_GC_SLICE stored versions, keeping what
 * AS OF reads of the last DB_GC_RETAIN versions see.
 */
#define DB_GC_INTERVAL 1024
#define DB_GC_RETAIN 1024
#define DB_GC_SLICE 16384

struct sql_db {
	struct vfs *vfs; /* NULL for :memory: */
	struct kv *kv;
	struct mvcc *mvcc;
	struct prng prng;
};

static err *latest(void *ctx, bool validated_write, uint64_t *version)
{
	(void)validated_write; /* the latest version serves every transaction */
	struct sql_db *db = ctx;
	*version = mvcc_applied_version(db->mvcc);
	return NULL;
}

static err *commit_local(void *ctx, struct mvcc_txn *txn, struct mvcc_outcome *out)
{
	struct sql_db *db = ctx;
	uint64_t before = mvcc_applied_version(db->mvcc);
	TRY(mvcc_commit_local(db->mvcc, txn, out));
	return mvcc_gc_periodic(db->mvcc, before, DB_GC_INTERVAL, DB_GC_RETAIN, DB_GC_SLICE);
}

static err *open_kv(struct sql_db *db, const char *path)
{
	if (!strcmp(path, ":memory:"))
		return kvmem_open(&db->kv);
	struct vfs *cwd;
	TRY(vfs_posix_new(NULL, &cwd));
	err *e = cwd->mkdir(cwd, path);
	vfs_posix_free(cwd);
	TRY(err_wrap(e, "creating database directory %s", path));
	TRY(vfs_posix_new(path, &db->vfs));
	TRY(vfs_posix_lock(db->vfs, "database directory"));
	return btree_open(db->vfs, DB_FILE, NULL, &db->kv);
}

err *sql_db_open(const char *path, struct sql_db **out)
{
	*out = NULL;
	struct sql_db *db = calloc(1, sizeof *db);
	if (!db)
		return err_new(ERR_NOMEM, "out of memory opening a database");
	struct buf meta;
	buf_init(&meta, KV_META_MAX);
	err *e = open_kv(db, path);
	if (!e)
		e = kv_meta(db->kv, &meta);
	if (!e) {
		prng_seed(&db->prng, prng_subseed(checksum32(meta.data, meta.len), "sql-db-txn-ids",
		                                  meta.len));
		struct mvcc_options opts = {.prng = &db->prng};
		e = mvcc_open(db->kv, &opts, &db->mvcc);
	}
	buf_free(&meta);
	if (e) {
		sql_db_close(db);
		return err_wrap(e, "opening database %s", path);
	}
	*out = db;
	return NULL;
}

void sql_db_close(struct sql_db *db)
{
	if (!db)
		return;
	if (db->mvcc)
		mvcc_close(db->mvcc);
	kv_close(db->kv);
	if (db->vfs)
		vfs_posix_free(db->vfs);
	free(db);
}

err *sql_session_open(struct sql_db *db, struct sql_session **out)
{
	struct sql_host host = {
	    .ctx = db,
	    .store = db->mvcc,
	    .read_version = latest,
	    .commit = commit_local,
	};
	return sql_session_new(&host, out);
}
