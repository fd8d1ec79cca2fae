#include "user.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto.h"

/*
 * /etc/passwd, kept in memory while it does not change (same inode, size and mtime): a
 * restored clone then resolves an account with a stat() instead of opening and reading the
 * file, a path its TCG-translated kernel would take for the first time (~15 ms). The cache
 * is filled when the template warms up, and so comes with every clone's memory.
 */
#define PASSWD "/etc/passwd"
#define PASSWD_MAX (256 * 1024)

static struct {
	char text[PASSWD_MAX];
	size_t len;
	bool valid;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
} cache;

static bool same_file(const struct stat *st)
{
	return cache.valid && st->st_dev == cache.dev && st->st_ino == cache.ino && st->st_size == cache.size &&
	       st->st_mtim.tv_sec == cache.mtime.tv_sec && st->st_mtim.tv_nsec == cache.mtime.tv_nsec;
}

/* The current /etc/passwd, or NULL when it cannot be read (or is larger than the cache). */
static const char *passwd_text(size_t *len)
{
	struct stat st;
	if (stat(PASSWD, &st) < 0 || st.st_size > PASSWD_MAX) return cache.valid = false, NULL;
	if (!same_file(&st)) {
		cache.valid = false;
		int fd = open(PASSWD, O_RDONLY | O_CLOEXEC);
		if (fd < 0) return NULL;
		ssize_t n = read(fd, cache.text, sizeof cache.text);
		close(fd);
		if (n < 0 || n != st.st_size) return NULL; /* changed while read: not cached */
		cache.len = (size_t)n;
		cache.dev = st.st_dev, cache.ino = st.st_ino, cache.size = st.st_size, cache.mtime = st.st_mtim;
		cache.valid = true;
	}
	*len = cache.len;
	return cache.text;
}

static bool parse_id(const char *s, size_t n, unsigned long *out)
{
	if (!n || n > 10) return false;
	unsigned long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*out = v;
	return true;
}

/*
 * Finds the entry whose name is `name`, or (name == NULL) whose uid is `uid`: fields
 * name:password:uid:gid:gecos:home:shell, one line each, as getpwnam(3) reads them.
 */
static bool lookup(const char *name, uid_t uid, struct user_ids *out)
{
	static char home[PATH_MAX];
	size_t len;
	const char *text = passwd_text(&len);
	if (!text) return false;
	for (const char *line = text, *end = text + len; line < end;) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol) eol = end;
		const char *field[7];
		size_t flen[7], nf = 0;
		for (const char *p = line; nf < 7 && p <= eol;) {
			const char *colon = memchr(p, ':', (size_t)(eol - p));
			const char *stop = colon && nf < 6 ? colon : eol;
			field[nf] = p, flen[nf] = (size_t)(stop - p), nf++;
			p = stop + 1;
		}
		unsigned long u, g;
		if (nf >= 6 && parse_id(field[2], flen[2], &u) && parse_id(field[3], flen[3], &g) && flen[5] < sizeof home &&
		    (name ? strlen(name) == flen[0] && !memcmp(name, field[0], flen[0]) : u == uid)) {
			memcpy(home, field[5], flen[5]);
			home[flen[5]] = 0;
			*out = (struct user_ids){.uid = (uid_t)u, .gid = (gid_t)g, .home = home[0] ? home : "/", .given = true};
			return true;
		}
		line = eol + 1;
	}
	return false;
}

const char *user_resolve(const struct request *r, struct user_ids *out)
{
	if (HAS(r, K_USER)) {
		unsigned long id;
		if (lookup(r->user, 0, out) || (parse_id(r->user, strlen(r->user), &id) && lookup(NULL, (uid_t)id, out))) return NULL;
		if (!HAS(r, K_UID)) return "no such user in the image";
	}
	uid_t uid = HAS(r, K_UID) ? (uid_t)r->uid : getuid();
	struct user_ids entry;
	bool known = uid != 0 && lookup(NULL, uid, &entry);
	out->uid = uid;
	out->gid = HAS(r, K_GID) ? (gid_t)r->gid : known ? entry.gid : (gid_t)uid;
	out->home = uid == 0 ? "/root" : known ? entry.home : "/";
	out->given = HAS(r, K_USER) || HAS(r, K_UID) || HAS(r, K_GID);
	return NULL;
}
