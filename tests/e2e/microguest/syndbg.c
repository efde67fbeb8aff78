/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The synthetic debugger tests of the micro-guest (the "syndbg" build, see
 * build.sh), run by tests/e2e/scenarios/syndbg.sh on the hypervisor built
 * from hypervisor-patches/.
 *
 * With the group (xl viridian = ["defaults", "syndbg"]) the guest finds the
 * debugger through CPUID 0x40000080-0x40000082 and the privilege and
 * feature bits of 0x40000003, then moves data through the debug port with
 * every interface the series offers: HvPostDebugData (0x69),
 * HvRetrieveDebugData (0x6A) and HvResetDebugSession (0x6B) through the
 * hypercall page, as a bare 32-bit VMCALL/VMMCALL and as a bare 64-bit one
 * (the form the Windows debugger transport uses), and the SYNDBG MSRs. It
 * checks the statuses and MSR faults the patches document, a blocking
 * retrieve, and counts the exits needed to move XFER_KIB KiB each way,
 * compared with a 16550 UART (COM1) fed the same bytes.
 *
 * Without the group the same image checks the refusals: no leaves, no
 * privilege bits, #GP on every SYNDBG MSR, HV_STATUS_INVALID_HYPERCALL_CODE
 * for the debug calls through the page (they do not exist, as before the
 * series), and Xen's own -ENOSYS for a bare VMCALL.
 *
 * The bare VMCALL forms need the opt-in group as well (xl viridian =
 * ["defaults", "syndbg", "syndbg_vmcall"]).
 *
 * Peer contract (tests/e2e/host/syndbg-peer.py, behind xen-kdrelay in dom0):
 *  - every DATA PDU the guest posts is answered by one DATA PDU of the same
 *    length holding the bytes reversed and complemented:
 *    reply[i] = ~msg[len - 1 - i];
 *  - "WAIT <ms>" is answered the same way, but only after <ms> ms;
 *  - "STATS" is answered by "STATS frames=<n> bytes=<n> resets=<n>", the
 *    DATA PDUs, their payload bytes and the RESET records the peer saw
 *    before it; then the peer is done.
 *
 * Lines the scenario waits for (it samples the vCPU time meanwhile):
 * "syndbg-spin-start" (the vCPU spins: its time must grow) and
 * "syndbg-wait-start" (the vCPU waits in HvRetrieveDebugData: it must not).
 */
#include <stddef.h>
#include <stdint.h>

#include "micro.h"

#define HV_CPUID_VENDOR           0x40000000
#define HV_CPUID_FEATURES         0x40000003
#define HV_CPUID_SYNDBG_VENDOR    0x40000080
#define HV_CPUID_SYNDBG_INTERFACE 0x40000081
#define HV_CPUID_SYNDBG_FEATURES  0x40000082
#define HV_SYNDBG_INTERFACE_VS1   0x31235356 /* "VS#1" */

/* Bits patch 0001 sets (TLFS HV_PARTITION_PRIVILEGE_MASK and features). */
#define HV_PRIV_ACCESS_DEBUG_REGS (1u << 12)	/* 0x40000003 EAX */
#define HV_PRIV_DEBUGGING         (1u << 11)	/* 0x40000003 EBX (mask bit 43) */
#define HV_FEAT_GUEST_DEBUGGING   (1u << 1)	/* 0x40000003 EDX */
#define HV_FEAT_DEBUG_MSRS        (1u << 11)	/* 0x40000003 EDX */
#define HV_SYNDBG_ALLOW_KD        (1u << 1)	/* 0x40000082 EAX */

#define MSR_TIME_REF_COUNT        0x40000020
#define MSR_SYNDBG_CONTROL        0x400000F1
#define MSR_SYNDBG_STATUS         0x400000F2
#define MSR_SYNDBG_SEND_BUFFER    0x400000F3
#define MSR_SYNDBG_RECV_BUFFER    0x400000F4
#define MSR_SYNDBG_PENDING_BUFFER 0x400000F5
#define MSR_SYNDBG_OPTIONS        0x400000FF

#define SYNDBG_CONTROL_SEND       (1u << 0)
#define SYNDBG_CONTROL_RECV       (1u << 1)
#define SYNDBG_STATUS_SEND_OK     (1u << 0)
#define SYNDBG_STATUS_RECV_OK     (1u << 2)
#define SYNDBG_OPTION_USE_HCALLS  (1u << 2)

#define HVCALL_POST_DEBUG_DATA     0x0069
#define HVCALL_RETRIEVE_DEBUG_DATA 0x006a
#define HVCALL_RESET_DEBUG_SESSION 0x006b
#define HV_CALL_FAST               (1u << 16)

#define HV_STATUS_SUCCESS                 0
#define HV_STATUS_INVALID_HYPERCALL_CODE  2
#define HV_STATUS_INVALID_HYPERCALL_INPUT 3
#define HV_STATUS_INVALID_ALIGNMENT       4
#define HV_STATUS_INVALID_PARAMETER       5
#define HV_STATUS_ACCESS_DENIED           6
#define HV_STATUS_INSUFFICIENT_BUFFERS    19
#define HV_STATUS_NO_DATA                 27

#define HV_DEBUG_POST_LOOP              (1u << 0)
#define HV_DEBUG_RETRIEVE_LOOP          (1u << 0)
#define HV_DEBUG_RETRIEVE_TEST_ACTIVITY (1u << 1)
#define HV_DEBUG_PURGE_INCOMING         (1u << 0)
#define HV_DEBUG_PURGE_OUTGOING         (1u << 1)

#define HCALL_MAX_DATA  4088		/* a page less the 8-byte header */
#define MSR_MAX_DATA    4096		/* one SYNDBG buffer page */
#define XEN_ENOSYS      38

/* TIME_REF_COUNT runs in 100 ns units. */
#define REF_MS          10000ull
#define REF_S           10000000ull

/* How much data the exit count moves each way (and the UART gets). */
#define XFER_KIB        16
#define XFER_BYTES      (XFER_KIB * 1024u)

#define COM1            0x3f8
#define UART_THR        0
#define UART_IER        1
#define UART_FCR        2
#define UART_LCR        3
#define UART_MCR        4
#define UART_LSR        5
#define UART_SCR        7
#define UART_LSR_THRE   0x20
#define UART_FIFO_SIZE  16

