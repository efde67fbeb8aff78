// SPDX-License-Identifier: GPL-2.0-only
/*
 * kd-frame.c - strip and build the Ethernet/IPv4/UDP headers around KDNET
 * payloads (RFC 791 and RFC 768 layouts; checksums per RFC 1071).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "kd-frame.h"

#define ETHERTYPE_IPV4	0x0800
#define IPPROTO_UDP_NR	17
#define IP_MF		0x2000
#define IP_OFFMASK	0x1fff

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* One's complement sum of len bytes, big-endian words, added to sum. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Sum of the UDP pseudo-header (addresses as they sit in the IP header). */
static uint32_t csum_pseudo(const uint8_t *ip, uint16_t ulen)
{
	uint32_t sum = csum_add(0, ip + 12, 8);

	return sum + IPPROTO_UDP_NR + ulen;
}

bool kd_frame_claims(const uint8_t *f, size_t len)
{
	return len > KD_ETH_HLEN && get16(f + 12) == ETHERTYPE_IPV4 &&
	       (f[KD_ETH_HLEN] >> 4) == 4;
}

int kd_frame_parse(const uint8_t *f, size_t len, size_t *off, size_t *plen,
		   struct kd_flow *fl, const char **why)
{
	const uint8_t *ip, *udp;
	size_t ihl, tot, ulen;

	*why = NULL;
	if (len < KD_ETH_HLEN)
		*why = "shorter than an Ethernet header";
	else if (get16(f + 12) != ETHERTYPE_IPV4)
		*why = "EtherType is not IPv4";
	else if (len < KD_ETH_HLEN + KD_IP4_HLEN)
		*why = "truncated IPv4 header";
	if (*why)
		return -EINVAL;
	ip = f + KD_ETH_HLEN;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	tot = get16(ip + 2);
	if ((ip[0] >> 4) != 4)
		*why = "IP version is not 4";
	else if (ihl < KD_IP4_HLEN)
		*why = "IPv4 header length below 20";
	else if (ihl > len - KD_ETH_HLEN)
		*why = "IPv4 header longer than the frame";
	else if (tot < ihl + KD_UDP_HLEN)
		*why = "IPv4 total length too short for UDP";
	else if (tot > len - KD_ETH_HLEN)
		*why = "IPv4 total length beyond the frame";
	else if (tot < len - KD_ETH_HLEN && len > KD_ETH_MIN)
		*why = "bytes after the IPv4 packet";
	else if (get16(ip + 6) & (IP_MF | IP_OFFMASK))
		*why = "IPv4 fragment";
	else if (ip[9] != IPPROTO_UDP_NR)
		*why = "IPv4 protocol is not UDP";
	else if (get16(ip + 10) && csum_fold(csum_add(0, ip, ihl)))
		*why = "bad IPv4 header checksum";
	if (*why)
		return -EINVAL;
	udp = ip + ihl;
	ulen = get16(udp + 4);
	if (ulen != tot - ihl)
		*why = "UDP length disagrees with the IPv4 length";
	else if (get16(udp + 6) &&
		 csum_fold(csum_add(csum_pseudo(ip, ulen), udp, ulen)))
		*why = "bad UDP checksum";
	if (*why)
		return -EINVAL;
	*off = (size_t)(udp + KD_UDP_HLEN - f);
	*plen = ulen - KD_UDP_HLEN;
	if (fl) {
		memcpy(fl->dst_mac, f, 6);
		memcpy(fl->src_mac, f + 6, 6);
		memcpy(&fl->src_ip, ip + 12, 4);
		memcpy(&fl->dst_ip, ip + 16, 4);
		memcpy(&fl->src_port, udp, 2);
		memcpy(&fl->dst_port, udp + 2, 2);
	}
	return 0;
}

size_t kd_frame_build(uint8_t *out, size_t cap, const struct kd_flow *fl,
		      const void *payload, size_t len)
{
	uint8_t *ip = out + KD_ETH_HLEN, *udp = ip + KD_IP4_HLEN;
	size_t ulen = KD_UDP_HLEN + len, tot = KD_IP4_HLEN + ulen;
	uint16_t sum;

	if (tot > 0xffff || cap < KD_FRAME_HLEN || len > cap - KD_FRAME_HLEN)
		return 0;
	memcpy(out, fl->dst_mac, 6);
	memcpy(out + 6, fl->src_mac, 6);
	put16(out + 12, ETHERTYPE_IPV4);

	memset(ip, 0, KD_IP4_HLEN);
	ip[0] = 0x45;			/* version 4, 5 words */
	put16(ip + 2, (uint16_t)tot);
	ip[8] = 64;			/* TTL */
	ip[9] = IPPROTO_UDP_NR;
	memcpy(ip + 12, &fl->src_ip, 4);
	memcpy(ip + 16, &fl->dst_ip, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, KD_IP4_HLEN)));

	memcpy(udp, &fl->src_port, 2);
	memcpy(udp + 2, &fl->dst_port, 2);
	put16(udp + 4, (uint16_t)ulen);
	put16(udp + 6, 0);
	memcpy(udp + KD_UDP_HLEN, payload, len);
	sum = csum_fold(csum_add(csum_pseudo(ip, (uint16_t)ulen), udp, ulen));
	put16(udp + 6, sum ? sum : 0xffff);	/* 0 would mean "no checksum" */
	return KD_FRAME_HLEN + len;
}
