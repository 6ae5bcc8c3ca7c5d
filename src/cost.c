/*-------------------------------------------------------------------------
 *
 * cost.c
 *	  What a migration's statement will cost, told before it runs: for
 *	  each relation it touches, the lock it takes there, its effect
 *	  (catalog only, a scan of every row, an index build, a rewrite of the
 *	  table, rows written), the relation's size, the sessions in its way
 *	  now, and the safe pattern where it is unsafe.
 *
 * One question per statement kind, answered in one place, as core's
 * tcop/utility.c answers its questions: classify() dispatches on the raw
 * parse tree, and each classify_* function follows what core's command
 * does (ALTER TABLE, in costalter.c: tablecmds.c; indexes: indexcmds.c;
 * CLUSTER and VACUUM FULL: cluster.c; REINDEX; TRUNCATE; domains:
 * typecmds.c).  Every rule is checked against the server by
 * test/t/120_plan_rules.pl: a rewrite changes the table's relfilenode, a
 * scan counts one, an index build adds an index, and the locks are those
 * the statement really holds.  This file then completes each row: its
 * size (relsize.c), the sessions in its way (blockers.c), its advice.
 *
 * Nothing is executed: expressions are parsed and their volatility read,
 * never evaluated, and relations are looked up without a lock (a plan
 * must answer at once while another session holds AccessExclusiveLock on
 * every table it names).  Statements depend on those before them in the
 * set: a table created earlier is empty, one filled earlier has a size
 * only the run will know, a column or constraint changed earlier has a
 * state the catalog does not show yet; CostState (costset.c) keeps what
 * the set did so far, and where the answer depends on it, the effect is
 * "unknown".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/heap.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "commands/tablespace.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_node.h"
#include "parser/parse_type.h"
#include "storage/lock.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "blockers.h"
#include "compat.h"
#include "cost.h"
#include "costalter.h"
#include "costset.h"
#include "relsize.h"
#include "subxact.h"

/*
 * An UPDATE or DELETE of every row is worth a word from this size on: a
 * table of 10 MB holds some hundred thousand narrow rows.
 */
#define BIG_TABLE_BYTES (INT64CONST(10) * 1024 * 1024)

/* How an advice begins. */
typedef enum AdviceHead
{
	HEAD_COST,					/* WHAT VERB SIZE RELATION under LOCK */
	HEAD_BREAKS,				/* WHAT breaks queries ... RELATION */
	HEAD_HOLDS,					/* WHAT holds LOCK on RELATION ... */
	HEAD_PLAIN					/* WHAT on RELATION */
} AdviceHead;

/* The advice of a rule: how it begins, and the safe pattern. */
typedef struct RuleText
{
	AdviceHead	head;
	const char *verb;			/* HEAD_COST: what it does to the relation */
	const char *pattern;
} RuleText;

static const RuleText rule_texts[] = {
	[RULE_VOLATILE_DEFAULT] = {HEAD_COST, "rewrites",
	"add the column without a default, backfill it in batches, then SET DEFAULT"},
	[RULE_GENERATED_STORED] = {HEAD_COST, "rewrites",
	"add a plain column, fill it in batches (and for new rows from a trigger), or compute the value in a view"},
	[RULE_AUTO_INCREMENT] = {HEAD_COST, "rewrites",
	"add a plain integer column, SET DEFAULT nextval() of a sequence for new rows, then fill the existing rows in batches"},
	[RULE_DOMAIN_COLUMN] = {HEAD_COST, "rewrites",
	"add the column of the domain's base type, backfill it, and check the values with a CHECK constraint added NOT VALID and validated later"},
	[RULE_REQUIRED_COLUMN] = {HEAD_COST, "checks every row of",
	"give the column a constant default (stored once, nothing rewritten), or add it nullable, backfill it, then set NOT NULL the safe way; as written it fails on any row"},
	[RULE_JSON_COLUMN] = {HEAD_PLAIN, NULL,
	"use jsonb, which has the equality operator that json lacks (SELECT DISTINCT, UNION and GROUP BY over rows with a json column fail)"},
	[RULE_TYPE_CHANGE] = {HEAD_COST, "rewrites",
	"add a column of the new type, write to both, backfill it in batches, move the reads over, then drop the old column"},
	[RULE_TYPE_CHANGE_CHECKS] = {HEAD_COST, "reads every row of",
	"drop the CHECK constraints on the column first (they are checked again on every row), add them back NOT VALID, then VALIDATE CONSTRAINT in a later migration"},
	[RULE_SET_EXPRESSION] = {HEAD_COST, "rewrites",
	"add a new generated column, move the reads over, then drop the old one"},
	[RULE_SET_NOT_NULL] = {HEAD_COST, "reads every row of",
	"add CHECK (column IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT in a later migration (it blocks no reads or writes), then SET NOT NULL, which uses the constraint and reads nothing, and drop the CHECK"},
	[RULE_CHECK] = {HEAD_COST, "reads every row of",
	"add the constraint NOT VALID, then VALIDATE CONSTRAINT in a later migration, which takes ShareUpdateExclusiveLock and blocks no reads or writes"},
	[RULE_FOREIGN_KEY] = {HEAD_COST, "reads every row of",
	"add the foreign key NOT VALID, then VALIDATE CONSTRAINT in a later migration, which blocks no reads or writes of either table"},
	[RULE_VALIDATE_SAME_FILE] = {HEAD_PLAIN, NULL,
	"validate it in a later migration; the same file added it NOT VALID, and that statement's lock (ShareRowExclusiveLock for a foreign key, AccessExclusiveLock for a CHECK) is held until the file ends, so the validation reads every row under it"},
	[RULE_UNIQUE] = {HEAD_COST, "builds an index of",
	"CREATE UNIQUE INDEX CONCURRENTLY (CALL morgenmigrate.migrate_run runs it), then ADD CONSTRAINT ... UNIQUE or PRIMARY KEY USING INDEX"},
	[RULE_EXCLUSION] = {HEAD_COST, "builds an index of",
	"add it while the table is small, or when the table may be blocked; an exclusion constraint cannot be added concurrently"},
	[RULE_INDEX] = {HEAD_COST, "builds an index of",
	"CREATE INDEX CONCURRENTLY, which CALL morgenmigrate.migrate_run runs outside a transaction"},
	[RULE_DROP_INDEX] = {HEAD_HOLDS, NULL,
	"DROP INDEX CONCURRENTLY, which CALL morgenmigrate.migrate_run runs outside a transaction, waits without blocking anyone"},
	[RULE_REINDEX] = {HEAD_COST, "rebuilds the indexes of",
	"REINDEX ... CONCURRENTLY, which CALL morgenmigrate.migrate_run runs outside a transaction"},
	[RULE_PERSISTENCE] = {HEAD_COST, "rewrites",
	"do it while the table is small, or when the table may be blocked; there is no online way"},
	[RULE_TABLESPACE] = {HEAD_COST, "copies",
	"move the table when it may be blocked, or with pg_repack --tablespace outside the migration set"},
	[RULE_ACCESS_METHOD] = {HEAD_COST, "rewrites",
	"do it while the table is small, or when the table may be blocked; there is no online way"},
	[RULE_VACUUM_FULL] = {HEAD_COST, "rewrites",
	"run pg_repack or pg_squeeze outside the migration set, which rewrite a table without blocking its reads and writes"},
	[RULE_CLUSTER] = {HEAD_COST, "rewrites",
	"run pg_repack --order-by or pg_squeeze outside the migration set, which cluster a table without blocking its reads and writes"},
	[RULE_REFRESH] = {HEAD_COST, "rewrites",
	"REFRESH MATERIALIZED VIEW CONCURRENTLY (it needs a unique index on the view) lets reads go on"},
	[RULE_ATTACH_PARTITION] = {HEAD_COST, "reads every row of",
	"add a CHECK constraint matching the partition bound NOT VALID, VALIDATE it in a later migration, then ATTACH PARTITION, which then reads nothing"},
	[RULE_DETACH_PARTITION] = {HEAD_HOLDS, NULL,
	"DETACH PARTITION ... CONCURRENTLY, which CALL morgenmigrate.migrate_run runs outside a transaction, takes ShareUpdateExclusiveLock only"},
	[RULE_DEFAULT_PARTITION] = {HEAD_COST, "reads every row of",
	"keep the default partition empty, or create the partition as a table of its own and ATTACH it the safe way; the default partition is read for rows of the new one"},
	[RULE_DOMAIN_CONSTRAINT] = {HEAD_COST, "reads every row of",
	"add the constraint NOT VALID, then ALTER DOMAIN ... VALIDATE CONSTRAINT in a later migration"},
	[RULE_TRUNCATE_CASCADE] = {HEAD_PLAIN, NULL,
	"name the tables to empty; CASCADE also empties every table that references it"},
	[RULE_LOCK_TABLE] = {HEAD_HOLDS, NULL,
	"lock as late and as weakly as the migration allows; every query of the table waits for it"},
	[RULE_UPDATE_ALL] = {HEAD_COST, "updates and locks every row of",
	"update in batches, a range of keys per migration (CALL morgenmigrate.migrate_run commits each), so that no row stays locked until the migration ends"},
	[RULE_DELETE_ALL] = {HEAD_COST, "deletes and locks every row of",
	"delete in batches, or TRUNCATE when nothing is to stay"},
	[RULE_RENAME_TABLE] = {HEAD_BREAKS, NULL,
	"create the new table (or a view under the new name), write to both, move the reads over, then drop the old one"},
	[RULE_RENAME_COLUMN] = {HEAD_BREAKS, NULL,
	"add a column under the new name, write to both, backfill it, move the reads over, then drop the old column"},
	[RULE_RENAME_SCHEMA] = {HEAD_BREAKS, NULL,
	"create the new schema, move the objects and the application over, then drop the old one"},
	[RULE_RENAME_ENUM_VALUE] = {HEAD_BREAKS, NULL,
	"add the new value, move the rows and the application over, and keep the old value"},
	[RULE_DROP_TABLE] = {HEAD_BREAKS, NULL,
	"stop using it in the application and deploy that first, then drop it"},
	[RULE_DROP_COLUMN] = {HEAD_BREAKS, NULL,
	"stop using the column in the application (ORMs cache the columns) and deploy that first, then drop it"},
	[RULE_DROP_NOT_NULL] = {HEAD_BREAKS, NULL,
	"make the application handle NULL first; code that relies on the column never being NULL may fail"},
};

