/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The server (dom0) end of one guest's bus: the backend's XenbusState
 * handshake, the control channel, offers, GPADLs mapped by grant, and
 * channels handed to a handler.
 *
 * Grant mappings are a host resource (dom0's maptrack table is shared with
 * blkback, netback and QEMU), so a GPADL is only a list of grant references
 * until something uses it: the rings of a channel being opened, or a data
 * GPADL an application or a transfer page set holds (vmbus_srv_gpadl_get).
 * It is unmapped again when that use ends.  Every mapping counts against
 * the guest's budget and the budget of the whole process (srv_map_grants);
 * a guest names each grant of a GPADL once, and only offers with
 * VMBUS_OFFER_FLAG_GPADLS take GPADLs besides their rings.
 *
 * The guest is hostile: every xenstore value is parsed strictly and
 * bounded, every message was checked by the codec (exact length, direction,
 * field sanity) before a handler sees it, rings are read through the core
 * (read once, then validated), and a misbehaving guest costs at most one
 * log line per kind of fault.  Handlers return negative errno; the one
 * place that turns it into a VMBus status is reply_status().
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

#include "private.h"

#define SRV_MAX_GPADLS		64
#define SRV_MAX_GPADL_GREFS	VMBUS_GPADL_MAX_PAGES
#define SRV_MAX_GPADL_RANGES	16
#define SRV_MAX_GPADL_ASM	4	/* GPADLs reassembled at once */
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

/* The largest range buffer taken: every range head and every grant. */
#define SRV_ASM_BUFSIZE	(SRV_MAX_GPADL_RANGES * \
			 sizeof(struct vmbus_gpa_range) + \
			 SRV_MAX_GPADL_GREFS * sizeof(vmbus_gref_t))
_Static_assert(SRV_ASM_BUFSIZE <= VMBUS_GPADL_MAX_BUFLEN,
	       "the largest GPADL taken fits range_buflen");

/*
 * The pages every server of this process has mapped, and their budget: a
 * daemon serving all guests is one process, and libvmbus is single-threaded.
 */
static uint32_t srv_host_mapped;
static uint32_t srv_host_limit = VMBUS_SERVER_HOST_MAPS_DEFAULT;

/*
 * Where one end of a channel between two guests stands.  Rows: (state,
 * event) -> next.
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
enum srv_peer_state {
	PEER_IDLE,
	PEER_WAITING,
	PEER_FORWARDED,
	PEER_OPEN,
};

struct srv_gpadl;

struct srv_offer {
	struct vmbus_offer_desc d;
	uint32_t relid;
	bool sent;
	bool rescinded;
	struct vmbus_chan *chan;
	struct srv_offer *next;
	/* A channel to another guest: the other end, in that guest's server. */
	struct vmbus_server *srv;
	struct srv_offer *peer;
	bool is_peer;			/* stays set once the pair is broken */
	bool opener;			/* this end's guest grants the rings */
	enum srv_peer_state pstate;
	uint32_t p_open_id;		/* of the pending OPENCHANNEL */
	uint32_t p_version;
	uint32_t p_port;		/* opener: its unbound port */
	uint32_t p_down;		/* opener: pages of its send ring */
	struct srv_gpadl *p_gpadl;	/* opener: its ring GPADL */
	uint32_t p_fwd_open_id;		/* acceptor: of the PEER_OPEN sent */
};

struct srv_gpadl {
	uint32_t id;
	uint32_t relid;
	unsigned int refs;		/* data GPADL: holds (xfer.c) */
	bool readonly;			/* granted read-only: data only */
	bool torn;			/* teardown asked while held */
	bool peer;			/* a peer channel's rings: never mapped */
	void *mem;			/* mapped while used, else NULL */
	uint32_t npages;
	struct vmbus_chan *chan;	/* the channel whose rings live here */
	uint32_t *grefs;		/* npages grants, each named once */
	struct srv_offer *peer_user;	/* the peer offer using them */
	struct srv_gpadl *next;
};

/* Kinds of guest faults, each logged once per domain. */
enum srv_fault {
	FAULT_XS,
	FAULT_MAP,
	FAULT_MSG,
	FAULT_RING,
	FAULT_GPADL,
	FAULT_OPEN,
	FAULT_BUDGET,
	FAULT_OVERSIZED,
	FAULT_STORM,
	FAULT_COUNT
};

/* One GPADL being reassembled, keyed by its id. */
struct srv_asm {
	struct vmbus_gpadl_asm a;
	uint8_t *buf;			/* NULL: slot free */
};

struct vmbus_server {
	unsigned int domid;
	char be[64];
	char fe[64];
	struct xs_handle *xs;
	xengnttab_handle *gt;
	int epfd;
	int state;			/* our XenbusState */
	struct vmbus_evt evt;
	struct vmbus_ring ctl;
	void *ctl_mem;
	uint32_t ctl_pages;
	void *live;			/* the frontend's liveness page */
	bool fe_armed;			/* the frontend set its byte */
	bool fe_gone_logged;		/* a guest can repeat it: say it once */
	bool contacted;
	bool offers_requested;
	uint32_t version;		/* bus version agreed */
	uint32_t next_peer_open;
	bool quiet;			/* resetting: send nothing more */
	struct srv_offer *offers;
	unsigned int noffers;
	uint32_t next_relid;
	struct srv_gpadl *gpadls;
	unsigned int ngpadls;
	struct srv_asm gasm[SRV_MAX_GPADL_ASM];
	uint32_t mapped;		/* pages of this guest mapped now */
	uint32_t map_limit;
	uint64_t map_refused;
	const struct vmbus_server_ops *ops;
	void *arg;
	unsigned int faults_logged;
	int wakefd;			/* readable: more control work waits */
	int throttle_fd;		/* timer: end of a storm's pause */
	bool throttled;			/* evt is out of the epoll set */
	unsigned int quiet_wakes;	/* wake-ups in a row with nothing to do */
	bool xs_dirty;			/* a watch fired: read the frontend */
	struct vmbus_ctlq txq;		/* control messages waiting for room */
	struct vmbus_server_work work;
	vmbus_tl_connect_fn *tl_connect;	/* hv_sock's TL_CONNECT_REQUEST */
	void *tl_arg;
};

