/* exec streams beyond their op: what the main loop tells them. */
#ifndef SB_EXEC_H
#define SB_EXEC_H

#include <sys/resource.h>

/* The descriptor limit children get back (the agent raises its own). */
void exec_set_child_nofile(const struct rlimit *lim);

/* Reaps every exited child, ours or an orphan's, and ends the matching exec's process. */
void exec_reap_all(void);

#endif
