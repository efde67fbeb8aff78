/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Data packets that name memory instead of carrying it: data GPADLs (the
 * client creates and tears them down, the server holds the mapping it made
 * when the GPADL arrived), transfer page sets, DATA_USING_GPADL and
 * DATA_USING_XFER_PAGES packets, and completions matched by transaction id.
 *
 * The contract between the two ends
 * ---------------------------------
 *  - A data GPADL belongs to a channel's offer, like the ring GPADL, and is
 *    created and torn down with the same channel messages.  The server
 *    answers GPADL_TORNDOWN only once nothing at its end uses the mapping
 *    any more (no application handle, no transfer page set): the client
 *    may end its grants when TORNDOWN arrives, not before.
 *  - Only the client, which owns the memory, adds and removes transfer page
 *    sets: ADD_XFER_PAGESET {gpadl_id, pageset_id}, RM_XFER_PAGESET
 *    {pageset_id}.  Both travel in the channel's ring, so packets sent
 *    after them are seen after them.  A set id is unique per channel while
 *    the set exists.
 *  - A packet that names memory is valid at the receiver only if the GPADL
 *    or set it names is one of this channel's, known at this end, and every
 *    range is non-empty and inside it.  Anything else is refused, never
 *    followed: the receiver works on its private copy of the packet, reads
 *    each field once, and computes bounds in 64 bits.
 *  - The sender of a packet with ranges must not reuse those bytes until
 *    the receiver completed the packet (COMP with the same trans_id).
 *  - At the server, a DATA_USING_XFER_PAGES packet that asks for a
 *    completion holds its set's mapping until the application completes
 *    it (vmbus_chan_complete_pkt, or vmbus_rxpkt_done).  The hold is named
 *    by the packet's ctx, not by its trans_id, which the guest chooses and
 *    may repeat on purpose to have another packet's hold released.  An
 *    RM_XFER_PAGESET
 *    meanwhile retires the set at once (no new packet may name it), but
 *    the set is unmapped, and a GPADL_TEARDOWN of its GPADL answered, only
 *    once the last such packet is completed.  A packet that asks for no
 *    completion points into the set until the next receive.
 *
 * The state hangs off the channel (c->xfer), allocated on first use; both
 * ends free it with the channel.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xenvmbus/xenstore.h>

#include "private.h"
#include "xfer-pkt.h"

#define XFER_DEFAULT_TRANS	1024
#define XFER_MAX_HOLDS		4096	/* packets held per channel */
#define XFER_CLOSE_MS		2000	/* as vmbus_chan_close waits */

_Static_assert(VMBUS_GPA_RANGE_BYTES(VMBUS_GPADL_MAX_PAGES) <=
	       VMBUS_GPADL_MAX_BUFLEN, "a GPADL's range buffer fits the wire");

/*
 * The messages of the largest GPADL fit at once in the control ring that
 * the server offers (order VMBUS_XS_DEFAULT_MAX_RING_PAGE_ORDER: half of
 * it each way, less the header page), each as a full-sized packet.
 */
#define XFER_CTL_PKT_BYTES	(sizeof(struct vmbus_pkt_desc) + \
				 VMBUS_MSG_MAX_SIZE + VMBUS_PKT_TRAILER_SIZE)
#define XFER_GPADL_MAX_MSGS	(1 + (VMBUS_GPA_RANGE_BYTES(VMBUS_GPADL_MAX_PAGES) - \
				      VMBUS_GPADL_HEADER_MAX_DATA + \
				      VMBUS_GPADL_BODY_MAX_DATA - 1) / \
				 VMBUS_GPADL_BODY_MAX_DATA)
_Static_assert(XFER_GPADL_MAX_MSGS * XFER_CTL_PKT_BYTES <
	       ((1u << VMBUS_XS_DEFAULT_MAX_RING_PAGE_ORDER) / 2 - 1) *
	       VMBUS_GRANT_PAGE_SIZE,
	       "the largest GPADL fits the control ring in one go");

enum gpadl_state {
	G_CREATING,		/* client: GPADL_HEADER sent */
	G_ACTIVE,		/* created (client) or held (server) */
	G_TEARING,		/* client: GPADL_TEARDOWN sent */
	G_GONE,			/* client: GPADL_TORNDOWN arrived */
};

