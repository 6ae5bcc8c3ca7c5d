/*-------------------------------------------------------------------------
 *
 * files.c
 *	  Every file and directory the extension reads goes through here:
 *	  migration files, down and undo files, config files, plan files such
 *	  as sqitch.plan, and the listings of directories.  One place checks
 *	  morgenmigrate.allowed_directories on the resolved path, opens nothing
 *	  but regular files and never blocks on anything else (a FIFO opened
 *	  with O_NONBLOCK, then refused), enforces morgenmigrate.max_file_size,
 *	  checks the text is UTF-8, converts texts and names to the database
 *	  encoding, and lets a long read be cancelled.
 *
 * A directory may also be a pushed set: files sent over the connection
 * (push.c reads them from a table), registered with files_push for the
 * call that reads them.  Its root is a name that is no absolute path, so
 * no directory of the server can be taken for it, and every function here
 * serves a path below it from the set: the listing, the kinds, the reads,
 * with the same size limit, the same text checks and the same errors.
 * Nothing about it is looked up on the disk, so neither
 * morgenmigrate.allowed_directories nor the server's file permissions
 * apply.
 *
 * Reading follows read_whole_file and read_extension_script_file in
 * src/backend/commands/extension.c; listing follows pg_ls_dir_files in
 * src/backend/utils/adt/genfile.c; the path checks follow
 * convert_and_check_filename there.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/vfs.h>
#endif

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

#include "files.h"
#include "morgenmigrate.h"


/*
 * errcode_for_file_access() for an errno saved before ereport (which does
 * not allow errno in its arguments), except that a link loop is a missing
 * file and a path or name too long for the file system is a name too long
 * (ELOOP and ENAMETOOLONG would be XX000, an internal error).
 */
#define errcode_for_path(err) \
	((err) == ELOOP ? errcode(ERRCODE_UNDEFINED_FILE) : \
	 (err) == ENAMETOOLONG ? errcode(ERRCODE_NAME_TOO_LONG) : \
	 errcode_for_file_access())

/* A directory being listed: of the disk (dir), or of the pushed set. */
struct FilesDir
{
	DIR		   *dir;
	char	   *path;
	int			next;			/* pushed: the set's next file */
	char	   *prefix;			/* pushed: the directory's path and "/", or "" */
	int			prefixlen;
	char	   *name;			/* pushed: the entry last returned */
};

/* The pushed set of the call under way, or NULL. */
static PushedSet *pushed = NULL;

/* Where an encoding error is, for its error context. */
typedef struct EncodingErrorPlace
{
	const char *name;
	int			line;			/* 0: the name itself, not a line of text */
} EncodingErrorPlace;

static bool allowed_is_set(void);
static char *resolve_path(const char *path);
static void check_resolved_allowed(const char *resolved, const char *what,
								   const char *path);
static void check_path_allowed(const char *path, const char *what);
static void check_fd_allowed(int fd, const char *path, const char *what);
static char *shown(const char *s);
static FileKind kind_of(const char *dir, const char *relpath, bool quiet);
static void drop_bom(FileText *ft);
static void check_utf8(const char *shown_name, const FileText *ft);
static void encoding_error_callback(void *arg);
static char *convert_to_server(const char *s, int len, const char *name);
static const char *pushed_path(const char *dir, const char *relpath);
static int	cmp_paths(const char *a, const char *b);
static int	cmp_pushed(const void *a, const void *b);
static int	pushed_lower_bound(const char *path);
static bool pushed_below(const PushedFile *f, const char *prefix, int prefixlen);
static const PushedFile *pushed_find(const char *path);
static FileKind pushed_kind(const char *path);
static FileText pushed_read(const char *dir, const char *relpath,
							const char *what, bool missing_ok);
static const char *pushed_dir_next(FilesDir *d, FileKind *kind);
static void check_pushed_name(const PushedFile *f);
static void pushed_forget(void *arg);

/* Tells whether morgenmigrate.allowed_directories limits what may be read. */
static bool
allowed_is_set(void)
{
	return mm_allowed_directories != NULL && mm_allowed_directories[0] != '\0';
}

/*
 * The path with links and ".." resolved.  A path that does not exist (yet)
 * resolves as its longest existing ancestor, resolved, followed by the
 * rest of it: that is where it would be.
 */
