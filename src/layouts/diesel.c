/*-------------------------------------------------------------------------
 *
 * diesel.c
 *	  diesel's migrations: one directory per migration, holding up.sql, an
 *	  optional down.sql and an optional metadata.toml.  As diesel reads a
 *	  migration directory, every subdirectory that is not hidden is a
 *	  migration, whatever its name (2020-01-13-025151_create_users, and
 *	  seed_data too), but an empty one, which it skips; a non-empty one
 *	  without up.sql makes it refuse the whole directory.  The version is
 *	  the name up to its first underscore with the dashes removed
 *	  ("seed_data" is "seed"), and migrations run in the order of their
 *	  versions, compared as text; diesel's history holds a version of 50
 *	  characters at most, and a longer one is refused.  The history key is
 *	  the directory's name.
 *
 *	  metadata.toml's run_in_transaction = false runs up.sql and down.sql
 *	  outside a transaction.  As diesel reads it, a metadata.toml that
 *	  parses but leaves run_in_transaction out means false; one that does
 *	  not parse means true, without a word, and is refused here instead.
 *
 *	  diesel sends a file to the server in one round trip, which the
 *	  server runs as one transaction even without diesel's: its statements
 *	  form one block.  It refuses to run a file without a statement.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"
#include "parser/scansup.h"

#include "../files.h"
#include "../layout.h"
#include "../migration.h"

/* The longest version diesel's history holds: its version is VARCHAR(50). */
#define MAX_VERSION_CHARS 50

#define METADATA_HINT "diesel runs a migration whose metadata.toml does not parse, or whose run_in_transaction is no boolean, in a transaction without a word.  Write lines of key = value (a bare key; true, false, a whole number or a one-line string), [table] headers and # comments, which morgenmigrate reads as diesel does."

/*
 * Reads a directory entry's name: every subdirectory is a diesel
 * migration (hidden ones never reach here), its version the name up to
 * the first underscore without dashes.  Whether it is one is for
 * read_subdir to say.
 */
static bool
diesel_read_name(const char *name, bool is_dir, LayoutEntry *entry)
{
	const char *us = strchr(name, '_');
	int			vlen = us ? us - name : strlen(name);
	StringInfoData v;

	if (!is_dir || name[0] == '.')
		return false;
	initStringInfo(&v);
	for (int i = 0; i < vlen; i++)
		if (name[i] != '-')
			appendStringInfoChar(&v, name[i]);
	entry->role = ROLE_UP;
	entry->layout = LAYOUT_DIESEL;
	entry->version = v.data;
	entry->key = pstrdup(name);
	return true;
}

/* diesel's order: versions compared as text, then names. */
static int
diesel_compare(const MigrationFile *a, const MigrationFile *b)
{
	int			c = strcmp(a->version, b->version);

	return c != 0 ? c : strcmp(a->name, b->name);
}

/* Versions are the same only when their text is. */
static int
diesel_version_cmp(const char *a, const char *b)
{
	return strcmp(a, b);
}

/* Refuses a metadata.toml diesel would not read as it is meant. */
static void
metadata_malformed(const char *name, int line, const char *message)
{
	layout_malformed(name, line, "diesel", message, METADATA_HINT);
}

/* Skips TOML's blanks (spaces and tabs). */
static const char *
skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* Reads a TOML bare key (letters, digits, "_" and "-"); NULL if none. */
static char *
read_bare_key(const char **p, const char *end)
{
	const char *start = *p;

	while (*p < end && (isalnum((unsigned char) **p) || **p == '_' || **p == '-'))
		(*p)++;
	return *p > start ? pnstrdup(start, *p - start) : NULL;
}

/* Tells whether p is where a TOML value may end: blanks, a comment, the end. */
static bool
at_value_end(const char *p, const char *end)
{
	p = skip_blanks(p, end);
	return p == end || *p == '#';
}

/*
 * Reads a TOML string, basic ("...", with its escapes) or literal ('...'),
 * on one line; false when it is not one.
 */
