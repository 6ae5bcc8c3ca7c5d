/*-------------------------------------------------------------------------
 *
 * script.c
 *	  One migration file's text: its directive comment, its statements as
 *	  the server's own parser splits them, the preflight that refuses what
 *	  cannot run inside a migration, and turning positions into lines.
 *	  No SPI: nothing here runs a statement.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "commands/defrem.h"
#include "mb/pg_wchar.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "citus.h"
#include "layout.h"
#include "migration.h"
#include "morgenmigrate.h"
#include "script.h"

/*
 * Bytes of a file parsed at a time.  The parse trees of a statement take
 * ten to twenty times its text: a file of many statements (a data load of
 * 100,000 INSERTs) is parsed a piece at a time, each piece ending at a
 * semicolon that ends a statement, so that its trees never all exist at
 * once.  A piece of 64 kB takes about a megabyte to parse.
 */
#define PARSE_PIECE_BYTES (64 * 1024)

/* How a file's statements stand towards the author's BEGIN ... COMMIT. */
typedef struct WrapperState
{
	bool		candidate;		/* every statement so far fits blocks */
	bool		inside;			/* within a block */
	int			nblocks;		/* blocks begun so far */
} WrapperState;

/* What script_prepare keeps while it goes through a file's pieces. */
typedef struct SplitState
{
	MigrationScript *script;
	PreflightMode mode;
	MemoryContext cxt;			/* the caller's: statements, kept trees */
	int			allocated;		/* entries of script->statements */
	int			nparsed;		/* statements the parser found so far */
	WrapperState wrap;
	MigrationStatement first;	/* the first statement, if BEGIN */
	ErrorData  *deferred;		/* the first statement the preflight
								 * refused, raised once the whole file
								 * parsed */
} SplitState;

static int	piece_end(MigrationScript *script, int pos, int window);
static bool parse_piece(MigrationScript *script, int pos, int cut,
						List **raw);
static void take_statement(SplitState *st, RawStmt *rs, int base);
static int	wrapper_step(WrapperState *w, Node *stmt, bool first);
static void refuse_transaction_statement(const MigrationScript *script,
										 const MigrationStatement *stmt,
										 const char *command);
static int	statement_start(const char *text, int len, const RawStmt *rs,
							int base, int *end);
static void parse_error_callback(void *arg);
static void refuse_copy_data(const MigrationScript *script, int offset);
static void parse_directives(MigrationScript *script);
static void parse_directive(MigrationScript *script, const char *item,
							int line);
static int	find_wrappers(List *raw, int *groups);
static int	runner_block_of(const MigrationScript *script, int location);
static void refuse_mixed_blocks(const MigrationScript *script);
static void preflight_transaction(MigrationScript *script, PreflightMode mode);
static void default_lock_directives(MigrationScript *script);
static bool is_wrapper_begin(Node *stmt);
static bool is_wrapper_commit(Node *stmt);
static void preflight_statement(MigrationScript *script,
								MigrationStatement *stmt, PreflightMode mode);
static const char *needs_top_level(Node *node, const char **hint,
								   bool *runnable);
static bool subscription_creates_slot(CreateSubscriptionStmt *stmt);
static int	byte_offset_of_char(const char *text, int len, int charpos);
static int	first_token(const char *text, int len);
static void place_statement(MigrationStatement *stmt, char *text, int len,
							const RawStmt *rs, int base);
static int	script_line_at(const MigrationScript *script, int offset);

/*
 * Splits a script into statements and runs the preflight on each: reads
 * the directive comment, parses the text (a syntax error points at its
 * line in the file), skips the BEGIN/COMMIT pairs of a file made of such
 * blocks, and refuses every statement that cannot run inside the file's
 * transaction, before anything runs.  A syntax error anywhere is reported
 * before any refusal, and the first refused statement before the others,
 * as if the whole text were parsed at once.  The parse trees are freed
 * piece by piece (memory stays near the file's size, not ten times it),
 * but for those a run in steps needs, or all of them with keep_trees, for
 * the classification of what each statement costs.
 */
void
script_prepare(MigrationScript *script, PreflightMode mode)
{
	SplitState	st;
	int			pos;
	int			window = PARSE_PIECE_BYTES;
	MemoryContext piececxt = script->keep_trees ? NULL :
		AllocSetContextCreate(CurrentMemoryContext, "morgenmigrate parse",
							  ALLOCSET_DEFAULT_SIZES);

	memset(&st, 0, sizeof(st));
	st.script = script;
	st.mode = mode;
	st.cxt = CurrentMemoryContext;
	st.allocated = 16;
	script->statements = palloc0(sizeof(MigrationStatement) * st.allocated);
	script->nstatements = 0;
	script->unwrapped = 0;

	parse_directives(script);
	pos = first_token(script->text, script->len);
	while (pos < script->len)
	{
		int			cut = piece_end(script, pos, window);
		List	   *raw;
		ListCell   *lc;
		bool		parsed;

		if (piececxt != NULL)
			MemoryContextSwitchTo(piececxt);
		parsed = parse_piece(script, pos, cut, &raw);
		MemoryContextSwitchTo(st.cxt);
		if (!parsed)
		{
			/* it ended inside a statement (a BEGIN ATOMIC body): longer */
			window *= 2;
			if (piececxt != NULL)
				MemoryContextReset(piececxt);
			continue;
		}
		foreach(lc, raw)
			take_statement(&st, lfirst_node(RawStmt, lc), pos);
		if (piececxt != NULL)
			MemoryContextReset(piececxt);
		pos = cut + first_token(script->text + cut, script->len - cut);
		window = PARSE_PIECE_BYTES;
	}
	if (piececxt != NULL)
		MemoryContextDelete(piececxt);

	/* a file that began with BEGIN but is no set of blocks */
	if (st.wrap.candidate && st.wrap.inside)
		st.wrap.candidate = false;
	if (!st.wrap.candidate && st.first.command != NULL)
		refuse_transaction_statement(script, &st.first, st.first.command);
	if (st.deferred != NULL)
		ReThrowError(st.deferred);
	if (st.wrap.candidate)
		script->unwrapped = st.wrap.nblocks;
	if (script->nstatements < st.allocated && script->nstatements > 0)
		script->statements = repalloc(script->statements,
									  sizeof(MigrationStatement) *
									  script->nstatements);

	refuse_mixed_blocks(script);
	preflight_transaction(script, mode);
	default_lock_directives(script);
}

