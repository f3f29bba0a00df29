/*
 * test_md5.c — MD5 against the test suite of RFC 1321 (appendix A.5), streaming included.
 */
#include <string.h>

#include "../check_main.h"
#include "net/md5.h"

static const struct {
	const char *input;
	const char *digest;
} md5_vectors[] = {
    {"", "d41d8cd98f00b204e9800998ecf8427e"},
    {"a", "0cc175b9c0f1b6a831c399e269772661"},
    {"abc", "900150983cd24fb0d6963f7d28e17f72"},
    {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
    {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
    {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "d174ab98d277d9f5a5611c2c9f419d9f"},
    {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
     "57edf4a22be3c955ac49da2e2107b67a"},
};

START_TEST(test_rfc1321_vectors)
{
	for (size_t i = 0; i < sizeof md5_vectors / sizeof md5_vectors[0]; i++) {
		char hex[MD5_HEX_BYTES];
		md5_hex(md5_vectors[i].input, strlen(md5_vectors[i].input), hex);
		ck_assert_str_eq(hex, md5_vectors[i].digest);
	}
}
END_TEST

/* Feeding the input in pieces of every size gives the same digest as one call. */
START_TEST(test_streaming_matches_one_shot)
{
	const char *input = md5_vectors[6].input;
	size_t len = strlen(input);
	for (size_t piece = 1; piece <= len; piece++) {
		struct md5 m;
		uint8_t digest[MD5_DIGEST_BYTES];
		char hex[MD5_HEX_BYTES];
		md5_init(&m);
		for (size_t at = 0; at < len; at += piece)
			md5_update(&m, input + at, at + piece <= len ? piece : len - at);
		md5_final(&m, digest);
		md5_digest_hex(digest, hex);
		ck_assert_str_eq(hex, md5_vectors[6].digest);
	}
}
END_TEST

/* Lengths around the 56-byte padding boundary take the one-block and two-block paths. */
START_TEST(test_padding_boundaries)
{
	char input[130];
	memset(input, 'x', sizeof input);
	char previous[MD5_HEX_BYTES] = "";
	for (size_t len = 54; len <= 130; len++) {
		char hex[MD5_HEX_BYTES];
		md5_hex(input, len, hex);
		ck_assert_uint_eq(strlen(hex), 32);
		ck_assert_str_ne(hex, previous);
		memcpy(previous, hex, sizeof hex);
	}
	/* A known value: MD5 of 64 'x' characters (one full block before padding). */
	char hex[MD5_HEX_BYTES];
	md5_hex(input, 64, hex);
	ck_assert_str_eq(hex, "c1bb4f81d892b2d57947682aeb252456");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("md5");
	TCase *tc = tcase_create("md5");
	tcase_add_test(tc, test_rfc1321_vectors);
	tcase_add_test(tc, test_streaming_matches_one_shot);
	tcase_add_test(tc, test_padding_boundaries);
	suite_add_tcase(s, tc);
	return check_run(s);
}
