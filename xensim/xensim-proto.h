/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xensim-proto.h - the "hypercall" protocol of the simulated Xen.
 *
 * On a real host the Xen libraries talk to the hypervisor through Linux
 * drivers (privcmd, evtchn, gntdev, gntalloc).  On the simulated host they
 * talk to xensimd over a SOCK_SEQPACKET unix socket instead, one socket per
 * domain: a process "runs in" domain N because it connects to
 * $XENSIM_RUNDIR/dom<N>/hypervisor.sock.  Each library handle owns one
 * connection, so a handle's resources (ports, grants, mappings) are released
 * when the connection closes, exactly as the Linux drivers release them when
 * the device file is closed or the process dies.
 *
 * Contract between the libraries and the daemon:
 *  - every request is one datagram: struct xensim_req followed by op data;
 *    the reply is one datagram: struct xensim_rsp followed by reply data,
 *    with file descriptors attached by SCM_RIGHTS where the op says so;
 *  - ret is 0 or a negative errno, produced in one place in the daemon;
 *  - the daemon never trusts a length: it checks hdr.len against the
 *    datagram size and each op's own bounds;
 *  - data paths never go through the daemon: memory is shared through
 *    memfds, and an event-channel notification is one write() to the
 *    eventfd of the remote port.
 *
 * This header is private to the simulation; it is not a guest ABI.
 */
#ifndef XENSIM_PROTO_H
#define XENSIM_PROTO_H

#include <stdint.h>

#define XENSIM_PROTO_VERSION	2
#define XENSIM_PAGE_SIZE	4096u
#define XENSIM_PAGE_SHIFT	12

/* Limits, as Xen's defaults for a 64-bit guest with the 2-level ABI. */
#define XENSIM_NR_PORTS		4096u	/* EVTCHN_2L_NR_CHANNELS */
#define XENSIM_NR_GRANTS	8192u	/* 16 grant frames of v1 entries */
#define XENSIM_NR_RESERVED_GRANTS 8u	/* GNTTAB_NR_RESERVED_ENTRIES */
#define XENSIM_XENSTORE_GRANT	1u	/* GNTTAB_RESERVED_XENSTORE */
#define XENSIM_MAX_DOMID	0x7fefu	/* DOMID_FIRST_RESERVED - 1 */
#define XENSIM_MAX_BATCH	1024u	/* refs/pages per request */
#define XENSIM_MSG_MAX		(64u * 1024u)
#define XENSIM_NAME_MAX		64u

/*
 * Each domain's event-channel page, a memfd shared by the hypervisor and
 * the libraries: gen[port] changes whenever the port's peer changes;
 * state[port] holds the port's pending and mask bits, as Xen's shared_info
 * does.  A sender sets PENDING and writes the port's eventfd only when it
 * found neither PENDING nor MASKED set, so one wake-up is raised per
 * delivery, masked ports stay silent, and the receiver's unmask re-raises
 * an event that came while masked.
 */
#define XENSIM_EVTCHN_PENDING	0x1u
#define XENSIM_EVTCHN_MASKED	0x2u

struct xensim_evtchn_page {
	uint32_t gen[XENSIM_NR_PORTS];
	uint32_t state[XENSIM_NR_PORTS];
};

/* Default socket directory; XENSIM_RUNDIR overrides it. */
#define XENSIM_DEFAULT_RUNDIR	"/run/xensim"

