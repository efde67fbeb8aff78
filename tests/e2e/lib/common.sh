# SPDX-License-Identifier: GPL-2.0-only
#
# Functions shared by the host side of the real-Xen test tier (sourced by
# tests/e2e/run and the other lib/*.sh files). Bash only.

e2e_t0=${e2e_t0:-$EPOCHREALTIME}

# Seconds since the harness started, one decimal.
e2e_elapsed() {
	awk -v a="$EPOCHREALTIME" -v b="$e2e_t0" 'BEGIN { printf "%.1f", a - b }'
}

# Seconds between two $EPOCHREALTIME stamps, one decimal.
e2e_delta() {
	awk -v a="$2" -v b="$1" 'BEGIN { printf "%.1f", a - b }'
}

e2e_log() {
	printf 'e2e: [%6ss] %s\n' "$(e2e_elapsed)" "$*" >&2
}

e2e_die() {
	printf 'e2e: error: %s\n' "$*" >&2
	exit 2
}

# Run a command quietly; on failure print what was being done, the exit
# status and the command's own output, then abort.
#   e2e_run "extracting foo.deb" dpkg-deb -x foo.deb dir
e2e_run() {
	local what=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		printf '%s\n' "$out" | tail -n 20 >&2
		e2e_die "$what failed (exit status $rc): $*"
	fi
}

# Short content hash of files and strings, for cache keys.
#   e2e_hash -f file... -s string...
e2e_hash() {
	local mode=f
	{
		for a in "$@"; do
			case $a in
			-f) mode=f ;;
			-s) mode=s ;;
			*) if [ $mode = f ]; then
				printf '%s\n' "$(basename "$a")"; cat "$a"
			   else
				printf '%s\n' "$a"
			   fi ;;
			esac
		done
	} | sha256sum | cut -c1-16
}
