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
 * does (ALTER TABLE: AlterTableGetLockLevel and ATRewriteTables in
 * commands/tablecmds.c, whose lock levels are asked of core itself;
 * indexes: commands/indexcmds.c; CLUSTER and VACUUM FULL: cluster.c;
 * REINDEX; TRUNCATE; domains: typecmds.c).  Every rule is checked against
 * the server by test/t/120_plan_rules.pl: a rewrite changes the table's
 * relfilenode, a scan counts one, an index build adds an index, and the
 * locks are those the statement really holds.
 *
 * Nothing is executed: expressions are parsed and their volatility read,
 * never evaluated, and relations are looked up without a lock (a plan
 * must answer at once while another session holds AccessExclusiveLock on
 * every table it names).  Statements depend on those before them in the
 * set: a table created earlier is empty, one filled earlier has a size
 * only the run will know, a column or constraint changed earlier has a
 * state the catalog does not show yet; CostState keeps what the set did
 * so far, and where the answer depends on it, the effect is "unknown".
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
#include "relsize.h"
#include "subxact.h"

/*
 * An UPDATE or DELETE of every row is worth a word from this size on: a
 * table of 10 MB holds some hundred thousand narrow rows.
 */
#define BIG_TABLE_BYTES (INT64CONST(10) * 1024 * 1024)

/* The rules: what is unsafe, each with its advice. */
typedef enum CostRule
{
	RULE_VOLATILE_DEFAULT,
	RULE_GENERATED_STORED,
	RULE_AUTO_INCREMENT,
	RULE_DOMAIN_COLUMN,
	RULE_REQUIRED_COLUMN,
	RULE_JSON_COLUMN,
	RULE_TYPE_CHANGE,
	RULE_TYPE_CHANGE_CHECKS,
	RULE_SET_EXPRESSION,
	RULE_SET_NOT_NULL,
	RULE_CHECK,
	RULE_FOREIGN_KEY,
	RULE_VALIDATE_SAME_FILE,
	RULE_UNIQUE,
	RULE_EXCLUSION,
	RULE_INDEX,
	RULE_DROP_INDEX,
	RULE_REINDEX,
	RULE_PERSISTENCE,
	RULE_TABLESPACE,
	RULE_ACCESS_METHOD,
	RULE_VACUUM_FULL,
	RULE_CLUSTER,
	RULE_REFRESH,
	RULE_ATTACH_PARTITION,
	RULE_DETACH_PARTITION,
	RULE_DEFAULT_PARTITION,
	RULE_DOMAIN_CONSTRAINT,
	RULE_TRUNCATE_CASCADE,
	RULE_LOCK_TABLE,
	RULE_UPDATE_ALL,
	RULE_DELETE_ALL,
	RULE_RENAME_TABLE,
	RULE_RENAME_COLUMN,
	RULE_RENAME_SCHEMA,
	RULE_RENAME_ENUM_VALUE,
	RULE_DROP_TABLE,
	RULE_DROP_COLUMN,
	RULE_DROP_NOT_NULL
} CostRule;

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

/* One unsafe thing a statement does to a relation. */
typedef struct CostAdvice
{
	CostRule	rule;
	char	   *what;			/* the statement or subcommand, shown */
} CostAdvice;

/* A relation name the set gave a meaning so far: created, filled, gone. */
typedef struct SetName
{
	char	   *schemaname;		/* as written, or NULL */
	char	   *relname;
	CostOrigin	origin;			/* ORIGIN_UNKNOWN: dropped */
	Oid			relid;			/* ORIGIN_EXISTING: renamed from it */
	Oid			table_relid;	/* an index the set created on an
								 * existing table: the table */
} SetName;

/* A column or constraint the set changed, whose catalog state is stale. */
typedef struct SetChange
{
	Oid			relid;
	char	   *name;			/* the column or constraint; NULL: all of
								 * the relation's constraints */
	char		contype;		/* a constraint the set added: its type */
	CostOrigin	pkorigin;		/* and for a foreign key its referenced
								 * table */
	Oid			pkrelid;
	char	   *pkname;
} SetChange;

/* A relation's size, kept for the call: its own, and its tree's. */
typedef struct SizeEntry
{
	Oid			relid;			/* the key */
	bool		has_own;
	int64		own;			/* pg_total_relation_size's */
	bool		has_tree;
	int64		tree;			/* with its inheritance descendants */
} SizeEntry;

struct CostState
{
	MemoryContext cxt;			/* the state's memory, for the call */
	List	   *names;			/* SetName, newest first */
	List	   *columns;		/* SetChange: columns */
	List	   *constraints;	/* SetChange: constraints */
	List	   *not_valid_here; /* names of constraints this file added NOT
								 * VALID */
	HTAB	   *sizes;			/* relid -> SizeEntry (whole tree) */
	LockData   *locks;			/* the server's locks when planning began */
};

/* A relation as a statement names it, resolved against the set. */
typedef struct RelRef
{
	CostOrigin	origin;
	Oid			relid;
	const char *name;
	Oid			table_relid;	/* see SetName */
} RelRef;

static List *classify(CostState *st, Node *node);
static void classify_alter_table(CostState *st, AlterTableStmt *stmt,
								 List **rows);
static void classify_add_column(CostState *st, RelRef *rel, ColumnDef *def,
								CostRow *row, List **rows);
static void classify_add_constraint(CostState *st, RelRef *rel,
									Constraint *con, CostRow *row,
									List **rows);
static void classify_alter_type(CostState *st, RelRef *rel,
								AlterTableCmd *cmd, CostRow *row);
static void classify_set_not_null(CostState *st, RelRef *rel,
								  const char *column, CostRow *row);
static void classify_validate(CostState *st, RelRef *rel, const char *name,
							  CostRow *row, List **rows);
static void classify_partition_cmd(CostState *st, RelRef *rel,
								   AlterTableCmd *cmd, CostRow *row,
								   List **rows);
static void classify_rename(CostState *st, RenameStmt *stmt, List **rows);
static void classify_drop(CostState *st, DropStmt *stmt, List **rows);
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
static void classify_relation_objects(CostState *st, List *objects,
									  LOCKMODE mode, List **rows);
static CostRow *add_row(List **rows, RelRef *rel, LOCKMODE mode,
						CostEffect effect);
static void add_rule(CostRow *row, CostRule rule, char *what);
static void merge_effect(CostRow *row, CostEffect effect);
static RelRef resolve(CostState *st, RangeVar *rv);
static RelRef resolve_oid(Oid relid);
static RelRef no_relation(void);
static void note_name(CostState *st, const char *schemaname,
					  const char *relname, CostOrigin origin, Oid relid);
static void note_created(CostState *st, RangeVar *rv, bool filled);
static void note_filled(CostState *st, RelRef *rel, RangeVar *rv);
static void note_change(CostState *st, List **list, Oid relid,
						const char *name);
static bool changed(List *list, Oid relid, const char *name);
static const SetChange *added_constraint(CostState *st, Oid relid,
										 const char *name);
static char *column_list_text(List *names);
static bool is_serial_type(TypeName *typname);
static Node *column_default(ColumnDef *def);
static Constraint *column_constraint(ColumnDef *def, ConstrType contype);
static bool default_is_volatile(TypeName *typname, Node *raw,
								const char *colname, char **shown);
static bool type_change_rewrites(Oid relid, AlterTableCmd *cmd,
								 AttrNumber *attnum, bool *known);
static bool change_needs_rewrite(Node *expr, AttrNumber attnum);
static bool column_has_checks(Oid relid, AttrNumber attnum);
static bool not_null_implied(Oid relid, AttrNumber attnum);
static List *foreign_keys_of(Oid relid, bool referenced);
static bool has_valid_checks(Oid relid);
static List *relations_of_domain(Oid typid);
static void finish_row(CostState *st, CostRow *row);
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
 * an expression that does not parse against it) is "unknown": a plan
 * never fails on what the run would report.  Cancels pass.
 */
