/* SPDX-License-Identifier: GPL-2.0-only */
/* Stub: provided by dm-env.h. */
