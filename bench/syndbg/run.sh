#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/syndbg/run.sh - guest exits per KiB of debugger traffic through the
# synthetic debugger's debug port, on the simulated Xen whose hypervisor
# side is the patched Xen code (viridian/syndbg.c, debugport.c from the
# patched tree, compiled into the plugin xensimd loads), against a 16550
# UART baseline measured in the same run.  Prints a table and one JSON line.
#
# Usage (as root, from a build tree or with top_builddir pointing at one):
#   bench/syndbg/run.sh [--kib N] [--json]
#     --kib   payload sent each way per path and packet size (default 256)
#     --json  only the JSON line
# The patched tree comes from hypervisor-patches/build-xen.sh prepare
# (cache: $HV_XEN_CACHE, default the build tree's hypervisor-patches/xen-cache).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
if [ -n "${top_builddir:-}" ]; then
	top=$(cd "$top_builddir" && pwd)
elif [ -x ./xensim/xensim ] && [ -x ./bench/syndbg/syndbg-bench ]; then
	top=$(pwd)
else
	top=$src
fi
X="$top/xensim/xensim"
BENCH="$top/bench/syndbg/syndbg-bench"
[ -x "$BENCH" ] && [ -x "$X" ] || { echo "run.sh: no syndbg-bench or xensim under $top (build first)" >&2; exit 1; }

run=$(mktemp -d /tmp/syndbg-bench.XXXXXX)
export XENSIM_RUNDIR="$run"
cleanup() {
	"$X" host stop >/dev/null 2>&1 || true
	rm -rf "$run"
}
trap cleanup EXIT

cache=${HV_XEN_CACHE:-$top/hypervisor-patches/xen-cache}
tree=$("$src/hypervisor-patches/build-xen.sh" --cache "$cache" prepare 2>"$run/prepare.log") || {
	echo "run.sh: cannot fetch or patch Debian's xen source: $(tail -n 1 "$run/prepare.log")" >&2
	exit 1
}
V=$tree/xen/arch/x86/hvm/viridian
${HV_CC:-cc} -std=gnu11 -O2 -fPIC -shared -fvisibility=hidden -w \
	-include "$src/xensim/syndbg/env.h" -I"$src/tests/hypervisor/stub/include" \
	-I"$src/xensim/syndbg" -I"$tree/xen/include" -I"$tree/xen/arch/x86/include" -I"$V" \
	"$V/syndbg.c" "$V/debugport.c" "$src/xensim/syndbg/env.c" -o "$run/syndbg-plugin.so"
XENSIM_SYNDBG_PLUGIN="$run/syndbg-plugin.so" "$X" host start >/dev/null
dom=$("$X" create --hvm --name syndbg-bench --memory 32)
"$X" run 0 -- "$BENCH" --domain "$dom" "$@"
"$X" destroy --wait "$dom" >/dev/null
