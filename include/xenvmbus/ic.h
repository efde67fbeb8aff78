/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hyper-V integration services (ICs) on the wire: heartbeat, shutdown,
 * time synchronisation and key/value exchange, as Linux's hv_utils
 * (drivers/hv/hv_util.c, hv_kvp.c, include/linux/hyperv.h and
 * include/uapi/linux/hyperv.h) speaks them to the host.
 *
 * Each IC is a message-mode pipe channel.  Every in-band packet is
 *
 *   struct vmbus_ic_pipe_hdr   8 bytes, flags VMBUS_IC_PIPE_DATA, size of
 *                              the rest (Linux reads it as struct
 *                              vmbuspipe_hdr and ignores it)
 *   struct vmbus_ic_hdr        20 bytes: framework and message versions,
 *                              type, body size, status, flags
 *   body                       icmsgsize bytes, per type below
 *
 * The host asks, the guest answers: a request carries
 * TRANSACTION|REQUEST; the guest sends the same buffer back (as long as
 * the request was) with TRANSACTION|RESPONSE, the status set and the body
 * filled in, under the request's VMBus transaction id.  The first request
 * on a channel is VMBUS_IC_MSG_NEGOTIATE: the host lists the framework
 * versions it speaks, then the message versions, oldest first as OpenVMM
 * does; the guest answers with one of each (counts 1 and 1) or none
 * (counts 0 and 0: no common version).  Later headers carry the chosen
 * versions.
 *
 * Strings of the key/value exchange are UTF-16LE with their NUL, sizes in
 * bytes including it.  All fields little-endian.
 */
#ifndef XENVMBUS_IC_H
#define XENVMBUS_IC_H

#include <xenvmbus/compat.h>

/*
 * Device classes (offer if_type), as Linux's HV_*_GUID.  On the wire in
 * Hyper-V's byte order, as every GUID on the bus: the first three fields
 * little-endian (guid_t, vmbus_guid_parse()).
 */
#define VMBUS_IC_HEARTBEAT_GUID	"57164f39-9115-4e78-ab55-382f3bd5422d"
#define VMBUS_IC_SHUTDOWN_GUID	"0e0b6031-5213-4934-818b-38d90ced39db"
#define VMBUS_IC_TIMESYNC_GUID	"9527e630-d0ae-497b-adce-e80ab0175caf"
#define VMBUS_IC_KVP_GUID	"a9a0f4e7-5a45-4d96-b827-8a841e8c03e6"

/* A version: major.minor, and as (major << 16 | minor) in tables. */
struct vmbus_ic_version {
	vmbus_u16 major;
	vmbus_u16 minor;
};
VMBUS_CHECK_SIZE(struct vmbus_ic_version, 4);
#define VMBUS_IC_VER(major, minor)	(((major) << 16) | (minor))

/* Pipe header in front of every IC message (VMPIPE message-mode data). */
struct vmbus_ic_pipe_hdr {
	vmbus_u32 flags;		/* VMBUS_IC_PIPE_DATA */
	vmbus_u32 size;			/* bytes after this header */
};
VMBUS_CHECK_SIZE(struct vmbus_ic_pipe_hdr, 8);
#define VMBUS_IC_PIPE_DATA	1

/* icmsg_hdr. */
struct vmbus_ic_hdr {
	struct vmbus_ic_version framework;
	vmbus_u16 type;			/* VMBUS_IC_MSG_* */
	struct vmbus_ic_version version;
	vmbus_u16 size;			/* body bytes after the header */
	vmbus_u32 status;		/* VMBUS_IC_S_* / _E_* */
	vmbus_u8 transaction_id;
	vmbus_u8 flags;			/* VMBUS_IC_FLAG_* */
	vmbus_u8 reserved[2];
};
VMBUS_CHECK_SIZE(struct vmbus_ic_hdr, 20);
VMBUS_CHECK_OFFSET(struct vmbus_ic_hdr, type, 4);
VMBUS_CHECK_OFFSET(struct vmbus_ic_hdr, version, 6);
VMBUS_CHECK_OFFSET(struct vmbus_ic_hdr, size, 10);
VMBUS_CHECK_OFFSET(struct vmbus_ic_hdr, status, 12);
VMBUS_CHECK_OFFSET(struct vmbus_ic_hdr, transaction_id, 16);
VMBUS_CHECK_OFFSET(struct vmbus_ic_hdr, flags, 17);

/* Both headers: where a body starts (Linux's ICMSG_HDR). */
#define VMBUS_IC_HDRS_SIZE	28

/* Message types (ICMSGTYPE_*). */
#define VMBUS_IC_MSG_NEGOTIATE	0
#define VMBUS_IC_MSG_HEARTBEAT	1
#define VMBUS_IC_MSG_KVP	2
#define VMBUS_IC_MSG_SHUTDOWN	3
#define VMBUS_IC_MSG_TIMESYNC	4

/* Header flags (ICMSGHDRFLAG_*). */
#define VMBUS_IC_FLAG_TRANSACTION	0x1
#define VMBUS_IC_FLAG_REQUEST		0x2
#define VMBUS_IC_FLAG_RESPONSE		0x4

/* Statuses (HRESULTs). */
#define VMBUS_IC_S_OK		0x00000000u
#define VMBUS_IC_E_FAIL		0x80004005u
#define VMBUS_IC_S_CONT		0x80070103u	/* KVP: no more entries */

/* Framework versions. */
#define VMBUS_IC_FW_1_0		VMBUS_IC_VER(1, 0)
#define VMBUS_IC_FW_3_0		VMBUS_IC_VER(3, 0)

/* The most versions of either kind a negotiation may list (Linux's). */
#define VMBUS_IC_NEGOTIATE_MAX	100

