/*
 * The link's file descriptor: the virtio-serial port (PID 1 and --serve) or a unix socket
 * (--connect). It survives the host going away: the port is polled again until a host is
 * back, and everything the last host had open is ended.
 */
#ifndef SB_PORT_H
#define SB_PORT_H

#include <stdint.h>

#include "pollset.h"

void port_start(const char *connect_path); /* NULL: the virtio port */
void port_tick(int64_t now);               /* (re)opens when due */
int port_poll(struct pollset *ps);         /* its index in ps, or -1 */
void port_events(short revents);
void port_flush(void);
void port_drain(int ms); /* blocks until the output is sent, at most ms */
int64_t port_deadline(void); /* when port_tick has work, 0 for never */

#endif
