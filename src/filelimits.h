/*-------------------------------------------------------------------------
 *
 * filelimits.h
 *	  A migration file's own limits, and the caller's settings around it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_FILELIMITS_H
#define MORGENMIGRATE_FILELIMITS_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "migration.h"

/* The file's statement_timeout, armed over the caller's. */
typedef struct FileTimeout
{
	bool		armed;
	bool		outer_active;
	TimestampTz outer_fin;
	TimestampTz fin;
} FileTimeout;

/* The caller's session settings, saved before a file run in steps. */
typedef struct SavedSettings SavedSettings;

extern SavedSettings *filelimits_save_settings(void);
extern void filelimits_restore_settings(SavedSettings *saved);
extern void filelimits_arm_timeout(const MigrationScript *script, FileTimeout *ft);
extern void filelimits_disarm_timeout(FileTimeout *ft);
extern bool filelimits_deadline_passed(void);

#endif							/* MORGENMIGRATE_FILELIMITS_H */
