/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test-syndbg.c: drive the patched Viridian synthetic debugger sources
 * (syndbg.c and debugport.c, compiled unchanged against stub/) through
 * every SYNDBG MSR and debug hypercall, with a debug backend played by the
 * test through the real public/hvm/syndbg.h ring layout.
 *
 * Guest memory: frame 1 is the hypercall input page, 2 the output page,
 * 3/4/5 the send/receive/pending pages, 14 is read-only RAM, 15 MMIO, and
 * everything from GUEST_FRAMES up is outside the guest.
 */

#include <check.h>

#include <xen/sched.h>
#include <xen/dm.h>
#include <public/hvm/dm_op.h>
#include <public/hvm/syndbg.h>

#include "private.h"
#include "stub-state.h"

#define IN_GPA      (1UL << PAGE_SHIFT)
#define OUT_GPA     (2UL << PAGE_SHIFT)
#define SEND_GPA    (3UL << PAGE_SHIFT)
#define RECV_GPA    (4UL << PAGE_SHIFT)
#define PEND_GPA    (5UL << PAGE_SHIFT)
#define RO_GPA      (14UL << PAGE_SHIFT)
#define MMIO_GPA    (15UL << PAGE_SHIFT)
#define BAD_GPA     ((uint64_t)GUEST_FRAMES << PAGE_SHIFT)

#define BACKEND     0

/* Largest payload of one HvPostDebugData / HvRetrieveDebugData. */
#define SYNDBG_TEST_MAX 4088

static struct domain dom;
static struct vcpu vcpus[2];

/* The backend's domain: the caller of XENMEM_acquire_resource. */
static struct domain be_dom = { .domain_id = BACKEND };
static struct vcpu be_vcpu = { .domain = &be_dom };
static struct domain other_dom = { .domain_id = 9 };
static struct vcpu other_vcpu = { .domain = &other_dom };

/* ---- fixture ------------------------------------------------------------ */

static void setup_domain(uint64_t features)
{
    unsigned int i;

    stub_reset_memory();
    stub_p2m[RO_GPA >> PAGE_SHIFT] = p2m_ram_ro;
    stub_p2m[MMIO_GPA >> PAGE_SHIFT] = p2m_mmio_direct;

    memset(&dom, 0, sizeof(dom));
    memset(vcpus, 0, sizeof(vcpus));
    dom.domain_id = 5;
    dom.is_hvm = true;
    dom.max_vcpus = ARRAY_SIZE(vcpus);
    dom.arch.hvm.params[HVM_PARAM_VIRIDIAN] = features;
    dom.arch.hvm.viridian = xzalloc(struct viridian_domain);
    ck_assert_ptr_nonnull(dom.arch.hvm.viridian);

    for ( i = 0; i < ARRAY_SIZE(vcpus); i++ )
    {
        struct vcpu *v = &vcpus[i];

        v->vcpu_id = i;
        v->domain = &dom;
        v->mode = 8;
        v->next_in_list = i + 1 < ARRAY_SIZE(vcpus) ? &vcpus[i + 1] : NULL;
        v->arch.hvm.viridian = xzalloc(struct viridian_vcpu);
        ck_assert_ptr_nonnull(v->arch.hvm.viridian);
        ck_assert_int_eq(viridian_dbgport_vcpu_init(v), 0);
        dom.vcpu[i] = v;
    }

    ck_assert_int_eq(viridian_dbgport_domain_init(&dom), 0);
    ck_assert_int_eq(viridian_syndbg_domain_init(&dom), 0);
    current = &vcpus[0];

    be_dom.is_dying = false;
    stub.domains[0] = &dom;
    stub.domains[1] = &be_dom;
    stub.domains[2] = &other_dom;
}

static void setup(void)
{
    setup_domain(HVMPV_base_freq | HVMPV_syndbg);
}

static void setup_nosyndbg(void)
{
    setup_domain(HVMPV_base_freq);
}

/*
 * What hvm_domain_relinquish_resources() does through
 * viridian_domain_deinit() when the domain dies: the vCPUs' and the
 * domain's Viridian state go; the port's shell stays for other domains.
 */
static void relinquish(void)
{
    unsigned int i;

    dom.is_dying = true;
    for ( i = 0; i < ARRAY_SIZE(vcpus); i++ )
    {
        if ( !vcpus[i].arch.hvm.viridian )
            continue;
        viridian_syndbg_vcpu_deinit(&vcpus[i]);
        viridian_dbgport_vcpu_deinit(&vcpus[i]);
        ck_assert(vcpus[i].arch.hvm.viridian->dbgport_timer.killed);
        XFREE(vcpus[i].arch.hvm.viridian);
    }
    if ( dom.arch.hvm.viridian )
    {
        viridian_syndbg_domain_deinit(&dom);
        viridian_dbgport_domain_deinit(&dom);
        XFREE(dom.arch.hvm.viridian);
    }
}

/* Tear down as hvm_domain_destroy() does, then check for leaks. */
static void teardown(void)
{
    unsigned int i;

    relinquish();
    viridian_syndbg_domain_destroy(&dom);
    viridian_dbgport_domain_destroy(&dom);
    ck_assert_ptr_null(dom.arch.hvm.viridian_syndbg);
    ck_assert_ptr_null(dom.arch.hvm.viridian_dbgport);

    ck_assert(!stub.evtchn_in_use);
    ck_assert_uint_eq(stub.vmaps, 0);
    ck_assert_uint_eq(stub.pages_freed, stub.pages_allocated);
    for ( i = 0; i < NR_FRAMES; i++ )
    {
        ck_assert_msg(frame_table[i].count == 0 &&
                      frame_table[i].type_count == 0 &&
                      frame_table[i].maps == 0,
                      "frame %u leaked: count %d type %d maps %d", i,
                      frame_table[i].count, frame_table[i].type_count,
                      frame_table[i].maps);
    }
}

/* ---- the backend, through the public ring layout --------------------------- */

static struct xen_syndbg_shared *sh;

/* XEN_DMOP_syndbg_backend from domain caller, past dm_op()'s checks. */
static int dm_syndbg(domid_t caller, unsigned int op, unsigned int pad,
                     domid_t *backend)
{
    struct xen_dm_op_syndbg_backend o = {
        .op = op, .backend = 0x1234, .pad = pad,
    };
    int rc = viridian_dbgport_dm_op(&dom, caller, &o);

    /* dm_op() copies the operation back only when it succeeded. */
    if ( !rc && backend )
        *backend = o.backend;
    return rc;
}

/*
 * XEN_DMOP_syndbg_backend as a relay issues it (HYPERVISOR_dm_op with one
 * buffer), from a vCPU of the caller's domain, through dm.c's dm_op().
 * *backend gets what dm_op() copied back (0x1234 when it copied nothing).
 */
static int hyp_dm_syndbg(struct vcpu *caller, domid_t domid, unsigned int op,
                         domid_t *backend)
{
    struct xen_dm_op o = {
        .op = XEN_DMOP_syndbg_backend,
        .u.syndbg_backend = { .op = op, .backend = 0x1234 },
    };
    struct dmop_args args = { .domid = domid, .nr_bufs = 1 };
    struct vcpu *saved = current;
    int rc;

    set_xen_guest_handle(args.buf[0].h, &o);
    args.buf[0].size = sizeof(o);
    current = caller;
    rc = dm_op(&args);
    current = saved;
    if ( backend )
        *backend = o.u.syndbg_backend.backend;
    return rc;
}

/* Domain value attaches itself, or (DOMID_INVALID) the backend is detached. */
static int set_backend(domid_t value)
{
    if ( value == DOMID_INVALID )
        return dm_syndbg(BACKEND, XEN_DMOP_SYNDBG_DETACH, 0, NULL);
    return dm_syndbg(value, XEN_DMOP_SYNDBG_ATTACH, 0, NULL);
}

static int get_backend(uint64_t *value)
{
    domid_t b = 0x1234;
    int rc = dm_syndbg(BACKEND, XEN_DMOP_SYNDBG_QUERY, 0, &b);

    *value = b;
    return rc;
}

/* XENMEM_acquire_resource as the domain of vCPU caller. */
static int be_acquire_as(struct vcpu *caller, unsigned int id,
                         unsigned int frame, unsigned int nr, xen_pfn_t *mfn)
{
    struct vcpu *guest = current;
    int rc;

    current = caller;
    rc = viridian_dbgport_acquire(&dom, id, frame, nr, mfn);
    current = guest;

    return rc;
}

static int be_acquire(unsigned int id, unsigned int frame, unsigned int nr,
                      xen_pfn_t *mfn)
{
    return be_acquire_as(&be_vcpu, id, frame, nr, mfn);
}

/* The backend attaches (XEN_DMOP_syndbg_backend) and maps the pages. */
static struct xen_syndbg_shared *be_attach(void)
{
    xen_pfn_t mfn[XEN_SYNDBG_NR_FRAMES];
    struct vcpu *guest = current;
    unsigned int i;

    current = &be_vcpu;
    ck_assert_int_eq(set_backend(BACKEND), 0);
    current = guest;
    ck_assert_int_eq(be_acquire(0, 0, XEN_SYNDBG_NR_FRAMES, mfn),
                     XEN_SYNDBG_NR_FRAMES);
    for ( i = 1; i < XEN_SYNDBG_NR_FRAMES; i++ )
        ck_assert_uint_eq(mfn[i], mfn[0] + i);

    sh = (struct xen_syndbg_shared *)frame_mem[mfn[0]];
    ck_assert_uint_eq(sh->magic, XEN_SYNDBG_MAGIC);
    ck_assert_uint_eq(sh->version, XEN_SYNDBG_VERSION);
    ck_assert_uint_eq(sh->ring_size, XEN_SYNDBG_RING_SIZE);
    ck_assert_uint_eq(sh->max_pdu, XEN_SYNDBG_MAX_PDU);
    ck_assert_uint_eq(sh->evtchn, stub.evtchn_port);
    ck_assert_uint_eq(stub.evtchn_remote, BACKEND);

    return sh;
}

static uint8_t *be_ring(bool out)
{
    return (uint8_t *)sh +
           (out ? XEN_SYNDBG_OUT_FRAME : XEN_SYNDBG_IN_FRAME) * PAGE_SIZE;
}

static void ring_copy_out(const uint8_t *ring, uint32_t idx, void *dst,
                          uint32_t len)
{
    uint32_t i;

    for ( i = 0; i < len; i++ )
        ((uint8_t *)dst)[i] = ring[(idx + i) & (XEN_SYNDBG_RING_SIZE - 1)];
}

static void ring_copy_in(uint8_t *ring, uint32_t idx, const void *src,
                         uint32_t len)
{
    uint32_t i;

    for ( i = 0; i < len; i++ )
        ring[(idx + i) & (XEN_SYNDBG_RING_SIZE - 1)] = ((const uint8_t *)src)[i];
}

static uint32_t rec(uint32_t len)
{
    return ROUNDUP(sizeof(struct xen_syndbg_pdu) + len, XEN_SYNDBG_ALIGN);
}

