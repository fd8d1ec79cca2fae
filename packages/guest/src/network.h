#ifndef SB_NETWORK_H
#define SB_NETWORK_H

#include "netconf.h"

/* Configures eth0 as nc says; returns NULL, or the step that failed (errno set). */
const char *network_apply(const struct netconf *nc);

/* Gives further NICs their MAC and name and brings them up; NULL, or the step that failed. */
const char *nics_apply(const struct nic *nics, int count);

#endif
