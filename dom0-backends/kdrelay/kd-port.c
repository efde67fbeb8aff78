// SPDX-License-Identifier: GPL-2.0-only
/*
 * kd-port.c - the debug port of a domain, from xen-kdrelay's side.
 *
 * Attach: XEN_DMOP_syndbg_backend on the port's own privcmd descriptor
 * (kd-dmop.c), map the XENMEM_resource_syndbg frames, bind the event
 * channel Xen published in the shared page.  Then two byte rings of
 * records: out (the guest produces, we consume) and in (we produce).
 *
 * Everything read from the shared pages is hostile: each index and record
 * header is read once into a local copy, validated, then used.  cons of
 * the out ring lives in the shared page, so a restarted relay resumes
 * where the previous one stopped.
 *
 * The debuggee's lifecycle comes from xenstore: xenstored fires
 * @releaseDomain when any domain dies and @introduceDomain when one is
 * introduced, so each firing is checked against the hypervisor
 * (xc_domain_getinfolist, and the DM-op failing) before it is believed.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xenstore.h>

#include "dlog.h"

#include "kd-dmop.h"
#include "kd-port.h"

static xc_interface *xch;
static xenforeignmemory_handle *fmem;
static xenevtchn_handle *xce;
static struct xs_handle *xsh;
const char *kd_check_cause = "start";

int kd_xen_open(bool need_xenstore)
{
	xch = xc_interface_open(NULL, NULL, 0);
	fmem = xenforeignmemory_open(NULL, 0);
	xce = xenevtchn_open(NULL, 0);
	if (!xch || !fmem || !xce) {
		int err = errno ? errno : EIO;

		dlog(LOG_ERR, "failed to open the Xen interfaces (%s)", strerror(err));
		return -err;
	}
	xsh = xs_open(0);
	if (!xsh && need_xenstore) {
		int err = errno;

		dlog(LOG_ERR, "failed to connect to xenstore (%s)", strerror(err));
		return -err;
	}
	return 0;
}

void kd_xen_close(void)
{
	if (xsh)
		xs_close(xsh);
	if (xce)
		xenevtchn_close(xce);
	if (fmem)
		xenforeignmemory_close(fmem);
	if (xch)
		xc_interface_close(xch);
	xsh = NULL;
	xce = NULL;
	fmem = NULL;
	xch = NULL;
}

int kd_evtchn_fd(void)
{
	return xenevtchn_fd(xce);
}

void kd_evtchn_ack(void)
{
	xenevtchn_port_or_error_t p = xenevtchn_pending(xce);

	if (p >= 0)
		xenevtchn_unmask(xce, p);
}

/* ---- the debuggee ---- */

int kd_domain_live(uint32_t domid)
{
	xc_domaininfo_t info;
	int n = xc_domain_getinfolist(xch, domid, 1, &info);

	if (n < 0)
		return -errno;
	return n == 1 && info.domain == domid && !(info.flags & XEN_DOMINF_dying);
}

/* The live domain called name, as libxl writes /local/domain/N/name. */
int kd_resolve_name(const char *name, uint32_t *domid)
{
	unsigned int n, i;
	char **ents;
	int rc = -ENOENT;

	if (!xsh)
		return -ENOTCONN;
	ents = xs_directory(xsh, XBT_NULL, "/local/domain", &n);
	if (!ents)
		return -errno;
	for (i = 0; i < n && rc; i++) {
		char path[64], *val, *end;
		unsigned long id = strtoul(ents[i], &end, 10);
		unsigned int len;

		if (*end || id >= DOMID_FIRST_RESERVED)
			continue;
		snprintf(path, sizeof(path), "/local/domain/%lu/name", id);
		val = xs_read(xsh, XBT_NULL, path, &len);
		if (val && !strcmp(val, name) && kd_domain_live(id) == 1) {
			*domid = id;
			rc = 0;
		}
		free(val);
	}
	free(ents);
	return rc;
}

char *kd_domain_name(uint32_t domid)
{
	char path[64];
	unsigned int len;

	if (!xsh)
		return NULL;
	snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
	return xs_read(xsh, XBT_NULL, path, &len);
}

/* ---- the debug port ---- */

