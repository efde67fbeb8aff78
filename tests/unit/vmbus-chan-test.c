// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of libvmbus's connection and channel layers (lib/libvmbus/conn.c,
 * chan.c) without Xen:
 * the event channel library is replaced by the stubs below, the rings are
 * malloc'd memory.  What a peer can make it do: acknowledge events for
 * ever, fill the control ring, send packets too large to be messages; and
 * what a channel answers while the library re-opens it.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "private.h"

/* --- a stub event channel device: always readable, always pending --- */

static int stub_fd = -1;
static unsigned int stub_pending_calls, stub_unmasks;

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger,
				 unsigned int flags)
{
	(void)logger;
	(void)flags;
	return (xenevtchn_handle *)&stub_fd;
}

int xenevtchn_close(xenevtchn_handle *xce)
{
	(void)xce;
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
	(void)xce;
	return stub_fd;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	(void)xce;
	(void)port;
	return 0;
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	(void)xce;
	(void)port;
	return 0;
}

/* A peer that notifies in a loop: there is always one more event. */
xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	(void)xce;
	if (++stub_pending_calls > 10000)
		return -1;
	return 5;
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	(void)xce;
	(void)port;
	stub_unmasks++;
	return 0;
}

START_TEST(test_ack_is_bounded)
{
	struct vmbus_evt e;
	int n;

	stub_fd = eventfd(1, EFD_CLOEXEC);	/* readable, never read */
	ck_assert_int_ge(stub_fd, 0);
	vmbus_evt_init(&e);
	ck_assert_int_eq(vmbus_evt_open(&e), 0);
	e.local = 5;
	stub_pending_calls = stub_unmasks = 0;
	n = vmbus_evt_ack(&e);
	/* One handle, one port: a few passes at most, then the caller's turn. */
	ck_assert_int_ge(n, 1);
	ck_assert_int_le(n, 4);
	ck_assert_uint_eq(stub_unmasks, (unsigned int)n);
	vmbus_evt_close(&e);
	close(stub_fd);
}
END_TEST

/* --- the control-message queue --- */

struct rings {
	void *a, *b;
	size_t size;
	struct vmbus_ring tx, rx;	/* tx writes a, rx reads a */
	unsigned int signals;
};

static void count_signal(void *arg)
{
	++*(unsigned int *)arg;
}

static void rings_setup(struct rings *r, uint32_t data)
{
	memset(r, 0, sizeof(*r));
	r->size = VMBUS_RING_HDR_SIZE + data;
	r->a = malloc(r->size);
	r->b = malloc(r->size);
	ck_assert_ptr_nonnull(r->a);
	ck_assert_ptr_nonnull(r->b);
	ck_assert_int_eq(vmbus_ring_hdr_init(r->a, r->size,
					     VMBUS_RING_FEAT_PENDING_SEND_SZ), 0);
	ck_assert_int_eq(vmbus_ring_hdr_init(r->b, r->size,
					     VMBUS_RING_FEAT_PENDING_SEND_SZ), 0);
	ck_assert_int_eq(vmbus_ring_init(&r->tx, r->a, r->size, r->b, r->size,
					 count_signal, &r->signals), 0);
	ck_assert_int_eq(vmbus_ring_init(&r->rx, r->b, r->size, r->a, r->size,
					 count_signal, &r->signals), 0);
}

static void rings_teardown(struct rings *r)
{
	free(r->a);
	free(r->b);
}

static void rescind(struct vmbus_msg *m, uint32_t relid)
{
	vmbus_msg_init(m, VMBUS_MSG_RESCIND_CHANNELOFFER);
	m->u.relid.child_relid = relid;
}

START_TEST(test_ctlq_keeps_order)
{
	struct rings r;
	struct vmbus_ctlq q;
	struct vmbus_msg m;
	uint32_t i, next = 1, sent = 200;
	int rc;

	rings_setup(&r, 1024);
	vmbus_ctlq_init(&q);
	for (i = 1; i <= sent; i++) {
		rescind(&m, i);
		ck_assert_int_eq(vmbus_ctlq_send(&r.tx, &q, &m, 1000), 0);
	}
	/* A 1 KiB ring holds a few: the rest waits, in order. */
	ck_assert_uint_gt(q.len, 150);
	ck_assert_uint_ne(((struct vmbus_ring_hdr *)r.a)->pending_send_sz, 0);
	while (next <= sent) {
		while ((rc = vmbus_ctl_recv(&r.rx, &m, VMBUS_MSG_DIR_S2C)) == 1) {
			ck_assert_uint_eq(m.u.hdr.msgtype,
					  VMBUS_MSG_RESCIND_CHANNELOFFER);
			ck_assert_uint_eq(m.u.relid.child_relid, next);
			next++;
		}
		ck_assert_int_eq(rc, 0);
		ck_assert_int_eq(vmbus_ctlq_flush(&r.tx, &q), 0);
	}
	ck_assert_uint_eq(q.len, 0);
	rings_teardown(&r);
}
END_TEST

