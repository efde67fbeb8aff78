// SPDX-License-Identifier: GPL-2.0-only
/*
 * The storage VSP's SCSI disk emulation alone (dom0-backends/storvsp/
 * scsi.c), against a disk in memory: the answers of every command, the
 * operations it turns reads, writes, flushes and unmaps into (performed
 * here on the memory), and the fixed-format sense of every error.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "scsi.h"

#define NBLOCKS		2048u		/* 1 MiB of 512-byte blocks */

static struct scsi_disk rw_disk, ro_disk;
static struct scsi_target tgt;
static uint8_t *mem;			/* rw_disk's contents */
static uint8_t buf[1 << 16];		/* the client's buffer */
static struct scsi_result res;

static void setup(void)
{
	memset(&tgt, 0, sizeof(tgt));
	rw_disk = (struct scsi_disk){ .nblocks = NBLOCKS, .block_size = 512,
				      .max_xfer_blocks = 128,
				      .can_unmap = true,
				      .serial = "XVBtest" };
	memcpy(rw_disk.naa, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	ro_disk = rw_disk;
	ro_disk.ro = true;
	ro_disk.can_unmap = false;
	tgt.lun[0] = &rw_disk;
	tgt.lun[3] = &ro_disk;
	mem = calloc(NBLOCKS, 512);
	memset(buf, 0, sizeof(buf));
}

static void teardown(void)
{
	free(mem);
}

/* Run @cdb and perform what it asks of the memory disk. */
static struct scsi_result *run(unsigned int lun, const uint8_t *cdb,
			       unsigned int len, uint32_t xfer, bool in)
{
	uint32_t i, want = scsi_dout_wanted(cdb, len, 512);

	scsi_exec(&tgt, lun, cdb, len, xfer, in, want ? buf : NULL,
		  want < xfer ? want : xfer, &res);
	switch (res.io) {
	case SCSI_IO_READ:
		memcpy(buf, mem + res.off, res.len);
		break;
	case SCSI_IO_WRITE:
		memcpy(mem + res.off, buf, res.len);
		break;
	case SCSI_IO_UNMAP:
	case SCSI_IO_WRITE_ZEROES:
		for (i = 0; i < res.nunmap; i++)
			memset(mem + res.unmap[i].off, 0, res.unmap[i].len);
		break;
	default:
		if (in && res.data_len)
			memcpy(buf, res.data, res.data_len);
		break;
	}
	return &res;
}

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = v >> 24; b[1] = v >> 16; b[2] = v >> 8; b[3] = (uint8_t)v;
}
static void put64(uint8_t *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b + 4, (uint32_t)v);
}
static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

/* CHECK CONDITION with fixed sense @key/@asc/@ascq. */
static void ck_sense(const struct scsi_result *r, uint8_t key, uint16_t asc)
{
	ck_assert_uint_eq(r->status, SCSI_STATUS_CHECK_CONDITION);
	ck_assert_uint_eq(r->sense_len, 18);
	ck_assert_uint_eq(r->sense[0], 0x70);
	ck_assert_uint_eq(r->sense[2], key);
	ck_assert_uint_eq(r->sense[7], 10);
	ck_assert_uint_eq(r->sense[12], asc >> 8);
	ck_assert_uint_eq(r->sense[13], asc & 0xff);
	ck_assert_uint_eq(r->io, SCSI_IO_NONE);
	ck_assert_uint_eq(r->data_len, 0);
}

static void rw10(uint8_t *cdb, uint8_t op, uint32_t lba, uint16_t n)
{
	memset(cdb, 0, 16);
	cdb[0] = op;
	put32(cdb + 2, lba);
	cdb[7] = n >> 8;
	cdb[8] = (uint8_t)n;
}

