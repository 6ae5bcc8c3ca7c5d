/*-------------------------------------------------------------------------
 *
 * script.h
 *	  One migration file's text into statements with their lines, the
 *	  preflight that refuses what cannot run, and the directives of its
 *	  first lines.  The parser only: nothing here touches the database.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_SCRIPT_H
#define MORGENMIGRATE_SCRIPT_H

#include "postgres.h"

#include "utils/elog.h"

#include "migration.h"

/* What the preflight allows of the statements no transaction can hold. */
typedef enum PreflightMode
{
	PREFLIGHT_TRANSACTION,		/* none: every file runs in a transaction */
	PREFLIGHT_REHEARSAL,		/* note them: such files are not rehearsed */
	PREFLIGHT_STEPS				/* mark them: migrate_run runs them at top level */
} PreflightMode;

/* How far a caller counted the lines of a script, to count on from there. */
typedef struct ScriptCursor
{
	const MigrationScript *script;
	int			offset;			/* byte offset counted to */
	int			line;			/* the line it lies on */
} ScriptCursor;

extern void script_prepare(MigrationScript *script, PreflightMode mode);
extern bool script_use(ScriptUse *use, PreflightMode mode);
extern bool script_runs_as_one_batch(const MigrationScript *script);
extern void script_check_blocks(const char *name, const char *runner,
								const char *text, int len,
								const FileSections *sections);
extern int	script_statement_line(const MigrationScript *script,
								  const MigrationStatement *stmt);
extern int	script_statement_line_from(const MigrationScript *script,
									   const MigrationStatement *stmt,
									   ScriptCursor *cursor);
extern int	script_locate_error(const MigrationScript *script,
								const MigrationStatement *stmt,
								ErrorData *edata);

#endif							/* MORGENMIGRATE_SCRIPT_H */
