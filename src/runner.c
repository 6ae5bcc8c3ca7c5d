/*-------------------------------------------------------------------------
 *
 * runner.c
 *	  Running migration scripts: the advisory lock, one subtransaction per
 *	  file, the file's own limits and settings nesting, retries after a
 *	  lock timeout, the error context that names the file and the line,
 *	  timing, and progress in pg_stat_activity.
 *
 * The subtransaction pattern is plpython's (PLy_spi_subtransaction_*); the
 * settings nesting is index_build's (NewGUCNestLevel/AtEOXact_GUC).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type_d.h"
#include "commands/defrem.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "parser/parse_target.h"
#include "parser/parser.h"
#include "portability/instr_time.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "tcop/dest.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "citus.h"
#include "compat.h"
#include "drift.h"
#include "migration.h"
#include "morgenmigrate.h"
#include "runner.h"
#include "script.h"
#include "worker.h"


/* The statement running, for the error context callback. */
typedef struct RunState
{
	const MigrationScript *script;
	const MigrationStatement *stmt; /* NULL between statements */
	int			line;			/* stmt's line, 0 until first needed */
	const char *phase;			/* what runs when stmt is NULL, or NULL */
} RunState;

/* A session setting as it was before a file ran in steps. */
typedef struct SavedSetting
{
	const char *name;
	char	   *value;			/* NULL when not set in the session */
	GucContext	scontext;
	Oid			srole;
} SavedSetting;

/* The caller's session settings, saved before a file run in steps. */
typedef struct SavedSettings
{
	int			n;
	SavedSetting *settings;		/* in the order of get_guc_variables() */
} SavedSettings;

/* The file's statement_timeout, armed over the caller's. */
typedef struct FileTimeout
{
	bool		armed;
	bool		outer_active;
	TimestampTz outer_fin;
	TimestampTz fin;
} FileTimeout;

/* The deadline of the file running in steps, 0 when none is armed. */
static TimestampTz file_deadline = 0;

#define file_deadline_passed \
	(file_deadline != 0 && GetCurrentTimestamp() >= file_deadline)

/* standard_conforming_strings as the running file was split with. */
static bool file_standard_strings = true;

/* The timeout that re-runs the deadlock check while waiting for the lock. */
static TimeoutId lock_recheck_timeout = MAX_TIMEOUTS;

/*
 * The session-level holds on the migration lock that runs of this session
 * took and have not released: the current run's, and any a run kept for a
 * background worker that would not stop.  The caller's own holds (a deploy
 * script's pg_advisory_lock on the same key) are not counted, and stay.
 */
static int	session_lock_holds = 0;

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
static void drop_invalid_indexes(const MigrationScript *script,
								 const MigrationStatement *stmt);
static Oid	statement_build_table(Node *node);
static bool is_build_leftover(Oid indexoid);
static void check_standard_strings(const MigrationScript *script);
static bool deferrable_triggers_exist(void);
static void check_deferred_constraints(void);
static SavedSettings *settings_save(void);
static void settings_restore(SavedSettings *saved);
static void arm_file_timeout(const MigrationScript *script, FileTimeout *ft);
static void restore_limits(FileTimeout *ft);
static void run_error_callback(void *arg);
static char *context_line(const MigrationScript *script, int line);
static int	annotate_error(RunState *state, ErrorData *edata);
static void replace_context_line(ErrorData *edata, const char *ours,
								 const char *replacement, const char *sql);
static void retry_wait(int attempt);

/*
 * Takes the transaction-level advisory lock that serialises every writer
 * of the history (the same lock as pg_advisory_xact_lock(MM_LOCK_KEY)).
 * Waits for it, honouring lock_timeout.
 *
 * The callers are functions, which hold their statement's snapshot while
 * they wait; a migrate_run holding the lock may be building an index
 * concurrently, and that build waits for every older snapshot: a deadlock
 * through migrate_run's worker, which is in its caller's lock group.  The
 * deadlock check runs once per wait, after deadlock_timeout, usually long
 * before the build reaches its wait, and the build's own check would then
 * cancel the build.  So while waiting here the check runs again every
 * deadlock_timeout (the worker's is ten times longer): the cheap waiter
 * finds the cycle first and is the one that fails (40P01).
 */
