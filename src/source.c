/*-------------------------------------------------------------------------
 *
 * source.c
 *	  The migration directory: check it may be read, list its migration
 *	  files in version order, read a file, check its encoding and compute
 *	  its checksum.  Files only: nothing here touches the database.
 *
 * Listing follows pg_ls_dir_files in
 * src/backend/utils/adt/genfile.c; reading follows read_whole_file and
 * read_extension_script_file in src/backend/commands/extension.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cryptohash.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

#include "filecache.h"
#include "morgenmigrate.h"

/*
 * errcode_for_file_access() for an errno saved before ereport (which does
 * not allow errno in its arguments), except that a link loop is a missing
 * file (ELOOP would be XX000, an internal error).
 */
#define errcode_for_path(err) \
	((err) == ELOOP ? errcode(ERRCODE_UNDEFINED_FILE) : errcode_for_file_access())

/* Where an encoding error is, for its error context. */
typedef struct EncodingErrorPlace
{
	const char *name;
	int			line;
} EncodingErrorPlace;

/* A file's bytes after the BOM is dropped and CRLF turned into LF. */
typedef struct FileText
{
	char	   *data;			/* NUL-terminated */
	int			len;
	struct stat st;				/* the file when it was opened */
	struct timespec read_at;	/* the time just before it was opened */
} FileText;

/* The family whose order cmp_files_by_version uses (qsort has no arg). */
static LayoutFamily sort_family;

static bool has_suffix(const char *name, const char *suffix);
static char *file_path(const MigrationDir *dir, const char *name);
static void check_allowed(const char *path, const char *what);
static bool entry_type(const MigrationDir *mdir, struct dirent *de,
					   bool *is_dir);
typedef struct ListedEntry ListedEntry;
static bool read_diesel_dir(const MigrationDir *mdir, ListedEntry *le);
static bool is_regular_file(const MigrationDir *mdir, const char *relpath);
static LayoutFamily settle_family(const MigrationDir *mdir,
								  const char **example);
static MigrationLayout layout_of_names(LayoutFamily family, List *listed);
static void collect_files(MigrationDir *mdir, List *listed);
static void pair_down_file(MigrationDir *mdir, const ListedEntry *le);
static void pair_config_file(MigrationDir *mdir, const ListedEntry *le);
static MigrationFile *find_by_key(MigrationDir *mdir, const char *key);
static int	cmp_files_by_key(const void *a, const void *b);
static void check_resolved_allowed(const char *path, const char *resolved,
								   const char *what);
static void check_opened_allowed(int fd, const char *path);
static void check_file_name(const char *name);
static int	cmp_files_by_version(const void *a, const void *b);
static void check_versions(const MigrationDir *mdir);
static void settle_markers(MigrationDir *dir, const char *name,
						   const FileSections *s);
static int	cmp_files_by_layout(const void *a, const void *b);

/* The layout whose order cmp_files_by_layout uses. */
static const LayoutMethods *sort_methods;
static FileText read_file_text(const MigrationDir *dir, const char *name);
static void check_utf8(const char *name, const FileText *ft);
static void encoding_error_callback(void *arg);
static void compute_checksum(const char *name, const FileText *ft,
							 char *checksum);
static void conversion_error_callback(void *arg);

/*
 * Checks that dir names a directory the caller may read migrations from
 * and returns its canonical path.
 */
char *
migration_dir_check(const char *dir)
{
	char	   *path;
	struct stat st;

	if (!is_absolute_path(dir))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("migration directory \"%s\" is not an absolute path",
						dir),
				 errhint("Give the directory's full path on the database server, such as \"/srv/app/migrations\".")));

	path = pstrdup(dir);
	canonicalize_path(path);

	if (stat(path, &st) < 0)
	{
		int			err = errno;

		ereport(ERROR,
				(errcode_for_path(err),
				 errmsg("could not open migration directory \"%s\": %m",
						path)));
	}
	if (!S_ISDIR(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("migration directory \"%s\" is not a directory",
						path)));

	check_allowed(path, "migration directory");
	return path;
}

