/*-------------------------------------------------------------------------
 *
 * lock.h
 *	  The advisory lock every writer of the history takes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_LOCK_H
#define MORGENMIGRATE_LOCK_H

extern void lock_history(void);
extern void lock_history_session(void);
extern void lock_release_session(void);

#endif							/* MORGENMIGRATE_LOCK_H */