List *
cost_statement(CostState *st, const MigrationScript *script,
			   const MigrationStatement *stmt)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	List	   *volatile rows = NIL;

	Assert(stmt->parsetree != NULL);

	/* the catalog lookups of one statement, undone alone if they fail */
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		ListCell   *lc;

		rows = classify(st, stmt->parsetree);
		foreach(lc, rows)
			finish_row(st, (CostRow *) lfirst(lc));
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata = subxact_catch(cxt, owner);
		RelRef		none = no_relation();
		CostRow    *row;

		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
		FreeErrorData(edata);
		rows = NIL;
		row = add_row((List **) &rows, &none, NoLock, COST_UNKNOWN);
		row->bytes = -1;
	}
	PG_END_TRY();
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
	RelRef		none = no_relation();

	switch (nodeTag(node))
	{
		case T_AlterTableStmt:
			classify_alter_table(st, (AlterTableStmt *) node, &rows);
			break;
		case T_RenameStmt:
			classify_rename(st, (RenameStmt *) node, &rows);
			break;
		case T_AlterObjectSchemaStmt:
			{
				AlterObjectSchemaStmt *as = (AlterObjectSchemaStmt *) node;

				if (as->relation != NULL)
				{
					RelRef		rel = resolve(st, as->relation);

					add_row(&rows, &rel, AccessExclusiveLock, COST_CATALOG);
					note_name(st, as->relation->schemaname,
							  as->relation->relname, ORIGIN_UNKNOWN,
							  InvalidOid);
					note_name(st, as->newschema, as->relation->relname,
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
				RelRef		rel = no_relation();

				note_created(st, ctas->into->rel, !ctas->into->skipData);
				add_row(&rows, &rel, NoLock,
						ctas->into->skipData ? COST_CATALOG : COST_DATA);
				break;
			}
		case T_ViewStmt:
			{
				ViewStmt   *vs = (ViewStmt *) node;
				RelRef		rel = resolve(st, vs->view);

				/* OR REPLACE of an existing view locks it; else it is new */
				if (vs->replace && rel.origin != ORIGIN_UNKNOWN)
					add_row(&rows, &rel, AccessExclusiveLock, COST_CATALOG);
				else
				{
					note_created(st, vs->view, false);
					add_row(&rows, &none, NoLock, COST_CATALOG);
				}
				break;
			}
		case T_CreateSeqStmt:
			note_created(st, ((CreateSeqStmt *) node)->sequence, false);
			add_row(&rows, &none, NoLock, COST_CATALOG);
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
					RelRef		rel = resolve(st, cs->relation);
					CostRow    *row = add_row(&rows, &rel, AccessExclusiveLock,
											  COST_REWRITE);

					add_rule(row, RULE_CLUSTER, pstrdup("CLUSTER"));
				}
				else
					add_row(&rows, &none, AccessExclusiveLock, COST_REWRITE);
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
					RelRef		rel = resolve(st, rv);
					CostRow    *row = add_row(&rows, &rel, ls->mode,
											  COST_CATALOG);

					row->recurse = rv->inh;
					if (blocks_writes(ls->mode))
						add_rule(row, RULE_LOCK_TABLE,
								 psprintf("LOCK TABLE ... IN %s MODE",
										  GetLockmodeName(DEFAULT_LOCKMETHOD,
														  ls->mode)));
				}
				break;
			}
		case T_RefreshMatViewStmt:
			{
				RefreshMatViewStmt *rs = (RefreshMatViewStmt *) node;
				RelRef		rel = resolve(st, rs->relation);
				CostRow    *row;

				if (rs->concurrent)
					add_row(&rows, &rel, ExclusiveLock, COST_DATA);
				else
				{
					row = add_row(&rows, &rel, AccessExclusiveLock,
								  rs->skipData ? COST_CATALOG : COST_REWRITE);
					if (!rs->skipData)
						add_rule(row, RULE_REFRESH,
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
					add_row(&rows, &none, NoLock, COST_UNKNOWN);
				else if (cs->is_from)
					classify_dml(st, cs->relation, NULL, -1, NULL, &rows);
				else
				{
					RelRef		rel = resolve(st, cs->relation);

					add_row(&rows, &rel, AccessShareLock, COST_SCAN);
				}
				break;
			}
		case T_CreateTrigStmt:
			{
				RelRef		rel = resolve(st, ((CreateTrigStmt *) node)->relation);

				add_row(&rows, &rel, ShareRowExclusiveLock, COST_CATALOG);
				break;
			}
		case T_CreatePolicyStmt:
			{
				RelRef		rel = resolve(st, ((CreatePolicyStmt *) node)->table);

				add_row(&rows, &rel, AccessExclusiveLock, COST_CATALOG);
				break;
			}
		case T_AlterPolicyStmt:
			{
				RelRef		rel = resolve(st, ((AlterPolicyStmt *) node)->table);

				add_row(&rows, &rel, AccessExclusiveLock, COST_CATALOG);
				break;
			}
		case T_RuleStmt:
			{
				RelRef		rel = resolve(st, ((RuleStmt *) node)->relation);

				add_row(&rows, &rel, AccessExclusiveLock, COST_CATALOG);
				break;
			}
		case T_CreateStatsStmt:
			{
				CreateStatsStmt *cs = (CreateStatsStmt *) node;

				if (list_length(cs->relations) == 1 &&
					IsA(linitial(cs->relations), RangeVar))
				{
					RelRef		rel = resolve(st, linitial_node(RangeVar, cs->relations));

					add_row(&rows, &rel, ShareUpdateExclusiveLock,
							COST_CATALOG);
				}
				else
					add_row(&rows, &none, NoLock, COST_CATALOG);
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
					add_row(&rows, &none, NoLock, COST_CATALOG);
				break;
			}
		case T_AlterDomainStmt:
			classify_alter_domain(st, (AlterDomainStmt *) node, &rows);
			break;
		case T_AlterEnumStmt:
			{
				AlterEnumStmt *es = (AlterEnumStmt *) node;
				CostRow    *row = add_row(&rows, &none, NoLock, COST_CATALOG);

				if (es->oldVal != NULL)
					add_rule(row, RULE_RENAME_ENUM_VALUE,
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
			add_row(&rows, &none, NoLock, COST_UNKNOWN);
			break;

		default:
			add_row(&rows, &none, NoLock, COST_CATALOG);
			break;
	}
	return rows;
}

/*
 * ALTER TABLE (and ALTER INDEX, VIEW, MATERIALIZED VIEW, FOREIGN TABLE):
 * the lock is core's own answer (AlterTableGetLockLevel, as utility.c
 * asks it), the effect the costliest of the subcommands'.
 */
static void
classify_alter_table(CostState *st, AlterTableStmt *stmt, List **rows)
{
	RelRef		rel = resolve(st, stmt->relation);
	LOCKMODE	mode = AlterTableGetLockLevel(stmt->cmds);
	CostRow    *row = add_row(rows, &rel, mode, COST_CATALOG);
	ListCell   *lc;

	row->recurse = stmt->relation->inh;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		Oid			relid = rel.origin == ORIGIN_EXISTING ? rel.relid : InvalidOid;

		switch (cmd->subtype)
		{
			case AT_AddColumn:
			case AT_AddColumnToView:
				classify_add_column(st, &rel, castNode(ColumnDef, cmd->def),
									row, rows);
				break;
			case AT_AlterColumnType:
				classify_alter_type(st, &rel, cmd, row);
				break;
			case AT_SetNotNull:
				classify_set_not_null(st, &rel, cmd->name, row);
				break;
			case AT_AddConstraint:
				classify_add_constraint(st, &rel, castNode(Constraint, cmd->def),
										row, rows);
				break;
			case AT_ValidateConstraint:
				classify_validate(st, &rel, cmd->name, row, rows);
				break;
			case AT_DropConstraint:
				{
					Oid			conoid = OidIsValid(relid) ?
						get_relation_constraint_oid(relid, cmd->name, true) :
						InvalidOid;

					/* a foreign key's triggers go from both tables */
					if (OidIsValid(conoid))
					{
						HeapTuple	tuple = SearchSysCache1(CONSTROID,
															ObjectIdGetDatum(conoid));

						if (HeapTupleIsValid(tuple))
						{
							Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tuple);

							if (con->contype == CONSTRAINT_FOREIGN &&
								con->confrelid != relid)
							{
								RelRef		pk = resolve_oid(con->confrelid);

								add_row(rows, &pk, AccessExclusiveLock,
										COST_CATALOG);
							}
							ReleaseSysCache(tuple);
						}
					}
					note_change(st, &st->constraints, relid, cmd->name);
					break;
				}
			case AT_DropColumn:
				add_rule(row, RULE_DROP_COLUMN,
						 psprintf("DROP COLUMN %s", quote_identifier(cmd->name)));
				note_change(st, &st->columns, relid, cmd->name);
				break;
			case AT_DropNotNull:
				add_rule(row, RULE_DROP_NOT_NULL,
						 psprintf("ALTER COLUMN %s DROP NOT NULL",
								  quote_identifier(cmd->name)));
				break;
			case AT_SetLogged:
			case AT_SetUnLogged:
				{
					char		want = cmd->subtype == AT_SetLogged ?
						RELPERSISTENCE_PERMANENT : RELPERSISTENCE_UNLOGGED;

					/* a table already so is left as it is */
					if (!OidIsValid(relid) || get_rel_persistence(relid) != want)
					{
						merge_effect(row, COST_REWRITE);
						add_rule(row, RULE_PERSISTENCE,
								 pstrdup(cmd->subtype == AT_SetLogged ?
										 "SET LOGGED" : "SET UNLOGGED"));
					}
					break;
				}
			case AT_SetTableSpace:
				{
					Oid			spc = get_tablespace_oid(cmd->name, true);
					Oid			now = InvalidOid;

					if (OidIsValid(relid))
					{
						HeapTuple	tuple = SearchSysCache1(RELOID,
															ObjectIdGetDatum(relid));

						if (HeapTupleIsValid(tuple))
						{
							now = ((Form_pg_class) GETSTRUCT(tuple))->reltablespace;
							ReleaseSysCache(tuple);
						}
						if (!OidIsValid(now))
							now = MyDatabaseTableSpace;
					}
					if (!OidIsValid(relid) || spc != now)
					{
						merge_effect(row, COST_REWRITE);
						add_rule(row, RULE_TABLESPACE,
								 psprintf("SET TABLESPACE %s",
										  quote_identifier(cmd->name)));
					}
					break;
				}
			case AT_SetAccessMethod:
				{
					Oid			am = cmd->name ? get_table_am_oid(cmd->name, true) :
						InvalidOid;
					HeapTuple	tuple = OidIsValid(relid) ?
						SearchSysCache1(RELOID, ObjectIdGetDatum(relid)) : NULL;
					bool		same = false;

					if (HeapTupleIsValid(tuple))
					{
						same = OidIsValid(am) &&
							((Form_pg_class) GETSTRUCT(tuple))->relam == am;
						ReleaseSysCache(tuple);
					}
					if (!same)
					{
						merge_effect(row, COST_REWRITE);
						add_rule(row, RULE_ACCESS_METHOD,
								 pstrdup("SET ACCESS METHOD"));
					}
					break;
				}
			case AT_AttachPartition:
			case AT_DetachPartition:
				classify_partition_cmd(st, &rel, cmd, row, rows);
				break;

				/* the catalog only */
			case AT_ColumnDefault:
			case AT_CookedColumnDefault:
			case AT_DropExpression:
			case AT_SetStatistics:
			case AT_SetOptions:
			case AT_ResetOptions:
			case AT_SetStorage:
			case AT_SetCompression:
			case AT_AlterConstraint:
			case AT_AlterColumnGenericOptions:
			case AT_ChangeOwner:
			case AT_ClusterOn:
			case AT_DropCluster:
			case AT_DropOids:
			case AT_SetRelOptions:
			case AT_ResetRelOptions:
			case AT_ReplaceRelOptions:
			case AT_EnableTrig:
			case AT_EnableAlwaysTrig:
			case AT_EnableReplicaTrig:
			case AT_DisableTrig:
			case AT_EnableTrigAll:
			case AT_DisableTrigAll:
			case AT_EnableTrigUser:
			case AT_DisableTrigUser:
			case AT_EnableRule:
			case AT_EnableAlwaysRule:
			case AT_EnableReplicaRule:
			case AT_DisableRule:
			case AT_AddInherit:
			case AT_DropInherit:
			case AT_AddOf:
			case AT_DropOf:
			case AT_ReplicaIdentity:
			case AT_EnableRowSecurity:
			case AT_DisableRowSecurity:
			case AT_ForceRowSecurity:
			case AT_NoForceRowSecurity:
			case AT_GenericOptions:
			case AT_DetachPartitionFinalize:
			case AT_AddIdentity:
			case AT_SetIdentity:
			case AT_DropIdentity:
				break;

			default:
				if ((int) cmd->subtype == (int) MM_AT_SET_EXPRESSION)
				{
					merge_effect(row, COST_REWRITE);
					add_rule(row, RULE_SET_EXPRESSION,
							 psprintf("ALTER COLUMN %s SET EXPRESSION",
									  quote_identifier(cmd->name)));
				}
				else
					merge_effect(row, COST_UNKNOWN);
				break;
		}
	}
}

