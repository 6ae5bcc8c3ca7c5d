/*-------------------------------------------------------------------------
 *
 * source.c
 *	  The migration directory: list its migrations as their layout names,
 *	  pairs and orders them, read each file once for its checksum and its
 *	  markers, and read a migration's text for running.  Which entries are
 *	  migrations, their versions, order, side files and sections are the
 *	  layouts' (layout.h): nothing here names a runner.  Every file is
 *	  read through files.c; nothing here touches the database.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <sys/stat.h>
#include <time.h>

#include "common/cryptohash.h"
#include "lib/stringinfo.h"
#include "port/pg_bitutils.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "filecache.h"
#include "files.h"
#include "migration.h"
#include "morgenmigrate.h"
#include "script.h"
#include "source.h"

/* The layout whose order cmp_files_by_layout uses (qsort has no arg). */
static const LayoutMethods *sort_methods;

/* One directory entry that is part of a migration, while listing. */
typedef struct ListedEntry
{
	char	   *name;			/* as the file system names it */
	char	   *shown;			/* in the database encoding */
	bool		is_dir;
	LayoutEntry entry;
} ListedEntry;

static LayoutFamily settle_family(const MigrationDir *mdir,
								  const char **example);
static MigrationLayout layout_of_listed(LayoutFamily family, List *listed);
static void refuse_mixed_names(MigrationDir *mdir, MigrationLayout layout);
static MigrationIgnored *add_ignored(MigrationDir *mdir, const char *shown,
									 const char *why);
static void settle_incomplete(MigrationDir *mdir, List *incomplete);
static List *drop_other_subdirs(List *listed, LayoutFamily forced,
								const char **example, char **subdir);
static int	cmp_listed_by_name(const ListCell *a, const ListCell *b);
static void flat_candidates(MigrationDir *mdir, List *listed);
static void flat_finish(MigrationDir *mdir, MigrationLayout layout);
static bool flat_read_entry(MigrationDir *mdir, const LayoutMethods *m,
							const DirEntry *de, LayoutEntry *entry);
static bool subdir_read_as_file(const LayoutMethods *m, const DirEntry *de);
static bool link_read_as_file(const LayoutMethods *m, const DirEntry *de);
static bool own_name_reads(const LayoutMethods *m, const char *name);
static void refuse_subdir_as_file(const MigrationDir *mdir,
								  const LayoutMethods *m,
								  const DirEntry *de);
static void refuse_orphans(const MigrationDir *mdir, const LayoutMethods *m);
static void flat_settle(MigrationDir *mdir, MigrationLayout layout);
static void refuse_hidden(const MigrationDir *mdir, const LayoutMethods *m);
static ListedEntry *listed_entry(const DirEntry *de, const LayoutEntry *entry,
								 MigrationLayout layout);
static void collect_files(MigrationDir *mdir, List *listed,
						  const LayoutMethods *m);
static bool pair_down_file(MigrationDir *mdir, const ListedEntry *le);
static void pair_config_file(MigrationDir *mdir, const ListedEntry *le,
							 const LayoutMethods *m);
static bool config_names(const LayoutMethods *m, const char *path,
						 const char *key);
static MigrationFile *find_by_key(MigrationDir *mdir, const char *key);
static int	cmp_files_by_key(const void *a, const void *b);
static int	cmp_files_by_path(const void *a, const void *b);
static void sort_files_by(MigrationDir *mdir,
						  int (*cmp) (const void *, const void *),
						  const char *(*first_of) (const MigrationFile *));
static const char *path_of(const MigrationFile *f);
static const char *key_of(const MigrationFile *f);
static void check_versions(const MigrationDir *mdir, const LayoutMethods *m);
static void add_external_orphans(MigrationDir *mdir, List *external_downs);
static void check_external_downs(const MigrationDir *mdir,
								 const LayoutMethods *m, List *listed,
								 List *external_downs);
static int	cmp_listed_by_key(const ListCell *a, const ListCell *b);
static int	cmp_versions(const void *a, const void *b);
static int	cmp_descriptions(const void *a, const void *b);
static void sort_files(MigrationDir *mdir, const LayoutMethods *m);
static int	cmp_files_by_layout(const void *a, const void *b);
static MigrationLayout settle_markers(MigrationDir *dir);
static void refuse_two_layouts(const MigrationDir *dir, const char *a,
							   MigrationLayout a_layout, const char *b,
							   MigrationLayout b_layout);
static bool checksum_lines(const MigrationDir *dir);
static void compute_checksum(const char *name, const FileText *ft,
							 bool lines, char *checksum);
static bool from_fingerprint(MigrationDir *dir, int dirfd,
							 MigrationFile *file, bool lines, off_t max_size);

/*
 * Checks that dir names a directory the caller may read migrations from
 * and returns its canonical path.
 */
char *
migration_dir_check(const char *dir)
{
	return files_check_directory(dir);
}

/*
 * Lists the migrations of a directory as their layout defines them: which
 * entries are migrations (files, or subdirectories), their versions,
 * their down files and config files, in version order.  Names alone decide
 * the layout's family; a directory whose names belong to several families
 * is refused, and so is an entry that looks like a migration but is none.
 * Nothing but a stat() touches a file here, but for small config files.
 *
 * A directory of the flat family whose names do not tell its layout is
 * left unsettled: its files' markers tell it (migration_dir_settle).
 *
 * A session keeps the listing (filecache.c) while the directory's own
 * times stay as they were, unless what it holds could change without
 * changing them: a link, a subdirectory (a file added inside it leaves its
 * parent as it was), a config file (edited in place).
 */