/* Consume one out record; 0, or -1 when the out ring is empty. */
static int be_pop(struct xen_syndbg_pdu *hdr, void *buf)
{
    uint32_t cons = sh->out.cons;

    if ( sh->out.prod == cons )
        return -1;
    ring_copy_out(be_ring(true), cons, hdr, sizeof(*hdr));
    ck_assert_uint_le(hdr->len, XEN_SYNDBG_MAX_PDU);
    if ( buf )
        ring_copy_out(be_ring(true), cons + sizeof(*hdr), buf, hdr->len);
    sh->out.cons = cons + rec(hdr->len);
    return 0;
}

/* Produce one in record; 0, or -1 when it does not fit. */
static int be_push_session(const void *buf, uint16_t len, uint32_t session)
{
    struct xen_syndbg_pdu hdr = {
        .len = len, .type = XEN_SYNDBG_PDU_DATA, .session = session,
    };
    uint32_t prod = sh->in.prod;

    if ( XEN_SYNDBG_RING_SIZE - (prod - sh->in.cons) < rec(len) )
        return -1;
    ring_copy_in(be_ring(false), prod, &hdr, sizeof(hdr));
    ring_copy_in(be_ring(false), prod + sizeof(hdr), buf, len);
    sh->in.prod = prod + rec(len);
    return 0;
}

static int be_push(const void *buf, uint16_t len)
{
    return be_push_session(buf, len, sh->in_session);
}

static void be_notify(void)
{
    ck_assert(stub.evtchn_in_use);
    stub.evtchn_fn(dom.vcpu[0], stub.evtchn_port);
}

/* ---- the guest ------------------------------------------------------------ */

static uint8_t *gpa_ptr(uint64_t gpa)
{
    return &frame_mem[gpa >> PAGE_SHIFT][gpa & ~PAGE_MASK];
}

static int hcall(uint16_t code, bool fast, uint64_t in, uint64_t out)
{
    return viridian_syndbg_hypercall(current, code, fast, in, out);
}

static int post_at(uint64_t in_gpa, const void *data, uint32_t count,
                   uint32_t options, uint32_t *pending)
{
    uint32_t hdr[2] = { count, options };
    int rc;

    if ( (in_gpa >> PAGE_SHIFT) < GUEST_FRAMES )
    {
        memcpy(gpa_ptr(in_gpa), hdr, sizeof(hdr));
        if ( data && (in_gpa & ~PAGE_MASK) + 8 + (uint64_t)count <= PAGE_SIZE )
            memcpy(gpa_ptr(in_gpa) + 8, data, count);
    }
    memset(gpa_ptr(OUT_GPA), 0xee, 4);
    rc = hcall(HVCALL_POST_DEBUG_DATA, false, in_gpa, OUT_GPA);
    if ( pending )
        memcpy(pending, gpa_ptr(OUT_GPA), 4);
    return rc;
}

static int post(const void *data, uint32_t count, uint32_t options,
                uint32_t *pending)
{
    return post_at(IN_GPA, data, count, options, pending);
}

static int retrieve(uint32_t count, uint32_t options, uint64_t timeout,
                    uint32_t *got, uint32_t *remaining, void *buf)
{
    uint8_t in[16];
    int rc;

    memcpy(in, &count, 4);
    memcpy(in + 4, &options, 4);
    memcpy(in + 8, &timeout, 8);
    memcpy(gpa_ptr(IN_GPA), in, sizeof(in));
    memset(gpa_ptr(OUT_GPA), 0xee, 8);
    rc = hcall(HVCALL_RETRIEVE_DEBUG_DATA, false, IN_GPA, OUT_GPA);
    memcpy(got, gpa_ptr(OUT_GPA), 4);
    memcpy(remaining, gpa_ptr(OUT_GPA) + 4, 4);
    if ( buf && rc == 0 )
        memcpy(buf, gpa_ptr(OUT_GPA) + 8, *got);
    return rc;
}

static int reset(uint32_t options)
{
    memcpy(gpa_ptr(IN_GPA), &options, 4);
    return hcall(HVCALL_RESET_DEBUG_SESSION, false, IN_GPA, OUT_GPA);
}

static int wrmsr(uint32_t idx, uint64_t val)
{
    return viridian_syndbg_wrmsr(current, idx, val);
}

static uint64_t rdmsr(uint32_t idx)
{
    uint64_t val = 0;

    ck_assert_int_eq(viridian_syndbg_rdmsr(current, idx, &val), X86EMUL_OKAY);
    return val;
}

/* Blocked as a halted vCPU is: vcpu_kick() (an interrupt) wakes it. */
static bool blocked(const struct vcpu *v)
{
    return test_bit(_VPF_blocked, &v->pause_flags);
}

static void fill(uint8_t *buf, unsigned int len, unsigned int seed)
{
    unsigned int i;

    for ( i = 0; i < len; i++ )
        buf[i] = (uint8_t)(seed * 31 + i);
}

/* ---- feature gating --------------------------------------------------------- */

START_TEST(disabled_group_refuses_everything)
{
    uint64_t val;
    uint32_t idx[] = {
        HV_X64_MSR_SYNDBG_CONTROL, HV_X64_MSR_SYNDBG_STATUS,
        HV_X64_MSR_SYNDBG_SEND_BUFFER, HV_X64_MSR_SYNDBG_RECV_BUFFER,
        HV_X64_MSR_SYNDBG_PENDING_BUFFER, HV_X64_MSR_SYNDBG_OPTIONS,
    };
    struct cpu_user_regs regs = { .rax = 0x1000, .rcx = 0x69 };
    xen_pfn_t mfn[1];
    unsigned int i;

    for ( i = 0; i < ARRAY_SIZE(idx); i++ )
    {
        ck_assert_int_eq(wrmsr(idx[i], 0), X86EMUL_EXCEPTION);
        ck_assert_int_eq(viridian_syndbg_rdmsr(current, idx[i], &val),
                         X86EMUL_EXCEPTION);
    }
    ck_assert_int_eq(set_backend(BACKEND), -EOPNOTSUPP);
    ck_assert_uint_eq(viridian_dbgport_max_frames(&dom), 0);
    ck_assert_int_eq(be_acquire(0, 0, 1, mfn), -EINVAL);
    ck_assert(!viridian_syndbg_is_raw_call(current, &regs));
    ck_assert_uint_eq(stub.pages_allocated, 0);
}
END_TEST

/* ---- MSRs ------------------------------------------------------------------- */

START_TEST(msr_buffers_validated)
{
    static const uint32_t bufs[] = {
        HV_X64_MSR_SYNDBG_SEND_BUFFER, HV_X64_MSR_SYNDBG_RECV_BUFFER,
        HV_X64_MSR_SYNDBG_PENDING_BUFFER,
    };
    unsigned int i;

    for ( i = 0; i < ARRAY_SIZE(bufs); i++ )
    {
        ck_assert_int_eq(wrmsr(bufs[i], SEND_GPA + 8), X86EMUL_EXCEPTION);
        ck_assert_int_eq(wrmsr(bufs[i], BAD_GPA), X86EMUL_EXCEPTION);
        ck_assert_int_eq(wrmsr(bufs[i], ~0ULL & PAGE_MASK), X86EMUL_EXCEPTION);
        ck_assert_int_eq(wrmsr(bufs[i], RO_GPA), X86EMUL_EXCEPTION);
        ck_assert_int_eq(wrmsr(bufs[i], MMIO_GPA), X86EMUL_EXCEPTION);
        ck_assert_uint_eq(rdmsr(bufs[i]), 0);

        ck_assert_int_eq(wrmsr(bufs[i], SEND_GPA + i * PAGE_SIZE), X86EMUL_OKAY);
        ck_assert_uint_eq(rdmsr(bufs[i]), SEND_GPA + i * PAGE_SIZE);
        ck_assert_int_eq(frame_table[3 + i].maps, 1);
        /* A failed rewrite keeps the old page. */
        ck_assert_int_eq(wrmsr(bufs[i], BAD_GPA), X86EMUL_EXCEPTION);
        ck_assert_uint_eq(rdmsr(bufs[i]), SEND_GPA + i * PAGE_SIZE);
    }

    /* Page type refused (e.g. a page table): #GP, no reference kept. */
    frame_table[6].deny_type = true;
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_SEND_BUFFER, 6UL << PAGE_SHIFT),
                     X86EMUL_EXCEPTION);
    ck_assert_int_eq(frame_table[6].count, 0);

    /* Disabling releases the mapping and the references. */
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_RECV_BUFFER, 0), X86EMUL_OKAY);
    ck_assert_int_eq(frame_table[4].maps, 0);
    ck_assert_int_eq(frame_table[4].count, 0);
    /* The guest's data is never cleared by mapping. */
    gpa_ptr(RECV_GPA)[0] = 0x5a;
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_RECV_BUFFER, RECV_GPA), X86EMUL_OKAY);
    ck_assert_uint_eq(gpa_ptr(RECV_GPA)[0], 0x5a);
}
END_TEST

START_TEST(msr_options_and_status)
{
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_OPTIONS, 1), X86EMUL_EXCEPTION);
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_OPTIONS,
                           HV_X64_SYNDBG_OPTION_USE_HCALLS), X86EMUL_OKAY);
    ck_assert_uint_eq(rdmsr(HV_X64_MSR_SYNDBG_OPTIONS),
                      HV_X64_SYNDBG_OPTION_USE_HCALLS);
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_OPTIONS, 0), X86EMUL_OKAY);
    ck_assert_uint_eq(rdmsr(HV_X64_MSR_SYNDBG_OPTIONS), 0);

    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_STATUS, 1ULL << 40),
                     X86EMUL_EXCEPTION);
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_STATUS, 0), X86EMUL_OKAY);
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_CONTROL, 1ULL << 5),
                     X86EMUL_EXCEPTION);
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_CONTROL, 1ULL << 32),
                     X86EMUL_EXCEPTION);
}
END_TEST

