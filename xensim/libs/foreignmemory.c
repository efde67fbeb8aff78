// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libxenforeignmemory.so.1 for the simulated Xen: a privileged domain maps
 * another domain's frames by number (privcmd's IOCTL_PRIVCMD_MMAPBATCH_V2).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenforeignmemory.h>

#include "simconn.h"

#define PUBLIC __attribute__((visibility("default")))
#define NO_RESTRICT 0xffffffffu

struct xenforeignmemory_handle {
	struct simconn sc;
	uint32_t restrict_dom;
};

PUBLIC xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *logger,
						      unsigned int open_flags)
{
	xenforeignmemory_handle *fmem = calloc(1, sizeof(*fmem));

	(void)logger; (void)open_flags;
	if (!fmem)
		return NULL;
	fmem->restrict_dom = NO_RESTRICT;
	if (simconn_open(&fmem->sc, true, NULL) < 0) {
		int err = errno;

		free(fmem);
		errno = err;
		return NULL;
	}
	return fmem;
}

PUBLIC int xenforeignmemory_close(xenforeignmemory_handle *fmem)
{
	if (!fmem)
		return 0;
	simconn_close(&fmem->sc);
	free(fmem);
	return 0;
}

PUBLIC void *xenforeignmemory_map2(xenforeignmemory_handle *fmem, uint32_t dom, void *addr,
				   int prot, int flags, size_t num,
				   const xen_pfn_t arr[], int err[])
{
	size_t qlen = sizeof(struct xensim_fmem_req) + num * sizeof(uint64_t);
	size_t rlen = sizeof(struct xensim_fmem_rsp) + num * sizeof(int32_t);
	struct xensim_fmem_req *q = NULL;
	struct xensim_fmem_rsp *r = NULL;
	unsigned int nfds = 0;
	int32_t *errs;
	void *base = NULL;
	int memfd = -1, e;
	size_t i;

	(void)flags;
	if (num == 0 || num > XENSIM_MAX_BATCH) {
		errno = EINVAL;
		return NULL;
	}
	if (fmem->restrict_dom != NO_RESTRICT && dom != fmem->restrict_dom) {
		errno = EPERM;
		return NULL;
	}
	q = calloc(1, qlen);
	r = calloc(1, rlen);
	if (!q || !r)
		goto out;
	q->hdr.op = XENSIM_OP_FMEM_MAP;
	q->domid = dom;
	q->count = num;
	for (i = 0; i < num; i++)
		((uint64_t *)(q + 1))[i] = arr[i];
	if (simconn_call(&fmem->sc, q, qlen, r, rlen, NULL, &memfd, 1, &nfds) < 0)
		goto out;
	if (nfds != 1) {
		errno = EPROTO;
		goto out;
	}
	errs = (int32_t *)(r + 1);
	for (i = 0; i < num; i++) {
		if (err)
			err[i] = errs[i];
		else if (errs[i]) {
			/* Without an error array any failed frame fails the call. */
			errno = -errs[i];
			goto out;
		}
	}
	base = sim_map_frames(memfd, NULL, (uint64_t *)(q + 1), num, prot, addr, errs);
out:
	e = errno;
	if (memfd >= 0)
		close(memfd);
	free(q);
	free(r);
	errno = e;
	return base;
}

PUBLIC void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom, int prot,
				  size_t pages, const xen_pfn_t arr[], int err[])
{
	return xenforeignmemory_map2(fmem, dom, NULL, prot, 0, pages, arr, err);
}

PUBLIC int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr, size_t pages)
{
	(void)fmem;
	return munmap(addr, pages * XENSIM_PAGE_SIZE);
}

PUBLIC int xenforeignmemory_restrict(xenforeignmemory_handle *fmem, domid_t domid)
{
	fmem->restrict_dom = domid;
	return 0;
}

/* XENMEM_acquire_resource through IOCTL_PRIVCMD_MMAP_RESOURCE. */
struct xenforeignmemory_resource_handle {
	void *addr;
	unsigned long nr_frames;
};

PUBLIC xenforeignmemory_resource_handle *xenforeignmemory_map_resource(
	xenforeignmemory_handle *fmem, domid_t domid, unsigned int type,
	unsigned int id, unsigned long frame, unsigned long nr_frames,
	void **paddr, int prot, int flags)
{
	struct xensim_resource_req q = {
		.hdr.op = XENSIM_OP_RESOURCE_MAP, .domid = domid, .type = type,
		.id = id, .frame = frame, .nr_frames = nr_frames,
	};
	size_t rlen = sizeof(struct xensim_resource_rsp) + XENSIM_MAX_BATCH * sizeof(uint64_t);
	struct xensim_resource_rsp *r = NULL;
	xenforeignmemory_resource_handle *fres = NULL;
	unsigned int nfds = 0;
	int memfd = -1, e;
	size_t got;

	(void)flags;
	if (nr_frames == 0 || nr_frames > XENSIM_MAX_BATCH || frame > UINT32_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if (fmem->restrict_dom != NO_RESTRICT && domid != fmem->restrict_dom) {
		errno = EPERM;
		return NULL;
	}
	r = calloc(1, rlen);
	fres = calloc(1, sizeof(*fres));
	if (!r || !fres)
		goto fail;
	if (simconn_call(&fmem->sc, &q, sizeof(q), r, rlen, &got, &memfd, 1, &nfds) < 0)
		goto fail;
	if (nfds != 1 || r->nr_frames != nr_frames ||
	    got < sizeof(*r) + nr_frames * sizeof(uint64_t)) {
		errno = EPROTO;
		goto fail;
	}
	fres->addr = sim_map_frames(memfd, NULL, (uint64_t *)(r + 1), nr_frames, prot,
				    paddr ? *paddr : NULL, NULL);
	if (!fres->addr)
		goto fail;
	fres->nr_frames = nr_frames;
	if (paddr)
		*paddr = fres->addr;
	close(memfd);
	free(r);
	return fres;
fail:
	e = errno;
	if (memfd >= 0)
		close(memfd);
	free(r);
	free(fres);
	errno = e;
	return NULL;
}

PUBLIC int xenforeignmemory_unmap_resource(xenforeignmemory_handle *fmem,
					   xenforeignmemory_resource_handle *fres)
{
	int rc = 0;

	(void)fmem;
	if (!fres)
		return 0;
	if (fres->addr)
		rc = munmap(fres->addr, fres->nr_frames * XENSIM_PAGE_SIZE);
	free(fres);
	return rc;
}
