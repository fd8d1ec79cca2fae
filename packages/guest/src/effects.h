/*
 * THE FUZZ BOUNDARY. Every function declared here acts on the machine: it spawns
 * processes, touches files, the clock, the RNG, the filesystem freeze or the power.
 * ops.c calls them with requests it has already validated; each ends its stream (DONE or
 * ERROR) or hands it to a stream kind. The fuzz harness and the unit tests link
 * fuzz/effects_stub.c in place of the files that implement them (exec.c, files.c,
 * system.c), and nothing else is replaced.
 */
#ifndef SB_EFFECTS_H
#define SB_EFFECTS_H

#include "request.h"
#include "streams.h"

void op_ping(struct stream *s, const struct request *r);
void op_exec(struct stream *s, const struct request *r);
void op_read(struct stream *s, const struct request *r);
void op_write(struct stream *s, const struct request *r);
void op_stat(struct stream *s, const struct request *r);
void op_list(struct stream *s, const struct request *r);
void op_mkdir(struct stream *s, const struct request *r);
void op_remove(struct stream *s, const struct request *r);
void op_rename(struct stream *s, const struct request *r);
void op_freeze(struct stream *s, const struct request *r);
void op_thaw(struct stream *s, const struct request *r);
void op_identity(struct stream *s, const struct request *r);
void op_growfs(struct stream *s, const struct request *r);
void op_shutdown(struct stream *s, const struct request *r);

#endif
