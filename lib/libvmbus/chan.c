/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The channel object and its data path, the same at both ends: packets
 * over the core ring (lib/vmbus), signalled through the channel's own event
 * channel (conn.c).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

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

int vmbus_chan_peer(const struct vmbus_chan *c)
{
	return (int)c->peer_domid;
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
