/*-------------------------------------------------------------------------
 *
 * sql_migrate.c
 *	  sql-migrate's migrations: *.sql files, sorted by their numeric prefix
 *	  and then by name, cut by commands in comment lines that start with
 *	  exactly "-- +migrate " (with case):
 *
 *		-- +migrate Up [notransaction]
 *		-- +migrate Down [notransaction]
 *		-- +migrate StatementBegin / StatementEnd
 *
 *	  Text before the first Up or Down is ignored, as sql-migrate ignores
 *	  it.  Where sql-migrate is lenient this is strict, so that nothing runs
 *	  that its author did not mean: an unknown command, a second Up or Down
 *	  section, and a StatementEnd without its StatementBegin are refused,
 *	  like a block left open or a statement without its semicolon.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "../layout.h"
#include "../migration.h"

#define SQL_MIGRATE "sql-migrate"
#define PREFIX "-- +migrate "

/* Scans a file for sql-migrate's commands; false if it carries none. */
static bool
sql_migrate_scan(const char *name, const char *text, int len, FileSections *s)
{
	TextLine	line;
	bool		any = false;
	TextRange  *section = NULL;
	int			block_start = -1;
	int			block_line = 0;
	int			unfinished = 0;

	s->layout = LAYOUT_SQL_MIGRATE;
	s->up.start = -1;

	memset(&line, 0, sizeof(line));
	while (layout_next_line(text, len, &line))
	{
		char	   *cmd;
		char	   *word;
		char	   *opt;
		char	   *save;

		if (line.len < (int) strlen(PREFIX) ||
			strncmp(line.start, PREFIX, strlen(PREFIX)) != 0)
		{
			if (section == NULL || block_start >= 0 ||
				layout_is_blank_or_comment(&line))
				continue;
			if (unfinished == 0)
				unfinished = line.number;
			if (layout_ends_statement(&line))
				unfinished = 0;
			continue;
		}

		any = true;
		layout_add_marker(s, &line);
		cmd = pnstrdup(line.start + strlen(PREFIX), line.len - strlen(PREFIX));
		word = strtok_r(cmd, " \t\r", &save);
		if (word == NULL)
			layout_malformed(name, line.number, SQL_MIGRATE,
							 "an incomplete -- +migrate command", NULL);
		if (strcmp(word, "Up") == 0 || strcmp(word, "Down") == 0)
		{
			bool		up = word[0] == 'U';
			TextRange  *r = up ? &s->up : &s->down;

			if (r->start >= 0 && r->line > 0)
				layout_malformed(name, line.number, SQL_MIGRATE,
								 psprintf("a second -- +migrate %s section", word), NULL);
			if (block_start >= 0)
				layout_malformed(name, line.number, SQL_MIGRATE,
								 psprintf("-- +migrate %s inside a statement block", word), NULL);
			if (unfinished > 0)
				layout_malformed(name, unfinished, SQL_MIGRATE,
								 "a statement is not ended by a semicolon",
								 "End each statement with a semicolon at the end of its line, or wrap it in -- +migrate StatementBegin and -- +migrate StatementEnd.");
			if (section != NULL)
				section->end = line.offset;
			section = r;
			r->start = line.offset;
			r->end = len;
			r->line = line.number;
			while ((opt = strtok_r(NULL, " \t\r", &save)) != NULL)
			{
				if (strcmp(opt, "notransaction") != 0)
					layout_malformed(name, line.number, SQL_MIGRATE,
									 psprintf("unknown option \"%s\"", opt),
									 "The one option is notransaction.");
				if (up)
					s->up_no_transaction = true;
				else
					s->down_no_transaction = true;
				s->no_transaction_line = line.number;
			}
		}
		else if (strcmp(word, "StatementBegin") == 0)
		{
			if (section == NULL || block_start >= 0)
				layout_malformed(name, line.number, SQL_MIGRATE,
								 section == NULL ?
								 "-- +migrate StatementBegin before -- +migrate Up or Down" :
								 "-- +migrate StatementBegin inside a statement block", NULL);
			block_start = line.offset;
			block_line = line.number;
		}
		else if (strcmp(word, "StatementEnd") == 0)
		{
			if (block_start < 0)
				layout_malformed(name, line.number, SQL_MIGRATE,
								 "-- +migrate StatementEnd without -- +migrate StatementBegin", NULL);
			layout_add_block(s, block_start, line.offset + line.len, block_line);
			block_start = -1;
		}
		else
			layout_malformed(name, line.number, SQL_MIGRATE,
							 psprintf("unknown command \"%s\"", word),
							 "sql-migrate knows Up, Down, StatementBegin and StatementEnd, spelt with these capitals.");
	}
	if (!any)
		return false;
	if (block_start >= 0)
		layout_malformed(name, block_line, SQL_MIGRATE,
						 "-- +migrate StatementBegin without -- +migrate StatementEnd", NULL);
	if (unfinished > 0)
		layout_malformed(name, unfinished, SQL_MIGRATE,
						 "a statement is not ended by a semicolon", NULL);
	if (s->up.start < 0)
		layout_malformed(name, 1, SQL_MIGRATE, "no -- +migrate Up section",
						 "An sql-migrate migration starts its up section with -- +migrate Up.");
	return true;
}

/*
 * sql-migrate's order: names with a numeric prefix first, by that number,
 * then by the whole name byte by byte; names without one by name.
 */
static int
sql_migrate_compare(const MigrationFile *a, const MigrationFile *b)
{
	size_t		da = strspn(a->name, "0123456789");
	size_t		db = strspn(b->name, "0123456789");

	if (da > 0 && db > 0)
	{
		int			c = migration_name_cmp(a->version, b->version);

		if (c != 0)
			return c;
	}
	else if (da > 0 || db > 0)
		return da > 0 ? -1 : 1;
	return strcmp(a->name, b->name);
}

const LayoutMethods sql_migrate_layout = {
	.layout = LAYOUT_SQL_MIGRATE,
	.name = "sql-migrate",
	.runner = "sql-migrate",
	.family = FAMILY_FLAT,
	.read_name = NULL,
	.compare = sql_migrate_compare,
	.version_cmp = migration_name_cmp,
	.scan = sql_migrate_scan,
	.requires_markers = true,
	.marker_word = "-- +migrate ",
	.marker_word_ci = false,
};