/*
 * Takes one statement the parser found (its locations base bytes into the
 * text): a wrapper's BEGIN or COMMIT is dropped; any other gets its place,
 * its command, its group and the preflight.  The first refusal is kept
 * for the end of the file, when no syntax error came after it.
 */
static void
take_statement(SplitState *st, RawStmt *rs, int base)
{
	MigrationScript *script = st->script;
	MigrationStatement *stmt;
	int			group = wrapper_step(&st->wrap, rs->stmt, st->nparsed == 0);

	if (st->nparsed++ == 0 && group < 0)
	{
		/* kept to refuse it if the file turns out to be no set of blocks */
		st->first.location = statement_start(script->text, script->len, rs,
											 base, NULL);
		st->first.command = CreateCommandName(rs->stmt);
	}
	if (group < 0)
		return;					/* a wrapper's BEGIN or COMMIT */

	if (script->nstatements == st->allocated)
	{
		st->allocated *= 2;
		script->statements = repalloc(script->statements,
									  sizeof(MigrationStatement) *
									  st->allocated);
	}
	stmt = &script->statements[script->nstatements++];
	memset(stmt, 0, sizeof(MigrationStatement));
	place_statement(stmt, script->text, script->len, rs, base);
	stmt->parsetree = rs->stmt;
	stmt->command = CreateCommandName(rs->stmt);
	stmt->group = group > 0 ? group :
		runner_block_of(script, stmt->location);

	if (st->deferred == NULL)
	{
		PG_TRY();
		{
			preflight_statement(script, stmt, st->mode);
		}
		PG_CATCH();
		{
			/* the preflight reads the parse tree alone: it holds nothing */
			MemoryContextSwitchTo(st->cxt);
			st->deferred = CopyErrorData();
			FlushErrorState();
		}
		PG_END_TRY();
	}

	/* the trees run in steps need later; the others SPI parses again */
	if (!script->keep_trees)
		stmt->parsetree = stmt->top_level ||
			IsA(rs->stmt, VariableSetStmt) ?
			copyObject(rs->stmt) : NULL;
}

/*
 * Fills in what script_prepare in this mode reads beside the script: the
 * settings the parser and the preflight follow.  False when the parse
 * itself may speak (without standard_conforming_strings, the lexer warns
 * of backslashes in strings): then a script must be prepared anew each
 * time, for its warnings.
 */
bool
script_use(ScriptUse *use, PreflightMode mode)
{
	memset(use, 0, sizeof(ScriptUse));
	use->mode = mode;
	use->backslash_quote = backslash_quote;
	use->lock_timeout = mm_lock_timeout;
	use->lock_retries = mm_lock_retries;
	return standard_conforming_strings;
}

/*
 * Gives a file whose directives set no lock_timeout or retries those of
 * the settings morgenmigrate.lock_timeout and morgenmigrate.lock_retries.
 * A file with a statement that must run outside a transaction (CREATE
 * INDEX CONCURRENTLY and the like) keeps the caller's: such a statement
 * takes no lock that stops reads or writes of its table, and it waits by
 * design for every older transaction to end, which a short lock_timeout
 * would turn into failures.
 */
static void
default_lock_directives(MigrationScript *script)
{
	for (int i = 0; i < script->nstatements; i++)
	{
		if (script->statements[i].top_level)
		{
			if (script->directives.retries < 0)
				script->directives.retries = 0;
			return;
		}
	}
	if (script->directives.lock_timeout < 0 && mm_lock_timeout > 0)
		script->directives.lock_timeout = mm_lock_timeout;
	if (script->directives.retries < 0)
		script->directives.retries = mm_lock_retries;
}

/*
 * Finds the author's own transaction blocks: a file made of BEGIN ...
 * COMMIT blocks with nothing but comments between them (one block wrapped
 * around the whole file is the common case).  Marks the BEGINs and
 * COMMITs -1 and the statements of the k-th block k in groups, and
 * returns the number of blocks; 0 (and groups all 0) when the file is not
 * made of such blocks.
 */
static int
find_wrappers(List *raw, int *groups)
{
	WrapperState w;
	ListCell   *lc;

	memset(&w, 0, sizeof(w));
	foreach(lc, raw)
	{
		int			i = foreach_current_index(lc);

		groups[i] = wrapper_step(&w, lfirst_node(RawStmt, lc)->stmt, i == 0);
	}
	if (w.candidate && !w.inside)
		return w.nblocks;
	memset(groups, 0, sizeof(int) * list_length(raw));
	return 0;
}

