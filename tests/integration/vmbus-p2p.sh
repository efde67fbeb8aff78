#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Pipes between two guests on the simulated host: "vmbusctl p2p" makes a
# byte-mode and a message-mode pipe between g1 and g2; each guest streams
# 8 MB to the other with a checksum, through rings one guest grants to the
# other and an interdomain event channel, with dom0 mapping nothing.  A
# pipe is rescinded while open, a guest is destroyed mid-stream while the
# other guest's pipe to a dom0 service keeps streaming, hostile guests are
# refused, and everything is released afterwards.  Speaks TAP.
set -u

. "$(dirname "$0")/tap-lib.sh"
CLIENT="$top_builddir/tools/vmbus-pipe-client"
HOSTILE="$top_builddir/tests/integration/vmbus-p2p-hostile"

# sum FILE sent|received: the checksum a client printed.
sum() { sed -n "s/.*peer checksum sent \([0-9a-f]*\) received \([0-9a-f]*\).*/\\$([ "$2" = sent ] && echo 1 || echo 2)/p" "$1"; }
# crossed A B: what A sent is what B received, and the other way round.
crossed() {
	[ -n "$(sum "$1" sent)" ] && [ "$(sum "$1" sent)" = "$(sum "$2" received)" ] &&
	[ "$(sum "$2" sent)" = "$(sum "$1" received)" ] && [ "$(sum "$1" sent)" != "$(sum "$2" sent)" ]
}
# stream NAME BYTES ARGS...: g1 and g2 stream to each other at once.
stream() {
	local name=$1 bytes=$2; shift 2
	client g1 "$RUN/$name.g1" --wait 20 --seed 11 --bytes "$bytes" "$@" "$name" &
	local p1=$!
	client g2 "$RUN/$name.g2" --wait 20 --seed 22 --bytes "$bytes" "$@" "$name"
	local r2=$?
	wait $p1
	local r1=$?
	[ $r1 = 0 ] && [ $r2 = 0 ] && crossed "$RUN/$name.g1" "$RUN/$name.g2" &&
		grep -q "received $bytes bytes" "$RUN/$name.g1" && grep -q "received $bytes bytes" "$RUN/$name.g2"
}

echo "1..26"
check "host starts" env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$RUN/asan" "$X" host start
g1=$("$X" create --name g1) && g2=$("$X" create --name g2) && g3=$("$X" create --name g3)
base_maps=$(field 0 maps_held)
base_ports=$(field 0 ports)
check "vmbusctl attaches three guests" \
	eval "ctl attach g1 >/dev/null && ctl attach g2 >/dev/null && ctl attach g3 >/dev/null"

# Everything below runs with the daemon's capabilities dropped.
"$X" run 0 -- "$VMBUSD" -F -v --drop-caps --pid-file "$RUN/vmbusd.pid" > "$RUN/vmbusd.log" 2>&1 &
pids+=($!)
"$CLIENT" --echo-service "$RUN/echo.sock" > "$RUN/echo.log" 2>&1 &
pids+=($!)
wait_for "$RUN/vmbusd.log" "domain $g3: serving"
wait_for "$RUN/echo.log" listening
dpid=$(cat "$RUN/vmbusd.pid" 2>/dev/null)
# CAP_NET_ADMIN (bit 12) stays, for the taps of the NICs it offers.
check "vmbusd --drop-caps runs with no capability but net_admin and with no_new_privs" \
	eval "grep -q '^CapEff:[[:space:]]*0*1000$' /proc/$dpid/status && grep -q '^CapPrm:[[:space:]]*0*1000$' /proc/$dpid/status &&
	      grep -q '^CapBnd:[[:space:]]*0*1000$' /proc/$dpid/status && grep -q '^NoNewPrivs:[[:space:]]*1' /proc/$dpid/status"

check "vmbusctl p2p makes a byte-mode and a message-mode pipe between g1 and g2 (g2 grants the second)" \
	eval "ctl p2p g1 g2 --name bytes >/dev/null && ctl p2p g2 g1 --name msgs --mode message >/dev/null &&
	      ctl offer g1 --pipe echo --service '$RUN/echo.sock' >/dev/null &&
	      wait_for '$RUN/vmbusd.log' 'pipe \"msgs\" (message mode) offered between domain $g2'"
