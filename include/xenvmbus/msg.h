/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VMBus channel management messages, carried over Xen.
 *
 * The contract between the client (guest bus driver) and the server (the
 * dom0 bus daemon)
 * --------------------------------------------------------------------
 *  - Bootstrap: the client grants a control channel (two rings, ring.h) and
 *    allocates an event channel, publishes both under device/vmbus/0
 *    (xenstore.h) and runs the XenbusState handshake with the backend.
 *  - Every channel message travels as exactly one DATA_INBAND packet on the
 *    control channel; the packet payload is the message.  A message starts
 *    with struct vmbus_msg_hdr, its length is a multiple of 8 and at most
 *    VMBUS_MSG_MAX_SIZE (the payload of a Hyper-V SynIC message), so large
 *    GPADLs are split over GPADL_HEADER + GPADL_BODY messages as on Hyper-V.
 *  - Message numbers and meanings are VMBus's.  Layouts follow VMBus; where
 *    Hyper-V names a machine resource (PFN, monitor page, SynIC connection)
 *    this protocol names the Xen one (grant reference, event channel port)
 *    or reserves the field.  All reserved fields are sent as zero and ignored.
 *  - Each message has one direction (VMBUS_MSG_DIR_*); a message arriving
 *    from the wrong side is a protocol error.  A fixed-size message must have
 *    exactly its size; a GPADL message exactly the size its counts imply.
 *  - Sequence: client INITIATE_CONTACT -> server VERSION_RESPONSE; client
 *    REQUESTOFFERS -> server OFFERCHANNEL* ALLOFFERS_DELIVERED (more offers
 *    and RESCIND_CHANNELOFFER may follow at any time); client GPADL_HEADER
 *    [GPADL_BODY*] -> server GPADL_CREATED; client OPENCHANNEL -> server
 *    OPENCHANNEL_RESULT; client CLOSECHANNEL; client GPADL_TEARDOWN -> server
 *    GPADL_TORNDOWN; after a rescind the client answers RELID_RELEASED once
 *    it has closed the channel; client UNLOAD -> server UNLOAD_RESPONSE.
 *  - A server that starts knows nothing of an earlier one's channels.  On
 *    offers with VMBUS_OFFER_X_REOPEN the client may open again, after the
 *    new connection's ALLOFFERS_DELIVERED, a channel it had open: the same
 *    ring grants in a new GPADL, an event channel allocated again, and
 *    OPENCHANNEL with the class version chosen before.  To the server these
 *    are ordinary messages of a first open.
 *
 * Channels between two guests (bus version 1.1)
 * ---------------------------------------------
 * An offer whose peer_flags has VMBUS_OFFER_PEER_VALID is one end of a
 * channel to another guest, domain peer_domid; the server offers the other
 * end to that guest with the roles swapped.  The rings live in the memory of
 * the end marked VMBUS_OFFER_PEER_OPENER and are mapped by the other end
 * (the acceptor); the server never maps them, it only brokers the setup:
 *  - The opener grants its rings to peer_domid (not to the server), sends
 *    GPADL_HEADER [GPADL_BODY*] as usual (the server checks the layout and
 *    keeps the references: GPADL_CREATED), then OPENCHANNEL with an event
 *    channel it left unbound for peer_domid.
 *  - The acceptor sends OPENCHANNEL with ring_gpadl, event_channel and
 *    downstream_page_offset 0: it is ready to take the peer's rings.
 *  - Once both have asked, the server forwards the opener's GPADL to the
 *    acceptor as PEER_GPADL_HEADER [PEER_GPADL_BODY*], then PEER_OPEN with
 *    the port and the ring layout.  The acceptor maps the grants of
 *    peer_domid, binds the port interdomain and answers PEER_OPEN_RESULT.
 *  - The server then answers OPENCHANNEL_RESULT to both ends, with the same
 *    status.  From then on data and signals go from guest to guest.
 *  - CLOSECHANNEL from either end, a rescind, an UNLOAD or the death of
 *    either guest ends the channel at both: the server rescinds both offers.
 *    The opener's GPADL_TEARDOWN is answered at once; its pages stay with
 *    the acceptor until that one unmaps them (grant semantics).
 * Messages 32..35 exist only here; Hyper-V's numbers end at 24.  A client
 * that agreed bus version 1.0 is never sent a peer offer.
 *
 * Versioning, as VMI did it
 * -------------------------
 * A version is (major << 16) | minor.  The bus protocol and every device
 * class have their own.  A side implementing major.minor implements every
 * lower minor of that major; majors are incompatible with each other.  A
 * peer is accepted iff the majors match and the agreed minor is at least the
 * minor this side needs.  Several versions may be offered: the client lists
 * the bus versions it speaks in INITIATE_CONTACT (preferred first) and the
 * server picks; the server lists the class versions of a device in its offer
 * and the client picks one in OPENCHANNEL.  An old peer that lists a single
 * version keeps working as long as its major is still served.
 */
