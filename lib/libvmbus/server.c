/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The server (dom0) end of one guest's bus: the backend's XenbusState
 * handshake, the control channel, offers, GPADLs mapped by grant, and
 * channels handed to a handler.  Channels between two guests are
 * server-p2p.c's, reached only through the ops a peer offer installs.
 *
 * The GPADLs a guest creates are kept in a registry (gpadl.c) and mapped
 * only while something uses them.  Every mapping counts against the
 * guest's budget and the budget of the whole process (srv_map_grants), and
 * only offers with VMBUS_OFFER_FLAG_GPADLS take GPADLs besides their rings.
 *
 * The guest is hostile: every xenstore value is parsed strictly and
 * bounded, every message was checked by the codec (exact length, direction,
 * field sanity) before a handler sees it, rings are read through the core
 * (read once, then validated), and a misbehaving guest costs at most one
 * log line per kind of fault.  Handlers return negative errno; a row of
 * the dispatch table flagged SRV_ANSWERS is answered by srv_dispatch with
 * the status of what its handler returned, and srv_answer() is the one
 * place that turns an errno into a VMBus status.
 *
 * Backend states, as rows: (backend state, frontend state) -> action.
 *   InitWait     Initialised             map + bind, -> Connected
 *   InitWait     Connected               -> Closing (it was connected to
 *                                        an earlier backend: start over)
 *   Connected    Closing|Closed|gone     tear down,  -> Closed
 *   Connected    Initialising            tear down,  -> InitWait (restart)
 *   Connected    its liveness byte 0     tear down,  -> Closing (its
 *                                        process ended; xenstore.h)
 *   Closing      Initialising            -> InitWait
 *   Closing      Closed|gone             -> Closed
 *   Closed       Initialising            -> InitWait
 * Anything else (repeated or skipped states) waits for the next change.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <xenvmbus/xenstore.h>

#include "server.h"

#define SRV_MAX_OFFERS		64
/*
 * Control packets taken off a guest's ring per turn, then the server yields
 * to the other guests and wakes itself (wakefd) for the rest.
 */
#define SRV_CTL_BUDGET		256
/*
 * Control messages waiting for room in a guest's receive ring.  While any
 * wait the guest's requests are not read, so what queues is the answers to
 * one request and what the server starts itself (offers, rescinds, a peer
 * channel's forwarded GPADL: a few hundred at most).
 */
#define SRV_TXQ_MAX		1024
/*
 * A guest that signals its bus again and again without sending anything
 * costs a wake-up each: after SRV_QUIET_WAKES such wake-ups in a row, its
 * event channel is left out of the server's epoll set for SRV_THROTTLE_MS.
 * Signals meanwhile stay pending and are seen then; a guest doing real work
 * is never throttled, and at most waits that long once it stormed.
 */
#define SRV_QUIET_WAKES		64
#define SRV_THROTTLE_MS		20

/*
 * The pages every server of this process has mapped, and their budget: a
 * daemon serving all guests is one process, and libvmbus is single-threaded.
 */
static uint32_t srv_host_mapped;
static uint32_t srv_host_limit = VMBUS_SERVER_HOST_MAPS_DEFAULT;

static const struct vmbus_version_cap bus_caps[] = {
	{ .version = VMBUS_BUS_VERSION_1_1, .need_minor = 0 },
};

static int srv_set_state(struct vmbus_server *s, int state)
{
	int rc = vmbus_xs_printf(s->xs, s->be, VMBUS_XS_STATE, "%d", state);

	if (!rc)
		s->state = state;
	return rc;
}

/*
 * Send a control message, or queue it until the guest makes room: a reply
 * is never dropped for a full ring (the guest may just be slow to read).
 */
int srv_send(struct vmbus_server *s, struct vmbus_msg *m)
{
	return vmbus_conn_send_up(&s->conn, m);
}

/*
 * The one place where an -errno becomes a VMBus status: the answers of the
 * rows flagged SRV_ANSWERS (srv_handled), and those a channel between two
 * guests sends later (server-p2p.c).
 */
int srv_answer(struct vmbus_server *s, struct vmbus_msg *r, int err)
{
	uint32_t status = vmbus_status_from_errno(err);

	if (r->u.hdr.msgtype == VMBUS_MSG_GPADL_CREATED)
		r->u.gpadl_created.status = status;
	else	/* VMBUS_MSG_OPENCHANNEL_RESULT */
		r->u.open_result.status = status;
	return srv_send(s, r);
}

/*
 * A row flagged SRV_ANSWERS answers @type for (@relid, @id) with the status
 * its handler returns.
 */
static void srv_reply(struct vmbus_server *s, uint32_t type, uint32_t relid,
		      uint32_t id)
{
	vmbus_msg_init(&s->reply, type);
	if (type == VMBUS_MSG_GPADL_CREATED) {
		s->reply.u.gpadl_created.child_relid = relid;
		s->reply.u.gpadl_created.gpadl_id = id;
	} else {
		s->reply.u.open_result.child_relid = relid;
		s->reply.u.open_result.open_id = id;
	}
	s->reply_ready = true;
}

/* --- grant mappings, within the budgets --- */

/* Map @n grants of the guest, counted against both budgets; NULL + errno. */
static void *srv_map_grants(struct vmbus_server *s, uint32_t n,
			    const uint32_t *refs, int prot)
{
	void *mem;

	if ((uint64_t)s->mapped + n > s->map_limit ||
	    (uint64_t)srv_host_mapped + n > srv_host_limit) {
		s->map_refused++;
		vmbus_fault(&s->faults, FAULT_BUDGET, "refused to map %u more grants "
			  "(guest %u/%u, host %u/%u pages mapped)", n,
			  s->mapped, s->map_limit, srv_host_mapped,
			  srv_host_limit);
		errno = ENOSPC;
		return NULL;
	}
	errno = 0;
	mem = xengnttab_map_domain_grant_refs(s->gt, n, s->domid,
					      (uint32_t *)refs, prot);
	if (!mem)
		return NULL;
	s->mapped += n;
	srv_host_mapped += n;
	return mem;
}

static void srv_unmap_grants(struct vmbus_server *s, void *mem, uint32_t n)
{
	xengnttab_unmap(s->gt, mem, n);
	s->mapped -= n;
	srv_host_mapped -= n;
}

/* --- offers and channels --- */

struct srv_offer *srv_offer(struct vmbus_server *s, uint32_t relid)
{
	struct srv_offer *o;

	for (o = s->offers; o; o = o->next)
		if (o->relid == relid)
			return o;
	return NULL;
}

void srv_offer_free(struct vmbus_server *s, struct srv_offer *o)
{
	struct srv_offer **pp;

	if (o->peer)
		s->p2p->brk(o);
	for (pp = &s->offers; *pp; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			s->noffers--;
			free(o);
			return;
		}
}

