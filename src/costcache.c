/*-------------------------------------------------------------------------
 *
 * costcache.c
 *	  The classification of a session's last plan, kept while nothing it
 *	  depends on can have changed, so that planning the same pending set
 *	  again costs little more than checking that the files are as they
 *	  were.
 *
 * What a plan says of a statement (the relations it touches, its locks,
 * its effect, the rules it breaks) follows from the set's files, the
 * settings and the catalog.  The files and the settings are the key: each
 * file's name and checksum, in run order (a statement depends on those
 * before it in the set), and the session's settings, user and search
 * path.  The catalog is watched by the count of shared invalidation
 * messages this backend has read (SharedInvalidMessageCounter): every
 * committed change of a catalog sends such messages, and every backend
 * reads them all, its own included, as well as a reset when it fell
 * behind; a kept plan is valid only while that count stays as it was when
 * the plan began.  What this session changes in a transaction still open
 * is not in the queue yet: a transaction that has written anything (which
 * may have changed the catalog itself) neither uses nor keeps a plan.
 *
 * Being conservative costs a reclassification only: any invalidation at
 * all, of any catalog of any database, forgets the kept plan.  The
 * relations' sizes and the locks in the way are not kept; cost.c reads
 * them on every call.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "miscadmin.h"
#include "storage/sinval.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/memutils.h"

#include "costcache.h"
#include "costset.h"

/*
 * A plan bigger than this (its copy's memory) is not kept: gen.pl's 1,000
 * files take 1.2 MB.
 */
#define MAX_KEPT_BYTES (32 * 1024 * 1024)

/* The kept plan. */
typedef struct KeptPlan
{
	MemoryContext cxt;			/* holds all of it */
	char	   *key;
	int			keylen;
	CostCacheStamp stamp;
	List	   *files;			/* per work item, a List of KeptStatement */
	MemoryContextCallback gone; /* plan_gone */
	int			nrows;			/* its rows at most: those of the statements,
								 * and one per file (one only its runner
								 * runs has one) */
} KeptPlan;

static KeptPlan *kept = NULL;
static KeptPlan *making = NULL;	/* the plan being made */

static void plan_gone(void *arg);
static List *copy_rows(List *rows);

/*
 * Tells whether this call may use or keep a plan: not in a transaction
 * that has written anything (its own catalog changes are visible to it
 * alone, and vanish if it rolls back).
 */
bool
costcache_usable(void)
{
	return !TransactionIdIsValid(GetTopTransactionIdIfAny());
}

/* Adds a value to a key, its length first, so that keys are unambiguous. */
void
costcache_key_add(StringInfo key, const char *value)
{
	int			len = value != NULL ? strlen(value) : -1;

	appendBinaryStringInfo(key, (char *) &len, sizeof(len));
	if (len > 0)
		appendBinaryStringInfo(key, value, len);
}

/*
 * Adds to a key what of the session a classification depends on: its
 * user, its search path as resolved now, and every setting it changed
 * from the default (as a parallel worker receives them: the parser and
 * the classification read DateStyle, TimeZone, search_path and more).
 */
void
costcache_key_settings(StringInfo key)
{
	Oid			users[2] = {GetUserId(), GetSessionUserId()};
	List	   *path = fetch_search_path(true);
	ListCell   *lc;
	Size		size = EstimateGUCStateSpace();
	char	   *gucs = palloc0(size);
	Size		used;

	appendBinaryStringInfo(key, (char *) users, sizeof(users));
	foreach(lc, path)
	{
		Oid			nsp = lfirst_oid(lc);

		appendBinaryStringInfo(key, (char *) &nsp, sizeof(nsp));
	}
	costcache_key_add(key, "");
	SerializeGUCState(size, gucs);
	memcpy(&used, gucs, sizeof(used));
	appendBinaryStringInfo(key, gucs, sizeof(used) + used);
	pfree(gucs);
	list_free(path);
}

/*
 * The kept plan's files if it was made under key and the catalog has not
 * changed since, and its number of rows in *nrows (NIL otherwise, and
 * the plan is forgotten); stamp is set
 * to now, the moment a plan made from here on begins.  Invalidations
 * already queued are processed first, so that what another session
 * committed counts as it would for a plan made now.
 */
