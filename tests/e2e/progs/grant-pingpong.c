/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * grant-pingpong: share pages and an event channel between two domains with
 * the real Xen userspace libraries (libxengnttab, libxenevtchn,
 * libxenstore), userspace on both ends. Used by the grant-evtchn-guest
 * scenario of the real-Xen test tier, once with dom0 sharing and once with
 * the guest sharing.
 *
 * Contract between the two sides, through the xenstore directory PATH:
 *
 * Page 0 starts with a stage word (STAGE_*), written after the pattern it
 * announces; the pattern covers the rest. An event only says "look again":
 * Xen itself raises one on the binder's port when bind_interdomain
 * completes, so a waiter re-checks the stage word and waits again while it
 * is behind.
 *
 *   sharer  fills N pages with pattern SHARE, grants them to PEER writable
 *           (gntalloc), allocates an unbound event channel for PEER, writes
 *           PATH/grefs ("r0 r1 ..."), PATH/port, and then PATH/ready = 1.
 *   mapper  waits for PATH/ready, maps the grefs (gntdev), checks SHARE,
 *           writes pattern MAP, binds to the port and notifies.
 *   sharer  waits for the event (poll on the xenevtchn fd), checks MAP,
 *           writes pattern PONG and notifies.
 *   mapper  waits for the event, checks PONG and writes PATH/done = ok.
 *   sharer  waits for PATH/done, removes PATH and ungrants.
 *
 * Every wait has a deadline (--timeout). The pages are the peer's memory
 * as much as ours: each check reads every byte once and reports the first
 * difference. Exit status: 0 success, 1 failure, 2 usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#define PAGE_SZ 4096
#define MAX_PAGES 16

enum pattern { PAT_SHARE = 0x11, PAT_MAP = 0x5a, PAT_PONG = 0xa5 };

/* Stage word at the start of page 0; the pattern starts after it. */
#define STAGE_OFF 8
enum stage { STAGE_SHARE = 1, STAGE_MAP = 2, STAGE_PONG = 3 };

struct opts {
	int share;
	unsigned int peer;
	const char *path;
	unsigned int pages;
	unsigned int timeout_ms;
};

static const char *role = "?";
static unsigned int events_seen;

static void msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "grant-pingpong: %s: ", role);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint8_t pat_byte(enum pattern p, unsigned int page, unsigned int off)
{
	return (uint8_t)(off * 31u + page * 7u + (unsigned int)p);
}

/* Write pattern P, then announce it with stage word S. */
static void pat_fill(volatile uint8_t *mem, unsigned int pages, enum pattern p,
		     enum stage s)
{
	unsigned int pg, off;

	for (pg = 0; pg < pages; pg++)
		for (off = pg ? 0 : STAGE_OFF; off < PAGE_SZ; off++)
			mem[pg * PAGE_SZ + off] = pat_byte(p, pg, off);
	/* Write the pattern /then/ the stage word that announces it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	*(volatile uint32_t *)mem = s;
}

/* 0 if every byte matches, else -1 after naming the first mismatch. */
static int pat_check(const volatile uint8_t *mem, unsigned int pages,
		     enum pattern p, const char *what)
{
	unsigned int pg, off;

	for (pg = 0; pg < pages; pg++)
		for (off = pg ? 0 : STAGE_OFF; off < PAGE_SZ; off++) {
			uint8_t got = mem[pg * PAGE_SZ + off];
			uint8_t want = pat_byte(p, pg, off);

			if (got != want) {
				msg("checking pattern %s: page %u offset %u holds 0x%02x, expected 0x%02x",
				    what, pg, off, got, want);
				return -1;
			}
		}
	return 0;
}

/*
 * Wait until the stage word in MEM reaches WANT and at least one event has
 * arrived on PORT since events_seen was last reset (events on other ports
 * are unmasked and ignored). 0 on success.
 */
static int wait_stage(xenevtchn_handle *xce, evtchn_port_t port,
		      const volatile uint8_t *mem, enum stage want,
		      double deadline)
{
	struct pollfd pfd = { .fd = xenevtchn_fd(xce), .events = POLLIN };

	for (;;) {
		/* Read the peer-written word once, then judge the copy. */
		uint32_t st = *(const volatile uint32_t *)mem;
		double left = deadline - now_ms();
		xenevtchn_port_or_error_t p;
		int rc;

		/*
		 * Done when the stage is there and the peer's event has
		 * arrived too: the stage may be visible before the event is
		 * delivered, and the test is that both get through.
		 */
		if (st == want && events_seen > 0) {
			/* Read the stage word /then/ the data it announces. */
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			return 0;
		}
		if (st > STAGE_PONG) {
			msg("stage word in the shared page is %" PRIu32 ", not a valid stage", st);
			return -1;
		}
		if (left <= 0) {
			msg("waiting on port %u for stage %d: timed out at stage %" PRIu32
			    " with %u event(s) seen", port, want, st, events_seen);
			return -1;
		}
		rc = poll(&pfd, 1, (int)left + 1);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			msg("poll on the event channel fd: %s", strerror(errno));
			return -1;
		}
		if (rc == 0)
			continue;
		p = xenevtchn_pending(xce);
		if (p < 0) {
			msg("xenevtchn_pending: %s", strerror(errno));
			return -1;
		}
		if (xenevtchn_unmask(xce, p) < 0) {
			msg("xenevtchn_unmask port %d: %s", p, strerror(errno));
			return -1;
		}
		if ((evtchn_port_t)p == port)
			events_seen++;
	}
}

