#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# A pipe between two guests on real Xen: vmbusd -F and a unix-socket echo
# service in dom0, "vmbusctl p2p" between a PV guest (grants the rings) and
# a PVH guest (maps them), plus an "echo" pipe to dom0 for each. In the
# guests, vmbus-pipe-client (libvmbus over gntalloc, gntdev, evtchn and
# xenbus) streams to dom0 first (stream 0, the dom0 figure), then both
# stream 4 MiB to each other at once over the byte-mode pipe and 1 MB in
# 4000-byte messages over a message-mode pipe the PVH guest grants, with
# checksums compared across the guests. In stream 2 the PVH guest streams
# to the PV guest and to dom0 from one client; the PV guest is destroyed
# mid-stream: the PVH guest must see its pipe rescinded, its dom0 pipe
# must still end with MATCH, the dead domain must go away (the PVH guest
# unmapped its rings), and a new dom0 stream (stream 3) must work. The
# guests are pinned to different physical CPUs (see e2e_vmbus_guests in
# e2e-lib.sh).
# e2e-timeout: 300
# e2e-default: yes
# e2e-order: 96
. /e2e/lib.sh

S_BYTES=4194304
M_BYTES=1000000
S2_ARGS="--chunk 1000 --delay-ms 5"
S2_SURVIVOR_BYTES=3000000
S3_BYTES=1048576

if [ "$1" = guest ]; then
	role=$2
	client=$(e2e_find_prog vmbus-pipe-client) || { echo "VMBUS-P2P: vmbus-pipe-client not found in the guest"; exit 1; }
	e2e_xs_wait device/vmbus/0/backend || { echo "VMBUS-P2P: no bus attached to this domain"; exit 1; }
	if [ "$role" = survivor ]; then
		echo "VMBUS-P2P: stream0 start"
		"$client" --wait 60 --bytes $S_BYTES --chunk 4000 echo
		echo "VMBUS-P2P: stream0 rc=$?"
		seed=2
	else
		seed=1
	fi
	# Both ends stream at once; the open waits for the other guest.
	echo "VMBUS-P2P: stream1 start"
	"$client" --wait 150 --seed $seed --bytes $S_BYTES --chunk 4000 link
	rc=$?
	echo "VMBUS-P2P: stream1 rc=$rc"
	[ $rc -eq 0 ] || exit 1
	echo "VMBUS-P2P: msgs start"
	"$client" --wait 60 --seed $((seed + 10)) --bytes $M_BYTES --chunk 4000 --ring-pages 8 msgs
	rc=$?
	echo "VMBUS-P2P: msgs rc=$rc"
	[ $rc -eq 0 ] || exit 1
	if [ "$role" = victim ]; then
		# Never ends by itself: dom0 destroys this guest meanwhile.
		echo "VMBUS-P2P: stream2 start"
		"$client" --wait 60 --seed 5 --bytes 100000000000 $S2_ARGS link
		echo "VMBUS-P2P: stream2 rc=$? (the victim's stream ended)"
		exit 1
	fi
	echo "VMBUS-P2P: stream2 start"
	"$client" --wait 60 --seed 6 --bytes $S2_SURVIVOR_BYTES $S2_ARGS link echo
	rc=$?
	# 3: a pipe was rescinded (the one to the destroyed guest).
	echo "VMBUS-P2P: stream2 rc=$rc"
	e2e_xs_wait data/vmbus-p2p-go 1 || { echo "VMBUS-P2P: dom0 never said go for stream 3"; exit 1; }
	echo "VMBUS-P2P: stream3 start"
	"$client" --wait 30 --bytes $S3_BYTES --chunk 4000 echo
	rc=$?
	echo "VMBUS-P2P: stream3 rc=$rc"
	exit $rc
fi

# ---- dom0 ----
V=e2e-p2p-pv		# grants the rings; destroyed mid-stream
S=e2e-p2p-pvh		# maps them; keeps its pipe to dom0
e2e_vmbus_init $V $S /tmp/vmbus-p2p-echo.sock
ctl=$E2E_VMBUSCTL

