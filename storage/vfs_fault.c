/*
 * vfs_fault.c — fault injection over another vfs (see vfs_fault.h).
 *
 * The overlay. Each path with unsynced changes has a state holding them as an ordered
 * list of operations (write bytes at an offset, or truncate to a size). The wrapped vfs
 * holds only synced data, so a crash is simply forgetting the lists. A read replays the
 * list over what the wrapped vfs returns, restricted to the bytes asked for; that is
 * linear in the unsynced operations, which a sync bounds. States outlive closed handles
 * (the operating system keeps unsynced pages after close() too) and follow renames.
 */
#include "storage/vfs_fault.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/prng.h"

#define FAULT_OPS_MAX ((size_t)1 << 20)
#define FAULT_STATES_MAX 4096

struct fault_op {
	bool truncate;
	uint64_t offset; /* the new size for a truncate */
	size_t len;
	uint8_t *bytes;
};

struct fault_state {
	char path[VFS_PATH_MAX]; /* "" once removed or replaced */
	unsigned handles;
	struct fault_op *ops;
	size_t nops, cap;
};

struct fault_file {
	struct vfs_file base;
	struct vfs_file *inner;
	struct fault_state *st;
};

struct fault_flip {
	char path[VFS_PATH_MAX];
	uint64_t offset;
	uint8_t mask;
};

struct vfs_fault {
	struct vfs vfs;
	struct vfs *inner;
	struct vfs_fault_options opts;
	struct prng prng;
	struct fault_state **states; /* in creation order, so crashes are deterministic */
	size_t nstates, cap;
	uint64_t counts[VFS_FAULT_OPS];
	uint64_t fail_at[VFS_FAULT_OPS]; /* the count at which the kind fails; 0 = never */
	uint64_t writes_and_syncs, cut_at;
	bool cut;
	size_t overlay_bytes;
	struct fault_flip flips[VFS_FAULT_FLIPS_MAX];
	size_t nflips;
};

static struct vfs_fault *fault__of(struct vfs *vfs)
{
	return vfs->impl;
}

/* Counts a call of kind `op` and decides whether it fails. */
static err *fault__check(struct vfs_fault *fv, enum vfs_fault_op op)
{
	assert(op < VFS_FAULT_OPS);
	fv->counts[op]++;
	if (fv->cut)
		return err_new(ERR_IO, "injected: the disk lost power");
	if (op == VFS_FAULT_WRITE || op == VFS_FAULT_SYNC) {
		fv->writes_and_syncs++;
		if (fv->cut_at != 0 && fv->writes_and_syncs == fv->cut_at) {
			fv->cut = true;
			return err_new(ERR_IO, "injected: power cut at write-or-sync %llu",
			               (unsigned long long)fv->cut_at);
		}
	}
	if (fv->fail_at[op] != 0 && fv->counts[op] == fv->fail_at[op]) {
		fv->fail_at[op] = 0;
		return err_new(ERR_IO, "injected: I/O error on call %llu of kind %d",
		               (unsigned long long)fv->counts[op], (int)op);
	}
	double p = fv->opts.error_probability[op];
	if (p > 0 && prng_chance(&fv->prng, p))
		return err_new(ERR_IO, "injected: random I/O error (kind %d)", (int)op);
	return NULL;
}

/* ---- states ---- */

static struct fault_state *fault__find(struct vfs_fault *fv, const char *path)
{
	for (size_t i = 0; i < fv->nstates; i++)
		if (fv->states[i]->path[0] && strcmp(fv->states[i]->path, path) == 0)
			return fv->states[i];
	return NULL;
}

static void fault__drop_ops(struct vfs_fault *fv, struct fault_state *st)
{
	for (size_t i = 0; i < st->nops; i++) {
		assert(fv->overlay_bytes >= st->ops[i].len);
		fv->overlay_bytes -= st->ops[i].len;
		free(st->ops[i].bytes);
	}
	st->nops = 0;
}