void
runner_lock_history(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId,
						 (uint32) (MM_LOCK_KEY >> 32), (uint32) MM_LOCK_KEY, 1);
	if (LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL)
		return;

	if (lock_recheck_timeout == MAX_TIMEOUTS)
		lock_recheck_timeout = RegisterTimeout(USER_TIMEOUT, CheckDeadLockAlert);
	enable_timeout_every(lock_recheck_timeout,
						 TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													 DeadlockTimeout),
						 DeadlockTimeout);
	PG_TRY();
	{
		(void) LockAcquire(&tag, ExclusiveLock, false, false);
	}
	PG_FINALLY();
	{
		disable_timeout(lock_recheck_timeout, false);
	}
	PG_END_TRY();
}

/*
 * Takes the same lock for the whole session, for migrate_run, which commits
 * after each file.  The caller must release it on every exit path.
 */
void
runner_lock_history_session(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId,
						 (uint32) (MM_LOCK_KEY >> 32), (uint32) MM_LOCK_KEY, 1);

	/* pg_advisory_unlock_all() or DISCARD ALL took the kept holds along */
	if (!mm_lock_held_by_me(&tag, ExclusiveLock))
		session_lock_holds = 0;
	(void) LockAcquire(&tag, ExclusiveLock, true, false);
	session_lock_holds++;
}

/*
 * Releases the holds of runner_lock_history_session (this run's, and those
 * earlier runs kept), unless a background worker that would not stop may
 * still be building: then the session keeps them (until a later release
 * finds the worker gone, or the session ends), so that no other run starts
 * over a dying build.  Holds the session took itself, with
 * pg_advisory_lock() on the same key, stay: they are the caller's.
 */
void
runner_unlock_history_session(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId,
						 (uint32) (MM_LOCK_KEY >> 32), (uint32) MM_LOCK_KEY, 1);
	if (worker_still_running())
	{
		ereport(WARNING,
				(errmsg("keeping the migration lock while a background worker of this session still runs"),
				 errhint("The lock is released when this session ends, or by its next migrate_run once the worker has stopped.")));
		return;
	}
	while (session_lock_holds > 0 && mm_lock_held_by_me(&tag, ExclusiveLock))
	{
		(void) LockRelease(&tag, ExclusiveLock, true);
		session_lock_holds--;
	}
	/* any left were released with pg_advisory_unlock_all() or DISCARD ALL */
	session_lock_holds = 0;
}

