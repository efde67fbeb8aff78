/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Facts about processes read from /proc.
 */
#ifndef XENVMBUS_UTIL_PROC_H
#define XENVMBUS_UTIL_PROC_H

#include <sys/types.h>

/*
 * A process's start time (field 22 of /proc/PID/stat, in clock ticks since
 * boot), 0 when it is gone: with its pid it names one process, not one
 * that came after it with the same pid.
 */
unsigned long long proc_start_time(pid_t pid);

#endif
