// SPDX-License-Identifier: GPL-2.0-only
/*
 * grant.c - grant tables of the simulated hypervisor.
 *
 * The rules are Xen's (xen/common/grant_table.c, v1 entries):
 *  - an entry is mappable only by the domain it names;
 *  - a read-only entry refuses a writable mapping (and the mapper gets a
 *    read-only descriptor, so its own kernel enforces it too);
 *  - ending access while the grant is mapped does not pull the page from the
 *    mapper: the entry stays granted -- and mappable -- until the last unmap,
 *    then access ends and the page goes back to the granter (Linux's
 *    deferred gnttab_end_foreign_access(), which retries until the grant is
 *    no longer in use);
 *  - a domain whose grants are still mapped stays a dying zombie until the
 *    last mapping is gone.
 * Shares are what gntalloc makes (pages of the caller's domain granted to
 * another domain); mappings are what gntdev makes.  Both belong to the
 * library handle that made them and die with it, after their unmap
 * notification (clear a byte, send an event) has fired.
 *
 * Unmap notifications are those of IOCTL_GNTDEV_SET_UNMAP_NOTIFY and
 * IOCTL_GNTALLOC_SET_UNMAP_NOTIFY: set when the mapping or share is made,
 * fired once when it is released -- unmapped, unshared, its handle closed
 * or its process dead.  The byte is cleared in the granted page (a
 * read-only mapping may not ask for that: gntdev refuses it), the event
 * goes out on a port of the caller's domain, which the notification keeps
 * bound until it has fired (evtchn_get/evtchn_put).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xensimd.h"

static uint64_t next_id = 1;

static int ref_alloc(struct domain *d, uint32_t *ref)
{
	uint32_t i;

	for (i = XENSIM_NR_RESERVED_GRANTS; i < XENSIM_NR_GRANTS; i++) {
		if (!(d->grants[i].flags & G_INUSE)) {
			d->grants[i].flags = G_INUSE;
			*ref = i;
			return 0;
		}
	}
	return -ENOSPC;
}

/* The granter no longer offers the page: free it now or on last unmap. */
static void grant_end(struct domain *d, uint32_t ref)
{
	struct grant *g = &d->grants[ref];

	if (!(g->flags & G_INUSE))
		return;
	if (g->maps) {
		g->flags |= G_ENDED;
		return;
	}
	frame_free(d, g->gfn);
	memset(g, 0, sizeof(*g));
	d->active_grants--;
}

int grant_set_kernel(struct domain *d, uint32_t ref, uint32_t grantee,
		     uint32_t gfn, bool readonly)
{
	struct grant *g;

	if (ref >= XENSIM_NR_GRANTS)
		return -EINVAL;
	g = &d->grants[ref];
	if (g->flags & G_INUSE)
		return -EBUSY;
	g->flags = G_INUSE | (readonly ? G_READONLY : 0);
	g->domid = grantee;
	g->gfn = gfn;
	d->active_grants++;
	return 0;
}

/* Fire an unmap notification set on a run of pages granted by @gd. */
static void notify_fire(struct domain *gd, const uint32_t *refs, uint32_t count,
			const struct xensim_notify *n, struct domain *portdom)
{
	uint32_t page = n->offset / XENSIM_PAGE_SIZE;
	uint8_t zero = 0;

	if (gd && (n->flags & XENSIM_NOTIFY_CLEAR_BYTE) && page < count &&
	    refs[page] < XENSIM_NR_GRANTS) {
		off_t at = ((off_t)gd->grants[refs[page]].gfn << XENSIM_PAGE_SHIFT) +
			   n->offset % XENSIM_PAGE_SIZE;

		if (pwrite(gd->memfd, &zero, 1, at) != 1) {
			/* Memory already gone with its domain: nothing to clear. */
		}
	}
	if (n->flags & XENSIM_NOTIFY_SEND_EVENT) {
		evtchn_send(portdom, n->port);
		evtchn_put(portdom, n->port);
	}
}

/* Validate a notification asked by @c and hold its port. */
static int notify_arm(struct conn *c, const struct xensim_notify *n,
		      uint32_t count)
{
	if (n->flags & ~(XENSIM_NOTIFY_CLEAR_BYTE | XENSIM_NOTIFY_SEND_EVENT))
		return -EINVAL;
	if ((n->flags & XENSIM_NOTIFY_CLEAR_BYTE) &&
	    n->offset >= count * XENSIM_PAGE_SIZE)
		return -EINVAL;
	if (n->flags & XENSIM_NOTIFY_SEND_EVENT)
		return evtchn_hold(c->dom, n->port);
	return 0;
}

