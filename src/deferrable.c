/*-------------------------------------------------------------------------
 *
 * deferrable.c
 *	  Whether any trigger of the database can be deferred, asked at the
 *	  end of every migration file (runner.c checks its deferred
 *	  constraints then, in a subtransaction it spares when none can be).
 *	  pg_trigger has no index on tgdeferrable, and a fleet of tenants
 *	  makes it large: reading it whole at every file's end costs a call
 *	  more per tenant the more tenants there are.  So it is read once, and
 *	  then only the relations whose relcache entries were invalidated since
 *	  are looked at: creating, changing or dropping a trigger invalidates
 *	  its relation's entry, in this session and, through the shared
 *	  invalidation queue, in every other.  Once a deferrable trigger is
 *	  known, the answer stays yes (at worst a subtransaction too many).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "storage/sinval.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#include "deferrable.h"

/* relations watched at most; beyond that, pg_trigger is read again */
#define WATCH_MAX 256

static bool callback_registered = false;
static bool dropping = false;	/* in deferrable_drop_caches */
static bool known = false;		/* false: read pg_trigger whole */
static bool exist = false;		/* a deferrable trigger exists */
static Oid	watched[WATCH_MAX]; /* invalidated since pg_trigger was read */
static int	nwatched = 0;

static void relcache_callback(Datum arg, Oid relid);
static bool any_in_catalog(void);
static bool any_on_relation(Oid relid);

/*
 * Tells whether any trigger (constraint triggers too) may be deferred;
 * true whenever in doubt.
 */
bool
deferrable_triggers_may_exist(void)
{
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(relcache_callback, (Datum) 0);
		callback_registered = true;
		known = false;
	}
	if (!known)
	{
		exist = any_in_catalog();
		known = true;
		nwatched = 0;
		return exist;
	}
	for (int i = 0; i < nwatched && !exist; i++)
		exist = any_on_relation(watched[i]);
	nwatched = 0;
	return exist;
}

/*
 * Notes a relation whose relcache entry was invalidated (InvalidOid: all
 * of them).  No catalog access here: it runs inside invalidation
 * processing.
 */
static void
relcache_callback(Datum arg, Oid relid)
{
	if (!known || exist)
		return;
	if (!OidIsValid(relid) && dropping)
		return;					/* the deliberate drop: nothing changed */
	if (!OidIsValid(relid) || nwatched == WATCH_MAX)
	{
		known = false;
		return;
	}
	for (int i = 0; i < nwatched; i++)
		if (watched[i] == relid)
			return;
	watched[nwatched++] = relid;
}

/* Reads pg_trigger whole for a trigger that can be deferred. */
static bool
any_in_catalog(void)
{
	Relation	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	bool		found;

	ScanKeyInit(&key, Anum_pg_trigger_tgdeferrable, BTEqualStrategyNumber,
				F_BOOLEQ, BoolGetDatum(true));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * Tells whether a relation has a trigger that can be deferred, from its
 * relcache entry, without a lock: the relation may belong to another
 * session's migration, which must not be waited for.  A relation that is
 * gone has none, and so has one without triggers (most of those a file
 * touches: its indexes, sequences, new tables), told by its pg_class row
 * without building its relcache entry.
 */
static bool
any_on_relation(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		has_triggers;
	Relation	rel;
	bool		found = false;

	if (!HeapTupleIsValid(tuple))
		return false;
	has_triggers = ((Form_pg_class) GETSTRUCT(tuple))->relhastriggers;
	ReleaseSysCache(tuple);
	if (!has_triggers || (rel = RelationIdGetRelation(relid)) == NULL)
		return false;
	if (rel->trigdesc != NULL)
	{
		for (int i = 0; i < rel->trigdesc->numtriggers && !found; i++)
			found = rel->trigdesc->triggers[i].tgdeferrable;
	}
	RelationClose(rel);
	return found;
}

/*
 * Drops this backend's caches as InvalidateSystemCaches() does (a fleet
 * does it between tenants, so that memory stays flat), keeping what this
 * module knows: that drop changes no trigger, so pg_trigger need not be
 * read whole again for the next tenant.  Should invalidation messages be
 * read meanwhile (a reset among them would be taken for the drop), the
 * whole catalog is read at the next question, as after any reset.
 */
void
deferrable_drop_caches(void)
{
	uint64		messages = SharedInvalidMessageCounter;

	dropping = true;
	PG_TRY();
	{
		InvalidateSystemCaches();
	}
	PG_FINALLY();
	{
		dropping = false;
	}
	PG_END_TRY();
	if (SharedInvalidMessageCounter != messages)
		known = false;
}
