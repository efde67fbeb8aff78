/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * env.h: the hypervisor environment of the patched Viridian synthetic
 * debugger sources (syndbg.c, debugport.c) when they run inside the
 * simulated Xen, compiled unchanged into a plugin that xensimd loads.
 *
 * Same shape as tests/hypervisor/stub/xen-stub.h (whose empty headers in
 * stub/include this reuses), but the memory is real domain memory: a guest
 * frame is a page of the domain's memfd, a page Xen allocates for the port
 * is a frame taken from the domain, vmap() maps frames contiguously, time
 * is CLOCK_MONOTONIC and timers are driven by xensimd's loop.
 *
 * Force-included (-include) before every source.  The Xen headers the
 * sources name resolve to empty files in stub/include, except the real
 * public headers and the real asm/hvm/viridian.h, asm/guest/hyperv-tlfs.h
 * and viridian/private.h from the patched tree, so the structures are
 * Xen's own.
 *
 */

#ifndef XENSIM_SYNDBG_ENV_H
#define XENSIM_SYNDBG_ENV_H

#include "../../tests/hypervisor/stub/xen-base.h"

/* ---- logging ----------------------------------------------------------- */
void sdp_env_log(const char *fmt);
/* %pd is Xen's domain format: print the pointer, never dereference it. */
#define printk(fmt, ...) sdp_env_log(fmt)
#define gprintk(lvl, fmt, ...) sdp_env_log(lvl fmt)
#define gdprintk(lvl, fmt, ...) sdp_env_log(lvl fmt)

/* ---- memory (the rest is in xen-base.h) ------------------------------ */
/*
 * A frame of a domain's memory.  The "mfn" of a frame is its gfn in the
 * owner's memfd: the resource mapping hands exactly that to the backend.
 */
struct page_info {
    struct domain *owner;
    uint64_t gfn;
    uint8_t *va;                /* mapping of this one page */
    int count;
    int type_count;
    int alloc_ref;
    bool allocated;             /* taken by alloc_domheap_page() */
};

static inline mfn_t page_to_mfn(const struct page_info *pg)
{
    return _mfn(pg->gfn);
}

#define paging_mark_dirty(d, mfn) ((void)(d), (void)(mfn))

/* ---- time and timers ---------------------------------------------------- */
s_time_t sdp_env_now(void);
#define NOW() (sdp_env_now())

/* timers, locks, register state: see xen-base.h */

#endif /* XENSIM_SYNDBG_ENV_H */
