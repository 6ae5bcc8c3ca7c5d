/*-------------------------------------------------------------------------
 *
 * goose.c
 *	  goose's directory, as goose's command-line tool reads it.
 *
 *	  Names: every *.sql file is a migration, VERSION_name.sql, its version
 *	  the number before the first "_" (leading zeros ignored); goose
 *	  refuses the whole directory for a *.sql file without one, and for a
 *	  version of 0 (and stops on two files of one version), so morgenmigrate
 *	  refuses these too.  VERSION_name.go files are Go migrations, which
 *	  only goose can run (goose skips one without a version, and Go test
 *	  files); every other entry is skipped.  goose lists these names with
 *	  Go's glob, which matches hidden names and directories too: a hidden
 *	  *.sql file, whose name can have no version, makes goose refuse the
 *	  directory, and a directory named as a migration file makes it fail,
 *	  so both are refused here.  Order: by version.
 *
 *	  Text: annotations cut a file:
 *
 *		-- +goose Up / -- +goose Down			the sections (Up first, once)
 *		-- +goose StatementBegin / StatementEnd	one statement, semicolons and all
 *		-- +goose NO TRANSACTION				the whole file runs outside a
 *												transaction
 *
 *	  goose parses a file anew for the direction it runs, as a small state
 *	  machine that collects lines until one ends in a semicolon (or a
 *	  StatementEnd) and sends them as one chunk.  The scan below runs that
 *	  machine once for each direction, so that what goose refuses whichever
 *	  way it runs (an unknown annotation, SQL before Up, a block left open)
 *	  is refused at once, and what it refuses only going one way (a
 *	  statement without its semicolon) only when that direction runs.
 *	  Where goose would send something else than the server reads (half a
 *	  statement, when a line ends in a semicolon inside a string; a
 *	  statement glued to a block; a line after an empty block, which goose
 *	  drops), that direction is refused too; a byte-order mark, which goose
 *	  reads as SQL before Up, is refused whichever way.  Each chunk of several
 *	  statements is one statement block: without a transaction the server
 *	  runs such a chunk as one implicit transaction, and so does
 *	  morgenmigrate.  ENVSUB ON (environment variables substituted into the
 *	  SQL) is refused: the server does not have the deploying shell's
 *	  environment.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "../layout.h"
#include "../migration.h"

#define GOOSE "goose"

/* goose's largest version: a signed 64-bit number. */
#define MAX_VERSION "9223372036854775807"

/* What an annotation line says. */
typedef enum GooseAnnotation
{
	GOOSE_NONE,					/* not an annotation */
	GOOSE_UP,
	GOOSE_DOWN,
	GOOSE_BEGIN,
	GOOSE_END,
	GOOSE_NO_TRANSACTION,
	GOOSE_ENVSUB_ON,
	GOOSE_ENVSUB_OFF
} GooseAnnotation;

/* The states of goose's parser. */
typedef enum GooseState
{
	STATE_START,				/* before Up */
	STATE_UP,
	STATE_BEGIN_UP,				/* in a statement block of the up section */
	STATE_END_UP,				/* on its StatementEnd (and after an empty one) */
	STATE_DOWN,
	STATE_BEGIN_DOWN,
	STATE_END_DOWN
} GooseState;

/* One chunk goose sends: the lines up to one ending in ";", or a block. */
typedef struct GooseChunk
{
	int			end;			/* offset of its semicolon, or of the
								 * StatementEnd line (a ";" once cut) */
	int			line;			/* the line that ends it */
	bool		block;
} GooseChunk;

/* goose's parser for one direction, and what it finds. */
typedef struct GooseRun
{
	MigrationSection section;	/* the direction it parses for */
	GooseState	state;
	bool		buffered;		/* goose's buffer holds a line */
	int			pending_line;	/* its first line with more than blanks */
	bool		pending_sql;	/* it holds a line that is no comment */
	GooseChunk *chunks;
	int			nchunks;
	LayoutProblem problem;		/* what goose refuses going this way */
} GooseRun;

