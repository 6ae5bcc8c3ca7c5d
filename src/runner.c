/*-------------------------------------------------------------------------
 *
 * runner.c
 *	  Running migration scripts: a file as a unit (in a subtransaction
 *	  where it must be undone alone), its settings nesting and limits,
 *	  retries after a lock timeout, its deferred constraints checked at its
 *	  end, statement by statement for migrate_run (the top-level ones in a
 *	  background worker), timing, and progress in pg_stat_activity.
 *
 * The subtransaction pattern is plpython's (PLy_spi_subtransaction_*); the
 * settings nesting is index_build's (NewGUCNestLevel/AtEOXact_GUC).  The
 * lock is lock.c's, the error context context.c's, the caller's settings
 * and the file's deadline filelimits.c's, the leftovers of failed index
 * builds leftovers.c's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "executor/spi.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/backend_status.h"
#include "utils/wait_event.h"

#include "blockers.h"
#include "citus.h"
#include "context.h"
#include "deferrable.h"
#include "filelimits.h"
#include "leftovers.h"
#include "migration.h"
#include "progress.h"
#include "runner.h"
#include "script.h"
#include "subxact.h"
#include "worker.h"

/* standard_conforming_strings as the running file was split with. */
static bool file_standard_strings = true;

/* Set by a module above (drift.c): a migration begins, or ends, here. */
const char *runner_search_path = NULL;
RunnerHook	runner_begin_hook = NULL;
RunnerHook	runner_end_hook = NULL;

static int	statements_in_group(const MigrationScript *script, int i);
static void finish_outcome(MigrationOutcome *outcome, ErrorData *edata,
						   instr_time start);
static ErrorData *try_with_retries(const MigrationScript *script, int first,
								   int count, bool subxact,
								   MigrationOutcome *outcome,
								   bool *own_timeout);
static ErrorData *try_statements(const MigrationScript *script, int first,
								 int count, bool subxact, bool nest_settings,
								 MigrationOutcome *outcome);
static void execute_statement(const MigrationScript *script,
							  const MigrationStatement *stmt);
static void check_standard_strings(const MigrationScript *script);
static void check_deferred_constraints(void);
static LockTimeoutBlockers *timeout_blockers(ErrorData *edata);

/*
 * Shows in pg_stat_activity.query which file runs, k of n, and in
 * morgenmigrate.progress.
 */
void
runner_report_progress(const char *filename, int k, int n)
{
	char	   *activity = psprintf("morgenmigrate: running \"%s\" (%d of %d)",
									filename, k, n);

	pgstat_report_activity(STATE_RUNNING, activity);
	pfree(activity);
	progress_file(filename, k - 1, n);
}

/* Puts the caller's own query back into pg_stat_activity. */
void
runner_report_done(void)
{
	pgstat_report_activity(STATE_RUNNING,
						   debug_query_string ? debug_query_string : "");
}

/*
 * Runs one script as a unit: its work stays with the caller's transaction,
 * its settings end with it.  On failure the error, annotated with the file
 * and line, is re-thrown, or returned in outcome with RUN_CATCH (cancels
 * are always re-thrown).  With RUN_RETHROW a lock timeout is retried as
 * often as the file's retries directive allows, in a subtransaction of
 * the file's own (where its blockers can be named); with RUN_IN_CALL the
 * caller holds the file in a subtransaction of its own and retries.
 *
 * When the error is to be re-thrown and nothing is retried here, the whole
 * call fails and its transaction rolls back anyway, so the file needs no
 * subtransaction of its own: one per file would only cost time that grows
 * with the number of files in the transaction, and a transaction with more
 * than 64 subtransactions slows down every other session's snapshots.
 */
