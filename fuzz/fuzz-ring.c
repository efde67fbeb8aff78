// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the ring reader (and writer) against a hostile peer.
 *
 * Input: a 16-byte control block, then the contents of the receive ring's
 * data area.
 *   [0..1]   data size selector: 64 * (1 + sel % 64) bytes
 *   [2..5]   peer's write_index of the receive ring
 *   [6..9]   our starting read_index (as found in the header at attach)
 *   [10..13] peer's pending_send_sz of the receive ring
 *   [14]     feature_bits
 *   [15]     bit 0: small receive buffer; bit 1: batched reads;
 *            bit 2: mask/unmask; bits 3..7: peer's read_index of our send
 *            ring, in 8-byte units
 * The rings are malloc'd at their exact size so that any access outside
 * them is caught.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/vmbus_ring.h"

#define CTL_SIZE 16

static unsigned int signals;

static void count_signal(void *arg)
{
	(void)arg;
	signals++;
}

static void decode_all(const struct vmbus_pkt *pkt)
{
	struct vmbus_pkt_range ranges[16];
	struct vmbus_gpa_desc gpa[8];
	vmbus_gref_t grefs[64];
	uint32_t n, id;
	uint16_t set;
	bool owns;

	switch (pkt->type) {
	case VMBUS_PKT_DATA_USING_XFER_PAGES:
		vmbus_pkt_get_xferpage(pkt, &set, &owns, ranges, 16, &n);
		break;
	case VMBUS_PKT_DATA_USING_GPADL:
		vmbus_pkt_get_gpadl(pkt, &id, ranges, 16, &n);
		break;
	case VMBUS_PKT_DATA_USING_GPA_DIRECT:
		vmbus_pkt_get_gpa_direct(pkt, gpa, 8, &n, grefs, 64);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmbus_ring_hdr *rxh, *txh;
	struct vmbus_ring r;
	struct vmbus_pkt pkt;
	uint32_t dsize, v;
	uint16_t sel;
	uint8_t flags, *buf;
	size_t bufsize, ring_size;
	int rc, i;

	if (size < CTL_SIZE)
		return 0;
	memcpy(&sel, data, 2);
	dsize = 64u * (1u + sel % 64u);
	flags = data[15];
	ring_size = VMBUS_RING_HDR_SIZE + dsize;

	rxh = malloc(ring_size);
	txh = malloc(ring_size);
	if (!rxh || !txh)
		abort();
	vmbus_ring_hdr_init(rxh, ring_size, data[14]);
	vmbus_ring_hdr_init(txh, ring_size, data[14]);
	memset((uint8_t *)rxh + VMBUS_RING_HDR_SIZE, 0, dsize);
	memcpy((uint8_t *)rxh + VMBUS_RING_HDR_SIZE, data + CTL_SIZE,
	       size - CTL_SIZE < dsize ? size - CTL_SIZE : dsize);
	memcpy(&v, data + 2, 4);
	rxh->write_index = v;
	memcpy(&v, data + 6, 4);
	rxh->read_index = v;
	memcpy(&v, data + 10, 4);
	rxh->pending_send_sz = v;
	txh->read_index = (uint32_t)(flags >> 3) * 8;

	/* No packet can be longer than the data area. */
	bufsize = flags & 1 ? 48 : dsize;
	buf = malloc(bufsize);
	if (!buf)
		abort();

	if (vmbus_ring_init(&r, txh, ring_size, rxh, ring_size, count_signal,
			    NULL) == 0) {
		if (flags & 2)
			vmbus_ring_rx_begin(&r);
		if (flags & 4)
			vmbus_ring_rx_mask(&r);
		for (i = 0; i < 1024; i++) {
			rc = vmbus_ring_recv(&r, &pkt, buf, bufsize);
			if (rc)
				break;
			if (pkt.buf_len > bufsize || pkt.buf_len > pkt.len ||
			    pkt.hdr_len > pkt.len ||
			    pkt.data_len + pkt.hdr_len != pkt.len ||
			    (const uint8_t *)pkt.data < buf ||
			    (const uint8_t *)pkt.data + pkt.data_len > buf + bufsize ||
			    (pkt.type == VMBUS_PKT_DATA_INBAND && pkt.thdr_len))
				abort();
			decode_all(&pkt);
		}
		if (flags & 2)
			vmbus_ring_rx_commit(&r);
		if (flags & 4)
			vmbus_ring_rx_unmask(&r);
		/* The writer against the peer's read_index of our send ring. */
		for (i = 0; i < 4; i++)
			if (vmbus_ring_send_inband(&r, data, size < 200 ? size : 200,
						   (uint64_t)i, 0))
				break;
		{
			struct vmbus_ring_stats st;

			vmbus_ring_get_stats(&r, &st);
		}
	}
	free(buf);
	free(rxh);
	free(txh);
	return 0;
}