if ! ctl p2p g1 g1 --name x > "$RUN/bad.out" 2>&1 && ! ctl p2p g1 g2 --name bytes >> "$RUN/bad.out" 2>&1 &&
   ! ctl p2p g1 g2 --name y --mode stream >> "$RUN/bad.out" 2>&1 && ! ctl p2p g1 0 --name z >> "$RUN/bad.out" 2>&1 &&
   grep -q 'two different domains' "$RUN/bad.out" && grep -q 'already has a pipe "bytes"' "$RUN/bad.out"; then
	ok "vmbusctl p2p refuses the same domain twice, a name in use, a bad mode and dom0"
else
	not_ok "vmbusctl p2p refuses the same domain twice, a name in use, a bad mode and dom0"; show "$RUN/bad.out"
fi

if stream bytes 8000000 --chunk 4000; then
	ok "byte mode: g1 and g2 stream 8 MB to each other at once, checksums match each way"
else
	not_ok "byte mode: g1 and g2 stream 8 MB to each other at once, checksums match each way"; show "$RUN/bytes.g1" "$RUN/bytes.g2"
fi
if client g1 "$RUN/echo.fast" --bytes 8000000 --chunk 4000 echo && grep -q "checksum .*MATCH" "$RUN/echo.fast"; then
	ok "g1 also streams 8 MB through its pipe to a dom0 echo service"
else
	not_ok "g1 also streams 8 MB through its pipe to a dom0 echo service"; show "$RUN/echo.fast"
fi
check "the guests negotiated bus 1.1 and see the pipe as one to the other guest" \
	eval "grep -q 'protocol version 1.1' '$RUN/bytes.g1' && grep -q 'pipe \"bytes\" (byte mode, to domain $g2)' '$RUN/bytes.g1' &&
	      grep -q 'the other end is domain $g1' '$RUN/bytes.g2'"
if stream msgs 8000000 --chunk 5000 --ring-pages 8 &&
   grep -q "received 8000000 bytes in 1600 packets" "$RUN/msgs.g1" && grep -q "received 8000000 bytes in 1600 packets" "$RUN/msgs.g2"; then
	ok "message mode: 8 MB each way in 1600 messages of 5000 bytes, boundaries and checksums kept"
else
	not_ok "message mode: 8 MB each way in 1600 messages of 5000 bytes, boundaries and checksums kept"; show "$RUN/msgs.g1" "$RUN/msgs.g2"
fi
if stream bytes 1000000 --chunk 3000; then
	ok "the ended pipe is offered again and opens anew"
else
	not_ok "the ended pipe is offered again and opens anew"; show "$RUN/bytes.g1" "$RUN/bytes.g2"
fi

# A slow stream: look at it, then rescind it.  The pair connected before:
# wait for this stream's own "connected" line, not the last one's.
joined=$(grep -c "pipe \"bytes\": domain $g1 and domain $g2 are connected" "$RUN/vmbusd.log")
client g1 "$RUN/slow.g1" --wait 20 --seed 1 --bytes 100000000 --chunk 1000 --delay-ms 2 bytes &
s1=$!
client g2 "$RUN/slow.g2" --wait 20 --seed 2 --bytes 100000000 --chunk 1000 --delay-ms 2 bytes &
s2=$!
for _ in $(seq 100); do
	[ "$(grep -c "pipe \"bytes\": domain $g1 and domain $g2 are connected" "$RUN/vmbusd.log")" -gt "$joined" ] && break
	sleep 0.1
done
sleep 1	# vmbusd publishes its state once a second
# dom0 maps the two control rings (16 pages each) and liveness pages (one
# each), and no ring of the pipe; g2 maps g1's first ring page a second
# time, with its unmap notification.
if [ "$(field 0 grant_maps)" = 0 ] && [ "$(field 0 maps_held)" = $((base_maps + 2 * (16 + 1))) ] &&
   [ "$(field "$g2" maps_held)" = $((32 + 1)) ] && [ "$(field "$g1" grant_maps)" = $((1 + 16 + 1 + 32 + 1)) ]; then
	ok "while streaming, g2 maps g1's rings and dom0 maps no guest page"
else
	not_ok "while streaming, g2 maps g1's rings and dom0 maps no guest page"
	for d in 0 "$g1" "$g2"; do "$X" info "$d" --json | sed 's/^/# /'; done
fi
ctl list --json > "$RUN/list.json"
check "vmbusctl list --json shows both ends open with peer and role" \
	eval "grep -q '\"name\":\"bytes\",\"mode\":\"byte\",\"service\":\"domain:$g2\",\"peer\":$g2,\"role\":\"opener\",\"state\":\"open\"' '$RUN/list.json' &&
	      grep -q '\"name\":\"bytes\",\"mode\":\"byte\",\"service\":\"domain:$g1\",\"peer\":$g1,\"role\":\"acceptor\",\"state\":\"open\"' '$RUN/list.json'"
