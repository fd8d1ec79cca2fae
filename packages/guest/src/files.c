/* The file operations. Paths are absolute (ops.c checks); symlinks are never followed
 * where that would change what is removed or reported (stat is lstat). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "effects.h"
#include "link.h"
#include "user.h"

enum { T_FILE = 1 };
#define REMOVE_DEPTH_MAX 256 /* one open directory per level */

static const char *type_name(mode_t m)
{
	return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "symlink" : "other";
}

static void put_stat(struct tlv_writer *w, const struct stat *st)
{
	int64_t ms = (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
	tlvw_str(w, K_TYPE, type_name(st->st_mode));
	tlvw_u64(w, K_SIZE, (uint64_t)st->st_size);
	tlvw_u64(w, K_MODE, st->st_mode);
	tlvw_u64(w, K_MTIME_MS, ms > 0 ? (uint64_t)ms : 0);
}

/* ---- read --------------------------------------------------------------------------- */

static void read_step(struct stream *s, int64_t now)
{
	(void)now;
	long n;
	while ((n = stream_pump(s, CH_OUT, s->u.f.fd, T_FILE)) > 0) continue;
	if (n == PUMP_ERR) {
		stream_fail_errno(s, errno, "read");
	} else if (n == PUMP_EOF) {
		link_send(FT_EOF, s->id, CH_OUT, NULL, 0);
		stream_done_empty(s);
	}
}

static void read_poll(struct stream *s, struct pollset *ps)
{
	if (!(s->ready & T_FILE) && s->out_credit[CH_OUT] && link_can_emit(DATA_ROOM))
		pollset_add(ps, s->u.f.fd, POLLIN, s, T_FILE);
}

static void file_release(struct stream *s)
{
	struct file_state *f = &s->u.f;
	if (f->fd >= 0) close(f->fd);
	if (f->tmp) unlink(f->tmp);
	free(f->tmp);
	free(f->dst);
}

/* The spec gives CONTROL to exec only; CANCEL here is how a host abandons a transfer. */
static void file_control(struct stream *s, const struct request *r)
{
	if (HAS(r, K_CANCEL) && r->cancel) stream_fail(s, E_IO, "cancelled", ECANCELED);
}

static const struct stream_kind read_kind = {
	.control = file_control,
	.poll = read_poll,
	.step = read_step,
	.release = file_release,
};

void op_read(struct stream *s, const struct request *r)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer (regular files ignore it). */
	int fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = errno;
		if (fd >= 0) close(fd);
		stream_fail_errno(s, err, "read %s", r->path);
		return;
	}
	s->kind = &read_kind;
	s->u.f.fd = fd;
	if (S_ISDIR(st.st_mode)) {
		stream_fail_errno(s, EISDIR, "read %s", r->path);
		return;
	}
	s->ready = T_FILE; /* try at once; poll only after a read would block */
	struct tlv_writer w;
	stream_reply_begin(&w);
	tlvw_u64(&w, K_SIZE, (uint64_t)st.st_size);
	tlvw_u64(&w, K_MODE, st.st_mode);
	stream_reply(s, &w);
}

/* ---- write -------------------------------------------------------------------------- */

static void write_data(struct stream *s, const uint8_t *p, size_t n)
{
	struct file_state *f = &s->u.f;
	for (size_t done = 0; done < n;) {
		ssize_t w = write(f->fd, p + done, n - done);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) {
			stream_fail_errno(s, w < 0 ? errno : EIO, "write %s", f->dst);
			return; /* release() removes the temporary file */
		}
		done += (size_t)w;
		f->size += (uint64_t)w;
	}
	stream_consumed(s, n);
}

static void write_eof(struct stream *s)
{
	struct file_state *f = &s->u.f;
	int fd = f->fd;
	f->fd = -1;
	if (close(fd) < 0 || rename(f->tmp, f->dst) < 0) {
		stream_fail_errno(s, errno, "write %s", f->dst);
		return;
	}
	free(f->tmp);
	f->tmp = NULL; /* it is the file now */
	struct tlv_writer w;
	stream_reply_begin(&w);
	tlvw_u64(&w, K_SIZE, f->size);
	stream_done(s, &w);
}

static const struct stream_kind write_kind = {
	.control = file_control,
	.data = write_data,
	.eof = write_eof,
	.release = file_release,
};

