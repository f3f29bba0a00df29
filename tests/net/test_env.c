/*
 * Tests of the real env: node timers by id (set, re-set, cancel, order), the log level
 * threshold and line format, the vfs rooted in a data directory it creates, the seeded
 * PRNG, and two envs sending to each other through their transports.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "net/env.h"
#include "storage/vfs_posix.h"

struct fired {
	uint32_t ids[16];
	int count;
};

static void on_timer(void *ctx, uint32_t id)
{
	struct fired *f = ctx;
	ck_assert_int_lt(f->count, 16);
	f->ids[f->count++] = id;
}

struct fixture {
	char root[64];
	char data_dir[128];
	struct net_loop loop;
	struct net_env env;
	char *log;
	size_t log_len;
	FILE *log_stream;
};

static void fixture_start(struct fixture *fx, uint32_t node_id, uint64_t seed)
{
	memset(fx, 0, sizeof *fx);
	snprintf(fx->root, sizeof fx->root, "/tmp/cairn-env-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fx->root));
	snprintf(fx->data_dir, sizeof fx->data_dir, "%s/data/n%u", fx->root, node_id);
	fx->log_stream = open_memstream(&fx->log, &fx->log_len);
	ck_assert_ptr_nonnull(fx->log_stream);
	ck_assert_ptr_null(net_loop_init(&fx->loop));
	struct net_env_config cfg = {.node_id = node_id,
	                             .data_dir = fx->data_dir,
	                             .seed = seed,
	                             .log_level = LOG_INFO,
	                             .log_stream = fx->log_stream};
	ck_assert_ptr_null(net_env_init(&fx->env, &fx->loop, &cfg));
}

static void fixture_stop(struct fixture *fx)
{
	net_env_close(&fx->env);
	net_loop_close(&fx->loop);
	fclose(fx->log_stream);
	free(fx->log);
	char path[160];
	snprintf(path, sizeof path, "%s/" VFS_POSIX_LOCK_FILE, fx->data_dir);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(fx->data_dir), 0);
	snprintf(path, sizeof path, "%s/data", fx->root);
	ck_assert_int_eq(rmdir(path), 0);
	ck_assert_int_eq(rmdir(fx->root), 0);
}

static void step_until(struct net_loop *loop, const int *count, int want, uint64_t limit_ms)
{
	uint64_t end = net_loop_now_ms(loop) + limit_ms;
	while (*count < want && net_loop_now_ms(loop) < end)
		ck_assert_ptr_null(net_loop_step(loop, 5));
}

/* Two nodes on one data directory would overwrite each other's log and state. */
START_TEST(a_second_env_on_one_data_dir_is_refused)
{
	struct fixture fx;
	fixture_start(&fx, 1, 7);
	struct net_loop loop;
	ck_assert_ptr_null(net_loop_init(&loop));
	struct net_env second;
	struct net_env_config cfg = {.node_id = 1, .data_dir = fx.data_dir, .seed = 7};
	err *e = net_env_init(&second, &loop, &cfg);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(err_code(e), ERR_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(err_msg(e), "in use by another process"));
	err_free(e);
	net_loop_close(&loop);
	fixture_stop(&fx);
}
END_TEST

START_TEST(timers_by_id)
{
	struct fixture fx;
	fixture_start(&fx, 1, 7);
	struct fired f = {0};
	net_env_set_timer_handler(&fx.env, on_timer, &f);
	const struct env *env = &fx.env.env;
	uint64_t t0 = env_now_ms(env);
	ck_assert_uint_lt(t0, 1000); /* counted from net_env_init */
	env_timer_set(env, 10, 30);
	env_timer_set(env, 20, 5);
	env_timer_set(env, 30, 5);
	env_timer_set(env, 40, 1);
	env_timer_set(env, 20, 60); /* re-set: 20 now fires last */
	env_timer_cancel(env, 40);
	env_timer_cancel(env, 99); /* never set: nothing happens */
	step_until(&fx.loop, &f.count, 3, 2000);
	ck_assert_int_eq(f.count, 3);
	ck_assert_uint_eq(f.ids[0], 30);
	ck_assert_uint_eq(f.ids[1], 10);
	ck_assert_uint_eq(f.ids[2], 20);
	ck_assert_uint_ge(env_now_ms(env) - t0, 60);
	/* a fired timer can be set again */
	env_timer_set(env, 30, 0);
	step_until(&fx.loop, &f.count, 4, 2000);
	ck_assert_uint_eq(f.ids[3], 30);
	fixture_stop(&fx);
}
END_TEST

