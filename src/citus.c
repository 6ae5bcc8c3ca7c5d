/*-------------------------------------------------------------------------
 *
 * citus.c
 *	  Migrations of a Citus cluster, run on its coordinator: what differs
 *	  when the database has the extension citus.
 *
 * - The history lives on the coordinator.  Citus copies CREATE EXTENSION
 *   morgenmigrate to every node, so each worker has an empty history of its
 *   own: every function that reads or writes the history refuses to run on
 *   a worker, naming the coordinator.
 * - A file's lock timeout must hold on the workers too, where the DDL on
 *   the shards waits for its locks.  Citus sends a SET LOCAL to the nodes
 *   of the transaction (and to those it connects to later) when
 *   citus.propagate_set_commands is 'local' and the SET runs in a
 *   multi-statement transaction, which a DO block is to Citus; so the
 *   runner gives each file's lock_timeout to Citus that way.  A lock
 *   timeout on a shard comes back with its SQLSTATE (55P03), so retries
 *   work.
 * - The rehearsal reports the locks the file took on the workers, read
 *   from citus_locks (every node's pg_locks, by global process id) and
 *   mapped from shards to their table.
 * - Citus's rules for one transaction get a hint that names the ways out,
 *   and an error while the transaction commits (Citus prepares it on the
 *   workers then) names the last file of the call.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "storage/lock.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "citus.h"
#include "morgenmigrate.h"


/* what the coordinator's metadata says of this node */
typedef struct CitusNode
{
	int			groupid;		/* 0 on the coordinator */
	char	   *coordinator;	/* "host:port", or NULL if not known */
} CitusNode;

static CitusNode citus_this_node(void);
static bool find_top_level_call(Node *node, const char **found);
static void commit_context(void *arg);
static void commit_callback(XactEvent event, void *arg);

/* Citus functions that call PreventInTransactionBlock */
static const char *const top_level_functions[] = {
	"create_distributed_table_concurrently",
	"citus_cleanup_orphaned_resources",
};

/* the last file of the call, for an error at commit; in TopMemoryContext */
static char *committing_file = NULL;
static ErrorContextCallback commit_errcontext;
static bool commit_callback_registered = false;

/* Tells whether the current database has the extension citus. */
bool
citus_active(void)
{
	return OidIsValid(get_extension_oid("citus", true));
}

/* This node's group and the coordinator's address, from Citus's metadata. */
static CitusNode
citus_this_node(void)
{
	CitusNode	node = {0, NULL};
	MemoryContext cxt = CurrentMemoryContext;
	bool		isnull;

	SPI_connect();
	if (SPI_execute("SELECT g.groupid, n.nodename || ':' || n.nodeport"
					" FROM pg_catalog.pg_dist_local_group g"
					" LEFT JOIN pg_catalog.pg_dist_node n"
					" ON n.groupid OPERATOR(pg_catalog.=) 0"
					" AND n.noderole OPERATOR(pg_catalog.=) 'primary'"
					" LIMIT 1", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read Citus's node metadata");
	if (SPI_processed == 1)
	{
		Datum		coordinator;

		node.groupid = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
												   SPI_tuptable->tupdesc, 1,
												   &isnull));
		coordinator = SPI_getbinval(SPI_tuptable->vals[0],
									SPI_tuptable->tupdesc, 2, &isnull);
		if (!isnull)
			node.coordinator = MemoryContextStrdup(cxt,
												   TextDatumGetCString(coordinator));
	}
	SPI_finish();
	return node;
}

/*
 * Refuses to run funcname on a Citus worker: the history of the cluster's
 * migrations is the coordinator's, and a worker's copy of the extension
 * has an empty one.
 */
void
citus_refuse_on_worker(const char *funcname)
{
	CitusNode	node;

	if (!citus_active())
		return;
	node = citus_this_node();
	if (node.groupid == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("%s() cannot run on a Citus worker node", funcname),
			 node.coordinator ?
			 errdetail("The migrations of this Citus cluster are applied and recorded on its coordinator, %s; this node (group %d) holds shards and an unused copy of the history.",
					   node.coordinator, node.groupid) :
			 errdetail("The migrations of a Citus cluster are applied and recorded on its coordinator; this node (group %d) holds shards and an unused copy of the history.",
					   node.groupid),
			 errhint("Connect to the coordinator and run it there.")));
}

