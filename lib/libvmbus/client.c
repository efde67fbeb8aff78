/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client (guest) end of the bus: the frontend's XenbusState handshake,
 * bus version negotiation, offers, and opening/closing channels.
 *
 * Handshake, read top to bottom (xenstore.h has the keys):
 *   frontend Initialising -> wait for backend InitWait
 *   grant the control rings, allocate the event channel, publish them
 *   frontend Initialised  -> wait for backend Connected
 *   frontend Connected; INITIATE_CONTACT -> VERSION_RESPONSE;
 *   REQUESTOFFERS -> OFFERCHANNEL* ALLOFFERS_DELIVERED.
 * A backend state seen twice, or a state skipped on the way to the one
 * awaited, is fine.
 *
 * The same steps bring the bus back when the backend goes away, as rows
 * (link, what is seen) -> action, link:
 *   DOWN            backend InitWait         grant, publish, Initialised
 *                                                          -> WAIT_CONNECTED
 *   WAIT_CONNECTED  backend Connected        Connected, INITIATE_CONTACT
 *                                                          -> NEGOTIATING
 *   NEGOTIATING     VERSION_RESPONSE         REQUESTOFFERS -> OFFERS
 *   OFFERS          ALLOFFERS_DELIVERED      -> UP
 *   any but DOWN    backend neither Connected nor on its way there, or its
 *                   byte of the liveness page cleared (its process died)
 *                                            channels fail with -ENOTCONN,
 *                                            offers are rescinded, rings
 *                                            ungranted, Initialising -> DOWN
 * DOWN ignores a backend still saying Connected: that is what a dead
 * backend left behind.  While vmbus_bus_open runs, a failure is final;
 * afterwards the bus retries a few times, then gives up (DEAD).  Channels
 * whose service and application allow it do not fail but wait, and are
 * opened again once the link is UP (see "re-opening channels" below).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <xenvmbus/xenstore.h>

#include "private.h"

#define BUS_MAX_OFFERS		256
#define BUS_CTL_ORDER		4	/* 16 pages: 8 per direction */
/*
 * Control messages waiting for room in the server's receive ring: a
 * maximal GPADL is a few hundred; the callers wait for answers, so the
 * queue does not grow beyond what they sent.
 */
#define BUS_TXQ_MAX		1024
#define CHAN_MIN_RING_PAGES	2	/* each way */
#define CHAN_MAX_RING_PAGES	256
#define BUS_MAX_RETRIES		3	/* failed reconnects in a row */
/* A channel to another guest grants both rings; its acceptor takes them. */
_Static_assert(2 * CHAN_MIN_RING_PAGES >= VMBUS_PEER_RING_MIN_GREFS &&
	       2 * CHAN_MAX_RING_PAGES <= VMBUS_PEER_RING_MAX_GREFS,
	       "the rings vmbus_chan_open grants fit vmbus_gpadl_is_peer_rings");

/* An offer, with what the public struct has no room for. */
struct bus_offer {
	struct vmbus_offer pub;
	uint16_t sub_index;		/* 0: a primary channel */
	unsigned int peer_domid;
	uint16_t peer_flags;		/* VMBUS_OFFER_PEER_* */
};

enum bus_link {
	LINK_DOWN,		/* Initialising: waiting for a backend */
	LINK_WAIT_CONNECTED,	/* Initialised: rings published */
	LINK_NEGOTIATING,	/* INITIATE_CONTACT sent */
	LINK_OFFERS,		/* REQUESTOFFERS sent */
	LINK_UP,
	LINK_DEAD,		/* gave up; link_err says why */
};

struct vmbus_bus {
	struct xs_handle *xs;
	int epfd;			/* xenstore + control port: vmbus_bus_fd */
	enum bus_link link;
	int link_err;
	int be_state;			/* as last read, after a watch fired */
	bool opening;			/* in vmbus_bus_open: failures are final */
	bool closing;			/* in vmbus_bus_close: no reconnecting */
	bool be_gone;			/* the backend went away */
	unsigned int retries;
	void *live;			/* the liveness page (xenstore.h) */
	bool be_armed;			/* the backend set its byte */
	struct vmbus_chan *stale;	/* channels of an earlier connection */
	struct vmbus_chan *reopen;	/* ... waiting for their offer again */
	int tfd;			/* timerfd: the first re-open deadline */
	bool tfd_armed;
	xengnttab_handle *gt;		/* mapping a peer's rings, on demand */
	struct vmbus_gpadl_asm gasm;	/* a peer's GPADL being forwarded */
	uint8_t *asmbuf;
	struct vmbus_conn conn;		/* port, control ring, queue */
	void *ctl_mem;
	uint32_t ctl_pages;
	char fe[64];			/* device/vmbus/0 */
	char be[128];			/* the backend's directory */
	uint32_t version;
	bool version_done;
	int version_status;
	bool offers_done;
	bool unloaded;
	struct bus_offer *offers;
	unsigned int noffers;
	struct vmbus_chan *chans;
	uint32_t next_open;
	vmbus_offer_fn *offer_cb;
	void *offer_arg;
};

/* Preferred first; a 1.0 server still serves everything but peer channels. */
static const uint32_t bus_versions[] = {
	VMBUS_BUS_VERSION_1_1, VMBUS_BUS_VERSION_1_0,
};
#define BUS_NVERSIONS	(sizeof(bus_versions) / sizeof(bus_versions[0]))
static const struct vmbus_version_cap bus_caps[] = {
	{ .version = VMBUS_BUS_VERSION_1_1, .need_minor = 0 },
};

static int bus_dispatch(struct vmbus_bus *bus);
static void bus_unlink(struct vmbus_bus *bus, struct vmbus_chan *c);
static bool chan_may_reopen(const struct vmbus_chan *c);
static void chan_reopen_wait(struct vmbus_bus *bus, struct vmbus_chan *c);
static void bus_reopen_work(struct vmbus_bus *bus);
static int chan_gpadl_send(struct vmbus_bus *bus, struct vmbus_chan *c,
			   const uint32_t *refs);
static int chan_send_open(struct vmbus_bus *bus, struct vmbus_chan *c);

/*
 * Send a control message, or queue it while the server's ring is full:
 * the ring asked the server to signal once it made room, and bus_dispatch
 * sends what waits.  A full ring is the server being busy, not an error.
 */
static int bus_send(struct vmbus_bus *bus, struct vmbus_msg *m)
{
	return vmbus_conn_send(&bus->conn, m);
}
static int bus_work(struct vmbus_bus *bus);

/* --- waiting --- */

/*
 * Block until xenstore or the control channel needs attention or the
 * deadline passes, then handle it.  Returns 0, -ETIMEDOUT or -errno.
 * (The epoll set is readable while one of its fds is.)
 */
static int bus_pump(struct vmbus_bus *bus, int64_t deadline)
{
	return vmbus_conn_pump(&bus->conn, deadline);
}

/* Wait until the backend's state is @want (or, if @or_later, beyond). */
static int bus_wait_backend(struct vmbus_bus *bus, int want, bool or_later,
			    int64_t deadline)
{
	int st, rc;

	for (;;) {
		st = vmbus_xs_read_state(bus->xs, bus->be);
		if (st == want || (or_later && st > want && st < XB_CLOSING))
			return 0;
		rc = bus_pump(bus, deadline);
		if (rc < 0) {
			if (rc == -ETIMEDOUT)
				vmbus_log(LOG_ERR, "timed out waiting for "
					  "backend \"%s\" to reach %s (it is %s)",
					  bus->be, vmbus_xb_state_name(want),
					  vmbus_xb_state_name(st));
			return rc;
		}
	}
}

static int bus_set_state(struct vmbus_bus *bus, int state)
{
	return vmbus_xs_printf(bus->xs, bus->fe, VMBUS_XS_STATE, "%d", state);
}

/* Still attached?  After a detach the directory is gone: do not recreate it. */
static bool bus_attached(struct vmbus_bus *bus)
{
	char path[96], *v;
	bool attached;

	snprintf(path, sizeof(path), "%s/%s", bus->fe, VMBUS_XS_BACKEND);
	v = xs_read(bus->xs, XBT_NULL, path, NULL);
	attached = v != NULL;
	free(v);
	return attached;
}

/* --- control messages from the server --- */

static struct vmbus_chan *bus_chan(struct vmbus_bus *bus, uint32_t relid)
{
	struct vmbus_chan *c;

	for (c = bus->chans; c; c = c->next)
		if (c->relid == relid)
			return c;
	return NULL;
}

static struct bus_offer *bus_offer(const struct vmbus_bus *bus,
				   uint32_t relid)
{
	unsigned int i;

	for (i = 0; i < bus->noffers; i++)
		if (bus->offers[i].pub.relid == relid)
			return &bus->offers[i];
	return NULL;
}