START_TEST(logs_vfs_and_prng)
{
	struct fixture fx;
	fixture_start(&fx, 4, 12345);
	const struct env *env = &fx.env.env;
	env_logf(env, LOG_DEBUG, "below the threshold");
	env_logf(env, LOG_WARN, "raft: stepping down");
	fflush(fx.log_stream);
	ck_assert_ptr_null(strstr(fx.log, "below"));
	ck_assert_ptr_nonnull(strstr(fx.log, "s n4 WARN raft: stepping down\n"));
	net_env_log(&fx.env, LOG_INFO, "transport: peer 2 connected");
	fflush(fx.log_stream);
	ck_assert_ptr_nonnull(strstr(fx.log, "s n4 INFO transport: peer 2 connected\n"));

	/* the vfs is rooted in the data directory */
	struct vfs_file *f;
	ck_assert_ptr_null(vfs_open(env->vfs, "probe", VFS_CREATE, &f));
	ck_assert_ptr_null(vfs_write(f, 0, "abc", 3));
	vfs_close(f);
	char path[200];
	snprintf(path, sizeof path, "%s/probe", fx.data_dir);
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_ptr_null(vfs_remove(env->vfs, "probe"));

	/* the prng is seeded as configured */
	struct prng want;
	prng_seed(&want, 12345);
	ck_assert_uint_eq(prng_next(env->prng), prng_next(&want));
	fixture_stop(&fx);

	/* seed 0 draws one from the OS */
	fixture_start(&fx, 4, 0);
	ck_assert_uint_ne(fx.env.seed, 0);
	fixture_stop(&fx);
}
END_TEST

/* A port that was free a moment ago. */
static uint16_t free_port(void)
{
	struct net_addr addr;
	ck_assert_ptr_null(net_addr_parse("127.0.0.1:0", &addr));
	int fd;
	ck_assert_ptr_null(net_sock_listen(&addr, 1, &fd));
	uint16_t port;
	ck_assert_ptr_null(net_sock_local_port(fd, &port));
	close(fd);
	return port;
}

struct mailbox {
	int count;
	uint32_t from;
	char last[32];
};

static void on_message(void *ctx, uint32_t from, const uint8_t *bytes, size_t len)
{
	struct mailbox *m = ctx;
	ck_assert_uint_lt(len, sizeof m->last);
	memcpy(m->last, bytes, len);
	m->last[len] = '\0';
	m->from = from;
	m->count++;
}

