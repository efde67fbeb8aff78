// SPDX-License-Identifier: GPL-2.0-only
/*
 * The "vmbus" bus: a struct hv_device per offer, matched to hv_driver's by
 * class GUID (hvsock offers to the hvsock driver), with the uevent and the
 * sysfs attributes of hv_vmbus (drivers/hv/vmbus_drv.c), so that udev's
 * vmbus:<class> modaliases load the in-box class drivers.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/dma-mapping.h>
#include <linux/pci_ids.h>
#include <xen/xen.h>

#include "xvmb.h"
#include "xvmb-api.h"

static struct bus_type xvmb_bus;

/* --- device attributes, as hv_vmbus prints them --- */

#define hvdev(d) device_to_hv_device(d)

static ssize_t id_show(struct device *dev, struct device_attribute *a,
		       char *buf)
{
	return sysfs_emit(buf, "%d\n", hvdev(dev)->channel->offermsg.child_relid);
}
static DEVICE_ATTR_RO(id);

static ssize_t state_show(struct device *dev, struct device_attribute *a,
			  char *buf)
{
	return sysfs_emit(buf, "%d\n", hvdev(dev)->channel->state);
}
static DEVICE_ATTR_RO(state);

static ssize_t monitor_id_show(struct device *dev, struct device_attribute *a,
			       char *buf)
{
	return sysfs_emit(buf, "%d\n", hvdev(dev)->channel->offermsg.monitorid);
}
static DEVICE_ATTR_RO(monitor_id);

static ssize_t class_id_show(struct device *dev, struct device_attribute *a,
			     char *buf)
{
	return sysfs_emit(buf, "{%pUl}\n",
			  &hvdev(dev)->channel->offermsg.offer.if_type);
}
static DEVICE_ATTR_RO(class_id);

static ssize_t device_id_show(struct device *dev, struct device_attribute *a,
			      char *buf)
{
	return sysfs_emit(buf, "{%pUl}\n",
			  &hvdev(dev)->channel->offermsg.offer.if_instance);
}
static DEVICE_ATTR_RO(device_id);

static ssize_t modalias_show(struct device *dev, struct device_attribute *a,
			     char *buf)
{
	return sysfs_emit(buf, "vmbus:%*phN\n", UUID_SIZE,
			  &hvdev(dev)->dev_type);
}
static DEVICE_ATTR_RO(modalias);

static ssize_t numa_node_show(struct device *dev, struct device_attribute *a,
			      char *buf)
{
	return sysfs_emit(buf, "%d\n",
			  cpu_to_node(hvdev(dev)->channel->target_cpu));
}
static DEVICE_ATTR_RO(numa_node);

/* Live ring state: the header fields, read without trusting them. */
#define XVMB_RING_ATTR(name, dir, expr)					\
static ssize_t name##_show(struct device *dev, struct device_attribute *a, \
			   char *buf)					\
{									\
	struct vmbus_channel *c = hvdev(dev)->channel;			\
	struct hv_ring_buffer_info *rbi = &c->dir;			\
	ssize_t n;							\
									\
	mutex_lock(&rbi->ring_buffer_mutex);				\
	n = rbi->ring_buffer ? sysfs_emit(buf, "%u\n", (u32)(expr)) :	\
			       -EINVAL;					\
	mutex_unlock(&rbi->ring_buffer_mutex);				\
	return n;							\
}									\
static DEVICE_ATTR_RO(name)

XVMB_RING_ATTR(out_intr_mask, outbound, READ_ONCE(rbi->ring_buffer->interrupt_mask));
XVMB_RING_ATTR(out_read_index, outbound, READ_ONCE(rbi->ring_buffer->read_index));
XVMB_RING_ATTR(out_write_index, outbound, READ_ONCE(rbi->ring_buffer->write_index));
XVMB_RING_ATTR(out_read_bytes_avail, outbound, hv_get_bytes_to_read(rbi));
XVMB_RING_ATTR(out_write_bytes_avail, outbound, hv_get_bytes_to_write(rbi));
XVMB_RING_ATTR(in_intr_mask, inbound, READ_ONCE(rbi->ring_buffer->interrupt_mask));
XVMB_RING_ATTR(in_read_index, inbound, READ_ONCE(rbi->ring_buffer->read_index));
XVMB_RING_ATTR(in_write_index, inbound, READ_ONCE(rbi->ring_buffer->write_index));
XVMB_RING_ATTR(in_read_bytes_avail, inbound, hv_get_bytes_to_read(rbi));
XVMB_RING_ATTR(in_write_bytes_avail, inbound, hv_get_bytes_to_write(rbi));

