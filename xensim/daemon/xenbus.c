// SPDX-License-Identifier: GPL-2.0-only
/*
 * xenbus.c - each guest's /dev/xen/xenbus, played by the simulated kernel.
 *
 * A guest reaches xenstored only through its xenstore ring page and event
 * channel, as on Xen, so xenstored applies the guest's permissions, quotas
 * and transactions.  Programs in the guest connect to the unix socket
 * $XENSIM_RUNDIR/dom<N>/xenbus (libxenstore: XENSTORED_PATH), speak the
 * xenstore wire protocol, and this file multiplexes them over the one ring
 * the way Linux's xenbus_dev_frontend does:
 *  - every request gets a ring-wide req_id; the reply is routed back by it
 *    and given the client's own req_id again;
 *  - a watch is registered under a ring-wide token ("X<id>"); events are
 *    routed back by it with the client's token;
 *  - a client may only use transactions it started; when it goes away its
 *    watches are removed and its transactions aborted.
 *
 * Ring contract (xen/io/xs_wire.h): we produce into req[] and consume rsp[];
 * xenstored the reverse.  Indexes are free-running; prod - cons never
 * exceeds XENSTORE_RING_SIZE, and a ring that claims otherwise is treated as
 * broken (nothing more is read from or written to it).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

#include "xensimd.h"

#define CLIENT_MAX_BACKLOG (1024 * 1024)
#define MSG_MAX (sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX)

struct xb_client {
	struct watcher w;
	struct list link;
	struct xenbus *xb;
	uint8_t in[MSG_MAX];
	size_t inlen;
	uint8_t *out;
	size_t outlen, outcap;
	uint32_t *tx;		/* transactions this client started */
	unsigned int ntx, captx;
	bool dead;		/* to be closed by the event loop */
};

struct xb_watch {
	struct list link;
	uint32_t id;
	struct xb_client *c;	/* NULL once the client is gone */
	char *path;
	char *token;
	bool active;		/* xenstored acknowledged it */
};

struct xb_pending {
	struct list link;
	uint32_t req_id;	/* ring-wide */
	uint32_t orig_req_id;
	uint32_t type;
	struct xb_client *c;	/* NULL: internal or orphaned */
	struct xb_watch *watch;	/* XS_WATCH / XS_UNWATCH */
};

struct xenbus {
	struct domain *dom;
	struct watcher listen;
	struct xenstore_domain_interface *intf;
	uint8_t *reqq;		/* bytes waiting for ring space */
	size_t reqq_len, reqq_cap;
	struct xsd_sockmsg rsp_hdr;
	uint8_t rsp_body[XENSTORE_PAYLOAD_MAX + 1];
	size_t rsp_got;
	bool broken;
	struct list clients;
	struct list watches;
	struct list pending;
	uint32_t next_req_id;
	uint32_t next_watch_id;
};

static void xb_pump(struct xenbus *xb);
static bool xenbus_event(struct watcher *w, uint32_t events);

