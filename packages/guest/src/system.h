/* Machine-wide operations and the agent's run mode. */
#ifndef SB_SYSTEM_H
#define SB_SYSTEM_H

#include <stdbool.h>

/*
 * --connect runs on a developer's or CI host: freeze, thaw, identity and shutdown then
 * validate and answer as usual but leave the machine alone (shutdown ends the agent).
 */
extern bool agent_host_test;
extern bool agent_shutdown_requested; /* the DONE is queued; run system_shutdown() once sent */

void system_shutdown(void); /* returns only if reboot() failed */

/* Maps /run/machine-id (run as PID 1, after /run is mounted), where identity writes the id. */
void machine_id_map_init(void);

#endif