enum hv_path { PATH_PAGE, PATH_RAW32, PATH_RAW64 };
static const char *const path_name[] = { "page", "raw32", "raw64" };

/* Parameter pages of the debug calls, and the SYNDBG MSR buffers. */
static uint8_t hc_in[4096] __attribute__((aligned(4096)));
static uint8_t hc_out[4096] __attribute__((aligned(4096)));
static uint8_t send_page[4096] __attribute__((aligned(4096)));
static uint8_t recv_page[4096] __attribute__((aligned(4096)));
static volatile uint8_t pending_page[4096] __attribute__((aligned(4096)));
static uint8_t msg[4096];
uint64_t call64_pml4[512] __attribute__((aligned(4096)));
static uint64_t call64_pdpt[512] __attribute__((aligned(4096)));
static uint64_t call64_pd[512] __attribute__((aligned(4096)));

/* What the peer must have seen: successful posts, their bytes, resets. */
static uint32_t sent_frames, sent_bytes, sent_resets;
/* Hypervisor entries: counted by the transfers of the exit test. */
static uint32_t n_exits;
/* TIME_REF_COUNT reads of the bounded waits (not part of a transfer). */
static uint32_t n_clock_reads;

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static uint64_t ref_now(void)
{
	uint64_t t = 0;

	n_clock_reads++;
	rdmsr_safe(MSR_TIME_REF_COUNT, &t);
	return t;
}

/* 100 ns units to ms; the intervals measured here fit in 32 bits. */
static uint32_t ref_ms(uint64_t t)
{
	return t >> 32 ? ~0u : (uint32_t)t / (uint32_t)REF_MS;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static void copy(void *dst, const void *src, uint32_t len)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (len--)
		*d++ = *s++;
}

/* A test message: "DATA" then a pattern that depends on seq. */
static void fill_msg(uint8_t *p, uint32_t len, uint32_t seq)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seq * 59 + i * 37 + (i >> 8));
	copy(p, "DATA", len < 4 ? len : 4);
}

/* Index of the first byte of reply that is not the peer's transform, or -1. */
static int32_t reply_mismatch(const uint8_t *m, const uint8_t *reply, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++) {
		uint8_t want = (uint8_t)(0xff - m[len - 1 - i]);

		if (reply[i] != want)
			return (int32_t)i;
	}
	return -1;
}

static uint32_t text(uint8_t *dst, const char *s)
{
	uint32_t n = 0;

	while (s[n]) {
		dst[n] = (uint8_t)s[n];
		n++;
	}
	return n;
}

