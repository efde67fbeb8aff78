// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writes a seed corpus for the fuzz targets: well-formed inputs produced by
 * the real encoders, so that fuzzing starts from inside the protocol.
 * Usage: gen-seeds DIR   (creates DIR/ring, DIR/msg, DIR/gpadl, DIR/xfer,
 * DIR/bus, DIR/kdframe)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz-bus.h"
#include "vmbus/vmbus_msg.h"

static const char *outdir;

static void put(const char *target, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
		fprintf(stderr, "gen-seeds: failed to write \"%s\" (%s)\n", path,
			strerror(errno));
		exit(1);
	}
}

static void ring_seed(const char *name, int kind)
{
	static uint8_t tx[VMBUS_RING_HDR_SIZE + 1024], rx[VMBUS_RING_HDR_SIZE + 1024];
	static uint8_t out[16 + 1024];
	vmbus_gref_t g[3] = { 1, 2, 3 };
	struct vmbus_gpa_desc gd[2] = { { 100, 10, 1, g }, { 5000, 0, 2, g + 1 } };
	struct vmbus_pkt_range pr[2] = { { 10, 0 }, { 20, 4096 } };
	struct vmbus_ring r;
	uint16_t sel = 15;	/* 1024 bytes */
	uint32_t w, zero = 0;
	int i;

	vmbus_ring_hdr_init(tx, sizeof(tx), VMBUS_RING_FEAT_PENDING_SEND_SZ);
	vmbus_ring_hdr_init(rx, sizeof(rx), VMBUS_RING_FEAT_PENDING_SEND_SZ);
	vmbus_ring_init(&r, tx, sizeof(tx), rx, sizeof(rx), NULL, NULL);
	for (i = 0; i < 3; i++) {
		switch (kind) {
		case 0:
			vmbus_ring_send_inband(&r, "hello world", 11, i, 1);
			break;
		case 1:
			vmbus_ring_send_xferpage(&r, 1, true, pr, 2, i, 0, "x", 1);
			break;
		case 2:
			vmbus_ring_send_gpa_direct(&r, gd, 2, i, 0, "yy", 2);
			break;
		default:
			vmbus_ring_send_gpadl(&r, 9, pr, 2, i, 0, NULL, 0);
			break;
		}
	}
	memcpy(&w, tx + 0, 4);
	memset(out, 0, 16);
	memcpy(out, &sel, 2);
	memcpy(out + 2, &w, 4);
	memcpy(out + 6, &zero, 4);
	out[14] = VMBUS_RING_FEAT_PENDING_SEND_SZ;
	memcpy(out + 16, tx + VMBUS_RING_HDR_SIZE, 1024);
	put("ring", name, out, sizeof(out));
}

static void msg_seed(const struct vmbus_msg *m, unsigned int dir)
{
	static unsigned int seq;
	uint8_t out[1 + VMBUS_MSG_MAX_SIZE];
	char name[64];
	int len;

	out[0] = (uint8_t)dir;
	len = vmbus_msg_encode(m, out + 1, sizeof(out) - 1);
	if (len < 0) {
		fprintf(stderr, "gen-seeds: failed to encode %s (%d)\n",
			vmbus_msg_name(m->u.hdr.msgtype), len);
		exit(1);
	}
	snprintf(name, sizeof(name), "%02u-%s-%u", seq++,
		 vmbus_msg_name(m->u.hdr.msgtype), m->len);
	put("msg", name, out, (size_t)len + 1);
}

