// SPDX-License-Identifier: GPL-2.0-only
/*
 * kdrelay-guest - a simulated guest vCPU issuing the Viridian debug
 * hypercalls on the simulated Xen (run it with `xensim run DOM --`).
 *
 *   kdrelay-guest post TEXT            HvPostDebugData; prints the status
 *   kdrelay-guest retrieve TIMEOUT_MS  HvRetrieveDebugData with LOOP; prints
 *                                      "STATUS DATA" (timeout 0: no wait)
 *   kdrelay-guest reset OPTIONS        HvResetDebugSession; prints the status
 *                                      and the connection it reports
 *   kdrelay-guest post-hex HEX         HvPostDebugData of binary data
 *   kdrelay-guest post-many N LEN      N posts of LEN bytes each, a refused
 *                                      one retried until none was taken for
 *                                      2 s; prints how many were taken
 *   kdrelay-guest retrieve-hex MS      as retrieve, the data in hex
 *   kdrelay-guest msr-send HEX         SYNDBG_SEND_BUFFER, CONTROL SEND, STATUS;
 *                                      prints the status in hex
 *   kdrelay-guest msr-recv             SYNDBG_RECV_BUFFER, CONTROL RECV, STATUS;
 *                                      prints "STATUS HEX"
 *
 * The calls run on vCPU $KDRELAY_VCPU (default 0): a vCPU blocked in a
 * call issues nothing else, so concurrent callers take different vCPUs.
 *
 * Each vCPU has its own pages (a blocked call is re-executed, re-reading
 * its input page): input and output at guest frames IN_GFN + 8 * vCPU and
 * the next one, the SYNDBG MSR buffers after them; high in the guest's
 * memory, away from the frames the hypervisor allocates.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "syndbg/guest-calls.h"

#define IN_GFN 3000u
#define IN_GPA (((uint64_t)IN_GFN + 8 * vcpu) << XENSIM_PAGE_SHIFT)
#define OUT_GPA (IN_GPA + XENSIM_PAGE_SIZE)
#define SEND_GPA (IN_GPA + 2 * XENSIM_PAGE_SIZE)
#define RECV_GPA (IN_GPA + 3 * XENSIM_PAGE_SIZE)
#define PEND_GPA (IN_GPA + 4 * XENSIM_PAGE_SIZE)

static uint32_t vcpu;

static int sim_connect(void)
{
	const char *dom = getenv("XENSIM_DOMID");
	char path[128];
	int fd = syndbg_guest_connect(dom ? dom : "0", path, sizeof(path));

	if (fd < 0) {
		fprintf(stderr, "kdrelay-guest: failed to connect to \"%s\": %s\n", path,
			strerror(-fd));
		exit(1);
	}
	return fd;
}

/*
 * One vCPU debug call: first write_len bytes of data to write_gpa, then the
 * hypercall or MSR access; *page receives the page at read_gpa.  Returns
 * the status (HV status, or -errno for an MSR #GP); *val the MSR value.
 */
static int vcall(int fd, uint32_t kind, uint32_t code, uint64_t value, uint64_t write_gpa,
		 const void *data, uint32_t len, uint64_t read_gpa, uint64_t *val, uint8_t *page)
{
	struct syndbg_guest_call c = {
		.vcpu = vcpu, .kind = kind, .code = code, .value = value, .in_gpa = IN_GPA,
		.out_gpa = OUT_GPA, .write_gpa = write_gpa, .data = data, .len = len,
		.read_gpa = read_gpa,
	};
	int32_t status = 0;
	int err, refused;

	err = syndbg_guest_call(fd, &c, &status, val, page, &refused);
	if (err) {
		fprintf(stderr, "kdrelay-guest: call 0x%x %s: %s\n", code,
			refused ? "refused" : "failed", strerror(-err));
		exit(1);
	}
	return status;
}

static int hcall(int fd, uint32_t code, const void *in, uint32_t in_len, uint8_t *page)
{
	return vcall(fd, XENSIM_VCPU_HCALL, code, 0, IN_GPA, in, in_len, OUT_GPA, NULL, page);
}

static int wrmsr(int fd, uint32_t idx, uint64_t v, uint64_t gpa, const void *data,
		 uint32_t len)
{
	return vcall(fd, XENSIM_VCPU_WRMSR, idx, v, gpa, data, len, ~0ull, NULL, NULL);
}

static uint64_t rdmsr(int fd, uint32_t idx, uint8_t *page, uint64_t read_gpa)
{
	uint64_t v = 0;
	int st = vcall(fd, XENSIM_VCPU_RDMSR, idx, 0, 0, NULL, 0, read_gpa, &v, page);

	if (st < 0) {
		fprintf(stderr, "kdrelay-guest: rdmsr 0x%x: #GP\n", idx);
		exit(1);
	}
	return v;
}

static uint32_t unhex(const char *h, uint8_t *out, uint32_t cap)
{
	uint32_t n = 0;
	unsigned int b;

	while (h[0] && h[1] && n < cap && sscanf(h, "%2x", &b) == 1) {
		out[n++] = b;
		h += 2;
	}
	return n;
}

static void print_hex(const uint8_t *p, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		printf("%02x", p[i]);
}

