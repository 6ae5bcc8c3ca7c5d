/*-------------------------------------------------------------------------
 *
 * layout.c
 *	  The layouts morgenmigrate reads, in one table, and what they share:
 *	  reading a directory entry's name, ordering, scanning a file for
 *	  markers and cutting it into the section to run.  Each runner's own
 *	  rules live in src/layouts/<runner>.c.
 *
 * A section is cut by blanking, not by copying: everything outside it
 * becomes spaces, newlines stay, so that byte offsets and line numbers of
 * the cut text are those of the file, and errors name the file's lines.
 * Each marker line becomes a semicolon and spaces, so that the server's
 * parser breaks statements exactly where the runner breaks them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "common/keywords.h"
#include "lib/stringinfo.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "files.h"
#include "layout.h"

/* Every layout, in the order a directory entry's name is tried. */
static const LayoutMethods *const all_layouts[] = {
#define LAYOUT_ENTRY(id, methods) &methods,
#include "layouts/list.h"
#undef LAYOUT_ENTRY
};

/* The methods of a layout; NULL for LAYOUT_AUTO. */
const LayoutMethods *
layout_methods(MigrationLayout layout)
{
	for (int i = 0; i < lengthof(all_layouts); i++)
		if (all_layouts[i]->layout == layout)
			return all_layouts[i];
	return NULL;
}

/* The name of a layout, as morgenmigrate.layout and migrate_layout say it. */
const char *
layout_name(MigrationLayout layout)
{
	const LayoutMethods *m = layout_methods(layout);

	return m ? m->name : "auto";
}

/* The family of a layout (FAMILY_NONE for LAYOUT_AUTO). */
LayoutFamily
layout_family(MigrationLayout layout)
{
	const LayoutMethods *m = layout_methods(layout);

	return m ? m->family : FAMILY_NONE;
}

/*
 * The layout of a family whose names say it all; LAYOUT_AUTO for the flat
 * family, whose files' markers tell its layouts apart.
 */
MigrationLayout
layout_of_family(LayoutFamily family)
{
	const LayoutMethods *m = layout_of_names(family);

	return m->family == FAMILY_FLAT ? LAYOUT_AUTO : m->layout;
}

/*
 * The layout whose rules read a family's names and order (plain's for
 * the flat family).
 */
const LayoutMethods *
layout_of_names(LayoutFamily family)
{
	const LayoutMethods *m = layout_methods(family);

	return m != NULL ? m : &plain_layout;
}

/*
 * The values of the setting morgenmigrate.layout: 'auto' and every
 * layout's name.
 */
const struct config_enum_entry *
layout_setting_options(void)
{
	static struct config_enum_entry options[LAYOUT_COUNT + 1];

	if (options[0].name == NULL)
	{
		options[0].name = "auto";
		options[0].val = LAYOUT_AUTO;
		for (int i = 0; i < lengthof(all_layouts); i++)
		{
			options[i + 1].name = all_layouts[i]->name;
			options[i + 1].val = all_layouts[i]->layout;
		}
	}
	return options;
}

/* How a family names its migrations, for messages. */
const char *
layout_family_names(LayoutFamily family)
{
	return layout_of_names(family)->names_as;
}

/*
 * Reads what a directory entry is: the first layout that recognises its
 * name says; the flat family takes every other *.sql file.
 */
void
layout_read_name(const char *name, bool is_dir, LayoutEntry *entry)
{
	for (int i = 0; i < lengthof(all_layouts); i++)
	{
		const LayoutMethods *m = all_layouts[i];

		memset(entry, 0, sizeof(LayoutEntry));
		if (m->read_name != NULL && m->read_name(name, is_dir, entry))
		{
			entry->family = m->family;
			return;
		}
	}
	memset(entry, 0, sizeof(LayoutEntry));
	entry->role = ROLE_IGNORED;
}

/* Orders two migrations of a family: its layout's version order. */
int
layout_compare(LayoutFamily family, const struct MigrationFile *a,
			   const struct MigrationFile *b)
{
	return layout_of_names(family)->compare(a, b);
}

/* Compares two versions as a family's runner does; 0 for the same version. */
int
layout_version_cmp(LayoutFamily family, const char *a, const char *b)
{
	return layout_of_names(family)->version_cmp(a, b);
}

/*
 * Tells whether a target names a version as the runner of a directory's
 * layout reads versions (a layout that says nothing: as its family's);
 * by default a target of digits names the version of the same number ("3"
 * is 003_x.sql).
 */
bool
layout_target_matches(MigrationLayout layout, const char *version,
					  const char *target)
{
	const LayoutMethods *m = layout_methods(layout);
	const char *a = version;
	const char *b = target;

	if (version == NULL || version[0] == '\0' || target[0] == '\0')
		return false;
	if (m == NULL || m->target_matches == NULL)
		m = layout_of_names(layout_family(layout));
	if (m->target_matches != NULL)
		return m->target_matches(version, target);
	if (strspn(target, "0123456789") != strlen(target))
		return false;
	return layout_digits_cmp(a, b) == 0;
}

/*
 * Compares two strings of digits as the numbers they write, of any length:
 * leading zeros ignored ("01" and "1", "00" and "0" are equal).
 */
