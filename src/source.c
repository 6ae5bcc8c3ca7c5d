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
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "filecache.h"
#include "files.h"
#include "migration.h"
#include "morgenmigrate.h"
#include "source.h"

/* The family whose order cmp_files_by_version uses (qsort has no arg). */
static LayoutFamily sort_family;

/* The layout whose order cmp_files_by_layout uses. */
static const LayoutMethods *sort_methods;

/* One directory entry that is part of a migration, while listing. */
typedef struct ListedEntry
{
	char	   *name;			/* as the file system names it */
	char	   *shown;			/* in the database encoding */
	LayoutEntry entry;
} ListedEntry;

static LayoutFamily settle_family(const MigrationDir *mdir,
								  const char **example);
static MigrationLayout layout_of_listed(LayoutFamily family, List *listed);
static void collect_files(MigrationDir *mdir, List *listed);
static bool pair_down_file(MigrationDir *mdir, const ListedEntry *le);
static void pair_config_file(MigrationDir *mdir, const ListedEntry *le);
static MigrationFile *find_by_key(MigrationDir *mdir, const char *key);
static int	cmp_files_by_key(const void *a, const void *b);
static int	cmp_files_by_version(const void *a, const void *b);
static void check_versions(const MigrationDir *mdir);
static void settle_markers(MigrationDir *dir, const char *name,
						   const FileSections *s);
static int	cmp_files_by_layout(const void *a, const void *b);
static void compute_checksum(const char *name, const FileText *ft,
							 char *checksum);

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
	const char *family_example[FAMILY_POSTGRATOR + 1] = {0};
	char	   *subdir = NULL;
	ListedEntry *incomplete = NULL;
	const LayoutMethods *m;
	struct stat st;
	struct timespec read_at;
	bool		keep;
	FileKind	kind;
	bool		plain;

	clock_gettime(CLOCK_REALTIME, &read_at);
	keep = stat(path, &st) == 0;
	if (keep && (mdir = filecache_dir_lookup(path, &st)) != NULL)
		return mdir;

	mdir = palloc0(sizeof(MigrationDir));
	mdir->path = pstrdup(path);

	d = files_dir_open(path);
	while ((name = files_dir_next(d, &kind, &plain)) != NULL)
	{
		ListedEntry *le;
		LayoutEntry entry;

		if (name[0] == '.')
			continue;
		if (!plain || kind == FILE_DIRECTORY)
			keep = false;
		if (kind == FILE_GONE)
			continue;
		layout_read_name(name, kind == FILE_DIRECTORY, &entry);
		if (kind == FILE_OTHER)
		{
			/* never opened (a FIFO must not hang the backend) */
			if (entry.role != ROLE_IGNORED)
				ereport(WARNING,
						(errmsg("ignoring \"%s\" in migration directory \"%s\": not a regular file",
								files_name_to_server(name), mdir->path)));
			continue;
		}
		if (entry.role == ROLE_IGNORED)
		{
			if (kind == FILE_DIRECTORY && subdir == NULL)
				subdir = files_name_to_server(name);
			continue;
		}

		le = palloc0(sizeof(ListedEntry));
		le->name = pstrdup(name);
		le->shown = files_name_to_server(name);
		le->entry = entry;
		le->entry.no_transaction = -1;
		if (kind == FILE_DIRECTORY)
		{
			m = layout_methods(entry.layout);
			m->read_subdir(path, le->name, &le->entry);
			if (le->entry.incomplete)
			{
				if (incomplete == NULL)
					incomplete = le;
				continue;
			}
		}
		if (family_example[entry.family] == NULL)
			family_example[entry.family] = le->shown;
		listed = lappend(listed, le);
	}
	files_dir_close(d);

	mdir->family = settle_family(mdir, family_example);
	m = layout_of_names(mdir->family);
	if (incomplete != NULL && incomplete->entry.family == mdir->family)
		layout_methods(incomplete->entry.layout)->refuse_incomplete(mdir->path,
																	incomplete->shown);
	if (subdir != NULL && m->subdir_refusal != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s migration directory \"%s\" has a subdirectory \"%s\"",
						m->runner, mdir->path, subdir),
				 errdetail("%s", m->subdir_refusal),
				 errhint("Move the migrations of the subdirectory up into the directory, or the subdirectory out of it.")));
	mdir->names_layout = layout_of_listed(mdir->family, listed);
	mdir->layout = LAYOUT_AUTO;
	collect_files(mdir, listed);
	check_versions(mdir);

	for (int i = 0; i < mdir->nfiles; i++)
		if (mdir->files[i].config_path != NULL)
			keep = false;
	if (keep)
		filecache_dir_store(path, &st, &read_at, mdir);
	return mdir;
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

	for (int f = FAMILY_FLAT; f <= FAMILY_POSTGRATOR; f++)
	{
		if (example[f] == NULL)
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
 * The layout the names alone tell (refined by the files' markers later):
 * the family's, the forced one, or one that an entry's name alone says
 * (an up file named as only one runner names them, a migration only its
 * runner can run).
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
			(layout == LAYOUT_AUTO || layout == LAYOUT_GOLANG_MIGRATE))
			layout = le->entry.layout;
	}
	if (layout == LAYOUT_AUTO)
		layout = layout_of_family(family);
	return layout;
}

