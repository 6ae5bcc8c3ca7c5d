/*-------------------------------------------------------------------------
 *
 * morgenmigrate.h
 *	  The few structures the modules of morgenmigrate share: a migration
 *	  directory and its files, a migration script split into statements,
 *	  the history, and the outcome of running one file.
 *
 * Data flows one way: source.c finds and reads files, script.c splits and
 * checks them, plan.c compares them with history.c's rows, runner.c runs
 * them, and morgenmigrate.c holds the SQL-callable functions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_H
#define MORGENMIGRATE_H

#include "postgres.h"

#include "common/sha2.h"
#include "datatype/timestamp.h"
#include "nodes/nodes.h"
#include "nodes/pg_list.h"
#include "utils/resowner.h"
#include "utils/elog.h"

#include "layout.h"

/* The schema every object of the extension lives in (not relocatable). */
#define MM_SCHEMA "morgenmigrate"

/*
 * The advisory lock every history writer takes, as pg_advisory_lock(bigint)
 * would with this key: 0x6d6f7267656e6d6d, "morgenmm" in ASCII.
 */
#define MM_LOCK_KEY INT64CONST(7885647260957961581)

/* Length of a checksum in hex, without the terminating zero. */
#define MM_CHECKSUM_LEN (PG_SHA256_DIGEST_LENGTH * 2)

/* Settings (morgenmigrate.c) */
extern char *mm_allowed_directories;
extern int	mm_max_file_size;	/* kB */
extern int	mm_lock_timeout;	/* ms, a file's lock_timeout by default */
extern int	mm_lock_retries;	/* a file's retries by default */

/* ----------------------------------------------------------------
 * source.c: the migration directory
 * ----------------------------------------------------------------
 */

/* A migration found in the directory. */
typedef struct MigrationFile
{
	char	   *name;			/* the history key: the up file's name, or
								 * the directory's (diesel) */
	char	   *path;			/* the file holding the up migration, relative
								 * to the directory */
	char	   *down_path;		/* the file holding its down migration (the
								 * same file for sections), or NULL */
	char	   *version;		/* the version as its runner reads it */
	char	   *description;	/* Flyway's description (repeatables sort by
								 * it), or NULL */
	EntryRole	role;			/* ROLE_UP, ROLE_REPEATABLE or ROLE_EXTERNAL */
	const char *what;			/* ROLE_EXTERNAL: what kind of migration */
	int8		config_no_transaction;	/* a config file beside it says: 1
										 * outside a transaction, 0 inside,
										 * -1 nothing */
	char	   *key;			/* what its down and config files name */
} MigrationFile;

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
	List	   *orphans;		/* names of down files without an up file */
} MigrationDir;

/* One statement of a migration script. */
typedef struct MigrationStatement
{
	int			location;		/* byte offset in the script's text */
	int			length;			/* bytes */
	char	   *sql;			/* the statement's own text */
	Node	   *parsetree;		/* its raw parse tree: top-level statements
								 * and SET only, else NULL */
	bool		top_level;		/* must run outside any transaction block */
	const char *top_level_what; /* what it is, such as "CREATE INDEX
								 * CONCURRENTLY" */
	int			group;			/* statements of one block (the author's
								 * BEGIN ... COMMIT, a runner's statement
								 * block) share a number > 0 */
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
} MigrationDirectives;

/* A migration file's text, split into statements. */
typedef struct MigrationScript
{
	const char *name;			/* file name, for messages */
	char	   *text;			/* server encoding; BOM dropped; LF only */
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
} MigrationScript;

/* What the preflight allows of the statements no transaction can hold. */
typedef enum PreflightMode
{
	PREFLIGHT_TRANSACTION,		/* none: every file runs in a transaction */
	PREFLIGHT_REHEARSAL,		/* note them: such files are not rehearsed */
	PREFLIGHT_STEPS				/* mark them: migrate_run runs them at top level */
} PreflightMode;

extern char *migration_dir_check(const char *dir);
extern MigrationDir *migration_dir_list(const char *path);
extern MigrationDir *migration_dir_copy(const MigrationDir *src);
extern bool migration_name_matches(const char *name, const char *target);
extern bool migration_file_matches(const MigrationDir *dir,
								   const MigrationFile *file,
								   const char *target);
extern int	migration_dir_open(const MigrationDir *dir);
extern void migration_dir_close(int dirfd);
extern void migration_inspect(MigrationDir *dir, int dirfd,
							  const MigrationFile *file,
							  char *checksum, FileSections *sections);
extern void migration_dir_settle(MigrationDir *dir);
extern MigrationScript *migration_read(const MigrationDir *dir,
									   const char *name, const char *path,
									   MigrationSection section);
extern const char *migration_down_file(const MigrationDir *dir,
									   const char *name);
extern const MigrationFile *migration_find(const MigrationDir *dir,
										   const char *name);

/* ----------------------------------------------------------------
 * script.c: one file's text into statements, the preflight, directives
 * ----------------------------------------------------------------
 */