/* Is @version one of the class versions offer @o offers? */
bool srv_offer_speaks(const struct srv_offer *o, uint32_t version)
{
	struct vmbus_version_cap caps[8];
	uint32_t i;

	for (i = 0; i < o->d.nversions; i++)
		caps[i] = (struct vmbus_version_cap){ o->d.versions[i], 0 };
	return vmbus_version_accept(version, o->d.versions, o->d.nversions,
				    caps, o->d.nversions);
}

int srv_send_offer(struct vmbus_server *s, struct srv_offer *o)
{
	struct vmbus_msg m;
	int rc;

	/* A client of bus 1.0 knows nothing of channels between guests. */
	if (o->is_peer && s->version < VMBUS_BUS_VERSION_1_1)
		return 0;
	vmbus_msg_init(&m, VMBUS_MSG_OFFERCHANNEL);
	if (o->peer) {
		m.u.offer.peer_domid = (uint16_t)o->peer->srv->domid;
		m.u.offer.peer_flags = VMBUS_OFFER_PEER_VALID |
			(o->opener ? VMBUS_OFFER_PEER_OPENER : 0);
	}
	memcpy(m.u.offer.if_type.b, o->d.type, 16);
	memcpy(m.u.offer.if_instance.b, o->d.instance, 16);
	/* VMBUS_OFFER_FLAG_REOPEN is ours, not a VMBus channel flag. */
	m.u.offer.channel_flags = o->d.flags & ~VMBUS_OFFER_FLAG_REOPEN;
	if (o->d.flags & VMBUS_OFFER_FLAG_REOPEN)
		m.u.offer.xen_flags = VMBUS_OFFER_X_REOPEN;
	memcpy(m.u.offer.user_data, o->d.user_data, sizeof(o->d.user_data));
	m.u.offer.child_relid = o->relid;
	m.u.offer.sub_channel_index = o->sub_index;
	m.u.offer.class_version_count = o->d.nversions;
	memcpy(m.u.offer.class_versions, o->d.versions,
	       o->d.nversions * sizeof(uint32_t));
	rc = srv_send(s, &m);
	if (!rc)
		o->sent = true;
	return rc;
}

/*
 * Close a channel from the server's side: the handler lets go first, the
 * rings are unmapped last (the GPADL stays until the guest tears it down).
 */
static void srv_chan_close(struct vmbus_server *s, struct srv_offer *o)
{
	struct vmbus_chan *c = o->chan;
	struct srv_gpadl *g, *rings = NULL;

	if (!c)
		return;
	if (s->ops && s->ops->close)
		s->ops->close(s, c, o->d.cookie, s->arg);
	for (g = s->gpadls.head; g; g = g->next)
		if (g->chan == c) {
			g->chan = NULL;
			rings = g;
		}
	o->chan = NULL;
	vmbus_xfer_release(c);
	vmbus_chan_free(c);
	if (rings)
		vmbus_gpadl_reg_unmap(&s->gpadls, rings);
}

/* --- messages from the client --- */

static int do_initiate_contact(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_server *s = owner;
	const struct vmbus_msg_initiate_contact *ic = &m->u.initiate_contact;
	struct vmbus_msg r;
	uint32_t chosen;
	int rc;

	rc = vmbus_version_choose(ic->versions, ic->version_count, bus_caps, 1,
				  &chosen);
	vmbus_msg_init(&r, VMBUS_MSG_VERSION_RESPONSE);
	if (rc == 0) {
		r.u.version_response.version_supported = 1;
		r.u.version_response.version = chosen;
		s->contacted = true;
		s->version = chosen;
	} else {
		r.u.version_response.version = bus_caps[0].version;
	}
	return srv_send(s, &r);
}

static int do_requestoffers(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_server *s = owner;
	struct srv_offer *o;
	struct vmbus_msg r;
	int rc = 0;

	(void)m;
	if (!s->contacted)
		return -EPROTO;
	s->offers_requested = true;
	for (o = s->offers; o && !rc; o = o->next)
		if (!o->rescinded && !o->sent)
			rc = srv_send_offer(s, o);
	if (rc)
		return rc;
	vmbus_msg_init(&r, VMBUS_MSG_ALLOFFERS_DELIVERED);
	return srv_send(s, &r);
}

/* A complete GPADL: check the offer, keep it. */
static int srv_gpadl_add(struct vmbus_server *s, struct srv_asm *a)
{
	struct srv_offer *o = srv_offer(s, a->a.child_relid);

	if (!o || o->rescinded)
		return -ENOENT;
	if (o->is_peer && !o->opener)
		return -EPROTO;	/* the acceptor maps; it never grants */
	return vmbus_gpadl_reg_add(&s->gpadls, a,
				   o->d.flags & VMBUS_OFFER_FLAG_GPADLS,
				   o->is_peer);
}

/* More bodies to come (0, no answer yet), or complete: answered. */
static int srv_gpadl_step(struct vmbus_server *s, struct srv_asm *a,
			  uint32_t relid, uint32_t id, int asm_rc)
{
	int rc;

	if (asm_rc == 1)
		return 0;
	if (asm_rc < 0) {
		vmbus_fault(&s->faults, FAULT_GPADL, "refused a GPADL message (%s)",
			  strerror(-asm_rc));
		rc = asm_rc;
	} else {
		rc = srv_gpadl_add(s, a);
	}
	/* The slot is free again whatever happened. */
	vmbus_gpadl_reg_asm_free(a);
	srv_reply(s, VMBUS_MSG_GPADL_CREATED, relid, id);
	return rc;
}

/*
 * As on Hyper-V, the bodies of several GPADLs may interleave: each is
 * reassembled apart, by id, up to SRV_MAX_GPADL_ASM at once.
 */
static int do_gpadl_header(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_server *s = owner;
	const struct vmbus_msg_gpadl_header *h = &m->u.gpadl_header;
	struct srv_asm *a = vmbus_gpadl_reg_asm(&s->gpadls, h->gpadl_id);
	int rc;

	if (a) {
		/* The same id twice in flight: both are refused. */
		vmbus_gpadl_reg_asm_free(a);
		srv_reply(s, VMBUS_MSG_GPADL_CREATED, h->child_relid,
			  h->gpadl_id);
		return -EEXIST;
	}
	rc = vmbus_gpadl_reg_asm_new(&s->gpadls, h->gpadl_id, &a);
	if (rc) {
		srv_reply(s, VMBUS_MSG_GPADL_CREATED, h->child_relid,
			  h->gpadl_id);
		return rc;
	}
	return srv_gpadl_step(s, a, h->child_relid, h->gpadl_id,
			      vmbus_gpadl_asm_header(&a->a, m));
}

