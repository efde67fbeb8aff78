/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stub.c: the userspace model behind xen-stub.h (frame table, p2m, timers,
 * event channels, scheduler hooks), with counters the tests inspect.
 */

#include <xen/sched.h>

#include "stub-state.h"

struct page_info frame_table[NR_FRAMES];
uint8_t frame_mem[NR_FRAMES][4096] __attribute__((aligned(4096)));
p2m_type_t stub_p2m[GUEST_FRAMES];
s_time_t stub_now;
struct vcpu *current;
struct stub_counters stub;
unsigned int stub_log_count;
unsigned int stub_dirty_count;

static unsigned int next_free_frame = GUEST_FRAMES;

void stub_log(const char *fmt)
{
    stub_log_count++;
    if ( getenv("STUB_VERBOSE") )
        fprintf(stderr, "# xen: %s", fmt);
}

void stub_reset_memory(void)
{
    unsigned int i;

    memset(frame_table, 0, sizeof(frame_table));
    memset(frame_mem, 0, sizeof(frame_mem));
    for ( i = 0; i < GUEST_FRAMES; i++ )
        stub_p2m[i] = p2m_ram_rw;
    next_free_frame = GUEST_FRAMES;
    memset(&stub, 0, sizeof(stub));
    stub_log_count = 0;
    stub_dirty_count = 0;
    stub_now = 1000000000; /* 1 s */
}

void stub_spin_lock_hook(const void *lock)
{
    void (*fn)(void) = stub.hook_fn;

    if ( !fn || lock != stub.hook_lock )
        return;
    stub.hook_fn = NULL;
    stub.hook_lock = NULL;
    fn();
}

bool local_events_need_delivery(void)
{
    return stub.events_pending;
}

struct domain *rcu_lock_domain_by_id(domid_t dom)
{
    unsigned int i;

    for ( i = 0; i < ARRAY_SIZE(stub.domains); i++ )
        if ( stub.domains[i] && stub.domains[i]->domain_id == dom )
            return stub.domains[i];

    return NULL;
}

/* common/domain.c's: dm_op() and friends never act on the caller itself. */
int rcu_lock_remote_domain_by_id(domid_t dom, struct domain **d)
{
    if ( (*d = rcu_lock_domain_by_id(dom)) == NULL )
        return -ESRCH;

    if ( *d == current->domain )
    {
        rcu_unlock_domain(*d);
        return -EPERM;
    }

    return 0;
}

/*
 * xsm_dm_op() under the default (dummy) XSM policy, XSM_DM_PRIV:
 * xsm_default_action() lets the device model domain of the target (a stub
 * domain: src->target == d) and the control domain through.
 */
int xsm_dm_op(int action, struct domain *d)
{
    const struct domain *src = current->domain;

    if ( d && src->target == d )
        return 0;
    if ( src->is_privileged )
        return 0;
    return -EPERM;
}

/* Xen breaks the sharing of a shared page asked for with P2M_UNSHARE. */
static void stub_unshare(unsigned long gfn, int q)
{
    if ( (q & P2M_UNSHARE) && stub_p2m[gfn] == p2m_ram_shared &&
         !stub.fail_unshare )
        stub_p2m[gfn] = p2m_ram_rw;
}

struct page_info *get_page_from_gfn(struct domain *d, unsigned long gfn,
                                    p2m_type_t *t, int q)
{
    if ( gfn >= GUEST_FRAMES || stub_p2m[gfn] == p2m_invalid )
        return NULL;

    stub_unshare(gfn, q);
    *t = stub_p2m[gfn];
    if ( stub_p2m[gfn] == p2m_mmio_direct )
        return NULL;

    frame_table[gfn].owner = d;
    frame_table[gfn].count++;

    return &frame_table[gfn];
}

bool get_page_type(struct page_info *pg, unsigned long type)
{
    if ( pg->deny_type )
        return false;
    pg->type_count++;
    return true;
}

bool get_page_and_type(struct page_info *pg, struct domain *d,
                       unsigned long type)
{
    if ( pg->owner != d )
        return false;
    pg->count++;
    if ( !get_page_type(pg, type) )
    {
        pg->count--;
        return false;
    }
    return true;
}

void put_page(struct page_info *pg)
{
    assert(pg->count > 0);
    pg->count--;
    if ( pg->allocated && pg->count == 0 )
    {
        assert(pg->alloc_ref == 0 && pg->type_count == 0 && pg->maps == 0);
        pg->allocated = false;
        stub.pages_freed++;
    }
}

void put_page_and_type(struct page_info *pg)
{
    assert(pg->type_count > 0);
    pg->type_count--;
    put_page(pg);
}

void put_page_alloc_ref(struct page_info *pg)
{
    assert(pg->alloc_ref == 1);
    pg->alloc_ref = 0;
    put_page(pg);
}

struct page_info *alloc_domheap_page(struct domain *d, unsigned int flags)
{
    struct page_info *pg;

    if ( stub.fail_alloc || next_free_frame >= NR_FRAMES )
        return NULL;

