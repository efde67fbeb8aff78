// SPDX-License-Identifier: GPL-2.0-only
/*
 * The xenbus frontend of device/vmbus/0 and the bus's control messages.
 *
 * Handshake, as rows (link, what the backend says) -> action, link
 * (include/xenvmbus/xenstore.h has the keys, msg.h the messages):
 *   DOWN            InitWait     grant the control rings and the liveness
 *                                page, allocate the control port, publish,
 *                                Initialised                -> WAIT_CONNECTED
 *   WAIT_CONNECTED  Connected    Connected, INITIATE_CONTACT, wait for
 *                                VERSION_RESPONSE, REQUESTOFFERS      -> UP
 *   not DOWN        anything but InitWait/Initialised/Connected, or the
 *                   backend's liveness byte cleared (its process died)
 *                                channels rescinded, rings ungranted,
 *                                Initialising                       -> DOWN
 *   DOWN            Connected    ignored: what a dead backend left behind
 * The backend's states are read when xenstore says they changed; skipped
 * and repeated states are fine.
 *
 * Work: control messages are parsed by rx_work (system_highpri_wq), which
 * never sleeps on the backend; offers, rescinds and the handshake run on
 * the ordered xvmb_wq, where class drivers' probes may wait for replies
 * that rx_work delivers.  Every wait is bounded (XVMB_REPLY_TIMEOUT).
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <xen/events.h>
#include <xen/page.h>

#include "xvmb.h"

enum xvmb_link { LINK_DOWN, LINK_WAIT_CONNECTED, LINK_UP, LINK_DEAD };

struct xvmb_conn *xvmb_conn;
struct workqueue_struct *xvmb_wq;
static enum xvmb_link xvmb_link;
static bool xvmb_be_armed;		/* the backend set its liveness byte */
static bool xvmb_be_died;

/* Preferred first (msg.h: VMI rules); 1.0 serves all but peer channels. */
static const u32 xvmb_bus_versions[] = {
	VMBUS_BUS_VERSION_1_1, VMBUS_BUS_VERSION_1_0,
};

struct xvmb_gpadl {
	struct list_head node;		/* conn.gpadls */
	u32 id;
	u32 relid;
	int status;			/* GPADL_CREATED: 1 = waiting */
	bool torndown;
	unsigned int npages;
	struct page **pages;		/* ours to free (rings), or NULL */
	grant_ref_t refs[];
};

u32 xvmb_gpadl_id(const struct xvmb_gpadl *g)
{
	return g->id;
}

/* Caller holds conn->lock. */
struct xvmb_gpadl *xvmb_gpadl_find(struct xvmb_conn *conn, u32 id)
{
	struct xvmb_gpadl *g;

	list_for_each_entry(g, &conn->gpadls, node)
		if (g->id == id)
			return g;
	return NULL;
}

/* Caller holds conn->lock: a current, unrescinded channel. */
static struct xvmb_channel *xvmb_channel_find(struct xvmb_conn *conn, u32 relid)
{
	struct xvmb_channel *xc;

	list_for_each_entry(xc, &conn->channels, node)
		if (xc->gen == conn->gen && !xc->chan.rescind &&
		    xc->chan.offermsg.child_relid == relid)
			return xc;
	return NULL;
}

/* --- sending --- */

int xvmb_send(struct xvmb_conn *conn, const void *msg, u32 len)
{
	struct vmpacket_descriptor desc = {
		.type = VM_PKT_DATA_INBAND,
		.offset8 = sizeof(desc) >> 3,
		.len8 = (sizeof(desc) + len) >> 3,
	};
	struct kvec kv[2] = {
		{ &desc, sizeof(desc) }, { (void *)msg, len },
	};
	unsigned long end = jiffies + XVMB_REPLY_TIMEOUT;
	bool signal;
	int rc;

	if (len < sizeof(struct vmbus_msg_hdr) || len > VMBUS_MSG_MAX_SIZE ||
	    (len & (VMBUS_MSG_ALIGN - 1)))
		return -EINVAL;
	for (;;) {
		if (conn->dead || xvmb_link == LINK_DOWN)
			return -ENOTCONN;
		rc = xvmb_ring_write(&conn->ctl_out, kv, 2, &signal);
		if (rc != -EAGAIN)
			break;
		/* The backend signals when it frees room (pending_send_sz). */
		WRITE_ONCE(conn->ctl_out.ring_buffer->pending_send_sz,
			   sizeof(desc) + len + sizeof(u64));
		if (time_after(jiffies, end))
			return -ETIMEDOUT;
		msleep(1);
	}
	WRITE_ONCE(conn->ctl_out.ring_buffer->pending_send_sz, 0);
	if (rc == -EIO) {
		dev_err(&conn->xdev->dev, "the backend broke the control "
			"ring's read index\n");
		return rc;
	}
	if (!rc && signal)
		notify_remote_via_irq(conn->ctl_irq);
	return rc;
}

