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
 *	  order, then the repeatables, by description as Java compares strings
 *	  (by UTF-16 code units), each again whenever its checksum changes;
 *	  Flyway's checksum is taken over the lines of a script without their
 *	  line ends, and so is morgenmigrate's.  Two migrations of one
 *	  version, or two repeatables of one description, are refused, as
 *	  Flyway refuses them, and so is a version longer than the 50
 *	  characters Flyway's history holds, which Flyway would fail to record.
 *
 *	  A script's config file is its name followed by .conf, found without
 *	  regard to case, a Java properties file: executeInTransaction=false
 *	  runs the script outside a transaction; so does any statement that
 *	  cannot run in one (CREATE INDEX CONCURRENTLY and the like), as with
 *	  Flyway, which refuses a script that holds both kinds unless its
 *	  config says how it runs.  Flyway fills in ${placeholders} before it
 *	  runs a script, unless placeholderReplacement=false: such a script is
 *	  refused, since the server would run it as written.  A config file
 *	  without its script is read by nobody.
 *
 *	  Flyway's Java migrations and script migrations (V2__x.sh, run as
 *	  programs) only Flyway can run; its baseline migrations (B prefix),
 *	  callbacks and subdirectories are refused rather than run differently.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/memutils.h"

#include "../layout.h"
#include "../migration.h"

/* The longest version Flyway's history holds: its version is VARCHAR(50). */
#define MAX_VERSION_CHARS 50

/* Suffixes of the programs Flyway runs as script migrations. */
static const char *const script_suffixes[] = {
	".cmd", ".bat", ".ps1", ".py", ".sh", ".bash"
};

/* Suffixes of Java migrations. */
static const char *const java_suffixes[] = {".java", ".class", ".kt"};

/* The events Flyway runs callbacks around (callback names start so). */
static const char *const callback_events[] = {
	"beforeClean", "afterClean", "afterCleanError", "beforeMigrate",
	"beforeEachMigrate", "beforeEachMigrateStatement",
	"afterEachMigrateStatement", "afterEachMigrateStatementError",
	"afterEachMigrate", "afterEachMigrateError", "beforeRepeatables",
	"afterVersioned", "afterMigrateApplied", "afterMigrate",
	"afterMigrateError", "beforeUndo", "beforeEachUndo",
	"beforeEachUndoStatement", "afterEachUndoStatement",
	"afterEachUndoStatementError", "afterEachUndo", "afterEachUndoError",
	"afterUndo", "afterUndoError", "beforeValidate", "afterValidate",
	"afterValidateError", "beforeBaseline", "afterBaseline",
	"afterBaselineError", "beforeRepair", "afterRepair", "afterRepairError",
	"beforeInfo", "afterInfo", "afterInfoError", "afterMigrateOperationFinish",
	"afterInfoOperationFinish", "createSchema", "beforeCreateSchema",
	"beforeConnect", "afterConnect"
};

/*
 * Why a name that is only the prefix R and a suffix (R.sql, or a program
 * named R) is refused: Flyway lists a file as a migration only when its
 * name is longer than its prefix and suffix together, and skips it
 * without a word (R__.sql and R.sh are repeatables without a description).
 */
static const char *const bare_repeatable =
"Flyway reads a name as a migration only when it is longer than its prefix and its suffix together, and skips this one without a word: it would never run.  Flyway's repeatable migrations are named R__<description>.sql (or R__<description>.sh and the like, for a program).";

/*
 * Words of the statements Flyway runs outside a transaction: a text
 * without any of them needs no parsing to know it holds none.
 */
