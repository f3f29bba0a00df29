/*
 * Configuration tests: a full file, defaults, flags overriding the file, and a set of bad
 * configurations that must each be one clear error naming where the problem is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "net/config.h"

static const char good_file[] = "# node 2 of three\n"
                                "id = 2\n"
                                "\n"
                                "   sql_listen=0.0.0.0:7002   # all interfaces\n"
                                "peers = 1=127.0.0.1:9701, 2=localhost:9702 ,3=9703\n"
                                "data_dir = /var/lib/cairn/n2\n"
                                "fsync = off\n"
                                "read_lease = no\n"
                                "lazy_followers = off\n"
                                "pacing = off\n"
                                "log-level = debug\n"
                                "seed = 18446744073709551615";

START_TEST(a_full_file)
{
	struct net_config c;
	net_config_init(&c);
	ck_assert_ptr_null(net_config_load_text(&c, good_file, strlen(good_file), "n2.conf"));
	ck_assert_ptr_null(net_config_finish(&c));
	ck_assert_uint_eq(c.node_id, 2);
	ck_assert_str_eq(c.sql_listen.host, "0.0.0.0");
	ck_assert_uint_eq(c.sql_listen.port, 7002);
	ck_assert_uint_eq(c.peer_count, 3);
	ck_assert_uint_eq(c.peers[2].id, 3);
	ck_assert_str_eq(c.peers[2].addr.host, "127.0.0.1");
	ck_assert_uint_eq(c.peers[2].addr.port, 9703);
	/* raft_listen comes from this node's own peers entry */
	ck_assert_str_eq(c.raft_listen.host, "localhost");
	ck_assert_uint_eq(c.raft_listen.port, 9702);
	ck_assert_str_eq(c.data_dir, "/var/lib/cairn/n2");
	ck_assert(!c.fsync);
	ck_assert(!c.read_lease);
	ck_assert(!c.lazy_followers);
	ck_assert(!c.pacing);
	ck_assert_int_eq(c.log_level, LOG_DEBUG);
	ck_assert_uint_eq(c.seed, UINT64_MAX);
}
END_TEST

START_TEST(defaults_follow_the_node_id)
{
	struct net_config c;
	net_config_init(&c);
	ck_assert_ptr_null(net_config_set(&c, "id", "3"));
	ck_assert_ptr_null(net_config_finish(&c));
	ck_assert_str_eq(c.sql_listen.host, "127.0.0.1");
	ck_assert_uint_eq(c.sql_listen.port, 9603);
	ck_assert_uint_eq(c.raft_listen.port, 9703);
	ck_assert_str_eq(c.data_dir, "data/n3");
	ck_assert(c.fsync);
	ck_assert(c.read_lease);
	ck_assert(c.lazy_followers);
	ck_assert(c.pacing);
	ck_assert_int_eq(c.log_level, LOG_INFO);
	ck_assert_uint_eq(c.seed, 0);
	ck_assert_uint_eq(c.peer_count, 0);
}
END_TEST

START_TEST(flags_override_the_file)
{
	char path[] = "/tmp/cairn-config-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, good_file, strlen(good_file)), (ssize_t)strlen(good_file));
	close(fd);
	char *argv[] = {"cairnd",      "--fsync=on", "--config", path, "--sql-listen",
	                "127.0.0.1:0", "--id",       "1",        NULL};
	struct net_config c;
	net_config_init(&c);
	ck_assert_ptr_null(net_config_parse_args(&c, 8, argv));
	ck_assert_ptr_null(net_config_finish(&c));
	unlink(path);
	ck_assert_uint_eq(c.node_id, 1);             /* flag */
	ck_assert(c.fsync);                          /* flag, though before --config */
	ck_assert_uint_eq(c.sql_listen.port, 0);     /* flag */
	ck_assert_uint_eq(c.raft_listen.port, 9701); /* node 1's peers entry */
	ck_assert_int_eq(c.log_level, LOG_DEBUG);    /* file */
	ck_assert_ptr_nonnull(net_config_usage());
}
END_TEST

/* Applies `text` as a file and returns the error message (test-owned copy) or NULL. */
static char *file_error(const char *text)
{
	struct net_config c;
	net_config_init(&c);
	err *e = net_config_load_text(&c, text, strlen(text), "bad.conf");
	if (!e)
		e = net_config_finish(&c);
	if (!e)
		return NULL;
	ck_assert(err_is(e, ERR_INVALID) || err_is(e, ERR_LIMIT));
	char *msg = strdup(err_msg(e));
	err_free(e);
	ck_assert_ptr_null(strchr(msg, '\n'));
	return msg;
}

