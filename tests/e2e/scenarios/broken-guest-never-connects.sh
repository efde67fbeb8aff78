#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Deliberately broken, not in the default list: the guest boots but never
# shares anything, so dom0's grant-pingpong --map must give up after its
# timeout and the scenario must FAIL within a bounded time, with the
# guest's console tail in the report. Proves the failure path works.
# e2e-timeout: 90
# e2e-default: no
. /e2e/lib.sh

if [ "$1" = guest ]; then
	echo "broken guest: never publishing anything"
	while :; do sleep 60; done
fi

pp=$(e2e_find_prog grant-pingpong) || e2e_fail "grant-pingpong not found in dom0"
name=e2e-broken
e2e_guest_boot pv $name broken-guest-never-connects || e2e_fail "PV guest did not reach its init"
domid=$(e2e_guest_domid $name)
if ! "$pp" --map --peer "$domid" --path "/local/domain/$domid/data/e2e-never" --timeout 15 >map.out 2>&1; then
	cat map.out
	e2e_guest_dump $name
	e2e_fail "guest never connected: $(tail -n 1 map.out)"
fi
e2e_pass "unexpected: the guest connected"