struct vmbus_gpadl {
	struct vmbus_chan *chan;	/* NULL once detached from it */
	uint32_t id;
	uint8_t *mem;			/* client: shared; server: mapped */
	uint32_t npages;
	enum gpadl_state state;
	int status;			/* client: GPADL_CREATED's, as errno */
	bool server;
	bool writable;			/* this end may write */
	bool internal;			/* server: held by a transfer page set */
	bool retired;			/* server: set removed, holds remain */
	unsigned int sets;		/* transfer page sets naming it here */
	unsigned int holds;		/* server: packets not yet completed */
	struct vmbus_gpadl *next;
};

struct xfer_set {
	bool used;
	uint16_t id;
	struct vmbus_gpadl *g;
};

/* A packet the server application was handed and has not completed. */
struct xfer_hold {
	struct vmbus_gpadl *g;
	struct xfer_hold *next;
};

struct vmbus_xfer {
	struct vmbus_gpadl *gpadls;
	struct xfer_set sets[VMBUS_XFERSET_MAX];
	struct xfer_hold *holds;
	uint32_t nholds;
	struct vmbus_trans_table trans;
	struct vmbus_trans_slot *slots;	/* NULL until ids are used */
	uint64_t refused;
};

static struct vmbus_xfer *xfer_get(struct vmbus_chan *c)
{
	if (!c->xfer)
		c->xfer = calloc(1, sizeof(*c->xfer));
	return c->xfer;
}

static int chan_ok(const struct vmbus_chan *c)
{
	return c->state == CHAN_OPEN && !vmbus_chan_ended(c) ? 0 : -ENOTCONN;
}

static uint64_t gpadl_bytes(const struct vmbus_gpadl *g)
{
	return (uint64_t)g->npages * VMBUS_GRANT_PAGE_SIZE;
}

static void xfer_link(struct vmbus_xfer *x, struct vmbus_gpadl *g)
{
	g->next = x->gpadls;
	x->gpadls = g;
}

static void xfer_unlink(struct vmbus_xfer *x, struct vmbus_gpadl *g)
{
	struct vmbus_gpadl **pp;

	for (pp = &x->gpadls; *pp; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			g->next = NULL;
			return;
		}
}

/* A usable GPADL of this channel, by id. */
static struct vmbus_gpadl *xfer_gpadl(struct vmbus_xfer *x, uint32_t id)
{
	struct vmbus_gpadl *g;

	for (g = x ? x->gpadls : NULL; g; g = g->next)
		if (g->id == id && g->state == G_ACTIVE)
			return g;
	return NULL;
}

static struct xfer_set *xfer_set(struct vmbus_xfer *x, uint16_t id)
{
	unsigned int i;

	for (i = 0; x && i < VMBUS_XFERSET_MAX; i++)
		if (x->sets[i].used && x->sets[i].id == id)
			return &x->sets[i];
	return NULL;
}

static struct xfer_set *xfer_set_free(struct vmbus_xfer *x)
{
	unsigned int i;

	for (i = 0; i < VMBUS_XFERSET_MAX; i++)
		if (!x->sets[i].used)
			return &x->sets[i];
	return NULL;
}

/* --- client: creating and tearing down data GPADLs --- */

int vmbus_xfer_on_gpadl_created(struct vmbus_chan *c, uint32_t gpadl_id,
				uint32_t status)
{
	struct vmbus_gpadl *g;

	for (g = c->xfer ? c->xfer->gpadls : NULL; g; g = g->next)
		if (g->id == gpadl_id && g->state == G_CREATING) {
			g->status = vmbus_status_to_errno(status);
			g->state = g->status ? G_GONE : G_ACTIVE;
			return 0;
		}
	return -EPROTO;
}

int vmbus_xfer_on_gpadl_torndown(struct vmbus_chan *c, uint32_t gpadl_id)
{
	struct vmbus_gpadl *g;

	for (g = c->xfer ? c->xfer->gpadls : NULL; g; g = g->next)
		if (g->id == gpadl_id && g->state == G_TEARING) {
			g->state = G_GONE;
			return 0;
		}
	return -ENOENT;
}

