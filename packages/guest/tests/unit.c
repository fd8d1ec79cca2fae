/*
 * Unit tests: the frame codec and its resynchronisation, the TLV reader and writer,
 * request parsing, the kernel command line's settings, and dispatch through the real link
 * and stream table (with the stubbed effects of fuzz/effects_stub.c).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "frame.h"
#include "le.h"
#include "link.h"
#include "netconf.h"
#include "ops.h"
#include "proto.h"
#include "request.h"
#include "streams.h"
#include "tlv.h"

static int failures, checks;

#define CHECK(c)                                                                           \
	do {                                                                               \
		checks++;                                                                  \
		if (!(c)) {                                                                \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); \
			failures++;                                                        \
		}                                                                          \
	} while (0)

/* ---- building input --------------------------------------------------------------- */

struct buf {
	size_t n;
	uint8_t b[2 << 20];
};

static struct buf in, tlv;

static void put(struct buf *o, const void *p, size_t n)
{
	if (o->n + n > sizeof o->b) abort();
	if (n) memcpy(o->b + o->n, p, n);
	o->n += n;
}

static void frame(struct buf *o, uint8_t type, uint32_t stream, uint8_t ch, const void *p, size_t n)
{
	uint8_t h[FRAME_HDR];
	frame_put_header(h, type, stream, (uint32_t)n, ch);
	put(o, h, sizeof h);
	put(o, p, n);
}

static void t_bytes(struct buf *t, uint16_t key, const void *p, size_t n)
{
	uint8_t h[TLV_HDR];
	put16(h, key);
	put32(h + 2, (uint32_t)n);
	put(t, h, sizeof h);
	put(t, p, n);
}

static void t_str(struct buf *t, uint16_t key, const char *s) { t_bytes(t, key, s, strlen(s)); }

static void t_u64(struct buf *t, uint16_t key, uint64_t v)
{
	uint8_t b[8];
	put64(b, v);
	t_bytes(t, key, b, 8);
}

/* An OPEN of op on stream id, with the fields already in tlv (which it then clears). */
static void open_op(uint32_t id, const char *op)
{
	struct buf *t = malloc(sizeof *t);
	t->n = 0;
	t_str(t, K_OP, op);
	put(t, tlv.b, tlv.n);
	frame(&in, FT_OPEN, id, 0, t->b, t->n);
	free(t);
	tlv.n = 0;
}

/* ---- running the agent's pure half ----------------------------------------------- */

struct out {
	uint8_t type, ch;
	uint32_t stream;
	size_t off, len;
};

static struct out outs[4096];
static int nouts;
static struct buf outbytes;

static void collect(void)
{
	const uint8_t *p;
	size_t n = link_out_pending(&p);
	struct scanner sc = {0};
	size_t at = 0;
	while (at < n) {
		struct frame f;
		size_t used;
		if (frame_scan(&sc, p + at, n - at, &f, &used) != SCAN_FRAME) abort();
		if (nouts < 4096) {
			outs[nouts++] = (struct out){f.type, f.channel, f.stream, outbytes.n, f.len};
			put(&outbytes, f.payload, f.len);
		}
		at += used;
	}
	link_out_consume(n);
}

/* Feeds all of in to the agent, collecting what it sends; steps run only if step. */
static void feed(bool step)
{
	nouts = 0;
	outbytes.n = 0;
	size_t at = 0;
	for (int idle = 0; idle < 3;) {
		size_t space;
		uint8_t *dst = link_in_space(&space);
		size_t n = in.n - at < space ? in.n - at : space;
		memcpy(dst, in.b + at, n);
		link_in_commit(n);
		at += n;
		link_process();
		if (step) streams_step(0);
		collect();
		idle = at == in.n ? idle + 1 : 0;
	}
	in.n = 0;
}

static void run(void) { feed(true); }

static const struct out *find_out(uint8_t type, uint32_t stream)
{
	for (int i = 0; i < nouts; i++)
		if (outs[i].type == type && outs[i].stream == stream) return &outs[i];
	return NULL;
}

static int count_out(uint8_t type, uint32_t stream)
{
	int n = 0;
	for (int i = 0; i < nouts; i++) n += outs[i].type == type && outs[i].stream == stream;
	return n;
}

static bool field(const struct out *o, uint16_t key, struct tlv_field *f)
{
	struct tlv_iter it;
	tlv_iter_init(&it, outbytes.b + o->off, o->len);
	while (tlv_next(&it, f) > 0)
		if (f->key == key) return true;
	return false;
}

