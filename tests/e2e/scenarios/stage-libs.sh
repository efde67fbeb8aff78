#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Every dynamically linked file of the staging directory resolves all its
# shared libraries in dom0 (the initramfs builder copies what ldd finds;
# this catches what it could not). Uses glibc's LD_TRACE_LOADED_OBJECTS, so
# nothing staged is run.
# e2e-timeout: 60
# e2e-default: yes
# e2e-order: 15
. /e2e/lib.sh

n=0 bad=
while read -r f; do
	[ -f "$f" ] && [ ! -L "$f" ] || continue
	# ELF files only: magic 0x7f 'E' 'L' 'F'.
	[ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
	out=$(LD_TRACE_LOADED_OBJECTS=1 /lib64/ld-linux-x86-64.so.2 "$f" 2>&1) || {
		# Static executables and non-x86-64 objects: nothing to resolve.
		echo "$f: not a dynamic x86-64 object: $(echo "$out" | head -n 1)"
		continue
	}
	n=$((n + 1))
	if echo "$out" | grep -q 'not found'; then
		echo "$f:"
		echo "$out" | grep 'not found'
		bad="$bad ${f##*/}"
	fi
done </e2e/stage-files
[ -z "$bad" ] || e2e_fail "unresolved shared libraries in:$bad"
[ $n -gt 0 ] || e2e_skip "no dynamically linked files in the staging directory"
e2e_pass "$n staged ELF file(s) resolve all their libraries"
