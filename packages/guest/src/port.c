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
 * host is there the port is looked at every RETRY_MS rather than waited on. That is also
 * how soon a returning host (say, after a snapshot restore) is noticed.
 */
#define RETRY_MS 20
#define REOPEN_MS 100

static enum { CLOSED, UP, AWAY } state = CLOSED;
static int fd = -1;
static int64_t retry_at;
static const char *socket_path;
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
	}
	if (d) closedir(d);
	return found;
}

static int open_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
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

void port_tick(int64_t now)
{
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

/* The host closed its end (EOF or hang-up). */
static void host_gone(void)
{
	if (socket_path) { /* --connect: the test that started us is over */
		streams_abort_all();
		exit(0);
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
	streams_abort_all();
	link_reset();
	close(fd);
	fd = -1;
	state = CLOSED;
	retry_at = mono_ms() + REOPEN_MS;
}

int port_poll(struct pollset *ps)
{
	if (state != UP) return -1;
	const uint8_t *out;
	size_t space;
	link_in_space(&space);
	short events = (short)((space ? POLLIN : 0) | (link_out_pending(&out) ? POLLOUT : 0));
	pollset_add(ps, fd, events, NULL, 0);
	return ps->n - 1;
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

void port_events(short revents)
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
	} else if (n == 0) {
		host_gone();
	} else if (errno != EAGAIN && errno != EINTR) {
		port_failed(errno);
	} else if (revents & (POLLHUP | POLLERR)) {
		host_gone();
	}
}

void port_drain(int ms)
{
	const uint8_t *p;
	for (int64_t end = mono_ms() + ms; state == UP && link_out_pending(&p) && mono_ms() < end;) {
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		if (poll(&pfd, 1, 50) > 0) port_flush();
	}
}

int64_t port_deadline(void) { return state == UP ? 0 : retry_at; }
