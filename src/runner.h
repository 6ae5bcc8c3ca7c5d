/*-------------------------------------------------------------------------
 *
 * runner.h
 *	  Running migration scripts: the lock every history writer takes, one
 *	  file as a unit (subtransaction, error context, settings nesting,
 *	  retries), statement by statement for migrate_run, and the locks a
 *	  rehearsal took.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_RUNNER_H
#define MORGENMIGRATE_RUNNER_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/elog.h"
#include "utils/resowner.h"

#include "migration.h"

/* What became of one file. */
typedef struct MigrationOutcome
{
	bool		ok;
	int			statements;		/* statements that completed */
	int64		duration;		/* microseconds */
	TimestampTz finished_at;
	ErrorData  *error;			/* when !ok, with the migration's context */
	int			error_line;		/* the line the error points at */
} MigrationOutcome;

extern void runner_lock_history(void);
extern void runner_lock_history_session(void);
extern void runner_unlock_history_session(void);
extern void runner_report_progress(const char *filename, int k, int n);
extern void runner_report_done(void);
extern void run_script(const MigrationScript *script, bool catch_error,
					   MigrationOutcome *outcome);
extern void run_script_in_steps(const MigrationScript *script,
								MigrationOutcome *outcome);

/* The relation locks a backend holds, with the catalog as it was then. */
typedef struct HeldLocks HeldLocks;

extern ErrorData *runner_subxact_catch(MemoryContext cxt,
										ResourceOwner owner);
extern void runner_subxact_rollback(MemoryContext cxt, ResourceOwner owner);
extern HeldLocks *runner_locks_held(void);
extern Datum runner_locks_taken(HeldLocks *before);
extern void runner_note_held_locks(int nrehearsed);

#endif							/* MORGENMIGRATE_RUNNER_H */
