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
#include <sys/stat.h>
#include <unistd.h>

/* A single read or write call never asks the kernel for more than this at once. */
#define VFS_POSIX_IO_CHUNK ((size_t)1 << 30)

struct vfs_posix {
	struct vfs vfs;
	char root[VFS_PATH_MAX];
};

struct vfs_posix_file {
	struct vfs_file base;
	int fd;
	char path[VFS_PATH_MAX]; /* the full path, for error messages */
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
	memcpy(f->path, full, strlen(full) + 1);
	*out = &f->base;
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
	*got = done;
	return NULL;
}

static err *vfs_posix__write(struct vfs_file *file, uint64_t offset, const void *bytes, size_t len)
{
	struct vfs_posix_file *f = (struct vfs_posix_file *)file;
	assert(f->fd >= 0);
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

static err *vfs_posix__sync(struct vfs_file *file)
{
	struct vfs_posix_file *f = (struct vfs_posix_file *)file;
	assert(f->fd >= 0);
	/* fdatasync covers the data and the metadata needed to read it back (the size) */
	if (fdatasync(f->fd) != 0)
		return vfs_posix__errno(errno, "fdatasync", f->path);
	return NULL;
}

static err *vfs_posix__truncate(struct vfs_file *file, uint64_t size)
{
	struct vfs_posix_file *f = (struct vfs_posix_file *)file;
	assert(f->fd >= 0);
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
	return NULL;
}

static void vfs_posix__close(struct vfs_file *file)
{
	struct vfs_posix_file *f = (struct vfs_posix_file *)file;
	assert(f->fd >= 0);
	close(f->fd);
	f->fd = -1;
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

void vfs_posix_free(struct vfs *vfs)
{
	if (!vfs)
		return;
	assert(vfs->open == vfs_posix__open);
	free(vfs->impl);
}
