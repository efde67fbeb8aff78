#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the micro-guest: build.sh OUTPUT [syndbg]. A freestanding 32-bit
# ELF; needs only gcc and binutils (no 32-bit libc: nothing from libc or
# libgcc is linked). Used by tests/e2e/local.mk and, when no prebuilt image
# is given, by tests/e2e/run.
#
# "syndbg" builds the image of the syndbg scenario: the same tests, then
# the synthetic debugger ones of syndbg.c (with the 64-bit call thunk of
# call64.S and the second vCPU of smp.c) instead of the presence report.
set -eu
src=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTPUT [syndbg]}
mode=${2:-}
case $mode in
'') extra= ;;
syndbg) extra="-DMICRO_SYNDBG $src/syndbg.c $src/smp.c $src/call64.S" ;;
*) echo "build.sh: unknown image '$mode' (want nothing or syndbg)" >&2; exit 2 ;;
esac
trap 'rm -f "$out.tmp"' EXIT
# shellcheck disable=SC2086
${CC:-cc} -std=gnu11 -m32 -march=i686 -O2 -g0 -Wall -Wextra \
	-ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-fno-asynchronous-unwind-tables -mgeneral-regs-only \
	-nostdlib -static -no-pie \
	-Wl,-T,"$src/microguest.ld" -Wl,--build-id=none \
	-Wl,--no-warn-rwx-segments -Wl,-z,noexecstack \
	-o "$out.tmp" "$src/head.S" "$src/main.c" $extra
mv "$out.tmp" "$out"
