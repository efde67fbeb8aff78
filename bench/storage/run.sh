#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/storage/run.sh - the storage VSP through a user-mode storvsc in a
# simulated guest against raw io_uring from dom0 on the same file, in one
# run: 4 KiB random reads and writes with 32 in flight, 1 MiB sequential
# reads and writes with 4 in flight, both O_DIRECT on a file of the build
# tree's file system.  Each measurement runs in --rounds chunks alternating
# with its baseline's, so that the host's drift weighs on both; the table
# gives the medians and the ratio, then one JSON line.
#
# Usage (as root, from a build tree or with top_builddir pointing at one):
#   bench/storage/run.sh [--secs N] [--rounds N] [--mib N] [--json]
#     --secs    seconds of each chunk (default 2)
#     --rounds  chunks of each side (default 3)
#     --mib     size of the file (default 256)
#     --json    only the JSON line
# STORBENCH_DIR picks the directory of the file (default: the build tree).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${top_builddir:-}" ]; then
	top=$(cd "$top_builddir" && pwd)
elif [ -x ./xensim/xensim ] && [ -x ./bench/storage/storbench ]; then
	top=$(pwd)
else
	top=$(cd "$here/../.." && pwd)
fi
X="$top/xensim/xensim"
BENCH="$top/bench/storage/storbench"
[ -x "$BENCH" ] || { echo "run.sh: no storbench at $BENCH (build first)" >&2; exit 1; }

secs=2 rounds=3 mib=256 json_only=
while [ $# -gt 0 ]; do
	case $1 in
	--secs) secs=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--mib) mib=$2; shift 2 ;;
	--json) json_only=1; shift ;;
	*) echo "usage: $0 [--secs N] [--rounds N] [--mib N] [--json]" >&2; exit 2 ;;
	esac
done

run=$(mktemp -d /tmp/storbench.XXXXXX)
dir=$(mktemp -d "${STORBENCH_DIR:-$top}/storbench-disk.XXXXXX")
file=$dir/disk.img
export XENSIM_RUNDIR="$run"
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null || true
	"$X" host stop >/dev/null 2>&1 || true
	rm -rf "$run" "$dir"
}
trap cleanup EXIT

"$BENCH" fill "$file" "$mib"
"$X" host start >/dev/null
g=$("$X" create --name storbench --memory 64)
fe=/local/domain/$g/device/vmbus/0 be=/local/domain/0/backend/vmbus/$g/0
"$X" run 0 -- xenstore-write "$fe/backend" "$be" "$fe/backend-id" 0 \
	"$fe/state" 1 "$be/frontend" "$fe" "$be/frontend-id" "$g" "$be/state" 1
"$X" run 0 -- xenstore-chmod -r "$fe" "n$g" r0
"$X" run 0 -- xenstore-chmod -r "$be" n0 "r$g"
"$X" run 0 -- "$BENCH" server "$g" "$file" > "$run/server.out" 2>&1 &
server=$!
for _ in $(seq 50); do grep -q serving "$run/server.out" && break; sleep 0.1; done

# rate OUTPUT: ops/s and MB/s of one chunk.
rate() { awk '{ printf "%.1f %.1f\n", $2 / $6, $4 / $6 / 1e6 }' <<<"$1"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

modes="randread4k randwrite4k seqread1m seqwrite1m"
declare -A vsp_iops raw_iops vsp_mbs raw_mbs
for m in $modes; do
	vi= ri= vm= rm=
	for _ in $(seq "$rounds"); do
		out=$("$X" run 0 -- "$BENCH" raw "$file" "$m" "$secs")
		read -r a b <<<"$(rate "$out")"; ri="$ri $a"; rm="$rm $b"
		out=$("$X" run "$g" -- "$BENCH" vsp "$m" "$secs")
		read -r a b <<<"$(rate "$out")"; vi="$vi $a"; vm="$vm $b"
	done
	raw_iops[$m]=$(tr ' ' '\n' <<<"$ri" | grep . | median)
	vsp_iops[$m]=$(tr ' ' '\n' <<<"$vi" | grep . | median)
	raw_mbs[$m]=$(tr ' ' '\n' <<<"$rm" | grep . | median)
	vsp_mbs[$m]=$(tr ' ' '\n' <<<"$vm" | grep . | median)
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
if [ -z "$json_only" ]; then
	printf '%-12s %12s %12s %10s %10s %7s\n' mode "vsp IOPS" "raw IOPS" \
		"vsp MB/s" "raw MB/s" ratio
	for m in $modes; do
		printf '%-12s %12s %12s %10s %10s %7s\n' "$m" "${vsp_iops[$m]}" \
			"${raw_iops[$m]}" "${vsp_mbs[$m]}" "${raw_mbs[$m]}" \
			"$(ratio "${vsp_iops[$m]}" "${raw_iops[$m]}")"
	done
	echo "($rounds chunks of ${secs}s per side, medians; file ${mib} MiB, O_DIRECT; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
fi
printf '{"bench":"storage","secs":%s,"rounds":%s,"mib":%s' "$secs" "$rounds" "$mib"
for m in $modes; do
	printf ',"%s":{"vsp_iops":%s,"raw_iops":%s,"vsp_mbs":%s,"raw_mbs":%s,"ratio":%s}' \
		"$m" "${vsp_iops[$m]}" "${raw_iops[$m]}" "${vsp_mbs[$m]}" \
		"${raw_mbs[$m]}" "$(ratio "${vsp_iops[$m]}" "${raw_iops[$m]}")"
done
printf '}\n'
