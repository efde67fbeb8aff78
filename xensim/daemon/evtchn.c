// SPDX-License-Identifier: GPL-2.0-only
/*
 * evtchn.c - event channels of the simulated hypervisor.
 *
 * Every allocated port has an eventfd and a state word (pending, masked) in
 * the domain's event-channel page.  Delivering an event sets the pending
 * bit and, when the port was neither pending nor masked, writes the
 * eventfd: the handle that bound the port waits on an epoll set of such
 * eventfds.  The handle masks a port when it delivers it and re-raises on
 * unmask what came meanwhile (see xensim/libs/evtchn.c), which gives the
 * Linux evtchn driver's semantics: a delivered port stays masked until
 * unmasked, and notifications coalesce.
 *
 * A sender keeps the remote port's eventfd, so a notification never passes
 * through this daemon.  When a port's peer changes (bound, closed), the
 * port's generation in the domain's shared generation page is bumped and
 * the sender's library fetches the new target on its next notify.
 *
 * Rules follow xen/common/event_channel.c: ports are allocated lowest first
 * from 1; an interdomain bind needs a port left unbound for the binder's
 * domain; closing one end of an interdomain channel leaves the other end
 * unbound; a new interdomain binding starts with its local port pending.
 *
 * An unmap notification that will signal a port holds it, as gntdev and
 * gntalloc do with evtchn_get(): unbinding the port, or its handle going
 * away (the process died), leaves it bound until the notification has
 * fired, so a dying process's notification reaches the peer whatever order
 * its handles are released in.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "xensimd.h"

static bool kport_event(struct watcher *w, uint32_t events);

#define VIRQ_DOM_EXC 3
#define DOMID_SELF 0x7ff0u

static void port_kick(struct domain *d, uint32_t port)
{
	uint64_t one = 1;
	uint32_t old;

	if (d->ports[port].efd < 0)
		return;
	/* Pairs with the receiver's clearing of PENDING before it handles. */
	old = __atomic_fetch_or(&d->evp->state[port], XENSIM_EVTCHN_PENDING, __ATOMIC_SEQ_CST);
	if (old & (XENSIM_EVTCHN_PENDING | XENSIM_EVTCHN_MASKED))
		return;		/* coalesced, or raised again on unmask */
	if (write(d->ports[port].efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, the event is pending anyway. */
	}
}

int evtchn_alloc(struct domain *d, struct conn *owner, uint32_t *port)
{
	uint32_t i;
	int efd;

	for (i = 1; i < XENSIM_NR_PORTS; i++)
		if (d->ports[i].state == PORT_FREE)
			break;
	if (i == XENSIM_NR_PORTS)
		return -ENOSPC;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return -errno;
	memset(&d->ports[i], 0, sizeof(d->ports[i]));
	d->ports[i].efd = efd;
	d->ports[i].owner = owner;
	d->ports[i].state = PORT_UNBOUND;
	d->ports[i].remote_dom = d->domid;
	__atomic_store_n(&d->evp->state[i], 0, __ATOMIC_RELEASE);
	__atomic_add_fetch(&d->evp->gen[i], 1, __ATOMIC_RELEASE);
	*port = i;
	return 0;
}

void evtchn_close(struct domain *d, uint32_t port)
{
	struct port *p = &d->ports[port];

	if (port == 0 || port >= XENSIM_NR_PORTS || p->state == PORT_FREE)
		return;
	if (p->holds) {
		/* Bound until the last notification using it has fired. */
		p->close_deferred = true;
		p->owner = NULL;
		return;
	}
	if (p->state == PORT_INTERDOMAIN) {
		struct domain *rd = domain_find(p->remote_dom);

		if (rd && p->remote_port < XENSIM_NR_PORTS) {
			struct port *rp = &rd->ports[p->remote_port];

			if (rp->state == PORT_INTERDOMAIN && rp->remote_dom == d->domid &&
			    rp->remote_port == port) {
				rp->state = PORT_UNBOUND;
				rp->remote_port = 0;
				__atomic_add_fetch(&rd->evp->gen[p->remote_port], 1, __ATOMIC_RELEASE);
			}
		}
	} else if (p->state == PORT_VIRQ && p->virq < 32) {
		d->virq_port[p->virq] = 0;
	}
	if (p->kw.kind == W_KPORT && p->kw.fd >= 0)
		loop_del(&p->kw);
	close(p->efd);
	memset(p, 0, sizeof(*p));
	p->state = PORT_FREE;
	p->efd = -1;
	__atomic_add_fetch(&d->evp->gen[port], 1, __ATOMIC_RELEASE);
}

