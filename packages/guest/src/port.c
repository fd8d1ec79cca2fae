#include "port.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "link.h"
#include "streams.h"
#include "util.h"

/*
 * A virtio-serial port whose host side is closed polls as POLLHUP at once, so while no
 * host is there the port cannot be waited on with poll(). The port is opened with O_ASYNC
 * instead: the kernel sends SIGIO when the host connects (VIRTIO_CONSOLE_PORT_OPEN), which
 * the signalfd turns into an immediate look (port_host_news). A returning host, say after a
 * snapshot restore, is noticed at once rather than at the next retry; RETRY_MS is only the
 * fallback should a signal ever be missed, and keeps an idle guest from waking 50 times a second.
 */
#define RETRY_MS 1000
#define REOPEN_MS 100

/* From linux/vm_sockets.h, which musl does not ship. */
struct sockaddr_vm {
	sa_family_t svm_family;
	unsigned short svm_reserved1;
	unsigned int svm_port;
	unsigned int svm_cid;
	unsigned char svm_zero[sizeof(struct sockaddr) - sizeof(sa_family_t) - sizeof(unsigned short) -
			       2 * sizeof(unsigned int)];
};
#define VMADDR_CID_ANY 0xffffffffu

static enum { CLOSED, UP, AWAY } state = CLOSED;
static int fd = -1;
static int64_t retry_at;
static const char *socket_path;
static bool vsock; /* serve connections accepted on listen_fd instead of the virtio port */
static uint32_t vsock_port;
static const char *listen_path; /* --listen: a unix socket in place of the vsock port */
static int listen_fd = -1;
static int link_at = -1, listen_at = -1; /* their indices in the last pollset */
static bool told_missing, told_failed; /* the console hears of each once */

static int open_virtio(void)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *e;
	int found = -1;
	while (d && found < 0 && (e = readdir(d))) {
		char path[300], name[64] = "";
		snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
		int nf = open(path, O_RDONLY | O_CLOEXEC);
		if (nf < 0) continue;
		ssize_t n = read(nf, name, sizeof name - 1);
		close(nf);
		name[n > 0 ? n : 0] = 0;
		name[strcspn(name, "\n")] = 0;
		if (strcmp(name, PORT_NAME)) continue;
		snprintf(path, sizeof path, "/dev/%s", e->d_name);
		found = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (found < 0) agent_log("open %s: %s", path, strerror(errno));
		/* SIGIO on the host's (re)connection: see RETRY_MS. */
		else if (fcntl(found, F_SETOWN, getpid()) < 0 || fcntl(found, F_SETFL, O_NONBLOCK | O_ASYNC) < 0)
			agent_log("O_ASYNC on %s: %s; polling every %d ms", path, strerror(errno), RETRY_MS);
	}
	if (d) closedir(d);
	return found;
}

static bool unix_address(struct sockaddr_un *sa, const char *path)
{
	*sa = (struct sockaddr_un){.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa->sun_path) {
		errno = ENAMETOOLONG;
		return false;
	}
	strcpy(sa->sun_path, path);
	return true;
}

static int open_socket(const char *path)
{
	struct sockaddr_un sa;
	if (!unix_address(&sa, path)) return -1;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) return -1;
	if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0 || fcntl(s, F_SETFL, O_NONBLOCK) < 0) {
		int err = errno;
		close(s);
		errno = err;
		return -1;
	}
	return s;
}

/* The vsock port (any CID: a restored snapshot may have another), or --listen's socket. */
static int listen_socket(void)
{
	struct sockaddr_vm vm = {.svm_family = AF_VSOCK, .svm_port = vsock_port};
	vm.svm_cid = VMADDR_CID_ANY;
	struct sockaddr_un un;
	struct sockaddr *sa = (struct sockaddr *)&vm;
	socklen_t len = sizeof vm;
	if (listen_path) {
		if (!unix_address(&un, listen_path)) return -1;
		unlink(listen_path); /* an earlier listener's */
		sa = (struct sockaddr *)&un;
		len = sizeof un;
	}
	int s = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0) return -1;
	if (bind(s, sa, len) < 0 || listen(s, 4) < 0) {
		int err = errno;
		close(s);
		errno = err;
		return -1;
	}
	return s;
}

/* A clean slate for whoever is at the other end next: nothing of the last host survives. */
static void new_session(void)
{
	streams_abort_all();
	link_reset();
	link_send_hello();
}

void port_start(const char *connect_path)
{
	socket_path = connect_path;
	port_tick(mono_ms());
}

void port_start_listen(uint32_t port, const char *unix_path)
{
	vsock = true;
	vsock_port = port;
	listen_path = unix_path;
	port_tick(mono_ms());
}

/* vsock: the listening socket is made once (again only if it fails); hosts come by accept. */
static void listen_tick(int64_t now)
{
	listen_fd = listen_socket();
	if (listen_fd >= 0) {
		told_missing = false;
		retry_at = 0;
		return;
	}
	if (!told_missing) agent_log("listen: %s; retrying", strerror(errno));
	told_missing = true;
	retry_at = now + REOPEN_MS;
}

