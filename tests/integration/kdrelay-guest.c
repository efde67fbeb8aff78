// SPDX-License-Identifier: GPL-2.0-only
/*
 * kdrelay-guest - a simulated guest vCPU issuing the Viridian debug
 * hypercalls on the simulated Xen (run it with `xensim run DOM --`).
 *
 *   kdrelay-guest post TEXT            HvPostDebugData; prints the status
 *   kdrelay-guest retrieve TIMEOUT_MS  HvRetrieveDebugData with LOOP; prints
 *                                      "STATUS DATA" (timeout 0: no wait)
 *   kdrelay-guest reset OPTIONS        HvResetDebugSession; prints the status
 *
 * The input and output pages are guest frames IN_GFN and IN_GFN + 1, high
 * in the guest's memory, away from the frames the hypervisor allocates.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "xensim-proto.h"

#define IN_GFN 3000u
#define IN_GPA ((uint64_t)IN_GFN << XENSIM_PAGE_SHIFT)
#define OUT_GPA (IN_GPA + XENSIM_PAGE_SIZE)

static int sim_connect(void)
{
	const char *dir = getenv("XENSIM_RUNDIR"), *dom = getenv("XENSIM_DOMID");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xensim_hello_req q = { .hdr = { XENSIM_OP_HELLO, sizeof(q) },
				      .version = XENSIM_PROTO_VERSION };
	uint8_t buf[256];
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/dom%s/hypervisor.sock",
		 dir ? dir : XENSIM_DEFAULT_RUNDIR, dom ? dom : "0");
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, &q, sizeof(q), 0) < 0 || recv(fd, buf, sizeof(buf), 0) < 0) {
		fprintf(stderr, "kdrelay-guest: failed to connect to \"%s\": %s\n", sa.sun_path,
			strerror(errno));
		exit(1);
	}
	return fd;
}

/* One hypercall; *page receives the output page.  Returns the HV status. */
static int hcall(int fd, uint32_t code, const void *in, uint32_t in_len, uint8_t *page)
{
	static uint8_t qbuf[sizeof(struct xensim_vcpu_debug_req) + XENSIM_PAGE_SIZE];
	static uint8_t rbuf[sizeof(struct xensim_vcpu_debug_rsp) + XENSIM_PAGE_SIZE];
	struct xensim_vcpu_debug_req *q = (void *)qbuf;
	struct xensim_vcpu_debug_rsp *r = (void *)rbuf;
	ssize_t n;

	memset(q, 0, sizeof(*q));
	q->hdr.op = XENSIM_OP_VCPU_DEBUG;
	q->hdr.len = sizeof(*q) + in_len;
	q->kind = XENSIM_VCPU_HCALL;
	q->code = code;
	q->in_gpa = IN_GPA;
	q->out_gpa = OUT_GPA;
	q->write_gpa = IN_GPA;
	q->write_len = in_len;
	q->read_gpa = OUT_GPA;
	memcpy(q + 1, in, in_len);
	if (send(fd, q, q->hdr.len, 0) < 0 || (n = recv(fd, rbuf, sizeof(rbuf), 0)) < 0) {
		fprintf(stderr, "kdrelay-guest: failed to call 0x%x: %s\n", code, strerror(errno));
		exit(1);
	}
	if ((size_t)n < sizeof(*r) || r->hdr.ret) {
		fprintf(stderr, "kdrelay-guest: call 0x%x refused: %s\n", code,
			strerror(-r->hdr.ret));
		exit(1);
	}
	memcpy(page, r + 1, XENSIM_PAGE_SIZE);
	return r->status;
}

int main(int argc, char **argv)
{
	static uint8_t in[XENSIM_PAGE_SIZE], page[XENSIM_PAGE_SIZE];
	uint32_t *w = (uint32_t *)in;
	int fd, st;

	if (argc != 3) {
		fprintf(stderr, "usage: kdrelay-guest post TEXT | retrieve MS | reset OPTS\n");
		return 2;
	}
	fd = sim_connect();
	if (!strcmp(argv[1], "post")) {
		uint32_t len = strlen(argv[2]);

		if (len > 4088)
			return 2;
		w[0] = len;
		w[1] = 0;
		memcpy(in + 8, argv[2], len);
		st = hcall(fd, 0x69, in, 8 + len, page);
		printf("%d\n", st);
	} else if (!strcmp(argv[1], "retrieve")) {
		uint64_t timeout = strtoull(argv[2], NULL, 0) * 10000; /* 100 ns units */
		uint32_t got;

		w[0] = 4088;
		w[1] = timeout ? 1 : 0;		/* HV_DEBUG_RETRIEVE_LOOP */
		memcpy(in + 8, &timeout, 8);
		st = hcall(fd, 0x6a, in, 16, page);
		memcpy(&got, page, 4);
		if (st || got > 4088)
			got = 0;
		printf("%d %.*s\n", st, (int)got, (char *)page + 8);
	} else if (!strcmp(argv[1], "reset")) {
		w[0] = strtoul(argv[2], NULL, 0);
		st = hcall(fd, 0x6b, in, 4, page);
		printf("%d\n", st);
	} else {
		return 2;
	}
	close(fd);
	return 0;
}
