/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VMBus ring buffers and packets, carried over Xen grants and event channels.
 *
 * The contract between the two sides of a ring
 * --------------------------------------------
 * A channel has two rings, one per direction.  The client (the guest) owns
 * the memory: it allocates both rings, initialises their headers (indexes 0,
 * feature_bits), and grants the pages to the server's domain.  Each ring is
 * one header page followed by the data area; the data area wraps.
 *
 *  - The writer of a ring owns write_index and pending_send_sz.
 *    The reader of a ring owns read_index and interrupt_mask.
 *    Nobody writes a field it does not own; each side keeps its own index in
 *    private memory and treats the copy in the header as output only.
 *  - Indexes are byte offsets into the data area, multiples of 8, always
 *    below the data size.  read_index == write_index means empty.  The writer
 *    never fills the ring completely: it writes only if, afterwards, at least
 *    one byte would still be free, so "full" is never confused with "empty".
 *  - A packet is a descriptor (struct vmbus_pkt_desc), type-specific header,
 *    payload, zero padding to 8 bytes, then an 8-byte trailer whose upper 32
 *    bits hold the offset at which the packet starts (the write index before
 *    it was written) and whose lower 32 bits are zero.  offset8 is the length
 *    of descriptor + type-specific header, len8 the length of the packet
 *    without trailer, both in 8-byte units.  A packet may wrap.
 *  - An in-band packet (VMBUS_PKT_DATA_INBAND) has no type-specific header:
 *    its payload starts at offset8, and whatever lies between the descriptor
 *    and there is a gap the reader skips.  A writer may leave such a gap to
 *    start a payload of VMBUS_RING_PAYLOAD_ALIGN bytes or more on a page
 *    boundary of the data area (libvmbus does when at least four such
 *    packets fit the ring and the ring has room for the gap); the gap's
 *    bytes are whatever the ring held.  Not on a Hyper-V socket's channel:
 *    Linux's hv_sock takes the payload right after the descriptor.
 *  - The writer fills the data area, then publishes write_index (release).
 *    The reader reads write_index (acquire), then the data, then publishes
 *    read_index (release) once it no longer needs the bytes.
 *  - Signalling (Xen event channel notify, one port per channel):
 *      the writer signals after publishing only if the ring was empty before
 *      (the reader's read_index equals the writer's previous write_index) and
 *      the reader has not set interrupt_mask;
 *      a writer that lacks space stores the bytes it needs (packet and trailer)
 *      in pending_send_sz and waits; a reader that frees space signals only
 *      when the free space crosses pending_send_sz (was <= , is now >).
 *    A reader that clears interrupt_mask must then look at write_index again:
 *    a packet that arrived while it was masked brought no signal.
 *  - In a ring pair between two guests, the header page of the opener's
 *    send ring (the first page it grants) holds the acceptor's liveness
 *    byte at VMBUS_RING_PEER_ALIVE: the acceptor sets it once it mapped the
 *    rings, with an unmap notification on its mapping of that page, so its
 *    kernel clears it and signals the channel when it unmaps or dies.  The
 *    byte lies in reserved2 and is zero in every other ring.
 *  - feature_bits is written once by the client before the ring is granted.
 *    VMBUS_RING_FEAT_PENDING_SEND_SZ says both sides honour pending_send_sz;
 *    without it a reader signals every time it frees space while a
 *    pending_send_sz is set.
 *  - Everything the peer can write is hostile: indexes are read once, checked
 *    (bounded, 8-byte aligned), then used; packets are copied out, then
 *    checked, then used.  A violation makes the ring unusable, never the
 *    reader.
 */
#ifndef XENVMBUS_RING_H
#define XENVMBUS_RING_H

#include <xenvmbus/compat.h>
#include <xenvmbus/gpadl.h>

/* The header page; the data area starts right after it. */
#define VMBUS_RING_HDR_SIZE		4096u

/* feature_bits */
#define VMBUS_RING_FEAT_PENDING_SEND_SZ	(1u << 0)

/* The acceptor's liveness byte in a ring between guests (see above). */
#define VMBUS_RING_PEER_ALIVE		128u