#ifndef XENVMBUS_MSG_H
#define XENVMBUS_MSG_H

#include <xenvmbus/compat.h>
#include <xenvmbus/gpadl.h>

#define VMBUS_VERSION(major, minor)	((vmbus_u32)(major) << 16 | (vmbus_u16)(minor))
#define VMBUS_VERSION_MAJOR(v)		((vmbus_u32)(v) >> 16)
#define VMBUS_VERSION_MINOR(v)		((vmbus_u32)(v) & 0xffffu)

/* The bus protocol defined by these headers. */
#define VMBUS_BUS_VERSION_1_0		VMBUS_VERSION(1, 0)
#define VMBUS_BUS_VERSION_1_1		VMBUS_VERSION(1, 1)	/* + peer channels */
#define VMBUS_BUS_VERSION_CURRENT	VMBUS_BUS_VERSION_1_1

/* Largest message (header included), as a Hyper-V SynIC message payload. */
#define VMBUS_MSG_MAX_SIZE		240u
#define VMBUS_MSG_ALIGN			8u

/* Message types (VMBus numbering). */
#define VMBUS_MSG_INVALID		0
#define VMBUS_MSG_OFFERCHANNEL		1
#define VMBUS_MSG_RESCIND_CHANNELOFFER	2
#define VMBUS_MSG_REQUESTOFFERS		3
#define VMBUS_MSG_ALLOFFERS_DELIVERED	4
#define VMBUS_MSG_OPENCHANNEL		5
#define VMBUS_MSG_OPENCHANNEL_RESULT	6
#define VMBUS_MSG_CLOSECHANNEL		7
#define VMBUS_MSG_GPADL_HEADER		8
#define VMBUS_MSG_GPADL_BODY		9
#define VMBUS_MSG_GPADL_CREATED		10
#define VMBUS_MSG_GPADL_TEARDOWN	11
#define VMBUS_MSG_GPADL_TORNDOWN	12
#define VMBUS_MSG_RELID_RELEASED	13
#define VMBUS_MSG_INITIATE_CONTACT	14
#define VMBUS_MSG_VERSION_RESPONSE	15
#define VMBUS_MSG_UNLOAD		16
#define VMBUS_MSG_UNLOAD_RESPONSE	17
#define VMBUS_MSG_TL_CONNECT_REQUEST	21	/* hv_sock: a guest connects */
#define VMBUS_MSG_TL_CONNECT_RESULT	23	/* ... and the host refused */
/* 18..31 are not used here (21..24 are Hyper-V's, unused over Xen). */
#define VMBUS_MSG_PEER_GPADL_HEADER	32	/* bus 1.1: channels between guests */
#define VMBUS_MSG_PEER_GPADL_BODY	33
#define VMBUS_MSG_PEER_OPEN		34
#define VMBUS_MSG_PEER_OPEN_RESULT	35
#define VMBUS_MSG_COUNT			36

