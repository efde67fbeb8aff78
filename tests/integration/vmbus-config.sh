#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Offers declared in vmbusd's configuration survive a re-created guest and
# a restarted daemon, with no vmbusctl: the file names guest g1 and its
# pipe; vmbusd starts before g1 exists, g1 is created and streams; g1 is
# destroyed and created again (a new domain id) and streams again; vmbusd
# is killed with SIGKILL (its lock and pid file stay behind) and started
# again, takes them over and g1 streams again.  Mistakes in the file are
# refused in one line before the daemon starts.  Speaks TAP.
set -u

. "$(dirname "$0")/tap-lib.sh"
CLIENT="$top_builddir/tools/vmbus-pipe-client"

stream() {	# WHAT
	if "$X" run g1 -- "$CLIENT" --wait 20 --bytes 200000 echo > "$RUN/s.out" 2>&1 &&
	   grep -q MATCH "$RUN/s.out"; then
		ok "$1"
	else
		not_ok "$1"; show "$RUN/s.out"
	fi
}
start_vmbusd() {	# [OPTION...]
	"$X" run 0 -- "$VMBUSD" -F -v "$@" --config "$RUN/vmbusd.conf" \
		--pid-file "$RUN/vmbusd.pid" >> "$RUN/vmbusd.log" 2>&1 &
	vpid=$!
	pids+=("$vpid")
}

cat > "$RUN/vmbusd.conf" <<CONF
# guests of this host
[g1]
pipe = echo $RUN/echo.sock
pipe = msgs $RUN/echo-msg.sock message

[not-there]
pipe = echo $RUN/echo.sock
CONF

check "host starts" "$X" host start
"$CLIENT" --echo-service "$RUN/echo.sock" > "$RUN/echo.log" 2>&1 &
pids+=($!)
wait_for "$RUN/echo.log" listening
rm -f "$RUN/vmbusd.pid"
start_vmbusd
check "vmbusd starts with the configuration" wait_for "$RUN/vmbusd.pid" . 100
g1=$("$X" create --name g1)
check "g1 created: vmbusd attaches its bus and offers its pipes" \
	wait_for "$RUN/vmbusd.log" "domain $g1 (\"g1\"): bus and 2 of 2 pipe(s)"
stream "g1 streams through the configured pipe with no vmbusctl"

"$X" destroy --wait g1 > /dev/null
check "vmbusd releases g1's bus" wait_for "$RUN/vmbusd.log" "domain $g1: bus released"
g1b=$("$X" create --name g1)
check "g1 created again (domain $g1b): its bus and pipes are back" \
	wait_for "$RUN/vmbusd.log" "domain $g1b (\"g1\"): bus and 2 of 2 pipe(s)"
stream "the re-created g1 streams again"

# A daemon killed leaves its lock and pid file: the next takes them over.
old=$(cat "$RUN/vmbusd.pid")
kill -KILL "$old"
wait "$vpid" 2> /dev/null
check "the killed vmbusd left its pid file" test -s "$RUN/vmbusd.pid"
start_vmbusd --keep-caps
check "vmbusd started again takes over the stale lock" \
	wait_for "$RUN/vmbusd.log" "took over .*vmbusd.lock\" from vmbusd pid $old"
# The killed daemon's pid is in the file until the new one writes its own.
own_pid() {
	local _
	for _ in $(seq 100); do
		[ -s "$RUN/vmbusd.pid" ] && [ "$(cat "$RUN/vmbusd.pid")" != "$old" ] && return 0
		sleep 0.1
	done
	return 1
}
check "its pid file is its own" own_pid
check "vmbusctl status sees it" eval 'ctl status > /dev/null'
if [ "$(id -u)" = 0 ]; then
	check "with --keep-caps it says which capabilities it keeps and why" \
		wait_for "$RUN/vmbusd.log" "keeping the capabilities it was started with (--keep-caps): .*sys_admin.*; the daemon needs none of them except"
else
	skip "with --keep-caps it says which capabilities it keeps and why" "not root"
fi
check "it leaves the pipes in place, none made twice" \
	eval '[ "$(ctl list | grep -c " echo ")" = 1 ]'
stream "g1 streams again after the restart"

# Mistakes in the file: one line naming the file, the line and the error.
bad() {	# WHAT LINE...
	local what=$1 rc; shift
	printf '%s\n' "$@" > "$RUN/bad.conf"
	timeout 10 "$VMBUSD" -F --config "$RUN/bad.conf" --run-dir "$RUN" \
		> /dev/null 2> "$RUN/bad.err"
	rc=$?
	if [ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$(grep -c . "$RUN/bad.err")" = 1 ] &&
	   grep -q "^vmbusd: failed to read \"$RUN/bad.conf\" line" "$RUN/bad.err"; then
		ok "vmbusd refuses $what ($(cat "$RUN/bad.err"))"
	else
		not_ok "vmbusd refuses $what (exit $rc)"; show "$RUN/bad.err"
	fi
}
bad "a pipe outside a guest's section" "pipe = echo /run/e.sock"
bad "a pipe with a relative service" "[g]" "pipe = echo e.sock"
bad "a pipe with a bad mode" "[g]" "pipe = echo /run/e.sock stream"
bad "a pipe named twice" "[g]" "pipe = echo /run/e.sock" "pipe = echo /run/f.sock"
bad "a guest named twice" "[g]" "[g]"
bad "an unknown key" "[g]" "bus = yes"
bad "a 116-byte pipe name" "[g]" "pipe = $(printf 'n%.0s' $(seq 116)) /run/e.sock"
bad "an empty section name" "[]"
if timeout 10 "$VMBUSD" -F --config "$RUN/no-such.conf" --run-dir "$RUN" \
	> /dev/null 2> "$RUN/bad.err"; then
	not_ok "vmbusd refuses a --config that does not exist"
else
	check "vmbusd refuses a --config that does not exist" \
		grep -q "failed to open \"$RUN/no-such.conf\"" "$RUN/bad.err"
fi
check "vmbusd still serves" kill -0 "$(cat "$RUN/vmbusd.pid")"

# In daemon mode the command returns once the daemon serves: its pid file
# and its state are there, the guest's bus too.
kill -TERM "$(cat "$RUN/vmbusd.pid")"
wait "$vpid" 2> /dev/null
if "$X" run 0 -- "$VMBUSD" --config "$RUN/vmbusd.conf" --pid-file "$RUN/vmbusd.pid" \
	> "$RUN/daemon.out" 2>&1; then
	pids+=("$(cat "$RUN/vmbusd.pid" 2> /dev/null)")
	check "vmbusd in daemon mode returns once it serves, its pid file written" \
		eval '[ -s "$RUN/vmbusd.pid" ] && ! grep -q failed "$RUN/daemon.out" && ctl status > /dev/null'
	show "$RUN/daemon.out"
	stream "g1 streams through the daemon started in daemon mode"
else
	not_ok "vmbusd in daemon mode returns once it serves"; show "$RUN/daemon.out"
fi
echo "1..$n"