int
layout_digits_cmp(const char *a, const char *b)
{
	size_t		la,
				lb;

	while (*a == '0' && a[1] != '\0')
		a++;
	while (*b == '0' && b[1] != '\0')
		b++;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

/*
 * Version order of two file names: runs of digits compare as numbers,
 * other runs byte by byte; names equal that way compare byte by byte.
 */
int
migration_name_cmp(const char *a, const char *b)
{
	const unsigned char *pa = (const unsigned char *) a;
	const unsigned char *pb = (const unsigned char *) b;

	while (*pa != '\0' && *pb != '\0')
	{
		if (isdigit(*pa) && isdigit(*pb))
		{
			const unsigned char *sa,
					   *sb;
			size_t		la,
						lb;
			int			c;

			while (*pa == '0')
				pa++;
			while (*pb == '0')
				pb++;
			for (sa = pa; isdigit(*pa); pa++)
				;
			for (sb = pb; isdigit(*pb); pb++)
				;
			la = pa - sa;
			lb = pb - sb;
			if (la != lb)
				return la < lb ? -1 : 1;
			c = memcmp(sa, sb, la);
			if (c != 0)
				return c;
		}
		else
		{
			if (*pa != *pb)
				return *pa < *pb ? -1 : 1;
			pa++;
			pb++;
		}
	}
	if (*pa != *pb)
		return *pa == '\0' ? -1 : 1;
	return strcmp(a, b);
}

/* Sets the line of a range's last byte. */
static void
set_last_line(const char *text, int len, TextRange *r)
{
	const char *p = text;
	const char *end;

	if (r->start < 0)
		return;
	end = text + Min(Max(r->end - 1, 0), len);
	r->last_line = 1;
	while ((p = memchr(p, '\n', end - p)) != NULL)
	{
		r->last_line++;
		p++;
	}
}

/* Tells whether a line holds a word, in any case if ci. */
static bool
line_holds(const char *line, int len, const char *word, bool ci)
{
	int			wlen = strlen(word);
	char		lower = pg_tolower((unsigned char) word[0]);

	if (!ci)
		return memmem(line, len, word, wlen) != NULL;
	for (int i = 0; i + wlen <= len; i++)
	{
		if (pg_tolower((unsigned char) line[i]) == lower &&
			pg_strncasecmp(line + i, word, wlen) == 0)
			return true;
	}
	return false;
}

/*
 * The marker layouts whose markers a text may carry, as a bit per layout:
 * every marker is a comment line ("--" after blanks) that holds the
 * layout's marker word.  One pass over the text, looking only into its
 * comment lines, is much cheaper than each layout's scan line by line, and
 * most files carry no runner's markers at all.
 */
static uint32
candidate_layouts(const char *text, int len)
{
	uint32		found = 0;
	const char *p = text;
	const char *end = text + len;

	while (p < end)
	{
		const char *eol = memchr(p, '\n', end - p);
		const char *q = p;

		if (eol == NULL)
			eol = end;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if (eol - q >= 2 && q[0] == '-' && q[1] == '-')
		{
			for (int i = 0; i < lengthof(all_layouts); i++)
			{
				const LayoutMethods *m = all_layouts[i];

				if (m->scan != NULL &&
					line_holds(q, eol - q, m->marker_word, m->marker_word_ci))
					found |= (uint32) 1 << m->layout;
			}
		}
		p = eol + 1;
	}
	return found;
}

/*
 * Scans a file for one layout's markers where it may turn out that they
 * are none of the file's business: true if they make a migration of that
 * layout; false if the file carries none, or if that layout's runner would
 * refuse the file (a malformed migration, kept in *error).  Other errors
 * are raised.  Only the scan runs here, which holds no resources.
 */
static bool
probe_scan(const LayoutMethods *m, const char *name, const char *text,
		   int len, FileSections *s, ErrorData **error)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool found = false;

	*error = NULL;
	PG_TRY();
	{
		found = m->scan(name, text, len, s);
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		if (e->sqlerrcode != ERRCODE_SYNTAX_ERROR)
			PG_RE_THROW();
		FlushErrorState();
		*error = e;
	}
	PG_END_TRY();
	return found;
}

/*
 * Scans a file for markers (see layout_scan_file): the layout whose
 * markers it carries, with its sections, and the line of its first
 * marker; LAYOUT_PLAIN for none.
 */
static MigrationLayout
scan_markers(const char *name, const char *text, int len,
			 const LayoutMethods *own, uint32 candidates,
			 FileSections *sections, int *found_line)
{
	MigrationLayout found = LAYOUT_PLAIN;
	ErrorData  *first_error = NULL;
	int			strong = 0;
	bool		probe;
	bool		foreign_comments;

	/* the directory's own markers first: where they are, they alone count */
	if (own != NULL && own->scan != NULL &&
		(candidates & ((uint32) 1 << own->layout)) != 0)
	{
		memset(sections, 0, sizeof(FileSections));
		sections->down.start = -1;
		if (own->scan(name, text, len, sections))
		{
			*found_line = sections->up.start >= 0 ? sections->up.line :
				sections->down.line;
			return own->layout;
		}
		candidates &= ~((uint32) 1 << own->layout);
	}

	/*
	 * Another runner's markers, where that runner would refuse the file,
	 * are comments in a directory of a runner that does not read them; so
	 * are they, while the layout is not known, beside a runner's markers
	 * that make a migration.  Their scans are probes then.
	 */
	for (int i = 0; i < lengthof(all_layouts); i++)
		if (all_layouts[i]->scan != NULL && !all_layouts[i]->weak_markers &&
			(candidates & ((uint32) 1 << all_layouts[i]->layout)) != 0)
			strong++;
	foreign_comments = own != NULL && own->layout != LAYOUT_PLAIN;
	probe = foreign_comments || strong > 1;

	for (int i = 0; i < lengthof(all_layouts); i++)
	{
		const LayoutMethods *m = all_layouts[i];
		FileSections s;
		ErrorData  *error = NULL;
		bool		carries;

		if (m->scan == NULL || (candidates & ((uint32) 1 << m->layout)) == 0)
			continue;
		/* weak markers: comments but in their own layout, or alone */
		if (m->weak_markers && m != own &&
			(own != NULL || found != LAYOUT_PLAIN))
			continue;
		memset(&s, 0, sizeof(s));
		s.down.start = -1;
		if (probe && !m->weak_markers)
			carries = probe_scan(m, name, text, len, &s, &error);
		else
			carries = m->scan(name, text, len, &s);
		if (error != NULL && first_error == NULL)
			first_error = error;
		if (!carries)
			continue;
		/* while the layout is not known, the other files may say whose */
		if (found != LAYOUT_PLAIN && own == NULL)
		{
			sections->other_layouts |= (uint32) 1 << m->layout;
			continue;
		}
		if (found != LAYOUT_PLAIN)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("migration \"%s\" carries the markers of two runners",
							name),
					 errdetail("Line %d is a %s marker, line %d a %s marker.",
							   *found_line, layout_methods(found)->runner,
							   s.up.start >= 0 ? s.up.line : s.down.line, m->runner),
					 errhint("Keep the markers of the runner the directory is written for.")));
		found = m->layout;
		*found_line = s.up.start >= 0 ? s.up.line : s.down.line;
		s.other_layouts = sections->other_layouts;
		*sections = s;
	}

	/* markers their runner would refuse: comments but where no runner reads */
	if (found == LAYOUT_PLAIN && first_error != NULL && !foreign_comments)
		ReThrowError(first_error);
	return found;
}

