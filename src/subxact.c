/*-------------------------------------------------------------------------
 *
 * subxact.c
 *	  Internal subtransactions whose error is caught: the error copied, the
 *	  subtransaction rolled back, the memory context and resource owner
 *	  put back, as PL/pgSQL's exec_stmt_block and plpython's
 *	  PLy_spi_subtransaction_abort do.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"

#include "subxact.h"

/*
 * In the PG_CATCH of an internal subtransaction begun in cxt under owner:
 * the error, copied into cxt, the subtransaction rolled back, and cxt and
 * owner current again (as exec_stmt_block of PL/pgSQL does).
 */
ErrorData *
subxact_catch(MemoryContext cxt, ResourceOwner owner)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	FlushErrorState();
	subxact_rollback(cxt, owner);
	return edata;
}

/*
 * subxact_catch for the callers that take an error as a verdict on their
 * work: a cancel (pg_cancel_backend, statement_timeout) is no verdict, it
 * stops the call, and is raised again once the subtransaction is gone.
 */
ErrorData *
subxact_catch_failure(MemoryContext cxt, ResourceOwner owner)
{
	ErrorData  *edata = subxact_catch(cxt, owner);

	if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
		ReThrowError(edata);
	return edata;
}

/*
 * Rolls back the internal subtransaction begun in cxt under owner, which
 * become current again.
 */
void
subxact_rollback(MemoryContext cxt, ResourceOwner owner)
{
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
}

/*
 * The error fn(arg) raises, caught in an internal subtransaction that is
 * then rolled back; NULL when it raises none (its work then stays, the
 * subtransaction committed into the caller's transaction).
 */
ErrorData *
subxact_error_of(void (*fn) (void *arg), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		edata = subxact_catch(cxt, owner);
	}
	PG_END_TRY();
	return edata;
}

/*
 * subxact_error_of, with a cancel raised again as subxact_catch_failure
 * does: the error is fn's failure, never the user stopping the call.
 */
ErrorData *
subxact_failure_of(void (*fn) (void *arg), void *arg)
{
	ErrorData  *edata = subxact_error_of(fn, arg);

	if (edata != NULL && edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
		ReThrowError(edata);
	return edata;
}