/*
 * Raises an error unless path, with links and ".." resolved, lies in one of
 * morgenmigrate.allowed_directories (when that setting is not empty).
 */
static void
check_allowed(const char *path, const char *what)
{
	char		resolved[PATH_MAX];

	if (mm_allowed_directories == NULL || mm_allowed_directories[0] == '\0')
		return;

	if (realpath(path, resolved) == NULL)
	{
		int			err = errno;

		ereport(ERROR,
				(errcode_for_path(err),
				 errmsg("could not resolve %s \"%s\": %m", what, path)));
	}
	check_resolved_allowed(path, resolved, what);
}

/*
 * Raises an error unless resolved, the path of path with links and ".."
 * resolved, lies in one of morgenmigrate.allowed_directories.
 */
static void
check_resolved_allowed(const char *path, const char *resolved,
					   const char *what)
{
	char	   *rawlist;
	List	   *allowed;
	ListCell   *lc;

	/* a setting that cannot be read allows nothing: fail closed */
	rawlist = pstrdup(mm_allowed_directories);
	if (!SplitDirectoriesString(rawlist, ',', &allowed))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid list syntax in parameter \"%s\"",
						"morgenmigrate.allowed_directories"),
				 errdetail("Until it is fixed, no directory is allowed.")));

	foreach(lc, allowed)
	{
		if (!is_absolute_path((const char *) lfirst(lc)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" in morgenmigrate.allowed_directories is not an absolute path",
							(const char *) lfirst(lc)),
					 errdetail("Until it is fixed, no directory is allowed.")));
	}

	foreach(lc, allowed)
	{
		char		allowed_resolved[PATH_MAX];
		const char *entry = (const char *) lfirst(lc);

		/* an entry that does not exist allows nothing */
		if (realpath(entry, allowed_resolved) == NULL)
			continue;
		if (strcmp(allowed_resolved, "/") == 0 ||
			path_is_prefix_of_path(allowed_resolved, resolved))
			return;
	}

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s \"%s\" is outside morgenmigrate.allowed_directories",
					what, path),
			 errdetail("It resolves to \"%s\".", resolved),
			 errhint("A superuser can add its directory to morgenmigrate.allowed_directories.")));
}

/*
 * Checks the file an open descriptor reads, not the path it was opened by:
 * between a check of the path and the open, the file could have become a
 * link to somewhere else.  The kernel names what fd reads in
 * /proc/self/fd; where it cannot, the file at the resolved path must be
 * the one opened (same device and inode).
 */
static void
check_opened_allowed(int fd, const char *path)
{
	char		link[64];
	char		opened[PATH_MAX];
	ssize_t		len;
	struct stat fdst;
	struct stat st;

	if (mm_allowed_directories == NULL || mm_allowed_directories[0] == '\0')
		return;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, opened, sizeof(opened) - 1);
	if (len > 0 && opened[0] == '/')
	{
		opened[len] = '\0';
		check_resolved_allowed(path, opened, "migration file");
		return;
	}

	check_allowed(path, "migration file");
	if (realpath(path, opened) == NULL || stat(opened, &st) < 0 ||
		fstat(fd, &fdst) < 0 ||
		st.st_dev != fdst.st_dev || st.st_ino != fdst.st_ino)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("migration file \"%s\" changed while it was opened", path),
				 errhint("Run the migrations again once the directory is in place.")));
}

/*
 * Refuses a migration whose file name is not valid UTF-8, or not valid in
 * the database encoding: the history records names as text, and invalid
 * text there would make a dump of it impossible to restore.  The name is
 * shown with its other bytes escaped.
 */
