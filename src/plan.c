/*-------------------------------------------------------------------------
 *
 * plan.c
 *	  The directory against the history: the state of every file and every
 *	  history row, and which files a call should run.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "morgenmigrate.h"

static MigrationEntry *new_entry(List **entries, const char *filename,
								 MigrationState state);
static int	cmp_entries(const ListCell *a, const ListCell *b);
static char *join_names(List *entries);

/* The word migrate_status shows for a state. */
const char *
migration_state_name(MigrationState state)
{
	switch (state)
	{
		case MS_APPLIED:
			return "applied";
		case MS_BASELINE:
			return "baseline";
		case MS_PENDING:
			return "pending";
		case MS_CHANGED:
			return "changed";
		case MS_MISSING:
			return "missing";
		case MS_FAILED:
			return "failed";
		case MS_ORPHAN:
			return "orphan";
	}
	return "unknown";
}

/* Appends a new entry to a list. */
static MigrationEntry *
new_entry(List **entries, const char *filename, MigrationState state)
{
	MigrationEntry *e = palloc0(sizeof(MigrationEntry));

	e->filename = filename;
	e->state = state;
	*entries = lappend(*entries, e);
	return e;
}

/* list_sort comparator: entries in version order of their names. */
static int
cmp_entries(const ListCell *a, const ListCell *b)
{
	return migration_name_cmp(((const MigrationEntry *) lfirst(a))->filename,
							  ((const MigrationEntry *) lfirst(b))->filename);
}

/*
 * Every file of the directory and every history row, in version order,
 * with its state.  Applied files are read to compare their checksum with
 * the recorded one; pending files are not read.
 */
List *
plan_entries(const MigrationDir *dir, const History *history)
{
	List	   *entries = NIL;
	bool	   *seen = palloc0(sizeof(bool) * Max(history->nrows, 1));
	ListCell   *lc;

	for (int i = 0; i < dir->nfiles; i++)
	{
		const MigrationFile *file = &dir->files[i];
		HistoryRow *row = history_find(history, file->name);
		MigrationEntry *e;

		if (row != NULL)
		{
			e = new_entry(&entries, file->name,
						  row->baseline ? MS_BASELINE : MS_APPLIED);
			e->applied = row;
			seen[row - history->rows] = true;
			migration_checksum(dir, file->name, e->checksum);
			if (strcmp(e->checksum, row->checksum) != 0)
				e->state = MS_CHANGED;
		}
		else
		{
			e = new_entry(&entries, file->name, MS_PENDING);
			e->failure = history_find_failure(history, file->name);
			if (e->failure != NULL)
				e->state = MS_FAILED;
		}
		e->file = file;
	}

	for (int i = 0; i < history->nrows; i++)
	{
		if (!seen[i])
			new_entry(&entries, history->rows[i].filename,
					  MS_MISSING)->applied = &history->rows[i];
	}
	foreach(lc, dir->orphans)
		new_entry(&entries, (const char *) lfirst(lc), MS_ORPHAN);

	list_sort(entries, cmp_entries);
	pfree(seen);
	return entries;
}

/* The names of some entries, comma-separated. */
static char *
join_names(List *entries)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, entries)
	{
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, ((MigrationEntry *) lfirst(lc))->filename);
	}
	return buf.data;
}

/*
 * Refuses to go on when applied files were edited since they were applied,
 * naming them.
 */
void
plan_refuse_changed(List *entries)
{
	List	   *changed = NIL;
	ListCell   *lc;

	foreach(lc, entries)
	{
		MigrationEntry *e = (MigrationEntry *) lfirst(lc);

		if (e->state == MS_CHANGED)
			changed = lappend(changed, e);
	}
	if (changed != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg_plural("%d applied migration has changed since it was applied",
							   "%d applied migrations have changed since they were applied",
							   list_length(changed), list_length(changed)),
				 errdetail("Changed: %s.", join_names(changed)),
				 errhint("Restore the files as they were applied, or accept the edits with morgenmigrate.migrate_repair().")));
}

/* Warns about applied files that are gone from the directory. */
void
plan_warn_missing(List *entries)
{
	List	   *missing = NIL;
	ListCell   *lc;

	foreach(lc, entries)
	{
		MigrationEntry *e = (MigrationEntry *) lfirst(lc);

		if (e->state == MS_MISSING)
			missing = lappend(missing, e);
	}
	if (missing != NIL)
		ereport(WARNING,
				(errmsg_plural("%d applied migration is missing from the directory",
							   "%d applied migrations are missing from the directory",
							   list_length(missing), list_length(missing)),
				 errdetail("Missing: %s.", join_names(missing))));
}

/*
 * The entries a run should apply, in version order: the pending and failed
 * files, up to and including the file named by target (when not NULL), at
 * most steps of them (when steps >= 0).  With warn_order, a pending file
 * older than an applied one (merged from a branch) gets a WARNING.
 */
List *
plan_pending(List *entries, const char *target, int steps, bool warn_order)
{
	List	   *pending = NIL;
	MigrationEntry *last_applied = NULL;
	int			target_index = -1;
	ListCell   *lc;

	if (target != NULL)
	{
		foreach(lc, entries)
		{
			MigrationEntry *e = (MigrationEntry *) lfirst(lc);

			if (e->file != NULL && migration_name_matches(e->filename, target))
				target_index = foreach_current_index(lc);
		}
		if (target_index < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("migration target \"%s\" matches no migration file",
							target),
					 errhint("Give a file name, such as \"003_webhooks.sql\", or a version, such as \"3\".")));
	}

	foreach(lc, entries)
	{
		MigrationEntry *e = (MigrationEntry *) lfirst(lc);

		if (e->applied != NULL)
			last_applied = e;
		if (target_index >= 0 && foreach_current_index(lc) > target_index)
			continue;
		if ((e->state == MS_PENDING || e->state == MS_FAILED) &&
			(steps < 0 || list_length(pending) < steps))
			pending = lappend(pending, e);
	}

	if (warn_order && last_applied != NULL)
	{
		foreach(lc, pending)
		{
			MigrationEntry *e = (MigrationEntry *) lfirst(lc);

			if (migration_name_cmp(e->filename, last_applied->filename) < 0)
				ereport(WARNING,
						(errmsg("applying migration \"%s\" out of order",
								e->filename),
						 errdetail("It sorts before \"%s\", which is already applied.",
								   last_applied->filename)));
		}
	}
	return pending;
}