static void gpadl_seed(const char *name, uint32_t pages, uint32_t nranges)
{
	static vmbus_gref_t g[4096];
	static struct vmbus_msg msgs[128];
	static uint8_t out[128 * (1 + VMBUS_MSG_MAX_SIZE)];
	struct vmbus_gpa_desc r[4];
	size_t off = 0;
	uint32_t i;
	int n, len;

	for (i = 0; i < 4096; i++)
		g[i] = 100 + i;
	for (i = 0; i < nranges; i++)
		r[i] = (struct vmbus_gpa_desc){ pages * 4096 - 17, 17, pages,
						g + i * pages };
	n = vmbus_gpadl_build(msgs, 128, 3, 0x77, r, nranges);
	if (n < 0)
		exit(1);
	for (i = 0; i < (uint32_t)n; i++) {
		out[off++] = (uint8_t)(msgs[i].len / 8);
		len = vmbus_msg_encode(&msgs[i], out + off, VMBUS_MSG_MAX_SIZE);
		off += (size_t)len;
	}
	put("gpadl", name, out, off);
	/* The same ranges as a raw range buffer. */
	out[0] = 0x80 | (uint8_t)nranges;
	len = (int)vmbus_gpa_encode(out + 1, sizeof(out) - 1, r, nranges);
	{
		char raw[64];

		snprintf(raw, sizeof(raw), "raw-%s", name);
		put("gpadl", raw, out, (size_t)len + 1);
	}
}

/* fuzz-xfer: type selector, memory size, type header. */
static void xfer_seed(const char *name, uint8_t sel, uint32_t memsize,
		      const void *thdr, size_t len)
{
	uint8_t out[512];

	out[0] = sel;
	memcpy(out + 1, &memsize, 4);
	memcpy(out + 5, thdr, len);
	put("xfer", name, out, 5 + len);
}

static void xfer_seeds(void)
{
	struct {
		uint32_t w0, count;
		struct vmbus_pkt_range r[3];
	} h = { 5, 3, { { 100, 0 }, { 4096, 4096 }, { 1, 8191 } } };
	struct vmbus_pkt_xfer_pageset ps = { .gpadl_id = 9, .pageset_id = 5 };

	xfer_seed("xferpage", 2, 8192, &h, 8 + 3 * 8);
	xfer_seed("gpadl", 3, 1 << 20, &h, 8 + 3 * 8);
	xfer_seed("gpadl-outside", 3, 4096, &h, 8 + 2 * 8);
	xfer_seed("add-pageset", 0, 0, (uint8_t *)&ps + 16, 8);
	xfer_seed("rm-pageset", 1, 0, (uint8_t *)&ps + 16, 8);
}


/*
 * fuzz-bus: sequences of operations (fuzz-bus.h).  After the opcode comes
 * the guest byte (bit 0: guest 0 = domain 1, guest 1 = domain 2), then the
 * operation's arguments.  Relid selectors 1..5 are literal (the servers
 * offer 1: a plain device, 2: a pipe, 3: the channel between the guests,
 * domain 1 opening); GPADL selector 1 is the guest's first GPADL, 2 its
 * second, and so on.
 */
#define BUS(...)	{ __VA_ARGS__ }
#define HELLO(g)	OP_CONNECT, g, OP_CONTACT, g, 4, OP_REQOFFERS, g, \
			OP_DRAIN, g
/* Open relid 1 with rings of 2 pages each way, class version 2.0. */
#define OPEN1(g)	OP_OPEN, g, 1, 0x20, 0, OP_DRAIN, g

