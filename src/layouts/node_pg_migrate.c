/*-------------------------------------------------------------------------
 *
 * node_pg_migrate.c
 *	  node-pg-migrate's directory, as node-pg-migrate 9 reads it with its
 *	  default settings.
 *
 *	  Names: every file of the directory but hidden ones is a migration:
 *	  *.sql (any case) an SQL migration, *.js, .cjs, .mjs, .ts, .mts and
 *	  .cts a JavaScript or TypeScript one, which only node-pg-migrate can
 *	  run; it cannot load any other file (README.md) and stops before
 *	  running anything, and so it does for a name that does not start with
 *	  a number, which it cannot order.  A migration's name, in its history,
 *	  is the file name without its extension: NAME.down.sql is the
 *	  migration NAME.down, not a down file.  node-pg-migrate writes it into
 *	  its history between quotes as it is: a name holding a quote, which
 *	  it would fail to record (or record as another name), is refused.
 *
 *	  Order: by the leading number, a 17-digit one read as a UTC time to
 *	  the millisecond (YYYYMMDDhhmmssSSS), any other as a number such as
 *	  milliseconds since 1970; names of one number by JavaScript's
 *	  localeCompare with numeric collation and punctuation ignored (case
 *	  decides last, lower case first), which is followed here for names of
 *	  ASCII; where it cannot be followed, or leaves the order to chance, the
 *	  directory is refused.
 *
 *	  Text: the first line (any case, blanks and dashes after the "--")
 *	  that reads "Up Migration" starts the up part, the first that reads
 *	  "Down Migration" the down part; each part runs up to the other's
 *	  marker or the end of the file, as one text.  A file without markers
 *	  is all up.  node-pg-migrate looks for these lines anywhere, inside a
 *	  string or a function body too, and cuts the file there: such a file
 *	  is refused, as is one with a down marker but no up marker (its whole
 *	  text, down part included, would run as the up migration).  The text
 *	  is sent as it is, byte-order mark included.
 *
 *	  The markers are weak: "-- Up migration: create users" is also an
 *	  ordinary comment.  They count only in a directory known to be
 *	  node-pg-migrate's, or one whose files carry no other runner's
 *	  markers.  Names of node-pg-migrate's own making (a 13- or 17-digit
 *	  timestamp and "_") tell a directory whose files carry no markers at
 *	  all.  Where the directory was not set to be node-pg-migrate's, a
 *	  NAME.down.sql file, which morgenmigrate's own layout reads as a down
 *	  file, makes it ambiguous: refused.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "../layout.h"
#include "../migration.h"

#define NODE_PG_MIGRATE "node-pg-migrate"

/* The extensions of the migrations node-pg-migrate loads as programs. */
static const char *const script_extensions[] = {".js", ".cjs", ".mjs", ".ts", ".mts", ".cts"};

/*
 * The length of a character JavaScript's \s matches at p (before end), in
 * UTF-8: Go's white space (layout_go_space) but NEL, and the byte-order
 * mark; 0 if none.
 */