MigrationDir *
migration_dir_list(const char *path)
{
	MigrationDir *mdir;
	FilesDir   *d;
	const char *name;
	List	   *listed = NIL;
	List	   *entries = NIL;
	const char *family_example[LAYOUT_COUNT] = {0};
	const char *skipped_example[LAYOUT_COUNT] = {0};
	char	   *subdir = NULL;
	List	   *incomplete = NIL;
	LayoutFamily forced = layout_family(mm_layout);
	const LayoutMethods *m;
	struct stat st;
	struct timespec read_at;
	bool		keep;
	int			again;
	FileKind	kind;
	bool		plain;
	bool		pushed;
	bool		trusted;
	dev_t		device = 0;

	clock_gettime(CLOCK_REALTIME, &read_at);
	/*
	 * pushed files are another set at each call: nothing of them is kept,
	 * and no earlier session proved anything of them
	 */
	pushed = files_pushed(path);
	again = pushed ? 0 : filecache_dir_seen(path);
	/* on a file system whose times may lag a write, nothing is kept */
	trusted = again > 0 && files_times_trusted(path, &device);
	keep = trusted && stat(path, &st) == 0;
	if (keep && (mdir = filecache_dir_lookup(path, &st)) != NULL)
	{
		mdir->fingerprints_wanted = again < 2;
		mdir->device = device;
		mdir->nread = 0;
		return mdir;
	}

	mdir = palloc0(sizeof(MigrationDir));
	mdir->path = pstrdup(path);
	mdir->keep_files = trusted;
	mdir->device = device;
	mdir->fingerprints_wanted = !pushed && again < 2;

	d = files_dir_open(path);
	while ((name = files_dir_next(d, &kind, &plain)) != NULL)
	{
		ListedEntry *le;
		LayoutEntry entry;
		DirEntry   *de;

		if (!plain || kind == FILE_DIRECTORY)
			keep = false;
		if (kind == FILE_GONE)
			continue;
		if (name[0] == '.')
		{
			MigrationIgnored *ig = add_ignored(mdir, files_name_to_server(name),
											   "hidden: its name starts with a dot");

			/* a runner that reads hidden names may take it for a file */
			ig->is_dir = kind == FILE_DIRECTORY;
			ig->is_link = ig->is_dir && !plain && files_is_link(path, name);
			continue;
		}
		layout_read_name(name, kind == FILE_DIRECTORY, &entry);
		if (kind == FILE_OTHER)
		{
			/* never opened (a FIFO must not hang the backend) */
			if (entry.role != ROLE_IGNORED)
				ereport(WARNING,
						(errmsg("ignoring \"%s\" in migration directory \"%s\": not a regular file",
								files_name_to_server(name), mdir->path)));
			add_ignored(mdir, files_name_to_server(name), "not a regular file");
			continue;
		}

		de = palloc(sizeof(DirEntry));
		de->name = pstrdup(name);
		de->shown = files_name_to_server(name);
		de->is_dir = kind == FILE_DIRECTORY;
		de->is_link = de->is_dir && !plain && files_is_link(path, name);
		entries = lappend(entries, de);
		if (entry.role == ROLE_IGNORED)
		{
			if (kind == FILE_DIRECTORY && subdir == NULL)
				subdir = de->shown;
			/* named as a family names them, but its runner skips it */
			if (entry.family != FAMILY_NONE &&
				skipped_example[entry.family] == NULL)
				skipped_example[entry.family] = de->shown;
			continue;
		}

		le = palloc0(sizeof(ListedEntry));
		le->name = de->name;
		le->shown = de->shown;
		le->is_dir = de->is_dir;
		le->entry = entry;
		le->entry.no_transaction = -1;
		if (kind == FILE_DIRECTORY)
		{
			m = layout_methods(entry.layout);
			Assert(m->read_subdir != NULL);
			m->read_subdir(path, le->name, &le->entry);
			if (le->entry.incomplete)
			{
				/* no migration: the directory's family says what it is */
				if (subdir == NULL)
					subdir = de->shown;
				incomplete = lappend(incomplete, le);
				continue;
			}
		}
		if (family_example[entry.family] == NULL)
			family_example[entry.family] = le->shown;
		listed = lappend(listed, le);
	}
	files_dir_close(d);

	if (forced != FAMILY_NONE && family_example[forced] != NULL)
		listed = drop_other_subdirs(listed, forced, family_example, &subdir);
	/* a name its runner skips tells the family too */
	for (int f = 0; f < LAYOUT_COUNT; f++)
		if (family_example[f] == NULL)
			family_example[f] = skipped_example[f];
	mdir->family = settle_family(mdir, family_example);
	m = layout_of_names(mdir->family);
	settle_incomplete(mdir, incomplete);
	if (subdir != NULL && m->subdir_refusal != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s migration directory \"%s\" has a subdirectory \"%s\"",
						m->runner, mdir->path, subdir),
				 errdetail("%s", m->subdir_refusal),
				 errhint("Move the migrations of the subdirectory up into the directory, or the subdirectory out of it.")));
	mdir->names_layout = layout_of_listed(mdir->family, listed);
	mdir->layout = LAYOUT_AUTO;

	if (mdir->family == FAMILY_FLAT)
	{
		ListCell   *lc;
		int			i = 0;

		mdir->nentries = list_length(entries);
		mdir->entries = palloc(sizeof(DirEntry) * Max(mdir->nentries, 1));
		foreach(lc, entries)
			mdir->entries[i++] = *(DirEntry *) lfirst(lc);
		if (mm_layout == LAYOUT_AUTO && mdir->names_layout != LAYOUT_AUTO)
			refuse_mixed_names(mdir, mdir->names_layout);
		if (mdir->names_layout != LAYOUT_AUTO)
			flat_finish(mdir, mdir->names_layout);
		else
			flat_candidates(mdir, listed);
	}
	else
	{
		ListCell   *lc;
		const DirEntry *as_file = NULL;
		List	   *external_downs = NIL;

		foreach(lc, entries)
		{
			DirEntry   *de = (DirEntry *) lfirst(lc);
			LayoutEntry entry;

			/* the first by name, whatever order the directory has */
			if (de->is_dir && subdir_read_as_file(m, de) &&
				(as_file == NULL || strcmp(de->shown, as_file->shown) < 0))
				as_file = de;
			layout_read_name(de->name, de->is_dir, &entry);
			if (entry.role == ROLE_IGNORED && !de->is_dir && m->own_name != NULL)
			{
				/* what the directory's runner alone makes of the name */
				memset(&entry, 0, sizeof(entry));
				m->own_name(de->name, &entry);
				if (entry.role != ROLE_IGNORED)
				{
					listed = lappend(listed, listed_entry(de, &entry, m->layout));
					continue;
				}
			}
			if (entry.role == ROLE_IGNORED && entry.external_down &&
				entry.family == mdir->family)
				external_downs = lappend(external_downs,
										 listed_entry(de, &entry, m->layout));
			if (entry.role == ROLE_IGNORED || entry.family != mdir->family)
				add_ignored(mdir, de->shown, entry.why ? entry.why :
							psprintf("not named as %s", m->names_as));
		}
		if (as_file != NULL)
			refuse_subdir_as_file(mdir, m, as_file);
		collect_files(mdir, listed, m);
		add_external_orphans(mdir, external_downs);
		refuse_orphans(mdir, m);
		check_versions(mdir, m);
		check_external_downs(mdir, m, listed, external_downs);
		sort_files(mdir, m);
		mdir->layout = mdir->names_layout;
		mdir->scan_layout = mdir->names_layout;
		mdir->settled = true;
	}

	for (int i = 0; i < mdir->nfiles; i++)
		if (mdir->files[i].config.path != NULL ||
			mdir->files[i].down_config.path != NULL)
			keep = false;
	if (keep)
		filecache_dir_store(path, &st, &read_at, mdir);
	return mdir;
}

/*
 * Refuses a flat directory whose names follow two conventions: migrations
 * named as the layout its names tell names them, beside files that the
 * flat family reads as migrations but that layout's runner skips (seed.sql
 * beside a runner's 1_x.up.sql, which that runner skips).  Which runner
 * the directory is for decides whether those files run; only the setting
 * can say.
 */
static void
refuse_mixed_names(MigrationDir *mdir, MigrationLayout layout)
{
	const LayoutMethods *m = layout_methods(layout);
	const LayoutMethods *family = layout_of_names(FAMILY_FLAT);
	const char *own = NULL;
	const char *other = NULL;
	const char *why = NULL;

	if (m->own_name == NULL)
		return;
	for (int i = 0; i < mdir->nentries; i++)
	{
		const DirEntry *de = &mdir->entries[i];
		LayoutEntry entry;
		bool		as_family;

		if (de->is_dir)
			continue;
		memset(&entry, 0, sizeof(entry));
		as_family = family->read_name(de->name, false, &entry) &&
			entry.role == ROLE_UP;
		memset(&entry, 0, sizeof(entry));
		m->own_name(de->name, &entry);
		/* the first of each by name, whatever order the directory has */
		if (entry.role == ROLE_UP && (own == NULL || strcmp(de->shown, own) < 0))
			own = de->shown;
		else if (entry.role == ROLE_IGNORED && as_family &&
				 (other == NULL || strcmp(de->shown, other) < 0))
		{
			other = de->shown;
			why = entry.why;
		}
	}
	if (own != NULL && other != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("migration directory \"%s\" mixes layouts", mdir->path),
				 errdetail("\"%s\" is named as %s names migrations, \"%s\" as a migration of its own, which %s skips: %s.",
						   own, m->runner, other, m->runner, why),
				 errhint("Set morgenmigrate.layout to '%s' to read the directory as %s does, or to 'plain' to run every .sql file.",
						 m->name, m->runner)));
}

/*
 * Settles the subdirectories named as migrations that lack their up file:
 * in a directory of their layout, their runner refuses the directory (the
 * first by name is named) or skips them; in another they are no migration
 * (a flat layout ignores them, a layout with a subdir_refusal refuses
 * them, both below).
 */
static void
settle_incomplete(MigrationDir *mdir, List *incomplete)
{
	ListCell   *lc;

	list_sort(incomplete, cmp_listed_by_name);
	foreach(lc, incomplete)
	{
		ListedEntry *le = (ListedEntry *) lfirst(lc);

		if (le->entry.family == mdir->family)
			add_ignored(mdir, le->shown,
						layout_methods(le->entry.layout)->refuse_incomplete(mdir->path,
																			le->name));
	}
}

/*
 * With morgenmigrate.layout set, subdirectories that are migrations of
 * another family (one whose migrations are subdirectories) beside
 * migrations of the layout set are none of that layout's: they leave the
 * listing, and the family's examples are those of what stays.  A flat
 * layout then ignores them, a layout with a subdir_refusal refuses them.
 */