/* Who may send a message (see the direction column of the codec's table). */
#define VMBUS_MSG_DIR_C2S		0x1	/* client -> server */
#define VMBUS_MSG_DIR_S2C		0x2	/* server -> client */

/* Status codes in OPENCHANNEL_RESULT and GPADL_CREATED. */
#define VMBUS_STATUS_SUCCESS		0
#define VMBUS_STATUS_FAILURE		1	/* anything else */
#define VMBUS_STATUS_INVALID		2	/* malformed or unknown request */
#define VMBUS_STATUS_NO_RESOURCES	3
#define VMBUS_STATUS_NOT_FOUND		4	/* no such relid or gpadl */
#define VMBUS_STATUS_BUSY		5	/* already open / in use */
#define VMBUS_STATUS_VERSION		6	/* no common class version */
#define VMBUS_STATUS_MAX		6

struct vmbus_msg_hdr {
	vmbus_u32 msgtype;		/* VMBUS_MSG_* */
	vmbus_u32 padding;
};
VMBUS_CHECK_SIZE(struct vmbus_msg_hdr, 8);
VMBUS_CHECK_OFFSET(struct vmbus_msg_hdr, msgtype, 0);

struct vmbus_guid {
	vmbus_u8 b[16];
};
VMBUS_CHECK_SIZE(struct vmbus_guid, 16);

/* How many versions one message may list. */
#define VMBUS_MSG_MAX_VERSIONS		8

/*
 * INITIATE_CONTACT, client -> server.  Hyper-V's interrupt and monitor page
 * addresses have no meaning over Xen; their place holds the list of bus
 * versions the client speaks, preferred first.  version_requested repeats
 * versions[0] so that a Hyper-V-minded reader finds the preferred version
 * where it expects it.
 */
struct vmbus_msg_initiate_contact {
	struct vmbus_msg_hdr hdr;
	vmbus_u32 version_requested;
	vmbus_u32 target_vcpu;		/* vcpu for control-channel events */
	vmbus_u32 version_count;	/* 1..VMBUS_MSG_MAX_VERSIONS */
	vmbus_u32 reserved;
	vmbus_u32 versions[VMBUS_MSG_MAX_VERSIONS];
};
VMBUS_CHECK_SIZE(struct vmbus_msg_initiate_contact, 56);
VMBUS_CHECK_OFFSET(struct vmbus_msg_initiate_contact, version_requested, 8);
VMBUS_CHECK_OFFSET(struct vmbus_msg_initiate_contact, target_vcpu, 12);
VMBUS_CHECK_OFFSET(struct vmbus_msg_initiate_contact, version_count, 16);
VMBUS_CHECK_OFFSET(struct vmbus_msg_initiate_contact, versions, 24);

/*
 * VERSION_RESPONSE, server -> client.  version is the version chosen when
 * version_supported is 1 (Hyper-V puts a connection id there), and the
 * server's preferred version when it is 0, so that the client can report it.
 */
struct vmbus_msg_version_response {
	struct vmbus_msg_hdr hdr;
	vmbus_u8 version_supported;	/* 0 or 1 */
	vmbus_u8 connection_state;	/* 0 */
	vmbus_u16 reserved;
	vmbus_u32 version;
};
VMBUS_CHECK_SIZE(struct vmbus_msg_version_response, 16);
VMBUS_CHECK_OFFSET(struct vmbus_msg_version_response, version_supported, 8);
VMBUS_CHECK_OFFSET(struct vmbus_msg_version_response, connection_state, 9);
VMBUS_CHECK_OFFSET(struct vmbus_msg_version_response, version, 12);

/* REQUESTOFFERS, ALLOFFERS_DELIVERED, UNLOAD, UNLOAD_RESPONSE: header only. */
struct vmbus_msg_empty {
	struct vmbus_msg_hdr hdr;
};
VMBUS_CHECK_SIZE(struct vmbus_msg_empty, 8);

