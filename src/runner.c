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
#include "catalog/pg_type_d.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/value.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "tcop/dest.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/guc.h"
#include "utils/resowner.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "drift.h"
#include "morgenmigrate.h"

/* The statement running, for the error context callback. */
typedef struct RunState
{
	const MigrationScript *script;
	const MigrationStatement *stmt; /* NULL between statements */
	int			line;			/* stmt's line, 0 until first needed */
} RunState;

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

static void report_unwrapped(const MigrationScript *script);
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
static List *save_settings(const MigrationScript *script);
static void set_setting(const char *name, const char *value);
static void restore_settings(List *saved);
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
 */
void
runner_lock_history(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId,
						 (uint32) (MM_LOCK_KEY >> 32), (uint32) MM_LOCK_KEY, 1);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
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
	(void) LockAcquire(&tag, ExclusiveLock, true, false);
}

/* Releases the session-level lock of runner_lock_history_session. */
void
runner_unlock_history_session(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId,
						 (uint32) (MM_LOCK_KEY >> 32), (uint32) MM_LOCK_KEY, 1);
	(void) LockRelease(&tag, ExclusiveLock, true);
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
	report_unwrapped(script);

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
 * top-level ones in a background worker.  Settings the file SETs hold
 * from one statement to the next (so that "SET lock_timeout" before a
 * CREATE INDEX CONCURRENTLY works) and are put back after the file.  The
 * file's statement_timeout is a deadline for the whole file, retries apply
 * to the statement that hit the lock timeout.  Never throws a migration's
 * error (cancels included: what committed must be recorded): it comes back
 * in outcome, the settings already put back.  The caller must be connected
 * to SPI in non-atomic mode.
 */
void
run_script_in_steps(const MigrationScript *script, MigrationOutcome *outcome)
{
	instr_time	start;
	List	   *saved = save_settings(script);
	FileTimeout ft;
	ErrorData  *edata = NULL;

	memset(outcome, 0, sizeof(MigrationOutcome));
	memset(&ft, 0, sizeof(ft));
	INSTR_TIME_SET_CURRENT(start);
	report_unwrapped(script);

	if (script->directives.lock_timeout >= 0)
		set_setting("lock_timeout",
					psprintf("%d", script->directives.lock_timeout));
	arm_file_timeout(script, &ft);

	drift_migration_begin();
	for (int i = 0; i < script->nstatements && edata == NULL; i++)
	{
		bool		own_timeout;

		/* every statement starts a transaction of its own, without snapshot */
		SPI_commit();
		edata = try_with_retries(script, i, 1, true, outcome, &own_timeout);
	}
	drift_migration_end();

	restore_limits(&ft);
	restore_settings(saved);
	finish_outcome(outcome, edata, start);
}

/* Says so when a BEGIN/COMMIT around a whole file was dropped. */
static void
report_unwrapped(const MigrationScript *script)
{
	if (script->unwrapped)
		ereport(NOTICE,
				(errmsg("ignoring the BEGIN and COMMIT around migration \"%s\"",
						script->name),
				 errdetail("Each migration file already runs as a unit.")));
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
 * nest_settings, what the statements SET (even SET LOCAL) ends with them,
 * and the file's lock_timeout applies.  Counts completed statements and the
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
		for (int i = first; i < first + count; i++)
		{
			state.stmt = &script->statements[i];
			state.line = 0;
			execute_statement(script, state.stmt);
			done++;
		}
		state.stmt = NULL;

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

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		if (subxact)
		{
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(oldcontext);
			CurrentResourceOwner = oldowner;
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
		worker_execute(script_statement_text(stmt));
		return;
	}

#if PG_VERSION_NUM >= 140000
	{
		SPIExecuteOptions options;

		memset(&options, 0, sizeof(options));
		options.dest = None_Receiver;
		rc = SPI_execute_extended(stmt->sql, &options);
	}
#else
	rc = SPI_execute(stmt->sql, false, 0);
	SPI_freetuptable(SPI_tuptable);
#endif

	/* the preflight refuses these; this is the backstop */
	if (rc < 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("statement cannot run in a migration: %s",
						SPI_result_code_string(rc))));
}

