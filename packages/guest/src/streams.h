/*
 * The stream table: OPEN/DATA/EOF/CREDIT/CONTROL routing, credit accounting in both
 * directions, and how a stream ends (DONE or ERROR, then its slot is free).
 */
#ifndef SB_STREAMS_H
#define SB_STREAMS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "frame.h"
#include "pollset.h"
#include "request.h"
#include "tlv.h"

struct stream;

/* What a kind of long-lived stream does with the link's events. Every hook may be NULL. */
struct stream_kind {
	void (*data)(struct stream *s, const uint8_t *p, size_t n); /* channel 0, within credit */
	void (*eof)(struct stream *s);                              /* channel 0 */
	void (*control)(struct stream *s, const struct request *r); /* validated by ops_check_control */
	void (*poll)(struct stream *s, struct pollset *ps);
	void (*step)(struct stream *s, int64_t now); /* progress; may end the stream */
	void (*release)(struct stream *s);          /* the stream ends: free, close, kill */
};

struct exec_state {
	pid_t pid;
	int spawn_fd; /* the child's errno if it could not exec; EOF once it did */
	int in_fd;    /* the child's stdin: a pipe, the PTY master, or -1 */
	int out_fd[3];
	bool pty, started, exited, timed_out, in_eof;
	int status;
	uint64_t drain_left[3]; /* what the pipe held when the child exited */
	uint8_t *in_buf;        /* stdin not yet written: at most one credit window */
	uint32_t in_off, in_len;
	int64_t exit_ms;
	char what[48]; /* argv[0], for messages */
};

struct file_state {
	int fd;
	uint64_t size;
	char *tmp, *dst; /* write: the temporary file and its final name */
};

struct stream {
	uint32_t id; /* 0: the slot is free */
	const struct stream_kind *kind;
	uint32_t ready;          /* poll tags that reported readiness and are not used up */
	int64_t deadline;        /* when step must run (monotonic ms), 0 for never */
	uint32_t in_unacked;     /* channel 0 bytes received and not yet credited back */
	uint32_t in_consumed;    /* ... of which are consumed: the next CREDIT */
	uint64_t out_credit[3];  /* bytes we may still send on channels 1 and 2 */
	bool writes_fs;          /* opened by an operation refused while the filesystem is frozen */
	union {
		struct exec_state x;
		struct file_state f;
	} u;
};

void streams_on_frame(const struct frame *f);
void streams_poll(struct pollset *ps);
void streams_mark_ready(const struct pollset *ps);
void streams_step(int64_t now);
int64_t streams_next_deadline(void);
void streams_abort_all(void); /* the host went away: end every stream without a word */
int streams_writing(void); /* open streams with writes_fs */
struct stream *streams_find_pid(const struct stream_kind *k, pid_t pid);

/* Ending a stream: the frame goes out and the slot is released. Do not touch s afterwards. */
void stream_done(struct stream *s, struct tlv_writer *w); /* w from stream_reply_begin */
void stream_done_empty(struct stream *s);
void stream_fail(struct stream *s, const char *code, const char *msg, int err);
/* The message is the formatted text, ": ", and strerror(err); the code follows err. */
__attribute__((format(printf, 3, 4))) void stream_fail_errno(struct stream *s, int err,
							     const char *fmt, ...);
const char *errno_code(int err);

/* A REPLY or DONE payload under construction, for small ones; list uses link_tlv_begin. */
void stream_reply_begin(struct tlv_writer *w);
void stream_reply(struct stream *s, struct tlv_writer *w); /* sends REPLY; the stream goes on */

/* Channel 0 bytes handed on (to a child or a file): they go back to the host as CREDIT. */
void stream_consumed(struct stream *s, size_t n);

/*
 * Sends what fd has as DATA on channel ch, while the ready tag, credit and room last.
 * Returns bytes sent (> 0), 0 to wait, PUMP_EOF at end of input (0 or EIO), PUMP_ERR
 * with errno set.
 */
#define PUMP_EOF (-1)
#define PUMP_ERR (-2)
long stream_pump(struct stream *s, int ch, int fd, uint32_t tag);

#endif
