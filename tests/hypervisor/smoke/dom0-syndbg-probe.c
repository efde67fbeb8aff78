/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dom0-syndbg-probe: the smallest possible debug backend for a domain's
 * synthetic debugger port, for the boot smoke test on real Xen.  Written
 * against the patched tree's public/hvm/syndbg.h, as a relay would be.
 *
 *   dom0-syndbg-probe attach DOMID      attach, map, check header, bind
 *   dom0-syndbg-probe detach DOMID
 *   dom0-syndbg-probe relay DOMID N S   attach and echo N data PDUs back
 *                                       ("echo:" + payload), S seconds max,
 *                                       then check that vCPU 0 accrues no
 *                                       run time while the guest waits
 *
 * Output lines start with PROBE or RELAY; exit status 0 on success.
 */

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xencall.h>
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xen/hvm/dm_op.h>
#include <xen/hvm/params.h>
#include <xen/hvm/syndbg.h>
#include <xen/memory.h>

struct port {
    xc_interface *xch;
    xenforeignmemory_handle *fmem;
    xenforeignmemory_resource_handle *res;
    xenevtchn_handle *xce;
    volatile struct xen_syndbg_shared *sh;
    uint8_t *out, *in;
    evtchn_port_t local;
};

static void ring_read(const uint8_t *ring, uint32_t idx, void *dst, uint32_t n)
{
    for ( uint32_t k = 0; k < n; k++ )
        ((uint8_t *)dst)[k] = ring[(idx + k) & (XEN_SYNDBG_RING_SIZE - 1)];
}

static void ring_write(uint8_t *ring, uint32_t idx, const void *src, uint32_t n)
{
    for ( uint32_t k = 0; k < n; k++ )
        ring[(idx + k) & (XEN_SYNDBG_RING_SIZE - 1)] = ((const uint8_t *)src)[k];
}

static uint32_t rec_size(uint32_t len)
{
    return (sizeof(struct xen_syndbg_pdu) + len + XEN_SYNDBG_ALIGN - 1) &
           ~(XEN_SYNDBG_ALIGN - 1);
}

/* XEN_DMOP_syndbg_backend's op on domid; the backend afterwards in *backend. */
static int dm_syndbg(xc_interface *xch, uint32_t domid, uint16_t op,
                     domid_t *backend)
{
    xencall_handle *xcall = xc_interface_xcall_handle(xch);
    struct xen_dm_op *dm = xencall_alloc_buffer(xcall, sizeof(*dm));
    struct xen_dm_op_buf *buf = xencall_alloc_buffer(xcall, sizeof(*buf));
    int rc = -1;

    if ( dm && buf )
    {
        memset(dm, 0, sizeof(*dm));
        dm->op = XEN_DMOP_syndbg_backend;
        dm->u.syndbg_backend.op = op;
        set_xen_guest_handle_raw(buf->h, dm);
        buf->size = sizeof(*dm);
        rc = xencall3(xcall, __HYPERVISOR_dm_op, domid, 1, (unsigned long)buf);
        if ( !rc && backend )
            *backend = dm->u.syndbg_backend.backend;
    }
    if ( buf )
        xencall_free_buffer(xcall, buf);
    if ( dm )
        xencall_free_buffer(xcall, dm);
    return rc;
}

static int port_open(struct port *p, uint32_t domid)
{
    void *addr = NULL;
    int rc;

    memset(p, 0, sizeof(*p));
    p->xch = xc_interface_open(NULL, NULL, 0);
    p->fmem = xenforeignmemory_open(NULL, 0);
    p->xce = xenevtchn_open(NULL, 0);
    if ( !p->xch || !p->fmem || !p->xce )
    {
        printf("PROBE failed to open Xen interfaces (%s)\n", strerror(errno));
        return -1;
    }

    if ( dm_syndbg(p->xch, domid, XEN_DMOP_SYNDBG_ATTACH, NULL) )
    {
        printf("PROBE failed to attach to d%u (%d: %s)\n", domid, errno,
               strerror(errno));
        return -1;
    }

    p->res = xenforeignmemory_map_resource(p->fmem, domid, XENMEM_resource_syndbg,
                                           0, 0, XEN_SYNDBG_NR_FRAMES, &addr,
                                           PROT_READ | PROT_WRITE, 0);
    if ( !p->res )
    {
        printf("PROBE failed to map the debug port of d%u (%s)\n", domid,
               strerror(errno));
        return -1;
    }
    p->sh = addr;
    p->out = (uint8_t *)addr + XEN_SYNDBG_OUT_FRAME * XC_PAGE_SIZE;
    p->in = (uint8_t *)addr + XEN_SYNDBG_IN_FRAME * XC_PAGE_SIZE;

    printf("PROBE magic=%#x version=%u ring_size=%u max_pdu=%u evtchn=%u flags=%#x\n",
           p->sh->magic, p->sh->version, p->sh->ring_size, p->sh->max_pdu,
           p->sh->evtchn, p->sh->flags);
    if ( p->sh->magic != XEN_SYNDBG_MAGIC || p->sh->version != XEN_SYNDBG_VERSION ||
         p->sh->ring_size != XEN_SYNDBG_RING_SIZE || !p->sh->evtchn )
        return -1;

    rc = xenevtchn_bind_interdomain(p->xce, domid, p->sh->evtchn);
    if ( rc < 0 )
    {
        printf("PROBE failed to bind port %u of d%u (%s)\n", p->sh->evtchn,
               domid, strerror(errno));
        return -1;
    }
    p->local = rc;
    printf("PROBE bound port %u as local %u\n", p->sh->evtchn, p->local);

    return 0;
}

