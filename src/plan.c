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

#include "history.h"
#include "migration.h"
#include "plan.h"
#include "source.h"

static MigrationEntry *new_entry(List **entries, const char *filename,
								 MigrationState state);
static int	cmp_entries(const ListCell *a, const ListCell *b);
static bool is_runnable_state(MigrationState state);
static int	cmp_entries_of(const MigrationEntry *a, const MigrationEntry *b);
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
		case MS_EXTERNAL:
			return "external";
		case MS_OUTDATED:
			return "outdated";
	}
	return "unknown";
}

/* Appends a new entry to a list. */
static MigrationEntry *
new_entry(List **entries, const char *filename, MigrationState state)
{
	MigrationEntry *e = palloc0(sizeof(MigrationEntry));

	e->filename = filename;
	e->checksum = "";
	e->state = state;
	*entries = lappend(*entries, e);
	return e;
}

/* The layout whose order cmp_entries uses (list_sort has no argument). */
static const LayoutMethods *entry_order;

/*
 * list_sort comparator: entries in the version order of the directory's
 * layout; history rows without a file and orphans by their names.
 */
static int
cmp_entries(const ListCell *a, const ListCell *b)
{
	const MigrationEntry *ea = (const MigrationEntry *) lfirst(a);
	const MigrationEntry *eb = (const MigrationEntry *) lfirst(b);

	if (ea->file != NULL && eb->file != NULL)
		return entry_order->compare(ea->file, eb->file);
	return migration_name_cmp(ea->filename, eb->filename);
}

/*
 * Every file of the directory and every history row, in version order,
 * with its state.  Every file is read once (or taken as it was proved,
 * while it stays as it was: filecache.c): its checksum is compared with
 * the recorded one, and its markers settle the directory's layout (a
 * mixed or malformed directory is refused here, before anything runs).
 */
List *
plan_entries(MigrationDir *dir, const History *history)
{
	List	   *entries = NIL;
	bool	   *seen = palloc0(sizeof(bool) * Max(history->nrows, 1));
	int			dirfd = migration_dir_open(dir);
	ListCell   *lc;

	migration_dir_trust(dir, dirfd, history->fingerprints,
						history->nfingerprints);
	for (int i = 0; i < dir->nfiles; i++)
		migration_inspect(dir, dirfd, &dir->files[i]);
	migration_dir_settle(dir, dirfd);
	migration_dir_close(dirfd);

	for (int i = 0; i < dir->nfiles; i++)
	{
		MigrationFile *file = &dir->files[i];
		HistoryRow *row = history_find(history, file->name);
		MigrationEntry *e = new_entry(&entries, file->name, MS_PENDING);

		/* the file's own: an entry lives no longer than the call's files */
		e->file = file;
		e->checksum = file->checksum;
		e->sections = &file->sections;
		if (e->sections->down.start >= 0 && file->down_path == NULL)
			file->down_path = file->path;	/* a down section */
		if (row != NULL)
		{
			e->state = row->baseline ? MS_BASELINE : MS_APPLIED;
			e->applied = row;
			seen[row - history->rows] = true;
			if (strcmp(e->checksum, row->checksum) != 0)
				e->state = file->role == ROLE_REPEATABLE ? MS_OUTDATED :
					MS_CHANGED;
		}
		else
		{
			e->failure = history_find_failure(history, file->name);
			if (e->failure != NULL)
				e->state = MS_FAILED;
			else if (file->role == ROLE_EXTERNAL)
				e->state = MS_EXTERNAL;
		}
	}

	for (int i = 0; i < history->nrows; i++)
	{
		if (!seen[i])
			new_entry(&entries, history->rows[i].filename,
					  MS_MISSING)->applied = &history->rows[i];
	}
	foreach(lc, dir->orphans)
		new_entry(&entries, ((const MigrationOrphan *) lfirst(lc))->name,
				  MS_ORPHAN);

	/* the files are in order: only missing and orphan rows need placing */
	entry_order = layout_methods(dir->layout);
	if (list_length(entries) > dir->nfiles)
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
plan_pending(const MigrationDir *dir, List *entries, const char *target,
			 int steps, bool warn_order)
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

			if (e->file != NULL && migration_file_matches(dir, e->file, target))
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

		if (e->applied != NULL &&
			(e->file == NULL || e->file->role != ROLE_REPEATABLE))
			last_applied = e;
		if (target_index >= 0 && foreach_current_index(lc) > target_index)
			continue;
		if (is_runnable_state(e->state) &&
			(steps < 0 || list_length(pending) < steps))
			pending = lappend(pending, e);
	}

	if (warn_order && last_applied != NULL)
	{
		foreach(lc, pending)
		{
			MigrationEntry *e = (MigrationEntry *) lfirst(lc);

			if (e->file->role != ROLE_REPEATABLE &&
				cmp_entries_of(e, last_applied) < 0)
				ereport(WARNING,
						(errmsg("applying migration \"%s\" out of order",
								e->filename),
						 errdetail("It sorts before \"%s\", which is already applied.",
								   last_applied->filename)));
		}
	}
	return pending;
}

/* Tells whether a run takes an entry in this state: it has not run as it is. */
static bool
is_runnable_state(MigrationState state)
{
	return state == MS_PENDING || state == MS_FAILED ||
		state == MS_OUTDATED || state == MS_EXTERNAL;
}

/* Compares two entries as cmp_entries does. */
static int
cmp_entries_of(const MigrationEntry *a, const MigrationEntry *b)
{
	ListCell	ca,
				cb;

	ca.ptr_value = (void *) a;
	cb.ptr_value = (void *) b;
	return cmp_entries(&ca, &cb);
}
