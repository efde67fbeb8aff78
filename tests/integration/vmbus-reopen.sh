#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Channels re-opened by libvmbus after a reconnect, on the simulated host.
# A libvmbus server in dom0 (tests/integration/vmbus-echo-peer, as vmbusd
# is one: vmbusd offers only pipes, which are never re-opened) offers an
# echo device that allows re-open and a pipe.  A guest program streams on
# the device and keeps a packet going on the pipe; the server is killed
# (SIGKILL) mid-stream and started again.  The pipe fails with -ENOTCONN;
# the device is opened again by the library (same type and instance, a new
# GPADL of the same rings, empty rings) and carries data again without the
# program opening it.  Then the server is killed and not started again:
# the device gives up after its 1 s bound and fails with -ENOTCONN.  Last,
# the next server offers the device without re-open: a new program's device
# gives up at once with -EOPNOTSUPP.  Speaks TAP.
set -u

. "$(dirname "$0")/tap-lib.sh"
PEER="$top_builddir/tests/integration/vmbus-echo-peer"

# wait_exit PID TENTHS: true once PID has exited, within TENTHS.
wait_exit() {
	local _
	for _ in $(seq "$2"); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}
# exit_status PID TENTHS: rc = the exit status of our child PID, or
# "timeout" (not in a subshell: only this shell can wait for its child).
exit_status() {
	if wait_exit "$1" "$2"; then
		wait "$1"
		rc=$?
	else
		rc=timeout
	fi
}
# gave_up OUT REASON: the device program in OUT gave up with REASON and
# then failed its calls with -ENOTCONN.
gave_up() {
	grep -q "device channel gave up ($2)" "$1" &&
	grep -q "status Transport endpoint is not connected; send Transport endpoint is not connected" "$1"
}
start_server() {	# [noreopen]
	"$X" run 0 -- "$PEER" server "$g1" "$@" >> "$RUN/server.out" 2>&1 &
	spid=$!
	pids+=($spid)
}

echo "1..10"
check "host starts" env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$RUN/asan" "$X" host start
g1=$("$X" create --name g1)
check "guest created and bus attached" attach "$g1"
start_server
wait_for "$RUN/server.out" "serving domain $g1" 100

"$X" run g1 -- "$PEER" reopen 2000 20000 > "$RUN/c.out" 2>&1 &
c=$!
pids+=($c)
if wait_for "$RUN/c.out" "reopen: streaming" 200 &&
   grep -q "pipe channel .*: re-open refused" "$RUN/c.out"; then
	ok "the guest streams on the echo device; the pipe refuses re-open"
else
	not_ok "the guest streams on the echo device; the pipe refuses re-open"; show "$RUN/c.out"
fi

# The server dies mid-stream and a new one starts.
kill -KILL "$spid"
wait_exit "$spid" 50
if wait_for "$RUN/c.out" "pipe channel failed: Transport endpoint is not connected" 50 &&
   wait_for "$RUN/c.out" "device channel lost, re-open pending" 10; then
	ok "server killed: the pipe fails with -ENOTCONN, the device waits to be re-opened"
else
	not_ok "server killed: the pipe fails with -ENOTCONN, the device waits to be re-opened"; show "$RUN/c.out"
fi
start_server
if wait_for "$RUN/c.out" "reopen: resumed" 300 &&
   grep -q "device channel re-opened (ok)" "$RUN/c.out" &&
   grep -q "resumed: .* 1 re-open(s), fd unchanged" "$RUN/c.out" &&
   grep -q "the old GPADL: No such file or directory" "$RUN/c.out" &&
   grep -q "a new GPADL" "$RUN/c.out"; then
	ok "server started again: the library re-opens the device, 2000 more echoes come back checked, the old data GPADL is gone and a new one is made"
else
	not_ok "server started again: the library re-opens the device, 2000 more echoes come back checked, the old data GPADL is gone and a new one is made"
	show "$RUN/c.out" "$RUN/server.out"
fi
check "the new server saw the device opened again by the library" \
	[ "$(grep -c 'channel .* opened' "$RUN/server.out")" -ge 3 ]

# The server dies and does not come back: the re-open gives up.
wait_for "$RUN/c.out" "reopen: streaming again" 100
kill -KILL "$spid"
wait_exit "$spid" 50
exit_status "$c" 300
if [ "$rc" = 0 ] && gave_up "$RUN/c.out" "Connection timed out"; then
	ok "server gone for good: the device gives up after its bound and fails with -ENOTCONN"
else
	not_ok "server gone for good: the device gives up after its bound and fails with -ENOTCONN (exit $rc)"; show "$RUN/c.out"
fi
# The service stops allowing re-open: the device gives up at its offer.
start_server
"$X" run g1 -- "$PEER" reopen 2000 20000 refused > "$RUN/r.out" 2>&1 &
c=$!
pids+=($c)
check "a new program streams on the device" wait_for "$RUN/r.out" "reopen: streaming" 200
kill -KILL "$spid"
wait_exit "$spid" 50
wait_for "$RUN/r.out" "re-open pending" 50
start_server noreopen
exit_status "$c" 300
if [ "$rc" = 0 ] && gave_up "$RUN/r.out" "Operation not supported"; then
	ok "the next server's offer does not allow re-open: the device gives up with -EOPNOTSUPP"
else
	not_ok "the next server's offer does not allow re-open: the device gives up with -EOPNOTSUPP (exit $rc)"
	show "$RUN/r.out"
fi
kill -TERM "$spid"
wait_exit "$spid" 50
if grep -qE "AddressSanitizer|runtime error|LeakSanitizer" "$RUN/c.out" "$RUN/r.out" "$RUN/server.out" ||
   ls "$RUN"/asan.* >/dev/null 2>&1; then
	not_ok "no sanitizer reports"
	grep -hE -A20 "AddressSanitizer|runtime error|LeakSanitizer" "$RUN/c.out" "$RUN/r.out" "$RUN/server.out" "$RUN"/asan.* 2>/dev/null | head -60 | sed 's/^/# /'
else
	ok "no sanitizer reports"
fi
exit 0