/*
 * Follows the author's blocks one statement further (the file's first
 * statement when first): -1 for a block's BEGIN or COMMIT, the block's
 * number for a statement inside one, 0 once the file is no set of blocks
 * (its first statement is no BEGIN, a statement lies outside the blocks,
 * or a transaction statement inside one).  A file still a candidate at
 * its end must not be inside a block.
 */
static int
wrapper_step(WrapperState *w, Node *stmt, bool first)
{
	if (first)
		w->candidate = is_wrapper_begin(stmt);
	if (!w->candidate)
		return 0;
	if (!w->inside && is_wrapper_begin(stmt))
	{
		w->inside = true;
		w->nblocks++;
		return -1;
	}
	if (w->inside && is_wrapper_commit(stmt))
	{
		w->inside = false;
		return -1;
	}
	if (w->inside && !IsA(stmt, TransactionStmt))
		return w->nblocks;
	w->candidate = false;
	return 0;
}

/*
 * The group of a statement at this offset that lies in a statement block
 * of its runner (goose's and sql-migrate's StatementBegin ... End), which
 * the runner sends as one statement; 0 for none.  Numbered after the
 * author's BEGIN ... COMMIT blocks.
 */
static int
runner_block_of(const MigrationScript *script, int location)
{
	const FileSections *s = &script->sections;

	for (int k = 0; k < s->nblocks; k++)
	{
		if (location >= s->blocks[k].start && location < s->blocks[k].end)
			return script->unwrapped + 1 + k;
	}
	return 0;
}

/*
 * Refuses a statement block of a runner's (the statements it sends in one
 * round trip) that holds, beside others, a statement no transaction block
 * can hold: the server runs the statements of one round trip as one
 * transaction, where that statement fails, so the runner cannot run the
 * block.  A block of that statement alone runs outside any transaction.
 */
static void
refuse_mixed_blocks(const MigrationScript *script)
{
	for (int i = 0; i < script->nstatements; i++)
	{
		const MigrationStatement *stmt = &script->statements[i];
		int			others = 0;

		if (!stmt->top_level || stmt->group <= script->unwrapped)
			continue;
		for (int j = 0; j < script->nstatements; j++)
			if (j != i && script->statements[j].group == stmt->group)
				others++;
		if (others > 0)
			ereport(ERROR,
					(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
					 errmsg("%s cannot run in one batch with other statements",
							stmt->top_level_what),
					 errdetail("%s sends these %d statements to the server together, which runs them as one transaction, and %s cannot run inside a transaction block.",
							   script->runner ? script->runner : "Its runner",
							   others + 1, stmt->top_level_what),
					 errhint("Move the statement into a migration of its own."),
					 errcontext("migration \"%s\", line %d", script->name,
								script_statement_line(script, stmt))));
	}
}

/*
 * Refuses, when a directory is read, what refuse_mixed_blocks refuses in
 * the up part of a file, so that a directory its runner cannot run is
 * refused before any call runs it.  A text that does not parse is left to
 * the preflight, which reports it.
 */
void
script_check_blocks(const char *name, const char *runner, const char *text,
					int len, const FileSections *sections)
{
	MemoryContext cxt = CurrentMemoryContext;
	MigrationScript script;
	List	   *volatile raw = NIL;
	int		   *groups;
	ListCell   *lc;

	if (sections->nblocks == 0)
		return;
	memset(&script, 0, sizeof(script));
	script.name = (char *) name;
	script.runner = runner;
	script.sections = *sections;
	script.text = layout_cut_section(name, text, len, sections, SECTION_UP);
	if (script.text == NULL)
		return;
	script.len = strlen(script.text);

	/* only the raw parser runs here, which holds no resources */
	PG_TRY();
	{
		raw = pg_parse_query(script.text);
	}
	PG_CATCH();
	{
		layout_catch_unreadable(cxt);
		raw = NIL;
	}
	PG_END_TRY();

	groups = palloc0(sizeof(int) * Max(list_length(raw), 1));
	script.unwrapped = find_wrappers(raw, groups);
	script.statements = palloc0(sizeof(MigrationStatement) *
								Max(list_length(raw), 1));
	foreach(lc, raw)
	{
		RawStmt    *rs = lfirst_node(RawStmt, lc);
		MigrationStatement *stmt;
		const char *hint;
		bool		runnable;

		if (groups[foreach_current_index(lc)] < 0)
			continue;
		stmt = &script.statements[script.nstatements++];
		place_statement(stmt, script.text, script.len, rs, 0);
		stmt->group = groups[foreach_current_index(lc)] > 0 ?
			groups[foreach_current_index(lc)] :
			runner_block_of(&script, stmt->location);
		stmt->top_level_what = needs_top_level(rs->stmt, &hint, &runnable);
		stmt->top_level = stmt->top_level_what != NULL;
	}
	refuse_mixed_blocks(&script);
}

/*
 * Tells whether a script's statements are all one block of its runner's,
 * sent to the server in one round trip, which runs them as one
 * transaction (diesel's file without a transaction of diesel's).
 */
bool
script_runs_as_one_batch(const MigrationScript *script)
{
	for (int i = 0; i < script->nstatements; i++)
	{
		if (script->statements[i].group <= script->unwrapped ||
			script->statements[i].group != script->statements[0].group)
			return false;
	}
	return script->nstatements > 0;
}

/*
 * What a file as a whole needs: a file its runner runs outside a
 * transaction, or made of several transaction blocks of its author's,
 * runs in steps under migrate_run (committing at each statement or each
 * COMMIT, as its runner or psql would); migrate_apply refuses the first
 * (naming migrate_run) and runs the second as one unit; a rehearsal cannot
 * rehearse the first.
 */