/* Shows in pg_stat_activity.query which file runs, k of n. */
void
runner_report_progress(const char *filename, int k, int n)
{
	char	   *activity = psprintf("morgenmigrate: running \"%s\" (%d of %d)",
									filename, k, n);

	pgstat_report_activity(STATE_RUNNING, activity);
	pfree(activity);
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
 * and line, is re-thrown, or returned in outcome when catch_error is set
 * (cancels are always re-thrown).  A lock timeout is retried as often as
 * the file's retries directive allows.
 *
 * When the error is to be re-thrown and nothing is retried, the whole call
 * fails and its transaction rolls back anyway, so the file needs no
 * subtransaction of its own: one per file would only cost time that grows
 * with the number of files in the transaction, and a transaction with more
 * than 64 subtransactions slows down every other session's snapshots.
 * Only a caught error (non-atomic runs, migrate_run) or a retry needs the
 * file's work rolled back alone, in a subtransaction.
 */
void
run_script(const MigrationScript *script, bool catch_error,
		   MigrationOutcome *outcome)
{
	instr_time	start;
	bool		own_timeout;
	ErrorData  *edata;

	memset(outcome, 0, sizeof(MigrationOutcome));
	INSTR_TIME_SET_CURRENT(start);
	file_standard_strings = standard_conforming_strings;

	drift_migration_begin();
	edata = try_with_retries(script, 0, script->nstatements,
							 catch_error || script->directives.retries > 0,
							 outcome, &own_timeout);
	drift_migration_end();
	if (edata != NULL &&
		(!catch_error ||
		 (edata->sqlerrcode == ERRCODE_QUERY_CANCELED && !own_timeout)))
		ReThrowError(edata);
	finish_outcome(outcome, edata, start);
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
	SavedSettings *saved = settings_save();
	FileTimeout ft;
	ErrorData  *volatile edata = NULL;
	volatile int current = -1;

	memset(outcome, 0, sizeof(MigrationOutcome));
	memset(&ft, 0, sizeof(ft));
	INSTR_TIME_SET_CURRENT(start);
	file_standard_strings = standard_conforming_strings;

	drift_migration_begin();
	PG_TRY();
	{
		if (script->directives.lock_timeout >= 0)
			(void) set_config_option("lock_timeout",
									 psprintf("%d", script->directives.lock_timeout),
									 PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SET, true, 0, false);
		arm_file_timeout(script, &ft);

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
			/* deferred constraints fire here, still the statement's */
			if (edata == NULL)
				SPI_commit();
			i += count;
		}
	}
	PG_CATCH();
	{
		RunState	state;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		/* the failed transaction goes; a new one starts */
		SPI_rollback();
		MemoryContextSwitchTo(oldcontext);

		state.script = script;
		state.stmt = current >= 0 ? &script->statements[current] : NULL;
		state.line = state.stmt ? script_statement_line(script, state.stmt) : 0;
		state.phase = NULL;
		outcome->error_line = annotate_error(&state, edata);
	}
	PG_END_TRY();
	drift_migration_end();

	restore_limits(&ft);
	settings_restore(saved);
	finish_outcome(outcome, edata, start);
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

/*
 * In the PG_CATCH of an internal subtransaction begun in cxt under owner:
 * the error, copied into cxt, the subtransaction rolled back, and cxt and
 * owner current again (as exec_stmt_block of PL/pgSQL does).
 */
ErrorData *
runner_subxact_catch(MemoryContext cxt, ResourceOwner owner)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	FlushErrorState();
	runner_subxact_rollback(cxt, owner);
	return edata;
}

/*
 * Rolls back the internal subtransaction begun in cxt under owner, which
 * become current again.
 */
void
runner_subxact_rollback(MemoryContext cxt, ResourceOwner owner)
{
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
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

		memset(&ft, 0, sizeof(ft));
		if (whole_file)
			arm_file_timeout(script, &ft);
		edata = try_statements(script, first, count, subxact, whole_file,
							   outcome);
		*own_timeout = edata != NULL &&
			edata->sqlerrcode == ERRCODE_QUERY_CANCELED &&
			(whole_file ? ft.armed && GetCurrentTimestamp() >= ft.fin :
			 file_deadline_passed);
		restore_limits(&ft);

		if (edata == NULL || edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE ||
			!subxact || attempt > script->directives.retries)
			return edata;

		ereport(NOTICE,
				(errmsg("migration \"%s\" could not get a lock, retry %d of %d",
						script->name, attempt, script->directives.retries),
				 errdetail("%s", edata->message)));
		FreeErrorData(edata);
		retry_wait(attempt);
	}
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
	RunState	state;
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

		errcallback.callback = run_error_callback;
		errcallback.arg = &state;
		errcallback.previous = error_context_stack;
		error_context_stack = &errcallback;

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
			check_standard_strings(script);
			execute_statement(script, state.stmt);
			done++;
		}
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

		if (subxact)
			edata = runner_subxact_catch(oldcontext, oldowner);
		else
		{
			MemoryContextSwitchTo(oldcontext);
			edata = CopyErrorData();
			FlushErrorState();
		}

		outcome->error_line = annotate_error(&state, edata);
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
 * its table), from its first token, so that pg_stat_activity shows it.
 */
