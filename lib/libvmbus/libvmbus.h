/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvmbus: VMBus channels over Xen grants and event channels, for user-mode
 * programs at both ends.
 *
 *  - A client (a program in a guest) opens the bus: it grants a control ring
 *    pair, allocates an event channel, publishes them under device/vmbus/0,
 *    runs the XenbusState handshake with the backend, negotiates the bus
 *    version and receives the offers.  It then opens offered channels; each
 *    channel is two rings in pages the client grants, described to the
 *    server by a GPADL of grant references, plus one event channel.
 *  - A server (the dom0 bus daemon) serves one guest's bus: it maps the
 *    control ring, answers negotiation, sends offers, accepts OPENCHANNEL by
 *    mapping the GPADL's grants and binding the event channel, and hands the
 *    channel to a handler.
 *  - Channels are the same object at both ends: send and receive packets,
 *    complete requests, batch, and wait or integrate with poll/epoll through
 *    a file descriptor.
 *
 * Nothing here uses threads or signals.  Every call returns 0 (or a count)
 * on success and a negative errno value on failure:
 *   -EAGAIN     nothing to read / no space yet; wait on the fd and retry
 *   -ETIMEDOUT  the peer did not answer in time
 *   -ENOTCONN   the channel was rescinded or the bus went away
 *   -EPROTO     the peer broke the protocol
 *   -EMSGSIZE   a packet does not fit the caller's buffer (len says how much)
 * Diagnostics go to a log callback (vmbus_set_log), stderr by default.
 */
#ifndef XENVMBUS_LIBVMBUS_H
#define XENVMBUS_LIBVMBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vmbus_bus;	/* client: one guest's view of its bus */
struct vmbus_server;	/* server: one guest's bus as served from dom0 */
struct vmbus_chan;	/* an open channel, either end */

/* Device class of pipes (byte and message mode), as a GUID string. */
#define VMBUS_PIPE_CLASS_GUID	"6d8e0d2a-96c3-4e58-9d5f-3b2a5e7c1f01"
/* Device class version of pipes. */
#define VMBUS_PIPE_VERSION_1_0	((1u << 16) | 0u)

/* Offer flags (as VMBus channel_flags). */
#define VMBUS_OFFER_FLAG_NAMED_PIPE	0x10
/* Pipe modes (first 4 bytes of the offer's user data, little endian). */
#define VMBUS_PIPE_MODE_BYTE		0x0
#define VMBUS_PIPE_MODE_MESSAGE		0x4
/* Pipe name (NUL-terminated) in the offer's user data after the mode. */
#define VMBUS_PIPE_NAME_OFFSET		4
#define VMBUS_PIPE_NAME_MAX		(120 - VMBUS_PIPE_NAME_OFFSET - 1)

/* An offer, as the client sees it. */
struct vmbus_offer {
	uint32_t relid;			/* names the channel on this bus */
	uint8_t type[16];		/* device class GUID */
	uint8_t instance[16];		/* device instance GUID */
	uint16_t flags;			/* VMBUS_OFFER_FLAG_* */
	uint16_t nversions;
	uint32_t versions[8];		/* class versions, preferred first */
	uint8_t user_data[120];
	bool rescinded;
};

/* An offer, as the server makes it. */
struct vmbus_offer_desc {
	uint8_t type[16];
	uint8_t instance[16];
	uint16_t flags;
	uint16_t nversions;		/* 1..8 */
	uint32_t versions[8];
	uint8_t user_data[120];
	void *cookie;			/* handed back to the open handler */
};

/* A received packet; data points into the caller's buffer. */
struct vmbus_packet {
	uint16_t type;			/* VMBUS_PKT_* of <xenvmbus/ring.h> */
	uint16_t flags;			/* 1 = sender requests a completion */
	uint64_t trans_id;
	const void *data;		/* payload after the type header */
	uint32_t len;			/* payload bytes */
};

/* Live state of a channel, for administrators. */
struct vmbus_chan_stats {
	uint32_t relid;
	uint32_t tx_size, tx_write_index, tx_read_index, tx_used;
	uint32_t rx_size, rx_write_index, rx_read_index, rx_used;
	uint32_t tx_interrupt_mask, rx_interrupt_mask;
	uint64_t tx_packets, tx_bytes, tx_signals, tx_full;
	uint64_t rx_packets, rx_bytes, rx_signals, errors;
	int error;			/* sticky ring error, 0 if healthy */
};

/* --- utilities --- */

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" <-> 16 bytes (RFC 4122 order). */
int vmbus_guid_parse(const char *s, uint8_t guid[16]);
void vmbus_guid_format(const uint8_t guid[16], char out[37]);

/* Log sink: @prio is a syslog priority.  NULL restores stderr. */
typedef void vmbus_log_fn(int prio, const char *msg, void *arg);
void vmbus_set_log(vmbus_log_fn *fn, void *arg);

/* --- client (guest) --- */

/*
 * Open the bus at device/vmbus/0: handshake, version negotiation and
 * REQUESTOFFERS; returns once ALLOFFERS_DELIVERED arrived or @timeout_ms
 * (-1: no limit) expired.
 */
int vmbus_bus_open(struct vmbus_bus **bus, int timeout_ms);
/* Close every channel, UNLOAD, and take the frontend to Closed. */
void vmbus_bus_close(struct vmbus_bus *bus);
/* Bus protocol version agreed with the server. */
uint32_t vmbus_bus_version(const struct vmbus_bus *bus);
/* Becomes readable when channel messages (offers, rescinds) arrive. */
int vmbus_bus_fd(const struct vmbus_bus *bus);
/* Handle what arrived; never blocks.  Returns messages handled or -errno. */
int vmbus_bus_process(struct vmbus_bus *bus);
/* Block up to @timeout_ms for messages, then process them. */
int vmbus_bus_wait(struct vmbus_bus *bus, int timeout_ms);
/* Copy up to @max current offers (rescinded ones excluded); returns count. */
int vmbus_bus_offers(const struct vmbus_bus *bus, struct vmbus_offer *out,
		     unsigned int max);
