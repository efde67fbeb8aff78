// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbus-pipe-client: the guest end of a VMBus pipe, for demos and tests.
 *
 *   vmbus-pipe-client [options] NAME [NAME...]
 *       (in a guest) open the bus, list the offers, open pipe NAME, stream
 *       --bytes of data through it and check that what comes back (from an
 *       echo service in dom0) has the same length and checksum.
 *       A pipe to another guest (vmbusctl p2p) has no echo: each end
 *       streams --bytes of its own (--seed) and checksums what the other
 *       end sends, until both have said end of stream.
 *   vmbus-pipe-client --echo-service PATH [--message-mode]
 *       (in dom0) a unix socket service that echoes what it receives; it
 *       knows nothing of Xen.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
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
		fprintf(stderr, "vmbus-pipe-client: echo-service: failed to listen on \"%s\" (%s)\n",
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
	unsigned long long bytes;
	size_t chunk;
	unsigned int pages;
	unsigned int delay_ms;
	int wait_s;
	uint64_t seed;
	unsigned int reconnect;		/* times to stream again after losing the bus */
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

/* One pipe being streamed. */
struct stream {
	const char *name;
	char tag[VMBUS_PIPE_NAME_MAX + 8];	/* "" or "[name] " */
	struct vmbus_chan *c;
	int peer;			/* domain at the other end, 0: dom0 */
	unsigned long long sent, got, pkts_tx, pkts_rx;
	uint64_t htx, hrx, seed;
	bool eof_sent, eof_got, done;
	double t0, t1, t_eof;
	int status;			/* 0 ok, 1 failed, 3 closed by dom0 */
};

static bool stream_done(const struct stream *s)
{
	return s->eof_sent && (s->eof_got || (!s->peer && s->got >= s->sent));
}

/* The pipe was rescinded under us: say so; false (the stream is over). */
static bool stream_closed(struct stream *s)
{
	fprintf(stderr, "vmbus-pipe-client: %spipe closed by dom0 (offer rescinded%s) "
		"after %llu bytes sent, %llu received\n", s->tag,
		s->peer > 0 ? ": the peer closed or went away" : "",
		s->sent, s->got);
	s->status = 3;
	return false;
}

/* Send what the ring takes and receive what arrived; false when over. */
static bool stream_step(struct stream *s, const struct opts *o, uint8_t *tx,
			uint64_t *rx)
{
	struct vmbus_packet pkt;
	uint64_t saved;
	size_t len, k;
	int rc;

	vmbus_chan_batch_begin(s->c);
	while (!s->eof_sent) {
		if (s->sent >= o->bytes) {
			if (vmbus_chan_send(s->c, NULL, 0, 0, 0) == 0)
				s->eof_sent = true;
			break;
		}
		len = o->bytes - s->sent < o->chunk ? o->bytes - s->sent : o->chunk;
		saved = s->seed;
		for (k = 0; k < len; k++) {
			s->seed = s->seed * 6364136223846793005ull + 1;
			tx[k] = (uint8_t)(s->seed >> 56);
		}
		rc = vmbus_chan_send(s->c, tx, len, s->pkts_tx, 0);
		if (rc == -EAGAIN) {
			s->seed = saved;	/* the same bytes next time */
			break;
		}
		if (rc == -ENOTCONN)
			return stream_closed(s);
		if (rc) {
			fprintf(stderr, "vmbus-pipe-client: %ssend failed after %llu "
				"bytes: %s\n", s->tag, s->sent, strerror(-rc));
			s->status = 1;
			return false;
		}
		s->htx = fnv(s->htx, tx, len);
		s->sent += len;
		s->pkts_tx++;
		if (o->delay_ms)
			break;
	}
	vmbus_chan_batch_commit(s->c);
	while ((rc = vmbus_chan_recv(s->c, &pkt, rx, 65536 + 64)) == 0) {
		if (pkt.len == 0) {
			s->eof_got = true;
			s->t_eof = now_s();
			continue;
		}
		s->hrx = fnv(s->hrx, pkt.data, pkt.len);
		s->got += pkt.len;
		s->pkts_rx++;
	}
	/*
	 * The peer may close as soon as it has our end-of-stream; the
	 * rescind that follows is the normal end once we have its own.
	 */
	if (rc == -ENOTCONN && stream_done(s))
		return false;
	if (rc == -ENOTCONN)
		return stream_closed(s);
	if (rc != -EAGAIN) {
		fprintf(stderr, "vmbus-pipe-client: %sreceive failed after %llu bytes "
			"sent, %llu received: %s\n", s->tag, s->sent, s->got,
			strerror(-rc));
		s->status = 3;
		return false;
	}
	return !stream_done(s);
}

static void stream_report(struct stream *s, const struct opts *o)
{
	struct vmbus_chan_stats st;
	double dt = s->t1 - s->t0;

	vmbus_chan_get_stats(s->c, &st);
	if (s->peer > 0) {
		/* No echo: what came in is the other guest's own stream. */
		double tr = (s->t_eof > s->t0 ? s->t_eof : s->t1) - s->t0;

		printf("client: %speer sent %llu bytes in %llu packets, "
		       "received %llu bytes in %llu packets in %.3f s (%.1f "
		       "MB/s out, %.1f MB/s in)\n", s->tag, s->sent,
		       s->pkts_tx, s->got, s->pkts_rx, dt,
		       dt > 0 ? s->sent / dt / 1e6 : 0.0,
		       tr > 0 ? s->got / tr / 1e6 : 0.0);
	} else {
		printf("client: %ssent %llu bytes in %llu packets, received "
		       "%llu bytes in %llu packets in %.3f s (%.1f MB/s each "
		       "way)\n", s->tag, s->sent, s->pkts_tx, s->got,
		       s->pkts_rx, dt, dt > 0 ? s->sent / dt / 1e6 : 0.0);
	}
	printf("client: %sring: %llu signals sent, %llu received, %llu times "
	       "full\n", s->tag, (unsigned long long)st.tx_signals,
	       (unsigned long long)st.rx_signals,
	       (unsigned long long)st.tx_full);
	if (s->peer > 0) {
		printf("client: %speer checksum sent %016llx received %016llx "
		       "(%llu bytes in)\n", s->tag, (unsigned long long)s->htx,
		       (unsigned long long)s->hrx, s->got);
		s->status = s->sent == o->bytes && s->eof_got ? 0 : 1;
		return;
	}
	printf("client: %schecksum sent %016llx received %016llx: %s\n",
	       s->tag, (unsigned long long)s->htx, (unsigned long long)s->hrx,
	       s->htx == s->hrx && s->sent == s->got ? "MATCH" : "MISMATCH");
	s->status = s->htx == s->hrx && s->sent == s->got &&
		    s->sent == o->bytes ? 0 : 1;
}

#define MAX_PIPES	8

/* Open each named pipe; 0, or 1 (said why). */
static int open_pipes(struct vmbus_bus *bus, const struct opts *o,
		      struct stream *ss, char **names, int nnames)
{
	struct vmbus_offer off;
	/* --wait bounds the whole wait, however often the bus wakes us. */
	double deadline = now_s() + o->wait_s, left;
	int rc, k, open_ms;

	memset(ss, 0, (size_t)nnames * sizeof(*ss));
	for (k = 0; k < nnames; k++) {
		struct stream *s = &ss[k];

		s->name = names[k];
		if (nnames > 1)
			snprintf(s->tag, sizeof(s->tag), "[%s] ", s->name);
		s->htx = s->hrx = 0xcbf29ce484222325ull;
		s->seed = o->seed + (uint64_t)k;
		while (vmbus_bus_find_pipe(bus, s->name, &off) != 0) {
			left = deadline - now_s();
			if (left <= 0) {
				fprintf(stderr, "vmbus-pipe-client: no pipe \"%s\" "
					"offered\n", s->name);
				return 1;
			}
			vmbus_bus_wait(bus, left < 0.1 ? (int)(left * 1000) + 1 :
				       100);
		}
		s->peer = vmbus_bus_offer_peer(bus, off.relid);
		/*
		 * A pipe to another guest opens once that guest opens it
		 * too, within what is left of --wait; dom0 answers an open
		 * within 10 s.
		 */
		left = deadline - now_s();
		open_ms = s->peer <= 0 ? 10000 : left > 0 ? (int)(left * 1000) + 1 : 1;
		rc = vmbus_chan_open(bus, off.relid, o->pages, 1, open_ms,
				     &s->c);
		if (rc) {
			fprintf(stderr, "vmbus-pipe-client: failed to open pipe \"%s\" "
				"(channel %u): %s\n", s->name, off.relid,
				strerror(-rc));
			return 1;
		}
		printf("client: opened pipe \"%s\" (channel %u, %u-page rings, "
		       "class version %u.%u)%s\n", s->name, off.relid, o->pages,
		       vmbus_chan_version(s->c) >> 16,
		       vmbus_chan_version(s->c) & 0xffff,
		       s->peer > 0 ? ", rings shared with a guest" : "");
		if (s->peer > 0)
			printf("client: %speer mode: the other end is domain "
			       "%d\n", s->tag, vmbus_chan_peer(s->c));
	}
	fflush(stdout);
	return 0;
}

/* Stream every pipe until each is done or closed. */
static void run_streams(struct vmbus_bus *bus, const struct opts *o,
			struct stream *ss, int nnames, uint8_t *tx,
			uint64_t *rx)
{
	struct pollfd pf[MAX_PIPES + 1];
	int rc, k, active;

	for (k = 0; k < nnames; k++)
		ss[k].t0 = now_s();
	active = nnames;
	while (!stop && active) {
		int np = 0;

		for (k = 0; k < nnames; k++) {
			struct stream *s = &ss[k];

			if (s->done)
				continue;
			if (!stream_step(s, o, tx, rx)) {
				s->done = true;
				s->t1 = now_s();
				active--;
				if (s->status == 0)
					stream_report(s, o);
				continue;
			}
			pf[np++] = (struct pollfd){ .fd = vmbus_chan_fd(s->c),
						    .events = POLLIN };
		}
		if (!active)
			break;
		/* The bus brings rescinds among other messages. */
		pf[np++] = (struct pollfd){ .fd = vmbus_bus_fd(bus),
					    .events = POLLIN };
		rc = poll(pf, (nfds_t)np, o->delay_ms ? (int)o->delay_ms : 5000);
		if (rc < 0 && errno != EINTR)
			break;
		if (pf[np - 1].revents & POLLIN)
			vmbus_bus_process(bus);
		for (k = 0; k < nnames; k++)
			if (!ss[k].done)
				vmbus_chan_ack(ss[k].c);
	}
	for (k = 0; k < nnames; k++) {
		if (!ss[k].done) {
			ss[k].status = 1;	/* interrupted */
			fprintf(stderr, "vmbus-pipe-client: %sinterrupted after %llu "
				"bytes sent, %llu received\n", ss[k].tag,
				ss[k].sent, ss[k].got);
		}
	}
}

static void close_pipes(struct stream *ss, int nnames)
{
	int k;

	for (k = 0; k < nnames; k++)
		if (ss[k].c) {
			vmbus_chan_close(ss[k].c);
			ss[k].c = NULL;
			printf("client: %spipe closed\n", ss[k].tag);
		}
}

/* The bus went away under the streams: wait for it to be back. */
static bool await_bus(struct vmbus_bus *bus, const struct opts *o)
{
	double t0 = now_s();

	printf("client: lost the bus (its backend went away)\n");
	fflush(stdout);
	while (!stop && !vmbus_bus_connected(bus) &&
	       now_s() - t0 < o->wait_s)
		vmbus_bus_wait(bus, 100);
	if (!vmbus_bus_connected(bus)) {
		fprintf(stderr, "vmbus-pipe-client: the bus did not come back in %d s\n",
			o->wait_s);
		return false;
	}
	printf("client: bus connected again after %.0f ms, protocol version "
	       "%u.%u\n", (now_s() - t0) * 1000, vmbus_bus_version(bus) >> 16,
	       vmbus_bus_version(bus) & 0xffff);
	fflush(stdout);
	return true;
}

static int client(const struct opts *o, char **names, int nnames)
{
	struct vmbus_offer offers[64];
	struct vmbus_bus *bus = NULL;
	struct stream ss[MAX_PIPES];
	uint8_t *tx = malloc(o->chunk);
	uint64_t *rx = malloc(65536 + 64);
	char name[VMBUS_PIPE_NAME_MAX + 1];
	unsigned int again = 0;
	int rc, n, i, k, status = 0;

	memset(ss, 0, sizeof(ss));
	rc = vmbus_bus_open(&bus, 10000);
	if (rc) {
		fprintf(stderr, "vmbus-pipe-client: failed to open the bus (%s)\n",
			strerror(-rc));
		status = 1;
		goto out;
	}
	printf("client: bus connected, protocol version %u.%u\n",
	       vmbus_bus_version(bus) >> 16, vmbus_bus_version(bus) & 0xffff);
	n = vmbus_bus_offers(bus, offers, 64);
	printf("client: %d offer(s)\n", n);
	for (i = 0; i < n && i < 64; i++) {
		int pd = vmbus_bus_offer_peer(bus, offers[i].relid);
		char to[32] = "";

		if (pd > 0)
			snprintf(to, sizeof(to), ", to domain %d", pd);
		printf("client:   channel %u: pipe \"%s\" (%s mode%s)\n",
		       offers[i].relid, offer_name(&offers[i], name),
		       offers[i].user_data[0] == VMBUS_PIPE_MODE_MESSAGE ?
		       "message" : "byte", to);
	}
	for (;;) {
		status = open_pipes(bus, o, ss, names, nnames);
		if (status)
			goto out;
		run_streams(bus, o, ss, nnames, tx, rx);
		/* Closed because the whole bus went: stream again once back. */
		if (stop || vmbus_bus_connected(bus) || again++ >= o->reconnect)
			break;
		close_pipes(ss, nnames);
		if (!await_bus(bus, o)) {
			status = 1;
			goto out;
		}
	}
out:
	for (k = 0; k < nnames; k++)
		if (ss[k].status > status)
			status = ss[k].status;
	close_pipes(ss, nnames);
	vmbus_bus_close(bus);
	free(tx);
	free(rx);
	return status;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vmbus-pipe-client [options] NAME [NAME...]\n"
"       vmbus-pipe-client --echo-service PATH [--message-mode]\n\n"
"In a guest: open pipe NAME and stream data through it, checking the echo\n"
"(up to 8 pipes at once: each streams --bytes; a pipe to another guest\n"
"streams both ways and prints the checksums of both directions).\n"
"  --bytes N        bytes to stream (default 4194304)\n"
"  --chunk N        bytes per packet, 1 to 65536 (default 4000)\n"
"  --ring-pages N   pages per ring, header included, 2 to 512 (default 16)\n"
"  --delay-ms N     pause between packets (slow stream), at most 60000\n"
"  --wait S         wait up to S seconds in all for the offers and for\n"
"                   the other guest to open a pipe between guests\n"
"                   (default 5, at most 86400); the bus itself is given\n"
"                   10 s to connect\n"
"  --seed N         seed of the data sent (a pipe between guests)\n"
"  --reconnect N    when the bus goes away (its backend ended), wait for\n"
"                   it to come back (up to --wait seconds) and stream\n"
"                   again, up to N times\n"
"  --help           this text\n"
"  --version        the program's version\n"
"In dom0: serve an echo on a unix socket (no Xen involved).\n");
}

