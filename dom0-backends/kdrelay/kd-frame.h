/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kd-frame.h - the Ethernet/IPv4/UDP framing of KDNET traffic through the
 * synthetic debugger.
 *
 * What the guest hands the hypervisor is either the bare KDNET payload (the
 * SYNDBG MSR interface) or a whole Ethernet frame carrying it in IPv4/UDP
 * (the debug hypercalls; QEMU's hv-syndbg treats every hypercall buffer
 * that way, and Windows' own headers name the option HV_DEBUG_*_RAW_PACKET).
 * WinDbg's end is a UDP socket, so the relay strips the headers of a guest
 * frame before sending the datagram, and builds them around a datagram
 * before giving it to a guest that expects frames.
 *
 * Everything parsed here comes from the guest: each length is checked
 * against the bytes actually present before it is used.
 */
#ifndef KD_FRAME_H
#define KD_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KD_ETH_HLEN	14
#define KD_IP4_HLEN	20
#define KD_UDP_HLEN	8
#define KD_FRAME_HLEN	(KD_ETH_HLEN + KD_IP4_HLEN + KD_UDP_HLEN)
#define KD_ETH_MIN	60	/* shortest frame without FCS; shorter ones are padded */

/*
 * Framing bits in the flags of an out DATA record (XEN_SYNDBG_DATA_F_* of
 * the patched public/hvm/syndbg.h): the hypervisor marks what the guest
 * posted through the debug hypercalls as a frame and what it sent through
 * the SYNDBG MSRs as bare.  A record with neither bit (a hypervisor that
 * does not say) is classified by content (kd_frame_claims()).
 */
#define KD_PDU_F_FRAME	0x1	/* a whole Ethernet/IPv4/UDP frame (hypercall) */
#define KD_PDU_F_BARE	0x2	/* the bare UDP payload (SYNDBG MSRs) */

/* The addresses of one direction of a flow, network byte order. */
struct kd_flow {
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	uint32_t src_ip;
	uint32_t dst_ip;
	uint16_t src_port;
	uint16_t dst_port;
};

/*
 * Does this look like an Ethernet frame carrying IPv4 (EtherType 0x0800 and
 * IP version 4)?  A KDNET payload starts with its "MDBG" signature, so a
 * payload matches only by a 1 in 2^20 chance of its bytes 12..14.
 */
bool kd_frame_claims(const uint8_t *f, size_t len);

/*
 * Validate a guest's frame: EtherType IPv4, version 4, IHL >= 5 and within
 * the frame, total length within the frame (trailing bytes only as padding
 * of a minimum-size frame), not a fragment, protocol UDP, UDP length equal
 * to what the IP header leaves, non-zero checksums correct.  On success
 * returns 0, the payload's offset and length, and the flow (*fl may be
 * NULL); otherwise -EINVAL with *why naming the first check that failed.
 */
int kd_frame_parse(const uint8_t *f, size_t len, size_t *off, size_t *plen,
		   struct kd_flow *fl, const char **why);

/*
 * Build a frame around len payload bytes at out (cap bytes): headers from
 * fl (source is the debugger, destination the guest), IPv4 TTL 64, no
 * fragmenting, both checksums computed.  Returns the frame's length, or 0
 * when it does not fit in cap or in a UDP datagram.
 */
size_t kd_frame_build(uint8_t *out, size_t cap, const struct kd_flow *fl,
		      const void *payload, size_t len);

#endif /* KD_FRAME_H */
