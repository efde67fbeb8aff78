#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The storage VSP on the simulated host, before the bus daemon serves it: a
# server in dom0 (storvsp-peer server) offers a synthetic SCSI controller
# with a read-write disk at LUN 0 and a read-only one at LUN 1; a user-mode
# storvsc in the guest (storvsp-peer client) negotiates as hv_storvsc does
# and checks INQUIRY/VPD/READ CAPACITY/MODE SENSE/REPORT LUNS answers, 8 MiB
# written and read back with checksums, FUA and flush, UNMAP and WRITE SAME
# punching holes, the read-only disk's refusals, hostile requests and a
# flood beyond the VSP's in-flight budget; then the backing file is checked
# from dom0 and every grant mapping is gone.  Speaks TAP.
set -u

. "$(dirname "$0")/tap-lib.sh"
PEER="$top_builddir/tests/integration/storvsp-peer"
# The backing files live on the build tree's file system (O_DIRECT).
DISKDIR=$(mktemp -d "$top_builddir/tests/integration/storvsp-disks.XXXXXX")
trap 'cleanup; rm -rf "$DISKDIR"' EXIT
RW=$DISKDIR/rw.img
RO=$DISKDIR/ro.img
INFLIGHT=16
CHECKS="srb-before-init-refused unknown-version-refused version-win10
properties sub-channels-beyond-count-refused end-initialization
inquiry-standard inquiry-vpd-00 inquiry-vpd-80 inquiry-vpd-83 inquiry-vpd-b0
inquiry-vpd-b1 inquiry-vpd-b2 inquiry-unknown-vpd-invalid-field
inquiry-absent-lun-pq3 read-capacity-10 read-capacity-16 report-luns
mode-sense-6-caching-wce mode-sense-6-ro-wp mode-sense-10-all test-unit-ready
request-sense write-8mib-qd8 read-back-8mib-checksums write-fua
synchronize-cache write-before-unmap unmap-1mib unmapped-reads-zero write-before-write-same write-same-16-unmap
ro-write-protected ro-unmap-write-protected ro-read-allowed lba-beyond-capacity
lba-plus-length-overflow cdb-shorter-than-opcode cdb-length-17-refused
cdb-length-beyond-buffer transfer-length-beyond-range-refused invalid-opcode
bad-grant-refs-refused bad-range-count-refused
bad-grant-fails-only-its-request flood-2000-bounded"

echo "1..$(($(echo $CHECKS | wc -w) + 10))"
truncate -s 16M "$RW"
head -c 1048576 /dev/urandom > "$RO"
ro_sum=$("$PEER" sum "$RO" 0 1048576)
check "host starts" "$X" host start
g1=$("$X" create --name g1 --memory 64)
check "guest created and bus attached" attach "$g1"
base_maps=$(field 0 maps_held)

"$X" run 0 -- "$PEER" server "$g1" --max-inflight "$INFLIGHT" \
	"$RW,lun=0" "$RO,ro,lun=1" > "$RUN/server.out" 2>&1 &
pids+=($!)
wait_for "$RUN/server.out" "serving domain" 50
"$X" run g1 -- "$PEER" client 16 > "$RUN/client.out" 2>&1
for c in $CHECKS; do
	if grep -q "^PASS $c\$" "$RUN/client.out"; then
		ok "$c"
	else
		not_ok "$c"
		grep "^FAIL $c:" "$RUN/client.out" | show /dev/stdin
	fi
done
wait_for "$RUN/server.out" "after close" 50
stats=$(grep "closed:" "$RUN/server.out")
num() { echo "$stats" | sed -n "s/.* $1 \([0-9x]*\).*/\1/p"; }
if [ "$failed" -gt 0 ]; then show "$RUN/client.out" "$RUN/server.out"; fi

sum=$(sed -n 's/^written-sum //p' "$RUN/client.out")
check "the backing file holds the 8 MiB written (checksum from dom0)" \
	[ -n "$sum" -a "$("$PEER" sum "$RW" 0 $((8 << 20)))" = "$sum" ]
check "UNMAP punched a hole in the backing file" \
	[ "$("$PEER" hole "$RW" $((12 << 20)) $((1 << 20)))" = hole ]
check "WRITE SAME(16) with UNMAP punched a hole" \
	[ "$("$PEER" hole "$RW" $((14 << 20)) $((256 << 10)))" = hole ]
check "the read-only disk is unchanged" \
	[ "$("$PEER" sum "$RO" 0 1048576)" = "$ro_sum" ]
check "the VSP counted FUA writes, flushes and unmaps" \
	[ "$(num fua_writes)" -ge 1 -a "$(num flushes)" -ge 1 -a "$(num unmaps)" -ge 2 ]
peak=$(num inflight_peak)
check "requests in flight never passed the budget ($peak <= $INFLIGHT)" \
	[ -n "$peak" ] && [ "$peak" -le "$INFLIGHT" -a "$peak" -ge 2 ]
check "nothing in flight or mapped by the VSP after close" \
	grep -q "after close: inflight 0 pages_mapped 0" "$RUN/server.out"
check "dom0 maps nothing of the guest's memory after close" \
	[ "$(field 0 maps_held)" = "$base_maps" ]
exit 0