/* Frees states that hold nothing and have no handles. */
static void fault__gc(struct vfs_fault *fv)
{
	size_t out = 0;
	for (size_t i = 0; i < fv->nstates; i++) {
		struct fault_state *st = fv->states[i];
		if (st->handles == 0 && (st->nops == 0 || st->path[0] == '\0')) {
			fault__drop_ops(fv, st);
			free(st->ops);
			free(st);
			continue;
		}
		fv->states[out++] = st;
	}
	fv->nstates = out;
}

static err *fault__push_op(struct vfs_fault *fv, struct fault_state *st, struct fault_op op)
{
	if (st->nops >= FAULT_OPS_MAX || op.len > VFS_FAULT_OVERLAY_MAX - fv->overlay_bytes)
		return err_new(ERR_LIMIT, "fault vfs: too many unsynced bytes; sync first");
	if (st->nops == st->cap) {
		size_t ncap = st->cap ? st->cap * 2 : 16;
		struct fault_op *ops = realloc(st->ops, ncap * sizeof *ops);
		if (!ops)
			return err_new(ERR_NOMEM, "fault vfs: out of memory");
		st->ops = ops;
		st->cap = ncap;
	}
	st->ops[st->nops++] = op;
	fv->overlay_bytes += op.len;
	return NULL;
}

/* The size of the file once its unsynced operations apply on top of `size`. */
static uint64_t fault__size_after(const struct fault_state *st, uint64_t size)
{
	for (size_t i = 0; i < st->nops; i++) {
		const struct fault_op *op = &st->ops[i];
		if (op->truncate)
			size = op->offset;
		else if (op->offset + op->len > size)
			size = op->offset + op->len;
	}
	return size;
}

/* ---- files ---- */

static err *fault__open(struct vfs *vfs, const char *path, unsigned flags, struct vfs_file **out)
{
	struct vfs_fault *fv = fault__of(vfs);
	TRY(fault__check(fv, VFS_FAULT_OPEN));
	if (strlen(path) >= VFS_PATH_MAX)
		return err_new(ERR_LIMIT, "path too long: %s", path);
	struct fault_file *f = calloc(1, sizeof *f);
	if (!f)
		return err_new(ERR_NOMEM, "fault vfs: out of memory");
	struct fault_state *st = fault__find(fv, path);
	if (!st) {
		if (fv->nstates == FAULT_STATES_MAX) {
			free(f);
			return err_new(ERR_LIMIT, "fault vfs: too many files");
		}
		if (fv->nstates == fv->cap) {
			size_t ncap = fv->cap ? fv->cap * 2 : 8;
			struct fault_state **s = realloc(fv->states, ncap * sizeof *s);
			if (!s) {
				free(f);
				return err_new(ERR_NOMEM, "fault vfs: out of memory");
			}
			fv->states = s;
			fv->cap = ncap;
		}
		st = calloc(1, sizeof *st);
		if (!st) {
			free(f);
			return err_new(ERR_NOMEM, "fault vfs: out of memory");
		}
		strcpy(st->path, path);
		fv->states[fv->nstates++] = st;
	}
	err *e = vfs_open(fv->inner, path, flags, &f->inner);
	if (e) {
		free(f);
		fault__gc(fv);
		return e;
	}
	st->handles++;
	f->st = st;
	f->base.vfs = vfs;
	*out = &f->base;
	return NULL;
}

