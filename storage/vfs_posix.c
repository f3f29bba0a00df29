/*
 * vfs_posix.c — vfs.h over POSIX file descriptors (see vfs_posix.h for the contract).
 *
 * The only file in cairn below net/ that calls the operating system's file functions.
 */
#include "storage/vfs_posix.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <linux/aio_abi.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* A single read or write call never asks the kernel for more than this at once. */
#define VFS_POSIX_IO_CHUNK ((size_t)1 << 30)
/* VFS_DIRECT writes held for the next sync; more than this is written out at once. */
#define VFS_POSIX_HELD_MAX ((size_t)16 << 20)
/* The held buffer a file keeps between syncs once it has grown past it. */
#define VFS_POSIX_HELD_KEEP ((size_t)64 << 10)

struct vfs_posix {
	struct vfs vfs;
	char root[VFS_PATH_MAX];
	int lock_fd; /* the LOCK file held by vfs_posix_lock(), or -1 */
};

/*
 * A VFS_DIRECT file has a second descriptor opened with O_DIRECT. Its aligned writes are
 * copied into `held` and written there by sync() with RWF_DSYNC: one device write (and
 * flush) per sync, and none of the page cache's writeback work, which on ext4 costs more
 * CPU than the write itself (measured: 17 µs of CPU per 600-byte append and sync instead
 * of 42). Reads go through the page cache and see the held bytes laid over the file's.
 *
 * Threads: the node's syncer runs sync() on a worker while the loop's thread may read
 * the same file (never write it: vfs.h's callers promise that). sync() only reads
 * `held` and then sets held_len to 0, so a read racing with it sees either the held
 * bytes or the file's, which are the same once the write is done.
 */
struct vfs_posix_file {
	struct vfs_file base;
	int fd;
	bool direct;   /* opened VFS_DIRECT, and O_DIRECT not refused yet */
	int direct_fd; /* opened at the first aligned write (the log keeps old segments open) */
	bool dirty;    /* written or truncated through `fd` since its last fdatasync */
	uint8_t *held; /* VFS_DIRECT_BLOCK-aligned; held_cap bytes */
	size_t held_cap;
	uint64_t held_at;        /* the file offset of held[0] */
	_Atomic size_t held_len; /* bytes held for the next sync; 0: none */
	char path[VFS_PATH_MAX]; /* the full path: error messages, opening direct_fd */
};

static err *vfs_posix__errno(int code, const char *what, const char *path)
{
	enum err_code kind = (code == ENOENT) ? ERR_NOT_FOUND : ERR_IO;
	return err_new(kind, "%s %s: %s", what, path, strerror(code));
}

/* Writes root + "/" + path into out; ERR_LIMIT if it does not fit VFS_PATH_MAX. */
static err *vfs_posix__full_path(const struct vfs_posix *v, const char *path,
                                 char out[VFS_PATH_MAX])
{
	assert(path != NULL);
	if (path[0] == '\0')
		return err_new(ERR_INVALID, "empty path");
	int n;
	if (path[0] == '/' || v->root[0] == '\0')
		n = snprintf(out, VFS_PATH_MAX, "%s", path);
	else
		n = snprintf(out, VFS_PATH_MAX, "%s/%s", v->root, path);
	if (n < 0 || n >= VFS_PATH_MAX)
		return err_new(ERR_LIMIT, "path longer than %d bytes: %s", VFS_PATH_MAX - 1, path);
	return NULL;
}

/* Makes the directory entry of `full_path` durable by fsyncing its parent directory. */
static err *vfs_posix__sync_parent(const char *full_path)
{
	char dir[VFS_PATH_MAX];
	size_t len = strlen(full_path);
	assert(len < VFS_PATH_MAX);
	memcpy(dir, full_path, len + 1);
	char *slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vfs_posix__errno(errno, "open directory", dir);
	int rc = fsync(fd);
	int saved = errno;
	close(fd);
	if (rc != 0 && saved != EINVAL) /* some file systems cannot fsync a directory */
		return vfs_posix__errno(saved, "fsync directory", dir);
	return NULL;
}