# The two pipes between the guests, once both have their bus.
p2p_pipes() {
	"$ctl" p2p $E2E_DOM_PV $E2E_DOM_PVH --name link >>vmbusctl.log 2>&1 &&
	"$ctl" p2p $E2E_DOM_PVH $E2E_DOM_PV --name msgs --mode message >>vmbusctl.log 2>&1 ||
		e2e_vmbus_fail "vmbusctl p2p failed: $(tail -n 1 vmbusctl.log)"
}
# sums NAME K: "sent received" checksums of the K-th pipe between guests.
sums() {
	e2e_guest_line $1 'peer checksum sent' $2 |
		sed -n 's/.*peer checksum sent \([0-9a-f]*\) received \([0-9a-f]*\).*/\1 \2/p'
}
# crossed K: each guest received what the other sent, in the K-th run.
crossed() {
	set -- $(sums $V $1) $(sums $S $1)
	[ $# -eq 4 ] && [ "$1" = "$4" ] && [ "$2" = "$3" ] && [ "$1" != "$3" ]
}
# wait_rc NAME STREAM TIMEOUT: the stream's rc line in $r, or fail.
wait_rc() {
	e2e_guest_wait_count $1 "^VMBUS-P2P: $2 rc=" 1 $3 || e2e_vmbus_fail "$1: $2 did not finish within $3 s"
	r=$(e2e_guest_line $1 "^VMBUS-P2P: $2 rc=" 1)
}

t0=$(e2e_now)
e2e_vmbus_start
e2e_vmbus_guests vmbus-p2p p2p_pipes
dom_pv=$E2E_DOM_PV dom_pvh=$E2E_DOM_PVH

wait_rc $S stream0 90
[ "$r" = "VMBUS-P2P: stream0 rc=0" ] || e2e_vmbus_fail "PVH: stream 0 to dom0 failed ($r): $(e2e_guest_line $S '^client: ' '$')"
s0=$(e2e_guest_line $S 'MB/s each way' 1 | sed -n 's/.*(\([0-9.]*\) MB\/s.*/\1/p')

# Stream 1: 4 MiB each way between the guests, at once.
for n in $V $S; do
	wait_rc $n stream1 150
	[ "$r" = "VMBUS-P2P: stream1 rc=0" ] || e2e_vmbus_fail "$n: stream 1 between the guests failed ($r): $(e2e_guest_line $n '^client: ' '$')"
done
crossed 1 || e2e_vmbus_fail "stream 1: checksums do not cross: PV $(sums $V 1) / PVH $(sums $S 1)"
for n in $V $S; do
	e2e_guest_line $n 'peer sent' 1 | grep -q "received $S_BYTES bytes" || e2e_vmbus_fail "$n: stream 1 did not receive $S_BYTES bytes: $(e2e_guest_line $n 'peer sent' 1)"
done
s1_pv=$(e2e_guest_line $V 'peer sent' 1 | sed -n 's/.*(\([0-9.]*\) MB\/s out.*/\1/p')
s1_pvh=$(e2e_guest_line $S 'peer sent' 1 | sed -n 's/.*(\([0-9.]*\) MB\/s out.*/\1/p')
e2e_time "stream0.dom0_echo_MBps=$s0 stream1.p2p_pv_out_MBps=$s1_pv stream1.p2p_pvh_out_MBps=$s1_pvh"

# Message mode, rings granted by the PVH guest.
for n in $V $S; do
	wait_rc $n msgs 90
	[ "$r" = "VMBUS-P2P: msgs rc=0" ] || e2e_vmbus_fail "$n: the message-mode pipe failed ($r): $(e2e_guest_line $n '^client: ' '$')"
	e2e_guest_line $n 'peer sent' 2 | grep -q "received $M_BYTES bytes in 250 packets" ||
		e2e_vmbus_fail "$n: message boundaries lost: $(e2e_guest_line $n 'peer sent' 2)"
done
crossed 2 || e2e_vmbus_fail "message mode: checksums do not cross: PV $(sums $V 2) / PVH $(sums $S 2)"

# Stream 2: PVH to PV and to dom0 from one client; destroy the PV guest.
for n in $V $S; do
	e2e_guest_wait_count $n '^client: opened pipe "link"' 2 60 || e2e_vmbus_fail "$n: stream 2 did not open the pipe between the guests"
done
e2e_guest_wait_count $S '^client: opened pipe "echo"' 2 60 || e2e_vmbus_fail "PVH: stream 2 did not open its pipe to dom0"
sleep 2
[ "$(e2e_guest_count $V '^VMBUS-P2P: stream2 rc=')" = 0 ] || e2e_vmbus_fail "the PV guest's stream 2 ended early: $(e2e_guest_line $V '^VMBUS-P2P: stream2 rc=' 1)"
[ "$(e2e_guest_count $S '^VMBUS-P2P: stream2 rc=')" = 0 ] || e2e_vmbus_fail "the PVH guest's stream 2 ended before the PV guest was destroyed"
"$ctl" list >vmbusctl-list-before.txt 2>&1
cat vmbusctl-list-before.txt
grep -q "link .*open" vmbusctl-list-before.txt || e2e_vmbus_fail "vmbusctl list does not show the pipe between the guests open"
td=$(e2e_now)
xl destroy $V || e2e_vmbus_fail "xl destroy $V failed"
e2e_vmbus_released $dom_pv
release_s=$(e2e_since "$td")
e2e_guest_wait_count $S 'link\] pipe closed by dom0 \(offer rescinded' 1 30 || e2e_vmbus_fail "the PVH guest did not see its pipe to the PV guest rescinded within 30 s"
rescind_s=$(e2e_since "$td")
e2e_guest_gone $V 30 || e2e_vmbus_fail "domain $dom_pv still exists 30 s after xl destroy (are its ring pages still mapped by the PVH guest?)"
gone_s=$(e2e_since "$td")
e2e_time "destroy.released_s=$release_s destroy.peer_rescinded_s=$rescind_s destroy.gone_s=$gone_s"

wait_rc $S stream2 120
m2=$(e2e_guest_line $S 'echo\] checksum sent' 1)
[ "$r" = "VMBUS-P2P: stream2 rc=3" ] || e2e_vmbus_fail "PVH stream 2: expected rc 3 (the pipe to the PV guest rescinded), got: $r: $(e2e_guest_line $S '^client: ' '$')"
case $m2 in *MISMATCH*|'') e2e_vmbus_fail "PVH stream 2, the pipe to dom0: ${m2:-no checksum line}" ;; esac

