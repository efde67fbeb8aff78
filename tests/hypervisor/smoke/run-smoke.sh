#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Boot smoke test of the synthetic debugger series on real Xen, nested in
# QEMU (TCG).  Not part of `make check` (it needs root, about 2.5 GB of RAM
# and 5-10 minutes).  It reuses a Xen-under-QEMU harness with the layout of
# the project's shared experiment (00-setup-host.sh, 01-fetch.sh,
# 02-build-initrds.sh, 03-boot.sh, dom0-init.sh, guests/hvm.cfg).
#
# Usage: run-smoke.sh HARNESS_DIR [WORK_DIR] [CACHE_DIR]
#
#  1. builds the patched hypervisor, libxenlight, libxlutil and xl
#     (hypervisor-patches/build-xen.sh --tools);
#  2. fetches Debian's Xen 4.17 packages and kernel and builds the dom0 and
#     guest initramfs with the harness, then replaces xl and libxenlight by
#     the patched ones and adds dom0-syndbg-probe, guest-syndbg-probe.ko,
#     two guest configs (viridian with and without "syndbg") and the
#     dom0-scenario.sh checks;
#  3. boots the patched hypervisor and checks every PASS/FAIL line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
harness=$(cd "${1:?usage: run-smoke.sh HARNESS_DIR [WORK_DIR] [CACHE_DIR]}" && pwd)
export XQ=${2:-/tmp/xenvmbus-smoke}
cache=${3:-${XDG_CACHE_HOME:-$HOME/.cache}/xenvmbus-xen}
mkdir -p "$XQ"

log() { echo "run-smoke.sh: $*" >&2; }

"$top/hypervisor-patches/build-xen.sh" --cache "$cache" --tools >/dev/null
tree=$("$top/hypervisor-patches/build-xen.sh" --cache "$cache" prepare 2>/dev/null)

"$harness/00-setup-host.sh" >/dev/null
"$harness/01-fetch.sh" >/dev/null
kver=$(cat "$XQ/kver")
"$harness/02-build-initrds.sh" >/dev/null

log "building the probes"
[ -d "/usr/src/linux-headers-$kver" ] ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "linux-headers-$kver" >/dev/null
mod=$XQ/smoke-mod; rm -rf "$mod"; mkdir -p "$mod"
cp "$here/guest-syndbg-probe.c" "$mod/"
echo 'obj-m += guest-syndbg-probe.o' >"$mod/Makefile"
make -s -C "/usr/src/linux-headers-$kver" M="$mod" modules >/dev/null
strip --strip-debug "$mod/guest-syndbg-probe.ko"
gcc -std=gnu11 -O2 -Wall -Wextra -I"$tree/tools/include" \
    -o "$XQ/dom0-syndbg-probe" "$here/dom0-syndbg-probe.c" \
    -lxenctrl -lxenforeignmemory -lxenevtchn -lxencall

log "assembling the initramfs"
G=$XQ/guestroot R=$XQ/dom0root
cp "$mod/guest-syndbg-probe.ko" "$G/"
# Run the probe in the syndbg guest, and copy its lines to the console.
awk '/^T=\$\(cut/ {
    print "if grep -q xqguest=hvmdbg /proc/cmdline; then"
    print "  insmod /guest-syndbg-probe.ko || msg \"SYNDBG-GUEST insmod failed\""
    print "  dmesg | grep SYNDBG-GUEST | while read -r l; do msg \"$l\"; done"
    print "fi"
} { print }' "$harness/guest-init.sh" >"$G/init"
chmod +x "$G/init"
(cd "$G" && find . | cpio -o -H newc --quiet | gzip -1 >"$XQ/guest-initrd.cpio.gz")
cp "$XQ/guest-initrd.cpio.gz" "$R/guest/initrd.cpio.gz"

cp "$cache/out/xl" "$R/usr/lib/xen-4.17/bin/xl"
cp "$cache/out/libxenlight.so.4.17.0" "$cache/out/libxlutil.so.4.17.0" \
   "$R/usr/lib/x86_64-linux-gnu/"
cp "$XQ/dom0-syndbg-probe" "$R/usr/bin/"
for n in hvmdbg hvmplain; do
    sed -e "s/^name = \"hvm\"/name = \"$n\"/" -e "s/xqguest=hvm\"/xqguest=$n\"/" \
        "$harness/guests/hvm.cfg" >"$R/etc/xen/tests/$n.cfg"
done
echo 'viridian = ["defaults", "syndbg"]' >>"$R/etc/xen/tests/hvmdbg.cfg"
echo 'viridian = ["defaults"]' >>"$R/etc/xen/tests/hvmplain.cfg"
awk -v f="$here/dom0-scenario.sh" \
    '/^TESTS=\$\(sed/ { while ((getline l < f) > 0) print l } { print }' \
    "$harness/dom0-init.sh" >"$R/init"
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet >"$XQ/dom0-initrd.cpio")

log "booting the patched hypervisor"
out=$XQ/smoke-boot.out
XEN=$cache/out/xen LOG=$XQ/smoke-boot.log TIMEOUT=${TIMEOUT:-900} \
    "$harness/03-boot.sh" hvm >"$out" 2>&1 || true
grep -a 'XQ:' "$out" | sed -n '/SYNDBG scenario/,$p'

pass=$(grep -ac 'XQ: .*PASS' "$out" || true)
failed=$(grep -ac 'XQ: .*FAIL' "$out" || true)
done_=$(grep -ac 'XQ: .*DONE' "$out" || true)
log "$pass passed, $failed failed (full log: $XQ/smoke-boot.log)"
[ "$failed" = 0 ] && [ "$done_" = 1 ] && [ "$pass" -ge 20 ]
