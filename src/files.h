/*-------------------------------------------------------------------------
 *
 * files.h
 *	  Every file and directory the extension reads, through one module:
 *	  morgenmigrate.allowed_directories checked on the resolved path,
 *	  regular files only and never blocking on anything else, the size
 *	  limit, decoding and conversion of texts and of names, interruptible.
 *	  Nothing else in src/ opens a file or lists a directory (a test of the
 *	  suite checks it).  A directory may also be a set of files sent over
 *	  the connection (a push): read through the same functions, by the
 *	  same rules, but from memory and a reader instead of the disk.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_FILES_H
#define MORGENMIGRATE_FILES_H

#include "postgres.h"

#include <sys/stat.h>
#include <time.h>

/* A file's text as read: UTF-8 checked, BOM dropped, line ends as they are. */
typedef struct FileText
{
	char	   *data;			/* NUL-terminated; NULL: the file is missing */
	int			len;
	bool		bom;			/* the file began with a byte-order mark */
	struct stat st;				/* the file when it was opened */
	struct timespec read_at;	/* the time just before it was opened */
} FileText;

/* What a directory entry is, links followed. */
typedef enum FileKind
{
	FILE_GONE,					/* removed since the directory was read */
	FILE_REGULAR,
	FILE_DIRECTORY,
	FILE_OTHER					/* a FIFO, a socket, a device: never opened */
} FileKind;

/* A directory being listed (files_dir_open). */
typedef struct FilesDir FilesDir;

/* A file of a pushed set: its path below the set's root, and its size. */
typedef struct PushedFile
{
	char	   *path;			/* its names joined by '/', in the bytes sent */
	int			pathlen;		/* bytes of path (a NUL among them is refused) */
	int64		size;			/* bytes; -1: a directory */
	void	   *where;			/* where the set's reader finds its bytes */
} PushedFile;

struct PushedSet;

/*
 * Reads a pushed file's bytes into memory of at least *len + 1 bytes,
 * setting *len to their number.
 */
typedef char *(*PushedReader) (const struct PushedSet *set,
							   const PushedFile *file, int64 *len);

/*
 * A set of files sent over the connection, read in place of a directory
 * of the server: files_push makes its root a directory of files.c's.
 */
typedef struct PushedSet
{
	char	   *root;			/* stands for the directory in paths and
								 * messages; never an absolute path */
	int			nfiles;
	PushedFile *files;
	PushedReader read;
	void	   *arg;			/* the reader's */
} PushedSet;

extern char *files_check_directory(const char *dir);
extern FileText files_read(const char *dir, const char *relpath,
						   const char *what, bool missing_ok);
extern char *files_text_to_server(const FileText *ft, const char *shown);
extern char *files_name_to_server(const char *name);
extern char *files_shown(const char *s);

extern FilesDir *files_dir_open(const char *path);

/*
 * Called by files_dir_walk with the directory's own stat() first (name
 * NULL), then with each entry and its lstat(); false stops the walk.
 */
typedef bool (*FilesWalkFn) (const char *name, const struct stat *st,
							 void *arg);
extern bool files_dir_walk(const char *path, FilesWalkFn fn, void *arg);
extern const char *files_dir_next(FilesDir *d, FileKind *kind, bool *plain);
extern void files_dir_close(FilesDir *d);
extern FileKind files_kind(const char *dir, const char *relpath);
extern FileKind files_probe_kind(const char *dir, const char *relpath);
extern bool files_is_link(const char *dir, const char *relpath);
extern int	files_dir_fd(const char *path);
extern void files_dir_fd_close(int dirfd);
extern void files_push(PushedSet *set);
extern bool files_pushed(const char *path);
extern bool files_fd_times_trusted(int fd, dev_t *device);
extern bool files_times_trusted(const char *path, dev_t *device);

#endif							/* MORGENMIGRATE_FILES_H */