/* The state of the scan of one file. */
typedef struct GooseScan
{
	const char *name;
	const char *text;
	int			len;
	FileSections *sections;
	bool		any;			/* an annotation was seen */
	int			sql_before;		/* a line of SQL before any annotation */
	int			envsub_line;	/* ENVSUB ON in force since this line */
	int			block_line;		/* the last StatementBegin */
	GooseRun	runs[2];		/* going up, going down */
} GooseScan;

/* Tells whether a line is blank to goose (nothing but white space). */
static bool
go_blank(const TextLine *line)
{
	const char *s = line->start;
	const char *e = line->start + line->len;

	layout_go_trim(&s, &e);
	return s == e;
}

/* Tells whether a line is a comment to goose: "--" after white space. */
static bool
go_comment(const TextLine *line)
{
	const char *s = line->start;
	const char *e = line->start + line->len;

	layout_go_trim(&s, &e);
	return e - s >= 2 && s[0] == '-' && s[1] == '-';
}

/*
 * Reads an annotation line as goose does: a line that is a comment and
 * holds +goose.  Every "--" and the first +goose are dropped and the rest,
 * trimmed, compared without regard to case with the annotations goose
 * knows; an annotation goose refuses is refused, naming its line.
 */
static GooseAnnotation
read_annotation(const char *name, const TextLine *line)
{
	StringInfoData word;
	char	   *plus;
	const char *s;
	const char *e;
	static const struct
	{
		const char *word;
		GooseAnnotation annotation;
	}			known[] = {
		{"Up", GOOSE_UP},
		{"Down", GOOSE_DOWN},
		{"StatementBegin", GOOSE_BEGIN},
		{"StatementEnd", GOOSE_END},
		{"NO TRANSACTION", GOOSE_NO_TRANSACTION},
		{"ENVSUB ON", GOOSE_ENVSUB_ON},
		{"ENVSUB OFF", GOOSE_ENVSUB_OFF},
	};

	/* most lines are SQL: look before copying */
	if (line->len < 8 || memchr(line->start, '+', line->len) == NULL ||
		!go_comment(line) ||
		memmem(line->start, line->len, "+goose", 6) == NULL)
		return GOOSE_NONE;
	if (line->start[0] == ' ' || line->start[0] == '\t')
		layout_malformed(name, line->number, GOOSE,
						 "an annotation must start at the beginning of its line", NULL);

	/* drop every "--" and the first "+goose", then trim */
	initStringInfo(&word);
	for (int i = 0; i < line->len; i++)
	{
		if (line->start[i] == '-' && i + 1 < line->len && line->start[i + 1] == '-')
			i++;
		else
			appendStringInfoChar(&word, line->start[i]);
	}
	plus = strstr(word.data, "+goose");
	memmove(plus, plus + 6, strlen(plus + 6) + 1);
	if (strstr(word.data, "+goose") != NULL)
		layout_malformed(name, line->number, GOOSE,
						 "an annotation names +goose twice", NULL);
	s = word.data;
	e = word.data + strlen(word.data);
	layout_go_trim(&s, &e);
	if (s == e)
		layout_malformed(name, line->number, GOOSE, "an empty annotation",
						 "goose knows Up, Down, StatementBegin, StatementEnd, NO TRANSACTION and ENVSUB ON/OFF.");

	for (int i = 0; i < lengthof(known); i++)
		if (strlen(known[i].word) == e - s &&
			pg_strncasecmp(s, known[i].word, e - s) == 0)
			return known[i].annotation;
	layout_malformed(name, line->number, GOOSE,
					 psprintf("unknown annotation \"%s\"", pnstrdup(s, e - s)),
					 "goose knows Up, Down, StatementBegin, StatementEnd, NO TRANSACTION and ENVSUB ON/OFF.");
	return GOOSE_NONE;			/* keep the compiler quiet */
}

/* Keeps the first thing goose refuses going one way. */
static void
run_problem(GooseRun *r, int line, const char *message, const char *hint)
{
	layout_defer_problem(&r->problem, line, message, hint);
}

/* Empties goose's buffer. */
static void
run_reset(GooseRun *r)
{
	r->buffered = false;
	r->pending_line = 0;
	r->pending_sql = false;
}