[ "$failed" = 0 ] || show "$RUN/list.json"
ctl rescind g2 bytes > "$RUN/rescind.out"
wait $s1
r1=$?
wait $s2
r2=$?
if [ $r1 = 3 ] && [ $r2 = 3 ] && grep -q 'rescinded' "$RUN/slow.g1" && grep -q 'rescinded' "$RUN/slow.g2" &&
   grep -q "domain $g1" "$RUN/rescind.out"; then
	ok "rescind while open: both guests see the pipe closed, the entry goes at both ends"
else
	not_ok "rescind while open: both guests see the pipe closed, the entry goes at both ends"; show "$RUN/slow.g1" "$RUN/slow.g2" "$RUN/rescind.out"
fi

# A guest destroyed mid-stream, while the other also streams to dom0.
ctl p2p g3 g1 --name victim > /dev/null
wait_for "$RUN/vmbusd.log" "pipe \"victim\" (byte mode) offered"
# g1 streams to g3 and to the dom0 echo service from one client, one bus.
(exec "$X" run g3 -- "$CLIENT" --wait 20 --seed 6 --bytes 100000000 --chunk 2000 --delay-ms 1 victim > "$RUN/victim.g3" 2>&1 &)
client g1 "$RUN/victim.g1" --wait 20 --seed 5 --bytes 3000000 --chunk 1000 --delay-ms 1 victim echo &
v1=$!
wait_for "$RUN/vmbusd.log" "pipe \"victim\": domain $g3 and domain $g1 are connected" 100
wait_for "$RUN/vmbusd.log" "domain $g1 pipe \"echo\" (channel [0-9]*) connected" 100
sleep 1
check "g1 maps g3's rings mid-stream" [ "$(field "$g1" maps_held)" = $((32 + 1)) ]
"$X" destroy --wait g3
t0=$(date +%s%N)
wait_for "$RUN/victim.g1" 'the peer closed or went away' 100
dt=$((($(date +%s%N) - t0) / 1000000))
if grep -q '\[victim\] pipe closed by dom0 (offer rescinded: the peer closed or went away)' "$RUN/victim.g1" && [ $dt -lt 5000 ]; then
	ok "destroying g3 mid-stream: g1's end is rescinded within ${dt} ms, no hang"
else
	not_ok "destroying g3 mid-stream: g1's end is rescinded within ${dt} ms, no hang"; show "$RUN/victim.g1"
fi
wait $v1
rv=$?
if [ $rv = 3 ] && grep -q "\[echo\] checksum .*MATCH" "$RUN/victim.g1" && kill -0 "$dpid"; then
	ok "g1's pipe to the dom0 echo service, streaming meanwhile, completes with MATCH; vmbusd runs"
else
	not_ok "g1's pipe to the dom0 echo service, streaming meanwhile, completes with MATCH; vmbusd runs"; show "$RUN/victim.g1"
fi
check "vmbusd released g3's bus and removed g1's entry for the pipe to it" \
	eval "wait_for '$RUN/vmbusd.log' 'domain $g3: bus released (domain gone)' &&
	      wait_for '$RUN/vmbusd.log' 'domain $g1: removed pipe \"victim\"' &&
	      ! ctl list | grep -q victim"

# Hostile guests around a pipe: first as its opener, then as its acceptor.
ctl p2p g1 g2 --name h > /dev/null
wait_for "$RUN/vmbusd.log" "pipe \"h\" (byte mode) offered"
client g2 "$RUN/h.g2" --wait 20 h &
h2=$!
sleep 0.5
"$X" run g1 -- "$HOSTILE" h > "$RUN/hostile1.out" 2>&1
rh=$?
wait $h2
if [ $rh = 0 ] && grep -q "failed to map the 8 ring grants of domain $g1" "$RUN/h.g2" && kill -0 "$dpid"; then
	ok "a hostile opener: garbage, bad GPADLs and opens refused; made-up grants fail to map at the peer"
else
	not_ok "a hostile opener: garbage, bad GPADLs and opens refused; made-up grants fail to map at the peer"; show "$RUN/hostile1.out" "$RUN/h.g2"
fi
if "$X" run g2 -- "$HOSTILE" h > "$RUN/hostile2.out" 2>&1 && grep -q "acceptor of a pipe" "$RUN/hostile2.out"; then
	ok "a hostile acceptor: its ring GPADL and rings are refused"
