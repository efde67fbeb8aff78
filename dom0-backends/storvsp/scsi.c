// SPDX-License-Identifier: GPL-2.0-only
/*
 * SCSI disk emulation (SBC-3/SPC-4 subset) of the storage VSP.  See
 * scsi.h for the contract.  A command table maps each opcode to its CDB
 * length and handler; a handler checks every field it reads, turns the
 * command into an answer or one backing-store operation, and reports any
 * failure through scsi_sense() (fixed-format sense, SPC-4 4.5.3).  Every
 * LBA range is checked as lba <= nblocks && count <= nblocks - lba, so no
 * sum can wrap.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "scsi.h"

#define VENDOR		"Msft    "	/* hv_storvsc keys quirks on it */
#define PRODUCT		"Virtual Disk    "
#define REVISION	"1.0 "

/* ---- big-endian fields of CDBs and answers ---- */

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}
static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}
static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}
static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* ---- the one place sense data is made ---- */

void scsi_sense(struct scsi_result *r, uint8_t key, uint16_t asc_ascq)
{
	r->status = SCSI_STATUS_CHECK_CONDITION;
	r->io = SCSI_IO_NONE;
	r->data_len = 0;
	r->sense_len = SCSI_SENSE_LEN;
	memset(r->sense, 0, sizeof(r->sense));
	r->sense[0] = 0x70;			/* current, fixed format */
	r->sense[2] = key & 0xf;
	r->sense[7] = SCSI_SENSE_LEN - 8;	/* additional sense length */
	r->sense[12] = (uint8_t)(asc_ascq >> 8);
	r->sense[13] = (uint8_t)asc_ascq;
}

