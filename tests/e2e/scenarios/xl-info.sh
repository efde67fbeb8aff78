#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The toolstack talks to the hypervisor: xl info answers, reports the
# expected Xen version and the virtualisation capabilities the guest
# scenarios rely on (HVM with HAP on the emulated NPT).
# e2e-timeout: 30
# e2e-default: yes
# e2e-order: 10
. /e2e/lib.sh

xl info >xl-info.txt 2>&1 || e2e_fail "xl info failed (exit status $?): $(tail -n 1 xl-info.txt)"
field() { sed -n "s/^$1 *: *//p" xl-info.txt; }
ver=$(field xen_version)
caps=$(field virt_caps)
case $ver in
4.17.*) ;;
*) e2e_fail "xl info reports xen_version '$ver', expected 4.17.x" ;;
esac
for c in pv hvm hap; do
	echo " $caps " | grep -q " $c " || e2e_fail "xl info virt_caps '$caps' lacks '$c'"
done
xl list 0 >/dev/null 2>&1 || e2e_fail "xl list 0 failed (exit status $?)"
e2e_pass "xen_version=$ver virt_caps='$caps' xen_commandline='$(field xen_commandline)'"
