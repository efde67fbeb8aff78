#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The guest kernel's bus: xen-vmbus.ko (frontends/linux, built by the
# harness against the headers of the booted kernel, its CRCs checked
# against Debian's hv_utils and hv_sock) with Debian's unmodified Hyper-V
# class drivers and real clients of them, in a PV, a PVH and an HVM guest,
# one after the other.  dom0 runs vmbusd and offers the echo pipe, the four
# integration services and hv_sock (hybrid vsock on /tmp/kmod-hvs-<type>).
# In each guest:
#  - modprobe xen-vmbus connects to vmbusd; the offers appear under
#    /sys/bus/vmbus/devices with hv_vmbus's attributes (class_id as Linux
#    prints the class GUID, modalias, ...); hv_utils and hv_sock load
#    against xen-vmbus (no unknown symbol, no CRC disagreement);
#  - hv_utils negotiates heartbeat, shutdown and KVP with vmbusd, and time
#    sync in the PV guest (hv_utils reads Hyper-V's reference counter MSR
#    for it, an unchecked MSR access in PVH and HVM guests without Viridian);
#    Debian's hv_kvp_daemon answers vmbusctl kvp set/get/list from dom0
#    (what was set shows in pool 0's list; pool 2 has the OS's name);
#    vmbusctl list shows heartbeats answered;
#  - socat moves 64 MiB each way over AF_VSOCK (VSOCK-LISTEN reached from
#    dom0 by "CONNECT 5001", VSOCK-CONNECT:2:5002 reaching dom0's socat on
#    <uds>_5002), sha256 compared; vmbusctl rescind of hvsock while a third
#    stream runs ends that stream with an error;
#  - dom0 rescinds the pipe and its device disappears;
#  - the whole stack (hv_sock, hv_utils, xen-vmbus) is unloaded and loaded
#    again 20 times in the PV guest, 5 in the others (e2e.arg): the guest's event channels and the grants
#    Xen's 'g' dump lists for it are as many as before;
#  - vmbusctl shutdown: hv_utils runs /sbin/poweroff and the guest is gone;
#  - the guest kernel's log has no oops, WARN, unknown symbol or CRC
#    disagreement.
# The guest side runs from the guests' /init (role kmod-bus); dom0 paces it
# through the guest's data/e2e-kmod.
# SKIP when the harness found no kernel headers for the booted kernel.
# e2e-timeout: 3000
# e2e-default: yes
# e2e-order: 97
. /e2e/lib.sh

# The pipe class (libvmbus.h VMBUS_PIPE_CLASS_GUID); vmbusd sends it in
# Hyper-V's byte order (vmbus_guid_parse), as every GUID on the bus.
PIPE_CLASS=6d8e0d2a-96c3-4e58-9d5f-3b2a5e7c1f01

