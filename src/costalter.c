/*-------------------------------------------------------------------------
 *
 * costalter.c
 *	  What an ALTER TABLE (and ALTER INDEX, VIEW, MATERIALIZED VIEW,
 *	  FOREIGN TABLE) will cost: the lock is core's own answer
 *	  (AlterTableGetLockLevel, as tcop/utility.c asks it), the effect the
 *	  costliest of its subcommands', each decided as commands/tablecmds.c
 *	  decides it: the fast default of ATExecAddColumn, the binary-coercible
 *	  type changes of ATColumnChangeRequiresRewrite, the NOT NULL a valid
 *	  CHECK proves (NotNullImpliedByRelConstraints), NOT VALID constraints,
 *	  partitions attached and detached.  Expressions are parsed and their
 *	  volatility read, never evaluated; relations are not locked.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "catalog/heap.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "commands/tablespace.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_node.h"
#include "parser/parse_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "compat.h"
#include "costalter.h"

static void classify_add_column(CostState *st, RelRef *rel, ColumnDef *def,
								CostRow *row, List **rows);
static Node *column_default(ColumnDef *def);
static Constraint *column_constraint(ColumnDef *def, ConstrType contype);
static bool is_serial_type(TypeName *typname);
static bool default_is_volatile(TypeName *typname, Node *raw,
								const char *colname, char **shown);
static void classify_add_constraint(CostState *st, RelRef *rel,
									Constraint *con, CostRow *row,
									List **rows);
static char *column_list_text(List *names);
static void classify_alter_type(CostState *st, RelRef *rel,
								AlterTableCmd *cmd, CostRow *row);
static bool type_change_rewrites(Oid relid, AlterTableCmd *cmd,
								 AttrNumber *attnum, bool *known);
static bool change_needs_rewrite(Node *expr, AttrNumber attnum);
static bool column_has_checks(Oid relid, AttrNumber attnum);
static void classify_set_not_null(CostState *st, RelRef *rel,
								  const char *column, CostRow *row);
static bool not_null_implied(Oid relid, AttrNumber attnum);
static void classify_validate(CostState *st, RelRef *rel, const char *name,
							  CostRow *row, List **rows);
static void classify_partition_cmd(CostState *st, RelRef *rel,
								   AlterTableCmd *cmd, CostRow *row,
								   List **rows);
static bool has_valid_checks(Oid relid);

/*
 * ALTER TABLE (and ALTER INDEX, VIEW, MATERIALIZED VIEW, FOREIGN TABLE):
 * the lock is core's own answer (AlterTableGetLockLevel, as utility.c
 * asks it), the effect the costliest of the subcommands'.
 */