static void
check_file_name(const char *name)
{
	int			len = strlen(name);
	StringInfoData shown;

	if (pg_encoding_verifymbstr(PG_UTF8, name, len) == len &&
		pg_verifymbstr(name, len, true))
		return;

	initStringInfo(&shown);
	for (const unsigned char *p = (const unsigned char *) name; *p; p++)
	{
		if (*p >= 0x20 && *p < 0x7f && *p != '\\')
			appendStringInfoChar(&shown, *p);
		else
			appendStringInfo(&shown, "\\x%02x", *p);
	}
	ereport(ERROR,
			(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
			 errmsg("migration file name \"%s\" is not valid UTF-8", shown.data),
			 errdetail("File names are recorded in the history as text in the database encoding, %s.",
					   GetDatabaseEncodingName()),
			 errhint("Rename the file to a name in UTF-8 (bytes other than printable ASCII are shown here as \\xNN).")));
}

/* Tells whether name ends in suffix. */
static bool
has_suffix(const char *name, const char *suffix)
{
	size_t		nlen = strlen(name);
	size_t		slen = strlen(suffix);

	return nlen >= slen && strcmp(name + nlen - slen, suffix) == 0;
}

/* The full path of a file of the directory. */
static char *
file_path(const MigrationDir *dir, const char *name)
{
	return psprintf("%s/%s", dir->path, name);
}

/* One directory entry that is part of a migration, while listing. */
struct ListedEntry
{
	char	   *name;
	LayoutEntry entry;
	int8		no_transaction; /* diesel's metadata.toml */
	char	   *down_path;		/* diesel's down.sql */
};

/*
 * Lists the migrations of a directory as their layout defines them: which
 * entries are migrations (files, or diesel's directories), their versions,
 * their down files and config files, in version order.  Names alone decide
 * the layout's family; a directory whose names belong to several families
 * is refused, and so is an entry that looks like a migration but is none.
 * Nothing but a stat() touches a file here, but for diesel's and Flyway's
 * small config files.
 */
MigrationDir *
migration_dir_list(const char *path)
{
	MigrationDir *mdir;
	DIR		   *d;
	struct dirent *de;
	List	   *listed = NIL;
	const char *family_example[FAMILY_POSTGRATOR + 1] = {0};
	char	   *subdir = NULL;
	char	   *no_up = NULL;
	struct stat st;
	struct timespec read_at;
	bool		keep;

	/* a directory whose entries did not change since it was listed */
	clock_gettime(CLOCK_REALTIME, &read_at);
	keep = stat(path, &st) == 0;
	if (keep && (mdir = filecache_dir_lookup(path, &st)) != NULL)
		return mdir;

	mdir = palloc0(sizeof(MigrationDir));
	mdir->path = pstrdup(path);

	d = AllocateDir(path);
	if (d == NULL)
	{
		int			err = errno;

		ereport(ERROR,
				(errcode_for_path(err),
				 errmsg("could not open migration directory \"%s\": %m",
						path)));
	}

	while ((de = ReadDir(d, path)) != NULL)
	{
		ListedEntry *le;
		bool		is_dir;
		LayoutEntry entry;

		if (de->d_name[0] == '.')
			continue;
#if defined(DT_REG) && defined(DT_DIR)
		/* a link can change what it is without the directory changing */
		if (de->d_type != DT_REG && de->d_type != DT_DIR)
			keep = false;
#else
		keep = false;
#endif
		if (!entry_type(mdir, de, &is_dir))
			continue;
		layout_read_name(de->d_name, is_dir, &entry);
		if (entry.role == ROLE_IGNORED)
		{
			if (is_dir && subdir == NULL)
				subdir = pstrdup(de->d_name);
			continue;
		}
		check_file_name(de->d_name);

		le = palloc0(sizeof(ListedEntry));
		le->name = pstrdup(de->d_name);
		le->entry = entry;
		le->no_transaction = -1;
		if (is_dir && !read_diesel_dir(mdir, le))
		{
			if (no_up == NULL)
				no_up = le->name;
			continue;
		}
		if (family_example[entry.family] == NULL)
			family_example[entry.family] = le->name;
		listed = lappend(listed, le);
	}
	FreeDir(d);

	mdir->family = settle_family(mdir, family_example);
	if (mdir->family == FAMILY_DIESEL && no_up != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("migration directory \"%s\" has no up.sql", no_up),
				 errdetail("In the diesel migration directory \"%s\", every subdirectory whose name starts with a version is a migration, as diesel reads it.",
						   mdir->path),
				 errhint("Add its up.sql, or move the directory out of the migration directory.")));
	if (mdir->family == FAMILY_FLYWAY && subdir != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("Flyway migration directory \"%s\" has a subdirectory \"%s\"",
						mdir->path, subdir),
				 errdetail("Flyway reads the migrations of subdirectories too; morgenmigrate reads one directory."),
				 errhint("Move the migrations of the subdirectory up into the directory, or the subdirectory out of it.")));
	mdir->names_layout = layout_of_names(mdir->family, listed);
	mdir->layout = LAYOUT_AUTO;
	collect_files(mdir, listed);
	check_versions(mdir);

	/* diesel's and Flyway's config files can change in place */
	if (keep && mdir->family != FAMILY_DIESEL && mdir->family != FAMILY_FLYWAY)
		filecache_dir_store(path, &st, &read_at, mdir);
	return mdir;
}

