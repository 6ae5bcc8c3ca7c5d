/*-------------------------------------------------------------------------
 *
 * adopt.c
 *	  Reading the history table of the runner a database was migrated
 *	  with (dbmate, goose, golang-migrate, Flyway, diesel, postgrator,
 *	  node-pg-migrate, sql-migrate, Sqitch, Alembic, or a raw-SQL runner's
 *	  schema_migrations(filename)), and matching it with the migration
 *	  directory: which files that runner applied, and when.
 *
 * Each runner's rule for "applied" is the one its own code follows: goose
 * reads the newest row of each version, golang-migrate and Alembic keep
 * one row naming the newest applied migration, Flyway's failed rows stop
 * it and its baseline covers the versions below.  The table is found in
 * the search path (never in the extension's own schema) or named by the
 * caller; every query names the table schema-qualified and quoted, and
 * its operators and types explicitly.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/pg_crc.h"
#include "utils/regproc.h"
#include "utils/varlena.h"

#include "adopt.h"
#include "compat.h"
#include "files.h"
#include "migration.h"
#include "morgenmigrate.h"
#include "plan.h"
#include "source.h"

/* How a row of a runner's table names a migration file. */
typedef enum KeyKind
{
	KEY_NAME,					/* the file name */
	KEY_STEM,					/* the file name without its last extension */
	KEY_ID,						/* the name after NNNN_, without .sql */
	KEY_TEXT,					/* the version, as the same string */
	KEY_NUMBER,					/* the version, as the same number */
	KEY_FLYWAY					/* Flyway's version, or a repeatable's script */
} KeyKind;

/*
 * A runner whose history can be adopted: its table, the columns that tell
 * it apart, how a row names a file, and the query that reads its applied
 * migrations as (key, time, failed), with %s for the time expression and
 * the table.
 */
typedef struct OldRunner
{
	const char *name;			/* as the runner argument names it */
	const char *schema;			/* its table's fixed schema, or NULL */
	const char *table;			/* its table's default name */
	const char *columns[4];		/* columns its table has */
	const char *time_column;	/* when a migration was applied, or NULL */
	KeyKind		key;
	bool		newest_only;	/* one row names the newest applied
								 * migration: every file up to it counts */
	const char *query;
} OldRunner;

/* In the order detection tries them: the most telling columns first. */
static const OldRunner old_runners[] = {
	{
		.name = "flyway",
		.schema = NULL,
		.table = "flyway_schema_history",
		.columns = {"installed_rank", "version", "script", "success"},
		.time_column = "installed_on",
		.key = KEY_FLYWAY,
		.newest_only = false,
		.query = NULL
	},
	{
		.name = "goose",
		.schema = NULL,
		.table = "goose_db_version",
		.columns = {"id", "version_id", "is_applied", "tstamp"},
		.time_column = "tstamp",
		.key = KEY_NUMBER,
		.newest_only = false,
		.query = "SELECT version_id::pg_catalog.text, %s, false FROM"
			" (SELECT DISTINCT ON (version_id) * FROM %s"
			"  ORDER BY version_id, id DESC) AS newest"
			" WHERE is_applied AND version_id OPERATOR(pg_catalog.<>) 0"
	},
	{
		.name = "sqitch",
		.schema = "sqitch",
		.table = "changes",
		.columns = {"change", "project", "committed_at"},
		.time_column = "committed_at",
		.key = KEY_ID,
		.newest_only = false,
		.query = "SELECT change::pg_catalog.text, %s, false FROM %s"
	},
	{
		.name = "alembic",
		.schema = NULL,
		.table = "alembic_version",
		.columns = {"version_num"},
		.time_column = NULL,
		.key = KEY_ID,
		.newest_only = true,
		.query = "SELECT version_num::pg_catalog.text, %s, false FROM %s"
	},
	{
		.name = "raw-sql",
		.schema = NULL,
		.table = "schema_migrations",
		.columns = {"filename"},
		.time_column = "applied_at",
		.key = KEY_NAME,
		.newest_only = false,
		.query = "SELECT filename::pg_catalog.text, %s, false FROM %s"
	},
	{
		.name = "golang-migrate",
		.schema = NULL,
		.table = "schema_migrations",
		.columns = {"version", "dirty"},
		.time_column = NULL,
		.key = KEY_NUMBER,
		.newest_only = true,
		.query = "SELECT version::pg_catalog.text, %s, dirty FROM %s"
	},
	{
		.name = "postgrator",
		.schema = NULL,
		.table = "schemaversion",
		.columns = {"version", "md5"},
		.time_column = "run_at",
		.key = KEY_NUMBER,
		.newest_only = false,
		.query = "SELECT version::pg_catalog.text, %s, false FROM %s"
			" WHERE version OPERATOR(pg_catalog.<>) 0"
	},
	{
		.name = "diesel",
		.schema = NULL,
		.table = "__diesel_schema_migrations",
		.columns = {"version", "run_on"},
		.time_column = "run_on",
		.key = KEY_TEXT,
		.newest_only = false,
		.query = "SELECT version::pg_catalog.text, %s, false FROM %s"
	},
	{
		.name = "node-pg-migrate",
		.schema = NULL,
		.table = "pgmigrations",
		.columns = {"name", "run_on"},
		.time_column = "run_on",
		.key = KEY_STEM,
		.newest_only = false,
		.query = "SELECT name::pg_catalog.text, %s, false FROM %s"
	},
	{
		.name = "sql-migrate",
		.schema = NULL,
		.table = "gorp_migrations",
		.columns = {"id", "applied_at"},
		.time_column = "applied_at",
		.key = KEY_NAME,
		.newest_only = false,
		.query = "SELECT id::pg_catalog.text, %s, false FROM %s"
	},
	{
		.name = "dbmate",
		.schema = NULL,
		.table = "schema_migrations",
		.columns = {"version"},
		.time_column = NULL,
		.key = KEY_TEXT,
		.newest_only = false,
		.query = "SELECT version::pg_catalog.text, %s, false FROM %s"
	},
};

