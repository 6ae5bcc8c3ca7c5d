/*-------------------------------------------------------------------------
 *
 * commands.c
 *	  What each SQL-callable function does, in terms of the modules: take
 *	  the lock, compare the directory with the history, run the preflight
 *	  over every file of the call, run the files, record them, and return
 *	  the rows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>

#include "access/xact.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "adopt.h"
#include "blockers.h"
#include "citus.h"
#include "commands.h"
#include "cost.h"
#include "costcache.h"
#include "dirproof.h"
#include "drift.h"
#include "filecache.h"
#include "files.h"
#include "history.h"
#include "lock.h"
#include "lockreport.h"
#include "migration.h"
#include "morgenmigrate.h"
#include "plan.h"
#include "progress.h"
#include "runner.h"
#include "script.h"
#include "source.h"
#include "subxact.h"


/*
 * What a call works on: the directory, the history, every file's state,
 * and the memory of the file being read or run, freed before the next
 * (memory stays bounded by the largest file, not the sum of all files).
 */
typedef struct CallState
{
	MigrationDir *dir;
	History    *history;
	List	   *entries;		/* MigrationEntry, version order */
	MemoryContext callcxt;		/* the call's own data */
	MemoryContext filecxt;		/* the current file's */
} CallState;

/* A file a call runs, and the migration it runs for. */
typedef struct WorkItem
{
	const char *migration;		/* the history key */
	const char *file;			/* the file to run: up file or down file */
	bool		down;			/* runs the migration's down part */
	bool		noop;			/* a down part its runner rolls back as
								 * nothing: only the history row goes */
	const MigrationFile *mfile; /* the migration, NULL if its file is gone */
	const MigrationEntry *entry;	/* NULL for a rollback of a missing file */
	char		checksum[MM_CHECKSUM_LEN + 1];	/* as the preflight read it */
	const char *shown;			/* its file's name, for messages */
	int			retries;		/* its tries after a lock timeout */
	int			lock_timeout;	/* its lock_timeout (ms), or -1 */
	List	   *plan;			/* a rehearsal's: what its statements cost,
								 * a line each */
} WorkItem;

/* A row of a plan from its kept classification. */
typedef struct PlanRow
{
	const WorkItem *w;
	const KeptStatement *statement; /* NULL for a file only its runner runs */
	CostRow		row;
} PlanRow;

/* A kept plan being completed (complete_kept). */
typedef struct PlanFromKept
{
	List	   *work;			/* WorkItem */
	List	   *kept;			/* per work item, a List of KeptStatement */
	CostState  *cost;			/* the sizes and locks of now */
	PlanRow    *rows;			/* the rows completed so far */
	int			nrows;
} PlanFromKept;

static void begin_call(CallState *call, const char *path);
static void begin_call_with(CallState *call, const char *path,
							History *history);
static void explain_lock_table_full(int done, int total);
static bool sorts_after(const CallState *call, const char *name,
						const MigrationEntry *stop);
static void refuse_external(const MigrationFile *file);
static MigrationScript *read_work(CallState *call, const WorkItem *w);
static void run_committing(const char *path, const char *target, int steps,
						   bool down, ErrorData **failure);
static void run_committing_locked(const char *path, const char *target,
								  int steps, bool down, ErrorData **failure,
								  MemoryContext cxt);
static void run_work(void *arg);
static void refuse_external_of(void *arg);
static ErrorData *error_copy(const ErrorData *edata);
static char *describe_part(const char *path, const TextRange *r,
						   MigrationLayout layout);
static void describe_run(CallState *call, const MigrationEntry *e,
						 bool *in_transaction, char **runs);
static void warn_orphans(const MigrationDir *dir);
static void keep_fingerprints(const CallState *call);
static bool proof_kept_for(const char *path, const char *target, int steps);
static bool nothing_to_say(const CallState *call);
static int	cmp_ignored(const ListCell *a, const ListCell *b);
static List *up_work(List *pending);
static List *down_work(const CallState *call, int steps, const char *target);
static List *applied_in_version_order(const CallState *call);
static void preflight(CallState *call, List *work, PreflightMode mode);
static void preflight_cost(CostState *cost, WorkItem *w,
						   const MigrationScript *script, PreflightMode mode,
						   MemoryContext keep);
static bool plan_line_worth_it(const CostRow *row);
static void refuse_locked_cost(const MigrationScript *script,
							   const MigrationStatement *stmt,
							   const CostRow *row);
static MigrationScript *plan_script(CallState *call, const WorkItem *w);
static bool plan_key(CallState *call, List *work, StringInfo key);
static bool plan_from_kept(CostState *cost, List *work, List *kept,
						   int nrows, ReturnSetInfo *rsinfo);
static void complete_kept(void *arg);
static void put_external_plan_row(ReturnSetInfo *rsinfo, const WorkItem *w);
static void put_plan_row(ReturnSetInfo *rsinfo, const char *filename,
						 int line, const char *command, const CostRow *row);
static MigrationScript *start_file(CallState *call, const WorkItem *w,
								   PreflightMode mode, int k, int n);
static void end_file(CallState *call);
static void apply_work(CallState *call, List *work, bool atomic,
					   ReturnSetInfo *rsinfo);
static void apply_files(CallState *call, List *work, RunMode mode,
						ReturnSetInfo *rsinfo, volatile int *done);
static bool work_waits_for_locks(List *work);
static void apply_retrying(CallState *call, List *work, ReturnSetInfo *rsinfo,
						   volatile int *done);
static void rehearse_work(CallState *call, List *work, bool atomic,
						  ReturnSetInfo *rsinfo);
static void record_success(const WorkItem *w, const MigrationOutcome *outcome);
static void record_failure(const WorkItem *w, const MigrationOutcome *outcome,
						   bool rehearsal);
static void put_run_row(ReturnSetInfo *rsinfo, const char *filename,
						const char *status, const MigrationOutcome *outcome,
						Datum locks);
static void put_status_row(ReturnSetInfo *rsinfo, const char *filename,
						   const char *state, const HistoryRow *applied,
						   const char *error);
static const char *entry_error(const MigrationEntry *e);

/*
 * Reads what a call works on: the directory (when path is not NULL), the
 * history, and their comparison.  Writers take the lock first.
 */
static void
begin_call(CallState *call, const char *path)
{
	begin_call_with(call, path, NULL);
}

/* begin_call, with the history already read (NULL: read it). */
static void
begin_call_with(CallState *call, const char *path, History *history)
{
	call->callcxt = CurrentMemoryContext;
	call->filecxt = AllocSetContextCreate(CurrentMemoryContext,
										  "morgenmigrate file",
										  ALLOCSET_DEFAULT_SIZES);
	call->dir = path ? migration_dir_list(path) : NULL;
	call->history = history ? history : history_load();
	if (call->dir != NULL && call->dir->fingerprints_wanted)
		call->history->fingerprints =
			history_load_fingerprints(call->dir->path,
									  &call->history->nfingerprints);
	call->entries = path ? plan_entries(call->dir, call->history) : NIL;
}

/*
 * Keeps, for later sessions, what this call proved by reading them of the
 * files that are applied as they are, and of the other files read with
 * them (down files, files read while the layout was settled), but not of
 * a migration that is not applied as it is: a new session then takes them as
 * unchanged while their inode, size and times stay as they were (only for
 * saying that nothing is to be done: a file that runs is read again).
 * Never in a read-only transaction, nor where the caller may not write
 * them (history.c).
 */
