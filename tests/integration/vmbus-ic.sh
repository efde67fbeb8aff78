#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Hyper-V integration services served by vmbusd on the simulated host,
# against vmbus-ic-guest, a user-mode guest that answers them as Linux's
# hv_utils does: the version negotiation, heartbeats counted and shown by
# vmbusctl list, a shutdown request reaching the guest (and refused when
# no guest service is bound), key/value get, set, delete and list round
# trips, time samples, a guest that speaks only the old versions, and the
# integration services a configuration file declares.  Speaks TAP.
set -u

. "$(dirname "$0")/tap-lib.sh"
GUEST="$top_builddir/tests/integration/vmbus-ic-guest"

echo "1..18"
check "host starts" "$X" host start
g1=$("$X" create --name g1) && g2=$("$X" create --name g2)
cat > "$RUN/vmbusd.conf" <<CONF
[g2]
ic = heartbeat shutdown
CONF
"$X" run 0 -- "$VMBUSD" -F -v --config "$RUN/vmbusd.conf" \
	--pid-file "$RUN/vmbusd.pid" > "$RUN/vmbusd.log" 2>&1 &
pids+=($!)
check "vmbusd starts and serves g2 from its configuration" \
	wait_for "$RUN/vmbusd.log" "domain $g2: offered the shutdown integration service"
check "vmbusctl offers the four integration services to g1" \
	eval "ctl attach g1 >/dev/null &&
	      ctl offer g1 --ic heartbeat >/dev/null && ctl offer g1 --ic shutdown >/dev/null &&
	      ctl offer g1 --ic timesync >/dev/null && ctl offer g1 --ic kvp >/dev/null &&
	      wait_for '$RUN/vmbusd.log' 'domain $g1: offered the kvp integration service'"

# Nobody bound yet: vmbusctl shutdown fails with the reason.
ctl shutdown g1 > "$RUN/sd0.out" 2>&1
rc=$?
check "vmbusctl shutdown of a guest with no bound shutdown service fails, saying so" \
	eval "[ $rc = 1 ] && grep -q 'no guest service is bound' '$RUN/sd0.out'"

"$X" run g1 -- "$GUEST" --seconds 60 --kvp 0:colour=blue --kvp 0:size=42 \
	> "$RUN/g1.out" 2>&1 &
gpid=$!
pids+=($gpid)
check "the guest negotiates framework 3.0 and each service's newest version it shares" \
	eval "wait_for '$RUN/g1.out' 'negotiated kvp framework=3.0 version=4.0' 150 &&
	      grep -q 'negotiated heartbeat framework=3.0 version=3.0' '$RUN/g1.out' &&
	      grep -q 'negotiated shutdown framework=3.0 version=3.2' '$RUN/g1.out' &&
	      grep -q 'negotiated timesync framework=3.0 version=3.0' '$RUN/g1.out'"
check "heartbeats flow: the guest answers at least 3" wait_for "$RUN/g1.out" "heartbeat seq=3" 100
check "vmbusctl list shows the guest's heartbeat sequence" \
	eval "sleep 1.2; ctl list --json | grep -q '\"name\":\"heartbeat\".*\"ic\":\"ready\".*\"heartbeat_seq\":[1-9]' &&
	      ctl list | grep -q 'integration service ready, framework 3.0, version 3.0, heartbeat sequence [1-9]'"
check "time sync: the first message syncs, with the host's time" \
	eval "wait_for '$RUN/g1.out' 'timesync flags=1 unix=' &&
	      t=\$(sed -n 's/.*timesync flags=1 unix=\([0-9]*\).*/\1/p' '$RUN/g1.out' | head -n 1) &&
	      [ \$((\$(date +%s) - t)) -lt 30 ]"

if ctl kvp g1 get 0 colour > "$RUN/kvp1.out" 2>&1 && [ "$(cat "$RUN/kvp1.out")" = blue ]; then
	ok "vmbusctl kvp get reads the guest's value"
else
	not_ok "vmbusctl kvp get reads the guest's value"; show "$RUN/kvp1.out"
fi
check "vmbusctl kvp set writes a value the guest then has (UTF-8 through UTF-16)" \
	eval "ctl kvp g1 set 0 städte 'Zürich Genève' >/dev/null &&
	      grep -q 'kvp set pool=0 key=städte value=Zürich Genève' '$RUN/g1.out' &&
	      [ \"\$(ctl kvp g1 get 0 städte)\" = 'Zürich Genève' ]"
ctl kvp g1 list 0 > "$RUN/kvp2.out" 2>&1
check "vmbusctl kvp list enumerates the pool" \
	eval "[ \$(wc -l < '$RUN/kvp2.out') = 3 ] && grep -qx 'size=42' '$RUN/kvp2.out' &&
	      grep -qx 'städte=Zürich Genève' '$RUN/kvp2.out'"
ctl kvp g1 get 0 no-such-key > "$RUN/kvp3.out" 2>&1
rc=$?
check "vmbusctl kvp get of a missing key fails with the guest's status" \
	eval "[ $rc = 1 ] && grep -q 'status 0x80004005' '$RUN/kvp3.out'"
check "vmbusctl kvp delete removes it at the guest" \
	eval "ctl kvp g1 delete 0 colour >/dev/null && ! ctl kvp g1 get 0 colour >/dev/null 2>&1"

if ctl shutdown g1 --reboot > "$RUN/sd1.out" 2>&1 && grep -q "shutdown flags=2" "$RUN/g1.out"; then
	ok "vmbusctl shutdown --reboot reaches the guest (flags 2) and it accepts"
else
	not_ok "vmbusctl shutdown --reboot reaches the guest (flags 2) and it accepts"; show "$RUN/sd1.out"
fi
kill "$gpid" 2> /dev/null
wait "$gpid" 2> /dev/null

# A guest that speaks only framework 1.0 and message version 1.0.
ctl attach g2 > /dev/null 2>&1
if "$X" run g2 -- "$GUEST" --old --heartbeats 2 --seconds 30 > "$RUN/g2.out" 2>&1 &&
   grep -q "negotiated heartbeat framework=1.0 version=1.0" "$RUN/g2.out" &&
   grep -q "negotiated shutdown framework=1.0 version=1.0" "$RUN/g2.out"; then
	ok "a guest with only the old versions gets them, and its heartbeats flow"
else
	not_ok "a guest with only the old versions gets them, and its heartbeats flow"; show "$RUN/g2.out"
fi
"$X" run g2 -- "$GUEST" --old --exit-on-shutdown --seconds 30 > "$RUN/g2b.out" 2>&1 &
gpid=$!
pids+=($gpid)
check "the configured guest's shutdown service binds" \
	wait_for "$RUN/g2b.out" "negotiated shutdown framework=1.0" 100
sleep 0.5
check "vmbusctl shutdown powers off the old guest (flags 0)" \
	eval "ctl shutdown g2 >/dev/null && wait $gpid && grep -q 'shutdown flags=0' '$RUN/g2b.out'"
check "vmbusd still runs" kill -0 "$(cat "$RUN/vmbusd.pid")"
exit $((failed > 0))
