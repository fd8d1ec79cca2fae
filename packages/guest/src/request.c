#include "request.h"

#include <stdalign.h>
#include <string.h>

#include "tlv.h"

/*
 * Bound: every string copy costs its length plus a terminator (at most the payload plus
 * one byte per 6-byte field header), and the ARGV/ENV pointer arrays one pointer per field
 * plus two terminators. exec then builds its environment here: as many pointers again, a
 * few defaults, and HOME (a passwd entry's directory).
 */
#define MAX_FIELDS (FRAME_MAX / TLV_HDR)
#define POINTERS (MAX_FIELDS + 2 + MAX_FIELDS + 4)
#define ARENA_SIZE (FRAME_MAX + MAX_FIELDS + POINTERS * sizeof(char *) + 8192)

static alignas(max_align_t) unsigned char arena[ARENA_SIZE];
static size_t arena_used;

static void *take(size_t n, size_t align)
{
	size_t at = (arena_used + align - 1) & ~(align - 1);
	if (at > ARENA_SIZE || ARENA_SIZE - at < n) return NULL;
	arena_used = at + n;
	return arena + at;
}

void *request_alloc(size_t n) { return take(n, alignof(max_align_t)); }

/* Every string key becomes a path, argv/env entry or C string, so none may hold a NUL. */
static const char *copy_str(const struct tlv_field *f, const char **out)
{
	if (memchr(f->val, 0, f->len)) return "string contains a NUL byte";
	char *s = take((size_t)f->len + 1, 1); /* unaligned: the size bound above counts no padding */
	if (!s) return "request too large";
	memcpy(s, f->val, f->len);
	s[f->len] = 0;
	*out = s;
	return NULL;
}

static const char *number(const struct tlv_field *f, uint64_t *out)
{
	return tlv_u64(f, out) ? NULL : "number field is not 8 bytes";
}

static uint64_t *number_slot(struct request *r, uint16_t key)
{
	switch (key) {
	case K_UID: return &r->uid;
	case K_GID: return &r->gid;
	case K_TIMEOUT_MS: return &r->timeout_ms;
	case K_COLS: return &r->cols;
	case K_ROWS: return &r->rows;
	case K_STDIN: return &r->stdin_;
	case K_MODE: return &r->mode;
	case K_RECURSIVE: return &r->recursive;
	case K_SIGNAL: return &r->signal;
	case K_CANCEL: return &r->cancel;
	case K_TIME_MS: return &r->time_ms;
	default: return NULL;
	}
}

static const char **string_slot(struct request *r, uint16_t key)
{
	switch (key) {
	case K_OP: return &r->op;
	case K_CWD: return &r->cwd;
	case K_USER: return &r->user;
	case K_PATH: return &r->path;
	case K_PATH2: return &r->path2;
	case K_HOSTNAME: return &r->hostname;
	case K_MACHINE_ID: return &r->machine_id;
	case K_NET: return &r->net;
	case K_NICS: return &r->nics;
	default: return NULL;
	}
}

static const char *field(struct request *r, const struct tlv_field *f)
{
	if (f->key == K_ARGV || f->key == K_ENV) {
		const char *s;
		const char *err = copy_str(f, &s);
		if (err) return err;
		if (f->key == K_ARGV) r->argv[r->argc++] = (char *)s;
		else r->env[r->envc++] = (char *)s;
		r->have |= KEYBIT(f->key);
		return NULL;
	}
	if (f->key > K_LAST || HAS(r, f->key)) return NULL; /* unknown, or a repeat: the first wins */
	const char *err = NULL;
	uint64_t *num = number_slot(r, f->key);
	const char **str = string_slot(r, f->key);
	if (num) err = number(f, num);
	else if (str) err = copy_str(f, str);
	else if (f->key == K_ENTROPY) r->entropy = f->val, r->entropy_len = f->len;
	else return NULL; /* a key that only travels agent → host */
	if (!err) r->have |= KEYBIT(f->key);
	return err;
}

const char *request_parse(struct request *r, const uint8_t *payload, size_t len)
{
	memset(r, 0, sizeof *r);
	arena_used = 0;

	/* First pass: check the framing and size the ARGV/ENV arrays. */
	struct tlv_iter it;
	struct tlv_field f;
	size_t nargv = 0, nenv = 0;
	int rc;
	tlv_iter_init(&it, payload, len);
	while ((rc = tlv_next(&it, &f)) > 0) {
		nargv += f.key == K_ARGV;
		nenv += f.key == K_ENV;
	}
	if (rc < 0) return "malformed TLV";
	r->argv = take((nargv + 1) * sizeof(char *), alignof(char *));
	r->env = take((nenv + 1) * sizeof(char *), alignof(char *));
	if (!r->argv || !r->env) return "request too large";

	tlv_iter_init(&it, payload, len);
	while (tlv_next(&it, &f) > 0) {
		const char *err = field(r, &f);
		if (err) return err;
	}
	r->argv[r->argc] = NULL;
	r->env[r->envc] = NULL;
	return NULL;
}
