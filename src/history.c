/*-------------------------------------------------------------------------
 *
 * history.c
 *	  Every query on morgenmigrate.schema_migrations and
 *	  morgenmigrate.migration_errors, in one place; and on the history of a
 *	  tenant schema of a fleet call, the tables morgenmigrate_history and
 *	  morgenmigrate_errors in that schema itself, which are made (as the
 *	  caller) when the first row is written there.  A tenant's history
 *	  lives and dies with its schema: a schema dropped and made again
 *	  starts from nothing, and pg_dump of the schema takes its history.
 *
 * The queries name their schema and operators explicitly, so nothing a
 * caller puts on search_path (a public.now(), an operator "=" for text)
 * can change what they do.  Each is prepared once per backend and kept;
 * those of a tenant's tables while the calls work on that tenant (one
 * set at a time, so that a call over a thousand tenants keeps no more).
 * The reads of the database's history, its failures and the fingerprints
 * go without a query where nothing but the tables' rows can change what
 * the query would return (direct_begin): a new session's first call then
 * parses and plans none of them, and no row is copied twice.
 * Callers must be connected to SPI.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_index.h"
#include "catalog/pg_opfamily_d.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type_d.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "utils/acl.h"
#include "utils/array.h"

#include "compat.h"
#include "history.h"
#include "layout.h"
#include "migration.h"
#include "morgenmigrate.h"


/* The queries on the history, each on one table (%s: its name). */
typedef enum HistoryQuery
{
	HQ_ROWS,
	HQ_FAILURES,
	HQ_RECORD,
	HQ_FORGET,
	HQ_SET_CHECKSUM,
	HQ_RECORD_FAILURE,
	HQ_RECORD_FAILURE_BLOCKERS,
	HQ_CLEAR_FAILURE,
	HQ_COUNT
} HistoryQuery;

static const char *const query_text[HQ_COUNT] = {
	[HQ_ROWS] = "SELECT filename, applied_at, checksum, duration,"
	" kind OPERATOR(pg_catalog.=) 'baseline',"
	" kind OPERATOR(pg_catalog.=) 'adopted'"
	" FROM %s",
	[HQ_FAILURES] = "SELECT filename, failed_at, sqlstate, message, detail, hint, line"
	" FROM %s",
	[HQ_RECORD] = "INSERT INTO %s"
	" (filename, applied_at, checksum, duration, applied_by, kind)"
	" VALUES ($1, $2, $3, $4, $5, $6)",
	[HQ_FORGET] = "DELETE FROM %s WHERE filename OPERATOR(pg_catalog.=) $1",
	[HQ_SET_CHECKSUM] = "UPDATE %s SET checksum = $2"
	" WHERE filename OPERATOR(pg_catalog.=) $1",
	[HQ_RECORD_FAILURE] = "INSERT INTO %s"
	" (filename, failed_at, sqlstate, message, detail, hint, line)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7)"
	" ON CONFLICT (filename) DO UPDATE SET"
	" failed_at = excluded.failed_at, sqlstate = excluded.sqlstate,"
	" message = excluded.message, detail = excluded.detail,"
	" hint = excluded.hint, line = excluded.line",
	[HQ_RECORD_FAILURE_BLOCKERS] = "INSERT INTO %s"
	" (filename, failed_at, sqlstate, message, detail, hint, line, blockers)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
	" ON CONFLICT (filename) DO UPDATE SET"
	" failed_at = excluded.failed_at, sqlstate = excluded.sqlstate,"
	" message = excluded.message, detail = excluded.detail,"
	" hint = excluded.hint, line = excluded.line,"
	" blockers = excluded.blockers",
	[HQ_CLEAR_FAILURE] = "DELETE FROM %s WHERE filename OPERATOR(pg_catalog.=) $1",
};

/* rows of the history fetched at a time through SPI */
#define HISTORY_BATCH 1000

/* the most columns a read of rows takes */
#define ROWS_MAX_COLUMNS 10

/*
 * A read of the rows of a table of the history: either directly, without
 * SPI (rel set: see direct_begin), or through SPI's cursor over the query
 * (portal set: query_begin), in batches whose tuples are freed before the
 * next, so that a history of 10,000 rows is never held twice.  Columns
 * are numbered as the caller listed them (direct) or selects them (query).
 */
typedef struct RowRead
{
	MemoryContext cxt;			/* the caller's */
	/* a direct read */
	Relation	rel;
	Snapshot	snapshot;
	SysScanDesc scan;
	Datum	   *values;			/* the row's columns, all of them */
	bool	   *nulls;
	AttrNumber	attnums[ROWS_MAX_COLUMNS];
	/* a read through SPI */
	Portal		portal;
	SPITupleTable *batch;
	uint64		nbatch;
	uint64		at;				/* the next row of the batch */
	HeapTuple	tuple;			/* the current row */
	TableDigest *digest;		/* a direct read's rows go into it, if set */
} RowRead;

/* The columns of both tables that a call reads, and their types. */
static const char *const row_columns[] = {"filename", "applied_at",
"checksum", "duration", "kind"};
static const Oid row_types[] = {TEXTOID, TIMESTAMPTZOID, TEXTOID,
INTERVALOID, TEXTOID};
static const char *const failure_columns[] = {"filename", "failed_at",
"sqlstate", "message", "detail", "hint", "line"};
static const Oid failure_types[] = {TEXTOID, TIMESTAMPTZOID, TEXTOID,
TEXTOID, TEXTOID, TEXTOID, INT4OID};
/* detail, hint and line of a failure may be NULL */
#define FAILURE_NULLABLE ((1 << 4) | (1 << 5) | (1 << 6))

/* The tenant schema whose history the calls read and write, or NULL. */
static char *target_schema = NULL;

/* The kept plans of the database's history, and of one tenant's. */
static SPIPlanPtr database_plans[HQ_COUNT];
static SPIPlanPtr schema_plans[HQ_COUNT];
static char *schema_plans_for = NULL;

HistoryHook history_ddl_begin_hook = NULL;
HistoryHook history_ddl_end_hook = NULL;

