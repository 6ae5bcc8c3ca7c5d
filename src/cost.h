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

#include "costset.h"
#include "migration.h"

extern CostState *cost_begin(bool with_blockers);
extern void cost_begin_file(CostState *state, const MigrationScript *script);
extern List *cost_statement(CostState *state, const MigrationScript *script,
							const MigrationStatement *stmt);
extern void cost_finish_row(CostState *state, CostRow *row);
extern const char *cost_effect_name(CostEffect effect);
extern const char *cost_blocks(const CostRow *row);
extern bool cost_refused(const CostRow *row, int64 limit);
extern char *cost_bytes_text(int64 bytes);
extern char *cost_describe(const CostRow *row, int line);

#endif							/* MORGENMIGRATE_COST_H */