/*
 * Turns the listed entries into the directory's migrations: up files,
 * repeatables and external ones become MigrationFiles; down files and
 * config files join theirs; entries that look like migrations but are
 * none are refused.
 */
static void
collect_files(MigrationDir *mdir, List *listed)
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
							le->shown, mdir->path, layout_family_names(mdir->family)),
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
		f->config_no_transaction = le->entry.no_transaction;
		f->config_path = le->entry.config_path;
		f->config_covers_down = f->config_path != NULL &&
			layout_methods(le->entry.layout)->config_covers_down;
		f->key = le->entry.key;
	}
	mdir->nfiles = n;

	/* down and config files find their migration by key */
	if (to_pair)
	{
		qsort(mdir->files, mdir->nfiles, sizeof(MigrationFile), cmp_files_by_key);
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
			else if (le->entry.role == ROLE_CONFIG)
				pair_config_file(mdir, le);
		}
	}
	sort_family = mdir->family;
	qsort(mdir->files, mdir->nfiles, sizeof(MigrationFile),
		  cmp_files_by_version);
}

/*
 * Gives a down file to the migrations whose key it names (NAME.down.sql
 * belongs to NAME.sql and to NAME.up.sql; Flyway's U1__x.sql and
 * postgrator's 1.undo.x.sql to the version); false when it belongs to
 * none: it is an orphan.
 */
