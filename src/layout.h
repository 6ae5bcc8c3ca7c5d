/*-------------------------------------------------------------------------
 *
 * layout.h
 *	  How other migration runners lay out their directories, behind one
 *	  small interface: which directory entries are migrations and what
 *	  each is (name, version, up or down, repeatable, or one only its own
 *	  runner can run), their order, and where a file's up and down
 *	  sections and statement blocks are.  One file per runner under
 *	  src/layouts/; files only, nothing here touches the database.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_LAYOUT_H
#define MORGENMIGRATE_LAYOUT_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "parser/scanner.h"

#include "compat.h"
#include "morgenmigrate.h"

/* The layouts morgenmigrate reads (layouts/list.h); LAYOUT_AUTO only as a setting. */
typedef enum MigrationLayout
{
	LAYOUT_AUTO = 0,
#define LAYOUT_ENTRY(id, methods) id,
#include "layouts/list.h"
#undef LAYOUT_ENTRY
	LAYOUT_COUNT
} MigrationLayout;

/*
 * A family of layouts, told apart by names alone, is named by the layout
 * that reads its names: a runner whose names say it all (Flyway, diesel,
 * postgrator) is a family of its own; every other *.sql file belongs to
 * the flat family, whose names plain's reader reads (plain, golang-migrate
 * and the runners whose markers are inside the files).
 */
typedef MigrationLayout LayoutFamily;

#define FAMILY_NONE LAYOUT_AUTO	/* not a migration: ignored */
#define FAMILY_FLAT LAYOUT_PLAIN

/* What a directory entry is to its layout. */
typedef enum EntryRole
{
	ROLE_IGNORED = 0,			/* not a migration file (README.md, ...) */
	ROLE_UP,					/* an up migration */
	ROLE_DOWN,					/* the down file of an up migration */
	ROLE_REPEATABLE,			/* runs again whenever it changes (Flyway R__) */
	ROLE_EXTERNAL,				/* a migration only its own runner can run */
	ROLE_CONFIG,				/* settings of a migration (Flyway .sql.conf) */
	ROLE_UNKNOWN				/* looks like a migration but is not one: refused */
} EntryRole;

/* One directory entry, as a layout reads its name. */
typedef struct LayoutEntry
{
	LayoutFamily family;
	MigrationLayout layout;		/* when the name alone says it, else AUTO */
	EntryRole	role;
	char	   *key;			/* the migration it belongs to, for pairing */
	char	   *version;		/* the version as its runner reads it */
	char	   *description;	/* Flyway's description, else NULL */
	const char *what;			/* for ROLE_EXTERNAL and ROLE_UNKNOWN: what it is */

	/* what read_subdir finds in a subdirectory that is a migration */
	char	   *path;			/* its up file, relative to the directory */
	char	   *down_path;		/* its down file, or NULL */
	char	   *config_path;	/* its config file, or NULL */
	int8		no_transaction; /* the config file says: 1 outside a
								 * transaction, 0 inside, -1 nothing */
	bool		incomplete;		/* named as a migration, but lacks its up file */
	bool		external_down;	/* ROLE_IGNORED: a down migration only its
								 * runner can run, which its runner still
								 * counts among the down migrations of its
								 * version (key) */
	const char *why;			/* why it is, or is not, a migration (for
								 * migrate_layout) */
} LayoutEntry;

struct MigrationFile;

/* Reads what a directory entry is (is_dir: a subdirectory). */
extern void layout_read_name(const char *name, bool is_dir, LayoutEntry *entry);
extern const struct LayoutMethods *layout_of_names(LayoutFamily family);
extern int	layout_compare(LayoutFamily family, const struct MigrationFile *a,
						   const struct MigrationFile *b);
extern int	layout_version_cmp(LayoutFamily family, const char *a,
							   const char *b);
extern bool layout_target_matches(MigrationLayout layout, const char *version,
								  const char *target);

/* ----------------------------------------------------------------
 * Sections: where in a file its up and down migrations are
 * ----------------------------------------------------------------
 */

/* Which part of a migration to run. */
typedef enum MigrationSection
{
	SECTION_UP,
	SECTION_DOWN
} MigrationSection;

/* A range of a file's text, in bytes; start < 0 when absent. */
typedef struct TextRange
{
	int			start;
	int			end;
	int			line;			/* line of the marker that opens it */
	int			last_line;		/* line of its last byte */
} TextRange;

/*
 * Something a runner would refuse in one part of a file, found by a scan
 * and raised only when that part is needed: goose checks only the
 * direction it runs, and weak markers (node-pg-migrate's look like
 * ordinary comments) count only once the directory is that runner's.
 */
