/*-------------------------------------------------------------------------
 *
 * dbmate.c
 *	  dbmate's directory, as dbmate 2 reads it.
 *
 *	  Names: a migration is a file whose name starts with digits and ends
 *	  in ".sql" (with that case), NAME.down.sql included; its version is
 *	  those digits as written ("003" and "3" are two versions).  Every
 *	  other entry is skipped (seed.sql, subdirectories).  Order: the names,
 *	  byte by byte (10_x.sql before 9_y.sql), and a rollback takes the last
 *	  applied migration in that order.  Two files of one version are
 *	  refused: dbmate would run the second and then fail to record it.
 *
 *	  Text: markers cut a file into its up and down sections:
 *
 *		-- migrate:up [transaction:false]
 *		...
 *		-- migrate:down [transaction:false]
 *		...
 *
 *	  A marker starts its line: "--", white space, "migrate:up" or
 *	  "migrate:down" with that case, then white space or the end of the
 *	  text; options follow as key:value words, the last of one key
 *	  counting, and transaction:false (with that case) runs the section
 *	  outside a transaction.  dbmate's lines end at LF alone: on a marker's
 *	  line, a carriage return ends the comment the server reads, and what
 *	  follows it runs with the section (a carriage return before the
 *	  keyword's end leaves the rest of the marker to the server, which fails
 *	  on it: refused).  Only comments and blank lines may come before
 *	  the up marker (a down marker there is one more comment), and the up
 *	  section needs its down marker after it.  A file with several up
 *	  markers (several migrations in one file, which dbmate records under
 *	  one version and fails on) is refused, and so is a byte-order mark,
 *	  which dbmate reads as a statement before the up marker.  A file whose
 *	  only marker-like lines are misspelt ("-- Migrate:Up", "--
 *	  migrate:upgrade") is refused too: dbmate refuses it, finding no up
 *	  section, where it would otherwise run as plain SQL, down part and all.
 *
 *	  dbmate sends each section to the server in one round trip: in a
 *	  transaction of its own, or, with transaction:false, as one batch,
 *	  which the server runs as one implicit transaction.  So a section
 *	  without a transaction is one statement block (it commits whole or
 *	  not at all, and cannot hold CREATE INDEX CONCURRENTLY beside other
 *	  statements), and a section in dbmate's transaction cannot hold a
 *	  statement no transaction can hold.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "../layout.h"
#include "../migration.h"

#define DBMATE "dbmate"

/* What a dbmate marker says. */
typedef struct DbmateMarker
{
	bool		up;				/* migrate:up, else migrate:down */
	bool		no_transaction; /* transaction:false */
	int			extra_lines;	/* lines after the first it spans */
	bool		cr_inside;		/* a carriage return before its keyword's
								 * end, where the server's comment ends */
	int			comment_len;	/* what of its line the server reads as
								 * the comment: up to a carriage return */
} DbmateMarker;

/* Why a carriage return inside a marker is refused. */
#define CR_IN_MARKER_HINT \
	"The server ends the comment at the carriage return and fails on the rest of the marker, which dbmate sends with the section; write the marker without it."

/* Tells whether a byte is white space to Go's regular expressions (\s). */
static bool
re_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/*
 * Reads the options of a marker line from p (after "migrate:up" or
 * "migrate:down") to the end of its line, as dbmate does: trimmed, cut
 * into words at white space, each word key:value (a word with another
 * number of colons says nothing), the last value of a key counting.
 * Tells whether they say transaction:false.
 */
static bool
says_no_transaction(const char *p, const char *eol)
{
	const char *value = NULL;
	int			value_len = 0;

	layout_go_trim(&p, &eol);
	while (p < eol)
	{
		const char *w = p;
		const char *colon = NULL;
		int			colons = 0;

		while (p < eol && !re_space(*p))
		{
			if (*p == ':')
			{
				colons++;
				colon = p;
			}
			p++;
		}
		if (colons == 1 && colon - w == 11 && strncmp(w, "transaction", 11) == 0)
		{
			value = colon + 1;
			value_len = p - value;
		}
		while (p < eol && re_space(*p))
			p++;
	}
	return value != NULL && value_len == 5 && strncmp(value, "false", 5) == 0;
}

/*
 * Tells whether a dbmate marker starts at a line, as dbmate's pattern
 * finds them: "--" at the start of the line, white space, "migrate:up" or
 * "migrate:down", then white space or the end of the text.  The white
 * space after "--" may hold line ends, so that "--" on a line of its own
 * and "migrate:up" on a later one are one marker to dbmate.  dbmate's
 * lines end at LF alone, where the server's comment ends at a carriage
 * return too: what follows a carriage return on the marker's line is SQL
 * that dbmate sends with the section.
 */