/* --- GPADLs: pages granted, the grant references sent --- */

int xvmb_gpadl_create(struct xvmb_channel *xc, struct page **pages,
		      unsigned int npages, u32 size, struct xvmb_gpadl **out)
{
	struct xvmb_conn *conn = xvmb_conn;
	u8 buf[VMBUS_MSG_MAX_SIZE];
	struct vmbus_msg_gpadl_header *hdr = (void *)buf;
	struct vmbus_msg_gpadl_body *body = (void *)buf;
	struct vmbus_gpa_range range = { .byte_count = size };
	u32 blen, left, chunk, pos = 0, msgno = 0, i;
	struct xvmb_gpadl *g;
	long t;
	int rc;

	blen = VMBUS_GPA_RANGE_BYTES(npages);
	if (!npages || blen > VMBUS_GPADL_MAX_BUFLEN ||
	    size != npages * VMBUS_GRANT_PAGE_SIZE)
		return -E2BIG;
	g = kzalloc(struct_size(g, refs, npages), GFP_KERNEL);
	if (!g)
		return -ENOMEM;
	g->npages = npages;
	g->relid = xc->chan.offermsg.child_relid;
	g->status = 1;
	for (i = 0; i < npages; i++) {
		rc = gnttab_grant_foreign_access(conn->backend_id,
						 xen_page_to_gfn(pages[i]), 0);
		if (rc < 0) {
			g->npages = i;
			goto fail;
		}
		g->refs[i] = rc;
	}
	mutex_lock(&conn->lock);
	g->id = ++conn->next_gpadl;
	if (!g->id)
		g->id = ++conn->next_gpadl;
	list_add(&g->node, &conn->gpadls);
	mutex_unlock(&conn->lock);

	/* The range buffer (one range of grant references) over messages. */
	left = blen;
	while (left) {
		u32 off, room;

		memset(buf, 0, sizeof(buf));
		if (!msgno) {
			hdr->hdr.msgtype = VMBUS_MSG_GPADL_HEADER;
			hdr->child_relid = g->relid;
			hdr->gpadl_id = g->id;
			hdr->range_buflen = blen;
			hdr->range_count = 1;
			off = sizeof(*hdr);
			room = VMBUS_GPADL_HEADER_MAX_DATA;
		} else {
			body->hdr.msgtype = VMBUS_MSG_GPADL_BODY;
			body->msgnumber = msgno;
			body->gpadl_id = g->id;
			off = sizeof(*body);
			room = VMBUS_GPADL_BODY_MAX_DATA;
		}
		chunk = min(left, room);
		for (i = 0; i < chunk; i += 4, pos += 4) {
			u32 v = pos == 0 ? range.byte_count :
				pos == 4 ? range.byte_offset :
				g->refs[(pos - 8) / 4];

			memcpy(buf + off + i, &v, 4);
		}
		rc = xvmb_send(conn, buf, ALIGN(off + chunk, 8));
		if (rc)
			goto unlist;
		left -= chunk;
		msgno++;
	}
	t = wait_event_timeout(conn->wq, READ_ONCE(g->status) != 1 ||
			       conn->dead, XVMB_REPLY_TIMEOUT);
	mutex_lock(&conn->lock);
	rc = g->status;
	mutex_unlock(&conn->lock);
	if (rc == 1)
		rc = conn->dead ? -ENOTCONN : -ETIMEDOUT;
	else if (rc)
		rc = -EIO;
	if (rc) {
		dev_err(&conn->xdev->dev, "the backend did not create GPADL "
			"%u of channel %u (%d)\n", g->id, g->relid, rc);
		goto unlist;
	}
	g->pages = NULL;
	*out = g;
	return 0;
unlist:
	mutex_lock(&conn->lock);
	list_del(&g->node);
	mutex_unlock(&conn->lock);
fail:
	/* Pages the backend may have mapped stay granted until it lets go. */
	for (i = 0; i < g->npages; i++)
		gnttab_end_foreign_access(g->refs[i], NULL);
	kfree(g);
	return rc < 0 ? rc : -EIO;
}