static uint32_t text_dec(uint8_t *dst, uint32_t v)
{
	char tmp[10];
	uint32_t n = 0, i = 0;

	do {
		tmp[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		dst[n++] = (uint8_t)tmp[--i];
	return n;
}

/* ---- the three ways to make a debug call */

static uint64_t raw32_call(uint32_t input, uint32_t in_gpa, uint32_t out_gpa)
{
	uint32_t eax = input, edx = 0, ebx = 0, ecx = in_gpa, edi = 0, esi = out_gpa;

	/* Registers as the 32-bit Viridian convention; a Xen hypercall
	 * (which this becomes without the group) may clobber its arguments. */
	if (cpu_is_intel)
		asm volatile("vmcall"
			     : "+a"(eax), "+d"(edx), "+b"(ebx), "+c"(ecx), "+D"(edi), "+S"(esi)
			     : : "memory");
	else
		asm volatile("vmmcall"
			     : "+a"(eax), "+d"(edx), "+b"(ebx), "+c"(ecx), "+D"(edi), "+S"(esi)
			     : : "memory");
	return ((uint64_t)edx << 32) | eax;
}

static void call64_setup(void)
{
	uint32_t i;

	for (i = 0; i < 512; i++)
		call64_pd[i] = ((uint64_t)i << 21) | 0x83;	/* 2 MiB, RW, present */
	call64_pdpt[0] = (uint32_t)call64_pd | 0x3;
	call64_pml4[0] = (uint32_t)call64_pdpt | 0x3;
}

/* A 64-bit call; rax is what RAX holds (the input value, as KDNET does). */
static uint64_t raw64_call(uint64_t input, uint64_t rax, uint64_t in_gpa, uint64_t out_gpa)
{
	struct call64 c = {
		.rcx = input, .rdx = in_gpa, .r8 = out_gpa, .rax = rax,
		.use_vmcall = (uint32_t)cpu_is_intel,
	};

	call64(&c);
	return c.rax;
}

static uint32_t hv_call(enum hv_path path, uint64_t input, uint64_t in_gpa, uint64_t out_gpa)
{
	uint64_t r;

	n_exits++;
	switch (path) {
	case PATH_RAW32:
		r = raw32_call((uint32_t)input, (uint32_t)in_gpa, (uint32_t)out_gpa);
		break;
	case PATH_RAW64:
		r = raw64_call(input, input, in_gpa, out_gpa);
		break;
	default:
		r = hv_call_page(input, in_gpa, out_gpa);
		break;
	}
	return (uint32_t)(r & 0xffff);
}

/* HvPostDebugData from msg[0..len): status, *pending = pending_count. */
static uint32_t post(enum hv_path path, const uint8_t *data, uint32_t len,
		     uint32_t options, uint32_t *pending)
{
	uint32_t st;

	put_le32(hc_in, len);
	put_le32(hc_in + 4, options);
	copy(hc_in + 8, data, len <= HCALL_MAX_DATA ? len : HCALL_MAX_DATA);
	put_le32(hc_out, 0xdeadbeef);
	st = hv_call(path, HVCALL_POST_DEBUG_DATA, (uint32_t)hc_in, (uint32_t)hc_out);
	*pending = get_le32(hc_out);
	if (st == HV_STATUS_SUCCESS) {
		sent_frames++;
		sent_bytes += len;
	}
	return st;
}

/* HvRetrieveDebugData: data lands at hc_out + 8. */
static uint32_t retrieve(enum hv_path path, uint32_t count, uint32_t options,
			 uint64_t timeout, uint32_t *got, uint32_t *remaining)
{
	uint32_t st;

	put_le32(hc_in, count);
	put_le32(hc_in + 4, options);
	put_le64(hc_in + 8, timeout);
	put_le32(hc_out, 0xdeadbeef);
	put_le32(hc_out + 4, 0xdeadbeef);
	st = hv_call(path, HVCALL_RETRIEVE_DEBUG_DATA, (uint32_t)hc_in, (uint32_t)hc_out);
	*got = get_le32(hc_out);
	*remaining = get_le32(hc_out + 4);
	return st;
}

/* Wait (spinning on memory only) until the pending page says a PDU waits. */
static int wait_pending(uint32_t seconds)
{
	uint64_t end = ref_now() + seconds * REF_S;
	uint32_t spin = 0;

	while (!pending_page[0]) {
		if ((++spin & 0xfffff) == 0 && ref_now() > end)
			return 0;
	}
	return 1;
}

/* ---- with the group */

static int check_cpuid(void)
{
	uint32_t r[4], f[4], v[4], i[4], c[4];
	char txt[13];
	int ok;

	cpuid(HV_CPUID_VENDOR, r);
	cpuid(HV_CPUID_FEATURES, f);
	cpuid(HV_CPUID_SYNDBG_VENDOR, v);
	cpuid(HV_CPUID_SYNDBG_INTERFACE, i);
	cpuid(HV_CPUID_SYNDBG_FEATURES, c);
	regs_text(&v[1], txt);

	report("syndbg-cpuid-leaves",
	       r[0] == HV_CPUID_SYNDBG_FEATURES && v[0] == HV_CPUID_SYNDBG_FEATURES &&
	       regs_eq(&v[1], "Microsoft VS") && i[0] == HV_SYNDBG_INTERFACE_VS1 &&
	       (c[0] & HV_SYNDBG_ALLOW_KD),
	       "0x40000000 max=%08x; 0x40000080 max=%08x \"%s\"; 0x40000081 eax=%08x; 0x40000082 eax=%08x",
	       r[0], v[0], txt, i[0], c[0]);
	ok = (f[0] & HV_PRIV_ACCESS_DEBUG_REGS) && (f[1] & HV_PRIV_DEBUGGING) &&
	     (f[3] & HV_FEAT_GUEST_DEBUGGING) && (f[3] & HV_FEAT_DEBUG_MSRS);
	report("syndbg-cpuid-privileges", ok,
	       "0x40000003 eax=%08x (AccessDebugRegs bit 12) ebx=%08x (Debugging bit 11) edx=%08x (bits 1, 11)",
	       f[0], f[1], f[3]);
	return regs_eq(&v[1], "Microsoft VS");
}

static void check_msrs(void)
{
	uint64_t v = ~0ull, s = 0, rcv = 0, p = 0;
	int rc1, rc2, rc3, rc4;
	char f[8];

	rc1 = rdmsr_safe(MSR_SYNDBG_OPTIONS, &v);
	report("syndbg-msr-options-default", rc1 == 0 && v == 0,
	       "OPTIONS reads %llx (want 0, the MSR interface)", v);

	rc1 = wrmsr_safe(MSR_SYNDBG_OPTIONS, 1);
	rc2 = wrmsr_safe(MSR_SYNDBG_OPTIONS, 0);
	rc3 = rdmsr_safe(MSR_SYNDBG_OPTIONS, &v);
	rc4 = wrmsr_safe(MSR_SYNDBG_OPTIONS, SYNDBG_OPTION_USE_HCALLS);
	report("syndbg-msr-options-write", rc1 == -X86_EXC_GP && !rc2 && !rc3 && v == 0 && !rc4,
	       "write 1: %d (want #GP), write 0: %d, read back %llx, restore 4: %d", rc1, rc2, v, rc4);

	rc1 = wrmsr_safe(MSR_SYNDBG_SEND_BUFFER, (uint32_t)send_page + 8);
	rc2 = wrmsr_safe(MSR_SYNDBG_SEND_BUFFER, 0x80000000u);
	rc3 = wrmsr_safe(MSR_SYNDBG_CONTROL, 1u << 2);
	report("syndbg-msr-refusals", rc1 == -X86_EXC_GP && rc2 == -X86_EXC_GP && rc3 == -X86_EXC_GP,
	       "SEND_BUFFER unaligned: %d, not RAM (0x80000000): %d, CONTROL reserved bit 2: %d (want -13 #GP each)",
	       rc1, rc2, rc3);

	rc1 = wrmsr_safe(MSR_SYNDBG_SEND_BUFFER, (uint32_t)send_page);
	rc2 = wrmsr_safe(MSR_SYNDBG_RECV_BUFFER, (uint32_t)recv_page);
	rc3 = wrmsr_safe(MSR_SYNDBG_PENDING_BUFFER, (uint32_t)pending_page);
	rdmsr_safe(MSR_SYNDBG_SEND_BUFFER, &s);
	rdmsr_safe(MSR_SYNDBG_RECV_BUFFER, &rcv);
	rc4 = rdmsr_safe(MSR_SYNDBG_PENDING_BUFFER, &p);
	fault_name(rc1 | rc2 | rc3 | rc4, f);
	report("syndbg-msr-buffers",
	       !(rc1 | rc2 | rc3 | rc4) && s == (uint32_t)send_page && rcv == (uint32_t)recv_page &&
	       p == (uint32_t)pending_page,
	       "%s; send %llx recv %llx pending %llx", (rc1 | rc2 | rc3 | rc4) ? f : "ok", s, rcv, p);
}

static void check_reset(void)
{
	uint32_t st, st_fast, st_bad;

	put_le32(hc_in, HV_DEBUG_PURGE_INCOMING | HV_DEBUG_PURGE_OUTGOING);
	put_le32(hc_out, 0xdeadbeef);
	st = hv_call(PATH_PAGE, HVCALL_RESET_DEBUG_SESSION, (uint32_t)hc_in, (uint32_t)hc_out);
	if (st == HV_STATUS_SUCCESS)
		sent_resets++;
	info("syndbg-reset-conn", "host %08x:%u target %08x:%u (what the relay publishes)",
	     get_le32(hc_out), (uint32_t)(hc_out[8] | hc_out[9] << 8), get_le32(hc_out + 4),
	     (uint32_t)(hc_out[10] | hc_out[11] << 8));

	/* Fast form: the options travel in the input GPA register. */
	st_fast = hv_call(PATH_RAW32, HVCALL_RESET_DEBUG_SESSION | HV_CALL_FAST, 0, 0);
	if (st_fast == HV_STATUS_SUCCESS)
		sent_resets++;
	st_bad = hv_call(PATH_PAGE, HVCALL_RESET_DEBUG_SESSION | HV_CALL_FAST, 4, 0);
	report("syndbg-reset", st == 0 && get_le32(hc_out) != 0xdeadbeef && st_fast == 0 &&
	       st_bad == HV_STATUS_INVALID_PARAMETER,
	       "memory form via the page: %u, fast form raw: %u, unknown option 4: %u (want 0, 0, 5)",
	       st, st_fast, st_bad);
}

static void check_statuses(void)
{
	uint32_t a, b, c, d, e, got, rem, st_nd, st_ta, st_to, pending;
	uint64_t t0, dt;

	fill_msg(msg, 64, 0);
	/* Post has no fast form. */
	a = hv_call(PATH_PAGE, HVCALL_POST_DEBUG_DATA | HV_CALL_FAST, 0, 0);
	/* GPAs must be 8-byte aligned. */
	put_le32(hc_in, 16);
	put_le32(hc_in + 4, 0);
	b = hv_call(PATH_PAGE, HVCALL_POST_DEBUG_DATA, (uint32_t)hc_in + 4, (uint32_t)hc_out);
	/* Oversize count, unknown option. */
	c = post(PATH_PAGE, msg, HCALL_MAX_DATA + 1, 0, &pending);
	d = post(PATH_PAGE, msg, 16, 2, &pending);
	/* A rep count (input value bits 43:32) on a simple call. */
	put_le32(hc_in, 16);
	put_le32(hc_in + 4, 0);
	put_le64(hc_in + 8, 0);
	e = hv_call(PATH_PAGE, HVCALL_RETRIEVE_DEBUG_DATA | (1ull << 32), (uint32_t)hc_in,
		    (uint32_t)hc_out);
	report("syndbg-status-refusals",
	       a == HV_STATUS_INVALID_HYPERCALL_INPUT && b == HV_STATUS_INVALID_ALIGNMENT &&
	       c == HV_STATUS_INVALID_PARAMETER && d == HV_STATUS_INVALID_PARAMETER &&
	       e == HV_STATUS_INVALID_HYPERCALL_INPUT,
	       "post fast %u (3), misaligned %u (4), count 4089 %u (5), option 2 %u (5), retrieve rep %u (3)",
	       a, b, c, d, e);

	st_nd = retrieve(PATH_PAGE, HCALL_MAX_DATA, 0, 0, &got, &rem);
	st_ta = retrieve(PATH_PAGE, HCALL_MAX_DATA, HV_DEBUG_RETRIEVE_TEST_ACTIVITY, 0, &got, &rem);
	report("syndbg-no-data", st_nd == HV_STATUS_NO_DATA && st_ta == HV_STATUS_NO_DATA && rem == 0,
	       "retrieve with nothing queued: %u, test activity: %u remaining %u (want 27, 27, 0)",
	       st_nd, st_ta, rem);

	/* 1 s timeout, nothing coming: the vCPU waits, then NO_DATA. */
	t0 = ref_now();
	st_to = retrieve(PATH_PAGE, HCALL_MAX_DATA, HV_DEBUG_RETRIEVE_LOOP, REF_S, &got, &rem);
	dt = ref_now() - t0;
	report("syndbg-retrieve-timeout", st_to == HV_STATUS_NO_DATA && dt >= 95 * REF_S / 100 &&
	       dt < 10 * REF_S,
	       "LOOP with a 1 s timeout: status %u after %u ms (want 27 after about 1000 ms)",
	       st_to, ref_ms(dt));
}

/* Post len bytes one way, retrieve the peer's answer another way. */
static void exchange(const char *test, enum hv_path post_path, enum hv_path get_path,
		     uint32_t len, uint32_t seq)
{
	uint32_t st, pending = ~0u, got = 0, rem = ~0u, st2;
	int32_t bad = -2;
	uint64_t t0, dt;

	fill_msg(msg, len, seq);
	st = post(post_path, msg, len, 0, &pending);
	t0 = ref_now();
	st2 = retrieve(get_path, HCALL_MAX_DATA, HV_DEBUG_RETRIEVE_LOOP, 30 * REF_S, &got, &rem);
	dt = ref_now() - t0;
	if (st2 == HV_STATUS_SUCCESS && got == len)
		bad = reply_mismatch(msg, hc_out + 8, len);
	report(test, st == 0 && pending == 0 && st2 == 0 && got == len && rem == 0 && bad == -1,
	       "post (%s) %u bytes: status %u pending %u; retrieve (%s): status %u got %u remaining %u after %u ms; reply %s",
	       path_name[post_path], len, st, pending, path_name[get_path], st2, got, rem,
	       ref_ms(dt), bad == -1 ? "verified" : "WRONG");
}

/* A PDU delivered over several retrieves, and TEST_ACTIVITY on it. */
static void check_partial(void)
{
	static uint8_t whole[300];
	uint32_t st, pending, got1 = 0, rem1 = 0, got2 = 0, rem2 = 0, ta = 0, rem_ta = 0, st1, st2;
	uint64_t end;
	int32_t bad = -2;

	fill_msg(msg, sizeof(whole), 7);
	st = post(PATH_PAGE, msg, sizeof(whole), 0, &pending);
	/* TEST_ACTIVITY until the answer is there: nothing is consumed. */
	end = ref_now() + 30 * REF_S;
	do {
		ta = retrieve(PATH_PAGE, 0, HV_DEBUG_RETRIEVE_TEST_ACTIVITY, 0, &got1, &rem_ta);
	} while (ta != HV_STATUS_SUCCESS && ref_now() < end);
	st1 = retrieve(PATH_PAGE, 100, 0, 0, &got1, &rem1);
	copy(whole, hc_out + 8, 100);
	st2 = retrieve(PATH_PAGE, HCALL_MAX_DATA, 0, 0, &got2, &rem2);
	copy(whole + 100, hc_out + 8, 200);
	if (!st1 && !st2 && got1 == 100 && got2 == 200)
		bad = reply_mismatch(msg, whole, sizeof(whole));
	report("syndbg-partial-retrieve",
	       st == 0 && ta == 0 && rem_ta == 300 && st1 == 0 && got1 == 100 && rem1 == 200 &&
	       st2 == 0 && got2 == 200 && rem2 == 0 && bad == -1,
	       "300-byte answer: test activity %u remaining %u; count 100: %u got %u rem %u; then %u got %u rem %u; %s",
	       ta, rem_ta, st1, got1, rem1, st2, got2, rem2, bad == -1 ? "verified" : "WRONG");
}

/* The 64-bit rule: RAX < 64 keeps a VMCALL a Xen hypercall. */
static void check_raw64_rule(void)
{
	uint64_t r = raw64_call(HVCALL_RETRIEVE_DEBUG_DATA, 17 /* xen_version */, 0, 0);

	report("syndbg-raw64-xen-rule", (r >> 16) == 4,
	       "64-bit VMCALL with RCX=0x6a and RAX=17: rax=%llx (want Xen's xen_version, 4.x)", r);
}

static uint32_t msr_send(const uint8_t *data, uint32_t len, uint64_t *status)
{
	copy(send_page, data, len);
	*status = ~0ull;
	n_exits += 2;
	if (wrmsr_safe(MSR_SYNDBG_CONTROL, SYNDBG_CONTROL_SEND | ((uint64_t)len << 16)) ||
	    rdmsr_safe(MSR_SYNDBG_STATUS, status))
		return 0;
	if (*status & SYNDBG_STATUS_SEND_OK) {
		sent_frames++;
		sent_bytes += len;
		return 1;
	}
	return 0;
}

static uint32_t msr_recv(uint64_t *status)
{
	*status = ~0ull;
	n_exits += 2;
	if (wrmsr_safe(MSR_SYNDBG_CONTROL, SYNDBG_CONTROL_RECV) ||
	    rdmsr_safe(MSR_SYNDBG_STATUS, status))
		return 0;
	return (*status & SYNDBG_STATUS_RECV_OK) ? (uint32_t)(*status >> 16) & 0xffff : 0;
}

static void check_msr_exchange(void)
{
	uint64_t s1 = 0, s2 = 0;
	uint32_t ok_send, got = 0, len = 512;
	int have, cleared;
	int32_t bad = -2;

	fill_msg(msg, len, 11);
	ok_send = msr_send(msg, len, &s1);
	have = wait_pending(30);
	if (have)
		got = msr_recv(&s2);
	cleared = pending_page[0] == 0;
	if (got == len)
		bad = reply_mismatch(msg, recv_page, len);
	report("syndbg-msr-exchange", ok_send && s1 == SYNDBG_STATUS_SEND_OK && have && got == len &&
	       bad == -1 && cleared,
	       "CONTROL send %u bytes: STATUS %llx; pending byte %s; CONTROL recv: STATUS %llx (size %u); reply %s; pending cleared %s",
	       len, s1, have ? "set" : "never set", s2, got, bad == -1 ? "verified" : "WRONG",
	       cleared ? "yes" : "no");
}

/* The vCPU time the scenario samples: spinning first, then waiting. */
static void check_wait(void)
{
	uint64_t t0, dt, end;
	uint32_t st, pending, got = 0, rem = 0, len;
	volatile uint32_t spin = 0;
	int32_t bad = -2;

	info("syndbg-spin-start", "the vCPU spins for 8 s (its time must grow)");
	end = ref_now() + 8 * REF_S;
	while (ref_now() < end)
		for (spin = 0; spin < 20000; spin++)
			;
	info("syndbg-spin-end", "done");

	len = text(msg, "WAIT ");
	len += text_dec(msg + len, 12000);
	st = post(PATH_PAGE, msg, len, 0, &pending);
	info("syndbg-wait-start", "waiting in HvRetrieveDebugData (LOOP, 60 s timeout); the peer answers after 12 s");
	t0 = ref_now();
	st = st ? st : retrieve(PATH_PAGE, HCALL_MAX_DATA, HV_DEBUG_RETRIEVE_LOOP, 60 * REF_S,
				&got, &rem);
	dt = ref_now() - t0;
	info("syndbg-wait-end", "after %u ms", ref_ms(dt));
	if (st == 0 && got == len)
		bad = reply_mismatch(msg, hc_out + 8, len);
	report("syndbg-blocking-retrieve", st == 0 && got == len && bad == -1 &&
	       dt >= 10 * REF_S && dt < 60 * REF_S,
	       "status %u, %u bytes %s after %u ms (want the answer after about 12000 ms)",
	       st, got, bad == -1 ? "verified" : "WRONG", ref_ms(dt));
}

static void print_milli(const char *what, uint32_t num, uint32_t den)
{
	uint32_t m = num * 1000 / den;

	print("%s%u.%u%u%u", what, m / 1000, m / 100 % 10, m / 10 % 10, m % 10);
}

/* Move XFER_BYTES each way, counting hypervisor entries; then the UART. */
static void check_exits(void)
{
	uint32_t off, len, st, pending, got, rem, seq = 100;
	uint32_t h_out = 0, h_in = 0, h_refused = 0, m_out = 0, m_in = 0, m_refused = 0;
	uint32_t u_out = 0, u_in = 0, u_room = 0, i, x, errors = 0;
	uint64_t t0, t_h, t_m, t_u, s;
	uint8_t lsr;

	/* Hypercalls through the page, 4088 bytes a PDU; the pending page
	 * (plain memory) says when the answer is there. */
	t0 = ref_now();
	for (off = 0; off < XFER_BYTES; off += len, seq++) {
		len = XFER_BYTES - off < HCALL_MAX_DATA ? XFER_BYTES - off : HCALL_MAX_DATA;
		fill_msg(msg, len, seq);
		x = n_exits;
		while ((st = post(PATH_PAGE, msg, len, 0, &pending)) == HV_STATUS_INSUFFICIENT_BUFFERS)
			h_refused++;
		h_out += n_exits - x;
		if (st || !wait_pending(30)) {
			errors++;
			break;
		}
		x = n_exits;
		while ((st = retrieve(PATH_PAGE, HCALL_MAX_DATA, 0, 0, &got, &rem)) == HV_STATUS_NO_DATA)
			;
		h_in += n_exits - x;
		if (st || got != len || rem || reply_mismatch(msg, hc_out + 8, len) != -1) {
			errors++;
			break;
		}
	}
	t_h = ref_now() - t0;

	/* The SYNDBG MSRs, 4096 bytes a PDU: CONTROL then STATUS each way. */
	t0 = ref_now();
	for (off = 0; off < XFER_BYTES && !errors; off += len, seq++) {
		len = XFER_BYTES - off < MSR_MAX_DATA ? XFER_BYTES - off : MSR_MAX_DATA;
		fill_msg(msg, len, seq);
		x = n_exits;
		while (!msr_send(msg, len, &s)) {
			m_refused++;
			if (s != 0 || m_refused > 100000) {
				errors++;
				break;
			}
		}
		m_out += n_exits - x;
		if (errors || !wait_pending(30)) {
			errors++;
			break;
		}
		x = n_exits;
		got = msr_recv(&s);
		m_in += n_exits - x;
		if (got != len || reply_mismatch(msg, recv_page, len) != -1) {
			errors++;
			break;
		}
	}
	t_m = ref_now() - t0;

	report("syndbg-transfer", errors == 0,
	       "%u KiB each way through the hypercalls (%u ms) and the MSRs (%u ms), every answer verified",
	       XFER_KIB, ref_ms(t_h), ref_ms(t_m));
	print("MICRO: syndbg-exits-hcall INFO %u KiB out: %u calls (%u refused), in: %u calls; exits/KiB out ",
	      XFER_KIB, h_out, h_refused, h_in);
	print_milli("", h_out, XFER_KIB);
	print_milli(" in ", h_in, XFER_KIB);
	print("\n");
	print("MICRO: syndbg-exits-msr INFO %u KiB out: %u MSR accesses (%u resends), in: %u; exits/KiB out ",
	      XFER_KIB, m_out, m_refused, m_in);
	print_milli("", m_out, XFER_KIB);
	print_milli(" in ", m_in, XFER_KIB);
	print("\n");

	/* The baseline: a 16550 (COM1) fed the same bytes, as a polling
	 * driver with the FIFO on does it: LSR once per 16 bytes, then 16
	 * writes to THR. Each port access is an exit to the device model. */
	outb(COM1 + UART_SCR, 0x5a);
	if (inb(COM1 + UART_SCR) != 0x5a) {
		info("syndbg-exits-uart", "no 16550 at %x (scratch register does not hold a value)", COM1);
		return;
	}
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, 0x80);
	outb(COM1 + UART_THR, 1);		/* divisor 1: 115200 baud */
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, 0x03);		/* 8N1 */
	outb(COM1 + UART_FCR, 0x07);		/* FIFO on, both cleared */
	outb(COM1 + UART_MCR, 0x03);
	t0 = ref_now();
	for (off = 0, seq = 100; off < XFER_BYTES; off += len, seq++) {
		len = XFER_BYTES - off < HCALL_MAX_DATA ? XFER_BYTES - off : HCALL_MAX_DATA;
		fill_msg(msg, len, seq);
		for (i = 0; i < len; i++) {
			if (!u_room) {
				do {
					lsr = inb(COM1 + UART_LSR);
					u_in++;
				} while (!(lsr & UART_LSR_THRE));
				u_room = UART_FIFO_SIZE;
			}
			outb(COM1 + UART_THR, msg[i]);
			u_out++;
			u_room--;
		}
	}
	t_u = ref_now() - t0;
	print("MICRO: syndbg-exits-uart INFO %u KiB out: %u OUTs to THR + %u INs of LSR in %u ms; exits/KiB ",
	      XFER_KIB, u_out, u_in, ref_ms(t_u));
	print_milli("", u_out + u_in, XFER_KIB);
	print("\n");
	print("MICRO: syndbg-exits INFO per KiB out: hypercalls ");
	print_milli("", h_out, XFER_KIB);
	print_milli(", MSRs ", m_out, XFER_KIB);
	print_milli(", 16550 ", u_out + u_in, XFER_KIB);
	print(" (1 per byte = 1024 without LSR reads); 16550/hypercalls = %u, 16550/MSRs = %u\n",
	      h_out ? (u_out + u_in) / h_out : 0, m_out ? (u_out + u_in) / m_out : 0);
}

