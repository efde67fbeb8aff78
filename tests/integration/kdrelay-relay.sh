#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# xen-kdrelay end to end on the simulated host, whose debug port is the
# real patched Xen code (viridian/syndbg.c, debugport.c from the cached
# patched tree, compiled against xensim/syndbg/env.h into the plugin
# xensimd loads).  A simulated guest vCPU posts and retrieves through the
# hypercalls; the peers are real TCP and UDP sockets on loopback.  Speaks
# TAP; without the patched source the whole test is skipped with the reason.
set -u

: "${top_builddir:?run through make check}"
: "${top_srcdir:?run through make check}"
X="$top_builddir/xensim/xensim"
RELAY="$top_builddir/dom0-backends/kdrelay/xen-kdrelay"
GUEST="$top_builddir/tests/integration/kdrelay-guest"
cache=${HV_XEN_CACHE:-$top_builddir/hypervisor-patches/xen-cache}
RUN=$(mktemp -d /tmp/kdrelay-test.XXXXXX)
export XENSIM_RUNDIR="$RUN"
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
relay_pid=
cleanup() {
	[ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null
	"$X" host stop >/dev/null 2>&1
	if [ "$failed" -ne 0 ]; then
		for f in "$RUN"/*.log; do [ -f "$f" ] && sed "s|^|# $(basename "$f"): |" "$f" | tail -15; done
	fi
	rm -rf "$RUN"
}
trap cleanup EXIT

tree=$("$top_srcdir/hypervisor-patches/build-xen.sh" --cache "$cache" prepare 2>"$RUN/prepare.log") || {
	echo "1..0 # SKIP cannot fetch or patch Debian's xen source: $(tail -n 1 "$RUN/prepare.log")"
	exit 0
}
V=$tree/xen/arch/x86/hvm/viridian
PLUGIN=$RUN/syndbg-plugin.so
# shellcheck disable=SC2086
if ! ${HV_CC:-cc} -std=gnu11 -g -O1 -fPIC -shared -fvisibility=hidden -Wall -Wno-unused-parameter \
	${HV_CFLAGS:-} -include "$top_srcdir/xensim/syndbg/env.h" \
	-I"$top_srcdir/tests/hypervisor/stub/include" -I"$top_srcdir/xensim/syndbg" \
	-I"$tree/xen/include" -I"$tree/xen/arch/x86/include" -I"$V" \
	"$V/syndbg.c" "$V/debugport.c" "$top_srcdir/xensim/syndbg/env.c" \
	-o "$PLUGIN" ${HV_LDFLAGS:-} >"$RUN/plugin.log" 2>&1; then
	echo "1..1"
	sed 's/^/# /' "$RUN/plugin.log"
	echo "not ok 1 - compile the patched syndbg code into the xensimd plugin"
	exit 1
fi

# A TCP debugger: connects, optionally sends a token line, sends the
# frames given, prints the payloads it receives during SECS seconds.
tcp_peer() { # port secs token send...
	python3 - "$@" <<'PY'
import socket, struct, sys, time
port, secs, token = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
if token != "-":
    s.sendall(token.encode() + b"\n")
time.sleep(0.2)
for m in sys.argv[4:]:
    s.sendall(struct.pack(">HBB", len(m), 1, 0) + m.encode())
s.settimeout(0.2)
buf, end = b"", time.time() + secs
while time.time() < end:
    try:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    except socket.timeout:
        pass
while len(buf) >= 4:
    l, t, f = struct.unpack(">HBB", buf[:4])
    print("%d:%s" % (t, buf[4:4 + l].decode()))
    buf = buf[4 + l:]
PY
}

echo "1..12"
check "host starts with the patched syndbg plugin" \
	env XENSIM_SYNDBG_PLUGIN="$PLUGIN" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$RUN/asan" "$X" host start
g1=$("$X" create --hvm --name dbg1 --memory 16) && g2=$("$X" create --hvm --name dbg2 --memory 16)
check "two HVM guests" [ -n "${g1:-}" -a -n "${g2:-}" ]
guest() { local d=$1; shift; "$X" run "$d" -- "$GUEST" "$@"; }

PORT=$((20000 + RANDOM % 20000))
echo s3cret > "$RUN/token"
start_relay() {
	"$X" run 0 -- "$RELAY" -F -v -d "$g1" --tcp "127.0.0.1:$PORT" --token "$RUN/token" \
		>>"$RUN/relay.log" 2>&1 &
	relay_pid=$!
	sleep 1.5
}
start_relay
check "guest posts a PDU (HV_STATUS_SUCCESS)" [ "$(guest "$g1" post hello)" = 0 ]
out=$(tcp_peer "$PORT" 1.5 s3cret world)
check "the TCP debugger receives it, framed" [ "$out" = "1:hello" ]
check "the debugger's PDU reaches the guest" [ "$(guest "$g1" retrieve 2000)" = "0 world" ]

t0=$(date +%s%N)
r=$(guest "$g1" retrieve 400)
t1=$(date +%s%N)
check "a blocked retrieve times out with HV_STATUS_NO_DATA after its timeout" \
	[ "$r" = "27 " -a $(((t1 - t0) / 1000000)) -ge 380 ]

guest "$g1" retrieve 8000 >"$RUN/wait.out" &
wpid=$!
sleep 0.5
tcp_peer "$PORT" 0.5 s3cret late >/dev/null
wait "$wpid"
check "a blocked retrieve wakes on data" [ "$(cat "$RUN/wait.out")" = "0 late" ]

out=$(tcp_peer "$PORT" 1 wrong-token)
check "a client with the wrong token gets nothing" [ -z "$out" ]

kill "$relay_pid"; wait "$relay_pid" 2>/dev/null; relay_pid=
guest "$g1" post two >/dev/null
start_relay
out=$(tcp_peer "$PORT" 1.5 s3cret)
check "after a relay restart the queued PDU arrives once, nothing is repeated" [ "$out" = "1:two" ]

guest "$g1" post stale >/dev/null
check "reset purging outgoing data succeeds" [ "$(guest "$g1" reset 3)" = 0 ]
out=$(tcp_peer "$PORT" 1.5 s3cret)
check "the purged PDU is dropped and the debugger is told of the reset" [ "$out" = "2:" ]
kill "$relay_pid"; wait "$relay_pid" 2>/dev/null; relay_pid=

# UDP (KDNET): one datagram per PDU, payload only.
UPORT=$((PORT + 1))
python3 - "$UPORT" >"$RUN/udp.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.settimeout(8)
d, a = s.recvfrom(65536)
print(d.decode(), flush=True)
s.sendto(b"kdnet-reply", a)
PY
upid=$!
sleep 0.3
"$X" run 0 -- "$RELAY" -F -d "$g2" --udp "127.0.0.1:$UPORT" >>"$RUN/relay-udp.log" 2>&1 &
relay_pid=$!
sleep 1.5
guest "$g2" post kdnet-hello >/dev/null
r=$(guest "$g2" retrieve 3000)
wait "$upid"
check "UDP: the datagram carries the PDU and the reply reaches the guest" \
	[ "$(cat "$RUN/udp.out")" = kdnet-hello -a "$r" = "0 kdnet-reply" ]

[ -z "$(ls "$RUN"/asan* 2>/dev/null)" ] || failed=$((failed + 1))
exit $((failed > 0))
