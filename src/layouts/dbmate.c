/*-------------------------------------------------------------------------
 *
 * dbmate.c
 *	  dbmate's migrations: VERSION_name.sql files, each with an up and a
 *	  down section, in version order:
 *
 *		-- migrate:up [transaction:false]
 *		...
 *		-- migrate:down [transaction:false]
 *		...
 *
 *	  The markers start their line ("--", optional blanks, "migrate:up" or
 *	  "migrate:down", matched with case, then the end of the line or blanks
 *	  and options).  As dbmate does, a file must have its up section first
 *	  and its down section after it, with only comments and blank lines
 *	  before the up marker; transaction:false on a marker line runs that
 *	  section outside a transaction.  A file with several up/down pairs
 *	  (newer dbmate) is refused: each pair would be a migration of its own.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "../layout.h"

#define DBMATE "dbmate"

/*
 * Tells whether a line is a dbmate marker of the given word ("up" or
 * "down"), and if so whether it says transaction:false.
 */
static bool
is_marker(const TextLine *line, const char *word, bool *no_transaction)
{
	const char *p = line->start;
	const char *end = line->start + line->len;
	size_t		wlen = strlen(word);

	*no_transaction = false;
	if (line->len < 2 || p[0] != '-' || p[1] != '-')
		return false;
	p += 2;
	while (p < end && isspace((unsigned char) *p))
		p++;
	if (end - p < 8 + (long) wlen || strncmp(p, "migrate:", 8) != 0 ||
		strncmp(p + 8, word, wlen) != 0)
		return false;
	p += 8 + wlen;
	if (p < end && !isspace((unsigned char) *p))
		return false;

	/* options: key:value words; transaction:false turns the transaction off */
	while (p < end)
	{
		const char *w;

		while (p < end && isspace((unsigned char) *p))
			p++;
		w = p;
		while (p < end && !isspace((unsigned char) *p))
			p++;
		if (p - w == 17 && strncmp(w, "transaction:false", 17) == 0)
			*no_transaction = true;
	}
	return true;
}

/* Scans a file for dbmate's markers; false if it carries none. */
static bool
dbmate_scan(const char *name, const char *text, int len, FileSections *s)
{
	TextLine	line;
	bool		any = false;
	int			sql_before = 0;

	s->layout = LAYOUT_DBMATE;
	s->up.start = -1;

	memset(&line, 0, sizeof(line));
	while (layout_next_line(text, len, &line))
	{
		bool		no_tx;

		if (is_marker(&line, "up", &no_tx))
		{
			if (s->up.start >= 0)
				layout_malformed(name, line.number, DBMATE,
								 "a second -- migrate:up marker",
								 "Put each migration in a file of its own.");
			any = true;
			s->up.start = line.offset;
			s->up.end = len;
			s->up.line = line.number;
			s->up_no_transaction = no_tx;
			if (no_tx)
				s->no_transaction_line = line.number;
			layout_add_marker(s, &line);
		}
		else if (is_marker(&line, "down", &no_tx))
		{
			any = true;
			if (s->up.start < 0)
				layout_malformed(name, line.number, DBMATE,
								 "-- migrate:down before -- migrate:up", NULL);
			if (s->down.start >= 0)
				layout_malformed(name, line.number, DBMATE,
								 "a second -- migrate:down marker", NULL);
			s->up.end = line.offset;
			s->down.start = line.offset;
			s->down.end = len;
			s->down.line = line.number;
			s->down_no_transaction = no_tx;
			layout_add_marker(s, &line);
		}
		else if (s->up.start < 0 && sql_before == 0 &&
				 !layout_is_blank_or_comment(&line))
			sql_before = line.number;
	}
	if (!any)
		return false;
	if (sql_before > 0)
		layout_malformed(name, sql_before, DBMATE,
						 "a statement before -- migrate:up",
						 "Only comments may come before the up section.");
	if (s->down.start < 0)
		layout_malformed(name, s->up.line, DBMATE,
						 "no -- migrate:down marker",
						 "dbmate requires a down section, even an empty one: add a line -- migrate:down.");
	return true;
}

const LayoutMethods dbmate_layout = {
	.layout = LAYOUT_DBMATE,
	.name = "dbmate",
	.runner = "dbmate",
	.family = FAMILY_FLAT,
	.read_name = NULL,
	.compare = flat_compare,
	.version_cmp = migration_name_cmp,
	.scan = dbmate_scan,
	.requires_markers = true,
	.marker_word = "migrate:",
	.marker_word_ci = false,
};
