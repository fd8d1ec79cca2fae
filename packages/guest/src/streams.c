#include "streams.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "le.h"
#include "link.h"
#include "ops.h"

static struct stream table[MAX_STREAMS];
static int live;
static unsigned round_robin;

static struct stream *find(uint32_t id)
{
	for (int i = 0; id && i < MAX_STREAMS; i++)
		if (table[i].id == id) return &table[i];
	return NULL;
}

static struct stream *claim(uint32_t id)
{
	for (int i = 0; i < MAX_STREAMS; i++) {
		struct stream *s = &table[i];
		if (s->id) continue;
		memset(s, 0, sizeof *s);
		s->id = id;
		s->out_credit[CH_OUT] = s->out_credit[CH_ERR] = WINDOW;
		live++;
		return s;
	}
	return NULL;
}

static void release(struct stream *s)
{
	if (s->kind && s->kind->release) s->kind->release(s);
	memset(s, 0, sizeof *s);
	live--;
}

static void bad_frame(const char *why) { link_send_error(0, E_BAD_FRAME, why, 0); }

static void open_stream(const struct frame *f)
{
	if (f->stream == 0) {
		bad_frame("OPEN on stream 0");
		return;
	}
	if (find(f->stream)) {
		link_send_error(f->stream, E_STREAM_IN_USE, "stream id in use", 0);
		return;
	}
	if (live >= MAX_STREAMS) {
		link_send_error(f->stream, E_BUSY, "too many open streams", 0);
		return;
	}
	struct request r;
	const char *err = request_parse(&r, f->payload, f->len);
	if (err) {
		link_send_error(f->stream, E_BAD_REQUEST, err, 0);
		return;
	}
	struct stream *s = claim(f->stream);
	ops_open(s, &r);
	if (s->id == f->stream && !s->kind) stream_fail(s, E_IO, "BUG: operation left its stream open", 0);
}

static void on_data(struct stream *s, const struct frame *f)
{
	if (f->len > WINDOW - s->in_unacked) {
		stream_fail(s, E_BAD_FRAME, "DATA beyond the credit window", 0);
		return;
	}
	s->in_unacked += f->len;
	if (s->kind->data) s->kind->data(s, f->payload, f->len);
	else stream_consumed(s, f->len);
}

static void on_control(struct stream *s, const struct frame *f)
{
	struct request r;
	const char *err = request_parse(&r, f->payload, f->len);
	if (!err) err = ops_check_control(&r);
	if (err) stream_fail(s, E_BAD_REQUEST, err, 0);
	else if (s->kind->control) s->kind->control(s, &r);
}

/* Why a well-framed frame makes no sense from the host, or NULL. */
static const char *misuse(const struct frame *f)
{
	switch (f->type) {
	case FT_DATA:
		return f->channel != CH_IN || f->len > DATA_MAX
			       ? "DATA goes on channel 0 and carries at most 64 KiB"
			       : NULL;
	case FT_EOF: return f->channel != CH_IN || f->len ? "EOF goes on channel 0 and is empty" : NULL;
	case FT_CREDIT:
		return f->channel == CH_IN || f->len != 4 ? "CREDIT carries 4 bytes for channel 1 or 2"
							   : NULL;
	case FT_HELLO:
	case FT_OPEN:
	case FT_CONTROL: return f->channel ? "channel set on a frame type without channels" : NULL;
	default: return "REPLY, DONE and ERROR only travel from the agent";
	}
}

void streams_on_frame(const struct frame *f)
{
	const char *bad = misuse(f);
	if (bad) {
		bad_frame(bad);
		return;
	}
	if (f->type == FT_HELLO) {
		/* Only a host that (re)connects says HELLO: what the last one left open is orphaned. */
		streams_abort_all();
		link_send_hello();
		return;
	}
	if (f->type == FT_OPEN) {
		open_stream(f);
		return;
	}

	struct stream *s = find(f->stream);
	if (!s) return; /* the stream ended while this was in flight */
	switch (f->type) {
	case FT_DATA: on_data(s, f); break;
	case FT_EOF:
		if (s->kind->eof) s->kind->eof(s);
		break;
	case FT_CREDIT: {
		uint64_t c = s->out_credit[f->channel] + le32(f->payload);
		s->out_credit[f->channel] = c > UINT32_MAX ? UINT32_MAX : c;
		break;
	}
	case FT_CONTROL: on_control(s, f); break;
	}
}

void streams_poll(struct pollset *ps)
{
	for (int i = 0; i < MAX_STREAMS; i++)
		if (table[i].id && table[i].kind->poll) table[i].kind->poll(&table[i], ps);
}