/* GPADL_HEADER [GPADL_BODY...] for all of @g's pages, then GPADL_CREATED. */
static int gpadl_announce(struct vmbus_chan *c, struct vmbus_gpadl *g,
			  const uint32_t *refs, int64_t deadline)
{
	int rc = vmbus_gpadl_announce(c->conn, c->relid, g->id, g->npages,
				      refs, false);

	while (!rc && g->state == G_CREATING)
		rc = vmbus_conn_pump_up(c->conn, deadline);
	if (!rc && g->status) {
		rc = g->status;
		vmbus_log(LOG_ERR, "server refused GPADL %u of %u pages on "
			  "channel %u (%s)", g->id, g->npages, c->relid,
			  strerror(-rc));
	}
	return rc;
}

/* GPADL_TEARDOWN, then wait for GPADL_TORNDOWN. */
static int gpadl_teardown(struct vmbus_gpadl *g, int64_t deadline)
{
	struct vmbus_chan *c = g->chan;
	int rc;

	g->state = G_TEARING;
	rc = vmbus_gpadl_teardown(c->conn, c->relid, g->id);
	while (!rc && g->state == G_TEARING)
		rc = vmbus_conn_pump_up(c->conn, deadline);
	if (rc == -ETIMEDOUT)
		vmbus_log(LOG_WARNING, "server did not release GPADL %u of "
			  "channel %u in time", g->id, c->relid);
	return rc;
}

/* Tear down (if created), end the grants and detach @g from its channel. */
static int client_gpadl_release(struct vmbus_gpadl *g, int64_t deadline)
{
	struct vmbus_chan *c = g->chan;
	xengntshr_handle *gs = c->conn->gs;
	int rc = 0;

	if (g->state == G_ACTIVE)
		rc = gpadl_teardown(g, deadline);
	else if (g->state == G_CREATING)
		/* No answer yet: the server may still map it; withdraw it. */
		vmbus_gpadl_teardown(c->conn, c->relid, g->id);
	/* A page the server still maps stays its own until it unmaps. */
	if (g->mem)
		xengntshr_unshare(gs, g->mem, g->npages);
	xfer_unlink(c->xfer, g);
	g->chan = NULL;
	g->mem = NULL;
	g->npages = 0;
	g->state = G_GONE;
	return rc;
}

int vmbus_gpadl_create(struct vmbus_chan *c, size_t size, unsigned int flags,
		       int timeout_ms, struct vmbus_gpadl **out)
{
	int64_t deadline = timeout_ms < 0 ? -1 : vmbus_now_ms() + timeout_ms;
	struct vmbus_xfer *x;
	struct vmbus_gpadl *g = NULL;
	uint32_t *refs = NULL, npages;
	xengntshr_handle *gs = NULL;
	unsigned int backend;
	int rc;

	*out = NULL;
	if (c->server || !c->conn || (flags & ~VMBUS_GPADL_READONLY) || !size)
		return -EINVAL;
	if (size > (size_t)VMBUS_GPADL_MAX_PAGES * VMBUS_GRANT_PAGE_SIZE)
		return -E2BIG;
	rc = chan_ok(c);
	if (rc)
		return rc;
	npages = (uint32_t)((size + VMBUS_GRANT_PAGE_SIZE - 1) /
			    VMBUS_GRANT_PAGE_SIZE);
	x = xfer_get(c);
	g = calloc(1, sizeof(*g));
	refs = calloc(npages, sizeof(*refs));
	if (!x || !g || !refs) {
		rc = -ENOMEM;
		goto out;
	}
	gs = c->conn->gs;
	backend = c->conn->domid;
	g->mem = xengntshr_share_pages(gs, backend, (int)npages, refs,
				       !(flags & VMBUS_GPADL_READONLY));
	if (!g->mem) {
		rc = -(errno ? errno : ENOMEM);
		vmbus_log(LOG_ERR, "failed to grant %u GPADL pages of channel "
			  "%u to domain %u (%s)", npages, c->relid, backend,
			  strerror(-rc));
		goto out;
	}
	memset(g->mem, 0, (size_t)npages * VMBUS_GRANT_PAGE_SIZE);
	g->chan = c;
	g->npages = npages;
	g->writable = true;		/* our own memory */
	g->state = G_CREATING;
	g->id = ++c->conn->next_gpadl;
	xfer_link(x, g);
	rc = gpadl_announce(c, g, refs, deadline);
	if (rc) {
		client_gpadl_release(g, deadline);
		goto out;
	}
	*out = g;
	g = NULL;
out:
	if (g && g->mem)
		xengntshr_unshare(gs, g->mem, npages);
	free(g);
	free(refs);
	return rc;
}