/* One migration the old runner's table says is applied (or failed). */
typedef struct OldRow
{
	char	   *key;
	bool		known_time;		/* the table says when it was applied */
	TimestampTz applied_at;
	bool		failed;			/* failed or dirty */
	bool		repeatable;		/* Flyway: key is a repeatable's script */
	bool		has_checksum;	/* Flyway: its checksum column is set */
	int32		checksum;
	bool		matched;		/* a file of the directory is this row's */
} OldRow;

/* What the old runner's table says. */
typedef struct OldHistory
{
	const OldRunner *runner;
	char	   *table;			/* schema-qualified and quoted */
	bool		has_time;		/* the table has the runner's time column */
	List	   *rows;			/* OldRow */
	char	   *baseline;		/* Flyway: versions up to this one count */
	bool		baseline_known;
	TimestampTz baseline_at;
} OldHistory;

static const OldRunner *runner_named(const char *name);
static Oid	find_table(const char *schema, const char *relname);
static Oid	explicit_table(const char *table);
static bool has_columns(Oid relid, const OldRunner *r);
static char *column_names(const OldRunner *r);
static const OldRunner *runner_of_columns(Oid relid);
static void settle_source(AdoptSource *source, OldHistory *old,
						  bool *detected);
static void read_rows(OldHistory *old, const char *project);
static void read_flyway(OldHistory *old);
static char *sqitch_project(const MigrationDir *dir);
static bool key_matches(const OldRunner *r, const MigrationFile *f,
						const OldRow *row);
static bool flyway_checksum_matches(const MigrationDir *dir,
									const MigrationFile *f, int32 checksum);
static void refuse_names(List *names, int sqlstate, const char *singular,
						 const char *plural, const char *label,
						 const char *hint, const OldHistory *old);
static const OldRow *old_applied(OldHistory *old, const MigrationFile *f,
								 int newest_index, int index);

/* The runner of that name, or an error listing the names. */
static const OldRunner *
runner_named(const char *name)
{
	StringInfoData names;

	for (int i = 0; i < lengthof(old_runners); i++)
		if (strcmp(old_runners[i].name, name) == 0)
			return &old_runners[i];

	initStringInfo(&names);
	for (int i = 0; i < lengthof(old_runners); i++)
		appendStringInfo(&names, "%s%s", i > 0 ? ", " : "", old_runners[i].name);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown migration runner \"%s\"", name),
			 errhint("The runners whose history can be adopted: %s.", names.data)));
	return NULL;				/* keep the compiler quiet */
}