/*
 * Consume the event Xen raises on a freshly bound interdomain port, so that
 * events counted afterwards are the peer's. Waits up to 200 ms for it.
 * Returns how many events were consumed, or -1.
 */
static int drain_bind_event(xenevtchn_handle *xce)
{
	struct pollfd pfd = { .fd = xenevtchn_fd(xce), .events = POLLIN };
	int n = 0, wait_ms = 200;

	for (;;) {
		xenevtchn_port_or_error_t p;
		int rc = poll(&pfd, 1, wait_ms);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			msg("poll on the event channel fd: %s", strerror(errno));
			return -1;
		}
		if (rc == 0)
			return n;
		p = xenevtchn_pending(xce);
		if (p < 0 || xenevtchn_unmask(xce, p) < 0) {
			msg("consuming the bind event: %s", strerror(errno));
			return -1;
		}
		n++;
		wait_ms = 0;
	}
}

static char *xs_read_path(struct xs_handle *xs, const char *dir,
			  const char *node)
{
	char key[256];
	unsigned int len;

	snprintf(key, sizeof(key), "%s/%s", dir, node);
	return xs_read(xs, XBT_NULL, key, &len);
}

static int xs_write_path(struct xs_handle *xs, const char *dir,
			 const char *node, const char *val)
{
	char key[256];

	snprintf(key, sizeof(key), "%s/%s", dir, node);
	if (!xs_write(xs, XBT_NULL, key, val, strlen(val))) {
		msg("writing xenstore node \"%s\": %s", key, strerror(errno));
		return -1;
	}
	return 0;
}

/* Poll PATH/NODE until it exists (xenstore watches need a thread here). */
static char *xs_wait_path(struct xs_handle *xs, const char *dir,
			  const char *node, double deadline)
{
	for (;;) {
		char *v = xs_read_path(xs, dir, node);

		if (v)
			return v;
		if (errno != ENOENT) {
			msg("reading xenstore node \"%s/%s\": %s", dir, node, strerror(errno));
			return NULL;
		}
		if (now_ms() > deadline) {
			msg("waiting for xenstore node \"%s/%s\": timed out", dir, node);
			return NULL;
		}
		usleep(50 * 1000);
	}
}

