#include "init.h"
#include "system.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmdline.h"
#include "util.h"

#define HOSTNAME_ARG "scaibunker.hostname="

/* A mount point sits on another device than its parent (or is the root). */
static int mounted(const char *path)
{
	char parent[64];
	const char *slash = strrchr(path, '/');
	size_t n = slash == path ? 1 : (size_t)(slash - path);
	memcpy(parent, path, n);
	parent[n] = 0;
	struct stat a, b;
	if (stat(path, &a) < 0 || stat(parent, &b) < 0) return 0;
	return a.st_dev != b.st_dev || a.st_ino == b.st_ino;
}

static void mount_fs(const char *type, const char *path, unsigned long flags, const char *data)
{
	if (mounted(path)) return;
	mkdir(path, 0755);
	if (mount(type, path, type, flags, data) < 0) agent_log("mount %s: %s", path, strerror(errno));
}

static void loopback_up(void)
{
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, "lo");
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = fd < 0 ? -1 : ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (rc == 0) {
		ifr.ifr_flags |= IFF_UP; /* the kernel then gives lo 127.0.0.1/8 and ::1 itself */
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	if (rc < 0) agent_log("lo up: %s", strerror(errno));
	if (fd >= 0) close(fd);
}

/*
 * A networked VM's eth0 comes up at boot, with no address yet: bringing a virtio NIC up fills
 * its receive ring, work a template then holds for all its clones, which only set their MAC
 * and address (network.c). An isolated VM has no eth0: nothing to do.
 */
static void eth0_up(void)
{
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, "eth0");
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) return;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) agent_log("eth0 up: %s", strerror(errno));
	}
	close(fd);
}

static void hostname_from_cmdline(void)
{
	char line[CMDLINE_MAX];
	size_t n = 0;
	const char *name = cmdline_read(line, sizeof line) ? cmdline_value(line, HOSTNAME_ARG, &n) : NULL;
	if (name && sethostname(name, n) < 0) agent_log("sethostname: %s", strerror(errno));
}

void init_system(void)
{
	/* noatime: reading a file must not become a journal write (a restored clone's first commands would pay it). */
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_NOATIME, NULL) < 0) agent_log("remount / rw: %s", strerror(errno));
	mount_fs("proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_fs("sysfs", "/sys", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_fs("devtmpfs", "/dev", MS_NOSUID, "mode=0755");
	mount_fs("devpts", "/dev/pts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666");
	mount_fs("tmpfs", "/dev/shm", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_fs("tmpfs", "/run", MS_NOSUID | MS_NODEV, "mode=0755");
	mount_fs("tmpfs", "/tmp", MS_NOSUID | MS_NODEV, "mode=1777");
	/* What shells expect of /dev beyond devtmpfs (bash's <(…) uses /dev/fd). */
	symlink("/proc/self/fd", "/dev/fd");
	symlink("/proc/self/fd/0", "/dev/stdin");
	symlink("/proc/self/fd/1", "/dev/stdout");
	symlink("/proc/self/fd/2", "/dev/stderr");
	loopback_up();
	eth0_up();
	hostname_from_cmdline();
	machine_id_map_init();
}
