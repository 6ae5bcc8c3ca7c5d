/*-------------------------------------------------------------------------
 *
 * node_pg_migrate.c
 *	  node-pg-migrate's SQL migrations: TIMESTAMP_name.sql files cut by
 *	  comment lines that say "Up Migration" and "Down Migration" (any case,
 *	  dashes and blanks allowed after the "--"), in the order of their
 *	  numeric prefix (a 17-digit prefix is a UTC time to the millisecond,
 *	  YYYYMMDDhhmmssSSS; any other a number, such as milliseconds since
 *	  1970), then their names.  A file without markers is all up, as
 *	  node-pg-migrate runs it; a file with a down marker but no up marker
 *	  is refused (node-pg-migrate would run its down section as up), and so
 *	  is a file with two up or two down markers.  JavaScript and TypeScript
 *	  migrations beside them only node-pg-migrate can run.
 *
 *	  The markers are weak: "-- Up migration: create users" is also an
 *	  ordinary comment.  They count only in a directory known to be
 *	  node-pg-migrate's, or one whose files carry no other runner's
 *	  markers; what the runner would refuse in them is refused only then.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "datatype/timestamp.h"
#include "utils/datetime.h"

#include "../layout.h"
#include "../migration.h"

#define NODE_PG_MIGRATE "node-pg-migrate"

/* Tells whether a line is a marker: "--", dashes or blanks, WORD, blanks, "migration". */
static bool
is_marker(const TextLine *line, const char *word)
{
	const char *p = line->start;
	const char *end = line->start + line->len;
	size_t		wlen = strlen(word);

	while (p < end && isspace((unsigned char) *p))
		p++;
	if (end - p < 2 || p[0] != '-' || p[1] != '-')
		return false;
	p += 2;
	while (p < end && (isspace((unsigned char) *p) || *p == '-'))
		p++;
	if ((size_t) (end - p) < wlen || pg_strncasecmp(p, word, wlen) != 0)
		return false;
	p += wlen;
	if (p >= end || !isspace((unsigned char) *p))
		return false;
	while (p < end && isspace((unsigned char) *p))
		p++;
	return end - p >= 9 && pg_strncasecmp(p, "migration", 9) == 0;
}

/* Scans a file for node-pg-migrate's markers; false if it carries none. */
static bool
node_pg_migrate_scan(const char *name, const char *text, int len,
					 FileSections *s)
{
	TextLine	line;
	TextRange  *section = NULL;

	s->layout = LAYOUT_NODE_PG_MIGRATE;
	s->up.start = -1;

	memset(&line, 0, sizeof(line));
	while (layout_next_line(text, len, &line))
	{
		bool		up = is_marker(&line, "up");
		TextRange  *r;

		if (!up && !is_marker(&line, "down"))
			continue;
		r = up ? &s->up : &s->down;
		if (r->start >= 0)
		{
			layout_defer_problem(&s->up_problem, line.number,
								 up ? "a second Up Migration marker" :
								 "a second Down Migration marker", NULL);
			continue;
		}
		if (section != NULL)
			section->end = line.offset;
		section = r;
		r->start = line.offset;
		r->end = len;
		r->line = line.number;
		layout_add_marker(s, &line);
	}
	if (section == NULL)
		return false;
	if (s->up.start < 0)
	{
		/* its problem is raised before any part of it is used */
		layout_defer_problem(&s->up_problem, s->down.line,
							 "a Down Migration marker without an Up Migration marker",
							 "node-pg-migrate would run the whole file, down section included, as the up migration; add a line -- Up Migration above the up statements.");
		s->up.start = 0;
		s->up.end = s->down.start;
		s->up.line = 1;
	}
	return true;
}

/* A name's numeric prefix as node-pg-migrate reads it, in milliseconds. */
static double
numeric_prefix(const char *version)
{
	if (strlen(version) == 17)
	{
		struct pg_tm tm;
		int			ms;
		int64		days;

		memset(&tm, 0, sizeof(tm));
		if (sscanf(version, "%4d%2d%2d%2d%2d%2d%3d", &tm.tm_year, &tm.tm_mon,
				   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) == 7)
		{
			days = date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - UNIX_EPOCH_JDATE;
			return ((double) days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 +
					tm.tm_sec) * 1000 + ms;
		}
	}
	return strtod(version, NULL);
}

/* node-pg-migrate's order: numeric prefix, then name. */
static int
node_pg_migrate_compare(const MigrationFile *a, const MigrationFile *b)
{
	double		va = numeric_prefix(a->version);
	double		vb = numeric_prefix(b->version);

	if (va != vb)
		return va < vb ? -1 : 1;
	return migration_name_cmp(a->name, b->name);
}

const LayoutMethods node_pg_migrate_layout = {
	.layout = LAYOUT_NODE_PG_MIGRATE,
	.name = "node-pg-migrate",
	.runner = "node-pg-migrate",
	.family = FAMILY_FLAT,
	.read_name = NULL,
	.compare = node_pg_migrate_compare,
	.version_cmp = migration_name_cmp,
	.scan = node_pg_migrate_scan,
	.requires_markers = false,
	.marker_word = "migration",
	.marker_word_ci = true,
	.weak_markers = true,
};
