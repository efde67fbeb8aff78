/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stub of the generated compat/hvm/dm_op.h: dm.c's layout checks of the
 * 32-bit structures (the compat translation is not under test) and the
 * one structure compat_dm_op() translates.
 */
#ifndef TESTS_HYPERVISOR_STUB_COMPAT_DM_OP_H
#define TESTS_HYPERVISOR_STUB_COMPAT_DM_OP_H

struct compat_dm_op_buf {
    struct { uint32_t c; } h;
    uint32_t size;
};

#define guest_from_compat_handle(hnd, chnd) \
    ((hnd).p = (void *)(uintptr_t)(chnd).c)
#define XLAT_dm_op_buf(d, s) do { \
    XLAT_dm_op_buf_HNDL_h(d, s); \
    (d)->size = (s)->size; \
} while ( 0 )

#define DM_STUB_CHECK(n) struct dm_stub_check_##n { int unused; }
#define CHECK_dm_op_create_ioreq_server DM_STUB_CHECK(1)
#define CHECK_dm_op_get_ioreq_server_info DM_STUB_CHECK(2)
#define CHECK_dm_op_ioreq_server_range DM_STUB_CHECK(3)
#define CHECK_dm_op_set_ioreq_server_state DM_STUB_CHECK(4)
#define CHECK_dm_op_destroy_ioreq_server DM_STUB_CHECK(5)
#define CHECK_dm_op_track_dirty_vram DM_STUB_CHECK(6)
#define CHECK_dm_op_set_pci_intx_level DM_STUB_CHECK(7)
#define CHECK_dm_op_set_isa_irq_level DM_STUB_CHECK(8)
#define CHECK_dm_op_set_pci_link_route DM_STUB_CHECK(9)
#define CHECK_dm_op_modified_memory DM_STUB_CHECK(10)
#define CHECK_dm_op_set_mem_type DM_STUB_CHECK(11)
#define CHECK_dm_op_inject_event DM_STUB_CHECK(12)
#define CHECK_dm_op_inject_msi DM_STUB_CHECK(13)
#define CHECK_dm_op_map_mem_type_to_ioreq_server DM_STUB_CHECK(14)
#define CHECK_dm_op_remote_shutdown DM_STUB_CHECK(15)
#define CHECK_dm_op_relocate_memory DM_STUB_CHECK(16)
#define CHECK_dm_op_pin_memory_cacheattr DM_STUB_CHECK(17)
#define CHECK_dm_op_nr_vcpus DM_STUB_CHECK(18)
#define CHECK_dm_op_syndbg_backend DM_STUB_CHECK(19)

#endif
