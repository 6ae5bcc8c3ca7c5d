/*-------------------------------------------------------------------------
 *
 * fleet.c
 *	  One call over many tenant schemas (schemas => ARRAY[...]): each
 *	  schema is migrated as a call of its own would migrate it, with the
 *	  search_path of its files set to that schema, its history in that
 *	  schema (history.c) and that schema's lock (lock.c).
 *
 * The schemas are taken in the order of their names, so that calls on
 * overlapping sets take their locks in one order and never deadlock.
 * migrate_apply is all or nothing over the fleet: one transaction, which
 * holds each schema's lock until it ends.  migrate_run commits each
 * schema's files as it goes, goes on past a schema that fails (its failure
 * recorded in its own history), and raises at the end one error naming
 * each failed schema.  Each schema's work is done in memory freed before
 * the next, and migrate_run drops the caches a schema filled before the
 * next, so that memory stays flat over a thousand schemas.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "commands.h"
#include "deferrable.h"
#include "drift.h"
#include "fleet.h"
#include "fleetutils.h"
#include "history.h"
#include "lock.h"
#include "morgenmigrate.h"
#include "runner.h"

/* A tenant schema of the call. */
typedef struct FleetSchema
{
	char	   *name;
	Oid			oid;
	char	   *search_path;	/* its name as search_path takes it */
} FleetSchema;

/* The error context callback of the schema worked on, or NULL. */
static ErrorContextCallback *entered = NULL;

static List *resolve_schemas(List *names);
static void enter_schema(const FleetSchema *fs, ErrorContextCallback *cb);
static void leave_schema(void);
static void schema_context(void *arg);
static ReturnSetInfo *schema_rows(ReturnSetInfo *rsinfo);
static void copy_rows(ReturnSetInfo *from, ReturnSetInfo *to,
					  const char *schema);

/*
 * The tenant schemas a call names, sorted by name, each once.  A schema
 * that does not exist, and one that cannot be a tenant (the system's,
 * morgenmigrate's, a temporary one), refuse the call before anything runs.
 */
static List *
resolve_schemas(List *names)
{
	List	   *schemas = NIL;
	ListCell   *lc;

	foreach(lc, fleetutils_names(names, "schema"))
	{
		const char *name = (const char *) lfirst(lc);
		FleetSchema *fs;

		if (strncmp(name, "pg_", 3) == 0 || strcmp(name, "information_schema") == 0 ||
			strcmp(name, MM_SCHEMA) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("schema \"%s\" cannot be migrated as a tenant", name),
					 errdetail("A tenant schema holds the tenant's objects and its history; \"%s\" is PostgreSQL's or morgenmigrate's own.",
							   name)));
		fs = palloc(sizeof(FleetSchema));
		fs->name = pstrdup(name);
		fs->oid = get_namespace_oid(name, false);
		fs->search_path = pstrdup(quote_identifier(name));
		if (isAnyTempNamespace(fs->oid))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("schema \"%s\" cannot be migrated as a tenant", name),
					 errdetail("It is a temporary schema.")));
		schemas = lappend(schemas, fs);
	}
	return schemas;
}

/*
 * Makes what follows work on a tenant schema: its history, its lock, the
 * search_path its files run with, and errors that name it (cb, until
 * leave_schema).
 */
static void
enter_schema(const FleetSchema *fs, ErrorContextCallback *cb)
{
	history_set_schema(fs->name);
	lock_set_schema(fs->oid);
	runner_search_path = fs->search_path;
	cb->callback = schema_context;
	cb->arg = (void *) fs->name;
	cb->previous = error_context_stack;
	error_context_stack = cb;
	entered = cb;
}

/* Makes what follows work on the database's own history again. */
static void
leave_schema(void)
{
	history_set_schema(NULL);
	lock_set_schema(InvalidOid);
	runner_search_path = NULL;
	if (entered != NULL && error_context_stack == entered)
		error_context_stack = entered->previous;
	entered = NULL;
}

/* Error context of the work on a tenant schema. */
static void
schema_context(void *arg)
{
	errcontext("tenant schema \"%s\"", (const char *) arg);
}

/*
 * A result for the rows of one schema: as the fleet's, without its first
 * column (the schema), in a tuplestore of its own.
 */