int vmbus_gpadl_destroy(struct vmbus_gpadl *g, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : vmbus_now_ms() + timeout_ms;
	int rc = 0;

	if (!g)
		return 0;
	if (g->server)
		return -EINVAL;
	if (g->chan) {
		if (g->sets)
			return -EBUSY;
		rc = client_gpadl_release(g, deadline);
	}
	free(g);
	return rc;
}

/* --- server: holding the mapping of a data GPADL --- */

static struct vmbus_gpadl *server_gpadl_get(struct vmbus_chan *c,
					    uint32_t id, int *err)
{
	struct vmbus_xfer *x = xfer_get(c);
	struct vmbus_gpadl *g = calloc(1, sizeof(*g));
	void *mem;

	if (!x || !g) {
		free(g);
		*err = -ENOMEM;
		return NULL;
	}
	*err = vmbus_gpadl_reg_get(c->reg, c->relid, id, &mem, &g->npages,
				   &g->writable);
	if (*err) {
		free(g);
		return NULL;
	}
	g->chan = c;
	g->id = id;
	g->mem = mem;
	g->server = true;
	g->state = G_ACTIVE;
	xfer_link(x, g);
	return g;
}

static void server_gpadl_release(struct vmbus_gpadl *g)
{
	struct vmbus_chan *c = g->chan;

	xfer_unlink(c->xfer, g);
	g->chan = NULL;
	g->mem = NULL;
	g->npages = 0;
	g->state = G_GONE;
	/* May answer a teardown that waited for us. */
	vmbus_gpadl_reg_put(c->reg, g->id);
}

int vmbus_gpadl_map(struct vmbus_chan *c, uint32_t gpadl_id,
		    struct vmbus_gpadl **out)
{
	int rc;

	*out = NULL;
	if (!c->server)
		return -EINVAL;
	rc = chan_ok(c);
	if (rc)
		return rc;
	*out = server_gpadl_get(c, gpadl_id, &rc);
	return rc;
}

void vmbus_gpadl_unmap(struct vmbus_gpadl *g)
{
	if (!g || !g->server || g->internal)
		return;
	if (g->chan)
		server_gpadl_release(g);
	free(g);
}

/* --- both ends --- */

uint32_t vmbus_gpadl_id(const struct vmbus_gpadl *g)
{
	return g->id;
}

size_t vmbus_gpadl_size(const struct vmbus_gpadl *g)
{
	return g->chan ? (size_t)gpadl_bytes(g) : 0;
}

bool vmbus_gpadl_writable(const struct vmbus_gpadl *g)
{
	return g->chan && g->writable;
}

void *vmbus_gpadl_ptr(const struct vmbus_gpadl *g, uint64_t offset,
		      uint64_t len, bool write)
{
	uint64_t size;

	if (!g || !g->chan || !g->mem || (write && !g->writable))
		return NULL;
	size = gpadl_bytes(g);
	if (offset > size || len > size - offset)
		return NULL;
	return g->mem + offset;
}

/* Client: the channel is closing; let the server unmap before we unshare. */
void vmbus_xfer_chan_closing(struct vmbus_chan *c)
{
	int64_t deadline = vmbus_now_ms() + XFER_CLOSE_MS;
	struct vmbus_xfer *x = c->xfer;
	unsigned int i;

	if (!x || c->server)
		return;
	for (i = 0; i < VMBUS_XFERSET_MAX; i++)
		if (x->sets[i].used) {
			x->sets[i].g->sets--;
			x->sets[i].used = false;
		}
	while (x->gpadls)
		client_gpadl_release(x->gpadls, deadline);
}

