/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * simconn.h - the simulated libraries' side of the hypercall socket.
 * Each library handle owns one connection (see xensim-proto.h).
 */
#ifndef XENSIM_SIMCONN_H
#define XENSIM_SIMCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xensim-proto.h"

#define SIM_HIDDEN __attribute__((visibility("hidden")))

struct simconn {
	int fd;
	uint32_t domid;
	bool privileged;
};

/*
 * Connect to the domain this process runs in and greet the hypervisor.
 * Returns 0, or -1 with errno set.  *genfd receives the domain's event
 * channel generation page when genfd is not NULL.
 */
SIM_HIDDEN int simconn_open(struct simconn *sc, bool cloexec, int *genfd);
SIM_HIDDEN void simconn_close(struct simconn *sc);

/*
 * One request/reply.  Returns 0, or -1 with errno set from the reply or the
 * transport.  Up to maxfds descriptors are returned in fds (others closed);
 * *nfds says how many arrived.
 */
SIM_HIDDEN int simconn_call(struct simconn *sc, void *req, size_t reqlen,
			    void *rsp, size_t rspmax, size_t *rsplen,
			    int *fds, unsigned int maxfds, unsigned int *nfds);

/* mmap pages of a memfd at consecutive addresses; returns NULL + errno. */
SIM_HIDDEN void *sim_map_frames(int memfd, const uint32_t *gfns, const uint64_t *gfns64,
				uint32_t count, int prot, void *hint, const int32_t *errs);

#endif
