/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kd-port.h - the debug port of one domain, as xen-kdrelay holds it: the
 * debuggee (by id or by name), the attach through XEN_DMOP_syndbg_backend,
 * the shared frames and the event channel, and the two rings.  ABI in
 * include/xenvmbus/syndbg-port.h.  The sinks (kd-sink.h) and main use it.
 */
#ifndef KD_PORT_H
#define KD_PORT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <xenvmbus/syndbg-port.h>

#include "kd-frame.h"

struct kd_port {
	uint32_t domid;
	bool have_domid;
	int privcmd;			/* restricted to domid unless following a name */
	uint32_t self;			/* this relay's domain, as Xen named it at attach */
	const char *name;		/* --name, --follow: follow this name */
	bool attached;
	bool attached_once;		/* since the relay started */
	int attach_err;			/* the last attach's -errno, 0 after success */
	void *fres;			/* xenforeignmemory_resource_handle */
	volatile struct syndbg_shared *sh;
	volatile uint8_t *out;		/* guest -> relay */
	volatile uint8_t *in;		/* relay -> guest */
	int lport;
	uint32_t rport;
	bool broken_logged;
	bool waiting_logged;
	const struct sockaddr_in *dbg;	/* --udp: the debugger, for HvResetDebugSession */
	/* UDP framing: what the guest last sent, and the flow it used. */
	bool guest_frames;
	bool flow_known;
	struct kd_flow flow;		/* src = the guest */
	unsigned long refused;
	time_t refuse_logged;
};

#define KD_PORT_INIT { .lport = -1, .privcmd = -1 }

/*
 * The Xen interfaces every port uses; xenstore is optional (NULL when
 * unreachable and not needed).  0 or -errno, logged.
 */
int kd_xen_open(bool need_xenstore);
void kd_xen_close(void);

/* 1: domid exists and is not dying; 0: gone; -errno: cannot tell. */
int kd_domain_live(uint32_t domid);
/* The live domain called name; -ENOENT when there is none. */
int kd_resolve_name(const char *name, uint32_t *domid);
/* /local/domain/domid/name (to free), or NULL when it has none. */
char *kd_domain_name(uint32_t domid);

/* The port's own privcmd descriptor (restricted to p->domid when given by id). */
int kd_port_open(struct kd_port *p);
/*
 * Is the debuggee still there, and are we attached?  Re-attaches (after a
 * reboot, a detach by someone else, a broken port) and, for a port given
 * by name, looks the name up again.  False when a domain given by id is
 * gone.  Logs what changed.
 */
bool kd_port_check(struct kd_port *p);
/* What fired the current check, for the log ("@releaseDomain", "timer"). */
extern const char *kd_check_cause;
void kd_port_detach(struct kd_port *p);
/* Unmaps and closes what the port holds; the port stays attached in Xen. */
void kd_port_close(struct kd_port *p);
/* What HvResetDebugSession tells the guest about its debugger. */
void kd_publish_conn(struct kd_port *p, const struct sockaddr_in *dbg);

/*
 * Peek at the next out record: 1 with *hdr and the payload copied, 0 when
 * the ring is empty, -EPROTO when Xen's indexes or record are impossible.
 */
int kd_out_peek(struct kd_port *p, struct syndbg_pdu *hdr, uint8_t *buf);
void kd_out_consume(struct kd_port *p, const struct syndbg_pdu *hdr);
/* Queue one DATA record for the guest; -ENOSPC when it does not fit now. */
int kd_in_put(struct kd_port *p, const void *buf, uint32_t len);
/* Room for a record of the largest size in the guest's in ring? */
bool kd_in_room(struct kd_port *p);
/*
 * Move p's out records to put while it takes them (records of a session
 * the guest purged are dropped); re-attaches when the ring is impossible.
 */
void kd_port_pump(struct kd_port *p,
		  bool (*put)(const struct syndbg_pdu *hdr, const uint8_t *buf));

/* The event channel of every port: poll it, then acknowledge. */
int kd_evtchn_fd(void);
void kd_evtchn_ack(void);

/*
 * Domain lifecycle from xenstore: @releaseDomain (a domain died) and
 * @introduceDomain (a domain appeared).  kd_watch_open() returns the
 * descriptor to poll, or -errno (the caller then checks on a timer);
 * kd_watch_read() drains what fired: "@releaseDomain" when a domain
 * died, else "@introduceDomain", or NULL when nothing fired.
 */
int kd_watch_open(void);
const char *kd_watch_read(void);

#endif
