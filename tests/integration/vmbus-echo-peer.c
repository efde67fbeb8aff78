// SPDX-License-Identifier: GPL-2.0-only
/*
 * Both ends of libvmbus in one small program, for the integration tests:
 *   vmbus-echo-peer server DOMID [noreopen]
 *                                  serve DOMID's bus (run in dom0), offer
 *                                  one pipe named "echo" and one echo
 *                                  device that may be re-opened (not with
 *                                  noreopen), and echo every in-band
 *                                  packet; a request that asks for a
 *                                  completion gets one.
 *   vmbus-echo-peer client [COUNT [SIZE [PAGES]]]
 *                                  (run in the guest) open the bus, find
 *                                  "echo", open it with PAGES-page rings,
 *                                  stream COUNT packets of SIZE bytes in
 *                                  batches and check every echo.
 *   vmbus-echo-peer reopen AFTER TIMEOUT_MS [refused]
 *                                  (run in the guest) open the echo device
 *                                  (re-opened by the library, for up to
 *                                  TIMEOUT_MS) and the pipe (not), stream
 *                                  on the device, checking every echo, and
 *                                  keep a packet going on the pipe.  When
 *                                  the server is killed, the pipe must fail
 *                                  with -ENOTCONN; once a new server
 *                                  is there, the device must carry AFTER
 *                                  more echoes without being opened again
 *                                  here; a data GPADL made before is gone
 *                                  (-ENOENT), a new one can be made.
 *                                  Then, with the re-open limited to
 *                                  1 s, the server killed and not started
 *                                  again, the device must give up with
 *                                  -ETIMEDOUT and fail with -ENOTCONN.
 *                                  With refused, the next server offers
 *                                  the device without re-open: it must
 *                                  give up with -EOPNOTSUPP at once.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "libvmbus.h"

/* A device class of this test's, served statelessly: it may be re-opened. */
#define ECHO_DEV_CLASS_GUID	"0d7c2f4e-83a1-4b6e-9c55-1e2f3a4b5c6d"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int epfd = -1;

/* A packet received but not echoed yet (the echo ring was full). */
struct echo_pending {
	struct vmbus_packet pkt;
	bool full;
	uint64_t buf[65536 / 8];
};

static int srv_open(struct vmbus_server *s, struct vmbus_chan *c,
		    void *cookie, void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

	(void)s; (void)cookie; (void)arg;
	vmbus_chan_set_data(c, calloc(1, sizeof(struct echo_pending)));
	printf("server: channel %u opened\n", vmbus_chan_relid(c));
	fflush(stdout);
	return epoll_ctl(epfd, EPOLL_CTL_ADD, vmbus_chan_fd(c), &ev) < 0 ?
		-errno : 0;
}

static void srv_close(struct vmbus_server *s, struct vmbus_chan *c,
		      void *cookie, void *arg)
{
	(void)s; (void)cookie; (void)arg;
	epoll_ctl(epfd, EPOLL_CTL_DEL, vmbus_chan_fd(c), NULL);
	free(vmbus_chan_get_data(c));
	printf("server: channel %u closed\n", vmbus_chan_relid(c));
	fflush(stdout);
}

static const struct vmbus_server_ops ops = { srv_open, srv_close };

static int srv_send_echo(struct vmbus_chan *c, const struct vmbus_packet *pkt)
{
	if (pkt->flags & 1)
		return vmbus_chan_send_comp(c, pkt->trans_id, pkt->data,
					    pkt->len);
	return vmbus_chan_send(c, pkt->data, pkt->len, pkt->trans_id, 0);
}

/* Echo what fits; keep one packet back until the peer frees space. */
static void srv_echo(struct vmbus_chan *c)
{
	struct echo_pending *p = vmbus_chan_get_data(c);

	vmbus_chan_ack(c);
	vmbus_chan_batch_begin(c);
	for (;;) {
		if (!p->full) {
			if (vmbus_chan_recv(c, &p->pkt, p->buf,
					    sizeof(p->buf)) != 0)
				break;
			p->full = true;
		}
		if (srv_send_echo(c, &p->pkt) != 0)
			break;
		p->full = false;
	}
	vmbus_chan_batch_commit(c);
}