enum xensim_op {
	XENSIM_OP_HELLO = 1,		/* -> hello_rsp, fd: evtchn generation page */
	XENSIM_OP_EVTCHN_UNBOUND,	/* evtchn_req(remote_dom) -> port, fd: rx */
	XENSIM_OP_EVTCHN_INTERDOMAIN,	/* evtchn_req(remote_dom, remote_port) -> port, fds: rx, tx, remote page */
	XENSIM_OP_EVTCHN_VIRQ,		/* evtchn_req(virq) -> port, fd: rx */
	XENSIM_OP_EVTCHN_UNBIND,	/* evtchn_req(port) */
	XENSIM_OP_EVTCHN_PEER,		/* evtchn_req(port) -> evtchn_rsp(gen), fds: tx, remote page if connected */
	XENSIM_OP_GNT_SHARE,		/* share_req -> share_rsp, fd: own memory */
	XENSIM_OP_GNT_UNSHARE,		/* unshare_req */
	XENSIM_OP_GNT_MAP,		/* map_req -> map_rsp, fd: granter memory (ro or rw) */
	XENSIM_OP_GNT_UNMAP,		/* unmap_req */
	XENSIM_OP_FMEM_MAP,		/* fmem_req -> fmem_rsp, fd: domain memory */
	XENSIM_OP_DOMINFO,		/* dominfo_req -> dominfo_rsp */
	XENSIM_OP_DOMAIN_CREATE,	/* create_req -> create_rsp */
	XENSIM_OP_DOMAIN_DESTROY,	/* domctl_req */
	XENSIM_OP_DOMAIN_SHUTDOWN,	/* domctl_req(reason) */
	XENSIM_OP_DOMAIN_PAUSE,		/* domctl_req */
	XENSIM_OP_DOMAIN_UNPAUSE,	/* domctl_req */
	XENSIM_OP_REGISTER_PID,		/* domctl_req(pid): killed when the domain dies */
	XENSIM_OP_STATS,		/* domctl_req -> stats_rsp */
	XENSIM_OP_HOST_STOP,		/* ends the daemon */
	XENSIM_OP_DM_OP,		/* dm_op_req -> dm_op_rsp */
	XENSIM_OP_RESOURCE_MAP,		/* resource_req -> resource_rsp, fd: domain memory */
	XENSIM_OP_VCPU_DEBUG,		/* vcpu_debug_req -> vcpu_debug_rsp (a guest vCPU's debug call) */
	XENSIM_OP_PROGRAMS,		/* req -> programs_rsp: what runs in the domains */
	XENSIM_OP_MAX
};

struct xensim_req {
	uint32_t op;
	uint32_t len;		/* whole datagram, header included */
};

struct xensim_rsp {
	int32_t ret;		/* 0 or -errno */
	uint32_t len;		/* whole datagram, header included */
};

struct xensim_hello_req {
	struct xensim_req hdr;
	uint32_t version;
	uint32_t pad;
};

struct xensim_hello_rsp {
	struct xensim_rsp hdr;
	uint32_t version;
	uint32_t domid;
	uint32_t privileged;
	uint32_t pad;
};

struct xensim_evtchn_req {
	struct xensim_req hdr;
	uint32_t remote_dom;
	uint32_t port;		/* remote port (interdomain) or local port */
	uint32_t virq;
	uint32_t pad;
};

struct xensim_evtchn_rsp {
	struct xensim_rsp hdr;
	uint32_t port;
	uint32_t gen;		/* peer generation the tx fd belongs to */
	uint32_t remote_dom;	/* where tx leads, when connected */
	uint32_t remote_port;
};

/* Unmap notification: as IOCTL_GNTDEV_SET_UNMAP_NOTIFY / gntalloc's. */
#define XENSIM_NOTIFY_CLEAR_BYTE 0x1
#define XENSIM_NOTIFY_SEND_EVENT 0x2

struct xensim_notify {
	uint32_t flags;
	uint32_t offset;	/* byte offset in the whole mapping */
	uint32_t port;		/* local port of the caller's domain */
	uint32_t pad;
};

struct xensim_share_req {
	struct xensim_req hdr;
	uint32_t domid;		/* grantee */
	uint32_t count;
	uint32_t writable;
	uint32_t pad;
	struct xensim_notify notify;
};

struct xensim_share_rsp {
	struct xensim_rsp hdr;
	uint64_t share_id;
	/* then uint32_t refs[count], uint32_t gfns[count] */
};

struct xensim_unshare_req {
	struct xensim_req hdr;
	uint64_t share_id;
};

struct xensim_map_req {
	struct xensim_req hdr;
	uint32_t count;
	uint32_t writable;
	struct xensim_notify notify;
	/* then uint32_t domids[count], uint32_t refs[count] */
};

struct xensim_map_rsp {
	struct xensim_rsp hdr;
	uint64_t map_id;
	/* then uint32_t gfns[count] */
};

struct xensim_unmap_req {
	struct xensim_req hdr;
	uint64_t map_id;
};

struct xensim_fmem_req {
	struct xensim_req hdr;
	uint32_t domid;
	uint32_t count;
	/* then uint64_t gfns[count] */
};

struct xensim_fmem_rsp {
	struct xensim_rsp hdr;
	/* then int32_t errs[count] */
};

struct xensim_dominfo_req {
	struct xensim_req hdr;
	uint32_t first_domid;
	uint32_t max;
};

#define XENSIM_DOM_DYING	0x01
#define XENSIM_DOM_SHUTDOWN	0x02
#define XENSIM_DOM_CRASHED	0x04
#define XENSIM_DOM_PAUSED	0x08
#define XENSIM_DOM_HVM		0x10
#define XENSIM_DOM_RUNNING	0x20

