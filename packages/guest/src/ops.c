#include "ops.h"

#include <stdio.h>
#include <string.h>

#include "effects.h"
#include "netconf.h"
#include "streams.h"

bool agent_frozen;
bool agent_sealed;

enum {
	WRITES_FS = 1, /* refused while "/" is frozen */
	QUIESCES = 2,  /* refused while a WRITES_FS stream is open */
	SERVES = 4,    /* user-facing: refused while sealed (a clone before its identity) */
};

static const char *check_exec(const struct request *r);
static const char *check_file(const struct request *r);
static const char *check_identity(const struct request *r);

/*
 * A template is sealed before it is saved: each of its clones then refuses exec and file
 * operations until its own identity (RNG seed, hostname, machine id) is in place, whatever
 * order the host sends things in. The host can thus answer "started" as soon as the identity
 * is sent: anything after it on the link waits for it, and a failed one leaves the VM sealed.
 */
static void op_seal(struct stream *s, const struct request *r)
{
	(void)r;
	agent_sealed = true;
	stream_done_empty(s);
}

static const struct op {
	const char *name;
	void (*run)(struct stream *s, const struct request *r);
	uint64_t need;
	unsigned flags;
	const char *(*check)(const struct request *r);
} ops[] = {
	{"ping", op_ping, 0, 0, NULL},
	{"exec", op_exec, KEYBIT(K_ARGV), SERVES, check_exec},
	{"read", op_read, KEYBIT(K_PATH), SERVES, NULL},
	{"write", op_write, KEYBIT(K_PATH), WRITES_FS | SERVES, check_file},
	{"stat", op_stat, KEYBIT(K_PATH), SERVES, NULL},
	{"list", op_list, KEYBIT(K_PATH), SERVES, NULL},
	{"mkdir", op_mkdir, KEYBIT(K_PATH), WRITES_FS | SERVES, check_file},
	{"remove", op_remove, KEYBIT(K_PATH), WRITES_FS | SERVES, NULL},
	{"rename", op_rename, KEYBIT(K_PATH) | KEYBIT(K_PATH2), WRITES_FS | SERVES, NULL},
	{"freeze", op_freeze, 0, QUIESCES, NULL},
	{"thaw", op_thaw, 0, 0, NULL},
	{"identity", op_identity, 0, 0, check_identity},
	{"growfs", op_growfs, 0, WRITES_FS, NULL},
	{"shutdown", op_shutdown, 0, 0, NULL},
	{"seal", op_seal, 0, 0, NULL},
};

static const char *key_name(int k)
{
	switch (k) {
	case K_ARGV: return "ARGV";
	case K_PATH: return "PATH";
	case K_PATH2: return "PATH2";
	default: return "a field";
	}
}

static const char *check_ids(const struct request *r)
{
	/* uid_t and gid_t are 32 bits, and all ones means "unchanged" to the kernel. */
	if ((HAS(r, K_UID) && r->uid >= UINT32_MAX) || (HAS(r, K_GID) && r->gid >= UINT32_MAX))
		return "UID or GID out of range";
	return NULL;
}

static const char *check_size(const struct request *r)
{
	if (HAS(r, K_COLS) != HAS(r, K_ROWS)) return "COLS and ROWS go together";
	if (HAS(r, K_COLS) && (r->cols < 1 || r->cols > 65535 || r->rows < 1 || r->rows > 65535))
		return "COLS and ROWS are 1 to 65535";
	return NULL;
}

static const char *check_exec(const struct request *r)
{
	if (!r->argv[0][0]) return "ARGV[0] is empty";
	for (size_t i = 0; i < r->envc; i++) {
		const char *eq = strchr(r->env[i], '=');
		if (!eq || eq == r->env[i]) return "ENV entries are KEY=VALUE";
	}
	const char *err = check_ids(r);
	return err ? err : check_size(r);
}

static const char *check_file(const struct request *r)
{
	if (HAS(r, K_MODE) && r->mode > 07777) return "MODE holds permission bits only";
	return check_ids(r);
}

static const char *check_identity(const struct request *r)
{
	if (HAS(r, K_HOSTNAME) && (!r->hostname[0] || strlen(r->hostname) > 64))
		return "HOSTNAME is 1 to 64 bytes";
	if (HAS(r, K_MACHINE_ID)) {
		const char *id = r->machine_id;
		if (strlen(id) != 32 || strspn(id, "0123456789abcdefABCDEF") != 32)
			return "MACHINE_ID is 32 hex digits";
	}
	if (HAS(r, K_ENTROPY) && r->entropy_len > ENTROPY_MAX) return "ENTROPY is at most 512 bytes";
	struct netconf nc;
	const char *bad = HAS(r, K_NET) ? netconf_parse(r->net, &nc) : NULL;
	struct nic nics[NICS_MAX];
	int count;
	if (!bad && HAS(r, K_NICS)) bad = nics_parse(r->nics, nics, &count);
	return bad;
}

const char *ops_check_control(const struct request *r)
{
	if (HAS(r, K_SIGNAL) && (r->signal < 1 || r->signal > 64)) return "SIGNAL is 1 to 64";
	return check_size(r);
}

static const char *check(const struct op *op, const struct request *r)
{
	static char missing[40];
	for (int k = 1; k <= K_LAST; k++) {
		if ((op->need >> k & 1) && !HAS(r, k)) {
			snprintf(missing, sizeof missing, "missing %s", key_name(k));
			return missing;
		}
	}
	if ((HAS(r, K_PATH) && r->path[0] != '/') || (HAS(r, K_PATH2) && r->path2[0] != '/'))
		return "paths must be absolute";
	return op->check ? op->check(r) : NULL;
}

void ops_open(struct stream *s, const struct request *r)
{
	if (!HAS(r, K_OP)) {
		stream_fail(s, E_BAD_REQUEST, "missing OP", 0);
		return;
	}
	const struct op *op = NULL;
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (!strcmp(ops[i].name, r->op)) op = &ops[i];
	if (!op) {
		char msg[96];
		snprintf(msg, sizeof msg, "unknown operation \"%.64s\"", r->op);
		stream_fail(s, E_UNKNOWN_OP, msg, 0);
		return;
	}
	const char *err = check(op, r);
	if (err) {
		stream_fail(s, E_BAD_REQUEST, err, 0);
		return;
	}
	/*
	 * The agent itself would block in the kernel writing to a frozen filesystem, and then
	 * could never read the thaw: so nothing that writes runs while frozen, and no freeze
	 * starts under a running upload.
	 */
	if ((op->flags & WRITES_FS) && agent_frozen) {
		stream_fail(s, E_BUSY, "the filesystem is frozen", 0);
		return;
	}
	if ((op->flags & SERVES) && agent_sealed) {
		stream_fail(s, E_SEALED, "this VM awaits its own identity", 0);
		return;
	}
	if ((op->flags & QUIESCES) && streams_writing()) {
		stream_fail(s, E_BUSY, "uploads are in progress", 0);
		return;
	}
	s->writes_fs = op->flags & WRITES_FS;
	op->run(s, r);
}