typedef struct LayoutProblem
{
	int			line;			/* 0: no problem */
	const char *message;
	const char *hint;
	int			sqlstate;		/* 0: a malformed file (42601) */
	const char *detail;
} LayoutProblem;

/* What a migration's config file says of one of its files. */
typedef struct LayoutConfig
{
	char	   *path;			/* the config file, or NULL */
	int8		no_transaction; /* 1 outside a transaction, 0 inside, -1 it
								 * does not say */
	bool		as_written;		/* the runner runs the text as written,
								 * without filling in its placeholders */
} LayoutConfig;

/* What a layout's markers say of one file's text. */
typedef struct FileSections
{
	MigrationLayout layout;		/* whose markers the file carries; PLAIN: none */
	uint32		other_layouts;	/* while the layout is not known: other
								 * layouts whose markers make a migration
								 * of the file too, a bit per layout (the
								 * directory's other files say whose it is) */
	TextRange	up;				/* the up section (the whole text without markers) */
	TextRange	down;			/* the down section, start < 0 if none */
	bool		up_no_transaction;	/* the runner runs the up part outside a
									 * transaction */
	bool		down_no_transaction;
	int			no_transaction_line;	/* the marker that says so */
	int			nblocks;		/* statement blocks: run as one statement */
	TextRange  *blocks;
	int			nmarkers;		/* marker lines, turned into statement breaks */
	int		   *markers;		/* their byte offsets */
	int		   *marker_lens;	/* and lengths (without the newline) */
	LayoutProblem up_problem;	/* raised when the up part is needed */
	LayoutProblem down_problem; /* raised when the down part runs */
	bool		bom;			/* the file starts with a byte-order mark
								 * (dropped from the text) */

	/*
	 * What the runner does to the text, or refuses in it, unless the file's
	 * config file says otherwise (layout_raise_text_problems).
	 */
	LayoutProblem substitution; /* text the runner replaces before running
								 * it (Flyway's placeholders), unless the
								 * config says the text runs as written */
	LayoutProblem mixed;		/* statements that need a transaction beside
								 * one that cannot have one, unless the
								 * config says how the file runs */
} FileSections;

/*
 * What one layout (one file under src/layouts/) offers.  read_name tells
 * whether a directory entry is named as this layout names migrations and
 * what it is; compare orders two migrations of the layout's family; scan
 * tells whether a file's text carries this runner's markers and, if it
 * does, fills in its sections, or raises an error naming the file and line
 * of a malformed marker.  Layouts of the flat family share read_name and
 * compare; only the marker layouts have scan.
 */
