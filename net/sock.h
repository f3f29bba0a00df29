/*
 * sock.h — addresses and the few socket calls cairn makes: a listening socket, a
 * non-blocking outgoing connection, accepting, reading the bound port.
 *
 * Addresses are written "host:port" (host a name or an IPv4 address); a bare "port" means
 * 127.0.0.1, the default everywhere, so nothing listens beyond the machine unless asked.
 * Every socket made here is non-blocking and close-on-exec.
 */
#ifndef CAIRN_NET_SOCK_H
#define CAIRN_NET_SOCK_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define NET_HOST_MAX 255
#define NET_DEFAULT_HOST "127.0.0.1"

struct net_addr {
	char host[NET_HOST_MAX + 1];
	uint16_t port;
};

/* Parses "host:port" or "port" into *out; ERR_INVALID with a reason otherwise. */
err *net_addr_parse(const char *text, struct net_addr *out);

/* Sets *out to host and port (host NULL means NET_DEFAULT_HOST). */
err *net_addr_set(struct net_addr *out, const char *host, uint16_t port);

/* Binds and listens on `addr` (port 0 picks a free port); *fd_out is the socket. */
err *net_sock_listen(const struct net_addr *addr, int backlog, int *fd_out);

/* The port a bound socket listens on (what port 0 became). */
err *net_sock_local_port(int fd, uint16_t *port_out);

/*
 * Starts connecting to `addr` without blocking (name resolution may block). *fd_out is
 * the socket; the connection is established when it becomes writable and
 * net_sock_connect_result() says so.
 */
err *net_sock_connect_start(const struct net_addr *addr, int *fd_out);

/* After a connecting socket became writable: NULL if connected, the reason otherwise. */
err *net_sock_connect_result(int fd);

/*
 * Accepts one connection as a non-blocking socket: returns NULL with *fd_out >= 0, or
 * NULL with *fd_out == -1 when nobody is waiting; errors are the listener's failures.
 */
err *net_sock_accept(int listen_fd, int *fd_out);

/* Writes "ip:port" of the socket's peer into out (or "unknown"); always NUL-terminates. */
void net_sock_peer_name(int fd, char *out, size_t cap);

#endif
