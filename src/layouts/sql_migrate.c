/*-------------------------------------------------------------------------
 *
 * sql_migrate.c
 *	  sql-migrate's directory, as sql-migrate reads it (the version Debian
 *	  packages: rubenv/sql-migrate 0633851, December 2019).
 *
 *	  Names: every *.sql file (the suffix with its case) is a migration,
 *	  NAME.down.sql too, and a hidden one (refused: morgenmigrate reads no
 *	  hidden file); so is a directory so named, which sql-migrate cannot
 *	  read and refuses the whole directory for (refused too).  A
 *	  migration's history key is its name.  Order: names with a numeric
 *	  prefix first, by that number (a signed 64-bit one: sql-migrate stops
 *	  on a larger one, so such a name is refused), then byte by byte;
 *	  names without one after them, byte by byte.  A rollback takes the
 *	  applied migration that comes last in that order, and one without a
 *	  down section rolls back as a no-op, as sql-migrate runs nothing for it.
 *
 *	  Text: sql-migrate reads a file line by line (a carriage return
 *	  before a line end dropped) and cuts it by commands on lines that start
 *	  with exactly "-- +migrate " (with case):
 *
 *		-- +migrate Up [notransaction]
 *		-- +migrate Down [notransaction]
 *		-- +migrate StatementBegin / StatementEnd
 *
 *	  Lines before the first Up or Down are ignored; every other line that
 *	  starts with "-- " or "-- +" is dropped, wherever it stands.  Outside a
 *	  StatementBegin/End block it sends the lines up to one whose last word
 *	  (before a word starting with "--") ends in a semicolon as one chunk; a
 *	  block is one chunk.  Its scanners hold a line of less than 1 MB (a
 *	  longer one refuses the directory: refused) and a word of less than 64
 *	  kB with the character after it (a longer word ends its reading of the
 *	  line, the word before it then being the last).  The scan below runs
 *	  the same machine.  What sql-migrate refuses (a statement without its
 *	  semicolon, a block left open, a line of 1 MB) is refused; where it
 *	  would send something else than the server reads in the file (half a
 *	  statement, where a line ends in a semicolon inside a string or a body;
 *	  a string whose "-- " line or carriage return it drops; a statement
 *	  glued to the block after it) that direction is refused; and where it
 *	  is lenient, so that the file would not run as its author meant, this
 *	  is strict: an unknown command, a second Up or Down section, a
 *	  StatementBegin before the first section or inside a block, a
 *	  StatementEnd without its StatementBegin, a file without an Up section
 *	  (sql-migrate would record it without running anything), and a command
 *	  on the first line after a byte-order mark (sql-migrate would not see
 *	  it) are refused.  Each chunk of several statements is one statement
 *	  block: without a transaction the server runs such a chunk as one
 *	  implicit transaction, and so does morgenmigrate.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "../layout.h"
#include "../migration.h"

#define SQL_MIGRATE "sql-migrate"
#define PREFIX "-- +migrate "

/* sql-migrate's largest numeric prefix: a signed 64-bit number. */
#define MAX_VERSION "9223372036854775807"

/*
 * The buffers of sql-migrate's scanners (Go's bufio.Scanner): of lines, 1
 * MB (sqlparse.ParseMigration), and of the words of a line, 64 kB (the
 * default, in endsWithSemicolon).
 */
#define MAX_LINE (1024 * 1024)
#define MAX_WORD (64 * 1024)

/* The chunks sql-migrate sends of one section. */
typedef struct ChunkList
{
	int		   *ends;			/* offsets of the ";" (or cut marker) ending
								 * each */
	int		   *lines;
	bool	   *blocks;			/* a StatementBegin/End block */
	int			n;
	int			max;
} ChunkList;

/* The state of sql-migrate's parser over one file, and what it finds. */
typedef struct SqlMigrateScan
{
	const char *name;
	const char *text;
	int			len;
	FileSections *sections;
	TextRange  *section;		/* the section being read, NULL before the
								 * first */
	bool		in_block;
	int			block_line;
	int			pending_line;	/* the first line of a statement not yet
								 * ended */
	int			hidden_line;	/* a line of it whose semicolon sql-migrate
								 * does not see */
	ChunkList	chunks[2];		/* up, down */
	LayoutProblem problems[2];	/* what is refused when that part runs */
} SqlMigrateScan;