static SPIPlanPtr query_plan(HistoryQuery q, int nargs, Oid *argtypes);
static SPIPlanPtr prepare_kept(SPIPlanPtr *plan, const char *sql, int nargs,
							   Oid *argtypes);
static int	run_kept(SPIPlanPtr *plan, const char *sql, int nargs,
					 Oid *argtypes, Datum *values, const char *nulls);
static int	run_query(HistoryQuery q, int nargs, Oid *argtypes,
					  Datum *values, const char *nulls);
static bool target_has(const char *table);
static void make_target_tables(void);
static void record_row(const char *filename, const char *checksum,
					   TimestampTz applied_at, int64 duration,
					   const char *kind);
static int	cmp_rows(const void *a, const void *b);
static int	cmp_failures(const void *a, const void *b);
static int	cmp_apply_order(const ListCell *a, const ListCell *b);
static bool errors_have_blockers(void);
static bool fingerprints_allowed(AclMode mode);
static bool fingerprints_have_key(void);
static bool direct_begin(RowRead *rr, const char *table, int ncolumns,
						 const char *const *columns, const Oid *types,
						 bits32 nullable, int keycolumn, const char *key);
static Oid	direct_key_index(Relation rel, AttrNumber attnum);
static void query_begin(RowRead *rr, SPIPlanPtr plan, Datum *args);
static bool rows_next(RowRead *rr);
static Datum rows_value(const RowRead *rr, int column, bool *isnull);
static void rows_end(RowRead *rr);
static void digest_begin(TableDigest *digest, const RowRead *rr);
static void digest_row(TableDigest *digest, HeapTuple tuple);
static bool digest_table(TableDigest *digest, const char *table,
						 int ncolumns, const char *const *columns,
						 const Oid *types, bits32 nullable);
static bool text_is(const text *value, const char *str);
static void *grow_array(void *array, int n, int *allocated, Size size);
static void history_row(HistoryRow *row, const RowRead *rr);
static void failure_row(FailureRow *f, const RowRead *rr);
static void fingerprint_row(FileFingerprint *fp, const RowRead *rr);
static void forget_fingerprints(const char *filename);

/*
 * Makes the calls read and write the history of a tenant schema (NULL: of
 * the database, in the extension's schema) until told otherwise.
 */
void
history_set_schema(const char *schema)
{
	if (target_schema != NULL)
		pfree(target_schema);
	target_schema = schema ? MemoryContextStrdup(TopMemoryContext, schema) : NULL;
}

/* Tells whether the calls work on the database's own history. */
bool
history_of_database(void)
{
	return target_schema == NULL;
}

/*
 * The table of the current history a query works on, schema-qualified and
 * quoted.
 */
static char *
query_table(HistoryQuery q)
{
	bool		errors = q == HQ_FAILURES || q == HQ_RECORD_FAILURE ||
		q == HQ_RECORD_FAILURE_BLOCKERS || q == HQ_CLEAR_FAILURE;

	if (target_schema == NULL)
		return errors ? MM_SCHEMA ".migration_errors" : MM_SCHEMA ".schema_migrations";
	return quote_qualified_identifier(target_schema, errors ? "morgenmigrate_errors" :
									  "morgenmigrate_history");
}

/* The table of the current history's failures, for messages. */
const char *
history_errors_table(void)
{
	return query_table(HQ_RECORD_FAILURE);
}

/*
 * The plan of a query on the current history: prepared once and kept (a
 * tenant's are dropped when the calls turn to another tenant).
 */
static SPIPlanPtr
query_plan(HistoryQuery q, int nargs, Oid *argtypes)
{
	SPIPlanPtr *plans = database_plans;

	if (target_schema != NULL)
	{
		if (schema_plans_for == NULL || strcmp(schema_plans_for, target_schema) != 0)
		{
			for (int i = 0; i < HQ_COUNT; i++)
			{
				if (schema_plans[i] != NULL)
					SPI_freeplan(schema_plans[i]);
				schema_plans[i] = NULL;
			}
			if (schema_plans_for != NULL)
				pfree(schema_plans_for);
			schema_plans_for = MemoryContextStrdup(TopMemoryContext, target_schema);
		}
		plans = schema_plans;
	}
	if (plans[q] == NULL)
		(void) prepare_kept(&plans[q], psprintf(query_text[q], query_table(q)),
							nargs, argtypes);
	return plans[q];
}

/* Prepares a query once per backend and keeps it. */
static SPIPlanPtr
prepare_kept(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, nargs, argtypes);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "SPI_keepplan failed");
		*plan = p;
	}
	return *plan;
}

/*
 * Runs a kept query on a table of the database's own (not of the current
 * history: the fingerprints) with fresh snapshots; returns SPI's result
 * code.  Stays in the caller's memory context.
 */
static int
run_kept(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes,
		 Datum *values, const char *nulls)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	int			rc;

	rc = SPI_execute_plan(prepare_kept(plan, sql, nargs, argtypes),
						  values, nulls, false, 0);
	MemoryContextSwitchTo(oldcontext);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed for \"%s\": %s",
			 sql, SPI_result_code_string(rc));
	return rc;
}

/*
 * Runs a query on the current history with fresh snapshots; returns SPI's
 * result code.  Stays in the caller's memory context (SPI would leave us
 * in its own).  A tenant's tables are made first if they are missing.
 */
static int
run_query(HistoryQuery q, int nargs, Oid *argtypes, Datum *values,
		  const char *nulls)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	int			rc;

	if (target_schema != NULL && q != HQ_ROWS && q != HQ_FAILURES)
		make_target_tables();
	rc = SPI_execute_plan(query_plan(q, nargs, argtypes), values, nulls,
						  false, 0);
	MemoryContextSwitchTo(oldcontext);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed for query %d: %s",
			 (int) q, SPI_result_code_string(rc));
	return rc;
}

/* Tells whether the current tenant schema holds one of its history tables. */
static bool
target_has(const char *table)
{
	Oid			nsp = get_namespace_oid(target_schema, false);

	return OidIsValid(get_relname_relid(table, nsp));
}

