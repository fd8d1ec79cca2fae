/* Clocks and logging. */
#ifndef SB_UTIL_H
#define SB_UTIL_H

#include <stdint.h>

int64_t mono_ms(void);   /* for deadlines: never jumps */
uint64_t uptime_ms(void); /* since boot, suspended time included */

__attribute__((format(printf, 1, 2))) void agent_log(const char *fmt, ...);

#endif
