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

/*
 * Further NICs (a transit bunker's, on L2 bridges; key NICS): "DEV NAME MAC" triples, e.g.
 * "eth1 wan0 02:00:00:00:00:01 eth2 lan0 02:00:00:00:00:02": each is given its MAC, renamed
 * and brought up, with no address (the bridge is L2; the guest's user configures it).
 */
#define NICS_MAX 8
struct nic {
	char dev[16], name[16];
	uint8_t mac[6];
};
const char *nics_parse(const char *text, struct nic out[NICS_MAX], int *count);

#endif
