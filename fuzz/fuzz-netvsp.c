// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the network VSP's parsers and state
 * (dom0-backends/netvsp): NVSP messages in-band, SEND_RNDIS_PKT from
 * send-buffer sections and from page buffers (GPA-direct range buffers
 * and grant lists), the RNDIS messages they carry (control messages,
 * PACKETs with per-packet infos for checksum and LSO), completions of
 * receive packets (made up, repeated, late), answers the ring has no room
 * for, and frames from the tap to the guest.  The receive and send
 * buffers are plain memory standing for mapped GPADLs; page buffers are
 * grants of the in-memory Xen of fake-xen.c; the tap is a socketpair.
 *
 * Input: records, each a kind byte then its bytes:
 *   0 bring-up      [version]           INIT, NDIS_CONFIG, NDIS_VER,
 *                                       RECV_BUF, SEND_BUF, RNDIS INIT,
 *                                       packet filter
 *   1 in-band       [len][bytes]        a raw NVSP message
 *   2 GPA-direct    [hlen][type header][len][payload]; a grant word below
 *                                       8 names the guest's page of that
 *                                       index
 *   3 guest memory  [where][off:2][len][bytes]   where: 0-7 a grant page,
 *                                       8 the send buffer
 *   4 ring full     [n]                 the next n sends find no room;
 *                                       then a turn
 *   5 section       [idx][size:2]       SEND_RNDIS_PKT naming a section
 *   6 completion    [k]                 complete the k-th receive packet
 *                                       outstanding (or a made-up id)
 *   7 tap frame     [len][bytes]        a virtio-net header and frame
 *                                       from dom0's side; then a turn
 * Every packet the VSP sends is checked: completions are NVSP messages,
 * receive packets name the receive buffer's set with ranges inside it,
 * each holding one whole RNDIS message.  After the input every receive
 * packet is completed, and then none may be outstanding; once detached,
 * nothing of the guest may stay mapped.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xengnttab.h>

#include <xenvmbus/gpadl.h>
#include <xenvmbus/netvsc.h>
#include <xenvmbus/ring.h>

#include "fake-xen.h"
#include "netvsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GUEST		1
#define NPAGES		8
#define RECV_BYTES	(64u * 1024)
#define SEND_BYTES	(32u * 1024)
#define RECV_GPADL	11
#define SEND_GPADL	12
#define MAX_OUT		256

static struct netvsp *nv;
static xengnttab_handle *xgt;
static uint8_t *gmem;
static uint32_t grefs[NPAGES];
static uint8_t *recv_mem, *send_mem;
static int sv[2];
static uint32_t fail_sends, maps_held;
static uint64_t out_tid[MAX_OUT];
static uint32_t nout;

static int f_gpadl_map(void *arg, uint32_t id, void **h, uint8_t **mem,
		       size_t *size, bool *writable)
{
	(void)arg;
	if (id == RECV_GPADL) {
		*mem = recv_mem;
		*size = RECV_BYTES;
	} else if (id == SEND_GPADL) {
		*mem = send_mem;
		*size = SEND_BYTES;
	} else {
		return -ENOENT;
	}
	*writable = true;
	*h = (void *)(uintptr_t)id;
	maps_held++;
	return 0;
}

static void f_gpadl_unmap(void *arg, void *h)
{
	(void)arg;
	(void)h;
	if (!maps_held--)
		abort();
}

static void *f_map(void *arg, uint32_t domid, const uint32_t *refs,
		   uint32_t count)
{
	(void)arg;
	fx_cur_dom = 0;
	return xengnttab_map_domain_grant_refs(xgt, count, domid,
					       (uint32_t *)refs, PROT_READ);
}

static void f_unmap(void *arg, void *addr, uint32_t count)
{
	(void)arg;
	fx_cur_dom = 0;
	if (xengnttab_unmap(xgt, addr, count))
		abort();
}

static int f_send(void *arg, uint16_t type, uint16_t flags, uint64_t tid,
		  const void *thdr, size_t thdr_len, const void *p, size_t len)
{
	struct { uint16_t id; uint8_t owns, rsvd; uint32_t count; } h;
	struct rndis_msg_hdr m;
	struct vmbus_pkt_range r;
	uint32_t i;

	(void)arg;
	if (fail_sends) {
		fail_sends--;
		return -EAGAIN;
	}
	if (len != NVSP_MSG_SIZE)
		abort();
	if (type == VMBUS_PKT_COMP) {
		if (thdr_len || flags)
			abort();
		return 0;
	}
	if (type != VMBUS_PKT_DATA_USING_XFER_PAGES || thdr_len < sizeof(h) ||
	    !(flags & VMBUS_PKT_FLAG_REQUEST_COMPLETION))
		abort();
	memcpy(&h, thdr, sizeof(h));
	if (h.id != NETVSC_RECV_BUF_ID || !h.count ||
	    thdr_len != sizeof(h) + h.count * sizeof(r))
		abort();
	for (i = 0; i < h.count; i++) {
		memcpy(&r, (const uint8_t *)thdr + sizeof(h) + i * sizeof(r),
		       sizeof(r));
		if (!r.byte_count || (uint64_t)r.byte_offset + r.byte_count >
		    RECV_BYTES)
			abort();
		memcpy(&m, recv_mem + r.byte_offset, sizeof(m));
		if (m.msg_len != r.byte_count)
			abort();
	}
	if (nout == MAX_OUT)
		abort();	/* more than the limit given to the VSP */
	out_tid[nout++] = tid;
	return 0;
}

