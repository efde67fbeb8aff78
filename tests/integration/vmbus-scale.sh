#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# One bus daemon serving many guests on the simulated host: N guests
# (VMBUS_SCALE_GUESTS, default 32; the full run is 256) are attached and
# offered 4 pipes each to a dom0 echo service; a client in every guest
# opens its 4 pipes, echoes data with a checksum on each and then holds
# them open, idle.  Checks that all N*4 channels are open, that the idle
# daemon sleeps (its CPU time over 5 s, from /proc/PID/stat), and that
# destroying every guest leaves the daemon running with no grant mapped
# and only dom0 on the host.  All of it twice (VMBUS_SCALE_ROUNDS): after
# the last teardown the daemon's descriptors and threads are back to what
# they were with no guest, and its memory did not grow from one round to
# the next.  Prints the figures as TAP comments.  Speaks TAP.
#
#   VMBUS_SCALE_GUESTS=256 top_builddir=BUILDDIR tests/integration/vmbus-scale.sh
set -u

. "$(dirname "$0")/tap-lib.sh"
CLIENT="$top_builddir/tests/integration/vmbus-scale-client"
N=${VMBUS_SCALE_GUESTS:-32}
ROUNDS=${VMBUS_SCALE_ROUNDS:-2}
CHANNELS=4
IDLE_S=5
IDLE_MAX_PCT=2		# of one CPU, over the idle window
FD_SLACK=4		# descriptors more than with no guest, after teardown
RSS_ROUND_KB=8192	# resident memory growth from one round's teardown to the next
# Resident memory more than with no guest, after teardown: what the
# allocator keeps of a heap that held N guests' state (about 24 kB a guest
# at 256 guests, 3% of the peak); leaks show as growth between rounds.
RSS_SLACK_KB=$((N * 32 > 4096 ? N * 32 : 4096))
dpid=
end_fds=0 end_rss=0 end_thr=0
# The log shown after a failure leaves out the lines of each guest's setup.
VMBUSD_LOG_QUIET=' connected to \| offered pipe '

