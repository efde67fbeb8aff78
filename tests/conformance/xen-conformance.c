// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen-conformance - Xen semantics, checked through the public libraries only
 * (libxenevtchn, libxengnttab, libxenstore, libxenctrl), so the same binary
 * runs on the simulated host and in a real dom0.
 *
 * Without arguments it runs the check suites as dom0.  The two-domain tests
 * need a peer: run "xen-conformance --peer" inside a guest and give the dom0
 * side XENCONF_PEER_DOMID=<guest>.  They talk through the guest's
 * data/conformance directory in xenstore:
 *   peer:  gref-rw, gref-ro, port, acl, then ready=1
 *   dom0:  maps both grants, writes "dom0-wrote" into the writable page,
 *          binds the port and notifies
 *   peer:  sees the bytes in its own page (no copy), result=ok, notifies back
 *   dom0:  done=1
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#define PAGE 4096
#ifndef DOMID_SELF
#define DOMID_SELF 0x7ff0
#endif

static uint32_t self_domid(void)
{
	struct xs_handle *xs = xs_open(0);
	char *v;
	uint32_t id = 0;

	if (!xs)
		return 0;
	v = xs_read(xs, XBT_NULL, "domid", NULL);
	if (v)
		id = strtoul(v, NULL, 10);
	free(v);
	xs_close(xs);
	return id;
}

/* Wait for one event on a handle; returns the port or -1 on timeout. */
static int wait_event(xenevtchn_handle *xce, int timeout_ms)
{
	struct pollfd pfd = { .fd = xenevtchn_fd(xce), .events = POLLIN };

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	return xenevtchn_pending(xce);
}

/* ---- event channels, one domain ---- */

START_TEST(evtchn_loopback_notify)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0), *b = xenevtchn_open(NULL, 0);
	int pa, pb;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	pa = xenevtchn_bind_unbound_port(a, DOMID_SELF);
	ck_assert_int_gt(pa, 0);
	pb = xenevtchn_bind_interdomain(b, DOMID_SELF, pa);
	ck_assert_int_gt(pb, 0);
	/* Xen marks a freshly bound interdomain port pending. */
	if (wait_event(b, 100) == pb)
		ck_assert_int_eq(xenevtchn_unmask(b, pb), 0);

	ck_assert_int_eq(wait_event(a, 0), -1);
	ck_assert_int_eq(xenevtchn_notify(b, pb), 0);
	ck_assert_int_eq(wait_event(a, 2000), pa);
	ck_assert_int_eq(xenevtchn_unmask(a, pa), 0);
	ck_assert_int_eq(xenevtchn_notify(a, pa), 0);
	ck_assert_int_eq(wait_event(b, 2000), pb);
	xenevtchn_close(a);
	xenevtchn_close(b);
}
END_TEST

START_TEST(evtchn_masked_until_unmask_and_coalesced)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0), *b = xenevtchn_open(NULL, 0);
	int pa = xenevtchn_bind_unbound_port(a, DOMID_SELF);
	int pb = xenevtchn_bind_interdomain(b, DOMID_SELF, pa);
	int i;

	ck_assert_int_gt(pb, 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(xenevtchn_notify(b, pb), 0);
	ck_assert_int_eq(wait_event(a, 2000), pa);
	/* Delivered: masked.  More notifications stay pending, not delivered. */
	ck_assert_int_eq(xenevtchn_notify(b, pb), 0);
	ck_assert_int_eq(wait_event(a, 100), -1);
	ck_assert_int_eq(xenevtchn_unmask(a, pa), 0);
	/* The pending one fires on unmask, once: they coalesced. */
	ck_assert_int_eq(wait_event(a, 2000), pa);
	ck_assert_int_eq(xenevtchn_unmask(a, pa), 0);
	ck_assert_int_eq(wait_event(a, 100), -1);
	xenevtchn_close(a);
	xenevtchn_close(b);
}
END_TEST