/* The peer's own count of what it saw must match ours. */
static void check_stats(void)
{
	static uint8_t want[128];
	uint32_t frames = sent_frames, bytes = sent_bytes, len, n, st, pending, got = 0, rem;
	int same;

	n = text(want, "STATS frames=");
	n += text_dec(want + n, frames);
	n += text(want + n, " bytes=");
	n += text_dec(want + n, bytes);
	n += text(want + n, " resets=");
	n += text_dec(want + n, sent_resets);
	len = text(msg, "STATS");
	st = post(PATH_PAGE, msg, len, 0, &pending);
	if (st == 0)
		st = retrieve(PATH_PAGE, HCALL_MAX_DATA, HV_DEBUG_RETRIEVE_LOOP, 30 * REF_S, &got, &rem);
	same = st == 0 && got == n;
	for (len = 0; same && len < n; len++)
		same = hc_out[8 + len] == want[len];
	hc_out[8 + (got < 200 ? got : 200)] = 0;
	report("syndbg-peer-stats", same, "peer says \"%s\", we sent %u frames, %u bytes, %u resets",
	       st == 0 ? (const char *)hc_out + 8 : "(no answer)", frames, bytes, sent_resets);
}

/* ---- two vCPUs: a waiting vCPU still takes the other one's IPIs */

