/*-------------------------------------------------------------------------
 *
 * fleetutils.c
 *	  What a call over many tenant schemas (fleet.c) and a call over many
 *	  databases (dbfleet.c) share: the names it works on (sorted, each
 *	  once), its rows after each one's name, and the summary of the ones
 *	  that failed, which names the first FLEET_NAMED of them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "fleetutils.h"

/* members an error names, at most */
#define FLEET_NAMED 50

static int	cmp_names(const ListCell *a, const ListCell *b);

/*
 * The names a call works on, sorted (so that calls on overlapping sets
 * take their locks in one order), each once however often named.  An
 * empty set is no error, as a query over no rows is none, but the call
 * says that it does nothing: a deploy script whose query of the tenants
 * found none should not pass for one that migrated them.
 */
List *
fleetutils_names(List *names, const char *kind)
{
	List	   *sorted = list_copy(names);
	List	   *unique = NIL;
	const char *last = NULL;
	ListCell   *lc;

	if (names == NIL)
		ereport(NOTICE,
				(errmsg("argument \"%ss\" is empty, nothing to do", kind)));
	list_sort(sorted, cmp_names);
	foreach(lc, sorted)
	{
		const char *name = (const char *) lfirst(lc);

		if (last == NULL || strcmp(last, name) != 0)
			unique = lappend(unique, (void *) name);
		last = name;
	}
	list_free(sorted);
	return unique;
}

/* list_sort comparator: names. */
static int
cmp_names(const ListCell *a, const ListCell *b)
{
	return strcmp((const char *) lfirst(a), (const char *) lfirst(b));
}

/*
 * Adds a row to a fleet call's result: name (NULL: a row of no member) in
 * its first column, then values[1 ..] and nulls[1 ..].
 */
void
fleetutils_put_row(ReturnSetInfo *rsinfo, const char *name, Datum *values,
				   bool *nulls)
{
	values[0] = name ? CStringGetTextDatum(name) : (Datum) 0;
	nulls[0] = name == NULL;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	if (name != NULL)
		pfree(DatumGetPointer(values[0]));
}

/* Begins the failures of a call over members of kind. */
void
fleetutils_failures_init(FleetFailures *failures, const char *kind)
{
	memset(failures, 0, sizeof(FleetFailures));
	failures->kind = kind;
	initStringInfo(&failures->detail);
}

/*
 * What a member's error says in the summary: "message (SQLSTATE xxxxx;
 * the first line of its context).", then its detail when with_detail.
 */
char *
fleetutils_error_text(const ErrorData *edata, bool with_detail)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s (SQLSTATE %s", edata->message,
					 unpack_sql_state(edata->sqlerrcode));
	if (edata->context != NULL)
		appendStringInfo(&buf, "; %.*s", (int) strcspn(edata->context, "\n"),
						 edata->context);
	appendStringInfoString(&buf, ").");
	if (with_detail && edata->detail != NULL)
		appendStringInfo(&buf, " %s", edata->detail);
	return buf.data;
}

/*
 * Adds a member that failed (its error's SQLSTATE, or 0 when it only
 * lacks something): "Schema "NAME": WHAT" for the first FLEET_NAMED.
 */
void
fleetutils_add_failure(FleetFailures *failures, const char *name,
					   int sqlerrcode, const char *what)
{
	if (failures->count++ == 0)
		failures->sqlerrcode = sqlerrcode;
	if (failures->count > FLEET_NAMED)
		return;
	appendStringInfo(&failures->detail, "%s%c%s \"%s\": %s",
					 failures->detail.len > 0 ? " " : "",
					 pg_toupper((unsigned char) failures->kind[0]),
					 failures->kind + 1, name, what);
}

/* Ends the summary: how many more failed than it names. */
void
fleetutils_end_failures(FleetFailures *failures)
{
	if (failures->count > FLEET_NAMED)
		appendStringInfo(&failures->detail, " And %d %ss more.",
						 failures->count - FLEET_NAMED, failures->kind);
}

/*
 * The WARNING of a migrate_run over a fleet when one member fails, as it
 * happens: the others go on.
 */
void
fleetutils_warn_failure(const char *kind, const char *name,
						const ErrorData *edata)
{
	char	   *where = edata->context ?
		pnstrdup(edata->context, strcspn(edata->context, "\n")) : NULL;

	ereport(WARNING,
			(errmsg("migrations of %s \"%s\" failed: %s", kind, name,
					edata->message),
			 where ? errdetail("%s", where) : 0,
			 errhint("The other %ss go on.", kind)));
}

/*
 * The error that ends a migrate_run over a fleet when members failed
 * (ended): how many of total, each named, with the first one's SQLSTATE.
 */
void
fleetutils_raise_run(const FleetFailures *failures, int total,
					 const char *hint)
{
	if (failures->count == 0)
		return;
	ereport(ERROR,
			(errcode(failures->sqlerrcode),
			 errmsg_plural("migrations failed in %d %s of %d",
						   "migrations failed in %d %ss of %d",
						   failures->count, failures->count, failures->kind,
						   total),
			 errdetail("%s", failures->detail.data),
			 errhint("%s", hint)));
}