/* Notes a chunk goose sends (until it has refused the file). */
static void
run_chunk(GooseRun *r, int end, int line, bool block)
{
	if (r->problem.line > 0)
		return;
	if (r->nchunks == 0)
		r->chunks = palloc(sizeof(GooseChunk) * 16);
	else if (r->nchunks >= 16 && (r->nchunks & (r->nchunks - 1)) == 0)
		r->chunks = repalloc(r->chunks, sizeof(GooseChunk) * r->nchunks * 2);
	r->chunks[r->nchunks].end = end;
	r->chunks[r->nchunks].line = line;
	r->chunks[r->nchunks].block = block;
	r->nchunks++;
}

/* Tells whether a run parses the section its state is in. */
static bool
run_in_own_section(const GooseRun *r)
{
	return r->section == SECTION_UP ? r->state <= STATE_END_UP :
		r->state >= STATE_DOWN;
}

/*
 * What an annotation does to goose's parser going one way: the state
 * changes goose makes, and refuses (whichever way it runs: raised at
 * once), and what it refuses, or would get wrong, going this way.
 */
static void
run_annotation(GooseScan *g, GooseRun *r, GooseAnnotation a,
			   const TextLine *line)
{
	switch (a)
	{
		case GOOSE_UP:
			if (r->state != STATE_START)
				layout_malformed(g->name, line->number, GOOSE,
								 "a second -- +goose Up annotation", NULL);
			r->state = STATE_UP;
			break;
		case GOOSE_DOWN:
			if (r->state != STATE_UP && r->state != STATE_END_UP)
				layout_malformed(g->name, line->number, GOOSE,
								 r->state == STATE_START ? "-- +goose Down before -- +goose Up" :
								 r->state == STATE_BEGIN_UP ? "-- +goose Down inside a statement block" :
								 "a second -- +goose Down annotation", NULL);
			if (r->pending_line > 0)
				run_problem(r, r->pending_line,
							"a statement is not ended by a semicolon",
							"End each statement with a semicolon at the end of its line, or wrap it in -- +goose StatementBegin and -- +goose StatementEnd.");
			r->state = STATE_DOWN;
			break;
		case GOOSE_BEGIN:
			if (r->state == STATE_START || r->state == STATE_BEGIN_UP ||
				r->state == STATE_BEGIN_DOWN)
				layout_malformed(g->name, line->number, GOOSE,
								 r->state == STATE_START ?
								 "-- +goose StatementBegin before -- +goose Up or Down" :
								 "-- +goose StatementBegin inside a statement block", NULL);
			if (r->pending_sql)
				run_problem(r, r->pending_line,
							"a statement before -- +goose StatementBegin is not ended by a semicolon",
							"End it with a semicolon at the end of its line: goose would send it joined to the block that follows.");
			r->state = r->state <= STATE_END_UP ? STATE_BEGIN_UP : STATE_BEGIN_DOWN;
			break;
		case GOOSE_END:
			if (r->state != STATE_BEGIN_UP && r->state != STATE_BEGIN_DOWN)
				layout_malformed(g->name, line->number, GOOSE,
								 "-- +goose StatementEnd without -- +goose StatementBegin", NULL);
			r->state = r->state == STATE_BEGIN_UP ? STATE_END_UP : STATE_END_DOWN;
			break;
		case GOOSE_NO_TRANSACTION:
		case GOOSE_ENVSUB_ON:
		case GOOSE_ENVSUB_OFF:
			/* goose drops the line; the server would read it as text */
			if (r->pending_sql)
				run_problem(r, line->number,
							"an annotation inside a statement",
							"Move the annotation above -- +goose Up: goose drops its line from the statement around it.");
			break;
		case GOOSE_NONE:
			break;
	}
}

/*
 * What a line that is no annotation (or a StatementEnd, which goose reads
 * on) does to goose's parser going one way: into its buffer, or dropped,
 * and the chunk it ends.
 */
