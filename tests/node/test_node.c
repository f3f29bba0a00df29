/*
 * Tests of the node: real cairn nodes in a simulated world without faults, driven by
 * simulated clients. Writes through one node are read through others; a crashed leader is
 * replaced; replicas converge to identical state hashes.
 */
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "sim/client.h"
#include "sim/node_app.h"

struct cluster {
	struct sim_config cfg;
	struct sim_cairn_app app;
	struct sim_world *world;
};

static void cluster_start(struct cluster *c, uint32_t nodes, uint64_t seed)
{
	sim_config_default(&c->cfg, seed, "cairn");
	c->cfg.nodes = nodes;
	sim_cairn_app_default(&c->app, nodes);
	ck_assert_ptr_null(sim_world_new(&c->cfg, &sim_cairn_ops, &c->app, &c->world));
}

static void cluster_stop(struct cluster *c)
{
	sim_world_free(c->world);
}

/* Runs the world until some node is leader with a quorum; returns its id. */
static uint32_t await_leader(struct cluster *c, uint64_t limit_ms)
{
	uint64_t until = sim_now_ms(c->world) + limit_ms;
	while (sim_now_ms(c->world) < until) {
		ck_assert_ptr_null(sim_run_until(c->world, sim_now_ms(c->world) + 50));
		for (uint32_t id = 1; id <= c->cfg.nodes; id++) {
			struct node *n = sim_node(c->world, id);
			if (!n)
				continue;
			struct node_status st;
			node_status_get(n, &st);
			if (st.raft.role == RAFT_LEADER && st.applied >= st.raft.commit &&
			    st.raft.commit > 0)
				return id;
		}
	}
	ck_abort_msg("no leader within %llu ms", (unsigned long long)limit_ms);
	return 0;
}

/* Submits `sql` to `node` and runs the world until the client has every reply. */
static void run_sql(struct cluster *c, struct sim_client *client, uint32_t node, const char *sql)
{
	ck_assert_ptr_null(sim_client_submit(client, node, sql, true));
	for (int i = 0; i < 2000 && sim_client_poll(client) == SIM_CLIENT_BUSY; i++)
		ck_assert_ptr_null(sim_run_until(c->world, sim_now_ms(c->world) + 5));
	ck_assert_int_eq(client->state, SIM_CLIENT_IDLE);
	buf_append(&client->output, "", 1); /* NUL-terminate for comparisons */
}

START_TEST(writes_on_leader_read_on_followers)
{
	struct cluster c;
	cluster_start(&c, 3, 1);
	uint32_t leader = await_leader(&c, 5000);
	struct sim_client client;
	sim_client_init(&client, c.world);
	run_sql(&c, &client, leader,
	        "CREATE TABLE movie (id INTEGER PRIMARY KEY, title VARCHAR NOT NULL);"
	        "INSERT INTO movie VALUES (1, 'Sicario'), (2, 'Stalker'), (3, 'Her')");
	ck_assert_str_eq((char *)client.output.data, "ACK 1\nINSERT 3\n");
	for (uint32_t id = 1; id <= 3; id++) {
		run_sql(&c, &client, id, "SELECT * FROM movie ORDER BY id");
		ck_assert_str_eq((char *)client.output.data, "1|Sicario\n2|Stalker\n3|Her\n");
	}
	sim_client_free(&client);
	cluster_stop(&c);
}
END_TEST

START_TEST(writes_through_a_follower_and_transactions)
{
	struct cluster c;
	cluster_start(&c, 5, 2);
	uint32_t leader = await_leader(&c, 5000);
	uint32_t follower = leader % 5 + 1;
	struct sim_client a, b;
	sim_client_init(&a, c.world);
	sim_client_init(&b, c.world);
	run_sql(&c, &a, follower, "CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER)");
	run_sql(&c, &a, follower, "BEGIN; INSERT INTO kv VALUES (1, 100); UPDATE kv SET v = v + 1");
	/* not visible to others before COMMIT */
	run_sql(&c, &b, leader, "SELECT COUNT(*) FROM kv");
	ck_assert_str_eq((char *)b.output.data, "0\n");
	run_sql(&c, &a, follower, "COMMIT");
	ck_assert_int_eq(a.first_error, 0);
	run_sql(&c, &b, leader, "SELECT v FROM kv WHERE k = 1");
	ck_assert_str_eq((char *)b.output.data, "101\n");
	sim_client_free(&a);
	sim_client_free(&b);
	cluster_stop(&c);
}
END_TEST

