#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the libFuzzer targets of lib/vmbus with clang and run each for a
# bounded time.  Prints executions and crashes per target; exits non-zero
# if any target crashed (or failed to build).
#
# usage: fuzz/run-fuzzers.sh [seconds-per-target] [target...]
#   targets: ring msg gpadl xfer (default: all)
# environment: CLANG (default clang), FUZZ_BUILD (default fuzz/build under
#   the build directory or $TMPDIR), FUZZ_JOBS (parallel jobs, default 1)
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-ring msg gpadl xfer}
CLANG=${CLANG:-clang}
build=${FUZZ_BUILD:-${TMPDIR:-/tmp}/xenvmbus-fuzz}
jobs=${FUZZ_JOBS:-1}

if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "run-fuzzers: $CLANG not found" >&2
	exit 77
fi

mkdir -p "$build" || exit 1
cflags="-std=gnu11 -g -O1 -fno-omit-frame-pointer -I$top/include -I$top/lib"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
core="$top/lib/vmbus/ring.c $top/lib/vmbus/gpadl.c $top/lib/vmbus/trans.c $top/lib/vmbus/msg.c"

# shellcheck disable=SC2086
if ! "$CLANG" $cflags -o "$build/gen-seeds" "$here/gen-seeds.c" $core; then
	echo "run-fuzzers: failed to build gen-seeds" >&2
	exit 1
fi
"$build/gen-seeds" "$build/seeds" || exit 1

status=0
for t in $targets; do
	bin="$build/fuzz-$t"
	# Targets beyond the core: the libvmbus file they exercise.
	extra=
	[ "$t" = xfer ] && extra="-I$top/lib/libvmbus $top/lib/libvmbus/xfer-pkt.c"
	# shellcheck disable=SC2086
	if ! "$CLANG" $cflags -fsanitize=fuzzer $san -o "$bin" \
		"$here/fuzz-$t.c" $core $extra; then
		echo "run-fuzzers: failed to build fuzz-$t" >&2
		status=1
		continue
	fi
	corpus="$build/corpus-$t"
	art="$build/artifacts-$t/"
	mkdir -p "$corpus" "$art"
	log="$build/fuzz-$t.log"
	"$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -jobs="$jobs" -workers="$jobs" \
		-artifact_prefix="$art" "$corpus" "$build/seeds/$t" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s+=$1} END {print s+0}')
	crashes=$(find "$art" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | awk '{print $2}')
	printf 'fuzz-%s: %s s, %s executions, coverage %s, %s crashes (exit %s)\n' \
		"$t" "$secs" "$execs" "${cov:-?}" "$crashes" "$rc"
	if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
		status=1
		echo "run-fuzzers: fuzz-$t failed; log $log, artifacts in $art" >&2
		grep -m 20 -E 'ERROR|SUMMARY|runtime error' "$log" >&2
	fi
done
exit $status