static void
run_line(GooseScan *g, GooseRun *r, const TextLine *line, bool end)
{
	if (!end && r->state == STATE_START && go_blank(line))
		return;
	if (!r->buffered && (line->len == 0 || go_comment(line)))
		return;
	if (r->state != STATE_END_UP && r->state != STATE_END_DOWN)
	{
		if (!r->buffered && r->state != STATE_START)
			r->buffered = true;
		if (!go_blank(line) && r->pending_line == 0)
			r->pending_line = line->number;
		if (!go_blank(line) && !go_comment(line))
			r->pending_sql = true;
		if (g->envsub_line > 0)
			run_problem(r, g->envsub_line, "-- +goose ENVSUB ON is not supported",
						"The server does not see the environment of the shell that deploys; write the values into the migration.");
	}
	else if (!end && run_in_own_section(r) && !go_blank(line))
		run_problem(r, line->number,
					"goose skips this line: it follows an empty statement block",
					"Remove the empty -- +goose StatementBegin and -- +goose StatementEnd pair above it, or put a statement in it: goose drops the first line after such a pair without a word.");

	if (r->state == STATE_START)
	{
		/* goose refuses it whichever way it runs */
		if (g->any)
			layout_malformed(g->name, line->number, GOOSE, "SQL before -- +goose Up",
							 "Only comments may come before the up section.");
		if (g->sql_before == 0)
			g->sql_before = line->number;
		run_reset(r);
		return;
	}
	if (!run_in_own_section(r))
	{
		run_reset(r);
		return;
	}
	if (r->state == STATE_UP || r->state == STATE_DOWN)
	{
		int			semicolon = layout_line_semicolon(line, 0, NULL);

		if (semicolon >= 0)
		{
			run_chunk(r, semicolon, line->number, false);
			run_reset(r);
		}
	}
	else if (r->state == STATE_END_UP || r->state == STATE_END_DOWN)
	{
		/* after an empty block, goose sends nothing here */
		if (r->buffered)
			run_chunk(r, line->offset, line->number, true);
		run_reset(r);
		r->state = r->state == STATE_END_UP ? STATE_UP : STATE_DOWN;
	}
}

/* What an annotation does to the file's sections and markers. */
static void
annotation(GooseScan *g, GooseAnnotation a, const TextLine *line)
{
	FileSections *s = g->sections;

	switch (a)
	{
		case GOOSE_UP:
			layout_add_marker(s, line);
			s->up.start = line->offset;
			s->up.end = g->len;
			s->up.line = line->number;
			break;
		case GOOSE_DOWN:
			layout_add_marker(s, line);
			s->up.end = line->offset;
			s->down.start = line->offset;
			s->down.end = g->len;
			s->down.line = line->number;
			break;
		case GOOSE_BEGIN:
			layout_add_marker(s, line);
			g->block_line = line->number;
			break;
		case GOOSE_END:
			layout_add_marker(s, line);
			break;
		case GOOSE_NO_TRANSACTION:
			s->up_no_transaction = s->down_no_transaction = true;
			s->no_transaction_line = line->number;
			break;
		case GOOSE_ENVSUB_ON:
			if (g->envsub_line == 0)
				g->envsub_line = line->number;
			break;
		case GOOSE_ENVSUB_OFF:
			g->envsub_line = 0;
			break;
		case GOOSE_NONE:
			break;
	}
}

/*
 * Holds goose's chunks going one way against the statements the server
 * reads in that section (layout_check_chunks): where goose ends a chunk the
 * server must end a statement, or goose would send half of one (refused
 * when that direction runs); a chunk of several statements becomes a
 * statement block, which runs in one transaction, as the server runs the
 * chunk.
 */