/*
 * A table in a fixed schema, or the first of that name in the search path
 * outside the extension's own schema; InvalidOid if there is none.
 */
static Oid
find_table(const char *schema, const char *relname)
{
	Oid			own = get_namespace_oid(MM_SCHEMA, true);
	ListCell   *lc;

	if (schema != NULL)
	{
		Oid			nsp = get_namespace_oid(schema, true);

		return OidIsValid(nsp) ? get_relname_relid(relname, nsp) : InvalidOid;
	}
	foreach(lc, fetch_search_path(false))
	{
		Oid			nsp = lfirst_oid(lc);
		Oid			relid;

		if (nsp == own)
			continue;
		relid = get_relname_relid(relname, nsp);
		if (OidIsValid(relid))
			return relid;
	}
	return InvalidOid;
}

/* The table the history_table argument names; an error if there is none. */
static Oid
explicit_table(const char *table)
{
	List	   *names;
	List	   *parts;
	Oid			relid;

	/*
	 * the errors of stringToQualifiedNameList ("invalid name syntax") and
	 * makeRangeVarFromNameList name neither the argument nor its value
	 */
	if (!SplitIdentifierString(pstrdup(table), '.', &parts) ||
		parts == NIL || list_length(parts) > 3)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("history table name \"%s\" is not valid", table),
				 errhint("Name the table as in SQL, qualified with its schema if need be, such as \"public.schema_migrations\".")));
	names = mm_qualified_name_list(table);
	relid = RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true);
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("history table \"%s\" does not exist", table)));
	if (get_rel_namespace(relid) == get_namespace_oid(MM_SCHEMA, true))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("history table \"%s\" is morgenmigrate's own", table),
				 errhint("Name the table of the runner the database was migrated with.")));
	return relid;
}

/* Tells whether a table has every column a runner's table has. */
static bool
has_columns(Oid relid, const OldRunner *r)
{
	for (int i = 0; i < lengthof(r->columns) && r->columns[i] != NULL; i++)
		if (get_attnum(relid, r->columns[i]) == InvalidAttrNumber)
			return false;
	return true;
}

/* The columns a runner's table has, comma-separated. */
static char *
column_names(const OldRunner *r)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < lengthof(r->columns) && r->columns[i] != NULL; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "", r->columns[i]);
	return buf.data;
}

/* The runner a table's columns belong to, or NULL. */
static const OldRunner *
runner_of_columns(Oid relid)
{
	for (int i = 0; i < lengthof(old_runners); i++)
		if (has_columns(relid, &old_runners[i]))
			return &old_runners[i];
	return NULL;
}

/*
 * Settles which runner's table to read: the one given, or the one found.
 * Without a runner, every runner's default table is looked for; exactly
 * one must exist (a schema_migrations table is dbmate's, golang-migrate's
 * or the raw-SQL runner's by its columns).
 */
