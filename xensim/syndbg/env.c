/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * env.c - the plugin that runs the patched Xen synthetic debugger code
 * (xen/arch/x86/hvm/viridian/{syndbg,debugport}.c, compiled unchanged with
 * env.h force-included) for the domains of the simulated Xen.
 *
 * It plays the few hypervisor services those files use: frames and their
 * mappings (the domain's memfd), Xen-bound event channels (xensimd's kernel
 * ports), timers (a list xensimd's loop drives), vCPU wake-ups (recorded by
 * xensimd, which then re-executes the vCPU's call), and the errno to
 * HV_STATUS mapping of viridian_hypercall(), in one place (sdp_status()).
 */
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xen/sched.h>
#include <asm/guest/hyperv-tlfs.h>
#include <public/hvm/dm_op.h>
#include <public/hvm/syndbg.h>

#include "private.h"
#include "syndbg-plugin.h"

#define SDP_MAX_DOMAINS 64
#define SDP_NR_VCPUS 2
#define SDP_MAX_TIMERS (SDP_MAX_DOMAINS * SDP_NR_VCPUS)

static const struct sdp_host *host;
struct vcpu *current;

struct sdp_dom {
    bool used;
    struct domain d;
    struct vcpu v[SDP_NR_VCPUS];
    int memfd;
    uint64_t nr_frames;
    xen_event_channel_notification_t evtchn_fn;
    int evtchn;
};

static struct sdp_dom doms[SDP_MAX_DOMAINS];
static struct timer *timers[SDP_MAX_TIMERS];

static struct sdp_dom *sdp_find(uint32_t domid)
{
    unsigned int i;

    for ( i = 0; i < SDP_MAX_DOMAINS; i++ )
        if ( doms[i].used && doms[i].d.domain_id == domid )
            return &doms[i];
    return NULL;
}

static struct sdp_dom *sdp_of(const struct domain *d)
{
    return (struct sdp_dom *)((char *)d - offsetof(struct sdp_dom, d));
}

void sdp_env_log(const char *fmt)
{
    char buf[256];
    size_t n;

    /* Xen's %pd and friends are not printf formats: log the text only. */
    snprintf(buf, sizeof(buf), "xen: %s", fmt);
    n = strlen(buf);
    if ( n && buf[n - 1] == '\n' )
        buf[n - 1] = '\0';
    host->log(buf);
}

s_time_t sdp_env_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (s_time_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- memory ---- */

static struct page_info *page_new(struct domain *d, uint64_t gfn)
{
    struct sdp_dom *sd = sdp_of(d);
    struct page_info *pg = calloc(1, sizeof(*pg));
    void *va;

    if ( !pg )
        return NULL;
    va = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, sd->memfd,
              (off_t)gfn << PAGE_SHIFT);
    if ( va == MAP_FAILED )
    {
        free(pg);
        return NULL;
    }
    pg->owner = d;
    pg->gfn = gfn;
    pg->va = va;
    pg->count = 1;
    return pg;
}

struct page_info *get_page_from_gfn(struct domain *d, unsigned long gfn,
                                    p2m_type_t *t, int q)
{
    /* Every frame of a simulated domain is ordinary writable RAM. */
    if ( gfn >= sdp_of(d)->nr_frames )
        return NULL;
    *t = p2m_ram_rw;
    return page_new(d, gfn);
}

bool get_page_type(struct page_info *pg, unsigned long type)
{
    pg->type_count++;
    return true;
}

bool get_page_and_type(struct page_info *pg, struct domain *d,
                       unsigned long type)
{
    if ( pg->owner != d )
        return false;
    pg->count++;
    return get_page_type(pg, type);
}

void put_page(struct page_info *pg)
{
    if ( --pg->count > 0 )
        return;
    munmap(pg->va, PAGE_SIZE);
    if ( pg->allocated )
        host->frame_free(pg->owner->domain_id, pg->gfn);
    free(pg);
}

void put_page_and_type(struct page_info *pg)
{
    pg->type_count--;
    put_page(pg);
}

void put_page_alloc_ref(struct page_info *pg)
{
    pg->alloc_ref = 0;
    put_page(pg);
}

struct page_info *alloc_domheap_page(struct domain *d, unsigned int flags)
{
    struct page_info *pg;
    uint64_t gfn;

    if ( host->frame_alloc(d->domain_id, &gfn) < 0 )
        return NULL;
    pg = page_new(d, gfn);
    if ( !pg )
    {
        host->frame_free(d->domain_id, gfn);
        return NULL;
    }
    pg->alloc_ref = 1;
    pg->allocated = true;
    return pg;
}

void *__map_domain_page(struct page_info *pg)
{
    return pg->va;
}

void *__map_domain_page_global(struct page_info *pg)
{
    return pg->va;
}

/* Pages stay mapped for the life of their page_info. */
void unmap_domain_page(const void *p)
{
}

void unmap_domain_page_global(const void *p)
{
}

/*
 * The only caller maps the debug port's frames, all of one domain; the
 * size of a mapping is kept in the page before it.
 */
static struct domain *vmap_owner;

void *vmap(const mfn_t *mfn, unsigned int nr)
{
    struct sdp_dom *sd = sdp_of(vmap_owner);
    uint8_t *base;
    unsigned int i;

    base = mmap(NULL, (nr + 1) * PAGE_SIZE, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if ( base == MAP_FAILED )
        return NULL;
    *(unsigned int *)base = nr;
    for ( i = 0; i < nr; i++ )
        if ( mmap(base + (i + 1) * PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_FIXED, sd->memfd,
                  (off_t)mfn_x(mfn[i]) << PAGE_SHIFT) == MAP_FAILED )
        {
            munmap(base, (nr + 1) * PAGE_SIZE);
            return NULL;
        }
    return base + PAGE_SIZE;
}

void vunmap(const void *p)
{
    uint8_t *base = (uint8_t *)p - PAGE_SIZE;

    munmap(base, (*(unsigned int *)base + 1) * PAGE_SIZE);
}

/*
 * hvm_copy_{to,from}_guest_phys() of the current vCPU's domain: every
 * frame of a simulated domain is ordinary writable RAM.
 */
static enum hvm_translation_result sdp_copy(paddr_t gpa, void *buf,
                                            unsigned int size, bool to)
{
    struct domain *d = current->domain;

    while ( size )
    {
        unsigned int off = gpa & ~PAGE_MASK;
        unsigned int n = min_t(unsigned int, size, PAGE_SIZE - off);
        struct page_info *pg;
        p2m_type_t t;

        pg = get_page_from_gfn(d, gpa >> PAGE_SHIFT, &t, P2M_ALLOC);
        if ( !pg )
            return HVMTRANS_bad_gfn_to_mfn;
        if ( to )
            memcpy(pg->va + off, buf, n);
        else
            memcpy(buf, pg->va + off, n);
        put_page(pg);

        gpa += n;
        buf = (uint8_t *)buf + n;
        size -= n;
    }

    return HVMTRANS_okay;
}

enum hvm_translation_result hvm_copy_to_guest_phys(
    paddr_t paddr, void *buf, unsigned int size, struct vcpu *v)
{
    return sdp_copy(paddr, buf, size, true);
}

enum hvm_translation_result hvm_copy_from_guest_phys(
    void *buf, paddr_t paddr, unsigned int size)
{
    return sdp_copy(paddr, buf, size, false);
}

/* ---- timers ---- */

void init_timer(struct timer *t, void (*fn)(void *), void *data,
                unsigned int cpu)
{
    unsigned int i;

    memset(t, 0, sizeof(*t));
    t->fn = fn;
    t->data = data;
    for ( i = 0; i < SDP_MAX_TIMERS; i++ )
        if ( !timers[i] )
        {
            timers[i] = t;
            return;
        }
    host->log("syndbg plugin: out of timer slots");
}

void set_timer(struct timer *t, s_time_t expires)
{
    t->expires = expires;
    t->active = true;
    host->timers_changed();
}

void stop_timer(struct timer *t)
{
    t->active = false;
}

void kill_timer(struct timer *t)
{
    unsigned int i;

    t->active = false;
    t->killed = true;
    for ( i = 0; i < SDP_MAX_TIMERS; i++ )
        if ( timers[i] == t )
            timers[i] = NULL;
}

static int64_t sdp_next_deadline(void)
{
    int64_t next = -1;
    unsigned int i;

    for ( i = 0; i < SDP_MAX_TIMERS; i++ )
        if ( timers[i] && timers[i]->active &&
             (next < 0 || timers[i]->expires < next) )
            next = timers[i]->expires;
    return next;
}

static void sdp_run_timers(void)
{
    s_time_t now = NOW();
    unsigned int i;

    for ( i = 0; i < SDP_MAX_TIMERS; i++ )
    {
        struct timer *t = timers[i];

        if ( t && t->active && t->expires <= now )
        {
            t->active = false;
            current = t->data;
            t->fn(t->data);
        }
    }
}

/* ---- scheduler and event channels ---- */

void vcpu_wake(struct vcpu *v)
{
    host->vcpu_wake(v->domain->domain_id, v->vcpu_id);
}

void domain_crash(struct domain *d)
{
    d->crashed = true;
    host->log("syndbg plugin: domain crashed by the debug port code");
}

void raise_softirq(unsigned int nr)
{
}

/* xensimd delivers no interrupts to a vCPU blocked in a debug call. */
bool local_events_need_delivery(void)
{
    return false;
}

/*
 * The debug port asks whether its backend's domain still exists.  xensimd
 * ends a backend's session itself when its domain goes, so every backend
 * the port knows of is alive here.
 */
struct domain *rcu_lock_domain_by_id(domid_t dom)
{
    static struct domain alive;

    alive.domain_id = dom;
    return &alive;
}

int alloc_unbound_xen_event_channel(struct domain *ld, unsigned int lvcpu,
                                    domid_t remote_domid,
                                    xen_event_channel_notification_t fn)
{
    struct sdp_dom *sd = sdp_of(ld);
    uint32_t port;
    int rc = host->evtchn_alloc(ld->domain_id, remote_domid, &port);

    if ( rc < 0 )
        return rc;
    sd->evtchn_fn = fn;
    sd->evtchn = port;
    return port;
}

void free_xen_event_channel(struct domain *d, int port)
{
    struct sdp_dom *sd = sdp_of(d);

    host->evtchn_free(d->domain_id, port);
    if ( sd->evtchn == port )
    {
        sd->evtchn = -1;
        sd->evtchn_fn = NULL;
    }
}

void notify_via_xen_event_channel(struct domain *ld, int lport)
{
    host->evtchn_notify(ld->domain_id, lport);
}

/* ---- the plugin's entry points ---- */

static int sdp_init(const struct sdp_host *h)
{
    host = h;
    return 0;
}

static void sdp_domain_destroy(uint32_t domid)
{
    struct sdp_dom *sd = sdp_find(domid);
    unsigned int i;

    if ( !sd )
        return;
    for ( i = 0; i < SDP_NR_VCPUS; i++ )
    {
        current = &sd->v[i];
        viridian_syndbg_vcpu_deinit(&sd->v[i]);
        viridian_dbgport_vcpu_deinit(&sd->v[i]);
        /* As viridian_vcpu_deinit(): the port looks at the vCPUs later. */
        XFREE(sd->v[i].arch.hvm.viridian);
    }
    vmap_owner = &sd->d;
    viridian_syndbg_domain_deinit(&sd->d);
    viridian_dbgport_domain_deinit(&sd->d);
    viridian_syndbg_domain_destroy(&sd->d);
    viridian_dbgport_domain_destroy(&sd->d);
    free(sd->d.arch.hvm.viridian);
    close(sd->memfd);
    memset(sd, 0, sizeof(*sd));
}

static int sdp_domain_create(uint32_t domid, uint64_t features)
{
    struct sdp_dom *sd = NULL;
    unsigned int i;
    int rc = -ENOMEM;

    if ( sdp_find(domid) )
        return -EEXIST;
    for ( i = 0; i < SDP_MAX_DOMAINS && !sd; i++ )
        if ( !doms[i].used )
            sd = &doms[i];
    if ( !sd )
        return -ENOSPC;

    memset(sd, 0, sizeof(*sd));
    sd->memfd = host->memfd(domid, &sd->nr_frames);
    if ( sd->memfd < 0 )
        return sd->memfd;
    sd->used = true;
    sd->evtchn = -1;
    sd->d.domain_id = domid;
    sd->d.is_hvm = true;
    sd->d.max_vcpus = SDP_NR_VCPUS;
    sd->d.arch.hvm.params[HVM_PARAM_VIRIDIAN] = features;
    sd->d.arch.hvm.viridian = xzalloc(struct viridian_domain);
    if ( !sd->d.arch.hvm.viridian )
        goto fail;
    for ( i = 0; i < SDP_NR_VCPUS; i++ )
    {
        struct vcpu *v = &sd->v[i];

        v->vcpu_id = i;
        v->domain = &sd->d;
        v->mode = 8;
        v->next_in_list = i + 1 < SDP_NR_VCPUS ? &sd->v[i + 1] : NULL;
        v->arch.hvm.viridian = xzalloc(struct viridian_vcpu);
        if ( !v->arch.hvm.viridian )
            goto fail;
        viridian_dbgport_vcpu_init(v);
        sd->d.vcpu[i] = v;
    }
    if ( (rc = viridian_dbgport_domain_init(&sd->d)) ||
         (rc = viridian_syndbg_domain_init(&sd->d)) )
        goto fail;
    return 0;

 fail:
    sdp_domain_destroy(domid);
    return rc;
}

/* dm_op() has done its checks (device model rights, not the guest itself). */
static int sdp_dm_syndbg(uint32_t caller, uint32_t domid, unsigned int op,
                         uint32_t *backend)
{
    struct sdp_dom *sd = sdp_find(domid);
    struct xen_dm_op_syndbg_backend o = { .op = op };
    int rc;

    if ( !sd )
        return -ESRCH;
    vmap_owner = &sd->d;
    current = &sd->v[0];
    rc = viridian_dbgport_dm_op(&sd->d, caller, &o);
    if ( !rc )
        *backend = o.backend;
    return rc;
}

static int sdp_acquire(uint32_t caller, uint32_t domid, unsigned int id,
                       unsigned int frame, unsigned int nr, uint64_t *gfns)
{
    struct sdp_dom *sd = sdp_find(domid);
    xen_pfn_t list[XEN_SYNDBG_NR_FRAMES];
    /* Xen names the caller by current->domain. */
    struct domain caller_dom = { .domain_id = caller };
    struct vcpu caller_vcpu = { .domain = &caller_dom };
    unsigned int i;
    int rc;

    if ( !sd )
        return -ESRCH;
    if ( nr > XEN_SYNDBG_NR_FRAMES )
        return -EINVAL;
    vmap_owner = &sd->d;
    current = &caller_vcpu;
    rc = viridian_dbgport_acquire(&sd->d, id, frame, nr, list);
    current = NULL;
    for ( i = 0; rc > 0 && i < (unsigned int)rc; i++ )
        gfns[i] = list[i];
    return rc;
}

/* Internal errno to HV_STATUS, as viridian_hypercall()'s out: block does. */
static int sdp_status(int rc)
{
    switch ( rc )
    {
    case 0:
        return HV_STATUS_SUCCESS;
    case -ERESTART:
        return SDP_BLOCKED;
    case -EBADMSG:
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    case -EILSEQ:
        return HV_STATUS_INVALID_ALIGNMENT;
    case -EACCES:
        return HV_STATUS_ACCESS_DENIED;
    case -ENOBUFS:
        return HV_STATUS_INSUFFICIENT_BUFFERS;
    case -ENODATA:
        return HV_STATUS_NO_DATA;
    case -EOPNOTSUPP:
        return HV_STATUS_INVALID_HYPERCALL_CODE;
    case -ENOMEM:
        return HV_STATUS_INSUFFICIENT_MEMORY;
    default:
        return HV_STATUS_INVALID_PARAMETER;
    }
}

static int sdp_hypercall(uint32_t domid, uint32_t vcpu, uint16_t code,
                         bool fast, uint64_t in_gpa, uint64_t out_gpa)
{
    struct sdp_dom *sd = sdp_find(domid);

    if ( !sd || vcpu >= SDP_NR_VCPUS )
        return HV_STATUS_INVALID_PARAMETER;
    vmap_owner = &sd->d;
    current = &sd->v[vcpu];
    return sdp_status(viridian_syndbg_hypercall(current, code, fast,
                                                in_gpa, out_gpa));
}

static int sdp_msr(uint32_t domid, uint32_t vcpu, bool write, uint32_t idx,
                   uint64_t *val)
{
    struct sdp_dom *sd = sdp_find(domid);
    int rc;

    if ( !sd || vcpu >= SDP_NR_VCPUS )
        return -ESRCH;
    vmap_owner = &sd->d;
    current = &sd->v[vcpu];
    rc = write ? viridian_syndbg_wrmsr(current, idx, *val)
               : viridian_syndbg_rdmsr(current, idx, val);
    return rc == X86EMUL_OKAY ? 0 : -EINVAL;
}

static void sdp_event(uint32_t domid, uint32_t port)
{
    struct sdp_dom *sd = sdp_find(domid);

    if ( !sd || !sd->evtchn_fn || sd->evtchn != (int)port )
        return;
    vmap_owner = &sd->d;
    current = &sd->v[0];
    sd->evtchn_fn(&sd->v[0], port);
}

static const struct sdp_ops sdp_ops = {
    .version = SDP_VERSION,
    .init = sdp_init,
    .domain_create = sdp_domain_create,
    .domain_destroy = sdp_domain_destroy,
    .dm_syndbg = sdp_dm_syndbg,
    .acquire = sdp_acquire,
    .hypercall = sdp_hypercall,
    .msr = sdp_msr,
    .event = sdp_event,
    .next_deadline = sdp_next_deadline,
    .run_timers = sdp_run_timers,
};

__attribute__((visibility("default")))
const struct sdp_ops *xensim_syndbg_plugin(void)
{
    return &sdp_ops;
}
