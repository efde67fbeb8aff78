// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libxenevtchn.so.1 for the simulated Xen.
 *
 * Event delivery follows Xen's shared-memory ABI: each port has a pending
 * and a mask bit in its domain's event-channel page.  xenevtchn_notify()
 * sets the remote port's pending bit and writes the remote port's eventfd
 * only when the port was neither pending nor masked (one write() per
 * delivery, none when coalescing).  The handle's file descriptor is an
 * edge-triggered epoll set of its ports' eventfds: xenevtchn_pending()
 * masks the port and clears its pending bit in one atomic step, so a port
 * stays masked until xenevtchn_unmask(), and unmask re-raises an event that
 * arrived meanwhile -- the Linux evtchn driver's behaviour, with one
 * epoll_wait() per wake-up and no system call on unmask in the common case.
 * The generation word of a port tells when its remote end changed and the
 * target must be fetched again.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenevtchn.h>

#include "simconn.h"

#define PUBLIC __attribute__((visibility("default")))
#define NO_RESTRICT 0xffffffffu

struct lport {
	int rx;			/* our eventfd (-1: not bound by this handle) */
	int tx;			/* remote port's eventfd, -1 when none */
	uint32_t gen;		/* generation tx belongs to */
	uint32_t *rstate;	/* remote port's state word */
};

struct rpage {
	uint32_t domid;
	struct xensim_evtchn_page *evp;
};

struct xenevtchn_handle {
	struct simconn sc;
	int epfd;
	struct xensim_evtchn_page *evp;	/* our domain's */
	struct lport *ports;
	uint32_t restrict_dom;
	struct rpage *remotes;		/* other domains' pages we notify */
	unsigned int nremotes;
};

/* The event-channel page of @domid, mapped once per handle; consumes fd. */
static uint32_t *remote_state(xenevtchn_handle *xce, uint32_t domid, uint32_t port, int fd)
{
	struct rpage *n;
	void *p;
	unsigned int i;

	if (port >= XENSIM_NR_PORTS) {
		close(fd);
		errno = EPROTO;
		return NULL;
	}
	for (i = 0; i < xce->nremotes; i++) {
		if (xce->remotes[i].domid == domid) {
			close(fd);
			return &xce->remotes[i].evp->state[port];
		}
	}
	p = mmap(NULL, sizeof(struct xensim_evtchn_page), PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	n = realloc(xce->remotes, (xce->nremotes + 1) * sizeof(*n));
	if (!n) {
		munmap(p, sizeof(struct xensim_evtchn_page));
		return NULL;
	}
	xce->remotes = n;
	n[xce->nremotes] = (struct rpage){ .domid = domid, .evp = p };
	return &n[xce->nremotes++].evp->state[port];
}

static struct lport *bound(xenevtchn_handle *xce, evtchn_port_t port)
{
	if (port == 0 || port >= XENSIM_NR_PORTS || xce->ports[port].rx < 0) {
		errno = ENOTCONN;	/* the Linux driver's answer */
		return NULL;
	}
	return &xce->ports[port];
}

PUBLIC xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger, unsigned int flags)
{
	xenevtchn_handle *xce = calloc(1, sizeof(*xce));
	bool cloexec = !(flags & XENEVTCHN_NO_CLOEXEC);
	int genfd = -1, err;
	uint32_t i;

	(void)logger;
	if (!xce)
		return NULL;
	xce->epfd = -1;
	xce->restrict_dom = NO_RESTRICT;
	xce->ports = malloc(XENSIM_NR_PORTS * sizeof(*xce->ports));
	if (!xce->ports)
		goto fail;
	for (i = 0; i < XENSIM_NR_PORTS; i++)
		xce->ports[i] = (struct lport){ .rx = -1, .tx = -1 };
	if (simconn_open(&xce->sc, cloexec, &genfd) < 0)
		goto fail;
	xce->evp = mmap(NULL, sizeof(*xce->evp), PROT_READ | PROT_WRITE, MAP_SHARED, genfd, 0);
	err = errno;
	close(genfd);
	if (xce->evp == MAP_FAILED) {
		xce->evp = NULL;
		errno = err;
		goto fail;
	}
	xce->epfd = epoll_create1(cloexec ? EPOLL_CLOEXEC : 0);
	if (xce->epfd < 0)
		goto fail;
	return xce;

fail:
	err = errno;
	xenevtchn_close(xce);
	errno = err;
	return NULL;
}