/* Tells whether a line starts with a string. */
static bool
starts_with(const TextLine *line, const char *prefix)
{
	size_t		n = strlen(prefix);

	return line->len >= (int) n && strncmp(line->start, prefix, n) == 0;
}

/*
 * Tells whether sql-migrate drops a line from what it sends: one that
 * starts with "-- " or "-- +", but for its own commands.
 */
static bool
dropped_line(const TextLine *line)
{
	return (starts_with(line, "-- ") || starts_with(line, "-- +")) &&
		!starts_with(line, PREFIX);
}

/*
 * Tells whether the first token the server reads otherwise than
 * sql-migrate sends it (at offset changed of text) stands after a lone
 * carriage return on this line, which sql-migrate drops: the comment the
 * line starts with ends there for the server, which reads SQL after it.
 */
static bool
sql_after_cr(const char *text, const TextLine *line, int changed)
{
	const char *cr;

	if (changed < line->offset || changed >= line->offset + line->len)
		return false;
	cr = memchr(text + line->offset, '\r', changed - line->offset);
	return cr != NULL;
}

/* Which of the scan's parts a section is: 0 up, 1 down. */
static int
part_of(const SqlMigrateScan *m, const TextRange *section)
{
	return section == &m->sections->down ? 1 : 0;
}

/* Notes a chunk sql-migrate sends in the current section. */
static void
add_chunk(SqlMigrateScan *m, int end, int line, bool block)
{
	ChunkList  *c = &m->chunks[part_of(m, m->section)];

	if (c->n == c->max)
	{
		c->max = Max(16, c->max * 2);
		c->ends = c->ends ? repalloc(c->ends, sizeof(int) * c->max) :
			palloc(sizeof(int) * c->max);
		c->lines = c->lines ? repalloc(c->lines, sizeof(int) * c->max) :
			palloc(sizeof(int) * c->max);
		c->blocks = c->blocks ? repalloc(c->blocks, sizeof(bool) * c->max) :
			palloc(sizeof(bool) * c->max);
	}
	c->ends[c->n] = end;
	c->lines[c->n] = line;
	c->blocks[c->n] = block;
	c->n++;
}

/*
 * Refuses a statement sql-migrate sees no end of, as sql-migrate does,
 * naming the line whose semicolon it does not see, if one is why.
 */
static void
refuse_unended(const SqlMigrateScan *m)
{
	if (m->hidden_line > 0)
		layout_malformed(m->name, m->hidden_line, SQL_MIGRATE,
						 "sql-migrate does not see the semicolon that ends this line",
						 "sql-migrate reads the words of a line into a buffer of 64 kB, and stops at a word that does not fit in it with the character after it, not seeing the words after it; split the word (a long string with ||), or wrap the statement in -- +migrate StatementBegin and -- +migrate StatementEnd.");
	layout_malformed(m->name, m->pending_line, SQL_MIGRATE,
					 "a statement is not ended by a semicolon",
					 "End each statement with a semicolon at the end of its line, or wrap it in -- +migrate StatementBegin and -- +migrate StatementEnd.");
}

/*
 * Reads a command line as sql-migrate does: its first word after the
 * prefix (words cut at Go's white space) is the command, the others its
 * options, of which sql-migrate knows notransaction and ignores the rest.
 */
