// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbus-scale-client: many channels per guest, held open, for the scale
 * test (vmbus-scale.sh).
 *
 *   vmbus-scale-client [options]
 *       (in a guest) open the bus, open pipes PREFIX0 .. PREFIX<n-1>,
 *       send --bytes through each and check that the echo has the same
 *       length and checksum, print "ready", then stay connected and idle
 *       (blocked, no polling) until SIGTERM or SIGINT, or until dom0
 *       closes a channel.
 *   vmbus-scale-client --echo-service PATH
 *       (in dom0) a byte-mode unix socket echo service for any number of
 *       connections, driven by epoll.
 *
 * Exit status: 0 after a clean close on a signal, 1 on a failure during
 * setup or a checksum mismatch, 3 if dom0 closed a channel while idle.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "libvmbus.h"

#define MAX_CHANNELS	16

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int signal_fd(void)
{
	sigset_t ss;

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	return signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* --- dom0: the echo service --- */

static int echo_service(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev, evs[64];
	static char buf[65536];
	int lfd, sfd, ep, n, i, fd, conns = 0;
	bool quit = false;
	ssize_t r, off, w;

	signal(SIGPIPE, SIG_IGN);
	sfd = signal_fd();
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (lfd < 0 || ep < 0 || sfd < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, SOMAXCONN) < 0) {
		fprintf(stderr, "echo-service: failed to listen on \"%s\" (%s)\n",
			path, strerror(errno));
		return 1;
	}
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	printf("echo-service: listening on %s\n", path);
	fflush(stdout);
	while (!quit) {
		n = epoll_wait(ep, evs, 64, -1);
		if (n < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			if (fd == sfd) {
				quit = true;
				continue;
			}
			if (fd == lfd) {
				while ((fd = accept4(lfd, NULL, NULL,
						     SOCK_CLOEXEC)) >= 0) {
					ev.events = EPOLLIN;
					ev.data.fd = fd;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
					conns++;
				}
				continue;
			}
			/* Blocking writes: the echoed amounts are small. */
			r = read(fd, buf, sizeof(buf));
			for (off = 0; r > 0 && off < r; off += w) {
				w = write(fd, buf + off, (size_t)(r - off));
				if (w <= 0)
					break;
			}
			if (r <= 0) {
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
				conns--;
			}
		}
	}
	unlink(path);
	printf("echo-service: exiting with %d connection(s) open\n", conns);
	return 0;
}

/* --- guest: many channels held open --- */

struct opts {
	const char *prefix;
	unsigned int channels;
	unsigned int pages;
	size_t bytes;
	int timeout_s;
};

static int exchange(struct vmbus_chan *c, const char *name, size_t bytes,
		    long long deadline)
{
	static uint8_t tx[1024];
	static uint64_t rx[(65536 + 64) / 8];
	uint64_t htx = 0xcbf29ce484222325ull, hrx = htx;
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ vmbus_chan_relid(c);
	struct vmbus_packet pkt;
	size_t sent = 0, got = 0, len, k;
	int rc;

	while (got < bytes) {
		if (sent < bytes) {
			len = bytes - sent < sizeof(tx) ? bytes - sent : sizeof(tx);
			for (k = 0; k < len; k++) {
				seed = seed * 6364136223846793005ull + 1;
				tx[k] = (uint8_t)(seed >> 56);
			}
			rc = vmbus_chan_send(c, tx, len, 0, 0);
			if (rc == 0) {
				htx = fnv(htx, tx, len);
				sent += len;
			} else if (rc != -EAGAIN) {
				fprintf(stderr, "client: pipe \"%s\": send "
					"failed (%s)\n", name, strerror(-rc));
				return -1;
			} else {
				/* Not sent: the same bytes next time. */
				seed = 0x9e3779b97f4a7c15ull ^
				       vmbus_chan_relid(c);
				for (k = 0; k < sent; k++)
					seed = seed * 6364136223846793005ull + 1;
			}
		}
		while ((rc = vmbus_chan_recv(c, &pkt, rx, sizeof(rx))) == 0) {
			if (pkt.len == 0) {
				fprintf(stderr, "client: pipe \"%s\": end of "
					"stream from dom0\n", name);
				return -1;
			}
			hrx = fnv(hrx, pkt.data, pkt.len);
			got += pkt.len;
		}
		if (rc != -EAGAIN) {
			fprintf(stderr, "client: pipe \"%s\": receive failed "
				"(%s)\n", name, strerror(-rc));
			return -1;
		}
		if (got >= bytes)
			break;
		if (now_ms() > deadline) {
			fprintf(stderr, "client: pipe \"%s\": timed out with "
				"%zu of %zu bytes echoed\n", name, got, bytes);
			return -1;
		}
		if (sent >= bytes && vmbus_chan_wait(c, 1000) < 0)
			return -1;
	}
	if (htx != hrx || got != sent) {
		fprintf(stderr, "client: pipe \"%s\": checksum sent %016llx "
			"received %016llx: MISMATCH\n", name,
			(unsigned long long)htx, (unsigned long long)hrx);
		return -1;
	}
	return 0;
}