static void
preflight_transaction(MigrationScript *script, PreflightMode mode)
{
	if (script->no_transaction && mode == PREFLIGHT_TRANSACTION)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("migration \"%s\" must run outside a transaction",
						script->name),
				 script_runs_as_one_batch(script) ?
				 errdetail("It is marked so by %s; its runner sends such a migration to the server in one batch, which the server runs as one transaction of its own.",
						   script->no_transaction_by) :
				 errdetail("It is marked so by %s; its runner runs such a migration statement by statement, each statement in a transaction of its own.",
						   script->no_transaction_by),
				 script->section == SECTION_DOWN ?
				 errhint("CALL morgenmigrate.migrate_run_rollback() runs a down migration that way.") :
				 errhint("CALL morgenmigrate.migrate_run() runs it that way.")));
	if (mode == PREFLIGHT_TRANSACTION)
		return;
	if (script->no_transaction ||
		(mode == PREFLIGHT_STEPS && script->unwrapped > 1))
		script->needs_top_level = true;
}

/* Where a parse error points, for the code that catches it. */
typedef struct ParseErrorState
{
	const MigrationScript *script;
	int			skipped;		/* bytes before the text parsed */
	int			offset;			/* byte offset of the error, -1 if none */
} ParseErrorState;

/*
 * Where the piece of the text parsed from pos on ends: at the end of the
 * text when at most window bytes are left, else just after the last
 * semicolon the server's scanner finds in the next window bytes (never
 * one inside a string, a quoted name or body, or a comment), or in twice
 * as many when they hold none.  Whether that semicolon ends a statement
 * (it may lie in a BEGIN ATOMIC body or a rule's actions) the parser
 * tells: parse_piece.
 */
static int
piece_end(MigrationScript *script, int pos, int window)
{
	char	   *text = script->text;
	MemoryContext oldcxt = CurrentMemoryContext;

	for (;;)
	{
		int			end;
		volatile int last = -1;
		char		saved;
		MemoryContext scancxt;

		if (script->len - pos <= window)
			return script->len;
		end = pos + window;
		scancxt = AllocSetContextCreate(oldcxt, "morgenmigrate scan",
										ALLOCSET_DEFAULT_SIZES);
		MemoryContextSwitchTo(scancxt);
		saved = text[end];
		text[end] = '\0';
		PG_TRY();
		{
			core_yy_extra_type yyextra;
			core_yyscan_t scanner;
			core_YYSTYPE yylval;
			YYLTYPE		yylloc;
			int			token;

			/* the scanner reads a copy: the text is whole again at once */
			scanner = layout_quiet_scanner(text + pos, &yyextra);
			text[end] = saved;
			while ((token = core_yylex(&yylval, &yylloc, scanner)) != 0)
			{
				if (token == ';')
					last = pos + yylloc + 1;
			}
		}
		PG_CATCH();
		{
			/*
			 * The window may end inside a string or comment: the scanner
			 * holds no resources, and the semicolons before stand.
			 */
			text[end] = saved;
			layout_catch_unreadable(oldcxt);
		}
		PG_END_TRY();
		MemoryContextSwitchTo(oldcxt);
		MemoryContextDelete(scancxt);
		if (last > pos)
			return last;
		window *= 2;
	}
}

/*
 * Parses the text from pos to cut with the server's parser into *raw; the
 * locations of the statements are then pos bytes short.  False when that
 * piece does not parse and more text follows it: it may end inside a
 * statement, and a longer piece is tried.  A syntax error in the last
 * piece keeps its SQLSTATE and message; its cursor position becomes a
 * line of the file (left as a cursor, psql would point into the caller's
 * SELECT).  A syntax error that is really the inline data of a COPY FROM
 * STDIN (as psql scripts have) is reported as that COPY.
 */
static bool
parse_piece(MigrationScript *script, int pos, int cut, List **raw)
{
	ParseErrorState perr;
	ErrorContextCallback errcallback;
	MemoryContext oldcontext = CurrentMemoryContext;
	List	   *volatile parsed = NIL;
	volatile bool ok = true;
	char		saved = script->text[cut];

	perr.script = script;
	perr.skipped = pos;
	perr.offset = -1;
	errcallback.callback = parse_error_callback;
	errcallback.arg = &perr;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	script->text[cut] = '\0';
	PG_TRY();
	{
		parsed = pg_parse_query(script->text + pos);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		error_context_stack = errcallback.previous;
		script->text[cut] = saved;
		if (cut < script->len)
		{
			/* only the parser ran, which holds no resources */
			layout_catch_unreadable(oldcontext);
			ok = false;
		}
		else
		{
			MemoryContextSwitchTo(oldcontext);
			edata = CopyErrorData();
			FlushErrorState();
			if (perr.offset >= 0)
				refuse_copy_data(script, perr.offset);
			ReThrowError(edata);
		}
	}
	PG_END_TRY();

	script->text[cut] = saved;
	error_context_stack = errcallback.previous;
	*raw = parsed;
	return ok;
}

/*
 * Raises the preflight's COPY error when the statement just before the
 * line of a syntax error is a COPY FROM STDIN: the "error" is its data.
 */