static int buf_append(uint8_t **buf, size_t *len, size_t *cap, const void *p, size_t n)
{
	if (*len + n > *cap) {
		size_t ncap = *cap ? *cap * 2 : 4096;
		uint8_t *nb;

		while (ncap < *len + n)
			ncap *= 2;
		nb = realloc(*buf, ncap);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	return 0;
}

/* ---- toward the ring ---- */

static int xb_queue(struct xenbus *xb, const struct xsd_sockmsg *h, const void *body)
{
	if (buf_append(&xb->reqq, &xb->reqq_len, &xb->reqq_cap, h, sizeof(*h)) ||
	    buf_append(&xb->reqq, &xb->reqq_len, &xb->reqq_cap, body, h->len))
		return -ENOMEM;
	return 0;
}

static struct xb_pending *xb_send(struct xenbus *xb, uint32_t type, uint32_t tx_id,
				  const void *body, uint32_t len, struct xb_client *c,
				  uint32_t orig_req_id)
{
	struct xsd_sockmsg h = { .type = type, .tx_id = tx_id, .len = len };
	struct xb_pending *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	h.req_id = p->req_id = xb->next_req_id++;
	p->orig_req_id = orig_req_id;
	p->type = type;
	p->c = c;
	if (xb_queue(xb, &h, body)) {
		free(p);
		return NULL;
	}
	list_add_tail(&p->link, &xb->pending);
	return p;
}

/* ---- toward a client ---- */

static void client_close(struct xb_client *c);

static void client_write(struct xb_client *c, const struct xsd_sockmsg *h, const void *body)
{
	if (c->dead)
		return;
	if (c->outlen + sizeof(*h) + h->len > CLIENT_MAX_BACKLOG) {
		dlog(LOG_WARNING, "dom%u xenbus client not reading: disconnected",
		       c->xb->dom->domid);
		c->dead = true;
		loop_mod(&c->w, EPOLLIN | EPOLLOUT);
		return;
	}
	if (buf_append(&c->out, &c->outlen, &c->outcap, h, sizeof(*h)) ||
	    buf_append(&c->out, &c->outlen, &c->outcap, body, h->len))
		return;
	loop_mod(&c->w, EPOLLIN | EPOLLOUT);
}

static void client_error(struct xb_client *c, const struct xsd_sockmsg *req, const char *err)
{
	struct xsd_sockmsg h = {
		.type = XS_ERROR, .req_id = req->req_id, .tx_id = req->tx_id,
		.len = strlen(err) + 1,
	};

	client_write(c, &h, err);
}

static int client_find_tx(struct xb_client *c, uint32_t tx)
{
	unsigned int i;

	for (i = 0; i < c->ntx; i++)
		if (c->tx[i] == tx)
			return (int)i;
	return -1;
}

static void client_add_tx(struct xb_client *c, uint32_t tx)
{
	if (c->ntx == c->captx) {
		unsigned int ncap = c->captx ? c->captx * 2 : 4;
		uint32_t *n = realloc(c->tx, ncap * sizeof(*n));

		if (!n)
			return;
		c->tx = n;
		c->captx = ncap;
	}
	c->tx[c->ntx++] = tx;
}

static void client_del_tx(struct xb_client *c, uint32_t tx)
{
	int i = client_find_tx(c, tx);

	if (i >= 0)
		c->tx[i] = c->tx[--c->ntx];
}

/* "path\0token\0" split and checked: both strings end inside the payload. */
static bool split_watch(const uint8_t *body, uint32_t len, const char **path,
			const char **token)
{
	const char *p = (const char *)body;
	const char *z1 = memchr(p, '\0', len);
	const char *z2;

	if (!z1)
		return false;
	z2 = memchr(z1 + 1, '\0', len - (size_t)(z1 + 1 - p));
	if (!z2)
		return false;
	*path = p;
	*token = z1 + 1;
	return true;
}

static void watch_free(struct xb_watch *w)
{
	list_del(&w->link);
	free(w->path);
	free(w->token);
	free(w);
}

static void watch_unregister(struct xenbus *xb, struct xb_watch *w)
{
	char body[XENSTORE_PAYLOAD_MAX];
	int n = snprintf(body, sizeof(body), "%s%cX%u", w->path, 0, w->id);
	struct xb_pending *p;

	if (n < 0 || (size_t)n >= sizeof(body))
		return;
	p = xb_send(xb, XS_UNWATCH, 0, body, n + 1, NULL, 0);
	if (p)
		p->watch = w;
}

/*
 * Requests from a client: most go to xenstored as they are; a watch gets
 * a ring-wide token first (the ring is shared by all the guest's programs).
 * A handler returns NULL or the xenstore error to answer with.
 */
typedef const char *(*xb_req_fn)(struct xb_client *c, const struct xsd_sockmsg *h,
				 const uint8_t *body);

static const char *req_watch(struct xb_client *c, const struct xsd_sockmsg *h,
			     const uint8_t *body)
{
	struct xenbus *xb = c->xb;
	const char *path, *token;
	struct xb_pending *p;
	struct xb_watch *w;
	char nb[XENSTORE_PAYLOAD_MAX + 16];
	int n;

	if (!split_watch(body, h->len, &path, &token))
		return "EINVAL";
	w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path)) || !(w->token = strdup(token))) {
		if (w)
			free(w->path);
		free(w);
		return "ENOMEM";
	}
	w->id = xb->next_watch_id++;
	w->c = c;
	list_add_tail(&w->link, &xb->watches);
	/* The ring-wide token must still fit xenstored's payload limit. */
	n = snprintf(nb, sizeof(nb), "%s%cX%u", path, 0, w->id);
	if (n < 0 || (size_t)n + 1 > XENSTORE_PAYLOAD_MAX) {
		watch_free(w);
		return "E2BIG";
	}
	p = xb_send(xb, XS_WATCH, 0, nb, n + 1, c, h->req_id);
	if (!p) {
		watch_free(w);
		return "ENOMEM";
	}
	p->watch = w;
	return NULL;
}