/*
 * ADD COLUMN: catalog only, unless existing rows need a value (a volatile
 * default, a stored generated column, an identity or serial column, a
 * domain with constraints: a rewrite), a check (NOT NULL without a
 * default: every row fails; a CHECK: a scan), or an index (UNIQUE,
 * PRIMARY KEY).  A foreign key locks the referenced table, and reads
 * both tables when the new column has a value.  The fast default of
 * ATExecAddColumn: a non-volatile default is stored once in the catalog.
 */
static void
classify_add_column(CostState *st, RelRef *rel, ColumnDef *def,
					CostRow *row, List **rows)
{
	Oid			relid = rel->origin == ORIGIN_EXISTING ? rel->relid : InvalidOid;
	char		relkind = OidIsValid(relid) ? get_rel_relkind(relid) : RELKIND_RELATION;
	bool		storage = relkind == RELKIND_RELATION ||
		relkind == RELKIND_PARTITIONED_TABLE || relkind == RELKIND_MATVIEW;
	Node	   *raw_default = column_default(def);
	Constraint *generated = column_constraint(def, CONSTR_GENERATED);
	Constraint *identity = column_constraint(def, CONSTR_IDENTITY);
	const char *colname = quote_identifier(def->colname);
	bool		has_value = false;
	ListCell   *lc;
	Oid			typid = InvalidOid;
	int32		typmod;

	note_change(st, &st->columns, relid, def->colname);
	if (def->typeName != NULL && !is_serial_type(def->typeName))
	{
		typenameTypeIdAndMod(NULL, def->typeName, &typid, &typmod);
		if (typid == JSONOID)
			add_rule(row, RULE_JSON_COLUMN,
					 psprintf("ADD COLUMN %s json", colname));
	}
	if (!storage)
		return;

	if (generated != NULL && mm_generated_is_stored(generated))
	{
		merge_effect(row, COST_REWRITE);
		add_rule(row, RULE_GENERATED_STORED,
				 psprintf("ADD COLUMN %s ... GENERATED ALWAYS AS (...) STORED",
						  colname));
		has_value = true;
	}
	else if (identity != NULL || (def->typeName && is_serial_type(def->typeName)))
	{
		merge_effect(row, COST_REWRITE);
		add_rule(row, RULE_AUTO_INCREMENT,
				 identity ?
				 psprintf("ADD COLUMN %s ... GENERATED AS IDENTITY", colname) :
				 psprintf("ADD COLUMN %s %s", colname,
						  TypeNameToString(def->typeName)));
		has_value = true;
	}
	else if (raw_default != NULL)
	{
		char	   *shown = NULL;

		has_value = true;
		if (default_is_volatile(def->typeName, raw_default, def->colname,
								&shown))
		{
			merge_effect(row, COST_REWRITE);
			add_rule(row, RULE_VOLATILE_DEFAULT,
					 psprintf("ADD COLUMN %s ... DEFAULT %s", colname, shown));
		}
	}
	if (OidIsValid(typid) && DomainHasConstraints(typid))
	{
		merge_effect(row, COST_REWRITE);
		add_rule(row, RULE_DOMAIN_COLUMN,
				 psprintf("ADD COLUMN %s %s", colname,
						  format_type_be(typid)));
	}

	foreach(lc, def->constraints)
	{
		Constraint *con = lfirst_node(Constraint, lc);

		switch (con->contype)
		{
			case CONSTR_NOTNULL:
				if (!has_value)
				{
					merge_effect(row, COST_SCAN);
					add_rule(row, RULE_REQUIRED_COLUMN,
							 psprintf("ADD COLUMN %s ... NOT NULL without a default",
									  colname));
				}
				break;
			case CONSTR_CHECK:
				if (mm_constraint_enforced(con))
				{
					merge_effect(row, COST_SCAN);
					add_rule(row, RULE_CHECK,
							 psprintf("ADD COLUMN %s ... CHECK", colname));
				}
				break;
			case CONSTR_PRIMARY:
			case CONSTR_UNIQUE:
				merge_effect(row, COST_INDEX);
				add_rule(row, RULE_UNIQUE,
						 psprintf("ADD COLUMN %s ... %s", colname,
								  con->contype == CONSTR_PRIMARY ?
								  "PRIMARY KEY" : "UNIQUE"));
				break;
			case CONSTR_FOREIGN:
				{
					RelRef		pk = resolve(st, con->pktable);
					CostEffect	effect = has_value && mm_constraint_enforced(con) ?
						COST_SCAN : COST_CATALOG;
					CostRow    *pkrow = add_row(rows, &pk, ShareRowExclusiveLock,
												effect);

					/* a new column without a value has nothing to check */
					if (effect == COST_SCAN)
					{
						char	   *what = psprintf("ADD COLUMN %s ... REFERENCES %s",
													colname, pk.name);

						merge_effect(row, COST_SCAN);
						add_rule(row, RULE_FOREIGN_KEY, what);
						add_rule(pkrow, RULE_FOREIGN_KEY, what);
					}
					break;
				}
			default:
				break;
		}
	}
}

