/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The channel data path, the same at both ends: packets over the core ring
 * (lib/vmbus), signalling through one event channel per channel, and the
 * control-message framing (one channel message per in-band packet).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>

#include "private.h"

/* --- logging --- */

static vmbus_log_fn *log_fn;
static void *log_arg;

void vmbus_set_log(vmbus_log_fn *fn, void *arg)
{
	log_fn = fn;
	log_arg = arg;
}

void vmbus_log(int prio, const char *fmt, ...)
{
	/* Callers log a failure, then return -errno: keep it for them. */
	int saved = errno;
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_fn)
		log_fn(prio, buf, log_arg);
	else
		fprintf(stderr, "libvmbus: %s\n", buf);
	errno = saved;
}

/* --- GUIDs --- */

int vmbus_guid_parse(const char *s, uint8_t guid[16])
{
	unsigned int i = 0;
	const char *p;

	for (p = s; *p && i < 32; p++) {
		int v;

		if (*p == '-' && (p - s == 8 || p - s == 13 || p - s == 18 ||
				  p - s == 23))
			continue;
		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			v = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			v = *p - 'A' + 10;
		else
			return -EINVAL;
		if (i % 2 == 0)
			guid[i / 2] = (uint8_t)(v << 4);
		else
			guid[i / 2] |= (uint8_t)v;
		i++;
	}
	return (i == 32 && *p == '\0' && p - s == 36) ? 0 : -EINVAL;
}

void vmbus_guid_format(const uint8_t g[16], char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9],
		 g[10], g[11], g[12], g[13], g[14], g[15]);
}

/* --- time --- */

static int64_t sys_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sys_timer_open(void)
{
	return timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
}

static int sys_timer_set(int fd, int ms)
{
	struct itimerspec its = { { 0, 0 }, { ms / 1000,
					      (long)(ms % 1000) * 1000000L } };

	return timerfd_settime(fd, 0, &its, NULL);
}

static const struct vmbus_time_ops sys_time = {
	.now_ms = sys_now_ms,
	.poll = poll,
	.timer_open = sys_timer_open,
	.timer_set = sys_timer_set,
};

const struct vmbus_time_ops *vmbus_time = &sys_time;

int64_t vmbus_now_ms(void)
{
	return vmbus_time->now_ms();
}

int vmbus_left_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - vmbus_now_ms();
	return left < 0 ? 0 : (int)left;
}

int vmbus_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	int rc = vmbus_time->poll(fds, n, timeout_ms);

	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	return rc;
}

int vmbus_timer_open(void)
{
	int fd = vmbus_time->timer_open();

	return fd < 0 ? -errno : fd;
}

int vmbus_timer_set(int fd, int ms)
{
	return vmbus_time->timer_set(fd, ms) < 0 ? -errno : 0;
}

int vmbus_poll_fd(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return vmbus_poll(&p, 1, timeout_ms);
}

/* --- event channels --- */

void vmbus_evt_init(struct vmbus_evt *e)
{
	e->xce = NULL;
	e->local = -1;
}

int vmbus_evt_open(struct vmbus_evt *e)
{
	e->xce = xenevtchn_open(NULL, 0);
	if (!e->xce) {
		int err = errno ? errno : EIO;

		vmbus_log(LOG_ERR, "failed to open event channel device (%s)",
			  strerror(err));
		return -err;
	}
	return 0;
}

void vmbus_evt_close(struct vmbus_evt *e)
{
	if (!e->xce)
		return;
	if (e->local >= 0)
		xenevtchn_unbind(e->xce, (evtchn_port_t)e->local);
	xenevtchn_close(e->xce);
	vmbus_evt_init(e);
}

/* The core's signal callback. */
void vmbus_evt_signal(void *arg)
{
	struct vmbus_evt *e = arg;

	if (e->xce && e->local >= 0)
		xenevtchn_notify(e->xce, (evtchn_port_t)e->local);
}

/*
 * Take the pending port and unmask it /before/ the caller drains the ring,
 * so that a signal sent while draining is not lost.
 *
 * A handle here binds one port, which stays masked from delivery to
 * unmask: one pass takes what is pending.  A peer that notifies in a loop
 * makes the fd readable again at once; that is for the next turn of the
 * caller's event loop (the fd stays readable), not for a loop here, which
 * would never end while the peer goes on.
 */