static int do_gpadl_body(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_server *s = owner;
	struct srv_asm *a = vmbus_gpadl_reg_asm(&s->gpadls,
						m->u.gpadl_body.gpadl_id);

	/* Of no GPADL in flight: no channel to answer on. */
	if (!a)
		return -ENOENT;
	return srv_gpadl_step(s, a, a->a.child_relid, a->a.gpadl_id,
			      vmbus_gpadl_asm_body(&a->a, m));
}

static int srv_torndown(struct vmbus_server *s, uint32_t id)
{
	struct vmbus_msg r;

	vmbus_msg_init(&r, VMBUS_MSG_GPADL_TORNDOWN);
	r.u.gpadl_torndown.gpadl_id = id;
	return srv_send(s, &r);
}

static int do_gpadl_teardown(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_server *s = owner;
	const struct vmbus_msg_gpadl_teardown *td = &m->u.gpadl_teardown;
	struct srv_gpadl *g = vmbus_gpadl_reg_find(&s->gpadls, td->gpadl_id);
	struct srv_asm *a = vmbus_gpadl_reg_asm(&s->gpadls, td->gpadl_id);

	if (a && a->a.child_relid == td->child_relid) {
		/* Withdrawn before it was complete: nothing to answer. */
		vmbus_gpadl_reg_asm_free(a);
		return 0;
	}
	if (!g || g->relid != td->child_relid)
		return -ENOENT;
	if (g->refs) {
		g->torn = true;	/* answered by the last vmbus_gpadl_reg_put */
		return 0;
	}
	vmbus_gpadl_reg_free(&s->gpadls, g);
	return srv_torndown(s, td->gpadl_id);
}

/* --- what the registry of GPADLs (gpadl.c) needs of the server --- */

static void *srv_reg_map(void *owner, uint32_t n, const uint32_t *refs,
			 int prot)
{
	return srv_map_grants(owner, n, refs, prot);
}

static void srv_reg_unmap(void *owner, void *mem, uint32_t n)
{
	srv_unmap_grants(owner, mem, n);
}

static void srv_reg_release(void *owner, struct srv_gpadl *g)
{
	struct vmbus_server *s = owner;
	struct srv_offer *o;

	for (o = s->offers; o; o = o->next)
		if (o->chan && o->chan == g->chan)
			srv_chan_close(s, o);
	if (g->peer_user) {
		struct srv_offer *po = g->peer_user;

		/* Rings still shared with the peer: the channel ends. */
		po->srv->p2p->end(po);
		g->peer_user = NULL;
	}
}

static bool srv_reg_takes_data(void *owner, uint32_t relid)
{
	struct srv_offer *o = srv_offer(owner, relid);

	return o && (o->d.flags & VMBUS_OFFER_FLAG_GPADLS);
}

static void srv_reg_torndown(void *owner, uint32_t id)
{
	srv_torndown(owner, id);
}

static const struct vmbus_gpadl_reg_ops srv_gpadl_ops = {
	.map = srv_reg_map,
	.unmap = srv_reg_unmap,
	.release = srv_reg_release,
	.takes_data = srv_reg_takes_data,
	.torndown = srv_reg_torndown,
};

/* Validate an OPENCHANNEL and build the channel; -errno refuses it. */
static int srv_open(struct vmbus_server *s, const struct vmbus_msg_open_channel *op,
		    struct srv_offer *o)
{
	struct vmbus_chan *c = NULL;
	struct srv_gpadl *g;
	uint32_t d;
	size_t down, up;
	int rc;

	if (!o || o->rescinded || !o->sent)
		return -ENOENT;
	if (o->chan)
		return -EBUSY;
	g = vmbus_gpadl_reg_find(&s->gpadls, op->ring_gpadl);
	if (!g || g->relid != op->child_relid || g->chan || g->refs ||
	    g->peer)
		return -ENOENT;
	d = op->downstream_page_offset;
	if (!vmbus_gpadl_rings_split_ok(g->npages, d))
		return -EINVAL;
	if (!srv_offer_speaks(o, op->class_version))
		return -EPROTONOSUPPORT;
	/* The rings are mapped while the channel is open. */
	rc = vmbus_gpadl_reg_map(&s->gpadls, g, true);
	if (rc)
		return rc;

	c = vmbus_chan_alloc();
	if (!c) {
		vmbus_gpadl_reg_unmap(&s->gpadls, g);
		return -ENOMEM;
	}
	c->server = true;
	c->srv = s;
	c->reg = &s->gpadls;
	c->peer_domid = s->domid;
	c->relid = o->relid;
	c->version = op->class_version;
	c->cookie = o->d.cookie;
	c->mem = g->mem;
	c->npages = g->npages;
	rc = vmbus_evt_open(&c->evt);
	if (rc)
		goto fail;
	rc = xenevtchn_bind_interdomain(c->evt.xce, s->domid,
					(evtchn_port_t)op->event_channel);
	if (rc < 0) {
		rc = -(errno ? errno : EIO);
		vmbus_fault(&s->faults, FAULT_OPEN, "failed to bind port %u of channel %u "
			  "(%s)", op->event_channel, o->relid, strerror(-rc));
		goto fail;
	}
	c->evt.local = rc;
	/* The client's send ring comes first: it is our receive ring. */
	down = (size_t)d * VMBUS_GRANT_PAGE_SIZE;
	up = (size_t)(g->npages - d) * VMBUS_GRANT_PAGE_SIZE;
	rc = vmbus_ring_init(&c->ring, (uint8_t *)g->mem + down, up, g->mem,
			     down, vmbus_evt_signal, &c->evt);
	if (rc) {
		vmbus_fault(&s->faults, FAULT_RING, "refused the rings of channel %u (%s)",
			  o->relid, strerror(-rc));
		goto fail;
	}
	/*
	 * Hyper-V writes an in-band payload right after its descriptor, and
	 * Linux's hv_sock reads it there whatever offset8 says: no gap in
	 * front of it on a Hyper-V socket's channel.
	 */
	c->ring.tx_packed = (o->d.flags & VMBUS_OFFER_FLAG_HVSOCK) != 0;
	c->state = CHAN_OPEN;
	o->chan = c;
	g->chan = c;
	if (s->ops && s->ops->open) {
		rc = s->ops->open(s, c, o->d.cookie, s->arg);
		if (rc) {
			o->chan = NULL;
			g->chan = NULL;
			goto fail;
		}
	}
	return 0;
fail:
	vmbus_xfer_release(c);
	vmbus_chan_free(c);
	vmbus_gpadl_reg_unmap(&s->gpadls, g);
	return rc;
}

/* --- channels between two guests --- */

