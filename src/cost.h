/*-------------------------------------------------------------------------
 *
 * cost.h
 *	  What a migration's statement will cost before it runs: per relation
 *	  it touches, the lock it takes, whether it changes only the catalog,
 *	  reads every row, builds an index or rewrites the table, the
 *	  relation's size, who stands in its way now, and the safe pattern.
 *	  Read from the raw parse tree and the catalog: nothing runs, and no
 *	  relation is locked.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_COST_H
#define MORGENMIGRATE_COST_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "storage/lockdefs.h"

#include "migration.h"

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

/* The state of a set of migrations being classified in run order. */
typedef struct CostState CostState;

extern CostState *cost_begin(bool with_blockers);
extern void cost_begin_file(CostState *state, const MigrationScript *script);
extern List *cost_statement(CostState *state, const MigrationScript *script,
							const MigrationStatement *stmt);
extern const char *cost_effect_name(CostEffect effect);
extern const char *cost_blocks(const CostRow *row);
extern bool cost_refused(const CostRow *row, int64 limit);
extern char *cost_bytes_text(int64 bytes);
extern char *cost_describe(const CostRow *row, int line);

#endif							/* MORGENMIGRATE_COST_H */
