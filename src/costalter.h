/*-------------------------------------------------------------------------
 *
 * costalter.h
 *	  What an ALTER TABLE will cost, subcommand by subcommand.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_COSTALTER_H
#define MORGENMIGRATE_COSTALTER_H

#include "postgres.h"

#include "nodes/parsenodes.h"

#include "costset.h"

extern void costalter_classify(CostState *st, AlterTableStmt *stmt,
							   List **rows);

#endif							/* MORGENMIGRATE_COSTALTER_H */
