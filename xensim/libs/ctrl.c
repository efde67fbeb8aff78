// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libxenctrl.so.4.17 for the simulated Xen: the part Debian's xenstored and
 * the project's programs use (open/close, domain information), and the
 * privcmd driver's dm_op path (below).  Like the real domctls, the domain
 * queries are refused (EPERM) outside dom0.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <xenctrl.h>
#include <xen/sys/privcmd.h>

#include "simconn.h"

#define PUBLIC __attribute__((visibility("default")))

struct xc_interface_core {
	struct simconn sc;
};

PUBLIC xc_interface *xc_interface_open(xentoollog_logger *logger,
				       xentoollog_logger *dombuild_logger,
				       unsigned open_flags)
{
	xc_interface *xch = calloc(1, sizeof(*xch));

	(void)logger; (void)dombuild_logger; (void)open_flags;
	if (!xch)
		return NULL;
	if (simconn_open(&xch->sc, true, NULL) < 0) {
		int err = errno;

		free(xch);
		errno = err;
		return NULL;
	}
	return xch;
}

PUBLIC int xc_interface_close(xc_interface *xch)
{
	if (!xch)
		return 0;
	simconn_close(&xch->sc);
	free(xch);
	return 0;
}

/* Fetch up to max domains from first on; returns the count or -1. */
static int fetch(xc_interface *xch, uint32_t first, unsigned int max,
		 struct xensim_dominfo **out)
{
	struct xensim_dominfo_req q = {
		.hdr.op = XENSIM_OP_DOMINFO, .first_domid = first, .max = max,
	};
	size_t rlen = XENSIM_MSG_MAX, got;
	struct xensim_dominfo_rsp *r = malloc(rlen);

	if (!r)
		return -1;
	if (simconn_call(&xch->sc, &q, sizeof(q), r, rlen, &got, NULL, 0, NULL) < 0) {
		int err = errno;

		free(r);
		errno = err;
		return -1;
	}
	if (got < sizeof(*r) + r->count * sizeof(struct xensim_dominfo)) {
		free(r);
		errno = EPROTO;
		return -1;
	}
	*out = (struct xensim_dominfo *)(r + 1);
	return r->count;
}

static void fetch_free(struct xensim_dominfo *di)
{
	free((struct xensim_dominfo_rsp *)di - 1);
}

PUBLIC int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid,
			     unsigned int max_doms, xc_dominfo_t *info)
{
	struct xensim_dominfo *di;
	int i, n = fetch(xch, first_domid, max_doms, &di);

	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		xc_dominfo_t *o = &info[i];

		memset(o, 0, sizeof(*o));
		o->domid = di[i].domid;
		o->dying = !!(di[i].flags & XENSIM_DOM_DYING);
		o->crashed = !!(di[i].flags & XENSIM_DOM_CRASHED);
		o->shutdown = !!(di[i].flags & XENSIM_DOM_SHUTDOWN);
		o->paused = !!(di[i].flags & XENSIM_DOM_PAUSED);
		o->running = !!(di[i].flags & XENSIM_DOM_RUNNING);
		o->blocked = !o->running && !o->dying && !o->shutdown;
		o->hvm = !!(di[i].flags & XENSIM_DOM_HVM);
		o->shutdown_reason = di[i].shutdown_reason;
		o->nr_pages = di[i].nr_pages;
		o->max_memkb = (unsigned long)di[i].max_pages * (XENSIM_PAGE_SIZE / 1024);
		o->nr_online_vcpus = 1;
		o->max_vcpu_id = 0;
		memcpy(o->handle, di[i].handle, sizeof(o->handle));
	}
	fetch_free(di);
	return n;
}

PUBLIC int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain,
				 unsigned int max_domains, xc_domaininfo_t *info)
{
	struct xensim_dominfo *di;
	int i, n = fetch(xch, first_domain, max_domains, &di);

	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		xc_domaininfo_t *o = &info[i];
		uint32_t f = di[i].flags;

		memset(o, 0, sizeof(*o));
		o->domain = di[i].domid;
		o->flags = ((f & XENSIM_DOM_DYING) ? XEN_DOMINF_dying : 0) |
			   ((f & XENSIM_DOM_HVM) ? XEN_DOMINF_hvm_guest : 0) |
			   ((f & XENSIM_DOM_SHUTDOWN) ? XEN_DOMINF_shutdown : 0) |
			   ((f & XENSIM_DOM_PAUSED) ? XEN_DOMINF_paused : 0) |
			   ((f & XENSIM_DOM_RUNNING) ? XEN_DOMINF_running : 0) |
			   ((di[i].shutdown_reason & XEN_DOMINF_shutdownmask)
			    << XEN_DOMINF_shutdownshift);
		o->tot_pages = di[i].nr_pages;
		o->max_pages = di[i].max_pages;
		o->nr_online_vcpus = 1;
		memcpy(o->handle, di[i].handle, sizeof(o->handle));
	}
	fetch_free(di);
	return n;
}

