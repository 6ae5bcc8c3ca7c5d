/*-------------------------------------------------------------------------
 *
 * goose.c
 *	  goose's SQL migrations: VERSION_name.sql files (and VERSION_name.go
 *	  files, which only goose can run), in numeric version order, cut by
 *	  annotations:
 *
 *		-- +goose Up / -- +goose Down			the sections (Up first, once)
 *		-- +goose StatementBegin / StatementEnd	one statement, semicolons and all
 *		-- +goose NO TRANSACTION				the whole file runs outside a
 *												transaction
 *
 *	  A comment line that mentions +goose is an annotation, matched without
 *	  regard to case, as goose matches it; whatever goose refuses (an
 *	  unknown annotation, SQL before Up, Down before Up, a block left open,
 *	  a statement without its semicolon) is refused here too, naming the
 *	  line.  ENVSUB ON (environment variables substituted into the SQL) is
 *	  refused: the server does not have the deploying shell's environment.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"

#include "../layout.h"

#define GOOSE "goose"

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

/*
 * Reads an annotation line: a comment ("--" first on the line) that
 * mentions +goose.  The dashes and the first +goose are dropped and the
 * rest compared, ignoring case, with the annotations goose knows.
 */
static GooseAnnotation
read_annotation(const char *name, const TextLine *line)
{
	char	   *text;
	char	   *trimmed;
	char	   *plus;
	StringInfoData word;
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
	if (line->len < 8 || memchr(line->start, '+', line->len) == NULL)
		return GOOSE_NONE;
	text = pnstrdup(line->start, line->len);
	trimmed = text;
	while (isspace((unsigned char) *trimmed))
		trimmed++;
	if (strncmp(trimmed, "--", 2) != 0 || strstr(text, "+goose") == NULL)
	{
		pfree(text);
		return GOOSE_NONE;
	}
	if (trimmed != text)
		layout_malformed(name, line->number, GOOSE,
						 "an annotation must start at the beginning of its line", NULL);

	/* drop every "--" and the first "+goose", then trim */
	initStringInfo(&word);
	for (const char *p = text; *p; p++)
	{
		if (p[0] == '-' && p[1] == '-')
			p++;
		else
			appendStringInfoChar(&word, *p);
	}
	plus = strstr(word.data, "+goose");
	memmove(plus, plus + 6, strlen(plus + 6) + 1);
	if (strstr(word.data, "+goose") != NULL)
		layout_malformed(name, line->number, GOOSE,
						 "an annotation names +goose twice", NULL);
	trimmed = word.data;
	while (isspace((unsigned char) *trimmed))
		trimmed++;
	for (int end = strlen(trimmed); end > 0 && isspace((unsigned char) trimmed[end - 1]); end--)
		trimmed[end - 1] = '\0';

	for (int i = 0; i < lengthof(known); i++)
		if (pg_strcasecmp(trimmed, known[i].word) == 0)
			return known[i].annotation;
	layout_malformed(name, line->number, GOOSE,
					 psprintf("unknown annotation \"%s\"", trimmed),
					 "goose knows Up, Down, StatementBegin, StatementEnd, NO TRANSACTION and ENVSUB ON/OFF.");
	return GOOSE_NONE;			/* keep the compiler quiet */
}

/* The state of the scan: where we are in the file. */
typedef struct GooseScan
{
	const char *name;
	FileSections *sections;
	TextRange  *section;		/* the section being read, or NULL before Up */
	int			block_start;	/* offset after an open StatementBegin, or -1 */
	int			block_line;
	int			unfinished_line;	/* line of a statement not yet ended, or 0 */
} GooseScan;

/* Ends the current section at an offset, refusing an unfinished statement. */
static void
end_section(GooseScan *g, int offset, int line)
{
	if (g->unfinished_line > 0)
		layout_malformed(g->name, g->unfinished_line, GOOSE,
						 "a statement is not ended by a semicolon",
						 "End each statement with a semicolon at the end of its line, or wrap it in -- +goose StatementBegin and -- +goose StatementEnd.");
	if (g->section != NULL)
		g->section->end = offset;
}

