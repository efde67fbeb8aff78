/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libstorvsp: the storage VSP of one guest's synthetic SCSI controller
 * (<xenvmbus/storvsc.h>), to be run on a libvmbus server channel.
 *
 *   storvsp_create()   the controller's disks (backing files or block
 *                      devices, read-only or not, at LUN 0-63)
 *   storvsp_attach()   serve an open channel of VSTOR_SCSI_CLASS_GUID
 *                      (from the server's open callback)
 *   storvsp_process()  when the channel's fd or storvsp_fd() is readable:
 *                      completes finished I/O, takes new requests; never
 *                      blocks
 *   storvsp_detach()   the channel is going (close callback): waits for
 *                      the I/O in flight, unmaps every grant, sends nothing
 *   storvsp_destroy()
 *
 * Data travels in DATA_USING_GPA_DIRECT packets whose range names grant
 * references of the guest (the channel's peer domain), decoded by
 * libvmbus (vmbus_chan_recv_pkt, vmbus_gpa_direct_range); the grants of the
 * requests taken in one turn are mapped together and unmapped when the
 * last of those requests completes.  What one guest can make
 * dom0 hold is bounded: requests in flight and grant pages mapped
 * (struct storvsp_limits); past either, the VSP stops reading the ring
 * until a request completes.  Sub-channels (storvsp_set_subs) share
 * the controller's disks, slots and budgets; each request is answered on
 * the channel it came on.
 */
#ifndef STORVSP_H
#define STORVSP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmbus_chan;
struct storvsp;

struct storvsp_disk_cfg {
	const char *path;		/* regular file or block device */
	bool ro;
	unsigned int lun;		/* 0-63 */
};

struct storvsp_limits {
	uint32_t max_inflight;		/* requests; default 128 */
	uint32_t max_map_pages;		/* grant pages mapped; default 8192 */
	uint32_t max_transfer;		/* bytes per request; default 1 MiB */
};

struct storvsp_stats {
	uint16_t version;		/* protocol version agreed, 0 before */
	bool ready;			/* END_INITIALIZATION seen */
	uint32_t inflight, inflight_peak;
	uint32_t pages_mapped, pages_peak;
	uint64_t requests;		/* EXECUTE_SRB received */
	uint64_t check_conditions;	/* answered CHECK CONDITION */
	uint64_t refused;		/* answered with an SRB or VSTOR error */
	uint64_t bad_packets;		/* malformed, not answerable */
	uint64_t flushes, fua_writes, unmaps;
	bool direct[64];		/* LUN opened with O_DIRECT */
};

/*
 * How the VSP reaches guest memory and answers; storvsp_attach maps the
 * grants of the channel's peer through libvmbus (vmbus_chan_map_grefs:
 * counted in the guest's mapping budget) and answers on the channel.
 * Tests and the fuzzer replace them.
 */
struct storvsp_ops {
	void *(*map)(void *arg, uint32_t domid, const uint32_t *grefs,
		     uint32_t count, bool writable);
	void (*unmap)(void *arg, void *addr, uint32_t count);
	int (*send_comp)(void *arg, uint64_t trans_id, const void *data,
			 size_t len);
	void *arg;
};

int storvsp_create(struct storvsp **sp, const struct storvsp_disk_cfg *disks,
		   unsigned int ndisks, const struct storvsp_limits *limits);
void storvsp_destroy(struct storvsp *sp);
/* Serve @chan (one channel at a time); -EBUSY if one is attached. */
int storvsp_attach(struct storvsp *sp, struct vmbus_chan *chan);
/* Forget the channel: waits for I/O in flight, unmaps, answers nothing. */
void storvsp_detach(struct storvsp *sp);
/*
 * Sub-channels: QUERY_PROPERTIES reports up to @max (at most
 * STORVSP_MAX_SUBS) and multi-channel support when @fn is set; the
 * guest's CREATE_SUB_CHANNELS (once per open, on the primary) calls @fn
 * with its count, which offers them (0, or -errno: the guest is told
 * STATUS_UNSUCCESSFUL).  Each opened sub-channel is attached with
 * storvsp_attach_sub and detached, at its close, with storvsp_detach_sub
 * (which waits for the I/O in flight); storvsp_detach forgets them all.
 */
#define STORVSP_MAX_SUBS	16
typedef int storvsp_sub_fn(void *arg, unsigned int count);
void storvsp_set_subs(struct storvsp *sp, unsigned int max,
		      storvsp_sub_fn *fn, void *arg);
int storvsp_attach_sub(struct storvsp *sp, struct vmbus_chan *chan);
void storvsp_detach_sub(struct storvsp *sp, struct vmbus_chan *chan);
/* Readable when backing-store I/O completed. */
int storvsp_fd(const struct storvsp *sp);
/* Complete finished I/O and take new requests.  0 or -errno. */
int storvsp_process(struct storvsp *sp);
void storvsp_get_stats(const struct storvsp *sp, struct storvsp_stats *st);

/*
 * For tests and the fuzzer: serve a channel-less peer @domid through @ops
 * and feed it packets as the ring would deliver them (@thdr: the type
 * header after the 16-byte descriptor, @data: the payload).
 */
int storvsp_attach_ops(struct storvsp *sp, unsigned int domid,
		       const struct storvsp_ops *ops);
int storvsp_packet(struct storvsp *sp, uint16_t type, uint16_t flags,
		   uint64_t trans_id, const void *thdr, uint32_t thdr_len,
		   const void *data, uint32_t len);
/*
 * Packets fed between storvsp_batch(sp, true) and storvsp_batch(sp,
 * false) are mapped together at the end, as one turn of
 * storvsp_process maps what it took from the ring.
 */
void storvsp_batch(struct storvsp *sp, bool on);
/* Wait up to @timeout_ms for I/O in flight and complete it; 0 or -errno. */
int storvsp_drain(struct storvsp *sp, int timeout_ms);

/*
 * Serve guest @domid's bus from this process with one controller on it,
 * run by @sp, until *@stop is set (from a signal handler): the storage
 * test server and the benchmark, where vmbusd is not wanted.  The hooks
 * (any may be NULL) say when the bus is served and the channel opens and
 * closes (@st: the VSP's counters before the detach).  0 or -errno.
 */
struct storvsp_serve_ops {
	void (*serving)(unsigned int domid, void *arg);
	void (*opened)(struct vmbus_chan *chan, void *arg);
	void (*closed)(struct vmbus_chan *chan, const struct storvsp_stats *st,
		       void *arg);
	void *arg;
};
int storvsp_serve(unsigned int domid, struct storvsp *sp,
		  const struct storvsp_serve_ops *ops,
		  volatile sig_atomic_t *stop);

#endif /* STORVSP_H */
