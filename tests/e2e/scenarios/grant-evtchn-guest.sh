#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Grants and event channels between dom0 and a guest (PV here; the
# grant-evtchn-pvh and grant-evtchn-hvm scenarios set GRANT_GUEST_TYPE),
# userspace on both ends, through the real Xen libraries
# (progs/grant-pingpong.c):
#   1. the guest shares (gntalloc), dom0 maps (gntdev): pattern both ways
#      and an event each way (evtchn);
#   2. dom0 shares, the guest maps.
# The guest side runs from the guest's /init (role grant-evtchn-guest).
# e2e-timeout: 150
# e2e-default: yes
# e2e-order: 40
. /e2e/lib.sh

g2d=data/e2e-gp-g2d	# guest shares; relative to the guest's home
d2g=data/e2e-gp-d2g	# dom0 shares

type=${GRANT_GUEST_TYPE:-pv}

if [ "$1" = guest ]; then
	pp=$(e2e_find_prog grant-pingpong) || { echo "grant-pingpong not found"; exit 1; }
	"$pp" --share --peer 0 --path $g2d --timeout 60 || exit 1
	"$pp" --map --peer 0 --path $d2g --timeout 60 || exit 1
	exit 0
fi

pp=$(e2e_find_prog grant-pingpong) || e2e_fail "grant-pingpong not found in dom0"
name=e2e-grant-$type
# The guest side is this file's: the role is always grant-evtchn-guest.
e2e_guest_boot $type $name grant-evtchn-guest || e2e_fail "$type guest did not reach its init"
domid=$(e2e_guest_domid $name)
[ -n "$domid" ] || e2e_fail "no domid for $name"
home=/local/domain/$domid

if ! "$pp" --map --peer "$domid" --path "$home/$g2d" --timeout 60 >map.out 2>&1; then
	cat map.out
	e2e_guest_dump $name
	e2e_fail "guest->dom0: $(tail -n 1 map.out)"
fi
cat map.out
if ! "$pp" --share --peer "$domid" --path "$home/$d2g" --timeout 60 >share.out 2>&1; then
	cat share.out
	e2e_guest_dump $name
	e2e_fail "dom0->guest: $(tail -n 1 share.out)"
fi
cat share.out
if ! e2e_guest_wait $name '^E2E-GUEST: EXIT rc=' 30; then
	e2e_guest_dump $name
	e2e_fail "guest did not finish its side"
fi
rc=$(sed -n 's/^E2E-GUEST: EXIT rc=\([0-9]*\).*/\1/p' "$E2E_CONSOLE_DIR/guest-$name.log")
if [ "$rc" != 0 ]; then
	e2e_guest_dump $name
	e2e_fail "guest side failed (exit status $rc)"
fi
rt=$(sed -n 's/.*roundtrip_ms=\([0-9.]*\).*/\1/p' map.out)
e2e_time "grant.roundtrip_ms=$rt"
e2e_pass "$type guest->dom0 and dom0->guest: 2 pages each, pattern and event both ways (dom0 map roundtrip ${rt} ms)"