static char *
resolve_path(const char *path)
{
	char		resolved[PATH_MAX];
	char	   *head = pstrdup(path);
	char	   *cut;

	canonicalize_path(head);
	if (realpath(head, resolved) != NULL)
		return pstrdup(resolved);
	while ((cut = strrchr(head, '/')) != NULL && cut != head)
	{
		*cut = '\0';
		if (realpath(head, resolved) != NULL)
			return psprintf("%s%s", strcmp(resolved, "/") == 0 ? "" : resolved,
							path + (cut - head));
	}
	return pstrdup(path);
}

/*
 * Raises an error unless resolved, a path with links and ".." resolved,
 * lies in one of morgenmigrate.allowed_directories.  The error says that
 * path is outside, and nothing else about it: not where it leads, nor
 * whether it exists.
 */
static void
check_resolved_allowed(const char *resolved, const char *what,
					   const char *path)
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
					what, shown(path)),
			 errhint("A superuser can add its directory to morgenmigrate.allowed_directories.")));
}

/* Refuses a path outside the setting before anything else is done with it. */
static void
check_path_allowed(const char *path, const char *what)
{
	if (allowed_is_set())
		check_resolved_allowed(resolve_path(path), what, path);
}

/*
 * Checks the file an open descriptor reads, not the path it was opened by:
 * between a check of the path and the open, the file could have become a
 * link to somewhere else.  The kernel names what fd reads in
 * /proc/self/fd; where it cannot, the file at the resolved path must be
 * the one opened (same device and inode).
 */
static void
check_fd_allowed(int fd, const char *path, const char *what)
{
	char		link[64];
	char		opened[PATH_MAX];
	ssize_t		len;
	struct stat fdst;
	struct stat st;
	char	   *resolved;

	if (!allowed_is_set())
		return;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, opened, sizeof(opened) - 1);
	if (len > 0 && opened[0] == '/')
	{
		opened[len] = '\0';
		check_resolved_allowed(opened, what, path);
		return;
	}

	resolved = resolve_path(path);
	check_resolved_allowed(resolved, what, path);
	if (stat(resolved, &st) < 0 || fstat(fd, &fdst) < 0 ||
		st.st_dev != fdst.st_dev || st.st_ino != fdst.st_ino)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s \"%s\" changed while it was opened", what, shown(path)),
				 errhint("Run the migrations again once the directory is in place.")));
}

/*
 * A path or name fit for a message in any database encoding: as it is
 * when it is ASCII, or UTF-8 in a UTF-8 database; otherwise with every
 * byte that is not printable ASCII shown as \xNN.
 */
static char *
shown(const char *s)
{
	const unsigned char *p;
	StringInfoData buf;

	for (p = (const unsigned char *) s; *p >= 0x20 && *p < 0x7f; p++)
		;
	if (*p == '\0')
		return (char *) s;
	if (GetDatabaseEncoding() == PG_UTF8 &&
		pg_encoding_verifymbstr(PG_UTF8, s, strlen(s)) == (int) strlen(s))
		return (char *) s;

	initStringInfo(&buf);
	for (p = (const unsigned char *) s; *p; p++)
	{
		if (*p >= 0x20 && *p < 0x7f && *p != '\\')
			appendStringInfoChar(&buf, *p);
		else
			appendStringInfo(&buf, "\\x%02x", *p);
	}
	return buf.data;
}

/* A pushed path fit for a message, by shown's rules (push.c's errors). */
char *
files_shown(const char *s)
{
	return shown(s);
}

/*
 * Checks that dir names a directory the caller may read migrations from
 * and returns its canonical path.  morgenmigrate.allowed_directories is
 * checked first: of a path outside it, the error says only that.
 */
char *
files_check_directory(const char *dir)
{
	char	   *path;
	struct stat st;

	if (pushed_path(dir, "") != NULL)
		return pstrdup(dir);
	if (!is_absolute_path(dir))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("migration directory \"%s\" is not an absolute path",
						dir),
				 errhint("Give the directory's full path on the database server, such as \"/srv/app/migrations\".")));

	path = pstrdup(dir);
	canonicalize_path(path);
	check_path_allowed(path, "migration directory");

	if (stat(path, &st) < 0)
	{
		int			err = errno;

		ereport(ERROR,
				(errcode_for_path(err),
				 errmsg("could not open migration directory \"%s\": %m",
						shown(path))));
	}
	if (!S_ISDIR(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("migration directory \"%s\" is not a directory",
						shown(path))));
	return path;
}

