// SPDX-License-Identifier: GPL-2.0-only
/*
 * Run inside a stub domain: try to map one page of each given domain's
 * memory (privcmd, i.e. a foreign mapping checked by Xen against the
 * caller's target) and one of its grant references (0 and 1, the console
 * and xenstore pages, granted to its backends, never to us). One line per
 * attempt:
 *   stubdom-rights: domain D memory gfn G: mapped|refused (errno)
 *   stubdom-rights: domain D grant R: mapped|refused (errno)
 * and a summary line
 *   stubdom-rights: RESULT PASS|FAIL ...
 * PASS: the target's memory maps (the device model needs that), every other
 * domain's memory is refused with EPERM, and no grant maps.
 *
 *   stubdom-rights TARGET OTHER...
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xenforeignmemory.h>
#include <xengnttab.h>

/* Map gfn 0 of dom: 0 when mapped, else a positive errno. */
static int map_memory(xenforeignmemory_handle *fmem, uint32_t dom)
{
	xen_pfn_t gfn = 0;
	int err = 0;
	void *p;

	p = xenforeignmemory_map(fmem, dom, PROT_READ, 1, &gfn, &err);
	if (!p)
		return errno ? errno : EIO;
	xenforeignmemory_unmap(fmem, p, 1);
	return err < 0 ? -err : err;
}

static int map_grant(xengnttab_handle *xgt, uint32_t dom, uint32_t ref)
{
	void *p;

	errno = 0;
	p = xengnttab_map_grant_ref(xgt, dom, ref, PROT_READ);
	if (!p)
		return errno ? errno : EIO;
	xengnttab_unmap(xgt, p, 1);
	return 0;
}

int main(int argc, char **argv)
{
	xenforeignmemory_handle *fmem = NULL;
	xengnttab_handle *xgt = NULL;
	int bad = 0, rc = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: %s TARGET OTHER...\n", argv[0]);
		return 2;
	}
	fmem = xenforeignmemory_open(NULL, 0);
	if (!fmem) {
		printf("stubdom-rights: opening privcmd failed: %s\n", strerror(errno));
		goto out;
	}
	xgt = xengnttab_open(NULL, 0);
	if (!xgt) {
		printf("stubdom-rights: opening gntdev failed: %s\n", strerror(errno));
		goto out;
	}

	for (int i = 1; i < argc; i++) {
		uint32_t dom = (uint32_t)strtoul(argv[i], NULL, 0);
		int target = i == 1, e;

		e = map_memory(fmem, dom);
		printf("stubdom-rights: domain %u%s memory gfn 0: %s (%s)\n", dom,
		       target ? " (target)" : "", e ? "refused" : "mapped",
		       e ? strerror(e) : "ok");
		if (target ? e != 0 : e != EPERM)
			bad++;
		for (uint32_t ref = 0; ref < 2; ref++) {
			e = map_grant(xgt, dom, ref);
			printf("stubdom-rights: domain %u%s grant %u: %s (%s)\n", dom,
			       target ? " (target)" : "", ref, e ? "refused" : "mapped",
			       e ? strerror(e) : "ok");
			if (!e)
				bad++;
		}
	}
	printf("stubdom-rights: RESULT %s %d unexpected\n", bad ? "FAIL" : "PASS", bad);
	rc = bad ? 1 : 0;
out:
	fflush(stdout);
	if (xgt)
		xengnttab_close(xgt);
	if (fmem)
		xenforeignmemory_close(fmem);
	return rc;
}
