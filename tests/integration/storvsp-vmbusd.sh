#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# SCSI controllers served by vmbusd on the simulated host: g1's controller
# comes from the configuration file (a read-write disk at LUN 0, a
# read-only one at LUN 1) and passes the user-mode storvsc's whole
# scenario (storvsp-peer client), sub-channels included; g2's is added and removed with vmbusctl
# while the guest has writes and reads in flight, three times: every
# request in flight fails on the client (the channel rescinded), none
# hangs, and the daemon is left holding no more descriptors, io_uring
# instances, mappings, grant maps or memory than before the first.
# Speaks TAP.
set -u

. "$(dirname "$0")/tap-lib.sh"
PEER="$top_builddir/tests/integration/storvsp-peer"
# The backing files live on the build tree's file system (O_DIRECT).
DISKDIR=$(mktemp -d "$top_builddir/tests/integration/storvsp-vmbusd.XXXXXX")
trap 'cleanup; rm -rf "$DISKDIR"' EXIT
RW=$DISKDIR/rw.img
RO=$DISKDIR/ro.img
HOT=$DISKDIR/hot.img
HOT2=$DISKDIR/hot2.img
CYCLES=3
CHECKS="srb-before-init-refused unknown-version-refused version-win10
properties sub-channels-beyond-count-refused end-initialization
sub-channels-created sub-channels-asked-twice-refused sub-channels-offered
sub-channels-opened sub-channels-carry-requests inquiry-standard inquiry-vpd-00 inquiry-vpd-80 inquiry-vpd-83 inquiry-vpd-b0
inquiry-vpd-b1 inquiry-vpd-b2 inquiry-unknown-vpd-invalid-field
inquiry-absent-lun-pq3 read-capacity-10 read-capacity-16 report-luns
mode-sense-6-caching-wce mode-sense-6-ro-wp mode-sense-10-all test-unit-ready
request-sense write-8mib-qd8 read-back-8mib-checksums write-fua
synchronize-cache write-before-unmap unmap-1mib unmapped-reads-zero
write-before-write-same write-same-16-unmap ro-write-protected
ro-unmap-write-protected ro-read-allowed lba-beyond-capacity
lba-plus-length-overflow cdb-shorter-than-opcode cdb-length-17-refused
cdb-length-beyond-buffer transfer-length-beyond-range-refused invalid-opcode
bad-grant-refs-refused bad-range-count-refused
bad-grant-fails-only-its-request flood-2000-bounded"

echo "1..$(($(echo $CHECKS | wc -w) + 16 + 2 * CYCLES))"
truncate -s 16M "$RW" "$HOT" "$HOT2"
head -c 1048576 /dev/urandom > "$RO"
ro_sum=$("$PEER" sum "$RO" 0 1048576)
check "host starts" env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$RUN/asan" "$X" host start
g1=$("$X" create --name g1 --memory 64) && g2=$("$X" create --name g2 --memory 64)
cat > "$RUN/vmbusd.conf" <<CONF
[g1]
disk = $RW,lun=0
disk = $RO,ro,lun=1
CONF
"$X" run 0 -- "$VMBUSD" -F -v --config "$RUN/vmbusd.conf" \
	--pid-file "$RUN/vmbusd.pid" > "$RUN/vmbusd.log" 2>&1 &
pids+=($!)
check "vmbusd offers g1's controller with its two disks from the configuration" \
	wait_for "$RUN/vmbusd.log" "domain $g1: offered SCSI controller \"scsi0\" with 2 disks"
wait_file "$RUN/vmbusd.pid"
vpid=$(cat "$RUN/vmbusd.pid")

"$X" run g1 -- "$PEER" client 16 > "$RUN/client.out" 2>&1
for c in $CHECKS; do
	if grep -q "^PASS $c\$" "$RUN/client.out"; then
		ok "$c"
	else
		not_ok "$c"
		grep "^FAIL $c:" "$RUN/client.out" | show /dev/stdin
	fi
done
[ "$failed" -gt 0 ] && show "$RUN/client.out"
sum=$(sed -n 's/^written-sum //p' "$RUN/client.out")
check "g1's backing file holds the 8 MiB written (checksum from dom0)" \
	[ -n "$sum" -a "$("$PEER" sum "$RW" 0 $((8 << 20)))" = "$sum" ]
check "UNMAP through vmbusd punched a hole in the backing file" \
	[ "$("$PEER" hole "$RW" $((12 << 20)) $((1 << 20)))" = hole ]
check "the read-only disk is unchanged" \
	[ "$("$PEER" sum "$RO" 0 1048576)" = "$ro_sum" ]
check "vmbusd offered g1's controller 2 sub-channels and rescinded them when it closed" \
	eval "grep -q 'domain $g1 SCSI controller \"scsi0\": offered 2 sub-channels' '$RUN/vmbusd.log' &&
	      grep -q 'domain $g1 SCSI controller \"scsi0\" sub-channel (channel [0-9]*) opened' '$RUN/vmbusd.log' &&
	      wait_for '$RUN/vmbusd.log' 'domain $g1 SCSI controller \"scsi0\": rescinded its 2 sub-channels'"
check "vmbusctl list --json shows g1's controller offered again, with its two disks" \
	eval "sleep 1.2; ctl list --json | grep -q '\"name\":\"scsi0\",\"mode\":\"scsi\",\"service\":\"storvsp\",\"state\":\"offered\".*\"luns\":2'"

