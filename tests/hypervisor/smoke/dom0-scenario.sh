# SPDX-License-Identifier: GPL-2.0-only
# Spliced into the harness' dom0 /init (before its test loop) by
# run-smoke.sh; uses its say/fail helpers.  Checks, on real Xen: attach, map
# and bind of the debug port; save refused while attached; save, restore and
# re-attach after detach; refusal without the group; then a guest running
# guest-syndbg-probe.ko against the echoing dom0 relay.
syndbg_scenario() {
  say "SYNDBG scenario"
  xl create -p /etc/xen/tests/hvmdbg.cfg > /tmp/c1.log 2>&1 || { fail "create -p hvmdbg"; sed 's/^/XQ:   /' /tmp/c1.log; return; }
  d=$(xl domid hvmdbg); say "hvmdbg paused as d$d"
  if dom0-syndbg-probe attach $d > /tmp/p1.log 2>&1; then say "PASS backend attach/map/bind"; else fail "backend attach"; fi
  sed 's/^/XQ:   /' /tmp/p1.log
  if xl save hvmdbg /tmp/hvmdbg.save > /tmp/s1.log 2>&1; then fail "save succeeded while attached"; else say "PASS save refused while attached"; fi
  tail -n 4 /tmp/s1.log | sed 's/^/XQ:   save: /'
  xl dmesg | grep -i -e syndbg -e "failed to save" | tail -n 4 | sed 's/^/XQ:   xen: /'
  dom0-syndbg-probe detach $d 2>&1 | sed 's/^/XQ:   /'
  if xl save hvmdbg /tmp/hvmdbg.save > /tmp/s2.log 2>&1; then say "PASS save after detach"; else fail "save after detach"; tail -n 5 /tmp/s2.log | sed 's/^/XQ:   save: /'; fi
  if xl restore -p /tmp/hvmdbg.save > /tmp/r1.log 2>&1; then say "PASS restore"; else fail "restore"; tail -n 5 /tmp/r1.log | sed 's/^/XQ:   restore: /'; fi
  d=$(xl domid hvmdbg 2>/dev/null) && { dom0-syndbg-probe attach $d > /tmp/p2.log 2>&1 && say "PASS re-attach after restore (d$d)" || fail "re-attach after restore"; sed 's/^/XQ:   /' /tmp/p2.log; dom0-syndbg-probe detach $d >/dev/null; xl destroy hvmdbg; }
  xl create -p /etc/xen/tests/hvmplain.cfg > /tmp/c2.log 2>&1 || fail "create -p hvmplain"
  d=$(xl domid hvmplain)
  if dom0-syndbg-probe attach $d > /tmp/p3.log 2>&1; then fail "attach without syndbg group succeeded"; else say "PASS attach refused without the group"; fi
  sed 's/^/XQ:   /' /tmp/p3.log
  xl destroy hvmplain
  say "SYNDBG scenario done"
}
syndbg_scenario
syndbg_guest() {
  say "SYNDBG guest scenario"
  xl create -p /etc/xen/tests/hvmdbg.cfg > /tmp/c3.log 2>&1 || { fail "create -p hvmdbg"; sed 's/^/XQ:   /' /tmp/c3.log; return; }
  d=$(xl domid hvmdbg)
  dom0-syndbg-probe relay $d 2 240 > /tmp/relay.log 2>&1 &
  rp=$!
  sleep 1; xl unpause hvmdbg; t0=$(up)
  log=/var/log/xen/console/guest-hvmdbg.log; i=0
  while ! grep -q GUEST-OK $log 2>/dev/null; do i=$((i+1)); [ $i -gt 1500 ] && break; sleep 0.2; done
  grep -a SYNDBG-GUEST $log | sed 's/^/XQ:   guest: /'
  for want in "max=0x40000082 vendor=Microsoft VS" "eax=VS#1" "40000082 eax=0x2" \
              "debugging=1 debugregs=1 guestdbg=1 dbgmsrs=1" "post status=0 pending=0" \
              "retrieve status=0 got=31 remaining=0 data=echo:hello-from-guest-hypercall" \
              "retrieve-timeout status=27" "post-fast status=3" "options=0x4" \
              "msr-send status=0x1" "msr-recv status=0x190004 data=echo:hello-from-guest-msr" \
              "long-wait status=27"; do
    grep -aq "SYNDBG-GUEST .*$want" $log && say "PASS guest: $want" || fail "guest: $want"
  done
  grep -q GUEST-OK $log && say "PASS hvmdbg guest reached init after $(echo "$(up) $t0" | awk '{printf "%.2f",$1-$2}')s" || { fail "hvmdbg guest did not reach init"; tail -n 20 $log | sed 's/^/XQ:   console: /'; }
  wait $rp && say "PASS relay echoed both PDUs; no vCPU time while blocked" || fail "relay or vCPU time while blocked"
  sed 's/^/XQ:   /' /tmp/relay.log
  xl destroy hvmdbg 2>/dev/null
  say "SYNDBG guest scenario done"
}
syndbg_guest