/* Handles one annotation. */
static void
annotation(GooseScan *g, GooseAnnotation a, const TextLine *line)
{
	FileSections *s = g->sections;

	if (a != GOOSE_NO_TRANSACTION && a != GOOSE_ENVSUB_OFF)
		layout_add_marker(s, line);
	switch (a)
	{
		case GOOSE_UP:
			if (s->up.line > 0)
				layout_malformed(g->name, line->number, GOOSE,
								 "a second -- +goose Up annotation", NULL);
			g->section = &s->up;
			s->up.start = line->offset;
			s->up.line = line->number;
			break;
		case GOOSE_DOWN:
			if (s->up.line == 0 || s->down.start >= 0 || g->block_start >= 0)
				layout_malformed(g->name, line->number, GOOSE,
								 s->up.line == 0 ? "-- +goose Down before -- +goose Up" :
								 s->down.start >= 0 ? "a second -- +goose Down annotation" :
								 "-- +goose Down inside a statement block", NULL);
			end_section(g, line->offset, line->number);
			g->section = &s->down;
			s->down.start = line->offset;
			s->down.line = line->number;
			break;
		case GOOSE_BEGIN:
			if (g->section == NULL || g->block_start >= 0)
				layout_malformed(g->name, line->number, GOOSE,
								 g->section == NULL ?
								 "-- +goose StatementBegin before -- +goose Up or Down" :
								 "-- +goose StatementBegin inside a statement block", NULL);
			g->block_start = line->offset;
			g->block_line = line->number;
			break;
		case GOOSE_END:
			if (g->block_start < 0)
				layout_malformed(g->name, line->number, GOOSE,
								 "-- +goose StatementEnd without -- +goose StatementBegin", NULL);
			layout_add_block(s, g->block_start, line->offset + line->len,
							 g->block_line);
			g->block_start = -1;
			break;
		case GOOSE_NO_TRANSACTION:
			s->up_no_transaction = s->down_no_transaction = true;
			s->no_transaction_line = line->number;
			layout_add_marker(s, line);
			break;
		case GOOSE_ENVSUB_ON:
			layout_malformed(g->name, line->number, GOOSE,
							 "-- +goose ENVSUB ON is not supported",
							 "The server does not see the environment of the shell that deploys; write the values into the migration.");
			break;
		case GOOSE_ENVSUB_OFF:
		case GOOSE_NONE:
			break;
	}
}

/* Scans a file for goose annotations; false if it carries none. */
static bool
goose_scan(const char *name, const char *text, int len, FileSections *s)
{
	GooseScan	g;
	TextLine	line;
	bool		any = false;
	int			sql_before = 0;

	memset(&g, 0, sizeof(g));
	g.name = name;
	g.sections = s;
	g.block_start = -1;
	s->layout = LAYOUT_GOOSE;
	s->up.start = -1;

	memset(&line, 0, sizeof(line));
	while (layout_next_line(text, len, &line))
	{
		GooseAnnotation a = read_annotation(name, &line);

		if (a != GOOSE_NONE)
		{
			any = true;
			annotation(&g, a, &line);
			continue;
		}
		if (g.block_start >= 0 || layout_is_blank_or_comment(&line))
		{
			if (g.unfinished_line > 0 && layout_ends_statement(&line))
				g.unfinished_line = 0;
			continue;
		}
		if (g.section == NULL)
		{
			if (sql_before == 0)
				sql_before = line.number;
			continue;
		}
		if (g.unfinished_line == 0)
			g.unfinished_line = line.number;
		if (layout_ends_statement(&line))
			g.unfinished_line = 0;
	}
	if (!any)
		return false;
	if (sql_before > 0)
		layout_malformed(name, sql_before, GOOSE, "SQL before -- +goose Up",
						 "Only comments may come before the up section.");
	if (g.block_start >= 0)
		layout_malformed(name, g.block_line, GOOSE,
						 "-- +goose StatementBegin without -- +goose StatementEnd", NULL);
	if (s->up.line == 0)
		layout_malformed(name, 1, GOOSE,
						 "no -- +goose Up annotation",
						 "A goose migration starts its up section with -- +goose Up.");
	end_section(&g, len, 0);
	return true;
}

const LayoutMethods goose_layout = {
	.layout = LAYOUT_GOOSE,
	.name = "goose",
	.runner = "goose",
	.family = FAMILY_FLAT,
	.read_name = NULL,
	.compare = flat_compare,
	.version_cmp = migration_name_cmp,
	.scan = goose_scan,
	.requires_markers = true,
	.marker_word = "+goose",
	.marker_word_ci = false,
};
