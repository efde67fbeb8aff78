#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# micro-hvm through the normal HVM boot path, the one Windows guests take:
# hvmloader and SeaBIOS run, then QEMU's multiboot option ROM loads the
# micro-guest as a multiboot kernel (xl kernel=).
#
# Debian's qemu-xen 7.2 always picks multiboot_dma.bin for a multiboot
# kernel, but fw_cfg DMA does not work for Xen HVM guests (Linux direct boot
# gets the port-I/O linuxboot.bin): the guest then spins in the option ROM
# after "Booting from c000:003c". For this scenario the port-I/O
# multiboot.bin stands in under the DMA name.
# e2e-timeout: 180
# e2e-default: yes
# e2e-order: 31
. /e2e/lib.sh

rom=/usr/share/qemu
cp $rom/multiboot_dma.bin /tmp/multiboot_dma.bin.orig &&
	cp $rom/multiboot.bin $rom/multiboot_dma.bin ||
	e2e_fail "replacing $rom/multiboot_dma.bin with multiboot.bin failed"
trap 'cp /tmp/multiboot_dma.bin.orig $rom/multiboot_dma.bin' EXIT

# Separate assignments: busybox sh does not pass "VAR=x . file" on.
MICRO_BOOT=seabios
MICRO_DONE_TIMEOUT=120
. /e2e/scenarios/micro-hvm.sh
