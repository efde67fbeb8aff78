#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# micro-hvm through the normal HVM boot path: hvmloader, SeaBIOS and QEMU's
# multiboot option ROM load the micro-guest as a multiboot kernel
# (xl kernel=). Slower (SeaBIOS under TCG), hence not in the default list.
# e2e-timeout: 300
# e2e-default: no
# Separate assignments: busybox sh does not pass "VAR=x . file" on.
MICRO_BOOT=seabios
MICRO_DONE_TIMEOUT=240
. /e2e/scenarios/micro-hvm.sh
