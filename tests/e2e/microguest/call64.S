/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * call64(struct call64 *c): one VMCALL/VMMCALL from 64-bit mode.
 *
 * The Windows debugger transport calls the synthetic debugger from 64-bit
 * mode with a bare VMCALL (RCX input value, RDX input GPA, R8 output GPA),
 * which Xen must tell apart from its own hypercalls by RCX and RAX. The
 * micro-guest runs in 32-bit protected mode without paging, so for that
 * one instruction it enters long mode (PAE, the identity map of the first
 * GiB in call64_pml4, EFER.LME, CR0.PG, a far jump to the 64-bit code
 * segment 0x18) and leaves it again the same way backwards. Interrupts
 * are off throughout; the 32-bit IDT must not be used in long mode, so a
 * fault in between would end the guest (the scenario then reports the
 * missing result lines).
 */

#define MSR_EFER	0xc0000080
#define EFER_LME	0x100
#define CR0_PG		0x80000000
#define CR4_PAE		0x20

	.text
	.code32
	.globl call64
call64:
	pushl	%ebp
	movl	%esp, %ebp
	pushl	%ebx
	pushl	%esi
	pushl	%edi
	movl	8(%ebp), %esi		/* struct call64 * */

	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$call64_pml4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$CR0_PG, %eax
	movl	%eax, %cr0		/* long mode, still 32-bit code */
	ljmp	$0x18, $1f

	.code64
1:	/* Upper register halves are undefined after the switch. */
	movl	%esp, %esp
	movl	%esi, %esi
	pushq	%rsi			/* the struct, across the call */
	movq	0(%rsi), %rcx
	movq	8(%rsi), %rdx
	movq	16(%rsi), %r8
	movq	24(%rsi), %rax
	movl	32(%rsi), %ebx
	xorl	%edi, %edi		/* xen_version(XENVER_version, NULL) */
	xorl	%esi, %esi		/* when RAX makes it a Xen call */
	testl	%ebx, %ebx
	jnz	2f
	vmmcall
	jmp	3f
2:	vmcall
3:	popq	%rsi
	movq	%rax, 24(%rsi)
	/* Back to 32-bit code (compatibility mode), then out of long mode. */
	pushq	$0x08
	leaq	4f(%rip), %rax
	pushq	%rax
	lretq

	.code32
4:	movl	%cr0, %eax
	andl	$~CR0_PG, %eax
	movl	%eax, %cr0
	movl	$MSR_EFER, %ecx
	rdmsr
	andl	$~EFER_LME, %eax
	wrmsr
	movl	%cr4, %eax
	andl	$~CR4_PAE, %eax
	movl	%eax, %cr4
	popl	%edi
	popl	%esi
	popl	%ebx
	popl	%ebp
	ret

	.section .note.GNU-stack, "", @progbits
