/*
 * vfs_memory.c — files in memory with a durable and a current image (see vfs_memory.h).
 *
 * A file is an inode with two byte arrays. Writes and truncates change the current image
 * and record the changed byte ranges in a small sorted list of dirty ranges; sync() copies
 * just those ranges into the durable image, and a crash copies them back the other way.
 * So a sync costs what was written since the last one, not the size of the file. When the
 * dirty list is full its two closest ranges are merged: copying bytes that did not change
 * is harmless, because outside the dirty ranges both images are equal.
 *
 * The namespace is a sorted array of entries (path -> inode, or a directory), searched by
 * binary search and listed in order. Inodes are reference counted: the directory entry
 * holds one reference and every open handle another, so a removed file lives on until
 * its last handle closes, as on POSIX.
 */
#include "storage/vfs_memory.h"

#include "base/buf.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Dirty ranges per file before neighbours are merged. */
#define VMEM_DIRTY_MAX 64
/* Files and directories on one disk. */
#define VMEM_ENTRIES_MAX (4 * VFS_LIST_MAX)

struct vmem_range {
	uint64_t lo, hi; /* [lo, hi) */
};

struct vmem_inode {
	uint8_t *cur;
	size_t cur_size, cur_cap;
	uint8_t *dur;
	size_t dur_size, dur_cap;
	struct vmem_range dirty[VMEM_DIRTY_MAX];
	size_t ndirty;
	bool has_last; /* the last write since the last sync, for torn writes */
	uint64_t last_offset;
	size_t last_len;
	unsigned refs; /* the directory entry (if linked) plus open handles */
};

struct vmem_entry {
	char *path;
	struct vmem_inode *inode; /* NULL for a directory */
};

struct vfs_memory {
	struct vfs vfs;
	struct vmem_entry *entries; /* sorted by strcmp(path) */
	size_t count, cap;
	size_t bytes, max_bytes;
	size_t open_files;
};

struct vmem_file {
	struct vfs_file base;
	struct vmem_inode *inode;
};

/* ---- paths ---- */

/*
 * Writes the canonical form of `path` into out: components joined by single '/', no
 * leading or trailing '/', "." components dropped; the root is "". Refuses "..".
 */
static err *vmem__canon(const char *path, char out[VFS_PATH_MAX])
{
	assert(path != NULL);
	size_t o = 0;
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		const char *start = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - start);
		if (n == 0 || (n == 1 && start[0] == '.'))
			continue;
		if (n == 2 && start[0] == '.' && start[1] == '.')
			return err_new(ERR_INVALID, "path %s: '..' is not allowed", path);
		if (o + n + 2 > VFS_PATH_MAX)
			return err_new(ERR_LIMIT, "path longer than %d bytes: %s", VFS_PATH_MAX - 1,
			               path);
		if (o > 0)
			out[o++] = '/';
		memcpy(out + o, start, n);
		o += n;
	}
	out[o] = '\0';
	assert(o < VFS_PATH_MAX);
	return NULL;
}

/* Length of the parent directory's part of a canonical path ("" for top-level names). */
static size_t vmem__parent_len(const char *canon)
{
	const char *slash = strrchr(canon, '/');
	return slash ? (size_t)(slash - canon) : 0;
}

