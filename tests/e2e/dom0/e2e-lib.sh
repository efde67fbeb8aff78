# SPDX-License-Identifier: GPL-2.0-only
#
# Functions for scenario scripts (installed as /e2e/lib.sh in dom0 and in the
# guests). A scenario is one POSIX sh script, scenarios/<name>.sh, run as
#   sh <name>.sh dom0     in dom0 by /init, cwd and $E2E_OUT = /results/<name>
#   sh <name>.sh guest    inside a guest started with role <name>
# Its exit status is the result: 0 PASS, 77 SKIP, anything else FAIL. Use
# e2e_pass/e2e_fail/e2e_skip to give the one-line detail printed with it.
# Header keys read by the harness:
#   # e2e-timeout: <s>     hard limit for the dom0 side (default 120)
#   # e2e-default: yes     part of the default list
#   # e2e-order: <n>       position in the default list

E2E_GUEST_DIR=/e2e/guest
E2E_CONSOLE_DIR=/var/log/xen/console
: "${E2E_OUT:=/tmp}"
: "${E2E_SCENARIO:=${0##*/}}"

# Protocol line on the console, also kept in the scenario log (stdout).
e2e_say() {
	[ -n "${E2E_IN_GUEST:-}" ] || echo "E2E: $*" >/dev/console
	echo "E2E: $*"
}
e2e_note() { e2e_say "NOTE ${E2E_SCENARIO%.sh} $*"; }
e2e_time() { e2e_say "TIME ${E2E_SCENARIO%.sh} $*"; }

e2e_detail() {
	echo "$*" >"$E2E_OUT/detail"
	echo "detail: $*"
}
e2e_pass() { e2e_detail "$*"; exit 0; }
e2e_fail() { e2e_detail "$*"; echo "FAIL: $*"; exit 1; }
e2e_skip() { e2e_detail "$*"; exit 77; }

e2e_now() { cut -d' ' -f1 /proc/uptime; }
# Whole seconds of uptime into E2E_UP without forking: every process
# costs dom0 page-table hypercalls, which TCG makes slow, and wait loops
# must not steal the CPU from the guest they wait for.
e2e_up() { read -r E2E_UP _ </proc/uptime; E2E_UP=${E2E_UP%.*}; }
e2e_since() { awk -v a="$(e2e_now)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }

# Locate a program: PATH first, then anywhere in the staged tree (libexec).
e2e_find_prog() {
	p=$(command -v "$1" 2>/dev/null) && { echo "$p"; return 0; }
	p=$(grep -E "/$1\$" /e2e/stage-files 2>/dev/null | head -n 1)
	[ -n "$p" ] && [ -x "$p" ] && { echo "$p"; return 0; }
	return 1
}

# e2e_guest_cfg TYPE NAME [ROLE [ARG]] [-- CFG-LINE...]
# Write $E2E_OUT/NAME.cfg for a Linux guest of TYPE pv, pvh or hvm booting the
# Debian kernel and the test initramfs. The guest's /init runs
# "sh /e2e/scenarios/ROLE.sh guest ARG" when ROLE is given.
e2e_guest_cfg() {
	_type=$1 _name=$2 _role= _arg=
	shift 2
	[ $# -gt 0 ] && [ "$1" != -- ] && { _role=$1; shift; }
	[ $# -gt 0 ] && [ "$1" != -- ] && { _arg=$1; shift; }
	[ "${1:-}" = -- ] && shift
	_cmd="quiet e2e.name=$_name${_role:+ e2e.role=$_role}${_arg:+ e2e.arg=$_arg}"
	_cfg=$E2E_OUT/$_name.cfg
	{
		echo "name = \"$_name\""
		echo "type = \"$_type\""
		echo "memory = 128"
		echo "vcpus = 1"
		echo "on_poweroff = \"destroy\""
		echo "on_reboot = \"destroy\""
		echo "on_crash = \"destroy\""
		case $_type in
		pv|pvh)
			# The ELF vmlinux: libxenguest would otherwise
			# decompress the xz bzImage in dom0 (slow under TCG).
			echo "kernel = \"$E2E_GUEST_DIR/vmlinux\""
			echo "ramdisk = \"$E2E_GUEST_DIR/initrd.gz\""
			echo "extra = \"console=hvc0 $_cmd\""
			;;
		hvm)
			# hvmloader + SeaBIOS + qemu-xen direct kernel boot.
			echo "kernel = \"$E2E_GUEST_DIR/vmlinuz\""
			echo "ramdisk = \"$E2E_GUEST_DIR/initrd.gz\""
			# /dev/console must be hvc0: xenconsoled logs the PV
			# console, not the emulated serial port.
			# pci=noearly: on the family 0xf CPU of qemu64 the kernel
			# scans all 256 PCI buses for an AGP bridge, port I/O
			# that goes to qemu-xen in dom0 for each access: 45 s
			# under TCG for nothing.
			echo "cmdline = \"console=hvc0 pci=noearly $_cmd\""
			echo "device_model_version = \"qemu-xen\""
			echo "vga = \"none\""
			echo "nographic = 1"
			echo "vnc = 0"
			;;
		*)
			echo "e2e_guest_cfg: unknown guest type '$_type'" >&2
			return 1
			;;
		esac
		for _l in "$@"; do echo "$_l"; done
	} >"$_cfg"
	echo "$_cfg"
}