static void
check_chunks(GooseScan *g, GooseRun *r)
{
	int		   *ends;
	int		   *lines;
	int			bad;

	if (r->problem.line > 0 || r->nchunks == 0)
		return;
	ends = palloc(sizeof(int) * r->nchunks);
	lines = palloc(sizeof(int) * r->nchunks);
	for (int c = 0; c < r->nchunks; c++)
	{
		ends[c] = r->chunks[c].end;
		lines[c] = r->chunks[c].line;
	}
	bad = layout_check_chunks(g->name, g->text, g->len, g->sections, r->section,
							  ends, lines, r->nchunks);
	if (bad >= 0 && r->chunks[bad].block)
		run_problem(r, r->chunks[bad].line,
					"-- +goose StatementEnd inside a string, a comment or a quoted body",
					"goose would send the block as one statement, which the server reads as part of a longer one; close the string, comment or body before the annotation.");
	else if (bad >= 0)
		run_problem(r, r->chunks[bad].line,
					"goose ends a statement at the semicolon on this line, the server does not",
					"goose sends the text up to a line that ends in a semicolon as one statement, even inside a string, a comment or a function body, so it would send half of this one.  Wrap the statement in -- +goose StatementBegin and -- +goose StatementEnd.");
	pfree(ends);
	pfree(lines);
}

/* Scans a file for goose annotations; false if it carries none. */
static bool
goose_scan(const char *name, const char *text, int len, FileSections *s)
{
	GooseScan	g;
	TextLine	line;

	memset(&g, 0, sizeof(g));
	g.name = name;
	g.text = text;
	g.len = len;
	g.sections = s;
	g.runs[0].section = SECTION_UP;
	g.runs[1].section = SECTION_DOWN;
	s->layout = LAYOUT_GOOSE;
	s->up.start = -1;

	memset(&line, 0, sizeof(line));
	while (layout_next_line(text, len, &line))
	{
		TextLine	l = line;
		GooseAnnotation a;

		/* goose reads lines without a carriage return before their end */
		if (l.offset + l.len == len && l.len > 0 && l.start[l.len - 1] == '\r')
			l.len--;
		a = read_annotation(name, &l);
		if (a != GOOSE_NONE)
		{
			if (g.sql_before > 0)
				layout_malformed(name, g.sql_before, GOOSE, "SQL before -- +goose Up",
								 "Only comments may come before the up section.");
			g.any = true;
			for (int i = 0; i < 2; i++)
				run_annotation(&g, &g.runs[i], a, &l);
			annotation(&g, a, &l);
		}
		if (a == GOOSE_NONE || a == GOOSE_END)
			for (int i = 0; i < 2; i++)
				run_line(&g, &g.runs[i], &l, a == GOOSE_END);
	}
	if (!g.any)
		return false;
	if (g.runs[0].state == STATE_START)
		layout_malformed(name, 1, GOOSE,
						 "no -- +goose Up annotation",
						 "A goose migration starts its up section with -- +goose Up.");
	if (g.runs[0].state == STATE_BEGIN_UP || g.runs[0].state == STATE_BEGIN_DOWN)
		layout_malformed(name, g.block_line, GOOSE,
						 "-- +goose StatementBegin without -- +goose StatementEnd", NULL);
	for (int i = 0; i < 2; i++)
	{
		GooseRun   *r = &g.runs[i];

		if (r->pending_line > 0)
			run_problem(r, r->pending_line,
						"a statement is not ended by a semicolon",
						"End each statement with a semicolon at the end of its line, or wrap it in -- +goose StatementBegin and -- +goose StatementEnd.");
		check_chunks(&g, r);
	}

	/* refused when that part runs (the up part: before anything runs) */
	s->up_problem = g.runs[0].problem;
	s->down_problem = g.runs[1].problem;
	return true;
}

/* How goose reads the version of a name (NumericComponent). */
typedef enum GooseVersion
{
	VERSION_OK,					/* digits, 1 or more */
	VERSION_SIGNED,				/* "+2": goose reads 2 */
	VERSION_BELOW_ONE,			/* 0, -1: goose refuses */
	VERSION_NO_NUMBER,			/* no "_", or no number before it */
	VERSION_TOO_LARGE			/* beyond a signed 64-bit number */
} GooseVersion;

/*
 * Reads the version of a name as goose does: the text before the first
 * "_", as a signed 64-bit number of at least 1.
 */
