#include "base/vfs.h"

#include <stdlib.h>

err *vfs_read_exact(struct vfs_file *f, uint64_t offset, void *bytes, size_t len)
{
	size_t got = 0;
	TRY(vfs_read(f, offset, bytes, len, &got));
	if (got != len)
		return err_new(ERR_CORRUPT,
		               "file too short: wanted %zu bytes at offset %llu, got %zu", len,
		               (unsigned long long)offset, got);
	return NULL;
}

void vfs_names_free(struct vfs_names *names)
{
	for (size_t i = 0; i < names->count; i++)
		free(names->names[i]);
	free(names->names);
	names->names = NULL;
	names->count = 0;
}