static bool
pair_down_file(MigrationDir *mdir, const ListedEntry *le)
{
	bool		paired = false;

	for (MigrationFile *f = find_by_key(mdir, le->entry.key);
		 f != NULL && f < mdir->files + mdir->nfiles &&
		 strcmp(f->key, le->entry.key) == 0; f++)
	{
		if (f->role != ROLE_UP)
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
 * Reads a config file into the migration it names (its key is that
 * migration's file name); a config file without its migration is refused.
 */
static void
pair_config_file(MigrationDir *mdir, const ListedEntry *le)
{
	MigrationFile *f = NULL;
	FileText	ft;

	for (int i = 0; i < mdir->nfiles; i++)
		if (strcmp(mdir->files[i].path, le->entry.key) == 0)
			f = &mdir->files[i];
	if (f == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("config file \"%s\" has no migration \"%s\"",
						le->shown, files_name_to_server(le->entry.key)),
				 errhint("Rename or remove the config file.")));
	ft = files_read(mdir->path, le->name, "migration file", false);
	f->config_no_transaction =
		layout_methods(le->entry.layout)->read_config(le->shown, ft.data);
	f->config_path = le->name;
	f->config_covers_down = layout_methods(le->entry.layout)->config_covers_down;
	pfree(ft.data);
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

/* qsort comparator: MigrationFile by pairing key, then name. */
static int
cmp_files_by_key(const void *a, const void *b)
{
	const MigrationFile *fa = (const MigrationFile *) a;
	const MigrationFile *fb = (const MigrationFile *) b;
	int			c = strcmp(fa->key, fb->key);

	return c != 0 ? c : strcmp(fa->name, fb->name);
}

/* qsort comparator: MigrationFile by its layout's version order. */
static int
cmp_files_by_version(const void *a, const void *b)
{
	return layout_compare(sort_family, (const MigrationFile *) a,
						  (const MigrationFile *) b);
}

/*
 * Refuses two migrations of one version where the runner keys its history
 * by version (Flyway, diesel, postgrator): which one ran would be unknown.
 */
static void
check_versions(const MigrationDir *mdir)
{
	if (mdir->family == FAMILY_FLAT)
		return;
	for (int i = 1; i < mdir->nfiles; i++)
	{
		const MigrationFile *a = &mdir->files[i - 1];
		const MigrationFile *b = &mdir->files[i];

		if (a->role == ROLE_REPEATABLE || b->role == ROLE_REPEATABLE)
			continue;
		if (layout_version_cmp(mdir->family, a->version, b->version) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("migrations \"%s\" and \"%s\" have the same version %s",
							a->name, b->name, a->version),
					 errhint("Give each migration a version of its own.")));
	}
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
 * is 003_x.sql, "1.1" is Flyway's V1_1__x.sql, "20200113025151" and
 * "2020-01-13-025151" diesel's 2020-01-13-025151_x).
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
	return layout_target_matches(dir->family, file->version, target);
}

/* Lower-case hex SHA-256 of a file's normalized text. */
static void
compute_checksum(const char *name, const FileText *ft, char *checksum)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) ft->data, ft->len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
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
 * Reads a migration file once for what the directory needs to know of it:
 * its checksum and, for SQL files, the markers it carries (which settle
 * the layout of a flat directory: a file with another runner's markers, or
 * without the markers its directory's runner requires, is refused here,
 * before anything runs).
 */
void
migration_inspect(MigrationDir *dir, int dirfd, const MigrationFile *file,
				  char *checksum, FileSections *sections)
{
	MemoryContext scancxt;
	MemoryContext oldcxt;
	FileText	ft;
	FileSections s;

	Assert(file->path != NULL && file->role != ROLE_IGNORED);
	if (!filecache_lookup(dirfd, file->path, file->role,
						  (off_t) mm_max_file_size * 1024, checksum, sections))
	{
		scancxt = AllocSetContextCreate(CurrentMemoryContext,
										"morgenmigrate inspect",
										ALLOCSET_DEFAULT_SIZES);
		oldcxt = MemoryContextSwitchTo(scancxt);
		ft = files_read(dir->path, file->path, "migration file", false);
		compute_checksum(file->path, &ft, checksum);
		memset(&s, 0, sizeof(FileSections));
		s.layout = LAYOUT_PLAIN;
		s.down.start = -1;
		if (file->role != ROLE_EXTERNAL)
			layout_scan_file(file->path, ft.data, ft.len, mm_layout, &s);
		filecache_store(&ft.st, &ft.read_at, file->role, checksum, &s);
		MemoryContextSwitchTo(oldcxt);

		/* keep what was found, not the text (memory stays near one file's) */
		*sections = layout_copy_sections(&s);
		MemoryContextDelete(scancxt);
	}
	if (file->role != ROLE_EXTERNAL)
		settle_markers(dir, file->path, sections);
}

/*
 * Takes one file's markers into the directory's layout: the files of a
 * flat directory carry one runner's markers, or none; a runner that
 * requires markers refuses a file without them; other layouts' files carry
 * none.
 */
static void
settle_markers(MigrationDir *dir, const char *name, const FileSections *s)
{
	MigrationLayout expected;
	const LayoutMethods *m;

	if (s->layout != LAYOUT_PLAIN && dir->family != FAMILY_FLAT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("migration \"%s\" carries %s markers in a directory laid out for %s",
						name, layout_methods(s->layout)->runner,
						layout_methods(dir->names_layout)->runner),
				 errdetail("Line %d is a %s marker.", s->up.line,
						   layout_methods(s->layout)->runner),
				 errhint("Keep the migrations of one runner in a directory.")));
	if (dir->family != FAMILY_FLAT)
		return;

	if (s->layout != LAYOUT_PLAIN)
	{
		if (dir->marked_layout == LAYOUT_AUTO)
		{
			dir->marked_layout = s->layout;
			dir->marked_example = name;
		}
		else if (dir->marked_layout != s->layout)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("migration directory \"%s\" mixes layouts", dir->path),
					 errdetail("\"%s\" carries %s markers, \"%s\" %s markers.",
							   dir->marked_example,
							   layout_methods(dir->marked_layout)->runner,
							   name, layout_methods(s->layout)->runner),
					 errhint("Keep the migrations of one runner in a directory.")));
	}
	else if (dir->unmarked_example == NULL)
		dir->unmarked_example = name;

	/* what the names (or the setting) say must agree with the markers */
	if (dir->marked_layout != LAYOUT_AUTO &&
		layout_methods(dir->names_layout) != NULL &&
		layout_methods(dir->names_layout)->scan != NULL &&
		dir->names_layout != dir->marked_layout)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("migration directory \"%s\" mixes layouts", dir->path),
				 errdetail("\"%s\" carries %s markers in a directory of %s migrations.",
						   dir->marked_example,
						   layout_methods(dir->marked_layout)->runner,
						   layout_methods(dir->names_layout)->runner),
				 errhint("Keep the migrations of one runner in a directory.")));

	expected = dir->marked_layout != LAYOUT_AUTO ? dir->marked_layout :
		dir->names_layout;
	m = layout_methods(expected);
	if (m != NULL && m->requires_markers && dir->unmarked_example != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("migration \"%s\" has no %s markers", dir->unmarked_example,
						m->runner),
				 errdetail("The directory holds %s migrations%s%s, and %s refuses a file without its markers.",
						   m->runner,
						   dir->marked_example ? ", such as " : "",
						   dir->marked_example ? dir->marked_example : "",
						   m->runner),
				 errhint("Add the markers to the file, or move it to a directory of its own.")));
	dir->layout = expected;
}

