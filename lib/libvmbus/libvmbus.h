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
/*
 * The service uses data GPADLs and transfer page sets (Hyper-V's
 * SERVER_SUPPORTS_GPADLS).  Without it the server takes one GPADL per
 * offer, the channel's rings, and refuses any other.
 */
#define VMBUS_OFFER_FLAG_GPADLS		0x4
#define VMBUS_OFFER_FLAG_NAMED_PIPE	0x10
/*
 * The service keeps no state per connection (an echo, a device whose every
 * request stands alone): a client channel of it whose bus goes away is
 * opened again by the library when the next server offers the same type
 * and instance, if its application asked (vmbus_chan_set_reopen).  Not a
 * VMBus channel flag: the library carries it in this protocol's own field
 * of the offer (<xenvmbus/msg.h> VMBUS_OFFER_X_REOPEN).  A server refuses
 * it on a pipe (-EINVAL): a pipe's connection to its service ends with the
 * server.  (VMBUS_1.3)
 */
#define VMBUS_OFFER_FLAG_REOPEN		0x8000
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

/*
 * "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" <-> the 16 bytes the bus carries,
 * in Hyper-V's (and Linux guid_t's) order: the first three fields
 * little-endian, the last eight bytes as written.  0 or -EINVAL.
 */
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
/* Bus protocol version agreed with the server (0 while reconnecting). */
uint32_t vmbus_bus_version(const struct vmbus_bus *bus);
/*
 * Becomes readable when channel messages (offers, rescinds) arrive and
 * when the backend's state changes or its process ends.
 */
int vmbus_bus_fd(const struct vmbus_bus *bus);
/*
 * Handle what arrived; never blocks.  Returns messages handled or -errno;
 * -ENOTCONN while the bus is not connected.
 *
 * When the backend goes away (its state leaves Connected, or its process
 * dies: the liveness page of <xenvmbus/xenstore.h> says so), every open
 * channel fails: sends and receives return -ENOTCONN, vmbus_chan_wait too,
 * and vmbus_chan_is_closed is true; the owner closes it as usual.  Every
 * offer is rescinded (the offer callback sees it).  The bus then connects
 * again by itself as soon as a backend is there, and the offers it makes
 * arrive as new ones; the application opens its channels again, except
 * those the library re-opens (vmbus_chan_set_reopen).  After a few failed
 * attempts in a row it gives up, and a bus detached by the toolstack (its
 * frontend directory removed) stays down.
 */
int vmbus_bus_process(struct vmbus_bus *bus);
/* True while connected; false while reconnecting or after giving up. */
bool vmbus_bus_connected(const struct vmbus_bus *bus);
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

/*
 * --- re-opening channels after a reconnect (VMBUS_1.3) ---
 *
 * When the backend goes away and a new one comes (a restarted daemon), the
 * bus reconnects by itself (vmbus_bus_process).  A channel whose offer has
 * VMBUS_OFFER_FLAG_REOPEN and whose application asked for it here is then
 * opened again by the library, as Linux re-opens its channels when the
 * host makes its offers again after a hibernation: once the new server's
 * offers are in, it looks for the offer of the same interface type and
 * instance GUID (its relid may differ: vmbus_chan_relid says the new one),
 * shares the same ring pages again in a new GPADL, allocates a new event
 * channel on the same handle (vmbus_chan_fd does not change), starts both
 * rings empty and sends OPENCHANNEL with the class version chosen at the
 * first open.  None of this blocks: it advances in vmbus_bus_process (and
 * vmbus_chan_wait, which processes the bus too).
 *
 * What the old connection held is gone and is not made again:
 *  - packets in either ring when the bus went away (requests sent may
 *    never be completed: cancel their transaction ids);
 *  - data GPADLs and transfer page sets: the server that had them is gone.
 *    The handles stay the application's to destroy (vmbus_gpadl_destroy
 *    then sends nothing; vmbus_chan_send_gpa naming one says -ENOENT,
 *    vmbus_chan_send_xfer naming a set too); create new ones once
 *    re-opened.
 *
 * Meanwhile sends and receives return -EAGAIN, vmbus_chan_is_closed is
 * false and vmbus_chan_status says -EINPROGRESS.  The channel gives up,
 * and from then on fails with -ENOTCONN as a channel not re-opened does,
 * when its offer does not come back within @timeout_ms of the bus going
 * away, when the offer comes back without VMBUS_OFFER_FLAG_REOPEN or
 * without the class version, when the new server refuses it, when it is
 * rescinded, or when the bus gives up.  Offers are rescinded and made
 * again as without re-open (the offer callback sees both).
 */

