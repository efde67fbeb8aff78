// SPDX-License-Identifier: GPL-2.0-only
/*
 * The network VSP's benchmark programs (run by bench/net/run.sh):
 *   netbench server DOMID --tap NAME [--mtu N]
 *        (dom0) the VSP on tap NAME, offered to DOMID's bus
 *   netbench vsp-tx SIZE SECS      (guest) frames of SIZE bytes through a
 *        user-mode netvsc for SECS seconds (64 KiB ones as LSO in page
 *        buffers, smaller ones in send sections, up to 8 to a section as
 *        hv_netvsc batches); counted once the VSP completed them
 *   netbench raw-tx SIZE SECS      (dom0) the same frames written straight
 *        to a tap of its own (a virtio-net GSO header for 64 KiB)
 *   netbench vsp-rx SECS           (guest) count the frames that arrive
 *   netbench inject IFNAME SIZE SECS  (dom0) send frames out of IFNAME
 *        (a packet socket) as fast as it takes them
 *   netbench raw-rx SIZE SECS      (dom0) the same injected into a tap of
 *        its own and read from it
 * Frames to dom0 are addressed to a MAC nobody has, so that dom0's stack
 * drops them as soon as it sees them: what is measured is the path to
 * the tap.  Each prints "frames N bytes B secs S".
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenvmbus/netvsc.h>

#include "libvmbus.h"
#include "netvsc-client.h"
#include "netvsp.h"

#define LSO_MSS		1448u

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* An Ethernet/IPv4/TCP frame of @len bytes to a MAC nobody has. */
static void make_frame(uint8_t *f, uint32_t len, bool lso)
{
	uint32_t ip = len - 14;

	memset(f, 0, len);
	f[0] = 0x02, f[5] = 0xfe;
	f[6] = 0x02, f[11] = 0x01;
	f[12] = 0x08;
	f[14] = 0x45;
	if (!lso && ip <= 0xffff) {
		f[16] = (uint8_t)(ip >> 8);
		f[17] = (uint8_t)ip;
	}
	f[22] = 64;
	f[23] = 6;
	f[26] = 198, f[27] = 18, f[29] = 2;
	f[30] = 198, f[31] = 18, f[33] = 1;
	f[46] = 0x50;
}

static void report(uint64_t frames, uint64_t bytes, double secs)
{
	printf("frames %llu bytes %llu secs %.3f\n",
	       (unsigned long long)frames, (unsigned long long)bytes, secs);
}

static int open_tap(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), s;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -1;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	ioctl(s, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	ioctl(s, SIOCSIFFLAGS, &ifr);
	ifr.ifr_mtu = 9000;
	ioctl(s, SIOCSIFMTU, &ifr);
	close(s);
	return fd;
}

/* ---- dom0: the VSP ---- */

static struct netvsp *vsp;
static int epfd;

static int srv_open(struct vmbus_server *s, struct vmbus_chan *c,
		    void *cookie, void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	int rc;

	(void)s; (void)cookie; (void)arg;
	rc = netvsp_attach(vsp, c);
	if (!rc)
		epoll_ctl(epfd, EPOLL_CTL_ADD, vmbus_chan_fd(c), &ev);
	return rc;
}

static void srv_close(struct vmbus_server *s, struct vmbus_chan *c,
		      void *cookie, void *arg)
{
	(void)s; (void)cookie; (void)arg;
	epoll_ctl(epfd, EPOLL_CTL_DEL, vmbus_chan_fd(c), NULL);
	netvsp_detach(vsp);
}

