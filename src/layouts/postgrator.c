/*-------------------------------------------------------------------------
 *
 * postgrator.c
 *	  postgrator's migrations: VERSION.do.name.sql and its down migration
 *	  VERSION.undo.name.sql (the name is optional: 001.do.sql), in numeric
 *	  version order.  JavaScript migrations (VERSION.do.name.js, .cjs,
 *	  .mjs) only postgrator can run.  The history key is the file name.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "../layout.h"
#include "../migration.h"

/* Reads a postgrator name: VERSION.do[.name].sql or VERSION.undo[.name].sql. */
static bool
postgrator_read_name(const char *name, bool is_dir, LayoutEntry *entry)
{
	size_t		digits = strspn(name, "0123456789");
	const char *action = name + digits + 1;
	bool		undo;
	static const char *const js[] = {".js", ".cjs", ".mjs"};
	bool		is_js = false;
	const char *v;

	if (is_dir || digits == 0 || name[digits] != '.')
		return false;
	if (strncmp(action, "do.", 3) == 0 || strcmp(action, "do") == 0)
		undo = false;
	else if (strncmp(action, "undo.", 5) == 0)
		undo = true;
	else
		return false;
	for (int i = 0; i < lengthof(js); i++)
		if (has_suffix_ci(name, js[i], false))
			is_js = true;
	if (!is_js && !has_suffix_ci(name, ".sql", false))
		return false;

	for (v = name; *v == '0' && v < name + digits - 1; v++)
		;
	entry->layout = LAYOUT_POSTGRATOR;
	entry->version = pnstrdup(v, name + digits - v);
	entry->key = entry->version;
	entry->role = undo ? ROLE_DOWN : is_js ? ROLE_EXTERNAL : ROLE_UP;
	entry->what = "a postgrator JavaScript migration";
	return true;
}

/* postgrator's order: versions as numbers, then names. */
static int
postgrator_compare(const MigrationFile *a, const MigrationFile *b)
{
	int			c = migration_name_cmp(a->version, b->version);

	return c != 0 ? c : strcmp(a->name, b->name);
}

const LayoutMethods postgrator_layout = {
	.layout = LAYOUT_POSTGRATOR,
	.name = "postgrator",
	.runner = "postgrator",
	.family = LAYOUT_POSTGRATOR,
	.names_as = "a postgrator migration",
	.read_name = postgrator_read_name,
	.compare = postgrator_compare,
	.version_cmp = migration_name_cmp,
	.scan = NULL,
	.requires_markers = false,
	.unique_versions = true,
};
