#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/ring/run.sh - run ringbench between two simulated domains: start a
# simulated Xen host in a temporary directory, create two domains, run the
# serving side in one and the measuring side in the other, print the table
# and one JSON line, and tear everything down.
#
# Usage (as root, from a build tree or with top_builddir pointing at one):
#   bench/ring/run.sh [--time-ms N] [--rounds N] [--repeat N] [--json]
#     --time-ms  how long each stream runs in all, in six chunks interleaved
#                with its baselines' (default 300)
#     --rounds   round trips per blocking measurement; the busy ones do
#                five times as many (default 20000)
#     --repeat   whole sequences to run; the table gives medians (default 3)
#     --json     only the JSON line
# With two CPUs or more the two sides are pinned to CPUs 0 and 1 (the
# eventfd peer with the serving side), so that a spinning baseline never
# shares a CPU with its peer; RINGBENCH_CPUS="A B" picks others, "" none.
# RINGBENCH_DEBUG=1 prints what each side's adaptive poll did.
# e.g.  cd /tmp/build && /path/to/src/bench/ring/run.sh
#       top_builddir=/tmp/build bench/ring/run.sh --repeat 5
set -eu

here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${top_builddir:-}" ]; then
	top=$(cd "$top_builddir" && pwd)
elif [ -x ./xensim/xensim ] && [ -x ./bench/ring/ringbench ]; then
	top=$(pwd)
elif [ -x "$here/../../xensim/xensim" ]; then
	top=$(cd "$here/../.." && pwd)
else
	top=
fi
if [ -n "$top" ]; then
	X="$top/xensim/xensim"
	BENCH="$top/bench/ring/ringbench"
else
	X=xensim
	BENCH="$(dirname "$(command -v xensim)")/../libexec/xenvmbus/ringbench"
fi
[ -x "$BENCH" ] || { echo "run.sh: no ringbench at $BENCH (build first)" >&2; exit 1; }

run=$(mktemp -d /tmp/ringbench.XXXXXX)
export XENSIM_RUNDIR="$run"
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null || true
	"$X" host stop >/dev/null 2>&1 || true
	rm -rf "$run"
}
trap cleanup EXIT

"$X" host start >/dev/null
a=$("$X" create --name ringbench-a)
b=$("$X" create --name ringbench-b)
if [ -z "${RINGBENCH_CPUS+set}" ] && [ "$(nproc)" -ge 2 ]; then
	RINGBENCH_CPUS="0 1"
fi
pin_a= pin_b=
if [ -n "${RINGBENCH_CPUS:-}" ]; then
	read -r ca cb <<<"$RINGBENCH_CPUS"
	pin_a="--cpu $ca"
	pin_b="--cpu $cb --peer-cpu $ca"
fi
# shellcheck disable=SC2086
"$X" run "$a" -- "$BENCH" serve --peer "$b" $pin_a >"$run/serve.out" 2>&1 &
server=$!
# shellcheck disable=SC2086
if ! "$X" run "$b" -- "$BENCH" client --peer "$a" $pin_b "$@"; then
	echo "run.sh: the measuring side failed; the serving side said:" >&2
	cat "$run/serve.out" >&2
	exit 1
fi
wait "$server" || { cat "$run/serve.out" >&2; exit 1; }
server=
[ -z "${RINGBENCH_DEBUG:-}" ] || cat "$run/serve.out" >&2
"$X" destroy --wait "$a" >/dev/null
"$X" destroy --wait "$b" >/dev/null