static void fault__apply_flips(struct vfs_fault *fv, const struct fault_state *st, uint64_t offset,
                               uint8_t *bytes, size_t got)
{
	for (size_t i = 0; i < fv->nflips; i++) {
		const struct fault_flip *fl = &fv->flips[i];
		if (fl->offset >= offset && fl->offset < offset + got &&
		    strcmp(fl->path, st->path) == 0)
			bytes[fl->offset - offset] ^= fl->mask;
	}
	if (got > 0 && fv->opts.read_flip_probability > 0 &&
	    prng_chance(&fv->prng, fv->opts.read_flip_probability)) {
		uint64_t bit = prng_below(&fv->prng, (uint64_t)got * 8);
		bytes[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}

static err *fault__read(struct vfs_file *file, uint64_t offset, void *bytes, size_t len,
                        size_t *got)
{
	struct fault_file *f = (struct fault_file *)file;
	struct vfs_fault *fv = fault__of(file->vfs);
	TRY(fault__check(fv, VFS_FAULT_READ));
	uint8_t *out = bytes;
	size_t inner_got = 0;
	uint64_t size = 0;
	TRY(vfs_read(f->inner, offset, out, len, &inner_got));
	if (f->st->nops > 0)
		TRY(vfs_size(f->inner, &size));
	memset(out + inner_got, 0, len - inner_got);
	uint64_t end = offset + len;
	if (f->st->nops == 0)
		size = offset + inner_got;
	/* replay the unsynced operations over the requested range */
	for (size_t i = 0; i < f->st->nops; i++) {
		const struct fault_op *op = &f->st->ops[i];
		if (op->truncate) {
			if (op->offset < size && op->offset < end) {
				uint64_t lo = op->offset > offset ? op->offset : offset;
				memset(out + (lo - offset), 0, (size_t)(end - lo));
			}
			size = op->offset;
			continue;
		}
		uint64_t lo = op->offset > offset ? op->offset : offset;
		uint64_t hi = op->offset + op->len < end ? op->offset + op->len : end;
		if (lo < hi)
			memcpy(out + (lo - offset), op->bytes + (lo - op->offset),
			       (size_t)(hi - lo));
		if (op->offset + op->len > size)
			size = op->offset + op->len;
	}
	*got = size <= offset ? 0 : (size_t)(size - offset < len ? size - offset : len);
	assert(*got <= len);
	fault__apply_flips(fv, f->st, offset, out, *got);
	return NULL;
}

static err *fault__write(struct vfs_file *file, uint64_t offset, const void *bytes, size_t len)
{
	struct fault_file *f = (struct fault_file *)file;
	struct vfs_fault *fv = fault__of(file->vfs);
	TRY(fault__check(fv, VFS_FAULT_WRITE));
	if (len == 0)
		return NULL;
	uint8_t *copy = malloc(len);
	if (!copy)
		return err_new(ERR_NOMEM, "fault vfs: out of memory");
	memcpy(copy, bytes, len);
	err *e = fault__push_op(fv, f->st, (struct fault_op){false, offset, len, copy});
	if (e)
		free(copy);
	return e;
}

static err *fault__truncate(struct vfs_file *file, uint64_t size)
{
	struct fault_file *f = (struct fault_file *)file;
	struct vfs_fault *fv = fault__of(file->vfs);
	TRY(fault__check(fv, VFS_FAULT_TRUNCATE));
	return fault__push_op(fv, f->st, (struct fault_op){true, size, 0, NULL});
}

static err *fault__sync(struct vfs_file *file)
{
	struct fault_file *f = (struct fault_file *)file;
	struct vfs_fault *fv = fault__of(file->vfs);
	TRY(fault__check(fv, VFS_FAULT_SYNC));
	for (size_t i = 0; i < f->st->nops; i++) {
		const struct fault_op *op = &f->st->ops[i];
		if (op->truncate)
			TRY(vfs_truncate(f->inner, op->offset));
		else
			TRY(vfs_write(f->inner, op->offset, op->bytes, op->len));
	}
	TRY(vfs_sync(f->inner));
	fault__drop_ops(fv, f->st);
	return NULL;
}

static err *fault__size(struct vfs_file *file, uint64_t *size)
{
	struct fault_file *f = (struct fault_file *)file;
	struct vfs_fault *fv = fault__of(file->vfs);
	TRY(fault__check(fv, VFS_FAULT_SIZE));
	TRY(vfs_size(f->inner, size));
	*size = fault__size_after(f->st, *size);
	return NULL;
}

static void fault__close(struct vfs_file *file)
{
	struct fault_file *f = (struct fault_file *)file;
	struct vfs_fault *fv = fault__of(file->vfs);
	assert(f->st->handles > 0);
	f->st->handles--;
	vfs_close(f->inner);
	free(f);
	fault__gc(fv);
}

/* ---- namespace: straight through ---- */

static err *fault__rename(struct vfs *vfs, const char *from, const char *to)
{
	struct vfs_fault *fv = fault__of(vfs);
	TRY(fault__check(fv, VFS_FAULT_RENAME));
	if (strlen(to) >= VFS_PATH_MAX)
		return err_new(ERR_LIMIT, "path too long: %s", to);
	TRY(vfs_rename(fv->inner, from, to));
	struct fault_state *replaced = fault__find(fv, to), *moved = fault__find(fv, from);
	if (replaced)
		replaced->path[0] = '\0';
	if (moved)
		strcpy(moved->path, to);
	fault__gc(fv);
	return NULL;
}

static err *fault__remove(struct vfs *vfs, const char *path)
{
	struct vfs_fault *fv = fault__of(vfs);
	TRY(fault__check(fv, VFS_FAULT_REMOVE));
	TRY(vfs_remove(fv->inner, path));
	struct fault_state *st = fault__find(fv, path);
	if (st)
		st->path[0] = '\0';
	fault__gc(fv);
	return NULL;
}

static err *fault__mkdir(struct vfs *vfs, const char *path)
{
	struct vfs_fault *fv = fault__of(vfs);
	TRY(fault__check(fv, VFS_FAULT_MKDIR));
	return vfs_mkdir(fv->inner, path);
}

static err *fault__list(struct vfs *vfs, const char *dir, struct vfs_names *out)
{
	struct vfs_fault *fv = fault__of(vfs);
	TRY(fault__check(fv, VFS_FAULT_LIST));
	return vfs_list(fv->inner, dir, out);
}

/* ---- public ---- */

err *vfs_fault_new(struct vfs *inner, const struct vfs_fault_options *opts, struct vfs **out)
{
	assert(inner != NULL && out != NULL);
	struct vfs_fault *fv = calloc(1, sizeof *fv);
	if (!fv)
		return err_new(ERR_NOMEM, "fault vfs: out of memory");
	fv->inner = inner;
	if (opts)
		fv->opts = *opts;
	prng_seed(&fv->prng, fv->opts.seed);
	fv->vfs = (struct vfs){
	    .impl = fv,
	    .open = fault__open,
	    .read = fault__read,
	    .write = fault__write,
	    .sync = fault__sync,
	    .truncate = fault__truncate,
	    .size = fault__size,
	    .close = fault__close,
	    .rename = fault__rename,
	    .remove = fault__remove,
	    .mkdir = fault__mkdir,
	    .list = fault__list,
	};
	*out = &fv->vfs;
	return NULL;
}

void vfs_fault_free(struct vfs *vfs)
{
	if (!vfs)
		return;
	struct vfs_fault *fv = fault__of(vfs);
	assert(vfs->open == fault__open);
	for (size_t i = 0; i < fv->nstates; i++) {
		assert(fv->states[i]->handles == 0);
		fault__drop_ops(fv, fv->states[i]);
		free(fv->states[i]->ops);
		free(fv->states[i]);
	}
	assert(fv->overlay_bytes == 0);
	free(fv->states);
	free(fv);
}

void vfs_fault_fail_nth(struct vfs *vfs, enum vfs_fault_op op, uint64_t n)
{
	struct vfs_fault *fv = fault__of(vfs);
	assert(op < VFS_FAULT_OPS);
	fv->fail_at[op] = n ? fv->counts[op] + n : 0;
}

void vfs_fault_cut_after(struct vfs *vfs, uint64_t n)
{
	struct vfs_fault *fv = fault__of(vfs);
	fv->cut_at = n ? fv->writes_and_syncs + n : 0;
}

bool vfs_fault_is_cut(const struct vfs *vfs)
{
	const struct vfs_fault *fv = vfs->impl;
	return fv->cut;
}

/*
 * Writes a random subset of a file's unsynced operations through to the wrapped vfs, in
 * their order: each is kept, lost, or (a write) kept torn at a random byte.
 */
static err *fault__keep_random(struct vfs_fault *fv, const struct fault_state *st)
{
	struct vfs_file *h = NULL;
	err *e = NULL;
	for (size_t i = 0; !e && i < st->nops; i++) {
		const struct fault_op *op = &st->ops[i];
		uint64_t fate = prng_below(&fv->prng, 3); /* 0 lost, 1 kept, 2 torn */
		if (fate == 0 || (op->truncate && fate == 2))
			continue;
		if (!h)
			e = vfs_open(fv->inner, st->path, 0, &h);
		if (!e && op->truncate)
			e = vfs_truncate(h, op->offset);
		else if (!e)
			e = vfs_write(h, op->offset, op->bytes,
			              fate == 1
			                  ? op->len
			                  : (size_t)prng_below(&fv->prng, (uint64_t)op->len + 1));
	}
	if (!e && h)
		e = vfs_sync(h);
	vfs_close(h);
	return e;
}

err *vfs_fault_crash(struct vfs *vfs, enum vfs_fault_tear tear, size_t tear_bytes)
{
	struct vfs_fault *fv = fault__of(vfs);
	err *e = NULL;
	for (size_t i = 0; i < fv->nstates; i++) {
		struct fault_state *st = fv->states[i];
		if (tear == VFS_FAULT_KEEP_RANDOM) {
			if (!e && st->path[0] != '\0')
				e = fault__keep_random(fv, st);
			fault__drop_ops(fv, st);
			continue;
		}
		const struct fault_op *last = st->nops ? &st->ops[st->nops - 1] : NULL;
		if (!e && tear != VFS_FAULT_TEAR_NONE && last && !last->truncate &&
		    st->path[0] != '\0') {
			size_t keep = tear == VFS_FAULT_TEAR_RANDOM
			                  ? (size_t)prng_below(&fv->prng, (uint64_t)last->len + 1)
			                  : (tear_bytes < last->len ? tear_bytes : last->len);
			struct vfs_file *h = NULL;
			if (keep > 0)
				e = vfs_open(fv->inner, st->path, 0, &h);
			if (!e && h)
				e = vfs_write(h, last->offset, last->bytes, keep);
			if (!e && h)
				e = vfs_sync(h);
			vfs_close(h);
		}
		fault__drop_ops(fv, st);
	}
	fv->cut = false;
	fv->cut_at = 0;
	fault__gc(fv);
	assert(fv->overlay_bytes == 0);
	return e ? err_wrap(e, "fault vfs: writing a torn write") : NULL;
}

err *vfs_fault_flip(struct vfs *vfs, const char *path, uint64_t offset, uint8_t mask)
{
	struct vfs_fault *fv = fault__of(vfs);
	if (fv->nflips == VFS_FAULT_FLIPS_MAX)
		return err_new(ERR_LIMIT, "fault vfs: more than %d flip rules",
		               VFS_FAULT_FLIPS_MAX);
	if (strlen(path) >= VFS_PATH_MAX)
		return err_new(ERR_LIMIT, "path too long: %s", path);
	struct fault_flip *fl = &fv->flips[fv->nflips++];
	strcpy(fl->path, path);
	fl->offset = offset;
	fl->mask = mask;
	return NULL;
}

void vfs_fault_clear_flips(struct vfs *vfs)
{
	fault__of(vfs)->nflips = 0;
}

uint64_t vfs_fault_count(const struct vfs *vfs, enum vfs_fault_op op)
{
	const struct vfs_fault *fv = vfs->impl;
	assert(op < VFS_FAULT_OPS);
	return fv->counts[op];
}
