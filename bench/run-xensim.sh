#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Run xenbench between two simulated domains and print its table and JSON.
# Usage: bench/run-xensim.sh [ROUNDS]   (from the build tree, as root)
set -eu
top_builddir=${top_builddir:-$(pwd)}
exec "$(dirname "$0")/../tools/xensim-demo" "${1:-20000}"
