/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen-vmbus: the guest end of the VMBus-over-Xen bus as a Linux bus named
 * "vmbus", so that the kernel's own Hyper-V class drivers (hv_utils,
 * hv_sock, ...) bind to the offers of the dom0 bus daemon.  Software state
 * shared by the files of the module; the wire formats are the project's
 * headers (include/xenvmbus/), the driver-facing structures are
 * <linux/hyperv.h>'s.
 *
 * Layers, as in drivers/hv: ring.c (one ring, either direction),
 * channel.c (what a class driver calls on a channel), connection.c (the
 * xenbus frontend and the control messages), bus.c (devices and drivers).
 */
#ifndef XVMB_H
#define XVMB_H

#include <linux/hyperv.h>
#include <linux/delay.h>
#include <linux/list.h>
#include <linux/uio.h>
#include <linux/mutex.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <xen/grant_table.h>
#include <xen/xenbus.h>

/* <linux/hyperv.h> defines the pipe modes too, with the same values. */
#undef VMBUS_PIPE_TYPE_BYTE
#undef VMBUS_PIPE_TYPE_MESSAGE
#include <xenvmbus/msg.h>
#include <xenvmbus/ring.h>
#include <xenvmbus/xenstore.h>

#define XVMB_NAME		"xen-vmbus"
/* Answers to a control message come within this, or the peer is broken. */
#define XVMB_REPLY_TIMEOUT	(10 * HZ)

/* --- ring.c --- */

/*
 * A ring over granted pages: the header page once, the data pages twice
 * back to back (as hv_ringbuffer_init maps them), so a packet that wraps
 * is contiguous in the mapping.  Lives in a struct hv_ring_buffer_info,
 * whose inline helpers the class drivers use.
 */
int xvmb_ring_map(struct hv_ring_buffer_info *rbi, struct page **pages,
		  unsigned int npages, u32 max_pkt_size);
void xvmb_ring_unmap(struct hv_ring_buffer_info *rbi);
/* Write one packet gathered from @kv; *signal says whether to notify. */
int xvmb_ring_write(struct hv_ring_buffer_info *rbi, const struct kvec *kv,
		    unsigned int n, bool *signal);
/*
 * Copy the next packet (descriptor included) into rbi->pkt_buffer,
 * checked: NULL if none, ERR_PTR(-EIO) if the peer broke the ring.
 */
struct vmpacket_descriptor *xvmb_ring_peek(struct hv_ring_buffer_info *rbi);
/* Step over the packet peek returned (not yet published). */
void xvmb_ring_advance(struct hv_ring_buffer_info *rbi,
		       const struct vmpacket_descriptor *desc);
/* Publish the read index; true if the writer waits for the room freed. */
bool xvmb_ring_release(struct hv_ring_buffer_info *rbi);

/* --- connection.c --- */

struct xvmb_gpadl;

/* Our part of a channel; the class drivers see only ->chan. */
struct xvmb_channel {
	struct vmbus_channel chan;
	struct list_head node;		/* conn.channels */
	unsigned int gen;		/* the connection it was offered on */
	u32 class_version;		/* preferred version of the offer */
	bool broken;			/* the peer broke a ring */
	bool added;			/* work: the offer was handled */
	bool rescind_done;		/* work: the rescind was handled */
	bool registered;		/* its hv_device is on the bus */
	/* OPENCHANNEL in flight */
	u32 open_id;
	int open_status;		/* 1 = waiting */
	/* Open rings */
	struct page **ring_pages;
	unsigned int ring_npages;
	struct xvmb_gpadl *ring_gpadl;
	evtchn_port_t port;
	int irq;
	/*
	 * Grants of multi-page-buffer requests in flight, by requestor slot
	 * (request id - 1), under chan.requestor.req_lock: ended when the
	 * completion's id comes back through vmbus_request_addr, or at close.
	 */
	struct xvmb_req_grants **rq_grants;
	/* Offer, then rescind, in process context on xvmb_wq (ordered). */
	struct work_struct work;
};

/* The frames of one vmbus_sendpacket_mpb_desc request, granted. */
struct xvmb_req_grants {
	unsigned int n;
	grant_ref_t refs[];
};

static inline struct xvmb_channel *to_xvmb(struct vmbus_channel *c)
{
	return container_of(c, struct xvmb_channel, chan);
}

struct xvmb_conn {
	struct xenbus_device *xdev;
	domid_t backend_id;
	struct mutex lock;		/* state, channels, gpadls */
	unsigned int gen;		/* bumped on every connection */
	bool up;			/* versions agreed, offers asked for */
	bool dead;			/* the backend went away */
	u32 version;			/* bus version agreed */
	bool version_done;
	bool offers_done;
	/* control channel */
	struct page *ctl_pages[1u << VMBUS_XS_DEFAULT_MAX_RING_PAGE_ORDER];
	grant_ref_t ctl_refs[1u << VMBUS_XS_DEFAULT_MAX_RING_PAGE_ORDER];
	unsigned int ctl_npages;
	struct hv_ring_buffer_info ctl_out, ctl_in;
	evtchn_port_t ctl_port;
	int ctl_irq;
	struct page *live_page;
	grant_ref_t live_ref;
	struct work_struct rx_work;
	struct work_struct state_work;
	wait_queue_head_t wq;		/* replies, room in the control ring */
	struct list_head channels;
	struct list_head gpadls;
	u32 next_gpadl;
	u32 next_open;
};

extern struct xvmb_conn *xvmb_conn;
extern struct workqueue_struct *xvmb_wq;

int xvmb_send(struct xvmb_conn *conn, const void *msg, u32 len);
int xvmb_gpadl_create(struct xvmb_channel *xc, struct page **pages,
		      unsigned int npages, u32 size, struct xvmb_gpadl **out);
int xvmb_gpadl_destroy(struct xvmb_channel *xc, struct xvmb_gpadl *g,
		       bool free_pages);
u32 xvmb_gpadl_id(const struct xvmb_gpadl *g);
struct xvmb_gpadl *xvmb_gpadl_find(struct xvmb_conn *conn, u32 id);
int xvmb_conn_init(void);
void xvmb_conn_exit(void);
void xvmb_channel_put_removed(struct xvmb_channel *xc);

/* --- channel.c --- */

int xvmb_channel_open_rings(struct xvmb_channel *xc);
void xvmb_channel_kill(struct xvmb_channel *xc);

/* --- bus.c --- */

int xvmb_bus_init(void);
void xvmb_bus_exit(void);
int xvmb_device_add(struct xvmb_channel *xc, struct device *parent);
void xvmb_device_remove(struct xvmb_channel *xc);

#endif /* XVMB_H */
