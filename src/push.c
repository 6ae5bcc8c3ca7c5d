/*-------------------------------------------------------------------------
 *
 * push.c
 *	  Migration files sent over the connection (a push): the caller puts
 *	  them in a table of its own with the columns path (bytea, the name's
 *	  bytes as the client's file system has them, or text) and content
 *	  (bytea, the file's bytes; NULL for a directory), and, optionally,
 *	  part (an integer: a file sent as slices in several rows, numbered
 *	  from 1), and passes the table to a function's push form.  This
 *	  module lists the table once and hands files.c a set whose reader
 *	  fetches one file's bytes at a time, by its rows: a call holds one
 *	  file in memory, whatever the number of files or slices, as it does
 *	  reading a directory of the server.
 *	  Everything else (layouts, preflight, checksums, history, errors) is
 *	  the same code as for a directory.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class_d.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "storage/itemptr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "compat.h"
#include "files.h"
#include "push.h"


/* The table a set was pushed into, for its reader. */
typedef struct PushTable
{
	char	   *name;			/* schema-qualified and quoted, for queries */
	const char *shown;			/* its name, quoted as needed, for messages */
	bool		parts;			/* it has a column part: a file in slices */
} PushTable;

/* Where a pushed file's bytes are: its rows, in the order of its parts. */
typedef struct PushedRows
{
	int			nrows;
	ItemPointerData rows[FLEXIBLE_ARRAY_MEMBER];
} PushedRows;

/*
 * The query that reads one row's content, prepared once and kept for as
 * long as the session reads one table (a session pushes into one, most
 * often a temporary table of the same name each time).
 */
static SPIPlanPtr read_plan = NULL;
static char *read_plan_table = NULL;	/* in TopMemoryContext */

static Oid	column_type(Oid relid, const char *column, const char *shown);
static void list_files(PushedSet *set, Oid path_type);
static void check_parts(const PushTable *table, const char *path,
						HeapTuple tuple, TupleDesc desc);
static mm_noreturn void pushed_changed(const PushTable *table,
									   const PushedFile *file) mm_noreturn_after;
static void prepare_read(const PushTable *table);
static char *read_file(const PushedSet *set, const PushedFile *file,
					   int64 *len);

/*
 * Lists the files pushed into a table and makes them the directory of
 * the call; returns the name that stands for that directory.  Refuses a
 * relation that is not a table with the columns path (bytea or text) and
 * content (bytea), a column part that is not an integer, a file whose
 * parts are not 1 to n, and whatever files_push refuses, before anything
 * runs.
 */
char *
push_open(Oid relid)
{
	PushedSet  *set = palloc0(sizeof(PushedSet));
	PushTable  *table = palloc0(sizeof(PushTable));
	char		relkind = get_rel_relkind(relid);
	char	   *relname = get_rel_name(relid);
	Oid			path_type;
	AttrNumber	part;

	if (relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	table->shown = quote_identifier(relname);
	table->name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
											 relname);
	if (relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", table->shown),
				 errdetail("Pushed migration files are read from a table with the columns path and content.")));
	path_type = column_type(relid, "path", table->shown);
	if (path_type != BYTEAOID && path_type != TEXTOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"path\" of table \"%s\" is of type %s",
						table->shown, format_type_be(path_type)),
				 errdetail("The path of a pushed file is bytea (its name's bytes) or text.")));
	if (column_type(relid, "content", table->shown) != BYTEAOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"content\" of table \"%s\" is of type %s",
						table->shown,
						format_type_be(column_type(relid, "content", table->shown))),
				 errdetail("The content of a pushed file is bytea: its bytes as they are.")));
	part = get_attnum(relid, "part");
	if (part != InvalidAttrNumber)
	{
		Oid			part_type = get_atttype(relid, part);

		if (part_type != INT2OID && part_type != INT4OID && part_type != INT8OID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"part\" of table \"%s\" is of type %s",
							table->shown, format_type_be(part_type)),
					 errdetail("The part of a pushed file's row is smallint, integer or bigint: the number of its slice of the file, from 1.")));
		table->parts = true;
	}

	set->root = pstrdup(table->shown);
	set->read = read_file;
	set->arg = table;
	list_files(set, path_type);
	prepare_read(table);

	files_push(set);
	return set->root;
}

/* The type of a column of a table; a table without it is an error. */
static Oid
column_type(Oid relid, const char *column, const char *shown)
{
	AttrNumber	attnum = get_attnum(relid, column);

	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("table \"%s\" has no column \"%s\"", shown, column),
				 errdetail("Pushed migration files are read from a table with the columns path and content.")));
	return get_atttype(relid, attnum);
}