static const struct {
	const char *name;
	uint8_t ops[160];
	size_t len;
} bus_seeds[] = {
#define SEED(n, ...) { n, __VA_ARGS__, sizeof((uint8_t[])__VA_ARGS__) }
	SEED("handshake", BUS(HELLO(0), HELLO(1))),
	SEED("handshake-1.0", BUS(OP_CONNECT, 0, OP_CONTACT, 0, 0,
				  OP_REQOFFERS, 0, OP_DRAIN, 0)),
	SEED("reconnect", BUS(HELLO(0), OP_CONNECT, 2, OP_CONTACT, 0, 4,
			      OP_REQOFFERS, 0, OP_DRAIN, 0)),
	SEED("open-close", BUS(HELLO(0), OPEN1(0), OP_SVC_SEND, 0, 0, 5, 0, 0, 0, 0,
			       OP_CHAN_PKT, 0, 1, 0x30, 1, 7, 0, 0, 0, 0,
			       OP_SVC_RECV, 0, 0, 4, 0, OP_DRAIN, 0,
			       OP_CLOSE, 0, 1, OP_TEARDOWN, 0, 1, 1,
			       OP_DRAIN, 0)),
	SEED("gpadl", BUS(HELLO(0), OPEN1(0), OP_GPADL, 0, 1, 3, 0,
			  OP_DRAIN, 0, OP_SVC_MAP, 0, 0, 2, 0,
			  OP_SVC_TOUCH, 0, 0, 0, 0, 16, 0,
			  OP_TEARDOWN, 0, 1, 2, OP_SVC_UNMAP, 0, 0,
			  OP_DRAIN, 0, OP_UNLOAD, 0, OP_DRAIN, 0)),
	SEED("gpadl-multi", BUS(HELLO(0), OP_GPADL, 0, 1, 31, 0x02,
				OP_GPADL, 0, 1, 5, 0x80, OP_GPADL, 0, 1, 2, 0x20,
				OP_GPADL, 8, 1, 9, 0x00, OP_DRAIN, 0,
				OP_TEARDOWN, 0, 1, 1, OP_TEARDOWN, 0, 1, 2,
				OP_DRAIN, 0)),
	SEED("xferset", BUS(HELLO(0), OPEN1(0), OP_GPADL, 0, 1, 3, 0,
			    OP_DRAIN, 0,
			    /* ADD_XFER_PAGESET of GPADL 2 as set 3 */
			    OP_CHAN_PKT, 0, 1, 1, 1, 5, 0, 0, 0, 0, 2, 3,
			    OP_SVC_RECV, 0, 0, 4, 2,
			    /* DATA_USING_XFER_PAGES in set 3, held */
			    OP_CHAN_PKT, 0, 1, 4, 1, 6, 100, 0, 1, 0, 3,
			    OP_SVC_RECV, 0, 0, 4, 2,
			    /* RM_XFER_PAGESET 3, GPADL_TEARDOWN, complete */
			    OP_CHAN_PKT, 0, 1, 2, 1, 7, 0, 0, 0, 0, 2, 3,
			    OP_TEARDOWN, 0, 1, 2, OP_SVC_RECV, 0, 0, 4, 0,
			    OP_SVC_COMPLETE, 0, OP_DRAIN, 0,
			    OP_CLOSE, 0, 1, OP_DRAIN, 0)),
	SEED("gpa-packets", BUS(HELLO(0), OPEN1(0), OP_GPADL, 0, 1, 1, 0,
				OP_DRAIN, 0, OP_SVC_MAP, 0, 0, 2, 1,
				OP_CHAN_PKT, 0, 1, 0x13, 1, 9, 16, 0, 0, 0,
				32, 0, 1, 0, 2,
				OP_SVC_RECV, 0, 0, 4, 0,
				OP_SVC_SEND, 0, 0, 0x41, 10, 0, 0, 0,
				OP_DRAIN, 0)),
	SEED("peer", BUS(HELLO(0), HELLO(1),
			 /* domain 1 grants its rings to domain 2 */
			 OP_OPEN, 0, 3, 0x01, 0, OP_OPEN, 1, 3, 0x02, 0,
			 OP_DRAIN, 1, OP_PEER_RESULT, 1, 0,
			 OP_DRAIN, 0, OP_DRAIN, 1,
			 OP_CLOSE, 0, 3, OP_DRAIN, 0, OP_DRAIN, 1,
			 OP_RELEASED, 0, 3, OP_RELEASED, 1, 3)),
	SEED("peer-refused", BUS(HELLO(0), HELLO(1),
				 OP_OPEN, 1, 3, 0x02, 0, OP_OPEN, 0, 3, 0x01, 0,
				 OP_DRAIN, 1, OP_PEER_RESULT, 1, 0x0c,
				 OP_DRAIN, 0, OP_DRAIN, 1)),
	SEED("peer-death", BUS(HELLO(0), HELLO(1),
			       OP_OPEN, 0, 3, 0x01, 0, OP_OPEN, 1, 3, 0x02, 0,
			       OP_DRAIN, 1, OP_PEER_RESULT, 1, 0,
			       OP_KILL, 1, OP_TIME, 2, OP_DRAIN, 0,
			       OP_RELEASED, 0, 3)),
	SEED("rescind", BUS(HELLO(0), OPEN1(0), OP_RESCIND, 0, 1,
			    OP_DRAIN, 0, OP_CLOSE, 0, 1, OP_RELEASED, 0, 1,
			    OP_DRAIN, 0)),
	SEED("restart", BUS(HELLO(0), OPEN1(0), OP_GPADL, 0, 1, 3, 0,
			    OP_SRV_RESTART, 2, OP_TIME, 2, OP_FE_STATE, 2,
			    OP_CONNECT, 0, OP_CONTACT, 0, 4, OP_DRAIN, 0)),
	SEED("death", BUS(HELLO(0), OPEN1(0), OP_GPADL, 0, 1, 3, 0,
			  OP_SVC_MAP, 0, 0, 2, 0, OP_KILL, 0, OP_TIME, 2,
			  OP_SVC_TOUCH, 0, 0, 0, 0, 16, 0)),
	SEED("closing", BUS(HELLO(0), OPEN1(0), OP_FE_STATE, 10, OP_TIME, 2,
			    OP_FE_STATE, 12, OP_TIME, 2, OP_FE_STATE, 2,
			    OP_CONNECT, 0)),
	SEED("storm", BUS(HELLO(0), OPEN1(0), OP_CHAN_PKT, 0, 1, 7, 0, 0,
			  0, 0, 0, 0, OP_SIGNAL, 0xf2, OP_SVC_RECV, 0, 0, 15, 0,
			  OP_RAW_MSG, 0, 200, 3, OP_RAW_PKT, 0, 100, 7,
			  OP_DRAIN, 0)),
	SEED("xenstore", BUS(OP_XS, 0, 1, 5, OP_XS, 0, 2, 0x45, 1, 2, 3, 4,
			     OP_XS, 0, 4, 0x81, OP_FE_STATE, 6, OP_XS, 0, 0x80,
			     0, OP_CONNECT, 0)),
	/*
	 * The client in domain 3.  The bytes after an operation's own are
	 * the server's script, one per message it gets (0: answer well).
	 */
	SEED("client", BUS(OP_CLI_BUS_OPEN, 0, 0, 0, OP_CLI_PROCESS, 0,
			   /* relid 1, GPADL 0, transfer page set 1 */
			   OP_CLI_CHAN_OPEN, 0, 0, 0, 0,
			   OP_CLI_GPADL, 0, 0, 0, OP_CLI_XFERSET, 0, 2,
			   OP_CLI_SRV_PKT, 0, 1, 2 | 1 << 3, 10, 0, 0, 0,
			   OP_CLI_RECV, 0, 3, OP_CLI_SEND, 0, 0, 0, 0, 0, 0,
			   OP_CLI_SEND, 0, 2 | 1 << 2, 10, 0, 0, 0,
			   OP_CLI_XFERSET, 0, 3, OP_CLI_GPADL, 0, 0, 0,
			   /* relid 3: domain 1 grants; relid 4: we grant */
			   OP_CLI_CHAN_OPEN, 2, 2, 0, 0,
			   OP_CLI_CHAN_OPEN, 4, 3, 0, 0,
			   OP_CLI_CHAN_CLOSE, 0, 0, 0,
			   OP_CLI_BUS_CLOSE, 0, 0, 0, 0, 0)),
	/* Offer 1 rescinded at once (its RELID_RELEASED takes a byte). */
	SEED("client-hostile", BUS(OP_CLI_BUS_OPEN, 0, 0, 0xf0, 1, 0,
				   OP_CLI_CHAN_OPEN, 0, 1, 0xd0, 4, 9, 0xf4, 2,
				   2, OP_CLI_SRV_MSG, 0, 0xf2,
				   OP_CLI_SRV_MSG, 0, 0xf7,
				   OP_CLI_SRV_MSG, 0, 0xf8, OP_CLI_PROCESS, 0,
				   OP_CLI_BUS_CLOSE, 0)),
	SEED("client-dies", BUS(OP_CLI_BUS_OPEN, 0, 0, 0,
				OP_CLI_CHAN_OPEN, 0, 0, 0, 0,
				OP_CLI_GPADL, 0, 0, 0xe0,
				OP_CLI_SRV_DIE, 0, OP_CLI_RECV, 0, 1,
				OP_CLI_CHAN_CLOSE, 0, OP_CLI_BUS_CLOSE, 0)),
	SEED("client-silent", BUS(OP_CLI_BUS_OPEN, 0, 0xe0,
				  OP_CLI_BUS_OPEN, 0, OP_CLI_PROCESS, 0)),
	/* vmbusd's pipe service behind offer 2: byte mode, message mode. */
	SEED("pipe-byte", BUS(HELLO(0), OP_OPEN, 0, 2, 0, 0, OP_DRAIN, 0,
			      OP_CHAN_PKT, 0, 2, 48, 0, 1, 0, 0, 0, 0,
			      OP_PIPE_SVC, 0, 0, 0, 0,
			      OP_PIPE_SVC, 0, 1, 100, 0, OP_DRAIN, 0,
			      OP_CHAN_PKT, 0, 2, 0, 0, 2, 0, 0, 0, 0,
			      OP_PIPE_SVC, 0, 2, 0, 0, OP_DRAIN, 0,
			      OP_PIPE_SVC, 0, 3, 0, 0, OP_CLOSE, 0, 2)),
	SEED("pipe-message", BUS(HELLO(1), OP_OPEN, 1, 2, 0, 0, OP_DRAIN, 1,
				 OP_CHAN_PKT, 1, 2, 48, 0, 1, 0, 0, 0, 0,
				 OP_PIPE_SVC, 1, 1, 0xff, 0xff,
				 OP_PIPE_SVC, 1, 0, 0, 0, OP_DRAIN, 1,
				 OP_PIPE_SVC, 1, 3, 0, 0, OP_TIME, 3,
				 OP_DRAIN, 1, OP_UNLOAD, 1)),
#undef SEED
};