/*
 * Scans a file's text for the markers of the directory's layout, or of
 * every marker layout while the layout is not known yet (LAYOUT_AUTO).
 * The layout whose markers the file carries cuts it; a file without markers
 * is one up section, PLAIN.  bom: the file started with a byte-order mark
 * (dropped from text), which a runner may refuse.
 *
 * A layout's markers count only in that layout, as each runner reads only
 * its own: in a directory of a runner's layout, a file that carries that
 * runner's markers is read by them alone, and every other runner's marker
 * line in it is a comment (a "-- +goose Down" in a dbmate file, or in a
 * string of one).  A file without its runner's markers that carries
 * another runner's is refused where they make a migration of that runner
 * (a goose file among postgrator's would run with its down section);
 * where that runner would refuse them (a lone "-- migrate:down" comment),
 * they are comments too.  Strong markers (dbmate's "-- migrate:up",
 * goose's "-- +goose", sql-migrate's "-- +migrate") are never comments in
 * morgenmigrate's own layout, which a file written for a runner would
 * leave: such a file is refused there, and so is one carrying two
 * runners' migrations.  While the layout is not known, a file whose
 * markers make a migration of one runner only is that runner's, the
 * others' lines in it comments; one whose markers make a migration of
 * several runners is that of the runner the directory's other files are
 * for (sections->other_layouts).  Weak markers (node-pg-migrate's "-- Up
 * Migration" reads like any comment) are comments in a directory of
 * another layout and beside strong markers; while the layout is not known
 * they are scanned, and what the runner would refuse in them is kept as a
 * problem for when the directory turns out to be that runner's.
 *
 * The directory's layout then notes what its runner does to the text that
 * a config file may settle (check_text); the caller raises it once it
 * knows the file's config (layout_raise_text_problems).
 */
void
layout_scan_file(const char *name, const char *text, int len, bool bom,
				 MigrationLayout layout, FileSections *sections)
{
	const LayoutMethods *own = layout_methods(layout);
	MigrationLayout found = LAYOUT_PLAIN;
	int			found_line = 0;
	uint32		candidates = candidate_layouts(text, len);

	memset(sections, 0, sizeof(FileSections));
	if (candidates != 0)
		found = scan_markers(name, text, len, own, candidates, sections,
							 &found_line);

	if (found == LAYOUT_PLAIN)
	{
		memset(sections, 0, sizeof(FileSections));
		sections->layout = LAYOUT_PLAIN;
		sections->up.start = 0;
		sections->up.end = len;
		sections->up.line = 1;
		sections->down.start = -1;
		/* a runner without markers may still refuse, or group, what it reads */
		if (bom && own != NULL && own->scan == NULL && own->bom_refusal != NULL)
			layout_malformed(name, 1, own->runner,
							 "the file starts with a byte-order mark",
							 own->bom_refusal);
		if (own != NULL && own->read_text != NULL)
			own->read_text(name, text, len, sections);
	}
	set_last_line(text, len, &sections->up);
	set_last_line(text, len, &sections->down);
	if (own != NULL && found != LAYOUT_PLAIN && found != layout)
	{
		if (layout == mm_layout)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("migration \"%s\" carries %s markers, but morgenmigrate.layout is '%s'",
							name, layout_methods(found)->runner, layout_name(layout)),
					 errdetail("Line %d is a %s marker.", found_line,
							   layout_methods(found)->runner),
					 errhint("A file is never run as plain SQL while it carries another runner's markers; set morgenmigrate.layout to '%s' or 'auto'.",
							 layout_name(found))));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("migration \"%s\" carries %s markers in a directory laid out for %s",
						name, layout_methods(found)->runner, own->runner),
				 errdetail("Line %d is a %s marker.", found_line,
						   layout_methods(found)->runner),
				 errhint("Keep the migrations of one runner in a directory.  If %s wrote this one, set morgenmigrate.layout to '%s'.",
						 layout_methods(found)->runner, layout_name(found))));
	}
	/* what the runner refuses in the up part, once its markers count */
	sections->bom = bom;
	if (found != LAYOUT_PLAIN && (own != NULL || !layout_methods(found)->weak_markers))
	{
		if (bom && layout_methods(found)->bom_refusal != NULL)
			layout_malformed(name, 1, layout_methods(found)->runner,
							 "the file starts with a byte-order mark",
							 layout_methods(found)->bom_refusal);
		layout_check_bom(name, found, sections);
		layout_raise_problem(name, found, &sections->up_problem);
	}
	else if (found == LAYOUT_PLAIN && own != NULL)
		layout_check_bom(name, layout, sections);
	/* what it does to the text, raised once the file's config is known */
	if (own != NULL && own->check_text != NULL)
		own->check_text(text, len, sections);
}

/*
 * Raises a problem a scan kept (nothing when there is none), as the scan
 * would have: a malformed file, naming its line.
 */
void
layout_raise_problem(const char *name, MigrationLayout layout,
					 const LayoutProblem *problem)
{
	if (problem->line > 0)
		layout_malformed(name, problem->line, layout_methods(layout)->runner,
						 problem->message, problem->hint);
}

