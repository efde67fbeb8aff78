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
# guests are pinned to different physical CPUs (see vmbus-pipe.sh).
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
	i=0
	while ! xenstore-read device/vmbus/0/backend >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -le 240 ] || { echo "VMBUS-P2P: no bus attached to this domain"; exit 1; }
		sleep 0.5
	done
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
	i=0
	while [ "$(xenstore-read data/vmbus-p2p-go 2>/dev/null)" != 1 ]; do
		i=$((i + 1))
		[ $i -le 240 ] || { echo "VMBUS-P2P: dom0 never said go for stream 3"; exit 1; }
		sleep 0.5
	done
	echo "VMBUS-P2P: stream3 start"
	"$client" --wait 30 --bytes $S3_BYTES --chunk 4000 echo
	rc=$?
	echo "VMBUS-P2P: stream3 rc=$rc"
	exit $rc
fi

# ---- dom0 ----
vmbusd=$(e2e_find_prog vmbusd) || e2e_skip "vmbusd is not in the staging directory"
ctl=$(e2e_find_prog vmbusctl) || e2e_skip "vmbusctl is not in the staging directory"
client=$(e2e_find_prog vmbus-pipe-client) || e2e_skip "vmbus-pipe-client is not in the staging directory"
sock=/tmp/vmbus-p2p-echo.sock
# Separate physical CPUs: an unpinned PVH guest triple-faults under the
# emulated SVM (see vmbus-pipe.sh).
PV_CPU='cpus = "0"'
PVH_CPU='cpus = "1"'
V=e2e-p2p-pv		# grants the rings; destroyed mid-stream
S=e2e-p2p-pvh		# maps them; keeps its pipe to dom0
pids=

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	xl vcpu-pin 0 all all >/dev/null 2>&1
}
trap cleanup EXIT
fail() {
	echo "---- vmbusd.log (last 40 lines)"
	tail -n 40 vmbusd.log
	"$ctl" list >vmbusctl-list-fail.txt 2>&1 && cat vmbusctl-list-fail.txt
	for n in $V $S; do
		cp "$E2E_CONSOLE_DIR/guest-$n.log" . 2>/dev/null
		echo "---- console of guest $n (last 40 lines)"
		tail -n 40 "$E2E_CONSOLE_DIR/guest-$n.log" 2>/dev/null | tr -d '\r'
	done
	echo "---- xl list"
	xl list
	e2e_fail "$*"
}
count() {
	_c=$(grep -acE "$2" "$E2E_CONSOLE_DIR/guest-$1.log" 2>/dev/null)
	echo "${_c:-0}"
}
wait_count() {
	e2e_up
	_end=$((E2E_UP + $4))
	while [ "$(count "$1" "$2")" -lt "$3" ]; do
		e2e_up
		[ "$E2E_UP" -lt "$_end" ] || return 1
		sleep 0.5
	done
}
line() { grep -aE "$2" "$E2E_CONSOLE_DIR/guest-$1.log" | sed -n "${3}p" | tr -d '\r'; }
# sums NAME K: "sent received" checksums of the K-th pipe between guests.
sums() { line $1 'peer checksum sent' $2 | sed -n 's/.*peer checksum sent \([0-9a-f]*\) received \([0-9a-f]*\).*/\1 \2/p'; }
# crossed K: each guest received what the other sent, in the K-th run.
crossed() {
	set -- $(sums $V $1) $(sums $S $1)
	[ $# -eq 4 ] && [ "$1" = "$4" ] && [ "$2" = "$3" ] && [ "$1" != "$3" ]
}
# wait_rc NAME STREAM TIMEOUT: the stream's rc line in $r, or fail.
wait_rc() {
	wait_count $1 "^VMBUS-P2P: $2 rc=" 1 $3 || fail "$1: $2 did not finish within $3 s"
	r=$(line $1 "^VMBUS-P2P: $2 rc=" 1)
}

t0=$(e2e_now)
"$vmbusd" -F -v --pid-file /tmp/vmbusd.pid >vmbusd.log 2>&1 &
vpid=$!
pids="$pids $vpid"
"$client" --echo-service $sock >echo.log 2>&1 &
pids="$pids $!"
i=0
until grep -q "serving buses" vmbusd.log && grep -q listening echo.log; do
	i=$((i + 1))
	[ $i -le 60 ] || fail "vmbusd or the echo service did not start: $(tail -n 1 vmbusd.log) / $(tail -n 1 echo.log)"
	kill -0 $vpid 2>/dev/null || fail "vmbusd exited: $(tail -n 1 vmbusd.log)"
	sleep 0.5
done

xl vcpu-pin 0 all 0 >/dev/null 2>&1 || echo "xl vcpu-pin of dom0 failed"
for g in "pv $V victim" "pvh $S survivor"; do
	set -- $g
	if [ $1 = pvh ]; then
		cfg=$(e2e_guest_cfg $1 $2 vmbus-p2p $3 -- "$PVH_CPU") || fail "cannot write the $1 guest's config"
	else
		cfg=$(e2e_guest_cfg $1 $2 vmbus-p2p $3 -- "$PV_CPU") || fail "cannot write the $1 guest's config"
	fi
	e2e_guest_create "$cfg" || fail "xl create of the $1 guest failed"
	d=$(e2e_guest_domid $2)
	[ -n "$d" ] || fail "no domid for $2"
	eval "dom_$1=$d"
	"$ctl" attach $d >>vmbusctl.log 2>&1 || fail "vmbusctl attach $d failed: $(tail -n 1 vmbusctl.log)"
	"$ctl" offer $d --pipe echo --service $sock >>vmbusctl.log 2>&1 ||
		fail "vmbusctl offer $d failed: $(tail -n 1 vmbusctl.log)"
	if [ $1 = pvh ]; then
		"$ctl" p2p $dom_pv $dom_pvh --name link >>vmbusctl.log 2>&1 &&
		"$ctl" p2p $dom_pvh $dom_pv --name msgs --mode message >>vmbusctl.log 2>&1 ||
			fail "vmbusctl p2p failed: $(tail -n 1 vmbusctl.log)"
	fi
	e2e_guest_wait $2 '^E2E-GUEST: READY' "${E2E_BOOT_TIMEOUT:-150}" || fail "$1 guest did not reach its init"
	eval "boot_$1=\$E2E_WAIT_S"
done
cat vmbusctl.log
e2e_time "boot.pv=$boot_pv boot.pvh=$boot_pvh"

wait_rc $S stream0 90
[ "$r" = "VMBUS-P2P: stream0 rc=0" ] || fail "PVH: stream 0 to dom0 failed ($r): $(line $S '^client: ' '$')"
s0=$(line $S 'MB/s each way' 1 | sed -n 's/.*(\([0-9.]*\) MB\/s.*/\1/p')

# Stream 1: 4 MiB each way between the guests, at once.
for n in $V $S; do
	wait_rc $n stream1 150
	[ "$r" = "VMBUS-P2P: stream1 rc=0" ] || fail "$n: stream 1 between the guests failed ($r): $(line $n '^client: ' '$')"
done
crossed 1 || fail "stream 1: checksums do not cross: PV $(sums $V 1) / PVH $(sums $S 1)"
for n in $V $S; do
	line $n 'peer sent' 1 | grep -q "received $S_BYTES bytes" || fail "$n: stream 1 did not receive $S_BYTES bytes: $(line $n 'peer sent' 1)"
done
s1_pv=$(line $V 'peer sent' 1 | sed -n 's/.*(\([0-9.]*\) MB\/s out.*/\1/p')
s1_pvh=$(line $S 'peer sent' 1 | sed -n 's/.*(\([0-9.]*\) MB\/s out.*/\1/p')
e2e_time "stream0.dom0_echo_MBps=$s0 stream1.p2p_pv_out_MBps=$s1_pv stream1.p2p_pvh_out_MBps=$s1_pvh"

# Message mode, rings granted by the PVH guest.
for n in $V $S; do
	wait_rc $n msgs 90
	[ "$r" = "VMBUS-P2P: msgs rc=0" ] || fail "$n: the message-mode pipe failed ($r): $(line $n '^client: ' '$')"
	line $n 'peer sent' 2 | grep -q "received $M_BYTES bytes in 250 packets" ||
		fail "$n: message boundaries lost: $(line $n 'peer sent' 2)"
done
crossed 2 || fail "message mode: checksums do not cross: PV $(sums $V 2) / PVH $(sums $S 2)"

# Stream 2: PVH to PV and to dom0 from one client; destroy the PV guest.
for n in $V $S; do
	wait_count $n '^client: opened pipe "link"' 2 60 || fail "$n: stream 2 did not open the pipe between the guests"
done
wait_count $S '^client: opened pipe "echo"' 2 60 || fail "PVH: stream 2 did not open its pipe to dom0"
sleep 2
[ "$(count $V '^VMBUS-P2P: stream2 rc=')" = 0 ] || fail "the PV guest's stream 2 ended early: $(line $V '^VMBUS-P2P: stream2 rc=' 1)"
[ "$(count $S '^VMBUS-P2P: stream2 rc=')" = 0 ] || fail "the PVH guest's stream 2 ended before the PV guest was destroyed"
"$ctl" list >vmbusctl-list-before.txt 2>&1
cat vmbusctl-list-before.txt
grep -q "link .*open" vmbusctl-list-before.txt || fail "vmbusctl list does not show the pipe between the guests open"
td=$(e2e_now)
xl destroy $V || fail "xl destroy $V failed"
i=0
until grep -q "domain $dom_pv: bus released" vmbusd.log; do
	i=$((i + 1))
	[ $i -le 60 ] || fail "vmbusd did not release domain $dom_pv's bus within 30 s"
	kill -0 $vpid 2>/dev/null || fail "vmbusd exited after the PV guest was destroyed: $(tail -n 1 vmbusd.log)"
	sleep 0.5
done
release_s=$(e2e_since "$td")
wait_count $S 'link\] pipe closed by dom0 \(offer rescinded' 1 30 || fail "the PVH guest did not see its pipe to the PV guest rescinded within 30 s"
rescind_s=$(e2e_since "$td")
e2e_guest_gone $V 30 || fail "domain $dom_pv still exists 30 s after xl destroy (are its ring pages still mapped by the PVH guest?)"
gone_s=$(e2e_since "$td")
e2e_time "destroy.released_s=$release_s destroy.peer_rescinded_s=$rescind_s destroy.gone_s=$gone_s"

wait_rc $S stream2 120
m2=$(line $S 'echo\] checksum sent' 1)
[ "$r" = "VMBUS-P2P: stream2 rc=3" ] || fail "PVH stream 2: expected rc 3 (the pipe to the PV guest rescinded), got: $r: $(line $S '^client: ' '$')"
case $m2 in *MISMATCH*|'') fail "PVH stream 2, the pipe to dom0: ${m2:-no checksum line}" ;; esac