static ReturnSetInfo *
schema_rows(ReturnSetInfo *rsinfo)
{
	ReturnSetInfo *one = palloc(sizeof(ReturnSetInfo));
	TupleDesc	desc = CreateTemplateTupleDesc(rsinfo->setDesc->natts - 1);

	for (int i = 1; i < rsinfo->setDesc->natts; i++)
		TupleDescCopyEntry(desc, i, rsinfo->setDesc, i + 1);
	*one = *rsinfo;
	one->setDesc = desc;
	one->setResult = tuplestore_begin_heap(false, false, work_mem);
	return one;
}

/*
 * Adds the rows of one schema to the fleet's result, with the schema's
 * name first (NULL: rows of no schema).
 */
static void
copy_rows(ReturnSetInfo *from, ReturnSetInfo *to, const char *schema)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(from->setDesc,
													&TTSOpsMinimalTuple);
	int			natts = from->setDesc->natts;
	Datum	   *values = palloc(sizeof(Datum) * (natts + 1));
	bool	   *nulls = palloc(sizeof(bool) * (natts + 1));

	tuplestore_rescan(from->setResult);
	while (tuplestore_gettupleslot(from->setResult, true, false, slot))
	{
		slot_getallattrs(slot);
		memcpy(values + 1, slot->tts_values, sizeof(Datum) * natts);
		memcpy(nulls + 1, slot->tts_isnull, sizeof(bool) * natts);
		fleetutils_put_row(to, schema, values, nulls);
	}
	ExecDropSingleTupleTableSlot(slot);
	tuplestore_end(from->setResult);
}

/* What a fleet call does in one schema, its rows going to one. */
typedef void (*SchemaCall) (const char *path, const void *arg,
							ReturnSetInfo *one);

/*
 * Calls call in each schema, in order, and adds the rows of each to the
 * fleet's result after the schema's name.
 * Each schema's work is done in memory freed before the next.
 */
static void
rows_of_each(List *schemas, const char *path, SchemaCall call,
			 const void *arg, ReturnSetInfo *rsinfo)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "morgenmigrate schema",
											  ALLOCSET_DEFAULT_SIZES);
	ListCell   *lc;

	PG_TRY();
	{
		foreach(lc, schemas)
		{
			const FleetSchema *fs = (const FleetSchema *) lfirst(lc);
			ErrorContextCallback cb;
			MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
			ReturnSetInfo *one = schema_rows(rsinfo);

			enter_schema(fs, &cb);
			call(path, arg, one);
			leave_schema();
			copy_rows(one, rsinfo, fs->name);
			MemoryContextSwitchTo(oldcxt);
			MemoryContextReset(cxt);
		}
	}
	PG_FINALLY();
	{
		leave_schema();
	}
	PG_END_TRY();
	MemoryContextDelete(cxt);
}

/* command_apply as a SchemaCall. */
static void
apply_call(const char *path, const void *arg, ReturnSetInfo *one)
{
	command_apply(path, (const ApplyOptions *) arg, one);
}

/*
 * migrate_apply(dir, schemas => ...): applies (or rehearses) the pending
 * files in each schema, in one transaction: all or nothing over the fleet
 * (with atomic => false, each schema stops at its failing file, and the
 * others go on).  Rows: the schema, then migrate_apply's.
 */
void
fleet_apply(const char *path, List *names, const ApplyOptions *options,
			ReturnSetInfo *rsinfo)
{
	rows_of_each(resolve_schemas(names), path, apply_call, options, rsinfo);
}

/* command_status_files as a SchemaCall. */
static void
status_call(const char *path, const void *arg, ReturnSetInfo *one)
{
	command_status_files(path, one);
}

/*
 * migrate_status(dir, schemas => ...): every file and history row of each
 * schema, with its state (which tenants are behind, and on which file),
 * then the database's drift once, with no schema.
 */
void
fleet_status(const char *path, List *names, ReturnSetInfo *rsinfo)
{
	List	   *schemas = resolve_schemas(names);
	ReturnSetInfo *one;

	if (schemas == NIL)
		return;
	rows_of_each(schemas, path, status_call, NULL, rsinfo);
	one = schema_rows(rsinfo);
	SPI_connect();
	drift_put_status_rows(one);
	SPI_finish();
	copy_rows(one, rsinfo, NULL);
}

/* What fleet_plan plans in each schema. */
typedef struct PlanArgs
{
	const char *target;
	int			steps;
} PlanArgs;

/* command_plan as a SchemaCall. */
static void
plan_call(const char *path, const void *arg, ReturnSetInfo *one)
{
	const PlanArgs *pa = (const PlanArgs *) arg;

	command_plan(path, pa->target, pa->steps, one);
}

