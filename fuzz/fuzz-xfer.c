// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: libvmbus's decoder of packets that name memory
 * (lib/libvmbus/xfer-pkt.c): DATA_USING_GPADL, DATA_USING_XFER_PAGES,
 * ADD/RM_XFER_PAGESET, and the check of their ranges; the range buffers
 * of DATA_USING_GPA_DIRECT (vmbus_gpa_direct_range).
 *
 * Input:
 *   [0]      packet type: one of 2, 3, 7, 8, 6, 0xb, 9 (byte % 7)
 *   [1..4]   size of the memory the ranges must fit in
 *   [5..]    the type header (after the descriptor), as a peer wrote it
 * The header is decoded twice: in a buffer of its exact length (so that a
 * read past it is caught), and after a trip through a real ring, as a
 * receiver gets it.  Whatever decodes must describe only bytes inside the
 * header, and ranges that pass the check must lie inside the memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xfer-pkt.h"

#define RING_SIZE	(VMBUS_RING_HDR_SIZE + 65536)

static const uint16_t types[7] = {
	VMBUS_PKT_ADD_XFER_PAGESET, VMBUS_PKT_RM_XFER_PAGESET,
	VMBUS_PKT_DATA_USING_XFER_PAGES, VMBUS_PKT_DATA_USING_GPADL,
	VMBUS_PKT_DATA_INBAND, VMBUS_PKT_COMP, VMBUS_PKT_DATA_USING_GPA_DIRECT,
};

static void no_signal(void *arg)
{
	(void)arg;
}

/* Every range a GPA-direct buffer decodes to lies inside it, as it says. */
static void check_gpa_direct(const struct vmbus_pkt *pkt)
{
	const uint8_t *start = pkt->thdr, *end = start + pkt->thdr_len;
	struct vmbus_gpa_direct r;
	uint32_t n, i;

	if (vmbus_gpa_direct_range(pkt->thdr, pkt->thdr_len, 0, &r, &n))
		return;
	if (!n)
		abort();
	for (i = 0; i < n; i++) {
		if (vmbus_gpa_direct_range(pkt->thdr, pkt->thdr_len, i, &r,
					   NULL))
			abort();
		if (!r.byte_count || r.byte_offset >= 4096 ||
		    r.npages != ((uint64_t)r.byte_offset + r.byte_count +
				 4095) / 4096 ||
		    (const uint8_t *)r.grefs < start + 16 ||
		    (const uint8_t *)(r.grefs + r.npages) > end)
			abort();
	}
	if (vmbus_gpa_direct_range(pkt->thdr, pkt->thdr_len, n, &r, NULL) !=
	    -EINVAL)
		abort();
}

static void check(const struct vmbus_pkt *pkt, uint32_t size)
{
	struct vmbus_xfer_hdr h;
	const uint8_t *end = (const uint8_t *)pkt->thdr + pkt->thdr_len;
	uint32_t i;

	if (pkt->type == VMBUS_PKT_DATA_USING_GPA_DIRECT) {
		check_gpa_direct(pkt);
		return;
	}
	if (vmbus_xfer_decode(pkt, &h))
		return;
	if (pkt->type == VMBUS_PKT_DATA_USING_XFER_PAGES ||
	    pkt->type == VMBUS_PKT_DATA_USING_GPADL) {
		if (!h.nranges || (const uint8_t *)(h.ranges + h.nranges) != end)
			abort();
	} else if (h.nranges) {
		abort();
	}
	if (vmbus_xfer_check_ranges(h.ranges, h.nranges, size))
		return;
	for (i = 0; i < h.nranges; i++)
		if (!h.ranges[i].byte_count ||
		    (uint64_t)h.ranges[i].byte_offset +
		    h.ranges[i].byte_count > size)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void *tx, *rx;
	struct vmbus_ring a, b;
	struct vmbus_pkt pkt;
	uint32_t memsize;
	size_t thdr_len;
	uint8_t *thdr, *buf;

	if (size < 5 || size - 5 > 4096)
		return 0;
	memcpy(&memsize, data + 1, 4);
	thdr_len = size - 5;

	/* Exactly as long as the peer made it. */
	thdr = malloc(thdr_len ? thdr_len : 1);
	memcpy(thdr, data + 5, thdr_len);
	memset(&pkt, 0, sizeof(pkt));
	pkt.type = types[data[0] % 7];
	pkt.thdr = thdr;
	pkt.thdr_len = (uint32_t)thdr_len;
	check(&pkt, memsize);
	free(thdr);

	/* Through a ring, into a buffer of the packet's exact length. */
	if (!tx) {
		tx = malloc(RING_SIZE);
		rx = malloc(RING_SIZE);
	}
	memset(tx, 0, VMBUS_RING_HDR_SIZE);
	memset(rx, 0, VMBUS_RING_HDR_SIZE);
	vmbus_ring_hdr_init(tx, RING_SIZE, 0);
	vmbus_ring_hdr_init(rx, RING_SIZE, 0);
	if (vmbus_ring_init(&a, tx, RING_SIZE, rx, RING_SIZE, no_signal, NULL) ||
	    vmbus_ring_init(&b, rx, RING_SIZE, tx, RING_SIZE, no_signal, NULL))
		abort();
	if (vmbus_ring_send(&a, types[data[0] % 7], 1, 7, data + 5, thdr_len,
			    "pay", 3))
		return 0;
	if (vmbus_ring_peek(&b, &pkt, NULL, 0) != -EMSGSIZE)
		abort();
	buf = malloc(pkt.buf_len);
	if (vmbus_ring_recv(&b, &pkt, buf, pkt.buf_len))
		abort();
	check(&pkt, memsize);
	free(buf);
	return 0;
}
