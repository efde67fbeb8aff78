#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# micro-hvm through the normal HVM boot path: hvmloader and SeaBIOS run,
# then QEMU's multiboot option ROM should load the micro-guest as a
# multiboot kernel (xl kernel=). Not in the default list: with Debian's
# qemu-xen 7.2 the option ROM used is multiboot_dma.bin, and the guest spins
# after SeaBIOS prints "Booting from c000:003c" without ever reaching the
# micro-guest (Linux direct boot on the same machine gets the non-DMA
# linuxboot.bin, so fw_cfg DMA looks unavailable to Xen HVM guests).
# micro-hvm loads the same image as firmware instead.
# e2e-timeout: 180
# e2e-default: no

# Separate assignments: busybox sh does not pass "VAR=x . file" on.
MICRO_BOOT=seabios
MICRO_DONE_TIMEOUT=120
. /e2e/scenarios/micro-hvm.sh