static bool
read_marker(const char *text, int len, const TextLine *line, DbmateMarker *m)
{
	const char *end = text + len;
	const char *p = line->start;
	const char *word;
	const char *cr;

	memset(m, 0, sizeof(DbmateMarker));
	if (line->len < 2 || p[0] != '-' || p[1] != '-')
		return false;
	for (p += 2; p < end && re_space(*p); p++)
		if (*p == '\n')
			m->extra_lines++;
	if (end - p < 10 || strncmp(p, "migrate:", 8) != 0)
		return false;
	word = p + 8;
	if (end - word >= 2 && strncmp(word, "up", 2) == 0)
		p = word + 2;
	else if (end - word >= 4 && strncmp(word, "down", 4) == 0)
		p = word + 4;
	else
		return false;
	if (p < end && !re_space(*p))
		return false;
	m->up = word[0] == 'u';
	cr = memchr(line->start, '\r', line->len);
	m->cr_inside = cr != NULL && cr < p;
	m->comment_len = cr != NULL && cr >= p ? cr - line->start : line->len;
	if (m->extra_lines == 0)
	{
		const char *eol = memchr(p, '\n', end - p);

		m->no_transaction = says_no_transaction(p, eol ? eol : end);
	}
	return true;
}

/*
 * Tells whether a line reads like a dbmate marker: "--", blanks and
 * "migrate:" in any case, after blanks or not.
 */
static bool
reads_like_marker(const TextLine *line)
{
	const char *p = line->start;
	const char *end = line->start + line->len;

	while (p < end && re_space(*p))
		p++;
	if (end - p < 2 || p[0] != '-' || p[1] != '-')
		return false;
	for (p += 2; p < end && re_space(*p); p++)
		;
	return end - p >= 8 && pg_strncasecmp(p, "migrate:", 8) == 0;
}

/* Tells whether dbmate reads a line as blank or as a comment. */
static bool
blank_or_comment(const TextLine *line)
{
	const char *p = line->start;
	const char *end = line->start + line->len;

	while (p < end && re_space(*p))
		p++;
	return p >= end || (end - p >= 2 && p[0] == '-' && p[1] == '-');
}

/*
 * Notes the lines of a marker, which the cut turns into statement breaks:
 * of its first line, what the server reads as the comment (the rest, after
 * a carriage return, runs).
 */
static void
add_marker_lines(const char *text, int len, FileSections *s, TextLine *line,
				 const DbmateMarker *m)
{
	TextLine	comment = *line;

	comment.len = m->comment_len;
	layout_add_marker(s, &comment);
	for (int i = 0; i < m->extra_lines && layout_next_line(text, len, line); i++)
		layout_add_marker(s, line);
}

/*
 * Scans a file for dbmate's markers; false if it carries none.  What
 * dbmate refuses is refused, in the order dbmate checks it.
 */
