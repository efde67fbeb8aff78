// SPDX-License-Identifier: GPL-2.0-only
/*
 * A guest bus client below libvmbus: see raw-guest.h.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xenvmbus/xenstore.h>

#include "raw-guest.h"

#define CTL_ORDER	4
#define CTL_PAGES	(1u << CTL_ORDER)

struct xs_handle *xs;
xengntshr_handle *gs;
xenevtchn_handle *xce;
int port = -1;
struct vmbus_ring ctl;
int failures, checks;
void (*raw_seen)(const struct vmbus_msg *m);

static char be[128];

void check(int ok, const char *what)
{
	checks++;
	if (!ok)
		failures++;
	printf("hostile: %s - %s\n", ok ? "ok" : "FAILED", what);
	fflush(stdout);
}

void die(const char *what)
{
	fprintf(stderr, "hostile: failed to %s (%s)\n", what, strerror(errno));
	exit(2);
}

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void raw_open(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	xs = xs_open(0);
	gs = xengntshr_open(NULL, 0);
	xce = xenevtchn_open(NULL, 0);
	if (!xs || !gs || !xce)
		die("open the Xen devices");
}

int raw_report(void)
{
	printf("hostile: %d of %d checks held\n", checks - failures, checks);
	return failures ? 1 : 0;
}

static void signal_port(void *arg)
{
	(void)arg;
	xenevtchn_notify(xce, (evtchn_port_t)port);
}

static int xs_state(const char *dir)
{
	char path[160], *v;
	int st;

	snprintf(path, sizeof(path), "%s/state", dir);
	v = xs_read(xs, XBT_NULL, path, NULL);
	st = v ? atoi(v) : -1;
	free(v);
	return st;
}

static void xs_put(const char *dir, const char *key, unsigned long v)
{
	char path[160], val[32];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	snprintf(val, sizeof(val), "%lu", v);
	if (!xs_write(xs, XBT_NULL, path, val, (unsigned int)strlen(val)))
		die("write xenstore");
}

static void wait_backend(int state)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (xs_state(be) == state)
			return;
		usleep(10000);
	}
	errno = ETIMEDOUT;
	die("see the backend reach its state");
}

void bus_connect(void)
{
	const char *fe = "device/vmbus/0";
	uint32_t refs[CTL_PAGES], i;
	char path[64], *v;
	size_t half = CTL_PAGES / 2 * VMBUS_GRANT_PAGE_SIZE;
	void *mem;

	v = xs_read(xs, XBT_NULL, "device/vmbus/0/backend", NULL);
	if (!v)
		die("read device/vmbus/0/backend");
	snprintf(be, sizeof(be), "%s", v);
	free(v);
	xs_put(fe, "state", 1);
	wait_backend(2);
	mem = xengntshr_share_pages(gs, 0, CTL_PAGES, refs, 1);
	if (!mem)
		die("grant the control rings");
	memset(mem, 0, CTL_PAGES * VMBUS_GRANT_PAGE_SIZE);
	vmbus_ring_hdr_init(mem, half, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	vmbus_ring_hdr_init((uint8_t *)mem + half, half,
			    VMBUS_RING_FEAT_PENDING_SEND_SZ);
	port = xenevtchn_bind_unbound_port(xce, 0);
	if (port < 0)
		die("allocate an event channel");
	if (vmbus_ring_init(&ctl, mem, half, (uint8_t *)mem + half, half,
			    signal_port, NULL))
		die("attach the control rings");
	xs_put(fe, "ring-page-order", CTL_ORDER);
	for (i = 0; i < CTL_PAGES; i++) {
		snprintf(path, sizeof(path), "ring-ref%u", i);
		xs_put(fe, path, refs[i]);
	}
	xs_put(fe, "event-channel", (unsigned long)port);
	xs_put(fe, "state", 3);
	wait_backend(4);
	xs_put(fe, "state", 4);
}

void bus_close(void)
{
	xs_put("device/vmbus/0", "state", 6);
	wait_backend(6);
}

int backend_state(void)
{
	return xs_state(be);
}

int send_msg(struct vmbus_msg *m)
{
	return vmbus_ring_send_inband(&ctl, &m->u, m->len, 0, 0);
}

void wait_event(int ms)
{
	struct pollfd pf = { .fd = xenevtchn_fd(xce), .events = POLLIN };
	xenevtchn_port_or_error_t p;

	if (poll(&pf, 1, ms) > 0) {
		p = xenevtchn_pending(xce);
		if (p >= 0)
			xenevtchn_unmask(xce, (evtchn_port_t)p);
	}
}

int expect_match(uint32_t type,
		 bool (*want)(const struct vmbus_msg *m, void *arg), void *arg,
		 struct vmbus_msg *out)
{
	uint64_t buf[64];
	struct vmbus_pkt pkt;
	struct vmbus_msg m;
	int i, rc;

	for (i = 0; i < 200; i++) {
		rc = vmbus_ring_recv(&ctl, &pkt, buf, sizeof(buf));
		if (rc == -EAGAIN) {
			wait_event(10);
			continue;
		}
		if (rc < 0)
			die("receive on the control ring");
		if (vmbus_msg_decode(&m, pkt.data, pkt.data_len,
				     VMBUS_MSG_DIR_S2C) < 0)
			continue;
		if (raw_seen)
			raw_seen(&m);
		if (m.u.hdr.msgtype == type && (!want || want(&m, arg))) {
			if (out)
				*out = m;
			return 1;
		}
	}
	return 0;
}

int expect(uint32_t type, struct vmbus_msg *out)
{
	return expect_match(type, NULL, NULL, out);
}
