/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Decoding of memory-naming packets (xfer-pkt.h): a peer-controlled type
 * header is read once into a local copy, its range count is bounded by the
 * bytes actually present before it is multiplied, and the ranges are then
 * used in place in the private copy of the packet.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "xfer-pkt.h"

_Static_assert(sizeof(struct vmbus_range) == sizeof(struct vmbus_pkt_range),
	       "struct vmbus_range is the wire range");
_Static_assert(offsetof(struct vmbus_range, byte_count) ==
	       offsetof(struct vmbus_pkt_range, byte_count),
	       "byte_count first");
_Static_assert(offsetof(struct vmbus_range, byte_offset) ==
	       offsetof(struct vmbus_pkt_range, byte_offset),
	       "byte_offset second");

/* Bytes of a type header after the descriptor. */
#define THDR_LEN(type)	(sizeof(struct type) - sizeof(struct vmbus_pkt_desc))

/* @n ranges right after @hdr_len bytes of type header, filling it exactly. */
static int xfer_ranges(const struct vmbus_pkt *pkt, size_t hdr_len,
		       uint32_t n, struct vmbus_xfer_hdr *out)
{
	const uint8_t *p = (const uint8_t *)pkt->thdr + hdr_len;

	if (!n || n > (pkt->thdr_len - hdr_len) / sizeof(struct vmbus_range) ||
	    pkt->thdr_len - hdr_len != (size_t)n * sizeof(struct vmbus_range))
		return -EINVAL;
	if ((uintptr_t)p % _Alignof(struct vmbus_range))
		return -EINVAL;
	out->nranges = n;
	out->ranges = (const struct vmbus_range *)(const void *)p;
	return 0;
}

int vmbus_xfer_decode(const struct vmbus_pkt *pkt, struct vmbus_xfer_hdr *out)
{
	struct vmbus_pkt_xferpage xp;
	struct vmbus_pkt_gpadl gp;
	struct vmbus_pkt_xfer_pageset ps;

	memset(out, 0, sizeof(*out));
	if (!pkt->thdr && pkt->thdr_len)
		return -EINVAL;
	switch (pkt->type) {
	case VMBUS_PKT_DATA_USING_XFER_PAGES:
		if (pkt->thdr_len < THDR_LEN(vmbus_pkt_xferpage))
			return -EINVAL;
		memcpy((uint8_t *)&xp + sizeof(xp.desc), pkt->thdr,
		       THDR_LEN(vmbus_pkt_xferpage));
		out->id = xp.pageset_id;
		out->sender_owns_set = xp.sender_owns_set != 0;
		return xfer_ranges(pkt, THDR_LEN(vmbus_pkt_xferpage),
				   xp.range_count, out);
	case VMBUS_PKT_DATA_USING_GPADL:
		if (pkt->thdr_len < THDR_LEN(vmbus_pkt_gpadl))
			return -EINVAL;
		memcpy((uint8_t *)&gp + sizeof(gp.desc), pkt->thdr,
		       THDR_LEN(vmbus_pkt_gpadl));
		out->id = gp.gpadl_id;
		return xfer_ranges(pkt, THDR_LEN(vmbus_pkt_gpadl),
				   gp.range_count, out);
	case VMBUS_PKT_ADD_XFER_PAGESET:
	case VMBUS_PKT_RM_XFER_PAGESET:
		if (pkt->thdr_len != THDR_LEN(vmbus_pkt_xfer_pageset))
			return -EINVAL;
		memcpy((uint8_t *)&ps + sizeof(ps.desc), pkt->thdr,
		       THDR_LEN(vmbus_pkt_xfer_pageset));
		out->id = ps.pageset_id;
		out->gpadl_id = ps.gpadl_id;
		return 0;
	default:
		return -ENOTSUP;
	}
}

int vmbus_xfer_check_ranges(const struct vmbus_range *ranges, uint32_t n,
			    uint64_t size)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint64_t count = ranges[i].byte_count;
		uint64_t offset = ranges[i].byte_offset;

		if (!count || offset > size || count > size - offset)
			return -ERANGE;
	}
	return 0;
}
