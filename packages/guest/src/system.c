#include "system.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "effects.h"
#include "netconf.h"
#include "network.h"
#include "ops.h"
#include "util.h"

/* From linux/fs.h and linux/random.h, which musl does not ship. */
#define FIFREEZE _IOWR('X', 119, int)
#define FITHAW _IOWR('X', 120, int)
#define RNDADDENTROPY _IOW('R', 0x03, int[2])
#define RNDRESEEDCRNG _IO('R', 0x07)

bool agent_host_test;
bool agent_shutdown_requested;

/* ---- ping --------------------------------------------------------------------------- */

static uint64_t meminfo_kib(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

void op_ping(struct stream *s, const struct request *r)
{
	(void)r;
	char text[4096] = "";
	int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, text, sizeof text - 1);
		text[n > 0 ? n : 0] = 0;
		close(fd);
	}
	struct tlv_writer w;
	stream_reply_begin(&w);
	tlvw_u64(&w, K_UPTIME_MS, uptime_ms());
	tlvw_u64(&w, K_MEM_TOTAL_KIB, meminfo_kib(text, "MemTotal:"));
	tlvw_u64(&w, K_MEM_AVAILABLE_KIB, meminfo_kib(text, "MemAvailable:"));
	stream_done(s, &w);
}

/* ---- freeze, thaw ------------------------------------------------------------------- */

static int root_ioctl(unsigned long req)
{
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) return -1;
	int arg = 0;
	int rc = ioctl(fd, req, &arg);
	int err = errno;
	close(fd);
	errno = err;
	return rc;
}

void op_freeze(struct stream *s, const struct request *r)
{
	(void)r;
	if (!agent_frozen && !agent_host_test) {
		sync();
		if (root_ioctl(FIFREEZE) < 0 && errno != EBUSY) { /* EBUSY: frozen already */
			stream_fail_errno(s, errno, "freeze /");
			return;
		}
	}
	agent_frozen = true;
	stream_done_empty(s);
}

void op_thaw(struct stream *s, const struct request *r)
{
	(void)r;
	if (!agent_host_test && root_ioctl(FITHAW) < 0 && errno != EINVAL) { /* EINVAL: not frozen */
		stream_fail_errno(s, errno, "thaw /");
		return;
	}
	agent_frozen = false;
	stream_done_empty(s);
}

/* ---- growfs ------------------------------------------------------------------------ */

/* From linux/ext4.h (not in musl's headers): grow a mounted ext4 to this many blocks. */
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)
#ifndef BLKGETSIZE64
#define BLKGETSIZE64 _IOR(0x12, 114, size_t)
#endif
/* The worker boots every guest with root=/dev/vda. */
#define ROOT_DEVICE "/dev/vda"

/*
 * Grows the root ext4 online to fill its disk. The worker gives each VM a disk as large as
 * its disk_mb; images are baked small, so this is how a bunker gets the space it pays for.
 */
void op_growfs(struct stream *s, const struct request *r)
{
	(void)r;
	uint64_t device_bytes = 0;
	struct statvfs vfs;
	if (agent_host_test) {
		stream_done_empty(s);
		return;
	}
	int dev = open(ROOT_DEVICE, O_RDONLY | O_CLOEXEC);
	if (dev < 0 || ioctl(dev, BLKGETSIZE64, &device_bytes) < 0) {
		int err = errno;
		if (dev >= 0) close(dev);
		stream_fail_errno(s, err, "size of " ROOT_DEVICE);
		return;
	}
	close(dev);
	int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0 || fstatvfs(root, &vfs) < 0 || vfs.f_frsize == 0) {
		int err = errno;
		if (root >= 0) close(root);
		stream_fail_errno(s, err, "statvfs /");
		return;
	}
	uint64_t blocks = device_bytes / vfs.f_frsize;
	/* Already that size (or larger): nothing to do, and the kernel would refuse a shrink. */
	if (blocks > vfs.f_blocks && ioctl(root, EXT4_IOC_RESIZE_FS, &blocks) < 0) {
		int err = errno;
		close(root);
		stream_fail_errno(s, err, "resize /");
		return;
	}
	close(root);
	struct tlv_writer w;
	stream_reply_begin(&w);
	tlvw_u64(&w, K_SIZE, (blocks > vfs.f_blocks ? blocks : vfs.f_blocks) * vfs.f_frsize);
	stream_done(s, &w);
}

/* ---- identity ----------------------------------------------------------------------- */

/*
 * The machine id lives in /run/machine-id (tmpfs; images link /etc/machine-id to it), mapped
 * shared at start, so a clone's new id is a memory write: the open/create/write path of a
 * file is ~15-27 ms the first time a restored TCG guest takes it.
 */
