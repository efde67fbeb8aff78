# SPDX-License-Identifier: GPL-2.0-only
#
# Sourced by the bash tests that run on the simulated host (vmbus-*.sh):
# the programs of the build tree, a run directory for the host, TAP output,
# cleanup on exit and small polling and xensim helpers.  The test sets -u
# first, then sources this with
#   . "$(dirname "$0")/tap-lib.sh"
# and keeps in "pids" what it starts in the background.  Before calling
# client() it sets CLIENT.

: "${top_builddir:?run through make check}"
X="$top_builddir/xensim/xensim"
VMBUSD="$top_builddir/dom0-backends/vmbusd/vmbusd"
CTL="$top_builddir/tools/vmbusctl"
RUN=$(mktemp -d "/tmp/$(basename "$0" .sh).XXXXXX")
export XENSIM_RUNDIR="$RUN"
n=0
failed=0
pids=()

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
show() { sed 's/^/# /' "$@"; }

# After a failure, the last 40 lines of the bus daemon's log (when the test
# ran it) as TAP comments, without the lines matching $VMBUSD_LOG_QUIET.
show_vmbusd_log() {
	local log=$RUN/vmbusd.log
	[ -f "$log" ] || return 0
	if [ -n "${VMBUSD_LOG_QUIET:-}" ]; then
		grep -v -- "$VMBUSD_LOG_QUIET" "$log"
	else
		cat "$log"
	fi | tail -40 | sed 's/^/# vmbusd: /'
}
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	"$X" host stop >/dev/null 2>&1
	[ "$failed" -eq 0 ] || show_vmbusd_log
	rm -rf "$RUN"
}
trap cleanup EXIT

dom0() { "$X" run 0 -- "$@"; }
ctl() { dom0 "$CTL" "$@"; }
client() {	# DOMAIN OUTFILE ARGS...: $CLIENT in the domain
	local d=$1 out=$2; shift 2
	"$X" run "$d" -- "$CLIENT" "$@" > "$out" 2>&1
}
# field DOMAIN KEY: a number from "xensim info DOMAIN --json".
field() { "$X" info "$1" --json | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"; }
wait_for() {	# FILE PATTERN [tenths of a second]
	local _
	for _ in $(seq "${3:-100}"); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
wait_file() {	# FILE [tenths of a second]: FILE exists and is not empty
	local _
	for _ in $(seq "${2:-100}"); do [ -s "$1" ] && return 0; sleep 0.1; done
	return 1
}

# What "vmbusctl attach" does, with xenstore-utils: libxl-style directories.
attach() {
	local d=$1 fe=/local/domain/$1/device/vmbus/0 be=/local/domain/0/backend/vmbus/$1/0
	dom0 xenstore-write "$fe/backend" "$be" "$fe/backend-id" 0 "$fe/state" 1 \
		"$be/frontend" "$fe" "$be/frontend-id" "$d" "$be/state" 1 &&
	dom0 xenstore-chmod -r "$fe" "n$d" r0 &&
	dom0 xenstore-chmod -r "$be" n0 "r$d"
}
