#ifndef SCAIBUNKER_USER_H
#define SCAIBUNKER_USER_H

#include <stdbool.h>
#include <sys/types.h>

#include "request.h"

/* Whose a request runs as, and where that account lives. */
struct user_ids {
	uid_t uid;
	gid_t gid;
	const char *home; /* the passwd entry's directory; "/root" for 0, "/" when unknown */
	bool given;       /* USER, UID or GID was sent: drop privileges to uid/gid */
};

/*
 * Resolves the request's account. USER (a name, or a number) is looked up in the image's
 * /etc/passwd, so the host needs no round trip to read it; when it names no account, the
 * UID/GID sent beside it stand in, and without those the request fails. Without USER,
 * UID/GID are taken as they are. Returns NULL, or why the account is unknown.
 */
const char *user_resolve(const struct request *r, struct user_ids *out);

#endif