/*
 * Refuses a file that starts with a byte-order mark where the layout's
 * runner reads the mark as text of the first line (bom_in_text), and that
 * changes what runs: a marker on the first line is none to the runner, and
 * a part that starts at the file's first byte goes to the server with the
 * mark, which it refuses.  The up part (and the first line) is refused at
 * once, the down part when it runs.
 */
void
layout_check_bom(const char *name, MigrationLayout layout,
				 FileSections *sections)
{
	const LayoutMethods *m = layout_methods(layout);

	if (!sections->bom || m == NULL || m->bom_in_text == NULL)
		return;
	if ((sections->nmarkers > 0 && sections->markers[0] == 0) ||
		sections->up.start == 0)
		layout_malformed(name, 1, m->runner,
						 "the file starts with a byte-order mark",
						 m->bom_in_text);
	if (sections->down.start == 0)
		layout_defer_problem(&sections->down_problem, 1,
							 "the file starts with a byte-order mark",
							 m->bom_in_text);
}

/*
 * The layout whose runner's users alone name a file so (weak_name), or
 * LAYOUT_AUTO.
 */
MigrationLayout
layout_of_weak_name(const char *name)
{
	for (int i = 0; i < lengthof(all_layouts); i++)
		if (all_layouts[i]->weak_name != NULL && all_layouts[i]->weak_name(name))
			return all_layouts[i]->layout;
	return LAYOUT_AUTO;
}

/* Keeps the first problem of a part of a file, for when that part is needed. */
void
layout_defer_problem(LayoutProblem *problem, int line, const char *message,
					 const char *hint)
{
	if (problem->line > 0)
		return;
	problem->line = line;
	problem->message = message;
	problem->hint = hint;
}

/*
 * Keeps a problem of a file that its config file may settle, whatever
 * SQLSTATE it has (the first one of each kind).
 */
void
layout_note_problem(LayoutProblem *problem, int line, int sqlstate,
					const char *message, const char *detail, const char *hint)
{
	if (problem->line > 0)
		return;
	layout_defer_problem(problem, line, message, hint);
	problem->sqlstate = sqlstate;
	problem->detail = detail;
}

/*
 * Raises what a runner would do to a file's text that the server cannot
 * (fill in placeholders), or would refuse in it (statements that need a
 * transaction beside one that cannot have one), unless the config file of
 * the file settles it.  Names the file and the line.
 */
void
layout_raise_text_problems(const char *name, const FileSections *sections,
						   const LayoutConfig *config)
{
	const LayoutProblem *p = NULL;

	if (sections->substitution.line > 0 && !config->as_written)
		p = &sections->substitution;
	else if (sections->mixed.line > 0 && config->no_transaction < 0)
		p = &sections->mixed;
	if (p == NULL)
		return;
	ereport(ERROR,
			(errcode(p->sqlstate),
			 errmsg("migration \"%s\" %s", name, p->message),
			 p->detail ? errdetail("%s", p->detail) : 0,
			 p->hint ? errhint("%s", p->hint) : 0,
			 errcontext("migration \"%s\", line %d", name, p->line)));
}

/* A config that says nothing: what a file without a config file has. */
void
layout_init_config(LayoutConfig *config)
{
	config->path = NULL;
	config->no_transaction = -1;
	config->as_written = false;
}

/*
 * The text of one section of a file: a copy of the whole text, with
 * everything outside the section turned into spaces (newlines kept) and
 * each marker line into a statement break.  NULL if the file has no such
 * section; what its runner would refuse in the section is raised now.
 */
char *
layout_cut_section(const char *name, const char *text, int len,
				   const FileSections *sections, MigrationSection section)
{
	char	   *cut = palloc(len + 1);

	memcpy(cut, text, len);
	cut[len] = '\0';
	if (!layout_cut_section_in_place(name, cut, len, sections, section))
	{
		pfree(cut);
		return NULL;
	}
	return cut;
}

/*
 * layout_cut_section done on the text itself, for a caller that needs the
 * whole text no more (a file of a hundred megabytes is then held once, not
 * twice); false, and the text untouched, if the file has no such section.
 */
bool
layout_cut_section_in_place(const char *name, char *text, int len,
							const FileSections *sections,
							MigrationSection section)
{
	const TextRange *r = section == SECTION_UP ? &sections->up : &sections->down;

	if (r->start < 0)
		return false;
	Assert(r->start <= r->end && r->end <= len);
	layout_raise_problem(name, sections->layout,
						 section == SECTION_UP ? &sections->up_problem :
						 &sections->down_problem);
	if (sections->layout == LAYOUT_PLAIN)
		return true;

	for (int i = 0; i < len; i++)
	{
		if ((i < r->start || i >= r->end) && text[i] != '\n')
			text[i] = ' ';
	}
	for (int m = 0; m < sections->nmarkers; m++)
	{
		int			off = sections->markers[m];

		if (off < r->start || off >= r->end)
			continue;
		memset(text + off, ' ', sections->marker_lens[m]);
		if (sections->marker_lens[m] > 0)
			text[off] = ';';
	}
	return true;
}

/*
 * Iterates over the lines of a text; start with line->start = NULL.  A
 * line's length leaves out its line end, LF or CRLF.
 */
bool
layout_next_line(const char *text, int len, TextLine *line)
{
	const char *p;
	const char *eol;

	if (line->start == NULL)
	{
		p = text;
		line->number = 1;
	}
	else
	{
		p = text + line->next;
		line->number++;
	}
	if (p >= text + len)
		return false;
	eol = memchr(p, '\n', text + len - p);
	line->start = p;
	line->len = eol ? eol - p : text + len - p;
	line->offset = p - text;
	line->next = eol ? eol + 1 - text : len;
	/* a CRLF line end is a line end, as for every runner */
	if (eol != NULL && line->len > 0 && p[line->len - 1] == '\r')
		line->len--;
	return true;
}

/* A copy of an array, or NULL for none. */
static void *
copy_array(const void *values, int n, Size size)
{
	return n > 0 ? memcpy(palloc(size * n), values, size * n) : NULL;
}