/* Mark @o rescinded and tell its guest; unsent offers go in srv_offers_gc. */
void srv_offer_rescind(struct vmbus_server *s, struct srv_offer *o)
{
	struct vmbus_msg m;

	if (o->rescinded)
		return;
	o->rescinded = true;
	srv_chan_close(s, o);
	if (!o->sent || !s->conn.evt.xce || s->quiet)
		return;
	/* Kept until the guest answers RELID_RELEASED. */
	vmbus_msg_init(&m, VMBUS_MSG_RESCIND_CHANNELOFFER);
	m.u.relid.child_relid = o->relid;
	srv_send(s, &m);
}

/* Free the rescinded offers the guest was never told of. */
static void srv_offers_gc(struct vmbus_server *s)
{
	struct srv_offer *o, *next;

	for (o = s->offers; o; o = next) {
		next = o->next;
		if (o->rescinded && (!o->sent || !s->conn.evt.xce))
			srv_offer_free(s, o);
	}
}

static int do_peer_open_result(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_server *s = owner;

	return s->p2p ? s->p2p->open_result(s, &m->u.open_result) : -EPROTO;
}

static int do_openchannel(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_server *s = owner;
	const struct vmbus_msg_open_channel *op = &m->u.open;
	struct srv_offer *o = srv_offer(s, op->child_relid);
	int rc;

	if (o && o->is_peer) {
		rc = s->p2p->open(s, op, o);
		if (rc == 0)
			return 0;	/* answered once both ends asked */
	} else {
		rc = srv_open(s, op, o);
	}
	srv_reply(s, VMBUS_MSG_OPENCHANNEL_RESULT, op->child_relid,
		  op->open_id);
	return rc;
}

static int do_closechannel(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_server *s = owner;
	struct srv_offer *o = srv_offer(s, m->u.relid.child_relid);

	if (!o)
		return -ENOENT;
	if (o->is_peer)
		s->p2p->end(o);
	else
		srv_chan_close(s, o);
	return 0;
}

static int do_relid_released(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_server *s = owner;
	struct srv_offer *o = srv_offer(s, m->u.relid.child_relid);

	/*
	 * A rescind that crossed the client's UNLOAD is answered after it;
	 * the reset already dropped the offer.
	 */
	if (!s->contacted)
		return 0;
	if (!o || !o->rescinded)
		return -EPROTO;
	srv_chan_close(s, o);
	srv_offer_free(s, o);
	return 0;
}

/* Forget the guest's channels and GPADLs; offers stay, unsent. */
static void srv_reset_bus(struct vmbus_server *s)
{
	struct srv_offer *o, *next;

	s->quiet = true;
	for (o = s->offers; o; o = o->next) {
		srv_chan_close(s, o);
		if (o->is_peer)
			s->p2p->end(o);
	}
	vmbus_gpadl_reg_clear(&s->gpadls);
	s->quiet = false;
	for (o = s->offers; o; o = next) {
		next = o->next;
		o->sent = false;
		if (o->rescinded)
			srv_offer_free(s, o);
	}
	/* What still waits to be sent speaks of what is gone. */
	vmbus_ctlq_clear(&s->conn.txq);
	s->contacted = false;
	s->offers_requested = false;
	s->version = 0;
}

static int do_unload(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_server *s = owner;
	struct vmbus_msg r;

	(void)m;
	srv_reset_bus(s);
	vmbus_msg_init(&r, VMBUS_MSG_UNLOAD_RESPONSE);
	return srv_send(s, &r);
}

/*
 * TL_CONNECT_REQUEST (hv_sock's connect): the application offers the
 * connection's channel, or refuses and the guest is told so.
 */
static int do_tl_connect(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_server *s = owner;
	const struct vmbus_msg_tl_connect_request *q = &m->u.tl_connect;
	struct vmbus_msg r;
	int rc = -ECONNREFUSED;

	if (s->tl_connect)
		rc = s->tl_connect(s, q->guest_endpoint_id.b,
				   q->host_service_id.b, s->tl_arg);
	if (rc >= 0)
		return 0;
	vmbus_msg_init(&r, VMBUS_MSG_TL_CONNECT_RESULT);
	r.u.tl_result.guest_endpoint_id = q->guest_endpoint_id;
	r.u.tl_result.host_service_id = q->host_service_id;
	r.u.tl_result.status = VMBUS_TL_CONNREFUSED;
	return srv_send(s, &r);
}

/* What a row of the table below asks of srv_dispatch. */
#define SRV_NEEDS_CONTACT	0x1	/* only after INITIATE_CONTACT */
#define SRV_ANSWERS		0x2	/* answered with the handler's status */

/* Messages a client sends. */
static const struct vmbus_conn_row server_msgs[VMBUS_MSG_COUNT] = {
	[VMBUS_MSG_INITIATE_CONTACT] = { .fn = do_initiate_contact },
	[VMBUS_MSG_REQUESTOFFERS] = { do_requestoffers, 0, SRV_NEEDS_CONTACT },
	[VMBUS_MSG_GPADL_HEADER] = { do_gpadl_header, 0,
				     SRV_NEEDS_CONTACT | SRV_ANSWERS },
	[VMBUS_MSG_GPADL_BODY] = { do_gpadl_body, 0,
				   SRV_NEEDS_CONTACT | SRV_ANSWERS },
	[VMBUS_MSG_GPADL_TEARDOWN] = { do_gpadl_teardown, 0, SRV_NEEDS_CONTACT },
	[VMBUS_MSG_OPENCHANNEL] = { do_openchannel, 0,
				    SRV_NEEDS_CONTACT | SRV_ANSWERS },
	[VMBUS_MSG_CLOSECHANNEL] = { do_closechannel, 0, SRV_NEEDS_CONTACT },
	[VMBUS_MSG_RELID_RELEASED] = { .fn = do_relid_released },
	[VMBUS_MSG_UNLOAD] = { .fn = do_unload },
	[VMBUS_MSG_PEER_OPEN_RESULT] = { do_peer_open_result, 0,
					 SRV_NEEDS_CONTACT },
	[VMBUS_MSG_TL_CONNECT_REQUEST] = { do_tl_connect, 0,
					   SRV_NEEDS_CONTACT },
};

static bool srv_admit(void *owner, const struct vmbus_conn_row *row)
{
	struct vmbus_server *s = owner;

	return !(row->flags & SRV_NEEDS_CONTACT) || s->contacted;
}

static void srv_unexpected(void *owner, uint32_t t)
{
	struct vmbus_server *s = owner;

	vmbus_fault(&s->faults, FAULT_MSG, "unexpected %s",
		  vmbus_msg_name(t) ?: "message");
}

/*
 * After a row: a row flagged SRV_ANSWERS that prepared its answer
 * (srv_reply) has it sent with the status of what it returned.
 */
