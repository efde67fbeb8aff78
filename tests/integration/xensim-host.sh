#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The simulated host end to end, with Debian's own tools: xenstored and the
# xenstore-utils from dom0 and from guests, guest isolation, @releaseDomain,
# the conformance suite with a peer in a guest, and that destroying a domain
# kills its programs and frees everything it held.  Speaks TAP.
set -u

: "${top_builddir:?run through make check}"
X="$top_builddir/xensim/xensim"
CONF="$top_builddir/tests/conformance/xen-conformance"
RUN=$(mktemp -d /tmp/xensim-test.XXXXXX)
export XENSIM_RUNDIR="$RUN"
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
cleanup() {
	"$X" host stop >/dev/null 2>&1
	if [ "$failed" -ne 0 ] && [ -f "$RUN/xenstored.log" ]; then
		sed 's/^/# xenstored: /' "$RUN/xenstored.log" | tail -20
	fi
	rm -rf "$RUN"
}
trap cleanup EXIT
dom0() { "$X" run 0 -- "$@"; }
# Gone (or a zombie waiting for this shell to reap it) within 2 s.
dead() {
	local _
	for _ in $(seq 40); do
		! kill -0 "$1" 2>/dev/null && return 0
		[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ] && return 0
		sleep 0.05
	done
	return 1
}
field() { "$X" info "$1" --json | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"; }

echo "1..28"
# Sanitizer reports of the daemon (it has no terminal) land in the run dir.
check "host starts (xensimd + Debian's xenstored)" \
	env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$RUN/asan" "$X" host start
check "dom0 writes and reads with xenstore-utils" \
	bash -c "'$X' run 0 -- xenstore-write /test/a hello && [ \"\$('$X' run 0 -- xenstore-read /test/a)\" = hello ]"
# libxenguest binds every libxenctrl function it calls when it is loaded.
XSCTL="$(dirname "${XENSTORED_BIN:-/usr/lib/xen-4.17/bin/xenstored}")/xenstore-control"
# (In a sanitizer build the simulated libraries need the sanitizer runtime
# first, as xenstored gets it; the tool's own leaks are not ours.)
SAN_ENV=${XENSIM_SAN_PRELOAD:+LD_PRELOAD=$XENSIM_SAN_PRELOAD ASAN_OPTIONS=detect_leaks=0}
check "Debian's xenstore-control loads in dom0 and checks the store" \
	bash -c "[ \"\$(env $SAN_ENV '$X' run 0 -- '$XSCTL' check 2>&1)\" = OK ]"
base_maps=$(field 0 maps_held)
g1=$("$X" create --name g1) && g2=$("$X" create --name g2)
guest_maps=$(field 0 maps_held)
check "two guests created" [ -n "${g1:-}" -a -n "${g2:-}" ]
check "xenstore-ls from dom0 shows the guests" \
	bash -c "'$X' run 0 -- xenstore-ls /local/domain | grep -q 'name = \"g2\"'"
check "a guest writes and reads its own nodes (relative path)" \
	bash -c "'$X' run g1 -- xenstore-write data/secret s3cret && [ \"\$('$X' run g1 -- xenstore-read /local/domain/$g1/data/secret)\" = s3cret ]"
check "a guest lists its own domain" \
	bash -c "'$X' run g1 -- xenstore-ls /local/domain/$g1 | grep -q 'secret = \"s3cret\"'"
check "another guest gets EACCES on it" \
	bash -c "! '$X' run g2 -- xenstore-read /local/domain/$g1/data/secret 2>/dev/null && \
		 ! '$X' run g2 -- xenstore-write /local/domain/$g1/data/secret x 2>/dev/null && \
		 ! '$X' run g2 -- xenstore-rm /local/domain/$g1/data/secret 2>/dev/null"
check "xenstore-chmod by the owner grants read to the other guest" \
	bash -c "'$X' run g1 -- xenstore-chmod data/secret n$g1 r$g2 && \
		 [ \"\$('$X' run g2 -- xenstore-read /local/domain/$g1/data/secret)\" = s3cret ]"

timeout 10 "$X" run g1 -- xenstore-watch -n 2 data/watched > "$RUN/guest-watch.out" 2>&1 &
wpid=$!
sleep 0.5
dom0 xenstore-write "/local/domain/$g1/data/watched" 1
wait "$wpid"
check "a guest's xenstore-watch sees dom0's write" grep -q "data/watched" "$RUN/guest-watch.out"

check "malformed hypercalls and xenbus messages from a guest are refused" \
	"$top_builddir/tests/integration/hostile-client" "$RUN" "$g2" 400

# Conformance: dom0 suite with a peer in g1 (and the host still serves).
"$X" run g1 -- "$CONF" --peer > "$RUN/peer.out" 2>&1 &
ppid=$!
if XENCONF_PEER_DOMID=$g1 "$X" run 0 -- "$CONF" > "$RUN/conf.out" 2>&1; then
	ok "conformance suite with a peer in a guest"
else
	not_ok "conformance suite with a peer in a guest"
	sed 's/^/# /' "$RUN/conf.out" "$RUN/peer.out"
fi
wait "$ppid"
check "the peer's grants and mappings are released when it exits" \
	[ "$(field "$g1" grants)" = 1 -a "$(field 0 maps_held)" = "$guest_maps" ]

# Destruction.
dom0 xenstore-write /test/owned-by-g2 x
dom0 xenstore-chmod /test/owned-by-g2 "n$g2"
timeout 10 "$X" run 0 -- xenstore-watch -n 2 @releaseDomain > "$RUN/release.out" 2>&1 &
rpid=$!
"$X" run g2 -- "$CONF" --peer > /dev/null 2>&1 &
gpid=$!
disown "$gpid"
for _ in $(seq 100); do
	"$X" run 0 -- xenstore-read "/local/domain/$g2/data/conformance/ready" >/dev/null 2>&1 && break
	sleep 0.05
done
check "a guest program holds grants and a port" [ "$(field "$g2" grants)" -ge 3 ]
check "destroy kills the guest's programs and the domain goes" \
	eval "'$X' destroy --wait g2 && dead $gpid && ! '$X' list | grep -q ' g2 '"
wait "$rpid"
check "@releaseDomain fired" grep -q "@releaseDomain" "$RUN/release.out"
check "xenstored removed the nodes the dead guest owned" \
	bash -c "! '$X' run 0 -- xenstore-read /test/owned-by-g2 2>/dev/null && \
		 ! '$X' run 0 -- xenstore-read /local/domain/$g2 2>/dev/null"
"$X" destroy --wait g1
check "everything the guests held is freed (dom0 back to baseline, one domain left)" \
	[ "$(field 0 maps_held)" = "$base_maps" -a "$(field 0 domains)" = 1 ]

# One host per run directory.
out=$("$X" host start 2>&1 >/dev/null); rc=$?
check "a second host start refuses with one line and leaves the host alone" \
	eval "[ $rc -ne 0 ] && [ \"\$(printf '%s\n' \"\$out\" | wc -l)\" = 1 ] && \
	      [ \"\${out#xensim: }\" != \"\$out\" ] && \
	      [ \"\$('$X' run 0 -- xenstore-read /local/domain/0/name)\" = Domain-0 ]"
simd_pid=$(cat "$RUN/xensimd.pid")
out=$(timeout 10 "$top_builddir/xensim/xensimd" --rundir "$RUN" -F 2>&1); rc=$?
check "a stray xensimd on the live run dir refuses and keeps the winner's pid file" \
	eval "[ $rc = 1 ] && [ \"\${out#xensimd: }\" != \"\$out\" ] && \
	      [ \"\$(cat '$RUN/xensimd.pid')\" = $simd_pid ] && '$X' list >/dev/null"

# Stopping the host ends what runs on it, at once.
"$X" run 0 -- xenstore-watch /local >/dev/null 2>&1 &
w0=$!
g3=$("$X" create --name g3)
"$X" run g3 -- xenstore-watch data >/dev/null 2>&1 &
w3=$!
disown "$w0" "$w3"
sleep 0.3
t0=$(date +%s%N)
check "host stops" "$X" host stop
t1=$(date +%s%N)
# Ended by the time it returns: not left to die later (or to spin).
gone_now() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
check "host stop ends the programs in dom0 and in guests before it returns" \
	eval "gone_now $w0 && gone_now $w3"
check "host stop takes well under the 5 s it gives a daemon (took $(( (t1 - t0) / 1000000 )) ms)" \
	[ $(( (t1 - t0) / 1000000 )) -lt 3000 ]

# What a killed host leaves behind is cleaned by the next start.
"$X" host start >/dev/null 2>&1
p=$(cat "$RUN/xensimd.pid"); kill -9 "$p"; dead "$p"
check "after kill -9 of xensimd the next start cleans the run dir and works" \
	eval "'$X' host start 2>&1 | grep -q 'cleaned stale run directory' && \
	      [ \"\$('$X' run 0 -- xenstore-read /local/domain/0/name)\" = Domain-0 ]"
p=$(cat "$RUN/xenstored.pid"); kill -9 "$p"; dead "$p"
check "after kill -9 of xenstored the next start cleans the run dir and works" \
	eval "'$X' host start 2>&1 | grep -q 'cleaned stale run directory' && \
	      [ \"\$('$X' run 0 -- xenstore-read /local/domain/0/name)\" = Domain-0 ]"
"$X" host stop
XENSTORED_BIN=/bin/false "$X" host start >/dev/null 2>&1; rc=$?
check "a start whose xenstored fails leaves no xensimd behind" \
	eval "[ $rc -ne 0 ] && ! ls '$RUN'/dom0 >/dev/null 2>&1 && \
	      ! pgrep -f -- '--rundir $RUN ' >/dev/null"
check "host stop of a stopped host succeeds" "$X" host stop
if ls "$RUN"/asan.* >/dev/null 2>&1; then
	not_ok "no sanitizer reports from the simulated hypervisor"
	cat "$RUN"/asan.* | sed 's/^/# /' | head -60
else
	ok "no sanitizer reports from the simulated hypervisor"
fi
exit 0