static void
refuse_copy_data(const MigrationScript *script, int offset)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			linestart = offset;
	char	   *prefix;
	List	   *volatile raw = NIL;
	RawStmt    *last;
	MigrationStatement stmt;

	while (linestart > 0 && script->text[linestart - 1] != '\n')
		linestart--;
	/* the statements of the pieces before ended at a semicolon made NUL */
	prefix = palloc(linestart + 1);
	for (int i = 0; i < linestart; i++)
		prefix[i] = script->text[i] == '\0' ? ';' : script->text[i];
	prefix[linestart] = '\0';

	/*
	 * The text before that line may not parse (the line may start inside a
	 * string): then it is no COPY data, and the caller raises the original
	 * error.  Only the raw parser runs here, which holds no resources.
	 */
	PG_TRY();
	{
		raw = pg_parse_query(prefix);
	}
	PG_CATCH();
	{
		layout_catch_unreadable(cxt);
		raw = NIL;
	}
	PG_END_TRY();
	if (raw == NIL)
		return;
	last = llast_node(RawStmt, raw);
	if (!IsA(last->stmt, CopyStmt) || ((CopyStmt *) last->stmt)->filename)
		return;

	place_statement(&stmt, prefix, linestart, last, 0);
	stmt.parsetree = last->stmt;
	stmt.top_level = false;
	preflight_statement((MigrationScript *) script, &stmt,
						PREFLIGHT_TRANSACTION);
}

/*
 * Error context while parsing a file: the file and the line of the error
 * position, and a hint when that position is a psql meta-command.
 */
static void
parse_error_callback(void *arg)
{
	ParseErrorState *perr = (ParseErrorState *) arg;
	const MigrationScript *script = perr->script;
	int			pos = geterrposition();
	int			offset;
	int			i;

	if (pos <= 0)
	{
		errcontext("migration \"%s\"", script->name);
		return;
	}

	offset = perr->skipped +
		byte_offset_of_char(script->text + perr->skipped,
							script->len - perr->skipped, pos);
	perr->offset = offset;
	errposition(0);

	/* a backslash first on its line: a psql meta-command such as \i */
	for (i = offset; i > 0 && (script->text[i - 1] == ' ' ||
							   script->text[i - 1] == '\t'); i--)
		;
	if (offset < script->len && script->text[offset] == '\\' &&
		(i == 0 || script->text[i - 1] == '\n'))
		errhint("Lines starting with a backslash are psql meta-commands, which only psql understands; a migration file must be plain SQL.");

	errcontext("migration \"%s\", line %d", script->name,
			   script_line_at(script, offset));
}

/*
 * Reads the directive comments at the top of a file, before its first
 * statement: lines such as
 *	 -- morgenmigrate: lock_timeout=5s statement_timeout=10min retries=3
 */
static void
parse_directives(MigrationScript *script)
{
	const char *p = script->text;
	int			line = 1;

	script->directives.lock_timeout = -1;
	script->directives.statement_timeout = -1;
	script->directives.retries = -1;
	script->directives.allow_locked_rewrite = false;

	while (*p != '\0')
	{
		const char *eol = strchr(p, '\n');
		int			linelen = eol ? eol - p : strlen(p);
		const char *s = p;

		while (s < p + linelen && isspace((unsigned char) *s))
			s++;
		if (s < p + linelen)
		{
			char	   *rest;
			char	   *item;
			char	   *saveptr;

			if (strncmp(s, "--", 2) != 0)
				break;			/* the first statement: directives end here */
			s += 2;
			while (s < p + linelen && isspace((unsigned char) *s))
				s++;
			if (strncmp(s, "morgenmigrate:", 14) == 0)
			{
				rest = pnstrdup(s + 14, p + linelen - (s + 14));
				for (item = strtok_r(rest, " \t\r", &saveptr); item != NULL;
					 item = strtok_r(NULL, " \t\r", &saveptr))
					parse_directive(script, item, line);
				pfree(rest);
			}
		}
		if (eol == NULL)
			break;
		p = eol + 1;
		line++;
	}
}

/* Applies one key=value item of a directive comment to the script. */
static void
parse_directive(MigrationScript *script, const char *item, int line)
{
	const char *eq = strchr(item, '=');
	char	   *key;
	const char *value;
	int			result;
	int			unit;
	const char *hintmsg = NULL;
	int		   *target;

	/* the one directive without a value */
	if (strcmp(item, "allow-locked-rewrite") == 0)
	{
		script->directives.allow_locked_rewrite = true;
		return;
	}
	if (strncmp(item, "allow-locked-rewrite=", 21) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("migration directive \"allow-locked-rewrite\" takes no value"),
				 errhint("Write it alone: -- morgenmigrate: allow-locked-rewrite"),
				 errcontext("migration \"%s\", line %d", script->name, line)));
	if (eq == NULL || eq == item || eq[1] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("invalid migration directive \"%s\"", item),
				 errhint("Write directives as name=value, for example lock_timeout=5s."),
				 errcontext("migration \"%s\", line %d", script->name, line)));

	key = pnstrdup(item, eq - item);
	value = eq + 1;
	if (strcmp(key, "lock_timeout") == 0)
	{
		target = &script->directives.lock_timeout;
		unit = GUC_UNIT_MS;
	}
	else if (strcmp(key, "statement_timeout") == 0)
	{
		target = &script->directives.statement_timeout;
		unit = GUC_UNIT_MS;
	}
	else if (strcmp(key, "retries") == 0)
	{
		target = &script->directives.retries;
		unit = 0;
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown migration directive \"%s\"", key),
				 errhint("The directives are lock_timeout, statement_timeout, retries and allow-locked-rewrite."),
				 errcontext("migration \"%s\", line %d", script->name, line)));

	if (!parse_int(value, &result, unit, &hintmsg) || result < 0 ||
		(unit == 0 && result > 100))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for migration directive \"%s\": \"%s\"",
						key, value),
				 hintmsg ? errhint("%s", _(hintmsg)) :
				 errhint(unit == 0 ?
						 "Give retries a whole number from 0 to 100." :
						 "Give a duration such as 500ms, 5s or 10min."),
				 errcontext("migration \"%s\", line %d", script->name, line)));
	*target = result;
	pfree(key);
}