#define VMBUS_EVT_ACK_MAX	4

int vmbus_evt_ack(struct vmbus_evt *e)
{
	xenevtchn_port_or_error_t p;
	int n = 0;

	if (!e->xce)
		return -ENOTCONN;
	while (n < VMBUS_EVT_ACK_MAX &&
	       vmbus_poll_fd(xenevtchn_fd(e->xce), 0) > 0) {
		p = xenevtchn_pending(e->xce);
		if (p < 0)
			break;
		xenevtchn_unmask(e->xce, (evtchn_port_t)p);
		n++;
	}
	return n;
}

int vmbus_evt_fd(const struct vmbus_evt *e)
{
	return e->xce ? xenevtchn_fd(e->xce) : -1;
}

/* --- control messages: one message per DATA_INBAND packet --- */

static void ctl_send_failed(const struct vmbus_msg *m, int rc)
{
	vmbus_log(LOG_ERR, "failed to send %s on the control ring (%s)",
		  vmbus_msg_name(m->u.hdr.msgtype) ?: "?", strerror(-rc));
}

/* -EAGAIN (the ring is full; the peer signals when it has room) is quiet. */
int vmbus_ctl_send(struct vmbus_ring *r, struct vmbus_msg *m)
{
	uint8_t wire[VMBUS_MSG_MAX_SIZE];
	int len, rc;

	len = vmbus_msg_encode(m, wire, sizeof(wire));
	if (len < 0)
		return len;
	rc = vmbus_ring_send_inband(r, wire, (size_t)len, 0, 0);
	if (rc < 0 && rc != -EAGAIN)
		ctl_send_failed(m, rc);
	return rc;
}

/* --- control messages waiting for room in the ring --- */

struct vmbus_ctl_qmsg {
	struct vmbus_ctl_qmsg *next;
	uint32_t len;
	uint8_t wire[VMBUS_MSG_MAX_SIZE];
};

void vmbus_ctlq_init(struct vmbus_ctlq *q)
{
	q->head = NULL;
	q->tail = &q->head;
	q->len = 0;
}

void vmbus_ctlq_clear(struct vmbus_ctlq *q)
{
	struct vmbus_ctl_qmsg *e;

	while ((e = q->head) != NULL) {
		q->head = e->next;
		free(e);
	}
	vmbus_ctlq_init(q);
}

int vmbus_ctlq_flush(struct vmbus_ring *r, struct vmbus_ctlq *q)
{
	struct vmbus_ctl_qmsg *e;
	int rc = 0;

	vmbus_ring_tx_begin(r);
	while ((e = q->head) != NULL) {
		rc = vmbus_ring_send_inband(r, e->wire, e->len, 0, 0);
		if (rc < 0)
			break;
		q->head = e->next;
		if (!q->head)
			q->tail = &q->head;
		q->len--;
		free(e);
	}
	vmbus_ring_tx_commit(r);
	if (rc < 0 && rc != -EAGAIN)
		vmbus_log(LOG_ERR, "failed to send a queued control message "
			  "(%s)", strerror(-rc));
	return rc == -EAGAIN ? 0 : rc;
}

int vmbus_ctlq_send(struct vmbus_ring *r, struct vmbus_ctlq *q,
		    struct vmbus_msg *m, unsigned int max)
{
	struct vmbus_ctl_qmsg *e;
	int len, rc;

	/* In order: nothing overtakes what already waits. */
	if (!q->head) {
		rc = vmbus_ctl_send(r, m);
		if (rc != -EAGAIN)
			return rc;
	}
	if (q->len >= max) {
		ctl_send_failed(m, -ENOBUFS);
		return -ENOBUFS;
	}
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	len = vmbus_msg_encode(m, e->wire, sizeof(e->wire));
	if (len < 0) {
		free(e);
		return len;
	}
	e->len = (uint32_t)len;
	e->next = NULL;
	*q->tail = e;
	q->tail = &e->next;
	q->len++;
	return 0;
}