static void expect_file_error(const char *text, const char *fragment)
{
	char *msg = file_error(text);
	ck_assert_msg(msg, "no error for: %s", text);
	ck_assert_msg(strstr(msg, fragment), "'%s' lacks '%s'", msg, fragment);
	free(msg);
}

START_TEST(bad_files_are_one_clear_error)
{
	expect_file_error("id = 1\nbogus = 3\n", "bad.conf:2: unknown key 'bogus'");
	expect_file_error("id = 1\njust words\n", "bad.conf:2: expected key = value");
	expect_file_error("id =\n", "bad.conf:1: missing value");
	expect_file_error("= 4\n", "missing key");
	expect_file_error("id = zero\n", "id: 'zero' is not a number");
	expect_file_error("id = 0\n", "node id 0");
	expect_file_error("id = 4294967296\n", "above");
	expect_file_error("id = 1\nfsync = maybe\n", "fsync: 'maybe' is not on or off");
	expect_file_error("id = 1\nlog_level = loud\n", "log_level");
	expect_file_error("id = 1\nsql_listen = 127.0.0.1:70000\n", "above 65535");
	expect_file_error("id = 1\nsql_listen = :80\n", "empty host");
	expect_file_error("id = 1\nraft_listen = host:\n", "missing port");
	expect_file_error("id = 1\npeers = 1=a:1,1=b:2\n", "listed twice");
	expect_file_error("id = 1\npeers = 1=a:1,,2=b:2\n", "empty entry");
	expect_file_error("id = 1\npeers = a:1\n", "not id=host:port");
	expect_file_error("id = 1\npeers = x=a:1\n", "not a number");
	expect_file_error("peers = 1=a:1\n", "node id is not set");
	expect_file_error("id = 1\nsql_listen = 5000\nraft_listen = 5000\n", "both");
	char many[1024] = "id = 1\npeers = ";
	for (int i = 1; i <= NET_TRANSPORT_MAX_NODES + 1; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), "%s%d=h:%d",
		         i > 1 ? "," : "", i, 1000 + i);
	expect_file_error(many, "more than");
	/* as many as Raft counts, but not this node: with it the cluster would be one too many */
	char full[1024] = "id = 1\npeers = ";
	for (int i = 2; i <= NET_TRANSPORT_MAX_NODES + 1; i++)
		snprintf(full + strlen(full), sizeof full - strlen(full), "%s%d=h:%d",
		         i > 2 ? "," : "", i, 1000 + i);
	expect_file_error(full, "a cluster has at most 9");
	char long_line[5000];
	memset(long_line, 'x', sizeof long_line - 1);
	long_line[sizeof long_line - 1] = '\0';
	expect_file_error(long_line, "longer than");
}
END_TEST

START_TEST(bad_flags_are_one_clear_error)
{
	struct {
		int argc;
		char *argv[4];
		const char *fragment;
	} cases[] = {
	    {2, {"cairnd", "stray"}, "unexpected argument 'stray'"},
	    {2, {"cairnd", "--id"}, "'--id' needs a value"},
	    {3, {"cairnd", "--colour", "red"}, "unknown flag '--colour'"},
	    {2, {"cairnd", "--colour"}, "unknown flag '--colour'"},
	    {3, {"cairnd", "--id", "-1"}, "--id: '-1' is not a number"},
	    {3, {"cairnd", "--config", "/nonexistent/cairn.conf"}, "cannot read configuration"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct net_config c;
		net_config_init(&c);
		err *e = net_config_parse_args(&c, cases[i].argc, cases[i].argv);
		ck_assert_msg(e, "case %zu gave no error", i);
		ck_assert_msg(strstr(err_msg(e), cases[i].fragment), "'%s' lacks '%s'", err_msg(e),
		              cases[i].fragment);
		err_free(e);
	}
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	tcase_add_test(tc, a_full_file);
	tcase_add_test(tc, defaults_follow_the_node_id);
	tcase_add_test(tc, flags_override_the_file);
	tcase_add_test(tc, bad_files_are_one_clear_error);
	tcase_add_test(tc, bad_flags_are_one_clear_error);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(config_suite());
}