/* Offer flags (channel_flags). */
#define VMBUS_OFFER_ENUMERATE_DEVICE_INTERFACE	0x1
#define VMBUS_OFFER_SERVER_SUPPORTS_XFER_PAGES	0x2
#define VMBUS_OFFER_SERVER_SUPPORTS_GPADLS	0x4
#define VMBUS_OFFER_NAMED_PIPE_MODE		0x10
#define VMBUS_OFFER_LOOPBACK			0x100
#define VMBUS_OFFER_PARENT			0x200
#define VMBUS_OFFER_REQUEST_MONITORED_NOTIFICATION 0x400
#define VMBUS_OFFER_TLNPI_PROVIDER		0x2000

/* Pipe modes, first u32 of user_data when NAMED_PIPE_MODE is set. */
#define VMBUS_PIPE_TYPE_BYTE		0x0
#define VMBUS_PIPE_TYPE_MESSAGE		0x4

/* peer_flags: the channel joins this guest to guest peer_domid. */
#define VMBUS_OFFER_PEER_VALID		0x1
#define VMBUS_OFFER_PEER_OPENER		0x2	/* this end grants the rings */
#define VMBUS_OFFER_PEER_FLAGS		0x3
/*
 * xen_flags: this protocol's own offer flags.  Bytes 40..47 of the offer
 * are Hyper-V's interrupt latency, unused here; channel_flags stays
 * Hyper-V's alone, so that a bit Hyper-V defines later cannot collide.
 * A client ignores bits it does not know (older clients read the field as
 * reserved).
 *
 * VMBUS_OFFER_X_REOPEN: the service keeps no state per connection, so a
 * channel open when the bus went away may be opened again on the offer of
 * the next server with the same interface type and instance, as Linux's
 * vmbus_bus_resume() matches the offers made again after a hibernation.
 * Never on a pipe (NAMED_PIPE_MODE: its connection to the service is gone
 * with the server) nor on a channel between guests; a client ignores the
 * bit there.
 */
#define VMBUS_OFFER_X_REOPEN		0x1

/* Largest domain id a peer may have (DOMID_FIRST_RESERVED - 1). */
#define VMBUS_PEER_DOMID_MAX		0x7fef

#define VMBUS_OFFER_USER_DATA_SIZE	120
#define VMBUS_OFFER_MAX_CLASS_VERSIONS	8

/*
 * OFFERCHANNEL, server -> client.  Up to connection_id this is Hyper-V's
 * layout; connection_id is unused (0) because each channel's event channel
 * is set up by OPENCHANNEL.  The tail lists the device class versions the
 * server implements for this offer, preferred first.
 */