static List *
drop_other_subdirs(List *listed, LayoutFamily forced, const char **example,
				   char **subdir)
{
	List	   *kept = NIL;
	ListCell   *lc;

	for (int f = 0; f < LAYOUT_COUNT; f++)
		example[f] = NULL;
	foreach(lc, listed)
	{
		ListedEntry *le = (ListedEntry *) lfirst(lc);

		if (le->is_dir && le->entry.family != forced)
		{
			if (*subdir == NULL)
				*subdir = le->shown;
			continue;
		}
		if (example[le->entry.family] == NULL)
			example[le->entry.family] = le->shown;
		kept = lappend(kept, le);
	}
	return kept;
}

/* list_sort comparator: ListedEntry by name. */
static int
cmp_listed_by_name(const ListCell *a, const ListCell *b)
{
	return strcmp(((const ListedEntry *) lfirst(a))->shown,
				  ((const ListedEntry *) lfirst(b))->shown);
}

/* Notes a directory entry that is no migration, and why; returns the note. */
static MigrationIgnored *
add_ignored(MigrationDir *mdir, const char *shown, const char *why)
{
	MigrationIgnored *ig = palloc0(sizeof(MigrationIgnored));

	ig->name = (char *) shown;
	ig->why = why;
	mdir->ignored = lappend(mdir->ignored, ig);
	return ig;
}

/*
 * The family of a directory's names; a directory whose names belong to
 * several families, or to another family than morgenmigrate.layout says,
 * is refused.
 */
static LayoutFamily
settle_family(const MigrationDir *mdir, const char **example)
{
	LayoutFamily found = FAMILY_NONE;
	LayoutFamily forced = layout_family(mm_layout);

	/* the flat family first, then the others in the order of the layouts */
	for (int i = 0; i < LAYOUT_COUNT; i++)
	{
		LayoutFamily f = i == 0 ? FAMILY_FLAT : (LayoutFamily) i;

		if (example[f] == NULL || (i > 0 && f == FAMILY_FLAT))
			continue;
		if (found != FAMILY_NONE)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("migration directory \"%s\" mixes layouts", mdir->path),
					 errdetail("\"%s\" is named as %s, \"%s\" as %s.",
							   example[found], layout_family_names(found),
							   example[f], layout_family_names(f)),
					 errhint("Keep the migrations of one runner in a directory.")));
		found = f;
	}
	if (forced != FAMILY_NONE && found != FAMILY_NONE && found != forced)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("migration directory \"%s\" is not laid out for %s",
						mdir->path, layout_name(mm_layout)),
				 errdetail("\"%s\" is named as %s.", example[found],
						   layout_family_names(found)),
				 errhint("Set morgenmigrate.layout to 'auto' to let the directory say its layout.")));
	return found == FAMILY_NONE ? FAMILY_FLAT : found;
}

/*
 * The layout the names alone tell: the forced one, the family's, or one
 * that an entry's name alone says (an up file named as only one runner
 * names them, a migration only its runner can run); LAYOUT_AUTO when only
 * the files' markers can tell.
 */
static MigrationLayout
layout_of_listed(LayoutFamily family, List *listed)
{
	MigrationLayout layout = LAYOUT_AUTO;
	ListCell   *lc;

	if (mm_layout != LAYOUT_AUTO)
		return mm_layout;
	foreach(lc, listed)
	{
		ListedEntry *le = (ListedEntry *) lfirst(lc);

		if (le->entry.layout != LAYOUT_AUTO &&
			(layout == LAYOUT_AUTO || layout_methods(layout)->names_yield))
			layout = le->entry.layout;
	}
	if (layout == LAYOUT_AUTO)
		layout = layout_of_family(family);
	return layout;
}

/*
 * The files of an unsettled flat directory: every file one of the
 * family's layouts could read as a migration (a NAME.down.sql file is one
 * to the runners whose markers are inside the files), to be inspected for
 * the markers that settle the layout, in name order (an error names the
 * same files whatever order the directory listed them in).  A layout that
 * reads names as the family does keeps them, when there is no down file
 * among them; any other reads the entries again (flat_finish).
 */
static void
flat_candidates(MigrationDir *mdir, List *listed)
{
	ListCell   *lc;
	int			n = 0;

	mdir->files = palloc0(sizeof(MigrationFile) * Max(list_length(listed), 1));
	foreach(lc, listed)
	{
		ListedEntry *le = (ListedEntry *) lfirst(lc);
		MigrationFile *f;

		if (le->entry.role != ROLE_UP && le->entry.role != ROLE_DOWN)
			continue;
		if (le->entry.role == ROLE_DOWN)
			mdir->candidate_downs = true;
		f = &mdir->files[n++];
		f->name = le->shown;
		f->path = le->name;
		f->role = ROLE_UP;
		f->version = le->entry.version;
		f->key = le->entry.key;
		layout_init_config(&f->config);
		layout_init_config(&f->down_config);
	}
	mdir->nfiles = n;
	sort_files_by(mdir, cmp_files_by_path, path_of);
	mdir->scan_layout = LAYOUT_AUTO;
	mdir->settled = false;
	mdir->ignored_pending = true;
}

/*
 * The entries of a directory that are no migration, each with why (its
 * layout settled): for migrate_layout, the only caller that needs them,
 * known only when asked for a flat directory whose layout reads names as
 * the family does.
 */
List *
migration_dir_ignored(MigrationDir *mdir)
{
	const LayoutMethods *m = layout_methods(mdir->layout);

	if (!mdir->ignored_pending)
		return mdir->ignored;
	for (int i = 0; i < mdir->nentries; i++)
	{
		LayoutEntry entry;

		(void) flat_read_entry(mdir, m, &mdir->entries[i], &entry);
	}
	mdir->ignored_pending = false;
	return mdir->ignored;
}

/*
 * Reads one entry of a flat directory by the rules of its layout m: false,
 * the entry noted as ignored with the reason, when it is no migration.
 */
static bool
flat_read_entry(MigrationDir *mdir, const LayoutMethods *m,
				const DirEntry *de, LayoutEntry *entry)
{
	memset(entry, 0, sizeof(LayoutEntry));
	if (de->is_dir)
	{
		if (subdir_read_as_file(m, de))
			refuse_subdir_as_file(mdir, m, de);
		if (de->is_link && link_read_as_file(m, de))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" in migration directory \"%s\" is a link to a directory, which %s reads as a migration file",
							de->shown, mdir->path, m->runner),
					 errdetail("%s", m->link_as_file),
					 errhint("Remove the link, or move it out of the migration directory.")));
		add_ignored(mdir, de->shown,
					psprintf("a subdirectory: %s reads the files of the directory itself",
							 m->runner));
		return false;
	}
	if (m->own_name != NULL)
		m->own_name(de->name, entry);
	else if (!layout_of_names(FAMILY_FLAT)->read_name(de->name, false, entry))
	{
		memset(entry, 0, sizeof(LayoutEntry));
		entry->role = ROLE_IGNORED;
	}
	if (entry->role == ROLE_IGNORED)
	{
		add_ignored(mdir, de->shown, entry->why ? entry->why :
					psprintf("not named as %s names migrations", m->runner));
		return false;
	}
	return true;
}

/*
 * Tells whether the layout's runner lists a link to a directory of this
 * name as a file and fails on it (link_as_file): one that own_name does not
 * skip.
 */
static bool
link_read_as_file(const LayoutMethods *m, const DirEntry *de)
{
	return m->link_as_file != NULL && own_name_reads(m, de->name);
}

/*
 * Tells whether the layout's runner lists a subdirectory of this name with
 * its migration files and fails on it (subdir_as_file): one it reads as a
 * file by its name alone (lists_as_file), or else one named as own_name
 * names its migrations.
 */
static bool
subdir_read_as_file(const LayoutMethods *m, const DirEntry *de)
{
	if (m->subdir_as_file == NULL)
		return false;
	if (m->lists_as_file != NULL)
		return m->lists_as_file(de->name);
	return own_name_reads(m, de->name);
}

/*
 * Tells whether the layout's own_name reads a name as its runner's: a
 * migration, or one the runner refuses.
 */
static bool
own_name_reads(const LayoutMethods *m, const char *name)
{
	LayoutEntry entry;

	memset(&entry, 0, sizeof(entry));
	m->own_name(name, &entry);
	return entry.role != ROLE_IGNORED;
}