/*
 * Makes the history tables of the current tenant schema that it lacks, as
 * the caller, and as morgenmigrate's own DDL (not drift).  The caller
 * holds the schema's migration lock, so no other call makes them at once.
 */
static void
make_target_tables(void)
{
	StringInfoData sql;

	initStringInfo(&sql);
	if (!target_has("morgenmigrate_history"))
		appendStringInfo(&sql,
						 "CREATE TABLE %s (filename pg_catalog.text PRIMARY KEY,"
						 " applied_at pg_catalog.timestamptz NOT NULL,"
						 " checksum pg_catalog.text NOT NULL,"
						 " duration pg_catalog.interval NOT NULL,"
						 " applied_by pg_catalog.text NOT NULL,"
						 " kind pg_catalog.text NOT NULL CHECK (kind OPERATOR(pg_catalog.=) ANY"
						 " (ARRAY['applied', 'baseline', 'adopted']::pg_catalog.text[])));",
						 query_table(HQ_RECORD));
	if (!target_has("morgenmigrate_errors"))
		appendStringInfo(&sql,
						 "CREATE TABLE %s (filename pg_catalog.text PRIMARY KEY,"
						 " failed_at pg_catalog.timestamptz NOT NULL,"
						 " sqlstate pg_catalog.text NOT NULL,"
						 " message pg_catalog.text NOT NULL, detail pg_catalog.text,"
						 " hint pg_catalog.text, line pg_catalog.int4,"
						 " blockers pg_catalog.jsonb);",
						 query_table(HQ_RECORD_FAILURE));
	if (sql.len == 0)
		return;
	if (history_ddl_begin_hook != NULL)
		history_ddl_begin_hook();
	if (SPI_execute(sql.data, false, 0) < 0)
		elog(ERROR, "could not make the history tables of schema \"%s\"",
			 target_schema);
	if (history_ddl_end_hook != NULL)
		history_ddl_end_hook();
	pfree(sql.data);
}

/*
 * Starts reading every row of the extension's table table (in its schema)
 * the way SPI's cursor over "SELECT columns FROM table" reads it, or with
 * keycolumn >= 0 over "SELECT columns FROM table WHERE keycolumn = key",
 * by the table's index on that column: as a new command of the
 * transaction, with a fresh snapshot (so a call that waited for the
 * migration lock sees what the call before it committed), holding the
 * table's AccessShareLock to the end of the transaction.  Only where
 * nothing but the table's rows can change that query's answer: a plain
 * table without inheritance children, in a schema the current user may
 * use, which the user may SELECT from and to which no row security
 * applies, whose columns have the types given, text of a deterministic
 * collation (so that comparing bytes is comparing with "="), and are NOT
 * NULL but those whose bit is set in nullable; and a btree index led by
 * keycolumn.  False otherwise, nothing
 * read: the caller then asks SPI (query_begin), which gives the answer and
 * the errors it always gave.
 */
static bool
direct_begin(RowRead *rr, const char *table, int ncolumns,
			 const char *const *columns, const Oid *types, bits32 nullable,
			 int keycolumn, const char *key)
{
	Oid			nsp = get_namespace_oid(MM_SCHEMA, true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(table, nsp) : InvalidOid;
	Oid			index = InvalidOid;
	TupleDesc	desc;
	ScanKeyData skey;

	Assert(ncolumns <= ROWS_MAX_COLUMNS);
	rr->cxt = CurrentMemoryContext;
	rr->rel = NULL;
	rr->portal = NULL;
	rr->digest = NULL;
	if (!OidIsValid(relid) ||
		mm_namespace_aclcheck(nsp, GetUserId(), ACL_USAGE) != ACLCHECK_OK ||
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
		check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		return false;
	rr->rel = table_open(relid, AccessShareLock);
	desc = RelationGetDescr(rr->rel);
	if (rr->rel->rd_rel->relkind != RELKIND_RELATION ||
		rr->rel->rd_rel->relhassubclass)
	{
		table_close(rr->rel, NoLock);
		rr->rel = NULL;
		return false;
	}
	for (int c = 0; c < ncolumns; c++)
	{
		rr->attnums[c] = InvalidAttrNumber;
		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped && strcmp(NameStr(att->attname), columns[c]) == 0)
			{
				if (att->atttypid == types[c] &&
					(att->attnotnull || (nullable & (1 << c)) != 0) &&
					(att->atttypid != TEXTOID ||
					 get_collation_isdeterministic(att->attcollation)))
					rr->attnums[c] = att->attnum;
				break;
			}
		}
		if (rr->attnums[c] == InvalidAttrNumber)
		{
			table_close(rr->rel, NoLock);
			rr->rel = NULL;
			return false;
		}
	}
	if (keycolumn >= 0)
	{
		Relation	irel;

		Assert(types[keycolumn] == TEXTOID);
		index = direct_key_index(rr->rel, rr->attnums[keycolumn]);
		if (!OidIsValid(index))
		{
			table_close(rr->rel, NoLock);
			rr->rel = NULL;
			return false;
		}
		/* the index's collation orders the search */
		irel = index_open(index, AccessShareLock);
		ScanKeyEntryInitialize(&skey, 0, rr->attnums[keycolumn],
							   BTEqualStrategyNumber, InvalidOid,
							   irel->rd_indcollation[0], F_TEXTEQ,
							   CStringGetTextDatum(key));
		index_close(irel, NoLock);
	}
	rr->values = palloc(sizeof(Datum) * desc->natts);
	rr->nulls = palloc(sizeof(bool) * desc->natts);
	CommandCounterIncrement();
	rr->snapshot = RegisterSnapshot(GetTransactionSnapshot());
	rr->scan = systable_beginscan(rr->rel, index, OidIsValid(index),
								  rr->snapshot, OidIsValid(index) ? 1 : 0,
								  &skey);
	return true;
}

/*
 * A valid btree index of rel, without expressions or predicate, whose
 * first column is the text column attnum with text's own operators and
 * the column's collation (the index a query on the column would use), or
 * InvalidOid.
 */
