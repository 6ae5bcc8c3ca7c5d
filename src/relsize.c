/*-------------------------------------------------------------------------
 *
 * relsize.c
 *	  A relation's size on disk with its indexes and TOAST, as
 *	  pg_total_relation_size() gives it, read without a lock on the
 *	  relation: from its pg_class row and a stat() of each segment of each
 *	  of its files, as calculate_relation_size() in
 *	  src/backend/utils/adt/dbsize.c measures them.
 *
 * pg_total_relation_size() opens the relation with AccessShareLock, and so
 * waits behind any session holding an AccessExclusiveLock on it; a plan of
 * what a migration will cost must answer at once, even then.  A relation
 * that another session rewrites meanwhile may be measured half old, half
 * new: the size is an estimate of the moment, which is all a plan needs.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "common/relpath.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/fmgroids.h"
#include "utils/syscache.h"

#include "compat.h"
#include "relsize.h"

static int64 storage_bytes(Oid relid);
static int64 fork_bytes(const char *path);
static List *index_oids(Oid relid);

/*
 * The size of a relation with its indexes and its TOAST table (and the
 * TOAST table's index), in bytes; -1 when it cannot be told (a temporary
 * relation of another session, a mapped catalog, a relation gone).  An
 * index counts alone; a relation without storage (a view, a partitioned
 * table) counts 0 of its own.
 */
int64
relsize_total(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class form;
	char		relkind;
	Oid			toastrelid;
	int64		total;
	ListCell   *lc;

	if (!HeapTupleIsValid(tuple))
		return -1;
	form = (Form_pg_class) GETSTRUCT(tuple);
	relkind = form->relkind;
	toastrelid = form->reltoastrelid;
	ReleaseSysCache(tuple);

	total = storage_bytes(relid);
	if (total < 0 || relkind == RELKIND_INDEX ||
		relkind == RELKIND_PARTITIONED_INDEX)
		return total;

	foreach(lc, index_oids(relid))
	{
		int64		bytes = storage_bytes(lfirst_oid(lc));

		if (bytes < 0)
			return -1;
		total += bytes;
	}
	if (OidIsValid(toastrelid))
	{
		int64		bytes = relsize_total(toastrelid);

		if (bytes < 0)
			return -1;
		total += bytes;
	}
	return total;
}

/*
 * The bytes of every fork of one relation's own files; 0 for a relation
 * without storage, -1 when they cannot be told.
 */
static int64
storage_bytes(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class form;
	Oid			dbid;
	Oid			spcid;
	Oid			filenumber;
	int			backend;
	int64		total = 0;

	if (!HeapTupleIsValid(tuple))
		return -1;
	form = (Form_pg_class) GETSTRUCT(tuple);
	if (!RELKIND_HAS_STORAGE(form->relkind))
	{
		ReleaseSysCache(tuple);
		return 0;
	}
	dbid = form->relisshared ? InvalidOid : MyDatabaseId;
	spcid = OidIsValid(form->reltablespace) ? form->reltablespace :
		MyDatabaseTableSpace;
	filenumber = form->relfilenode;
	backend = mm_no_backend_number;
	if (form->relpersistence == RELPERSISTENCE_TEMP)
	{
		/* only this session's temporary files carry a name we know */
		if (!isTempOrTempToastNamespace(form->relnamespace))
			filenumber = InvalidOid;
		backend = mm_my_backend_number;
	}
	ReleaseSysCache(tuple);

	/* a mapped catalog, or another session's temporary relation */
	if (!OidIsValid(filenumber))
		return -1;

	for (ForkNumber fork = MAIN_FORKNUM; fork <= MAX_FORKNUM; fork++)
	{
		char	   *path = mm_relation_path(dbid, spcid, filenumber, backend,
											fork);
		int64		bytes = fork_bytes(path);

		pfree(path);
		if (bytes < 0)
			return -1;
		total += bytes;
	}
	return total;
}

/*
 * The bytes of one fork: the sizes of its segment files, path, path.1,
 * path.2, ..., up to the first that does not exist; -1 when one cannot be
 * looked at.
 */
static int64
fork_bytes(const char *path)
{
	int64		total = 0;

	for (unsigned int segment = 0;; segment++)
	{
		char	   *name = segment == 0 ? pstrdup(path) :
			psprintf("%s.%u", path, segment);
		struct stat st;
		int			rc = stat(name, &st);

		pfree(name);
		if (rc < 0)
			return errno == ENOENT ? total : -1;
		total += st.st_size;
		CHECK_FOR_INTERRUPTS();
	}
}

/* The indexes of a relation, from pg_index, without locking anything but it. */
static List *
index_oids(Oid relid)
{
	Relation	pg_index = table_open(IndexRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *result = NIL;

	ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(pg_index, IndexIndrelidIndexId, true, NULL, 1,
							  &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
		result = lappend_oid(result,
							 ((Form_pg_index) GETSTRUCT(tuple))->indexrelid);
	systable_endscan(scan);
	table_close(pg_index, AccessShareLock);
	return result;
}