/*
 * What became of a channel: 0 open, -EINPROGRESS while it opens or the
 * library re-opens it, -ENOTCONN once it failed for good (rescinded, its
 * peer or its bus gone and not re-opened).
 */
int vmbus_chan_status(const struct vmbus_chan *chan);
/* How many times the library re-opened @chan. */
uint32_t vmbus_chan_reopens(const struct vmbus_chan *chan);
/*
 * Called from vmbus_bus_process (or a call that processes the bus) with
 * -EINPROGRESS when the bus went away and the library will try to re-open
 * @chan, 0 once it is open again, and -errno when it gave up (-ETIMEDOUT:
 * its offer did not come back in time).  @chan may be closed from here.
 */
typedef void vmbus_chan_reopen_fn(struct vmbus_chan *chan, int status,
				  void *arg);
/*
 * Client: have @chan re-opened after a reconnect, waiting up to
 * @timeout_ms (> 0) from the bus going away; 0 turns it off again.  @fn
 * (may be NULL: poll vmbus_chan_status) reports what happened.
 * -EOPNOTSUPP: the offer does not allow it (no VMBUS_OFFER_FLAG_REOPEN, a
 * pipe, a channel to another guest); -EINVAL: a server's channel or a
 * negative timeout.
 */
int vmbus_chan_set_reopen(struct vmbus_chan *chan, int timeout_ms,
			  vmbus_chan_reopen_fn *fn, void *arg);

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

/*
 * Grant mapping budgets.  Every page a server maps costs an entry of
 * dom0's grant maptrack table, which blkback, netback and QEMU share.  A
 * server maps a guest's pages only while they are used: the control rings
 * while the bus is connected, a channel's rings while it is open, a data
 * GPADL while vmbus_gpadl_map handles or a transfer page set hold it (a
 * GPADL_CREATED success says the GPADL was well formed, not that it was
 * mapped).  A mapping that would take the guest past its budget, or all
 * the guests this process serves past the host budget, is refused: the
 * guest's OPENCHANNEL fails with no resources, vmbus_gpadl_map or the
 * ADD_XFER_PAGESET with -ENOSPC.  In 4 KiB pages.
 */
#define VMBUS_SERVER_GUEST_MAPS_DEFAULT	8192u	/* 32 MiB per guest */
#define VMBUS_SERVER_HOST_MAPS_DEFAULT	32768u	/* 128 MiB in all */
/* The least either budget may be: a control ring and one channel's rings. */
#define VMBUS_SERVER_MAPS_MIN		32u

struct vmbus_server_maps {
	uint32_t mapped;		/* pages of this guest mapped now */
	uint32_t limit;			/* its budget */
	uint32_t host_mapped;		/* pages of every guest served here */
	uint32_t host_limit;
	uint32_t gpadls;		/* GPADLs the guest holds, mapped or not */
	uint64_t refused;		/* mappings refused for the budgets */
};

/* The budget of @srv's guest (default VMBUS_SERVER_GUEST_MAPS_DEFAULT);
 * -EINVAL below VMBUS_SERVER_MAPS_MIN.  Lowering it unmaps nothing. */
int vmbus_server_set_map_limit(struct vmbus_server *srv, uint32_t pages);
/* The budget of all guests this process serves (default
 * VMBUS_SERVER_HOST_MAPS_DEFAULT); -EINVAL below VMBUS_SERVER_MAPS_MIN. */
int vmbus_server_set_host_map_limit(uint32_t pages);
void vmbus_server_get_maps(const struct vmbus_server *srv,
			   struct vmbus_server_maps *maps);