/*
 * A copy of a directory's listing in the current memory context: what the
 * file cache keeps, or gives back (a call changes its copy as it goes).
 */
MigrationDir *
migration_dir_copy(const MigrationDir *src)
{
	MigrationDir *dst = palloc(sizeof(MigrationDir));
	ListCell   *lc;

	*dst = *src;
	dst->path = pstrdup(src->path);
	dst->files = palloc(sizeof(MigrationFile) * Max(src->nfiles, 1));
	for (int i = 0; i < src->nfiles; i++)
	{
		const MigrationFile *f = &src->files[i];
		MigrationFile *c = &dst->files[i];

		*c = *f;
		c->name = pstrdup(f->name);
		c->path = f->path == f->name ? c->name : pstrdup(f->path);
		c->down_path = f->down_path ? pstrdup(f->down_path) : NULL;
		c->version = f->version ? pstrdup(f->version) : NULL;
		c->description = f->description ? pstrdup(f->description) : NULL;
		c->what = f->what ? pstrdup(f->what) : NULL;
		c->key = f->key ? pstrdup(f->key) : NULL;
	}
	dst->orphans = NIL;
	foreach(lc, src->orphans)
		dst->orphans = lappend(dst->orphans, pstrdup((const char *) lfirst(lc)));
	return dst;
}

/*
 * Tells what a directory entry is without opening it: false for entries
 * that are neither regular files (or links to them) nor directories, with
 * a WARNING where the name is that of a migration.  Nothing that is not a
 * regular file is ever opened (a FIFO must not hang the backend).
 */
static bool
entry_type(const MigrationDir *mdir, struct dirent *de, bool *is_dir)
{
	char	   *fullpath;
	struct stat st;

	/* readdir's d_type saves a stat() (and a path) per plain file */
#if defined(DT_REG) && defined(DT_DIR)
	if (de->d_type == DT_REG || de->d_type == DT_DIR)
	{
		*is_dir = de->d_type == DT_DIR;
		return true;
	}
#endif
	/* a link, or a file system that does not say: stat() says */
	fullpath = file_path(mdir, de->d_name);
	if (stat(fullpath, &st) < 0)
	{
		struct stat lst;
		int			err = errno;

		/* removed since the directory was read: not there */
		if (err == ENOENT && lstat(fullpath, &lst) < 0 && errno == ENOENT)
			return false;
		errno = err;
		ereport(ERROR,
				(errcode_for_path(err),
				 errmsg("could not stat migration file \"%s\": %m",
						fullpath)));
	}
	pfree(fullpath);
	*is_dir = S_ISDIR(st.st_mode);
	if (*is_dir || S_ISREG(st.st_mode))
		return true;

	{
		LayoutEntry entry;

		layout_read_name(de->d_name, false, &entry);
		if (entry.role != ROLE_IGNORED)
			ereport(WARNING,
					(errmsg("ignoring \"%s\" in migration directory \"%s\": not a regular file",
							de->d_name, mdir->path)));
	}
	return false;
}

