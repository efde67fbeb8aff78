#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The VMBus pipe demo on real Xen with the real Xen libraries: vmbusd -F
# and a unix-socket echo service (vmbus-pipe-client --echo-service) in
# dom0, "vmbusctl attach" and "vmbusctl offer --pipe echo" for a PV and a
# PVH guest. In each guest, vmbus-pipe-client (libvmbus over the guest
# kernel's xenbus, gntalloc, gntdev and evtchn devices) negotiates the bus,
# lists the offers, opens the pipe and streams 4 MiB with a checksum
# (stream 1). Both then start a slow stream (stream 2); the PV guest is
# destroyed in the middle of its stream, the PVH guest's stream must still
# end with MATCH, and a new pipe open and stream after the destruction
# (stream 3) must work too. vmbusd must stay up and release the dead
# guest's bus, and the dead domain must not linger. The guests are pinned
# to different physical CPUs (see e2e_vmbus_guests in e2e-lib.sh).
# The guest side runs from the guests' /init (role vmbus-pipe, argument
# "victim" or "survivor").
# e2e-timeout: 240
# e2e-default: yes
# e2e-order: 95
. /e2e/lib.sh

PIPE=echo
S1_BYTES=4194304
# Stream 2: one 1000-byte packet per round trip, so it lasts a while.
S2_ARGS="--chunk 1000 --delay-ms 5"
S2_SURVIVOR_BYTES=3000000
S3_BYTES=1048576

if [ "$1" = guest ]; then
	role=$2
	client=$(e2e_find_prog vmbus-pipe-client) || { echo "VMBUS-PIPE: vmbus-pipe-client not found in the guest"; exit 1; }
	for d in xenbus gntalloc gntdev evtchn; do
		[ -e /dev/xen/$d ] || echo "VMBUS-PIPE: /dev/xen/$d is missing"
	done
	# dom0 attaches the bus right after xl create; wait for it.
	e2e_xs_wait device/vmbus/0/backend || { echo "VMBUS-PIPE: no bus attached to this domain"; exit 1; }
	echo "VMBUS-PIPE: stream1 start"
	"$client" --wait 60 --bytes $S1_BYTES --chunk 4000 $PIPE
	rc=$?
	echo "VMBUS-PIPE: stream1 rc=$rc"
	[ $rc -eq 0 ] || exit 1
	if [ "$role" = victim ]; then
		# Never ends by itself: dom0 destroys this guest meanwhile.
		echo "VMBUS-PIPE: stream2 start"
		"$client" --bytes 100000000000 $S2_ARGS $PIPE
		echo "VMBUS-PIPE: stream2 rc=$? (the victim's stream ended)"
		exit 1
	fi
	echo "VMBUS-PIPE: stream2 start"
	"$client" --bytes $S2_SURVIVOR_BYTES $S2_ARGS $PIPE
	rc=$?
	echo "VMBUS-PIPE: stream2 rc=$rc"
	[ $rc -eq 0 ] || exit 1
	# dom0 writes this key once the other guest is gone.
	e2e_xs_wait data/vmbus-pipe-go 1 || { echo "VMBUS-PIPE: dom0 never said go for stream 3"; exit 1; }
	echo "VMBUS-PIPE: stream3 start"
	"$client" --wait 30 --bytes $S3_BYTES --chunk 4000 $PIPE
	rc=$?
	echo "VMBUS-PIPE: stream3 rc=$rc"
	exit $rc
fi

# ---- dom0 ----
V=e2e-vmbus-pv		# destroyed mid-stream
S=e2e-vmbus-pvh		# keeps streaming
e2e_vmbus_init $V $S /tmp/vmbus-pipe-echo.sock
ctl=$E2E_VMBUSCTL

t0=$(e2e_now)
e2e_vmbus_start
e2e_vmbus_guests vmbus-pipe
dom_pv=$E2E_DOM_PV dom_pvh=$E2E_DOM_PVH

# Stream 1 in both guests.
for n in $V $S; do
	e2e_guest_wait_count $n '^VMBUS-PIPE: stream1 rc=' 1 90 || e2e_vmbus_fail "$n: stream 1 did not finish within 90 s"
	r=$(e2e_guest_line $n '^VMBUS-PIPE: stream1 rc=' 1)
	[ "$r" = "VMBUS-PIPE: stream1 rc=0" ] || e2e_vmbus_fail "$n: stream 1 failed ($r): $(e2e_guest_line $n '^client: ' '$')"
