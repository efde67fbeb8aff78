#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Every command-line program of the project fed bad input, as a new
# administrator would: no arguments, unknown flags, bad and huge numbers,
# empty strings, nonexistent and duplicate names, a second instance, a
# stale run directory.  Each refusal must be one line on standard error
# that starts with the program's name, and a non-zero exit, within a
# bound; nothing may hang or crash; and what was running before (the
# simulated host, its bus daemon, a guest's stream) must still be running
# afterwards.  Speaks TAP.
#
# The cases live beside this script, one file per program or family
# (*.cases, sourced in name order).  A case file uses:
#   refuses WHAT CMD ARGS...   CMD must fail with a one-line error
#   accepts WHAT CMD ARGS...   CMD must succeed
#   common PROGRAM             --help, --version, an unknown long and short flag
# and may use $X (xensim), $XENSIMD, $VMBUSD, $CTL (vmbusctl), $KDRELAY,
# $PIPE (vmbus-pipe-client), $RUN (the run directory of the host), dom0
# (runs a command in dom0 of the host), and the guest g1 (domain $G1) whose
# bus vmbusd serves.  A case may start what it needs; it stops it again.
set -u

. "$top_srcdir/tests/integration/tap-lib.sh"
XENSIMD="$top_builddir/xensim/xensimd"
KDRELAY="$top_builddir/dom0-backends/kdrelay/xen-kdrelay"
PIPE="$top_builddir/tools/vmbus-pipe-client"
BOUND=${BAD_INPUT_TIMEOUT:-20}

# run_bounded OUT ERR CMD...: CMD with no input, killed after $BOUND s.
run_bounded() {
	local out=$1 err=$2; shift 2
	timeout -k 2 "$BOUND" "$@" < /dev/null > "$out" 2> "$err"
}

# The error line a refusal must print: exactly one non-empty line on
# standard error, starting with the program's base name and a colon, and
# naming a reason after it.
one_line_error() {	# PROGRAM ERRFILE
	local prog=$1 err=$2 lines
	lines=$(grep -c . "$err")
	[ "$lines" = 1 ] || { echo "# $lines lines on stderr, not 1"; return 1; }
	grep -q "^$prog: .\{8,\}" "$err" ||
		{ echo "# the line does not start with \"$prog: \" and a reason"; return 1; }
}

refuses() {	# WHAT CMD...
	local what=$1 prog rc; shift
	prog=$(basename "$1")
	[ "$prog" = xensim ] && [ "${2:-}" = run ] && prog=$(basename "${5:-$prog}")
	run_bounded "$RUN/out" "$RUN/err" "$@"
	rc=$?
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		not_ok "$what: still running after ${BOUND}s"
	elif [ "$rc" -ge 128 ]; then
		not_ok "$what: killed by signal $((rc - 128))"
		show "$RUN/err" | head -20
	elif [ "$rc" = 0 ]; then
		not_ok "$what: exit status 0"
		show "$RUN/out" "$RUN/err" | head -10
	elif one_line_error "$prog" "$RUN/err" > "$RUN/why"; then
		ok "$what (exit $rc: $(cut -c1-120 "$RUN/err"))"
	else
		not_ok "$what (exit $rc)"
		show "$RUN/why" "$RUN/err" | head -10
	fi
}

accepts() {	# WHAT CMD...
	local what=$1 rc; shift
	run_bounded "$RUN/out" "$RUN/err" "$@"
	rc=$?
	if [ "$rc" = 0 ]; then
		ok "$what"
	else
		not_ok "$what (exit $rc)"
		show "$RUN/out" "$RUN/err" | head -10
	fi
}

# --help and --version print to standard output and succeed; unknown
# flags are refused.
common() {	# PROGRAM
	local p=$1 name
	name=$(basename "$p")
	accepts "$name --help" "$p" --help
	check "$name --help prints its usage on standard output" grep -qi usage "$RUN/out"
	accepts "$name --version" "$p" --version
	check "$name --version prints the package version" grep -q "$PACKAGE_VERSION" "$RUN/out"
	refuses "$name refuses an unknown long option" "$p" --no-such-option
	refuses "$name refuses an unknown short option" "$p" -Z
}

PACKAGE_VERSION=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' "$top_builddir/config.h")

# What must survive every case: a host, its bus daemon and a guest's pipe
# stream to a dom0 echo service.
check "host starts" "$X" host start
G1=$("$X" create --name g1)
"$X" run 0 -- "$VMBUSD" -F --pid-file "$RUN/vmbusd.pid" > "$RUN/vmbusd.log" 2>&1 &
vmbusd_pid=$!
pids+=("$vmbusd_pid")
"$PIPE" --echo-service "$RUN/echo.sock" > "$RUN/echo.log" 2>&1 &
pids+=($!)
check "vmbusd serves g1" wait_for "$RUN/vmbusd.pid" . 100
check "the bus of g1 is attached" eval 'ctl attach g1 > /dev/null'
wait_for "$RUN/echo.log" listening
check "g1 is offered a pipe to the echo service" \
	eval 'ctl offer g1 --pipe echo --service "$RUN/echo.sock" > /dev/null'

for f in "$top_srcdir"/tests/bad-input/*.cases; do
	[ -e "$f" ] || continue
	echo "# cases of $(basename "$f")"
	. "$f"
done

check "the host still runs" "$X" info 0
check "vmbusd still runs" kill -0 "$vmbusd_pid"
check "vmbusd still answers" eval 'ctl status > /dev/null'
if "$X" run g1 -- "$PIPE" --wait 30 --bytes 1000000 echo > "$RUN/s.out" 2>&1; then
	ok "g1 still streams through its pipe"
else
	not_ok "g1 still streams through its pipe"; show "$RUN/s.out"
fi
echo "1..$n"
exit 0