/* The pipe offer named @name, 0 or -ENOENT. */
int vmbus_bus_find_pipe(const struct vmbus_bus *bus, const char *name,
			struct vmbus_offer *out);
/* Called for each new offer and each rescind, from process/wait. */
typedef void vmbus_offer_fn(struct vmbus_bus *bus,
			    const struct vmbus_offer *offer, void *arg);
void vmbus_bus_set_offer_cb(struct vmbus_bus *bus, vmbus_offer_fn *fn,
			    void *arg);

/*
 * Open offered channel @relid with rings of @ring_pages pages per direction
 * (header page included, >= 2), choosing the best class version offered
 * that has major @class_major.  Blocks until OPENCHANNEL_RESULT.
 */
int vmbus_chan_open(struct vmbus_bus *bus, uint32_t relid,
		    uint32_t ring_pages, uint16_t class_major, int timeout_ms,
		    struct vmbus_chan **chan);

/* --- server (dom0) --- */

struct vmbus_server_ops {
	/*
	 * A guest opened an offer: return 0 to accept (the channel is usable
	 * now and until close is called) or -errno to refuse.
	 */
	int (*open)(struct vmbus_server *srv, struct vmbus_chan *chan,
		    void *cookie, void *arg);
	/* The channel is going away (guest close, rescind, guest gone). */
	void (*close)(struct vmbus_server *srv, struct vmbus_chan *chan,
		      void *cookie, void *arg);
};

/* Serve the bus of guest @domid at backend/vmbus/<domid>/0. */
int vmbus_server_create(struct vmbus_server **srv, unsigned int domid,
			const struct vmbus_server_ops *ops, void *arg);
/* Close every channel, unmap everything, take the backend to Closed. */
void vmbus_server_destroy(struct vmbus_server *srv);
/* Readable when xenstore or the control ring needs attention. */
int vmbus_server_fd(const struct vmbus_server *srv);
/* Handle what arrived; never blocks.  0 or -errno. */
int vmbus_server_process(struct vmbus_server *srv);
/* Add an offer; sent at once if the guest already asked for offers. */
int vmbus_server_offer(struct vmbus_server *srv,
		       const struct vmbus_offer_desc *offer, uint32_t *relid);
/* Rescind an offer (closing its channel if open). */
int vmbus_server_rescind(struct vmbus_server *srv, uint32_t relid);
unsigned int vmbus_server_domid(const struct vmbus_server *srv);
/* "InitWait", "Connected", ...: the XenbusState of the backend. */
const char *vmbus_server_state(const struct vmbus_server *srv);
/* Call @fn for every open channel (for publishing live state). */
void vmbus_server_foreach_chan(struct vmbus_server *srv,
			       void (*fn)(struct vmbus_chan *chan, void *arg),
			       void *arg);

/* --- channels (both ends) --- */

/* Client: CLOSECHANNEL, GPADL_TEARDOWN, release.  Frees @chan. */
int vmbus_chan_close(struct vmbus_chan *chan);
uint32_t vmbus_chan_relid(const struct vmbus_chan *chan);
/* Class version agreed at open. */
uint32_t vmbus_chan_version(const struct vmbus_chan *chan);
/* Readable when the peer signalled (data arrived or space was freed). */
int vmbus_chan_fd(const struct vmbus_chan *chan);
/* Acknowledge a readiness of the fd; call before draining. */
int vmbus_chan_ack(struct vmbus_chan *chan);
/* Block up to @timeout_ms for a signal (client: also handles bus messages). */
int vmbus_chan_wait(struct vmbus_chan *chan, int timeout_ms);
/* True once the offer was rescinded or the peer went away. */
bool vmbus_chan_is_closed(const struct vmbus_chan *chan);

/* In-band packet; @flags 1 asks the peer for a completion. */
int vmbus_chan_send(struct vmbus_chan *chan, const void *data, size_t len,
		    uint64_t trans_id, uint16_t flags);
/* Completion of request @trans_id. */
int vmbus_chan_send_comp(struct vmbus_chan *chan, uint64_t trans_id,
			 const void *data, size_t len);
/* Any packet type: descriptor + type header + payload. */
int vmbus_chan_send_raw(struct vmbus_chan *chan, uint16_t type,
			uint16_t flags, uint64_t trans_id, const void *thdr,
			size_t thdr_len, const void *data, size_t len);
/* Batching: packets between begin and commit are signalled once. */
void vmbus_chan_batch_begin(struct vmbus_chan *chan);
int vmbus_chan_batch_commit(struct vmbus_chan *chan);
/* Bytes a send may use now. */
int64_t vmbus_chan_tx_space(struct vmbus_chan *chan);

/* Receive the next packet into @buf; -EAGAIN if none. */
int vmbus_chan_recv(struct vmbus_chan *chan, struct vmbus_packet *pkt,
		    void *buf, size_t buflen);
/* Receive batching: read_index is published once, at commit. */
void vmbus_chan_rx_begin(struct vmbus_chan *chan);
int vmbus_chan_rx_commit(struct vmbus_chan *chan);

void vmbus_chan_get_stats(const struct vmbus_chan *chan,
			  struct vmbus_chan_stats *st);
void vmbus_chan_set_data(struct vmbus_chan *chan, void *data);
void *vmbus_chan_get_data(const struct vmbus_chan *chan);

#ifdef __cplusplus
}
#endif

#endif /* XENVMBUS_LIBVMBUS_H */
