#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The bus daemon and pipes on the simulated host: vmbusctl attaches two
# guests and offers pipes; guests negotiate, discover the offers, open
# byte- and message-mode pipes to dom0 echo services and stream with a
# checksum; a pipe is rescinded while open; a guest is destroyed
# mid-stream and the daemon goes on serving the other; everything the
# guests held is released.  Speaks TAP.
set -u

. "$(dirname "$0")/tap-lib.sh"
CLIENT="$top_builddir/tools/vmbus-pipe-client"

echo "1..21"
check "host starts" env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$RUN/asan" "$X" host start
g1=$("$X" create --name g1) && g2=$("$X" create --name g2)
base_maps=$(field 0 maps_held)
check "vmbusctl attaches two guests" eval "ctl attach g1 >/dev/null && ctl attach g2 >/dev/null"

"$X" run 0 -- "$VMBUSD" -F -v --pid-file "$RUN/vmbusd.pid" > "$RUN/vmbusd.log" 2>&1 &
pids+=($!)
"$CLIENT" --echo-service "$RUN/echo.sock" > "$RUN/echo.log" 2>&1 &
pids+=($!)
"$CLIENT" --echo-service "$RUN/echo-msg.sock" --message-mode > "$RUN/echo-msg.log" 2>&1 &
pids+=($!)
check "vmbusd starts, writes its pid file and serves both buses" \
	eval "wait_for '$RUN/vmbusd.log' 'domain $g2: serving' && wait_file '$RUN/vmbusd.pid' && wait_for '$RUN/vmbusd.log' 'domain $g1: serving'"
dpid=$(cat "$RUN/vmbusd.pid" 2>/dev/null)
wait_for "$RUN/echo-msg.log" listening

check "vmbusctl offers byte- and message-mode pipes" \
	eval "ctl offer g1 --pipe echo --service '$RUN/echo.sock' >/dev/null &&
	      ctl offer g1 --pipe echo-msg --service '$RUN/echo-msg.sock' --message-mode >/dev/null &&
	      ctl offer g2 --pipe echo --service '$RUN/echo.sock' >/dev/null &&
	      wait_for '$RUN/vmbusd.log' 'domain $g2: offered pipe'"

if client g1 "$RUN/c1.out" --bytes 8000000 --chunk 3000 echo &&
   grep -q "checksum .*MATCH" "$RUN/c1.out"; then
	ok "g1 streams 8 MB through a byte-mode pipe, checksum matches"
else
	not_ok "g1 streams 8 MB through a byte-mode pipe, checksum matches"; show "$RUN/c1.out"
fi
check "negotiation: bus version 1.1, both offers discovered" \
	eval "grep -q 'protocol version 1.1' '$RUN/c1.out' && grep -q '2 offer(s)' '$RUN/c1.out'"
if client g1 "$RUN/c2.out" --bytes 2000000 --chunk 5000 --ring-pages 4 echo-msg &&
   grep -q "received 2000000 bytes in 400 packets" "$RUN/c2.out" &&
   grep -q "checksum .*MATCH" "$RUN/c2.out"; then
	ok "message mode keeps packet boundaries (400 messages of 5000 bytes, 4-page rings)"
else
	not_ok "message mode keeps packet boundaries (400 messages of 5000 bytes, 4-page rings)"; show "$RUN/c2.out"
fi

# A slow stream, to look at and then to rescind.
client g1 "$RUN/c3.out" --bytes 100000000 --chunk 1000 --delay-ms 2 echo &
c3=$!
sleep 2
ctl list --json > "$RUN/list.json"
check "vmbusctl list --json shows the open pipe with ring indexes and counters" \
	grep -q "\"domid\":$g1,\"backend\":\"Connected\",\"frontend\":\"Connected\".*\"name\":\"echo\",\"mode\":\"byte\",\"service\":\"[^\"]*\",\"state\":\"open\",\"tx_write\":[0-9]*,.*\"tx_packets\":[1-9]" "$RUN/list.json"
check "vmbusctl list shows a table" eval "ctl list | grep -q '^$g1 .*echo .*byte .*open'"
ctl rescind g1 echo > /dev/null
wait "$c3"
rc3=$?
if [ "$rc3" = 3 ] && grep -q 'rescinded' "$RUN/c3.out"; then
	ok "rescind while open: the guest sees the pipe closed by dom0"
else
	not_ok "rescind while open: the guest sees the pipe closed by dom0"; show "$RUN/c3.out"
fi
check "the rescinded pipe is gone from the guest's offers" \
	eval "client g1 '$RUN/c4.out' --wait 0 echo; grep -q '1 offer(s)' '$RUN/c4.out' && grep -q 'no pipe \"echo\"' '$RUN/c4.out'"

# Guest death mid-stream.
client g2 "$RUN/c5.out" --bytes 100000000 --chunk 2000 --delay-ms 1 echo &
c5=$!
disown "$c5"
wait_for "$RUN/vmbusd.log" "domain $g2 pipe \"echo\" (channel 1) connected"
sleep 0.5
check "g2 holds grants for its rings mid-stream" [ "$(field "$g2" grants)" -gt 10 ]
"$X" destroy --wait g2
check "destroying g2 mid-stream: vmbusd releases its bus and keeps running" \
	eval "wait_for '$RUN/vmbusd.log' 'domain $g2: bus released (domain gone)' && kill -0 $dpid"
