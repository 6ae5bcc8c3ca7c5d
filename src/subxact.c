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
