/*-------------------------------------------------------------------------
 *
 * source.c
 *	  The migration directory: check it may be read, list its migration
 *	  files in version order, read a file, check its encoding and compute
 *	  its checksum.  Files only: nothing here touches the database.
 *
 * The rules follow SPEC.md section 3.  Listing follows pg_ls_dir_files in
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
#include <unistd.h>

#include "common/cryptohash.h"
#if PG_VERSION_NUM >= 140000
#include "common/file_utils.h"
#endif
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/varlena.h"

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
} FileText;

static bool has_suffix(const char *name, const char *suffix);
static char *file_path(const MigrationDir *dir, const char *name);
static void check_allowed(const char *path, const char *what);
static void check_resolved_allowed(const char *path, const char *resolved,
								   const char *what);
static void check_opened_allowed(int fd, const char *path);
static void check_file_name(const char *name);
static int	cmp_files_by_name(const void *a, const void *b);
static int	cmp_files_by_version(const void *a, const void *b);
static void add_entry(List **ups, List **downs, const char *name);
static void pair_down_files(MigrationDir *mdir, List *downs);
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

/*
 * Lists the migration files of a directory: regular files (or links to
 * them) named *.sql, not starting with a dot.  Up files come back in
 * version order, each with its down partner; down files without an up file
 * are listed as orphans.  Nothing but a stat() touches a file here.
 */
MigrationDir *
migration_dir_list(const char *path)
{
	MigrationDir *mdir = palloc0(sizeof(MigrationDir));
	DIR		   *d;
	struct dirent *de;
	List	   *ups = NIL;
	List	   *downs = NIL;
	ListCell   *lc;
	int			i = 0;

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
		char	   *fullpath;
		struct stat st;

		if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".sql"))
			continue;
		check_file_name(de->d_name);

		fullpath = file_path(mdir, de->d_name);
#if PG_VERSION_NUM >= 140000
		/* readdir's d_type saves a stat() per plain file */
		switch (get_dirent_type(fullpath, de, false, DEBUG1))
		{
			case PGFILETYPE_REG:
				add_entry(&ups, &downs, de->d_name);
				pfree(fullpath);
				continue;
			case PGFILETYPE_DIR:
				pfree(fullpath);
				continue;
			default:
				break;			/* a link, or unknown: stat() says */
		}
#endif
		if (stat(fullpath, &st) < 0)
		{
			struct stat lst;
			int			err = errno;

			/* removed since the directory was read: not there */
			if (err == ENOENT && lstat(fullpath, &lst) < 0 && errno == ENOENT)
				continue;
			errno = err;
			ereport(ERROR,
					(errcode_for_path(err),
					 errmsg("could not stat migration file \"%s\": %m",
							fullpath)));
		}
		pfree(fullpath);

		if (S_ISDIR(st.st_mode))
			continue;
		if (!S_ISREG(st.st_mode))
		{
			ereport(WARNING,
					(errmsg("ignoring \"%s\" in migration directory \"%s\": not a regular file",
							de->d_name, path)));
			continue;
		}

		add_entry(&ups, &downs, de->d_name);
	}
	FreeDir(d);

	mdir->nfiles = list_length(ups);
	mdir->files = palloc0(sizeof(MigrationFile) * Max(mdir->nfiles, 1));
	foreach(lc, ups)
		mdir->files[i++].name = (char *) lfirst(lc);

	pair_down_files(mdir, downs);
	qsort(mdir->files, mdir->nfiles, sizeof(MigrationFile),
		  cmp_files_by_version);
	return mdir;
}

/* Adds a file name to the up or the down files. */
static void
add_entry(List **ups, List **downs, const char *name)
{
	if (has_suffix(name, ".down.sql"))
		*downs = lappend(*downs, pstrdup(name));
	else
		*ups = lappend(*ups, pstrdup(name));
}

/*
 * Gives each up file its down partner: NAME.down.sql belongs to NAME.sql
 * and to NAME.up.sql.  Down files that belong to no up file are orphans.
 */