static int
js_space(const char *p, const char *end)
{
	const unsigned char *u = (const unsigned char *) p;

	if (end - p >= 2 && u[0] == 0xC2 && u[1] == 0x85)
		return 0;
	if (end - p >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
		return 3;
	return layout_go_space(p, end);
}

/*
 * The length of a line end of a JavaScript regular expression at p: LF,
 * CR, and the line and paragraph separators; 0 if none.
 */
static int
js_line_end(const char *p, const char *end)
{
	const unsigned char *u = (const unsigned char *) p;

	if (p < end && (*u == '\n' || *u == '\r'))
		return 1;
	if (end - p >= 3 && u[0] == 0xE2 && u[1] == 0x80 &&
		(u[2] == 0xA8 || u[2] == 0xA9))
		return 3;
	return 0;
}

/*
 * Matches node-pg-migrate's marker pattern at p: blanks, "--", blanks and
 * dashes, WORD, blanks, "migration" (the words in any ASCII case; blanks
 * as JavaScript's \s, line ends included).  Returns the end of the white
 * space before the "--" (where the dashes are), or NULL if it does not
 * match; *skipped is where the white space ended in any case.
 */
static const char *
marker_at(const char *p, const char *end, const char *word,
		  const char **skipped)
{
	const char *dashes;
	size_t		wlen = strlen(word);
	int			n;

	while ((n = js_space(p, end)) > 0)
		p += n;
	*skipped = p;
	if (end - p < 2 || p[0] != '-' || p[1] != '-')
		return NULL;
	dashes = p;
	p += 2;
	while (p < end && (*p == '-' || (n = js_space(p, end)) > 0))
		p += *p == '-' ? 1 : n;
	if ((size_t) (end - p) < wlen || pg_strncasecmp(p, word, wlen) != 0)
		return NULL;
	p += wlen;
	if (js_space(p, end) == 0)
		return NULL;
	while ((n = js_space(p, end)) > 0)
		p += n;
	if (end - p < 9 || pg_strncasecmp(p, "migration", 9) != 0)
		return NULL;
	return dashes;
}

/*
 * Where node-pg-migrate's search for a marker finds it: the start of the
 * first line, in the multi-line sense of a JavaScript regular expression
 * (after any line end), from which the pattern matches; -1 if none.
 * *dashes is where its "--" is.
 */
static int
find_marker(const char *text, int len, const char *word, int *dashes)
{
	const char *end = text + len;
	const char *p = text;

	while (p < end)
	{
		const char *skipped;
		const char *d = marker_at(p, end, word, &skipped);
		int			n = 0;

		if (d != NULL)
		{
			*dashes = d - text;
			return p - text;
		}

		/*
		 * Every line start up to where the blanks ended fails alike: go on
		 * after the next line end from there.
		 */
		p = skipped;
		while (p < end && (n = js_line_end(p, end)) == 0)
			p++;
		p += n;
	}
	return -1;
}

/* The line of an offset of a text, 1-based. */
static int
line_of(const char *text, int offset)
{
	int			line = 1;

	for (const char *p = text; (p = memchr(p, '\n', text + offset - p)) != NULL; p++)
		line++;
	return line;
}

/*
 * Scans a file for node-pg-migrate's markers; false if it carries none.
 * The parts are node-pg-migrate's slices of the text, from where its
 * search finds a marker to where it finds the other one (or the end); the
 * marker lines stay in them, as the comments node-pg-migrate sends.
 */
static bool
node_pg_migrate_scan(const char *name, const char *text, int len,
					 FileSections *s)
{
	int			up_dashes = 0;
	int			down_dashes = 0;
	int			up = find_marker(text, len, "up", &up_dashes);
	int			down = find_marker(text, len, "down", &down_dashes);
	bool		up_inside;
	bool		down_inside;

	if (up < 0 && down < 0)
		return false;
	s->layout = LAYOUT_NODE_PG_MIGRATE;
	s->up.start = -1;
	s->down.start = -1;
	if (down >= 0)
	{
		s->down.start = down;
		s->down.end = up > down ? up : len;
		s->down.line = line_of(text, down_dashes);
	}
	if (up < 0)
	{
		/* its problem is raised before any part of it is used */
		layout_defer_problem(&s->up_problem, s->down.line,
							 "a Down Migration marker without an Up Migration marker",
							 "node-pg-migrate would run the whole file, down section included, as the up migration; add a line -- Up Migration above the up statements.");
		s->up.start = 0;
		s->up.end = down;
		s->up.line = 1;
		return true;
	}
	s->up.start = up;
	s->up.end = down > up ? down : len;
	s->up.line = line_of(text, up_dashes);

	/*
	 * A marker inside a string, a body or a comment cuts it in two: the part
	 * that starts or ends there would send half of it.
	 */
	up_inside = !layout_outside_tokens(text, up_dashes);
	down_inside = down >= 0 && !layout_outside_tokens(text, down_dashes);
	if (up_inside || (down > up && down_inside))
		layout_defer_problem(&s->up_problem, up_inside ? s->up.line : s->down.line,
							 "a line that reads like a marker lies inside a string, a quoted name, a body or a comment",
							 "node-pg-migrate cuts the file at the first line that reads like its marker wherever it stands, and would send half a statement; reword the line.");
	if (down_inside || (down >= 0 && up > down && up_inside))
		layout_defer_problem(&s->down_problem, down_inside ? s->down.line : s->up.line,
							 "a line that reads like a marker lies inside a string, a quoted name, a body or a comment",
							 "node-pg-migrate cuts the file at the first line that reads like its marker wherever it stands, and would send half a statement; reword the line.");
	return true;
}

/*
 * A name's leading number as node-pg-migrate reads it, in milliseconds:
 * a 17-digit one is a UTC time (YYYYMMDDhhmmssSSS); NaN when that is no
 * time JavaScript's Date reads (a month beyond 12, a minute beyond 59, ...;
 * a day beyond the month's last runs into the next month).
 */
static double
numeric_prefix(const char *name)
{
	size_t		digits = strspn(name, "0123456789");
	int			f[7];
	int64		y,
				m,
				era,
				yoe,
				doy,
				doe,
				days;

	if (digits != 17)
	{
		char		buf[64];

		/* the digits alone: strtod would read "0x10" or "1e5" on */
		if (digits >= sizeof(buf))
			return strtod(pnstrdup(name, digits), NULL);
		memcpy(buf, name, digits);
		buf[digits] = '\0';
		return strtod(buf, NULL);
	}
	if (sscanf(name, "%4d%2d%2d%2d%2d%2d%3d", &f[0], &f[1], &f[2], &f[3],
			   &f[4], &f[5], &f[6]) != 7 ||
		f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 24 ||
		f[4] > 59 || f[5] > 59 ||
		(f[3] == 24 && (f[4] != 0 || f[5] != 0 || f[6] != 0)))
		return NAN;

	/* days since 1970-01-01 in the proleptic Gregorian calendar */
	y = f[0] - (f[1] <= 2 ? 1 : 0);
	m = f[1];
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + f[2] - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	days = era * 146097 + doe - 719468;
	return (((double) days * 24 + f[3]) * 60 + f[4]) * 60000.0 + f[5] * 1000.0 + f[6];
}

/*
 * The primary weight of an ASCII character in the collation that
 * localeCompare uses (the Unicode root collation): 0 for one it ignores
 * (blanks, controls and punctuation, with ignorePunctuation), then the
 * symbols, the digits (one weight: a run of them compares as a number) and
 * the letters, each letter with its capital.
 */
static int
primary(unsigned char c)
{
	static const char symbols[] = "`^+<=>|~$";
	const char *sym;

	if (c >= 'a' && c <= 'z')
		return 20 + (c - 'a');
	if (c >= 'A' && c <= 'Z')
		return 20 + (c - 'A');
	if (c >= '0' && c <= '9')
		return 10;
	sym = c != '\0' ? strchr(symbols, c) : NULL;
	return sym != NULL ? 1 + (int) (sym - symbols) : 0;
}

/* The next element of a name after p: skips what the collation ignores. */
static const char *
next_element(const char *p)
{
	while (*p != '\0' && !IS_HIGHBIT_SET(*p) && primary((unsigned char) *p) == 0)
		p++;
	return p;
}

/*
 * Compares two names as localeCompare(numeric, ignorePunctuation,
 * sensitivity variant) does under the root collation: element by element
 * (a run of digits as its number, leading zeros ignored), then, names
 * equal so, by case, lower case first; 0 if they are equal that way.
 * *known is false when the order rests on characters beyond ASCII, which
 * this does not weigh.
 */
static int
collate(const char *a, const char *b, bool *known)
{
	const char *pa = next_element(a);
	const char *pb = next_element(b);

	*known = true;
	while (*pa != '\0' && *pb != '\0')
	{
		int			wa,
					wb;

		if (IS_HIGHBIT_SET(*pa) || IS_HIGHBIT_SET(*pb))
		{
			*known = false;
			return 0;
		}
		wa = primary((unsigned char) *pa);
		wb = primary((unsigned char) *pb);
		if (wa != wb)
			return wa < wb ? -1 : 1;
		if (wa == 10)
		{
			const char *sa,
					   *sb;
			size_t		la,
						lb;
			int			c;

			while (*pa == '0' && isdigit((unsigned char) pa[1]))
				pa++;
			while (*pb == '0' && isdigit((unsigned char) pb[1]))
				pb++;
			for (sa = pa; isdigit((unsigned char) *pa); pa++)
				;
			for (sb = pb; isdigit((unsigned char) *pb); pb++)
				;
			la = pa - sa;
			lb = pb - sb;
			if (la != lb)
				return la < lb ? -1 : 1;
			if ((c = memcmp(sa, sb, la)) != 0)
				return c;
		}
		else
		{
			pa++;
			pb++;
		}
		pa = next_element(pa);
		pb = next_element(pb);
	}
	if (IS_HIGHBIT_SET(*pa) || IS_HIGHBIT_SET(*pb))
	{
		*known = false;
		return 0;
	}
	if (*pa != *pb)
		return *pa == '\0' ? -1 : 1;

	/* equal but for case: the first letter that differs in case decides */
	for (pa = next_element(a), pb = next_element(b); *pa != '\0';
		 pa = next_element(pa + 1), pb = next_element(pb + 1))
	{
		if (isupper((unsigned char) *pa) != isupper((unsigned char) *pb))
			return isupper((unsigned char) *pa) ? 1 : -1;
	}
	return 0;
}

/*
 * node-pg-migrate's order: the leading numbers, then the names as
 * localeCompare orders them (then byte by byte, for the names it cannot
 * tell apart, which check_files refuses).
 */
static int
node_pg_migrate_compare(const MigrationFile *a, const MigrationFile *b)
{
	double		va = numeric_prefix(a->name);
	double		vb = numeric_prefix(b->name);
	bool		known;
	int			c;

	if (va != vb)
		return va < vb ? -1 : 1;
	c = collate(a->name, b->name, &known);
	return c != 0 ? c : strcmp(a->name, b->name);
}

/* The length of a name without its extension, as Node's extname cuts it. */
static size_t
stem_length(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot != NULL && dot != name ? (size_t) (dot - name) : strlen(name);
}

/* qsort comparator: pointers to MigrationFile by name without extension. */
static int
cmp_stems(const void *a, const void *b)
{
	const MigrationFile *fa = *(MigrationFile *const *) a;
	const MigrationFile *fb = *(MigrationFile *const *) b;
	size_t		la = stem_length(fa->name);
	size_t		lb = stem_length(fb->name);
	int			c = memcmp(fa->name, fb->name, Min(la, lb));

	if (c != 0 || la == lb)
		return c != 0 ? c : strcmp(fa->name, fb->name);
	return la < lb ? -1 : 1;
}

/*
 * Refuses what node-pg-migrate would do with the directory's migrations
 * that morgenmigrate cannot follow: two of one number whose order
 * localeCompare leaves to chance (they compare equal, and the directory's
 * listing order decides) or rests on characters it does not weigh here;
 * two of one name, which node-pg-migrate records as one; and, where the
 * directory was not set to be node-pg-migrate's, a NAME.down.sql file.
 */
static void
node_pg_migrate_check_files(const char *dir, const MigrationFile *files,
							int nfiles)
{
	const MigrationFile **sorted;

	for (int i = 1; i < nfiles; i++)
	{
		const MigrationFile *a = &files[i - 1];
		const MigrationFile *b = &files[i];
		bool		known;

		if (numeric_prefix(a->name) != numeric_prefix(b->name) ||
			(collate(a->name, b->name, &known) != 0 && known))
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("migrations \"%s\" and \"%s\" have the same number %s",
						a->name, b->name, a->version),
				 errdetail(known ?
						   "node-pg-migrate orders migrations of one number by their names ignoring punctuation and leading zeros, which leaves these two in the order the file system lists them." :
						   "node-pg-migrate orders migrations of one number by their names in the collation of its locale, which morgenmigrate follows for names of ASCII characters only."),
				 errhint("Give one of them another number.")));
	}

	sorted = palloc(sizeof(MigrationFile *) * Max(nfiles, 1));
	for (int i = 0; i < nfiles; i++)
		sorted[i] = &files[i];
	qsort(sorted, nfiles, sizeof(MigrationFile *), cmp_stems);
	for (int i = 1; i < nfiles; i++)
	{
		size_t		la = stem_length(sorted[i - 1]->name);

		if (la == stem_length(sorted[i]->name) &&
			strncmp(sorted[i - 1]->name, sorted[i]->name, la) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("migrations \"%s\" and \"%s\" have the same name %s",
							sorted[i - 1]->name, sorted[i]->name,
							pnstrdup(sorted[i]->name, la)),
					 errdetail("node-pg-migrate records a migration by its file name without the extension, and would not know which of them ran."),
					 errhint("Give each migration a name of its own.")));
	}
	pfree(sorted);

	if (mm_layout == LAYOUT_NODE_PG_MIGRATE)
		return;
	for (int i = 0; i < nfiles; i++)
	{
		const char *other = NULL;

		if (!has_suffix_ci(files[i].name, ".down.sql", false))
			continue;
		for (int j = 0; j < nfiles && other == NULL; j++)
			if (!has_suffix_ci(files[j].name, ".down.sql", false))
				other = files[j].name;
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("migration directory \"%s\" mixes layouts", dir),
				 other ?
				 errdetail("\"%s\" is named as morgenmigrate names down files, which node-pg-migrate runs as a migration of its own; \"%s\" is named or written as node-pg-migrate's.",
						   files[i].name, other) :
				 errdetail("\"%s\" is named as morgenmigrate names down files, which node-pg-migrate runs as a migration of its own.",
						   files[i].name),
				 errhint("Set morgenmigrate.layout to 'node-pg-migrate' to run it as node-pg-migrate does, or to 'plain' to read it as a down file.")));
	}
}