static bool
dbmate_scan(const char *name, const char *text, int len, FileSections *s)
{
	TextLine	line;
	DbmateMarker m;
	int			down_before_up = 0;
	int			sql_before = 0;
	int			second_down = 0;
	int			second_up = 0;
	int			near_miss = 0;

	s->layout = LAYOUT_DBMATE;
	s->up.start = -1;

	memset(&line, 0, sizeof(line));
	while (layout_next_line(text, len, &line))
	{
		if (!read_marker(text, len, &line, &m))
		{
			if (s->up.start < 0 && sql_before == 0 && !blank_or_comment(&line))
				sql_before = line.number;
			if (near_miss == 0 && reads_like_marker(&line))
				near_miss = line.number;
			continue;
		}
		if (s->up.start < 0 && !m.up)
		{
			/* before the up marker, one more comment line */
			if (down_before_up == 0)
				down_before_up = line.number;
			continue;
		}
		if (m.up && s->up.start >= 0)
		{
			if (second_up == 0)
				second_up = line.number;
			continue;
		}
		if (!m.up && s->down.start >= 0)
		{
			if (second_down == 0 && second_up == 0)
				second_down = line.number;
			continue;
		}

		/* dbmate sends a marker's second line to the server as SQL */
		if (m.extra_lines > 0 && m.up)
			layout_malformed(name, line.number, DBMATE,
							 "the -- migrate:up marker spans several lines",
							 "dbmate sends the text after the line of \"--\" to the server, which fails on it; write the marker on one line.");
		if (m.extra_lines > 0)
			layout_defer_problem(&s->down_problem, line.number,
								 "the -- migrate:down marker spans several lines",
								 "dbmate sends the text after the line of \"--\" to the server, which fails on it; write the marker on one line.");
		if (m.cr_inside && m.up)
			layout_malformed(name, line.number, DBMATE,
							 "the -- migrate:up marker holds a carriage return",
							 CR_IN_MARKER_HINT);
		if (m.cr_inside)
			layout_defer_problem(&s->down_problem, line.number,
								 "the -- migrate:down marker holds a carriage return",
								 CR_IN_MARKER_HINT);
		if (m.up)
		{
			s->up.start = line.offset;
			s->up.end = len;
			s->up.line = line.number;
			s->up_no_transaction = m.no_transaction;
		}
		else
		{
			s->up.end = line.offset;
			s->down.start = line.offset;
			s->down.end = len;
			s->down.line = line.number;
			s->down_no_transaction = m.no_transaction;
		}
		if (m.no_transaction && s->no_transaction_line == 0)
			s->no_transaction_line = line.number;
		add_marker_lines(text, len, s, &line, &m);
	}

	/* a file whose only markers are misspelt: dbmate finds no up section */
	if (s->up.start < 0 && down_before_up == 0 && near_miss > 0)
		layout_malformed(name, near_miss, DBMATE,
						 "a line reads like a dbmate marker, which dbmate does not read as one",
						 "dbmate's markers are -- migrate:up and -- migrate:down, in lower case, at the start of a line.");
	if (s->up.start < 0 && down_before_up == 0)
		return false;
	if (s->up.start < 0)
		layout_malformed(name, down_before_up, DBMATE,
						 "no -- migrate:up marker",
						 "dbmate requires an up section: add a line -- migrate:up above the statements of the migration.");
	if (sql_before > 0)
		layout_malformed(name, sql_before, DBMATE,
						 "a statement before -- migrate:up",
						 "Only comments may come before the up section.");
	if (second_down > 0)
		layout_malformed(name, second_down, DBMATE,
						 "a second -- migrate:down marker", NULL);
	if (s->down.start < 0)
		layout_malformed(name, s->up.line, DBMATE,
						 "no -- migrate:down marker",
						 "dbmate requires a down section, even an empty one: add a line -- migrate:down.");
	if (second_up > 0)
		layout_malformed(name, second_up, DBMATE,
						 "a second -- migrate:up marker",
						 "Put each migration in a file of its own.");

	/* a section without a transaction is one batch, one transaction */
	if (s->up_no_transaction)
		layout_add_block(s, s->up.start, s->up.end, s->up.line);
	if (s->down_no_transaction)
		layout_add_block(s, s->down.start, s->down.end, s->down.line);
	return true;
}

/*
 * Reads a file name as dbmate does once the directory is its own: a name
 * that starts with digits and ends in ".sql" is a migration of that
 * version (NAME.down.sql too); every other name is skipped.
 */
static void
dbmate_own_name(const char *name, LayoutEntry *entry)
{
	size_t		digits = strspn(name, "0123456789");

	if (digits == 0 || !has_suffix_ci(name, ".sql", false) ||
		strchr(name, '\n') != NULL)
	{
		entry->role = ROLE_IGNORED;
		entry->why = "dbmate reads only names that start with digits (the version) and end in .sql";
		return;
	}
	entry->role = ROLE_UP;
	entry->version = pnstrdup(name, digits);
	entry->key = pstrdup(name);
	entry->why = "dbmate migration: its version is the digits its name starts with";
}

/* dbmate's order: the file names, byte by byte. */
static int
dbmate_compare(const MigrationFile *a, const MigrationFile *b)
{
	return strcmp(a->path, b->path);
}

/* Compares two dbmate versions: strings, so "003" and "3" are two. */
static int
dbmate_version_cmp(const char *a, const char *b)
{
	return strcmp(a, b);
}

/* Tells whether a target names a version: the digits as written. */
static bool
dbmate_target_matches(const char *version, const char *target)
{
	return strcmp(version, target) == 0;
}

const LayoutMethods dbmate_layout = {
	.layout = LAYOUT_DBMATE,
	.name = "dbmate",
	.runner = "dbmate",
	.family = FAMILY_FLAT,
	.read_name = NULL,
	.compare = dbmate_compare,
	.version_cmp = dbmate_version_cmp,
	.scan = dbmate_scan,
	.requires_markers = true,
	.marker_word = "migrate:",
	.marker_word_ci = true,		/* a misspelt marker is refused */
	.bom_refusal = "dbmate reads the byte-order mark as a statement before -- migrate:up, and refuses the file; save it without the mark.",
	.own_name = dbmate_own_name,
	.link_as_file = "dbmate lists a link to a directory as a file, and fails on it when it comes to run it.",
	.unique_versions = true,
	.rollback_by_version = true,
	.target_matches = dbmate_target_matches,
	.transaction_hint = "Add transaction:false to the marker line of the section, or move the statement into a migration of its own.",
};
