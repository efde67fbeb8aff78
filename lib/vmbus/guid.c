/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GUIDs between their text form and the 16 bytes the bus carries.
 *
 * One byte order for everything on the bus (offer class and instance,
 * TL_CONNECT service pairs, pipes, storage, integration services): the one
 * Hyper-V uses and Linux's guid_t has (GUID_INIT, %pUl), where the first
 * three fields are little-endian and the last eight bytes are as written.
 * So "57164f39-9115-4e78-ab55-382f3bd5422d" is 39 4f 16 57 15 91 78 4e
 * ab 55 ..., the bytes hv_utils' id table matches, and the text of an
 * offer's bytes is what the guest shows in /sys/bus/vmbus.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "vmbus_msg.h"

/* Byte i of the text goes to byte guid_order[i] on the wire (and back). */
static const uint8_t guid_order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10,
					11, 12, 13, 14, 15 };

int vmbus_guid_parse(const char *s, uint8_t guid[16])
{
	unsigned int i = 0, v;
	const char *p;
	uint8_t b[16];

	for (p = s; *p && i < 32; p++) {
		if (*p == '-' && (p - s == 8 || p - s == 13 || p - s == 18 ||
				  p - s == 23))
			continue;
		if (*p >= '0' && *p <= '9')
			v = (unsigned int)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			v = (unsigned int)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			v = (unsigned int)(*p - 'A' + 10);
		else
			return -EINVAL;
		if (i % 2 == 0)
			b[i / 2] = (uint8_t)(v << 4);
		else
			b[i / 2] |= (uint8_t)v;
		i++;
	}
	if (i != 32 || *p || p - s != 36)
		return -EINVAL;
	for (i = 0; i < 16; i++)
		guid[guid_order[i]] = b[i];
	return 0;
}

void vmbus_guid_format(const uint8_t guid[16], char out[37])
{
	uint8_t b[16];
	unsigned int i;

	for (i = 0; i < 16; i++)
		b[i] = guid[guid_order[i]];
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}