/*
 * fuzz-kdframe: a KDNET datagram in Ethernet/IPv4/UDP as a guest posts it
 * (zero checksums: "not computed"), and the bare payload.
 */
static void kdframe_seeds(void)
{
	static const uint8_t payload[] = "MDBG\x00\x02kdnet packet";
	uint8_t f[64 + sizeof(payload)] = { 0 };
	size_t plen = sizeof(payload) - 1, ulen = 8 + plen, tot = 20 + ulen;

	memset(f, 0x02, 12);			/* MACs */
	f[12] = 0x08;				/* IPv4 */
	f[14] = 0x45;
	f[16] = (uint8_t)(tot >> 8);
	f[17] = (uint8_t)tot;
	f[22] = 64;
	f[23] = 17;				/* UDP */
	f[26] = 10, f[29] = 1, f[30] = 10, f[33] = 2;
	f[34] = 0xc3, f[35] = 0x50;		/* port 50000 */
	f[36] = 0xc3, f[37] = 0x51;
	f[38] = (uint8_t)(ulen >> 8);
	f[39] = (uint8_t)ulen;
	memcpy(f + 42, payload, plen);
	put("kdframe", "udp", f, 42 + plen);
	put("kdframe", "bare", payload, plen);
}


/*
 * fuzz-netvsp: the bring-up, then an RNDIS PACKET with a checksum info in
 * send section 2, the same as LSO in page buffers (grant page 0), a frame
 * from the tap, and completions of the receive packets.
 */
