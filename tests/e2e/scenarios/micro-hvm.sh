#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Run the micro-guest (tests/e2e/microguest) as the firmware of an HVM guest
# with viridian=1: it checks the Viridian CPUID leaves, the synthetic MSRs
# and hypercalls (through the hypercall page and raw vmcall/vmmcall) and
# prints "MICRO: <test> PASS|FAIL|INFO ..." on the Xen debug console port
# 0xe9, which lands in the hypervisor log as "(d<domid>) MICRO: ...".
# Every MICRO test must pass. The synthetic debugger (CPUID 0x40000080-82,
# MSRs 0x400000F1-FF) must be absent on the stock hypervisor; on a patched
# one its state is reported.
# e2e-timeout: 150
# e2e-default: yes
# e2e-order: 30
. /e2e/lib.sh

elf=/e2e/bin/microguest.elf
name=e2e-micro
# How the image is loaded: "firmware" (in place of hvmloader) or "seabios"
# (hvmloader + SeaBIOS + QEMU's multiboot option ROM; micro-hvm-seabios.sh).
boot=${MICRO_BOOT:-firmware}
case $boot in
firmware)
	# Xen's domain builder loads the ELF and starts it in 32-bit
	# protected mode, the way XTF runs its HVM tests.
	load="firmware = \"$elf\""
	entry=hvm-firmware
	;;
seabios)
	load="kernel = \"$elf\""
	entry=multiboot
	;;
*)
	e2e_fail "unknown MICRO_BOOT '$boot'"
	;;
esac
[ -s "$elf" ] || e2e_fail "micro-guest image $elf is missing or empty"

# The tests the micro-guest must report as PASS; a missing line fails too.
required="cpuid-vendor cpuid-interface cpuid-features cpuid-xen-leaves
 msr-guest-os-id-initial msr-guest-os-id msr-vp-index msr-undefined
 msr-hypercall hypercall-page hcall-page-spin-wait hcall-page-invalid-code
 hcall-raw-native hcall-raw-xen-version"

# Extra xl.cfg lines for the micro-guest (for example the viridian
# enlightenment groups of a patched toolstack) can be given with
#   tests/e2e/run --extra FILE:/e2e/etc/micro-hvm.cfg
# A "viridian" line there replaces the default "viridian = 1".
extra=/e2e/etc/micro-hvm.cfg
viridian="viridian = 1"
[ -f $extra ] && grep -q '^[[:space:]]*viridian' $extra && viridian=

cfg=$E2E_OUT/$name.cfg
cat >"$cfg" <<CFG
name = "$name"
type = "hvm"
$load
$viridian
memory = 32
vcpus = 1
device_model_version = "qemu-xen"
vga = "none"
nographic = 1
vnc = 0
serial = "none"
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
CFG
[ -f $extra ] && cat $extra >>"$cfg"

e2e_guest_create "$cfg" || e2e_fail "xl create of the micro-guest failed"
domid=$(e2e_guest_domid $name)
[ -n "$domid" ] || e2e_fail "no domid for $name right after xl create"

# Wait for the last line in the hypervisor log.
e2e_up
end=$((E2E_UP + ${MICRO_DONE_TIMEOUT:-90}))
until xl dmesg | grep -q "^(d$domid) MICRO: DONE"; do
	e2e_up
	# Gone without DONE (one more look: it may have just finished).
	if ! xl domid $name >/dev/null 2>&1 &&
	   ! xl dmesg | grep -q "^(d$domid) MICRO: DONE"; then
		xl dmesg | grep "^(d$domid)" | tail -n 40
		e2e_fail "micro-guest d$domid ended without 'MICRO: DONE' in xl dmesg (port 0xe9 lines need Xen's guest_loglvl=all)"
	fi
	if [ "$E2E_UP" -ge "$end" ]; then
		xl dmesg | grep "^(d$domid)" | tail -n 40
		e2e_guest_dump $name
		e2e_fail "micro-guest d$domid printed no 'MICRO: DONE' within ${MICRO_DONE_TIMEOUT:-90} s"
	fi
	sleep 1
done
e2e_time "create.micro-$boot=$E2E_CREATE_S done.micro-$boot=$(e2e_since "$E2E_T0")"
xl dmesg | sed -n "s/^(d$domid) \(MICRO: .*\)/\1/p" >micro.log
cat micro.log

grep -q "^MICRO: START entry=$entry" micro.log ||
	e2e_fail "micro-guest did not report 'START entry=$entry' (loaded the wrong way?)"
fails=$(grep -c '^MICRO: [^ ]* FAIL' micro.log)
missing=
for t in $required; do
	grep -q "^MICRO: $t PASS" micro.log || missing="$missing $t"
done
leaves=$(sed -n 's/^MICRO: syndbg-leaves INFO //p' micro.log)
msrs=$(sed -n 's/^MICRO: syndbg-msrs INFO //p' micro.log)
vendor=$(sed -n 's/^MICRO: cpuid-vendor [A-Z]* .*vendor="\([^"]*\)".*/\1/p' micro.log)
e2e_note "micro-guest: $(grep -c '^MICRO: [^ ]* PASS' micro.log) pass, $fails fail; vendor '$vendor'; syndbg leaves $leaves, MSRs $msrs"

[ "$fails" -eq 0 ] || e2e_fail "$fails micro test(s) failed: $(grep '^MICRO: [^ ]* FAIL' micro.log | head -n 3 | tr '\n' ';')"
[ -z "$missing" ] || e2e_fail "micro test(s) did not pass or did not run:$missing"
if [ "$E2E_XEN" = stock ]; then
	[ "$leaves" = absent ] || e2e_fail "stock Xen: synthetic debugger CPUID leaves are '$leaves', expected absent"
	[ "$msrs" = absent ] || e2e_fail "stock Xen: synthetic debugger MSRs are '$msrs', expected absent"
fi
e2e_guest_gone $name 30 || e2e_fail "micro-guest did not go away after its triple fault"
e2e_pass "$boot boot, vendor='$vendor' $(grep -c '^MICRO: [^ ]* PASS' micro.log) tests passed; syndbg leaves $leaves, MSRs $msrs (xen $E2E_XEN)"
