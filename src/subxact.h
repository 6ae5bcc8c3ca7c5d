/*-------------------------------------------------------------------------
 *
 * subxact.h
 *	  Catching an error in an internal subtransaction, and rolling it back.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_SUBXACT_H
#define MORGENMIGRATE_SUBXACT_H

#include "postgres.h"

#include "utils/elog.h"
#include "utils/resowner.h"

extern ErrorData *subxact_catch(MemoryContext cxt, ResourceOwner owner);
extern void subxact_rollback(MemoryContext cxt, ResourceOwner owner);
extern ErrorData *subxact_catch_failure(MemoryContext cxt, ResourceOwner owner);
extern ErrorData *subxact_error_of(void (*fn) (void *arg), void *arg);
extern ErrorData *subxact_failure_of(void (*fn) (void *arg), void *arg);

#endif							/* MORGENMIGRATE_SUBXACT_H */