START_TEST(msr_send_and_receive)
{
    uint8_t data[300], got[300];
    struct xen_syndbg_pdu hdr;

    be_attach();
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_SEND_BUFFER, SEND_GPA), X86EMUL_OKAY);
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_RECV_BUFFER, RECV_GPA), X86EMUL_OKAY);
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_PENDING_BUFFER, PEND_GPA),
                     X86EMUL_OKAY);
    ck_assert(sh->flags & XEN_SYNDBG_F_GUEST_ACTIVE);

    /* SEND: one PDU of bits 31:16 bytes. */
    fill(data, sizeof(data), 1);
    memcpy(gpa_ptr(SEND_GPA), data, sizeof(data));
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_CONTROL,
                           HV_SYNDBG_CONTROL_SEND | (sizeof(data) << 16)),
                     X86EMUL_OKAY);
    ck_assert_uint_eq(rdmsr(HV_X64_MSR_SYNDBG_STATUS),
                      HV_SYNDBG_STATUS_SEND_SUCCESS);
    ck_assert_int_eq(be_pop(&hdr, got), 0);
    ck_assert_uint_eq(hdr.len, sizeof(data));
    ck_assert_uint_eq(hdr.type, XEN_SYNDBG_PDU_DATA);
    /* The MSRs carry the bare UDP payload. */
    ck_assert_uint_eq(hdr.flags, XEN_SYNDBG_DATA_F_BARE);
    ck_assert_mem_eq(got, data, sizeof(data));
    ck_assert_int_eq(be_pop(&hdr, NULL), -1);

    /* SEND of size 0: nothing queued, failure status. */
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_CONTROL, HV_SYNDBG_CONTROL_SEND),
                     X86EMUL_OKAY);
    ck_assert_uint_eq(rdmsr(HV_X64_MSR_SYNDBG_STATUS), HV_SYNDBG_STATUS_INVALID);
    ck_assert_int_eq(be_pop(&hdr, NULL), -1);

    /* RECV with nothing queued: failure status, pending byte clear. */
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_CONTROL, HV_SYNDBG_CONTROL_RECV),
                     X86EMUL_OKAY);
    ck_assert_uint_eq(rdmsr(HV_X64_MSR_SYNDBG_STATUS), HV_SYNDBG_STATUS_INVALID);
    ck_assert_uint_eq(gpa_ptr(PEND_GPA)[0], 0);

    /* The backend queues a PDU: the pending byte follows. */
    fill(data, 77, 2);
    ck_assert_int_eq(be_push(data, 77), 0);
    be_notify();
    ck_assert_uint_eq(gpa_ptr(PEND_GPA)[0], 1);

    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_CONTROL, HV_SYNDBG_CONTROL_RECV),
                     X86EMUL_OKAY);
    ck_assert_uint_eq(rdmsr(HV_X64_MSR_SYNDBG_STATUS),
                      HV_SYNDBG_STATUS_RECV_SUCCESS | (77ULL << 16));
    ck_assert_mem_eq(gpa_ptr(RECV_GPA), data, 77);
    ck_assert_uint_eq(gpa_ptr(PEND_GPA)[0], 0);
    ck_assert_uint_eq(sh->in.cons, sh->in.prod);
}
END_TEST

/* ---- HvPostDebugData -------------------------------------------------------- */

START_TEST(post_queues_one_pdu)
{
    uint8_t data[SYNDBG_TEST_MAX], got[SYNDBG_TEST_MAX];
    struct xen_syndbg_pdu hdr;
    uint32_t pending;

    be_attach();
    fill(data, sizeof(data), 3);
    ck_assert_int_eq(post(data, sizeof(data), 0, &pending), 0);
    ck_assert_uint_eq(pending, 0);
    ck_assert_uint_eq(stub.notifies, 1);
    ck_assert_int_eq(be_pop(&hdr, got), 0);
    ck_assert_uint_eq(hdr.len, sizeof(data));
    ck_assert_uint_eq(hdr.session, sh->out_session);
    /* The hypercalls carry whole Ethernet/IPv4/UDP frames. */
    ck_assert_uint_eq(hdr.flags, XEN_SYNDBG_DATA_F_FRAME);
    ck_assert_mem_eq(got, data, sizeof(data));
    ck_assert_uint_eq(sh->stat_out_pdus, 1);

    /* Zero-length posts are PDUs too (KDNET never sends them, but legal). */
    ck_assert_int_eq(post(NULL, 0, 0, &pending), 0);
    ck_assert_int_eq(be_pop(&hdr, NULL), 0);
    ck_assert_uint_eq(hdr.len, 0);
}
END_TEST

START_TEST(post_rejects_bad_input)
{
    uint8_t data[16] = { 0 };
    uint32_t pending;

    be_attach();
    /* Fast form does not exist for post. */
    ck_assert_int_eq(hcall(HVCALL_POST_DEBUG_DATA, true, IN_GPA, OUT_GPA),
                     -EBADMSG);
    /* Misaligned parameter blocks. */
    ck_assert_int_eq(hcall(HVCALL_POST_DEBUG_DATA, false, IN_GPA + 4, OUT_GPA),
                     -EILSEQ);
    ck_assert_int_eq(hcall(HVCALL_POST_DEBUG_DATA, false, IN_GPA, OUT_GPA + 2),
                     -EILSEQ);
    /* GPAs outside RAM, MMIO, read-only output. */
    ck_assert_int_eq(hcall(HVCALL_POST_DEBUG_DATA, false, BAD_GPA, OUT_GPA),
                     -EINVAL);
    ck_assert_int_eq(post(data, 8, 0, NULL), 0);
    ck_assert_int_eq(hcall(HVCALL_POST_DEBUG_DATA, false, MMIO_GPA, OUT_GPA),
                     -EINVAL);
    ck_assert_int_eq(hcall(HVCALL_POST_DEBUG_DATA, false, IN_GPA, BAD_GPA),
                     -EINVAL);
    ck_assert_int_eq(hcall(HVCALL_POST_DEBUG_DATA, false, IN_GPA, MMIO_GPA),
                     -EINVAL);
    /* Oversize counts: beyond 4088, or beyond the end of the input page. */
    ck_assert_int_eq(post(data, 4089, 0, &pending), -EINVAL);
    ck_assert_int_eq(post(data, 0xffffffffU, 0, &pending), -EINVAL);
    ck_assert_int_eq(post_at(IN_GPA + 0x800, data, 0x800, 0, &pending), -EINVAL);
    /* Unknown options. */
    ck_assert_int_eq(post(data, 8, 2, &pending), -EINVAL);
    /* Exactly one PDU got through, from the one good call. */
    ck_assert_uint_eq(sh->stat_out_pdus, 1);
}
END_TEST

START_TEST(post_backpressure_loses_nothing)
{
    uint8_t data[SYNDBG_TEST_MAX], got[SYNDBG_TEST_MAX];
    struct xen_syndbg_pdu hdr;
    uint32_t pending, seq, expect = 0, accepted = 0;

    be_attach();
    /* Fill the out ring: all-or-nothing, so pending_count is all or 0. */
    for ( seq = 0; ; seq++ )
    {
        int rc;

        fill(data, sizeof(data), seq);
        memcpy(data, &seq, sizeof(seq));
        rc = post(data, sizeof(data), 0, &pending);
        if ( rc )
        {
            ck_assert_int_eq(rc, -ENOBUFS);
            ck_assert_uint_eq(pending, sizeof(data));
            break;
        }
        ck_assert_uint_eq(pending, 0);
        accepted++;
    }
    ck_assert_uint_eq(accepted, XEN_SYNDBG_RING_SIZE / rec(sizeof(data)));
    ck_assert_uint_eq(sh->stat_refused, 1);

    /* The guest retries the refused PDU after the backend drains one. */
    ck_assert_int_eq(be_pop(&hdr, got), 0);
    ck_assert_uint_eq(*(uint32_t *)got, expect++);
    be_notify();
    ck_assert_int_eq(post(data, sizeof(data), 0, &pending), 0);

    /* Every sequence number exactly once, in order. */
    while ( !be_pop(&hdr, got) )
    {
        uint8_t want[SYNDBG_TEST_MAX];

        fill(want, sizeof(want), expect);
        memcpy(want, &expect, sizeof(expect));
        ck_assert_mem_eq(got, want, sizeof(want));
        expect++;
    }
    ck_assert_uint_eq(expect, accepted + 1);
}
END_TEST

START_TEST(post_loop_blocks_until_room)
{
    uint8_t data[SYNDBG_TEST_MAX] = { 0 };
    struct xen_syndbg_pdu hdr;
    uint32_t pending;
    unsigned int softirqs;

    /* Without a backend, nothing to wait for even with HV_DEBUG_POST_LOOP. */
    ck_assert_int_eq(post(data, sizeof(data), HV_DEBUG_POST_LOOP, &pending),
                     -ENOBUFS);
    ck_assert_uint_eq(pending, sizeof(data));
    ck_assert(!blocked(current));

    be_attach();
    while ( post(data, sizeof(data), 0, &pending) == 0 )
        ;
    softirqs = stub.softirqs;
    ck_assert_int_eq(post(data, sizeof(data), HV_DEBUG_POST_LOOP, &pending),
                     -ERESTART);
    ck_assert(blocked(current));
    ck_assert_uint_eq(stub.softirqs, softirqs + 1);
    ck_assert(sh->flags & XEN_SYNDBG_F_GUEST_WAITING);

    /* The backend drains one and signals: the vCPU wakes and re-executes. */
    ck_assert_int_eq(be_pop(&hdr, NULL), 0);
    be_notify();
    ck_assert(!blocked(current));
    ck_assert_uint_ge(stub.wakes, 1);
    ck_assert(!(sh->flags & XEN_SYNDBG_F_GUEST_WAITING));
    ck_assert_int_eq(post(data, sizeof(data), HV_DEBUG_POST_LOOP, &pending), 0);
    ck_assert_uint_eq(pending, 0);
    ck_assert(!current->arch.hvm.viridian->syndbg_wait.active);
}
END_TEST

/* ---- HvRetrieveDebugData ----------------------------------------------------- */

START_TEST(retrieve_without_data)
{
    uint32_t got, rem;

    /* No backend ever attached, no LOOP: NO_DATA at once. */
    ck_assert_int_eq(retrieve(4088, 0, 0, &got, &rem, NULL), -ENODATA);
    ck_assert_uint_eq(got, 0);
    ck_assert(!blocked(current));
    /* LOOP with zero timeout: no wait either. */
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, 0, &got, &rem, NULL),
                     -ENODATA);
    ck_assert(!blocked(current));
}
END_TEST

START_TEST(retrieve_rejects_bad_input)
{
    uint32_t got, rem;

    ck_assert_int_eq(hcall(HVCALL_RETRIEVE_DEBUG_DATA, true, IN_GPA, OUT_GPA),
                     -EBADMSG);
    ck_assert_int_eq(hcall(HVCALL_RETRIEVE_DEBUG_DATA, false, IN_GPA + 1, OUT_GPA),
                     -EILSEQ);
    ck_assert_int_eq(hcall(HVCALL_RETRIEVE_DEBUG_DATA, false, BAD_GPA, OUT_GPA),
                     -EINVAL);
    ck_assert_int_eq(retrieve(4089, 0, 0, &got, &rem, NULL), -EINVAL);
    ck_assert_int_eq(retrieve(16, 4, 0, &got, &rem, NULL), -EINVAL);
    /* Output page outside RAM or MMIO. */
    memset(gpa_ptr(IN_GPA), 0, 16);
    ck_assert_int_eq(hcall(HVCALL_RETRIEVE_DEBUG_DATA, false, IN_GPA, BAD_GPA),
                     -EINVAL);
    ck_assert_int_eq(hcall(HVCALL_RETRIEVE_DEBUG_DATA, false, IN_GPA, MMIO_GPA),
                     -EINVAL);
}
END_TEST

