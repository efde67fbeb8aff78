#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A network adapter offered by vmbusd on the simulated host: the daemon
# runs in a network namespace the test makes, with a bridge carrying
# dom0's address; "vmbusctl offer DOM --nic bridge=,mac=,mtu=" makes the
# tap, joins it to the bridge and offers the NIC; the user-mode netvsc in
# the guest's namespace brings it up and ping passes through the bridge.
# The tap's carrier follows the guest; vmbusctl list shows the NIC; after
# vmbusd is killed (-9) and started again the NIC comes back on a new tap
# and carries traffic again; vmbusctl rescind takes it away with its tap,
# and nothing of the guest stays mapped.
# Speaks TAP; exit 77 when network namespaces cannot be made.
set -u

command -v ip > /dev/null && [ -c /dev/net/tun ] || exit 77
NS=vnic$$
ip netns add "${NS}h" 2> /dev/null || exit 77
if ! ip netns add "${NS}g" 2> /dev/null; then
	ip netns del "${NS}h"
	exit 77
fi
. "$(dirname "$0")/tap-lib.sh"
# ping (iputils-ping) checks are skipped where it is not installed.
pingcheck() { if command -v ping > /dev/null; then check "$@"; else skip "$1" "no ping"; fi; }
trap 'cleanup; ip netns del "${NS}h"; ip netns del "${NS}g"' EXIT
PEER="$top_builddir/tests/integration/netvsp-peer"
H="ip netns exec ${NS}h"
G="ip netns exec ${NS}g"
MAC=02:16:3e:4e:56:07
# RFC 2544's benchmarking range, inside namespaces this test made.
HOST_IP=198.18.1.1
GUEST_IP=198.18.1.2

start_vmbusd() {
	$H "$X" run 0 -- "$VMBUSD" -F -v --pid-file "$RUN/vmbusd.pid" \
		>> "$RUN/vmbusd.log" 2>&1 &
	vmbusd=$!
	pids+=($vmbusd)
}
start_client() {	# OUTFILE
	$G "$X" run "$g1" -- "$PEER" client --tap nvg0 --expect-mac $MAC \
		> "$1" 2>&1 &
	client=$!
	pids+=($client)
	wait_for "$1" "forwarding on\|FAIL bring-up" 300 &&
	$G ip addr add $GUEST_IP/24 dev nvg0 && $G ip link set nvg0 up
}

echo "1..14"
check "host starts" "$X" host start
g1=$("$X" create --name g1 --memory 64)
base_maps=$(field 0 maps_held)
$H ip link add br0 type bridge
$H ip addr add $HOST_IP/24 dev br0
$H ip link set br0 up
$G ip link set lo up
start_vmbusd
wait_file "$RUN/vmbusd.pid" 50
TAP=vmb$g1.0
check "vmbusctl offers a NIC: the daemon makes tap $TAP in bridge br0" \
	eval "ctl attach g1 > /dev/null &&
	      ctl offer g1 --nic bridge=br0,mac=$MAC,mtu=1500 > /dev/null &&
	      wait_for '$RUN/vmbusd.log' 'domain $g1: offered NIC $MAC mtu 1500 on tap \"$TAP\" in bridge br0' &&
	      $H ip link show $TAP | grep -q 'master br0'"
check "vmbusctl refuses a multicast MAC and an MTU beyond 9000" \
	eval "! ctl offer g1 --nic mac=03:00:00:00:00:01 2> /dev/null &&
	      ! ctl offer g1 --nic mac=$MAC,mtu=9001 2> /dev/null"
check "no carrier on the tap before the guest opens the NIC" \
	[ "$($H cat /sys/class/net/$TAP/carrier 2>/dev/null)" != 1 ]
start_client "$RUN/c1.out"
check "the guest's netvsc brings the NIC up (MAC from the offer)" \
	grep -q "^PASS bring-up-as-hv_netvsc" "$RUN/c1.out"
check "carrier on the tap while the guest has the NIC" \
	[ "$($H cat /sys/class/net/$TAP/carrier)" = 1 ]
pingcheck "ping from the guest to dom0's bridge address" \
	$G ping -c 3 -i 0.2 -W 5 $HOST_IP
check "vmbusctl list shows the open NIC with its frames" \
	eval "sleep 1.2; ctl list | grep -q 'service=nic:$TAP\|nic:$TAP' ||
	      ctl list --json | grep -q 'nic:$TAP'"

# The daemon dies: the tap goes with it; started again, the NIC is back.
kill -9 $vmbusd
wait $vmbusd 2> /dev/null
kill $client; wait $client 2> /dev/null
$G ip link del nvg0 2> /dev/null
check "the tap went with the killed daemon" \
	eval "sleep 0.5; ! $H ip link show $TAP > /dev/null 2>&1"
rm -f "$RUN/vmbusd.pid"
start_vmbusd
wait_file "$RUN/vmbusd.pid" 50
check "the restarted daemon offers the NIC again on a new tap in br0" \
	eval "wait_for '$RUN/vmbusd.log' 'offered NIC $MAC mtu 1500 on tap \"$TAP\" in bridge br0.*' 100 &&
	      [ \$(grep -c 'offered NIC $MAC' '$RUN/vmbusd.log') -ge 2 ] &&
	      $H ip link show $TAP | grep -q 'master br0'"
start_client "$RUN/c2.out"
check "the guest brings it up again and ping passes" \
	eval "grep -q '^PASS bring-up-as-hv_netvsc' '$RUN/c2.out' &&
	      { ! command -v ping > /dev/null || $G ping -c 3 -i 0.2 -W 5 $HOST_IP; }"
kill $client; wait $client 2> /dev/null
check "the tap's carrier goes down when the guest closes the NIC" \
	eval "sleep 0.5; [ \"\$($H cat /sys/class/net/$TAP/carrier 2>/dev/null)\" != 1 ]"
check "vmbusctl rescind takes the NIC away, with its tap" \
	eval "ctl rescind g1 nic > /dev/null &&
	      wait_for '$RUN/vmbusd.log' 'domain $g1: NIC on \"$TAP\" removed' &&
	      ! $H ip link show $TAP > /dev/null 2>&1"
ctl detach g1 > /dev/null 2>&1
check "dom0 maps nothing of the guest's memory once the bus is gone" \
	eval "for i in \$(seq 50); do [ \"\$(field 0 maps_held)\" = '$base_maps' ] && break; sleep 0.1; done;
	      [ \"\$(field 0 maps_held)\" = '$base_maps' ]"
if [ "$failed" -gt 0 ]; then show "$RUN/c1.out" "$RUN/c2.out"; show_vmbusd_log; fi
exit 0