# vmbusctl in dom0's environment without enrolling each run in dom0:
# xensimd keeps at most 64 enrolled processes per domain.
ctl() { ( eval "$("$X" env 0)" && "$CTL" "$@" ); }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
count() { grep -c -- "$2" "$1" 2>/dev/null; }
wait_count() {	# FILE PATTERN COUNT SECONDS
	local end=$((SECONDS + $4))
	while [ "$(count "$1" "$2")" -lt "$3" ]; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status" 2>/dev/null | grep . || echo 0; }
threads() { sed -n 's/^Threads:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null | grep . || echo 0; }
cpu_ticks() {	# utime + stime: fields 14 and 15, after the ")" of comm
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }' | grep . || echo 0
}
sanitized() { grep -q '^SAN_CFLAGS = .*-fsanitize' "$top_builddir/Makefile" 2>/dev/null; }
ready_clients() { grep -l '^client: ready' "$RUN"/c*.out 2>/dev/null | wc -l; }
failed_clients() { grep -l '^client: closed' "$RUN"/c*.out 2>/dev/null | wc -l; }


one_round() {	# ROUND
	local r=$1 d c i bad t0 t1 end ready open conn c0 c1 released maps gmaps others doms=()

	t0=$(now)
	for i in $(seq "$N"); do
		d=$("$X" create --name "r${r}s$i" --memory 16) || break
		doms+=("$d")
	done
	t1=$(now)
	check "round $r: $N guests created ($(elapsed "$t0" "$t1") s)" [ "${#doms[@]}" -eq "$N" ]

	rm -f "$RUN"/c*.out
	local offers_base conn_base rel_base x0 x1
	offers_base=$(count "$RUN/vmbusd.log" ': offered pipe')
	conn_base=$(count "$RUN/vmbusd.log" '" (channel [0-9]*) connected to')
	rel_base=$(count "$RUN/vmbusd.log" 'bus released (domain gone)')
	t0=$(now)
	bad=0
	for d in "${doms[@]}"; do
		ctl attach "$d" > /dev/null || bad=$((bad + 1))
		for c in $(seq 0 $((CHANNELS - 1))); do
			ctl offer "$d" --pipe "scale$c" --service "$RUN/echo.sock" > /dev/null ||
				bad=$((bad + 1))
		done
	done
	if [ "$bad" -eq 0 ] &&
	   wait_count "$RUN/vmbusd.log" ': offered pipe' $((offers_base + N * CHANNELS)) $((30 + N)); then
		t1=$(now)
		ok "round $r: all $N guests attached and offered $CHANNELS pipes each ($(elapsed "$t0" "$t1") s)"
	else
		not_ok "round $r: all $N guests attached and offered $CHANNELS pipes each"
		echo "# $bad vmbusctl failure(s), $(($(count "$RUN/vmbusd.log" ': offered pipe') - offers_base)) offer(s) made"
	fi

	# Every client at once; each holds its channels open once ready.
	t0=$(now)
	for d in "${doms[@]}"; do
		( "$X" run "$d" -- "$CLIENT" --channels "$CHANNELS" --timeout $((60 + N / 2)) \
			> "$RUN/c$d.out" 2>&1 & )
	done
	end=$((SECONDS + 90 + N / 2))
	while [ "$(ready_clients)" -lt "$N" ] && [ "$(failed_clients)" -eq 0 ] && [ "$SECONDS" -lt "$end" ]; do
		sleep 0.2
	done
	t1=$(now)
	connect_s=$(elapsed "$t0" "$t1")
	ready=$(ready_clients)
	if [ "$ready" -eq "$N" ]; then
		ok "round $r: all $N clients opened $CHANNELS pipes and echoed with matching checksums ($connect_s s)"
	else
		not_ok "round $r: all $N clients opened $CHANNELS pipes and echoed with matching checksums"
		echo "# $ready of $N ready after $connect_s s"
		grep -L '^client: ready' "$RUN"/c*.out | head -3 | xargs -r tail -n 5 | sed 's/^/# /'
	fi

	# The daemon publishes its state once a second.
	sleep 2
	ctl list --json > "$RUN/list.json"
	open=$(grep -o '"state":"open"' "$RUN/list.json" | wc -l)
	conn=$(($(count "$RUN/vmbusd.log" '" (channel [0-9]*) connected to') - conn_base))
	check "round $r: all $((N * CHANNELS)) channels open (vmbusctl list shows $open, vmbusd connected $conn)" \
		eval "[ $open -eq $((N * CHANNELS)) ] && [ $conn -eq $((N * CHANNELS)) ]"

	# Idle: no client sends anything; the daemon must sleep.
	c0=$(cpu_ticks "$dpid") x0=$(cpu_ticks "$xspid")
	t0=$(now)
	sleep "$IDLE_S"
	c1=$(cpu_ticks "$dpid") x1=$(cpu_ticks "$xspid")
	t1=$(now)
	idle_pct=$(awk -v t=$((c1 - c0)) -v hz="$HZ" -v a="$t0" -v b="$t1" \
		'BEGIN { printf "%.2f", 100 * t / hz / (b - a) }')
	xs_pct=$(awk -v t=$((x1 - x0)) -v hz="$HZ" -v a="$t0" -v b="$t1" \
		'BEGIN { printf "%.2f", 100 * t / hz / (b - a) }')
	busy_fds=$(fds "$dpid") busy_rss=$(rss_kb "$dpid") busy_thr=$(threads "$dpid")
	echo "# vmbusd with $N guests: $busy_fds fds, $busy_thr thread(s), RSS $busy_rss kB;" \
		"xenstored meanwhile uses $xs_pct% of a CPU"
	check "round $r: idle vmbusd uses $idle_pct% of a CPU over ${IDLE_S} s ($((c1 - c0)) ticks; bound ${IDLE_MAX_PCT}%)" \
		eval "kill -0 '$dpid' 2>/dev/null && awk -v p='$idle_pct' -v m='$IDLE_MAX_PCT' 'BEGIN { exit !(p < m) }'"

	t0=$(now)
	for d in "${doms[@]}"; do
		"$X" destroy --wait "$d" > /dev/null 2>&1
	done
	end=$((SECONDS + 30 + N))
	while [ "$(count "$RUN/vmbusd.log" 'bus released (domain gone)')" -lt $((rel_base + N)) ] &&
	      [ "$SECONDS" -lt "$end" ] && kill -0 "$dpid" 2>/dev/null; do
		sleep 0.2
	done
	t1=$(now)
	teardown_s=$(elapsed "$t0" "$t1")
	released=$(($(count "$RUN/vmbusd.log" 'bus released (domain gone)') - rel_base))
	check "round $r: destroying all $N guests: vmbusd releases every bus and keeps running ($teardown_s s)" \
		eval "[ '$released' -eq '$N' ] && kill -0 '$dpid'"
	others=$("$X" list | awk 'NR > 1 && $2 != 0' | wc -l)
	sleep 1
	maps=$(field 0 maps_held) gmaps=$(field 0 grant_maps)
	if [ "$others" -eq 0 ] && [ "$maps" = "$base_maps" ] && [ "$gmaps" = 0 ]; then
		ok "round $r: only dom0 left, and it maps no guest grant (maps_held $maps, as with no guest)"
	else
		not_ok "round $r: only dom0 left, and it maps no guest grant"
		echo "# $others other domain(s), maps_held $maps (baseline $base_maps), grant_maps $gmaps"
	fi
	end_fds=$(fds "$dpid") end_rss=$(rss_kb "$dpid") end_thr=$(threads "$dpid")
	echo "# vmbusd after teardown: $end_fds fds, $end_thr thread(s), RSS $end_rss kB"
	echo "# figures, round $r: guests $N, channels $((N * CHANNELS)), connect ${connect_s} s," \
		"idle CPU vmbusd ${idle_pct}% xenstored ${xs_pct}%," \
		"fds $base_fds/$busy_fds/$end_fds, threads $base_thr/$busy_thr/$end_thr," \
		"RSS kB $base_rss/$busy_rss/$end_rss (no guest/all guests/after teardown)," \
		"teardown $teardown_s s"
}

echo "1..$((ROUNDS * 7 + 8))"
echo "# $N guests, $CHANNELS pipes each, $ROUNDS round(s); descriptor limit $(ulimit -n)"
HZ=$(getconf CLK_TCK)
check "host starts" env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$RUN/asan" "$X" host start
base_maps=$(field 0 maps_held)
xspid=$(cat "$RUN/xenstored.pid" 2>/dev/null)
[ -n "$xspid" ] || xspid=$$

"$CLIENT" --echo-service "$RUN/echo.sock" > "$RUN/echo.log" 2>&1 &
pids+=($!)
"$X" run 0 -- "$VMBUSD" -F -v --pid-file "$RUN/vmbusd.pid" > "$RUN/vmbusd.log" 2>&1 &
pids+=($!)
if wait_count "$RUN/vmbusd.log" "serving buses" 1 20 && wait_count "$RUN/echo.log" listening 1 10 &&
   wait_file "$RUN/vmbusd.pid"; then
	dpid=$(cat "$RUN/vmbusd.pid")
	sleep 2
	base_fds=$(fds "$dpid") base_rss=$(rss_kb "$dpid") base_thr=$(threads "$dpid")
	ok "vmbusd and the echo service start"
	echo "# vmbusd with no guest: $base_fds fds, $base_thr thread(s), RSS $base_rss kB"
else
	not_ok "vmbusd and the echo service start"
	exit 0
fi

rss_rounds=()
for r in $(seq "$ROUNDS"); do
	if ! kill -0 "$dpid" 2>/dev/null; then
		for i in $(seq 7); do not_ok "round $r: not run, vmbusd is gone"; done
		continue
	fi
	one_round "$r"
	rss_rounds+=("$end_rss")
done

check "after $ROUNDS round(s): vmbusd's descriptors back to $end_fds (no guest: $base_fds, slack $FD_SLACK) and threads to $end_thr (no guest: $base_thr)" \
	eval "kill -0 '$dpid' 2>/dev/null && [ '$end_fds' -le $((base_fds + FD_SLACK)) ] && [ '$end_thr' -le '$base_thr' ]"
grow=0
[ "${#rss_rounds[@]}" -gt 0 ] && grow=$((rss_rounds[${#rss_rounds[@]} - 1] - rss_rounds[0]))
if sanitized; then
	skip "vmbusd's resident memory grew by $grow kB from the first round's teardown to the last's" \
		"the sanitizers keep freed memory"
elif [ "$ROUNDS" -lt 2 ]; then
	skip "vmbusd's resident memory does not grow from round to round" "one round only"
else
	check "vmbusd's resident memory grew by $grow kB from the first round's teardown to the last's (bound $RSS_ROUND_KB kB)" \
		[ "$grow" -le "$RSS_ROUND_KB" ]
fi
# Pipe buffers (two 64 KiB per channel) have their own mappings, given
# back when the channel closes, so the daemon returns to its idle size.
if sanitized; then
	skip "vmbusd's resident memory after teardown is within $RSS_SLACK_KB kB of no guest's" \
		"the sanitizers keep freed memory"
else
	check "vmbusd's resident memory after teardown is within $RSS_SLACK_KB kB of no guest's ($((end_rss - base_rss)) kB more)" \
		[ $((end_rss - base_rss)) -le "$RSS_SLACK_KB" ]
fi
if kill -TERM "$dpid" 2>/dev/null; then
	check "vmbusd exits on SIGTERM and removes its pid file" \
		eval "for _ in \$(seq 100); do kill -0 $dpid 2>/dev/null || break; sleep 0.1; done; ! kill -0 $dpid 2>/dev/null && [ ! -e '$RUN/vmbusd.pid' ]"
else
	not_ok "vmbusd exits on SIGTERM (it was no longer running)"
fi
check "the echo service is still running" kill -0 "${pids[0]}"
if grep -qE "AddressSanitizer|runtime error|LeakSanitizer" "$RUN/vmbusd.log" "$RUN"/c*.out "$RUN/echo.log" ||
   ls "$RUN"/asan.* >/dev/null 2>&1; then
	not_ok "no sanitizer reports"
	grep -hE -A20 "AddressSanitizer|runtime error|LeakSanitizer" "$RUN/vmbusd.log" "$RUN"/c*.out "$RUN"/asan.* 2>/dev/null | head -60 | sed 's/^/# /'
else
	ok "no sanitizer reports"
fi
exit 0
