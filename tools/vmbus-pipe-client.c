// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbus-pipe-client: the guest end of a VMBus pipe, for demos and tests.
 *
 *   vmbus-pipe-client [options] NAME
 *       (in a guest) open the bus, list the offers, open pipe NAME, stream
 *       --bytes of data through it and check that what comes back (from an
 *       echo service in dom0) has the same length and checksum.
 *   vmbus-pipe-client --echo-service PATH [--message-mode]
 *       (in dom0) a unix socket service that echoes what it receives; it
 *       knows nothing of Xen.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "libvmbus.h"

/* FNV-1a, 64 bits: enough to tell a corrupted or reordered stream. */
static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static int echo_service(const char *path, bool message)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd p[65];
	static char buf[65536];
	int n = 1, i, j;
	ssize_t r;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	p[0].fd = socket(AF_UNIX, message ? SOCK_SEQPACKET : SOCK_STREAM, 0);
	if (p[0].fd < 0 || bind(p[0].fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(p[0].fd, 16) < 0) {
		fprintf(stderr, "echo-service: failed to listen on \"%s\" (%s)\n",
			path, strerror(errno));
		return 1;
	}
	p[0].events = POLLIN;
	printf("echo-service: listening on %s (%s mode)\n", path,
	       message ? "message" : "byte");
	fflush(stdout);
	while (!stop) {
		if (poll(p, (nfds_t)n, 500) <= 0)
			continue;
		if ((p[0].revents & POLLIN) && n < 65) {
			p[n].fd = accept(p[0].fd, NULL, NULL);
			p[n].events = POLLIN;
			p[n].revents = 0;
			if (p[n].fd >= 0)
				n++;
		}
		for (i = 1; i < n; i++) {
			if (!p[i].revents)
				continue;
			r = read(p[i].fd, buf, sizeof(buf));
			if (r > 0) {
				ssize_t off = 0, w;

				while (off < r) {
					w = write(p[i].fd, buf + off,
						  (size_t)(r - off));
					if (w <= 0)
						break;
					off += w;
				}
				continue;
			}
			close(p[i].fd);
			for (j = i; j < n - 1; j++)
				p[j] = p[j + 1];
			n--;
			i--;
		}
	}
	unlink(path);
	return 0;
}

struct opts {
	const char *name;
	unsigned long long bytes;
	size_t chunk;
	unsigned int pages;
	unsigned int delay_ms;
	int wait_s;
};

static const char *offer_name(const struct vmbus_offer *o, char *buf)
{
	if (!(o->flags & VMBUS_OFFER_FLAG_NAMED_PIPE))
		return "(not a pipe)";
	memcpy(buf, o->user_data + VMBUS_PIPE_NAME_OFFSET,
	       VMBUS_PIPE_NAME_MAX + 1);
	buf[VMBUS_PIPE_NAME_MAX] = '\0';
	return buf;
}