/*
 * Reads a diesel migration directory: its up.sql (false without one: then
 * it is no migration, but in a diesel directory, where the caller refuses
 * it as diesel does), its down.sql and the run_in_transaction of its
 * metadata.toml.
 */
static bool
read_diesel_dir(const MigrationDir *mdir, ListedEntry *le)
{
	char	   *up = psprintf("%s/up.sql", le->name);
	char	   *down = psprintf("%s/down.sql", le->name);
	char	   *meta = psprintf("%s/metadata.toml", le->name);
	char	   *text;

	if (!is_regular_file(mdir, up))
		return false;			/* refused only in a diesel directory */
	if (is_regular_file(mdir, down))
		le->down_path = down;
	if (is_regular_file(mdir, meta))
	{
		FileText	ft = read_file_text(mdir, meta);

		text = ft.data;
		le->no_transaction = layout_diesel_metadata(meta, text);
		pfree(text);
	}
	return true;
}

/* Tells whether a path of the directory is a regular file (links followed). */
static bool
is_regular_file(const MigrationDir *mdir, const char *relpath)
{
	struct stat st;
	char	   *fullpath = file_path(mdir, relpath);
	bool		result = stat(fullpath, &st) == 0 && S_ISREG(st.st_mode);

	pfree(fullpath);
	return result;
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
 * the family's, the forced one, goose where a goose Go migration is among
 * the files, golang-migrate where up files are named NAME.up.sql.
 */
static MigrationLayout
layout_of_names(LayoutFamily family, List *listed)
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
		layout = family == FAMILY_FLAT ? LAYOUT_AUTO : layout_of_family(family);
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
							le->name, mdir->path, layout_family_names(mdir->family)),
					 errdetail("%s", le->entry.what),
					 errhint("Rename it as its runner expects, or move it out of the migration directory.")));
		if (le->entry.role == ROLE_DOWN || le->entry.role == ROLE_CONFIG)
			to_pair = true;
		if (le->entry.role != ROLE_UP && le->entry.role != ROLE_REPEATABLE &&
			le->entry.role != ROLE_EXTERNAL)
			continue;
		f = &mdir->files[n++];
		f->name = le->name;
		f->path = le->entry.family == FAMILY_DIESEL ?
			psprintf("%s/up.sql", le->name) : le->name;
		f->down_path = le->down_path;
		f->version = le->entry.version;
		f->description = le->entry.description;
		f->role = le->entry.role;
		f->what = le->entry.what;
		f->config_no_transaction = le->no_transaction;
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

			if (le->entry.role == ROLE_DOWN)
				pair_down_file(mdir, le);
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
 * postgrator's 1.undo.x.sql to the version); one that belongs to none is
 * an orphan.
 */
static void
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
					 errdetail("Both \"%s\" and \"%s\" undo it.", f->down_path, le->name)));
		f->down_path = le->name;
		paired = true;
	}
	if (!paired)
		mdir->orphans = lappend(mdir->orphans, le->name);
}

/*
 * Reads a Flyway NAME.sql.conf into the migration NAME.sql; a config file
 * without its script is refused, as Flyway refuses it.
 */
static void
pair_config_file(MigrationDir *mdir, const ListedEntry *le)
{
	MigrationFile *f = NULL;
	FileText	ft;

	for (int i = 0; i < mdir->nfiles; i++)
		if (strcmp(mdir->files[i].name, le->entry.key) == 0)
			f = &mdir->files[i];
	if (f == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("config file \"%s\" has no migration \"%s\"",
						le->name, le->entry.key),
				 errhint("Rename or remove the config file.")));
	ft = read_file_text(mdir, le->name);
	f->config_no_transaction = layout_flyway_config(le->name, ft.data);
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
 * Version order of two file names: runs of digits compare as numbers,
 * other runs byte by byte; names equal that way compare byte by byte.
 */