typedef struct LayoutMethods
{
	MigrationLayout layout;
	const char *name;			/* as morgenmigrate.layout says it */
	const char *runner;			/* as people call the runner */
	LayoutFamily family;
	const char *names_as;		/* how a family's own layout names its
								 * migrations, for messages */
	bool		(*read_name) (const char *name, bool is_dir, LayoutEntry *entry);
	int			(*compare) (const struct MigrationFile *a,
							const struct MigrationFile *b);
	int			(*version_cmp) (const char *a, const char *b);
	bool		(*scan) (const char *name, const char *text, int len,
						 FileSections *sections);
	bool		requires_markers;	/* its runner refuses a file without them */
	const char *marker_word;	/* text every marker line holds (a quick
								 * test before scanning line by line) */
	bool		marker_word_ci; /* ... in any case */
	bool		weak_markers;	/* its markers read like ordinary comments:
								 * they count only in a directory known to
								 * be this runner's, never beside another
								 * runner's markers */
	const char *bom_refusal;	/* its runner refuses a file with its
								 * markers (a layout without markers: any
								 * file) that starts with a byte-order
								 * mark: why, as a hint (NULL: the mark is
								 * dropped, as the runner drops it) */
	const char *transaction_hint;	/* its runner runs a section its
									 * markers do not mark otherwise in a
									 * transaction of its own, where a
									 * statement no transaction can hold
									 * fails: such a statement is refused
									 * there, with this hint (NULL:
									 * migrate_run runs it outside a
									 * transaction) */
	const char *bom_in_text;	/* its runner reads a byte-order mark as
								 * text of the first line: a marker on that
								 * line is none to it, and a part of the
								 * file that starts at its first byte is
								 * sent with the mark, which the server
								 * refuses; such a file is refused (the up
								 * part at once, the down part when it
								 * runs), with this hint */

	/*
	 * Tells whether a file name is one that only this runner's users give
	 * their migrations (node-pg-migrate's timestamps): in a flat directory
	 * whose files carry no runner's markers, such a name settles the
	 * layout, as weak markers do.
	 */
	bool		(*weak_name) (const char *name);

	/*
	 * Flat layouts: how this runner reads a file name, once the directory
	 * is known to be its own (NULL: as the flat family reads it).  Other
	 * families: how it reads a file name that no layout's read_name took,
	 * once the directory is known to be its own (a file only its runner
	 * can run, or one it would run that morgenmigrate refuses).  Sets
	 * entry->role (ROLE_IGNORED for a file the runner skips), key, version
	 * and why.
	 */
	void		(*own_name) (const char *name, LayoutEntry *entry);
	bool		reads_hidden;	/* its runner reads hidden files too: one
								 * that own_name reads as a migration, or
								 * as a name the runner refuses, is
								 * refused */
	const char *link_as_file;	/* its runner lists a symbolic link to a
								 * directory as a file (the link's own
								 * type), one own_name does not skip, and
								 * fails on it: why, as an error detail
								 * (NULL: it is a subdirectory) */
	const char *subdir_as_file; /* its runner lists a subdirectory named as
								 * its migration files are (own_name, or
								 * lists_as_file) with those files, and
								 * fails on it: why, as an error detail
								 * (NULL: a subdirectory is ignored) */

	/*
	 * Tells whether its runner lists and reads an entry of this name as a
	 * file, whatever else the name says (NULL: it reads those own_name
	 * reads as migrations); with subdir_as_file, a subdirectory so named
	 * is refused.
	 */
	bool		(*lists_as_file) (const char *name);
	bool		names_yield;	/* what its names say yields to what another
								 * layout's names say in the same directory */
	bool		unique_versions;	/* refuses two migrations of one version */
	bool		noop_rollback;	/* a migration without a down part rolls
								 * back as a no-op (its history row goes) */
	bool		rollback_by_version;	/* a rollback takes the applied
										 * migrations highest version first,
										 * not last applied first */
	bool		undoes_external;	/* a down file pairs with a migration
									 * only its runner can run too, as with
									 * any other of its version */
	const char *orphan_hint;	/* a down file without its up file is
								 * refused, with this hint (NULL: it is an
								 * orphan, shown and warned of) */

	/*
	 * Layouts whose migrations are subdirectories: reads the subdirectory
	 * name of the directory dir, which read_name named a migration, into
	 * entry (its files, and what its config file says); sets
	 * entry->incomplete when it lacks its up file (or cannot be looked
	 * into: then it may be none of the layout's business).  In a directory
	 * of this layout, refuse_incomplete refuses such a subdirectory, or
	 * returns why its runner skips it.
	 */
	void		(*read_subdir) (const char *dir, const char *name,
								LayoutEntry *entry);
	const char *(*refuse_incomplete) (const char *dir, const char *name);

	/*
	 * Layouts with config files (ROLE_CONFIG, named by the file they belong
	 * to, an up or a down file): reads one into config.
	 * config_covers_down: what the up file's config file says holds for
	 * the down part too.  config_name_ci: a config file's name matches its
	 * file's without regard to case.  lone_config_why: a config file whose
	 * file is not in the directory is ignored, for this reason (NULL: it is
	 * refused).
	 */
	void		(*read_config) (const char *name, const char *text,
								LayoutConfig *config);
	bool		config_covers_down;
	bool		config_name_ci;
	const char *lone_config_why;

	/*
	 * Notes in sections what the runner does to a file's text, or refuses
	 * in it, that its config file may settle (NULL: nothing).
	 */
	void		(*check_text) (const char *text, int len,
							   FileSections *sections);

	/*
	 * The runner's checksum ignores line ends (Flyway's CRC-32 of the
	 * lines): the checksum of a file of this family is taken over its text
	 * without them, so that a change of line breaks alone is no change to
	 * morgenmigrate either.
	 */
	bool		checksum_lines;

	/*
	 * Layouts without markers whose runner still reads what a file holds:
	 * called for every file read in a directory of this layout, once its
	 * sections are the whole text (one up section).  Adds the statement
	 * blocks its runner sends together, and refuses, naming the file, what
	 * its runner would refuse to run.
	 */
	void		(*read_text) (const char *name, const char *text, int len,
							  FileSections *sections);

	/*
	 * Refuses, naming the files, what its runner would do with the
	 * directory's migrations, once they are in its order, that
	 * morgenmigrate cannot do the same way (two migrations whose order the
	 * runner leaves to chance, two it would record under one name); dir
	 * names the directory in messages.
	 */
	void		(*check_files) (const char *dir,
								const struct MigrationFile *files,
								int nfiles);

	/* Tells whether a target names a version (NULL: the leading digits). */
	bool		(*target_matches) (const char *version, const char *target);

	/*
	 * The key of the down file of a migration named name, for a migration
	 * whose file is gone (NULL: such a migration has no down file).
	 */
	char	   *(*down_key) (const char *name);

	/*
	 * Why a directory of this layout with a subdirectory that is no
	 * migration is refused, as an error detail; NULL: such subdirectories
	 * are ignored.
	 */
	const char *subdir_refusal;
} LayoutMethods;