static bool
read_string(const char **pp, const char *end)
{
	const char *p = *pp;
	char		quote = *p++;

	while (p < end && *p != quote)
	{
		if (quote == '"' && *p == '\\')
		{
			int			hex = 0;
			uint32		c = 0;

			if (++p >= end)
				return false;
			if (*p == 'u' || *p == 'U')
				hex = *p == 'u' ? 4 : 8;
			else if (strchr("btnfr\"\\", *p) == NULL)
				return false;
			for (int i = 0; i < hex; i++)
			{
				if (++p >= end || !isxdigit((unsigned char) *p))
					return false;
				c = c * 16 + (isdigit((unsigned char) *p) ? *p - '0' :
							  pg_tolower((unsigned char) *p) - 'a' + 10);
			}
			if (hex > 0 && (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)))
				return false;
		}
		p++;
	}
	if (p >= end)
		return false;
	*pp = p + 1;
	return true;
}

/*
 * Reads a TOML decimal integer: an optional sign, then 0 or digits not
 * starting with 0, with single underscores between digits, that fits in
 * 64 bits.
 */
static bool
read_integer(const char **pp, const char *end)
{
	const char *p = *pp;
	StringInfoData digits;
	char	   *stop;

	initStringInfo(&digits);
	if (p < end && (*p == '+' || *p == '-'))
		appendStringInfoChar(&digits, *p++);
	if (p < end && *p == '0')
		appendStringInfoChar(&digits, *p++);
	else if (p < end && isdigit((unsigned char) *p))
	{
		while (p < end && isdigit((unsigned char) *p))
		{
			appendStringInfoChar(&digits, *p++);
			if (p + 1 < end && *p == '_' && isdigit((unsigned char) p[1]))
				p++;
		}
	}
	else
		return false;
	errno = 0;
	(void) strtoi64(digits.data, &stop, 10);
	if (errno != 0 || *stop != '\0')
		return false;
	*pp = p;
	return true;
}

/*
 * Reads the TOML value at *pp, which must end the line (or come before a
 * comment): 1 for true, 0 for false, -1 for another value morgenmigrate
 * reads (a decimal integer or a one-line string); refuses the others.
 */
static int
read_value(const char *name, int line, const char **pp, const char *end)
{
	const char *p = *pp;
	int			value = -1;

	if (end - p >= 4 && strncmp(p, "true", 4) == 0 && at_value_end(p + 4, end))
	{
		value = 1;
		p += 4;
	}
	else if (end - p >= 5 && strncmp(p, "false", 5) == 0 && at_value_end(p + 5, end))
	{
		value = 0;
		p += 5;
	}
	else if ((p < end && (*p == '"' || *p == '\'')) ? !read_string(&p, end) :
			 !read_integer(&p, end))
		p = *pp;
	if (p == *pp || !at_value_end(p, end))
		metadata_malformed(name, line,
						   psprintf("a value morgenmigrate does not read: %s",
									pnstrdup(*pp, end - *pp)));
	*pp = p;
	return value;
}

/*
 * Notes a key (or table) as defined, as "table.key" or, at the top, as
 * "key"; refuses one defined twice, as TOML does.
 */
static List *
define_key(const char *name, int line, List *defined, const char *table,
		   const char *key)
{
	char	   *full = table[0] ? psprintf("%s.%s", table, key) : pstrdup(key);
	ListCell   *lc;

	foreach(lc, defined)
	{
		if (strcmp((const char *) lfirst(lc), full) == 0)
			metadata_malformed(name, line,
							   psprintf("\"%s\" is defined twice", full));
	}
	return lappend(defined, full);
}

/*
 * Reads a metadata.toml as diesel does: 1 when up.sql and down.sql run
 * outside a transaction, 0 when inside.  diesel reads run_in_transaction
 * of the top-level table, false when it is left out (in a table below,
 * it is another key), and ignores the other keys; but a file that is not
 * TOML, or whose run_in_transaction is no boolean, makes it run the
 * migration in a transaction without a word.  morgenmigrate reads the
 * TOML of lines of key = value (a bare key; true, false, a decimal integer
 * or a one-line string), [table] headers, comments and blank lines, and
 * refuses every other line rather than guess how diesel reads it.
 */
