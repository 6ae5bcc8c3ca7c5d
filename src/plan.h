/*-------------------------------------------------------------------------
 *
 * plan.h
 *	  The directory against the history: the state of every file and every
 *	  history row, and which files a call should run.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_PLAN_H
#define MORGENMIGRATE_PLAN_H

#include "postgres.h"

#include "history.h"
#include "migration.h"

typedef enum MigrationState
{
	MS_APPLIED,
	MS_BASELINE,
	MS_PENDING,
	MS_CHANGED,
	MS_MISSING,
	MS_FAILED,
	MS_ORPHAN,
	MS_EXTERNAL,				/* pending, but only its own runner can run it */
	MS_OUTDATED					/* a repeatable migration changed since it ran */
} MigrationState;

/* One file or history row, with its state. */
typedef struct MigrationEntry
{
	const char *filename;
	MigrationState state;
	const MigrationFile *file;	/* NULL when missing or orphan */
	const HistoryRow *applied;	/* NULL when never applied */
	const FailureRow *failure;	/* the last failure, or NULL */
	const char *checksum;		/* of the file, "" if unread or none */
	const FileSections *sections;	/* of the file, as inspected; NULL if
									 * none */
} MigrationEntry;

extern List *plan_entries(MigrationDir *dir, const History *history);
extern const char *migration_state_name(MigrationState state);
extern List *plan_pending(const MigrationDir *dir, List *entries,
						  const char *target, int steps, bool warn_order);
extern void plan_refuse_changed(List *entries);
extern void plan_warn_missing(List *entries);

#endif							/* MORGENMIGRATE_PLAN_H */