/*
 * migrate_plan(dir, schemas => ...): what each pending statement would
 * cost in each schema, its names resolved in that schema: the tables of
 * each tenant have their own sizes and blockers.  Takes no lock, as a plan
 * of one schema takes none.  Rows: the schema, then migrate_plan's.
 */
void
fleet_plan(const char *path, List *names, const char *target, int steps,
		   ReturnSetInfo *rsinfo)
{
	PlanArgs	pa = {target, steps};

	rows_of_each(resolve_schemas(names), path, plan_call, &pa, rsinfo);
}

/*
 * migrate_check(dir, schemas => ...): one error naming each schema that
 * is not up to date with the directory, and what it lacks (and the
 * database's drift); quiet when every schema is.
 */
void
fleet_check(const char *path, List *names)
{
	List	   *schemas = resolve_schemas(names);
	FleetFailures behind;
	StringInfoData one;
	int			drift;
	ListCell   *lc;

	if (schemas == NIL)
		return;
	fleetutils_failures_init(&behind, "schema");
	initStringInfo(&one);
	PG_TRY();
	{
		foreach(lc, schemas)
		{
			const FleetSchema *fs = (const FleetSchema *) lfirst(lc);
			ErrorContextCallback cb;
			int			n;

			resetStringInfo(&one);
			enter_schema(fs, &cb);
			n = command_unapplied(path, &one);
			leave_schema();
			if (n > 0)
				fleetutils_add_failure(&behind, fs->name, 0, one.data);
		}
	}
	PG_FINALLY();
	{
		leave_schema();
	}
	PG_END_TRY();

	fleetutils_end_failures(&behind);
	SPI_connect();
	drift = drift_describe(&behind.detail);
	if (behind.count > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg_plural("%d schema of %d is not up to date with \"%s\"",
							   "%d schemas of %d are not up to date with \"%s\"",
							   behind.count, behind.count, list_length(schemas),
							   path),
				 errdetail("%s", behind.detail.data),
				 errhint("Apply them with morgenmigrate.migrate_apply() or migrate_run() with the same schemas.")));
	if (drift > 0)
		drift_refuse(drift, behind.detail.data);
	SPI_finish();
}

/*
 * CALL migrate_run(dir, schemas => ...): runs the pending files of each
 * schema as migrate_run does, committing after each; a schema that fails
 * stops at its failing file (recorded in its own history) and the others
 * go on.  At the end, one error names each failed schema, its file and
 * its error (the first failure's SQLSTATE); what the others applied is
 * committed.
 */
void
fleet_run(const char *path, List *names, const char *target)
{
	List	   *schemas = resolve_schemas(names);
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "morgenmigrate schema",
											  ALLOCSET_DEFAULT_SIZES);
	FleetFailures failed;
	ListCell   *lc;

	fleetutils_failures_init(&failed, "schema");
	PG_TRY();
	{
		foreach(lc, schemas)
		{
			const FleetSchema *fs = (const FleetSchema *) lfirst(lc);
			ErrorContextCallback cb;
			MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
			ErrorData  *edata;

			enter_schema(fs, &cb);
			edata = command_run_schema(path, target);
			leave_schema();

			/*
			 * What the tenant's work put into this backend's relation and
			 * catalog caches (its tables, indexes, history tables) would
			 * stay there, and a run over a thousand tenants would keep a
			 * thousand tenants' entries: drop them, as a backend does when
			 * it falls behind on invalidation messages.  Only what the
			 * next tenant uses is read again (deferrable.c keeps what it
			 * knows of the triggers: the drop changes none).
			 */
			deferrable_drop_caches();
			MemoryContextSwitchTo(oldcxt);
			if (edata != NULL)
			{
				fleetutils_warn_failure("schema", fs->name, edata);
				fleetutils_add_failure(&failed, fs->name, edata->sqlerrcode,
									   fleetutils_error_text(edata, false));
			}
			MemoryContextReset(cxt);
		}
	}
	PG_FINALLY();
	{
		leave_schema();
	}
	PG_END_TRY();
	MemoryContextDelete(cxt);

	fleetutils_end_failures(&failed);
	fleetutils_raise_run(&failed, list_length(schemas),
						 "The other schemas are migrated and committed; each failure is recorded in its schema's morgenmigrate_errors.");
}
