/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The server's state, shared by the handshake and dispatch (server.c) and
 * the channels between two guests (server-p2p.c).  server.c knows the
 * latter only through the ops a peer offer installs (struct srv_p2p_ops).
 */
#ifndef LIBVMBUS_SERVER_H
#define LIBVMBUS_SERVER_H

#include "private.h"

/* Where one end of a channel between two guests stands (server-p2p.c). */
enum srv_peer_state {
	PEER_IDLE,
	PEER_WAITING,
	PEER_FORWARDED,
	PEER_OPEN,
};

struct srv_p2p_ops {
	/* OPENCHANNEL on a peer offer: 0 is answered later, else -errno. */
	int (*open)(struct vmbus_server *s,
		    const struct vmbus_msg_open_channel *op,
		    struct srv_offer *o);
	/* Its guest let go (CLOSECHANNEL, its rings torn down, a reset). */
	void (*end)(struct srv_offer *o);
	/* The offer goes (rescinded, freed): the pair is broken. */
	void (*brk)(struct srv_offer *o);
	/* PEER_OPEN_RESULT from the acceptor. */
	int (*open_result)(struct vmbus_server *s,
			   const struct vmbus_msg_open_result *r);
};

struct srv_offer {
	struct vmbus_offer_desc d;
	uint32_t relid;
	bool sent;
	bool rescinded;
	uint16_t sub_index;		/* a sub-channel of another offer: 1.. */
	struct vmbus_chan *chan;
	struct srv_offer *next;
	/* A channel to another guest: the other end, in that guest's server. */
	struct vmbus_server *srv;
	struct srv_offer *peer;
	bool is_peer;			/* stays set once the pair is broken */
	bool opener;			/* this end's guest grants the rings */
	enum srv_peer_state pstate;
	uint32_t p_open_id;		/* of the pending OPENCHANNEL */
	uint32_t p_version;
	uint32_t p_port;		/* opener: its unbound port */
	uint32_t p_down;		/* opener: pages of its send ring */
	struct srv_gpadl *p_gpadl;	/* opener: its ring GPADL */
	uint32_t p_fwd_open_id;		/* acceptor: of the PEER_OPEN sent */
};

struct vmbus_server {
	unsigned int domid;
	char be[64];
	char fe[64];
	struct xs_handle *xs;
	xengnttab_handle *gt;
	int epfd;
	int state;			/* our XenbusState */
	struct vmbus_conn conn;		/* port, control ring, queue */
	void *ctl_mem;
	uint32_t ctl_pages;
	void *live;			/* the frontend's liveness page */
	bool fe_armed;			/* the frontend set its byte */
	bool fe_gone_logged;		/* a guest can repeat it: say it once */
	bool contacted;
	bool offers_requested;
	uint32_t version;		/* bus version agreed */
	uint32_t next_peer_open;
	bool quiet;			/* resetting: send nothing more */
	struct srv_offer *offers;
	unsigned int noffers;
	uint32_t next_relid;
	struct vmbus_gpadl_reg gpadls;	/* the GPADLs the guest created */
	const struct srv_p2p_ops *p2p;	/* set with its first peer offer */
	struct vmbus_msg reply;		/* a row's answer (SRV_ANSWERS) */
	bool reply_ready;
	uint32_t mapped;		/* pages of this guest mapped now */
	uint32_t map_limit;
	uint64_t map_refused;
	const struct vmbus_server_ops *ops;
	void *arg;
	struct vmbus_faults faults;
	int wakefd;			/* readable: more control work waits */
	int throttle_fd;		/* timer: end of a storm's pause */
	bool throttled;			/* evt is out of the epoll set */
	unsigned int quiet_wakes;	/* wake-ups in a row with nothing to do */
	bool xs_dirty;			/* a watch fired: read the frontend */
	struct vmbus_server_work work;
	vmbus_tl_connect_fn *tl_connect;	/* hv_sock's TL_CONNECT_REQUEST */
	void *tl_arg;
};

/* server.c, for server-p2p.c */
int srv_send(struct vmbus_server *s, struct vmbus_msg *m);
/* Send the answer @r with the status of @err. */
int srv_answer(struct vmbus_server *s, struct vmbus_msg *r, int err);
struct srv_offer *srv_offer(struct vmbus_server *s, uint32_t relid);
int srv_offer_add(struct vmbus_server *s, const struct vmbus_offer_desc *d,
		  struct srv_offer **out);
void srv_offer_free(struct vmbus_server *s, struct srv_offer *o);
int srv_send_offer(struct vmbus_server *s, struct srv_offer *o);
bool srv_offer_speaks(const struct srv_offer *o, uint32_t version);
void srv_offer_rescind(struct vmbus_server *s, struct srv_offer *o);

#endif /* LIBVMBUS_SERVER_H */
