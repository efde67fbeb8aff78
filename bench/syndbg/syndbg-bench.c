// SPDX-License-Identifier: GPL-2.0-only
/*
 * syndbg-bench - guest exits per KiB of debugger traffic through the
 * Viridian synthetic debugger's debug port, against a 16550 UART.
 *
 * Runs in dom0 of the simulated Xen whose debug port is the patched Xen
 * code (bench/syndbg/run.sh sets that up) and plays both ends:
 *
 *  - the guest: a vCPU of DOMID issuing HvPostDebugData/HvRetrieveDebugData
 *    or the SYNDBG MSR accesses, as the guest's KDNET transport does; every
 *    hypercall and every MSR access it makes is one exit.  Reading the
 *    pending page and filling the send page are memory accesses (no exit):
 *    the pending page is read through a foreign mapping of the guest frame;
 *  - the debugger: a backend attached to the port (as xen-kdrelay) that
 *    consumes what the guest posts and queues what it retrieves.
 *
 * Sent: N KiB of payload each way in KDNET-sized packets; with the
 * hypercalls each packet also carries the 42 bytes of Ethernet/IPv4/UDP
 * headers the guest's hypercall mode includes.  Hypercalls use
 * HV_DEBUG_POST_LOOP and HV_DEBUG_RETRIEVE_LOOP, so a guest that must wait
 * is descheduled instead of retrying (the "hypercall" rows; a vCPU woken
 * from such a wait re-executes its VMCALL inside the hypervisor, which the
 * guest does not see and which is not counted); the "hcall-poll" rows pass
 * no LOOP option and retry, every call counted.  MSR sends that find the
 * ring full are retried and counted as well.
 *
 * The baseline is a counted loop against a minimal emulated 16550 (THR,
 * RBR, LSR with a 16-byte receive FIFO): per byte sent an LSR poll until
 * THRE and an OUT to THR, per byte received an LSR poll until DR and an IN
 * from RBR, as a polled kernel-debugger UART driver does.  The emulated line
 * is never slower than the guest, which is the UART's best case.
 *
 * Prints a table and one JSON line.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>

#include <xenvmbus/syndbg-port.h>

#include "kd-dmop.h"

#include "syndbg/guest-calls.h"

#define HV_STATUS_SUCCESS	0
#define HV_STATUS_INSUFFICIENT_BUFFERS 19
#define HV_STATUS_NO_DATA	27
#define HV_DEBUG_LOOP		1
#define FRAME_HLEN		42	/* Ethernet + IPv4 + UDP */