struct vmbus_msg_offer_channel {
	struct vmbus_msg_hdr hdr;
	struct vmbus_guid if_type;	/* device class */
	struct vmbus_guid if_instance;	/* this device */
	vmbus_u16 peer_domid;		/* with VMBUS_OFFER_PEER_VALID */
	vmbus_u16 peer_flags;		/* VMBUS_OFFER_PEER_* */
	vmbus_u16 xen_flags;		/* VMBUS_OFFER_X_* */
	vmbus_u16 reserved1;
	vmbus_u64 reserved2;
	vmbus_u16 channel_flags;	/* VMBUS_OFFER_* */
	vmbus_u16 mmio_megabytes;
	vmbus_u8 user_data[VMBUS_OFFER_USER_DATA_SIZE];
	vmbus_u16 sub_channel_index;
	vmbus_u16 reserved3;
	vmbus_u32 child_relid;		/* names the channel from now on, != 0 */
	vmbus_u8 monitor_id;
	vmbus_u8 monitor_flags;
	vmbus_u16 interrupt_flags;
	vmbus_u32 connection_id;
	vmbus_u16 class_version_count;	/* 1..VMBUS_OFFER_MAX_CLASS_VERSIONS */
	vmbus_u16 reserved4;
	vmbus_u32 class_versions[VMBUS_OFFER_MAX_CLASS_VERSIONS];
};
VMBUS_CHECK_SIZE(struct vmbus_msg_offer_channel, 232);
VMBUS_CHECK_OFFSET(struct vmbus_msg_offer_channel, if_type, 8);
VMBUS_CHECK_OFFSET(struct vmbus_msg_offer_channel, if_instance, 24);
VMBUS_CHECK_OFFSET(struct vmbus_msg_offer_channel, peer_domid, 40);
VMBUS_CHECK_OFFSET(struct vmbus_msg_offer_channel, peer_flags, 42);
VMBUS_CHECK_OFFSET(struct vmbus_msg_offer_channel, xen_flags, 44);
VMBUS_CHECK_OFFSET(struct vmbus_msg_offer_channel, reserved1, 46);
VMBUS_CHECK_OFFSET(struct vmbus_msg_offer_channel, channel_flags, 56);
VMBUS_CHECK_OFFSET(struct vmbus_msg_offer_channel, mmio_megabytes, 58);
VMBUS_CHECK_OFFSET(struct vmbus_msg_offer_channel, user_data, 60);
VMBUS_CHECK_OFFSET(struct vmbus_msg_offer_channel, sub_channel_index, 180);
VMBUS_CHECK_OFFSET(struct vmbus_msg_offer_channel, child_relid, 184);
VMBUS_CHECK_OFFSET(struct vmbus_msg_offer_channel, monitor_id, 188);
VMBUS_CHECK_OFFSET(struct vmbus_msg_offer_channel, monitor_flags, 189);
VMBUS_CHECK_OFFSET(struct vmbus_msg_offer_channel, interrupt_flags, 190);
VMBUS_CHECK_OFFSET(struct vmbus_msg_offer_channel, connection_id, 192);
VMBUS_CHECK_OFFSET(struct vmbus_msg_offer_channel, class_version_count, 196);
VMBUS_CHECK_OFFSET(struct vmbus_msg_offer_channel, class_versions, 200);

/* RESCIND_CHANNELOFFER (server), CLOSECHANNEL and RELID_RELEASED (client). */
struct vmbus_msg_relid {
	struct vmbus_msg_hdr hdr;
	vmbus_u32 child_relid;
	vmbus_u32 reserved;
};
VMBUS_CHECK_SIZE(struct vmbus_msg_relid, 16);
VMBUS_CHECK_OFFSET(struct vmbus_msg_relid, child_relid, 8);

/*
 * OPENCHANNEL, client -> server.  ring_gpadl names a GPADL whose first
 * downstream_page_offset grants are the client's send ring (header page and
 * data) and whose remaining grants are the client's receive ring.
 * event_channel is an unbound port the client allocated for the server's
 * domain; both directions of the channel signal through it.
 */
struct vmbus_msg_open_channel {
	struct vmbus_msg_hdr hdr;
	vmbus_u32 child_relid;
	vmbus_u32 open_id;		/* echoed by OPENCHANNEL_RESULT */
	vmbus_u32 ring_gpadl;
	vmbus_u32 target_vp;
	vmbus_u32 downstream_page_offset;
	vmbus_u8 user_data[VMBUS_OFFER_USER_DATA_SIZE];
	vmbus_u32 class_version;	/* chosen from the offer's list */
	vmbus_u32 event_channel;
	vmbus_u32 reserved;
};
VMBUS_CHECK_SIZE(struct vmbus_msg_open_channel, 160);
VMBUS_CHECK_OFFSET(struct vmbus_msg_open_channel, child_relid, 8);
VMBUS_CHECK_OFFSET(struct vmbus_msg_open_channel, open_id, 12);
VMBUS_CHECK_OFFSET(struct vmbus_msg_open_channel, ring_gpadl, 16);
VMBUS_CHECK_OFFSET(struct vmbus_msg_open_channel, target_vp, 20);
VMBUS_CHECK_OFFSET(struct vmbus_msg_open_channel, downstream_page_offset, 24);
VMBUS_CHECK_OFFSET(struct vmbus_msg_open_channel, user_data, 28);
VMBUS_CHECK_OFFSET(struct vmbus_msg_open_channel, class_version, 148);
VMBUS_CHECK_OFFSET(struct vmbus_msg_open_channel, event_channel, 152);
/*
 * The acceptor of a peer channel sends ring_gpadl, event_channel and
 * downstream_page_offset as 0: its rings come with PEER_OPEN.  On an offer
 * with VMBUS_OFFER_PEER_OPENER, ring_gpadl names grants made to peer_domid
 * and event_channel a port left unbound for peer_domid.
 */

