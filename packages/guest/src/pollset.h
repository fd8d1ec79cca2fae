/* The fds one poll() waits on, each with the stream (if any) and the tag it wakes. */
#ifndef SB_POLLSET_H
#define SB_POLLSET_H

#include <poll.h>
#include <stdint.h>

#include "proto.h"

#define POLL_MAX (4 + MAX_STREAMS * 3) /* link, signals; at most three fds per stream */

struct stream;

struct pollset {
	int n;
	struct pollfd fd[POLL_MAX];
	struct stream *who[POLL_MAX];
	uint32_t tag[POLL_MAX];
};

static inline void pollset_add(struct pollset *ps, int fd, short events, struct stream *s,
			       uint32_t tag)
{
	if (ps->n >= POLL_MAX) return;
	ps->fd[ps->n] = (struct pollfd){.fd = fd, .events = events};
	ps->who[ps->n] = s;
	ps->tag[ps->n] = tag;
	ps->n++;
}

#endif
