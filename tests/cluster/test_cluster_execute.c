/*
 * test_cluster_execute.c — what a running cairnd answers on its SQL port, request by
 * request (net/node_server.h): statement results as rows, counts and acknowledgements,
 * several statements in one EXECUTE (the first failure stops the text), status, table
 * listings and descriptions. Run by test_cluster_cairnd.sh against a one-node cluster
 * whose SQL port is in CAIRN_TEST_SQL_PORT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "net/client.h"

static uint16_t sql_port;
static struct net_client *client;

static void setup(void)
{
	err *e = net_client_connect(NULL, sql_port, 10000, &client);
	ck_assert_msg(e == NULL, "cannot connect: %s", e ? err_msg(e) : "");
}

static void teardown(void)
{
	net_client_close(client);
}

/* Sends a request; the response stays valid until the next call. */
static struct net_response call(enum net_request_kind kind, const char *text)
{
	struct net_request req = {kind, {(const uint8_t *)text, strlen(text)}};
	struct net_response resp;
	err *e = net_client_call(client, &req, &resp);
	ck_assert_msg(e == NULL, "%s failed: %s", text, e ? err_msg(e) : "");
	return resp;
}

static bool slice_is(struct slice s, const char *text)
{
	return s.len == strlen(text) && memcmp(s.ptr, text, s.len) == 0;
}

/* Runs `sql` and checks that it answers one row with one integer, `want`. */
static void assert_count(const char *sql, int64_t want)
{
	struct net_response r = call(NET_REQ_EXECUTE, sql);
	ck_assert_int_eq(r.kind, NET_RESP_ROWS);
	ck_assert_int_eq(r.row_count, 1);
	ck_assert_int_eq(net_response_value(&r, 0, 0)->as.integer, want);
	net_response_free(&r);
}

START_TEST(test_statements)
{
	struct net_response r = call(NET_REQ_EXECUTE, "CREATE TABLE m (id INTEGER PRIMARY KEY, "
	                                              "v TEXT)");
	ck_assert_int_eq(r.kind, NET_RESP_ACK);
	ck_assert(slice_is(r.message, "CREATE TABLE"));
	net_response_free(&r);

	r = call(NET_REQ_EXECUTE, "INSERT INTO m VALUES (1, 'one'), (2, NULL)");
	ck_assert_int_eq(r.kind, NET_RESP_COUNT);
	ck_assert_int_eq(r.count, 2);
	net_response_free(&r);

	r = call(NET_REQ_EXECUTE, "SELECT id, v FROM m ORDER BY id");
	ck_assert_int_eq(r.kind, NET_RESP_ROWS);
	ck_assert_int_eq(r.column_count, 2);
	ck_assert(slice_is(r.columns[0], "id") && slice_is(r.columns[1], "v"));
	ck_assert_int_eq(r.row_count, 2);
	ck_assert(slice_is(net_response_value(&r, 0, 1)->as.text, "one"));
	ck_assert_int_eq(net_response_value(&r, 1, 1)->type, NET_VALUE_NULL);
	net_response_free(&r);

	r = call(NET_REQ_EXECUTE, "EXPLAIN SELECT * FROM m WHERE id = 1");
	ck_assert_int_eq(r.kind, NET_RESP_ROWS);
	ck_assert_int_eq(r.column_count, 1);
	ck_assert(slice_is(r.columns[0], "plan"));
	ck_assert_int_ge(r.row_count, 1);
	net_response_free(&r);

	r = call(NET_REQ_EXECUTE, "SELEC 1");
	ck_assert_int_eq(r.kind, NET_RESP_ERROR);
	ck_assert_int_eq(r.code, ERR_SYNTAX);
	net_response_free(&r);

	r = call(NET_REQ_EXECUTE, "  -- nothing but a comment\n");
	ck_assert_int_eq(r.kind, NET_RESP_ACK);
	ck_assert_int_eq(r.message.len, 0);
	net_response_free(&r);
}
END_TEST

START_TEST(test_several_statements)
{
	/* all succeed: the answer is the last result */
	assert_count("CREATE TABLE s (id INTEGER PRIMARY KEY); INSERT INTO s VALUES (1); "
	             "SELECT COUNT(*) FROM s",
	             1);
	/* the second fails: its error is the answer, the first ran, the third did not */
	struct net_response r = call(NET_REQ_EXECUTE, "INSERT INTO s VALUES (2); INSERT INTO s "
	                                              "VALUES (1); INSERT INTO s VALUES (3)");
	ck_assert_int_eq(r.kind, NET_RESP_ERROR);
	ck_assert_int_eq(r.code, ERR_CONSTRAINT);
	net_response_free(&r);
	assert_count("SELECT COUNT(*) FROM s WHERE id = 2", 1);
	assert_count("SELECT COUNT(*) FROM s WHERE id = 3", 0);
}
END_TEST