static const char *req_unwatch(struct xb_client *c, const struct xsd_sockmsg *h,
			       const uint8_t *body)
{
	struct xenbus *xb = c->xb;
	struct xb_watch *found = NULL;
	const char *path, *token;
	struct list *pos, *tmp;
	struct xb_pending *p;
	char nb[XENSTORE_PAYLOAD_MAX + 16];
	int n;

	if (!split_watch(body, h->len, &path, &token))
		return "EINVAL";
	list_for_each_safe(pos, tmp, &xb->watches) {
		struct xb_watch *w = container_of(pos, struct xb_watch, link);

		if (w->c == c && w->active && !strcmp(w->path, path) &&
		    !strcmp(w->token, token)) {
			found = w;
			break;
		}
	}
	if (!found)
		return "ENOENT";
	n = snprintf(nb, sizeof(nb), "%s%cX%u", found->path, 0, found->id);
	if (n < 0 || (size_t)n + 1 > XENSTORE_PAYLOAD_MAX)
		return "E2BIG";
	p = xb_send(xb, XS_UNWATCH, 0, nb, n + 1, c, h->req_id);
	if (!p)
		return "ENOMEM";
	p->watch = found;
	return NULL;
}

static const char *req_forward(struct xb_client *c, const struct xsd_sockmsg *h,
			       const uint8_t *body)
{
	return xb_send(c->xb, h->type, h->tx_id, body, h->len, c, h->req_id) ? NULL : "ENOMEM";
}

static const xb_req_fn client_reqs[XS_TYPE_COUNT] = {
	[XS_WATCH] = req_watch,
	[XS_UNWATCH] = req_unwatch,
};

/* One complete request from a client; its error, if any, answered here. */
static void client_request(struct xb_client *c, const struct xsd_sockmsg *h, const uint8_t *body)
{
	xb_req_fn fn = h->type < XS_TYPE_COUNT && client_reqs[h->type] ?
		client_reqs[h->type] : req_forward;
	const char *err;

	if (h->tx_id && client_find_tx(c, h->tx_id) < 0)
		err = "ENOENT";
	else
		err = fn(c, h, body);
	if (err) {
		client_error(c, h, err);
		return;
	}
	xb_pump(c->xb);
}

/* A watch fired: to the client that set it, with its own token. */
static void ring_watch_event(struct xenbus *xb, const struct xsd_sockmsg *h, uint8_t *body)
{
	struct xsd_sockmsg out = *h;
	struct list *pos, *tmp;
	const char *path, *token;
	char *end;
	unsigned long id;
	char nb[XENSTORE_PAYLOAD_MAX + 1];
	int n;

	if (!split_watch(body, h->len, &path, &token) || token[0] != 'X')
		return;
	id = strtoul(token + 1, &end, 10);
	if (*end)
		return;
	list_for_each_safe(pos, tmp, &xb->watches) {
		struct xb_watch *w = container_of(pos, struct xb_watch, link);

		if (w->id == id && w->c) {
			n = snprintf(nb, sizeof(nb), "%s%c%s", path, 0, w->token);
			if (n < 0 || (size_t)n >= sizeof(nb))
				return;
			out.len = n + 1;
			client_write(w->c, &out, nb);
			return;
		}
	}
}

/*
 * Replies from xenstored that change our state before they go to the
 * client (ok: the reply is not XS_ERROR).
 */
