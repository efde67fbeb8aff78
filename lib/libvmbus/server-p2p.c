/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Channels between two guests (VMBUS_1.1): the server of each guest offers
 * one end; the opener's guest grants the rings, which the server forwards
 * to the acceptor's guest, and answers both OPENCHANNELs once the acceptor
 * mapped them.  Where one end stands, as rows: (state, event) -> next.
 *   IDLE      OPENCHANNEL                  WAITING (answer later)
 *   WAITING   other end WAITING too        FORWARDED (PEER_GPADL*, PEER_OPEN
 *                                          to the acceptor)
 *   WAITING   CLOSECHANNEL, GPADL_TEARDOWN IDLE (nothing was shared yet)
 *   FORWARDED PEER_OPEN_RESULT ok          OPEN (OPENCHANNEL_RESULT to both)
 *   FORWARDED PEER_OPEN_RESULT failed      IDLE (failure to both)
 *   FORWARDED|OPEN  close, teardown, rescind, reset, destroy
 *                                          pair broken: both offers rescinded
 * A rescind, reset or destroy in IDLE or WAITING breaks the pair as well;
 * a WAITING end still gets its (failed) OPENCHANNEL_RESULT.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "server.h"

/* Answer the pending OPENCHANNEL of one end. */
static void srv_peer_answer(struct srv_offer *o, int err)
{
	struct vmbus_msg r;

	vmbus_msg_init(&r, VMBUS_MSG_OPENCHANNEL_RESULT);
	r.u.open_result.child_relid = o->relid;
	r.u.open_result.open_id = o->p_open_id;
	srv_answer(o->srv, &r, err);
}

/* Back to IDLE: nothing was shared with the peer yet, or it failed. */
static void srv_peer_cancel(struct srv_offer *o)
{
	if (o->p_gpadl)
		o->p_gpadl->peer_user = NULL;
	o->p_gpadl = NULL;
	o->pstate = PEER_IDLE;
}

/* One end of a broken pair: answer, tell the owner, rescind. */
static void srv_peer_end(struct srv_offer *o, int err)
{
	struct vmbus_server *s = o->srv;

	if (o->pstate == PEER_WAITING || o->pstate == PEER_FORWARDED)
		srv_peer_answer(o, err);
	srv_peer_cancel(o);
	o->peer = NULL;
	if (s->ops && s->ops->close)
		s->ops->close(s, NULL, o->d.cookie, s->arg);
	srv_offer_rescind(s, o);
}

/*
 * The channel between the two guests ends: both offers are rescinded, and
 * their owners hear of it through close() with no channel.
 */
static void srv_peer_break(struct srv_offer *o)
{
	struct srv_offer *p = o->peer;

	if (!p)
		return;
	o->peer = NULL;
	p->peer = NULL;
	srv_peer_end(o, -ENOTCONN);
	srv_peer_end(p, -ENOTCONN);
}

/* The acceptor's server sends it the opener's rings and port. */
static int srv_peer_forward(struct srv_offer *op, struct srv_offer *acc)
{
	struct vmbus_server *s = acc->srv;
	struct srv_gpadl *g = op->p_gpadl;
	struct vmbus_msg po;
	int rc;

	vmbus_msg_init(&po, VMBUS_MSG_PEER_OPEN);
	po.u.peer_open.child_relid = acc->relid;
	po.u.peer_open.open_id = acc->p_fwd_open_id = ++s->next_peer_open;
	po.u.peer_open.ring_gpadl = g->id;
	po.u.peer_open.downstream_page_offset = op->p_down;
	po.u.peer_open.event_channel = op->p_port;
	po.u.peer_open.class_version = op->p_version;
	po.u.peer_open.peer_domid = (uint16_t)op->srv->domid;
	rc = vmbus_gpadl_announce(&s->conn, acc->relid, g->id, g->npages,
				  g->grefs, true);
	return rc ? rc : srv_send(s, &po);
}

/* Both ends asked to open: hand the opener's rings to the acceptor. */
static void srv_peer_try(struct srv_offer *o)
{
	struct srv_offer *p = o->peer, *op, *acc;
	int rc;

	if (!p || o->pstate != PEER_WAITING || p->pstate != PEER_WAITING)
		return;
	op = o->opener ? o : p;
	acc = o->opener ? p : o;
	rc = op->p_version == acc->p_version ? srv_peer_forward(op, acc) :
	     -EPROTONOSUPPORT;
	if (rc) {
		vmbus_fault(&acc->srv->faults, FAULT_OPEN, "failed to hand "
			    "the rings of domain %u to channel %u (%s)",
			    op->srv->domid, acc->relid, strerror(-rc));
		srv_peer_answer(op, rc);
		srv_peer_answer(acc, rc);
		srv_peer_cancel(op);
		srv_peer_cancel(acc);
		return;
	}
	op->pstate = acc->pstate = PEER_FORWARDED;
}

