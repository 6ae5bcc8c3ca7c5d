/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  One statement at top level, in a background worker: what no
 *	  transaction can hold (CREATE INDEX CONCURRENTLY, VACUUM, ...).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_WORKER_H
#define MORGENMIGRATE_WORKER_H

#include "postgres.h"


extern void worker_execute(const char *sql, const char *migration);
extern bool worker_still_running(void);
extern bool worker_build_marked(Oid indexoid);

#endif							/* MORGENMIGRATE_WORKER_H */