/* Pages mapped by every server of this process, and the host budget. */
void vmbus_server_host_maps(uint32_t *mapped, uint32_t *limit);

/*
 * What serving one guest's bus cost so far, for the admin tool: a guest
 * that signals in a loop shows as wake-ups without frontend reads.
 */
struct vmbus_server_work {
	uint64_t wakeups;		/* vmbus_server_process calls */
	uint64_t xs_steps;		/* of them, frontend state read */
	uint64_t ctl_messages;		/* control messages handled */
	uint64_t ctl_dropped;		/* packets dropped (malformed, oversized) */
	uint64_t budget_yields;		/* turns that left work for the next */
	uint64_t throttles;		/* pauses for signals with nothing to do */
	uint32_t ctl_queued;		/* messages waiting for room now */
	uint32_t ctl_queue_peak;	/* the most that ever waited */
};
void vmbus_server_get_work(const struct vmbus_server *srv,
			   struct vmbus_server_work *work);

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
/*
 * True once the offer was rescinded or the peer went away (not while the
 * library re-opens the channel: see vmbus_chan_set_reopen).
 */
bool vmbus_chan_is_closed(const struct vmbus_chan *chan);

/* In-band packet; @flags 1 asks the peer for a completion. */
int vmbus_chan_send(struct vmbus_chan *chan, const void *data, size_t len,
		    uint64_t trans_id, uint16_t flags);
/* Completion of request @trans_id. */
int vmbus_chan_send_comp(struct vmbus_chan *chan, uint64_t trans_id,
			 const void *data, size_t len);
/*
 * Any packet type: descriptor + type header + payload.  In-band packets
 * (type 6) carry no type header: -EINVAL if @thdr_len is not 0.
 */
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

/*
 * --- data packets that name memory (VMBUS_1.1) ---
 *
 * Besides in-band packets (the payload travels in the ring), a channel
 * carries packets that point into memory the client shared beforehand, so
 * that bulk data is never copied through the ring:
 *
 *  - GPADLs.  The client creates a GPADL over a buffer of its own on an
 *    open channel: the library allocates the pages, grants them to the
 *    server's domain (read-only with VMBUS_GPADL_READONLY) and sends
 *    GPADL_HEADER/GPADL_BODY; the server checks them (each grant named
 *    once) and answers GPADL_CREATED.  Only offers made with
 *    VMBUS_OFFER_FLAG_GPADLS take data GPADLs.  A server application
 *    reaches the memory with vmbus_gpadl_map(), which maps the grants
 *    (read-write, or read-only as granted) on the first hold, and lets go
 *    with vmbus_gpadl_unmap(), the last of which unmaps them; while it
 *    holds it, a GPADL_TEARDOWN
 *    from the client is answered (GPADL_TORNDOWN) only after the last
 *    unmap, so the pages never disappear under the server.
 *    DATA_USING_GPADL packets (vmbus_chan_send_gpa) name a GPADL by id and
 *    byte ranges inside it, plus an optional in-band payload; either end
 *    may send them.
 *  - Transfer page sets.  The client announces one of its GPADLs as set
 *    @id with ADD_XFER_PAGESET (vmbus_xferset_add); the server maps it on
 *    receipt.  DATA_USING_XFER_PAGES packets (vmbus_chan_send_xfer) then
 *    name the set and ranges {byte_count, byte_offset} inside it; either
 *    end may send them (typically the server fills the client's receive
 *    pool).  RM_XFER_PAGESET (vmbus_xferset_remove) retires the set.  The
 *    sender of a packet that points into a set must not reuse those bytes
 *    before the receiver completed the packet.  At the server, a packet
 *    into a set that asks for a completion keeps the set mapped until the
 *    application completes it with vmbus_chan_complete_pkt (or
 *    vmbus_rxpkt_done), even past RM_XFER_PAGESET and GPADL_TEARDOWN.
 *  - Completions.  A request sent with @want_completion is answered by a
 *    COMP packet carrying its trans_id (vmbus_chan_send_comp).  A sender
 *    that lets the library pick ids (vmbus_chan_trans_alloc) gets its
 *    context back with the completion, and a completion that names no
 *    outstanding request is refused.
 *
 * Receiving: vmbus_chan_recv_pkt() decodes every packet kind.  What the
 * peer wrote is checked before it is returned: the type header's shape,
 * the GPADL or set it names (one of this channel's, mapped at this end),
 * and every range, which must be non-empty and lie inside that memory.  A
 * packet that fails is consumed and reported as -EBADMSG with type,
 * flags, trans_id and the reason (error) filled in, so that the
 * application can complete it with a failure and carry on.
 *
 * Lifetimes: a GPADL handle outlives its channel.  Closing a channel
 * (either end) tears down and releases whatever GPADLs and sets it still
 * had; the handles then only answer vmbus_gpadl_destroy/_unmap, which
 * free them.  Pointers into GPADL memory are valid while the handle is
 * (server: until unmap, or until the channel's close callback returns).
 */

