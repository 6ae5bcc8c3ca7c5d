/*-------------------------------------------------------------------------
 *
 * diesel.c
 *	  diesel's migrations: one directory per migration, named
 *	  VERSION_name (2020-01-13-025151_create_users), holding up.sql, an
 *	  optional down.sql and an optional metadata.toml.  The version is the
 *	  name up to its first underscore with the dashes removed, and
 *	  migrations run in the order of their versions, compared as text, as
 *	  diesel compares them.  The history key is the directory's name.
 *
 *	  metadata.toml's run_in_transaction = false runs up.sql and down.sql
 *	  outside a transaction.  As diesel reads it, a metadata.toml that
 *	  parses but leaves run_in_transaction out means false.
 *
 *	  Only subdirectories whose name starts with a digit are read as
 *	  migrations (diesel would refuse other non-empty ones); each must hold
 *	  an up.sql.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"

#include "../files.h"
#include "../layout.h"
#include "../migration.h"

/* Reads a diesel migration directory's name. */
static bool
diesel_read_name(const char *name, bool is_dir, LayoutEntry *entry)
{
	const char *us = strchr(name, '_');
	int			vlen = us ? us - name : strlen(name);
	StringInfoData v;

	if (!is_dir || !isdigit((unsigned char) name[0]))
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
 * Reads a migration's directory: its up.sql (without one it is
 * incomplete), its down.sql and the run_in_transaction of its
 * metadata.toml.
 */
static void
diesel_read_subdir(const char *dir, const char *name, LayoutEntry *entry)
{
	char	   *up = psprintf("%s/up.sql", name);
	char	   *down = psprintf("%s/down.sql", name);
	char	   *meta = psprintf("%s/metadata.toml", name);

	entry->no_transaction = -1;
	if (files_kind(dir, up) != FILE_REGULAR)
	{
		entry->incomplete = true;
		return;
	}
	entry->path = up;
	if (files_kind(dir, down) == FILE_REGULAR)
		entry->down_path = down;
	if (files_kind(dir, meta) == FILE_REGULAR)
	{
		FileText	ft = files_read(dir, meta, "migration file", false);

		entry->config_path = meta;
		entry->no_transaction = read_metadata(meta, ft.data);
		pfree(ft.data);
	}
}

/*
 * Refuses a migration's directory without up.sql: diesel refuses the
 * whole directory then.
 */
static void
diesel_refuse_incomplete(const char *dir, const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_FILE),
			 errmsg("migration directory \"%s\" has no up.sql", name),
			 errdetail("In the diesel migration directory \"%s\", every subdirectory whose name starts with a version is a migration, as diesel reads it.",
					   dir),
			 errhint("Add its up.sql, or move the directory out of the migration directory.")));
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
	.config_covers_down = true,
	.target_matches = diesel_target_matches,
	.unique_versions = true,
};