#define MACHINE_ID_FILE "/run/machine-id"
#define MACHINE_ID_LEN 33 /* 32 hex digits and a newline */
static char *machine_id_map;

void machine_id_map_init(void)
{
	int fd = open(MACHINE_ID_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);
	if (fd < 0 || ftruncate(fd, MACHINE_ID_LEN) < 0) {
		agent_log("machine-id: %s", strerror(errno));
	} else {
		void *map = mmap(NULL, MACHINE_ID_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED) agent_log("machine-id: mmap: %s", strerror(errno));
		else machine_id_map = map;
	}
	if (fd >= 0) close(fd);
}

static void write_machine_id(const char *id)
{
	char line[MACHINE_ID_LEN];
	for (int i = 0; i < 32; i++) line[i] = (char)(id[i] >= 'A' && id[i] <= 'F' ? id[i] + 32 : id[i]);
	line[32] = '\n';
	if (machine_id_map) {
		memcpy(machine_id_map, line, sizeof line);
		return;
	}
	/* Not PID 1 (beside another init): the image's own file, if writable. */
	int fd = open("/etc/machine-id", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444);
	if (fd < 0) return;
	if (write(fd, line, sizeof line) != (ssize_t)sizeof line) agent_log("machine-id: short write");
	close(fd);
}

static int add_entropy(const uint8_t *p, size_t n)
{
	struct {
		int entropy_count; /* bits credited */
		int buf_size;
		uint32_t buf[ENTROPY_MAX / 4];
	} info = {.entropy_count = (int)n * 8, .buf_size = (int)n};
	memcpy(info.buf, p, n);
	int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
	if (fd < 0) return -1;
	int rc = ioctl(fd, RNDADDENTROPY, &info);
	/*
	 * Mixing entropy in is not enough after a snapshot restore: the kernel reseeds its crng
	 * from the pool only every minute, so clones of one template would keep producing the
	 * same random bytes until then. Reseed now (microvm has no vmgenid to trigger it).
	 */
	if (rc == 0) rc = ioctl(fd, RNDRESEEDCRNG);
	int err = errno;
	close(fd);
	errno = err;
	return rc;
}

static int set_clock(uint64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
	return clock_settime(CLOCK_REALTIME, &ts);
}

void op_identity(struct stream *s, const struct request *r)
{
	if (!agent_host_test) {
		if (HAS(r, K_HOSTNAME) && sethostname(r->hostname, strlen(r->hostname)) < 0) {
			stream_fail_errno(s, errno, "sethostname");
			return;
		}
		if (HAS(r, K_MACHINE_ID) && (machine_id_map || !agent_frozen)) write_machine_id(r->machine_id);
		if (HAS(r, K_ENTROPY) && r->entropy_len && add_entropy(r->entropy, r->entropy_len) < 0) {
			stream_fail_errno(s, errno, "add entropy");
			return;
		}
		if (HAS(r, K_TIME_MS) && set_clock(r->time_ms) < 0) {
			stream_fail_errno(s, errno, "set the clock");
			return;
		}
		struct netconf nc;
		const char *failed;
		if (HAS(r, K_NET) && !netconf_parse(r->net, &nc) && (failed = network_apply(&nc))) {
			stream_fail_errno(s, errno, "%s", failed);
			return;
		}
		struct nic nics[NICS_MAX];
		int count;
		if (HAS(r, K_NICS) && !nics_parse(r->nics, nics, &count) && (failed = nics_apply(nics, count))) {
			stream_fail_errno(s, errno, "%s", failed);
			return;
		}
	}
	agent_sealed = false;
	stream_done_empty(s);
}

/* ---- shutdown ----------------------------------------------------------------------- */

void op_shutdown(struct stream *s, const struct request *r)
{
	(void)r;
	stream_done_empty(s);
	agent_shutdown_requested = true;
}

/*
 * Waits up to ms, reaping. As PID 1 every process is ours (orphans are reparented to us),
 * so no child left means none at all; beside another init there is no such sign, and the
 * whole grace is given. (kill(-1, 0) cannot tell: kernel threads always answer it.)
 */
static void settle(int ms)
{
	for (int64_t end = mono_ms() + ms; mono_ms() < end;) {
		pid_t pid;
		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) continue;
		if (pid < 0 && errno == ECHILD && getpid() == 1) return;
		usleep(20000);
	}
}

void system_shutdown(void)
{
	streams_abort_all(); /* kills the execs' process groups, removes partial uploads */
	if (agent_host_test) exit(0);
	if (agent_frozen) root_ioctl(FITHAW);
	sync();
	kill(-1, SIGTERM);
	settle(2000);
	kill(-1, SIGKILL);
	settle(1000);
	sync();
	mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL);
	reboot(RB_AUTOBOOT);
	agent_log("reboot: %s", strerror(errno));
}
