/* The operations: request validation and dispatch to their effects. */
#ifndef SB_OPS_H
#define SB_OPS_H

#include <stdbool.h>

#include "request.h"

struct stream;

/* Set while "/" is frozen; operations that would write to it are refused with BUSY. */
extern bool agent_frozen;
/* Set by `seal` in a template, cleared by a successful `identity`: a clone serves nothing before it has its own. */
extern bool agent_sealed;

/* Runs the OPEN request r on the fresh stream s, which it ends or hands to a stream kind. */
void ops_open(struct stream *s, const struct request *r);

/* NULL, or why a CONTROL payload is a BAD_REQUEST. */
const char *ops_check_control(const struct request *r);

#endif