PUBLIC xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger, int fd,
					  unsigned int flags)
{
	/*
	 * Adopting a descriptor inherited across exec (xenstored's live
	 * update) needs the hypervisor to hand a handle's ports to a new
	 * process; the simulation does not offer that.
	 */
	(void)logger; (void)fd; (void)flags;
	errno = EOPNOTSUPP;
	return NULL;
}

PUBLIC int xenevtchn_close(xenevtchn_handle *xce)
{
	uint32_t i;

	if (!xce)
		return 0;
	if (xce->ports) {
		for (i = 0; i < XENSIM_NR_PORTS; i++) {
			if (xce->ports[i].rx >= 0)
				close(xce->ports[i].rx);
			if (xce->ports[i].tx >= 0)
				close(xce->ports[i].tx);
		}
		free(xce->ports);
	}
	if (xce->evp)
		munmap(xce->evp, sizeof(*xce->evp));
	while (xce->nremotes)
		munmap(xce->remotes[--xce->nremotes].evp, sizeof(struct xensim_evtchn_page));
	free(xce->remotes);
	if (xce->epfd >= 0)
		close(xce->epfd);
	simconn_close(&xce->sc);	/* the hypervisor closes our ports */
	free(xce);
	return 0;
}

PUBLIC int xenevtchn_fd(xenevtchn_handle *xce)
{
	return xce->epfd;
}

PUBLIC int xenevtchn_restrict(xenevtchn_handle *xce, domid_t domid)
{
	xce->restrict_dom = domid;
	return 0;
}

static int check_restrict(xenevtchn_handle *xce, uint32_t domid)
{
	if (xce->restrict_dom != NO_RESTRICT && domid != xce->restrict_dom) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* Common tail of the bind calls: remember the port and arm its eventfd. */
static xenevtchn_port_or_error_t bind_reply(xenevtchn_handle *xce,
					    const struct xensim_evtchn_rsp *r,
					    const int *fds, unsigned int nfds)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	struct lport *lp;

	if (nfds < 1 || nfds == 2 || r->port == 0 || r->port >= XENSIM_NR_PORTS) {
		while (nfds)
			close(fds[--nfds]);
		errno = EPROTO;
		return -1;
	}
	lp = &xce->ports[r->port];
	lp->rx = fds[0];
	lp->tx = -1;
	lp->rstate = NULL;
	lp->gen = r->gen;
	if (nfds == 3) {
		lp->tx = fds[1];
		lp->rstate = remote_state(xce, r->remote_dom, r->remote_port, fds[2]);
		if (!lp->rstate) {
			int err = errno;

			xenevtchn_unbind(xce, r->port);
			errno = err;
			return -1;
		}
	}
	ev.data.u32 = r->port;
	if (epoll_ctl(xce->epfd, EPOLL_CTL_ADD, lp->rx, &ev) < 0) {
		int err = errno;

		xenevtchn_unbind(xce, r->port);
		errno = err;
		return -1;
	}
	return r->port;
}

static xenevtchn_port_or_error_t do_bind(xenevtchn_handle *xce, uint32_t op,
					 uint32_t dom, uint32_t port, uint32_t virq)
{
	struct xensim_evtchn_req q = {
		.hdr.op = op, .remote_dom = dom, .port = port, .virq = virq,
	};
	struct xensim_evtchn_rsp r;
	unsigned int nfds;
	int fds[3];

	if (simconn_call(&xce->sc, &q, sizeof(q), &r, sizeof(r), NULL, fds, 3, &nfds) < 0)
		return -1;
	return bind_reply(xce, &r, fds, nfds);
}

PUBLIC xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *xce,
							     uint32_t domid)
{
	if (check_restrict(xce, domid) < 0)
		return -1;
	return do_bind(xce, XENSIM_OP_EVTCHN_UNBOUND, domid, 0, 0);
}

PUBLIC xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce,
							    uint32_t domid,
							    evtchn_port_t remote_port)
{
	if (check_restrict(xce, domid == DOMID_SELF ? xce->sc.domid : domid) < 0)
		return -1;
	return do_bind(xce, XENSIM_OP_EVTCHN_INTERDOMAIN, domid, remote_port, 0);
}