START_TEST(evtchn_bind_rules)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0), *b = xenevtchn_open(NULL, 0);
	int pa, pb;

	/* A port left unbound for another domain cannot be bound by us. */
	pa = xenevtchn_bind_unbound_port(a, 0x7fe0);
	ck_assert_int_gt(pa, 0);
	ck_assert_int_eq(xenevtchn_bind_interdomain(b, DOMID_SELF, pa), -1);
	/* Nor can a port that is not unbound at all, nor port 0. */
	ck_assert_int_eq(xenevtchn_bind_interdomain(b, DOMID_SELF, 0), -1);
	pa = xenevtchn_bind_unbound_port(a, DOMID_SELF);
	pb = xenevtchn_bind_interdomain(b, DOMID_SELF, pa);
	ck_assert_int_gt(pb, 0);
	ck_assert_int_eq(xenevtchn_bind_interdomain(b, DOMID_SELF, pa), -1);
	/* A port this handle did not bind cannot be used or unbound by it. */
	ck_assert_int_eq(xenevtchn_notify(a, pb), -1);
	ck_assert_int_eq(xenevtchn_unbind(a, pb), -1);
	/* Closing one end leaves the other bound but unconnected: a notify
	 * goes nowhere and does not fail. */
	ck_assert_int_eq(xenevtchn_unbind(a, pa), 0);
	ck_assert_int_eq(xenevtchn_notify(b, pb), 0);
	ck_assert_int_eq(xenevtchn_notify(a, pa), -1);
	xenevtchn_close(a);
	xenevtchn_close(b);
}
END_TEST

START_TEST(evtchn_epoll)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0), *b = xenevtchn_open(NULL, 0);
	int pa = xenevtchn_bind_unbound_port(a, DOMID_SELF);
	int pb = xenevtchn_bind_interdomain(b, DOMID_SELF, pa);
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(0);

	ck_assert_int_gt(pb, 0);
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, xenevtchn_fd(a), &ev), 0);
	ck_assert_int_eq(epoll_wait(ep, &ev, 1, 0), 0);
	ck_assert_int_eq(xenevtchn_notify(b, pb), 0);
	ck_assert_int_eq(epoll_wait(ep, &ev, 1, 2000), 1);
	ck_assert_int_eq(xenevtchn_pending(a), pa);
	ck_assert_int_eq(xenevtchn_unmask(a, pa), 0);
	close(ep);
	xenevtchn_close(a);
	xenevtchn_close(b);
}
END_TEST

/* ---- grants, one domain ---- */

START_TEST(grant_share_map_same_memory)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	uint32_t refs[4], self = self_domid(), doms[4];
	uint8_t *s, *m;
	int i;

	ck_assert_ptr_nonnull(gs);
	ck_assert_ptr_nonnull(gt);
	s = xengntshr_share_pages(gs, self, 4, refs, 1);
	ck_assert_ptr_nonnull(s);
	for (i = 0; i < 4; i++) {
		doms[i] = self;
		memset(s + i * PAGE, 'a' + i, PAGE);
	}
	m = xengnttab_map_grant_refs(gt, 4, doms, refs, PROT_READ | PROT_WRITE);
	ck_assert_ptr_nonnull(m);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(m[i * PAGE + 17], 'a' + i);
	/* One page, two views: a write through either is seen by the other. */
	m[3 * PAGE + 5] = 'Z';
	ck_assert_int_eq(s[3 * PAGE + 5], 'Z');
	s[5] = 'Q';
	ck_assert_int_eq(m[5], 'Q');
	ck_assert_int_eq(xengnttab_unmap(gt, m, 4), 0);
	ck_assert_int_eq(xengntshr_unshare(gs, s, 4), 0);
	xengnttab_close(gt);
	xengntshr_close(gs);
}
END_TEST

START_TEST(grant_readonly_refuses_write_map)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	uint32_t ref, self = self_domid();
	uint8_t *s, *m;

	s = xengntshr_share_pages(gs, self, 1, &ref, 0);
	ck_assert_ptr_nonnull(s);
	s[0] = 42;
	ck_assert_ptr_null(xengnttab_map_grant_ref(gt, self, ref, PROT_READ | PROT_WRITE));
	m = xengnttab_map_grant_ref(gt, self, ref, PROT_READ);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(m[0], 42);
	ck_assert_int_eq(xengnttab_unmap(gt, m, 1), 0);
	xengntshr_unshare(gs, s, 1);
	xengnttab_close(gt);
	xengntshr_close(gs);
}
END_TEST

