/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What main.c (console, fault recovery, instruction wrappers) offers the
 * other test files of the micro-guest.
 */
#ifndef MICRO_H
#define MICRO_H

#include <stdint.h>

#define X86_EXC_UD 6
#define X86_EXC_GP 13

extern uint8_t hypercall_page[4096];
extern int cpu_is_intel;

void outb(uint16_t port, uint8_t v);
void print(const char *fmt, ...);
void report(const char *test, int ok, const char *fmt, ...);
void info(const char *test, const char *fmt, ...);

void cpuid(uint32_t leaf, uint32_t r[4]);
/* 0, or minus the vector of the fault the instruction raised. */
int rdmsr_safe(uint32_t msr, uint64_t *val);
int wrmsr_safe(uint32_t msr, uint64_t val);
void fault_name(int rc, char out[8]);
int regs_eq(const uint32_t r[3], const char *s12);
void regs_text(const uint32_t r[3], char out[13]);

/* 32-bit Viridian call through the hypercall page; returns the result value. */
uint64_t hv_call_page(uint64_t input, uint64_t in_gpa, uint64_t out_gpa);

/*
 * One VMCALL/VMMCALL in 64-bit mode (head.S): the CPU is switched to long
 * mode around the instruction (identity-mapped first GiB, interrupts off)
 * and back. Registers as the 64-bit Viridian convention has them.
 */
struct call64 {
	uint64_t rcx;		/* in: Viridian input value */
	uint64_t rdx;		/* in: input parameter GPA */
	uint64_t r8;		/* in: output parameter GPA */
	uint64_t rax;		/* in: RAX before the call; out: result */
	uint32_t use_vmcall;	/* in: 1 vmcall (Intel), 0 vmmcall (AMD) */
	uint32_t pad;
};
_Static_assert(sizeof(struct call64) == 40, "head.S uses these offsets");
void call64(struct call64 *c);
extern uint64_t call64_pml4[512];

#ifdef MICRO_SYNDBG
void syndbg_main(void);

/* smp.c: a second vCPU and IPIs between the two. */
#define SMP_IPI_VECTOR 0xf0
/* IPIs each vCPU took, and those taken in the hypercall page. */
extern volatile uint32_t smp_ipis[2];
extern volatile uint32_t smp_ipis_in_call[2];
int smp_has_vcpu1(void);
int32_t smp_start_ap(uint64_t (*now)(void), uint64_t wait_ref);
void smp_ap_run(void (*fn)(void));
int smp_ap_wait(uint64_t (*now)(void), uint64_t wait_ref);
uint32_t smp_apic_id(void);
void smp_send_ipi(uint32_t apic_id);
#endif

#endif