static void srv_echo_each(struct vmbus_chan *c, void *arg)
{
	(void)arg;
	srv_echo(c);
}

static int run_server(unsigned int domid, bool reopen)
{
	struct vmbus_offer_desc d = { .flags = VMBUS_OFFER_FLAG_NAMED_PIPE,
				      .nversions = 1,
				      .versions = { VMBUS_PIPE_VERSION_1_0 } };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL }, evs[8];
	struct vmbus_server *s;
	int rc, n, i;

	epfd = epoll_create1(0);
	vmbus_guid_parse(VMBUS_PIPE_CLASS_GUID, d.type);
	d.instance[15] = 1;
	strcpy((char *)d.user_data + VMBUS_PIPE_NAME_OFFSET, "echo");
	rc = vmbus_server_create(&s, domid, &ops, NULL);
	if (rc) {
		fprintf(stderr, "server: failed to serve domain %u: %s\n",
			domid, strerror(-rc));
		return 1;
	}
	vmbus_server_offer(s, &d, NULL);
	/* The echo device: the same echo, stateless, so it may be re-opened. */
	memset(&d, 0, sizeof(d));
	d.flags = VMBUS_OFFER_FLAG_GPADLS |
		  (reopen ? VMBUS_OFFER_FLAG_REOPEN : 0);
	d.nversions = 1;
	d.versions[0] = VMBUS_PIPE_VERSION_1_0;
	vmbus_guid_parse(ECHO_DEV_CLASS_GUID, d.type);
	d.instance[15] = 2;
	vmbus_server_offer(s, &d, NULL);
	epoll_ctl(epfd, EPOLL_CTL_ADD, vmbus_server_fd(s), &ev);
	printf("server: serving domain %u\n", domid);
	fflush(stdout);
	while (!stop) {
		n = epoll_wait(epfd, evs, 8, 500);
		for (i = 0; i < n; i++) {
			if (!evs[i].data.ptr)
				vmbus_server_process(s);
			else
				srv_echo(evs[i].data.ptr);
		}
		/* Channels that became writable again are retried here. */
		vmbus_server_foreach_chan(s, srv_echo_each, NULL);
	}
	vmbus_server_destroy(s);
	close(epfd);
	return 0;
}