static void
settle_source(AdoptSource *source, OldHistory *old, bool *detected)
{
	const OldRunner *r = source->runner ? runner_named(source->runner) : NULL;
	Oid			relid = InvalidOid;

	*detected = r == NULL;
	if (source->table != NULL)
		relid = explicit_table(source->table);
	else if (r != NULL)
	{
		relid = find_table(r->schema, r->table);
		if (!OidIsValid(relid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("no %s history table \"%s\" found", r->name,
							r->schema ? psprintf("%s.%s", r->schema, r->table) : r->table),
					 r->schema ? 0 :
					 errdetail("It was looked for in the schemas of search_path."),
					 errhint("Name it with history_table => 'schema.table'.")));
	}
	else
	{
		List	   *found = NIL;
		StringInfoData names;
		ListCell   *lc;

		for (int i = 0; i < lengthof(old_runners); i++)
		{
			Oid			t = find_table(old_runners[i].schema, old_runners[i].table);

			if (OidIsValid(t) && !list_member_oid(found, t))
				found = lappend_oid(found, t);
		}
		if (found == NIL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("no history table of another migration runner found"),
					 errdetail("It was looked for in the schemas of search_path (and sqitch.changes)."),
					 errhint("Name the runner and its table with runner => and history_table =>.")));
		if (list_length(found) > 1)
		{
			initStringInfo(&names);
			foreach(lc, found)
				appendStringInfo(&names, "%s%s", names.len > 0 ? ", " : "",
								 quote_qualified_identifier(get_namespace_name(get_rel_namespace(lfirst_oid(lc))),
															get_rel_name(lfirst_oid(lc))));
			ereport(ERROR,
					(errcode(ERRCODE_AMBIGUOUS_PARAMETER),
					 errmsg("several history tables of migration runners found"),
					 errdetail("Found: %s.", names.data),
					 errhint("Name the runner with runner =>, or its table with history_table =>.")));
		}
		relid = linitial_oid(found);
	}

	if (r == NULL)
	{
		r = runner_of_columns(relid);
		if (r == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("table \"%s\" is not the history table of a migration runner morgenmigrate knows",
							get_rel_name(relid)),
					 errhint("Name the runner with runner =>.")));
	}
	else if (!has_columns(relid, r))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("table \"%s\" is not a %s history table", get_rel_name(relid),
						r->name),
				 errdetail("A %s history table has the columns %s.", r->name,
						   column_names(r))));

	old->runner = r;
	old->table = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
											get_rel_name(relid));
	source->runner = r->name;
	source->table = old->table;
	old->has_time = r->time_column != NULL &&
		get_attnum(relid, r->time_column) != InvalidAttrNumber;
}

/*
 * Reads a runner's applied migrations with its query (Sqitch's of one
 * project, when the directory names it).
 */
static void
read_rows(OldHistory *old, const char *project)
{
	const OldRunner *r = old->runner;
	char	   *time_expr;
	char	   *sql;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	int			rc;

	time_expr = old->has_time ?
		psprintf("%s::pg_catalog.timestamptz", quote_identifier(r->time_column)) :
		pstrdup("NULL::pg_catalog.timestamptz");
	sql = psprintf(r->query, time_expr, old->table);
	if (project != NULL)
	{
		sql = psprintf("%s WHERE project OPERATOR(pg_catalog.=) $1", sql);
		values[0] = CStringGetTextDatum(project);
	}
	rc = SPI_execute_with_args(sql, project ? 1 : 0, types, values, NULL,
							   true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed for \"%s\": %s", sql,
			 SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		OldRow	   *row = palloc0(sizeof(OldRow));
		bool		isnull;
		Datum		d;

		row->key = SPI_getvalue(tuple, desc, 1);
		d = SPI_getbinval(tuple, desc, 2, &isnull);
		row->known_time = !isnull;
		row->applied_at = isnull ? 0 : DatumGetTimestampTz(d);
		d = SPI_getbinval(tuple, desc, 3, &isnull);
		row->failed = !isnull && DatumGetBool(d);
		if (row->key != NULL)
			old->rows = lappend(old->rows, row);
	}
}

/*
 * Reads Flyway's history in the order it was written: a failed row
 * refuses; BASELINE rows set the version below which everything counts; a
 * DELETE or undo row takes its version back; repeatables count by script.
 */
