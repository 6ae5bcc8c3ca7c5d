/*-------------------------------------------------------------------------
 *
 * morgenmigrate.h
 *	  What every module of morgenmigrate needs: the extension's schema,
 *	  the key of its advisory lock, the length of a checksum, and the
 *	  settings (defined in morgenmigrate.c).  Each module declares what it
 *	  offers in a header of its own; README.md's Layout section gives the
 *	  order in which they may include each other.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_H
#define MORGENMIGRATE_H

#include "postgres.h"

#include "common/sha2.h"

/* The schema every object of the extension lives in (not relocatable). */
#define MM_SCHEMA "morgenmigrate"

/*
 * The advisory lock every history writer takes, as pg_advisory_lock(bigint)
 * would with this key: 0x6d6f7267656e6d6d, "morgenmm" in ASCII.
 */
#define MM_LOCK_KEY INT64CONST(7885647260957961581)

/* Length of a checksum in hex, without the terminating zero. */
#define MM_CHECKSUM_LEN (PG_SHA256_DIGEST_LENGTH * 2)

/* Settings (morgenmigrate.c) */
extern char *mm_allowed_directories;
extern int	mm_max_file_size;	/* kB */
extern int	mm_max_push_size;	/* kB, of the files of a push together */
extern int	mm_lock_timeout;	/* ms, a file's lock_timeout by default */
extern int	mm_lock_retries;	/* a file's retries by default */
extern int	mm_layout;			/* MigrationLayout: the layout to read,
								 * LAYOUT_AUTO to detect it */
extern bool mm_trust_network_fingerprints;	/* trust file times on network
											 * file systems */
extern int	mm_max_locked_bytes;	/* kB a statement may read under a lock
									 * that blocks writes; -1: no limit */

#endif							/* MORGENMIGRATE_H */
