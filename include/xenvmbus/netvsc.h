/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VMBus network protocol (NVSP) and the RNDIS messages it carries, as
 * Hyper-V's netvsp and Linux's drivers/net/hyperv (hv_netvsc) speak them,
 * carried over Xen.
 *
 * The contract between the client (netvsc, in the guest) and the server
 * (the network VSP, in dom0)
 * --------------------------------------------------------------------
 *  - One channel of class NETVSC_CLASS_GUID per NIC.  Every NVSP message is
 *    a struct nvsp_msg (a 4-byte type, then the type's body); the client
 *    sends its requests in-band, those that expect an answer asking for a
 *    completion, and the server answers them in a COMP packet carrying the
 *    request's trans_id and an nvsp_msg.
 *  - Negotiation, in order: INIT {min = max = version}, tried from the
 *    client's newest version down until INIT_COMPLETE says SUCCESS; from
 *    version 2 on SEND_NDIS_CONFIG {mtu, capabilities} (no answer);
 *    SEND_NDIS_VER (no answer); SEND_RECV_BUF {gpadl, id 0xcafe} answered
 *    by SEND_RECV_BUF_COMPLETE with one section {offset 0, sub_alloc_size,
 *    num_sub_allocs}; SEND_SEND_BUF {gpadl, id 0} answered by
 *    SEND_SEND_BUF_COMPLETE {section_size}.  The two buffers are GPADLs the
 *    client created on the channel beforehand (grant references, gpadl.h).
 *  - Transmit (guest to host): SEND_RNDIS_PKT {channel_type, section
 *    index, section size} asking for a completion.  The RNDIS message is
 *    either in the send buffer at index * section_size (size bytes), or,
 *    with index NVSP_INVALID_SECTION, in the ranges of a
 *    DATA_USING_GPA_DIRECT packet (the ranges' bytes concatenated).  The
 *    server answers SEND_RNDIS_PKT_COMPLETE {status}.
 *  - Receive (host to guest): a DATA_USING_XFER_PAGES packet naming
 *    transfer page set NETVSC_RECV_BUF_ID (the receive buffer; no
 *    ADD_XFER_PAGESET precedes it on Hyper-V, nor here), one range per
 *    RNDIS message, with an in-band SEND_RNDIS_PKT {channel_type} and
 *    asking for a completion.  Until the client completes it with
 *    SEND_RNDIS_PKT_COMPLETE and the same trans_id, the server does not
 *    reuse the ranges.  RNDIS answers (INITIALIZE_CMPLT, QUERY_CMPLT, ...)
 *    and status indications travel this way too.
 *  - Where Hyper-V puts 64-bit guest PFNs (GPADLs, page buffers), this
 *    protocol puts 32-bit grant references to the server's domain
 *    (gpadl.h); nothing else differs from Hyper-V.
 *
 * RNDIS offsets: in QUERY/SET requests and QUERY_CMPLT, info_buf_offset
 * counts from the start of the message body (after msg_type and msg_len);
 * in a PACKET, data_offset and per_pkt_info_offset count from the start of
 * struct rndis_packet, and each per-packet info's ppi_offset from the start
 * of that info.
 *
 * All fields are little-endian and packed, as on Hyper-V.
 */
#ifndef XENVMBUS_NETVSC_H
#define XENVMBUS_NETVSC_H

#include <xenvmbus/compat.h>

/* Device class of the synthetic network adapter (Hyper-V's). */
#define NETVSC_CLASS_GUID	"f8615163-df3e-46c5-913f-f2d2f965ed0e"
/* VMBus class version of the channel (the offer). */
#define NETVSC_CLASS_VERSION	((1u << 16) | 0u)

/* NVSP protocol versions hv_netvsc offers (newest first it tries 6.1). */
#define NVSP_PROTOCOL_VERSION_1		0x00002u
#define NVSP_PROTOCOL_VERSION_2		0x30002u
#define NVSP_PROTOCOL_VERSION_4		0x40000u
#define NVSP_PROTOCOL_VERSION_5		0x50000u
#define NVSP_PROTOCOL_VERSION_6		0x60000u
#define NVSP_PROTOCOL_VERSION_61	0x60001u

/* NDIS versions the client announces (SEND_NDIS_VER). */
#define NDIS_VERSION_6_1		0x00060001u
#define NDIS_VERSION_6_30		0x0006001eu

/* NVSP message types. */
#define NVSP_MSG_TYPE_NONE			0
#define NVSP_MSG_TYPE_INIT			1
#define NVSP_MSG_TYPE_INIT_COMPLETE		2
#define NVSP_MSG1_TYPE_SEND_NDIS_VER		100
#define NVSP_MSG1_TYPE_SEND_RECV_BUF		101
#define NVSP_MSG1_TYPE_SEND_RECV_BUF_COMPLETE	102
#define NVSP_MSG1_TYPE_REVOKE_RECV_BUF		103
#define NVSP_MSG1_TYPE_SEND_SEND_BUF		104
#define NVSP_MSG1_TYPE_SEND_SEND_BUF_COMPLETE	105
#define NVSP_MSG1_TYPE_REVOKE_SEND_BUF		106
#define NVSP_MSG1_TYPE_SEND_RNDIS_PKT		107
#define NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE	108
#define NVSP_MSG2_TYPE_SEND_NDIS_CONFIG		125
#define NVSP_MSG4_TYPE_SEND_VF_ASSOCIATION	128
#define NVSP_MSG4_TYPE_SWITCH_DATA_PATH		129
#define NVSP_MSG4_TYPE_UPLINK_CONNECT_STATE	130
#define NVSP_MSG5_TYPE_OID_QUERY_EX		131
#define NVSP_MSG5_TYPE_OID_QUERY_EX_COMP	132
#define NVSP_MSG5_TYPE_SUBCHANNEL		133
#define NVSP_MSG5_TYPE_SEND_INDIRECTION_TABLE	134
#define NVSP_MSG6_TYPE_PD_API			135
#define NVSP_MSG6_TYPE_PD_POST_BATCH		136

/* NVSP status. */
#define NVSP_STAT_NONE			0
#define NVSP_STAT_SUCCESS		1
#define NVSP_STAT_FAIL			2
#define NVSP_STAT_PROTOCOL_TOO_NEW	3
#define NVSP_STAT_PROTOCOL_TOO_OLD	4
#define NVSP_STAT_INVALID_RNDIS_PKT	5
#define NVSP_STAT_BUSY			6
#define NVSP_STAT_PROTOCOL_UNSUPPORTED	7

/* Buffer ids: the receive buffer's transfer page set, the send buffer. */
#define NETVSC_RECV_BUF_ID		0xcafe
#define NETVSC_SEND_BUF_ID		0
/* send_buf_section_index of a packet whose data is in page buffers. */
#define NVSP_INVALID_SECTION		0xffffffffu
/* channel_type of SEND_RNDIS_PKT */
#define NVSP_RNDIS_CHANNEL_DATA		0
#define NVSP_RNDIS_CHANNEL_CONTROL	1
/* Hyper-V's section sizes (hv_netvsc asks for its buffers in these). */
#define NETVSC_SEND_SECTION_SIZE	6144u
#define NETVSC_RECV_SECTION_SIZE	1728u
/* Entries of the send indirection table (SEND_INDIRECTION_TABLE). */
#define NVSP_SEND_TABLE_SIZE		16
/* NVSP_MSG5_TYPE_SUBCHANNEL op */
#define NVSP_SUBCHANNEL_ALLOCATE	1
/* NVSP_MSG4_TYPE_SWITCH_DATA_PATH */
#define NVSP_DATAPATH_SYNTHETIC		0
#define NVSP_DATAPATH_VF		1

/* SEND_NDIS_CONFIG capability bits. */
#define NVSP_CAP_VMQ			(1ull << 0)
#define NVSP_CAP_CHIMNEY		(1ull << 1)
#define NVSP_CAP_SRIOV			(1ull << 2)
#define NVSP_CAP_IEEE8021Q		(1ull << 3)
#define NVSP_CAP_CORRELATION_ID		(1ull << 4)
#define NVSP_CAP_TEAMING		(1ull << 5)
#define NVSP_CAP_VSUBNETID		(1ull << 6)
#define NVSP_CAP_RSC			(1ull << 7)

struct nvsp_init {
	vmbus_u32 min_protocol_ver;
	vmbus_u32 max_protocol_ver;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct nvsp_init, 8);

struct nvsp_init_complete {
	vmbus_u32 negotiated_protocol_ver;
	vmbus_u32 max_mdl_chain_len;
	vmbus_u32 status;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct nvsp_init_complete, 12);

struct nvsp_ndis_ver {
	vmbus_u32 ndis_major_ver;
	vmbus_u32 ndis_minor_ver;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct nvsp_ndis_ver, 8);

/* SEND_RECV_BUF and SEND_SEND_BUF */
struct nvsp_send_buf {
	vmbus_u32 gpadl_handle;
	vmbus_u16 id;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct nvsp_send_buf, 6);

struct nvsp_recv_buf_section {
	vmbus_u32 offset;
	vmbus_u32 sub_alloc_size;
	vmbus_u32 num_sub_allocs;
	vmbus_u32 end_offset;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct nvsp_recv_buf_section, 16);

struct nvsp_recv_buf_complete {
	vmbus_u32 status;
	vmbus_u32 num_sections;
	struct nvsp_recv_buf_section sections[1];
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct nvsp_recv_buf_complete, 24);

/* REVOKE_RECV_BUF and REVOKE_SEND_BUF */
struct nvsp_revoke_buf {
	vmbus_u16 id;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct nvsp_revoke_buf, 2);

struct nvsp_send_buf_complete {
	vmbus_u32 status;
	vmbus_u32 section_size;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct nvsp_send_buf_complete, 8);

struct nvsp_rndis_pkt {
	vmbus_u32 channel_type;
	vmbus_u32 send_buf_section_index;
	vmbus_u32 send_buf_section_size;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct nvsp_rndis_pkt, 12);

struct nvsp_rndis_pkt_complete {
	vmbus_u32 status;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct nvsp_rndis_pkt_complete, 4);

struct nvsp_ndis_config {
	vmbus_u32 mtu;
	vmbus_u32 reserved;
	vmbus_u64 capability;		/* NVSP_CAP_* */
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct nvsp_ndis_config, 16);

struct nvsp_vf_association {
	vmbus_u32 allocated;
	vmbus_u32 serial;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct nvsp_vf_association, 8);

struct nvsp_switch_data_path {
	vmbus_u32 active_datapath;	/* NVSP_DATAPATH_* */
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct nvsp_switch_data_path, 4);

struct nvsp_subchannel_req {
	vmbus_u32 op;			/* NVSP_SUBCHANNEL_ALLOCATE */
	vmbus_u32 num_subchannels;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct nvsp_subchannel_req, 8);

struct nvsp_subchannel_complete {
	vmbus_u32 status;
	vmbus_u32 num_subchannels;	/* allocated */
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct nvsp_subchannel_complete, 8);

/* The table (count u32 entries) lies at offset bytes from the message's
 * start (its msg_type). */
struct nvsp_send_table {
	vmbus_u32 count;
	vmbus_u32 offset;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct nvsp_send_table, 8);

/* The largest body of any NVSP message hv_netvsc knows (version 6's
 * PD_API completion); every message it sends is this long. */
#define NVSP_MSG_BODY_SIZE	36
#define NVSP_MSG_SIZE		(4 + NVSP_MSG_BODY_SIZE)

struct nvsp_msg {
	vmbus_u32 msg_type;		/* NVSP_MSG*_TYPE_* */
	union {
		struct nvsp_init init;
		struct nvsp_init_complete init_complete;
		struct nvsp_ndis_ver ndis_ver;
		struct nvsp_send_buf send_buf;
		struct nvsp_recv_buf_complete recv_buf_complete;
		struct nvsp_revoke_buf revoke_buf;
		struct nvsp_send_buf_complete send_buf_complete;
		struct nvsp_rndis_pkt rndis_pkt;
		struct nvsp_rndis_pkt_complete rndis_pkt_complete;
		struct nvsp_ndis_config ndis_config;
		struct nvsp_vf_association vf_assoc;
		struct nvsp_switch_data_path data_path;
		struct nvsp_subchannel_req subchannel_req;
		struct nvsp_subchannel_complete subchannel_complete;
		struct nvsp_send_table send_table;
		vmbus_u8 raw[NVSP_MSG_BODY_SIZE];
	} __attribute__((packed)) u;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct nvsp_msg, NVSP_MSG_SIZE);
VMBUS_CHECK_OFFSET(struct nvsp_msg, u, 4);

/* ---- RNDIS ---- */

/* Message types; completions have bit 31 set. */
#define RNDIS_MSG_PACKET		0x00000001u
#define RNDIS_MSG_INIT			0x00000002u
#define RNDIS_MSG_INIT_C		0x80000002u
#define RNDIS_MSG_HALT			0x00000003u
#define RNDIS_MSG_QUERY			0x00000004u
#define RNDIS_MSG_QUERY_C		0x80000004u
#define RNDIS_MSG_SET			0x00000005u
#define RNDIS_MSG_SET_C			0x80000005u
#define RNDIS_MSG_RESET			0x00000006u
#define RNDIS_MSG_RESET_C		0x80000006u
#define RNDIS_MSG_INDICATE		0x00000007u
#define RNDIS_MSG_KEEPALIVE		0x00000008u
#define RNDIS_MSG_KEEPALIVE_C		0x80000008u

/* RNDIS (NDIS) status */
#define RNDIS_STATUS_SUCCESS		0x00000000u
#define RNDIS_STATUS_FAILURE		0xc0000001u
#define RNDIS_STATUS_INVALID_DATA	0xc0010015u
#define RNDIS_STATUS_NOT_SUPPORTED	0xc00000bbu
#define RNDIS_STATUS_INVALID_LENGTH	0xc0010014u
#define RNDIS_STATUS_MEDIA_CONNECT	0x4001000bu
#define RNDIS_STATUS_MEDIA_DISCONNECT	0x4001000cu
#define RNDIS_STATUS_NETWORK_CHANGE	0x40010018u
#define RNDIS_STATUS_LINK_SPEED_CHANGE	0x40010013u

#define RNDIS_MAJOR_VERSION		1
#define RNDIS_MINOR_VERSION		0
#define RNDIS_MEDIUM_802_3		0
#define RNDIS_DF_CONNECTIONLESS		0x00000001u

/* OIDs hv_netvsc queries or sets. */
#define RNDIS_OID_GEN_SUPPORTED_LIST		0x00010101u
#define RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE	0x00010106u
#define RNDIS_OID_GEN_LINK_SPEED		0x00010107u
#define RNDIS_OID_GEN_CURRENT_PACKET_FILTER	0x0001010eu
#define RNDIS_OID_GEN_MAXIMUM_TOTAL_SIZE	0x00010111u
#define RNDIS_OID_GEN_MEDIA_CONNECT_STATUS	0x00010114u
#define RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER	0x0001021bu
#define RNDIS_OID_GEN_RECEIVE_SCALE_CAPABILITIES 0x00010203u
#define RNDIS_OID_GEN_RECEIVE_SCALE_PARAMETERS	0x00010204u
#define RNDIS_OID_802_3_PERMANENT_ADDRESS	0x01010101u
#define RNDIS_OID_802_3_CURRENT_ADDRESS		0x01010102u
#define RNDIS_OID_802_3_MULTICAST_LIST		0x01010103u
#define RNDIS_OID_OFFLOAD_ENCAPSULATION		0x0101010au
#define RNDIS_OID_TCP_OFFLOAD_PARAMETERS	0xfc01020cu
#define RNDIS_OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES 0xfc01020du

/* OID_GEN_MEDIA_CONNECT_STATUS values */
#define RNDIS_MEDIA_STATE_CONNECTED	0
#define RNDIS_MEDIA_STATE_DISCONNECTED	1

/* Packet filter bits (OID_GEN_CURRENT_PACKET_FILTER). */
#define RNDIS_PACKET_TYPE_DIRECTED	0x00000001u
#define RNDIS_PACKET_TYPE_MULTICAST	0x00000002u
#define RNDIS_PACKET_TYPE_ALL_MULTICAST	0x00000004u
#define RNDIS_PACKET_TYPE_BROADCAST	0x00000008u
#define RNDIS_PACKET_TYPE_PROMISCUOUS	0x00000020u

struct rndis_msg_hdr {
	vmbus_u32 msg_type;		/* RNDIS_MSG_* */
	vmbus_u32 msg_len;		/* the whole message, header included */
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct rndis_msg_hdr, 8);

struct rndis_init_req {
	vmbus_u32 req_id;
	vmbus_u32 major_ver;
	vmbus_u32 minor_ver;
	vmbus_u32 max_xfer_size;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct rndis_init_req, 16);

struct rndis_init_complete {
	vmbus_u32 req_id;
	vmbus_u32 status;
	vmbus_u32 major_ver;
	vmbus_u32 minor_ver;
	vmbus_u32 dev_flags;
	vmbus_u32 medium;
	vmbus_u32 max_pkt_per_msg;
	vmbus_u32 max_xfer_size;
	vmbus_u32 pkt_alignment_factor;
	vmbus_u32 af_list_offset;
	vmbus_u32 af_list_size;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct rndis_init_complete, 44);

/* QUERY and SET requests (SET's info buffer follows at info_buf_offset) */
struct rndis_query_req {
	vmbus_u32 req_id;
	vmbus_u32 oid;
	vmbus_u32 info_buflen;
	vmbus_u32 info_buf_offset;
	vmbus_u32 dev_vc_handle;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct rndis_query_req, 20);

struct rndis_query_complete {
	vmbus_u32 req_id;
	vmbus_u32 status;
	vmbus_u32 info_buflen;
	vmbus_u32 info_buf_offset;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct rndis_query_complete, 16);

/* SET_C and KEEPALIVE_C */
struct rndis_req_complete {
	vmbus_u32 req_id;
	vmbus_u32 status;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct rndis_req_complete, 8);

struct rndis_reset_complete {
	vmbus_u32 status;
	vmbus_u32 addressing_reset;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct rndis_reset_complete, 8);

struct rndis_indicate_status {
	vmbus_u32 status;		/* RNDIS_STATUS_MEDIA_* */
	vmbus_u32 status_buflen;
	vmbus_u32 status_buf_offset;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct rndis_indicate_status, 12);

struct rndis_packet {
	vmbus_u32 data_offset;		/* from this structure's start */
	vmbus_u32 data_len;
	vmbus_u32 oob_data_offset;
	vmbus_u32 oob_data_len;
	vmbus_u32 num_oob_data_elements;
	vmbus_u32 per_pkt_info_offset;	/* from this structure's start */
	vmbus_u32 per_pkt_info_len;
	vmbus_u32 vc_handle;
	vmbus_u32 reserved;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct rndis_packet, 36);
VMBUS_CHECK_OFFSET(struct rndis_packet, per_pkt_info_offset, 20);

/* The header of a PACKET as it starts in a buffer. */
#define RNDIS_PACKET_HDR_SIZE	(sizeof(struct rndis_msg_hdr) + \
				 sizeof(struct rndis_packet))

/* Per-packet info: size (header included), type, then the value at
 * ppi_offset from the info's start.  Bit 31 of type marks internal
 * infos (RNDIS_PKTINFO_ID), which carry no offload. */
struct rndis_ppi {
	vmbus_u32 size;
	vmbus_u32 type;
	vmbus_u32 ppi_offset;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct rndis_ppi, 12);

#define RNDIS_PPI_INTERNAL		0x80000000u
#define RNDIS_PPI_TCPIP_CHKSUM		0
#define RNDIS_PPI_IPSEC			1
#define RNDIS_PPI_TCP_LARGESEND		2
#define RNDIS_PPI_CLASSIFICATION_HANDLE	3
#define RNDIS_PPI_SG_LIST		5
#define RNDIS_PPI_IEEE_8021Q		6
#define RNDIS_PPI_ORIGINAL		7
#define RNDIS_PPI_NBL_HASH_VALUE	8
#define RNDIS_PPI_SHORT_PKT_PADINFO	11

/* TCPIP_CHKSUM, transmit (guest asks the host to fill checksums) */
#define NDIS_TXCSUM_IS_IPV4		(1u << 0)
#define NDIS_TXCSUM_IS_IPV6		(1u << 1)
#define NDIS_TXCSUM_TCP			(1u << 2)
#define NDIS_TXCSUM_UDP			(1u << 3)
#define NDIS_TXCSUM_IP_HEADER		(1u << 4)
#define NDIS_TXCSUM_TCP_HDR_OFFSET(v)	(((v) >> 16) & 0x3ffu)
/* TCPIP_CHKSUM, receive (host tells what it checked) */
#define NDIS_RXCSUM_TCP_FAILED		(1u << 0)
#define NDIS_RXCSUM_UDP_FAILED		(1u << 1)
#define NDIS_RXCSUM_IP_FAILED		(1u << 2)
#define NDIS_RXCSUM_TCP_SUCCEEDED	(1u << 3)
#define NDIS_RXCSUM_UDP_SUCCEEDED	(1u << 4)
#define NDIS_RXCSUM_IP_SUCCEEDED	(1u << 5)

/* TCP_LARGESEND, LSO v2 transmit */
#define NDIS_LSO2_MSS(v)		((v) & 0xfffffu)
#define NDIS_LSO2_TCP_HDR_OFFSET(v)	(((v) >> 20) & 0x3ffu)
#define NDIS_LSO2_TYPE_V2		(1u << 30)
#define NDIS_LSO2_IPV6			(1u << 31)
#define NDIS_LSO2_VALUE(mss, off, ipv6) \
	(((mss) & 0xfffffu) | (((off) & 0x3ffu) << 20) | NDIS_LSO2_TYPE_V2 | \
	 ((ipv6) ? NDIS_LSO2_IPV6 : 0))

/* IEEE_8021Q value */
#define NDIS_8021Q_VLAN(v)		(((v) >> 4) & 0xfffu)
#define NDIS_8021Q_PRI(v)		((v) & 0x7u)

/* ---- OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES / _PARAMETERS ---- */

#define NDIS_OBJECT_TYPE_DEFAULT	0x80
#define NDIS_OBJECT_TYPE_RSS_CAPABILITIES 0x88
#define NDIS_OBJECT_TYPE_RSS_PARAMETERS	0x89
#define NDIS_OBJECT_TYPE_OFFLOAD	0xa7
#define NDIS_OFFLOAD_REVISION_3		3
#define NDIS_OFFLOAD_ENCAP_8023		0x0002u
#define NDIS_TXCSUM_CAP_IP4OPT		0x001u
#define NDIS_TXCSUM_CAP_TCP4OPT		0x004u
#define NDIS_TXCSUM_CAP_TCP4		0x010u
#define NDIS_TXCSUM_CAP_UDP4		0x040u
#define NDIS_TXCSUM_CAP_IP4		0x100u
#define NDIS_TXCSUM_CAP_IP6EXT		0x001u
#define NDIS_TXCSUM_CAP_TCP6OPT		0x004u
#define NDIS_TXCSUM_CAP_TCP6		0x010u
#define NDIS_TXCSUM_CAP_UDP6		0x040u
#define NDIS_LSOV2_CAP_IP6EXT		0x001u
#define NDIS_LSOV2_CAP_TCP6OPT		0x004u
/* ndis_offload_params values */
#define NDIS_OFFLOAD_PARAMS_NO_CHANGE		0
#define NDIS_OFFLOAD_PARAMS_TX_RX_DISABLED	1
#define NDIS_OFFLOAD_PARAMS_TX_ENABLED_RX_DISABLED 2
#define NDIS_OFFLOAD_PARAMS_RX_ENABLED_TX_DISABLED 3
#define NDIS_OFFLOAD_PARAMS_TX_RX_ENABLED	4
#define NDIS_OFFLOAD_PARAMS_LSOV2_DISABLED	1
#define NDIS_OFFLOAD_PARAMS_LSOV2_ENABLED	2

struct ndis_object_header {
	vmbus_u8 type;
	vmbus_u8 revision;
	vmbus_u16 size;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct ndis_object_header, 4);

struct ndis_offload {
	struct ndis_object_header header;
	/* checksum */
	vmbus_u32 ip4_txenc, ip4_txcsum, ip4_rxenc, ip4_rxcsum;
	vmbus_u32 ip6_txenc, ip6_txcsum, ip6_rxenc, ip6_rxcsum;
	/* LSO v1 */
	vmbus_u32 lsov1_encap, lsov1_maxsize, lsov1_minsegs, lsov1_opts;
	/* IPsec v1 */
	vmbus_u32 ipsecv1[7];
	/* LSO v2 */
	vmbus_u32 lsov2_ip4_encap, lsov2_ip4_maxsz, lsov2_ip4_minsg;
	vmbus_u32 lsov2_ip6_encap, lsov2_ip6_maxsz, lsov2_ip6_minsg;
	vmbus_u32 lsov2_ip6_opts;
	vmbus_u32 flags;
	/* IPsec v2: u32, 11 u8, then (aligned) 4 u32 */
	vmbus_u32 ipsecv2_encap;
	vmbus_u8 ipsecv2_flags[11];
	vmbus_u8 pad0;
	vmbus_u32 ipsecv2_caps[4];
	/* RSC */
	vmbus_u8 rsc_ip4, rsc_ip6;
	vmbus_u8 pad1[2];
	/* encapsulated GRE */
	vmbus_u32 encap_gre_flags, encap_gre_maxhdr;
} __attribute__((packed));
/* Linux's struct ndis_offload, natural alignment: 156 bytes. */
VMBUS_CHECK_SIZE(struct ndis_offload, 156);
VMBUS_CHECK_OFFSET(struct ndis_offload, lsov2_ip4_encap, 80);
VMBUS_CHECK_OFFSET(struct ndis_offload, flags, 108);
VMBUS_CHECK_OFFSET(struct ndis_offload, ipsecv2_encap, 112);
VMBUS_CHECK_OFFSET(struct ndis_offload, rsc_ip4, 144);
VMBUS_CHECK_OFFSET(struct ndis_offload, encap_gre_flags, 148);
#define NDIS_OFFLOAD_SIZE_6_0		112	/* up to ipsecv2 */
#define NDIS_OFFLOAD_SIZE_6_1		144	/* up to rsc */

struct ndis_offload_params {
	struct ndis_object_header header;
	vmbus_u8 ip_v4_csum;
	vmbus_u8 tcp_ip_v4_csum;
	vmbus_u8 udp_ip_v4_csum;
	vmbus_u8 tcp_ip_v6_csum;
	vmbus_u8 udp_ip_v6_csum;
	vmbus_u8 lso_v1;
	vmbus_u8 ip_sec_v1;
	vmbus_u8 lso_v2_ipv4;
	vmbus_u8 lso_v2_ipv6;
	vmbus_u8 tcp_connection_ip_v4;
	vmbus_u8 tcp_connection_ip_v6;
	vmbus_u8 pad;
	vmbus_u32 flags;
	vmbus_u8 ip_sec_v2;
	vmbus_u8 ip_sec_v2_ip_v4;
	vmbus_u8 rsc_ip_v4;
	vmbus_u8 rsc_ip_v6;
	vmbus_u8 encapsulated_packet_task_offload;
	vmbus_u8 encapsulation_types;
	vmbus_u8 pad2[2];
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct ndis_offload_params, 28);
VMBUS_CHECK_OFFSET(struct ndis_offload_params, flags, 16);

#endif /* XENVMBUS_NETVSC_H */
