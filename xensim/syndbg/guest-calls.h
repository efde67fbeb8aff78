/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guest-calls.h: a program that plays a guest vCPU of the simulated Xen
 * and issues the Viridian synthetic debugger's hypercalls and SYNDBG MSR
 * accesses, as a guest's KDNET transport does.  Each call travels over the
 * domain's hypervisor socket as XENSIM_OP_VCPU_DEBUG; xensimd runs it
 * through the syndbg plugin (the patched Xen code) as a real exit would.
 *
 * For tests/integration/kdrelay-guest and bench/syndbg/syndbg-bench; both
 * build with -I$(top_srcdir)/xensim.
 */
#ifndef XENSIM_SYNDBG_GUEST_CALLS_H
#define XENSIM_SYNDBG_GUEST_CALLS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "xensim-proto.h"

/* Hypercall codes and MSRs of the synthetic debugger (Hyper-V TLFS). */
#define HVCALL_POST_DEBUG_DATA		0x69
#define HVCALL_RETRIEVE_DEBUG_DATA	0x6a
#define HVCALL_RESET_DEBUG_SESSION	0x6b
#define HV_X64_MSR_SYNDBG_CONTROL	0x400000f1
#define HV_X64_MSR_SYNDBG_STATUS	0x400000f2
#define HV_X64_MSR_SYNDBG_SEND_BUFFER	0x400000f3
#define HV_X64_MSR_SYNDBG_RECV_BUFFER	0x400000f4
#define HV_X64_MSR_SYNDBG_PENDING_BUFFER 0x400000f5

/*
 * Enter domain DOM (its id, as a string) through its hypervisor socket in
 * $XENSIM_RUNDIR.  Returns the socket, or -errno; path receives the
 * socket's path for messages.
 */
static inline int syndbg_guest_connect(const char *dom, char *path, size_t path_len)
{
	const char *dir = getenv("XENSIM_RUNDIR");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xensim_hello_req q = { .hdr = { XENSIM_OP_HELLO, sizeof(q) },
				      .version = XENSIM_PROTO_VERSION };
	uint8_t buf[256];
	int fd, err;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/dom%s/hypervisor.sock",
		 dir ? dir : XENSIM_DEFAULT_RUNDIR, dom);
	snprintf(path, path_len, "%s", sa.sun_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, &q, sizeof(q), 0) < 0 || recv(fd, buf, sizeof(buf), 0) < 0) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

/* One exit of a guest vCPU. */
struct syndbg_guest_call {
	uint32_t vcpu;
	uint32_t kind;		/* XENSIM_VCPU_HCALL, _RDMSR or _WRMSR */
	uint32_t code;		/* hypercall code, or MSR index */
	uint64_t value;		/* WRMSR value */
	uint64_t in_gpa;	/* the hypercall's input and output pages */
	uint64_t out_gpa;
	uint64_t write_gpa;	/* the guest writes data here before the exit */
	const void *data;
	uint32_t len;		/* at most XENSIM_PAGE_SIZE */
	uint64_t read_gpa;	/* page returned after the exit; ~0: none */
};

/*
 * Run call C on the vCPU.  Returns 0 with *status (HV status, or -errno
 * for an MSR #GP), *value (the RDMSR value, may be NULL) and, unless
 * read_gpa is ~0, the page at read_gpa in page (may be NULL).  Returns
 * -errno when the exchange failed or the simulated host refused the call;
 * *refused then tells which (may be NULL).
 */
static inline int syndbg_guest_call(int fd, const struct syndbg_guest_call *c, int32_t *status,
				    uint64_t *value, uint8_t *page, int *refused)
{
	static uint8_t qbuf[sizeof(struct xensim_vcpu_debug_req) + XENSIM_PAGE_SIZE];
	static uint8_t rbuf[sizeof(struct xensim_vcpu_debug_rsp) + XENSIM_PAGE_SIZE];
	struct xensim_vcpu_debug_req *q = (void *)qbuf;
	struct xensim_vcpu_debug_rsp *r = (void *)rbuf;
	ssize_t n;

	if (refused)
		*refused = 0;
	if (c->len > XENSIM_PAGE_SIZE)
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	q->hdr.op = XENSIM_OP_VCPU_DEBUG;
	q->hdr.len = sizeof(*q) + c->len;
	q->kind = c->kind;
	q->vcpu = c->vcpu;
	q->code = c->code;
	q->value = c->value;
	q->in_gpa = c->in_gpa;
	q->out_gpa = c->out_gpa;
	q->write_gpa = c->write_gpa;
	q->write_len = c->len;
	q->read_gpa = c->read_gpa;
	if (c->len)
		memcpy(q + 1, c->data, c->len);
	if (send(fd, q, q->hdr.len, 0) < 0 || (n = recv(fd, rbuf, sizeof(rbuf), 0)) < 0)
		return -errno;
	if ((size_t)n < sizeof(*r) || r->hdr.ret) {
		if (refused)
			*refused = 1;
		return (size_t)n < sizeof(*r) ? -EPROTO : r->hdr.ret;
	}
	*status = r->status;
	if (value)
		*value = r->value;
	if (page && c->read_gpa != ~0ull)
		memcpy(page, r + 1, XENSIM_PAGE_SIZE);
	return 0;
}

#endif /* XENSIM_SYNDBG_GUEST_CALLS_H */