static void
keep_fingerprints(const CallState *call)
{
	List	   *proved = migration_fingerprints_proved(call->dir);
	FileFingerprint *fps;
	HTAB	   *unapplied = NULL;
	HASHCTL		ctl;
	int			n = 0;
	ListCell   *lc;

	if (proved == NIL)
		return;
	/* the files of migrations not applied as they are keep none */
	ctl.keysize = NAMEDATALEN * 4;
	ctl.entrysize = ctl.keysize;
	ctl.hcxt = CurrentMemoryContext;
	foreach(lc, call->entries)
	{
		const MigrationEntry *e = (const MigrationEntry *) lfirst(lc);

		if (e->file == NULL || e->state == MS_APPLIED || e->state == MS_BASELINE)
			continue;
		if (unapplied == NULL)
			unapplied = hash_create("morgenmigrate unapplied", 64, &ctl,
									HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
		if (strlen(e->file->name) < ctl.keysize)
			(void) hash_search(unapplied, e->file->name, HASH_ENTER, NULL);
	}
	fps = palloc(sizeof(FileFingerprint) * list_length(proved));
	foreach(lc, proved)
	{
		const FileFingerprint *fp = (const FileFingerprint *) lfirst(lc);

		if (unapplied != NULL && (strlen(fp->filename) >= ctl.keysize ||
								  hash_search(unapplied, fp->filename,
											  HASH_FIND, NULL) != NULL))
			continue;
		fps[n++] = *fp;
	}
	history_save_fingerprints(call->dir->path, fps, n);
	pfree(fps);
	list_free(proved);
}

/* Warns about down files that have no up file. */
static void
warn_orphans(const MigrationDir *dir)
{
	ListCell   *lc;

	foreach(lc, dir->orphans)
		ereport(WARNING,
				(errmsg("down migration \"%s\" has no up migration",
						((const MigrationOrphan *) lfirst(lc))->name),
				 errhint("A down file NAME.down.sql belongs to NAME.sql or NAME.up.sql.")));
}

/* The work of applying the given entries. */
static List *
up_work(List *pending)
{
	List	   *work = NIL;
	ListCell   *lc;

	foreach(lc, pending)
	{
		MigrationEntry *e = (MigrationEntry *) lfirst(lc);
		WorkItem   *w = palloc0(sizeof(WorkItem));

		w->migration = e->filename;
		w->file = e->file->path;
		w->mfile = e->file;
		w->entry = e;
		work = lappend(work, w);
	}
	return work;
}

/*
 * The work of a rollback: the down parts of the newest applied migrations
 * (steps of them, or all that sort after target in version order, or all
 * for 'base'), newest first: the last applied first, or, where the
 * layout's runner rolls back by version, the highest version first.  A
 * missing down file is an error before anything runs.
 */
static List *
down_work(const CallState *call, int steps, const char *target)
{
	List	   *applied = layout_methods(call->dir->layout)->rollback_by_version ?
		applied_in_version_order(call) : history_in_apply_order(call->history);
	const MigrationEntry *stop = NULL;
	List	   *work = NIL;
	List	   *missing = NIL;
	ListCell   *lc;

	if (target != NULL && strcmp(target, "base") != 0)
	{
		/* the last applied migration the target names, in version order */
		foreach(lc, call->entries)
		{
			const MigrationEntry *e = (const MigrationEntry *) lfirst(lc);

			if (e->applied != NULL &&
				(e->file != NULL ? migration_file_matches(call->dir, e->file, target) :
				 migration_name_matches(e->filename, target)))
				stop = e;
		}
		if (stop == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("rollback target \"%s\" matches no applied migration",
							target),
					 errhint("Give the name or version of an applied migration, or 'base' to roll back everything.")));
	}

	for (int i = list_length(applied) - 1; i >= 0; i--)
	{
		const HistoryRow *row = (const HistoryRow *) list_nth(applied, i);
		WorkItem   *w;

		if (target == NULL && list_length(work) + list_length(missing) >= steps)
			break;
		if (stop != NULL && !sorts_after(call, row->filename, stop))
			continue;

		w = palloc0(sizeof(WorkItem));
		w->migration = row->filename;
		w->down = true;
		w->mfile = migration_find(call->dir, row->filename);
		if (w->mfile != NULL && w->mfile->role == ROLE_REPEATABLE)
			continue;			/* repeatables have no down part: they stay */
		w->file = migration_down_file(call->dir, row->filename);
		w->noop = w->file == NULL && w->mfile != NULL &&
			layout_methods(call->dir->layout)->noop_rollback;
		if (w->file == NULL && !w->noop)
			missing = lappend(missing, (char *) row->filename);
		else
			work = lappend(work, w);
	}

	if (missing != NIL)
	{
		StringInfoData names;

		initStringInfo(&names);
		foreach(lc, missing)
			appendStringInfo(&names, "%s%s", names.len > 0 ? ", " : "",
							 (const char *) lfirst(lc));
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg_plural("%d migration to roll back has no down file",
							   "%d migrations to roll back have no down file",
							   list_length(missing), list_length(missing)),
				 errdetail("Without a down file: %s.", names.data),
				 errhint("The down file of NAME.sql or NAME.up.sql is NAME.down.sql in the same directory; other layouts keep their own (a down section, U files, .undo. files, down.sql).")));
	}
	return work;
}

/*
 * The history rows of a call's applied migrations in the directory's
 * version order (rows whose file is gone by their names, as the call's
 * entries are ordered).
 */
static List *
applied_in_version_order(const CallState *call)
{
	List	   *applied = NIL;
	ListCell   *lc;

	foreach(lc, call->entries)
	{
		const MigrationEntry *e = (const MigrationEntry *) lfirst(lc);

		if (e->applied != NULL)
			applied = lappend(applied, (HistoryRow *) e->applied);
	}
	return applied;
}

/* Tells whether a migration sorts after an entry in the call's version order. */
static bool
sorts_after(const CallState *call, const char *name, const MigrationEntry *stop)
{
	bool		after = false;
	ListCell   *lc;

	foreach(lc, call->entries)
	{
		const MigrationEntry *e = (const MigrationEntry *) lfirst(lc);

		if (e == stop)
			after = true;
		else if (strcmp(e->filename, name) == 0)
			return after;
	}
	return false;
}

/*
 * The preflight: reads, checks and splits every file of the call before
 * anything runs, so that a bad file anywhere refuses the whole call with
 * nothing changed.  Keeps only each file's checksum (memory stays bounded
 * by the largest file); the run reads the files again and checks that
 * they did not change in between.  A migration that only its own runner
 * can run refuses the call, but in migrate_run, which stops before it.
 * One NOTICE says how many files had their BEGIN and COMMIT dropped.
 * With morgenmigrate.max_locked_bytes, and for a rehearsal, it also
 * classifies what each statement will cost (cost.c), and refuses a file
 * that would read every row of a larger relation under a lock that blocks
 * writes.
 */
static void
preflight(CallState *call, List *work, PreflightMode mode)
{
	ListCell   *lc;
	int			unwrapped = 0;
	CostState  *cost = NULL;
	int			nest = -1;

	if (mode == PREFLIGHT_REHEARSAL || mm_max_locked_bytes >= 0)
	{
		cost = cost_begin(mode == PREFLIGHT_REHEARSAL);
		/* the names of the files are read as the files will run */
		nest = runner_search_path_begin();
	}
	foreach(lc, work)
	{
		WorkItem   *w = (WorkItem *) lfirst(lc);
		MigrationScript *script;

		if (w->mfile != NULL && w->mfile->role == ROLE_EXTERNAL && !w->down)
		{
			if (mode == PREFLIGHT_STEPS)
				break;			/* the run stops before it */
			refuse_external(w->mfile);
		}
		if (w->noop)
			continue;
		MemoryContextSwitchTo(call->filecxt);
		script = read_work(call, w);
		script->keep_trees = cost != NULL;
		script_prepare(script, mode);
		memcpy(w->checksum, script->checksum, sizeof(w->checksum));
		if (cost != NULL)
			preflight_cost(cost, w, script, mode, call->callcxt);
		MemoryContextSwitchTo(call->callcxt);
		w->shown = pstrdup(script->name);
		w->retries = Max(script->directives.retries, 0);
		w->lock_timeout = script->directives.lock_timeout;
		if (script->unwrapped > 0)
			unwrapped++;
		end_file(call);
	}
	runner_search_path_end(nest);
	if (unwrapped > 0)
		ereport(NOTICE,
				(errmsg_plural("ignoring the BEGIN and COMMIT in %d migration file",
							   "ignoring the BEGIN and COMMIT in %d migration files",
							   unwrapped, unwrapped),
				 mode == PREFLIGHT_STEPS ?
				 errdetail("Each migration file already runs as a unit; a file made of several BEGIN ... COMMIT blocks commits at the end of each.") :
				 errdetail("Each migration file already runs as a unit.")));
}

/*
 * What a file's statements will cost, in the preflight: refuses the
 * first that morgenmigrate.max_locked_bytes forbids (but in a file that
 * allows it: allow-locked-rewrite), and for a rehearsal keeps a line per
 * statement worth reporting, in keep.  Every file is classified, so that later files know what earlier
 * ones created.
 */
static void
preflight_cost(CostState *cost, WorkItem *w, const MigrationScript *script,
			   PreflightMode mode, MemoryContext keep)
{
	int64		limit = mm_max_locked_bytes >= 0 &&
		!script->directives.allow_locked_rewrite ?
		(int64) mm_max_locked_bytes * 1024 : -1;
	ScriptCursor cursor;

	memset(&cursor, 0, sizeof(cursor));
	cost_begin_file(cost, script);
	for (int i = 0; i < script->nstatements; i++)
	{
		const MigrationStatement *stmt = &script->statements[i];
		ListCell   *lc;

		foreach(lc, cost_statement(cost, script, stmt))
		{
			const CostRow *row = (const CostRow *) lfirst(lc);

			if (limit >= 0 && cost_refused(row, limit))
				refuse_locked_cost(script, stmt, row);
			if (mode == PREFLIGHT_REHEARSAL && plan_line_worth_it(row))
			{
				char	   *line = cost_describe(row,
												 script_statement_line_from(script, stmt,
																			&cursor));
				MemoryContext oldcxt = MemoryContextSwitchTo(keep);

				w->plan = lappend(w->plan, pstrdup(line));
				MemoryContextSwitchTo(oldcxt);
			}
		}
	}
}