struct vmbus_gpadl;	/* a GPADL: the client's shared buffer or its mapping */

/* One byte range inside a GPADL or a transfer page set (wire layout). */
struct vmbus_range {
	uint32_t byte_count;
	uint32_t byte_offset;
};

/* vmbus_gpadl_create flags. */
#define VMBUS_GPADL_READONLY	0x1	/* the server may only read */

/*
 * Largest GPADL (16 MiB).  The wire's range_buflen could describe 16381
 * pages, but every limit agrees on 4096: what a server takes, and what
 * the control ring of a bus (8 pages each way) holds in one go (74
 * messages of the ~107 that fit), so that a GPADL never waits on the
 * server to drain its own first half.
 */
#define VMBUS_GPADL_MAX_PAGES	4096u

/*
 * Client: allocate @size bytes (rounded up to whole 4 KiB pages, zeroed),
 * grant them to the server and create a GPADL on open channel @chan.
 * Blocks up to @timeout_ms for GPADL_CREATED.  -E2BIG above
 * VMBUS_GPADL_MAX_PAGES pages.
 */
int vmbus_gpadl_create(struct vmbus_chan *chan, size_t size,
		       unsigned int flags, int timeout_ms,
		       struct vmbus_gpadl **gpadl);
/*
 * Client: GPADL_TEARDOWN, wait up to @timeout_ms for GPADL_TORNDOWN, end
 * the grants and free @gpadl.  -EBUSY (nothing done) while a transfer page
 * set uses it; -ETIMEDOUT if the server did not answer (the pages are
 * released anyway: Xen keeps them until the server unmaps).
 */
int vmbus_gpadl_destroy(struct vmbus_gpadl *gpadl, int timeout_ms);
/*
 * Server: access GPADL @gpadl_id that the client created for @chan's
 * offer.  -ENOENT if there is none (or it holds the channel's rings).
 */
int vmbus_gpadl_map(struct vmbus_chan *chan, uint32_t gpadl_id,
		    struct vmbus_gpadl **gpadl);
/* Server: let go of a mapping; frees @gpadl. */
void vmbus_gpadl_unmap(struct vmbus_gpadl *gpadl);
uint32_t vmbus_gpadl_id(const struct vmbus_gpadl *gpadl);
/* Bytes of the GPADL (whole pages); 0 once its channel is gone. */
size_t vmbus_gpadl_size(const struct vmbus_gpadl *gpadl);
/* True if this end may write the memory (the client always may). */
bool vmbus_gpadl_writable(const struct vmbus_gpadl *gpadl);
/*
 * @len bytes at @offset of the GPADL, or NULL if they are not all inside
 * it, or @write is asked of read-only memory, or the channel is gone.
 */
void *vmbus_gpadl_ptr(const struct vmbus_gpadl *gpadl, uint64_t offset,
		      uint64_t len, bool write);

/*
 * DATA_USING_GPADL: @nranges (>= 1) ranges inside GPADL @gpadl_id (the
 * client's own, or one this server mapped), then @len bytes in-band.
 * -ENOENT unknown GPADL, -ERANGE a range outside it, -EAGAIN ring full.
 */
