/* Unit tests for the PRNG, checksums, logging and the env log helper. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/checksum.h"
#include "base/env.h"
#include "base/prng.h"
#include "check_main.h"

START_TEST(same_seed_same_stream)
{
	struct prng a, b;
	prng_seed(&a, 99);
	prng_seed(&b, 99);
	for (int i = 0; i < 1000; i++)
		ck_assert_uint_eq(prng_next(&a), prng_next(&b));
	prng_seed(&b, 100);
	ck_assert_uint_ne(prng_next(&a), prng_next(&b));
}
END_TEST

START_TEST(subseeds_differ_by_name_and_index)
{
	uint64_t net = prng_subseed(7, "network", 0);
	ck_assert_uint_eq(net, prng_subseed(7, "network", 0));
	ck_assert_uint_ne(net, prng_subseed(7, "disk", 0));
	ck_assert_uint_ne(prng_subseed(7, "node", 1), prng_subseed(7, "node", 2));
	ck_assert_uint_ne(net, prng_subseed(8, "network", 0));
}
END_TEST

START_TEST(below_is_in_range_and_roughly_uniform)
{
	struct prng p;
	prng_seed(&p, 5);
	int counts[6] = {0};
	const int draws = 60000;
	for (int i = 0; i < draws; i++) {
		uint64_t v = prng_below(&p, 6);
		ck_assert_uint_lt(v, 6);
		counts[v]++;
	}
	for (int i = 0; i < 6; i++) /* expected 10000 each; 5 sigma is about 450 */
		ck_assert_int_lt(abs(counts[i] - draws / 6), 600);
	for (int i = 0; i < 1000; i++) {
		int64_t v = prng_between(&p, -3, 3);
		ck_assert(v >= -3 && v <= 3);
	}
	ck_assert_int_eq(prng_between(&p, INT64_MAX, INT64_MAX), INT64_MAX);
	(void)prng_between(&p, INT64_MIN, INT64_MAX);
}
END_TEST

START_TEST(doubles_chances_and_exponentials)
{
	struct prng p;
	prng_seed(&p, 6);
	double sum = 0;
	int hits = 0;
	const int draws = 50000;
	for (int i = 0; i < draws; i++) {
		double d = prng_double(&p);
		ck_assert(d >= 0 && d < 1);
		hits += prng_chance(&p, 0.2);
		sum += prng_exponential(&p, 10.0);
	}
	ck_assert(fabs(hits / (double)draws - 0.2) < 0.01);
	ck_assert(fabs(sum / draws - 10.0) < 0.3);
	ck_assert(!prng_chance(&p, 0));
	ck_assert(prng_chance(&p, 1));
}
END_TEST

START_TEST(checksums_detect_changes_and_stream_matches)
{
	const char text[] = "the quick brown fox";
	uint32_t c = checksum32(text, sizeof text - 1);
	ck_assert_uint_eq(c, checksum32(text, sizeof text - 1));
	char flipped[sizeof text];
	memcpy(flipped, text, sizeof text);
	flipped[3] ^= 1;
	ck_assert_uint_ne(c, checksum32(flipped, sizeof text - 1));
	struct checksum_stream s1, s2;
	checksum_stream_init(&s1);
	checksum_stream_add(&s1, "the quick ", 10);
	checksum_stream_add(&s1, "brown fox", 9);
	checksum_stream_init(&s2);
	checksum_stream_add(&s2, text, sizeof text - 1);
	ck_assert_uint_eq(checksum_stream_end(&s1), checksum_stream_end(&s2));
}
END_TEST

struct fake_world {
	uint64_t now;
	char last[LOG_LINE_MAX];
	int lines;
};

static uint64_t fake_now(void *impl)
{
	return ((struct fake_world *)impl)->now;
}

static void fake_log(void *impl, enum log_level level, const char *line)
{
	(void)level;
	struct fake_world *w = impl;
	snprintf(w->last, sizeof w->last, "%s", line);
	w->lines++;
}

START_TEST(log_lines_carry_time_and_node)
{
	struct fake_world w = {.now = 12345};
	struct env env = {.impl = &w,
	                  .node_id = 3,
	                  .now_ms = fake_now,
	                  .log_line = fake_log,
	                  .log_level = LOG_INFO};
	env_logf(&env, LOG_WARN, "stepping down after %d ms", 1000);
	ck_assert_str_eq(w.last, "12.345s n3 WARN stepping down after 1000 ms");
	env_logf(&env, LOG_DEBUG, "not shown");
	ck_assert_int_eq(w.lines, 1);
	ck_assert_int_eq(log_level_parse("error"), LOG_ERROR);
	ck_assert_int_eq(log_level_parse("loud"), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("prng_log");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, same_seed_same_stream);
	tcase_add_test(tc, subseeds_differ_by_name_and_index);
	tcase_add_test(tc, below_is_in_range_and_roughly_uniform);
	tcase_add_test(tc, doubles_chances_and_exponentials);
	tcase_add_test(tc, checksums_detect_changes_and_stream_matches);
	tcase_add_test(tc, log_lines_carry_time_and_node);
	suite_add_tcase(s, tc);
	return check_run(s);
}
