// SPDX-License-Identifier: GPL-2.0-only
/*
 * Both ends of the network VSP on the simulated host, for netvsp.sh:
 *   netvsp-peer server DOMID --tap NAME --mac MAC [--mtu N]
 *        (dom0) serve DOMID's bus with libvmbus and offer one synthetic NIC
 *        (Hyper-V's class GUID) whose channel runs the VSP on tap NAME;
 *        prints the VSP's counters when the channel closes.
 *   netvsp-peer client --tap NAME [--checks]
 *        (the guest) a user-mode netvsc: brings the NIC up as hv_netvsc
 *        does, with --checks runs the protocol and hostile checks ("PASS
 *        name" or "FAIL name: why"), then makes tap NAME with the NIC's
 *        MAC and MTU and moves frames between it and the channel (with
 *        checksum and LSO offloads) until SIGTERM.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <xenvmbus/gpadl.h>
#include <xenvmbus/netvsc.h>
#include <xenvmbus/ring.h>

#include "libvmbus.h"
#include "netvsc-client.h"
#include "netvsp.h"

#define TIMEOUT_MS	10000

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6], i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5]) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

/* ------------------------------------------------------------------ */
/* Server                                                               */
/* ------------------------------------------------------------------ */

static int epfd = -1;
static struct netvsp *vsp;

static int srv_open(struct vmbus_server *s, struct vmbus_chan *c,
		    void *cookie, void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	int rc;

	(void)s; (void)cookie; (void)arg;
	rc = netvsp_attach(vsp, c);
	if (rc) {
		fprintf(stderr, "server: attach the VSP: %s\n", strerror(-rc));
		return rc;
	}
	printf("server: channel %u opened\n", vmbus_chan_relid(c));
	fflush(stdout);
	return epoll_ctl(epfd, EPOLL_CTL_ADD, vmbus_chan_fd(c), &ev) < 0 ?
		-errno : 0;
}

static void print_stats(const char *what)
{
	struct netvsp_stats st;

	netvsp_get_stats(vsp, &st);
	printf("server: %s: nvsp 0x%x ndis 0x%x tx_packets %llu tx_bytes %llu "
	       "tx_csum %llu tx_lso %llu rx_packets %llu rx_bytes %llu "
	       "control %llu refused %llu bad_packets %llu bad_completions %llu "
	       "rx_inflight_peak %u recv_sections %u section_size %u "
	       "buf_pages %u rx_inflight %u\n", what, st.nvsp_version,
	       st.ndis_version, (unsigned long long)st.tx_packets,
	       (unsigned long long)st.tx_bytes,
	       (unsigned long long)st.tx_csum, (unsigned long long)st.tx_lso,
	       (unsigned long long)st.rx_packets,
	       (unsigned long long)st.rx_bytes,
	       (unsigned long long)st.control, (unsigned long long)st.refused,
	       (unsigned long long)st.bad_packets,
	       (unsigned long long)st.bad_completions, st.rx_inflight_peak,
	       st.recv_sections, st.recv_section_size, st.buf_pages,
	       st.rx_inflight);
	fflush(stdout);
}

static void srv_close(struct vmbus_server *s, struct vmbus_chan *c,
		      void *cookie, void *arg)
{
	(void)s; (void)cookie; (void)arg;
	epoll_ctl(epfd, EPOLL_CTL_DEL, vmbus_chan_fd(c), NULL);
	print_stats("closed");
	netvsp_detach(vsp);
	print_stats("after close");
}

static const struct vmbus_server_ops ops = { srv_open, srv_close };

