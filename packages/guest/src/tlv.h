/* TLV fields: key u16, len u32, value. Reader over a payload, writer into a bounded buffer. */
#ifndef SB_TLV_H
#define SB_TLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLV_HDR 6

struct tlv_field {
	uint16_t key;
	uint32_t len;
	const uint8_t *val;
};

struct tlv_iter {
	const uint8_t *p, *end;
};

void tlv_iter_init(struct tlv_iter *it, const uint8_t *p, size_t len);

/* 1 and *f filled, 0 at the clean end, -1 when a field runs past the payload. */
int tlv_next(struct tlv_iter *it, struct tlv_field *f);

/* A number field is exactly 8 bytes. */
bool tlv_u64(const struct tlv_field *f, uint64_t *v);

struct tlv_writer {
	uint8_t *buf;
	size_t cap, len;
	bool overflow; /* a field did not fit; what was written before it is intact */
};

void tlvw_init(struct tlv_writer *w, uint8_t *buf, size_t cap);
void tlvw_bytes(struct tlv_writer *w, uint16_t key, const void *val, size_t n);
void tlvw_str(struct tlv_writer *w, uint16_t key, const char *s);
void tlvw_u64(struct tlv_writer *w, uint16_t key, uint64_t v);

/* A nested TLV: fields written between begin and end become the value of key. */
size_t tlvw_begin(struct tlv_writer *w, uint16_t key);
void tlvw_end(struct tlv_writer *w, size_t mark);

#endif