static int do_share(const struct opts *o)
{
	xengntshr_handle *gs = NULL;
	xenevtchn_handle *xce = NULL;
	struct xs_handle *xs = NULL;
	volatile uint8_t *mem = NULL;
	uint32_t refs[MAX_PAGES];
	xenevtchn_port_or_error_t port = -1;
	char buf[16 * MAX_PAGES], *done = NULL;
	double t0 = now_ms(), deadline = t0 + o->timeout_ms, t_ping, t_done;
	unsigned int i;
	size_t n = 0;
	int ret = 1;

	gs = xengntshr_open(NULL, 0);
	if (!gs) {
		msg("opening the grant-share device (xengntshr_open): %s", strerror(errno));
		goto out;
	}
	xce = xenevtchn_open(NULL, 0);
	if (!xce) {
		msg("opening the event channel device (xenevtchn_open): %s", strerror(errno));
		goto out;
	}
	xs = xs_open(0);
	if (!xs) {
		msg("connecting to xenstore (xs_open): %s", strerror(errno));
		goto out;
	}

	mem = xengntshr_share_pages(gs, o->peer, o->pages, refs, 1);
	if (!mem) {
		msg("granting %u page(s) to domain %u (xengntshr_share_pages): %s",
		    o->pages, o->peer, strerror(errno));
		goto out;
	}
	pat_fill(mem, o->pages, PAT_SHARE, STAGE_SHARE);

	port = xenevtchn_bind_unbound_port(xce, o->peer);
	if (port < 0) {
		msg("allocating an unbound event channel for domain %u: %s",
		    o->peer, strerror(errno));
		goto out;
	}

	/* A mapper must never see "ready" left over from an earlier run. */
	if (!xs_rm(xs, XBT_NULL, o->path) && errno != ENOENT) {
		msg("removing stale xenstore directory \"%s\": %s", o->path, strerror(errno));
		goto out;
	}
	if (!xs_mkdir(xs, XBT_NULL, o->path)) {
		msg("creating xenstore directory \"%s\": %s", o->path, strerror(errno));
		goto out;
	}
	if (o->peer != 0) {
		/* dom0 sharing: the peer reads the nodes and writes "done". */
		struct xs_permissions perms[2] = {
			{ .id = 0, .perms = XS_PERM_NONE },
			{ .id = o->peer, .perms = XS_PERM_READ | XS_PERM_WRITE },
		};

		if (!xs_set_permissions(xs, XBT_NULL, o->path, perms, 2)) {
			msg("setting permissions on xenstore directory \"%s\" for domain %u: %s",
			    o->path, o->peer, strerror(errno));
			goto out;
		}
	}
	for (i = 0; i < o->pages; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%" PRIu32,
				      i ? " " : "", refs[i]);
	if (xs_write_path(xs, o->path, "grefs", buf))
		goto out;
	snprintf(buf, sizeof(buf), "%d", port);
	if (xs_write_path(xs, o->path, "port", buf))
		goto out;
	/* Published last: the mapper reads the other nodes after seeing it. */
	if (xs_write_path(xs, o->path, "ready", "1"))
		goto out;
	msg("granted %u page(s) to domain %u, port %d, published in \"%s\"; waiting",
	    o->pages, o->peer, port, o->path);

	if (wait_stage(xce, port, mem, STAGE_MAP, deadline))
		goto out;
	t_ping = now_ms();
	if (pat_check(mem, o->pages, PAT_MAP, "MAP (written by the mapper)"))
		goto out;
	pat_fill(mem, o->pages, PAT_PONG, STAGE_PONG);
	/* Stage PONG must be in memory before the peer sees the event. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (xenevtchn_notify(xce, port) < 0) {
		msg("notifying port %d: %s", port, strerror(errno));
		goto out;
	}

	done = xs_wait_path(xs, o->path, "done", deadline);
	if (!done)
		goto out;
	if (strcmp(done, "ok")) {
		msg("the mapper reported \"%s\" in %s/done", done, o->path);
		goto out;
	}
	t_done = now_ms();
	printf("grant-pingpong: share: ok peer=%u pages=%u port=%d events=%u ping_after_ms=%.0f done_after_ms=%.0f\n",
	       o->peer, o->pages, port, events_seen, t_ping - t0, t_done - t0);
	ret = 0;

out:
	free(done);
	if (xs) {
		xs_rm(xs, XBT_NULL, o->path);
		xs_close(xs);
	}
	if (port >= 0)
		xenevtchn_unbind(xce, port);
	if (mem)
		xengntshr_unshare(gs, (void *)mem, o->pages);
	if (xce)
		xenevtchn_close(xce);
	if (gs)
		xengntshr_close(gs);
	return ret;
}

static int do_map(const struct opts *o)
{
	xengnttab_handle *xgt = NULL;
	xenevtchn_handle *xce = NULL;
	struct xs_handle *xs = NULL;
	volatile uint8_t *mem = NULL;
	uint32_t refs[MAX_PAGES];
	xenevtchn_port_or_error_t lport = -1;
	char *ready = NULL, *grefs = NULL, *port_s = NULL, *p, *end;
	double t0 = now_ms(), deadline = t0 + o->timeout_ms, t_ready, t_pong;
	unsigned int n = 0;
	unsigned long rport;
	int ret = 1, bind_events = 0;

	xgt = xengnttab_open(NULL, 0);
	if (!xgt) {
		msg("opening the grant-table device (xengnttab_open): %s", strerror(errno));
		goto out;
	}
	xce = xenevtchn_open(NULL, 0);
	if (!xce) {
		msg("opening the event channel device (xenevtchn_open): %s", strerror(errno));
		goto out;
	}
	xs = xs_open(0);
	if (!xs) {
		msg("connecting to xenstore (xs_open): %s", strerror(errno));
		goto out;
	}

	ready = xs_wait_path(xs, o->path, "ready", deadline);
	if (!ready)
		goto out;
	t_ready = now_ms();
	grefs = xs_read_path(xs, o->path, "grefs");
	port_s = xs_read_path(xs, o->path, "port");
	if (!grefs || !port_s) {
		msg("reading xenstore nodes \"%s/grefs\" and \"%s/port\": %s",
		    o->path, o->path, strerror(errno));
		goto out;
	}
	/* Parse and bound-check everything the peer wrote before using it. */
	for (p = grefs; *p && n < MAX_PAGES;) {
		unsigned long r = strtoul(p, &end, 10);

		if (end == p || r > UINT32_MAX) {
			msg("parsing \"%s/grefs\" = \"%s\": not a list of grant refs", o->path, grefs);
			goto out;
		}
		refs[n++] = (uint32_t)r;
		p = end + strspn(end, " ");
	}
	if (*p || n == 0) {
		msg("parsing \"%s/grefs\" = \"%s\": 1 to %d refs expected", o->path, grefs, MAX_PAGES);
		goto out;
	}
	rport = strtoul(port_s, &end, 10);
	if (end == port_s || *end || rport == 0 || rport > UINT32_MAX) {
		msg("parsing \"%s/port\" = \"%s\": not an event channel port", o->path, port_s);
		goto out;
	}

	mem = xengnttab_map_domain_grant_refs(xgt, n, o->peer, refs,
					      PROT_READ | PROT_WRITE);
	if (!mem) {
		msg("mapping %u grant ref(s) \"%s\" of domain %u: %s", n, grefs,
		    o->peer, strerror(errno));
		goto out;
	}
	if (*(const volatile uint32_t *)mem != STAGE_SHARE) {
		msg("stage word of the mapped page is %" PRIu32 ", expected %d",
		    *(const volatile uint32_t *)mem, STAGE_SHARE);
		goto out;
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE); /* stage word, then data */
	if (pat_check(mem, n, PAT_SHARE, "SHARE (written by the sharer)"))
		goto out;
	pat_fill(mem, n, PAT_MAP, STAGE_MAP);

	lport = xenevtchn_bind_interdomain(xce, o->peer, (evtchn_port_t)rport);
	if (lport < 0) {
		msg("binding to port %lu of domain %u: %s", rport, o->peer, strerror(errno));
		goto out;
	}
	bind_events = drain_bind_event(xce);
	if (bind_events < 0)
		goto out;
	events_seen = 0;
	/* Stage MAP must be in memory before the sharer sees the event. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (xenevtchn_notify(xce, lport) < 0) {
		msg("notifying local port %d: %s", lport, strerror(errno));
		goto out;
	}
	if (wait_stage(xce, lport, mem, STAGE_PONG, deadline))
		goto out;
	t_pong = now_ms();
	if (pat_check(mem, n, PAT_PONG, "PONG (written by the sharer)"))
		goto out;
	if (xs_write_path(xs, o->path, "done", "ok"))
		goto out;
	printf("grant-pingpong: map: ok peer=%u pages=%u remote_port=%lu events=%u bind_events=%d ready_after_ms=%.0f roundtrip_ms=%.1f\n",
	       o->peer, n, rport, events_seen, bind_events, t_ready - t0, t_pong - t_ready);
	ret = 0;

out:
	if (ret && xs && ready)
		xs_write_path(xs, o->path, "done", "failed");
	free(ready);
	free(grefs);
	free(port_s);
	if (lport >= 0)
		xenevtchn_unbind(xce, lport);
	if (mem)
		xengnttab_unmap(xgt, (void *)mem, n);
	if (xs)
		xs_close(xs);
	if (xce)
		xenevtchn_close(xce);
	if (xgt)
		xengnttab_close(xgt);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: grant-pingpong --share|--map --peer DOMID --path XSPATH\n"
		"                      [--pages N] [--timeout SECONDS]\n");
}

int main(int argc, char **argv)
{
	struct opts o = { .share = -1, .pages = 2, .timeout_ms = 30000 };
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--share"))
			o.share = 1;
		else if (!strcmp(a, "--map"))
			o.share = 0;
		else if (!strcmp(a, "--peer") && v)
			o.peer = (unsigned int)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(a, "--path") && v)
			o.path = argv[++i];
		else if (!strcmp(a, "--pages") && v)
			o.pages = (unsigned int)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(a, "--timeout") && v)
			o.timeout_ms = (unsigned int)strtoul(argv[++i], NULL, 10) * 1000;
		else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (o.share < 0 || !o.path || o.pages < 1 || o.pages > MAX_PAGES) {
		usage(stderr);
		return 2;
	}
	role = o.share ? "share" : "map";
	return o.share ? do_share(&o) : do_map(&o);
}
