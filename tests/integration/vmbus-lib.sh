#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# libvmbus end to end on the simulated host, without the daemon: a server
# for one guest in dom0 and a client in the guest negotiate, discover the
# offer, open a channel (GPADL of grant refs + event channel) and stream
# packets in batches with a checksum; rings of 2 and of 64 pages; and the
# grants and mappings are released afterwards.  Speaks TAP.
set -u

. "$(dirname "$0")/tap-lib.sh"
PEER="$top_builddir/tests/integration/vmbus-echo-peer"

echo "1..7"
check "host starts" "$X" host start
g1=$("$X" create --name g1)
base_maps=$(field 0 maps_held)
check "guest created and bus attached" attach "$g1"

"$X" run 0 -- "$PEER" server "$g1" > "$RUN/server.out" 2>&1 &
pids+=($!)
"$X" run 0 -- true
sleep 0.3
if "$X" run g1 -- "$PEER" client 2000 200 2 > "$RUN/c1.out" 2>&1 &&
   grep -q "2000 packets of 200 bytes echoed.*checksum .* ok" "$RUN/c1.out"; then
	ok "negotiate, offer, open (2-page rings), stream 2000 packets with checksum"
else
	not_ok "negotiate, offer, open (2-page rings), stream 2000 packets with checksum"
	sed 's/^/# /' "$RUN/c1.out" "$RUN/server.out"
fi
check "the client saw bus version 1.1 and class version 1.0" \
	grep -q "bus version 1.1" "$RUN/c1.out"
if "$X" run g1 -- "$PEER" client 300 30000 64 > "$RUN/c2.out" 2>&1 &&
   grep -q "300 packets of 30000 bytes echoed.*ok" "$RUN/c2.out"; then
	ok "a second session on the same bus: 64-page rings, 30000-byte packets"
else
	not_ok "a second session on the same bus: 64-page rings, 30000-byte packets"
	sed 's/^/# /' "$RUN/c2.out" "$RUN/server.out"
fi
check "the server saw both channels open and close" \
	[ "$(grep -c 'closed' "$RUN/server.out")" = 2 ]
check "the guest holds only its xenstore grant, dom0 maps nothing of it" \
	[ "$(field "$g1" grants)" = 1 -a "$(field 0 maps_held)" = "$base_maps" ]
exit 0