typedef void (*xb_reply_fn)(struct xenbus *xb, struct xb_pending *p,
			    const struct xsd_sockmsg *h, uint8_t *body, bool ok);

static void reply_watch(struct xenbus *xb, struct xb_pending *p,
			const struct xsd_sockmsg *h, uint8_t *body, bool ok)
{
	if (!ok) {
		watch_free(p->watch);
	} else {
		p->watch->active = true;
		if (!p->watch->c)	/* client left meanwhile */
			watch_unregister(xb, p->watch);
	}
}

static void reply_unwatch(struct xenbus *xb, struct xb_pending *p,
			  const struct xsd_sockmsg *h, uint8_t *body, bool ok)
{
	if (ok || !p->c)
		watch_free(p->watch);
}

static void reply_transaction_start(struct xenbus *xb, struct xb_pending *p,
				    const struct xsd_sockmsg *h, uint8_t *body, bool ok)
{
	uint32_t tx;

	if (!ok || h->len == 0)
		return;
	body[h->len] = '\0';
	tx = strtoul((char *)body, NULL, 10);
	if (p->c)
		client_add_tx(p->c, tx);
	else	/* Orphaned transaction: abort it. */
		xb_send(xb, XS_TRANSACTION_END, tx, "F", 2, NULL, 0);
}

static void reply_transaction_end(struct xenbus *xb, struct xb_pending *p,
				  const struct xsd_sockmsg *h, uint8_t *body, bool ok)
{
	if (p->c)
		client_del_tx(p->c, h->tx_id);
}

static const xb_reply_fn ring_replies[XS_TYPE_COUNT] = {
	[XS_WATCH] = reply_watch,
	[XS_UNWATCH] = reply_unwatch,
	[XS_TRANSACTION_START] = reply_transaction_start,
	[XS_TRANSACTION_END] = reply_transaction_end,
};

/* One complete message from xenstored. */
static void ring_message(struct xenbus *xb, const struct xsd_sockmsg *h, uint8_t *body)
{
	struct list *pos, *tmp;
	struct xb_pending *p = NULL;
	struct xsd_sockmsg out = *h;

	if (h->type == XS_WATCH_EVENT) {
		ring_watch_event(xb, h, body);
		return;
	}
	list_for_each_safe(pos, tmp, &xb->pending) {
		struct xb_pending *q = container_of(pos, struct xb_pending, link);

		if (q->req_id == h->req_id) {
			p = q;
			break;
		}
	}
	if (!p) {
		dlog(LOG_WARNING, "dom%u xenstore reply %u matches no request",
		       xb->dom->domid, h->req_id);
		return;
	}
	list_del(&p->link);
	if (p->type < XS_TYPE_COUNT && ring_replies[p->type])
		ring_replies[p->type](xb, p, h, body, h->type != XS_ERROR);
	if (p->c) {
		out.req_id = p->orig_req_id;
		client_write(p->c, &out, body);
	}
	free(p);
}

/*
 * Move bytes between the ring and our queues until neither side can make
 * progress, then kick xenstored once if we touched the ring.
 */