/*
 * Reads a file of a directory whole: relpath (in the file system's bytes)
 * below dir, named "what" in messages ("migration file", "plan file").
 * Refuses a file outside morgenmigrate.allowed_directories, anything but
 * a regular file (opened without blocking, so a FIFO cannot hang the
 * backend, and refused), and files over morgenmigrate.max_file_size.
 * Drops a UTF-8 byte-order mark and checks the text is UTF-8 without NUL
 * bytes.  With missing_ok, a file that does not exist
 * gives data NULL.
 */
FileText
files_read(const char *dir, const char *relpath, const char *what,
		   bool missing_ok)
{
	char	   *path = psprintf("%s/%s", dir, relpath);
	int			flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | PG_BINARY;
	FileText	ft;
	int			fd;
	ssize_t		nread = 0;

	if (pushed_path(dir, relpath) != NULL)
		return pushed_read(dir, relpath, what, missing_ok);

	memset(&ft, 0, sizeof(ft));
	clock_gettime(CLOCK_REALTIME, &ft.read_at);

	/*
	 * A file of the directory itself lies in it; a link, or a file of a
	 * subdirectory, may lead anywhere: refuse it before opening it.
	 */
	if (allowed_is_set() && strchr(relpath, '/') != NULL)
		check_path_allowed(path, what);
	fd = OpenTransientFile(path, flags | (allowed_is_set() ? O_NOFOLLOW : 0));
	if (fd < 0 && errno == ELOOP && allowed_is_set())
	{
		check_path_allowed(path, what);
		fd = OpenTransientFile(path, flags);
	}
	if (fd < 0)
	{
		int			err = errno;

		if (missing_ok && err == ENOENT)
			return ft;
		ereport(ERROR,
				(errcode_for_path(err),
				 errmsg("could not open %s \"%s\": %m", what, shown(path))));
	}
	check_fd_allowed(fd, path, what);
	if (fstat(fd, &ft.st) < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat %s \"%s\": %m", what, shown(path))));
	if (!S_ISREG(ft.st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s \"%s\" is not a regular file", what, shown(path))));
	if (ft.st.st_size > (off_t) mm_max_file_size * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s \"%s\" is too large", what, shown(path)),
				 errdetail("The file has %lld bytes; morgenmigrate.max_file_size allows %lld.",
						   (long long) ft.st.st_size,
						   (long long) mm_max_file_size * 1024)));

	ft.data = palloc(ft.st.st_size + 1);
	while (nread < ft.st.st_size)
	{
		ssize_t		r;

		CHECK_FOR_INTERRUPTS();
		r = read(fd, ft.data + nread, Min(ft.st.st_size - nread, 1024 * 1024));
		if (r < 0)
		{
			if (errno == EINTR)
				continue;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read %s \"%s\": %m", what, shown(path))));
		}
		if (r == 0)
			break;				/* truncated since fstat: read what is there */
		nread += r;
	}
	CloseTransientFile(fd);
	ft.data[nread] = '\0';
	ft.len = nread;

	drop_bom(&ft);
	check_utf8(shown(relpath), &ft);
	pfree(path);
	return ft;
}

/*
 * Drops a UTF-8 byte-order mark, noting that there was one (some runners
 * read it as text).  Line ends stay as they are: a CRLF inside a string
 * literal or a function body is sent to the server as the runners send it
 * (the checksum reads CRLF as LF, source.c).
 */
static void
drop_bom(FileText *ft)
{
	ft->bom = ft->len >= 3 && memcmp(ft->data, "\xEF\xBB\xBF", 3) == 0;
	if (ft->bom)
	{
		memmove(ft->data, ft->data + 3, ft->len - 3 + 1);
		ft->len -= 3;
	}
}

/*
 * Raises PostgreSQL's own invalid-encoding error (SQLSTATE 22021, the bad
 * bytes in hex; a NUL byte is 0x00) with the file and the line, if the
 * text is not valid UTF-8.
 */
