#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/ring/run.sh works from the build tree: one short run of every
# measurement between two simulated domains, its JSON line complete and
# every figure measured.  No speed is judged here (that is the benchmark's
# table, not a test); what is checked is what does not depend on the
# machine: every stream and round trip ran and checked its data, and a
# round trip with both receivers asleep costs one signal each way, never
# more (less when a receiver had not yet gone to sleep, which on a loaded
# host happens in a few percent of round trips: the floor is loose).
set -u

: "${top_builddir:?run through make check}"
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp /tmp/ringbench-smoke.XXXXXX)
trap 'rm -f "$out"' EXIT

echo "1..3"
if top_builddir=$top_builddir "$here/../../bench/ring/run.sh" --time-ms 30 \
	--rounds 500 --repeat 1 --json > "$out" 2>&1; then
	echo "ok 1 - bench/ring/run.sh runs every measurement"
else
	echo "not ok 1 - bench/ring/run.sh runs every measurement"
	sed 's/^/# /' "$out"
fi

python3 - "$out" <<'EOF'
import json, sys

try:
    j = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
except (ValueError, IndexError) as e:
    print("not ok 2 - one JSON line with every figure # %s" % e)
    print("not ok 3 - an idle round trip costs two signals")
    sys.exit(0)

missing = []
for size in (64, 1024, 4096, 65536):
    s = j.get("stream_%d" % size, {})
    for k in ("vmbus_mbps", "spsc_mbps", "framed_mbps", "vchan_mbps"):
        if not s.get(k, 0) > 0:
            missing.append("stream_%d.%s" % (size, k))
rtt = j.get("rtt_us", {})
for k in ("vmbus_busy", "vmbus_idle", "spin", "eventfd", "evtchn", "vchan"):
    if not rtt.get(k, 0) > 0:
        missing.append("rtt_us." + k)
if missing:
    print("not ok 2 - one JSON line with every figure # missing: " + ", ".join(missing))
else:
    print("ok 2 - one JSON line with every figure")

sig = rtt.get("idle_signals_per_rt", 0)
if 1.5 <= sig <= 2.0 + 1e-9:
    print("ok 3 - an idle round trip costs two signals (%.4f)" % sig)
else:
    print("not ok 3 - an idle round trip costs two signals (%.4f)" % sig)
EOF
