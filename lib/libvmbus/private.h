/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvmbus internals, by layer; each uses only the ones above it here:
 *   util.c     logging, GUIDs, the clock, waits and timers, faults
 *   xs.c       xenstore helpers
 *   conn.c     the connection to the other end of a bus: event channels,
 *              control messages over the control ring, the queue for them
 *   chan.c     the channel object and its data path
 *   gpadl.c    GPADL messages; the server's registry of GPADLs
 *   xfer.c     data GPADLs, transfer page sets, transaction ids
 *   client.c   the guest end of a bus; server.c the dom0 end (server.h)
 *   server-p2p.c  channels between two guests, above server.c
 * A lower layer reaches a higher one only through ops it was handed.
 */
#ifndef LIBVMBUS_PRIVATE_H
#define LIBVMBUS_PRIVATE_H

#include <poll.h>
#include <stddef.h>
#include <stdarg.h>
#include <syslog.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#include "vmbus/vmbus_msg.h"
#include "vmbus/vmbus_ring.h"
#include "libvmbus.h"

/* XenbusState values (xen/io/xenbus.h). */
enum vmbus_xb_state {
	XB_UNKNOWN = 0,
	XB_INITIALISING = 1,
	XB_INITWAIT = 2,
	XB_INITIALISED = 3,
	XB_CONNECTED = 4,
	XB_CLOSING = 5,
	XB_CLOSED = 6,
	XB_RECONFIGURING = 7,
	XB_RECONFIGURED = 8,
};

/* One event channel with its own handle, hence its own pollable fd. */
struct vmbus_evt {
	xenevtchn_handle *xce;
	int local;			/* -1 when not bound */
};

enum vmbus_chan_state {
	CHAN_OPENING,
	CHAN_OPEN,
	CHAN_FAILED,
	CHAN_CLOSED,
	CHAN_REOPENING,			/* client: its bus went away; see reopen */
};

/* Client: how far re-opening a channel got (client.c). */
enum vmbus_chan_reopen {
	REOPEN_NONE,
	REOPEN_WAIT_OFFER,		/* for the bus and its offer */
	REOPEN_GPADL,			/* the ring GPADL sent */
	REOPEN_OPEN,			/* OPENCHANNEL sent */
	REOPEN_RESULT,			/* OPENCHANNEL_RESULT arrived */
};

struct vmbus_chan {
	struct vmbus_ring ring;
	struct vmbus_evt evt;
	bool server;
	enum vmbus_chan_state state;
	bool rescinded;			/* the offer is gone */
	uint32_t relid;
	uint32_t version;
	uint32_t open_id;
	int open_status;		/* client: -errno from OPENCHANNEL_RESULT */
	uint32_t gpadl_id;
	bool gpadl_done;		/* client: GPADL_CREATED / TORNDOWN seen */
	int gpadl_status;
	void *mem;			/* both rings: shared or mapped pages */
	uint32_t npages;
	/* A channel to another guest (client): who, and which end. */
	unsigned int peer_domid;	/* the domain at the other end */
	bool peer;
	bool peer_acceptor;		/* mem is the peer's, mapped */
	uint32_t *peer_grefs;		/* acceptor: the forwarded GPADL */
	uint32_t peer_ngrefs;
	uint32_t peer_gpadl;
	int peer_gpadl_status;
	void *peer_live;		/* acceptor: its notifying map of page 0 */
	bool peer_armed;		/* opener: the acceptor set its byte */
	struct vmbus_bus *bus;
	struct vmbus_server *srv;
	struct vmbus_conn *conn;	/* client: its bus's */
	struct vmbus_gpadl_reg *reg;	/* server: its GPADLs */
	void *cookie;			/* server: the offer's cookie */
	void *user;
	struct vmbus_chan *next;
	struct vmbus_xfer *xfer;	/* data GPADLs, sets, trans ids (xfer.c) */
	/* Client: re-opening after a reconnect (vmbus_chan_set_reopen). */
	uint8_t if_type[16], if_instance[16];	/* to find the offer again */
	uint16_t offer_flags;		/* VMBUS_OFFER_FLAG_* at open */
	uint32_t *ring_refs;		/* the rings' grants, for a new GPADL */
	int reopen_ms;			/* 0: not re-opened */
	enum vmbus_chan_reopen reopen;
	int64_t reopen_deadline;
	int reopen_status;		/* what reopen_fn is to hear */
	bool reopen_report;		/* ... and has not heard yet */
	uint32_t reopens;
	vmbus_chan_reopen_fn *reopen_fn;
	void *reopen_arg;
};

