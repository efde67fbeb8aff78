#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# xen-kdrelay end to end on the simulated host, whose debug port is the
# real patched Xen code (viridian/syndbg.c, debugport.c from the cached
# patched tree, compiled against xensim/syndbg/env.h into the plugin
# xensimd loads).  A simulated guest vCPU posts and retrieves through the
# hypercalls and the SYNDBG MSRs; the peers are real TCP and UDP sockets on
# loopback.  Covered: TCP framing and token, blocking and timeouts, sessions
# and reset, UDP with the guest's Ethernet/IPv4/UDP framing (and malformed
# frames), debugger reconnects, the relay killed mid-session, partition to
# partition both ways, the privilege drop, the guest rebooting, the domain's
# end and rebirth from xenstore's @releaseDomain and @introduceDomain
# (--follow) and the readiness and status told to systemd.  Speaks
# TAP (plan at the end); without the patched source the whole test is
# skipped with the reason.  KDRELAY_KEEP=DIR keeps a copy of the run
# directory (the relays' logs) there.
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
# The same for a shell expression.
checkx() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# Poll until the command succeeds, at most SECS seconds.
wait_for() { local end=$((SECONDS + $1)); shift; until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.1; done; }
relay_pid=
upid=
cleanup() {
	[ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null
	[ -n "$upid" ] && kill "$upid" 2>/dev/null
	"$X" host stop >/dev/null 2>&1
	if [ "$failed" -ne 0 ]; then
		for f in "$RUN"/*.log; do [ -f "$f" ] && sed "s|^|# $(basename "$f"): |" "$f" | tail -15; done
	fi
	[ -n "${KDRELAY_KEEP:-}" ] && cp -r "$RUN" "$KDRELAY_KEEP"; rm -rf "$RUN"
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

check "host starts with the patched syndbg plugin" \
	env XENSIM_SYNDBG_PLUGIN="$PLUGIN" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$RUN/asan" "$X" host start
g1=$("$X" create --hvm --name dbg1 --memory 16) && g2=$("$X" create --hvm --name dbg2 --memory 16)
check "two HVM guests" [ -n "${g1:-}" -a -n "${g2:-}" ]
guest() { local d=$1; shift; "$X" run "$d" -- "$GUEST" "$@"; }

# XEN_DMOP_syndbg_backend as the relay issues it, from dom0 and elsewhere.
DMOP="$top_builddir/tests/integration/kdrelay-dmop"
dmop() { local d=$1; shift; "$X" run "$d" -- "$DMOP" "$@"; }
check "dm_op: no backend attached at first (DOMID_INVALID)" [ "$(dmop 0 query "$g1")" = "0 32756" ]
check "dm_op: attach from a privcmd fd restricted to the guest names dom0" \
	[ "$(dmop 0 attach "$g1" "$g1")" = "0 0" ]
check "dm_op: query reports the attached backend" [ "$(dmop 0 query "$g1" "$g1")" = "0 0" ]
check "dm_op: an fd restricted to another domain is refused" \
	[ "$(dmop 0 query "$g1" "$g2")" = "-1 EPERM" ]
check "dm_op: a domain without device model rights cannot attach" \
	[ "$(dmop "$g2" attach "$g1")" = "-1 EPERM" ]
check "dm_op: nor can the guest itself" [ "$(dmop "$g1" attach "$g1")" = "-1 EPERM" ]
check "dm_op: detach" [ "$(dmop 0 detach "$g1" "$g1")" = "0 32756" ]
dmop 0 attach "$g1" >/dev/null
check "xen-kdrelay --detach ends the session" "$X" run 0 -- "$RELAY" --detach -d "$g1"
check "dm_op: nothing attached after --detach" [ "$(dmop 0 query "$g1")" = "0 32756" ]

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
check "reset purging outgoing data succeeds" [ "$(guest "$g1" reset 3 | cut -d' ' -f1)" = 0 ]
out=$(tcp_peer "$PORT" 1.5 s3cret)
check "the purged PDU is dropped and the debugger is told of the reset" [ "$out" = "2:" ]
kill "$relay_pid"; wait "$relay_pid" 2>/dev/null; relay_pid=

# UDP (KDNET): one datagram per PDU.  The hypervisor marks hypercall posts
# as whole frames; --frames bare relays this one's text unframed.
UPORT=$((PORT + 1))
python3 - "$UPORT" "$RUN/udp.ready" >"$RUN/udp.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
open(sys.argv[2], "w").close()
s.settimeout(8)
d, a = s.recvfrom(65536)
print(d.decode(), flush=True)
s.sendto(b"kdnet-reply", a)
PY
upid=$!
wait_for 10 test -e "$RUN/udp.ready"
"$X" run 0 -- "$RELAY" -F -d "$g2" --udp "127.0.0.1:$UPORT" --frames bare >>"$RUN/relay-udp.log" 2>&1 &
relay_pid=$!
sleep 1.5
guest "$g2" post kdnet-hello >/dev/null
r=$(guest "$g2" retrieve 3000)
wait "$upid"
check "UDP --frames bare: the datagram carries the PDU and the reply reaches the guest" \
	[ "$(cat "$RUN/udp.out")" = kdnet-hello -a "$r" = "0 kdnet-reply" ]

upid=
kill "$relay_pid"; wait "$relay_pid" 2>/dev/null; relay_pid=

# ---- UDP with the guest's Ethernet/IPv4/UDP framing ----
# frame.py build SIP DIP SPORT DPORT PAYLOAD [MUTATION] -> hex of a frame;
# frame.py check HEX -> "SMAC>DMAC SIP:SPORT>DIP:DPORT PAYLOAD" once both
# checksums and every length of the frame are verified.
cat >"$RUN/frame.py" <<'PY'
import socket, struct, sys
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def build(sip, dip, sport, dport, payload, mut=""):
    ihl, proto, frag, ulen = 5, 17, 0, 8 + len(payload)
    tot = 20 + ulen
    if mut == "ihl": ihl = 3
    if mut == "proto": proto = 6
    if mut == "frag": frag = 0x2000
    if mut == "long": tot += 100
    if mut == "udplen": ulen += 4
    ip = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot, 0, frag, 64, proto, 0,
                     socket.inet_aton(sip), socket.inet_aton(dip))
    ic = csum(ip) ^ (0x1234 if mut == "ipcsum" else 0)
    ip = ip[:10] + struct.pack("!H", ic) + ip[12:]
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    uc = csum(ip[12:20] + struct.pack("!BBH", 0, 17, len(udp)) + udp) or 0xffff
    uc ^= 0x0101 if mut == "udpcsum" else 0
    f = bytes.fromhex("02000000000b02000000000a0800") + ip + udp[:6] + struct.pack("!H", uc) + udp[8:]
    return f[:30] if mut == "trunc" else f
if sys.argv[1] == "build":
    a = sys.argv[2:]
    print(build(a[0], a[1], int(a[2]), int(a[3]), a[4].encode(), a[5] if len(a) > 5 else "").hex())
else:
    f = bytes.fromhex(sys.argv[2])
    assert f[12:14] == b"\x08\x00", "ethertype"
    ip = f[14:]
    ihl = (ip[0] & 15) * 4
    tot = struct.unpack("!H", ip[2:4])[0]
    assert ip[0] >> 4 == 4 and ihl == 20 and tot == len(ip) and ip[9] == 17, "ip header"
    assert csum(ip[:ihl]) == 0, "ip checksum"
    udp = ip[ihl:tot]
    assert struct.unpack("!H", udp[4:6])[0] == len(udp), "udp length"
    assert csum(ip[12:20] + struct.pack("!BBH", 0, 17, len(udp)) + udp) == 0, "udp checksum"
    sp, dp = struct.unpack("!HH", udp[:4])
    print("%s>%s %s:%d>%s:%d %s" % (f[6:12].hex(), f[:6].hex(), socket.inet_ntoa(ip[12:16]), sp,
          socket.inet_ntoa(ip[16:20]), dp, udp[8:].decode()))
PY
frame() { python3 "$RUN/frame.py" build 10.0.0.5 10.0.0.1 50001 50000 "$@"; }
hexof() { printf %s "$1" | od -An -tx1 | tr -d ' \n'; }
# A KDNET-like peer: logs every datagram in hex, answers "ping:X" with "pong:X".
python3 - "$UPORT" "$RUN/udp.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
log = open(sys.argv[2], "a")
open(sys.argv[2] + ".ready", "w").close()
while True:
    d, a = s.recvfrom(65536)
    log.write(d.hex() + "\n")
    log.flush()
    if d.startswith(b"ping:"):
        s.sendto(b"pong:" + d[5:], a)
PY
upid=$!
: >"$RUN/udp.log"
# The relay's first datagram would meet a closed port before the bind.
wait_for 10 test -e "$RUN/udp.log.ready"
start_udp_relay() { # log extra-options...
	local log=$1; shift
	"$X" run 0 -- "$RELAY" -F -v -d "$g2" --udp "127.0.0.1:$UPORT" "$@" >>"$RUN/$log" 2>&1 &
	relay_pid=$!
	wait_for 10 grep -q "attached to the debug port" "$RUN/$log"
}
udp_got() { grep -qx "$(hexof "$1")" "$RUN/udp.log"; }
start_udp_relay relay-frames.log
guest "$g2" post-hex "$(frame ping:frame)" >/dev/null
check "UDP, hypercall framing: the debugger receives the payload without the guest's headers" \
	wait_for 5 udp_got ping:frame
r=$(guest "$g2" retrieve-hex 3000)
f=$(python3 "$RUN/frame.py" check "${r#0 }" 2>&1)
check "UDP, hypercall framing: the reply reaches the guest in a frame with valid headers, addressed back" \
	[ "${r%% *}" = 0 -a "$f" = "02000000000b>02000000000a 10.0.0.1:50000>10.0.0.5:50001 pong:frame" ]
r=$(guest "$g2" reset 0)
check "UDP: the session reset reports the debugger and the guest's learned address" \
	[ "$r" = "$(printf '0 host 7f000001:%04x target 0a000005:c351' "$UPORT")" ]
st=$(guest "$g2" msr-send "$(hexof ping:msr)")
checkx "UDP, MSR framing: the bare payload goes out unchanged" \
	'[ "$st" = 0x1 ] && wait_for 5 udp_got ping:msr'
msr_recv() { r=$(guest "$g2" msr-recv); [ "$r" != "0 " ]; }
wait_for 5 msr_recv
check "UDP, MSR framing: the reply reaches the guest bare" \
	[ "$r" = "$(printf '%#x %s' $(((8 << 16) | 4)) "$(hexof pong:msr)")" ]
# What the MSRs send is bare by the hypervisor's mark, even when its bytes
# look like a frame: it goes out whole, headers and all.
msrframe=$(frame ping:msrframe)
st=$(guest "$g2" msr-send "$msrframe")
checkx "UDP, MSR framing: a payload that looks like a frame still goes out unchanged" \
	'[ "$st" = 0x1 ] && wait_for 5 grep -qx "$msrframe" "$RUN/udp.log"'
for m in ihl proto frag long udplen ipcsum udpcsum trunc; do
	guest "$g2" post-hex "$(frame "ping:bad-$m" "$m")" >/dev/null
done
guest "$g2" post-hex "$(frame ping:after)" >/dev/null
r=$(guest "$g2" retrieve-hex 3000)
f=$(python3 "$RUN/frame.py" check "${r#0 }" 2>&1)
checkx "UDP: malformed frames are refused, the relay lives on and the next frame passes" \
	'[ "${f##* }" = pong:after ] && kill -0 "$relay_pid" && ! grep -q "$(hexof ping:bad)" "$RUN/udp.log"'
reasons="IPv4 header length below 20|IPv4 protocol is not UDP|IPv4 fragment|IPv4 total length beyond the frame|UDP length disagrees with the IPv4 length|bad IPv4 header checksum|bad UDP checksum|truncated IPv4 header"
check "UDP: each refusal is logged with its reason" \
	[ "$(grep -cE "refused a [0-9]+-byte frame from d$g2: ($reasons)\$" "$RUN/relay-frames.log")" = 8 ]
check "UDP: refusals are also reported once at warning level" \
	[ "$(grep -c "refused 1 malformed frame(s) from d$g2" "$RUN/relay-frames.log")" = 1 ]
kill "$relay_pid"; wait "$relay_pid" 2>/dev/null; relay_pid=

start_udp_relay relay-eth.log --frames ethernet
guest "$g2" msr-send "$(hexof ping:no-hdrs)" >/dev/null
guest "$g2" post-hex "$(frame ping:eth-ok)" >/dev/null
checkx "UDP --frames ethernet: a bare payload is refused, a frame passes" \
	'wait_for 5 udp_got ping:eth-ok && ! udp_got ping:no-hdrs &&
	 grep -qE "refused a 12-byte frame from d$g2: shorter than an Ethernet header" "$RUN/relay-eth.log"'
guest "$g2" retrieve 500 >/dev/null
kill "$relay_pid"; wait "$relay_pid" 2>/dev/null; relay_pid=
start_udp_relay relay-bare.log --frames bare
fr=$(frame ping:whole)
guest "$g2" post-hex "$fr" >/dev/null
check "UDP --frames bare: the guest's buffer goes out as it is, headers included" \
	wait_for 5 grep -qx "$fr" "$RUN/udp.log"
kill "$relay_pid"; wait "$relay_pid" 2>/dev/null; relay_pid=
kill "$upid"; wait "$upid" 2>/dev/null; upid=

# ---- the debugger going away and coming back (TCP) ----
# Inherits descriptor 7, which the relay must not keep.
exec 7</etc/hostname
start_relay
exec 7<&-
out=$(tcp_peer "$PORT" 1 s3cret)
guest "$g1" post while-away >/dev/null
out=$(tcp_peer "$PORT" 1.5 s3cret)
check "TCP: a debugger that reconnects gets what the guest posted while it was away, once" \
	[ "$out" = "1:while-away" ]
python3 - "$PORT" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"s3cret\n" + struct.pack(">HBB", 100, 1, 0) + b"partial")
PY
tcp_peer "$PORT" 0.5 s3cret after-partial >/dev/null
check "TCP: a debugger dropping mid-frame leaves nothing behind; the next one is heard" \
	[ "$(guest "$g1" retrieve 2000)" = "0 after-partial" ]
# Two debuggers: the one that authenticates last takes over; a wrong token
# takes nothing over.
python3 - "$PORT" "$X" "$GUEST" "$g1" >"$RUN/takeover.out" <<'PY'
import socket, struct, subprocess, sys, time
port, x, guest, dom = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def conn(tok):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(tok + b"\n")
    time.sleep(0.5)
    return s
def drain(s, secs):
    s.settimeout(0.2)
    buf, end, eof = b"", time.time() + secs, False
    while time.time() < end:
        try:
            d = s.recv(65536)
            if not d:
                eof = True
                break
            buf += d
        except socket.timeout:
            pass
    return buf[4:].decode() if buf else "", eof
a = conn(b"s3cret")
b = conn(b"s3cret")
c = conn(b"wrong")
subprocess.run([x, "run", dom, "--", guest, "post", "to-newest"], stdout=subprocess.DEVNULL)
print("a=%s,%s b=%s,%s c=%s,%s" % (drain(a, 1) + drain(b, 1.5) + drain(c, 0.5)))
PY
check "TCP: a new authenticated debugger replaces the old one, a wrong token does not" \
	[ "$(cat "$RUN/takeover.out")" = "a=,True b=to-newest,False c=,True" ]

# A debugger that stops reading: the relay must not block on it.  Other
# debuggers still take over, and SIGTERM still ends the relay.
stuck_peer() { # port
	python3 - "$1" <<'PY'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"s3cret\n")
time.sleep(30)
PY
}
stuck_peer "$PORT" &
spid=$!
sleep 0.5
guest "$g1" post-many 3000 4000 >"$RUN/flood.out"
out=$(tcp_peer "$PORT" 2 s3cret | head -n 1)
check "TCP: a debugger that stops reading does not block the relay; a new one takes over" \
	[ "${out:0:6}" = "1:xxxx" ]
kill "$spid"; wait "$spid" 2>/dev/null
stuck_peer "$PORT" &
spid=$!
sleep 0.5
guest "$g1" post-many 3000 4000 >>"$RUN/flood.out"
kill -TERM "$relay_pid"
wait_for 5 eval '! kill -0 "$relay_pid" 2>/dev/null'
checkx "TCP: SIGTERM ends the relay while its debugger does not read" \
	'! kill -0 "$relay_pid" 2>/dev/null'
kill "$spid"; wait "$spid" 2>/dev/null
kill -9 "$relay_pid" 2>/dev/null; wait "$relay_pid" 2>/dev/null; relay_pid=
start_relay
# What is left of the flood.
tcp_peer "$PORT" 1 s3cret >/dev/null

# ---- the relay itself killed mid-session ----
KDRELAY_VCPU=1 guest "$g1" retrieve 20000 >"$RUN/wait.out" &
wpid=$!
tcp_peer "$PORT" 3 s3cret >"$RUN/kill1.out" &
ppid=$!
sleep 1
guest "$g1" post k1 >/dev/null
sleep 0.5
kill -9 "$relay_pid"; wait "$relay_pid" 2>/dev/null; relay_pid=
guest "$g1" post k2 >/dev/null
guest "$g1" post k3 >/dev/null
wait "$ppid"
start_relay
out=$(tcp_peer "$PORT" 1.5 s3cret wake)
t0=$SECONDS
wait "$wpid"
check "relay killed with SIGKILL: after its restart every PDU arrives exactly once, in order" \
	[ "$(cat "$RUN/kill1.out") $(echo $out)" = "1:k1 1:k2 1:k3" ]
check "relay killed with SIGKILL: the guest's blocked retrieve is woken by the restarted relay" \
	[ "$(cat "$RUN/wait.out")" = "0 wake" -a $((SECONDS - t0)) -lt 10 ]

# ---- privileges ----
rpid=$(pgrep -f "xen-kdrelay -F -v -d $g1 --tcp" | head -n 1)
if [ "$(id -u)" = 0 ]; then
	nobody=$(id -u nobody)
	check "privileges: the relay runs as nobody (uid, gid, no groups)" \
		grep -qx "Uid:	$nobody	$nobody	$nobody	$nobody" "/proc/$rpid/status"
	checkx "privileges: no group left, no inherited descriptor kept" \
		'grep -qx "Groups:[[:space:]]*" "/proc/$rpid/status" &&
		 ! ls -l "/proc/$rpid/fd" | grep -q /etc/hostname'
	guest "$g1" post as-nobody >/dev/null
	check "privileges: the unprivileged relay still relays" \
		[ "$(tcp_peer "$PORT" 1.5 s3cret)" = "1:as-nobody" ]
else
	for t in "runs as nobody" "no group left, no inherited descriptor kept" "still relays"; do
		skip "privileges: $t" "not running as root"
	done
fi
kill "$relay_pid"; wait "$relay_pid" 2>/dev/null; relay_pid=

# ---- partition to partition ----
"$X" run 0 -- "$RELAY" -F -v -d "$g1" --to-domain "$g2" >>"$RUN/relay-p2p.log" 2>&1 &
relay_pid=$!
wait_for 10 [ "$(grep -c "attached to the debug port" "$RUN/relay-p2p.log")" = 2 ]
guest "$g2" retrieve 8000 >"$RUN/p2p2.out" &
wpid=$!
sleep 0.5
guest "$g1" post from-one >/dev/null
wait "$wpid"
check "partition to partition: a blocked retrieve in the second domain wakes with the first's data" \
	[ "$(cat "$RUN/p2p2.out")" = "0 from-one" ]
guest "$g1" retrieve 8000 >"$RUN/p2p1.out" &
wpid=$!
sleep 0.5
guest "$g2" post from-two >/dev/null
wait "$wpid"
check "partition to partition: and the other way round" \
	[ "$(cat "$RUN/p2p1.out")" = "0 from-two" ]
kill "$relay_pid"; wait "$relay_pid" 2>/dev/null; relay_pid=

# ---- the guest rebooting ----
"$X" run 0 -- "$RELAY" -F -v -n dbg1 --tcp "127.0.0.1:$PORT" --token "$RUN/token" \
	>>"$RUN/relay-name.log" 2>&1 &
relay_pid=$!
wait_for 10 grep -q "attached to the debug port of d$g1 " "$RUN/relay-name.log"
guest "$g1" post before-reboot >/dev/null
check "--name: the relay serves the domain of that name" \
	[ "$(tcp_peer "$PORT" 1.5 s3cret)" = "1:before-reboot" ]
"$X" destroy --wait dbg1 >/dev/null
g1b=$("$X" create --hvm --name dbg1 --memory 16)
checkx "--name: after a reboot (new domain, same name) the relay follows and attaches" \
	'[ -n "$g1b" ] && [ "$g1b" != "$g1" ] &&
	 wait_for 10 grep -q "attached to the debug port of d$g1b " "$RUN/relay-name.log"'
guest "$g1b" post after-reboot >/dev/null
out=$(tcp_peer "$PORT" 1.5 s3cret to-rebooted)
check "--name: PDUs flow both ways with the rebooted guest" \
	[ "$out" = "1:after-reboot" -a "$(guest "$g1b" retrieve 2000)" = "0 to-rebooted" ]
kill "$relay_pid"; wait "$relay_pid" 2>/dev/null; relay_pid=
"$X" run 0 -- "$RELAY" -F -d "$g1b" --tcp "127.0.0.1:$PORT" >>"$RUN/relay-gone.log" 2>&1 &
relay_pid=$!
wait_for 10 grep -q "attached to the debug port of d$g1b " "$RUN/relay-gone.log"
"$X" destroy --wait dbg1 >/dev/null
wait_for 10 eval '! kill -0 "$relay_pid" 2>/dev/null'
wait "$relay_pid"
st=$?
relay_pid=
checkx "-d: the relay learns from @releaseDomain that the domain is gone, says so, exits with status 3" \
	'[ "$st" = 3 ] && grep -q "d$g1b no longer exists (@releaseDomain); exiting" "$RUN/relay-gone.log"'


# ---- --follow NAME, as xen-kdrelay@NAME.service runs it ----
# Started before the guest exists; told by @introduceDomain when it comes
# and by @releaseDomain when it goes, it re-attaches to each new domain of
# the name.  systemd's readiness and status go to a NOTIFY_SOCKET, which
# the relay reaches after it became nobody, as systemd's own.
chmod 711 "$RUN"
mkdir -m 755 "$RUN/notify"
python3 - "$RUN/notify/sock" "$RUN/notify.log" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
log = open(sys.argv[2], "a")
s.settimeout(60)
while True:
    try:
        d = s.recv(4096)
    except socket.timeout:
        break
    for line in d.decode().split("\n"):
        log.write(line + "\n")
    log.flush()
PY
npid=$!
wait_for 10 test -S "$RUN/notify/sock"
NOTIFY_SOCKET="$RUN/notify/sock" "$X" run 0 -- "$RELAY" -F -v --follow dbg3 --tcp "127.0.0.1:$PORT" \
	--token "$RUN/token" >>"$RUN/relay-follow.log" 2>&1 &
relay_pid=$!
check "--follow: a relay started before its guest waits for the name" \
	wait_for 10 grep -q 'waiting for a domain named "dbg3"' "$RUN/relay-follow.log"
g3=$("$X" create --hvm --name dbg3 --memory 16)
checkx "--follow: the guest's creation (@introduceDomain) brings the relay to its port" \
	'[ -n "$g3" ] && wait_for 10 grep -q "domain \"dbg3\" is d$g3 (@introduceDomain)" "$RUN/relay-follow.log" &&
	 wait_for 10 grep -q "attached to the debug port of d$g3 " "$RUN/relay-follow.log"'
guest "$g3" post first-life >/dev/null
check "--follow: PDUs flow with the guest" [ "$(tcp_peer "$PORT" 1.5 s3cret)" = "1:first-life" ]
"$X" destroy --wait dbg3 >/dev/null
checkx "--follow: the guest's destruction (@releaseDomain) is noticed and said, the relay waits on" \
	'wait_for 10 grep -q "d$g3 (\"dbg3\") is gone (@releaseDomain)" "$RUN/relay-follow.log" &&
	 kill -0 "$relay_pid"'
g3b=$("$X" create --hvm --name dbg3 --memory 16)
checkx "--follow: the guest created again under its name gets its relay back" \
	'[ -n "$g3b" ] && [ "$g3b" != "$g3" ] &&
	 wait_for 10 grep -q "attached to the debug port of d$g3b " "$RUN/relay-follow.log"'
guest "$g3b" post second-life >/dev/null
out=$(tcp_peer "$PORT" 1.5 s3cret to-second)
check "--follow: PDUs flow both ways with the re-created guest" \
	[ "$out" = "1:second-life" -a "$(guest "$g3b" retrieve 2000)" = "0 to-second" ]
if grep -q '^#define HAVE_LIBSYSTEMD 1' "$top_builddir/config.h"; then
	checkx "sd_notify: READY=1 once the sink listens, after the first status" \
		'grep -qx "READY=1" "$RUN/notify.log" &&
		 [ "$(grep -m1 -n "" "$RUN/notify.log" | cut -d: -f2-)" = "STATUS=no such guest; waiting for a domain named \"dbg3\"" ]'
	checkx "sd_notify: STATUS says attached, guest gone, attached again" \
		'grep -q "^STATUS=attached to d$g3 (\"dbg3\")" "$RUN/notify.log" &&
		 grep -qx "STATUS=guest gone; waiting for a domain named \"dbg3\"" "$RUN/notify.log" &&
		 grep -q "^STATUS=attached to d$g3b (\"dbg3\")" "$RUN/notify.log"'
else
	skip "sd_notify: READY=1 once the sink listens" "built without libsystemd"
	skip "sd_notify: STATUS says attached, guest gone, attached again" "built without libsystemd"
fi
kill "$relay_pid"; wait "$relay_pid" 2>/dev/null; relay_pid=
kill "$npid" 2>/dev/null; wait "$npid" 2>/dev/null

[ -z "$(ls "$RUN"/asan* 2>/dev/null)" ] || not_ok "no sanitizer reports ($(ls "$RUN"/asan*))"
echo "1..$n"
exit $((failed > 0))
