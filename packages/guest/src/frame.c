#include "frame.h"

#include "le.h"
#include "proto.h"

void frame_put_header(uint8_t *b, uint8_t type, uint32_t stream, uint32_t len, uint8_t channel)
{
	b[0] = 0x42;
	b[1] = 0x53;
	b[2] = PROTO_VERSION;
	b[3] = type;
	put32(b + 4, stream);
	put32(b + 8, len);
	b[12] = channel;
	b[13] = 0;
	put16(b + 14, 0);
}

/* The first four bytes a resynchronising receiver looks for. */
static bool sync_point(const uint8_t *b)
{
	return b[0] == 0x42 && b[1] == 0x53 && b[2] == PROTO_VERSION && b[3] >= FT_HELLO &&
	       b[3] <= FT_LAST;
}

/*
 * Beyond the spec's list (magic, version, type, length, reserved) a channel over 2 and
 * nonzero flags are refused too: both are "0 (reserved)" or bounded in the header table,
 * and every extra check makes a false sync point in garbage less likely.
 */
bool frame_header_ok(const uint8_t *b)
{
	return sync_point(b) && le32(b + 8) <= FRAME_MAX && b[12] <= CH_ERR && b[13] == 0 &&
	       le16(b + 14) == 0;
}

static enum scan_result resync(struct scanner *sc, const uint8_t *buf, size_t len, size_t *used)
{
	size_t i = 0;
	for (; i + 4 <= len; i++) {
		if (!sync_point(buf + i)) continue;
		if (len - i < FRAME_HDR) break; /* judge the candidate once its header is whole */
		if (frame_header_ok(buf + i)) {
			sc->resync = false;
			break;
		}
	}
	*used = i;
	return i ? SCAN_SKIP : SCAN_MORE;
}

enum scan_result frame_scan(struct scanner *sc, const uint8_t *buf, size_t len, struct frame *f,
			    size_t *used)
{
	*used = 0;
	if (sc->resync) {
		enum scan_result r = resync(sc, buf, len, used);
		if (sc->resync || *used) return r;
	}
	if (len < FRAME_HDR) return SCAN_MORE;
	if (!frame_header_ok(buf)) {
		sc->resync = true;
		*used = 1; /* the bad header's first byte is never a new start */
		return SCAN_BAD;
	}
	uint32_t n = le32(buf + 8);
	if (len - FRAME_HDR < n) return SCAN_MORE;
	f->type = buf[3];
	f->stream = le32(buf + 4);
	f->len = n;
	f->channel = buf[12];
	f->payload = buf + FRAME_HDR;
	*used = FRAME_HDR + (size_t)n;
	return SCAN_FRAME;
}