static const struct netvsp_ops ops = { f_gpadl_map, f_gpadl_unmap, f_map,
				       f_unmap, f_send, NULL };

static void init(void)
{
	struct netvsp_cfg cfg = { .mac = { 2, 0, 0, 0, 0, 1 }, .mtu = 1500 };
	struct netvsp_limits lim = { .max_rx_inflight = 64 };
	int i, r;

	fx_reset();
	gmem = fx_alloc_pages(GUEST, NPAGES);
	if (!gmem)
		abort();
	for (i = 0; i < NPAGES; i++) {
		r = fx_grant(GUEST, gmem + i * FX_PAGE_SIZE, 0, true);
		if (r < 0)
			abort();
		grefs[i] = (uint32_t)r;
	}
	fx_cur_dom = 0;
	xgt = xengnttab_open(NULL, 0);
	recv_mem = calloc(1, RECV_BYTES);
	send_mem = calloc(1, SEND_BYTES);
	if (!xgt || !recv_mem || !send_mem ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv))
		abort();
	cfg.tap_fd = sv[0];
	if (netvsp_create(&nv, &cfg, &lim))
		abort();
}

static void drain_tap(void)
{
	uint8_t b[70000];

	while (recv(sv[1], b, sizeof(b), 0) > 0)
		;
}

static void inband(const void *m, uint32_t len, uint16_t flags)
{
	netvsp_packet(nv, VMBUS_PKT_DATA_INBAND, flags, 0x100 + len, NULL, 0,
		      m, len);
}

static void nvsp(uint32_t type, uint32_t a, uint32_t b)
{
	struct nvsp_msg m;

	memset(&m, 0, sizeof(m));
	m.msg_type = type;
	m.u.init.min_protocol_ver = a;
	m.u.init.max_protocol_ver = b;
	inband(&m, sizeof(m), 1);
}

static void section(uint32_t idx, uint32_t size)
{
	struct nvsp_msg m;

	memset(&m, 0, sizeof(m));
	m.msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT;
	m.u.rndis_pkt.send_buf_section_index = idx;
	m.u.rndis_pkt.send_buf_section_size = size;
	inband(&m, sizeof(m), 1);
}

static void bring_up(uint8_t which)
{
	static const uint32_t v[4] = { NVSP_PROTOCOL_VERSION_61,
		NVSP_PROTOCOL_VERSION_5, NVSP_PROTOCOL_VERSION_2, 0x70000 };
	struct { struct rndis_msg_hdr h; struct rndis_init_req r; } init = {
		{ RNDIS_MSG_INIT, sizeof(init) }, { 1, 1, 0, 0x4000 } };
	struct { struct rndis_msg_hdr h; struct rndis_query_req q;
		 uint32_t v; } __attribute__((packed)) set = {
		{ RNDIS_MSG_SET, sizeof(set) },
		{ 2, RNDIS_OID_GEN_CURRENT_PACKET_FILTER, 4, 20, 0 }, 0xb };

	nvsp(NVSP_MSG_TYPE_INIT, v[which % 4], v[which % 4]);
	nvsp(NVSP_MSG1_TYPE_SEND_RECV_BUF, RECV_GPADL | NETVSC_RECV_BUF_ID << 0,
	     0);
	{
		struct nvsp_msg m;

		memset(&m, 0, sizeof(m));
		m.msg_type = NVSP_MSG1_TYPE_SEND_RECV_BUF;
		m.u.send_buf.gpadl_handle = RECV_GPADL;
		m.u.send_buf.id = NETVSC_RECV_BUF_ID;
		inband(&m, sizeof(m), 1);
		m.msg_type = NVSP_MSG1_TYPE_SEND_SEND_BUF;
		m.u.send_buf.gpadl_handle = SEND_GPADL;
		m.u.send_buf.id = NETVSC_SEND_BUF_ID;
		inband(&m, sizeof(m), 1);
	}
	memcpy(send_mem, &init, sizeof(init));
	section(0, sizeof(init));
	memcpy(send_mem + NETVSC_SEND_SECTION_SIZE, &set, sizeof(set));
	section(1, sizeof(set));
}