static int8
read_metadata(const char *name, const char *text)
{
	TextLine	line;
	int			len = strlen(text);
	List	   *defined = NIL;
	const char *table = "";
	int8		no_transaction = 1;

	memset(&line, 0, sizeof(line));
	while (layout_next_line(text, len, &line))
	{
		const char *p = line.start;
		const char *end = line.start + line.len;
		char	   *key;
		int			value;

		for (const char *c = p; c < end; c++)
		{
			if (((unsigned char) *c < ' ' && *c != '\t') || *c == 0x7f)
				metadata_malformed(name, line.number, "a control character");
		}
		p = skip_blanks(p, end);
		if (p == end || *p == '#')
			continue;
		if (*p == '[')
		{
			p = skip_blanks(p + 1, end);
			if ((key = read_bare_key(&p, end)) == NULL ||
				*(p = skip_blanks(p, end)) != ']' || !at_value_end(p + 1, end))
				metadata_malformed(name, line.number,
								   "a table header that is not [name]");
			if (strcmp(key, "run_in_transaction") == 0)
				metadata_malformed(name, line.number,
								   "run_in_transaction is a table, neither true nor false");
			defined = define_key(name, line.number, defined, "", key);
			table = key;
			continue;
		}
		if ((key = read_bare_key(&p, end)) == NULL ||
			*(p = skip_blanks(p, end)) != '=')
			metadata_malformed(name, line.number, "a line that is not key = value");
		p = skip_blanks(p + 1, end);
		defined = define_key(name, line.number, defined, table, key);
		value = read_value(name, line.number, &p, end);
		if (table[0] != '\0' || strcmp(key, "run_in_transaction") != 0)
			continue;
		if (value < 0)
			metadata_malformed(name, line.number,
							   "run_in_transaction is neither true nor false");
		no_transaction = value == 1 ? 0 : 1;
	}
	return no_transaction;
}

/*
 * Tells whether a subdirectory holds nothing at all (hidden entries
 * count): diesel skips such a directory.
 */
static bool
subdir_is_empty(const char *dir, const char *name)
{
	FilesDir   *d = files_dir_open(psprintf("%s/%s", dir, name));
	FileKind	kind;
	bool		plain;
	bool		empty = files_dir_next(d, &kind, &plain) == NULL;

	files_dir_close(d);
	return empty;
}

/*
 * Reads a migration's directory: its up.sql (without one it is
 * incomplete), its down.sql and the run_in_transaction of its
 * metadata.toml.  A subdirectory the server may not look into is
 * incomplete too: in a directory of another layout it is none of
 * diesel's business (a volume's lost+found).
 */
static void
diesel_read_subdir(const char *dir, const char *name, LayoutEntry *entry)
{
	char	   *up = psprintf("%s/up.sql", name);
	char	   *down = psprintf("%s/down.sql", name);
	char	   *meta = psprintf("%s/metadata.toml", name);

	entry->no_transaction = -1;
	if (files_probe_kind(dir, up) != FILE_REGULAR)
	{
		entry->incomplete = true;
		return;
	}
	entry->path = up;
	entry->why = "a subdirectory holding up.sql, which diesel runs whatever its name";
	if (files_kind(dir, down) == FILE_REGULAR)
		entry->down_path = down;
	if (files_kind(dir, meta) == FILE_REGULAR)
	{
		FileText	ft = files_read(dir, meta, "migration file", false);

		entry->config_path = meta;
		entry->no_transaction = read_metadata(files_name_to_server(meta),
											  ft.data);
		pfree(ft.data);
	}
}

/*
 * Settles a subdirectory of a diesel directory without up.sql as diesel
 * does: an empty one is skipped (the reason is returned), any other makes
 * it refuse the whole directory.
 */