static void srv_handled(void *owner, const struct vmbus_conn_row *row,
			const struct vmbus_msg *m, int rc)
{
	struct vmbus_server *s = owner;

	if ((row->flags & SRV_ANSWERS) && s->reply_ready) {
		s->reply_ready = false;
		rc = srv_answer(s, &s->reply, rc);
	}
	if (rc < 0)
		vmbus_fault(&s->faults, FAULT_MSG, "failed to handle %s (%s)",
			  vmbus_msg_name(m->u.hdr.msgtype), strerror(-rc));
}

static void srv_dropped(void *owner, unsigned int dropped,
			unsigned int oversized)
{
	struct vmbus_server *s = owner;

	if (dropped) {
		s->work.ctl_dropped += dropped;
		vmbus_fault(&s->faults, FAULT_MSG, "dropped %u malformed control "
			  "messages", dropped);
	}
	if (oversized) {
		/* Passed over by its checked length: the bus goes on. */
		s->work.ctl_dropped += oversized;
		vmbus_fault(&s->faults, FAULT_OVERSIZED, "dropped %u oversized "
			  "control packets", oversized);
	}
}

static bool srv_up(const void *owner)
{
	const struct vmbus_server *s = owner;

	return !s->quiet && s->conn.evt.xce;
}

static void srv_send_failed(void *owner, const struct vmbus_msg *m, int rc)
{
	struct vmbus_server *s = owner;

	vmbus_fault(&s->faults, FAULT_RING, "failed to send %s (%s)",
		    vmbus_msg_name(m->u.hdr.msgtype) ?: "?", strerror(-rc));
}

static const struct vmbus_conn_ops server_conn = {
	.rows = server_msgs,
	.dir = VMBUS_MSG_DIR_C2S,
	.txq_max = SRV_TXQ_MAX,
	/* Answers that wait for room stop the reading (srv_dispatch). */
	.hold_while_queued = true,
	.admit = srv_admit,
	.unexpected = srv_unexpected,
	.done = srv_handled,
	.dropped = srv_dropped,
	.up = srv_up,
	.send_failed = srv_send_failed,
};

/* Have vmbus_server_process called again soon, whatever the guest does. */
static void srv_wake_self(struct vmbus_server *s)
{
	uint64_t one = 1;

	if (write(s->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		vmbus_log(LOG_ERR, "domain %u: failed to wake the server (%s)",
			  s->domid, strerror(errno));
}

static int srv_dispatch(struct vmbus_server *s)
{
	unsigned int budget = SRV_CTL_BUDGET, before = s->conn.received;
	int rc;

	vmbus_evt_ack(&s->conn.evt);
	/*
	 * Answers first; while some still wait for room, the guest's requests
	 * wait too (it signals when it reads: the ring asked it to).
	 */
	rc = vmbus_conn_flush(&s->conn);
	if (rc < 0 || s->conn.txq.len)
		return rc;
	rc = vmbus_conn_dispatch(&s->conn, &budget);
	s->work.ctl_messages += s->conn.received - before;
	if (rc < 0) {
		vmbus_fault(&s->faults, FAULT_RING, "control ring broken (%s)",
			  strerror(-rc));
		return rc;
	}
	if (!budget && !s->conn.txq.len) {
		/*
		 * More may be waiting, and the guest will not signal again
		 * for packets it already wrote: wake ourselves for them,
		 * after the other guests had their turn.
		 */
		s->work.budget_yields++;
		srv_wake_self(s);
	}
	return 0;
}

/* --- the handshake --- */

static void srv_error(struct vmbus_server *s, const char *what, int err)
{
	vmbus_xs_printf(s->xs, s->be, "error", "%s (%s)", what, strerror(err));
}

static void srv_disconnect(struct vmbus_server *s)
{
	srv_reset_bus(s);
	vmbus_ctlq_clear(&s->conn.txq);
	/* Our unmap notification fires: the frontend learns we left. */
	if (s->live)
		xengnttab_unmap(s->gt, s->live, 1);
	s->live = NULL;
	s->fe_armed = false;
	if (s->conn.evt.xce && !s->throttled)
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, vmbus_evt_fd(&s->conn.evt), NULL);
	if (s->throttled)
		vmbus_timer_set(s->throttle_fd, 0);
	s->throttled = false;
	s->quiet_wakes = 0;
	vmbus_evt_close(&s->conn.evt);
	if (s->ctl_mem)
		srv_unmap_grants(s, s->ctl_mem, s->ctl_pages);
	s->ctl_mem = NULL;
}

/*
 * Map the frontend's liveness page, if it has one, with an unmap
 * notification on our byte and port, and say we are here.
 */
static int srv_connect_live(struct vmbus_server *s)
{
	unsigned long ref;
	int rc;

	rc = vmbus_xs_read_uint(s->xs, s->fe, VMBUS_XS_LIVENESS_REF,
				UINT32_MAX, &ref);
	if (rc == -ENOENT)
		return 0;	/* a frontend that does not tell */
	if (rc) {
		vmbus_fault(&s->faults, FAULT_XS, "failed to read \"%s/%s\" (%s)", s->fe,
			  VMBUS_XS_LIVENESS_REF, strerror(-rc));
		srv_error(s, "failed to read liveness-ref", -rc);
		return rc;
	}
	s->live = xengnttab_map_grant_ref_notify(s->gt, s->domid,
						 (uint32_t)ref,
						 PROT_READ | PROT_WRITE,
						 VMBUS_LIVENESS_BACKEND,
						 (evtchn_port_t)s->conn.evt.local);
	if (!s->live) {
		/* Only the frontend loses by it: we do not see it die. */
		vmbus_fault(&s->faults, FAULT_MAP, "failed to map the liveness page (%s)",
			  strerror(errno ? errno : EFAULT));
		return 0;
	}
	/* Read once: the guest may change it at will, and only hurts itself. */
	s->fe_armed = __atomic_load_n((uint8_t *)s->live +
				      VMBUS_LIVENESS_FRONTEND,
				      __ATOMIC_ACQUIRE) != 0;
	/* Our byte /then/ Connected in xenstore. */
	__atomic_store_n((uint8_t *)s->live + VMBUS_LIVENESS_BACKEND, 1,
			 __ATOMIC_RELEASE);
	return 0;
}

/* The frontend's process let go of its liveness page (or died). */
static bool srv_frontend_died(const struct vmbus_server *s)
{
	return s->fe_armed &&
	       !__atomic_load_n((const uint8_t *)s->live +
				VMBUS_LIVENESS_FRONTEND, __ATOMIC_ACQUIRE);
}

static int srv_connect(struct vmbus_server *s)
{
	uint32_t refs[1u << VMBUS_XS_DEFAULT_MAX_RING_PAGE_ORDER];
	unsigned long order, port, ref;
	struct epoll_event ev = { .events = EPOLLIN };
	size_t hsize;
	char key[32];
	uint32_t i;
	int rc;

	rc = vmbus_xs_read_uint(s->xs, s->fe, VMBUS_XS_RING_PAGE_ORDER,
				VMBUS_XS_DEFAULT_MAX_RING_PAGE_ORDER, &order);
	if (!rc && order < VMBUS_XS_MIN_RING_PAGE_ORDER)
		rc = -EINVAL;
	if (rc) {
		vmbus_fault(&s->faults, FAULT_XS, "failed to read \"%s/%s\" (%s)", s->fe,
			  VMBUS_XS_RING_PAGE_ORDER, strerror(-rc));
		srv_error(s, "failed to read ring-page-order", -rc);
		return rc;
	}
	s->ctl_pages = 1u << order;
	for (i = 0; i < s->ctl_pages; i++) {
		snprintf(key, sizeof(key), VMBUS_XS_RING_REF_FMT, i);
		rc = vmbus_xs_read_uint(s->xs, s->fe, key, UINT32_MAX, &ref);
		if (rc) {
			vmbus_fault(&s->faults, FAULT_XS, "failed to read \"%s/%s\" (%s)",
				  s->fe, key, strerror(-rc));
			srv_error(s, "failed to read ring-ref", -rc);
			return rc;
		}
		refs[i] = (uint32_t)ref;
	}
	rc = vmbus_xs_read_uint(s->xs, s->fe, VMBUS_XS_EVENT_CHANNEL,
				INT32_MAX, &port);
	if (rc) {
		vmbus_fault(&s->faults, FAULT_XS, "failed to read \"%s/%s\" (%s)", s->fe,
			  VMBUS_XS_EVENT_CHANNEL, strerror(-rc));
		srv_error(s, "failed to read event-channel", -rc);
		return rc;
	}
	s->ctl_mem = srv_map_grants(s, s->ctl_pages, refs,
				    PROT_READ | PROT_WRITE);
	if (!s->ctl_mem) {
		rc = -(errno ? errno : EFAULT);
		vmbus_fault(&s->faults, FAULT_MAP, "failed to map the %u control ring "
			  "grants (%s)", s->ctl_pages, strerror(-rc));
		srv_error(s, "failed to map the control ring", -rc);
		return rc;
	}
	rc = vmbus_evt_open(&s->conn.evt);
	if (rc)
		goto fail;
	rc = xenevtchn_bind_interdomain(s->conn.evt.xce, s->domid,
					(evtchn_port_t)port);
	if (rc < 0) {
		rc = -(errno ? errno : EIO);
		vmbus_fault(&s->faults, FAULT_XS, "failed to bind event channel %lu (%s)",
			  port, strerror(-rc));
		srv_error(s, "failed to bind the event channel", -rc);
		goto fail;
	}
	s->conn.evt.local = rc;
	hsize = (size_t)s->ctl_pages / 2 * VMBUS_GRANT_PAGE_SIZE;
	rc = vmbus_ring_init(&s->conn.ring, (uint8_t *)s->ctl_mem + hsize, hsize,
			     s->ctl_mem, hsize, vmbus_evt_signal, &s->conn.evt);
	if (rc) {
		vmbus_fault(&s->faults, FAULT_RING, "refused the control rings (%s)",
			  strerror(-rc));
		srv_error(s, "refused the control rings", -rc);
		goto fail;
	}
	rc = srv_connect_live(s);
	if (rc)
		goto fail;
	ev.data.fd = vmbus_evt_fd(&s->conn.evt);
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0) {
		rc = -errno;
		goto fail;
	}
	return 0;
fail:
	srv_disconnect(s);
	return rc;
}