/* Makes a problem's texts copies in the current memory context. */
static void
copy_problem(LayoutProblem *p)
{
	if (p->line == 0)
		return;
	p->message = pstrdup(p->message);
	p->hint = p->hint ? pstrdup(p->hint) : NULL;
	p->detail = p->detail ? pstrdup(p->detail) : NULL;
}

/*
 * A copy of what a scan found whose arrays live in the current memory
 * context (the text they point into is not copied: offsets only).
 */
FileSections
layout_copy_sections(const FileSections *s)
{
	FileSections c = *s;

	c.markers = copy_array(s->markers, s->nmarkers, sizeof(int));
	c.marker_lens = copy_array(s->marker_lens, s->nmarkers, sizeof(int));
	c.blocks = copy_array(s->blocks, s->nblocks, sizeof(TextRange));
	copy_problem(&c.up_problem);
	copy_problem(&c.down_problem);
	copy_problem(&c.substitution);
	copy_problem(&c.mixed);
	return c;
}

/* Appends an int32 to a packed form. */
static void
pack_int(StringInfo buf, int32 v)
{
	appendBinaryStringInfo(buf, (const char *) &v, sizeof(v));
}

/* Appends a text, or NULL, to a packed form. */
static void
pack_text(StringInfo buf, const char *s)
{
	pack_int(buf, s ? (int32) strlen(s) : -1);
	if (s)
		appendBinaryStringInfo(buf, s, strlen(s));
}

/* Appends a range to a packed form. */
static void
pack_range(StringInfo buf, const TextRange *r)
{
	pack_int(buf, r->start);
	pack_int(buf, r->end);
	pack_int(buf, r->line);
	pack_int(buf, r->last_line);
}

/* Appends a problem to a packed form. */
static void
pack_problem(StringInfo buf, const LayoutProblem *p)
{
	pack_int(buf, p->line);
	if (p->line == 0)
		return;
	pack_int(buf, p->sqlstate);
	pack_text(buf, p->message);
	pack_text(buf, p->hint);
	pack_text(buf, p->detail);
}

/*
 * Appends what a scan found to buf, in a form layout_unpack_sections reads
 * back (in this build only: morgenmigrate.file_fingerprints keeps it after
 * the build's identity, which a build of other sources does not share).
 */
void
layout_pack_sections(StringInfo buf, const FileSections *s)
{
	pack_int(buf, s->layout);
	pack_int(buf, (int32) s->other_layouts);
	pack_range(buf, &s->up);
	pack_range(buf, &s->down);
	pack_int(buf, (s->up_no_transaction ? 1 : 0) |
			 (s->down_no_transaction ? 2 : 0) | (s->bom ? 4 : 0));
	pack_int(buf, s->no_transaction_line);
	pack_int(buf, s->nblocks);
	for (int i = 0; i < s->nblocks; i++)
		pack_range(buf, &s->blocks[i]);
	pack_int(buf, s->nmarkers);
	for (int i = 0; i < s->nmarkers; i++)
	{
		pack_int(buf, s->markers[i]);
		pack_int(buf, s->marker_lens[i]);
	}
	pack_problem(buf, &s->up_problem);
	pack_problem(buf, &s->down_problem);
	pack_problem(buf, &s->substitution);
	pack_problem(buf, &s->mixed);
}

/* Reads an int32 of a packed form; false past its end. */
static bool
unpack_int(const char **p, const char *end, int32 *v)
{
	if (end - *p < (ptrdiff_t) sizeof(int32))
		return false;
	memcpy(v, *p, sizeof(int32));
	*p += sizeof(int32);
	return true;
}

/* Reads a count of n items of size bytes each; false if they cannot fit. */
static bool
unpack_count(const char **p, const char *end, Size size, int32 *n)
{
	return unpack_int(p, end, n) && *n >= 0 &&
		(Size) *n <= (Size) (end - *p) / size;
}

/* Reads a text, or NULL, of a packed form (a copy); false if malformed. */
static bool
unpack_text(const char **p, const char *end, const char **s)
{
	int32		len;

	if (!unpack_int(p, end, &len) || len < -1 || len > end - *p)
		return false;
	*s = len < 0 ? NULL : pnstrdup(*p, len);
	*p += Max(len, 0);
	return true;
}

/* Reads a range of a packed form; false if malformed. */
static bool
unpack_range(const char **p, const char *end, TextRange *r)
{
	return unpack_int(p, end, &r->start) && unpack_int(p, end, &r->end) &&
		unpack_int(p, end, &r->line) && unpack_int(p, end, &r->last_line);
}

/* Reads a problem of a packed form; false if malformed. */
static bool
unpack_problem(const char **p, const char *end, LayoutProblem *pr)
{
	memset(pr, 0, sizeof(LayoutProblem));
	if (!unpack_int(p, end, &pr->line))
		return false;
	if (pr->line == 0)
		return true;
	return unpack_int(p, end, &pr->sqlstate) &&
		unpack_text(p, end, &pr->message) && pr->message != NULL &&
		unpack_text(p, end, &pr->hint) && unpack_text(p, end, &pr->detail);
}

/*
 * Reads back at *p what layout_pack_sections wrote, its arrays in the
 * current memory context; false if it is malformed or does not end at end.
 */