/* The DEFAULT of a column definition, as the grammar keeps it. */
static Node *
column_default(ColumnDef *def)
{
	Constraint *con = column_constraint(def, CONSTR_DEFAULT);

	if (def->raw_default != NULL)
		return def->raw_default;
	return con ? con->raw_expr : NULL;
}

/* A column definition's constraint of a kind, or NULL. */
static Constraint *
column_constraint(ColumnDef *def, ConstrType contype)
{
	ListCell   *lc;

	foreach(lc, def->constraints)
	{
		Constraint *con = lfirst_node(Constraint, lc);

		if (con->contype == contype)
			return con;
	}
	return NULL;
}

/*
 * Tells whether a column type is one of the serial pseudo-types, as
 * transformColumnDefinition in parse_utilcmd.c reads them.
 */
static bool
is_serial_type(TypeName *typname)
{
	static const char *const serials[] = {"smallserial", "serial2", "serial",
	"serial4", "bigserial", "serial8"};
	const char *name;

	if (list_length(typname->names) != 1 || typname->pct_type)
		return false;
	name = strVal(linitial(typname->names));
	for (int i = 0; i < lengthof(serials); i++)
		if (strcmp(name, serials[i]) == 0)
			return true;
	return false;
}

/*
 * Tells whether a column default is volatile, as ATExecAddColumn asks it
 * before it stores the value once (the fast default): the expression
 * parsed and coerced to the column's type as CREATE and ALTER TABLE do
 * (cookDefault), never evaluated.  *shown gets it as text.
 */
static bool
default_is_volatile(TypeName *typname, Node *raw, const char *colname,
					char **shown)
{
	ParseState *pstate = make_parsestate(NULL);
	Oid			typid;
	int32		typmod;
	Node	   *cooked;

	typenameTypeIdAndMod(pstate, typname, &typid, &typmod);
	cooked = cookDefault(pstate, raw, typid, typmod, colname, '\0');
	*shown = deparse_expression(cooked, NIL, false, false);
	return contain_volatile_functions(cooked);
}

/*
 * ADD CONSTRAINT: a CHECK or foreign key reads every row unless NOT VALID
 * (a foreign key locks and reads the referenced table too); PRIMARY KEY,
 * UNIQUE and EXCLUDE build an index, but USING INDEX, where a primary key
 * only checks that its columns hold no NULL (a scan, when one may).
 */
static void
classify_add_constraint(CostState *st, RelRef *rel, Constraint *con,
						CostRow *row, List **rows)
{
	Oid			relid = rel->origin == ORIGIN_EXISTING ? rel->relid : InvalidOid;
	bool		validated = !con->skip_validation && mm_constraint_enforced(con);
	char	   *name = con->conname ? psprintf("CONSTRAINT %s ",
											   quote_identifier(con->conname)) : "";

	switch (con->contype)
	{
		case CONSTR_CHECK:
			if (validated)
			{
				merge_effect(row, COST_SCAN);
				add_rule(row, RULE_CHECK, psprintf("ADD %sCHECK", name));
			}
			break;
		case CONSTR_NOTNULL:
			if (validated)
			{
				ListCell   *lc;

				foreach(lc, con->keys)
					classify_set_not_null(st, rel, strVal(lfirst(lc)), row);
			}
			break;
		case CONSTR_FOREIGN:
			{
				RelRef		pk = resolve(st, con->pktable);
				CostRow    *pkrow = add_row(rows, &pk, ShareRowExclusiveLock,
											validated ? COST_SCAN : COST_CATALOG);

				if (validated)
				{
					char	   *what = psprintf("ADD %sFOREIGN KEY (%s) REFERENCES %s",
												name, column_list_text(con->fk_attrs),
												pk.name);

					merge_effect(row, COST_SCAN);
					add_rule(row, RULE_FOREIGN_KEY, what);
					add_rule(pkrow, RULE_FOREIGN_KEY, what);
				}
				break;
			}
		case CONSTR_PRIMARY:
		case CONSTR_UNIQUE:
			if (con->indexname == NULL)
			{
				merge_effect(row, COST_INDEX);
				add_rule(row, RULE_UNIQUE,
						 psprintf("ADD %s%s (%s)", name,
								  con->contype == CONSTR_PRIMARY ?
								  "PRIMARY KEY" : "UNIQUE",
								  column_list_text(con->keys)));
			}
			else if (con->contype == CONSTR_PRIMARY)
			{
				/* the index's columns become NOT NULL */
				RangeVar   *irv = makeRangeVar(rel->origin == ORIGIN_EXISTING ?
											   get_namespace_name(get_rel_namespace(relid)) :
											   NULL,
											   con->indexname, -1);
				RelRef		index = resolve(st, irv);
				HeapTuple	tuple;

				if (index.origin != ORIGIN_EXISTING || !OidIsValid(relid))
				{
					merge_effect(row, rel->origin == ORIGIN_CREATED ?
								 COST_CATALOG : COST_UNKNOWN);
					break;
				}
				tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index.relid));
				if (!HeapTupleIsValid(tuple))
				{
					merge_effect(row, COST_UNKNOWN);
					break;
				}
				for (int i = 0; i < ((Form_pg_index) GETSTRUCT(tuple))->indnkeyatts; i++)
				{
					AttrNumber	attnum = ((Form_pg_index) GETSTRUCT(tuple))->indkey.values[i];
					char	   *attname = get_attname(relid, attnum, true);

					if (attname != NULL)
						classify_set_not_null(st, rel, attname, row);
				}
				ReleaseSysCache(tuple);
			}
			break;
		case CONSTR_EXCLUSION:
			merge_effect(row, COST_INDEX);
			add_rule(row, RULE_EXCLUSION, psprintf("ADD %sEXCLUDE", name));
			break;
		default:
			break;
	}

	/* what the set adds changes what SET NOT NULL and VALIDATE find */
	note_change(st, &st->constraints, relid, NULL);
	if (con->conname != NULL && OidIsValid(relid))
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(st->cxt);
		SetChange  *added = palloc0(sizeof(SetChange));

		added->relid = relid;
		added->name = pstrdup(con->conname);
		added->contype = con->contype == CONSTR_FOREIGN ? CONSTRAINT_FOREIGN :
			con->contype == CONSTR_CHECK ? CONSTRAINT_CHECK : '?';
		if (con->contype == CONSTR_FOREIGN)
		{
			RelRef		pk = resolve(st, con->pktable);

			added->pkorigin = pk.origin;
			added->pkrelid = pk.relid;
			added->pkname = pstrdup(pk.name);
		}
		st->constraints = lcons(added, st->constraints);
		if (con->skip_validation)
			st->not_valid_here = lappend(st->not_valid_here,
										 pstrdup(con->conname));
		MemoryContextSwitchTo(oldcxt);
	}
}

/* Column names of a constraint, for messages. */
static char *
column_list_text(List *names)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
						 quote_identifier(strVal(lfirst(lc))));
	return buf.data;
}

/*
 * ALTER COLUMN TYPE: a rewrite unless the new type is binary-coercible
 * with the old one (varchar(n) to a larger n or to text, numeric to a
 * larger precision, timestamp to timestamptz in a UTC session), as
 * ATPrepAlterColumnType and ATColumnChangeRequiresRewrite decide it;
 * without a rewrite, the CHECK constraints on the column are still checked
 * on every row.  A column the set changed earlier is unknown.
 */
