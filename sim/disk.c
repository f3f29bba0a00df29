/*
 * disk.c — a node's simulated disk.
 *
 * Three layers, top to bottom:
 *
 *   shim        what the node's env hands out. It counts operations and charges their
 *               latency to the node (reads, writes and syncs make it busy, so its next
 *               events wait), because the vfs is synchronous (docs/architecture.md) and a
 *               slow fsync must still cost virtual time. It also decides, from the disk's
 *               own stream and the world's current fault rates, which operation fails and
 *               which read comes back with a flipped bit, and has vfs_fault do it
 *               (vfs_fault_fail_nth, vfs_fault_flip): the rates can then change at run
 *               time, and the liveness phase can turn them off for a node that is up;
 *   vfs_fault   (storage/) keeps every write and truncate not yet synced in an overlay,
 *               injects the errors and flips it is told to, and at a crash drops the
 *               overlay, keeping a random prefix of each file's last write if asked (a
 *               torn write);
 *   vfs_memory  (storage/) the bytes. Only synced data reaches it, so it is the durable
 *               image.
 *
 * The disk outlives its node's incarnations: a restarted node opens what survived.
 */
#include "sim/sim_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "storage/vfs_fault.h"
#include "storage/vfs_memory.h"

/* An open file, on the disk's list of open files (renames update their paths). */
struct sim__file {
	struct vfs_file base;
	struct vfs_file *inner;
	struct sim__disk *disk;
	struct sim__file *next, *prev;
	char path[VFS_PATH_MAX]; /* the name vfs_fault knows it by, for flip rules */
};

/* Decides whether the next operation of kind `op` fails, and arms vfs_fault if so. */
static void sim__disk_inject(struct sim__disk *disk, enum vfs_fault_op op)
{
	assert(op < VFS_FAULT_OPS);
	assert(disk->io_error >= 0 && disk->io_error <= 1);
	if (prng_chance(&disk->prng, disk->io_error))
		vfs_fault_fail_nth(disk->fault, op, 1);
}

/* Counts an operation, charges its latency to a running node and counts its failure. */
static err *sim__disk_account(struct sim__disk *disk, uint64_t *counter, uint32_t latency_us,
                              err *e)
{
	struct sim__host *h = disk->host;
	assert(h != NULL && counter != NULL);
	(*counter)++;
	if (h->status == SIM__UP && latency_us)
		sim__host_charge(h, latency_us);
	if (e && (err_is(e, ERR_IO) || err_is(e, ERR_CORRUPT)))
		h->world->stats.disk_errors++;
	return e;
}

static struct sim_stats *sim__disk_stats(struct sim__disk *disk)
{
	return &disk->host->world->stats;
}

static const struct sim_disk_config *sim__disk_config(struct sim__disk *disk)
{
	return &disk->host->world->cfg.disk;
}

static err *sim__disk_open(struct vfs *vfs, const char *path, unsigned flags, struct vfs_file **out)
{
	struct sim__disk *disk = vfs->impl;
	assert(path != NULL && out != NULL);
	if (strlen(path) >= VFS_PATH_MAX)
		return err_new(ERR_LIMIT, "sim: path too long: %s", path);
	struct vfs_file *inner = NULL;
	sim__disk_inject(disk, VFS_FAULT_OPEN);
	TRY(sim__disk_account(disk, &sim__disk_stats(disk)->disk_reads, 0,
	                      vfs_open(disk->fault, path, flags, &inner)));
	struct sim__file *f = malloc(sizeof *f);
	if (!f) {
		vfs_close(inner);
		return err_new(ERR_NOMEM, "sim: no memory to open %s", path);
	}
	*f = (struct sim__file){
	    .base = {.vfs = vfs}, .inner = inner, .disk = disk, .next = disk->open_files};
	snprintf(f->path, sizeof f->path, "%s", path);
	if (disk->open_files)
		disk->open_files->prev = f;
	disk->open_files = f;
	*out = &f->base;
	return NULL;
}