/*
 * Reads the table's listing into the set: each file's path (its bytes,
 * a text path in UTF-8), its size (-1 for a directory) and where its rows
 * are.  Of a table with a column part, the rows of a path are one file,
 * its slices in the order of their parts, which must be 1 to n; else each
 * row is a file.  The contents stay in the table.
 */
static void
list_files(PushedSet *set, Oid path_type)
{
	PushTable  *table = (PushTable *) set->arg;
	MemoryContext cxt = CurrentMemoryContext;
	const char *path = path_type == TEXTOID ?
		"pg_catalog.convert_to(path, 'UTF8')" : "path";
	char	   *sql;
	int			rc;

	if (table->parts)
		sql = psprintf("SELECT p, pg_catalog.sum(pg_catalog.octet_length(content)),"
					   " pg_catalog.array_agg(ctid ORDER BY part),"
					   " pg_catalog.count(*), pg_catalog.count(part),"
					   " pg_catalog.min(part), pg_catalog.max(part),"
					   " pg_catalog.count(DISTINCT part), pg_catalog.count(content)"
					   " FROM (SELECT %s AS p, content,"
					   " part::pg_catalog.int8 AS part, ctid FROM %s) s"
					   " GROUP BY p ORDER BY p",
					   path, table->name);
	else
		sql = psprintf("SELECT %s, pg_catalog.octet_length(content)::pg_catalog.int8,"
					   " ARRAY[ctid] FROM %s",
					   path, table->name);
	SPI_connect();
	rc = SPI_execute(sql, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed for \"%s\": %s", sql,
			 SPI_result_code_string(rc));
	MemoryContextSwitchTo(cxt);
	set->nfiles = (int) SPI_processed;
	set->files = palloc0(sizeof(PushedFile) * Max(set->nfiles, 1));
	for (int i = 0; i < set->nfiles; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		PushedFile *f = &set->files[i];
		bool		isnull;
		Datum		d = SPI_getbinval(tuple, desc, 1, &isnull);
		bytea	   *bytes;
		Datum	   *rows;
		int			nrows;
		PushedRows *where;

		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a pushed file of table \"%s\" has no path",
							table->shown)));
		bytes = DatumGetByteaPP(d);
		f->pathlen = VARSIZE_ANY_EXHDR(bytes);
		f->path = palloc(f->pathlen + 1);
		memcpy(f->path, VARDATA_ANY(bytes), f->pathlen);
		f->path[f->pathlen] = '\0';
		if (table->parts)
			check_parts(table, f->path, tuple, desc);
		d = SPI_getbinval(tuple, desc, 2, &isnull);
		f->size = isnull ? -1 : DatumGetInt64(d);
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(tuple, desc, 3, &isnull)),
						  TIDOID, sizeof(ItemPointerData), false, TYPALIGN_SHORT,
						  &rows, NULL, &nrows);
		where = palloc(offsetof(PushedRows, rows) + sizeof(ItemPointerData) * nrows);
		where->nrows = nrows;
		for (int r = 0; r < nrows; r++)
			ItemPointerCopy((ItemPointer) DatumGetPointer(rows[r]), &where->rows[r]);
		pfree(rows);
		f->where = where;
	}
	SPI_finish();
}

/*
 * Refuses a file of a table with a column part unless its rows are
 * numbered 1 to n, each once, and all hold content (a file) or it is one
 * row without (a directory).  The tuple is list_files' row of the path.
 */
