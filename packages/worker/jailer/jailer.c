/*
 * scaibunker-jailer: starts one VMM process in its own jail, the way Firecracker's jailer
 * does, then execs it (same pid, so the caller's pid and cgroup bookkeeping stay right).
 *
 *   scaibunker-jailer --root DIR --uid N --gid N [--cgroup-procs FILE]...
 *                     [--netns PATH [--tap [NSPATH:]NAME]...] [--ro PATH]... [--rw PATH]... [--dev PATH]... [--cwd DIR]
 *                     -- PROGRAM [ARG]...
 *
 * In order: joins the given cgroups (before the VMM allocates anything), joins the network
 * namespace at PATH (a bunker's, holding its tap devices; without it the VMM shares the
 * host's, where an isolated VM has no device to use anyway) and opens each --tap there (or in
 * the namespace at NSPATH: a transit bridge's), as fds 10, 11, … of the VMM (it never opens
 * /dev/net/tun itself), enters a private
 * mount namespace, mounts a small tmpfs on DIR and recreates inside it, at their host paths,
 * only what is named: --ro read-only binds (system directories, the kernel, shared base
 * disks), --rw binds (the VM's own work directory), --dev device nodes. A host path that is
 * a symlink (Debian's /lib -> usr/lib) is recreated as the same symlink. Then it makes the
 * tmpfs read-only, chroots into it, drops every group and to the given uid/gid, sets
 * no_new_privs, and execs PROGRAM. Paths keep their host names, so the VMM's command line
 * needs no rewriting, yet another VM's disk, sockets or state simply do not exist in here.
 *
 * Exit status 126 and a message naming the step on stderr when any step fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PATHS 64
#define MAX_TAPS 9 /* eth0 and up to 8 transit interfaces */
#define FIRST_TAP_FD 10

enum bind_kind { BIND_RO, BIND_RW, BIND_DEV };

struct bind {
	const char *path;
	enum bind_kind kind;
};

