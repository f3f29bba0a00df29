/*
 * md5.h — the MD5 message digest (RFC 1321).
 *
 * cairn needs MD5 for one thing: sqllogictest files compare large results as "N values
 * hashing to <md5>", the MD5 of every rendered value followed by a newline. MD5 is not used
 * for anything that needs a secure hash.
 *
 * Streaming use: md5_init(), any number of md5_update(), then md5_final() (the context is
 * spent afterwards). md5_hex() is the one-shot form that renders 32 lowercase hex digits.
 */
#ifndef CAIRN_NET_MD5_H
#define CAIRN_NET_MD5_H

#include <stddef.h>
#include <stdint.h>

#define MD5_DIGEST_BYTES 16
#define MD5_HEX_BYTES 33 /* 32 hex digits and a NUL */

struct md5 {
	uint32_t state[4];
	uint64_t length_bytes; /* total bytes fed so far */
	uint8_t block[64];     /* a partial block waiting for more bytes */
	size_t block_len;
};

void md5_init(struct md5 *m);
void md5_update(struct md5 *m, const void *bytes, size_t len);
void md5_final(struct md5 *m, uint8_t digest[MD5_DIGEST_BYTES]);

/* Renders a digest as 32 lowercase hex digits and a NUL. */
void md5_digest_hex(const uint8_t digest[MD5_DIGEST_BYTES], char hex[MD5_HEX_BYTES]);

/* The MD5 of bytes[0..len) as 32 lowercase hex digits. */
void md5_hex(const void *bytes, size_t len, char hex[MD5_HEX_BYTES]);

#endif
