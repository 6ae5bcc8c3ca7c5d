/*-------------------------------------------------------------------------
 *
 * migration.h
 *	  The structures every module of morgenmigrate shares: a migration
 *	  directory and its migrations, and a migration script split into
 *	  statements.  Types only: the functions that make and use them are
 *	  declared by their modules' own headers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_MIGRATION_H
#define MORGENMIGRATE_MIGRATION_H

#include "postgres.h"

#include <sys/stat.h>

#include "nodes/nodes.h"
#include "nodes/pg_list.h"

#include "layout.h"
#include "morgenmigrate.h"

/* A migration found in the directory. */
typedef struct MigrationFile
{
	char	   *name;			/* the history key, in the database encoding:
								 * the up file's name, or its directory's */
	char	   *path;			/* the file holding the up migration, relative
								 * to the directory, as the file system names
								 * it */
	char	   *down_path;		/* the file holding its down migration (the
								 * same file for sections), or NULL */
	char	   *version;		/* the version as its runner reads it */
	char	   *description;	/* Flyway's description (repeatables sort by
								 * it), or NULL */
	EntryRole	role;			/* ROLE_UP, ROLE_REPEATABLE or ROLE_EXTERNAL */
	const char *what;			/* ROLE_EXTERNAL: what kind of migration */
	LayoutConfig config;		/* what the config file of its up file says */
	LayoutConfig down_config;	/* and that of its down file */
	bool		config_covers_down; /* what the up file's config says holds
									 * for the down part too */
	char	   *key;			/* what its down and config files name */
	const char *why;			/* why its layout reads it as a migration */

	/* what inspecting its file found (migration_inspect) */
	bool		inspected;
	struct stat file_stat;		/* the file as this inspection found it */
	char		checksum[MM_CHECKSUM_LEN + 1];
	FileSections sections;
} MigrationFile;

/*
 * What a file was proved to hold, kept in morgenmigrate.file_fingerprints
 * for a later session to trust while the file stays as it was: its
 * identity and times, its checksum, and what reading it found (facts,
 * packed by filecache.c).
 */
typedef struct FileFingerprint
{
	char	   *filename;		/* the history key */
	int64		device;
	int64		inode;
	int64		size;
	int64		mtime_ns;		/* nanoseconds since the epoch */
	int64		ctime_ns;
	char		checksum[MM_CHECKSUM_LEN + 1];
	char	   *facts;
	int			facts_len;
} FileFingerprint;

/* The fingerprints of one directory's files (filecache.c). */
typedef struct FingerprintSet FingerprintSet;

/* A down file without its up file. */
typedef struct MigrationOrphan
{
	char	   *name;			/* in the database encoding */
	char	   *path;			/* as the file system names it */
	char	   *key;			/* what up file it would belong to */
} MigrationOrphan;

/* A directory entry: a file, or a subdirectory. */
typedef struct DirEntry
{
	char	   *name;			/* as the file system names it */
	char	   *shown;			/* in the database encoding */
	bool		is_dir;
	bool		is_link;		/* is_dir, through a symbolic link */
} DirEntry;

/* A directory entry that is no migration, and why. */
typedef struct MigrationIgnored
{
	char	   *name;			/* in the database encoding */
	const char *why;
	bool		is_dir;			/* a hidden directory, or a link to one */
	bool		is_link;		/* is_dir, through a symbolic link */
} MigrationIgnored;

/* The migration files of one directory, in version order. */
typedef struct MigrationDir
{
	char	   *path;			/* absolute, canonical */
	LayoutFamily family;		/* what the names say */
	MigrationLayout names_layout;	/* what the names (or the setting) say */
	MigrationLayout layout;		/* what names and markers say, once every
								 * file is inspected (plan_entries) */
	MigrationLayout marked_layout;	/* whose markers the files carry */
	const char *marked_example; /* a file that carries them */
	const char *unmarked_example;	/* a file that carries none */
	int			nfiles;
	MigrationFile *files;		/* version order */
	List	   *orphans;		/* MigrationOrphan: down files without an up
								 * file */
	List	   *ignored;		/* MigrationIgnored: entries that are none */
	bool		ignored_pending;	/* not yet known (migration_dir_ignored) */

	/*
	 * A directory of the flat family whose layout only its files' markers
	 * tell is not settled when listed: files then holds every file that
	 * one of the family's layouts could read, inspected with scan_layout
	 * LAYOUT_AUTO, and migration_dir_settle reads entries again by the
	 * rules of the layout the markers tell.
	 */
	bool		keep_files;		/* the session keeps what it reads of the
								 * files (its second call on the directory,
								 * on a file system whose times it trusts) */
	dev_t		device;			/* the directory's, when keep_files: only
								 * files on it are kept */
	bool		fingerprints_wanted;	/* the fingerprints kept in the
										 * database would help: the session
										 * has not kept the files yet (its
										 * first two calls on the directory) */
	FingerprintSet *fingerprints;	/* what earlier sessions proved of the
									 * files, and what this call proves;
									 * NULL: none are trusted */
	int			nread;			/* files this call read and scanned (not
								 * served by the session's cache or a
								 * fingerprint) */
	bool		settled;
	bool		candidate_downs;	/* unsettled: NAME.down.sql files are
									 * among the files inspected */
	MigrationLayout scan_layout;	/* whose markers count: the layout, or
									 * LAYOUT_AUTO while unsettled */
	int			nentries;
	DirEntry   *entries;		/* the flat family's entries, as listed */
	const char *weak_example;	/* a file carrying weak markers only */
} MigrationDir;

