#include "link.h"

#include <string.h>

#include "frame.h"
#include "streams.h"
#include "util.h"

#define IN_CAP (FRAME_HDR + FRAME_MAX)
#define OUT_CAP (LINK_RESERVE + 2 * (FRAME_HDR + DATA_MAX))

static uint8_t in[IN_CAP];
static size_t in_len;
static struct scanner scanner;

static uint8_t out[OUT_CAP];
static size_t out_off, out_len; /* pending bytes: out[out_off .. out_off + out_len) */

/*
 * Someone had work but no output room. Such work is not waiting on any fd (its data is
 * already in hand), so the main loop must not sleep once the output has drained.
 */
static bool starved;

void link_reset(void)
{
	starved = false;
	in_len = 0;
	scanner.resync = false;
	out_off = out_len = 0;
}

uint8_t *link_in_space(size_t *n)
{
	*n = IN_CAP - in_len;
	return in + in_len;
}

void link_in_commit(size_t n) { in_len += n; }

static size_t room(void) { return OUT_CAP - out_len; }

bool link_can_emit(size_t n)
{
	bool ok = room() >= LINK_RESERVE + n;
	starved |= !ok;
	return ok;
}

bool link_take_starved(void)
{
	bool was = starved;
	starved = false;
	return was;
}

void link_process(void)
{
	size_t pos = 0;
	while (pos < in_len) {
		if (room() < LINK_RESERVE) {
			starved = true;
			break;
		}
		struct frame f;
		size_t used;
		enum scan_result r = frame_scan(&scanner, in + pos, in_len - pos, &f, &used);
		if (r == SCAN_MORE) break;
		pos += used;
		if (r == SCAN_BAD) link_send_error(0, E_BAD_FRAME, "malformed frame header", 0);
		else if (r == SCAN_FRAME) streams_on_frame(&f);
	}
	memmove(in, in + pos, in_len - pos);
	in_len -= pos;
}

size_t link_out_pending(const uint8_t **p)
{
	*p = out + out_off;
	return out_len;
}

void link_out_consume(size_t n)
{
	out_off += n;
	out_len -= n;
	if (!out_len) out_off = 0;
}

uint8_t *link_begin(size_t want)
{
	if (want > FRAME_MAX || room() < FRAME_HDR + want) return NULL;
	if (OUT_CAP - out_off - out_len < FRAME_HDR + want) {
		memmove(out, out + out_off, out_len);
		out_off = 0;
	}
	return out + out_off + out_len + FRAME_HDR;
}

void link_end(uint8_t type, uint32_t stream, uint8_t channel, size_t len)
{
	frame_put_header(out + out_off + out_len, type, stream, (uint32_t)len, channel);
	out_len += FRAME_HDR + len;
}

void link_send(uint8_t type, uint32_t stream, uint8_t channel, const void *p, size_t n)
{
	uint8_t *dst = link_begin(n);
	if (!dst) {
		agent_log("BUG: no room for a frame of type %u on stream %u; dropped", type, stream);
		return;
	}
	if (n) memcpy(dst, p, n);
	link_end(type, stream, channel, n);
}

void link_tlv_begin(struct tlv_writer *w, size_t max)
{
	size_t cap = room() > FRAME_HDR ? room() - FRAME_HDR : 0;
	if (cap > max) cap = max;
	uint8_t *p = link_begin(cap);
	tlvw_init(w, p, p ? cap : 0);
}

void link_tlv_end(struct tlv_writer *w, uint8_t type, uint32_t stream)
{
	if (w->overflow || !w->buf) {
		agent_log("BUG: no room for a frame of type %u on stream %u; dropped", type, stream);
		return;
	}
	link_end(type, stream, 0, w->len);
}

void link_send_error(uint32_t stream, const char *code, const char *msg, int err)
{
	struct tlv_writer w;
	link_tlv_begin(&w, SMALL_FRAME - FRAME_HDR);
	tlvw_str(&w, K_ERR_CODE, code);
	tlvw_bytes(&w, K_ERR_MESSAGE, msg, strnlen(msg, 512));
	if (err) tlvw_u64(&w, K_ERRNO, (uint64_t)err);
	link_tlv_end(&w, FT_ERROR, stream);
}

void link_send_hello(void)
{
	struct tlv_writer w;
	link_tlv_begin(&w, SMALL_FRAME - FRAME_HDR);
	tlvw_u64(&w, K_PROTO_VERSION, PROTO_VERSION);
	tlvw_str(&w, K_AGENT_VERSION, AGENT_VERSION);
	tlvw_u64(&w, K_UPTIME_MS, uptime_ms());
	link_tlv_end(&w, FT_HELLO, 0);
}