unsigned int vmbus_xfer_bus_lost(struct vmbus_chan *c)
{
	struct vmbus_gpadl *g;
	unsigned int i, n = 0;

	if (!c->xfer || c->server)
		return 0;
	/* The server's sets went with it; a re-opened channel has none. */
	for (i = 0; i < VMBUS_XFERSET_MAX; i++)
		if (c->xfer->sets[i].used) {
			c->xfer->sets[i].g->sets--;
			c->xfer->sets[i].used = false;
		}
	/* Released without a message; the memory stays until destroyed. */
	for (g = c->xfer->gpadls; g; g = g->next)
		if (g->state != G_GONE) {
			if (g->state == G_CREATING)
				g->status = -ENOTCONN;
			g->state = G_GONE;
			n++;
		}
	return n;
}

void vmbus_xfer_release(struct vmbus_chan *c)
{
	struct vmbus_xfer *x = c->xfer;
	struct vmbus_gpadl *g;

	if (!x)
		return;
	if (!c->server)
		vmbus_xfer_chan_closing(c);
	while ((g = x->gpadls)) {
		server_gpadl_release(g);
		/* The sets' own holds; the application's handles stay its. */
		if (g->internal)
			free(g);
	}
	while (x->holds) {
		struct xfer_hold *h = x->holds;

		x->holds = h->next;
		free(h);
	}
	free(x->slots);
	free(x);
	c->xfer = NULL;
}

/* --- transfer page sets --- */

static int send_pageset(struct vmbus_chan *c, uint16_t type, uint32_t gpadl,
			uint16_t set_id, uint64_t trans_id, bool want)
{
	struct vmbus_pkt_xfer_pageset h;

	memset(&h, 0, sizeof(h));
	h.gpadl_id = gpadl;
	h.pageset_id = set_id;
	return vmbus_ring_send(&c->ring, type,
			       want ? VMBUS_PKT_FLAG_REQUEST_COMPLETION : 0,
			       trans_id, (const uint8_t *)&h + sizeof(h.desc),
			       sizeof(h) - sizeof(h.desc), NULL, 0);
}

int vmbus_xferset_add(struct vmbus_chan *c, struct vmbus_gpadl *g,
		      uint16_t set_id, uint64_t trans_id, bool want_completion)
{
	struct xfer_set *s;
	int rc;

	if (c->server || !g || g->server || g->chan != c ||
	    g->state != G_ACTIVE)
		return -EINVAL;
	rc = chan_ok(c);
	if (rc)
		return rc;
	if (xfer_set(c->xfer, set_id))
		return -EEXIST;
	s = xfer_set_free(c->xfer);
	if (!s)
		return -ENOSPC;
	rc = send_pageset(c, VMBUS_PKT_ADD_XFER_PAGESET, g->id, set_id,
			  trans_id, want_completion);
	if (rc)
		return rc;
	*s = (struct xfer_set){ .used = true, .id = set_id, .g = g };
	g->sets++;
	return 0;
}

int vmbus_xferset_remove(struct vmbus_chan *c, uint16_t set_id,
			 uint64_t trans_id, bool want_completion)
{
	struct xfer_set *s;
	int rc;

	if (c->server)
		return -EINVAL;
	rc = chan_ok(c);
	if (rc)
		return rc;
	s = xfer_set(c->xfer, set_id);
	if (!s)
		return -ENOENT;
	rc = send_pageset(c, VMBUS_PKT_RM_XFER_PAGESET, s->g->id, set_id,
			  trans_id, want_completion);
	if (rc)
		return rc;
	s->g->sets--;
	s->used = false;
	return 0;
}

void *vmbus_xferset_ptr(struct vmbus_chan *c, uint16_t set_id,
			uint64_t offset, uint64_t len, bool write)
{
	struct xfer_set *s = xfer_set(c->xfer, set_id);

	return s ? vmbus_gpadl_ptr(s->g, offset, len, write) : NULL;
}