void scsi_sense_cdb_field(struct scsi_result *r, unsigned int byte)
{
	scsi_sense(r, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	/* Sense-key specific: SKSV, C/D (the CDB), field pointer. */
	r->sense[15] = 0x80 | 0x40;
	put16(r->sense + 16, (uint16_t)byte);
}

static void good(struct scsi_result *r)
{
	r->status = SCSI_STATUS_GOOD;
	r->sense_len = 0;
	r->io = SCSI_IO_NONE;
}

void scsi_io_error(struct scsi_result *r, enum scsi_io io, int err)
{
	if (err == -ENOSPC || err == -EDQUOT)
		scsi_sense(r, SCSI_SK_DATA_PROTECT, SCSI_ASC_SPACE_ALLOC_FAILED);
	else if (err == -EROFS || err == -EPERM || err == -EACCES)
		scsi_sense(r, SCSI_SK_DATA_PROTECT, SCSI_ASC_WRITE_PROTECTED);
	else if (io == SCSI_IO_READ)
		scsi_sense(r, SCSI_SK_MEDIUM_ERROR, SCSI_ASC_UNRECOVERED_READ);
	else if (io == SCSI_IO_WRITE || io == SCSI_IO_WRITE_ZEROES)
		scsi_sense(r, SCSI_SK_MEDIUM_ERROR, SCSI_ASC_WRITE_ERROR);
	else
		scsi_sense(r, SCSI_SK_HARDWARE_ERROR,
			   SCSI_ASC_INTERNAL_TARGET_FAILURE);
}

/* ---- one command ---- */

struct cmd {
	const struct scsi_disk *d;	/* NULL: no disk at this LUN */
	const struct scsi_target *t;
	const uint8_t *cdb;
	uint32_t xfer_len;
	bool data_in;
	const uint8_t *dout;
	uint32_t dout_len;
	struct scsi_result *r;
};

/* Answer with @len bytes built in r->data, cut to the allocation length. */
static void reply(struct cmd *c, uint32_t len, uint32_t alloc)
{
	uint32_t n = len < alloc ? len : alloc;

	if (n > c->xfer_len)
		n = c->xfer_len;
	good(c->r);
	c->r->data_len = n;
}

/* @lba + @count blocks inside the disk, without wrapping. */
static bool in_range(const struct scsi_disk *d, uint64_t lba, uint64_t count)
{
	return lba <= d->nblocks && count <= d->nblocks - lba;
}

static void inquiry_std(struct cmd *c, uint32_t alloc)
{
	uint8_t *p = c->r->data;

	memset(p, 0, 36);
	/* No disk: peripheral qualifier 3, device type 1Fh (SPC-4 6.6.2). */
	p[0] = c->d ? 0x00 : 0x7f;
	p[2] = 0x06;			/* SPC-4 */
	p[3] = 0x02 | 0x10;		/* response format 2, HISUP */
	p[4] = 36 - 5;
	p[7] = 0x02;			/* CMDQUE */
	memcpy(p + 8, VENDOR, 8);
	memcpy(p + 16, PRODUCT, 16);
	memcpy(p + 32, REVISION, 4);
	reply(c, 36, alloc);
}

static const uint8_t vpd_pages[] = { 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2 };

static void inquiry_vpd(struct cmd *c, uint8_t page, uint32_t alloc)
{
	const struct scsi_disk *d = c->d;
	uint8_t *p = c->r->data;
	uint32_t n, gran = d->block_size < 4096 ? 4096 / d->block_size : 1;
	size_t sl;

	memset(p, 0, 64);
	p[1] = page;
	switch (page) {
	case 0x00:
		memcpy(p + 4, vpd_pages, sizeof(vpd_pages));
		n = sizeof(vpd_pages);
		break;
	case 0x80:
		sl = strnlen(d->serial, sizeof(d->serial) - 1);
		memcpy(p + 4, d->serial, sl);
		n = (uint32_t)sl;
		break;
	case 0x83:
		/* NAA 3h (locally assigned), binary, of the logical unit. */
		p[4] = 0x01;
		p[5] = 0x03;
		p[7] = 8;
		memcpy(p + 8, d->naa, 8);
		p[8] = (uint8_t)(0x30 | (p[8] & 0x0f));
		/* T10 vendor identification, ASCII: vendor + serial. */
		sl = strnlen(d->serial, sizeof(d->serial) - 1);
		p[16] = 0x02;
		p[17] = 0x01;
		p[19] = (uint8_t)(8 + sl);
		memcpy(p + 20, VENDOR, 8);
		memcpy(p + 28, d->serial, sl);
		n = 12 + 4 + 8 + (uint32_t)sl;
		break;
	case 0xb0:			/* Block Limits */
		p[3] = 0x3c;
		put16(p + 6, (uint16_t)gran);
		put32(p + 8, d->max_xfer_blocks);
		put32(p + 12, d->max_xfer_blocks);
		if (d->can_unmap && !d->ro) {
			put32(p + 20, SCSI_MAX_UNMAP_BLOCKS);
			put32(p + 24, SCSI_MAX_UNMAP_DESC);
			put32(p + 28, gran);
		}
		put64(p + 36, SCSI_MAX_UNMAP_BLOCKS);
		n = 0x3c;
		break;
	case 0xb1:			/* Block Device Characteristics */
		p[3] = 0x3c;
		put16(p + 4, 1);	/* non-rotating medium */
		n = 0x3c;
		break;
	case 0xb2:			/* Logical Block Provisioning */
		p[3] = 4;
		if (d->can_unmap && !d->ro) {
			p[5] = 0x80 | 0x40 | 0x04;	/* LBPU, LBPWS, LBPRZ */
			p[6] = 0x02;			/* thin provisioned */
		}
		n = 4;
		break;
	default:
		scsi_sense_cdb_field(c->r, 2);
		return;
	}
	if (page != 0xb0 && page != 0xb1 && page != 0xb2)
		p[3] = (uint8_t)n;
	reply(c, 4 + n, alloc);
}

static void do_inquiry(struct cmd *c)
{
	const uint8_t *cdb = c->cdb;
	uint32_t alloc = be16(cdb + 3);

	if (cdb[1] & 0xfe) {	/* CmdDt and reserved bits */
		scsi_sense_cdb_field(c->r, 1);
		return;
	}
	if (!(cdb[1] & 1)) {
		if (cdb[2]) {
			scsi_sense_cdb_field(c->r, 2);
			return;
		}
		inquiry_std(c, alloc);
		return;
	}
	if (!c->d) {
		scsi_sense(c->r, SCSI_SK_ILLEGAL_REQUEST,
			   SCSI_ASC_LUN_NOT_SUPPORTED);
		return;
	}
	inquiry_vpd(c, cdb[2], alloc);
}

static void do_test_unit_ready(struct cmd *c)
{
	good(c->r);
}

static void do_request_sense(struct cmd *c)
{
	uint8_t *p = c->r->data;

	if (c->cdb[1] & 1) {	/* descriptor format: not offered */
		scsi_sense_cdb_field(c->r, 1);
		return;
	}
	/* Sense goes back with each command (autosense): none is pending. */
	memset(p, 0, SCSI_SENSE_LEN);
	p[0] = 0x70;
	p[7] = SCSI_SENSE_LEN - 8;
	reply(c, SCSI_SENSE_LEN, c->cdb[4]);
}

static void do_read_capacity10(struct cmd *c)
{
	const struct scsi_disk *d = c->d;
	uint64_t last = d->nblocks ? d->nblocks - 1 : 0;

	if (be32(c->cdb + 2) || (c->cdb[8] & 1)) {	/* LBA, PMI: obsolete */
		scsi_sense_cdb_field(c->r, c->cdb[8] & 1 ? 8 : 2);
		return;
	}
	put32(c->r->data, last > 0xfffffffeu ? 0xffffffffu : (uint32_t)last);
	put32(c->r->data + 4, d->block_size);
	reply(c, 8, 8);
}

static void do_service_action_in(struct cmd *c)
{
	const struct scsi_disk *d = c->d;
	uint8_t *p = c->r->data;

	if ((c->cdb[1] & 0x1f) != 0x10) {	/* READ CAPACITY(16) only */
		scsi_sense_cdb_field(c->r, 1);
		return;
	}
	memset(p, 0, 32);
	put64(p, d->nblocks ? d->nblocks - 1 : 0);
	put32(p + 8, d->block_size);
	if (d->block_size < 4096)		/* 4 KiB physical blocks */
		p[13] = d->block_size == 512 ? 3 : 0;
	if (d->can_unmap && !d->ro)
		p[14] = 0x80 | 0x40;		/* LBPME, LBPRZ */
	reply(c, 32, be32(c->cdb + 10));
}

/* Mode pages: caching (08h) and control (0Ah). */
static uint32_t mode_page(const struct scsi_disk *d, uint8_t page, uint8_t pc,
			  uint8_t *p)
{
	bool changeable = pc == 1;

	if (page == 0x08) {
		memset(p, 0, 20);
		p[0] = 0x08;
		p[1] = 0x12;
		if (!changeable)
			p[2] = 0x04;		/* WCE: the guest must flush */
		return 20;
	}
	if (page == 0x0a) {
		memset(p, 0, 12);
		p[0] = 0x0a;
		p[1] = 0x0a;
		if (!changeable)
			p[3] = 0x10;	/* unrestricted reordering allowed */
		return 12;
	}
	return 0;
}

static void do_mode_sense(struct cmd *c, bool ten)
{
	const struct scsi_disk *d = c->d;
	const uint8_t *cdb = c->cdb;
	uint8_t *p = c->r->data;
	uint8_t pc = cdb[2] >> 6, page = cdb[2] & 0x3f, subpage = cdb[3];
	bool dbd = cdb[1] & 0x08;
	uint32_t hdr = ten ? 8 : 4, n, alloc = ten ? be16(cdb + 7) : cdb[4];
	uint64_t blocks;

	if (pc == 3) {
		scsi_sense(c->r, SCSI_SK_ILLEGAL_REQUEST, 0x3900);
		return;
	}
	if (subpage && subpage != 0xff) {
		scsi_sense_cdb_field(c->r, 3);
		return;
	}
	if (page != 0x08 && page != 0x0a && page != 0x3f) {
		scsi_sense_cdb_field(c->r, 2);
		return;
	}
	memset(p, 0, 16);
	n = hdr;
	if (!dbd) {
		blocks = d->nblocks > 0xffffff ? 0xffffff : d->nblocks;
		p[n + 1] = (uint8_t)(blocks >> 16);
		p[n + 2] = (uint8_t)(blocks >> 8);
		p[n + 3] = (uint8_t)blocks;
		p[n + 5] = (uint8_t)(d->block_size >> 16);
		p[n + 6] = (uint8_t)(d->block_size >> 8);
		p[n + 7] = (uint8_t)d->block_size;
		n += 8;
	}
	if (page == 0x08 || page == 0x3f)
		n += mode_page(d, 0x08, pc, p + n);
	if (page == 0x0a || page == 0x3f)
		n += mode_page(d, 0x0a, pc, p + n);
	/* Device-specific parameter: WP, DPOFUA. */
	if (ten) {
		put16(p, (uint16_t)(n - 2));
		p[3] = (uint8_t)((d->ro ? 0x80 : 0) | 0x10);
		put16(p + 6, dbd ? 0 : 8);
	} else {
		p[0] = (uint8_t)(n - 1);
		p[2] = (uint8_t)((d->ro ? 0x80 : 0) | 0x10);
		p[3] = dbd ? 0 : 8;
	}
	reply(c, n, alloc);
}

static void do_report_luns(struct cmd *c)
{
	uint8_t *p = c->r->data;
	uint32_t alloc = be32(c->cdb + 6), n = 0;
	unsigned int i;

	if (c->cdb[2] > 2) {
		scsi_sense_cdb_field(c->r, 2);
		return;
	}
	if (alloc < 16) {
		scsi_sense_cdb_field(c->r, 6);
		return;
	}
	memset(p, 0, 8 + 8 * SCSI_MAX_LUNS);
	for (i = 0; i < SCSI_MAX_LUNS; i++) {
		if (!c->t->lun[i])
			continue;
		p[8 + 8 * n + 1] = (uint8_t)i;	/* peripheral addressing */
		n++;
	}
	put32(p, 8 * n);
	reply(c, 8 + 8 * n, alloc);
}

/* READ/WRITE (10, 12, 16): where the LBA and length fields are. */
static void do_rw(struct cmd *c, bool write)
{
	const struct scsi_disk *d = c->d;
	const uint8_t *cdb = c->cdb;
	uint64_t lba, bytes;
	uint32_t count;
	unsigned int len_at;

	switch (cdb[0]) {
	case 0x28: case 0x2a:
		lba = be32(cdb + 2); count = be16(cdb + 7); len_at = 7; break;
	case 0xa8: case 0xaa:
		lba = be32(cdb + 2); count = be32(cdb + 6); len_at = 6; break;
	default:
		lba = be64(cdb + 2); count = be32(cdb + 10); len_at = 10; break;
	}
	if (cdb[1] & 0xe0) {	/* RDPROTECT/WRPROTECT: no PI here */
		scsi_sense_cdb_field(c->r, 1);
		return;
	}
	if (write && d->ro) {
		scsi_sense(c->r, SCSI_SK_DATA_PROTECT,
			   SCSI_ASC_WRITE_PROTECTED);
		return;
	}
	if (!in_range(d, lba, count)) {
		scsi_sense(c->r, SCSI_SK_ILLEGAL_REQUEST,
			   SCSI_ASC_LBA_OUT_OF_RANGE);
		return;
	}
	if (count > d->max_xfer_blocks) {
		scsi_sense_cdb_field(c->r, len_at);
		return;
	}
	bytes = (uint64_t)count * d->block_size;
	/* The buffer must hold what the CDB says, in the right direction. */
	if (bytes > c->xfer_len) {
		scsi_sense_cdb_field(c->r, len_at);
		return;
	}
	if (bytes && c->data_in == write) {
		scsi_sense_cdb_field(c->r, 0);
		return;
	}
	good(c->r);
	if (!count)
		return;
	c->r->io = write ? SCSI_IO_WRITE : SCSI_IO_READ;
	c->r->off = lba * d->block_size;
	c->r->len = bytes;
	c->r->fua = write && (cdb[1] & 0x08);
}

static void do_sync_cache(struct cmd *c)
{
	const struct scsi_disk *d = c->d;
	uint64_t lba;
	uint32_t count;

	if (c->cdb[0] == 0x35) {
		lba = be32(c->cdb + 2);
		count = be16(c->cdb + 7);
	} else {
		lba = be64(c->cdb + 2);
		count = be32(c->cdb + 10);
	}
	if (!in_range(d, lba, count)) {
		scsi_sense(c->r, SCSI_SK_ILLEGAL_REQUEST,
			   SCSI_ASC_LBA_OUT_OF_RANGE);
		return;
	}
	good(c->r);
	if (!d->ro)
		c->r->io = SCSI_IO_FLUSH;
}

static void do_unmap(struct cmd *c)
{
	const struct scsi_disk *d = c->d;
	struct scsi_result *r = c->r;
	uint32_t plen = be16(c->cdb + 7), bdl, i, n;
	uint64_t lba;
	uint32_t count;

	/* A read-only disk refuses it as it refuses writes. */
	if (d->ro) {
		scsi_sense(r, SCSI_SK_DATA_PROTECT,
			   SCSI_ASC_WRITE_PROTECTED);
		return;
	}
	if (!d->can_unmap) {
		scsi_sense(r, SCSI_SK_ILLEGAL_REQUEST,
			   SCSI_ASC_INVALID_OPCODE);
		return;
	}
	if (c->cdb[1] & 0x01) {	/* ANCHOR */
		scsi_sense_cdb_field(r, 1);
		return;
	}
	if (!plen) {
		good(r);
		return;
	}
	if (plen < 8 || plen > c->xfer_len || c->data_in || !c->dout ||
	    c->dout_len < 8) {
		scsi_sense(r, SCSI_SK_ILLEGAL_REQUEST,
			   SCSI_ASC_PARAM_LIST_LENGTH);
		return;
	}
	bdl = be16(c->dout + 2);
	if (bdl % 16 || bdl / 16 > SCSI_MAX_UNMAP_DESC ||
	    8 + bdl > plen || 8 + bdl > c->dout_len) {
		scsi_sense(r, SCSI_SK_ILLEGAL_REQUEST,
			   SCSI_ASC_INVALID_FIELD_IN_PARAM);
		return;
	}
	n = 0;
	for (i = 0; i < bdl / 16; i++) {
		lba = be64(c->dout + 8 + 16 * i);
		count = be32(c->dout + 8 + 16 * i + 8);
		if (count > SCSI_MAX_UNMAP_BLOCKS) {
			scsi_sense(r, SCSI_SK_ILLEGAL_REQUEST,
				   SCSI_ASC_INVALID_FIELD_IN_PARAM);
			return;
		}
		if (!in_range(d, lba, count)) {
			scsi_sense(r, SCSI_SK_ILLEGAL_REQUEST,
				   SCSI_ASC_LBA_OUT_OF_RANGE);
			return;
		}
		if (!count)
			continue;
		r->unmap[n].off = lba * d->block_size;
		r->unmap[n].len = (uint64_t)count * d->block_size;
		n++;
	}
	good(r);
	if (n) {
		r->io = SCSI_IO_UNMAP;
		r->nunmap = n;
	}
}

static bool all_zero(const uint8_t *p, uint32_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static void do_write_same16(struct cmd *c)
{
	const struct scsi_disk *d = c->d;
	struct scsi_result *r = c->r;
	uint8_t f = c->cdb[1];
	uint64_t lba = be64(c->cdb + 2);
	uint32_t count = be32(c->cdb + 10);
	bool ndob = f & 0x01, unmap = f & 0x08;

	if (f & (0xe0 | 0x10 | 0x06)) {	/* WRPROTECT, ANCHOR, reserved */
		scsi_sense_cdb_field(r, 1);
		return;
	}
	if (d->ro) {
		scsi_sense(r, SCSI_SK_DATA_PROTECT,
			   SCSI_ASC_WRITE_PROTECTED);
		return;
	}
	if (!count || count > SCSI_MAX_UNMAP_BLOCKS) {	/* WSNZ */
		scsi_sense_cdb_field(r, 10);
		return;
	}
	if (!in_range(d, lba, count)) {
		scsi_sense(r, SCSI_SK_ILLEGAL_REQUEST,
			   SCSI_ASC_LBA_OUT_OF_RANGE);
		return;
	}
	if (!ndob) {
		if (c->xfer_len < d->block_size || c->data_in || !c->dout ||
		    c->dout_len < d->block_size) {
			scsi_sense(r, SCSI_SK_ILLEGAL_REQUEST,
				   SCSI_ASC_PARAM_LIST_LENGTH);
			return;
		}
		/* Only a block of zeroes is written (the hole pattern). */
		if (!all_zero(c->dout, d->block_size)) {
			scsi_sense_cdb_field(r, 1);
			return;
		}
	}
	good(r);
	r->io = unmap && d->can_unmap ? SCSI_IO_UNMAP : SCSI_IO_WRITE_ZEROES;
	r->nunmap = 1;
	r->unmap[0].off = lba * d->block_size;
	r->unmap[0].len = (uint64_t)count * d->block_size;
}

static void do_start_stop(struct cmd *c)
{
	good(c->r);
}

/* Commands: opcode -> handler; flags say what must hold first. */
#define NEEDS_DISK	0x1	/* answered LUN NOT SUPPORTED without one */
#define ANY_LUN		0x2	/* answered at an empty LUN too */

struct cmd_row {
	uint8_t opcode;
	uint8_t flags;
	void (*fn)(struct cmd *c);
};

static void do_read(struct cmd *c) { do_rw(c, false); }
static void do_write(struct cmd *c) { do_rw(c, true); }
static void do_mode_sense6(struct cmd *c) { do_mode_sense(c, false); }
static void do_mode_sense10(struct cmd *c) { do_mode_sense(c, true); }

static const struct cmd_row cmd_table[] = {
	{ 0x00, NEEDS_DISK, do_test_unit_ready },
	{ 0x03, ANY_LUN, do_request_sense },
	{ 0x12, ANY_LUN, do_inquiry },
	{ 0x1a, NEEDS_DISK, do_mode_sense6 },
	{ 0x1b, NEEDS_DISK, do_start_stop },
	{ 0x1e, NEEDS_DISK, do_start_stop },	/* PREVENT ALLOW REMOVAL */
	{ 0x25, NEEDS_DISK, do_read_capacity10 },
	{ 0x28, NEEDS_DISK, do_read },
	{ 0x2a, NEEDS_DISK, do_write },
	{ 0x35, NEEDS_DISK, do_sync_cache },
	{ 0x42, NEEDS_DISK, do_unmap },
	{ 0x5a, NEEDS_DISK, do_mode_sense10 },
	{ 0x88, NEEDS_DISK, do_read },
	{ 0x8a, NEEDS_DISK, do_write },
	{ 0x91, NEEDS_DISK, do_sync_cache },
	{ 0x93, NEEDS_DISK, do_write_same16 },
	{ 0x9e, NEEDS_DISK, do_service_action_in },
	{ 0xa0, ANY_LUN, do_report_luns },
	{ 0xa8, NEEDS_DISK, do_read },
	{ 0xaa, NEEDS_DISK, do_write },
};

/* CDB length of an opcode's group (SPC-4 4.3.2); 0: not a group we take. */
static unsigned int cdb_group_len(uint8_t opcode)
{
	static const uint8_t len[8] = { 6, 10, 10, 0, 16, 12, 0, 0 };

	return len[opcode >> 5];
}

uint32_t scsi_dout_wanted(const uint8_t *cdb, unsigned int cdb_len,
			  uint32_t block_size)
{
	uint32_t n;

	if (!cdb_len)
		return 0;
	if (cdb[0] == 0x42 && cdb_len >= 10) {
		n = be16(cdb + 7);
		return n < SCSI_UNMAP_PARAM_MAX ? n : SCSI_UNMAP_PARAM_MAX;
	}
	if (cdb[0] == 0x93 && cdb_len >= 16 && !(cdb[1] & 0x01))
		return block_size;
	return 0;
}

void scsi_exec(const struct scsi_target *t, unsigned int lun,
	       const uint8_t *cdb, unsigned int cdb_len, uint32_t xfer_len,
	       bool data_in, const uint8_t *dout, uint32_t dout_len,
	       struct scsi_result *r)
{
	struct cmd c = { .t = t, .cdb = cdb, .xfer_len = xfer_len,
			 .data_in = data_in, .dout = dout,
			 .dout_len = dout_len, .r = r };
	const struct cmd_row *row = NULL;
	unsigned int i, need;

	memset(r, 0, offsetof(struct scsi_result, data));
	if (!cdb_len || cdb_len > 16) {
		scsi_sense_cdb_field(r, 0);
		return;
	}
	for (i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++)
		if (cmd_table[i].opcode == cdb[0])
			row = &cmd_table[i];
	need = cdb_group_len(cdb[0]);
	if (!row || !need) {
		scsi_sense(r, SCSI_SK_ILLEGAL_REQUEST,
			   SCSI_ASC_INVALID_OPCODE);
		return;
	}
	/* A CDB shorter than its opcode's: the fields it lacks are invalid. */
	if (cdb_len < need) {
		scsi_sense_cdb_field(r, cdb_len);
		return;
	}
	c.d = lun < SCSI_MAX_LUNS ? t->lun[lun] : NULL;
	if (!c.d && !(row->flags & ANY_LUN)) {
		scsi_sense(r, SCSI_SK_ILLEGAL_REQUEST,
			   SCSI_ASC_LUN_NOT_SUPPORTED);
		return;
	}
	row->fn(&c);
}