/* A relation's size, kept for the call: its own, and its tree's. */
typedef struct SizeEntry
{
	Oid			relid;			/* the key */
	bool		has_own;
	int64		own;			/* pg_total_relation_size's */
	bool		has_tree;
	int64		tree;			/* with its inheritance descendants */
} SizeEntry;

/*
 * The statements that change the catalog only, under a lock on the one
 * relation they name (where the parse tree keeps it, and the lock).
 */
typedef struct CatalogLock
{
	NodeTag		tag;
	size_t		relation;		/* offset of the RangeVar in the node */
	LOCKMODE	mode;
} CatalogLock;

static const CatalogLock catalog_locks[] = {
	{T_CreateTrigStmt, offsetof(CreateTrigStmt, relation), ShareRowExclusiveLock},
	{T_CreatePolicyStmt, offsetof(CreatePolicyStmt, table), AccessExclusiveLock},
	{T_AlterPolicyStmt, offsetof(AlterPolicyStmt, table), AccessExclusiveLock},
	{T_RuleStmt, offsetof(RuleStmt, relation), AccessExclusiveLock},
};

static bool try_classify(CostState *st, Node *node, bool fallback,
						 List **rows);
static List *unclassified(CostState *st, Node *node);
static List *classify(CostState *st, Node *node);
static void classify_rename(CostState *st, RenameStmt *stmt, List **rows);
static void classify_drop(CostState *st, DropStmt *stmt, List **rows);
static void classify_relation_objects(CostState *st, List *objects,
									  LOCKMODE mode, List **rows);
static List *foreign_keys_of(Oid relid, bool referenced);
static void classify_create(CostState *st, CreateStmt *stmt, List **rows);
static void classify_index(CostState *st, IndexStmt *stmt, List **rows);
static void classify_reindex(CostState *st, ReindexStmt *stmt, List **rows);
static void classify_vacuum(CostState *st, VacuumStmt *stmt, List **rows);
static void classify_truncate(CostState *st, TruncateStmt *stmt,
							  List **rows);
static void classify_dml(CostState *st, RangeVar *rv, Node *where,
						 CostRule rule, const char *what, List **rows);
static void classify_alter_domain(CostState *st, AlterDomainStmt *stmt,
								  List **rows);
static List *relations_of_domain(Oid typid);
static int64 tree_bytes(CostState *st, Oid relid, bool recurse);
static List *tree_relids(Oid relid, bool recurse);
static char *advice_of(const CostRow *row, const CostAdvice *adv);
static bool blocks_writes(LOCKMODE mode);

/*
 * Begins classifying a set of migrations, in run order.  With
 * with_blockers, the locks of the server are read now, once, to name the
 * sessions in each statement's way.
 */
CostState *
cost_begin(bool with_blockers)
{
	CostState  *st = palloc0(sizeof(CostState));
	HASHCTL		ctl;

	st->cxt = AllocSetContextCreate(CurrentMemoryContext,
									"morgenmigrate cost",
									ALLOCSET_DEFAULT_SIZES);
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(SizeEntry);
	ctl.hcxt = st->cxt;
	st->sizes = hash_create("morgenmigrate relation sizes", 64, &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	costset_begin(st);
	if (with_blockers)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(st->cxt);

		st->locks = blockers_snapshot();
		MemoryContextSwitchTo(oldcxt);
	}
	return st;
}