/*
 * Gives the current lock_timeout to the workers of the transaction: to
 * those it is connected to now and those it connects to later, until the
 * transaction (or the subtransaction this runs in) ends.  Citus sends a
 * SET LOCAL on when citus.propagate_set_commands is 'local' and the SET
 * runs in what it takes for a multi-statement transaction: a DO block.
 * The caller must be connected to SPI.
 */
void
citus_propagate_lock_timeout(void)
{
	int			nest = NewGUCNestLevel();
	const char *value = GetConfigOption("lock_timeout", false, false);

	(void) set_config_option("citus.propagate_set_commands", "local",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	if (SPI_execute(psprintf("DO $morgenmigrate$BEGIN SET LOCAL lock_timeout = %s; END$morgenmigrate$",
							 quote_literal_cstr(value)), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not give lock_timeout to the Citus workers");
	/* puts propagate_set_commands back; the SET LOCAL stays */
	AtEOXact_GUC(true, nest);
}

/* raw_expression_tree_walker callback: a call of top_level_functions. */
static bool
find_top_level_call(Node *node, const char **found)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncCall))
	{
		const char *name = strVal(llast(((FuncCall *) node)->funcname));

		for (int i = 0; i < lengthof(top_level_functions); i++)
		{
			if (strcmp(name, top_level_functions[i]) == 0)
			{
				*found = top_level_functions[i];
				return true;
			}
		}
	}
	return raw_expression_tree_walker(node, find_top_level_call, found);
}

/*
 * The Citus function a SELECT calls that cannot run inside a transaction
 * block (Citus refuses it, or inside a function call it fails later on a
 * table its own connections cannot see), as "name()", with a hint; NULL
 * if none.
 */
const char *
citus_top_level_call(Node *select, const char **hint)
{
	const char *found = NULL;

	if (!find_top_level_call(select, &found))
		return NULL;
	*hint = strcmp(found, "create_distributed_table_concurrently") == 0 ?
		"Or use create_distributed_table(), which blocks writes to the table while it distributes it." :
		"Or run the statement outside the migration set.";
	return psprintf("%s()", found);
}

/*
 * Adds what to do to the errors of Citus's rules for one transaction,
 * which Citus raises as internal errors (XX000).
 */
void
citus_explain_error(ErrorData *edata)
{
	const char *hint = NULL;

	if (edata->message == NULL || !citus_active())
		return;
	if (strstr(edata->message, "because there was a parallel") ||
		(strstr(edata->message, "cannot execute parallel") &&
		 strstr(edata->message, "on reference table")))
		hint = "Citus cannot run this over one connection per node after an earlier command of the same transaction ran in parallel on the shards, and an all-or-nothing call runs all its files in one transaction: put SET LOCAL citus.multi_shard_modify_mode TO 'sequential' at the top of the file (before its first command on a distributed table), or apply with CALL morgenmigrate.migrate_run(), which commits after each file.";
	else if (strstr(edata->message, "triggers are not supported on distributed tables") ||
			 strstr(edata->message, "triggers are not supported on reference tables"))
		hint = "Citus creates triggers on distributed and reference tables only with citus.enable_unsafe_triggers on (SET LOCAL in the file); the trigger then fires on each shard and may only touch rows of that shard.";
	if (hint == NULL)
		return;
	edata->hint = edata->hint ?
		psprintf("%s  %s", edata->hint, hint) : pstrdup(hint);
}

/* Error context while the call's transaction commits on the workers. */
static void
commit_context(void *arg)
{
	if (committing_file != NULL)
		errcontext("committing the transaction of morgenmigrate's migrations on the Citus cluster, whose last file was \"%s\"",
				   committing_file);
}

/*
 * Transaction callback: at pre-commit (before Citus's, which prepares the
 * transaction on the workers: callbacks registered later run first) puts
 * commit_context on the error context stack; takes it off once the
 * transaction ends.  An error in between resets the stack itself.
 */
static void
commit_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			if (committing_file == NULL)
				return;
			commit_errcontext.callback = commit_context;
			commit_errcontext.arg = NULL;
			commit_errcontext.previous = error_context_stack;
			error_context_stack = &commit_errcontext;
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			if (error_context_stack == &commit_errcontext)
				error_context_stack = commit_errcontext.previous;
			if (committing_file != NULL)
				pfree(committing_file);
			committing_file = NULL;
			break;
		default:
			break;
	}
}

/*
 * Notes the last file a call ran in this transaction, so that an error
 * when it commits on the workers names it.
 */