if [ "$1" = guest ]; then
	K() { echo "KMOD: $*"; }
	# A bounded wait: until "$@" succeeds, at most $T half-seconds.
	until_ok() { _n=0; until "$@"; do _n=$((_n + 1)); [ $_n -le $T ] || return 1; sleep 0.5; done; }
	ndev() { [ "$(ls /sys/bus/vmbus/devices 2>/dev/null | wc -l)" -ge $1 ]; }
	gone() { [ ! -e "/sys/bus/vmbus/devices/$dev" ]; }
	# dom0 says how far it got in the guest's data/e2e-kmod.
	at() { [ "$(xenstore-read data/e2e-kmod 2>/dev/null)" = "$1" ]; }
	kdmesg() {
		dmesg | grep -iE 'unknown symbol|disagrees|xen.vmbus|vmbus|hv_sock|hv_utils|hv_|call trace|warning|oops|bug:' |
			sed 's/^/KMOD-DMESG: /'
	}
	ics() { [ "$(dmesg | grep -cE '(Heartbeat|Shutdown|TimeSync|KVP) IC version')" -ge $1 ]; }
	chans() { [ "$(grep -c 'xen-vmbus-chan' /proc/interrupts)" -ge $1 ]; }
	evtchns() { grep -c 'xen-dyn' /proc/interrupts; }
	bad=0
	# Time sync only in PV guests: hv_utils reads Hyper-V's reference
	# counter MSR for it, which faults in PVH and HVM guests (no Viridian).
	NIC=4; [ "$(cat /sys/hypervisor/guest_type 2>/dev/null)" = PV ] || NIC=3
	modprobe xen-vmbus
	K "modprobe xen-vmbus rc=$?"
	# The echo pipe and the integration services.
	T=120 until_ok ndev $((NIC + 1)) || { K "no vmbus devices within 60 s: $(ls /sys/bus/vmbus/devices)"; kdmesg; exit 1; }
	for d in /sys/bus/vmbus/devices/*; do
		K "device ${d##*/} class_id=$(cat $d/class_id) device_id=$(cat $d/device_id) id=$(cat $d/id) state=$(cat $d/state) modalias=$(cat $d/modalias) vendor=$(cat $d/vendor)"
	done
	modprobe hv_utils
	K "modprobe hv_utils rc=$?"
	modprobe hv_sock
	K "modprobe hv_sock rc=$?"
	K "drivers $(ls /sys/bus/vmbus/drivers | tr '\n' ' ')"
	K "modules $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"

	# ---- integration services: hv_utils negotiates with vmbusd (KVP
	# once hv_kvp_daemon has registered)
	hv_kvp_daemon -n >/tmp/kvp.log 2>&1 &
	kvp=$!
	T=120 until_ok ics $NIC || K "not every IC negotiated within 60 s"
	dmesg | grep -E '(Heartbeat|Shutdown|TimeSync|KVP) IC version' | sed 's/^.*\] /KMOD: ic /'
	for c in /sys/class/ptp/ptp*/clock_name; do [ -e "$c" ] && K "ptp $(cat $c)"; done
	K "ic-ready kvp-daemon=$(kill -0 $kvp 2>/dev/null && echo running || echo exited)"
	T=600 until_ok at ic-done || K "dom0 did not finish the IC checks"

	# ---- hv_sock: socat over AF_VSOCK, 64 MiB each way
	gen() { seq 1 9000000 | head -c 67108864; }
	( socat -u VSOCK-LISTEN:5001 - | sha256sum | cut -c1-64 >/tmp/rx5001 ) &
	sleep 1
	K "hvs-listening 5001"
	T=900 until_ok [ -s /tmp/rx5001 ] || K "hvs-rx 5001 nothing within 450 s"
	K "hvs-rx 5001 sha=$(cat /tmp/rx5001)"
	kdmesg | grep -iE 'xen.vmbus|hv_sock|vsock|warning|call trace'
	T=120 until_ok at hvs-rx-done || K "dom0 is not ready for port 5002"
	gen | socat -u - VSOCK-CONNECT:2:5002
	K "hvs-tx 5002 rc=$?"
	# Rescind while a stream runs: socat sees an error, the kernel no WARN.
	( cat /dev/zero | socat -u - VSOCK-CONNECT:2:5003; echo $? >/tmp/s5003 ) &
	sleep 3
	K "hvs-streaming 5003"
	T=240 until_ok [ -s /tmp/s5003 ] || K "hvs-stream-ended never"
	K "hvs-stream-ended rc=$(cat /tmp/s5003 2>/dev/null)"

	# ---- rescind of the echo pipe
	dev=
	for d in /sys/bus/vmbus/devices/*; do
		[ "$(cat $d/class_id)" = "{$PIPE_CLASS}" ] && dev=${d##*/}
	done
	K "rescind-ready $dev"
	if T=120 until_ok gone; then K "rescinded $dev"; else K "still there 60 s after the rescind: $dev"; fi

	# ---- unload and load again, the whole stack, $R times: event
	# channels (here) and grants (dom0 counts them) back to baseline.
	kill $kvp 2>/dev/null; wait $kvp 2>/dev/null
	R=${2:-20}
	# The connections' channels go once vmbusd rescinds them (hv_sock
	# closes them then): the four ICs' stay.
	chans_is() { [ "$(grep -c 'xen-vmbus-chan' /proc/interrupts)" -eq $1 ]; }
	T=120 until_ok chans_is $NIC || K "channels other than the ICs' stay open: $(ls /sys/bus/vmbus/devices | tr '\n' ' ')"
	K "baseline evtchns=$(evtchns) chans=$(grep -c 'xen-vmbus-chan' /proc/interrupts)"
	T=240 until_ok at baseline-seen || K "dom0 did not count the baseline"
	i=0 ok=0
	while [ $i -lt $R ]; do
		i=$((i + 1))
		# xenbus holds a reference on a frontend's module while its device
		# is bound (as for every Xen frontend): unbind, then unload.
		rmmod hv_sock hv_utils 2>/tmp/rmmod.err && echo vmbus-0 >/sys/bus/xen/drivers/vmbus/unbind && rmmod xen_vmbus 2>>/tmp/rmmod.err ||
			{ K "cycle $i: rmmod failed: $(tr '\n' ' ' </tmp/rmmod.err) $(grep -E '^(hv_sock|vsock|hv_utils|xen_vmbus) ' /proc/modules | tr '\n' ' ')"; break; }
		[ $i = 1 ] && K "modules-after $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
		modprobe xen-vmbus || { K "cycle $i: modprobe xen-vmbus failed"; break; }
		T=120 until_ok ndev $NIC || { K "cycle $i: the ICs were not offered again"; break; }
		modprobe hv_utils && modprobe hv_sock || { K "cycle $i: modprobe hv_utils hv_sock failed"; break; }
		T=240 until_ok chans $NIC || {
			K "cycle $i: the ICs' channels did not open within 120 s: $(grep -c 'xen-vmbus-chan' /proc/interrupts) of $NIC open; devices $(for d in /sys/bus/vmbus/devices/*; do echo "${d##*/}:$(cat $d/state 2>/dev/null):$(basename "$(readlink $d/driver 2>/dev/null)")"; done | tr '\n' ' ')"
			kdmesg | tail -n 30
			break
		}
		ok=$i
	done
	K "rmmod rc=$([ $ok = $R ] && echo 0 || echo 1)"
	K "reload $([ $ok = $R ] && echo connected || echo "failed at cycle $i")"
	K "cycled $ok evtchns=$(evtchns) chans=$(grep -c 'xen-vmbus-chan' /proc/interrupts)"
	T=240 until_ok at cycled-seen || K "dom0 did not count after the cycles"
	kdmesg

	# ---- shutdown through hv_utils: the kernel runs /sbin/poweroff
	rm -f /usr/sbin/poweroff
	# The kernel runs it without a console: it says so on /dev/console.
	printf '%s\n' '#!/bin/sh' 'echo "KMOD: poweroff requested" >/dev/console' 'sync' \
		'exec /usr/bin/busybox poweroff -f' >/usr/sbin/poweroff
	chmod 755 /usr/sbin/poweroff
	K "shutdown-ready"
	sleep 120
	K "no shutdown within 120 s"
	exit 1
fi

# ---- dom0 ----
st=$(cat /e2e/kmod-status 2>/dev/null)
case $st in
ok) ;;
skip*) e2e_skip "${st#skip }" ;;
*) e2e_fail "the guest bus module: ${st#fail }" ;;
esac

