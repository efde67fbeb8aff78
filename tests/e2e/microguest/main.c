/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Micro-guest: a tiny bare-metal HVM test kernel that exercises the
 * Viridian (Hyper-V compatible) interface Xen offers an HVM guest with
 * viridian=1, the way Xen's XTF micro-guests test the hypervisor: no OS in
 * between, every result checked against what the specification says.
 *
 * Results go to the Xen debug console, I/O port 0xe9
 * (XEN_HVM_DEBUGCONS_IOPORT): Xen collects each line and logs it as
 * "(d<N>) <line>" in the hypervisor log (xl dmesg) when Xen runs with
 * guest_loglvl=all. Every line has the form
 *     MICRO: <test> PASS|FAIL|INFO|SKIP <detail>
 * and the last one is "MICRO: DONE pass=<n> fail=<n>". Then the guest
 * powers off with SCHEDOP_shutdown, or triple-faults if that fails (Xen
 * turns a triple fault into a reboot; the test config destroys on both).
 *
 * References: Hyper-V Top Level Functional Specification (TLFS) 6.0b,
 * sections 2.4 (CPUID leaves), 3 (hypercall interface), and appendix
 * "Synthetic debugger" MSRs (0x400000F1-0x400000FF) as used by KDNET.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "micro.h"

#define DEBUGCONS_PORT 0xe9

/* TLFS 2.4: hypervisor CPUID leaves. */
#define HV_CPUID_VENDOR           0x40000000
#define HV_CPUID_INTERFACE        0x40000001
#define HV_CPUID_VERSION          0x40000002
#define HV_CPUID_FEATURES         0x40000003
#define HV_CPUID_SYNDBG_VENDOR    0x40000080
#define HV_CPUID_SYNDBG_INTERFACE 0x40000081
#define HV_CPUID_SYNDBG_FEATURES  0x40000082
#define HV_INTERFACE_HV1          0x31237648 /* "Hv#1" */

/* TLFS 2.4.4: partition privileges, CPUID 0x40000003 EAX. */
#define HV_ACCESS_TIME_REF_COUNT  (1u << 1)
#define HV_ACCESS_HYPERCALL_MSRS  (1u << 5)
#define HV_ACCESS_VP_INDEX        (1u << 6)

/* TLFS 3.13 / appendix: synthetic MSRs. */
#define HV_X64_MSR_GUEST_OS_ID    0x40000000
#define HV_X64_MSR_HYPERCALL      0x40000001
#define HV_X64_MSR_VP_INDEX       0x40000002
#define HV_X64_MSR_TIME_REF_COUNT 0x40000020
#define HV_X64_MSR_SYNDBG_CONTROL        0x400000F1
#define HV_X64_MSR_SYNDBG_STATUS         0x400000F2
#define HV_X64_MSR_SYNDBG_SEND_BUFFER    0x400000F3
#define HV_X64_MSR_SYNDBG_RECV_BUFFER    0x400000F4
#define HV_X64_MSR_SYNDBG_PENDING_BUFFER 0x400000F5
#define HV_X64_MSR_SYNDBG_OPTIONS        0x400000FF

/* TLFS 3.7: hypercall input value; 3.8: result value. */
#define HVCALL_NOTIFY_LONG_SPIN_WAIT 0x0008
#define HV_HYPERCALL_FAST            (1u << 16)
#define HV_STATUS_SUCCESS            0
#define HV_STATUS_INVALID_HYPERCALL_CODE 2

/*
 * Xen tells a Viridian hypercall from its own by bit 31 of EAX, which the
 * TLFS reserves; its hypercall page sets it (xen/arch/x86/hvm/viridian).
 * A raw vmcall/vmmcall has to set it by hand.
 */
#define XEN_VIRIDIAN_HCALL_BIT  0x80000000u
#define XEN_HYPERVISOR_xen_version 17
#define XENVER_version 0
#define XEN_HYPERVISOR_sched_op 29
#define SCHEDOP_shutdown 2
#define SHUTDOWN_poweroff 0


