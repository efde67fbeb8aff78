/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GPADL range buffers: encoder and parser of the grant-reference lists that
 * GPADL_HEADER/GPADL_BODY messages and DATA_USING_GPA_DIRECT packets carry
 * (layout in <xenvmbus/gpadl.h>).
 *
 * The parser sees peer-controlled bytes.  It works on a private copy, reads
 * every field once, computes page counts in 64 bits, and refuses anything
 * that is not exactly a sequence of well-formed ranges within the caller's
 * bounds.  A GPADL that names one grant twice is refused too: each name
 * costs the server one mapping, and one granted page named thousands of
 * times would cost thousands (vmbus_gpa_grefs_unique).
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/string.h>
#else
#include <errno.h>
#include <string.h>
#endif

#include "vmbus_ring.h"

static int gpa_range_ok(uint32_t count, uint32_t offset, uint64_t *npages)
{
	if (!count || offset >= VMBUS_GRANT_PAGE_SIZE)
		return -EINVAL;
	*npages = VMBUS_GPA_RANGE_PAGES(offset, count);
	return 0;
}

int64_t vmbus_gpa_encoded_len(const struct vmbus_gpa_desc *ranges,
			      uint32_t nranges)
{
	uint64_t total = 0, npages;
	uint32_t i;

	if (!nranges || !ranges)
		return -EINVAL;
	for (i = 0; i < nranges; i++) {
		if (gpa_range_ok(ranges[i].byte_count, ranges[i].byte_offset,
				 &npages) ||
		    npages != ranges[i].gref_count || !ranges[i].grefs)
			return -EINVAL;
		total += VMBUS_GPA_RANGE_BYTES(npages);
		if (total > INT32_MAX)
			return -E2BIG;
	}
	return (int64_t)total;
}

int64_t vmbus_gpa_encode(void *buf, size_t buflen,
			 const struct vmbus_gpa_desc *ranges, uint32_t nranges)
{
	struct vmbus_gpa_range head;
	int64_t total = vmbus_gpa_encoded_len(ranges, nranges);
	uint8_t *p = buf;
	uint32_t i;
	size_t n;

	if (total < 0)
		return total;
	if ((uint64_t)total > buflen)
		return -ENOBUFS;
	for (i = 0; i < nranges; i++) {
		head.byte_count = ranges[i].byte_count;
		head.byte_offset = ranges[i].byte_offset;
		memcpy(p, &head, sizeof(head));
		p += sizeof(head);
		n = (size_t)ranges[i].gref_count * sizeof(vmbus_gref_t);
		memcpy(p, ranges[i].grefs, n);
		p += n;
	}
	return total;
}

int64_t vmbus_gpa_parse(const void *buf, size_t buflen, uint32_t nranges,
			struct vmbus_gpa_desc *ranges, uint32_t max_ranges,
			vmbus_gref_t *grefs, uint32_t max_grefs,
			uint32_t *ngrefs)
{
	const uint8_t *p = buf;
	struct vmbus_gpa_range head;
	uint64_t npages, used = 0;
	uint32_t i, g = 0;

	if (!nranges)
		return -EINVAL;
	if (nranges > max_ranges)
		return -E2BIG;
	for (i = 0; i < nranges; i++) {
		if (buflen - used < sizeof(head))
			return -EINVAL;
		memcpy(&head, p + used, sizeof(head));
		used += sizeof(head);
		if (gpa_range_ok(head.byte_count, head.byte_offset, &npages))
			return -EINVAL;
		/* Bound by the bytes present first: npages may be huge. */
		if (npages > (buflen - used) / sizeof(vmbus_gref_t))
			return -EINVAL;
		if (npages > max_grefs - g)
			return -E2BIG;
		ranges[i].byte_count = head.byte_count;
		ranges[i].byte_offset = head.byte_offset;
		ranges[i].gref_count = (uint32_t)npages;
		ranges[i].grefs = grefs + g;
		memcpy(grefs + g, p + used, npages * sizeof(vmbus_gref_t));
		used += npages * sizeof(vmbus_gref_t);
		g += (uint32_t)npages;
	}
	*ngrefs = g;
	return (int64_t)used;
}

/* Heapsort in place: the core builds in the kernel too, without qsort. */
static void gref_sift(vmbus_gref_t *a, uint32_t n, uint32_t i)
{
	vmbus_gref_t t;
	uint32_t c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= n || c < i)
			return;
		if (c + 1 < n && a[c + 1] > a[c])
			c++;
		if (a[i] >= a[c])
			return;
		t = a[i];
		a[i] = a[c];
		a[c] = t;
		i = c;
	}
}

int vmbus_gpa_grefs_unique(const vmbus_gref_t *grefs, uint32_t n,
			   vmbus_gref_t *scratch)
{
	vmbus_gref_t t;
	uint32_t i;

	if (n < 2)
		return 0;
	memcpy(scratch, grefs, (size_t)n * sizeof(*scratch));
	for (i = n / 2; i-- > 0;)
		gref_sift(scratch, n, i);
	for (i = n - 1; i > 0; i--) {
		t = scratch[0];
		scratch[0] = scratch[i];
		scratch[i] = t;
		gref_sift(scratch, i, 0);
	}
	for (i = 1; i < n; i++)
		if (scratch[i] == scratch[i - 1])
			return -EEXIST;
	return 0;
}