/* Guest frames of the bench's pages, high in the guest's memory. */
#define BASE_GFN		3500u
#define GPA(n)			(((uint64_t)BASE_GFN + (n)) << XENSIM_PAGE_SHIFT)
#define IN_GPA			GPA(0)
#define OUT_GPA			GPA(1)
#define SEND_GPA		GPA(2)
#define RECV_GPA		GPA(3)
#define PEND_GFN		(BASE_GFN + 4)
#define PEND_GPA		GPA(4)

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("syndbg-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the guest vCPU ---- */

struct guest {
	int fd;
	uint64_t exits;
	uint8_t page[XENSIM_PAGE_SIZE];	/* the page read back after a call */
};

static void guest_open(struct guest *g, uint32_t domid)
{
	char dom[16], path[128];

	snprintf(dom, sizeof(dom), "%u", domid);
	g->fd = syndbg_guest_connect(dom, path, sizeof(path));
	if (g->fd < 0)
		die("failed to enter d%u through \"%s\" (%s)", domid, path, strerror(-g->fd));
	g->exits = 0;
}

/*
 * One exit: the memory writes the guest made before it (data at
 * write_gpa), then the hypercall or MSR access.  Returns the status; *val
 * the MSR value; g->page the page at read_gpa.
 */
static int guest_exit(struct guest *g, uint32_t kind, uint32_t code, uint64_t value,
		      uint64_t write_gpa, const void *data, uint32_t len, uint64_t read_gpa,
		      uint64_t *val)
{
	struct syndbg_guest_call c = {
		.kind = kind, .code = code, .value = value, .in_gpa = IN_GPA, .out_gpa = OUT_GPA,
		.write_gpa = write_gpa, .data = data, .len = len, .read_gpa = read_gpa,
	};
	int32_t status = 0;
	int err, refused;

	err = syndbg_guest_call(g->fd, &c, &status, val, g->page, &refused);
	if (err && refused)
		die("the simulated host refused the guest's call %#x (%s)", code, strerror(-err));
	if (err)
		die("failed to run the guest's call %#x (%s)", code, strerror(-err));
	g->exits++;
	return status;
}

static void wrmsr(struct guest *g, uint32_t idx, uint64_t v, uint64_t gpa, const void *data,
		  uint32_t len)
{
	if (guest_exit(g, XENSIM_VCPU_WRMSR, idx, v, gpa, data, len, ~0ull, NULL))
		die("the guest's WRMSR %#x <- %#llx raised #GP", idx, (unsigned long long)v);
}

static uint64_t rdmsr(struct guest *g, uint32_t idx, uint64_t read_gpa)
{
	uint64_t v = 0;

	if (guest_exit(g, XENSIM_VCPU_RDMSR, idx, 0, 0, NULL, 0, read_gpa, &v))
		die("the guest's RDMSR %#x raised #GP", idx);
	return v;
}

/* ---- the debugger: a backend on the port ---- */

struct backend {
	uint32_t domid;
	int privcmd;			/* for XEN_DMOP_syndbg_backend */
	xc_interface *xch;
	xenforeignmemory_handle *fmem;
	xenevtchn_handle *xce;
	xenforeignmemory_resource_handle *fres;
	volatile struct syndbg_shared *sh;
	volatile uint8_t *out, *in;
	int lport;
	pthread_t thread;
	atomic_bool stop;
	atomic_uint_fast64_t out_pdus, out_bytes, in_left;
	atomic_uint in_len;
};

static void ring_read(volatile const uint8_t *ring, uint32_t idx, void *dst, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		((uint8_t *)dst)[i] = ring[(idx + i) & (SYNDBG_RING_SIZE - 1)];
}

static void ring_write(volatile uint8_t *ring, uint32_t idx, const void *src, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		ring[(idx + i) & (SYNDBG_RING_SIZE - 1)] = ((const uint8_t *)src)[i];
}

/* Take every out record; queue in records while some are asked for. */
static bool backend_pump(struct backend *b)
{
	static uint8_t payload[SYNDBG_MAX_PDU];
	bool moved = false;
	uint32_t prod, cons;

	prod = __atomic_load_n(&b->sh->out.prod, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE); /* read prod /then/ the records */
	cons = b->sh->out.cons;
	while (prod - cons >= sizeof(struct syndbg_pdu) && prod - cons <= SYNDBG_RING_SIZE) {
		struct syndbg_pdu h;

		ring_read(b->out, cons, &h, sizeof(h));
		if (h.len > SYNDBG_MAX_PDU || syndbg_rec_size(h.len) > prod - cons)
			die("bad out record from d%u", b->domid);
		if (h.type == SYNDBG_PDU_DATA) {
			atomic_fetch_add(&b->out_pdus, 1);
			atomic_fetch_add(&b->out_bytes, h.len);
		}
		cons += syndbg_rec_size(h.len);
		moved = true;
	}
	if (moved) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST); /* done reading /then/ free */
		__atomic_store_n(&b->sh->out.cons, cons, __ATOMIC_RELAXED);
	}
	while (atomic_load(&b->in_left)) {
		uint32_t len = atomic_load(&b->in_len), iprod = b->sh->in.prod;
		uint32_t icons = __atomic_load_n(&b->sh->in.cons, __ATOMIC_RELAXED);
		struct syndbg_pdu h = { .len = len, .type = SYNDBG_PDU_DATA,
					.session = b->sh->in_session };

		if (SYNDBG_RING_SIZE - (iprod - icons) < syndbg_rec_size(len))
			break;
		for (uint32_t i = 0; i < len; i++)
			payload[i] = (uint8_t)(i + atomic_load(&b->in_left));
		ring_write(b->in, iprod, &h, sizeof(h));
		ring_write(b->in, iprod + sizeof(h), payload, len);
		__atomic_thread_fence(__ATOMIC_RELEASE); /* write the record /then/ prod */
		__atomic_store_n(&b->sh->in.prod, iprod + syndbg_rec_size(len), __ATOMIC_RELAXED);
		atomic_fetch_sub(&b->in_left, 1);
		moved = true;
	}
	if (moved)
		xenevtchn_notify(b->xce, b->lport);
	return moved;
}

