/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A guest bus client below libvmbus, for the tests that break the bus
 * protocol on purpose: it does the xenbus handshake of
 * <xenvmbus/xenstore.h> itself, owns its control ring, and sends and
 * receives control messages as raw packets.  Its checks print TAP-like
 * lines prefixed with "hostile:" for the calling test script.
 */
#ifndef RAW_GUEST_H
#define RAW_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#include "vmbus/vmbus_msg.h"
#include "vmbus/vmbus_ring.h"

extern struct xs_handle *xs;
extern xengntshr_handle *gs;
extern xenevtchn_handle *xce;
extern int port;			/* the control ring's event channel */
extern struct vmbus_ring ctl;		/* the control rings */
extern int failures, checks;

/* One check: a "hostile: ok - WHAT" or "hostile: FAILED - WHAT" line. */
void check(int ok, const char *what);
/* A setup step failed: say which, with errno, and exit 2. */
void die(const char *what) __attribute__((noreturn));
long long now_ms(void);

/* Open xenstore, gntalloc and the event channel device (or die). */
void raw_open(void);
/* The frontend handshake, as any bus driver does it; the bus is then
 * Connected, with nothing negotiated yet. */
void bus_connect(void);
/* Close the bus as a client does: Closed, and the backend Closed too. */
void bus_close(void);
/* The backend's xenbus state, or -1. */
int backend_state(void);
/* Print the "N of M checks held" line; the exit status for it. */
int raw_report(void);

/* A control message onto the ring: 0 or -errno (-EAGAIN: no room). */
int send_msg(struct vmbus_msg *m);
/* Take our port's event, if one comes within @ms. */
void wait_event(int ms);

/*
 * Receive for up to 2 s, until a message of type @type for which @want
 * (when given) says yes: 1 with it in @out (when given), or 0.  Every
 * message received, wanted or not, is shown to raw_seen first.
 */
int expect_match(uint32_t type,
		 bool (*want)(const struct vmbus_msg *m, void *arg), void *arg,
		 struct vmbus_msg *out);
int expect(uint32_t type, struct vmbus_msg *out);
/* Set by a test to note the offers (or anything) that go by. */
extern void (*raw_seen)(const struct vmbus_msg *m);

#endif /* RAW_GUEST_H */
