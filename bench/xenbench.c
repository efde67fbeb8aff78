// SPDX-License-Identifier: GPL-2.0-only
/*
 * xenbench - two domains share a granted page and ping-pong over an
 * interdomain event channel, through the public Xen libraries only (the
 * same binary runs on a real host and on the simulated one).
 *
 *   xenbench serve --peer DOMID          in domain A: shares pages with
 *                                        DOMID, publishes them in xenstore,
 *                                        answers every event
 *   xenbench client --peer DOMID [...]   in domain B: maps, writes, notifies
 *                                        and measures
 *
 * The client prints a table and one JSON line: the event-channel round
 * trip (notify -> the other side wakes -> notify back) against a raw eventfd
 * ping-pong between two processes measured in the same run, and the cost of
 * mapping and unmapping granted pages.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#define PAGE 4096
#define NPAGES 16

/* The shared page: the client writes seq, the server echoes it in ack. */
struct bench_page {
	volatile uint64_t seq;
	volatile uint64_t ack;
	volatile uint32_t quit;
	char note[64];
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void fail(const char *what)
{
	fprintf(stderr, "xenbench: failed to %s: %s\n", what, strerror(errno));
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Block until our port fires, then rearm it. */
static void wait_port(xenevtchn_handle *xce, int port)
{
	int p;

	do {
		p = xenevtchn_pending(xce);
		if (p < 0)
			fail("wait for an event");
		xenevtchn_unmask(xce, p);
	} while (p != port);
}

static unsigned int self_domid(struct xs_handle *xs)
{
	char *v = xs_read(xs, XBT_NULL, "domid", NULL);
	unsigned int id = v ? strtoul(v, NULL, 10) : 0;

	free(v);
	return id;
}

static int serve(unsigned int peer)
{
	struct xs_handle *xs = xs_open(0);
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
	uint32_t refs[NPAGES];
	struct bench_page *pg;
	struct xs_permissions perms[2];
	char val[256];
	int port, i, len = 0;

	if (!xs || !gs || !xce)
		fail("open the Xen libraries");
	pg = xengntshr_share_pages(gs, peer, NPAGES, refs, 1);
	if (!pg)
		fail("share pages");
	memset(pg, 0, NPAGES * PAGE);
	port = xenevtchn_bind_unbound_port(xce, peer);
	if (port < 0)
		fail("allocate an unbound port");
	/* Our peer may read what we publish: children inherit these. */
	perms[0] = (struct xs_permissions){ .id = self_domid(xs), .perms = XS_PERM_NONE };
	perms[1] = (struct xs_permissions){ .id = peer, .perms = XS_PERM_READ };
	if (!xs_mkdir(xs, XBT_NULL, "data/bench") ||
	    !xs_set_permissions(xs, XBT_NULL, "data/bench", perms, 2))
		fail("make data/bench readable by the peer");
	for (i = 0; i < NPAGES; i++)
		len += snprintf(val + len, sizeof(val) - len, "%s%u", i ? " " : "", refs[i]);
	if (!xs_write(xs, XBT_NULL, "data/bench/grefs", val, len))
		fail("write data/bench/grefs");
	len = snprintf(val, sizeof(val), "%d", port);
	if (!xs_write(xs, XBT_NULL, "data/bench/port", val, len) ||
	    !xs_write(xs, XBT_NULL, "data/bench/ready", "1", 1))
		fail("write data/bench/port");
	for (;;) {
		wait_port(xce, port);
		if (pg->quit)
			break;
		pg->ack = pg->seq;
		xenevtchn_notify(xce, port);
	}
	printf("server: answered %llu events; the client left \"%s\" in our page\n",
	       (unsigned long long)pg->ack, pg->note);
	xengntshr_unshare(gs, pg, NPAGES);
	xenevtchn_close(xce);
	xengntshr_close(gs);
	xs_close(xs);
	return 0;
}

/* Baseline: the same ping-pong over raw eventfds between two processes. */
static double eventfd_rtt(unsigned int rounds, double *p99)
{
	int ping = eventfd(0, 0), pong = eventfd(0, 0);
	double *lat = calloc(rounds, sizeof(double)), sum = 0;
	uint64_t v = 1;
	unsigned int i;
	pid_t pid;

	if (ping < 0 || pong < 0 || !lat)
		fail("create eventfds");
	pid = fork();
	if (pid == 0) {
		for (i = 0; i < rounds; i++) {
			if (read(ping, &v, 8) != 8 || write(pong, &v, 8) != 8)
				_exit(1);
		}
		_exit(0);
	}
	for (i = 0; i < rounds; i++) {
		double t0 = now_us();

		if (write(ping, &v, 8) != 8 || read(pong, &v, 8) != 8)
			fail("ping-pong over eventfd");
		lat[i] = now_us() - t0;
		sum += lat[i];
	}
	waitpid(pid, NULL, 0);
	qsort(lat, rounds, sizeof(double), cmp_double);
	*p99 = lat[rounds * 99 / 100];
	free(lat);
	close(ping);
	close(pong);
	return sum / rounds;
}

static char *wait_node(struct xs_handle *xs, const char *path)
{
	char *v;
	int i;

	for (i = 0; i < 1000; i++) {
		v = xs_read(xs, XBT_NULL, path, NULL);
		if (v)
			return v;
		usleep(10000);
	}
	errno = ETIMEDOUT;
	fail("wait for the server's xenstore nodes");
	return NULL;
}

static int client(unsigned int peer, unsigned int rounds, unsigned int maps, bool json_only)
{
	struct xs_handle *xs = xs_open(0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
	uint32_t refs[NPAGES];
	char path[128], *v, *s;
	struct bench_page *pg;
	double *lat, sum = 0, p99, ev_p99, ev_avg, t0, map1, map16;
	unsigned int i;
	int port;

	if (!xs || !gt || !xce)
		fail("open the Xen libraries");
	snprintf(path, sizeof(path), "/local/domain/%u/data/bench/ready", peer);
	free(wait_node(xs, path));
	snprintf(path, sizeof(path), "/local/domain/%u/data/bench/grefs", peer);
	v = wait_node(xs, path);
	for (i = 0, s = v; i < NPAGES; i++)
		refs[i] = strtoul(s, &s, 10);
	free(v);
	snprintf(path, sizeof(path), "/local/domain/%u/data/bench/port", peer);
	v = wait_node(xs, path);
	port = xenevtchn_bind_interdomain(xce, peer, strtoul(v, NULL, 10));
	free(v);
	if (port < 0)
		fail("bind to the server's port");
	pg = xengnttab_map_domain_grant_refs(gt, NPAGES, peer, refs, PROT_READ | PROT_WRITE);
	if (!pg)
		fail("map the server's pages");

	/* Drop the event Xen raises on a fresh binding. */
	lat = calloc(rounds, sizeof(double));
	for (i = 0; i < rounds + rounds / 10; i++) {
		pg->seq = i + 1;
		t0 = now_us();
		xenevtchn_notify(xce, port);
		do
			wait_port(xce, port);
		while (pg->ack != i + 1);
		if (i >= rounds / 10) {
			lat[i - rounds / 10] = now_us() - t0;
			sum += lat[i - rounds / 10];
		}
	}
	qsort(lat, rounds, sizeof(double), cmp_double);
	p99 = lat[rounds * 99 / 100];
	ev_avg = eventfd_rtt(rounds, &ev_p99);

	/* Grant map + unmap, one page and a batch of NPAGES. */
	t0 = now_us();
	for (i = 0; i < maps; i++) {
		void *m = xengnttab_map_grant_ref(gt, peer, refs[1], PROT_READ | PROT_WRITE);

		if (!m)
			fail("map a grant");
		xengnttab_unmap(gt, m, 1);
	}
	map1 = (now_us() - t0) / maps;
	t0 = now_us();
	for (i = 0; i < maps; i++) {
		void *m = xengnttab_map_domain_grant_refs(gt, NPAGES, peer, refs, PROT_READ);

		if (!m)
			fail("map grants");
		xengnttab_unmap(gt, m, NPAGES);
	}
	map16 = (now_us() - t0) / maps / NPAGES;

	snprintf(pg->note, sizeof(pg->note), "%u round trips verified", rounds);
	pg->quit = 1;
	xenevtchn_notify(xce, port);

	if (!json_only) {
		printf("%-44s %10s %10s\n", "measure", "avg", "p99");
		printf("%-44s %8.2fus %8.2fus\n", "evtchn notify->wake round trip", sum / rounds, p99);
		printf("%-44s %8.2fus %8.2fus\n", "baseline: eventfd ping-pong round trip", ev_avg, ev_p99);
		printf("%-44s %9.2fx\n", "ratio evtchn/eventfd (target <= 1.2x)", (sum / rounds) / ev_avg);
		printf("%-44s %8.2fus\n", "grant map+unmap, 1 page", map1);
		printf("%-44s %8.2fus\n", "grant map+unmap per page, batch of 16", map16);
	}
	printf("{\"rounds\":%u,\"evtchn_rtt_us\":%.3f,\"evtchn_rtt_p99_us\":%.3f,"
	       "\"eventfd_rtt_us\":%.3f,\"eventfd_rtt_p99_us\":%.3f,\"ratio\":%.3f,"
	       "\"map_unmap_1page_us\":%.3f,\"map_unmap_per_page_batch16_us\":%.3f}\n",
	       rounds, sum / rounds, p99, ev_avg, ev_p99, (sum / rounds) / ev_avg, map1, map16);
	free(lat);
	xengnttab_unmap(gt, pg, NPAGES);
	xenevtchn_close(xce);
	xengnttab_close(gt);
	xs_close(xs);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: xenbench serve --peer DOMID\n"
		   "       xenbench client --peer DOMID [--rounds N] [--maps N] [--json]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "peer", required_argument, NULL, 'p' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "maps", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int peer = 0, rounds = 20000, maps = 2000;
	bool json = false, have_peer = false;
	int opt;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	optind = 2;
	while ((opt = getopt_long(argc, argv, "p:r:m:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': peer = strtoul(optarg, NULL, 0); have_peer = true; break;
		case 'r': rounds = strtoul(optarg, NULL, 0); break;
		case 'm': maps = strtoul(optarg, NULL, 0); break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!have_peer || rounds < 100 || maps == 0) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "serve"))
		return serve(peer);
	if (!strcmp(argv[1], "client"))
		return client(peer, rounds, maps, json);
	usage(stderr);
	return 2;
}