static void
execute_statement(const MigrationScript *script, const MigrationStatement *stmt)
{
	int			rc;

	if (stmt->top_level)
	{
		drop_invalid_indexes(script, stmt);
		worker_execute(script_statement_text(stmt), script->name);
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

/* Tells whether any trigger (constraint triggers too) can be deferred. */
static bool
deferrable_triggers_exist(void)
{
	Relation	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	bool		found;

	ScanKeyInit(&key, Anum_pg_trigger_tgdeferrable, BTEqualStrategyNumber,
				F_BOOLEQ, BoolGetDatum(true));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * Checks the deferred constraints of the work done so far, as the file's
 * COMMIT would, and raises the first violation.  SET CONSTRAINTS ALL
 * IMMEDIATE fires the pending checks; it runs in a subtransaction that is
 * then rolled back, so that the constraints stay deferred for the files
 * after this one (and fire again at the real commit).  Skipped when no
 * trigger can be deferred: the subtransaction is not free.
 */
static void
check_deferred_constraints(void)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ConstraintsSetStmt *all_immediate;

	if (!deferrable_triggers_exist())
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
		ReThrowError(runner_subxact_catch(oldcontext, oldowner));
	}
	PG_END_TRY();
	runner_subxact_rollback(oldcontext, oldowner);
}

/*
 * Before a CREATE INDEX CONCURRENTLY or a REINDEX ... CONCURRENTLY of an
 * index or a table: drops, concurrently, the INVALID indexes on its table
 * that a failed or interrupted build run by migrate_run left behind (an
 * index a worker created and marked, see worker.c), so the build can start
 * over.  Any other INVALID index stays, whatever its name: another
 * session's build (running or failed), the one a REINDEX repairs, a
 * partitioned table's ON ONLY index.  Not while another build on the table
 * is in progress: that one holds a SHARE UPDATE EXCLUSIVE lock on the
 * table for its whole run.
 */
static void
drop_invalid_indexes(const MigrationScript *script,
					 const MigrationStatement *stmt)
{
	Oid			relid = statement_build_table(stmt->parsetree);
	Relation	rel;
	List	   *leftovers = NIL;
	ListCell   *lc;

	if (!OidIsValid(relid) ||
		!ConditionalLockRelationOid(relid, ShareUpdateExclusiveLock))
		return;
	rel = table_open(relid, NoLock);
	foreach(lc, RelationGetIndexList(rel))
	{
		if (is_build_leftover(lfirst_oid(lc)))
			leftovers = lappend_oid(leftovers, lfirst_oid(lc));
	}
	table_close(rel, NoLock);
	UnlockRelationOid(relid, ShareUpdateExclusiveLock);

	foreach(lc, leftovers)
	{
		Oid			indexoid = lfirst_oid(lc);
		char	   *name;

		/*
		 * Held until the worker has dropped it, so that the name the worker
		 * looks up stays this index's: no one can drop or rename it
		 * meanwhile.  The worker is in our lock group, so it does not wait
		 * for this lock.  Taken without waiting: an index someone else is
		 * working on is left alone.
		 */
		if (!ConditionalLockRelationOid(indexoid, ShareUpdateExclusiveLock))
			continue;
		if (!is_build_leftover(indexoid))
		{
			UnlockRelationOid(indexoid, ShareUpdateExclusiveLock);
			continue;
		}
		name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(indexoid)),
										  get_rel_name(indexoid));
		ereport(NOTICE,
				(errmsg("dropping invalid index %s", name),
				 errdetail("A failed or interrupted concurrent build left it behind, and migration \"%s\" builds on its table again.",
						   script->name)));
		worker_execute(psprintf("DROP INDEX CONCURRENTLY IF EXISTS %s", name),
					   NULL);
		UnlockRelationOid(indexoid, ShareUpdateExclusiveLock);
	}
}

/*
 * Tells whether an index is the leftover of a build of ours: INVALID, and
 * still carrying the mark the worker put on it when a migration's
 * statement created it.
 */
static bool
is_build_leftover(Oid indexoid)
{
	HeapTuple	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	bool		invalid;

	if (!HeapTupleIsValid(tuple))
		return false;
	invalid = !((Form_pg_index) GETSTRUCT(tuple))->indisvalid;
	ReleaseSysCache(tuple);
	return invalid && get_rel_relkind(indexoid) == RELKIND_INDEX &&
		worker_build_marked(indexoid);
}

/*
 * The table a concurrent index build or reindex works on, InvalidOid for
 * any other statement (or a table that does not exist yet).
 */