static void *backend_main(void *arg)
{
	struct backend *b = arg;
	struct pollfd pfd = { .fd = xenevtchn_fd(b->xce), .events = POLLIN };

	while (!atomic_load(&b->stop)) {
		if (backend_pump(b))
			continue;
		if (poll(&pfd, 1, 20) > 0) {
			xenevtchn_port_or_error_t p = xenevtchn_pending(b->xce);

			if (p >= 0)
				xenevtchn_unmask(b->xce, p);
		}
	}
	return NULL;
}

static void backend_open(struct backend *b, uint32_t domid)
{
	void *addr = NULL;

	b->domid = domid;
	b->xch = xc_interface_open(NULL, NULL, 0);
	b->fmem = xenforeignmemory_open(NULL, 0);
	b->xce = xenevtchn_open(NULL, 0);
	if (!b->xch || !b->fmem || !b->xce)
		die("failed to open the Xen interfaces (%s)", strerror(errno));
	b->privcmd = kd_privcmd_open();
	if (b->privcmd < 0 || kd_dm_syndbg(b->privcmd, domid, SYNDBG_DMOP_ATTACH, NULL) < 0)
		die("failed to attach to the debug port of d%u (%s)", domid, strerror(errno));
	b->fres = xenforeignmemory_map_resource(b->fmem, domid, SYNDBG_RESOURCE_TYPE, 0, 0,
						SYNDBG_NR_FRAMES, &addr,
						PROT_READ | PROT_WRITE, 0);
	if (!b->fres)
		die("failed to map the debug port of d%u (%s)", domid, strerror(errno));
	b->sh = addr;
	b->out = (volatile uint8_t *)addr + SYNDBG_OUT_FRAME * SYNDBG_PAGE_SIZE;
	b->in = (volatile uint8_t *)addr + SYNDBG_IN_FRAME * SYNDBG_PAGE_SIZE;
	if (b->sh->magic != SYNDBG_MAGIC || b->sh->ring_size != SYNDBG_RING_SIZE)
		die("the debug port of d%u has magic %#x ring %u", domid, b->sh->magic,
		    b->sh->ring_size);
	b->lport = xenevtchn_bind_interdomain(b->xce, domid, b->sh->evtchn);
	if (b->lport < 0)
		die("failed to bind event channel %u of d%u (%s)", b->sh->evtchn, domid,
		    strerror(errno));
	if (pthread_create(&b->thread, NULL, backend_main, b))
		die("failed to start the debugger thread");
}

static void backend_close(struct backend *b)
{
	atomic_store(&b->stop, true);
	pthread_join(b->thread, NULL);
	kd_dm_syndbg(b->privcmd, b->domid, SYNDBG_DMOP_DETACH, NULL);
	close(b->privcmd);
	xenevtchn_unbind(b->xce, b->lport);
	xenforeignmemory_unmap_resource(b->fmem, b->fres);
	xenevtchn_close(b->xce);
	xenforeignmemory_close(b->fmem);
	xc_interface_close(b->xch);
}

/* ---- the measured paths ---- */

struct result {
	const char *path;
	unsigned int pkt;
	uint64_t out_exits, in_exits, retries;
	double out_kib, in_kib, secs;
};

static void wait_out(struct backend *b, uint64_t pdus)
{
	double end = now_s() + 10;

	while (atomic_load(&b->out_pdus) < pdus)
		if (now_s() > end)
			die("the debugger got %llu of %llu PDUs",
			    (unsigned long long)atomic_load(&b->out_pdus), (unsigned long long)pdus);
		else
			usleep(100);
}

/*
 * With loop, the guest waits in the hypervisor (POST_LOOP, RETRIEVE_LOOP);
 * without, it retries a refused post and polls an empty retrieve.
 */
