// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbusd's event loop: one epoll set for xenstore, the publishing timer,
 * the signals, every guest's bus and every pipe; no threads, no polling:
 * an idle daemon sleeps.  What a handler releases is freed only after
 * the batch of events it came in (a later event may still name it), and
 * pipes that had more to move than one wake-up's budget run again before
 * the loop sleeps.
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <xenstore.h>

#include "vmbusd.h"

int vd_epfd = -1;
/* Grant pages one guest may have mapped (0: the library's default). */
uint32_t vd_guest_map_pages;
static int tfd = -1, sfd = -1;
static struct vd_guest *guests_dead;	/* released, freed after the batch */
static struct vd_watch wxs = { VD_XS, NULL }, wtimer = { VD_TIMER, NULL },
		       wsig = { VD_SIGNAL, NULL };

int vd_epoll_add(int fd, uint32_t events, struct vd_watch *w)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (epoll_ctl(vd_epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = errno;

		dlog(LOG_ERR, "failed to add fd %d to the epoll set (%s)",
		       fd, strerror(err));
		return -err;
	}
	return 0;
}

int vd_epoll_mod(int fd, uint32_t events, struct vd_watch *w)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(vd_epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void vd_epoll_del(int fd)
{
	epoll_ctl(vd_epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* @g is released: events of this batch may still name it. */
void vd_defer_free_guest(struct vd_guest *g)
{
	g->dead = true;
	g->next = guests_dead;
	guests_dead = g;
}

/* Free what was released during the last batch of events. */
static void vd_reap(void)
{
	struct vd_guest *g;
	bool trim = guests_dead != NULL;

	vd_pipe_reap();
	while ((g = guests_dead) != NULL) {
		guests_dead = g->next;
		free(g);
	}
	/*
	 * A guest's buffers are freed in the middle of the heap, among
	 * other guests' allocations; give the free pages back to the
	 * system, as a daemon serving guests that come and go should.
	 */
	if (trim)
		malloc_trim(0);
}

/*
 * Block the signals the loop reads and set up the epoll set, before any
 * thread exists (libxenstore starts one for watches): every thread
 * inherits the mask.
 */
int vd_loop_init(void)
{
	struct itimerspec its = { { 1, 0 }, { 1, 0 } };
	sigset_t ss;
	int err;

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);

	vd_epfd = epoll_create1(EPOLL_CLOEXEC);
	sfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (vd_epfd < 0 || sfd < 0 || tfd < 0 ||
	    timerfd_settime(tfd, 0, &its, NULL) < 0) {
		err = errno;
		dlog(LOG_ERR, "failed to set up the event loop (%s)",
		       strerror(err));
		return -err;
	}
	if ((err = vd_epoll_add(tfd, EPOLLIN, &wtimer)) ||
	    (err = vd_epoll_add(sfd, EPOLLIN, &wsig)))
		return err;
	return 0;
}

/* The xenstore connection joins the loop once its watches are set. */
int vd_loop_watch_xs(void)
{
	return vd_epoll_add(xs_fileno(vd_xs), EPOLLIN, &wxs);
}

/* Until a signal other than SIGHUP (0) or losing xenstore (-errno). */
int vd_loop_run(void)
{
	struct epoll_event evs[32];
	bool quit = false;
	int n, i, rc = 0;

	while (!quit) {
		/* Pipes with work left over: look for events, do not sleep. */
		n = epoll_wait(vd_epfd, evs, 32, vd_pipe_busy() ? 0 : -1);
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			dlog(LOG_ERR, "epoll_wait failed (%s)", strerror(-rc));
			break;
		}
		/*
		 * Every event of the batch is handled: what a handler
		 * releases is only freed after the batch (vd_reap), so a
		 * later event naming it finds it marked dead.
		 */
		for (i = 0; i < n; i++) {
			struct vd_watch *wt = evs[i].data.ptr;
			struct signalfd_siginfo si;
			uint64_t ticks;

			switch (wt->kind) {
			case VD_XS: {
				int err = vd_watch_events();

				if (err < 0) {
					dlog(LOG_ERR, "lost the connection to "
					       "xenstore (%s)", strerror(-err));
					rc = err;
					quit = true;
				}
				break;
			}
			case VD_TIMER:
				if (read(tfd, &ticks, sizeof(ticks)) > 0)
					vd_publish();
				break;
			case VD_SIGNAL:
				if (read(sfd, &si, sizeof(si)) == sizeof(si) &&
				    si.ssi_signo != SIGHUP)
					quit = true;
				break;
			case VD_SERVER: {
				struct vd_guest *g = wt->obj;

				if (!g->dead)
					vmbus_server_process(g->srv);
				break;
			}
			case VD_CHAN:
			case VD_SOCK:
			case VD_RETRY:
			case VD_THROTTLE:
				vd_pipe_event(wt->obj, wt->kind, evs[i].events);
				break;
			}
		}
		/* Pipes that had more than one wake-up's worth to move. */
		vd_pipe_run_busy();
		/* Pairs of guests that ended are offered again. */
		vd_p2p_resync();
		vd_reap();
	}
	return rc;
}

/* Let go of every guest and free what was left for later. */
void vd_loop_fini(void)
{
	vd_guests_release();
	vd_reap();
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	if (vd_epfd >= 0)
		close(vd_epfd);
	tfd = sfd = vd_epfd = -1;
}
