/*
 * THE FUZZ BOUNDARY, stubbed: every function of src/effects.h, touching nothing. Linked
 * by the fuzz harness and the unit tests instead of exec.c, files.c and system.c.
 *
 * exec, read and write streams become sinks: they take channel-0 DATA (credited back as
 * if consumed), send up to SINK_OUT bytes on channel 1 as the host's credit allows, and
 * end on EOF or CANCEL. That is enough to drive routing, credit and stream lifetimes.
 */
#include <string.h>

#include "effects.h"
#include "link.h"
#include "ops.h"

#define SINK_OUT 4096

static void sink_data(struct stream *s, const uint8_t *p, size_t n)
{
	(void)p;
	stream_consumed(s, n);
}

static void sink_eof(struct stream *s)
{
	struct tlv_writer w;
	stream_reply_begin(&w);
	tlvw_u64(&w, K_SIZE, s->u.f.size);
	stream_done(s, &w);
}

static void sink_control(struct stream *s, const struct request *r)
{
	if (HAS(r, K_CANCEL) && r->cancel) stream_done_empty(s);
}

static void sink_step(struct stream *s, int64_t now)
{
	(void)now;
	uint64_t left = SINK_OUT - s->u.f.size;
	uint64_t n = s->out_credit[CH_OUT] < left ? s->out_credit[CH_OUT] : left;
	if (!n || !link_can_emit(DATA_ROOM)) return;
	uint8_t *p = link_begin((size_t)n);
	if (!p) return;
	memset(p, 'x', (size_t)n);
	link_end(FT_DATA, s->id, CH_OUT, (size_t)n);
	s->out_credit[CH_OUT] -= n;
	s->u.f.size += n;
}

static const struct stream_kind sink_kind = {
	.data = sink_data,
	.eof = sink_eof,
	.control = sink_control,
	.step = sink_step,
};

static void sink(struct stream *s) { s->kind = &sink_kind; }

void op_exec(struct stream *s, const struct request *r)
{
	(void)r;
	sink(s);
	struct tlv_writer w;
	stream_reply_begin(&w);
	tlvw_u64(&w, K_PID, 1);
	stream_reply(s, &w);
}

void op_read(struct stream *s, const struct request *r)
{
	(void)r;
	sink(s);
}

void op_write(struct stream *s, const struct request *r)
{
	(void)r;
	sink(s);
}

static void done(struct stream *s, const struct request *r)
{
	(void)r;
	stream_done_empty(s);
}

void op_ping(struct stream *s, const struct request *r) { done(s, r); }
void op_stat(struct stream *s, const struct request *r) { done(s, r); }
void op_list(struct stream *s, const struct request *r) { done(s, r); }
void op_mkdir(struct stream *s, const struct request *r) { done(s, r); }
void op_remove(struct stream *s, const struct request *r) { done(s, r); }
void op_rename(struct stream *s, const struct request *r) { done(s, r); }
void op_identity(struct stream *s, const struct request *r)
{
	agent_sealed = false;
	done(s, r);
}
void op_shutdown(struct stream *s, const struct request *r) { done(s, r); }

void op_freeze(struct stream *s, const struct request *r)
{
	agent_frozen = true;
	done(s, r);
}

void op_thaw(struct stream *s, const struct request *r)
{
	agent_frozen = false;
	done(s, r);
}

void op_growfs(struct stream *s, const struct request *r)
{
	done(s, r);
}