static void xb_pump(struct xenbus *xb)
{
	struct xenstore_domain_interface *intf = xb->intf;
	bool kick = false, progress = true;

	while (progress && !xb->broken) {
		XENSTORE_RING_IDX cons, prod;
		size_t chunk, need;
		uint8_t *dst;

		progress = false;

		/* Requests: we own req_prod, xenstored owns req_cons. */
		if (xb->reqq_len) {
			cons = __atomic_load_n(&intf->req_cons, __ATOMIC_RELAXED);
			prod = intf->req_prod;
			__atomic_thread_fence(__ATOMIC_SEQ_CST); /* read cons /then/ write data */
			if (prod - cons > XENSTORE_RING_SIZE) {
				xb->broken = true;
				break;
			}
			chunk = XENSTORE_RING_SIZE - (prod - cons);
			if (chunk > XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(prod))
				chunk = XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(prod);
			if (chunk > xb->reqq_len)
				chunk = xb->reqq_len;
			if (chunk) {
				memcpy(intf->req + MASK_XENSTORE_IDX(prod), xb->reqq, chunk);
				__atomic_thread_fence(__ATOMIC_RELEASE); /* write data /then/ publish prod */
				__atomic_store_n(&intf->req_prod, prod + chunk, __ATOMIC_RELAXED);
				memmove(xb->reqq, xb->reqq + chunk, xb->reqq_len - chunk);
				xb->reqq_len -= chunk;
				kick = progress = true;
			}
		}

		/* Replies and events: xenstored owns rsp_prod, we own rsp_cons. */
		prod = __atomic_load_n(&intf->rsp_prod, __ATOMIC_RELAXED);
		cons = intf->rsp_cons;
		__atomic_thread_fence(__ATOMIC_ACQUIRE); /* read prod /then/ read data */
		if (prod - cons > XENSTORE_RING_SIZE) {
			xb->broken = true;
			break;
		}
		if (prod == cons)
			continue;
		if (xb->rsp_got < sizeof(xb->rsp_hdr)) {
			dst = (uint8_t *)&xb->rsp_hdr + xb->rsp_got;
			need = sizeof(xb->rsp_hdr) - xb->rsp_got;
		} else {
			dst = xb->rsp_body + (xb->rsp_got - sizeof(xb->rsp_hdr));
			need = sizeof(xb->rsp_hdr) + xb->rsp_hdr.len - xb->rsp_got;
		}
		chunk = prod - cons;
		if (chunk > XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(cons))
			chunk = XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(cons);
		if (chunk > need)
			chunk = need;
		memcpy(dst, intf->rsp + MASK_XENSTORE_IDX(cons), chunk);
		__atomic_thread_fence(__ATOMIC_SEQ_CST); /* read data /then/ free the space */
		__atomic_store_n(&intf->rsp_cons, cons + chunk, __ATOMIC_RELAXED);
		xb->rsp_got += chunk;
		kick = progress = true;

		if (xb->rsp_got == sizeof(xb->rsp_hdr) &&
		    xb->rsp_hdr.len > XENSTORE_PAYLOAD_MAX) {
			dlog(LOG_ERR, "dom%u xenstore ring: reply of %u bytes, ring abandoned",
			       xb->dom->domid, xb->rsp_hdr.len);
			xb->broken = true;
			break;
		}
		if (xb->rsp_got == sizeof(xb->rsp_hdr) + xb->rsp_hdr.len) {
			struct xsd_sockmsg h = xb->rsp_hdr;

			xb->rsp_got = 0;
			xb->rsp_body[h.len] = '\0';
			ring_message(xb, &h, xb->rsp_body);
		}
	}
	if (kick)
		evtchn_send(xb->dom, xb->dom->store_port);
}

static void xb_ring_event(void *opaque)
{
	xb_pump(opaque);
}

/* ---- clients ---- */

static void client_close(struct xb_client *c)
{
	struct xenbus *xb = c->xb;
	struct list *pos, *tmp;
	unsigned int i;

	list_for_each_safe(pos, tmp, &xb->watches) {
		struct xb_watch *w = container_of(pos, struct xb_watch, link);

		if (w->c != c)
			continue;
		w->c = NULL;
		if (w->active)
			watch_unregister(xb, w);
	}
	list_for_each_safe(pos, tmp, &xb->pending) {
		struct xb_pending *p = container_of(pos, struct xb_pending, link);

		if (p->c == c)
			p->c = NULL;
	}
	for (i = 0; i < c->ntx; i++)
		xb_send(xb, XS_TRANSACTION_END, c->tx[i], "F", 2, NULL, 0);
	loop_del(&c->w);
	close(c->w.fd);
	list_del(&c->link);
	free(c->out);
	free(c->tx);
	free(c);
	xb_pump(xb);
}