static void
read_flyway(OldHistory *old)
{
	char	   *sql;
	int			rc;

	sql = psprintf("SELECT version::pg_catalog.text, script::pg_catalog.text,"
				   " type::pg_catalog.text, success, installed_on::pg_catalog.timestamptz,"
				   " checksum::pg_catalog.int4 FROM %s ORDER BY installed_rank",
				   old->table);
	rc = SPI_execute(sql, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed for \"%s\": %s", sql,
			 SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *version = SPI_getvalue(tuple, desc, 1);
		char	   *script = SPI_getvalue(tuple, desc, 2);
		char	   *type = SPI_getvalue(tuple, desc, 3);
		bool		isnull;
		bool		success = DatumGetBool(SPI_getbinval(tuple, desc, 4, &isnull));
		Datum		at = SPI_getbinval(tuple, desc, 5, &isnull);
		bool		known_time = !isnull;
		TimestampTz applied_at = isnull ? 0 : DatumGetTimestampTz(at);
		Datum		checksum = SPI_getbinval(tuple, desc, 6, &isnull);
		OldRow	   *row;
		ListCell   *lc;

		if (type == NULL || strcmp(type, "SCHEMA") == 0)
			continue;			/* Flyway created the schema */
		if (strstr(type, "BASELINE") != NULL && success)
		{
			old->baseline = version;
			old->baseline_known = known_time;
			old->baseline_at = applied_at;
			continue;
		}
		/* the row of this migration replaces an earlier one */
		foreach(lc, old->rows)
		{
			OldRow	   *prev = (OldRow *) lfirst(lc);

			if (version != NULL ?
				(!prev->repeatable &&
				 layout_version_cmp(LAYOUT_FLYWAY, prev->key, version) == 0) :
				(prev->repeatable && script != NULL && strcmp(prev->key, script) == 0))
				old->rows = foreach_delete_current(old->rows, lc);
		}
		if (strcmp(type, "DELETE") == 0 || strncmp(type, "UNDO", 4) == 0)
			continue;
		row = palloc0(sizeof(OldRow));
		row->repeatable = version == NULL;
		row->key = version != NULL ? version : script;
		row->known_time = known_time;
		row->applied_at = applied_at;
		row->failed = !success;
		row->has_checksum = !isnull;
		row->checksum = isnull ? 0 : DatumGetInt32(checksum);
		if (row->key != NULL)
			old->rows = lappend(old->rows, row);
	}
}

/*
 * The Sqitch project of a directory: the %project pragma of its
 * sqitch.plan, or NULL when it has none.  The plan is read as every file
 * of the directory is (files.c): a link out of
 * morgenmigrate.allowed_directories or a FIFO is refused, not read.
 */
static char *
sqitch_project(const MigrationDir *dir)
{
	FileText	ft = files_read(dir->path, "sqitch.plan", "plan file", true);
	char	   *text;
	TextLine	line;

	if (ft.data == NULL)
		return NULL;
	text = files_text_to_server(&ft, "sqitch.plan");
	memset(&line, 0, sizeof(line));
	while (layout_next_line(text, strlen(text), &line))
	{
		if (line.len > 9 && strncmp(line.start, "%project=", 9) == 0)
		{
			char	   *project = pnstrdup(line.start + 9, line.len - 9);

			project[strcspn(project, " \t\r")] = '\0';
			return project;
		}
	}
	return NULL;
}

/* Tells whether a row of the old runner's table names this file. */
static bool
key_matches(const OldRunner *r, const MigrationFile *f, const OldRow *row)
{
	const char *name = f->name;
	size_t		len = strlen(name);
	const char *dot;

	switch (r->key)
	{
		case KEY_NAME:
			return strcmp(name, row->key) == 0;
		case KEY_STEM:
			dot = strrchr(name, '.');
			len = dot ? dot - name : len;
			return strlen(row->key) == len && strncmp(name, row->key, len) == 0;
		case KEY_ID:
			name += strspn(name, "0123456789");
			if (name == f->name || *name++ != '_' || !has_suffix_ci(name, ".sql", false))
				return false;
			len = strlen(name) - strlen(".sql");
			return strlen(row->key) == len && strncmp(name, row->key, len) == 0;
		case KEY_TEXT:
			return f->version != NULL && strcmp(f->version, row->key) == 0;
		case KEY_NUMBER:
			/* a version of digits, equal as a number */
			return f->version != NULL && f->version[0] != '\0' &&
				migration_name_matches(f->version, row->key);
		case KEY_FLYWAY:
			if (row->repeatable)
				return f->role == ROLE_REPEATABLE && strcmp(f->name, row->key) == 0;
			return f->role != ROLE_REPEATABLE && f->version != NULL &&
				layout_version_cmp(LAYOUT_FLYWAY, f->version, row->key) == 0;
	}
	return false;
}

/*
 * Tells whether a file is as Flyway last ran it: Flyway's checksum is the
 * CRC-32 of the file's lines, UTF-8, without their line ends (a line ends
 * at LF, CR or CRLF, as for the checksum morgenmigrate records of a
 * Flyway file).
 */
