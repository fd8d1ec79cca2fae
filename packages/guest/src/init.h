/* What the agent does as PID 1 before it serves. */
#ifndef SB_INIT_H
#define SB_INIT_H

void init_system(void);

#endif
