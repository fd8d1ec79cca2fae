/*
 * The guest's network settings, as the host sends them in `identity` (key NET): one line,
 *   "MAC ADDRESS/PREFIX GATEWAY RESOLVER"   e.g. "52:54:00:0a:00:02 100.96.0.2/30 100.96.0.1 100.96.0.1"
 * Parsing is pure (unit-tested, fuzzed); network.c applies it.
 */
#ifndef SB_NETCONF_H
#define SB_NETCONF_H

#include <netinet/in.h>
#include <stdint.h>

struct netconf {
	uint8_t mac[6];
	struct in_addr address, netmask, gateway, resolver;
	unsigned prefix;
};

/* Fills *out from text; returns NULL, or what is wrong with it. */
const char *netconf_parse(const char *text, struct netconf *out);

#endif