int xvmb_gpadl_destroy(struct xvmb_channel *xc, struct xvmb_gpadl *g,
		       bool free_pages)
{
	struct xvmb_conn *conn = xvmb_conn;
	struct vmbus_msg_gpadl_teardown m = { 0 };
	unsigned int i;
	int rc = 0;

	if (!conn->dead && xc->gen == conn->gen && !xc->chan.rescind) {
		m.hdr.msgtype = VMBUS_MSG_GPADL_TEARDOWN;
		m.child_relid = g->relid;
		m.gpadl_id = g->id;
		rc = xvmb_send(conn, &m, sizeof(m));
		if (!rc && !wait_event_timeout(conn->wq, READ_ONCE(g->torndown) ||
					       conn->dead, XVMB_REPLY_TIMEOUT))
			rc = -ETIMEDOUT;
	}
	mutex_lock(&conn->lock);
	list_del(&g->node);
	mutex_unlock(&conn->lock);
	/*
	 * A grant the backend still maps ends once it unmaps; the page is
	 * freed then (ring pages) or kept referenced till then (a driver's).
	 */
	for (i = 0; i < g->npages; i++) {
		struct page *p = free_pages && xc->ring_pages &&
				 i < xc->ring_npages ? xc->ring_pages[i] : NULL;

		gnttab_end_foreign_access(g->refs[i], p);
		if (p)
			xc->ring_pages[i] = NULL;
	}
	kfree(g);
	return rc;
}

/* --- receiving control messages --- */

static struct xvmb_channel *xvmb_channel_alloc(void)
{
	struct xvmb_channel *xc = kzalloc(sizeof(*xc), GFP_KERNEL);
	struct vmbus_channel *c;

	if (!xc)
		return NULL;
	c = &xc->chan;
	INIT_LIST_HEAD(&c->sc_list);
	INIT_LIST_HEAD(&c->listentry);
	spin_lock_init(&c->sched_lock);
	spin_lock_init(&c->requestor.req_lock);
	init_completion(&c->rescind_event);
	spin_lock_init(&c->outbound.ring_lock);
	spin_lock_init(&c->inbound.ring_lock);
	mutex_init(&c->outbound.ring_buffer_mutex);
	mutex_init(&c->inbound.ring_buffer_mutex);
	c->state = CHANNEL_OFFER_STATE;
	c->callback_mode = HV_CALL_BATCHED;
	c->is_dedicated_interrupt = true;
	c->device_id = HV_UNKNOWN;
	tasklet_init(&c->callback_event, NULL, 0);
	return xc;
}

static void xvmb_channel_work(struct work_struct *w);

static int xvmb_on_offer(struct xvmb_conn *conn, const void *msg)
{
	const struct vmbus_msg_offer_channel *o = msg;
	struct vmbus_channel_offer_channel *om;
	struct xvmb_channel *xc;

	if (!o->child_relid || !o->class_version_count ||
	    o->class_version_count > VMBUS_OFFER_MAX_CLASS_VERSIONS)
		return -EPROTO;
	/* Channels between guests are libvmbus's; never a kernel device. */
	if (o->peer_flags & VMBUS_OFFER_PEER_VALID)
		return 0;
	if (xvmb_channel_find(conn, o->child_relid))
		return -EPROTO;
	xc = xvmb_channel_alloc();
	if (!xc)
		return -ENOMEM;
	om = &xc->chan.offermsg;
	om->header.msgtype = CHANNELMSG_OFFERCHANNEL;
	memcpy(&om->offer.if_type, o->if_type.b, sizeof(guid_t));
	memcpy(&om->offer.if_instance, o->if_instance.b, sizeof(guid_t));
	om->offer.chn_flags = o->channel_flags;
	om->offer.mmio_megabytes = o->mmio_megabytes;
	memcpy(om->offer.u.std.user_def, o->user_data,
	       sizeof(om->offer.u.std.user_def));
	om->offer.sub_channel_index = o->sub_channel_index;
	om->child_relid = o->child_relid;
	om->is_dedicated_interrupt = 1;
	xc->class_version = o->class_versions[0];
	xc->gen = conn->gen;
	INIT_WORK(&xc->work, xvmb_channel_work);
	list_add_tail(&xc->node, &conn->channels);
	queue_work(xvmb_wq, &xc->work);
	return 0;
}

static int xvmb_on_rescind(struct xvmb_conn *conn, const void *msg)
{
	const struct vmbus_msg_relid *r = msg;
	struct xvmb_channel *xc = xvmb_channel_find(conn, r->child_relid);

	if (!xc)
		return -EPROTO;
	/* Waiters give up now; the device goes in process context. */
	xc->chan.rescind = true;
	wake_up_all(&conn->wq);
	queue_work(xvmb_wq, &xc->work);
	return 0;
}