bool
layout_unpack_sections(const char *p, const char *end, FileSections *s)
{
	int32		v;
	int32		flags;

	memset(s, 0, sizeof(FileSections));
	if (!unpack_int(&p, end, &v) || v < 0 || v >= LAYOUT_COUNT)
		return false;
	s->layout = (MigrationLayout) v;
	if (!unpack_int(&p, end, &v))
		return false;
	s->other_layouts = (uint32) v;
	if (!unpack_range(&p, end, &s->up) || !unpack_range(&p, end, &s->down) ||
		!unpack_int(&p, end, &flags) ||
		!unpack_int(&p, end, &s->no_transaction_line) ||
		!unpack_count(&p, end, 4 * sizeof(int32), &s->nblocks))
		return false;
	s->up_no_transaction = (flags & 1) != 0;
	s->down_no_transaction = (flags & 2) != 0;
	s->bom = (flags & 4) != 0;
	if (s->nblocks > 0)
		s->blocks = palloc(sizeof(TextRange) * s->nblocks);
	for (int i = 0; i < s->nblocks; i++)
		if (!unpack_range(&p, end, &s->blocks[i]))
			return false;
	if (!unpack_count(&p, end, 2 * sizeof(int32), &s->nmarkers))
		return false;
	if (s->nmarkers > 0)
	{
		s->markers = palloc(sizeof(int) * s->nmarkers);
		s->marker_lens = palloc(sizeof(int) * s->nmarkers);
	}
	for (int i = 0; i < s->nmarkers; i++)
		if (!unpack_int(&p, end, &s->markers[i]) ||
			!unpack_int(&p, end, &s->marker_lens[i]))
			return false;
	return unpack_problem(&p, end, &s->up_problem) &&
		unpack_problem(&p, end, &s->down_problem) &&
		unpack_problem(&p, end, &s->substitution) &&
		unpack_problem(&p, end, &s->mixed) && p == end;
}

/* Notes a marker line, which the cut turns into a statement break. */
void
layout_add_marker(FileSections *sections, const TextLine *line)
{
	if (sections->nmarkers == 0)
	{
		sections->markers = palloc(sizeof(int) * 8);
		sections->marker_lens = palloc(sizeof(int) * 8);
	}
	else if ((sections->nmarkers & (sections->nmarkers - 1)) == 0 &&
			 sections->nmarkers >= 8)
	{
		sections->markers = repalloc(sections->markers,
									 sizeof(int) * sections->nmarkers * 2);
		sections->marker_lens = repalloc(sections->marker_lens,
										 sizeof(int) * sections->nmarkers * 2);
	}
	sections->markers[sections->nmarkers] = line->offset;
	sections->marker_lens[sections->nmarkers] = line->len;
	sections->nmarkers++;
}

/* Notes a statement block, whose statements run together. */
void
layout_add_block(FileSections *sections, int start, int end, int line)
{
	if (sections->nblocks == 0)
		sections->blocks = palloc(sizeof(TextRange) * 4);
	else if ((sections->nblocks & (sections->nblocks - 1)) == 0 &&
			 sections->nblocks >= 4)
		sections->blocks = repalloc(sections->blocks,
									sizeof(TextRange) * sections->nblocks * 2);
	sections->blocks[sections->nblocks].start = start;
	sections->blocks[sections->nblocks].end = end;
	sections->blocks[sections->nblocks].line = line;
	sections->nblocks++;
}

/*
 * Where a line ends a statement as goose and sql-migrate see it: the
 * offset of the semicolon that ends its last word before a word starting
 * with "--" (words cut at Go's white space); -1 if that word does not end
 * in one.  max_word, unless 0, is the buffer of the runner's scanner of
 * words: a word that does not fit in it with the white space after it (or
 * the end of the line) stops the scan, and the word before it is the last;
 * *cut (unless NULL) tells whether one did.
 */
int
layout_line_semicolon(const TextLine *line, int max_word, bool *cut)
{
	const char *p = line->start;
	const char *end = line->start + line->len;
	const char *last = NULL;
	int			n;

	if (cut != NULL)
		*cut = false;
	while (p < end)
	{
		const char *w;

		while ((n = layout_go_space(p, end)) > 0)
			p += n;
		if (p >= end)
			break;
		w = p;
		if (end - w >= 2 && w[0] == '-' && w[1] == '-')
			break;
		while (p < end && layout_go_space(p, end) == 0)
			p++;
		if (max_word > 0 && (p - w) + Max(layout_go_space(p, end), 1) > max_word)
		{
			if (cut != NULL)
				*cut = true;
			break;
		}
		last = p - 1;
	}
	return last != NULL && *last == ';' ? line->offset + (last - line->start) : -1;
}

/* Tells whether a line is blank or a comment line ("--" after blanks). */
bool
layout_is_blank_or_comment(const TextLine *line)
{
	const char *p = line->start;
	const char *end = line->start + line->len;

	while (p < end && isspace((unsigned char) *p))
		p++;
	return p >= end || (end - p >= 2 && p[0] == '-' && p[1] == '-');
}

/*
 * The length of the white space at p (before end) as Go's unicode.IsSpace
 * sees it, which runners written in Go trim lines and cut words with:
 * ASCII blanks, NEL, NO-BREAK SPACE and the Unicode spaces, in UTF-8; 0 if
 * none.
 */
int
layout_go_space(const char *p, const char *end)
{
	const unsigned char *u = (const unsigned char *) p;
	int			left = end - p;

	if (left < 1)
		return 0;
	if (*u == ' ' || (*u >= '\t' && *u <= '\r'))
		return 1;
	if (left >= 2 && u[0] == 0xC2 && (u[1] == 0x85 || u[1] == 0xA0))
		return 2;
	if (left < 3)
		return 0;
	if ((u[0] == 0xE1 && u[1] == 0x9A && u[2] == 0x80) ||
		(u[0] == 0xE2 && u[1] == 0x80 &&
		 (u[2] <= 0x8A || u[2] == 0xA8 || u[2] == 0xA9 || u[2] == 0xAF)) ||
		(u[0] == 0xE2 && u[1] == 0x81 && u[2] == 0x9F) ||
		(u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80))
		return 3;
	return 0;
}

/* Trims white space, as Go's strings.TrimSpace does, off [*start, *end). */
void
layout_go_trim(const char **start, const char **end)
{
	int			n;

	while ((n = layout_go_space(*start, *end)) > 0)
		*start += n;
	while (*end > *start)
	{
		const char *p = *end - 1;

		/* step back to the start of the last character */
		while (p > *start && (*(const unsigned char *) p & 0xC0) == 0x80)
			p--;
		if (layout_go_space(p, *end) != *end - p)
			break;
		*end = p;
	}
}

