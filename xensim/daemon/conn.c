// SPDX-License-Identifier: GPL-2.0-only
/*
 * conn.c - the connections of the simulated libraries: one per library
 * handle, accepted on a domain's hypervisor.sock.  A request is checked
 * against its row of the op table handed in at start (conn_init()), run,
 * and the handler's negative errno becomes the reply here, in one place.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "xensimd.h"

static const struct op_row *op_table;

static void conn_request(struct conn *c);

void conn_init(const struct op_row *ops)
{
	op_table = ops;
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
int op_hello(struct conn *c, const void *req, size_t len, struct reply *r)
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
int op_host_stop(struct conn *c, const void *req, size_t len, struct reply *r)
{
	loop_stop();
	return 0;
}
static bool conn_event(struct watcher *w, uint32_t events)
{
	conn_request(container_of(w, struct conn, w));
	/* A closed conn may have freed later events' objects. */
	return true;
}

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
	c->w.fn = conn_event;
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
/* One request: checked against its row of ops[], run, answered. */
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
	} else if (req.hdr.op == 0 || req.hdr.op >= XENSIM_OP_MAX || !op_table[req.hdr.op].fn) {
		rc = -ENOSYS;
	} else if ((size_t)n < op_table[req.hdr.op].min_len) {
		rc = -EINVAL;
	} else if ((op_table[req.hdr.op].flags & OP_PRIV) && !c->dom->privileged) {
		rc = -EPERM;
	} else if (c->dom->flags & XENSIM_DOM_DYING) {
		rc = -ESRCH;
	} else {
		rc = op_table[req.hdr.op].fn(c, req.buf, n, &r);
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

/* A domain's hypervisor.sock is readable: a library opens a handle. */
bool conn_listen_event(struct watcher *w, uint32_t events)
{
	conn_accept(container_of(w, struct domain, listen));
	return false;
}
