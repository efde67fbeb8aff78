// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hyper-V sockets for a guest's hv_sock, joined to dom0 unix sockets the
 * way Firecracker and Cloud Hypervisor join virtio-vsock ("hybrid vsock"):
 *
 *  - The guest connects (AF_VSOCK, CID 2, port P): hv_sock sends
 *    TL_CONNECT_REQUEST for the service GUID of P; the daemon connects to
 *    the unix socket "<uds>_P" and offers the connection's channel (type
 *    the service, instance the guest's endpoint, TLNPI_PROVIDER); hv_sock
 *    opens it.  Nobody listening on "<uds>_P": TL_CONNECT_RESULT refuses.
 *  - A dom0 program connects to "<uds>" and writes "CONNECT P\n": the
 *    daemon offers a channel for the guest's service of port P from a
 *    host port of its own (is_for_guest_accept set); once the guest's
 *    listener accepts (hv_sock opens the channel), the program reads
 *    "OK <host port>\n" and the connection is up.  A guest that does not
 *    accept within HVS_ACCEPT_S: the offer is rescinded and the program
 *    sees the end of the stream.
 *
 * Port P and its service GUID are hv_sock's mapping: P in the first four
 * bytes, the VSOCK template in the rest.  The data is the pipe service's
 * (pipe.c) byte-mode relay with the VMPIPE header on every packet.  When
 * the guest closes its end, hv_sock waits for the host to rescind the
 * offer (vmbus_hvsock_device_unregister): the daemon does, after the
 * batch of events (libvmbus is not called back from its own callback).
 *
 * Per guest: the entry offers/<key>/{uds,kind=hvsock} (vmbusctl offer DOM
 * --hvsock PATH, or "hvsock = PATH" in vmbusd.conf).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <xenvmbus/msg.h>

#include "vmbusd.h"

#define HVS_ACCEPT_S	5		/* the guest's accept, at most */
#define HVS_LINE_MAX	32		/* "CONNECT 4294967295\n" */
#define HVS_CONNS_MAX	256		/* connections per guest */
#define HVS_HOST_PORT0	0x40000000u	/* dom0's own ports, as the hybrid
					 * vsock of Firecracker counts them */

struct hvs;

/* One connection: its offer, and its socket until the pipe takes it. */
struct hvs_conn {
	struct vd_offer o;		/* o.priv is this; o.svc the conn row */
	struct hvs *h;
	int fd;
	bool from_host;			/* dom0 connected to the guest */
	bool offered, opened, gone;
	bool finishing;			/* on conns_fin: rescind next turn */
	bool fin_rescinded;		/* rescinded when both ends finished */
	uint32_t guest_port, host_port;
	char line[HVS_LINE_MAX + 1];
	size_t nline;
	int tfd;			/* reading the line, then the accept */
	unsigned int waited_s;
	struct vd_watch wfd, wtimer;
	struct hvs_conn *next;
	struct hvs_conn *next_fin;
};

/* One guest's service: the entry, its listener, its connections. */
struct hvs {
	struct vd_offer *entry;
	char uds[108];
	int lfd;
	struct vd_watch wl;
	struct hvs_conn *conns;
	unsigned int nconns;
	uint32_t next_port;
};

static const uint8_t hvs_tail[12] = VMBUS_HVSOCK_TEMPLATE_TAIL;
static struct hvs_conn *conns_dead;	/* freed after the batch */
static struct hvs_conn *conns_fin;	/* both ends finished: rescind */
static bool hvs_dirty;			/* connections to rescind */

static void hvs_guid(uint32_t port, uint8_t g[16])
{
	g[0] = (uint8_t)port;
	g[1] = (uint8_t)(port >> 8);
	g[2] = (uint8_t)(port >> 16);
	g[3] = (uint8_t)(port >> 24);
	memcpy(g + 4, hvs_tail, sizeof(hvs_tail));
}

