#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Crash consistency of the storage VSP on the simulated host: a guest
# writes through vmbusd's SCSI controller, 8 in flight, every fourth write
# with FUA and a SYNCHRONIZE CACHE after every 32 others, and journals each
# write once the VSP acknowledged it durable (storvsp-peer journal).  The
# daemon is killed with SIGKILL in the middle and started again: the
# guest's channel fails, its requests in flight are forgotten, the bus
# connects to the new daemon, the controller is offered and opened again
# and the writes go on.  Then every journalled write is checked in the
# backing file from dom0.  Speaks TAP.
set -u

. "$(dirname "$0")/tap-lib.sh"
PEER="$top_builddir/tests/integration/storvsp-peer"
DISKDIR=$(mktemp -d "$top_builddir/tests/integration/storvsp-crash.XXXXXX")
trap 'cleanup; rm -rf "$DISKDIR"' EXIT
RW=$DISKDIR/rw.img
BEFORE=300		# durable writes journalled before the kill
AFTER=300		# and after the restart

start_vmbusd() {
	rm -f "$RUN/vmbusd.pid"
	"$X" run 0 -- "$VMBUSD" -F -v --config "$RUN/vmbusd.conf" \
		--pid-file "$RUN/vmbusd.pid" >> "$RUN/vmbusd.log" 2>&1 &
	vpid=$!
	pids+=($vpid)
	wait_file "$RUN/vmbusd.pid" 100
}
durable() { local n; n=$(grep -c '^durable' "$RUN/journal.out" 2>/dev/null); echo "${n:-0}"; }

echo "1..7"
truncate -s 64M "$RW"
check "host starts" "$X" host start
g1=$("$X" create --name g1 --memory 64)
cat > "$RUN/vmbusd.conf" <<CONF
[g1]
disk = $RW
CONF
start_vmbusd
check "vmbusd offers g1's controller" \
	wait_for "$RUN/vmbusd.log" "domain $g1: offered SCSI controller \"scsi0\""

"$X" run g1 -- "$PEER" journal 64 $AFTER 1000000 > "$RUN/journal.out" 2>&1 &
jpid=$!
pids+=($jpid)
for _ in $(seq 300); do [ "$(durable)" -ge $BEFORE ] && break; sleep 0.1; done
old=$(cat "$RUN/vmbusd.pid")
kill -KILL "$old"
wait "$vpid" 2>/dev/null
at_kill=$(durable)
check "$at_kill durable writes journalled when vmbusd was killed under load" \
	[ "$at_kill" -ge $BEFORE ]
start_vmbusd
check "vmbusd started again offers the controller again" \
	eval "wait_for '$RUN/vmbusd.log' 'took over' && [ \$(grep -c 'domain $g1: offered SCSI controller' '$RUN/vmbusd.log') -ge 2 ]"
for _ in $(seq 600); do kill -0 $jpid 2>/dev/null || break; sleep 0.1; done
wait $jpid
jrc=$?
if [ $jrc = 0 ] && grep -q '^lost after' "$RUN/journal.out" && grep -q '^reopened' "$RUN/journal.out"; then
	ok "the guest saw its channel fail, opened the controller again and went on ($(grep '^lost after' "$RUN/journal.out" | head -n 1))"
else
	not_ok "the guest saw its channel fail, opened the controller again and went on"
	grep -v '^durable' "$RUN/journal.out" | show /dev/stdin
fi
check "$AFTER more durable writes after the restart, none failed ($(sed -n 's/^done //p' "$RUN/journal.out"))" \
	grep -q "^done durable [0-9]* reopened 1 failed 0" "$RUN/journal.out"
kill -TERM "$(cat "$RUN/vmbusd.pid")" 2>/dev/null
wait "$vpid" 2>/dev/null
"$PEER" verify "$RW" "$RUN/journal.out" > "$RUN/verify.out" 2>&1
vrc=$?
check "every write acknowledged durable is in the backing file ($(cat "$RUN/verify.out" | tr '\n' ' '))" \
	[ $vrc = 0 ]
exit 0
