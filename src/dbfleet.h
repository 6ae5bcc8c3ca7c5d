/*-------------------------------------------------------------------------
 *
 * dbfleet.h
 *	  One call over many databases of the cluster: a background worker per
 *	  database runs the call there, at most max_parallel at a time.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_DBFLEET_H
#define MORGENMIGRATE_DBFLEET_H

#include "postgres.h"

#include "nodes/execnodes.h"
#include "nodes/pg_list.h"

extern void dbfleet_run(const char *path, List *databases,
						const char *target, int max_parallel);
extern void dbfleet_status(const char *path, List *databases,
						   int max_parallel, ReturnSetInfo *rsinfo);
extern void dbfleet_check(const char *path, List *databases,
						  int max_parallel);

#endif							/* MORGENMIGRATE_DBFLEET_H */