START_TEST(retrieve_timeout_expires)
{
    struct viridian_vcpu *vv = current->arch.hvm.viridian;
    uint32_t got, rem;
    s_time_t start = stub_now;

    be_attach();
    /* 1000 * 100ns = 100us. */
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, 1000, &got, &rem,
                              NULL), -ERESTART);
    ck_assert(blocked(current));
    ck_assert(vv->dbgport_timer.active);
    ck_assert_int_eq(vv->dbgport_timer.expires, start + 100000);

    /* Not due yet. */
    stub_now = start + 50000;
    ck_assert(!stub_run_timer(&vv->dbgport_timer));
    ck_assert(blocked(current));

    /* Due: the vCPU wakes; re-executing finds the deadline passed. */
    stub_now = start + 100000;
    ck_assert(stub_run_timer(&vv->dbgport_timer));
    ck_assert(!blocked(current));
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, 1000, &got, &rem,
                              NULL), -ENODATA);
    ck_assert_uint_eq(got, 0);
    ck_assert(!vv->syndbg_wait.active);
    ck_assert(!vv->dbgport_timer.active);

    /* A new call starts a new wait. */
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, 1000, &got, &rem,
                              NULL), -ERESTART);
    ck_assert_int_eq(vv->dbgport_timer.expires, stub_now + 100000);
}
END_TEST

START_TEST(retrieve_spurious_wake_keeps_deadline)
{
    struct viridian_vcpu *vv = current->arch.hvm.viridian;
    uint32_t got, rem;
    s_time_t start = stub_now;

    be_attach();
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, 10000, &got, &rem,
                              NULL), -ERESTART);
    /* Woken without data (e.g. the backend only consumed): sleeps again,
     * with the original deadline. */
    stub_now = start + 300000;
    be_notify();
    ck_assert(!blocked(current));
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, 10000, &got, &rem,
                              NULL), -ERESTART);
    ck_assert(blocked(current));
    ck_assert_int_eq(vv->dbgport_timer.expires, start + 1000000);
}
END_TEST

START_TEST(retrieve_wakes_on_data)
{
    uint8_t data[500], got_data[4096];
    uint32_t got, rem;

    be_attach();
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, ~0ULL, &got, &rem,
                              NULL), -ERESTART);
    ck_assert(blocked(current));
    /* Infinite timeout: each sleep is still capped. */
    ck_assert(current->arch.hvm.viridian->dbgport_timer.active);

    fill(data, sizeof(data), 9);
    ck_assert_int_eq(be_push(data, sizeof(data)), 0);
    be_notify();
    ck_assert(!blocked(current));

    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, ~0ULL, &got, &rem,
                              got_data), 0);
    ck_assert_uint_eq(got, sizeof(data));
    ck_assert_uint_eq(rem, 0);
    ck_assert_mem_eq(got_data, data, sizeof(data));
    ck_assert_uint_eq(sh->in.cons, sh->in.prod);
    ck_assert_uint_eq(sh->stat_in_pdus, 1);
}
END_TEST

START_TEST(retrieve_data_already_there_does_not_block)
{
    uint8_t data[64];
    uint32_t got, rem;

    be_attach();
    fill(data, sizeof(data), 4);
    ck_assert_int_eq(be_push(data, sizeof(data)), 0);
    /* No notification yet: the data is found anyway. */
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, 1000, &got, &rem,
                              NULL), 0);
    ck_assert_uint_eq(got, sizeof(data));
    ck_assert(!blocked(current));
}
END_TEST

START_TEST(retrieve_partial_pdu)
{
    uint8_t data[100], out[100];
    uint32_t got, rem, cons;

    be_attach();
    fill(data, sizeof(data), 5);
    ck_assert_int_eq(be_push(data, sizeof(data)), 0);
    cons = sh->in.cons;

    ck_assert_int_eq(retrieve(40, 0, 0, &got, &rem, out), 0);
    ck_assert_uint_eq(got, 40);
    ck_assert_uint_eq(rem, 60);
    ck_assert_uint_eq(sh->in.cons, cons); /* not released yet */
    ck_assert_int_eq(retrieve(40, 0, 0, &got, &rem, out + 40), 0);
    ck_assert_uint_eq(rem, 20);
    ck_assert_int_eq(retrieve(40, 0, 0, &got, &rem, out + 80), 0);
    ck_assert_uint_eq(got, 20);
    ck_assert_uint_eq(rem, 0);
    ck_assert_uint_eq(sh->in.cons, sh->in.prod);
    ck_assert_mem_eq(out, data, sizeof(data));
}
END_TEST

START_TEST(retrieve_test_activity)
{
    uint8_t data[33];
    uint32_t got, rem;

    be_attach();
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_TEST_ACTIVITY, 0, &got,
                              &rem, NULL), -ENODATA);
    ck_assert_int_eq(be_push(data, sizeof(data)), 0);
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_TEST_ACTIVITY, 0, &got,
                              &rem, NULL), 0);
    ck_assert_uint_eq(got, 0);
    ck_assert_uint_eq(rem, sizeof(data));
    /* Nothing consumed: a real retrieve still gets it. */
    ck_assert_int_eq(retrieve(4088, 0, 0, &got, &rem, NULL), 0);
    ck_assert_uint_eq(got, sizeof(data));
}
END_TEST

START_TEST(guest_that_never_reads)
{
    uint8_t data[1000] = { 0 };
    unsigned int queued = 0;

    be_attach();
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_PENDING_BUFFER, PEND_GPA),
                     X86EMUL_OKAY);
    /* The backend fills the in ring and keeps signalling; Xen neither
     * consumes nor breaks anything. */
    while ( be_push(data, sizeof(data)) == 0 )
    {
        queued++;
        be_notify();
    }
    ck_assert_uint_eq(queued, XEN_SYNDBG_RING_SIZE / rec(sizeof(data)));
    ck_assert_uint_eq(sh->in.cons, 0);
    ck_assert(!(sh->flags & XEN_SYNDBG_F_BROKEN));
    ck_assert_uint_eq(gpa_ptr(PEND_GPA)[0], 1);
    ck_assert_uint_eq(stub.wakes, 0);
}
END_TEST

/* ---- HvResetDebugSession ------------------------------------------------------ */

START_TEST(reset_purges_incoming_in_flight)
{
    uint8_t data[50];
    uint32_t got, rem, old_session;
    struct xen_syndbg_pdu hdr;

    be_attach();
    old_session = sh->in_session;
    fill(data, sizeof(data), 6);
    ck_assert_int_eq(be_push(data, sizeof(data)), 0);
    ck_assert_int_eq(be_push(data, sizeof(data)), 0);

    ck_assert_int_eq(reset(HV_DEBUG_PURGE_INCOMING_DATA), 0);
    ck_assert_uint_eq(sh->in.cons, sh->in.prod);
    ck_assert_uint_eq(sh->in_session, old_session + 1);
    ck_assert_int_eq(retrieve(4088, 0, 0, &got, &rem, NULL), -ENODATA);

    /* A PDU the backend stamped before it saw the reset is dropped; the
     * next one, stamped with the new session, is delivered. */
    ck_assert_int_eq(be_push_session(data, sizeof(data), old_session), 0);
    ck_assert_int_eq(be_push(data, 20), 0);
    ck_assert_int_eq(retrieve(4088, 0, 0, &got, &rem, NULL), 0);
    ck_assert_uint_eq(got, 20);
    ck_assert_uint_eq(sh->stat_dropped, 1);

    /* The backend is told: a reset marker with the purge flags. */
    ck_assert_int_eq(be_pop(&hdr, NULL), 0);
    ck_assert_uint_eq(hdr.type, XEN_SYNDBG_PDU_RESET);
    ck_assert_uint_eq(hdr.flags, HV_DEBUG_PURGE_INCOMING_DATA);
    ck_assert_uint_eq(hdr.len, 0);
}
END_TEST

START_TEST(reset_purges_outgoing_and_reports_connection)
{
    uint8_t data[50] = { 0 }, out[24];
    struct xen_syndbg_pdu hdr;
    uint32_t pending, old_session;

    be_attach();
    sh->conn.host_ip = 0x0100007f;
    sh->conn.host_port = 0x5cc3;
    sh->conn.host_mac[5] = 0x42;
    old_session = sh->out_session;
    ck_assert_int_eq(post(data, sizeof(data), 0, &pending), 0);

    ck_assert_int_eq(reset(HV_DEBUG_PURGE_OUTGOING_DATA), 0);
    ck_assert_uint_eq(sh->out_session, old_session + 1);
    memcpy(out, gpa_ptr(OUT_GPA), sizeof(out));
    ck_assert_uint_eq(*(uint32_t *)out, 0x0100007f);
    ck_assert_uint_eq(*(uint16_t *)(out + 8), 0x5cc3);
    ck_assert_uint_eq(out[12 + 5], 0x42);

    /* The old PDU carries the old session (the backend drops it), the
     * marker the new one. */
    ck_assert_int_eq(be_pop(&hdr, NULL), 0);
    ck_assert_uint_eq(hdr.session, old_session);
    ck_assert_int_eq(be_pop(&hdr, NULL), 0);
    ck_assert_uint_eq(hdr.type, XEN_SYNDBG_PDU_RESET);
    ck_assert_uint_eq(hdr.session, old_session + 1);
}
END_TEST

START_TEST(reset_fast_and_bad_options)
{
    uint32_t got, rem;

    ck_assert_int_eq(hcall(HVCALL_RESET_DEBUG_SESSION, true,
                           HV_DEBUG_PURGE_INCOMING_DATA |
                           HV_DEBUG_PURGE_OUTGOING_DATA, 0), 0);
    ck_assert_int_eq(hcall(HVCALL_RESET_DEBUG_SESSION, true, 1ULL << 32, 0),
                     -EINVAL);
    ck_assert_int_eq(hcall(HVCALL_RESET_DEBUG_SESSION, true, 4, 0), -EINVAL);
    ck_assert_int_eq(reset(8), -EINVAL);
    ck_assert_int_eq(hcall(HVCALL_RESET_DEBUG_SESSION, false, IN_GPA, BAD_GPA),
                     -EINVAL);
    ck_assert_int_eq(hcall(HVCALL_RESET_DEBUG_SESSION, false, IN_GPA + 4,
                           OUT_GPA), -EILSEQ);
    /* Still usable afterwards. */
    ck_assert_int_eq(retrieve(4088, 0, 0, &got, &rem, NULL), -ENODATA);
}
END_TEST

START_TEST(reset_wakes_waiters)
{
    uint32_t got, rem;

    be_attach();
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, ~0ULL, &got, &rem,
                              NULL), -ERESTART);
    current = &vcpus[1];
    ck_assert_int_eq(reset(HV_DEBUG_PURGE_INCOMING_DATA), 0);
    ck_assert(!blocked(&vcpus[0]));
}
END_TEST

/* ---- the debug port itself ---------------------------------------------------- */

START_TEST(attach_detach)
{
    uint32_t got, rem;

    ck_assert_uint_eq(viridian_dbgport_backend(&dom), DOMID_INVALID);
    ck_assert_int_eq(set_backend(dom.domain_id), -EINVAL);
    ck_assert_int_eq(set_backend(DOMID_FIRST_RESERVED),
                     -EINVAL);
    be_attach();
    ck_assert_uint_eq(viridian_dbgport_backend(&dom), BACKEND);
    ck_assert_int_eq(set_backend(BACKEND), 0);
    ck_assert_int_eq(set_backend(9), -EBUSY);

    /* Detach wakes a waiting vCPU and withdraws the port. */
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, ~0ULL, &got, &rem,
                              NULL), -ERESTART);
    ck_assert_int_eq(set_backend(DOMID_INVALID), 0);
    ck_assert(!blocked(current));
    ck_assert(!stub.evtchn_in_use);
    ck_assert_uint_eq(sh->evtchn, 0);
    ck_assert_uint_eq(viridian_dbgport_backend(&dom), DOMID_INVALID);

    /* And a new backend can attach. */
    ck_assert_int_eq(set_backend(9), 0);
    ck_assert_uint_eq(stub.evtchn_remote, 9);
}
END_TEST

