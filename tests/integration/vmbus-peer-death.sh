#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A dead peer is noticed, on the simulated host.  The bus daemon is killed
# (SIGKILL) under a guest's pipe stream: the guest's channel fails with
# -ENOTCONN within a few hundred milliseconds (the unmap notification of
# the daemon's liveness-page mapping, not a timeout), and when the daemon
# is started again the guest's bus connects again by itself and a new
# stream goes through.  A daemon started while a frontend still says
# Connected (to the daemon before it) does not take over its rings: it
# goes Closing and the frontend starts over.  A guest's program at one end
# of a pipe between guests is killed: the other guest's end is rescinded.
# With the daemon stopped, the acceptor's program of such a pipe is killed:
# the opener notices by itself (the unmap notification on the acceptor's
# mapping of its first ring page).  A guest detached under a program keeps
# its directories removed.  Speaks TAP.
set -u

. "$(dirname "$0")/tap-lib.sh"
CLIENT="$top_builddir/tools/vmbus-pipe-client"

# ms: milliseconds since the epoch.
ms() { date +%s%3N; }
# wait_exit PID TENTHS: true once PID has exited, within TENTHS.
wait_exit() {
	local _
	for _ in $(seq "$2"); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}
# prog DOMAIN OUTFILE ARGS...: $CLIENT in the domain, in the background,
# its own pid in $! (xensim run execs it) for signals.
prog() {
	local d=$1 out=$2; shift 2
	"$X" run "$d" -- "$CLIENT" "$@" > "$out" 2>&1 &
}
# be_state DOMID: the backend's XenbusState.
be_state() { dom0 xenstore-read "/local/domain/0/backend/vmbus/$1/0/state" 2>/dev/null; }
# Each daemon logs after the one before it; wait_log looks only at the
# lines of the current one.
start_vmbusd() {
	mark=$(cat "$RUN/vmbusd.log" 2>/dev/null | wc -l)
	"$X" run 0 -- "$VMBUSD" -F -v --pid-file "$RUN/vmbusd.pid" >> "$RUN/vmbusd.log" 2>&1 &
	dpid=$!
	pids+=($dpid)
}
wait_log() {	# PATTERN [tenths]
	local _
	for _ in $(seq "${2:-100}"); do
		tail -n +$((mark + 1)) "$RUN/vmbusd.log" | grep -q -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

echo "1..16"
check "host starts" env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$RUN/asan" "$X" host start
g1=$("$X" create --name g1) && g2=$("$X" create --name g2)
base_maps=$(field 0 maps_held)
check "vmbusctl attaches two guests" eval "ctl attach g1 >/dev/null && ctl attach g2 >/dev/null"
"$CLIENT" --echo-service "$RUN/echo.sock" > "$RUN/echo.log" 2>&1 &
pids+=($!)
start_vmbusd
wait_log "domain $g2: serving"
wait_for "$RUN/echo.log" listening
ctl offer g1 --pipe echo --service "$RUN/echo.sock" > /dev/null
wait_log "domain $g1: offered pipe"

# A guest program streams, loses the bus and streams again once it is
# back.
prog g1 "$RUN/r.out" --reconnect 1 --wait 30 --bytes 40000000 --chunk 1000 --delay-ms 1 echo
r=$!
pids+=($r)
wait_log "domain $g1 pipe \"echo\" (channel 1) connected"
sleep 0.3
t0=$(ms)
kill -KILL "$dpid"
if wait_for "$RUN/r.out" "lost the bus" 50; then
	dt=$(($(ms) - t0))
else
	dt=
fi
if [ -n "$dt" ] && [ "$dt" -lt 3000 ] && grep -q "pipe closed by dom0" "$RUN/r.out"; then
	ok "vmbusd killed mid-stream: the guest's channel fails with -ENOTCONN in ${dt} ms"
else
	not_ok "vmbusd killed mid-stream: the guest's channel fails with -ENOTCONN in ${dt:-more than 5000} ms"; show "$RUN/r.out"
fi
check "the guest's frontend went back to Initialising, waiting for a backend" \
	eval "for _ in \$(seq 30); do [ \"\$('$X' run g1 -- xenstore-read device/vmbus/0/state)\" = 1 ] && break; sleep 0.1; done;
	      [ \"\$('$X' run g1 -- xenstore-read device/vmbus/0/state)\" = 1 ]"
start_vmbusd
if wait_exit "$r" 600; then
	wait "$r"
	rr=$?
else
	rr=timeout
fi
if [ "$rr" = 0 ] && grep -q "bus connected again" "$RUN/r.out" && grep -q "checksum .*MATCH" "$RUN/r.out"; then
	ok "vmbusd started again: the guest's bus connects by itself and a new stream completes with MATCH"
else
	not_ok "vmbusd started again: the guest's bus connects by itself and a new stream completes with MATCH (exit $rr)"; show "$RUN/r.out"
fi

# The guest cannot react (stopped) while the daemon dies and a new one
# starts: the new one finds the frontend Connected to the old one.
prog g1 "$RUN/s.out" --reconnect 1 --wait 30 --bytes 40000000 --chunk 1000 --delay-ms 1 echo
r=$!
pids+=($r)
wait_for "$RUN/s.out" "opened pipe" 100
sleep 0.3
kill -STOP "$r"
kill -KILL "$dpid"
wait_exit "$dpid" 50
start_vmbusd
wait_log "domain $g1: serving" 100
for _ in $(seq 50); do [ "$(be_state "$g1")" = 5 ] && break; sleep 0.1; done
st=$(be_state "$g1")
if [ "$st" = 5 ] && [ "$(field 0 maps_held)" = "$base_maps" ]; then
	ok "a new vmbusd finding the frontend Connected goes Closing and maps none of its rings"
else
	not_ok "a new vmbusd finding the frontend Connected goes Closing and maps none of its rings (state $st)"
	"$X" info 0 --json | sed 's/^/# /'
fi
kill -CONT "$r"
if wait_exit "$r" 600; then
	wait "$r"
	rr=$?
else
	rr=timeout
fi
if [ "$rr" = 0 ] && grep -q "bus connected again" "$RUN/s.out" && grep -q "checksum .*MATCH" "$RUN/s.out"; then
	ok "the frontend starts over: a new stream on the same bus completes with MATCH"
else
	not_ok "the frontend starts over: a new stream on the same bus completes with MATCH (exit $rr)"; show "$RUN/s.out"
fi
if client g1 "$RUN/n.out" --bytes 1000000 echo && grep -q "checksum .*MATCH" "$RUN/n.out"; then
	ok "a new guest program streams through the new vmbusd"
else
	not_ok "a new guest program streams through the new vmbusd"; show "$RUN/n.out"
fi

# A pipe between g1 and g2: g2's program is killed under the stream.
ctl p2p g1 g2 --name pp > /dev/null
wait_log "pipe \"pp\" (byte mode) offered"
prog g1 "$RUN/p.g1" --wait 20 --seed 1 --bytes 100000000 --chunk 1000 --delay-ms 2 pp
p1=$!
pids+=($p1)
prog g2 "$RUN/p.g2" --wait 20 --seed 2 --bytes 100000000 --chunk 1000 --delay-ms 2 pp
p2=$!
pids+=($p2)
check "the pipe between g1 and g2 connects" \
	wait_log "pipe \"pp\": domain $g1 and domain $g2 are connected" 100
sleep 0.5
t0=$(ms)
kill -KILL "$p2"
if wait_exit "$p1" 50; then
	dt=$(($(ms) - t0))
	wait "$p1"
	rp=$?
else
	dt= rp=timeout
fi
if [ "$rp" = 3 ] && [ -n "$dt" ] && [ "$dt" -lt 3000 ] && grep -q "pipe closed by dom0" "$RUN/p.g1"; then
	ok "g2's program killed mid-stream: g1's end is rescinded in ${dt} ms"
else
	not_ok "g2's program killed mid-stream: g1's end is rescinded (exit $rp)"; show "$RUN/p.g1"
fi
check "vmbusd saw g2's frontend let go of its liveness page" \
	wait_log "domain $g2: the frontend let go of its liveness page"
if ! client g2 "$RUN/e.g2" --wait 0 none && grep -q "bus connected" "$RUN/e.g2" &&
   grep -q "pipe \"pp\" (byte mode, to domain $g1)" "$RUN/e.g2"; then
	ok "a new program in g2 connects the bus again and finds the pipe offered again"
else
	not_ok "a new program in g2 connects the bus again and finds the pipe offered again"; show "$RUN/e.g2"
fi

# The same with the daemon stopped: only the rings can tell g1.
n0=$(tail -n +$((mark + 1)) "$RUN/vmbusd.log" | grep -c "pipe \"pp\": domain $g1 and domain $g2 are connected")
prog g1 "$RUN/q.g1" --wait 20 --seed 1 --bytes 100000000 --chunk 1000 --delay-ms 2 pp
q1=$!
pids+=($q1)
prog g2 "$RUN/q.g2" --wait 20 --seed 2 --bytes 100000000 --chunk 1000 --delay-ms 2 pp
q2=$!
pids+=($q2)
for _ in $(seq 100); do
	[ "$(tail -n +$((mark + 1)) "$RUN/vmbusd.log" | grep -c "pipe \"pp\": domain $g1 and domain $g2 are connected")" -gt "$n0" ] && break
	sleep 0.1
done
sleep 0.5
kill -STOP "$dpid"
t0=$(ms)
kill -KILL "$q2"
if wait_for "$RUN/q.g1" "pipe closed by dom0" 50; then
	dt=$(($(ms) - t0))
else
	dt=
fi
if [ -n "$dt" ] && [ "$dt" -lt 3000 ]; then
	ok "vmbusd stopped, g2's program killed: g1 (the opener) sees its end closed in ${dt} ms"
else
	not_ok "vmbusd stopped, g2's program killed: g1 (the opener) sees its end closed"; show "$RUN/q.g1"
fi
kill -CONT "$dpid"
if wait_exit "$q1" 100; then
	wait "$q1"
	rq=$?
else
	rq=timeout
fi
check "g1's program then ends with the pipe closed (exit $rq)" [ "$rq" = 3 ]

# Detached under a program: its bus fails for good, and neither it nor
# the daemon writes the removed directories back.
prog g2 "$RUN/d.g2" --wait 4 none
d2=$!
pids+=($d2)
wait_for "$RUN/d.g2" "offer(s)" 100
ctl detach g2 > /dev/null
wait_exit "$d2" 100
gone=$(kill -0 "$d2" 2>/dev/null && echo running)
dom0 xenstore-ls "/local/domain/$g2/device/vmbus" > /dev/null 2>&1 && gone="$gone frontend"
dom0 xenstore-ls "/local/domain/0/backend/vmbus/$g2" > /dev/null 2>&1 && gone="$gone backend"
if [ -z "$gone" ] && grep -q "was detached" "$RUN/d.g2"; then
	ok "g2 detached under a program: its bus ends and both directories stay gone"
else
	not_ok "g2 detached under a program: its bus ends and both directories stay gone ($gone)"; show "$RUN/d.g2"
	dom0 xenstore-ls "/local/domain/$g2/device" 2>&1 | sed 's/^/# device: /'
fi
kill -TERM "$dpid"
wait_exit "$dpid" 50
if grep -qE "AddressSanitizer|runtime error|LeakSanitizer" "$RUN/vmbusd.log" "$RUN"/*.out "$RUN"/p.g* ||
   ls "$RUN"/asan.* >/dev/null 2>&1; then
	not_ok "no sanitizer reports"
	grep -hE -A20 "AddressSanitizer|runtime error|LeakSanitizer" "$RUN/vmbusd.log" "$RUN"/*.out "$RUN"/asan.* 2>/dev/null | head -60 | sed 's/^/# /'
else
	ok "no sanitizer reports"
fi
exit 0