/*
 * Refuses a subdirectory, or a symbolic link to one, that
 * subdir_read_as_file says its runner fails on.
 */
static void
refuse_subdir_as_file(const MigrationDir *mdir, const LayoutMethods *m,
					  const DirEntry *de)
{
	if (de->is_link)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" in migration directory \"%s\" is a link to a directory, named as a migration file",
						de->shown, mdir->path),
				 errdetail("%s  It reads a link to a directory so too.",
						   m->subdir_as_file),
				 errhint("Remove the link, or move it out of the migration directory.")));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("\"%s\" in migration directory \"%s\" is a directory named as a migration file",
					de->shown, mdir->path),
			 errdetail("%s", m->subdir_as_file),
			 errhint("Rename the directory, or move it out of the migration directory.")));
}

/*
 * Reads a flat directory's entries by the rules of its layout: which
 * files its runner reads as migrations (the rest is ignored, each with
 * the reason), their versions, down files and order.  What inspecting the
 * files found while the layout was unsettled stays with them.
 */
static void
flat_finish(MigrationDir *mdir, MigrationLayout layout)
{
	const LayoutMethods *m = layout_methods(layout);
	MigrationFile *inspected = mdir->files;
	int			ninspected = mdir->nfiles;
	List	   *listed = NIL;

	for (int i = 0; i < mdir->nentries; i++)
	{
		const DirEntry *de = &mdir->entries[i];
		LayoutEntry entry;

		if (flat_read_entry(mdir, m, de, &entry))
			listed = lappend(listed, listed_entry(de, &entry, layout));
	}
	mdir->orphans = NIL;
	if (m->reads_hidden)
		refuse_hidden(mdir, m);
	collect_files(mdir, listed, m);
	mdir->ignored_pending = false;

	/* what inspecting them found while the layout was unsettled */
	if (ninspected > 0)
	{
		MigrationFile **by_path = palloc(sizeof(MigrationFile *) * ninspected);

		for (int i = 0; i < ninspected; i++)
			by_path[i] = &inspected[i];
		qsort(by_path, ninspected, sizeof(MigrationFile *), cmp_files_by_path);
		for (int i = 0; i < mdir->nfiles; i++)
		{
			MigrationFile *f = &mdir->files[i];
			MigrationFile **was = bsearch(&f, by_path, ninspected,
										  sizeof(MigrationFile *), cmp_files_by_path);

			if (was != NULL && (*was)->inspected)
			{
				f->inspected = true;
				f->file_stat = (*was)->file_stat;
				memcpy(f->checksum, (*was)->checksum, sizeof(f->checksum));
				f->sections = (*was)->sections;
			}
		}
		pfree(by_path);
	}
	flat_settle(mdir, layout);
}

/*
 * What a flat directory's layout refuses of its migrations as read (a
 * down file alone, two of one version), and the layout's order.
 */
static void
flat_settle(MigrationDir *mdir, MigrationLayout layout)
{
	const LayoutMethods *m = layout_methods(layout);

	refuse_orphans(mdir, m);
	check_versions(mdir, m);
	sort_files(mdir, m);
	mdir->layout = layout;
	mdir->scan_layout = layout;
	mdir->settled = true;
}

/*
 * Refuses a down file without its up file where the layout's runner would
 * run it (orphan_hint); elsewhere it is an orphan, shown and warned of.
 */
static void
refuse_orphans(const MigrationDir *mdir, const LayoutMethods *m)
{
	if (m->orphan_hint != NULL && mdir->orphans != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("down migration \"%s\" has no up migration",
						((MigrationOrphan *) linitial(mdir->orphans))->name),
				 errdetail("%s runs a down file without its up file when it rolls back past its version.",
						   m->runner),
				 errhint("%s", m->orphan_hint)));
}

/*
 * Refuses a hidden file that the layout's runner reads as a migration
 * (reads_hidden), which morgenmigrate, reading no hidden file, would skip,
 * or for whose name the runner refuses the directory.
 */
static void
refuse_hidden(const MigrationDir *mdir, const LayoutMethods *m)
{
	ListCell   *lc;

	foreach(lc, mdir->ignored)
	{
		const MigrationIgnored *ig = (const MigrationIgnored *) lfirst(lc);
		LayoutEntry entry;

		if (ig->name[0] != '.')
			continue;
		memset(&entry, 0, sizeof(entry));
		m->own_name(ig->name, &entry);
		if (entry.role == ROLE_UNKNOWN)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" in migration directory \"%s\" is not a migration %s can read",
							ig->name, mdir->path, m->runner),
					 errdetail("%s reads hidden files too.  %s", m->runner,
							   entry.what),
					 errhint("Rename it as its runner expects, or move it out of the migration directory.")));
		if (entry.role != ROLE_IGNORED && ig->is_dir && m->subdir_as_file != NULL)
		{
			/* the runner lists it by its name, and fails on it */
			DirEntry	de;

			memset(&de, 0, sizeof(de));
			de.shown = ig->name;
			de.is_dir = true;
			de.is_link = ig->is_link;
			refuse_subdir_as_file(mdir, m, &de);
		}
		if (entry.role != ROLE_IGNORED)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" in migration directory \"%s\" is a hidden migration",
							ig->name, mdir->path),
					 errdetail("%s reads hidden files too, and would run it; morgenmigrate reads no hidden file.",
							   m->runner),
					 errhint("Rename it without the leading dot, or move it out of the migration directory.")));
	}
}

/* A directory entry that is part of a migration of a layout, as read. */
static ListedEntry *
listed_entry(const DirEntry *de, const LayoutEntry *entry,
			 MigrationLayout layout)
{
	ListedEntry *le = palloc0(sizeof(ListedEntry));

	le->name = de->name;
	le->shown = de->shown;
	le->entry = *entry;
	le->entry.layout = layout;
	le->entry.no_transaction = -1;
	return le;
}

/*
 * Turns the listed entries into the directory's migrations: up files,
 * repeatables and external ones become MigrationFiles; down files and
 * config files join theirs; entries that look like migrations but are
 * none are refused.
 */
static void
collect_files(MigrationDir *mdir, List *listed, const LayoutMethods *m)
{
	ListCell   *lc;
	int			n = 0;
	bool		to_pair = false;

	mdir->files = palloc0(sizeof(MigrationFile) * Max(list_length(listed), 1));
	foreach(lc, listed)
	{
		ListedEntry *le = (ListedEntry *) lfirst(lc);
		MigrationFile *f;

		if (le->entry.role == ROLE_UNKNOWN)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" in migration directory \"%s\" is not a migration %s can read",
							le->shown, mdir->path, m->runner),
					 errdetail("%s", le->entry.what),
					 errhint("Rename it as its runner expects, or move it out of the migration directory.")));
		if (le->entry.role == ROLE_DOWN || le->entry.role == ROLE_CONFIG)
			to_pair = true;
		if (le->entry.role != ROLE_UP && le->entry.role != ROLE_REPEATABLE &&
			le->entry.role != ROLE_EXTERNAL)
			continue;
		f = &mdir->files[n++];
		f->name = le->shown;
		f->path = le->entry.path != NULL ? le->entry.path : le->name;
		f->down_path = le->entry.down_path;
		f->version = le->entry.version;
		f->description = le->entry.description;
		f->role = le->entry.role;
		f->what = le->entry.what;
		f->why = le->entry.why;
		layout_init_config(&f->config);
		layout_init_config(&f->down_config);
		f->config.no_transaction = le->entry.no_transaction;
		f->config.path = le->entry.config_path;
		f->config_covers_down = f->config.path != NULL && m->config_covers_down;
		f->key = le->entry.key;
	}
	mdir->nfiles = n;

	/* down files find their migration by key, then config files their file */
	if (to_pair)
	{
		sort_files_by(mdir, cmp_files_by_key, key_of);
		foreach(lc, listed)
		{
			ListedEntry *le = (ListedEntry *) lfirst(lc);

			if (le->entry.role == ROLE_DOWN && !pair_down_file(mdir, le))
			{
				MigrationOrphan *o = palloc(sizeof(MigrationOrphan));

				o->name = le->shown;
				o->path = le->name;
				o->key = le->entry.key;
				mdir->orphans = lappend(mdir->orphans, o);
			}
		}
		foreach(lc, listed)
		{
			ListedEntry *le = (ListedEntry *) lfirst(lc);

			if (le->entry.role == ROLE_CONFIG)
				pair_config_file(mdir, le, m);
		}
	}
}