static size_t netvsp_frame(uint8_t *f, size_t payload)
{
	size_t tot = 20 + 20 + payload;

	memset(f, 0, 54 + payload);
	memset(f, 0x02, 12);
	f[12] = 0x08;				/* IPv4 */
	f[14] = 0x45;
	f[22] = 64;
	f[23] = 6;				/* TCP */
	f[26] = 198, f[27] = 18, f[29] = 1;
	f[30] = 198, f[31] = 18, f[33] = 2;
	f[46] = 0x50;				/* TCP header 20 bytes */
	(void)tot;
	return 54 + payload;
}

static size_t netvsp_rndis(uint8_t *o, const uint8_t *f, size_t flen,
			   uint32_t ppi_type, uint32_t ppi_val)
{
	uint32_t w[15] = { 1, 0, 36 + 16, (uint32_t)flen, 0, 0, 0, 36, 16,
			   0, 0, 16, ppi_type, 12, ppi_val };

	w[1] = (uint32_t)(8 + 36 + 16 + flen);
	memcpy(o, w, sizeof(w));
	memcpy(o + sizeof(w), f, flen);
	return sizeof(w) + flen;
}

static void netvsp_seeds(void)
{
	uint8_t in[4096], f[1600], r[1700];
	size_t n = 0, fl, rl;
	uint32_t gpa[5] = { 0, 1, 0, 0, 0 };
	uint32_t msg[10] = { 107, 0, 0xffffffffu, 0 };

	in[n++] = 0, in[n++] = 0;			/* bring-up, 6.1 */
	fl = netvsp_frame(f, 100);
	rl = netvsp_rndis(r, f, fl, 0, 0x5 | 34u << 16);
	in[n++] = 3, in[n++] = 8, in[n++] = 0x00, in[n++] = 0x30;
	in[n++] = (uint8_t)rl;
	memcpy(in + n, r, rl), n += rl;
	in[n++] = 5, in[n++] = 2, in[n++] = (uint8_t)rl, in[n++] = 0;
	fl = netvsp_frame(f, 200);
	rl = netvsp_rndis(r, f, fl, 2, 1448u | 34u << 20 | 1u << 30);
	in[n++] = 3, in[n++] = 0, in[n++] = 0, in[n++] = 0;
	in[n++] = (uint8_t)rl;
	memcpy(in + n, r, (uint8_t)rl), n += (uint8_t)rl;
	gpa[2] = (uint32_t)(uint8_t)rl;
	in[n++] = 2, in[n++] = sizeof(gpa);
	memcpy(in + n, gpa, sizeof(gpa)), n += sizeof(gpa);
	in[n++] = sizeof(msg);
	memcpy(in + n, msg, sizeof(msg)), n += sizeof(msg);
	in[n++] = 7, in[n++] = 10;			/* 80 bytes from dom0 */
	memset(in + n, 0, 10), n += 10;
	netvsp_frame(in + n, 16), n += 70;
	in[n++] = 6, in[n++] = 0, in[n++] = 6, in[n++] = 0;
	in[n++] = 4, in[n++] = 1;
	put("netvsp", "bring-up-csum-lso-rx", in, n);
	put("netvsp", "bring-up", in, 2);
}

