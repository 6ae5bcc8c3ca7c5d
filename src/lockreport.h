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

/* The relation locks a backend holds, with the catalog as it was then. */
typedef struct HeldLocks HeldLocks;

extern HeldLocks *lockreport_held(void);
extern Datum lockreport_taken(HeldLocks *before);
extern void lockreport_note_held(int nrehearsed);

#endif							/* MORGENMIGRATE_LOCKREPORT_H */
