#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A hostile bus on the simulated host: one guest loads the bus daemon
# through its control ring (bursts over the daemon's per-turn budget,
# oversized packets, answers it does not read, a storm of signals, dying
# without a word) while the daemon must keep serving it and another guest,
# whose pipe throughput is measured with and without the storm.  The
# figures are printed; the pass criteria are that everything completes and
# vmbusd stays up.  Speaks TAP.
set -u

. "$(dirname "$0")/tap-lib.sh"
CLIENT="$top_builddir/tools/vmbus-pipe-client"
HOSTILE="$top_builddir/tests/integration/vmbus-bus-hostile"
FLOW="$top_builddir/tests/integration/vmbus-ctl-flow"
FLOOD="$top_builddir/tests/integration/vmbus-pipe-flood"

# work DOMAIN KEY: a counter vmbusd publishes about serving DOMAIN's bus.
work() {
	dom0 xenstore-read "/local/domain/0/vmbusd/$1/work" 2>/dev/null |
		sed -n "s/.*\<$2=\([0-9]*\).*/\1/p"
}
# hostile DOMAIN NAME MODE [ARG]: run the hostile client, output in NAME.out.
hostile() {
	local d=$1 name=$2; shift 2
	"$X" run "$d" -- "$HOSTILE" "$@" > "$RUN/$name.out" 2>&1
}
alive() { kill -0 "$dpid" 2>/dev/null; }