static Oid
statement_build_table(Node *node)
{
	if (node == NULL)
		return InvalidOid;
	if (IsA(node, IndexStmt) && ((IndexStmt *) node)->concurrent)
		return RangeVarGetRelid(((IndexStmt *) node)->relation, NoLock, true);

	if (IsA(node, ReindexStmt))
	{
		ReindexStmt *rs = (ReindexStmt *) node;
		bool		concurrently = false;
		Oid			relid;
		ListCell   *lc;

		foreach(lc, rs->params)
		{
			DefElem    *opt = lfirst_node(DefElem, lc);

			if (strcmp(opt->defname, "concurrently") == 0)
				concurrently = defGetBoolean(opt);
		}
		if (!concurrently || rs->relation == NULL)
			return InvalidOid;
		relid = RangeVarGetRelid(rs->relation, NoLock, true);
		if (OidIsValid(relid) && rs->kind == REINDEX_OBJECT_INDEX)
			relid = IndexGetRelation(relid, true);
		return relid;
	}
	return InvalidOid;
}

/*
 * Tells whether a setting can differ between one statement of a session and
 * the next: those SET, set_config(), RESET ALL, SET ROLE, SET SESSION
 * AUTHORIZATION and SET SESSION CHARACTERISTICS change, not the
 * per-transaction ones (transaction_isolation, ...) nor setseed's seed.
 */
static bool
is_session_setting(struct config_generic *gconf)
{
	if (gconf->context != PGC_SUSET && gconf->context != PGC_USERSET)
		return false;
	return (gconf->flags & GUC_NO_RESET_ALL) == 0 ||
		strcmp(gconf->name, "role") == 0 ||
		strcmp(gconf->name, "session_authorization") == 0;
}

/* A setting's current value as text that sets it exactly. */
static char *
setting_text(struct config_generic *gconf)
{
	switch (gconf->vartype)
	{
		case PGC_BOOL:
			return pstrdup(*((struct config_bool *) gconf)->variable ? "on" : "off");
		case PGC_INT:
			return psprintf("%d", *((struct config_int *) gconf)->variable);
		case PGC_REAL:
			return psprintf("%.17g", *((struct config_real *) gconf)->variable);
		case PGC_STRING:
			{
				char	   *value = *((struct config_string *) gconf)->variable;

				return pstrdup(value ? value : "");
			}
		case PGC_ENUM:
			return pstrdup(config_enum_lookup_by_value((struct config_enum *) gconf,
													   *((struct config_enum *) gconf)->variable));
	}
	return NULL;
}

/* bsearch comparator: a setting's name against a SavedSetting. */
static int
cmp_saved_name(const void *key, const void *saved)
{
	return pg_strcasecmp((const char *) key,
						 ((const SavedSetting *) saved)->name);
}

/*
 * The caller's session settings before a file run in steps, to put back
 * after it.  A GUC nest level (as a function's SET clause uses) cannot
 * span the file's commits: every commit ends all nest levels and keeps
 * session values.  So every setting a session can change is saved, with
 * the context and role that set it.
 */
static SavedSettings *
settings_save(void)
{
	int			nvars;
	struct config_generic **vars = mm_guc_variables(&nvars);
	SavedSettings *saved = palloc(sizeof(SavedSettings));

	saved->n = 0;
	saved->settings = palloc(sizeof(SavedSetting) * Max(nvars, 1));
	for (int i = 0; i < nvars; i++)
	{
		SavedSetting *ss;

		if (!is_session_setting(vars[i]))
			continue;
		ss = &saved->settings[saved->n++];
		ss->name = pstrdup(vars[i]->name);
		ss->value = vars[i]->source == PGC_S_SESSION ?
			setting_text(vars[i]) : NULL;
		ss->scontext = vars[i]->scontext;
		ss->srole = vars[i]->srole;
	}
	return saved;
}

/* Puts one setting back as it was saved (NULL: not saved, so not set). */
static void
setting_restore(struct config_generic *gconf, const SavedSetting *ss)
{
	bool		was_set = ss != NULL && ss->value != NULL;
	bool		is_set = gconf->source == PGC_S_SESSION;
	char	   *now = is_set ? setting_text(gconf) : NULL;

	if (!was_set && !is_set)
		return;
	if (was_set && is_set && strcmp(now, ss->value) == 0)
		return;
	/* as saved, in the context that set it then; else RESET */
	if (was_set)
		(void) set_config_option_ext(gconf->name, ss->value, ss->scontext,
									 PGC_S_SESSION, ss->srole,
									 GUC_ACTION_SET, true, WARNING, false);
	else
		(void) set_config_option_ext(gconf->name, NULL, PGC_SUSET,
									 PGC_S_SESSION, GetUserId(),
									 GUC_ACTION_SET, true, WARNING, false);
}

