/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SCSI disk emulation of the storage VSP: what a command means, apart from
 * how it reaches the backing store.
 *
 * scsi_exec() decodes one CDB against a target (a set of LUNs) and either
 * answers it at once (INQUIRY, MODE SENSE, ...: the data-in bytes are in
 * the result) or turns it into one backing-store operation (read, write,
 * flush, unmap, write zeroes) for the caller to perform.  Every failure
 * is a CHECK CONDITION with fixed-format sense data, made in one place
 * (scsi_sense()).  Nothing here does I/O or touches guest memory: the
 * caller copies what the guest wrote (an UNMAP parameter list, the block
 * of a WRITE SAME) into private memory first.
 */
#ifndef STORVSP_SCSI_H
#define STORVSP_SCSI_H

#include <stdbool.h>
#include <stdint.h>

/* SAM status codes. */
#define SCSI_STATUS_GOOD		0x00
#define SCSI_STATUS_CHECK_CONDITION	0x02
#define SCSI_STATUS_BUSY		0x08

/* Sense keys. */
#define SCSI_SK_NO_SENSE		0x0
#define SCSI_SK_NOT_READY		0x2
#define SCSI_SK_MEDIUM_ERROR		0x3
#define SCSI_SK_HARDWARE_ERROR		0x4
#define SCSI_SK_ILLEGAL_REQUEST		0x5
#define SCSI_SK_DATA_PROTECT		0x7
#define SCSI_SK_ABORTED_COMMAND		0xb

/* Additional sense codes (ASC << 8 | ASCQ). */
#define SCSI_ASC_NONE			0x0000
#define SCSI_ASC_WRITE_ERROR		0x0c00
#define SCSI_ASC_UNRECOVERED_READ	0x1100
#define SCSI_ASC_PARAM_LIST_LENGTH	0x1a00
#define SCSI_ASC_INVALID_OPCODE		0x2000
#define SCSI_ASC_LBA_OUT_OF_RANGE	0x2100
#define SCSI_ASC_INVALID_FIELD_IN_CDB	0x2400
#define SCSI_ASC_LUN_NOT_SUPPORTED	0x2500
#define SCSI_ASC_INVALID_FIELD_IN_PARAM	0x2600
#define SCSI_ASC_WRITE_PROTECTED	0x2700
#define SCSI_ASC_SPACE_ALLOC_FAILED	0x2707
#define SCSI_ASC_INTERNAL_TARGET_FAILURE 0x4400

/* Fixed-format sense data (SPC-4 4.5.3), as sent: 18 bytes. */
#define SCSI_SENSE_LEN			18

/* LUNs of one target (Hyper-V's controller has 64 per target). */
#define SCSI_MAX_LUNS			64
/* Largest data-in answer made here (REPORT LUNS of 64 LUNs: 520). */
#define SCSI_MAX_DATA_IN		1024
/* UNMAP block descriptors taken in one command (Block Limits VPD). */
#define SCSI_MAX_UNMAP_DESC		64
/* Bytes of the largest UNMAP parameter list: header + descriptors. */
#define SCSI_UNMAP_PARAM_MAX		(8 + 16 * SCSI_MAX_UNMAP_DESC)
/* Blocks one UNMAP descriptor or WRITE SAME may cover (Block Limits VPD). */
#define SCSI_MAX_UNMAP_BLOCKS		(1u << 22)

struct scsi_disk {
	uint64_t nblocks;		/* capacity in logical blocks */
	uint32_t block_size;		/* 512 or 4096 */
	uint32_t max_xfer_blocks;	/* largest READ/WRITE */
	bool ro;
	bool can_unmap;			/* the store can punch holes / discard */
	uint8_t naa[8];			/* NAA-6-ish identifier, VPD 0x83 */
	char serial[21];		/* VPD 0x80, NUL-terminated */
};

struct scsi_target {
	struct scsi_disk *lun[SCSI_MAX_LUNS];	/* NULL: no disk there */
};

enum scsi_io {
	SCSI_IO_NONE = 0,	/* answered: status, sense, data */
	SCSI_IO_READ,		/* read len bytes at off into the data-in buffer */
	SCSI_IO_WRITE,		/* write len bytes at off from the data-out buffer */
	SCSI_IO_FLUSH,		/* make every completed write durable */
	SCSI_IO_UNMAP,		/* deallocate unmap[0..nunmap) (bytes) */
	SCSI_IO_WRITE_ZEROES,	/* zero unmap[0] (bytes), keep it allocated */
};

struct scsi_extent {
	uint64_t off;		/* bytes, inside the disk */
	uint64_t len;		/* bytes, > 0 */
};

struct scsi_result {
	uint8_t status;				/* SCSI_STATUS_* */
	uint8_t sense_len;			/* 0 or SCSI_SENSE_LEN */
	uint8_t sense[SCSI_SENSE_LEN];
	uint32_t data_len;			/* data-in bytes of data[] */
	enum scsi_io io;
	uint64_t off, len;			/* READ, WRITE */
	bool fua;				/* WRITE: durable before GOOD */
	uint32_t nunmap;
	struct scsi_extent unmap[SCSI_MAX_UNMAP_DESC];
	uint8_t data[SCSI_MAX_DATA_IN];		/* last: not cleared */
};

/*
 * Execute @cdb (@cdb_len bytes as the client says, 1-16) for LUN @lun.
 * @xfer_len is the data buffer the client provided, @data_in its
 * direction (true: to the client).  @dout holds a private copy of the
 * first @dout_len bytes of a data-out buffer (UNMAP's parameter list,
 * WRITE SAME's block), NULL if none was copied.  Returns the answer in
 * @r; never fails otherwise.
 */
void scsi_exec(const struct scsi_target *t, unsigned int lun,
	       const uint8_t *cdb, unsigned int cdb_len, uint32_t xfer_len,
	       bool data_in, const uint8_t *dout, uint32_t dout_len,
	       struct scsi_result *r);

/* Bytes of data-out scsi_exec() wants copied for @cdb (0: none). */
uint32_t scsi_dout_wanted(const uint8_t *cdb, unsigned int cdb_len,
			  uint32_t block_size);

/* Fill @r with CHECK CONDITION and fixed-format sense @key/@asc_ascq. */
void scsi_sense(struct scsi_result *r, uint8_t key, uint16_t asc_ascq);
/* The same, for an invalid field of the CDB at byte @byte (field pointer). */
void scsi_sense_cdb_field(struct scsi_result *r, unsigned int byte);

/* SCSI error of a failed backing-store operation (-errno). */
void scsi_io_error(struct scsi_result *r, enum scsi_io io, int err);

#endif /* STORVSP_SCSI_H */