START_TEST(inquiry_standard_and_absent_lun)
{
	uint8_t cdb[6] = { 0x12, 0, 0, 0, 36, 0 };

	run(0, cdb, 6, 36, true);
	ck_assert_uint_eq(res.status, 0);
	ck_assert_uint_eq(res.data_len, 36);
	ck_assert_uint_eq(buf[0], 0);
	ck_assert_uint_eq(buf[4], 31);
	ck_assert_mem_eq(buf + 8, "Msft    Virtual Disk    1.0 ", 28);
	run(7, cdb, 6, 36, true);
	ck_assert_uint_eq(res.status, 0);
	ck_assert_uint_eq(buf[0], 0x7f);	/* PQ 3, type 1Fh */
	/* The allocation length cuts the answer, and so does the buffer. */
	cdb[4] = 5;
	run(0, cdb, 6, 36, true);
	ck_assert_uint_eq(res.data_len, 5);
	cdb[4] = 36;
	run(0, cdb, 6, 8, true);
	ck_assert_uint_eq(res.data_len, 8);
	/* A page code without EVPD, CmdDt: invalid fields 2 and 1. */
	cdb[2] = 0x80;
	run(0, cdb, 6, 36, true);
	ck_sense(&res, 5, 0x2400);
	ck_assert_uint_eq(res.sense[15], 0xc0);	/* SKSV, in the CDB */
	ck_assert_uint_eq(res.sense[17], 2);
	cdb[2] = 0;
	cdb[1] = 2;
	run(0, cdb, 6, 36, true);
	ck_sense(&res, 5, 0x2400);
	ck_assert_uint_eq(res.sense[17], 1);
}
END_TEST

START_TEST(inquiry_vpd_pages)
{
	uint8_t cdb[6] = { 0x12, 1, 0, 0, 255, 0 };

	run(0, cdb, 6, 255, true);
	ck_assert_uint_eq(res.status, 0);
	ck_assert_uint_eq(buf[3], 6);
	ck_assert_mem_eq(buf + 4, "\x00\x80\x83\xb0\xb1\xb2", 6);
	cdb[2] = 0x80;
	run(0, cdb, 6, 255, true);
	ck_assert_uint_eq(buf[3], 7);
	ck_assert_mem_eq(buf + 4, "XVBtest", 7);
	cdb[2] = 0x83;
	run(0, cdb, 6, 255, true);
	ck_assert_uint_eq(buf[4], 1);		/* binary */
	ck_assert_uint_eq(buf[5], 3);		/* NAA, of the LU */
	ck_assert_uint_eq(buf[8] >> 4, 3);	/* locally assigned */
	ck_assert_uint_eq(buf[16], 2);		/* ASCII */
	ck_assert_uint_eq(buf[17], 1);		/* T10 vendor id */
	ck_assert_mem_eq(buf + 20, "Msft    XVBtest", 15);
	ck_assert_uint_eq(res.data_len, 4u + buf[3]);
	cdb[2] = 0xb0;
	run(0, cdb, 6, 255, true);
	ck_assert_uint_eq(buf[3], 0x3c);
	ck_assert_uint_eq(get32(buf + 8), 128);
	ck_assert_uint_eq(get32(buf + 20), SCSI_MAX_UNMAP_BLOCKS);
	ck_assert_uint_eq(get32(buf + 24), SCSI_MAX_UNMAP_DESC);
	cdb[2] = 0xb1;
	run(0, cdb, 6, 255, true);
	ck_assert_uint_eq(buf[5], 1);		/* non-rotating */
	cdb[2] = 0xb2;
	run(0, cdb, 6, 255, true);
	ck_assert_uint_eq(buf[5], 0xc4);	/* LBPU, LBPWS, LBPRZ */
	run(3, cdb, 6, 255, true);
	ck_assert_uint_eq(buf[5], 0);		/* read-only: no unmap */
	cdb[2] = 0xc0;
	run(0, cdb, 6, 255, true);
	ck_sense(&res, 5, 0x2400);
	cdb[2] = 0;
	run(9, cdb, 6, 255, true);
	ck_sense(&res, 5, 0x2500);
}
END_TEST