void
run_script(const MigrationScript *script, RunMode mode,
		   MigrationOutcome *outcome)
{
	instr_time	start;
	bool		own_timeout;
	ErrorData  *edata;
	bool		catch_error = mode == RUN_CATCH;

	memset(outcome, 0, sizeof(MigrationOutcome));
	INSTR_TIME_SET_CURRENT(start);
	file_standard_strings = standard_conforming_strings;

	if (runner_begin_hook != NULL)
		runner_begin_hook();
	edata = try_with_retries(script, 0, script->nstatements,
							 catch_error ||
							 (mode == RUN_RETHROW && runner_waits_for_locks(script)),
							 outcome, &own_timeout);
	if (runner_end_hook != NULL)
		runner_end_hook();
	if (edata != NULL &&
		(!catch_error ||
		 (edata->sqlerrcode == ERRCODE_QUERY_CANCELED && !own_timeout)))
		ReThrowError(edata);
	finish_outcome(outcome, edata, start);
}

/*
 * Tells whether a script may end in a lock timeout: by its retries,
 * retried in a subtransaction of its own, or by a lock_timeout (its own or
 * the caller's), whose blockers are named once that subtransaction is
 * rolled back.
 */
bool
runner_waits_for_locks(const MigrationScript *script)
{
	return script->directives.retries > 0 ||
		script->directives.lock_timeout > 0 || LockTimeout > 0;
}

/*
 * Runs a script that holds statements no transaction block can hold (as
 * marked by the preflight in PREFLIGHT_STEPS mode), for migrate_run:
 * statement by statement, each in its own transaction, committed; the
 * top-level ones in a background worker.  Settings the file changes hold
 * from one statement to the next (so that "SET lock_timeout" before a
 * CREATE INDEX CONCURRENTLY works) and end with the file.  The file's
 * statement_timeout is a deadline for the whole file, retries apply to the
 * statement that hit the lock timeout.  Never throws a migration's error
 * (cancels included: what committed must be recorded): whatever fails
 * (a statement, the wait before a retry, the commit after a statement)
 * comes back in outcome with the file's context line, its transaction
 * rolled back, the caller's settings and role put back.  The caller must
 * be connected to SPI in non-atomic mode.
 */
void
run_script_in_steps(const MigrationScript *script, MigrationOutcome *outcome)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	instr_time	start;
	SavedSettings *saved = filelimits_save_settings();
	FileTimeout ft;
	ErrorData  *volatile edata = NULL;
	volatile int current = -1;
	volatile bool interrupted = false;

	memset(outcome, 0, sizeof(MigrationOutcome));
	memset(&ft, 0, sizeof(ft));
	INSTR_TIME_SET_CURRENT(start);
	file_standard_strings = standard_conforming_strings;

	if (runner_begin_hook != NULL)
		runner_begin_hook();
	PG_TRY();
	{
		if (runner_search_path != NULL)
			(void) set_config_option("search_path", runner_search_path,
									 PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SET, true, 0, false);
		if (script->directives.lock_timeout >= 0)
			(void) set_config_option("lock_timeout",
									 psprintf("%d", script->directives.lock_timeout),
									 PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SET, true, 0, false);
		filelimits_arm_timeout(script, &ft);

		/*
		 * every statement (or block of statements) starts a transaction of
		 * its own, without snapshot
		 */
		SPI_commit();
		for (int i = 0; i < script->nstatements && edata == NULL;)
		{
			bool		own_timeout;
			int			count = statements_in_group(script, i);

			current = i;
			edata = try_with_retries(script, i, count, true, outcome,
									 &own_timeout);
			interrupted = edata != NULL &&
				edata->sqlerrcode == ERRCODE_QUERY_CANCELED && !own_timeout;
			/* deferred constraints fire here, still the statement's */
			if (edata == NULL)
				SPI_commit();
			i += count;
		}
	}
	PG_CATCH();
	{
		ContextPlace	state;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		interrupted = edata->sqlerrcode == ERRCODE_QUERY_CANCELED &&
			!filelimits_deadline_passed();
		/* the failed transaction goes; a new one starts */
		SPI_rollback();
		MemoryContextSwitchTo(oldcontext);

		state.script = script;
		state.stmt = current >= 0 ? &script->statements[current] : NULL;
		state.line = state.stmt ? script_statement_line(script, state.stmt) : 0;
		state.phase = NULL;
		outcome->error_line = context_annotate(&state, edata);
	}
	PG_END_TRY();
	if (runner_end_hook != NULL)
		runner_end_hook();

	filelimits_disarm_timeout(&ft);
	filelimits_restore_settings(saved);
	finish_outcome(outcome, edata, start);
	outcome->interrupted = interrupted;
}

