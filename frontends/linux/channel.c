// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a class driver calls on a channel: the exports of hv_vmbus that
 * Debian's hv_utils, hv_sock, hv_storvsc and hv_netvsc import, with the
 * prototypes of <linux/hyperv.h> (so their modversions CRCs are
 * hv_vmbus's), implemented over grants and event channels.
 *
 * Channel states as in hv_vmbus: OFFER (offered, closed), OPENING (open in
 * flight), OPENED.  A rescinded channel may still be closed; nothing is
 * sent for it any more.
 */
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <xen/events.h>
#include <xen/page.h>

#include "xvmb.h"
#include "xvmb-api.h"

void vmbus_setevent(struct vmbus_channel *channel)
{
	struct xvmb_channel *xc = to_xvmb(channel);

	if (xc->irq > 0) {
		channel->sig_events++;
		notify_remote_via_irq(xc->irq);
	}
}

/* --- receiving: the iterators the drivers' inline helpers call --- */

struct vmpacket_descriptor *xvmb_pkt_iter_first(struct vmbus_channel *channel)
{
	struct xvmb_channel *xc = to_xvmb(channel);
	struct vmpacket_descriptor *d;

	if (xc->broken)
		return NULL;
	d = xvmb_ring_peek(&channel->inbound);
	if (IS_ERR(d)) {
		xc->broken = true;
		dev_err_ratelimited(channel->device_obj ?
				    &channel->device_obj->device : NULL,
				    "channel %u: the backend broke its ring; "
				    "the channel stops\n",
				    channel->offermsg.child_relid);
		return NULL;
	}
	return d;
}

struct vmpacket_descriptor *
xvmb_pkt_iter_next(struct vmbus_channel *channel,
		   const struct vmpacket_descriptor *pkt)
{
	xvmb_ring_advance(&channel->inbound, pkt);
	return hv_pkt_iter_first(channel);
}

void xvmb_pkt_iter_close(struct vmbus_channel *channel)
{
	if (xvmb_ring_release(&channel->inbound)) {
		channel->intr_in_full++;
		vmbus_setevent(channel);
	}
}

int xvmb_recvpacket(struct vmbus_channel *channel, void *buffer,
		     u32 bufferlen, u32 *buffer_actual_len, u64 *requestid)
{
	struct vmpacket_descriptor *desc;
	u32 off, len;

	if (!bufferlen)
		return -EINVAL;
	*buffer_actual_len = 0;
	*requestid = 0;
	desc = hv_pkt_iter_first(channel);
	if (!desc)
		return 0;	/* nothing: the caller looks at the length */
	off = (u32)desc->offset8 << 3;
	len = ((u32)desc->len8 << 3) - off;
	*buffer_actual_len = len;
	*requestid = desc->trans_id;
	if (len > bufferlen)
		return -ENOBUFS;
	memcpy(buffer, (u8 *)desc + off, len);
	__hv_pkt_iter_next(channel, desc);
	hv_pkt_iter_close(channel);
	return 0;
}

/* --- sending --- */

static int xvmb_write(struct vmbus_channel *channel, const struct kvec *kv,
		      unsigned int n)
{
	bool signal;
	int rc;

	if (channel->rescind || to_xvmb(channel)->broken)
		return -ENODEV;
	rc = xvmb_ring_write(&channel->outbound, kv, n, &signal);
	if (rc == -EIO) {
		to_xvmb(channel)->broken = true;
		return -ENODEV;
	}
	if (rc == -EAGAIN) {
		channel->out_full_total++;
		if (!channel->out_full_flag) {
			channel->out_full_flag = true;
			channel->out_full_first++;
		}
		return rc;
	}
	channel->out_full_flag = false;
	if (!rc && signal) {
		channel->intr_out_empty++;
		vmbus_setevent(channel);
	}
	return rc;
}

int xvmb_sendpacket(struct vmbus_channel *channel, void *buffer,
		     u32 bufferlen, u64 requestid,
		     enum vmbus_packet_type type, u32 flags)
{
	struct vmpacket_descriptor desc;
	u32 len = sizeof(desc) + bufferlen, aligned = ALIGN(len, 8);
	static const u8 zeros[8];
	struct kvec kv[3];
	u64 rqid = requestid;
	bool has_id = false;
	int rc;

	if (aligned > VMBUS_PKT_MAX_LEN)
		return -EINVAL;
	if (flags & VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED) {
		rqid = vmbus_next_request_id(channel, requestid);
		if (rqid == VMBUS_RQST_ERROR)
			return -EAGAIN;
		has_id = channel->rqstor_size != 0;
	}
	desc.type = type;
	desc.offset8 = sizeof(desc) >> 3;
	desc.len8 = aligned >> 3;
	desc.flags = flags;
	desc.trans_id = rqid;
	kv[0] = (struct kvec){ &desc, sizeof(desc) };
	kv[1] = (struct kvec){ buffer, bufferlen };
	kv[2] = (struct kvec){ (void *)zeros, aligned - len };
	rc = xvmb_write(channel, kv, 3);
	/* Not sent: the id is free again (as hv_ringbuffer_write does). */
	if (rc && has_id)
		vmbus_request_addr(channel, rqid);
	return rc;
}

/* --- request ids (the requestor of hv_vmbus, same contract) --- */

static int xvmb_rqstor_init(struct vmbus_channel *channel)
{
	struct vmbus_requestor *r = &channel->requestor;
	u32 i, size = channel->rqstor_size;

	memset(r, 0, sizeof(*r));
	spin_lock_init(&r->req_lock);
	if (!size)
		return 0;
	r->req_arr = kcalloc(size, sizeof(u64), GFP_KERNEL);
	r->req_bitmap = bitmap_zalloc(size, GFP_KERNEL);
	to_xvmb(channel)->rq_grants = kcalloc(size, sizeof(void *), GFP_KERNEL);
	if (!r->req_arr || !r->req_bitmap || !to_xvmb(channel)->rq_grants) {
		kfree(r->req_arr);
		bitmap_free(r->req_bitmap);
		kfree(to_xvmb(channel)->rq_grants);
		r->req_arr = NULL;
		r->req_bitmap = NULL;
		to_xvmb(channel)->rq_grants = NULL;
		return -ENOMEM;
	}
	/* Free slots chain to the next one; size ends the chain. */
	for (i = 0; i < size; i++)
		r->req_arr[i] = i + 1;
	r->size = size;
	r->next_request_id = 0;
	return 0;
}

static void xvmb_req_grants_end(struct xvmb_req_grants *g)
{
	unsigned int i;

	if (!g)
		return;
	/*
	 * A grant the backend still maps ends once it unmaps (deferred by
	 * the grant table code); the frame stays the driver's.
	 */
	for (i = 0; i < g->n; i++)
		gnttab_end_foreign_access(g->refs[i], NULL);
	kfree(g);
}

static void xvmb_rqstor_free(struct vmbus_channel *channel)
{
	struct vmbus_requestor *r = &channel->requestor;
	struct xvmb_channel *xc = to_xvmb(channel);
	u32 i;

	/* Requests never completed: the channel is closed, the rings gone. */
	if (xc->rq_grants) {
		for (i = 0; i < r->size; i++)
			xvmb_req_grants_end(xc->rq_grants[i]);
		kfree(xc->rq_grants);
		xc->rq_grants = NULL;
	}
	kfree(r->req_arr);
	bitmap_free(r->req_bitmap);
	r->req_arr = NULL;
	r->req_bitmap = NULL;
	r->size = 0;
}

u64 xvmb_next_request_id(struct vmbus_channel *channel, u64 rqst_addr)
{
	struct vmbus_requestor *r = &channel->requestor;
	unsigned long flags;
	u64 slot;

	if (!channel->rqstor_size || !r->size)
		return rqst_addr;
	spin_lock_irqsave(&r->req_lock, flags);
	slot = r->next_request_id;
	if (slot >= r->size) {
		spin_unlock_irqrestore(&r->req_lock, flags);
		return VMBUS_RQST_ERROR;
	}
	r->next_request_id = r->req_arr[slot];
	r->req_arr[slot] = rqst_addr;
	__set_bit(slot, r->req_bitmap);
	spin_unlock_irqrestore(&r->req_lock, flags);
	/* Ids start at 1: 0 means "no id" to some hosts. */
	return slot + 1;
}

u64 xvmb_request_addr(struct vmbus_channel *channel, u64 trans_id)
{
	struct vmbus_requestor *r = &channel->requestor;
	struct xvmb_channel *xc = to_xvmb(channel);
	struct xvmb_req_grants *g = NULL;
	unsigned long flags;
	u64 addr, slot;

	if (!channel->rqstor_size || !r->size)
		return trans_id;
	/* The id comes from the backend: hostile until checked. */
	if (!trans_id || trans_id > r->size)
		return VMBUS_RQST_ERROR;
	slot = trans_id - 1;
	spin_lock_irqsave(&r->req_lock, flags);
	if (!test_bit(slot, r->req_bitmap)) {
		spin_unlock_irqrestore(&r->req_lock, flags);
		return VMBUS_RQST_ERROR;
	}
	addr = r->req_arr[slot];
	r->req_arr[slot] = r->next_request_id;
	r->next_request_id = slot;
	__clear_bit(slot, r->req_bitmap);
	if (xc->rq_grants) {
		g = xc->rq_grants[slot];
		xc->rq_grants[slot] = NULL;
	}
	spin_unlock_irqrestore(&r->req_lock, flags);
	/* The request completed: the backend gives its frames back. */
	xvmb_req_grants_end(g);
	return addr;
}

/* --- multi-page-buffer packets: the frames granted, refs on the wire --- */

/*
 * What Linux sends as DATA_USING_GPA_DIRECT with guest PFNs goes out with
 * grant references in their place (include/xenvmbus/gpadl.h, ring.h):
 * every frame of the range is granted to the backend, the grants kept
 * with the request's id and ended when its completion comes back through
 * vmbus_request_addr (storvsc and netvsc call it for every completion) or
 * when the channel closes.  May run in atomic context (queuecommand, a
 * transmit), as hv_vmbus's.
 */
int xvmb_sendpacket_mpb_desc(struct vmbus_channel *channel,
			      struct vmbus_packet_mpb_array *desc,
			      u32 desc_size, void *buffer, u32 bufferlen,
			      u64 requestid)
{
	struct xvmb_channel *xc = to_xvmb(channel);
	struct vmbus_requestor *r = &channel->requestor;
	struct vmbus_pkt_gpa_direct h = { 0 };
	struct vmbus_gpa_range range;
	struct xvmb_req_grants *g;
	static const u8 zeros[8];
	u32 npfn, hlen, len, aligned, i;
	unsigned long flags;
	struct kvec kv[6];
	u64 rqid;
	int rc;

	if (desc_size < sizeof(*desc))
		return -EINVAL;
	npfn = (desc_size - sizeof(*desc)) / sizeof(u64);
	if (!desc->range.len || desc->range.offset >= HV_HYP_PAGE_SIZE ||
	    !npfn || npfn != HVPFN_UP(desc->range.offset + desc->range.len))
		return -EINVAL;
	/* Header, the one range, its grant refs, padding, the payload. */
	hlen = ALIGN(sizeof(h) + sizeof(range) + npfn * sizeof(grant_ref_t),
		     8);
	len = hlen + bufferlen;
	aligned = ALIGN(len, 8);
	if (aligned > VMBUS_PKT_MAX_LEN || hlen > 0xffff * 8)
		return -EMSGSIZE;
	if (!channel->rqstor_size || !xc->rq_grants) {
		/* Without request ids no completion could end the grants. */
		dev_warn_once(channel->device_obj ?
			      &channel->device_obj->device : NULL,
			      "multi-page-buffer packet on a channel without "
			      "request ids: refused\n");
		return -EOPNOTSUPP;
	}
	g = kmalloc(struct_size(g, refs, npfn), GFP_ATOMIC);
	if (!g)
		return -ENOMEM;
	g->n = 0;
	for (i = 0; i < npfn; i++) {
		rc = gnttab_grant_foreign_access(xvmb_conn->backend_id,
				pfn_to_gfn(desc->range.pfn_array[i]), 0);
		if (rc < 0) {
			/* Out of grant references for now: the caller retries. */
			xvmb_req_grants_end(g);
			return -EAGAIN;
		}
		g->refs[g->n++] = rc;
	}
	rqid = vmbus_next_request_id(channel, requestid);
	if (rqid == VMBUS_RQST_ERROR) {
		xvmb_req_grants_end(g);
		return -EAGAIN;
	}
	spin_lock_irqsave(&r->req_lock, flags);
	xc->rq_grants[rqid - 1] = g;
	spin_unlock_irqrestore(&r->req_lock, flags);

	h.desc.type = VMBUS_PKT_DATA_USING_GPA_DIRECT;
	h.desc.offset8 = hlen >> 3;
	h.desc.len8 = aligned >> 3;
	h.desc.flags = VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED;
	h.desc.trans_id = rqid;
	h.range_count = 1;
	range.byte_count = desc->range.len;
	range.byte_offset = desc->range.offset;
	kv[0] = (struct kvec){ &h, sizeof(h) };
	kv[1] = (struct kvec){ &range, sizeof(range) };
	kv[2] = (struct kvec){ g->refs, npfn * sizeof(grant_ref_t) };
	kv[3] = (struct kvec){ (void *)zeros,
			       hlen - sizeof(h) - sizeof(range) -
			       npfn * sizeof(grant_ref_t) };
	kv[4] = (struct kvec){ buffer, bufferlen };
	kv[5] = (struct kvec){ (void *)zeros, aligned - len };
	rc = xvmb_write(channel, kv, 6);
	/* Not sent: the id is free again and the grants end with it. */
	if (rc)
		vmbus_request_addr(channel, rqid);
	return rc;
}

/* --- GPADLs of driver buffers --- */

int xvmb_establish_gpadl(struct vmbus_channel *channel, void *kbuffer,
			  u32 size, struct vmbus_gpadl *gpadl)
{
	unsigned int i, npages;
	struct page **pages;
	struct xvmb_gpadl *g;
	int rc;

	if (!size || !PAGE_ALIGNED(kbuffer) || !PAGE_ALIGNED(size))
		return -EINVAL;
	npages = size >> PAGE_SHIFT;
	pages = kcalloc(npages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	for (i = 0; i < npages; i++) {
		void *p = (u8 *)kbuffer + ((size_t)i << PAGE_SHIFT);

		pages[i] = is_vmalloc_addr(p) ? vmalloc_to_page(p) :
			   virt_to_page(p);
	}
	rc = xvmb_gpadl_create(to_xvmb(channel), pages, npages, size, &g);
	kfree(pages);
	if (rc)
		return rc;
	gpadl->gpadl_handle = xvmb_gpadl_id(g);
	gpadl->size = size;
	gpadl->buffer = kbuffer;
	gpadl->decrypted = false;
	return 0;
}

int xvmb_teardown_gpadl(struct vmbus_channel *channel,
			 struct vmbus_gpadl *gpadl)
{
	struct xvmb_conn *conn = xvmb_conn;
	struct xvmb_gpadl *g = NULL;
	int rc = -EINVAL;

	if (!gpadl->gpadl_handle)
		return 0;
	mutex_lock(&conn->lock);
	g = xvmb_gpadl_find(conn, gpadl->gpadl_handle);
	mutex_unlock(&conn->lock);
	if (g)
		rc = xvmb_gpadl_destroy(to_xvmb(channel), g, false);
	gpadl->gpadl_handle = 0;
	return rc;
}

/* --- open and close --- */

static irqreturn_t xvmb_channel_isr(int irq, void *arg)
{
	struct vmbus_channel *channel = arg;
	void (*cb)(void *);

	channel->interrupts++;
	switch (channel->callback_mode) {
	case HV_CALL_ISR:
		cb = READ_ONCE(channel->onchannel_callback);
		if (cb)
			cb(channel->channel_callback_context);
		break;
	case HV_CALL_BATCHED:
		hv_begin_read(&channel->inbound);
		fallthrough;
	case HV_CALL_DIRECT:
		tasklet_schedule(&channel->callback_event);
		break;
	}
	return IRQ_HANDLED;
}

/* The channel's bottom half, as hv_vmbus's vmbus_on_event. */
static void xvmb_channel_tasklet(unsigned long data)
{
	struct vmbus_channel *channel = (struct vmbus_channel *)data;
	unsigned long limit = jiffies + 2;
	void (*cb)(void *);

	do {
		cb = READ_ONCE(channel->onchannel_callback);
		if (!cb)
			return;
		cb(channel->channel_callback_context);
		if (channel->callback_mode != HV_CALL_BATCHED)
			return;
		if (!hv_end_read(&channel->inbound) || to_xvmb(channel)->broken)
			return;
		hv_begin_read(&channel->inbound);
	} while (time_before(jiffies, limit));
	tasklet_schedule(&channel->callback_event);
}

static void xvmb_channel_free_rings(struct xvmb_channel *xc)
{
	struct vmbus_channel *c = &xc->chan;

	if (xc->irq > 0)
		unbind_from_irqhandler(xc->irq, c);
	else if (xc->port)
		xenbus_free_evtchn(xvmb_conn->xdev, xc->port);
	xc->irq = 0;
	xc->port = 0;
	tasklet_kill(&c->callback_event);
	xvmb_ring_unmap(&c->outbound);
	xvmb_ring_unmap(&c->inbound);
	if (xc->ring_gpadl)
		xvmb_gpadl_destroy(xc, xc->ring_gpadl, true);
	xc->ring_gpadl = NULL;
	kfree(xc->ring_pages);
	xc->ring_pages = NULL;
	xc->ring_npages = 0;
	xvmb_rqstor_free(c);
}

int xvmb_open(struct vmbus_channel *channel, u32 send_ringbuffer_size,
	       u32 recv_ringbuffer_size, void *userdata, u32 userdatalen,
	       void (*onchannelcallback)(void *context), void *context)
{
	struct xvmb_channel *xc = to_xvmb(channel);
	struct xvmb_conn *conn = xvmb_conn;
	struct vmbus_msg_open_channel m = { 0 };
	unsigned int i, ns, nr;
	u32 open_id;
	long left;
	int rc;

	if (!PAGE_ALIGNED(send_ringbuffer_size) ||
	    !PAGE_ALIGNED(recv_ringbuffer_size) ||
	    send_ringbuffer_size < 2 * PAGE_SIZE ||
	    recv_ringbuffer_size < 2 * PAGE_SIZE ||
	    userdatalen > sizeof(m.user_data))
		return -EINVAL;
	if (channel->rescind)
		return -ENODEV;
	if (channel->state != CHANNEL_OFFER_STATE)
		return -EINVAL;
	channel->state = CHANNEL_OPENING_STATE;
	ns = send_ringbuffer_size >> PAGE_SHIFT;
	nr = recv_ringbuffer_size >> PAGE_SHIFT;
	xc->ring_npages = ns + nr;
	xc->ring_pages = kcalloc(ns + nr, sizeof(*xc->ring_pages), GFP_KERNEL);
	rc = -ENOMEM;
	if (!xc->ring_pages)
		goto fail;
	for (i = 0; i < ns + nr; i++) {
		xc->ring_pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!xc->ring_pages[i])
			goto fail;
	}
	if (!channel->max_pkt_size)
		channel->max_pkt_size = VMBUS_DEFAULT_MAX_PKT_SIZE;
	rc = xvmb_ring_map(&channel->outbound, xc->ring_pages, ns, 0);
	if (!rc)
		rc = xvmb_ring_map(&channel->inbound, xc->ring_pages + ns, nr,
				   channel->max_pkt_size);
	if (!rc)
		rc = xvmb_rqstor_init(channel);
	if (rc)
		goto fail;
	xc->broken = false;
	channel->onchannel_callback = onchannelcallback;
	channel->channel_callback_context = context;
	tasklet_init(&channel->callback_event, xvmb_channel_tasklet,
		     (unsigned long)channel);
	rc = xenbus_alloc_evtchn(conn->xdev, &xc->port);
	if (rc)
		goto fail;
	rc = bind_evtchn_to_irqhandler(xc->port, xvmb_channel_isr, 0,
				       XVMB_NAME "-chan", channel);
	if (rc < 0)
		goto fail;
	xc->irq = rc;
	rc = xvmb_gpadl_create(xc, xc->ring_pages, ns + nr,
			       (ns + nr) << PAGE_SHIFT, &xc->ring_gpadl);
	if (rc)
		goto fail;
	channel->ringbuffer_gpadlhandle.gpadl_handle =
		xvmb_gpadl_id(xc->ring_gpadl);
	channel->ringbuffer_gpadlhandle.size = (ns + nr) << PAGE_SHIFT;
	channel->ringbuffer_pagecount = ns + nr;
	channel->ringbuffer_send_offset = ns;

	mutex_lock(&conn->lock);
	open_id = xc->open_id = ++conn->next_open;
	xc->open_status = 1;
	mutex_unlock(&conn->lock);
	m.hdr.msgtype = VMBUS_MSG_OPENCHANNEL;
	m.child_relid = channel->offermsg.child_relid;
	m.open_id = open_id;
	m.ring_gpadl = xvmb_gpadl_id(xc->ring_gpadl);
	m.target_vp = channel->target_cpu;
	m.downstream_page_offset = ns;
	if (userdatalen)
		memcpy(m.user_data, userdata, userdatalen);
	m.class_version = xc->class_version;
	m.event_channel = xc->port;
	rc = xvmb_send(conn, &m, sizeof(m));
	if (rc)
		goto fail;
	left = wait_event_timeout(conn->wq, xc->open_status != 1 ||
				  channel->rescind || conn->dead,
				  XVMB_REPLY_TIMEOUT);
	mutex_lock(&conn->lock);
	rc = xc->open_status;
	xc->open_status = 0;
	xc->open_id = 0;
	mutex_unlock(&conn->lock);
	if (rc == 1)
		rc = channel->rescind || conn->dead ? -ENODEV :
		     !left ? -ETIMEDOUT : -EIO;
	if (rc)
		goto fail;
	channel->state = CHANNEL_OPENED_STATE;
	return 0;
fail:
	dev_err(&conn->xdev->dev, "failed to open channel %u (%d)\n",
		channel->offermsg.child_relid, rc);
	channel->onchannel_callback = NULL;
	xvmb_channel_free_rings(xc);
	channel->state = CHANNEL_OFFER_STATE;
	return rc;
}

void xvmb_close(struct vmbus_channel *channel)
{
	struct xvmb_channel *xc = to_xvmb(channel);
	struct vmbus_msg_relid m = { 0 };

	if (channel->state != CHANNEL_OPENED_STATE)
		return;
	/* No callback once this returns, as hv_vmbus promises. */
	if (xc->irq > 0)
		disable_irq(xc->irq);
	tasklet_disable(&channel->callback_event);
	WRITE_ONCE(channel->onchannel_callback, NULL);
	tasklet_enable(&channel->callback_event);
	if (!channel->rescind && !xvmb_conn->dead &&
	    xc->gen == xvmb_conn->gen) {
		m.hdr.msgtype = VMBUS_MSG_CLOSECHANNEL;
		m.child_relid = channel->offermsg.child_relid;
		xvmb_send(xvmb_conn, &m, sizeof(m));
	}
	if (xc->irq > 0)
		enable_irq(xc->irq);
	xvmb_channel_free_rings(xc);
	channel->state = CHANNEL_OFFER_STATE;
}

/* --- sub-channels, hvsock, rescind --- */

void xvmb_set_sc_create_callback(struct vmbus_channel *primary_channel,
				  void (*sc_cr_cb)(struct vmbus_channel *new_sc))
{
	primary_channel->sc_creation_callback = sc_cr_cb;
}

void xvmb_set_chn_rescind_callback(struct vmbus_channel *channel,
				    void (*chn_rescind_cb)(struct vmbus_channel *))
{
	channel->chn_rescind_callback = chn_rescind_cb;
}

/*
 * hv_sock's connect(): Hyper-V's TL_CONNECT_REQUEST (message 21, its
 * layout), which asks the host to offer a channel for the service pair.
 * include/xenvmbus/msg.h does not define the message yet and vmbusd drops
 * it as unexpected, so the guest's connect() times out for now.
 */
int xvmb_send_tl_connect_request(const guid_t *guest_id, const guid_t *host_id)
{
	struct vmbus_channel_tl_connect_request m;

	if (!xvmb_conn)
		return -ENODEV;
	memset(&m, 0, sizeof(m));
	m.header.msgtype = CHANNELMSG_TL_CONNECT_REQUEST;
	m.guest_endpoint_id = *guest_id;
	m.host_service_id = *host_id;
	return xvmb_send(xvmb_conn, &m, sizeof(m));
}

void xvmb_hvsock_device_unregister(struct vmbus_channel *channel)
{
	unsigned long end = jiffies + XVMB_REPLY_TIMEOUT;

	/* The backend rescinds a connection's channel when it closes. */
	while ((!READ_ONCE(channel->probe_done) || !READ_ONCE(channel->rescind)) &&
	       time_before(jiffies, end))
		msleep(1);
	xvmb_device_remove(to_xvmb(channel));
}

/*
 * The integration services' version negotiation (ICMSGTYPE_NEGOTIATE):
 * pick the first of our framework versions, then of our service versions,
 * that the host lists, and answer with them (counts 1), or with counts 0
 * when there is none.  The host's message is hostile: counts bounded by
 * IC_VERSION_NEGOTIATION_MAX_VER_COUNT and by @buflen.
 */
bool xvmb_prep_negotiate_resp(struct icmsg_hdr *icmsghdrp, u8 *buf,
			       u32 buflen, const int *fw_version,
			       int fw_vercnt, const int *srv_version,
			       int srv_vercnt, int *nego_fw_version,
			       int *nego_srv_version)
{
	struct icmsg_negotiate *neg;
	u32 nfw, nsrv, fw = 0, srv = 0;
	bool found = false;
	int i;
	u32 j;

	/* Room for the two versions of the answer, whatever the host says. */
	if (buflen < ICMSG_NEGOTIATE_PKT_SIZE(1, 1)) {
		pr_err_ratelimited(XVMB_NAME ": IC negotiate message of %u "
				   "bytes is too short\n", buflen);
		return false;
	}
	icmsghdrp->icmsgsize = 0x10;
	neg = (struct icmsg_negotiate *)&buf[ICMSG_HDR];
	nfw = neg->icframe_vercnt;
	nsrv = neg->icmsg_vercnt;
	fw = nfw << 16;
	srv = nsrv << 16;
	if (nfw > IC_VERSION_NEGOTIATION_MAX_VER_COUNT ||
	    nsrv > IC_VERSION_NEGOTIATION_MAX_VER_COUNT ||
	    ICMSG_NEGOTIATE_PKT_SIZE(nfw, nsrv) > buflen) {
		pr_err_ratelimited(XVMB_NAME ": IC negotiate message lists "
				   "%u + %u versions in %u bytes\n",
				   nfw, nsrv, buflen);
		goto answer;
	}
	for (i = 0; i < fw_vercnt && !found; i++)
		for (j = 0; j < nfw && !found; j++)
			if (neg->icversion_data[j].major == (u16)(fw_version[i] >> 16) &&
			    neg->icversion_data[j].minor == (u16)fw_version[i]) {
				fw = (u32)fw_version[i];
				found = true;
			}
	if (!found)
		goto answer;
	found = false;
	for (i = 0; i < srv_vercnt && !found; i++)
		for (j = nfw; j < nfw + nsrv && !found; j++)
			if (neg->icversion_data[j].major == (u16)(srv_version[i] >> 16) &&
			    neg->icversion_data[j].minor == (u16)srv_version[i]) {
				srv = (u32)srv_version[i];
				found = true;
			}
answer:
	neg->icframe_vercnt = found ? 1 : 0;
	neg->icmsg_vercnt = found ? 1 : 0;
	if (nego_fw_version)
		*nego_fw_version = (int)fw;
	if (nego_srv_version)
		*nego_srv_version = (int)srv;
	neg->icversion_data[0].major = fw >> 16;
	neg->icversion_data[0].minor = fw & 0xffff;
	neg->icversion_data[1].major = srv >> 16;
	neg->icversion_data[1].minor = srv & 0xffff;
	return found;
}