    pg = &frame_table[next_free_frame++];
    memset(pg, 0, sizeof(*pg));
    pg->owner = d;
    pg->count = 1;
    pg->alloc_ref = 1;
    pg->allocated = true;
    pg->accounted = !(flags & MEMF_no_refcount);
    stub.pages_allocated++;
    if ( pg->accounted )
        stub.pages_accounted++;
    if ( current && current->domain == d )
        stub.allocs_as_guest++;

    return pg;
}

void *__map_domain_page(struct page_info *pg)
{
    pg->maps++;
    return frame_mem[pg - frame_table];
}

void *__map_domain_page_global(struct page_info *pg)
{
    return __map_domain_page(pg);
}

void unmap_domain_page(const void *p)
{
    uintptr_t off = (const uint8_t *)p - &frame_mem[0][0];
    struct page_info *pg = &frame_table[off / 4096];

    assert(off < sizeof(frame_mem));
    assert(pg->maps > 0);
    pg->maps--;
}

void unmap_domain_page_global(const void *p)
{
    unmap_domain_page(p);
}

/* The frames Xen allocates for the port are consecutive in this model. */
void *vmap(const mfn_t *mfn, unsigned int nr)
{
    unsigned int i;

    if ( stub.fail_vmap )
        return NULL;

    for ( i = 1; i < nr; i++ )
        assert(mfn_x(mfn[i]) == mfn_x(mfn[0]) + i);
    stub.vmaps++;

    return frame_mem[mfn_x(mfn[0])];
}

void vunmap(const void *p)
{
    assert(stub.vmaps > 0);
    stub.vmaps--;
}

void paging_mark_dirty(struct domain *d, mfn_t mfn)
{
    stub_dirty_count++;
}

void init_timer(struct timer *t, void (*fn)(void *), void *data,
                unsigned int cpu)
{
    memset(t, 0, sizeof(*t));
    t->fn = fn;
    t->data = data;
}

void set_timer(struct timer *t, s_time_t expires)
{
    assert(!t->killed);
    t->expires = expires;
    t->active = true;
}

void stop_timer(struct timer *t)
{
    t->active = false;
}

void kill_timer(struct timer *t)
{
    t->active = false;
    t->killed = true;
}

/* Fire a timer if it is due at the current time. */
bool stub_run_timer(struct timer *t)
{
    if ( !t->active || t->expires > stub_now )
        return false;
    t->active = false;
    t->fn(t->data);
    return true;
}

void vcpu_wake(struct vcpu *v)
{
    stub.wakes++;
}

void domain_crash(struct domain *d)
{
    d->crashed = true;
}

void raise_softirq(unsigned int nr)
{
    stub.softirqs++;
}

int alloc_unbound_xen_event_channel(struct domain *ld, unsigned int lvcpu,
                                    domid_t remote_domid,
                                    xen_event_channel_notification_t fn)
{
    if ( stub.evtchn_in_use )
        return -EBUSY;
    stub.evtchn_in_use = true;
    stub.evtchn_fn = fn;
    stub.evtchn_remote = remote_domid;
    stub.evtchn_port = 7;
    return stub.evtchn_port;
}

void free_xen_event_channel(struct domain *d, int port)
{
    assert(stub.evtchn_in_use && port == stub.evtchn_port);
    stub.evtchn_in_use = false;
    stub.evtchn_fn = NULL;
}

void notify_via_xen_event_channel(struct domain *ld, int lport)
{
    assert(stub.evtchn_in_use && lport == stub.evtchn_port);
    stub.notifies++;
}

/*
 * hvm_copy_{to,from}_guest_phys(): RAM of any type is read; writes go to
 * writable and log-dirty RAM (marked dirty), shared RAM is unshared first,
 * writes to read-only RAM are discarded; MMIO and holes fail.
 */
static enum hvm_translation_result stub_copy(paddr_t gpa, void *buf,
                                             unsigned int size, bool to)
{
    while ( size )
    {
        unsigned long gfn = gpa >> PAGE_SHIFT;
        unsigned int off = gpa & ~PAGE_MASK;
        unsigned int n = min_t(unsigned int, size, PAGE_SIZE - off);

        if ( gfn >= GUEST_FRAMES || !p2m_is_ram(stub_p2m[gfn]) )
            return HVMTRANS_bad_gfn_to_mfn;

        if ( to )
        {
            stub_unshare(gfn, P2M_UNSHARE);
            if ( p2m_is_shared(stub_p2m[gfn]) )
                return HVMTRANS_gfn_shared;
            if ( !p2m_is_discard_write(stub_p2m[gfn]) )
            {
                memcpy(&frame_mem[gfn][off], buf, n);
                stub_dirty_count++;
            }
        }
        else
            memcpy(buf, &frame_mem[gfn][off], n);

        gpa += n;
        buf = (uint8_t *)buf + n;
        size -= n;
    }

    return HVMTRANS_okay;
}

enum hvm_translation_result hvm_copy_to_guest_phys(
    paddr_t paddr, void *buf, unsigned int size, struct vcpu *v)
{
    return stub_copy(paddr, buf, size, true);
}

enum hvm_translation_result hvm_copy_from_guest_phys(
    void *buf, paddr_t paddr, unsigned int size)
{
    return stub_copy(paddr, buf, size, false);
}