/* VMBUS_IC_MSG_NEGOTIATE body: counts, then the versions. */
struct vmbus_ic_negotiate {
	vmbus_u16 framework_count;
	vmbus_u16 message_count;
	vmbus_u32 reserved;
	/* struct vmbus_ic_version versions[framework_count + message_count] */
};
VMBUS_CHECK_SIZE(struct vmbus_ic_negotiate, 8);

/* VMBUS_IC_MSG_HEARTBEAT: the guest answers with seq + 1. */
struct vmbus_ic_heartbeat {
	vmbus_u64 seq;
	vmbus_u32 reserved[8];
};
VMBUS_CHECK_SIZE(struct vmbus_ic_heartbeat, 40);

/* VMBUS_IC_MSG_SHUTDOWN. */
struct vmbus_ic_shutdown {
	vmbus_u32 reason;		/* VMBUS_IC_SHUTDOWN_REASON_* */
	vmbus_u32 timeout_s;
	vmbus_u32 flags;		/* VMBUS_IC_SHUTDOWN_* */
	vmbus_u8 message[2048];
};
VMBUS_CHECK_SIZE(struct vmbus_ic_shutdown, 2060);
#define VMBUS_IC_SHUTDOWN_FORCE		0x1
#define VMBUS_IC_SHUTDOWN_RESTART	0x2
#define VMBUS_IC_SHUTDOWN_HIBERNATE	0x4
#define VMBUS_IC_SHUTDOWN_REASON_PLANNED 0x80000000u

/*
 * VMBUS_IC_MSG_TIMESYNC up to version 3 (struct ictimesync_data): the
 * host's time in 100 ns units since 1601-01-01 UTC.  Linux reads 25 bytes
 * (it is packed there); the tail is padding.
 */
struct vmbus_ic_timesync {
	vmbus_u64 parent_time;
	vmbus_u64 child_time;
	vmbus_u64 round_trip_time;
	vmbus_u8 flags;			/* VMBUS_IC_TIMESYNC_* */
	vmbus_u8 reserved[7];
};
VMBUS_CHECK_SIZE(struct vmbus_ic_timesync, 32);
VMBUS_CHECK_OFFSET(struct vmbus_ic_timesync, flags, 24);
#define VMBUS_IC_TIMESYNC_WIRE_SIZE	25
#define VMBUS_IC_TIMESYNC_PROBE		0x0
#define VMBUS_IC_TIMESYNC_SYNC		0x1
#define VMBUS_IC_TIMESYNC_SAMPLE	0x2
/* Seconds from 1601-01-01 to 1970-01-01, in 100 ns (Linux's WLTIMEDELTA). */
#define VMBUS_IC_TIME_DELTA		116444736000000000ull

/* --- key/value exchange (struct hv_kvp_msg, packed there) --- */

#define VMBUS_IC_KVP_KEY_MAX		512	/* bytes of UTF-16 */
#define VMBUS_IC_KVP_VALUE_MAX		2048

/* Operations and pools (enum hv_kvp_exchg_op, hv_kvp_exchg_pool). */
#define VMBUS_IC_KVP_GET		0
#define VMBUS_IC_KVP_SET		1
#define VMBUS_IC_KVP_DELETE		2
#define VMBUS_IC_KVP_ENUMERATE		3
#define VMBUS_IC_KVP_POOLS		5	/* external, guest, auto, ... */
/* Value types (REG_*). */
#define VMBUS_IC_KVP_REG_SZ		1
#define VMBUS_IC_KVP_REG_U32		4
#define VMBUS_IC_KVP_REG_U64		8

struct vmbus_ic_kvp_hdr {
	vmbus_u8 operation;
	vmbus_u8 pool;
	vmbus_u16 pad;
};
VMBUS_CHECK_SIZE(struct vmbus_ic_kvp_hdr, 4);

struct vmbus_ic_kvp_value {
	vmbus_u32 value_type;		/* VMBUS_IC_KVP_REG_* */
	vmbus_u32 key_size;		/* bytes, NUL included */
	vmbus_u32 value_size;
	vmbus_u8 key[VMBUS_IC_KVP_KEY_MAX];
	vmbus_u8 value[VMBUS_IC_KVP_VALUE_MAX];
};
VMBUS_CHECK_SIZE(struct vmbus_ic_kvp_value, 2572);
VMBUS_CHECK_OFFSET(struct vmbus_ic_kvp_value, key, 12);
VMBUS_CHECK_OFFSET(struct vmbus_ic_kvp_value, value, 524);

/*
 * VMBUS_IC_MSG_KVP body.  GET and SET carry the value right after the
 * header; ENUMERATE an index first; DELETE only the key.  The host sends
 * the whole structure, so that the guest's answer (written in place) fits.
 */
struct vmbus_ic_kvp {
	struct vmbus_ic_kvp_hdr hdr;
	union {
		struct vmbus_ic_kvp_value get;	/* and set */
		struct {
			vmbus_u32 index;
			struct vmbus_ic_kvp_value data;
		} enumerate;
		struct {
			vmbus_u32 key_size;
			vmbus_u8 key[VMBUS_IC_KVP_KEY_MAX];
		} del;
	} u;
};
VMBUS_CHECK_SIZE(struct vmbus_ic_kvp, 2580);
VMBUS_CHECK_OFFSET(struct vmbus_ic_kvp, u.get, 4);
VMBUS_CHECK_OFFSET(struct vmbus_ic_kvp, u.enumerate.data, 8);

/* The largest IC packet payload the host sends: both headers and a KVP. */
#define VMBUS_IC_MSG_MAX	(8 + VMBUS_IC_HDRS_SIZE + 2580)

#endif /* XENVMBUS_IC_H */
