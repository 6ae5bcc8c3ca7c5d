/*-------------------------------------------------------------------------
 *
 * postgrator.c
 *	  postgrator's directory, as postgrator 8 reads it.
 *
 *	  Names: VERSION.ACTION[.NAME[...]].EXT, cut at the dots: the version
 *	  is the text before the first dot read as JavaScript's Number() reads
 *	  it (leading zeros ignored, "1e1" is 10, "0x0C" is 12, " 8" is 8),
 *	  the action the text after it, run only when it is "do" (an up
 *	  migration) or "undo" (its down migration), and the name the part
 *	  after that, which postgrator records.  The extension is ".sql", or
 *	  ".js", ".cjs", ".mjs" for migrations only postgrator can run.  A
 *	  name is postgrator's when one of its parts after the first is "do"
 *	  or "undo" in any case; of those, postgrator skips one whose version
 *	  is no number, and so does morgenmigrate, saying why.  A name it
 *	  reads but never runs is refused: a version of 0 or below (its
 *	  history starts at version 0), an action other than do and undo
 *	  (1.DO.x.sql, or 5.0.do.x.sql, whose action is "0"); such names still
 *	  count where postgrator refuses two of one version and action.  So is
 *	  a name postgrator would run and then fail to record, or record under
 *	  another version: a version that is no whole number, or beyond 2^53 -
 *	  1 (JavaScript's numbers lose digits there) and not written back as it
 *	  is (20240101120000000 is, 20240101120000001 is not), a name holding a
 *	  quote.  Order: versions as numbers; a rollback takes the highest version
 *	  applied first.  An undo file undoes the do file of its version,
 *	  whatever their extensions: an SQL undo file of a JavaScript migration
 *	  is its down migration.  An undo file without its do file, a
 *	  JavaScript one too, is refused: postgrator would run it when it rolls
 *	  back past its version.  Two undo files of one version, a JavaScript
 *	  one among them, are refused, as postgrator refuses the directory for
 *	  them.  So is a directory whose name ends in one of those extensions,
 *	  a migration's name or not: postgrator reads every such entry as a
 *	  file (a checksum of each .sql file, an import of each JavaScript one)
 *	  before it looks at the rest of the name, and fails on a directory
 *	  before anything runs.
 *
 *	  Text: no markers.  postgrator sends a file to the server as it is,
 *	  in one round trip, without a transaction of its own: the server runs
 *	  it as one implicit transaction.  So the file is one statement block,
 *	  and a byte-order mark, which postgrator sends too, is refused.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"

#include "../layout.h"
#include "../migration.h"

/* The largest whole number a JavaScript number holds exactly (2^53 - 1). */
#define MAX_SAFE "9007199254740991"

/* What a version is to postgrator, read as JavaScript's Number(). */
typedef enum JsVersion
{
	JS_WHOLE,					/* a whole number of 1 or more */
	JS_NOT_A_NUMBER,
	JS_NOT_ABOVE_ZERO,			/* 0, -0, negative */
	JS_FRACTION,				/* not a whole number (5e-1) */
	JS_TOO_LARGE				/* beyond 2^53 - 1 and read or written back
								 * as another number, or Infinity */
} JsVersion;

/*
 * The length of the white space at p that JavaScript's Number() trims: the
 * ASCII blanks, NO-BREAK SPACE, the Unicode spaces, the line and paragraph
 * separators and the byte-order mark, in UTF-8; 0 if none.
 */