static err *sim__disk_read(struct vfs_file *file, uint64_t offset, void *bytes, size_t len,
                           size_t *got)
{
	struct sim__file *f = (struct sim__file *)file;
	struct sim__disk *disk = f->disk;
	assert(disk->read_flip >= 0 && disk->read_flip <= 1);
	sim__disk_inject(disk, VFS_FAULT_READ);
	/* A flipped bit in what this read returns; what is stored stays intact. */
	bool flip = len > 0 && prng_chance(&disk->prng, disk->read_flip);
	if (flip) {
		uint64_t at = offset + prng_below(&disk->prng, len);
		uint8_t mask = (uint8_t)(1u << prng_below(&disk->prng, 8));
		err_free(vfs_fault_flip(disk->fault, f->path, at, mask)); /* one rule at a time */
	}
	err *e = vfs_read(f->inner, offset, bytes, len, got);
	if (flip)
		vfs_fault_clear_flips(disk->fault);
	return sim__disk_account(disk, &sim__disk_stats(disk)->disk_reads,
	                         sim__disk_config(disk)->read_us, e);
}

static err *sim__disk_write(struct vfs_file *file, uint64_t offset, const void *bytes, size_t len)
{
	struct sim__file *f = (struct sim__file *)file;
	struct sim__disk *disk = f->disk;
	sim__disk_inject(disk, VFS_FAULT_WRITE);
	return sim__disk_account(disk, &sim__disk_stats(disk)->disk_writes,
	                         sim__disk_config(disk)->write_us,
	                         vfs_write(f->inner, offset, bytes, len));
}

static err *sim__disk_sync(struct vfs_file *file)
{
	struct sim__file *f = (struct sim__file *)file;
	struct sim__disk *disk = f->disk;
	/* A sync the node started in the background costs it only the time still left. */
	uint32_t busy_us =
	    disk->background ? disk->background_left_us : sim__disk_config(disk)->sync_us;
	disk->background = false;
	sim__disk_inject(disk, VFS_FAULT_SYNC);
	return sim__disk_account(disk, &sim__disk_stats(disk)->disk_syncs, busy_us,
	                         vfs_sync(f->inner));
}

uint64_t sim__disk_sync_latency_us(struct sim__disk *disk)
{
	const struct sim_faults *f = &disk->host->world->cfg.faults;
	uint64_t us = sim__disk_config(disk)->sync_us;
	assert(f->slow_sync >= 0 && f->slow_sync <= 1);
	if (f->enabled && f->slow_sync > 0 && prng_chance(&disk->prng, f->slow_sync))
		us += prng_below(&disk->prng, (uint64_t)f->slow_sync_max_ms * 1000 + 1);
	return us;
}

err *sim__disk_sync_background(struct sim__disk *disk, struct vfs_file *file, uint32_t remaining_us)
{
	disk->background = true;
	disk->background_left_us = remaining_us;
	err *e = vfs_sync(file);
	disk->background = false;
	return e;
}

static err *sim__disk_truncate(struct vfs_file *file, uint64_t size)
{
	struct sim__file *f = (struct sim__file *)file;
	struct sim__disk *disk = f->disk;
	sim__disk_inject(disk, VFS_FAULT_TRUNCATE);
	return sim__disk_account(disk, &sim__disk_stats(disk)->disk_writes,
	                         sim__disk_config(disk)->write_us, vfs_truncate(f->inner, size));
}

static err *sim__disk_size(struct vfs_file *file, uint64_t *size)
{
	struct sim__file *f = (struct sim__file *)file;
	assert(size != NULL);
	sim__disk_inject(f->disk, VFS_FAULT_SIZE);
	return sim__disk_account(f->disk, &sim__disk_stats(f->disk)->disk_reads, 0,
	                         vfs_size(f->inner, size));
}

static void sim__disk_close(struct vfs_file *file)
{
	struct sim__file *f = (struct sim__file *)file;
	struct sim__disk *disk = f->disk;
	assert(f->inner != NULL);
	if (f->prev)
		f->prev->next = f->next;
	else
		disk->open_files = f->next;
	if (f->next)
		f->next->prev = f->prev;
	vfs_close(f->inner);
	free(f);
}

static err *sim__disk_rename(struct vfs *vfs, const char *from, const char *to)
{
	struct sim__disk *disk = vfs->impl;
	assert(from != NULL && to != NULL);
	sim__disk_inject(disk, VFS_FAULT_RENAME);
	/* Durable when it returns: it costs what a sync costs. */
	TRY(sim__disk_account(disk, &sim__disk_stats(disk)->disk_syncs,
	                      sim__disk_config(disk)->sync_us, vfs_rename(disk->fault, from, to)));
	for (struct sim__file *f = disk->open_files; f; f = f->next)
		if (strcmp(f->path, from) == 0)
			snprintf(f->path, sizeof f->path, "%s", to);
	return NULL;
}