/*
 * The port's own privcmd descriptor for XEN_DMOP_syndbg_backend, restricted
 * to the debuggee when it is given by id: what the relay keeps after it
 * drops its privileges then reaches that domain only.  A port that follows
 * a name needs the next domain of that name too, and stays unrestricted.
 */
int kd_port_open(struct kd_port *p)
{
	p->privcmd = kd_privcmd_open();
	if (p->privcmd < 0) {
		dlog(LOG_ERR, "failed to open the privcmd device (%s)", strerror(errno));
		return -1;
	}
	if (p->name)
		return 0;
	if (kd_privcmd_restrict(p->privcmd, p->domid) < 0) {
		dlog(LOG_ERR, "failed to restrict the privcmd device to d%u (%s)", p->domid,
		     strerror(errno));
		return -1;
	}
	return 0;
}

void kd_port_detach(struct kd_port *p)
{
	if (p->lport >= 0)
		xenevtchn_unbind(xce, p->lport);
	p->lport = -1;
	if (p->fres)
		xenforeignmemory_unmap_resource(fmem, p->fres);
	p->fres = NULL;
	p->sh = NULL;
	p->attached = false;
}

void kd_port_close(struct kd_port *p)
{
	if (p->fres)
		xenforeignmemory_unmap_resource(fmem, p->fres);
	p->fres = NULL;
	p->sh = NULL;
	p->attached = false;
	if (p->privcmd >= 0)
		close(p->privcmd);
	p->privcmd = -1;
}

void kd_publish_conn(struct kd_port *p, const struct sockaddr_in *dbg)
{
	volatile struct syndbg_conn_info *c;

	if (!p->attached || !dbg)
		return;
	c = &p->sh->conn;
	c->host_ip = dbg->sin_addr.s_addr;
	c->host_port = dbg->sin_port;
	c->target_ip = p->flow_known ? p->flow.src_ip : 0;
	c->target_port = p->flow_known ? p->flow.src_port : dbg->sin_port;
	for (int i = 0; i < 6; i++) {
		c->host_mac[i] = p->flow_known ? p->flow.dst_mac[i] : 0;
		c->target_mac[i] = p->flow_known ? p->flow.src_mac[i] : 0;
	}
}

static int kd_attach(struct kd_port *p)
{
	void *addr = NULL;
	uint32_t magic, version, ring, maxpdu, port;
	int err;

	if (kd_dm_syndbg(p->privcmd, p->domid, SYNDBG_DMOP_ATTACH, &p->self) < 0) {
		err = errno;
		dlog(LOG_DEBUG, "failed to attach to the debug port of d%u (%s)", p->domid,
		       strerror(err));
		return p->attach_err = -err;
	}
	p->fres = xenforeignmemory_map_resource(fmem, p->domid, SYNDBG_RESOURCE_TYPE, 0, 0,
						SYNDBG_NR_FRAMES, &addr,
						PROT_READ | PROT_WRITE, 0);
	if (!p->fres) {
		err = errno;
		dlog(LOG_ERR, "failed to map the debug port frames of d%u (%s)", p->domid,
		       strerror(err));
		return p->attach_err = -err;
	}
	p->sh = addr;
	p->out = (volatile uint8_t *)addr + SYNDBG_OUT_FRAME * SYNDBG_PAGE_SIZE;
	p->in = (volatile uint8_t *)addr + SYNDBG_IN_FRAME * SYNDBG_PAGE_SIZE;
	magic = p->sh->magic;
	version = p->sh->version;
	ring = p->sh->ring_size;
	maxpdu = p->sh->max_pdu;
	port = p->sh->evtchn;
	if (magic != SYNDBG_MAGIC || version != SYNDBG_VERSION || ring != SYNDBG_RING_SIZE ||
	    maxpdu > SYNDBG_MAX_PDU || port == 0) {
		dlog(LOG_ERR, "failed to use the debug port of d%u: magic %#x version %u "
		       "ring %u max_pdu %u port %u", p->domid, magic, version, ring, maxpdu, port);
		kd_port_detach(p);
		return p->attach_err = -EPROTO;
	}
	p->lport = xenevtchn_bind_interdomain(xce, p->domid, port);
	if (p->lport < 0) {
		err = errno;
		dlog(LOG_ERR, "failed to bind event channel %u of d%u (%s)", port, p->domid,
		       strerror(err));
		kd_port_detach(p);
		return p->attach_err = -err;
	}
	p->rport = port;
	p->attached = true;
	p->attached_once = true;
	p->attach_err = 0;
	p->broken_logged = false;
	dlog(LOG_INFO, "attached to the debug port of d%u (port %u, out cons %u)",
	       p->domid, port, p->sh->out.cons);
	/* Each session starts with empty rings: say we are here. */
	xenevtchn_notify(xce, p->lport);
	return 0;
}

