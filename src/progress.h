/*-------------------------------------------------------------------------
 *
 * progress.h
 *	  What each running migration call is doing, in shared memory, for the
 *	  morgenmigrate.progress view: a slot per backend, written once per
 *	  file and per statement.  Needs shared_preload_libraries; without
 *	  it, every function here does nothing and the view is empty.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_PROGRESS_H
#define MORGENMIGRATE_PROGRESS_H

#include "postgres.h"

#include "nodes/execnodes.h"

#include "migration.h"

/* The call a slot shows. */
typedef enum ProgressCall
{
	PROGRESS_APPLY,
	PROGRESS_REHEARSAL,
	PROGRESS_ROLLBACK,
	PROGRESS_RUN,
	PROGRESS_RUN_ROLLBACK
} ProgressCall;

/* What the call does, as far as it can tell itself. */
typedef enum ProgressState
{
	PROGRESS_RUNNING,
	PROGRESS_BUILDING_INDEX,
	PROGRESS_SLEEPING			/* between retries after a lock timeout */
} ProgressState;

extern void progress_preload(void);
extern bool progress_tracking(void);
extern void progress_begin(ProgressCall call, const char *directory);
extern void progress_end(void);
extern void progress_file(const char *filename, int done, int total);
extern void progress_statement(const MigrationScript *script,
							   const MigrationStatement *stmt);
extern void progress_state(ProgressState state);
extern void progress_worker(int pid);
extern void progress_put_rows(ReturnSetInfo *rsinfo);

#endif							/* MORGENMIGRATE_PROGRESS_H */
