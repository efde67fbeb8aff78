// SPDX-License-Identifier: GPL-2.0-only
/*
 * xensimd - the simulated Xen hypervisor.
 *
 * It owns the host: domains and their memory, grant tables, event channels,
 * and each guest's xenbus device.  Libraries with Xen's sonames (see
 * xensim/libs) reach it through one socket per domain; this file runs the
 * event loop, accepts those connections and turns each request into a call
 * of one handler in the table ops[], whose negative errno becomes the reply
 * in one place (conn_request()).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "xensimd.h"

struct list domains = LIST_INIT(domains);
const char *rundir = XENSIM_DEFAULT_RUNDIR;

static int epfd = -1;
static bool verbose;
static bool stopping;

void loop_add(struct watcher *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0)
		dlog(LOG_ERR, "failed to watch fd %d: %s", w->fd, strerror(errno));
}

void loop_mod(struct watcher *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (epoll_ctl(epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		dlog(LOG_ERR, "failed to rewatch fd %d: %s", w->fd, strerror(errno));
}

void loop_del(struct watcher *w)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

/* ---- replies ---- */

struct reply {
	union {
		struct xensim_rsp hdr;
		uint8_t buf[XENSIM_MSG_MAX];
	};
	size_t len;
	int fds[3];
	unsigned int nfds;
};

static void *reply_extend(struct reply *r, size_t n)
{
	void *p;

	if (r->len + n > sizeof(r->buf))
		return NULL;
	p = r->buf + r->len;
	memset(p, 0, n);
	r->len += n;
	return p;
}

static void reply_fd(struct reply *r, int fd)
{
	if (r->nfds < 3)
		r->fds[r->nfds++] = fd;
}

static int send_reply(int sock, struct reply *r)
{
	struct iovec iov = { .iov_base = r->buf, .iov_len = r->len };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 3)];
	} cbuf;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	r->hdr.len = r->len;
	if (r->nfds) {
		struct cmsghdr *cm;

		msg.msg_control = cbuf.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * r->nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * r->nfds);
		memcpy(CMSG_DATA(cm), r->fds, sizeof(int) * r->nfds);
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

/* ---- request handlers: return 0 or -errno, fill r ---- */

typedef int (*op_fn)(struct conn *c, const void *req, size_t len, struct reply *r);

static int op_hello(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_hello_req *q = req;
	struct xensim_hello_rsp *p;

	if (q->version != XENSIM_PROTO_VERSION)
		return -EPROTO;
	p = reply_extend(r, sizeof(*p) - sizeof(p->hdr));
	p = (struct xensim_hello_rsp *)r->buf;
	p->version = XENSIM_PROTO_VERSION;
	p->domid = c->dom->domid;
	p->privileged = c->dom->privileged;
	reply_fd(r, c->dom->evpfd);
	return 0;
}

static struct xensim_evtchn_rsp *evtchn_reply(struct reply *r)
{
	if (r->len == sizeof(struct xensim_rsp))
		reply_extend(r, sizeof(struct xensim_evtchn_rsp) - sizeof(struct xensim_rsp));
	return (struct xensim_evtchn_rsp *)r->buf;
}

static int op_evtchn_unbound(struct conn *c, const void *req, size_t len, struct reply *r)
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

static int op_evtchn_interdomain(struct conn *c, const void *req, size_t len, struct reply *r)
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

static int op_evtchn_virq(struct conn *c, const void *req, size_t len, struct reply *r)
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

static int op_evtchn_unbind(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_evtchn_req *q = req;

	if (!owned_port(c, q->port))
		return -ENOTCONN;	/* as the Linux evtchn driver */
	evtchn_close(c->dom, q->port);
	return 0;
}

static int op_evtchn_peer(struct conn *c, const void *req, size_t len, struct reply *r)
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

