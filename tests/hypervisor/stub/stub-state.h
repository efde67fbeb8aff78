/* SPDX-License-Identifier: GPL-2.0-only */
/* stub-state.h: counters and hooks of the userspace model (stub.c). */
#ifndef TESTS_HYPERVISOR_STUB_STATE_H
#define TESTS_HYPERVISOR_STUB_STATE_H

struct stub_counters {
    unsigned int wakes;
    unsigned int softirqs;
    unsigned int notifies;
    unsigned int pages_allocated;
    unsigned int pages_freed;
    unsigned int vmaps;
    unsigned int pages_accounted;   /* allocated without MEMF_no_refcount */
    unsigned int allocs_as_guest;   /* allocations while a guest vCPU runs */
    bool fail_alloc;
    bool fail_vmap;
    bool fail_unshare;
    bool events_pending;            /* local_events_need_delivery() */
    struct domain *domains[4];      /* what rcu_lock_domain_by_id() finds */
    /* Called once, just before the lock at hook_lock is next taken. */
    const void *hook_lock;
    void (*hook_fn)(void);
    bool evtchn_in_use;
    int evtchn_port;
    domid_t evtchn_remote;
    xen_event_channel_notification_t evtchn_fn;
};

extern struct stub_counters stub;

void stub_reset_memory(void);
bool stub_run_timer(struct timer *t);

#endif
