// SPDX-License-Identifier: GPL-2.0-only
/*
 * Both ends of a Hyper-V socket for the simulation tier.
 *
 * In a guest it plays Linux's hv_sock over libvmbus:
 *   connect PORT BYTES   connect() to dom0's port PORT: TL_CONNECT_REQUEST
 *                        for the service GUID of PORT from an endpoint of
 *                        its own, open the channel dom0 offers for it,
 *                        send BYTES (VMPIPE-framed, at most hv_sock's MTU a
 *                        packet), then end its stream (a packet of no
 *                        data), and read what comes back until dom0 ends
 *                        its stream; the checksum of both is printed.
 *   listen PORT          listen() on PORT: wait for dom0's offer of a
 *                        connection to PORT (is_for_guest_accept), open
 *                        it, and send back all it reads until the end.
 * In dom0 it plays a program using the hybrid vsock convention:
 *   host-connect UDS PORT BYTES
 *                        connect to UDS, write "CONNECT PORT\n", read
 *                        "OK <port>\n", send BYTES, read them back.
 * Prints "sent N checksum X" and "received M checksum Y" ("MATCH" when
 * they agree); exit 0 when both ways completed.  Every wait is bounded.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <xenvmbus/msg.h>

#include "libvmbus.h"

#define CHUNK		4000
#define WAIT_MS		20000

static const uint8_t tail[12] = VMBUS_HVSOCK_TEMPLATE_TAIL;

struct sum {
	uint64_t n, h;
};

static void sum_add(struct sum *s, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		s->h = (s->h ^ p[i]) * 0x100000001b3ull;
	s->n += len;
}

static uint8_t data_byte(uint64_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void port_guid(uint32_t port, uint8_t g[16])
{
	memcpy(g, &port, 4);
	memcpy(g + 4, tail, 12);
}

static void report(const struct sum *tx, const struct sum *rx)
{
	printf("sent %llu checksum %016llx\n", (unsigned long long)tx->n,
	       (unsigned long long)tx->h);
	printf("received %llu checksum %016llx %s\n", (unsigned long long)rx->n,
	       (unsigned long long)rx->h,
	       tx->n == rx->n && tx->h == rx->h ? "MATCH" : "DIFFER");
}

/* --- the guest: hv_sock --- */

/* The hvsock offer of type @type (and instance @inst, unless NULL). */
static int find_offer(struct vmbus_bus *bus, const uint8_t type[16],
		      const uint8_t *inst, bool accept, struct vmbus_offer *out)
{
	struct vmbus_offer offers[64];
	int n, i;

	n = vmbus_bus_offers(bus, offers, 64);
	for (i = 0; i < n; i++) {
		struct vmbus_hvsock_user_data ud;

		memcpy(&ud, offers[i].user_data, sizeof(ud));
		if (!(offers[i].flags & VMBUS_OFFER_FLAG_HVSOCK) ||
		    memcmp(offers[i].type, type, 16) ||
		    (inst && memcmp(offers[i].instance, inst, 16)) ||
		    ud.is_for_guest_accept != accept)
			continue;
		*out = offers[i];
		return 0;
	}
	return -ENOENT;
}

/*
 * Move data over @ch until both streams ended: send @bytes of our own
 * (or, with @echo, what arrives), end ours, read theirs.
 */
static int guest_relay(struct vmbus_chan *ch, uint64_t bytes, bool echo,
		       struct sum *tx, struct sum *rx)
{
	static uint64_t buf[(VMBUS_HVSOCK_MTU + 4096) / 8];
	static uint8_t out[sizeof(struct vmbus_vmpipe_hdr) + VMBUS_HVSOCK_MTU];
	size_t out_len = 0;		/* a packet waiting for room */
	bool rx_eof = false, tx_eof = false;
	uint64_t made = 0;
	int64_t deadline = now_ms() + WAIT_MS * 3;
	struct vmbus_vmpipe_hdr h;
	struct vmbus_packet pkt;
	int rc;

