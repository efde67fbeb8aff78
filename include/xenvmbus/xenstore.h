/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenstore keys that bootstrap a VMBus-over-Xen bus, as for any Xen PV device.
 *
 * The contract between frontend (client, in the guest) and backend (server)
 * -------------------------------------------------------------------------
 * Frontend directory: device/vmbus/0 (relative to the guest's home path).
 * Backend directory:  backend/vmbus/<frontend domid>/0 (in the backend's).
 *
 *  backend writes    max-ring-page-order   largest order it maps
 *                    versions              bus versions it speaks, as
 *                                          "major.minor" separated by spaces,
 *                                          preferred first
 *                    state = InitWait
 *  frontend writes   ring-page-order       pages = 2^order, both rings
 *                    ring-ref<i>           grant refs, i = 0 .. 2^order - 1;
 *                                          the first half is the client's
 *                                          send ring (header page + data),
 *                                          the second half its receive ring
 *                    event-channel         port for the control channel
 *                    version               "major.minor" of the bus protocol
 *                                          it will ask for first
 *                    liveness-ref          (optional) grant ref of the
 *                                          liveness page, below
 *                    state = Initialised, later Connected
 *  backend maps, binds, and writes state = Connected.  Either side going to
 *  Closing/Closed tears the bus down.  The channel messages that follow
 *  (msg.h) travel on the rings named here.
 *
 *  The liveness page tells each end that the other's process died, which
 *  xenstore never says.  The frontend grants it with an unmap notification
 *  (xengntshr_share_page_notify: its byte, its control port), the backend
 *  maps it with one (xengnttab_map_grant_ref_notify: its byte, its port);
 *  each sets its own byte to 1 before it goes Connected.  When either end
 *  lets go of the page -- closing, or its process dying -- its kernel
 *  clears that end's byte and signals the control event channel, so the
 *  other end finds the byte 0 when it looks at the control ring.  A
 *  backend that finds the frontend gone goes Closing; a frontend that
 *  finds the backend gone fails its channels and starts over at
 *  Initialising.  A backend that starts and finds a frontend Connected (to
 *  an earlier backend) goes Closing, so that the frontend starts over.
 */
#ifndef XENVMBUS_XENSTORE_H
#define XENVMBUS_XENSTORE_H

#define VMBUS_XS_DEVICE_TYPE		"vmbus"
#define VMBUS_XS_DEVICE_ID		0

/* printf formats for the two directories. */
#define VMBUS_XS_FRONTEND_FMT		"device/vmbus/%u"		/* devid */
#define VMBUS_XS_BACKEND_FMT		"backend/vmbus/%u/%u"		/* domid, devid */

/* Keys (relative to the directories above). */
#define VMBUS_XS_STATE			"state"
#define VMBUS_XS_BACKEND		"backend"
#define VMBUS_XS_BACKEND_ID		"backend-id"
#define VMBUS_XS_FRONTEND		"frontend"
#define VMBUS_XS_FRONTEND_ID		"frontend-id"
#define VMBUS_XS_RING_REF_FMT		"ring-ref%u"
#define VMBUS_XS_RING_PAGE_ORDER	"ring-page-order"
#define VMBUS_XS_MAX_RING_PAGE_ORDER	"max-ring-page-order"
#define VMBUS_XS_EVENT_CHANNEL		"event-channel"
#define VMBUS_XS_VERSION		"version"
#define VMBUS_XS_VERSIONS		"versions"
#define VMBUS_XS_VERSION_FMT		"%u.%u"
#define VMBUS_XS_LIVENESS_REF		"liveness-ref"

/* Bytes of the liveness page: non-zero while that end is there. */
#define VMBUS_LIVENESS_FRONTEND		0
#define VMBUS_LIVENESS_BACKEND		1

/* Control rings: 4 pages minimum (one header + one data page per direction). */
#define VMBUS_XS_MIN_RING_PAGE_ORDER	2
#define VMBUS_XS_DEFAULT_MAX_RING_PAGE_ORDER 4

#endif /* XENVMBUS_XENSTORE_H */