static void
pair_down_files(MigrationDir *mdir, List *downs)
{
	ListCell   *lc;

	qsort(mdir->files, mdir->nfiles, sizeof(MigrationFile), cmp_files_by_name);

	foreach(lc, downs)
	{
		char	   *down = (char *) lfirst(lc);
		int			stemlen = strlen(down) - strlen(".down.sql");
		bool		paired = false;
		static const char *const up_suffixes[] = {".sql", ".up.sql"};

		for (int i = 0; i < lengthof(up_suffixes); i++)
		{
			MigrationFile key;
			MigrationFile *up;

			key.name = psprintf("%.*s%s", stemlen, down, up_suffixes[i]);
			up = bsearch(&key, mdir->files, mdir->nfiles,
						 sizeof(MigrationFile), cmp_files_by_name);
			if (up != NULL)
			{
				up->down_name = down;
				paired = true;
			}
			pfree(key.name);
		}
		if (!paired)
			mdir->orphans = lappend(mdir->orphans, down);
	}
}

/* qsort/bsearch comparator: MigrationFile by plain byte order of names. */
static int
cmp_files_by_name(const void *a, const void *b)
{
	return strcmp(((const MigrationFile *) a)->name,
				  ((const MigrationFile *) b)->name);
}

/* qsort comparator: MigrationFile by version order. */
static int
cmp_files_by_version(const void *a, const void *b)
{
	return migration_name_cmp(((const MigrationFile *) a)->name,
							  ((const MigrationFile *) b)->name);
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
	struct stat st;
	int			fd;
	char	   *src;
	char	   *dst;
	char	   *end;
	ssize_t		nread = 0;

	fd = OpenTransientFile(path, O_RDONLY | O_NONBLOCK | PG_BINARY);
	if (fd < 0)
	{
		int			err = errno;

		ereport(ERROR,
				(errcode_for_path(err),
				 errmsg("could not open migration file \"%s\": %m", path)));
	}
	check_opened_allowed(fd, path);
	if (fstat(fd, &st) < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat migration file \"%s\": %m", path)));
	if (!S_ISREG(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("migration file \"%s\" is not a regular file", path)));
	if (st.st_size > (off_t) mm_max_file_size * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("migration file \"%s\" is too large", path),
				 errdetail("The file has %lld bytes; morgenmigrate.max_file_size allows %lld.",
						   (long long) st.st_size,
						   (long long) mm_max_file_size * 1024)));

	ft.data = palloc(st.st_size + 1);
	while (nread < st.st_size)
	{
		ssize_t		r = read(fd, ft.data + nread, st.st_size - nread);

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

/* Reads a file only to compute its checksum into checksum. */
void
migration_checksum(const MigrationDir *dir, const char *name, char *checksum)
{
	FileText	ft = read_file_text(dir, name);

	compute_checksum(name, &ft, checksum);
	pfree(ft.data);
}

/*
 * Reads a migration file for running: its normalized text converted to the
 * database encoding, and its checksum.  Not yet split into statements.
 */
MigrationScript *
migration_read(const MigrationDir *dir, const char *name)
{
	MigrationScript *script = palloc0(sizeof(MigrationScript));
	FileText	ft = read_file_text(dir, name);
	ErrorContextCallback errcallback;

	script->name = name;
	compute_checksum(name, &ft, script->checksum);

	errcallback.callback = conversion_error_callback;
	errcallback.arg = (void *) name;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	script->text = pg_any_to_server(ft.data, ft.len, PG_UTF8);
	error_context_stack = errcallback.previous;

	if (script->text != ft.data)
		pfree(ft.data);
	script->len = strlen(script->text);
	return script;
}

/* Names the file whose text could not be converted to the database encoding. */
static void
conversion_error_callback(void *arg)
{
	errcontext("migration \"%s\"", (const char *) arg);
}

/*
 * The name of the down file of a migration if the directory has it (even
 * when the up file itself is gone), else NULL.
 */
const char *
migration_down_file(const MigrationDir *dir, const char *upname)
{
	size_t		len = strlen(upname);
	char	   *down;
	ListCell   *lc;

	if (has_suffix(upname, ".up.sql"))
		len -= strlen(".up.sql");
	else if (has_suffix(upname, ".sql"))
		len -= strlen(".sql");
	down = psprintf("%.*s.down.sql", (int) len, upname);

	for (int i = 0; i < dir->nfiles; i++)
	{
		if (dir->files[i].down_name != NULL &&
			strcmp(dir->files[i].down_name, down) == 0)
			return dir->files[i].down_name;
	}
	foreach(lc, dir->orphans)
	{
		if (strcmp((const char *) lfirst(lc), down) == 0)
			return (const char *) lfirst(lc);
	}
	return NULL;
}
