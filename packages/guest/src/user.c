#include "user.h"

#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "proto.h"

static struct passwd *lookup(const char *name)
{
	struct passwd *pw = getpwnam(name);
	if (pw) return pw;
	char *end;
	unsigned long id = strtoul(name, &end, 10);
	return *name && !*end ? getpwuid((uid_t)id) : NULL;
}

const char *user_resolve(const struct request *r, struct user_ids *out)
{
	struct passwd *pw = HAS(r, K_USER) ? lookup(r->user) : NULL;
	if (pw) {
		*out = (struct user_ids){.uid = pw->pw_uid, .gid = pw->pw_gid, .home = pw->pw_dir, .given = true};
		return NULL;
	}
	if (HAS(r, K_USER) && !HAS(r, K_UID)) return "no such user in the image";
	uid_t uid = HAS(r, K_UID) ? (uid_t)r->uid : getuid();
	pw = uid ? getpwuid(uid) : NULL;
	out->uid = uid;
	out->gid = HAS(r, K_GID) ? (gid_t)r->gid : pw ? pw->pw_gid : (gid_t)uid;
	out->home = uid == 0 ? "/root" : pw ? pw->pw_dir : "/";
	out->given = HAS(r, K_USER) || HAS(r, K_UID) || HAS(r, K_GID);
	return NULL;
}