/*
 * How many statements from the i-th on run in one transaction of a file
 * run in steps: the statements of one block (the author's BEGIN ...
 * COMMIT, a runner's statement block) together, any other alone.
 */
static int
statements_in_group(const MigrationScript *script, int i)
{
	int			group = script->statements[i].group;
	int			count = 1;

	Assert(i >= 0 && i < script->nstatements);
	if (group == 0 || script->statements[i].top_level)
		return 1;
	while (i + count < script->nstatements &&
		   script->statements[i + count].group == group &&
		   !script->statements[i + count].top_level)
		count++;
	return count;
}

/* Fills in the end of an outcome: success or the error, and the time. */
static void
finish_outcome(MigrationOutcome *outcome, ErrorData *edata, instr_time start)
{
	instr_time	duration;

	INSTR_TIME_SET_CURRENT(duration);
	INSTR_TIME_SUBTRACT(duration, start);
	outcome->ok = (edata == NULL);
	outcome->error = edata;
	outcome->duration = INSTR_TIME_GET_MICROSEC(duration);
	outcome->finished_at = GetCurrentTimestamp();
}

/*
 * Sets search_path to the one the files run with (runner_search_path, a
 * tenant's), until runner_search_path_end, for what reads names out of the
 * files before they run: their cost, in the preflight and the plan.
 * Returns the settings' nest level to end, or -1 when the files run with
 * the caller's search_path.
 */