static int client(const struct opts *o)
{
	struct vmbus_offer offers[64], off;
	struct vmbus_bus *bus = NULL;
	struct vmbus_chan *c = NULL;
	struct vmbus_packet pkt;
	uint8_t *tx = malloc(o->chunk);
	uint64_t *rx = malloc(65536 + 64);
	unsigned long long sent = 0, got = 0, pkts_tx = 0, pkts_rx = 0;
	uint64_t htx = 0xcbf29ce484222325ull, hrx = htx, seed = 0x9e3779b97f4a7c15ull;
	uint64_t saved;
	struct vmbus_chan_stats st;
	char name[VMBUS_PIPE_NAME_MAX + 1];
	bool eof_sent = false, eof_got = false;
	double t0, t1;
	int rc, n, i, status = 1;
	size_t len, k;

	rc = vmbus_bus_open(&bus, 10000);
	if (rc) {
		fprintf(stderr, "client: failed to open the bus (%s)\n",
			strerror(-rc));
		goto out;
	}
	printf("client: bus connected, protocol version %u.%u\n",
	       vmbus_bus_version(bus) >> 16, vmbus_bus_version(bus) & 0xffff);
	n = vmbus_bus_offers(bus, offers, 64);
	printf("client: %d offer(s)\n", n);
	for (i = 0; i < n && i < 64; i++)
		printf("client:   channel %u: pipe \"%s\" (%s mode)\n",
		       offers[i].relid, offer_name(&offers[i], name),
		       offers[i].user_data[0] == VMBUS_PIPE_MODE_MESSAGE ?
		       "message" : "byte");
	for (i = 0; vmbus_bus_find_pipe(bus, o->name, &off) != 0; i++) {
		if (i >= o->wait_s * 10) {
			fprintf(stderr, "client: no pipe \"%s\" offered\n",
				o->name);
			goto out;
		}
		vmbus_bus_wait(bus, 100);
	}
	rc = vmbus_chan_open(bus, off.relid, o->pages, 1, 10000, &c);
	if (rc) {
		fprintf(stderr, "client: failed to open pipe \"%s\" (channel "
			"%u): %s\n", o->name, off.relid, strerror(-rc));
		goto out;
	}
	printf("client: opened pipe \"%s\" (channel %u, %u-page rings, class "
	       "version %u.%u)\n", o->name, off.relid, o->pages,
	       vmbus_chan_version(c) >> 16, vmbus_chan_version(c) & 0xffff);
	fflush(stdout);

	t0 = now_s();
	while (!stop && !(eof_sent && (got >= sent || eof_got))) {
		/* Send as much as the ring takes, in one batch. */
		vmbus_chan_batch_begin(c);
		while (!eof_sent) {
			if (sent >= o->bytes) {
				if (vmbus_chan_send(c, NULL, 0, 0, 0) == 0)
					eof_sent = true;
				break;
			}
			len = o->bytes - sent < o->chunk ? o->bytes - sent : o->chunk;
			saved = seed;
			for (k = 0; k < len; k++) {
				seed = seed * 6364136223846793005ull + 1;
				tx[k] = (uint8_t)(seed >> 56);
			}
			rc = vmbus_chan_send(c, tx, len, pkts_tx, 0);
			if (rc == -EAGAIN) {
				seed = saved;	/* the same bytes next time */
				break;
			}
			if (rc == -ENOTCONN) {
				fprintf(stderr, "client: pipe closed by dom0 "
					"(offer rescinded) after %llu bytes "
					"sent, %llu received\n", sent, got);
				status = 3;
				goto closed;
			}
			if (rc) {
				fprintf(stderr, "client: send failed after %llu "
					"bytes: %s\n", sent, strerror(-rc));
				goto closed;
			}
			htx = fnv(htx, tx, len);
			sent += len;
			pkts_tx++;
			if (o->delay_ms)
				break;
		}
		vmbus_chan_batch_commit(c);
		while ((rc = vmbus_chan_recv(c, &pkt, rx, 65536 + 64)) == 0) {
			if (pkt.len == 0) {
				eof_got = true;
				continue;
			}
			hrx = fnv(hrx, pkt.data, pkt.len);
			got += pkt.len;
			pkts_rx++;
		}
		if (rc != -EAGAIN) {
			fprintf(stderr, "client: %s after %llu bytes sent, %llu "
				"received\n", rc == -ENOTCONN ?
				"pipe closed by dom0 (offer rescinded)" :
				strerror(-rc), sent, got);
			status = 3;
			goto closed;
		}
		if (eof_sent && (got >= sent || eof_got))
			break;
		/* Waiting also handles bus messages, a rescind among them. */
		if (vmbus_chan_wait(c, o->delay_ms ? (int)o->delay_ms : 5000) < 0)
			break;
	}
	t1 = now_s();
	vmbus_chan_get_stats(c, &st);
	printf("client: sent %llu bytes in %llu packets, received %llu bytes "
	       "in %llu packets in %.3f s (%.1f MB/s each way)\n", sent,
	       pkts_tx, got, pkts_rx, t1 - t0,
	       (t1 - t0) > 0 ? sent / (t1 - t0) / 1e6 : 0.0);
	printf("client: ring: %llu signals sent, %llu received, %llu times "
	       "full\n", (unsigned long long)st.tx_signals,
	       (unsigned long long)st.rx_signals,
	       (unsigned long long)st.tx_full);
	printf("client: checksum sent %016llx received %016llx: %s\n",
	       (unsigned long long)htx, (unsigned long long)hrx,
	       htx == hrx && sent == got ? "MATCH" : "MISMATCH");
	status = htx == hrx && sent == got && sent == o->bytes ? 0 : 1;
closed:
	vmbus_chan_close(c);
	printf("client: pipe closed\n");
out:
	vmbus_bus_close(bus);
	free(tx);
	free(rx);
	return status;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vmbus-pipe-client [options] NAME\n"
"       vmbus-pipe-client --echo-service PATH [--message-mode]\n\n"
"In a guest: open pipe NAME and stream data through it, checking the echo.\n"
"  --bytes N        bytes to stream (default 4194304)\n"
"  --chunk N        bytes per packet (default 4000)\n"
"  --ring-pages N   pages per ring, header included (default 16)\n"
"  --delay-ms N     pause between packets (slow stream)\n"
"  --wait S         wait up to S seconds for the offer (default 5)\n"
"In dom0: serve an echo on a unix socket (no Xen involved).\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "bytes", required_argument, NULL, 'b' },
		{ "chunk", required_argument, NULL, 'c' },
		{ "ring-pages", required_argument, NULL, 'r' },
		{ "delay-ms", required_argument, NULL, 'd' },
		{ "wait", required_argument, NULL, 'w' },
		{ "echo-service", required_argument, NULL, 'e' },
		{ "message-mode", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .bytes = 4u << 20, .chunk = 4000, .pages = 16,
			  .wait_s = 5 };
	const char *echo = NULL;
	bool message = false;
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'b': o.bytes = strtoull(optarg, NULL, 0); break;
		case 'c': o.chunk = strtoul(optarg, NULL, 0); break;
		case 'r': o.pages = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'd': o.delay_ms = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'w': o.wait_s = atoi(optarg); break;
		case 'e': echo = optarg; break;
		case 'm': message = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (echo)
		return echo_service(echo, message);
	if (optind + 1 != argc || o.chunk == 0 || o.chunk > 65536) {
		usage(stderr);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	o.name = argv[optind];
	return client(&o);
}
