/*-------------------------------------------------------------------------
 *
 * costset.h
 *	  What the classification of a migration's statements shares (cost.c
 *	  and costalter.c): the rows a statement yields, one per relation it
 *	  touches, and what the statements before it in the set did to the
 *	  names, columns and constraints of the database.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_COSTSET_H
#define MORGENMIGRATE_COSTSET_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "nodes/primnodes.h"
#include "storage/lock.h"
#include "utils/hsearch.h"

/* What a statement does to a relation, cheapest first. */
typedef enum CostEffect
{
	COST_CATALOG,				/* changes the catalog only */
	COST_SCAN,					/* reads every row under its lock */
	COST_INDEX,					/* builds an index */
	COST_REWRITE,				/* writes a new copy of the table */
	COST_DATA,					/* reads or writes rows (DML) */
	COST_UNKNOWN				/* cannot be told before it runs */
} CostEffect;

/* Where a relation a statement names comes from. */
typedef enum CostOrigin
{
	ORIGIN_NONE,				/* the statement touches no relation */
	ORIGIN_EXISTING,			/* a relation of the database */
	ORIGIN_CREATED,				/* created, still empty, earlier in the set */
	ORIGIN_FILLED,				/* created and filled earlier in the set */
	ORIGIN_UNKNOWN				/* not there: dropped earlier in the set, or
								 * missing */
} CostOrigin;

/* What one statement does to one relation. */
typedef struct CostRow
{
	CostOrigin	origin;
	Oid			relid;			/* ORIGIN_EXISTING: the relation */
	const char *relname;		/* the relation as shown in advice */
	bool		recurse;		/* it reaches the relation's inheritance
								 * children (partitions) too */
	LOCKMODE	lockmode;		/* the lock taken on it; NoLock: none */
	CostEffect	effect;
	bool		every_row_locked;	/* an UPDATE or DELETE of every row */
	List	   *rules;			/* CostAdvice: what is unsafe, and why */

	/* filled in once classified */
	int64		bytes;			/* with indexes, TOAST, children; -1:
								 * unknown */
	List	   *blockers;		/* pids in its way now, when asked for */
	char	   *advice;			/* NULL when nothing is unsafe */
} CostRow;

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

/* The meanings the set gave one relation name, newest first. */
typedef struct SetNames
{
	char		relname[NAMEDATALEN];	/* the key */
	List	   *names;			/* SetName */
} SetNames;

/* The state of a set of migrations being classified in run order. */
typedef struct CostState
{
	MemoryContext cxt;			/* the state's memory, for the call */
	HTAB	   *names;			/* relation name -> SetNames */
	List	   *columns;		/* SetChange: columns */
	List	   *constraints;	/* SetChange: constraints */
	List	   *not_valid_here; /* names of constraints this file added NOT
								 * VALID */
	HTAB	   *sizes;			/* relid -> SizeEntry (whole tree) */
	LockData   *locks;			/* the server's locks when planning began */
} CostState;

/* A relation as a statement names it, resolved against the set. */
typedef struct RelRef
{
	CostOrigin	origin;
	Oid			relid;
	const char *name;
	Oid			table_relid;	/* see SetName */
} RelRef;

extern CostRow *costset_add_row(List **rows, RelRef *rel, LOCKMODE mode,
								CostEffect effect);
extern void costset_add_rule(CostRow *row, CostRule rule, char *what);
extern void costset_merge_effect(CostRow *row, CostEffect effect);
extern RelRef costset_resolve(CostState *st, RangeVar *rv);
extern RelRef costset_resolve_oid(Oid relid);
extern RelRef costset_no_relation(void);
extern void costset_begin(CostState *st);
extern SetName *costset_note_name(CostState *st, const char *schemaname,
								  const char *relname, CostOrigin origin,
								  Oid relid);
extern void costset_note_created(CostState *st, RangeVar *rv, bool filled);
extern void costset_note_filled(CostState *st, RelRef *rel, RangeVar *rv);
extern void costset_note_change(CostState *st, List **list, Oid relid,
								const char *name);
extern bool costset_changed(List *list, Oid relid, const char *name);
extern const SetChange *costset_added_constraint(CostState *st, Oid relid,
												 const char *name);
extern List *costset_constraints_of(Oid relid);

#endif							/* MORGENMIGRATE_COSTSET_H */