static ssize_t channel_vp_mapping_show(struct device *dev,
				      struct device_attribute *a, char *buf)
{
	struct vmbus_channel *c = hvdev(dev)->channel, *sc;
	int n;

	n = sysfs_emit(buf, "%u:%u\n", c->offermsg.child_relid, c->target_cpu);
	list_for_each_entry(sc, &c->sc_list, sc_list)
		n += sysfs_emit_at(buf, n, "%u:%u\n",
				   sc->offermsg.child_relid, sc->target_cpu);
	return n;
}
static DEVICE_ATTR_RO(channel_vp_mapping);

static ssize_t vendor_show(struct device *dev, struct device_attribute *a,
			   char *buf)
{
	return sysfs_emit(buf, "0x%x\n", hvdev(dev)->vendor_id);
}
static DEVICE_ATTR_RO(vendor);

static ssize_t device_show(struct device *dev, struct device_attribute *a,
			   char *buf)
{
	return sysfs_emit(buf, "0x%x\n", hvdev(dev)->device_id);
}
static DEVICE_ATTR_RO(device);

static ssize_t driver_override_store(struct device *dev,
				     struct device_attribute *a,
				     const char *buf, size_t count)
{
	int rc = driver_set_override(dev, &hvdev(dev)->driver_override, buf,
				     count);

	return rc ? rc : count;
}

static ssize_t driver_override_show(struct device *dev,
				    struct device_attribute *a, char *buf)
{
	ssize_t n;

	device_lock(dev);
	n = sysfs_emit(buf, "%s\n", hvdev(dev)->driver_override);
	device_unlock(dev);
	return n;
}
static DEVICE_ATTR_RW(driver_override);

static struct attribute *xvmb_dev_attrs[] = {
	&dev_attr_id.attr,
	&dev_attr_state.attr,
	&dev_attr_monitor_id.attr,
	&dev_attr_class_id.attr,
	&dev_attr_device_id.attr,
	&dev_attr_modalias.attr,
	&dev_attr_numa_node.attr,
	&dev_attr_out_intr_mask.attr,
	&dev_attr_out_read_index.attr,
	&dev_attr_out_write_index.attr,
	&dev_attr_out_read_bytes_avail.attr,
	&dev_attr_out_write_bytes_avail.attr,
	&dev_attr_in_intr_mask.attr,
	&dev_attr_in_read_index.attr,
	&dev_attr_in_write_index.attr,
	&dev_attr_in_read_bytes_avail.attr,
	&dev_attr_in_write_bytes_avail.attr,
	&dev_attr_channel_vp_mapping.attr,
	&dev_attr_vendor.attr,
	&dev_attr_device.attr,
	&dev_attr_driver_override.attr,
	NULL,
};
ATTRIBUTE_GROUPS(xvmb_dev);

/* --- matching and probing --- */

static const struct hv_vmbus_device_id xvmb_device_null;

static const struct hv_vmbus_device_id *xvmb_get_id(struct hv_driver *drv,
						    struct hv_device *dev)
{
	const struct hv_vmbus_device_id *id;
	const guid_t *guid = &dev->dev_type;

	if (dev->driver_override && strcmp(dev->driver_override, drv->name))
		return NULL;
	for (id = drv->id_table; id && !guid_is_null(&id->guid); id++)
		if (guid_equal(&id->guid, guid))
			return id;
	/* An override binds even without a matching id. */
	return dev->driver_override ? &xvmb_device_null : NULL;
}

static int xvmb_match(struct device *device, struct device_driver *driver)
{
	struct hv_driver *drv = drv_to_hv_drv(driver);
	struct hv_device *dev = device_to_hv_device(device);

	if (is_hvsock_channel(dev->channel))
		return drv->hvsock;
	return xvmb_get_id(drv, dev) != NULL;
}

static int xvmb_probe(struct device *device)
{
	struct hv_driver *drv = drv_to_hv_drv(device->driver);
	struct hv_device *dev = device_to_hv_device(device);
	int rc;

	if (!drv->probe)
		return -ENODEV;
	rc = drv->probe(dev, xvmb_get_id(drv, dev));
	if (rc)
		dev_err(device, "probe by %s failed (%d)\n", drv->name, rc);
	return rc;
}