else
	not_ok "a hostile acceptor: its ring GPADL and rings are refused"; show "$RUN/hostile2.out"
fi
check "guest faults are logged once per kind, not per message" \
	[ "$(grep -c "domain $g1: dropped" "$RUN/vmbusd.log")" -le 2 ]
if stream h 2000000 --chunk 4000; then
	ok "after the hostile guests, the pipe between them streams with matching checksums"
else
	not_ok "after the hostile guests, the pipe between them streams with matching checksums"; show "$RUN/h.g1" "$RUN/h.g2"
fi

# Everything released: each guest holds its xenstore grant and port only,
# dom0 maps only the xenstore pages of the live guests.
sleep 0.5
ports_ok=1
for d in "$g1" "$g2"; do
	[ "$(field "$d" grants)" = 1 ] && [ "$(field "$d" ports)" = 1 ] && [ "$(field "$d" maps_held)" = 0 ] || ports_ok=0
done
if [ $ports_ok = 1 ] && [ "$(field 0 maps_held)" = $((base_maps - 1)) ] && [ "$(field 0 grant_maps)" = 0 ] &&
   [ "$(field 0 ports)" -le "$base_ports" ]; then
	ok "everything released: grants, mappings and ports back to the baseline"
else
	not_ok "everything released: grants, mappings and ports back to the baseline"
	echo "# baseline dom0 maps $base_maps ports $base_ports"
	for d in 0 "$g1" "$g2"; do "$X" info "$d" --json | sed 's/^/# /'; done
fi
# vmbusctl connect joins its standard input and output to a pipe: looped
# through a fifo, it is an echo service of its own.
mkfifo "$RUN/term.fifo"
"$X" run 0 -- "$CTL" connect g1 term 0<>"$RUN/term.fifo" 1>"$RUN/term.fifo" 2>"$RUN/connect.err" &
cpid=$!
wait_for "$RUN/connect.err" "waiting for domain $g1"
if client g1 "$RUN/term.g1" --bytes 1000000 --chunk 2000 term && grep -q "checksum .*MATCH" "$RUN/term.g1" &&
   wait_for "$RUN/vmbusd.log" "domain $g1 pipe \"term\" closed" && wait "$cpid" &&
   ! ctl list | grep -q ' term '; then
	ok "vmbusctl connect: a guest streams through the terminal's pipe, the offer goes when it ends"
else
	not_ok "vmbusctl connect: a guest streams through the terminal's pipe, the offer goes when it ends"; show "$RUN/term.g1" "$RUN/connect.err"
fi
ctl detach g2 > "$RUN/detach.out" 2>&1
if wait_for "$RUN/vmbusd.log" "domain $g2: bus released" &&
   ! "$X" run 0 -- xenstore-read "/local/domain/$g2/device/vmbus/0/state" >/dev/null 2>&1 &&
   ! "$X" run 0 -- xenstore-read "/local/domain/0/backend/vmbus/$g2/0/state" >/dev/null 2>&1; then
	ok "vmbusctl detach: vmbusd releases the bus, both directories are gone"
else
	not_ok "vmbusctl detach: vmbusd releases the bus, both directories are gone"; show "$RUN/detach.out"
	grep "domain $g2" "$RUN/vmbusd.log" | tail -3 | sed 's/^/# /'
fi
kill -TERM "$dpid"
check "vmbusd exits on SIGTERM" \
	eval "for _ in \$(seq 50); do kill -0 $dpid 2>/dev/null || break; sleep 0.1; done; ! kill -0 $dpid 2>/dev/null"
if grep -qE "AddressSanitizer|runtime error|LeakSanitizer" "$RUN/vmbusd.log" "$RUN"/*.g? "$RUN"/hostile*.out ||
   ls "$RUN"/asan.* >/dev/null 2>&1; then
	not_ok "no sanitizer reports"
	grep -hE -A20 "AddressSanitizer|runtime error|LeakSanitizer" "$RUN/vmbusd.log" "$RUN"/*.g? "$RUN"/asan.* 2>/dev/null | head -60 | sed 's/^/# /'
else
	ok "no sanitizer reports"
fi
echo "# figures: guest to guest: $(sed -n 's/.*(\(.* MB\/s out\).*/\1/p' "$RUN/bytes.g1" | head -1); guest to a dom0 echo: $(sed -n 's/.*(\(.* MB\/s each way\)).*/\1/p' "$RUN/echo.fast")"
exit 0