/* The ERR_CODE of the ERROR on stream, or "" when there is none. */
static const char *error_code(uint32_t stream)
{
	static char code[64];
	struct tlv_field f;
	const struct out *o = find_out(FT_ERROR, stream);
	code[0] = 0;
	if (o && field(o, K_ERR_CODE, &f) && f.len < sizeof code) {
		memcpy(code, f.val, f.len);
		code[f.len] = 0;
	}
	return code;
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_header(void)
{
	uint8_t h[FRAME_HDR];
	frame_put_header(h, FT_DATA, 0x01020304, 65536, 2);
	CHECK(h[0] == 0x42 && h[1] == 0x53 && h[2] == 1 && h[3] == FT_DATA);
	CHECK(le32(h + 4) == 0x01020304 && le32(h + 8) == 65536 && h[12] == 2);
	CHECK(frame_header_ok(h));

	struct {
		int at;
		uint8_t v;
	} bad[] = {{0, 0x43}, {1, 0}, {2, 2}, {3, 0}, {3, 10}, {12, 3}, {13, 1}, {14, 1}, {15, 1}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint8_t b[FRAME_HDR];
		memcpy(b, h, sizeof b);
		b[bad[i].at] = bad[i].v;
		CHECK(!frame_header_ok(b));
	}
	put32(h + 8, FRAME_MAX);
	CHECK(frame_header_ok(h));
	put32(h + 8, FRAME_MAX + 1);
	CHECK(!frame_header_ok(h));
}

static void test_scan(void)
{
	struct scanner sc = {0};
	struct frame f;
	size_t used;
	struct buf *b = malloc(sizeof *b);
	b->n = 0;
	frame(b, FT_DATA, 7, 0, "hello", 5);
	frame(b, FT_EOF, 7, 0, NULL, 0);

	CHECK(frame_scan(&sc, b->b, 15, &f, &used) == SCAN_MORE && used == 0);
	CHECK(frame_scan(&sc, b->b, 20, &f, &used) == SCAN_MORE);
	CHECK(frame_scan(&sc, b->b, b->n, &f, &used) == SCAN_FRAME);
	CHECK(used == 21 && f.type == FT_DATA && f.stream == 7 && f.len == 5 &&
	      !memcmp(f.payload, "hello", 5));
	CHECK(frame_scan(&sc, b->b + 21, b->n - 21, &f, &used) == SCAN_FRAME && f.type == FT_EOF);

	/* garbage, then a plausible start with a bad length, then a good frame */
	b->n = 0;
	put(b, "garbage!", 8);
	uint8_t h[FRAME_HDR];
	frame_put_header(h, FT_OPEN, 1, FRAME_MAX + 1, 0);
	put(b, h, sizeof h);
	size_t good = b->n;
	frame(b, FT_HELLO, 0, 0, NULL, 0);
	size_t at = 0;
	int bads = 0, frames = 0;
	for (;;) {
		enum scan_result r = frame_scan(&sc, b->b + at, b->n - at, &f, &used);
		if (r == SCAN_MORE) break;
		CHECK(used > 0);
		if (r == SCAN_BAD) bads++;
		if (r == SCAN_FRAME) {
			frames++;
			CHECK(at == good && f.type == FT_HELLO);
		}
		at += used;
	}
	CHECK(bads == 1 && frames == 1 && at == b->n && !sc.resync);

	/* while resynchronising, a candidate whose header is cut off waits for the rest */
	sc.resync = true;
	CHECK(frame_scan(&sc, (const uint8_t *)"xyBS", 4, &f, &used) == SCAN_SKIP && used == 1);
	CHECK(frame_scan(&sc, h, 10, &f, &used) == SCAN_MORE && used == 0);
	free(b);
}

static void test_tlv(void)
{
	struct buf *t = malloc(sizeof *t);
	t->n = 0;
	t_str(t, 1, "ab");
	t_u64(t, 2, 0x1122334455667788ull);
	t_bytes(t, 3, NULL, 0);
	struct tlv_iter it;
	struct tlv_field f;
	uint64_t v;
	tlv_iter_init(&it, t->b, t->n);
	CHECK(tlv_next(&it, &f) == 1 && f.key == 1 && f.len == 2 && !memcmp(f.val, "ab", 2));
	CHECK(!tlv_u64(&f, &v));
	CHECK(tlv_next(&it, &f) == 1 && f.key == 2 && tlv_u64(&f, &v) && v == 0x1122334455667788ull);
	CHECK(tlv_next(&it, &f) == 1 && f.key == 3 && f.len == 0);
	CHECK(tlv_next(&it, &f) == 0);

	tlv_iter_init(&it, t->b, 5); /* a cut header */
	CHECK(tlv_next(&it, &f) == -1);
	tlv_iter_init(&it, t->b, 7); /* a value running past the end */
	CHECK(tlv_next(&it, &f) == -1);
	uint8_t huge[TLV_HDR] = {1, 0, 0xff, 0xff, 0xff, 0xff};
	tlv_iter_init(&it, huge, sizeof huge);
	CHECK(tlv_next(&it, &f) == -1);

	uint8_t out[64];
	struct tlv_writer w;
	tlvw_init(&w, out, sizeof out);
	size_t m = tlvw_begin(&w, 22);
	tlvw_str(&w, 23, "name");
	tlvw_end(&w, m);
	CHECK(!w.overflow && w.len == 16 && le32(out + 2) == 10);
	tlvw_init(&w, out, 13);
	tlvw_u64(&w, 1, 5);
	CHECK(w.overflow && w.len == 0);
	free(t);
}

static void test_request(void)
{
	struct request r;
	tlv.n = 0;
	t_str(&tlv, K_OP, "exec");
	t_str(&tlv, K_ARGV, "sh");
	t_str(&tlv, K_ARGV, "-c");
	t_str(&tlv, K_ARGV, "");
	t_str(&tlv, K_ENV, "A=1");
	t_u64(&tlv, K_STDIN, 1);
	t_str(&tlv, K_PATH, "/first");
	t_str(&tlv, K_PATH, "/second");
	t_str(&tlv, 999, "ignored");
	t_u64(&tlv, K_EXIT_CODE, 3); /* a result key in a request: ignored */
	CHECK(request_parse(&r, tlv.b, tlv.n) == NULL);
	CHECK(!strcmp(r.op, "exec") && r.argc == 3 && !strcmp(r.argv[1], "-c") && !r.argv[2][0]);
	CHECK(r.argv[3] == NULL && r.envc == 1 && !strcmp(r.env[0], "A=1") && !r.env[1]);
	CHECK(HAS(&r, K_STDIN) && r.stdin_ == 1 && !strcmp(r.path, "/first"));
	CHECK(!HAS(&r, K_CWD) && !HAS(&r, K_EXIT_CODE));

	tlv.n = 0;
	t_bytes(&tlv, K_PATH, "/a\0b", 4);
	CHECK(request_parse(&r, tlv.b, tlv.n) != NULL);
	tlv.n = 0;
	t_bytes(&tlv, K_MODE, "1234567", 7);
	CHECK(request_parse(&r, tlv.b, tlv.n) != NULL);
	tlv.n = 0;
	t_str(&tlv, K_OP, "ping");
	CHECK(request_parse(&r, tlv.b, tlv.n - 1) != NULL);
	CHECK(request_parse(&r, NULL, 0) == NULL && r.have == 0 && r.argc == 0);
	t_bytes(&tlv, K_ENTROPY, "\0\1\2", 3); /* bytes, not a string: NULs are fine */
	CHECK(request_parse(&r, tlv.b, tlv.n) == NULL && r.entropy_len == 3);
	tlv.n = 0;

	/* the arena holds the worst case: a frame of empty ARGV fields */
	struct buf *t = malloc(sizeof *t);
	t->n = 0;
	while (t->n + TLV_HDR <= FRAME_MAX) t_bytes(t, K_ARGV, NULL, 0);
	CHECK(request_parse(&r, t->b, t->n) == NULL && r.argc == FRAME_MAX / TLV_HDR);
	free(t);
}

static void test_bad_frames(void)
{
	put(&in, "\x42\x53\x01\x63this is not a frame at all", 30);
	open_op(5, "ping");
	run();
	CHECK(count_out(FT_ERROR, 0) == 1 && !strcmp(error_code(0), E_BAD_FRAME));
	CHECK(find_out(FT_DONE, 5) != NULL);

	uint8_t h[FRAME_HDR];
	frame_put_header(h, FT_OPEN, 6, 16, 0);
	h[14] = 1; /* reserved */
	put(&in, h, sizeof h);
	open_op(7, "ping");
	run();
	CHECK(count_out(FT_ERROR, 0) == 1 && find_out(FT_DONE, 7) && !find_out(FT_DONE, 6));

	frame(&in, FT_DONE, 1, 0, NULL, 0);     /* agent → host only */
	frame(&in, FT_CREDIT, 1, 1, "abc", 3);  /* not 4 bytes */
	frame(&in, FT_DATA, 1, 1, "x", 1);      /* host data goes on channel 0 */
	frame(&in, FT_OPEN, 0, 0, NULL, 0);     /* stream 0 is the link */
	open_op(8, "ping");
	run();
	CHECK(count_out(FT_ERROR, 0) == 4 && find_out(FT_DONE, 8));

	frame(&in, FT_DATA, 99, 0, "x", 1); /* an unknown stream: dropped silently */
	frame(&in, FT_EOF, 99, 0, NULL, 0);
	run();
	CHECK(nouts == 0);
}

static void test_requests(void)
{
	open_op(1, "launch");
	open_op(2, "read"); /* no PATH */
	t_str(&tlv, K_PATH, "relative");
	open_op(3, "stat");
	t_str(&tlv, K_PATH, "/x");
	t_str(&tlv, K_PATH2, "y");
	open_op(4, "rename");
	frame(&in, FT_OPEN, 5, 0, "\x01\x00\x09\x00\x00\x00ping", 10); /* len past the end */
	frame(&in, FT_OPEN, 6, 0, NULL, 0);                            /* no OP */
	t_str(&tlv, K_ARGV, "sh");
	t_str(&tlv, K_ENV, "NOEQUALS");
	open_op(7, "exec");
	t_str(&tlv, K_ARGV, "sh");
	t_u64(&tlv, K_COLS, 80);
	open_op(8, "exec"); /* COLS without ROWS */
	t_str(&tlv, K_MACHINE_ID, "not-hex");
	open_op(9, "identity");
	static const uint8_t entropy[513];
	t_bytes(&tlv, K_ENTROPY, entropy, sizeof entropy);
	open_op(10, "identity");
	t_str(&tlv, K_PATH, "/f");
	t_u64(&tlv, K_MODE, 010000);
	open_op(11, "write");
	t_str(&tlv, K_HOSTNAME, "h");
	t_str(&tlv, K_MACHINE_ID, "0123456789abcdefABCDEF0123456789");
	open_op(12, "identity");
	run();
	CHECK(!strcmp(error_code(1), E_UNKNOWN_OP));
	for (uint32_t id = 2; id <= 11; id++) CHECK(!strcmp(error_code(id), E_BAD_REQUEST));
	CHECK(find_out(FT_DONE, 12) != NULL);
}

static void test_streams(void)
{
	/* STREAM_IN_USE leaves the live stream alone */
	t_str(&tlv, K_ARGV, "cat");
	open_op(1, "exec");
	open_op(1, "ping");
	frame(&in, FT_DATA, 1, 0, "abc", 3);
	run();
	CHECK(find_out(FT_REPLY, 1) && !strcmp(error_code(1), E_STREAM_IN_USE));
	const struct out *c = find_out(FT_CREDIT, 1);
	CHECK(c && c->ch == 0 && c->len == 4 && le32(outbytes.b + c->off) == 3);
	uint8_t cancel[14];
	put16(cancel, K_CANCEL);
	put32(cancel + 2, 8);
	put64(cancel + 6, 1);
	frame(&in, FT_CONTROL, 1, 0, cancel, sizeof cancel);
	run();
	CHECK(find_out(FT_DONE, 1) != NULL);

	/* the sink sends what credit allows, and more once granted */
	t_str(&tlv, K_PATH, "/f");
	open_op(2, "read");
	run();
	size_t sent = 0;
	for (int i = 0; i < nouts; i++)
		if (outs[i].type == FT_DATA && outs[i].stream == 2) sent += outs[i].len;
	CHECK(sent == 4096);

	/* more than the window without credit back: the stream ends */
	t_str(&tlv, K_PATH, "/g");
	open_op(3, "write");
	static uint8_t chunk[DATA_MAX];
	for (int i = 0; i < 4; i++) frame(&in, FT_DATA, 3, 0, chunk, sizeof chunk);
	feed(false); /* no step, so no CREDIT goes back: the window is used up */
	CHECK(!find_out(FT_ERROR, 3));
	frame(&in, FT_DATA, 3, 0, "!", 1);
	run();
	CHECK(!strcmp(error_code(3), E_BAD_FRAME));

	/* a malformed CONTROL ends its stream with BAD_REQUEST */
	t_str(&tlv, K_ARGV, "sh");
	open_op(4, "exec");
	uint8_t sig0[14];
	memcpy(sig0, cancel, sizeof sig0);
	put16(sig0, K_SIGNAL);
	put64(sig0 + 6, 0);
	frame(&in, FT_CONTROL, 4, 0, sig0, sizeof sig0);
	run();
	CHECK(!strcmp(error_code(4), E_BAD_REQUEST));

	/* freeze: refused under an upload; then writes are refused until thaw */
	t_str(&tlv, K_PATH, "/u");
	open_op(5, "write");
	open_op(6, "freeze");
	frame(&in, FT_EOF, 5, 0, NULL, 0);
	open_op(7, "freeze");
	t_str(&tlv, K_PATH, "/d");
	open_op(8, "mkdir");
	open_op(9, "thaw");
	t_str(&tlv, K_PATH, "/d");
	open_op(10, "mkdir");
	run();
	CHECK(!strcmp(error_code(6), E_BUSY) && find_out(FT_DONE, 5) && find_out(FT_DONE, 7));
	CHECK(!strcmp(error_code(8), E_BUSY) && find_out(FT_DONE, 9) && find_out(FT_DONE, 10));

	/* BUSY past 1024 open streams; HELLO ends them all */
	for (uint32_t id = 100; id < 100 + MAX_STREAMS; id++) {
		t_str(&tlv, K_PATH, "/w");
		open_op(id, "write");
	}
	open_op(5000, "ping");
	run();
	CHECK(!strcmp(error_code(5000), E_BUSY) && count_out(FT_ERROR, 100) == 0);
	uint8_t hello[14];
	memcpy(hello, cancel, sizeof hello);
	put16(hello, K_PROTO_VERSION);
	frame(&in, FT_HELLO, 0, 0, hello, sizeof hello);
	open_op(100, "ping");
	run();
	const struct out *h = find_out(FT_HELLO, 0);
	struct tlv_field f;
	uint64_t v = 0;
	CHECK(h && field(h, K_PROTO_VERSION, &f) && tlv_u64(&f, &v) && v == PROTO_VERSION);
	CHECK(h && field(h, K_AGENT_VERSION, &f) && f.len == strlen(AGENT_VERSION));
	CHECK(find_out(FT_DONE, 100) != NULL);
}

static bool value_is(const char *line, const char *key, const char *want)
{
	size_t n = 0;
	const char *v = cmdline_value(line, key, &n);
	return want ? v && n == strlen(want) && !memcmp(v, want, n) : v == NULL;
}

/* Whether line asks for kind (on port, for vsock), and complains only when !ok. */
static bool transport_is(const char *line, bool ok, enum transport_kind kind, uint32_t port)
{
	struct transport t;
	bool quiet = cmdline_transport(line, &t) == NULL;
	return quiet == ok && t.kind == kind && (kind != TRANSPORT_VSOCK || t.vsock_port == port);
}

static void test_cmdline(void)
{
	const char *line = "console=ttyS0 quiet\tscaibunker.hostname=a scaibunker.hostname=box-1\n";
	CHECK(value_is(line, "scaibunker.hostname=", "box-1")); /* the last one wins */
	CHECK(value_is(line, "console=", "ttyS0"));
	CHECK(value_is(line, "quiet=", NULL) && value_is("", "console=", NULL));
	CHECK(value_is("xscaibunker.hostname=a", "scaibunker.hostname=", NULL)); /* whole tokens only */
	CHECK(value_is("  scaibunker.hostname= x", "scaibunker.hostname=", "")); /* empty value */

	const enum transport_kind SERIAL = TRANSPORT_VIRTIO_SERIAL, VSOCK = TRANSPORT_VSOCK;
	CHECK(transport_is("console=ttyS0 quiet", true, SERIAL, 0));
	CHECK(transport_is("scaibunker.transport=virtio-serial", true, SERIAL, 0));
	CHECK(transport_is("quiet scaibunker.transport=vsock", true, VSOCK, VSOCK_PORT_DEFAULT));
	CHECK(transport_is("scaibunker.vsock_port=52 scaibunker.transport=vsock", true, VSOCK, 52));
	CHECK(transport_is("scaibunker.transport=vsock scaibunker.vsock_port=4294967294", true, VSOCK,
			   4294967294u));
	/* the port alone does not switch transports */
	CHECK(transport_is("scaibunker.vsock_port=52", true, SERIAL, 0));
	/* what cannot be used is reported, and the default taken for it */
	CHECK(transport_is("scaibunker.transport=vsockx", false, SERIAL, 0));
	CHECK(transport_is("scaibunker.transport=", false, SERIAL, 0));
	const char *bad_ports[] = {"0", "", "-1", "12a", "4294967295", "99999999999", "0x10", " 5"};
	for (size_t i = 0; i < sizeof bad_ports / sizeof *bad_ports; i++) {
		char bad[128];
		snprintf(bad, sizeof bad, "scaibunker.transport=vsock scaibunker.vsock_port=%s", bad_ports[i]);
		CHECK(transport_is(bad, false, VSOCK, VSOCK_PORT_DEFAULT));
	}
}

static void test_netconf(void)
{
	struct netconf nc;
	CHECK(!netconf_parse("52:54:00:0a:00:02 100.96.0.2/30 100.96.0.1 100.96.0.1", &nc));
	CHECK(nc.mac[0] == 0x52 && nc.mac[5] == 0x02 && nc.prefix == 30);
	CHECK(nc.netmask.s_addr == htonl(0xfffffffc) && nc.address.s_addr == htonl(0x64600002));
	CHECK(nc.gateway.s_addr == htonl(0x64600001) && nc.resolver.s_addr == htonl(0x64600001));
	CHECK(!netconf_parse("52:54:00:0A:00:02 10.0.0.9/8 10.255.0.1 192.0.2.53", &nc));
	const char *bad[] = {
		"", "52:54:00:0a:00:02", "52:54:00:0a:00:02 100.96.0.2/30 100.96.0.1",
		"52:54:00:0a:00:02 100.96.0.2/30 100.96.0.1 100.96.0.1 extra",
		"53:54:00:0a:00:02 100.96.0.2/30 100.96.0.1 100.96.0.1",  /* multicast */
		"52:54:00:0a:00 100.96.0.2/30 100.96.0.1 100.96.0.1",     /* short MAC */
		"52:54:00:0a:00:02x 100.96.0.2/30 100.96.0.1 100.96.0.1", /* long MAC */
		"52:54:00:0a:00:02 100.96.0.2 100.96.0.1 100.96.0.1",     /* no prefix */
		"52:54:00:0a:00:02 100.96.0.2/31 100.96.0.1 100.96.0.1",  /* prefix too long */
		"52:54:00:0a:00:02 100.96.0.2/0 100.96.0.1 100.96.0.1",
		"52:54:00:0a:00:02 100.96.0.2/3x 100.96.0.1 100.96.0.1",
		"52:54:00:0a:00:02 100.96.0.300/30 100.96.0.1 100.96.0.1",
		"52:54:00:0a:00:02 100.96.0.2/30 100.96.1.1 100.96.0.1", /* gateway off the subnet */
		"52:54:00:0a:00:02 100.96.0.2/30 100.96.0.1 ::1",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CHECK(netconf_parse(bad[i], &nc) != NULL);

	struct nic nics[NICS_MAX];
	int count = -1;
	CHECK(!nics_parse("eth1 wan0 02:00:00:00:00:01 eth2 lan0 02:00:00:00:00:02", nics, &count) && count == 2);
	CHECK(!strcmp(nics[0].dev, "eth1") && !strcmp(nics[1].name, "lan0") && nics[1].mac[5] == 2);
	CHECK(!nics_parse("", nics, &count) && count == 0);
	const char *bad_nics[] = {
		"eth1 wan0", "eth1 wan0 02:00:00:00:00:01 eth2", "eth1 Wan0 02:00:00:00:00:01", "eth1 1wan 02:00:00:00:00:01",
		"eth1 wan0 03:00:00:00:00:01", "eth0 wan0 02:00:00:00:00:01", "eth1 eth0 02:00:00:00:00:01", "eth1 lo 02:00:00:00:00:01",
		"eth1 wan0 02:00:00:00:00:01 eth1 lan0 02:00:00:00:00:02", "eth1 a 02:00:00:00:00:01 eth2 a 02:00:00:00:00:02",
		"eth1 abcdefghijklmnop 02:00:00:00:00:01",
	};
	for (size_t i = 0; i < sizeof bad_nics / sizeof *bad_nics; i++) CHECK(nics_parse(bad_nics[i], nics, &count) != NULL);
}

int main(void)
{
	link_reset();
	test_header();
	test_scan();
	test_tlv();
	test_request();
	test_bad_frames();
	test_requests();
	test_streams();
	test_cmdline();
	test_netconf();
	streams_abort_all();
	printf("unit: %d checks, %d failed\n", checks, failures);
	return failures != 0;
}
