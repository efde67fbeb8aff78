/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VMBus storage protocol (VSTOR), as Hyper-V's storvsp and Linux's
 * drivers/scsi/storvsc_drv.c speak it, carried over Xen.
 *
 * The contract between the client (storvsc, in the guest) and the server
 * (the storage VSP, in dom0)
 * --------------------------------------------------------------------
 *  - One channel of class VSTOR_SCSI_CLASS_GUID per SCSI controller.  Every
 *    message is a struct vstor_packet; the client sends it as the payload
 *    of a DATA_INBAND packet (no data) or of a DATA_USING_GPA_DIRECT packet
 *    (ring.h) whose range buffer names the data buffer, always asking for a
 *    completion.  The server answers each with a COMP packet carrying the
 *    same trans_id and a struct vstor_packet (operation COMPLETE_IO).  The
 *    server may also send in-band packets with trans_id 0 on its own
 *    (ENUMERATE_BUS, REMOVE_DEVICE: the LUN set changed).
 *  - Where Hyper-V puts 64-bit guest PFNs in the range buffer, this
 *    protocol puts 32-bit grant references to the server's domain
 *    (gpadl.h); nothing else differs from Hyper-V.
 *  - Initialisation, each step a request answered by COMPLETE_IO with
 *    status 0: BEGIN_INITIALIZATION; QUERY_PROTOCOL_VERSION, repeated with
 *    the client's versions in order of preference until one is answered
 *    with status 0 (others: VSTOR_STATUS_REVISION_MISMATCH);
 *    QUERY_PROPERTIES (the answer carries struct vstor_channel_properties);
 *    END_INITIALIZATION.  Then, from version WIN8 on and if the properties
 *    say so, CREATE_SUB_CHANNELS with a count up to max_channel_cnt; the
 *    sub-channels arrive as offers of the same instance.
 *  - EXECUTE_SRB carries a SCSI command (struct vstor_scsi_req); the answer
 *    carries the same structure with srb_status, scsi_status, the sense
 *    data (when scsi_status is CHECK CONDITION and srb_status has
 *    VSTOR_SRB_STATUS_AUTOSENSE_VALID) in place of the CDB, and
 *    data_transfer_length set to the bytes moved.
 *  - Before version WIN8 the packets are VSTOR_PACKET_SIZE_WIN7 bytes long:
 *    the request lacks its win8 extension.  From WIN8 on they are
 *    VSTOR_PACKET_SIZE bytes.
 *
 * All fields are little-endian and packed, as on Hyper-V.
 */
#ifndef XENVMBUS_STORVSC_H
#define XENVMBUS_STORVSC_H

#include <xenvmbus/compat.h>

/* Device class of the synthetic SCSI controller (Hyper-V's). */
#define VSTOR_SCSI_CLASS_GUID	"ba6163d9-04a1-4d29-b605-72e2ffb1dc7f"
/* Device class of the synthetic IDE accelerator (Hyper-V's), not served. */
#define VSTOR_IDE_CLASS_GUID	"32412632-86cb-44a2-9b5c-50d1417354f5"

/* VMBus class version of the channel (the offer), 1.0 on Hyper-V. */
#define VSTOR_CLASS_VERSION	((1u << 16) | 0u)

/* Protocol versions: major in the high byte, minor in the low byte. */
#define VSTOR_PROTO_VERSION(major, minor) \
	((vmbus_u16)((((major) & 0xff) << 8) | ((minor) & 0xff)))
#define VSTOR_PROTO_VERSION_WIN6	VSTOR_PROTO_VERSION(2, 0)
#define VSTOR_PROTO_VERSION_WIN7	VSTOR_PROTO_VERSION(4, 2)
#define VSTOR_PROTO_VERSION_WIN8	VSTOR_PROTO_VERSION(5, 1)
#define VSTOR_PROTO_VERSION_WIN8_1	VSTOR_PROTO_VERSION(6, 0)
#define VSTOR_PROTO_VERSION_WIN10	VSTOR_PROTO_VERSION(6, 2)

/* enum vstor_packet_operation */
#define VSTOR_OP_COMPLETE_IO		1
#define VSTOR_OP_REMOVE_DEVICE		2
#define VSTOR_OP_EXECUTE_SRB		3
#define VSTOR_OP_RESET_LUN		4
#define VSTOR_OP_RESET_ADAPTER		5
#define VSTOR_OP_RESET_BUS		6
#define VSTOR_OP_BEGIN_INITIALIZATION	7
#define VSTOR_OP_END_INITIALIZATION	8
#define VSTOR_OP_QUERY_PROTOCOL_VERSION	9
#define VSTOR_OP_QUERY_PROPERTIES	10
#define VSTOR_OP_ENUMERATE_BUS		11
#define VSTOR_OP_FCHBA_DATA		12
#define VSTOR_OP_CREATE_SUB_CHANNELS	13
#define VSTOR_OP_MAXIMUM		13