static err *vfs_posix__open(struct vfs *vfs, const char *path, unsigned flags,
                            struct vfs_file **out)
{
	struct vfs_posix *v = vfs->impl;
	assert(v != NULL && out != NULL);
	char full[VFS_PATH_MAX];
	TRY(vfs_posix__full_path(v, path, full));
	bool existed = access(full, F_OK) == 0;
	int oflags = O_RDWR | O_CLOEXEC | ((flags & VFS_CREATE) ? O_CREAT : 0);
	int fd = open(full, oflags, 0644);
	if (fd < 0)
		return vfs_posix__errno(errno, "open", full);
	if (!existed) {
		err *e = vfs_posix__sync_parent(full);
		if (e) {
			close(fd);
			return e;
		}
	}
	struct vfs_posix_file *f = calloc(1, sizeof *f);
	if (!f) {
		close(fd);
		return err_new(ERR_NOMEM, "open %s: out of memory", full);
	}
	f->base.vfs = vfs;
	f->fd = fd;
	f->direct = (flags & VFS_DIRECT) != 0;
	f->direct_fd = -1;
	f->dirty = true; /* who knows what the last process left unsynced */
	atomic_init(&f->held_len, 0);
	memcpy(f->path, full, strlen(full) + 1);
	*out = &f->base;
	return NULL;
}

