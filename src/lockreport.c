/*-------------------------------------------------------------------------
 *
 * lockreport.c
 *	  What a rehearsed file locked: the relation locks this backend holds
 *	  before and after it, named as the catalog was before it ran (a file
 *	  may drop what it locked), strongest first.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "lockreport.h"
#include "morgenmigrate.h"

/* One relation this backend holds locks on, and in which modes. */
typedef struct HeldLock
{
	Oid			relid;
	LOCKMASK	modes;
} HeldLock;

struct HeldLocks
{
	int			n;
	HeldLock   *locks;
	Snapshot	snapshot;		/* the catalog as it was when taken */
};

static int	cmp_held(const void *a, const void *b);
static bool relation_as_of(Oid relid, Snapshot snapshot, Form_pg_class result);
static int	cmp_report(const void *a, const void *b);

/* qsort/bsearch comparator: HeldLock by relation. */
static int
cmp_held(const void *a, const void *b)
{
	Oid			ra = ((const HeldLock *) a)->relid;
	Oid			rb = ((const HeldLock *) b)->relid;

	return ra < rb ? -1 : ra > rb ? 1 : 0;
}

/*
 * The relation locks this backend holds in its database now, with a
 * snapshot of the catalog, so that the relations can be named later as
 * they were before a rehearsed file ran (even if it dropped them).
 */
HeldLocks *
lockreport_held(void)
{
	HeldLocks  *held = palloc0(sizeof(HeldLocks));
	LockData   *data = GetLockStatusData();

	held->locks = palloc0(sizeof(HeldLock) * Max(data->nelements, 1));
	for (int i = 0; i < data->nelements; i++)
	{
		LockInstanceData *inst = &data->locks[i];

		if (inst->pid != MyProcPid || inst->holdMask == 0 ||
			inst->locktag.locktag_type != LOCKTAG_RELATION ||
			inst->locktag.locktag_field1 != MyDatabaseId)
			continue;
		held->locks[held->n].relid = inst->locktag.locktag_field2;
		held->locks[held->n].modes = inst->holdMask;
		held->n++;
	}
	qsort(held->locks, held->n, sizeof(HeldLock), cmp_held);
	held->snapshot = RegisterSnapshot(GetLatestSnapshot());
	return held;
}

/*
 * Looks a relation up in pg_class as of a snapshot; false if it did not
 * exist then.
 */
static bool
relation_as_of(Oid relid, Snapshot snapshot, Form_pg_class result)
{
	Relation	rel = table_open(RelationRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		found;

	ScanKeyInit(&key, Anum_pg_class_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, ClassOidIndexId, true, snapshot, 1, &key);
	tuple = systable_getnext(scan);
	found = HeapTupleIsValid(tuple);
	if (found)
		memcpy(result, GETSTRUCT(tuple), sizeof(FormData_pg_class));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/* qsort comparator: lock report lines, strongest mode first, then name. */
static int
cmp_report(const void *a, const void *b)
{
	const HeldLock *la = (const HeldLock *) a;
	const HeldLock *lb = (const HeldLock *) b;

	if (la->modes != lb->modes)
		return la->modes > lb->modes ? -1 : 1;
	return cmp_held(a, b);
}

/*
 * The relation locks taken since before was read, strongest first, as a
 * text[] of "AccessExclusiveLock on public.members": what the file would
 * block.  Catalogs, indexes, TOAST tables, morgenmigrate's own tables and
 * relations that did not exist before the file are left out.  Frees before.
 */
Datum
lockreport_taken(HeldLocks *before)
{
	HeldLocks  *after = lockreport_held();
	HeldLock   *taken = palloc0(sizeof(HeldLock) * Max(after->n * MAX_LOCKMODES, 1));
	int			ntaken = 0;
	int			nitems = 0;
	Datum	   *items;
	Oid			own_schema = get_namespace_oid(MM_SCHEMA, true);

	UnregisterSnapshot(after->snapshot);
	for (int i = 0; i < after->n; i++)
	{
		HeldLock   *prev = bsearch(&after->locks[i], before->locks, before->n,
								   sizeof(HeldLock), cmp_held);
		LOCKMASK	fresh = after->locks[i].modes & ~(prev ? prev->modes : 0);

		for (LOCKMODE mode = MaxLockMode; mode > NoLock; mode--)
		{
			if (fresh & LOCKBIT_ON(mode))
			{
				taken[ntaken].relid = after->locks[i].relid;
				taken[ntaken].modes = mode;
				ntaken++;
			}
		}
	}
	qsort(taken, ntaken, sizeof(HeldLock), cmp_report);

	items = palloc0(sizeof(Datum) * Max(ntaken, 1));
	for (int i = 0; i < ntaken; i++)
	{
		FormData_pg_class rel;
		char	   *nspname;

		if (!relation_as_of(taken[i].relid, before->snapshot, &rel) ||
			rel.relkind == RELKIND_INDEX ||
			rel.relkind == RELKIND_PARTITIONED_INDEX ||
			rel.relkind == RELKIND_TOASTVALUE ||
			IsCatalogNamespace(rel.relnamespace) ||
			IsToastNamespace(rel.relnamespace) ||
			rel.relnamespace == own_schema)
			continue;
		nspname = get_namespace_name(rel.relnamespace);
		items[nitems++] = CStringGetTextDatum(
			psprintf("%s on %s",
					 GetLockmodeName(DEFAULT_LOCKMETHOD, taken[i].modes),
					 quote_qualified_identifier(nspname ? nspname : "?",
												NameStr(rel.relname))));
	}
	UnregisterSnapshot(before->snapshot);
	return PointerGetDatum(construct_array(items, nitems, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/*
 * A text[] of locks (as lockreport_taken makes it) with lines added at its
 * end: what else the dry run reports of a file.
 */
Datum
lockreport_append(Datum locks, List *lines)
{
	ArrayType  *arr = DatumGetArrayTypeP(locks);
	Datum	   *elems;
	Datum	   *all;
	int			n;
	int			k = 0;
	ListCell   *lc;

	if (lines == NIL)
		return locks;
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &n);
	all = palloc(sizeof(Datum) * (n + list_length(lines)));
	for (int i = 0; i < n; i++)
		all[k++] = elems[i];
	foreach(lc, lines)
		all[k++] = CStringGetTextDatum((const char *) lfirst(lc));
	return PointerGetDatum(construct_array(all, k, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/*
 * After a rehearsal of several files: says that a later file's locks leave
 * out those an earlier file of the rehearsal already took (all of them run
 * in one transaction, which holds every lock until its end).
 */
void
lockreport_note_held(int nrehearsed)
{
	if (nrehearsed < 2)
		return;
	ereport(NOTICE,
			(errmsg("the locks listed for each file leave out locks an earlier file of this rehearsal already took"),
			 errdetail("The rehearsed files run one after the other in one transaction, which holds every lock until its end; a later file that takes the same lock again shows nothing for it."),
			 errhint("To see every lock a file takes, rehearse it with the files before it already applied.")));
}