# e2e_guest_create CFG: xl create; sets E2E_T0 (start), E2E_CREATE_S.
e2e_guest_create() {
	E2E_T0=$(e2e_now)
	if ! xl create "$1" >"$E2E_OUT/xl-create-$(basename "$1" .cfg).log" 2>&1; then
		_rc=$?
		echo "xl create $1 failed (exit status $_rc):"
		cat "$E2E_OUT/xl-create-$(basename "$1" .cfg).log"
		return 1
	fi
	E2E_CREATE_S=$(e2e_since "$E2E_T0")
	echo "xl create $1 returned after ${E2E_CREATE_S}s"
}

e2e_guest_domid() { xl domid "$1" 2>/dev/null; }

# e2e_guest_wait NAME PATTERN TIMEOUT: wait for an extended regexp in the
# guest's console log. Sets E2E_WAIT_S (seconds since E2E_T0).
e2e_guest_wait() {
	_log=$E2E_CONSOLE_DIR/guest-$1.log
	e2e_up
	_end=$((E2E_UP + $3))
	while ! grep -aqE "$2" "$_log" 2>/dev/null; do
		e2e_up
		if [ "$E2E_UP" -ge "$_end" ]; then
			echo "guest $1: no line matching '$2' on its console within $3 s"
			return 1
		fi
		sleep 0.5
	done
	E2E_WAIT_S=$(e2e_since "${E2E_T0:-0}")
}

# e2e_guest_gone NAME TIMEOUT: wait until the domain has disappeared.
e2e_guest_gone() {
	e2e_up
	_end=$((E2E_UP + $2))
	while xl domid "$1" >/dev/null 2>&1; do
		e2e_up
		if [ "$E2E_UP" -ge "$_end" ]; then
			echo "guest $1 still exists after $2 s"
			return 1
		fi
		sleep 0.5
	done
}

# Print what is known about a guest that misbehaved.
e2e_guest_dump() {
	echo "---- xl list"
	xl list
	echo "---- console of guest $1 (last 60 lines)"
	tail -n 60 "$E2E_CONSOLE_DIR/guest-$1.log" 2>/dev/null | tr -d '\r'
	if [ -f "/var/log/xen/qemu-dm-$1.log" ]; then
		echo "---- qemu-dm-$1.log (last 20 lines)"
		tail -n 20 "/var/log/xen/qemu-dm-$1.log"
	fi
	echo "---- xl dmesg (last 20 lines)"
	xl dmesg | tail -n 20
}

# e2e_guest_boot TYPE NAME [ROLE [ARG]] [-- CFG-LINE...]
# Create a Linux guest and wait until its /init reports READY (hard limit
# $E2E_BOOT_TIMEOUT, default 150 s). Reports create.TYPE and boot.TYPE.
e2e_guest_boot() {
	_t=$1 _n=$2
	_c=$(e2e_guest_cfg "$@") || return 1
	e2e_guest_create "$_c" || return 1
	if ! e2e_guest_wait "$_n" '^E2E-GUEST: READY' "${E2E_BOOT_TIMEOUT:-150}"; then
		e2e_guest_dump "$_n"
		return 1
	fi
	e2e_time "create.$_t=$E2E_CREATE_S boot.$_t=$E2E_WAIT_S"
}

# Bring up dom0's NIC, present when a scenario declares "# e2e-host-peer:"
# (see tests/e2e/README.md): QEMU user-mode networking, dom0 10.0.2.15/24,
# reached only through QEMU's forward from the host's 127.0.0.1.
e2e_host_net_up() {
	_if=
	for _d in /sys/class/net/*; do
		[ -e "$_d/device" ] || continue	# physical NICs only (not lo, bridges, vifs)
		_if=${_d##*/}
		break
	done
	if [ -z "$_if" ]; then
		echo "no network device in dom0 (is the scenario's e2e-host-peer header read by run?)"
		return 1
	fi
	ip link set lo up || { echo "ip link set lo up failed"; return 1; }
	ip link set "$_if" up || { echo "ip link set $_if up failed"; return 1; }
	ip addr show dev "$_if" | grep -q 'inet 10\.0\.2\.15/' ||
		ip addr add 10.0.2.15/24 dev "$_if" ||
		{ echo "adding 10.0.2.15/24 to $_if failed"; return 1; }
	ip addr show dev "$_if"
}

