/*-------------------------------------------------------------------------
 *
 * citus.h
 *	  Migrations of a Citus cluster, run on its coordinator (citus.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_CITUS_H
#define MORGENMIGRATE_CITUS_H

#include "nodes/nodes.h"
#include "utils/elog.h"

/* the relation locks the workers hold for this transaction */
typedef struct CitusLocks
{
	int			n;
	void	   *locks;			/* WorkerLock, citus.c's own */
} CitusLocks;

extern bool citus_active(void);
extern void citus_refuse_on_worker(const char *funcname);
extern void citus_propagate_lock_timeout(void);
extern const char *citus_top_level_call(Node *select, const char **hint);
extern void citus_explain_error(ErrorData *edata);
extern void citus_note_file(const char *filename);
extern CitusLocks *citus_worker_locks(void);
extern Datum citus_report_worker_locks(Datum report, CitusLocks *before);

#endif							/* MORGENMIGRATE_CITUS_H */