/* Refuse the command line in one line on standard error. */
static int refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int refuse(const char *fmt, ...)
{
	va_list ap;

	fputs("vmbus-pipe-client: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("; see vmbus-pipe-client --help\n", stderr);
	return 2;
}

/* @s as a number from @min to @max (decimal, or 0x hexadecimal). */
static bool number(const char *s, unsigned long long min,
		   unsigned long long max, unsigned long long *v)
{
	char *end;

	if (!s[0] || s[0] == '-' || s[0] == '+' || s[0] == ' ')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && !*end && *v >= min && *v <= max;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "bytes", required_argument, NULL, 'b' },
		{ "chunk", required_argument, NULL, 'c' },
		{ "ring-pages", required_argument, NULL, 'r' },
		{ "delay-ms", required_argument, NULL, 'd' },
		{ "wait", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, 's' },
		{ "reconnect", required_argument, NULL, 'R' },
		{ "echo-service", required_argument, NULL, 'e' },
		{ "message-mode", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	/* The range of each numeric option. */
	static const struct {
		int opt;
		unsigned long long min, max;
	} ranges[] = {
		{ 'b', 0, 1ull << 50 }, { 'c', 1, 65536 }, { 'r', 2, 512 },
		{ 'd', 0, 60000 }, { 'w', 0, 86400 }, { 's', 0, UINT64_MAX },
		{ 'R', 0, 1000000 },
	};
	struct opts o = { .bytes = 4u << 20, .chunk = 4000, .pages = 16,
			  .wait_s = 5, .seed = 0x9e3779b97f4a7c15ull };
	const char *echo = NULL;
	unsigned long long v = 0;
	bool message = false;
	unsigned int i;
	int c, k;

	setvbuf(stdout, NULL, _IOLBF, 0);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV", lo, &k)) != -1) {
		for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
			if (ranges[i].opt == c &&
			    !number(optarg, ranges[i].min, ranges[i].max, &v))
				return refuse("--%s takes a number from %llu to "
					      "%llu, not \"%s\"", lo[k].name,
					      ranges[i].min, ranges[i].max,
					      optarg);
		switch (c) {
		case 'b': o.bytes = v; break;
		case 'c': o.chunk = (size_t)v; break;
		case 'r': o.pages = (unsigned int)v; break;
		case 'd': o.delay_ms = (unsigned int)v; break;
		case 'w': o.wait_s = (int)v; break;
		case 's': o.seed = v; break;
		case 'R': o.reconnect = (unsigned int)v; break;
		case 'e':
			if (!optarg[0] || strlen(optarg) >= 108)
				return refuse("--echo-service takes a socket "
					      "path of 1 to 107 bytes, not "
					      "\"%s\"", optarg);
			echo = optarg;
			break;
		case 'm': message = true; break;
		case 'h': usage(stdout); return 0;
		case 'V':
			printf("vmbus-pipe-client (" PACKAGE_NAME ") "
			       PACKAGE_VERSION "\n");
			return 0;
		case ':':
			return refuse("option %s needs a value",
				      argv[optind - 1]);
		default:
			if (optopt)
				return refuse("no option -%c", optopt);
			return refuse("no option \"%s\"", argv[optind - 1]);
		}
	}
	if (echo) {
		if (optind < argc)
			return refuse("an echo service takes no pipe name, "
				      "not \"%s\"", argv[optind]);
		return echo_service(echo, message);
	}
	if (optind >= argc)
		return refuse("no pipe name given");
	if (argc - optind > MAX_PIPES)
		return refuse("%d pipes named; at most %d stream at once",
			      argc - optind, MAX_PIPES);
	for (k = optind; k < argc; k++) {
		if (!argv[k][0])
			return refuse("a pipe name is empty");
		if (strlen(argv[k]) > VMBUS_PIPE_NAME_MAX)
			return refuse("pipe name \"%.20s...\" is %zu bytes; an "
				      "offer holds at most %u", argv[k],
				      strlen(argv[k]), VMBUS_PIPE_NAME_MAX);
		for (i = (unsigned int)optind; i < (unsigned int)k; i++)
			if (strcmp(argv[i], argv[k]) == 0)
				return refuse("pipe \"%s\" is named twice",
					      argv[k]);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	return client(&o, argv + optind, argc - optind);
}