int
migration_name_cmp(const char *a, const char *b)
{
	const unsigned char *pa = (const unsigned char *) a;
	const unsigned char *pb = (const unsigned char *) b;

	while (*pa != '\0' && *pb != '\0')
	{
		if (isdigit(*pa) && isdigit(*pb))
		{
			const unsigned char *sa,
					   *sb;
			size_t		la,
						lb;
			int			c;

			while (*pa == '0')
				pa++;
			while (*pb == '0')
				pb++;
			for (sa = pa; isdigit(*pa); pa++)
				;
			for (sb = pb; isdigit(*pb); pb++)
				;
			la = pa - sa;
			lb = pb - sb;
			if (la != lb)
				return la < lb ? -1 : 1;
			c = memcmp(sa, sb, la);
			if (c != 0)
				return c;
		}
		else
		{
			if (*pa != *pb)
				return *pa < *pb ? -1 : 1;
			pa++;
			pb++;
		}
	}
	if (*pa != *pb)
		return *pa == '\0' ? -1 : 1;
	return strcmp(a, b);
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

/* Tells whether two strings of digits are the same number. */
static bool
same_number(const char *a, const char *b)
{
	while (*a == '0' && a[1] != '\0')
		a++;
	while (*b == '0' && b[1] != '\0')
		b++;
	return strcmp(a, b) == 0;
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
	if (file->version == NULL || file->version[0] == '\0' || tlen == 0)
		return false;

	switch (dir->family)
	{
		case FAMILY_FLYWAY:
			{
				char	   *v = pstrdup(target);

				for (char *p = v; *p; p++)
					if (*p == '_')
						*p = '.';
				return strspn(v, "0123456789.") == tlen &&
					layout_version_cmp(FAMILY_FLYWAY, file->version, v) == 0;
			}
		case FAMILY_DIESEL:
			{
				StringInfoData v;

				initStringInfo(&v);
				for (const char *p = target; *p; p++)
					if (*p != '-')
						appendStringInfoChar(&v, *p);
				return strcmp(file->version, v.data) == 0;
			}
		default:
			return strspn(target, "0123456789") == tlen &&
				same_number(file->version, target);
	}
}

/*
 * Reads a migration file whole, refusing anything but a regular file
 * (opened without blocking, so a FIFO cannot hang the backend) and files
 * over morgenmigrate.max_file_size.  Drops a UTF-8 byte-order mark, turns
 * CRLF into LF and checks the text is UTF-8 without NUL bytes.
 */
static FileText
read_file_text(const MigrationDir *dir, const char *name)
{
	char	   *path = file_path(dir, name);
	FileText	ft;
	int			fd;
	char	   *src;
	char	   *dst;
	char	   *end;
	ssize_t		nread = 0;

	clock_gettime(CLOCK_REALTIME, &ft.read_at);
	fd = OpenTransientFile(path, O_RDONLY | O_NONBLOCK | PG_BINARY);
	if (fd < 0)
	{
		int			err = errno;

		ereport(ERROR,
				(errcode_for_path(err),
				 errmsg("could not open migration file \"%s\": %m", path)));
	}
	check_opened_allowed(fd, path);
	if (fstat(fd, &ft.st) < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat migration file \"%s\": %m", path)));
	if (!S_ISREG(ft.st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("migration file \"%s\" is not a regular file", path)));
	if (ft.st.st_size > (off_t) mm_max_file_size * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("migration file \"%s\" is too large", path),
				 errdetail("The file has %lld bytes; morgenmigrate.max_file_size allows %lld.",
						   (long long) ft.st.st_size,
						   (long long) mm_max_file_size * 1024)));

	ft.data = palloc(ft.st.st_size + 1);
	while (nread < ft.st.st_size)
	{
		ssize_t		r = read(fd, ft.data + nread, ft.st.st_size - nread);

		if (r < 0)
		{
			if (errno == EINTR)
				continue;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read migration file \"%s\": %m", path)));
		}
		if (r == 0)
			break;				/* truncated since fstat: read what is there */
		nread += r;
	}
	CloseTransientFile(fd);
	ft.data[nread] = '\0';

	/* drop the byte-order mark, turn CRLF into LF */
	src = ft.data;
	end = ft.data + nread;
	if (nread >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0)
		src += 3;
	for (dst = ft.data; src < end; src++)
	{
		if (*src == '\r' && src + 1 < end && src[1] == '\n')
			continue;
		*dst++ = *src;
	}
	*dst = '\0';
	ft.len = dst - ft.data;

	check_utf8(name, &ft);
	pfree(path);
	return ft;
}

