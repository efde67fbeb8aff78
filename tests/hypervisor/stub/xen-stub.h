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

/* Lets a test run code at the moment a given lock is about to be taken. */
void stub_spin_lock_hook(const void *lock);
#define spin_lock_hook(l) stub_spin_lock_hook(l)

#include "xen-base.h"

/* ---- logging: counted, formats not interpreted ------------------------- */
extern unsigned int stub_log_count;
void stub_log(const char *fmt);
#define printk(fmt, ...) stub_log(fmt)
#define gprintk(lvl, fmt, ...) stub_log(lvl fmt)
#define gdprintk(lvl, fmt, ...) stub_log(lvl fmt)

/* ---- memory (the rest is in xen-base.h) ------------------------------ */
#define NR_FRAMES 128
#define GUEST_FRAMES 16

struct page_info {
    struct domain *owner;
    int count;                  /* general references */
    int type_count;             /* PGT_writable_page references */
    int alloc_ref;              /* allocation reference of Xen pages */
    int maps;                   /* live mappings */
    bool allocated;             /* handed out by alloc_domheap_page() */
    bool accounted;             /* counted in the owner's allocation */
    bool deny_type;             /* test hook: get_page_type() fails */
};

extern struct page_info frame_table[NR_FRAMES];
extern uint8_t frame_mem[NR_FRAMES][4096] __attribute__((aligned(4096)));

extern p2m_type_t stub_p2m[GUEST_FRAMES];

static inline mfn_t page_to_mfn(const struct page_info *pg)
{
    return _mfn(pg - frame_table);
}

void paging_mark_dirty(struct domain *d, mfn_t mfn);
extern unsigned int stub_dirty_count;

/* ---- time and timers ---------------------------------------------------- */
extern s_time_t stub_now;
#define NOW() (stub_now)

/* timers, locks, register state: see xen-base.h */

#endif /* TESTS_HYPERVISOR_XEN_STUB_H */