START_TEST(grant_only_named_domain_maps)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	uint32_t ref, self = self_domid();
	void *s;

	/* Granted to some other domain: we may not map it. */
	s = xengntshr_share_pages(gs, self + 0x100, 1, &ref, 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(xengnttab_map_grant_ref(gt, self, ref, PROT_READ));
	/* Nor a reference that was never granted. */
	ck_assert_ptr_null(xengnttab_map_grant_ref(gt, self, 4000, PROT_READ));
	xengntshr_unshare(gs, s, 1);
	xengnttab_close(gt);
	xengntshr_close(gs);
}
END_TEST

START_TEST(grant_end_access_while_mapped)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	uint32_t ref, self = self_domid();
	uint8_t *s, *m, *m2;
	int i;

	s = xengntshr_share_pages(gs, self, 1, &ref, 1);
	ck_assert_ptr_nonnull(s);
	strcpy((char *)s, "still here");
	m = xengnttab_map_grant_ref(gt, self, ref, PROT_READ | PROT_WRITE);
	ck_assert_ptr_nonnull(m);
	/* The granter ends access while the page is mapped: the mapping stays
	 * valid and the entry stays granted (Linux defers the end of foreign
	 * access while the grant is in use), so the page is not reused... */
	ck_assert_int_eq(xengntshr_unshare(gs, s, 1), 0);
	ck_assert_str_eq((char *)m, "still here");
	m[0] = 'S';
	m2 = xengnttab_map_grant_ref(gt, self, ref, PROT_READ);
	ck_assert_ptr_nonnull(m2);
	ck_assert_int_eq(m2[0], 'S');
	ck_assert_int_eq(xengnttab_unmap(gt, m2, 1), 0);
	ck_assert_int_eq(xengnttab_unmap(gt, m, 1), 0);
	/* ...until the last mapping is gone; then access ends (Linux retries
	 * the deferred end about once a second) and the ref cannot be mapped. */
	for (i = 0; i < 50; i++) {
		m2 = xengnttab_map_grant_ref(gt, self, ref, PROT_READ);
		if (!m2)
			break;
		xengnttab_unmap(gt, m2, 1);
		usleep(100000);
	}
	ck_assert_ptr_null(m2);
	xengnttab_close(gt);
	xengntshr_close(gs);
}
END_TEST

/* ---- unmap notifications (gntdev, gntalloc) ---- */


/* Drain what is pending on @xce (a fresh interdomain bind raises one). */
static void drain_events(xenevtchn_handle *xce)
{
	int p;

	while ((p = wait_event(xce, 100)) >= 0)
		xenevtchn_unmask(xce, (evtchn_port_t)p);
}

START_TEST(grant_unmap_notify_on_unmap)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	xenevtchn_handle *xa = xenevtchn_open(NULL, 0), *xb = xenevtchn_open(NULL, 0);
	uint32_t ref, self = self_domid();
	int pa, pb;
	uint8_t *s, *m;

	ck_assert_ptr_nonnull(gs);
	ck_assert_ptr_nonnull(gt);
	pa = xenevtchn_bind_unbound_port(xa, DOMID_SELF);
	ck_assert_int_gt(pa, 0);
	pb = xenevtchn_bind_interdomain(xb, DOMID_SELF, pa);
	ck_assert_int_gt(pb, 0);
	drain_events(xa);
	s = xengntshr_share_pages(gs, self, 1, &ref, 1);
	ck_assert_ptr_nonnull(s);
	/* A read-only mapping may not clear a byte: gntdev refuses it. */
	ck_assert_ptr_null(xengnttab_map_grant_ref_notify(gt, self, ref, PROT_READ,
							  77, -1));
	m = xengnttab_map_grant_ref_notify(gt, self, ref, PROT_READ | PROT_WRITE,
					   77, pb);
	ck_assert_ptr_nonnull(m);
	m[77] = 1;
	m[78] = 2;
	ck_assert_int_eq(wait_event(xa, 100), -1);
	ck_assert_int_eq(xengnttab_unmap(gt, m, 1), 0);
	/* The byte is cleared in the granted page, its neighbour is not, and
	 * the mapper's port signals its peer. */
	ck_assert_int_eq(s[77], 0);
	ck_assert_int_eq(s[78], 2);
	ck_assert_int_eq(wait_event(xa, 1000), pa);
	xengntshr_unshare(gs, s, 1);
	xenevtchn_close(xb);
	xenevtchn_close(xa);
	xengnttab_close(gt);
	xengntshr_close(gs);
}
END_TEST