static int xvmb_on_version(struct xvmb_conn *conn, const void *msg)
{
	const struct vmbus_msg_version_response *r = msg;
	unsigned int i;

	if (conn->version_done)
		return -EPROTO;
	conn->version = 0;
	for (i = 0; r->version_supported && i < ARRAY_SIZE(xvmb_bus_versions); i++)
		if (r->version == xvmb_bus_versions[i])
			conn->version = r->version;
	if (!conn->version)
		dev_err(&conn->xdev->dev, "the backend %s bus version %u.%u\n",
			r->version_supported ? "chose the unoffered" :
			"refused our versions; it speaks",
			VMBUS_VERSION_MAJOR(r->version),
			VMBUS_VERSION_MINOR(r->version));
	conn->version_done = true;
	return 0;
}

static int xvmb_on_alloffers(struct xvmb_conn *conn, const void *msg)
{
	conn->offers_done = true;
	return 0;
}

static int xvmb_on_open_result(struct xvmb_conn *conn, const void *msg)
{
	const struct vmbus_msg_open_result *r = msg;
	struct xvmb_channel *xc = xvmb_channel_find(conn, r->child_relid);

	if (!xc || xc->open_status != 1 || xc->open_id != r->open_id)
		return -EPROTO;
	xc->open_status = r->status == VMBUS_STATUS_SUCCESS ? 0 : -EIO;
	return 0;
}

static int xvmb_on_gpadl_created(struct xvmb_conn *conn, const void *msg)
{
	const struct vmbus_msg_gpadl_created *r = msg;
	struct xvmb_gpadl *g = xvmb_gpadl_find(conn, r->gpadl_id);

	if (!g || g->status != 1 || g->relid != r->child_relid)
		return -EPROTO;
	g->status = r->status == VMBUS_STATUS_SUCCESS ? 0 : -EIO;
	return 0;
}

static int xvmb_on_gpadl_torndown(struct xvmb_conn *conn, const void *msg)
{
	const struct vmbus_msg_gpadl_torndown *r = msg;
	struct xvmb_gpadl *g = xvmb_gpadl_find(conn, r->gpadl_id);

	if (!g || g->torndown)
		return -EPROTO;
	g->torndown = true;
	return 0;
}

static int xvmb_on_ignore(struct xvmb_conn *conn, const void *msg)
{
	return 0;
}

/* Server -> client messages: exact sizes; handlers run under conn->lock. */
static const struct {
	u32 size;
	int (*fn)(struct xvmb_conn *conn, const void *msg);
} xvmb_msgs[VMBUS_MSG_COUNT] = {
	[VMBUS_MSG_OFFERCHANNEL] = { sizeof(struct vmbus_msg_offer_channel),
				     xvmb_on_offer },
	[VMBUS_MSG_RESCIND_CHANNELOFFER] = { sizeof(struct vmbus_msg_relid),
					     xvmb_on_rescind },
	[VMBUS_MSG_ALLOFFERS_DELIVERED] = { sizeof(struct vmbus_msg_empty),
					    xvmb_on_alloffers },
	[VMBUS_MSG_OPENCHANNEL_RESULT] = { sizeof(struct vmbus_msg_open_result),
					   xvmb_on_open_result },
	[VMBUS_MSG_GPADL_CREATED] = { sizeof(struct vmbus_msg_gpadl_created),
				      xvmb_on_gpadl_created },
	[VMBUS_MSG_GPADL_TORNDOWN] = { sizeof(struct vmbus_msg_gpadl_torndown),
				       xvmb_on_gpadl_torndown },
	[VMBUS_MSG_VERSION_RESPONSE] = { sizeof(struct vmbus_msg_version_response),
					 xvmb_on_version },
	[VMBUS_MSG_UNLOAD_RESPONSE] = { sizeof(struct vmbus_msg_empty),
					xvmb_on_ignore },
};

