// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libxenctrl.so.4.17 for the simulated Xen: the part Debian's xenstored and
 * the project's programs use (open/close, domain information).  Like the
 * real domctls, the domain queries are refused (EPERM) outside dom0.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>

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

/* HVMOP_set_param / HVMOP_get_param: the simulated host serves the debug port's. */
static int hvm_param(xc_interface *xch, uint32_t dom, uint32_t param, bool set,
		     uint64_t *value)
{
	struct xensim_hvm_param_req q = {
		.hdr.op = XENSIM_OP_HVM_PARAM, .domid = dom, .index = param,
		.set = set, .value = set ? *value : 0,
	};
	struct xensim_hvm_param_rsp r;
	size_t got;

	if (simconn_call(&xch->sc, &q, sizeof(q), &r, sizeof(r), &got, NULL, 0, NULL) < 0)
		return -1;
	if (!set) {
		if (got < sizeof(r)) {
			errno = EPROTO;
			return -1;
		}
		*value = r.value;
	}
	return 0;
}

PUBLIC int xc_hvm_param_set(xc_interface *xch, uint32_t dom, uint32_t param, uint64_t value)
{
	return hvm_param(xch, dom, param, true, &value);
}

PUBLIC int xc_hvm_param_get(xc_interface *xch, uint32_t dom, uint32_t param, uint64_t *value)
{
	return hvm_param(xch, dom, param, false, value);
}
