/*-------------------------------------------------------------------------
 *
 * leftovers.c
 *	  What a failed or interrupted concurrent index build of migrate_run
 *	  left behind: the INVALID indexes its own worker created (and marked),
 *	  dropped before the build starts over; never another session's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "commands/defrem.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "leftovers.h"
#include "worker.h"

static bool is_build_leftover(Oid indexoid);
static Oid	statement_build_table(Node *node);

/*
 * Before a CREATE INDEX CONCURRENTLY or a REINDEX ... CONCURRENTLY of an
 * index or a table: drops, concurrently, the INVALID indexes on its table
 * that a failed or interrupted build run by migrate_run left behind (an
 * index a worker created and marked, see worker.c), so the build can start
 * over.  Any other INVALID index stays, whatever its name: another
 * session's build (running or failed), the one a REINDEX repairs, a
 * partitioned table's ON ONLY index.  Not while another build on the table
 * is in progress: that one holds a SHARE UPDATE EXCLUSIVE lock on the
 * table for its whole run.
 */
void
leftovers_drop(const MigrationScript *script,
					 const MigrationStatement *stmt)
{
	Oid			relid = statement_build_table(stmt->parsetree);
	Relation	rel;
	List	   *leftovers = NIL;
	ListCell   *lc;

	if (!OidIsValid(relid) ||
		!ConditionalLockRelationOid(relid, ShareUpdateExclusiveLock))
		return;
	rel = table_open(relid, NoLock);
	foreach(lc, RelationGetIndexList(rel))
	{
		if (is_build_leftover(lfirst_oid(lc)))
			leftovers = lappend_oid(leftovers, lfirst_oid(lc));
	}
	table_close(rel, NoLock);
	UnlockRelationOid(relid, ShareUpdateExclusiveLock);

	foreach(lc, leftovers)
	{
		Oid			indexoid = lfirst_oid(lc);
		char	   *name;

		/*
		 * Held until the worker has dropped it, so that the name the worker
		 * looks up stays this index's: no one can drop or rename it
		 * meanwhile.  The worker is in our lock group, so it does not wait
		 * for this lock.  Taken without waiting: an index someone else is
		 * working on is left alone.
		 */
		if (!ConditionalLockRelationOid(indexoid, ShareUpdateExclusiveLock))
			continue;
		if (!is_build_leftover(indexoid))
		{
			UnlockRelationOid(indexoid, ShareUpdateExclusiveLock);
			continue;
		}
		name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(indexoid)),
										  get_rel_name(indexoid));
		ereport(NOTICE,
				(errmsg("dropping invalid index %s", name),
				 errdetail("A failed or interrupted concurrent build left it behind, and migration \"%s\" builds on its table again.",
						   script->name)));
		worker_execute(psprintf("DROP INDEX CONCURRENTLY IF EXISTS %s", name),
					   NULL);
		UnlockRelationOid(indexoid, ShareUpdateExclusiveLock);
	}
}

/*
 * Tells whether an index is the leftover of a build of ours: INVALID, and
 * still carrying the mark the worker put on it when a migration's
 * statement created it.
 */
static bool
is_build_leftover(Oid indexoid)
{
	HeapTuple	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	bool		invalid;

	if (!HeapTupleIsValid(tuple))
		return false;
	invalid = !((Form_pg_index) GETSTRUCT(tuple))->indisvalid;
	ReleaseSysCache(tuple);
	return invalid && get_rel_relkind(indexoid) == RELKIND_INDEX &&
		worker_build_marked(indexoid);
}

/*
 * The table a concurrent index build or reindex works on, InvalidOid for
 * any other statement (or a table that does not exist yet).
 */
static Oid
statement_build_table(Node *node)
{
	if (node == NULL)
		return InvalidOid;
	if (IsA(node, IndexStmt) && ((IndexStmt *) node)->concurrent)
		return RangeVarGetRelid(((IndexStmt *) node)->relation, NoLock, true);

	if (IsA(node, ReindexStmt))
	{
		ReindexStmt *rs = (ReindexStmt *) node;
		bool		concurrently = false;
		Oid			relid;
		ListCell   *lc;

		foreach(lc, rs->params)
		{
			DefElem    *opt = lfirst_node(DefElem, lc);

			if (strcmp(opt->defname, "concurrently") == 0)
				concurrently = defGetBoolean(opt);
		}
		if (!concurrently || rs->relation == NULL)
			return InvalidOid;
		relid = RangeVarGetRelid(rs->relation, NoLock, true);
		if (OidIsValid(relid) && rs->kind == REINDEX_OBJECT_INDEX)
			relid = IndexGetRelation(relid, true);
		return relid;
	}
	return InvalidOid;
}