static int detach(uint32_t domid)
{
    xc_interface *xch = xc_interface_open(NULL, NULL, 0);
    domid_t v = 0;
    int rc;

    if ( !xch )
        return 1;
    rc = dm_syndbg(xch, domid, XEN_DMOP_SYNDBG_DETACH, &v);
    printf("PROBE detach rc=%d, backend now %#x\n", rc, v);
    xc_interface_close(xch);

    return rc ? 1 : 0;
}

/* Echo want data PDUs back to the guest; drop stale-session ones. */
static int relay(struct port *p, int want, int secs)
{
    time_t end = time(NULL) + secs;
    int echoed = 0;

    while ( echoed < want && time(NULL) < end )
    {
        struct pollfd pfd = { .fd = xenevtchn_fd(p->xce), .events = POLLIN };
        uint32_t prod, cons;

        if ( poll(&pfd, 1, 200) > 0 )
        {
            xenevtchn_port_or_error_t e = xenevtchn_pending(p->xce);

            if ( e >= 0 )
                xenevtchn_unmask(p->xce, e);
        }

        prod = p->sh->out.prod;
        __atomic_thread_fence(__ATOMIC_ACQUIRE); /* read prod /then/ records */
        cons = p->sh->out.cons;
        while ( cons != prod )
        {
            struct xen_syndbg_pdu h, r;
            char buf[XEN_SYNDBG_MAX_PDU], reply[XEN_SYNDBG_MAX_PDU];
            uint32_t in_prod = p->sh->in.prod;

            ring_read(p->out, cons, &h, sizeof(h));
            if ( h.len > XEN_SYNDBG_MAX_PDU )
            {
                printf("RELAY bad out record length %u\n", h.len);
                return 1;
            }
            ring_read(p->out, cons + sizeof(h), buf, h.len);
            cons += rec_size(h.len);
            printf("RELAY got type=%u len=%u session=%u: %.*s\n", h.type, h.len,
                   h.session, h.len > 60 ? 60 : h.len, buf);
            if ( h.type != XEN_SYNDBG_PDU_DATA || h.session != p->sh->out_session )
                continue;

            r.len = snprintf(reply, sizeof(reply), "echo:%.*s",
                             h.len > XEN_SYNDBG_MAX_PDU - 5 ? XEN_SYNDBG_MAX_PDU - 5 : h.len,
                             buf);
            r.type = XEN_SYNDBG_PDU_DATA;
            r.flags = 0;
            r.session = p->sh->in_session;
            ring_write(p->in, in_prod, &r, sizeof(r));
            ring_write(p->in, in_prod + sizeof(r), reply, r.len);
            __atomic_thread_fence(__ATOMIC_RELEASE); /* record /then/ prod */
            p->sh->in.prod = in_prod + rec_size(r.len);
            echoed++;
        }
        __atomic_thread_fence(__ATOMIC_SEQ_CST); /* done reading /then/ cons */
        p->sh->out.cons = cons;
        xenevtchn_notify(p->xce, p->local);
    }

    printf("RELAY echoed %d; Xen counted %" PRIu64 " out, %" PRIu64 " in\n",
           echoed, p->sh->stat_out_pdus, p->sh->stat_in_pdus);

    return echoed == want ? 0 : 1;
}

/*
 * Once the guest waits in HvRetrieveDebugData (XEN_SYNDBG_F_GUEST_WAITING),
 * sample vCPU 0's run time over `secs` seconds: a blocked vCPU must not
 * accumulate any.
 */
static int sample_blocked(struct port *p, uint32_t domid, int secs)
{
    xc_vcpuinfo_t a, b;
    time_t end = time(NULL) + 120;

    while ( !(p->sh->flags & XEN_SYNDBG_F_GUEST_WAITING) )
    {
        if ( time(NULL) > end )
        {
            printf("RELAY the guest never waited\n");
            return 1;
        }
        usleep(100000);
    }
    if ( xc_vcpu_getinfo(p->xch, domid, 0, &a) )
        return 1;
    sleep(secs);
    if ( xc_vcpu_getinfo(p->xch, domid, 0, &b) )
        return 1;
    printf("RELAY blocked-vcpu-time delta=%" PRIu64 " us over %d s, still waiting=%u, blocked=%u\n",
           (uint64_t)(b.cpu_time - a.cpu_time) / 1000, secs,
           !!(p->sh->flags & XEN_SYNDBG_F_GUEST_WAITING), b.blocked);

    return (b.cpu_time - a.cpu_time) < 50000000ULL ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct port p;
    uint32_t domid;
    int rc;

    setvbuf(stdout, NULL, _IONBF, 0);
    if ( argc < 3 )
    {
        fprintf(stderr, "usage: %s attach|detach|relay DOMID [N SECONDS]\n", argv[0]);
        return 2;
    }
    domid = strtoul(argv[2], NULL, 0);

    if ( !strcmp(argv[1], "detach") )
        return detach(domid);

    if ( port_open(&p, domid) )
        return 1;

    if ( !strcmp(argv[1], "relay") && argc == 5 )
    {
        rc = relay(&p, atoi(argv[3]), atoi(argv[4]));
        rc |= sample_blocked(&p, domid, 5);
        detach(domid);
    }
    else
        rc = xenevtchn_notify(p.xce, p.local) ? 1 : 0;

    xenforeignmemory_unmap_resource(p.fmem, p.res);

    return rc;
}
