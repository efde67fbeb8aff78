# SPDX-License-Identifier: GPL-2.0-only
#
# The shape of the tree, over the include graph and the call graph of the
# objects just built: no new circle of files, no arrow upwards.
dist_noinst_SCRIPTS += tests/structure/check-structure.py
if HAVE_PYTHON3
TESTS += tests/structure/check-structure.py
endif
EXTRA_DIST += tests/structure/layers tests/structure/allowed-circles