/* Still attached to the same port instance?  (Reboot re-creates it.) */
static bool kd_port_alive(struct kd_port *p)
{
	uint32_t backend = SYNDBG_DOMID_INVALID;

	if (!p->attached)
		return false;
	if (kd_dm_syndbg(p->privcmd, p->domid, SYNDBG_DMOP_QUERY, &backend) < 0 ||
	    backend != p->self || p->sh->evtchn != p->rport ||
	    p->sh->magic != SYNDBG_MAGIC)
		return false;
	if ((p->sh->flags & SYNDBG_F_BROKEN) && !p->broken_logged) {
		dlog(LOG_ERR, "the debug port of d%u is marked broken; re-attaching", p->domid);
		p->broken_logged = true;
		return false;
	}
	return true;
}

bool kd_port_check(struct kd_port *p)
{
	int live;

	if (kd_port_alive(p))
		return true;
	if (p->attached)
		kd_port_detach(p);
	live = p->have_domid ? kd_domain_live(p->domid) : 0;
	if (live == 0 && p->name) {
		uint32_t id = 0;

		if (p->have_domid && p->attached_once)
			dlog(LOG_INFO, "d%u (\"%s\") is gone (%s)", p->domid, p->name,
			     kd_check_cause);
		if (kd_resolve_name(p->name, &id) < 0) {
			if (!p->waiting_logged)
				dlog(LOG_INFO, "waiting for a domain named \"%s\"", p->name);
			p->waiting_logged = true;
			p->have_domid = false;
			return true;
		}
		if ((p->attached_once || p->waiting_logged) && (!p->have_domid || id != p->domid))
			dlog(LOG_INFO, "domain \"%s\" is d%u (%s)", p->name, id, kd_check_cause);
		p->domid = id;
		p->have_domid = true;
		p->waiting_logged = false;
		p->guest_frames = false;
		p->flow_known = false;
		live = 1;
	} else if (live == 0) {
		dlog(LOG_ERR, "d%u no longer exists (%s); exiting (use --follow to follow "
		       "a domain across re-creates)", p->domid, kd_check_cause);
		return false;
	}
	if (live > 0 && kd_attach(p) == 0)
		kd_publish_conn(p, p->dbg);
	return true;
}

/* ---- the rings ---- */

static void ring_copy_out(volatile const uint8_t *ring, uint32_t idx, void *dst, uint32_t len)
{
	uint32_t off = idx & (SYNDBG_RING_SIZE - 1), i;

	for (i = 0; i < len; i++)
		((uint8_t *)dst)[i] = ring[(off + i) & (SYNDBG_RING_SIZE - 1)];
}

static void ring_copy_in(volatile uint8_t *ring, uint32_t idx, const void *src, uint32_t len)
{
	uint32_t off = idx & (SYNDBG_RING_SIZE - 1), i;

	for (i = 0; i < len; i++)
		ring[(off + i) & (SYNDBG_RING_SIZE - 1)] = ((const uint8_t *)src)[i];
}

int kd_out_peek(struct kd_port *p, struct syndbg_pdu *hdr, uint8_t *buf)
{
	uint32_t prod, cons, avail;

	prod = __atomic_load_n(&p->sh->out.prod, __ATOMIC_RELAXED);
	cons = p->sh->out.cons;
	__atomic_thread_fence(__ATOMIC_ACQUIRE); /* read prod /then/ the record */
	avail = prod - cons;
	if (avail == 0)
		return 0;
	if (avail > SYNDBG_RING_SIZE || avail < sizeof(*hdr))
		return -EPROTO;
	ring_copy_out(p->out, cons, hdr, sizeof(*hdr));
	if (hdr->len > SYNDBG_MAX_PDU || syndbg_rec_size(hdr->len) > avail ||
	    (hdr->type != SYNDBG_PDU_DATA && hdr->type != SYNDBG_PDU_RESET))
		return -EPROTO;
	ring_copy_out(p->out, cons + sizeof(*hdr), buf, hdr->len);
	return 1;
}

