/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * syndbg-plugin.h - between xensimd and the plugin that runs the patched
 * Xen synthetic debugger code (syndbg.c, debugport.c) for simulated domains.
 *
 * The plugin is built from the patched Xen tree when that tree exists (see
 * tests/integration/kdrelay-lib.sh) and loaded by xensimd from
 * $XENSIM_SYNDBG_PLUGIN; without it the debug-port ops fail with
 * EOPNOTSUPP.  Only plain C types cross this boundary, because each side
 * has its own struct domain.
 *
 * Contract: the plugin calls back into the host only through struct
 * sdp_host; vcpu_wake() and timers_changed() may be called while the
 * plugin holds its locks, so the host only records them and acts from its
 * loop (re-executing a woken vCPU's call, re-arming its timer).
 */
#ifndef XENSIM_SYNDBG_PLUGIN_H
#define XENSIM_SYNDBG_PLUGIN_H

#include <stdbool.h>
#include <stdint.h>

#define SDP_VERSION 3

/* Returned by hypercall(): the vCPU is blocked; re-execute after a wake. */
#define SDP_BLOCKED (-1000)

struct sdp_host {
	void (*log)(const char *msg);
	int (*frame_alloc)(uint32_t domid, uint64_t *gfn);
	void (*frame_free)(uint32_t domid, uint64_t gfn);
	/* The domain's memory: fd and its size in frames; -errno if none. */
	int (*memfd)(uint32_t domid, uint64_t *nr_frames);
	int (*evtchn_alloc)(uint32_t domid, uint32_t remote, uint32_t *port);
	void (*evtchn_free)(uint32_t domid, uint32_t port);
	void (*evtchn_notify)(uint32_t domid, uint32_t port);
	void (*vcpu_wake)(uint32_t domid, uint32_t vcpu);
	void (*timers_changed)(void);
};

struct sdp_ops {
	uint32_t version;
	int (*init)(const struct sdp_host *host);
	int (*domain_create)(uint32_t domid, uint64_t viridian_features);
	void (*domain_destroy)(uint32_t domid);
	/*
	 * XEN_DMOP_syndbg_backend's operation op from domain caller; the
	 * backend attached afterwards in *backend.  0 or -errno.
	 */
	int (*dm_syndbg)(uint32_t caller, uint32_t domid, unsigned int op,
			 uint32_t *backend);
	/*
	 * Returns the number of frames, or -errno; gfns in the domain's memfd.
	 * caller is the domain asking (only the attached backend may).
	 */
	int (*acquire)(uint32_t caller, uint32_t domid, unsigned int id,
		       unsigned int frame, unsigned int nr, uint64_t *gfns);
	/* Returns an HV_STATUS value, or SDP_BLOCKED. */
	int (*hypercall)(uint32_t domid, uint32_t vcpu, uint16_t code, bool fast,
			 uint64_t in_gpa, uint64_t out_gpa);
	/* Returns 0, or -EINVAL for a #GP. */
	int (*msr)(uint32_t domid, uint32_t vcpu, bool write, uint32_t idx, uint64_t *val);
	/* The backend notified the domain's port. */
	void (*event)(uint32_t domid, uint32_t port);
	/* Earliest armed timer (CLOCK_MONOTONIC ns), or -1. */
	int64_t (*next_deadline)(void);
	void (*run_timers)(void);
};

#define SDP_ENTRY "xensim_syndbg_plugin"
typedef const struct sdp_ops *(*sdp_entry_fn)(void);

#endif /* XENSIM_SYNDBG_PLUGIN_H */
