// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbusd's network adapters: Hyper-V's synthetic NIC, served by the
 * network VSP (libnetvsp, dom0-backends/netvsp/), whose dom0 side is a tap
 * joined to a bridge as Xen's vif-bridge joins a netback vif.
 *
 * Per guest and NIC: the entry offers/<key>/{mac,bridge,mtu,ifname,
 * kind=nic} (vmbusctl offer DOM --nic bridge=BR,mac=MAC[,mtu=N]
 * [,ifname=NAME]).  The tap ("vmb<domid>.<key>" unless named) is made when
 * the offer is, its carrier off until the guest's netvsc opens the
 * channel and off again when it closes; the tap goes with the offer.
 * Each NIC raises the guest's grant mapping budget by what its buffers
 * take (NIC_MAP_PAGES), and gives it back when it goes.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <xenvmbus/netvsc.h>

#include "netvsp.h"
#include "vmbusd.h"

/* The receive (4096) and send buffers (up to 255 for hv_netvsc's 1 MiB)
 * and rounding: what one NIC's guest maps beyond its rings. */
#define NIC_MAP_PAGES	4400u

struct nic {
	struct vd_offer *o;
	struct netvsp *nv;
	struct vmbus_chan *chan;
	struct vd_watch wchan, wtap;
	uint8_t mac[6];
	uint32_t mtu;
	char bridge[16];
};

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6], i;
	char end;

	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
			 &b[3], &b[4], &b[5], &end) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	/* A unicast address: the guest's NIC. */
	return mac[0] & 1 ? -EINVAL : 0;
}

static void nic_event(struct vd_watch *w, uint32_t events)
{
	struct nic *n = w->obj;

	(void)events;
	if (n->chan)
		netvsp_process(n->nv);
}

static int nic_make(struct vd_offer *o, const char *dir)
{
	struct netvsp_cfg cfg = { .tap_fd = -1 };
	struct vd_guest *g = o->guest;
	struct vmbus_offer_desc d;
	struct vmbus_server_maps m;
	char *mac = vd_xs_read(dir, "mac"), *br = vd_xs_read(dir, "bridge");
	char *mtu = vd_xs_read(dir, "mtu"), *ifn = vd_xs_read(dir, "ifname");
	char name[16];
	struct nic *n = NULL;
	int rc = -EINVAL;

	n = calloc(1, sizeof(*n));
	if (!n) {
		rc = -ENOMEM;
		goto out;
	}
	if (parse_mac(mac, n->mac)) {
		dlog(LOG_ERR, "domain %u: ignoring NIC entry \"%s\" (mac is not "
		     "a unicast MAC address: \"%s\")", g->domid, dir,
		     mac ? mac : "");
		goto out;
	}
	n->mtu = mtu ? (uint32_t)strtoul(mtu, NULL, 10) : 1500;
	if (n->mtu < NETVSP_MTU_MIN || n->mtu > NETVSP_MTU_MAX) {
		dlog(LOG_ERR, "domain %u: ignoring NIC entry \"%s\" (mtu %s is "
		     "not in %u-%u)", g->domid, dir, mtu, NETVSP_MTU_MIN,
		     NETVSP_MTU_MAX);
		goto out;
	}
	if ((br && strlen(br) >= sizeof(n->bridge)) ||
	    (ifn && (!*ifn || strlen(ifn) >= sizeof(name)))) {
		dlog(LOG_ERR, "domain %u: ignoring NIC entry \"%s\" (interface "
		     "names are at most 15 bytes)", g->domid, dir);
		goto out;
	}
	snprintf(n->bridge, sizeof(n->bridge), "%s", br ? br : "");
	if (ifn)
		snprintf(name, sizeof(name), "%s", ifn);
	else
		snprintf(name, sizeof(name), "vmb%u.%.6s", g->domid, o->key);
	cfg.ifname = name;
	cfg.bridge = n->bridge[0] ? n->bridge : NULL;
	cfg.mtu = n->mtu;
	memcpy(cfg.mac, n->mac, 6);
	rc = netvsp_create(&n->nv, &cfg, NULL);
	if (rc) {
		dlog(LOG_ERR, "domain %u: failed to make NIC \"%s\" on tap \"%s\" "
		     "(%s)", g->domid, dir, name, strerror(-rc));
		goto out;
	}
	n->o = o;
	n->wchan = (struct vd_watch){ nic_event, n };
	n->wtap = (struct vd_watch){ nic_event, n };
	memset(&d, 0, sizeof(d));
	vmbus_guid_parse(NETVSC_CLASS_GUID, d.type);
	/* A stable instance per guest and entry. */
	d.instance[0] = (uint8_t)g->domid;
	d.instance[1] = (uint8_t)(g->domid >> 8);
	memcpy(d.instance + 2, "nic", 3);
	memcpy(d.instance + 5, o->key, strnlen(o->key, 11));
	d.flags = VMBUS_OFFER_FLAG_GPADLS;
	d.nversions = 1;
	d.versions[0] = NETVSC_CLASS_VERSION;
	d.cookie = o;
	vmbus_server_get_maps(g->srv, &m);
	vmbus_server_set_map_limit(g->srv, m.limit + NIC_MAP_PAGES);
	rc = vmbus_server_offer(g->srv, &d, &o->relid);
	if (rc) {
		vmbus_server_set_map_limit(g->srv, m.limit);
		dlog(LOG_ERR, "domain %u: failed to offer NIC \"%s\" (%s)",
		     g->domid, dir, strerror(-rc));
		goto out;
	}
	o->priv = n;
	snprintf(o->name, sizeof(o->name), "nic");
	snprintf(o->service, sizeof(o->service), "%s", netvsp_ifname(n->nv));
	dlog(LOG_INFO, "domain %u: offered NIC %02x:%02x:%02x:%02x:%02x:%02x "
	     "mtu %u on tap \"%s\"%s%s (channel %u)", g->domid, n->mac[0],
	     n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5], n->mtu,
	     netvsp_ifname(n->nv), n->bridge[0] ? " in bridge " : "",
	     n->bridge, o->relid);
	n = NULL;
	rc = 0;