static void
command(SqlMigrateScan *m, const TextLine *line)
{
	FileSections *s = m->sections;
	const char *p = line->start + strlen(PREFIX);
	const char *end = line->start + line->len;
	const char *word;
	size_t		wlen;
	bool		notransaction = false;
	int			n;

	while ((n = layout_go_space(p, end)) > 0)
		p += n;
	word = p;
	while (p < end && layout_go_space(p, end) == 0)
		p++;
	wlen = p - word;
	if (wlen == 0)
		layout_malformed(m->name, line->number, SQL_MIGRATE,
						 "an incomplete -- +migrate command", NULL);
	while (p < end)
	{
		const char *opt;

		while ((n = layout_go_space(p, end)) > 0)
			p += n;
		opt = p;
		while (p < end && layout_go_space(p, end) == 0)
			p++;
		if (p - opt == strlen("notransaction") &&
			strncmp(opt, "notransaction", p - opt) == 0)
			notransaction = true;
	}

	if ((wlen == 2 && strncmp(word, "Up", 2) == 0) ||
		(wlen == 4 && strncmp(word, "Down", 4) == 0))
	{
		bool		up = word[0] == 'U';
		TextRange  *r = up ? &s->up : &s->down;

		if (m->in_block)
			layout_malformed(m->name, line->number, SQL_MIGRATE,
							 psprintf("-- +migrate %s inside a statement block", up ? "Up" : "Down"), NULL);
		if (m->pending_line > 0)
			refuse_unended(m);
		if (r->start >= 0)
			layout_malformed(m->name, line->number, SQL_MIGRATE,
							 psprintf("a second -- +migrate %s section", up ? "Up" : "Down"),
							 "sql-migrate would join the two sections; keep one of each in a file.");
		if (m->section != NULL)
			m->section->end = line->offset;
		m->section = r;
		r->start = line->offset;
		r->end = m->len;
		r->line = line->number;
		if (notransaction)
		{
			if (up)
				s->up_no_transaction = true;
			else
				s->down_no_transaction = true;
			s->no_transaction_line = line->number;
		}
	}
	else if (wlen == strlen("StatementBegin") &&
			 strncmp(word, "StatementBegin", wlen) == 0)
	{
		if (m->section == NULL || m->in_block)
			layout_malformed(m->name, line->number, SQL_MIGRATE,
							 m->section == NULL ?
							 "-- +migrate StatementBegin before -- +migrate Up or Down" :
							 "-- +migrate StatementBegin inside a statement block", NULL);
		if (m->pending_line > 0)
			layout_defer_problem(&m->problems[part_of(m, m->section)], m->pending_line,
								 "a statement before -- +migrate StatementBegin is not ended by a semicolon",
								 "End it with a semicolon at the end of its line: sql-migrate would send it joined to the block that follows.");
		m->in_block = true;
		m->block_line = line->number;
	}
	else if (wlen == strlen("StatementEnd") &&
			 strncmp(word, "StatementEnd", wlen) == 0)
	{
		if (!m->in_block)
			layout_malformed(m->name, line->number, SQL_MIGRATE,
							 "-- +migrate StatementEnd without -- +migrate StatementBegin", NULL);
		/* the block, and what came before it, is one chunk */
		add_chunk(m, line->offset, line->number, true);
		m->in_block = false;
		m->pending_line = 0;
		m->hidden_line = 0;
	}
	else
		layout_malformed(m->name, line->number, SQL_MIGRATE,
						 psprintf("unknown command \"%s\"", pnstrdup(word, wlen)),
						 "sql-migrate knows Up, Down, StatementBegin and StatementEnd, spelt with these capitals.");
}

/*
 * Holds what sql-migrate sends of one section against the file's text:
 * where it ends a chunk the server must end a statement, and the lines and
 * carriage returns it drops must lie where the server reads no token (in
 * white space or a comment), or it would send another text than the file
 * holds.  What it finds is refused when that section runs.
 */