/* Says that the statements that follow are those of another file. */
void
cost_begin_file(CostState *st, const MigrationScript *script)
{
	list_free_deep(st->not_valid_here);
	st->not_valid_here = NIL;
}

/*
 * What one statement costs: a CostRow per relation it touches (one with
 * ORIGIN_NONE when it touches none), in the current memory context.  The
 * statement's parse tree must be there (MigrationScript.keep_trees).  A
 * statement that cannot be classified (a name the catalog does not know,
 * an expression that does not parse against it: a function or type an
 * earlier statement of the set creates) is "unknown", on the relation it
 * alters when that can be told: a plan never fails on what the run would
 * report.  Cancels pass.
 */
List *
cost_statement(CostState *st, const MigrationScript *script,
			   const MigrationStatement *stmt)
{
	List	   *rows;
	RelRef		none;
	CostRow    *row;

	Assert(stmt->parsetree != NULL);
	if (try_classify(st, stmt->parsetree, false, &rows) ||
		try_classify(st, stmt->parsetree, true, &rows))
		return rows;
	none = costset_no_relation();
	rows = NIL;
	row = costset_add_row(&rows, &none, NoLock, COST_UNKNOWN);
	row->bytes = -1;
	return rows;
}

/*
 * Classifies a statement (or, with fallback, says only which relation it
 * alters, and that its effect is unknown) and completes its rows, in a
 * subtransaction of its own; false, with nothing changed, if that fails.
 */
static bool
try_classify(CostState *st, Node *node, bool fallback, List **rows)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;

	*rows = NIL;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		ListCell   *lc;

		*rows = fallback ? unclassified(st, node) : classify(st, node);
		foreach(lc, *rows)
			cost_finish_row(st, (CostRow *) lfirst(lc));
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		FreeErrorData(subxact_catch_failure(cxt, owner));
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/*
 * The rows of a statement that could not be classified: the relation an
 * ALTER TABLE alters (with core's lock for its subcommands) or an index is
 * built on, its effect unknown; none for other statements.
 */
static List *
unclassified(CostState *st, Node *node)
{
	List	   *rows = NIL;
	RelRef		rel;

	if (IsA(node, AlterTableStmt))
	{
		rel = costset_resolve(st, ((AlterTableStmt *) node)->relation);
		costset_add_row(&rows, &rel,
						AlterTableGetLockLevel(((AlterTableStmt *) node)->cmds),
						COST_UNKNOWN);
	}
	else if (IsA(node, IndexStmt))
	{
		rel = costset_resolve(st, ((IndexStmt *) node)->relation);
		costset_add_row(&rows, &rel, ((IndexStmt *) node)->concurrent ?
						ShareUpdateExclusiveLock : ShareLock, COST_UNKNOWN);
	}
	return rows;
}

/*
 * The rows of one statement: dispatches on its kind.  Statements that
 * touch no relation change the catalog only; those that can do anything
 * (a function call, a DO block) are unknown.
 */
