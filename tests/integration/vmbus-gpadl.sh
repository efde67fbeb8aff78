#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A guest floods the bus daemon with GPADLs on the simulated host.  vmbusd
# runs with a mapping budget of 48 pages per guest and 200 in all; g1
# (vmbus-gpadl-hostile) names a grant twice, creates GPADLs on eight pipe
# offers until refused, interleaves two GPADLs' bodies and opens rings
# past its budget, while dom0 maps nothing but g1's control rings; g2
# meanwhile streams through its pipe; vmbusctl status reports the
# mappings; everything is released afterwards.  Then vmbusd runs again
# with a host budget of 40 pages: g2's 16-page rings open, 32-page rings
# do not.  Speaks TAP.
set -u

. "$(dirname "$0")/tap-lib.sh"
CLIENT="$top_builddir/tools/vmbus-pipe-client"
HOSTILE="$top_builddir/tests/integration/vmbus-gpadl-hostile"

if ! env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$RUN/asan" "$X" host start; then
	echo "1..1"
	not_ok "host starts"
	exit 0
fi
g1=$("$X" create --name g1) && g2=$("$X" create --name g2)
base_maps=$(field 0 maps_held)
ctl attach g1 > /dev/null && ctl attach g2 > /dev/null
"$X" run 0 -- "$VMBUSD" -F -v --guest-map-pages 48 --host-map-pages 200 \
	--pid-file "$RUN/vmbusd.pid" > "$RUN/vmbusd.log" 2>&1 &
pids+=($!)
"$CLIENT" --echo-service "$RUN/echo.sock" > "$RUN/echo.log" 2>&1 &
pids+=($!)
wait_for "$RUN/vmbusd.log" "domain $g1: serving"
wait_for "$RUN/vmbusd.log" "domain $g2: serving"
wait_for "$RUN/echo.log" listening
dpid=$(cat "$RUN/vmbusd.pid" 2>/dev/null)
for i in 0 1 2 3 4 5 6 7; do
	ctl offer g1 --pipe "p$i" --service "$RUN/echo.sock" > /dev/null
done
ctl offer g2 --pipe echo --service "$RUN/echo.sock" > /dev/null
wait_for "$RUN/vmbusd.log" "offered pipe \"p7\""
wait_for "$RUN/vmbusd.log" "domain $g2: offered pipe \"echo\""

"$X" run g1 -- "$HOSTILE" "$RUN/go" > "$RUN/hostile.out" 2>&1 &
hpid=$!
wait_for "$RUN/hostile.out" "hostile: holding" 200
sleep 1.2		# vmbusd publishes once a second
held_maps=$(field 0 maps_held)
ctl status --json > "$RUN/status.json" 2>&1
ctl status > "$RUN/status.txt" 2>&1
ctl list --json > "$RUN/list.json" 2>&1
touch "$RUN/go"
client g2 "$RUN/g2.out" --bytes 2000000 --chunk 3000 echo
g2rc=$?
wait "$hpid"
hrc=$?
sleep 0.5
end_maps=$(field 0 maps_held)

kill -0 "$dpid" 2>/dev/null
alive1=$?

# The host budget: vmbusd again, 40 pages for all guests.
kill -TERM "$dpid"
for _ in $(seq 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
"$X" run 0 -- "$VMBUSD" -F -v --host-map-pages 40 \
	--pid-file "$RUN/vmbusd2.pid" > "$RUN/vmbusd2.log" 2>&1 &
pids+=($!)
wait_for "$RUN/vmbusd2.log" "domain $g2: offered pipe \"echo\""
# The pid file comes after the offers: on a loaded host, later.
wait_for "$RUN/vmbusd2.pid" . 100
dpid2=$(cat "$RUN/vmbusd2.pid" 2>/dev/null)
client g2 "$RUN/g2-big.out" --bytes 100000 --chunk 3000 echo
big_rc=$?
client g2 "$RUN/g2-small.out" --bytes 100000 --chunk 3000 --ring-pages 8 echo
small_rc=$?

results=$(grep -c '^hostile: \(ok\|FAILED\) - ' "$RUN/hostile.out")
echo "1..$((results + 10))"
while IFS= read -r line; do
	case $line in
	"hostile: ok - "*) ok "${line#hostile: ok - }" ;;
	"hostile: FAILED - "*) not_ok "${line#hostile: FAILED - }" ;;
	esac