static void
check_section(SqlMigrateScan *m, MigrationSection section)
{
	FileSections *s = m->sections;
	const TextRange *r = section == SECTION_UP ? &s->up : &s->down;
	ChunkList  *c = &m->chunks[section == SECTION_UP ? 0 : 1];
	LayoutProblem *problem = &m->problems[section == SECTION_UP ? 0 : 1];
	char	   *cut;
	char	   *sent;
	TextLine	line;
	bool		blanked = false;
	int			changed;
	int			bad;

	if (r->start < 0 || problem->line > 0)
		return;
	bad = layout_check_chunks(m->name, m->text, m->len, s, section,
							  c->ends, c->lines, c->n);
	if (bad >= 0)
	{
		layout_defer_problem(problem, c->lines[bad],
							 c->blocks[bad] ?
							 "-- +migrate StatementEnd inside a string, a comment or a quoted body" :
							 "sql-migrate ends a statement at the semicolon on this line, the server does not",
							 c->blocks[bad] ?
							 "sql-migrate would send the block as one statement, which the server reads as part of a longer one; close the string, comment or body before the command." :
							 "sql-migrate sends the text up to a line that ends in a semicolon as one statement, even inside a string, a comment or a function body, so it would send half of this one.  Wrap the statement in -- +migrate StatementBegin and -- +migrate StatementEnd.");
		return;
	}

	/* the text as sql-migrate sends it: dropped lines and CRs blanked */
	cut = layout_cut_section(m->name, m->text, m->len, s, section);
	sent = pstrdup(cut);
	memset(&line, 0, sizeof(line));
	while (layout_next_line(m->text, m->len, &line))
	{
		int			cr = -1;

		if (line.offset < r->start || line.offset >= r->end)
			continue;
		if (dropped_line(&line))
		{
			memset(sent + line.offset, ' ', line.len);
			blanked = true;
		}
		if (line.next > line.offset + line.len &&
			m->text[line.offset + line.len] == '\r')
			cr = line.offset + line.len;
		else if (line.next == m->len && line.len > 0 &&
				 m->text[line.offset + line.len - 1] == '\r')
			cr = line.offset + line.len - 1;
		if (cr >= 0)
		{
			sent[cr] = ' ';
			blanked = true;
		}
	}
	changed = blanked ? layout_changed_token(cut, sent) : -1;
	if (changed >= 0)
	{
		/* the first of its changes where the server's reading changes */
		memset(&line, 0, sizeof(line));
		while (layout_next_line(m->text, m->len, &line))
		{
			if (line.next <= changed || line.offset < r->start ||
				line.offset >= r->end || strncmp(cut + line.offset, sent + line.offset,
												  line.next - line.offset) == 0)
				continue;
			if (dropped_line(&line) && sql_after_cr(m->text, &line, changed))
				layout_defer_problem(problem, line.number,
									 "sql-migrate drops this line, with the SQL after the carriage return in it",
									 "sql-migrate reads a line that starts with \"-- \" as a comment up to its line feed, and drops it; the server ends the comment at a carriage return and runs what follows.  Put what follows the carriage return on a line of its own, or remove it.");
			else
				layout_defer_problem(problem, line.number,
									 dropped_line(&line) ?
									 "sql-migrate drops this line from the string, body or comment it stands in" :
									 "sql-migrate drops the carriage return at the end of this line from the string, body or comment it stands in",
									 dropped_line(&line) ?
									 "sql-migrate drops every line that starts with \"-- \" from what it sends, even inside a string or a function body; indent the line, or start it otherwise." :
									 "sql-migrate reads CRLF line ends as LF, even inside a string or a function body, where the server keeps them; save the file with LF line ends.");
			break;
		}
	}
	pfree(cut);
	pfree(sent);
}