static void
classify_alter_type(CostState *st, RelRef *rel, AlterTableCmd *cmd,
					CostRow *row)
{
	Oid			relid = rel->origin == ORIGIN_EXISTING ? rel->relid : InvalidOid;
	ColumnDef  *def = castNode(ColumnDef, cmd->def);
	Oid			typid;
	int32		typmod;
	char	   *what;
	AttrNumber	attnum;
	bool		known;

	typenameTypeIdAndMod(NULL, def->typeName, &typid, &typmod);
	what = psprintf("ALTER COLUMN %s TYPE %s", quote_identifier(cmd->name),
					format_type_with_typemod(typid, typmod));

	if (rel->origin != ORIGIN_EXISTING)
		merge_effect(row, COST_REWRITE);	/* as the origin allows */
	else if (changed(st->columns, relid, cmd->name))
		merge_effect(row, COST_UNKNOWN);
	else if (type_change_rewrites(relid, cmd, &attnum, &known))
	{
		merge_effect(row, COST_REWRITE);
		add_rule(row, RULE_TYPE_CHANGE, what);
	}
	else if (!known)
		merge_effect(row, COST_UNKNOWN);
	else if (column_has_checks(relid, attnum))
	{
		merge_effect(row, COST_SCAN);
		add_rule(row, RULE_TYPE_CHANGE_CHECKS, what);
	}
	note_change(st, &st->columns, relid, cmd->name);
}

/*
 * Tells whether changing the column's type rewrites the table: builds
 * the conversion core would (the column, its USING expression when that
 * is the column itself or a cast of it, coerced to the new type) and asks
 * change_needs_rewrite of it.  *known is false when it cannot be told
 * (another USING expression rewrites, but the column must exist).
 */
static bool
type_change_rewrites(Oid relid, AlterTableCmd *cmd, AttrNumber *attnum,
					 bool *known)
{
	ColumnDef  *def = castNode(ColumnDef, cmd->def);
	ParseState *pstate = make_parsestate(NULL);
	HeapTuple	tuple = SearchSysCacheAttName(relid, cmd->name);
	Form_pg_attribute att;
	Oid			targettype;
	int32		targettypmod;
	Node	   *transform;
	Node	   *using = def->raw_default;

	*known = false;
	if (!HeapTupleIsValid(tuple))
		return false;
	att = (Form_pg_attribute) GETSTRUCT(tuple);
	*attnum = att->attnum;
	transform = (Node *) makeVar(1, att->attnum, att->atttypid, att->atttypmod,
								 att->attcollation, 0);
	ReleaseSysCache(tuple);
	typenameTypeIdAndMod(pstate, def->typeName, &targettype, &targettypmod);
	*known = true;

	/* USING col, or USING col::type: the same conversion as without */
	if (using != NULL && IsA(using, TypeCast))
	{
		TypeCast   *tc = (TypeCast *) using;
		Oid			casttype;
		int32		casttypmod;

		typenameTypeIdAndMod(pstate, tc->typeName, &casttype, &casttypmod);
		transform = coerce_to_target_type(pstate, transform, exprType(transform),
										  casttype, casttypmod,
										  COERCION_EXPLICIT,
										  COERCE_EXPLICIT_CAST, -1);
		using = tc->arg;
		if (transform == NULL)
			return true;
	}
	if (using != NULL)
	{
		ColumnRef  *cref = IsA(using, ColumnRef) ? (ColumnRef *) using : NULL;

		if (cref == NULL || !IsA(llast(cref->fields), String) ||
			strcmp(strVal(llast(cref->fields)), cmd->name) != 0)
			return true;
	}
	transform = coerce_to_target_type(pstate, transform, exprType(transform),
									  targettype, targettypmod,
									  COERCION_ASSIGNMENT,
									  COERCE_IMPLICIT_CAST, -1);
	if (transform == NULL)
		return true;			/* it fails: it cannot be cast automatically */

	/* as core: planned, so that a length coercion that changes nothing goes */
	transform = (Node *) expression_planner((Expr *) transform);
	return change_needs_rewrite(transform, *attnum);
}

/*
 * Tells whether a column conversion needs a rewrite: anything but the
 * column itself, a relabeling, a domain without constraints or a
 * timestamp conversion that changes no stored value, as
 * ATColumnChangeRequiresRewrite in tablecmds.c reads it.
 */
static bool
change_needs_rewrite(Node *expr, AttrNumber attnum)
{
	for (;;)
	{
		if (IsA(expr, Var) && ((Var *) expr)->varattno == attnum)
			return false;
		else if (IsA(expr, RelabelType))
			expr = (Node *) ((RelabelType *) expr)->arg;
		else if (IsA(expr, CoerceToDomain))
		{
			CoerceToDomain *d = (CoerceToDomain *) expr;

			if (DomainHasConstraints(d->resulttype))
				return true;
			expr = (Node *) d->arg;
		}
		else if (IsA(expr, FuncExpr))
		{
			FuncExpr   *f = (FuncExpr *) expr;

			if ((f->funcid == F_TIMESTAMPTZ_TIMESTAMP ||
				 f->funcid == F_TIMESTAMP_TIMESTAMPTZ) &&
				!TimestampTimestampTzRequiresRewrite())
				expr = linitial(f->args);
			else
				return true;
		}
		else
			return true;
	}
}

/* Tells whether a CHECK constraint of the relation names the column. */
static bool
column_has_checks(Oid relid, AttrNumber attnum)
{
	Relation	pg_constraint = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		found = false;

	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(pg_constraint, ConstraintRelidTypidNameIndexId,
							  true, NULL, 1, &key);
	while (!found && HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Datum		conkey;
		bool		isnull;
		ArrayType  *arr;
		int16	   *keys;

		if (((Form_pg_constraint) GETSTRUCT(tuple))->contype != CONSTRAINT_CHECK)
			continue;
		conkey = heap_getattr(tuple, Anum_pg_constraint_conkey,
							  RelationGetDescr(pg_constraint), &isnull);
		if (isnull)
			continue;
		arr = DatumGetArrayTypeP(conkey);
		keys = (int16 *) ARR_DATA_PTR(arr);
		for (int i = 0; i < ARR_DIMS(arr)[0]; i++)
			if (keys[i] == attnum)
				found = true;
	}
	systable_endscan(scan);
	table_close(pg_constraint, AccessShareLock);
	return found;
}

/*
 * SET NOT NULL: a scan of every row, unless the column is NOT NULL already
 * or a valid CHECK constraint proves it (NotNullImpliedByRelConstraints in
 * tablecmds.c).  A column or constraints the set changed earlier are
 * unknown.
 */
static void
classify_set_not_null(CostState *st, RelRef *rel, const char *column,
					  CostRow *row)
{
	Oid			relid = rel->origin == ORIGIN_EXISTING ? rel->relid : InvalidOid;
	HeapTuple	tuple;
	bool		notnull;
	AttrNumber	attnum;

	if (rel->origin != ORIGIN_EXISTING)
	{
		merge_effect(row, COST_SCAN);	/* as the origin allows */
		return;
	}
	if (changed(st->columns, relid, column) ||
		changed(st->constraints, relid, NULL))
	{
		merge_effect(row, COST_UNKNOWN);
		return;
	}
	tuple = SearchSysCacheAttName(relid, column);
	if (!HeapTupleIsValid(tuple))
	{
		merge_effect(row, COST_UNKNOWN);
		return;
	}
	notnull = ((Form_pg_attribute) GETSTRUCT(tuple))->attnotnull;
	attnum = ((Form_pg_attribute) GETSTRUCT(tuple))->attnum;
	ReleaseSysCache(tuple);
	if (notnull || not_null_implied(relid, attnum))
		return;
	merge_effect(row, COST_SCAN);
	add_rule(row, RULE_SET_NOT_NULL,
			 psprintf("ALTER COLUMN %s SET NOT NULL", quote_identifier(column)));
}

/*
 * Tells whether the relation's valid CHECK constraints prove that the
 * column holds no NULL, the proof ConstraintImpliedByRelConstraint makes
 * (weak implication: a CHECK that yields NULL passes, so CHECK (x > 0)
 * proves nothing, CHECK (x IS NOT NULL) does).
 */
