// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libxengnttab.so.1 for the simulated Xen: xengnttab_* (gntdev) and
 * xengntshr_* (gntalloc).
 *
 * The hypervisor checks every grant and hands back the granter's memory
 * descriptor (read-only for read-only mappings) plus the frame numbers; the
 * pages are then mmap()ed here, so both sides see the same physical page.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xengnttab.h>
#include <xen/grant_table.h>

#include "simconn.h"

#define PUBLIC __attribute__((visibility("default")))

struct region {
	struct region *next;
	void *addr;
	uint32_t count;
	uint64_t id;		/* map_id or share_id */
};

/* xengnttab_handle and xengntshr_handle are the same type in xengnttab.h. */
struct xengntdev_handle {
	struct simconn sc;
	struct region *maps;	/* gntdev: our mappings */
	struct region *shares;	/* gntalloc: our shared pages */
	uint32_t max_grants;
};

static int region_add(struct region **list, void *addr, uint32_t count, uint64_t id)
{
	struct region *r = malloc(sizeof(*r));

	if (!r)
		return -1;
	*r = (struct region){ .next = *list, .addr = addr, .count = count, .id = id };
	*list = r;
	return 0;
}

static struct region *region_take(struct region **list, void *addr, uint32_t count)
{
	struct region **pp, *r;

	for (pp = list; (r = *pp); pp = &r->next) {
		if (r->addr == addr && r->count == count) {
			*pp = r->next;
			return r;
		}
	}
	errno = EINVAL;
	return NULL;
}

/* ---- gntdev ---- */

PUBLIC xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger, unsigned int flags)
{
	xengnttab_handle *xgt = calloc(1, sizeof(*xgt));

	(void)logger; (void)flags;
	if (!xgt)
		return NULL;
	if (simconn_open(&xgt->sc, true, NULL) < 0) {
		int err = errno;

		free(xgt);
		errno = err;
		return NULL;
	}
	return xgt;
}

PUBLIC int xengnttab_close(xengnttab_handle *xgt)
{
	struct region *r;

	if (!xgt)
		return 0;
	while ((r = xgt->maps)) {
		xgt->maps = r->next;
		munmap(r->addr, (size_t)r->count * XENSIM_PAGE_SIZE);
		free(r);
	}
	simconn_close(&xgt->sc);	/* the hypervisor drops our mappings */
	free(xgt);
	return 0;
}

PUBLIC int xengnttab_fd(xengnttab_handle *xgt)
{
	return xgt->sc.fd;
}

PUBLIC int xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
	xgt->max_grants = nr_grants;
	return 0;
}

static void *map_common(xengnttab_handle *xgt, uint32_t count, const uint32_t *domids,
			uint32_t domid_stride, const uint32_t *refs, int prot,
			uint32_t notify_offset, evtchn_port_t notify_port)
{
	size_t qlen = sizeof(struct xensim_map_req) + 2 * count * sizeof(uint32_t);
	size_t rlen = sizeof(struct xensim_map_rsp) + count * sizeof(uint32_t);
	struct xensim_map_req *q = NULL;
	struct xensim_map_rsp *r = NULL;
	void *addr = NULL;
	unsigned int nfds = 0;
	uint32_t i, *qd;
	int memfd = -1, err = 0;

	if (count == 0 || count > XENSIM_MAX_BATCH || !(prot & PROT_READ)) {
		errno = EINVAL;
		return NULL;
	}
	q = calloc(1, qlen);
	r = calloc(1, rlen);
	if (!q || !r)
		goto out;
	q->hdr.op = XENSIM_OP_GNT_MAP;
	q->count = count;
	q->writable = !!(prot & PROT_WRITE);
	if (notify_offset != (uint32_t)-1) {
		q->notify.flags |= XENSIM_NOTIFY_CLEAR_BYTE;
		q->notify.offset = notify_offset;
	}
	if (notify_port != (evtchn_port_t)-1) {
		q->notify.flags |= XENSIM_NOTIFY_SEND_EVENT;
		q->notify.port = notify_port;
	}
	qd = (uint32_t *)(q + 1);
	for (i = 0; i < count; i++) {
		qd[i] = domids[i * domid_stride];
		qd[count + i] = refs[i];
	}
	if (simconn_call(&xgt->sc, q, qlen, r, rlen, NULL, &memfd, 1, &nfds) < 0)
		goto out;
	if (nfds != 1) {
		errno = EPROTO;
		goto out;
	}
	addr = sim_map_frames(memfd, (uint32_t *)(r + 1), NULL, count, prot, NULL, NULL);
	if (!addr || region_add(&xgt->maps, addr, count, r->map_id) < 0) {
		struct xensim_unmap_req u = { .hdr.op = XENSIM_OP_GNT_UNMAP, .map_id = r->map_id };
		struct xensim_rsp ur;

		err = errno;
		if (addr)
			munmap(addr, (size_t)count * XENSIM_PAGE_SIZE);
		addr = NULL;
		simconn_call(&xgt->sc, &u, sizeof(u), &ur, sizeof(ur), NULL, NULL, 0, NULL);
		errno = err;
	}
out:
	err = errno;
	if (memfd >= 0)
		close(memfd);
	free(q);
	free(r);
	errno = err;
	return addr;
}