static void xvmb_rx_work(struct work_struct *w)
{
	struct xvmb_conn *conn = container_of(w, struct xvmb_conn, rx_work);
	u64 msgbuf[VMBUS_MSG_MAX_SIZE / 8];
	struct vmpacket_descriptor *d;
	const struct vmbus_msg_hdr *h = (void *)msgbuf;
	u32 len, type;
	int rc, n = 0;

	mutex_lock(&conn->lock);
	if (xvmb_link == LINK_DOWN || xvmb_link == LINK_DEAD)
		goto out;
	while ((d = xvmb_ring_peek(&conn->ctl_in)) != NULL) {
		if (IS_ERR(d)) {
			dev_err(&conn->xdev->dev, "the backend broke the "
				"control ring; reconnecting\n");
			xvmb_be_died = true;
			break;
		}
		len = hv_pkt_datalen(d);
		/* Copied once (peek); checked, then used. */
		rc = -EPROTO;
		type = 0;
		if (d->type == VM_PKT_DATA_INBAND && len >= sizeof(*h) &&
		    len <= VMBUS_MSG_MAX_SIZE && !(len & 7)) {
			memcpy(msgbuf, hv_pkt_data(d), len);
			type = h->msgtype;
			if (type < VMBUS_MSG_COUNT && xvmb_msgs[type].fn &&
			    xvmb_msgs[type].size == len)
				rc = xvmb_msgs[type].fn(conn, msgbuf);
		}
		if (rc)
			dev_warn_ratelimited(&conn->xdev->dev, "ignoring a bad "
					     "control message (type %u, %u "
					     "bytes): %d\n", type, len, rc);
		xvmb_ring_advance(&conn->ctl_in, d);
		if (++n % 32 == 0 && xvmb_ring_release(&conn->ctl_in))
			notify_remote_via_irq(conn->ctl_irq);
	}
	if (xvmb_ring_release(&conn->ctl_in))
		notify_remote_via_irq(conn->ctl_irq);
	if (xvmb_be_armed && conn->live_page &&
	    !READ_ONCE(((u8 *)page_address(conn->live_page))[VMBUS_LIVENESS_BACKEND]))
		xvmb_be_died = true;
	if (xvmb_be_died) {
		conn->dead = true;
		queue_work(xvmb_wq, &conn->state_work);
	}
out:
	mutex_unlock(&conn->lock);
	wake_up_all(&conn->wq);
}

static irqreturn_t xvmb_ctl_isr(int irq, void *arg)
{
	struct xvmb_conn *conn = arg;

	queue_work(system_highpri_wq, &conn->rx_work);
	return IRQ_HANDLED;
}

/* --- devices for offers, in process context --- */

/* The channel has left the bus: tell the backend, forget it. */
void xvmb_channel_put_removed(struct xvmb_channel *xc)
{
	struct xvmb_conn *conn = xvmb_conn;
	struct vmbus_msg_relid m = { 0 };

	vmbus_close(&xc->chan);
	if (xc->chan.rescind && !conn->dead && xc->gen == conn->gen) {
		m.hdr.msgtype = VMBUS_MSG_RELID_RELEASED;
		m.child_relid = xc->chan.offermsg.child_relid;
		xvmb_send(conn, &m, sizeof(m));
	}
	mutex_lock(&conn->lock);
	list_del(&xc->node);
	if (xc->chan.primary_channel)
		list_del(&xc->chan.sc_list);
	mutex_unlock(&conn->lock);
	kfree(xc);
}

/* An offer: a device on the bus, or a sub-channel for its primary. */
static void xvmb_offer_add(struct xvmb_channel *xc)
{
	struct xvmb_conn *conn = xvmb_conn;
	struct vmbus_channel *prim = NULL;
	struct xvmb_channel *i;

	if (!xc->chan.offermsg.offer.sub_channel_index) {
		xvmb_device_add(xc, &conn->xdev->dev);
		return;
	}
	mutex_lock(&conn->lock);
	list_for_each_entry(i, &conn->channels, node)
		if (i != xc && i->gen == xc->gen && !i->chan.rescind &&
		    !i->chan.offermsg.offer.sub_channel_index &&
		    guid_equal(&i->chan.offermsg.offer.if_instance,
			       &xc->chan.offermsg.offer.if_instance))
			prim = &i->chan;
	if (prim) {
		xc->chan.primary_channel = prim;
		xc->chan.device_obj = prim->device_obj;
		list_add_tail(&xc->chan.sc_list, &prim->sc_list);
	}
	mutex_unlock(&conn->lock);
	if (prim && prim->sc_creation_callback)
		prim->sc_creation_callback(&xc->chan);
}

/* Last thing done with @xc by its work: it may be freed here. */
static void xvmb_rescind(struct xvmb_channel *xc)
{
	struct vmbus_channel *c = &xc->chan;

	complete(&c->rescind_event);
	/* A sub-channel, or an offer whose device never made it: gone now. */
	if (c->primary_channel || !xc->registered) {
		xvmb_channel_put_removed(xc);
		return;
	}
	/* hv_sock removes the device itself (vmbus_hvsock_device_unregister). */
	if (c->chn_rescind_callback) {
		c->chn_rescind_callback(c);
		return;
	}
	xvmb_device_remove(xc);
}

/*
 * One work per channel, on the ordered xvmb_wq: the offer first, the
 * rescind once it is marked (rx_work or a lost backend marks it and queues
 * the work again; a work queued while running runs again after).
 */
static void xvmb_channel_work(struct work_struct *w)
{
	struct xvmb_channel *xc = container_of(w, struct xvmb_channel, work);

	if (!xc->added) {
		xc->added = true;
		if (!READ_ONCE(xc->chan.rescind))
			xvmb_offer_add(xc);
	}
	if (READ_ONCE(xc->chan.rescind) && !xc->rescind_done) {
		xc->rescind_done = true;
		xvmb_rescind(xc);
	}
}

