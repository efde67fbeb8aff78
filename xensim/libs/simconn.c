// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * simconn.c - transport between the simulated Xen libraries and xensimd.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "simconn.h"

int simconn_open(struct simconn *sc, bool cloexec, int *genfd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *dir = getenv("XENSIM_RUNDIR");
	const char *dom = getenv("XENSIM_DOMID");
	struct xensim_hello_req q = {
		.hdr = { .op = XENSIM_OP_HELLO, .len = sizeof(q) },
		.version = XENSIM_PROTO_VERSION,
	};
	struct xensim_hello_rsp r;
	unsigned int nfds = 0;
	int fd = -1, err;

	if (!dir)
		dir = XENSIM_DEFAULT_RUNDIR;
	if (!dom)
		dom = "0";
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/dom%s/hypervisor.sock",
			     dir, dom) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	sc->fd = socket(AF_UNIX, SOCK_SEQPACKET | (cloexec ? SOCK_CLOEXEC : 0), 0);
	if (sc->fd < 0)
		return -1;
	if (connect(sc->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		/* As opening a missing /dev/xen device: ENOENT. */
		err = (errno == ECONNREFUSED) ? ENOENT : errno;
		goto fail;
	}
	if (simconn_call(sc, &q, sizeof(q), &r, sizeof(r), NULL, &fd, 1, &nfds) < 0) {
		err = errno;
		goto fail;
	}
	if (nfds != 1) {
		err = EPROTO;
		goto fail;
	}
	sc->domid = r.domid;
	sc->privileged = r.privileged;
	if (genfd)
		*genfd = fd;
	else
		close(fd);
	return 0;

fail:
	if (fd >= 0)
		close(fd);
	close(sc->fd);
	sc->fd = -1;
	errno = err;
	return -1;
}

void simconn_close(struct simconn *sc)
{
	if (sc->fd >= 0)
		close(sc->fd);
	sc->fd = -1;
}

int simconn_call(struct simconn *sc, void *req, size_t reqlen,
		 void *rsp, size_t rspmax, size_t *rsplen,
		 int *fds, unsigned int maxfds, unsigned int *nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cbuf;
	struct iovec iov = { .iov_base = rsp, .iov_len = rspmax };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	struct xensim_rsp *h = rsp;
	struct cmsghdr *cm;
	unsigned int got = 0;
	ssize_t n;

	((struct xensim_req *)req)->len = reqlen;
	do
		n = send(sc->fd, req, reqlen, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	do
		n = recvmsg(sc->fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int *in = (int *)CMSG_DATA(cm);
			size_t i, nf = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (i = 0; i < nf; i++) {
				if (got < maxfds)
					fds[got++] = in[i];
				else
					close(in[i]);
			}
		}
	}
	if (nfds)
		*nfds = got;
	if (n == 0) {
		/* The hypervisor is gone, or our domain was destroyed. */
		errno = ESRCH;
		goto fail;
	}
	if ((size_t)n < sizeof(*h) || h->len != (size_t)n || (msg.msg_flags & MSG_TRUNC)) {
		errno = EPROTO;
		goto fail;
	}
	if (h->ret < 0) {
		errno = -h->ret;
		goto fail;
	}
	if (rsplen)
		*rsplen = n;
	return 0;

fail:
	while (got)
		close(fds[--got]);
	if (nfds)
		*nfds = 0;
	return -1;
}

void *sim_map_frames(int memfd, const uint32_t *gfns, const uint64_t *gfns64,
		     uint32_t count, int prot, void *hint, const int32_t *errs)
{
	size_t len = (size_t)count * XENSIM_PAGE_SIZE;
	uint8_t *base;
	uint32_t i = 0;

	/* Reserve the range first so runs can be placed with MAP_FIXED. */
	base = mmap(hint, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	while (i < count) {
		uint64_t first = gfns ? gfns[i] : gfns64[i];
		uint32_t run = 1;

		if (errs && errs[i]) {
			i++;
			continue;
		}
		while (i + run < count && !(errs && errs[i + run]) &&
		       (gfns ? gfns[i + run] : gfns64[i + run]) == first + run)
			run++;
		if (mmap(base + (size_t)i * XENSIM_PAGE_SIZE, (size_t)run * XENSIM_PAGE_SIZE,
			 prot, MAP_SHARED | MAP_FIXED, memfd,
			 (off_t)first << XENSIM_PAGE_SHIFT) == MAP_FAILED) {
			int err = errno;

			munmap(base, len);
			errno = err;
			return NULL;
		}
		i += run;
	}
	return base;
}
