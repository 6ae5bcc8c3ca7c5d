/*-------------------------------------------------------------------------
 *
 * plain.c
 *	  morgenmigrate's own layout, and the names of the flat family it
 *	  shares with golang-migrate, dbmate, goose, sql-migrate and
 *	  node-pg-migrate: one NAME.sql (or NAME.up.sql) file per migration, its
 *	  down file NAME.down.sql, in version order (runs of digits compare as
 *	  numbers).  The runners whose markers live inside the files tell
 *	  themselves apart by those markers (see their own files).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "../layout.h"
#include "../migration.h"

/* The leading digits of a name ("" if none). */
static char *
leading_digits(const char *name)
{
	return pnstrdup(name, strspn(name, "0123456789"));
}

/*
 * A flat family name: NAME.sql is an up file, NAME.up.sql too
 * (golang-migrate's, when NAME is VERSION_name and the version no
 * node-pg-migrate timestamp), NAME.down.sql a down file; VERSION_name.go
 * is a goose Go migration and VERSION_name.js (or .cjs, .mjs, .ts, .mts,
 * .cts) a node-pg-migrate JavaScript or TypeScript migration, which only
 * their own runner can run.
 */
static bool
flat_read_name(const char *name, bool is_dir, LayoutEntry *entry)
{
	size_t		digits = strspn(name, "0123456789");
	static const char *const js[] = {".js", ".cjs", ".mjs", ".ts", ".mts", ".cts"};

	if (is_dir)
		return false;
	entry->version = leading_digits(name);
	/* golang-migrate's VERSION_name.up.EXT, whatever EXT is */
	if (digits > 0 && name[digits] == '_' && !has_suffix_ci(name, ".sql", false) &&
		(strstr(name, ".up.") != NULL || strstr(name, ".down.") != NULL))
	{
		entry->role = strstr(name, ".up.") != NULL ? ROLE_UP : ROLE_DOWN;
		entry->layout = LAYOUT_GOLANG_MIGRATE;
		entry->key = pstrdup(name);
		return true;
	}
	if (has_suffix_ci(name, ".down.sql", false))
	{
		entry->role = ROLE_DOWN;
		entry->key = pnstrdup(name, strlen(name) - strlen(".down.sql"));
		return true;
	}
	if (has_suffix_ci(name, ".up.sql", false))
	{
		/*
		 * golang-migrate's only where it reads it, VERSION_name.up.sql, and
		 * where the version is not of node-pg-migrate's making (13 or 17
		 * digits: see its weak_name)
		 */
		entry->role = ROLE_UP;
		if (digits > 0 && name[digits] == '_' && digits != 13 && digits != 17)
			entry->layout = LAYOUT_GOLANG_MIGRATE;
		entry->key = pnstrdup(name, strlen(name) - strlen(".up.sql"));
		return true;
	}
	if (has_suffix_ci(name, ".sql", false))
	{
		entry->role = ROLE_UP;
		entry->key = pnstrdup(name, strlen(name) - strlen(".sql"));
		return true;
	}
	if (digits == 0 || name[digits] != '_')
		return false;
	if (has_suffix_ci(name, ".go", false) && !has_suffix_ci(name, "_test.go", false))
	{
		entry->role = ROLE_EXTERNAL;
		entry->layout = LAYOUT_GOOSE;
		entry->what = "a goose Go migration";
		entry->key = pnstrdup(name, strlen(name) - strlen(".go"));
		return true;
	}
	for (int i = 0; i < lengthof(js); i++)
	{
		if (has_suffix_ci(name, js[i], false))
		{
			entry->role = ROLE_EXTERNAL;
			entry->layout = LAYOUT_NODE_PG_MIGRATE;
			entry->what = "a node-pg-migrate JavaScript or TypeScript migration";
			entry->key = pnstrdup(name, strlen(name) - strlen(js[i]));
			return true;
		}
	}
	return false;
}

/*
 * The key of the down file of a migration: NAME.down.sql is the down file
 * of NAME.sql and of NAME.up.sql.
 */
static char *
flat_down_key(const char *name)
{
	size_t		len = strlen(name);

	if (has_suffix_ci(name, ".up.sql", false))
		len -= strlen(".up.sql");
	else if (has_suffix_ci(name, ".sql", false))
		len -= strlen(".sql");
	return pnstrdup(name, len);
}

/* Version order of the flat family: the names in version order. */
int
flat_compare(const MigrationFile *a, const MigrationFile *b)
{
	return migration_name_cmp(a->name, b->name);
}

const LayoutMethods plain_layout = {
	.layout = LAYOUT_PLAIN,
	.name = "plain",
	.runner = "morgenmigrate",
	.family = FAMILY_FLAT,
	.names_as = "a migration file of its own",
	.read_name = flat_read_name,
	.compare = flat_compare,
	.version_cmp = migration_name_cmp,
	.scan = NULL,
	.down_key = flat_down_key,
};