static _Noreturn void fail(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;
	fputs("scaibunker-jailer: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (saved)
		fprintf(stderr, ": %s", strerror(saved));
	fputc('\n', stderr);
	exit(126);
}

static unsigned parse_id(const char *text, const char *what)
{
	char *end;
	errno = 0;
	unsigned long value = strtoul(text, &end, 10);
	/* Never run a VMM as root (0) by a typo: the whole point is an unprivileged id. */
	if (errno || *end || end == text || value == 0 || value > 0xfffffffeUL)
		fail("%s must be a positive id, got '%s'", what, text);
	return (unsigned)value;
}

static int has_dot_dot(const char *path)
{
	for (const char *p = path; (p = strstr(p, "/..")); p += 3)
		if (p[3] == '/' || p[3] == '\0')
			return 1;
	return 0;
}

/* "root" + "/abs/path", refusing relative paths and anything that could climb out. */
static void jail_path(char *out, const char *root, const char *path)
{
	if (path[0] != '/' || has_dot_dot(path))
		fail("path must be absolute and plain: '%s'", path);
	if (snprintf(out, PATH_MAX, "%s%s", root, path) >= PATH_MAX)
		fail("path too long: '%s'", path);
}

/* mkdir -p of every parent of `path` (which lies inside the fresh tmpfs). */
static void make_parents(char *path, size_t root_len)
{
	for (char *p = path + root_len + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			fail("mkdir %s", path);
		*p = '/';
	}
	errno = 0;
}

static void add_bind(const char *root, const struct bind *bind)
{
	char target[PATH_MAX];
	struct stat st;
	jail_path(target, root, bind->path);
	make_parents(target, strlen(root));
	if (lstat(bind->path, &st) != 0)
		fail("lstat %s", bind->path);
	if (S_ISLNK(st.st_mode)) {
		char link[PATH_MAX];
		ssize_t n = readlink(bind->path, link, sizeof link - 1);
		if (n < 0)
			fail("readlink %s", bind->path);
		link[n] = '\0';
		if (symlink(link, target) != 0 && errno != EEXIST)
			fail("symlink %s", target);
		errno = 0;
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		if (mkdir(target, 0755) != 0 && errno != EEXIST)
			fail("mkdir %s", target);
	} else {
		int fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
		if (fd < 0)
			fail("create %s", target);
		close(fd);
	}
	errno = 0;
	if (mount(bind->path, target, NULL, MS_BIND | MS_REC, NULL) != 0)
		fail("bind %s", bind->path);
	unsigned long flags = MS_BIND | MS_REMOUNT | MS_NOSUID;
	if (bind->kind == BIND_RO)
		flags |= MS_RDONLY | MS_NODEV;
	if (bind->kind == BIND_RW)
		flags |= MS_NODEV;
	if (mount(NULL, target, NULL, flags, NULL) != 0)
		fail("remount %s", bind->path);
}

/* Attaches to an existing tap device of the current network namespace, as fd `target`. */
static void open_tap(const char *name, int target)
{
	struct ifreq ifr = {0};
	if (strlen(name) >= IFNAMSIZ)
		fail("tap name too long: '%s'", name);
	strcpy(ifr.ifr_name, name);
	/* With virtio-net headers: the VMM hands the guest's offloads (checksum, TSO) to the host. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	int fd = open("/dev/net/tun", O_RDWR);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) != 0)
		fail("open tap %s", name);
	if (fd != target) {
		if (dup2(fd, target) != target)
			fail("dup2 tap %s", name);
		close(fd);
	}
}

static void join_netns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) != 0)
		fail("join network namespace %s", path);
	close(fd);
}

static void join_cgroup(const char *procs_file)
{
	int fd = open(procs_file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		fail("open %s", procs_file);
	/* "0" is the writing process itself, in v1 and v2 alike. */
	if (write(fd, "0", 1) != 1)
		fail("join cgroup %s", procs_file);
	close(fd);
}

int main(int argc, char **argv)
{
	const char *root = NULL, *cwd = "/", *netns = NULL;
	unsigned uid = 0, gid = 0;
	struct bind binds[MAX_PATHS];
	const char *cgroups[8];
	const char *taps[MAX_TAPS];
	size_t nbinds = 0, ncgroups = 0, ntaps = 0;
	int i;

	for (i = 1; i < argc; i++) {
		const char *opt = argv[i];
		if (strcmp(opt, "--") == 0) {
			i++;
			break;
		}
		if (i + 1 >= argc)
			fail("%s needs a value", opt);
		const char *value = argv[++i];
		if (strcmp(opt, "--root") == 0)
			root = value;
		else if (strcmp(opt, "--uid") == 0)
			uid = parse_id(value, "--uid");
		else if (strcmp(opt, "--gid") == 0)
			gid = parse_id(value, "--gid");
		else if (strcmp(opt, "--cwd") == 0)
			cwd = value;
		else if (strcmp(opt, "--netns") == 0)
			netns = value;
		else if (strcmp(opt, "--tap") == 0) {
			if (ntaps == MAX_TAPS)
				fail("too many --tap");
			taps[ntaps++] = value;
		}
		else if (strcmp(opt, "--cgroup-procs") == 0) {
			if (ncgroups == sizeof cgroups / sizeof cgroups[0])
				fail("too many --cgroup-procs");
			cgroups[ncgroups++] = value;
		} else if (strcmp(opt, "--ro") == 0 || strcmp(opt, "--rw") == 0 || strcmp(opt, "--dev") == 0) {
			if (nbinds == MAX_PATHS)
				fail("too many paths");
			binds[nbinds].path = value;
			binds[nbinds++].kind = opt[2] == 'r' ? (opt[3] == 'o' ? BIND_RO : BIND_RW) : BIND_DEV;
		} else
			fail("unknown option %s", opt);
	}
	errno = 0;
	if (!root || root[0] != '/' || !uid || !gid || i >= argc)
		fail("usage: scaibunker-jailer --root DIR --uid N --gid N [--ro|--rw|--dev PATH]... -- PROGRAM [ARG]...");

	for (size_t c = 0; c < ncgroups; c++)
		join_cgroup(cgroups[c]);

	if (netns)
		join_netns(netns);
	else if (ntaps)
		fail("--tap needs --netns");
	for (size_t t = 0; t < ntaps; t++) {
		char where[PATH_MAX];
		const char *colon = strchr(taps[t], ':');
		if (!colon) {
			open_tap(taps[t], FIRST_TAP_FD + (int)t);
			continue;
		}
		if ((size_t)(colon - taps[t]) >= sizeof where)
			fail("namespace path too long: '%s'", taps[t]);
		memcpy(where, taps[t], (size_t)(colon - taps[t]));
		where[colon - taps[t]] = '\0';
		join_netns(where);
		open_tap(colon + 1, FIRST_TAP_FD + (int)t);
		join_netns(netns); /* the VMM itself lives in the bunker's */
	}

	if (unshare(CLONE_NEWNS) != 0)
		fail("unshare(CLONE_NEWNS)");
	/* Nothing mounted in here propagates back to the host, nor the host's later mounts in. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		fail("make / private");
	if (mount("scaibunker-jail", root, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k,nr_inodes=1024") != 0)
		fail("mount tmpfs on %s", root);
	for (size_t b = 0; b < nbinds; b++)
		add_bind(root, &binds[b]);
	if (mount(NULL, root, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") != 0)
		fail("make the jail root read-only");

	if (chdir(root) != 0 || chroot(".") != 0)
		fail("chroot %s", root);
	if (chdir(cwd) != 0)
		fail("chdir %s", cwd);
	if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0)
		fail("drop to uid %u gid %u", uid, gid);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		fail("no_new_privs");
	execv(argv[i], &argv[i]);
	fail("exec %s", argv[i]);
}