int vmbus_chan_send_gpa(struct vmbus_chan *chan, uint32_t gpadl_id,
			const struct vmbus_range *ranges, uint32_t nranges,
			const void *data, size_t len, uint64_t trans_id,
			bool want_completion);

/* Transfer page sets a channel may have at once, at each end. */
#define VMBUS_XFERSET_MAX	16

/*
 * Client: announce GPADL @gpadl of @chan as transfer page set @set_id
 * (ADD_XFER_PAGESET).  The set is usable at this end at once and at the
 * server once it received the packet; the server application sees the
 * packet and completes it if asked.  -EEXIST id in use, -ENOSPC too many.
 */
int vmbus_xferset_add(struct vmbus_chan *chan, struct vmbus_gpadl *gpadl,
		      uint16_t set_id, uint64_t trans_id,
		      bool want_completion);
/*
 * Client: retire set @set_id (RM_XFER_PAGESET).  Packets that still name
 * it are refused from now on, at each end once it saw the packet.
 */
int vmbus_xferset_remove(struct vmbus_chan *chan, uint16_t set_id,
			 uint64_t trans_id, bool want_completion);
/* Either end: @len bytes at @offset of set @set_id, as vmbus_gpadl_ptr. */
void *vmbus_xferset_ptr(struct vmbus_chan *chan, uint16_t set_id,
			uint64_t offset, uint64_t len, bool write);
/*
 * DATA_USING_XFER_PAGES: @nranges (>= 1) ranges inside set @set_id, then
 * @len bytes in-band.  -ENOENT unknown set, -ERANGE a range outside it.
 */
int vmbus_chan_send_xfer(struct vmbus_chan *chan, uint16_t set_id,
			 const struct vmbus_range *ranges, uint32_t nranges,
			 const void *data, size_t len, uint64_t trans_id,
			 bool want_completion);

/*
 * Transaction ids.  Size the table of outstanding requests (default 1024)
 * before the first vmbus_chan_trans_alloc; -EBUSY afterwards.
 */
int vmbus_chan_trans_init(struct vmbus_chan *chan, uint32_t max_outstanding);
/* A fresh id for a request carrying @ctx; -ENOSPC when all are in use. */
int vmbus_chan_trans_alloc(struct vmbus_chan *chan, void *ctx,
			   uint64_t *trans_id);
/* Give back an id whose request was not sent (or is abandoned). */
int vmbus_chan_trans_cancel(struct vmbus_chan *chan, uint64_t trans_id,
			    void **ctx);

/* A received packet, decoded; pointers point into the caller's buffer. */
struct vmbus_rxpkt {
	uint16_t type;			/* VMBUS_PKT_* of <xenvmbus/ring.h> */
	uint16_t flags;			/* 1 = sender requests a completion */
	uint64_t trans_id;
	const void *data;		/* in-band payload after the header */
	uint32_t len;			/* its bytes (-EMSGSIZE: bytes needed) */
	uint32_t id;			/* GPADL id / transfer page set id */
	uint32_t gpadl_id;		/* ADD/RM_XFER_PAGESET: the set's GPADL */
	uint32_t nranges;		/* GPADL and transfer-page packets */
	const struct vmbus_range *ranges; /* checked against the memory */
	uint8_t *base;			/* the memory the ranges point into */
	bool writable;			/* this end may write it */
	void *ctx;			/* COMP: the request's context;
					 * server, DATA_USING_XFER_PAGES: its
					 * hold (vmbus_rxpkt_done) */
	int error;			/* with -EBADMSG: why it was refused */
};

/*
 * Receive and decode the next packet.  @buf must be 8-byte aligned.
 * -EBADMSG: the packet was consumed and refused (see above).  A server
 * receiving ADD/RM_XFER_PAGESET maps / releases the set before returning
 * it; a client refuses them.
 */
int vmbus_chan_recv_pkt(struct vmbus_chan *chan, struct vmbus_rxpkt *pkt,
			void *buf, size_t buflen);