void kd_out_consume(struct kd_port *p, const struct syndbg_pdu *hdr)
{
	uint32_t cons = p->sh->out.cons + syndbg_rec_size(hdr->len);

	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* finish reading the record /then/ free it */
	__atomic_store_n(&p->sh->out.cons, cons, __ATOMIC_RELAXED);
	xenevtchn_notify(xce, p->lport);
}

int kd_in_put(struct kd_port *p, const void *buf, uint32_t len)
{
	struct syndbg_pdu hdr = { .len = len, .type = SYNDBG_PDU_DATA };
	uint32_t prod, cons, used;

	if (len > SYNDBG_MAX_PDU)
		return -EMSGSIZE;
	hdr.session = p->sh->in_session;	/* read before producing */
	prod = p->sh->in.prod;
	cons = __atomic_load_n(&p->sh->in.cons, __ATOMIC_RELAXED);
	used = prod - cons;
	if (used > SYNDBG_RING_SIZE)
		return -EPROTO;
	if (SYNDBG_RING_SIZE - used < syndbg_rec_size(len))
		return -ENOSPC;
	ring_copy_in(p->in, prod, &hdr, sizeof(hdr));
	ring_copy_in(p->in, prod + sizeof(hdr), buf, len);
	__atomic_thread_fence(__ATOMIC_RELEASE); /* write the record /then/ prod */
	__atomic_store_n(&p->sh->in.prod, prod + syndbg_rec_size(len), __ATOMIC_RELAXED);
	xenevtchn_notify(xce, p->lport);
	return 0;
}

bool kd_in_room(struct kd_port *p)
{
	uint32_t used = p->sh->in.prod - __atomic_load_n(&p->sh->in.cons, __ATOMIC_RELAXED);

	return used <= SYNDBG_RING_SIZE &&
	       SYNDBG_RING_SIZE - used >= syndbg_rec_size(SYNDBG_MAX_PDU);
}

void kd_port_pump(struct kd_port *p,
		  bool (*put)(const struct syndbg_pdu *hdr, const uint8_t *buf))
{
	static uint8_t buf[SYNDBG_MAX_PDU];
	struct syndbg_pdu hdr;
	int rc;

	while (p->attached && (rc = kd_out_peek(p, &hdr, buf)) > 0) {
		/* A record from a purged session is stale: drop it. */
		bool stale = hdr.type == SYNDBG_PDU_DATA &&
			     hdr.session != __atomic_load_n(&p->sh->out_session, __ATOMIC_ACQUIRE);

		if (!stale && !put(&hdr, buf))
			return;
		if (hdr.type == SYNDBG_PDU_RESET)
			dlog(LOG_INFO, "d%u reset its debug session (purge %#x)", p->domid,
			       hdr.flags);
		kd_out_consume(p, &hdr);
	}
	if (p->attached && rc < 0) {
		dlog(LOG_ERR, "bad out ring of d%u (prod %u cons %u); re-attaching", p->domid,
		       p->sh->out.prod, p->sh->out.cons);
		kd_port_detach(p);
	}
}

/* ---- the domains' lifecycle ---- */

int kd_watch_open(void)
{
	if (!xsh) {
		dlog(LOG_WARNING, "no xenstore: checking the domain every second");
		return -ENOTCONN;
	}
	if (!xs_watch(xsh, "@releaseDomain", "release") ||
	    !xs_watch(xsh, "@introduceDomain", "introduce")) {
		int err = errno;

		dlog(LOG_WARNING, "failed to watch @releaseDomain in xenstore (%s); "
		     "checking the domain every second instead", strerror(err));
		return -err;
	}
	return xs_fileno(xsh);
}

const char *kd_watch_read(void)
{
	const char *fired = NULL;
	char **w;

	while ((w = xs_check_watch(xsh))) {
		dlog(LOG_DEBUG, "xenstore: %s fired", w[XS_WATCH_PATH]);
		if (!strcmp(w[XS_WATCH_TOKEN], "release"))
			fired = "@releaseDomain";
		else if (!fired)
			fired = "@introduceDomain";
		free(w);
	}
	return fired;
}