static void
check_utf8(const char *shown_name, const FileText *ft)
{
	int			valid = pg_encoding_verifymbstr(PG_UTF8, ft->data, ft->len);
	EncodingErrorPlace place;
	ErrorContextCallback errcallback;

	if (valid == ft->len)
		return;

	place.name = shown_name;
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

/* Error context of an encoding error: the file and line, or the name. */
static void
encoding_error_callback(void *arg)
{
	EncodingErrorPlace *place = (EncodingErrorPlace *) arg;

	if (place->line > 0)
		errcontext("migration \"%s\", line %d", place->name, place->line);
	else
		errcontext("migration file name \"%s\"", place->name);
}

/*
 * Converts len bytes of UTF-8 at s to the database encoding (s itself when
 * no conversion is needed), with an error context naming the file.
 */
static char *
convert_to_server(const char *s, int len, const char *name)
{
	EncodingErrorPlace place;
	ErrorContextCallback errcallback;
	char	   *converted;

	place.name = shown(name);
	place.line = 0;
	errcallback.callback = encoding_error_callback;
	errcallback.arg = &place;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	converted = pg_any_to_server(s, len, PG_UTF8);
	error_context_stack = errcallback.previous;
	return converted;
}

/*
 * A file's text converted to the database encoding (the text itself when
 * no conversion is needed); an error names the file.
 */
char *
files_text_to_server(const FileText *ft, const char *name)
{
	return convert_to_server(ft->data, ft->len, name);
}

/*
 * A file name converted from UTF-8 to the database encoding, as its texts
 * are: the history records names as text.  A name that is not UTF-8 is
 * refused (22021), and so is one the database encoding cannot hold (22P05,
 * untranslatable character), each naming the file in its bytes on disk.
 * The result is always a copy.
 */
char *
files_name_to_server(const char *name)
{
	int			len = strlen(name);
	char	   *converted;

	if (pg_encoding_verifymbstr(PG_UTF8, name, len) != len)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("migration file name \"%s\" is not valid UTF-8", shown(name)),
				 errdetail("File names are recorded in the history as text in the database encoding, %s.",
						   GetDatabaseEncodingName()),
				 errhint("Rename the file to a name in UTF-8 (bytes other than printable ASCII are shown here as \\xNN).")));
	converted = convert_to_server(name, len, name);
	return converted == name ? pstrdup(name) : converted;
}

/*
 * Opens a directory for listing with files_dir_next, once the directory is
 * known to be allowed (files_check_directory); the directory opened is
 * checked again, as a file is.
 */
FilesDir *
files_dir_open(const char *path)
{
	FilesDir   *d = palloc0(sizeof(FilesDir));
	const char *rel = pushed_path(path, "");

	d->path = pstrdup(path);
	if (rel != NULL)
	{
		if (pushed_kind(rel) != FILE_DIRECTORY)
		{
			errno = ENOENT;
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("could not open migration directory \"%s\": %m",
							shown(path))));
		}
		d->prefix = rel[0] == '\0' ? "" : psprintf("%s/", rel);
		d->prefixlen = strlen(d->prefix);
		d->next = pushed_lower_bound(d->prefix);
		return d;
	}
	d->dir = AllocateDir(path);
	if (d->dir == NULL)
	{
		int			err = errno;

		ereport(ERROR,
				(errcode_for_path(err),
				 errmsg("could not open migration directory \"%s\": %m",
						shown(path))));
	}
	check_fd_allowed(dirfd(d->dir), path, "migration directory");
	return d;
}

/*
 * The next entry of a directory but "." and "..", or NULL at its end, and
 * what it is (links followed); plain says the entry is no link.  An entry
 * removed since the directory was read is FILE_GONE; a link that leads
 * nowhere is an error.
 */
const char *
files_dir_next(FilesDir *d, FileKind *kind, bool *plain)
{
	struct dirent *de;

	if (d->dir == NULL)
	{
		*plain = true;
		return pushed_dir_next(d, kind);
	}
	while ((de = ReadDir(d->dir, d->path)) != NULL)
	{
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
#if defined(DT_REG) && defined(DT_DIR)
		/* readdir's d_type saves a stat() (and a path) per plain file */
		if (de->d_type == DT_REG || de->d_type == DT_DIR)
		{
			*kind = de->d_type == DT_REG ? FILE_REGULAR : FILE_DIRECTORY;
			*plain = true;
			return de->d_name;
		}
#endif
		*plain = false;
		*kind = files_kind(d->path, de->d_name);
		return de->d_name;
	}
	return NULL;
}