static Oid
direct_key_index(Relation rel, AttrNumber attnum)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	Oid			found = InvalidOid;

	foreach(lc, indexes)
	{
		Relation	irel = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index index = irel->rd_index;

		if (index->indisvalid && index->indislive && index->indnkeyatts >= 1 &&
			index->indkey.values[0] == attnum &&
			irel->rd_rel->relam == BTREE_AM_OID &&
			irel->rd_opfamily[0] == TEXT_BTREE_FAM_OID &&
			irel->rd_indcollation[0] ==
			TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attcollation &&
			heap_attisnull(irel->rd_indextuple, Anum_pg_index_indexprs, NULL) &&
			heap_attisnull(irel->rd_indextuple, Anum_pg_index_indpred, NULL))
			found = RelationGetRelid(irel);
		index_close(irel, NoLock);
		if (OidIsValid(found))
			break;
	}
	list_free(indexes);
	return found;
}

/*
 * Starts reading the rows of a query of the history through SPI's cursor,
 * where direct_begin may not read them.
 */
static void
query_begin(RowRead *rr, SPIPlanPtr plan, Datum *args)
{
	rr->cxt = CurrentMemoryContext;
	rr->rel = NULL;
	rr->digest = NULL;
	rr->portal = SPI_cursor_open(NULL, plan, args, NULL, false);
	rr->batch = NULL;
	rr->nbatch = rr->at = 0;
	MemoryContextSwitchTo(rr->cxt);
}

/* Reads the next row; false at the end. */
static bool
rows_next(RowRead *rr)
{
	if (rr->rel != NULL)
	{
		HeapTuple	tuple = systable_getnext(rr->scan);

		if (!HeapTupleIsValid(tuple))
			return false;
		if (rr->digest != NULL)
			digest_row(rr->digest, tuple);
		heap_deform_tuple(tuple, RelationGetDescr(rr->rel), rr->values,
						  rr->nulls);
		return true;
	}
	if (rr->at == rr->nbatch)
	{
		if (rr->batch != NULL)
			SPI_freetuptable(rr->batch);
		SPI_cursor_fetch(rr->portal, true, HISTORY_BATCH);
		MemoryContextSwitchTo(rr->cxt);
		rr->batch = SPI_tuptable;
		rr->nbatch = SPI_processed;
		rr->at = 0;
		if (rr->nbatch == 0)
			return false;
	}
	rr->tuple = rr->batch->vals[rr->at++];
	return true;
}

/* The value of a column of the row. */
static Datum
rows_value(const RowRead *rr, int column, bool *isnull)
{
	int			i;

	if (rr->rel == NULL)
		return SPI_getbinval(rr->tuple, rr->batch->tupdesc, column + 1, isnull);
	i = rr->attnums[column] - 1;
	*isnull = rr->nulls[i];
	return rr->values[i];
}

/*
 * Ends a read; a direct read's lock on the table stays to the end of the
 * transaction, as the query's would.
 */
static void
rows_end(RowRead *rr)
{
	if (rr->rel != NULL)
	{
		systable_endscan(rr->scan);
		UnregisterSnapshot(rr->snapshot);
		pfree(rr->values);
		pfree(rr->nulls);
		table_close(rr->rel, NoLock);
		return;
	}
	if (rr->batch != NULL)
		SPI_freetuptable(rr->batch);
	SPI_cursor_close(rr->portal);
	MemoryContextSwitchTo(rr->cxt);
}

/*
 * Starts digest as the digest of the table rr reads directly, with a hash
 * of every column of the table: the same bytes are other values once
 * columns are renamed, dropped and added again (rows written before show
 * the new column's default), retyped or given another collation.
 */
static void
digest_begin(TableDigest *digest, const RowRead *rr)
{
	TupleDesc	desc = RelationGetDescr(rr->rel);

	memset(digest, 0, sizeof(TableDigest));
	digest->relid = RelationGetRelid(rr->rel);
	digest->usable = true;
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		int64		column[8];

		column[0] = att->attnum;
		column[1] = att->atttypid;
		column[2] = att->atttypmod;
		column[3] = att->attcollation;
		column[4] = att->attisdropped;
		column[5] = att->attnotnull;
		column[6] = att->atthasmissing;
		column[7] = att->attlen;
		digest->columns = hash_bytes_extended((const unsigned char *) column,
											  sizeof(column),
											  digest->columns);
		digest->columns = hash_bytes_extended((const unsigned char *) NameStr(att->attname),
											  strlen(NameStr(att->attname)),
											  digest->columns);
	}
}

/*
 * Adds a row to a digest: a hash of what the row holds (its number of
 * columns, which are NULL, and its data), not of where it lies or which
 * transaction wrote it.  A value kept out of line (TOAST) is only a
 * pointer here, so a digest with one is not usable.
 */
static void
digest_row(TableDigest *digest, HeapTuple tuple)
{
	HeapTupleHeader t = tuple->t_data;
	int			natts = HeapTupleHeaderGetNatts(t);
	uint64		seed = (uint64) natts;
	uint64		h;

	if (HeapTupleHasExternal(tuple))
		digest->usable = false;
	if (HeapTupleHasNulls(tuple))
		seed = hash_bytes_extended((const unsigned char *) t->t_bits,
								   BITMAPLEN(natts), seed + 1);
	h = hash_bytes_extended((const unsigned char *) t + t->t_hoff,
							tuple->t_len - t->t_hoff, seed);
	digest->count++;
	digest->sum += h;
	digest->xor ^= h;
}

/*
 * The digest of every row of one of the extension's tables, read as
 * history_load reads it; false where that read would go through SPI.
 */
static bool
digest_table(TableDigest *digest, const char *table, int ncolumns,
			 const char *const *columns, const Oid *types, bits32 nullable)
{
	RowRead		rr;
	HeapTuple	tuple;

	if (!direct_begin(&rr, table, ncolumns, columns, types, nullable, -1,
					  NULL))
		return false;
	digest_begin(digest, &rr);
	while (HeapTupleIsValid(tuple = systable_getnext(rr.scan)))
		digest_row(digest, tuple);
	rows_end(&rr);
	return digest->usable;
}

/*
 * The digest of the database's history, both tables, as a call would read
 * them now; false for a tenant's history, or where history_load would not
 * read them directly (its digest is not valid then either).
 */