static void run_hcall(struct guest *g, struct backend *b, unsigned int pkt, uint64_t npkts,
		      bool loop, struct result *r)
{
	static uint8_t in[XENSIM_PAGE_SIZE];
	uint32_t len = pkt + FRAME_HLEN, hdr[2] = { len, loop ? HV_DEBUG_LOOP : 0 };
	uint64_t base = atomic_load(&b->out_pdus), got = 0, e0;
	struct { uint32_t count, options; uint64_t timeout; } rq = {
		4088, loop ? HV_DEBUG_LOOP : 0, loop ? 10000000 : 0 };
	double t0 = now_s();

	/* Guest to debugger: one HvPostDebugData per frame. */
	memcpy(in, hdr, sizeof(hdr));
	memset(in + sizeof(hdr), 0x5a, len);
	e0 = g->exits;
	for (uint64_t i = 0; i < npkts;) {
		int st = guest_exit(g, XENSIM_VCPU_HCALL, HVCALL_POST_DEBUG_DATA, 0, IN_GPA, in,
				    sizeof(hdr) + len, OUT_GPA, NULL);

		if (st == HV_STATUS_SUCCESS)
			i++;
		else if (st == HV_STATUS_INSUFFICIENT_BUFFERS && !loop)
			r->retries++;
		else
			die("HvPostDebugData returned %d", st);
	}
	r->out_exits = g->exits - e0;
	wait_out(b, base + npkts);

	/* Debugger to guest: one HvRetrieveDebugData per frame. */
	atomic_store(&b->in_len, len);
	atomic_store(&b->in_left, npkts);
	xenevtchn_notify(b->xce, b->lport);
	e0 = g->exits;
	while (got < npkts) {
		int st = guest_exit(g, XENSIM_VCPU_HCALL, HVCALL_RETRIEVE_DEBUG_DATA, 0, IN_GPA, &rq,
				    sizeof(rq), OUT_GPA, NULL);
		uint32_t n;

		memcpy(&n, g->page, 4);
		if (st == HV_STATUS_SUCCESS && n == len)
			got++;
		else if (st == HV_STATUS_NO_DATA)
			r->retries++;
		else
			die("HvRetrieveDebugData returned %d with %u bytes", st, n);
	}
	r->in_exits = g->exits - e0;
	r->secs = now_s() - t0;
}

static void run_msr(struct guest *g, struct backend *b, xenforeignmemory_handle *fmem,
		    uint32_t domid, unsigned int pkt, uint64_t npkts, struct result *r)
{
	static uint8_t data[XENSIM_PAGE_SIZE];
	xen_pfn_t pfn = PEND_GFN;
	volatile uint8_t *pending;
	uint64_t base = atomic_load(&b->out_pdus), got = 0, e0;
	double t0 = now_s();
	int err = 0;

	pending = xenforeignmemory_map(fmem, domid, PROT_READ, 1, &pfn, &err);
	if (!pending || err)
		die("failed to map d%u's pending page (%s)", domid, strerror(err ? -err : errno));

	/* Guest to debugger: data into the send page, CONTROL SEND, STATUS. */
	memset(data, 0xa5, pkt);
	e0 = g->exits;
	wrmsr(g, HV_X64_MSR_SYNDBG_SEND_BUFFER, SEND_GPA, 0, NULL, 0);
	for (uint64_t i = 0; i < npkts;) {
		wrmsr(g, HV_X64_MSR_SYNDBG_CONTROL, 1 | (uint64_t)pkt << 16, SEND_GPA, data, pkt);
		if (rdmsr(g, HV_X64_MSR_SYNDBG_STATUS, ~0ull) & 1)
			i++;
		else
			r->retries++;
	}
	r->out_exits = g->exits - e0;
	wait_out(b, base + npkts);

	/* Debugger to guest: poll the pending page, CONTROL RECV, STATUS. */
	e0 = g->exits;
	wrmsr(g, HV_X64_MSR_SYNDBG_RECV_BUFFER, RECV_GPA, 0, NULL, 0);
	wrmsr(g, HV_X64_MSR_SYNDBG_PENDING_BUFFER, PEND_GPA, 0, NULL, 0);
	atomic_store(&b->in_len, pkt);
	atomic_store(&b->in_left, npkts);
	xenevtchn_notify(b->xce, b->lport);
	while (got < npkts) {
		uint64_t st;
		double end = now_s() + 10;

		while (!pending[0])	/* a memory read in the guest: no exit */
			if (now_s() > end)
				die("nothing pending after %llu of %llu PDUs",
				    (unsigned long long)got, (unsigned long long)npkts);
		wrmsr(g, HV_X64_MSR_SYNDBG_CONTROL, 2, 0, NULL, 0);
		st = rdmsr(g, HV_X64_MSR_SYNDBG_STATUS, RECV_GPA);
		if ((st & 4) && (st >> 16 & 0xffff) == pkt)
			got++;
		else
			r->retries++;
	}
	r->in_exits = g->exits - e0;
	r->secs = now_s() - t0;
	xenforeignmemory_unmap(fmem, (void *)pending, 1);
}