START_TEST(conflicting_transactions_one_aborts)
{
	struct cluster c;
	cluster_start(&c, 3, 3);
	uint32_t leader = await_leader(&c, 5000);
	struct sim_client a, b;
	sim_client_init(&a, c.world);
	sim_client_init(&b, c.world);
	run_sql(&c, &a, leader,
	        "CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER);"
	        "INSERT INTO acct VALUES (1, 10)");
	run_sql(&c, &a, leader, "BEGIN; UPDATE acct SET bal = bal + 1 WHERE id = 1");
	run_sql(&c, &b, leader % 3 + 1, "BEGIN; UPDATE acct SET bal = bal + 5 WHERE id = 1");
	run_sql(&c, &a, leader, "COMMIT");
	ck_assert_int_eq(a.first_error, 0);
	run_sql(&c, &b, leader % 3 + 1, "COMMIT");
	ck_assert_int_eq(b.first_error, ERR_CONFLICT);
	run_sql(&c, &a, leader, "SELECT bal FROM acct");
	ck_assert_str_eq((char *)a.output.data, "11\n");
	sim_client_free(&a);
	sim_client_free(&b);
	cluster_stop(&c);
}
END_TEST

START_TEST(leader_crash_keeps_acknowledged_writes)
{
	struct cluster c;
	cluster_start(&c, 5, 4);
	uint32_t leader = await_leader(&c, 5000);
	struct sim_client client;
	sim_client_init(&client, c.world);
	run_sql(&c, &client, leader, "CREATE TABLE t (id INTEGER PRIMARY KEY)");
	char sql[64];
	for (int i = 1; i <= 20; i++) {
		snprintf(sql, sizeof sql, "INSERT INTO t VALUES (%d)", i);
		run_sql(&c, &client, leader, sql);
		ck_assert_int_eq(client.first_error, 0);
	}
	sim_crash(c.world, leader);
	uint32_t next = await_leader(&c, 10000);
	ck_assert_uint_ne(next, leader);
	run_sql(&c, &client, next, "INSERT INTO t VALUES (21)");
	ck_assert_int_eq(client.first_error, 0);
	sim_restart(c.world, leader);
	ck_assert_ptr_null(sim_run_until(c.world, sim_now_ms(c.world) + 3000));
	run_sql(&c, &client, leader, "SELECT COUNT(*), SUM(id) FROM t");
	ck_assert_str_eq((char *)client.output.data, "21|231\n");
	/* every replica holds the same state at the same applied index */
	uint64_t applied0 = 0, hash0 = 0;
	for (uint32_t id = 1; id <= 5; id++) {
		uint64_t applied, hash;
		ck_assert(sim_node_state(c.world, id, &applied, &hash));
		if (id == 1) {
			applied0 = applied;
			hash0 = hash;
		}
		ck_assert_uint_eq(applied, applied0);
		ck_assert_uint_eq(hash, hash0);
	}
	sim_client_free(&client);
	cluster_stop(&c);
}
END_TEST

START_TEST(errors_are_results_and_sessions_go_on)
{
	struct cluster c;
	cluster_start(&c, 3, 5);
	uint32_t leader = await_leader(&c, 5000);
	struct sim_client client;
	sim_client_init(&client, c.world);
	run_sql(&c, &client, leader, "CREATE TABLE u (id INTEGER PRIMARY KEY, name TEXT UNIQUE)");
	run_sql(&c, &client, leader, "INSERT INTO u VALUES (1, 'a')");
	run_sql(&c, &client, leader, "INSERT INTO u VALUES (2, 'a')");
	ck_assert_int_eq(client.first_error, ERR_CONSTRAINT);
	run_sql(&c, &client, leader, "SELEKT 1");
	ck_assert_int_eq(client.first_error, ERR_SYNTAX);
	run_sql(&c, &client, leader, "SELECT name FROM u");
	ck_assert_str_eq((char *)client.output.data, "a\n");
	sim_client_free(&client);
	cluster_stop(&c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("node");
	TCase *tc = tcase_create("cluster");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, writes_on_leader_read_on_followers);
	tcase_add_test(tc, writes_through_a_follower_and_transactions);
	tcase_add_test(tc, conflicting_transactions_one_aborts);
	tcase_add_test(tc, leader_crash_keeps_acknowledged_writes);
	tcase_add_test(tc, errors_are_results_and_sessions_go_on);
	suite_add_tcase(s, tc);
	return check_run(s);
}
