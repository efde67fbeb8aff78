/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Decoding of the packets that name memory instead of carrying it:
 * DATA_USING_GPADL, DATA_USING_XFER_PAGES, ADD_XFER_PAGESET and
 * RM_XFER_PAGESET (layouts in <xenvmbus/ring.h>), and the check of their
 * byte ranges against the size of the memory they name.
 *
 * No Xen here: the fuzz target and the unit test link this file alone with
 * the core.  The packet is the receiver's private copy (vmbus_ring_recv
 * copied it out of the ring), so the ranges it holds cannot change after
 * they were checked; every field is still read once.
 */
#ifndef LIBVMBUS_XFER_PKT_H
#define LIBVMBUS_XFER_PKT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmbus/vmbus_ring.h"
#include "libvmbus.h"

/* What a memory-naming packet says, its shape already checked. */
struct vmbus_xfer_hdr {
	uint32_t id;			/* GPADL id, or transfer page set id */
	uint32_t gpadl_id;		/* ADD/RM_XFER_PAGESET: the set's GPADL */
	bool sender_owns_set;		/* DATA_USING_XFER_PAGES */
	uint32_t nranges;		/* 0 for ADD/RM_XFER_PAGESET */
	const struct vmbus_range *ranges; /* inside the packet copy */
};

/*
 * Decode @pkt, of one of the four types above.  -EINVAL when the type
 * header is malformed (wrong length, range_count 0 or not matching the
 * header length, ranges not aligned in the caller's buffer), -ENOTSUP for
 * any other packet type.
 */
int vmbus_xfer_decode(const struct vmbus_pkt *pkt, struct vmbus_xfer_hdr *out);

/*
 * Every range non-empty and inside [0, @size): 0, or -ERANGE.  Sums are
 * computed in 64 bits, so offset + count cannot wrap.
 */
int vmbus_xfer_check_ranges(const struct vmbus_range *ranges, uint32_t n,
			    uint64_t size);

#endif /* LIBVMBUS_XFER_PKT_H */