/* The peer answers the waiter's "WAIT" after this long. */
#define IPI_WAIT_MS     10000u
/* The sender's IPI period, and when it samples the waiter's count. */
#define IPI_PERIOD      (10 * REF_MS)
#define IPI_SAMPLE1     (1 * REF_S)
#define IPI_SAMPLE2     (4 * REF_S)
#define IPI_NONE        0xffffffffu

static struct {
	uint32_t waiter;		/* vCPU 0 or 1 */
	uint32_t target;		/* the waiter's APIC ID */
	volatile uint32_t waiting;	/* the waiter's retrieve is outstanding */
	volatile uint32_t stop;		/* the waiter is done: the sender stops */
	/* the waiter's */
	uint32_t st, len, got, rem, ms;
	int32_t bad;
	/* the sender's */
	uint32_t sent, sent_waiting, loops_waiting, span_ms, sample[2];
} ipi;

/* TIME_REF_COUNT without the fault fixup of rdmsr_safe(), which is not
 * safe on two vCPUs at once (the MSR exists: the suite checked it). */
static uint64_t now_plain(void)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_TIME_REF_COUNT));
	return ((uint64_t)hi << 32) | lo;
}

/*
 * The waiter: post "WAIT <IPI_WAIT_MS>", then HvRetrieveDebugData (LOOP,
 * 60 s timeout) with interrupts enabled, so that the IPIs the other vCPU
 * sends meanwhile are delivered. Ends the sender.
 */
