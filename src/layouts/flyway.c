/*-------------------------------------------------------------------------
 *
 * flyway.c
 *	  Flyway's SQL migrations:
 *
 *		V<version>__<description>.sql	a versioned migration
 *		U<version>__<description>.sql	its undo (down) migration
 *		R__<description>.sql			a repeatable migration
 *		<script>.conf					settings of one script
 *
 *	  The prefix is matched with case, the .sql suffix without; the
 *	  version is digits separated by dots or underscores, compared part by
 *	  part as numbers with missing parts as zeros (1.1 < 1.2 < 1.10 < 2,
 *	  and 1.0 is 1), and the description is what follows the first "__",
 *	  underscores read as blanks.  Versioned migrations run in version
 *	  order, then the repeatables, by description, each again whenever its
 *	  checksum changes.  Two migrations of one version are refused, as
 *	  Flyway refuses them.
 *
 *	  A script's config file is its name followed by .conf, found without
 *	  regard to case, a Java properties file: executeInTransaction=false
 *	  runs the script outside a transaction; so does any statement that
 *	  cannot run in one (CREATE INDEX CONCURRENTLY and the like), as with
 *	  Flyway.  placeholderReplacement=false runs it as written.  A config
 *	  file without its script is read by nobody.
 *
 *	  Flyway's Java migrations only Flyway can run; its baseline
 *	  migrations (B prefix), callbacks and subdirectories are refused
 *	  rather than run differently.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"

#include "../layout.h"
#include "../migration.h"

/* Suffixes of Java migrations. */
static const char *const java_suffixes[] = {".java", ".class", ".kt"};

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

/*
 * Reads the version and description of the first len bytes of a name
 * (the name without its suffix), whose first letter is a prefix: a V, U
 * or B script has a version before its first "__", an R script none.
 * False when Flyway cannot read it.
 */
static bool
read_stem(const char *name, size_t len, LayoutEntry *entry)
{
	const char *end = name + len;
	const char *sep = strstr(name + 1, "__");

	if (sep == NULL || sep + 2 > end)
		sep = end;
	if (pg_toupper((unsigned char) name[0]) == 'R')
	{
		if (sep != name + 1 && name + 1 != end)
			return false;		/* R1.sql is no Flyway name */
		entry->version = pstrdup("");
	}
	else
	{
		entry->version = read_version(name + 1, sep - (name + 1));
		if (entry->version == NULL)
			return false;		/* not a Flyway name: V2_x.sql is plain */
	}
	entry->description = sep < end ?
		read_description(sep + 2, end - (sep + 2)) : pstrdup("");
	return true;
}

/* The length of a suffix of a list that a name ends in (any case), or 0. */
static size_t
suffix_of(const char *name, const char *const *suffixes, int n)
{
	for (int i = 0; i < n; i++)
		if (has_suffix_ci(name, suffixes[i], true))
			return strlen(suffixes[i]);
	return 0;
}

/*
 * Reads a Flyway name: V, U, R and B SQL scripts, Java migrations, and
 * the config files of SQL scripts.
 */
static bool
flyway_read_name(const char *name, bool is_dir, LayoutEntry *entry)
{
	char		prefix = name[0];
	size_t		suffix;

	if (is_dir || name[0] == '\0' || name[1] == '\0')
		return false;

	/* a script's config file: found by its name, in any case */
	if (has_suffix_ci(name, ".conf", true))
	{
		size_t		stem = strlen(name) - strlen(".conf");
		char	   *script = pnstrdup(name, stem);

		if (strchr("VUR", pg_toupper((unsigned char) prefix)) == NULL ||
			!has_suffix_ci(script, ".sql", true) ||
			!read_stem(script, stem - strlen(".sql"), entry))
			return false;
		entry->layout = LAYOUT_FLYWAY;
		entry->role = ROLE_CONFIG;
		entry->key = script;
		return true;
	}

	if (strchr("VURB", prefix) == NULL)
		return false;
	suffix = suffix_of(name, java_suffixes, lengthof(java_suffixes));
	if (suffix == 0 && has_suffix_ci(name, ".sql", true))
		suffix = strlen(".sql");
	if (suffix == 0 || !read_stem(name, strlen(name) - suffix, entry))
		return false;
	entry->layout = LAYOUT_FLYWAY;

	if (!has_suffix_ci(name, ".sql", true))
	{
		entry->role = prefix == 'U' ? ROLE_DOWN : ROLE_EXTERNAL;
		entry->what = "a Flyway Java migration";
		entry->key = prefix == 'R' ? pstrdup(name) :
			canonical_version(entry->version);
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

/* Reads a boolean setting as Flyway does (true or false, in any case). */
static bool
read_boolean(const char *name, int line, const char *key, const char *value)
{
	if (pg_strcasecmp(value, "true") == 0)
		return true;
	if (pg_strcasecmp(value, "false") != 0)
		layout_malformed(name, line, "Flyway",
						 psprintf("invalid value \"%s\" of %s", value, key),
						 "Flyway takes true or false.");
	return false;
}

/*
 * Reads a script's config file as the Java properties file it is: a line
 * is "key=value", "key: value" or "key value" (blanks around the key and
 * the separator do not count), or a comment (# or !).  Reads
 * executeInTransaction, placeholderReplacement and encoding if it is
 * UTF-8; any other setting is refused rather than ignored.
 */
static void
flyway_read_config(const char *name, const char *text, LayoutConfig *config)
{
	TextLine	line;
	int			len = strlen(text);

	memset(&line, 0, sizeof(line));
	while (layout_next_line(text, len, &line))
	{
		char	   *key = pnstrdup(line.start, line.len);
		char	   *value;
		size_t		klen;

		while (isspace((unsigned char) *key))
			key++;
		for (int i = strlen(key); i > 0 && isspace((unsigned char) key[i - 1]); i--)
			key[i - 1] = '\0';
		if (*key == '\0' || *key == '#' || *key == '!')
			continue;
		klen = strcspn(key, "=: \t\f");
		value = key + klen;
		value += strspn(value, " \t\f");
		if (*value == '=' || *value == ':')
			value++;
		value += strspn(value, " \t\f");
		key[klen] = '\0';

		if (strcmp(key, "executeInTransaction") == 0)
			config->no_transaction =
				read_boolean(name, line.number, key, value) ? 0 : 1;
		else if (strcmp(key, "placeholderReplacement") == 0)
			config->as_written = !read_boolean(name, line.number, key, value);
		else if (strcmp(key, "encoding") != 0 ||
				 (pg_strcasecmp(value, "UTF-8") != 0 &&
				  pg_strcasecmp(value, "UTF8") != 0))
			layout_malformed(name, line.number, "Flyway",
							 psprintf("unsupported setting \"%s=%s\"", key, value),
							 "morgenmigrate reads executeInTransaction and placeholderReplacement (true or false), and encoding=UTF-8.");
	}
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
	.config_name_ci = true,
	.lone_config_why = "the config file of a script that is not in the directory: Flyway never reads it",
	.target_matches = flyway_target_matches,
	.subdir_refusal = "Flyway reads the migrations of subdirectories too; morgenmigrate reads one directory.",
	.unique_versions = true,
};
