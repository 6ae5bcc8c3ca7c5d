/*-------------------------------------------------------------------------
 *
 * fleet.h
 *	  One call over many tenant schemas: each migrated with its own
 *	  search_path, history and lock.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_FLEET_H
#define MORGENMIGRATE_FLEET_H

#include "postgres.h"

#include "nodes/execnodes.h"
#include "nodes/pg_list.h"

#include "commands.h"

extern void fleet_apply(const char *path, List *schemas,
						const ApplyOptions *options, ReturnSetInfo *rsinfo);
extern void fleet_status(const char *path, List *schemas,
						 ReturnSetInfo *rsinfo);
extern void fleet_check(const char *path, List *schemas);
extern void fleet_plan(const char *path, List *schemas, const char *target,
					   int steps, ReturnSetInfo *rsinfo);
extern void fleet_run(const char *path, List *schemas, const char *target);

#endif							/* MORGENMIGRATE_FLEET_H */