void port_tick(int64_t now)
{
	if (vsock) { /* a link may be up while the listening socket is made again */
		if (listen_fd < 0 && now >= retry_at) listen_tick(now);
		return;
	}
	if (state == UP || now < retry_at) return;
	if (state == AWAY) {
		state = UP; /* look again: is a host there now? */
		return;
	}
	fd = socket_path ? open_socket(socket_path) : open_virtio();
	if (fd >= 0) {
		told_missing = false;
		new_session();
		state = UP;
		return;
	}
	if (socket_path) {
		agent_log("connect %s: %s", socket_path, strerror(errno));
		exit(1);
	}
	if (!told_missing) agent_log("waiting for the virtio port %s", PORT_NAME);
	told_missing = true;
	retry_at = now + REOPEN_MS;
}

static void close_link(void)
{
	streams_abort_all();
	link_reset();
	close(fd);
	fd = -1;
	state = CLOSED;
}

/* The host closed its end (EOF or hang-up). */
static void host_gone(void)
{
	if (socket_path) { /* --connect: the test that started us is over */
		streams_abort_all();
		exit(0);
	}
	if (vsock) { /* a vsock connection never comes back; the next one is accepted */
		close_link();
		return;
	}
	new_session();
	state = AWAY;
	retry_at = mono_ms() + RETRY_MS;
}

/* The device failed: close it and find it again. */
static void port_failed(int err)
{
	if (!told_failed) agent_log("link: %s; reopening", strerror(err));
	told_failed = true;
	close_link();
	retry_at = mono_ms() + REOPEN_MS;
}

/* A new host replaces the old one, as a reopened virtio port does. */
static void accept_host(short revents)
{
	int c = revents & POLLIN ? accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC) : -1;
	if (c >= 0) {
		if (fd >= 0) close_link();
		fd = c;
		told_failed = false;
		new_session();
		state = UP;
		return;
	}
	if (revents & POLLIN && (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)) return;
	/* Anything else would wake every poll() at once: start over with a new socket. */
	const char *why = revents & POLLIN ? strerror(errno) : "socket error";
	if (!told_failed) agent_log("accept: %s; listening again", why);
	told_failed = true;
	close(listen_fd);
	listen_fd = -1;
	retry_at = mono_ms() + REOPEN_MS;
}

void port_poll(struct pollset *ps)
{
	link_at = listen_at = -1;
	if (listen_fd >= 0) {
		pollset_add(ps, listen_fd, POLLIN, NULL, 0);
		listen_at = ps->n - 1;
	}
	if (state != UP) return;
	const uint8_t *out;
	size_t space;
	link_in_space(&space);
	short events = (short)((space ? POLLIN : 0) | (link_out_pending(&out) ? POLLOUT : 0));
	pollset_add(ps, fd, events, NULL, 0);
	link_at = ps->n - 1;
}

void port_flush(void)
{
	const uint8_t *p;
	size_t n;
	while (state == UP && (n = link_out_pending(&p))) {
		ssize_t w = write(fd, p, n);
		if (w > 0) {
			link_out_consume((size_t)w);
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w == 0 || errno == EAGAIN) {
			return;
		} else if (errno == EPIPE || errno == ECONNRESET) {
			host_gone();
		} else {
			port_failed(errno);
		}
	}
}

static void link_events(short revents)
{
	if (revents & POLLOUT) port_flush();
	if (state != UP || !(revents & (POLLIN | POLLHUP | POLLERR))) return;
	size_t space;
	uint8_t *p = link_in_space(&space);
	if (!space) { /* input is full (it is not polled for), but a hang-up is news */
		if (revents & (POLLHUP | POLLERR)) host_gone();
		return;
	}
	ssize_t n = read(fd, p, space);
	if (n > 0) {
		link_in_commit((size_t)n);
		told_failed = false;
	} else if (n == 0 || errno == ECONNRESET) {
		host_gone();
	} else if (errno != EAGAIN && errno != EINTR) {
		port_failed(errno);
	} else if (revents & (POLLHUP | POLLERR)) {
		host_gone();
	}
}

void port_events(const struct pollset *ps)
{
	/* The link first: its revents belong to the fd polled, which an accept replaces. */
	if (link_at >= 0 && ps->fd[link_at].revents) link_events(ps->fd[link_at].revents);
	if (listen_at >= 0 && ps->fd[listen_at].revents) accept_host(ps->fd[listen_at].revents);
}

void port_drain(int ms)
{
	const uint8_t *p;
	for (int64_t end = mono_ms() + ms; state == UP && link_out_pending(&p) && mono_ms() < end;) {
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		if (poll(&pfd, 1, 50) > 0) port_flush();
	}
}

void port_host_news(void)
{
	if (state == AWAY) retry_at = 0; /* look now */
}

int64_t port_deadline(void)
{
	if (vsock) return listen_fd < 0 ? retry_at : 0;
	return state == UP ? 0 : retry_at;
}