/* A name beside path, so the final rename stays within one filesystem. */
static char *temp_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dir = (size_t)(slash - path);
	char *t = malloc(dir + sizeof "/.scaibunker-XXXXXX");
	if (t) {
		memcpy(t, path, dir);
		strcpy(t + dir, "/.scaibunker-XXXXXX");
	}
	return t;
}

void op_write(struct stream *s, const struct request *r)
{
	struct file_state *f = &s->u.f;
	f->fd = -1;
	s->kind = &write_kind; /* from here on, release() cleans up */
	struct stat st;
	if (lstat(r->path, &st) == 0 && S_ISDIR(st.st_mode)) {
		stream_fail_errno(s, EISDIR, "write %s", r->path);
		return;
	}
	if (!(f->dst = strdup(r->path)) || !(f->tmp = temp_name(r->path))) {
		stream_fail_errno(s, ENOMEM, "write %s", r->path);
		return;
	}
	if ((f->fd = mkostemp(f->tmp, O_CLOEXEC)) < 0) {
		int err = errno;
		free(f->tmp);
		f->tmp = NULL; /* nothing was created */
		stream_fail_errno(s, err, "write %s", r->path);
		return;
	}
	struct user_ids owner;
	const char *unknown = user_resolve(r, &owner);
	if (unknown) {
		stream_fail(s, E_NO_SUCH_USER, unknown, 0);
		return;
	}
	if (fchmod(f->fd, HAS(r, K_MODE) ? (mode_t)r->mode : 0644) < 0 ||
	    (owner.given && fchown(f->fd, owner.uid, owner.gid) < 0))
		stream_fail_errno(s, errno, "write %s", r->path);
}

/* ---- stat, list --------------------------------------------------------------------- */

void op_stat(struct stream *s, const struct request *r)
{
	struct stat st;
	if (lstat(r->path, &st) < 0) {
		stream_fail_errno(s, errno, "stat %s", r->path);
		return;
	}
	struct tlv_writer w;
	stream_reply_begin(&w);
	put_stat(&w, &st);
	stream_done(s, &w);
}

/*
 * The LIST_MAX smallest names, as a max-heap while reading (so memory stays bounded
 * however large the directory), sorted at the end.
 */