/* Server: ADD_XFER_PAGESET arrived; hold the GPADL for the set. */
static int server_add_set(struct vmbus_chan *c, const struct vmbus_xfer_hdr *h)
{
	struct vmbus_xfer *x = xfer_get(c);
	struct vmbus_gpadl *g;
	struct xfer_set *s;
	int rc;

	if (!c->server)
		return -EPROTO;		/* only the owner of the memory adds */
	if (!x)
		return -ENOMEM;
	if (xfer_set(x, (uint16_t)h->id))
		return -EEXIST;
	s = xfer_set_free(x);
	if (!s)
		return -ENOSPC;
	g = server_gpadl_get(c, h->gpadl_id, &rc);
	if (!g)
		return rc;
	g->internal = true;
	g->sets = 1;
	*s = (struct xfer_set){ .used = true, .id = (uint16_t)h->id, .g = g };
	return 0;
}

/* Server: RM_XFER_PAGESET arrived; let go of the set's GPADL. */
static int server_rm_set(struct vmbus_chan *c, struct vmbus_rxpkt *rx,
			 const struct vmbus_xfer_hdr *h)
{
	struct xfer_set *s;
	struct vmbus_gpadl *g;

	if (!c->server)
		return -EPROTO;
	s = xfer_set(c->xfer, (uint16_t)h->id);
	if (!s)
		return -ENOENT;
	g = s->g;
	rx->gpadl_id = g->id;
	s->used = false;
	if (g->holds) {
		/* Packets still point into it: unmapped at the last completion. */
		g->retired = true;
		g->state = G_GONE;	/* named by no new packet */
		return 0;
	}
	server_gpadl_release(g);
	free(g);
	return 0;
}

/* Server: a packet into @g asks for a completion; hold @g until then. */
static struct xfer_hold *xfer_hold(struct vmbus_chan *c,
				   struct vmbus_gpadl *g, int *err)
{
	struct vmbus_xfer *x = c->xfer;
	struct xfer_hold *h;

	*err = -ENOSPC;		/* the application completes none */
	if (x->nholds >= XFER_MAX_HOLDS)
		return NULL;
	*err = -ENOMEM;
	h = malloc(sizeof(*h));
	if (!h)
		return NULL;
	h->g = g;
	h->next = x->holds;
	x->holds = h;
	x->nholds++;
	g->holds++;
	return h;
}

void vmbus_rxpkt_done(struct vmbus_chan *c, const struct vmbus_rxpkt *rx)
{
	struct vmbus_xfer *x = c->xfer;
	struct xfer_hold **pp, *h = NULL;
	struct vmbus_gpadl *g;

	if (!x || !c->server || rx->type != VMBUS_PKT_DATA_USING_XFER_PAGES ||
	    !rx->ctx)
		return;
	for (pp = &x->holds; *pp; pp = &(*pp)->next)
		if (*pp == rx->ctx) {
			h = *pp;
			*pp = h->next;
			break;
		}
	if (!h)
		return;		/* released already */
	x->nholds--;
	g = h->g;
	free(h);
	if (--g->holds || !g->retired)
		return;
	server_gpadl_release(g);
	free(g);
}

int vmbus_chan_complete_pkt(struct vmbus_chan *c, const struct vmbus_rxpkt *rx,
			    const void *data, size_t len)
{
	int rc = 0;

	if (rx->flags & VMBUS_PKT_FLAG_REQUEST_COMPLETION) {
		rc = vmbus_chan_send_comp(c, rx->trans_id, data, len);
		if (rc == -EAGAIN)
			return rc;	/* no room yet: still held */
	}
	vmbus_rxpkt_done(c, rx);
	return rc;
}

/* --- sending --- */

int vmbus_chan_send_gpa(struct vmbus_chan *c, uint32_t gpadl_id,
			const struct vmbus_range *ranges, uint32_t nranges,
			const void *data, size_t len, uint64_t trans_id,
			bool want_completion)
{
	struct vmbus_gpadl *g;
	int rc = chan_ok(c);

	if (rc)
		return rc;
	if (!ranges || !nranges)
		return -EINVAL;
	g = xfer_gpadl(c->xfer, gpadl_id);
	if (!g)
		return -ENOENT;
	rc = vmbus_xfer_check_ranges(ranges, nranges, gpadl_bytes(g));
	if (rc)
		return rc;
	/* struct vmbus_range is the wire range (xfer-pkt.c asserts it). */
	return vmbus_ring_send_gpadl(&c->ring, gpadl_id,
				     (const struct vmbus_pkt_range *)
				     (const void *)ranges, nranges, trans_id,
				     want_completion ?
				     VMBUS_PKT_FLAG_REQUEST_COMPLETION : 0,
				     data, len);
}