bool
history_digest(HistoryDigest *digest)
{
	memset(digest, 0, sizeof(HistoryDigest));
	if (target_schema != NULL ||
		!digest_table(&digest->rows, "schema_migrations",
					  lengthof(row_columns), row_columns, row_types, 0) ||
		!digest_table(&digest->failures, "migration_errors",
					  lengthof(failure_columns), failure_columns,
					  failure_types, FAILURE_NULLABLE))
		return false;
	digest->valid = true;
	return true;
}

/*
 * The array for one more element after n of them, of *allocated: the same,
 * or twice as large.
 */
static void *
grow_array(void *array, int n, int *allocated, Size size)
{
	if (n < *allocated)
		return array;
	*allocated *= 2;
	return repalloc(array, size * *allocated);
}

/* Whether a text value is the string str. */
static bool
text_is(const text *value, const char *str)
{
	size_t		len = strlen(str);

	return VARSIZE_ANY_EXHDR(value) == len &&
		memcmp(VARDATA_ANY(value), str, len) == 0;
}

/*
 * A history row from its columns: filename, applied_at, checksum, duration,
 * then kind (a direct read), or whether kind is 'baseline' and whether it
 * is 'adopted' (the query, which compares with the column's collation).
 */
static void
history_row(HistoryRow *row, const RowRead *rr)
{
	bool		isnull;
	Interval   *duration = DatumGetIntervalP(rows_value(rr, 3, &isnull));

	/* text columns without a type output lookup per value */
	row->filename = TextDatumGetCString(rows_value(rr, 0, &isnull));
	row->applied_at = DatumGetTimestampTz(rows_value(rr, 1, &isnull));
	row->checksum = TextDatumGetCString(rows_value(rr, 2, &isnull));
	row->duration = duration->time +
		(duration->day + (int64) duration->month * DAYS_PER_MONTH) * USECS_PER_DAY;
	if (rr->rel != NULL)
	{
		text	   *kind = DatumGetTextPP(rows_value(rr, 4, &isnull));

		row->baseline = text_is(kind, "baseline");
		row->adopted = text_is(kind, "adopted");
	}
	else
	{
		row->baseline = DatumGetBool(rows_value(rr, 4, &isnull));
		row->adopted = DatumGetBool(rows_value(rr, 5, &isnull));
	}
}

/*
 * A recorded failure from its columns: filename, failed_at, sqlstate,
 * message, detail, hint, line (the last three may be NULL).
 */
static void
failure_row(FailureRow *f, const RowRead *rr)
{
	bool		isnull;
	Datum		detail = rows_value(rr, 4, &isnull);
	Datum		hint;
	Datum		line;

	f->detail = isnull ? NULL : TextDatumGetCString(detail);
	hint = rows_value(rr, 5, &isnull);
	f->hint = isnull ? NULL : TextDatumGetCString(hint);
	line = rows_value(rr, 6, &isnull);
	f->line = isnull ? 0 : DatumGetInt32(line);
	f->filename = TextDatumGetCString(rows_value(rr, 0, &isnull));
	f->failed_at = DatumGetTimestampTz(rows_value(rr, 1, &isnull));
	f->sqlstate = TextDatumGetCString(rows_value(rr, 2, &isnull));
	f->message = TextDatumGetCString(rows_value(rr, 3, &isnull));
}

/*
 * A fingerprint from its columns: filename, device, inode, size, mtime_ns,
 * ctime_ns, checksum, facts.
 */
static void
fingerprint_row(FileFingerprint *fp, const RowRead *rr)
{
	bool		isnull;
	char	   *checksum = TextDatumGetCString(rows_value(rr, 6, &isnull));
	Datum		raw = rows_value(rr, 7, &isnull);
	bytea	   *facts = DatumGetByteaPP(raw);

	fp->filename = TextDatumGetCString(rows_value(rr, 0, &isnull));
	fp->device = DatumGetInt64(rows_value(rr, 1, &isnull));
	fp->inode = DatumGetInt64(rows_value(rr, 2, &isnull));
	fp->size = DatumGetInt64(rows_value(rr, 3, &isnull));
	fp->mtime_ns = DatumGetInt64(rows_value(rr, 4, &isnull));
	fp->ctime_ns = DatumGetInt64(rows_value(rr, 5, &isnull));
	strlcpy(fp->checksum, checksum, sizeof(fp->checksum));
	pfree(checksum);
	fp->facts_len = VARSIZE_ANY_EXHDR(facts);
	fp->facts = palloc(Max(fp->facts_len, 1));
	memcpy(fp->facts, VARDATA_ANY(facts), fp->facts_len);
	if ((Pointer) facts != DatumGetPointer(raw))
		pfree(facts);
}

/* Reads both history tables, each sorted by file name. */
History *
history_load(void)
{
	History    *history = palloc0(sizeof(History));
	RowRead		rr;
	int			allocated = 1024;

	history->rows = palloc(sizeof(HistoryRow) * allocated);
	history->failures = palloc(sizeof(FailureRow) * 16);

	/* a tenant that has no history yet */
	if (target_schema != NULL && !target_has("morgenmigrate_history"))
		return history;
	/* the extension's own table, read without SPI where that changes nothing */
	if (target_schema == NULL &&
		direct_begin(&rr, "schema_migrations", lengthof(row_columns),
					 row_columns, row_types, 0, -1, NULL))
	{
		/* what a later call compares with (dirproof.c) */
		digest_begin(&history->digest.rows, &rr);
		rr.digest = &history->digest.rows;
	}
	else
		query_begin(&rr, query_plan(HQ_ROWS, 0, NULL), NULL);
	while (rows_next(&rr))
	{
		history->rows = grow_array(history->rows, history->nrows, &allocated,
								   sizeof(HistoryRow));
		history_row(&history->rows[history->nrows++], &rr);
	}
	rows_end(&rr);
	qsort(history->rows, history->nrows, sizeof(HistoryRow), cmp_rows);

	if (target_schema != NULL && !target_has("morgenmigrate_errors"))
		return history;
	if (target_schema == NULL &&
		direct_begin(&rr, "migration_errors", lengthof(failure_columns),
					 failure_columns, failure_types, FAILURE_NULLABLE, -1,
					 NULL))
	{
		digest_begin(&history->digest.failures, &rr);
		rr.digest = &history->digest.failures;
	}
	else
		query_begin(&rr, query_plan(HQ_FAILURES, 0, NULL), NULL);
	allocated = 16;
	while (rows_next(&rr))
	{
		history->failures = grow_array(history->failures, history->nfailures,
									   &allocated, sizeof(FailureRow));
		failure_row(&history->failures[history->nfailures++], &rr);
	}
	rows_end(&rr);
	qsort(history->failures, history->nfailures, sizeof(FailureRow),
		  cmp_failures);
	history->digest.valid = history->digest.rows.usable &&
		history->digest.failures.usable;

	return history;
}

