#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the libFuzzer targets with clang and run each for a bounded time.
# Prints executions and crashes per target; exits non-zero if any target
# crashed (or failed to build).  Before fuzzing, each target replays the
# inputs of fuzz/regressions/<target>/ (crashes found and fixed since); a
# regression input that fails fails the run.
#
# usage: fuzz/run-fuzzers.sh [seconds-per-target] [target...]
#   targets: ring msg gpadl xfer bus kdframe ic storvsp netvsp (default: all)
#     ring, msg, gpadl, xfer: the parsers of lib/vmbus and libvmbus
#     bus: libvmbus's servers (with vmbusd's pipe service) against two
#          hostile guests, and its client against a hostile server;
#          stateful, over the in-memory Xen of fuzz/fake-xen.c
#     kdframe: xen-kdrelay's parser of guest frames
#     ic: the integration service messages a guest writes (lib/vmbus/ic.c)
#     storvsp: the storage VSP's request path (VSTOR packets, grant lists,
#          CDBs) over the in-memory Xen's grants and io_uring on memfds
#     netvsp: the network VSP's NVSP and RNDIS parsing (sections, page
#          buffers, per-packet infos, receive completions, tap frames)
# environment: CLANG (default clang), FUZZ_BUILD (default fuzz/build under
#   the build directory or $TMPDIR), FUZZ_JOBS (parallel jobs, default 1)
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-ring msg gpadl xfer bus kdframe ic storvsp netvsp}
CLANG=${CLANG:-clang}
build=${FUZZ_BUILD:-${TMPDIR:-/tmp}/xenvmbus-fuzz}
jobs=${FUZZ_JOBS:-1}

if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "run-fuzzers: $CLANG not found" >&2
	exit 77
fi

mkdir -p "$build" || exit 1
# What configure's config.h says that matters here.
printf '#define _GNU_SOURCE 1\n' >"$build/config.h"
cflags="-std=gnu11 -g -O1 -fno-omit-frame-pointer -I$build -I$top/include -I$top/lib"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
core="$top/lib/vmbus/ring.c $top/lib/vmbus/gpadl.c $top/lib/vmbus/trans.c $top/lib/vmbus/msg.c $top/lib/vmbus/ic.c $top/lib/vmbus/guid.c"
lib="$top/lib/libvmbus"
libvmbus="$lib/util.c $lib/xs.c $lib/conn.c $lib/chan.c $lib/gpadl.c $lib/xfer-pkt.c $lib/xfer.c $lib/client.c $lib/server.c $lib/server-p2p.c"
# Known library bugs the bus target reports instead of faulting on, until
# they are fixed (then remove the flag: the target faults on them again).
#   -DFUZZ_BUS_TOLERATE_HELD_UNMAP: a transfer page set unmapped while
#     the service still used a packet in it; fixed, its input is replayed
#     from fuzz/regressions/bus/.
bus_known=

# shellcheck disable=SC2086
if ! "$CLANG" $cflags -o "$build/gen-seeds" "$here/gen-seeds.c" $core; then
	echo "run-fuzzers: failed to build gen-seeds" >&2
	exit 1
fi
"$build/gen-seeds" "$build/seeds" || exit 1

# The in-memory Xen of the stateful targets, built once and without
# coverage: its own branches would only mislead the fuzzer.
fake_xen_built=
fake_xen() {
	[ -n "$fake_xen_built" ] && return 0
	# shellcheck disable=SC2086
	if ! "$CLANG" $cflags $san -c -o "$build/fake-xen.o" "$here/fake-xen.c"; then
		echo "run-fuzzers: failed to build fake-xen.o" >&2
		return 1
	fi
	fake_xen_built=1
}

status=0
for t in $targets; do
	bin="$build/fuzz-$t"
	# Targets beyond the core: the files they exercise.
	extra=
	srcs=$core
	case $t in
	xfer)
		extra="-I$lib $lib/xfer-pkt.c" ;;
	bus)
		if ! fake_xen; then status=1; continue; fi
		extra="-I$lib -I$top/dom0-backends/vmbusd -I$top/util $bus_known"
		extra="$extra $build/fake-xen.o $libvmbus $top/dom0-backends/vmbusd/pipe.c" ;;
	kdframe)
		srcs=
		extra="-I$top/dom0-backends/kdrelay $top/dom0-backends/kdrelay/kd-frame.c" ;;
	storvsp)
		if ! fake_xen; then status=1; continue; fi
		sv="$top/dom0-backends/storvsp"
		extra="-I$lib -I$sv $build/fake-xen.o $libvmbus $sv/scsi.c $sv/vsp.c -luring" ;;
	netvsp)
		if ! fake_xen; then status=1; continue; fi
		nd="$top/dom0-backends/netvsp"
		extra="-I$lib -I$nd $build/fake-xen.o $libvmbus $nd/vsp.c $nd/tap.c" ;;
	esac
	# shellcheck disable=SC2086
	if ! "$CLANG" $cflags -fsanitize=fuzzer $san -o "$bin" \
		"$here/fuzz-$t.c" $srcs $extra; then
		echo "run-fuzzers: failed to build fuzz-$t" >&2
		status=1
		continue
	fi
	corpus="$build/corpus-$t"
	art="$build/artifacts-$t/"
	mkdir -p "$corpus" "$art"
	log="$build/fuzz-$t.log"
	reg="$here/regressions/$t"
	if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
		if ! "$bin" -runs=1 "$reg"/* >"$build/regressions-$t.log" 2>&1; then
			echo "run-fuzzers: fuzz-$t fails a regression input; log" \
				"$build/regressions-$t.log" >&2
			grep -m 20 -E 'Running:|ERROR|SUMMARY|runtime error' \
				"$build/regressions-$t.log" >&2
			status=1
			continue
		fi
	fi
	mkdir -p "$build/seeds/$t"
	"$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -jobs="$jobs" -workers="$jobs" \
		-artifact_prefix="$art" "$corpus" "$build/seeds/$t" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s+=$1} END {print s+0}')
	crashes=$(find "$art" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | awk '{print $2}')
	printf 'fuzz-%s: %s s, %s executions, coverage %s, %s crashes (exit %s)\n' \
		"$t" "$secs" "$execs" "${cov:-?}" "$crashes" "$rc"
	# What a known bug's flag turned from a fault into a report.
	grep -m 1 '^fuzz-bus: ' "$log"
	if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
		status=1
		echo "run-fuzzers: fuzz-$t failed; log $log, artifacts in $art" >&2
		grep -m 20 -E 'ERROR|SUMMARY|runtime error' "$log" >&2
	fi
done
exit $status
