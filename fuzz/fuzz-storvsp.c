// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the storage VSP's request path (dom0-backends/storvsp):
 * VSTOR packets in-band and GPA-direct, their range buffers and grant
 * lists, the SCSI CDBs and parameter lists they carry, answers the ring
 * has no room for.  The guest's pages and grants are those of the
 * in-memory Xen of fake-xen.c (dom0 maps the same pages the guest
 * writes); the disks are memfds behind io_uring, as in dom0.
 *
 * Input: records, each a kind byte then its bytes:
 *   0 negotiate      [version]          BEGIN, QUERY_VERSION, PROPERTIES, END
 *   1 in-band        [len][bytes]       a raw packet payload
 *   2 GPA-direct     [hlen][type header][len][payload]; a grant word below
 *                                       16 names the guest's page of that
 *                                       index (0-7 writable, 8-15 read-only)
 *   3 guest memory   [page][off][len][bytes]
 *   4 ring full      [n]                the next n answers find no room;
 *                                       bit 2 of n: the packets up to the
 *                                       next such record are mapped
 *                                       together (a turn of the ring)
 *   5 SCSI request   [lun][cdblen][dir][xfer:2][off:2][page][cdb:16]
 * After the input: the I/O in flight completes, every packet accepted
 * must have had exactly one answer, of the size agreed, and nothing of
 * the guest may stay mapped once the channel is gone.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xengnttab.h>

#include <xenvmbus/gpadl.h>
#include <xenvmbus/ring.h>
#include <xenvmbus/storvsc.h>

#include "fake-xen.h"
#include "storvsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GUEST		1
#define NPAGES		16

static struct storvsp *sp;
static xengnttab_handle *xgt;
static uint8_t *gmem;
static uint32_t grefs[NPAGES];
static uint32_t fail_sends;
static uint64_t answered;
static uint32_t pkt_size = VSTOR_PACKET_SIZE;

static void *f_map(void *arg, uint32_t domid, const uint32_t *refs,
		   uint32_t count, bool writable)
{
	(void)arg;
	fx_cur_dom = 0;
	return xengnttab_map_domain_grant_refs(xgt, count, domid,
					       (uint32_t *)refs,
					       PROT_READ |
					       (writable ? PROT_WRITE : 0));
}

static void f_unmap(void *arg, void *addr, uint32_t count)
{
	(void)arg;
	fx_cur_dom = 0;
	if (xengnttab_unmap(xgt, addr, count))
		abort();
}

static int f_send(void *arg, uint64_t trans_id, const void *p, size_t len)
{
	struct vstor_packet v;

	(void)arg;
	(void)trans_id;
	if (fail_sends) {
		fail_sends--;
		return -EAGAIN;
	}
	if (len != VSTOR_PACKET_SIZE && len != VSTOR_PACKET_SIZE_WIN7)
		abort();
	memset(&v, 0, sizeof(v));
	memcpy(&v, p, len);
	if (v.operation != VSTOR_OP_COMPLETE_IO)
		abort();
	answered++;
	return 0;
}

static const struct storvsp_ops ops = { f_map, f_unmap, f_send, NULL };

static int disk_file(size_t size)
{
	int fd = memfd_create("fuzz-disk", 0);

	if (fd < 0 || ftruncate(fd, (off_t)size))
		abort();
	return fd;
}

/*
 * Sub-channels offered: every other request for them fails, as a bus out
 * of offers would.  (Their channels are not fuzzed here: a sub-channel
 * answers on its own ring, which this target does not have.)
 */
static unsigned int sub_calls;

static int f_subs(void *arg, unsigned int count)
{
	(void)arg;
	if (!count || count > 4)
		abort();		/* the VSP checks the count first */
	return sub_calls++ % 2 ? -ENOSPC : 0;
}

