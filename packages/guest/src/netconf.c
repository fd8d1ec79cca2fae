#include "netconf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static int parse_mac(const char *text, uint8_t mac[6])
{
	unsigned b[6];
	char tail;
	if (strlen(text) != 17 || sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return 0;
	for (int i = 0; i < 6; i++) mac[i] = (uint8_t)b[i];
	/* A unicast address: the multicast bit set would make the NIC refuse it. */
	return !(mac[0] & 1);
}

static int ifname_ok(const char *name)
{
	size_t n = strlen(name);
	if (n < 1 || n > 15 || name[0] < 'a' || name[0] > 'z') return 0;
	for (size_t i = 1; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9'))) return 0;
	return 1;
}

const char *nics_parse(const char *text, struct nic out[NICS_MAX], int *count)
{
	*count = 0;
	const char *at = text;
	for (;;) {
		char dev[17], name[17], mac[19];
		int used = 0;
		while (*at == ' ') at++;
		if (!*at) break;
		if (*count == NICS_MAX) return "NICS names at most 8 interfaces";
		if (sscanf(at, "%16s %16s %18s%n", dev, name, mac, &used) != 3) return "NICS is \"DEV NAME MAC\" triples";
		at += used;
		struct nic *nic = &out[*count];
		if (!ifname_ok(dev) || !ifname_ok(name)) return "NICS names are a letter, then letters and digits, 15 at most";
		if (!strcmp(dev, "eth0") || !strcmp(name, "eth0") || !strcmp(name, "lo")) return "NICS cannot rename eth0 or use lo";
		if (!parse_mac(mac, nic->mac)) return "NICS has no unicast MAC address";
		for (int i = 0; i < *count; i++)
			if (!strcmp(out[i].dev, dev) || !strcmp(out[i].name, name)) return "NICS names each device and name once";
		strcpy(nic->dev, dev);
		strcpy(nic->name, name);
		(*count)++;
	}
	return NULL;
}

const char *netconf_parse(const char *text, struct netconf *out)
{
	char mac[18], cidr[19], gateway[16], resolver[16], extra;
	memset(out, 0, sizeof *out);
	if (strlen(text) > 80 || sscanf(text, "%17s %18s %15s %15s %c", mac, cidr, gateway, resolver, &extra) != 4)
		return "NET is \"MAC ADDRESS/PREFIX GATEWAY RESOLVER\"";
	if (!parse_mac(mac, out->mac)) return "NET has no unicast MAC address";
	char *slash = strchr(cidr, '/');
	unsigned prefix;
	char tail;
	if (!slash || sscanf(slash + 1, "%u%c", &prefix, &tail) != 1 || prefix < 1 || prefix > 30)
		return "NET address needs a /1 to /30 prefix";
	*slash = 0;
	if (inet_pton(AF_INET, cidr, &out->address) != 1 || inet_pton(AF_INET, gateway, &out->gateway) != 1 ||
	    inet_pton(AF_INET, resolver, &out->resolver) != 1)
		return "NET addresses are dotted IPv4";
	out->prefix = prefix;
	out->netmask.s_addr = htonl(~(uint32_t)0 << (32 - prefix));
	if ((out->address.s_addr & out->netmask.s_addr) != (out->gateway.s_addr & out->netmask.s_addr))
		return "NET gateway is outside the address's subnet";
	return NULL;
}
