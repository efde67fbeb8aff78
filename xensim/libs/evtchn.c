// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libxenevtchn.so.1 for the simulated Xen.
 *
 * The handle's file descriptor is an epoll set of the eventfds of its bound
 * ports, each armed with EPOLLONESHOT: a port that fired is masked until
 * xenevtchn_unmask() rearms it, and events arriving meanwhile coalesce in
 * the eventfd and fire again on unmask -- the Linux evtchn driver's
 * behaviour.  xenevtchn_notify() is one write() to the remote port's eventfd
 * once the channel is bound; the domain's generation page (shared read-only
 * with the hypervisor) tells when the remote end changed and the target
 * must be fetched again.
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
};

struct xenevtchn_handle {
	struct simconn sc;
	int epfd;
	const uint32_t *gen;
	struct lport *ports;
	uint32_t restrict_dom;
};

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
	xce->gen = mmap(NULL, XENSIM_NR_PORTS * sizeof(uint32_t), PROT_READ, MAP_SHARED, genfd, 0);
	err = errno;
	close(genfd);
	if (xce->gen == MAP_FAILED) {
		xce->gen = NULL;
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
	if (xce->gen)
		munmap((void *)xce->gen, XENSIM_NR_PORTS * sizeof(uint32_t));
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
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT };
	struct lport *lp;

	if (nfds < 1 || r->port == 0 || r->port >= XENSIM_NR_PORTS) {
		while (nfds)
			close(fds[--nfds]);
		errno = EPROTO;
		return -1;
	}
	lp = &xce->ports[r->port];
	lp->rx = fds[0];
	lp->tx = nfds > 1 ? fds[1] : -1;
	lp->gen = r->gen;
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
	int fds[2];

	if (simconn_call(&xce->sc, &q, sizeof(q), &r, sizeof(r), NULL, fds, 2, &nfds) < 0)
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
	int fd;

	if (simconn_call(&xce->sc, &q, sizeof(q), &r, sizeof(r), NULL, &fd, 1, &nfds) < 0)
		return -1;
	if (lp->tx >= 0)
		close(lp->tx);
	lp->tx = nfds ? fd : -1;
	lp->gen = r.gen;
	return 0;
}

PUBLIC int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	static const uint64_t one = 1;
	struct lport *lp = bound(xce, port);

	if (!lp)
		return -1;
	/* Pairs with the hypervisor's release increment of the generation. */
	if (__atomic_load_n(&xce->gen[port], __ATOMIC_ACQUIRE) != lp->gen &&
	    refresh_peer(xce, port, lp) < 0)
		return -1;
	if (lp->tx < 0)
		return 0;	/* unbound remote end: dropped, as Xen does */
	if (write(lp->tx, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -1;
	return 0;
}

PUBLIC xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	struct epoll_event ev;
	uint64_t v;
	int n;

	n = epoll_wait(xce->epfd, &ev, 1, -1);
	if (n < 0)
		return -1;
	if (n == 0 || ev.data.u32 >= XENSIM_NR_PORTS || xce->ports[ev.data.u32].rx < 0) {
		errno = EAGAIN;
		return -1;
	}
	/* Consume what is pending now; later events wait for the unmask. */
	if (read(xce->ports[ev.data.u32].rx, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -1;
	return ev.data.u32;
}

PUBLIC int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u32 = port };
	struct lport *lp = bound(xce, port);

	if (!lp)
		return -1;
	return epoll_ctl(xce->epfd, EPOLL_CTL_MOD, lp->rx, &ev);
}