static int run_client(unsigned long count, size_t size, unsigned int pages)
{
	struct vmbus_bus *bus = NULL;
	struct vmbus_chan *c = NULL;
	struct vmbus_offer off;
	struct vmbus_packet pkt;
	uint8_t *tx = malloc(size), *rx = malloc(size + 64);
	unsigned long sent = 0, got = 0, comps = 0;
	uint64_t sum_tx = 0, sum_rx = 0;
	int rc;
	size_t i;

	rc = vmbus_bus_open(&bus, 10000);
	if (rc) {
		fprintf(stderr, "client: failed to open the bus: %s\n",
			strerror(-rc));
		return 1;
	}
	printf("client: bus version %u.%u\n", vmbus_bus_version(bus) >> 16,
	       vmbus_bus_version(bus) & 0xffff);
	rc = vmbus_bus_find_pipe(bus, "echo", &off);
	if (rc) {
		fprintf(stderr, "client: no pipe \"echo\" offered\n");
		goto out;
	}
	printf("client: offer %u (echo)\n", off.relid);
	rc = vmbus_chan_open(bus, off.relid, pages, 1, 10000, &c);
	if (rc) {
		fprintf(stderr, "client: failed to open channel %u: %s\n",
			off.relid, strerror(-rc));
		goto out;
	}
	printf("client: channel %u open, class version %u.%u\n", off.relid,
	       vmbus_chan_version(c) >> 16, vmbus_chan_version(c) & 0xffff);
	while (got < count) {
		vmbus_chan_batch_begin(c);
		while (sent < count && sent - got < 64) {
			for (i = 0; i < size; i++)
				tx[i] = (uint8_t)(sent * 31 + i);
			rc = vmbus_chan_send(c, tx, size, sent, sent % 7 == 0);
			if (rc == -EAGAIN)
				break;
			if (rc) {
				fprintf(stderr, "client: send failed: %s\n",
					strerror(-rc));
				goto out;
			}
			for (i = 0; i < size; i++)
				sum_tx = sum_tx * 131 + tx[i];
			sent++;
		}
		vmbus_chan_batch_commit(c);
		while ((rc = vmbus_chan_recv(c, &pkt, rx, size + 64)) == 0) {
			if (pkt.len != size || pkt.trans_id != got) {
				fprintf(stderr, "client: packet %lu: len %u "
					"id %llu\n", got, pkt.len,
					(unsigned long long)pkt.trans_id);
				rc = -EPROTO;
				goto out;
			}
			if (pkt.type == 0xb)
				comps++;
			for (i = 0; i < size; i++)
				sum_rx = sum_rx * 131 +
					 ((const uint8_t *)pkt.data)[i];
			got++;
		}
		if (rc != -EAGAIN) {
			fprintf(stderr, "client: receive failed: %s\n",
				strerror(-rc));
			goto out;
		}
		rc = vmbus_chan_wait(c, 5000);
		if (rc) {
			fprintf(stderr, "client: wait failed: %s\n", strerror(-rc));
			goto out;
		}
	}
	rc = sum_tx == sum_rx ? 0 : -EBADMSG;
	printf("client: %lu packets of %zu bytes echoed, %lu completions, "
	       "checksum %016llx %s\n", got, size, comps,
	       (unsigned long long)sum_rx, rc ? "MISMATCH" : "ok");
out:
	if (c)
		vmbus_chan_close(c);
	vmbus_bus_close(bus);
	free(tx);
	free(rx);
	return rc ? 1 : 0;
}

/* --- reopen: the library re-opens the echo device, not the pipe --- */