/*
 * A child maps (or shares) with a notification on its port, then closes
 * its event-channel handle -- the port stays bound for the notification,
 * as evtchn_get() keeps it -- and is killed: its kernel clears the byte
 * and signals our port.
 */
static void notify_child(bool share, uint32_t ref, int pa, int wfd)
{
	xenevtchn_handle *xb = xenevtchn_open(NULL, 0);
	xengnttab_handle *gt = NULL;
	xengntshr_handle *gs = NULL;
	uint32_t self = self_domid(), out = 0;
	uint8_t *m;
	int pb;

	pb = xb ? xenevtchn_bind_interdomain(xb, DOMID_SELF, (evtchn_port_t)pa) : -1;
	if (pb < 0)
		_exit(2);
	if (share) {
		gs = xengntshr_open(NULL, 0);
		m = gs ? xengntshr_share_page_notify(gs, self, &out, 1, 77, pb) : NULL;
	} else {
		gt = xengnttab_open(NULL, 0);
		m = gt ? xengnttab_map_grant_ref_notify(gt, self, ref,
							PROT_READ | PROT_WRITE,
							77, pb) : NULL;
	}
	if (!m)
		_exit(3);
	m[77] = 1;
	xenevtchn_close(xb);
	if (write(wfd, &out, sizeof(out)) != sizeof(out))
		_exit(4);
	for (;;)
		pause();
}

static void notify_on_death(bool share)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	xenevtchn_handle *xa = xenevtchn_open(NULL, 0);
	uint32_t ref = 0, self = self_domid();
	uint8_t *s = NULL, *m = NULL, *page;
	int pa, fds[2], st;
	pid_t pid;

	ck_assert_ptr_nonnull(xa);
	pa = xenevtchn_bind_unbound_port(xa, DOMID_SELF);
	ck_assert_int_gt(pa, 0);
	if (!share) {
		s = xengntshr_share_pages(gs, self, 1, &ref, 1);
		ck_assert_ptr_nonnull(s);
	}
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		notify_child(share, ref, pa, fds[1]);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &ref, sizeof(ref)) == sizeof(ref) ? 0 : -1, 0);
	if (share) {
		/* The child's page, seen through our mapping. */
		m = xengnttab_map_grant_ref(gt, self, ref, PROT_READ | PROT_WRITE);
		ck_assert_ptr_nonnull(m);
	}
	page = share ? m : s;
	ck_assert_int_eq(page[77], 1);
	drain_events(xa);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(wait_event(xa, 2000), pa);
	ck_assert_int_eq(page[77], 0);
	if (m)
		xengnttab_unmap(gt, m, 1);
	if (s)
		xengntshr_unshare(gs, s, 1);
	close(fds[0]);
	xenevtchn_close(xa);
	xengnttab_close(gt);
	xengntshr_close(gs);
}

START_TEST(grant_map_notify_on_death)
{
	notify_on_death(false);
}
END_TEST

START_TEST(grant_share_notify_on_death)
{
	notify_on_death(true);
}
END_TEST

START_TEST(grant_copy)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	uint32_t ref, roref, self = self_domid();
	xengnttab_grant_copy_segment_t seg[2];
	char local[64] = "copied through a grant";
	char back[64] = { 0 };
	uint8_t *s, *ro;

	s = xengntshr_share_pages(gs, self, 1, &ref, 1);
	ro = xengntshr_share_pages(gs, self, 1, &roref, 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(ro);
	memset(seg, 0, sizeof(seg));
	seg[0].source.virt = local;
	seg[0].dest.foreign.ref = ref;
	seg[0].dest.foreign.offset = 100;
	seg[0].dest.foreign.domid = self;
	seg[0].len = strlen(local) + 1;
	seg[0].flags = GNTCOPY_dest_gref;
	/* Writing into a read-only grant is refused, per segment. */
	seg[1] = seg[0];
	seg[1].dest.foreign.ref = roref;
	ck_assert_int_eq(xengnttab_grant_copy(gt, 2, seg), 0);
	ck_assert_int_eq(seg[0].status, GNTST_okay);
	ck_assert_int_ne(seg[1].status, GNTST_okay);
	ck_assert_str_eq((char *)s + 100, local);

	memset(seg, 0, sizeof(seg));
	seg[0].source.foreign.ref = ref;
	seg[0].source.foreign.offset = 100;
	seg[0].source.foreign.domid = self;
	seg[0].dest.virt = back;
	seg[0].len = strlen(local) + 1;
	seg[0].flags = GNTCOPY_source_gref;
	ck_assert_int_eq(xengnttab_grant_copy(gt, 1, seg), 0);
	ck_assert_int_eq(seg[0].status, GNTST_okay);
	ck_assert_str_eq(back, local);
	xengntshr_unshare(gs, s, 1);
	xengntshr_unshare(gs, ro, 1);
	xengnttab_close(gt);
	xengntshr_close(gs);
}
END_TEST