/*
 * Looks at every entry of a directory without following links: calls fn
 * with the directory's own stat() (name NULL), then with each entry but
 * "." and ".." and its lstat(), in the order the directory gives them,
 * while fn returns true.  The directory is opened and checked against
 * morgenmigrate.allowed_directories as files_dir_open does.  False when fn
 * stopped the walk, when an entry went before it could be looked at, or
 * when the directory cannot be opened, is a pushed set, or is on a file
 * system whose times are not trusted (files_fd_times_trusted): the caller
 * then lists it the usual way, which reports what is wrong.
 */
bool
files_dir_walk(const char *path, FilesWalkFn fn, void *arg)
{
	DIR		   *dir;
	struct dirent *de;
	struct stat st;
	dev_t		device;
	bool		ok;

	if (pushed_path(path, "") != NULL || (dir = AllocateDir(path)) == NULL)
		return false;
	check_fd_allowed(dirfd(dir), path, "migration directory");
	ok = files_fd_times_trusted(dirfd(dir), &device) &&
		fstat(dirfd(dir), &st) == 0 && fn(NULL, &st, arg);
	while (ok && (de = ReadDir(dir, path)) != NULL)
	{
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		ok = fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			fn(de->d_name, &st, arg);
	}
	FreeDir(dir);
	return ok;
}

/* Ends a listing. */
void
files_dir_close(FilesDir *d)
{
	if (d->dir != NULL)
		FreeDir(d->dir);
	pfree(d->path);
	pfree(d);
}

/*
 * What the entry relpath of a directory is, links followed, without
 * opening it; FILE_GONE when it does not exist (or was removed), an error
 * when it is a link that leads nowhere or cannot be looked at.
 */
FileKind
files_kind(const char *dir, const char *relpath)
{
	return kind_of(dir, relpath, false);
}

/*
 * What files_kind says, but FILE_OTHER instead of an error for an entry
 * that cannot be looked at (in a subdirectory the server may not enter,
 * such as a volume's lost+found): for entries that may be no migration's.
 */
FileKind
files_probe_kind(const char *dir, const char *relpath)
{
	return kind_of(dir, relpath, true);
}

/*
 * Tells whether the entry relpath of a directory is a symbolic link itself
 * (lstat; a pushed directory has none).
 */
bool
files_is_link(const char *dir, const char *relpath)
{
	struct stat st;
	char	   *path;
	bool		link;

	if (pushed_path(dir, relpath) != NULL)
		return false;
	path = psprintf("%s/%s", dir, relpath);
#ifdef S_ISLNK
	link = lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
#else
	link = false;
#endif
	pfree(path);
	return link;
}

/* files_kind, and files_probe_kind when quiet. */
static FileKind
kind_of(const char *dir, const char *relpath, bool quiet)
{
	const char *rel = pushed_path(dir, relpath);
	char	   *path;
	struct stat st;
	FileKind	kind;

	if (rel != NULL)
		return pushed_kind(rel);
	path = psprintf("%s/%s", dir, relpath);
	if (stat(path, &st) < 0)
	{
		struct stat lst;
		int			err = errno;

		if ((err == ENOENT || err == ENOTDIR) && lstat(path, &lst) < 0 &&
			(errno == ENOENT || errno == ENOTDIR))
			kind = FILE_GONE;
		else if (quiet)
			kind = FILE_OTHER;
		else
			ereport(ERROR,
					(errcode_for_path(err),
					 errmsg("could not stat migration file \"%s\": %m",
							shown(path))));
	}
	else if (S_ISREG(st.st_mode))
		kind = FILE_REGULAR;
	else if (S_ISDIR(st.st_mode))
		kind = FILE_DIRECTORY;
	else
		kind = FILE_OTHER;
	pfree(path);
	return kind;
}

/*
 * Opens a directory to look its files up relative to it (a stat() of each
 * file then walks one path component, not the whole path); -1 if it
 * cannot, or it is pushed.  The descriptor is a transient file: an error
 * closes it.  A directory outside morgenmigrate.allowed_directories is
 * refused as files_dir_open refuses it: its path before it is opened, and
 * what was opened (the path may have become a link leading out since it
 * was listed).
 */
