# SPDX-License-Identifier: GPL-2.0-only
#
# Boot Xen and the test dom0 under qemu-system-x86_64 (TCG), follow the
# serial console and enforce the time limits:
#   - dom0 must print READY within $E2E_BOOT_TIMEOUT seconds;
#   - a scenario must print RESULT within its e2e-timeout plus
#     $E2E_GRACE seconds (dom0 enforces the timeout itself; the grace covers
#     a hung dom0 or hypervisor);
#   - between two scenarios at most $E2E_GRACE seconds may pass.
# On a hang or a crash QEMU is killed and the console tail is printed.
#
# Results go to the associative arrays E2E_STATUS[scenario],
# E2E_DETAIL[scenario], E2E_SECS[scenario] and the list E2E_TIMES.

: "${E2E_BOOT_TIMEOUT:=180}"
: "${E2E_GRACE:=60}"
: "${E2E_QEMU_SMP:=2}"
: "${E2E_QEMU_MEM:=2048}"
: "${E2E_TAIL_LINES:=60}"

e2e_now_s() { printf '%s\n' "${EPOCHREALTIME%.*}"; }

# Timeout of a scenario, from its "# e2e-timeout:" header.
e2e_scenario_timeout() {
	local t
	t=$(sed -n 's/^# e2e-timeout: *//p' "$E2E_SRCDIR/scenarios/$1.sh" 2>/dev/null | head -n 1)
	echo "${t:-120}"
}

e2e_console_tail() {
	local why=$1 log=$2
	echo "---- $why; last $E2E_TAIL_LINES console lines ($log):"
	tail -n "$E2E_TAIL_LINES" "$log"
	echo "---- end of console tail"
}

# ---- host peers
# A scenario that needs a program on the host (outside QEMU) to talk to
# dom0 says so in its header:
#   # e2e-host-peer: PROGRAM PORT
# PROGRAM lives in tests/e2e/host/; PORT is a TCP port in dom0. The boot
# then gets a NIC with QEMU user-mode networking (restrict=on: dom0 reaches
# nothing outside) that forwards a free port on the host's 127.0.0.1 only
# to dom0's 10.0.2.15:PORT. When the scenario begins, the host starts
#   PROGRAM 127.0.0.1 HOSTPORT      (E2E_SCENARIO, E2E_TIMEOUT set)
# with its output in WORK/host-peer-<scenario>.log; when the scenario's
# RESULT arrives the peer gets 15 s to finish (none unless the scenario
# passed), then is killed. A PASS becomes a FAIL when the peer exits with a
# status other than 0.

# A free TCP port on the host's loopback interface.
e2e_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# e2e_peer_setup SCENARIO...: fill E2E_PEER_PROG and E2E_PEER_HOSTPORT,
# and E2E_PEER_NIC with QEMU's NIC option.
e2e_peer_setup() {
	local n hdr prog port hp fwd=
	declare -gA E2E_PEER_PROG=() E2E_PEER_HOSTPORT=() E2E_PEER_PID=()
	declare -A byport=()
	for n in "$@"; do
		hdr=$(sed -n 's/^# e2e-host-peer: *//p' "$E2E_SRCDIR/scenarios/$n.sh" | head -n 1)
		[ -n "$hdr" ] || continue
		read -r prog port _ <<<"$hdr"
		[[ $port =~ ^[0-9]+$ ]] && [ "$port" -gt 0 ] && [ "$port" -lt 65536 ] ||
			e2e_die "scenario $n: e2e-host-peer wants 'PROGRAM PORT', not '$hdr'"
		[ -x "$E2E_SRCDIR/host/$prog" ] ||
			e2e_die "scenario $n: host peer $E2E_SRCDIR/host/$prog is not an executable file"
		if [ -z "${byport[$port]:-}" ]; then
			hp=$(e2e_free_port) || e2e_die "finding a free port on 127.0.0.1 failed (python3 needed)"
			byport[$port]=$hp
			fwd+=",hostfwd=tcp:127.0.0.1:$hp-:$port"
		fi
		E2E_PEER_PROG[$n]=$prog
		E2E_PEER_HOSTPORT[$n]=${byport[$port]}
		e2e_log "scenario $n: host peer $prog on 127.0.0.1:${byport[$port]} -> dom0 port $port"
	done
	if [ -n "$fwd" ]; then
		E2E_PEER_NIC="-nic user,model=virtio-net-pci,restrict=on$fwd"
	else
		E2E_PEER_NIC="-nic none"
	fi
}

