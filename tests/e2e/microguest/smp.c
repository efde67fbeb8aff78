/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A second vCPU and inter-processor interrupts for the micro-guest (the
 * syndbg build): enough to show that a vCPU waiting in Xen still takes
 * the interrupts another vCPU sends it.
 *
 * The micro-guest runs as an HVM guest's firmware, so there is no
 * hvmloader, ACPI or MP table: the number of vCPUs comes from Xen
 * (VCPUOP_is_up on vCPU 1: -ENOENT when the guest has one), and the
 * second vCPU is started as hvmloader's smp.c does it: a real-mode
 * trampoline copied below 1 MiB, INIT-SIPI-SIPI through the emulated
 * local APIC (xAPIC at 0xfee00000; Xen gives vCPU n APIC ID 2n).
 *
 * Each vCPU gets its own 256-entry IDT: the exception stubs of head.S,
 * the IPI vector (SMP_IPI_VECTOR), whose handler counts the interrupt and
 * whether it was taken at an instruction of the hypercall page (that is,
 * while a hypercall made through the page was outstanding: Xen returns to
 * the guest with the instruction pointer still on the VMCALL to deliver
 * it, and the call is made again after the IRET), and the spurious
 * vector.
 */
#include <stdint.h>

#include "micro.h"

#define LAPIC_BASE	0xfee00000u
#define LAPIC_ID	0x020
#define LAPIC_EOI	0x0b0
#define LAPIC_SVR	0x0f0
#define LAPIC_ICR_LO	0x300
#define LAPIC_ICR_HI	0x310
#define LAPIC_SVR_ENABLE	(1u << 8)
#define LAPIC_ICR_BUSY		(1u << 12)
#define LAPIC_ICR_ASSERT	(1u << 14)
#define LAPIC_DM_FIXED		0x000
#define LAPIC_DM_INIT		0x500
#define LAPIC_DM_STARTUP	0x600
#define SPURIOUS_VECTOR		0xff

/* Where the AP's real-mode trampoline goes (SIPI vector 0x08). */
#define AP_BOOT_ADDR	0x8000u

#define XEN_HYPERVISOR_vcpu_op	24
#define VCPUOP_is_up		3
#define XEN_ENOENT		2

struct smp_idt_entry {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t zero;
	uint8_t type_attr;
	uint16_t offset_hi;
} __attribute__((packed));

struct smp_idt_desc {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

extern const uint32_t exc_stubs[32];
extern const char ap_tramp_start[], ap_tramp_end[];
void ap_entry32(void);
void ap_main(void);
void smp_ipi_entry0(void);
void smp_ipi_entry1(void);
void smp_spurious_entry(void);

volatile uint32_t smp_ipis[2];
volatile uint32_t smp_ipis_in_call[2];

static struct smp_idt_entry smp_idt[2][256] __attribute__((aligned(8)));
static volatile uint32_t ap_alive, ap_apic_id;
static void (*volatile ap_fn)(void);
static volatile uint32_t ap_busy;

/*
 * The trampoline (copied to AP_BOOT_ADDR, entered in real mode with
 * CS = AP_BOOT_ADDR >> 4): load the GDT below, enter protected mode, jump
 * to ap_entry32 in the image. The IPI handlers: count, note whether the
 * interrupted instruction is in the hypercall page, EOI, return.
 */
asm(
	"	.text\n"
	"	.code16\n"
	"	.globl ap_tramp_start, ap_tramp_end\n"
	"ap_tramp_start:\n"
	"	cli\n"
	"	movw	%cs, %ax\n"
	"	movw	%ax, %ds\n"
	"	lgdtl	ap_tramp_gdtr - ap_tramp_start\n"
	"	movl	%cr0, %eax\n"
	"	orl	$1, %eax\n"
	"	movl	%eax, %cr0\n"
	"	ljmpl	$0x08, $ap_entry32\n"
	"ap_tramp_gdtr:\n"
	"	.word	ap_gdt_end - ap_gdt - 1\n"
	"	.long	ap_gdt\n"
	"ap_tramp_end:\n"
	"	.code32\n"
	"	.globl ap_entry32\n"
	"ap_entry32:\n"
	"	movl	$0x10, %eax\n"
	"	movl	%eax, %ds\n"
	"	movl	%eax, %es\n"
	"	movl	%eax, %ss\n"
	"	movl	%eax, %fs\n"
	"	movl	%eax, %gs\n"
	"	movl	$ap_stack_top, %esp\n"
	"	call	ap_main\n"
	"1:	cli\n"
	"	hlt\n"
	"	jmp	1b\n"
	"\n"
	".macro SMP_IPI cpu\n"
	"	.globl smp_ipi_entry\\cpu\n"
	"smp_ipi_entry\\cpu:\n"
	"	pushl	%eax\n"
	"	lock incl smp_ipis + 4 * \\cpu\n"
	"	movl	4(%esp), %eax\n"		/* the interrupted EIP */
	"	subl	$hypercall_page, %eax\n"
	"	cmpl	$4096, %eax\n"
	"	jae	1f\n"
	"	lock incl smp_ipis_in_call + 4 * \\cpu\n"
	"1:	movl	$0, 0xfee000b0\n"		/* EOI */
	"	popl	%eax\n"
	"	iretl\n"
	".endm\n"
	"	SMP_IPI 0\n"
	"	SMP_IPI 1\n"
	"	.globl smp_spurious_entry\n"
	"smp_spurious_entry:\n"
	"	iretl\n"
	"\n"
	"	.section .rodata\n"
	"	.align 8\n"
	"ap_gdt:\n"
	"	.quad 0\n"
	"	.quad 0x00cf9b000000ffff\n"		/* 0x08: flat 32-bit code */
	"	.quad 0x00cf93000000ffff\n"		/* 0x10: flat data */
	"ap_gdt_end:\n"
	"	.bss\n"
	"	.align 16\n"
	"	.space 8192\n"
	"ap_stack_top:\n"
	"	.text\n");

static uint32_t lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(LAPIC_BASE + reg);
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(LAPIC_BASE + reg) = v;
}