/*
 * The privcmd driver's dm_op path, for a backend that issues a dm_op
 * libxendevicemodel does not know (xen-kdrelay's XEN_DMOP_syndbg_backend):
 * there is no /dev/xen/privcmd on the simulated host, so the backend calls
 * these in place of open() and ioctl() when they are defined (weak
 * references).  A descriptor is a hypercall connection; like the driver,
 * IOCTL_PRIVCMD_RESTRICT binds it to one domain for good and a dm_op for
 * another domain is then refused with EPERM.
 */
#define SIM_PRIVCMD_MAX 16

PUBLIC int xensim_privcmd_open(void);
PUBLIC int xensim_privcmd_ioctl(int fd, unsigned long req, void *arg);

static struct sim_privcmd {
	struct simconn sc;
	bool used;
	domid_t restricted;
} privcmds[SIM_PRIVCMD_MAX];
static pthread_mutex_t privcmd_lock = PTHREAD_MUTEX_INITIALIZER;

static struct sim_privcmd *privcmd_find(int fd)
{
	for (unsigned int i = 0; i < SIM_PRIVCMD_MAX; i++)
		if (privcmds[i].used && privcmds[i].sc.fd == fd)
			return &privcmds[i];
	return NULL;
}

PUBLIC int xensim_privcmd_open(void)
{
	struct sim_privcmd *p;
	struct simconn sc;

	if (simconn_open(&sc, true, NULL) < 0)
		return -1;
	pthread_mutex_lock(&privcmd_lock);
	/* A closed descriptor's number may come back: forget the old one. */
	p = privcmd_find(sc.fd);
	for (unsigned int i = 0; !p && i < SIM_PRIVCMD_MAX; i++)
		if (!privcmds[i].used)
			p = &privcmds[i];
	if (p) {
		p->sc = sc;
		p->used = true;
		p->restricted = DOMID_INVALID;
	}
	pthread_mutex_unlock(&privcmd_lock);
	if (!p) {
		simconn_close(&sc);
		errno = EMFILE;
		return -1;
	}
	return sc.fd;
}

static int privcmd_dm_op(struct sim_privcmd *p, const privcmd_dm_op_t *k)
{
	struct xensim_dm_op_req q = { .hdr.op = XENSIM_OP_DM_OP, .domid = k->dom };
	struct xensim_dm_op_rsp r;
	uint8_t *buf;
	uint32_t op;
	uint16_t sub;
	size_t got;

	if (p->restricted != DOMID_INVALID && k->dom != p->restricted) {
		errno = EPERM;
		return -1;
	}
	if (k->num < 1 || !k->ubufs || k->ubufs[0].size < 8 || !k->ubufs[0].uptr) {
		errno = k->num < 1 ? EINVAL : EFAULT;
		return -1;
	}
	/* struct xen_dm_op: u32 op, u32 pad, then the operation's fields. */
	buf = k->ubufs[0].uptr;
	memcpy(&op, buf, sizeof(op));
	q.op = op;
	if (k->ubufs[0].size < 16) {
		errno = EFAULT;
		return -1;
	}
	memcpy(&sub, buf + 8, sizeof(sub));
	memcpy(&q.pad, buf + 12, sizeof(q.pad));
	q.sub = sub;
	if (simconn_call(&p->sc, &q, sizeof(q), &r, sizeof(r), &got, NULL, 0, NULL) < 0)
		return -1;
	if (got < sizeof(r)) {
		errno = EPROTO;
		return -1;
	}
	sub = (uint16_t)r.backend;
	memcpy(buf + 10, &sub, sizeof(sub));
	return 0;
}

PUBLIC int xensim_privcmd_ioctl(int fd, unsigned long req, void *arg)
{
	struct sim_privcmd *p;
	int rc = -1;

	pthread_mutex_lock(&privcmd_lock);
	p = privcmd_find(fd);
	if (!p) {
		errno = ENOTTY;
	} else if (req == IOCTL_PRIVCMD_RESTRICT) {
		domid_t dom = *(const domid_t *)arg;

		if (p->restricted != DOMID_INVALID && p->restricted != dom) {
			errno = EINVAL;
		} else {
			p->restricted = dom;
			rc = 0;
		}
	} else if (req == IOCTL_PRIVCMD_DM_OP) {
		rc = privcmd_dm_op(p, arg);
	} else {
		errno = ENOTTY;
	}
	pthread_mutex_unlock(&privcmd_lock);
	return rc;
}