/*
 * Puts the caller's settings back after a file run in steps: session
 * authorization and role first (the others do not depend on who runs),
 * every other setting as saved, in the context that set it then, and
 * settings the file added (a new custom setting) reset.  Problems are
 * WARNINGs: the file's outcome is already decided.
 */
static void
settings_restore(SavedSettings *saved)
{
	static const char *const order[] = {"session_authorization", "role", NULL};

	for (int pass = 0; pass < lengthof(order); pass++)
	{
		int			nvars;
		struct config_generic **vars = mm_guc_variables(&nvars);

		for (int i = 0; i < nvars; i++)
		{
			const char *name = vars[i]->name;

			if (!is_session_setting(vars[i]) ||
				(order[pass] != NULL && strcmp(name, order[pass]) != 0) ||
				(order[pass] == NULL && (strcmp(name, order[0]) == 0 ||
										 strcmp(name, order[1]) == 0)))
				continue;
			setting_restore(vars[i],
							bsearch(name, saved->settings, saved->n,
									sizeof(SavedSetting), cmp_saved_name));
		}
	}
}

/*
 * Arms the file's statement_timeout directive as a deadline for the whole
 * file (a setting would only take effect at the caller's next statement),
 * only when it comes before the caller's own deadline.
 */
static void
arm_file_timeout(const MigrationScript *script, FileTimeout *ft)
{
	int			ms = script->directives.statement_timeout;

	if (ms <= 0)
		return;
	ft->outer_active = get_timeout_active(STATEMENT_TIMEOUT);
	ft->outer_fin = ft->outer_active ?
		get_timeout_finish_time(STATEMENT_TIMEOUT) : 0;
	ft->fin = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);
	if (!ft->outer_active || ft->fin < ft->outer_fin)
	{
		enable_timeout_at(STATEMENT_TIMEOUT, ft->fin);
		ft->armed = true;
		file_deadline = ft->fin;
	}
}

/* Puts the caller's statement_timeout back after a file. */
static void
restore_limits(FileTimeout *ft)
{
	if (!ft->armed)
		return;
	file_deadline = 0;
	if (ft->outer_active)
		enable_timeout_at(STATEMENT_TIMEOUT, ft->outer_fin);
	else
		disable_timeout(STATEMENT_TIMEOUT, false);
	ft->armed = false;
}

/* Waits before another try of a file, longer each time. */
static void
retry_wait(int attempt)
{
	long		delay = 250L << Min(attempt - 1, 7);
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												  delay);

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
}

/* The context line that says where in a file something happened. */
static char *
context_line(const MigrationScript *script, int line)
{
	if (line > 0)
		return psprintf("migration \"%s\", line %d", script->name, line);
	return psprintf("migration \"%s\"", script->name);
}

/*
 * Error context while a file runs: the file and the line of the statement
 * (for notices too), or what runs after the statements.  Errors get a more
 * precise line in annotate_error.  errcontext() formats into the error's
 * own memory, freed with it: nothing stays behind per notice.
 */
static void
run_error_callback(void *arg)
{
	RunState   *state = (RunState *) arg;

	if (state->stmt != NULL)
	{
		if (state->line == 0)
			state->line = script_statement_line(state->script, state->stmt);
		errcontext("migration \"%s\", line %d", state->script->name,
				   state->line);
	}
	else if (state->phase != NULL)
		errcontext("migration \"%s\", %s", state->script->name,
				   state->phase);
	else
		errcontext("migration \"%s\"", state->script->name);
}

/*
 * Makes an error of a migration point at its line: the context line the
 * callback wrote becomes the line of the error's position (when it has one
 * in the statement), SPI's "SQL statement" line goes (the file and line say
 * more), and a hint is added where the fix is known.  Returns the line.
 */