int
files_dir_fd(const char *path)
{
	int			fd;

	if (pushed_path(path, "") != NULL)
		return -1;
	check_path_allowed(path, "migration directory");
	fd = OpenTransientFile(path, O_RDONLY | O_DIRECTORY | PG_BINARY);
	if (fd >= 0)
		check_fd_allowed(fd, path, "migration directory");
	return fd;
}

/* Closes what files_dir_fd opened. */
void
files_dir_fd_close(int dirfd)
{
	if (dirfd >= 0)
		CloseTransientFile(dirfd);
}

/*
 * Registers a pushed set for the call that reads it: from now on its root
 * is a directory of this module's, until the memory the set lives in goes
 * (at the end of the call, or with its error).  Refuses, before anything
 * is read, a name that is not a relative path below the directory (empty,
 * absolute, with an empty, "." or ".." part, or a NUL byte), one that is
 * not valid UTF-8 or that the database encoding cannot hold, a name sent
 * twice, a file that is a directory too, a file over
 * morgenmigrate.max_file_size and a set over morgenmigrate.max_push_size.
 */
void
files_push(PushedSet *set)
{
	MemoryContextCallback *cb;
	int64		total = 0;

	Assert(set->root[0] != '\0' && !is_absolute_path(set->root));
	if (pushed != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("pushed files cannot be read while another call reads pushed files")));

	for (int i = 0; i < set->nfiles; i++)
	{
		const PushedFile *f = &set->files[i];

		check_pushed_name(f);
		if (f->size > (int64) mm_max_file_size * 1024)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("pushed file \"%s\" is too large", shown(f->path)),
					 errdetail("The file has %lld bytes; morgenmigrate.max_file_size allows %lld.",
							   (long long) f->size,
							   (long long) mm_max_file_size * 1024)));
		total += Max(f->size, 0);
	}
	if (total > (int64) mm_max_push_size * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("pushed files are too large"),
				 errdetail_plural("The %d file has %lld bytes; morgenmigrate.max_push_size allows %lld.",
								  "The %d files have %lld bytes together; morgenmigrate.max_push_size allows %lld.",
								  set->nfiles, set->nfiles, (long long) total,
								  (long long) mm_max_push_size * 1024)));

	qsort(set->files, set->nfiles, sizeof(PushedFile), cmp_pushed);
	for (int i = 1; i < set->nfiles; i++)
	{
		const PushedFile *a = &set->files[i - 1];
		const PushedFile *b = &set->files[i];

		if (strcmp(a->path, b->path) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_FILE),
					 errmsg("pushed file \"%s\" is sent twice", shown(a->path)),
					 errhint("Send each file of the directory once.")));
		/* below a file: a directory's entries follow it */
		if (a->size >= 0 && pushed_below(b, a->path, a->pathlen))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_FILE),
					 errmsg("pushed file \"%s\" is a directory too", shown(a->path)),
					 errdetail("\"%s\" is sent as a file below it.", shown(b->path)),
					 errhint("Send each file of the directory once, by its path.")));
	}

	pushed = set;
	cb = MemoryContextAllocZero(GetMemoryChunkContext(set),
								sizeof(MemoryContextCallback));
	cb->func = pushed_forget;
	cb->arg = set;
	MemoryContextRegisterResetCallback(GetMemoryChunkContext(set), cb);
}

/* Tells whether a path is the pushed set's root or lies below it. */
bool
files_pushed(const char *path)
{
	return pushed_path(path, "") != NULL;
}

/* Ends a pushed set's registration when its memory goes. */
static void
pushed_forget(void *arg)
{
	if (pushed == (PushedSet *) arg)
		pushed = NULL;
}

/*
 * Refuses a pushed file's name unless it is a relative path below the
 * directory, in UTF-8 that the database encoding holds: the disk's rules
 * for a name, plus what a path sent by anyone must not do.
 */
