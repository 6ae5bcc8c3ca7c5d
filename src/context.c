/*-------------------------------------------------------------------------
 *
 * context.c
 *	  Where a migration's error happened: the error context line that
 *	  names the file and the line (for notices too), moved onto the line of
 *	  the error's position, SPI's "SQL statement" line dropped, and the
 *	  hints whose fix is known.  The model is PL/pgSQL's error context
 *	  callback ("PL/pgSQL function f() line 3 at RAISE").
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"

#include "citus.h"
#include "context.h"
#include "script.h"

/* Set by a module above (drift.c): adds what it knows to an error. */
ContextExplainHook context_explain_hook = NULL;

static char *context_line(const MigrationScript *script, int line);
static void replace_context_line(ErrorData *edata, const char *ours,
								 const char *replacement, const char *sql);

/* The context line that says where in a file something happened. */
static char *
context_line(const MigrationScript *script, int line)
{
	if (line > 0)
		return psprintf("migration \"%s\", line %d", script->name, line);
	return psprintf("migration \"%s\"", script->name);
}

/*
 * Error context while a file runs: the file and the line of the statement
 * (for notices too), or what runs after the statements.  Errors get a more
 * precise line in annotate_error.  errcontext() formats into the error's
 * own memory, freed with it: nothing stays behind per notice.
 */
void
context_callback(void *arg)
{
	ContextPlace   *state = (ContextPlace *) arg;

	if (state->stmt != NULL)
	{
		if (state->line == 0)
			state->line = script_statement_line(state->script, state->stmt);
		errcontext("migration \"%s\", line %d", state->script->name,
				   state->line);
	}
	else if (state->phase != NULL)
		errcontext("migration \"%s\", %s", state->script->name,
				   state->phase);
	else
		errcontext("migration \"%s\"", state->script->name);
}

/*
 * Makes an error of a migration point at its line: the context line the
 * callback wrote becomes the line of the error's position (when it has one
 * in the statement), SPI's "SQL statement" line goes (the file and line say
 * more), and a hint is added where the fix is known.  Returns the line.
 */
int
context_annotate(ContextPlace *state, ErrorData *edata)
{
	int			line = 0;

	if (state->stmt != NULL)
	{
		char	   *ours = context_line(state->script, state->line);

		line = script_locate_error(state->script, state->stmt, edata);
		replace_context_line(edata, ours, context_line(state->script, line),
							 state->stmt->sql);
		if (context_explain_hook != NULL)
			context_explain_hook(state->stmt->sql, edata);
	}
	citus_explain_error(edata);

	if (edata->sqlerrcode == ERRCODE_ACTIVE_SQL_TRANSACTION &&
		edata->hint == NULL)
		edata->hint = pstrdup("Every migration file runs inside a transaction block; run this statement outside the migration set.");
	if (edata->sqlerrcode == ERRCODE_UNSAFE_NEW_ENUM_VALUE_USAGE)
		edata->hint = psprintf("%s%sCALL morgenmigrate.migrate_run() commits after each file, so a later file can use the new value.",
							   edata->hint ? edata->hint : "",
							   edata->hint ? " " : "");
	return line;
}

/*
 * Replaces the context line ours with replacement, dropping SPI's
 * "SQL statement" line for sql right before it.  When ours is not there
 * (an error re-thrown without context), appends the replacement.
 */
static void
replace_context_line(ErrorData *edata, const char *ours,
					 const char *replacement, const char *sql)
{
	const char *ctx = edata->context ? edata->context : "";
	char	   *spi_line = psprintf(dgettext(PG_TEXTDOMAIN("postgres"),
											 "SQL statement \"%s\""), sql);
	size_t		ourslen = strlen(ours);
	size_t		spilen = strlen(spi_line);
	const char *at = ctx;
	const char *before;
	StringInfoData buf;

	/* find ours as a whole line */
	while ((at = strstr(at, ours)) != NULL)
	{
		if ((at == ctx || at[-1] == '\n') &&
			(at[ourslen] == '\0' || at[ourslen] == '\n'))
			break;
		at++;
	}

	initStringInfo(&buf);
	if (at == NULL)
	{
		appendStringInfo(&buf, "%s%s%s", ctx, ctx[0] ? "\n" : "", replacement);
		edata->context = buf.data;
		return;
	}

	before = at;
	if (at - ctx >= spilen + 1 && at[-1] == '\n' &&
		strncmp(at - 1 - spilen, spi_line, spilen) == 0 &&
		(at - 1 - spilen == ctx || at[-2 - spilen] == '\n'))
		before = at - 1 - spilen;

	appendBinaryStringInfo(&buf, ctx, before - ctx);
	appendStringInfoString(&buf, replacement);
	appendStringInfoString(&buf, at + ourslen);
	edata->context = buf.data;
}