extern void script_prepare(MigrationScript *script, PreflightMode mode);
extern char *script_statement_text(const MigrationStatement *stmt);
extern int	script_statement_line(const MigrationScript *script,
								  const MigrationStatement *stmt);
extern int	script_locate_error(const MigrationScript *script,
								const MigrationStatement *stmt,
								ErrorData *edata);

/* ----------------------------------------------------------------
 * history.c: every query on schema_migrations and migration_errors
 * ----------------------------------------------------------------
 */

/* One row of schema_migrations. */
typedef struct HistoryRow
{
	char	   *filename;
	TimestampTz applied_at;
	char	   *checksum;
	int64		duration;		/* microseconds */
	bool		baseline;		/* kind = 'baseline' */
	bool		adopted;		/* kind = 'adopted' */
} HistoryRow;

/* One row of migration_errors. */
typedef struct FailureRow
{
	char	   *filename;
	TimestampTz failed_at;
	char	   *sqlstate;
	char	   *message;
	char	   *detail;
	char	   *hint;
	int			line;			/* 0 when unknown */
} FailureRow;

/* Both tables, each sorted by file name for lookups. */
typedef struct History
{
	int			nrows;
	HistoryRow *rows;
	int			nfailures;
	FailureRow *failures;
} History;

extern History *history_load(void);
extern List *history_in_apply_order(const History *history);
extern HistoryRow *history_find(const History *history, const char *filename);
extern FailureRow *history_find_failure(const History *history,
										const char *filename);
extern void history_record(const char *filename, const char *checksum,
						   TimestampTz applied_at, int64 duration,
						   bool baseline);
extern void history_record_adopted(const char *filename, const char *checksum,
								   TimestampTz applied_at);
extern bool history_forget(const char *filename);
extern void history_set_checksum(const char *filename, const char *checksum);
extern void history_record_failure(const char *filename, TimestampTz failed_at,
								   const ErrorData *edata, int line);
extern bool history_clear_failure(const char *filename);
extern char *failure_text(const FailureRow *failure);
extern Datum interval_datum(int64 usecs);

/* ----------------------------------------------------------------
 * plan.c: the directory against the history
 * ----------------------------------------------------------------
 */
typedef enum MigrationState
{
	MS_APPLIED,
	MS_BASELINE,
	MS_PENDING,
	MS_CHANGED,
	MS_MISSING,
	MS_FAILED,
	MS_ORPHAN,
	MS_EXTERNAL,				/* pending, but only its own runner can run it */
	MS_OUTDATED					/* a repeatable migration changed since it ran */
} MigrationState;

/* One file or history row, with its state. */
typedef struct MigrationEntry
{
	const char *filename;
	MigrationState state;
	const MigrationFile *file;	/* NULL when missing or orphan */
	const HistoryRow *applied;	/* NULL when never applied */
	const FailureRow *failure;	/* the last failure, or NULL */
	char		checksum[MM_CHECKSUM_LEN + 1];	/* of the file, "" if unread */
	FileSections sections;		/* of the file, as inspected */
} MigrationEntry;

extern List *plan_entries(MigrationDir *dir, const History *history);
extern const char *migration_state_name(MigrationState state);
extern List *plan_pending(const MigrationDir *dir, List *entries,
						  const char *target, int steps, bool warn_order);
extern void plan_refuse_changed(List *entries);
extern void plan_warn_missing(List *entries);

/* ----------------------------------------------------------------
 * runner.c: running a script
 * ----------------------------------------------------------------
 */

/* What became of one file. */
typedef struct MigrationOutcome
{
	bool		ok;
	int			statements;		/* statements that completed */
	int64		duration;		/* microseconds */
	TimestampTz finished_at;
	ErrorData  *error;			/* when !ok, with the migration's context */
	int			error_line;		/* the line the error points at */
} MigrationOutcome;

extern void runner_lock_history(void);
extern void runner_lock_history_session(void);
extern void runner_unlock_history_session(void);
extern void runner_report_progress(const char *filename, int k, int n);
extern void runner_report_done(void);
extern void run_script(const MigrationScript *script, bool catch_error,
					   MigrationOutcome *outcome);
extern void run_script_in_steps(const MigrationScript *script,
								MigrationOutcome *outcome);

/* The relation locks a backend holds, with the catalog as it was then. */
typedef struct HeldLocks HeldLocks;

extern ErrorData *runner_subxact_catch(MemoryContext cxt,
										ResourceOwner owner);
extern void runner_subxact_rollback(MemoryContext cxt, ResourceOwner owner);
extern HeldLocks *runner_locks_held(void);
extern Datum runner_locks_taken(HeldLocks *before);
extern void runner_note_held_locks(int nrehearsed);

/* ----------------------------------------------------------------
 * worker.c: one statement at top level, in a background worker
 * ----------------------------------------------------------------
 */
extern void worker_execute(const char *sql, const char *migration);
extern bool worker_still_running(void);
extern bool worker_build_marked(Oid indexoid);

#endif							/* MORGENMIGRATE_H */