static List *
classify(CostState *st, Node *node)
{
	List	   *rows = NIL;
	RelRef		none = costset_no_relation();

	switch (nodeTag(node))
	{
		case T_AlterTableStmt:
			costalter_classify(st, (AlterTableStmt *) node, &rows);
			break;
		case T_RenameStmt:
			classify_rename(st, (RenameStmt *) node, &rows);
			break;
		case T_AlterObjectSchemaStmt:
			{
				AlterObjectSchemaStmt *as = (AlterObjectSchemaStmt *) node;

				if (as->relation != NULL)
				{
					RelRef		rel = costset_resolve(st, as->relation);

					costset_add_row(&rows, &rel, AccessExclusiveLock, COST_CATALOG);
					costset_note_name(st, as->relation->schemaname,
									  as->relation->relname, ORIGIN_UNKNOWN,
									  InvalidOid);
					costset_note_name(st, as->newschema, as->relation->relname,
									  rel.origin, rel.relid);
				}
				break;
			}
		case T_DropStmt:
			classify_drop(st, (DropStmt *) node, &rows);
			break;
		case T_CreateStmt:
			classify_create(st, (CreateStmt *) node, &rows);
			break;
		case T_CreateTableAsStmt:
			{
				CreateTableAsStmt *ctas = (CreateTableAsStmt *) node;
				RelRef		rel = costset_no_relation();

				costset_note_created(st, ctas->into->rel, !ctas->into->skipData);
				costset_add_row(&rows, &rel, NoLock,
								ctas->into->skipData ? COST_CATALOG : COST_DATA);
				break;
			}
		case T_ViewStmt:
			{
				ViewStmt   *vs = (ViewStmt *) node;
				RelRef		rel = costset_resolve(st, vs->view);

				/* OR REPLACE of an existing view locks it; else it is new */
				if (vs->replace && rel.origin != ORIGIN_UNKNOWN)
					costset_add_row(&rows, &rel, AccessExclusiveLock, COST_CATALOG);
				else
				{
					costset_note_created(st, vs->view, false);
					costset_add_row(&rows, &none, NoLock, COST_CATALOG);
				}
				break;
			}
		case T_CreateSeqStmt:
			costset_note_created(st, ((CreateSeqStmt *) node)->sequence, false);
			costset_add_row(&rows, &none, NoLock, COST_CATALOG);
			break;
		case T_IndexStmt:
			classify_index(st, (IndexStmt *) node, &rows);
			break;
		case T_ReindexStmt:
			classify_reindex(st, (ReindexStmt *) node, &rows);
			break;
		case T_ClusterStmt:
			{
				ClusterStmt *cs = (ClusterStmt *) node;

				if (cs->relation != NULL)
				{
					RelRef		rel = costset_resolve(st, cs->relation);
					CostRow    *row = costset_add_row(&rows, &rel, AccessExclusiveLock,
													  COST_REWRITE);

					costset_add_rule(row, RULE_CLUSTER, pstrdup("CLUSTER"));
				}
				else
					costset_add_row(&rows, &none, AccessExclusiveLock, COST_REWRITE);
				break;
			}
		case T_VacuumStmt:
			classify_vacuum(st, (VacuumStmt *) node, &rows);
			break;
		case T_TruncateStmt:
			classify_truncate(st, (TruncateStmt *) node, &rows);
			break;
		case T_LockStmt:
			{
				LockStmt   *ls = (LockStmt *) node;
				ListCell   *lc;

				foreach(lc, ls->relations)
				{
					RangeVar   *rv = lfirst_node(RangeVar, lc);
					RelRef		rel = costset_resolve(st, rv);
					CostRow    *row = costset_add_row(&rows, &rel, ls->mode,
													  COST_CATALOG);

					row->recurse = rv->inh;
					if (blocks_writes(ls->mode))
						costset_add_rule(row, RULE_LOCK_TABLE,
										 psprintf("LOCK TABLE ... IN %s MODE",
												  GetLockmodeName(DEFAULT_LOCKMETHOD,
																  ls->mode)));
				}
				break;
			}
		case T_RefreshMatViewStmt:
			{
				RefreshMatViewStmt *rs = (RefreshMatViewStmt *) node;
				RelRef		rel = costset_resolve(st, rs->relation);
				CostRow    *row;

				if (rs->concurrent)
					costset_add_row(&rows, &rel, ExclusiveLock, COST_DATA);
				else
				{
					row = costset_add_row(&rows, &rel, AccessExclusiveLock,
										  rs->skipData ? COST_CATALOG : COST_REWRITE);
					if (!rs->skipData)
						costset_add_rule(row, RULE_REFRESH,
										 pstrdup("REFRESH MATERIALIZED VIEW"));
				}
				break;
			}
		case T_UpdateStmt:
			classify_dml(st, ((UpdateStmt *) node)->relation,
						 ((UpdateStmt *) node)->whereClause, RULE_UPDATE_ALL,
						 "UPDATE without WHERE", &rows);
			break;
		case T_DeleteStmt:
			classify_dml(st, ((DeleteStmt *) node)->relation,
						 ((DeleteStmt *) node)->whereClause, RULE_DELETE_ALL,
						 "DELETE without WHERE", &rows);
			break;
		case T_InsertStmt:
			classify_dml(st, ((InsertStmt *) node)->relation, NULL, -1, NULL,
						 &rows);
			break;
		case T_MergeStmt:
			classify_dml(st, ((MergeStmt *) node)->relation, NULL, -1, NULL,
						 &rows);
			break;
		case T_CopyStmt:
			{
				CopyStmt   *cs = (CopyStmt *) node;

				if (cs->relation == NULL)
					costset_add_row(&rows, &none, NoLock, COST_UNKNOWN);
				else if (cs->is_from)
					classify_dml(st, cs->relation, NULL, -1, NULL, &rows);
				else
				{
					RelRef		rel = costset_resolve(st, cs->relation);

					costset_add_row(&rows, &rel, AccessShareLock, COST_SCAN);
				}
				break;
			}
		case T_CreateStatsStmt:
			{
				CreateStatsStmt *cs = (CreateStatsStmt *) node;

				if (list_length(cs->relations) == 1 &&
					IsA(linitial(cs->relations), RangeVar))
				{
					RelRef		rel = costset_resolve(st, linitial_node(RangeVar, cs->relations));

					costset_add_row(&rows, &rel, ShareUpdateExclusiveLock,
									COST_CATALOG);
				}
				else
					costset_add_row(&rows, &none, NoLock, COST_CATALOG);
				break;
			}
		case T_CommentStmt:
			{
				CommentStmt *cs = (CommentStmt *) node;

				if (cs->objtype == OBJECT_TABLE || cs->objtype == OBJECT_VIEW ||
					cs->objtype == OBJECT_MATVIEW ||
					cs->objtype == OBJECT_FOREIGN_TABLE ||
					cs->objtype == OBJECT_INDEX)
					classify_relation_objects(st, list_make1(cs->object),
											  ShareUpdateExclusiveLock, &rows);
				else if (cs->objtype == OBJECT_COLUMN)
				{
					List	   *names = castNode(List, cs->object);

					classify_relation_objects(st,
											  list_make1(list_truncate(list_copy(names),
																	   list_length(names) - 1)),
											  ShareUpdateExclusiveLock, &rows);
				}
				else
					costset_add_row(&rows, &none, NoLock, COST_CATALOG);
				break;
			}
		case T_AlterDomainStmt:
			classify_alter_domain(st, (AlterDomainStmt *) node, &rows);
			break;
		case T_AlterEnumStmt:
			{
				AlterEnumStmt *es = (AlterEnumStmt *) node;
				CostRow    *row = costset_add_row(&rows, &none, NoLock, COST_CATALOG);

				if (es->oldVal != NULL)
					costset_add_rule(row, RULE_RENAME_ENUM_VALUE,
									 psprintf("RENAME VALUE '%s' TO '%s'",
											  es->oldVal, es->newVal));
				break;
			}

			/* whatever they run cannot be told from here */
		case T_SelectStmt:
		case T_DoStmt:
		case T_CallStmt:
		case T_ExecuteStmt:
		case T_ExplainStmt:
		case T_CreateExtensionStmt:
		case T_AlterExtensionStmt:
			costset_add_row(&rows, &none, NoLock, COST_UNKNOWN);
			break;

		default:
			for (int i = 0; i < lengthof(catalog_locks); i++)
			{
				if (nodeTag(node) == catalog_locks[i].tag)
				{
					RangeVar   *rv = *(RangeVar **) ((char *) node +
													 catalog_locks[i].relation);
					RelRef		rel = costset_resolve(st, rv);

					costset_add_row(&rows, &rel, catalog_locks[i].mode,
											COST_CATALOG);
					return rows;
				}
			}
			costset_add_row(&rows, &none, NoLock, COST_CATALOG);
			break;
	}
	return rows;
}

/*
 * RENAME: of a table, view or column, catalog only under
 * AccessExclusiveLock, and it breaks the running application's queries
 * that name it; of an index, ShareUpdateExclusiveLock; of a schema or a
 * type, no relation.
 */
static void
classify_rename(CostState *st, RenameStmt *stmt, List **rows)
{
	RelRef		none = costset_no_relation();
	RelRef		rel;
	CostRow    *row;

	switch (stmt->renameType)
	{
		case OBJECT_TABLE:
		case OBJECT_VIEW:
		case OBJECT_MATVIEW:
		case OBJECT_FOREIGN_TABLE:
		case OBJECT_SEQUENCE:
		case OBJECT_INDEX:
			rel = costset_resolve(st, stmt->relation);
			row = costset_add_row(rows, &rel,
								  stmt->renameType == OBJECT_INDEX ?
								  ShareUpdateExclusiveLock : AccessExclusiveLock,
								  COST_CATALOG);
			if (stmt->renameType != OBJECT_INDEX &&
				stmt->renameType != OBJECT_SEQUENCE)
				costset_add_rule(row, RULE_RENAME_TABLE,
								 psprintf("RENAME TO %s", quote_identifier(stmt->newname)));
			costset_note_name(st, stmt->relation->schemaname, stmt->relation->relname,
							  ORIGIN_UNKNOWN, InvalidOid);
			costset_note_name(st, stmt->relation->schemaname, stmt->newname,
							  rel.origin, rel.relid);
			break;
		case OBJECT_COLUMN:
			rel = costset_resolve(st, stmt->relation);
			row = costset_add_row(rows, &rel, AccessExclusiveLock, COST_CATALOG);
			costset_add_rule(row, RULE_RENAME_COLUMN,
							 psprintf("RENAME COLUMN %s TO %s",
									  quote_identifier(stmt->subname),
									  quote_identifier(stmt->newname)));
			costset_note_change(st, &st->columns,
								rel.origin == ORIGIN_EXISTING ? rel.relid : InvalidOid,
								stmt->subname);
			costset_note_change(st, &st->columns,
								rel.origin == ORIGIN_EXISTING ? rel.relid : InvalidOid,
								stmt->newname);
			break;
		case OBJECT_TABCONSTRAINT:
			rel = costset_resolve(st, stmt->relation);
			costset_add_row(rows, &rel, AccessExclusiveLock, COST_CATALOG);
			costset_note_change(st, &st->constraints,
								rel.origin == ORIGIN_EXISTING ? rel.relid : InvalidOid,
								NULL);
			break;
		case OBJECT_SCHEMA:
			row = costset_add_row(rows, &none, NoLock, COST_CATALOG);
			costset_add_rule(row, RULE_RENAME_SCHEMA,
							 psprintf("ALTER SCHEMA %s RENAME TO %s",
									  quote_identifier(stmt->subname),
									  quote_identifier(stmt->newname)));
			break;
		default:
			costset_add_row(rows, &none, NoLock, COST_CATALOG);
			break;
	}
}

