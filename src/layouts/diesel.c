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
 *	  versions, compared as text.  The history key is the directory's name.
 *
 *	  metadata.toml's run_in_transaction = false runs up.sql and down.sql
 *	  outside a transaction.  As diesel reads it, a metadata.toml that
 *	  parses but leaves run_in_transaction out means false.
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

/*
 * Reads a metadata.toml: 1 when up.sql and down.sql run outside a
 * transaction, 0 when inside.  Only run_in_transaction is read; a value
 * other than true or false is refused.
 */
static int8
read_metadata(const char *name, const char *text)
{
	TextLine	line;
	int			len = strlen(text);

	memset(&line, 0, sizeof(line));
	while (layout_next_line(text, len, &line))
	{
		char	   *l = pnstrdup(line.start, line.len);
		char	   *p = l;
		char	   *value;
		char	   *hash;

		if ((hash = strchr(p, '#')) != NULL)
			*hash = '\0';
		while (isspace((unsigned char) *p))
			p++;
		if (strncmp(p, "run_in_transaction", 18) != 0)
			continue;
		p += 18;
		while (isspace((unsigned char) *p))
			p++;
		if (*p != '=')
			continue;
		value = p + 1;
		while (isspace((unsigned char) *value))
			value++;
		for (int i = strlen(value); i > 0 && isspace((unsigned char) value[i - 1]); i--)
			value[i - 1] = '\0';
		if (strcmp(value, "true") == 0)
			return 0;
		if (strcmp(value, "false") == 0)
			return 1;
		layout_malformed(name, line.number, "diesel",
						 psprintf("run_in_transaction = %s is neither true nor false", value),
						 NULL);
	}
	return 1;
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
					depth++, i++;
				else if (text[i] == '*' && i + 1 < len && text[i + 1] == '/')
					depth--, i++;
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
	.family = FAMILY_DIESEL,
	.names_as = "a diesel migration directory",
	.read_name = diesel_read_name,
	.compare = diesel_compare,
	.version_cmp = diesel_version_cmp,
	.scan = NULL,
	.requires_markers = false,
	.read_subdir = diesel_read_subdir,
	.refuse_incomplete = diesel_refuse_incomplete,
	.read_text = diesel_read_text,
	.config_covers_down = true,
	.target_matches = diesel_target_matches,
	.unique_versions = true,
	.rollback_by_version = true,
};
