/*-------------------------------------------------------------------------
 *
 * golang_migrate.c
 *	  golang-migrate's layout: VERSION_name.up.EXT and VERSION_name.down.EXT,
 *	  in version order.  As golang-migrate reads a directory:
 *
 *	  - only names of that form are migrations: the version digits, "_",
 *		anything, ".up." or ".down." (with that case), anything.  The
 *		extension is not looked at: golang-migrate hands any such file to
 *		the database as SQL.  Every other name is skipped (seed.sql,
 *		3_x.sql without its ".up", 3_x.UP.sql);
 *	  - the version is the leading digits as a 64-bit number (1 and 01 are
 *		one version); two up files of one version are refused, as
 *		golang-migrate refuses them, and so is a version too large for it
 *		(it would skip that file without a word);
 *	  - a down file belongs to its version, whatever its name says after
 *		the version; a down file without its up file is refused: going
 *		down past that version, golang-migrate would run it;
 *	  - the files carry no markers and run whole; rolling back a version
 *		without a down file runs nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "../layout.h"
#include "../migration.h"

/* The largest version golang-migrate reads: an unsigned 64-bit number. */
#define MAX_VERSION "18446744073709551615"

/*
 * Reads a name as golang-migrate does: VERSION_name.up.EXT is an up
 * migration, VERSION_name.down.EXT a down migration, both keyed by the
 * version as a number; anything else is skipped.
 */
static void
golang_migrate_own_name(const char *name, LayoutEntry *entry)
{
	size_t		digits = strspn(name, "0123456789");
	const char *up = NULL;
	const char *down = NULL;
	const char *v = name;
	size_t		vlen;

	/* the last ".up." or ".down." after the version and its "_" */
	if (digits > 0 && name[digits] == '_')
	{
		for (const char *p = name + digits + 1; (p = strchr(p, '.')) != NULL; p++)
		{
			if (strncmp(p, ".up.", 4) == 0)
				up = p, down = NULL;
			else if (strncmp(p, ".down.", 6) == 0)
				down = p, up = NULL;
		}
	}
	if (up == NULL && down == NULL)
	{
		entry->role = ROLE_IGNORED;
		entry->why = "golang-migrate reads only names VERSION_name.up.EXT and VERSION_name.down.EXT";
		return;
	}

	while (*v == '0' && v < name + digits - 1)
		v++;
	vlen = name + digits - v;
	entry->version = pnstrdup(v, vlen);
	entry->key = entry->version;
	if (vlen > strlen(MAX_VERSION) ||
		(vlen == strlen(MAX_VERSION) && strncmp(v, MAX_VERSION, vlen) > 0))
	{
		entry->role = ROLE_UNKNOWN;
		entry->what = "Its version does not fit in 64 bits: golang-migrate skips such a file without a word.";
		return;
	}
	entry->role = up != NULL ? ROLE_UP : ROLE_DOWN;
	entry->why = up != NULL ? "golang-migrate up migration (VERSION_name.up.EXT)" :
		"golang-migrate down migration (VERSION_name.down.EXT)";
}

/* golang-migrate's order: versions as numbers (each version is one file). */
static int
golang_migrate_compare(const MigrationFile *a, const MigrationFile *b)
{
	int			c = migration_name_cmp(a->version, b->version);

	return c != 0 ? c : strcmp(a->name, b->name);
}

const LayoutMethods golang_migrate_layout = {
	.layout = LAYOUT_GOLANG_MIGRATE,
	.name = "golang-migrate",
	.runner = "golang-migrate",
	.family = FAMILY_FLAT,
	.read_name = NULL,
	.compare = golang_migrate_compare,
	.version_cmp = migration_name_cmp,
	.scan = NULL,
	.own_name = golang_migrate_own_name,
	.names_yield = true,
	.unique_versions = true,
	.noop_rollback = true,
	.orphan_hint = "Add an empty up file of that version beside it, which golang-migrate would run the same way, or remove the down file.",
};
