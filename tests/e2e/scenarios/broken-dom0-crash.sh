#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Deliberately broken, not in the default list: crash dom0's kernel. The
# host side must notice (Xen runs with noreboot, so QEMU keeps running),
# kill QEMU, print the console tail and run any remaining scenarios in a
# fresh boot. Proves the hang/crash path of tests/e2e/run.
# e2e-timeout: 30
# e2e-default: no
. /e2e/lib.sh

echo 1 >/proc/sys/kernel/sysrq
echo c >/proc/sysrq-trigger
sleep 60
e2e_fail "dom0 survived a sysrq crash"