	while (!(rx_eof && tx_eof)) {
		if (now_ms() > deadline) {
			fprintf(stderr, "vmbus-hvsock-peer: timed out\n");
			return -ETIMEDOUT;
		}
		/* Something to send: our data, the echo, or our end. */
		if (!out_len && !tx_eof) {
			size_t n = 0;

			if (!echo && made < bytes) {
				n = bytes - made < CHUNK ? (size_t)(bytes - made) : CHUNK;
				for (size_t i = 0; i < n; i++)
					out[sizeof(h) + i] = data_byte(made + i);
				made += n;
				sum_add(tx, out + sizeof(h), n);
				out_len = sizeof(h) + n;
			} else if (!echo || rx_eof) {
				out_len = sizeof(h);	/* the end of our stream */
			}
			if (out_len) {
				h.type = VMBUS_VMPIPE_DATA;
				h.size = (uint32_t)(out_len - sizeof(h));
				memcpy(out, &h, sizeof(h));
			}
		}
		if (out_len) {
			rc = vmbus_chan_send(ch, out, out_len, 0, 0);
			if (rc == 0) {
				if (out_len == sizeof(h))
					tx_eof = true;
				out_len = 0;
			} else if (rc != -EAGAIN) {
				fprintf(stderr, "vmbus-hvsock-peer: send: %s\n",
					strerror(-rc));
				return rc;
			}
		}
		/* Read, unless an echo waits for room. */
		while (!rx_eof && !(echo && out_len)) {
			rc = vmbus_chan_recv(ch, &pkt, buf, sizeof(buf));
			if (rc == -EAGAIN)
				break;
			if (rc < 0) {
				fprintf(stderr, "vmbus-hvsock-peer: receive: %s\n",
					strerror(-rc));
				return rc;
			}
			if (pkt.len < sizeof(h))
				return -EPROTO;
			memcpy(&h, pkt.data, sizeof(h));
			if (h.type != VMBUS_VMPIPE_DATA || h.size > pkt.len - sizeof(h) ||
			    h.size > VMBUS_HVSOCK_MTU)
				return -EPROTO;
			if (!h.size) {
				rx_eof = true;
				break;
			}
			sum_add(rx, (const uint8_t *)pkt.data + sizeof(h), h.size);
			if (echo) {
				memcpy(out + sizeof(h),
				       (const uint8_t *)pkt.data + sizeof(h), h.size);
				memcpy(out, &h, sizeof(h));
				out_len = sizeof(h) + h.size;
				sum_add(tx, out + sizeof(h), h.size);
			}
		}
		if ((out_len || !rx_eof) && !(rx_eof && tx_eof))
			vmbus_chan_wait(ch, 100);
	}
	return 0;
}

static int guest_main(bool listen_mode, uint32_t port, uint64_t bytes)
{
	uint8_t svc[16], ep[16];
	struct vmbus_offer offer;
	struct vmbus_bus *bus;
	struct vmbus_chan *ch = NULL;
	struct sum tx = { 0, 0xcbf29ce484222325ull }, rx = tx;
	int64_t deadline;
	int rc;

	rc = vmbus_bus_open(&bus, WAIT_MS);
	if (rc) {
		fprintf(stderr, "vmbus-hvsock-peer: failed to open the bus (%s)\n",
			strerror(-rc));
		return 1;
	}
	port_guid(port, svc);
	port_guid(0x30000000u + (uint32_t)getpid() % 0x10000000u, ep);
	if (!listen_mode) {
		rc = vmbus_bus_tl_connect(bus, ep, svc);
		if (rc) {
			fprintf(stderr, "vmbus-hvsock-peer: TL_CONNECT_REQUEST: "
				"%s\n", strerror(-rc));
			goto out;
		}
	} else {
		printf("listening on port %u\n", port);
	}
	/* Wait for the offer: dom0's answer, or its connection to us. */
	deadline = now_ms() + (listen_mode ? WAIT_MS : 5000);
	while ((rc = find_offer(bus, svc, listen_mode ? NULL : ep, listen_mode,
				&offer)) != 0 && now_ms() < deadline)
		vmbus_bus_wait(bus, 100);
	if (rc) {
		printf("no offer for port %u: refused\n", port);
		rc = -ECONNREFUSED;
		goto out;
	}
	rc = vmbus_chan_open(bus, offer.relid, 8, 1, WAIT_MS, &ch);
	if (rc) {
		fprintf(stderr, "vmbus-hvsock-peer: open: %s\n", strerror(-rc));
		goto out;
	}
	printf("connected on channel %u\n", offer.relid);
	rc = guest_relay(ch, bytes, listen_mode, &tx, &rx);
	if (!rc)
		report(&tx, &rx);
	vmbus_chan_close(ch);
out:
	vmbus_bus_close(bus);
	return rc ? 1 : 0;
}