/* One statement of a migration script. */
typedef struct MigrationStatement
{
	int			location;		/* byte offset in the script's text of its
								 * first token (comments before it are not
								 * its own) */
	int			length;			/* bytes, up to its semicolon */
	char	   *sql;			/* its text: in the script's text, where its
								 * semicolon became its terminating NUL */
	Node	   *parsetree;		/* its raw parse tree: top-level statements
								 * and SET only, else NULL */
	const char *top_level_what; /* what it is, such as "CREATE INDEX
								 * CONCURRENTLY" */
	const char *command;		/* its command tag, such as "ALTER TABLE" */
	int			group;			/* statements of one block (the author's
								 * BEGIN ... COMMIT, a runner's statement
								 * block) share a number > 0 */
	bool		top_level;		/* must run outside any transaction block */
} MigrationStatement;

/*
 * Per-file limits set by a directive comment, or for lock_timeout and
 * retries by the settings morgenmigrate.lock_timeout and .lock_retries when
 * the file does not say; -1 means "not set".
 */
typedef struct MigrationDirectives
{
	int			lock_timeout;	/* ms */
	int			statement_timeout;	/* ms */
	int			retries;		/* extra tries after a lock timeout */
	bool		allow_locked_rewrite;	/* may scan or rewrite a relation
										 * larger than
										 * morgenmigrate.max_locked_bytes */
} MigrationDirectives;

/* A migration file's text, split into statements. */
typedef struct MigrationScript
{
	const char *name;			/* file name, for messages (database
								 * encoding) */
	char	   *text;			/* database encoding; BOM dropped; LF only;
								 * once split, each statement's semicolon
								 * is a NUL (see MigrationStatement.sql) */
	int			len;
	char		checksum[MM_CHECKSUM_LEN + 1];
	int			nstatements;
	MigrationStatement *statements;
	MigrationDirectives directives;
	int			unwrapped;		/* BEGIN/COMMIT blocks whose wrappers were
								 * dropped */
	bool		needs_top_level;	/* it runs in steps: some statement is
									 * top_level, or it runs outside a
									 * transaction */
	MigrationSection section;	/* up or down */
	const char *runner;			/* whose markers cut it, or NULL */
	bool		no_transaction; /* its runner runs it outside a transaction */
	int			no_transaction_line;	/* the marker that says so, or 0 */
	const char *no_transaction_by;	/* what says so, for messages */
	FileSections sections;		/* where its sections and blocks are */
	bool		keep_trees;		/* set before script_prepare: keep every
								 * statement's parse tree (to classify
								 * them), in the current memory context */
	struct stat file_stat;		/* its file, as fstat() saw it when read */
	struct timespec read_at;	/* when it was read */
} MigrationScript;

/*
 * What a prepared script depends on beside the bytes of its file: the
 * directory's layout, its section and config file, and the settings the
 * parser and the preflight read.  Zeroed and filled by script_use and its
 * caller, compared as bytes.
 */
typedef struct ScriptUse
{
	MigrationLayout layout;		/* whose markers count */
	MigrationSection section;
	int			config_no_transaction;	/* what its config file says */
	int			mode;			/* the preflight's (PreflightMode) */
	int			backslash_quote;
	int			lock_timeout;	/* morgenmigrate.lock_timeout */
	int			lock_retries;	/* morgenmigrate.lock_retries */
} ScriptUse;

#endif							/* MORGENMIGRATE_MIGRATION_H */