/* qsort/bsearch comparator: HistoryRow by file name. */
static int
cmp_rows(const void *a, const void *b)
{
	return strcmp(((const HistoryRow *) a)->filename,
				  ((const HistoryRow *) b)->filename);
}

/* qsort/bsearch comparator: FailureRow by file name. */
static int
cmp_failures(const void *a, const void *b)
{
	return strcmp(((const FailureRow *) a)->filename,
				  ((const FailureRow *) b)->filename);
}

/* The history row of a file, or NULL. */
HistoryRow *
history_find(const History *history, const char *filename)
{
	HistoryRow	key;

	key.filename = (char *) filename;
	return bsearch(&key, history->rows, history->nrows, sizeof(HistoryRow),
				   cmp_rows);
}

/* The recorded failure of a file, or NULL. */
FailureRow *
history_find_failure(const History *history, const char *filename)
{
	FailureRow	key;

	key.filename = (char *) filename;
	return bsearch(&key, history->failures, history->nfailures,
				   sizeof(FailureRow), cmp_failures);
}

/* list_sort comparator: HistoryRow pointers by time applied, then version. */
static int
cmp_apply_order(const ListCell *a, const ListCell *b)
{
	const HistoryRow *ra = (const HistoryRow *) lfirst(a);
	const HistoryRow *rb = (const HistoryRow *) lfirst(b);

	if (ra->applied_at != rb->applied_at)
		return ra->applied_at < rb->applied_at ? -1 : 1;
	return migration_name_cmp(ra->filename, rb->filename);
}

/* The history rows in the order they were applied. */
List *
history_in_apply_order(const History *history)
{
	List	   *rows = NIL;

	for (int i = 0; i < history->nrows; i++)
		rows = lappend(rows, &history->rows[i]);
	list_sort(rows, cmp_apply_order);
	return rows;
}

/* An interval Datum of so many microseconds. */
Datum
interval_datum(int64 usecs)
{
	Interval   *result = palloc0(sizeof(Interval));

	result->time = usecs;
	return IntervalPGetDatum(result);
}

/* Adds the history row of a file that was applied or baselined. */
void
history_record(const char *filename, const char *checksum,
			   TimestampTz applied_at, int64 duration, bool baseline)
{
	record_row(filename, checksum, applied_at, duration,
			   baseline ? "baseline" : "applied");
}

/*
 * Adds the history row of a file another runner applied (kind 'adopted'),
 * with the time that runner applied it.
 */
void
history_record_adopted(const char *filename, const char *checksum,
					   TimestampTz applied_at)
{
	record_row(filename, checksum, applied_at, 0, "adopted");
}

/* Adds a history row of the given kind. */
static void
record_row(const char *filename, const char *checksum, TimestampTz applied_at,
		   int64 duration, const char *kind)
{
	Oid			types[6] = {TEXTOID, TIMESTAMPTZOID, TEXTOID, INTERVALOID,
	TEXTOID, TEXTOID};
	Datum		values[6];

	values[0] = CStringGetTextDatum(filename);
	values[1] = TimestampTzGetDatum(applied_at);
	values[2] = CStringGetTextDatum(checksum);
	values[3] = interval_datum(duration);
	values[4] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	values[5] = CStringGetTextDatum(kind);
	run_query(HQ_RECORD, 6, types, values, NULL);
}

/* Deletes the history row of a file; tells whether there was one. */
bool
history_forget(const char *filename)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	values[0] = CStringGetTextDatum(filename);
	run_query(HQ_FORGET, 1, types, values, NULL);
	if (SPI_processed == 0)
		return false;
	forget_fingerprints(filename);
	return true;
}

/* Replaces the recorded checksum of an applied file. */
void
history_set_checksum(const char *filename, const char *checksum)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];

	values[0] = CStringGetTextDatum(filename);
	values[1] = CStringGetTextDatum(checksum);
	run_query(HQ_SET_CHECKSUM, 2, types, values, NULL);
	forget_fingerprints(filename);
}

/*
 * Records (or replaces) the last failure of a file, with who blocked it
 * when a lock timeout ended it (a jsonb array, or NULL).  A database still
 * on the SQL definitions of 1.0 has no blockers column: they stay in the
 * error's detail there.
 */
void
history_record_failure(const char *filename, TimestampTz failed_at,
					   const ErrorData *edata, int line, const char *blockers)
{
	Oid			types[8] = {TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, INT4OID, JSONBOID};
	Datum		values[8];
	char		nulls[8] = "        ";

	values[0] = CStringGetTextDatum(filename);
	values[1] = TimestampTzGetDatum(failed_at);
	values[2] = CStringGetTextDatum(unpack_sql_state(edata->sqlerrcode));
	values[3] = CStringGetTextDatum(edata->message ? edata->message : "");
	if (edata->detail)
		values[4] = CStringGetTextDatum(edata->detail);
	else
		nulls[4] = 'n';
	if (edata->hint)
		values[5] = CStringGetTextDatum(edata->hint);
	else
		nulls[5] = 'n';
	values[6] = Int32GetDatum(line);
	if (line <= 0)
		nulls[6] = 'n';
	if (blockers)
		values[7] = DirectFunctionCall1(jsonb_in, CStringGetDatum(blockers));
	else
		nulls[7] = 'n';

	if (errors_have_blockers())
		run_query(HQ_RECORD_FAILURE_BLOCKERS, 8, types, values, nulls);
	else
		run_query(HQ_RECORD_FAILURE, 7, types, values, nulls);
}