/*
 * XEN_DMOP_syndbg_backend: the caller attaches itself, a second backend is
 * refused, anyone with device model rights may detach, every operation
 * reports the backend attached afterwards, and a dying guest refuses all.
 * (The rights themselves are dm_op()'s XSM_DM_PRIV check, before this.)
 */
START_TEST(dm_op_attach_query_detach)
{
    domid_t b = 0;
    unsigned int port;

    ck_assert_int_eq(dm_syndbg(BACKEND, XEN_DMOP_SYNDBG_QUERY, 0, &b), 0);
    ck_assert_uint_eq(b, DOMID_INVALID);
    ck_assert_int_eq(dm_syndbg(BACKEND, 3, 0, NULL), -EINVAL);
    ck_assert_int_eq(dm_syndbg(BACKEND, XEN_DMOP_SYNDBG_ATTACH, 1, NULL), -EINVAL);
    ck_assert(!stub.evtchn_in_use);

    ck_assert_int_eq(dm_syndbg(BACKEND, XEN_DMOP_SYNDBG_ATTACH, 0, &b), 0);
    ck_assert_uint_eq(b, BACKEND);
    ck_assert(stub.evtchn_in_use);
    ck_assert_uint_eq(stub.evtchn_remote, BACKEND);
    port = stub.evtchn_port;

    /* The same backend again changes nothing; another one is refused. */
    ck_assert_int_eq(dm_syndbg(BACKEND, XEN_DMOP_SYNDBG_ATTACH, 0, &b), 0);
    ck_assert_uint_eq(b, BACKEND);
    ck_assert_uint_eq(stub.evtchn_port, port);
    b = 0;
    ck_assert_int_eq(dm_syndbg(9, XEN_DMOP_SYNDBG_ATTACH, 0, &b), -EBUSY);
    ck_assert_uint_eq(viridian_dbgport_backend(&dom), BACKEND);
    ck_assert_int_eq(dm_syndbg(9, XEN_DMOP_SYNDBG_QUERY, 0, &b), 0);
    ck_assert_uint_eq(b, BACKEND);

    /* A toolstack (not the backend) may end the session. */
    ck_assert_int_eq(dm_syndbg(9, XEN_DMOP_SYNDBG_DETACH, 0, &b), 0);
    ck_assert_uint_eq(b, DOMID_INVALID);
    ck_assert(!stub.evtchn_in_use);
    ck_assert_int_eq(dm_syndbg(9, XEN_DMOP_SYNDBG_DETACH, 0, &b), 0);
    ck_assert_uint_eq(b, DOMID_INVALID);

    /* Then the other domain can attach. */
    ck_assert_int_eq(dm_syndbg(9, XEN_DMOP_SYNDBG_ATTACH, 0, &b), 0);
    ck_assert_uint_eq(b, 9);
    ck_assert_uint_eq(stub.evtchn_remote, 9);

    relinquish();

    b = 0;
    ck_assert_int_eq(dm_syndbg(9, XEN_DMOP_SYNDBG_QUERY, 0, &b), -ESRCH);
    ck_assert_int_eq(dm_syndbg(BACKEND, XEN_DMOP_SYNDBG_ATTACH, 0, &b), -ESRCH);
    ck_assert_int_eq(dm_syndbg(9, XEN_DMOP_SYNDBG_DETACH, 0, &b), -ESRCH);
    ck_assert_uint_eq(b, 0);
}
END_TEST

/*
 * dm_op()'s common checks guard the operation: only a domain with device
 * model rights over the guest (the control domain, or the guest's own
 * device model domain) may attach, detach or even query; the guest itself
 * and any other domain get -EPERM and change nothing.
 */
START_TEST(dm_op_requires_device_model_rights)
{
    domid_t b;

    be_dom.is_privileged = true;         /* dom0's relay */
    other_dom.is_privileged = false;
    other_dom.target = NULL;

    /* An unprivileged domain: refused, nothing attached, nothing copied. */
    b = 0;
    ck_assert_int_eq(hyp_dm_syndbg(&other_vcpu, dom.domain_id,
                                   XEN_DMOP_SYNDBG_ATTACH, &b), -EPERM);
    ck_assert_uint_eq(b, 0x1234);
    ck_assert_int_eq(hyp_dm_syndbg(&other_vcpu, dom.domain_id,
                                   XEN_DMOP_SYNDBG_QUERY, &b), -EPERM);
    ck_assert_uint_eq(b, 0x1234);
    ck_assert(!stub.evtchn_in_use);
    ck_assert_uint_eq(viridian_dbgport_backend(&dom), DOMID_INVALID);

    /* The guest cannot make itself its own backend. */
    ck_assert_int_eq(hyp_dm_syndbg(&vcpus[1], dom.domain_id,
                                   XEN_DMOP_SYNDBG_ATTACH, &b), -EPERM);
    ck_assert(!stub.evtchn_in_use);

    /* The relay in the control domain attaches. */
    ck_assert_int_eq(hyp_dm_syndbg(&be_vcpu, dom.domain_id,
                                   XEN_DMOP_SYNDBG_ATTACH, &b), 0);
    ck_assert_uint_eq(b, BACKEND);
    ck_assert(stub.evtchn_in_use);
    ck_assert_uint_eq(stub.evtchn_remote, BACKEND);

    /* Neither the unprivileged domain nor the guest can end the session. */
    ck_assert_int_eq(hyp_dm_syndbg(&other_vcpu, dom.domain_id,
                                   XEN_DMOP_SYNDBG_DETACH, &b), -EPERM);
    ck_assert_int_eq(hyp_dm_syndbg(&vcpus[0], dom.domain_id,
                                   XEN_DMOP_SYNDBG_DETACH, &b), -EPERM);
    ck_assert_uint_eq(viridian_dbgport_backend(&dom), BACKEND);
    ck_assert(stub.evtchn_in_use);

    /* A device model domain of another guest has no rights over this one. */
    other_dom.target = &be_dom;
    ck_assert_int_eq(hyp_dm_syndbg(&other_vcpu, dom.domain_id,
                                   XEN_DMOP_SYNDBG_DETACH, &b), -EPERM);
    ck_assert_uint_eq(viridian_dbgport_backend(&dom), BACKEND);

    /* The guest's own device model domain (a stub domain) has. */
    other_dom.target = &dom;
    b = 0;
    ck_assert_int_eq(hyp_dm_syndbg(&other_vcpu, dom.domain_id,
                                   XEN_DMOP_SYNDBG_QUERY, &b), 0);
    ck_assert_uint_eq(b, BACKEND);
    ck_assert_int_eq(hyp_dm_syndbg(&other_vcpu, dom.domain_id,
                                   XEN_DMOP_SYNDBG_DETACH, &b), 0);
    ck_assert_uint_eq(b, DOMID_INVALID);
    ck_assert(!stub.evtchn_in_use);

    /* No such domain; a domain that is not HVM. */
    ck_assert_int_eq(hyp_dm_syndbg(&be_vcpu, 77, XEN_DMOP_SYNDBG_QUERY, &b),
                     -ESRCH);
    ck_assert_int_eq(hyp_dm_syndbg(&be_vcpu, other_dom.domain_id,
                                   XEN_DMOP_SYNDBG_QUERY, &b), -EINVAL);

    /* And a dying guest refuses even the control domain. */
    relinquish();
    ck_assert_int_eq(hyp_dm_syndbg(&be_vcpu, dom.domain_id,
                                   XEN_DMOP_SYNDBG_ATTACH, &b), -ESRCH);
    ck_assert(!stub.evtchn_in_use);
}
END_TEST

START_TEST(acquire_bounds)
{
    xen_pfn_t mfn[XEN_SYNDBG_NR_FRAMES + 1];

    ck_assert_uint_eq(viridian_dbgport_max_frames(&dom), XEN_SYNDBG_NR_FRAMES);
    be_attach();
    ck_assert_int_eq(be_acquire(1, 0, 1, mfn), -EINVAL);
    ck_assert_int_eq(be_acquire(0, XEN_SYNDBG_NR_FRAMES, 1, mfn), -EINVAL);
    ck_assert_int_eq(be_acquire(0, 1, XEN_SYNDBG_NR_FRAMES, mfn), -EINVAL);
    ck_assert_int_eq(be_acquire(0, 3, 0xffffffffU, mfn), -EINVAL);
    ck_assert_int_eq(be_acquire(0, 4, 2, mfn), 2);
    ck_assert_uint_eq(mfn[1], mfn[0] + 1);

    /* Allocation failure at attach is reported, and retried later. */
    teardown();
    setup();
    stub.fail_alloc = true;
    ck_assert_int_eq(set_backend(BACKEND), -ENOMEM);
    ck_assert_uint_eq(viridian_dbgport_backend(&dom), DOMID_INVALID);
    stub.fail_alloc = false;
    stub.fail_vmap = true;
    ck_assert_int_eq(set_backend(BACKEND), -ENOMEM);
    stub.fail_vmap = false;
    ck_assert_uint_eq(stub.pages_freed, stub.pages_allocated);
    ck_assert(!stub.evtchn_in_use);
    ck_assert_int_eq(set_backend(BACKEND), 0);
    ck_assert_int_eq(be_acquire(0, 0, 1, mfn), 1);
}
END_TEST

START_TEST(hostile_backend_indexes)
{
    uint32_t got, rem;
    uint8_t data[8] = { 0 };
    uint32_t pending;

    be_attach();
    sh->in.prod = sh->in.cons + XEN_SYNDBG_RING_SIZE + 8;
    be_notify();
    ck_assert_int_eq(retrieve(4088, 0, 0, &got, &rem, NULL), -ENODATA);
    ck_assert(sh->flags & XEN_SYNDBG_F_BROKEN);
    /* Broken port: posts refused, not written. */
    ck_assert_int_eq(post(data, sizeof(data), 0, &pending), -ENOBUFS);
    ck_assert_uint_eq(sh->out.prod, 0);
    /* Logged once per attach, however often the guest tries. */
    {
        unsigned int logs = stub_log_count;

        ck_assert_int_eq(retrieve(4088, 0, 0, &got, &rem, NULL), -ENODATA);
        ck_assert_uint_eq(stub_log_count, logs);
    }
    /* Re-attaching clears it: new rings. */
    ck_assert_int_eq(set_backend(DOMID_INVALID), 0);
    be_attach();
    ck_assert(!(sh->flags & XEN_SYNDBG_F_BROKEN));
    ck_assert_int_eq(post(data, sizeof(data), 0, &pending), 0);
}
END_TEST

