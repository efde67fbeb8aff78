// SPDX-License-Identifier: GPL-2.0-only
/*
 * Both ends of libvmbus in one small program, for the integration tests:
 *   vmbus-echo-peer server DOMID   serve DOMID's bus (run in dom0), offer
 *                                  one pipe named "echo" and echo every
 *                                  in-band packet; a request that asks for
 *                                  a completion gets one.
 *   vmbus-echo-peer client [COUNT [SIZE [PAGES]]]
 *                                  (run in the guest) open the bus, find
 *                                  "echo", open it with PAGES-page rings,
 *                                  stream COUNT packets of SIZE bytes in
 *                                  batches and check every echo.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "libvmbus.h"

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

static int run_server(unsigned int domid)
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

int main(int argc, char **argv)
{
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && strcmp(argv[1], "server") == 0)
		return run_server((unsigned int)strtoul(argv[2], NULL, 10));
	if (argc >= 2 && strcmp(argv[1], "client") == 0)
		return run_client(argc > 2 ? strtoul(argv[2], NULL, 10) : 1000,
				  argc > 3 ? strtoul(argv[3], NULL, 10) : 256,
				  argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 4);
	fprintf(stderr, "usage: %s server DOMID | client [COUNT [SIZE [PAGES]]]\n",
		argv[0]);
	return 2;
}
