/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A program outside the tree, built against an installed libvmbus with
 * nothing but `pkg-config --cflags --libs libvmbus`: every public header
 * is found under <xenvmbus/...>, and the library links and runs.
 */
#include <stdio.h>
#include <string.h>

#include <xenvmbus/libvmbus.h>
#include <xenvmbus/compat.h>
#include <xenvmbus/gpadl.h>
#include <xenvmbus/msg.h>
#include <xenvmbus/ring.h>
#include <xenvmbus/syndbg-port.h>
#include <xenvmbus/xenstore.h>

int main(void)
{
	uint8_t guid[16];
	char text[37];
	int ret;

	ret = vmbus_guid_parse(VMBUS_PIPE_CLASS_GUID, guid);
	if (ret < 0) {
		fprintf(stderr, "installed-use: parse \"%s\": %s\n",
			VMBUS_PIPE_CLASS_GUID, strerror(-ret));
		return 1;
	}
	vmbus_guid_format(guid, text);
	if (strcmp(text, VMBUS_PIPE_CLASS_GUID) != 0) {
		fprintf(stderr, "installed-use: GUID \"%s\" came back as \"%s\"\n",
			VMBUS_PIPE_CLASS_GUID, text);
		return 1;
	}
	printf("libvmbus: pipe class %s, ring header %zu bytes, bus version %u.%u\n",
	       text, sizeof(struct vmbus_ring_hdr),
	       (unsigned)VMBUS_VERSION_MAJOR(VMBUS_VERSION(5, 0)),
	       (unsigned)VMBUS_VERSION_MINOR(VMBUS_VERSION(5, 0)));
	return 0;
}