/*
 * Tells whether the current history's failures table has its blockers
 * column: a database still on 1.0's SQL definitions has none.  A tenant's
 * table is made with it, when it is made.
 */
static bool
errors_have_blockers(void)
{
	const char *schema = target_schema ? target_schema : MM_SCHEMA;
	const char *table = target_schema ? "morgenmigrate_errors" : "migration_errors";
	Oid			nsp = get_namespace_oid(schema, true);
	Oid			relid = OidIsValid(nsp) ?
		get_relname_relid(table, nsp) : InvalidOid;

	if (!OidIsValid(relid))
		return target_schema != NULL;
	return get_attnum(relid, "blockers") != InvalidAttrNumber;
}

/* Removes the recorded failure of a file; tells whether there was one. */
bool
history_clear_failure(const char *filename)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	values[0] = CStringGetTextDatum(filename);
	run_query(HQ_CLEAR_FAILURE, 1, types, values, NULL);
	return SPI_processed > 0;
}

/*
 * A recorded failure as one line of text, for status and check; a lock
 * timeout's with its detail, which says who held the lock.
 */
char *
failure_text(const FailureRow *failure)
{
	char	   *text = failure->line > 0 ?
		psprintf("%s: %s (line %d)", failure->sqlstate, failure->message,
				 failure->line) :
		psprintf("%s: %s", failure->sqlstate, failure->message);

	if (failure->detail != NULL && strcmp(failure->sqlstate, "55P03") == 0)
		return psprintf("%s. %s", text, failure->detail);
	return text;
}

/*
 * Tells whether the caller may use morgenmigrate.file_fingerprints as mode
 * says.  A database still on 1.0's SQL definitions has no such table, and
 * a role granted the functions and the history alone may lack it: either
 * way every file is read, as if no fingerprint had been kept.  Nothing is
 * written in a read-only transaction or on a standby.
 */
static bool
fingerprints_allowed(AclMode mode)
{
	Oid			nsp;
	Oid			relid;

	if ((mode & ~ACL_SELECT) != 0 && (XactReadOnly || RecoveryInProgress()))
		return false;
	nsp = get_namespace_oid(MM_SCHEMA, true);
	relid = OidIsValid(nsp) ?
		get_relname_relid("file_fingerprints", nsp) : InvalidOid;
	/* the queries on it name it in its schema, which needs USAGE */
	if (!OidIsValid(relid) ||
		mm_namespace_aclcheck(nsp, GetUserId(), ACL_USAGE) != ACLCHECK_OK)
		return false;
	/* each privilege: pg_class_aclcheck is content with any of several */
	for (AclMode bit = 1; bit != 0 && bit <= mode; bit <<= 1)
		if ((mode & bit) != 0 &&
			pg_class_aclcheck(relid, GetUserId(), bit) != ACLCHECK_OK)
			return false;
	return true;
}

/*
 * Tells whether file_fingerprints still has the key that the ON CONFLICT
 * of history_save_fingerprints takes as its arbiter: a valid, immediate
 * unique index on exactly (directory, filename), without expressions or a
 * predicate.  A table that lost it (by hand: it is the extension's) keeps
 * no fingerprints instead of failing every call that would keep some;
 * they only save later sessions reading files again.
 */
static bool
fingerprints_have_key(void)
{
	Oid			nsp = get_namespace_oid(MM_SCHEMA, true);
	Oid			relid = OidIsValid(nsp) ?
		get_relname_relid("file_fingerprints", nsp) : InvalidOid;
	Relation	rel;
	AttrNumber	directory;
	AttrNumber	filename;
	List	   *indexes;
	ListCell   *lc;
	bool		found = false;

	if (!OidIsValid(relid))
		return false;
	rel = table_open(relid, AccessShareLock);
	directory = get_attnum(relid, "directory");
	filename = get_attnum(relid, "filename");
	indexes = RelationGetIndexList(rel);
	foreach(lc, indexes)
	{
		Relation	irel = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index index = irel->rd_index;

		found = index->indisvalid && index->indisunique &&
			index->indimmediate && index->indnkeyatts == 2 &&
			((index->indkey.values[0] == directory &&
			  index->indkey.values[1] == filename) ||
			 (index->indkey.values[0] == filename &&
			  index->indkey.values[1] == directory)) &&
			heap_attisnull(irel->rd_indextuple, Anum_pg_index_indexprs, NULL) &&
			heap_attisnull(irel->rd_indextuple, Anum_pg_index_indpred, NULL);
		index_close(irel, NoLock);
		if (found)
			break;
	}
	list_free(indexes);
	table_close(rel, NoLock);
	return found;
}

/*
 * The fingerprints kept for the files of a directory (its canonical path),
 * in the current memory context; *n of them.
 */
FileFingerprint *
history_load_fingerprints(const char *directory, int *n)
{
	static SPIPlanPtr plan = NULL;
	static const char *const columns[] = {"filename", "device", "inode",
	"size", "mtime_ns", "ctime_ns", "checksum", "facts", "directory"};
	static const Oid types[] = {TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID,
	INT8OID, TEXTOID, BYTEAOID, TEXTOID};
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	FileFingerprint *fps;
	RowRead		rr;
	int			allocated = 64;

	*n = 0;
	if (!fingerprints_allowed(ACL_SELECT))
		return NULL;
	fps = palloc(sizeof(FileFingerprint) * allocated);
	/* the rows of the directory by the table's key, without SPI if it may */
	if (!direct_begin(&rr, "file_fingerprints", lengthof(columns), columns,
					  types, 0, 8, directory))
	{
		args[0] = CStringGetTextDatum(directory);
		query_begin(&rr,
					prepare_kept(&plan,
								 "SELECT filename, device, inode, size, mtime_ns,"
								 " ctime_ns, checksum, facts"
								 " FROM " MM_SCHEMA ".file_fingerprints"
								 " WHERE directory OPERATOR(pg_catalog.=) $1",
								 1, argtypes),
					args);
	}
	while (rows_next(&rr))
	{
		fps = grow_array(fps, *n, &allocated, sizeof(FileFingerprint));
		fingerprint_row(&fps[*n], &rr);
		/* the row of the directory's proof is no file's (dirproof.c) */
		if (fps[*n].filename[0] != '\0')
			(*n)++;
	}
	rows_end(&rr);
	return fps;
}

