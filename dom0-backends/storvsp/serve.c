// SPDX-License-Identifier: GPL-2.0-only
/*
 * One guest's bus served by this process with one synthetic SCSI
 * controller on it (storvsp_serve in storvsp.h): what the storage test
 * server and the benchmark run where vmbusd is not wanted, so that both
 * set up the controller the same way.  vmbusd serves controllers with
 * its storage service instead (dom0-backends/vmbusd/storage.c).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <xenvmbus/storvsc.h>

#include "libvmbus.h"
#include "storvsp.h"

struct serve {
	struct storvsp *sp;
	const struct storvsp_serve_ops *ops;
	int epfd;
};

static int serve_open(struct vmbus_server *s, struct vmbus_chan *c,
		      void *cookie, void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	struct serve *sv = arg;
	int rc;

	(void)s;
	(void)cookie;
	rc = storvsp_attach(sv->sp, c);
	if (rc) {
		fprintf(stderr, "server: failed to attach the VSP to channel "
			"%u (%s)\n", vmbus_chan_relid(c), strerror(-rc));
		return rc;
	}
	if (epoll_ctl(sv->epfd, EPOLL_CTL_ADD, vmbus_chan_fd(c), &ev) < 0) {
		rc = -errno;
		storvsp_detach(sv->sp);
		return rc;
	}
	if (sv->ops && sv->ops->opened)
		sv->ops->opened(c, sv->ops->arg);
	return 0;
}

static void serve_close(struct vmbus_server *s, struct vmbus_chan *c,
			void *cookie, void *arg)
{
	struct serve *sv = arg;
	struct storvsp_stats st;

	(void)s;
	(void)cookie;
	epoll_ctl(sv->epfd, EPOLL_CTL_DEL, vmbus_chan_fd(c), NULL);
	storvsp_get_stats(sv->sp, &st);
	storvsp_detach(sv->sp);
	if (sv->ops && sv->ops->closed)
		sv->ops->closed(c, &st, sv->ops->arg);
}

static const struct vmbus_server_ops serve_ops = { serve_open, serve_close };

int storvsp_serve(unsigned int domid, struct storvsp *sp,
		  const struct storvsp_serve_ops *ops,
		  volatile sig_atomic_t *stop)
{
	struct vmbus_offer_desc d = { .nversions = 1,
				      .versions = { VSTOR_CLASS_VERSION } };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL }, evs[8];
	struct serve sv = { sp, ops, -1 };
	struct vmbus_server *s = NULL;
	int rc, i, k;

	sv.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sv.epfd < 0)
		return -errno;
	vmbus_guid_parse(VSTOR_SCSI_CLASS_GUID, d.type);
	d.instance[15] = 1;
	rc = vmbus_server_create(&s, domid, &serve_ops, &sv);
	if (rc) {
		fprintf(stderr, "server: failed to serve domain %u (%s)\n",
			domid, strerror(-rc));
		goto out;
	}
	rc = vmbus_server_offer(s, &d, NULL);
	if (rc) {
		fprintf(stderr, "server: failed to offer the controller to "
			"domain %u (%s)\n", domid, strerror(-rc));
		goto out;
	}
	if (epoll_ctl(sv.epfd, EPOLL_CTL_ADD, vmbus_server_fd(s), &ev) < 0) {
		rc = -errno;
		goto out;
	}
	ev.data.ptr = sp;
	if (epoll_ctl(sv.epfd, EPOLL_CTL_ADD, storvsp_fd(sp), &ev) < 0) {
		rc = -errno;
		goto out;
	}
	if (ops && ops->serving)
		ops->serving(domid, ops->arg);
	while (!*stop) {
		k = epoll_wait(sv.epfd, evs, 8, 500);
		for (i = 0; i < k; i++)
			if (!evs[i].data.ptr)
				vmbus_server_process(s);
		/* The channel and the backing store: both feed the VSP. */
		storvsp_process(sp);
	}
out:
	if (s)
		vmbus_server_destroy(s);
	close(sv.epfd);
	return rc;
}