int
runner_search_path_begin(void)
{
	int			nest;

	if (runner_search_path == NULL)
		return -1;
	nest = NewGUCNestLevel();
	(void) set_config_option("search_path", runner_search_path,
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nest;
}

/* Puts back the search_path runner_search_path_begin set (an error does too). */
void
runner_search_path_end(int nest)
{
	if (nest >= 0)
		AtEOXact_GUC(true, nest);
}

/*
 * Tries statements first .. first + count - 1 of a script (in a
 * subtransaction if subxact), again after a lock timeout as often as the
 * retries directive allows (which needs subxact).  A whole file (first == 0, count == all) gets its own
 * deadline per try and its settings end with it; a single statement of a
 * file run in steps keeps its settings, under the file's deadline.
 * Returns NULL or the annotated error; *own_timeout tells whether that is
 * the file's own statement_timeout.
 */
static ErrorData *
try_with_retries(const MigrationScript *script, int first, int count,
				 bool subxact, MigrationOutcome *outcome, bool *own_timeout)
{
	bool		whole_file = (first == 0 && count == script->nstatements &&
							  !script->needs_top_level);

	for (int attempt = 1;; attempt++)
	{
		FileTimeout ft;
		ErrorData  *edata;
		LockTimeoutBlockers *blockers;

		memset(&ft, 0, sizeof(ft));
		if (whole_file)
			filelimits_arm_timeout(script, &ft);
		edata = try_statements(script, first, count, subxact, whole_file,
							   outcome);
		*own_timeout = edata != NULL &&
			edata->sqlerrcode == ERRCODE_QUERY_CANCELED &&
			(whole_file ? ft.armed && GetCurrentTimestamp() >= ft.fin :
			 filelimits_deadline_passed());
		filelimits_disarm_timeout(&ft);

		if (edata == NULL || edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE ||
			!subxact)
			return edata;

		blockers = timeout_blockers(edata);
		if (attempt > script->directives.retries)
		{
			outcome->blockers = blockers ? blockers->json : NULL;
			return edata;
		}
		runner_retry_notice(script->name, attempt, script->directives.retries,
							edata, blockers ? blockers->text : NULL);
		FreeErrorData(edata);
		runner_retry_wait(attempt);

		/*
		 * naming the blockers read pg_stat_activity: the worker must find
		 * a transaction without a snapshot again, as for the first try
		 */
		if (script->statements[first].top_level)
			SPI_commit();
	}
}

/*
 * After a lock timeout ended a try (rolled back by now), who held the
 * lock it waited for (here, or in the background worker that ran the
 * statement), added to the error's detail; NULL when nobody is seen.
 */
static LockTimeoutBlockers *
timeout_blockers(ErrorData *edata)
{
	LockTimeoutBlockers *blockers;

	blockers = blockers_after_timeout();
	if (blockers != NULL)
		runner_add_blockers(edata, blockers->text);
	return blockers;
}

/*
 * Adds to a lock timeout's error who held the lock (text of
 * blockers_after_timeout), for the final error and migration_errors.
 */
void
runner_add_blockers(ErrorData *edata, const char *blockers)
{
	edata->detail = edata->detail ?
		psprintf("%s  The lock was held by %s.", edata->detail, blockers) :
		psprintf("The lock was held by %s.", blockers);
}

/*
 * One try of statements first .. first + count - 1; NULL on success, else
 * the annotated error.  With subxact they run in a subtransaction, rolled
 * back on error; without, the caller must re-throw the error at once,
 * touching nothing (the transaction is not usable until it aborts).  With
 * nest_settings (a whole file), what the statements SET (even SET LOCAL)
 * ends with them, the file's lock_timeout applies, and its deferred
 * constraints are checked at its end.  Counts completed statements and the
 * line of an error into outcome.
 */
static ErrorData *
try_statements(const MigrationScript *script, int first, int count,
			   bool subxact, bool nest_settings, MigrationOutcome *outcome)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ContextPlace	state;
	ErrorData  *volatile result = NULL;
	volatile int done = 0;
	int			gucnest = 0;

	state.script = script;
	state.stmt = NULL;
	state.line = 0;
	state.phase = NULL;

	if (nest_settings)
		gucnest = NewGUCNestLevel();
	if (subxact)
	{
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(oldcontext);
	}

	PG_TRY();
	{
		ErrorContextCallback errcallback;

		errcallback.callback = context_callback;
		errcallback.arg = &state;
		errcallback.previous = error_context_stack;
		error_context_stack = &errcallback;

		if (nest_settings && runner_search_path != NULL)
			(void) set_config_option("search_path", runner_search_path,
									 PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, true, 0, false);
		if (nest_settings && script->directives.lock_timeout >= 0)
			(void) set_config_option("lock_timeout",
									 psprintf("%d", script->directives.lock_timeout),
									 PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, true, 0, false);
		/*
		 * the shards' locks are taken on the workers: the limit holds there
		 * too (a top-level statement runs in a background worker, which
		 * must find this transaction without a snapshot)
		 */
		if (!script->statements[first].top_level && citus_active())
			citus_propagate_lock_timeout();
		for (int i = first; i < first + count; i++)
		{
			state.stmt = &script->statements[i];
			state.line = 0;
			progress_statement(script, state.stmt);
			blockers_watch();
			check_standard_strings(script);
			execute_statement(script, state.stmt);
			done++;
		}
		blockers_unwatch();
		state.stmt = NULL;

		/* a whole file is done only once its deferred constraints hold */
		if (nest_settings)
		{
			state.phase = "while checking its deferred constraints";
			check_deferred_constraints();
			state.phase = NULL;
		}

		error_context_stack = errcallback.previous;
		if (subxact)
		{
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(oldcontext);
			CurrentResourceOwner = oldowner;
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		blockers_unwatch();
		if (subxact)
			edata = subxact_catch(oldcontext, oldowner);
		else
		{
			MemoryContextSwitchTo(oldcontext);
			edata = CopyErrorData();
			FlushErrorState();
		}

		outcome->error_line = context_annotate(&state, edata);
		result = edata;
	}
	PG_END_TRY();

	/* after an error without subtransaction, the abort puts settings back */
	if (nest_settings && (result == NULL || subxact))
		AtEOXact_GUC(false, gucnest);
	outcome->statements += done;
	return result;
}

/*
 * Runs one statement: through SPI, discarding any rows it returns, or, for
 * a statement no transaction block can hold, at top level in a background
 * worker (after dropping the INVALID indexes earlier failed builds left on
 * its table).  Both are given the statement from its first token: the
 * comments before it are no part of it, and pg_stat_activity shows it.
 */
static void
execute_statement(const MigrationScript *script, const MigrationStatement *stmt)
{
	int			rc;

	if (stmt->top_level)
	{
		leftovers_drop(script, stmt);
		worker_execute(stmt->sql, script->name);
		return;
	}

	{
		SPIExecuteOptions options;

		memset(&options, 0, sizeof(options));
		options.dest = None_Receiver;
		rc = SPI_execute_extended(stmt->sql, &options);
	}

	/* the preflight refuses these; this is the backstop */
	if (rc < 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("statement cannot run in a migration: %s",
						SPI_result_code_string(rc))));
}

