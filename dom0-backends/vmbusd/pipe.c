// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pipe VSP: a guest's pipe channel joined to a dom0 unix socket
 * service, so that any dom0 program serves guests without knowing Xen.
 *
 *  - Byte mode: a SOCK_STREAM connection; packet boundaries mean nothing.
 *  - Message mode: a SOCK_SEQPACKET connection; one in-band packet is one
 *    message each way.
 *  - Each in-band packet carries data; an empty packet is end of stream
 *    (the guest's sends are over, or the service closed its side).
 *  - A connection of hv_sock (hvsock.c) is a byte-mode pipe whose packets
 *    start with the VMPIPE header (struct vmbus_vmpipe_hdr); one with no
 *    data is the end of stream, and a packet carries at most hv_sock's
 *    MTU.  Its socket comes connected.
 *
 * Flow control never drops data: a packet that the socket does not take
 * whole waits in `out` (and the channel is not read meanwhile, so the ring
 * pushes back on the guest); data read from the socket that the ring has no
 * room for waits in `in` until the guest frees space and signals.
 *
 * One daemon serves every guest, so nothing here blocks or runs long:
 *  - The service is connected without blocking.  A unix socket whose
 *    listener's backlog is full refuses at once (EAGAIN) rather than
 *    completing later: the connect is tried again from the event loop on a
 *    timer, backing off, for up to PIPE_CONNECT_MS; the guest's data waits
 *    in its ring meanwhile.
 *  - Each wake-up moves at most PIPE_BUDGET bytes each way, every packet
 *    taken from the guest counting PIPE_PKT_COST more whatever it carries;
 *    a pipe with more to move is pumped again on the next turn of the
 *    loop, after the other guests' events (vd_pipe_run_busy).
 *  - A guest that signals its pipe's port again and again with nothing
 *    to move costs a wake-up each: after PIPE_QUIET_WAKES such wake-ups in
 *    a row the port is left out of the epoll set for PIPE_THROTTLE_MS, as
 *    libvmbus does for a bus's control port.  Its signals stay pending and
 *    are seen then; a pipe that moves data is never paused.
 *  - A closed pipe is freed after the loop's batch of events (vd_pipe_reap),
 *    which may still name it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <xenvmbus/msg.h>

#include "vmbusd.h"

#define PIPE_BUF_MAX	65536u
#define PIPE_BUDGET	(4 * PIPE_BUF_MAX)	/* bytes each way per wake-up */
/*
 * What taking one packet off the guest's ring counts against the budget,
 * besides the bytes it carries: packets with no data for the service (or
 * one byte each) cost a receive all the same, and a guest keeping its ring
 * full of them must not keep the daemon on its pipe.
 */
#define PIPE_PKT_COST	256u
#define PIPE_QUIET_WAKES 64
#define PIPE_THROTTLE_MS 20
#define PIPE_CONNECT_MS	10000			/* a busy service, then EOF */
#define PIPE_RETRY_MIN_MS 10
#define PIPE_RETRY_MAX_MS 500

struct vd_pipe {
	struct vd_offer *offer;
	struct vmbus_chan *chan;
	int sock;
	struct vd_watch wchan, wsock;
	uint32_t sock_events;
	/* guest -> service */
	uint64_t outbuf[PIPE_BUF_MAX / 8];
	size_t out_len, out_off;
	bool guest_eof;
	/* service -> guest */
	uint8_t in[PIPE_BUF_MAX + 8];	/* + a VMPIPE header in front */
	size_t in_len;
	bool in_pending;
	bool sock_eof, eof_sent;
	bool sock_hup, sock_gone;
	size_t chunk;			/* largest packet the guest's ring takes */
	uint64_t to_service, from_service, errors;
	/* Connecting to a busy service: tried again on a timer. */
	bool connecting;
	int retry_fd;
	struct vd_watch wretry;
	unsigned int retry_ms, waited_ms;
	/* More to move than one wake-up's budget: pumped next turn. */
	bool busy;
	uint64_t busy_turns;
	/* A storm of signals for nothing: the port is paused a while. */
	uint64_t rx_pkts;		/* packets taken from the guest */
	unsigned int quiet_wakes;
	bool throttled;
	int throttle_fd;
	struct vd_watch wthrottle;
	uint64_t throttles;
	struct vd_pipe *next_busy;
	/* Closed: freed once the loop's batch of events is done. */
	bool dead;
	struct vd_pipe *next_dead;
};

static struct vd_pipe *pipes_busy, *pipes_dead;
static unsigned int pipes_held;	/* mapped: open, or dead and not reaped */

/* What every pipe offer of @o says, but its instance GUID (zero here). */
void vd_pipe_desc(struct vmbus_offer_desc *d, const struct vd_offer *o,
		  void *cookie)
{
	uint32_t pmode = o->message_mode ? VMBUS_PIPE_MODE_MESSAGE :
					   VMBUS_PIPE_MODE_BYTE;

	memset(d, 0, sizeof(*d));
	d->flags = VMBUS_OFFER_FLAG_NAMED_PIPE;
	d->nversions = 1;
	d->versions[0] = VMBUS_PIPE_VERSION_1_0;
	vmbus_guid_parse(VMBUS_PIPE_CLASS_GUID, d->type);
	memcpy(d->user_data, &pmode, 4);
	memcpy(d->user_data + VMBUS_PIPE_NAME_OFFSET, o->name, strlen(o->name));
	d->cookie = cookie;
}

void vd_pipe_counters(const struct vd_pipe *p, uint64_t *to_service,
		      uint64_t *from_service, uint64_t *errors)
{
	*to_service = p->to_service;
	*from_service = p->from_service;
	*errors = p->errors;
}

static void pipe_sock_events(struct vd_pipe *p, uint32_t events)
{
	if (p->sock < 0 || p->sock_gone || events == p->sock_events)
		return;
	if (vd_epoll_mod(p->sock, events, &p->wsock) == 0)
		p->sock_events = events;
}

static void pipe_set_busy(struct vd_pipe *p)
{
	if (p->busy)
		return;
	p->busy = true;
	p->busy_turns++;
	p->next_busy = pipes_busy;
	pipes_busy = p;
}

/* Guest -> service; false once the socket is unusable. */
static bool pipe_to_service(struct vd_pipe *p)
{
	const uint8_t *out = (const uint8_t *)p->outbuf;
	struct vmbus_packet pkt;
	size_t moved = 0;
	ssize_t n;
	int rc;

	for (;;) {
		while (p->out_off < p->out_len) {
			n = send(p->sock, out + p->out_off,
				 p->out_len - p->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno == EAGAIN)
				return true;	/* EPOLLOUT brings us back */
			if (n < 0) {
				dlog(LOG_WARNING, "domain %u pipe \"%s\": "
				       "failed to write to \"%s\" (%s)",
				       p->offer->guest->domid, p->offer->name,
				       p->offer->service, strerror(errno));
				p->errors++;
				return false;
			}
			p->out_off += (size_t)n;
			p->to_service += (uint64_t)n;
			moved += (size_t)n;
		}
		p->out_len = p->out_off = 0;
		if (p->guest_eof)
			return true;
		if (moved >= PIPE_BUDGET) {
			pipe_set_busy(p);	/* the rest next turn */
			return true;
		}
		rc = vmbus_chan_recv(p->chan, &pkt, p->outbuf,
				     sizeof(p->outbuf));
		if (rc == -EAGAIN || rc == -ENOTCONN)
			return true;
		if (rc < 0) {
			dlog(LOG_WARNING, "domain %u pipe \"%s\": failed to "
			       "receive (%s)", p->offer->guest->domid,
			       p->offer->name, strerror(-rc));
			p->errors++;
			return false;
		}
		moved += PIPE_PKT_COST;
		p->rx_pkts++;
		if (pkt.type != 0x6 /* DATA_INBAND */)
			continue;
		if (p->offer->vmpipe) {
			struct vmbus_vmpipe_hdr h;

			/* The packet is padded to 8 bytes: the header says. */
			if (pkt.len < sizeof(h))
				goto bad_frame;
			memcpy(&h, pkt.data, sizeof(h));
			if (h.type != VMBUS_VMPIPE_DATA ||
			    h.size > pkt.len - sizeof(h))
				goto bad_frame;
			pkt.data = (const uint8_t *)pkt.data + sizeof(h);
			pkt.len = h.size;
		}
		if (pkt.len == 0) {
			p->guest_eof = true;
			shutdown(p->sock, SHUT_WR);
			return true;
		}
		/* The payload sits in outbuf after the descriptor: move it. */
		memmove(p->outbuf, pkt.data, pkt.len);
		p->out_len = pkt.len;
		p->out_off = 0;
	}
bad_frame:
	dlog(LOG_WARNING, "domain %u pipe \"%s\": a packet without a VMPIPE "
	     "data header: ending the pipe", p->offer->guest->domid,
	     p->offer->name);
	p->errors++;
	return false;
}

/* Bytes in front of the data of a packet to the guest. */
static size_t pipe_hdr_len(const struct vd_pipe *p)
{
	return p->offer->vmpipe ? sizeof(struct vmbus_vmpipe_hdr) : 0;
}

/* Service -> guest. */
static bool pipe_to_guest(struct vd_pipe *p)
{
	size_t moved = 0;
	ssize_t n;
	int rc;

	vmbus_chan_batch_begin(p->chan);
	for (;;) {
		if (p->in_pending) {
			/* hv_sock: the header sits in front of the data. */
			if (p->offer->vmpipe) {
				struct vmbus_vmpipe_hdr h = {
					VMBUS_VMPIPE_DATA, (uint32_t)p->in_len
				};

				memcpy(p->in, &h, sizeof(h));
			}
			rc = vmbus_chan_send(p->chan, p->in,
					     p->in_len + pipe_hdr_len(p), 0, 0);
			if (rc == -EAGAIN)
				break;		/* the guest signals when it reads */
			if (rc < 0) {
				p->errors++;
				break;
			}
			p->from_service += p->in_len;
			moved += p->in_len;
			p->in_pending = false;
			if (p->in_len == 0) {
				p->eof_sent = true;
				break;
			}
		}
		if (p->sock_eof)
			break;
		if (moved >= PIPE_BUDGET) {
			pipe_set_busy(p);	/* the rest next turn */
			break;
		}
		/* MSG_TRUNC: a message gives its whole length, even cut. */
		n = recv(p->sock, p->in + pipe_hdr_len(p), p->chunk,
			 MSG_DONTWAIT | (p->offer->message_mode ? MSG_TRUNC : 0));
		if (n < 0 && errno == EAGAIN)
			break;
		if (n > 0 && (size_t)n > p->chunk) {
			/*
			 * A message larger than the guest's ring carries: the
			 * socket dropped its tail.  Passing the rest on as a
			 * whole message would lose data without a word; end
			 * the pipe instead, and say why.
			 */
			dlog(LOG_WARNING, "domain %u pipe \"%s\": \"%s\" sent "
			       "a message of %zd bytes, more than the pipe "
			       "carries (%zu): ending the pipe",
			       p->offer->guest->domid, p->offer->name,
			       p->offer->service, n, p->chunk);
			p->errors++;
			n = 0;
		}
		if (n <= 0) {
			/* End of stream (or a dead service): say so once. */
			p->sock_eof = true;
			p->in_len = 0;
			p->in_pending = true;
			continue;
		}
		p->in_len = (size_t)n;
		p->in_pending = true;
	}
	vmbus_chan_batch_commit(p->chan);
	return true;
}

static void pipe_pump(struct vd_pipe *p)
{
	uint32_t ev = 0;

	vmbus_chan_ack(p->chan);
	if (p->sock < 0 || p->connecting)
		return;		/* the guest's data waits in its ring */
	if (p->sock_hup)
		p->guest_eof = true;
	if (!pipe_to_service(p)) {
		p->sock_eof = true;
		p->guest_eof = true;
		p->in_len = 0;
		p->in_pending = !p->eof_sent;
	}
	pipe_to_guest(p);
	/* A Hyper-V socket both of whose ends finished: the host closes. */
	if (p->guest_eof && p->eof_sent && p->offer->svc &&
	    p->offer->svc->finished)
		p->offer->svc->finished(p->offer);
	if (!p->sock_eof && !p->in_pending)
		ev |= EPOLLIN;
	if (p->out_off < p->out_len)
		ev |= EPOLLOUT;
	if (p->sock_hup || (p->sock_eof && p->guest_eof)) {
		/* Nothing more to move: a hung-up socket would only spin. */
		if (!p->sock_gone)
			vd_epoll_del(p->sock);
		p->sock_gone = true;
		return;
	}
	pipe_sock_events(p, ev);
}

static void pipe_connect_retry(struct vd_pipe *p);

/* Leave a storming guest's port out of the epoll set a while. */
static void pipe_throttle(struct vd_pipe *p)
{
	struct itimerspec its = { { 0, 0 }, { 0, PIPE_THROTTLE_MS * 1000000L } };
	int rc = 0;

	if (p->throttle_fd < 0) {
		p->throttle_fd = timerfd_create(CLOCK_MONOTONIC,
						TFD_CLOEXEC | TFD_NONBLOCK);
		rc = p->throttle_fd < 0 ? -errno :
		     vd_epoll_add(p->throttle_fd, EPOLLIN, &p->wthrottle);
		if (rc && p->throttle_fd >= 0) {
			close(p->throttle_fd);
			p->throttle_fd = -1;
		}
	}
	if (!rc && timerfd_settime(p->throttle_fd, 0, &its, NULL) < 0)
		rc = -errno;
	if (rc) {
		dlog(LOG_ERR, "domain %u pipe \"%s\": failed to pause its port "
		       "(%s)", p->offer->guest->domid, p->offer->name,
		       strerror(-rc));
		p->quiet_wakes = 0;
		return;
	}
	vd_epoll_del(vmbus_chan_fd(p->chan));
	p->throttled = true;
	p->throttles++;
	if (!p->offer->guest->pipe_storm_logged)
		dlog(LOG_WARNING, "domain %u pipe \"%s\": signals its port with "
		       "nothing to move: its signals are taken every %d ms for a "
		       "while (said once per domain)", p->offer->guest->domid,
		       p->offer->name, PIPE_THROTTLE_MS);
	p->offer->guest->pipe_storm_logged = true;
}

static void pipe_unthrottle(struct vd_pipe *p)
{
	uint64_t ticks;

	if (read(p->throttle_fd, &ticks, sizeof(ticks)) < 0 || !p->throttled)
		return;
	p->throttled = false;
	p->quiet_wakes = 0;
	if (vd_epoll_add(vmbus_chan_fd(p->chan), EPOLLIN, &p->wchan) == 0)
		pipe_pump(p);	/* what was signalled meanwhile */
}

void vd_pipe_event(struct vd_pipe *p, enum vd_pipe_ev kind, uint32_t events)
{
	uint64_t rx, tx;

	if (p->dead)
		return;		/* closed earlier in this batch */
	if (kind == VD_RETRY) {
		pipe_connect_retry(p);
		return;
	}
	if (kind == VD_THROTTLE) {
		pipe_unthrottle(p);
		return;
	}
	if (kind == VD_SOCK && (events & (EPOLLHUP | EPOLLERR)))
		p->sock_hup = true;
	rx = p->rx_pkts;
	tx = p->from_service;
	pipe_pump(p);
	if (kind != VD_CHAN || p->dead)
		return;
	/* Signalled, and nothing taken from the guest nor given to it. */
	if (p->rx_pkts == rx && p->from_service == tx) {
		if (++p->quiet_wakes >= PIPE_QUIET_WAKES)
			pipe_throttle(p);
	} else {
		p->quiet_wakes = 0;
	}
}

static bool vd_pipe_busy(void)
{
	return pipes_busy != NULL;
}

void vd_pipe_run_busy(void)
{
	struct vd_pipe *p, *next;

	/* Pipes that become busy again go on the next turn's list. */
	p = pipes_busy;
	pipes_busy = NULL;
	for (; p; p = next) {
		next = p->next_busy;
		p->busy = false;
		if (!p->dead)
			pipe_pump(p);
	}
}

/*
 * A pipe holds two 64 KiB buffers.  They get their own mapping, given back
 * whole when the pipe closes: from malloc, glibc raises its mmap threshold
 * after the first such free and later pipes would come from the heap,
 * which keeps its peak after thousands of channels are gone.
 */
static struct vd_pipe *pipe_alloc(void)
{
	void *p = mmap(NULL, sizeof(struct vd_pipe), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	pipes_held++;
	return p;
}

static void pipe_free(struct vd_pipe *p)
{
	munmap(p, sizeof(*p));
	pipes_held--;
}

unsigned int vd_pipe_count(void)
{
	return pipes_held;
}

void vd_pipe_reap(void)
{
	struct vd_pipe *p;

	while ((p = pipes_dead) != NULL) {
		pipes_dead = p->next_dead;
		pipe_free(p);
	}
}

static void pipe_log_connected(struct vd_pipe *p)
{
	dlog(LOG_INFO, "domain %u pipe \"%s\" (channel %u) connected to "
	       "\"%s\"", p->offer->guest->domid, p->offer->name,
	       vmbus_chan_relid(p->chan), p->offer->service);
}

/* 0 connected, -EAGAIN the service's backlog is full, or -errno. */
static int pipe_connect(struct vd_pipe *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memcpy(sa.sun_path, p->offer->service, sizeof(sa.sun_path) - 1);
	if (connect(p->sock, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 0;
	/* A unix socket never completes later (EINPROGRESS): it refuses. */
	return errno == EAGAIN ? -EAGAIN : -errno;
}

static int pipe_retry_arm(struct vd_pipe *p)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	its.it_value.tv_sec = p->retry_ms / 1000;
	its.it_value.tv_nsec = (long)(p->retry_ms % 1000) * 1000000;
	return timerfd_settime(p->retry_fd, 0, &its, NULL) < 0 ? -errno : 0;
}

/* The service was busy: it refused, give the guest end of stream. */
static void pipe_connect_failed(struct vd_pipe *p, int err)
{
	dlog(LOG_WARNING, "domain %u pipe \"%s\": failed to connect to \"%s\" "
	       "(%s)", p->offer->guest->domid, p->offer->name, p->offer->service,
	       strerror(-err));
	p->errors++;
	p->connecting = false;
	p->sock_gone = true;		/* never in the epoll set */
	p->sock_eof = p->guest_eof = true;
	p->in_len = 0;
	p->in_pending = true;
	pipe_to_guest(p);
}

static void pipe_connect_retry(struct vd_pipe *p)
{
	uint64_t ticks;
	int rc;

	if (read(p->retry_fd, &ticks, sizeof(ticks)) < 0 || !p->connecting)
		return;
	p->waited_ms += p->retry_ms;
	rc = pipe_connect(p);
	if (rc == -EAGAIN && p->waited_ms < PIPE_CONNECT_MS) {
		p->retry_ms = p->retry_ms * 2 > PIPE_RETRY_MAX_MS ?
			      PIPE_RETRY_MAX_MS : p->retry_ms * 2;
		rc = pipe_retry_arm(p);
		if (!rc)
			return;
	}
	vd_epoll_del(p->retry_fd);
	close(p->retry_fd);
	p->retry_fd = -1;
	if (!rc)
		rc = vd_epoll_add(p->sock, EPOLLIN, &p->wsock);
	if (rc) {
		pipe_connect_failed(p, rc == -EAGAIN ? -EBUSY : rc);
		return;
	}
	p->connecting = false;
	p->sock_events = EPOLLIN;
	pipe_log_connected(p);
	pipe_pump(p);
}

static void pipe_chan_event(struct vd_watch *w, uint32_t events)
{
	vd_pipe_event(w->obj, VD_CHAN, events);
}

static void pipe_sock_event(struct vd_watch *w, uint32_t events)
{
	vd_pipe_event(w->obj, VD_SOCK, events);
}

static void pipe_retry_event(struct vd_watch *w, uint32_t events)
{
	vd_pipe_event(w->obj, VD_RETRY, events);
}

static void pipe_throttle_event(struct vd_watch *w, uint32_t events)
{
	vd_pipe_event(w->obj, VD_THROTTLE, events);
}

int vd_pipe_open(struct vd_offer *o, struct vmbus_chan *chan)
{
	struct vmbus_chan_stats st;
	struct vd_pipe *p;
	int rc;

	p = pipe_alloc();
	if (!p)
		return -ENOMEM;
	p->sock = -1;
	p->retry_fd = -1;
	p->throttle_fd = -1;
	p->offer = o;
	p->chan = chan;
	p->wchan = (struct vd_watch){ pipe_chan_event, p };
	p->wsock = (struct vd_watch){ pipe_sock_event, p };
	p->wretry = (struct vd_watch){ pipe_retry_event, p };
	p->wthrottle = (struct vd_watch){ pipe_throttle_event, p };
	vmbus_chan_get_stats(chan, &st);
	/* Descriptor, padding and trailer aside, keep a packet under half
	 * the ring so that two are in flight. */
	p->chunk = st.tx_size / 2 > 64 ? st.tx_size / 2 - 64 : 0;
	if (p->chunk > PIPE_BUF_MAX)
		p->chunk = PIPE_BUF_MAX;
	/* hv_sock takes no packet above its MTU (it fails the socket). */
	if (o->vmpipe && p->chunk > VMBUS_HVSOCK_MTU)
		p->chunk = VMBUS_HVSOCK_MTU;
	if (p->chunk < 64) {
		rc = -EINVAL;
		goto fail;
	}
	if (o->sock_given) {
		/* Connected already (hv_sock): the pipe owns it from here. */
		p->sock = o->sock_fd;
		o->sock_given = false;
		rc = 0;
	} else {
		p->sock = socket(AF_UNIX, (o->message_mode ? SOCK_SEQPACKET :
					   SOCK_STREAM) | SOCK_CLOEXEC |
				 SOCK_NONBLOCK, 0);
		rc = p->sock < 0 ? -errno : pipe_connect(p);
	}
	if (rc == -EAGAIN) {
		/* The service is busy: try again from the event loop. */
		p->connecting = true;
		p->retry_ms = PIPE_RETRY_MIN_MS;
		p->retry_fd = timerfd_create(CLOCK_MONOTONIC,
					     TFD_CLOEXEC | TFD_NONBLOCK);
		rc = p->retry_fd < 0 ? -errno : pipe_retry_arm(p);
		if (!rc)
			rc = vd_epoll_add(p->retry_fd, EPOLLIN, &p->wretry);
	}
	if (rc) {
		dlog(LOG_WARNING, "domain %u pipe \"%s\": failed to connect "
		       "to \"%s\" (%s)", o->guest->domid, o->name, o->service,
		       strerror(-rc));
		goto fail;
	}
	rc = vd_epoll_add(vmbus_chan_fd(chan), EPOLLIN, &p->wchan);
	if (!rc && !p->connecting)
		rc = vd_epoll_add(p->sock, EPOLLIN, &p->wsock);
	if (rc)
		goto fail;
	o->pipe = p;
	if (p->connecting) {
		dlog(LOG_INFO, "domain %u pipe \"%s\" (channel %u): \"%s\" is "
		       "busy, connecting in the background", o->guest->domid,
		       o->name, vmbus_chan_relid(chan), o->service);
		return 0;
	}
	p->sock_events = EPOLLIN;
	pipe_log_connected(p);
	pipe_pump(p);
	return 0;
fail:
	vd_epoll_del(vmbus_chan_fd(chan));
	if (p->retry_fd >= 0) {
		vd_epoll_del(p->retry_fd);
		close(p->retry_fd);
	}
	if (p->sock >= 0)
		close(p->sock);
	pipe_free(p);
	return rc;
}

void vd_pipe_close(struct vd_pipe *p)
{
	dlog(LOG_INFO, "domain %u pipe \"%s\" closed (%llu bytes to the "
	       "service, %llu from it)", p->offer->guest->domid,
	       p->offer->name, (unsigned long long)p->to_service,
	       (unsigned long long)p->from_service);
	vd_epoll_del(vmbus_chan_fd(p->chan));
	if (p->retry_fd >= 0) {
		vd_epoll_del(p->retry_fd);
		close(p->retry_fd);
		p->retry_fd = -1;
	}
	if (p->throttle_fd >= 0) {
		vd_epoll_del(p->throttle_fd);
		close(p->throttle_fd);
		p->throttle_fd = -1;
	}
	if (p->sock >= 0) {
		if (!p->sock_gone && !p->connecting)
			vd_epoll_del(p->sock);
		close(p->sock);
		p->sock = -1;
	}
	p->offer->pipe = NULL;
	if (p->busy) {
		struct vd_pipe **pp;

		for (pp = &pipes_busy; *pp && *pp != p; pp = &(*pp)->next_busy)
			;
		if (*pp)
			*pp = p->next_busy;
		p->busy = false;
	}
	/* Events of this batch may still name it: freed after the batch. */
	p->dead = true;
	p->chan = NULL;
	p->offer = NULL;
	p->next_dead = pipes_dead;
	pipes_dead = p;
}

/* --- the pipe service's row in the registry --- */

/* An entry {name, service, mode, instance}; the service is written last. */
static int pipe_make(struct vd_offer *o, const char *dir)
{
	struct vmbus_offer_desc d;
	struct vd_guest *g = o->guest;
	char *name, *service, *mode, *inst;
	int rc = -EINVAL;

	name = vd_xs_read(dir, "name");
	service = vd_xs_read(dir, "service");
	mode = vd_xs_read(dir, "mode");
	inst = vd_xs_read(dir, "instance");
	if (!name || !service || !name[0] ||
	    strlen(name) > VMBUS_PIPE_NAME_MAX ||
	    strlen(service) >= sizeof(o->service))
		goto out;
	strcpy(o->name, name);
	strcpy(o->service, service);
	o->message_mode = mode && strcmp(mode, "message") == 0;
	vd_pipe_desc(&d, o, o);
	if (!inst || vmbus_guid_parse(inst, d.instance) < 0) {
		/* A stable instance per guest and key. */
		memset(d.instance, 0, sizeof(d.instance));
		d.instance[0] = (uint8_t)g->domid;
		d.instance[1] = (uint8_t)(g->domid >> 8);
		/* As snprintf of 12 bytes did: at most 11 and a NUL. */
		memcpy(d.instance + 4, o->key, strnlen(o->key, 11));
	}
	rc = vmbus_server_offer(g->srv, &d, &o->relid);
	if (rc) {
		dlog(LOG_ERR, "domain %u: failed to offer pipe \"%s\" (%s)",
		       g->domid, name, strerror(-rc));
		goto out;
	}
	dlog(LOG_INFO, "domain %u: offered pipe \"%s\" (%s mode, channel "
	       "%u) -> \"%s\"", g->domid, name,
	       o->message_mode ? "message" : "byte", o->relid, service);
out:
	free(name);
	free(service);
	free(mode);
	free(inst);
	return rc;
}

static void pipe_close_cb(struct vd_offer *o, struct vmbus_chan *chan)
{
	(void)chan;
	if (o->pipe)
		vd_pipe_close(o->pipe);
}

static void pipe_drop(struct vd_offer *o)
{
	pipe_close_cb(o, NULL);
}

static int pipe_state(struct vd_offer *o, char *val, size_t len)
{
	char name[3 * VMBUS_PIPE_NAME_MAX + 1], svc[3 * sizeof(o->service)];
	struct vmbus_chan_stats st;
	struct vd_pipe *p = o->pipe;

	vd_escape(o->name, name, sizeof(name));
	vd_escape(o->service, svc, sizeof(svc));
	if (!p)
		return snprintf(val, len, "state=offered name=%s mode=%s "
				"service=%s", name,
				o->message_mode ? "message" : "byte", svc);
	vmbus_chan_get_stats(p->chan, &st);
	return snprintf(val, len,
		"state=open name=%s mode=%s service=%s "
		"tx_write=%u tx_read=%u tx_used=%u tx_size=%u "
		"rx_write=%u rx_read=%u rx_used=%u rx_size=%u "
		"tx_packets=%llu rx_packets=%llu tx_bytes=%llu "
		"rx_bytes=%llu tx_signals=%llu rx_signals=%llu "
		"tx_full=%llu errors=%llu busy_turns=%llu "
		"throttles=%llu",
		name, o->message_mode ? "message" : "byte",
		svc, st.tx_write_index, st.tx_read_index,
		st.tx_used, st.tx_size, st.rx_write_index,
		st.rx_read_index, st.rx_used, st.rx_size,
		(unsigned long long)st.tx_packets,
		(unsigned long long)st.rx_packets,
		(unsigned long long)st.tx_bytes,
		(unsigned long long)st.rx_bytes,
		(unsigned long long)st.tx_signals,
		(unsigned long long)st.rx_signals,
		(unsigned long long)st.tx_full,
		(unsigned long long)(st.errors + p->errors +
				     (st.error ? 1 : 0)),
		(unsigned long long)p->busy_turns,
		(unsigned long long)p->throttles);
}

static struct vd_loop_hook pipe_hook = {
	.busy = vd_pipe_busy,
	.turn = vd_pipe_run_busy,
	.reap = vd_pipe_reap,
};

static int pipe_start(void)
{
	vd_loop_hook_add(&pipe_hook);
	return 0;
}

const struct vd_service vd_pipe_service = {
	.kind = "pipe",
	.noun = "pipe",
	.last_key = "service",
	.start = pipe_start,
	.make = pipe_make,
	.open = vd_pipe_open,
	.close = pipe_close_cb,
	.drop = pipe_drop,
	.state = pipe_state,
};