static void notify_disarm(struct conn *c, const struct xensim_notify *n)
{
	if (n->flags & XENSIM_NOTIFY_SEND_EVENT)
		evtchn_put(c->dom, n->port);
}

int grant_share(struct conn *c, uint32_t grantee, uint32_t count, bool writable,
		const struct xensim_notify *notify, struct share **out, uint32_t *gfns)
{
	struct domain *d = c->dom;
	struct share *s;
	uint32_t i;
	int rc = -ENOMEM;

	if (grantee > XENSIM_MAX_DOMID)
		return -EINVAL;
	rc = notify_arm(c, notify, count);
	if (rc)
		return rc;
	rc = -ENOMEM;
	s = calloc(1, sizeof(*s));
	if (!s)
		goto disarm;
	s->refs = calloc(count, sizeof(*s->refs));
	if (!s->refs)
		goto fail;
	for (i = 0; i < count; i++) {
		rc = ref_alloc(d, &s->refs[i]);
		if (rc)
			goto unwind;
		rc = frame_alloc(d, &gfns[i]);
		if (rc) {
			d->grants[s->refs[i]].flags = 0;
			goto unwind;
		}
		d->grants[s->refs[i]] = (struct grant){
			.flags = G_INUSE | (writable ? 0 : G_READONLY),
			.domid = grantee,
			.gfn = gfns[i],
		};
		d->active_grants++;
	}
	s->count = count;
	s->id = next_id++;
	s->notify = *notify;
	list_add_tail(&s->link, &c->shares);
	*out = s;
	return 0;

unwind:
	while (i--)
		grant_end(d, s->refs[i]);
fail:
	free(s->refs);
	free(s);
disarm:
	notify_disarm(c, notify);
	return rc;
}

static void share_release(struct conn *c, struct share *s)
{
	struct domain *d = c->dom;
	uint32_t i;

	notify_fire(d, s->refs, s->count, &s->notify, d);
	for (i = 0; i < s->count; i++)
		grant_end(d, s->refs[i]);
	list_del(&s->link);
	free(s->refs);
	free(s);
}

int grant_unshare(struct conn *c, uint64_t id)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &c->shares) {
		struct share *s = container_of(pos, struct share, link);

		if (s->id == id) {
			share_release(c, s);
			return 0;
		}
	}
	return -ENOENT;
}

int grant_map(struct conn *c, uint32_t count, const uint32_t *domids,
	      const uint32_t *refs, bool writable, const struct xensim_notify *n,
	      struct mapping **out, uint32_t *gfns, int *memfd)
{
	struct domain *gd;
	struct mapping *m;
	uint32_t i;
	int rc;

	/* One mapping is backed by one granter's memory. */
	for (i = 1; i < count; i++)
		if (domids[i] != domids[0])
			return -EINVAL;
	/* gntdev will not clear a byte through a read-only mapping. */
	if ((n->flags & XENSIM_NOTIFY_CLEAR_BYTE) && !writable)
		return -EINVAL;
	gd = domain_find(domids[0]);
	if (!gd || (gd->flags & XENSIM_DOM_DYING))
		return -ESRCH;		/* GNTST_bad_domain */
	for (i = 0; i < count; i++) {
		const struct grant *g;

		if (refs[i] >= XENSIM_NR_GRANTS)
			return -EINVAL;	/* GNTST_bad_gntref */
		g = &gd->grants[refs[i]];
		if (!(g->flags & G_INUSE))
			return -EINVAL;	/* GNTST_bad_gntref */
		if (g->domid != c->dom->domid)
			return -EPERM;	/* GNTST_permission_denied */
		if (writable && (g->flags & G_READONLY))
			return -EPERM;	/* GNTST_permission_denied */
		gfns[i] = g->gfn;
	}
	rc = notify_arm(c, n, count);
	if (rc)
		return rc;
	m = calloc(1, sizeof(*m));
	if (m) {
		m->domids = calloc(count, sizeof(*m->domids));
		m->refs = calloc(count, sizeof(*m->refs));
	}
	if (!m || !m->domids || !m->refs) {
		if (m) {
			free(m->domids);
			free(m->refs);
		}
		free(m);
		notify_disarm(c, n);
		return -ENOMEM;
	}
	memcpy(m->domids, domids, count * sizeof(*domids));
	memcpy(m->refs, refs, count * sizeof(*refs));
	m->count = count;
	m->writable = writable;
	m->notify = *n;
	m->id = next_id++;
	for (i = 0; i < count; i++)
		gd->grants[refs[i]].maps++;
	gd->grant_maps += count;
	c->dom->maps_held += count;
	list_add_tail(&m->link, &c->maps);
	*memfd = writable ? gd->memfd : gd->memfd_ro;
	*out = m;
	return 0;
}