/* ---- xenstore, as dom0 ---- */

START_TEST(xs_transaction_conflict)
{
	struct xs_handle *a = xs_open(0), *b = xs_open(0);
	xs_transaction_t t;
	char *v;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert(xs_write(a, XBT_NULL, "/conformance/tx", "0", 1));
	t = xs_transaction_start(a);
	ck_assert(t != XBT_NULL);
	v = xs_read(a, t, "/conformance/tx", NULL);
	ck_assert_str_eq(v, "0");
	free(v);
	ck_assert(xs_write(a, t, "/conformance/tx", "1", 1));
	/* Outside the transaction the old value is still seen. */
	v = xs_read(b, XBT_NULL, "/conformance/tx", NULL);
	ck_assert_str_eq(v, "0");
	free(v);
	ck_assert(xs_write(b, XBT_NULL, "/conformance/tx", "2", 1));
	/* The conflicting commit fails with EAGAIN. */
	ck_assert(!xs_transaction_end(a, t, false));
	ck_assert_int_eq(errno, EAGAIN);
	v = xs_read(b, XBT_NULL, "/conformance/tx", NULL);
	ck_assert_str_eq(v, "2");
	free(v);
	xs_rm(a, XBT_NULL, "/conformance");
	xs_close(a);
	xs_close(b);
}
END_TEST

START_TEST(xs_watch_fires)
{
	struct xs_handle *a = xs_open(0), *b = xs_open(0);
	struct pollfd pfd;
	unsigned int n;
	char **ev;

	ck_assert(xs_watch(a, "/conformance/w", "tok"));
	/* The initial event on registration. */
	ev = xs_read_watch(a, &n);
	ck_assert_ptr_nonnull(ev);
	ck_assert_str_eq(ev[XS_WATCH_TOKEN], "tok");
	free(ev);
	ck_assert(xs_write(b, XBT_NULL, "/conformance/w/x", "1", 1));
	pfd = (struct pollfd){ .fd = xs_fileno(a), .events = POLLIN };
	ck_assert_int_eq(poll(&pfd, 1, 2000), 1);
	ev = xs_read_watch(a, &n);
	ck_assert_ptr_nonnull(ev);
	ck_assert_str_eq(ev[XS_WATCH_PATH], "/conformance/w/x");
	free(ev);
	xs_rm(a, XBT_NULL, "/conformance");
	xs_close(a);
	xs_close(b);
}
END_TEST

START_TEST(ctrl_domain_info)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	xc_dominfo_t info;

	ck_assert_ptr_nonnull(xch);
	ck_assert_int_eq(xc_domain_getinfo(xch, 0, 1, &info), 1);
	ck_assert_int_eq(info.domid, 0);
	ck_assert(!info.dying);
	xc_interface_close(xch);
}
END_TEST

/* ---- two domains ---- */

static char *peer_read(struct xs_handle *xs, uint32_t peer, const char *leaf)
{
	char path[128];

	snprintf(path, sizeof(path), "/local/domain/%u/data/conformance/%s", peer, leaf);
	return xs_read(xs, XBT_NULL, path, NULL);
}

static char *peer_wait(struct xs_handle *xs, uint32_t peer, const char *leaf, int seconds)
{
	char *v;
	int i;

	for (i = 0; i < seconds * 100; i++) {
		v = peer_read(xs, peer, leaf);
		if (v)
			return v;
		usleep(10000);
	}
	return NULL;
}