struct xensim_dominfo {
	uint32_t domid;
	uint32_t flags;
	uint32_t shutdown_reason;
	uint32_t nr_pages;	/* frames in use */
	uint32_t max_pages;
	uint32_t pad;
	uint8_t handle[16];
	char name[XENSIM_NAME_MAX];
};

struct xensim_dominfo_rsp {
	struct xensim_rsp hdr;
	uint32_t count;
	uint32_t pad;
	/* then struct xensim_dominfo[count] */
};

/* The programs enrolled with XENSIM_OP_REGISTER_PID that still run. */
struct xensim_program {
	uint32_t domid;
	int32_t pid;
	uint64_t start_time;	/* /proc/PID/stat field 22: pids get reused */
};

struct xensim_programs_rsp {
	struct xensim_rsp hdr;
	uint32_t count;
	uint32_t pad;
	/* then struct xensim_program[count] */
};

#define XENSIM_CREATE_HVM	0x1

struct xensim_create_req {
	struct xensim_req hdr;
	uint32_t domid;		/* 0: allocate */
	uint32_t memory_mb;
	uint32_t flags;
	uint32_t pad;
	char name[XENSIM_NAME_MAX];
};

struct xensim_create_rsp {
	struct xensim_rsp hdr;
	uint32_t domid;
	uint32_t store_port;
	uint64_t store_gfn;
};

struct xensim_domctl_req {
	struct xensim_req hdr;
	uint32_t domid;
	uint32_t arg;
};

struct xensim_stats_rsp {
	struct xensim_rsp hdr;
	uint32_t domid;
	uint32_t ports;		/* allocated event channels */
	uint32_t grants;	/* active grant entries */
	uint32_t grant_maps;	/* mappings of this domain's grants by anyone */
	uint32_t maps_held;	/* foreign grants this domain has mapped */
	uint32_t frames;	/* allocated frames */
	uint32_t connections;	/* open library handles */
	uint32_t domains;	/* all domains on the host, dying included */
};

/*
 * The Viridian synthetic debugger's debug port (XEN_DMOP_syndbg_backend,
 * XENMEM_resource_syndbg), served by the patched Xen code that xensimd
 * loads as a plugin; without the plugin these ops fail with EOPNOTSUPP.
 * dm_op_req is a HYPERVISOR_dm_op the library (standing in for the privcmd
 * driver, which checks its restriction) decoded: op is the XEN_DMOP_*
 * number, sub and pad the XEN_DMOP_syndbg_backend fields.
 */
struct xensim_dm_op_req {
	struct xensim_req hdr;
	uint32_t domid;
	uint32_t op;
	uint32_t sub;
	uint32_t pad;
};

struct xensim_dm_op_rsp {
	struct xensim_rsp hdr;
	uint32_t backend;
	uint32_t pad;
};

struct xensim_resource_req {
	struct xensim_req hdr;
	uint32_t domid;
	uint32_t type;
	uint32_t id;
	uint32_t frame;
	uint32_t nr_frames;
	uint32_t pad;
};

struct xensim_resource_rsp {
	struct xensim_rsp hdr;
	uint32_t nr_frames;
	uint32_t pad;
	/* then uint64_t gfns[nr_frames] in the memory fd */
};

/*
 * A vCPU of the caller's domain executes a debug hypercall or SYNDBG MSR
 * access.  Before it, write_len bytes that follow the request are written
 * to guest memory at write_gpa (what the guest put in its input page);
 * the reply carries the page at read_gpa after it.  A call that blocks in
 * the hypervisor is answered when the vCPU's wait ends.
 */
#define XENSIM_VCPU_HCALL	1
#define XENSIM_VCPU_RDMSR	2
#define XENSIM_VCPU_WRMSR	3

struct xensim_vcpu_debug_req {
	struct xensim_req hdr;
	uint32_t kind;
	uint32_t vcpu;
	uint32_t code;		/* hypercall code, or MSR index */
	uint32_t fast;
	uint64_t in_gpa;
	uint64_t out_gpa;
	uint64_t value;		/* WRMSR value */
	uint64_t write_gpa;
	uint64_t read_gpa;	/* ~0: nothing to read */
	uint32_t write_len;
	uint32_t pad;
	/* then uint8_t data[write_len] */
};

struct xensim_vcpu_debug_rsp {
	struct xensim_rsp hdr;
	int32_t status;		/* HV_STATUS, or -errno for an MSR (#GP) */
	uint32_t pad;
	uint64_t value;		/* RDMSR value */
	/* then the page at read_gpa (XENSIM_PAGE_SIZE bytes) */
};

#endif /* XENSIM_PROTO_H */
