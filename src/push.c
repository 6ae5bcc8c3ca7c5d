/*-------------------------------------------------------------------------
 *
 * push.c
 *	  Migration files sent over the connection (a push): the caller puts
 *	  them in a table of its own with the columns path (bytea, the name's
 *	  bytes as the client's file system has them, or text) and content
 *	  (bytea, the file's bytes; NULL for a directory), and passes the
 *	  table to a function's push form.  This module lists the table once
 *	  and hands files.c a set whose reader fetches one file's bytes at a
 *	  time, by its row: a call holds one file in memory, whatever the
 *	  number of files, as it does reading a directory of the server.
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
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "files.h"
#include "push.h"


/* The table a set was pushed into, for its reader. */
typedef struct PushTable
{
	char	   *name;			/* schema-qualified and quoted, for queries */
	const char *shown;			/* its name, quoted as needed, for messages */
} PushTable;

/*
 * The query that reads one row's content, prepared once and kept for as
 * long as the session reads one table (a session pushes into one, most
 * often a temporary table of the same name each time).
 */
static SPIPlanPtr read_plan = NULL;
static char *read_plan_table = NULL;	/* in TopMemoryContext */

static Oid	column_type(Oid relid, const char *column, const char *shown);
static void list_files(PushedSet *set, Oid path_type);
static void prepare_read(const PushTable *table);
static char *read_file(const PushedSet *set, const PushedFile *file,
					   int64 *len);

/*
 * Lists the files pushed into a table and makes them the directory of
 * the call; returns the name that stands for that directory.  Refuses a
 * relation that is not a table with the columns path (bytea or text) and
 * content (bytea), and whatever files_push refuses, before anything runs.
 */
char *
push_open(Oid relid)
{
	PushedSet  *set = palloc0(sizeof(PushedSet));
	PushTable  *table = palloc0(sizeof(PushTable));
	char		relkind = get_rel_relkind(relid);
	char	   *relname = get_rel_name(relid);
	Oid			path_type;

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
 * Reads the table's listing into the set: each row's path (its bytes,
 * a text path in UTF-8), the size of its content (-1 for a directory) and
 * where the row is.  The contents stay in the table.
 */
static void
list_files(PushedSet *set, Oid path_type)
{
	PushTable  *table = (PushTable *) set->arg;
	MemoryContext cxt = CurrentMemoryContext;
	char	   *sql;
	int			rc;

	sql = psprintf("SELECT %s, pg_catalog.octet_length(content), ctid FROM %s",
				   path_type == TEXTOID ?
				   "pg_catalog.convert_to(path, 'UTF8')" : "path",
				   table->name);
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
		bytea	   *path;

		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a pushed file of table \"%s\" has no path",
							table->shown)));
		path = DatumGetByteaPP(d);
		f->pathlen = VARSIZE_ANY_EXHDR(path);
		f->path = palloc(f->pathlen + 1);
		memcpy(f->path, VARDATA_ANY(path), f->pathlen);
		f->path[f->pathlen] = '\0';
		d = SPI_getbinval(tuple, desc, 2, &isnull);
		f->size = isnull ? -1 : DatumGetInt32(d);
		f->where = palloc(sizeof(ItemPointerData));
		ItemPointerCopy((ItemPointer) DatumGetPointer(SPI_getbinval(tuple, desc, 3, &isnull)),
						(ItemPointer) f->where);
	}
	SPI_finish();
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
 * The pushed set's reader: one file's bytes, fetched from its row, in
 * memory of their size and a few bytes more (the row's value detoasted,
 * its header dropped).
 */
static char *
read_file(const PushedSet *set, const PushedFile *file, int64 *len)
{
	PushTable  *table = (PushTable *) set->arg;
	MemoryContext cxt = CurrentMemoryContext;
	Datum		where = PointerGetDatum(file->where);
	bytea	   *content;
	bool		isnull = true;
	Datum		d = (Datum) 0;
	int			rc;

	SPI_connect();
	rc = SPI_execute_plan(read_plan, &where, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed reading pushed files: %s",
			 SPI_result_code_string(rc));
	if (SPI_processed == 1)
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
						  &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pushed file \"%s\" changed in table \"%s\" while migrations were running",
						files_name_to_server(file->path), table->shown),
				 errhint("Leave the table of pushed files as it is until the call is done.")));
	MemoryContextSwitchTo(cxt);
	content = (bytea *) PG_DETOAST_DATUM_COPY(d);
	SPI_finish();

	*len = VARSIZE(content) - VARHDRSZ;
	memmove(content, VARDATA(content), *len);
	return (char *) content;
}