START_TEST(peer_grants_and_events)
{
	const char *env = getenv("XENCONF_PEER_DOMID");
	uint32_t peer = strtoul(env, NULL, 10);
	struct xs_handle *xs = xs_open(0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
	char *v, *rw, *ro, *port, path[128];
	uint8_t *m, *mro;
	int lport, p, i;

	ck_assert_ptr_nonnull(xs);
	v = peer_wait(xs, peer, "ready", 20);
	ck_assert_msg(v != NULL, "peer in domain %u never became ready", peer);
	free(v);
	rw = peer_read(xs, peer, "gref-rw");
	ro = peer_read(xs, peer, "gref-ro");
	port = peer_read(xs, peer, "port");
	ck_assert(rw && ro && port);

	m = xengnttab_map_grant_ref(gt, peer, strtoul(rw, NULL, 10), PROT_READ | PROT_WRITE);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq((char *)m, "peer-pattern");
	/* The read-only grant refuses a writable mapping, allows a readable one. */
	ck_assert_ptr_null(xengnttab_map_grant_ref(gt, peer, strtoul(ro, NULL, 10),
						   PROT_READ | PROT_WRITE));
	mro = xengnttab_map_grant_ref(gt, peer, strtoul(ro, NULL, 10), PROT_READ);
	ck_assert_ptr_nonnull(mro);
	ck_assert_str_eq((char *)mro, "peer-pattern");
	/* A grant is mappable only by the domain it names: ours is dom0's,
	 * the peer's grants are not mappable under another domid. */
	ck_assert_ptr_null(xengnttab_map_grant_ref(gt, peer + 1000, strtoul(rw, NULL, 10),
						   PROT_READ));

	strcpy((char *)m, "dom0-wrote");
	lport = xenevtchn_bind_interdomain(xce, peer, strtoul(port, NULL, 10));
	ck_assert_int_gt(lport, 0);
	ck_assert_int_eq(xenevtchn_notify(xce, lport), 0);

	/* The peer answers by event once it saw our bytes in its own page. */
	v = NULL;
	for (i = 0; i < 40 && !v; i++) {
		p = wait_event(xce, 500);
		if (p > 0)
			xenevtchn_unmask(xce, p);
		v = peer_read(xs, peer, "result");
	}
	ck_assert_msg(v != NULL, "peer never answered");
	ck_assert_str_eq(v, "ok");
	free(v);
	v = peer_read(xs, peer, "acl");
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "EACCES");
	free(v);
	v = peer_read(xs, peer, "tx");
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "ok");
	free(v);

	snprintf(path, sizeof(path), "/local/domain/%u/data/conformance/done", peer);
	ck_assert(xs_write(xs, XBT_NULL, path, "1", 1));
	xengnttab_unmap(gt, m, 1);
	xengnttab_unmap(gt, mro, 1);
	free(rw);
	free(ro);
	free(port);
	xenevtchn_close(xce);
	xengnttab_close(gt);
	xs_close(xs);
}
END_TEST

/*
 * Transactions from a guest, through its xenbus: one commits, one that
 * conflicts with a write from another connection of the same guest fails
 * with EAGAIN.  Returns "ok" or what went wrong.
 */
static const char *peer_transactions(struct xs_handle *xs)
{
	struct xs_handle *other = xs_open(0);
	xs_transaction_t t;
	char *v;

	if (!other)
		return "open";
	t = xs_transaction_start(xs);
	if (t == XBT_NULL || !xs_write(xs, t, "data/conformance/txv", "1", 1) ||
	    !xs_transaction_end(xs, t, false))
		return "commit";
	t = xs_transaction_start(xs);
	v = t == XBT_NULL ? NULL : xs_read(xs, t, "data/conformance/txv", NULL);
	free(v);
	if (!v || !xs_write(other, XBT_NULL, "data/conformance/txv", "2", 1) ||
	    !xs_write(xs, t, "data/conformance/txv", "3", 1))
		return "setup";
	if (xs_transaction_end(xs, t, false) || errno != EAGAIN)
		return "no-conflict";
	v = xs_read(xs, XBT_NULL, "data/conformance/txv", NULL);
	if (!v || strcmp(v, "2")) {
		free(v);
		return "lost-write";
	}
	free(v);
	xs_close(other);
	return "ok";
}

