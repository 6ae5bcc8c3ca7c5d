/*-------------------------------------------------------------------------
 *
 * costcache.h
 *	  The classification of a session's last plan, kept until the catalog
 *	  may have changed: what migrate_plan made of each statement of a set
 *	  of pending files, without the sizes and the sessions in the way,
 *	  which are read anew on every call.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_COSTCACHE_H
#define MORGENMIGRATE_COSTCACHE_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

/* One statement of a kept plan: where it is, and its classified rows. */
typedef struct KeptStatement
{
	int			line;
	char	   *command;
	List	   *rows;			/* CostRow, as cost_statement gave them */
} KeptStatement;

/* When a classification began: the invalidation messages read until then. */
typedef struct CostCacheStamp
{
	uint64		sinval;			/* SharedInvalidMessageCounter */
} CostCacheStamp;

extern bool costcache_usable(void);
extern void costcache_key_add(StringInfo key, const char *value);
extern void costcache_key_settings(StringInfo key);
extern List *costcache_lookup(const StringInfo key, CostCacheStamp *stamp,
							  int *nrows);
extern void costcache_begin(const StringInfo key, const CostCacheStamp *stamp);
extern void costcache_add_file(void);
extern void costcache_add_statement(int line, const char *command, List *rows);
extern void costcache_finish(void);
extern void costcache_forget(void);

#endif							/* MORGENMIGRATE_COSTCACHE_H */