#define LAYOUT_ENTRY(id, methods) extern const LayoutMethods methods;
#include "layouts/list.h"
#undef LAYOUT_ENTRY

extern const LayoutMethods *layout_methods(MigrationLayout layout);

/* Helpers for the layouts' own files (layout.c). */
typedef struct TextLine
{
	const char *start;
	int			len;			/* without the line end (LF or CRLF) */
	int			offset;			/* of start in the text */
	int			number;			/* 1-based */
	int			next;			/* offset of the next line */
} TextLine;

extern bool layout_next_line(const char *text, int len, TextLine *line);
extern void layout_add_marker(FileSections *sections, const TextLine *line);
extern FileSections layout_copy_sections(const FileSections *s);
extern void layout_pack_sections(StringInfo buf, const FileSections *s);
extern bool layout_unpack_sections(const char *p, const char *end,
								   FileSections *s);
extern void layout_add_block(FileSections *sections, int start, int end,
							 int line);
extern bool layout_is_blank_or_comment(const TextLine *line);
extern int	layout_go_space(const char *p, const char *end);
extern void layout_go_trim(const char **start, const char **end);
extern mm_noreturn void layout_malformed(const char *name, int line,
										 const char *runner,
										 const char *message,
										 const char *hint) mm_noreturn_after;
extern bool has_suffix_ci(const char *name, const char *suffix, bool ci);
extern int	migration_name_cmp(const char *a, const char *b);
extern int	layout_digits_cmp(const char *a, const char *b);
extern int	flat_compare(const struct MigrationFile *a,
						 const struct MigrationFile *b);

extern void layout_scan_file(const char *name, const char *text, int len,
							 bool bom, MigrationLayout layout,
							 FileSections *sections);
extern int *layout_statement_ends(const char *text, int *n);
extern void layout_refuse_long_version(const char *name, const char *version,
									  const char *runner, int max,
									  const char *hint);
extern void layout_catch_unreadable(MemoryContext cxt);
extern core_yyscan_t layout_quiet_scanner(const char *text,
										  core_yy_extra_type *yyextra);
extern bool layout_outside_tokens(const char *text, int offset);
extern int	layout_changed_token(const char *a, const char *b);
extern int	layout_check_chunks(const char *name, const char *text, int len,
								FileSections *sections,
								MigrationSection section,
								const int *chunk_ends, const int *chunk_lines,
								int nchunks);
extern int	layout_line_semicolon(const TextLine *line, int max_word,
								  bool *cut);
extern void layout_check_bom(const char *name, MigrationLayout layout,
							 FileSections *sections);
extern MigrationLayout layout_of_weak_name(const char *name);
extern void layout_raise_problem(const char *name, MigrationLayout layout,
								 const LayoutProblem *problem);
extern void layout_defer_problem(LayoutProblem *problem, int line,
								 const char *message, const char *hint);
extern void layout_note_problem(LayoutProblem *problem, int line, int sqlstate,
								const char *message, const char *detail,
								const char *hint);
extern void layout_raise_text_problems(const char *name,
									   const FileSections *sections,
									   const LayoutConfig *config);
extern void layout_init_config(LayoutConfig *config);
extern char *layout_cut_section(const char *name, const char *text, int len,
								const FileSections *sections,
								MigrationSection section);
extern bool layout_cut_section_in_place(const char *name, char *text, int len,
										const FileSections *sections,
										MigrationSection section);

extern const char *layout_name(MigrationLayout layout);
extern LayoutFamily layout_family(MigrationLayout layout);
extern MigrationLayout layout_of_family(LayoutFamily family);
extern const char *layout_family_names(LayoutFamily family);
extern const struct config_enum_entry *layout_setting_options(void);

#endif							/* MORGENMIGRATE_LAYOUT_H */