PUBLIC void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid, uint32_t ref,
				     int prot)
{
	return map_common(xgt, 1, &domid, 0, &ref, prot, -1, -1);
}

PUBLIC void *xengnttab_map_grant_refs(xengnttab_handle *xgt, uint32_t count,
				      uint32_t *domids, uint32_t *refs, int prot)
{
	return map_common(xgt, count, domids, 1, refs, prot, -1, -1);
}

PUBLIC void *xengnttab_map_domain_grant_refs(xengnttab_handle *xgt, uint32_t count,
					     uint32_t domid, uint32_t *refs, int prot)
{
	return map_common(xgt, count, &domid, 0, refs, prot, -1, -1);
}

PUBLIC void *xengnttab_map_grant_ref_notify(xengnttab_handle *xgt, uint32_t domid,
					    uint32_t ref, int prot, uint32_t notify_offset,
					    evtchn_port_t notify_port)
{
	return map_common(xgt, 1, &domid, 0, &ref, prot, notify_offset, notify_port);
}

PUBLIC int xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count)
{
	struct region *r = region_take(&xgt->maps, start_address, count);
	struct xensim_unmap_req u = { .hdr.op = XENSIM_OP_GNT_UNMAP };
	struct xensim_rsp ur;
	int rc;

	if (!r)
		return -1;
	munmap(r->addr, (size_t)r->count * XENSIM_PAGE_SIZE);
	u.map_id = r->id;
	free(r);
	rc = simconn_call(&xgt->sc, &u, sizeof(u), &ur, sizeof(ur), NULL, NULL, 0, NULL);
	return rc;
}

static int16_t gnt_status(int err)
{
	switch (err) {
	case ESRCH: return GNTST_bad_domain;
	case EPERM: return GNTST_permission_denied;
	case EINVAL: return GNTST_bad_gntref;
	default: return GNTST_general_error;
	}
}

PUBLIC int xengnttab_grant_copy(xengnttab_handle *xgt, uint32_t count,
				xengnttab_grant_copy_segment_t *segs)
{
	uint32_t i;

	for (i = 0; i < count; i++) {
		xengnttab_grant_copy_segment_t *s = &segs[i];
		uint8_t *src = s->source.virt, *dst = s->dest.virt;
		void *smap = NULL, *dmap = NULL;

		s->status = GNTST_okay;
		if (((s->flags & GNTCOPY_source_gref) &&
		     s->source.foreign.offset + s->len > XENSIM_PAGE_SIZE) ||
		    ((s->flags & GNTCOPY_dest_gref) &&
		     s->dest.foreign.offset + s->len > XENSIM_PAGE_SIZE)) {
			s->status = GNTST_bad_copy_arg;
			continue;
		}
		if (s->flags & GNTCOPY_source_gref) {
			smap = xengnttab_map_grant_ref(xgt, s->source.foreign.domid,
						       s->source.foreign.ref, PROT_READ);
			if (!smap) {
				s->status = gnt_status(errno);
				continue;
			}
			src = (uint8_t *)smap + s->source.foreign.offset;
		}
		if (s->flags & GNTCOPY_dest_gref) {
			dmap = xengnttab_map_grant_ref(xgt, s->dest.foreign.domid,
						       s->dest.foreign.ref,
						       PROT_READ | PROT_WRITE);
			if (!dmap) {
				s->status = gnt_status(errno);
				if (smap)
					xengnttab_unmap(xgt, smap, 1);
				continue;
			}
			dst = (uint8_t *)dmap + s->dest.foreign.offset;
		}
		memcpy(dst, src, s->len);
		if (smap)
			xengnttab_unmap(xgt, smap, 1);
		if (dmap)
			xengnttab_unmap(xgt, dmap, 1);
	}
	return 0;
}

/* ---- gntalloc ---- */