static int run_server(int argc, char **argv)
{
	static const struct vmbus_server_ops ops = { srv_open, srv_close };
	struct vmbus_offer_desc d = { .nversions = 1,
				      .versions = { NETVSC_CLASS_VERSION },
				      .flags = VMBUS_OFFER_FLAG_GPADLS };
	struct netvsp_cfg cfg = { .tap_fd = -1, .mtu = 9000,
				  .mac = { 2, 0x16, 0x3e, 0, 0, 1 } };
	struct epoll_event ev = { .events = EPOLLIN }, evs[8];
	struct vmbus_server *s;
	int i, k;

	for (i = 1; i + 1 < argc; i += 2)
		if (!strcmp(argv[i], "--tap"))
			cfg.ifname = argv[i + 1];
		else if (!strcmp(argv[i], "--mtu"))
			cfg.mtu = (uint32_t)atoi(argv[i + 1]);
	if (netvsp_create(&vsp, &cfg, NULL))
		return 1;
	epfd = epoll_create1(0);
	vmbus_guid_parse(NETVSC_CLASS_GUID, d.type);
	d.instance[15] = 2;
	if (vmbus_server_create(&s, (unsigned int)atoi(argv[0]), &ops, NULL))
		return 1;
	vmbus_server_offer(s, &d, NULL);
	ev.data.ptr = NULL;
	epoll_ctl(epfd, EPOLL_CTL_ADD, vmbus_server_fd(s), &ev);
	ev.data.ptr = vsp;
	epoll_ctl(epfd, EPOLL_CTL_ADD, netvsp_tap_fd(vsp, 0), &ev);
	signal(SIGTERM, on_signal);
	printf("serving on %s\n", netvsp_ifname(vsp));
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
	return 0;
}

/* ---- the guest: a user-mode netvsc ---- */

/* xensim grants at most 1024 pages in one call: a 4 MiB receive buffer. */
static int client_up(struct netvsc_client *c)
{
	if (netvsc_client_open(c, 256, 10000) ||
	    netvsc_client_init(c, 4u << 20, 1u << 20, 10000)) {
		fprintf(stderr, "netbench: bring-up failed\n");
		return -1;
	}
	return 0;
}

/* Send frames of @len for @secs; small ones @batch to a section. */
static int vsp_tx(uint32_t len, double secs)
{
	static struct netvsc_client c;
	static uint8_t frame[70000];
	uint32_t per, lso = 0, n, k, out;
	uint64_t frames = 0;
	double t0, t;
	int s;

	if (client_up(&c))
		return 1;
	make_frame(frame, len, len > 9014);
	if (len > 9014)
		lso = NDIS_LSO2_VALUE(LSO_MSS, 34, 0);
	per = len + 64 <= c.send_section_size ?
		c.send_section_size / ((len + 68 + 7) & ~7u) : 1;
	if (per > 8)
		per = 8;
	t0 = now();
	while (now() - t0 < secs) {
		if (per <= 1 || !per) {
			if (netvsc_client_send_frame(&c, frame, len, 0, lso)) {
				vmbus_chan_wait(c.ch, 1);
				netvsc_client_poll(&c);
				continue;
			}
			frames++;
			continue;
		}
		/* hv_netvsc's batching: several RNDIS packets a section. */
		s = netvsc_client_section(&c);
		if (s < 0) {
			vmbus_chan_wait(c.ch, 1);
			netvsc_client_poll(&c);
			continue;
		}
		for (k = 0, out = 0; k < per; k++) {
			n = netvsc_rndis_packet(c.send_mem + (size_t)s *
						c.send_section_size + out,
						frame, len, 0, 0);
			out += (n + 7) & ~7u;
		}
		if (netvsc_client_send_section(&c, (uint32_t)s, out,
					       NETVSC_TID_SECTION + (uint32_t)s))
			break;
		frames += per;
	}
	/* Counted once the VSP completed them all. */
	while (c.nsend_free < c.send_sections ||
	       c.nlso_free < NETVSC_CLIENT_LSO_SLOTS) {
		if (now() - t0 > secs + 10)
			break;
		vmbus_chan_wait(c.ch, 1);
		netvsc_client_poll(&c);
	}
	t = now() - t0;
	if (c.tx_failed)
		fprintf(stderr, "netbench: %llu sends failed\n",
			(unsigned long long)c.tx_failed);
	report(frames, frames * len, t);
	netvsc_client_close(&c);
	return 0;
}

static uint64_t rx_frames, rx_bytes;

static void count(void *arg, const uint8_t *f, uint32_t len, uint32_t csum)
{
	(void)arg; (void)f; (void)csum;
	rx_frames++;
	rx_bytes += len;
}

static int vsp_rx(double secs)
{
	static struct netvsc_client c;
	double t0;

	if (client_up(&c))
		return 1;
	c.frame_fn = count;
	printf("ready\n");
	fflush(stdout);
	/* Start counting at the first frame. */
	while (!rx_frames && !stop) {
		vmbus_chan_wait(c.ch, 10);
		netvsc_client_poll(&c);
	}
	rx_frames = rx_bytes = 0;
	t0 = now();
	while (now() - t0 < secs) {
		vmbus_chan_wait(c.ch, 10);
		netvsc_client_poll(&c);
	}
	report(rx_frames, rx_bytes, now() - t0);
	netvsc_client_close(&c);
	return 0;
}

