/*-------------------------------------------------------------------------
 *
 * flyway.c
 *	  Flyway's SQL migrations:
 *
 *		V<version>__<description>.sql	a versioned migration
 *		U<version>__<description>.sql	its undo (down) migration
 *		R__<description>.sql			a repeatable migration
 *		<script>.sql.conf				settings of one script
 *
 *	  The prefix is matched with case, the .sql suffix without; the
 *	  version is digits separated by dots or underscores, compared part by
 *	  part as numbers with missing parts as zeros (1.1 < 1.2 < 1.10 < 2,
 *	  and 1.0 is 1), and the description is what follows the first "__",
 *	  underscores read as blanks.  Versioned migrations run in version
 *	  order, then the repeatables, by description, each again whenever its
 *	  checksum changes.  executeInTransaction=false in a script's .sql.conf
 *	  runs it outside a transaction; so does any statement that cannot run
 *	  in one (CREATE INDEX CONCURRENTLY and the like), as with Flyway.
 *	  Flyway's Java migrations only Flyway can run; its baseline migrations
 *	  (B prefix), callbacks, placeholders and subdirectories are refused
 *	  rather than run differently.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"

#include "../layout.h"
#include "../migration.h"

/*
 * Checks a Flyway version (digits, separated by single dots or
 * underscores) and returns it with dots.
 */
static char *
read_version(const char *v, int len)
{
	char	   *out = pnstrdup(v, len);

	if (len == 0 || !isdigit((unsigned char) v[0]) ||
		!isdigit((unsigned char) v[len - 1]))
		return NULL;
	for (int i = 0; i < len; i++)
	{
		if (out[i] == '_')
			out[i] = '.';
		if (out[i] == '.' ? !isdigit((unsigned char) out[i + 1]) :
			!isdigit((unsigned char) out[i]))
			return NULL;
	}
	return out;
}

/*
 * A version as Flyway compares it, in one spelling: each part without its
 * leading zeros, trailing zero parts dropped ("1.0" and "01.00" are "1"),
 * so that an undo pairs with its migration by version, not by text.
 */
static char *
canonical_version(const char *v)
{
	StringInfoData buf;
	int			keep = 0;

	initStringInfo(&buf);
	while (*v != '\0')
	{
		size_t		len = strspn(v, "0123456789");
		const char *d = v;

		while (len > 1 && *d == '0')
			d++, len--;
		if (buf.len > 0)
			appendStringInfoChar(&buf, '.');
		appendBinaryStringInfo(&buf, d, len);
		if (len != 1 || *d != '0')
			keep = buf.len;
		v = d + len;
		if (*v == '.')
			v++;
	}
	buf.data[keep > 0 ? keep : 1] = '\0';
	return buf.data;
}

/* The description of a name's rest: underscores read as blanks. */
static char *
read_description(const char *d, int len)
{
	char	   *out = pnstrdup(d, len);

	for (int i = 0; i < len; i++)
		if (out[i] == '_')
			out[i] = ' ';
	return out;
}

/* Reads a Flyway name: V, U, R and B migrations and .sql.conf files. */
static bool
flyway_read_name(const char *name, bool is_dir, LayoutEntry *entry)
{
	const char *sep;
	const char *stem_end;
	char		prefix = name[0];
	bool		conf = has_suffix_ci(name, ".sql.conf", false);
	bool		sql = !conf && has_suffix_ci(name, ".sql", true);
	static const char *const java[] = {".java", ".class", ".kt"};
	bool		is_java = false;
	size_t		suffix = 0;

	if (is_dir || strchr("VURB", prefix) == NULL || name[1] == '\0')
		return false;
	for (int i = 0; i < lengthof(java); i++)
		if (has_suffix_ci(name, java[i], false))
		{
			is_java = true;
			suffix = strlen(java[i]);
		}
	if (!sql && !conf && !is_java)
		return false;
	if (sql)
		suffix = 4;
	else if (conf)
		suffix = strlen(".sql.conf");
	stem_end = name + strlen(name) - suffix;
	sep = strstr(name + 1, "__");
	if (sep == NULL || sep > stem_end)
		sep = stem_end;

	if (prefix == 'R')
	{
		if (sep != name + 1)
			return false;		/* R1.sql is no Flyway name */
		entry->description = read_description(sep + 2, stem_end - (sep + 2));
		entry->version = pstrdup("");
	}
	else
	{
		entry->version = read_version(name + 1, sep - (name + 1));
		if (entry->version == NULL)
			return false;		/* not a Flyway name: V2_x.sql is plain */
		entry->description = sep < stem_end ?
			read_description(sep + 2, stem_end - (sep + 2)) : pstrdup("");
	}
	entry->layout = LAYOUT_FLYWAY;

	if (conf)
	{
		entry->role = ROLE_CONFIG;
		entry->key = pnstrdup(name, strlen(name) - strlen(".conf"));
	}
	else if (is_java)
	{
		entry->role = prefix == 'U' ? ROLE_DOWN : ROLE_EXTERNAL;
		entry->what = "a Flyway Java migration";
		entry->key = canonical_version(entry->version);
	}
	else if (prefix == 'B')
	{
		entry->role = ROLE_UNKNOWN;
		entry->what = "A Flyway baseline migration (B prefix) replaces the versions up to its own on an empty database; morgenmigrate does not read it.  Apply the versioned migrations, or start a new directory from the baseline.";
	}
	else
	{
		entry->role = prefix == 'V' ? ROLE_UP : prefix == 'U' ? ROLE_DOWN :
			ROLE_REPEATABLE;
		entry->key = prefix == 'R' ? pstrdup(name) :
			canonical_version(entry->version);
	}
	return true;
}