static int run_server(int argc, char **argv)
{
	struct vmbus_offer_desc d = { .nversions = 1,
				      .versions = { NETVSC_CLASS_VERSION } };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL }, evs[8];
	struct netvsp_cfg cfg = { .tap_fd = -1 };
	struct vmbus_server *s;
	unsigned int domid = (unsigned int)strtoul(argv[0], NULL, 10);
	int rc, i, k;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--tap"))
			cfg.ifname = argv[i + 1];
		else if (!strcmp(argv[i], "--mac"))
			rc = parse_mac(argv[i + 1], cfg.mac);
		else if (!strcmp(argv[i], "--mtu"))
			cfg.mtu = (uint32_t)strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--bridge"))
			cfg.bridge = argv[i + 1];
	}
	rc = netvsp_create(&vsp, &cfg, NULL);
	if (rc) {
		fprintf(stderr, "server: create the VSP: %s\n", strerror(-rc));
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	epfd = epoll_create1(0);
	vmbus_guid_parse(NETVSC_CLASS_GUID, d.type);
	d.instance[15] = 1;
	d.flags = VMBUS_OFFER_FLAG_GPADLS;
	rc = vmbus_server_create(&s, domid, &ops, NULL);
	if (rc) {
		fprintf(stderr, "server: serve domain %u: %s\n", domid,
			strerror(-rc));
		return 1;
	}
	vmbus_server_offer(s, &d, NULL);
	epoll_ctl(epfd, EPOLL_CTL_ADD, vmbus_server_fd(s), &ev);
	ev.data.ptr = vsp;
	epoll_ctl(epfd, EPOLL_CTL_ADD, netvsp_tap_fd(vsp, 0), &ev);
	printf("server: serving domain %u on %s\n", domid,
	       netvsp_ifname(vsp));
	fflush(stdout);
	while (!stop) {
		k = epoll_wait(epfd, evs, 8, 200);
		for (i = 0; i < k; i++)
			if (!evs[i].data.ptr)
				vmbus_server_process(s);
		netvsp_process(vsp);
	}
	vmbus_server_destroy(s);
	netvsp_destroy(vsp);
	close(epfd);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Client                                                               */
/* ------------------------------------------------------------------ */

static int failed;

static void result(bool ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void result(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("PASS %s\n", name);
	} else {
		failed++;
		printf("FAIL %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

static uint32_t nvsp_status(struct netvsc_client *c, uint32_t type,
			    uint32_t a, uint32_t b)
{
	struct nvsp_msg m, r;

	memset(&m, 0, sizeof(m));
	m.msg_type = type;
	m.u.init.min_protocol_ver = a;
	m.u.init.max_protocol_ver = b;
	memset(&r, 0xff, sizeof(r));
	if (netvsc_client_nvsp(c, &m, &r, 2000))
		return 0xdead;
	if (type == NVSP_MSG_TYPE_INIT)
		return r.u.init_complete.status;
	return r.u.rndis_pkt_complete.status;	/* the first u32 */
}

/* Send a section's bytes as one RNDIS message buffer; the status. */
static uint32_t send_raw_section(struct netvsc_client *c, const void *msg,
				 uint32_t len, uint32_t idx, uint32_t size)
{
	struct nvsp_msg r;
	uint64_t tid = NETVSC_TID_REQ + c->next_tid++;
	int s = netvsc_client_section(c);

	if (s < 0)
		return 0xdead;
	memcpy(c->send_mem + (size_t)s * c->send_section_size, msg, len);
	if (idx == ~0u - 1)
		idx = (uint32_t)s;
	if (netvsc_client_send_section(c, idx, size, tid) ||
	    netvsc_client_wait_comp(c, tid, &r, 2000))
		r.u.rndis_pkt_complete.status = 0xdead;
	c->send_free[c->nsend_free++] = (uint32_t)s;
	return r.u.rndis_pkt_complete.status;
}

static int query(struct netvsc_client *c, uint32_t oid, void *out,
		 uint32_t len, uint32_t *status)
{
	struct rndis_query_req q = { 0, oid, 0, sizeof(q), 0 };
	struct rndis_query_complete qc;
	uint8_t ans[256];
	int rc = netvsc_client_rndis(c, RNDIS_MSG_QUERY, &q, sizeof(q), ans,
				     sizeof(ans), 2000);

	if (rc < (int)(8 + sizeof(qc)))
		return -EPROTO;
	memcpy(&qc, ans + 8, sizeof(qc));
	*status = qc.status;
	if (qc.status)
		return 0;
	if (qc.info_buflen > len || 8 + qc.info_buf_offset + qc.info_buflen >
	    (uint32_t)rc)
		return -EPROTO;
	memcpy(out, ans + 8 + qc.info_buf_offset, qc.info_buflen);
	return (int)qc.info_buflen;
}

static uint32_t set_oid(struct netvsc_client *c, uint32_t oid,
			const void *v, uint32_t len, uint32_t lie_offset)
{
	uint8_t body[128], ans[64];
	struct rndis_query_req s = { 0, oid, len,
				     lie_offset ? lie_offset : sizeof(s), 0 };
	int rc;

	memcpy(body, &s, sizeof(s));
	memcpy(body + sizeof(s), v, len);
	rc = netvsc_client_rndis(c, RNDIS_MSG_SET, body, sizeof(s) + len, ans,
				 sizeof(ans), 2000);
	if (rc < 16)
		return 0xdead;
	return (uint32_t)ans[12] | (uint32_t)ans[13] << 8 |
	       (uint32_t)ans[14] << 16 | (uint32_t)ans[15] << 24;
}

static void checks_before_init(struct netvsc_client *c)
{
	uint32_t st;

	st = nvsp_status(c, NVSP_MSG1_TYPE_SEND_RECV_BUF, 0, 0);
	result(st != NVSP_STAT_SUCCESS && st != 0xdead,
	       "buffer-before-init-refused", "status %u", st);
	st = nvsp_status(c, NVSP_MSG_TYPE_INIT, 0x70000, 0x70000);
	result(st == NVSP_STAT_FAIL, "unknown-version-refused", "status %u",
	       st);
}

static void checks_after_init(struct netvsc_client *c, const uint8_t *mac,
			      uint32_t mtu)
{
	struct ndis_offload hw;
	uint8_t buf[512], got[6];
	uint32_t st = 0, v = 0;
	struct nvsp_msg m, r;
	int rc, i;

	result(c->version == NVSP_PROTOCOL_VERSION_61, "version-6.1",
	       "0x%x", c->version);
	result(c->recv_sections >= 2 && c->recv_section_size >= mtu + 14,
	       "receive-buffer-sections", "%u of %u", c->recv_sections,
	       c->recv_section_size);
	result(c->send_section_size == NETVSC_SEND_SECTION_SIZE,
	       "send-buffer-section-size", "%u", c->send_section_size);
	result(!memcmp(c->mac, mac, 6), "mac-from-configuration",
	       "%02x:%02x:..:%02x", c->mac[0], c->mac[1], c->mac[5]);
	result(c->mtu == mtu, "mtu-from-configuration", "%u", c->mtu);
	for (i = 0; i < 50 && !c->link_up; i++) {
		netvsc_client_poll(c);
		vmbus_chan_wait(c->ch, 10);
	}
	result(c->link_up, "link-up-indicated", "%u indications",
	       c->indications);
	rc = query(c, RNDIS_OID_GEN_MEDIA_CONNECT_STATUS, &v, 4, &st);
	result(rc == 4 && !st && v == RNDIS_MEDIA_STATE_CONNECTED,
	       "media-connect-status", "rc %d status 0x%x v %u", rc, st, v);
	rc = query(c, RNDIS_OID_802_3_CURRENT_ADDRESS, got, 6, &st);
	result(rc == 6 && !memcmp(got, mac, 6), "current-address", "rc %d", rc);
	memset(&hw, 0, sizeof(hw));
	rc = query(c, RNDIS_OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES, &hw,
		   sizeof(hw), &st);
	result(rc == (int)sizeof(hw) &&
	       hw.header.type == NDIS_OBJECT_TYPE_OFFLOAD &&
	       hw.header.size == sizeof(hw) &&
	       (hw.ip4_txcsum & NDIS_TXCSUM_CAP_TCP4) &&
	       (hw.lsov2_ip4_encap & NDIS_OFFLOAD_ENCAP_8023) &&
	       hw.lsov2_ip4_maxsz >= 60000, "offload-capabilities",
	       "rc %d", rc);
	rc = query(c, RNDIS_OID_GEN_RECEIVE_SCALE_CAPABILITIES, buf, 64, &st);
	result(rc == 0 && st == RNDIS_STATUS_NOT_SUPPORTED,
	       "rss-not-offered", "rc %d status 0x%x", rc, st);
	rc = query(c, 0x12345678, buf, 64, &st);
	result(rc == 0 && st == RNDIS_STATUS_NOT_SUPPORTED,
	       "unknown-oid-refused", "rc %d status 0x%x", rc, st);
	{
		struct ndis_offload_params op;

		memset(&op, 0, sizeof(op));
		op.header.type = NDIS_OBJECT_TYPE_DEFAULT;
		op.header.revision = 3;
		op.header.size = sizeof(op);
		op.tcp_ip_v4_csum = NDIS_OFFLOAD_PARAMS_TX_RX_ENABLED;
		op.lso_v2_ipv4 = NDIS_OFFLOAD_PARAMS_LSOV2_ENABLED;
		st = set_oid(c, RNDIS_OID_TCP_OFFLOAD_PARAMETERS, &op,
			     sizeof(op), 0);
		result(st == RNDIS_STATUS_SUCCESS, "set-offload-parameters",
		       "0x%x", st);
	}
	got[0] = 0x02; got[5] = 0x99;
	st = set_oid(c, RNDIS_OID_802_3_CURRENT_ADDRESS, got, 6, 0);
	result(st != RNDIS_STATUS_SUCCESS && st != 0xdead,
	       "mac-change-refused", "0x%x", st);
	v = 0xf;
	st = set_oid(c, RNDIS_OID_GEN_CURRENT_PACKET_FILTER, &v, 4, 4000);
	result(st == RNDIS_STATUS_INVALID_DATA, "set-lying-offset-refused",
	       "0x%x", st);
	{
		struct rndis_req_complete ka = { 0, 0 };
		uint8_t ans[64];

		rc = netvsc_client_rndis(c, RNDIS_MSG_KEEPALIVE, &ka,
					 sizeof(ka), ans, sizeof(ans), 2000);
		result(rc >= 16 && !ans[12], "keepalive", "rc %d", rc);
	}

	/* Hostile transmits: each refused, the VSP carries on. */
	{
		struct rndis_msg_hdr h = { RNDIS_MSG_PACKET, 4000 };
		uint8_t pkt[256];
		struct rndis_packet p;
		uint32_t n;

		memset(pkt, 0, sizeof(pkt));
		memcpy(pkt, &h, sizeof(h));
		st = send_raw_section(c, pkt, 64, ~0u - 1, 64);
		result(st == NVSP_STAT_INVALID_RNDIS_PKT,
		       "rndis-length-beyond-buffer-refused", "%u", st);
		st = send_raw_section(c, pkt, 64, c->send_sections + 5, 64);
		result(st == NVSP_STAT_INVALID_RNDIS_PKT,
		       "section-index-beyond-buffer-refused", "%u", st);
		st = send_raw_section(c, pkt, 64, ~0u - 1,
				      c->send_section_size + 1);
		result(st == NVSP_STAT_INVALID_RNDIS_PKT,
		       "section-size-beyond-section-refused", "%u", st);
		memset(pkt, 0, sizeof(pkt));
		n = netvsc_rndis_packet(pkt, buf, 60, 0, 0);
		memcpy(&p, pkt + 8, sizeof(p));
		p.data_len = 5000;
		memcpy(pkt + 8, &p, sizeof(p));
		st = send_raw_section(c, pkt, n, ~0u - 1, n);
		result(st == NVSP_STAT_INVALID_RNDIS_PKT,
		       "packet-data-beyond-message-refused", "%u", st);
		n = netvsc_rndis_packet(pkt, buf, 60, NDIS_TXCSUM_IS_IPV4, 0);
		memcpy(pkt + 8 + sizeof(p), "\xff\xff\x00\x00", 4);
		st = send_raw_section(c, pkt, n, ~0u - 1, n);
		result(st == NVSP_STAT_INVALID_RNDIS_PKT,
		       "ppi-size-lying-refused", "%u", st);
		n = netvsc_rndis_packet(pkt, buf, 60,
					NDIS_TXCSUM_TCP | (4000u << 16), 0);
		memset(pkt + n - 60, 0xff, 12);	/* broadcast, no stack cares */
		st = send_raw_section(c, pkt, n, ~0u - 1, n);
		result(st == NVSP_STAT_INVALID_RNDIS_PKT,
		       "checksum-offset-beyond-frame-refused", "%u", st);
	}
	{
		struct {
			uint32_t reserved, count;
			struct vmbus_gpa_range r;
			uint32_t g[2];
		} h = { 0, 1, { 100, 0 }, { 0x7ffff0, 0x7ffff1 } };
		uint64_t tid = NETVSC_TID_REQ + c->next_tid++;

		memset(&m, 0, sizeof(m));
		m.msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT;
		m.u.rndis_pkt.send_buf_section_index = NVSP_INVALID_SECTION;
		rc = vmbus_chan_send_raw(c->ch, VMBUS_PKT_DATA_USING_GPA_DIRECT,
					 1, tid, &h, 12 + 4, &m, sizeof(m));
		if (!rc)
			rc = netvsc_client_wait_comp(c, tid, &r, 2000);
		result(!rc && r.u.rndis_pkt_complete.status ==
		       NVSP_STAT_INVALID_RNDIS_PKT, "bad-grant-refs-refused",
		       "rc %d status %u", rc, r.u.rndis_pkt_complete.status);
		tid = NETVSC_TID_REQ + c->next_tid++;
		h.count = 7;		/* more ranges than the buffer holds */
		rc = vmbus_chan_send_raw(c->ch, VMBUS_PKT_DATA_USING_GPA_DIRECT,
					 1, tid, &h, 12 + 4, &m, sizeof(m));
		if (!rc)
			rc = netvsc_client_wait_comp(c, tid, &r, 2000);
		result(!rc && r.u.rndis_pkt_complete.status ==
		       NVSP_STAT_INVALID_RNDIS_PKT, "range-count-lying-refused",
		       "rc %d status %u", rc, r.u.rndis_pkt_complete.status);
		h.count = 1;
		h.r.byte_offset = 5000;
		tid = NETVSC_TID_REQ + c->next_tid++;
		rc = vmbus_chan_send_raw(c->ch, VMBUS_PKT_DATA_USING_GPA_DIRECT,
					 1, tid, &h, 12 + 4, &m, sizeof(m));
		if (!rc)
			rc = netvsc_client_wait_comp(c, tid, &r, 2000);
		result(!rc && r.u.rndis_pkt_complete.status ==
		       NVSP_STAT_INVALID_RNDIS_PKT, "range-offset-beyond-page-refused",
		       "rc %d status %u", rc, r.u.rndis_pkt_complete.status);
	}
	/* Completions of receive packets never sent: ignored. */
	memset(&m, 0, sizeof(m));
	m.msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE;
	for (i = 0; i < 3; i++)
		vmbus_chan_send_comp(c->ch, 0x123456789ull + (uint64_t)i, &m,
				     sizeof(m));
	st = nvsp_status(c, NVSP_MSG1_TYPE_SEND_RECV_BUF, 0, 0);
	result(st == NVSP_STAT_FAIL, "second-receive-buffer-refused", "%u", st);
	st = nvsp_status(c, NVSP_MSG_TYPE_INIT, NVSP_PROTOCOL_VERSION_2,
			 NVSP_PROTOCOL_VERSION_2);
	result(st == NVSP_STAT_FAIL, "version-change-with-buffers-refused",
	       "%u", st);
	st = nvsp_status(c, 4242, 0, 0);
	result(st != NVSP_STAT_SUCCESS, "unknown-nvsp-message-refused", "%u",
	       st);

	/* A flood of keepalives, the guest taking its answers late. */
	{
		struct rndis_req_complete ka = { 0, 0 };
		uint32_t sent = 0, answered, k;
		int s;

		c->count_keepalives = true;
		c->keepalives = 0;
		while (sent < 2000) {
			struct rndis_msg_hdr hh = { RNDIS_MSG_KEEPALIVE, 16 };

			s = netvsc_client_section(c);
			if (s < 0) {
				vmbus_chan_wait(c->ch, 5);
				continue;
			}
			ka.req_id = 100000 + sent;
			memcpy(c->send_mem + (size_t)s * c->send_section_size,
			       &hh, 8);
			memcpy(c->send_mem + (size_t)s * c->send_section_size
			       + 8, &ka, 8);
			if (netvsc_client_send_section(c, (uint32_t)s, 16,
						       NETVSC_TID_SECTION + (uint32_t)s))
				break;
			sent++;
		}
		for (k = 0; k < 300 && c->keepalives < sent; k++) {
			netvsc_client_poll(c);
			vmbus_chan_wait(c->ch, 10);
		}
		answered = c->keepalives;
		c->count_keepalives = false;
		result(answered == sent && sent == 2000,
		       "keepalive-flood-all-answered-bounded", "%u of %u",
		       answered, sent);
	}
}

/* The guest's tap: the client's kernel side of the NIC. */
struct fwd {
	struct netvsc_client *c;
	int tap;
	uint64_t to_tap, from_tap;
};

static void to_tap(void *arg, const uint8_t *frame, uint32_t len,
		   uint32_t csum)
{
	struct fwd *f = arg;
	struct virtio_net_hdr vh;
	struct iovec iov[2] = { { &vh, sizeof(vh) },
				{ (void *)frame, len } };

	memset(&vh, 0, sizeof(vh));
	if (csum & (NDIS_RXCSUM_TCP_SUCCEEDED | NDIS_RXCSUM_UDP_SUCCEEDED))
		vh.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	if (writev(f->tap, iov, 2) > 0)
		f->to_tap++;
}

static int make_tap(const char *name, const uint8_t *mac, uint32_t mtu)
{
	struct ifreq ifr;
	int fd, s, rc = 0;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0)
		rc = -errno;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_hwaddr.sa_family = 1;	/* ARPHRD_ETHER */
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	if (!rc && ioctl(s, SIOCSIFHWADDR, &ifr) < 0)
		rc = -errno;
	ifr.ifr_mtu = (int)mtu;
	if (!rc && ioctl(s, SIOCSIFMTU, &ifr) < 0)
		rc = -errno;
	close(s);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

static void forward(struct netvsc_client *c, int tap)
{
	static uint8_t frame[65536 + 64];
	struct fwd f = { c, tap, 0, 0 };
	struct pollfd pfd[2] = { { vmbus_chan_fd(c->ch), POLLIN, 0 },
				 { tap, POLLIN, 0 } };
	struct virtio_net_hdr vh;
	struct iovec iov[2] = { { &vh, sizeof(vh) },
				{ frame, sizeof(frame) } };
	ssize_t n;
	int k;

	c->frame_fn = to_tap;
	c->frame_arg = &f;
	while (!stop && !vmbus_chan_is_closed(c->ch)) {
		poll(pfd, 2, 200);
		netvsc_client_poll(c);
		for (k = 0; k < 64; k++) {
			uint32_t csum = 0, lso = 0;

			if (!c->nsend_free && !c->nlso_free)
				break;
			n = readv(tap, iov, 2);
			if (n < (ssize_t)sizeof(vh) + 14)
				break;
			n -= sizeof(vh);
			if (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
				bool v6 = frame[12] == 0x86 && frame[13] == 0xdd;

				csum = (v6 ? NDIS_TXCSUM_IS_IPV6 :
					     NDIS_TXCSUM_IS_IPV4) |
				       (vh.csum_offset == 16 ? NDIS_TXCSUM_TCP :
							       NDIS_TXCSUM_UDP) |
				       (uint32_t)vh.csum_start << 16;
				if (vh.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 ||
				    vh.gso_type == VIRTIO_NET_HDR_GSO_TCPV6) {
					lso = NDIS_LSO2_VALUE(vh.gso_size,
						vh.csum_start,
						vh.gso_type == VIRTIO_NET_HDR_GSO_TCPV6);
					csum = 0;
				}
			}
			while (netvsc_client_send_frame(c, frame, (uint32_t)n,
							csum, lso) == -ENOSPC &&
			       !stop) {
				vmbus_chan_wait(c->ch, 5);
				netvsc_client_poll(c);
			}
			f.from_tap++;
		}
	}
	printf("client: forwarded %llu frames out, %llu in; tx ok %llu "
	       "failed %llu rx_bad %llu\n", (unsigned long long)f.from_tap,
	       (unsigned long long)f.to_tap, (unsigned long long)c->tx_ok,
	       (unsigned long long)c->tx_failed,
	       (unsigned long long)c->rx_bad);
	fflush(stdout);
}

static int run_client(int argc, char **argv)
{
	static struct netvsc_client c;
	const char *tap = NULL;
	uint8_t mac[6] = { 0 };
	uint32_t mtu = 1500;
	bool checks = false;
	int rc, i, fd;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--tap") && i + 1 < argc)
			tap = argv[++i];
		else if (!strcmp(argv[i], "--checks"))
			checks = true;
		else if (!strcmp(argv[i], "--expect-mac") && i + 1 < argc)
			parse_mac(argv[++i], mac);
		else if (!strcmp(argv[i], "--expect-mtu") && i + 1 < argc)
			mtu = (uint32_t)strtoul(argv[++i], NULL, 10);
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	rc = netvsc_client_open(&c, 64, TIMEOUT_MS);
	if (rc)
		return 1;
	if (checks)
		checks_before_init(&c);
	rc = netvsc_client_init(&c, 2u << 20, 1u << 20, TIMEOUT_MS);
	result(!rc, "bring-up-as-hv_netvsc", "%s", strerror(-rc));
	if (rc)
		goto out;
	if (checks)
		checks_after_init(&c, mac, mtu);
	if (tap) {
		fd = make_tap(tap, c.mac, c.mtu);
		if (fd < 0) {
			fprintf(stderr, "client: make tap %s: %s\n", tap,
				strerror(-fd));
			goto out;
		}
		printf("client: forwarding on %s\n", tap);
		fflush(stdout);
		forward(&c, fd);
		close(fd);
	}
out:
	netvsc_client_close(&c);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && !strcmp(argv[1], "server"))
		return run_server(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return run_client(argc - 2, argv + 2);
	fprintf(stderr, "usage: %s server DOMID --tap NAME --mac MAC "
		"[--mtu N] | client [--tap NAME] [--checks]\n", argv[0]);
	return 2;
}