e2e_peer_start() {	# e2e_peer_start WORK SCENARIO TIMEOUT
	local prog=${E2E_PEER_PROG[$2]:-}
	[ -n "$prog" ] || return 0
	E2E_SCENARIO=$2 E2E_TIMEOUT=$(($3 + E2E_GRACE)) \
		"$E2E_SRCDIR/host/$prog" 127.0.0.1 "${E2E_PEER_HOSTPORT[$2]}" \
		</dev/null >"$1/host-peer-$2.log" 2>&1 &
	E2E_PEER_PID[$2]=$!
	e2e_log "$2: host peer $prog started (pid $!, log $1/host-peer-$2.log)"
}

# e2e_peer_finish WORK SCENARIO STATUS: after a PASS give the peer 15 s
# to finish, else stop it at once; sets E2E_PEER_RC and E2E_PEER_LAST (its
# last output line). Returns 1 if no peer ran.
e2e_peer_finish() {
	local pid=${E2E_PEER_PID[$2]:-} i
	[ -n "$pid" ] || return 1
	for i in $(seq 1 30); do
		[ "$3" = PASS ] && kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	E2E_PEER_RC=$?
	unset "E2E_PEER_PID[$2]"
	E2E_PEER_LAST=$(tail -n 1 "$1/host-peer-$2.log" 2>/dev/null)
	e2e_log "$2: host peer exited with status $E2E_PEER_RC: $E2E_PEER_LAST"
	return 0
}

e2e_peer_kill_all() {
	local n
	for n in "${!E2E_PEER_PID[@]}"; do
		kill "${E2E_PEER_PID[$n]}" 2>/dev/null
		wait "${E2E_PEER_PID[$n]}" 2>/dev/null
	done
	E2E_PEER_PID=()
}