done
s1_pv=$(e2e_guest_line $V 'MB/s each way' 1 | sed -n 's/.*(\([0-9.]*\) MB\/s.*/\1/p')
s1_pvh=$(e2e_guest_line $S 'MB/s each way' 1 | sed -n 's/.*(\([0-9.]*\) MB\/s.*/\1/p')
e2e_time "stream1.pv_MBps=$s1_pv stream1.pvh_MBps=$s1_pvh"
ver=$(e2e_guest_line $S 'protocol version' 1 | sed -n 's/.*protocol version \([0-9.]*\).*/\1/p')

# Both in stream 2 (opened its pipe a second time), then destroy the PV guest.
for n in $V $S; do
	e2e_guest_wait_count $n '^client: opened pipe' 2 60 || e2e_vmbus_fail "$n: stream 2 did not open the pipe"
done
sleep 1
[ "$(e2e_guest_count $V '^VMBUS-PIPE: stream2 rc=')" = 0 ] || e2e_vmbus_fail "the PV guest's stream 2 ended before it was destroyed: $(e2e_guest_line $V '^VMBUS-PIPE: stream2 rc=' 1)"
[ "$(e2e_guest_count $S '^VMBUS-PIPE: stream2 rc=')" = 0 ] ||
	e2e_vmbus_fail "the PVH guest's stream 2 ended before the PV guest was destroyed (raise S2_SURVIVOR_BYTES)"
"$ctl" list >vmbusctl-list-before.txt 2>&1
cat vmbusctl-list-before.txt
td=$(e2e_now)
xl destroy $V || e2e_vmbus_fail "xl destroy $V failed"
destroy_s=$(e2e_since "$td")
in_flight=$([ "$(e2e_guest_count $S '^VMBUS-PIPE: stream2 rc=')" = 0 ] && echo yes || echo no)
e2e_vmbus_released $dom_pv
release_s=$(e2e_since "$td")
e2e_guest_gone $V 30 || e2e_vmbus_fail "domain $dom_pv still exists 30 s after xl destroy (a dying domain with grants still mapped?)"
zombie=$(xl list | awk 'NR > 1 && ($1 == "(null)" || $2 == '"$dom_pv"')' | head -n 1)
[ -z "$zombie" ] || e2e_vmbus_fail "domain $dom_pv lingers: $zombie"
gone_s=$(e2e_since "$td")
e2e_time "destroy.xl_s=$destroy_s destroy.released_s=$release_s destroy.gone_s=$gone_s"

# The survivor's stream 2 completes with MATCH.
e2e_guest_wait_count $S '^VMBUS-PIPE: stream2 rc=' 1 120 || e2e_vmbus_fail "the PVH guest's stream 2 did not finish within 120 s of the destruction"
r=$(e2e_guest_line $S '^VMBUS-PIPE: stream2 rc=' 1)
m2=$(e2e_guest_line $S 'checksum sent' 2)
[ "$r" = "VMBUS-PIPE: stream2 rc=0" ] || e2e_vmbus_fail "the PVH guest's stream 2 failed after the PV guest was destroyed ($r): ${m2:-$(e2e_guest_line $S '^client: ' '$')}"
case $m2 in *MATCH*) ;; *) e2e_vmbus_fail "stream 2: $m2" ;; esac
case $m2 in *MISMATCH*) e2e_vmbus_fail "stream 2: $m2" ;; esac
s2=$(e2e_guest_line $S 'MB/s each way' 2 | sed -n 's/.* in \([0-9.]*\) s (.*/\1/p')

# A new open after the destruction (stream 3).
xenstore-write /local/domain/$dom_pvh/data/vmbus-pipe-go 1 || e2e_vmbus_fail "xenstore-write go failed"
e2e_guest_wait $S '^E2E-GUEST: EXIT rc=' 90 || e2e_vmbus_fail "the PVH guest did not finish stream 3"
r=$(e2e_guest_line $S '^E2E-GUEST: EXIT rc=' 1)
[ "$r" = "E2E-GUEST: EXIT rc=0" ] || e2e_vmbus_fail "the PVH guest's side failed ($r): $(e2e_guest_line $S '^VMBUS-PIPE: ' '$')"
m3=$(e2e_guest_line $S 'checksum sent' 3)
case $m3 in *MATCH*) ;; *) e2e_vmbus_fail "stream 3: $m3" ;; esac
kill -0 $E2E_VMBUSD_PID 2>/dev/null || e2e_vmbus_fail "vmbusd is no longer running"
e2e_vmbus_collect
e2e_time "stream2.pvh_s=$s2 total_s=$(e2e_since "$t0")"
e2e_pass "bus $ver; PV d$dom_pv and PVH d$dom_pvh streamed $S1_BYTES bytes each with MATCH ($s1_pv/$s1_pvh MB/s); PV destroyed mid-stream (PVH stream in flight: $in_flight), bus released after ${release_s}s; PVH stream 2 ($S2_SURVIVOR_BYTES bytes, ${s2}s) and a new stream 3 MATCH"
