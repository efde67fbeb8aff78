#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The project's conformance suite on real Xen: a PV guest runs
# "xen-conformance --peer" from its /init, dom0 runs xen-conformance with
# XENCONF_PEER_DOMID naming the guest. SKIP when the staging directory has
# no xen-conformance.
# e2e-timeout: 300
# e2e-default: yes
# e2e-order: 90
. /e2e/lib.sh

if [ "$1" = guest ]; then
	xc=$(e2e_find_prog xen-conformance) || { echo "xen-conformance not found in the guest"; exit 1; }
	exec "$xc" --peer
fi

xc=$(e2e_find_prog xen-conformance) || e2e_skip "xen-conformance is not in the staging directory"
name=e2e-conf
e2e_guest_boot pv $name conformance || e2e_fail "PV peer guest did not reach its init"
domid=$(e2e_guest_domid $name)
[ -n "$domid" ] || e2e_fail "no domid for $name"

# check's per-test default (4 s) is short for a TCG-emulated machine.
CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-120} XENCONF_PEER_DOMID=$domid \
	"$xc" >conformance.out 2>&1
rc=$?
cat conformance.out
summary=$(grep -E 'Checks: [0-9]+' conformance.out | tail -n 1)
if [ $rc -ne 0 ]; then
	e2e_guest_dump $name
	e2e_fail "xen-conformance exited with status $rc: ${summary:-$(tail -n 1 conformance.out)}"
fi
e2e_pass "peer d$domid: ${summary:-exit status 0}"