/* OPENCHANNEL_RESULT, server -> client. */
struct vmbus_msg_open_result {
	struct vmbus_msg_hdr hdr;
	vmbus_u32 child_relid;
	vmbus_u32 open_id;
	vmbus_u32 status;		/* VMBUS_STATUS_* */
	vmbus_u32 reserved;
};
VMBUS_CHECK_SIZE(struct vmbus_msg_open_result, 24);
VMBUS_CHECK_OFFSET(struct vmbus_msg_open_result, child_relid, 8);
VMBUS_CHECK_OFFSET(struct vmbus_msg_open_result, open_id, 12);
VMBUS_CHECK_OFFSET(struct vmbus_msg_open_result, status, 16);

/*
 * GPADL_HEADER, client -> server: the first part of a range buffer
 * (gpadl.h) of range_buflen bytes holding range_count ranges.  GPADL_BODY
 * messages numbered 1, 2, ... carry the rest, in order.  Every message but
 * the last carries as many bytes as its length says (a multiple of 4); the
 * last carries what remains, padded with zeros to 8 bytes.
 */
struct vmbus_msg_gpadl_header {
	struct vmbus_msg_hdr hdr;
	vmbus_u32 child_relid;
	vmbus_u32 gpadl_id;		/* chosen by the client, != 0 */
	vmbus_u16 range_buflen;
	vmbus_u16 range_count;
	/* range buffer, first part */
};
VMBUS_CHECK_SIZE(struct vmbus_msg_gpadl_header, 20);
VMBUS_CHECK_OFFSET(struct vmbus_msg_gpadl_header, child_relid, 8);
VMBUS_CHECK_OFFSET(struct vmbus_msg_gpadl_header, gpadl_id, 12);
VMBUS_CHECK_OFFSET(struct vmbus_msg_gpadl_header, range_buflen, 16);
VMBUS_CHECK_OFFSET(struct vmbus_msg_gpadl_header, range_count, 18);

struct vmbus_msg_gpadl_body {
	struct vmbus_msg_hdr hdr;
	vmbus_u32 msgnumber;		/* 1, 2, ... */
	vmbus_u32 gpadl_id;
	/* range buffer, next part */
};
VMBUS_CHECK_SIZE(struct vmbus_msg_gpadl_body, 16);
VMBUS_CHECK_OFFSET(struct vmbus_msg_gpadl_body, msgnumber, 8);
VMBUS_CHECK_OFFSET(struct vmbus_msg_gpadl_body, gpadl_id, 12);

/* Range-buffer bytes one message can carry. */
#define VMBUS_GPADL_HEADER_MAX_DATA \
	(VMBUS_MSG_MAX_SIZE - sizeof(struct vmbus_msg_gpadl_header))
#define VMBUS_GPADL_BODY_MAX_DATA \
	(VMBUS_MSG_MAX_SIZE - sizeof(struct vmbus_msg_gpadl_body))