/*
 * Before a CREATE INDEX CONCURRENTLY or a REINDEX ... CONCURRENTLY of an
 * index or a table: the INVALID indexes of that table are what earlier
 * failed or interrupted builds left (an unnamed build's name, a reindex's
 * "_ccnew"); they are dropped, concurrently, so the build can start over.
 * Not while another build on the table is in progress: that one holds a
 * SHARE UPDATE EXCLUSIVE lock on the table for its whole run.
 */
static void
drop_invalid_indexes(const MigrationScript *script,
					 const MigrationStatement *stmt)
{
	Oid			relid = statement_build_table(stmt->parsetree);
	Relation	rel;
	List	   *indexes;
	List	   *invalid = NIL;
	ListCell   *lc;

	if (!OidIsValid(relid) ||
		!ConditionalLockRelationOid(relid, ShareUpdateExclusiveLock))
		return;
	rel = table_open(relid, NoLock);
	indexes = RelationGetIndexList(rel);
	foreach(lc, indexes)
	{
		Oid			indexoid = lfirst_oid(lc);
		HeapTuple	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));

		if (!HeapTupleIsValid(tuple))
			continue;
		if (!((Form_pg_index) GETSTRUCT(tuple))->indisvalid)
			invalid = lappend(invalid,
							  quote_qualified_identifier(get_namespace_name(get_rel_namespace(indexoid)),
														 get_rel_name(indexoid)));
		ReleaseSysCache(tuple);
	}
	table_close(rel, NoLock);
	UnlockRelationOid(relid, ShareUpdateExclusiveLock);

	foreach(lc, invalid)
	{
		const char *name = (const char *) lfirst(lc);

		ereport(NOTICE,
				(errmsg("dropping invalid index %s", name),
				 errdetail("A failed or interrupted concurrent build left it behind, and migration \"%s\" builds on its table again.",
						   script->name)));
		worker_execute(psprintf("DROP INDEX CONCURRENTLY IF EXISTS %s", name));
	}
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
#if PG_VERSION_NUM >= 140000
		ListCell   *lc;

		foreach(lc, rs->params)
		{
			DefElem    *opt = lfirst_node(DefElem, lc);

			if (strcmp(opt->defname, "concurrently") == 0)
				concurrently = defGetBoolean(opt);
		}
#else
		concurrently = rs->concurrent;
#endif
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
 * The current values of the settings a file run in steps SETs (not SET
 * LOCAL: that ends with each statement's transaction), and of
 * lock_timeout when the file has that directive, to put back afterwards.
 */
static List *
save_settings(const MigrationScript *script)
{
	List	   *names = NIL;
	List	   *saved = NIL;
	ListCell   *lc;

	if (!script->needs_top_level)
		return NIL;
	for (int i = 0; i < script->nstatements; i++)
	{
		VariableSetStmt *vs = (VariableSetStmt *) script->statements[i].parsetree;

		if (vs != NULL && IsA(vs, VariableSetStmt) && vs->name != NULL &&
			!vs->is_local &&
			vs->kind != VAR_SET_MULTI)
			names = list_append_unique(names, makeString(vs->name));
	}
	if (script->directives.lock_timeout >= 0)
		names = list_append_unique(names, makeString("lock_timeout"));

	foreach(lc, names)
	{
		const char *name = strVal(lfirst(lc));
		const char *value = GetConfigOption(name, true, false);

		if (value != NULL)
			saved = lappend(saved, list_make2(makeString(pstrdup(name)),
											  makeString(pstrdup(value))));
	}
	return saved;
}

/* Sets a setting for the session, as SET would. */
static void
set_setting(const char *name, const char *value)
{
	(void) set_config_option(name, value,
							 superuser() ? PGC_SUSET : PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SET, true, 0, false);
}

/* Puts back the settings save_settings saved. */
static void
restore_settings(List *saved)
{
	ListCell   *lc;

	foreach(lc, saved)
	{
		List	   *pair = (List *) lfirst(lc);

		set_setting(strVal(linitial(pair)), strVal(lsecond(pair)));
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
 * (for notices too).  Errors get a more precise line in annotate_error.
 */
static void
run_error_callback(void *arg)
{
	RunState   *state = (RunState *) arg;

	if (state->stmt != NULL && state->line == 0)
		state->line = script_statement_line(state->script, state->stmt);
	errcontext("%s", context_line(state->script,
								  state->stmt ? state->line : 0));
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