/* Writes through the page cache. */
static err *vfs_posix__write_fd(struct vfs_posix_file *f, uint64_t offset, const void *bytes,
                                size_t len)
{
	f->dirty = true;
	size_t done = 0;
	while (done < len) {
		size_t want = len - done < VFS_POSIX_IO_CHUNK ? len - done : VFS_POSIX_IO_CHUNK;
		ssize_t n =
		    pwrite(f->fd, (const uint8_t *)bytes + done, want, (off_t)(offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return vfs_posix__errno(n < 0 ? errno : EIO, "write", f->path);
		done += (size_t)n;
	}
	assert(done == len);
	return NULL;
}

/*
 * Lays the held bytes that fall inside [offset, offset + len) over what was read there
 * (*done bytes), extending *done when they reach past the file's end (with zeros between,
 * as a write past the end would leave).
 */
static void vfs_posix__overlay_held(const struct vfs_posix_file *f, uint64_t offset, uint8_t *bytes,
                                    size_t len, size_t *done)
{
	size_t held_len = atomic_load_explicit(&f->held_len, memory_order_acquire);
	if (held_len == 0)
		return;
	uint64_t held_end = f->held_at + held_len;
	uint64_t to = offset + len < held_end ? offset + len : held_end;
	if (to <= offset)
		return;
	if (to - offset > *done) { /* the file ends before the held bytes do */
		memset(bytes + *done, 0, (size_t)(to - offset) - *done);
		*done = (size_t)(to - offset);
	}
	uint64_t from = offset > f->held_at ? offset : f->held_at;
	if (from < to)
		memcpy(bytes + (from - offset), f->held + (from - f->held_at), (size_t)(to - from));
}

/*
 * Writes the held bytes through the O_DIRECT descriptor, durably if `durable`, and holds
 * nothing afterwards. A file system that turns the direct write down (EINVAL: alignment
 * it does not accept) gets the bytes through the page cache, and the file stops holding.
 */
static err *vfs_posix__write_held(struct vfs_posix_file *f, bool durable)
{
	size_t len = atomic_load_explicit(&f->held_len, memory_order_relaxed);
	size_t done = 0;
	while (done < len) {
		struct iovec v = {.iov_base = f->held + done, .iov_len = len - done};
		ssize_t n = pwritev2(f->direct_fd, &v, 1, (off_t)(f->held_at + done),
		                     durable ? RWF_DSYNC : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS) &&
		    done == 0) {
			close(f->direct_fd);
			f->direct_fd = -1;
			f->direct = false;
			break;
		}
		if (n <= 0 || (size_t)n % VFS_DIRECT_BLOCK != 0)
			return vfs_posix__errno(n < 0 ? errno : EIO, "write", f->path);
		done += (size_t)n;
	}
	if (f->direct_fd < 0) { /* through the page cache after all */
		size_t rest = len - done;
		atomic_store_explicit(&f->held_len, 0, memory_order_release);
		TRY(vfs_posix__write_fd(f, f->held_at + done, f->held + done, rest));
		if (durable && fdatasync(f->fd) != 0)
			return vfs_posix__errno(errno, "fdatasync", f->path);
		f->dirty = !durable;
		return NULL;
	}
	atomic_store_explicit(&f->held_len, 0, memory_order_release);
	if (!durable)
		f->dirty = true; /* in the device's cache at best: the next sync must flush it */
	return NULL;
}

/* Holds an aligned write for the next sync (a write not next to the held ones first
 * writes those out). */
static err *vfs_posix__hold(struct vfs_posix_file *f, uint64_t offset, const void *bytes,
                            size_t len)
{
	size_t held_len = atomic_load_explicit(&f->held_len, memory_order_relaxed);
	bool joins = held_len > 0 && offset >= f->held_at && offset <= f->held_at + held_len;
	if ((held_len > 0 && !joins) || (joins && offset - f->held_at + len > VFS_POSIX_HELD_MAX)) {
		TRY(vfs_posix__write_held(f, false));
		held_len = 0;
		joins = false;
		if (f->direct_fd < 0)
			return vfs_posix__write_fd(f, offset, bytes, len);
	}
	uint64_t at = joins ? f->held_at : offset;
	size_t end = (size_t)(offset - at) + len;
	/* A buffer grown for a large write shrinks again, so files no longer written keep
	 * little (the log keeps every segment open). */
	bool shrink =
	    held_len == 0 && f->held_cap > VFS_POSIX_HELD_KEEP && end <= VFS_POSIX_HELD_KEEP;
	if (end > f->held_cap || shrink) {
		size_t cap = VFS_POSIX_HELD_KEEP;
		while (cap < end)
			cap *= 2;
		uint8_t *held = aligned_alloc(VFS_DIRECT_BLOCK, cap);
		if (!held)
			return err_new(ERR_NOMEM, "write %s: out of memory", f->path);
		if (held_len)
			memcpy(held, f->held, held_len);
		free(f->held);
		f->held = held;
		f->held_cap = cap;
	}
	memcpy(f->held + (offset - at), bytes, len);
	f->held_at = at;
	atomic_store_explicit(&f->held_len, end > held_len ? end : held_len, memory_order_release);
	return NULL;
}

static err *vfs_posix__read(struct vfs_file *file, uint64_t offset, void *bytes, size_t len,
                            size_t *got)
{
	struct vfs_posix_file *f = (struct vfs_posix_file *)file;
	assert(f->fd >= 0 && got != NULL);
	size_t done = 0;
	while (done < len) {
		size_t want = len - done < VFS_POSIX_IO_CHUNK ? len - done : VFS_POSIX_IO_CHUNK;
		ssize_t n = pread(f->fd, (uint8_t *)bytes + done, want, (off_t)(offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vfs_posix__errno(errno, "read", f->path);
		if (n == 0)
			break; /* end of file */
		done += (size_t)n;
	}
	assert(done <= len);
	vfs_posix__overlay_held(f, offset, bytes, len, &done);
	*got = done;
	return NULL;
}

/*
 * Whether the file has its O_DIRECT descriptor, opening it now if it was asked for (a file
 * system that refuses O_DIRECT, such as tmpfs on older kernels, makes it a plain file).
 */
static bool vfs_posix__direct_ready(struct vfs_posix_file *f)
{
	if (f->direct_fd < 0 && f->direct) {
		f->direct_fd = open(f->path, O_RDWR | O_CLOEXEC | O_DIRECT);
		f->direct = f->direct_fd >= 0;
	}
	return f->direct_fd >= 0;
}

static err *vfs_posix__write(struct vfs_file *file, uint64_t offset, const void *bytes, size_t len)
{
	struct vfs_posix_file *f = (struct vfs_posix_file *)file;
	assert(f->fd >= 0);
	bool aligned = offset % VFS_DIRECT_BLOCK == 0 && len % VFS_DIRECT_BLOCK == 0;
	if (aligned && len > 0 && len <= VFS_POSIX_HELD_MAX && vfs_posix__direct_ready(f))
		return vfs_posix__hold(f, offset, bytes, len);
	if (atomic_load_explicit(&f->held_len, memory_order_relaxed) > 0)
		TRY(vfs_posix__write_held(f, false));
	return vfs_posix__write_fd(f, offset, bytes, len);
}

static err *vfs_posix__sync(struct vfs_file *file)
{
	struct vfs_posix_file *f = (struct vfs_posix_file *)file;
	assert(f->fd >= 0);
	/* RWF_DSYNC, like fdatasync, covers the data and the size needed to read it back */
	if (atomic_load_explicit(&f->held_len, memory_order_relaxed) > 0)
		TRY(vfs_posix__write_held(f, true));
	if (f->dirty) {
		if (fdatasync(f->fd) != 0)
			return vfs_posix__errno(errno, "fdatasync", f->path);
		f->dirty = false;
	}
	return NULL;
}

static err *vfs_posix__truncate(struct vfs_file *file, uint64_t size)
{
	struct vfs_posix_file *f = (struct vfs_posix_file *)file;
	assert(f->fd >= 0);
	if (atomic_load_explicit(&f->held_len, memory_order_relaxed) > 0)
		TRY(vfs_posix__write_held(f, false));
	f->dirty = true;
	if (ftruncate(f->fd, (off_t)size) != 0)
		return vfs_posix__errno(errno, "truncate", f->path);
	return NULL;
}

static err *vfs_posix__size(struct vfs_file *file, uint64_t *size)
{
	struct vfs_posix_file *f = (struct vfs_posix_file *)file;
	assert(f->fd >= 0 && size != NULL);
	struct stat st;
	if (fstat(f->fd, &st) != 0)
		return vfs_posix__errno(errno, "stat", f->path);
	*size = (uint64_t)st.st_size;
	size_t held_len = atomic_load_explicit(&f->held_len, memory_order_acquire);
	if (held_len > 0 && f->held_at + held_len > *size)
		*size = f->held_at + held_len;
	return NULL;
}

static void vfs_posix__close(struct vfs_file *file)
{
	struct vfs_posix_file *f = (struct vfs_posix_file *)file;
	assert(f->fd >= 0);
	/* Held bytes reach the file as an unsynced write would: a crash may still lose them. */
	if (atomic_load_explicit(&f->held_len, memory_order_relaxed) > 0)
		err_free(vfs_posix__write_held(f, false));
	if (f->direct_fd >= 0)
		close(f->direct_fd);
	close(f->fd);
	f->fd = -1;
	free(f->held);
	free(f);
}

static err *vfs_posix__rename(struct vfs *vfs, const char *from, const char *to)
{
	struct vfs_posix *v = vfs->impl;
	char full_from[VFS_PATH_MAX], full_to[VFS_PATH_MAX];
	TRY(vfs_posix__full_path(v, from, full_from));
	TRY(vfs_posix__full_path(v, to, full_to));
	if (rename(full_from, full_to) != 0)
		return vfs_posix__errno(errno, "rename", full_from);
	TRY(vfs_posix__sync_parent(full_to));
	return vfs_posix__sync_parent(full_from);
}

static err *vfs_posix__remove(struct vfs *vfs, const char *path)
{
	struct vfs_posix *v = vfs->impl;
	char full[VFS_PATH_MAX];
	TRY(vfs_posix__full_path(v, path, full));
	if (unlink(full) != 0)
		return vfs_posix__errno(errno, "remove", full);
	return vfs_posix__sync_parent(full);
}

static err *vfs_posix__mkdir(struct vfs *vfs, const char *path)
{
	struct vfs_posix *v = vfs->impl;
	char full[VFS_PATH_MAX];
	TRY(vfs_posix__full_path(v, path, full));
	if (mkdir(full, 0755) != 0) {
		struct stat st;
		if (errno == EEXIST && stat(full, &st) == 0 && S_ISDIR(st.st_mode))
			return NULL;
		return vfs_posix__errno(errno, "mkdir", full);
	}
	return vfs_posix__sync_parent(full);
}

static int vfs_posix__cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static err *vfs_posix__list(struct vfs *vfs, const char *dir, struct vfs_names *out)
{
	struct vfs_posix *v = vfs->impl;
	char full[VFS_PATH_MAX];
	TRY(vfs_posix__full_path(v, dir, full));
	DIR *d = opendir(full);
	if (!d)
		return vfs_posix__errno(errno, "list", full);
	out->names = NULL;
	out->count = 0;
	size_t cap = 0;
	err *e = NULL;
	struct dirent *ent;
	while (!e && (ent = readdir(d)) != NULL) {
		if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
			continue;
		if (out->count == VFS_LIST_MAX) {
			e = err_new(ERR_LIMIT, "list %s: more than %d names", full, VFS_LIST_MAX);
			break;
		}
		if (out->count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **names = realloc(out->names, ncap * sizeof *names);
			if (!names) {
				e = err_new(ERR_NOMEM, "list %s: out of memory", full);
				break;
			}
			out->names = names;
			cap = ncap;
		}
		out->names[out->count] = strdup(ent->d_name);
		if (!out->names[out->count])
			e = err_new(ERR_NOMEM, "list %s: out of memory", full);
		else
			out->count++;
	}
	closedir(d);
	if (e) {
		vfs_names_free(out);
		return e;
	}
	assert(out->count <= VFS_LIST_MAX);
	if (out->count > 1) /* names are distinct, so the order is total */
		qsort(out->names, out->count, sizeof *out->names, vfs_posix__cmp_names);
	return NULL;
}

err *vfs_posix_new(const char *root_dir, struct vfs **out)
{
	assert(out != NULL);
	const char *root = root_dir ? root_dir : "";
	size_t len = strlen(root);
	if (len >= VFS_PATH_MAX)
		return err_new(ERR_LIMIT, "root directory path longer than %d bytes",
		               VFS_PATH_MAX - 1);
	if (len > 0) {
		struct stat st;
		if (stat(root, &st) != 0)
			return vfs_posix__errno(errno, "open root directory", root);
		if (!S_ISDIR(st.st_mode))
			return err_new(ERR_INVALID, "root %s is not a directory", root);
	}
	struct vfs_posix *v = calloc(1, sizeof *v);
	if (!v)
		return err_new(ERR_NOMEM, "vfs_posix_new: out of memory");
	memcpy(v->root, root, len + 1);
	v->lock_fd = -1;
	while (len > 1 && v->root[len - 1] == '/')
		v->root[--len] = '\0';
	v->vfs = (struct vfs){
	    .impl = v,
	    .open = vfs_posix__open,
	    .read = vfs_posix__read,
	    .write = vfs_posix__write,
	    .sync = vfs_posix__sync,
	    .truncate = vfs_posix__truncate,
	    .size = vfs_posix__size,
	    .close = vfs_posix__close,
	    .rename = vfs_posix__rename,
	    .remove = vfs_posix__remove,
	    .mkdir = vfs_posix__mkdir,
	    .list = vfs_posix__list,
	};
	*out = &v->vfs;
	return NULL;
}

/* ---- syncs submitted through Linux AIO ---- */

struct vfs_posix_aio {
	aio_context_t ctx;
	int notify_fd;
	struct iocb cb;
	struct vfs_posix_file *file; /* its sync is in flight; NULL: none */
};

err *vfs_posix_aio_new(int notify_fd, struct vfs_posix_aio **out)
{
	struct vfs_posix_aio *a = calloc(1, sizeof *a);
	if (!a)
		return err_new(ERR_NOMEM, "aio context: out of memory");
	if (syscall(SYS_io_setup, 1, &a->ctx) != 0) {
		err *e = vfs_posix__errno(errno, "io_setup", "aio context");
		free(a);
		return e;
	}
	a->notify_fd = notify_fd;
	*out = a;
	return NULL;
}

void vfs_posix_aio_free(struct vfs_posix_aio *a)
{
	if (!a)
		return;
	err *e = NULL;
	if (a->file && vfs_posix_aio_sync_end(a, true, &e))
		err_free(e);
	syscall(SYS_io_destroy, a->ctx);
	free(a);
}

bool vfs_posix_aio_sync_start(struct vfs_posix_aio *a, struct vfs_file *file)
{
	assert(a->file == NULL);
	if (file->vfs->sync != vfs_posix__sync)
		return false;
	struct vfs_posix_file *f = (struct vfs_posix_file *)file;
	size_t len = atomic_load_explicit(&f->held_len, memory_order_relaxed);
	if (len == 0 || f->dirty || f->direct_fd < 0)
		return false; /* sync() has more (or less) to do than one direct write */
	a->cb = (struct iocb){.aio_data = (uintptr_t)f,
	                      .aio_lio_opcode = IOCB_CMD_PWRITE,
	                      .aio_fildes = (uint32_t)f->direct_fd,
	                      .aio_buf = (uintptr_t)f->held,
	                      .aio_nbytes = len,
	                      .aio_offset = (int64_t)f->held_at,
	                      .aio_flags = IOCB_FLAG_RESFD,
	                      .aio_resfd = (uint32_t)a->notify_fd,
	                      .aio_rw_flags = RWF_DSYNC};
	struct iocb *cbs[1] = {&a->cb};
	if (syscall(SYS_io_submit, a->ctx, 1, cbs) != 1)
		return false; /* EAGAIN and the like: the caller syncs the usual way */
	a->file = f;
	return true;
}

bool vfs_posix_aio_sync_end(struct vfs_posix_aio *a, bool wait, err **result)
{
	assert(a->file != NULL);
	struct io_event ev;
	struct timespec now = {0, 0};
	long got;
	do
		got = syscall(SYS_io_getevents, a->ctx, 1, 1, &ev, wait ? NULL : &now);
	while (got < 0 && errno == EINTR);
	if (got == 0)
		return false; /* still running */
	struct vfs_posix_file *f = a->file;
	a->file = NULL;
	size_t len = atomic_load_explicit(&f->held_len, memory_order_relaxed);
	if (got == 1 && ev.res >= 0 && (size_t)ev.res == len) {
		assert(ev.data == (uintptr_t)f);
		atomic_store_explicit(&f->held_len, 0, memory_order_release);
		*result = NULL;
		return true;
	}
	/*
	 * Refused (a file system without O_DIRECT writes), short or failed: sync() writes
	 * it all again, the same bytes at the same place, and reports what that meets.
	 */
	*result = vfs_posix__sync(&f->base);
	return true;
}

err *vfs_posix_lock(struct vfs *vfs, const char *what)
{
	assert(vfs->open == vfs_posix__open);
	struct vfs_posix *v = vfs->impl;
	assert(v->lock_fd < 0);
	char path[VFS_PATH_MAX];
	TRY(vfs_posix__full_path(v, VFS_POSIX_LOCK_FILE, path));
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return vfs_posix__errno(errno, "open lock file", path);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int code = errno;
		close(fd);
		if (code == EWOULDBLOCK)
			return err_new(
			    ERR_UNAVAILABLE,
			    "the %s is in use by another process, which holds the lock on %s", what,
			    path);
		return vfs_posix__errno(code, "lock", path);
	}
	v->lock_fd = fd;
	return NULL;
}

void vfs_posix_free(struct vfs *vfs)
{
	if (!vfs)
		return;
	assert(vfs->open == vfs_posix__open);
	struct vfs_posix *v = vfs->impl;
	if (v->lock_fd >= 0)
		close(v->lock_fd); /* releases the lock */
	free(v);
}