/*
 * Gives a down file to the migrations whose key it names (NAME.down.sql
 * belongs to NAME.sql and to NAME.up.sql; other layouts' down files to
 * the version they name), up migrations or, where the layout says so
 * (undoes_external), migrations only its runner can run; false when it
 * belongs to none: it is an orphan.
 */
static bool
pair_down_file(MigrationDir *mdir, const ListedEntry *le)
{
	const LayoutMethods *m = layout_methods(le->entry.layout);
	bool		paired = false;

	for (MigrationFile *f = find_by_key(mdir, le->entry.key);
		 f != NULL && f < mdir->files + mdir->nfiles &&
		 strcmp(f->key, le->entry.key) == 0; f++)
	{
		if (f->role != ROLE_UP &&
			!(f->role == ROLE_EXTERNAL && m != NULL && m->undoes_external))
			continue;
		if (f->down_path != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_FILE),
					 errmsg("migration \"%s\" has two down files", f->name),
					 errdetail("Both \"%s\" and \"%s\" undo it.",
							   files_name_to_server(f->down_path), le->shown)));
		f->down_path = le->name;
		paired = true;
	}
	return paired;
}

/*
 * Reads a config file into what the file it names says (its key is that
 * file's name: an up file's, or a down file's).  A config file without its
 * file is refused, or ignored where the layout's runner ignores it; two
 * config files of one file are refused.
 */
static void
pair_config_file(MigrationDir *mdir, const ListedEntry *le,
				 const LayoutMethods *m)
{
	MigrationFile *owner = NULL;
	LayoutConfig *config = NULL;
	FileText	ft;

	for (int i = 0; i < mdir->nfiles && config == NULL; i++)
	{
		owner = &mdir->files[i];
		if (config_names(m, owner->path, le->entry.key))
			config = &owner->config;
		else if (owner->down_path != NULL &&
				 config_names(m, owner->down_path, le->entry.key))
			config = &owner->down_config;
	}
	if (config == NULL && m->lone_config_why != NULL)
	{
		add_ignored(mdir, le->shown, m->lone_config_why);
		return;
	}
	if (config == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("config file \"%s\" has no migration \"%s\"",
						le->shown, files_name_to_server(le->entry.key)),
				 errhint("Rename or remove the config file.")));
	if (config->path != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_FILE),
				 errmsg("migration \"%s\" has two config files", owner->name),
				 errdetail("Both \"%s\" and \"%s\" are named after \"%s\", and %s reads one of them.",
						   files_name_to_server(config->path), le->shown,
						   files_name_to_server(config == &owner->config ?
												owner->path : owner->down_path),
						   m->runner),
				 errhint("Keep one config file.")));
	ft = files_read(mdir->path, le->name, "migration file", false);
	m->read_config(le->shown, ft.data, config);
	config->path = le->name;
	if (config == &owner->config)
		owner->config_covers_down = m->config_covers_down;
	pfree(ft.data);
}

/* Tells whether a config file's key names a file, as the layout matches them. */
static bool
config_names(const LayoutMethods *m, const char *path, const char *key)
{
	return m->config_name_ci ? pg_strcasecmp(path, key) == 0 :
		strcmp(path, key) == 0;
}

/* The first migration with a key, in a directory sorted by keys, or NULL. */
static MigrationFile *
find_by_key(MigrationDir *mdir, const char *key)
{
	int			lo = 0,
				hi = mdir->nfiles;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (strcmp(mdir->files[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < mdir->nfiles && strcmp(mdir->files[lo].key, key) == 0 ?
		&mdir->files[lo] : NULL;
}

/* qsort comparator: pointers to MigrationFile by pairing key, then name. */
static int
cmp_files_by_key(const void *a, const void *b)
{
	const MigrationFile *fa = *(const MigrationFile *const *) a;
	const MigrationFile *fb = *(const MigrationFile *const *) b;
	int			c = strcmp(fa->key, fb->key);

	return c != 0 ? c : strcmp(fa->name, fb->name);
}

/* qsort comparator: pointers to MigrationFile by path. */
static int
cmp_files_by_path(const void *a, const void *b)
{
	return strcmp((*(const MigrationFile *const *) a)->path,
				  (*(const MigrationFile *const *) b)->path);
}


/*
 * Refuses two migrations of one version where the runner refuses them
 * (or keys its history by version), and two migrations without a version
 * of one description (repeatable migrations): which one ran would be
 * unknown.
 */
static void
check_versions(const MigrationDir *mdir, const LayoutMethods *m)
{
	MigrationFile **versioned;
	MigrationFile **described;
	int			nv = 0;
	int			nd = 0;

	if (!m->unique_versions || mdir->nfiles < 2)
		return;
	versioned = palloc(sizeof(MigrationFile *) * mdir->nfiles);
	described = palloc(sizeof(MigrationFile *) * mdir->nfiles);
	for (int i = 0; i < mdir->nfiles; i++)
	{
		MigrationFile *f = &mdir->files[i];

		if (f->role != ROLE_REPEATABLE && f->version != NULL &&
			f->version[0] != '\0')
			versioned[nv++] = f;
		else if (f->description != NULL)
			described[nd++] = f;
	}
	sort_methods = m;
	qsort(versioned, nv, sizeof(MigrationFile *), cmp_versions);
	for (int i = 1; i < nv; i++)
	{
		const MigrationFile *a = versioned[i - 1];
		const MigrationFile *b = versioned[i];

		if (m->version_cmp(a->version, b->version) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("migrations \"%s\" and \"%s\" have the same version %s",
							a->name, b->name, a->version),
					 errdetail("%s would not know which of them ran.", m->runner),
					 errhint("Give each migration a version of its own.")));
	}
	qsort(described, nd, sizeof(MigrationFile *), cmp_descriptions);
	for (int i = 1; i < nd; i++)
	{
		const MigrationFile *a = described[i - 1];
		const MigrationFile *b = described[i];

		if (strcmp(a->description, b->description) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("migrations \"%s\" and \"%s\" have the same description \"%s\"",
							a->name, b->name, a->description),
					 errdetail("%s tells migrations without a version apart by their description, and refuses two of one.",
							   m->runner),
					 errhint("Give each migration a description of its own.")));
	}
	pfree(versioned);
	pfree(described);
}

/*
 * Notes as orphans the down migrations only the runner can run
 * (external_downs) that undo no migration of the directory: the runner
 * runs them when it rolls back past their version, as it runs a down file
 * morgenmigrate reads without its up file.
 */
static void
add_external_orphans(MigrationDir *mdir, List *external_downs)
{
	ListCell   *lc;

	foreach(lc, external_downs)
	{
		const ListedEntry *le = (const ListedEntry *) lfirst(lc);
		bool		found = false;

		/*
		 * not find_by_key: the files are in key order only where a down or
		 * config file was paired (collect_files); such downs are few
		 */
		for (int i = 0; i < mdir->nfiles && !found; i++)
			found = mdir->files[i].key != NULL &&
				strcmp(mdir->files[i].key, le->entry.key) == 0;
		if (!found)
		{
			MigrationOrphan *o = palloc(sizeof(MigrationOrphan));

			o->name = le->shown;
			o->path = le->name;
			o->key = le->entry.key;
			mdir->orphans = lappend(mdir->orphans, o);
		}
	}
}

/*
 * Refuses two down migrations of one version where one of them is a down
 * migration only the runner can run (external_downs, ignored here): the
 * runner counts it with the others of its version and refuses the
 * directory for two of one, before it runs anything.  Two down files
 * morgenmigrate reads were refused already (pair_down_file).
 */
static void
check_external_downs(const MigrationDir *mdir, const LayoutMethods *m,
					 List *listed, List *external_downs)
{
	List	   *downs;
	ListCell   *lc;
	const ListedEntry *prev = NULL;

	if (external_downs == NIL)
		return;
	downs = list_copy(external_downs);
	foreach(lc, listed)
	{
		ListedEntry *le = (ListedEntry *) lfirst(lc);

		if (le->entry.role == ROLE_DOWN)
			downs = lappend(downs, le);
	}
	list_sort(downs, cmp_listed_by_key);
	foreach(lc, downs)
	{
		const ListedEntry *le = (const ListedEntry *) lfirst(lc);

		if (prev != NULL && strcmp(prev->entry.key, le->entry.key) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("down migrations \"%s\" and \"%s\" have the same version %s",
							prev->shown, le->shown, le->entry.version),
					 errdetail("%s counts the down migrations only it can run too, and refuses a directory with two of one version before it runs anything.",
							   m->runner),
					 errhint("Keep one down migration for each version.")));
		prev = le;
	}
	list_free(downs);
}