START_TEST(test_ctlq_is_bounded)
{
	struct rings r;
	struct vmbus_ctlq q;
	struct vmbus_msg m;
	uint32_t i;

	rings_setup(&r, 1024);
	vmbus_ctlq_init(&q);
	for (i = 1; i <= 100; i++) {
		rescind(&m, i);
		if (vmbus_ctlq_send(&r.tx, &q, &m, 10) < 0)
			break;
	}
	ck_assert_uint_eq(q.len, 10);
	rescind(&m, 999);
	ck_assert_int_eq(vmbus_ctlq_send(&r.tx, &q, &m, 10), -ENOBUFS);
	vmbus_ctlq_clear(&q);
	ck_assert_uint_eq(q.len, 0);
	rings_teardown(&r);
}
END_TEST

/* An oversized packet is dropped and counted; the ring goes on. */
START_TEST(test_ctl_recv_skips_oversized)
{
	struct rings r;
	struct vmbus_msg m;
	uint8_t big[2048] = { 0 };
	unsigned int dropped = 0, oversized = 0, budget = 10;

	rings_setup(&r, 8192);
	ck_assert_int_eq(vmbus_ring_send_inband(&r.tx, big, sizeof(big), 0, 0), 0);
	rescind(&m, 7);
	ck_assert_int_eq(vmbus_ctl_send(&r.tx, &m), 0);
	ck_assert_int_eq(vmbus_ctl_recv_budget(&r.rx, &m, VMBUS_MSG_DIR_S2C,
					       &dropped, &oversized, &budget), 1);
	ck_assert_uint_eq(oversized, 1);
	ck_assert_uint_eq(dropped, 0);
	ck_assert_uint_eq(m.u.relid.child_relid, 7);
	ck_assert_int_eq(r.rx.error, 0);
	rings_teardown(&r);
}
END_TEST

/* Every packet taken counts against the budget, dropped ones too. */
START_TEST(test_ctl_recv_budget)
{
	struct rings r;
	struct vmbus_msg m;
	uint8_t junk[16] = { 0xff, 0xff, 0xff, 0xff };
	unsigned int dropped = 0, budget = 5, i;

	rings_setup(&r, 8192);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(vmbus_ring_send_inband(&r.tx, junk, sizeof(junk), 0, 0), 0);
	ck_assert_int_eq(vmbus_ctl_recv_budget(&r.rx, &m, VMBUS_MSG_DIR_S2C,
					       &dropped, NULL, &budget), 0);
	ck_assert_uint_eq(budget, 0);
	ck_assert_uint_eq(dropped, 5);
	rings_teardown(&r);
}
END_TEST

/* --- what a channel answers while its bus reconnects --- */

/*
 * A channel the library re-opens (CHAN_REOPENING) is not closed: its calls
 * say "later" (-EAGAIN) and its status "in progress"; once it is open
 * again it works, and once it gave up (CHAN_FAILED) it fails for good.
 */
START_TEST(test_reopening_channel_answers)
{
	struct vmbus_chan *c = vmbus_chan_alloc();
	struct vmbus_packet pkt;
	struct rings r;
	uint8_t buf[64];

	ck_assert_ptr_nonnull(c);
	rings_setup(&r, 4096);
	c->ring = r.tx;
	c->state = CHAN_REOPENING;
	ck_assert_int_eq(vmbus_chan_status(c), -EINPROGRESS);
	ck_assert(!vmbus_chan_is_closed(c));
	ck_assert_int_eq(vmbus_chan_send(c, "x", 1, 1, 0), -EAGAIN);
	ck_assert_int_eq(vmbus_chan_recv(c, &pkt, buf, sizeof(buf)), -EAGAIN);
	ck_assert_int_eq(vmbus_chan_tx_space(c), -EAGAIN);
	ck_assert_uint_eq(r.signals, 0);

	/* Open again: a packet goes through the ring. */
	c->state = CHAN_OPEN;
	c->reopens = 1;
	ck_assert_int_eq(vmbus_chan_status(c), 0);
	ck_assert_int_eq(vmbus_chan_send(c, "x", 1, 1, 0), 0);
	ck_assert_uint_eq(vmbus_chan_reopens(c), 1);

	/* Gave up: -ENOTCONN everywhere, as a channel never re-opened. */
	c->state = CHAN_FAILED;
	ck_assert_int_eq(vmbus_chan_status(c), -ENOTCONN);
	ck_assert(vmbus_chan_is_closed(c));
	ck_assert_int_eq(vmbus_chan_send(c, "x", 1, 1, 0), -ENOTCONN);
	ck_assert_int_eq(vmbus_chan_recv(c, &pkt, buf, sizeof(buf)), -ENOTCONN);

	/* Rescinded while re-opening: ended, whatever the state says. */
	c->state = CHAN_REOPENING;
	c->rescinded = true;
	ck_assert_int_eq(vmbus_chan_status(c), -ENOTCONN);
	ck_assert(vmbus_chan_is_closed(c));
	vmbus_chan_free(c);
	rings_teardown(&r);
}
END_TEST

