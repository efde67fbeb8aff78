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
#define XENLOG_G_INFO ""
#define XENLOG_G_WARNING ""
#define XENLOG_G_ERR ""
#define XENLOG_INFO ""
#define XENLOG_WARNING ""
#define XENLOG_ERR ""
/* %pd is Xen's domain format: print the pointer, never dereference it. */
#define printk(fmt, ...) sdp_env_log(fmt)
#define gprintk(lvl, fmt, ...) sdp_env_log(lvl fmt)
#define gdprintk(lvl, fmt, ...) sdp_env_log(lvl fmt)

/* ---- memory ------------------------------------------------------------- */
#define xzalloc(t) ((t *)calloc(1, sizeof(t)))
#define XFREE(p) do { free(p); (p) = NULL; } while ( 0 )

typedef struct { uint64_t m; } mfn_t;
typedef struct { uint64_t g; } gfn_t;
#define mfn_x(x) ((x).m)
#define _mfn(x) ((mfn_t){ (x) })
#define gfn_x(x) ((x).g)
#define gaddr_to_gfn(a) ((gfn_t){ (a) >> PAGE_SHIFT })

struct domain;

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

typedef enum {
    p2m_invalid = 0,
    p2m_ram_rw,
    p2m_ram_ro,
    p2m_mmio_direct,
} p2m_type_t;

#define p2m_is_ram(t) ((t) == p2m_ram_rw || (t) == p2m_ram_ro)
#define p2m_is_readonly(t) ((t) == p2m_ram_ro)
#define P2M_ALLOC 1
#define PGT_writable_page 1
#define MEMF_no_refcount 1

static inline mfn_t page_to_mfn(const struct page_info *pg)
{
    return _mfn(pg->gfn);
}

struct page_info *get_page_from_gfn(struct domain *d, unsigned long gfn,
                                    p2m_type_t *t, int q);
bool get_page_type(struct page_info *pg, unsigned long type);
bool get_page_and_type(struct page_info *pg, struct domain *d,
                       unsigned long type);
void put_page(struct page_info *pg);
void put_page_and_type(struct page_info *pg);
void put_page_alloc_ref(struct page_info *pg);
struct page_info *alloc_domheap_page(struct domain *d, unsigned int flags);
void *__map_domain_page(struct page_info *pg);
void *__map_domain_page_global(struct page_info *pg);
void unmap_domain_page(const void *p);
void unmap_domain_page_global(const void *p);
void *vmap(const mfn_t *mfn, unsigned int nr);
void vunmap(const void *p);
#define clear_page(p) memset((p), 0, PAGE_SIZE)
#define paging_mark_dirty(d, mfn) ((void)(d), (void)(mfn))

/* ---- time and timers ---------------------------------------------------- */
s_time_t sdp_env_now(void);
#define NOW() (sdp_env_now())

/* timers, locks, register state: see xen-base.h */

#endif /* XENSIM_SYNDBG_ENV_H */