PV=e2e-kmod-pv PVH=e2e-kmod-pvh HVM=e2e-kmod-hvm
e2e_vmbus_init $PV $PVH /tmp/kmod-bus-echo.sock
ctl=$E2E_VMBUSCTL
e2e_vmbus_start

# The wire bytes of a GUID string as hex: the first three fields reversed
# (Hyper-V's order), as hv_vmbus writes a modalias.
pul() {
	echo "$1" | awk -F- '{
		r = ""
		for (i = 1; i <= 3; i++) {
			f = $i; s = ""
			for (j = length(f) - 1; j >= 1; j -= 2) s = s substr(f, j, 2)
			r = r s "-"
		}
		print r $4 "-" $5 }'
}
want_class="{$PIPE_CLASS}"
want_alias="vmbus:$(pul $PIPE_CLASS | tr -d -)"

xl vcpu-pin 0 all 0 >/dev/null 2>&1
# e2e_vmbus_fail shows the consoles of $PV and $PVH; this one first.
kfail() {
	echo "---- console of guest $n (last 60 lines)"
	tail -n 60 "$E2E_CONSOLE_DIR/guest-$n.log" 2>/dev/null | tr -d '\r'
	e2e_vmbus_fail "$@"
}
command -v socat >/dev/null || e2e_skip "socat is not in dom0's image"
# The stream both ways: 64 MiB that both sides generate alike.
gen() { seq 1 9000000 | head -c 67108864; }
want_sha=$(gen | sha256sum | cut -c1-64)
# dom0 reaches the guest's listen(5001): "CONNECT 5001\n", "OK <port>\n",
# then the stream (vmbusd's hybrid vsock, as Firecracker's).
printf '%s\n' '#!/bin/sh' 'printf "CONNECT %s\n" "$1"' 'read -r ok' 'echo "$ok" >"$2"' \
	'seq 1 9000000 | head -c 67108864' >/tmp/kmod-hvs-send.sh