struct vmbus_ring_hdr {
	vmbus_u32 write_index;		/* writer: next byte it will write */
	vmbus_u32 read_index;		/* reader: next byte it will read */
	vmbus_u32 interrupt_mask;	/* reader: non-zero = do not signal me */
	vmbus_u32 pending_send_sz;	/* writer: bytes it waits for, 0 = none */
	vmbus_u32 reserved1[12];
	vmbus_u32 feature_bits;		/* VMBUS_RING_FEAT_*, set by the client */
	vmbus_u8 reserved2[VMBUS_RING_HDR_SIZE - 68];
};
VMBUS_CHECK_SIZE(struct vmbus_ring_hdr, VMBUS_RING_HDR_SIZE);
VMBUS_CHECK_OFFSET(struct vmbus_ring_hdr, write_index, 0);
VMBUS_CHECK_OFFSET(struct vmbus_ring_hdr, read_index, 4);
VMBUS_CHECK_OFFSET(struct vmbus_ring_hdr, interrupt_mask, 8);
VMBUS_CHECK_OFFSET(struct vmbus_ring_hdr, pending_send_sz, 12);
VMBUS_CHECK_OFFSET(struct vmbus_ring_hdr, reserved1, 16);
VMBUS_CHECK_OFFSET(struct vmbus_ring_hdr, feature_bits, 64);
VMBUS_CHECK_OFFSET(struct vmbus_ring_hdr, reserved2, 68);

/* Packet types (VMBus numbering). */
#define VMBUS_PKT_INVALID		0x0
#define VMBUS_PKT_SYNCH			0x1
#define VMBUS_PKT_ADD_XFER_PAGESET	0x2
#define VMBUS_PKT_RM_XFER_PAGESET	0x3
#define VMBUS_PKT_ESTABLISH_GPADL	0x4
#define VMBUS_PKT_TEARDOWN_GPADL	0x5
#define VMBUS_PKT_DATA_INBAND		0x6
#define VMBUS_PKT_DATA_USING_XFER_PAGES	0x7
#define VMBUS_PKT_DATA_USING_GPADL	0x8
#define VMBUS_PKT_DATA_USING_GPA_DIRECT	0x9
#define VMBUS_PKT_CANCEL_REQUEST	0xa
#define VMBUS_PKT_COMP			0xb
#define VMBUS_PKT_DATA_USING_ADDITIONAL_PKT 0xc
#define VMBUS_PKT_ADDITIONAL_DATA	0xd
#define VMBUS_PKT_TYPE_MAX		0xd

/* Packet flags. */
#define VMBUS_PKT_FLAG_REQUEST_COMPLETION 0x1

/* The length unit of offset8/len8, and the alignment of every packet. */
#define VMBUS_PKT_ALIGN			8u

struct vmbus_pkt_desc {
	vmbus_u16 type;		/* VMBUS_PKT_* */
	vmbus_u16 offset8;	/* descriptor + type header, 8-byte units */
	vmbus_u16 len8;		/* whole packet without trailer, 8-byte units */
	vmbus_u16 flags;	/* VMBUS_PKT_FLAG_* */
	vmbus_u64 trans_id;	/* echoed by the completion */
};
VMBUS_CHECK_SIZE(struct vmbus_pkt_desc, 16);
VMBUS_CHECK_OFFSET(struct vmbus_pkt_desc, type, 0);
VMBUS_CHECK_OFFSET(struct vmbus_pkt_desc, offset8, 2);
VMBUS_CHECK_OFFSET(struct vmbus_pkt_desc, len8, 4);
VMBUS_CHECK_OFFSET(struct vmbus_pkt_desc, flags, 6);
VMBUS_CHECK_OFFSET(struct vmbus_pkt_desc, trans_id, 8);

/* The trailer after every packet: start offset << 32. */
#define VMBUS_PKT_TRAILER_SIZE		8u
#define VMBUS_PKT_TRAILER(start)	((vmbus_u64)(start) << 32)

/* In-band payloads this long or longer may start on a page boundary. */
#define VMBUS_RING_PAYLOAD_ALIGN	4096u

/* The longest packet the descriptor can express (len8 is 16 bits). */
#define VMBUS_PKT_MAX_LEN		(0xffffu * VMBUS_PKT_ALIGN)

/* A byte range inside a transfer page set or inside an established GPADL. */
struct vmbus_pkt_range {
	vmbus_u32 byte_count;
	vmbus_u32 byte_offset;
};
VMBUS_CHECK_SIZE(struct vmbus_pkt_range, 8);
VMBUS_CHECK_OFFSET(struct vmbus_pkt_range, byte_count, 0);
VMBUS_CHECK_OFFSET(struct vmbus_pkt_range, byte_offset, 4);