START_TEST(read_capacity)
{
	uint8_t cdb[16] = { 0x25 };

	run(0, cdb, 10, 8, true);
	ck_assert_uint_eq(get32(buf), NBLOCKS - 1);
	ck_assert_uint_eq(get32(buf + 4), 512);
	rw_disk.nblocks = 1ull << 33;
	run(0, cdb, 10, 8, true);
	ck_assert_uint_eq(get32(buf), 0xffffffffu);
	memset(cdb, 0, 16);
	cdb[0] = 0x9e;
	cdb[1] = 0x10;
	cdb[13] = 32;
	run(0, cdb, 16, 32, true);
	ck_assert_uint_eq(res.data_len, 32);
	ck_assert_uint_eq(get32(buf), 1);
	ck_assert_uint_eq(get32(buf + 4), 0xffffffffu);
	ck_assert_uint_eq(buf[13], 3);		/* 4 KiB physical */
	ck_assert_uint_eq(buf[14], 0xc0);	/* LBPME, LBPRZ */
	cdb[1] = 0x11;
	run(0, cdb, 16, 32, true);
	ck_sense(&res, 5, 0x2400);
}
END_TEST

START_TEST(read_write_all_sizes)
{
	uint8_t cdb[16];
	uint32_t i;

	for (i = 0; i < 4096; i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	rw10(cdb, 0x2a, 100, 8);
	run(0, cdb, 10, 4096, false);
	ck_assert_uint_eq(res.status, 0);
	ck_assert_uint_eq(res.io, SCSI_IO_WRITE);
	ck_assert_uint_eq(res.off, 100 * 512);
	ck_assert(!res.fua);
	memset(buf, 0, 4096);
	/* READ(12) and READ(16) of the same blocks. */
	memset(cdb, 0, 16);
	cdb[0] = 0xa8;
	put32(cdb + 2, 100);
	put32(cdb + 6, 8);
	run(0, cdb, 12, 4096, true);
	ck_assert_uint_eq(res.len, 4096);
	for (i = 0; i < 4096; i++)
		ck_assert_uint_eq(buf[i], (uint8_t)(i * 7 + 1));
	memset(cdb, 0, 16);
	cdb[0] = 0x88;
	put64(cdb + 2, 104);
	put32(cdb + 10, 1);
	run(0, cdb, 16, 512, true);
	ck_assert_uint_eq(buf[0], (uint8_t)(4 * 512 * 7 + 1));
	/* WRITE(16) with FUA, WRITE(12). */
	memset(cdb, 0, 16);
	cdb[0] = 0x8a;
	cdb[1] = 0x08;
	put64(cdb + 2, NBLOCKS - 1);
	put32(cdb + 10, 1);
	run(0, cdb, 16, 512, false);
	ck_assert_uint_eq(res.io, SCSI_IO_WRITE);
	ck_assert(res.fua);
	memset(cdb, 0, 16);
	cdb[0] = 0xaa;
	put32(cdb + 2, 0);
	put32(cdb + 6, 1);
	run(0, cdb, 12, 512, false);
	ck_assert_uint_eq(res.io, SCSI_IO_WRITE);
	/* Zero blocks: nothing to do, GOOD. */
	rw10(cdb, 0x28, NBLOCKS, 0);
	run(0, cdb, 10, 0, true);
	ck_assert_uint_eq(res.status, 0);
	ck_assert_uint_eq(res.io, SCSI_IO_NONE);
}
END_TEST

START_TEST(lba_ranges_and_lengths)
{
	uint8_t cdb[16];

	rw10(cdb, 0x28, NBLOCKS, 1);
	run(0, cdb, 10, 512, true);
	ck_sense(&res, 5, 0x2100);
	rw10(cdb, 0x28, NBLOCKS - 1, 2);
	run(0, cdb, 10, 1024, true);
	ck_sense(&res, 5, 0x2100);
	/* LBA + length wraps 64 bits. */
	memset(cdb, 0, 16);
	cdb[0] = 0x88;
	put64(cdb + 2, ~0ull);
	put32(cdb + 10, 2);
	run(0, cdb, 16, 1024, true);
	ck_sense(&res, 5, 0x2100);
	/* More than the buffer, more than the transfer limit. */
	rw10(cdb, 0x28, 0, 8);
	run(0, cdb, 10, 4095, true);
	ck_sense(&res, 5, 0x2400);
	ck_assert_uint_eq(res.sense[17], 7);
	rw10(cdb, 0x28, 0, 129);
	run(0, cdb, 10, 1 << 16, true);
	ck_sense(&res, 5, 0x2400);
	/* The wrong direction, protection information. */
	rw10(cdb, 0x28, 0, 1);
	run(0, cdb, 10, 512, false);
	ck_sense(&res, 5, 0x2400);
	cdb[1] = 0x20;
	run(0, cdb, 10, 512, true);
	ck_sense(&res, 5, 0x2400);
	ck_assert_uint_eq(res.sense[17], 1);
}
END_TEST

START_TEST(cdb_lengths_and_opcodes)
{
	uint8_t cdb[16];

	rw10(cdb, 0x28, 0, 1);
	run(0, cdb, 6, 512, true);		/* READ(10) in 6 bytes */
	ck_sense(&res, 5, 0x2400);
	run(0, cdb, 0, 512, true);
	ck_sense(&res, 5, 0x2400);
	run(0, cdb, 17, 512, true);
	ck_sense(&res, 5, 0x2400);
	cdb[0] = 0x0a;				/* WRITE(6): not taken */
	run(0, cdb, 6, 512, false);
	ck_sense(&res, 5, 0x2000);
	cdb[0] = 0xc1;				/* vendor specific */
	run(0, cdb, 16, 0, false);
	ck_sense(&res, 5, 0x2000);
	cdb[0] = 0x00;
	run(5, cdb, 6, 0, false);		/* no disk at LUN 5 */
	ck_sense(&res, 5, 0x2500);
	run(0, cdb, 6, 0, false);
	ck_assert_uint_eq(res.status, 0);
}
END_TEST

START_TEST(read_only_disk)
{
	uint8_t cdb[16];

	rw10(cdb, 0x2a, 0, 1);
	run(3, cdb, 10, 512, false);
	ck_sense(&res, 7, 0x2700);
	memset(cdb, 0, 16);
	cdb[0] = 0x42;
	cdb[8] = 24;
	run(3, cdb, 10, 24, false);
	ck_sense(&res, 7, 0x2700);
	memset(cdb, 0, 16);
	cdb[0] = 0x93;
	cdb[1] = 0x09;
	put32(cdb + 10, 1);
	run(3, cdb, 16, 0, false);
	ck_sense(&res, 7, 0x2700);
	rw10(cdb, 0x28, 0, 1);
	run(3, cdb, 10, 512, true);
	ck_assert_uint_eq(res.status, 0);
	cdb[0] = 0x35;				/* nothing to flush */
	run(3, cdb, 10, 0, false);
	ck_assert_uint_eq(res.status, 0);
	ck_assert_uint_eq(res.io, SCSI_IO_NONE);
	memset(cdb, 0, 16);
	cdb[0] = 0x1a;
	cdb[2] = 0x3f;
	cdb[4] = 255;
	run(3, cdb, 6, 255, true);
	ck_assert_uint_eq(buf[2] & 0x80, 0x80);	/* WP */
}
END_TEST

START_TEST(sync_cache)
{
	uint8_t cdb[16] = { 0x35 };

	run(0, cdb, 10, 0, false);
	ck_assert_uint_eq(res.io, SCSI_IO_FLUSH);
	memset(cdb, 0, 16);
	cdb[0] = 0x91;
	put64(cdb + 2, NBLOCKS);
	put32(cdb + 10, 1);
	run(0, cdb, 16, 0, false);
	ck_sense(&res, 5, 0x2100);
}
END_TEST

static void unmap_list(uint8_t *p, unsigned int n, uint64_t lba, uint32_t c)
{
	unsigned int i;

	memset(p, 0, 8 + 16 * n);
	p[0] = (uint8_t)((6 + 16 * n) >> 8);
	p[1] = (uint8_t)(6 + 16 * n);
	p[2] = (uint8_t)((16 * n) >> 8);
	p[3] = (uint8_t)(16 * n);
	for (i = 0; i < n; i++) {
		put64(p + 8 + 16 * i, lba + (uint64_t)i * c);
		put32(p + 16 + 16 * i, c);
	}
}

START_TEST(unmap_and_write_same)
{
	uint8_t cdb[16] = { 0x42 };
	uint32_t plen;

	memset(mem, 0xab, NBLOCKS * 512);
	unmap_list(buf, 2, 10, 4);
	plen = 8 + 32;
	cdb[7] = 0;
	cdb[8] = (uint8_t)plen;
	run(0, cdb, 10, plen, false);
	ck_assert_uint_eq(res.status, 0);
	ck_assert_uint_eq(res.io, SCSI_IO_UNMAP);
	ck_assert_uint_eq(res.nunmap, 2);
	ck_assert_uint_eq(res.unmap[1].off, 14 * 512);
	ck_assert_uint_eq(mem[10 * 512], 0);
	ck_assert_uint_eq(mem[18 * 512 - 1], 0);
	ck_assert_uint_eq(mem[18 * 512], 0xab);
	/* Malformed lists: short, odd descriptor length, too many, range. */
	cdb[8] = 4;
	run(0, cdb, 10, 4, false);
	ck_sense(&res, 5, 0x1a00);
	unmap_list(buf, 1, 0, 1);
	buf[3] = 15;
	cdb[8] = 24;
	run(0, cdb, 10, 24, false);
	ck_sense(&res, 5, 0x2600);
	unmap_list(buf, 1, NBLOCKS - 1, 2);
	run(0, cdb, 10, 24, false);
	ck_sense(&res, 5, 0x2100);
	unmap_list(buf, 1, ~0ull, 2);
	run(0, cdb, 10, 24, false);
	ck_sense(&res, 5, 0x2100);
	unmap_list(buf, SCSI_MAX_UNMAP_DESC + 1, 0, 1);
	plen = 8 + 16 * (SCSI_MAX_UNMAP_DESC + 1);
	cdb[7] = (uint8_t)(plen >> 8);
	cdb[8] = (uint8_t)plen;
	run(0, cdb, 10, plen, false);
	ck_sense(&res, 5, 0x2600);
	/* The parameter list is longer than the buffer. */
	unmap_list(buf, 1, 0, 1);
	cdb[7] = 0;
	cdb[8] = 24;
	run(0, cdb, 10, 16, false);
	ck_sense(&res, 5, 0x1a00);
	/* ANCHOR */
	cdb[1] = 1;
	run(0, cdb, 10, 24, false);
	ck_sense(&res, 5, 0x2400);

	/* WRITE SAME(16): UNMAP with NDOB; zeroes without UNMAP; refusals. */
	memset(cdb, 0, 16);
	cdb[0] = 0x93;
	cdb[1] = 0x09;
	put64(cdb + 2, 100);
	put32(cdb + 10, 50);
	run(0, cdb, 16, 0, false);
	ck_assert_uint_eq(res.io, SCSI_IO_UNMAP);
	ck_assert_uint_eq(res.unmap[0].off, 100 * 512);
	ck_assert_uint_eq(res.unmap[0].len, 50 * 512);
	cdb[1] = 0;
	memset(buf, 0, 512);
	run(0, cdb, 16, 512, false);
	ck_assert_uint_eq(res.io, SCSI_IO_WRITE_ZEROES);
	buf[17] = 1;				/* not a zero pattern */
	run(0, cdb, 16, 512, false);
	ck_sense(&res, 5, 0x2400);
	run(0, cdb, 16, 100, false);		/* no whole block */
	ck_sense(&res, 5, 0x1a00);
	put32(cdb + 10, 0);
	cdb[1] = 0x09;
	run(0, cdb, 16, 0, false);
	ck_sense(&res, 5, 0x2400);
	put64(cdb + 2, NBLOCKS);
	put32(cdb + 10, 1);
	run(0, cdb, 16, 0, false);
	ck_sense(&res, 5, 0x2100);
	/* What scsi_exec wants copied is bounded. */
	memset(cdb, 0, 16);
	cdb[0] = 0x42;
	cdb[7] = 0xff;
	cdb[8] = 0xff;
	ck_assert_uint_eq(scsi_dout_wanted(cdb, 10, 512), SCSI_UNMAP_PARAM_MAX);
	ck_assert_uint_eq(scsi_dout_wanted(cdb, 6, 512), 0);
}
END_TEST

START_TEST(mode_sense_pages)
{
	uint8_t cdb[16] = { 0x1a, 0, 0x08, 0, 255 };

	run(0, cdb, 6, 255, true);
	ck_assert_uint_eq(res.data_len, 4 + 8 + 20);
	ck_assert_uint_eq(buf[0], res.data_len - 1);
	ck_assert_uint_eq(buf[2], 0x10);	/* DPOFUA, not WP */
	ck_assert_uint_eq(buf[3], 8);
	ck_assert_uint_eq(buf[12], 0x08);
	ck_assert_uint_eq(buf[14] & 0x04, 0x04);	/* WCE */
	cdb[1] = 0x08;				/* DBD */
	run(0, cdb, 6, 255, true);
	ck_assert_uint_eq(buf[3], 0);
	ck_assert_uint_eq(buf[4], 0x08);
	cdb[2] = 0xc8;				/* saved values */
	run(0, cdb, 6, 255, true);
	ck_sense(&res, 5, 0x3900);
	cdb[2] = 0x1c;
	run(0, cdb, 6, 255, true);
	ck_sense(&res, 5, 0x2400);
	memset(cdb, 0, 16);
	cdb[0] = 0x5a;
	cdb[2] = 0x3f;
	cdb[8] = 255;
	run(0, cdb, 10, 255, true);
	ck_assert_uint_eq(res.data_len, 8 + 8 + 20 + 12);
	ck_assert_uint_eq((buf[0] << 8 | buf[1]), res.data_len - 2);
	ck_assert_uint_eq(buf[16], 0x08);
	ck_assert_uint_eq(buf[36], 0x0a);
}
END_TEST

START_TEST(report_luns_and_request_sense)
{
	uint8_t cdb[16] = { 0xa0 };

	put32(cdb + 6, 64);
	run(0, cdb, 12, 64, true);
	ck_assert_uint_eq(get32(buf), 16);
	ck_assert_uint_eq(buf[9], 0);
	ck_assert_uint_eq(buf[17], 3);
	run(9, cdb, 12, 64, true);		/* at any LUN */
	ck_assert_uint_eq(res.status, 0);
	put32(cdb + 6, 8);
	run(0, cdb, 12, 64, true);
	ck_sense(&res, 5, 0x2400);
	memset(cdb, 0, 16);
	cdb[0] = 0x03;
	cdb[4] = 252;
	run(0, cdb, 6, 252, true);
	ck_assert_uint_eq(res.data_len, 18);
	ck_assert_uint_eq(buf[0], 0x70);
	ck_assert_uint_eq(buf[2], 0);
}
END_TEST

/* A result reused (or fresh from malloc) carries nothing of before. */
START_TEST(result_fields_cleared)
{
	uint8_t cdb[16];

	memset(&res, 0xff, sizeof(res));
	rw10(cdb, 0x2a, 0, 1);
	scsi_exec(&tgt, 3, cdb, 10, 512, false, NULL, 0, &res);
	ck_sense(&res, 7, 0x2700);
	ck_assert(!res.fua);
	ck_assert_uint_eq(res.nunmap, 0);
	ck_assert_uint_eq(res.off, 0);
	ck_assert_uint_eq(res.len, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("storvsp-scsi");
	TCase *tc = tcase_create("scsi");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, inquiry_standard_and_absent_lun);
	tcase_add_test(tc, inquiry_vpd_pages);
	tcase_add_test(tc, read_capacity);
	tcase_add_test(tc, read_write_all_sizes);
	tcase_add_test(tc, lba_ranges_and_lengths);
	tcase_add_test(tc, cdb_lengths_and_opcodes);
	tcase_add_test(tc, read_only_disk);
	tcase_add_test(tc, sync_cache);
	tcase_add_test(tc, unmap_and_write_same);
	tcase_add_test(tc, mode_sense_pages);
	tcase_add_test(tc, report_luns_and_request_sense);
	tcase_add_test(tc, result_fields_cleared);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