/* ---- dom0: raw tap ---- */

static int raw_tx(uint32_t len, double secs)
{
	static uint8_t frame[70000];
	struct virtio_net_hdr vh;
	struct iovec iov[2] = { { &vh, sizeof(vh) }, { frame, len } };
	uint64_t frames = 0;
	int fd = open_tap("nbraw0"), i;
	double t0;

	if (fd < 0) {
		perror("netbench: tap");
		return 1;
	}
	memset(&vh, 0, sizeof(vh));
	make_frame(frame, len, false);
	if (len > 9014) {
		uint32_t ip = len - 14;

		frame[16] = (uint8_t)(ip >> 8);
		frame[17] = (uint8_t)ip;
		vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		vh.gso_size = LSO_MSS;
		vh.hdr_len = 54;
		vh.csum_start = 34;
		vh.csum_offset = 16;
	}
	t0 = now();
	while (now() - t0 < secs) {
		for (i = 0; i < 64; i++) {
			if (writev(fd, iov, 2) < 0) {
				perror("netbench: write");
				return 1;
			}
		}
		frames += 64;
	}
	report(frames, frames * len, now() - t0);
	close(fd);
	return 0;
}

static void inject_loop(const char *ifname, uint32_t len, double secs)
{
	static uint8_t frame[9100];
	struct sockaddr_ll sa;
	struct ifreq ifr;
	int s = socket(AF_PACKET, SOCK_RAW, 0);
	double t0;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (s < 0 || ioctl(s, SIOCGIFINDEX, &ifr) < 0) {
		perror("netbench: packet socket");
		exit(1);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sll_family = AF_PACKET;
	sa.sll_ifindex = ifr.ifr_ifindex;
	sa.sll_halen = 6;
	make_frame(frame, len, false);
	t0 = now();
	while (now() - t0 < secs && !stop)
		if (sendto(s, frame, len, 0, (struct sockaddr *)&sa,
			   sizeof(sa)) < 0 && errno != ENOBUFS)
			break;
	close(s);
}

static int raw_rx(uint32_t len, double secs)
{
	static uint8_t buf[9100];
	uint64_t frames = 0, bytes = 0;
	int fd = open_tap("nbraw1");
	pid_t child;
	ssize_t n;
	double t0;

	if (fd < 0) {
		perror("netbench: tap");
		return 1;
	}
	child = fork();
	if (!child) {
		inject_loop("nbraw1", len, secs + 0.5);
		_exit(0);
	}
	n = read(fd, buf, sizeof(buf));	/* the first one starts the clock */
	fcntl(fd, F_SETFL, O_NONBLOCK);
	t0 = now();
	while (now() - t0 < secs) {
		n = read(fd, buf, sizeof(buf));
		if (n > (ssize_t)sizeof(struct virtio_net_hdr)) {
			frames++;
			bytes += (uint64_t)n - sizeof(struct virtio_net_hdr);
		} else {
			struct pollfd p = { fd, POLLIN, 0 };

			poll(&p, 1, 10);
		}
	}
	report(frames, bytes, now() - t0);
	kill(child, SIGTERM);
	waitpid(child, NULL, 0);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && !strcmp(argv[1], "server"))
		return run_server(argc - 2, argv + 2);
	if (argc == 4 && !strcmp(argv[1], "vsp-tx"))
		return vsp_tx((uint32_t)atoi(argv[2]), atof(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "raw-tx"))
		return raw_tx((uint32_t)atoi(argv[2]), atof(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "vsp-rx"))
		return vsp_rx(atof(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "raw-rx"))
		return raw_rx((uint32_t)atoi(argv[2]), atof(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "inject")) {
		signal(SIGTERM, on_signal);
		inject_loop(argv[2], (uint32_t)atoi(argv[3]), atof(argv[4]));
		return 0;
	}
	fprintf(stderr, "usage: netbench server DOMID --tap NAME | vsp-tx SIZE "
		"SECS | raw-tx SIZE SECS | vsp-rx SECS | inject IFNAME SIZE "
		"SECS | raw-rx SIZE SECS\n");
	return 2;
}