/* Still attached?  After a detach the directory is gone: do not recreate it. */
static bool srv_attached(struct vmbus_server *s)
{
	char path[96], *v;
	bool attached;

	snprintf(path, sizeof(path), "%s/%s", s->be, VMBUS_XS_FRONTEND);
	v = xs_read(s->xs, XBT_NULL, path, NULL);
	attached = v != NULL;
	free(v);
	return attached;
}

/* Map and bind what the frontend published; a past failure is gone. */
static int srv_step_connect(struct vmbus_server *s)
{
	char path[96];
	int rc = srv_connect(s);

	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/error", s->be);
	xs_rm(s->xs, XBT_NULL, path);
	return 0;
}

#define FE(st)		(1u << (st))
#define FE_ANY		(FE(XB_RECONFIGURED + 1) - 1)

/*
 * The rows of the table at the top of this file: in backend @state, a
 * frontend state of @fe (first match) drops the connection if @drop, runs
 * @run, and moves to @next (@failed if @run failed).
 */
static const struct srv_step_row {
	int state;
	unsigned int fe;
	bool drop;
	int (*run)(struct vmbus_server *s);
	int next, failed;
} srv_steps[] = {
	/* Its rings were another backend's: make it start over. */
	{ XB_INITWAIT, FE(XB_CONNECTED), false, NULL, XB_CLOSING, 0 },
	{ XB_INITWAIT, FE(XB_INITIALISED), false, srv_step_connect,
	  XB_CONNECTED, XB_CLOSED },
	{ XB_CONNECTED, FE(XB_INITIALISING) | FE(XB_INITWAIT), true, NULL,
	  XB_INITWAIT, 0 },
	{ XB_CONNECTED, FE_ANY & ~(FE(XB_CONNECTED) | FE(XB_INITIALISED)),
	  true, NULL, XB_CLOSED, 0 },
	{ XB_CLOSING, FE(XB_INITIALISING), false, NULL, XB_INITWAIT, 0 },
	{ XB_CLOSING, FE(XB_CLOSED) | FE(XB_UNKNOWN), false, NULL, XB_CLOSED,
	  0 },
	{ XB_CLOSED, FE(XB_INITIALISING), false, NULL, XB_INITWAIT, 0 },
};

static int srv_step(struct vmbus_server *s)
{
	int fe = vmbus_xs_read_state(s->xs, s->fe);
	const struct srv_step_row *row;
	size_t i;

	/* Detached: writing a state would bring the directory back. */
	if (fe == XB_UNKNOWN && s->state != XB_CLOSED && !srv_attached(s)) {
		srv_disconnect(s);
		s->state = XB_CLOSED;
		return 0;
	}
	for (i = 0; i < sizeof(srv_steps) / sizeof(srv_steps[0]); i++) {
		row = &srv_steps[i];
		if (row->state != s->state || !(row->fe & FE(fe)))
			continue;
		if (row->drop)
			srv_disconnect(s);
		if (row->run && row->run(s))
			return srv_set_state(s, row->failed);
		return srv_set_state(s, row->next);
	}
	return 0;	/* repeated or skipped states wait for the next change */
}