/*
 * DROP: a table, view or sequence under AccessExclusiveLock, with the
 * tables its foreign keys reference (their triggers go too) and, for a
 * partition, its parent and the default partition; an index locks its
 * table AccessExclusive, but CONCURRENTLY; a trigger, policy or rule its
 * table.  Dropping a table or column in use breaks the running
 * application.
 */
static void
classify_drop(CostState *st, DropStmt *stmt, List **rows)
{
	RelRef		none = costset_no_relation();
	ListCell   *lc;

	switch (stmt->removeType)
	{
		case OBJECT_TABLE:
		case OBJECT_VIEW:
		case OBJECT_MATVIEW:
		case OBJECT_FOREIGN_TABLE:
		case OBJECT_SEQUENCE:
			foreach(lc, stmt->objects)
			{
				RangeVar   *rv = makeRangeVarFromNameList(castNode(List, lfirst(lc)));
				RelRef		rel = costset_resolve(st, rv);
				CostRow    *row;
				ListCell   *fk;

				if (rel.origin == ORIGIN_UNKNOWN && stmt->missing_ok)
					rel = costset_no_relation();	/* IF EXISTS of nothing */
				row = costset_add_row(rows, &rel,
									  rel.origin == ORIGIN_NONE ? NoLock :
									  AccessExclusiveLock, COST_CATALOG);

				if (stmt->removeType == OBJECT_TABLE && rel.origin != ORIGIN_NONE)
					costset_add_rule(row, RULE_DROP_TABLE, pstrdup("DROP TABLE"));
				if (rel.origin == ORIGIN_EXISTING)
				{
					Oid			parent = InvalidOid;

					foreach(fk, foreign_keys_of(rel.relid, false))
					{
						RelRef		pk = costset_resolve_oid(lfirst_oid(fk));

						costset_add_row(rows, &pk, AccessExclusiveLock, COST_CATALOG);
					}
					if (get_rel_relispartition(rel.relid))
						parent = get_partition_parent(rel.relid, true);
					if (OidIsValid(parent))
					{
						RelRef		p = costset_resolve_oid(parent);
						Oid			defpart = get_default_partition_oid(parent);

						costset_add_row(rows, &p, AccessExclusiveLock, COST_CATALOG);
						if (OidIsValid(defpart) && defpart != rel.relid)
						{
							RelRef		d = costset_resolve_oid(defpart);

							costset_add_row(rows, &d, AccessExclusiveLock, COST_CATALOG);
						}
					}
				}
				costset_note_name(st, rv->schemaname, rv->relname, ORIGIN_UNKNOWN,
								  InvalidOid);
			}
			break;
		case OBJECT_INDEX:
			foreach(lc, stmt->objects)
			{
				RangeVar   *rv = makeRangeVarFromNameList(castNode(List, lfirst(lc)));
				RelRef		index = costset_resolve(st, rv);
				RelRef		table = index;
				CostRow    *row;

				if (index.origin == ORIGIN_EXISTING)
					table = costset_resolve_oid(IndexGetRelation(index.relid, false));
				else if (OidIsValid(index.table_relid))
					table = costset_resolve_oid(index.table_relid);
				else if (index.origin == ORIGIN_UNKNOWN && stmt->missing_ok)
					table = costset_no_relation();	/* IF EXISTS of nothing */
				row = costset_add_row(rows, &table,
									  table.origin == ORIGIN_NONE ? NoLock :
									  stmt->concurrent ? ShareUpdateExclusiveLock :
									  AccessExclusiveLock, COST_CATALOG);
				if (!stmt->concurrent && table.origin != ORIGIN_NONE)
					costset_add_rule(row, RULE_DROP_INDEX,
									 psprintf("DROP INDEX %s", index.name));
				costset_note_name(st, rv->schemaname, rv->relname, ORIGIN_UNKNOWN,
								  InvalidOid);
			}
			break;
		case OBJECT_TRIGGER:
		case OBJECT_POLICY:
		case OBJECT_RULE:
			foreach(lc, stmt->objects)
			{
				List	   *names = castNode(List, lfirst(lc));

				classify_relation_objects(st,
										  list_make1(list_truncate(list_copy(names),
																   list_length(names) - 1)),
										  AccessExclusiveLock, rows);
			}
			break;
		default:
			costset_add_row(rows, &none, NoLock, COST_CATALOG);
			break;
	}
}

/* Rows for relations named by qualified name lists, each with mode. */
static void
classify_relation_objects(CostState *st, List *objects, LOCKMODE mode,
						  List **rows)
{
	ListCell   *lc;

	foreach(lc, objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList(castNode(List, lfirst(lc)));
		RelRef		rel = costset_resolve(st, rv);

		costset_add_row(rows, &rel, mode, COST_CATALOG);
	}
}

/*
 * The tables a relation's foreign keys reference (referenced = false), or
 * those whose foreign keys reference it (true), without itself.
 */
static List *
foreign_keys_of(Oid relid, bool referenced)
{
	List	   *result = NIL;

	if (referenced)
	{
		ListCell   *lc;

		foreach(lc, heap_truncate_find_FKs(list_make1_oid(relid)))
			if (lfirst_oid(lc) != relid)
				result = list_append_unique_oid(result, lfirst_oid(lc));
	}
	else
	{
		ListCell   *lc;

		foreach(lc, costset_constraints_of(relid))
		{
			Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT((HeapTuple) lfirst(lc));

			if (con->contype == CONSTRAINT_FOREIGN && con->confrelid != relid)
				result = list_append_unique_oid(result, con->confrelid);
		}
	}
	return result;
}

/*
 * CREATE TABLE: a new relation, which nobody else can see; its foreign
 * keys lock the referenced tables ShareRowExclusive (nothing to check: it
 * is empty); PARTITION OF locks the parent AccessExclusive and reads the
 * default partition for rows of the new bound; INHERITS locks the
 * parents ShareUpdateExclusive.
 */