static bool
not_null_implied(Oid relid, AttrNumber attnum)
{
	Relation	pg_constraint = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *checks = NIL;
	NullTest   *test = makeNode(NullTest);
	HeapTuple	atttuple = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid),
										   Int16GetDatum(attnum));
	Form_pg_attribute att;

	if (!HeapTupleIsValid(atttuple))
	{
		table_close(pg_constraint, AccessShareLock);
		return false;
	}
	att = (Form_pg_attribute) GETSTRUCT(atttuple);
	test->arg = (Expr *) makeVar(1, attnum, att->atttypid, att->atttypmod,
								 att->attcollation, 0);
	test->nulltesttype = IS_NOT_NULL;
	test->argisrow = false;
	test->location = -1;
	ReleaseSysCache(atttuple);

	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(pg_constraint, ConstraintRelidTypidNameIndexId,
							  true, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tuple);
		Datum		conbin;
		bool		isnull;
		Node	   *expr;

		if (con->contype != CONSTRAINT_CHECK || !con->convalidated)
			continue;
		conbin = heap_getattr(tuple, Anum_pg_constraint_conbin,
							  RelationGetDescr(pg_constraint), &isnull);
		if (isnull)
			continue;
		expr = stringToNode(TextDatumGetCString(conbin));
		expr = eval_const_expressions(NULL, expr);
		expr = (Node *) canonicalize_qual((Expr *) expr, true);
		checks = list_concat(checks, make_ands_implicit((Expr *) expr));
	}
	systable_endscan(scan);
	table_close(pg_constraint, AccessShareLock);
	return checks != NIL &&
		predicate_implied_by(list_make1(test), checks, true);
}

/*
 * VALIDATE CONSTRAINT: reads every row under ShareUpdateExclusiveLock,
 * which blocks no reads or writes (a foreign key also reads the
 * referenced table); nothing for one already valid.  A constraint the
 * same file added NOT VALID is still under that statement's lock.
 */
static void
classify_validate(CostState *st, RelRef *rel, const char *name, CostRow *row,
				  List **rows)
{
	Oid			relid = rel->origin == ORIGIN_EXISTING ? rel->relid : InvalidOid;
	const SetChange *added = added_constraint(st, relid, name);
	char		contype = '?';
	bool		valid = false;
	RelRef		pk = no_relation();
	ListCell   *lc;

	if (rel->origin != ORIGIN_EXISTING)
	{
		merge_effect(row, COST_SCAN);
		return;
	}
	if (added != NULL)
	{
		contype = added->contype;
		pk.origin = added->pkorigin;
		pk.relid = added->pkrelid;
		pk.name = added->pkname;
	}
	else
	{
		Oid			conoid = get_relation_constraint_oid(relid, name, true);
		HeapTuple	tuple = OidIsValid(conoid) ?
			SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid)) : NULL;

		if (!HeapTupleIsValid(tuple))
		{
			merge_effect(row, COST_UNKNOWN);
			return;
		}
		contype = ((Form_pg_constraint) GETSTRUCT(tuple))->contype;
		valid = ((Form_pg_constraint) GETSTRUCT(tuple))->convalidated;
		if (contype == CONSTRAINT_FOREIGN)
			pk = resolve_oid(((Form_pg_constraint) GETSTRUCT(tuple))->confrelid);
		ReleaseSysCache(tuple);
	}
	if (valid)
		return;
	merge_effect(row, COST_SCAN);
	if (contype == CONSTRAINT_FOREIGN && pk.origin != ORIGIN_NONE)
		add_row(rows, &pk, RowShareLock, COST_SCAN);
	foreach(lc, st->not_valid_here)
	{
		if (strcmp((char *) lfirst(lc), name) == 0)
		{
			add_rule(row, RULE_VALIDATE_SAME_FILE,
					 psprintf("VALIDATE CONSTRAINT %s", quote_identifier(name)));
			break;
		}
	}
}

/*
 * ATTACH PARTITION: ShareUpdateExclusiveLock on the parent; the new
 * partition, locked AccessExclusive, is read whole to check its rows
 * unless a valid CHECK constraint proves the bound (when it has valid
 * CHECK constraints, that cannot be told here); the default partition,
 * if any, is read for rows of the new bound.  DETACH PARTITION locks the
 * parent, the partition and the default partition AccessExclusive, but
 * CONCURRENTLY.
 */
static void
classify_partition_cmd(CostState *st, RelRef *rel, AlterTableCmd *cmd,
					   CostRow *row, List **rows)
{
	PartitionCmd *pc = (PartitionCmd *) cmd->def;
	RelRef		part = resolve(st, pc->name);
	Oid			defpart = rel->origin == ORIGIN_EXISTING ?
		get_default_partition_oid(rel->relid) : InvalidOid;
	bool		attach = cmd->subtype == AT_AttachPartition;
	CostRow    *partrow;

	row->recurse = false;		/* the other partitions are not touched */
	if (!attach && pc->concurrent)
	{
		add_row(rows, &part, ShareUpdateExclusiveLock, COST_CATALOG);
		return;
	}
	partrow = add_row(rows, &part, AccessExclusiveLock, COST_CATALOG);
	partrow->recurse = true;
	if (attach)
	{
		if (part.origin == ORIGIN_EXISTING && has_valid_checks(part.relid))
			merge_effect(partrow, COST_UNKNOWN);
		else
		{
			merge_effect(partrow, COST_SCAN);
			add_rule(partrow, RULE_ATTACH_PARTITION,
					 psprintf("ATTACH PARTITION %s", part.name));
		}
	}
	else
		add_rule(row, RULE_DETACH_PARTITION,
				 psprintf("DETACH PARTITION %s", part.name));

	if (OidIsValid(defpart) && defpart != part.relid)
	{
		RelRef		def = resolve_oid(defpart);
		CostRow    *defrow = add_row(rows, &def, AccessExclusiveLock,
									 attach ? COST_SCAN : COST_CATALOG);

		if (attach)
			add_rule(defrow, RULE_DEFAULT_PARTITION,
					 psprintf("ATTACH PARTITION %s", part.name));
	}
}

