/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GPADL range buffers: how a guest describes its memory to the other side.
 *
 * On Hyper-V a GPADL (guest physical address descriptor list) names guest
 * page frames.  Here the pages are Xen grants: wherever Hyper-V puts a 64-bit
 * PFN, this protocol puts a 32-bit grant reference that the client (the
 * guest) has granted to the server's domain.  The server maps the grants; it
 * never needs, and never sees, a guest frame number.
 *
 * The same "range buffer" encoding is used by the GPADL_HEADER/GPADL_BODY
 * channel messages (msg.h) and by DATA_USING_GPA_DIRECT packets (ring.h):
 *
 *   range buffer = range[0] range[1] ... range[range_count - 1]
 *   range        = u32 byte_count
 *                  u32 byte_offset      offset into the first page, < 4096
 *                  u32 gref[n]          n = ceil((byte_offset + byte_count) / 4096)
 *
 * Ranges are packed back to back on 4-byte boundaries; the buffer's length
 * (range_buflen) must equal the sum of the ranges exactly.  A range never has
 * byte_count 0.  Grant pages are always 4096 bytes, whatever the page size of
 * either domain.
 */
#ifndef XENVMBUS_GPADL_H
#define XENVMBUS_GPADL_H

#include <xenvmbus/compat.h>

/* Xen grants are 4 KiB frames on every architecture. */
#define VMBUS_GRANT_PAGE_SHIFT		12
#define VMBUS_GRANT_PAGE_SIZE		(1u << VMBUS_GRANT_PAGE_SHIFT)

/* A Xen grant reference (grant_ref_t). */
typedef vmbus_u32 vmbus_gref_t;

/* Head of one range; the grant references follow it. */
struct vmbus_gpa_range {
	vmbus_u32 byte_count;
	vmbus_u32 byte_offset;
	/* vmbus_gref_t gref[]; */
};
VMBUS_CHECK_SIZE(struct vmbus_gpa_range, 8);
VMBUS_CHECK_OFFSET(struct vmbus_gpa_range, byte_count, 0);
VMBUS_CHECK_OFFSET(struct vmbus_gpa_range, byte_offset, 4);

/* Number of grants a range of @count bytes at @offset spans. */
#define VMBUS_GPA_RANGE_PAGES(offset, count) \
	(((vmbus_u64)(offset) + (count) + VMBUS_GRANT_PAGE_SIZE - 1) >> \
	 VMBUS_GRANT_PAGE_SHIFT)

/* Bytes one range occupies in a range buffer. */
#define VMBUS_GPA_RANGE_BYTES(npages) \
	(sizeof(struct vmbus_gpa_range) + (npages) * sizeof(vmbus_gref_t))

/*
 * range_buflen is 16 bits on the wire, as on Hyper-V: one GPADL covers at
 * most ~16 K grants (64 MiB).  Larger buffers take several GPADLs.
 */
#define VMBUS_GPADL_MAX_BUFLEN		0xfffcu

#endif /* XENVMBUS_GPADL_H */
