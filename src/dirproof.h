/*-------------------------------------------------------------------------
 *
 * dirproof.h
 *	  A directory's proof: that a migrate_apply of it found nothing to do,
 *	  kept with what that answer depended on, so that a later session
 *	  that finds all of it as it was answers the same without reading
 *	  the history's rows or the files' fingerprints one by one.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_DIRPROOF_H
#define MORGENMIGRATE_DIRPROOF_H

#include "postgres.h"

#include <time.h>

#include "nodes/pg_list.h"

#include "history.h"

extern bool dirproof_stands(const char *path);
extern int *dirproof_order(const char *path, History **history);
extern void dirproof_keep(const char *path, const History *history,
						  const List *entries, const struct timespec *started);

#endif							/* MORGENMIGRATE_DIRPROOF_H */