PUBLIC xengntshr_handle *xengntshr_open(struct xentoollog_logger *logger, unsigned int flags)
{
	xengntshr_handle *xgs = calloc(1, sizeof(*xgs));

	(void)logger; (void)flags;
	if (!xgs)
		return NULL;
	if (simconn_open(&xgs->sc, true, NULL) < 0) {
		int err = errno;

		free(xgs);
		errno = err;
		return NULL;
	}
	return xgs;
}

PUBLIC int xengntshr_close(xengntshr_handle *xgs)
{
	struct region *r;

	if (!xgs)
		return 0;
	while ((r = xgs->shares)) {
		xgs->shares = r->next;
		munmap(r->addr, (size_t)r->count * XENSIM_PAGE_SIZE);
		free(r);
	}
	simconn_close(&xgs->sc);	/* the hypervisor ends our grants */
	free(xgs);
	return 0;
}

PUBLIC int xengntshr_fd(xengntshr_handle *xgs)
{
	return xgs->sc.fd;
}

static void *share_common(xengntshr_handle *xgs, uint32_t domid, int count, uint32_t *refs,
			  int writable, uint32_t notify_offset, evtchn_port_t notify_port)
{
	size_t rlen = sizeof(struct xensim_share_rsp) + 2 * (size_t)count * sizeof(uint32_t);
	struct xensim_share_req q = {
		.hdr.op = XENSIM_OP_GNT_SHARE, .domid = domid, .count = count,
		.writable = !!writable,
	};
	struct xensim_share_rsp *r;
	unsigned int nfds = 0;
	void *addr = NULL;
	int memfd = -1, err;

	if (count <= 0 || (uint32_t)count > XENSIM_MAX_BATCH) {
		errno = EINVAL;
		return NULL;
	}
	if (notify_offset != (uint32_t)-1) {
		q.notify.flags |= XENSIM_NOTIFY_CLEAR_BYTE;
		q.notify.offset = notify_offset;
	}
	if (notify_port != (evtchn_port_t)-1) {
		q.notify.flags |= XENSIM_NOTIFY_SEND_EVENT;
		q.notify.port = notify_port;
	}
	r = calloc(1, rlen);
	if (!r)
		return NULL;
	if (simconn_call(&xgs->sc, &q, sizeof(q), r, rlen, NULL, &memfd, 1, &nfds) < 0)
		goto out;
	if (nfds != 1) {
		errno = EPROTO;
		goto out;
	}
	/* The sharer always maps its own pages read-write. */
	addr = sim_map_frames(memfd, (uint32_t *)(r + 1) + count, NULL, count,
			      PROT_READ | PROT_WRITE, NULL, NULL);
	if (!addr || region_add(&xgs->shares, addr, count, r->share_id) < 0) {
		struct xensim_unshare_req u = { .hdr.op = XENSIM_OP_GNT_UNSHARE,
						.share_id = r->share_id };
		struct xensim_rsp ur;

		err = errno;
		if (addr)
			munmap(addr, (size_t)count * XENSIM_PAGE_SIZE);
		addr = NULL;
		simconn_call(&xgs->sc, &u, sizeof(u), &ur, sizeof(ur), NULL, NULL, 0, NULL);
		errno = err;
		goto out;
	}
	memcpy(refs, r + 1, count * sizeof(uint32_t));
out:
	err = errno;
	if (memfd >= 0)
		close(memfd);
	free(r);
	errno = err;
	return addr;
}

PUBLIC void *xengntshr_share_pages(xengntshr_handle *xgs, uint32_t domid, int count,
				   uint32_t *refs, int writable)
{
	return share_common(xgs, domid, count, refs, writable, -1, -1);
}

PUBLIC void *xengntshr_share_page_notify(xengntshr_handle *xgs, uint32_t domid,
					 uint32_t *ref, int writable,
					 uint32_t notify_offset, evtchn_port_t notify_port)
{
	return share_common(xgs, domid, 1, ref, writable, notify_offset, notify_port);
}

PUBLIC int xengntshr_unshare(xengntshr_handle *xgs, void *start_address, uint32_t count)
{
	struct region *r = region_take(&xgs->shares, start_address, count);
	struct xensim_unshare_req u = { .hdr.op = XENSIM_OP_GNT_UNSHARE };
	struct xensim_rsp ur;

	if (!r)
		return -1;
	munmap(r->addr, (size_t)r->count * XENSIM_PAGE_SIZE);
	u.share_id = r->id;
	free(r);
	return simconn_call(&xgs->sc, &u, sizeof(u), &ur, sizeof(ur), NULL, NULL, 0, NULL);
}