# Xen's grant table dump ('g'): entries in use (granted or mapped) of a domain.
grants() {
	xl dmesg -c >/dev/null 2>&1
	xl debug-keys g >/dev/null 2>&1
	sleep 1
	xl dmesg | tr -d '\r' | awk -v d="remote d$1 (" '
		/grant-table for remote d/ { on = index($0, d) > 0; next }
		on && /\[0x/ { n++ }
		END { print n + 0 }'
}
R=${E2E_KMOD_RELOADS:-20}
summary= figures=
for t in pv pvh hvm; do
	n=e2e-kmod-$t
	uds=/tmp/kmod-hvs-$t
	rm -f "$uds" "${uds}_5002" "${uds}_5003" rx5002-$t.txt
	# The guest's connect()s to CID 2 reach these.
	( socat -u UNIX-LISTEN:${uds}_5002 - | sha256sum | cut -c1-64 >rx5002-$t.txt ) &
	( socat -u UNIX-LISTEN:${uds}_5003 /dev/null 2>/dev/null; echo $? >rx5003-$t.txt ) &
	# An HVM guest boots through SeaBIOS and qemu-xen: slow under TCG.
	boot=${E2E_BOOT_TIMEOUT:-150}; [ $t = hvm ] && boot=420
	# A PV or PVH guest gets more than the default 128 MB: the kernel, the
	# initramfs and its unpacked copy must fit (a later "memory" line wins
	# in xl).  An HVM guest keeps 128 MB: its boot under TCG grows with it.
	mem=256; [ $t = hvm ] && mem=128
	# 20 cycles in the PV guest, fewer in the slower PVH and HVM guests.
	r=$R; [ $t = pv ] || r=${E2E_KMOD_RELOADS_OTHER:-5}
	cfg=$(e2e_guest_cfg $t $n kmod-bus $r -- 'cpus = "1"' "memory = $mem") || kfail "cannot write the $t guest's config"
	e2e_guest_create "$cfg" || kfail "xl create of the $t guest failed"
	d=$(e2e_guest_domid $n)
	[ -n "$d" ] || kfail "no domid for $n"
	step() { xenstore-write /local/domain/$d/data/e2e-kmod "$1"; }
	"$ctl" attach $d >>vmbusctl.log 2>&1 || kfail "vmbusctl attach $d failed: $(tail -n 1 vmbusctl.log)"
	"$ctl" offer $d --pipe echo --service /tmp/kmod-bus-echo.sock >>vmbusctl.log 2>&1 ||
		kfail "vmbusctl offer $d failed: $(tail -n 1 vmbusctl.log)"
	# Time sync only for PV: hv_utils reads Hyper-V's reference counter
	# MSR for it (an unchecked MSR access, with a call trace, in PVH and
	# HVM guests without Viridian).
	ics="heartbeat shutdown kvp"; ICV="Heartbeat Shutdown KVP"
	[ $t = pv ] && { ics="$ics timesync"; ICV="$ICV TimeSync"; }
	for ic in $ics; do
		"$ctl" offer $d --ic $ic >>vmbusctl.log 2>&1 ||
			kfail "vmbusctl offer $d --ic $ic failed: $(tail -n 1 vmbusctl.log)"
	done
	"$ctl" offer $d --hvsock "$uds" >>vmbusctl.log 2>&1 ||
		kfail "vmbusctl offer $d --hvsock $uds failed: $(tail -n 1 vmbusctl.log)"
	e2e_guest_wait $n '^E2E-GUEST: READY' $boot || kfail "$t guest did not reach its init"
	line() { e2e_guest_line $n "^KMOD: $1" 1; }
	wait_line() {
		e2e_guest_wait $n "^KMOD: $1" ${2:-300} >/dev/null ||
			kfail "$t guest: no \"$1\" within ${2:-300} s: $(e2e_guest_line $n '^KMOD' '$')"
	}

	# ---- the devices and the drivers
	wait_line 'ic-ready|no vmbus devices' 240
	[ "$(line 'modprobe xen-vmbus')" = "KMOD: modprobe xen-vmbus rc=0" ] ||
		kfail "$t: $(line 'modprobe xen-vmbus')"
	dl=$(e2e_guest_line $n "^KMOD: device .* class_id=\\{$PIPE_CLASS\\}" 1)
	[ -n "$dl" ] || kfail "$t: the pipe's device did not appear: $(e2e_guest_line $n '^KMOD' '$')"
	dev=$(echo "$dl" | sed -n 's/^KMOD: device \([^ ]*\) .*/\1/p')
	val() { echo "$dl" | sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p"; }
	[ "$(val modalias)" = "$want_alias" ] || kfail "$t: modalias $(val modalias), want $want_alias"
	[ "$(val device_id)" = "{$dev}" ] || kfail "$t: device_id $(val device_id) is not the device's name $dev"
	case $(val device_id) in "{0000$(printf %04x $d)-"*) ;; *)
		kfail "$t: device_id $(val device_id) does not carry domain $d as vmbusd's pipe instances do" ;;
	esac
	[ "$(val state)" = 0 ] || kfail "$t: state $(val state), want 0 (offered, closed)"
	[ "$(val vendor)" = 0x1414 ] || kfail "$t: vendor $(val vendor)"
	# The integration services' classes, as Linux's HV_*_GUID print.
	cls="57164f39-9115-4e78-ab55-382f3bd5422d 0e0b6031-5213-4934-818b-38d90ced39db a9a0f4e7-5a45-4d96-b827-8a841e8c03e6"
	[ $t = pv ] && cls="$cls 9527e630-d0ae-497b-adce-e80ab0175caf"
	for c in $cls; do
		[ -n "$(e2e_guest_line $n "^KMOD: device .* class_id=\\{$c\\}" 1)" ] ||
			kfail "$t: no device of integration service class $c"
	done
	for m in hv_utils hv_sock; do
		[ "$(line "modprobe $m")" = "KMOD: modprobe $m rc=0" ] || kfail "$t: $(line "modprobe $m")"
	done
	drv=$(line 'drivers ')
	case $drv in *hv_utils*hv_sock*|*hv_sock*hv_utils*) ;; *) kfail "$t: drivers on the bus: $drv" ;; esac
	mods=$(line 'modules ')
	case " $mods " in *" hv_vmbus "*) kfail "$t: hv_vmbus was loaded: $mods" ;; esac
	case " $mods " in *" xen_vmbus "*) ;; *) kfail "$t: xen_vmbus is not loaded: $mods" ;; esac

	# ---- integration services
	for ic in $ICV; do
		[ -n "$(line "ic .*$ic IC version")" ] ||
			kfail "$t: hv_utils did not negotiate $ic: $(grep -a '^KMOD: ic ' "$E2E_CONSOLE_DIR/guest-$n.log" | tr -d '\r' | tr '\n' ' ')"
	done
	[ "$(line 'ic-ready')" = "KMOD: ic-ready kvp-daemon=running" ] || kfail "$t: $(line 'ic-ready')"
	"$ctl" kvp $d set 0 E2EKey "value from dom0 $t" --wait 30 >kvp-set-$t.txt 2>&1 ||
		kfail "$t: vmbusctl kvp set: $(cat kvp-set-$t.txt)"
	# Debian's hv_kvp_daemon answers the host's GET of a key it has with
	# status OK and an empty value (seen here in every guest type): the
	# pool's enumeration shows what was set.
	"$ctl" kvp $d get 0 E2EKey --wait 30 >kvp-get-$t.txt 2>&1 ||
		kfail "$t: vmbusctl kvp get: $(cat kvp-get-$t.txt)"
	"$ctl" kvp $d list 0 --wait 30 >kvp-list0-$t.txt 2>&1 ||
		kfail "$t: vmbusctl kvp list 0: $(cat kvp-list0-$t.txt)"
	grep -qx "E2EKey=value from dom0 $t" kvp-list0-$t.txt ||
		kfail "$t: pool 0 after vmbusctl kvp set: $(tr '\n' ' ' <kvp-list0-$t.txt)"
	"$ctl" kvp $d list 2 --wait 30 >kvp-list-$t.txt 2>&1 ||
		kfail "$t: vmbusctl kvp list 2: $(cat kvp-list-$t.txt)"
	grep -q '^OSName=' kvp-list-$t.txt ||
		kfail "$t: hv_kvp_daemon's pool 2 has no OSName: $(tr '\n' ' ' <kvp-list-$t.txt)"
	os=$(sed -n 's/^OSName=//p' kvp-list-$t.txt)
	"$ctl" list >vmbusctl-list-$t.txt 2>&1
	hb=$(sed -n 's/.*heartbeat sequence \([0-9]*\).*/\1/p' vmbusctl-list-$t.txt | head -n 1)
	[ "${hb:-0}" -gt 0 ] || kfail "$t: no heartbeat answered: $(grep -i heartbeat vmbusctl-list-$t.txt)"
	step ic-done

	# ---- hv_sock: 64 MiB each way with socat
	wait_line 'hvs-listening 5001' 120
	t0=$(e2e_now)
	timeout 600 socat UNIX-CONNECT:"$uds" EXEC:"sh /tmp/kmod-hvs-send.sh 5001 /tmp/kmod-ok-$t" ||
		kfail "$t: socat to the guest's port 5001 failed: $(cat /tmp/kmod-ok-$t 2>/dev/null)"
	wait_line 'hvs-rx 5001' 600
	rx_s=$(e2e_since $t0)
	[ "$(line 'hvs-rx 5001')" = "KMOD: hvs-rx 5001 sha=$want_sha" ] ||
		kfail "$t: dom0 -> guest stream: $(line 'hvs-rx 5001'), want sha=$want_sha ($(cat /tmp/kmod-ok-$t 2>/dev/null))"
	t0=$(e2e_now)
	step hvs-rx-done
	wait_line 'hvs-tx 5002' 600
	tx_s=$(e2e_since $t0)
	[ "$(line 'hvs-tx 5002')" = "KMOD: hvs-tx 5002 rc=0" ] || kfail "$t: $(line 'hvs-tx 5002')"
	i=0; until [ -s rx5002-$t.txt ] || [ $i -gt 60 ]; do i=$((i + 1)); sleep 0.5; done
	[ "$(cat rx5002-$t.txt)" = "$want_sha" ] ||
		kfail "$t: guest -> dom0 stream sha $(cat rx5002-$t.txt), want $want_sha"
	wait_line 'hvs-streaming 5003' 120
	sleep 2
	"$ctl" rescind $d hvsock >>vmbusctl.log 2>&1 ||
		kfail "vmbusctl rescind $d hvsock failed: $(tail -n 1 vmbusctl.log)"
	wait_line 'hvs-stream-ended' 180
	[ "$(line 'hvs-stream-ended')" != "KMOD: hvs-stream-ended rc=0" ] ||
		kfail "$t: the stream to port 5003 ended without an error after the rescind"

	# ---- rescind of the echo pipe
	wait_line "rescind-ready $dev" 60
	"$ctl" rescind $d echo >>vmbusctl.log 2>&1 || kfail "vmbusctl rescind $d echo failed: $(tail -n 1 vmbusctl.log)"
	wait_line 'rescinded|still there' 120
	[ "$(line 'rescinded')" = "KMOD: rescinded $dev" ] ||
		kfail "$t: the rescinded pipe's device stayed: $(line 'still there')"

	# ---- unload/reload: grants and event channels back to baseline
	wait_line 'baseline' 120
	g0=$(grants $d)
	step baseline-seen
	wait_line 'cycled' $((60 + r * 60))
	g1=$(grants $d)
	step cycled-seen
	[ "$(line 'rmmod')" = "KMOD: rmmod rc=0" ] || kfail "$t: $(line 'rmmod') $(line 'cycle ')"
	[ "$(line 'reload')" = "KMOD: reload connected" ] || kfail "$t: xen-vmbus loaded again: $(line 'reload')"
	ev0=$(line 'baseline' | sed -n 's/.*evtchns=\([0-9]*\).*/\1/p')
	ev1=$(line 'cycled' | sed -n 's/.*evtchns=\([0-9]*\).*/\1/p')
	[ "$ev0" = "$ev1" ] || kfail "$t: event channels $ev0 before $r reloads, $ev1 after"
	[ "$g0" = "$g1" ] || kfail "$t: grants in use $g0 before $r reloads, $g1 after"

	# ---- vmbusctl shutdown: hv_utils powers the guest off
	wait_line 'shutdown-ready' 120
	"$ctl" shutdown $d --wait 30 >shutdown-$t.txt 2>&1 || kfail "$t: vmbusctl shutdown $d: $(cat shutdown-$t.txt)"
	e2e_guest_gone $n 120 || kfail "$t: the guest is still there 120 s after vmbusctl shutdown"
	cp "$E2E_CONSOLE_DIR/guest-$n.log" . 2>/dev/null
	grep -a '^KMOD' "$E2E_CONSOLE_DIR/guest-$n.log" | tr -d '\r'
	[ "$(line 'poweroff requested')" = "KMOD: poweroff requested" ] ||
		kfail "$t: the guest went away without running /sbin/poweroff"
	[ -z "$(line 'no shutdown')" ] || kfail "$t: $(line 'no shutdown')"

	# ---- the guest's kernel log, all of it
	bad=$(grep -aiE '^KMOD-DMESG: .*(unknown symbol|disagrees|call trace|oops|bug:|warning:)' "$E2E_CONSOLE_DIR/guest-$n.log" | head -n 3 | tr -d '\r')
	[ -z "$bad" ] || kfail "$t: guest kernel log: $bad"
	summary="$summary $t(d$d $dev hb=$hb os=\"$os\")"
	figures="$figures hvs.$t.rx_s=$rx_s hvs.$t.tx_s=$tx_s reloads.$t=$r grants.$t=$g0/$g1 evtchns.$t=$ev0/$ev1"
	xl destroy $n >/dev/null 2>&1
done
kill -0 $E2E_VMBUSD_PID 2>/dev/null || kfail "vmbusd is no longer running"
e2e_vmbus_collect >/dev/null
e2e_time "$figures"
e2e_pass "xen-vmbus.ko with Debian's hv_utils, hv_sock, socat and hv_kvp_daemon: offers became vmbus devices ($want_alias), heartbeat/shutdown/KVP negotiated (and timesync in PV), KVP set/get/list answered by hv_kvp_daemon, 64 MiB each way over AF_VSOCK with matching sha256, rescind mid-stream errored the socket, $R (PV) or ${E2E_KMOD_RELOADS_OTHER:-5} unload/reload cycles with grants and event channels at baseline, vmbusctl shutdown powered the guest off, in:$summary"