int vmbus_chan_send_xfer(struct vmbus_chan *c, uint16_t set_id,
			 const struct vmbus_range *ranges, uint32_t nranges,
			 const void *data, size_t len, uint64_t trans_id,
			 bool want_completion)
{
	struct xfer_set *s;
	int rc = chan_ok(c);

	if (rc)
		return rc;
	if (!ranges || !nranges)
		return -EINVAL;
	s = xfer_set(c->xfer, set_id);
	if (!s)
		return -ENOENT;
	rc = vmbus_xfer_check_ranges(ranges, nranges, gpadl_bytes(s->g));
	if (rc)
		return rc;
	return vmbus_ring_send_xferpage(&c->ring, set_id, !c->server,
					(const struct vmbus_pkt_range *)
					(const void *)ranges, nranges,
					trans_id, want_completion ?
					VMBUS_PKT_FLAG_REQUEST_COMPLETION : 0,
					data, len);
}

/* --- transaction ids --- */

int vmbus_chan_trans_init(struct vmbus_chan *c, uint32_t max_outstanding)
{
	struct vmbus_xfer *x = xfer_get(c);
	struct vmbus_trans_slot *slots;
	int rc;

	if (!x)
		return -ENOMEM;
	if (x->slots && x->trans.inuse)
		return -EBUSY;
	if (!max_outstanding || max_outstanding > (1u << 24))
		return -EINVAL;
	slots = calloc(max_outstanding, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	rc = vmbus_trans_init(&x->trans, slots, max_outstanding);
	if (rc) {
		free(slots);
		return rc;
	}
	free(x->slots);
	x->slots = slots;
	return 0;
}

int vmbus_chan_trans_alloc(struct vmbus_chan *c, void *ctx, uint64_t *id)
{
	int rc;

	if (!c->xfer || !c->xfer->slots) {
		rc = vmbus_chan_trans_init(c, XFER_DEFAULT_TRANS);
		if (rc)
			return rc;
	}
	return vmbus_trans_alloc(&c->xfer->trans, ctx, id);
}

int vmbus_chan_trans_cancel(struct vmbus_chan *c, uint64_t id, void **ctx)
{
	void *unused;

	if (!c->xfer || !c->xfer->slots)
		return -ENOENT;
	return vmbus_trans_complete(&c->xfer->trans, id, ctx ? ctx : &unused);
}

/* --- receiving --- */

/* Resolve what a memory-naming packet names and check its ranges. */
static int xfer_resolve(struct vmbus_chan *c, struct vmbus_rxpkt *rx,
			const struct vmbus_xfer_hdr *h)
{
	struct vmbus_gpadl *g;
	struct xfer_set *s;
	int rc;

	rx->id = h->id;
	rx->gpadl_id = h->gpadl_id;
	switch (rx->type) {
	case VMBUS_PKT_ADD_XFER_PAGESET:
		return server_add_set(c, h);
	case VMBUS_PKT_RM_XFER_PAGESET:
		return server_rm_set(c, rx, h);
	case VMBUS_PKT_DATA_USING_GPADL:
		g = xfer_gpadl(c->xfer, h->id);
		/*
		 * Only a GPADL the application mapped: a transfer page set's
		 * may be removed by the guest while the application still
		 * uses the packet, and nothing holds it for this kind.
		 */
		while (g && g->internal) {
			for (g = g->next; g; g = g->next)
				if (g->id == h->id && g->state == G_ACTIVE)
					break;
		}
		break;
	default:	/* VMBUS_PKT_DATA_USING_XFER_PAGES */
		s = xfer_set(c->xfer, (uint16_t)h->id);
		g = s ? s->g : NULL;
		if (g)
			rx->gpadl_id = g->id;
		break;
	}
	if (!g)
		return -ENOENT;
	rc = vmbus_xfer_check_ranges(h->ranges, h->nranges, gpadl_bytes(g));
	if (rc)
		return rc;
	if (c->server && rx->type == VMBUS_PKT_DATA_USING_XFER_PAGES &&
	    (rx->flags & VMBUS_PKT_FLAG_REQUEST_COMPLETION)) {
		rx->ctx = xfer_hold(c, g, &rc);
		if (!rx->ctx)
			return rc;
	}
	rx->nranges = h->nranges;
	rx->ranges = h->ranges;
	rx->base = g->mem;
	rx->writable = g->writable;
	return 0;
}

/* A completion: when ids come from the table, it must name one. */
static int xfer_comp(struct vmbus_chan *c, struct vmbus_rxpkt *rx)
{
	if (!c->xfer || !c->xfer->slots)
		return 0;
	return vmbus_trans_complete(&c->xfer->trans, rx->trans_id, &rx->ctx);
}

int vmbus_chan_recv_pkt(struct vmbus_chan *c, struct vmbus_rxpkt *rx,
			void *buf, size_t buflen)
{
	struct vmbus_xfer_hdr h;
	struct vmbus_pkt pkt;
	int rc, err = 0;

	memset(rx, 0, sizeof(*rx));
	if ((uintptr_t)buf % 8)
		return -EINVAL;
	if (c->state != CHAN_OPEN)
		return -ENOTCONN;
	rc = vmbus_ring_recv(&c->ring, &pkt, buf, buflen);
	if (rc == -EMSGSIZE)
		rx->len = pkt.buf_len;
	if (rc == -EAGAIN && vmbus_chan_ended(c))
		return -ENOTCONN;	/* drained, and nothing more will come */
	if (rc < 0)
		return rc;
	rx->type = pkt.type;
	rx->flags = pkt.flags;
	rx->trans_id = pkt.trans_id;
	rx->data = pkt.data;
	rx->len = pkt.data_len;
	switch (pkt.type) {
	case VMBUS_PKT_DATA_USING_GPADL:
	case VMBUS_PKT_DATA_USING_XFER_PAGES:
	case VMBUS_PKT_ADD_XFER_PAGESET:
	case VMBUS_PKT_RM_XFER_PAGESET:
		err = vmbus_xfer_decode(&pkt, &h);
		if (!err)
			err = xfer_resolve(c, rx, &h);
		break;
	case VMBUS_PKT_COMP:
		err = xfer_comp(c, rx);
		break;
	case VMBUS_PKT_DATA_USING_GPA_DIRECT:
		err = vmbus_gpa_direct_range(pkt.thdr, pkt.thdr_len, 0, NULL,
					     &rx->nranges);
		if (!err) {
			rx->ctx = (void *)(uintptr_t)pkt.thdr;
			rx->id = pkt.thdr_len;
		}
		break;
	default:
		break;
	}
	if (!err)
		return 0;
	rx->error = err;
	rx->nranges = 0;
	rx->ranges = NULL;
	rx->base = NULL;
	rx->writable = false;
	rx->ctx = NULL;
	if (xfer_get(c))
		c->xfer->refused++;
	return -EBADMSG;
}

void *vmbus_rxpkt_ptr(const struct vmbus_rxpkt *rx, uint32_t i)
{
	if (!rx->base || !rx->ranges || i >= rx->nranges)
		return NULL;
	return rx->base + rx->ranges[i].byte_offset;
}

int vmbus_rxpkt_gpa_range(const struct vmbus_rxpkt *rx, uint32_t i,
			  struct vmbus_gpa_direct *range)
{
	if (rx->type != VMBUS_PKT_DATA_USING_GPA_DIRECT || !rx->ctx)
		return -EINVAL;
	/* Checked whole by vmbus_chan_recv_pkt; the copy is the caller's. */
	return vmbus_gpa_direct_range(rx->ctx, rx->id, i, range, NULL);
}

uint64_t vmbus_chan_refused(const struct vmbus_chan *c)
{
	return c->xfer ? c->xfer->refused : 0;
}
