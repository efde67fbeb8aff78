/* SPDX-License-Identifier: GPL-2.0-only */
/* Stub: the real public save record layouts. */
#include <public/hvm/save.h>