/* --- dom0: a program on the hybrid vsock socket --- */

static int host_main(const char *uds, uint32_t port, uint64_t bytes)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static uint8_t buf[65536];
	struct sum tx = { 0, 0xcbf29ce484222325ull }, rx = tx;
	uint64_t made = 0;
	char line[64];
	size_t nl = 0;
	bool wr_done = false;
	int64_t deadline = now_ms() + WAIT_MS * 3;
	int fd, n;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", uds);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "vmbus-hvsock-peer: connect to \"%s\": %s\n", uds,
			strerror(errno));
		return 1;
	}
	n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (write(fd, line, (size_t)n) != n)
		return 1;
	/* The answer, a byte at a time: nothing after it is ours to take. */
	while (nl < sizeof(line) - 1) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, 10000) <= 0 || read(fd, line + nl, 1) != 1) {
			printf("no answer to CONNECT %u\n", port);
			return 1;
		}
		if (line[nl++] == '\n')
			break;
	}
	line[nl] = '\0';
	printf("answer %s", line);
	if (strncmp(line, "OK ", 3))
		return 1;
	while (rx.n < bytes || !wr_done) {
		struct pollfd p = { fd, POLLIN | (wr_done ? 0 : POLLOUT), 0 };

		if (now_ms() > deadline || poll(&p, 1, 1000) < 0) {
			fprintf(stderr, "vmbus-hvsock-peer: timed out\n");
			return 1;
		}
		if (p.revents & POLLOUT) {
			size_t k = bytes - made < sizeof(buf) ? (size_t)(bytes - made) :
				   sizeof(buf), i;

			for (i = 0; i < k; i++)
				buf[i] = data_byte(made + i);
			n = (int)send(fd, buf, k, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0) {
				sum_add(&tx, buf, (size_t)n);
				made += (uint64_t)n;
			}
			if (made == bytes) {
				shutdown(fd, SHUT_WR);
				wr_done = true;
			}
		}
		if (p.revents & (POLLIN | POLLHUP)) {
			n = (int)recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0)
				break;
			if (n > 0)
				sum_add(&rx, buf, (size_t)n);
		}
	}
	report(&tx, &rx);
	close(fd);
	return tx.n == rx.n && tx.h == rx.h ? 0 : 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && strcmp(argv[1], "connect") == 0)
		return guest_main(false, (uint32_t)strtoul(argv[2], NULL, 10),
				  strtoull(argv[3], NULL, 10));
	if (argc == 3 && strcmp(argv[1], "listen") == 0)
		return guest_main(true, (uint32_t)strtoul(argv[2], NULL, 10), 0);
	if (argc == 5 && strcmp(argv[1], "host-connect") == 0)
		return host_main(argv[2], (uint32_t)strtoul(argv[3], NULL, 10),
				 strtoull(argv[4], NULL, 10));
	fprintf(stderr, "usage: vmbus-hvsock-peer connect PORT BYTES | listen PORT"
		" | host-connect UDS PORT BYTES\n");
	return 2;
}
