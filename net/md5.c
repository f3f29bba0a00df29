/*
 * md5.c — MD5 as RFC 1321 specifies it: 64-byte blocks, four rounds of sixteen steps over
 * a 128-bit state, little-endian words, padding with 0x80, zeroes and the 64-bit bit length.
 */
#include "net/md5.h"

#include <assert.h>
#include <string.h>

/* The per-step left-rotation amounts (RFC 1321 §3.4), four per round. */
static const uint8_t md5__shift[64] = {
    7,  12, 17, 22, 7,  12, 17, 22, 7,  12, 17, 22, 7,  12, 17, 22, 5,  9,  14, 20, 5,  9,
    14, 20, 5,  9,  14, 20, 5,  9,  14, 20, 4,  11, 16, 23, 4,  11, 16, 23, 4,  11, 16, 23,
    4,  11, 16, 23, 6,  10, 15, 21, 6,  10, 15, 21, 6,  10, 15, 21, 6,  10, 15, 21,
};

/* T[i] = floor(2^32 * |sin(i + 1)|) (RFC 1321 §3.4). */
static const uint32_t md5__sine[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

static uint32_t md5__rotl(uint32_t x, unsigned n)
{
	assert(n > 0 && n < 32);
	return (x << n) | (x >> (32 - n));
}

/* Folds one 64-byte block into the state (RFC 1321 §3.4). */
static void md5__block(uint32_t state[4], const uint8_t block[64])
{
	uint32_t x[16];
	for (int i = 0; i < 16; i++) {
		const uint8_t *p = block + 4 * i;
		x[i] = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
		       ((uint32_t)p[3] << 24);
	}
	uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
	for (int i = 0; i < 64; i++) {
		uint32_t f;
		int k;
		if (i < 16) {
			f = (b & c) | (~b & d);
			k = i;
		} else if (i < 32) {
			f = (b & d) | (c & ~d);
			k = (5 * i + 1) % 16;
		} else if (i < 48) {
			f = b ^ c ^ d;
			k = (3 * i + 5) % 16;
		} else {
			f = c ^ (b | ~d);
			k = (7 * i) % 16;
		}
		uint32_t rotated = md5__rotl(a + f + md5__sine[i] + x[k], md5__shift[i]);
		a = d;
		d = c;
		c = b;
		b = b + rotated;
	}
	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
}

void md5_init(struct md5 *m)
{
	m->state[0] = 0x67452301;
	m->state[1] = 0xefcdab89;
	m->state[2] = 0x98badcfe;
	m->state[3] = 0x10325476;
	m->length_bytes = 0;
	m->block_len = 0;
}

void md5_update(struct md5 *m, const void *bytes, size_t len)
{
	assert(m->block_len < 64);
	const uint8_t *p = bytes;
	m->length_bytes += len;
	while (len > 0) {
		size_t take = 64 - m->block_len;
		if (take > len)
			take = len;
		memcpy(m->block + m->block_len, p, take);
		m->block_len += take;
		p += take;
		len -= take;
		if (m->block_len == 64) {
			md5__block(m->state, m->block);
			m->block_len = 0;
		}
	}
}

void md5_final(struct md5 *m, uint8_t digest[MD5_DIGEST_BYTES])
{
	uint64_t length_bits = m->length_bytes * 8;
	static const uint8_t pad[64] = {0x80};
	size_t pad_len = m->block_len < 56 ? 56 - m->block_len : 120 - m->block_len;
	md5_update(m, pad, pad_len);
	assert(m->block_len == 56);
	uint8_t length_le[8];
	for (int i = 0; i < 8; i++)
		length_le[i] = (uint8_t)(length_bits >> (8 * i));
	md5_update(m, length_le, sizeof length_le);
	assert(m->block_len == 0);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			digest[4 * i + j] = (uint8_t)(m->state[i] >> (8 * j));
}

void md5_digest_hex(const uint8_t digest[MD5_DIGEST_BYTES], char hex[MD5_HEX_BYTES])
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < MD5_DIGEST_BYTES; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 15];
	}
	hex[2 * MD5_DIGEST_BYTES] = '\0';
}

void md5_hex(const void *bytes, size_t len, char hex[MD5_HEX_BYTES])
{
	struct md5 m;
	uint8_t digest[MD5_DIGEST_BYTES];
	md5_init(&m);
	md5_update(&m, bytes, len);
	md5_final(&m, digest);
	md5_digest_hex(digest, hex);
}