void
costalter_classify(CostState *st, AlterTableStmt *stmt, List **rows)
{
	RelRef		rel = costset_resolve(st, stmt->relation);
	LOCKMODE	mode = AlterTableGetLockLevel(stmt->cmds);
	CostRow    *row = costset_add_row(rows, &rel, mode, COST_CATALOG);
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
								RelRef		pk = costset_resolve_oid(con->confrelid);

								costset_add_row(rows, &pk, AccessExclusiveLock,
												COST_CATALOG);
							}
							ReleaseSysCache(tuple);
						}
					}
					costset_note_change(st, &st->constraints, relid, cmd->name);
					break;
				}
			case AT_DropColumn:
				costset_add_rule(row, RULE_DROP_COLUMN,
								 psprintf("DROP COLUMN %s", quote_identifier(cmd->name)));
				costset_note_change(st, &st->columns, relid, cmd->name);
				break;
			case AT_DropNotNull:
				costset_add_rule(row, RULE_DROP_NOT_NULL,
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
						costset_merge_effect(row, COST_REWRITE);
						costset_add_rule(row, RULE_PERSISTENCE,
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
						costset_merge_effect(row, COST_REWRITE);
						costset_add_rule(row, RULE_TABLESPACE,
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
						costset_merge_effect(row, COST_REWRITE);
						costset_add_rule(row, RULE_ACCESS_METHOD,
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
					costset_merge_effect(row, COST_REWRITE);
					costset_add_rule(row, RULE_SET_EXPRESSION,
									 psprintf("ALTER COLUMN %s SET EXPRESSION",
											  quote_identifier(cmd->name)));
				}
				else
					costset_merge_effect(row, COST_UNKNOWN);
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
 * both tables when the new column has a value in a table with rows (not
 * one the set created).  The fast default of
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

	costset_note_change(st, &st->columns, relid, def->colname);
	if (def->typeName != NULL && !is_serial_type(def->typeName))
	{
		typenameTypeIdAndMod(NULL, def->typeName, &typid, &typmod);
		if (typid == JSONOID)
			costset_add_rule(row, RULE_JSON_COLUMN,
							 psprintf("ADD COLUMN %s json", colname));
	}
	if (!storage)
		return;

	if (generated != NULL && mm_generated_is_stored(generated))
	{
		costset_merge_effect(row, COST_REWRITE);
		costset_add_rule(row, RULE_GENERATED_STORED,
						 psprintf("ADD COLUMN %s ... GENERATED ALWAYS AS (...) STORED",
								  colname));
		has_value = true;
	}
	else if (identity != NULL || (def->typeName && is_serial_type(def->typeName)))
	{
		costset_merge_effect(row, COST_REWRITE);
		costset_add_rule(row, RULE_AUTO_INCREMENT,
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
			costset_merge_effect(row, COST_REWRITE);
			costset_add_rule(row, RULE_VOLATILE_DEFAULT,
							 psprintf("ADD COLUMN %s ... DEFAULT %s", colname, shown));
		}
	}
	if (OidIsValid(typid) && DomainHasConstraints(typid))
	{
		costset_merge_effect(row, COST_REWRITE);
		costset_add_rule(row, RULE_DOMAIN_COLUMN,
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
					costset_merge_effect(row, COST_SCAN);
					costset_add_rule(row, RULE_REQUIRED_COLUMN,
									 psprintf("ADD COLUMN %s ... NOT NULL without a default",
											  colname));
				}
				break;
			case CONSTR_CHECK:
				if (mm_constraint_enforced(con))
				{
					costset_merge_effect(row, COST_SCAN);
					costset_add_rule(row, RULE_CHECK,
									 psprintf("ADD COLUMN %s ... CHECK", colname));
				}
				break;
			case CONSTR_PRIMARY:
			case CONSTR_UNIQUE:
				costset_merge_effect(row, COST_INDEX);
				costset_add_rule(row, RULE_UNIQUE,
								 psprintf("ADD COLUMN %s ... %s", colname,
										  con->contype == CONSTR_PRIMARY ?
										  "PRIMARY KEY" : "UNIQUE"));
				break;
			case CONSTR_FOREIGN:
				{
					RelRef		pk = costset_resolve(st, con->pktable);
					CostEffect	effect = has_value && mm_constraint_enforced(con) &&
						rel->origin != ORIGIN_CREATED ? COST_SCAN : COST_CATALOG;
					CostRow    *pkrow = costset_add_row(rows, &pk, ShareRowExclusiveLock,
														effect);

					/*
					 * a new column without a value, or of a table the set
					 * created (empty), has nothing to check
					 */
					if (effect == COST_SCAN)
					{
						char	   *what = psprintf("ADD COLUMN %s ... REFERENCES %s",
													colname, pk.name);

						costset_merge_effect(row, COST_SCAN);
						costset_add_rule(row, RULE_FOREIGN_KEY, what);
						costset_add_rule(pkrow, RULE_FOREIGN_KEY, what);
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
 * (a foreign key locks and reads the referenced table too, but reads
 * neither when the set created the table, still empty); PRIMARY KEY,
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
				costset_merge_effect(row, COST_SCAN);
				costset_add_rule(row, RULE_CHECK, psprintf("ADD %sCHECK", name));
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
				RelRef		pk = costset_resolve(st, con->pktable);

				/*
				 * the rows of a table the set created (still empty) are
				 * checked against nothing: neither table is read
				 */
				bool		checks = validated && rel->origin != ORIGIN_CREATED;
				CostRow    *pkrow = costset_add_row(rows, &pk, ShareRowExclusiveLock,
													checks ? COST_SCAN : COST_CATALOG);

				if (checks)
				{
					char	   *what = psprintf("ADD %sFOREIGN KEY (%s) REFERENCES %s",
												name, column_list_text(con->fk_attrs),
												pk.name);

					costset_merge_effect(row, COST_SCAN);
					costset_add_rule(row, RULE_FOREIGN_KEY, what);
					costset_add_rule(pkrow, RULE_FOREIGN_KEY, what);
				}
				break;
			}
		case CONSTR_PRIMARY:
		case CONSTR_UNIQUE:
			if (con->indexname == NULL)
			{
				costset_merge_effect(row, COST_INDEX);
				costset_add_rule(row, RULE_UNIQUE,
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
				RelRef		index = costset_resolve(st, irv);
				HeapTuple	tuple;

				if (index.origin != ORIGIN_EXISTING || !OidIsValid(relid))
				{
					costset_merge_effect(row, rel->origin == ORIGIN_CREATED ?
										 COST_CATALOG : COST_UNKNOWN);
					break;
				}
				tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index.relid));
				if (!HeapTupleIsValid(tuple))
				{
					costset_merge_effect(row, COST_UNKNOWN);
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
			costset_merge_effect(row, COST_INDEX);
			costset_add_rule(row, RULE_EXCLUSION, psprintf("ADD %sEXCLUDE", name));
			break;
		default:
			break;
	}

	/* what the set adds changes what SET NOT NULL and VALIDATE find */
	costset_note_change(st, &st->constraints, relid, NULL);
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
			RelRef		pk = costset_resolve(st, con->pktable);

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
		costset_merge_effect(row, COST_REWRITE);	/* as the origin allows */
	else if (costset_changed(st->columns, relid, cmd->name))
		costset_merge_effect(row, COST_UNKNOWN);
	else if (type_change_rewrites(relid, cmd, &attnum, &known))
	{
		costset_merge_effect(row, COST_REWRITE);
		costset_add_rule(row, RULE_TYPE_CHANGE, what);
	}
	else if (!known)
		costset_merge_effect(row, COST_UNKNOWN);
	else if (column_has_checks(relid, attnum))
	{
		costset_merge_effect(row, COST_SCAN);
		costset_add_rule(row, RULE_TYPE_CHANGE_CHECKS, what);
	}
	costset_note_change(st, &st->columns, relid, cmd->name);
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
	ListCell   *lc;

	foreach(lc, costset_constraints_of(relid))
	{
		HeapTuple	tuple = (HeapTuple) lfirst(lc);
		Datum		conkey;
		bool		isnull;
		ArrayType  *arr;
		int16	   *keys;

		if (((Form_pg_constraint) GETSTRUCT(tuple))->contype != CONSTRAINT_CHECK)
			continue;
		conkey = SysCacheGetAttr(CONSTROID, tuple, Anum_pg_constraint_conkey,
								 &isnull);
		if (isnull)
			continue;
		arr = DatumGetArrayTypeP(conkey);
		keys = (int16 *) ARR_DATA_PTR(arr);
		for (int i = 0; i < ARR_DIMS(arr)[0]; i++)
			if (keys[i] == attnum)
				return true;
	}
	return false;
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
		costset_merge_effect(row, COST_SCAN);	/* as the origin allows */
		return;
	}
	if (costset_changed(st->columns, relid, column) ||
		costset_changed(st->constraints, relid, NULL))
	{
		costset_merge_effect(row, COST_UNKNOWN);
		return;
	}
	tuple = SearchSysCacheAttName(relid, column);
	if (!HeapTupleIsValid(tuple))
	{
		costset_merge_effect(row, COST_UNKNOWN);
		return;
	}
	notnull = ((Form_pg_attribute) GETSTRUCT(tuple))->attnotnull;
	attnum = ((Form_pg_attribute) GETSTRUCT(tuple))->attnum;
	ReleaseSysCache(tuple);
	if (notnull || not_null_implied(relid, attnum))
		return;
	costset_merge_effect(row, COST_SCAN);
	costset_add_rule(row, RULE_SET_NOT_NULL,
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
	List	   *checks = NIL;
	NullTest   *test = makeNode(NullTest);
	HeapTuple	atttuple = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid),
										   Int16GetDatum(attnum));
	Form_pg_attribute att;
	ListCell   *lc;

	if (!HeapTupleIsValid(atttuple))
		return false;
	att = (Form_pg_attribute) GETSTRUCT(atttuple);
	test->arg = (Expr *) makeVar(1, attnum, att->atttypid, att->atttypmod,
								 att->attcollation, 0);
	test->nulltesttype = IS_NOT_NULL;
	test->argisrow = false;
	test->location = -1;
	ReleaseSysCache(atttuple);

	foreach(lc, costset_constraints_of(relid))
	{
		HeapTuple	tuple = (HeapTuple) lfirst(lc);
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tuple);
		Datum		conbin;
		bool		isnull;
		Node	   *expr;

		if (con->contype != CONSTRAINT_CHECK || !con->convalidated)
			continue;
		conbin = SysCacheGetAttr(CONSTROID, tuple, Anum_pg_constraint_conbin,
								 &isnull);
		if (isnull)
			continue;
		expr = stringToNode(TextDatumGetCString(conbin));
		expr = eval_const_expressions(NULL, expr);
		expr = (Node *) canonicalize_qual((Expr *) expr, true);
		checks = list_concat(checks, make_ands_implicit((Expr *) expr));
	}
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
	const SetChange *added = costset_added_constraint(st, relid, name);
	char		contype = '?';
	bool		valid = false;
	RelRef		pk = costset_no_relation();
	ListCell   *lc;

	if (rel->origin != ORIGIN_EXISTING)
	{
		costset_merge_effect(row, COST_SCAN);
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
			costset_merge_effect(row, COST_UNKNOWN);
			return;
		}
		contype = ((Form_pg_constraint) GETSTRUCT(tuple))->contype;
		valid = ((Form_pg_constraint) GETSTRUCT(tuple))->convalidated;
		if (contype == CONSTRAINT_FOREIGN)
			pk = costset_resolve_oid(((Form_pg_constraint) GETSTRUCT(tuple))->confrelid);
		ReleaseSysCache(tuple);
	}
	if (valid)
		return;
	costset_merge_effect(row, COST_SCAN);
	if (contype == CONSTRAINT_FOREIGN && pk.origin != ORIGIN_NONE)
		costset_add_row(rows, &pk, RowShareLock, COST_SCAN);
	foreach(lc, st->not_valid_here)
	{
		if (strcmp((char *) lfirst(lc), name) == 0)
		{
			costset_add_rule(row, RULE_VALIDATE_SAME_FILE,
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
	RelRef		part = costset_resolve(st, pc->name);
	Oid			defpart = rel->origin == ORIGIN_EXISTING ?
		get_default_partition_oid(rel->relid) : InvalidOid;
	bool		attach = cmd->subtype == AT_AttachPartition;
	CostRow    *partrow;

	row->recurse = false;		/* the other partitions are not touched */
	if (!attach && pc->concurrent)
	{
		costset_add_row(rows, &part, ShareUpdateExclusiveLock, COST_CATALOG);
		return;
	}
	partrow = costset_add_row(rows, &part, AccessExclusiveLock, COST_CATALOG);
	partrow->recurse = true;
	if (attach)
	{
		if (part.origin == ORIGIN_EXISTING && has_valid_checks(part.relid))
			costset_merge_effect(partrow, COST_UNKNOWN);
		else
		{
			costset_merge_effect(partrow, COST_SCAN);
			costset_add_rule(partrow, RULE_ATTACH_PARTITION,
							 psprintf("ATTACH PARTITION %s", part.name));
		}
	}
	else
		costset_add_rule(row, RULE_DETACH_PARTITION,
						 psprintf("DETACH PARTITION %s", part.name));

	if (OidIsValid(defpart) && defpart != part.relid)
	{
		RelRef		def = costset_resolve_oid(defpart);
		CostRow    *defrow = costset_add_row(rows, &def, AccessExclusiveLock,
											 attach ? COST_SCAN : COST_CATALOG);

		if (attach)
			costset_add_rule(defrow, RULE_DEFAULT_PARTITION,
							 psprintf("ATTACH PARTITION %s", part.name));
	}
}

/* Tells whether a relation has valid CHECK constraints. */
static bool
has_valid_checks(Oid relid)
{
	ListCell   *lc;

	foreach(lc, costset_constraints_of(relid))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT((HeapTuple) lfirst(lc));

		if (con->contype == CONSTRAINT_CHECK && con->convalidated)
			return true;
	}
	return false;
}