echo "1..24"
check "host starts" env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$RUN/asan" "$X" host start
g1=$("$X" create --name g1) && g2=$("$X" create --name g2)
check "vmbusctl attaches two guests" eval "ctl attach g1 >/dev/null && ctl attach g2 >/dev/null"
"$X" run 0 -- "$VMBUSD" -F -v --pid-file "$RUN/vmbusd.pid" > "$RUN/vmbusd.log" 2>&1 &
pids+=($!)
"$CLIENT" --echo-service "$RUN/echo.sock" > "$RUN/echo.log" 2>&1 &
pids+=($!)
wait_for "$RUN/vmbusd.log" "domain $g2: serving"
wait_for "$RUN/vmbusd.log" "domain $g1: serving"
wait_for "$RUN/echo.log" listening
dpid=$(cat "$RUN/vmbusd.pid" 2>/dev/null)
# CAP_NET_ADMIN (bit 12) stays, for the taps of the NICs it offers.
check "vmbusd gives up every capability but net_admin by default, and says so" \
	eval "grep -q '^CapEff:[[:space:]]*0*1000$' /proc/$dpid/status && grep -q '^CapPrm:[[:space:]]*0*1000$' /proc/$dpid/status &&
	      { [ \"\$(id -u)\" != 0 ] || grep -q '^CapBnd:[[:space:]]*0*1000$' /proc/$dpid/status; } &&
	      grep -q '^NoNewPrivs:[[:space:]]*1' /proc/$dpid/status &&
	      grep -q 'dropped every capability but net_admin (the NICs. taps), no_new_privs set; kept uid' '$RUN/vmbusd.log'"
ctl offer g1 --pipe echo --service "$RUN/echo.sock" >/dev/null
ctl offer g2 --pipe echo --service "$RUN/echo.sock" >/dev/null
wait_for "$RUN/vmbusd.log" "domain $g2: offered pipe"

y0=$(work "$g1" budget_yields)
if hostile g1 burst burst 300 && alive; then
	ok "a burst of 300 control messages written with one signal is all read"
else
	not_ok "a burst of 300 control messages written with one signal is all read"; show "$RUN/burst.out"
fi
sleep 1.2	# the published counters follow once a second
check "the burst went over vmbusd's per-turn budget" [ "$(work "$g1" budget_yields)" -gt "${y0:-0}" ]
ctl list --json > "$RUN/list.json"
check "vmbusctl list --json shows the work counters, no channel named after them" \
	eval "grep -q '\"domid\":$g1,.*\"work\":{\"wakeups\":[1-9][0-9]*,.*\"budget_yields\":[1-9]' '$RUN/list.json' &&
	      ! ctl list | grep -q ' work '"
if hostile g1 oversize oversize && alive; then
	ok "oversized control packets are dropped; the bus survives"
else
	not_ok "oversized control packets are dropped; the bus survives"; show "$RUN/oversize.out"
fi
check "the oversized packets are logged, once" \
	[ "$(grep -c "domain $g1: dropped .* oversized" "$RUN/vmbusd.log")" = 1 ]
sleep 1.2
peak=$(work "$g1" ctl_queue_peak)
if hostile g1 replies replies 2000 && alive; then
	ok "2000 answers the guest does not read at once: none dropped"
else
	not_ok "2000 answers the guest does not read at once: none dropped"; show "$RUN/replies.out"
fi
sleep 1.2
check "vmbusd held answers back for the ring (peak queue $(work "$g1" ctl_queue_peak))" \
	[ "$(work "$g1" ctl_queue_peak)" -gt "${peak:-0}" ]

# A storm of signals: each wake-up must not cost a xenstore read.
# cputicks PID: user + system clock ticks a process has used.
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
w0=$(work "$g1" wakeups) s0=$(work "$g1" xs_steps) c0=$(cputicks "$dpid") t0=$(date +%s%N)
if hostile g1 storm storm 2 && alive; then
	ok "a 2 s storm of signals: the bus still answers"
else
	not_ok "a 2 s storm of signals: the bus still answers"; show "$RUN/storm.out"
fi
sleep 1.2
c1=$(cputicks "$dpid") t1=$(date +%s%N)
w1=$(work "$g1" wakeups) s1=$(work "$g1" xs_steps)
echo "# storm: $((w1 - w0)) wake-ups, $((s1 - s0)) frontend reads;" \
	"vmbusd used $(awk -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v ns=$((t1 - t0)) \
		'BEGIN { printf "%.0f", 100 * c / hz / (ns / 1e9) }')% of a CPU meanwhile"
check "wake-ups without a watch firing read no xenstore ($((w1 - w0)) wake-ups, $((s1 - s0)) reads)" \
	[ $((w1 - w0)) -gt 100 -a $((s1 - s0)) -le 8 ]
# Throttled after 64 wake-ups for nothing, for 20 ms: about 3200 a second.
check "the storm is throttled ($((w1 - w0)) wake-ups in 2 s, $(work "$g1" throttles) pauses; bound 10000)" \
	[ $((w1 - w0)) -le 10000 -a "$(work "$g1" throttles)" -gt 0 ]

# g2's pipe throughput alone, then while g1 storms.
rate() { sed -n 's/.*(\([0-9.]*\) MB\/s each way).*/\1/p' "$1" | head -1; }
client g2 "$RUN/quiet.g2" --bytes 8000000 --chunk 4000 echo
quiet=$(rate "$RUN/quiet.g2")
"$X" run g1 -- "$HOSTILE" storm 60 > "$RUN/storm2.out" 2>&1 &
spid=$!
pids+=($spid)
wait_for "$RUN/storm2.out" "storming"
if client g2 "$RUN/storm.g2" --bytes 8000000 --chunk 4000 echo &&
   grep -q "checksum .*MATCH" "$RUN/storm.g2" && alive; then
	ok "g2's pipe completes while g1 storms; vmbusd runs"
else
	not_ok "g2's pipe completes while g1 storms; vmbusd runs"; show "$RUN/storm.g2"
fi
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
stormy=$(rate "$RUN/storm.g2")
echo "# figures: g2's pipe alone ${quiet:-?} MB/s each way, during g1's storm ${stormy:-?} MB/s" \
	"(ratio $(awk -v a="${stormy:-0}" -v b="${quiet:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }'))"

# A pipe's ring full of packets that carry nothing for the service: each
# still costs vmbusd a receive, and counts against the pipe's budget.
# pipe_field DOMAIN NAME KEY: a counter vmbusd publishes about a pipe.
pipe_field() {
	local ch
	for ch in $(dom0 xenstore-list "/local/domain/0/vmbusd/$1" 2>/dev/null); do
		dom0 xenstore-read "/local/domain/0/vmbusd/$1/$ch" 2>/dev/null |
			grep " name=$2 " | sed -n "s/.*\<$3=\([0-9]*\).*/\1/p"
	done
}
"$X" run g1 -- "$FLOOD" echo 8000 64 > "$RUN/flood.out" 2>&1 &
fpid=$!
wait_for "$RUN/flood.out" "the echo came back"
sleep 1.2	# the published counters follow once a second
turns=$(pipe_field "$g1" echo busy_turns | head -n 1)
if timeout 30 tail --pid="$fpid" -f /dev/null && wait "$fpid" && alive &&
   grep -q "the echo came back" "$RUN/flood.out"; then
	ok "8000 completions written at once into a pipe: passed over, the echo comes back"
else
	not_ok "8000 completions written at once into a pipe: passed over, the echo comes back"; show "$RUN/flood.out"
fi
check "packets without data count against the pipe's budget (${turns:-no} turns yielded)" \
	[ "${turns:-0}" -gt 0 ]

# A storm of signals on a pipe's port with nothing to move: paused, as a
# storm on the bus's port is.
"$X" run g1 -- "$FLOOD" --storm 2 echo > "$RUN/pstorm.out" 2>&1 &
fpid=$!
wait_for "$RUN/pstorm.out" "the echo came back" 200
sleep 1.2
pauses=$(pipe_field "$g1" echo throttles | head -n 1)
if timeout 30 tail --pid="$fpid" -f /dev/null && wait "$fpid" && alive &&
   grep -q "the echo came back" "$RUN/pstorm.out"; then
	ok "a 2 s storm of signals on a pipe's port: the pipe still echoes"
else
	not_ok "a 2 s storm of signals on a pipe's port: the pipe still echoes"; show "$RUN/pstorm.out"
fi
sed -n 's/^flood: \([0-9]* signals.*\)/# pipe storm: \1/p' "$RUN/pstorm.out"
check "the pipe's port is paused during the storm (${pauses:-no} pauses)" \
	[ "${pauses:-0}" -gt 0 ]

# A service that never accepts, its backlog full: connecting to it must not
# stall the daemon for the other guest.
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(0)
c = socket.socket(socket.AF_UNIX)
c.connect(sys.argv[1])		# takes the one place in the backlog
print("listening", flush=True)
time.sleep(120)
' "$RUN/busy.sock" > "$RUN/busy.log" 2>&1 &
bpid=$!
pids+=($bpid)
wait_for "$RUN/busy.log" listening
ctl offer g1 --pipe busy --service "$RUN/busy.sock" >/dev/null
wait_for "$RUN/vmbusd.log" 'domain '"$g1"': offered pipe "busy"'
client g1 "$RUN/busy.g1" --bytes 1000 busy &
bc=$!
wait_for "$RUN/vmbusd.log" 'pipe "busy" (channel [0-9]*): .* is busy'
if timeout 30 "$X" run g2 -- "$CLIENT" --bytes 2000000 --chunk 4000 echo > "$RUN/busy.g2" 2>&1 &&
   grep -q "checksum .*MATCH" "$RUN/busy.g2"; then
	ok "while vmbusd waits for a busy service, g2's pipe streams"
else
	not_ok "while vmbusd waits for a busy service, g2's pipe streams"; show "$RUN/busy.g2"
fi
kill "$bpid" 2>/dev/null
if timeout 30 tail --pid="$bc" -f /dev/null && alive &&
   wait_for "$RUN/vmbusd.log" 'pipe "busy": failed to connect'; then
	ok "the busy service goes away: g1's pipe ends, vmbusd says why"
else
	not_ok "the busy service goes away: g1's pipe ends, vmbusd says why"; show "$RUN/busy.g1"
fi

# A client's control messages that do not fit the ring wait for room: the
# daemon is stopped while g2 sends a GPADL larger than its control ring
# (the smallest there is, 4 pages: 4 KiB each way; 1024 pages, the most
# the simulated host grants at once, take about 4.7 KiB of messages).
mkfifo "$RUN/flow.in"
dom0 xenstore-write "/local/domain/0/backend/vmbus/$g2/0/max-ring-page-order" 2
"$X" run g2 -- "$FLOW" echo 1024 < "$RUN/flow.in" > "$RUN/flow.out" 2>&1 &
fpid=$!
exec 7> "$RUN/flow.in"
wait_for "$RUN/flow.out" "flow: ready"
kill -STOP "$dpid"
(echo go >&7) 2>/dev/null	# a subshell: a reader gone kills only it
sleep 1
kill -CONT "$dpid"
exec 7>&-
if timeout 30 tail --pid="$fpid" -f /dev/null && wait "$fpid" &&
   grep -q "the bus still answers" "$RUN/flow.out"; then
	ok "a GPADL larger than the control ring, sent while vmbusd is stopped: answered, the bus goes on"
else
	not_ok "a GPADL larger than the control ring, sent while vmbusd is stopped: answered, the bus goes on"; show "$RUN/flow.out"
fi
sed -n 's/^flow: GPADL/# &/p' "$RUN/flow.out"
dom0 xenstore-write "/local/domain/0/backend/vmbus/$g2/0/max-ring-page-order" 4

# The guest's bus client dies: the daemon goes on, the guest comes back.
if hostile g1 die die && alive && hostile g1 burst2 burst 10; then
	ok "a bus client that dies without a word: vmbusd goes on, the guest reconnects"
else
	not_ok "a bus client that dies without a word: vmbusd goes on, the guest reconnects"; show "$RUN/die.out" "$RUN/burst2.out"
fi

kill -TERM "$dpid"
check "vmbusd exits on SIGTERM" \
	eval "for _ in \$(seq 50); do kill -0 $dpid 2>/dev/null || break; sleep 0.1; done; ! kill -0 $dpid 2>/dev/null"
if grep -qE "AddressSanitizer|runtime error|LeakSanitizer" "$RUN/vmbusd.log" "$RUN"/*.out ||
   ls "$RUN"/asan.* >/dev/null 2>&1; then
	not_ok "no sanitizer reports"
	grep -hE -A20 "AddressSanitizer|runtime error|LeakSanitizer" "$RUN/vmbusd.log" "$RUN"/*.out "$RUN"/asan.* 2>/dev/null | head -60 | sed 's/^/# /'
else
	ok "no sanitizer reports"
fi
exit 0
