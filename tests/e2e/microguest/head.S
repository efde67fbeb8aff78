/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Entry and exception stubs of the micro-guest.
 *
 * The image is entered in 32-bit flat protected mode with paging off,
 * either as an HVM guest's firmware (xl firmware="...", where hvmloader
 * would normally run) or by a multiboot loader (QEMU -kernel, or xl
 * kernel="..." through SeaBIOS). Both give a flat 4 GiB code segment;
 * the stub loads its own GDT and IDT so neither path's tables are needed.
 */

#define MULTIBOOT_MAGIC 0x1BADB002
#define MULTIBOOT_FLAGS 0

	.section .multiboot, "a"
	.align 4
	.long MULTIBOOT_MAGIC
	.long MULTIBOOT_FLAGS
	.long -(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)

	.text
	.globl _start
_start:
	cli
	cld
	lgdt	gdt_desc
	ljmp	$0x08, $1f
1:	movl	$0x10, %ecx
	movl	%ecx, %ds
	movl	%ecx, %es
	movl	%ecx, %ss
	movl	%ecx, %fs
	movl	%ecx, %gs
	movl	$stack_top, %esp
	/* Zero .bss: a multiboot loader need not. Keep eax/ebx. */
	movl	%eax, %edx
	movl	$__bss_start, %edi
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	xorl	%eax, %eax
	rep stosb
	pushl	%ebx		/* multiboot info, if any */
	pushl	%edx		/* multiboot magic, if any */
	call	micro_main
	.globl micro_halt
micro_halt:
	cli
	hlt
	jmp	micro_halt

/*
 * One stub per exception vector. The CPU pushes an error code for some
 * vectors only; the others push a zero so trap_frame has one layout.
 */
.macro EXC vec
exc_\vec:
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushl	$0
	.endif
	pushl	$\vec
	jmp	exc_common
.endm

	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	EXC \v
	.endr

exc_common:
	pushal
	pushl	%esp		/* struct trap_frame * */
	call	trap_handler
	addl	$4, %esp
	popal
	addl	$8, %esp	/* vector, error code */
	iretl

	.section .rodata
	.globl exc_stubs
	.align 4
exc_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long exc_\v
	.endr

	.align 8
gdt:
	.quad 0				/* null */
	.quad 0x00cf9b000000ffff	/* 0x08: flat 32-bit code */
	.quad 0x00cf93000000ffff	/* 0x10: flat data */
	.quad 0x00af9b000000ffff	/* 0x18: 64-bit code (call64.S) */
gdt_desc:
	.word gdt_desc - gdt - 1
	.long gdt

	.bss
	.align 16
	.space 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