static void ipi_waiter(void)
{
	uint32_t pending;
	uint64_t t0;

	ipi.len = text(msg, "WAIT ");
	ipi.len += text_dec(msg + ipi.len, IPI_WAIT_MS);
	ipi.st = post(PATH_PAGE, msg, ipi.len, 0, &pending);
	t0 = now_plain();
	if (ipi.st == HV_STATUS_SUCCESS) {
		__atomic_store_n(&ipi.waiting, 1, __ATOMIC_SEQ_CST);
		asm volatile("sti" : : : "memory");
		ipi.st = retrieve(PATH_PAGE, HCALL_MAX_DATA, HV_DEBUG_RETRIEVE_LOOP, 60 * REF_S,
				  &ipi.got, &ipi.rem);
		asm volatile("cli" : : : "memory");
		__atomic_store_n(&ipi.waiting, 0, __ATOMIC_SEQ_CST);
	}
	ipi.ms = ref_ms(now_plain() - t0);
	ipi.bad = ipi.st == HV_STATUS_SUCCESS && ipi.got == ipi.len ?
		  reply_mismatch(msg, hc_out + 8, ipi.len) : -2;
	__atomic_store_n(&ipi.stop, 1, __ATOMIC_SEQ_CST);
}

/*
 * The sender: an IPI to the waiter every IPI_PERIOD until the waiter is
 * done (at most 90 s); samples the IPIs the waiter took at its VMCALL 1 s
 * and 4 s into its wait, each only if the wait was still outstanding.
 */