static int op_gnt_share(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_share_req *q = req;
	struct xensim_share_rsp *p;
	struct share *s;
	uint32_t *refs, *gfns;
	int rc;

	if (q->count == 0 || q->count > XENSIM_MAX_BATCH)
		return -EINVAL;
	reply_extend(r, sizeof(*p) - sizeof(p->hdr));
	refs = reply_extend(r, q->count * sizeof(uint32_t));
	gfns = reply_extend(r, q->count * sizeof(uint32_t));
	if (!refs || !gfns)
		return -E2BIG;
	rc = grant_share(c, q->domid, q->count, q->writable, &q->notify, &s, gfns);
	if (rc)
		return rc;
	p = (struct xensim_share_rsp *)r->buf;
	p->share_id = s->id;
	memcpy(refs, s->refs, q->count * sizeof(uint32_t));
	reply_fd(r, c->dom->memfd);
	return 0;
}

static int op_gnt_unshare(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_unshare_req *q = req;

	return grant_unshare(c, q->share_id);
}

static int op_gnt_map(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_map_req *q = req;
	struct xensim_map_rsp *p;
	struct mapping *m;
	const uint32_t *domids, *refs;
	uint32_t *gfns;
	int rc, memfd;

	if (q->count == 0 || q->count > XENSIM_MAX_BATCH)
		return -EINVAL;
	if (len != sizeof(*q) + 2 * q->count * sizeof(uint32_t))
		return -EINVAL;
	domids = (const uint32_t *)(q + 1);
	refs = domids + q->count;
	reply_extend(r, sizeof(*p) - sizeof(p->hdr));
	gfns = reply_extend(r, q->count * sizeof(uint32_t));
	if (!gfns)
		return -E2BIG;
	rc = grant_map(c, q->count, domids, refs, q->writable, &q->notify, &m, gfns, &memfd);
	if (rc)
		return rc;
	p = (struct xensim_map_rsp *)r->buf;
	p->map_id = m->id;
	reply_fd(r, memfd);
	return 0;
}

static int op_gnt_unmap(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_unmap_req *q = req;

	return grant_unmap(c, q->map_id);
}

static int op_fmem_map(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_fmem_req *q = req;
	const uint64_t *gfns = (const uint64_t *)(q + 1);
	struct domain *d;
	int32_t *errs;
	uint32_t i;

	if (q->count == 0 || q->count > XENSIM_MAX_BATCH ||
	    len != sizeof(*q) + q->count * sizeof(uint64_t))
		return -EINVAL;
	d = domain_find(q->domid);
	if (!d || (d->flags & XENSIM_DOM_DYING))
		return -ESRCH;
	errs = reply_extend(r, q->count * sizeof(int32_t));
	if (!errs)
		return -E2BIG;
	for (i = 0; i < q->count; i++)
		errs[i] = gfns[i] < d->max_pages ? 0 : -EINVAL;
	reply_fd(r, d->memfd);
	return 0;
}

static int op_dominfo(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_dominfo_req *q = req;
	struct xensim_dominfo_rsp *p;
	struct list *pos, *tmp;
	uint32_t n = 0;

	reply_extend(r, sizeof(*p) - sizeof(p->hdr));
	list_for_each_safe(pos, tmp, &domains) {
		struct domain *d = container_of(pos, struct domain, link);
		struct xensim_dominfo *di;

		if (d->domid < q->first_domid || n >= q->max)
			continue;
		di = reply_extend(r, sizeof(*di));
		if (!di)
			break;
		di->domid = d->domid;
		di->flags = d->flags;
		di->shutdown_reason = d->shutdown_reason;
		di->nr_pages = d->nr_frames;
		di->max_pages = d->max_pages;
		memcpy(di->handle, d->handle, sizeof(di->handle));
		memcpy(di->name, d->name, sizeof(di->name));
		n++;
	}
	p = (struct xensim_dominfo_rsp *)r->buf;
	p->count = n;
	return 0;
}