static void client_readable(struct xb_client *c)
{
	ssize_t n;

	for (;;) {
		struct xsd_sockmsg *h = (struct xsd_sockmsg *)c->in;
		size_t want = c->inlen < sizeof(*h) ? sizeof(*h) - c->inlen :
			      sizeof(*h) + h->len - c->inlen;

		n = read(c->w.fd, c->in + c->inlen, want);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			client_close(c);
			return;
		}
		c->inlen += n;
		if (c->inlen == sizeof(*h) && h->len > XENSTORE_PAYLOAD_MAX) {
			/* The Linux driver refuses oversized messages outright. */
			client_close(c);
			return;
		}
		if (c->inlen >= sizeof(*h) && c->inlen == sizeof(*h) + h->len) {
			struct xsd_sockmsg hc = *h;

			c->inlen = 0;
			client_request(c, &hc, c->in + sizeof(hc));
			if (c->dead) {
				client_close(c);
				return;
			}
		}
	}
}

/* Returns -1 when the client is gone. */
static int client_writable(struct xb_client *c)
{
	while (c->outlen) {
		ssize_t n = write(c->w.fd, c->out, c->outlen);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			client_close(c);
			return -1;
		}
		memmove(c->out, c->out + n, c->outlen - n);
		c->outlen -= n;
	}
	loop_mod(&c->w, EPOLLIN);
	return 0;
}

static void xb_accept(struct xenbus *xb)
{
	struct xb_client *c;
	int fd = accept4(xb->listen.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->w.kind = W_XB_CLIENT;
	c->w.fn = xenbus_event;
	c->w.fd = fd;
	c->xb = xb;
	list_add_tail(&c->link, &xb->clients);
	loop_add(&c->w, EPOLLIN);
}

static bool xenbus_event(struct watcher *w, uint32_t events)
{
	struct xb_client *c;

	if (w->kind == W_XB_LISTEN) {
		xb_accept(container_of(w, struct xenbus, listen));
		return true;
	}
	c = container_of(w, struct xb_client, w);
	if (c->dead) {
		client_close(c);
		return true;
	}
	if ((events & EPOLLOUT) && client_writable(c) < 0)
		return true;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		client_readable(c);
	return true;
}

int xenbus_create(struct domain *d)
{
	char path[PATH_MAX + 16];
	struct xenbus *xb;
	int rc;

	xb = calloc(1, sizeof(*xb));
	if (!xb)
		return -ENOMEM;
	xb->dom = d;
	xb->listen.kind = W_XB_LISTEN;
	xb->listen.fn = xenbus_event;
	xb->listen.fd = -1;
	xb->next_req_id = 1;
	list_init(&xb->clients);
	list_init(&xb->watches);
	list_init(&xb->pending);
	d->xb = xb;

	/* The guest kernel maps its own store page (start_info's store_mfn). */
	xb->intf = frame_map(d, d->store_gfn);
	if (!xb->intf)
		return -errno;
	/* Its store port, left unbound for the xenstore domain (dom0). */
	rc = evtchn_kernel_port(d, 0, xb_ring_event, xb, &d->store_port);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/xenbus", d->dir);
	xb->listen.fd = unix_listen(path, 0666, SOCK_STREAM);
	if (xb->listen.fd < 0)
		return xb->listen.fd;
	loop_add(&xb->listen, EPOLLIN);
	return 0;
}

void xenbus_destroy(struct domain *d)
{
	struct xenbus *xb = d->xb;
	struct list *pos, *tmp;
	char path[PATH_MAX + 16];

	if (!xb)
		return;
	xb->broken = true;	/* the ring is gone with the guest */
	list_for_each_safe(pos, tmp, &xb->clients)
		client_close(container_of(pos, struct xb_client, link));
	list_for_each_safe(pos, tmp, &xb->watches)
		watch_free(container_of(pos, struct xb_watch, link));
	list_for_each_safe(pos, tmp, &xb->pending) {
		struct xb_pending *p = container_of(pos, struct xb_pending, link);

		list_del(&p->link);
		free(p);
	}
	if (xb->listen.fd >= 0) {
		loop_del(&xb->listen);
		close(xb->listen.fd);
		snprintf(path, sizeof(path), "%s/xenbus", d->dir);
		unlink(path);
	}
	if (xb->intf)
		munmap(xb->intf, XENSIM_PAGE_SIZE);
	if (d->store_port)
		evtchn_close(d, d->store_port);
	free(xb->reqq);
	free(xb);
	d->xb = NULL;
}