static void mapping_release(struct conn *c, struct mapping *m)
{
	struct domain *gd = domain_find(m->domids[0]);
	uint32_t i;

	notify_fire(gd, m->refs, m->count, &m->notify, c->dom);
	if (gd) {
		for (i = 0; i < m->count; i++) {
			struct grant *g = &gd->grants[m->refs[i]];

			if (g->maps && --g->maps == 0 && (g->flags & G_ENDED)) {
				g->flags &= ~G_ENDED;
				grant_end(gd, m->refs[i]);
			}
		}
		gd->grant_maps -= m->count;
	}
	c->dom->maps_held -= m->count;
	list_del(&m->link);
	free(m->domids);
	free(m->refs);
	free(m);
	if (gd && domain_maybe_free(gd))
		evtchn_raise_virq_dom_exc();
}

int grant_unmap(struct conn *c, uint64_t id)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &c->maps) {
		struct mapping *m = container_of(pos, struct mapping, link);

		if (m->id == id) {
			mapping_release(c, m);
			return 0;
		}
	}
	return -ENOENT;
}

void grant_release_conn(struct conn *c)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &c->maps)
		mapping_release(c, container_of(pos, struct mapping, link));
	list_for_each_safe(pos, tmp, &c->shares)
		share_release(c, container_of(pos, struct share, link));
}

/* ---- requests of the simulated libxengnttab ---- */

int op_gnt_share(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_share_req *q = req;
	struct xensim_share_rsp *p;
	struct share *s;
	uint32_t *refs, *gfns;
	int rc;

	if (q->count == 0 || q->count > XENSIM_MAX_BATCH)
		return -EINVAL;
	reply_extend(r, sizeof(*p) - sizeof(p->hdr));
	refs = reply_extend(r, q->count * sizeof(uint32_t));
	gfns = reply_extend(r, q->count * sizeof(uint32_t));
	if (!refs || !gfns)
		return -E2BIG;
	rc = grant_share(c, q->domid, q->count, q->writable, &q->notify, &s, gfns);
	if (rc)
		return rc;
	p = (struct xensim_share_rsp *)r->buf;
	p->share_id = s->id;
	memcpy(refs, s->refs, q->count * sizeof(uint32_t));
	reply_fd(r, c->dom->memfd);
	return 0;
}

int op_gnt_unshare(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_unshare_req *q = req;

	return grant_unshare(c, q->share_id);
}

int op_gnt_map(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_map_req *q = req;
	struct xensim_map_rsp *p;
	struct mapping *m;
	const uint32_t *domids, *refs;
	uint32_t *gfns;
	int rc, memfd;

	if (q->count == 0 || q->count > XENSIM_MAX_BATCH)
		return -EINVAL;
	if (len != sizeof(*q) + 2 * q->count * sizeof(uint32_t))
		return -EINVAL;
	domids = (const uint32_t *)(q + 1);
	refs = domids + q->count;
	reply_extend(r, sizeof(*p) - sizeof(p->hdr));
	gfns = reply_extend(r, q->count * sizeof(uint32_t));
	if (!gfns)
		return -E2BIG;
	rc = grant_map(c, q->count, domids, refs, q->writable, &q->notify, &m, gfns, &memfd);
	if (rc)
		return rc;
	p = (struct xensim_map_rsp *)r->buf;
	p->map_id = m->id;
	reply_fd(r, memfd);
	return 0;
}

int op_gnt_unmap(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_unmap_req *q = req;

	return grant_unmap(c, q->map_id);
}
