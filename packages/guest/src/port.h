/*
 * The link's file descriptor: the virtio-serial port (PID 1 and --serve), a connection
 * accepted on a vsock port (when the kernel command line asks for it: Firecracker has no
 * virtio-serial; --listen stands a unix socket in for the port), or a unix socket
 * (--connect). It survives the host going away: the port is polled again, or the next
 * connection accepted, until a host is back, and everything the last host had open is ended.
 */
#ifndef SB_PORT_H
#define SB_PORT_H

#include <stdint.h>

#include "pollset.h"

void port_start(const char *connect_path); /* NULL: the virtio port */
/* Listens on VMADDR_CID_ANY:vsock_port, or on unix_path instead when it is not NULL. */
void port_start_listen(uint32_t vsock_port, const char *unix_path);
void port_tick(int64_t now);               /* (re)opens when due */
void port_poll(struct pollset *ps);        /* adds its fds to ps */
void port_events(const struct pollset *ps); /* after poll() on ps */
void port_flush(void);
void port_drain(int ms); /* blocks until the output is sent, at most ms */
int64_t port_deadline(void); /* when port_tick has work, 0 for never */
void port_host_news(void); /* SIGIO: the host may have (re)connected */

#endif