/* Leave a storming guest's event channel out of the epoll set a while. */
static void srv_throttle(struct vmbus_server *s)
{
	if (vmbus_timer_set(s->throttle_fd, SRV_THROTTLE_MS) < 0 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_DEL, vmbus_evt_fd(&s->conn.evt), NULL) < 0) {
		vmbus_log(LOG_ERR, "domain %u: failed to pause its event "
			  "channel (%s)", s->domid, strerror(errno));
		return;
	}
	s->throttled = true;
	s->work.throttles++;
	vmbus_fault(&s->faults, FAULT_STORM, "signals its bus with nothing to do: its "
		  "signals are taken every %d ms for a while", SRV_THROTTLE_MS);
}

static void srv_unthrottle(struct vmbus_server *s)
{
	struct epoll_event ev = { .events = EPOLLIN };

	s->throttled = false;
	s->quiet_wakes = 0;
	ev.data.fd = vmbus_evt_fd(&s->conn.evt);
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0)
		vmbus_log(LOG_ERR, "domain %u: failed to resume its event "
			  "channel (%s)", s->domid, strerror(errno));
}

int vmbus_server_process(struct vmbus_server *s)
{
	uint64_t n, before;
	bool woken;
	int rc;

	s->work.wakeups++;
	woken = read(s->wakefd, &n, sizeof(n)) == sizeof(n);
	if (!woken && errno != EAGAIN)
		vmbus_log(LOG_ERR, "domain %u: failed to read the server's "
			  "wake-up (%s)", s->domid, strerror(errno));
	if (read(s->throttle_fd, &n, sizeof(n)) == sizeof(n) && s->throttled)
		srv_unthrottle(s);
	/*
	 * The frontend's state is read only when its watch fired: a guest
	 * signalling its port in a loop must not cost xenstored a read each.
	 */
	if (vmbus_xs_drain_watches(s->xs) > 0)
		s->xs_dirty = true;
	if (s->xs_dirty) {
		s->xs_dirty = false;
		s->work.xs_steps++;
		rc = srv_step(s);
		if (rc) {
			s->xs_dirty = true;	/* try again next time */
			return rc;
		}
	}
	/* The liveness byte is in mapped memory: reading it costs nothing. */
	if (s->state == XB_CONNECTED && srv_frontend_died(s)) {
		if (!s->fe_gone_logged)
			vmbus_log(LOG_INFO, "domain %u: the frontend let go of "
				  "its liveness page: it is gone (said once)",
				  s->domid);
		s->fe_gone_logged = true;
		srv_disconnect(s);
		/* Whatever the frontend does next is read on the next turn. */
		s->xs_dirty = true;
		return srv_set_state(s, XB_CLOSING);
	}
	if (s->state == XB_CONNECTED && s->conn.evt.xce && !s->throttled) {
		before = s->work.ctl_messages + s->work.ctl_dropped +
			 s->conn.txq.len;
		rc = srv_dispatch(s);
		/* Nothing taken, nothing sent: a signal for nothing. */
		if (rc >= 0 && !woken && s->conn.txq.len == 0 &&
		    s->work.ctl_messages + s->work.ctl_dropped == before) {
			if (++s->quiet_wakes >= SRV_QUIET_WAKES)
				srv_throttle(s);
		} else {
			s->quiet_wakes = 0;
		}
		if (rc < 0) {
			/* The guest broke its control ring: drop the bus. */
			srv_error(s, "control ring broken", -rc);
			srv_disconnect(s);
			return srv_set_state(s, XB_CLOSED);
		}
	}
	srv_offers_gc(s);
	return 0;
}

int vmbus_server_create(struct vmbus_server **out, unsigned int domid,
			const struct vmbus_server_ops *ops, void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct vmbus_server *s;
	char path[96];
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->domid = domid;
	s->ops = ops;
	s->arg = arg;
	s->epfd = -1;
	s->wakefd = -1;
	s->throttle_fd = -1;
	s->next_relid = 1;
	s->map_limit = VMBUS_SERVER_GUEST_MAPS_DEFAULT;
	s->xs_dirty = true;
	s->faults.domid = domid;
	vmbus_conn_init(&s->conn, &server_conn, s, -1);
	vmbus_gpadl_reg_init(&s->gpadls, &srv_gpadl_ops, s, &s->faults);
	snprintf(s->be, sizeof(s->be), "/local/domain/0/" VMBUS_XS_BACKEND_FMT,
		 domid, VMBUS_XS_DEVICE_ID);
	snprintf(s->fe, sizeof(s->fe), "/local/domain/%u/" VMBUS_XS_FRONTEND_FMT,
		 domid, VMBUS_XS_DEVICE_ID);
	s->xs = xs_open(0);
	s->gt = xengnttab_open(NULL, 0);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->throttle_fd = vmbus_timer_open();
	if (!s->xs || !s->gt || s->epfd < 0 || s->wakefd < 0 ||
	    s->throttle_fd < 0) {
		rc = -(errno ? errno : ENOMEM);
		vmbus_log(LOG_ERR, "domain %u: failed to open %s (%s)", domid,
			  !s->xs ? "xenstore" : !s->gt ? "the grant device" :
			  s->epfd < 0 ? "an epoll set" :
			  s->wakefd < 0 ? "an eventfd" : "a timerfd",
			  strerror(-rc));
		goto fail;
	}
	ev.data.fd = xs_fileno(s->xs);
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0) {
		rc = -errno;
		goto fail;
	}
	ev.data.fd = s->wakefd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0) {
		rc = -errno;
		goto fail;
	}
	ev.data.fd = s->throttle_fd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0) {
		rc = -errno;
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/%s", s->fe, VMBUS_XS_STATE);
	if (!xs_watch(s->xs, path, "fe")) {
		rc = -(errno ? errno : EIO);
		vmbus_log(LOG_ERR, "domain %u: failed to watch \"%s\" (%s)",
			  domid, path, strerror(-rc));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/error", s->be);
	xs_rm(s->xs, XBT_NULL, path);
	rc = vmbus_xs_printf(s->xs, s->be, VMBUS_XS_MAX_RING_PAGE_ORDER, "%u",
			     VMBUS_XS_DEFAULT_MAX_RING_PAGE_ORDER);
	if (!rc)
		rc = vmbus_xs_printf(s->xs, s->be, VMBUS_XS_VERSIONS,
				     VMBUS_XS_VERSION_FMT,
				     VMBUS_VERSION_MAJOR(bus_caps[0].version),
				     VMBUS_VERSION_MINOR(bus_caps[0].version));
	if (!rc)
		rc = srv_set_state(s, XB_INITWAIT);
	if (rc)
		goto fail;
	*out = s;
	return 0;
fail:
	vmbus_server_destroy(s);
	return rc;
}

void vmbus_server_destroy(struct vmbus_server *s)
{
	if (!s)
		return;
	srv_disconnect(s);
	while (s->offers)
		srv_offer_free(s, s->offers);
	if (s->xs && s->state) {
		char path[96], *v;

		/* After a detach the directory is gone: do not recreate it. */
		snprintf(path, sizeof(path), "%s/%s", s->be, VMBUS_XS_FRONTEND);
		v = xs_read(s->xs, XBT_NULL, path, NULL);
		if (v)
			srv_set_state(s, XB_CLOSED);
		free(v);
	}
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->wakefd >= 0)
		close(s->wakefd);
	if (s->throttle_fd >= 0)
		close(s->throttle_fd);
	if (s->gt)
		xengnttab_close(s->gt);
	if (s->xs)
		xs_close(s->xs);
	free(s);
}