int vmbus_ctl_recv_budget(struct vmbus_ring *r, struct vmbus_msg *m,
			  unsigned int dir, unsigned int *dropped,
			  unsigned int *oversized, unsigned int *budget)
{
	uint64_t buf[(VMBUS_MSG_MAX_SIZE + 64) / 8];
	struct vmbus_pkt pkt;
	int rc;

	for (;;) {
		/* Every packet taken off the ring counts, dropped or not. */
		if (budget) {
			if (!*budget)
				return 0;
			--*budget;
		}
		rc = vmbus_ring_recv(r, &pkt, buf, sizeof(buf));
		if (rc == -EAGAIN)
			return 0;
		if (rc == -EMSGSIZE) {
			/*
			 * Too large to be a message: pass over it by the
			 * descriptor the peek checked, count it.
			 */
			if (oversized)
				++*oversized;
			else if (dropped)
				++*dropped;
			else
				vmbus_log(LOG_WARNING, "dropping an oversized "
					  "control packet of %u bytes", pkt.len);
			rc = vmbus_ring_skip(r);
			if (rc < 0)
				return rc;
			continue;
		}
		if (rc < 0)
			return rc;
		if (pkt.type != VMBUS_PKT_DATA_INBAND) {
			if (dropped)
				++*dropped;
			else
				vmbus_log(LOG_WARNING, "dropping a control "
					  "packet of type %u", pkt.type);
			continue;
		}
		/* pkt.data points into our private copy: decode checks it. */
		rc = vmbus_msg_decode(m, pkt.data, pkt.data_len, dir);
		if (rc < 0) {
			if (dropped)
				++*dropped;
			else
				vmbus_log(LOG_WARNING, "dropping a malformed "
					  "control message (%s)", strerror(-rc));
			continue;
		}
		return 1;
	}
}

int vmbus_ctl_recv_quiet(struct vmbus_ring *r, struct vmbus_msg *m,
			 unsigned int dir, unsigned int *dropped)
{
	return vmbus_ctl_recv_budget(r, m, dir, dropped, NULL, NULL);
}

int vmbus_ctl_recv(struct vmbus_ring *r, struct vmbus_msg *m, unsigned int dir)
{
	return vmbus_ctl_recv_quiet(r, m, dir, NULL);
}

/* --- channels --- */

struct vmbus_chan *vmbus_chan_alloc(void)
{
	struct vmbus_chan *c = calloc(1, sizeof(*c));

	if (c)
		vmbus_evt_init(&c->evt);
	return c;
}

void vmbus_chan_free(struct vmbus_chan *c)
{
	if (!c)
		return;
	vmbus_xfer_release(c);
	vmbus_evt_close(&c->evt);
	free(c->ring_refs);
	free(c);
}

uint32_t vmbus_chan_relid(const struct vmbus_chan *c)
{
	return c->relid;
}

uint32_t vmbus_chan_version(const struct vmbus_chan *c)
{
	return c->version;
}

int vmbus_chan_fd(const struct vmbus_chan *c)
{
	return vmbus_evt_fd(&c->evt);
}

int vmbus_chan_ack(struct vmbus_chan *c)
{
	return vmbus_evt_ack(&c->evt);
}

bool vmbus_chan_ended(const struct vmbus_chan *c)
{
	/* The opener's own page; the acceptor's kernel clears the byte. */
	return c->rescinded ||
	       (c->peer_armed &&
		!__atomic_load_n((const uint8_t *)c->mem +
				 VMBUS_RING_PEER_ALIVE, __ATOMIC_ACQUIRE));
}

bool vmbus_chan_is_closed(const struct vmbus_chan *c)
{
	return vmbus_chan_ended(c) ||
	       (c->state != CHAN_OPEN && c->state != CHAN_REOPENING);
}

int vmbus_chan_status(const struct vmbus_chan *c)
{
	if (vmbus_chan_ended(c))
		return -ENOTCONN;
	switch (c->state) {
	case CHAN_OPEN:
		return 0;
	case CHAN_OPENING:
	case CHAN_REOPENING:
		return -EINPROGRESS;
	default:
		return -ENOTCONN;
	}
}

uint32_t vmbus_chan_reopens(const struct vmbus_chan *c)
{
	return c->reopens;
}

/* Re-opening: the rings are not the peer's yet, and will be empty. */
static int chan_usable(const struct vmbus_chan *c)
{
	if (c->state == CHAN_REOPENING)
		return -EAGAIN;
	if (c->state != CHAN_OPEN)
		return -ENOTCONN;
	return 0;
}