/* The guest side of peer_grants_and_events. */
static int run_peer(void)
{
	struct xs_handle *xs = xs_open(0);
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
	uint32_t rw, ro;
	char *s, *sro, val[32], *v;
	time_t end = time(NULL) + 30;
	int port, p;

	if (!xs || !gs || !xce) {
		fprintf(stderr, "xen-conformance --peer: failed to open the Xen libraries: %s\n",
			strerror(errno));
		return 1;
	}
	s = xengntshr_share_pages(gs, 0, 1, &rw, 1);
	sro = xengntshr_share_pages(gs, 0, 1, &ro, 0);
	port = xenevtchn_bind_unbound_port(xce, 0);
	if (!s || !sro || port < 0) {
		fprintf(stderr, "xen-conformance --peer: failed to share pages or allocate a port: %s\n",
			strerror(errno));
		return 1;
	}
	strcpy(s, "peer-pattern");
	strcpy(sro, "peer-pattern");
	xs_rm(xs, XBT_NULL, "data/conformance");
	snprintf(val, sizeof(val), "%u", rw);
	xs_write(xs, XBT_NULL, "data/conformance/gref-rw", val, strlen(val));
	snprintf(val, sizeof(val), "%u", ro);
	xs_write(xs, XBT_NULL, "data/conformance/gref-ro", val, strlen(val));
	snprintf(val, sizeof(val), "%d", port);
	xs_write(xs, XBT_NULL, "data/conformance/port", val, strlen(val));
	/* A guest may not read dom0's nodes. */
	v = xs_read(xs, XBT_NULL, "/local/domain/0/name", NULL);
	snprintf(val, sizeof(val), "%s", v ? "readable" : errno == EACCES ? "EACCES" : strerror(errno));
	free(v);
	xs_write(xs, XBT_NULL, "data/conformance/acl", val, strlen(val));
	snprintf(val, sizeof(val), "%s", peer_transactions(xs));
	xs_write(xs, XBT_NULL, "data/conformance/tx", val, strlen(val));
	xs_write(xs, XBT_NULL, "data/conformance/ready", "1", 1);

	while (time(NULL) < end) {
		p = wait_event(xce, 500);
		if (p < 0)
			continue;
		xenevtchn_unmask(xce, p);
		if (p == port && strcmp(s, "dom0-wrote") == 0) {
			xs_write(xs, XBT_NULL, "data/conformance/result", "ok", 2);
			xenevtchn_notify(xce, port);
			break;
		}
	}
	while (time(NULL) < end) {
		v = xs_read(xs, XBT_NULL, "data/conformance/done", NULL);
		if (v) {
			free(v);
			return 0;
		}
		usleep(20000);
	}
	fprintf(stderr, "xen-conformance --peer: dom0 never finished\n");
	return 1;
}

static Suite *conformance_suite(void)
{
	Suite *s = suite_create("xen-conformance");
	TCase *tc;

	tc = tcase_create("evtchn");
	tcase_add_test(tc, evtchn_loopback_notify);
	tcase_add_test(tc, evtchn_masked_until_unmask_and_coalesced);
	tcase_add_test(tc, evtchn_bind_rules);
	tcase_add_test(tc, evtchn_epoll);
	suite_add_tcase(s, tc);

	tc = tcase_create("gnttab");
	tcase_add_test(tc, grant_share_map_same_memory);
	tcase_add_test(tc, grant_readonly_refuses_write_map);
	tcase_add_test(tc, grant_only_named_domain_maps);
	tcase_add_test(tc, grant_end_access_while_mapped);
	tcase_add_test(tc, grant_copy);
	tcase_add_test(tc, grant_unmap_notify_on_unmap);
	tcase_add_test(tc, grant_map_notify_on_death);
	tcase_add_test(tc, grant_share_notify_on_death);
	suite_add_tcase(s, tc);

	tc = tcase_create("xenstore");
	tcase_add_test(tc, xs_transaction_conflict);
	tcase_add_test(tc, xs_watch_fires);
	tcase_add_test(tc, ctrl_domain_info);
	suite_add_tcase(s, tc);

	if (getenv("XENCONF_PEER_DOMID")) {
		tc = tcase_create("peer");
		tcase_set_timeout(tc, 60);
		tcase_add_test(tc, peer_grants_and_events);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	if (argc > 1 && !strcmp(argv[1], "--peer"))
		return run_peer();
	if (argc > 1) {
		printf("Usage: xen-conformance [--peer]\n"
		       "Checks Xen's grant table, event channel and xenstore semantics\n"
		       "through the public libraries.  Set XENCONF_PEER_DOMID to a guest\n"
		       "running \"xen-conformance --peer\" for the two-domain tests.\n");
		return strcmp(argv[1], "--help") ? 2 : 0;
	}
	sr = srunner_create(conformance_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