/* A plain BEGIN or START TRANSACTION, as the first statement of a wrapper. */
static bool
is_wrapper_begin(Node *stmt)
{
	TransactionStmt *ts = (TransactionStmt *) stmt;

	return IsA(stmt, TransactionStmt) &&
		(ts->kind == TRANS_STMT_BEGIN || ts->kind == TRANS_STMT_START) &&
		ts->options == NIL;
}

/* A plain COMMIT or END, as the last statement of a wrapper. */
static bool
is_wrapper_commit(Node *stmt)
{
	TransactionStmt *ts = (TransactionStmt *) stmt;

	return IsA(stmt, TransactionStmt) &&
		ts->kind == TRANS_STMT_COMMIT && !ts->chain;
}

/*
 * Refuses a transaction statement (command names it) of a file that is
 * not made of BEGIN ... COMMIT blocks.
 */
static void
refuse_transaction_statement(const MigrationScript *script,
							 const MigrationStatement *stmt,
							 const char *command)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
			 errmsg("%s is not allowed in a migration file", command),
			 errdetail("Each migration file runs as a unit, which morgenmigrate commits or rolls back."),
			 errhint("Remove the statement.  A file made of BEGIN ... COMMIT blocks, with only comments between them, is accepted: migrate_apply runs it as one unit, migrate_run commits at each COMMIT."),
			 errcontext("migration \"%s\", line %d", script->name,
						script_statement_line(script, stmt))));
}

/*
 * Refuses a statement that cannot run inside the file's subtransaction,
 * with the file and line, and a hint saying what to do instead.  Decided
 * from the parse tree alone, so words inside strings and function bodies
 * never count.
 */
static void
preflight_statement(MigrationScript *script, MigrationStatement *stmt,
					PreflightMode mode)
{
	Node	   *node = stmt->parsetree;
	const LayoutMethods *m = layout_methods(script->sections.layout);
	const char *what;
	const char *hint;
	const char *runner_hint;
	bool		runnable;

	if (IsA(node, TransactionStmt))
		refuse_transaction_statement(script, stmt, CreateCommandName(node));

	if (IsA(node, CopyStmt) && ((CopyStmt *) node)->filename == NULL &&
		!((CopyStmt *) node)->is_program)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s is not supported in a migration file",
						((CopyStmt *) node)->is_from ?
						"COPY FROM STDIN" : "COPY TO STDOUT"),
				 errdetail("No client is connected to the migration to send or receive the data."),
				 errhint("Load data with INSERT statements, or with COPY FROM a file on the database server."),
				 errcontext("migration \"%s\", line %d", script->name,
							script_statement_line(script, stmt))));

	/* it decides where the statements end: the split must stay valid */
	if (IsA(node, VariableSetStmt) && ((VariableSetStmt *) node)->name != NULL &&
		strcmp(((VariableSetStmt *) node)->name, "standard_conforming_strings") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a migration file cannot set standard_conforming_strings"),
				 errdetail("The file is split into statements with the caller's standard_conforming_strings; a change would make its later statements end elsewhere than where they were checked."),
				 errhint("Set standard_conforming_strings before the call or for the database, not in a migration file."),
				 errcontext("migration \"%s\", line %d", script->name,
							script_statement_line(script, stmt))));

	what = needs_top_level(node, &hint, &runnable);
	/* a runner's own transaction around the part: there it fails */
	runner_hint = m == NULL || script->no_transaction ? NULL :
		m->transaction_hint;
	if (what != NULL && runner_hint != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("%s cannot run inside a transaction block", what),
				 errdetail("%s runs this part of the migration in a transaction of its own, where the statement fails.",
						   script->runner),
				 errhint("%s", runner_hint),
				 errcontext("migration \"%s\", line %d", script->name,
							script_statement_line(script, stmt))));
	if (what != NULL && runnable && mode != PREFLIGHT_TRANSACTION)
	{
		stmt->top_level = true;
		stmt->top_level_what = what;
		script->needs_top_level = true;
		return;
	}
	if (what != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("%s cannot run inside a transaction block", what),
				 errdetail("Each migration file runs inside a transaction, so that it applies whole or not at all."),
				 runnable && script->section == SECTION_DOWN ?
				 errhint("CALL morgenmigrate.migrate_run_rollback() runs such a statement of a down migration outside a transaction, in a background worker.  %s", hint) :
				 runnable ?
				 errhint("CALL morgenmigrate.migrate_run() runs such a statement outside a transaction, in a background worker.  %s", hint) :
				 errhint("%s", hint),
				 errcontext("migration \"%s\", line %d", script->name,
							script_statement_line(script, stmt))));
}

/* Hints for the statements of needs_top_level. */
#define HINT_CONCURRENTLY "Leave out CONCURRENTLY (the statement then takes a stronger lock while it runs), or run the statement outside the migration set."
#define HINT_CLUSTER_WIDE "A statement that changes the whole cluster does not belong in a migration; run it separately."

