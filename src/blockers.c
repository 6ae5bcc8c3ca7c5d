/*-------------------------------------------------------------------------
 *
 * blockers.c
 *	  The sessions in a migration's way: those that hold, or wait for, a
 *	  lock conflicting with one the migration needs.  For a plan, read from
 *	  the lock manager as pg_locks reads it (GetLockStatusData); after a
 *	  lock timeout, for the very lock the timed-out wait was for, with what
 *	  pg_stat_activity says of each session.
 *
 * PostgreSQL leaves its lock wait before it raises "canceling statement
 * due to lock timeout" (ProcessInterrupts calls LockErrorCleanup first),
 * so by the time the error can be caught nothing says any more which lock
 * was awaited.  While a migration's statements run with a lock_timeout, a
 * timer of ours therefore notes the lock this backend waits for, every
 * half lock_timeout: a wait that lasts the whole lock_timeout is seen at
 * least once.  The handler only copies the awaited lock's tag out of our
 * own PGPROC, as a signal handler may.
 *
 * A statement that migrate_run hands to its background worker (CREATE
 * INDEX CONCURRENTLY) waits there: the worker watches its own waits the
 * same way and, when its lock_timeout strikes, sends what it noted to its
 * caller, which names the blockers as if it had waited itself.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "blockers.h"
#include "morgenmigrate.h"

/* The timer that notes the lock this backend waits for. */
static TimeoutId watch_timeout = MAX_TIMEOUTS;
static bool watching = false;
static int	watch_interval = 0;	/* ms between two looks */

/* What the timer noted: the awaited lock, and in which mode. */
static volatile sig_atomic_t wait_seen = false;
static LOCKTAG wait_tag;
static LOCKMODE wait_mode;

static void note_lock_wait(void);
static bool conflicts(const LockInstanceData *inst, LOCKMODE mode,
					  const LOCKMASK *conflict_tab, bool waiting);
static bool is_ours(const LockInstanceData *inst);
static int	cmp_int(const void *a, const void *b);
static List *sorted_unique(List *pids);

/* Every lock of the server now, as pg_locks reads them. */
LockData *
blockers_snapshot(void)
{
	return GetLockStatusData();
}

/*
 * The pids of the other sessions that hold, or wait for, a lock on one of
 * these relations of this database that conflicts with mode, in order.
 */
List *
blockers_on_relations(LockData *locks, List *relids, LOCKMODE mode)
{
	LOCKTAG		tag;
	LockMethod	method;
	List	   *pids = NIL;

	if (locks == NULL || mode == NoLock || relids == NIL)
		return NIL;
	SET_LOCKTAG_RELATION(tag, MyDatabaseId, linitial_oid(relids));
	method = GetLockTagsMethodTable(&tag);
	for (int i = 0; i < locks->nelements; i++)
	{
		const LockInstanceData *inst = &locks->locks[i];

		if (inst->locktag.locktag_type != LOCKTAG_RELATION ||
			inst->locktag.locktag_field1 != MyDatabaseId ||
			!list_member_oid(relids, inst->locktag.locktag_field2) ||
			is_ours(inst))
			continue;
		if (conflicts(inst, mode, method->conflictTab, true))
			pids = lappend_int(pids, inst->pid);
	}
	return sorted_unique(pids);
}

/*
 * Tells whether a lock instance conflicts with mode: a held mode does, or,
 * if waiting counts, an awaited one.
 */
static bool
conflicts(const LockInstanceData *inst, LOCKMODE mode,
		  const LOCKMASK *conflict_tab, bool waiting)
{
	if ((inst->holdMask & conflict_tab[mode]) != 0)
		return true;
	return waiting && inst->waitLockMode != NoLock &&
		(conflict_tab[mode] & LOCKBIT_ON(inst->waitLockMode)) != 0;
}

/* Tells whether a lock instance is this backend's or its lock group's. */
static bool
is_ours(const LockInstanceData *inst)
{
	int			leader = MyProc->lockGroupLeader != NULL ?
		MyProc->lockGroupLeader->pid : MyProcPid;

	return inst->pid == MyProcPid || inst->leaderPid == leader;
}

/* qsort comparator: ints. */
static int
cmp_int(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* A list of pids sorted, each once. */
static List *
sorted_unique(List *pids)
{
	List	   *result = NIL;
	int			n = list_length(pids);
	int		   *sorted;

	if (n == 0)
		return NIL;
	sorted = palloc(sizeof(int) * n);
	for (int i = 0; i < n; i++)
		sorted[i] = list_nth_int(pids, i);
	qsort(sorted, n, sizeof(int), cmp_int);
	for (int i = 0; i < n; i++)
		if (i == 0 || sorted[i] != sorted[i - 1])
			result = lappend_int(result, sorted[i]);
	pfree(sorted);
	list_free(pids);
	return result;
}

/*
 * Timeout handler: notes the lock this backend waits for, if any.  Runs
 * in a signal handler: it only copies from our own PGPROC.  The timer
 * stays set while a backend ends (pg_terminate_backend in a statement),
 * past the point where it gives up its PGPROC (MyProc NULL).
 */
static void
note_lock_wait(void)
{
	volatile PGPROC *proc = MyProc;
	LOCK	   *lock;

	if (proc == NULL)
		return;
	lock = proc->waitLock;
	if (lock != NULL)
	{
		wait_tag = lock->tag;
		wait_mode = proc->waitLockMode;
		wait_seen = true;
	}
}

/*
 * Notes the locks this backend waits for while the next statement runs,
 * if it runs under a lock_timeout; forgets what an earlier one noted.
 * Called before each statement: the timer is set again only when the
 * lock_timeout changed (a file may SET it).
 */
void
blockers_watch(void)
{
	int			interval = Max(LockTimeout / 2, 1);

	wait_seen = false;
	if (LockTimeout <= 0)
	{
		blockers_unwatch();
		return;
	}
	/* (an error outside us may have ended every timeout) */
	if (watching && interval == watch_interval &&
		get_timeout_active(watch_timeout))
		return;
	if (watch_timeout == MAX_TIMEOUTS)
		watch_timeout = RegisterTimeout(USER_TIMEOUT, note_lock_wait);
	enable_timeout_every(watch_timeout,
						 TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													 interval),
						 interval);
	watching = true;
	watch_interval = interval;
}