static void xvmb_remove(struct device *device)
{
	struct hv_driver *drv = drv_to_hv_drv(device->driver);

	if (drv->remove)
		drv->remove(device_to_hv_device(device));
}

static void xvmb_shutdown(struct device *device)
{
	struct hv_driver *drv;

	if (!device->driver)
		return;
	drv = drv_to_hv_drv(device->driver);
	if (drv->shutdown)
		drv->shutdown(device_to_hv_device(device));
}

static int xvmb_uevent(struct device *device, struct kobj_uevent_env *env)
{
	struct hv_device *dev = device_to_hv_device(device);

	return add_uevent_var(env, "MODALIAS=vmbus:%*phN", UUID_SIZE,
			      &dev->dev_type);
}

static struct bus_type xvmb_bus = {
	.name = "vmbus",
	.match = xvmb_match,
	.probe = xvmb_probe,
	.remove = xvmb_remove,
	.shutdown = xvmb_shutdown,
	.uevent = xvmb_uevent,
	.dev_groups = xvmb_dev_groups,
};

int xvmb_driver_register(struct hv_driver *hv_driver,
			    struct module *owner, const char *mod_name)
{
	hv_driver->driver.name = hv_driver->name;
	hv_driver->driver.owner = owner;
	hv_driver->driver.mod_name = mod_name;
	hv_driver->driver.bus = &xvmb_bus;
	spin_lock_init(&hv_driver->dynids.lock);
	INIT_LIST_HEAD(&hv_driver->dynids.list);
	return driver_register(&hv_driver->driver);
}

void xvmb_driver_unregister(struct hv_driver *hv_driver)
{
	driver_unregister(&hv_driver->driver);
}

/* --- devices --- */

static void xvmb_device_release(struct device *device)
{
	struct hv_device *dev = device_to_hv_device(device);
	struct xvmb_channel *xc = to_xvmb(dev->channel);

	xc->chan.device_obj = NULL;
	kfree(dev);
	/* Unregistered by the channel's rescind: the channel goes too. */
	if (xc->registered)
		xvmb_channel_put_removed(xc);
}

int xvmb_device_add(struct xvmb_channel *xc, struct device *parent)
{
	struct hv_device *dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	struct vmbus_channel *c = &xc->chan;
	int rc;

	if (!dev)
		return -ENOMEM;
	dev->dev_type = c->offermsg.offer.if_type;
	dev->dev_instance = c->offermsg.offer.if_instance;
	dev->vendor_id = PCI_VENDOR_ID_MICROSOFT;
	dev->device_id = c->device_id;
	dev->channel = c;
	dev->device.bus = &xvmb_bus;
	dev->device.parent = parent;
	dev->device.release = xvmb_device_release;
	dev->dma_mask = DMA_BIT_MASK(64);
	dev->device.dma_mask = &dev->dma_mask;
	dev->device.dma_parms = &dev->dma_parms;
	dma_set_mask(&dev->device, DMA_BIT_MASK(64));
	dev_set_name(&dev->device, "%pUl", &dev->dev_instance);
	c->device_obj = dev;
	rc = device_register(&dev->device);
	if (rc) {
		dev_err(parent, "failed to register the device of channel "
			"%u (%d)\n", c->offermsg.child_relid, rc);
		/* The channel stays, without a device, till its rescind. */
		put_device(&dev->device);
		return rc;
	}
	xc->registered = true;
	WRITE_ONCE(c->probe_done, true);
	return 0;
}

void xvmb_device_remove(struct xvmb_channel *xc)
{
	struct hv_device *dev = xc->chan.device_obj;

	if (dev)
		device_unregister(&dev->device);
}

/* --- module --- */

static int __init xvmb_init(void)
{
	int rc;

	if (!xen_domain())
		return -ENODEV;
	rc = bus_register(&xvmb_bus);
	if (rc)
		return rc;
	rc = xvmb_conn_init();
	if (rc)
		bus_unregister(&xvmb_bus);
	return rc;
}

static void __exit xvmb_exit(void)
{
	xvmb_conn_exit();
	bus_unregister(&xvmb_bus);
}

module_init(xvmb_init);
module_exit(xvmb_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("VMBus over Xen: a vmbus bus for the in-box Hyper-V drivers");