/* A minimal 16550: THR/RBR at +0, LSR at +5, a 16-byte receive FIFO. */
struct uart {
	uint8_t fifo[16];
	unsigned int head, count;
	const uint8_t *line;		/* bytes the debugger sends */
	size_t line_len, line_pos;
	uint64_t tx_bytes, tx_sum, exits;
};

#define UART_LSR_DR	0x01
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40

static uint8_t uart_in(struct uart *u, unsigned int reg)
{
	uint8_t v = 0;

	u->exits++;
	/* The host side fills the FIFO as the emulator's chardev would. */
	while (u->count < sizeof(u->fifo) && u->line_pos < u->line_len)
		u->fifo[(u->head + u->count++) % sizeof(u->fifo)] = u->line[u->line_pos++];
	switch (reg) {
	case 0:
		if (u->count) {
			v = u->fifo[u->head];
			u->head = (u->head + 1) % sizeof(u->fifo);
			u->count--;
		}
		break;
	case 5:
		v = UART_LSR_THRE | UART_LSR_TEMT | (u->count ? UART_LSR_DR : 0);
		break;
	}
	return v;
}

static void uart_out(struct uart *u, unsigned int reg, uint8_t v)
{
	u->exits++;
	if (reg == 0) {
		u->tx_bytes++;
		u->tx_sum += v;
	}
}

static void run_uart(size_t bytes, struct result *r)
{
	uint8_t *buf = malloc(bytes);
	struct uart u = { .line = buf, .line_len = bytes };
	uint64_t sum = 0, rsum = 0, e0;
	double t0 = now_s();

	if (!buf)
		die("out of memory");
	for (size_t i = 0; i < bytes; i++) {
		buf[i] = (uint8_t)(i * 13 + 7);
		sum += buf[i];
	}
	for (size_t i = 0; i < bytes; i++) {
		while (!(uart_in(&u, 5) & UART_LSR_THRE))
			;
		uart_out(&u, 0, buf[i]);
	}
	r->out_exits = u.exits;
	e0 = u.exits;
	for (size_t i = 0; i < bytes; i++) {
		while (!(uart_in(&u, 5) & UART_LSR_DR))
			;
		rsum += uart_in(&u, 0);
	}
	r->in_exits = u.exits - e0;
	r->secs = now_s() - t0;
	if (u.tx_bytes != bytes || u.tx_sum != sum || rsum != sum)
		die("the UART lost data");
	free(buf);
}

/* ---- main ---- */