int evtchn_bind_interdomain(struct domain *d, struct conn *owner,
			    uint32_t rdom, uint32_t rport, uint32_t *port)
{
	struct domain *rd;
	struct port *rp, *lp;
	int rc;

	if (rdom == DOMID_SELF)
		rdom = d->domid;
	rd = domain_find(rdom);
	if (!rd || (rd->flags & XENSIM_DOM_DYING))
		return -ESRCH;
	if (rport == 0 || rport >= XENSIM_NR_PORTS)
		return -EINVAL;
	rp = &rd->ports[rport];
	if (rp->state != PORT_UNBOUND || rp->remote_dom != d->domid)
		return -EINVAL;
	rc = evtchn_alloc(d, owner, port);
	if (rc)
		return rc;
	lp = &d->ports[*port];
	lp->state = PORT_INTERDOMAIN;
	lp->remote_dom = rdom;
	lp->remote_port = rport;
	rp->state = PORT_INTERDOMAIN;
	rp->remote_dom = d->domid;
	rp->remote_port = *port;
	__atomic_add_fetch(&rd->evp->gen[rport], 1, __ATOMIC_RELEASE);
	/* Notifications sent to the unbound port may have been lost: Xen
	 * conservatively marks the new local port pending. */
	port_kick(d, *port);
	return 0;
}

int evtchn_send(struct domain *d, uint32_t port)
{
	struct port *p;
	struct domain *rd;

	if (port == 0 || port >= XENSIM_NR_PORTS)
		return -EINVAL;
	p = &d->ports[port];
	switch (p->state) {
	case PORT_INTERDOMAIN:
		rd = domain_find(p->remote_dom);
		if (rd && p->remote_port < XENSIM_NR_PORTS) {
			struct port *rp = &rd->ports[p->remote_port];

			if (rp->state == PORT_INTERDOMAIN && rp->remote_dom == d->domid &&
			    rp->remote_port == port)
				port_kick(rd, p->remote_port);
		}
		return 0;
	case PORT_UNBOUND:
		return 0;	/* silently dropped, as Xen does */
	default:
		return -EINVAL;
	}
}

void evtchn_raise_virq_dom_exc(void)
{
	struct domain *dom0 = domain_find(0);

	if (dom0 && dom0->virq_port[VIRQ_DOM_EXC])
		port_kick(dom0, dom0->virq_port[VIRQ_DOM_EXC]);
}

int evtchn_kernel_port(struct domain *d, uint32_t remote_dom, kport_fn fn,
		       void *opaque, uint32_t *port)
{
	struct port *p;
	int rc;

	rc = evtchn_alloc(d, NULL, port);
	if (rc)
		return rc;
	p = &d->ports[*port];
	p->remote_dom = remote_dom;
	p->kfn = fn;
	p->kopaque = opaque;
	p->kw.kind = W_KPORT;
	p->kw.fn = kport_event;
	p->kw.fd = p->efd;
	p->kdom = d;
	p->kport = *port;
	loop_add(&p->kw, EPOLLIN);
	return 0;
}

static bool kport_event(struct watcher *w, uint32_t events)
{
	struct port *p = container_of(w, struct port, kw);
	struct domain *d = p->kdom;
	uint32_t port = p->kport;
	uint64_t v;

	if (read(p->efd, &v, sizeof(v)) != sizeof(v))
		return true;
	/* Clear PENDING /then/ look at the ring: a later notify wakes us again. */
	__atomic_and_fetch(&d->evp->state[port], ~XENSIM_EVTCHN_PENDING, __ATOMIC_SEQ_CST);
	if (p->kfn)
		p->kfn(p->kopaque);
	return true;
}

void evtchn_release_conn(struct conn *c)
{
	uint32_t i;

	for (i = 1; i < XENSIM_NR_PORTS; i++)
		if (c->dom->ports[i].state != PORT_FREE && c->dom->ports[i].owner == c)
			evtchn_close(c->dom, i);
}

int evtchn_hold(struct domain *d, uint32_t port)
{
	struct port *p;

	if (port == 0 || port >= XENSIM_NR_PORTS)
		return -EINVAL;
	p = &d->ports[port];
	/* Only a port a handle bound (evtchn_get refuses the kernel's). */
	if (p->state == PORT_FREE || !p->owner || p->close_deferred)
		return -EINVAL;
	p->holds++;
	return 0;
}

