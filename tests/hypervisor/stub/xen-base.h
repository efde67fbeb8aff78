/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen-base.h: the part of the hypervisor environment that every userspace
 * build of the patched Viridian sources shares -- the unit tests' stub
 * (xen-stub.h) and the simulated host's plugin (xensim/syndbg/env.h).
 */

#ifndef TESTS_HYPERVISOR_XEN_BASE_H
#define TESTS_HYPERVISOR_XEN_BASE_H

#define __XEN_TOOLS__ 1
/* The sources under test are built only with this option. */
#define CONFIG_VIRIDIAN_SYNDBG 1

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ERESTART
#define ERESTART 85
#endif

/* ---- basic types and helpers ------------------------------------------ */
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef uint8_t __u8;
typedef uint16_t __u16;
typedef uint32_t __u32;
typedef uint64_t __u64;
typedef int64_t s64;
typedef int64_t __s64;
typedef int64_t s_time_t;
typedef uint64_t paddr_t;

#define STIME_MAX INT64_MAX
#define MILLISECS(ms) ((s_time_t)(ms) * 1000000)
#define SECONDS(s) ((s_time_t)(s) * 1000000000)

#define BIT(pos, sfx) (1##sfx << (pos))
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))

#define BITS_PER_LONG 64
#define BITS_TO_LONGS(n) (((n) + BITS_PER_LONG - 1) / BITS_PER_LONG)
#define DECLARE_BITMAP(name, bits) unsigned long name[BITS_TO_LONGS(bits)]

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ROUNDUP(x, a) (((x) + (a) - 1) & ~((a) - 1))
#define min(a, b) ({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); \
                     _a < _b ? _a : _b; })
#define min_t(t, a, b) ({ t _a = (a); t _b = (b); _a < _b ? _a : _b; })
#define BUILD_BUG_ON(c) _Static_assert(!(c), #c)
#define ASSERT(c) assert(c)
#define ASSERT_UNREACHABLE() assert(0)
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define cf_check
#define __read_mostly
#define __init

#define ACCESS_ONCE(x) (*(volatile __typeof__(x) *)&(x))
#define read_atomic(p) __atomic_load_n(p, __ATOMIC_RELAXED)
#define write_atomic(p, v) __atomic_store_n(p, v, __ATOMIC_RELAXED)
#define smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)

static inline void set_bit(int nr, volatile void *addr)
{
    ((volatile unsigned long *)addr)[nr / 64] |= 1UL << (nr % 64);
}
static inline void clear_bit(int nr, volatile void *addr)
{
    ((volatile unsigned long *)addr)[nr / 64] &= ~(1UL << (nr % 64));
}
static inline int test_bit(int nr, const volatile void *addr)
{
    return (((const volatile unsigned long *)addr)[nr / 64] >> (nr % 64)) & 1;
}
static inline int test_and_clear_bit(int nr, volatile void *addr)
{
    int old = test_bit(nr, addr);

    clear_bit(nr, addr);
    return old;
}

/* ---- log levels (each environment defines printk and friends) -------- */
#define XENLOG_G_INFO ""
#define XENLOG_G_WARNING ""
#define XENLOG_G_ERR ""
#define XENLOG_INFO ""
#define XENLOG_WARNING ""
#define XENLOG_ERR ""

/* ---- memory: frames, the p2m, page references ------------------------- */
#define xzalloc(t) ((t *)calloc(1, sizeof(t)))
#define XFREE(p) do { free(p); (p) = NULL; } while ( 0 )

typedef struct { uint64_t m; } mfn_t;
typedef struct { uint64_t g; } gfn_t;
#define mfn_x(x) ((x).m)
#define _mfn(x) ((mfn_t){ (x) })
#define gfn_x(x) ((x).g)
#define gaddr_to_gfn(a) ((gfn_t){ (a) >> PAGE_SHIFT })

struct domain;
struct page_info;               /* each environment defines its frames */

/* The p2m types the sources distinguish, grouped as Xen's p2m.h does. */
typedef enum {
    p2m_invalid = 0,
    p2m_ram_rw,
    p2m_ram_ro,
    p2m_ram_logdirty,           /* RAM being tracked (live migration) */
    p2m_ram_shared,             /* copy-on-write shared RAM */
    p2m_mmio_direct,
} p2m_type_t;
#define p2m_is_ram(t) ((t) == p2m_ram_rw || (t) == p2m_ram_ro || \
                       (t) == p2m_ram_logdirty || (t) == p2m_ram_shared)
/* P2M_RO_TYPES: read-only in the p2m, not necessarily to Xen. */
#define p2m_is_readonly(t) ((t) == p2m_ram_ro || (t) == p2m_ram_logdirty || \
                            (t) == p2m_ram_shared)
#define p2m_is_discard_write(t) ((t) == p2m_ram_ro)
#define p2m_is_shared(t) ((t) == p2m_ram_shared)
#define P2M_ALLOC 1
#define P2M_UNSHARE 2
#define PGT_writable_page 1
#define MEMF_no_refcount 1

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

/* Guest-physical copies, as hvm_copy_{to,from}_guest_phys() do them. */
enum hvm_translation_result {
    HVMTRANS_okay,
    HVMTRANS_bad_linear_to_gfn,
    HVMTRANS_bad_gfn_to_mfn,
    HVMTRANS_unhandleable,
    HVMTRANS_gfn_paged_out,
    HVMTRANS_gfn_shared,
    HVMTRANS_need_retry,
};
struct vcpu;
enum hvm_translation_result hvm_copy_to_guest_phys(
    paddr_t paddr, void *buf, unsigned int size, struct vcpu *v);
enum hvm_translation_result hvm_copy_from_guest_phys(
    void *buf, paddr_t paddr, unsigned int size);

/* ---- timers (each environment drives them its own way) ---------------- */
struct timer {
    void (*fn)(void *);
    void *data;
    s_time_t expires;
    bool active;
    bool killed;
};

void init_timer(struct timer *t, void (*fn)(void *), void *data,
                unsigned int cpu);
void set_timer(struct timer *t, s_time_t expires);
void stop_timer(struct timer *t);
void kill_timer(struct timer *t);

/* ---- locks -------------------------------------------------------------- */
typedef struct { int held; } spinlock_t;
/* An environment may watch lock acquisitions (the unit tests' race hook). */
#ifndef spin_lock_hook
#define spin_lock_hook(l) ((void)0)
#endif
#define spin_lock_init(l) ((l)->held = 0)
#define spin_lock(l) do { spin_lock_hook(l); assert(!(l)->held); \
                          (l)->held = 1; } while ( 0 )
#define spin_unlock(l) do { assert((l)->held); (l)->held = 0; } while ( 0 )

/* ---- register state: struct cpu_user_regs is the public one ----------- */
#define NR_hypercalls 64

struct cpuid_leaf { uint32_t a, b, c, d; };

#define X86EMUL_OKAY 0
#define X86EMUL_EXCEPTION 2

#endif /* TESTS_HYPERVISOR_XEN_BASE_H */
