/*-------------------------------------------------------------------------
 *
 * lock.c
 *	  The advisory lock every writer of the history takes (the same lock as
 *	  pg_advisory_xact_lock(MM_LOCK_KEY)): for a transaction, or for a
 *	  session that commits after each file (migrate_run), released exactly
 *	  as taken.  Follows pg_advisory_xact_lock_int8 and pg_advisory_lock_int8
 *	  in src/backend/utils/adt/lockfuncs.c.
 *
 * A writer of a tenant schema's history (a fleet call) takes the lock of
 * that schema instead (as pg_advisory_lock(MM_LOCK_KEY >> 32, the schema's
 * OID) would), and the database's lock in share mode: calls on tenants
 * that overlap wait for each other, calls on other tenants do not, and a
 * writer of the database's own history (and anyone who takes its lock,
 * as a deploy script may) waits for all of them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "utils/timeout.h"

#include "compat.h"
#include "lock.h"
#include "morgenmigrate.h"
#include "worker.h"

/* The timeout that re-runs the deadlock check while waiting for the lock. */
static TimeoutId lock_recheck_timeout = MAX_TIMEOUTS;

/* The tenant schema whose history is written, or InvalidOid: the database's. */
static Oid	target_schema = InvalidOid;

/* One session-level hold of a lock. */
typedef struct SessionHold
{
	LOCKTAG		tag;
	LOCKMODE	mode;
} SessionHold;

/*
 * The session-level holds on migration locks that runs of this session
 * took and have not released: the current run's, and any a run kept for a
 * background worker that would not stop.  The caller's own holds (a deploy
 * script's pg_advisory_lock on the same key) are not among them, and stay.
 */
static SessionHold *session_holds = NULL;
static int	nsession_holds = 0;
static int	session_holds_size = 0;

static void database_tag(LOCKTAG *tag);
static void schema_tag(LOCKTAG *tag, Oid nsp);
static void acquire_waiting(const LOCKTAG *tag, LOCKMODE mode);
static void acquire_session(const LOCKTAG *tag, LOCKMODE mode);

/*
 * Makes the history writers that follow take the lock of a tenant schema's
 * history (InvalidOid: of the database's) until told otherwise.
 */
void
lock_set_schema(Oid nsp)
{
	target_schema = nsp;
}

/* The tag of the lock of the database's history. */
static void
database_tag(LOCKTAG *tag)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId,
						 (uint32) (MM_LOCK_KEY >> 32), (uint32) MM_LOCK_KEY, 1);
}

/* The tag of the lock of a tenant schema's history (two int4 keys). */
static void
schema_tag(LOCKTAG *tag, Oid nsp)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId,
						 (uint32) (MM_LOCK_KEY >> 32), (uint32) nsp, 2);
}

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

	database_tag(&tag);
	if (!OidIsValid(target_schema))
	{
		acquire_waiting(&tag, ExclusiveLock);
		return;
	}
	acquire_waiting(&tag, ShareLock);
	schema_tag(&tag, target_schema);
	acquire_waiting(&tag, ExclusiveLock);
}

/* Takes a lock for the transaction, as lock_history explains. */
static void
acquire_waiting(const LOCKTAG *tag, LOCKMODE mode)
{
	if (LockAcquire(tag, mode, false, true) != LOCKACQUIRE_NOT_AVAIL)
		return;

	if (lock_recheck_timeout == MAX_TIMEOUTS)
		lock_recheck_timeout = RegisterTimeout(USER_TIMEOUT, CheckDeadLockAlert);
	enable_timeout_every(lock_recheck_timeout,
						 TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													 DeadlockTimeout),
						 DeadlockTimeout);
	PG_TRY();
	{
		(void) LockAcquire(tag, mode, false, false);
	}
	PG_FINALLY();
	{
		disable_timeout(lock_recheck_timeout, false);
	}
	PG_END_TRY();
}

/*
 * Takes the same locks for the whole session, for migrate_run, which
 * commits after each file.  The caller must release them on every exit
 * path.
 */
void
lock_history_session(void)
{
	LOCKTAG		tag;
	int			kept = 0;

	/* pg_advisory_unlock_all() or DISCARD ALL took kept holds along */
	for (int i = 0; i < nsession_holds; i++)
	{
		if (mm_lock_held_by_me(&session_holds[i].tag, session_holds[i].mode))
			session_holds[kept++] = session_holds[i];
	}
	nsession_holds = kept;

	database_tag(&tag);
	acquire_session(&tag, OidIsValid(target_schema) ? ShareLock : ExclusiveLock);
	if (OidIsValid(target_schema))
	{
		schema_tag(&tag, target_schema);
		acquire_session(&tag, ExclusiveLock);
	}
}

/* Takes a lock for the session, and notes the hold. */
static void
acquire_session(const LOCKTAG *tag, LOCKMODE mode)
{
	if (nsession_holds == session_holds_size)
	{
		session_holds_size = Max(4, session_holds_size * 2);
		session_holds = session_holds == NULL ?
			MemoryContextAlloc(TopMemoryContext, sizeof(SessionHold) * session_holds_size) :
			repalloc(session_holds, sizeof(SessionHold) * session_holds_size);
	}
	(void) LockAcquire(tag, mode, true, false);
	session_holds[nsession_holds].tag = *tag;
	session_holds[nsession_holds].mode = mode;
	nsession_holds++;
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
	if (worker_still_running())
	{
		ereport(WARNING,
				(errmsg("keeping the migration lock while a background worker of this session still runs"),
				 errhint("The lock is released when this session ends, or by its next migrate_run once the worker has stopped.")));
		return;
	}
	/* newest first; one released with pg_advisory_unlock_all() is gone */
	for (int i = nsession_holds - 1; i >= 0; i--)
	{
		if (mm_lock_held_by_me(&session_holds[i].tag, session_holds[i].mode))
			(void) LockRelease(&session_holds[i].tag, session_holds[i].mode, true);
	}
	nsession_holds = 0;
}
