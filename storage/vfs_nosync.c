#include "storage/vfs_nosync.h"

#include <assert.h>
#include <stdlib.h>

struct nosync_file {
	struct vfs_file base; /* first: a struct vfs_file * is a struct nosync_file * */
	struct vfs_file *inner;
};

static struct vfs_file *nosync__inner(struct vfs_file *f)
{
	return ((struct nosync_file *)f)->inner;
}

static err *nosync__open(struct vfs *vfs, const char *path, unsigned flags, struct vfs_file **out)
{
	struct vfs *inner = vfs->impl;
	struct nosync_file *f = malloc(sizeof *f);
	if (!f)
		return err_new(ERR_NOMEM, "vfs: out of memory opening %s", path);
	/* Without syncs, writes held until a sync would reach the file only at close. */
	err *e = vfs_open(inner, path, flags & ~(unsigned)VFS_DIRECT, &f->inner);
	if (e) {
		free(f);
		return e;
	}
	f->base.vfs = vfs;
	*out = &f->base;
	return NULL;
}

static err *nosync__read(struct vfs_file *f, uint64_t offset, void *bytes, size_t len, size_t *got)
{
	return vfs_read(nosync__inner(f), offset, bytes, len, got);
}

static err *nosync__write(struct vfs_file *f, uint64_t offset, const void *bytes, size_t len)
{
	return vfs_write(nosync__inner(f), offset, bytes, len);
}

static err *nosync__sync(struct vfs_file *f)
{
	assert(nosync__inner(f));
	return NULL; /* the whole point */
}

static err *nosync__truncate(struct vfs_file *f, uint64_t size)
{
	return vfs_truncate(nosync__inner(f), size);
}

static err *nosync__size(struct vfs_file *f, uint64_t *size)
{
	return vfs_size(nosync__inner(f), size);
}

static void nosync__close(struct vfs_file *f)
{
	vfs_close(nosync__inner(f));
	free(f);
}

static err *nosync__rename(struct vfs *vfs, const char *from, const char *to)
{
	return vfs_rename(vfs->impl, from, to);
}

static err *nosync__remove(struct vfs *vfs, const char *path)
{
	return vfs_remove(vfs->impl, path);
}

static err *nosync__mkdir(struct vfs *vfs, const char *path)
{
	return vfs_mkdir(vfs->impl, path);
}

static err *nosync__list(struct vfs *vfs, const char *dir, struct vfs_names *out)
{
	return vfs_list(vfs->impl, dir, out);
}

err *vfs_nosync_new(struct vfs *inner, struct vfs **out)
{
	assert(inner && out);
	struct vfs *v = malloc(sizeof *v);
	if (!v)
		return err_new(ERR_NOMEM, "vfs: out of memory");
	*v = (struct vfs){
	    .impl = inner,
	    .open = nosync__open,
	    .read = nosync__read,
	    .write = nosync__write,
	    .sync = nosync__sync,
	    .truncate = nosync__truncate,
	    .size = nosync__size,
	    .close = nosync__close,
	    .rename = nosync__rename,
	    .remove = nosync__remove,
	    .mkdir = nosync__mkdir,
	    .list = nosync__list,
	};
	*out = v;
	return NULL;
}

void vfs_nosync_free(struct vfs *vfs)
{
	free(vfs);
}
