// SPDX-License-Identifier: GPL-2.0-only
/*
 * kd-sink-udp.c - xen-kdrelay's KDNET sink (--udp HOST:PORT): WinDbg's
 * endpoint, one datagram per PDU, from a socket connected to it.
 *
 * A guest using the debug hypercalls hands over whole Ethernet/IPv4/UDP
 * frames (as QEMU's hv-syndbg takes them), one using the SYNDBG MSRs the
 * bare payload; frames are validated and stripped on the way out and built
 * around the debugger's datagrams on the way in (kd-frame.c, --frames).
 * UDP is lossy by nature, as KDNET expects: what the guest's ring cannot
 * take is dropped.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dlog.h"

#include "kd-sink.h"

#define KD_REFUSE_LOG_SECS	10

static struct kd_port *port;
static int udp_fd = -1;
static struct sockaddr_in udp_peer;
static enum kd_frames frames = KD_FRAMES_AUTO;

static int udp_open(struct kd_port *p, const struct kd_sink_conf *conf)
{
	struct addrinfo *ai = NULL;
	int err = 0;

	port = p;
	frames = conf->frames;
	if (kd_sink_resolve("--udp", conf->arg, "127.0.0.1", SOCK_DGRAM, false, &ai) < 0)
		return -EINVAL;
	memcpy(&udp_peer, ai->ai_addr, sizeof(udp_peer));
	udp_fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (udp_fd < 0 || connect(udp_fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		err = -errno;
		dlog(LOG_ERR, "failed to open UDP socket to \"%s\" (%s)", conf->arg,
		     strerror(errno));
	}
	freeaddrinfo(ai);
	p->dbg = &udp_peer;	/* published to the guest at each attach */
	return err;
}

/*
 * A guest's frame that cannot be relayed: logged at debug level each time
 * and at most once per KD_REFUSE_LOG_SECS otherwise (the guest controls
 * how often this happens).
 */
static void kd_refuse(struct kd_port *p, uint32_t len, const char *why)
{
	time_t now = time(NULL);

	p->refused++;
	dlog(LOG_DEBUG, "refused a %u-byte frame from d%u: %s", len, p->domid, why);
	if (now - p->refuse_logged >= KD_REFUSE_LOG_SECS) {
		dlog(LOG_WARNING, "refused %lu malformed frame(s) from d%u, the last "
		       "(%u bytes): %s", p->refused, p->domid, len, why);
		p->refuse_logged = now;
		p->refused = 0;
	}
}

/* Is this out DATA record a whole frame?  (See KD_PDU_F_* in kd-frame.h.) */
static bool kd_is_frame(const struct syndbg_pdu *hdr, const uint8_t *buf)
{
	switch (frames) {
	case KD_FRAMES_ETHERNET:
		return true;
	case KD_FRAMES_BARE:
		return false;
	case KD_FRAMES_AUTO:
		break;
	}
	if (hdr->flags & KD_PDU_F_FRAME)
		return true;
	if (hdr->flags & KD_PDU_F_BARE)
		return false;
	return kd_frame_claims(buf, hdr->len);
}

/* A guest's DATA record to WinDbg: the UDP payload, headers stripped. */
static bool udp_put(const struct syndbg_pdu *hdr, const uint8_t *buf)
{
	struct kd_port *p = port;
	size_t off = 0, len = hdr->len;
	const char *why;

	if (hdr->type != SYNDBG_PDU_DATA)
		return true;
	if (kd_is_frame(hdr, buf)) {
		struct kd_flow fl;

		if (kd_frame_parse(buf, hdr->len, &off, &len, &fl, &why) < 0) {
			kd_refuse(p, hdr->len, why);
			return true;
		}
		if (!p->flow_known || memcmp(&fl, &p->flow, sizeof(fl))) {
			p->flow = fl;
			p->flow_known = true;
			kd_publish_conn(p, &udp_peer);
		}
		p->guest_frames = true;
	} else {
		p->guest_frames = false;
	}
	if (send(udp_fd, buf + off, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		dlog(LOG_DEBUG, "failed to send a datagram to the debugger (%s)",
		       strerror(errno));
	return true;
}

/* A datagram from WinDbg into the guest, framed as the guest expects. */
static void udp_read(void)
{
	static uint8_t buf[SYNDBG_MAX_PDU + 1], frame[SYNDBG_MAX_PDU];
	ssize_t n = recv(udp_fd, buf, sizeof(buf), MSG_DONTWAIT);
	bool framed = frames == KD_FRAMES_ETHERNET ||
		      (frames == KD_FRAMES_AUTO && port->guest_frames);
	const uint8_t *pdu = buf;
	size_t len = n;

	if (n < 0)
		return;
	if (framed) {
		struct kd_flow fl = { .src_ip = udp_peer.sin_addr.s_addr,
				      .src_port = udp_peer.sin_port,
				      .dst_port = udp_peer.sin_port };

		if (port->flow_known) {
			/* The reverse of what the guest sent. */
			memcpy(fl.src_mac, port->flow.dst_mac, 6);
			memcpy(fl.dst_mac, port->flow.src_mac, 6);
			fl.src_ip = port->flow.dst_ip;
			fl.dst_ip = port->flow.src_ip;
			fl.src_port = port->flow.dst_port;
			fl.dst_port = port->flow.src_port;
		}
		len = n <= SYNDBG_MAX_PDU ?
		      kd_frame_build(frame, sizeof(frame), &fl, buf, n) : 0;
		pdu = frame;
	}
	if (n > SYNDBG_MAX_PDU || len == 0) {
		dlog(LOG_DEBUG, "dropped a %zd-byte datagram: too large for a debug PDU%s", n,
		       framed ? " with its headers" : "");
		return;
	}
	if (port->attached && kd_in_put(port, pdu, len) < 0)
		dlog(LOG_DEBUG, "dropped a datagram: the guest's in ring is full");
}

/* Datagrams are read only while the guest's in ring has room. */
static unsigned int udp_poll_fds(struct pollfd *pfd)
{
	pfd[0] = (struct pollfd){ .fd = -1 };
	if (port->attached && kd_in_room(port))
		pfd[0] = (struct pollfd){ .fd = udp_fd, .events = POLLIN };
	return 1;
}

static void udp_poll_done(const struct pollfd *pfd)
{
	if (pfd[0].fd >= 0 && (pfd[0].revents & POLLIN))
		udp_read();
}

static void udp_close(void)
{
	if (udp_fd >= 0)
		close(udp_fd);
	udp_fd = -1;
}

const struct kd_sink_ops kd_sink_udp = {
	.name = "udp",
	.open = udp_open,
	.put = udp_put,
	.poll_fds = udp_poll_fds,
	.poll_done = udp_poll_done,
	.close = udp_close,
};