/* list_sort comparator: ListedEntry by key, then by name. */
static int
cmp_listed_by_key(const ListCell *a, const ListCell *b)
{
	const ListedEntry *la = (const ListedEntry *) lfirst(a);
	const ListedEntry *lb = (const ListedEntry *) lfirst(b);
	int			c = strcmp(la->entry.key, lb->entry.key);

	return c != 0 ? c : strcmp(la->shown, lb->shown);
}

/*
 * qsort comparator: pointers to MigrationFile by sort_methods' versions,
 * then by name (an error names the same two files whatever order the
 * directory listed them in).
 */
static int
cmp_versions(const void *a, const void *b)
{
	const MigrationFile *fa = *(MigrationFile *const *) a;
	const MigrationFile *fb = *(MigrationFile *const *) b;
	int			c = sort_methods->version_cmp(fa->version, fb->version);

	return c != 0 ? c : strcmp(fa->name, fb->name);
}

/* qsort comparator: pointers to MigrationFile by description, then name. */
static int
cmp_descriptions(const void *a, const void *b)
{
	const MigrationFile *fa = *(MigrationFile *const *) a;
	const MigrationFile *fb = *(MigrationFile *const *) b;
	int			c = strcmp(fa->description, fb->description);

	return c != 0 ? c : strcmp(fa->name, fb->name);
}

/*
 * A migration to sort, and the first eight bytes of the string its
 * comparator compares first, as a number that orders as strcmp() orders
 * them (big-endian; a string shorter than eight bytes ends in zeros, as
 * its terminator does).  Comparing the numbers first spares most
 * comparisons a visit to two large MigrationFiles and their strings: on a
 * directory of 10,000 files that was most of a new session's sort.
 */
typedef struct SortItem
{
	uint64		prefix;
	MigrationFile *file;
} SortItem;

/* The comparator of pointers to MigrationFile that cmp_sort_items ends with. */
typedef int (*FileComparator) (const void *, const void *);

/* The first eight bytes of s, as a number in strcmp()'s order. */
static uint64
string_prefix(const char *s)
{
	uint64		v = 0;

	for (int i = 0; i < 8; i++)
	{
		v <<= 8;
		if (*s != '\0')
			v |= (unsigned char) *s++;
	}
	return v;
}

/* qsort_arg comparator: SortItems by prefix, then by *arg, a FileComparator. */
static int
cmp_sort_items(const void *a, const void *b, void *arg)
{
	const SortItem *ia = (const SortItem *) a;
	const SortItem *ib = (const SortItem *) b;

	if (ia->prefix != ib->prefix)
		return ia->prefix < ib->prefix ? -1 : 1;
	return (*(FileComparator *) arg) (&ia->file, &ib->file);
}

/*
 * Sorts a directory's migrations with a comparator of pointers to them,
 * whose first comparison is strcmp() of the string first_of gives (NULL:
 * a comparator of another kind).  Small items are sorted, then the
 * migrations moved into their order in place (a MigrationFile is large:
 * sorting the array itself would move each many times, and a sorted copy
 * of 10,000 of them costs a new session its memory's page faults).
 * Migrations already in order stay where they are: a flat directory is
 * sorted by name, then by its layout's order, which is mostly the same.
 */
static void
sort_files_by(MigrationDir *mdir, int (*cmp) (const void *, const void *),
			  const char *(*first_of) (const MigrationFile *))
{
	int			n = mdir->nfiles;
	SortItem   *items;
	int		   *from;
	int			in_order = 1;

	while (in_order < n)
	{
		MigrationFile *a = &mdir->files[in_order - 1];
		MigrationFile *b = &mdir->files[in_order];

		if (cmp(&a, &b) > 0)
			break;
		in_order++;
	}
	if (in_order >= n)
		return;

	items = palloc(sizeof(SortItem) * n);
	for (int i = 0; i < n; i++)
	{
		items[i].file = &mdir->files[i];
		items[i].prefix = first_of != NULL ? string_prefix(first_of(&mdir->files[i])) : 0;
	}
	qsort_arg(items, n, sizeof(SortItem), cmp_sort_items, &cmp);

	/* position i takes the migration now at from[i]: follow each cycle */
	from = palloc(sizeof(int) * n);
	for (int i = 0; i < n; i++)
		from[i] = items[i].file - mdir->files;
	pfree(items);
	for (int i = 0; i < n; i++)
	{
		MigrationFile moving;
		int			j = i;

		if (from[i] == i || from[i] < 0)
			continue;
		moving = mdir->files[i];
		while (from[j] != i)
		{
			int			k = from[j];

			mdir->files[j] = mdir->files[k];
			from[j] = -1;
			j = k;
		}
		mdir->files[j] = moving;
		from[j] = -1;
	}
	pfree(from);
}

/* The path of a migration, which cmp_files_by_path compares. */
static const char *
path_of(const MigrationFile *f)
{
	return f->path;
}

/* The pairing key of a migration, which cmp_files_by_key compares first. */
static const char *
key_of(const MigrationFile *f)
{
	return f->key;
}

/*
 * Puts a directory's migrations in their layout's order, and refuses what
 * its runner would do with them in that order that morgenmigrate cannot.
 */
static void
sort_files(MigrationDir *mdir, const LayoutMethods *m)
{
	sort_methods = m;
	sort_files_by(mdir, cmp_files_by_layout, NULL);
	if (m->check_files != NULL)
		m->check_files(mdir->path, mdir->files, mdir->nfiles);
}

/* qsort comparator: pointers to MigrationFile by sort_methods' order. */
static int
cmp_files_by_layout(const void *a, const void *b)
{
	return sort_methods->compare(*(const MigrationFile *const *) a,
								 *(const MigrationFile *const *) b);
}

/*
 * Tells whether a migration_apply/rollback target names this file: its full
 * name, its name without ".sql" or ".up.sql", or its version (the leading
 * digits, compared as a number, so '3' matches "003_x.sql").
 */
bool
migration_name_matches(const char *name, const char *target)
{
	size_t		tlen = strlen(target);
	const char *t = target;
	const char *n = name;

	if (strcmp(name, target) == 0)
		return true;
	if (strncmp(name, target, tlen) == 0 &&
		(strcmp(name + tlen, ".sql") == 0 || strcmp(name + tlen, ".up.sql") == 0))
		return true;

	/* a version: all digits, equal as a number to the name's leading digits */
	if (tlen == 0 || strspn(target, "0123456789") != tlen)
		return false;
	if (!isdigit((unsigned char) *name))
		return false;
	while (*t == '0' && t[1] != '\0')
		t++;
	while (*n == '0' && isdigit((unsigned char) n[1]))
		n++;
	tlen = strlen(t);
	return strncmp(n, t, tlen) == 0 && !isdigit((unsigned char) n[tlen]);
}

/*
 * Tells whether a target names a migration: its name, its name without
 * ".sql" or ".up.sql", or its version as its runner reads versions ("3"
 * is 003_x.sql; a dotted version or a date with dashes as the layout's
 * target_matches reads them).
 */
bool
migration_file_matches(const MigrationDir *dir, const MigrationFile *file,
					   const char *target)
{
	size_t		tlen = strlen(target);

	if (strcmp(file->name, target) == 0)
		return true;
	if (strncmp(file->name, target, tlen) == 0 &&
		(strcmp(file->name + tlen, ".sql") == 0 ||
		 strcmp(file->name + tlen, ".up.sql") == 0))
		return true;
	return layout_target_matches(dir->layout, file->version, target);
}