/*
 * DATA_USING_XFER_PAGES: the data lives in a transfer page set the two sides
 * set up earlier (ADD_XFER_PAGESET); the packet names ranges inside it.
 * Followed by range_count struct vmbus_pkt_range, then the in-band payload.
 */
struct vmbus_pkt_xferpage {
	struct vmbus_pkt_desc desc;
	vmbus_u16 pageset_id;
	vmbus_u8 sender_owns_set;
	vmbus_u8 reserved;
	vmbus_u32 range_count;
	/* struct vmbus_pkt_range range[range_count]; */
};
VMBUS_CHECK_SIZE(struct vmbus_pkt_xferpage, 24);
VMBUS_CHECK_OFFSET(struct vmbus_pkt_xferpage, pageset_id, 16);
VMBUS_CHECK_OFFSET(struct vmbus_pkt_xferpage, sender_owns_set, 18);
VMBUS_CHECK_OFFSET(struct vmbus_pkt_xferpage, range_count, 20);

/*
 * ADD_XFER_PAGESET / RM_XFER_PAGESET: a transfer page set is a GPADL the
 * client created earlier, known to packets by pageset_id.
 */
struct vmbus_pkt_xfer_pageset {
	struct vmbus_pkt_desc desc;
	vmbus_u32 gpadl_id;
	vmbus_u16 pageset_id;
	vmbus_u16 reserved;
};
VMBUS_CHECK_SIZE(struct vmbus_pkt_xfer_pageset, 24);
VMBUS_CHECK_OFFSET(struct vmbus_pkt_xfer_pageset, gpadl_id, 16);
VMBUS_CHECK_OFFSET(struct vmbus_pkt_xfer_pageset, pageset_id, 20);

/*
 * DATA_USING_GPA_DIRECT: the client's buffers named by grant reference, no
 * copy.  Followed by a range buffer of range_count ranges (gpadl.h), zero
 * padding to 8 bytes, then the in-band payload.  offset8 covers all of it
 * but the payload.
 */
struct vmbus_pkt_gpa_direct {
	struct vmbus_pkt_desc desc;
	vmbus_u32 reserved;
	vmbus_u32 range_count;
	/* range buffer */
};
VMBUS_CHECK_SIZE(struct vmbus_pkt_gpa_direct, 24);
VMBUS_CHECK_OFFSET(struct vmbus_pkt_gpa_direct, reserved, 16);
VMBUS_CHECK_OFFSET(struct vmbus_pkt_gpa_direct, range_count, 20);

/*
 * DATA_USING_GPADL: byte ranges inside a GPADL established with the
 * GPADL_HEADER message.  Followed by range_count struct vmbus_pkt_range.
 */
struct vmbus_pkt_gpadl {
	struct vmbus_pkt_desc desc;
	vmbus_u32 gpadl_id;
	vmbus_u32 range_count;
	/* struct vmbus_pkt_range range[range_count]; */
};
VMBUS_CHECK_SIZE(struct vmbus_pkt_gpadl, 24);
VMBUS_CHECK_OFFSET(struct vmbus_pkt_gpadl, gpadl_id, 16);
VMBUS_CHECK_OFFSET(struct vmbus_pkt_gpadl, range_count, 20);

/* ESTABLISH_GPADL / TEARDOWN_GPADL packets (in-ring GPADL control). */
struct vmbus_pkt_establish_gpadl {
	struct vmbus_pkt_desc desc;
	vmbus_u32 gpadl_id;
	vmbus_u32 range_count;
};
VMBUS_CHECK_SIZE(struct vmbus_pkt_establish_gpadl, 24);
VMBUS_CHECK_OFFSET(struct vmbus_pkt_establish_gpadl, gpadl_id, 16);
VMBUS_CHECK_OFFSET(struct vmbus_pkt_establish_gpadl, range_count, 20);

struct vmbus_pkt_teardown_gpadl {
	struct vmbus_pkt_desc desc;
	vmbus_u32 gpadl_id;
	vmbus_u32 reserved;
};
VMBUS_CHECK_SIZE(struct vmbus_pkt_teardown_gpadl, 24);
VMBUS_CHECK_OFFSET(struct vmbus_pkt_teardown_gpadl, gpadl_id, 16);

#endif /* XENVMBUS_RING_H */