static void
check_pushed_name(const PushedFile *f)
{
	const char *why = NULL;

	if (f->pathlen == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pushed file name is empty")));
	if (memchr(f->path, '\0', f->pathlen) != NULL)
		why = "It holds a NUL byte.";
	else if (f->path[0] == '/')
		why = "It is an absolute path.";
	else
	{
		for (const char *p = f->path; why == NULL;)
		{
			size_t		n = strcspn(p, "/");

			if (n == 0)
				why = "It has an empty part: two slashes in a row, or one at its end.";
			else if (n == 2 && strncmp(p, "..", 2) == 0)
				why = "It has a \"..\" part, which leads out of the directory.";
			else if (n == 1 && p[0] == '.')
				why = "It has a \".\" part.";
			if (p[n] == '\0')
				break;
			p += n + 1;
		}
	}
	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pushed file name \"%s\" is not a path below the migration directory",
						shown(f->path)),
				 errdetail("%s", why),
				 errhint("Name each pushed file by its path relative to the migration directory, such as \"001_init.sql\".")));
	pfree(files_name_to_server(f->path));
}

/*
 * The path below the pushed set's root of relpath below dir ("" for the
 * root itself), or NULL when dir is no pushed directory.
 */
static const char *
pushed_path(const char *dir, const char *relpath)
{
	size_t		rootlen;
	const char *below;

	if (pushed == NULL)
		return NULL;
	rootlen = strlen(pushed->root);
	if (strncmp(dir, pushed->root, rootlen) != 0 ||
		(dir[rootlen] != '\0' && dir[rootlen] != '/'))
		return NULL;
	below = dir[rootlen] == '/' ? dir + rootlen + 1 : "";
	if (below[0] == '\0')
		return relpath;
	if (relpath[0] == '\0')
		return below;
	return psprintf("%s/%s", below, relpath);
}

/*
 * Compares two paths byte by byte with '/' before every other byte, so
 * that the paths below a directory follow its own entry, together.
 */
static int
cmp_paths(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b)
	{
		a++;
		b++;
	}
	return (*a == '\0' ? -1 : *a == '/' ? 0 : (unsigned char) *a) -
		(*b == '\0' ? -1 : *b == '/' ? 0 : (unsigned char) *b);
}

/* qsort comparator: PushedFile by path, in cmp_paths' order. */
static int
cmp_pushed(const void *a, const void *b)
{
	return cmp_paths(((const PushedFile *) a)->path,
					 ((const PushedFile *) b)->path);
}

/* The index of the first pushed file whose path sorts at or after path. */
static int
pushed_lower_bound(const char *path)
{
	int			lo = 0,
				hi = pushed->nfiles;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (cmp_paths(pushed->files[mid].path, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Tells whether a pushed file lies below the directory prefix names. */
static bool
pushed_below(const PushedFile *f, const char *prefix, int prefixlen)
{
	return f->pathlen > prefixlen && strncmp(f->path, prefix, prefixlen) == 0 &&
		f->path[prefixlen] == '/';
}

/* The pushed file or directory entry of that path, or NULL. */
static const PushedFile *
pushed_find(const char *path)
{
	int			i = pushed_lower_bound(path);

	if (i < pushed->nfiles && strcmp(pushed->files[i].path, path) == 0)
		return &pushed->files[i];
	return NULL;
}

/*
 * What a path of the pushed set is: a file, a directory (sent as one, or
 * holding files), or nothing.
 */
static FileKind
pushed_kind(const char *path)
{
	const PushedFile *f;
	int			i;

	if (path[0] == '\0')
		return FILE_DIRECTORY;
	f = pushed_find(path);
	if (f != NULL)
		return f->size < 0 ? FILE_DIRECTORY : FILE_REGULAR;
	i = pushed_lower_bound(path);
	if (i < pushed->nfiles && pushed_below(&pushed->files[i], path, strlen(path)))
		return FILE_DIRECTORY;
	return FILE_GONE;
}

/*
 * files_read of a pushed file: the same limit, the same text checks and
 * the same errors as for a file of the disk; its bytes come from the
 * set's reader.
 */
static FileText
pushed_read(const char *dir, const char *relpath, const char *what,
			bool missing_ok)
{
	char	   *path = psprintf("%s/%s", dir, relpath);
	const char *rel = pushed_path(dir, relpath);
	const PushedFile *f = pushed_find(rel);
	FileText	ft;
	int64		len;

	memset(&ft, 0, sizeof(ft));
	clock_gettime(CLOCK_REALTIME, &ft.read_at);
	if (f == NULL && pushed_kind(rel) != FILE_DIRECTORY)
	{
		if (missing_ok)
			return ft;
		errno = ENOENT;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("could not open %s \"%s\": %m", what, shown(path))));
	}
	if (f == NULL || f->size < 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s \"%s\" is not a regular file", what, shown(path))));

	CHECK_FOR_INTERRUPTS();
	ft.data = pushed->read(pushed, f, &len);
	if (len > (int64) mm_max_file_size * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s \"%s\" is too large", what, shown(path)),
				 errdetail("The file has %lld bytes; morgenmigrate.max_file_size allows %lld.",
						   (long long) len, (long long) mm_max_file_size * 1024)));
	ft.data[len] = '\0';
	ft.len = (int) len;
	ft.st.st_size = len;

	drop_bom(&ft);
	check_utf8(shown(relpath), &ft);
	pfree(path);
	return ft;
}