void
citus_note_file(const char *filename)
{
	if (!commit_callback_registered)
	{
		RegisterXactCallback(commit_callback, NULL);
		commit_callback_registered = true;
	}
	if (committing_file != NULL)
		pfree(committing_file);
	committing_file = MemoryContextStrdup(TopMemoryContext, filename);
}

/* One relation lock a worker holds for this backend's transaction. */
typedef struct WorkerLock
{
	char	   *key;			/* mode, relation and node: what tells it apart */
	int			mode;			/* LOCKMODE */
	char	   *node;			/* host:port */
	char	   *table;			/* the Citus table of a shard, or the relation */
	char	   *kind;			/* "distributed table" ..., NULL if no Citus
								 * table */
	bool		shard;			/* a shard of table, not its shell table */
} WorkerLock;

/* qsort comparator: worker locks by key. */
static int
cmp_worker_locks(const void *a, const void *b)
{
	return strcmp(((const WorkerLock *) a)->key, ((const WorkerLock *) b)->key);
}

/* qsort comparator: report order, strongest mode first, table, node. */
static int
cmp_worker_report(const void *a, const void *b)
{
	const WorkerLock *la = (const WorkerLock *) a;
	const WorkerLock *lb = (const WorkerLock *) b;
	int			c;

	if (la->mode != lb->mode)
		return la->mode > lb->mode ? -1 : 1;
	if ((c = strcmp(la->table, lb->table)) != 0)
		return c;
	if ((c = strcmp(la->node, lb->node)) != 0)
		return c;
	return (int) lb->shard - (int) la->shard;
}

/*
 * The relation locks the workers hold for this backend's distributed
 * transaction (citus_locks by global process id), shards mapped to their
 * table; the shards' indexes, and relations the workers' other sessions
 * cannot see yet (created in this transaction), are left out, as the
 * coordinator's report leaves out indexes and relations the file created.
 * Sorted by key.
 */