void streams_mark_ready(const struct pollset *ps)
{
	for (int i = 0; i < ps->n; i++)
		if (ps->who[i] && ps->fd[i].revents) ps->who[i]->ready |= ps->tag[i];
}

static void send_credit(struct stream *s)
{
	uint8_t n[4];
	put32(n, s->in_consumed);
	link_send(FT_CREDIT, s->id, CH_IN, n, sizeof n);
	s->in_unacked -= s->in_consumed;
	s->in_consumed = 0;
}

void streams_step(int64_t now)
{
	/* A rotating start, so no stream can keep the output budget from the ones after it. */
	round_robin = (round_robin + 1) % MAX_STREAMS;
	for (int i = 0; i < MAX_STREAMS; i++) {
		struct stream *s = &table[(round_robin + (unsigned)i) % MAX_STREAMS];
		if (!s->id) continue;
		if (s->kind->step) s->kind->step(s, now);
		if (s->id && s->in_consumed && link_can_emit(SMALL_FRAME)) send_credit(s);
	}
}

int64_t streams_next_deadline(void)
{
	int64_t next = 0;
	for (int i = 0; i < MAX_STREAMS; i++) {
		int64_t d = table[i].id ? table[i].deadline : 0;
		if (d && (!next || d < next)) next = d;
	}
	return next;
}

void streams_abort_all(void)
{
	for (int i = 0; i < MAX_STREAMS; i++)
		if (table[i].id) release(&table[i]);
}

int streams_writing(void)
{
	int n = 0;
	for (int i = 0; i < MAX_STREAMS; i++) n += table[i].id && table[i].writes_fs;
	return n;
}

struct stream *streams_find_pid(const struct stream_kind *k, pid_t pid)
{
	for (int i = 0; i < MAX_STREAMS; i++)
		if (table[i].id && table[i].kind == k && table[i].u.x.pid == pid) return &table[i];
	return NULL;
}

void stream_reply_begin(struct tlv_writer *w) { link_tlv_begin(w, SMALL_FRAME - FRAME_HDR); }

void stream_reply(struct stream *s, struct tlv_writer *w) { link_tlv_end(w, FT_REPLY, s->id); }

void stream_done(struct stream *s, struct tlv_writer *w)
{
	link_tlv_end(w, FT_DONE, s->id);
	release(s);
}

void stream_done_empty(struct stream *s)
{
	link_send(FT_DONE, s->id, 0, NULL, 0);
	release(s);
}

void stream_fail(struct stream *s, const char *code, const char *msg, int err)
{
	link_send_error(s->id, code, msg, err);
	release(s);
}

const char *errno_code(int err)
{
	switch (err) {
	case ENOENT: return "NOT_FOUND";
	case EACCES:
	case EPERM: return "PERMISSION_DENIED";
	case EEXIST: return "EXISTS";
	case ENOTDIR: return "NOT_A_DIRECTORY";
	case EISDIR: return "IS_A_DIRECTORY";
	case ENOTEMPTY: return "NOT_EMPTY";
	case ENOSPC:
	case EDQUOT: return "NO_SPACE";
	default: return E_IO;
	}
}

void stream_fail_errno(struct stream *s, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0) n = 0;
	if ((size_t)n < sizeof msg) snprintf(msg + n, sizeof msg - (size_t)n, ": %s", strerror(err));
	stream_fail(s, errno_code(err), msg, err);
}

void stream_consumed(struct stream *s, size_t n)
{
	/* Never grant more than was received, whatever a kind reports. */
	size_t owed = s->in_unacked - s->in_consumed;
	s->in_consumed += (uint32_t)(n < owed ? n : owed);
}

long stream_pump(struct stream *s, int ch, int fd, uint32_t tag)
{
	if (!(s->ready & tag) || !s->out_credit[ch] || !link_can_emit(DATA_ROOM)) return 0;
	size_t want = s->out_credit[ch] < DATA_MAX ? (size_t)s->out_credit[ch] : DATA_MAX;
	uint8_t *p = link_begin(want);
	if (!p) return 0;
	ssize_t n = read(fd, p, want);
	if (n > 0) {
		link_end(FT_DATA, s->id, (uint8_t)ch, (size_t)n);
		s->out_credit[ch] -= (uint64_t)n;
		return n;
	}
	if (n == 0 || errno == EIO) return PUMP_EOF; /* EIO: a PTY whose slave side is gone */
	if (errno == EAGAIN || errno == EINTR) {
		s->ready &= ~tag;
		return 0;
	}
	return PUMP_ERR;
}