static const char *const non_transactional_words[] = {
	"concurrently", "database", "tablespace", "subscription", "system",
	"vacuum", "discard"
};

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
	if (suffix > 0 && (prefix == 'U' || prefix == 'B'))
		return false;			/* Flyway reads Java only from the class path */
	if (suffix == 0 && has_suffix_ci(name, ".sql", true))
		suffix = strlen(".sql");
	if (suffix == 0 || !read_stem(name, strlen(name) - suffix, entry))
		return false;
	entry->layout = LAYOUT_FLYWAY;

	if (!has_suffix_ci(name, ".sql", true))
	{
		entry->role = ROLE_EXTERNAL;
		entry->what = "a Flyway Java migration";
		entry->key = prefix == 'R' ? pstrdup(name) :
			canonical_version(entry->version);
	}
	else if (prefix == 'B')
	{
		entry->role = ROLE_UNKNOWN;
		entry->what = "A Flyway baseline migration (B prefix) replaces the versions up to its own on an empty database; morgenmigrate does not read it.  Apply the versioned migrations, or start a new directory from the baseline.";
	}
	else if (strlen(name) - suffix == 1)
	{
		/* R.sql: only the prefix and the suffix */
		entry->role = ROLE_UNKNOWN;
		entry->what = bare_repeatable;
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

/*
 * Tells whether Flyway runs a file as a program: a name ending in one of
 * the script suffixes, or without any (the part after the last dot, once
 * trailing dots are dropped, is what Flyway takes for the extension).
 */
static bool
is_script_file(const char *name)
{
	size_t		len = strlen(name);

	while (len > 0 && name[len - 1] == '.')
		len--;
	if (memchr(name, '.', len) == NULL)
		return true;
	return suffix_of(name, script_suffixes, lengthof(script_suffixes)) > 0;
}

/*
 * Reads, in a directory known to be Flyway's, a name flyway_read_name
 * passed over: a script migration (V2__backfill.sh, R__refresh.py, or a
 * name without an extension), which Flyway runs as a program, or a
 * callback (afterMigrate.sh, beforeMigrate__x.SQL), which it runs around
 * its commands.
 */
static void
flyway_own_name(const char *name, LayoutEntry *entry)
{
	size_t		suffix = suffix_of(name, script_suffixes,
								   lengthof(script_suffixes));

	for (int i = 0; i < lengthof(callback_events); i++)
	{
		size_t		elen = strlen(callback_events[i]);

		if (strncmp(name, callback_events[i], elen) == 0 &&
			(name[elen] == '\0' || name[elen] == '.' ||
			 strncmp(name + elen, "__", 2) == 0) &&
			(is_script_file(name) || has_suffix_ci(name, ".sql", true)))
		{
			entry->role = ROLE_UNKNOWN;
			entry->what = "A Flyway callback runs around Flyway's commands (before or after a migrate, each migration, each statement); morgenmigrate does not run callbacks.  Move what it does into a migration, or move the file out of the directory.";
			return;
		}
	}
	if (strcmp(name, "R") == 0)
	{
		/* a program named R: no longer than its prefix */
		entry->role = ROLE_UNKNOWN;
		entry->what = bare_repeatable;
		return;
	}
	if ((name[0] == 'V' || name[0] == 'R') && is_script_file(name) &&
		read_stem(name, strlen(name) - suffix, entry))
	{
		entry->role = ROLE_EXTERNAL;
		entry->what = "a Flyway script migration, a program Flyway runs";
		entry->key = name[0] == 'R' ? pstrdup(name) :
			canonical_version(entry->version);
		entry->why = "a Flyway script migration (.sh, .bash, .py, .ps1, .cmd, .bat, or no extension): Flyway runs it as a program";
		return;
	}
	entry->role = ROLE_IGNORED;
	if (name[0] == 'U' && suffix_of(name, java_suffixes, lengthof(java_suffixes)) > 0)
		entry->why = "a Java undo migration: Flyway reads Java migrations from the class path only, not from a migration directory";
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

/*
 * The UTF-16 code unit that a character of a UTF-8 text starts with: the
 * character itself up to U+FFFF, its high surrogate (U+D800..U+DBFF)
 * above; -1 for bytes that are not a character.
 */
static int32
utf16_lead(const unsigned char *s)
{
	int			len = pg_utf_mblen(s);
	pg_wchar	c;

	if (strnlen((const char *) s, len) < len || !pg_utf8_islegal(s, len))
		return -1;
	c = utf8_to_unicode(s);
	return c > 0xFFFF ? 0xD800 + ((c - 0x10000) >> 10) : c;
}

/*
 * Compares two descriptions (UTF-8, as file names are) as Java's
 * String.compareTo compares them, by UTF-16 code units: the order of
 * their bytes, which is that of their code points, but for a character
 * above U+FFFF (a surrogate pair) against one of U+E000..U+FFFF, which
 * UTF-16 puts after it.
 */
static int
description_cmp(const char *a, const char *b)
{
	size_t		i = 0;
	int32		ua,
				ub;

	while (a[i] != '\0' && a[i] == b[i])
		i++;
	if (a[i] == '\0' || b[i] == '\0')
		return strcmp(a + i, b + i);
	/* back to the start of the character where they differ */
	while (i > 0 && ((unsigned char) a[i] & 0xC0) == 0x80)
		i--;
	ua = utf16_lead((const unsigned char *) a + i);
	ub = utf16_lead((const unsigned char *) b + i);
	if (ua >= 0 && ub >= 0 && ua != ub)
		return ua < ub ? -1 : 1;
	/* one high surrogate (the low ones keep the order), or not UTF-8 */
	return strcmp(a + i, b + i);
}

/*
 * Flyway's order: versioned by version, then the migrations without a
 * version (repeatables, and repeatable script migrations) by description,
 * as Java compares strings.
 */
static int
flyway_compare(const MigrationFile *a, const MigrationFile *b)
{
	bool		ra = a->version[0] == '\0';
	bool		rb = b->version[0] == '\0';
	int			c;

	if (ra != rb)
		return ra ? 1 : -1;
	if (ra)
		c = description_cmp(a->description, b->description);
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

/* The line of a byte offset of a text. */
static int
line_at(const char *text, int offset)
{
	int			line = 1;

	for (const char *p = text; (p = memchr(p, '\n', text + offset - p)) != NULL; p++)
		line++;
	return line;
}

/*
 * The offset of the first token at or after an offset of a text, past
 * blanks and comments (where the parser's location of a statement may
 * start).
 */
static int
skip_comments(const char *text, int len, int offset)
{
	while (offset < len)
	{
		const char *p = text + offset;
		const char *end = NULL;

		if (isspace((unsigned char) *p))
		{
			offset++;
			continue;
		}
		if (len - offset >= 2 && p[0] == '-' && p[1] == '-')
			end = memchr(p, '\n', len - offset);
		else if (len - offset >= 2 && p[0] == '/' && p[1] == '*')
		{
			end = memmem(p + 2, len - offset - 2, "*/", 2);
			if (end != NULL)
				end++;
		}
		else
			break;
		if (end == NULL)
			break;
		offset = end - text + 1;
	}
	return offset;
}

/*
 * Notes the first placeholder of a text: Flyway replaces every "${" up to
 * the next "}", in strings and comments too, with a value of its own, or
 * fails for want of one.
 */
static void
note_placeholder(const char *text, int len, FileSections *s)
{
	const char *p = memmem(text, len, "${", 2);
	const char *end;

	if (p == NULL)
		return;
	end = memchr(p, '}', text + len - p);
	if (end == NULL || end - p > 60 || memchr(p, '\n', end - p) != NULL)
		end = p + 1;
	layout_note_problem(&s->substitution, line_at(text, p - text),
						ERRCODE_FEATURE_NOT_SUPPORTED,
						psprintf("holds the placeholder \"%.*s%s\", which Flyway fills in before running it",
								 (int) (end - p + 1), p, *end == '}' ? "" : "..."),
						"Flyway replaces every ${...} of a script, in strings and comments too, with a value of its own, and fails where it has none; the server would run the text as written.",
						"Write the value into the script, or, if the text is meant as written, set placeholderReplacement=false in its config file (the script's name followed by .conf).");
}

/*
 * The statements Flyway's PostgreSQL parser runs outside a transaction
 * whatever their options (it tells them by their first words).
 */
static const struct
{
	NodeTag		tag;
	const char *what;
}			outside_always[] = {
	{T_CreatedbStmt, "CREATE DATABASE"},
	{T_DropdbStmt, "DROP DATABASE"},
	{T_CreateTableSpaceStmt, "CREATE TABLESPACE"},
	{T_DropTableSpaceStmt, "DROP TABLESPACE"},
	{T_CreateSubscriptionStmt, "CREATE SUBSCRIPTION"},
	{T_DropSubscriptionStmt, "DROP SUBSCRIPTION"},
	{T_AlterSystemStmt, "ALTER SYSTEM"},
};

/*
 * What a statement is if Flyway runs it outside a transaction, else NULL:
 * those above, and by their first words CREATE or DROP INDEX
 * CONCURRENTLY, REINDEX SCHEMA, SYSTEM or DATABASE, VACUUM and DISCARD
 * ALL.
 */
static const char *
non_transactional(Node *stmt)
{
	for (int i = 0; i < lengthof(outside_always); i++)
		if (nodeTag(stmt) == outside_always[i].tag)
			return outside_always[i].what;
	if (IsA(stmt, IndexStmt) && ((IndexStmt *) stmt)->concurrent)
		return "CREATE INDEX CONCURRENTLY";
	if (IsA(stmt, DropStmt) && ((DropStmt *) stmt)->concurrent &&
		((DropStmt *) stmt)->removeType == OBJECT_INDEX)
		return "DROP INDEX CONCURRENTLY";
	if (IsA(stmt, ReindexStmt))
	{
		ReindexObjectType kind = ((ReindexStmt *) stmt)->kind;

		if (kind == REINDEX_OBJECT_SCHEMA || kind == REINDEX_OBJECT_SYSTEM ||
			kind == REINDEX_OBJECT_DATABASE)
			return kind == REINDEX_OBJECT_SCHEMA ? "REINDEX SCHEMA" :
				kind == REINDEX_OBJECT_SYSTEM ? "REINDEX SYSTEM" : "REINDEX DATABASE";
	}
	if (IsA(stmt, VacuumStmt) && ((VacuumStmt *) stmt)->is_vacuumcmd)
		return "VACUUM";
	if (IsA(stmt, DiscardStmt) && ((DiscardStmt *) stmt)->target == DISCARD_ALL)
		return "DISCARD ALL";
	return NULL;
}

/* Tells whether a text holds one of the words, in any case. */
static bool
mentions_any(const char *text, int len, const char *const *words, int n)
{
	for (int i = 0; i < n; i++)
	{
		size_t		wlen = strlen(words[i]);

		for (const char *p = text; p + wlen <= text + len; p++)
			if (pg_tolower((unsigned char) *p) == words[i][0] &&
				pg_strncasecmp(p, words[i], wlen) == 0)
				return true;
	}
	return false;
}

/*
 * The statements of a text as the server's parser reads them, or NIL for
 * a text it cannot parse: that is for the preflight to report, with its
 * line, when the file runs.
 */
static List *
parse_quietly(const char *text, int len)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	char	   *copy = pnstrdup(text, len);
	List	   *volatile raw = NIL;

	PG_TRY();
	{
		raw = raw_parser(copy, RAW_PARSE_DEFAULT);
	}
	PG_CATCH();
	{
		layout_catch_unreadable(oldcxt);
		raw = NIL;
	}
	PG_END_TRY();
	return raw;
}

/*
 * Notes a text that holds a statement Flyway runs outside a transaction
 * beside one it runs in a transaction: Flyway refuses such a script
 * (unless its config says how it runs), where migrate_run would run its
 * statements one by one.
 */
static void
note_mixed(const char *text, int len, FileSections *s)
{
	MemoryContext parsecxt;
	MemoryContext oldcxt;
	const char *what = NULL;
	int			what_at = 0;
	bool		transactional = false;
	ListCell   *lc;

	if (!mentions_any(text, len, non_transactional_words,
					  lengthof(non_transactional_words)))
		return;
	parsecxt = AllocSetContextCreate(CurrentMemoryContext,
									 "morgenmigrate flyway parse",
									 ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(parsecxt);
	foreach(lc, parse_quietly(text, len))
	{
		RawStmt    *rs = lfirst_node(RawStmt, lc);
		const char *w = non_transactional(rs->stmt);

		if (w == NULL)
			transactional = true;
		else if (what == NULL)
		{
			what = w;
			what_at = rs->stmt_location;
		}
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(parsecxt);
	if (what == NULL || !transactional)
		return;
	layout_note_problem(&s->mixed, line_at(text, skip_comments(text, len, what_at)),
						ERRCODE_ACTIVE_SQL_TRANSACTION,
						psprintf("holds %s, which cannot run in a transaction, beside statements that Flyway runs in one",
								 what),
						"Flyway runs a script in one transaction unless it holds such a statement, and refuses a script that holds both kinds.",
						"Move the statement into a migration of its own, or say how the script runs with executeInTransaction in its config file (the script's name followed by .conf).");
}

/*
 * What Flyway does to a script's text that a config file may settle: its
 * placeholders, and statements it would not run together.
 */
static void
flyway_check_text(const char *text, int len, FileSections *sections)
{
	note_placeholder(text, len, sections);
	note_mixed(text, len, sections);
}

/*
 * Refuses a version longer than Flyway's history holds: the version as
 * Flyway writes it ("_" as ".", leading zeros kept: the version here).
 */
static void
flyway_check_files(const char *dir, const MigrationFile *files, int nfiles)
{
	for (int i = 0; i < nfiles; i++)
		layout_refuse_long_version(files[i].name, files[i].version, "Flyway",
								   MAX_VERSION_CHARS,
								   "Shorten the version to "
								   CppAsString2(MAX_VERSION_CHARS) " characters, its separators included.");
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
	.own_name = flyway_own_name,
	.compare = flyway_compare,
	.version_cmp = flyway_version_cmp,
	.scan = NULL,
	.requires_markers = false,
	.read_config = flyway_read_config,
	.config_name_ci = true,
	.lone_config_why = "the config file of a script that is not in the directory: Flyway never reads it",
	.check_text = flyway_check_text,
	.checksum_lines = true,
	.check_files = flyway_check_files,
	.target_matches = flyway_target_matches,
	.subdir_refusal = "Flyway reads the migrations of subdirectories too; morgenmigrate reads one directory.",
	.unique_versions = true,
};