/*
 * Tells whether the dry run reports what a statement costs: when it reads
 * every row of a relation, builds an index or rewrites one, when that
 * cannot be told of a relation, or when there is advice.  Catalog changes
 * and rows written say nothing the locks do not.
 */
static bool
plan_line_worth_it(const CostRow *row)
{
	return row->advice != NULL || row->effect == COST_SCAN ||
		row->effect == COST_INDEX || row->effect == COST_REWRITE ||
		(row->effect == COST_UNKNOWN && row->origin != ORIGIN_NONE);
}

/*
 * Refuses a call with a statement that morgenmigrate.max_locked_bytes
 * forbids, naming the file, line and relation, with the safe pattern as
 * the hint.
 */
static void
refuse_locked_cost(const MigrationScript *script,
				   const MigrationStatement *stmt, const CostRow *row)
{
	int			line = script_statement_line(script, stmt);
	const char *verb = row->effect == COST_REWRITE ? "rewrite" :
		row->effect == COST_INDEX ? "build an index of" : "read every row of";

	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("migration \"%s\", line %d, would %s %s (%s) under %s",
					script->name, line, verb, row->relname,
					cost_bytes_text(row->bytes),
					GetLockmodeName(DEFAULT_LOCKMETHOD, row->lockmode)),
			 errdetail("morgenmigrate.max_locked_bytes is %s: no migration may read every row of a larger relation while it blocks writes.  Nothing ran.  A file that must may say so in its first lines: -- morgenmigrate: allow-locked-rewrite",
					   GetConfigOptionByName("morgenmigrate.max_locked_bytes",
											 NULL, false)),
			 row->advice ? errhint("%s", row->advice) : 0,
			 errcontext("migration \"%s\", line %d", script->name, line)));
}

/* Refuses to run a migration that only its own runner can run. */
static void
refuse_external(const MigrationFile *file)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("migration \"%s\" is %s, which morgenmigrate cannot run",
					file->name, file->what),
			 errdetail("Only its own runner can run it; the migrations before it can be applied alone with the target argument."),
			 errhint("Run it with its own runner and record it with morgenmigrate.migrate_baseline(dir, target => '%s'), or port it to SQL.",
					 file->name)));
}

/*
 * Reads the file of a work item: the up part of a migration, or its down
 * part (a section of the same file, or a down file of its own), with what
 * its config file says about transactions.
 */
static MigrationScript *
read_work(CallState *call, const WorkItem *w)
{
	bool		own_file = w->down &&
		(w->mfile == NULL || strcmp(w->file, w->mfile->path) != 0);
	MigrationScript *script;
	LayoutConfig none;
	const LayoutConfig *config = &none;

	script = migration_read(call->dir, w->migration, w->file,
							w->down && !own_file ? SECTION_DOWN : SECTION_UP);
	script->section = w->down ? SECTION_DOWN : SECTION_UP;

	/*
	 * The up file's config file speaks for the up part, and for some
	 * layouts the down part; a down file may have one of its own.
	 */
	layout_init_config(&none);
	if (w->mfile != NULL && (!w->down || w->mfile->config_covers_down))
		config = &w->mfile->config;
	else if (w->mfile != NULL && own_file)
		config = &w->mfile->down_config;
	migration_configure(script, config);
	return script;
}

/*
 * Reads the k-th of n files of a call again for running, as the preflight
 * saw it, in the file's memory; reports the file in pg_stat_activity.
 */
static MigrationScript *
start_file(CallState *call, const WorkItem *w, PreflightMode mode, int k,
		   int n)
{
	MigrationScript *script;

	Assert(k >= 1 && k <= n);
	end_file(call);
	MemoryContextSwitchTo(call->filecxt);
	runner_report_progress(files_name_to_server(w->file), k, n);
	script = read_work(call, w);

	if (strcmp(script->checksum, w->checksum) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("migration file \"%s\" changed while migrations were running",
						script->name),
				 errhint("Run the migrations again once the file is in place.")));
	script_prepare(script, mode);
	return script;
}

/* Frees the memory of the file just read or run. */
static void
end_file(CallState *call)
{
	MemoryContextSwitchTo(call->callcxt);
	MemoryContextReset(call->filecxt);
}

/*
 * Records a file that applied (a repeatable migration that ran again
 * replaces its row), and clears its recorded failure.
 */
static void
record_success(const WorkItem *w, const MigrationOutcome *outcome)
{
	if (w->entry != NULL && w->entry->state == MS_OUTDATED)
		history_forget(w->migration);
	history_record(w->migration, w->checksum, outcome->finished_at,
				   outcome->duration, false);
	if (w->entry != NULL && w->entry->failure != NULL)
		history_clear_failure(w->migration);
}

/*
 * Reports a file that failed in a non-atomic run with a WARNING, and
 * records the failure unless this was a rehearsal.
 */
static void
record_failure(const WorkItem *w, const MigrationOutcome *outcome,
			   bool rehearsal)
{
	const ErrorData *edata = outcome->error;

	if (!rehearsal)
		history_record_failure(w->migration, outcome->finished_at, edata,
							   outcome->error_line, outcome->blockers);
	ereport(WARNING,
			(errmsg("migration \"%s\" failed: %s", w->migration, edata->message),
			 errdetail("SQLSTATE %s%s.  The migrations before it %s.",
					   unpack_sql_state(edata->sqlerrcode),
					   outcome->error_line > 0 ?
					   psprintf(", line %d", outcome->error_line) : "",
					   rehearsal ? "were rehearsed" :
					   psprintf("stay applied and the failure is recorded in %s",
								history_errors_table())),
			 edata->hint ? errhint("%s", edata->hint) : 0));
}

/* Adds a row of migrate_apply or migrate_rollback. */
static void
put_run_row(ReturnSetInfo *rsinfo, const char *filename, const char *status,
			const MigrationOutcome *outcome, Datum locks)
{
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, true};

	values[0] = CStringGetTextDatum(filename);
	values[1] = CStringGetTextDatum(status);
	values[2] = Int32GetDatum(outcome->statements);
	values[3] = interval_datum(outcome->duration);
	if (rsinfo->setDesc->natts > 4 && locks != (Datum) 0)
	{
		values[4] = locks;
		nulls[4] = false;
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * Tells whether a call that applies (migrate_apply without dry_run, or
 * migrate_run) with these arguments may use or keep a directory's proof
 * (dirproof.c): without target or steps, to the database's own history,
 * from a directory on disk.
 */
static bool
proof_kept_for(const char *path, const char *target, int steps)
{
	return target == NULL && steps < 0 && history_of_database() &&
		!files_pushed(path);
}

/*
 * Tells whether a call that has nothing to apply said nothing either:
 * every migration applied or a baseline (none missing, failed, changed,
 * or another runner's to apply), no down file without its up file, and
 * no file read (each served by a fingerprint or the session's cache):
 * reading a file can make the server's scanner say something, such as an
 * identifier truncated or a backslash in a string, which a later call
 * answering from a proof would not say.  A call that read files keeps
 * their fingerprints, so the next one reads none.
 */
static bool
nothing_to_say(const CallState *call)
{
	ListCell   *lc;

	if (call->dir->orphans != NIL || call->dir->nread > 0)
		return false;
	foreach(lc, call->entries)
	{
		const MigrationEntry *e = (const MigrationEntry *) lfirst(lc);

		if (e->state != MS_APPLIED && e->state != MS_BASELINE)
			return false;
	}
	return true;
}

/*
 * migrate_apply: applies (or rehearses) the pending files in version
 * order under the lock, after refusing changed files and preflighting
 * every pending file.  The call shows in morgenmigrate.progress from its
 * start, the wait for the lock included.
 */
void
command_apply(const char *path, const ApplyOptions *options,
			  ReturnSetInfo *rsinfo)
{
	SPI_connect();
	progress_begin(options->dry_run ? PROGRESS_REHEARSAL : PROGRESS_APPLY,
				   path);
	PG_TRY();
	{
		CallState	call;
		List	   *work;
		struct timespec started;
		bool		provable = !options->dry_run &&
			proof_kept_for(path, options->target, options->steps);

		lock_history();
		clock_gettime(CLOCK_REALTIME, &started);
		if (!provable || !dirproof_stands(path))
		{
			begin_call(&call, path);
			plan_refuse_changed(call.entries);
			if (!options->dry_run)
				keep_fingerprints(&call);
			plan_warn_missing(call.entries);
			warn_orphans(call.dir);
			work = up_work(plan_pending(call.dir, call.entries, options->target,
										options->steps, true));
			if (provable && work == NIL && nothing_to_say(&call))
				dirproof_keep(path, call.history, call.entries, &started);
			preflight(&call, work, options->dry_run ?
					  PREFLIGHT_REHEARSAL : PREFLIGHT_TRANSACTION);

			if (options->dry_run)
				rehearse_work(&call, work, options->atomic, rsinfo);
			else
				apply_work(&call, work, options->atomic, rsinfo);
		}
	}
	PG_FINALLY();
	{
		progress_end();
	}
	PG_END_TRY();
	SPI_finish();
}

/*
 * Runs the files of a call one after the other, recording each that
 * applies.  In atomic mode an error propagates (and the caller's
 * transaction loses everything); otherwise each file runs in its own
 * subtransaction, the failed file is recorded and the run stops there.
 */
static void
apply_work(CallState *call, List *work, bool atomic, ReturnSetInfo *rsinfo)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile int done = 0;

	PG_TRY();
	{
		if (atomic && work_waits_for_locks(work))
			apply_retrying(call, work, rsinfo, &done);
		else
			apply_files(call, work, atomic ? RUN_RETHROW : RUN_CATCH, rsinfo,
						&done);
	}
	PG_CATCH();
	{
		runner_report_done();
		MemoryContextSwitchTo(oldcxt);
		explain_lock_table_full(done, list_length(work));
		PG_RE_THROW();
	}
	PG_END_TRY();
	runner_report_done();
}