static void
classify_create(CostState *st, CreateStmt *stmt, List **rows)
{
	RelRef		none = costset_no_relation();
	ListCell   *lc;

	if (stmt->if_not_exists && RangeVarGetRelid(stmt->relation, NoLock, true))
	{
		costset_add_row(rows, &none, NoLock, COST_CATALOG);
		return;
	}
	costset_add_row(rows, &none, NoLock, COST_CATALOG);
	foreach(lc, stmt->tableElts)
	{
		Node	   *elt = lfirst(lc);
		List	   *cons = IsA(elt, ColumnDef) ? ((ColumnDef *) elt)->constraints :
			IsA(elt, Constraint) ? list_make1(elt) : NIL;
		ListCell   *c;

		foreach(c, cons)
		{
			Constraint *con = lfirst_node(Constraint, c);

			if (con->contype == CONSTR_FOREIGN)
			{
				RelRef		pk = costset_resolve(st, con->pktable);

				costset_add_row(rows, &pk, ShareRowExclusiveLock, COST_CATALOG);
			}
		}
	}
	foreach(lc, stmt->constraints)
	{
		Constraint *con = lfirst_node(Constraint, lc);

		if (con->contype == CONSTR_FOREIGN)
		{
			RelRef		pk = costset_resolve(st, con->pktable);

			costset_add_row(rows, &pk, ShareRowExclusiveLock, COST_CATALOG);
		}
	}
	foreach(lc, stmt->inhRelations)
	{
		RelRef		parent = costset_resolve(st, lfirst_node(RangeVar, lc));

		if (stmt->partbound == NULL)
			costset_add_row(rows, &parent, ShareUpdateExclusiveLock, COST_CATALOG);
		else
		{
			Oid			defpart = parent.origin == ORIGIN_EXISTING ?
				get_default_partition_oid(parent.relid) : InvalidOid;

			costset_add_row(rows, &parent, AccessExclusiveLock, COST_CATALOG);
			if (OidIsValid(defpart) && !stmt->partbound->is_default)
			{
				RelRef		def = costset_resolve_oid(defpart);
				CostRow    *row = costset_add_row(rows, &def, AccessExclusiveLock,
												  COST_SCAN);

				costset_add_rule(row, RULE_DEFAULT_PARTITION,
								 psprintf("CREATE TABLE %s PARTITION OF %s",
										  quote_identifier(stmt->relation->relname),
										  parent.name));
			}
		}
	}
	costset_note_created(st, stmt->relation, false);
}

/*
 * CREATE INDEX: builds it under ShareLock (writes wait) or, CONCURRENTLY,
 * under ShareUpdateExclusiveLock (nothing waits); of a partitioned table,
 * on every partition.  An index that exists is skipped with IF NOT
 * EXISTS.
 */
static void
classify_index(CostState *st, IndexStmt *stmt, List **rows)
{
	RelRef		rel = costset_resolve(st, stmt->relation);
	RelRef		none = costset_no_relation();
	CostRow    *row;

	if (stmt->if_not_exists && stmt->idxname != NULL &&
		rel.origin == ORIGIN_EXISTING &&
		OidIsValid(get_relname_relid(stmt->idxname,
									 get_rel_namespace(rel.relid))))
	{
		costset_add_row(rows, &none, NoLock, COST_CATALOG);
		return;
	}
	row = costset_add_row(rows, &rel, stmt->concurrent ? ShareUpdateExclusiveLock :
						  ShareLock, COST_INDEX);
	row->recurse = stmt->relation->inh;
	if (!stmt->concurrent)
		costset_add_rule(row, RULE_INDEX,
						 psprintf("CREATE %sINDEX%s", stmt->unique ? "UNIQUE " : "",
								  stmt->idxname ? psprintf(" %s",
														   quote_identifier(stmt->idxname)) : ""));
	if (stmt->idxname != NULL)
	{
		SetName    *index = costset_note_name(st, stmt->relation->schemaname,
													  stmt->idxname,
													  rel.origin == ORIGIN_EXISTING ||
													  rel.origin == ORIGIN_FILLED ?
													  ORIGIN_FILLED : ORIGIN_CREATED,
													  InvalidOid);

		if (rel.origin == ORIGIN_EXISTING)
			index->table_relid = rel.relid;
	}
}

/*
 * REINDEX: rebuilds under ShareLock on the table (and AccessExclusiveLock
 * on the index, which blocks the reads that would use it), or,
 * CONCURRENTLY, ShareUpdateExclusiveLock.
 */
static void
classify_reindex(CostState *st, ReindexStmt *stmt, List **rows)
{
	bool		concurrent = false;
	RelRef		rel = costset_no_relation();
	CostRow    *row;
	ListCell   *lc;

	foreach(lc, stmt->params)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "concurrently") == 0 && defGetBoolean(opt))
			concurrent = true;
	}
	if (stmt->relation != NULL)
	{
		rel = costset_resolve(st, stmt->relation);
		if (stmt->kind == REINDEX_OBJECT_INDEX && rel.origin == ORIGIN_EXISTING)
			rel = costset_resolve_oid(IndexGetRelation(rel.relid, false));
		else if (stmt->kind == REINDEX_OBJECT_INDEX && OidIsValid(rel.table_relid))
			rel = costset_resolve_oid(rel.table_relid);
	}
	row = costset_add_row(rows, &rel, concurrent ? ShareUpdateExclusiveLock : ShareLock,
						  COST_INDEX);
	if (stmt->relation != NULL && !concurrent)
		costset_add_rule(row, RULE_REINDEX,
						 pstrdup(stmt->kind == REINDEX_OBJECT_INDEX ?
								 "REINDEX INDEX" : "REINDEX TABLE"));
}

/*
 * VACUUM FULL rewrites each table under AccessExclusiveLock; VACUUM reads
 * it under ShareUpdateExclusiveLock; ANALYZE alone reads a sample and
 * writes statistics.
 */
static void
classify_vacuum(CostState *st, VacuumStmt *stmt, List **rows)
{
	bool		full = false;
	bool		vacuum = stmt->is_vacuumcmd;
	LOCKMODE	mode;
	CostEffect	effect;
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "full") == 0 && defGetBoolean(opt))
			full = true;
	}
	full = full && vacuum;
	mode = full ? AccessExclusiveLock : ShareUpdateExclusiveLock;
	effect = full ? COST_REWRITE : vacuum ? COST_SCAN : COST_CATALOG;
	if (stmt->rels == NIL)
	{
		RelRef		none = costset_no_relation();

		costset_add_row(rows, &none, mode, effect);
		return;
	}
	foreach(lc, stmt->rels)
	{
		VacuumRelation *vr = lfirst_node(VacuumRelation, lc);
		RelRef		rel = costset_resolve(st, vr->relation);
		CostRow    *row = costset_add_row(rows, &rel, mode, effect);

		row->recurse = vr->relation->inh;
		if (full)
			costset_add_rule(row, RULE_VACUUM_FULL, pstrdup("VACUUM FULL"));
	}
}