/*
 * Settles the directory's layout once every file is inspected, and puts
 * the migrations in that layout's order (sql-migrate and node-pg-migrate
 * order a flat directory their own way).
 */
void
migration_dir_settle(MigrationDir *dir)
{
	const LayoutMethods *m;

	if (dir->layout == LAYOUT_AUTO)
		dir->layout = dir->marked_layout != LAYOUT_AUTO ? dir->marked_layout :
			dir->names_layout != LAYOUT_AUTO ? dir->names_layout : LAYOUT_PLAIN;
	m = layout_methods(dir->layout);
	if (m->compare != flat_compare)
	{
		sort_methods = m;
		qsort(dir->files, dir->nfiles, sizeof(MigrationFile), cmp_files_by_layout);
	}
}

/* qsort comparator: MigrationFile by sort_methods' order. */
static int
cmp_files_by_layout(const void *a, const void *b)
{
	return sort_methods->compare((const MigrationFile *) a,
								 (const MigrationFile *) b);
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
	MigrationLayout forced = dir->layout;
	const LayoutMethods *m = layout_methods(forced);

	script->name = files_name_to_server(path);
	script->section = section;
	compute_checksum(script->name, &ft, script->checksum);
	text = files_text_to_server(&ft, path);
	if (text != ft.data)
		pfree(ft.data);

	/* the directory's layout decides whose markers count */
	if (m == NULL || m->scan == NULL)
		forced = mm_layout;
	layout_scan_file(script->name, text, strlen(text), forced, &script->sections);
	script->text = layout_cut_section(text, strlen(text), &script->sections,
									  section);
	if (script->text == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("migration \"%s\" has no down section", name),
				 errhint("Add a down section to \"%s\", or roll back by hand and remove its history row with morgenmigrate.migrate_forget().",
						 script->name)));
	pfree(text);
	script->len = strlen(script->text);
	if (script->sections.layout != LAYOUT_PLAIN)
		script->runner = layout_methods(script->sections.layout)->runner;
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