/*
 * The loop of apply_work: runs each file with run_script in mode, records
 * it, and counts in done the files that applied.  Each file's memory is
 * freed before the next.
 */
static void
apply_files(CallState *call, List *work, RunMode mode, ReturnSetInfo *rsinfo,
			volatile int *done)
{
	ListCell   *lc;

	foreach(lc, work)
	{
		WorkItem   *w = (WorkItem *) lfirst(lc);
		MigrationOutcome outcome;

		run_script(start_file(call, w, PREFLIGHT_TRANSACTION,
							  foreach_current_index(lc) + 1,
							  list_length(work)),
				   mode, &outcome);
		if (outcome.ok)
		{
			record_success(w, &outcome);
			/* the workers commit it with the caller's transaction */
			if (citus_active())
				citus_note_file(w->migration);
		}
		else
			record_failure(w, &outcome, false);
		put_run_row(rsinfo, w->migration,
					outcome.ok ? "applied" : "failed", &outcome, (Datum) 0);
		if (!outcome.ok)
			break;
		(*done)++;
	}
	end_file(call);
}

/*
 * Tells whether a file of the work can end in a lock timeout that is to be
 * tried again, or whose blockers are to be named.
 */
static bool
work_waits_for_locks(List *work)
{
	ListCell   *lc;

	foreach(lc, work)
	{
		WorkItem   *w = (WorkItem *) lfirst(lc);

		if (w->retries > 0 || w->lock_timeout > 0)
			return true;
	}
	return LockTimeout > 0;
}

/* What apply_in_call applies. */
typedef struct ApplyArgs
{
	CallState  *call;
	List	   *work;
	ReturnSetInfo *rsinfo;
	volatile int *done;
} ApplyArgs;

/* apply_files of a whole call, for subxact_error_of. */
static void
apply_in_call(void *arg)
{
	ApplyArgs  *a = (ApplyArgs *) arg;

	apply_files(a->call, a->work, RUN_IN_CALL, a->rsinfo, a->done);
}

/*
 * An all-or-nothing call whose files may be tried again after a lock
 * timeout: the whole call runs in one subtransaction, and when a file
 * cannot get its lock, the call's work is rolled back and run again from
 * its first file, as often as that file's retries allow, after a wait;
 * the notice and the final error name who held the lock.
 * One subtransaction per file would give the same result, but the end of
 * each walks what the transaction did so far: its cost grows with the
 * number of files, where this costs one subtransaction per try.
 */
static void
apply_retrying(CallState *call, List *work, ReturnSetInfo *rsinfo,
			   volatile int *done)
{
	int		   *tries = palloc0(sizeof(int) * list_length(work));

	ApplyArgs	args = {call, work, rsinfo, done};

	for (;;)
	{
		ErrorData  *edata;
		const WorkItem *w;
		LockTimeoutBlockers *blockers;

		*done = 0;
		edata = subxact_error_of(apply_in_call, &args);
		if (edata == NULL)
			return;

		/* the file after those that applied is the one that failed */
		w = (const WorkItem *) list_nth(work, *done);
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			ReThrowError(edata);
		blockers = blockers_after_timeout();
		if (blockers != NULL && tries[*done] >= w->retries)
			runner_add_blockers(edata, blockers->text);
		if (tries[*done] >= w->retries)
			ReThrowError(edata);
		tries[*done]++;
		runner_retry_notice(w->shown, tries[*done], w->retries, edata,
							blockers ? blockers->text : NULL);
		FreeErrorData(edata);
		tuplestore_clear(rsinfo->setResult);
		runner_retry_wait(tries[*done]);
	}
}

/*
 * When a call ran out of the shared lock table, keeps PostgreSQL's error
 * and extends its hint: how far the call got, that a call in one
 * transaction keeps every lock to its end, and that migrate_run commits
 * after each file.  Other errors pass unchanged (the caller re-throws).
 */
static void
explain_lock_table_full(int done, int total)
{
	ErrorData  *edata = CopyErrorData();

	if (edata->sqlerrcode != ERRCODE_OUT_OF_MEMORY || edata->hint == NULL ||
		strstr(edata->hint, "max_locks_per_transaction") == NULL)
	{
		FreeErrorData(edata);
		return;
	}
	FlushErrorState();
	edata->hint = psprintf("%s  This call had applied %d of its %d files in one transaction, which holds every lock it takes until it ends (max_locks_per_transaction is %d).  CALL morgenmigrate.migrate_run() commits after each file and needs only the locks of one file at a time.",
						   edata->hint, done, total, max_locks_per_xact);
	ReThrowError(edata);
}

/*
 * The rehearsal: runs every file for real, one after the other inside one
 * subtransaction that is rolled back at the end, and reports the relation
 * locks each file took.  Nothing is recorded.  An error (atomic mode)
 * rolls the subtransaction back before it propagates, as every error
 * leaving an internal subtransaction must.
 */
static void
rehearse_work(CallState *call, List *work, bool atomic, ReturnSetInfo *rsinfo)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);

	PG_TRY();
	{
		ListCell   *lc;
		int			rehearsed = 0;

		foreach(lc, work)
		{
			WorkItem   *w = (WorkItem *) lfirst(lc);
			MigrationOutcome outcome;
			HeldLocks  *before;
			CitusLocks *workers_before = NULL;
			Datum		locks = (Datum) 0;

			MigrationScript *script;

			script = start_file(call, w, PREFLIGHT_REHEARSAL,
								foreach_current_index(lc) + 1,
								list_length(work));
			if (script->needs_top_level)
			{
				/* only migrate_run can run it: outside any transaction */
				memset(&outcome, 0, sizeof(outcome));
				outcome.ok = true;
				put_run_row(rsinfo, w->migration, "not rehearsable", &outcome,
							(Datum) 0);
				continue;
			}
			before = lockreport_held();
			if (citus_active())
				workers_before = citus_worker_locks();
			run_script(script, atomic ? RUN_RETHROW : RUN_CATCH, &outcome);
			if (outcome.ok)
			{
				locks = lockreport_taken(before);
				if (workers_before != NULL)
					locks = citus_report_worker_locks(locks, workers_before);
				locks = lockreport_append(locks, w->plan);
				rehearsed++;
			}
			else
				record_failure(w, &outcome, true);
			put_run_row(rsinfo, w->migration,
						outcome.ok ? "rehearsed" : "failed", &outcome, locks);
			if (!outcome.ok)
				break;
		}
		end_file(call);
		runner_report_done();
		lockreport_note_held(rehearsed);
	}
	PG_CATCH();
	{
		ErrorData  *edata = subxact_catch(oldcxt, oldowner);

		runner_report_done();
		ReThrowError(edata);
	}
	PG_END_TRY();

	subxact_rollback(oldcxt, oldowner);
}