static bool
flyway_checksum_matches(const MigrationDir *dir, const MigrationFile *f,
						int32 checksum)
{
	FileText	ft = migration_read_text(dir, f->path);
	pg_crc32	crc;

	INIT_TRADITIONAL_CRC32(crc);
	for (const char *p = ft.data; *p != '\0';)
	{
		size_t		n = strcspn(p, "\r\n");

		COMP_TRADITIONAL_CRC32(crc, p, n);
		p += n;
		while (*p == '\r' || *p == '\n')
			p++;
	}
	FIN_TRADITIONAL_CRC32(crc);
	return (int32) crc == checksum;
}

/* Refuses with a list of names (all of them) in the detail. */
static void
refuse_names(List *names, int sqlstate, const char *singular,
			 const char *plural, const char *label, const char *hint,
			 const OldHistory *old)
{
	StringInfoData buf;
	ListCell   *lc;
	int			n = list_length(names);

	if (n == 0)
		return;
	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
						 (const char *) lfirst(lc));
	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg_plural(singular, plural, n, n, old->runner->name, old->table),
			 errdetail("%s: %s.", label, buf.data),
			 errhint("%s", hint)));
}

/*
 * The row of the old runner's table that says a file is applied, or NULL.
 * For a runner whose one row names the newest applied migration, that is
 * the row for every file up to it (index in version order); Flyway's
 * baseline covers every versioned file up to its version.
 */
static const OldRow *
old_applied(OldHistory *old, const MigrationFile *f, int newest_index,
			int index)
{
	static OldRow baseline_row;
	ListCell   *lc;

	if (old->runner->newest_only)
	{
		if (index > newest_index || f->role == ROLE_REPEATABLE)
			return NULL;
		return (const OldRow *) linitial(old->rows);
	}
	foreach(lc, old->rows)
	{
		OldRow	   *row = (OldRow *) lfirst(lc);

		if (key_matches(old->runner, f, row))
		{
			row->matched = true;
			return row;
		}
	}
	if (old->baseline != NULL && f->role != ROLE_REPEATABLE && f->version != NULL &&
		layout_version_cmp(LAYOUT_FLYWAY, f->version, old->baseline) <= 0)
	{
		baseline_row.key = old->baseline;
		baseline_row.known_time = old->baseline_known;
		baseline_row.applied_at = old->baseline_at;
		return &baseline_row;
	}
	return NULL;
}

/*
 * Reads the old runner's history and says, for every migration file of
 * the directory, whether adoption records it, finds it recorded already,
 * or leaves it pending.  Refuses, before anything is recorded, when the
 * old history has a failed or dirty migration, names migrations the
 * directory lacks (all of them), or disagrees with morgenmigrate's own
 * history.  Warns about each file left pending that sorts before one the
 * old runner applied.
 */