static GooseVersion
goose_version(const char *name, size_t *vlen)
{
	const char *underscore = strchr(name, '_');
	const char *digits = name;
	const char *v;
	size_t		ndigits;

	*vlen = underscore ? underscore - name : 0;
	if (underscore == NULL)
		return VERSION_NO_NUMBER;
	if (*digits == '+' || *digits == '-')
		digits++;
	ndigits = underscore - digits;
	if (ndigits == 0 || strspn(digits, "0123456789") != ndigits)
		return VERSION_NO_NUMBER;
	for (v = digits; *v == '0' && v < underscore - 1; v++)
		;
	if (underscore - v > strlen(MAX_VERSION) ||
		(underscore - v == strlen(MAX_VERSION) &&
		 strncmp(v, MAX_VERSION, strlen(MAX_VERSION)) > 0))
		return VERSION_TOO_LARGE;
	if (*v == '0' || name[0] == '-')
		return VERSION_BELOW_ONE;
	return name[0] == '+' ? VERSION_SIGNED : VERSION_OK;
}

/*
 * Reads a file name as goose reads it in a directory of its own: a *.sql
 * file is a migration, and goose refuses the whole directory for one
 * without a version it can read (refused here too); "+2_x.sql" is
 * version 2 to goose, refused here, as its name sorts elsewhere than that
 * version.  A *.go file with a version is a Go migration; goose skips
 * one without, and Go test files.  Every other entry is skipped.
 */
static void
goose_own_name(const char *name, LayoutEntry *entry)
{
	bool		sql = has_suffix_ci(name, ".sql", false);
	bool		go = has_suffix_ci(name, ".go", false);
	size_t		vlen;
	GooseVersion version = goose_version(name, &vlen);

	entry->role = ROLE_UNKNOWN;
	if (!sql && !go)
	{
		entry->role = ROLE_IGNORED;
		entry->why = "goose reads only *.sql and *.go files";
	}
	else if (go && has_suffix_ci(name, "_test.go", false))
	{
		entry->role = ROLE_IGNORED;
		entry->why = "goose skips Go test files";
	}
	else if (go && version != VERSION_OK && version != VERSION_SIGNED)
	{
		entry->role = ROLE_IGNORED;
		entry->why = "goose skips a .go file without a version of 1 or more";
	}
	else if (version == VERSION_NO_NUMBER)
		entry->what = "Its name does not start with a version number and \"_\": goose refuses the whole directory for it.";
	else if (version == VERSION_TOO_LARGE)
		entry->what = "Its version does not fit in a signed 64-bit number: goose refuses the whole directory for it.";
	else if (version == VERSION_BELOW_ONE)
		entry->what = "Its version is below 1: goose refuses the whole directory for it.";
	else if (version == VERSION_SIGNED)
		entry->what = "Its version is written with a sign, which goose reads as the number without it, while the name sorts elsewhere: rename it without the sign.";
	else
	{
		entry->version = pnstrdup(name, vlen);
		entry->key = pnstrdup(name, strlen(name) - (sql ? 4 : 3));
		entry->role = sql ? ROLE_UP : ROLE_EXTERNAL;
		entry->what = sql ? NULL : "a goose Go migration";
		entry->why = sql ? "goose migration (VERSION_name.sql)" :
			"goose Go migration (VERSION_name.go), which only goose can run";
	}
}

/* goose's order: by version (each version is one file). */
static int
goose_compare(const MigrationFile *a, const MigrationFile *b)
{
	int			c = layout_digits_cmp(a->version, b->version);

	return c != 0 ? c : strcmp(a->name, b->name);
}

const LayoutMethods goose_layout = {
	.layout = LAYOUT_GOOSE,
	.name = "goose",
	.runner = "goose",
	.family = FAMILY_FLAT,
	.read_name = NULL,
	.compare = goose_compare,
	.version_cmp = layout_digits_cmp,	/* 1 and 01 are one version */
	.scan = goose_scan,
	.requires_markers = true,
	.marker_word = "+goose",
	.marker_word_ci = false,
	.bom_refusal = "goose reads the byte-order mark as text before -- +goose Up, and refuses the file; save it without the mark.",
	.own_name = goose_own_name,
	.reads_hidden = true,
	.subdir_as_file = "goose lists every entry named *.sql, and every VERSION_name.go, as a migration file, a directory too: it refuses the whole directory for a name without a version, and fails on this one when it comes to run it.",
	.unique_versions = true,
	.noop_rollback = true,
};
