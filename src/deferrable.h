/*-------------------------------------------------------------------------
 *
 * deferrable.h
 *	  Whether any trigger of the database can be deferred.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_DEFERRABLE_H
#define MORGENMIGRATE_DEFERRABLE_H

#include "postgres.h"

extern bool deferrable_triggers_may_exist(void);
extern void deferrable_drop_caches(void);

#endif							/* MORGENMIGRATE_DEFERRABLE_H */