/* Refuses a file whose markers its runner would refuse, naming the line. */
void
layout_malformed(const char *name, int line, const char *runner,
				 const char *message, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_SYNTAX_ERROR),
			 errmsg("malformed %s migration \"%s\": %s", runner, name, message),
			 hint ? errhint("%s", hint) : 0,
			 errcontext("migration \"%s\", line %d", name, line)));
}

/* Tells whether name ends in suffix, ignoring case if ci. */
bool
has_suffix_ci(const char *name, const char *suffix, bool ci)
{
	size_t		nlen = strlen(name);
	size_t		slen = strlen(suffix);

	if (nlen < slen)
		return false;
	return ci ? pg_strcasecmp(name + nlen - slen, suffix) == 0 :
		strcmp(name + nlen - slen, suffix) == 0;
}

/*
 * The offsets of the semicolons at which the server's parser ends the
 * statements of a text, in order: not those inside a string, a comment, a
 * quoted body, a rule's actions or a BEGIN ATOMIC body.  For runners that
 * cut a file into statements themselves: where one ends a statement, the
 * server must end one too, or the runner sends half of it.  NULL (*n 0)
 * when the text does not scan or parse: running it fails anyway, naming
 * the line.
 *
 * The server's scanner finds the semicolons; only the actions of a rule
 * and a BEGIN ATOMIC body hold semicolons that end no statement, so only a
 * text with RULE or ATOMIC is parsed (the scan alone costs a fraction of a
 * parse), and its semicolons inside a statement dropped.
 */
int *
layout_statement_ends(const char *text, int *n)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	MemoryContext parsecxt = AllocSetContextCreate(oldcxt,
												   "morgenmigrate statement ends",
												   ALLOCSET_DEFAULT_SIZES);
	int		   *volatile ends = NULL;
	volatile int count = 0;
	volatile bool inner = false;
	List	   *volatile raw = NIL;
	int			kept = 0;

	*n = 0;
	MemoryContextSwitchTo(parsecxt);
	PG_TRY();
	{
		core_yy_extra_type yyextra;
		core_yyscan_t scanner;
		core_YYSTYPE yylval;
		YYLTYPE		yylloc;
		int			token;
		int			max = 16;
		int			rule = ScanKeywordTokens[ScanKeywordLookup("rule", &ScanKeywords)];
		int			atomic = ScanKeywordTokens[ScanKeywordLookup("atomic", &ScanKeywords)];

		ends = MemoryContextAlloc(oldcxt, sizeof(int) * max);
		scanner = layout_quiet_scanner(text, &yyextra);
		while ((token = core_yylex(&yylval, &yylloc, scanner)) != 0)
		{
			if (token == rule || token == atomic)
				inner = true;
			if (token != ';')
				continue;
			if (count == max)
			{
				max *= 2;
				ends = repalloc(ends, sizeof(int) * max);
			}
			ends[count++] = yylloc;
		}
		scanner_finish(scanner);
		if (inner)
			raw = raw_parser(text, RAW_PARSE_DEFAULT);
	}
	PG_CATCH();
	{
		/* only the scanner and the parser ran: they hold no resources */
		layout_catch_unreadable(parsecxt);
		if (ends != NULL)
			pfree(ends);
		ends = NULL;
		count = 0;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);

	/* a semicolon inside a statement of the parse tree ends none */
	if (ends != NULL && inner)
	{
		ListCell   *lc = list_head(raw);
		int			len = strlen(text);

		for (int i = 0; i < count; i++)
		{
			RawStmt    *rs;

			while (lc != NULL &&
				   ((rs = lfirst_node(RawStmt, lc))->stmt_len > 0 ?
					rs->stmt_location + rs->stmt_len : len) <= ends[i])
				lc = lnext(raw, lc);
			if (lc == NULL || lfirst_node(RawStmt, lc)->stmt_location > ends[i])
				ends[kept++] = ends[i];
		}
		count = kept;
	}
	MemoryContextDelete(parsecxt);
	*n = count;
	return ends;
}

/*
 * Refuses the migration name whose version its runner cannot record: the
 * runner keeps the version in a column of max characters and inserts it
 * after running the migration, so it would run the migration and then
 * fail to record it (its transaction rolled back, or, without one, the
 * migration applied and never recorded).  Versions are UTF-8, as file
 * names are; the column counts characters.  hint says what to shorten.
 */
void
layout_refuse_long_version(const char *name, const char *version,
						   const char *runner, int max, const char *hint)
{
	int			chars = 0;

	for (const char *p = version; *p != '\0'; p++)
		if (((unsigned char) *p & 0xC0) != 0x80)
			chars++;
	if (chars > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("version of %s migration \"%s\" is too long",
						runner, name),
				 errdetail("Its version, \"%s\", has %d characters; %s records a version in a column of %d characters, and would run the migration and then fail to record it.",
						   files_name_to_server(version), chars, runner, max),
				 errhint("%s", hint)));
}

/*
 * The server's scanner over text (it scans a copy), as the parser would
 * scan it with the current settings, but without the warnings of
 * backslashes in strings: whoever scans a migration's text here only
 * looks at it, and running it gives those warnings once.
 */
core_yyscan_t
layout_quiet_scanner(const char *text, core_yy_extra_type *yyextra)
{
	core_yyscan_t scanner = scanner_init(text, yyextra, &ScanKeywords,
										 ScanKeywordTokens);

	yyextra->escape_string_warning = false;
	return scanner;
}

/*
 * In the PG_CATCH around the server's scanner or raw parser, which hold no
 * resources (so no subtransaction is needed), with cxt the memory context
 * to go on in: flushes the error if it is one they raise for a text they
 * cannot read (a syntax error, a bad escape, literal or character, a form
 * they do not support, a limit of the text exceeded); raises any other
 * again.  A cancel, a statement_timeout or running out of memory is the
 * caller's to see, never a verdict on the text (plpgsql's exception blocks
 * let a cancel through the same way); so is the stack depth check
 * (statement_too_complex), which answers max_stack_depth and the stack
 * the backend has used, not the text: its verdict is kept with the file.
 */
