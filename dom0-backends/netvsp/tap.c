// SPDX-License-Identifier: GPL-2.0-only
/*
 * The dom0 side of a synthetic NIC: a tap device with a virtio-net header
 * on every frame (so that checksum and segmentation offloads pass through
 * to dom0's stack), one queue per channel, joined to a bridge as Xen's
 * vif-bridge joins a netback vif, its carrier following the guest's NIC.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netvsp-private.h"

static int ifreq_ioctl(const char *name, unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
	if (ioctl(s, req, ifr) < 0)
		rc = -errno;
	close(s);
	return rc;
}

static int tap_queue(struct netvsp *nv, const char *name, unsigned int q)
{
	struct ifreq ifr;
	int fd, rc;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	rc = ioctl(fd, TUNSETIFF, &ifr) < 0 ? -errno : 0;
	/*
	 * No offloads towards the guest: dom0's stack hands the tap whole,
	 * checksummed frames (it segments and checksums in its optimised
	 * paths), since the guest gets no receive segment coalescing yet.
	 * Frames from the guest still carry their offloads in the header.
	 */
	if (!rc && ioctl(fd, TUNSETOFFLOAD, 0) < 0)
		rc = -errno;
	if (rc) {
		fprintf(stderr, "netvsp: create tap \"%s\" queue %u: %s\n",
			name, q, strerror(-rc));
		close(fd);
		return rc;
	}
	nv->tapfd[q] = fd;
	if (!q)
		snprintf(nv->ifname, sizeof(nv->ifname), "%s", ifr.ifr_name);
	return 0;
}

int netvsp_tap_open(struct netvsp *nv, const struct netvsp_cfg *cfg)
{
	struct ifreq ifr;
	unsigned int q;
	int rc;

	for (q = 0; q < NETVSP_MAX_QUEUES; q++)
		nv->tapfd[q] = -1;
	if (cfg->tap_fd >= 0) {
		nv->tapfd[0] = cfg->tap_fd;
		nv->nqueues = 1;
		return 0;
	}
	nv->own_tap = true;
	for (q = 0; q < nv->cfg.queues; q++) {
		rc = tap_queue(nv, q ? nv->ifname :
			       cfg->ifname && *cfg->ifname ? cfg->ifname :
			       "nvsp%d", q);
		if (rc)
			return rc;
		nv->nqueues++;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = (int)nv->cfg.mtu;
	rc = ifreq_ioctl(nv->ifname, SIOCSIFMTU, &ifr);
	if (rc) {
		fprintf(stderr, "netvsp: set MTU %u of \"%s\": %s\n",
			nv->cfg.mtu, nv->ifname, strerror(-rc));
		return rc;
	}
	if (cfg->bridge && *cfg->bridge) {
		memset(&ifr, 0, sizeof(ifr));
		rc = ifreq_ioctl(nv->ifname, SIOCGIFINDEX, &ifr);
		if (!rc)
			rc = ifreq_ioctl(cfg->bridge, SIOCBRADDIF, &ifr);
		if (rc) {
			fprintf(stderr, "netvsp: add \"%s\" to bridge \"%s\": "
				"%s\n", nv->ifname, cfg->bridge,
				strerror(-rc));
			return rc;
		}
	}
	memset(&ifr, 0, sizeof(ifr));
	rc = ifreq_ioctl(nv->ifname, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (!rc)
		rc = ifreq_ioctl(nv->ifname, SIOCSIFFLAGS, &ifr);
	if (rc)
		fprintf(stderr, "netvsp: bring \"%s\" up: %s\n", nv->ifname,
			strerror(-rc));
	/* No guest yet: no carrier until one attaches. */
	netvsp_tap_carrier(nv, false);
	return rc;
}

void netvsp_tap_carrier(struct netvsp *nv, bool up)
{
	int on = up;

	if (nv->own_tap && nv->tapfd[0] >= 0)
		(void)ioctl(nv->tapfd[0], TUNSETCARRIER, &on);
}

void netvsp_tap_close(struct netvsp *nv)
{
	unsigned int q;

	for (q = 0; q < NETVSP_MAX_QUEUES; q++) {
		if (nv->own_tap && nv->tapfd[q] >= 0)
			close(nv->tapfd[q]);
		nv->tapfd[q] = -1;
	}
}

const char *netvsp_ifname(const struct netvsp *nv)
{
	return nv->ifname;
}

int netvsp_tap_fd(const struct netvsp *nv, unsigned int q)
{
	return q < nv->nqueues ? nv->tapfd[q] : -1;
}
