#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# libvmbus's memory-naming packets on the simulated host: a server for one
# guest in dom0 (vmbus-xfer-peer server) and the scenario in the guest
# (vmbus-xfer-peer client): GPADLs of 1 page, 1 MiB and read-only used for
# data packets both ways with checksums, GPADL against in-band throughput,
# a transfer page set with 1000 packets into it and their completions,
# hostile packets refused at each end, a teardown that waits for the
# server's unmap, and every grant and mapping released while the server
# keeps running.  Speaks TAP: one line per client result.
set -u

. "$(dirname "$0")/tap-lib.sh"
PEER="$top_builddir/tests/integration/vmbus-xfer-peer"

if ! "$X" host start; then
	echo "1..1"
	not_ok "host starts"
	exit 0
fi
g1=$("$X" create --name g1)
base_maps=$(field 0 maps_held)
base_grants=$(field "$g1" grants)
attach "$g1" || { echo "1..1"; not_ok "bus attached"; exit 0; }

"$X" run 0 -- "$PEER" server "$g1" > "$RUN/server.out" 2>&1 &
spid=$!
pids+=("$spid")
"$X" run 0 -- true
sleep 0.3
"$X" run g1 -- "$PEER" client > "$RUN/client.out" 2>&1
crc=$?
sleep 0.3

results=$(grep -c '^client: \(PASS\|FAIL\)' "$RUN/client.out")
echo "1..$((results + 5))"
while IFS= read -r line; do
	case $line in
	"client: PASS: "*) ok "${line#client: PASS: }" ;;
	"client: FAIL: "*) not_ok "${line#client: FAIL: }" ;;
	esac
done < "$RUN/client.out"
if [ "$crc" = 0 ] && grep -q "^client: all passed" "$RUN/client.out"; then
	ok "the scenario ran to its end"
else
	not_ok "the scenario ran to its end (exit $crc)"
	sed 's/^/# /' "$RUN/client.out" "$RUN/server.out"
fi
server_saw() {
	grep -q "added transfer page set 5" "$RUN/server.out" &&
	grep -q "removed transfer page set 5" "$RUN/server.out" &&
	grep -q "closed, .* packets refused" "$RUN/server.out"
}
check "the server saw the set added and removed and the channel close" server_saw
check "the server is still running" kill -0 "$spid"
check "grants and mappings back to baseline (guest $(field "$g1" grants)/$base_grants grants, dom0 $(field 0 maps_held)/$base_maps maps)" \
	[ "$(field "$g1" grants)" = "$base_grants" -a "$(field 0 maps_held)" = "$base_maps" ]
quiet() {
	! grep -q "runtime error\|Sanitizer\|libvmbus: .*\(fail\|broken\)" \
		"$RUN/client.out" "$RUN/server.out"
}
check "no sanitizer or library complaints from either end" quiet
grep -h "throughput\|packets/s" "$RUN/client.out" | sed 's/^/# /'
grep -h "libvmbus:" "$RUN/client.out" "$RUN/server.out" | sed 's/^/# /'
exit 0
