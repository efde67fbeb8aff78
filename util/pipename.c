// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a pipe name may be (see pipename.h).
 */
#include <string.h>

#include "pipename.h"

#define STR_(x)	#x
#define STR(x)	STR_(x)

const char *pipe_name_problem(const char *name)
{
	if (!name[0])
		return "is empty";
	if (strlen(name) > PIPE_NAME_MAX)
		return "is longer than " STR(PIPE_NAME_MAX) " bytes";
	if (strchr(name, '/'))
		return "holds a '/'";
	return NULL;
}