struct names {
	char **v;
	size_t n;
	bool more;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sift_down(struct names *h, size_t i)
{
	for (;;) {
		size_t big = i, l = 2 * i + 1, r = l + 1;
		if (l < h->n && strcmp(h->v[l], h->v[big]) > 0) big = l;
		if (r < h->n && strcmp(h->v[r], h->v[big]) > 0) big = r;
		if (big == i) return;
		char *t = h->v[i];
		h->v[i] = h->v[big];
		h->v[big] = t;
		i = big;
	}
}

static int keep_name(struct names *h, const char *name)
{
	if (h->n == LIST_MAX) {
		h->more = true;
		if (strcmp(name, h->v[0]) >= 0) return 0;
		char *d = strdup(name);
		if (!d) return -1;
		free(h->v[0]);
		h->v[0] = d;
		sift_down(h, 0);
		return 0;
	}
	char *d = strdup(name);
	if (!d) return -1;
	size_t i = h->n++;
	h->v[i] = d;
	while (i && strcmp(h->v[(i - 1) / 2], h->v[i]) < 0) {
		char *t = h->v[i];
		h->v[i] = h->v[(i - 1) / 2];
		h->v[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	return 0;
}

static int read_names(DIR *d, struct names *h)
{
	for (;;) {
		errno = 0;
		struct dirent *e = readdir(d);
		if (!e) return errno ? -1 : 0;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
		if (keep_name(h, e->d_name) < 0) return -1;
	}
}

/* One ENTRY each, while they fit in one frame; TRUNCATED says whether any were left out. */
static void send_list(struct stream *s, DIR *d, struct names *h)
{
	struct tlv_writer w;
	link_tlv_begin(&w, FRAME_MAX);
	const size_t tail = TLV_HDR + 8; /* TRUNCATED */
	w.cap = w.cap > tail ? w.cap - tail : 0;
	bool truncated = h->more;
	for (size_t i = 0; i < h->n; i++) {
		struct stat st;
		if (fstatat(dirfd(d), h->v[i], &st, AT_SYMLINK_NOFOLLOW) < 0) continue; /* gone */
		size_t mark = w.len;
		size_t entry = tlvw_begin(&w, K_ENTRY);
		tlvw_str(&w, K_NAME, h->v[i]);
		put_stat(&w, &st);
		tlvw_end(&w, entry);
		if (w.overflow) {
			w.len = mark;
			w.overflow = false;
			truncated = true;
			break;
		}
	}
	w.cap += tail;
	tlvw_u64(&w, K_TRUNCATED, truncated);
	stream_done(s, &w);
}

void op_list(struct stream *s, const struct request *r)
{
	struct names h = {.v = malloc(LIST_MAX * sizeof(char *))};
	DIR *d = h.v ? opendir(r->path) : NULL;
	if (!d || read_names(d, &h) < 0) {
		stream_fail_errno(s, h.v ? errno : ENOMEM, "list %s", r->path);
	} else {
		qsort(h.v, h.n, sizeof *h.v, cmp_names);
		send_list(s, d, &h);
	}
	if (d) closedir(d);
	for (size_t i = 0; i < h.n; i++) free(h.v[i]);
	free(h.v);
}

/* ---- mkdir, remove, rename ---------------------------------------------------------- */

/* The exact mode, whatever the umask. */
static int make_dir(const char *path, mode_t mode)
{
	return mkdir(path, mode) < 0 ? -1 : chmod(path, mode);
}

static int make_parents(const char *path, mode_t mode)
{
	char *p = strdup(path);
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	int rc = 0;
	for (char *c = p + 1; rc == 0; c++) {
		if (*c && *c != '/') continue;
		char saved = *c;
		*c = 0;
		if (c[-1] != '/' && make_dir(p, mode) < 0 && errno != EEXIST) rc = -1;
		*c = saved;
		if (!saved) break;
	}
	free(p);
	struct stat st;
	if (rc == 0 && stat(path, &st) < 0) rc = -1;
	if (rc == 0 && !S_ISDIR(st.st_mode)) {
		errno = EEXIST; /* the last component is something else */
		rc = -1;
	}
	return rc;
}

void op_mkdir(struct stream *s, const struct request *r)
{
	mode_t mode = HAS(r, K_MODE) ? (mode_t)r->mode : 0755;
	int rc = HAS(r, K_RECURSIVE) && r->recursive ? make_parents(r->path, mode)
						     : make_dir(r->path, mode);
	if (rc < 0) stream_fail_errno(s, errno, "mkdir %s", r->path);
	else stream_done_empty(s);
}

/* Removes name under dir and everything in it, never following a symlink or leaving dev. */
static int remove_tree(int dir, const char *name, dev_t dev, int depth)
{
	if (depth > REMOVE_DEPTH_MAX) {
		errno = ELOOP;
		return -1;
	}
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0) close(fd);
		return -1;
	}
	int rc = 0;
	while (rc == 0) {
		errno = 0;
		struct dirent *e = readdir(d);
		if (!e) {
			if (errno) rc = -1;
			break;
		}
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
		struct stat st;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT) rc = -1;
		} else if (S_ISDIR(st.st_mode) && st.st_dev == dev) {
			rc = remove_tree(fd, e->d_name, dev, depth + 1);
		} else if (unlinkat(fd, e->d_name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0 &&
			   errno != ENOENT) {
			rc = -1; /* a mount point: EBUSY */
		}
	}
	int err = errno;
	closedir(d);
	errno = err;
	return rc < 0 ? -1 : unlinkat(dir, name, AT_REMOVEDIR);
}

void op_remove(struct stream *s, const struct request *r)
{
	struct stat st, root;
	int rc;
	if (lstat(r->path, &st) < 0) {
		rc = -1;
	} else if (!S_ISDIR(st.st_mode)) {
		rc = unlink(r->path);
	} else if (!(HAS(r, K_RECURSIVE) && r->recursive)) {
		rc = rmdir(r->path);
	} else if (stat("/", &root) == 0 && root.st_dev == st.st_dev && root.st_ino == st.st_ino) {
		errno = EPERM; /* no rm -rf / */
		rc = -1;
	} else {
		rc = remove_tree(AT_FDCWD, r->path, st.st_dev, 0);
	}
	if (rc < 0) stream_fail_errno(s, errno, "remove %s", r->path);
	else stream_done_empty(s);
}

void op_rename(struct stream *s, const struct request *r)
{
	if (rename(r->path, r->path2) < 0) stream_fail_errno(s, errno, "rename %s", r->path);
	else stream_done_empty(s);
}