/* Logging (util.c). */
void vmbus_log(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Kinds of faults a guest can cause, each logged once per domain. */
enum vmbus_fault_kind {
	FAULT_XS,
	FAULT_MAP,
	FAULT_MSG,
	FAULT_RING,
	FAULT_GPADL,
	FAULT_OPEN,
	FAULT_BUDGET,
	FAULT_OVERSIZED,
	FAULT_STORM,
	FAULT_COUNT
};
struct vmbus_faults {
	unsigned int domid;
	unsigned int logged;		/* 1 << kind */
};
/* Log a guest-triggered fault at most once per domain and kind. */
void vmbus_fault(struct vmbus_faults *f, enum vmbus_fault_kind kind,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Event channels (conn.c). */
void vmbus_evt_init(struct vmbus_evt *e);
int vmbus_evt_open(struct vmbus_evt *e);
void vmbus_evt_close(struct vmbus_evt *e);
void vmbus_evt_signal(void *arg);
int vmbus_evt_ack(struct vmbus_evt *e);
int vmbus_evt_fd(const struct vmbus_evt *e);
/*
 * Where the library reads the time, blocks and sets timers: the monotonic
 * clock, poll(2) and timerfds, unless a harness put its own here
 * (fuzz/fuzz-bus.c runs time itself, so that a deadline or a pause passes
 * when the input says and an input always runs the same way).  Every wait
 * of the library goes through vmbus_poll, every timer through
 * vmbus_timer_*.
 */
struct vmbus_time_ops {
	int64_t (*now_ms)(void);
	int (*poll)(struct pollfd *fds, nfds_t n, int timeout_ms);
	/* An fd, readable (8 bytes to read) once the timer went off. */
	int (*timer_open)(void);
	/* Go off once in @ms (0: not at all); 0 or -1 with errno. */
	int (*timer_set)(int fd, int ms);
};
extern const struct vmbus_time_ops *vmbus_time;
/* Wait for one of @fds; > 0 ready, 0 timeout (or a signal), -errno. */
int vmbus_poll(struct pollfd *fds, nfds_t n, int timeout_ms);
/* A timer (closed with close(2)); fd or -errno. */
int vmbus_timer_open(void);
/* Arm it for @ms from now, or disarm it (0); 0 or -errno. */
int vmbus_timer_set(int fd, int ms);
/* Wait for @fd to be readable; 1 ready, 0 timeout, -errno. */
int vmbus_poll_fd(int fd, int timeout_ms);
/* Milliseconds left of a deadline (-1 = none). */
int64_t vmbus_now_ms(void);
int vmbus_left_ms(int64_t deadline);

/* Control messages (conn.c). */
int vmbus_ctl_send(struct vmbus_ring *r, struct vmbus_msg *m);
/* Next message sent in @dir: 1 got one, 0 none, -errno (ring broken). */
int vmbus_ctl_recv(struct vmbus_ring *r, struct vmbus_msg *m,
		   unsigned int dir);
/* The same; what is dropped is counted in @dropped, not logged. */
int vmbus_ctl_recv_quiet(struct vmbus_ring *r, struct vmbus_msg *m,
			 unsigned int dir, unsigned int *dropped);
/*
 * The same, taking at most *@budget packets off the ring (each one counts,
 * dropped or not; 0 with *@budget at 0 means "more may be waiting"), and
 * counting packets too large to be a message in @oversized.
 */
int vmbus_ctl_recv_budget(struct vmbus_ring *r, struct vmbus_msg *m,
			  unsigned int dir, unsigned int *dropped,
			  unsigned int *oversized, unsigned int *budget);

/*
 * Control messages that did not fit the ring, kept in order until the peer
 * makes room (it signals once pending_send_sz bytes are free: the ring
 * asked for that when the send failed).
 */
struct vmbus_ctl_qmsg;
struct vmbus_ctlq {
	struct vmbus_ctl_qmsg *head, **tail;
	unsigned int len;
};
void vmbus_ctlq_init(struct vmbus_ctlq *q);
void vmbus_ctlq_clear(struct vmbus_ctlq *q);
/* Send @m, or queue it behind others (at most @max); 0 or -errno. */
int vmbus_ctlq_send(struct vmbus_ring *r, struct vmbus_ctlq *q,
		    struct vmbus_msg *m, unsigned int max);
/* Send what the ring takes now; 0 (the rest waits) or -errno. */
int vmbus_ctlq_flush(struct vmbus_ring *r, struct vmbus_ctlq *q);

/*
 * The connection to the other end of a bus (conn.c): its port, the control
 * ring, the messages waiting for room, and the table its owner (a client's
 * bus, a server) handed in at vmbus_conn_init to dispatch what arrives.
 *
 * One row per message type the other end may send.  A row calls its
 * handler, or, for a response that only wakes a waiter, sets the owner's
 * flag (VMBUS_CONN_WAKE); @flags are the owner's own (see its table).
 */
struct vmbus_conn_row {
	int (*fn)(void *owner, const struct vmbus_msg *m);
	size_t wake;			/* fn NULL: 1 + offset of a bool */
	unsigned int flags;
};
#define VMBUS_CONN_WAKE(type, field)	{ .wake = offsetof(type, field) + 1 }

struct vmbus_conn_ops {
	const struct vmbus_conn_row *rows;	/* [VMBUS_MSG_COUNT] */
	unsigned int dir;		/* VMBUS_MSG_DIR_* of what arrives */
	unsigned int txq_max;		/* messages waiting for room, at most */
	/* Stop reading while answers wait for room (the peer signals). */
	bool hold_while_queued;
	/* Handle what woke the pump's fd; never blocks. */
	void (*work)(void *owner);
	/* May the layers above send and wait?  (vmbus_conn_*_up) */
	bool (*up)(const void *owner);
	/* May @row run now?  NULL: always. */
	bool (*admit)(void *owner, const struct vmbus_conn_row *row);
	/* A message with no row, or not admitted. */
	void (*unexpected)(void *owner, uint32_t msgtype);
	/* A row ran and returned @rc: answer, log. */
	void (*done)(void *owner, const struct vmbus_conn_row *row,
		     const struct vmbus_msg *m, int rc);
	/* A message could not be sent nor queued; NULL: say nothing. */
	void (*send_failed)(void *owner, const struct vmbus_msg *m, int rc);
	/* Packets passed over; NULL: each is logged. */
	void (*dropped)(void *owner, unsigned int dropped,
			unsigned int oversized);
};

struct vmbus_conn {
	struct vmbus_evt evt;
	struct vmbus_ring ring;
	struct vmbus_ctlq txq;
	int fd;				/* what the pump waits on */
	unsigned int received;		/* messages decoded, ever */
	unsigned int txq_peak;		/* the most that waited for room */
	/* Client: the grants of its memory, and the ids of its GPADLs. */
	xengntshr_handle *gs;
	unsigned int domid;		/* the other end */
	uint32_t next_gpadl;
	const struct vmbus_conn_ops *ops;
	void *owner;
};

void vmbus_conn_init(struct vmbus_conn *cn, const struct vmbus_conn_ops *ops,
		     void *owner, int fd);
/* Send @m, or queue it while the ring is full; 0 or -errno. */
int vmbus_conn_send(struct vmbus_conn *cn, struct vmbus_msg *m);
/* Send what waits for room; 0 or -errno. */
int vmbus_conn_flush(struct vmbus_conn *cn);
/*
 * Take messages off the control ring (at most *@budget, if given) and run
 * their rows.  Returns the rows run, or -errno (the ring is broken).
 */
int vmbus_conn_dispatch(struct vmbus_conn *cn, unsigned int *budget);
/*
 * Block until the owner's fd needs attention or @deadline passes, then
 * have the owner handle it.  0, -ETIMEDOUT or -errno.
 */
int vmbus_conn_pump(struct vmbus_conn *cn, int64_t deadline);
/* The same for the layers above the owner: -ENOTCONN unless up. */
int vmbus_conn_send_up(struct vmbus_conn *cn, struct vmbus_msg *m);
int vmbus_conn_pump_up(struct vmbus_conn *cn, int64_t deadline);

/* xenstore helpers (xs.c). */
int vmbus_xs_read_uint(struct xs_handle *xs, const char *dir,
		       const char *key, unsigned long max, unsigned long *val);
int vmbus_xs_printf(struct xs_handle *xs, const char *dir, const char *key,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int vmbus_xs_read_state(struct xs_handle *xs, const char *dir);
const char *vmbus_xb_state_name(int state);
/* Drain pending watch events; returns how many arrived. */
int vmbus_xs_drain_watches(struct xs_handle *xs);

/*
 * GPADLs (gpadl.c).  GPADL_HEADER [GPADL_BODY...] naming @npages grants
 * @refs as one range (@to_peer: forwarded to the other guest of a peer
 * channel), and GPADL_TEARDOWN; sent on @cn while it is up.  0 or -errno.
 */
int vmbus_gpadl_announce(struct vmbus_conn *cn, uint32_t relid, uint32_t id,
			 uint32_t npages, const uint32_t *refs, bool to_peer);
int vmbus_gpadl_teardown(struct vmbus_conn *cn, uint32_t relid, uint32_t id);

/* The server's registry of the GPADLs its guest created. */
struct srv_offer;
struct srv_gpadl {
	uint32_t id;
	uint32_t relid;
	unsigned int refs;		/* data GPADL: holds (xfer.c) */
	bool readonly;			/* granted read-only: data only */
	bool torn;			/* teardown asked while held */
	bool peer;			/* a peer channel's rings: never mapped */
	void *mem;			/* mapped while used, else NULL */
	uint32_t npages;
	struct vmbus_chan *chan;	/* the channel whose rings live here */
	uint32_t *grefs;		/* npages grants, each named once */
	struct srv_offer *peer_user;	/* the peer offer using them */
	struct srv_gpadl *next;
};

/* One GPADL being reassembled, keyed by its id. */
struct srv_asm {
	struct vmbus_gpadl_asm a;
	uint8_t *buf;			/* NULL: slot free */
};
#define VMBUS_GPADL_REG_ASM	4	/* GPADLs reassembled at once */

/* What the registry needs of its owner (the server). */
struct vmbus_gpadl_reg_ops {
	/* Map @n grants of the guest, within the budgets; NULL + errno. */
	void *(*map)(void *owner, uint32_t n, const uint32_t *refs, int prot);
	void (*unmap)(void *owner, void *mem, uint32_t n);
	/* @g goes: what uses it (a channel, a peer channel) ends first. */
	void (*release)(void *owner, struct srv_gpadl *g);
	/* Does offer @relid take data GPADLs? */
	bool (*takes_data)(void *owner, uint32_t relid);
	/* A teardown that waited for the last hold is done: answer it. */
	void (*torndown)(void *owner, uint32_t id);
};

struct vmbus_gpadl_reg {
	struct srv_gpadl *head;
	unsigned int n;
	struct srv_asm gasm[VMBUS_GPADL_REG_ASM];
	struct vmbus_faults *faults;
	const struct vmbus_gpadl_reg_ops *ops;
	void *owner;
};

void vmbus_gpadl_reg_init(struct vmbus_gpadl_reg *reg,
			  const struct vmbus_gpadl_reg_ops *ops, void *owner,
			  struct vmbus_faults *faults);
struct srv_gpadl *vmbus_gpadl_reg_find(struct vmbus_gpadl_reg *reg,
				       uint32_t id);
/*
 * Keep the GPADL @a reassembled for an offer (@gpadls: it takes data
 * GPADLs; @peer: of a peer channel); 0 or -errno.
 */
int vmbus_gpadl_reg_add(struct vmbus_gpadl_reg *reg, struct srv_asm *a,
			bool gpadls, bool peer);
/* Map @g's grants if they are not yet (@rings: writable only). */
int vmbus_gpadl_reg_map(struct vmbus_gpadl_reg *reg, struct srv_gpadl *g,
			bool rings);
void vmbus_gpadl_reg_unmap(struct vmbus_gpadl_reg *reg, struct srv_gpadl *g);
void vmbus_gpadl_reg_free(struct vmbus_gpadl_reg *reg, struct srv_gpadl *g);
/* Every GPADL and reassembly goes. */
void vmbus_gpadl_reg_clear(struct vmbus_gpadl_reg *reg);
struct srv_asm *vmbus_gpadl_reg_asm(struct vmbus_gpadl_reg *reg, uint32_t id);
int vmbus_gpadl_reg_asm_new(struct vmbus_gpadl_reg *reg, uint32_t id,
			    struct srv_asm **out);
void vmbus_gpadl_reg_asm_free(struct srv_asm *a);
/* Hold / release a data GPADL of offer @relid. */
int vmbus_gpadl_reg_get(struct vmbus_gpadl_reg *reg, uint32_t relid,
			uint32_t id, void **mem, uint32_t *npages,
			bool *writable);
void vmbus_gpadl_reg_put(struct vmbus_gpadl_reg *reg, uint32_t id);

/* Channel helpers (chan.c). */
/* Nothing more will come: rescinded, or the peer guest let go of it. */
bool vmbus_chan_ended(const struct vmbus_chan *c);
struct vmbus_chan *vmbus_chan_alloc(void);
/* Its owner released its data GPADLs first (vmbus_xfer_release). */
void vmbus_chan_free(struct vmbus_chan *c);

/*
 * Data GPADLs, transfer page sets and transaction ids (xfer.c): what the
 * two ends tell it.  It reaches a client's bus through c->conn and a
 * server's GPADLs through c->reg.
 */
int vmbus_xfer_on_gpadl_created(struct vmbus_chan *c, uint32_t gpadl_id,
				uint32_t status);
int vmbus_xfer_on_gpadl_torndown(struct vmbus_chan *c, uint32_t gpadl_id);
/* Client: a channel is closing; tear down its data GPADLs. */
void vmbus_xfer_chan_closing(struct vmbus_chan *c);
/*
 * Client: the server went away; its data GPADLs and transfer page sets are
 * no longer its.  Returns how many GPADLs that took from the channel.
 */
unsigned int vmbus_xfer_bus_lost(struct vmbus_chan *c);
/* Either end: the channel is being freed. */
void vmbus_xfer_release(struct vmbus_chan *c);

#endif /* LIBVMBUS_PRIVATE_H */