START_TEST(hostile_backend_records)
{
    struct xen_syndbg_pdu bad = { .len = XEN_SYNDBG_MAX_PDU + 1,
                                  .type = XEN_SYNDBG_PDU_DATA };
    uint32_t got, rem;

    be_attach();
    ring_copy_in(be_ring(false), 0, &bad, sizeof(bad));
    sh->in.prod = 64;
    ck_assert_int_eq(retrieve(4088, 0, 0, &got, &rem, NULL), -ENODATA);
    ck_assert(sh->flags & XEN_SYNDBG_F_BROKEN);

    ck_assert_int_eq(set_backend(DOMID_INVALID), 0);
    be_attach();
    ck_assert(!(sh->flags & XEN_SYNDBG_F_BROKEN));
    /* Unknown type; then a record longer than what was published. */
    bad.len = 8;
    bad.type = 9;
    ring_copy_in(be_ring(false), sh->in.prod, &bad, sizeof(bad));
    sh->in.prod += 16;
    ck_assert_int_eq(retrieve(4088, 0, 0, &got, &rem, NULL), -ENODATA);
    ck_assert(sh->flags & XEN_SYNDBG_F_BROKEN);

    ck_assert_int_eq(set_backend(DOMID_INVALID), 0);
    be_attach();
    ck_assert(!(sh->flags & XEN_SYNDBG_F_BROKEN));
    bad.type = XEN_SYNDBG_PDU_DATA;
    bad.len = 100;
    bad.session = sh->in_session;
    ring_copy_in(be_ring(false), sh->in.prod, &bad, sizeof(bad));
    sh->in.prod += 16;
    ck_assert_int_eq(retrieve(4088, 0, 0, &got, &rem, NULL), -ENODATA);
    ck_assert(sh->flags & XEN_SYNDBG_F_BROKEN);
}
END_TEST

START_TEST(out_consumer_index_hostile)
{
    uint8_t data[8] = { 0 };
    uint32_t pending;

    be_attach();
    ck_assert_int_eq(post(data, sizeof(data), 0, &pending), 0);
    sh->out.cons = sh->out.prod + 8; /* consumer ahead of producer */
    ck_assert_int_eq(post(data, sizeof(data), 0, &pending), -ENOBUFS);
    ck_assert(sh->flags & XEN_SYNDBG_F_BROKEN);
}
END_TEST

/* ---- raw VMCALL rule ---------------------------------------------------------- */

START_TEST(raw_vmcall_rule)
{
    struct cpu_user_regs r;

    dom.arch.hvm.params[HVM_PARAM_VIRIDIAN] |= HVMPV_syndbg_vmcall;
    memset(&r, 0, sizeof(r));
    r.rax = 0x1000;
    r.rcx = HVCALL_POST_DEBUG_DATA;
    ck_assert(viridian_syndbg_is_raw_call(current, &r));
    r.rcx = HVCALL_RETRIEVE_DEBUG_DATA | HV_HYPERCALL_FAST_BIT;
    ck_assert(viridian_syndbg_is_raw_call(current, &r));
    r.rcx = HVCALL_RESET_DEBUG_SESSION;
    ck_assert(viridian_syndbg_is_raw_call(current, &r));
    /* Any other bit set: not a debug call. */
    r.rcx = HVCALL_POST_DEBUG_DATA | (1ULL << 17);
    ck_assert(!viridian_syndbg_is_raw_call(current, &r));
    r.rcx = HVCALL_POST_DEBUG_DATA | (1ULL << 32);
    ck_assert(!viridian_syndbg_is_raw_call(current, &r));
    r.rcx = 0x5c;
    ck_assert(!viridian_syndbg_is_raw_call(current, &r));
    /* A Xen hypercall number in RAX wins, whatever RCX holds. */
    r.rcx = HVCALL_POST_DEBUG_DATA;
    r.rax = 34; /* __HYPERVISOR_hvm_op */
    ck_assert(!viridian_syndbg_is_raw_call(current, &r));
    r.rax = 63;
    ck_assert(!viridian_syndbg_is_raw_call(current, &r));
    r.rax = 64;
    ck_assert(viridian_syndbg_is_raw_call(current, &r));

    /* 32-bit: EDX:EAX is the input value. */
    current->mode = 4;
    memset(&r, 0, sizeof(r));
    r.rax = HVCALL_RETRIEVE_DEBUG_DATA;
    ck_assert(viridian_syndbg_is_raw_call(current, &r));
    r.rdx = 1;
    ck_assert(!viridian_syndbg_is_raw_call(current, &r));
    r.rdx = 0;
    r.rax = 29; /* __HYPERVISOR_sched_op */
    ck_assert(!viridian_syndbg_is_raw_call(current, &r));

    /* Real and 16-bit modes never. */
    current->mode = 2;
    r.rax = HVCALL_RETRIEVE_DEBUG_DATA;
    ck_assert(!viridian_syndbg_is_raw_call(current, &r));
}
END_TEST

/* ---- save/restore --------------------------------------------------------------- */

START_TEST(save_and_restore)
{
    struct hvm_viridian_syndbg_context ctxt;

    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_SEND_BUFFER, SEND_GPA), X86EMUL_OKAY);
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_PENDING_BUFFER, PEND_GPA),
                     X86EMUL_OKAY);
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_OPTIONS,
                           HV_X64_SYNDBG_OPTION_USE_HCALLS), X86EMUL_OKAY);
    /* A session in progress is not part of the stream (libxl refuses it). */
    be_attach();
    memset(&ctxt, 0xee, sizeof(ctxt));
    ck_assert(viridian_syndbg_save_ctxt(&dom, &ctxt));
    ck_assert_uint_eq(ctxt.send_page, SEND_GPA);
    ck_assert_uint_eq(ctxt.recv_page, 0);
    ck_assert_uint_eq(ctxt.pending_page, PEND_GPA);
    ck_assert_uint_eq(ctxt.options, HV_X64_SYNDBG_OPTION_USE_HCALLS);

    /* Restore into a fresh domain. */
    teardown();
    setup();
    ck_assert_int_eq(viridian_syndbg_load_ctxt(&dom, &ctxt), 0);
    ck_assert_uint_eq(rdmsr(HV_X64_MSR_SYNDBG_SEND_BUFFER), SEND_GPA);
    ck_assert_uint_eq(rdmsr(HV_X64_MSR_SYNDBG_PENDING_BUFFER), PEND_GPA);
    ck_assert_uint_eq(rdmsr(HV_X64_MSR_SYNDBG_OPTIONS),
                      HV_X64_SYNDBG_OPTION_USE_HCALLS);
    ck_assert_int_eq(frame_table[SEND_GPA >> PAGE_SHIFT].maps, 1);
    ck_assert_uint_eq(viridian_dbgport_backend(&dom), DOMID_INVALID);
}
END_TEST

START_TEST(restore_validates)
{
    struct hvm_viridian_syndbg_context ctxt;

    memset(&ctxt, 0, sizeof(ctxt));
    ctxt.options = 1;
    ck_assert_int_eq(viridian_syndbg_load_ctxt(&dom, &ctxt), -EINVAL);
    ctxt.options = 0;
    ctxt.send_page = BAD_GPA;
    ck_assert_int_eq(viridian_syndbg_load_ctxt(&dom, &ctxt), -EINVAL);
    ctxt.send_page = SEND_GPA + 1;
    ck_assert_int_eq(viridian_syndbg_load_ctxt(&dom, &ctxt), -EINVAL);
    ctxt.send_page = RO_GPA;
    ck_assert_int_eq(viridian_syndbg_load_ctxt(&dom, &ctxt), -EINVAL);
}
END_TEST

START_TEST(restore_without_group_refused)
{
    struct hvm_viridian_syndbg_context ctxt;

    /* Nothing to save for a domain without the group... */
    ck_assert(!viridian_syndbg_save_ctxt(&dom, &ctxt));
    /* ...and a record for one is refused. */
    memset(&ctxt, 0, sizeof(ctxt));
    ctxt.recv_page = RECV_GPA;
    ck_assert_int_eq(viridian_syndbg_load_ctxt(&dom, &ctxt), -EINVAL);
}
END_TEST

/* ---- hardening: a dying domain, a hostile backend, waits ------------------- */

/*
 * The backend reaches the port from its own domain: its liveness poll of
 * the parameter, XENMEM_acquire_resource from a stub domain holding a
 * zombie, a notification already past evtchn_send()'s locks.  After
 * relinquish none of them may touch freed state.
 */
START_TEST(dying_domain_refuses_every_entry)
{
    xen_event_channel_notification_t fn;
    xen_pfn_t mfn[XEN_SYNDBG_NR_FRAMES];
    uint64_t value = 0;
    uint32_t got, rem;
    unsigned int allocated;

    be_attach();
    ck_assert_int_eq(get_backend(&value), 0);
    ck_assert_uint_eq(value, BACKEND);
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_PENDING_BUFFER, PEND_GPA),
                     X86EMUL_OKAY);
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, ~0ULL, &got, &rem,
                              NULL), -ERESTART);
    fn = stub.evtchn_fn;
    allocated = stub.pages_allocated;

    relinquish();

    /* What the guest held went at relinquish time. */
    ck_assert(!stub.evtchn_in_use);
    ck_assert_uint_eq(stub.pages_freed, stub.pages_allocated);
    ck_assert_int_eq(frame_table[PEND_GPA >> PAGE_SHIFT].count, 0);

    ck_assert_int_eq(get_backend(&value), -ESRCH);
    ck_assert_uint_eq(viridian_dbgport_backend(&dom), DOMID_INVALID);
    ck_assert_int_eq(set_backend(BACKEND), -ESRCH);
    ck_assert_int_eq(set_backend(DOMID_INVALID), -ESRCH);
    ck_assert_uint_eq(viridian_dbgport_max_frames(&dom), 0);
    ck_assert_int_eq(be_acquire(0, 0, XEN_SYNDBG_NR_FRAMES, mfn), -ESRCH);
    fn(&vcpus[0], stub.evtchn_port);
    viridian_syndbg_update_pending(&dom);
    ck_assert_uint_eq(stub.pages_allocated, allocated);
}
END_TEST

/*
 * A backend rewrites the header of the PDU being delivered, shrinking it
 * below what the guest already has: the port breaks, the guest is told
 * nothing bogus, no ASSERT fires.
 */
START_TEST(retrieve_partial_header_rewritten)
{
    uint8_t data[100], out[100];
    struct xen_syndbg_pdu hdr;
    uint32_t got, rem;

    be_attach();
    fill(data, sizeof(data), 5);
    ck_assert_int_eq(be_push(data, sizeof(data)), 0);
    ck_assert_int_eq(retrieve(40, 0, 0, &got, &rem, out), 0);
    ck_assert_uint_eq(rem, 60);

    ring_copy_out(be_ring(false), sh->in.cons, &hdr, sizeof(hdr));
    hdr.len = 8;
    ring_copy_in(be_ring(false), sh->in.cons, &hdr, sizeof(hdr));

    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_TEST_ACTIVITY, 0, &got,
                              &rem, NULL), -ENODATA);
    ck_assert_uint_eq(rem, 0);
    ck_assert_int_eq(retrieve(40, 0, 0, &got, &rem, out), -ENODATA);
    ck_assert_uint_eq(got, 0);
    ck_assert_uint_eq(rem, 0);
    ck_assert(sh->flags & XEN_SYNDBG_F_BROKEN);

    /* Taking the record back (prod moved under it) breaks the port too. */
    ck_assert_int_eq(set_backend(DOMID_INVALID), 0);
    be_attach();
    ck_assert_int_eq(be_push(data, sizeof(data)), 0);
    ck_assert_int_eq(retrieve(40, 0, 0, &got, &rem, out), 0);
    sh->in.prod = sh->in.cons + 8;
    ck_assert_int_eq(retrieve(40, 0, 0, &got, &rem, out), -ENODATA);
    ck_assert(sh->flags & XEN_SYNDBG_F_BROKEN);
}
END_TEST

