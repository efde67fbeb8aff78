/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An in-memory Xen for the stateful fuzz targets: the grant table, event
 * channels and xenstore that libvmbus reaches through libxengnttab,
 * libxenevtchn and libxenstore.  fake-xen.c defines exactly the functions
 * of those libraries that libvmbus calls, with Debian's prototypes, and is
 * linked into the fuzz binary in their place (the platform seam at link
 * level, as Xen's tools/libs put it behind osdep_*).
 *
 * The model, close enough to Xen for what libvmbus relies on:
 *  - Domains 0..FX_MAX_DOMS-1; the library calls act as domain fx_cur_dom
 *    (set by the fuzzer before it calls into the library as one side).
 *  - Each guest's memory is a memfd; a grant names one of its pages, to one
 *    grantee, read-only or not.  Mapping grants maps the same pages (a real
 *    alias: what the guest writes, dom0 sees), so a mapping the library
 *    lets go of really goes, and a later access faults.
 *  - Event channels: ports per domain, unbound or interdomain; a handle's
 *    fd (an eventfd) is readable while one of its ports is pending.
 *    Ports the fuzzer owns as a guest have no handle; signals to them are
 *    counted.
 *  - xenstore: a flat table of nodes, watches that fire on the node and
 *    below (and once on registration, as xenstored does), @releaseDomain.
 * Misuse that Xen would refuse is refused (errno set); misuse that is a
 * library bug (unmapping what was not mapped) aborts.
 */
#ifndef FUZZ_FAKE_XEN_H
#define FUZZ_FAKE_XEN_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FX_MAX_DOMS	4
#define FX_PAGE_SIZE	4096u
#define FX_DOM_PAGES	512u	/* memory of each guest */
#define FX_GREFS	2048u	/* grant entries of each domain */
#define FX_PORTS	64u	/* event channel ports of each domain */
#define FX_MAPTRACK	8192u	/* pages dom0 may have mapped at once */

/* The domain on whose behalf the library runs now. */
extern unsigned int fx_cur_dom;
/*
 * A tag the handles opened from now on carry (the fuzzer sets one per
 * server), and whether one of the handles with @tag has something pending:
 * what polling the server's fd would say, without a system call.
 */
extern unsigned int fx_cur_tag;
bool fx_pending(unsigned int tag);

/* Start a fresh world (all handles must have been closed: see fx_check). */
void fx_reset(void);
/* Free what the world holds (xenstore), so that a run leaks nothing. */
void fx_release(void);
/*
 * Abort with a message if the library still holds something: mappings,
 * shared pages, event channel, grant or xenstore handles.
 */
void fx_check_clean(const char *when);
/* Pages currently mapped by @mapper from @granter; regions in *regions. */
uint32_t fx_mapped_pages(unsigned int mapper, unsigned int granter,
			 uint32_t *regions);

/* Pages @dom shares through xengntshr now. */
uint32_t fx_shared_pages(unsigned int dom);
/* Is @p inside a grant mapping that still exists? */
bool fx_addr_mapped(const void *p);

/* --- the fuzzer acting as a guest --- */

/* Allocate @n consecutive zeroed pages of @dom; NULL when memory is out. */
uint8_t *fx_alloc_pages(unsigned int dom, uint32_t n);
/* Grant page @p (from fx_alloc_pages) of @dom to @grantee; ref or -1. */
int fx_grant(unsigned int dom, const void *p, unsigned int grantee, bool ro);
/* An unbound port of @dom for @remote; port or -1. */
int fx_port_alloc(unsigned int dom, unsigned int remote);
/* Bind a port of @dom (no handle) to @rdom's unbound port @rport. */
int fx_port_bind(unsigned int dom, unsigned int rdom, unsigned int rport);
/* Close a port of @dom that no handle owns. */
void fx_port_close(unsigned int dom, unsigned int port);
/* The page grant @ref of @dom gives @grantee, in @dom's view, or NULL. */
uint8_t *fx_grant_addr(unsigned int dom, uint32_t ref, unsigned int grantee);
/* Signal port @port of @dom (as the guest would); 0 or -1. */
int fx_notify(unsigned int dom, unsigned int port);
/* Signals the library sent to ports of @dom that have no handle. */
uint64_t fx_signals(unsigned int dom);
/* Write / remove a xenstore node as @dom (guests: only their own tree). */
int fx_xs_write(unsigned int dom, const char *path, const void *val,
		unsigned int len);
int fx_xs_rm(unsigned int dom, const char *path);
/* Read a node (NUL-terminated copy into @buf); length or -1. */
int fx_xs_read(const char *path, char *buf, size_t size);
/* The domain dies: its xenstore tree and ports go, @releaseDomain fires;
 * what dom0 mapped of it stays mapped until unmapped (as in Xen). */
void fx_dom_kill(unsigned int dom);
bool fx_dom_alive(unsigned int dom);

/*
 * Called from xenevtchn_notify() and xs_fileno() of a guest's handles, and
 * from fx_poll() when a guest's library waits, when set: lets the fuzzer
 * run the other side of a client in the same thread.  @waiting: the client
 * is about to wait (the other side must answer now, or the client's
 * deadline passes).
 */
extern void (*fx_guest_hook)(unsigned int dom, bool waiting);

/*
 * Time, for libvmbus's time ops: a clock that stands still (fx_reset sets
 * it to the same value each run) except when the library waits for
 * nothing: fx_poll runs the hook, looks at @fds without blocking and, if
 * none is ready, moves the clock past the wait and returns 0 (a timeout).
 * So a deadline passes at once, and an input always runs the same way.
 */
int64_t fx_now_ms(void);
int fx_poll(struct pollfd *fds, nfds_t n, int timeout_ms);
/*
 * Timers on that clock (timerfds that go off when the clock reaches them),
 * and the clock moving on by @ms.
 */
int fx_timer_open(void);
int fx_timer_set(int fd, int ms);
void fx_time_pass(unsigned int ms);

#endif /* FUZZ_FAKE_XEN_H */