int vmbus_server_fd(const struct vmbus_server *s)
{
	return s->epfd;
}

unsigned int vmbus_server_domid(const struct vmbus_server *s)
{
	return s->domid;
}

const char *vmbus_server_state(const struct vmbus_server *s)
{
	return vmbus_xb_state_name(s->state);
}

void vmbus_server_get_work(const struct vmbus_server *s,
			   struct vmbus_server_work *w)
{
	*w = s->work;
	w->ctl_queued = s->conn.txq.len;
	w->ctl_queue_peak = s->conn.txq_peak;
}

int srv_offer_add(struct vmbus_server *s, const struct vmbus_offer_desc *d,
		  struct srv_offer **out)
{
	struct srv_offer *o, **pp;

	if (d->nversions < 1 || d->nversions > 8)
		return -EINVAL;
	/* A pipe's connection to its service does not outlive the server. */
	if ((d->flags & VMBUS_OFFER_FLAG_REOPEN) &&
	    (d->flags & VMBUS_OFFER_FLAG_NAMED_PIPE))
		return -EINVAL;
	srv_offers_gc(s);
	if (s->noffers >= SRV_MAX_OFFERS)
		return -ENOSPC;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->d = *d;
	o->srv = s;
	while (srv_offer(s, s->next_relid) || s->next_relid == 0)
		s->next_relid++;
	o->relid = s->next_relid++;
	/* Keep the list in relid order: offers go out in the order made. */
	for (pp = &s->offers; *pp; pp = &(*pp)->next)
		;
	*pp = o;
	s->noffers++;
	*out = o;
	return 0;
}

int vmbus_server_offer(struct vmbus_server *s,
		       const struct vmbus_offer_desc *d, uint32_t *relid)
{
	struct srv_offer *o;
	int rc = srv_offer_add(s, d, &o);

	if (rc)
		return rc;
	if (relid)
		*relid = o->relid;
	if (s->offers_requested && s->conn.evt.xce)
		srv_send_offer(s, o);	/* a failure is logged; the offer stays */
	return 0;
}

int vmbus_server_offer_sub(struct vmbus_server *s, uint32_t primary,
			   uint16_t index, void *cookie, uint32_t *relid)
{
	struct srv_offer *p = srv_offer(s, primary), *o;
	struct vmbus_offer_desc d;
	int rc;

	if (!p || p->rescinded || p->sub_index)
		return -ENOENT;
	if (!index || p->is_peer || (p->d.flags & VMBUS_OFFER_FLAG_NAMED_PIPE))
		return -EINVAL;
	for (o = s->offers; o; o = o->next)
		if (!o->rescinded && o->sub_index == index &&
		    !memcmp(o->d.type, p->d.type, 16) &&
		    !memcmp(o->d.instance, p->d.instance, 16))
			return -EEXIST;
	d = p->d;
	d.cookie = cookie;
	rc = srv_offer_add(s, &d, &o);
	if (rc)
		return rc;
	o->sub_index = index;
	if (relid)
		*relid = o->relid;
	if (s->offers_requested && s->conn.evt.xce)
		srv_send_offer(s, o);
	return 0;
}

int vmbus_server_rescind(struct vmbus_server *s, uint32_t relid)
{
	struct srv_offer *o = srv_offer(s, relid);

	if (!o || o->rescinded)
		return -ENOENT;
	if (o->peer)
		s->p2p->brk(o);		/* both ends go */
	else
		srv_offer_rescind(s, o);
	srv_offers_gc(s);
	return 0;
}

void vmbus_server_foreach_chan(struct vmbus_server *s,
			       void (*fn)(struct vmbus_chan *, void *),
			       void *arg)
{
	struct srv_offer *o;

	for (o = s->offers; o; o = o->next)
		if (o->chan)
			fn(o->chan, arg);
}

/* --- grant mapping budgets --- */

void *vmbus_chan_map_grefs(struct vmbus_chan *c, const uint32_t *grefs,
			   uint32_t count, bool writable)
{
	if (!c->server || !c->srv || c->state != CHAN_OPEN) {
		errno = ENOTCONN;
		return NULL;
	}
	if (!count) {
		errno = EINVAL;
		return NULL;
	}
	return srv_map_grants(c->srv, count, grefs,
			      PROT_READ | (writable ? PROT_WRITE : 0));
}

void vmbus_chan_unmap_grefs(struct vmbus_chan *c, void *addr, uint32_t count)
{
	if (c->srv && addr && count)
		srv_unmap_grants(c->srv, addr, count);
}

int vmbus_server_set_map_limit(struct vmbus_server *s, uint32_t pages)
{
	if (pages < VMBUS_SERVER_MAPS_MIN)
		return -EINVAL;
	s->map_limit = pages;
	return 0;
}

int vmbus_server_set_host_map_limit(uint32_t pages)
{
	if (pages < VMBUS_SERVER_MAPS_MIN)
		return -EINVAL;
	srv_host_limit = pages;
	return 0;
}

void vmbus_server_host_maps(uint32_t *mapped, uint32_t *limit)
{
	*mapped = srv_host_mapped;
	*limit = srv_host_limit;
}

void vmbus_server_get_maps(const struct vmbus_server *s,
			   struct vmbus_server_maps *st)
{
	memset(st, 0, sizeof(*st));
	st->mapped = s->mapped;
	st->limit = s->map_limit;
	st->host_mapped = srv_host_mapped;
	st->host_limit = srv_host_limit;
	st->gpadls = s->gpadls.n;
	st->refused = s->map_refused;
}

int vmbus_server_set_tl_connect(struct vmbus_server *s,
				vmbus_tl_connect_fn *fn, void *arg)
{
	s->tl_connect = fn;
	s->tl_arg = arg;
	return 0;
}