/*
 * files_dir_next of a pushed directory: the next name below it (a file,
 * or a directory that is sent as one or holds files), each once.
 */
static const char *
pushed_dir_next(FilesDir *d, FileKind *kind)
{
	while (d->next < pushed->nfiles)
	{
		const PushedFile *f = &pushed->files[d->next];
		const char *name = f->path + d->prefixlen;
		size_t		n;

		if (f->pathlen <= d->prefixlen ||
			strncmp(f->path, d->prefix, d->prefixlen) != 0)
			break;				/* past the directory's entries */
		d->next++;
		n = strcspn(name, "/");
		if (d->name != NULL && strlen(d->name) == n &&
			strncmp(d->name, name, n) == 0)
			continue;			/* below the entry last returned */
		if (d->name != NULL)
			pfree(d->name);
		d->name = pnstrdup(name, n);
		*kind = name[n] == '/' || f->size < 0 ? FILE_DIRECTORY : FILE_REGULAR;
		return d->name;
	}
	return NULL;
}

#ifdef __linux__
/*
 * statfs() f_type of the local file systems whose times and inode numbers
 * this server can vouch for: the kernel stamps a file's change time on
 * every write with this machine's clock, and an inode number stays with
 * its file (linux/magic.h and the file systems' own sources).  Every other
 * file system is not trusted: network file systems, whose clients cache
 * attributes and take their times from another machine's clock; FUSE,
 * whose inode numbers and times the daemon makes up; and any file system
 * this list does not know.
 */
static const int64 local_file_systems[] = {
	0xEF53,						/* ext2, ext3, ext4 */
	0x58465342,					/* XFS */
	0x9123683E,					/* Btrfs */
	0x2FC12FC1,					/* ZFS */
	0xF2F52010,					/* F2FS */
	0xCA451A4E,					/* bcachefs */
	0x52654973,					/* ReiserFS */
	0x3153464A,					/* JFS */
	0x3434,						/* NILFS */
	0x01021994,					/* tmpfs (/dev/shm and the like) */
	0x858458F6,					/* ramfs */
	0x794C7630,					/* overlayfs (containers) */
	0x73717368,					/* SquashFS, read-only */
	0xE0F5E1E2,					/* EROFS, read-only */
	0x9660,						/* ISO 9660, read-only */
};
#endif

/*
 * Tells whether the times and inode numbers that stat() gives for files of
 * the directory open as fd may be trusted to change whenever a file does
 * (the session's file cache and morgenmigrate.file_fingerprints), and
 * gives the directory's device: only on a local file system of Linux that
 * local_file_systems names, unless morgenmigrate.trust_network_fingerprints
 * says so.  Elsewhere, and where statfs() cannot tell, they are not.
 */
bool
files_fd_times_trusted(int fd, dev_t *device)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return false;
	*device = st.st_dev;
	if (mm_trust_network_fingerprints)
		return true;
#ifdef __linux__
	{
		struct statfs sfs;

		if (fstatfs(fd, &sfs) < 0)
			return false;
		for (int i = 0; i < lengthof(local_file_systems); i++)
			if ((int64) (uint32) sfs.f_type == local_file_systems[i])
				return true;
	}
#endif
	return false;
}

/*
 * files_fd_times_trusted of the directory at path (a pushed set has no
 * times: false).
 */
bool
files_times_trusted(const char *path, dev_t *device)
{
	int			fd;
	bool		trusted;

	if (pushed_path(path, "") != NULL)
		return false;
	fd = files_dir_fd(path);
	trusted = files_fd_times_trusted(fd, device);
	files_dir_fd_close(fd);
	return trusted;
}