# ---- guest consoles --------------------------------------------------------

# e2e_guest_count NAME ERE: lines on the guest's console that match, so far.
e2e_guest_count() {
	_c=$(grep -acE "$2" "$E2E_CONSOLE_DIR/guest-$1.log" 2>/dev/null)
	echo "${_c:-0}"
}

# e2e_guest_wait_count NAME ERE N TIMEOUT: until at least N lines match.
e2e_guest_wait_count() {
	e2e_up
	_end=$((E2E_UP + $4))
	while [ "$(e2e_guest_count "$1" "$2")" -lt "$3" ]; do
		e2e_up
		[ "$E2E_UP" -lt "$_end" ] || return 1
		sleep 0.5
	done
}

# e2e_guest_line NAME ERE K: the K-th matching console line ('$': the last).
e2e_guest_line() {
	grep -aE "$2" "$E2E_CONSOLE_DIR/guest-$1.log" | sed -n "${3}p" | tr -d '\r'
}

# e2e_xs_wait PATH [VALUE]: in a guest, wait up to 120 s until the xenstore
# key exists (has VALUE when given).
e2e_xs_wait() {
	_i=0
	while :; do
		_v=$(xenstore-read "$1" 2>/dev/null) &&
			{ [ $# -lt 2 ] || [ "$_v" = "$2" ]; } && return 0
		_i=$((_i + 1))
		[ $_i -le 240 ] || return 1
		sleep 0.5
	done
}

# ---- two guests on VMBus (vmbus-pipe, vmbus-p2p) ---------------------------
# vmbusd -F and a unix-socket echo service in dom0, a PV guest and a PVH guest
# each with a bus and an "echo" pipe offered.  Each guest is pinned to a
# physical CPU of its own: a PVH guest was seen to triple-fault while the PV
# guest streamed, its vCPU state corrupted (once RIP and CR2 held a hypervisor
# address with CS e008): the emulated SVM under TCG, not the guest's doing.
# dom0 stays with the PV guest.  Files go to the scenario's directory.

# e2e_vmbus_init PV-NAME PVH-NAME SOCKET: find the programs (SKIP without
# them) into E2E_VMBUSD, E2E_VMBUSCTL and E2E_PIPE_CLIENT; remove on exit
# what e2e_vmbus_start starts and dom0's pinning.
e2e_vmbus_init() {
	E2E_VMBUS_PV=$1 E2E_VMBUS_PVH=$2 E2E_VMBUS_SOCK=$3 E2E_VMBUS_PIDS=
	E2E_VMBUSD=$(e2e_find_prog vmbusd) || e2e_skip "vmbusd is not in the staging directory"
	E2E_VMBUSCTL=$(e2e_find_prog vmbusctl) || e2e_skip "vmbusctl is not in the staging directory"
	E2E_PIPE_CLIENT=$(e2e_find_prog vmbus-pipe-client) ||
		e2e_skip "vmbus-pipe-client is not in the staging directory"
	trap e2e_vmbus_cleanup EXIT
}

e2e_vmbus_cleanup() {
	for _p in $E2E_VMBUS_PIDS; do kill "$_p" 2>/dev/null; done
	xl vcpu-pin 0 all all >/dev/null 2>&1
}

# e2e_vmbus_fail MESSAGE: what dom0 knows (daemon log, bus state, consoles,
# domains, hypervisor log), then FAIL.
e2e_vmbus_fail() {
	echo "---- vmbusd.log (last 40 lines)"
	tail -n 40 vmbusd.log
	"$E2E_VMBUSCTL" list >vmbusctl-list-fail.txt 2>&1 && cat vmbusctl-list-fail.txt
	for _n in $E2E_VMBUS_PV $E2E_VMBUS_PVH; do
		cp "$E2E_CONSOLE_DIR/guest-$_n.log" . 2>/dev/null
		echo "---- console of guest $_n (last 40 lines)"
		tail -n 40 "$E2E_CONSOLE_DIR/guest-$_n.log" 2>/dev/null | tr -d '\r'
	done
	echo "---- xl list"
	xl list
	echo "---- xl dmesg (last 20 lines)"
	xl dmesg | tail -n 20
	e2e_fail "$*"
}

# e2e_vmbus_start: vmbusd and the echo service, until both serve; the
# daemon's pid in E2E_VMBUSD_PID.
e2e_vmbus_start() {
	"$E2E_VMBUSD" -F -v --pid-file /tmp/vmbusd.pid >vmbusd.log 2>&1 &
	E2E_VMBUSD_PID=$!
	E2E_VMBUS_PIDS="$E2E_VMBUS_PIDS $E2E_VMBUSD_PID"
	"$E2E_PIPE_CLIENT" --echo-service "$E2E_VMBUS_SOCK" >echo.log 2>&1 &
	E2E_VMBUS_PIDS="$E2E_VMBUS_PIDS $!"
	_i=0
	until grep -q "serving buses" vmbusd.log && grep -q listening echo.log; do
		_i=$((_i + 1))
		[ $_i -le 60 ] ||
			e2e_vmbus_fail "vmbusd or the echo service did not start: $(tail -n 1 vmbusd.log) / $(tail -n 1 echo.log)"
		kill -0 "$E2E_VMBUSD_PID" 2>/dev/null || e2e_vmbus_fail "vmbusd exited: $(tail -n 1 vmbusd.log)"
		sleep 0.5
	done
}

# e2e_vmbus_guests ROLE [HOOK]: the PV guest (argument "victim"), then the
# PVH guest ("survivor"), one after the other (booting both at once doubles
# the PVH boot time under TCG).  Each gets its bus and the echo pipe right
# after xl create, before its /init runs; HOOK, when given, runs after the
# PVH guest's offer.  Sets E2E_DOM_PV, E2E_DOM_PVH and reports the boot times.
e2e_vmbus_guests() {
	_role=$1 _hook=${2:-}
	xl vcpu-pin 0 all 0 >/dev/null 2>&1 || echo "xl vcpu-pin of dom0 failed"
	for _g in "pv $E2E_VMBUS_PV victim 0" "pvh $E2E_VMBUS_PVH survivor 1"; do
		set -- $_g
		_cfg=$(e2e_guest_cfg $1 $2 $_role $3 -- "cpus = \"$4\"") ||
			e2e_vmbus_fail "cannot write the $1 guest's config"
		e2e_guest_create "$_cfg" || e2e_vmbus_fail "xl create of the $1 guest failed"
		_d=$(e2e_guest_domid $2)
		[ -n "$_d" ] || e2e_vmbus_fail "no domid for $2"
		"$E2E_VMBUSCTL" attach $_d >>vmbusctl.log 2>&1 ||
			e2e_vmbus_fail "vmbusctl attach $_d failed: $(tail -n 1 vmbusctl.log)"
		"$E2E_VMBUSCTL" offer $_d --pipe echo --service "$E2E_VMBUS_SOCK" >>vmbusctl.log 2>&1 ||
			e2e_vmbus_fail "vmbusctl offer $_d failed: $(tail -n 1 vmbusctl.log)"
		if [ $1 = pv ]; then
			E2E_DOM_PV=$_d
		else
			E2E_DOM_PVH=$_d
			[ -z "$_hook" ] || $_hook
		fi
		e2e_guest_wait $2 '^E2E-GUEST: READY' "${E2E_BOOT_TIMEOUT:-150}" ||
			e2e_vmbus_fail "$1 guest did not reach its init"
		eval "_boot_$1=\$E2E_WAIT_S"
	done
	cat vmbusctl.log
	e2e_time "boot.pv=$_boot_pv boot.pvh=$_boot_pvh"
}

# e2e_vmbus_released DOMID: until vmbusd has released the domain's bus (30 s).
e2e_vmbus_released() {
	_i=0
	until grep -q "domain $1: bus released" vmbusd.log; do
		_i=$((_i + 1))
		[ $_i -le 60 ] || e2e_vmbus_fail "vmbusd did not release domain $1's bus within 30 s"
		kill -0 "$E2E_VMBUSD_PID" 2>/dev/null ||
			e2e_vmbus_fail "vmbusd exited after the PV guest was destroyed: $(tail -n 1 vmbusd.log)"
		sleep 0.5
	done
}

# e2e_vmbus_collect: the bus state at the end, the consoles and the daemon's log.
e2e_vmbus_collect() {
	"$E2E_VMBUSCTL" list >vmbusctl-list-after.txt 2>&1
	cat vmbusctl-list-after.txt
	for _n in $E2E_VMBUS_PV $E2E_VMBUS_PVH; do
		cp "$E2E_CONSOLE_DIR/guest-$_n.log" . 2>/dev/null
	done
	cat vmbusd.log
}
