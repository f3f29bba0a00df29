#include "net/sock.h"

#include <assert.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

err *net_addr_set(struct net_addr *out, const char *host, uint16_t port)
{
	if (!host)
		host = NET_DEFAULT_HOST;
	size_t len = strlen(host);
	if (len == 0 || len > NET_HOST_MAX)
		return err_new(ERR_INVALID, "host name of %zu bytes", len);
	memcpy(out->host, host, len + 1);
	out->port = port;
	return NULL;
}

static err *net__parse_port(const char *text, uint16_t *port)
{
	if (*text == '\0')
		return err_new(ERR_INVALID, "missing port");
	unsigned long v = 0;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return err_new(ERR_INVALID, "port '%s' is not a number", text);
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return err_new(ERR_INVALID, "port '%s' is above 65535", text);
	}
	*port = (uint16_t)v;
	return NULL;
}

err *net_addr_parse(const char *text, struct net_addr *out)
{
	const char *colon = strrchr(text, ':');
	uint16_t port;
	if (!colon) {
		TRY(net__parse_port(text, &port));
		return net_addr_set(out, NULL, port);
	}
	size_t host_len = (size_t)(colon - text);
	if (host_len == 0)
		return err_new(ERR_INVALID, "address '%s' has an empty host", text);
	if (host_len > NET_HOST_MAX)
		return err_new(ERR_INVALID, "address '%s' has a host name that is too long", text);
	TRY(net__parse_port(colon + 1, &port));
	memcpy(out->host, text, host_len);
	out->host[host_len] = '\0';
	out->port = port;
	return NULL;
}

/* Resolves addr to its first IPv4 or IPv6 socket address. */
static err *net__resolve(const struct net_addr *addr, bool passive, struct addrinfo **out)
{
	char port[8];
	snprintf(port, sizeof port, "%u", addr->port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = passive ? AI_PASSIVE : 0};
	int rc = getaddrinfo(addr->host, port, &hints, out);
	if (rc != 0)
		return err_new(ERR_INVALID, "cannot resolve '%s': %s", addr->host,
		               gai_strerror(rc));
	return NULL;
}

err *net_sock_listen(const struct net_addr *addr, int backlog, int *fd_out)
{
	struct addrinfo *ai;
	TRY(net__resolve(addr, true, &ai));
	err *e = NULL;
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = err_new(ERR_IO, "socket: %s", strerror(errno));
		goto out;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, backlog) != 0) {
		e = err_new(ERR_IO, "cannot listen on %s:%u: %s", addr->host, addr->port,
		            strerror(errno));
		close(fd);
		goto out;
	}
	*fd_out = fd;
out:
	freeaddrinfo(ai);
	return e;
}

err *net_sock_local_port(int fd, uint16_t *port_out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return err_new(ERR_IO, "getsockname: %s", strerror(errno));
	if (ss.ss_family == AF_INET)
		*port_out = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6)
		*port_out = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		return err_new(ERR_INVALID, "socket of family %d has no port", ss.ss_family);
	return NULL;
}

static void net__no_delay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

err *net_sock_connect_start(const struct net_addr *addr, int *fd_out)
{
	struct addrinfo *ai;
	TRY(net__resolve(addr, false, &ai));
	err *e = NULL;
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = err_new(ERR_IO, "socket: %s", strerror(errno));
		goto out;
	}
	net__no_delay(fd);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
		e = err_new(ERR_UNAVAILABLE, "connect to %s:%u: %s", addr->host, addr->port,
		            strerror(errno));
		close(fd);
		goto out;
	}
	*fd_out = fd;
out:
	freeaddrinfo(ai);
	return e;
}

err *net_sock_connect_result(int fd)
{
	int so_error = 0;
	socklen_t len = sizeof so_error;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0)
		return err_new(ERR_IO, "getsockopt: %s", strerror(errno));
	if (so_error != 0)
		return err_new(ERR_UNAVAILABLE, "connect: %s", strerror(so_error));
	return NULL;
}

err *net_sock_accept(int listen_fd, int *fd_out)
{
	*fd_out = -1;
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			net__no_delay(fd);
			*fd_out = fd;
			return NULL;
		}
		switch (errno) {
		case EINTR: continue;
		case EAGAIN:
		case ECONNABORTED:
		case EPROTO: return NULL; /* nobody (still) waiting */
		default: return err_new(ERR_IO, "accept: %s", strerror(errno));
		}
	}
}

void net_sock_peer_name(int fd, char *out, size_t cap)
{
	assert(cap > 0);
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char ip[INET6_ADDRSTRLEN] = "unknown";
	unsigned port = 0;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
			port = ntohs(in->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
			port = ntohs(in6->sin6_port);
		}
	}
	snprintf(out, cap, "%s:%u", ip, port);
}
