// SPDX-License-Identifier: GPL-2.0-only
/*
 * hostile-client - feeds the simulated host's guest-facing endpoints what a
 * broken or malicious guest program could send: malformed hypercall
 * requests on dom<N>/hypervisor.sock and malformed xenstore messages on
 * dom<N>/xenbus.  It checks every answer is a clean refusal; the calling
 * test then checks the host still serves everyone.
 *
 * Usage: hostile-client RUNDIR DOMID ROUNDS
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

#include "xensim-proto.h"

static int connect_to(const char *path, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "hostile-client: failed to connect to \"%s\": %s\n", path,
			strerror(errno));
		exit(1);
	}
	return fd;
}

/* Every malformed request must be answered with an error, never served. */
static int hypercalls(const char *path, unsigned int rounds)
{
	uint8_t buf[XENSIM_MSG_MAX + 64];
	struct xensim_rsp rsp;
	unsigned int i;
	int bad = 0;

	for (i = 0; i < rounds; i++) {
		int fd = connect_to(path, SOCK_SEQPACKET);
		struct xensim_req *q = (struct xensim_req *)buf;
		size_t len = 8 + (size_t)(rand() % 256);
		size_t j;
		ssize_t n;

		for (j = 0; j < len; j++)
			buf[j] = rand();
		switch (i % 4) {
		case 0:	/* lies about its length */
			q->len = len + 1 + rand() % 100;
			break;
		case 1:	/* unknown op */
			q->op = XENSIM_OP_MAX + rand() % 1000;
			q->len = len;
			break;
		case 2:	/* known op, absurd counts, too short */
			q->op = 1 + rand() % (XENSIM_OP_MAX - 1);
			q->len = len = sizeof(*q) + rand() % 8;
			break;
		case 3:	/* privileged op from a guest, or a map of garbage */
			q->op = (i & 4) ? XENSIM_OP_DOMAIN_DESTROY : XENSIM_OP_GNT_MAP;
			q->len = len;
			break;
		}
		if (send(fd, buf, len, 0) < 0)
			bad++;
		n = recv(fd, &rsp, sizeof(rsp), 0);
		if (n != sizeof(rsp) || rsp.ret >= 0) {
			/* A random GNT_MAP of a valid ref could in theory succeed;
			 * with random bytes it must not here. */
			fprintf(stderr, "hostile-client: request %u (kind %u) was not refused\n",
				i, i % 4);
			bad++;
		}
		close(fd);
	}
	return bad;
}

static int xenbus(const char *path, unsigned int rounds)
{
	unsigned int i;

	for (i = 0; i < rounds; i++) {
		int fd = connect_to(path, SOCK_STREAM);
		struct xsd_sockmsg h = { .req_id = i };
		char body[64];

		char big[XENSTORE_PAYLOAD_MAX];

		switch (i % 6) {
		case 5:	/* a watch whose path fills the payload: no room for our token */
			h.type = XS_WATCH;
			h.len = sizeof(big);
			memset(big, 'a', sizeof(big));
			big[sizeof(big) - 3] = '\0';
			big[sizeof(big) - 2] = 't';
			big[sizeof(big) - 1] = '\0';
			break;
		case 0:	/* oversized: the connection is dropped */
			h.type = XS_READ;
			h.len = XENSTORE_PAYLOAD_MAX + 1 + rand() % 1000;
			break;
		case 1:	/* a transaction that is not ours */
			h.type = XS_WRITE;
			h.tx_id = 1 + rand();
			h.len = snprintf(body, sizeof(body), "data/x%c1", 0);
			break;
		case 2:	/* watch without a token terminator */
			h.type = XS_WATCH;
			h.len = 6;
			memcpy(body, "data/y", 6);
			break;
		case 3:	/* unwatch of nothing */
			h.type = XS_UNWATCH;
			h.len = snprintf(body, sizeof(body), "data%cnone", 0) + 1;
			break;
		case 4:	/* half a message, then gone */
			h.type = XS_READ;
			h.len = 40;
			break;
		}
		if (write(fd, &h, sizeof(h)) != sizeof(h))
			return 1;
		if (i % 6 == 5 && write(fd, big, h.len) != (ssize_t)h.len)
			return 1;
		if (i % 6 != 0 && i % 6 != 4 && i % 6 != 5 &&
		    write(fd, body, h.len) != (ssize_t)h.len)
			return 1;
		if (i % 6 == 1 || i % 6 == 2 || i % 6 == 3 || i % 6 == 5) {
			struct xsd_sockmsg r;

			if (read(fd, &r, sizeof(r)) != sizeof(r) || r.type != XS_ERROR) {
				fprintf(stderr, "hostile-client: xenbus message %u (kind %u) was not refused\n",
					i, i % 6);
				close(fd);
				return 1;
			}
		}
		close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	char path[512];
	unsigned int rounds;
	int bad;

	if (argc != 4) {
		fprintf(stderr, "Usage: hostile-client RUNDIR DOMID ROUNDS\n");
		return 2;
	}
	rounds = strtoul(argv[3], NULL, 0);
	srand(rounds);
	snprintf(path, sizeof(path), "%s/dom%s/hypervisor.sock", argv[1], argv[2]);
	bad = hypercalls(path, rounds);
	snprintf(path, sizeof(path), "%s/dom%s/xenbus", argv[1], argv[2]);
	bad += xenbus(path, rounds);
	return bad ? 1 : 0;
}