/*
 * Lower-case hex SHA-256 of a file's text with each CRLF read as LF (so a
 * checkout with other line ends is not a change), or, with lines, of its
 * lines without their line ends (a line ends at LF, CR or CRLF).
 */
static void
compute_checksum(const char *name, const FileText *ft, bool lines,
				 char *checksum)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	bool		failed = pg_cryptohash_init(ctx) < 0;

	for (const char *p = ft->data, *end = ft->data + ft->len;
		 p < end && !failed;)
	{
		const char *cr = memchr(p, '\r', end - p);
		size_t		n;

		if (lines)
		{
			n = strcspn(p, "\r\n");
			failed = pg_cryptohash_update(ctx, (const uint8 *) p, n) < 0;
			p += n;
			while (p < end && (*p == '\r' || *p == '\n'))
				p++;
			continue;
		}
		/* up to the next CR of a CRLF, which is left out */
		while (cr != NULL && (cr + 1 >= end || cr[1] != '\n'))
			cr = memchr(cr + 1, '\r', end - cr - 1);
		n = (cr != NULL ? cr : end) - p;
		failed = pg_cryptohash_update(ctx, (const uint8 *) p, n) < 0;
		p += n + (cr != NULL ? 1 : 0);
	}
	if (failed || pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute checksum of migration file \"%s\": %s",
						name, pg_cryptohash_error(ctx))));
	pg_cryptohash_free(ctx);

	hex_encode((const char *) digest, sizeof(digest), checksum);
	checksum[MM_CHECKSUM_LEN] = '\0';
}

/*
 * Opens the directory for migration_inspect, which looks its files up
 * relative to it (a stat() of each file then walks one path component,
 * not the whole path); -1 if it cannot, and every file is read again.
 * The descriptor is a transient file: an error closes it.
 */
int
migration_dir_open(const MigrationDir *dir)
{
	return files_dir_fd(dir->path);
}

/* Closes what migration_dir_open opened. */
void
migration_dir_close(int dirfd)
{
	files_dir_fd_close(dirfd);
}

/*
 * Reads a migration file once for what the directory needs to know of it,
 * and keeps it in the file: its checksum and, for SQL files, the markers
 * it carries, as the directory's scan layout reads them.  What the session
 * kept, or an earlier session proved, of a file that is as it was then
 * stands in for reading it (filecache.c).  A file whose
 * markers its runner would refuse, or that holds a statement block its
 * runner cannot run, is refused here, before anything runs.
 */
void
migration_inspect(MigrationDir *dir, int dirfd, MigrationFile *file)
{
	MemoryContext scancxt;
	MemoryContext oldcxt;
	FileText	ft;
	FileSections s;
	off_t		max_size = (off_t) mm_max_file_size * 1024;
	bool		lines = checksum_lines(dir);

	Assert(file->path != NULL && file->role != ROLE_IGNORED);
	/* only where the session may keep files: the cache is not asked else */
	if (!(dir->keep_files &&
		  filecache_lookup(dirfd, dir->device, file->path, file->role,
						   dir->scan_layout, lines, max_size, file->checksum,
						   &file->sections, &file->file_stat)) &&
		!from_fingerprint(dir, dirfd, file, lines, max_size))
	{
		scancxt = AllocSetContextCreate(CurrentMemoryContext,
										"morgenmigrate inspect",
										ALLOCSET_DEFAULT_SIZES);
		oldcxt = MemoryContextSwitchTo(scancxt);
		ft = files_read(dir->path, file->path, "migration file", false);
		dir->nread++;
		file->file_stat = ft.st;
		compute_checksum(file->name, &ft, lines, file->checksum);
		memset(&s, 0, sizeof(FileSections));
		s.layout = LAYOUT_PLAIN;
		s.down.start = -1;
		if (file->role != ROLE_EXTERNAL)
			layout_scan_file(file->name, ft.data, ft.len, ft.bom,
							 dir->scan_layout, &s);
		/* what its runner sends together, once its runner is known */
		if (s.nblocks > 0 && (s.layout != LAYOUT_PLAIN ||
							  dir->scan_layout != LAYOUT_AUTO))
			script_check_blocks(file->name,
								layout_methods(s.layout != LAYOUT_PLAIN ? s.layout :
											   dir->scan_layout)->runner,
								ft.data, ft.len, &s);
		if (migration_keeps(dir, &ft.st))
			filecache_store(&ft.st, &ft.read_at, file->role, dir->scan_layout,
							lines, file->checksum, &s);
		filecache_fingerprint_prove(dir->fingerprints, dirfd, file->name,
									file->path, &ft, file->role,
									dir->scan_layout, lines, file->checksum,
									&s);
		MemoryContextSwitchTo(oldcxt);

		/* keep what was found, not the text (memory stays near one file's) */
		file->sections = layout_copy_sections(&s);
		MemoryContextDelete(scancxt);
	}
	layout_raise_text_problems(file->name, &file->sections, &file->config);
	file->inspected = true;
}

/*
 * Fills in a file's checksum and sections from what an earlier session
 * proved of it, if it is as it was then; the session keeps them too from
 * its second call on the directory.  False otherwise.
 */
static bool
from_fingerprint(MigrationDir *dir, int dirfd, MigrationFile *file,
				 bool lines, off_t max_size)
{
	struct stat st;
	struct timespec now;

	if (!filecache_fingerprint_lookup(dir->fingerprints, dirfd, file->name,
									  file->path, file->role, dir->scan_layout,
									  lines, max_size, file->checksum,
									  &file->sections, &st))
		return false;
	file->file_stat = st;
	if (migration_keeps(dir, &st))
	{
		/* its times lay before its proof, which lies before now */
		clock_gettime(CLOCK_REALTIME, &now);
		filecache_store(&st, &now, file->role, dir->scan_layout, lines,
						file->checksum, &file->sections);
	}
	return true;
}

/*
 * Takes what earlier sessions proved of the directory's files (kept in the
 * database: fps, n of them) as standing in for reading them while they
 * are as they were, and notes what this call proves; for the directory
 * open as dirfd.  Nothing is trusted where the file system's times are
 * not (filecache.c).
 */
void
migration_dir_trust(MigrationDir *dir, int dirfd, const FileFingerprint *fps,
					int n)
{
	dir->fingerprints = filecache_fingerprints(dirfd, fps, n);
}

/*
 * Tells whether the session keeps what it read of a file of the directory
 * that stat() found as st: from its second call on the directory, on a
 * file system whose times it trusts (files_fd_times_trusted), and only of
 * a file on the directory's own device (a link may lead to another file
 * system).
 */
bool
migration_keeps(const MigrationDir *dir, const struct stat *st)
{
	return dir->keep_files && st->st_dev == dir->device;
}

/*
 * Everything this call proved by reading files of the directory, to keep
 * for later sessions: the files of migrations and the files read with
 * them (down files; files read while the layout was settled), a
 * FileFingerprint pointer each.
 */
List *
migration_fingerprints_proved(const MigrationDir *dir)
{
	return filecache_fingerprints_proved(dir->fingerprints);
}

/* Tells whether the checksums of a directory's files ignore line ends. */
static bool
checksum_lines(const MigrationDir *dir)
{
	return layout_of_names(dir->family)->checksum_lines;
}

/*
 * Settles the layout of a flat directory that its names do not tell, by
 * the markers its files carry: one runner's strong markers, or else weak
 * markers (which are then that runner's), or else a name only one runner's
 * users give their migrations, or none (plain).  A directory whose files
 * carry two runners' strong markers is refused.  A file whose markers make
 * a migration of several runners is the runner's the other files are for;
 * without them, it is refused.
 */