/* GPADL_CREATED, server -> client. */
struct vmbus_msg_gpadl_created {
	struct vmbus_msg_hdr hdr;
	vmbus_u32 child_relid;
	vmbus_u32 gpadl_id;
	vmbus_u32 status;		/* VMBUS_STATUS_* */
	vmbus_u32 reserved;
};
VMBUS_CHECK_SIZE(struct vmbus_msg_gpadl_created, 24);
VMBUS_CHECK_OFFSET(struct vmbus_msg_gpadl_created, child_relid, 8);
VMBUS_CHECK_OFFSET(struct vmbus_msg_gpadl_created, gpadl_id, 12);
VMBUS_CHECK_OFFSET(struct vmbus_msg_gpadl_created, status, 16);

/* GPADL_TEARDOWN, client -> server. */
struct vmbus_msg_gpadl_teardown {
	struct vmbus_msg_hdr hdr;
	vmbus_u32 child_relid;
	vmbus_u32 gpadl_id;
};
VMBUS_CHECK_SIZE(struct vmbus_msg_gpadl_teardown, 16);
VMBUS_CHECK_OFFSET(struct vmbus_msg_gpadl_teardown, child_relid, 8);
VMBUS_CHECK_OFFSET(struct vmbus_msg_gpadl_teardown, gpadl_id, 12);

/* GPADL_TORNDOWN, server -> client: the server has unmapped every grant. */
struct vmbus_msg_gpadl_torndown {
	struct vmbus_msg_hdr hdr;
	vmbus_u32 gpadl_id;
	vmbus_u32 reserved;
};
VMBUS_CHECK_SIZE(struct vmbus_msg_gpadl_torndown, 16);
VMBUS_CHECK_OFFSET(struct vmbus_msg_gpadl_torndown, gpadl_id, 8);

/*
 * PEER_GPADL_HEADER and PEER_GPADL_BODY, server -> acceptor: the opener's
 * ring GPADL, laid out exactly as GPADL_HEADER and GPADL_BODY (the structs
 * above), with child_relid naming the acceptor's channel and gpadl_id the
 * opener's GPADL.  The grants belong to the peer domain.
 */

/*
 * PEER_OPEN, server -> acceptor: map the forwarded GPADL ring_gpadl of
 * domain peer_domid (its first downstream_page_offset pages are the
 * opener's send ring, hence the acceptor's receive ring) and bind port
 * event_channel of peer_domid.  open_id is echoed by PEER_OPEN_RESULT.
 */
struct vmbus_msg_peer_open {
	struct vmbus_msg_hdr hdr;
	vmbus_u32 child_relid;
	vmbus_u32 open_id;
	vmbus_u32 ring_gpadl;
	vmbus_u32 downstream_page_offset;
	vmbus_u32 event_channel;
	vmbus_u32 class_version;
	vmbus_u16 peer_domid;
	vmbus_u16 reserved1;
	vmbus_u32 reserved2;
};
VMBUS_CHECK_SIZE(struct vmbus_msg_peer_open, 40);
VMBUS_CHECK_OFFSET(struct vmbus_msg_peer_open, child_relid, 8);
VMBUS_CHECK_OFFSET(struct vmbus_msg_peer_open, open_id, 12);
VMBUS_CHECK_OFFSET(struct vmbus_msg_peer_open, ring_gpadl, 16);
VMBUS_CHECK_OFFSET(struct vmbus_msg_peer_open, downstream_page_offset, 20);
VMBUS_CHECK_OFFSET(struct vmbus_msg_peer_open, event_channel, 24);
VMBUS_CHECK_OFFSET(struct vmbus_msg_peer_open, class_version, 28);
VMBUS_CHECK_OFFSET(struct vmbus_msg_peer_open, peer_domid, 32);

/* PEER_OPEN_RESULT, acceptor -> server: same layout as OPENCHANNEL_RESULT. */

