#include "cmdline.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define SPACE " \t\n"
#define TRANSPORT_ARG "scaibunker.transport="
#define VSOCK_PORT_ARG "scaibunker.vsock_port="
#define VSOCK_PORT_LAST 0xfffffffeu /* 0xffffffff is VMADDR_PORT_ANY */
#define STR(x) STR_(x)
#define STR_(x) #x

bool cmdline_read(char *buf, size_t cap)
{
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, cap - 1);
	if (fd >= 0) close(fd);
	if (n <= 0) return false;
	buf[n] = 0;
	return true;
}

/* The last one wins, as the kernel's own parameters do. */
const char *cmdline_value(const char *line, const char *key, size_t *len)
{
	const char *found = NULL;
	size_t klen = strlen(key);
	for (const char *p = line + strspn(line, SPACE); *p; p += strspn(p, SPACE)) {
		size_t n = strcspn(p, SPACE);
		if (n >= klen && !memcmp(p, key, klen)) {
			found = p + klen;
			*len = n - klen;
		}
		p += n;
	}
	return found;
}

static bool is(const char *v, size_t n, const char *word)
{
	return n == strlen(word) && !memcmp(v, word, n);
}

/* Decimal only, 1 … VSOCK_PORT_LAST; 0 when it is not that. */
static uint32_t parse_port(const char *v, size_t n)
{
	uint64_t port = 0;
	if (n == 0 || n > 10) return 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9') return 0;
		port = port * 10 + (uint64_t)(v[i] - '0');
	}
	return port <= VSOCK_PORT_LAST ? (uint32_t)port : 0;
}

const char *cmdline_transport(const char *line, struct transport *t)
{
	size_t n = 0;
	const char *v = cmdline_value(line, TRANSPORT_ARG, &n);
	t->kind = TRANSPORT_VIRTIO_SERIAL;
	t->vsock_port = VSOCK_PORT_DEFAULT;
	if (!v || is(v, n, "virtio-serial")) return NULL;
	if (!is(v, n, "vsock")) return "unknown " TRANSPORT_ARG "; serving on the virtio-serial port";
	t->kind = TRANSPORT_VSOCK;
	v = cmdline_value(line, VSOCK_PORT_ARG, &n);
	if (!v) return NULL;
	uint32_t port = parse_port(v, n);
	if (!port)
		return "bad " VSOCK_PORT_ARG " (not 1-4294967294); listening on port " STR(VSOCK_PORT_DEFAULT);
	t->vsock_port = port;
	return NULL;
}