int vmbus_chan_send_raw(struct vmbus_chan *c, uint16_t type, uint16_t flags,
			uint64_t trans_id, const void *thdr, size_t thdr_len,
			const void *data, size_t len)
{
	int rc = chan_usable(c);

	if (rc)
		return rc;
	if (vmbus_chan_ended(c))
		return -ENOTCONN;
	return vmbus_ring_send(&c->ring, type, flags, trans_id, thdr,
			       thdr_len, data, len);
}

int vmbus_chan_send(struct vmbus_chan *c, const void *data, size_t len,
		    uint64_t trans_id, uint16_t flags)
{
	int rc = chan_usable(c);

	if (rc)
		return rc;
	if (vmbus_chan_ended(c))
		return -ENOTCONN;
	return vmbus_ring_send_inband(&c->ring, data, len, trans_id, flags);
}

int vmbus_chan_send_comp(struct vmbus_chan *c, uint64_t trans_id,
			 const void *data, size_t len)
{
	int rc = chan_usable(c);

	if (rc)
		return rc;
	return vmbus_ring_send_comp(&c->ring, trans_id, data, len);
}

void vmbus_chan_batch_begin(struct vmbus_chan *c)
{
	vmbus_ring_tx_begin(&c->ring);
}

int vmbus_chan_batch_commit(struct vmbus_chan *c)
{
	return vmbus_ring_tx_commit(&c->ring);
}

int64_t vmbus_chan_tx_space(struct vmbus_chan *c)
{
	int rc = chan_usable(c);

	return rc ? rc : vmbus_ring_tx_space(&c->ring);
}

int vmbus_chan_recv(struct vmbus_chan *c, struct vmbus_packet *out,
		    void *buf, size_t buflen)
{
	struct vmbus_pkt pkt;
	int rc = chan_usable(c);

	if (rc)
		return rc;
	rc = vmbus_ring_recv(&c->ring, &pkt, buf, buflen);
	if (rc == -EMSGSIZE)
		out->len = pkt.buf_len;
	if (rc == -EAGAIN && vmbus_chan_ended(c))
		return -ENOTCONN;	/* drained, and nothing more will come */
	if (rc < 0)
		return rc;
	out->type = pkt.type;
	out->flags = pkt.flags;
	out->trans_id = pkt.trans_id;
	out->data = pkt.data;
	out->len = pkt.data_len;
	return 0;
}

void vmbus_chan_rx_begin(struct vmbus_chan *c)
{
	vmbus_ring_rx_begin(&c->ring);
}

int vmbus_chan_rx_commit(struct vmbus_chan *c)
{
	return vmbus_ring_rx_commit(&c->ring);
}

void vmbus_chan_get_stats(const struct vmbus_chan *c,
			  struct vmbus_chan_stats *st)
{
	struct vmbus_ring_stats rs;

	memset(st, 0, sizeof(*st));
	st->relid = c->relid;
	if (c->state != CHAN_OPEN && !c->mem)
		return;
	vmbus_ring_get_stats(&c->ring, &rs);
	st->tx_size = rs.tx_size;
	st->tx_write_index = rs.tx_write_index;
	st->tx_read_index = rs.tx_read_index;
	st->tx_used = rs.tx_used;
	st->rx_size = rs.rx_size;
	st->rx_write_index = rs.rx_write_index;
	st->rx_read_index = rs.rx_read_index;
	st->rx_used = rs.rx_used;
	st->tx_interrupt_mask = rs.tx_interrupt_mask;
	st->rx_interrupt_mask = rs.rx_interrupt_mask;
	st->tx_packets = rs.tx_packets;
	st->tx_bytes = rs.tx_bytes;
	st->tx_signals = rs.tx_signals;
	st->tx_full = rs.tx_full;
	st->rx_packets = rs.rx_packets;
	st->rx_bytes = rs.rx_bytes;
	st->rx_signals = rs.rx_signals;
	st->errors = rs.errors;
	st->error = rs.error;
}

void vmbus_chan_set_data(struct vmbus_chan *c, void *data)
{
	c->user = data;
}

void *vmbus_chan_get_data(const struct vmbus_chan *c)
{
	return c->user;
}