/* Start of range @i of a received packet, or NULL. */
void *vmbus_rxpkt_ptr(const struct vmbus_rxpkt *pkt, uint32_t i);
/*
 * Complete a received packet: a COMP with its trans_id and @len bytes of
 * @data if it asked for one, then vmbus_rxpkt_done.  -EAGAIN (nothing
 * done, the packet still held): no room in the ring yet.
 */
int vmbus_chan_complete_pkt(struct vmbus_chan *chan,
			    const struct vmbus_rxpkt *pkt, const void *data,
			    size_t len);
/*
 * Done with a received packet.  At the server, a DATA_USING_XFER_PAGES
 * packet that asks for a completion holds its transfer page set mapped
 * (pkt->ctx names the hold) until this, even if the set is removed or its
 * GPADL torn down meanwhile.  Call it once per packet, directly or
 * through vmbus_chan_complete_pkt; completing with vmbus_chan_send_comp
 * alone keeps the hold until the channel closes.
 */
void vmbus_rxpkt_done(struct vmbus_chan *chan, const struct vmbus_rxpkt *pkt);
/* Packets this end refused (-EBADMSG) on @chan so far. */
uint64_t vmbus_chan_refused(const struct vmbus_chan *chan);

/*
 * --- packets that name grant references directly (VMBUS_1.5) ---
 * DATA_USING_GPA_DIRECT packets carry, before their in-band payload, a
 * range buffer (<xenvmbus/gpadl.h>): for each range its byte count, its
 * offset into its first page and the grant references of every page it
 * spans, with no GPADL set up beforehand (Hyper-V's GPA-direct, as
 * hv_storvsc and hv_netvsc send their page lists; Xen grants where
 * Hyper-V puts guest frame numbers).  vmbus_chan_recv_pkt checks the
 * range buffer against the packet (at least one range, each non-empty,
 * its offset inside its first page, as many references as it spans, the
 * buffer exactly used but for padding to 8 bytes) and returns it: nranges
 * set, ctx pointing at the range buffer in @buf, id its length in bytes;
 * a packet whose range buffer fails is refused (-EBADMSG) with data and
 * len still set, so that the request it carries can be failed on its own.
 * The references are the peer's to grant; nothing checks them until they
 * are mapped.
 */

/* One range of a GPA-direct packet. */
struct vmbus_gpa_direct {
	uint32_t byte_count;
	uint32_t byte_offset;		/* into the first page, < 4096 */
	uint32_t npages;		/* pages it spans */
	const uint32_t *grefs;		/* their grant references */
};

/* Range @i of GPA-direct packet @pkt: 0, or -EINVAL (no such range). */
int vmbus_rxpkt_gpa_range(const struct vmbus_rxpkt *pkt, uint32_t i,
			  struct vmbus_gpa_direct *range);
/*
 * The same for a range buffer held elsewhere (@buf, @len bytes, 4-byte
 * aligned): -EBADMSG if it does not parse as vmbus_chan_recv_pkt checks
 * it, -EINVAL if it has no range @i.  With @nranges, its count of ranges.
 */
int vmbus_gpa_direct_range(const void *buf, uint32_t len, uint32_t i,
			   struct vmbus_gpa_direct *range, uint32_t *nranges);
/*
 * Server: map @count pages the channel's peer granted, read-write or
 * read-only, counted in the guest's mapping budget and the host's as the
 * library's own mappings are (vmbus_server_get_maps): NULL with errno
 * ENOSPC past either, ENOTCONN on a channel not open, else the mapping's
 * error.  Unmap them with vmbus_chan_unmap_grefs, at the latest from the
 * channel's close callback.
 */
void *vmbus_chan_map_grefs(struct vmbus_chan *chan, const uint32_t *grefs,
			   uint32_t count, bool writable);
void vmbus_chan_unmap_grefs(struct vmbus_chan *chan, void *addr,
			    uint32_t count);