static void ipi_sender(void)
{
	uint64_t t, start = now_plain(), next = 0, w0 = 0, first = 0, last = 0;
	uint32_t n = 0, c;

	while (!__atomic_load_n(&ipi.stop, __ATOMIC_SEQ_CST)) {
		int waiting = __atomic_load_n(&ipi.waiting, __ATOMIC_SEQ_CST);

		t = now_plain();
		if (t - start > 90 * REF_S)
			break;
		if (waiting) {
			ipi.loops_waiting++;
			if (!w0)
				w0 = t;
		}
		if (t >= next) {
			smp_send_ipi(ipi.target);
			ipi.sent++;
			if (waiting) {
				ipi.sent_waiting++;
				if (!first)
					first = t;
				last = t;
			}
			next = t + IPI_PERIOD;
		}
		if (w0 && n < 2 && t - w0 >= (n ? IPI_SAMPLE2 : IPI_SAMPLE1)) {
			c = smp_ipis_in_call[ipi.waiter];
			ipi.sample[n++] = __atomic_load_n(&ipi.waiting, __ATOMIC_SEQ_CST) ? c : IPI_NONE;
		}
	}
	ipi.span_ms = ref_ms(last - first);
}

/* One round: vCPU `waiter` waits, the other one sends. */
static void ipi_round(uint32_t waiter, uint32_t waiter_apic)
{
	static char wname[] = "syndbg-ipi-wait-vcpuN", sname[] = "syndbg-ipi-send-vcpuN";
	uint32_t sender = 1 - waiter, took, in_call, ok_wait, ok_send, done;

	ipi.waiter = waiter;
	ipi.target = waiter_apic;
	ipi.waiting = ipi.stop = 0;
	ipi.st = ipi.got = ipi.rem = ipi.ms = 0;
	ipi.bad = -2;
	ipi.sent = ipi.sent_waiting = ipi.loops_waiting = ipi.span_ms = 0;
	ipi.sample[0] = ipi.sample[1] = IPI_NONE;
	took = smp_ipis[waiter];
	in_call = smp_ipis_in_call[waiter];

	info("syndbg-ipi-wait-start", "vCPU%u waits in HvRetrieveDebugData (the peer answers after %u ms), vCPU%u sends it an IPI every 10 ms",
	     waiter, IPI_WAIT_MS, sender);
	if (waiter == 0) {
		smp_ap_run(ipi_sender);
		ipi_waiter();
	} else {
		smp_ap_run(ipi_waiter);
		ipi_sender();
	}
	done = smp_ap_wait(now_plain, 100 * REF_S);
	took = smp_ipis[waiter] - took;
	in_call = smp_ipis_in_call[waiter] - in_call;
	info("syndbg-ipi-wait-end", "vCPU%u back after %u ms", waiter, ipi.ms);

	/* (1) The waiter took IPIs while its call was outstanding (the count
	 * grew between the two samples, both taken during the wait) and the
	 * call then returned the peer's answer. */
	ok_wait = done && ipi.st == HV_STATUS_SUCCESS && ipi.got == ipi.len && ipi.bad == -1 &&
		  ipi.ms >= IPI_WAIT_MS - 1000 && ipi.ms < 60000 &&
		  in_call >= 5 && ipi.sample[0] != IPI_NONE && ipi.sample[1] != IPI_NONE &&
		  ipi.sample[1] > ipi.sample[0];
	wname[sizeof(wname) - 2] = (char)('0' + waiter);
	report(wname, ok_wait,
	       "retrieve status %u, %u bytes %s after %u ms; IPIs taken %u, %u of them at the VMCALL of the outstanding call (%u at 1 s, %u at 4 s into the wait)",
	       ipi.st, ipi.got, ipi.bad == -1 ? "verified" : "WRONG", ipi.ms, took, in_call,
	       ipi.sample[0], ipi.sample[1]);

	/* (2) The sender kept running all along the wait. */
	ok_send = done && ipi.sent_waiting >= 5 && ipi.span_ms + 2000 >= ipi.ms &&
		  ipi.loops_waiting > ipi.sent_waiting;
	sname[sizeof(sname) - 2] = (char)('0' + sender);
	report(sname, ok_send,
	       "sent %u IPIs, %u during the wait, over %u ms of it; %u loop turns during the wait%s",
	       ipi.sent, ipi.sent_waiting, ipi.span_ms, ipi.loops_waiting,
	       done ? "" : "; the AP did not finish within 100 s");
}