/* Validate an OPENCHANNEL on a peer offer; 0 means "answer later". */
static int srv_open_peer(struct vmbus_server *s,
			 const struct vmbus_msg_open_channel *op,
			 struct srv_offer *o)
{
	struct srv_gpadl *g = NULL;
	uint32_t d;

	if (o->rescinded || !o->sent)
		return -ENOENT;
	if (!o->peer)
		return -ENOTCONN;
	if (o->pstate != PEER_IDLE)
		return -EBUSY;
	if (!srv_offer_speaks(o, op->class_version))
		return -EPROTONOSUPPORT;
	if (o->opener) {
		g = vmbus_gpadl_reg_find(&s->gpadls, op->ring_gpadl);
		if (!g || g->relid != o->relid || !g->peer || g->peer_user)
			return -ENOENT;
		d = op->downstream_page_offset;
		if (!vmbus_gpadl_rings_split_ok(g->npages, d))
			return -EINVAL;
		o->p_gpadl = g;
		g->peer_user = o;
		o->p_port = op->event_channel;
		o->p_down = d;
	} else if (op->ring_gpadl || op->event_channel ||
		   op->downstream_page_offset) {
		return -EINVAL;		/* the acceptor grants nothing */
	}
	o->p_open_id = op->open_id;
	o->p_version = op->class_version;
	o->pstate = PEER_WAITING;
	return 0;
}

static int srv_peer_open_result(struct vmbus_server *s,
				const struct vmbus_msg_open_result *r)
{
	struct srv_offer *o = srv_offer(s, r->child_relid), *p;
	int err;

	if (!o || !o->is_peer || o->opener || !o->peer ||
	    o->pstate != PEER_FORWARDED || r->open_id != o->p_fwd_open_id)
		return -EPROTO;
	p = o->peer;
	err = vmbus_status_to_errno(r->status);
	srv_peer_answer(p, err);
	srv_peer_answer(o, err);
	if (err) {
		vmbus_fault(&s->faults, FAULT_OPEN, "could not map the rings "
			    "of domain %u for channel %u (%s)", p->srv->domid,
			    o->relid, strerror(-err));
		srv_peer_cancel(p);
		srv_peer_cancel(o);
		return 0;
	}
	p->pstate = o->pstate = PEER_OPEN;
	/* Owners hear of it; a channel between guests has no chan here. */
	if (p->srv->ops && p->srv->ops->open)
		p->srv->ops->open(p->srv, NULL, p->d.cookie, p->srv->arg);
	if (s->ops && s->ops->open)
		s->ops->open(s, NULL, o->d.cookie, s->arg);
	return 0;
}

/* Validate an OPENCHANNEL on a peer offer and try to pair it. */
static int srv_peer_open(struct vmbus_server *s,
			 const struct vmbus_msg_open_channel *op,
			 struct srv_offer *o)
{
	int rc = srv_open_peer(s, op, o);

	if (rc == 0)
		srv_peer_try(o);
	return rc;
}

/* Given up waiting: drop the request; shared: end it. */
static void srv_peer_let_go(struct srv_offer *o)
{
	if (o->pstate == PEER_WAITING)
		srv_peer_cancel(o);
	else if (o->pstate != PEER_IDLE)
		srv_peer_break(o);
}

static const struct srv_p2p_ops srv_p2p = {
	.open = srv_peer_open,
	.end = srv_peer_let_go,
	.brk = srv_peer_break,
	.open_result = srv_peer_open_result,
};

int vmbus_server_offer_peer(struct vmbus_server *a,
			    const struct vmbus_offer_desc *da,
			    uint32_t *relid_a, struct vmbus_server *b,
			    const struct vmbus_offer_desc *db,
			    uint32_t *relid_b)
{
	struct srv_offer *oa, *ob;
	int rc;

	if (!a || !b || a == b || a->domid == b->domid ||
	    a->domid > VMBUS_PEER_DOMID_MAX || b->domid > VMBUS_PEER_DOMID_MAX)
		return -EINVAL;
	/* The rings are a guest's: no server can open them again. */
	if ((da->flags | db->flags) & VMBUS_OFFER_FLAG_REOPEN)
		return -EINVAL;
	rc = srv_offer_add(a, da, &oa);
	if (rc)
		return rc;
	rc = srv_offer_add(b, db, &ob);
	if (rc) {
		srv_offer_free(a, oa);
		return rc;
	}
	a->p2p = b->p2p = &srv_p2p;
	oa->is_peer = ob->is_peer = true;
	oa->opener = true;
	oa->peer = ob;
	ob->peer = oa;
	if (relid_a)
		*relid_a = oa->relid;
	if (relid_b)
		*relid_b = ob->relid;
	if (a->offers_requested && a->conn.evt.xce)
		srv_send_offer(a, oa);
	if (b->offers_requested && b->conn.evt.xce)
		srv_send_offer(b, ob);
	return 0;
}
