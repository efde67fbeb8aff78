/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen-stub.h: just enough of the hypervisor's environment to compile the
 * patched Viridian synthetic debugger sources (syndbg.c, debugport.c)
 * unchanged in userspace, as Xen's own tools/tests/vpci does for vpci.c.
 *
 * Force-included (-include) before every source.  The Xen headers the
 * sources name resolve to empty files in stub/include, except the real
 * public headers and the real asm/hvm/viridian.h, asm/guest/hyperv-tlfs.h
 * and viridian/private.h from the patched tree, so the structures under
 * test are Xen's own.
 *
 * The model: one frame table of NR_FRAMES pages.  Guest frame g (g <
 * GUEST_FRAMES) is machine frame g with the p2m type in stub_p2m[g]; pages
 * Xen allocates come after.  Every reference and mapping is counted, so a
 * test can check that nothing leaks.  Time is a variable the test moves;
 * timers fire when the test says so.
 */

#ifndef TESTS_HYPERVISOR_XEN_STUB_H
#define TESTS_HYPERVISOR_XEN_STUB_H

#include "xen-base.h"

/* ---- logging: counted, formats not interpreted ------------------------- */
extern unsigned int stub_log_count;
void stub_log(const char *fmt);
#define XENLOG_G_INFO ""
#define XENLOG_G_WARNING ""
#define XENLOG_G_ERR ""
#define XENLOG_INFO ""
#define XENLOG_WARNING ""
#define XENLOG_ERR ""
#define printk(fmt, ...) stub_log(fmt)
#define gprintk(lvl, fmt, ...) stub_log(lvl fmt)
#define gdprintk(lvl, fmt, ...) stub_log(lvl fmt)

/* ---- memory ------------------------------------------------------------- */
#define xzalloc(t) ((t *)calloc(1, sizeof(t)))
#define XFREE(p) do { free(p); (p) = NULL; } while ( 0 )

typedef struct { uint64_t m; } mfn_t;
typedef struct { uint64_t g; } gfn_t;
#define mfn_x(x) ((x).m)
#define _mfn(x) ((mfn_t){ (x) })
#define gfn_x(x) ((x).g)
#define gaddr_to_gfn(a) ((gfn_t){ (a) >> PAGE_SHIFT })

#define NR_FRAMES 64
#define GUEST_FRAMES 16

struct domain;

struct page_info {
    struct domain *owner;
    int count;                  /* general references */
    int type_count;             /* PGT_writable_page references */
    int alloc_ref;              /* allocation reference of Xen pages */
    int maps;                   /* live mappings */
    bool allocated;             /* handed out by alloc_domheap_page() */
    bool deny_type;             /* test hook: get_page_type() fails */
};

extern struct page_info frame_table[NR_FRAMES];
extern uint8_t frame_mem[NR_FRAMES][4096] __attribute__((aligned(4096)));

typedef enum {
    p2m_invalid = 0,
    p2m_ram_rw,
    p2m_ram_ro,
    p2m_mmio_direct,
} p2m_type_t;
extern p2m_type_t stub_p2m[GUEST_FRAMES];

#define p2m_is_ram(t) ((t) == p2m_ram_rw || (t) == p2m_ram_ro)
#define p2m_is_readonly(t) ((t) == p2m_ram_ro)
#define P2M_ALLOC 1
#define PGT_writable_page 1
#define MEMF_no_refcount 1

static inline mfn_t page_to_mfn(const struct page_info *pg)
{
    return _mfn(pg - frame_table);
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
void paging_mark_dirty(struct domain *d, mfn_t mfn);
extern unsigned int stub_dirty_count;

/* ---- time and timers ---------------------------------------------------- */
extern s_time_t stub_now;
#define NOW() (stub_now)

/* timers, locks, register state: see xen-base.h */

#endif /* TESTS_HYPERVISOR_XEN_STUB_H */
