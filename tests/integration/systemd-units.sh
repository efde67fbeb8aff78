#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The systemd units as systemd reads them: `systemd-analyze verify` on
# vmbusd.service and an instance of xen-kdrelay@.service, their ExecStart
# pointing at the programs just built, must say nothing (an unknown key, a
# bad value, a missing program are all reported).  Then each unit's command
# line, with --help appended, is accepted by its program.  Speaks TAP.
set -u

: "${top_builddir:?run through make check}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "1..0 # SKIP systemd-analyze not installed (package systemd)"
	exit 0
fi
RUN=$(mktemp -d /tmp/units-test.XXXXXX)
trap 'rm -rf "$RUN"' EXIT
mkdir -p "$RUN/sbin"
ln -s "$(cd "$top_builddir" && pwd)/dom0-backends/vmbusd/vmbusd" "$RUN/sbin/vmbusd"
ln -s "$(cd "$top_builddir" && pwd)/dom0-backends/kdrelay/xen-kdrelay" "$RUN/sbin/xen-kdrelay"
unit() {	# IN OUT: the unit from its template, programs from the build
	sed -e "s|@sbindir[@]|$RUN/sbin|g" -e "s|@sysconfdir[@]|/etc|g" \
		"$top_srcdir/tools/systemd/$1" >"$RUN/$2"
}
unit vmbusd.service.in vmbusd.service
unit xen-kdrelay@.service.in xen-kdrelay@.service
cp "$RUN/xen-kdrelay@.service" "$RUN/xen-kdrelay@web1.service"

for u in vmbusd.service xen-kdrelay@web1.service; do
	out=$(cd "$RUN" && systemd-analyze verify --man=no "./$u" 2>&1)
	rc=$?
	if [ $rc = 0 ] && [ -z "$out" ]; then
		ok "systemd-analyze verify $u: no complaint"
	else
		not_ok "systemd-analyze verify $u (exit $rc)"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
done

# A unit with a typo is caught: the check above can fail.
sed 's/^Type=notify/Typ=notify/' "$RUN/vmbusd.service" >"$RUN/typo.service"
out=$(cd "$RUN" && systemd-analyze verify --man=no ./typo.service 2>&1)
if printf '%s\n' "$out" | grep -q "Unknown key 'Typ'"; then
	ok "a unit with an unknown key is reported"
else
	not_ok "a unit with an unknown key is reported"
fi

# The options the units pass are the programs' own: each command line,
# with --help appended, is accepted (exit 0) rather than refused (exit 2).
cmdline() {	# UNIT: its ExecStart with the environment left empty
	sed -n 's/^ExecStart=//p' "$RUN/$1" | sed -e 's/\$[A-Z_]*//g' -e 's/%i/web1/g'
}
for u in vmbusd.service xen-kdrelay@web1.service; do
	# shellcheck disable=SC2046
	if out=$($(cmdline "$u") --help 2>&1) && printf '%s\n' "$out" | grep -qi usage; then
		ok "$u: the programs take the unit's options ($(cmdline "$u" | sed "s|$RUN/sbin/||"))"
	else
		not_ok "$u: the programs take the unit's options"
		printf '%s\n' "$out" | head -5 | sed 's/^/# /'
	fi
done

echo "1..$n"
[ "$failed" -eq 0 ]
