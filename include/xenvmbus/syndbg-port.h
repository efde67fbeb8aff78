/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * syndbg-port.h - the debug port of the Viridian synthetic debugger, as a
 * debug backend in another domain sees it.
 *
 * The hypervisor side is hypervisor-patches/0002 (xen/include/public/hvm/
 * syndbg.h); Debian's libxen-dev does not ship that header, so the backend
 * defines the same ABI here.  The layout checks below must match the ones
 * in the patched debugport.c.
 *
 * Contract (full text in the public header):
 *  - attach: XEN_DMOP_syndbg_backend ATTACH (the caller becomes the
 *    backend; a dm_op, so a privcmd fd restricted to the guest may issue
 *    it); map XENMEM_resource_syndbg frames 0..8; bind shared->evtchn (an
 *    unbound port in the guest); DETACH ends the session, QUERY reports
 *    the attached backend;
 *  - out ring (guest -> backend): Xen writes prod, the backend writes cons;
 *    in ring (backend -> guest): the backend writes prod, Xen writes cons;
 *  - indexes are free-running byte counts, offset = idx & (RING_SIZE - 1);
 *  - a record is struct syndbg_pdu + len bytes padded to 8, and may wrap;
 *  - producer: record, write barrier, prod; consumer: prod, read barrier,
 *    record, full barrier, cons; whoever moves an index notifies;
 *  - out records whose session differs from out_session (read after the
 *    record) are stale; in records carry the in_session read before them.
 */
#ifndef XENVMBUS_SYNDBG_PORT_H
#define XENVMBUS_SYNDBG_PORT_H

#include <xenvmbus/compat.h>

#define SYNDBG_DMOP			21	/* XEN_DMOP_syndbg_backend */
#define SYNDBG_DMOP_ATTACH		0	/* XEN_DMOP_SYNDBG_ATTACH */
#define SYNDBG_DMOP_DETACH		1
#define SYNDBG_DMOP_QUERY		2
#define SYNDBG_RESOURCE_TYPE		3	/* XENMEM_resource_syndbg */
#define SYNDBG_DOMID_INVALID		0x7ff4u

#define SYNDBG_MAGIC		0x47424453u	/* "SDBG" */
#define SYNDBG_VERSION		1u
#define SYNDBG_PAGE_SIZE	4096u
#define SYNDBG_RING_PAGES	4u
#define SYNDBG_RING_SIZE	(SYNDBG_RING_PAGES * SYNDBG_PAGE_SIZE)
#define SYNDBG_OUT_FRAME	1u
#define SYNDBG_IN_FRAME		(SYNDBG_OUT_FRAME + SYNDBG_RING_PAGES)
#define SYNDBG_NR_FRAMES	(SYNDBG_IN_FRAME + SYNDBG_RING_PAGES)
#define SYNDBG_MAX_PDU		4096u
#define SYNDBG_ALIGN		8u

#define SYNDBG_F_GUEST_ACTIVE	(1u << 0)
#define SYNDBG_F_GUEST_WAITING	(1u << 1)
#define SYNDBG_F_BROKEN		(1u << 2)

#define SYNDBG_PDU_DATA		1
#define SYNDBG_DATA_F_FRAME	0x1	/* flags of an out DATA record: a whole */
#define SYNDBG_DATA_F_BARE	0x2	/* Ethernet/IPv4/UDP frame, or the bare payload */
#define SYNDBG_PDU_RESET	2
#define SYNDBG_RESET_PURGE_IN	0x1	/* flags of a RESET record */
#define SYNDBG_RESET_PURGE_OUT	0x2

struct syndbg_ring_idx {
	vmbus_u32 prod;
	vmbus_u32 cons;
};

/* Network byte order; what HvResetDebugSession returns to the guest. */
struct syndbg_conn_info {
	vmbus_u32 host_ip;
	vmbus_u32 target_ip;
	vmbus_u16 host_port;
	vmbus_u16 target_port;
	vmbus_u8 host_mac[6];
	vmbus_u8 target_mac[6];
	vmbus_u8 pad[8];
};

struct syndbg_shared {
	vmbus_u32 magic;
	vmbus_u32 version;
	vmbus_u32 ring_size;
	vmbus_u32 max_pdu;
	vmbus_u32 evtchn;
	vmbus_u32 flags;
	vmbus_u32 out_session;
	vmbus_u32 in_session;
	struct syndbg_ring_idx out;
	struct syndbg_ring_idx in;
	struct syndbg_conn_info conn;
	vmbus_u64 stat_out_pdus;
	vmbus_u64 stat_in_pdus;
	vmbus_u64 stat_refused;
	vmbus_u64 stat_dropped;
};

struct syndbg_pdu {
	vmbus_u16 len;
	vmbus_u8 type;
	vmbus_u8 flags;
	vmbus_u32 session;
};

VMBUS_STATIC_ASSERT(sizeof(struct syndbg_pdu) == 8, "syndbg_pdu size");
VMBUS_STATIC_ASSERT(sizeof(struct syndbg_conn_info) == 32, "syndbg_conn_info size");
VMBUS_STATIC_ASSERT(offsetof(struct syndbg_shared, evtchn) == 16, "evtchn offset");
VMBUS_STATIC_ASSERT(offsetof(struct syndbg_shared, out_session) == 24, "out_session offset");
VMBUS_STATIC_ASSERT(offsetof(struct syndbg_shared, out) == 32, "out offset");
VMBUS_STATIC_ASSERT(offsetof(struct syndbg_shared, in) == 40, "in offset");
VMBUS_STATIC_ASSERT(offsetof(struct syndbg_shared, conn) == 48, "conn offset");
VMBUS_STATIC_ASSERT(offsetof(struct syndbg_shared, stat_out_pdus) == 80, "stats offset");
VMBUS_STATIC_ASSERT(sizeof(struct syndbg_shared) == 112, "syndbg_shared size");
VMBUS_STATIC_ASSERT((SYNDBG_RING_SIZE & (SYNDBG_RING_SIZE - 1)) == 0, "ring size power of 2");

/*
 * struct xen_dm_op for XEN_DMOP_syndbg_backend: op, pad, then
 * u.syndbg_backend (sub-operation IN, the attached backend OUT, pad).
 */
struct syndbg_dm_op {
	vmbus_u32 op;
	vmbus_u32 pad;
	vmbus_u16 sub;
	vmbus_u16 backend;
	vmbus_u32 pad2;
};
VMBUS_STATIC_ASSERT(sizeof(struct syndbg_dm_op) == 16, "syndbg_dm_op size");

/* Bytes a record of len payload bytes takes in a ring. */
static inline vmbus_u32 syndbg_rec_size(vmbus_u32 len)
{
	return (vmbus_u32)sizeof(struct syndbg_pdu) +
	       ((len + SYNDBG_ALIGN - 1) & ~(SYNDBG_ALIGN - 1));
}

#endif /* XENVMBUS_SYNDBG_PORT_H */
