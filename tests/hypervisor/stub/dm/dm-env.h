/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-env.h: what xen/arch/x86/hvm/dm.c needs beyond xen-stub.h, so that the
 * patched dm.c compiles unchanged and dm_op() runs its real common checks
 * (rcu_lock_remote_domain_by_id(), is_hvm_domain(), xsm_dm_op(), the
 * buffer copies) before XEN_DMOP_syndbg_backend reaches debugport.c.
 *
 * Force-included after xen-stub.h when dm.c is compiled; the headers dm.c
 * names resolve to the (empty) files next to this one.  Only the privilege
 * checks are modelled (in stub.c, after common/domain.c and the XSM dummy
 * policy); every other operation's back end fails with -EOPNOTSUPP, since
 * the tests issue only the syndbg operation.
 */
#ifndef TESTS_HYPERVISOR_STUB_DM_ENV_H
#define TESTS_HYPERVISOR_STUB_DM_ENV_H

#include <xen/sched.h>
#include <public/memory.h>

/* ---- guest buffers: a handle is a pointer into the test's memory -------- */
#define copy_from_guest_offset(ptr, hnd, off, nr) \
    (memcpy((ptr), (const char *)(hnd).p + (off) * sizeof(*(ptr)), \
            (nr) * sizeof(*(ptr))), 0UL)
#define copy_to_guest_offset(hnd, off, ptr, nr) \
    (memcpy((char *)(hnd).p + (off) * sizeof(*(ptr)), (ptr), \
            (nr) * sizeof(*(ptr))), 0UL)
#define array_index_nospec(i, n) (i)
#define hypercall_preempt_check() false
#define hypercall_create_continuation(...) (-ERESTART)

/* ---- the checks under test (stub.c) -------------------------------------- */
#define XSM_DM_PRIV 1
int rcu_lock_remote_domain_by_id(domid_t dom, struct domain **d);
int xsm_dm_op(int action, struct domain *d);

/* ---- the other operations' back ends, never reached --------------------- */
#define GB(n) ((uint64_t)(n) << 30)
#define BITS_PER_BYTE 8
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define cmpxchg(p, o, n) __sync_val_compare_and_swap(p, o, n)
#define HVM_EVENT_VECTOR_UNSET (-1)
#define HVM_EVENT_VECTOR_UPDATING (-2)
#define _gfn(x) ((gfn_t){ (x) })
#define _pfn(x) (x)

#define p2m_ioreq_server ((p2m_type_t)100)
#define p2m_mmio_dm ((p2m_type_t)101)
#define p2m_is_hole(t) ((t) == p2m_invalid)
#define p2m_is_paging(t) false

struct p2m_domain {
    struct { unsigned long entry_count; } ioreq;
    unsigned long max_mapped_pfn;
};

static inline int dm_stub_none(int unused, ...)
{
    return -EOPNOTSUPP;
}
static inline void *dm_stub_null(int unused, ...)
{
    return NULL;
}
#define DM_STUB_NONE(...) dm_stub_none(0, __VA_ARGS__)
#define DM_STUB_VOID(...) ((void)dm_stub_none(0, __VA_ARGS__))
#define hap_enabled(d) false
#define shadow_mode_enabled(d) false
#define paging_mode_log_dirty(d) false
#define p2m_get_hostp2m(d) ((struct p2m_domain *)NULL)
#define domain_get_maximum_gpfn(d) 0UL
#define ioreq_server_map_mem_type DM_STUB_NONE
#define p2m_finish_type_change DM_STUB_NONE
#define shadow_track_dirty_vram DM_STUB_NONE
#define hap_track_dirty_vram DM_STUB_NONE
#define hvm_pci_intx_assert DM_STUB_VOID
#define hvm_pci_intx_deassert DM_STUB_VOID
#define hvm_isa_irq_assert DM_STUB_VOID
#define hvm_isa_irq_deassert DM_STUB_VOID
#define paging_mark_pfn_dirty DM_STUB_VOID
#define sh_remove_shadows DM_STUB_VOID
#define p2m_get_ioreq_server(...) dm_stub_null(0, __VA_ARGS__)
#define get_gfn_unshare(d, gfn, t) (DM_STUB_VOID(d, gfn), *(t) = p2m_invalid)
#define put_gfn DM_STUB_VOID
#define p2m_mem_paging_populate DM_STUB_VOID
#define p2m_change_type_one DM_STUB_NONE
#define hvm_set_pci_link_route DM_STUB_NONE
#define hvm_inject_msi DM_STUB_NONE
#define domain_shutdown DM_STUB_VOID
#define xenmem_add_to_physmap DM_STUB_NONE
#define hvm_set_mem_pinned_cacheattr DM_STUB_NONE
#define ioreq_server_dm_op DM_STUB_NONE

#endif /* TESTS_HYPERVISOR_STUB_DM_ENV_H */