/*
 * Hyper-V sockets (Linux's hv_sock), as Hyper-V carries them.
 *
 * TL_CONNECT_REQUEST, client -> server: the guest's connect() to service
 * host_service_id from its endpoint guest_endpoint_id.  The host answers
 * by offering a channel whose if_type is the service and if_instance the
 * endpoint, with NAMED_PIPE_MODE and TLNPI_PROVIDER set and
 * struct vmbus_hvsock_user_data in user_data; the guest opens it.  A
 * connection the host makes to a guest's listening service is offered
 * the same way, with is_for_guest_accept set and the roles of the two
 * GUIDs as the guest listens (if_type its service, if_instance the
 * host's endpoint).
 *
 * TL_CONNECT_RESULT, server -> client: sent only to refuse a request
 * (status an HRESULT, negative), never for a success, as Hyper-V does
 * from Windows 10 1809 on; a client that sends TL_CONNECT_REQUEST knows
 * both messages (Linux ignores the result and times out its connect).
 *
 * Data: every in-band packet starts with struct vmbus_vmpipe_hdr, type
 * VMBUS_VMPIPE_DATA and the bytes that follow; a packet of none is the
 * end of the sender's stream (hv_sock's shutdown).
 */
struct vmbus_msg_tl_connect_request {
	struct vmbus_msg_hdr hdr;
	struct vmbus_guid guest_endpoint_id;
	struct vmbus_guid host_service_id;
};
VMBUS_CHECK_SIZE(struct vmbus_msg_tl_connect_request, 40);
VMBUS_CHECK_OFFSET(struct vmbus_msg_tl_connect_request, host_service_id, 24);

struct vmbus_msg_tl_connect_result {
	struct vmbus_msg_hdr hdr;
	struct vmbus_guid guest_endpoint_id;
	struct vmbus_guid host_service_id;
	vmbus_u32 status;		/* an HRESULT, always a failure */
	vmbus_u32 reserved;
};
VMBUS_CHECK_SIZE(struct vmbus_msg_tl_connect_result, 48);
VMBUS_CHECK_OFFSET(struct vmbus_msg_tl_connect_result, status, 40);

/* HRESULT_FROM_WIN32(WSAECONNREFUSED): nobody listens on the service. */
#define VMBUS_TL_CONNREFUSED		0x8007274du

/* user_data of an hv_sock offer (Windows' layout, packed there). */
struct vmbus_hvsock_user_data {
	vmbus_u32 pipe_mode;		/* VMBUS_PIPE_TYPE_BYTE */
	vmbus_u8 is_for_guest_accept;	/* the host connects to the guest */
	vmbus_u8 is_for_guest_container;
	vmbus_u8 version[4];		/* 0: before RS5, 1: RS5 (silo) */
	vmbus_u8 silo_id[16];
	vmbus_u8 padding[2];
};
VMBUS_CHECK_SIZE(struct vmbus_hvsock_user_data, 28);
VMBUS_CHECK_OFFSET(struct vmbus_hvsock_user_data, is_for_guest_accept, 4);
VMBUS_CHECK_OFFSET(struct vmbus_hvsock_user_data, silo_id, 10);

/*
 * The service GUID of vsock port P, as hv_sock maps them: P in the first
 * four bytes (little-endian), then these twelve (00000000-facb-11e6-
 * bd58-64006a7986d3 in Hyper-V's byte order).
 */
#define VMBUS_HVSOCK_TEMPLATE_TAIL \
	{ 0xcb, 0xfa, 0xe6, 0x11, 0xbd, 0x58, 0x64, 0x00, 0x6a, 0x79, 0x86, 0xd3 }

/* The VMPIPE packet header (struct vmpipe_proto_header). */
struct vmbus_vmpipe_hdr {
	vmbus_u32 type;			/* VMBUS_VMPIPE_DATA */
	vmbus_u32 size;			/* bytes that follow */
};
VMBUS_CHECK_SIZE(struct vmbus_vmpipe_hdr, 8);
#define VMBUS_VMPIPE_DATA		1
/* hv_sock's largest packet payload (HVS_MTU_SIZE). */
#define VMBUS_HVSOCK_MTU		(16 * 1024)


#endif /* XENVMBUS_MSG_H */