/* Compares one part of two versions as numbers (leading zeros ignored). */
static int
part_cmp(const char *a, size_t la, const char *b, size_t lb)
{
	while (la > 1 && *a == '0')
		a++, la--;
	while (lb > 1 && *b == '0')
		b++, lb--;
	if (la != lb)
		return la < lb ? -1 : 1;
	return memcmp(a, b, la);
}

/*
 * Compares two Flyway versions (digits and dots) as numbers part by part,
 * missing parts as zeros (so 1.0 is 1).
 */
static int
flyway_version_cmp(const char *a, const char *b)
{
	while (*a != '\0' || *b != '\0')
	{
		size_t		la = strspn(a, "0123456789");
		size_t		lb = strspn(b, "0123456789");
		int			c = part_cmp(la ? a : "0", la ? la : 1, lb ? b : "0", lb ? lb : 1);

		if (c != 0)
			return c;
		a += la;
		b += lb;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
	}
	return 0;
}

/* Flyway's order: versioned by version, then repeatables by description. */
static int
flyway_compare(const MigrationFile *a, const MigrationFile *b)
{
	int			c;

	if ((a->role == ROLE_REPEATABLE) != (b->role == ROLE_REPEATABLE))
		return a->role == ROLE_REPEATABLE ? 1 : -1;
	if (a->role == ROLE_REPEATABLE)
		c = strcmp(a->description, b->description);
	else
		c = flyway_version_cmp(a->version, b->version);
	return c != 0 ? c : strcmp(a->name, b->name);
}

/*
 * Reads a script's .sql.conf (key=value lines, # and ! comments):
 * executeInTransaction, and encoding if it is UTF-8; any other setting is
 * refused rather than ignored.  Returns 1 for executeInTransaction=false,
 * 0 for true, -1 if not set.
 */
static int8
flyway_read_config(const char *name, const char *text)
{
	int8		result = -1;
	TextLine	line;
	int			len = strlen(text);

	memset(&line, 0, sizeof(line));
	while (layout_next_line(text, len, &line))
	{
		char	   *l = pnstrdup(line.start, line.len);
		char	   *eq;
		char	   *key = l;
		char	   *value;

		while (isspace((unsigned char) *key))
			key++;
		if (*key == '\0' || *key == '#' || *key == '!')
			continue;
		eq = strpbrk(key, "=:");
		if (eq == NULL)
			layout_malformed(name, line.number, "Flyway",
							 "a setting without a value", NULL);
		value = eq + 1;
		while (eq > key && isspace((unsigned char) eq[-1]))
			eq--;
		*eq = '\0';
		while (isspace((unsigned char) *value))
			value++;
		for (int i = strlen(value); i > 0 && isspace((unsigned char) value[i - 1]); i--)
			value[i - 1] = '\0';

		if (strcmp(key, "executeInTransaction") == 0 &&
			(pg_strcasecmp(value, "true") == 0 || pg_strcasecmp(value, "false") == 0))
			result = pg_strcasecmp(value, "false") == 0 ? 1 : 0;
		else if (strcmp(key, "encoding") == 0 &&
				 (pg_strcasecmp(value, "UTF-8") == 0 || pg_strcasecmp(value, "UTF8") == 0))
			continue;
		else
			layout_malformed(name, line.number, "Flyway",
							 psprintf("unsupported setting \"%s=%s\"", key, value),
							 "morgenmigrate reads executeInTransaction=true or false, and encoding=UTF-8.");
	}
	return result;
}

/*
 * Tells whether a target names a version: digits and dots or underscores,
 * the same version as Flyway compares them ("1.1" and "1_1" name V1_1__x,
 * "2" names V2.0__y).
 */
static bool
flyway_target_matches(const char *version, const char *target)
{
	char	   *v = pstrdup(target);

	for (char *p = v; *p; p++)
		if (*p == '_')
			*p = '.';
	return strspn(v, "0123456789.") == strlen(v) &&
		flyway_version_cmp(version, v) == 0;
}

const LayoutMethods flyway_layout = {
	.layout = LAYOUT_FLYWAY,
	.name = "flyway",
	.runner = "Flyway",
	.family = LAYOUT_FLYWAY,
	.names_as = "a Flyway migration",
	.read_name = flyway_read_name,
	.compare = flyway_compare,
	.version_cmp = flyway_version_cmp,
	.scan = NULL,
	.requires_markers = false,
	.read_config = flyway_read_config,
	.target_matches = flyway_target_matches,
	.subdir_refusal = "Flyway reads the migrations of subdirectories too; morgenmigrate reads one directory.",
	.unique_versions = true,
};