/* Scans a file for sql-migrate's commands; false if it carries none. */
static bool
sql_migrate_scan(const char *name, const char *text, int len, FileSections *s)
{
	SqlMigrateScan m;
	TextLine	line;
	bool		any = false;

	memset(&m, 0, sizeof(m));
	m.name = name;
	m.text = text;
	m.len = len;
	m.sections = s;
	s->layout = LAYOUT_SQL_MIGRATE;
	s->up.start = -1;
	s->down.start = -1;

	memset(&line, 0, sizeof(line));
	while (layout_next_line(text, len, &line))
	{
		TextLine	l = line;
		const char *blank_start;
		const char *blank_end;
		int			semicolon;
		bool		cut;

		/* sql-migrate reads no line of 1 MB or more, line end included */
		if (l.next - l.offset >= MAX_LINE +
			(l.next > l.offset && text[l.next - 1] == '\n' ? 1 : 0))
			layout_malformed(name, l.number, SQL_MIGRATE,
							 "a line of a megabyte or more",
							 "sql-migrate reads a file line by line, each with its line end in a buffer of 1 MB, and refuses the whole directory for a longer line; break the line.");
		/* sql-migrate drops a carriage return before the end of the text too */
		if (l.offset + l.len == len && l.len > 0 && l.start[l.len - 1] == '\r')
			l.len--;
		if (starts_with(&l, PREFIX))
		{
			any = true;
			layout_add_marker(s, &l);
			command(&m, &l);
			continue;
		}
		if (m.section == NULL || dropped_line(&l) || m.in_block)
			continue;
		/* a line of more than blanks, as Go's strings.TrimSpace sees them */
		blank_start = l.start;
		blank_end = l.start + l.len;
		layout_go_trim(&blank_start, &blank_end);
		if (m.pending_line == 0 && blank_start < blank_end)
			m.pending_line = l.number;
		semicolon = layout_line_semicolon(&l, MAX_WORD, &cut);
		if (semicolon >= 0)
		{
			add_chunk(&m, semicolon, l.number, false);
			m.pending_line = 0;
			m.hidden_line = 0;
		}
		else if (cut && m.hidden_line == 0 &&
				 layout_line_semicolon(&l, 0, NULL) >= 0)
			m.hidden_line = l.number;
	}
	if (!any)
		return false;
	if (m.in_block)
		layout_malformed(name, m.block_line, SQL_MIGRATE,
						 "-- +migrate StatementBegin without -- +migrate StatementEnd", NULL);
	if (m.pending_line > 0)
		refuse_unended(&m);
	if (s->up.start < 0)
		layout_malformed(name, s->down.start >= 0 ? s->down.line : 1, SQL_MIGRATE,
						 "no -- +migrate Up section",
						 "sql-migrate would record the file as applied without running anything; add a line -- +migrate Up above its up statements (an up section may be empty).");
	check_section(&m, SECTION_UP);
	check_section(&m, SECTION_DOWN);

	/* refused when that part runs (the up part: before anything runs) */
	s->up_problem = m.problems[0];
	s->down_problem = m.problems[1];
	return true;
}

/*
 * Reads a file name as sql-migrate reads it in a directory of its own:
 * every *.sql file is a migration, named by its file name; a numeric
 * prefix beyond a signed 64-bit number stops sql-migrate while it sorts,
 * and is refused.  Every other entry is skipped.
 */
static void
sql_migrate_own_name(const char *name, LayoutEntry *entry)
{
	size_t		digits = strspn(name, "0123456789");
	const char *v = name;

	if (!has_suffix_ci(name, ".sql", false))
	{
		entry->role = ROLE_IGNORED;
		entry->why = "sql-migrate reads only *.sql files";
		return;
	}
	while (*v == '0' && v < name + digits - 1)
		v++;
	if (name + digits - v > strlen(MAX_VERSION) ||
		(name + digits - v == strlen(MAX_VERSION) &&
		 strncmp(v, MAX_VERSION, strlen(MAX_VERSION)) > 0))
	{
		entry->role = ROLE_UNKNOWN;
		entry->what = "Its numeric prefix does not fit in a signed 64-bit number: sql-migrate stops while it sorts the migrations, before anything runs.";
		return;
	}
	entry->role = ROLE_UP;
	entry->version = pnstrdup(name, digits);
	entry->key = pstrdup(name);
	entry->why = "sql-migrate migration (*.sql)";
}

/*
 * sql-migrate's order: names with a numeric prefix first, by that number,
 * then by the whole name byte by byte (00_b.sql before 0_a.sql: their
 * numbers are equal); names without one by name.
 */
static int
sql_migrate_compare(const MigrationFile *a, const MigrationFile *b)
{
	size_t		da = strspn(a->name, "0123456789");
	size_t		db = strspn(b->name, "0123456789");

	if (da > 0 && db > 0)
	{
		int			c = layout_digits_cmp(a->version, b->version);

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
	.transaction_hint = "Add notransaction to the -- +migrate Up (or Down) line of the section, or move the statement into a migration of its own.",
	.bom_in_text = "sql-migrate reads the byte-order mark as part of the first line, so that it does not see the command there; save the file without it.",
	.own_name = sql_migrate_own_name,
	.reads_hidden = true,
	.subdir_as_file = "sql-migrate reads every entry whose name ends in .sql as a migration file, a directory too, and refuses the whole directory when it cannot read one.",
	.noop_rollback = true,
	.rollback_by_version = true,
};