/*
 * The pages are allocated when a backend attaches, charged to the guest,
 * never in a guest call; failures reach the backend, and the guest's calls
 * keep returning what viridian_hypercall() maps.
 */
START_TEST(pages_allocated_at_attach_and_accounted)
{
    uint8_t data[64] = { 0 };
    uint32_t pending;

    ck_assert_int_eq(post(data, sizeof(data), 0, &pending), -ENOBUFS);
    ck_assert_uint_eq(pending, sizeof(data));
    ck_assert_int_eq(reset(HV_DEBUG_PURGE_INCOMING_DATA), 0);
    ck_assert_uint_eq(stub.pages_allocated, 0);

    stub.fail_alloc = true;
    ck_assert_int_eq(set_backend(BACKEND), -ENOMEM);
    ck_assert_int_eq(post(data, sizeof(data), 0, &pending), -ENOBUFS);
    ck_assert_int_eq(post(data, sizeof(data), HV_DEBUG_POST_LOOP, &pending),
                     -ENOBUFS);
    stub.fail_alloc = false;

    be_attach();
    ck_assert_uint_eq(stub.pages_allocated, XEN_SYNDBG_NR_FRAMES);
    ck_assert_uint_eq(stub.pages_accounted, XEN_SYNDBG_NR_FRAMES);
    ck_assert_uint_eq(stub.allocs_as_guest, 0);
    ck_assert_int_eq(post(data, sizeof(data), 0, &pending), 0);
    ck_assert_uint_eq(stub.pages_allocated, XEN_SYNDBG_NR_FRAMES);
}
END_TEST

/*
 * During live migration's pre-copy the guest's RAM is log-dirty (read-only
 * in the p2m): the debug calls and the buffer MSRs keep working, and every
 * page Xen writes is marked dirty.  Shared pages are unshared first.
 */
START_TEST(logdirty_and_shared_pages)
{
    uint8_t data[77], got_data[77];
    struct xen_syndbg_pdu hdr;
    uint32_t pending, got, rem;
    unsigned int dirty;
    unsigned long f;

    for ( f = 1; f <= 5; f++ )
        stub_p2m[f] = p2m_ram_logdirty;
    be_attach();
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_SEND_BUFFER, SEND_GPA), X86EMUL_OKAY);
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_RECV_BUFFER, RECV_GPA), X86EMUL_OKAY);
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_PENDING_BUFFER, PEND_GPA),
                     X86EMUL_OKAY);

    fill(data, sizeof(data), 8);
    dirty = stub_dirty_count;
    ck_assert_int_eq(post(data, sizeof(data), 0, &pending), 0);
    ck_assert_uint_eq(pending, 0);
    ck_assert_uint_gt(stub_dirty_count, dirty);
    ck_assert_int_eq(be_pop(&hdr, got_data), 0);
    ck_assert_mem_eq(got_data, data, sizeof(data));

    ck_assert_int_eq(be_push(data, sizeof(data)), 0);
    dirty = stub_dirty_count;
    ck_assert_int_eq(retrieve(4088, 0, 0, &got, &rem, got_data), 0);
    ck_assert_uint_eq(got, sizeof(data));
    ck_assert_mem_eq(got_data, data, sizeof(data));
    ck_assert_uint_gt(stub_dirty_count, dirty);
    ck_assert_int_eq(reset(0), 0);

    ck_assert_int_eq(be_push(data, sizeof(data)), 0);
    be_notify();
    ck_assert_uint_eq(gpa_ptr(PEND_GPA)[0], 1);
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_CONTROL, HV_SYNDBG_CONTROL_RECV),
                     X86EMUL_OKAY);
    ck_assert_uint_eq(rdmsr(HV_X64_MSR_SYNDBG_STATUS),
                      HV_SYNDBG_STATUS_RECV_SUCCESS | (77ULL << 16));

    /* A shared page is unshared before it is mapped or written... */
    stub_p2m[6] = p2m_ram_shared;
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_RECV_BUFFER, 6UL << PAGE_SHIFT),
                     X86EMUL_OKAY);
    ck_assert_int_eq(stub_p2m[6], p2m_ram_rw);
    stub_p2m[OUT_GPA >> PAGE_SHIFT] = p2m_ram_shared;
    ck_assert_int_eq(retrieve(4088, 0, 0, &got, &rem, NULL), -ENODATA);
    ck_assert_int_eq(stub_p2m[OUT_GPA >> PAGE_SHIFT], p2m_ram_rw);
    /* ...and refused when it cannot be. */
    stub.fail_unshare = true;
    stub_p2m[7] = p2m_ram_shared;
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_PENDING_BUFFER, 7UL << PAGE_SHIFT),
                     X86EMUL_EXCEPTION);
    ck_assert_int_eq(frame_table[7].count, 0);
    stub_p2m[OUT_GPA >> PAGE_SHIFT] = p2m_ram_shared;
    ck_assert_int_eq(retrieve(4088, 0, 0, &got, &rem, NULL), -EINVAL);
}
END_TEST

#ifndef SYNDBG_STATE
#define SYNDBG_STATE(d) ((d)->arch.hvm.viridian_syndbg)
#endif

/* vCPU 1 receives the waiting PDU through the MSRs. */
static void recv_on_other_vcpu(void)
{
    struct vcpu *was = current;

    current = &vcpus[1];
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_CONTROL, HV_SYNDBG_CONTROL_RECV),
                     X86EMUL_OKAY);
    current = was;
}

/*
 * The backend's notification updates the pending byte while another vCPU
 * receives the PDU: the byte must end up matching the (empty) ring.
 */
START_TEST(msr_pending_consistent_with_racing_receive)
{
    uint8_t data[77] = { 0 };

    be_attach();
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_RECV_BUFFER, RECV_GPA), X86EMUL_OKAY);
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_PENDING_BUFFER, PEND_GPA),
                     X86EMUL_OKAY);
    ck_assert_int_eq(be_push(data, sizeof(data)), 0);

    /* The MSR state's lock is the first member of its structure. */
    stub.hook_lock = SYNDBG_STATE(&dom);
    stub.hook_fn = recv_on_other_vcpu;
    be_notify();
    ck_assert(stub.hook_fn == NULL);

    ck_assert_uint_eq(sh->in.cons, sh->in.prod);
    ck_assert_uint_eq(gpa_ptr(PEND_GPA)[0], 0);
}
END_TEST

/*
 * A waiting vCPU blocks as a halted one does: an event to deliver sends it
 * back to the guest (call incomplete, re-executed afterwards), and
 * vcpu_kick() -- an interrupt, an IPI -- wakes it.
 */
START_TEST(wait_returns_to_guest_for_events)
{
    struct viridian_vcpu *vv = current->arch.hvm.viridian;
    uint32_t got, rem;
    s_time_t start = stub_now;

    be_attach();
    stub.events_pending = true;
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, 10000, &got, &rem,
                              NULL), -ERESTART);
    ck_assert(!blocked(current));
    ck_assert(!test_bit(_VPF_blocked_in_xen, &current->pause_flags));
    ck_assert(!(sh->flags & XEN_SYNDBG_F_GUEST_WAITING));

    /* Back from the interrupt: the same call, the same deadline. */
    stub.events_pending = false;
    stub_now = start + 200000;
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, 10000, &got, &rem,
                              NULL), -ERESTART);
    ck_assert(blocked(current));
    ck_assert_int_eq(vv->dbgport_timer.expires, start + 1000000);

    /* An IPI: vcpu_kick() unblocks it like any blocked vCPU. */
    vcpu_unblock(current);
    ck_assert(!blocked(current));
    ck_assert_uint_eq(stub.wakes, 1);
}
END_TEST

/* Every sleep is capped, and HV_DEBUG_POST_LOOP gives up after 1 s. */
START_TEST(wait_sleeps_capped_post_loop_bounded)
{
    struct viridian_vcpu *vv = current->arch.hvm.viridian;
    uint8_t data[SYNDBG_TEST_MAX] = { 0 };
    uint32_t got, rem, pending;
    s_time_t start;
    unsigned int n;

    be_attach();
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, ~0ULL, &got, &rem,
                              NULL), -ERESTART);
    ck_assert(vv->dbgport_timer.active);
    ck_assert_int_le(vv->dbgport_timer.expires, stub_now + MILLISECS(50));
    stub_now = vv->dbgport_timer.expires;
    ck_assert(stub_run_timer(&vv->dbgport_timer));
    ck_assert(!blocked(current));
    /* The timer ends the waiting state too. */
    ck_assert(!(sh->flags & XEN_SYNDBG_F_GUEST_WAITING));
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, ~0ULL, &got, &rem,
                              NULL), -ERESTART);
    ck_assert(blocked(current));
    ck_assert(sh->flags & XEN_SYNDBG_F_GUEST_WAITING);
    ck_assert_int_eq(set_backend(DOMID_INVALID), 0);
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, ~0ULL, &got, &rem,
                              NULL), -ENODATA);

    be_attach();
    while ( post(data, sizeof(data), 0, &pending) == 0 )
        ;
    start = stub_now;
    for ( n = 0; n < 100; n++ )
    {
        int rc = post(data, sizeof(data), HV_DEBUG_POST_LOOP, &pending);

        if ( rc != -ERESTART )
        {
            ck_assert_int_eq(rc, -ENOBUFS);
            break;
        }
        ck_assert(vv->dbgport_timer.active);
        ck_assert_int_le(vv->dbgport_timer.expires, stub_now + MILLISECS(50));
        stub_now = vv->dbgport_timer.expires;
        ck_assert(stub_run_timer(&vv->dbgport_timer));
    }
    ck_assert_int_lt(n, 100);
    ck_assert_int_ge(stub_now - start, SECONDS(1));
    ck_assert_uint_eq(pending, sizeof(data));
    ck_assert(!blocked(current));
    ck_assert(!vv->syndbg_wait.active);
}
END_TEST

/* With no backend attached a retrieve has nothing to wait for. */
START_TEST(retrieve_loop_without_backend_no_data)
{
    uint32_t got, rem;

    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, ~0ULL, &got, &rem,
                              NULL), -ENODATA);
    ck_assert(!blocked(current));
    ck_assert(!current->arch.hvm.viridian->dbgport_timer.active);
}
END_TEST

/*
 * A call the guest left (an exception, a reset of the vCPU's context) does
 * not hand its expired deadline to a later call with the same buffers.
 */
