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

#include "lib/stringinfo.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/shm_toc.h"
#include "tcop/dest.h"

/* Who a worker is: the backend that launched it, as it was then. */
typedef struct WorkerIdentity
{
	Oid			authenticated_user_id;
	Oid			outer_user_id;	/* the role of SET ROLE, or InvalidOid */
	Oid			current_user_id;
	int			sec_context;
} WorkerIdentity;

extern void worker_execute(const char *sql, const char *migration);
extern bool worker_still_running(void);
extern bool worker_build_marked(Oid indexoid);

extern BackgroundWorkerHandle *worker_launch(dsm_segment *seg,
											 const char *function,
											 const char *type);
extern ErrorData *worker_message(StringInfo msg, const char *context);
extern bool worker_stop(BackgroundWorkerHandle *handle, long timeout_ms,
						bool interruptible);
extern void worker_execute_top_level(const char *sql, DestReceiver *receiver);
extern shm_toc *worker_attach(Datum main_arg, uint64 magic, uint64 queue_key);
extern void worker_identity_capture(WorkerIdentity *identity);
extern void worker_identity_assume(const WorkerIdentity *identity);

/*
 * Set by a module above (drift.c, to know that what a worker runs is a
 * migration's): called in the worker before its statement runs.
 */
typedef void (*WorkerHook) (void);
extern WorkerHook worker_start_hook;

#endif							/* MORGENMIGRATE_WORKER_H */
