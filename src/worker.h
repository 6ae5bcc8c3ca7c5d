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

/*
 * Set by a module above (drift.c, to know that what a worker runs is a
 * migration's): called in the worker before its statement runs.
 */
typedef void (*WorkerHook) (void);
extern WorkerHook worker_start_hook;

#endif							/* MORGENMIGRATE_WORKER_H */
