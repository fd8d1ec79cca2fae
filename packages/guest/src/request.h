/* An OPEN or CONTROL payload parsed into typed fields. */
#ifndef SB_REQUEST_H
#define SB_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct request {
	uint64_t have; /* bit k set when key k was present */
	const char *op, *cwd, *user, *path, *path2, *hostname, *machine_id, *net, *nics;
	const uint8_t *entropy;
	size_t entropy_len;
	char **argv; /* NULL-terminated; argc entries */
	size_t argc;
	char **env;
	size_t envc;
	uint64_t uid, gid, timeout_ms, cols, rows, stdin_, mode, recursive, signal, cancel, time_ms;
};

#define HAS(r, k) (((r)->have >> (k)) & 1u)
#define KEYBIT(k) ((uint64_t)1 << (k))

/*
 * Parses payload into *r. Strings are copied NUL-terminated into an arena that lives until
 * the next call. Returns NULL, or why the payload is a BAD_REQUEST.
 */
const char *request_parse(struct request *r, const uint8_t *payload, size_t len);

/* Scratch memory from the same arena (same lifetime); NULL when it is exhausted. */
void *request_alloc(size_t n);

#endif