static MigrationLayout
settle_markers(MigrationDir *dir)
{
	MigrationLayout strong = LAYOUT_AUTO;
	MigrationLayout weak = LAYOUT_AUTO;
	const char *strong_example = NULL;
	bool		ambiguous = false;

	for (int i = 0; i < dir->nfiles; i++)
	{
		const MigrationFile *f = &dir->files[i];
		MigrationLayout found = f->sections.layout;

		if (found == LAYOUT_PLAIN)
			continue;
		if (f->sections.other_layouts != 0)
		{
			ambiguous = true;	/* settled below, by the others */
			continue;
		}
		if (layout_methods(found)->weak_markers)
		{
			weak = found;
			if (dir->weak_example == NULL)
				dir->weak_example = f->name;
		}
		else if (strong == LAYOUT_AUTO)
		{
			strong = found;
			strong_example = f->name;
		}
		else if (strong != found)
			refuse_two_layouts(dir, strong_example, strong, f->name, found);
	}
	for (int i = 0; ambiguous && i < dir->nfiles; i++)
	{
		const MigrationFile *f = &dir->files[i];
		uint32		layouts = f->sections.other_layouts |
			((uint32) 1 << f->sections.layout);

		if (f->sections.layout == LAYOUT_PLAIN || f->sections.other_layouts == 0)
			continue;
		if (strong == LAYOUT_AUTO)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("migration \"%s\" carries the markers of two runners",
							f->name),
					 errdetail("Its markers make a migration of %s and one of %s, and no other file of the directory says which runner it is written for.",
							   layout_methods(f->sections.layout)->runner,
							   layout_methods(pg_rightmost_one_pos32(f->sections.other_layouts))->runner),
					 errhint("Set morgenmigrate.layout to the runner the directory is written for.")));
		if ((layouts & ((uint32) 1 << strong)) == 0)
			refuse_two_layouts(dir, strong_example, strong, f->name,
							   f->sections.layout);
	}
	dir->marked_example = strong_example;
	if (strong != LAYOUT_AUTO)
		return strong;
	if (weak != LAYOUT_AUTO)
		return weak;
	/* no markers at all: names only one runner's users give, if any */
	for (int i = 0; i < dir->nentries; i++)
	{
		MigrationLayout named = LAYOUT_AUTO;

		if (!dir->entries[i].is_dir)
			named = layout_of_weak_name(dir->entries[i].name);
		if (named != LAYOUT_AUTO)
			return named;
	}
	return LAYOUT_PLAIN;
}

/* Refuses a directory whose files carry the markers of two runners. */
static void
refuse_two_layouts(const MigrationDir *dir, const char *a,
				   MigrationLayout a_layout, const char *b,
				   MigrationLayout b_layout)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("migration directory \"%s\" mixes layouts", dir->path),
			 errdetail("\"%s\" carries %s markers, \"%s\" %s markers.",
					   a, layout_methods(a_layout)->runner,
					   b, layout_methods(b_layout)->runner),
			 errhint("Keep the migrations of one runner in a directory.")));
}

/*
 * Settles the directory's layout once every file is inspected: the
 * markers of an unsettled flat directory tell it, and its entries are
 * read again by that layout's rules.  A runner that requires markers
 * refuses a file without them; a runner's weak markers count from here
 * on, and what it would refuse in them is refused now.
 */
void
migration_dir_settle(MigrationDir *dir, int dirfd)
{
	const LayoutMethods *m;

	if (!dir->settled)
	{
		MigrationLayout layout = settle_markers(dir);

		/* a layout that reads names as the family does keeps the files */
		if (layout_methods(layout)->own_name != NULL || dir->candidate_downs)
			flat_finish(dir, layout);
		else
			flat_settle(dir, layout);
		for (int i = 0; i < dir->nfiles; i++)
		{
			MigrationFile *f = &dir->files[i];

			/* weak markers beside strong ones are comments: read it so */
			if (!f->inspected ||
				(f->sections.layout != LAYOUT_PLAIN &&
				 f->sections.layout != layout))
			{
				f->inspected = false;
				migration_inspect(dir, dirfd, f);
			}
			if (f->sections.layout == layout)
				layout_raise_problem(f->name, layout, &f->sections.up_problem);
			if (f->sections.layout == layout || f->sections.layout == LAYOUT_PLAIN)
				layout_check_bom(f->name, layout, &f->sections);
		}
	}

	m = layout_methods(dir->layout);
	if (m->requires_markers)
	{
		for (int i = 0; i < dir->nfiles; i++)
		{
			const MigrationFile *f = &dir->files[i];

			if (f->role == ROLE_UP && f->sections.layout != dir->layout)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("migration \"%s\" has no %s markers", f->name,
								m->runner),
						 errdetail("The directory holds %s migrations%s%s, and %s refuses a file without its markers.",
								   m->runner,
								   dir->marked_example ? ", such as " : "",
								   dir->marked_example ? dir->marked_example : "",
								   m->runner),
						 errhint("Add the markers to the file, or move it to a directory of its own.")));
		}
	}
}

/* The migration of a directory with that name (history key), or NULL. */
const MigrationFile *
migration_find(const MigrationDir *dir, const char *name)
{
	for (int i = 0; i < dir->nfiles; i++)
		if (strcmp(dir->files[i].name, name) == 0)
			return &dir->files[i];
	return NULL;
}

/*
 * Reads one section of a migration for running: the file's normalized
 * text converted to the database encoding, cut to the section (the rest
 * blanked, so lines stay the file's), and the whole file's checksum.  Not
 * yet split into statements.
 */
MigrationScript *
migration_read(const MigrationDir *dir, const char *name, const char *path,
			   MigrationSection section)
{
	MigrationScript *script = palloc0(sizeof(MigrationScript));
	FileText	ft = files_read(dir->path, path, "migration file", false);
	char	   *text;

	script->name = files_name_to_server(path);
	script->section = section;
	script->file_stat = ft.st;
	script->read_at = ft.read_at;
	compute_checksum(script->name, &ft, checksum_lines(dir), script->checksum);
	text = files_text_to_server(&ft, path);
	if (text != ft.data)
		pfree(ft.data);

	/* the directory's layout decides whose markers count */
	script->len = strlen(text);
	layout_scan_file(script->name, text, script->len, ft.bom, dir->layout,
					 &script->sections);
	/* cut where it lies: the file's text is held once */
	if (!layout_cut_section_in_place(script->name, text, script->len,
									 &script->sections, section))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("migration \"%s\" has no down section", name),
				 errhint("Add a down section to \"%s\", or roll back by hand and remove its history row with morgenmigrate.migrate_forget().",
						 script->name)));
	script->text = text;
	if (script->sections.layout != LAYOUT_PLAIN)
		script->runner = layout_methods(script->sections.layout)->runner;
	else if (script->sections.nblocks > 0)
		script->runner = layout_methods(dir->layout)->runner;	/* its blocks */
	if (section == SECTION_UP ? script->sections.up_no_transaction :
		script->sections.down_no_transaction)
	{
		script->no_transaction = true;
		script->no_transaction_line = script->sections.no_transaction_line;
		script->no_transaction_by = psprintf("the %s marker on line %d",
											 script->runner,
											 script->no_transaction_line);
	}
	return script;
}

/*
 * Applies to a script read for running what the config file of its file
 * says: that it runs outside a transaction, and whether what its runner
 * does to the text, or refuses in it, is settled (if not, it is raised
 * here, naming the file).
 */
void
migration_configure(MigrationScript *script, const LayoutConfig *config)
{
	if (config->no_transaction == 1 && !script->no_transaction)
	{
		script->no_transaction = true;
		script->no_transaction_by = files_name_to_server(config->path);
	}
	layout_raise_text_problems(script->name, &script->sections, config);
}

/*
 * A migration file's text as it is on disk, in UTF-8 (BOM dropped, CRLF
 * turned into LF), not converted: for checksums other runners computed.
 */
FileText
migration_read_text(const MigrationDir *dir, const char *path)
{
	return files_read(dir->path, path, "migration file", false);
}

/*
 * The file holding the down migration of a migration if the directory has
 * it (even when its up file is gone: a flat layout's orphan NAME.down.sql),
 * else NULL.
 */
const char *
migration_down_file(const MigrationDir *dir, const char *name)
{
	const LayoutMethods *m = layout_of_names(dir->family);
	char	   *key;
	ListCell   *lc;

	for (int i = 0; i < dir->nfiles; i++)
	{
		if (strcmp(dir->files[i].name, name) == 0)
			return dir->files[i].down_path;
	}
	if (m->down_key == NULL)
		return NULL;
	key = m->down_key(name);
	foreach(lc, dir->orphans)
	{
		const MigrationOrphan *o = (const MigrationOrphan *) lfirst(lc);

		if (strcmp(o->key, key) == 0)
			return o->path;
	}
	return NULL;
}