/*
 * TRUNCATE: AccessExclusiveLock, every row goes at once; CASCADE empties
 * the tables that reference them too.
 */
static void
classify_truncate(CostState *st, TruncateStmt *stmt, List **rows)
{
	List	   *relids = NIL;
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		RangeVar   *rv = lfirst_node(RangeVar, lc);
		RelRef		rel = costset_resolve(st, rv);
		CostRow    *row = costset_add_row(rows, &rel, AccessExclusiveLock, COST_DATA);

		row->recurse = rv->inh;
		if (rel.origin == ORIGIN_EXISTING)
			relids = lappend_oid(relids, rel.relid);
	}
	if (stmt->behavior != DROP_CASCADE)
		return;

	/* the referencing tables, and theirs, as ExecuteTruncate finds them */
	for (;;)
	{
		List	   *more = NIL;

		foreach(lc, heap_truncate_find_FKs(relids))
			if (!list_member_oid(relids, lfirst_oid(lc)))
				more = lappend_oid(more, lfirst_oid(lc));
		if (more == NIL)
			break;
		foreach(lc, more)
		{
			RelRef		rel = costset_resolve_oid(lfirst_oid(lc));
			CostRow    *row = costset_add_row(rows, &rel, AccessExclusiveLock,
											  COST_DATA);

			costset_add_rule(row, RULE_TRUNCATE_CASCADE, pstrdup("TRUNCATE ... CASCADE"));
		}
		relids = list_concat(relids, more);
	}
}

/*
 * UPDATE, DELETE, INSERT, MERGE, COPY FROM: RowExclusiveLock, rows written.
 * An UPDATE or DELETE without WHERE locks every row it writes until the
 * migration's transaction ends.  A table the set created is filled now.
 */
static void
classify_dml(CostState *st, RangeVar *rv, Node *where, CostRule rule,
			 const char *what, List **rows)
{
	RelRef		rel = costset_resolve(st, rv);
	CostRow    *row = costset_add_row(rows, &rel, RowExclusiveLock, COST_DATA);

	row->recurse = rv->inh;
	if ((int) rule >= 0 && where == NULL)
	{
		row->every_row_locked = true;
		costset_add_rule(row, rule, pstrdup(what));
	}
	costset_note_filled(st, &rel, rv);
}

/*
 * ALTER DOMAIN: ADD CONSTRAINT (but NOT VALID), SET NOT NULL and VALIDATE
 * CONSTRAINT read every column of the domain's type, each table under
 * ShareLock (validateDomainConstraint in typecmds.c).
 */
static void
classify_alter_domain(CostState *st, AlterDomainStmt *stmt, List **rows)
{
	RelRef		none = costset_no_relation();
	bool		reads;
	Oid			typid;
	ListCell   *lc;
	char	   *what;

	switch (stmt->subtype)
	{
		case 'C':
			reads = !castNode(Constraint, stmt->def)->skip_validation;
			what = pstrdup("ALTER DOMAIN ... ADD CONSTRAINT");
			break;
		case 'O':
			reads = true;
			what = pstrdup("ALTER DOMAIN ... SET NOT NULL");
			break;
		case 'V':
			reads = true;
			what = NULL;
			break;
		default:
			reads = false;
			what = NULL;
			break;
	}
	typid = reads ? LookupTypeNameOid(NULL, makeTypeNameFromNameList(stmt->typeName),
									  true) : InvalidOid;
	if (!OidIsValid(typid))
	{
		costset_add_row(rows, &none, NoLock, reads ? COST_UNKNOWN : COST_CATALOG);
		return;
	}
	foreach(lc, relations_of_domain(typid))
	{
		RelRef		rel = costset_resolve_oid(lfirst_oid(lc));
		CostRow    *row = costset_add_row(rows, &rel, ShareLock, COST_SCAN);

		if (what != NULL)
			costset_add_rule(row, RULE_DOMAIN_CONSTRAINT, what);
	}
	if (*rows == NIL)
		costset_add_row(rows, &none, NoLock, COST_CATALOG);
}

/*
 * The tables with a column of a domain, or of a domain over it, as
 * get_rels_with_domain in typecmds.c finds them through pg_depend.
 */
static List *
relations_of_domain(Oid typid)
{
	Relation	pg_depend = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *result = NIL;
	List	   *domains = NIL;
	ListCell   *lc;

	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(TypeRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(typid));
	scan = systable_beginscan(pg_depend, DependReferenceIndexId, true, NULL,
							  2, key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tuple);

		if (dep->classid == RelationRelationId && dep->objsubid > 0)
		{
			char		relkind = get_rel_relkind(dep->objid);

			if (relkind == RELKIND_RELATION || relkind == RELKIND_MATVIEW)
				result = list_append_unique_oid(result, dep->objid);
		}
		else if (dep->classid == TypeRelationId &&
				 get_typtype(dep->objid) == TYPTYPE_DOMAIN)
			domains = lappend_oid(domains, dep->objid);
	}
	systable_endscan(scan);
	table_close(pg_depend, AccessShareLock);

	foreach(lc, domains)
		result = list_concat_unique_oid(result,
										relations_of_domain(lfirst_oid(lc)));
	return result;
}

/*
 * Completes a row: what its origin makes of its effect (a table created
 * earlier in the set is empty: catalog only; one filled earlier has a
 * size the run will know: unknown), its size, who stands in its way, and
 * its advice.  Completing a completed row again gives the same effect,
 * and the size, the sessions and the advice of now: a kept
 * classification (costcache.c) is completed so on every call.
 */
void
cost_finish_row(CostState *st, CostRow *row)
{
	StringInfoData buf;
	ListCell   *lc;

	switch (row->origin)
	{
		case ORIGIN_EXISTING:
			row->bytes = tree_bytes(st, row->relid, row->recurse);
			if (st->locks != NULL)
				row->blockers = blockers_on_relations(st->locks,
													  tree_relids(row->relid,
																  row->recurse),
													  row->lockmode);
			break;
		case ORIGIN_CREATED:
			if (row->effect == COST_SCAN || row->effect == COST_INDEX ||
				row->effect == COST_REWRITE)
				row->effect = COST_CATALOG;
			row->bytes = 0;
			break;
		case ORIGIN_FILLED:
			if (row->effect == COST_SCAN || row->effect == COST_INDEX ||
				row->effect == COST_REWRITE)
				row->effect = COST_UNKNOWN;
			break;
		case ORIGIN_UNKNOWN:
			/* a relation that is not there: the statement fails, or not */
			row->effect = COST_UNKNOWN;
			break;
		case ORIGIN_NONE:
			break;
	}

	row->advice = NULL;
	if (row->rules == NIL)
		return;					/* most rows: spare the buffer */
	initStringInfo(&buf);
	foreach(lc, row->rules)
	{
		char	   *advice = advice_of(row, (CostAdvice *) lfirst(lc));

		if (advice != NULL)
			appendStringInfo(&buf, "%s%s", buf.len > 0 ? "; " : "", advice);
	}
	row->advice = buf.len > 0 ? buf.data : NULL;
}