START_TEST(test_transaction)
{
	struct net_response r = call(NET_REQ_EXECUTE, "CREATE TABLE x (id INTEGER PRIMARY KEY)");
	net_response_free(&r);
	r = call(NET_REQ_EXECUTE, "BEGIN");
	ck_assert_int_eq(r.kind, NET_RESP_ACK);
	unsigned long long read_version = 0, commit_version = 0;
	char message[64];
	snprintf(message, sizeof message, "%.*s", (int)r.message.len, (const char *)r.message.ptr);
	ck_assert_int_eq(sscanf(message, "BEGIN %llu", &read_version), 1);
	net_response_free(&r);
	r = call(NET_REQ_EXECUTE, "INSERT INTO x VALUES (10)");
	ck_assert_int_eq(r.kind, NET_RESP_COUNT);
	net_response_free(&r);
	r = call(NET_REQ_EXECUTE, "COMMIT");
	ck_assert_int_eq(r.kind, NET_RESP_ACK);
	snprintf(message, sizeof message, "%.*s", (int)r.message.len, (const char *)r.message.ptr);
	ck_assert_int_eq(sscanf(message, "COMMIT %llu", &commit_version), 1);
	ck_assert_uint_gt(commit_version, read_version);
	net_response_free(&r);
	r = call(NET_REQ_EXECUTE, "BEGIN READ ONLY");
	ck_assert(r.kind == NET_RESP_ACK && r.message.len > 15 &&
	          memcmp(r.message.ptr, "BEGIN READ ONLY ", 16) == 0);
	net_response_free(&r);
	r = call(NET_REQ_EXECUTE, "ROLLBACK");
	ck_assert(r.kind == NET_RESP_ACK && r.message.len > 9 &&
	          memcmp(r.message.ptr, "ROLLBACK ", 9) == 0);
	net_response_free(&r);
}
END_TEST

START_TEST(test_status_and_tables)
{
	struct net_response r = call(NET_REQ_EXECUTE, "CREATE TABLE IF NOT EXISTS d (id INTEGER "
	                                              "PRIMARY KEY)");
	net_response_free(&r);
	r = call(NET_REQ_STATUS, "");
	ck_assert_int_eq(r.kind, NET_RESP_STATUS);
	ck_assert_int_eq(r.status.node_id, 1);
	ck_assert_int_eq(r.status.leader_id, 1); /* a one-node cluster leads itself */
	ck_assert_uint_ge(r.status.commit_index, r.status.applied_index);
	ck_assert_uint_ge(r.status.applied_index, 1);
	ck_assert_int_eq(r.status.peer_count, 1);
	bool version = false, keys = false;
	for (uint32_t i = 0; i < r.status.line_count; i++) {
		version = version || slice_is(r.status.lines[i].name, "version");
		keys = keys || slice_is(r.status.lines[i].name, "kv_keys");
	}
	ck_assert(version && keys);
	net_response_free(&r);

	r = call(NET_REQ_LIST_TABLES, "");
	ck_assert_int_eq(r.kind, NET_RESP_ROWS);
	ck_assert(slice_is(r.columns[0], "table"));
	bool found = false;
	for (uint64_t i = 0; i < r.row_count; i++)
		found = found || slice_is(net_response_value(&r, i, 0)->as.text, "d");
	ck_assert(found);
	net_response_free(&r);

	r = call(NET_REQ_DESCRIBE_TABLE, "d");
	ck_assert_int_eq(r.kind, NET_RESP_ACK);
	ck_assert(r.message.len > 14 && memcmp(r.message.ptr, "CREATE TABLE d", 14) == 0);
	net_response_free(&r);

	r = call(NET_REQ_DESCRIBE_TABLE, "nowhere");
	ck_assert_int_eq(r.kind, NET_RESP_ERROR);
	ck_assert_int_eq(r.code, ERR_NOT_FOUND);
	net_response_free(&r);
}
END_TEST

int main(void)
{
	const char *port = getenv("CAIRN_TEST_SQL_PORT");
	long p = port ? strtol(port, NULL, 10) : 0;
	if (p <= 0 || p > 65535) {
		fprintf(stderr, "CAIRN_TEST_SQL_PORT must name the SQL port of a running node "
		                "(test_cluster_cairnd.sh sets it)\n");
		return EXIT_FAILURE;
	}
	sql_port = (uint16_t)p;
	Suite *s = suite_create("cluster_execute");
	TCase *tc = tcase_create("execute");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_statements);
	tcase_add_test(tc, test_several_statements);
	tcase_add_test(tc, test_transaction);
	tcase_add_test(tc, test_status_and_tables);
	suite_add_tcase(s, tc);
	return check_run(s);
}