static int
annotate_error(RunState *state, ErrorData *edata)
{
	int			line = 0;

	if (state->stmt != NULL)
	{
		char	   *ours = context_line(state->script, state->line);

		line = script_locate_error(state->script, state->stmt, edata);
		replace_context_line(edata, ours, context_line(state->script, line),
							 state->stmt->sql);
		drift_explain_error(state->stmt->sql, edata);
	}
	citus_explain_error(edata);

	if (edata->sqlerrcode == ERRCODE_ACTIVE_SQL_TRANSACTION &&
		edata->hint == NULL)
		edata->hint = pstrdup("Every migration file runs inside a transaction block; run this statement outside the migration set.");
	if (edata->sqlerrcode == ERRCODE_UNSAFE_NEW_ENUM_VALUE_USAGE)
		edata->hint = psprintf("%s%sCALL morgenmigrate.migrate_run() commits after each file, so a later file can use the new value.",
							   edata->hint ? edata->hint : "",
							   edata->hint ? " " : "");
	return line;
}

/*
 * Replaces the context line ours with replacement, dropping SPI's
 * "SQL statement" line for sql right before it.  When ours is not there
 * (an error re-thrown without context), appends the replacement.
 */
static void
replace_context_line(ErrorData *edata, const char *ours,
					 const char *replacement, const char *sql)
{
	const char *ctx = edata->context ? edata->context : "";
	char	   *spi_line = psprintf(dgettext(PG_TEXTDOMAIN("postgres"),
											 "SQL statement \"%s\""), sql);
	size_t		ourslen = strlen(ours);
	size_t		spilen = strlen(spi_line);
	const char *at = ctx;
	const char *before;
	StringInfoData buf;

	/* find ours as a whole line */
	while ((at = strstr(at, ours)) != NULL)
	{
		if ((at == ctx || at[-1] == '\n') &&
			(at[ourslen] == '\0' || at[ourslen] == '\n'))
			break;
		at++;
	}

	initStringInfo(&buf);
	if (at == NULL)
	{
		appendStringInfo(&buf, "%s%s%s", ctx, ctx[0] ? "\n" : "", replacement);
		edata->context = buf.data;
		return;
	}

	before = at;
	if (at - ctx >= spilen + 1 && at[-1] == '\n' &&
		strncmp(at - 1 - spilen, spi_line, spilen) == 0 &&
		(at - 1 - spilen == ctx || at[-2 - spilen] == '\n'))
		before = at - 1 - spilen;

	appendBinaryStringInfo(&buf, ctx, before - ctx);
	appendStringInfoString(&buf, replacement);
	appendStringInfoString(&buf, at + ourslen);
	edata->context = buf.data;
}

/* One relation this backend holds locks on, and in which modes. */
typedef struct HeldLock
{
	Oid			relid;
	LOCKMASK	modes;
} HeldLock;

struct HeldLocks
{
	int			n;
	HeldLock   *locks;
	Snapshot	snapshot;		/* the catalog as it was when taken */
};

/* qsort/bsearch comparator: HeldLock by relation. */
static int
cmp_held(const void *a, const void *b)
{
	Oid			ra = ((const HeldLock *) a)->relid;
	Oid			rb = ((const HeldLock *) b)->relid;

	return ra < rb ? -1 : ra > rb ? 1 : 0;
}

/*
 * The relation locks this backend holds in its database now, with a
 * snapshot of the catalog, so that the relations can be named later as
 * they were before a rehearsed file ran (even if it dropped them).
 */
HeldLocks *
runner_locks_held(void)
{
	HeldLocks  *held = palloc0(sizeof(HeldLocks));
	LockData   *data = GetLockStatusData();

	held->locks = palloc0(sizeof(HeldLock) * Max(data->nelements, 1));
	for (int i = 0; i < data->nelements; i++)
	{
		LockInstanceData *inst = &data->locks[i];

		if (inst->pid != MyProcPid || inst->holdMask == 0 ||
			inst->locktag.locktag_type != LOCKTAG_RELATION ||
			inst->locktag.locktag_field1 != MyDatabaseId)
			continue;
		held->locks[held->n].relid = inst->locktag.locktag_field2;
		held->locks[held->n].modes = inst->holdMask;
		held->n++;
	}
	qsort(held->locks, held->n, sizeof(HeldLock), cmp_held);
	held->snapshot = RegisterSnapshot(GetLatestSnapshot());
	return held;
}