/*
 * Names the statement if PostgreSQL refuses to run it inside a transaction
 * block (the callers of PreventInTransactionBlock), says in *hint what to
 * do instead, and in *runnable whether migrate_run may run it at top level
 * (index builds and maintenance may; cluster-wide changes never); NULL
 * otherwise.
 */
static const char *
needs_top_level(Node *node, const char **hint, bool *runnable)
{
	*hint = HINT_CLUSTER_WIDE;
	*runnable = false;
	switch (nodeTag(node))
	{
		case T_IndexStmt:
			*hint = HINT_CONCURRENTLY;
			*runnable = true;
			return ((IndexStmt *) node)->concurrent ?
				"CREATE INDEX CONCURRENTLY" : NULL;
		case T_DropStmt:
			*hint = HINT_CONCURRENTLY;
			*runnable = true;
			return ((DropStmt *) node)->removeType == OBJECT_INDEX &&
				((DropStmt *) node)->concurrent ?
				"DROP INDEX CONCURRENTLY" : NULL;
		case T_ReindexStmt:
			{
				ReindexStmt *rs = (ReindexStmt *) node;
				ListCell   *lc;

				*hint = HINT_CONCURRENTLY;
				*runnable = true;
				foreach(lc, rs->params)
				{
					DefElem    *opt = lfirst_node(DefElem, lc);

					if (strcmp(opt->defname, "concurrently") == 0 &&
						defGetBoolean(opt))
						return "REINDEX CONCURRENTLY";
				}
				*hint = "Reindex the tables one at a time with REINDEX TABLE, or run the statement outside the migration set.";
				if (rs->kind == REINDEX_OBJECT_SCHEMA)
					return "REINDEX SCHEMA";
				if (rs->kind == REINDEX_OBJECT_SYSTEM)
					return "REINDEX SYSTEM";
				if (rs->kind == REINDEX_OBJECT_DATABASE)
					return "REINDEX DATABASE";
				return NULL;
			}
		case T_VacuumStmt:
			*hint = "Run VACUUM outside the migration set; ANALYZE alone may stay in a migration.";
			*runnable = true;
			return ((VacuumStmt *) node)->is_vacuumcmd ? "VACUUM" : NULL;
		case T_ClusterStmt:
			*hint = "Name the table to cluster, or run the statement outside the migration set.";
			*runnable = true;
			return ((ClusterStmt *) node)->relation == NULL ?
				"CLUSTER without a table name" : NULL;
		case T_CreatedbStmt:
			return "CREATE DATABASE";
		case T_DropdbStmt:
			return "DROP DATABASE";
		case T_CreateTableSpaceStmt:
			return "CREATE TABLESPACE";
		case T_DropTableSpaceStmt:
			return "DROP TABLESPACE";
		case T_AlterSystemStmt:
			return "ALTER SYSTEM";
		case T_AlterDatabaseStmt:
			{
				ListCell   *lc;

				foreach(lc, ((AlterDatabaseStmt *) node)->options)
				{
					if (strcmp(lfirst_node(DefElem, lc)->defname, "tablespace") == 0)
						return "ALTER DATABASE SET TABLESPACE";
				}
				return NULL;
			}
		case T_AlterTableStmt:
			{
				ListCell   *lc;

				foreach(lc, ((AlterTableStmt *) node)->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					*hint = HINT_CONCURRENTLY;
					*runnable = true;
					if (cmd->subtype == AT_DetachPartition &&
						((PartitionCmd *) cmd->def)->concurrent)
						return "ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY";
				}
				return NULL;
			}
		case T_DiscardStmt:
			*hint = "Remove it: a migration runs inside the caller's session, which it must not reset.";
			return ((DiscardStmt *) node)->target == DISCARD_ALL ?
				"DISCARD ALL" : NULL;
		case T_CreateSubscriptionStmt:
			*hint = "Create the subscription WITH (connect = false) or WITH (create_slot = false), or run the statement outside the migration set.";
			return subscription_creates_slot((CreateSubscriptionStmt *) node) ?
				"CREATE SUBSCRIPTION ... WITH (create_slot = true)" : NULL;
		case T_AlterSubscriptionStmt:
			{
				AlterSubscriptionStmt *as = (AlterSubscriptionStmt *) node;
				ListCell   *lc;

				*hint = "Use WITH (refresh = false) in the migration and refresh the subscription outside the migration set.";
				if (as->kind == ALTER_SUBSCRIPTION_REFRESH)
					return "ALTER SUBSCRIPTION ... REFRESH PUBLICATION";
				if (as->kind != ALTER_SUBSCRIPTION_SET_PUBLICATION &&
					as->kind != ALTER_SUBSCRIPTION_ADD_PUBLICATION &&
					as->kind != ALTER_SUBSCRIPTION_DROP_PUBLICATION)
					return NULL;
				foreach(lc, as->options)
				{
					DefElem    *opt = lfirst_node(DefElem, lc);

					if (strcmp(opt->defname, "refresh") == 0 && !defGetBoolean(opt))
						return NULL;
				}
				return "ALTER SUBSCRIPTION ... PUBLICATION with refresh";
			}
		case T_SelectStmt:
			*runnable = true;
			return citus_top_level_call(node, hint);
		default:
			return NULL;
	}
}

/* Tells whether CREATE SUBSCRIPTION would create a replication slot. */
static bool
subscription_creates_slot(CreateSubscriptionStmt *stmt)
{
	bool		create_slot = true;
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "connect") == 0 && !defGetBoolean(opt))
			return false;
		if (strcmp(opt->defname, "create_slot") == 0)
			create_slot = defGetBoolean(opt);
	}
	return create_slot;
}