/*
 * Tells whether a name is valid for node-pg-migrate's order: a 17-digit
 * number must be a UTC time.
 */
static bool
orderable(const char *name)
{
	return !isnan(numeric_prefix(name));
}

/*
 * Reads a file name as node-pg-migrate reads it in a directory of its own:
 * every file is a migration, *.sql (any case) one morgenmigrate runs,
 * JavaScript and TypeScript ones only node-pg-migrate can run; any other
 * file, and a name node-pg-migrate cannot order, stops node-pg-migrate
 * before anything runs, and is refused here.  So is a name holding a
 * quote, which node-pg-migrate cannot record: it writes the name into its
 * history between quotes as it is.
 */
static void
node_pg_migrate_own_name(const char *name, LayoutEntry *entry)
{
	bool		sql = has_suffix_ci(name, ".sql", true);
	bool		script = false;

	for (int i = 0; i < lengthof(script_extensions); i++)
		script |= has_suffix_ci(name, script_extensions[i], true);
	entry->role = ROLE_UNKNOWN;
	if (!sql && !script)
		entry->what = "node-pg-migrate loads every file of its directory as a migration, and cannot load this one: it stops before running anything.";
	else if (!isdigit((unsigned char) name[0]))
		entry->what = "Its name does not start with a number: node-pg-migrate cannot order it beside other migrations, and stops before running anything.";
	else if (!orderable(name))
		entry->what = "Its 17-digit number is no UTC time (YYYYMMDDhhmmssSSS): node-pg-migrate sorts it by its name against every other migration, and the others by number, an order that can contradict itself and then rests on how its sort meets the files.";
	else if (strchr(name, '\'') != NULL)
		entry->what = "Its name holds a quote, which node-pg-migrate writes into its history table as it is: it would fail to record the migration and roll back everything it ran, or with two quotes record it under another name.  Rename it without the quote.";
	else
	{
		entry->role = sql ? ROLE_UP : ROLE_EXTERNAL;
		entry->version = pnstrdup(name, strspn(name, "0123456789"));
		entry->key = pnstrdup(name, stem_length(name));
		entry->what = sql ? NULL : "a node-pg-migrate JavaScript or TypeScript migration";
		entry->why = sql ? "node-pg-migrate SQL migration (NUMBER_name.sql)" :
			"node-pg-migrate JavaScript or TypeScript migration, which only node-pg-migrate can run";
	}
}

/*
 * Tells whether node-pg-migrate made a name: a 13-digit number
 * (milliseconds since 1970, its default) or a 17-digit one (a UTC time,
 * its utc format), "_", then a name, as a .sql file.
 */
static bool
node_pg_migrate_weak_name(const char *name)
{
	size_t		digits = strspn(name, "0123456789");

	return (digits == 13 || digits == 17) && name[digits] == '_' &&
		has_suffix_ci(name, ".sql", true);
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
	.bom_in_text = "node-pg-migrate reads the byte-order mark as text and sends it with the part that starts at the top of the file, which the server refuses; save the file without it.",
	.weak_name = node_pg_migrate_weak_name,
	.own_name = node_pg_migrate_own_name,
	.link_as_file = "node-pg-migrate lists a link to a directory as a file, whatever its name, and fails on it before running anything.",
	.check_files = node_pg_migrate_check_files,
};