int main(int argc, char **argv)
{
	static const unsigned int pkts[] = { 96, 512, 1400 };
	static const struct option opts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "kib", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct result res[3 * sizeof(pkts) / sizeof(pkts[0]) + 1], *uart;
	unsigned int nres = 0, kib = 256, i;
	uint32_t domid = 0;
	bool json_only = false, have_dom = false;
	struct backend b = { .lport = -1 };
	struct guest g;
	int opt;

	while ((opt = getopt_long(argc, argv, "d:k:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': domid = strtoul(optarg, NULL, 0); have_dom = true; break;
		case 'k': kib = strtoul(optarg, NULL, 0); break;
		case 'j': json_only = true; break;
		default:
			fprintf(opt == 'h' ? stdout : stderr,
				"Usage: syndbg-bench --domain DOMID [--kib N] [--json]\n"
				"Guest exits per KiB through the synthetic debugger's port\n"
				"(hypercalls and SYNDBG MSRs) against a 16550 UART; run in dom0\n"
				"of a simulated host with the syndbg plugin (bench/syndbg/run.sh).\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!have_dom || kib == 0 || kib > 65536)
		die("--domain DOMID is required, --kib between 1 and 65536");

	backend_open(&b, domid);
	guest_open(&g, domid);
	memset(res, 0, sizeof(res));
	for (i = 0; i < sizeof(pkts) / sizeof(pkts[0]); i++) {
		uint64_t n = ((uint64_t)kib * 1024 + pkts[i] - 1) / pkts[i];
		struct result *r = &res[nres++];

		r->path = "hypercall";
		r->pkt = pkts[i];
		r->out_kib = r->in_kib = n * pkts[i] / 1024.0;
		run_hcall(&g, &b, pkts[i], n, true, r);
		r = &res[nres++];
		r->path = "hcall-poll";
		r->pkt = pkts[i];
		r->out_kib = r->in_kib = n * pkts[i] / 1024.0;
		run_hcall(&g, &b, pkts[i], n, false, r);
		r = &res[nres++];
		r->path = "msr";
		r->pkt = pkts[i];
		r->out_kib = r->in_kib = n * pkts[i] / 1024.0;
		run_msr(&g, &b, b.fmem, domid, pkts[i], n, r);
	}
	uart = &res[nres++];
	uart->path = "uart16550";
	uart->pkt = 1;
	uart->out_kib = uart->in_kib = kib;
	run_uart((size_t)kib * 1024, uart);
	backend_close(&b);
	close(g.fd);

	if (!json_only) {
		printf("syndbg-bench: guest exits per KiB of debugger payload, %u KiB each way, d%u\n",
		       kib, domid);
		printf("%-10s %6s %12s %10s %12s %10s %8s %10s %10s\n", "path", "packet",
		       "exits out", "per KiB", "exits in", "per KiB", "retries",
		       "UART/this", "UART/this");
		printf("%-10s %6s %12s %10s %12s %10s %8s %10s %10s\n", "", "bytes", "", "", "",
		       "", "", "out", "in");
		for (i = 0; i < nres; i++) {
			struct result *r = &res[i];
			double po = r->out_exits / r->out_kib, pi = r->in_exits / r->in_kib;

			printf("%-10s %6u %12llu %10.3f %12llu %10.3f %8llu %10.1f %10.1f\n",
			       r->path, r->pkt, (unsigned long long)r->out_exits, po,
			       (unsigned long long)r->in_exits, pi, (unsigned long long)r->retries,
			       (uart->out_exits / uart->out_kib) / po,
			       (uart->in_exits / uart->in_kib) / pi);
		}
		printf("(hypercall packets also carry the %d header bytes of the guest's frames;"
		       " one-time MSR buffer setup is counted)\n", FRAME_HLEN);
	}
	printf("{\"bench\":\"syndbg\",\"kib\":%u,\"results\":[", kib);
	for (i = 0; i < nres; i++) {
		struct result *r = &res[i];
		double po = r->out_exits / r->out_kib, pi = r->in_exits / r->in_kib;

		printf("%s{\"path\":\"%s\",\"packet\":%u,\"exits_out\":%llu,\"exits_in\":%llu,"
		       "\"exits_per_kib_out\":%.4f,\"exits_per_kib_in\":%.4f,\"retries\":%llu,"
		       "\"uart_ratio_out\":%.1f,\"uart_ratio_in\":%.1f,\"seconds\":%.3f}",
		       i ? "," : "", r->path, r->pkt, (unsigned long long)r->out_exits,
		       (unsigned long long)r->in_exits, po, pi, (unsigned long long)r->retries,
		       (uart->out_exits / uart->out_kib) / po,
		       (uart->in_exits / uart->in_kib) / pi, r->secs);
	}
	printf("]}\n");
	return 0;
}
