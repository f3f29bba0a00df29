#include "base/checksum.h"

#include <xxhash.h>

uint32_t checksum32(const void *bytes, size_t len)
{
	return (uint32_t)XXH3_64bits(bytes, len);
}

void checksum_stream_init(struct checksum_stream *s)
{
	XXH3_state_t *state = XXH3_createState();
	if (state)
		XXH3_64bits_reset(state);
	s->state = state;
}

void checksum_stream_add(struct checksum_stream *s, const void *bytes, size_t len)
{
	if (s->state)
		XXH3_64bits_update(s->state, bytes, len);
}

uint64_t checksum_stream_end(struct checksum_stream *s)
{
	if (!s->state)
		return 0;
	uint64_t h = XXH3_64bits_digest(s->state);
	XXH3_freeState(s->state);
	s->state = NULL;
	return h;
}