check "g2's backend directory and published state are removed" \
	eval "! '$X' run 0 -- xenstore-read /local/domain/0/backend/vmbus/$g2/0/state 2>/dev/null &&
	      ! '$X' run 0 -- xenstore-ls /local/domain/0/vmbusd/$g2 >/dev/null 2>&1"
if client g1 "$RUN/c6.out" --bytes 4000000 echo-msg && grep -q "checksum .*MATCH" "$RUN/c6.out"; then
	ok "the daemon still serves g1 after g2's death"
else
	not_ok "the daemon still serves g1 after g2's death"; show "$RUN/c6.out"
fi
g1_grants=$(field "$g1" grants)
maps=$(field 0 maps_held)
# g2's xenstore page was one of dom0's mappings at the baseline.
if [ "$g1_grants" = 1 ] && [ "$maps" = $((base_maps - 1)) ] && [ "$(field 0 grant_maps)" = 0 ]; then
	ok "everything released: g1 holds only its xenstore grant, dom0 maps no guest grant"
else
	not_ok "everything released: g1 holds only its xenstore grant, dom0 maps no guest grant"
	echo "# g1 grants $g1_grants, dom0 maps $maps (baseline $base_maps)"
	"$X" info 0 --json | sed 's/^/# /'
fi
# A hostile frontend: garbage where the ring grants should be.
fe=/local/domain/$g1/device/vmbus/0
be=/local/domain/0/backend/vmbus/$g1/0
"$X" run g1 -- xenstore-write "$fe/state" 1
for _ in $(seq 50); do [ "$("$X" run 0 -- xenstore-read "$be/state")" = 2 ] && break; sleep 0.1; done
"$X" run g1 -- xenstore-write "$fe/ring-page-order" 2 "$fe/ring-ref0" 12abc "$fe/event-channel" 99999999999 "$fe/state" 3
for _ in $(seq 50); do [ "$("$X" run 0 -- xenstore-read "$be/state")" = 6 ] && break; sleep 0.1; done
check "a frontend publishing garbage gets its backend Closed with an error node" \
	eval "[ \"\$('$X' run 0 -- xenstore-read '$be/state')\" = 6 ] && '$X' run 0 -- xenstore-read '$be/error' | grep -q 'ring-ref'"
if client g1 "$RUN/c7.out" --bytes 1000000 echo-msg && grep -q "checksum .*MATCH" "$RUN/c7.out" && kill -0 "$dpid"; then
	ok "after the garbage, the daemon still runs and the guest reconnects"
else
	not_ok "after the garbage, the daemon still runs and the guest reconnects"; show "$RUN/c7.out"
fi
# A message-mode service that sends more than the guest's ring carries in
# one message: the pipe ends with a reason, nothing is passed on cut.
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
s.listen(4)
print("listening", flush=True)
c, _ = s.accept()
c.send(b"x" * 65000)
time.sleep(60)
' "$RUN/big.sock" > "$RUN/big.log" 2>&1 &
pids+=($!)
wait_for "$RUN/big.log" listening
ctl offer g1 --pipe big --service "$RUN/big.sock" --message-mode >/dev/null
wait_for "$RUN/vmbusd.log" 'domain '"$g1"': offered pipe "big"'
timeout 30 "$X" run g1 -- "$CLIENT" --bytes 100000 --chunk 1000 --ring-pages 4 big > "$RUN/c8.out" 2>&1
rc=$?
if [ $rc != 124 ] && grep -q "received 0 bytes" "$RUN/c8.out" &&
   wait_for "$RUN/vmbusd.log" 'pipe "big": .* sent a message of 65000 bytes, more than the pipe carries' &&
   kill -0 "$dpid"; then
	ok "a service message larger than the ring ends the pipe with a reason, not cut"
else
	not_ok "a service message larger than the ring ends the pipe with a reason, not cut"; show "$RUN/c8.out"; show_vmbusd_log
fi
kill -TERM "$dpid"
check "vmbusd exits on SIGTERM and removes its pid file" \
	eval "for _ in \$(seq 50); do kill -0 $dpid 2>/dev/null || break; sleep 0.1; done; ! kill -0 $dpid 2>/dev/null && [ ! -e '$RUN/vmbusd.pid' ]"
if grep -qE "AddressSanitizer|runtime error|LeakSanitizer" "$RUN/vmbusd.log" "$RUN"/c*.out ||
   ls "$RUN"/asan.* >/dev/null 2>&1; then
	not_ok "no sanitizer reports"
	grep -hE -A20 "AddressSanitizer|runtime error|LeakSanitizer" "$RUN/vmbusd.log" "$RUN"/c*.out "$RUN"/asan.* 2>/dev/null | head -60 | sed 's/^/# /'
else
	ok "no sanitizer reports"
fi
exit 0
