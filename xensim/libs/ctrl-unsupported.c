// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The rest of libxenctrl.so.4.17's interface that Debian's libxenguest and
 * Xen tools bind at load time (libxenguest is linked -z now: one missing
 * symbol and xenstore-control does not start).
 *
 * The simulated hypervisor has no domain builder, no paging, no save and
 * restore: those calls fail as Xen fails a hypercall it does not implement,
 * -1 (or the function's failure value) with errno ENOSYS.  None of them
 * pretends to succeed.  The plain helpers that need no hypervisor (exact
 * reads and writes, hypercall buffers, error reporting) work as in Xen.
 */
#include "config.h"

#define XC_WANT_COMPAT_MAP_FOREIGN_API
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenguest.h>
#include <xen/sys/privcmd.h>

#define PUBLIC __attribute__((visibility("default")))
#define XC_PAGE_BYTES 4096

/* ---- helpers from Xen's xc_private.h (not in the installed headers) ---- */

struct xc_mmu;

PUBLIC int read_exact(int fd, void *data, size_t size);
PUBLIC int write_exact(int fd, const void *data, size_t size);
PUBLIC int writev_exact(int fd, const struct iovec *iov, int iovcnt);
PUBLIC void discard_file_cache(xc_interface *xch, int fd, int flush);
PUBLIC int xc__hypercall_bounce_pre(xc_interface *xch, xc_hypercall_buffer_t *b);
PUBLIC void xc__hypercall_bounce_post(xc_interface *xch, xc_hypercall_buffer_t *b);
PUBLIC struct xc_mmu *xc_alloc_mmu_updates(xc_interface *xch, unsigned int subject);
PUBLIC int xc_add_mmu_update(xc_interface *xch, struct xc_mmu *mmu,
			     unsigned long long ptr, unsigned long long val);
PUBLIC int xc_flush_mmu_updates(xc_interface *xch, struct xc_mmu *mmu);
PUBLIC int xc_get_pfn_type_batch(xc_interface *xch, uint32_t dom, unsigned int num,
				 xen_pfn_t *arr);
PUBLIC void xc_reportv(xc_interface *xch, xentoollog_logger *lg, xentoollog_level level,
		       int code, const char *fmt, va_list args);
PUBLIC void xc_report(xc_interface *xch, xentoollog_logger *lg, xentoollog_level level,
		      int code, const char *fmt, ...);
PUBLIC void xc_report_error(xc_interface *xch, int code, const char *fmt, ...);
PUBLIC void xc_set_progress_prefix(xc_interface *xch, const char *doing);
PUBLIC void xc_report_progress_single(xc_interface *xch, const char *doing);
PUBLIC void xc_report_progress_step(xc_interface *xch, unsigned long done,
				    unsigned long total);

PUBLIC int read_exact(int fd, void *data, size_t size)
{
	size_t off = 0;
	ssize_t n;

	while (off < size) {
		n = read(fd, (char *)data + off, size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = 0;	/* end of file, as Xen reports it */
		if (n <= 0)
			return -1;
		off += n;
	}
	return 0;
}

PUBLIC int write_exact(int fd, const void *data, size_t size)
{
	size_t off = 0;
	ssize_t n;

	while (off < size) {
		n = write(fd, (const char *)data + off, size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += n;
	}
	return 0;
}

PUBLIC int writev_exact(int fd, const struct iovec *iov, int iovcnt)
{
	for (int i = 0; i < iovcnt; i++)
		if (write_exact(fd, iov[i].iov_base, iov[i].iov_len) < 0)
			return -1;
	return 0;
}

PUBLIC void discard_file_cache(xc_interface *xch, int fd, int flush)
{
	(void)xch;
	if (flush)
		fdatasync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
}

/*
 * Hypercall buffers are plain page-aligned memory here: no hypercall reads
 * them.  A page in front of each buffer records its length for the free.
 */
static void *hbuf_alloc(xc_hypercall_buffer_t *b, size_t pages)
{
	uint8_t *p;

	if (pages == 0 || pages > (SIZE_MAX / XC_PAGE_BYTES) - 1) {
		errno = EINVAL;
		return NULL;
	}
	p = mmap(NULL, (pages + 1) * XC_PAGE_BYTES, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	memcpy(p, &pages, sizeof(pages));
	b->hbuf = p + XC_PAGE_BYTES;
	return b->hbuf;
}

static void hbuf_free(xc_hypercall_buffer_t *b)
{
	uint8_t *p = b->hbuf;
	size_t pages;

	if (!p)
		return;
	p -= XC_PAGE_BYTES;
	memcpy(&pages, p, sizeof(pages));
	munmap(p, (pages + 1) * XC_PAGE_BYTES);
	b->hbuf = NULL;
}

PUBLIC void *xc__hypercall_buffer_alloc_pages(xc_interface *xch, xc_hypercall_buffer_t *b,
					      int nr_pages)
{
	(void)xch;
	if (nr_pages <= 0) {
		errno = EINVAL;
		return NULL;
	}
	return hbuf_alloc(b, (size_t)nr_pages);
}

PUBLIC void xc__hypercall_buffer_free_pages(xc_interface *xch, xc_hypercall_buffer_t *b,
					    int nr_pages)
{
	(void)xch; (void)nr_pages;
	hbuf_free(b);
}

PUBLIC void *xc__hypercall_buffer_alloc(xc_interface *xch, xc_hypercall_buffer_t *b,
					size_t size)
{
	(void)xch;
	return hbuf_alloc(b, (size + XC_PAGE_BYTES - 1) / XC_PAGE_BYTES);
}

PUBLIC void xc__hypercall_buffer_free(xc_interface *xch, xc_hypercall_buffer_t *b)
{
	(void)xch;
	hbuf_free(b);
}

/* Bounce directions, as in Xen's xc_private.h. */
#define BOUNCE_IN	1
#define BOUNCE_OUT	2
#define BOUNCE_BOTH	3

PUBLIC int xc__hypercall_bounce_pre(xc_interface *xch, xc_hypercall_buffer_t *b)
{
	if (b->ubuf == (void *)-1 || b->dir == 0) {
		errno = EINVAL;
		return -1;
	}
	if (b->ubuf == NULL || b->sz == 0)
		return 0;
	if (!xc__hypercall_buffer_alloc(xch, b, b->sz))
		return -1;
	if (b->dir == BOUNCE_IN || b->dir == BOUNCE_BOTH)
		memcpy(b->hbuf, b->ubuf, b->sz);
	return 0;
}

PUBLIC void xc__hypercall_bounce_post(xc_interface *xch, xc_hypercall_buffer_t *b)
{
	if (b->hbuf == NULL)
		return;
	if (b->ubuf && b->ubuf != (void *)-1 &&
	    (b->dir == BOUNCE_OUT || b->dir == BOUNCE_BOTH))
		memcpy(b->ubuf, b->hbuf, b->sz);
	xc__hypercall_buffer_free(xch, b);
}

/* Reports go to stderr: the simulated handle keeps no logger. */
PUBLIC void xc_reportv(xc_interface *xch, xentoollog_logger *lg, xentoollog_level level,
		       int code, const char *fmt, va_list args)
{
	(void)xch; (void)lg; (void)code;
	if (level < XTL_WARN)
		return;
	fputs("xc: ", stderr);
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
}

PUBLIC void xc_report(xc_interface *xch, xentoollog_logger *lg, xentoollog_level level,
		      int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xc_reportv(xch, lg, level, code, fmt, ap);
	va_end(ap);
}

PUBLIC void xc_report_error(xc_interface *xch, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xc_reportv(xch, NULL, XTL_ERROR, code, fmt, ap);
	va_end(ap);
}

PUBLIC void xc_set_progress_prefix(xc_interface *xch, const char *doing)
{
	(void)xch; (void)doing;
}

PUBLIC void xc_report_progress_single(xc_interface *xch, const char *doing)
{
	(void)xch; (void)doing;
}

PUBLIC void xc_report_progress_step(xc_interface *xch, unsigned long done,
				    unsigned long total)
{
	(void)xch; (void)done; (void)total;
}

PUBLIC const char *xc_strerror(xc_interface *xch, int errcode)
{
	(void)xch;
	return strerror(errcode);
}

/* XENVER_version is the one answer the simulated host has: it is Xen 4.17. */
PUBLIC int xc_version(xc_interface *xch, int cmd, void *arg)
{
	(void)xch; (void)arg;
	if (cmd == XENVER_version)
		return (4 << 16) | 17;
	errno = ENOSYS;
	return -1;
}

/* ---- hypercalls the simulated hypervisor does not implement: ENOSYS ---- */

PUBLIC void *xc_map_foreign_ranges(xc_interface *xch, uint32_t dom, size_t size, int prot,
				   size_t chunksize, privcmd_mmap_entry_t entries[],
				   int nentries);

#define NOSYS(ret, fail, name, ...) \
	PUBLIC ret name(__VA_ARGS__) { errno = ENOSYS; return fail; }

NOSYS(int, -1, xc_domctl, xc_interface *x, struct xen_domctl *d)
NOSYS(int, -1, xc_sysctl, xc_interface *x, struct xen_sysctl *s)
NOSYS(long, -1, xc_memory_op, xc_interface *x, unsigned int cmd, void *arg, size_t len)
NOSYS(int, -1, xc_mmuext_op, xc_interface *x, struct mmuext_op *op, unsigned int nr,
      uint32_t dom)
NOSYS(int, -1, xc_gnttab_op, xc_interface *x, int cmd, void *op, int op_size, int count)
NOSYS(struct xc_mmu *, NULL, xc_alloc_mmu_updates, xc_interface *x, unsigned int subject)
NOSYS(int, -1, xc_add_mmu_update, xc_interface *x, struct xc_mmu *mmu,
      unsigned long long ptr, unsigned long long val)
NOSYS(int, -1, xc_flush_mmu_updates, xc_interface *x, struct xc_mmu *mmu)
NOSYS(int, -1, xc_get_pfn_type_batch, xc_interface *x, uint32_t dom, unsigned int num,
      xen_pfn_t *arr)
NOSYS(int, -1, xc_clear_domain_pages, xc_interface *x, uint32_t domid,
      unsigned long dst_pfn, int num)
NOSYS(int, -1, xc_domain_add_to_physmap, xc_interface *x, uint32_t domid,
      unsigned int space, unsigned long idx, xen_pfn_t gpfn)
NOSYS(int, -1, xc_domain_cacheflush, xc_interface *x, uint32_t domid,
      xen_pfn_t start_pfn, xen_pfn_t nr_pfns)
NOSYS(int, -1, xc_domain_claim_pages, xc_interface *x, uint32_t domid,
      unsigned long nr_pages)
NOSYS(int, -1, xc_domain_get_guest_width, xc_interface *x, uint32_t domid,
      unsigned int *guest_width)
NOSYS(int, -1, xc_domain_get_tsc_info, xc_interface *x, uint32_t domid,
      uint32_t *tsc_mode, uint64_t *elapsed_nsec, uint32_t *gtsc_khz,
      uint32_t *incarnation)
NOSYS(int, -1, xc_domain_set_tsc_info, xc_interface *x, uint32_t domid,
      uint32_t tsc_mode, uint64_t elapsed_nsec, uint32_t gtsc_khz, uint32_t incarnation)
NOSYS(int, -1, xc_domain_hvm_getcontext, xc_interface *x, uint32_t domid,
      uint8_t *ctxt_buf, uint32_t size)
NOSYS(int, -1, xc_domain_hvm_setcontext, xc_interface *x, uint32_t domid,
      uint8_t *hvm_ctxt, uint32_t size)
NOSYS(int, -1, xc_domain_memory_exchange_pages, xc_interface *x, uint32_t domid,
      unsigned long nr_in_extents, unsigned int in_order, xen_pfn_t *in_extents,
      unsigned long nr_out_extents, unsigned int out_order, xen_pfn_t *out_extents)
NOSYS(int, -1, xc_domain_nr_gpfns, xc_interface *x, uint32_t domid, xen_pfn_t *gpfns)
NOSYS(int, -1, xc_domain_populate_physmap, xc_interface *x, uint32_t domid,
      unsigned long nr_extents, unsigned int extent_order, unsigned int mem_flags,
      xen_pfn_t *extent_start)
NOSYS(int, -1, xc_domain_populate_physmap_exact, xc_interface *x, uint32_t domid,
      unsigned long nr_extents, unsigned int extent_order, unsigned int mem_flags,
      xen_pfn_t *extent_start)
NOSYS(int, -1, xc_domain_set_pod_target, xc_interface *x, uint32_t domid,
      uint64_t target_pages, uint64_t *tot_pages, uint64_t *pod_cache_pages,
      uint64_t *pod_entries)
NOSYS(int, -1, xc_domain_subscribe_for_suspend, xc_interface *x, uint32_t domid,
      evtchn_port_t port)
NOSYS(grant_entry_v1_t *, NULL, xc_gnttab_map_table_v1, xc_interface *x, uint32_t domid,
      int *gnt_num)
NOSYS(grant_entry_v2_t *, NULL, xc_gnttab_map_table_v2, xc_interface *x, uint32_t domid,
      int *gnt_num)
NOSYS(int, -1, xc_hvm_param_get, xc_interface *x, uint32_t dom, uint32_t param,
      uint64_t *value)
NOSYS(int, -1, xc_hvm_param_set, xc_interface *x, uint32_t dom, uint32_t param,
      uint64_t value)
NOSYS(long long, -1, xc_logdirty_control, xc_interface *x, uint32_t domid,
      unsigned int sop, xc_hypercall_buffer_t *dirty_bitmap, unsigned long pages,
      unsigned int mode, xc_shadow_op_stats_t *stats)
NOSYS(int, -1, xc_machphys_mfn_list, xc_interface *x, unsigned long max_extents,
      xen_pfn_t *extent_start)
/* Its failure value is frame 0. */
NOSYS(unsigned long, 0, xc_make_page_below_4G, xc_interface *x, uint32_t domid,
      unsigned long mfn)
NOSYS(int, -1, xc_maximum_ram_page, xc_interface *x, unsigned long *max_mfn)
NOSYS(int, -1, xc_shadow_control, xc_interface *x, uint32_t domid, unsigned int sop,
      unsigned int *mb, unsigned int mode)
NOSYS(int, -1, xc_vcpu_getcontext, xc_interface *x, uint32_t domid, uint32_t vcpu,
      vcpu_guest_context_any_t *ctxt)
NOSYS(int, -1, xc_vcpu_setcontext, xc_interface *x, uint32_t domid, uint32_t vcpu,
      vcpu_guest_context_any_t *ctxt)
NOSYS(int, -1, xc_vcpu_getinfo, xc_interface *x, uint32_t domid, uint32_t vcpu,
      xc_vcpuinfo_t *info)
/* Foreign mappings go through the simulated libxenforeignmemory. */
NOSYS(void *, NULL, xc_map_foreign_range, xc_interface *x, uint32_t dom, int size,
      int prot, unsigned long mfn)
NOSYS(void *, NULL, xc_map_foreign_pages, xc_interface *x, uint32_t dom, int prot,
      const xen_pfn_t *arr, int num)
NOSYS(void *, NULL, xc_map_foreign_ranges, xc_interface *x, uint32_t dom,
      size_t size, int prot, size_t chunksize, privcmd_mmap_entry_t entries[],
      int nentries)
