/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The operations of fuzz-bus (the stateful target), shared with the seed
 * generator.  Each is one opcode byte (taken modulo OP_COUNT), then a
 * byte whose bit 0 picks the guest (domain 1 or 2), then its arguments
 * (see run_op() in fuzz-bus.c).
 *
 * While the client waits for an answer, the server the fuzzer plays takes
 * one more input byte per message it receives: below 0xd0 it answers as a
 * server should, 0xd0..0xdf it answers with a field changed (more bytes),
 * 0xe0..0xef it does not answer, 0xf0..0xff it answers and sends a hostile
 * message too (more bytes).  A server that leaves the client waiting with
 * nothing to read dies (its ring broken, its state Closed).  The client's
 * waits never sleep: libvmbus reads the time and polls through fake-xen's
 * clock (fx_now_ms, fx_poll), on which a wait for nothing passes at once.
 */
#ifndef FUZZ_BUS_H
#define FUZZ_BUS_H

enum fuzz_bus_op {
	OP_CONNECT,		/* grant the control rings, publish, Initialised */
	OP_FE_STATE,		/* write the frontend's state */
	OP_XS,			/* write or remove a frontend node */
	OP_CONTACT,		/* INITIATE_CONTACT */
	OP_REQOFFERS,		/* REQUESTOFFERS */
	OP_CLOSE,		/* CLOSECHANNEL */
	OP_TEARDOWN,		/* GPADL_TEARDOWN */
	OP_RELEASED,		/* RELID_RELEASED */
	OP_UNLOAD,		/* UNLOAD */
	OP_PEER_RESULT,		/* PEER_OPEN_RESULT */
	OP_GPADL,		/* grant pages, GPADL_HEADER + BODY */
	OP_OPEN,		/* ring GPADL + OPENCHANNEL */
	OP_RAW_MSG,		/* any bytes as a control message */
	OP_RAW_PKT,		/* any packet type on the control ring */
	OP_CHAN_PKT,		/* a packet on a channel ring */
	OP_CORRUPT,		/* the guest rewrites a ring header */
	OP_SIGNAL,		/* signal the control / a channel port */
	OP_DRAIN,		/* the guest reads what dom0 sent */
	OP_SVC_RECV,		/* dom0's service receives packets */
	OP_SVC_COMPLETE,	/* ... completes the one it held */
	OP_SVC_MAP,		/* ... maps a data GPADL */
	OP_SVC_TOUCH,		/* ... uses the memory of a mapping */
	OP_SVC_UNMAP,		/* ... lets go of a mapping */
	OP_SVC_SEND,		/* ... sends on a channel */
	OP_RESCIND,		/* dom0 rescinds an offer */
	OP_OFFER_PEER,		/* dom0 offers a channel between the guests */
	OP_SVC_REFUSE,		/* the service refuses / accepts opens */
	OP_SRV_RESTART,		/* the server goes (and comes back) */
	OP_KILL,		/* the guest dies */
	OP_TIME,		/* time passes: the pumps run (bit 7: a second
				 * passes, every armed timer goes off) */
	/* A libvmbus client in domain 3, against a server the fuzzer plays. */
	OP_CLI_BUS_OPEN,	/* vmbus_bus_open */
	OP_CLI_CHAN_OPEN,	/* vmbus_chan_open */
	OP_CLI_CHAN_CLOSE,	/* vmbus_chan_close */
	OP_CLI_GPADL,		/* vmbus_gpadl_create / _destroy */
	OP_CLI_XFERSET,		/* vmbus_xferset_add / _remove */
	OP_CLI_SEND,		/* the client sends on a channel */
	OP_CLI_RECV,		/* the client receives on a channel */
	OP_CLI_SRV_PKT,		/* the server writes a packet on a channel */
	OP_CLI_SRV_MSG,		/* the server sends a control message */
	OP_CLI_PROCESS,		/* vmbus_bus_process and the offer queries */
	OP_CLI_BUS_CLOSE,	/* vmbus_bus_close */
	OP_CLI_SRV_DIE,		/* the server goes away */
	OP_PIPE_SVC,		/* the service behind a guest's pipe acts */
	OP_COUNT
};

#endif /* FUZZ_BUS_H */