struct reopen_state {
	int status;			/* last reported */
	unsigned int calls;
	int64_t lost_at, at;		/* ms: when -EINPROGRESS came, the last */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_reopen(struct vmbus_chan *c, int status, void *arg)
{
	struct reopen_state *r = arg;

	r->status = status;
	r->calls++;
	r->at = now_ms();
	if (status == -EINPROGRESS)
		r->lost_at = r->at;
	printf("reopen: device channel %s (%s), now channel %u\n",
	       status == -EINPROGRESS ? "lost, re-open pending" :
	       status == 0 ? "re-opened" : "gave up",
	       status ? strerror(-status) : "ok", vmbus_chan_relid(c));
}

static int find_dev(struct vmbus_bus *bus, struct vmbus_offer *out)
{
	struct vmbus_offer offs[16];
	uint8_t type[16];
	int n, i;

	vmbus_guid_parse(ECHO_DEV_CLASS_GUID, type);
	n = vmbus_bus_offers(bus, offs, 16);
	for (i = 0; i < n && i < 16; i++)
		if (!memcmp(offs[i].type, type, 16)) {
			*out = offs[i];
			return 0;
		}
	return -ENOENT;
}

/* The byte of packet @seq at @i: every echo is checked on its own. */
static uint8_t pat(uint64_t seq, size_t i)
{
	return (uint8_t)(seq * 31 + i);
}

static int run_reopen(unsigned long after, int timeout_ms, bool refused)
{
	/* How the device is to give up, and when that is the end. */
	int giveup = refused ? -EOPNOTSUPP : -ETIMEDOUT;
	struct reopen_state rs = { .status = 1 };
	struct vmbus_bus *bus = NULL;
	struct vmbus_chan *dev = NULL, *pipe = NULL;
	struct vmbus_gpadl *g = NULL, *g2 = NULL;
	struct vmbus_range rg = { .byte_count = 16, .byte_offset = 0 };
	struct vmbus_offer off;
	struct vmbus_packet pkt;
	uint8_t tx[256], rx[512];
	uint64_t sent = 0, got = 0, got_at_reopen = 0;
	int64_t end = now_ms() + 120000;
	bool pipe_out = false, streaming = false, again = false;
	int rc, pipe_rc = 0, fd0, phase = refused ? 2 : 1;
	size_t i;

	rc = vmbus_bus_open(&bus, 10000);
	if (rc) {
		fprintf(stderr, "reopen: failed to open the bus: %s\n",
			strerror(-rc));
		return 1;
	}
	rc = find_dev(bus, &off);
	if (!rc)
		rc = (off.flags & VMBUS_OFFER_FLAG_REOPEN) ? 0 : -EOPNOTSUPP;
	if (!rc)
		rc = vmbus_chan_open(bus, off.relid, 4, 1, 10000, &dev);
	if (!rc)
		rc = vmbus_chan_set_reopen(dev, timeout_ms, on_reopen, &rs);
	/* A data GPADL of the first connection. */
	if (!rc)
		rc = vmbus_gpadl_create(dev, 4096, 0, 10000, &g);
	if (rc) {
		fprintf(stderr, "reopen: the echo device: %s\n", strerror(-rc));
		goto out;
	}
	rc = vmbus_bus_find_pipe(bus, "echo", &off);
	if (!rc)
		rc = vmbus_chan_open(bus, off.relid, 2, 1, 10000, &pipe);
	if (rc) {
		fprintf(stderr, "reopen: the pipe: %s\n", strerror(-rc));
		goto out;
	}
	/* A pipe is never re-opened: its service connection is gone. */
	rc = vmbus_chan_set_reopen(pipe, timeout_ms, NULL, NULL);
	printf("reopen: pipe channel %u: re-open %s (%s)\n", off.relid,
	       rc ? "refused" : "accepted", strerror(-rc));
	if (rc != -EOPNOTSUPP) {
		rc = -EPROTO;
		goto out;
	}
	fd0 = vmbus_chan_fd(dev);
	printf("reopen: device channel %u open\n", vmbus_chan_relid(dev));
	rc = 0;
	while (now_ms() < end) {
		/* The pipe: one packet at a time, until it fails. */
		if (pipe && !pipe_rc) {
			if (!pipe_out) {
				rc = vmbus_chan_send(pipe, "ping", 4, 1, 0);
				if (rc == 0)
					pipe_out = true;
			} else {
				rc = vmbus_chan_recv(pipe, &pkt, rx, sizeof(rx));
				if (rc == 0)
					pipe_out = false;
			}
			if (rc && rc != -EAGAIN) {
				pipe_rc = rc;
				printf("reopen: pipe channel failed: %s "
				       "(status %s)\n", strerror(-rc),
				       strerror(-vmbus_chan_status(pipe)));
			}
		}
		/* The device: echoes first, then a window of 32 in flight. */
		while ((rc = vmbus_chan_recv(dev, &pkt, rx, sizeof(rx))) == 0) {
			if (pkt.len != sizeof(tx) || pkt.trans_id != got)
				rc = -EPROTO;
			for (i = 0; !rc && i < sizeof(tx); i++)
				if (((const uint8_t *)pkt.data)[i] != pat(got, i))
					rc = -EBADMSG;
			if (rc) {
				fprintf(stderr, "reopen: echo %llu is wrong "
					"(%s)\n", (unsigned long long)got,
					strerror(-rc));
				goto out;
			}
			got++;
		}
		if (rc == -EAGAIN) {
			vmbus_chan_batch_begin(dev);
			while (sent - got < 32) {
				for (i = 0; i < sizeof(tx); i++)
					tx[i] = pat(sent, i);
				rc = vmbus_chan_send(dev, tx, sizeof(tx), sent,
						     0);
				if (rc)
					break;
				sent++;
			}
			vmbus_chan_batch_commit(dev);
			if (!rc)
				rc = -EAGAIN;
		}
		if (rc == -ENOTCONN && phase == 2 && rs.status == giveup)
			break;
		if (rc != -EAGAIN) {
			fprintf(stderr, "reopen: device channel failed: %s\n",
				strerror(-rc));
			goto out;
		}
		if (rs.status == -EINPROGRESS && sent != got) {
			/* What was in flight went with the server. */
			printf("reopen: %llu packets lost in flight\n",
			       (unsigned long long)(sent - got));
			sent = got;
		}
		if (!streaming && got >= 500) {
			streaming = true;
			printf("reopen: streaming (%llu echoes)\n",
			       (unsigned long long)got);
		}
		if (rs.status == 0 && phase == 1 && !again) {
			again = true;
			got_at_reopen = got;
			/* Its rings came back, its GPADL did not. */
			rc = vmbus_chan_send_gpa(dev, vmbus_gpadl_id(g), &rg, 1,
						 NULL, 0, 0, false);
			printf("reopen: the old GPADL: %s\n", strerror(-rc));
			if (rc != -ENOENT || vmbus_gpadl_destroy(g, 1000) ||
			    vmbus_gpadl_create(dev, 4096, 0, 10000, &g2)) {
				g = NULL;
				rc = -EPROTO;
				goto out;
			}
			g = NULL;
			printf("reopen: a new GPADL %u\n", vmbus_gpadl_id(g2));
		}
		if (again && phase == 1 && got - got_at_reopen >= after) {
			printf("reopen: resumed: %llu echoes after the re-open, "
			       "%u re-open(s), fd %s\n",
			       (unsigned long long)(got - got_at_reopen),
			       vmbus_chan_reopens(dev),
			       vmbus_chan_fd(dev) == fd0 ? "unchanged" :
			       "changed");
			/* Next time, the server does not come back. */
			vmbus_chan_set_reopen(dev, 1000, on_reopen, &rs);
			phase = 2;
			printf("reopen: streaming again\n");
		}
		rc = vmbus_chan_wait(dev, 1000);
		if (rc && !(rc == -ENOTCONN && phase == 2)) {
			fprintf(stderr, "reopen: wait failed: %s\n",
				strerror(-rc));
			goto out;
		}
	}
	rc = -ETIMEDOUT;
	if (phase == 2 && rs.status == giveup) {
		printf("reopen: gave up %lld ms after the loss; status %s; "
		       "send %s\n", (long long)(rs.at - rs.lost_at),
		       strerror(-vmbus_chan_status(dev)),
		       strerror(-vmbus_chan_send(dev, tx, 8, 0, 0)));
		rc = pipe_rc == -ENOTCONN &&
		     vmbus_chan_status(dev) == -ENOTCONN &&
		     vmbus_chan_reopens(dev) == (refused ? 0 : 1) ? 0 : -EPROTO;
	}
	printf("reopen: %llu echoes in all, all checked: %s\n",
	       (unsigned long long)got, rc ? strerror(-rc) : "ok");
out:
	if (pipe)
		vmbus_chan_close(pipe);
	if (dev)
		vmbus_chan_close(dev);
	/* Detached by the close: destroying frees them. */
	if (g)
		vmbus_gpadl_destroy(g, 1000);
	if (g2)
		vmbus_gpadl_destroy(g2, 1000);
	vmbus_bus_close(bus);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && strcmp(argv[1], "server") == 0)
		return run_server((unsigned int)strtoul(argv[2], NULL, 10),
				  !(argc > 3 && !strcmp(argv[3], "noreopen")));
	if (argc >= 2 && strcmp(argv[1], "client") == 0)
		return run_client(argc > 2 ? strtoul(argv[2], NULL, 10) : 1000,
				  argc > 3 ? strtoul(argv[3], NULL, 10) : 256,
				  argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 4);
	if (argc >= 4 && strcmp(argv[1], "reopen") == 0)
		return run_reopen(strtoul(argv[2], NULL, 10), atoi(argv[3]),
				  argc > 4 && !strcmp(argv[4], "refused"));
	fprintf(stderr, "usage: %s server DOMID [noreopen] | client [COUNT "
		"[SIZE [PAGES]]] | reopen AFTER TIMEOUT_MS [refused]\n",
		argv[0]);
	return 2;
}
