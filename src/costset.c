/*-------------------------------------------------------------------------
 *
 * costset.c
 *	  The pieces every classifier of cost.c and costalter.c builds with: a
 *	  statement's rows (one per relation, merged when it touches one
 *	  twice), and what the set did so far, by name: a relation created
 *	  (empty), filled, renamed or dropped by an earlier statement, a column
 *	  or constraint changed, a constraint added.  Names are resolved
 *	  against the set first, then against the catalog, without a lock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_constraint.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "costset.h"

/*
 * The row of a relation in a statement's rows, added or, when the
 * statement touches it twice, merged: the stronger lock, the costlier
 * effect.
 */
CostRow *
costset_add_row(List **rows, RelRef *rel, LOCKMODE mode, CostEffect effect)
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
			costset_merge_effect(row, effect);
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
void
costset_add_rule(CostRow *row, CostRule rule, char *what)
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
void
costset_merge_effect(CostRow *row, CostEffect effect)
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
RelRef
costset_resolve(CostState *st, RangeVar *rv)
{
	RelRef		rel;
	SetNames   *entry = hash_search(st->names, rv->relname, HASH_FIND, NULL);
	ListCell   *lc;
	Oid			relid;

	foreach(lc, entry ? entry->names : NIL)
	{
		SetName    *n = (SetName *) lfirst(lc);

		if (strcmp(n->relname, rv->relname) != 0 ||
			(n->schemaname != NULL && rv->schemaname != NULL &&
			 strcmp(n->schemaname, rv->schemaname) != 0))
			continue;
		if (n->origin == ORIGIN_EXISTING)
			return costset_resolve_oid(n->relid);
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
		return costset_resolve_oid(relid);
	rel.origin = ORIGIN_UNKNOWN;
	rel.relid = InvalidOid;
	rel.table_relid = InvalidOid;
	rel.name = rv->schemaname ?
		quote_qualified_identifier(rv->schemaname, rv->relname) :
		quote_identifier(rv->relname);
	return rel;
}

/* An existing relation by its oid, named with its schema. */
RelRef
costset_resolve_oid(Oid relid)
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
RelRef
costset_no_relation(void)
{
	RelRef		rel;

	rel.origin = ORIGIN_NONE;
	rel.relid = InvalidOid;
	rel.name = NULL;
	rel.table_relid = InvalidOid;
	return rel;
}

/*
 * Begins the state of a set in st->cxt: no name has a meaning of the set's
 * yet.  The names are kept by relation name, so that a set of thousands
 * of files finds one in a step, not a walk.
 */
void
costset_begin(CostState *st)
{
	HASHCTL		ctl;

	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(SetNames);
	ctl.hcxt = st->cxt;
	st->names = hash_create("morgenmigrate names of a set", 256, &ctl,
							HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

/* Notes what a relation name means from now on in the set; returns it. */
SetName *
costset_note_name(CostState *st, const char *schemaname, const char *relname,
						  CostOrigin origin, Oid relid)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(st->cxt);
	SetName    *n = palloc0(sizeof(SetName));
	char		key[NAMEDATALEN];
	SetNames   *entry;
	bool		found;

	n->schemaname = schemaname ? pstrdup(schemaname) : NULL;
	n->relname = pstrdup(relname);
	n->origin = origin == ORIGIN_NONE ? ORIGIN_UNKNOWN : origin;
	n->relid = relid;
	strlcpy(key, relname, NAMEDATALEN);
	entry = hash_search(st->names, key, HASH_ENTER, &found);
	entry->names = lcons(n, found ? entry->names : NIL);
	MemoryContextSwitchTo(oldcxt);
	return n;
}

/* Notes a relation the set creates: empty, or filled by its query. */
void
costset_note_created(CostState *st, RangeVar *rv, bool filled)
{
	costset_note_name(st, rv->schemaname, rv->relname,
					  filled ? ORIGIN_FILLED : ORIGIN_CREATED, InvalidOid);
}

/* Notes that rows went into a relation the set created. */
void
costset_note_filled(CostState *st, RelRef *rel, RangeVar *rv)
{
	if (rel->origin == ORIGIN_CREATED)
		costset_note_name(st, rv->schemaname, rv->relname, ORIGIN_FILLED, InvalidOid);
}

/*
 * Notes a column or constraint (NULL: all of the relation's) that the set
 * changed, of an existing relation.
 */
void
costset_note_change(CostState *st, List **list, Oid relid, const char *name)
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
bool
costset_changed(List *list, Oid relid, const char *name)
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
const SetChange *
costset_added_constraint(CostState *st, Oid relid, const char *name)
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
 * The pg_constraint rows of a relation, copied, read without locking the
 * relation.
 */
List *
costset_constraints_of(Oid relid)
{
	Relation	pg_constraint = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *result = NIL;

	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(pg_constraint, ConstraintRelidTypidNameIndexId,
							  true, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
		result = lappend(result, heap_copytuple(tuple));
	systable_endscan(scan);
	table_close(pg_constraint, AccessShareLock);
	return result;
}