static const char *
diesel_refuse_incomplete(const char *dir, const char *name)
{
	if (subdir_is_empty(dir, name))
		return "an empty directory, which diesel skips";
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_FILE),
			 errmsg("migration directory \"%s\" has no up.sql",
					files_name_to_server(name)),
			 errdetail("diesel reads every subdirectory of \"%s\" that is neither hidden nor empty as a migration, whatever its name, and refuses the whole directory when one lacks its up.sql.",
					   dir),
			 errhint("Add its up.sql, or move the directory out of the migration directory.")));
	return NULL;				/* keep the compiler quiet */
}

/*
 * Tells whether a text holds no statement: nothing but blanks, comments
 * and semicolons, which the server answers as an empty query.
 */
static bool
holds_no_statement(const char *text, int len)
{
	int			i = 0;

	while (i < len)
	{
		if (scanner_isspace(text[i]) || text[i] == ';')
			i++;
		else if (text[i] == '-' && i + 1 < len && text[i + 1] == '-')
		{
			while (i < len && text[i] != '\n')
				i++;
		}
		else if (text[i] == '/' && i + 1 < len && text[i + 1] == '*')
		{
			int			depth = 1;

			/* comments nest, as the server's scanner reads them */
			for (i += 2; i < len && depth > 0; i++)
			{
				if (text[i] == '/' && i + 1 < len && text[i + 1] == '*')
				{
					depth++;
					i++;
				}
				else if (text[i] == '*' && i + 1 < len && text[i + 1] == '/')
				{
					depth--;
					i++;
				}
			}
			if (depth > 0)
				return false;	/* the parser refuses it, naming the line */
		}
		else
			return false;
	}
	return true;
}

/*
 * What diesel makes of up.sql or down.sql: it refuses an empty file, and
 * the server answers a file of only comments with an empty query, which
 * diesel takes for a failure; the rest it sends in one round trip, which
 * the server runs as one transaction: one block.
 */
static void
diesel_read_text(const char *name, const char *text, int len,
				 FileSections *sections)
{
	if (holds_no_statement(text, len))
		layout_malformed(name, 1, "diesel", "no SQL statement to run",
						 "diesel refuses to run a migration file without a statement.  Write the statements the migration needs, or SELECT 1; for one that does nothing.");
	layout_add_block(sections, sections->up.start, sections->up.end, 1);
}

/* Refuses a version longer than diesel's history holds. */
static void
diesel_check_files(const char *dir, const MigrationFile *files, int nfiles)
{
	for (int i = 0; i < nfiles; i++)
		layout_refuse_long_version(files[i].name, files[i].version, "diesel",
								   MAX_VERSION_CHARS,
								   "Shorten the part of the name before its first \"_\" (the whole name, without one) to "
								   CppAsString2(MAX_VERSION_CHARS) " characters, dashes not counted.");
}

/*
 * Tells whether a target names a version: diesel's, with or without the
 * dashes ("20200113025151" and "2020-01-13-025151").
 */
static bool
diesel_target_matches(const char *version, const char *target)
{
	StringInfoData v;

	initStringInfo(&v);
	for (const char *p = target; *p; p++)
		if (*p != '-')
			appendStringInfoChar(&v, *p);
	return strcmp(version, v.data) == 0;
}

const LayoutMethods diesel_layout = {
	.layout = LAYOUT_DIESEL,
	.name = "diesel",
	.runner = "diesel",
	.family = LAYOUT_DIESEL,
	.names_as = "a diesel migration directory",
	.read_name = diesel_read_name,
	.compare = diesel_compare,
	.version_cmp = diesel_version_cmp,
	.scan = NULL,
	.requires_markers = false,
	.read_subdir = diesel_read_subdir,
	.refuse_incomplete = diesel_refuse_incomplete,
	.read_text = diesel_read_text,
	.check_files = diesel_check_files,
	.config_covers_down = true,
	.target_matches = diesel_target_matches,
	.unique_versions = true,
	.rollback_by_version = true,
};