/* --- dispatch through the table a connection is handed --- */

struct owner {
	unsigned int rescinds, unexpected, handled;
	bool done;			/* set by a generic wake-up row */
};

static int on_rescind(void *arg, const struct vmbus_msg *m)
{
	struct owner *o = arg;

	ck_assert_uint_eq(m->u.relid.child_relid, 7);
	o->rescinds++;
	return 0;
}

#define ROW_REFUSED	0x1

static bool owner_admit(void *arg, const struct vmbus_conn_row *row)
{
	(void)arg;
	return !(row->flags & ROW_REFUSED);
}

static void owner_unexpected(void *arg, uint32_t type)
{
	(void)type;
	((struct owner *)arg)->unexpected++;
}

static void owner_done(void *arg, const struct vmbus_conn_row *row,
		       const struct vmbus_msg *m, int rc)
{
	(void)row;
	(void)m;
	ck_assert_int_eq(rc, 0);
	((struct owner *)arg)->handled++;
}

START_TEST(test_conn_dispatch_rows)
{
	static const struct vmbus_conn_row rows[VMBUS_MSG_COUNT] = {
		[VMBUS_MSG_RESCIND_CHANNELOFFER] = { .fn = on_rescind },
		[VMBUS_MSG_ALLOFFERS_DELIVERED] =
			VMBUS_CONN_WAKE(struct owner, done),
		[VMBUS_MSG_OPENCHANNEL_RESULT] = { on_rescind, 0, ROW_REFUSED },
	};
	static const struct vmbus_conn_ops ops = {
		.rows = rows,
		.dir = VMBUS_MSG_DIR_S2C,
		.txq_max = 4,
		.admit = owner_admit,
		.unexpected = owner_unexpected,
		.done = owner_done,
	};
	struct owner o = { 0 };
	struct vmbus_conn cn;
	struct vmbus_msg m;
	struct rings r;

	rings_setup(&r, 16384);
	vmbus_conn_init(&cn, &ops, &o, -1);
	ck_assert_int_eq(vmbus_ring_init(&cn.ring, r.b, r.size, r.a, r.size,
					 count_signal, &r.signals), 0);
	rescind(&m, 7);
	ck_assert_int_eq(vmbus_ctl_send(&r.tx, &m), 0);
	vmbus_msg_init(&m, VMBUS_MSG_ALLOFFERS_DELIVERED);
	ck_assert_int_eq(vmbus_ctl_send(&r.tx, &m), 0);
	/* No row for it, and a row its owner does not admit now. */
	vmbus_msg_init(&m, VMBUS_MSG_UNLOAD_RESPONSE);
	ck_assert_int_eq(vmbus_ctl_send(&r.tx, &m), 0);
	vmbus_msg_init(&m, VMBUS_MSG_OPENCHANNEL_RESULT);
	m.u.open_result.child_relid = 7;
	ck_assert_int_eq(vmbus_ctl_send(&r.tx, &m), 0);

	ck_assert_int_eq(vmbus_conn_dispatch(&cn, NULL), 2);
	ck_assert_uint_eq(cn.received, 4);
	ck_assert_uint_eq(o.rescinds, 1);
	ck_assert(o.done);
	ck_assert_uint_eq(o.handled, 2);
	ck_assert_uint_eq(o.unexpected, 2);
	ck_assert_int_eq(vmbus_conn_dispatch(&cn, NULL), 0);
	rings_teardown(&r);
}
END_TEST

static Suite *chan_suite(void)
{
	Suite *s = suite_create("vmbus-chan");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_ack_is_bounded);
	tcase_add_test(tc, test_ctlq_keeps_order);
	tcase_add_test(tc, test_ctlq_is_bounded);
	tcase_add_test(tc, test_ctl_recv_skips_oversized);
	tcase_add_test(tc, test_ctl_recv_budget);
	tcase_add_test(tc, test_reopening_channel_answers);
	tcase_add_test(tc, test_conn_dispatch_rows);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(chan_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
