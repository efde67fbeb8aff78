/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stub xen/sched.h: domains and vCPUs as the synthetic debugger sources
 * see them, around the real struct viridian_vcpu / viridian_domain.
 */
#ifndef TESTS_HYPERVISOR_STUB_SCHED_H
#define TESTS_HYPERVISOR_STUB_SCHED_H

#include <public/xen.h>
#include <public/hvm/params.h>
#include <asm/hvm/viridian.h>

#define STUB_MAX_VCPUS 4

struct vcpu {
    unsigned int vcpu_id;
    unsigned int processor;
    unsigned long pause_flags;
    int mode;                   /* hvm_guest_x86_mode() */
    struct domain *domain;
    struct vcpu *next_in_list;
    struct {
        struct {
            struct viridian_vcpu *viridian;
            struct {            /* dm.c's XEN_DMOP_inject_event */
                int vector;
                uint8_t type, insn_len;
                uint32_t error_code;
                uint64_t cr2;
            } inject_event;
        } hvm;
    } arch;
};

struct domain {
    domid_t domain_id;
    bool is_hvm;
    bool crashed;
    bool is_dying;
    bool is_privileged;         /* is_control_domain() */
    struct domain *target;      /* the domain a device model domain serves */
    struct vcpu *vcpu[STUB_MAX_VCPUS];
    unsigned int max_vcpus;
    struct {
        struct {
            struct viridian_domain *viridian;
            struct viridian_dbgport *viridian_dbgport;
            struct viridian_syndbg *viridian_syndbg;
            uint64_t params[HVM_NR_PARAMS];
        } hvm;
    } arch;
};

#define _VPF_blocked 0
#define _VPF_blocked_in_xen 2

#define for_each_vcpu(d, v) \
    for ( (v) = (d)->vcpu[0]; (v) != NULL; (v) = (v)->next_in_list )

extern struct vcpu *current;

#define is_hvm_domain(d) ((d)->is_hvm)
#define viridian_feature_mask(d) ((d)->arch.hvm.params[HVM_PARAM_VIRIDIAN])
#define is_viridian_domain(d) \
    (is_hvm_domain(d) && (viridian_feature_mask(d) & HVMPV_base_freq))
#define hvm_guest_x86_mode(v) ((v)->mode)

void vcpu_wake(struct vcpu *v);

/* As the scheduler's: only a vCPU blocked with _VPF_blocked. */
static inline void vcpu_unblock(struct vcpu *v)
{
    if ( test_and_clear_bit(_VPF_blocked, &v->pause_flags) )
        vcpu_wake(v);
}

/* VT-d posted interrupts: nothing to set up in userspace. */
#define arch_vcpu_block(v) ((void)(v))

/* Has the current vCPU an event (interrupt) to take in the guest? */
bool local_events_need_delivery(void);

/* A domain by id, NULL if it does not exist (any more). */
struct domain *rcu_lock_domain_by_id(domid_t dom);
static inline void rcu_unlock_domain(struct domain *d)
{
}
void domain_crash(struct domain *d);

#define SCHEDULE_SOFTIRQ 0
void raise_softirq(unsigned int nr);

typedef void (*xen_event_channel_notification_t)(struct vcpu *v,
                                                 unsigned int port);
int alloc_unbound_xen_event_channel(struct domain *ld, unsigned int lvcpu,
                                    domid_t remote_domid,
                                    xen_event_channel_notification_t fn);
void free_xen_event_channel(struct domain *d, int port);
void notify_via_xen_event_channel(struct domain *ld, int lport);

#endif