static void init(void)
{
	static char p0[64], p1[64];
	struct storvsp_disk_cfg cfg[2] = { { p0, false, 0 }, { p1, true, 3 } };
	struct storvsp_limits lim = { .max_inflight = 8, .max_map_pages = 40,
				      .max_transfer = 64 * 1024 };
	int i, r;

	snprintf(p0, sizeof(p0), "/proc/self/fd/%d", disk_file(1 << 20));
	snprintf(p1, sizeof(p1), "/proc/self/fd/%d", disk_file(64 << 10));
	fx_reset();
	gmem = fx_alloc_pages(GUEST, NPAGES);
	if (!gmem)
		abort();
	for (i = 0; i < NPAGES; i++) {
		r = fx_grant(GUEST, gmem + i * FX_PAGE_SIZE, 0, i >= 8);
		if (r < 0)
			abort();
		grefs[i] = (uint32_t)r;
	}
	fx_cur_dom = 0;
	xgt = xengnttab_open(NULL, 0);
	if (!xgt || storvsp_create(&sp, cfg, 2, &lim))
		abort();
	storvsp_set_subs(sp, 4, f_subs, NULL);
}

/* Feed one packet; when every slot is busy, let I/O complete first. */
static void feed(uint16_t type, const void *thdr, uint32_t thdr_len,
		 const void *p, uint32_t len, uint64_t *accepted)
{
	int rc, tries;

	for (tries = 0; tries < 3; tries++) {
		rc = storvsp_packet(sp, type, 1, 7, thdr, thdr_len, p, len);
		if (rc != -EBUSY)
			break;
		fail_sends = 0;
		storvsp_batch(sp, false);
		storvsp_process(sp);
		storvsp_drain(sp, 1000);
	}
	if (!rc)
		(*accepted)++;
}

static void negotiate(uint8_t which, uint64_t *accepted)
{
	static const uint16_t v[4] = { VSTOR_PROTO_VERSION_WIN10,
		VSTOR_PROTO_VERSION_WIN8, VSTOR_PROTO_VERSION_WIN7, 0x0101 };
	static const uint32_t ops_seq[4] = { VSTOR_OP_BEGIN_INITIALIZATION,
		VSTOR_OP_QUERY_PROTOCOL_VERSION, VSTOR_OP_QUERY_PROPERTIES,
		VSTOR_OP_END_INITIALIZATION };
	struct vstor_packet p;
	int i;

	for (i = 0; i < 4; i++) {
		memset(&p, 0, sizeof(p));
		p.operation = ops_seq[i];
		p.version.major_minor = v[which % 4];
		feed(VMBUS_PKT_DATA_INBAND, NULL, 0, &p, sizeof(p), accepted);
	}
	pkt_size = v[which % 4] == VSTOR_PROTO_VERSION_WIN7 ?
		VSTOR_PACKET_SIZE_WIN7 : VSTOR_PACKET_SIZE;
}

/* Grant words below NPAGES name the guest's pages. */
static void fix_grefs(uint8_t *h, uint32_t len)
{
	uint32_t i, w;

	for (i = 16; i + 4 <= len; i += 4) {
		memcpy(&w, h + i, 4);
		if (w < NPAGES) {
			memcpy(h + i, &grefs[w], 4);
		}
	}
}