List *
adopt_plan(const MigrationDir *dir, List *entries, AdoptSource *source)
{
	OldHistory	old;
	List	   *steps = NIL;
	List	   *failed = NIL;
	List	   *missing = NIL;
	List	   *disagree = NIL;
	int			newest_index = -1;
	int			last_old = -1;
	bool		detected;
	ListCell   *lc;

	memset(&old, 0, sizeof(old));
	settle_source(source, &old, &detected);
	if (detected)
		ereport(NOTICE,
				(errmsg("adopting the %s history %s", old.runner->name, old.table)));
	if (old.runner->key == KEY_FLYWAY)
		read_flyway(&old);
	else
		read_rows(&old, old.runner->schema != NULL ? sqitch_project(dir) : NULL);

	foreach(lc, old.rows)
	{
		OldRow	   *row = (OldRow *) lfirst(lc);

		if (row->failed)
			failed = lappend(failed, row->key);
	}
	refuse_names(failed, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
				 "%d migration failed in the %s history %s",
				 "%d migrations failed in the %s history %s",
				 old.runner->newest_only ? "Dirty" : "Failed",
				 "Repair the database and the old runner's history with the old runner first; nothing was recorded.",
				 &old);

	if (old.runner->newest_only && list_length(old.rows) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the %s history %s has %d rows, not one",
						old.runner->name, old.table, list_length(old.rows)),
				 errdetail("%s", strcmp(old.runner->name, "alembic") == 0 ?
						   "The database is at several heads: its revisions have branches." :
						   "The table should hold the one version the database is at."),
				 errhint("Merge the branches (or repair the table) with the old runner first; nothing was recorded.")));

	/* the file the one row of golang-migrate or Alembic names */
	if (old.runner->newest_only && old.rows != NIL)
	{
		foreach(lc, entries)
		{
			MigrationEntry *e = (MigrationEntry *) lfirst(lc);

			if (e->file != NULL && key_matches(old.runner, e->file, linitial(old.rows)))
			{
				newest_index = foreach_current_index(lc);
				((OldRow *) linitial(old.rows))->matched = true;
			}
		}
	}

	foreach(lc, entries)
	{
		MigrationEntry *e = (MigrationEntry *) lfirst(lc);
		const OldRow *row;
		AdoptStep  *step;

		if (e->file == NULL)
			continue;
		row = old_applied(&old, e->file, newest_index, foreach_current_index(lc));
		step = palloc0(sizeof(AdoptStep));
		step->entry = e;
		if (e->applied != NULL)
		{
			step->action = ADOPT_RECORDED;
			if (row == NULL && (e->applied->adopted || e->applied->baseline))
				disagree = lappend(disagree, (char *) e->filename);
		}
		else if (row == NULL)
			step->action = ADOPT_PENDING;
		else if (row->repeatable && row->has_checksum &&
				 !flyway_checksum_matches(dir, e->file, row->checksum))
		{
			step->action = ADOPT_PENDING;
			ereport(NOTICE,
					(errmsg("repeatable migration \"%s\" changed since Flyway last ran it",
							e->filename),
					 errdetail("It stays pending and runs again, as Flyway would run it.")));
		}
		else
		{
			step->action = ADOPT_RECORD;
			step->known_time = row->known_time;
			step->applied_at = row->applied_at;
			if (old.runner->key == KEY_FLYWAY && row->has_checksum &&
				e->file->role == ROLE_UP &&
				!flyway_checksum_matches(dir, e->file, row->checksum))
				ereport(WARNING,
						(errmsg("migration \"%s\" changed since Flyway applied it",
								e->filename),
						 errdetail("Its checksum differs from the one in %s; it is adopted as it is now, and later edits are compared with this text.",
								   old.table)));
		}
		if (row != NULL && !row->repeatable)
			last_old = list_length(steps);
		steps = lappend(steps, step);
	}

	foreach(lc, old.rows)
	{
		OldRow	   *row = (OldRow *) lfirst(lc);

		if (!row->matched)
			missing = lappend(missing, row->repeatable || old.runner->key == KEY_NAME ||
							  old.runner->key == KEY_STEM || old.runner->key == KEY_ID ?
							  row->key : psprintf("version %s", row->key));
	}
	refuse_names(missing, ERRCODE_UNDEFINED_FILE,
				 "%d migration in the %s history %s has no file in the directory",
				 "%d migrations in the %s history %s have no file in the directory",
				 "Without a file",
				 "Adopt with the directory the old runner applied, with every file it applied; nothing was recorded.",
				 &old);
	refuse_names(disagree, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
				 "%d migration recorded by morgenmigrate is not applied in the %s history %s",
				 "%d migrations recorded by morgenmigrate are not applied in the %s history %s",
				 "Recorded as adopted or baseline but not applied there",
				 "If the old runner rolled them back, remove their rows with morgenmigrate.migrate_forget() and adopt again; nothing was recorded.",
				 &old);

	foreach(lc, steps)
	{
		AdoptStep  *step = (AdoptStep *) lfirst(lc);

		if (foreach_current_index(lc) < last_old && step->action == ADOPT_PENDING &&
			step->entry->file->role != ROLE_REPEATABLE)
			ereport(WARNING,
					(errmsg("migration \"%s\" was not applied by %s and stays pending",
							step->entry->filename, old.runner->name),
					 errdetail("It sorts before migrations %s applied; the next apply runs it out of order.",
							   old.runner->name)));
	}
	return steps;
}
