/*
 * Applies the host's network settings to eth0 (the one NIC of a networked bunker): its MAC
 * (a clone of a template would otherwise keep the template's), address, default route and
 * resolver. Plain ioctls: the agent runs in images with no `ip` binary.
 */
#include "network.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define NIC "eth0"

static int set_addr(int fd, unsigned long request, struct in_addr addr)
{
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, NIC);
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	sin->sin_addr = addr;
	return ioctl(fd, request, &ifr);
}

static int set_up(int fd, const char *dev, int up)
{
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, dev);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) return -1;
	if (up) ifr.ifr_flags |= IFF_UP;
	else ifr.ifr_flags &= ~IFF_UP;
	return ioctl(fd, SIOCSIFFLAGS, &ifr);
}

static int set_mac(int fd, const char *dev, const uint8_t mac[6])
{
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, dev);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	return ioctl(fd, SIOCSIFHWADDR, &ifr);
}

static int add_default_route(int fd, struct in_addr gateway)
{
	struct rtentry rt = {0};
	struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst, *mask = (struct sockaddr_in *)&rt.rt_genmask,
			   *gw = (struct sockaddr_in *)&rt.rt_gateway;
	dst->sin_family = mask->sin_family = gw->sin_family = AF_INET;
	gw->sin_addr = gateway;
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = (char *)NIC;
	return ioctl(fd, SIOCADDRT, &rt) < 0 && errno != EEXIST ? -1 : 0;
}

/*
 * /etc/resolv.conf names only the host's resolver (an image's may be a link into /run: replaced).
 * Left alone when it says so already: a template's clones find it written (the resolver is the
 * same for every guest), and creating a file is ~20 ms of a restored TCG guest's first use.
 */
static int write_resolv_conf(struct in_addr resolver)
{
	char text[64], current[64];
	int n = snprintf(text, sizeof text, "nameserver %s\n", inet_ntoa(resolver));
	int existing = open("/etc/resolv.conf", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (existing >= 0) {
		ssize_t got = read(existing, current, sizeof current);
		close(existing);
		if (got == n && !memcmp(current, text, (size_t)n)) return 0;
	}
	int fd = open("/etc/resolv.conf.scaibunker", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) return -1;
	int ok = write(fd, text, (size_t)n) == n;
	close(fd);
	if (!ok || rename("/etc/resolv.conf.scaibunker", "/etc/resolv.conf") < 0) {
		unlink("/etc/resolv.conf.scaibunker");
		if (ok) return -1;
		errno = EIO;
		return -1;
	}
	return 0;
}

const char *network_apply(const struct netconf *nc)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) return "socket";
	const char *failed = NULL;
	/*
	 * eth0 is up since boot (init.c), with no address: virtio-net takes a new MAC while up (the
	 * ring it filled stays). A NIC that refuses is taken down for it and brought up again.
	 */
	if (set_mac(fd, NIC, nc->mac) < 0 && (errno != EBUSY || set_up(fd, NIC, 0) < 0 || set_mac(fd, NIC, nc->mac) < 0)) failed = "set the MAC";
	else if (set_addr(fd, SIOCSIFADDR, nc->address) < 0) failed = "set the address";
	else if (set_addr(fd, SIOCSIFNETMASK, nc->netmask) < 0) failed = "set the netmask";
	else if (set_up(fd, NIC, 1) < 0) failed = "eth0 up";
	else if (add_default_route(fd, nc->gateway) < 0) failed = "add the default route";
	else if (write_resolv_conf(nc->resolver) < 0) failed = "write /etc/resolv.conf";
	int err = errno;
	close(fd);
	errno = err;
	return failed;
}

static int rename_nic(int fd, const char *dev, const char *name)
{
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, dev);
	strcpy(ifr.ifr_newname, name);
	return ioctl(fd, SIOCSIFNAME, &ifr);
}

const char *nics_apply(const struct nic *nics, int count)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) return "socket";
	const char *failed = NULL;
	char interim[NICS_MAX][16];
	/* Through interim names first: a wanted name may be another NIC's current one (eth2 ↔ eth1). */
	for (int i = 0; i < count && !failed; i++) {
		snprintf(interim[i], sizeof interim[i], "sbnic%d", i);
		if (set_up(fd, nics[i].dev, 0) < 0) failed = "NIC down";
		else if (set_mac(fd, nics[i].dev, nics[i].mac) < 0) failed = "set a NIC's MAC";
		else if (rename_nic(fd, nics[i].dev, interim[i]) < 0) failed = "rename a NIC";
	}
	for (int i = 0; i < count && !failed; i++) {
		if (rename_nic(fd, interim[i], nics[i].name) < 0) failed = "rename a NIC";
		else if (set_up(fd, nics[i].name, 1) < 0) failed = "NIC up";
	}
	int err = errno;
	close(fd);
	errno = err;
	return failed;
}