static void
check_parts(const PushTable *table, const char *path, HeapTuple tuple,
			TupleDesc desc)
{
	bool		isnull;
	int64		nrows = DatumGetInt64(SPI_getbinval(tuple, desc, 4, &isnull));
	int64		nparts = DatumGetInt64(SPI_getbinval(tuple, desc, 5, &isnull));
	int64		lowest = 0;
	int64		highest = 0;
	int64		distinct = DatumGetInt64(SPI_getbinval(tuple, desc, 8, &isnull));
	int64		ncontent = DatumGetInt64(SPI_getbinval(tuple, desc, 9, &isnull));

	if (nparts > 0)
	{
		lowest = DatumGetInt64(SPI_getbinval(tuple, desc, 6, &isnull));
		highest = DatumGetInt64(SPI_getbinval(tuple, desc, 7, &isnull));
	}
	if (nparts < nrows)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a row of pushed file \"%s\" has no part",
						files_shown(path)),
				 errdetail("Table \"%s\" has a column part: each row of a file holds the number of its slice, from 1.",
						   table->shown)));
	if (lowest < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pushed file \"%s\" has part %lld",
						files_shown(path), (long long) lowest),
				 errdetail("The parts of a file are numbered from 1.")));
	if (distinct < nparts)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_FILE),
				 errmsg("a part of pushed file \"%s\" is sent twice",
						files_shown(path)),
				 errdetail_plural("Its %lld rows have %lld different part.",
								  "Its %lld rows have %lld different parts.",
								  (unsigned long) distinct,
								  (long long) nrows, (long long) distinct),
				 errhint("Send each slice of a file once, numbered 1, 2, and so on.")));
	if (highest != nrows)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pushed file \"%s\" lacks parts", files_shown(path)),
				 errdetail("Its %lld rows are numbered up to %lld; the parts of a file are numbered 1, 2, and so on, without a gap.",
						   (long long) nrows, (long long) highest)));
	if (ncontent == 0 && nrows > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pushed directory \"%s\" is sent in %lld rows",
						files_shown(path), (long long) nrows),
				 errdetail("A directory is one row, with NULL content.")));
	if (ncontent > 0 && ncontent < nrows)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pushed file \"%s\" has parts without content",
						files_shown(path)),
				 errdetail_plural("%lld of its %lld rows has NULL content; a directory is one row with NULL content, and every row of a file has content.",
								  "%lld of its %lld rows have NULL content; a directory is one row with NULL content, and every row of a file has content.",
								  (unsigned long) (nrows - ncontent),
								  (long long) (nrows - ncontent), (long long) nrows)));
}

/* Prepares and keeps the query that reads a row of the table, unless kept. */
static void
prepare_read(const PushTable *table)
{
	Oid			argtype = TIDOID;
	SPIPlanPtr	plan;

	if (read_plan != NULL && strcmp(read_plan_table, table->name) == 0)
		return;
	if (read_plan != NULL)
	{
		SPI_freeplan(read_plan);
		pfree(read_plan_table);
		read_plan = NULL;
	}
	SPI_connect();
	plan = SPI_prepare(psprintf("SELECT content FROM %s WHERE ctid OPERATOR(pg_catalog.=) $1",
								table->name), 1, &argtype);
	if (plan == NULL || SPI_keepplan(plan) != 0)
		elog(ERROR, "could not prepare the reading of pushed files: %s",
			 SPI_result_code_string(SPI_result));
	SPI_finish();
	read_plan_table = MemoryContextStrdup(TopMemoryContext, table->name);
	read_plan = plan;
}

/*
 * The pushed set's reader: one file's bytes, fetched from its rows, in
 * memory of their size and a few bytes more: the row's value detoasted,
 * its header dropped; or, of a file in slices, memory of the file's size
 * taken once, each slice copied into it in turn.
 */
static char *
read_file(const PushedSet *set, const PushedFile *file, int64 *len)
{
	PushTable  *table = (PushTable *) set->arg;
	const PushedRows *rows = (const PushedRows *) file->where;
	MemoryContext cxt = CurrentMemoryContext;
	char	   *buf = NULL;
	int64		done = 0;

	SPI_connect();
	if (rows->nrows > 1)
		buf = MemoryContextAlloc(cxt, file->size + 1);
	for (int i = 0; i < rows->nrows; i++)
	{
		Datum		where = PointerGetDatum(&rows->rows[i]);
		bytea	   *content;
		bool		isnull = true;
		Datum		d = (Datum) 0;
		int64		n;
		int			rc;

		rc = SPI_execute_plan(read_plan, &where, NULL, false, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute_plan failed reading pushed files: %s",
				 SPI_result_code_string(rc));
		if (SPI_processed == 1)
			d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
							  &isnull);
		if (isnull)
			pushed_changed(table, file);
		if (rows->nrows == 1)
		{
			MemoryContextSwitchTo(cxt);
			content = (bytea *) PG_DETOAST_DATUM_COPY(d);
			SPI_finish();
			*len = VARSIZE(content) - VARHDRSZ;
			memmove(content, VARDATA(content), *len);
			return (char *) content;
		}
		content = DatumGetByteaPP(d);
		n = VARSIZE_ANY_EXHDR(content);
		if (n > file->size - done)
			pushed_changed(table, file);
		memcpy(buf + done, VARDATA_ANY(content), n);
		done += n;
		if ((Pointer) content != DatumGetPointer(d))
			pfree(content);
		SPI_freetuptable(SPI_tuptable);
	}
	if (done != file->size)
		pushed_changed(table, file);
	SPI_finish();
	*len = done;
	return buf;
}

/* The error of a pushed file whose rows changed since they were listed. */
static void
pushed_changed(const PushTable *table, const PushedFile *file)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("pushed file \"%s\" changed in table \"%s\" while migrations were running",
					files_name_to_server(file->path), table->shown),
			 errhint("Leave the table of pushed files as it is until the call is done.")));
}