uint32_t smp_apic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

static void lapic_wait_icr(void)
{
	while (lapic_read(LAPIC_ICR_LO) & LAPIC_ICR_BUSY)
		asm volatile("pause");
}

static void lapic_icr(uint32_t apic_id, uint32_t lo)
{
	lapic_wait_icr();
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, lo);
	lapic_wait_icr();
}

void smp_send_ipi(uint32_t apic_id)
{
	lapic_icr(apic_id, LAPIC_ICR_ASSERT | LAPIC_DM_FIXED | SMP_IPI_VECTOR);
}

static void set_gate(struct smp_idt_entry *e, uint32_t handler)
{
	e->offset_lo = handler & 0xffff;
	e->offset_hi = handler >> 16;
	e->selector = 0x08;
	e->zero = 0;
	e->type_attr = 0x8e;	/* present, DPL0, 32-bit interrupt gate */
}

/* This vCPU's IDT (cpu 0 or 1) and a software-enabled local APIC. */
static void cpu_setup(unsigned int cpu)
{
	struct smp_idt_desc d = { sizeof(smp_idt[cpu]) - 1, (uint32_t)smp_idt[cpu] };
	unsigned int i;

	for (i = 0; i < 32; i++)
		set_gate(&smp_idt[cpu][i], exc_stubs[i]);
	set_gate(&smp_idt[cpu][SMP_IPI_VECTOR],
		 cpu ? (uint32_t)smp_ipi_entry1 : (uint32_t)smp_ipi_entry0);
	set_gate(&smp_idt[cpu][SPURIOUS_VECTOR], (uint32_t)smp_spurious_entry);
	asm volatile("lidt %0" : : "m"(d));
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | SPURIOUS_VECTOR);
}

/* Xen's vcpu_op(VCPUOP_is_up, 1): 0 or 1 if vCPU 1 exists, -ENOENT if not. */
int smp_has_vcpu1(void)
{
	uint32_t eax = XEN_HYPERVISOR_vcpu_op, ebx = VCPUOP_is_up, ecx = 1, edx = 0;

	if (cpu_is_intel)
		asm volatile("vmcall" : "+a"(eax), "+b"(ebx), "+c"(ecx), "+d"(edx) : : "memory");
	else
		asm volatile("vmmcall" : "+a"(eax), "+b"(ebx), "+c"(ecx), "+d"(edx) : : "memory");
	return eax != (uint32_t)-XEN_ENOENT;
}

/* The AP: set up, say so, then run what the BSP hands it. */
void ap_main(void)
{
	cpu_setup(1);
	ap_apic_id = smp_apic_id();
	__atomic_store_n(&ap_alive, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		void (*fn)(void) = ap_fn;

		if (!fn) {
			asm volatile("pause");
			continue;
		}
		fn();
		ap_fn = 0;
		__atomic_store_n(&ap_busy, 0, __ATOMIC_SEQ_CST);
	}
}

/*
 * Start vCPU 1; wait_ref (TIME_REF_COUNT units) bounds the wait for it.
 * Returns its APIC ID, or -1 when it did not come up.
 */
int32_t smp_start_ap(uint64_t (*now)(void), uint64_t wait_ref)
{
	const uint32_t target = 2;	/* Xen: vCPU 1 has APIC ID 2 */
	uint8_t *dst = (uint8_t *)AP_BOOT_ADDR;
	const char *s;
	uint64_t end;

	for (s = ap_tramp_start; s < ap_tramp_end; s++)
		*dst++ = (uint8_t)*s;
	cpu_setup(0);
	lapic_icr(target, LAPIC_ICR_ASSERT | LAPIC_DM_INIT);
	lapic_icr(target, LAPIC_DM_STARTUP | (AP_BOOT_ADDR >> 12));
	lapic_icr(target, LAPIC_DM_STARTUP | (AP_BOOT_ADDR >> 12));
	end = now() + wait_ref;
	while (!__atomic_load_n(&ap_alive, __ATOMIC_SEQ_CST))
		if (now() > end)
			return -1;
	return (int32_t)ap_apic_id;
}

/* Run fn on the AP; smp_ap_wait() then waits for it to return. */
void smp_ap_run(void (*fn)(void))
{
	__atomic_store_n(&ap_busy, 1, __ATOMIC_SEQ_CST);
	ap_fn = fn;
}

int smp_ap_wait(uint64_t (*now)(void), uint64_t wait_ref)
{
	uint64_t end = now() + wait_ref;

	while (__atomic_load_n(&ap_busy, __ATOMIC_SEQ_CST))
		if (now() > end)
			return 0;
	return 1;
}