/*
 * migrate_rollback: runs the down files of the newest applied migrations,
 * newest first, each in a subtransaction, all or nothing, and deletes
 * their history rows.
 */
void
command_rollback(const char *path, int steps, const char *target,
				 ReturnSetInfo *rsinfo)
{
	SPI_connect();
	progress_begin(PROGRESS_ROLLBACK, path);
	PG_TRY();
	{
		CallState	call;
		List	   *work;
		ListCell   *lc;

		lock_history();
		begin_call(&call, path);
		work = down_work(&call, steps, target);
		preflight(&call, work, PREFLIGHT_TRANSACTION);

		foreach(lc, work)
		{
			WorkItem   *w = (WorkItem *) lfirst(lc);
			MigrationOutcome outcome;

			if (w->noop)
				memset(&outcome, 0, sizeof(outcome));
			else
				run_script(start_file(&call, w, PREFLIGHT_TRANSACTION,
									  foreach_current_index(lc) + 1,
									  list_length(work)),
						   RUN_RETHROW, &outcome);
			history_forget(w->migration);
			put_run_row(rsinfo, w->migration, "rolled back", &outcome,
						(Datum) 0);
		}
		end_file(&call);
	}
	PG_FINALLY();
	{
		runner_report_done();
		progress_end();
	}
	PG_END_TRY();
	SPI_finish();
}

/*
 * CALL migrate_run: applies the pending files, committing after each, under
 * the session-level lock.  A failing file is rolled back, its failure
 * recorded and committed, and then its error raised.
 */
void
command_run(const char *path, const char *target)
{
	run_committing(path, target, -1, false, NULL);
}

/*
 * CALL migrate_run for one tenant schema of a fleet (the history, lock
 * and search_path of the schema already chosen): as command_run, but a
 * failure (of a file, recorded as command_run records it, or of anything
 * before the first file runs, with nothing of this schema changed) comes
 * back as the error, NULL if none, instead of being raised.
 */
ErrorData *
command_run_schema(const char *path, const char *target)
{
	ErrorData  *failure = NULL;

	run_committing(path, target, -1, false, &failure);
	return failure;
}

/*
 * CALL migrate_run_rollback: runs the down parts of the newest applied
 * migrations as migrate_rollback chooses them, committing after each, so
 * that a down migration that must run outside a transaction (DROP INDEX
 * CONCURRENTLY, a runner's no-transaction marker) runs as migrate_run runs
 * such up migrations.  A failing one is rolled back alone and its error
 * raised; the ones before it stay rolled back.
 */
void
command_run_rollback(const char *path, int steps, const char *target)
{
	run_committing(path, target, steps, true, NULL);
}

/* What a procedure's run is asked to do, and what it works on. */
typedef struct RunRequest
{
	const char *path;
	const char *target;
	int			steps;
	bool		down;
	CallState	call;
	List	   *work;
} RunRequest;

/*
 * Reads what a procedure's run works on, under the lock: the call's state
 * and its work, compared and preflighted.
 */
static void
run_work(void *arg)
{
	RunRequest *r = (RunRequest *) arg;
	bool		provable = !r->down && proof_kept_for(r->path, r->target, -1);
	struct timespec started;

	lock_history_session();
	clock_gettime(CLOCK_REALTIME, &started);
	/* nothing to do, as migrate_apply would find: no work, no call state */
	if (provable && dirproof_stands(r->path))
		return;
	begin_call(&r->call, r->path);
	if (r->down)
		r->work = down_work(&r->call, r->steps, r->target);
	else
	{
		plan_refuse_changed(r->call.entries);
		/* as migrate_apply: a pg_cron job's next call reads no file */
		keep_fingerprints(&r->call);
		plan_warn_missing(r->call.entries);
		warn_orphans(r->call.dir);
		r->work = up_work(plan_pending(r->call.dir, r->call.entries,
									   r->target, -1, true));
		if (provable && r->work == NIL && nothing_to_say(&r->call))
			dirproof_keep(r->path, r->call.history, r->call.entries,
						  &started);
	}
	preflight(&r->call, r->work, PREFLIGHT_STEPS);
}

/* refuse_external for error_of. */
static void
refuse_external_of(void *arg)
{
	refuse_external((const MigrationFile *) arg);
}

/*
 * The procedures' common run: under the session-level lock, the up work
 * (or the down work of a rollback), each file committed as it is done.
 * With failure, a failing file (or anything failing before the first file
 * runs, in a subtransaction then) ends the run with its error there
 * instead of raised.
 */
static void
run_committing(const char *path, const char *target, int steps, bool down,
			   ErrorData **failure)
{
	MemoryContext cxt = CurrentMemoryContext;

	SPI_connect_ext(SPI_OPT_NONATOMIC);
	progress_begin(down ? PROGRESS_RUN_ROLLBACK : PROGRESS_RUN, path);
	PG_TRY();
	{
		run_committing_locked(path, target, steps, down, failure, cxt);
	}
	PG_FINALLY();
	{
		progress_end();
	}
	PG_END_TRY();
	SPI_finish();
}

/*
 * The run of run_committing, from the wait for the session lock on; a
 * failure it returns is copied into cxt.
 */
static void
run_committing_locked(const char *path, const char *target, int steps,
					  bool down, ErrorData **failure, MemoryContext cxt)
{
	/*
	 * Wait for the lock without a snapshot: a run that holds it may be
	 * building an index concurrently, which would wait for our snapshot.
	 */
	SPI_commit();
	InvalidateCatalogSnapshot();

	PG_TRY();
	{
		RunRequest	r;
		ListCell   *lc;

		memset(&r, 0, sizeof(r));
		r.path = path;
		r.target = target;
		r.steps = steps;
		r.down = down;
		if (failure == NULL)
			run_work(&r);
		/* a cancel while waiting for the lock ends the whole call */
		else if ((*failure = subxact_failure_of(run_work, &r)) != NULL)
			r.work = NIL;

		foreach(lc, r.work)
		{
			WorkItem   *w = (WorkItem *) lfirst(lc);
			MigrationOutcome outcome;
			MigrationScript *script;

			if (!down && w->mfile->role == ROLE_EXTERNAL && failure == NULL)
				refuse_external(w->mfile);
			if (!down && w->mfile->role == ROLE_EXTERNAL)
			{
				*failure = subxact_failure_of(refuse_external_of, (void *) w->mfile);
				break;
			}
			if (w->noop)
			{
				memset(&outcome, 0, sizeof(outcome));
				outcome.ok = true;
				history_forget(w->migration);
				SPI_commit();
				continue;
			}
			script = start_file(&r.call, w, PREFLIGHT_STEPS,
								foreach_current_index(lc) + 1,
								list_length(r.work));
			if (script->needs_top_level)
				run_script_in_steps(script, &outcome);
			else
				run_script(script, RUN_CATCH, &outcome);
			if (outcome.ok && down)
				history_forget(w->migration);
			else if (outcome.ok)
				record_success(w, &outcome);
			else if (!down)
				history_record_failure(w->migration, outcome.finished_at,
									   outcome.error, outcome.error_line,
									   outcome.blockers);
			SPI_commit();
			/* a file's failure ends this run; the caller's cancel, the call */
			if (!outcome.ok && failure != NULL && !outcome.interrupted)
			{
				*failure = outcome.error;
				break;
			}
			if (!outcome.ok)
				ReThrowError(outcome.error);
		}
		/* the failure outlives the run's memory */
		if (failure != NULL && *failure != NULL)
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(cxt);

			*failure = error_copy(*failure);
			MemoryContextSwitchTo(oldcxt);
		}
		if (r.work != NIL)
			end_file(&r.call);
	}
	PG_FINALLY();
	{
		lock_release_session();
		runner_report_done();
	}
	PG_END_TRY();
}

/*
 * migrate_plan: what each statement of the pending files would cost, in
 * run order, without running anything and without the migration lock (a
 * plan must answer at once, also while a migration or another session
 * holds locks): a row per statement and relation it touches.  The same
 * checks as migrate_apply's come first (changed files, the preflight of
 * migrate_run, which runs the most), so a plan of a set that would not
 * run fails as the run would.  A session's next plan of the same pending
 * files answers from the classification of its last (costcache.c) while
 * the catalog cannot have changed, with the sizes and blockers of now.
 */
