#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Hyper-V sockets served by vmbusd on the simulated host, with the hybrid
# vsock convention: vmbus-hvsock-peer plays Linux's hv_sock in the guest
# (TL_CONNECT_REQUEST, the offered channel, VMPIPE framing) and a dom0
# program on the unix sockets.  The guest connects to a dom0 echo service
# on <uds>_P and dom0 connects to a guest listener through <uds> with
# "CONNECT P\n", 4 MB each way with checksums; a connect to a port nobody
# serves is refused, a dom0 connect to a port the guest does not listen
# on ends.  Speaks TAP.
set -u

. "$(dirname "$0")/tap-lib.sh"
PEER="$top_builddir/tests/integration/vmbus-hvsock-peer"
ECHO="$top_builddir/tools/vmbus-pipe-client"
UDS="$RUN/hv.sock"

echo "1..9"
check "host starts" "$X" host start
g1=$("$X" create --name g1)
printf '[g1]\nhvsock = %s\n' "$UDS" > "$RUN/vmbusd.conf"
"$X" run 0 -- "$VMBUSD" -F -v --config "$RUN/vmbusd.conf" \
	--pid-file "$RUN/vmbusd.pid" > "$RUN/vmbusd.log" 2>&1 &
pids+=($!)
check "vmbusd serves g1's hv_sock from its configuration" \
	wait_for "$RUN/vmbusd.log" "domain $g1: hvsock: guest ports reach"
"$ECHO" --echo-service "${UDS}_5000" > "$RUN/echo.log" 2>&1 &
pids+=($!)
wait_for "$RUN/echo.log" listening

if "$X" run g1 -- "$PEER" connect 5000 4000000 > "$RUN/c1.out" 2>&1 &&
   grep -q "received 4000000 checksum .* MATCH" "$RUN/c1.out"; then
	ok "the guest connects to port 5000: 4 MB to ${UDS##*/}_5000 and back, checksums match"
else
	not_ok "the guest connects to port 5000: 4 MB to ${UDS##*/}_5000 and back, checksums match"; show "$RUN/c1.out"
fi
check "the connection's offer is rescinded once both ends finished (or the guest closed it)" \
	wait_for "$RUN/vmbusd.log" "port 5000.*: channel [0-9]* rescinded"
"$X" run g1 -- "$PEER" connect 5001 100 > "$RUN/c2.out" 2>&1
check "a connect to a port nobody serves is refused (TL_CONNECT_RESULT)" \
	eval "grep -q 'refused' '$RUN/c2.out' &&
	      grep -q 'refused a connection to port 5001' '$RUN/vmbusd.log'"

"$X" run g1 -- "$PEER" listen 6000 > "$RUN/l1.out" 2>&1 &
lpid=$!
pids+=($lpid)
wait_for "$RUN/l1.out" listening
if dom0 "$PEER" host-connect "$UDS" 6000 4000000 > "$RUN/h1.out" 2>&1 &&
   grep -q "^answer OK [0-9]" "$RUN/h1.out" &&
   grep -q "received 4000000 checksum .* MATCH" "$RUN/h1.out"; then
	ok "dom0 connects to the guest's port 6000 (CONNECT 6000, OK): 4 MB there and back, checksums match"
else
	not_ok "dom0 connects to the guest's port 6000 (CONNECT 6000, OK): 4 MB there and back, checksums match"; show "$RUN/h1.out"
fi
check "the guest's listener saw the same bytes" \
	eval "wait $lpid && grep -q 'received 4000000 checksum .* MATCH' '$RUN/l1.out'"
if dom0 "$PEER" host-connect "$UDS" 6001 100 > "$RUN/h2.out" 2>&1; then
	not_ok "dom0's connect to a port the guest does not listen on ends"
else
	check "dom0's connect to a port the guest does not listen on ends" \
		eval "grep -q 'no answer' '$RUN/h2.out' &&
		      grep -q 'the guest did not accept on port 6001' '$RUN/vmbusd.log'"
fi
check "vmbusd still runs" kill -0 "$(cat "$RUN/vmbusd.pid")"
exit $((failed > 0))