/* --- the handshake --- */

static int xvmb_ctl_connect(struct xvmb_conn *conn)
{
	struct xenbus_device *dev = conn->xdev;
	struct xenbus_transaction xbt;
	unsigned int order, i, half, max;
	const char *what = "allocate the control rings";
	char key[24];
	int rc;

	max = xenbus_read_unsigned(dev->otherend, VMBUS_XS_MAX_RING_PAGE_ORDER,
				   VMBUS_XS_MIN_RING_PAGE_ORDER);
	order = min_t(unsigned int, max, VMBUS_XS_DEFAULT_MAX_RING_PAGE_ORDER);
	if (order < VMBUS_XS_MIN_RING_PAGE_ORDER) {
		xenbus_dev_fatal(dev, -EINVAL, "backend maps only order %u "
				 "rings", max);
		return -EINVAL;
	}
	conn->ctl_npages = 1u << order;
	half = conn->ctl_npages / 2;
	for (i = 0; i < conn->ctl_npages; i++) {
		conn->ctl_pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!conn->ctl_pages[i])
			return -ENOMEM;
	}
	conn->live_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!conn->live_page)
		return -ENOMEM;
	rc = xvmb_ring_map(&conn->ctl_out, conn->ctl_pages, half, 0);
	if (!rc)
		rc = xvmb_ring_map(&conn->ctl_in, conn->ctl_pages + half, half,
				   512);
	if (rc)
		goto fail;
	what = "grant the control rings";
	for (i = 0; i < conn->ctl_npages; i++) {
		rc = gnttab_grant_foreign_access(dev->otherend_id,
				xen_page_to_gfn(conn->ctl_pages[i]), 0);
		if (rc < 0)
			goto fail;
		conn->ctl_refs[i] = rc;
	}
	rc = gnttab_grant_foreign_access(dev->otherend_id,
					 xen_page_to_gfn(conn->live_page), 0);
	if (rc < 0)
		goto fail;
	conn->live_ref = rc;
	((u8 *)page_address(conn->live_page))[VMBUS_LIVENESS_FRONTEND] = 1;
	what = "allocate the control event channel";
	rc = xenbus_alloc_evtchn(dev, &conn->ctl_port);
	if (rc)
		goto fail;
	rc = bind_evtchn_to_irqhandler(conn->ctl_port, xvmb_ctl_isr, 0,
				       XVMB_NAME, conn);
	if (rc < 0)
		goto fail;
	conn->ctl_irq = rc;

again:
	what = "start a transaction";
	rc = xenbus_transaction_start(&xbt);
	if (rc)
		goto fail;
	what = "write " VMBUS_XS_RING_PAGE_ORDER;
	rc = xenbus_printf(xbt, dev->nodename, VMBUS_XS_RING_PAGE_ORDER, "%u",
			   order);
	for (i = 0; !rc && i < conn->ctl_npages; i++) {
		snprintf(key, sizeof(key), VMBUS_XS_RING_REF_FMT, i);
		rc = xenbus_printf(xbt, dev->nodename, key, "%u",
				   conn->ctl_refs[i]);
	}
	if (!rc)
		rc = xenbus_printf(xbt, dev->nodename, VMBUS_XS_EVENT_CHANNEL,
				   "%u", conn->ctl_port);
	if (!rc)
		rc = xenbus_printf(xbt, dev->nodename, VMBUS_XS_LIVENESS_REF,
				   "%u", conn->live_ref);
	if (!rc)
		rc = xenbus_printf(xbt, dev->nodename, VMBUS_XS_VERSION,
				   VMBUS_XS_VERSION_FMT,
				   VMBUS_VERSION_MAJOR(xvmb_bus_versions[0]),
				   VMBUS_VERSION_MINOR(xvmb_bus_versions[0]));
	if (rc) {
		xenbus_transaction_end(xbt, 1);
		goto fail;
	}
	rc = xenbus_transaction_end(xbt, 0);
	if (rc == -EAGAIN)
		goto again;
	what = "end the transaction";
	if (rc)
		goto fail;
	return 0;
fail:
	xenbus_dev_error(dev, rc, "failed to %s", what);
	return rc < 0 ? rc : -EIO;
}