/* vstor_packet.flags */
#define VSTOR_FLAG_REQUEST_COMPLETION	0x1

/* vstor_packet.status: NTSTATUS values Hyper-V answers with. */
#define VSTOR_STATUS_SUCCESS		0x00000000u
#define VSTOR_STATUS_UNSUCCESSFUL	0xc0000001u
#define VSTOR_STATUS_INVALID_PARAMETER	0xc000000du
#define VSTOR_STATUS_INVALID_DEVICE_STATE 0xc0000184u
#define VSTOR_STATUS_REVISION_MISMATCH	0xc0000059u
#define VSTOR_STATUS_NOT_SUPPORTED	0xc00000bbu

/* Sizes of the SCSI request's variable parts. */
#define VSTOR_MAX_CDB_LEN		0x10
#define VSTOR_SENSE_BUFFER_SIZE		0x14	/* from WIN8 on */
#define VSTOR_SENSE_BUFFER_SIZE_WIN7	0x12	/* before WIN8 */
#define VSTOR_MAX_BUF_LEN_WITH_PADDING	0x14

/* SRB status (srb_status), as Windows' SCSI request blocks name them. */
#define VSTOR_SRB_STATUS_PENDING	0x00
#define VSTOR_SRB_STATUS_SUCCESS	0x01
#define VSTOR_SRB_STATUS_ABORTED	0x02
#define VSTOR_SRB_STATUS_ERROR		0x04
#define VSTOR_SRB_STATUS_INVALID_REQUEST 0x06
#define VSTOR_SRB_STATUS_TIMEOUT	0x09
#define VSTOR_SRB_STATUS_SELECTION_TIMEOUT 0x0a
#define VSTOR_SRB_STATUS_BUS_RESET	0x0e
#define VSTOR_SRB_STATUS_DATA_OVERRUN	0x12
#define VSTOR_SRB_STATUS_INVALID_LUN	0x20
#define VSTOR_SRB_STATUS_INTERNAL_ERROR	0x30
#define VSTOR_SRB_STATUS_QUEUE_FROZEN	0x40
#define VSTOR_SRB_STATUS_AUTOSENSE_VALID 0x80
#define VSTOR_SRB_STATUS(s) \
	((s) & ~(VSTOR_SRB_STATUS_AUTOSENSE_VALID | VSTOR_SRB_STATUS_QUEUE_FROZEN))

/* SRB flags (win8 extension's srb_flags). */
#define VSTOR_SRB_FLAGS_QUEUE_ACTION_ENABLE	0x00000002
#define VSTOR_SRB_FLAGS_DISABLE_DISCONNECT	0x00000004
#define VSTOR_SRB_FLAGS_DISABLE_SYNCH_TRANSFER	0x00000008
#define VSTOR_SRB_FLAGS_BYPASS_FROZEN_QUEUE	0x00000010
#define VSTOR_SRB_FLAGS_DISABLE_AUTOSENSE	0x00000020
#define VSTOR_SRB_FLAGS_DATA_IN			0x00000040
#define VSTOR_SRB_FLAGS_DATA_OUT		0x00000080
#define VSTOR_SRB_FLAGS_NO_DATA_TRANSFER	0x00000000
#define VSTOR_SRB_FLAGS_NO_QUEUE_FREEZE		0x00000100
#define VSTOR_SRB_FLAGS_ADAPTER_CACHE_ENABLE	0x00000200
#define VSTOR_SRB_FLAGS_FREE_SENSE_BUFFER	0x00000400

/* vstor_scsi_req.data_in */
#define VSTOR_WRITE_TYPE	0
#define VSTOR_READ_TYPE		1
#define VSTOR_UNKNOWN_TYPE	2

/* storage_channel_properties.flags */
#define VSTOR_PROP_MULTI_CHANNEL	0x1

/* Added to struct vstor_scsi_req in WIN8 (absent before). */
struct vstor_win8_ext {
	vmbus_u16 reserve;
	vmbus_u8 queue_tag;
	vmbus_u8 queue_action;
	vmbus_u32 srb_flags;
	vmbus_u32 time_out_value;
	vmbus_u32 queue_sort_key;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct vstor_win8_ext, 16);
VMBUS_CHECK_OFFSET(struct vstor_win8_ext, srb_flags, 4);

/* EXECUTE_SRB: Linux's struct vmscsi_request. */
struct vstor_scsi_req {
	vmbus_u16 length;		/* of this structure as the client sees it */
	vmbus_u8 srb_status;
	vmbus_u8 scsi_status;

	vmbus_u8 port_number;
	vmbus_u8 path_id;
	vmbus_u8 target_id;
	vmbus_u8 lun;

	vmbus_u8 cdb_length;
	vmbus_u8 sense_info_length;
	vmbus_u8 data_in;		/* VSTOR_*_TYPE */
	vmbus_u8 reserved;

	vmbus_u32 data_transfer_length;