static void scsi_req(const uint8_t *q, uint64_t *accepted)
{
	struct {
		uint32_t reserved, count;
		struct vmbus_gpa_range r;
		uint32_t g[NPAGES + 1];
	} h;
	struct vstor_packet p;
	uint32_t xfer = (uint32_t)(q[3] | q[4] << 8) * 16u;
	uint32_t off = (uint32_t)(q[5] | q[6] << 8) % FX_PAGE_SIZE, n, i;

	memset(&p, 0, sizeof(p));
	p.operation = VSTOR_OP_EXECUTE_SRB;
	p.srb.lun = q[0] % 5;
	p.srb.cdb_length = q[1] % 18;
	p.srb.data_in = q[2] % 3;
	p.srb.sense_info_length = VSTOR_SENSE_BUFFER_SIZE;
	p.srb.data_transfer_length = xfer;
	memcpy(p.srb.cdb, q + 8, 16);
	if (!xfer) {
		feed(VMBUS_PKT_DATA_INBAND, NULL, 0, &p, pkt_size, accepted);
		return;
	}
	n = (uint32_t)VMBUS_GPA_RANGE_PAGES(off, xfer);
	if (n > NPAGES + 1)
		n = NPAGES + 1;
	memset(&h, 0, sizeof(h));
	h.count = 1;
	h.r.byte_count = xfer;
	h.r.byte_offset = off;
	for (i = 0; i < n; i++)
		h.g[i] = grefs[(q[7] + i) % NPAGES];
	feed(VMBUS_PKT_DATA_USING_GPA_DIRECT, &h, 16 + 4 * n, &p, pkt_size,
	     accepted);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	uint8_t hdr[256], buf[256];
	uint64_t accepted = 0;
	uint32_t hl, len, off, page;
	struct storvsp_stats st;
	bool batch = false;
	int i;

	if (!ready) {
		init();
		ready = true;
	}
	answered = 0;
	fail_sends = 0;
	pkt_size = VSTOR_PACKET_SIZE;
	memset(gmem, 0, NPAGES * FX_PAGE_SIZE);
	if (storvsp_attach_ops(sp, GUEST, &ops))
		abort();
	while (size >= 2) {
		uint8_t kind = data[0] % 6;

		data++;
		size--;
		switch (kind) {
		case 0:
			negotiate(data[0], &accepted);
			data++, size--;
			break;
		case 1:
			len = data[0] % 96;
			data++, size--;
			if (len > size)
				len = (uint32_t)size;
			memcpy(buf, data, len);
			feed(VMBUS_PKT_DATA_INBAND, NULL, 0, buf, len, &accepted);
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
			len = size ? data[0] % 96 : 0;
			if (size)
				data++, size--;
			if (len > size)
				len = (uint32_t)size;
			memcpy(buf, data, len);
			feed(VMBUS_PKT_DATA_USING_GPA_DIRECT, hdr, hl, buf, len,
			     &accepted);
			data += len, size -= len;
			break;
		case 3:
			if (size < 3)
				size = 0;
				break;
			page = data[0] % NPAGES;
			off = data[1] * 16u;
			len = data[2];
			data += 3, size -= 3;
			if (len > size)
				len = (uint32_t)size;
			if (off + len > FX_PAGE_SIZE)
				len = FX_PAGE_SIZE - off;
			memcpy(gmem + page * FX_PAGE_SIZE + off, data, len);
			data += len, size -= len;
			break;
		case 4:
			fail_sends = data[0] % 4;
			batch = data[0] & 4;
			storvsp_batch(sp, batch);
			data++, size--;
			storvsp_process(sp);
			break;
		default:
			if (size < 24) {
				size = 0;
				break;
			}
			scsi_req(data, &accepted);
			data += 24, size -= 24;
			break;
		}
	}
	/* Everything accepted is answered once the I/O is back. */
	storvsp_batch(sp, false);
	fail_sends = 0;
	for (i = 0; i < 20; i++) {
		storvsp_drain(sp, 1000);
		storvsp_process(sp);
		storvsp_get_stats(sp, &st);
		if (!st.inflight)
			break;
	}
	if (st.inflight || answered != accepted) {
		fprintf(stderr, "fuzz-storvsp: %llu accepted, %llu answered, "
			"%u in flight\n", (unsigned long long)accepted,
			(unsigned long long)answered, st.inflight);
		abort();
	}
	storvsp_detach(sp);
	if (fx_mapped_pages(0, GUEST, NULL)) {
		fprintf(stderr, "fuzz-storvsp: guest pages still mapped\n");
		abort();
	}
	return 0;
}