static int on_version_response(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_bus *bus = owner;
	const struct vmbus_msg_version_response *r = &m->u.version_response;

	if (bus->version_done)
		return -EPROTO;
	bus->version_done = true;
	if (!r->version_supported) {
		vmbus_log(LOG_ERR, "server refused bus versions; it speaks "
			  "%u.%u", VMBUS_VERSION_MAJOR(r->version),
			  VMBUS_VERSION_MINOR(r->version));
		bus->version_status = -EPROTONOSUPPORT;
	} else if (!vmbus_version_accept(r->version, bus_versions,
					 BUS_NVERSIONS, bus_caps, 1)) {
		vmbus_log(LOG_ERR, "server chose bus version %u.%u that was "
			  "not offered", VMBUS_VERSION_MAJOR(r->version),
			  VMBUS_VERSION_MINOR(r->version));
		bus->version_status = -EPROTO;
	} else {
		bus->version = r->version;
		bus->version_status = 0;
	}
	return 0;
}

static int on_offer(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_bus *bus = owner;
	const struct vmbus_msg_offer_channel *o = &m->u.offer;
	struct bus_offer *bo, *grown;
	struct vmbus_offer *off;

	if (o->child_relid == 0 || bus_offer(bus, o->child_relid))
		return -EPROTO;
	if (bus->noffers >= BUS_MAX_OFFERS) {
		vmbus_log(LOG_WARNING, "ignoring offer %u: too many offers",
			  o->child_relid);
		return 0;
	}
	grown = realloc(bus->offers, (bus->noffers + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	bus->offers = grown;
	bo = &bus->offers[bus->noffers++];
	memset(bo, 0, sizeof(*bo));
	/* The codec checked the flags; the peer is never ourselves' server. */
	if (o->peer_flags & VMBUS_OFFER_PEER_VALID) {
		bo->peer_domid = o->peer_domid;
		bo->peer_flags = o->peer_flags;
	}
	bo->sub_index = o->sub_channel_index;
	off = &bo->pub;
	off->relid = o->child_relid;
	memcpy(off->type, o->if_type.b, 16);
	memcpy(off->instance, o->if_instance.b, 16);
	off->flags = o->channel_flags & ~VMBUS_OFFER_FLAG_REOPEN;
	/* Never a pipe nor a channel between guests, whatever it says. */
	if ((o->xen_flags & VMBUS_OFFER_X_REOPEN) &&
	    !(o->channel_flags & VMBUS_OFFER_NAMED_PIPE_MODE) &&
	    !(o->peer_flags & VMBUS_OFFER_PEER_VALID))
		off->flags |= VMBUS_OFFER_FLAG_REOPEN;
	off->nversions = o->class_version_count;
	if (off->nversions > 8)
		off->nversions = 8;
	memcpy(off->versions, o->class_versions,
	       off->nversions * sizeof(uint32_t));
	memcpy(off->user_data, o->user_data, sizeof(off->user_data));
	off->user_data[sizeof(off->user_data) - 1] = 0;
	if (bus->offer_cb)
		bus->offer_cb(bus, off, bus->offer_arg);
	return 0;
}

static int on_rescind(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_bus *bus = owner;
	uint32_t relid = m->u.relid.child_relid;
	struct bus_offer *off = bus_offer(bus, relid);
	struct vmbus_chan *c = bus_chan(bus, relid);
	struct vmbus_msg rel;

	if (!off || off->pub.rescinded)
		return -EPROTO;
	off->pub.rescinded = true;
	if (bus->offer_cb)
		bus->offer_cb(bus, &off->pub, bus->offer_arg);
	if (c) {
		/* The owner closes it; RELID_RELEASED goes out then. */
		c->rescinded = true;
		return 0;
	}
	vmbus_msg_init(&rel, VMBUS_MSG_RELID_RELEASED);
	rel.u.relid.child_relid = relid;
	*off = bus->offers[--bus->noffers];
	return bus_send(bus, &rel);
}

static int on_open_result(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_bus *bus = owner;
	const struct vmbus_msg_open_result *r = &m->u.open_result;
	struct vmbus_chan *c = bus_chan(bus, r->child_relid);

	if (!c || r->open_id != c->open_id)
		return -EPROTO;
	if (c->reopen == REOPEN_OPEN) {
		/* A re-open: bus_reopen_work takes it from here. */
		c->open_status = vmbus_status_to_errno(r->status);
		c->reopen = REOPEN_RESULT;
		return 0;
	}
	if (c->state != CHAN_OPENING)
		return -EPROTO;
	c->open_status = vmbus_status_to_errno(r->status);
	/* An acceptor without rings cannot have been opened. */
	if (!c->open_status && c->peer_acceptor && !c->mem)
		c->open_status = -EPROTO;
	c->state = c->open_status ? CHAN_FAILED : CHAN_OPEN;
	/* The opener of a ring between guests: the acceptor says it is there. */
	if (c->state == CHAN_OPEN && c->peer && !c->peer_acceptor)
		c->peer_armed = __atomic_load_n((const uint8_t *)c->mem +
						VMBUS_RING_PEER_ALIVE,
						__ATOMIC_ACQUIRE) != 0;
	return 0;
}

/* --- the acceptor of a channel to another guest --- */

/* PEER_GPADL_HEADER / PEER_GPADL_BODY: the opener's rings, forwarded. */
static int peer_gpadl_step(struct vmbus_bus *bus, int asm_rc)
{
	struct vmbus_gpa_desc range;
	struct vmbus_chan *c;
	uint32_t nranges, ngrefs, *grefs;
	int rc;

	if (asm_rc == 1)
		return 0;
	c = bus_chan(bus, bus->gasm.child_relid);
	if (!c || !c->peer_acceptor || c->state != CHAN_OPENING || c->mem ||
	    c->peer_grefs) {
		vmbus_gpadl_asm_init(&bus->gasm, bus->asmbuf,
				     VMBUS_GPADL_MAX_BUFLEN);
		return -EPROTO;
	}
	if (asm_rc < 0) {
		c->peer_gpadl_status = asm_rc;
		vmbus_gpadl_asm_init(&bus->gasm, bus->asmbuf,
				     VMBUS_GPADL_MAX_BUFLEN);
		return asm_rc;
	}
	grefs = calloc(VMBUS_PEER_RING_MAX_GREFS, sizeof(*grefs));
	if (!grefs)
		return -ENOMEM;
	c->peer_gpadl = bus->gasm.gpadl_id;
	rc = vmbus_gpadl_asm_finish(&bus->gasm, &range, 1, &nranges, grefs,
				    VMBUS_PEER_RING_MAX_GREFS, &ngrefs);
	if (!rc && !vmbus_gpadl_is_peer_rings(&range, nranges, ngrefs))
		rc = -EINVAL;
	if (rc) {
		free(grefs);
		c->peer_gpadl_status = rc;
		return rc;
	}
	c->peer_grefs = grefs;
	c->peer_ngrefs = ngrefs;
	return 0;
}

static int on_peer_gpadl_header(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_bus *bus = owner;
	if (!bus->asmbuf) {
		bus->asmbuf = malloc(VMBUS_GPADL_MAX_BUFLEN);
		if (!bus->asmbuf)
			return -ENOMEM;
		vmbus_gpadl_asm_init(&bus->gasm, bus->asmbuf,
				     VMBUS_GPADL_MAX_BUFLEN);
	}
	return peer_gpadl_step(bus, vmbus_gpadl_asm_header(&bus->gasm, m));
}

static int on_peer_gpadl_body(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_bus *bus = owner;
	if (!bus->asmbuf)
		return -EPROTO;
	return peer_gpadl_step(bus, vmbus_gpadl_asm_body(&bus->gasm, m));
}

/* Map the peer's rings and bind its port; -errno refuses. */
static int peer_map(struct vmbus_bus *bus, struct vmbus_chan *c,
		    const struct vmbus_msg_peer_open *po)
{
	uint32_t d = po->downstream_page_offset, n = c->peer_ngrefs;
	size_t down, up;
	int rc;

	if (c->peer_gpadl_status)
		return c->peer_gpadl_status;
	if (!c->peer_grefs || po->ring_gpadl != c->peer_gpadl ||
	    po->peer_domid != c->peer_domid ||
	    po->class_version != c->version || d < 2 || d > n - 2)
		return -EINVAL;
	if (!bus->gt) {
		bus->gt = xengnttab_open(NULL, 0);
		if (!bus->gt) {
			rc = -(errno ? errno : EIO);
			vmbus_log(LOG_ERR, "failed to open the grant device "
				  "(%s)", strerror(-rc));
			return rc;
		}
	}
	c->mem = xengnttab_map_domain_grant_refs(bus->gt, n, c->peer_domid,
						 c->peer_grefs,
						 PROT_READ | PROT_WRITE);
	if (!c->mem) {
		rc = -(errno ? errno : EFAULT);
		vmbus_log(LOG_ERR, "failed to map the %u ring grants of domain "
			  "%u for channel %u (%s)", n, c->peer_domid, c->relid,
			  strerror(-rc));
		return rc;
	}
	c->npages = n;
	rc = vmbus_evt_open(&c->evt);
	if (rc)
		return rc;
	rc = xenevtchn_bind_interdomain(c->evt.xce, c->peer_domid,
					(evtchn_port_t)po->event_channel);
	if (rc < 0) {
		rc = -(errno ? errno : EIO);
		vmbus_log(LOG_ERR, "failed to bind port %u of domain %u for "
			  "channel %u (%s)", po->event_channel, c->peer_domid,
			  c->relid, strerror(-rc));
		return rc;
	}
	c->evt.local = rc;
	/* Cleared, and the opener signalled, when we unmap or die. */
	c->peer_live = xengnttab_map_grant_ref_notify(bus->gt, c->peer_domid,
						      c->peer_grefs[0],
						      PROT_READ | PROT_WRITE,
						      VMBUS_RING_PEER_ALIVE,
						      (evtchn_port_t)c->evt.local);
	if (c->peer_live)
		__atomic_store_n((uint8_t *)c->peer_live +
				 VMBUS_RING_PEER_ALIVE, 1, __ATOMIC_RELEASE);
	else	/* the opener then hears of our end from the server only */
		vmbus_log(LOG_WARNING, "failed to map the first ring grant of "
			  "domain %u for channel %u with an unmap notification "
			  "(%s)", c->peer_domid, c->relid,
			  strerror(errno ? errno : EFAULT));
	/* The opener's send ring comes first: it is our receive ring. */
	down = (size_t)d * VMBUS_GRANT_PAGE_SIZE;
	up = (size_t)(n - d) * VMBUS_GRANT_PAGE_SIZE;
	rc = vmbus_ring_init(&c->ring, (uint8_t *)c->mem + down, up, c->mem,
			     down, vmbus_evt_signal, &c->evt);
	if (rc)
		vmbus_log(LOG_ERR, "refused the rings of domain %u for channel "
			  "%u (%s)", c->peer_domid, c->relid, strerror(-rc));
	return rc;
}

static void peer_unmap(struct vmbus_bus *bus, struct vmbus_chan *c)
{
	/* Our unmap notification fires: the opener learns we let go. */
	if (c->peer_live)
		xengnttab_unmap(bus->gt, c->peer_live, 1);
	c->peer_live = NULL;
	vmbus_evt_close(&c->evt);
	if (c->mem)
		xengnttab_unmap(bus->gt, c->mem, c->npages);
	c->mem = NULL;
}

static int on_peer_open(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_bus *bus = owner;
	const struct vmbus_msg_peer_open *po = &m->u.peer_open;
	struct vmbus_chan *c = bus_chan(bus, po->child_relid);
	struct vmbus_msg r;
	int rc;

	if (!c || !c->peer_acceptor || c->state != CHAN_OPENING || c->mem)
		return -EPROTO;
	rc = peer_map(bus, c, po);
	if (rc)
		peer_unmap(bus, c);
	vmbus_msg_init(&r, VMBUS_MSG_PEER_OPEN_RESULT);
	r.u.open_result.child_relid = po->child_relid;
	r.u.open_result.open_id = po->open_id;
	r.u.open_result.status = vmbus_status_from_errno(rc);
	return bus_send(bus, &r);
}

static int on_gpadl_created(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_bus *bus = owner;
	const struct vmbus_msg_gpadl_created *r = &m->u.gpadl_created;
	struct vmbus_chan *c = bus_chan(bus, r->child_relid);

	if (c && c->gpadl_id != r->gpadl_id)	/* a data GPADL */
		return vmbus_xfer_on_gpadl_created(c, r->gpadl_id, r->status);
	if (!c || c->gpadl_done)
		return -EPROTO;
	c->gpadl_done = true;
	c->gpadl_status = vmbus_status_to_errno(r->status);
	return 0;
}

static int on_gpadl_torndown(void *owner, const struct vmbus_msg *m)
{
	struct vmbus_bus *bus = owner;
	struct vmbus_chan *c;

	for (c = bus->chans; c; c = c->next)
		if (c->gpadl_id == m->u.gpadl_torndown.gpadl_id) {
			c->gpadl_done = true;
			return 0;
		}
	for (c = bus->chans; c; c = c->next)
		if (!vmbus_xfer_on_gpadl_torndown(c, m->u.gpadl_torndown.gpadl_id))
			return 0;
	return -EPROTO;
}

/* Messages a server sends; anything else was refused by the decoder. */
static const struct vmbus_conn_row client_msgs[VMBUS_MSG_COUNT] = {
	[VMBUS_MSG_VERSION_RESPONSE] = { .fn = on_version_response },
	[VMBUS_MSG_OFFERCHANNEL] = { .fn = on_offer },
	[VMBUS_MSG_RESCIND_CHANNELOFFER] = { .fn = on_rescind },
	[VMBUS_MSG_ALLOFFERS_DELIVERED] =
		VMBUS_CONN_WAKE(struct vmbus_bus, offers_done),
	[VMBUS_MSG_OPENCHANNEL_RESULT] = { .fn = on_open_result },
	[VMBUS_MSG_GPADL_CREATED] = { .fn = on_gpadl_created },
	[VMBUS_MSG_GPADL_TORNDOWN] = { .fn = on_gpadl_torndown },
	[VMBUS_MSG_UNLOAD_RESPONSE] =
		VMBUS_CONN_WAKE(struct vmbus_bus, unloaded),
	[VMBUS_MSG_PEER_GPADL_HEADER] = { .fn = on_peer_gpadl_header },
	[VMBUS_MSG_PEER_GPADL_BODY] = { .fn = on_peer_gpadl_body },
	[VMBUS_MSG_PEER_OPEN] = { .fn = on_peer_open },
};

static void bus_unexpected(void *owner, uint32_t t)
{
	(void)owner;
	vmbus_log(LOG_WARNING, "ignoring unexpected %s",
		  vmbus_msg_name(t) ?: "message");
}

static void bus_handled(void *owner, const struct vmbus_conn_row *row,
			const struct vmbus_msg *m, int rc)
{
	(void)owner;
	(void)row;
	if (rc < 0)
		vmbus_log(LOG_WARNING, "failed to handle %s (%s)",
			  vmbus_msg_name(m->u.hdr.msgtype), strerror(-rc));
}

static void bus_work_cb(void *owner)
{
	bus_work(owner);
}

static bool bus_up(const void *owner)
{
	const struct vmbus_bus *bus = owner;

	return bus->link == LINK_UP;
}

static const struct vmbus_conn_ops client_conn = {
	.rows = client_msgs,
	.dir = VMBUS_MSG_DIR_S2C,
	.txq_max = BUS_TXQ_MAX,
	.work = bus_work_cb,
	.up = bus_up,
	.unexpected = bus_unexpected,
	.done = bus_handled,
};

static int bus_dispatch(struct vmbus_bus *bus)
{
	int rc;

	if (!bus->conn.evt.xce)
		return 0;
	vmbus_evt_ack(&bus->conn.evt);
	rc = vmbus_conn_flush(&bus->conn);
	if (rc < 0) {
		vmbus_log(LOG_ERR, "failed to send queued control messages to "
			  "\"%s\" (%s)", bus->fe, strerror(-rc));
		return rc;
	}
	rc = vmbus_conn_dispatch(&bus->conn, NULL);
	if (rc < 0)
		vmbus_log(LOG_ERR, "control ring of \"%s\" is broken (%s)",
			  bus->fe, strerror(-rc));
	return rc;
}

/* --- connecting the bus --- */

/* Let the bus fd follow the control port too (or no longer). */
static int bus_watch_evt(struct vmbus_bus *bus, int op)
{
	struct epoll_event ev = { .events = EPOLLIN };

	ev.data.fd = vmbus_evt_fd(&bus->conn.evt);
	if (epoll_ctl(bus->epfd, op, ev.data.fd, &ev) < 0 && op == EPOLL_CTL_ADD) {
		int err = errno;

		vmbus_log(LOG_ERR, "failed to watch the control port of \"%s\" "
			  "(%s)", bus->fe, strerror(err));
		return -err;
	}
	return 0;
}

/* Ungrant the control rings and the liveness page, unbind the port. */
static void bus_disconnect(struct vmbus_bus *bus)
{
	char path[160];

	/* Our unmap notification fires here: the backend learns we left. */
	if (bus->live) {
		xengntshr_unshare(bus->conn.gs, bus->live, 1);
		/* A later backend must not take the ref for a live one. */
		snprintf(path, sizeof(path), "%s/%s", bus->fe,
			 VMBUS_XS_LIVENESS_REF);
		xs_rm(bus->xs, XBT_NULL, path);
	}
	bus->live = NULL;
	bus->be_armed = false;
	if (bus->conn.evt.xce)
		bus_watch_evt(bus, EPOLL_CTL_DEL);
	vmbus_evt_close(&bus->conn.evt);
	/* What waited for room speaks of this connection only. */
	vmbus_ctlq_clear(&bus->conn.txq);
	/* A page the backend still maps stays its own until it unmaps. */
	if (bus->ctl_mem)
		xengntshr_unshare(bus->conn.gs, bus->ctl_mem, bus->ctl_pages);
	bus->ctl_mem = NULL;
}

static int bus_connect_rings(struct vmbus_bus *bus)
{
	uint32_t refs[1u << VMBUS_XS_DEFAULT_MAX_RING_PAGE_ORDER], lref;
	unsigned long max_order = VMBUS_XS_MIN_RING_PAGE_ORDER;
	uint32_t order, i, half;
	size_t hsize;
	char key[32];
	int rc;

	/* Absent means the minimum, as for other PV devices. */
	rc = vmbus_xs_read_uint(bus->xs, bus->be, VMBUS_XS_MAX_RING_PAGE_ORDER,
				16, &max_order);
	if (rc < 0)
		max_order = VMBUS_XS_MIN_RING_PAGE_ORDER;
	order = max_order < BUS_CTL_ORDER ? (uint32_t)max_order : BUS_CTL_ORDER;
	if (order < VMBUS_XS_MIN_RING_PAGE_ORDER) {
		vmbus_log(LOG_ERR, "backend \"%s\" maps only order %lu rings",
			  bus->be, max_order);
		return -ENOTSUP;
	}
	bus->ctl_pages = 1u << order;
	half = bus->ctl_pages / 2;
	hsize = (size_t)half * VMBUS_GRANT_PAGE_SIZE;
	bus->ctl_mem = xengntshr_share_pages(bus->conn.gs, bus->conn.domid,
					     (int)bus->ctl_pages, refs, 1);
	if (!bus->ctl_mem) {
		rc = -(errno ? errno : ENOMEM);
		vmbus_log(LOG_ERR, "failed to grant %u control ring pages to "
			  "domain %u (%s)", bus->ctl_pages, bus->conn.domid,
			  strerror(-rc));
		return rc;
	}
	memset(bus->ctl_mem, 0, hsize * 2);
	vmbus_ring_hdr_init(bus->ctl_mem, hsize, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	vmbus_ring_hdr_init((uint8_t *)bus->ctl_mem + hsize, hsize,
			    VMBUS_RING_FEAT_PENDING_SEND_SZ);
	rc = vmbus_evt_open(&bus->conn.evt);
	if (rc)
		return rc;
	rc = xenevtchn_bind_unbound_port(bus->conn.evt.xce, bus->conn.domid);
	if (rc < 0) {
		rc = -(errno ? errno : EIO);
		vmbus_log(LOG_ERR, "failed to allocate an event channel for "
			  "domain %u (%s)", bus->conn.domid, strerror(-rc));
		return rc;
	}
	bus->conn.evt.local = rc;
	rc = bus_watch_evt(bus, EPOLL_CTL_ADD);
	if (rc)
		return rc;
	rc = vmbus_ring_init(&bus->conn.ring, bus->ctl_mem, hsize,
			     (uint8_t *)bus->ctl_mem + hsize, hsize,
			     vmbus_evt_signal, &bus->conn.evt);
	if (rc)
		return rc;
	/* Cleared, and the port signalled, when we let go or die. */
	bus->live = xengntshr_share_page_notify(bus->conn.gs, bus->conn.domid,
						&lref, 1,
						VMBUS_LIVENESS_FRONTEND,
						(evtchn_port_t)bus->conn.evt.local);
	if (!bus->live) {
		rc = -(errno ? errno : ENOMEM);
		vmbus_log(LOG_ERR, "failed to grant the liveness page to "
			  "domain %u (%s)", bus->conn.domid, strerror(-rc));
		return rc;
	}
	memset(bus->live, 0, VMBUS_GRANT_PAGE_SIZE);
	__atomic_store_n((uint8_t *)bus->live + VMBUS_LIVENESS_FRONTEND, 1,
			 __ATOMIC_RELEASE);

	rc = vmbus_xs_printf(bus->xs, bus->fe, VMBUS_XS_RING_PAGE_ORDER, "%u",
			     order);
	for (i = 0; !rc && i < bus->ctl_pages; i++) {
		snprintf(key, sizeof(key), VMBUS_XS_RING_REF_FMT, i);
		rc = vmbus_xs_printf(bus->xs, bus->fe, key, "%u", refs[i]);
	}
	if (!rc)
		rc = vmbus_xs_printf(bus->xs, bus->fe, VMBUS_XS_EVENT_CHANNEL,
				     "%d", bus->conn.evt.local);
	if (!rc)
		rc = vmbus_xs_printf(bus->xs, bus->fe, VMBUS_XS_LIVENESS_REF,
				     "%u", lref);
	if (!rc)
		rc = vmbus_xs_printf(bus->xs, bus->fe, VMBUS_XS_VERSION,
				     VMBUS_XS_VERSION_FMT,
				     VMBUS_VERSION_MAJOR(bus_versions[0]),
				     VMBUS_VERSION_MINOR(bus_versions[0]));
	return rc;
}

static int bus_send_contact(struct vmbus_bus *bus)
{
	struct vmbus_msg m;
	unsigned int i;

	vmbus_msg_init(&m, VMBUS_MSG_INITIATE_CONTACT);
	m.u.initiate_contact.version_requested = bus_versions[0];
	m.u.initiate_contact.version_count = BUS_NVERSIONS;
	for (i = 0; i < BUS_NVERSIONS; i++)
		m.u.initiate_contact.versions[i] = bus_versions[i];
	return bus_send(bus, &m);
}

/* Is the channel one of this connection's (not an earlier one's)? */
static bool bus_chan_current(const struct vmbus_bus *bus,
			     const struct vmbus_chan *c)
{
	const struct vmbus_chan *i;

	for (i = bus->chans; i; i = i->next)
		if (i == c)
			return true;
	return false;
}

/*
 * The backend went away: everything of this connection ends.  Channels
 * stay their owners' until closed, failing with -ENOTCONN; offers are
 * rescinded; a new connection starts at Initialising.
 */
static void bus_down(struct vmbus_bus *bus, const char *why)
{
	struct vmbus_chan *c;
	unsigned int i;
	bool attached;

	bus->be_gone = true;
	if (bus->closing || bus->opening) {
		/* Nothing to come back for: the caller ends. */
		if (bus->link != LINK_DEAD) {
			bus->link = LINK_DEAD;
			bus->link_err = -ENOTCONN;
		}
		return;
	}
	attached = bus_attached(bus);
	if (attached)
		vmbus_log(LOG_WARNING, "backend \"%s\" went away (%s): its "
			  "channels fail, the bus reconnects when it is back",
			  bus->be, why);
	else
		vmbus_log(LOG_WARNING, "the bus \"%s\" was detached: its "
			  "channels fail", bus->fe);
	while ((c = bus->chans)) {
		bus->chans = c->next;
		if (chan_may_reopen(c)) {
			chan_reopen_wait(bus, c);
			continue;
		}
		/* A re-open that failed: what it sent went with the server. */
		c->reopen = REOPEN_NONE;
		if (c->state == CHAN_OPENING)
			c->open_status = -ENOTCONN;
		c->state = CHAN_FAILED;
		/* Nothing of it is the server's any more: nothing to tear down. */
		c->gpadl_done = true;
		c->gpadl_status = -ENOTCONN;
		vmbus_xfer_bus_lost(c);
		c->next = bus->stale;
		bus->stale = c;
	}
	for (i = 0; i < bus->noffers; i++) {
		if (bus->offers[i].pub.rescinded)
			continue;
		bus->offers[i].pub.rescinded = true;
		if (bus->offer_cb)
			bus->offer_cb(bus, &bus->offers[i].pub, bus->offer_arg);
	}
	bus->noffers = 0;
	bus->version = 0;
	bus->version_done = false;
	bus->version_status = 0;
	bus->offers_done = false;
	bus->unloaded = false;
	if (bus->asmbuf)
		vmbus_gpadl_asm_init(&bus->gasm, bus->asmbuf,
				     VMBUS_GPADL_MAX_BUFLEN);
	/* Initialising first: the backend then sees a restart, not a death. */
	if (attached)
		bus_set_state(bus, XB_INITIALISING);
	bus_disconnect(bus);
	bus->link = attached ? LINK_DOWN : LINK_DEAD;
	bus->link_err = -ENODEV;
}

/* A step of the connection failed with @err: retry, or give up. */
static void bus_fail(struct vmbus_bus *bus, int err, const char *what)
{
	if (bus->opening || bus->closing ||
	    ++bus->retries > BUS_MAX_RETRIES) {
		if (!bus->opening)
			vmbus_log(LOG_ERR, "gave up connecting \"%s\": %s (%s)",
				  bus->fe, what, strerror(-err));
		bus->link = LINK_DEAD;
		bus->link_err = err;
		if (bus_attached(bus))
			bus_set_state(bus, XB_CLOSED);
		return;
	}
	bus_down(bus, what);
}

/* The backend's end of the liveness page: has it let go? */
static bool bus_backend_died(const struct vmbus_bus *bus)
{
	return bus->be_armed &&
	       !__atomic_load_n((const uint8_t *)bus->live +
				VMBUS_LIVENESS_BACKEND, __ATOMIC_ACQUIRE);
}

/* One row of the table at the top of this file; true if the link moved. */
static bool bus_step_once(struct vmbus_bus *bus)
{
	enum bus_link was = bus->link;
	struct vmbus_msg m;
	int be = bus->be_state, rc;

	switch (bus->link) {
	case LINK_DOWN:
		if (be != XB_INITWAIT)
			break;
		rc = bus_connect_rings(bus);
		if (!rc)
			rc = bus_set_state(bus, XB_INITIALISED);
		if (rc) {
			bus_fail(bus, rc, "failed to publish the control rings");
			break;
		}
		bus->link = LINK_WAIT_CONNECTED;
		break;
	case LINK_WAIT_CONNECTED:
		if (be == XB_INITWAIT || be == XB_INITIALISED)
			break;
		if (be != XB_CONNECTED) {
			bus_fail(bus, -ECONNREFUSED, "the backend did not connect");
			break;
		}
		bus->be_armed = bus->live &&
			__atomic_load_n((const uint8_t *)bus->live +
					VMBUS_LIVENESS_BACKEND,
					__ATOMIC_ACQUIRE) != 0;
		rc = bus_set_state(bus, XB_CONNECTED);
		if (!rc)
			rc = bus_send_contact(bus);
		if (rc) {
			bus_fail(bus, rc, "failed to contact the backend");
			break;
		}
		bus->link = LINK_NEGOTIATING;
		break;
	case LINK_NEGOTIATING:
	case LINK_OFFERS:
	case LINK_UP:
		if (be != XB_CONNECTED) {
			bus_down(bus, be == XB_UNKNOWN ? "its state is gone" :
				 vmbus_xb_state_name(be));
			break;
		}
		if (bus_backend_died(bus)) {
			bus_down(bus, "its process ended");
			break;
		}
		if (bus->link == LINK_NEGOTIATING && bus->version_done) {
			if (bus->version_status) {
				/* A backend that refuses us does so again. */
				bus->retries = BUS_MAX_RETRIES;
				bus_fail(bus, bus->version_status,
					 "no common bus version");
				break;
			}
			vmbus_msg_init(&m, VMBUS_MSG_REQUESTOFFERS);
			rc = bus_send(bus, &m);
			if (rc) {
				bus_fail(bus, rc, "failed to ask for offers");
				break;
			}
			bus->link = LINK_OFFERS;
		} else if (bus->link == LINK_OFFERS && bus->offers_done) {
			if (!bus->opening && bus->be_gone)
				vmbus_log(LOG_NOTICE, "bus \"%s\" is connected "
					  "again", bus->fe);
			bus->retries = 0;
			bus->be_gone = false;
			bus->link = LINK_UP;
		}
		break;
	case LINK_DEAD:
		break;
	}
	return bus->link != was;
}

/*
 * Handle what arrived: xenstore watches (the backend's state is read only
 * then), control messages, and the moves they allow.  Never blocks.
 * Returns the messages handled.
 */
static int bus_work(struct vmbus_bus *bus)
{
	int n = 0;

	if (vmbus_xs_drain_watches(bus->xs) > 0)
		bus->be_state = vmbus_xs_read_state(bus->xs, bus->be);
	if (bus->conn.evt.xce && bus->link != LINK_DEAD) {
		n = bus_dispatch(bus);
		if (n < 0) {
			bus_fail(bus, n, "its control ring is broken");
			n = 0;
		}
	}
	while (bus->link != LINK_DEAD && bus_step_once(bus))
		;
	bus_reopen_work(bus);
	return n;
}

int vmbus_bus_open(struct vmbus_bus **out, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : vmbus_now_ms() + timeout_ms;
	struct epoll_event ev = { .events = EPOLLIN };
	struct vmbus_bus *bus;
	unsigned long beid;
	char path[128], *be = NULL, wpath[160];
	unsigned int len = 0;
	int rc;

	*out = NULL;
	bus = calloc(1, sizeof(*bus));
	if (!bus)
		return -ENOMEM;
	bus->tfd = -1;
	bus->opening = true;
	snprintf(bus->fe, sizeof(bus->fe), VMBUS_XS_FRONTEND_FMT,
		 VMBUS_XS_DEVICE_ID);
	bus->epfd = epoll_create1(EPOLL_CLOEXEC);
	vmbus_conn_init(&bus->conn, &client_conn, bus, bus->epfd);
	bus->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	bus->xs = xs_open(0);
	bus->conn.gs = xengntshr_open(NULL, 0);
	if (bus->epfd < 0 || bus->tfd < 0 || !bus->xs || !bus->conn.gs) {
		rc = -(errno ? errno : EIO);
		vmbus_log(LOG_ERR, "failed to open %s (%s)",
			  bus->epfd < 0 ? "an epoll set" : bus->tfd < 0 ?
			  "a timer" : !bus->xs ? "xenstore" :
			  "the grant-sharing device", strerror(-rc));
		goto out;
	}
	/* The bus fd also wakes when a channel's re-open is due to give up. */
	ev.data.fd = bus->tfd;
	if (epoll_ctl(bus->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0) {
		rc = -errno;
		vmbus_log(LOG_ERR, "failed to watch the bus timer (%s)",
			  strerror(-rc));
		goto out;
	}
	ev.data.fd = xs_fileno(bus->xs);
	if (epoll_ctl(bus->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0) {
		rc = -errno;
		vmbus_log(LOG_ERR, "failed to watch the xenstore connection "
			  "(%s)", strerror(-rc));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", bus->fe, VMBUS_XS_BACKEND);
	be = xs_read(bus->xs, XBT_NULL, path, &len);
	if (!be || len == 0 || len >= sizeof(bus->be) || strlen(be) != len) {
		rc = be ? -EINVAL : -(errno ? errno : ENOENT);
		vmbus_log(LOG_ERR, "failed to read \"%s\" (%s): is the bus "
			  "attached to this domain?", path, strerror(-rc));
		goto out;
	}
	memcpy(bus->be, be, len + 1);
	rc = vmbus_xs_read_uint(bus->xs, bus->fe, VMBUS_XS_BACKEND_ID, 0x7fef,
				&beid);
	if (rc < 0) {
		vmbus_log(LOG_ERR, "failed to read \"%s/%s\" (%s)", bus->fe,
			  VMBUS_XS_BACKEND_ID, strerror(-rc));
		goto out;
	}
	bus->conn.domid = (unsigned int)beid;
	snprintf(wpath, sizeof(wpath), "%s/%s", bus->be, VMBUS_XS_STATE);
	if (!xs_watch(bus->xs, wpath, "be")) {
		rc = -(errno ? errno : EIO);
		vmbus_log(LOG_ERR, "failed to watch \"%s\" (%s)", wpath,
			  strerror(-rc));
		goto out;
	}

	bus->link = LINK_DOWN;
	rc = bus_set_state(bus, XB_INITIALISING);
	if (!rc) {
		bus->be_state = vmbus_xs_read_state(bus->xs, bus->be);
		bus_work(bus);
	}
	while (!rc && bus->link != LINK_UP && bus->link != LINK_DEAD)
		rc = bus_pump(bus, deadline);
	if (!rc && bus->link == LINK_DEAD)
		rc = bus->link_err;
	if (rc == -ETIMEDOUT)
		vmbus_log(LOG_ERR, "timed out connecting to backend \"%s\" "
			  "(%s; it is %s)", bus->be,
			  bus->link == LINK_DOWN ? "waiting for InitWait" :
			  bus->link == LINK_WAIT_CONNECTED ?
			  "waiting for Connected" : "negotiating",
			  vmbus_xb_state_name(bus->be_state));
	bus->opening = false;
	if (!rc)
		*out = bus;
out:
	free(be);
	if (rc) {
		vmbus_bus_close(bus);
		return rc;
	}
	return 0;
}

void vmbus_bus_close(struct vmbus_bus *bus)
{
	int64_t deadline = vmbus_now_ms() + 2000;
	struct vmbus_msg m;

	if (!bus)
		return;
	bus->closing = true;
	while (bus->chans)
		vmbus_chan_close(bus->chans);
	while (bus->stale)
		vmbus_chan_close(bus->stale);
	while (bus->reopen)
		vmbus_chan_close(bus->reopen);
	if (bus->version_done && bus->link != LINK_DEAD &&
	    bus->link != LINK_DOWN) {
		vmbus_msg_init(&m, VMBUS_MSG_UNLOAD);
		if (bus_send(bus, &m) == 0)
			while (!bus->unloaded && bus->link != LINK_DEAD &&
			       bus_pump(bus, deadline) == 0)
				;
	}
	if (bus->xs && bus->be[0] && bus_attached(bus)) {
		bus_set_state(bus, XB_CLOSED);
		/* Give a backend that maps our pages the chance to unmap. */
		if (bus->ctl_mem && !bus->be_gone)
			bus_wait_backend(bus, XB_CLOSED, false, deadline);
	}
	bus_disconnect(bus);
	if (bus->conn.gs)
		xengntshr_close(bus->conn.gs);
	if (bus->gt)
		xengnttab_close(bus->gt);
	if (bus->xs)
		xs_close(bus->xs);
	if (bus->epfd >= 0)
		close(bus->epfd);
	if (bus->tfd >= 0)
		close(bus->tfd);
	free(bus->asmbuf);
	free(bus->offers);
	free(bus);
}

uint32_t vmbus_bus_version(const struct vmbus_bus *bus)
{
	return bus->version;
}

bool vmbus_bus_connected(const struct vmbus_bus *bus)
{
	return bus->link == LINK_UP;
}

int vmbus_bus_fd(const struct vmbus_bus *bus)
{
	return bus->epfd;
}

int vmbus_bus_process(struct vmbus_bus *bus)
{
	int n = bus_work(bus);

	return bus->link == LINK_UP ? n : -ENOTCONN;
}

int vmbus_bus_wait(struct vmbus_bus *bus, int timeout_ms)
{
	int rc = vmbus_poll_fd(bus->epfd, timeout_ms);

	if (rc < 0)
		return rc;
	return vmbus_bus_process(bus);
}

int vmbus_bus_offers(const struct vmbus_bus *bus, struct vmbus_offer *out,
		     unsigned int max)
{
	unsigned int i, n = 0;

	for (i = 0; i < bus->noffers; i++) {
		if (bus->offers[i].pub.rescinded)
			continue;
		if (n < max)
			out[n] = bus->offers[i].pub;
		n++;
	}
	return (int)n;
}

int vmbus_bus_find_pipe(const struct vmbus_bus *bus, const char *name,
			struct vmbus_offer *out)
{
	unsigned int i;

	for (i = 0; i < bus->noffers; i++) {
		const struct vmbus_offer *o = &bus->offers[i].pub;

		if (o->rescinded || !(o->flags & VMBUS_OFFER_FLAG_NAMED_PIPE))
			continue;
		if (strncmp((const char *)o->user_data + VMBUS_PIPE_NAME_OFFSET,
			    name, VMBUS_PIPE_NAME_MAX + 1) == 0) {
			*out = *o;
			return 0;
		}
	}
	return -ENOENT;
}

void vmbus_bus_set_offer_cb(struct vmbus_bus *bus, vmbus_offer_fn *fn,
			    void *arg)
{
	bus->offer_cb = fn;
	bus->offer_arg = arg;
}

/* --- channels --- */

static void bus_unlink(struct vmbus_bus *bus, struct vmbus_chan *c)
{
	struct vmbus_chan **pp;

	for (pp = &bus->chans; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			return;
		}
	for (pp = &bus->stale; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			return;
		}
	for (pp = &bus->reopen; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			return;
		}
}

/* Send the ring GPADL (a new id); GPADL_CREATED sets gpadl_done. */
static int chan_gpadl_send(struct vmbus_bus *bus, struct vmbus_chan *c,
			   const uint32_t *refs)
{
	c->gpadl_id = ++bus->conn.next_gpadl;
	c->gpadl_done = false;
	c->gpadl_status = 0;
	return vmbus_gpadl_announce(&bus->conn, c->relid, c->gpadl_id,
				    c->npages, refs, false);
}

/* Send the ring GPADL and wait for GPADL_CREATED. */
static int chan_send_gpadl(struct vmbus_bus *bus, struct vmbus_chan *c,
			   const uint32_t *refs, int64_t deadline)
{
	int rc = chan_gpadl_send(bus, c, refs);

	while (!rc && !c->gpadl_done)
		rc = bus_pump(bus, deadline);
	if (!rc && c->gpadl_status) {
		rc = c->gpadl_status;
		vmbus_log(LOG_ERR, "server refused the ring GPADL of channel "
			  "%u (%s)", c->relid, strerror(-rc));
	}
	return rc;
}

/*
 * OPENCHANNEL of rings we grant: the first half is our send ring.  The
 * acceptor of a channel to another guest grants nothing (no GPADL, port or
 * rings: all zero).
 */
static int chan_send_open(struct vmbus_bus *bus, struct vmbus_chan *c)
{
	struct vmbus_msg m;

	vmbus_msg_init(&m, VMBUS_MSG_OPENCHANNEL);
	m.u.open.child_relid = c->relid;
	m.u.open.open_id = c->open_id = ++bus->next_open;
	m.u.open.ring_gpadl = c->gpadl_id;
	m.u.open.downstream_page_offset = c->npages / 2;
	m.u.open.class_version = c->version;
	if (!c->peer_acceptor)
		m.u.open.event_channel = (uint32_t)c->evt.local;
	return bus_send(bus, &m);
}

/*
 * The acceptor of a channel to another guest: the peer grants the rings.
 * Say we are ready, and take them from PEER_OPEN, which comes once the
 * peer has asked too.
 */
static int chan_open_acceptor(struct vmbus_bus *bus, struct vmbus_chan *c)
{
	c->npages = 0;
	return chan_send_open(bus, c);
}

/* A new port of ours for c->peer_domid to bind. */
static int chan_bind(struct vmbus_chan *c)
{
	int rc = xenevtchn_bind_unbound_port(c->evt.xce, c->peer_domid);

	if (rc < 0) {
		rc = -(errno ? errno : EIO);
		vmbus_log(LOG_ERR, "failed to allocate an event channel for "
			  "channel %u (%s)", c->relid, strerror(-rc));
		return rc;
	}
	c->evt.local = rc;
	return 0;
}

/* Empty rings in the pages we grant: the first half is our send ring. */
static int chan_rings_reset(struct vmbus_chan *c)
{
	size_t hsize = (size_t)(c->npages / 2) * VMBUS_GRANT_PAGE_SIZE;

	vmbus_ring_hdr_init(c->mem, hsize, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	vmbus_ring_hdr_init((uint8_t *)c->mem + hsize, hsize,
			    VMBUS_RING_FEAT_PENDING_SEND_SZ);
	return vmbus_ring_init(&c->ring, c->mem, hsize,
			       (uint8_t *)c->mem + hsize, hsize,
			       vmbus_evt_signal, &c->evt);
}

/*
 * Rings we grant, to c->peer_domid (the peer guest or the backend), with
 * a port of ours: their GPADL, then OPENCHANNEL.
 */
static int chan_open_opener(struct vmbus_bus *bus, struct vmbus_chan *c,
			    uint32_t *refs, int64_t deadline)
{
	size_t hsize = (size_t)(c->npages / 2) * VMBUS_GRANT_PAGE_SIZE;
	int rc;

	rc = vmbus_evt_open(&c->evt);
	if (!rc)
		rc = chan_bind(c);
	if (rc)
		return rc;
	c->mem = xengntshr_share_pages(bus->conn.gs, c->peer_domid,
				       (int)c->npages, refs, 1);
	if (!c->mem) {
		rc = -(errno ? errno : ENOMEM);
		vmbus_log(LOG_ERR, "failed to grant %u ring pages of channel "
			  "%u to domain %u (%s)", c->npages, c->relid,
			  c->peer_domid, strerror(-rc));
		return rc;
	}
	memset(c->mem, 0, 2 * hsize);
	rc = chan_rings_reset(c);
	if (rc)
		return rc;
	rc = chan_send_gpadl(bus, c, refs, deadline);
	return rc ? rc : chan_send_open(bus, c);
}

/* Either end: wait for OPENCHANNEL_RESULT (a peer channel: both asked). */
static int chan_open_wait(struct vmbus_bus *bus, struct vmbus_chan *c,
			  int64_t deadline)
{
	int rc = 0;

	while (!rc && c->state == CHAN_OPENING)
		rc = bus_pump(bus, deadline);
	if (!rc && c->state != CHAN_OPEN) {
		rc = c->open_status ? c->open_status : -ECONNREFUSED;
		vmbus_log(LOG_ERR, "server refused to open channel %u (%s)",
			  c->relid, strerror(-rc));
	}
	if (rc == -ETIMEDOUT && c->peer)
		vmbus_log(LOG_ERR, "timed out waiting for domain %u to open "
			  "its end of channel %u", c->peer_domid, c->relid);
	return rc;
}

int vmbus_chan_open(struct vmbus_bus *bus, uint32_t relid,
		    uint32_t ring_pages, uint16_t class_major, int timeout_ms,
		    struct vmbus_chan **out)
{
	int64_t deadline = timeout_ms < 0 ? -1 : vmbus_now_ms() + timeout_ms;
	struct vmbus_version_cap cap = {
		.version = VMBUS_VERSION(class_major, 0xffff), .need_minor = 0,
	};
	struct bus_offer *off = bus_offer(bus, relid);
	struct vmbus_chan *c = NULL;
	uint32_t *refs = NULL, version;
	int rc;

	*out = NULL;
	if (bus->link != LINK_UP)
		return -ENOTCONN;
	if (!off || off->pub.rescinded)
		return -ENOENT;
	if (bus_chan(bus, relid))
		return -EBUSY;
	if (ring_pages < CHAN_MIN_RING_PAGES ||
	    ring_pages > CHAN_MAX_RING_PAGES)
		return -EINVAL;
	rc = vmbus_version_choose(off->pub.versions, off->pub.nversions, &cap, 1,
				  &version);
	if (rc < 0) {
		vmbus_log(LOG_ERR, "channel %u offers no class version of "
			  "major %u", relid, class_major);
		return rc;
	}
	c = vmbus_chan_alloc();
	refs = calloc(2 * ring_pages, sizeof(*refs));
	if (!c || !refs) {
		rc = -ENOMEM;
		goto fail;
	}
	c->bus = bus;
	c->conn = &bus->conn;
	c->relid = relid;
	c->version = version;
	c->state = CHAN_OPENING;
	memcpy(c->if_type, off->pub.type, 16);
	memcpy(c->if_instance, off->pub.instance, 16);
	c->offer_flags = off->pub.flags;
	c->npages = 2 * ring_pages;
	c->peer_domid = bus->conn.domid;
	c->next = bus->chans;
	bus->chans = c;
	if (off->peer_flags & VMBUS_OFFER_PEER_VALID) {
		c->peer = true;
		c->peer_domid = off->peer_domid;
		c->peer_acceptor = !(off->peer_flags & VMBUS_OFFER_PEER_OPENER);
	}
	rc = c->peer_acceptor ? chan_open_acceptor(bus, c) :
	     chan_open_opener(bus, c, refs, deadline);
	if (!rc)
		rc = chan_open_wait(bus, c, deadline);
	if (rc)
		goto fail;
	/* Kept to share the same rings again if the library re-opens it. */
	if (!c->peer_acceptor) {
		c->ring_refs = refs;
		refs = NULL;
	}
	free(refs);
	*out = c;
	return 0;
fail:
	free(refs);
	if (c) {
		if (c->state == CHAN_OPENING)
			c->state = CHAN_FAILED;
		vmbus_chan_close(c);
	}
	return rc;
}

int vmbus_chan_close(struct vmbus_chan *c)
{
	struct vmbus_bus *bus = c->bus;
	int64_t deadline = vmbus_now_ms() + 2000;
	struct bus_offer *off;
	struct vmbus_msg m;
	bool live, reopened = false;
	int rc = 0;

	if (!bus)		/* the server's channels go with the server */
		return -EINVAL;
	/* A channel of an earlier connection: the server knows nothing of it. */
	live = bus->link == LINK_UP && bus_chan_current(bus, c);
	/*
	 * A re-open under way: let the server answer what it was sent, so
	 * that it is undone below (no more steps: it is closing).
	 */
	if (c->state == CHAN_REOPENING && live) {
		c->state = CHAN_CLOSED;
		while (((c->reopen == REOPEN_GPADL && !c->gpadl_done) ||
			c->reopen == REOPEN_OPEN) && bus->link == LINK_UP &&
		       bus_pump(bus, deadline) == 0)
			;
		live = bus->link == LINK_UP;
		reopened = c->reopen == REOPEN_RESULT && !c->open_status;
	}
	/*
	 * A pending open to another guest is withdrawn the same way, and so
	 * is a re-open whose OPENCHANNEL was never answered.
	 */
	if ((c->state == CHAN_OPEN || (c->state == CHAN_OPENING && c->peer) ||
	     reopened || c->reopen == REOPEN_OPEN) && live) {
		vmbus_msg_init(&m, VMBUS_MSG_CLOSECHANNEL);
		m.u.relid.child_relid = c->relid;
		rc = bus_send(bus, &m);
	}
	c->state = CHAN_CLOSED;
	c->reopen = REOPEN_NONE;
	/* After CLOSECHANNEL: the server has let go of what it held. */
	vmbus_xfer_chan_closing(c);
	if (c->gpadl_id && c->gpadl_done && !c->gpadl_status && live) {
		c->gpadl_done = false;
		if (vmbus_gpadl_teardown(&bus->conn, c->relid,
					 c->gpadl_id) == 0)
			while (!c->gpadl_done && bus->link == LINK_UP &&
			       bus_pump(bus, deadline) == 0)
				;
	}
	off = bus_offer(bus, c->relid);
	if (c->rescinded && off && live) {
		vmbus_msg_init(&m, VMBUS_MSG_RELID_RELEASED);
		m.u.relid.child_relid = c->relid;
		bus_send(bus, &m);
		*off = bus->offers[--bus->noffers];
	}
	bus_unlink(bus, c);
	if (c->peer_acceptor) {
		/* The peer's pages: unmapping lets it (or its remains) go. */
		peer_unmap(bus, c);
		free(c->peer_grefs);
	}
	vmbus_evt_close(&c->evt);
	/*
	 * Access ends now; a page still mapped by the server (or the peer
	 * guest) stays its own until it unmaps.
	 */
	if (c->mem)
		xengntshr_unshare(bus->conn.gs, c->mem, c->npages);
	vmbus_xfer_release(c);
	vmbus_chan_free(c);
	return rc;
}

int vmbus_chan_wait(struct vmbus_chan *c, int timeout_ms)
{
	struct pollfd p[2];
	nfds_t n = 0;
	int rc;

	p[n++] = (struct pollfd){ .fd = vmbus_evt_fd(&c->evt), .events = POLLIN };
	if (c->bus)
		p[n++] = (struct pollfd){ .fd = c->bus->epfd, .events = POLLIN };
	rc = vmbus_poll(p, n, timeout_ms);
	if (rc < 0)
		return rc;
	if (c->bus && (p[1].revents & POLLIN))
		bus_work(c->bus);
	if (p[0].revents & POLLIN)
		vmbus_evt_ack(&c->evt);
	/* Its bus went away: nothing will come. */
	if (c->bus && c->state == CHAN_FAILED)
		return -ENOTCONN;
	return 0;
}

/* --- re-opening channels after a reconnect --- */

/*
 * A channel whose offer allows it and whose application asked is opened
 * again on the next server's offer of the same type and instance, as rows
 * (reopen, what is seen) -> action, reopen:
 *   WAIT_OFFER  the bus up again and the offer there: new relid, rings
 *               emptied, a new port, the same grants in a new GPADL
 *                                                          -> GPADL
 *   GPADL       GPADL_CREATED              OPENCHANNEL     -> OPEN
 *   OPEN        OPENCHANNEL_RESULT                         -> RESULT
 *   RESULT      success                    open again, report 0
 *                                                          -> NONE
 *   any         refused, rescinded, the deadline, the bus given up:
 *               fail (-ENOTCONN from now on), report why   -> NONE
 *   any         the bus goes away again    (same deadline) -> WAIT_OFFER
 * While it waits for its offer the channel is on bus->reopen, where no
 * relid of the new connection can name it; from GPADL on, on bus->chans.
 * The timer makes the bus fd readable at the first deadline.
 */
static bool chan_may_reopen(const struct vmbus_chan *c)
{
	return c->reopen_ms > 0 && !vmbus_chan_ended(c) &&
	       (c->state == CHAN_OPEN || c->state == CHAN_REOPENING);
}

/* The bus went away under @c (taken off bus->chans): wait for the offer. */
static void chan_reopen_wait(struct vmbus_bus *bus, struct vmbus_chan *c)
{
	/* The server's part of them went with it; the handles stay. */
	unsigned int lost = vmbus_xfer_bus_lost(c);

	if (c->state == CHAN_OPEN) {
		c->reopen_deadline = vmbus_now_ms() + c->reopen_ms;
		c->reopen_status = -EINPROGRESS;
		c->reopen_report = true;
		vmbus_log(LOG_NOTICE, "channel %u is opened again when its "
			  "offer is back (for %d ms); its rings only: %u data "
			  "GPADL(s) are gone", c->relid, c->reopen_ms, lost);
	}
	c->state = CHAN_REOPENING;
	c->reopen = REOPEN_WAIT_OFFER;
	/* Nothing of it is the server's any more: nothing to tear down. */
	c->gpadl_id = 0;
	c->gpadl_done = false;
	c->gpadl_status = 0;
	c->open_status = 0;
	/* The port was the dead server's; a new one goes with OPENCHANNEL. */
	if (c->evt.xce && c->evt.local >= 0)
		xenevtchn_unbind(c->evt.xce, (evtchn_port_t)c->evt.local);
	c->evt.local = -1;
	c->next = bus->reopen;
	bus->reopen = c;
}

/* Give up re-opening @c: it fails as a channel not re-opened does. */
static void chan_reopen_fail(struct vmbus_bus *bus, struct vmbus_chan *c,
			     int err)
{
	vmbus_log(LOG_WARNING, "gave up opening channel %u again (%s)",
		  c->relid, strerror(-err));
	if (c->reopen == REOPEN_WAIT_OFFER) {
		bus_unlink(bus, c);
		c->gpadl_done = true;
		c->gpadl_status = -ENOTCONN;
		c->next = bus->stale;
		bus->stale = c;
	}
	/*
	 * On bus->chans it stays this connection's: closing it tears down its
	 * GPADL, and withdraws an OPENCHANNEL never answered (reopen OPEN).
	 */
	if (c->reopen != REOPEN_OPEN)
		c->reopen = REOPEN_NONE;
	c->state = CHAN_FAILED;
	c->reopen_status = err;
	c->reopen_report = true;
}

/* The new offer of @c's type and instance not taken by another channel. */
static struct bus_offer *chan_offer_again(struct vmbus_bus *bus,
					  const struct vmbus_chan *c)
{
	struct bus_offer *o;
	unsigned int i;

	for (i = 0; i < bus->noffers; i++) {
		o = &bus->offers[i];
		if (!o->pub.rescinded &&
		    !memcmp(o->pub.type, c->if_type, 16) &&
		    !memcmp(o->pub.instance, c->if_instance, 16) &&
		    !bus_chan(bus, o->pub.relid))
			return o;
	}
	return NULL;
}

/* WAIT_OFFER -> GPADL: the same rings, empty, and a new port. */
static int chan_reopen_start(struct vmbus_bus *bus, struct vmbus_chan *c,
			     const struct bus_offer *off)
{
	unsigned int i;
	int rc;

	for (i = 0; i < off->pub.nversions; i++)
		if (off->pub.versions[i] == c->version)
			break;
	if (!(off->pub.flags & VMBUS_OFFER_FLAG_REOPEN))
		return -EOPNOTSUPP;
	if (i == off->pub.nversions)
		return -EPROTONOSUPPORT;
	bus_unlink(bus, c);
	c->relid = off->pub.relid;
	c->offer_flags = off->pub.flags;
	c->next = bus->chans;
	bus->chans = c;
	/* Whatever was in the rings went with the old server. */
	rc = chan_rings_reset(c);
	if (!rc)
		rc = chan_bind(c);
	if (rc)
		return rc;
	c->reopen = REOPEN_GPADL;
	return chan_gpadl_send(bus, c, c->ring_refs);
}

/* One row of the table above for @c; it may move @c between lists. */
static void chan_reopen_step(struct vmbus_bus *bus, struct vmbus_chan *c,
			     int64_t now)
{
	struct bus_offer *off;
	int rc;

	if (bus->link == LINK_DEAD || c->rescinded) {
		chan_reopen_fail(bus, c, -ENOTCONN);
		return;
	}
	switch (c->reopen) {
	case REOPEN_WAIT_OFFER:
		off = bus->link == LINK_UP ? chan_offer_again(bus, c) : NULL;
		if (off) {
			rc = chan_reopen_start(bus, c, off);
			if (rc)
				chan_reopen_fail(bus, c, rc);
			return;
		}
		break;
	case REOPEN_GPADL:
		if (!c->gpadl_done)
			break;
		rc = c->gpadl_status;
		if (!rc)
			rc = chan_send_open(bus, c);
		if (rc) {
			chan_reopen_fail(bus, c, rc);
			return;
		}
		c->reopen = REOPEN_OPEN;
		break;
	case REOPEN_RESULT:
		if (c->open_status) {
			chan_reopen_fail(bus, c, c->open_status);
			return;
		}
		c->state = CHAN_OPEN;
		c->reopen = REOPEN_NONE;
		c->reopens++;
		c->reopen_status = 0;
		c->reopen_report = true;
		vmbus_log(LOG_NOTICE, "channel %u is open again", c->relid);
		return;
	default:
		break;
	}
	if (now >= c->reopen_deadline)
		chan_reopen_fail(bus, c, -ETIMEDOUT);
}

/* Make the bus fd readable at the first deadline of a re-open, if any. */
static void bus_reopen_timer(struct vmbus_bus *bus)
{
	struct vmbus_chan *lists[2] = { bus->reopen, bus->chans }, *c;
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	int64_t first = -1, left;
	unsigned int i;

	for (i = 0; i < 2; i++)
		for (c = lists[i]; c; c = c->next)
			if (c->state == CHAN_REOPENING &&
			    (first < 0 || c->reopen_deadline < first))
				first = c->reopen_deadline;
	if (first < 0 && !bus->tfd_armed)
		return;
	bus->tfd_armed = first >= 0;
	if (first >= 0) {
		left = first - vmbus_now_ms();
		if (left < 1)
			left = 1;
		its.it_value.tv_sec = left / 1000;
		its.it_value.tv_nsec = (left % 1000) * 1000000;
	}
	if (bus->tfd >= 0)
		timerfd_settime(bus->tfd, 0, &its, NULL);
}

/* The first channel with news for its application, or NULL. */
static struct vmbus_chan *bus_reopen_news(const struct vmbus_bus *bus)
{
	struct vmbus_chan *lists[3] = { bus->chans, bus->reopen, bus->stale };
	struct vmbus_chan *c;
	unsigned int i;

	for (i = 0; i < 3; i++)
		for (c = lists[i]; c; c = c->next)
			if (c->reopen_report)
				return c;
	return NULL;
}

/* Is any channel being re-opened, or was one a moment ago? */
static bool bus_reopening(const struct vmbus_bus *bus)
{
	const struct vmbus_chan *c;

	if (bus->reopen || bus->tfd_armed)
		return true;
	for (c = bus->chans; c; c = c->next)
		if (c->state == CHAN_REOPENING || c->reopen_report)
			return true;
	return false;
}

static void bus_reopen_work(struct vmbus_bus *bus)
{
	int64_t now = vmbus_now_ms();
	struct vmbus_chan *c, *next;
	uint64_t ticks;
	ssize_t got;

	if (!bus_reopening(bus))
		return;		/* the common case: no system call */
	/* Taken, so that the fd stops being readable (EAGAIN: not due). */
	if (bus->tfd >= 0) {
		got = read(bus->tfd, &ticks, sizeof(ticks));
		(void)got;
	}
	for (c = bus->reopen; c; c = next) {
		next = c->next;
		chan_reopen_step(bus, c, now);
	}
	for (c = bus->chans; c; c = c->next)
		if (c->state == CHAN_REOPENING)
			chan_reopen_step(bus, c, now);
	bus_reopen_timer(bus);
	/* Last, one at a time: a callback may close any channel. */
	while ((c = bus_reopen_news(bus))) {
		c->reopen_report = false;
		if (c->reopen_fn)
			c->reopen_fn(c, c->reopen_status, c->reopen_arg);
	}
}

int vmbus_chan_set_reopen(struct vmbus_chan *c, int timeout_ms,
			  vmbus_chan_reopen_fn *fn, void *arg)
{
	if (!c->bus || timeout_ms < 0)
		return -EINVAL;
	if (timeout_ms && (!(c->offer_flags & VMBUS_OFFER_FLAG_REOPEN) ||
			   c->peer || !c->ring_refs))
		return -EOPNOTSUPP;
	c->reopen_ms = timeout_ms;
	c->reopen_fn = fn;
	c->reopen_arg = arg;
	return 0;
}

/* --- channels to other guests (VMBUS_1.1) --- */

int vmbus_bus_offer_peer(const struct vmbus_bus *bus, uint32_t relid)
{
	const struct bus_offer *off = bus_offer(bus, relid);

	if (!off || off->pub.rescinded)
		return -ENOENT;
	return (off->peer_flags & VMBUS_OFFER_PEER_VALID) ?
	       (int)off->peer_domid : 0;
}

int vmbus_bus_offer_sub_index(const struct vmbus_bus *bus, uint32_t relid)
{
	const struct bus_offer *off = bus_offer(bus, relid);

	if (!off || off->pub.rescinded)
		return -ENOENT;
	return off->sub_index;
}

int vmbus_bus_tl_connect(struct vmbus_bus *bus, const uint8_t endpoint[16],
			 const uint8_t service[16])
{
	struct vmbus_msg m;

	vmbus_msg_init(&m, VMBUS_MSG_TL_CONNECT_REQUEST);
	memcpy(m.u.tl_connect.guest_endpoint_id.b, endpoint, 16);
	memcpy(m.u.tl_connect.host_service_id.b, service, 16);
	return bus->link != LINK_UP ? -ENOTCONN : bus_send(bus, &m);
}