static void xvmb_ctl_disconnect(struct xvmb_conn *conn)
{
	struct xenbus_device *dev = conn->xdev;
	unsigned int i;

	if (conn->live_page) {
		/* What gntalloc's unmap notification does for libvmbus. */
		WRITE_ONCE(((u8 *)page_address(conn->live_page))
			   [VMBUS_LIVENESS_FRONTEND], 0);
		if (conn->ctl_irq > 0)
			notify_remote_via_irq(conn->ctl_irq);
		xenbus_rm(XBT_NIL, dev->nodename, VMBUS_XS_LIVENESS_REF);
	}
	if (conn->ctl_irq > 0)
		unbind_from_irqhandler(conn->ctl_irq, conn);
	else if (conn->ctl_port)
		xenbus_free_evtchn(dev, conn->ctl_port);
	conn->ctl_irq = 0;
	conn->ctl_port = 0;
	cancel_work_sync(&conn->rx_work);
	xvmb_ring_unmap(&conn->ctl_out);
	xvmb_ring_unmap(&conn->ctl_in);
	for (i = 0; i < conn->ctl_npages; i++) {
		if (!conn->ctl_pages[i])
			continue;
		if (conn->ctl_refs[i])
			gnttab_end_foreign_access(conn->ctl_refs[i],
						  conn->ctl_pages[i]);
		else
			__free_page(conn->ctl_pages[i]);
		conn->ctl_pages[i] = NULL;
		conn->ctl_refs[i] = 0;
	}
	conn->ctl_npages = 0;
	if (conn->live_page) {
		if (conn->live_ref)
			gnttab_end_foreign_access(conn->live_ref,
						  conn->live_page);
		else
			__free_page(conn->live_page);
	}
	conn->live_page = NULL;
	conn->live_ref = 0;
}

/*
 * Everything of this connection ends; a new one starts at Initialising.
 * The channels are marked rescinded and their works queued: they remove
 * the devices after this (xvmb_wq is ordered), sending nothing, since
 * their connection is an older one by then.
 */
static void xvmb_conn_down(struct xvmb_conn *conn, const char *why)
{
	struct xvmb_channel *xc;

	if (xvmb_link == LINK_UP)
		dev_warn(&conn->xdev->dev, "the backend went away (%s): its "
			 "devices are removed\n", why);
	conn->dead = true;
	wake_up_all(&conn->wq);
	xvmb_ctl_disconnect(conn);
	mutex_lock(&conn->lock);
	list_for_each_entry(xc, &conn->channels, node)
		if (xc->gen == conn->gen && !xc->chan.rescind) {
			xc->chan.rescind = true;
			queue_work(xvmb_wq, &xc->work);
		}
	conn->gen++;
	conn->version = 0;
	conn->version_done = false;
	conn->offers_done = false;
	xvmb_link = LINK_DOWN;
	xvmb_be_armed = false;
	xvmb_be_died = false;
	conn->dead = false;
	mutex_unlock(&conn->lock);
}

static int xvmb_contact(struct xvmb_conn *conn)
{
	struct vmbus_msg_initiate_contact m = { 0 };
	struct vmbus_msg_empty req = { 0 };
	unsigned int i;
	int rc;

	m.hdr.msgtype = VMBUS_MSG_INITIATE_CONTACT;
	m.version_requested = xvmb_bus_versions[0];
	m.version_count = ARRAY_SIZE(xvmb_bus_versions);
	for (i = 0; i < ARRAY_SIZE(xvmb_bus_versions); i++)
		m.versions[i] = xvmb_bus_versions[i];
	rc = xvmb_send(conn, &m, sizeof(m));
	if (rc)
		return rc;
	if (!wait_event_timeout(conn->wq, conn->version_done || conn->dead,
				XVMB_REPLY_TIMEOUT))
		return -ETIMEDOUT;
	if (conn->dead)
		return -ENOTCONN;
	if (!conn->version)
		return -EPROTONOSUPPORT;
	dev_info(&conn->xdev->dev, "bus version %u.%u with domain %u\n",
		 VMBUS_VERSION_MAJOR(conn->version),
		 VMBUS_VERSION_MINOR(conn->version), conn->backend_id);
	req.hdr.msgtype = VMBUS_MSG_REQUESTOFFERS;
	return xvmb_send(conn, &req, sizeof(req));
}