	union {
		vmbus_u8 cdb[VSTOR_MAX_CDB_LEN];
		vmbus_u8 sense_data[VSTOR_SENSE_BUFFER_SIZE];
		vmbus_u8 reserved_array[VSTOR_MAX_BUF_LEN_WITH_PADDING];
	} __attribute__((packed));
	struct vstor_win8_ext win8_extension;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct vstor_scsi_req, 0x34);
VMBUS_CHECK_OFFSET(struct vstor_scsi_req, srb_status, 2);
VMBUS_CHECK_OFFSET(struct vstor_scsi_req, scsi_status, 3);
VMBUS_CHECK_OFFSET(struct vstor_scsi_req, port_number, 4);
VMBUS_CHECK_OFFSET(struct vstor_scsi_req, lun, 7);
VMBUS_CHECK_OFFSET(struct vstor_scsi_req, cdb_length, 8);
VMBUS_CHECK_OFFSET(struct vstor_scsi_req, sense_info_length, 9);
VMBUS_CHECK_OFFSET(struct vstor_scsi_req, data_in, 10);
VMBUS_CHECK_OFFSET(struct vstor_scsi_req, data_transfer_length, 12);
VMBUS_CHECK_OFFSET(struct vstor_scsi_req, cdb, 16);
VMBUS_CHECK_OFFSET(struct vstor_scsi_req, sense_data, 16);
VMBUS_CHECK_OFFSET(struct vstor_scsi_req, win8_extension, 36);

/* QUERY_PROPERTIES answer: Linux's struct vmstorage_channel_properties. */
struct vstor_channel_properties {
	vmbus_u32 reserved;
	vmbus_u16 max_channel_cnt;	/* sub-channels the server may offer */
	vmbus_u16 reserved1;
	vmbus_u32 flags;		/* VSTOR_PROP_* */
	vmbus_u32 max_transfer_bytes;
	vmbus_u64 reserved2;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct vstor_channel_properties, 24);
VMBUS_CHECK_OFFSET(struct vstor_channel_properties, max_channel_cnt, 4);
VMBUS_CHECK_OFFSET(struct vstor_channel_properties, flags, 8);
VMBUS_CHECK_OFFSET(struct vstor_channel_properties, max_transfer_bytes, 12);

/* QUERY_PROTOCOL_VERSION */
struct vstor_protocol_version {
	vmbus_u16 major_minor;		/* VSTOR_PROTO_VERSION_* */
	vmbus_u16 revision;		/* Windows builds only; 0 */
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct vstor_protocol_version, 4);

/* FCHBA_DATA: the fibre channel names of a virtual HBA. */
#define VSTOR_WWN_LEN	8
struct vstor_fc_wwn {
	vmbus_u8 primary_active;
	vmbus_u8 reserved1[3];
	vmbus_u8 primary_port_wwn[VSTOR_WWN_LEN];
	vmbus_u8 primary_node_wwn[VSTOR_WWN_LEN];
	vmbus_u8 secondary_port_wwn[VSTOR_WWN_LEN];
	vmbus_u8 secondary_node_wwn[VSTOR_WWN_LEN];
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct vstor_fc_wwn, 36);

/* Linux's struct vstor_packet. */
struct vstor_packet {
	vmbus_u32 operation;		/* VSTOR_OP_* */
	vmbus_u32 flags;		/* VSTOR_FLAG_* */
	vmbus_u32 status;		/* VSTOR_STATUS_*, server's answers */
	union {
		struct vstor_scsi_req srb;
		struct vstor_channel_properties props;
		struct vstor_protocol_version version;
		struct vstor_fc_wwn wwn;
		vmbus_u16 sub_channel_count;
		vmbus_u8 buffer[0x34];
	} __attribute__((packed));
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct vstor_packet, 64);
VMBUS_CHECK_OFFSET(struct vstor_packet, status, 8);
VMBUS_CHECK_OFFSET(struct vstor_packet, srb, 12);
VMBUS_CHECK_OFFSET(struct vstor_packet, props, 12);
VMBUS_CHECK_OFFSET(struct vstor_packet, version, 12);
VMBUS_CHECK_OFFSET(struct vstor_packet, sub_channel_count, 12);

/* Packet sizes: before WIN8 the request has no win8 extension. */
#define VSTOR_PACKET_SIZE		((vmbus_u32)sizeof(struct vstor_packet))
#define VSTOR_PACKET_SIZE_WIN7 \
	(VSTOR_PACKET_SIZE - (vmbus_u32)sizeof(struct vstor_win8_ext))

/*
 * Linux's transaction ids for its own requests (the initialisation and a
 * reset); any other id names one SCSI command (tag + 1).  The server only
 * echoes them.
 */
#define VSTOR_RQST_INIT			(~(vmbus_u64)0 - 2)
#define VSTOR_RQST_RESET		(~(vmbus_u64)0 - 3)

/* SCSI addressing of Hyper-V's controller: disks at target 0, LUN 0-63. */
#define VSTOR_MAX_LUNS			64

#endif /* XENVMBUS_STORVSC_H */