/*
 * Refuses to run a statement of a file once standard_conforming_strings
 * differs from what the file was split with: the split decides where each
 * statement ends, and the preflight checked those statements, so a file
 * that changed it (through set_config() or a function) must not go on.
 */
static void
check_standard_strings(const MigrationScript *script)
{
	if (standard_conforming_strings == file_standard_strings)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("migration \"%s\" changed standard_conforming_strings",
					script->name),
			 errdetail("The file was split into statements with standard_conforming_strings %s; the statements after the change could end elsewhere, so they do not run.",
					   file_standard_strings ? "on" : "off"),
			 errhint("Set standard_conforming_strings before the call or for the database, not in a migration file.")));
}

/*
 * Checks the deferred constraints of the work done so far, as the file's
 * COMMIT would, and raises the first violation.  SET CONSTRAINTS ALL
 * IMMEDIATE fires the pending checks; it runs in a subtransaction that is
 * then rolled back, so that the constraints stay deferred for the files
 * after this one (and fire again at the real commit).  Skipped when no
 * trigger can be deferred (deferrable.c): the subtransaction is not free.
 */
static void
check_deferred_constraints(void)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ConstraintsSetStmt *all_immediate;

	if (!deferrable_triggers_may_exist())
		return;
	all_immediate = makeNode(ConstraintsSetStmt);
	all_immediate->constraints = NIL;
	all_immediate->deferred = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		CommandCounterIncrement();
		AfterTriggerSetState(all_immediate);
	}
	PG_CATCH();
	{
		ReThrowError(subxact_catch(oldcontext, oldowner));
	}
	PG_END_TRY();
	subxact_rollback(oldcontext, oldowner);
}

/*
 * Says that a file could not get a lock and is tried again, and who held
 * the lock (text of blockers_after_timeout, or NULL).
 */
void
runner_retry_notice(const char *name, int attempt, int retries,
					const ErrorData *edata, const char *blockers)
{
	ereport(NOTICE,
			(errmsg("migration \"%s\" could not get a lock, retry %d of %d",
					name, attempt, retries),
			 blockers ?
			 errdetail("%s; the lock is held by %s.", edata->message, blockers) :
			 errdetail("%s", edata->message)));
}

/* Waits before another try of a file, longer each time. */
void
runner_retry_wait(int attempt)
{
	long		delay = 250L << Min(attempt - 1, 7);
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												  delay);

	progress_state(PROGRESS_SLEEPING);
	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
														   end);

		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	progress_state(PROGRESS_RUNNING);
}
