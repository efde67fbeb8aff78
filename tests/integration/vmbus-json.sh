#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Every --json output of vmbusctl is JSON whatever the names in it: pipes
# offered with quotes, backslashes, control characters, spaces, '=' and
# '%', UTF-8 and the longest name an offer holds, to a service whose path
# is as odd, and a pipe between guests; list --json and status --json are
# parsed back and each name and path must come back as it went in.  A
# name that is not UTF-8 still gives JSON.  Names an offer cannot hold
# (empty, too long, with a '/') are refused.  Speaks TAP.
set -u

. "$(dirname "$0")/tap-lib.sh"
CLIENT="$top_builddir/tools/vmbus-pipe-client"

check "host starts" "$X" host start
g1=$("$X" create --name g1) && g2=$("$X" create --name g2)
"$X" run 0 -- "$VMBUSD" -F -v --pid-file "$RUN/vmbusd.pid" > "$RUN/vmbusd.log" 2>&1 &
pids+=($!)
check "vmbusd serves" wait_for "$RUN/vmbusd.pid" . 100
check "vmbusctl attaches two guests" eval "ctl attach g1 >/dev/null && ctl attach g2 >/dev/null"

svc="$RUN/s p=a%2\"q\\'$(printf '\t')ü.sock"
names=(
	'we"ird\name'
	'"'
	'\'
	'\\\"\\'
	"$(printf 'tab\there')"
	"$(printf 'ctl\001\002\037\177end')"
	"$(printf 'new\nline')"
	'a b=c%20d %'
	'Grüße → ✓ 日本'
	'{"json":[1,2]}'
	"$(printf 'x%.0s' $(seq 115))"
	'<script>'
)
: > "$RUN/names"
for name in "${names[@]}"; do
	printf '%s\0' "$name" >> "$RUN/names"
	if ! ctl offer g1 --pipe "$name" --service "$svc" > "$RUN/o.out" 2>&1; then
		not_ok "vmbusctl offers a pipe named $(printf '%q' "$name")"
		show "$RUN/o.out"
	fi
done
ok "vmbusctl offers ${#names[@]} pipes with odd names"
check "vmbusctl p2p makes a pipe between guests with an odd name" \
	ctl p2p g1 g2 --name 'p2p "link"\' 
printf '%s\0' 'p2p "link"\' >> "$RUN/names"

# Names an offer cannot hold.
for bad in "" "$(printf 'y%.0s' $(seq 116))" "$(printf 'z%.0s' $(seq 255))" "a/b"; do
	if ctl offer g1 --pipe "$bad" --service "$svc" > "$RUN/o.out" 2>&1; then
		not_ok "vmbusctl refuses a pipe named \"${bad:0:20}\" (${#bad} bytes)"
	else
		ok "vmbusctl refuses a pipe named \"${bad:0:20}\" (${#bad} bytes)"
	fi
done

# Parse list --json and status --json; every name and path round-trips.
cat > "$RUN/check.py" <<'PY'
import json, sys
names = open(sys.argv[1], 'rb').read().split(b'\0')[:-1]
names = sorted(n.decode('utf-8') for n in names)
svc = sys.argv[2]
lst = json.load(open(sys.argv[3], encoding='utf-8'))
json.load(open(sys.argv[4], encoding='utf-8'))
got, bad = [], []
for d in lst['domains']:
    for c in d['channels']:
        if d['domid'] == int(sys.argv[5]):
            got.append(c['name'])
            if c['name'].startswith('p2p'):
                continue
            if c['service'] != svc:
                bad.append('service %r' % c['service'])
            if not isinstance(c['tx_bytes'], int):
                bad.append('tx_bytes %r' % c['tx_bytes'])
if sorted(got) != names:
    bad.append('names %r != %r' % (sorted(got), names))
for b in bad:
    print('# ' + b)
sys.exit(1 if bad else 0)
PY
n_want=$((${#names[@]} + 1))
for _ in $(seq 100); do
	ctl list --json > "$RUN/list.json" 2> "$RUN/list.err"
	[ "$(grep -o '"relid"' "$RUN/list.json" | wc -l)" -ge $((n_want + 1)) ] && break
	sleep 0.1
done
ctl status --json > "$RUN/status.json" 2> "$RUN/status.err"
check "vmbusctl list --json is JSON" python3 -m json.tool "$RUN/list.json" /dev/null
check "vmbusctl status --json is JSON" python3 -m json.tool "$RUN/status.json" /dev/null
if python3 "$RUN/check.py" "$RUN/names" "$svc" "$RUN/list.json" "$RUN/status.json" "$g1" > "$RUN/check.out" 2>&1; then
	ok "every pipe name and service path comes back from list --json as it went in"
else
	not_ok "every pipe name and service path comes back from list --json as it went in"
	show "$RUN/check.out"; head -c 3000 "$RUN/list.json" | show; echo
fi

# A name that is not UTF-8: still JSON.
check "vmbusctl offers a pipe whose name is not UTF-8" \
	eval "ctl offer g2 --pipe \"\$(printf 'bad\\377\\300utf8')\" --service /run/x.sock > /dev/null"
for _ in $(seq 100); do
	ctl list --json > "$RUN/list2.json" 2>/dev/null
	grep -aq 'utf8' "$RUN/list2.json" && break
	sleep 0.1
done
check "list --json with a name that is not UTF-8 is JSON" \
	eval "python3 -m json.tool '$RUN/list2.json' > /dev/null && grep -aq 'bad.*utf8' '$RUN/list2.json'"

# A guest streams through the pipe with the oddest name; open, it is in
# the JSON with its counters.
# The echo starts 3 s after the pipe opens: it is open for at least two
# of vmbusd's publishing ticks, however fast the host.
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
print("listening", flush=True)
c = s.accept()[0]
time.sleep(3)
while True:
    d = c.recv(65536)
    if not d:
        break
    c.sendall(d)
c.close()' "$svc" > "$RUN/echo.log" 2>&1 &
pids+=($!)
wait_for "$RUN/echo.log" listening
"$X" run g1 -- "$CLIENT" --wait 20 --bytes 300000 --chunk 1000 'we"ird\name' \
	> "$RUN/c.out" 2>&1 &
cpid=$!
# Until vmbusd publishes it open (once a second), while the guest streams.
for _ in $(seq 300); do
	ctl list --json > "$RUN/list3.json" 2>/dev/null
	grep -q '"state":"open"' "$RUN/list3.json" && break
	kill -0 "$cpid" 2> /dev/null || break
	sleep 0.1
done
if python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
assert any(c["name"] == "we\"ird\\name" and c["state"] == "open"
           for x in d["domains"] for c in x["channels"])' "$RUN/list3.json"; then
	ok "list --json of an open pipe named we\"ird\\name is JSON with its name"
else
	not_ok "list --json of an open pipe named we\"ird\\name is JSON with its name"
	kill -0 "$cpid" 2> /dev/null && echo "# the guest still streams"
	show "$RUN/c.out"; head -c 1500 "$RUN/list3.json" | show; echo
fi
wait "$cpid"
check "the guest streamed through it" grep -q MATCH "$RUN/c.out"
echo "1..$n"
