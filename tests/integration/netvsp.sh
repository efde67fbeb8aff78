#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The network VSP on the simulated host, before the bus daemon serves it,
# with real traffic: the test makes two network namespaces, "dom0"'s
# (where the VSP's tap lives) and the guest's (where the user-mode netvsc
# makes a tap of its own with the NIC's MAC and MTU and moves its frames
# over the channel).  The client checks the bring-up as hv_netvsc runs it,
# the RNDIS answers and hostile requests; then ping (also with 8000-byte
# payloads that do not fragment at MTU 9000) and TCP streams both ways
# with checksums pass between the namespaces through the VSP.  At the
# end nothing of the guest is mapped in dom0.  Speaks TAP; exit 77 when
# network namespaces or tap devices cannot be made.
set -u

command -v ip > /dev/null && [ -c /dev/net/tun ] || exit 77
NS=nvsp$$
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
MAC=02:16:3e:4e:56:01
MTU=9000
# RFC 2544's benchmarking range, inside namespaces this test made.
HOST_IP=198.18.0.1
GUEST_IP=198.18.0.2
CHECKS="buffer-before-init-refused unknown-version-refused
bring-up-as-hv_netvsc version-6.1 receive-buffer-sections
send-buffer-section-size mac-from-configuration mtu-from-configuration
link-up-indicated media-connect-status current-address offload-capabilities
rss-not-offered unknown-oid-refused set-offload-parameters mac-change-refused
set-lying-offset-refused keepalive rndis-length-beyond-buffer-refused
section-index-beyond-buffer-refused section-size-beyond-section-refused
packet-data-beyond-message-refused ppi-size-lying-refused
checksum-offset-beyond-frame-refused bad-grant-refs-refused
range-count-lying-refused range-offset-beyond-page-refused
second-receive-buffer-refused version-change-with-buffers-refused
unknown-nvsp-message-refused keepalive-flood-all-answered-bounded"

echo "1..$(($(echo $CHECKS | wc -w) + 13))"
check "host starts" "$X" host start
g1=$("$X" create --name g1 --memory 64)
check "guest created and bus attached" attach "$g1"
base_maps=$(field 0 maps_held)

$H "$X" run 0 -- "$PEER" server "$g1" --tap nvh0 --mac $MAC --mtu $MTU \
	> "$RUN/server.out" 2>&1 &
pids+=($!)
wait_for "$RUN/server.out" "serving domain" 50
$H ip addr add $HOST_IP/24 dev nvh0
$G ip link set lo up
$G "$X" run "$g1" -- "$PEER" client --tap nvg0 --checks --expect-mac $MAC \
	--expect-mtu $MTU > "$RUN/client.out" 2>&1 &
client=$!
pids+=($client)
wait_for "$RUN/client.out" "forwarding on\|FAIL bring-up" 300
for c in $CHECKS; do
	if grep -q "^PASS $c\$" "$RUN/client.out"; then
		ok "$c"
	else
		not_ok "$c"
		grep "^FAIL $c:" "$RUN/client.out" | show /dev/stdin
	fi
done
$G ip addr add $GUEST_IP/24 dev nvg0
$G ip link set nvg0 up
check "the tap in dom0's namespace has the MTU configured" \
	[ "$($H cat /sys/class/net/nvh0/mtu)" = $MTU ]
pingcheck "ping from the guest's namespace to dom0's through the VSP" \
	$G ping -c 3 -i 0.2 -W 5 $HOST_IP
pingcheck "ping from dom0's namespace to the guest's" \
	$H ping -c 3 -i 0.2 -W 5 $GUEST_IP
pingcheck "ping with 8000-byte payloads, not fragmented (MTU 9000)" \
	$H ping -c 3 -i 0.2 -W 5 -s 8000 -M do $GUEST_IP

# TCP streams with checksums, each way: 32 MiB of random bytes.
stream() {	# SERVER_NS CLIENT_NS SERVER_IP PORT
	local out=$RUN/stream.$4
	$1 python3 -c '
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1); s.settimeout(60)
c, _ = s.accept(); c.settimeout(60); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(1 << 20)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest())' "$3" "$4" > "$out" 2>&1 &
	local srv=$!
	sleep 0.5
	sent=$($2 python3 -c '
import hashlib, os, socket, sys, time
d = os.urandom(32 << 20); s = socket.create_connection((sys.argv[1], int(sys.argv[2])), 30)
t = time.time(); s.sendall(d); s.shutdown(socket.SHUT_WR); s.recv(1); s.close()
print(len(d), hashlib.sha256(d).hexdigest(), "%.1f" % (len(d) * 8 / (time.time() - t) / 1e6))' "$3" "$4")
	wait $srv
	echo "# $sent Mb/s"
	[ -n "$sent" ] && [ "$(cat "$out")" = "$(echo "$sent" | cut -d' ' -f1,2)" ]
}
check "TCP stream guest to dom0, 32 MiB, checksum matches" \
	stream "$H" "$G" $HOST_IP 5001
check "TCP stream dom0 to guest, 32 MiB, checksum matches" \
	stream "$G" "$H" $GUEST_IP 5002

kill -TERM $client
wait $client
wait_for "$RUN/server.out" "after close" 50
stats=$(grep "server: closed:" "$RUN/server.out")
num() { echo "$stats" | sed -n "s/.* $1 \([0-9x]*\).*/\1/p"; }
echo "# $stats"
check "the guest's large sends went as LSO" [ "$(num tx_lso)" -ge 1 ]
check "checksum offload was asked for" [ "$(num tx_csum)" -ge 1 ]
check "completions naming no receive packet were counted, not followed" \
	[ "$(num bad_completions)" -ge 3 ]
check "the VSP holds no buffer page and no receive packet after close" \
	grep -q "after close: .*buf_pages 0 rx_inflight 0" "$RUN/server.out"
check "dom0 maps nothing of the guest's memory after close" \
	[ "$(field 0 maps_held)" = "$base_maps" ]
if [ "$failed" -gt 0 ]; then show "$RUN/client.out" "$RUN/server.out"; fi
exit 0