static const struct vmbus_version_cap bus_caps[] = {
	{ .version = VMBUS_BUS_VERSION_1_1, .need_minor = 0 },
};

static void srv_peer_break(struct srv_offer *o);
static int srv_peer_cancel(struct srv_offer *o);

/* Log a guest-triggered fault at most once per domain and kind. */
static void srv_fault(struct vmbus_server *s, enum srv_fault kind,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void srv_fault(struct vmbus_server *s, enum srv_fault kind,
		      const char *fmt, ...)
{
	char buf[384];
	va_list ap;

	if (s->faults_logged & (1u << kind))
		return;
	s->faults_logged |= 1u << kind;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	vmbus_log(LOG_WARNING, "domain %u: %s (further faults of this kind "
		  "are not logged)", s->domid, buf);
}

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
static int srv_send(struct vmbus_server *s, struct vmbus_msg *m)
{
	int rc;

	if (s->quiet || !s->evt.xce)
		return -ENOTCONN;
	rc = vmbus_ctlq_send(&s->ctl, &s->txq, m, SRV_TXQ_MAX);
	if (s->txq.len > s->work.ctl_queue_peak)
		s->work.ctl_queue_peak = s->txq.len;
	if (rc < 0)
		srv_fault(s, FAULT_RING, "failed to send %s (%s)",
			  vmbus_msg_name(m->u.hdr.msgtype) ?: "?",
			  strerror(-rc));
	return rc;
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
		srv_fault(s, FAULT_BUDGET, "refused to map %u more grants "
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

static struct srv_offer *srv_offer(struct vmbus_server *s, uint32_t relid)
{
	struct srv_offer *o;

	for (o = s->offers; o; o = o->next)
		if (o->relid == relid)
			return o;
	return NULL;
}

static void srv_offer_free(struct vmbus_server *s, struct srv_offer *o)
{
	struct srv_offer **pp;

	if (o->peer)
		srv_peer_break(o);
	for (pp = &s->offers; *pp; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			s->noffers--;
			free(o);
			return;
		}
}

static int srv_send_offer(struct vmbus_server *s, struct srv_offer *o)
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
	m.u.offer.class_version_count = o->d.nversions;
	memcpy(m.u.offer.class_versions, o->d.versions,
	       o->d.nversions * sizeof(uint32_t));
	rc = srv_send(s, &m);
	if (!rc)
		o->sent = true;
	return rc;
}

static void srv_gpadl_unmap(struct vmbus_server *s, struct srv_gpadl *g);

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
	for (g = s->gpadls; g; g = g->next)
		if (g->chan == c) {
			g->chan = NULL;
			rings = g;
		}
	o->chan = NULL;
	vmbus_chan_free(c);
	if (rings)
		srv_gpadl_unmap(s, rings);
}

static struct srv_gpadl *srv_gpadl(struct vmbus_server *s, uint32_t id)
{
	struct srv_gpadl *g;

	for (g = s->gpadls; g; g = g->next)
		if (g->id == id)
			return g;
	return NULL;
}

/* Map @g's grants if they are not yet: rings must be writable. */
static int srv_gpadl_map(struct vmbus_server *s, struct srv_gpadl *g,
			 bool rings)
{
	int rc;

	if (g->mem)
		return 0;
	g->mem = srv_map_grants(s, g->npages, g->grefs,
				PROT_READ | PROT_WRITE);
	if (!g->mem && errno != ENOSPC && !rings) {
		/* Granted read-only: a data buffer the server only reads. */
		g->mem = srv_map_grants(s, g->npages, g->grefs, PROT_READ);
		g->readonly = g->mem != NULL;
	}
	if (!g->mem) {
		rc = -(errno ? errno : EFAULT);
		if (rc != -ENOSPC)
			srv_fault(s, FAULT_MAP, "failed to map the %u grants of "
				  "GPADL %u (%s)", g->npages, g->id,
				  strerror(-rc));
		return rc;
	}
	return 0;
}

static void srv_gpadl_unmap(struct vmbus_server *s, struct srv_gpadl *g)
{
	if (!g->mem)
		return;
	srv_unmap_grants(s, g->mem, g->npages);
	g->mem = NULL;
	g->readonly = false;
}

static void srv_gpadl_free(struct vmbus_server *s, struct srv_gpadl *g)
{
	struct srv_gpadl **pp;
	struct srv_offer *o;

	for (o = s->offers; o; o = o->next)
		if (o->chan && o->chan == g->chan)
			srv_chan_close(s, o);
	if (g->peer_user) {
		struct srv_offer *po = g->peer_user;

		/* Rings still shared with the peer: the channel ends. */
		if (po->pstate >= PEER_FORWARDED)
			srv_peer_break(po);
		else
			srv_peer_cancel(po);
		g->peer_user = NULL;
	}
	for (pp = &s->gpadls; *pp; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	srv_gpadl_unmap(s, g);
	free(g->grefs);
	s->ngpadls--;
	free(g);
}

/* --- messages from the client --- */

static int do_initiate_contact(struct vmbus_server *s,
			       const struct vmbus_msg *m)
{
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

static int do_requestoffers(struct vmbus_server *s, const struct vmbus_msg *m)
{
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

/* GPADLs of offer @relid the guest created. */
static unsigned int srv_offer_ngpadls(struct vmbus_server *s, uint32_t relid)
{
	struct srv_gpadl *g;
	unsigned int n = 0;

	for (g = s->gpadls; g; g = g->next)
		n += g->relid == relid;
	return n;
}

/*
 * A complete GPADL for offer @o: parse and check it, and keep its grant
 * references.  Nothing is mapped here.  An offer without
 * VMBUS_OFFER_FLAG_GPADLS takes one GPADL, shaped as rings.
 */
static int srv_gpadl_take(struct vmbus_server *s, struct vmbus_gpadl_asm *a,
			  struct srv_offer *o, struct srv_gpadl *g)
{
	struct vmbus_gpa_desc ranges[SRV_MAX_GPADL_RANGES];
	vmbus_gref_t *grefs, *scratch = NULL;
	uint32_t nranges, ngrefs;
	bool data = (o->d.flags & VMBUS_OFFER_FLAG_GPADLS) && !o->is_peer;
	int rc;

	grefs = calloc(SRV_MAX_GPADL_GREFS, sizeof(*grefs));
	if (!grefs)
		return -ENOMEM;
	rc = vmbus_gpadl_asm_finish(a, ranges, SRV_MAX_GPADL_RANGES,
				    &nranges, grefs, SRV_MAX_GPADL_GREFS,
				    &ngrefs);
	if (rc < 0) {
		srv_fault(s, FAULT_GPADL, "malformed GPADL %u (%s)", g->id,
			  strerror(-rc));
		goto out;
	}
	if (o->is_peer) {
		/*
		 * Granted to the peer, not to us: check that it can be a ring
		 * pair (one page-aligned range of whole pages) and keep it.
		 */
		if (!vmbus_gpadl_is_peer_rings(ranges, nranges, ngrefs)) {
			rc = -EINVAL;
			srv_fault(s, FAULT_GPADL, "refused GPADL %u of a peer "
				  "channel: %u ranges, %u grants",
				  g->id, nranges, ngrefs);
			goto out;
		}
	} else if (!data && (nranges != 1 || ranges[0].byte_offset ||
			     ngrefs < 4 || ranges[0].byte_count !=
			     ngrefs * VMBUS_GRANT_PAGE_SIZE)) {
		rc = -EINVAL;
		srv_fault(s, FAULT_GPADL, "refused GPADL %u of channel %u: "
			  "not rings (%u ranges, %u grants), and the offer "
			  "takes no other", g->id, o->relid, nranges, ngrefs);
		goto out;
	}
	scratch = malloc(ngrefs * sizeof(*scratch));
	if (!scratch) {
		rc = -ENOMEM;
		goto out;
	}
	rc = vmbus_gpa_grefs_unique(grefs, ngrefs, scratch);
	if (rc) {
		srv_fault(s, FAULT_GPADL, "refused GPADL %u: it names a grant "
			  "twice", g->id);
		rc = -EINVAL;
		goto out;
	}
	g->grefs = malloc(ngrefs * sizeof(*g->grefs));
	if (!g->grefs) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(g->grefs, grefs, ngrefs * sizeof(*g->grefs));
	g->npages = ngrefs;
	g->peer = o->is_peer;
out:
	free(scratch);
	free(grefs);
	return rc;
}

static int srv_gpadl_created(struct vmbus_server *s, uint32_t relid,
			     uint32_t id, int err)
{
	struct vmbus_msg r;

	vmbus_msg_init(&r, VMBUS_MSG_GPADL_CREATED);
	r.u.gpadl_created.child_relid = relid;
	r.u.gpadl_created.gpadl_id = id;
	r.u.gpadl_created.status = vmbus_status_from_errno(err);
	return srv_send(s, &r);
}

/* The reassembly of GPADL @id, or NULL. */
static struct srv_asm *srv_asm_find(struct vmbus_server *s, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < SRV_MAX_GPADL_ASM; i++)
		if (s->gasm[i].buf && s->gasm[i].a.gpadl_id == id)
			return &s->gasm[i];
	return NULL;
}

static void srv_asm_free(struct srv_asm *a)
{
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

/* A complete GPADL: check the offer and the guest's limits, keep it. */
static int srv_gpadl_add(struct vmbus_server *s, struct srv_asm *a)
{
	uint32_t relid = a->a.child_relid, id = a->a.gpadl_id;
	struct srv_offer *o = srv_offer(s, relid);
	struct srv_gpadl *g;
	int rc;

	if (!o || o->rescinded)
		return -ENOENT;
	if (o->is_peer && !o->opener)
		return -EPROTO;	/* the acceptor maps; it never grants */
	if (srv_gpadl(s, id) || id == 0)
		return -EEXIST;
	if (s->ngpadls >= SRV_MAX_GPADLS) {
		srv_fault(s, FAULT_GPADL, "refused GPADL %u of channel %u: "
			  "%u GPADLs held", id, relid, s->ngpadls);
		return -ENOSPC;
	}
	if (!(o->d.flags & VMBUS_OFFER_FLAG_GPADLS) &&
	    srv_offer_ngpadls(s, relid)) {
		srv_fault(s, FAULT_GPADL, "refused GPADL %u of channel %u: "
			  "the offer takes its ring GPADL only", id, relid);
		return -ENOSPC;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->id = id;
	g->relid = relid;
	rc = srv_gpadl_take(s, &a->a, o, g);
	if (rc) {
		free(g->grefs);
		free(g);
		return rc;
	}
	g->next = s->gpadls;
	s->gpadls = g;
	s->ngpadls++;
	return 0;
}

/* 1: more bodies to come, 0: complete (and answered), <0: refused. */
static int srv_gpadl_step(struct vmbus_server *s, struct srv_asm *a,
			  uint32_t relid, uint32_t id, int asm_rc)
{
	int rc;

	if (asm_rc == 1)
		return 0;
	if (asm_rc < 0) {
		srv_fault(s, FAULT_GPADL, "refused a GPADL message (%s)",
			  strerror(-asm_rc));
		rc = asm_rc;
	} else {
		rc = srv_gpadl_add(s, a);
	}
	/* The slot is free again whatever happened. */
	srv_asm_free(a);
	return srv_gpadl_created(s, relid, id, rc);
}

/*
 * As on Hyper-V, the bodies of several GPADLs may interleave: each is
 * reassembled apart, by id, up to SRV_MAX_GPADL_ASM at once.
 */
static int do_gpadl_header(struct vmbus_server *s, const struct vmbus_msg *m)
{
	const struct vmbus_msg_gpadl_header *h = &m->u.gpadl_header;
	struct srv_asm *a = srv_asm_find(s, h->gpadl_id);
	unsigned int i;

	if (a) {
		/* The same id twice in flight: both are refused. */
		srv_asm_free(a);
		return srv_gpadl_created(s, h->child_relid, h->gpadl_id,
					 -EEXIST);
	}
	for (i = 0; i < SRV_MAX_GPADL_ASM && !a; i++)
		if (!s->gasm[i].buf)
			a = &s->gasm[i];
	if (!a) {
		srv_fault(s, FAULT_GPADL, "refused GPADL %u: %u in flight",
			  h->gpadl_id, SRV_MAX_GPADL_ASM);
		return srv_gpadl_created(s, h->child_relid, h->gpadl_id,
					 -ENOSPC);
	}
	a->buf = malloc(SRV_ASM_BUFSIZE);
	if (!a->buf)
		return srv_gpadl_created(s, h->child_relid, h->gpadl_id,
					 -ENOMEM);
	vmbus_gpadl_asm_init(&a->a, a->buf, SRV_ASM_BUFSIZE);
	a->a.gpadl_id = h->gpadl_id;	/* the key, even if refused below */
	return srv_gpadl_step(s, a, h->child_relid, h->gpadl_id,
			      vmbus_gpadl_asm_header(&a->a, m));
}

static int do_gpadl_body(struct vmbus_server *s, const struct vmbus_msg *m)
{
	struct srv_asm *a = srv_asm_find(s, m->u.gpadl_body.gpadl_id);

	/* Of no GPADL in flight: no channel to answer on. */
	if (!a)
		return -ENOENT;
	return srv_gpadl_step(s, a, a->a.child_relid, a->a.gpadl_id,
			      vmbus_gpadl_asm_body(&a->a, m));
}

static int do_gpadl_teardown(struct vmbus_server *s, const struct vmbus_msg *m)
{
	struct srv_gpadl *g = srv_gpadl(s, m->u.gpadl_teardown.gpadl_id);
	struct srv_asm *a = srv_asm_find(s, m->u.gpadl_teardown.gpadl_id);
	struct vmbus_msg r;

	if (a && a->a.child_relid == m->u.gpadl_teardown.child_relid) {
		/* Withdrawn before it was complete: nothing to answer. */
		srv_asm_free(a);
		return 0;
	}
	if (!g || g->relid != m->u.gpadl_teardown.child_relid)
		return -ENOENT;
	if (g->refs) {
		g->torn = true;	/* answered by the last vmbus_srv_gpadl_put */
		return 0;
	}
	srv_gpadl_free(s, g);
	vmbus_msg_init(&r, VMBUS_MSG_GPADL_TORNDOWN);
	r.u.gpadl_torndown.gpadl_id = m->u.gpadl_teardown.gpadl_id;
	return srv_send(s, &r);
}

/* Validate an OPENCHANNEL and build the channel; -errno refuses it. */
static int srv_open(struct vmbus_server *s, const struct vmbus_msg_open_channel *op,
		    struct srv_offer *o)
{
	struct vmbus_version_cap caps[8];
	struct vmbus_chan *c = NULL;
	struct srv_gpadl *g;
	uint32_t d, i;
	size_t down, up;
	int rc;

	if (!o || o->rescinded || !o->sent)
		return -ENOENT;
	if (o->chan)
		return -EBUSY;
	g = srv_gpadl(s, op->ring_gpadl);
	if (!g || g->relid != op->child_relid || g->chan || g->refs ||
	    g->peer)
		return -ENOENT;
	d = op->downstream_page_offset;
	if (!vmbus_gpadl_rings_split_ok(g->npages, d))
		return -EINVAL;
	for (i = 0; i < o->d.nversions; i++)
		caps[i] = (struct vmbus_version_cap){ o->d.versions[i], 0 };
	if (!vmbus_version_accept(op->class_version, o->d.versions,
				  o->d.nversions, caps, o->d.nversions))
		return -EPROTONOSUPPORT;
	/* The rings are mapped while the channel is open. */
	rc = srv_gpadl_map(s, g, true);
	if (rc)
		return rc;

	c = vmbus_chan_alloc();
	if (!c) {
		srv_gpadl_unmap(s, g);
		return -ENOMEM;
	}
	c->server = true;
	c->srv = s;
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
		srv_fault(s, FAULT_OPEN, "failed to bind port %u of channel %u "
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
		srv_fault(s, FAULT_RING, "refused the rings of channel %u (%s)",
			  o->relid, strerror(-rc));
		goto fail;
	}
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
	vmbus_chan_free(c);
	srv_gpadl_unmap(s, g);
	return rc;
}

/* --- channels between two guests --- */

/* Mark @o rescinded and tell its guest; unsent offers go in srv_offers_gc. */
static void srv_offer_rescind(struct vmbus_server *s, struct srv_offer *o)
{
	struct vmbus_msg m;

	if (o->rescinded)
		return;
	o->rescinded = true;
	srv_chan_close(s, o);
	if (!o->sent || !s->evt.xce || s->quiet)
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
		if (o->rescinded && (!o->sent || !s->evt.xce))
			srv_offer_free(s, o);
	}
}

/* Answer the pending OPENCHANNEL of one end. */
static void srv_peer_answer(struct srv_offer *o, int err)
{
	struct vmbus_msg r;

	vmbus_msg_init(&r, VMBUS_MSG_OPENCHANNEL_RESULT);
	r.u.open_result.child_relid = o->relid;
	r.u.open_result.open_id = o->p_open_id;
	r.u.open_result.status = vmbus_status_from_errno(err);
	srv_send(o->srv, &r);
}

/* Back to IDLE: nothing was shared with the peer yet, or it failed. */
static int srv_peer_cancel(struct srv_offer *o)
{
	if (o->p_gpadl)
		o->p_gpadl->peer_user = NULL;
	o->p_gpadl = NULL;
	o->pstate = PEER_IDLE;
	return 0;
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
	struct vmbus_gpa_desc range = {
		.byte_count = g->npages * VMBUS_GRANT_PAGE_SIZE,
		.byte_offset = 0,
		.gref_count = g->npages,
		.grefs = g->grefs,
	};
	uint32_t nmsgs = vmbus_gpadl_msg_count(
		(uint32_t)VMBUS_GPA_RANGE_BYTES(g->npages));
	struct vmbus_msg *msgs = calloc(nmsgs + 1, sizeof(*msgs));
	struct vmbus_msg *po;
	int n, i, rc = 0;

	if (!msgs)
		return -ENOMEM;
	n = vmbus_gpadl_build(msgs, nmsgs, acc->relid, g->id, &range, 1);
	if (n < 0) {
		free(msgs);
		return n;
	}
	vmbus_gpadl_to_peer(msgs, (uint32_t)n);
	po = &msgs[n];
	vmbus_msg_init(po, VMBUS_MSG_PEER_OPEN);
	po->u.peer_open.child_relid = acc->relid;
	po->u.peer_open.open_id = acc->p_fwd_open_id = ++s->next_peer_open;
	po->u.peer_open.ring_gpadl = g->id;
	po->u.peer_open.downstream_page_offset = op->p_down;
	po->u.peer_open.event_channel = op->p_port;
	po->u.peer_open.class_version = op->p_version;
	po->u.peer_open.peer_domid = (uint16_t)op->srv->domid;
	for (i = 0; !rc && i <= n; i++)
		rc = srv_send(s, &msgs[i]);
	free(msgs);
	return rc;
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
		srv_fault(acc->srv, FAULT_OPEN, "failed to hand the rings of "
			  "domain %u to channel %u (%s)", op->srv->domid,
			  acc->relid, strerror(-rc));
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
	struct vmbus_version_cap caps[8];
	struct srv_gpadl *g = NULL;
	uint32_t i, d;

	if (o->rescinded || !o->sent)
		return -ENOENT;
	if (!o->peer)
		return -ENOTCONN;
	if (o->pstate != PEER_IDLE)
		return -EBUSY;
	for (i = 0; i < o->d.nversions; i++)
		caps[i] = (struct vmbus_version_cap){ o->d.versions[i], 0 };
	if (!vmbus_version_accept(op->class_version, o->d.versions,
				  o->d.nversions, caps, o->d.nversions))
		return -EPROTONOSUPPORT;
	if (o->opener) {
		g = srv_gpadl(s, op->ring_gpadl);
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

static int do_peer_open_result(struct vmbus_server *s,
			       const struct vmbus_msg *m)
{
	const struct vmbus_msg_open_result *r = &m->u.open_result;
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
		srv_fault(s, FAULT_OPEN, "could not map the rings of domain %u "
			  "for channel %u (%s)", p->srv->domid, o->relid,
			  strerror(-err));
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

static int do_openchannel(struct vmbus_server *s, const struct vmbus_msg *m)
{
	const struct vmbus_msg_open_channel *op = &m->u.open;
	struct srv_offer *o = srv_offer(s, op->child_relid);
	struct vmbus_msg r;
	int rc;

	if (o && o->is_peer) {
		rc = srv_open_peer(s, op, o);
		if (rc == 0) {
			srv_peer_try(o);
			return 0;
		}
	} else {
		rc = srv_open(s, op, o);
	}
	vmbus_msg_init(&r, VMBUS_MSG_OPENCHANNEL_RESULT);
	r.u.open_result.child_relid = op->child_relid;
	r.u.open_result.open_id = op->open_id;
	r.u.open_result.status = vmbus_status_from_errno(rc);
	return srv_send(s, &r);
}

static int do_closechannel(struct vmbus_server *s, const struct vmbus_msg *m)
{
	struct srv_offer *o = srv_offer(s, m->u.relid.child_relid);

	if (!o)
		return -ENOENT;
	if (o->is_peer) {
		/* Given up waiting: drop the request; shared: end it. */
		if (o->pstate == PEER_WAITING)
			srv_peer_cancel(o);
		else if (o->pstate != PEER_IDLE)
			srv_peer_break(o);
		return 0;
	}
	srv_chan_close(s, o);
	return 0;
}

static int do_relid_released(struct vmbus_server *s, const struct vmbus_msg *m)
{
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
	unsigned int i;

	s->quiet = true;
	for (o = s->offers; o; o = o->next) {
		srv_chan_close(s, o);
		if (o->pstate == PEER_WAITING)
			srv_peer_cancel(o);
		else if (o->pstate != PEER_IDLE)
			srv_peer_break(o);
	}
	while (s->gpadls)
		srv_gpadl_free(s, s->gpadls);
	s->quiet = false;
	for (o = s->offers; o; o = next) {
		next = o->next;
		o->sent = false;
		if (o->rescinded)
			srv_offer_free(s, o);
	}
	for (i = 0; i < SRV_MAX_GPADL_ASM; i++)
		srv_asm_free(&s->gasm[i]);
	/* What still waits to be sent speaks of what is gone. */
	vmbus_ctlq_clear(&s->txq);
	s->contacted = false;
	s->offers_requested = false;
	s->version = 0;
}

static int do_unload(struct vmbus_server *s, const struct vmbus_msg *m)
{
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
static int do_tl_connect(struct vmbus_server *s, const struct vmbus_msg *m)
{
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

/* Messages a client sends, and whether they need INITIATE_CONTACT first. */
static const struct {
	int (*fn)(struct vmbus_server *, const struct vmbus_msg *);
	bool needs_contact;
} server_msgs[VMBUS_MSG_COUNT] = {
	[VMBUS_MSG_INITIATE_CONTACT] = { do_initiate_contact, false },
	[VMBUS_MSG_REQUESTOFFERS] = { do_requestoffers, true },
	[VMBUS_MSG_GPADL_HEADER] = { do_gpadl_header, true },
	[VMBUS_MSG_GPADL_BODY] = { do_gpadl_body, true },
	[VMBUS_MSG_GPADL_TEARDOWN] = { do_gpadl_teardown, true },
	[VMBUS_MSG_OPENCHANNEL] = { do_openchannel, true },
	[VMBUS_MSG_CLOSECHANNEL] = { do_closechannel, true },
	[VMBUS_MSG_RELID_RELEASED] = { do_relid_released, false },
	[VMBUS_MSG_UNLOAD] = { do_unload, false },
	[VMBUS_MSG_PEER_OPEN_RESULT] = { do_peer_open_result, true },
	[VMBUS_MSG_TL_CONNECT_REQUEST] = { do_tl_connect, true },
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
	struct vmbus_msg m;
	unsigned int budget = SRV_CTL_BUDGET;
	unsigned int dropped = 0, oversized = 0;
	uint32_t t;
	int rc;

	vmbus_evt_ack(&s->evt);
	/*
	 * Answers first; while some still wait for room, the guest's requests
	 * wait too (it signals when it reads: the ring asked it to).
	 */
	rc = vmbus_ctlq_flush(&s->ctl, &s->txq);
	if (rc < 0 || s->txq.len)
		return rc;
	for (;;) {
		rc = vmbus_ctl_recv_budget(&s->ctl, &m, VMBUS_MSG_DIR_C2S,
					   &dropped, &oversized, &budget);
		if (dropped) {
			s->work.ctl_dropped += dropped;
			srv_fault(s, FAULT_MSG, "dropped %u malformed control "
				  "messages", dropped);
			dropped = 0;
		}
		if (oversized) {
			/* Passed over by its checked length: the bus goes on. */
			s->work.ctl_dropped += oversized;
			srv_fault(s, FAULT_OVERSIZED, "dropped %u oversized "
				  "control packets", oversized);
			oversized = 0;
		}
		if (rc < 0) {
			srv_fault(s, FAULT_RING, "control ring broken (%s)",
				  strerror(-rc));
			return rc;
		}
		if (rc == 0)
			break;
		s->work.ctl_messages++;
		t = m.u.hdr.msgtype;
		if (t >= VMBUS_MSG_COUNT || !server_msgs[t].fn ||
		    (server_msgs[t].needs_contact && !s->contacted)) {
			srv_fault(s, FAULT_MSG, "unexpected %s",
				  vmbus_msg_name(t) ?: "message");
			continue;
		}
		rc = server_msgs[t].fn(s, &m);
		if (rc < 0)
			srv_fault(s, FAULT_MSG, "failed to handle %s (%s)",
				  vmbus_msg_name(t), strerror(-rc));
		/* Answers that wait for room stop the reading (above). */
		if (s->txq.len)
			return 0;
	}
	if (!budget) {
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
	vmbus_ctlq_clear(&s->txq);
	/* Our unmap notification fires: the frontend learns we left. */
	if (s->live)
		xengnttab_unmap(s->gt, s->live, 1);
	s->live = NULL;
	s->fe_armed = false;
	if (s->evt.xce && !s->throttled)
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, vmbus_evt_fd(&s->evt), NULL);
	if (s->throttled)
		vmbus_timer_set(s->throttle_fd, 0);
	s->throttled = false;
	s->quiet_wakes = 0;
	vmbus_evt_close(&s->evt);
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
		srv_fault(s, FAULT_XS, "failed to read \"%s/%s\" (%s)", s->fe,
			  VMBUS_XS_LIVENESS_REF, strerror(-rc));
		srv_error(s, "failed to read liveness-ref", -rc);
		return rc;
	}
	s->live = xengnttab_map_grant_ref_notify(s->gt, s->domid,
						 (uint32_t)ref,
						 PROT_READ | PROT_WRITE,
						 VMBUS_LIVENESS_BACKEND,
						 (evtchn_port_t)s->evt.local);
	if (!s->live) {
		/* Only the frontend loses by it: we do not see it die. */
		srv_fault(s, FAULT_MAP, "failed to map the liveness page (%s)",
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
		srv_fault(s, FAULT_XS, "failed to read \"%s/%s\" (%s)", s->fe,
			  VMBUS_XS_RING_PAGE_ORDER, strerror(-rc));
		srv_error(s, "failed to read ring-page-order", -rc);
		return rc;
	}
	s->ctl_pages = 1u << order;
	for (i = 0; i < s->ctl_pages; i++) {
		snprintf(key, sizeof(key), VMBUS_XS_RING_REF_FMT, i);
		rc = vmbus_xs_read_uint(s->xs, s->fe, key, UINT32_MAX, &ref);
		if (rc) {
			srv_fault(s, FAULT_XS, "failed to read \"%s/%s\" (%s)",
				  s->fe, key, strerror(-rc));
			srv_error(s, "failed to read ring-ref", -rc);
			return rc;
		}
		refs[i] = (uint32_t)ref;
	}
	rc = vmbus_xs_read_uint(s->xs, s->fe, VMBUS_XS_EVENT_CHANNEL,
				INT32_MAX, &port);
	if (rc) {
		srv_fault(s, FAULT_XS, "failed to read \"%s/%s\" (%s)", s->fe,
			  VMBUS_XS_EVENT_CHANNEL, strerror(-rc));
		srv_error(s, "failed to read event-channel", -rc);
		return rc;
	}
	s->ctl_mem = srv_map_grants(s, s->ctl_pages, refs,
				    PROT_READ | PROT_WRITE);
	if (!s->ctl_mem) {
		rc = -(errno ? errno : EFAULT);
		srv_fault(s, FAULT_MAP, "failed to map the %u control ring "
			  "grants (%s)", s->ctl_pages, strerror(-rc));
		srv_error(s, "failed to map the control ring", -rc);
		return rc;
	}
	rc = vmbus_evt_open(&s->evt);
	if (rc)
		goto fail;
	rc = xenevtchn_bind_interdomain(s->evt.xce, s->domid,
					(evtchn_port_t)port);
	if (rc < 0) {
		rc = -(errno ? errno : EIO);
		srv_fault(s, FAULT_XS, "failed to bind event channel %lu (%s)",
			  port, strerror(-rc));
		srv_error(s, "failed to bind the event channel", -rc);
		goto fail;
	}
	s->evt.local = rc;
	hsize = (size_t)s->ctl_pages / 2 * VMBUS_GRANT_PAGE_SIZE;
	rc = vmbus_ring_init(&s->ctl, (uint8_t *)s->ctl_mem + hsize, hsize,
			     s->ctl_mem, hsize, vmbus_evt_signal, &s->evt);
	if (rc) {
		srv_fault(s, FAULT_RING, "refused the control rings (%s)",
			  strerror(-rc));
		srv_error(s, "refused the control rings", -rc);
		goto fail;
	}
	rc = srv_connect_live(s);
	if (rc)
		goto fail;
	ev.data.fd = vmbus_evt_fd(&s->evt);
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

static int srv_step(struct vmbus_server *s)
{
	int fe = vmbus_xs_read_state(s->xs, s->fe);

	/* Detached: writing a state would bring the directory back. */
	if (fe == XB_UNKNOWN && s->state != XB_CLOSED && !srv_attached(s)) {
		srv_disconnect(s);
		s->state = XB_CLOSED;
		return 0;
	}
	switch (s->state) {
	case XB_INITWAIT:
		/* Its rings were another backend's: make it start over. */
		if (fe == XB_CONNECTED)
			return srv_set_state(s, XB_CLOSING);
		if (fe == XB_INITIALISED) {
			if (srv_connect(s) == 0) {
				char path[96];

				/* A past failure is no longer the state. */
				snprintf(path, sizeof(path), "%s/error", s->be);
				xs_rm(s->xs, XBT_NULL, path);
				return srv_set_state(s, XB_CONNECTED);
			}
			return srv_set_state(s, XB_CLOSED);
		}
		break;
	case XB_CONNECTED:
		if (fe == XB_INITIALISING || fe == XB_INITWAIT) {
			srv_disconnect(s);
			return srv_set_state(s, XB_INITWAIT);
		}
		if (fe != XB_CONNECTED && fe != XB_INITIALISED) {
			srv_disconnect(s);
			return srv_set_state(s, XB_CLOSED);
		}
		break;
	case XB_CLOSING:
		if (fe == XB_INITIALISING)
			return srv_set_state(s, XB_INITWAIT);
		if (fe == XB_CLOSED || fe == XB_UNKNOWN)
			return srv_set_state(s, XB_CLOSED);
		break;
	case XB_CLOSED:
		if (fe == XB_INITIALISING)
			return srv_set_state(s, XB_INITWAIT);
		break;
	default:
		break;
	}
	return 0;
}

/* Leave a storming guest's event channel out of the epoll set a while. */
static void srv_throttle(struct vmbus_server *s)
{
	if (vmbus_timer_set(s->throttle_fd, SRV_THROTTLE_MS) < 0 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_DEL, vmbus_evt_fd(&s->evt), NULL) < 0) {
		vmbus_log(LOG_ERR, "domain %u: failed to pause its event "
			  "channel (%s)", s->domid, strerror(errno));
		return;
	}
	s->throttled = true;
	s->work.throttles++;
	srv_fault(s, FAULT_STORM, "signals its bus with nothing to do: its "
		  "signals are taken every %d ms for a while", SRV_THROTTLE_MS);
}

static void srv_unthrottle(struct vmbus_server *s)
{
	struct epoll_event ev = { .events = EPOLLIN };

	s->throttled = false;
	s->quiet_wakes = 0;
	ev.data.fd = vmbus_evt_fd(&s->evt);
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
	if (s->state == XB_CONNECTED && s->evt.xce && !s->throttled) {
		before = s->work.ctl_messages + s->work.ctl_dropped +
			 s->txq.len;
		rc = srv_dispatch(s);
		/* Nothing taken, nothing sent: a signal for nothing. */
		if (rc >= 0 && !woken && s->txq.len == 0 &&
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
	vmbus_evt_init(&s->evt);
	vmbus_ctlq_init(&s->txq);
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
	w->ctl_queued = s->txq.len;
}

static int srv_offer_add(struct vmbus_server *s,
			 const struct vmbus_offer_desc *d, struct srv_offer **out)
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
	if (s->offers_requested && s->evt.xce)
		srv_send_offer(s, o);	/* a failure is logged; the offer stays */
	return 0;
}

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
	oa->is_peer = ob->is_peer = true;
	oa->opener = true;
	oa->peer = ob;
	ob->peer = oa;
	if (relid_a)
		*relid_a = oa->relid;
	if (relid_b)
		*relid_b = ob->relid;
	if (a->offers_requested && a->evt.xce)
		srv_send_offer(a, oa);
	if (b->offers_requested && b->evt.xce)
		srv_send_offer(b, ob);
	return 0;
}

int vmbus_server_rescind(struct vmbus_server *s, uint32_t relid)
{
	struct srv_offer *o = srv_offer(s, relid);

	if (!o || o->rescinded)
		return -ENOENT;
	if (o->peer)
		srv_peer_break(o);	/* both ends go */
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

/* --- data GPADLs held by channels (xfer.c) --- */

int vmbus_srv_gpadl_get(struct vmbus_server *s, uint32_t relid, uint32_t id,
			void **mem, uint32_t *npages, bool *writable)
{
	struct srv_gpadl *g = srv_gpadl(s, id);
	struct srv_offer *o = srv_offer(s, relid);
	int rc;

	/*
	 * Not the rings of a channel, not one being torn down, and only on
	 * an offer that takes data GPADLs.  Mapped on the first hold.
	 */
	if (!g || g->relid != relid || g->chan || g->torn || g->peer ||
	    !o || !(o->d.flags & VMBUS_OFFER_FLAG_GPADLS))
		return -ENOENT;
	if (!g->refs) {
		rc = srv_gpadl_map(s, g, false);
		if (rc)
			return rc;
	}
	g->refs++;
	*mem = g->mem;
	*npages = g->npages;
	*writable = !g->readonly;
	return 0;
}

void vmbus_srv_gpadl_put(struct vmbus_server *s, uint32_t id)
{
	struct srv_gpadl *g = srv_gpadl(s, id);
	struct vmbus_msg r;

	if (!g || !g->refs || --g->refs)
		return;
	if (!g->torn) {
		srv_gpadl_unmap(s, g);	/* unused again: unmapped */
		return;
	}
	srv_gpadl_free(s, g);
	vmbus_msg_init(&r, VMBUS_MSG_GPADL_TORNDOWN);
	r.u.gpadl_torndown.gpadl_id = id;
	if (s->evt.xce)
		srv_send(s, &r);
}

/* --- grant mapping budgets --- */

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
	st->gpadls = s->ngpadls;
	st->refused = s->map_refused;
}

int vmbus_server_set_tl_connect(struct vmbus_server *s,
				vmbus_tl_connect_fn *fn, void *arg)
{
	s->tl_connect = fn;
	s->tl_arg = arg;
	return 0;
}
