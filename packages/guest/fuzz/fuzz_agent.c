/*
 * libFuzzer target: arbitrary bytes from the host into the frame scanner, the TLV and
 * request parsers, the op table and the stream table, in the order the agent meets them.
 * Effects stop at the boundary of src/effects.h (fuzz/effects_stub.c).
 *
 * Beyond "no crash, no sanitizer report", every frame the agent sends back must itself be
 * well-formed: a valid header, DATA within 64 KiB, and a TLV payload that parses.
 */
#include <stdint.h>
#include <string.h>

#include "frame.h"
#include "link.h"
#include "ops.h"
#include "proto.h"
#include "streams.h"
#include "tlv.h"

/* Odd-sized slices, so frames and headers arrive split at every kind of boundary. */
#define SLICE 1021

static void check_tlv(const uint8_t *p, size_t n, int depth)
{
	struct tlv_iter it;
	struct tlv_field f;
	int rc;
	tlv_iter_init(&it, p, n);
	while ((rc = tlv_next(&it, &f)) > 0)
		if (f.key == K_ENTRY && depth == 0) check_tlv(f.val, f.len, 1);
	if (rc < 0) __builtin_trap();
}

static void check_output(void)
{
	const uint8_t *p;
	size_t n = link_out_pending(&p);
	struct scanner sc = {0};
	for (size_t at = 0; at < n;) {
		struct frame f;
		size_t used;
		if (frame_scan(&sc, p + at, n - at, &f, &used) != SCAN_FRAME) __builtin_trap();
		switch (f.type) {
		case FT_DATA:
			if (f.len > DATA_MAX || f.channel == CH_IN) __builtin_trap();
			break;
		case FT_EOF:
		case FT_CREDIT:
			if (f.len != (f.type == FT_CREDIT ? 4u : 0u)) __builtin_trap();
			break;
		case FT_HELLO:
		case FT_REPLY:
		case FT_DONE:
		case FT_ERROR: check_tlv(f.payload, f.len, 0); break;
		default: __builtin_trap(); /* OPEN and CONTROL only travel from the host */
		}
		at += used;
	}
	link_out_consume(n);
}

static void round_trip(void)
{
	link_process();
	streams_step(0);
	check_output();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	link_reset();
	agent_frozen = false;
	for (size_t at = 0; at < size;) {
		size_t space;
		uint8_t *dst = link_in_space(&space);
		size_t n = size - at < space ? size - at : space;
		if (n > SLICE) n = SLICE;
		memcpy(dst, data + at, n);
		link_in_commit(n);
		at += n;
		round_trip();
	}
	for (int i = 0; i < 3; i++) round_trip(); /* let the streams send what credit allows */
	streams_abort_all();
	return 0;
}
