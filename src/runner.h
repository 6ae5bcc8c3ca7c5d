/*-------------------------------------------------------------------------
 *
 * runner.h
 *	  Running migration scripts: one file as a unit (subtransaction,
 *	  settings nesting, retries), or statement by statement for
 *	  migrate_run.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_RUNNER_H
#define MORGENMIGRATE_RUNNER_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/elog.h"

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
	char	   *blockers;		/* a lock timeout's: who held the lock, as
								 * a jsonb array, or NULL */
	bool		interrupted;	/* the error is the caller's cancel or
								 * statement_timeout, not the file's own */
} MigrationOutcome;

extern void runner_report_progress(const char *filename, int k, int n);
extern void runner_report_done(void);
/* What run_script does with a file's error. */
typedef enum RunMode
{
	RUN_RETHROW,				/* re-throw it; a lock timeout is retried in
								 * the file's own subtransaction */
	RUN_CATCH,					/* return it in the outcome, the file's work
								 * rolled back alone */
	RUN_IN_CALL					/* re-throw it at once: the caller's
								 * subtransaction holds the file, and the
								 * caller retries (runner_retry_wait) */
} RunMode;

extern void run_script(const MigrationScript *script, RunMode mode,
					   MigrationOutcome *outcome);
extern bool runner_waits_for_locks(const MigrationScript *script);
extern void runner_retry_notice(const char *name, int attempt, int retries,
								const ErrorData *edata, const char *blockers);
extern void runner_add_blockers(ErrorData *edata, const char *blockers);
extern void runner_retry_wait(int attempt);
extern void run_script_in_steps(const MigrationScript *script,
								MigrationOutcome *outcome);

/*
 * The search_path every file runs with, as a setting of the file's own
 * (set by a module above for a fleet of tenant schemas); NULL: the
 * caller's.
 */
extern const char *runner_search_path;
extern int	runner_search_path_begin(void);
extern void runner_search_path_end(int nest);

/*
 * Set by a module above (drift.c) to hear that a migration's statements
 * begin, or have ended, in this backend.
 */
typedef void (*RunnerHook) (void);
extern RunnerHook runner_begin_hook;
extern RunnerHook runner_end_hook;

#endif							/* MORGENMIGRATE_RUNNER_H */
