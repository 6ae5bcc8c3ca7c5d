/*-------------------------------------------------------------------------
 *
 * lock.h
 *	  The advisory lock every writer of the history takes (of the database's
 *	  history, or of a tenant schema's).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_LOCK_H
#define MORGENMIGRATE_LOCK_H

#include "postgres.h"

extern void lock_set_schema(Oid nsp);
extern void lock_history(void);
extern void lock_history_session(void);
extern void lock_release_session(void);

#endif							/* MORGENMIGRATE_LOCK_H */