/* Guest OS identity (TLFS 3.13): bit 63 = open source, arbitrary rest. */
#define MICRO_GUEST_OS_ID 0x8000000000e2e001ull

struct trap_frame {
	uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax; /* pushal */
	uint32_t vector, error_code;
	uint32_t eip, cs, eflags;
};

struct idt_entry {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t zero;
	uint8_t type_attr;
	uint16_t offset_hi;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_entry) == 8, "IDT gate is 8 bytes");

struct idt_desc {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

void micro_main(uint32_t mb_magic, uint32_t mb_info);
void trap_handler(struct trap_frame *f);
extern void micro_halt(void) __attribute__((noreturn));
extern const uint32_t exc_stubs[32];

static struct idt_entry idt[32];
uint8_t hypercall_page[4096] __attribute__((aligned(4096)));

/*
 * Fault recovery: an instruction that may fault is preceded by storing
 * its continuation address in fixup_eip; the trap handler resumes there
 * and records the vector in fault_vec.
 */
volatile uint32_t fixup_eip;
static volatile int fault_vec;

static unsigned int n_pass, n_fail;
int cpu_is_intel;

/* ---- console */

void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void putc_dbg(char c)
{
	outb(DEBUGCONS_PORT, (uint8_t)c);
}

static void puts_dbg(const char *s)
{
	while (*s)
		putc_dbg(*s++);
}

static void put_hex(uint64_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	if (digits == 0) {
		for (digits = 1; digits < 16 && (v >> (4 * digits)); digits++)
			;
	}
	for (i = digits - 1; i >= 0; i--)
		putc_dbg(hex[(v >> (4 * i)) & 0xf]);
}

static void put_dec(uint32_t v)
{
	char buf[11];
	int i = 0;

	do {
		buf[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		putc_dbg(buf[--i]);
}

/* A small printf: %s %c %u %d %x %08x (width with 0 pad) and %llx. */
static void vprint(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int width = 0, ll = 0;

		if (*fmt != '%') {
			putc_dbg(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			ll++;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			puts_dbg(va_arg(ap, const char *));
			break;
		case 'c':
			putc_dbg((char)va_arg(ap, int));
			break;
		case 'u':
			put_dec(va_arg(ap, uint32_t));
			break;
		case 'd': {
			int32_t v = va_arg(ap, int32_t);

			if (v < 0) {
				putc_dbg('-');
				v = -v;
			}
			put_dec((uint32_t)v);
			break;
		}
		case 'x':
			if (ll >= 2)
				put_hex(va_arg(ap, uint64_t), width);
			else
				put_hex(va_arg(ap, uint32_t), width);
			break;
		case '%':
			putc_dbg('%');
			break;
		default:
			putc_dbg('?');
			break;
		}
	}
}

void print(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
}

/* One result line: MICRO: <test> PASS|FAIL <detail>. */
void report(const char *test, int ok, const char *fmt, ...)
{
	va_list ap;

	print("MICRO: %s %s ", test, ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
	putc_dbg('\n');
	if (ok)
		n_pass++;
	else
		n_fail++;
}

void info(const char *test, const char *fmt, ...)
{
	va_list ap;

	print("MICRO: %s INFO ", test);
	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
	putc_dbg('\n');
}

/* ---- exceptions */

void trap_handler(struct trap_frame *f)
{
	if (fixup_eip) {
		fault_vec = (int)f->vector;
		f->eip = fixup_eip;
		fixup_eip = 0;
		return;
	}
	const uint8_t *code = (const uint8_t *)(f->eip - 8);
	const uint32_t *stack = (const uint32_t *)(f->esp + 12 + 8);
	unsigned int i;

	print("MICRO: exception FAIL unexpected vector %u error %x at eip %08x\n",
	      f->vector, f->error_code, f->eip);
	/* What the vCPU saw, to tell a bad jump from changed code. */
	print("MICRO: exception INFO eflags %08x eax %08x ebx %08x ecx %08x edx %08x esi %08x edi %08x ebp %08x esp %08x\n",
	      f->eflags, f->eax, f->ebx, f->ecx, f->edx, f->esi, f->edi, f->ebp,
	      f->esp + 12 + 8);
	print("MICRO: exception INFO code at eip-8:");
	for (i = 0; i < 16; i++)
		print(" %02x", code[i]);
	print("\nMICRO: exception INFO stack:");
	for (i = 0; i < 8; i++)
		print(" %08x", stack[i]);
	print("\n");
	print("MICRO: DONE pass=%u fail=%u\n", n_pass, n_fail + 1);
	micro_halt();
}

static void idt_init(void)
{
	struct idt_desc d = { sizeof(idt) - 1, (uint32_t)idt };
	unsigned int i;

	for (i = 0; i < 32; i++) {
		idt[i].offset_lo = exc_stubs[i] & 0xffff;
		idt[i].offset_hi = exc_stubs[i] >> 16;
		idt[i].selector = 0x08;
		idt[i].type_attr = 0x8e; /* present, DPL0, 32-bit interrupt gate */
	}
	asm volatile("lidt %0" : : "m"(d));
}

/* ---- instructions, each returning 0 or -vector */

void cpuid(uint32_t leaf, uint32_t r[4])
{
	asm volatile("cpuid"
		     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
		     : "a"(leaf), "c"(0));
}

int rdmsr_safe(uint32_t msr, uint64_t *val)
{
	uint32_t lo = 0, hi = 0;

	fault_vec = -1;
	asm volatile("movl $1f, fixup_eip\n\t"
		     "rdmsr\n\t"
		     "movl $0, fixup_eip\n"
		     "1:"
		     : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	*val = ((uint64_t)hi << 32) | lo;
	return fault_vec >= 0 ? -fault_vec : 0;
}

int wrmsr_safe(uint32_t msr, uint64_t val)
{
	fault_vec = -1;
	asm volatile("movl $1f, fixup_eip\n\t"
		     "wrmsr\n\t"
		     "movl $0, fixup_eip\n"
		     "1:"
		     : : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
		     : "memory");
	return fault_vec >= 0 ? -fault_vec : 0;
}

/*
 * 32-bit Viridian hypercall (TLFS 3.7): EDX:EAX input value, EBX:ECX input
 * GPA, EDI:ESI output GPA; result value in EDX:EAX.
 */
uint64_t hv_call_page(uint64_t input, uint64_t in_gpa, uint64_t out_gpa)
{
	uint32_t lo = (uint32_t)input, hi = (uint32_t)(input >> 32);

	asm volatile("call *%[page]"
		     : "+a"(lo), "+d"(hi)
		     : [page] "r"(hypercall_page),
		       "b"((uint32_t)(in_gpa >> 32)), "c"((uint32_t)in_gpa),
		       "D"((uint32_t)(out_gpa >> 32)), "S"((uint32_t)out_gpa)
		     : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* Raw vmcall (Intel) or vmmcall (AMD) with EAX..EDI as given. */
static int raw_hypercall(int use_vmmcall, uint32_t *eax, uint32_t *edx,
			 uint32_t ebx, uint32_t ecx)
{
	fault_vec = -1;
	if (use_vmmcall)
		asm volatile("movl $1f, fixup_eip\n\t"
			     "vmmcall\n\t"
			     "movl $0, fixup_eip\n"
			     "1:"
			     : "+a"(*eax), "+d"(*edx), "+b"(ebx), "+c"(ecx)
			     : "D"(0), "S"(0) : "memory");
	else
		asm volatile("movl $1f, fixup_eip\n\t"
			     "vmcall\n\t"
			     "movl $0, fixup_eip\n"
			     "1:"
			     : "+a"(*eax), "+d"(*edx), "+b"(ebx), "+c"(ecx)
			     : "D"(0), "S"(0) : "memory");
	return fault_vec >= 0 ? -fault_vec : 0;
}

void fault_name(int rc, char out[8])
{
	const char *s = rc == -X86_EXC_GP ? "#GP" : rc == -X86_EXC_UD ? "#UD" : "#??";
	int i;

	for (i = 0; s[i]; i++)
		out[i] = s[i];
	out[i] = 0;
}

int regs_eq(const uint32_t r[3], const char *s12)
{
	const char *p = (const char *)r;
	int i;

	for (i = 0; i < 12; i++)
		if (p[i] != s12[i])
			return 0;
	return 1;
}

/* Print 12 register bytes as text, non-printables as '.'. */
void regs_text(const uint32_t r[3], char out[13])
{
	const char *p = (const char *)r;
	int i;

	for (i = 0; i < 12; i++)
		out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '.';
	out[12] = 0;
}

/* ---- tests */

static uint32_t hv_features;

static int test_cpuid(void)
{
	uint32_t r[4], bcd[3];
	char txt[13];
	int viridian;

	cpuid(0, r);
	bcd[0] = r[1]; bcd[1] = r[3]; bcd[2] = r[2];
	cpu_is_intel = regs_eq(bcd, "GenuineIntel");
	regs_text(bcd, txt);
	info("cpu-vendor", "%s (raw hypercall instruction: %s)", txt,
	     cpu_is_intel ? "vmcall" : "vmmcall");

	cpuid(HV_CPUID_VENDOR, r);
	regs_text(&r[1], txt);
	viridian = regs_eq(&r[1], "Microsoft Hv");
	report("cpuid-vendor", viridian && r[0] >= HV_CPUID_FEATURES,
	       "leaf 0x40000000: max=%08x vendor=\"%s\"", r[0], txt);

	cpuid(HV_CPUID_INTERFACE, r);
	report("cpuid-interface", r[0] == HV_INTERFACE_HV1,
	       "leaf 0x40000001: eax=%08x (want %08x \"Hv#1\")", r[0], HV_INTERFACE_HV1);

	cpuid(HV_CPUID_VERSION, r);
	info("cpuid-version", "leaf 0x40000002: build=%u version=%x.%x sp=%u",
	     r[0], r[1] >> 16, r[1] & 0xffff, r[2]);

	cpuid(HV_CPUID_FEATURES, r);
	hv_features = r[0];
	report("cpuid-features", (r[0] & HV_ACCESS_HYPERCALL_MSRS) && (r[0] & HV_ACCESS_VP_INDEX),
	       "leaf 0x40000003: eax=%08x ebx=%08x ecx=%08x edx=%08x",
	       r[0], r[1], r[2], r[3]);

	/* With viridian=1 Xen moves its own leaves up by 0x100. */
	cpuid(0x40000100, r);
	regs_text(&r[1], txt);
	report("cpuid-xen-leaves", regs_eq(&r[1], "XenVMMXenVMM"),
	       "leaf 0x40000100: vendor=\"%s\"", txt);
	return viridian;
}

#ifndef MICRO_SYNDBG
/* The synthetic debugger's CPUID leaves and MSRs: report what is there. */
static void test_syndbg(void)
{
	static const uint32_t msrs[] = {
		HV_X64_MSR_SYNDBG_CONTROL, HV_X64_MSR_SYNDBG_STATUS,
		HV_X64_MSR_SYNDBG_SEND_BUFFER, HV_X64_MSR_SYNDBG_RECV_BUFFER,
		HV_X64_MSR_SYNDBG_PENDING_BUFFER, HV_X64_MSR_SYNDBG_OPTIONS,
	};
	uint32_t r[4], leaf, any = 0;
	char txt[13], f[8];
	unsigned int i, readable = 0;

	for (leaf = HV_CPUID_SYNDBG_VENDOR; leaf <= HV_CPUID_SYNDBG_FEATURES; leaf++) {
		cpuid(leaf, r);
		any |= r[0] | r[1] | r[2] | r[3];
		regs_text(&r[1], txt);
		info("syndbg-cpuid", "leaf %08x: eax=%08x ebx=%08x ecx=%08x edx=%08x \"%s\"",
		     leaf, r[0], r[1], r[2], r[3], txt);
	}
	info("syndbg-leaves", "%s", any ? "present" : "absent");

	for (i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++) {
		uint64_t v;
		int rc = rdmsr_safe(msrs[i], &v);

		if (rc) {
			fault_name(rc, f);
			info("syndbg-msr", "rdmsr %08x: %s", msrs[i], f);
		} else {
			readable++;
			info("syndbg-msr", "rdmsr %08x: %llx", msrs[i], v);
		}
	}
	info("syndbg-msrs", "%s", readable ? "present" : "absent");
}
#endif

static void test_msrs(void)
{
	uint64_t v = ~0ull;
	char f[8];
	int rc;

	rc = rdmsr_safe(HV_X64_MSR_GUEST_OS_ID, &v);
	fault_name(rc, f);
	report("msr-guest-os-id-initial", rc == 0 && v == 0,
	       "rdmsr 0x40000000: %s %llx (want 0 before the guest writes it)",
	       rc ? f : "ok", v);

	rc = wrmsr_safe(HV_X64_MSR_GUEST_OS_ID, MICRO_GUEST_OS_ID);
	if (rc == 0)
		rc = rdmsr_safe(HV_X64_MSR_GUEST_OS_ID, &v);
	fault_name(rc, f);
	report("msr-guest-os-id", rc == 0 && v == MICRO_GUEST_OS_ID,
	       "wrmsr/rdmsr 0x40000000: %s read %llx wrote %llx", rc ? f : "ok",
	       v, MICRO_GUEST_OS_ID);

	rc = rdmsr_safe(HV_X64_MSR_VP_INDEX, &v);
	fault_name(rc, f);
	report("msr-vp-index", rc == 0 && v == 0,
	       "rdmsr 0x40000002: %s %llx (want 0 on the boot vCPU)", rc ? f : "ok", v);

	if (hv_features & HV_ACCESS_TIME_REF_COUNT) {
		uint64_t t1 = 0, t2 = 0;
		volatile unsigned int spin;

		rc = rdmsr_safe(HV_X64_MSR_TIME_REF_COUNT, &t1);
		for (spin = 0; spin < 2000000; spin++)
			;
		if (rc == 0)
			rc = rdmsr_safe(HV_X64_MSR_TIME_REF_COUNT, &t2);
		fault_name(rc, f);
		report("msr-time-ref-count", rc == 0 && t2 > t1,
		       "rdmsr 0x40000020 twice: %s %llx then %llx (100 ns units, must grow)",
		       rc ? f : "ok", t1, t2);
	} else {
		info("msr-time-ref-count", "SKIP: CPUID 0x40000003 does not grant it");
	}

	/* An MSR number no Viridian version defines must #GP. */
	rc = rdmsr_safe(0x400000ee, &v);
	fault_name(rc, f);
	report("msr-undefined", rc == -X86_EXC_GP, "rdmsr 0x400000ee: %s (want #GP)",
	       rc ? f : "no fault");
}

static void test_hypercalls(void)
{
	uint64_t v = 0, status;
	uint32_t gpa = (uint32_t)hypercall_page;
	uint32_t eax, edx;
	char f[8];
	int rc, native_vmmcall = !cpu_is_intel;

	hypercall_page[0] = 0xcc;
	rc = wrmsr_safe(HV_X64_MSR_HYPERCALL, gpa | 1);
	if (rc == 0)
		rc = rdmsr_safe(HV_X64_MSR_HYPERCALL, &v);
	fault_name(rc, f);
	report("msr-hypercall", rc == 0 && v == (gpa | 1),
	       "wrmsr/rdmsr 0x40000001: %s read %llx wrote %x", rc ? f : "ok", v, gpa | 1);
	if (rc)
		return;

	/* Xen writes "orl $0x80000000,%eax; vmcall|vmmcall; ret" (9 bytes). */
	print("MICRO: hypercall-page INFO bytes");
	for (rc = 0; rc < 10; rc++)
		print(" %02x", hypercall_page[rc]);
	print("\n");
	report("hypercall-page", hypercall_page[0] != 0xcc && hypercall_page[8] == 0xc3,
	       "page at %08x filled in by the hypervisor", gpa);
	if (hypercall_page[0] == 0xcc)
		return;

	status = hv_call_page(HVCALL_NOTIFY_LONG_SPIN_WAIT | HV_HYPERCALL_FAST, 0, 0);
	report("hcall-page-spin-wait", (status & 0xffff) == HV_STATUS_SUCCESS,
	       "HvCallNotifyLongSpinWait (fast) via the page: result %llx (want status 0)",
	       status);

	status = hv_call_page(0x0fff | HV_HYPERCALL_FAST, 0, 0);
	report("hcall-page-invalid-code", (status & 0xffff) == HV_STATUS_INVALID_HYPERCALL_CODE,
	       "call code 0x0fff via the page: result %llx (want status 2, invalid code)",
	       status);

	/* The same Viridian call with the vendor's own instruction. */
	eax = XEN_VIRIDIAN_HCALL_BIT | HVCALL_NOTIFY_LONG_SPIN_WAIT | HV_HYPERCALL_FAST;
	edx = 0;
	rc = raw_hypercall(native_vmmcall, &eax, &edx, 0, 0);
	fault_name(rc, f);
	report("hcall-raw-native", rc == 0 && (eax & 0xffff) == HV_STATUS_SUCCESS,
	       "%s with eax=%08x: %s result %x:%08x (want status 0)",
	       native_vmmcall ? "vmmcall" : "vmcall",
	       XEN_VIRIDIAN_HCALL_BIT | HVCALL_NOTIFY_LONG_SPIN_WAIT | HV_HYPERCALL_FAST,
	       rc ? f : "ok", edx, eax);

	/* A Xen hypercall through the same instruction: xen_version. */
	eax = XEN_HYPERVISOR_xen_version;
	edx = 0;
	rc = raw_hypercall(native_vmmcall, &eax, &edx, XENVER_version, 0);
	fault_name(rc, f);
	report("hcall-raw-xen-version", rc == 0 && (eax >> 16) == 4,
	       "%s xen_version(XENVER_version): %s eax=%08x (Xen %u.%u)",
	       native_vmmcall ? "vmmcall" : "vmcall", rc ? f : "ok", eax,
	       eax >> 16, eax & 0xffff);

	/* The other vendor's instruction: Xen emulates it only for a guest
	 * that claims the other vendor, so #UD is expected. Report only. */
	eax = XEN_VIRIDIAN_HCALL_BIT | HVCALL_NOTIFY_LONG_SPIN_WAIT | HV_HYPERCALL_FAST;
	edx = 0;
	rc = raw_hypercall(!native_vmmcall, &eax, &edx, 0, 0);
	fault_name(rc, f);
	info("hcall-raw-foreign", "%s: %s result %x:%08x",
	     native_vmmcall ? "vmcall" : "vmmcall", rc ? f : "no fault", edx, eax);
}

void micro_main(uint32_t mb_magic, uint32_t mb_info)
{
	(void)mb_info;
	idt_init();
	print("MICRO: START entry=%s eax=%08x ebx=%08x\n",
	      mb_magic == 0x2BADB002 ? "multiboot" : "hvm-firmware",
	      mb_magic, mb_info);

	if (test_cpuid()) {
		test_msrs();
		test_hypercalls();
	} else {
		report("viridian", 0, "no Viridian interface (is viridian=1 set?)");
	}
#ifdef MICRO_SYNDBG
	/* The build for the syndbg scenario exercises the debugger (syndbg.c). */
	syndbg_main();
#else
	test_syndbg();
#endif

	print("MICRO: DONE pass=%u fail=%u\n", n_pass, n_fail);

	/* Power off: sched_op(SCHEDOP_shutdown, {SHUTDOWN_poweroff}). */
	{
		static uint32_t reason = SHUTDOWN_poweroff;
		uint32_t eax = XEN_HYPERVISOR_sched_op, edx = 0;

		raw_hypercall(!cpu_is_intel, &eax, &edx, SCHEDOP_shutdown,
			      (uint32_t)&reason);
	}
	/* Still here: triple fault; Xen reboots the domain, xl destroys it. */
	{
		struct idt_desc none = { 0, 0 };

		asm volatile("lidt %0; int3" : : "m"(none));
	}
	micro_halt();
}