static void xvmb_state_work(struct work_struct *w)
{
	struct xvmb_conn *conn = container_of(w, struct xvmb_conn, state_work);
	struct xenbus_device *dev = conn->xdev;
	enum xenbus_state be = xenbus_read_driver_state(dev->otherend);
	int rc;

	if (xvmb_link == LINK_DEAD)
		return;
	if (xvmb_link != LINK_DOWN &&
	    (xvmb_be_died || (be != XenbusStateInitWait &&
			      be != XenbusStateInitialised &&
			      be != XenbusStateConnected))) {
		xvmb_conn_down(conn, xvmb_be_died ? "its process ended" :
			       xenbus_strstate(be));
		xenbus_switch_state(dev, XenbusStateInitialising);
		be = xenbus_read_driver_state(dev->otherend);
	}
	switch (xvmb_link) {
	case LINK_DOWN:
		if (be != XenbusStateInitWait)
			break;
		rc = xvmb_ctl_connect(conn);
		if (rc) {
			xvmb_ctl_disconnect(conn);
			break;
		}
		xvmb_link = LINK_WAIT_CONNECTED;
		xenbus_switch_state(dev, XenbusStateInitialised);
		break;
	case LINK_WAIT_CONNECTED:
		if (be != XenbusStateConnected)
			break;
		xvmb_be_armed = READ_ONCE(((u8 *)page_address(conn->live_page))
					  [VMBUS_LIVENESS_BACKEND]) != 0;
		xenbus_switch_state(dev, XenbusStateConnected);
		xvmb_link = LINK_UP;
		rc = xvmb_contact(conn);
		if (rc == -EPROTONOSUPPORT) {
			/* A backend that refuses us does so again. */
			xvmb_conn_down(conn, "no common bus version");
			xvmb_link = LINK_DEAD;
			xenbus_switch_state(dev, XenbusStateClosed);
		} else if (rc) {
			xvmb_conn_down(conn, "no answer to INITIATE_CONTACT");
			xenbus_switch_state(dev, XenbusStateInitialising);
		}
		break;
	default:
		break;
	}
}

static void xvmb_backend_changed(struct xenbus_device *dev,
				 enum xenbus_state be)
{
	struct xvmb_conn *conn = dev_get_drvdata(&dev->dev);

	/* Replies will not come: let waiters go before the work runs. */
	if (xvmb_link == LINK_UP && be != XenbusStateConnected) {
		conn->dead = true;
		wake_up_all(&conn->wq);
	}
	queue_work(xvmb_wq, &conn->state_work);
}

static int xvmb_probe(struct xenbus_device *dev,
		      const struct xenbus_device_id *id)
{
	struct xvmb_conn *conn;

	if (xvmb_conn)
		return -EBUSY;	/* one bus per guest: device/vmbus/0 */
	conn = kzalloc(sizeof(*conn), GFP_KERNEL);
	if (!conn)
		return -ENOMEM;
	conn->xdev = dev;
	conn->backend_id = dev->otherend_id;
	mutex_init(&conn->lock);
	init_waitqueue_head(&conn->wq);
	INIT_LIST_HEAD(&conn->channels);
	INIT_LIST_HEAD(&conn->gpadls);
	INIT_WORK(&conn->rx_work, xvmb_rx_work);
	INIT_WORK(&conn->state_work, xvmb_state_work);
	spin_lock_init(&conn->ctl_out.ring_lock);
	spin_lock_init(&conn->ctl_in.ring_lock);
	mutex_init(&conn->ctl_out.ring_buffer_mutex);
	mutex_init(&conn->ctl_in.ring_buffer_mutex);
	dev_set_drvdata(&dev->dev, conn);
	xvmb_link = LINK_DOWN;
	xvmb_conn = conn;
	/*
	 * An earlier driver left Closed behind (unbound, module unloaded):
	 * say Initialising, so that the backend serves a new connection.
	 * xenbus_switch_state would skip it, as dev->state starts there.
	 */
	xenbus_printf(XBT_NIL, dev->nodename, VMBUS_XS_STATE, "%d",
		      XenbusStateInitialising);
	queue_work(xvmb_wq, &conn->state_work);
	return 0;
}

static void xvmb_remove(struct xenbus_device *dev)
{
	struct xvmb_conn *conn = dev_get_drvdata(&dev->dev);

	flush_workqueue(xvmb_wq);
	xvmb_link = LINK_DEAD;
	cancel_work_sync(&conn->state_work);
	xvmb_conn_down(conn, "the bus driver is unloading");
	flush_workqueue(xvmb_wq);
	xvmb_link = LINK_DEAD;
	xvmb_conn = NULL;
	kfree(conn);
}

static const struct xenbus_device_id xvmb_ids[] = {
	{ VMBUS_XS_DEVICE_TYPE },
	{ "" }
};

static struct xenbus_driver xvmb_front = {
	.ids = xvmb_ids,
	.probe = xvmb_probe,
	.remove = xvmb_remove,
	.otherend_changed = xvmb_backend_changed,
	.not_essential = true,
};

int xvmb_conn_init(void)
{
	xvmb_wq = alloc_ordered_workqueue(XVMB_NAME, 0);
	if (!xvmb_wq)
		return -ENOMEM;
	return xenbus_register_frontend(&xvmb_front);
}

void xvmb_conn_exit(void)
{
	xenbus_unregister_driver(&xvmb_front);
	destroy_workqueue(xvmb_wq);
}
