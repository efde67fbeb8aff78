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

#include <xenvmbus/gpadl.h>

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

/*
 * The type header of a DATA_USING_GPA_DIRECT packet (after the
 * descriptor): reserved, range_count, the range buffer, padding below 8
 * bytes.  Walked whole at every call, each range's page count bounded by
 * the bytes left before it is used.
 */
int vmbus_gpa_direct_range(const void *buf, uint32_t len, uint32_t i,
			   struct vmbus_gpa_direct *range, uint32_t *nranges)
{
	const uint8_t *p = buf;
	struct vmbus_gpa_range g;
	uint32_t count, k, at = 8;
	uint64_t pages;
	bool found = false;

	if (!buf || len < 8 || (uintptr_t)buf % 4)
		return -EBADMSG;
	memcpy(&count, p + 4, 4);
	if (!count || count > (len - 8) / sizeof(g))
		return -EBADMSG;
	for (k = 0; k < count; k++) {
		if (len - at < sizeof(g))
			return -EBADMSG;
		memcpy(&g, p + at, sizeof(g));
		if (!g.byte_count || g.byte_offset >= VMBUS_GRANT_PAGE_SIZE)
			return -EBADMSG;
		pages = VMBUS_GPA_RANGE_PAGES(g.byte_offset, g.byte_count);
		if (pages > (len - at - sizeof(g)) / sizeof(vmbus_gref_t))
			return -EBADMSG;
		if (k == i && range) {
			range->byte_count = g.byte_count;
			range->byte_offset = g.byte_offset;
			range->npages = (uint32_t)pages;
			range->grefs = (const uint32_t *)(const void *)
				(p + at + sizeof(g));
		}
		found |= k == i;
		at += (uint32_t)(sizeof(g) + pages * sizeof(vmbus_gref_t));
	}
	if (len - at >= 8)
		return -EBADMSG;
	if (nranges)
		*nranges = count;
	return found ? 0 : -EINVAL;
}