CitusLocks *
citus_worker_locks(void)
{
	CitusLocks *locks = palloc0(sizeof(CitusLocks));
	MemoryContext cxt = CurrentMemoryContext;

	SPI_connect();
	/*
	 * A shard is named after its table and its id; a worker's shell table
	 * (Citus's copy of the table's definition, without rows) as the table.
	 */
	if (SPI_execute("SELECT l.mode, l.relation_name, n.nodename || ':' || n.nodeport,"
					" coalesce(s.logicalrelid, t.logicalrelid)::pg_catalog.regclass::pg_catalog.text,"
					" CASE coalesce(p.partmethod, t.partmethod) WHEN 'h' THEN 'distributed table'"
					" ELSE CASE coalesce(p.repmodel, t.repmodel) WHEN 't' THEN 'reference table'"
					" ELSE 'Citus table' END END,"
					" s.shardid IS NOT NULL"
					" FROM pg_catalog.citus_locks l"
					" JOIN pg_catalog.pg_dist_node n ON n.nodeid OPERATOR(pg_catalog.=) l.nodeid"
					" LEFT JOIN pg_catalog.pg_dist_shard s"
					" ON s.shardid OPERATOR(pg_catalog.=) pg_catalog.substring(l.relation_name, '_([0-9]+)\"?$')::pg_catalog.int8"
					" AND pg_catalog.btrim(pg_catalog.regexp_replace(l.relation_name, '^.*\\.', ''), '\"')"
					" OPERATOR(pg_catalog.=) ((SELECT c.relname::pg_catalog.text FROM pg_catalog.pg_class c"
					" WHERE c.oid OPERATOR(pg_catalog.=) s.logicalrelid) OPERATOR(pg_catalog.||) '_' OPERATOR(pg_catalog.||) s.shardid)"
					" LEFT JOIN pg_catalog.pg_dist_partition p ON p.logicalrelid OPERATOR(pg_catalog.=) s.logicalrelid"
					" LEFT JOIN pg_catalog.pg_dist_partition t ON s.shardid IS NULL"
					" AND t.logicalrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(l.relation_name)"
					" WHERE l.global_pid OPERATOR(pg_catalog.=) pg_catalog.citus_backend_gpid()"
					" AND l.locktype OPERATOR(pg_catalog.=) 'relation' AND l.granted"
					" AND n.groupid OPERATOR(pg_catalog.<>) 0"
					" AND l.relation_name OPERATOR(pg_catalog.!~) '^[0-9]+$'"
					/* an index of a shard carries the shard's id too: left out */
					" AND (s.shardid IS NOT NULL OR NOT EXISTS (SELECT FROM pg_catalog.pg_dist_shard i"
					" WHERE i.shardid OPERATOR(pg_catalog.=) pg_catalog.substring(l.relation_name, '_([0-9]+)\"?$')::pg_catalog.int8))",
					false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the locks of the Citus workers");

	locks->n = SPI_processed;
	locks->locks = MemoryContextAllocZero(cxt, sizeof(WorkerLock) * Max(locks->n, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		WorkerLock *wl = &((WorkerLock *) locks->locks)[i];
		char	   *mode = SPI_getvalue(tuple, desc, 1);
		char	   *relation = SPI_getvalue(tuple, desc, 2);
		char	   *table = SPI_getvalue(tuple, desc, 4);
		char	   *kind = table ? SPI_getvalue(tuple, desc, 5) : NULL;
		bool		isnull;
		MemoryContext old = MemoryContextSwitchTo(cxt);

		wl->node = pstrdup(SPI_getvalue(tuple, desc, 3));
		wl->key = psprintf("%s|%s|%s", mode, relation, wl->node);
		wl->table = pstrdup(table ? table : relation);
		wl->kind = kind ? pstrdup(kind) : NULL;
		wl->shard = DatumGetBool(SPI_getbinval(tuple, desc, 6, &isnull));
		wl->mode = NoLock;
		for (LOCKMODE m = 1; m <= MaxLockMode; m++)
			if (strcmp(GetLockmodeName(DEFAULT_LOCKMETHOD, m), mode) == 0)
				wl->mode = m;
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	qsort(locks->locks, locks->n, sizeof(WorkerLock), cmp_worker_locks);
	return locks;
}

/*
 * Appends to a lock report (text[]) the worker locks held now that were
 * not held before: one line per mode, table and worker, with the number of
 * shards.
 */
Datum
citus_report_worker_locks(Datum report, CitusLocks *before)
{
	CitusLocks *after = citus_worker_locks();
	WorkerLock *fresh = palloc0(sizeof(WorkerLock) * Max(after->n, 1));
	int			nfresh = 0;
	ArrayType  *arr = DatumGetArrayTypeP(report);
	Datum	   *items;
	int			nitems;
	int			i;

	for (i = 0; i < after->n; i++)
	{
		WorkerLock *wl = &((WorkerLock *) after->locks)[i];

		if (bsearch(wl, before->locks, before->n, sizeof(WorkerLock),
					cmp_worker_locks) == NULL)
			fresh[nfresh++] = *wl;
	}
	qsort(fresh, nfresh, sizeof(WorkerLock), cmp_worker_report);

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &items, NULL, &nitems);
	items = repalloc(items, sizeof(Datum) * (nitems + nfresh + 1));
	for (i = 0; i < nfresh;)
	{
		int			j = i;

		/* the shards of one table on one worker, in one mode */
		while (j < nfresh && fresh[j].mode == fresh[i].mode &&
			   strcmp(fresh[j].table, fresh[i].table) == 0 &&
			   strcmp(fresh[j].node, fresh[i].node) == 0 &&
			   fresh[j].shard == fresh[i].shard)
			j++;
		if (fresh[i].shard)
			items[nitems++] = CStringGetTextDatum(
				psprintf("%s on %s (%s): %d shard%s on worker %s",
						 GetLockmodeName(DEFAULT_LOCKMETHOD, fresh[i].mode),
						 fresh[i].table, fresh[i].kind, j - i,
						 j - i == 1 ? "" : "s", fresh[i].node));
		else if (fresh[i].kind != NULL)
			items[nitems++] = CStringGetTextDatum(
				psprintf("%s on %s (%s): its shell table on worker %s",
						 GetLockmodeName(DEFAULT_LOCKMETHOD, fresh[i].mode),
						 fresh[i].table, fresh[i].kind, fresh[i].node));
		else
			items[nitems++] = CStringGetTextDatum(
				psprintf("%s on %s on worker %s",
						 GetLockmodeName(DEFAULT_LOCKMETHOD, fresh[i].mode),
						 fresh[i].table, fresh[i].node));
		i = j;
	}
	return PointerGetDatum(construct_array(items, nitems, TEXTOID, -1, false,
										   TYPALIGN_INT));
}
