// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbusd's event loop: one epoll set for xenstore, the publishing timer,
 * the signals, every guest's bus and every pipe; no threads, no polling:
 * an idle daemon sleeps.  Each watch names its own handler, so the loop
 * knows nothing of what it serves.  What a handler releases is freed only
 * after the batch of events it came in (a later event may still name it:
 * the reap hooks), and work left over from a wake-up's budget (the busy
 * and turn hooks) runs again before the loop sleeps.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "vmbusd.h"

static int vd_epfd = -1;
static int tfd = -1, sfd = -1;
static void (*loop_tick)(void);
static struct vd_loop_hook *hooks, **hooks_end = &hooks;
static bool loop_quit;
static int loop_rc;

static void loop_timer(struct vd_watch *w, uint32_t events);
static void loop_signal(struct vd_watch *w, uint32_t events);
static struct vd_watch wtimer = { loop_timer, NULL }, wsig = { loop_signal, NULL };

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

void vd_loop_hook_add(struct vd_loop_hook *h)
{
	h->next = NULL;
	*hooks_end = h;
	hooks_end = &h->next;
}

void vd_loop_quit(int rc)
{
	loop_quit = true;
	if (rc < 0 && !loop_rc)
		loop_rc = rc;
}

static void loop_timer(struct vd_watch *w, uint32_t events)
{
	uint64_t ticks;

	(void)w;
	(void)events;
	if (read(tfd, &ticks, sizeof(ticks)) > 0 && loop_tick)
		loop_tick();
}

static void loop_signal(struct vd_watch *w, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)w;
	(void)events;
	if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGHUP)
		vd_loop_quit(0);
}

/* Work left over from the last turn: look for events, do not sleep. */
static bool loop_busy(void)
{
	struct vd_loop_hook *h;

	for (h = hooks; h; h = h->next)
		if (h->busy && h->busy())
			return true;
	return false;
}

/*
 * Block the signals the loop reads and set up the epoll set, before any
 * thread exists (libxenstore starts one for watches): every thread
 * inherits the mask.
 */
int vd_loop_init(void (*tick)(void))
{
	struct itimerspec its = { { 1, 0 }, { 1, 0 } };
	sigset_t ss;
	int err;

	loop_tick = tick;
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

/* Until a signal other than SIGHUP (0) or vd_loop_quit(-errno). */
int vd_loop_run(void)
{
	struct epoll_event evs[32];
	struct vd_loop_hook *h;
	int n, i;

	while (!loop_quit) {
		n = epoll_wait(vd_epfd, evs, 32, loop_busy() ? 0 : -1);
		if (n < 0 && errno != EINTR) {
			loop_rc = -errno;
			dlog(LOG_ERR, "epoll_wait failed (%s)",
			     strerror(-loop_rc));
			break;
		}
		/*
		 * Every event of the batch is handled: what a handler
		 * releases is only freed after the batch (the reap hooks),
		 * so a later event naming it finds it marked dead.
		 */
		for (i = 0; i < n; i++) {
			struct vd_watch *wt = evs[i].data.ptr;

			wt->fn(wt, evs[i].events);
		}
		for (h = hooks; h; h = h->next)
			if (h->turn)
				h->turn();
		for (h = hooks; h; h = h->next)
			if (h->reap)
				h->reap();
	}
	return loop_rc;
}

/* Close the loop's own descriptors, once its users let go of theirs. */
void vd_loop_fini(void)
{
	struct vd_loop_hook *h;

	for (h = hooks; h; h = h->next)
		if (h->reap)
			h->reap();
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	if (vd_epfd >= 0)
		close(vd_epfd);
	tfd = sfd = vd_epfd = -1;
}
