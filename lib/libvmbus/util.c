/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bottom of libvmbus, used by every layer above: logging, and
 * where the library reads the time, waits and sets timers (the ops table a
 * harness may swap, see vmbus_time in private.h).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>

#include "private.h"

/* --- logging --- */

static vmbus_log_fn *log_fn;
static void *log_arg;

void vmbus_set_log(vmbus_log_fn *fn, void *arg)
{
	log_fn = fn;
	log_arg = arg;
}

void vmbus_log(int prio, const char *fmt, ...)
{
	/* Callers log a failure, then return -errno: keep it for them. */
	int saved = errno;
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_fn)
		log_fn(prio, buf, log_arg);
	else
		fprintf(stderr, "libvmbus: %s\n", buf);
	errno = saved;
}

void vmbus_fault(struct vmbus_faults *f, enum vmbus_fault_kind kind,
		 const char *fmt, ...)
{
	char buf[384];
	va_list ap;

	if (f->logged & (1u << kind))
		return;
	f->logged |= 1u << kind;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	vmbus_log(LOG_WARNING, "domain %u: %s (further faults of this kind "
		  "are not logged)", f->domid, buf);
}

/* --- time --- */

static int64_t sys_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sys_timer_open(void)
{
	return timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
}

static int sys_timer_set(int fd, int ms)
{
	struct itimerspec its = { { 0, 0 }, { ms / 1000,
					      (long)(ms % 1000) * 1000000L } };

	return timerfd_settime(fd, 0, &its, NULL);
}

static const struct vmbus_time_ops sys_time = {
	.now_ms = sys_now_ms,
	.poll = poll,
	.timer_open = sys_timer_open,
	.timer_set = sys_timer_set,
};

const struct vmbus_time_ops *vmbus_time = &sys_time;

int64_t vmbus_now_ms(void)
{
	return vmbus_time->now_ms();
}

int vmbus_left_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - vmbus_now_ms();
	return left < 0 ? 0 : (int)left;
}

int vmbus_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	int rc = vmbus_time->poll(fds, n, timeout_ms);

	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	return rc;
}

int vmbus_timer_open(void)
{
	int fd = vmbus_time->timer_open();

	return fd < 0 ? -errno : fd;
}

int vmbus_timer_set(int fd, int ms)
{
	return vmbus_time->timer_set(fd, ms) < 0 ? -errno : 0;
}

int vmbus_poll_fd(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return vmbus_poll(&p, 1, timeout_ms);
}