/* Tells whether a relation has valid CHECK constraints. */
static bool
has_valid_checks(Oid relid)
{
	Relation	pg_constraint = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		found = false;

	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(pg_constraint, ConstraintRelidTypidNameIndexId,
							  true, NULL, 1, &key);
	while (!found && HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tuple);

		found = con->contype == CONSTRAINT_CHECK && con->convalidated;
	}
	systable_endscan(scan);
	table_close(pg_constraint, AccessShareLock);
	return found;
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
	RelRef		none = no_relation();
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
			rel = resolve(st, stmt->relation);
			row = add_row(rows, &rel,
						  stmt->renameType == OBJECT_INDEX ?
						  ShareUpdateExclusiveLock : AccessExclusiveLock,
						  COST_CATALOG);
			if (stmt->renameType != OBJECT_INDEX &&
				stmt->renameType != OBJECT_SEQUENCE)
				add_rule(row, RULE_RENAME_TABLE,
						 psprintf("RENAME TO %s", quote_identifier(stmt->newname)));
			note_name(st, stmt->relation->schemaname, stmt->relation->relname,
					  ORIGIN_UNKNOWN, InvalidOid);
			note_name(st, stmt->relation->schemaname, stmt->newname,
					  rel.origin, rel.relid);
			break;
		case OBJECT_COLUMN:
			rel = resolve(st, stmt->relation);
			row = add_row(rows, &rel, AccessExclusiveLock, COST_CATALOG);
			add_rule(row, RULE_RENAME_COLUMN,
					 psprintf("RENAME COLUMN %s TO %s",
							  quote_identifier(stmt->subname),
							  quote_identifier(stmt->newname)));
			note_change(st, &st->columns,
						rel.origin == ORIGIN_EXISTING ? rel.relid : InvalidOid,
						stmt->subname);
			note_change(st, &st->columns,
						rel.origin == ORIGIN_EXISTING ? rel.relid : InvalidOid,
						stmt->newname);
			break;
		case OBJECT_TABCONSTRAINT:
			rel = resolve(st, stmt->relation);
			add_row(rows, &rel, AccessExclusiveLock, COST_CATALOG);
			note_change(st, &st->constraints,
						rel.origin == ORIGIN_EXISTING ? rel.relid : InvalidOid,
						NULL);
			break;
		case OBJECT_SCHEMA:
			row = add_row(rows, &none, NoLock, COST_CATALOG);
			add_rule(row, RULE_RENAME_SCHEMA,
					 psprintf("ALTER SCHEMA %s RENAME TO %s",
							  quote_identifier(stmt->subname),
							  quote_identifier(stmt->newname)));
			break;
		default:
			add_row(rows, &none, NoLock, COST_CATALOG);
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
	RelRef		none = no_relation();
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
				RelRef		rel = resolve(st, rv);
				CostRow    *row;
				ListCell   *fk;

				if (rel.origin == ORIGIN_UNKNOWN && stmt->missing_ok)
					rel = no_relation();	/* IF EXISTS of nothing */
				row = add_row(rows, &rel, AccessExclusiveLock, COST_CATALOG);

				if (stmt->removeType == OBJECT_TABLE && rel.origin != ORIGIN_NONE)
					add_rule(row, RULE_DROP_TABLE, pstrdup("DROP TABLE"));
				if (rel.origin == ORIGIN_EXISTING)
				{
					Oid			parent = InvalidOid;

					foreach(fk, foreign_keys_of(rel.relid, false))
					{
						RelRef		pk = resolve_oid(lfirst_oid(fk));

						add_row(rows, &pk, AccessExclusiveLock, COST_CATALOG);
					}
					if (get_rel_relispartition(rel.relid))
						parent = get_partition_parent(rel.relid, true);
					if (OidIsValid(parent))
					{
						RelRef		p = resolve_oid(parent);
						Oid			defpart = get_default_partition_oid(parent);

						add_row(rows, &p, AccessExclusiveLock, COST_CATALOG);
						if (OidIsValid(defpart) && defpart != rel.relid)
						{
							RelRef		d = resolve_oid(defpart);

							add_row(rows, &d, AccessExclusiveLock, COST_CATALOG);
						}
					}
				}
				note_name(st, rv->schemaname, rv->relname, ORIGIN_UNKNOWN,
						  InvalidOid);
			}
			break;
		case OBJECT_INDEX:
			foreach(lc, stmt->objects)
			{
				RangeVar   *rv = makeRangeVarFromNameList(castNode(List, lfirst(lc)));
				RelRef		index = resolve(st, rv);
				RelRef		table = index;
				CostRow    *row;

				if (index.origin == ORIGIN_EXISTING)
					table = resolve_oid(IndexGetRelation(index.relid, false));
				else if (OidIsValid(index.table_relid))
					table = resolve_oid(index.table_relid);
				else if (index.origin == ORIGIN_UNKNOWN && stmt->missing_ok)
					table = no_relation();	/* IF EXISTS of nothing */
				row = add_row(rows, &table,
							  stmt->concurrent ? ShareUpdateExclusiveLock :
							  AccessExclusiveLock, COST_CATALOG);
				if (!stmt->concurrent && table.origin != ORIGIN_NONE)
					add_rule(row, RULE_DROP_INDEX,
							 psprintf("DROP INDEX %s", index.name));
				note_name(st, rv->schemaname, rv->relname, ORIGIN_UNKNOWN,
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
			add_row(rows, &none, NoLock, COST_CATALOG);
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
		RelRef		rel = resolve(st, rv);

		add_row(rows, &rel, mode, COST_CATALOG);
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
		Relation	pg_constraint = table_open(ConstraintRelationId, AccessShareLock);
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	tuple;

		ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(relid));
		scan = systable_beginscan(pg_constraint, ConstraintRelidTypidNameIndexId,
								  true, NULL, 1, &key);
		while (HeapTupleIsValid(tuple = systable_getnext(scan)))
		{
			Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tuple);

			if (con->contype == CONSTRAINT_FOREIGN && con->confrelid != relid)
				result = list_append_unique_oid(result, con->confrelid);
		}
		systable_endscan(scan);
		table_close(pg_constraint, AccessShareLock);
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
	RelRef		none = no_relation();
	ListCell   *lc;

	if (stmt->if_not_exists && RangeVarGetRelid(stmt->relation, NoLock, true))
	{
		add_row(rows, &none, NoLock, COST_CATALOG);
		return;
	}
	add_row(rows, &none, NoLock, COST_CATALOG);
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
				RelRef		pk = resolve(st, con->pktable);

				add_row(rows, &pk, ShareRowExclusiveLock, COST_CATALOG);
			}
		}
	}
	foreach(lc, stmt->constraints)
	{
		Constraint *con = lfirst_node(Constraint, lc);

		if (con->contype == CONSTR_FOREIGN)
		{
			RelRef		pk = resolve(st, con->pktable);

			add_row(rows, &pk, ShareRowExclusiveLock, COST_CATALOG);
		}
	}
	foreach(lc, stmt->inhRelations)
	{
		RelRef		parent = resolve(st, lfirst_node(RangeVar, lc));

		if (stmt->partbound == NULL)
			add_row(rows, &parent, ShareUpdateExclusiveLock, COST_CATALOG);
		else
		{
			Oid			defpart = parent.origin == ORIGIN_EXISTING ?
				get_default_partition_oid(parent.relid) : InvalidOid;

			add_row(rows, &parent, AccessExclusiveLock, COST_CATALOG);
			if (OidIsValid(defpart) && !stmt->partbound->is_default)
			{
				RelRef		def = resolve_oid(defpart);
				CostRow    *row = add_row(rows, &def, AccessExclusiveLock,
										  COST_SCAN);

				add_rule(row, RULE_DEFAULT_PARTITION,
						 psprintf("CREATE TABLE %s PARTITION OF %s",
								  quote_identifier(stmt->relation->relname),
								  parent.name));
			}
		}
	}
	note_created(st, stmt->relation, false);
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
	RelRef		rel = resolve(st, stmt->relation);
	RelRef		none = no_relation();
	CostRow    *row;

	if (stmt->if_not_exists && stmt->idxname != NULL &&
		rel.origin == ORIGIN_EXISTING &&
		OidIsValid(get_relname_relid(stmt->idxname,
									 get_rel_namespace(rel.relid))))
	{
		add_row(rows, &none, NoLock, COST_CATALOG);
		return;
	}
	row = add_row(rows, &rel, stmt->concurrent ? ShareUpdateExclusiveLock :
				  ShareLock, COST_INDEX);
	row->recurse = stmt->relation->inh;
	if (!stmt->concurrent)
		add_rule(row, RULE_INDEX,
				 psprintf("CREATE %sINDEX%s", stmt->unique ? "UNIQUE " : "",
						  stmt->idxname ? psprintf(" %s",
												   quote_identifier(stmt->idxname)) : ""));
	if (stmt->idxname != NULL)
	{
		note_name(st, stmt->relation->schemaname, stmt->idxname,
				  rel.origin == ORIGIN_EXISTING || rel.origin == ORIGIN_FILLED ?
				  ORIGIN_FILLED : ORIGIN_CREATED, InvalidOid);
		if (rel.origin == ORIGIN_EXISTING)
			((SetName *) linitial(st->names))->table_relid = rel.relid;
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
	RelRef		rel = no_relation();
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
		rel = resolve(st, stmt->relation);
		if (stmt->kind == REINDEX_OBJECT_INDEX && rel.origin == ORIGIN_EXISTING)
			rel = resolve_oid(IndexGetRelation(rel.relid, false));
		else if (stmt->kind == REINDEX_OBJECT_INDEX && OidIsValid(rel.table_relid))
			rel = resolve_oid(rel.table_relid);
	}
	row = add_row(rows, &rel, concurrent ? ShareUpdateExclusiveLock : ShareLock,
				  COST_INDEX);
	if (stmt->relation != NULL && !concurrent)
		add_rule(row, RULE_REINDEX,
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
		RelRef		none = no_relation();

		add_row(rows, &none, mode, effect);
		return;
	}
	foreach(lc, stmt->rels)
	{
		VacuumRelation *vr = lfirst_node(VacuumRelation, lc);
		RelRef		rel = resolve(st, vr->relation);
		CostRow    *row = add_row(rows, &rel, mode, effect);

		row->recurse = vr->relation->inh;
		if (full)
			add_rule(row, RULE_VACUUM_FULL, pstrdup("VACUUM FULL"));
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
		RelRef		rel = resolve(st, rv);
		CostRow    *row = add_row(rows, &rel, AccessExclusiveLock, COST_DATA);

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
			RelRef		rel = resolve_oid(lfirst_oid(lc));
			CostRow    *row = add_row(rows, &rel, AccessExclusiveLock,
									  COST_DATA);

			add_rule(row, RULE_TRUNCATE_CASCADE, pstrdup("TRUNCATE ... CASCADE"));
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
	RelRef		rel = resolve(st, rv);
	CostRow    *row = add_row(rows, &rel, RowExclusiveLock, COST_DATA);

	row->recurse = rv->inh;
	if ((int) rule >= 0 && where == NULL)
	{
		row->every_row_locked = true;
		add_rule(row, rule, pstrdup(what));
	}
	note_filled(st, &rel, rv);
}

