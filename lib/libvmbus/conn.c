/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The connection to the other end of a bus: its event channel, the control
 * ring with one channel message per in-band packet, the queue of messages
 * waiting for room, the pump that waits for the bus, and the dispatch of
 * what arrives through the handler table its owner (client.c, server.c)
 * hands in.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

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

/* --- the connection --- */

void vmbus_conn_init(struct vmbus_conn *cn, const struct vmbus_conn_ops *ops,
		     void *owner, int fd)
{
	memset(cn, 0, sizeof(*cn));
	vmbus_evt_init(&cn->evt);
	vmbus_ctlq_init(&cn->txq);
	cn->ops = ops;
	cn->owner = owner;
	cn->fd = fd;
}

int vmbus_conn_send(struct vmbus_conn *cn, struct vmbus_msg *m)
{
	int rc = vmbus_ctlq_send(&cn->ring, &cn->txq, m, cn->ops->txq_max);

	if (cn->txq.len > cn->txq_peak)
		cn->txq_peak = cn->txq.len;
	if (rc < 0 && cn->ops->send_failed)
		cn->ops->send_failed(cn->owner, m, rc);
	return rc;
}

int vmbus_conn_flush(struct vmbus_conn *cn)
{
	return vmbus_ctlq_flush(&cn->ring, &cn->txq);
}

int vmbus_conn_send_up(struct vmbus_conn *cn, struct vmbus_msg *m)
{
	return cn->ops->up(cn->owner) ? vmbus_conn_send(cn, m) : -ENOTCONN;
}

static int conn_run(struct vmbus_conn *cn, const struct vmbus_conn_row *row,
		    const struct vmbus_msg *m)
{
	if (row->fn)
		return row->fn(cn->owner, m);
	*(bool *)((char *)cn->owner + row->wake - 1) = true;
	return 0;
}

int vmbus_conn_dispatch(struct vmbus_conn *cn, unsigned int *budget)
{
	const struct vmbus_conn_ops *ops = cn->ops;
	const struct vmbus_conn_row *row;
	unsigned int dropped = 0, oversized = 0;
	struct vmbus_msg m;
	int rc, n = 0;
	uint32_t t;

	for (;;) {
		rc = vmbus_ctl_recv_budget(&cn->ring, &m, ops->dir,
					   ops->dropped ? &dropped : NULL,
					   ops->dropped ? &oversized : NULL,
					   budget);
		if (dropped || oversized) {
			ops->dropped(cn->owner, dropped, oversized);
			dropped = oversized = 0;
		}
		if (rc <= 0)
			return rc < 0 ? rc : n;
		cn->received++;
		t = m.u.hdr.msgtype;
		row = t < VMBUS_MSG_COUNT ? &ops->rows[t] : NULL;
		if (!row || (!row->fn && !row->wake) ||
		    (ops->admit && !ops->admit(cn->owner, row))) {
			ops->unexpected(cn->owner, t);
			continue;
		}
		ops->done(cn->owner, row, &m, conn_run(cn, row, &m));
		n++;
		if (ops->hold_while_queued && cn->txq.len)
			return n;
	}
}

int vmbus_conn_pump(struct vmbus_conn *cn, int64_t deadline)
{
	int rc = vmbus_poll_fd(cn->fd, vmbus_left_ms(deadline));

	if (rc < 0)
		return rc;
	cn->ops->work(cn->owner);
	if (deadline >= 0 && vmbus_now_ms() >= deadline)
		return -ETIMEDOUT;
	return 0;
}

int vmbus_conn_pump_up(struct vmbus_conn *cn, int64_t deadline)
{
	return cn->ops->up(cn->owner) ? vmbus_conn_pump(cn, deadline) : -ENOTCONN;
}