PUBLIC xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq)
{
	if (xce->restrict_dom != NO_RESTRICT) {
		errno = EPERM;
		return -1;
	}
	return do_bind(xce, XENSIM_OP_EVTCHN_VIRQ, 0, 0, virq);
}

PUBLIC int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	struct xensim_evtchn_req q = { .hdr.op = XENSIM_OP_EVTCHN_UNBIND, .port = port };
	struct xensim_rsp r;
	struct lport *lp = bound(xce, port);
	int rc;

	if (!lp)
		return -1;
	rc = simconn_call(&xce->sc, &q, sizeof(q), &r, sizeof(r), NULL, NULL, 0, NULL);
	epoll_ctl(xce->epfd, EPOLL_CTL_DEL, lp->rx, NULL);
	close(lp->rx);
	if (lp->tx >= 0)
		close(lp->tx);
	*lp = (struct lport){ .rx = -1, .tx = -1 };
	return rc;
}

/* The remote end changed since we cached it: ask where events go now. */
static int refresh_peer(xenevtchn_handle *xce, evtchn_port_t port, struct lport *lp)
{
	struct xensim_evtchn_req q = { .hdr.op = XENSIM_OP_EVTCHN_PEER, .port = port };
	struct xensim_evtchn_rsp r;
	unsigned int nfds;
	int fds[2];

	if (simconn_call(&xce->sc, &q, sizeof(q), &r, sizeof(r), NULL, fds, 2, &nfds) < 0)
		return -1;
	if (lp->tx >= 0)
		close(lp->tx);
	lp->tx = -1;
	lp->rstate = NULL;
	lp->gen = r.gen;
	if (nfds == 1)
		close(fds[0]);
	if (nfds == 2) {
		lp->rstate = remote_state(xce, r.remote_dom, r.remote_port, fds[1]);
		if (!lp->rstate) {
			close(fds[0]);
			return -1;
		}
		lp->tx = fds[0];
	}
	return 0;
}

PUBLIC int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	static const uint64_t one = 1;
	struct lport *lp = bound(xce, port);
	uint32_t old;

	if (!lp)
		return -1;
	/* Pairs with the hypervisor's release increment of the generation. */
	if (__atomic_load_n(&xce->evp->gen[port], __ATOMIC_ACQUIRE) != lp->gen &&
	    refresh_peer(xce, port, lp) < 0)
		return -1;
	if (lp->tx < 0)
		return 0;	/* unbound remote end: dropped, as Xen does */
	/* Set pending /then/ decide whether to wake: the receiver's mask-and-
	 * clear is one atomic step, so exactly one side raises the event. */
	old = __atomic_fetch_or(lp->rstate, XENSIM_EVTCHN_PENDING, __ATOMIC_SEQ_CST);
	if (old & (XENSIM_EVTCHN_PENDING | XENSIM_EVTCHN_MASKED))
		return 0;	/* coalesced, or raised by the receiver's unmask */
	if (write(lp->tx, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -1;
	return 0;
}

PUBLIC xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	struct epoll_event ev;
	uint32_t *st, old;
	int n;

	for (;;) {
		n = epoll_wait(xce->epfd, &ev, 1, -1);
		if (n < 0)
			return -1;
		if (n == 0 || ev.data.u32 >= XENSIM_NR_PORTS || xce->ports[ev.data.u32].rx < 0)
			continue;	/* unbound meanwhile */
		/* Deliver: mask and consume the pending bit in one step. */
		st = &xce->evp->state[ev.data.u32];
		old = __atomic_load_n(st, __ATOMIC_SEQ_CST);
		do {
			if (old & XENSIM_EVTCHN_MASKED)
				break;
		} while (!__atomic_compare_exchange_n(st, &old,
				(old | XENSIM_EVTCHN_MASKED) & ~XENSIM_EVTCHN_PENDING,
				false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
		if (old & XENSIM_EVTCHN_MASKED)
			continue;	/* a late wake-up for a masked port */
		return ev.data.u32;
	}
}

PUBLIC int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	static const uint64_t one = 1;
	struct lport *lp = bound(xce, port);
	uint32_t old;

	if (!lp)
		return -1;
	old = __atomic_fetch_and(&xce->evp->state[port], ~XENSIM_EVTCHN_MASKED, __ATOMIC_SEQ_CST);
	/* An event came while masked: its sender left the wake-up to us. */
	if ((old & XENSIM_EVTCHN_PENDING) &&
	    write(lp->rx, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -1;
	return 0;
}