# e2e_boot WORK XEN-BINARY XEN-KIND BOOT-NUMBER SCENARIO...
# Sets E2E_BOOT_RAN (scenarios that got a result), E2E_BOOT_OK (1 if dom0
# reached DONE), E2E_BOOT_S (time to READY).
e2e_boot() {
	local work=$1 xen=$2 kind=$3 nr=$4
	shift 4
	local scen=("$@") list fifo log img qpid fd line chunk partial= rc
	local start now deadline cur= done= why= n status secs detail t
	local xen_args dom0_args

	list=$(IFS=+; echo "${scen[*]}")
	log=$work/console-$nr.log
	img=$work/results-$nr.img
	fifo=$work/console-$nr.fifo
	rm -f "$fifo" "$img" "$log"
	mkfifo "$fifo" || e2e_die "creating the FIFO $fifo failed"
	# The results disk: dom0 writes a tar archive of /results to it.
	truncate -s 64M "$img" || e2e_die "creating the results disk $img failed"

	xen_args="console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all"
	xen_args+=" conring_size=1m dom0_mem=768M,max:768M dom0_max_vcpus=1 noreboot"
	xen_args+=" ${E2E_XEN_ARGS:-}"
	# A comma would split QEMU's multiboot module list: the scenario
	# list uses '+'.
	dom0_args="console=hvc0 earlyprintk=xen rdinit=/init quiet"
	dom0_args+=" e2e.xen=$kind e2e.scenarios=$list ${E2E_DOM0_ARGS:-}"
	case $dom0_args in *,*) e2e_die "the dom0 command line must not contain a comma: $dom0_args" ;; esac

	e2e_peer_setup "${scen[@]}"

	e2e_log "boot $nr: Xen ($kind, $xen), scenarios: ${scen[*]}"
	start=$EPOCHREALTIME
	qemu-system-x86_64 -machine q35 -accel tcg,thread=multi \
		-cpu qemu64,+svm,+npt -smp "$E2E_QEMU_SMP" -m "$E2E_QEMU_MEM" \
		-nographic -no-reboot $E2E_PEER_NIC \
		-drive "file=$img,format=raw,if=virtio" \
		-kernel "$xen" -append "$xen_args" \
		-initrd "$E2E_ROOT/boot/vmlinuz-$E2E_KVER $dom0_args,$work/dom0.cpio" \
		</dev/null >"$fifo" 2>&1 &
	qpid=$!
	exec {fd}<"$fifo"

	E2E_BOOT_RAN=()
	E2E_BOOT_OK=0
	E2E_BOOT_S=
	deadline=$(( $(e2e_now_s) + E2E_BOOT_TIMEOUT ))
	why="dom0 did not report READY within ${E2E_BOOT_TIMEOUT}s"
	while :; do
		if IFS= read -r -t 1 -u "$fd" chunk; then
			line=${partial}${chunk}
			partial=
		else
			rc=$?
			if [ $rc -gt 128 ]; then
				# Timed out: keep the partial line for later.
				partial+=$chunk
				line=
			else
				# End of file: QEMU has exited.
				if [ -z "$partial$chunk" ]; then
					if [ -z "$done" ]; then
						why="QEMU exited before dom0 finished"
						deadline=0
					else
						break
					fi
				fi
				line=$partial$chunk
				partial=
			fi
		fi
		if [ -n "$line" ]; then
			line=${line//$'\r'/}
			printf '[%7s] %s\n' "$(e2e_delta "$start" "$EPOCHREALTIME")" "$line" >>"$log"
			case $line in
			"E2E: READY "*)
				E2E_BOOT_S=$(e2e_delta "$start" "$EPOCHREALTIME")
				e2e_log "boot $nr: dom0 ready ${E2E_BOOT_S}s after QEMU started (${line#E2E: READY })"
				E2E_TIMES+=("boot $nr: dom0 ready ${E2E_BOOT_S}s")
				deadline=$(( $(e2e_now_s) + E2E_GRACE ))
				why="dom0 did not start the next scenario within ${E2E_GRACE}s"
				;;
			"E2E: BEGIN "*)
				read -r cur t _ <<<"${line#E2E: BEGIN }"
				t=${t#timeout=}
				[[ $t =~ ^[0-9]+$ ]] || t=$E2E_GRACE
				deadline=$(( $(e2e_now_s) + t + E2E_GRACE ))
				why="scenario $cur gave no result within ${t}s + ${E2E_GRACE}s (dom0 or Xen hung)"
				e2e_log "$cur: started (timeout ${t}s)"
				e2e_peer_start "$work" "$cur" "$t"
				;;
			"E2E: RESULT "*)
				read -r n status secs detail <<<"${line#E2E: RESULT }"
				if e2e_peer_finish "$work" "$n" "$status" && [ "$E2E_PEER_RC" -ne 0 ] &&
				   [ "$status" = PASS ]; then
					status=FAIL
					detail="host peer ${E2E_PEER_PROG[$n]} failed (exit status $E2E_PEER_RC): $E2E_PEER_LAST"
				fi
				E2E_STATUS[$n]=$status
				E2E_SECS[$n]=$secs
				E2E_DETAIL[$n]=$detail
				E2E_BOOT_RAN+=("$n")
				printf '%s: %s (%ss) %s\n' "$status" "$n" "$secs" "$detail"
				cur=
				deadline=$(( $(e2e_now_s) + E2E_GRACE ))
				why="dom0 did not start the next scenario within ${E2E_GRACE}s"
				;;
			"E2E: TIME "*)
				E2E_TIMES+=("${line#E2E: TIME }")
				e2e_log "time: ${line#E2E: TIME }"
				;;
			"E2E: NOTE "*|"E2E: FATAL "*)
				e2e_log "${line#E2E: }"
				;;
			"E2E: TAIL "*)
				printf '    %s\n' "${line#E2E: TAIL }"
				;;
			"E2E: DONE")
				done=1
				deadline=$(( $(e2e_now_s) + 30 ))
				why="QEMU did not exit within 30 s of dom0 powering off"
				;;
			*"Kernel panic"*|*"(XEN) Panic on CPU"*|*"Dom0 crashed"*|*"(XEN) Assertion"*)
				# Xen runs with noreboot: stop QEMU ourselves, after
				# a moment for the rest of the report.
				why="crash: $line"
				deadline=$(( $(e2e_now_s) + 3 ))
				;;
			esac
		fi
		if [ "$(e2e_now_s)" -ge "$deadline" ]; then
			e2e_console_tail "boot $nr: $why" "$log"
			e2e_peer_kill_all
			kill "$qpid" 2>/dev/null
			sleep 1
			kill -9 "$qpid" 2>/dev/null
			if [ -n "$cur" ]; then
				E2E_STATUS[$cur]=FAIL
				E2E_SECS[$cur]=-
				E2E_DETAIL[$cur]="$why"
				E2E_BOOT_RAN+=("$cur")
				printf 'FAIL: %s %s\n' "$cur" "$why"
			fi
			break
		fi
	done
	exec {fd}<&-
	e2e_peer_kill_all
	wait "$qpid" 2>/dev/null
	rc=$?
	rm -f "$fifo"
	[ -n "$done" ] && [ "$rc" -eq 0 ] && E2E_BOOT_OK=1
	[ -n "$done" ] && [ "$rc" -ne 0 ] && e2e_log "boot $nr: QEMU exited with status $rc"
	E2E_TIMES+=("boot $nr: QEMU wall $(e2e_delta "$start" "$EPOCHREALTIME")s")
	mkdir -p "$work/results-$nr"
	tar -xf "$img" -C "$work/results-$nr" 2>/dev/null
	e2e_log "boot $nr: console log $log, files in $work/results-$nr"
}
