/*
 * The link's byte buffers: frames in (decoded and dispatched), frames out (queued for the
 * port). No file descriptors here; port.c moves the bytes.
 *
 * Output space is budgeted so the agent never blocks and never buffers without bound:
 * the last LINK_RESERVE bytes are kept for answers to inbound frames (at most one maximum
 * frame and two small ones each), and inbound frames are only taken while that reserve is
 * free. Everything else (DATA, EOF, DONE of running streams) asks link_can_emit() first.
 */
#ifndef SB_LINK_H
#define SB_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "tlv.h"

#define SMALL_FRAME 1024 /* bound of every frame but DATA and a list's DONE */
#define LINK_RESERVE (FRAME_HDR + FRAME_MAX + 2 * SMALL_FRAME)
#define DATA_ROOM (FRAME_HDR + DATA_MAX + 2 * SMALL_FRAME) /* DATA, then maybe EOF and DONE */

void link_reset(void); /* a new connection: buffers and decoder state dropped */

uint8_t *link_in_space(size_t *n);
void link_in_commit(size_t n);
void link_process(void); /* decodes and dispatches what has arrived, as far as the reserve allows */

size_t link_out_pending(const uint8_t **p);
void link_out_consume(size_t n);

bool link_can_emit(size_t n);

/* Whether link_can_emit() or link_process() was refused room since the last call. */
bool link_take_starved(void);

/*
 * Building a frame in place: link_begin(want) gives room for a payload of want bytes,
 * link_end() commits len of them. Nothing else may be sent in between.
 */
uint8_t *link_begin(size_t want);
void link_end(uint8_t type, uint32_t stream, uint8_t channel, size_t len);

void link_send(uint8_t type, uint32_t stream, uint8_t channel, const void *p, size_t n);
/* A TLV payload of at most max bytes (SMALL_FRAME - FRAME_HDR, or FRAME_MAX for a list). */
void link_tlv_begin(struct tlv_writer *w, size_t max);
void link_tlv_end(struct tlv_writer *w, uint8_t type, uint32_t stream);

void link_send_error(uint32_t stream, const char *code, const char *msg, int err);
void link_send_hello(void);

#endif