START_TEST(envs_send_through_transports)
{
	struct fixture fx;
	fixture_start(&fx, 1, 1);
	/* a second env on the same loop, for node 2 */
	struct net_env env2;
	char dir2[160];
	snprintf(dir2, sizeof dir2, "%s/data/n2", fx.root);
	struct net_env_config cfg2 = {
	    .node_id = 2, .data_dir = dir2, .seed = 2, .log_level = LOG_OFF};
	ck_assert_ptr_null(net_env_init(&env2, &fx.loop, &cfg2));

	struct net_transport_peer peers[2] = {{.id = 1}, {.id = 2}};
	for (int i = 0; i < 2; i++)
		ck_assert_ptr_null(net_addr_set(&peers[i].addr, "127.0.0.1", free_port()));
	struct net_transport *t[2];
	struct mailbox box[2] = {{0}, {0}};
	for (int i = 0; i < 2; i++) {
		struct net_transport_config c = {.self_id = (uint32_t)i + 1,
		                                 .listen = peers[i].addr,
		                                 .peers = peers,
		                                 .peer_count = 2,
		                                 .receive = on_message,
		                                 .receive_ctx = &box[i],
		                                 .log = net_env_log,
		                                 .log_ctx = i ? &env2 : &fx.env};
		ck_assert_ptr_null(net_transport_new(&fx.loop, &c, &t[i]));
	}
	/* sends before a transport is attached, or to an unknown node, are dropped */
	env_send(&fx.env.env, 2, (const uint8_t *)"lost", 4);
	net_env_set_transport(&fx.env, t[0]);
	net_env_set_transport(&env2, t[1]);
	env_send(&fx.env.env, 9, (const uint8_t *)"nobody", 6);
	ck_assert_uint_eq(net_transport_stats(t[0]).dropped, 1);
	uint64_t end = net_loop_now_ms(&fx.loop) + 3000;
	while (box[0].count == 0 && net_loop_now_ms(&fx.loop) < end) {
		if (net_transport_connected(t[1], 1))
			env_send(&env2.env, 1, (const uint8_t *)"vote for me", 11);
		ck_assert_ptr_null(net_loop_step(&fx.loop, 5));
	}
	ck_assert_int_ge(box[0].count, 1);
	ck_assert_uint_eq(box[0].from, 2);
	ck_assert_str_eq(box[0].last, "vote for me");
	fflush(fx.log_stream);
	ck_assert_ptr_nonnull(strstr(fx.log, "n1 INFO transport: peer 2 connected"));

	net_transport_free(t[0]);
	net_transport_free(t[1]);
	net_env_close(&env2);
	char lock2[sizeof dir2 + sizeof VFS_POSIX_LOCK_FILE + 1];
	snprintf(lock2, sizeof lock2, "%s/" VFS_POSIX_LOCK_FILE, dir2);
	ck_assert_int_eq(unlink(lock2), 0);
	ck_assert_int_eq(rmdir(dir2), 0);
	fixture_stop(&fx);
}
END_TEST

/*
 * A flood of lines below `error` (a stranger's refused connections, say) is cut to
 * NET_ENV_LOG_LINES_PER_SECOND a second, and the cut is counted in a later line; errors
 * are always written.
 */
START_TEST(a_log_flood_is_cut)
{
	struct fixture fx;
	fixture_start(&fx, 1, 7);
	for (int i = 0; i < 1000; i++)
		env_logf(&fx.env.env, LOG_WARN, "flood %d", i);
	env_logf(&fx.env.env, LOG_ERROR, "an error gets through");
	uint64_t second = (net_loop_now_ms(&fx.loop) - fx.env.origin_ms) / 1000;
	uint64_t end = net_loop_now_ms(&fx.loop) + 3000;
	while ((net_loop_now_ms(&fx.loop) - fx.env.origin_ms) / 1000 == second &&
	       net_loop_now_ms(&fx.loop) < end)
		ck_assert_ptr_null(net_loop_step(&fx.loop, 50));
	env_logf(&fx.env.env, LOG_INFO, "a new second");
	fflush(fx.log_stream);
	int floods = 0;
	for (const char *p = fx.log; (p = strstr(p, " flood ")) != NULL; p++)
		floods++;
	ck_assert_int_le(floods, 2 * NET_ENV_LOG_LINES_PER_SECOND);
	ck_assert_ptr_nonnull(strstr(fx.log, "an error gets through"));
	ck_assert_ptr_nonnull(strstr(fx.log, "lines not written in second"));
	ck_assert_ptr_nonnull(strstr(fx.log, "a new second"));
	fixture_stop(&fx);
}
END_TEST

static Suite *env_suite(void)
{
	Suite *s = suite_create("env");
	TCase *tc = tcase_create("env");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_second_env_on_one_data_dir_is_refused);
	tcase_add_test(tc, timers_by_id);
	tcase_add_test(tc, logs_vfs_and_prng);
	tcase_add_test(tc, envs_send_through_transports);
	tcase_add_test(tc, a_log_flood_is_cut);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(env_suite());
}
