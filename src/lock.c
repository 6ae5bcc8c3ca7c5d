/*-------------------------------------------------------------------------
 *
 * lock.c
 *	  The advisory lock every writer of the history takes (the same lock as
 *	  pg_advisory_xact_lock(MM_LOCK_KEY)): for a transaction, or for a
 *	  session that commits after each file (migrate_run), released exactly
 *	  as taken.  Follows pg_advisory_xact_lock_int8 and pg_advisory_lock_int8
 *	  in src/backend/utils/adt/lockfuncs.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/timeout.h"

#include "compat.h"
#include "lock.h"
#include "morgenmigrate.h"
#include "worker.h"

/* The timeout that re-runs the deadlock check while waiting for the lock. */
static TimeoutId lock_recheck_timeout = MAX_TIMEOUTS;

/*
 * The session-level holds on the migration lock that runs of this session
 * took and have not released: the current run's, and any a run kept for a
 * background worker that would not stop.  The caller's own holds (a deploy
 * script's pg_advisory_lock on the same key) are not counted, and stay.
 */
static int	session_lock_holds = 0;

/*
 * Takes the transaction-level advisory lock that serialises every writer
 * of the history (the same lock as pg_advisory_xact_lock(MM_LOCK_KEY)).
 * Waits for it, honouring lock_timeout.
 *
 * The callers are functions, which hold their statement's snapshot while
 * they wait; a migrate_run holding the lock may be building an index
 * concurrently, and that build waits for every older snapshot: a deadlock
 * through migrate_run's worker, which is in its caller's lock group.  The
 * deadlock check runs once per wait, after deadlock_timeout, usually long
 * before the build reaches its wait, and the build's own check would then
 * cancel the build.  So while waiting here the check runs again every
 * deadlock_timeout (the worker's is ten times longer): the cheap waiter
 * finds the cycle first and is the one that fails (40P01).
 */
void
lock_history(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId,
						 (uint32) (MM_LOCK_KEY >> 32), (uint32) MM_LOCK_KEY, 1);
	if (LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL)
		return;

	if (lock_recheck_timeout == MAX_TIMEOUTS)
		lock_recheck_timeout = RegisterTimeout(USER_TIMEOUT, CheckDeadLockAlert);
	enable_timeout_every(lock_recheck_timeout,
						 TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													 DeadlockTimeout),
						 DeadlockTimeout);
	PG_TRY();
	{
		(void) LockAcquire(&tag, ExclusiveLock, false, false);
	}
	PG_FINALLY();
	{
		disable_timeout(lock_recheck_timeout, false);
	}
	PG_END_TRY();
}

/*
 * Takes the same lock for the whole session, for migrate_run, which commits
 * after each file.  The caller must release it on every exit path.
 */
void
lock_history_session(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId,
						 (uint32) (MM_LOCK_KEY >> 32), (uint32) MM_LOCK_KEY, 1);

	/* pg_advisory_unlock_all() or DISCARD ALL took the kept holds along */
	if (!mm_lock_held_by_me(&tag, ExclusiveLock))
		session_lock_holds = 0;
	(void) LockAcquire(&tag, ExclusiveLock, true, false);
	session_lock_holds++;
}

/*
 * Releases the holds of lock_history_session (this run's, and those
 * earlier runs kept), unless a background worker that would not stop may
 * still be building: then the session keeps them (until a later release
 * finds the worker gone, or the session ends), so that no other run starts
 * over a dying build.  Holds the session took itself, with
 * pg_advisory_lock() on the same key, stay: they are the caller's.
 */
void
lock_release_session(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId,
						 (uint32) (MM_LOCK_KEY >> 32), (uint32) MM_LOCK_KEY, 1);
	if (worker_still_running())
	{
		ereport(WARNING,
				(errmsg("keeping the migration lock while a background worker of this session still runs"),
				 errhint("The lock is released when this session ends, or by its next migrate_run once the worker has stopped.")));
		return;
	}
	while (session_lock_holds > 0 && mm_lock_held_by_me(&tag, ExclusiveLock))
	{
		(void) LockRelease(&tag, ExclusiveLock, true);
		session_lock_holds--;
	}
	/* any left were released with pg_advisory_unlock_all() or DISCARD ALL */
	session_lock_holds = 0;
}