/* The port of service GUID @g, or -1 when it is not a vsock port's. */
static int64_t hvs_port(const uint8_t g[16])
{
	if (memcmp(g + 4, hvs_tail, sizeof(hvs_tail)))
		return -1;
	return (int64_t)((uint32_t)g[0] | (uint32_t)g[1] << 8 |
			 (uint32_t)g[2] << 16 | (uint32_t)g[3] << 24);
}

/* --- connections --- */

static void conn_close_fd(struct hvs_conn *c)
{
	if (c->fd >= 0) {
		vd_epoll_del(c->fd);
		close(c->fd);
	}
	c->fd = -1;
	c->o.sock_given = false;
}

/* @c goes: its pipe, its socket, its timer; freed after the batch. */
static void conn_end(struct hvs_conn *c, bool rescind)
{
	struct hvs_conn **pp;
	struct vd_guest *g = c->o.guest;

	if (c->gone)
		return;
	c->gone = true;
	if (c->o.pipe)
		vd_pipe_close(c->o.pipe);
	conn_close_fd(c);
	if (c->tfd >= 0) {
		vd_epoll_del(c->tfd);
		close(c->tfd);
		c->tfd = -1;
	}
	if (rescind && c->offered && c->o.relid && !g->releasing && !g->dead)
		vmbus_server_rescind(g->srv, c->o.relid);
	for (pp = &c->h->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	c->h->nconns--;
	c->next = conns_dead;
	conns_dead = c;
}

static void conn_timer_event(struct vd_watch *w, uint32_t events)
{
	struct hvs_conn *c = w->obj;
	uint64_t t;

	(void)events;
	if (c->gone || read(c->tfd, &t, sizeof(t)) < 0 || c->opened)
		return;
	if (++c->waited_s < HVS_ACCEPT_S)
		return;
	dlog(LOG_INFO, "domain %u hvsock: %s port %u within %d s: dropping the "
	     "connection", c->o.guest->domid, c->offered ?
	     "the guest did not accept on" : "no CONNECT line for",
	     c->guest_port, HVS_ACCEPT_S);
	conn_end(c, true);
}

static struct hvs_conn *conn_new(struct hvs *h, int fd, bool from_host)
{
	struct itimerspec its = { { 1, 0 }, { 1, 0 } };
	struct hvs_conn *c;

	if (h->nconns >= HVS_CONNS_MAX)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->h = h;
	c->fd = fd;
	c->from_host = from_host;
	c->o.svc = &vd_hvsock_service;	/* opened and closed through it */
	c->o.priv = c;
	c->o.guest = h->entry->guest;
	c->o.vmpipe = true;
	c->o.sock_fd = -1;
	snprintf(c->o.key, sizeof(c->o.key), "hvsock");
	c->wfd = (struct vd_watch){ NULL, c };
	c->wtimer = (struct vd_watch){ conn_timer_event, c };
	c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (c->tfd < 0 || timerfd_settime(c->tfd, 0, &its, NULL) < 0 ||
	    vd_epoll_add(c->tfd, EPOLLIN, &c->wtimer) < 0) {
		if (c->tfd >= 0)
			close(c->tfd);
		free(c);
		return NULL;
	}
	c->next = h->conns;
	h->conns = c;
	h->nconns++;
	return c;
}

/* Offer @c's channel: @type and @instance as hv_sock reads them. */
static int conn_offer(struct hvs_conn *c, const uint8_t type[16],
		      const uint8_t instance[16])
{
	struct vmbus_hvsock_user_data ud;
	struct vmbus_offer_desc d;
	int rc;

	memset(&d, 0, sizeof(d));
	memcpy(d.type, type, 16);
	memcpy(d.instance, instance, 16);
	d.flags = VMBUS_OFFER_FLAG_NAMED_PIPE | VMBUS_OFFER_FLAG_HVSOCK;
	d.nversions = 1;
	d.versions[0] = VMBUS_PIPE_VERSION_1_0;
	memset(&ud, 0, sizeof(ud));
	ud.pipe_mode = VMBUS_PIPE_MODE_BYTE;
	ud.is_for_guest_accept = c->from_host;
	memcpy(d.user_data, &ud, sizeof(ud));
	d.cookie = &c->o;
	snprintf(c->o.name, sizeof(c->o.name), "hvsock:%u", c->guest_port);
	_Static_assert(sizeof(c->o.service) == sizeof(c->h->uds), "paths");
	memcpy(c->o.service, c->h->uds, sizeof(c->o.service));
	rc = vmbus_server_offer(c->o.guest->srv, &d, &c->o.relid);
	if (rc)
		return rc;
	c->offered = true;
	return 0;
}

/* --- dom0 connects to the guest: "CONNECT P\n" on <uds> --- */

static void conn_line_event(struct vd_watch *w, uint32_t events)
{
	struct hvs_conn *c = w->obj;
	uint8_t g[16], inst[16];
	char *end, *nl;
	unsigned long port;
	ssize_t n;
	int rc;

	(void)events;
	if (c->gone || c->offered)
		return;
	n = recv(c->fd, c->line + c->nline, HVS_LINE_MAX - c->nline,
		 MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		conn_end(c, false);
		return;
	}
	c->nline += (size_t)n;
	c->line[c->nline] = '\0';
	nl = strchr(c->line, '\n');
	if (!nl) {
		if (c->nline == HVS_LINE_MAX)
			goto bad;
		return;
	}
	*nl = '\0';
	errno = 0;
	if (strncmp(c->line, "CONNECT ", 8) || !c->line[8] ||
	    c->line[8] < '0' || c->line[8] > '9')
		goto bad;
	port = strtoul(c->line + 8, &end, 10);
	if (errno || *end || port > UINT32_MAX || nl != c->line + c->nline - 1)
		goto bad;
	c->guest_port = (uint32_t)port;
	c->host_port = c->h->next_port++;
	if (c->h->next_port < HVS_HOST_PORT0)
		c->h->next_port = HVS_HOST_PORT0;
	/* Wait for the guest's accept; the pipe reads the socket then. */
	vd_epoll_del(c->fd);
	hvs_guid(c->guest_port, g);
	hvs_guid(c->host_port, inst);
	rc = conn_offer(c, g, inst);
	if (rc) {
		dlog(LOG_WARNING, "domain %u hvsock: failed to offer a "
		     "connection to port %u (%s)", c->o.guest->domid,
		     c->guest_port, strerror(-rc));
		conn_end(c, false);
		return;
	}
	c->waited_s = 0;
	dlog(LOG_INFO, "domain %u hvsock: dom0 connects to port %u from port "
	     "%u (channel %u)", c->o.guest->domid, c->guest_port, c->host_port,
	     c->o.relid);
	return;
bad:
	dlog(LOG_WARNING, "domain %u hvsock: a connection on \"%s\" did not "
	     "start with \"CONNECT <port>\\n\": closed", c->o.guest->domid,
	     c->h->uds);
	conn_end(c, false);
}

static void hvs_listen_event(struct vd_watch *w, uint32_t events)
{
	struct hvs *h = w->obj;
	struct hvs_conn *c;
	int fd;

	(void)events;
	if (!h->entry)
		return;
	fd = accept4(h->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	c = conn_new(h, fd, true);
	if (!c) {
		close(fd);
		return;
	}
	c->wfd.fn = conn_line_event;
	if (vd_epoll_add(fd, EPOLLIN, &c->wfd) < 0)
		conn_end(c, false);
}

/* --- the guest connects to dom0: TL_CONNECT_REQUEST --- */

static int hvs_tl_connect(struct vmbus_server *srv, const uint8_t endpoint[16],
			  const uint8_t service[16], void *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct hvs *h = arg;
	struct hvs_conn *c;
	int64_t port = hvs_port(service);
	int fd, rc, len;

	(void)srv;
	if (port < 0)
		return -EADDRNOTAVAIL;
	len = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", h->uds,
		       (uint32_t)port);
	if (len < 0 || (size_t)len >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A unix socket connects at once or refuses (EAGAIN: busy). */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(fd);
		dlog(LOG_INFO, "domain %u hvsock: refused a connection to port "
		     "%u (\"%s\": %s)", h->entry->guest->domid,
		     (uint32_t)port, sa.sun_path, strerror(-rc));
		return rc;
	}
	c = conn_new(h, fd, false);
	if (!c) {
		close(fd);
		return -ENOSPC;
	}
	c->guest_port = (uint32_t)port;
	rc = conn_offer(c, service, endpoint);
	if (rc) {
		conn_end(c, false);
		return rc;
	}
	snprintf(c->o.service, sizeof(c->o.service), "%s", sa.sun_path);
	dlog(LOG_INFO, "domain %u hvsock: the guest connects to port %u -> "
	     "\"%s\" (channel %u)", c->o.guest->domid, c->guest_port,
	     sa.sun_path, c->o.relid);
	return 0;
}

/* --- the loop's hooks --- */

/*
 * Both ends of a connection sent their end of stream (the guest its
 * zero-length VMPIPE packet, dom0's socket its EOF): the host rescinds the
 * channel, as Hyper-V does.  Linux's hv_sock closes the channel only then
 * (vmbus_hvsock_device_unregister waits for the rescind); a close first
 * would wait forever.  The pipe calls it; the rescind waits for the turn.
 */
static void hvs_finished(struct vd_offer *o)
{
	struct hvs_conn *c = o->priv;	/* only connections have pipes */

	if (!c || c->gone || c->finishing || c->fin_rescinded)
		return;
	c->finishing = true;
	c->next_fin = conns_fin;
	conns_fin = c;
	hvs_dirty = true;
}

/* Connections the guest closed: rescinded, as hv_sock waits for. */
static void hvs_turn(void)
{
	struct hvs_conn *c;

	if (!hvs_dirty)
		return;
	hvs_dirty = false;
	/* Not yet freed: conn_end's connections wait for the reap. */
	while ((c = conns_fin) != NULL) {
		conns_fin = c->next_fin;
		c->finishing = false;
		if (c->gone || !c->o.relid || c->o.guest->releasing ||
		    c->o.guest->dead)
			continue;
		vmbus_server_rescind(c->o.guest->srv, c->o.relid);
		c->fin_rescinded = true;
		dlog(LOG_INFO, "domain %u hvsock: port %u ended both ways: "
		     "channel %u rescinded", c->o.guest->domid, c->guest_port,
		     c->o.relid);
	}
	/* conn_end moves each from its guest's list to conns_dead. */
	for (c = conns_dead; c; c = c->next)
		if (c->o.relid && c->opened && !c->o.guest->releasing &&
		    !c->o.guest->dead && c->o.ended && !c->fin_rescinded) {
			vmbus_server_rescind(c->o.guest->srv, c->o.relid);
			c->o.ended = false;
			dlog(LOG_INFO, "domain %u hvsock: the guest closed port "
			     "%u: channel %u rescinded", c->o.guest->domid,
			     c->guest_port, c->o.relid);
		}
}

static void hvs_reap(void)
{
	struct hvs_conn *c;

	while ((c = conns_dead)) {
		conns_dead = c->next;
		free(c);
	}
}

static struct vd_loop_hook hvs_hook = { .turn = hvs_turn, .reap = hvs_reap };

static int hvs_start(void)
{
	vd_loop_hook_add(&hvs_hook);
	return 0;
}

/* --- the service's rows: the guest's entry, and each connection --- */

static int hvs_make(struct vd_offer *o, const char *dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vd_guest *g = o->guest;
	struct vd_offer *x;
	struct stat st;
	struct hvs *h;
	char *uds;
	int rc = -EINVAL;

	for (x = g->offers; x; x = x->next)
		if (x->svc == o->svc) {
			dlog(LOG_ERR, "domain %u: ignoring a second hvsock entry "
			     "\"%s\"", g->domid, o->key);
			return -EEXIST;
		}
	uds = vd_xs_read(dir, "uds");
	/* Room for "_4294967295" after it. */
	if (!uds || uds[0] != '/' || strlen(uds) + 11 >= sizeof(sa.sun_path)) {
		dlog(LOG_ERR, "domain %u: ignoring hvsock entry \"%s\" (uds is "
		     "an absolute path of at most 96 bytes)", g->domid, dir);
		goto out;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(h->uds, sizeof(h->uds), "%s", uds);
	h->entry = o;
	h->next_port = HVS_HOST_PORT0;
	h->wl = (struct vd_watch){ hvs_listen_event, h };
	memcpy(sa.sun_path, uds, strlen(uds));
	/* A socket left by an earlier daemon goes; anything else stays. */
	if (lstat(uds, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(uds);
	h->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (h->lfd < 0 || bind(h->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(h->lfd, 64) < 0 ||
	    (rc = vd_epoll_add(h->lfd, EPOLLIN, &h->wl)) < 0) {
		rc = rc < 0 ? rc : -errno;
		dlog(LOG_ERR, "domain %u: failed to listen on \"%s\" for hvsock "
		     "(%s)", g->domid, uds, strerror(-rc));
		if (h->lfd >= 0)
			close(h->lfd);
		free(h);
		goto out;
	}
	o->priv = h;
	snprintf(o->name, sizeof(o->name), "hvsock");
	snprintf(o->service, sizeof(o->service), "%s", uds);
	vmbus_server_set_tl_connect(g->srv, hvs_tl_connect, h);
	dlog(LOG_INFO, "domain %u: hvsock: guest ports reach \"%s_PORT\", dom0 "
	     "reaches the guest through \"%s\"", g->domid, uds, uds);
	rc = 0;
out:
	free(uds);
	return rc;
}

static int hvs_open(struct vd_offer *o, struct vmbus_chan *chan)
{
	struct hvs_conn *c = o->priv;
	char ok[32];
	int rc, n;

	/* Only connections have channels: o->priv is one. */
	if (!chan || c->gone || c->opened)
		return -EINVAL;
	if (c->from_host) {
		n = snprintf(ok, sizeof(ok), "OK %u\n", c->host_port);
		/* A fresh socket has room for a line. */
		if (send(c->fd, ok, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
			return -EPIPE;
	}
	o->sock_fd = c->fd;
	o->sock_given = true;
	rc = vd_pipe_open(o, chan);
	if (rc) {
		o->sock_given = false;
		c->fd = -1;		/* the pipe closed it */
		return rc;
	}
	c->fd = -1;			/* the pipe's now */
	c->opened = true;
	return 0;
}

static void hvs_close(struct vd_offer *o, struct vmbus_chan *chan)
{
	struct hvs_conn *c = o->priv;

	(void)chan;
	if (c->gone)
		return;
	/* Rescinded after the batch: not from libvmbus's own callback. */
	o->ended = true;
	hvs_dirty = true;
	conn_end(c, false);
}

static void hvs_drop(struct vd_offer *o)
{
	struct hvs *h = o->priv;

	if (!h || o != h->entry)
		return;
	while (h->conns)
		conn_end(h->conns, true);
	if (!o->guest->releasing)
		vmbus_server_set_tl_connect(o->guest->srv, NULL, NULL);
	vd_epoll_del(h->lfd);
	close(h->lfd);
	unlink(h->uds);
	dlog(LOG_INFO, "domain %u: hvsock on \"%s\" ended", o->guest->domid,
	     h->uds);
	free(h);
	o->priv = NULL;
}

static int hvs_state(struct vd_offer *o, char *val, size_t len)
{
	(void)o;
	(void)val;
	(void)len;
	return -1;	/* no channel of its own; its connections are pipes */
}

const struct vd_service vd_hvsock_service = {
	.kind = "hvsock",
	.noun = "hvsock",
	.last_key = "kind",
	.start = hvs_start,
	.make = hvs_make,
	.open = hvs_open,
	.close = hvs_close,
	.drop = hvs_drop,
	.state = hvs_state,
	.finished = hvs_finished,
};