void
command_plan(const char *path, const char *target, int steps,
			 ReturnSetInfo *rsinfo)
{
	CallState	call;
	CostState  *cost;
	List	   *work;
	ListCell   *lc;
	int			nest;
	StringInfoData key;
	CostCacheStamp stamp;
	bool		keep;

	SPI_connect();
	begin_call(&call, path);
	plan_refuse_changed(call.entries);
	plan_warn_missing(call.entries);
	warn_orphans(call.dir);
	cost = cost_begin(true);
	filecache_script_begin();
	/* the names of the files are read as the files will run */
	nest = runner_search_path_begin();
	work = up_work(plan_pending(call.dir, call.entries, target, steps, true));
	keep = plan_key(&call, work, &key);
	if (keep)
	{
		int			nrows;
		List	   *kept = costcache_lookup(&key, &stamp, &nrows);

		if (kept != NIL && plan_from_kept(cost, work, kept, nrows, rsinfo))
		{
			ereport(DEBUG1,
					(errmsg_internal("migrate_plan of \"%s\": the classification of the session's last plan is used",
									 path)));
			runner_search_path_end(nest);
			SPI_finish();
			return;
		}
		if (kept != NIL)
			cost = cost_begin(true);	/* as a call that kept nothing */
		costcache_begin(&key, &stamp);
	}
	foreach(lc, work)
	{
		WorkItem   *w = (WorkItem *) lfirst(lc);
		MigrationScript *script;
		ScriptCursor cursor;

		if (keep)
			costcache_add_file();
		if (w->mfile->role == ROLE_EXTERNAL)
		{
			put_external_plan_row(rsinfo, w);
			continue;
		}
		MemoryContextSwitchTo(call.filecxt);
		script = plan_script(&call, w);
		cost_begin_file(cost, script);
		memset(&cursor, 0, sizeof(cursor));
		for (int i = 0; i < script->nstatements; i++)
		{
			const MigrationStatement *stmt = &script->statements[i];
			int			line = script_statement_line_from(script, stmt, &cursor);
			List	   *rows = cost_statement(cost, script, stmt);
			ListCell   *rc;

			if (keep)
				costcache_add_statement(line, stmt->command, rows);
			foreach(rc, rows)
				put_plan_row(rsinfo, w->migration, line, stmt->command,
							 (const CostRow *) lfirst(rc));
		}
		end_file(&call);
	}
	if (keep)
		costcache_finish();
	runner_search_path_end(nest);
	SPI_finish();
}

/*
 * The key under which a plan of the work is kept (costcache.c): the
 * directory, each file's name, checksum and configuration in run order,
 * how its script is prepared, and the session's settings.  False when no
 * plan may be kept: in a transaction that wrote something, when preparing
 * a script may warn, or on the session's first call on the directory
 * (from its second on, as the files' scripts: plan_script).
 */
static bool
plan_key(CallState *call, List *work, StringInfo key)
{
	ScriptUse	use;
	ListCell   *lc;

	if (!script_use(&use, PREFLIGHT_STEPS) || !call->dir->keep_files ||
		!costcache_usable())
		return false;
	use.layout = call->dir->layout;
	use.section = SECTION_UP;
	initStringInfo(key);
	appendBinaryStringInfo(key, (char *) &use, sizeof(use));
	costcache_key_add(key, call->dir->path);
	foreach(lc, work)
	{
		WorkItem   *w = (WorkItem *) lfirst(lc);
		const LayoutConfig *config = &w->mfile->config;
		char		flags[4] = {w->mfile->role, config->no_transaction,
		config->as_written, w->down};

		costcache_key_add(key, w->migration);
		costcache_key_add(key, w->file);
		costcache_key_add(key, w->entry->checksum);
		costcache_key_add(key, config->path);
		appendBinaryStringInfo(key, flags, sizeof(flags));
	}
	costcache_key_settings(key);
	return true;
}

/*
 * Returns the rows of a plan from its kept classification: each row
 * completed with the size and the sessions in its way now.  False, with
 * no row returned and the kept plan forgotten, if completing them fails
 * (a relation that cannot be measured): the plan is then made anew, and
 * tells each statement's failure as it always does.
 */
static bool
plan_from_kept(CostState *cost, List *work, List *kept, int nrows,
			   ReturnSetInfo *rsinfo)
{
	PlanFromKept arg = {work, kept, cost, palloc(sizeof(PlanRow) * Max(nrows, 1)), 0};
	ErrorData  *edata = subxact_failure_of(complete_kept, &arg);

	if (edata != NULL)
	{
		FreeErrorData(edata);
		costcache_forget();
		return false;
	}
	for (int i = 0; i < arg.nrows; i++)
	{
		PlanRow    *pr = &arg.rows[i];

		if (pr->statement == NULL)
			put_external_plan_row(rsinfo, pr->w);
		else
			put_plan_row(rsinfo, pr->w->migration, pr->statement->line,
						 pr->statement->command, &pr->row);
	}
	return true;
}

/*
 * Completes the rows of a kept plan (a PlanFromKept), in run order: a
 * copy of each, with its size, blockers and advice of now.
 */
static void
complete_kept(void *arg)
{
	PlanFromKept *p = (PlanFromKept *) arg;
	ListCell   *wc;
	ListCell   *kc;

	forboth(wc, p->work, kc, p->kept)
	{
		WorkItem   *w = (WorkItem *) lfirst(wc);
		ListCell   *sc;

		if (w->mfile->role == ROLE_EXTERNAL)
		{
			p->rows[p->nrows].w = w;
			p->rows[p->nrows++].statement = NULL;
			continue;
		}
		foreach(sc, (List *) lfirst(kc))
		{
			KeptStatement *ks = (KeptStatement *) lfirst(sc);
			ListCell   *rc;

			foreach(rc, ks->rows)
			{
				PlanRow    *pr = &p->rows[p->nrows++];

				pr->w = w;
				pr->statement = ks;
				pr->row = *(CostRow *) lfirst(rc);
				cost_finish_row(p->cost, &pr->row);
			}
		}
	}
}

/* Adds the row of a file only its own runner can run to a plan. */
static void
put_external_plan_row(ReturnSetInfo *rsinfo, const WorkItem *w)
{
	CostRow		row;

	memset(&row, 0, sizeof(row));
	row.effect = COST_UNKNOWN;
	row.bytes = -1;
	row.advice = psprintf("%s: only its own runner can run it; run it with that runner and record it with migrate_baseline(), or port it to SQL",
						  w->mfile->what);
	put_plan_row(rsinfo, w->migration, 0, NULL, &row);
}

/*
 * A pending file of a plan, read and split into statements with their
 * parse trees, through the preflight of migrate_run: a copy of what this
 * session kept of it while the file stays as it was (the same trust as
 * its checksum's, filecache.c), else read and prepared, and kept (from
 * the session's second call on the directory).  Only what the file's
 * bytes and the settings decide is kept here; the classification, which
 * the catalog decides too, is kept apart while the catalog stays as it
 * was (costcache.c).
 */
static MigrationScript *
plan_script(CallState *call, const WorkItem *w)
{
	const LayoutConfig *config = &w->mfile->config;
	ScriptUse	use;
	bool		keep = script_use(&use, PREFLIGHT_STEPS);
	MigrationScript *script = NULL;

	use.layout = call->dir->layout;
	use.section = SECTION_UP;
	use.config_no_transaction = config->no_transaction;
	if (keep && w->mfile->inspected &&
		migration_keeps(call->dir, &w->mfile->file_stat))
		script = filecache_script_lookup(&w->mfile->file_stat, w->file, &use);
	/* what this call found in the file must be what was kept of it */
	if (script != NULL && strcmp(script->checksum, w->entry->checksum) == 0)
	{
		migration_configure(script, config);
		return script;
	}
	script = read_work(call, w);
	script->keep_trees = true;
	script_prepare(script, PREFLIGHT_STEPS);
	if (keep && migration_keeps(call->dir, &script->file_stat))
		filecache_script_store(w->file, &use, script);
	return script;
}