int main(int argc, char **argv)
{
	const char *t[] = { "ring", "msg", "gpadl", "xfer", "bus", "kdframe",
			    "netvsp" };
	struct vmbus_msg m;
	char path[4096];
	unsigned int i;

	if (argc != 2) {
		fprintf(stderr, "usage: gen-seeds DIR\n");
		return 2;
	}
	outdir = argv[1];
	mkdir(outdir, 0755);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", outdir, t[i]);
		mkdir(path, 0755);
	}

	ring_seed("inband", 0);
	ring_seed("xferpage", 1);
	ring_seed("gpa-direct", 2);
	ring_seed("gpadl", 3);

	vmbus_msg_init(&m, VMBUS_MSG_INITIATE_CONTACT);
	m.u.initiate_contact.version_count = 2;
	m.u.initiate_contact.versions[0] = VMBUS_VERSION(2, 4);
	m.u.initiate_contact.versions[1] = VMBUS_VERSION(1, 0);
	m.u.initiate_contact.version_requested = VMBUS_VERSION(2, 4);
	msg_seed(&m, VMBUS_MSG_DIR_C2S);
	vmbus_msg_init(&m, VMBUS_MSG_VERSION_RESPONSE);
	m.u.version_response.version_supported = 1;
	msg_seed(&m, VMBUS_MSG_DIR_S2C);
	vmbus_msg_init(&m, VMBUS_MSG_OFFERCHANNEL);
	m.u.offer.child_relid = 1;
	m.u.offer.channel_flags = VMBUS_OFFER_NAMED_PIPE_MODE;
	m.u.offer.class_version_count = 2;
	m.u.offer.class_versions[0] = VMBUS_VERSION(2, 3);
	m.u.offer.class_versions[1] = VMBUS_VERSION(1, 1);
	msg_seed(&m, VMBUS_MSG_DIR_S2C);
	vmbus_msg_init(&m, VMBUS_MSG_OPENCHANNEL);
	m.u.open.child_relid = 1;
	m.u.open.ring_gpadl = 2;
	m.u.open.downstream_page_offset = 4;
	m.u.open.event_channel = 9;
	msg_seed(&m, VMBUS_MSG_DIR_C2S);
	vmbus_msg_init(&m, VMBUS_MSG_OPENCHANNEL_RESULT);
	m.u.open_result.child_relid = 1;
	msg_seed(&m, VMBUS_MSG_DIR_S2C);
	vmbus_msg_init(&m, VMBUS_MSG_GPADL_CREATED);
	m.u.gpadl_created.child_relid = 1;
	m.u.gpadl_created.gpadl_id = 2;
	msg_seed(&m, VMBUS_MSG_DIR_S2C);
	vmbus_msg_init(&m, VMBUS_MSG_GPADL_TEARDOWN);
	m.u.gpadl_teardown.child_relid = 1;
	m.u.gpadl_teardown.gpadl_id = 2;
	msg_seed(&m, VMBUS_MSG_DIR_C2S);
	vmbus_msg_init(&m, VMBUS_MSG_CLOSECHANNEL);
	m.u.relid.child_relid = 1;
	msg_seed(&m, VMBUS_MSG_DIR_C2S);
	vmbus_msg_init(&m, VMBUS_MSG_REQUESTOFFERS);
	msg_seed(&m, VMBUS_MSG_DIR_C2S);
	/* Bus 1.1: a pipe between two guests. */
	vmbus_msg_init(&m, VMBUS_MSG_OFFERCHANNEL);
	m.u.offer.child_relid = 2;
	m.u.offer.class_version_count = 1;
	m.u.offer.peer_domid = 5;
	m.u.offer.peer_flags = VMBUS_OFFER_PEER_VALID | VMBUS_OFFER_PEER_OPENER;
	msg_seed(&m, VMBUS_MSG_DIR_S2C);
	vmbus_msg_init(&m, VMBUS_MSG_PEER_OPEN);
	m.u.peer_open.child_relid = 2;
	m.u.peer_open.ring_gpadl = 3;
	m.u.peer_open.downstream_page_offset = 4;
	m.u.peer_open.event_channel = 9;
	m.u.peer_open.peer_domid = 5;
	msg_seed(&m, VMBUS_MSG_DIR_S2C);
	vmbus_msg_init(&m, VMBUS_MSG_PEER_OPEN_RESULT);
	m.u.open_result.child_relid = 2;
	msg_seed(&m, VMBUS_MSG_DIR_C2S);

	gpadl_seed("one-page", 1, 1);
	gpadl_seed("ring-64", 64, 1);
	gpadl_seed("three-ranges", 20, 3);
	xfer_seeds();
	kdframe_seeds();
	netvsp_seeds();
	for (i = 0; i < sizeof(bus_seeds) / sizeof(bus_seeds[0]); i++)
		put("bus", bus_seeds[i].name, bus_seeds[i].ops,
		    bus_seeds[i].len);
	return 0;
}
