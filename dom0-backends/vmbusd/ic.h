/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmbusd's Hyper-V integration services: the framework (ic.c) that every
 * IC shares -- the offer, version negotiation, one request in flight,
 * requests from the administrator through xenstore and their replies --
 * and one row per IC (ic-heartbeat.c, ic-shutdown.c, ic-timesync.c,
 * ic-kvp.c) saying what it sends and what it does with the answers.
 *
 * An administrator's request (vmbusctl shutdown, vmbusctl kvp) is written
 * under the offer's entry, backend/vmbus/<domid>/0/offers/<key>/request/
 * {op,pool,key,value,id}, id last; the reply goes to
 * /local/domain/0/vmbusd/<domid>/ic/<kind>/{result,count,<i>/key,
 * <i>/value,id}, id last: "result" is "ok" or "error <reason>".
 */
#ifndef VMBUSD_IC_H
#define VMBUSD_IC_H

#include "vmbus/vmbus_ic.h"
#include "vmbusd.h"

struct vd_ic;

/* One IC: its class, versions and behaviour. */
struct vd_ic_kind {
	const char *kind;		/* entry kind and channel name */
	const char *guid;		/* device class */
	const uint32_t *versions;	/* message versions, oldest first */
	unsigned int nversions;
	unsigned int period_s;		/* tick every so many seconds, 0 none */
	/* Versions agreed: the first request may go. */
	void (*ready)(struct vd_ic *ic);
	void (*tick)(struct vd_ic *ic);
	/* The guest answered the request in flight (type checked). */
	void (*response)(struct vd_ic *ic, const struct vmbus_ic_msg *m);
	/*
	 * The administrator's request of @op, its arguments under @dir:
	 * 0 once sent (the reply follows the answer), or -errno with
	 * @why set for the reply.
	 */
	int (*request)(struct vd_ic *ic, const char *op, const char *dir,
		       const char **why);
	/* What it adds to the channel's state line ("key=value ..."). */
	int (*state)(struct vd_ic *ic, char *val, size_t len);
};

enum vd_ic_state { VD_IC_NEGOTIATING, VD_IC_READY, VD_IC_FAILED };

struct vd_ic {
	const struct vd_ic_kind *k;
	struct vd_offer *offer;
	struct vmbus_chan *chan;
	enum vd_ic_state st;
	uint32_t fw, ver;		/* agreed */
	const char *why;		/* VD_IC_FAILED: why */
	/* The one request in flight. */
	bool pending;
	uint16_t pending_type;
	uint64_t pending_tid, next_tid;
	unsigned int pending_s;		/* seconds it has waited */
	/* The administrator's request in flight, and the last one taken. */
	bool admin;
	char admin_id[64];
	unsigned int ticks;
	uint64_t responses, errors;
	/* Per IC. */
	uint64_t hb_seq;		/* the guest's last heartbeat */
	uint64_t hb_count;		/* heartbeats answered */
	uint64_t ts_samples;		/* time samples answered */
	uint32_t kvp_pool, kvp_index;	/* an enumeration in progress */
	/* Events: the channel, a one-second timer. */
	int tfd;
	struct vd_watch wchan, wtimer;
	unsigned int quiet_wakes;
	bool paused;			/* a storm of signals: port left out */
	bool dead;
	struct vd_ic *next_dead;
	uint64_t buf[(VMBUS_IC_MSG_MAX + 1024) / 8];
};

/* Send a request of @type (framework and message versions agreed). */
int vd_ic_send(struct vd_ic *ic, uint16_t type, const void *body,
	       size_t len);
/* End the administrator's request: "ok" or "error <why>". */
void vd_ic_reply(struct vd_ic *ic, const char *result);
/* Entry @i of the reply (KVP: key and value). */
void vd_ic_reply_entry(struct vd_ic *ic, unsigned int i, const char *key,
		       const char *value);
/* The reply's entry count. */
void vd_ic_reply_count(struct vd_ic *ic, unsigned int n);

/* The service row of IC @k named @name (the framework's calls). */
#define VD_IC_SERVICE(name, k) {					\
	.kind = name, .noun = "integration service", .priv = k,		\
	.last_key = "kind", .start = vd_ic_start, .make = vd_ic_make,	\
	.open = vd_ic_open, .close = vd_ic_close, .drop = vd_ic_drop,	\
	.update = vd_ic_update, .state = vd_ic_state_line,		\
}
int vd_ic_start(void);
int vd_ic_make(struct vd_offer *o, const char *dir);
int vd_ic_open(struct vd_offer *o, struct vmbus_chan *chan);
void vd_ic_close(struct vd_offer *o, struct vmbus_chan *chan);
void vd_ic_drop(struct vd_offer *o);
void vd_ic_update(struct vd_offer *o, const char *dir);
int vd_ic_state_line(struct vd_offer *o, char *val, size_t len);

#endif /* VMBUSD_IC_H */