START_TEST(expired_wait_not_inherited)
{
    struct viridian_vcpu *vv = current->arch.hvm.viridian;
    uint32_t got, rem;

    be_attach();
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, 1000, &got, &rem,
                              NULL), -ERESTART);
    stub_now += SECONDS(5);
    ck_assert(stub_run_timer(&vv->dbgport_timer));
    ck_assert(!(sh->flags & XEN_SYNDBG_F_GUEST_WAITING));

    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, 1000, &got, &rem,
                              NULL), -ERESTART);
    ck_assert(blocked(current));
    ck_assert_int_eq(vv->dbgport_timer.expires, stub_now + 100000);
}
END_TEST

/* HvResetDebugSession starts a new session: waits start afresh. */
START_TEST(reset_restarts_waits)
{
    struct viridian_vcpu *vv = vcpus[0].arch.hvm.viridian;
    uint32_t got, rem;
    s_time_t start = stub_now;

    be_attach();
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, 10000, &got, &rem,
                              NULL), -ERESTART);
    ck_assert_int_eq(vv->dbgport_timer.expires, start + 1000000);
    stub_now = start + 900000;
    current = &vcpus[1];
    ck_assert_int_eq(reset(HV_DEBUG_PURGE_INCOMING_DATA), 0);
    current = &vcpus[0];
    ck_assert(!blocked(current));
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, 10000, &got, &rem,
                              NULL), -ERESTART);
    ck_assert_int_eq(vv->dbgport_timer.expires, stub_now + 1000000);
}
END_TEST

/*
 * One backend at a time, on the pages too: only the attached backend maps
 * them, each attach gets fresh rings, and nothing posted or written in an
 * earlier session reaches the next.
 */
START_TEST(attach_gives_fresh_rings_to_its_backend_only)
{
    xen_pfn_t mfn[XEN_SYNDBG_NR_FRAMES];
    struct xen_syndbg_shared *old;
    struct xen_syndbg_pdu hdr;
    uint8_t data[32] = { 0 };
    uint32_t pending, got, rem;

    ck_assert_int_eq(be_acquire(0, 0, 1, mfn), -EPERM);
    old = be_attach();
    ck_assert_int_eq(be_acquire_as(&other_vcpu, 0, 0, 1, mfn), -EPERM);
    ck_assert_int_eq(post(data, sizeof(data), 0, &pending), 0);

    ck_assert_int_eq(set_backend(DOMID_INVALID), 0);
    ck_assert_int_eq(be_acquire(0, 0, 1, mfn), -EPERM);
    ck_assert_int_eq(post(data, sizeof(data), 0, &pending), -ENOBUFS);

    be_attach();
    ck_assert_ptr_ne(sh, old);
    ck_assert_uint_eq(sh->out.prod, 0);
    ck_assert_uint_eq(sh->in.prod, 0);
    ck_assert_int_eq(be_pop(&hdr, NULL), -1);

    /* The former backend still writes its old pages: nobody listens. */
    sh = old;
    ck_assert_int_eq(be_push(data, sizeof(data)), 0);
    ck_assert_int_eq(retrieve(4088, 0, 0, &got, &rem, NULL), -ENODATA);
    /* Another domain cannot take over while one is attached. */
    ck_assert_int_eq(set_backend(9), -EBUSY);
}
END_TEST

/*
 * Saving a Viridian guest leaves a VIRIDIAN_DOMAIN record of the stock size
 * (a stock Xen restores it); the debugger's state has its own record, only
 * for a domain with the group, restored as written: OPTIONS 0 stays 0.
 */
_Static_assert(sizeof(struct hvm_viridian_domain_context) == 32,
               "VIRIDIAN_DOMAIN is the stock size");

START_TEST(save_record_stock_sized_options_verbatim)
{
    struct hvm_viridian_syndbg_context ctxt;

    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_OPTIONS, 0), X86EMUL_OKAY);
    ck_assert(viridian_syndbg_save_ctxt(&dom, &ctxt));
    ck_assert_uint_eq(ctxt.options, 0);
    ck_assert_int_eq(wrmsr(HV_X64_MSR_SYNDBG_OPTIONS,
                           HV_X64_SYNDBG_OPTION_USE_HCALLS), X86EMUL_OKAY);
    ck_assert_int_eq(viridian_syndbg_load_ctxt(&dom, &ctxt), 0);
    ck_assert_uint_eq(rdmsr(HV_X64_MSR_SYNDBG_OPTIONS), 0);
}
END_TEST

/*
 * The backend's domain dies without detaching: the port detaches by itself
 * when next used, a waiting vCPU stops waiting, a new backend can attach.
 */
START_TEST(dead_backend_detached_automatically)
{
    uint64_t value;
    uint32_t got, rem;

    be_attach();
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, ~0ULL, &got, &rem,
                              NULL), -ERESTART);
    be_dom.is_dying = true;
    ck_assert_int_eq(retrieve(4088, HV_DEBUG_RETRIEVE_LOOP, ~0ULL, &got, &rem,
                              NULL), -ENODATA);
    ck_assert(!blocked(current));
    ck_assert(!stub.evtchn_in_use);
    ck_assert_int_eq(get_backend(&value), 0);
    ck_assert_uint_eq(value, DOMID_INVALID);

    /* The parameter alone notices too, and a new backend gets in. */
    be_dom.is_dying = false;
    be_attach();
    stub.domains[1] = NULL;
    ck_assert_int_eq(set_backend(9), 0);
    ck_assert_uint_eq(viridian_dbgport_backend(&dom), 9);
}
END_TEST

/* ---- defaults and interface ------------------------------------------------- */

/* OPTIONS starts at the MSR interface, as QEMU has it. */
START_TEST(options_default_to_msr_interface)
{
    ck_assert_uint_eq(rdmsr(HV_X64_MSR_SYNDBG_OPTIONS), 0);
}
END_TEST

/* Without the group the debug calls do not exist: INVALID_HYPERCALL_CODE. */
START_TEST(debug_calls_without_group_do_not_exist)
{
    ck_assert_int_eq(hcall(HVCALL_POST_DEBUG_DATA, false, IN_GPA, OUT_GPA),
                     -EOPNOTSUPP);
    ck_assert_int_eq(hcall(HVCALL_RETRIEVE_DEBUG_DATA, false, IN_GPA, OUT_GPA),
                     -EOPNOTSUPP);
    ck_assert_int_eq(hcall(HVCALL_RESET_DEBUG_SESSION, true, 0, 0),
                     -EOPNOTSUPP);
}
END_TEST

/*
 * The raw VMCALL rule depends on RAX, which the Hyper-V ABI leaves
 * undefined: only a domain that opted in (HVMPV_syndbg_vmcall) gets it.
 */
START_TEST(raw_vmcall_rule_is_opt_in)
{
    struct cpu_user_regs r = { .rax = 0x1000, .rcx = HVCALL_POST_DEBUG_DATA };

    ck_assert(!viridian_syndbg_is_raw_call(current, &r));
    current->mode = 4;
    r.rax = HVCALL_RETRIEVE_DEBUG_DATA;
    ck_assert(!viridian_syndbg_is_raw_call(current, &r));
    dom.arch.hvm.params[HVM_PARAM_VIRIDIAN] |= HVMPV_syndbg_vmcall;
    ck_assert(viridian_syndbg_is_raw_call(current, &r));
    /* The opt-in alone, without the group, is nothing. */
    dom.arch.hvm.params[HVM_PARAM_VIRIDIAN] &= ~HVMPV_syndbg;
    ck_assert(!viridian_syndbg_is_raw_call(current, &r));
}
END_TEST

static Suite *syndbg_suite(void)
{
    Suite *s = suite_create("viridian-syndbg");
    TCase *tc;

    tc = tcase_create("disabled");
    tcase_add_checked_fixture(tc, setup_nosyndbg, teardown);
    tcase_add_test(tc, disabled_group_refuses_everything);
    tcase_add_test(tc, restore_without_group_refused);
    tcase_add_test(tc, debug_calls_without_group_do_not_exist);
    suite_add_tcase(s, tc);

    tc = tcase_create("msr");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, msr_buffers_validated);
    tcase_add_test(tc, msr_options_and_status);
    tcase_add_test(tc, msr_send_and_receive);
    suite_add_tcase(s, tc);

    tc = tcase_create("post");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, post_queues_one_pdu);
    tcase_add_test(tc, post_rejects_bad_input);
    tcase_add_test(tc, post_backpressure_loses_nothing);
    tcase_add_test(tc, post_loop_blocks_until_room);
    suite_add_tcase(s, tc);

    tc = tcase_create("retrieve");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, retrieve_without_data);
    tcase_add_test(tc, retrieve_rejects_bad_input);
    tcase_add_test(tc, retrieve_timeout_expires);
    tcase_add_test(tc, retrieve_spurious_wake_keeps_deadline);
    tcase_add_test(tc, retrieve_wakes_on_data);
    tcase_add_test(tc, retrieve_data_already_there_does_not_block);
    tcase_add_test(tc, retrieve_partial_pdu);
    tcase_add_test(tc, retrieve_test_activity);
    tcase_add_test(tc, guest_that_never_reads);
    suite_add_tcase(s, tc);

    tc = tcase_create("reset");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, reset_purges_incoming_in_flight);
    tcase_add_test(tc, reset_purges_outgoing_and_reports_connection);
    tcase_add_test(tc, reset_fast_and_bad_options);
    tcase_add_test(tc, reset_wakes_waiters);
    suite_add_tcase(s, tc);

    tc = tcase_create("port");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, attach_detach);
    tcase_add_test(tc, dm_op_attach_query_detach);
    tcase_add_test(tc, dm_op_requires_device_model_rights);
    tcase_add_test(tc, acquire_bounds);
    tcase_add_test(tc, hostile_backend_indexes);
    tcase_add_test(tc, hostile_backend_records);
    tcase_add_test(tc, out_consumer_index_hostile);
    tcase_add_test(tc, raw_vmcall_rule);
    suite_add_tcase(s, tc);

    tc = tcase_create("save");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, save_and_restore);
    tcase_add_test(tc, restore_validates);
    suite_add_tcase(s, tc);

    tc = tcase_create("hardening");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, dying_domain_refuses_every_entry);
    tcase_add_test(tc, retrieve_partial_header_rewritten);
    tcase_add_test(tc, pages_allocated_at_attach_and_accounted);
    tcase_add_test(tc, logdirty_and_shared_pages);
    tcase_add_test(tc, msr_pending_consistent_with_racing_receive);
    tcase_add_test(tc, wait_returns_to_guest_for_events);
    tcase_add_test(tc, wait_sleeps_capped_post_loop_bounded);
    tcase_add_test(tc, retrieve_loop_without_backend_no_data);
    tcase_add_test(tc, expired_wait_not_inherited);
    tcase_add_test(tc, reset_restarts_waits);
    tcase_add_test(tc, attach_gives_fresh_rings_to_its_backend_only);
    tcase_add_test(tc, save_record_stock_sized_options_verbatim);
    tcase_add_test(tc, dead_backend_detached_automatically);
    tcase_add_test(tc, options_default_to_msr_interface);
    tcase_add_test(tc, raw_vmcall_rule_is_opt_in);
    suite_add_tcase(s, tc);

    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(syndbg_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);

    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