done < "$RUN/hostile.out"
if [ "$hrc" = 0 ] && grep -q "checks held" "$RUN/hostile.out"; then
	ok "the hostile guest ran to its end"
else
	not_ok "the hostile guest ran to its end (exit $hrc)"; show "$RUN/hostile.out"
fi
check "holding its GPADLs, g1 costs dom0 its 16 control ring pages only ($held_maps maps, baseline $base_maps)" \
	[ "$held_maps" = $((base_maps + 16)) ]
check "vmbusctl status --json: the host budget and g1's mappings, limit and GPADLs" \
	grep -q "{\"host\":{\"mapped\":16,\"limit\":200},\"domains\":\[.*{\"domid\":$g1,\"mapped\":16,\"limit\":48,\"gpadls\":8,\"refused\":0}" "$RUN/status.json"
[ "$failed" = 0 ] || show "$RUN/status.json"
check "vmbusctl status and list --json report the same" \
	eval "grep -q '^host: 16 of 200 grant pages mapped' '$RUN/status.txt' &&
	      grep -q '^$g1 *16 *48 *8 *0' '$RUN/status.txt' &&
	      grep -q '\"domid\":$g1,[^]]*\"maps\":{\"mapped\":16,\"limit\":48,\"gpadls\":8,\"refused\":0}' '$RUN/list.json'"
[ "$failed" = 0 ] || show "$RUN/status.txt" "$RUN/list.json"
if [ "$g2rc" = 0 ] && grep -q "checksum .*MATCH" "$RUN/g2.out"; then
	ok "g2 streams 2 MB through its pipe meanwhile, checksum matches"
else
	not_ok "g2 streams 2 MB through its pipe meanwhile, checksum matches"; show "$RUN/g2.out"
fi
check "the refusals of g1's budget are counted and logged once" \
	eval "grep -q 'domain $g1: refused to map' '$RUN/vmbusd.log' &&
	      [ \$(grep -c 'domain $g1: refused to map' '$RUN/vmbusd.log') = 1 ] && [ $alive1 = 0 ]"
check "everything released: dom0 maps what it did before the buses ($end_maps, baseline $base_maps)" \
	[ "$end_maps" = "$base_maps" ]
if [ "$big_rc" != 0 ] && grep -q "domain $g2: refused to map 32 more grants (guest 16/8192, host 16/40" "$RUN/vmbusd2.log" &&
   ! grep -q "checksum" "$RUN/g2-big.out"; then
	ok "host budget of 40 pages: g2's 2 x 16-page rings are refused, the refusal logged"
else
	not_ok "host budget of 40 pages: g2's 2 x 16-page rings are refused, the refusal logged (exit $big_rc)"
	show "$RUN/g2-big.out"; grep "domain $g2" "$RUN/vmbusd2.log" | sed 's/^/# /'
fi
if [ "$small_rc" = 0 ] && grep -q "checksum .*MATCH" "$RUN/g2-small.out" && kill -0 "$dpid2"; then
	ok "within it, 2 x 8-page rings open and stream, checksum matches"
else
	not_ok "within it, 2 x 8-page rings open and stream, checksum matches"; show "$RUN/g2-small.out"
fi
if grep -qE "AddressSanitizer|runtime error|LeakSanitizer" "$RUN/vmbusd.log" "$RUN/vmbusd2.log" "$RUN/hostile.out" ||
   ls "$RUN"/asan.* >/dev/null 2>&1; then
	not_ok "no sanitizer reports"
	grep -hE -A20 "AddressSanitizer|runtime error|LeakSanitizer" "$RUN/vmbusd.log" "$RUN/vmbusd2.log" "$RUN"/asan.* 2>/dev/null | head -60 | sed 's/^/# /'
else
	ok "no sanitizer reports"
fi
exit 0