static int
js_space(const char *p, const char *end)
{
	const unsigned char *u = (const unsigned char *) p;
	int			n = layout_go_space(p, end);

	/* Go's spaces but NEL, and the byte-order mark */
	if (n == 2 && u[1] == 0x85)
		return 0;
	if (n == 0 && end - p >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
		return 3;
	return n;
}

/* Appends the digits of a number in base 2, 8 or 16 to buf, in decimal. */
static void
based_to_decimal(const char *p, const char *end, int base, StringInfo buf)
{
	/* decimal digits, least significant first */
	char	   *d = palloc0((end - p) * 2 + 2);
	int			nd = 1;

	for (; p < end; p++)
	{
		int			carry = isdigit((unsigned char) *p) ? *p - '0' :
			pg_tolower((unsigned char) *p) - 'a' + 10;

		for (int i = 0; i < nd; i++)
		{
			int			v = d[i] * base + carry;

			d[i] = v % 10;
			carry = v / 10;
		}
		while (carry > 0)
		{
			d[nd++] = carry % 10;
			carry /= 10;
		}
	}
	while (nd > 1 && d[nd - 1] == 0)
		nd--;
	for (int i = nd - 1; i >= 0; i--)
		appendStringInfoChar(buf, '0' + d[i]);
	pfree(d);
}

/*
 * Tells whether postgrator records a whole number beyond 2^53 - 1, in
 * decimal digits without leading zeros, as it is: JavaScript reads it into
 * a double, and writes that double back (into its history's bigint
 * column) as the fewest digits that read back as the same double, followed
 * by zeros; these must be the digits of the name.  So they are for a
 * number the double holds that needs no more digits than its own, such as
 * 20240101120000000; 20240101120000001, or 2^60, would be recorded as
 * another number.
 */
static bool
js_writes_back(const char *decimal)
{
	size_t		len = strlen(decimal);
	double		d;
	char		shortest[32];
	char		digits[32];
	int			ndigits = 0;
	int			exponent;
	char	   *e;

	/* beyond a signed 64-bit number, the bigint column fails */
	if (len > 19 || (len == 19 && strcmp(decimal, "9223372036854775807") > 0))
		return false;
	d = strtod(decimal, NULL);
	for (int precision = 0; precision < 17; precision++)
	{
		snprintf(shortest, sizeof(shortest), "%.*e", precision, d);
		if (strtod(shortest, NULL) == d)
			break;
	}
	e = strchr(shortest, 'e');
	if (e == NULL)
		return false;
	for (const char *q = shortest; q < e; q++)
		if (isdigit((unsigned char) *q))
			digits[ndigits++] = *q;
	exponent = atoi(e + 1);
	if (exponent + 1 != (int) len || ndigits > (int) len)
		return false;
	return strncmp(decimal, digits, ndigits) == 0 &&
		strspn(decimal + ndigits, "0") == len - ndigits;
}

/*
 * Reads a version as JavaScript's Number() reads the text [p, end), as
 * postgrator does; a whole number of 1 or more in *decimal, in decimal
 * digits without leading zeros.
 */
static JsVersion
js_version(const char *p, const char *end, char **decimal)
{
	StringInfoData buf;
	int			n;
	bool		negative = false;
	const char *digits;
	const char *digits_end;
	long		exponent = 0;
	int			base = 10;

	while ((n = js_space(p, end)) > 0)
		p += n;
	while (end > p)
	{
		const char *q = end - 1;

		while (q > p && (*(const unsigned char *) q & 0xC0) == 0x80)
			q--;
		if (js_space(q, end) != end - q)
			break;
		end = q;
	}
	if (p == end)
		return JS_NOT_ABOVE_ZERO;	/* Number("") is 0 */

	if (end - p > 2 && p[0] == '0' && strchr("xXoObB", p[1]) != NULL)
	{
		base = strchr("xX", p[1]) ? 16 : strchr("oO", p[1]) ? 8 : 2;
		p += 2;
		for (const char *q = p; q < end; q++)
		{
			int			v = isdigit((unsigned char) *q) ? *q - '0' :
				isxdigit((unsigned char) *q) ? pg_tolower((unsigned char) *q) - 'a' + 10 : 99;

			if (v >= base)
				return JS_NOT_A_NUMBER;
		}
		initStringInfo(&buf);
		based_to_decimal(p, end, base, &buf);
	}
	else
	{
		if (*p == '+' || *p == '-')
			negative = *p++ == '-';
		if (end - p == 8 && strncmp(p, "Infinity", 8) == 0)
			return negative ? JS_NOT_ABOVE_ZERO : JS_TOO_LARGE;
		digits = p;
		while (p < end && isdigit((unsigned char) *p))
			p++;
		digits_end = p;
		if (digits == digits_end)
			return JS_NOT_A_NUMBER;
		if (p < end && (*p == 'e' || *p == 'E'))
		{
			bool		negative_exponent = false;
			const char *e;

			p++;
			if (p < end && (*p == '+' || *p == '-'))
				negative_exponent = *p++ == '-';
			e = p;
			while (p < end && isdigit((unsigned char) *p))
			{
				if (exponent < 100000)
					exponent = exponent * 10 + (*p - '0');
				p++;
			}
			if (e == p)
				return JS_NOT_A_NUMBER;
			if (negative_exponent)
				exponent = -exponent;
		}
		if (p != end)
			return JS_NOT_A_NUMBER;

		/* the digits times 10^exponent, in decimal digits */
		while (digits < digits_end - 1 && *digits == '0')
			digits++;
		if (digits_end - digits == 1 && *digits == '0')
			return JS_NOT_ABOVE_ZERO;
		if (negative)
			return JS_NOT_ABOVE_ZERO;
		for (; exponent < 0 && digits_end > digits && digits_end[-1] == '0';
			 exponent++)
			digits_end--;
		if (exponent < 0)
			return JS_FRACTION;
		/* beyond 20 digits, beyond a bigint too */
		if (exponent > 20)
			return JS_TOO_LARGE;
		initStringInfo(&buf);
		appendBinaryStringInfo(&buf, digits, digits_end - digits);
		for (long i = 0; i < exponent; i++)
			appendStringInfoChar(&buf, '0');
	}

	if (strspn(buf.data, "0") == buf.len)
		return JS_NOT_ABOVE_ZERO;
	if ((buf.len > (int) strlen(MAX_SAFE) ||
		 (buf.len == (int) strlen(MAX_SAFE) && strcmp(buf.data, MAX_SAFE) > 0)) &&
		!js_writes_back(buf.data))
		return JS_TOO_LARGE;
	*decimal = buf.data;
	return JS_WHOLE;
}

/*
 * Tells whether the name postgrator records of a migration, the part
 * after the dot at dot2 up to the next dot or the extension at ext, holds
 * a quote.
 */
static bool
quoted_name(const char *dot2, const char *ext)
{
	const char *end;

	if (dot2 >= ext)
		return false;
	end = memchr(dot2 + 1, '.', ext - dot2 - 1);
	if (end == NULL)
		end = ext;
	return memchr(dot2 + 1, '\'', end - dot2 - 1) != NULL;
}

/*
 * Reads a name as postgrator does.  A name is postgrator's when its
 * extension is one postgrator reads and one of the dot-separated parts
 * of the rest after the first is "do" or "undo" in any case.
 */
static bool
postgrator_read_name(const char *name, bool is_dir, LayoutEntry *entry)
{
	static const char *const exts[] = {".sql", ".js", ".cjs", ".mjs"};
	const char *ext = NULL;
	const char *dot1;
	const char *dot2;
	const char *part;
	bool		named = false;
	bool		undo;
	bool		js;
	JsVersion	v;
	char	   *version = NULL;

	if (is_dir)
		return false;
	for (int i = 0; i < lengthof(exts) && ext == NULL; i++)
		if (has_suffix_ci(name, exts[i], false))
			ext = name + strlen(name) - strlen(exts[i]);
	dot1 = memchr(name, '.', ext ? ext - name : 0);
	if (ext == NULL || dot1 == NULL)
		return false;
	for (part = dot1 + 1; part <= ext && !named;)
	{
		const char *next = memchr(part, '.', ext - part);

		if (next == NULL)
			next = ext;
		named = (next - part == 2 && pg_strncasecmp(part, "do", 2) == 0) ||
			(next - part == 4 && pg_strncasecmp(part, "undo", 4) == 0);
		part = next + 1;
	}
	if (!named)
		return false;

	entry->layout = LAYOUT_POSTGRATOR;
	dot2 = memchr(dot1 + 1, '.', ext - dot1 - 1);
	if (dot2 == NULL)
		dot2 = ext;
	js = strcmp(ext, ".sql") != 0;
	undo = dot2 - dot1 - 1 == 4 && strncmp(dot1 + 1, "undo", 4) == 0;
	v = js_version(name, dot1, &version);
	entry->role = ROLE_UNKNOWN;
	if (v == JS_NOT_A_NUMBER)
	{
		entry->role = ROLE_IGNORED;
		entry->why = "postgrator skips a name whose version, the text before its first dot, is not a number";
	}
	else if (!undo && (dot2 - dot1 - 1 != 2 || strncmp(dot1 + 1, "do", 2) != 0))
		entry->what = "postgrator reads the text after the first dot as the action, and runs only the actions do and undo, in lower case: it never runs this file.  Rename it VERSION.do.NAME.sql (a version without a dot), or remove it.";
	else if (v == JS_NOT_ABOVE_ZERO)
		entry->what = "Its version is 0 or below, which postgrator never runs: its history starts at version 0.  Rename it with a version above 0, or remove it.";
	else if (js && undo)
	{
		entry->role = ROLE_IGNORED;
		entry->external_down = true;
		entry->why = "a postgrator JavaScript undo migration, which only postgrator can run: a rollback of its version is refused";
	}
	else if (v == JS_FRACTION)
		entry->what = "Its version is not a whole number, which postgrator's history cannot hold: it would run the migration and record it under another version.";
	else if (v == JS_TOO_LARGE)
		entry->what = "Its version is beyond 9007199254740991, where JavaScript's numbers lose digits, and JavaScript reads it or writes it back as another number: postgrator would run the migration and record it under another version, or fail to record it.";
	else if (!undo && !js && quoted_name(dot2, ext))
		entry->what = "Its name holds a quote, which postgrator writes into its history table as it is: it would run the migration and then fail to record it.";
	else
	{
		entry->role = undo ? ROLE_DOWN : js ? ROLE_EXTERNAL : ROLE_UP;
		entry->what = js ? "a postgrator JavaScript migration" : NULL;
		entry->why = undo ? "postgrator undo migration (VERSION.undo.NAME.sql)" :
			js ? "postgrator JavaScript migration (VERSION.do.NAME.js), which only postgrator can run" :
			"postgrator migration (VERSION.do.NAME.sql)";
	}
	entry->version = version;
	entry->key = version;
	return true;
}

/*
 * Tells whether postgrator reads an entry of this name as a file: every
 * entry its listing finds (hidden ones are not listed) whose extension,
 * after the last dot, is one of its own with that case, whatever the rest
 * of the name says: it reads a .sql file for its checksum and imports a
 * JavaScript one before it drops the names whose version is no number.
 */
static bool
postgrator_lists_as_file(const char *name)
{
	static const char *const exts[] = {".sql", ".js", ".cjs", ".mjs"};

	if (name[0] == '.')
		return false;
	for (int i = 0; i < lengthof(exts); i++)
		if (has_suffix_ci(name, exts[i], false))
			return true;
	return false;
}

/* postgrator's order: versions as numbers, then names. */
static int
postgrator_compare(const MigrationFile *a, const MigrationFile *b)
{
	int			c = migration_name_cmp(a->version, b->version);

	return c != 0 ? c : strcmp(a->name, b->name);
}

/*
 * postgrator sends a file in one round trip, which the server runs as one
 * transaction: its statements are one block.
 */
static void
postgrator_read_text(const char *name, const char *text, int len,
					 FileSections *sections)
{
	layout_add_block(sections, sections->up.start, sections->up.end, 1);
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
	.bom_refusal = "postgrator sends the byte-order mark to the server, which fails on it; save the file without the mark.",
	.read_text = postgrator_read_text,
	.subdir_as_file = "postgrator reads every entry whose name ends in .sql, .js, .cjs or .mjs as a file before it looks at the rest of the name, a directory too, and fails on a directory before anything runs.",
	.lists_as_file = postgrator_lists_as_file,
	.unique_versions = true,
	.rollback_by_version = true,
	.undoes_external = true,
	.orphan_hint = "postgrator runs an undo file whenever it rolls back past its version, even one it never applied: add its do file, or remove it.",
};