void evtchn_put(struct domain *d, uint32_t port)
{
	struct port *p;

	if (port == 0 || port >= XENSIM_NR_PORTS)
		return;
	p = &d->ports[port];
	if (!p->holds || --p->holds)
		return;
	if (p->close_deferred)
		evtchn_close(d, port);
}

void evtchn_release_domain(struct domain *d)
{
	uint32_t i;

	if (!d->ports)
		return;
	for (i = 1; i < XENSIM_NR_PORTS; i++) {
		/* The domain is gone: nothing is left to notify through it. */
		d->ports[i].holds = 0;
		evtchn_close(d, i);
	}
}

/* ---- requests of the simulated libxenevtchn ---- */

static struct xensim_evtchn_rsp *evtchn_reply(struct reply *r)
{
	if (r->len == sizeof(struct xensim_rsp))
		reply_extend(r, sizeof(struct xensim_evtchn_rsp) - sizeof(struct xensim_rsp));
	return (struct xensim_evtchn_rsp *)r->buf;
}

int op_evtchn_unbound(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_evtchn_req *q = req;
	struct domain *d = c->dom;
	uint32_t port;
	int rc;

	rc = evtchn_alloc(d, c, &port);
	if (rc)
		return rc;
	d->ports[port].state = PORT_UNBOUND;
	d->ports[port].remote_dom = q->remote_dom == 0x7ff0 /* DOMID_SELF */ ?
		d->domid : q->remote_dom;
	evtchn_reply(r)->port = port;
	evtchn_reply(r)->gen = d->evp->gen[port];
	reply_fd(r, d->ports[port].efd);
	return 0;
}

int op_evtchn_interdomain(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_evtchn_req *q = req;
	struct domain *d = c->dom, *rd;
	struct xensim_evtchn_rsp *p;
	uint32_t port;
	int rc;

	rc = evtchn_bind_interdomain(d, c, q->remote_dom, q->port, &port);
	if (rc)
		return rc;
	rd = domain_find(d->ports[port].remote_dom);
	p = evtchn_reply(r);
	p->port = port;
	p->gen = d->evp->gen[port];
	p->remote_dom = rd->domid;
	p->remote_port = d->ports[port].remote_port;
	reply_fd(r, d->ports[port].efd);
	reply_fd(r, rd->ports[p->remote_port].efd);
	reply_fd(r, rd->evpfd);
	return 0;
}

int op_evtchn_virq(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_evtchn_req *q = req;
	struct domain *d = c->dom;
	uint32_t port;
	int rc;

	if (q->virq >= 24)	/* NR_VIRQS */
		return -EINVAL;
	if (d->virq_port[q->virq])
		return -EEXIST;
	rc = evtchn_alloc(d, c, &port);
	if (rc)
		return rc;
	d->ports[port].state = PORT_VIRQ;
	d->ports[port].virq = q->virq;
	d->virq_port[q->virq] = port;
	evtchn_reply(r)->port = port;
	evtchn_reply(r)->gen = d->evp->gen[port];
	reply_fd(r, d->ports[port].efd);
	return 0;
}

static struct port *owned_port(struct conn *c, uint32_t port)
{
	if (port == 0 || port >= XENSIM_NR_PORTS)
		return NULL;
	if (c->dom->ports[port].state == PORT_FREE || c->dom->ports[port].owner != c)
		return NULL;
	return &c->dom->ports[port];
}

int op_evtchn_unbind(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_evtchn_req *q = req;

	if (!owned_port(c, q->port))
		return -ENOTCONN;	/* as the Linux evtchn driver */
	evtchn_close(c->dom, q->port);
	return 0;
}

int op_evtchn_peer(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_evtchn_req *q = req;
	struct xensim_evtchn_rsp *p;
	struct port *pt = owned_port(c, q->port);
	struct domain *rd;

	if (!pt)
		return -ENOTCONN;
	p = evtchn_reply(r);
	p->port = q->port;
	p->gen = c->dom->evp->gen[q->port];
	if (pt->state == PORT_INTERDOMAIN) {
		rd = domain_find(pt->remote_dom);
		if (rd) {
			p->remote_dom = rd->domid;
			p->remote_port = pt->remote_port;
			reply_fd(r, rd->ports[pt->remote_port].efd);
			reply_fd(r, rd->evpfd);
		}
	} else if (pt->state == PORT_VIRQ) {
		return -EINVAL;	/* evtchn_send() refuses VIRQ ports */
	}
	return 0;
}
