/* Frame header codec and the receive-side scanner with resynchronisation. */
#ifndef SB_FRAME_H
#define SB_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct frame {
	uint8_t type;
	uint8_t channel;
	uint32_t stream;
	uint32_t len;
	const uint8_t *payload;
};

void frame_put_header(uint8_t *b, uint8_t type, uint32_t stream, uint32_t len, uint8_t channel);

/* True when the 16 bytes at b form a header this side accepts. */
bool frame_header_ok(const uint8_t *b);

enum scan_result {
	SCAN_MORE,  /* nothing to do until more bytes arrive */
	SCAN_FRAME, /* *f is a whole frame */
	SCAN_BAD,   /* a malformed header: answer BAD_FRAME; resynchronisation has begun */
	SCAN_SKIP,  /* bytes dropped while resynchronising */
};

struct scanner {
	bool resync;
};

/*
 * Looks at buf[0..len) and says what its start holds. *used is how many bytes to drop
 * afterwards (never more than len; 0 only with SCAN_MORE). f->payload points into buf.
 */
enum scan_result frame_scan(struct scanner *sc, const uint8_t *buf, size_t len, struct frame *f,
			    size_t *used);

#endif