static int retrieve(int fd, const char *ms, bool hex)
{
	static uint8_t in[16], page[XENSIM_PAGE_SIZE];
	uint64_t timeout = strtoull(ms, NULL, 0) * 10000; /* 100 ns units */
	uint32_t w[2] = { 4088, timeout ? 1 : 0 };	/* HV_DEBUG_RETRIEVE_LOOP */
	uint32_t got;
	int st;

	memcpy(in, w, 8);
	memcpy(in + 8, &timeout, 8);
	st = hcall(fd, HVCALL_RETRIEVE_DEBUG_DATA, in, 16, page);
	memcpy(&got, page, 4);
	if (st || got > 4088)
		got = 0;
	printf("%d ", st);
	if (hex)
		print_hex(page + 8, got);
	else
		printf("%.*s", (int)got, (char *)page + 8);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t in[XENSIM_PAGE_SIZE], page[XENSIM_PAGE_SIZE];
	uint32_t *w = (uint32_t *)in;
	int fd, st;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: kdrelay-guest post TEXT | retrieve MS | reset OPTS |\n"
			"       post-hex HEX | retrieve-hex MS | msr-send HEX | msr-recv |\n"
			"       post-many N LEN\n");
		return 2;
	}
	if (getenv("KDRELAY_VCPU"))
		vcpu = strtoul(getenv("KDRELAY_VCPU"), NULL, 0) & 7;
	fd = sim_connect();
	if (argc == 3 && (!strcmp(argv[1], "post") || !strcmp(argv[1], "post-hex"))) {
		uint32_t len;

		if (!strcmp(argv[1], "post")) {
			len = strlen(argv[2]);
			if (len > 4088)
				return 2;
			memcpy(in + 8, argv[2], len);
		} else {
			len = unhex(argv[2], in + 8, 4088);
		}
		w[0] = len;
		w[1] = 0;
		st = hcall(fd, HVCALL_POST_DEBUG_DATA, in, 8 + len, page);
		printf("%d\n", st);
	} else if (argc == 4 && !strcmp(argv[1], "post-many")) {
		unsigned long n = strtoul(argv[2], NULL, 0), done = 0;
		uint32_t len = strtoul(argv[3], NULL, 0);
		struct timespec pause = { 0, 2000000 };
		time_t end = time(NULL) + 2;

		if (len > 4088)
			return 2;
		memset(in + 8, 'x', len);
		w[0] = len;
		w[1] = 0;
		while (done < n && time(NULL) < end) {
			if (hcall(fd, HVCALL_POST_DEBUG_DATA, in, 8 + len, page) == 0) {
				done++;
				end = time(NULL) + 2;
			} else {
				nanosleep(&pause, NULL);	/* the ring is full */
			}
		}
		printf("%lu\n", done);
	} else if (argc == 3 && !strcmp(argv[1], "retrieve")) {
		retrieve(fd, argv[2], false);
	} else if (argc == 3 && !strcmp(argv[1], "retrieve-hex")) {
		retrieve(fd, argv[2], true);
	} else if (argc == 3 && !strcmp(argv[1], "reset")) {
		uint32_t hip, tip;
		uint16_t hport, tport;

		w[0] = strtoul(argv[2], NULL, 0);
		st = hcall(fd, HVCALL_RESET_DEBUG_SESSION, in, 4, page);
		memcpy(&hip, page, 4);
		memcpy(&tip, page + 4, 4);
		memcpy(&hport, page + 8, 2);
		memcpy(&tport, page + 10, 2);
		if (st)
			printf("%d\n", st);
		else
			printf("%d host %08x:%04x target %08x:%04x\n", st, ntohl(hip), ntohs(hport),
			       ntohl(tip), ntohs(tport));
	} else if (argc == 3 && !strcmp(argv[1], "msr-send")) {
		uint32_t len = unhex(argv[2], in, XENSIM_PAGE_SIZE);

		if (wrmsr(fd, HV_X64_MSR_SYNDBG_SEND_BUFFER, SEND_GPA, 0, NULL, 0) ||
		    wrmsr(fd, HV_X64_MSR_SYNDBG_CONTROL, 1 | (uint64_t)len << 16, SEND_GPA, in, len)) {
			fprintf(stderr, "kdrelay-guest: SYNDBG MSR write: #GP\n");
			return 1;
		}
		printf("%#llx\n", (unsigned long long)rdmsr(fd, HV_X64_MSR_SYNDBG_STATUS, NULL, ~0ull));
	} else if (argc == 2 && !strcmp(argv[1], "msr-recv")) {
		uint64_t status;

		if (wrmsr(fd, HV_X64_MSR_SYNDBG_RECV_BUFFER, RECV_GPA, 0, NULL, 0) ||
		    wrmsr(fd, HV_X64_MSR_SYNDBG_PENDING_BUFFER, PEND_GPA, 0, NULL, 0) ||
		    wrmsr(fd, HV_X64_MSR_SYNDBG_CONTROL, 2, 0, NULL, 0)) {
			fprintf(stderr, "kdrelay-guest: SYNDBG MSR write: #GP\n");
			return 1;
		}
		status = rdmsr(fd, HV_X64_MSR_SYNDBG_STATUS, page, RECV_GPA);
		printf("%#llx ", (unsigned long long)status);
		if (status & 4)
			print_hex(page, (uint32_t)(status >> 16) & 0xffff);
		printf("\n");
	} else {
		return 2;
	}
	close(fd);
	return 0;
}
