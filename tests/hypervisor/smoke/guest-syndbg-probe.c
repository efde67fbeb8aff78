// SPDX-License-Identifier: GPL-2.0-only
/*
 * guest-syndbg-probe: Linux module for the boot smoke test, loaded in an
 * HVM guest created with viridian = ["defaults", "syndbg"].  It checks the
 * CPUID leaves, posts and retrieves debug data with raw VMCALLs (no
 * hypercall page, as Windows' KDNET does), checks timeout expiry and a
 * fast-call misuse, then sends and receives through the SYNDBG MSRs, and
 * finally waits 15 s for data that never comes while dom0 samples the
 * vCPU's time.  The dom0 probe echoes each PDU.  Results go to the kernel log as
 * SYNDBG-GUEST lines.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <asm/processor.h>
#include <asm/msr.h>

static bool amd;

static u64 raw_call(u64 input, u64 in_pa, u64 out_pa)
{
	u64 rax = input; /* RAX = input value: never a Xen hypercall number */
	register u64 r8 asm("r8") = out_pa;

	if (amd)
		asm volatile("vmmcall" : "+a"(rax), "+c"(input), "+d"(in_pa), "+r"(r8) :: "memory");
	else
		asm volatile("vmcall" : "+a"(rax), "+c"(input), "+d"(in_pa), "+r"(r8) :: "memory");
	return rax;
}

static int __init probe_init(void)
{
	u32 a, b, c, d;
	char vendor[13] = {};
	u8 *in = (u8 *)__get_free_page(GFP_KERNEL | __GFP_ZERO);
	u8 *out = (u8 *)__get_free_page(GFP_KERNEL | __GFP_ZERO);
	u8 *sendp = (u8 *)__get_free_page(GFP_KERNEL | __GFP_ZERO);
	u8 *recvp = (u8 *)__get_free_page(GFP_KERNEL | __GFP_ZERO);
	u64 st, status;
	ktime_t t0;
	static const char msg[] = "hello-from-guest-hypercall";
	static const char msg2[] = "hello-from-guest-msr";

	amd = boot_cpu_data.x86_vendor == X86_VENDOR_AMD ||
	      boot_cpu_data.x86_vendor == X86_VENDOR_HYGON;

	cpuid(0x40000000, &a, &b, &c, &d);
	pr_info("SYNDBG-GUEST cpuid 40000000 max=%#x\n", a);
	cpuid(0x40000080, &a, (u32 *)&vendor[0], (u32 *)&vendor[4], (u32 *)&vendor[8]);
	pr_info("SYNDBG-GUEST cpuid 40000080 max=%#x vendor=%s\n", a, vendor);
	cpuid(0x40000081, &a, &b, &c, &d);
	pr_info("SYNDBG-GUEST cpuid 40000081 eax=%.4s\n", (char *)&a);
	cpuid(0x40000082, &a, &b, &c, &d);
	pr_info("SYNDBG-GUEST cpuid 40000082 eax=%#x\n", a);
	cpuid(0x40000003, &a, &b, &c, &d);
	pr_info("SYNDBG-GUEST cpuid 40000003 eax=%#x ebx=%#x edx=%#x debugging=%u debugregs=%u guestdbg=%u dbgmsrs=%u\n",
		a, b, d, !!(b & (1u << 11)), !!(a & (1u << 12)), !!(d & (1u << 1)), !!(d & (1u << 11)));

	if (!in || !out || !sendp || !recvp)
		return -ENOMEM;

	/* HvPostDebugData via raw VMCALL. */
	*(u32 *)in = sizeof(msg) - 1;
	*(u32 *)(in + 4) = 0;
	memcpy(in + 8, msg, sizeof(msg) - 1);
	st = raw_call(0x69, virt_to_phys(in), virt_to_phys(out));
	pr_info("SYNDBG-GUEST post status=%llu pending=%u\n", st & 0xffff, *(u32 *)out);

	/* HvRetrieveDebugData, loop, 5 s timeout: the relay echoes. */
	*(u32 *)in = 4088;
	*(u32 *)(in + 4) = 1;
	*(u64 *)(in + 8) = 50000000ULL;
	t0 = ktime_get();
	st = raw_call(0x6a, virt_to_phys(in), virt_to_phys(out));
	pr_info("SYNDBG-GUEST retrieve status=%llu got=%u remaining=%u data=%.*s after %lld ms\n",
		st & 0xffff, *(u32 *)out, *(u32 *)(out + 4),
		(int)min_t(u32, *(u32 *)out, 64), out + 8,
		ktime_ms_delta(ktime_get(), t0));

	/* Retrieve again with 0.5 s timeout and nothing coming: NO_DATA (27). */
	*(u64 *)(in + 8) = 5000000ULL;
	t0 = ktime_get();
	st = raw_call(0x6a, virt_to_phys(in), virt_to_phys(out));
	pr_info("SYNDBG-GUEST retrieve-timeout status=%llu after %lld ms\n",
		st & 0xffff, ktime_ms_delta(ktime_get(), t0));

	/* Fast-call misuse: INVALID_HYPERCALL_INPUT (3). */
	st = raw_call(0x69 | (1ULL << 16), virt_to_phys(in), virt_to_phys(out));
	pr_info("SYNDBG-GUEST post-fast status=%llu\n", st & 0xffff);

	/* MSR interface: send, then receive the echo. */
	rdmsrl(0x400000FF, status);
	pr_info("SYNDBG-GUEST options=%#llx\n", status);
	wrmsrl(0x400000F3, virt_to_phys(sendp));
	wrmsrl(0x400000F4, virt_to_phys(recvp));
	memcpy(sendp, msg2, sizeof(msg2) - 1);
	wrmsrl(0x400000F1, 1 | ((u64)(sizeof(msg2) - 1) << 16));
	rdmsrl(0x400000F2, status);
	pr_info("SYNDBG-GUEST msr-send status=%#llx\n", status);
	t0 = ktime_get();
	do {
		wrmsrl(0x400000F1, 2);
		rdmsrl(0x400000F2, status);
	} while (!(status & 4) && ktime_ms_delta(ktime_get(), t0) < 5000);
	pr_info("SYNDBG-GUEST msr-recv status=%#llx data=%.*s\n", status,
		(int)min_t(u64, status >> 16 & 0xffff, 64), recvp);
	wrmsrl(0x400000F3, 0);
	wrmsrl(0x400000F4, 0);

	/* A long wait, during which dom0 samples this vCPU's time. */
	*(u32 *)in = 4088;
	*(u32 *)(in + 4) = 1;
	*(u64 *)(in + 8) = 150000000ULL; /* 15 s */
	t0 = ktime_get();
	st = raw_call(0x6a, virt_to_phys(in), virt_to_phys(out));
	pr_info("SYNDBG-GUEST long-wait status=%llu after %lld ms\n",
		st & 0xffff, ktime_ms_delta(ktime_get(), t0));
	pr_info("SYNDBG-GUEST done\n");
	return 0;
}

static void __exit probe_exit(void) { }
module_init(probe_init);
module_exit(probe_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Xen synthetic debugger smoke probe");