/* Adds a row of migrate_plan. */
static void
put_plan_row(ReturnSetInfo *rsinfo, const char *filename, int line,
			 const char *command, const CostRow *row)
{
	Datum		values[10];
	bool		nulls[10] = {false, line <= 0, command == NULL,
		row->origin != ORIGIN_EXISTING, row->lockmode == NoLock, false,
	row->bytes < 0, false, row->origin != ORIGIN_EXISTING, row->advice == NULL};

	values[0] = CStringGetTextDatum(filename);
	values[1] = Int32GetDatum(line);
	if (command != NULL)
		values[2] = CStringGetTextDatum(command);
	values[3] = ObjectIdGetDatum(row->relid);
	if (row->lockmode != NoLock)
		values[4] = CStringGetTextDatum(GetLockmodeName(DEFAULT_LOCKMETHOD,
														row->lockmode));
	values[5] = CStringGetTextDatum(cost_effect_name(row->effect));
	values[6] = Int64GetDatum(row->bytes);
	values[7] = CStringGetTextDatum(cost_blocks(row));
	if (row->origin == ORIGIN_EXISTING)
	{
		Datum	   *pids = palloc(sizeof(Datum) * Max(list_length(row->blockers), 1));
		int			n = 0;
		ListCell   *lc;

		foreach(lc, row->blockers)
			pids[n++] = Int32GetDatum(lfirst_int(lc));
		values[8] = PointerGetDatum(construct_array(pids, n, INT4OID,
													sizeof(int32), true,
													TYPALIGN_INT));
	}
	if (row->advice != NULL)
		values[9] = CStringGetTextDatum(row->advice);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* A copy of an error's report in the current memory context. */
static ErrorData *
error_copy(const ErrorData *edata)
{
	ErrorData  *copy = palloc(sizeof(ErrorData));

	memcpy(copy, edata, sizeof(ErrorData));
	copy->message = edata->message ? pstrdup(edata->message) : NULL;
	copy->detail = edata->detail ? pstrdup(edata->detail) : NULL;
	copy->detail_log = edata->detail_log ? pstrdup(edata->detail_log) : NULL;
	copy->hint = edata->hint ? pstrdup(edata->hint) : NULL;
	copy->context = edata->context ? pstrdup(edata->context) : NULL;
	copy->backtrace = NULL;
	copy->schema_name = NULL;
	copy->table_name = NULL;
	copy->column_name = NULL;
	copy->datatype_name = NULL;
	copy->constraint_name = NULL;
	copy->internalquery = NULL;
	copy->assoc_context = CurrentMemoryContext;
	return copy;
}

/*
 * migrate_layout(dir): what morgenmigrate reads from a directory, before
 * anything runs: per migration its layout, version, kind, where its up
 * and down parts are, and whether it runs in a transaction (and if not,
 * why).  Every file is read and checked as a run would check it.
 */
void
command_layout(const char *path, ReturnSetInfo *rsinfo)
{
	CallState	call;
	ListCell   *lc;
	bool		with_why = rsinfo->setDesc->natts > 8;
	List	   *ignored;

	SPI_connect();
	begin_call(&call, path);
	foreach(lc, call.entries)
	{
		MigrationEntry *e = (MigrationEntry *) lfirst(lc);
		Datum		values[9];
		bool		nulls[9] = {false, false, false, false, false, true, false, true, false};
		const MigrationFile *f = e->file;
		const char *kind;
		char	   *runs = NULL;
		bool		in_transaction = true;

		if (f == NULL)
			continue;
		kind = f->role == ROLE_REPEATABLE ? "repeatable" :
			f->role == ROLE_EXTERNAL ? "external" : "versioned";
		if (f->role == ROLE_EXTERNAL)
		{
			in_transaction = false;
			runs = psprintf("only its own runner can run it: %s", f->what);
		}
		else
			describe_run(&call, e, &in_transaction, &runs);

		values[0] = CStringGetTextDatum(e->filename);
		values[1] = CStringGetTextDatum(layout_name(call.dir->layout));
		values[2] = CStringGetTextDatum(f->version ? f->version : "");
		values[3] = CStringGetTextDatum(kind);
		values[4] = CStringGetTextDatum(describe_part(f->path, &e->sections->up,
													  e->sections->layout));
		if (f->down_path != NULL)
		{
			values[5] = CStringGetTextDatum(strcmp(f->down_path, f->path) == 0 ?
											describe_part(f->path, &e->sections->down,
														  e->sections->layout) :
											files_name_to_server(f->down_path));
			nulls[5] = false;
		}
		values[6] = BoolGetDatum(in_transaction);
		if (runs != NULL)
		{
			values[7] = CStringGetTextDatum(runs);
			nulls[7] = false;
		}
		values[8] = CStringGetTextDatum(f->why != NULL ? f->why :
										psprintf("named as %s names its migrations",
												 layout_methods(call.dir->layout)->runner));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		end_file(&call);
	}

	/* and what is no migration, and why (where the function can say it) */
	ignored = with_why ? migration_dir_ignored(call.dir) : NIL;
	list_sort(ignored, cmp_ignored);
	foreach(lc, ignored)
	{
		const MigrationIgnored *ig = (const MigrationIgnored *) lfirst(lc);
		Datum		values[9] = {0};
		bool		nulls[9] = {false, false, true, false, true, true, true, true, false};

		values[0] = CStringGetTextDatum(ig->name);
		values[1] = CStringGetTextDatum(layout_name(call.dir->layout));
		values[3] = CStringGetTextDatum("ignored");
		values[8] = CStringGetTextDatum(ig->why);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
}

/* list_sort comparator: ignored entries by name. */
static int
cmp_ignored(const ListCell *a, const ListCell *b)
{
	return strcmp(((const MigrationIgnored *) lfirst(a))->name,
				  ((const MigrationIgnored *) lfirst(b))->name);
}

/* Where one part of a migration is: a file, or lines of a file. */
static char *
describe_part(const char *path, const TextRange *r, MigrationLayout layout)
{
	char	   *shown = files_name_to_server(path);

	if (layout == LAYOUT_PLAIN)
		return shown;
	return psprintf("%s, lines %d-%d", shown, r->line, r->last_line);
}

/*
 * Reads and checks a migration's up part as migrate_run would, and says
 * whether it runs in a transaction, and if not, why.
 */
static void
describe_run(CallState *call, const MigrationEntry *e, bool *in_transaction,
			 char **runs)
{
	WorkItem	w;
	MigrationScript *script;

	memset(&w, 0, sizeof(w));
	w.migration = e->filename;
	w.file = e->file->path;
	w.mfile = e->file;
	w.entry = e;
	MemoryContextSwitchTo(call->filecxt);
	script = read_work(call, &w);
	script_prepare(script, PREFLIGHT_STEPS);
	MemoryContextSwitchTo(call->callcxt);

	if (script->no_transaction)
	{
		*in_transaction = false;
		*runs = psprintf(script_runs_as_one_batch(script) ?
						 "in one batch, outside a transaction: %s" :
						 "statement by statement, outside a transaction: %s",
						 script->no_transaction_by);
		return;
	}
	for (int i = 0; i < script->nstatements; i++)
	{
		if (script->statements[i].top_level)
		{
			*in_transaction = false;
			*runs = psprintf("statement by statement by migrate_run: %s on line %d cannot run in a transaction",
							 script->statements[i].top_level_what,
							 script_statement_line(script, &script->statements[i]));
			return;
		}
	}
	if (script->unwrapped > 1)
		*runs = psprintf("as one unit by migrate_apply; migrate_run commits at each of its %d COMMITs",
						 script->unwrapped);
}

/*
 * migrate_baseline: records the pending files up to target as applied
 * (kind 'baseline') without running them; returns how many.
 */
int
command_baseline(const char *path, const char *target)
{
	CallState	call;
	List	   *pending;
	ListCell   *lc;
	TimestampTz now;
	int			n = 0;

	SPI_connect();
	lock_history();
	begin_call(&call, path);
	pending = plan_pending(call.dir, call.entries, target, -1, false);
	now = GetCurrentTimestamp();
	foreach(lc, pending)
	{
		MigrationEntry *e = (MigrationEntry *) lfirst(lc);

		if (e->state == MS_OUTDATED)
			continue;			/* recorded already: it runs again */
		history_record(e->filename, e->checksum, now, 0, true);
		if (e->failure != NULL)
			history_clear_failure(e->filename);
		n++;
	}
	SPI_finish();
	return n;
}

/*
 * migrate_adopt: records as applied (kind 'adopted') every file the runner
 * the database was migrated with applied, at the time it applied it; a
 * row per file says what became of it.  A dry run records nothing.
 */
void
command_adopt(const char *path, const char *runner, const char *table,
			  bool dry_run, ReturnSetInfo *rsinfo)
{
	CallState	call;
	AdoptSource source = {runner, table};
	TimestampTz now = GetCurrentTimestamp();
	ListCell   *lc;

	SPI_connect();
	lock_history();
	begin_call(&call, path);
	foreach(lc, adopt_plan(call.dir, call.entries, &source))
	{
		const AdoptStep *step = (const AdoptStep *) lfirst(lc);
		const MigrationEntry *e = step->entry;
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		TimestampTz at = step->known_time ? step->applied_at : now;

		values[1] = CStringGetTextDatum(step->action == ADOPT_PENDING ? "pending" :
										step->action == ADOPT_RECORDED ? "already recorded" :
										dry_run ? "would adopt" : "adopted");
		if (step->action == ADOPT_RECORD && !dry_run)
		{
			history_record_adopted(e->filename, e->checksum, at);
			if (e->failure != NULL)
				history_clear_failure(e->filename);
		}
		if (step->action == ADOPT_RECORDED)
			at = e->applied->applied_at;
		values[0] = CStringGetTextDatum(e->filename);
		values[2] = TimestampTzGetDatum(at);
		nulls[2] = step->action == ADOPT_PENDING;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
}

/* migrate_forget: deletes one history row; an unknown name is an error. */
void
command_forget(const char *filename)
{
	SPI_connect();
	lock_history();
	if (!history_forget(filename))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("migration \"%s\" is not in the history", filename),
				 errhint("morgenmigrate.migrate_status() lists the applied migrations.")));
	SPI_finish();
}

/*
 * migrate_repair: accepts edited files (their recorded checksum becomes
 * the file's) and clears every recorded failure; a row says each action.
 */
void
command_repair(const char *path, ReturnSetInfo *rsinfo)
{
	CallState	call;
	ListCell   *lc;

	SPI_connect();
	lock_history();
	begin_call(&call, path);

	foreach(lc, call.entries)
	{
		MigrationEntry *e = (MigrationEntry *) lfirst(lc);
		Datum		values[2];
		bool		nulls[2] = {false, false};

		if (e->state != MS_CHANGED)
			continue;
		history_set_checksum(e->filename, e->checksum);
		values[0] = CStringGetTextDatum(e->filename);
		values[1] = CStringGetTextDatum("checksum updated");
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	for (int i = 0; i < call.history->nfailures; i++)
	{
		const char *name = call.history->failures[i].filename;
		Datum		values[2];
		bool		nulls[2] = {false, false};

		history_clear_failure(name);
		values[0] = CStringGetTextDatum(name);
		values[1] = CStringGetTextDatum("failure cleared");
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
}

/* Adds a row of migrate_status. */
static void
put_status_row(ReturnSetInfo *rsinfo, const char *filename, const char *state,
			   const HistoryRow *applied, const char *error)
{
	Datum		values[6];
	bool		nulls[6] = {false, false, true, true, true, true};

	values[0] = CStringGetTextDatum(filename);
	values[1] = CStringGetTextDatum(state);
	if (applied != NULL)
	{
		values[2] = TimestampTzGetDatum(applied->applied_at);
		values[3] = interval_datum(applied->duration);
		values[4] = CStringGetTextDatum(applied->checksum);
		nulls[2] = nulls[3] = nulls[4] = false;
	}
	if (error != NULL)
	{
		values[5] = CStringGetTextDatum(error);
		nulls[5] = false;
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* What migrate_status says in an entry's error column, or NULL. */
static const char *
entry_error(const MigrationEntry *e)
{
	if (e->failure != NULL)
		return failure_text(e->failure);
	if (e->state == MS_EXTERNAL)
		return psprintf("%s: run it with its own runner and record it with migrate_baseline(), or port it to SQL",
						e->file->what);
	return NULL;
}

/*
 * migrate_status(dir): every file and history row, in version order, then
 * the database's drift.
 */
void
command_status(const char *path, ReturnSetInfo *rsinfo)
{
	command_status_files(path, rsinfo);
	SPI_connect();
	drift_put_status_rows(rsinfo);
	SPI_finish();
}

/*
 * Every file and history row of the directory, in version order, without
 * the drift: a fleet's status reads the database's drift once, not once
 * per schema.
 */
void
command_status_files(const char *path, ReturnSetInfo *rsinfo)
{
	CallState	call;
	ListCell   *lc;

	MemoryContext rowcxt;
	MemoryContext oldcxt;

	History    *history = NULL;
	int		   *order = NULL;

	SPI_connect();
	/* each row's datums, freed once the tuplestore has its copy */
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "morgenmigrate status row",
								   ALLOCSET_SMALL_SIZES);

	/*
	 * Where the directory's proof stands, a no-op migrate_apply would find
	 * every migration applied as it is and read no file: the rows are the
	 * history's, in the order the proof kept.
	 */
	if (proof_kept_for(path, NULL, -1))
		order = dirproof_order(path, &history);
	if (order != NULL)
	{
		for (int i = 0; i < history->nrows; i++)
		{
			const HistoryRow *row = &history->rows[order[i]];

			oldcxt = MemoryContextSwitchTo(rowcxt);
			put_status_row(rsinfo, row->filename,
						   migration_state_name(row->baseline ? MS_BASELINE :
												MS_APPLIED), row, NULL);
			MemoryContextSwitchTo(oldcxt);
			MemoryContextReset(rowcxt);
		}
	}
	else
	{
		begin_call_with(&call, path, history);
		foreach(lc, call.entries)
		{
			MigrationEntry *e = (MigrationEntry *) lfirst(lc);

			oldcxt = MemoryContextSwitchTo(rowcxt);
			put_status_row(rsinfo, e->filename, migration_state_name(e->state),
						   e->applied, entry_error(e));
			MemoryContextSwitchTo(oldcxt);
			MemoryContextReset(rowcxt);
		}
	}
	MemoryContextDelete(rowcxt);
	SPI_finish();
}

/* list_sort comparator: FailureRow pointers by time of failure. */
static int
cmp_failure_time(const ListCell *a, const ListCell *b)
{
	const FailureRow *fa = (const FailureRow *) lfirst(a);
	const FailureRow *fb = (const FailureRow *) lfirst(b);

	if (fa->failed_at != fb->failed_at)
		return fa->failed_at < fb->failed_at ? -1 : 1;
	return strcmp(fa->filename, fb->filename);
}

/*
 * migrate_status(): the history in apply order, then the recorded failures
 * in the order they happened.
 */
void
command_history(ReturnSetInfo *rsinfo)
{
	CallState	call;
	List	   *failures = NIL;
	ListCell   *lc;

	SPI_connect();
	begin_call(&call, NULL);
	foreach(lc, history_in_apply_order(call.history))
	{
		const HistoryRow *row = (const HistoryRow *) lfirst(lc);

		put_status_row(rsinfo, row->filename,
					   row->baseline ? "baseline" : "applied", row, NULL);
	}
	for (int i = 0; i < call.history->nfailures; i++)
		failures = lappend(failures, &call.history->failures[i]);
	list_sort(failures, cmp_failure_time);
	foreach(lc, failures)
	{
		const FailureRow *f = (const FailureRow *) lfirst(lc);

		put_status_row(rsinfo, f->filename, "failed", NULL, failure_text(f));
	}
	SPI_finish();
}

/*
 * What migrate_check finds not applied as it stands: appends to detail a
 * sentence per state ("Pending: 003_x.sql, 004_y.sql.") and returns how
 * many migrations it named.
 */
int
command_unapplied(const char *path, StringInfo detail)
{
	CallState	call;
	static const MigrationState checked[] = {MS_PENDING, MS_EXTERNAL,
	MS_OUTDATED, MS_FAILED, MS_CHANGED};
	static const char *const labels[] = {"Pending", "Pending, to run with its own runner",
	"Changed, to run again", "Failed", "Changed"};
	int			count = 0;

	SPI_connect();
	/* where the directory's proof stands, every migration is applied */
	if (proof_kept_for(path, NULL, -1) && dirproof_stands(path))
	{
		SPI_finish();
		return 0;
	}
	begin_call(&call, path);
	plan_warn_missing(call.entries);
	for (int i = 0; i < lengthof(checked); i++)
	{
		int			n = 0;
		ListCell   *lc;

		foreach(lc, call.entries)
		{
			MigrationEntry *e = (MigrationEntry *) lfirst(lc);

			if (e->state != checked[i])
				continue;
			if (n++ == 0)
				appendStringInfo(detail, "%s%s: ", detail->len > 0 ? " " : "",
								 labels[i]);
			else
				appendStringInfoString(detail, ", ");
			appendStringInfoString(detail, e->filename);
		}
		if (n > 0)
			appendStringInfoChar(detail, '.');
		count += n;
	}
	SPI_finish();
	return count;
}

/*
 * migrate_check: an error listing what is pending, changed or failed;
 * quiet when the database is up to date.
 */
void
command_check(const char *path)
{
	StringInfoData detail;
	int			count;
	int			drift;

	initStringInfo(&detail);
	count = command_unapplied(path, &detail);
	SPI_connect();
	drift = drift_describe(&detail);
	if (count > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg_plural("%d migration of \"%s\" is not applied as it stands",
							   "%d migrations of \"%s\" are not applied as they stand",
							   count, count, path),
				 errdetail("%s", detail.data),
				 errhint("Apply them with morgenmigrate.migrate_apply(); accept edited files with morgenmigrate.migrate_repair().")));
	if (drift > 0)
		drift_refuse(drift, detail.data);
	SPI_finish();
}