static int op_domain_create(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_create_req *q = req;
	struct xensim_create_rsp *p;
	struct domain *d;
	char name[XENSIM_NAME_MAX];
	int err;

	memcpy(name, q->name, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	d = domain_create(q->domid, name, q->memory_mb, q->flags, &err);
	if (!d)
		return err;
	reply_extend(r, sizeof(*p) - sizeof(p->hdr));
	p = (struct xensim_create_rsp *)r->buf;
	p->domid = d->domid;
	p->store_port = d->store_port;
	p->store_gfn = d->store_gfn;
	return 0;
}

static struct domain *domctl_target(const void *req)
{
	const struct xensim_domctl_req *q = req;

	return domain_find(q->domid);
}

static int op_domain_destroy(struct conn *c, const void *req, size_t len, struct reply *r)
{
	struct domain *d = domctl_target(req);

	if (!d)
		return -ESRCH;
	if (d->domid == 0)
		return -EINVAL;
	debugport_domain_gone(d->domid);
	return domain_destroy(d);
}

static int op_domain_shutdown(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_domctl_req *q = req;
	struct domain *d = domctl_target(req);

	if (!d)
		return -ESRCH;
	/* A guest may shut itself down (SCHEDOP_shutdown); dom0 any guest. */
	if (!c->dom->privileged && d != c->dom)
		return -EPERM;
	return domain_shutdown(d, q->arg);
}

static int op_domain_pause(struct conn *c, const void *req, size_t len, struct reply *r)
{
	struct domain *d = domctl_target(req);
	const struct xensim_domctl_req *q = req;

	if (!d || (d->flags & XENSIM_DOM_DYING))
		return -ESRCH;
	if (q->hdr.op == XENSIM_OP_DOMAIN_PAUSE)
		d->flags |= XENSIM_DOM_PAUSED;
	else
		d->flags &= ~XENSIM_DOM_PAUSED;
	return 0;
}

static int op_register_pid(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_domctl_req *q = req;
	struct domain *d = c->dom;

	unsigned int i, n = 0;

	/* Only a process may enrol itself: no one can aim a kill elsewhere. */
	if ((pid_t)q->arg != c->pid)
		return -EPERM;
	/* Forget programs that have ended. */
	for (i = 0; i < d->nr_pids; i++) {
		if (proc_start_time(d->pids[i]) == d->pid_start[i]) {
			d->pids[n] = d->pids[i];
			d->pid_start[n++] = d->pid_start[i];
		}
	}
	d->nr_pids = n;
	if (d->nr_pids >= sizeof(d->pids) / sizeof(d->pids[0]))
		return -ENOSPC;
	d->pid_start[d->nr_pids] = proc_start_time(c->pid);
	d->pids[d->nr_pids++] = c->pid;
	return 0;
}

static int op_programs(struct conn *c, const void *req, size_t len, struct reply *r)
{
	struct xensim_programs_rsp *p;
	struct list *pos, *tmp;
	uint32_t n = 0;

	reply_extend(r, sizeof(*p) - sizeof(p->hdr));
	list_for_each_safe(pos, tmp, &domains) {
		struct domain *d = container_of(pos, struct domain, link);

		for (unsigned int i = 0; i < d->nr_pids; i++) {
			struct xensim_program *pg;

			if (proc_start_time(d->pids[i]) != d->pid_start[i])
				continue;
			pg = reply_extend(r, sizeof(*pg));
			if (!pg)
				return -E2BIG;
			pg->domid = d->domid;
			pg->pid = d->pids[i];
			pg->start_time = d->pid_start[i];
			n++;
		}
	}
	p = (struct xensim_programs_rsp *)r->buf;
	p->count = n;
	return 0;
}

static int op_stats(struct conn *c, const void *req, size_t len, struct reply *r)
{
	struct domain *d = domctl_target(req);
	struct xensim_stats_rsp *p;
	struct list *pos, *tmp;
	uint32_t i, n = 0;

	if (!d)
		return -ESRCH;
	reply_extend(r, sizeof(*p) - sizeof(p->hdr));
	p = (struct xensim_stats_rsp *)r->buf;
	p->domid = d->domid;
	for (i = 1; i < XENSIM_NR_PORTS; i++)
		if (d->ports[i].state != PORT_FREE)
			p->ports++;
	p->grants = d->active_grants;
	p->grant_maps = d->grant_maps;
	p->maps_held = d->maps_held;
	p->frames = d->nr_frames;
	list_for_each_safe(pos, tmp, &d->conns)
		p->connections++;
	list_for_each_safe(pos, tmp, &domains)
		n++;
	p->domains = n;
	return 0;
}

static int op_host_stop(struct conn *c, const void *req, size_t len, struct reply *r)
{
	stopping = true;
	return 0;
}

static int op_dm_op(struct conn *c, const void *req, size_t len, struct reply *r)
{
	struct xensim_dm_op_rsp *rsp = (void *)r->buf;

	if (!reply_extend(r, sizeof(*rsp) - sizeof(r->hdr)))
		return -E2BIG;
	return debugport_dm_op(c, req, &rsp->backend);
}

static int op_resource_map(struct conn *c, const void *req, size_t len, struct reply *r)
{
	struct xensim_resource_rsp *rsp = (void *)r->buf;
	const struct xensim_resource_req *q = req;
	uint64_t *gfns;
	int rc, memfd = -1;

	if (len != sizeof(*q) || q->nr_frames > XENSIM_MAX_BATCH)
		return -EINVAL;
	if (!reply_extend(r, sizeof(*rsp) - sizeof(r->hdr)) ||
	    !(gfns = reply_extend(r, q->nr_frames * sizeof(uint64_t))))
		return -E2BIG;
	rc = debugport_resource(c, q, gfns, &rsp->nr_frames, &memfd);
	if (!rc)
		reply_fd(r, memfd);
	return rc;
}

static int op_vcpu_debug(struct conn *c, const void *req, size_t len, struct reply *r)
{
	struct xensim_vcpu_debug_rsp *rsp = (void *)r->buf;
	uint8_t *page;

	if (!reply_extend(r, sizeof(*rsp) - sizeof(r->hdr)) ||
	    !(page = reply_extend(r, XENSIM_PAGE_SIZE)))
		return -E2BIG;
	return debugport_vcpu(c, req, len, rsp, page);
}

#define OP_PRIV 0x1	/* dom0 only, as a domctl */

static const struct {
	op_fn fn;
	size_t min_len;
	unsigned int flags;
} ops[XENSIM_OP_MAX] = {
	[XENSIM_OP_HELLO] = { op_hello, sizeof(struct xensim_hello_req), 0 },
	[XENSIM_OP_EVTCHN_UNBOUND] = { op_evtchn_unbound, sizeof(struct xensim_evtchn_req), 0 },
	[XENSIM_OP_EVTCHN_INTERDOMAIN] = { op_evtchn_interdomain, sizeof(struct xensim_evtchn_req), 0 },
	[XENSIM_OP_EVTCHN_VIRQ] = { op_evtchn_virq, sizeof(struct xensim_evtchn_req), 0 },
	[XENSIM_OP_EVTCHN_UNBIND] = { op_evtchn_unbind, sizeof(struct xensim_evtchn_req), 0 },
	[XENSIM_OP_EVTCHN_PEER] = { op_evtchn_peer, sizeof(struct xensim_evtchn_req), 0 },
	[XENSIM_OP_GNT_SHARE] = { op_gnt_share, sizeof(struct xensim_share_req), 0 },
	[XENSIM_OP_GNT_UNSHARE] = { op_gnt_unshare, sizeof(struct xensim_unshare_req), 0 },
	[XENSIM_OP_GNT_MAP] = { op_gnt_map, sizeof(struct xensim_map_req), 0 },
	[XENSIM_OP_GNT_UNMAP] = { op_gnt_unmap, sizeof(struct xensim_unmap_req), 0 },
	[XENSIM_OP_FMEM_MAP] = { op_fmem_map, sizeof(struct xensim_fmem_req), OP_PRIV },
	[XENSIM_OP_DOMINFO] = { op_dominfo, sizeof(struct xensim_dominfo_req), OP_PRIV },
	[XENSIM_OP_DOMAIN_CREATE] = { op_domain_create, sizeof(struct xensim_create_req), OP_PRIV },
	[XENSIM_OP_DOMAIN_DESTROY] = { op_domain_destroy, sizeof(struct xensim_domctl_req), OP_PRIV },
	[XENSIM_OP_DOMAIN_SHUTDOWN] = { op_domain_shutdown, sizeof(struct xensim_domctl_req), 0 },
	[XENSIM_OP_DOMAIN_PAUSE] = { op_domain_pause, sizeof(struct xensim_domctl_req), OP_PRIV },
	[XENSIM_OP_DOMAIN_UNPAUSE] = { op_domain_pause, sizeof(struct xensim_domctl_req), OP_PRIV },
	[XENSIM_OP_REGISTER_PID] = { op_register_pid, sizeof(struct xensim_domctl_req), 0 },
	[XENSIM_OP_STATS] = { op_stats, sizeof(struct xensim_domctl_req), OP_PRIV },
	[XENSIM_OP_HOST_STOP] = { op_host_stop, sizeof(struct xensim_req), OP_PRIV },
	[XENSIM_OP_DM_OP] = { op_dm_op, sizeof(struct xensim_dm_op_req), OP_PRIV },
	[XENSIM_OP_RESOURCE_MAP] = { op_resource_map, sizeof(struct xensim_resource_req), OP_PRIV },
	[XENSIM_OP_VCPU_DEBUG] = { op_vcpu_debug, sizeof(struct xensim_vcpu_debug_req), 0 },
	[XENSIM_OP_PROGRAMS] = { op_programs, sizeof(struct xensim_req), OP_PRIV },
};

/* ---- connections ---- */

static void conn_accept(struct domain *d)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct conn *c;
	int fd;

	fd = accept4(d->listen.fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			dlog(LOG_ERR, "failed to accept on %s: %s", d->dir, strerror(errno));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->w.kind = W_CONN;
	c->w.fd = fd;
	c->dom = d;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
		c->pid = cred.pid;
	list_init(&c->shares);
	list_init(&c->maps);
	list_add_tail(&c->link, &d->conns);
	loop_add(&c->w, EPOLLIN);
}

/* Close a handle: release what it held, as the Linux drivers do on close. */
void conn_close(struct conn *c)
{
	debugport_conn_closed(c);
	grant_release_conn(c);
	evtchn_release_conn(c);
	loop_del(&c->w);
	close(c->w.fd);
	list_del(&c->link);
	free(c);
}

static void conn_request(struct conn *c)
{
	static union {
		struct xensim_req hdr;
		uint8_t buf[XENSIM_MSG_MAX];
	} req;
	static struct reply r;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cbuf;
	struct iovec iov = { .iov_base = req.buf, .iov_len = sizeof(req.buf) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;
	int rc;

	n = recvmsg(c->w.fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	/* Requests carry no descriptors; drop any a client sent. */
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int *fds = (int *)CMSG_DATA(cm);
			size_t i, nf = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (i = 0; i < nf; i++)
				close(fds[i]);
		}
	}

	memset(&r.hdr, 0, sizeof(r.hdr));
	r.len = sizeof(r.hdr);
	r.nfds = 0;

	if ((msg.msg_flags & MSG_TRUNC) || (size_t)n < sizeof(req.hdr) ||
	    req.hdr.len != (size_t)n) {
		rc = -EMSGSIZE;
	} else if (req.hdr.op == 0 || req.hdr.op >= XENSIM_OP_MAX || !ops[req.hdr.op].fn) {
		rc = -ENOSYS;
	} else if ((size_t)n < ops[req.hdr.op].min_len) {
		rc = -EINVAL;
	} else if ((ops[req.hdr.op].flags & OP_PRIV) && !c->dom->privileged) {
		rc = -EPERM;
	} else if (c->dom->flags & XENSIM_DOM_DYING) {
		rc = -ESRCH;
	} else {
		rc = ops[req.hdr.op].fn(c, req.buf, n, &r);
	}
	if (rc == XENSIM_DEFERRED)
		return;
	if (rc) {
		/* Failed ops reply with the header only. */
		r.len = sizeof(r.hdr);
		r.nfds = 0;
		dlog(LOG_DEBUG, "dom%u op %u: %s", c->dom->domid, req.hdr.op, strerror(-rc));
	}
	r.hdr.ret = rc;
	if (send_reply(c->w.fd, &r) < 0)
		conn_close(c);
}

/* ---- setup and the loop ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xensimd [OPTIONS]\n"
		"The simulated Xen hypervisor: domains, memory, grant tables, event\n"
		"channels and each guest's xenbus device, served to programs linked\n"
		"with the simulated libxenctrl/libxengnttab/libxenevtchn.\n\n"
		"  -r, --rundir DIR     socket directory (default %s, or $XENSIM_RUNDIR)\n"
		"  -F, --foreground     stay in the foreground, log to stderr\n"
		"  -p, --pid-file FILE  write the daemon's pid to FILE\n"
		"  -m, --dom0-memory MB memory of domain 0 (default 256)\n"
		"  -v, --verbose        log every failed request\n"
		"  -h, --help           this text\n"
		"  -V, --version        print the version\n", XENSIM_DEFAULT_RUNDIR);
}

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) ? -errno : 0;
}

/*
 * One xensimd per run directory.  The lock is taken before the daemon
 * forks (the child inherits it) and before anything in the directory is
 * touched, so a second daemon leaves the first one's sockets and pid file
 * alone; the lock file names the holder.
 */
static int lock_rundir(void)
{
	char path[PATH_MAX + 16], buf[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/xensimd.lock", rundir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "xensimd: open lock file \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (errno != EWOULDBLOCK) {
		fprintf(stderr, "xensimd: lock \"%s\": %s\n", path, strerror(errno));
	} else {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		fprintf(stderr, "xensimd: lock run directory \"%s\": another xensimd%s%s%s "
			"is running there\n", rundir, buf[0] ? " (pid " : "", buf,
			buf[0] ? ")" : "");
	}
	close(fd);
	return -1;
}

static void lock_name_holder(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, n, 0) != n)
		dlog(LOG_WARNING, "failed to write the pid to the lock file: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rundir", required_argument, NULL, 'r' },
		{ "foreground", no_argument, NULL, 'F' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "dom0-memory", required_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pidfile = NULL;
	unsigned long dom0_mb = 256;
	bool foreground = false;
	struct watcher sigw = { .kind = W_SIGNAL };
	struct domain *dom0;
	sigset_t mask;
	int opt, err, lockfd, ready[2] = { -1, -1 };
	char c = 0;

	if (getenv("XENSIM_RUNDIR"))
		rundir = getenv("XENSIM_RUNDIR");
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":r:Fp:m:vhV", opts, NULL)) != -1) {
		char *end;

		switch (opt) {
		case 'r': rundir = optarg; break;
		case 'F': foreground = true; break;
		case 'p': pidfile = optarg; break;
		case 'm':
			errno = 0;
			dom0_mb = isdigit((unsigned char)optarg[0]) ? strtoul(optarg, &end, 10) : 0;
			if (errno || !dom0_mb || *end || dom0_mb > 16384) {
				fprintf(stderr, "xensimd: --dom0-memory \"%s\": not a number "
					"from 1 to 16384\n", optarg);
				return 2;
			}
			break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("xensimd (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION); return 0;
		case ':':
			fprintf(stderr, "xensimd: option \"%s\" needs a value\n", argv[optind - 1]);
			return 2;
		default:
			if (optopt)
				fprintf(stderr, "xensimd: unknown option \"-%c\" (see xensimd --help)\n",
					optopt);
			else
				fprintf(stderr, "xensimd: unknown option \"%s\" (see xensimd --help)\n",
					argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xensimd: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (!*rundir || (pidfile && !*pidfile)) {
		fprintf(stderr, "xensimd: %s: empty path\n", *rundir ? "--pid-file" : "--rundir");
		return 2;
	}
	dlog_open("xensimd", DLOG_STDERR, verbose ? LOG_DEBUG : LOG_INFO);

	if (mkdir(rundir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "xensimd: failed to create run directory \"%s\": %s\n",
			rundir, strerror(errno));
		return 1;
	}
	lockfd = lock_rundir();
	if (lockfd < 0)
		return 1;

	if (!foreground) {
		pid_t pid;

		if (pipe2(ready, O_CLOEXEC) < 0) {
			perror("xensimd: failed to create a pipe");
			return 1;
		}
		pid = fork();
		if (pid < 0) {
			perror("xensimd: failed to fork");
			return 1;
		}
		if (pid > 0) {
			/* Parent: return once the host is up, with its status. */
			close(ready[1]);
			if (read(ready[0], &c, 1) != 1)
				c = 1;
			return c;
		}
		close(ready[0]);
		setsid();
		dlog_open("xensimd", DLOG_SYSLOG, verbose ? LOG_DEBUG : LOG_INFO);
	}

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	epfd = epoll_create1(EPOLL_CLOEXEC);
	sigw.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (epfd < 0 || sigw.fd < 0) {
		dlog(LOG_ERR, "failed to set up the event loop: %s", strerror(errno));
		goto fail;
	}
	loop_add(&sigw, EPOLLIN);

	dom0 = domain_create(0, "Domain-0", dom0_mb, 0, &err);
	if (!dom0) {
		dlog(LOG_ERR, "failed to create domain 0 in \"%s\": %s", rundir, strerror(-err));
		goto fail;
	}
	lock_name_holder(lockfd);
	if (pidfile && (err = write_pidfile(pidfile)) < 0) {
		dlog(LOG_ERR, "failed to write pid file \"%s\": %s", pidfile, strerror(-err));
		goto fail;
	}
	if ((err = debugport_init()) < 0)
		goto fail;
	dlog(LOG_INFO, "host up in \"%s\"", rundir);
	if (ready[1] >= 0) {
		int devnull = open("/dev/null", O_RDWR);

		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2);
			close(devnull);
		}
		if (write(ready[1], &c, 1) != 1)
			goto fail;
		close(ready[1]);
		ready[1] = -1;
	}

	while (!stopping) {
		struct epoll_event evs[64];
		int i, n = epoll_wait(epfd, evs, 64, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			dlog(LOG_ERR, "epoll_wait failed: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n && !stopping; i++) {
			struct watcher *w = evs[i].data.ptr;

			switch (w->kind) {
			case W_LISTEN:
				conn_accept(container_of(w, struct domain, listen));
				break;
			case W_CONN:
				conn_request(container_of(w, struct conn, w));
				/* A closed conn may have freed later events' objects. */
				i = n;
				break;
			case W_KPORT:
				evtchn_kport_event(container_of(w, struct port, kw));
				i = n;
				break;
			case W_XB_LISTEN:
			case W_XB_CLIENT:
				xenbus_event(w, evs[i].events);
				i = n;
				break;
			case W_SIGNAL:
				stopping = true;
				break;
			case W_DBGPORT:
				debugport_event(w);
				i = n;
				break;
			}
		}
	}
	dlog(LOG_INFO, "host down");
	domains_free_all();
	if (pidfile)
		unlink(pidfile);
	return 0;

fail:
	if (ready[1] >= 0) {
		c = 1;
		if (write(ready[1], &c, 1) < 0)
			return 1;
	}
	return 1;
}