/* Index of `canon` in the namespace, or where it would be inserted (with *found false). */
static size_t vmem__find(const struct vfs_memory *m, const char *canon, bool *found)
{
	size_t lo = 0, hi = m->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(m->entries[mid].path, canon);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* ERR_NOT_FOUND unless the parent directory of `canon` exists. */
static err *vmem__check_parent(const struct vfs_memory *m, const char *canon)
{
	size_t plen = vmem__parent_len(canon);
	if (plen == 0)
		return NULL; /* the root always exists */
	char parent[VFS_PATH_MAX];
	memcpy(parent, canon, plen);
	parent[plen] = '\0';
	bool found;
	size_t i = vmem__find(m, parent, &found);
	if (!found)
		return err_new(ERR_NOT_FOUND, "%s: directory %s does not exist", canon, parent);
	if (m->entries[i].inode)
		return err_new(ERR_INVALID, "%s: %s is a file", canon, parent);
	return NULL;
}

/* Inserts an entry at index i (from vmem__find); takes ownership of nothing on error. */
static err *vmem__insert(struct vfs_memory *m, size_t i, const char *canon,
                         struct vmem_inode *inode)
{
	assert(i <= m->count);
	if (m->count == VMEM_ENTRIES_MAX)
		return err_new(ERR_LIMIT, "memory vfs: more than %d files", VMEM_ENTRIES_MAX);
	if (m->count == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 16;
		struct vmem_entry *e = realloc(m->entries, ncap * sizeof *e);
		if (!e)
			return err_new(ERR_NOMEM, "memory vfs: out of memory");
		m->entries = e;
		m->cap = ncap;
	}
	char *copy = strdup(canon);
	if (!copy)
		return err_new(ERR_NOMEM, "memory vfs: out of memory");
	memmove(m->entries + i + 1, m->entries + i, (m->count - i) * sizeof *m->entries);
	m->entries[i] = (struct vmem_entry){.path = copy, .inode = inode};
	m->count++;
	return NULL;
}

/* Removes entry i from the namespace, keeping the inode (the caller handles its refs). */
static void vmem__erase(struct vfs_memory *m, size_t i)
{
	assert(i < m->count);
	free(m->entries[i].path);
	memmove(m->entries + i, m->entries + i + 1, (m->count - i - 1) * sizeof *m->entries);
	m->count--;
}

/* ---- inodes ---- */

static void vmem__unref(struct vfs_memory *m, struct vmem_inode *ino)
{
	assert(ino->refs > 0);
	if (--ino->refs > 0)
		return;
	assert(m->bytes >= ino->cur_size + ino->dur_size);
	m->bytes -= ino->cur_size + ino->dur_size;
	free(ino->cur);
	free(ino->dur);
	free(ino);
}

/* Grows an image's allocation to hold `size` bytes. */
static err *vmem__reserve(uint8_t **data, size_t *cap, uint64_t size)
{
	if (size <= *cap)
		return NULL;
	if (size > BUF_ABSOLUTE_MAX)
		return err_new(ERR_IO, "memory vfs: file larger than %zu bytes", BUF_ABSOLUTE_MAX);
	size_t ncap = *cap ? *cap : 4096;
	while (ncap < size)
		ncap = ncap > BUF_ABSOLUTE_MAX / 2 ? BUF_ABSOLUTE_MAX : ncap * 2;
	uint8_t *p = realloc(*data, ncap);
	if (!p)
		return err_new(ERR_NOMEM, "memory vfs: out of memory");
	*data = p;
	*cap = ncap;
	return NULL;
}

/* Records [lo, hi) as changed since the last sync, keeping the list sorted and bounded. */
static void vmem__dirty_add(struct vmem_inode *ino, uint64_t lo, uint64_t hi)
{
	if (lo >= hi)
		return;
	size_t n = ino->ndirty;
	/* fast path: at or after the last range (appends, ascending page writes) */
	if (n > 0 && lo >= ino->dirty[n - 1].lo) {
		struct vmem_range *last = &ino->dirty[n - 1];
		if (lo <= last->hi) {
			last->hi = hi > last->hi ? hi : last->hi;
			return;
		}
		if (n < VMEM_DIRTY_MAX) {
			ino->dirty[ino->ndirty++] = (struct vmem_range){lo, hi};
			return;
		}
	}
	/* merge every range that overlaps or touches [lo, hi) into it */
	size_t i = 0, out = 0;
	struct vmem_range merged = {lo, hi};
	struct vmem_range keep[VMEM_DIRTY_MAX + 1];
	for (; i < n; i++) {
		struct vmem_range r = ino->dirty[i];
		if (r.hi < merged.lo || r.lo > merged.hi) {
			keep[out++] = r;
			continue;
		}
		merged.lo = r.lo < merged.lo ? r.lo : merged.lo;
		merged.hi = r.hi > merged.hi ? r.hi : merged.hi;
	}
	/* insert the merged range in order */
	size_t pos = 0;
	while (pos < out && keep[pos].lo < merged.lo)
		pos++;
	memmove(keep + pos + 1, keep + pos, (out - pos) * sizeof *keep);
	keep[pos] = merged;
	out++;
	if (out > VMEM_DIRTY_MAX) {
		/* merge the neighbours with the smallest gap */
		size_t best = 0;
		for (size_t j = 1; j + 1 < out; j++)
			if (keep[j + 1].lo - keep[j].hi < keep[best + 1].lo - keep[best].hi)
				best = j;
		keep[best].hi = keep[best + 1].hi;
		memmove(keep + best + 1, keep + best + 2, (out - best - 2) * sizeof *keep);
		out--;
	}
	assert(out <= VMEM_DIRTY_MAX);
	memcpy(ino->dirty, keep, out * sizeof *keep);
	ino->ndirty = out;
}

/*
 * Sets the current size, zero-filling growth below `filled` (the caller overwrites the
 * growth from there on at once); ERR_IO when the disk's cap would be passed.
 */
static err *vmem__resize_filled(struct vfs_memory *m, struct vmem_inode *ino, uint64_t size,
                                uint64_t filled)
{
	if (size > ino->cur_size) {
		uint64_t grow = size - ino->cur_size;
		if (grow > m->max_bytes - m->bytes)
			return err_new(ERR_IO, "memory vfs: no space (cap %zu bytes)",
			               m->max_bytes);
		TRY(vmem__reserve(&ino->cur, &ino->cur_cap, size));
		if (filled > ino->cur_size)
			memset(ino->cur + ino->cur_size, 0, (size_t)(filled - ino->cur_size));
		vmem__dirty_add(ino, ino->cur_size, size);
		m->bytes += (size_t)grow;
	} else if (size < ino->cur_size) {
		vmem__dirty_add(ino, size, ino->cur_size);
		m->bytes -= ino->cur_size - (size_t)size;
	}
	ino->cur_size = (size_t)size;
	return NULL;
}

/* Sets the current size, zero-filling growth; ERR_IO when the disk's cap would be passed. */
static err *vmem__resize(struct vfs_memory *m, struct vmem_inode *ino, uint64_t size)
{
	return vmem__resize_filled(m, ino, size, size);
}

/* Makes the current image durable by copying the dirty ranges. */
static err *vmem__sync_inode(struct vfs_memory *m, struct vmem_inode *ino)
{
	if (ino->cur_size > ino->dur_size &&
	    ino->cur_size - ino->dur_size > m->max_bytes - m->bytes)
		return err_new(ERR_IO, "memory vfs: no space (cap %zu bytes)", m->max_bytes);
	TRY(vmem__reserve(&ino->dur, &ino->dur_cap, ino->cur_size));
	for (size_t i = 0; i < ino->ndirty; i++) {
		uint64_t lo = ino->dirty[i].lo, hi = ino->dirty[i].hi;
		if (hi > ino->cur_size)
			hi = ino->cur_size;
		if (lo < hi)
			memcpy(ino->dur + lo, ino->cur + lo, (size_t)(hi - lo));
	}
	m->bytes = m->bytes - ino->dur_size + ino->cur_size;
	ino->dur_size = ino->cur_size;
	ino->ndirty = 0;
	ino->has_last = false;
	assert(ino->dur_cap >= ino->dur_size);
	return NULL;
}

/* Reverts one file to its durable image, keeping a prefix of its last write if asked. */
static void vmem__crash_inode(struct vfs_memory *m, struct vmem_inode *ino, struct prng *prng)
{
	uint8_t *torn = NULL;
	size_t torn_len = 0;
	uint64_t torn_off = 0;
	if (prng && ino->has_last && ino->last_len > 0) {
		torn_len = (size_t)prng_below(prng, (uint64_t)ino->last_len + 1);
		torn_off = ino->last_offset;
		assert(torn_off + torn_len <= ino->cur_size);
		torn = torn_len ? malloc(torn_len) : NULL;
		if (torn)
			memcpy(torn, ino->cur + torn_off, torn_len);
		else
			torn_len = 0; /* out of memory: the write is lost wholly, also allowed */
	}
	/* the current allocation has held every size the durable one has */
	assert(ino->cur_cap >= ino->dur_size);
	for (size_t i = 0; i < ino->ndirty; i++) {
		uint64_t lo = ino->dirty[i].lo, hi = ino->dirty[i].hi;
		if (hi > ino->dur_size)
			hi = ino->dur_size;
		if (lo < hi)
			memcpy(ino->cur + lo, ino->dur + lo, (size_t)(hi - lo));
	}
	m->bytes = m->bytes - ino->cur_size + ino->dur_size;
	ino->cur_size = ino->dur_size;
	ino->ndirty = 0;
	ino->has_last = false;
	if (torn) {
		/* the torn prefix is what the platter kept; a failure keeps less, still allowed */
		err *e = vmem__resize(m, ino,
		                      torn_off + torn_len > ino->cur_size ? torn_off + torn_len
		                                                          : ino->cur_size);
		if (!e) {
			memcpy(ino->cur + torn_off, torn, torn_len);
			vmem__dirty_add(ino, torn_off, torn_off + torn_len);
			e = vmem__sync_inode(m, ino);
		}
		if (e) {
			err_free(e);
			vmem__crash_inode(m, ino, NULL);
		}
		free(torn);
	}
}

/* ---- the vfs table ---- */

static err *vmem__open(struct vfs *vfs, const char *path, unsigned flags, struct vfs_file **out)
{
	struct vfs_memory *m = vfs->impl;
	assert(out != NULL);
	char canon[VFS_PATH_MAX];
	TRY(vmem__canon(path, canon));
	if (canon[0] == '\0')
		return err_new(ERR_INVALID, "open %s: is a directory", path);
	bool found;
	size_t i = vmem__find(m, canon, &found);
	struct vmem_inode *ino;
	if (found) {
		ino = m->entries[i].inode;
		if (!ino)
			return err_new(ERR_INVALID, "open %s: is a directory", canon);
	} else {
		if (!(flags & VFS_CREATE))
			return err_new(ERR_NOT_FOUND, "open %s: no such file", canon);
		TRY(vmem__check_parent(m, canon));
		ino = calloc(1, sizeof *ino);
		if (!ino)
			return err_new(ERR_NOMEM, "open %s: out of memory", canon);
		err *e = vmem__insert(m, i, canon, ino);
		if (e) {
			free(ino);
			return e;
		}
		ino->refs = 1; /* the directory entry */
	}
	struct vmem_file *f = calloc(1, sizeof *f);
	if (!f)
		return err_new(ERR_NOMEM, "open %s: out of memory", canon);
	f->base.vfs = vfs;
	f->inode = ino;
	ino->refs++;
	m->open_files++;
	*out = &f->base;
	return NULL;
}

static err *vmem__read(struct vfs_file *file, uint64_t offset, void *bytes, size_t len, size_t *got)
{
	struct vmem_inode *ino = ((struct vmem_file *)file)->inode;
	assert(ino->refs > 0 && got != NULL);
	size_t n = 0;
	if (offset < ino->cur_size) {
		n = ino->cur_size - (size_t)offset;
		n = n < len ? n : len;
		memcpy(bytes, ino->cur + offset, n);
	}
	*got = n;
	return NULL;
}

static err *vmem__write(struct vfs_file *file, uint64_t offset, const void *bytes, size_t len)
{
	struct vfs_memory *m = file->vfs->impl;
	struct vmem_inode *ino = ((struct vmem_file *)file)->inode;
	assert(ino->refs > 0);
	if (len == 0)
		return NULL;
	if (offset > BUF_ABSOLUTE_MAX || len > BUF_ABSOLUTE_MAX - offset)
		return err_new(ERR_IO, "memory vfs: write past %zu bytes", BUF_ABSOLUTE_MAX);
	/* growth from offset on is written just below: only a gap before it needs zeroes */
	if (offset + len > ino->cur_size)
		TRY(vmem__resize_filled(m, ino, offset + len, offset));
	memcpy(ino->cur + offset, bytes, len);
	vmem__dirty_add(ino, offset, offset + len);
	ino->has_last = true;
	ino->last_offset = offset;
	ino->last_len = len;
	return NULL;
}

static err *vmem__sync(struct vfs_file *file)
{
	struct vfs_memory *m = file->vfs->impl;
	return vmem__sync_inode(m, ((struct vmem_file *)file)->inode);
}

static err *vmem__truncate(struct vfs_file *file, uint64_t size)
{
	struct vfs_memory *m = file->vfs->impl;
	struct vmem_inode *ino = ((struct vmem_file *)file)->inode;
	if (size > BUF_ABSOLUTE_MAX)
		return err_new(ERR_IO, "memory vfs: file larger than %zu bytes", BUF_ABSOLUTE_MAX);
	TRY(vmem__resize(m, ino, size));
	ino->has_last = false; /* a torn write would now be ambiguous; it is simply lost */
	return NULL;
}

static err *vmem__size(struct vfs_file *file, uint64_t *size)
{
	*size = ((struct vmem_file *)file)->inode->cur_size;
	return NULL;
}

static void vmem__close(struct vfs_file *file)
{
	struct vfs_memory *m = file->vfs->impl;
	struct vmem_file *f = (struct vmem_file *)file;
	assert(m->open_files > 0);
	m->open_files--;
	vmem__unref(m, f->inode);
	free(f);
}

static err *vmem__rename(struct vfs *vfs, const char *from, const char *to)
{
	struct vfs_memory *m = vfs->impl;
	char cf[VFS_PATH_MAX], ct[VFS_PATH_MAX];
	TRY(vmem__canon(from, cf));
	TRY(vmem__canon(to, ct));
	bool found;
	size_t i = vmem__find(m, cf, &found);
	if (!found)
		return err_new(ERR_NOT_FOUND, "rename %s: no such file", cf);
	struct vmem_inode *ino = m->entries[i].inode;
	if (!ino)
		return err_new(ERR_INVALID, "rename %s: directories cannot be renamed", cf);
	if (strcmp(cf, ct) == 0)
		return NULL;
	TRY(vmem__check_parent(m, ct));
	size_t j = vmem__find(m, ct, &found);
	if (found) {
		if (!m->entries[j].inode)
			return err_new(ERR_INVALID, "rename to %s: is a directory", ct);
		/* replace the target in place, then drop the source entry */
		vmem__unref(m, m->entries[j].inode);
		m->entries[j].inode = ino;
		vmem__erase(m, i);
		return NULL;
	}
	TRY(vmem__insert(m, j, ct, ino));
	i = vmem__find(m, cf, &found);
	assert(found);
	vmem__erase(m, i);
	return NULL;
}

static err *vmem__remove(struct vfs *vfs, const char *path)
{
	struct vfs_memory *m = vfs->impl;
	char canon[VFS_PATH_MAX];
	TRY(vmem__canon(path, canon));
	bool found;
	size_t i = vmem__find(m, canon, &found);
	if (!found)
		return err_new(ERR_NOT_FOUND, "remove %s: no such file", canon);
	struct vmem_inode *ino = m->entries[i].inode;
	if (!ino)
		return err_new(ERR_INVALID, "remove %s: is a directory", canon);
	vmem__erase(m, i);
	vmem__unref(m, ino);
	return NULL;
}

static err *vmem__mkdir(struct vfs *vfs, const char *path)
{
	struct vfs_memory *m = vfs->impl;
	char canon[VFS_PATH_MAX];
	TRY(vmem__canon(path, canon));
	if (canon[0] == '\0')
		return NULL;
	bool found;
	size_t i = vmem__find(m, canon, &found);
	if (found)
		return m->entries[i].inode
		           ? err_new(ERR_EXISTS, "mkdir %s: a file has that name", canon)
		           : NULL;
	TRY(vmem__check_parent(m, canon));
	return vmem__insert(m, i, canon, NULL);
}

static err *vmem__list(struct vfs *vfs, const char *dir, struct vfs_names *out)
{
	struct vfs_memory *m = vfs->impl;
	char canon[VFS_PATH_MAX];
	TRY(vmem__canon(dir, canon));
	size_t dlen = strlen(canon);
	if (dlen > 0) {
		bool found;
		size_t i = vmem__find(m, canon, &found);
		if (!found)
			return err_new(ERR_NOT_FOUND, "list %s: no such directory", canon);
		if (m->entries[i].inode)
			return err_new(ERR_INVALID, "list %s: not a directory", canon);
	}
	out->names = NULL;
	out->count = 0;
	size_t n = 0;
	for (size_t pass = 0; pass < 2; pass++) {
		/* pass 0 counts the children, pass 1 copies their names (already sorted) */
		for (size_t i = 0; i < m->count; i++) {
			const char *p = m->entries[i].path;
			if (vmem__parent_len(p) != dlen || (dlen && strncmp(p, canon, dlen) != 0))
				continue;
			if (pass == 0) {
				n++;
				continue;
			}
			const char *name = dlen ? p + dlen + 1 : p;
			out->names[out->count] = strdup(name);
			if (!out->names[out->count]) {
				vfs_names_free(out);
				return err_new(ERR_NOMEM, "list %s: out of memory", canon);
			}
			out->count++;
		}
		if (pass == 0) {
			if (n > VFS_LIST_MAX)
				return err_new(ERR_LIMIT, "list %s: more than %d names", canon,
				               VFS_LIST_MAX);
			if (n == 0)
				return NULL;
			out->names = calloc(n, sizeof *out->names);
			if (!out->names)
				return err_new(ERR_NOMEM, "list %s: out of memory", canon);
		}
	}
	assert(out->count == n);
	return NULL;
}

/* ---- public ---- */

err *vfs_memory_new(size_t max_bytes, struct vfs **out)
{
	assert(out != NULL);
	if (max_bytes == 0)
		return err_new(ERR_INVALID, "memory vfs: cap of zero bytes");
	struct vfs_memory *m = calloc(1, sizeof *m);
	if (!m)
		return err_new(ERR_NOMEM, "memory vfs: out of memory");
	m->max_bytes = max_bytes;
	m->vfs = (struct vfs){
	    .impl = m,
	    .open = vmem__open,
	    .read = vmem__read,
	    .write = vmem__write,
	    .sync = vmem__sync,
	    .truncate = vmem__truncate,
	    .size = vmem__size,
	    .close = vmem__close,
	    .rename = vmem__rename,
	    .remove = vmem__remove,
	    .mkdir = vmem__mkdir,
	    .list = vmem__list,
	};
	*out = &m->vfs;
	return NULL;
}

void vfs_memory_free(struct vfs *vfs)
{
	if (!vfs)
		return;
	struct vfs_memory *m = vfs->impl;
	assert(vfs->open == vmem__open);
	assert(m->open_files == 0);
	for (size_t i = 0; i < m->count; i++) {
		if (m->entries[i].inode)
			vmem__unref(m, m->entries[i].inode);
		free(m->entries[i].path);
	}
	assert(m->bytes == 0);
	free(m->entries);
	free(m);
}

void vfs_memory_crash(struct vfs *vfs, struct prng *prng)
{
	struct vfs_memory *m = vfs->impl;
	assert(vfs->open == vmem__open);
	/* files in path order, so the prng is drawn in a deterministic order */
	for (size_t i = 0; i < m->count; i++)
		if (m->entries[i].inode)
			vmem__crash_inode(m, m->entries[i].inode, prng);
	assert(m->bytes <= m->max_bytes);
}

size_t vfs_memory_bytes(const struct vfs *vfs)
{
	const struct vfs_memory *m = vfs->impl;
	return m->bytes;
}

size_t vfs_memory_open_files(const struct vfs *vfs)
{
	const struct vfs_memory *m = vfs->impl;
	return m->open_files;
}