/*
 * Finds the proof kept for a directory (its canonical path): the row of
 * file_fingerprints whose file name is empty, which no file has
 * (dirproof.c).  Read only directly, by the index on the file name; false
 * where that cannot be done, or there is none.
 */
bool
history_load_proof(const char *directory, FileFingerprint *fp)
{
	static const char *const columns[] = {"filename", "device", "inode",
	"size", "mtime_ns", "ctime_ns", "checksum", "facts", "directory"};
	static const Oid types[] = {TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID,
	INT8OID, TEXTOID, BYTEAOID, TEXTOID};
	RowRead		rr;
	bool		found = false;

	if (!fingerprints_allowed(ACL_SELECT) ||
		!direct_begin(&rr, "file_fingerprints", lengthof(columns), columns,
					  types, 0, 0, ""))
		return false;
	while (!found && rows_next(&rr))
	{
		bool		isnull;

		if (text_is(DatumGetTextPP(rows_value(&rr, 8, &isnull)), directory))
		{
			fingerprint_row(fp, &rr);
			found = true;
		}
	}
	rows_end(&rr);
	return found;
}

/*
 * Keeps (or replaces) the fingerprints of files of a directory, in one
 * statement over arrays of their parts; does nothing where the caller may
 * not write them (fingerprints_allowed), and says whether it wrote.  The
 * names are the history's keys, each once.
 */
bool
history_save_fingerprints(const char *directory, const FileFingerprint *fps,
						  int n)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[9] = {TEXTOID, TEXTARRAYOID, INT8ARRAYOID, INT8ARRAYOID,
	INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, TEXTARRAYOID, BYTEAARRAYOID};
	Datum		values[9];
	Datum	   *columns[8];

	/* ON CONFLICT reads the key it conflicts on: SELECT too */
	if (n == 0 || !fingerprints_allowed(ACL_SELECT | ACL_INSERT | ACL_UPDATE) ||
		!fingerprints_have_key())
		return false;
	for (int c = 0; c < lengthof(columns); c++)
		columns[c] = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		const FileFingerprint *fp = &fps[i];
		bytea	   *facts = palloc(VARHDRSZ + fp->facts_len);

		SET_VARSIZE(facts, VARHDRSZ + fp->facts_len);
		memcpy(VARDATA(facts), fp->facts, fp->facts_len);
		columns[0][i] = CStringGetTextDatum(fp->filename);
		columns[1][i] = Int64GetDatum(fp->device);
		columns[2][i] = Int64GetDatum(fp->inode);
		columns[3][i] = Int64GetDatum(fp->size);
		columns[4][i] = Int64GetDatum(fp->mtime_ns);
		columns[5][i] = Int64GetDatum(fp->ctime_ns);
		columns[6][i] = CStringGetTextDatum(fp->checksum);
		columns[7][i] = PointerGetDatum(facts);
	}
	values[0] = CStringGetTextDatum(directory);
	values[1] = PointerGetDatum(construct_array(columns[0], n, TEXTOID, -1,
												false, TYPALIGN_INT));
	for (int c = 1; c <= 5; c++)
		values[c + 1] = PointerGetDatum(construct_array(columns[c], n, INT8OID,
														sizeof(int64),
														FLOAT8PASSBYVAL,
														TYPALIGN_DOUBLE));
	values[7] = PointerGetDatum(construct_array(columns[6], n, TEXTOID, -1,
												false, TYPALIGN_INT));
	values[8] = PointerGetDatum(construct_array(columns[7], n, BYTEAOID, -1,
												false, TYPALIGN_INT));
	run_kept(&plan,
			 "INSERT INTO " MM_SCHEMA ".file_fingerprints"
			 " (directory, filename, device, inode, size, mtime_ns,"
			 " ctime_ns, checksum, facts)"
			 " SELECT $1, f.* FROM ROWS FROM (pg_catalog.unnest($2),"
			 " pg_catalog.unnest($3), pg_catalog.unnest($4),"
			 " pg_catalog.unnest($5), pg_catalog.unnest($6),"
			 " pg_catalog.unnest($7), pg_catalog.unnest($8),"
			 " pg_catalog.unnest($9)) AS f"
			 " ON CONFLICT (directory, filename) DO UPDATE SET"
			 " device = excluded.device, inode = excluded.inode,"
			 " size = excluded.size, mtime_ns = excluded.mtime_ns,"
			 " ctime_ns = excluded.ctime_ns, checksum = excluded.checksum,"
			 " facts = excluded.facts",
			 9, types, values, NULL);
	for (int c = 0; c < lengthof(columns); c++)
		pfree(columns[c]);
	return true;
}

/*
 * Drops the fingerprints of a migration's files, in every directory: its
 * history row went or took another checksum, and nothing proved of its
 * file before is to be trusted for it.  The proof of each directory that
 * loses one goes with it: a call without the fingerprint reads the file,
 * and may say something doing so (a tenant's call drops them too, where
 * the database's history and the directory's proof stay as they were).
 */
static void
forget_fingerprints(const char *filename)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	if (!fingerprints_allowed(ACL_SELECT | ACL_DELETE))
		return;
	values[0] = CStringGetTextDatum(filename);
	run_kept(&plan,
			 "WITH gone AS (DELETE FROM " MM_SCHEMA ".file_fingerprints"
			 " WHERE filename OPERATOR(pg_catalog.=) $1 RETURNING directory)"
			 " DELETE FROM " MM_SCHEMA ".file_fingerprints"
			 " WHERE filename OPERATOR(pg_catalog.=) ''"
			 " AND directory OPERATOR(pg_catalog.=) ANY"
			 " (ARRAY(SELECT directory FROM gone))",
			 1, types, values, NULL);
}
