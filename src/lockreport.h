/*-------------------------------------------------------------------------
 *
 * lockreport.h
 *	  The locks a rehearsed migration took.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_LOCKREPORT_H
#define MORGENMIGRATE_LOCKREPORT_H

#include "postgres.h"

#include "nodes/pg_list.h"

/* The relation locks a backend holds, with the catalog as it was then. */
typedef struct HeldLocks HeldLocks;

extern HeldLocks *lockreport_held(void);
extern Datum lockreport_taken(HeldLocks *before);
extern Datum lockreport_append(Datum locks, List *lines);
extern void lockreport_note_held(int nrehearsed);

#endif							/* MORGENMIGRATE_LOCKREPORT_H */