/*
 * ALTER DOMAIN: ADD CONSTRAINT (but NOT VALID), SET NOT NULL and VALIDATE
 * CONSTRAINT read every column of the domain's type, each table under
 * ShareLock (validateDomainConstraint in typecmds.c).
 */
static void
classify_alter_domain(CostState *st, AlterDomainStmt *stmt, List **rows)
{
	RelRef		none = no_relation();
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
		add_row(rows, &none, NoLock, reads ? COST_UNKNOWN : COST_CATALOG);
		return;
	}
	foreach(lc, relations_of_domain(typid))
	{
		RelRef		rel = resolve_oid(lfirst_oid(lc));
		CostRow    *row = add_row(rows, &rel, ShareLock, COST_SCAN);

		if (what != NULL)
			add_rule(row, RULE_DOMAIN_CONSTRAINT, what);
	}
	if (*rows == NIL)
		add_row(rows, &none, NoLock, COST_CATALOG);
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
 * The row of a relation in a statement's rows, added or, when the
 * statement touches it twice, merged: the stronger lock, the costlier
 * effect.
 */
static CostRow *
add_row(List **rows, RelRef *rel, LOCKMODE mode, CostEffect effect)
{
	ListCell   *lc;
	CostRow    *row;

	foreach(lc, *rows)
	{
		row = (CostRow *) lfirst(lc);
		if (rel->origin != ORIGIN_NONE && row->origin == rel->origin &&
			(rel->origin == ORIGIN_EXISTING ? row->relid == rel->relid :
			 strcmp(row->relname, rel->name) == 0))
		{
			row->lockmode = Max(row->lockmode, mode);
			merge_effect(row, effect);
			return row;
		}
	}
	row = palloc0(sizeof(CostRow));
	row->origin = rel->origin;
	row->relid = rel->origin == ORIGIN_EXISTING ? rel->relid : InvalidOid;
	row->relname = rel->name;
	row->lockmode = mode;
	row->effect = effect;
	row->bytes = -1;
	*rows = lappend(*rows, row);
	return row;
}

/* Notes something unsafe a statement does to a row's relation. */
static void
add_rule(CostRow *row, CostRule rule, char *what)
{
	CostAdvice *adv = palloc(sizeof(CostAdvice));

	adv->rule = rule;
	adv->what = what;
	row->rules = lappend(row->rules, adv);
}

/*
 * Makes a row's effect the costlier of its own and another: catalog <
 * scan < index < rewrite; unknown stays unknown but under a rewrite,
 * which nothing exceeds.
 */
static void
merge_effect(CostRow *row, CostEffect effect)
{
	if (row->effect == effect || effect == COST_CATALOG)
		return;
	if (row->effect == COST_CATALOG)
		row->effect = effect;
	else if (row->effect == COST_REWRITE || effect == COST_REWRITE)
		row->effect = COST_REWRITE;
	else if (row->effect == COST_UNKNOWN || effect == COST_UNKNOWN)
		row->effect = COST_UNKNOWN;
	else if (row->effect == COST_DATA || effect == COST_DATA)
		row->effect = COST_DATA;
	else
		row->effect = Max(row->effect, effect);
}

/*
 * A relation as a statement names it: what the set made of that name
 * last (created, filled, dropped, renamed), else what the catalog holds
 * under it now, looked up without a lock; unknown when neither has it.
 */
static RelRef
resolve(CostState *st, RangeVar *rv)
{
	RelRef		rel;
	ListCell   *lc;
	Oid			relid;

	foreach(lc, st->names)
	{
		SetName    *n = (SetName *) lfirst(lc);

		if (strcmp(n->relname, rv->relname) != 0 ||
			(n->schemaname != NULL && rv->schemaname != NULL &&
			 strcmp(n->schemaname, rv->schemaname) != 0))
			continue;
		if (n->origin == ORIGIN_EXISTING)
			return resolve_oid(n->relid);
		rel.origin = n->origin;
		rel.relid = InvalidOid;
		rel.table_relid = n->table_relid;
		rel.name = rv->schemaname ?
			quote_qualified_identifier(rv->schemaname, rv->relname) :
			quote_identifier(rv->relname);
		return rel;
	}
	relid = RangeVarGetRelid(rv, NoLock, true);
	if (OidIsValid(relid))
		return resolve_oid(relid);
	rel.origin = ORIGIN_UNKNOWN;
	rel.relid = InvalidOid;
	rel.table_relid = InvalidOid;
	rel.name = rv->schemaname ?
		quote_qualified_identifier(rv->schemaname, rv->relname) :
		quote_identifier(rv->relname);
	return rel;
}

/* An existing relation by its oid, named with its schema. */
static RelRef
resolve_oid(Oid relid)
{
	RelRef		rel;
	char	   *relname = get_rel_name(relid);
	char	   *nspname = relname ? get_namespace_name(get_rel_namespace(relid)) : NULL;

	rel.origin = relname ? ORIGIN_EXISTING : ORIGIN_UNKNOWN;
	rel.relid = relname ? relid : InvalidOid;
	rel.table_relid = InvalidOid;
	rel.name = relname ? quote_qualified_identifier(nspname, relname) :
		psprintf("%u", relid);
	return rel;
}

/* No relation at all. */
static RelRef
no_relation(void)
{
	RelRef		rel;

	rel.origin = ORIGIN_NONE;
	rel.relid = InvalidOid;
	rel.name = NULL;
	rel.table_relid = InvalidOid;
	return rel;
}

/* Notes what a relation name means from now on in the set. */
static void
note_name(CostState *st, const char *schemaname, const char *relname,
		  CostOrigin origin, Oid relid)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(st->cxt);
	SetName    *n = palloc0(sizeof(SetName));

	n->schemaname = schemaname ? pstrdup(schemaname) : NULL;
	n->relname = pstrdup(relname);
	n->origin = origin == ORIGIN_NONE ? ORIGIN_UNKNOWN : origin;
	n->relid = relid;
	st->names = lcons(n, st->names);
	MemoryContextSwitchTo(oldcxt);
}

/* Notes a relation the set creates: empty, or filled by its query. */
static void
note_created(CostState *st, RangeVar *rv, bool filled)
{
	note_name(st, rv->schemaname, rv->relname,
			  filled ? ORIGIN_FILLED : ORIGIN_CREATED, InvalidOid);
}

/* Notes that rows went into a relation the set created. */
static void
note_filled(CostState *st, RelRef *rel, RangeVar *rv)
{
	if (rel->origin == ORIGIN_CREATED)
		note_name(st, rv->schemaname, rv->relname, ORIGIN_FILLED, InvalidOid);
}

/*
 * Notes a column or constraint (NULL: all of the relation's) that the set
 * changed, of an existing relation.
 */
static void
note_change(CostState *st, List **list, Oid relid, const char *name)
{
	MemoryContext oldcxt;
	SetChange  *change;

	if (!OidIsValid(relid))
		return;
	oldcxt = MemoryContextSwitchTo(st->cxt);
	change = palloc0(sizeof(SetChange));
	change->relid = relid;
	change->name = name ? pstrdup(name) : NULL;
	*list = lcons(change, *list);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Tells whether the set changed a column or constraint of a relation
 * (name NULL: any of them).
 */
static bool
changed(List *list, Oid relid, const char *name)
{
	ListCell   *lc;

	foreach(lc, list)
	{
		SetChange  *c = (SetChange *) lfirst(lc);

		if (c->relid == relid &&
			(name == NULL || c->name == NULL || strcmp(c->name, name) == 0))
			return true;
	}
	return false;
}

/* A named constraint the set added to a relation, or NULL. */
static const SetChange *
added_constraint(CostState *st, Oid relid, const char *name)
{
	ListCell   *lc;

	foreach(lc, st->constraints)
	{
		SetChange  *c = (SetChange *) lfirst(lc);

		if (c->relid == relid && c->name != NULL && c->contype != '\0' &&
			strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

/*
 * Completes a row: what its origin makes of its effect (a table created
 * earlier in the set is empty: catalog only; one filled earlier has a
 * size the run will know: unknown), its size, who stands in its way, and
 * its advice.
 */
static void
finish_row(CostState *st, CostRow *row)
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
 * every row blocks the writes of every row.
 */
const char *
cost_blocks(const CostRow *row)
{
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