static int client(const struct opts *o)
{
	struct vmbus_chan *c[MAX_CHANNELS] = { NULL };
	struct pollfd p[MAX_CHANNELS + 2];
	char names[MAX_CHANNELS][VMBUS_PIPE_NAME_MAX + 1];
	struct vmbus_packet pkt;
	static uint64_t rx[(65536 + 64) / 8];
	struct vmbus_bus *bus = NULL;
	struct vmbus_offer off;
	long long deadline = now_ms() + (long long)o->timeout_s * 1000;
	unsigned int i, opened = 0;
	int rc, status = 1, sfd;
	bool quit = false;

	sfd = signal_fd();
	rc = vmbus_bus_open(&bus, o->timeout_s * 1000);
	if (rc) {
		fprintf(stderr, "client: failed to open the bus (%s)\n",
			strerror(-rc));
		goto out;
	}
	for (i = 0; i < o->channels; i++) {
		snprintf(names[i], sizeof(names[i]), "%s%u", o->prefix, i);
		while (vmbus_bus_find_pipe(bus, names[i], &off) != 0) {
			if (now_ms() > deadline) {
				fprintf(stderr, "client: no pipe \"%s\" "
					"offered\n", names[i]);
				goto out;
			}
			vmbus_bus_wait(bus, 200);
		}
		rc = vmbus_chan_open(bus, off.relid, o->pages, 1,
				     o->timeout_s * 1000, &c[i]);
		if (rc) {
			fprintf(stderr, "client: failed to open pipe \"%s\" "
				"(%s)\n", names[i], strerror(-rc));
			goto out;
		}
		opened++;
	}
	for (i = 0; i < o->channels; i++)
		if (exchange(c[i], names[i], o->bytes, deadline) < 0)
			goto out;
	printf("client: ready: %u channel(s) open, %zu bytes echoed on each, "
	       "checksums MATCH\n", opened, o->bytes);
	fflush(stdout);

	/* Idle: block until a signal, a close by dom0 or stray data. */
	for (i = 0; i < o->channels; i++) {
		p[i].fd = vmbus_chan_fd(c[i]);
		p[i].events = POLLIN;
	}
	p[i].fd = vmbus_bus_fd(bus);
	p[i].events = POLLIN;
	p[i + 1].fd = sfd;
	p[i + 1].events = POLLIN;
	status = 0;
	while (!quit) {
		if (poll(p, o->channels + 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			status = 1;
			break;
		}
		if (p[o->channels + 1].revents)
			break;
		if (p[o->channels].revents & POLLIN)
			vmbus_bus_process(bus);
		for (i = 0; i <= o->channels; i++)
			if (p[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
				fprintf(stderr, "client: lost a descriptor "
					"while idle\n");
				status = 3;
				quit = true;
			}
		for (i = 0; i < o->channels; i++) {
			if (p[i].revents & POLLIN) {
				vmbus_chan_ack(c[i]);
				while (vmbus_chan_recv(c[i], &pkt, rx,
						       sizeof(rx)) == 0)
					fprintf(stderr, "client: pipe \"%s\": "
						"unexpected %u bytes while "
						"idle\n", names[i], pkt.len);
			}
			if (vmbus_chan_is_closed(c[i])) {
				fprintf(stderr, "client: pipe \"%s\" closed "
					"by dom0 while idle\n", names[i]);
				status = 3;
				quit = true;
			}
		}
	}
out:
	for (i = 0; i < o->channels; i++)
		if (c[i])
			vmbus_chan_close(c[i]);
	vmbus_bus_close(bus);
	printf("client: closed (status %d)\n", status);
	return status;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vmbus-scale-client [options]\n"
"       vmbus-scale-client --echo-service PATH\n\n"
"In a guest: open pipes PREFIX0.., echo data on each, then hold them open.\n"
"  --channels N     pipes to open (default 4, at most 16)\n"
"  --prefix NAME    pipe name prefix (default \"scale\")\n"
"  --bytes N        bytes to echo on each pipe (default 8192)\n"
"  --ring-pages N   pages per ring, header included (default 4)\n"
"  --timeout S      seconds allowed for the setup (default 60)\n"
"In dom0: a byte-mode echo service on a unix socket, any number of peers.\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "channels", required_argument, NULL, 'n' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "ring-pages", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "echo-service", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .prefix = "scale", .channels = 4, .pages = 4,
			  .bytes = 8192, .timeout_s = 60 };
	const char *echo = NULL;
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'n': o.channels = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'p': o.prefix = optarg; break;
		case 'b': o.bytes = strtoul(optarg, NULL, 0); break;
		case 'r': o.pages = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 't': o.timeout_s = atoi(optarg); break;
		case 'e': echo = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (echo)
		return echo_service(echo);
	if (optind != argc || o.channels < 1 || o.channels > MAX_CHANNELS ||
	    o.pages < 2 || o.timeout_s < 1 || strlen(o.prefix) > 100) {
		usage(stderr);
		return 2;
	}
	return client(&o);
}