/* The 1-based line of the file that a byte offset of its text falls on. */
static int
script_line_at(const MigrationScript *script, int offset)
{
	int			line = 1;
	const char *p = script->text;
	const char *end = script->text + Min(offset, script->len);

	while ((p = memchr(p, '\n', end - p)) != NULL)
	{
		line++;
		p++;
	}
	return line;
}

/*
 * The byte offset of the first token of a text: past the whitespace and
 * the comments before it, which the server's scanner skips (scan.l: "--"
 * to the end of the line, and slash-star comments, which nest).  Read here
 * without the scanner, which would copy the text.  An unterminated comment
 * is left for the scanner to report; a text of nothing but comments gives
 * its length.
 */
static int
first_token(const char *text, int len)
{
	const char *p = text;
	const char *end = text + len;

	while (p < end)
	{
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f')
			p++;
		else if (end - p >= 2 && p[0] == '-' && p[1] == '-')
		{
			while (p < end && *p != '\n' && *p != '\r')
				p++;
		}
		else if (end - p >= 2 && p[0] == '/' && p[1] == '*')
		{
			const char *q = p + 2;
			int			depth = 0;

			while (q < end)
			{
				if (end - q >= 2 && q[0] == '/' && q[1] == '*')
				{
					depth++;
					q += 2;
				}
				else if (end - q >= 2 && q[0] == '*' && q[1] == '/')
				{
					q += 2;
					if (depth-- == 0)
						break;
				}
				else
					q++;
			}
			if (depth >= 0)
				break;			/* unterminated */
			p = q;
		}
		else
			break;
	}
	return p - text;
}

/*
 * The byte offset in text of the first token of a statement the parser
 * found (rs, its locations base bytes into text), and in *end (if not
 * NULL) that of the semicolon that ends it, or the text's length: the
 * parser counts the comments and blank lines before a statement as part
 * of it.
 */
static int
statement_start(const char *text, int len, const RawStmt *rs, int base,
				int *end)
{
	int			start = base + rs->stmt_location;
	int			stop = rs->stmt_len > 0 ? start + rs->stmt_len : len;
	int			skip = first_token(text + start, stop - start);

	Assert(stop <= len && (stop == len || text[stop] == ';'));
	if (skip == stop - start)
		skip = 0;				/* no token: the parser found none either */
	if (end != NULL)
		*end = stop;
	return start + skip;
}

/*
 * Fills in where a statement the parser found (rs, its locations base
 * bytes into text) lies, from its first token on.  Its text stays in
 * place: the semicolon that ends it becomes the end of its string, so
 * that a file's statements are no second copy of the file.
 */
static void
place_statement(MigrationStatement *stmt, char *text, int len,
				const RawStmt *rs, int base)
{
	int			end;

	stmt->location = statement_start(text, len, rs, base, &end);
	stmt->length = end - stmt->location;
	stmt->sql = text + stmt->location;
	text[end] = '\0';
}

/* The line of a statement's first token. */
int
script_statement_line(const MigrationScript *script,
					  const MigrationStatement *stmt)
{
	return script_line_at(script, stmt->location);
}

/*
 * The same as script_statement_line, counting on from where the cursor
 * got to in the same script (and moving it there): for a caller that
 * follows the statements of a file in order, a file of many statements
 * costs one pass over its text, not one per statement.
 */
int
script_statement_line_from(const MigrationScript *script,
						   const MigrationStatement *stmt,
						   ScriptCursor *cursor)
{
	int			target = Min(stmt->location, script->len);
	const char *p;
	const char *end;

	if (cursor->script != script || cursor->offset > target)
	{
		cursor->script = script;
		cursor->offset = 0;
		cursor->line = 1;
	}
	p = script->text + cursor->offset;
	end = script->text + target;
	while ((p = memchr(p, '\n', end - p)) != NULL)
	{
		cursor->line++;
		p++;
	}
	cursor->offset = target;
	return cursor->line;
}

/*
 * The line of the file an error raised while running stmt points at, with
 * the error's positions moved into that line.  SPI reports a position in
 * the statement as internalpos of internalquery = the statement; a
 * position in a function body or DO block (the plpgsql validator) comes as
 * internalpos of the body, which is found inside the statement.  Positions
 * in other queries (run by a function the statement called) are kept, and
 * the line is the statement's.
 */
int
script_locate_error(const MigrationScript *script,
					const MigrationStatement *stmt, ErrorData *edata)
{
	const char *base = NULL;

	if (edata->internalquery != NULL && edata->internalpos > 0)
	{
		if (strcmp(edata->internalquery, stmt->sql) == 0)
			base = stmt->sql;
		else
		{
			const char *found = strstr(stmt->sql, edata->internalquery);

			/* only when the body occurs exactly once in the statement */
			if (found != NULL && strstr(found + 1, edata->internalquery) == NULL)
				base = found;
		}
	}

	if (base != NULL)
	{
		int			offset = (base - stmt->sql) +
			byte_offset_of_char(base, strlen(base), edata->internalpos);

		edata->internalpos = 0;
		edata->internalquery = NULL;
		return script_line_at(script, stmt->location + offset);
	}
	return script_statement_line(script, stmt);
}

/* The byte offset of a 1-based character position in a text. */
static int
byte_offset_of_char(const char *text, int len, int charpos)
{
	const char *p = text;
	const char *end = text + len;

	for (int i = 1; i < charpos && p < end; i++)
		p += pg_mblen(p);
	return Min(p, end) - text;
}
