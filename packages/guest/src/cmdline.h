/*
 * The agent's settings on the kernel command line: scaibunker.hostname=, and which link it
 * serves on (scaibunker.transport=virtio-serial|vsock, scaibunker.vsock_port=N).
 */
#ifndef SB_CMDLINE_H
#define SB_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMDLINE_MAX 4096 /* x86's COMMAND_LINE_SIZE is 2048 */
#define VSOCK_PORT_DEFAULT 1024

enum transport_kind { TRANSPORT_VIRTIO_SERIAL, TRANSPORT_VSOCK };

struct transport {
	enum transport_kind kind;
	uint32_t vsock_port; /* TRANSPORT_VSOCK only */
};

/* Reads /proc/cmdline into buf (NUL-terminated); false when it cannot. */
bool cmdline_read(char *buf, size_t cap);

/* The value of the last `key` token (key ends in '='), *len bytes long; NULL when absent. */
const char *cmdline_value(const char *line, const char *key, size_t *len);

/*
 * The link the command line asks for, the virtio-serial port by default. Returns NULL, or
 * what was wrong with it for the log (the default is then used for that setting).
 */
const char *cmdline_transport(const char *line, struct transport *t);

#endif