/*
 * The size of a relation, with its inheritance children when the
 * statement reaches them, kept for the call.
 */
static int64
tree_bytes(CostState *st, Oid relid, bool recurse)
{
	SizeEntry  *entry;
	bool		found;
	ListCell   *lc;

	recurse = recurse && has_subclass(relid);
	entry = hash_search(st->sizes, &relid, HASH_ENTER, &found);
	if (!found)
		entry->has_own = entry->has_tree = false;
	if (!recurse)
	{
		if (!entry->has_own)
			entry->own = relsize_total(relid);
		entry->has_own = true;
		return entry->own;
	}
	if (!entry->has_tree)
	{
		entry->tree = 0;
		foreach(lc, tree_relids(relid, true))
		{
			int64		bytes = relsize_total(lfirst_oid(lc));

			if (bytes < 0)
			{
				entry->tree = -1;
				break;
			}
			entry->tree += bytes;
		}
		entry->has_tree = true;
	}
	return entry->tree;
}

/* The relation and, when the statement reaches them, its descendants. */
static List *
tree_relids(Oid relid, bool recurse)
{
	if (!recurse || !has_subclass(relid))
		return list_make1_oid(relid);
	return find_all_inheritors(relid, NoLock, NULL);
}

/*
 * The advice of one rule for a row: what is unsafe about the statement
 * and the safe pattern, with the relation's size.  Only for relations that
 * exist, or filled in the set; the breaking rules only for relations the
 * running application can know; an UPDATE or DELETE of every row only on
 * a big table.  NULL when none applies.
 */
static char *
advice_of(const CostRow *row, const CostAdvice *adv)
{
	const RuleText *text = &rule_texts[adv->rule];
	const char *lock = row->lockmode != NoLock ?
		GetLockmodeName(DEFAULT_LOCKMETHOD, row->lockmode) : "no lock";
	char	   *size = row->bytes >= 0 ?
		psprintf("%s ", cost_bytes_text(row->bytes)) : "";

	if (row->origin == ORIGIN_CREATED || row->origin == ORIGIN_UNKNOWN)
		return NULL;
	if (row->origin == ORIGIN_FILLED && text->head != HEAD_COST)
		return NULL;
	if ((adv->rule == RULE_UPDATE_ALL || adv->rule == RULE_DELETE_ALL) &&
		row->bytes < BIG_TABLE_BYTES)
		return NULL;

	switch (text->head)
	{
		case HEAD_COST:
			return psprintf("%s %s %s%s under %s: %s", adv->what, text->verb,
							size, row->relname, lock, text->pattern);
		case HEAD_BREAKS:
			return psprintf("%s breaks the running application's queries that use %s: %s",
							adv->what,
							row->relname ? row->relname : "it",
							text->pattern);
		case HEAD_HOLDS:
			return psprintf("%s holds %s on %s%s until the migration's transaction ends: %s",
							adv->what, lock, size, row->relname, text->pattern);
		case HEAD_PLAIN:
			return psprintf("%s on %s: %s", adv->what,
							row->relname ? row->relname : "it", text->pattern);
	}
	return NULL;
}

/* Tells whether a lock mode blocks writes (it conflicts with an UPDATE's). */
static bool
blocks_writes(LOCKMODE mode)
{
	return mode >= ShareLock;
}

/* The name of an effect, as migrate_plan shows it. */
const char *
cost_effect_name(CostEffect effect)
{
	switch (effect)
	{
		case COST_CATALOG:
			return "catalog";
		case COST_SCAN:
			return "scan";
		case COST_INDEX:
			return "index";
		case COST_REWRITE:
			return "rewrite";
		case COST_DATA:
			return "data";
		case COST_UNKNOWN:
			break;
	}
	return "unknown";
}

/*
 * What other sessions cannot do while the statement runs: by its lock
 * (one that conflicts with AccessShareLock blocks reads, one that
 * conflicts with RowExclusiveLock writes), and an UPDATE or DELETE of
 * every row blocks the writes of every row.  "unknown" for a statement
 * whose effect is unknown and that names no relation it locks (a DO
 * block, a function call, another runner's migration): whatever it runs
 * takes the locks it takes.
 */
const char *
cost_blocks(const CostRow *row)
{
	if (row->effect == COST_UNKNOWN && row->lockmode == NoLock &&
		!row->every_row_locked)
		return "unknown";
	if (row->lockmode == AccessExclusiveLock)
		return "reads and writes";
	if (blocks_writes(row->lockmode) || row->every_row_locked)
		return "writes";
	return "nothing";
}

/*
 * Tells whether morgenmigrate.max_locked_bytes (limit, in bytes) refuses
 * a row: it reads every row (a scan, a rewrite, an index build) of a
 * relation larger than the limit under a lock that blocks writes.
 */
bool
cost_refused(const CostRow *row, int64 limit)
{
	return (row->effect == COST_SCAN || row->effect == COST_REWRITE ||
			row->effect == COST_INDEX) &&
		blocks_writes(row->lockmode) && row->bytes > limit;
}

/* A size for people: "512 bytes", "640 kB", "2.1 GB", "15 GB". */
char *
cost_bytes_text(int64 bytes)
{
	static const char *const units[] = {"kB", "MB", "GB", "TB", "PB"};
	double		value = (double) bytes;
	int			unit = -1;

	if (bytes < 1024)
		return psprintf(INT64_FORMAT " bytes", bytes);
	while (value >= 1024 && unit < (int) lengthof(units) - 1)
	{
		value /= 1024;
		unit++;
	}
	if (value < 10)
		return psprintf("%.1f %s", value, units[unit]);
	return psprintf("%.0f %s", value, units[unit]);
}

/*
 * One line saying what a row of a statement costs, for the dry run:
 * "line 3: rewrite, blocks reads and writes: " and the advice, or, for a
 * statement without advice, "line 5: scan of public.orders (2.1 GB) under
 * ShareUpdateExclusiveLock, blocks nothing".
 */
char *
cost_describe(const CostRow *row, int line)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "line %d: %s", line, cost_effect_name(row->effect));
	if (row->advice != NULL)
	{
		appendStringInfo(&buf, ", blocks %s: %s", cost_blocks(row),
						 row->advice);
		return buf.data;
	}
	if (row->relname != NULL)
		appendStringInfo(&buf, " of %s", row->relname);
	if (row->bytes >= 0 && row->origin != ORIGIN_NONE)
		appendStringInfo(&buf, " (%s)", cost_bytes_text(row->bytes));
	if (row->lockmode != NoLock)
		appendStringInfo(&buf, " under %s",
						 GetLockmodeName(DEFAULT_LOCKMETHOD, row->lockmode));
	appendStringInfo(&buf, ", blocks %s", cost_blocks(row));
	return buf.data;
}
