/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a pipe name may be, checked in one place for everything that takes
 * one from an administrator (vmbusctl's options, vmbusd's configuration
 * file): the guest finds it NUL-terminated in the offer's user data, after
 * the pipe mode, and it names an entry that may become part of a path.
 */
#ifndef XENVMBUS_UTIL_PIPENAME_H
#define XENVMBUS_UTIL_PIPENAME_H

/* libvmbus's VMBUS_PIPE_NAME_MAX: 120 bytes of user data, less the mode
 * (4) and the NUL (users that see both _Static_assert that they agree). */
#define PIPE_NAME_MAX	115

/*
 * NULL when @name is a pipe name (1 to PIPE_NAME_MAX bytes, no '/'), else
 * what is wrong with it, to end a sentence: "is empty", "is longer than
 * 115 bytes", "holds a '/'".
 */
const char *pipe_name_problem(const char *name);

#endif