/*
 * --- sub-channels (VMBUS_1.5) ---
 * A multi-channel device (Hyper-V's storvsc and netvsc) asks its server,
 * in its own protocol, for more channels of the same device: offers of
 * the same type and instance whose sub_channel_index is 1, 2, ...; the
 * guest opens each as any other channel (Linux hands them to the
 * primary's driver).  The server makes them with vmbus_server_offer_sub;
 * their opens and closes reach the ops with the cookie given here.
 * Rescinding the primary does not rescind them: the server does.
 */
/* Server: offer sub-channel @index (>= 1) of offer @primary.  -ENOENT no
 * such primary, -EEXIST index in use, -EINVAL a pipe or a peer offer. */
int vmbus_server_offer_sub(struct vmbus_server *srv, uint32_t primary,
			   uint16_t index, void *cookie, uint32_t *relid);
/* Client: the sub-channel index of offer @relid (0: a primary), or
 * -ENOENT. */
int vmbus_bus_offer_sub_index(const struct vmbus_bus *bus, uint32_t relid);

/*
 * --- channels between two guests (VMBUS_1.1) ---
 *
 * The bus daemon may offer a channel whose other end is another guest
 * ("vmbusctl p2p").  It only brokers the setup: one guest (the opener)
 * grants its rings and an event channel to the other (the acceptor), which
 * maps them; data and signals then go from guest to guest.  A client opens
 * and uses such a channel with the calls above, unchanged; vmbus_chan_open
 * returns once both guests have opened their end (or @timeout_ms passed).
 * When either guest closes, dies or unloads, the offer is rescinded at the
 * other, which sees -ENOTCONN once it has drained what was sent.
 * Needs bus version 1.1; a 1.0 server never makes such offers.
 *
 * A server makes both offers at once with vmbus_server_offer_peer(); the
 * ops of each server then see open and close with @chan NULL for them
 * (open: both ends are connected, its return value is ignored; close: the
 * pair ended, both offers are rescinded, the cookie is not used again).
 * The ops must not call back into the library from there.
 */

/* Domain id of the guest at the other end of offer @relid, 0 if it is a
 * dom0 service, -ENOENT if there is no such offer. */
int vmbus_bus_offer_peer(const struct vmbus_bus *bus, uint32_t relid);
/* Domain id at the other end of @chan's rings (a peer guest or dom0). */
int vmbus_chan_peer(const struct vmbus_chan *chan);
/* Offer @da to the guest of @a and @db to the guest of @b, joined; the
 * guest of @a grants the rings. */
int vmbus_server_offer_peer(struct vmbus_server *a,
			    const struct vmbus_offer_desc *da,
			    uint32_t *relid_a, struct vmbus_server *b,
			    const struct vmbus_offer_desc *db,
			    uint32_t *relid_b);

/*
 * --- Hyper-V sockets (VMBUS_1.4) ---
 *
 * A guest's hv_sock connect() is a TL_CONNECT_REQUEST naming its endpoint
 * and the host's service (<xenvmbus/msg.h>); the host answers with an
 * offer of the connection's channel (flags VMBUS_OFFER_FLAG_NAMED_PIPE |
 * VMBUS_OFFER_FLAG_HVSOCK, type the service, instance the endpoint),
 * which the guest then opens, or refuses.
 */
#define VMBUS_OFFER_FLAG_HVSOCK		0x2000	/* Hyper-V's TLNPI_PROVIDER */

/* Client: send TL_CONNECT_REQUEST; the offer arrives as any other. */
int vmbus_bus_tl_connect(struct vmbus_bus *bus, const uint8_t endpoint[16],
			 const uint8_t service[16]);
/*
 * Server: @fn handles the guest's TL_CONNECT_REQUESTs: 0 once it offered
 * the connection's channel (vmbus_server_offer), -errno to refuse, which
 * the library says to the guest with TL_CONNECT_RESULT.  NULL (the
 * default) refuses every one.  @fn may call vmbus_server_offer.
 */
typedef int vmbus_tl_connect_fn(struct vmbus_server *srv,
				const uint8_t endpoint[16],
				const uint8_t service[16], void *arg);
int vmbus_server_set_tl_connect(struct vmbus_server *srv,
				vmbus_tl_connect_fn *fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* XENVMBUS_LIBVMBUS_H */
