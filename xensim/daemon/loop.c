// SPDX-License-Identifier: GPL-2.0-only
/*
 * loop.c - xensimd's one thread: the epoll loop.  Every object it waits on
 * starts with a struct watcher that names its handler; the loop calls
 * nothing else (the bottom of the daemon).  Replies are built here too.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <unistd.h>

#include "xensimd.h"

static int epfd = -1;
static bool stopping;

static bool signal_event(struct watcher *w, uint32_t events)
{
	stopping = true;
	return false;
}

static struct watcher sigw = { .kind = W_SIGNAL, .fd = -1, .fn = signal_event };

void loop_stop(void)
{
	stopping = true;
}

/* The loop, and SIGTERM, SIGINT and SIGHUP as events of it. */
int loop_init(void)
{
	sigset_t mask;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return -errno;
	sigw.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigw.fd < 0)
		return -errno;
	loop_add(&sigw, EPOLLIN);
	return 0;
}

void loop_add(struct watcher *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0)
		dlog(LOG_ERR, "failed to watch fd %d: %s", w->fd, strerror(errno));
}

void loop_mod(struct watcher *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (epoll_ctl(epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		dlog(LOG_ERR, "failed to rewatch fd %d: %s", w->fd, strerror(errno));
}

void loop_del(struct watcher *w)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

void *reply_extend(struct reply *r, size_t n)
{
	void *p;

	if (r->len + n > sizeof(r->buf))
		return NULL;
	p = r->buf + r->len;
	memset(p, 0, n);
	r->len += n;
	return p;
}

void reply_fd(struct reply *r, int fd)
{
	if (r->nfds < 3)
		r->fds[r->nfds++] = fd;
}

/* Until a signal or XENSIM_OP_HOST_STOP. */
void loop_run(void)
{
	while (!stopping) {
		struct epoll_event evs[64];
		int i, n = epoll_wait(epfd, evs, 64, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			dlog(LOG_ERR, "epoll_wait failed: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n && !stopping; i++) {
			struct watcher *w = evs[i].data.ptr;

			/* A handler that may have freed objects of later events ends the batch. */
			if (w->fn(w, evs[i].events))
				i = n;
		}
	}
}
