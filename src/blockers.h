/*-------------------------------------------------------------------------
 *
 * blockers.h
 *	  The sessions that stand in a migration's way: those holding or
 *	  awaiting a lock that conflicts with one it needs, seen in the lock
 *	  manager now (for a plan), or as of a lock timeout that ended a try.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_BLOCKERS_H
#define MORGENMIGRATE_BLOCKERS_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "storage/lock.h"

/* every lock of the server at one moment, as pg_locks shows them */
extern LockData *blockers_snapshot(void);
extern List *blockers_on_relations(LockData *locks, List *relids,
								   LOCKMODE mode);

/* Who blocked the lock wait that a lock timeout ended. */
typedef struct LockTimeoutBlockers
{
	char	   *text;			/* one line per session, for messages */
	char	   *json;			/* a jsonb array of objects, for the history */
} LockTimeoutBlockers;

extern void blockers_watch(void);
extern void blockers_unwatch(void);
extern bool blockers_noted_wait(LOCKTAG *tag, LOCKMODE *mode);
extern void blockers_note_wait(const LOCKTAG *tag, LOCKMODE mode);
extern LockTimeoutBlockers *blockers_after_timeout(void);

#endif							/* MORGENMIGRATE_BLOCKERS_H */
