/*
 * disk.c — a node's simulated disk.
 *
 * Three layers, top to bottom:
 *
 *   shim        what the node's env hands out: counts operations and charges their
 *               latency to the node (reads, writes and syncs make it busy; its next
 *               events wait), because the vfs is synchronous (docs/architecture.md) and
 *               a slow fsync must still cost virtual time;
 *   vfs_fault   (storage/) bit flips on read and I/O errors, drawn from the disk's own
 *               stream prng_subseed(seed, "disk", id);
 *   vfs_memory  (storage/) the bytes, with a current and a durable image per file.
 *
 * A crash calls vfs_memory_crash(): unsynced writes are lost, and with probability
 * torn_write the last unsynced write of each file survives as a prefix (a torn write).
 * The disk outlives its node's incarnations: a restarted node opens what survived.
 */
#include "sim/sim_internal.h"

#include <assert.h>
#include <stdlib.h>

#include "storage/vfs_memory.h"

struct sim__file {
	struct vfs_file base;
	struct vfs_file *inner;
	struct sim__disk *disk;
};

static struct vfs *sim__disk_inner(const struct sim__disk *disk)
{
	assert(disk->memory != NULL);
	return disk->memory;
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

static err *sim__disk_open(struct vfs *vfs, const char *path, unsigned flags, struct vfs_file **out)
{
	struct sim__disk *disk = vfs->impl;
	assert(path != NULL && out != NULL);
	struct vfs_file *inner = NULL;
	TRY(vfs_open(sim__disk_inner(disk), path, flags, &inner));
	struct sim__file *f = malloc(sizeof *f);
	if (!f) {
		vfs_close(inner);
		return err_new(ERR_NOMEM, "sim: no memory to open %s", path);
	}
	*f = (struct sim__file){.base = {.vfs = vfs}, .inner = inner, .disk = disk};
	*out = &f->base;
	return NULL;
}

static err *sim__disk_read(struct vfs_file *file, uint64_t offset, void *bytes, size_t len,
                           size_t *got)
{
	struct sim__file *f = (struct sim__file *)file;
	struct sim__disk *disk = f->disk;
	return sim__disk_account(disk, &disk->host->world->stats.disk_reads,
	                         disk->host->world->cfg.disk.read_us,
	                         vfs_read(f->inner, offset, bytes, len, got));
}

static err *sim__disk_write(struct vfs_file *file, uint64_t offset, const void *bytes, size_t len)
{
	struct sim__file *f = (struct sim__file *)file;
	struct sim__disk *disk = f->disk;
	return sim__disk_account(disk, &disk->host->world->stats.disk_writes,
	                         disk->host->world->cfg.disk.write_us,
	                         vfs_write(f->inner, offset, bytes, len));
}

static err *sim__disk_sync(struct vfs_file *file)
{
	struct sim__file *f = (struct sim__file *)file;
	struct sim__disk *disk = f->disk;
	return sim__disk_account(disk, &disk->host->world->stats.disk_syncs,
	                         disk->host->world->cfg.disk.sync_us, vfs_sync(f->inner));
}

static err *sim__disk_truncate(struct vfs_file *file, uint64_t size)
{
	struct sim__file *f = (struct sim__file *)file;
	struct sim__disk *disk = f->disk;
	return sim__disk_account(disk, &disk->host->world->stats.disk_writes,
	                         disk->host->world->cfg.disk.write_us,
	                         vfs_truncate(f->inner, size));
}

static err *sim__disk_size(struct vfs_file *file, uint64_t *size)
{
	struct sim__file *f = (struct sim__file *)file;
	assert(size != NULL);
	return vfs_size(f->inner, size);
}

static void sim__disk_close(struct vfs_file *file)
{
	struct sim__file *f = (struct sim__file *)file;
	assert(f->inner != NULL);
	vfs_close(f->inner);
	free(f);
}

static err *sim__disk_rename(struct vfs *vfs, const char *from, const char *to)
{
	struct sim__disk *disk = vfs->impl;
	/* Durable when it returns: it costs what a sync costs. */
	return sim__disk_account(disk, &disk->host->world->stats.disk_syncs,
	                         disk->host->world->cfg.disk.sync_us,
	                         vfs_rename(sim__disk_inner(disk), from, to));
}

static err *sim__disk_remove(struct vfs *vfs, const char *path)
{
	struct sim__disk *disk = vfs->impl;
	return sim__disk_account(disk, &disk->host->world->stats.disk_syncs,
	                         disk->host->world->cfg.disk.sync_us,
	                         vfs_remove(sim__disk_inner(disk), path));
}

static err *sim__disk_mkdir(struct vfs *vfs, const char *path)
{
	struct sim__disk *disk = vfs->impl;
	return sim__disk_account(disk, &disk->host->world->stats.disk_syncs,
	                         disk->host->world->cfg.disk.sync_us,
	                         vfs_mkdir(sim__disk_inner(disk), path));
}

static err *sim__disk_list(struct vfs *vfs, const char *dir, struct vfs_names *out)
{
	struct sim__disk *disk = vfs->impl;
	return sim__disk_account(disk, &disk->host->world->stats.disk_reads,
	                         disk->host->world->cfg.disk.read_us,
	                         vfs_list(sim__disk_inner(disk), dir, out));
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
	return vfs_memory_new((size_t)w->cfg.disk.capacity_bytes, &disk->memory);
}

void sim__disk_free(struct sim__disk *disk)
{
	if (disk->memory)
		vfs_memory_free(disk->memory);
	disk->memory = NULL;
}

void sim__disk_configure(struct sim__disk *disk)
{
	assert(disk->memory != NULL);
	assert(disk->host != NULL);
}

void sim__disk_crash(struct sim__disk *disk)
{
	const struct sim_faults *f = &disk->host->world->cfg.faults;
	assert(disk->memory != NULL);
	assert(f->torn_write >= 0 && f->torn_write <= 1);
	bool tear = f->enabled && prng_chance(&disk->prng, f->torn_write);
	vfs_memory_crash(disk->memory, tear ? &disk->prng : NULL);
}