xenstore-write /local/domain/$dom_pvh/data/vmbus-p2p-go 1 || fail "xenstore-write go failed"
e2e_guest_wait $S '^E2E-GUEST: EXIT rc=' 90 || fail "the PVH guest did not finish stream 3"
r=$(line $S '^E2E-GUEST: EXIT rc=' 1)
[ "$r" = "E2E-GUEST: EXIT rc=0" ] || fail "the PVH guest's side failed ($r): $(line $S '^VMBUS-P2P: ' '$')"
kill -0 $vpid 2>/dev/null || fail "vmbusd is no longer running"
grep -q "removed pipe \"link\"" vmbusd.log || fail "vmbusd did not remove the PVH guest's entry for the pipe to the dead guest"
"$ctl" list >vmbusctl-list-after.txt 2>&1
cat vmbusctl-list-after.txt
for n in $V $S; do cp "$E2E_CONSOLE_DIR/guest-$n.log" . 2>/dev/null; done
cat vmbusd.log
e2e_time "total_s=$(e2e_since "$t0")"
e2e_pass "PV d$dom_pv and PVH d$dom_pvh streamed $S_BYTES bytes to each other (checksums crossed; $s1_pv/$s1_pvh MB/s out; dom0 echo $s0 MB/s) and $M_BYTES bytes in messages; PV destroyed mid-stream: PVH saw the pipe rescinded after ${rescind_s}s, its dom0 pipe ended with MATCH, PV gone after ${gone_s}s, new dom0 stream ok"
