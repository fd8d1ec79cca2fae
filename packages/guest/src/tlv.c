#include "tlv.h"

#include <string.h>

#include "le.h"

void tlv_iter_init(struct tlv_iter *it, const uint8_t *p, size_t len)
{
	it->p = p;
	it->end = p + len;
}

int tlv_next(struct tlv_iter *it, struct tlv_field *f)
{
	size_t left = (size_t)(it->end - it->p);
	if (left == 0) return 0;
	if (left < TLV_HDR) return -1;
	f->key = le16(it->p);
	f->len = le32(it->p + 2);
	if (f->len > left - TLV_HDR) return -1;
	f->val = it->p + TLV_HDR;
	it->p += TLV_HDR + (size_t)f->len;
	return 1;
}

bool tlv_u64(const struct tlv_field *f, uint64_t *v)
{
	if (f->len != 8) return false;
	*v = le64(f->val);
	return true;
}

void tlvw_init(struct tlv_writer *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = false;
}

static uint8_t *field(struct tlv_writer *w, uint16_t key, size_t n)
{
	if (w->overflow || n > UINT32_MAX || w->cap - w->len < TLV_HDR + n) {
		w->overflow = true;
		return NULL;
	}
	uint8_t *p = w->buf + w->len;
	put16(p, key);
	put32(p + 2, (uint32_t)n);
	w->len += TLV_HDR + n;
	return p + TLV_HDR;
}

void tlvw_bytes(struct tlv_writer *w, uint16_t key, const void *val, size_t n)
{
	uint8_t *p = field(w, key, n);
	if (p && n) memcpy(p, val, n);
}

void tlvw_str(struct tlv_writer *w, uint16_t key, const char *s) { tlvw_bytes(w, key, s, strlen(s)); }

void tlvw_u64(struct tlv_writer *w, uint16_t key, uint64_t v)
{
	uint8_t *p = field(w, key, 8);
	if (p) put64(p, v);
}

size_t tlvw_begin(struct tlv_writer *w, uint16_t key)
{
	size_t mark = w->len;
	field(w, key, 0);
	return mark;
}

void tlvw_end(struct tlv_writer *w, size_t mark)
{
	if (w->overflow) return;
	put32(w->buf + mark + 2, (uint32_t)(w->len - mark - TLV_HDR));
}