/*
 * Looks a relation up in pg_class as of a snapshot; false if it did not
 * exist then.
 */
static bool
relation_as_of(Oid relid, Snapshot snapshot, Form_pg_class result)
{
	Relation	rel = table_open(RelationRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		found;

	ScanKeyInit(&key, Anum_pg_class_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, ClassOidIndexId, true, snapshot, 1, &key);
	tuple = systable_getnext(scan);
	found = HeapTupleIsValid(tuple);
	if (found)
		memcpy(result, GETSTRUCT(tuple), sizeof(FormData_pg_class));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/* qsort comparator: lock report lines, strongest mode first, then name. */
static int
cmp_report(const void *a, const void *b)
{
	const HeldLock *la = (const HeldLock *) a;
	const HeldLock *lb = (const HeldLock *) b;

	if (la->modes != lb->modes)
		return la->modes > lb->modes ? -1 : 1;
	return cmp_held(a, b);
}

/*
 * The relation locks taken since before was read, strongest first, as a
 * text[] of "AccessExclusiveLock on public.members": what the file would
 * block.  Catalogs, indexes, TOAST tables, morgenmigrate's own tables and
 * relations that did not exist before the file are left out.  Frees before.
 */
Datum
runner_locks_taken(HeldLocks *before)
{
	HeldLocks  *after = runner_locks_held();
	HeldLock   *taken = palloc0(sizeof(HeldLock) * Max(after->n * MAX_LOCKMODES, 1));
	int			ntaken = 0;
	int			nitems = 0;
	Datum	   *items;
	Oid			own_schema = get_namespace_oid(MM_SCHEMA, true);

	UnregisterSnapshot(after->snapshot);
	for (int i = 0; i < after->n; i++)
	{
		HeldLock   *prev = bsearch(&after->locks[i], before->locks, before->n,
								   sizeof(HeldLock), cmp_held);
		LOCKMASK	fresh = after->locks[i].modes & ~(prev ? prev->modes : 0);

		for (LOCKMODE mode = MaxLockMode; mode > NoLock; mode--)
		{
			if (fresh & LOCKBIT_ON(mode))
			{
				taken[ntaken].relid = after->locks[i].relid;
				taken[ntaken].modes = mode;
				ntaken++;
			}
		}
	}
	qsort(taken, ntaken, sizeof(HeldLock), cmp_report);

	items = palloc0(sizeof(Datum) * Max(ntaken, 1));
	for (int i = 0; i < ntaken; i++)
	{
		FormData_pg_class rel;
		char	   *nspname;

		if (!relation_as_of(taken[i].relid, before->snapshot, &rel) ||
			rel.relkind == RELKIND_INDEX ||
			rel.relkind == RELKIND_PARTITIONED_INDEX ||
			rel.relkind == RELKIND_TOASTVALUE ||
			IsCatalogNamespace(rel.relnamespace) ||
			IsToastNamespace(rel.relnamespace) ||
			rel.relnamespace == own_schema)
			continue;
		nspname = get_namespace_name(rel.relnamespace);
		items[nitems++] = CStringGetTextDatum(
			psprintf("%s on %s",
					 GetLockmodeName(DEFAULT_LOCKMETHOD, taken[i].modes),
					 quote_qualified_identifier(nspname ? nspname : "?",
												NameStr(rel.relname))));
	}
	UnregisterSnapshot(before->snapshot);
	return PointerGetDatum(construct_array(items, nitems, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/*
 * After a rehearsal of several files: says that a later file's locks leave
 * out those an earlier file of the rehearsal already took (all of them run
 * in one transaction, which holds every lock until its end).
 */
void
runner_note_held_locks(int nrehearsed)
{
	if (nrehearsed < 2)
		return;
	ereport(NOTICE,
			(errmsg("the locks listed for each file leave out locks an earlier file of this rehearsal already took"),
			 errdetail("The rehearsed files run one after the other in one transaction, which holds every lock until its end; a later file that takes the same lock again shows nothing for it."),
			 errhint("To see every lock a file takes, rehearse it with the files before it already applied.")));
}