# What vmbusctl refuses before writing anything, and what vmbusd cannot open.
ctl attach g2 >/dev/null
ctl offer g2 --disk rel/path > "$RUN/rel.out" 2>&1
rc=$?
check "vmbusctl refuses a relative disk path and two disks at one LUN" \
	eval "[ $rc -ne 0 ] && grep -q 'not absolute' '$RUN/rel.out' &&
	      ! ctl offer g2 --disk $HOT,lun=3 --disk $HOT2,lun=3 >/dev/null 2>&1"
ctl offer g2 --disk "$DISKDIR/missing.img" >/dev/null 2>&1
check "a disk vmbusd cannot open: said, nothing offered, the entry dropped on rescind" \
	eval "wait_for '$RUN/vmbusd.log' 'domain $g2: failed to open the disks of SCSI controller \"scsi0\" (No such file' &&
	      ctl rescind g2 scsi0 >/dev/null && ! grep -q 'domain $g2: offered SCSI' '$RUN/vmbusd.log'"

# g2: a controller added and removed under load, CYCLES times.
sleep 0.5
nfd() { ls "/proc/$vpid/fd" | wc -l; }
nuring() { ls -l "/proc/$vpid/fd" | grep -c io_uring; }
nmaps() { wc -l < "/proc/$vpid/maps"; }
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$vpid/status"; }
# g1's controller holds one io_uring instance.
fd0=$(nfd) maps0=$(nmaps) held0=$(field 0 maps_held) uring0=$(nuring)
for k in $(seq $CYCLES); do
	ctl offer g2 --disk "$HOT" --disk "$HOT2,ro" > "$RUN/offer$k.out" 2>&1
	"$X" run g2 -- "$PEER" busy 16 > "$RUN/busy$k.out" 2>&1 &
	bpid=$!
	wait_for "$RUN/busy$k.out" "^busy" 150
	if [ "$k" = 1 ]; then
		sleep 1.2
		check "vmbusctl list shows g2's controller open under load: VSTOR 6.2, requests, in flight" \
			eval "ctl list | grep -q 'SCSI controller, 2 disk(s), VSTOR 6.2, [1-9][0-9]* requests, [0-9]* in flight'"
		# The rings are 2 x 64 pages: more than that mapped is the VSP's
		# request data, counted in the guest's budget.
		most=0
		for _ in $(seq 30); do
			m=$(dom0 xenstore-read "/local/domain/0/vmbusd/$g2/maps" 2>/dev/null |
			    sed -n 's/^mapped=\([0-9]*\).*/\1/p')
			[ "${m:-0}" -gt "$most" ] && most=$m
			sleep 0.1
		done
		check "the VSP's grant mappings count in g2's budget under load ($most pages mapped at most, rings 128)" \
			[ "$most" -gt 136 ]
	fi
	ctl rescind g2 scsi0 > "$RUN/rescind$k.out" 2>&1
	wait $bpid
	brc=$?
	if [ $brc = 0 ] && grep -q "^rescinded .* outstanding [1-9][0-9]* error Transport endpoint is not connected closed 1" "$RUN/busy$k.out"; then
		ok "cycle $k: hot-added controller under load; its rescind fails the requests in flight on the client ($(sed -n 's/^rescinded //p' "$RUN/busy$k.out"))"
	else
		not_ok "cycle $k: hot-added controller under load; its rescind fails the requests in flight on the client"
		show "$RUN/offer$k.out" "$RUN/busy$k.out" "$RUN/rescind$k.out"
	fi
	sleep 0.3
	check "cycle $k: vmbusd closed the controller, its io_uring gone ($(nuring) left, g1's)" \
		eval "grep -q 'domain $g2 SCSI controller \"scsi0\" closed' '$RUN/vmbusd.log' && [ \$(nuring) = $uring0 ]"
	[ "$k" = 1 ] && rss1=$(rss)
done
rss3=$(rss)
check "no descriptor leaked over $CYCLES cycles (before $fd0, after $(nfd))" [ "$(nfd)" = "$fd0" ]
# ASan's allocator keeps freed memory in its quarantine, mapped.
if grep -q libasan "/proc/$vpid/maps"; then
	skip "no mapping leaked over $CYCLES cycles" "sanitizer build: its allocator keeps freed memory"
else
	check "no mapping leaked over $CYCLES cycles (before $maps0, after $(nmaps))" [ "$(nmaps)" = "$maps0" ]
fi
check "dom0 maps no more of the guests' memory than before ($held0 pages)" \
	[ "$(field 0 maps_held)" = "$held0" ]
if grep -q libasan "/proc/$vpid/maps"; then
	skip "vmbusd's memory did not grow from cycle 1 to $CYCLES" "sanitizer build: its allocator keeps freed memory"
else
	check "vmbusd's memory did not grow from cycle 1 to $CYCLES (${rss1} KiB -> ${rss3} KiB)" \
		[ "$rss3" -le $((rss1 + 512)) ]
fi
kill -TERM "$vpid"
for _ in $(seq 50); do kill -0 "$vpid" 2>/dev/null || break; sleep 0.1; done
if grep -qE "AddressSanitizer|runtime error|LeakSanitizer" "$RUN/vmbusd.log" "$RUN"/*.out ||
   ls "$RUN"/asan.* >/dev/null 2>&1; then
	not_ok "no sanitizer reports"
	grep -hE -A20 "AddressSanitizer|runtime error|LeakSanitizer" "$RUN/vmbusd.log" "$RUN"/*.out "$RUN"/asan.* 2>/dev/null | head -60 | sed 's/^/# /'
else
	ok "no sanitizer reports"
fi
exit 0