List *
costcache_lookup(const StringInfo key, CostCacheStamp *stamp, int *nrows)
{
	AcceptInvalidationMessages();
	stamp->sinval = SharedInvalidMessageCounter;
	if (kept == NULL)
		return NIL;
	if (kept->stamp.sinval != stamp->sinval ||
		kept->keylen != key->len ||
		memcmp(kept->key, key->data, key->len) != 0)
	{
		costcache_forget();
		return NIL;
	}
	*nrows = kept->nrows;
	return kept->files;
}

/*
 * Begins keeping the classification of a plan begun at stamp under key:
 * its files and statements follow, in run order.  It is made in a memory
 * context of the call's, so that an error forgets it.
 */
void
costcache_begin(const StringInfo key, const CostCacheStamp *stamp)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "morgenmigrate kept plan",
											  ALLOCSET_DEFAULT_SIZES);

	making = MemoryContextAllocZero(cxt, sizeof(KeptPlan));
	making->cxt = cxt;
	making->gone.func = plan_gone;
	making->gone.arg = making;
	MemoryContextRegisterResetCallback(cxt, &making->gone);
	making->key = MemoryContextAlloc(cxt, key->len);
	memcpy(making->key, key->data, key->len);
	making->keylen = key->len;
	making->stamp = *stamp;
}

/* Says that the statements that follow are those of the next work item. */
void
costcache_add_file(void)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(making->cxt);

	making->files = lappend(making->files, NIL);
	making->nrows++;
	MemoryContextSwitchTo(oldcxt);
}

/* Adds a statement of the current file, with the rows it was classified to. */
void
costcache_add_statement(int line, const char *command, List *rows)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(making->cxt);
	KeptStatement *st = palloc(sizeof(KeptStatement));
	ListCell   *last = list_last_cell(making->files);

	st->line = line;
	st->command = command != NULL ? pstrdup(command) : NULL;
	st->rows = copy_rows(rows);
	lfirst(last) = lappend((List *) lfirst(last), st);
	making->nrows += list_length(rows);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Keeps the plan made since costcache_begin, unless the catalog changed
 * while it was made (an invalidation message was read meanwhile), this
 * transaction wrote meanwhile, or it is too big.
 */
void
costcache_finish(void)
{
	KeptPlan   *plan = making;

	making = NULL;
	costcache_forget();
	if (plan->stamp.sinval != SharedInvalidMessageCounter ||
		!costcache_usable() ||
		MemoryContextMemAllocated(plan->cxt, true) > MAX_KEPT_BYTES)
	{
		MemoryContextDelete(plan->cxt);
		return;
	}
	MemoryContextSetParent(plan->cxt, TopMemoryContext);
	kept = plan;
}

/* Forgets the kept plan. */
void
costcache_forget(void)
{
	if (kept == NULL)
		return;
	MemoryContextDelete(kept->cxt);
	kept = NULL;
}

/*
 * Forgets a plan being made whose memory goes: the call that made it
 * failed.
 */
static void
plan_gone(void *arg)
{
	if (making == (KeptPlan *) arg)
		making = NULL;
}

/*
 * A copy of classified rows in the current memory context, without what
 * each call reads anew (the size, the sessions in the way, the advice
 * that names the size).
 */
static List *
copy_rows(List *rows)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, rows)
	{
		CostRow    *row = palloc(sizeof(CostRow));
		ListCell   *rc;

		memcpy(row, lfirst(lc), sizeof(CostRow));
		row->relname = row->relname ? pstrdup(row->relname) : NULL;
		row->rules = NIL;
		foreach(rc, ((CostRow *) lfirst(lc))->rules)
		{
			CostAdvice *adv = palloc(sizeof(CostAdvice));

			adv->rule = ((CostAdvice *) lfirst(rc))->rule;
			adv->what = ((CostAdvice *) lfirst(rc))->what ?
				pstrdup(((CostAdvice *) lfirst(rc))->what) : NULL;
			row->rules = lappend(row->rules, adv);
		}
		row->blockers = NIL;
		row->advice = NULL;
		result = lappend(result, row);
	}
	return result;
}