/* Grant words below NPAGES name the guest's pages. */
static void fix_grefs(uint8_t *h, uint32_t len)
{
	uint32_t i, w;

	for (i = 16; i + 4 <= len; i += 4) {
		memcpy(&w, h + i, 4);
		if (w < NPAGES)
			memcpy(h + i, &grefs[w], 4);
	}
}

static void complete(uint64_t tid)
{
	struct nvsp_msg m;

	memset(&m, 0, sizeof(m));
	m.msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE;
	m.u.rndis_pkt_complete.status = NVSP_STAT_SUCCESS;
	netvsp_packet(nv, VMBUS_PKT_COMP, 0, tid, NULL, 0, &m, sizeof(m));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	uint8_t hdr[256], buf[2048];
	uint32_t hl, len, off, i;
	struct netvsp_stats st;

	if (!ready) {
		init();
		ready = true;
	}
	fail_sends = 0;
	nout = 0;
	memset(gmem, 0, NPAGES * FX_PAGE_SIZE);
	memset(send_mem, 0, SEND_BYTES);
	drain_tap();
	if (netvsp_attach_ops(nv, GUEST, &ops))
		abort();
	while (size >= 2) {
		uint8_t kind = data[0] % 8;

		data++, size--;
		switch (kind) {
		case 0:
			bring_up(data[0]);
			data++, size--;
			break;
		case 1:
			len = data[0] % 64;
			data++, size--;
			if (len > size)
				len = (uint32_t)size;
			memcpy(buf, data, len);
			inband(buf, len, 1);
			data += len, size -= len;
			break;
		case 2:
			hl = data[0];
			data++, size--;
			if (hl > size)
				hl = (uint32_t)size;
			memcpy(hdr, data, hl);
			fix_grefs(hdr, hl);
			data += hl, size -= hl;
			len = size ? data[0] % 64 : 0;
			if (size)
				data++, size--;
			if (len > size)
				len = (uint32_t)size;
			memcpy(buf, data, len);
			netvsp_packet(nv, VMBUS_PKT_DATA_USING_GPA_DIRECT, 1, 9,
				      hdr, hl, buf, len);
			data += len, size -= len;
			break;
		case 3: {
			uint8_t *base;
			uint32_t lim;

			if (size < 4) {
				size = 0;
				break;
			}
			if (data[0] % 9 == 8) {
				base = send_mem;
				lim = SEND_BYTES;
			} else {
				base = gmem + (data[0] % 9) * FX_PAGE_SIZE;
				lim = FX_PAGE_SIZE;
			}
			off = (uint32_t)(data[1] | data[2] << 8) % lim;
			len = data[3];
			data += 4, size -= 4;
			if (len > size)
				len = (uint32_t)size;
			if (off + len > lim)
				len = lim - off;
			memcpy(base + off, data, len);
			data += len, size -= len;
			break;
		}
		case 4:
			fail_sends = data[0] % 4;
			data++, size--;
			netvsp_process(nv);
			break;
		case 5:
			if (size < 3) {
				size = 0;
				break;
			}
			section(data[0] % 8, (uint32_t)(data[1] | data[2] << 8));
			data += 3, size -= 3;
			break;
		case 6:
			if (nout && data[0] < 200) {
				i = data[0] % nout;
				complete(out_tid[i]);
				out_tid[i] = out_tid[--nout];
			} else {
				complete((uint64_t)data[0] << 32 | data[0]);
			}
			data++, size--;
			break;
		default:
			len = data[0] * 8u;
			data++, size--;
			if (len > size)
				len = (uint32_t)size;
			if (len)
				(void)send(sv[1], data, len, 0);
			data += len, size -= len;
			netvsp_process(nv);
			break;
		}
		drain_tap();
	}
	/* The guest completes everything: nothing may stay outstanding. */
	fail_sends = 0;
	for (i = 0; i < 8; i++) {
		while (nout)
			complete(out_tid[--nout]);
		netvsp_process(nv);
		drain_tap();
	}
	while (nout)
		complete(out_tid[--nout]);
	netvsp_get_stats(nv, &st);
	if (st.rx_inflight) {
		fprintf(stderr, "fuzz-netvsp: %u receive packets outstanding\n",
			st.rx_inflight);
		abort();
	}
	netvsp_detach(nv);
	if (maps_held || fx_mapped_pages(0, GUEST, NULL)) {
		fprintf(stderr, "fuzz-netvsp: guest memory still mapped\n");
		abort();
	}
	return 0;
}
