#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/net/run.sh - the network VSP through a user-mode netvsc in a
# simulated guest against raw tap reads and writes from dom0, in one run:
# frames of 64 B (packets/s), 1500 B and 64 KiB (throughput; 64 KiB ones
# as LSO, a virtio-net GSO header on the raw side) from the guest to the
# tap, and 64 B and 1500 B frames from dom0's side to the guest.  The
# VSP's tap and the raw taps live in a network namespace the script makes;
# frames to dom0 go to a MAC nobody has, so that dom0's stack drops them
# at once.  Each measurement runs in --rounds chunks alternating with its
# baseline's; the table gives the medians and the ratio, then one JSON line.
#
# Usage (as root, from a build tree or with top_builddir pointing at one):
#   bench/net/run.sh [--secs N] [--rounds N] [--json]
# Exits 77 when it cannot make a network namespace.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${top_builddir:-}" ]; then
	top=$(cd "$top_builddir" && pwd)
elif [ -x ./xensim/xensim ] && [ -x ./bench/net/netbench ]; then
	top=$(pwd)
else
	top=$(cd "$here/../.." && pwd)
fi
X="$top/xensim/xensim"
BENCH="$top/bench/net/netbench"
[ -x "$BENCH" ] || { echo "run.sh: no netbench at $BENCH (build first)" >&2; exit 1; }

secs=2 rounds=3 json_only=
while [ $# -gt 0 ]; do
	case $1 in
	--secs) secs=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--json) json_only=1; shift ;;
	*) echo "usage: $0 [--secs N] [--rounds N] [--json]" >&2; exit 2 ;;
	esac
done

ns=netbench$$
ip netns add "$ns" 2>/dev/null || exit 77
N="ip netns exec $ns"
run=$(mktemp -d /tmp/netbench.XXXXXX)
export XENSIM_RUNDIR="$run"
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null || true
	"$X" host stop >/dev/null 2>&1 || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$run"
}
trap cleanup EXIT

"$X" host start >/dev/null
g=$("$X" create --name netbench --memory 64)
fe=/local/domain/$g/device/vmbus/0 be=/local/domain/0/backend/vmbus/$g/0
"$X" run 0 -- xenstore-write "$fe/backend" "$be" "$fe/backend-id" 0 \
	"$fe/state" 1 "$be/frontend" "$fe" "$be/frontend-id" "$g" "$be/state" 1
"$X" run 0 -- xenstore-chmod -r "$fe" "n$g" r0
"$X" run 0 -- xenstore-chmod -r "$be" n0 "r$g"
$N "$X" run 0 -- "$BENCH" server "$g" --tap nb0 > "$run/server.out" 2>&1 &
server=$!
for _ in $(seq 50); do grep -q serving "$run/server.out" && break; sleep 0.1; done

# rate OUTPUT: packets/s and Mb/s of one chunk.
rate() { awk '{ printf "%.0f %.1f\n", $2 / $6, $4 * 8 / $6 / 1e6 }' <<<"$1"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

vsp_rx() {	# SIZE
	"$X" run "$g" -- "$BENCH" vsp-rx "$secs" > "$run/rx.out" 2>&1 &
	local c=$!
	for _ in $(seq 100); do grep -q ready "$run/rx.out" && break; sleep 0.1; done
	$N "$BENCH" inject nb0 "$1" "$((secs + 2))" &
	local i=$!
	wait $c
	kill $i 2>/dev/null; wait $i 2>/dev/null || true
	grep frames "$run/rx.out"
}

modes="tx64 tx1500 tx64k rx64 rx1500"
declare -A size=([tx64]=64 [tx1500]=1514 [tx64k]=65549 [rx64]=64 [rx1500]=1514)
declare -A vsp_pps raw_pps vsp_mbs raw_mbs
for m in $modes; do
	vp= rp= vm= rm=
	for _ in $(seq "$rounds"); do
		if [ "${m#tx}" != "$m" ]; then
			out=$($N "$BENCH" raw-tx "${size[$m]}" "$secs")
			read -r a b <<<"$(rate "$out")"; rp="$rp $a"; rm="$rm $b"
			out=$("$X" run "$g" -- "$BENCH" vsp-tx "${size[$m]}" "$secs")
		else
			out=$($N "$BENCH" raw-rx "${size[$m]}" "$secs")
			read -r a b <<<"$(rate "$out")"; rp="$rp $a"; rm="$rm $b"
			out=$(vsp_rx "${size[$m]}")
		fi
		read -r a b <<<"$(rate "$out")"; vp="$vp $a"; vm="$vm $b"
	done
	raw_pps[$m]=$(tr ' ' '\n' <<<"$rp" | grep . | median)
	vsp_pps[$m]=$(tr ' ' '\n' <<<"$vp" | grep . | median)
	raw_mbs[$m]=$(tr ' ' '\n' <<<"$rm" | grep . | median)
	vsp_mbs[$m]=$(tr ' ' '\n' <<<"$vm" | grep . | median)
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
if [ -z "$json_only" ]; then
	printf '%-8s %7s %12s %12s %10s %10s %7s\n' mode frame "vsp pkt/s" \
		"raw pkt/s" "vsp Mb/s" "raw Mb/s" ratio
	for m in $modes; do
		printf '%-8s %7s %12s %12s %10s %10s %7s\n' "$m" "${size[$m]}" \
			"${vsp_pps[$m]}" "${raw_pps[$m]}" "${vsp_mbs[$m]}" \
			"${raw_mbs[$m]}" "$(ratio "${vsp_pps[$m]}" "${raw_pps[$m]}")"
	done
	echo "($rounds chunks of ${secs}s per side, medians; tx: guest to tap, rx: tap to guest; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
fi
printf '{"bench":"net","secs":%s,"rounds":%s' "$secs" "$rounds"
for m in $modes; do
	printf ',"%s":{"frame":%s,"vsp_pps":%s,"raw_pps":%s,"vsp_mbs":%s,"raw_mbs":%s,"ratio":%s}' \
		"$m" "${size[$m]}" "${vsp_pps[$m]}" "${raw_pps[$m]}" \
		"${vsp_mbs[$m]}" "${raw_mbs[$m]}" \
		"$(ratio "${vsp_pps[$m]}" "${raw_pps[$m]}")"
done
printf '}\n'
