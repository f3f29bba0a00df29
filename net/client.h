/*
 * client.h — a blocking client for the SQL port (the REPL, cairn-bench, tests).
 *
 * One client is one connection is one session on the server: a transaction begun with one
 * call stays open for the next. Calls block, each bounded by the client's timeout.
 *
 * Errors are values that say what happened to the connection:
 *   - ERR_UNAVAILABLE: could not connect, or the connection was lost or timed out before
 *     the request was fully sent (the request did not run);
 *   - ERR_UNKNOWN_OUTCOME: the connection was lost or timed out after an EXECUTE request
 *     was sent and before its answer arrived (it may or may not have run);
 *   - ERR_DECODE / ERR_CORRUPT / ERR_LIMIT: the server sent something unreadable.
 * After any of these the client is broken; every later call fails with ERR_UNAVAILABLE.
 * A response of kind ERROR is not a failure of the call: the server answered.
 */
#ifndef CAIRN_NET_CLIENT_H
#define CAIRN_NET_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "net/protocol.h"

#define NET_CLIENT_DEFAULT_TIMEOUT_MS 30000

struct net_client;

/* Connects to host:port (host NULL: 127.0.0.1) within timeout_ms (0: default). */
err *net_client_connect(const char *host, uint16_t port, uint32_t timeout_ms,
                        struct net_client **out);

/* Connects to an address written "host:port" or "port" (sock.h). */
err *net_client_connect_addr(const char *address, uint32_t timeout_ms, struct net_client **out);

/* Sets the bound on each later call (0: wait forever). */
void net_client_set_timeout(struct net_client *c, uint32_t timeout_ms);

/*
 * Sends `req` and waits for its response. On success *resp holds the response: its
 * strings stay valid until the next call or close; release it with net_response_free().
 */
err *net_client_call(struct net_client *c, const struct net_request *req,
                     struct net_response *resp);

/* Shorthand for an EXECUTE request with NUL-terminated SQL. */
err *net_client_execute(struct net_client *c, const char *sql, struct net_response *resp);

/*
 * The two halves of net_client_execute(), for a caller that waits on many connections
 * itself (cairn-bench multiplexes its clients over a few threads, as pgbench does):
 * net_client_send_execute() sends the request (waiting only while the socket's buffer is
 * full), and net_client_poll_response() reads what has arrived without waiting, setting
 * *done once the response is complete (then *resp holds it, as after a call). Between
 * polls, wait for the descriptor (net_client_fd()) to be readable. Errors are those of a
 * call.
 */
int net_client_fd(const struct net_client *c);
err *net_client_send_execute(struct net_client *c, const char *sql);
err *net_client_poll_response(struct net_client *c, struct net_response *resp, bool *done);

/* True until a call failed for a connection reason. */
bool net_client_is_connected(const struct net_client *c);

/*
 * Whether the server has closed the connection while no call was waiting on it (a
 * restarted node closes its old connections): looks without waiting, and marks the
 * client broken if so. A caller can then connect again before sending, instead of
 * learning it from a call that fails.
 */
bool net_client_closed_by_peer(struct net_client *c);

/* Closes the connection (the server ends the session) and frees the client. */
void net_client_close(struct net_client *c);

#endif