static err *sim__disk_remove(struct vfs *vfs, const char *path)
{
	struct sim__disk *disk = vfs->impl;
	sim__disk_inject(disk, VFS_FAULT_REMOVE);
	return sim__disk_account(disk, &sim__disk_stats(disk)->disk_syncs,
	                         sim__disk_config(disk)->sync_us, vfs_remove(disk->fault, path));
}

static err *sim__disk_mkdir(struct vfs *vfs, const char *path)
{
	struct sim__disk *disk = vfs->impl;
	sim__disk_inject(disk, VFS_FAULT_MKDIR);
	return sim__disk_account(disk, &sim__disk_stats(disk)->disk_syncs,
	                         sim__disk_config(disk)->sync_us, vfs_mkdir(disk->fault, path));
}

static err *sim__disk_list(struct vfs *vfs, const char *dir, struct vfs_names *out)
{
	struct sim__disk *disk = vfs->impl;
	sim__disk_inject(disk, VFS_FAULT_LIST);
	return sim__disk_account(disk, &sim__disk_stats(disk)->disk_reads,
	                         sim__disk_config(disk)->read_us, vfs_list(disk->fault, dir, out));
}

err *sim__disk_init(struct sim__disk *disk, struct sim__host *host)
{
	const struct sim_world *w = host->world;
	assert(disk == &host->disk);
	assert(w->cfg.disk.capacity_bytes <= SIZE_MAX / 2);
	*disk = (struct sim__disk){.host = host};
	disk->shim = (struct vfs){.impl = disk,
	                          .open = sim__disk_open,
	                          .read = sim__disk_read,
	                          .write = sim__disk_write,
	                          .sync = sim__disk_sync,
	                          .truncate = sim__disk_truncate,
	                          .size = sim__disk_size,
	                          .close = sim__disk_close,
	                          .rename = sim__disk_rename,
	                          .remove = sim__disk_remove,
	                          .mkdir = sim__disk_mkdir,
	                          .list = sim__disk_list};
	prng_seed(&disk->prng, prng_subseed(w->cfg.seed, "disk", host->id));
	/* vfs_fault injects nothing by itself; its stream only tears writes at crashes. */
	struct vfs_fault_options opts = {
	    .seed = prng_subseed(prng_subseed(w->cfg.seed, "disk", host->id), "tear", 0)};
	TRY(vfs_memory_new((size_t)w->cfg.disk.capacity_bytes, &disk->memory));
	err *e = vfs_fault_new(disk->memory, &opts, &disk->fault);
	if (e) {
		sim__disk_free(disk);
		return e;
	}
	sim__disk_configure(disk);
	return NULL;
}

void sim__disk_free(struct sim__disk *disk)
{
	assert(disk->host != NULL);
	sim__disk_close_all(disk); /* what a node left open at the end of the world */
	assert(disk->open_files == NULL);
	if (disk->fault) {
		/* Unsynced writes die with the world, as at a crash. */
		err_free(vfs_fault_crash(disk->fault, VFS_FAULT_TEAR_NONE, 0));
		vfs_fault_free(disk->fault);
	}
	if (disk->memory)
		vfs_memory_free(disk->memory);
	disk->fault = NULL;
	disk->memory = NULL;
}

void sim__disk_configure(struct sim__disk *disk)
{
	const struct sim_faults *f = &disk->host->world->cfg.faults;
	assert(disk->fault != NULL);
	assert(sim__valid_id(disk->host->world, disk->host->id));
	bool corrupt = (f->corrupt_mask >> (disk->host->id - 1)) & 1;
	disk->io_error = f->enabled ? f->io_error : 0;
	disk->read_flip = f->enabled && corrupt ? f->read_flip : 0;
}

size_t sim__disk_close_all(struct sim__disk *disk)
{
	size_t closed = 0;
	while (disk->open_files) {
		assert(closed < SIZE_MAX);
		sim__disk_close(&disk->open_files->base);
		closed++;
	}
	return closed;
}

void sim__disk_crash(struct sim__disk *disk)
{
	const struct sim_faults *f = &disk->host->world->cfg.faults;
	assert(disk->fault != NULL);
	assert(f->torn_write >= 0 && f->torn_write <= 1);
	bool tear = f->enabled && prng_chance(&disk->prng, f->torn_write);
	err *e =
	    vfs_fault_crash(disk->fault, tear ? VFS_FAULT_TEAR_RANDOM : VFS_FAULT_TEAR_NONE, 0);
	if (e) { /* the torn bytes did not fit: they are lost, as the rest */
		disk->host->world->stats.disk_errors++;
		err_free(e);
	}
}