xenstore-write /local/domain/$dom_pvh/data/vmbus-p2p-go 1 || e2e_vmbus_fail "xenstore-write go failed"
e2e_guest_wait $S '^E2E-GUEST: EXIT rc=' 90 || e2e_vmbus_fail "the PVH guest did not finish stream 3"
r=$(e2e_guest_line $S '^E2E-GUEST: EXIT rc=' 1)
[ "$r" = "E2E-GUEST: EXIT rc=0" ] || e2e_vmbus_fail "the PVH guest's side failed ($r): $(e2e_guest_line $S '^VMBUS-P2P: ' '$')"
kill -0 $E2E_VMBUSD_PID 2>/dev/null || e2e_vmbus_fail "vmbusd is no longer running"
grep -q "removed pipe \"link\"" vmbusd.log || e2e_vmbus_fail "vmbusd did not remove the PVH guest's entry for the pipe to the dead guest"
e2e_vmbus_collect
e2e_time "total_s=$(e2e_since "$t0")"
e2e_pass "PV d$dom_pv and PVH d$dom_pvh streamed $S_BYTES bytes to each other (checksums crossed; $s1_pv/$s1_pvh MB/s out; dom0 echo $s0 MB/s) and $M_BYTES bytes in messages; PV destroyed mid-stream: PVH saw the pipe rescinded after ${rescind_s}s, its dom0 pipe ended with MATCH, PV gone after ${gone_s}s, new dom0 stream ok"