/* Stops noting lock waits; what was noted stays for blockers_after_timeout. */
void
blockers_unwatch(void)
{
	if (!watching)
		return;
	disable_timeout(watch_timeout, false);
	watching = false;
}

/*
 * What the timer noted of the last watched wait, if it noted one: the
 * awaited lock and the mode asked for.
 */
bool
blockers_noted_wait(LOCKTAG *tag, LOCKMODE *mode)
{
	if (!wait_seen)
		return false;
	*tag = wait_tag;
	*mode = wait_mode;
	return true;
}

/*
 * Takes a lock wait noted elsewhere (by the background worker that ran a
 * statement for this backend) as the last watched wait of this backend.
 */
void
blockers_note_wait(const LOCKTAG *tag, LOCKMODE mode)
{
	wait_tag = *tag;
	wait_mode = mode;
	wait_seen = true;
}

/*
 * Who held the lock that the last watched wait was for, and so made it
 * end in a lock timeout: the sessions holding it in a conflicting mode,
 * or, when none does any more, those waiting for it in one (they were
 * ahead in the queue); each with its application, user, state, how long
 * its transaction has been open and its query, from pg_stat_activity.
 * NULL when no wait was noted or nobody stands in its way now.  Needs SPI
 * and a transaction that has not failed.
 */
LockTimeoutBlockers *
blockers_after_timeout(void)
{
	static SPIPlanPtr plan = NULL;
	LOCKTAG		tag;
	LOCKMODE	mode;
	LockMethod	method;
	LockData   *locks;
	List	   *holders = NIL;
	List	   *waiters = NIL;
	List	   *pids;
	ListCell   *lc;
	Datum	   *elems;
	int			n = 0;
	Oid			argtypes[1] = {INT4ARRAYOID};
	Datum		values[1];
	MemoryContext cxt = CurrentMemoryContext;
	LockTimeoutBlockers *result;
	bool		isnull;
	int			rc;

	if (!wait_seen)
		return NULL;
	wait_seen = false;
	tag = wait_tag;
	mode = wait_mode;
	method = GetLockTagsMethodTable(&tag);

	locks = GetLockStatusData();
	for (int i = 0; i < locks->nelements; i++)
	{
		const LockInstanceData *inst = &locks->locks[i];

		if (memcmp(&inst->locktag, &tag, sizeof(LOCKTAG)) != 0 ||
			is_ours(inst))
			continue;
		if (conflicts(inst, mode, method->conflictTab, false))
			holders = lappend_int(holders, inst->pid);
		else if (conflicts(inst, mode, method->conflictTab, true))
			waiters = lappend_int(waiters, inst->pid);
	}
	pids = sorted_unique(holders != NIL ? holders : waiters);
	if (pids == NIL)
		return NULL;

	elems = palloc(sizeof(Datum) * list_length(pids));
	foreach(lc, pids)
		elems[n++] = Int32GetDatum(lfirst_int(lc));
	values[0] = PointerGetDatum(construct_array(elems, n, INT4OID, sizeof(int32),
												true, TYPALIGN_INT));
	if (plan == NULL)
	{
		plan = SPI_prepare("SELECT pg_catalog.string_agg(pg_catalog.format("
						   "'pid %s (application \"%s\", user \"%s\", %s, transaction open %s): %s',"
						   " p.pid, a.application_name, a.usename, a.state,"
						   " pg_catalog.date_trunc('second', pg_catalog.clock_timestamp()"
						   "  OPERATOR(pg_catalog.-) a.xact_start),"
						   " pg_catalog.regexp_replace(pg_catalog.left(a.query, 200), '[[:space:]]+', ' ', 'g')),"
						   " '; ' ORDER BY p.pid),"
						   " pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
						   "'pid', p.pid, 'application_name', a.application_name,"
						   " 'usename', a.usename, 'state', a.state,"
						   " 'transaction_open', pg_catalog.date_trunc('second',"
						   "  pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) a.xact_start),"
						   " 'query', pg_catalog.left(a.query, 200)) ORDER BY p.pid)::pg_catalog.text"
						   " FROM pg_catalog.unnest($1) AS p(pid)"
						   " LEFT JOIN pg_catalog.pg_stat_activity a"
						   "  ON a.pid OPERATOR(pg_catalog.=) p.pid",
						   1, argtypes);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare the query of the blockers of a lock: %s",
				 SPI_result_code_string(SPI_result));
	}
	rc = SPI_execute_plan(plan, values, NULL, true, 1);
	MemoryContextSwitchTo(cxt);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the blockers of a lock: %s",
			 SPI_result_code_string(rc));

	result = palloc0(sizeof(LockTimeoutBlockers));
	result->text = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
													 SPI_tuptable->tupdesc,
													 1, &isnull));
	result->json = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
													 SPI_tuptable->tupdesc,
													 2, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return result;
}
