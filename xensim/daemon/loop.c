// SPDX-License-Identifier: GPL-2.0-only
/*
 * loop.c - xensimd's one thread: the epoll loop, the connections of the
 * simulated libraries, and the one place where a handler's negative errno
 * becomes the reply (conn_request()).  The handlers are rows of ops[]
 * (main.c), each in the file of its feature.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "xensimd.h"

static int epfd = -1;
static bool stopping;
static struct watcher sigw = { .kind = W_SIGNAL, .fd = -1 };

/* The loop, and SIGTERM, SIGINT and SIGHUP as events of it. */
int loop_init(void)
{
	sigset_t mask;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return -errno;
	sigw.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigw.fd < 0)
		return -errno;
	loop_add(&sigw, EPOLLIN);
	return 0;
}

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

void *reply_extend(struct reply *r, size_t n)
{
	void *p;

	if (r->len + n > sizeof(r->buf))
		return NULL;
	p = r->buf + r->len;
	memset(p, 0, n);
	r->len += n;
	return p;
}

void reply_fd(struct reply *r, int fd)
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
	stopping = true;
	return 0;
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

/* Until a signal or XENSIM_OP_HOST_STOP. */
void loop_run(void)
{
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
}