out:
	if (n) {
		netvsp_destroy(n->nv);
		free(n);
	}
	free(mac);
	free(br);
	free(mtu);
	free(ifn);
	return rc;
}

static int nic_open(struct vd_offer *o, struct vmbus_chan *chan)
{
	struct nic *n = o->priv;
	int rc;

	if (!chan || !n || n->chan)
		return -EBUSY;
	rc = netvsp_attach(n->nv, chan);
	if (rc)
		return rc;
	rc = vd_epoll_add(vmbus_chan_fd(chan), EPOLLIN, &n->wchan);
	/* Edge-triggered: frames the guest has no room for wait in the tap
	 * until its completions wake the channel. */
	if (!rc) {
		rc = vd_epoll_add(netvsp_tap_fd(n->nv, 0), EPOLLIN | EPOLLET,
				  &n->wtap);
		if (rc)
			vd_epoll_del(vmbus_chan_fd(chan));
	}
	if (rc) {
		netvsp_detach(n->nv);
		return rc;
	}
	n->chan = chan;
	dlog(LOG_INFO, "domain %u: NIC on \"%s\" opened (channel %u)",
	     o->guest->domid, netvsp_ifname(n->nv), vmbus_chan_relid(chan));
	netvsp_process(n->nv);
	return 0;
}

static void nic_close(struct vd_offer *o, struct vmbus_chan *chan)
{
	struct nic *n = o->priv;

	(void)chan;
	if (!n || !n->chan)
		return;
	vd_epoll_del(vmbus_chan_fd(n->chan));
	vd_epoll_del(netvsp_tap_fd(n->nv, 0));
	netvsp_detach(n->nv);
	n->chan = NULL;
	dlog(LOG_INFO, "domain %u: NIC on \"%s\" closed", o->guest->domid,
	     netvsp_ifname(n->nv));
}

static void nic_drop(struct vd_offer *o)
{
	struct nic *n = o->priv;
	struct vmbus_server_maps m;

	if (!n)
		return;
	nic_close(o, NULL);
	if (!o->guest->releasing) {
		vmbus_server_get_maps(o->guest->srv, &m);
		if (m.limit >= NIC_MAP_PAGES + VMBUS_SERVER_MAPS_MIN)
			vmbus_server_set_map_limit(o->guest->srv,
						   m.limit - NIC_MAP_PAGES);
	}
	dlog(LOG_INFO, "domain %u: NIC on \"%s\" removed", o->guest->domid,
	     netvsp_ifname(n->nv));
	netvsp_destroy(n->nv);
	free(n);
	o->priv = NULL;
}

static int nic_state(struct vd_offer *o, char *val, size_t len)
{
	struct nic *n = o->priv;
	struct netvsp_stats st;

	if (!n)
		return -1;
	netvsp_get_stats(n->nv, &st);
	return snprintf(val, len, "state=%s name=nic service=nic:%s "
			"mac=%02x:%02x:%02x:%02x:%02x:%02x mtu=%u nvsp=0x%x "
			"link=%s tx_frames=%llu tx_bytes=%llu rx_frames=%llu "
			"rx_bytes=%llu rx_inflight=%u buf_pages=%u refused=%llu "
			"errors=%llu", n->chan ? "open" : "offered",
			netvsp_ifname(n->nv), n->mac[0], n->mac[1], n->mac[2],
			n->mac[3], n->mac[4], n->mac[5], n->mtu,
			st.nvsp_version, st.link_up ? "up" : "down",
			(unsigned long long)st.tx_packets,
			(unsigned long long)st.tx_bytes,
			(unsigned long long)st.rx_packets,
			(unsigned long long)st.rx_bytes, st.rx_inflight,
			st.buf_pages, (unsigned long long)st.refused,
			(unsigned long long)(st.bad_packets +
					     st.bad_completions));
}

const struct vd_service vd_nic_service = {
	.kind = "nic",
	.noun = "NIC",
	.last_key = "kind",
	.make = nic_make,
	.open = nic_open,
	.close = nic_close,
	.drop = nic_drop,
	.state = nic_state,
};