void
layout_catch_unreadable(MemoryContext cxt)
{
	int			code = geterrcode();
	int			category = ERRCODE_TO_CATEGORY(code);

	MemoryContextSwitchTo(cxt);
	if (code == ERRCODE_STATEMENT_TOO_COMPLEX ||
		(category != ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION &&
		 category != ERRCODE_DATA_EXCEPTION &&
		 category != ERRCODE_FEATURE_NOT_SUPPORTED &&
		 category != ERRCODE_PROGRAM_LIMIT_EXCEEDED))
		PG_RE_THROW();
	FlushErrorState();
}

/*
 * Tells whether the server's scanner, reading a text from its start, is
 * outside every string, quoted name, dollar-quoted body and comment at an
 * offset: the text before it scans to its end without an unterminated one.
 * For runners that cut a file at a line that reads like their marker,
 * wherever it stands.
 */
bool
layout_outside_tokens(const char *text, int offset)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	MemoryContext scancxt = AllocSetContextCreate(oldcxt,
												  "morgenmigrate token scan",
												  ALLOCSET_SMALL_SIZES);
	volatile bool outside = true;

	MemoryContextSwitchTo(scancxt);
	PG_TRY();
	{
		core_yy_extra_type yyextra;
		core_yyscan_t scanner;
		core_YYSTYPE yylval;
		YYLTYPE		yylloc;

		scanner = layout_quiet_scanner(pnstrdup(text, offset), &yyextra);
		while (core_yylex(&yylval, &yylloc, scanner) != 0)
			;
		scanner_finish(scanner);
	}
	PG_CATCH();
	{
		/* only the scanner ran: it holds no resources */
		layout_catch_unreadable(scancxt);
		outside = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(scancxt);
	return outside;
}

/*
 * Where the server's scanner reads two texts of one length, which differ
 * only in bytes one of them has blanked, otherwise: the offset of the
 * first token (a keyword, a name, a string, a body, an operator) that is
 * not the same text at the same place in both, or -1 if every token is.
 * Blanks in white space and inside a comment change no token; a comment
 * that ends elsewhere does.  When one of the texts does not scan (an
 * unterminated string), the offset after the last token both share.  For
 * runners that drop text a statement holds (sql-migrate drops a line
 * starting with "-- " and a carriage return before a line end, even inside
 * a string).
 */
int
layout_changed_token(const char *a, const char *b)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	MemoryContext scancxt = AllocSetContextCreate(oldcxt,
												  "morgenmigrate token scan",
												  ALLOCSET_DEFAULT_SIZES);
	volatile int changed = -1;
	volatile int shared = 0;

	MemoryContextSwitchTo(scancxt);
	PG_TRY();
	{
		core_yy_extra_type ya,
					yb;
		core_yyscan_t sa,
					sb;
		core_YYSTYPE va,
					vb;
		YYLTYPE		la,
					lb;
		int			ta,
					tb;

		sa = layout_quiet_scanner(a, &ya);
		sb = layout_quiet_scanner(b, &yb);
		do
		{
			size_t		na,
						nb;

			ta = core_yylex(&va, &la, sa);
			tb = core_yylex(&vb, &lb, sb);
			if (ta == 0 && tb == 0)
				break;

			/*
			 * The scanner ends the text of the token it returns with a zero
			 * byte in its buffer (pg_stat_statements relies on it too).
			 */
			na = ta != 0 ? strlen(ya.scanbuf + la) : 0;
			nb = tb != 0 ? strlen(yb.scanbuf + lb) : 0;
			if (ta != tb || la != lb || na != nb || memcmp(a + la, b + lb, na) != 0)
			{
				changed = ta != 0 ? la : lb;
				break;
			}
			shared = la + na;
		} while (true);
		scanner_finish(sa);
		scanner_finish(sb);
	}
	PG_CATCH();
	{
		/* only the scanners ran: they hold no resources */
		layout_catch_unreadable(scancxt);
		changed = shared;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(scancxt);
	return changed;
}

/* Tells whether an offset is among the sorted ends. */
static bool
is_end(const int *ends, int nends, int offset)
{
	int			lo = 0,
				hi = nends;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (ends[mid] < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nends && ends[lo] == offset;
}

/*
 * Holds the chunks a runner sends of one section of a file (the offsets of
 * the semicolons, or the cut marker lines, that end them, in order, and
 * the lines they end on)
 * against the statements the server reads in that section: where the
 * runner ends a chunk, the server must end a statement, or the runner
 * would send half of one.  Returns the index of the first chunk the server
 * does not end there, or -1; up to it, a chunk of several statements
 * becomes a statement block, which runs in one transaction, as the server
 * runs the chunk.  A section that does not scan is let be: running it
 * fails anyway, naming the line.
 */
int
layout_check_chunks(const char *name, const char *text, int len,
					FileSections *sections, MigrationSection section,
					const int *chunk_ends, const int *chunk_lines, int nchunks)
{
	const TextRange *range = section == SECTION_UP ? &sections->up : &sections->down;
	char	   *cut;
	int		   *ends;
	int			nends;
	int			after;
	int			k = 0;
	int			bad = -1;

	if (range->start < 0 || nchunks == 0)
		return -1;
	cut = layout_cut_section(name, text, len, sections, section);
	ends = layout_statement_ends(cut, &nends);
	pfree(cut);
	if (ends == NULL)
		return -1;

	after = range->start;
	for (int c = 0; c < nchunks; c++)
	{
		int			statements = 0;

		if (!is_end(ends, nends, chunk_ends[c]))
		{
			bad = c;
			break;
		}
		while (k < nends && ends[k] <= chunk_ends[c])
		{
			if (ends[k] > after)
				statements++;
			k++;
		}
		if (statements > 1)
			layout_add_block(sections, after + 1, chunk_ends[c] + 1,
							 chunk_lines[c]);
		after = chunk_ends[c];
	}
	pfree(ends);
	return bad;
}