/*
 * Raises PostgreSQL's own invalid-encoding error (SQLSTATE 22021, the bad
 * bytes in hex; a NUL byte is 0x00) with the file and the line, if the
 * text is not valid UTF-8.
 */
static void
check_utf8(const char *name, const FileText *ft)
{
	int			valid = pg_encoding_verifymbstr(PG_UTF8, ft->data, ft->len);
	EncodingErrorPlace place;
	ErrorContextCallback errcallback;

	if (valid == ft->len)
		return;

	place.name = name;
	place.line = 1;
	for (int i = 0; i < valid; i++)
		if (ft->data[i] == '\n')
			place.line++;

	errcallback.callback = encoding_error_callback;
	errcallback.arg = &place;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	report_invalid_encoding(PG_UTF8, ft->data + valid, ft->len - valid);
}

/* Error context of an encoding error: the file and line. */
static void
encoding_error_callback(void *arg)
{
	EncodingErrorPlace *place = (EncodingErrorPlace *) arg;

	errcontext("migration \"%s\", line %d", place->name, place->line);
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
	return OpenTransientFile(dir->path, O_RDONLY | O_DIRECTORY | PG_BINARY);
}

/* Closes what migration_dir_open opened. */
void
migration_dir_close(int dirfd)
{
	if (dirfd >= 0)
		CloseTransientFile(dirfd);
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
		ft = read_file_text(dir, file->path);
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
	FileText	ft = read_file_text(dir, path);
	ErrorContextCallback errcallback;
	char	   *text;
	MigrationLayout forced = dir->layout;
	const LayoutMethods *m = layout_methods(forced);

	script->name = path;
	script->section = section;
	compute_checksum(path, &ft, script->checksum);

	errcallback.callback = conversion_error_callback;
	errcallback.arg = (void *) path;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	text = pg_any_to_server(ft.data, ft.len, PG_UTF8);
	error_context_stack = errcallback.previous;
	if (text != ft.data)
		pfree(ft.data);

	/* the directory's layout decides whose markers count */
	if (m == NULL || m->scan == NULL)
		forced = mm_layout;
	layout_scan_file(path, text, strlen(text), forced, &script->sections);
	script->text = layout_cut_section(text, strlen(text), &script->sections,
									  section);
	if (script->text == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("migration \"%s\" has no down section", name),
				 errhint("Add a down section to \"%s\", or roll back by hand and remove its history row with morgenmigrate.migrate_forget().",
						 path)));
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

/* Names the file whose text could not be converted to the database encoding. */
static void
conversion_error_callback(void *arg)
{
	errcontext("migration \"%s\"", (const char *) arg);
}

/*
 * The file holding the down migration of a migration if the directory has
 * it (even when its up file is gone: a flat layout's orphan NAME.down.sql),
 * else NULL.
 */
const char *
migration_down_file(const MigrationDir *dir, const char *name)
{
	size_t		len = strlen(name);
	char	   *down;
	ListCell   *lc;

	for (int i = 0; i < dir->nfiles; i++)
	{
		if (strcmp(dir->files[i].name, name) == 0)
			return dir->files[i].down_path;
	}
	if (dir->family != FAMILY_FLAT)
		return NULL;

	if (has_suffix(name, ".up.sql"))
		len -= strlen(".up.sql");
	else if (has_suffix(name, ".sql"))
		len -= strlen(".sql");
	down = psprintf("%.*s.down.sql", (int) len, name);
	foreach(lc, dir->orphans)
	{
		if (strcmp((const char *) lfirst(lc), down) == 0)
			return (const char *) lfirst(lc);
	}
	return NULL;
}