/* The 2-vCPU guest: start vCPU1, then each vCPU waits in turn. */
static void check_ipis(void)
{
	int32_t ap;
	uint32_t bsp = smp_apic_id();

	wrmsr_safe(MSR_SYNDBG_OPTIONS, SYNDBG_OPTION_USE_HCALLS);
	ap = smp_start_ap(now_plain, 10 * REF_S);
	report("syndbg-ipi-ap", ap >= 0, "vCPU1 %s (APIC ID %d; vCPU0 has %u)",
	       ap >= 0 ? "started with INIT-SIPI-SIPI" : "did not come up within 10 s", ap, bsp);
	if (ap < 0)
		return;
	ipi_round(0, bsp);
	ipi_round(1, (uint32_t)ap);
}

static void with_group(void)
{
	if (!check_cpuid())
		return;
	if (smp_has_vcpu1()) {
		check_ipis();
		return;
	}
	call64_setup();
	check_msrs();
	check_reset();
	check_statuses();
	exchange("syndbg-exchange-page", PATH_PAGE, PATH_PAGE, 200, 1);
	check_partial();
	exchange("syndbg-exchange-raw32", PATH_RAW32, PATH_RAW32, 1000, 2);
	exchange("syndbg-exchange-raw64", PATH_RAW64, PATH_RAW64, HCALL_MAX_DATA, 3);
	exchange("syndbg-exchange-mixed", PATH_RAW64, PATH_PAGE, 77, 4);
	check_raw64_rule();
	check_msr_exchange();
	check_wait();
	check_exits();
	check_stats();
	info("syndbg-clock-reads", "%u TIME_REF_COUNT reads for timeouts and timing (not counted as transfer exits)",
	     n_clock_reads);
}

/* ---- without the group: the documented refusals */

static void without_group(void)
{
	static const uint32_t msrs[] = {
		MSR_SYNDBG_CONTROL, MSR_SYNDBG_STATUS, MSR_SYNDBG_SEND_BUFFER,
		MSR_SYNDBG_RECV_BUFFER, MSR_SYNDBG_PENDING_BUFFER, MSR_SYNDBG_OPTIONS,
	};
	uint32_t r[4], f[4], leaf, any = 0, i, gp = 0, st[4];
	uint64_t v, raw32, raw64;

	cpuid(HV_CPUID_VENDOR, r);
	cpuid(HV_CPUID_FEATURES, f);
	for (leaf = HV_CPUID_SYNDBG_VENDOR; leaf <= HV_CPUID_SYNDBG_FEATURES; leaf++) {
		uint32_t l[4];

		cpuid(leaf, l);
		any |= l[0] | l[1] | l[2] | l[3];
	}
	report("nosyndbg-cpuid", r[0] < HV_CPUID_SYNDBG_VENDOR && !any &&
	       !(f[0] & HV_PRIV_ACCESS_DEBUG_REGS) && !(f[1] & HV_PRIV_DEBUGGING) &&
	       !(f[3] & (HV_FEAT_GUEST_DEBUGGING | HV_FEAT_DEBUG_MSRS)),
	       "max leaf %08x, leaves 0x40000080-82 %s, 0x40000003 eax=%08x ebx=%08x edx=%08x (no debug bits)",
	       r[0], any ? "PRESENT" : "zero", f[0], f[1], f[3]);

	for (i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++) {
		gp += rdmsr_safe(msrs[i], &v) == -X86_EXC_GP;
		gp += wrmsr_safe(msrs[i], 0) == -X86_EXC_GP;
	}
	report("nosyndbg-msrs", gp == 12, "%u of 12 reads and writes of the SYNDBG MSRs raised #GP", gp);

	put_le32(hc_in, 16);
	put_le32(hc_in + 4, 0);
	put_le64(hc_in + 8, 0);
	st[0] = hv_call(PATH_PAGE, HVCALL_POST_DEBUG_DATA, (uint32_t)hc_in, (uint32_t)hc_out);
	st[1] = hv_call(PATH_PAGE, HVCALL_RETRIEVE_DEBUG_DATA, (uint32_t)hc_in, (uint32_t)hc_out);
	st[2] = hv_call(PATH_PAGE, HVCALL_RESET_DEBUG_SESSION, (uint32_t)hc_in, (uint32_t)hc_out);
	st[3] = hv_call(PATH_PAGE, HVCALL_RESET_DEBUG_SESSION | HV_CALL_FAST, 0, 0);
	report("nosyndbg-hcall-page", st[0] == HV_STATUS_INVALID_HYPERCALL_CODE &&
	       st[1] == HV_STATUS_INVALID_HYPERCALL_CODE &&
	       st[2] == HV_STATUS_INVALID_HYPERCALL_CODE &&
	       st[3] == HV_STATUS_INVALID_HYPERCALL_CODE,
	       "post %u, retrieve %u, reset %u, fast reset %u through the page (want 2, INVALID_HYPERCALL_CODE)",
	       st[0], st[1], st[2], st[3]);

	/* Without the group a bare VMCALL stays a Xen hypercall (no 0x69). */
	raw32 = raw32_call(HVCALL_RETRIEVE_DEBUG_DATA, (uint32_t)hc_in, (uint32_t)hc_out);
	call64_setup();
	raw64 = raw64_call(HVCALL_RETRIEVE_DEBUG_DATA, HVCALL_RETRIEVE_DEBUG_DATA,
			   (uint32_t)hc_in, (uint32_t)hc_out);
	report("nosyndbg-hcall-raw", (uint32_t)raw32 == (uint32_t)-XEN_ENOSYS &&
	       raw64 == (uint64_t)-XEN_ENOSYS,
	       "bare 32-bit call 0x6a: eax=%x, bare 64-bit call: rax=%llx (want -ENOSYS from Xen, -38)",
	       (uint32_t)raw32, raw64);
}

void syndbg_main(void)
{
	uint32_t v[4];

	cpuid(HV_CPUID_SYNDBG_VENDOR, v);
	info("syndbg-mode", "%s", regs_eq(&v[1], "Microsoft VS") ?
	     "the synthetic debugger is offered: exercising it" :
	     "no synthetic debugger: checking the refusals");
	if (regs_eq(&v[1], "Microsoft VS"))
		with_group();
	else
		without_group();
}
