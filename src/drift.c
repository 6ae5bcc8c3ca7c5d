/*-------------------------------------------------------------------------
 *
 * drift.c
 *	  Drift: DDL run in the database outside the migrations.  Two event
 *	  triggers that drift_enable() creates (ddl_command_end, sql_drop)
 *	  record each such command in morgenmigrate.drift; migrate_status(dir)
 *	  shows the rows not acknowledged yet, migrate_check(dir) refuses them,
 *	  drift_acknowledge() accepts them with a note, and a migration that
 *	  fails on an object drift touched says so.  Every query on the drift
 *	  table is here.
 *
 * Not drift: what a migration runs (the runner marks the files it runs,
 * the worker its whole backend), the scripts of CREATE and ALTER
 * EXTENSION and DROP EXTENSION, temporary objects, and REFRESH
 * MATERIALIZED VIEW (data, not schema).  Recording runs as the owner of
 * the drift table, in a subtransaction, so that the DDL of any role works
 * and a failure to record is a WARNING, never the DDL's failure.  The
 * event trigger functions follow src/test/modules/test_ddl_deparse.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "common/keywords.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/scanner.h"
#include "storage/bufmgr.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "drift.h"
#include "layout.h"
#include "morgenmigrate.h"
#include "subxact.h"



/* The drift table and the event triggers that fill it. */
#define DRIFT_TABLE			"drift"
#define DRIFT_TRIGGER_DDL	"morgenmigrate_drift_ddl"
#define DRIFT_TRIGGER_DROP	"morgenmigrate_drift_drop"

/* The statement text kept with a drift row is cut here (bytes). */
#define DRIFT_STATEMENT_MAX 1024

/* How many changes migrate_check names; how many a failed migration. */
#define DRIFT_CHECK_NAMES	10
#define DRIFT_ERROR_NAMES	3

/* How many unacknowledged rows a migration run keeps for its errors. */
#define DRIFT_KEPT_MAX		1000

/*
 * The catalogs of the objects that have no schema of their own but belong
 * to a table, with the column that names the table: such an object is
 * temporary when its table is.
 */
static const struct
{
	Oid			classid;
	AttrNumber	table_column;
}			table_parts[] =
{
	{TriggerRelationId, Anum_pg_trigger_tgrelid},
	{PolicyRelationId, Anum_pg_policy_polrelid},
	{RewriteRelationId, Anum_pg_rewrite_ev_class},
	{AttrDefaultRelationId, Anum_pg_attrdef_adrelid},
};

/* One unacknowledged row of the drift table. */
typedef struct DriftRow
{
	TimestampTz recorded_at;
	char	   *user_name;
	char	   *session_user_name;
	char	   *application_name;	/* NULL when unset */
	char	   *client_addr;	/* NULL for a unix socket or a worker */
	char	   *command_tag;
	char	   *object_type;
	char	   *object_identity;	/* NULL for GRANT and the like */
	char	   *statement;
} DriftRow;

/* A migration file runs in this backend: its DDL is not drift. */
static bool in_migration = false;
static int	migration_nest_level = 0;

/* This backend is a migrate_run worker: nothing it runs is drift. */
static bool ignore_backend = false;

/* Recording now (DDL a recording causes is not recorded again). */
static bool recording = false;

static bool callbacks_registered = false;

/* The unacknowledged rows, read when the transaction's first file began. */
static MemoryContext kept_cxt = NULL;
static List *kept_rows = NIL;
static LocalTransactionId kept_lxid = InvalidLocalTransactionId;

static void register_callbacks(void);
static void drift_xact_callback(XactEvent event, void *arg);
static void drift_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
								   SubTransactionId parentSubid, void *arg);
static void keep_rows(void);
static Oid	drift_relid(void);
static Oid	drift_owner(Oid relid);
static bool never_written(Oid relid);
static List *load_rows_as_owner(int64 limit);
static List *load_rows(int64 limit);
static bool tag_is_drift(CommandTag tag, bool dropped);
static bool object_is_temporary(const ObjectAddress *object);
static Oid	object_oid_column(const ObjectAddress *object, AttrNumber column);
static bool grant_is_temporary(const InternalGrant *istmt);
static char *temporary_parts_dropped(void);
static void insert_rows(const char *tag, bool dropped);
static char *bounded_statement(void);
static char *row_what(const DriftRow *row);
static char *row_who(const DriftRow *row);
static char *row_summary(const DriftRow *row);
static List *statement_identifiers(const char *sql);
static List *identity_names(const DriftRow *row);
static char *drift_touched(const char *sql, const char *table);
static void ensure_trigger(const char *name, const char *event,
						   const char *function);
static void require_superuser(const char *action);

/*
 * A migration file starts running in this backend: until
 * drift_migration_end (or an abort of the transaction level it started
 * in), its DDL is not recorded.  Reads the unacknowledged drift once per
 * transaction, for drift_explain_error.
 */
void
drift_migration_begin(void)
{
	register_callbacks();
	in_migration = true;
	migration_nest_level = GetCurrentTransactionNestLevel();
	if (kept_lxid != mm_local_transaction_id)
		keep_rows();
}

/* The migration file has finished running. */
void
drift_migration_end(void)
{
	in_migration = false;
}

/* Marks this backend (a migrate_run worker) as running migrations only. */
void
drift_ignore_backend(void)
{
	ignore_backend = true;
}

/* Registers the callbacks that clear this module's flags on an abort. */
static void
register_callbacks(void)
{
	if (callbacks_registered)
		return;
	RegisterXactCallback(drift_xact_callback, NULL);
	RegisterSubXactCallback(drift_subxact_callback, NULL);
	callbacks_registered = true;
}

/*
 * An error that ends the transaction ends the file that was running, and
 * any recording (its own error handling resets the flag; this covers an
 * error before it starts).
 */
static void
drift_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		in_migration = false;
		recording = false;
	}
}

/*
 * So does the abort of the subtransaction the file began in (a caller's
 * exception block), but not that of the runner's own subtransactions
 * inside the file.
 */
static void
drift_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && in_migration &&
		GetCurrentTransactionNestLevel() <= migration_nest_level)
		in_migration = false;
}

/*
 * Reads the newest unacknowledged drift rows into memory that outlives
 * the transaction's failure, so that an error can be explained without
 * a query.
 */
static void
keep_rows(void)
{
	MemoryContext oldcxt;

	if (kept_cxt == NULL)
		kept_cxt = AllocSetContextCreate(TopMemoryContext, "morgenmigrate drift",
										 ALLOCSET_SMALL_SIZES);
	MemoryContextReset(kept_cxt);
	kept_rows = NIL;
	kept_lxid = mm_local_transaction_id;

	SPI_connect();
	oldcxt = MemoryContextSwitchTo(kept_cxt);
	kept_rows = load_rows_as_owner(DRIFT_KEPT_MAX);
	MemoryContextSwitchTo(oldcxt);
	SPI_finish();
}

/* The drift table, InvalidOid when the extension's SQL has none. */
static Oid
drift_relid(void)
{
	Oid			nsp = get_namespace_oid(MM_SCHEMA, true);

	return OidIsValid(nsp) ? get_relname_relid(DRIFT_TABLE, nsp) : InvalidOid;
}

/*
 * Tells whether the drift table has never held a row (no block on disk):
 * then every session's first migrate_status(dir) and migrate_check(dir)
 * need not prepare and run the query on it.
 */
static bool
never_written(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	bool		empty = RelationGetNumberOfBlocks(rel) == 0;

	table_close(rel, AccessShareLock);
	return empty;
}

/* The owner of the drift table (the extension's installer). */
static Oid
drift_owner(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tuple))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s.%s\" does not exist",
						MM_SCHEMA, DRIFT_TABLE)));
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/*
 * load_rows with the rights of the drift table's owner: whoever may call
 * migrate_status or migrate_check, or run a migration, sees the drift,
 * whether or not it may read the table itself.  NIL when the table is
 * missing (the library serving an older version's SQL).
 */
static List *
load_rows_as_owner(int64 limit)
{
	Oid			relid = drift_relid();
	Oid			save_userid;
	int			save_sec_context;
	List	   *rows = NIL;

	if (!OidIsValid(relid) || never_written(relid))
		return NIL;
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(drift_owner(relid), save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		rows = load_rows(limit);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
	return rows;
}

/*
 * The unacknowledged drift rows, oldest first, at most limit of the
 * newest (-1: all), in the current memory context.  The caller is in SPI.
 */
static List *
load_rows(int64 limit)
{
	static SPIPlanPtr plan = NULL;
	MemoryContext cxt = CurrentMemoryContext;
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(limit)};
	List	   *rows = NIL;
	int			rc;

	if (plan == NULL)
	{
		plan = SPI_prepare("SELECT * FROM (SELECT id, recorded_at, user_name,"
						   " session_user_name, application_name,"
						   " pg_catalog.host(client_addr), command_tag,"
						   " object_type, object_identity, statement"
						   " FROM " MM_SCHEMA "." DRIFT_TABLE
						   " WHERE acknowledged_at IS NULL"
						   " ORDER BY id DESC LIMIT $1) newest ORDER BY id",
						   1, types);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare the drift query: %s",
				 SPI_result_code_string(SPI_result));
	}
	rc = SPI_execute_plan(plan, values, limit < 0 ? "n" : NULL, true, 0);
	MemoryContextSwitchTo(cxt);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "drift query failed: %s", SPI_result_code_string(rc));

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		DriftRow   *row = palloc0(sizeof(DriftRow));
		bool		isnull;

		row->recorded_at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 2, &isnull));
		row->user_name = SPI_getvalue(tuple, desc, 3);
		row->session_user_name = SPI_getvalue(tuple, desc, 4);
		row->application_name = SPI_getvalue(tuple, desc, 5);
		row->client_addr = SPI_getvalue(tuple, desc, 6);
		row->command_tag = SPI_getvalue(tuple, desc, 7);
		row->object_type = SPI_getvalue(tuple, desc, 8);
		row->object_identity = SPI_getvalue(tuple, desc, 9);
		row->statement = SPI_getvalue(tuple, desc, 10);
		rows = lappend(rows, row);
	}
	SPI_freetuptable(SPI_tuptable);
	return rows;
}

/*
 * The work of the event trigger functions: records the commands that
 * ddl_command_end reports, or the objects sql_drop reports, unless they
 * are not drift.
 */
void
drift_record_event(EventTriggerData *trigdata, bool dropped)
{
	if (in_migration || ignore_backend || recording || creating_extension ||
		!tag_is_drift(trigdata->tag, dropped))
		return;
	register_callbacks();
	insert_rows(GetCommandTagName(trigdata->tag), dropped);
}

/*
 * Whether a command is drift: not the extension commands (their scripts
 * run with creating_extension set, but DROP EXTENSION does not), not
 * REFRESH MATERIALIZED VIEW (it changes data, not the schema; pg_restore
 * runs it after creating the event triggers).  sql_drop also fires for
 * ALTER TABLE ... DROP COLUMN, which ddl_command_end records already.
 */
static bool
tag_is_drift(CommandTag tag, bool dropped)
{
	switch (tag)
	{
		case CMDTAG_CREATE_EXTENSION:
		case CMDTAG_ALTER_EXTENSION:
		case CMDTAG_DROP_EXTENSION:
		case CMDTAG_REFRESH_MATERIALIZED_VIEW:
			return false;
		default:
			return !dropped ||
				strncmp(GetCommandTagName(tag), "DROP", 4) == 0;
	}
}

/*
 * drift_is_temporary(command): whether a command that
 * pg_event_trigger_ddl_commands() reports changed only temporary objects:
 * the object it reports, or, for a GRANT or REVOKE (reported without an
 * object), every object it names.
 */
bool
drift_command_is_temporary(const CollectedCommand *cmd)
{
	ObjectAddress object;

	switch (cmd->type)
	{
		case SCT_Simple:
			return object_is_temporary(&cmd->d.simple.address);
		case SCT_AlterTable:
			ObjectAddressSet(object, cmd->d.alterTable.classId,
							 cmd->d.alterTable.objectId);
			return object_is_temporary(&object);
		case SCT_AlterOpFamily:
			return object_is_temporary(&cmd->d.opfam.address);
		case SCT_CreateOpClass:
			return object_is_temporary(&cmd->d.createopc.address);
		case SCT_AlterTSConfig:
			return object_is_temporary(&cmd->d.atscfg.address);
		case SCT_Grant:
			return grant_is_temporary(cmd->d.grant.istmt);
		case SCT_AlterDefaultPrivileges:
			return false;
	}
	return false;
}

/*
 * Whether an object is temporary, decided by the OID of its schema (a
 * schema by its own), or, for an object that has no schema but belongs to
 * a table, by its table's: isAnyTempNamespace, as core decides when it
 * reports a schema as "pg_temp".  A missing schema name in the event
 * trigger's report says nothing: a trigger has none even on a table that
 * lives for good.
 */
static bool
object_is_temporary(const ObjectAddress *object)
{
	Oid			nsp = InvalidOid;

	if (object->classId == NamespaceRelationId)
		nsp = object->objectId;
	else if (is_objectclass_supported(object->classId) &&
			 get_object_attnum_namespace(object->classId) != InvalidAttrNumber)
		nsp = object_oid_column(object,
								get_object_attnum_namespace(object->classId));
	else
	{
		for (int i = 0; i < lengthof(table_parts); i++)
		{
			Oid			relid;

			if (table_parts[i].classid != object->classId)
				continue;
			relid = object_oid_column(object, table_parts[i].table_column);
			nsp = OidIsValid(relid) ? get_rel_namespace(relid) : InvalidOid;
		}
	}
	return OidIsValid(nsp) && isAnyTempNamespace(nsp);
}

/*
 * An OID column of an object's catalog row, InvalidOid when there is no
 * such row (as pg_event_trigger_ddl_commands() reads the schema).
 */
static Oid
object_oid_column(const ObjectAddress *object, AttrNumber column)
{
	Relation	catalog;
	HeapTuple	tuple;
	Oid			value = InvalidOid;

	if (!is_objectclass_supported(object->classId))
		return InvalidOid;
	catalog = table_open(object->classId, AccessShareLock);
	tuple = get_catalog_object_by_oid(catalog,
									  get_object_attnum_oid(object->classId),
									  object->objectId);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		datum = heap_getattr(tuple, column,
										 RelationGetDescr(catalog), &isnull);

		if (!isnull)
			value = DatumGetObjectId(datum);
	}
	table_close(catalog, AccessShareLock);
	return value;
}

/*
 * Whether a GRANT or REVOKE named only temporary objects (at least one):
 * tables, sequences, functions, types or schemas; on anything else it is
 * drift.
 */
static bool
grant_is_temporary(const InternalGrant *istmt)
{
	Oid			classid;
	ListCell   *lc;

	switch (istmt->objtype)
	{
		case OBJECT_TABLE:
		case OBJECT_SEQUENCE:
			classid = RelationRelationId;
			break;
		case OBJECT_FUNCTION:
		case OBJECT_PROCEDURE:
		case OBJECT_ROUTINE:
			classid = ProcedureRelationId;
			break;
		case OBJECT_TYPE:
		case OBJECT_DOMAIN:
			classid = TypeRelationId;
			break;
		case OBJECT_SCHEMA:
			classid = NamespaceRelationId;
			break;
		default:
			return false;
	}
	if (istmt->objects == NIL)
		return false;
	foreach(lc, istmt->objects)
	{
		ObjectAddress object;

		ObjectAddressSet(object, classid, lfirst_oid(lc));
		if (!object_is_temporary(&object))
			return false;
	}
	return true;
}

/*
 * The condition that leaves out a dropped trigger, policy, rule or column
 * default of a temporary table, which pg_event_trigger_dropped_objects()
 * marks as temporary only in newer releases (and never a rule).  After
 * the drop no catalog row links it to its table any more; what is left is
 * its identity, whose first name is the table's schema as core writes it:
 * "pg_temp" for any temporary schema, a name no other schema can have.
 */
static char *
temporary_parts_dropped(void)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, " AND NOT (d.address_names[1] OPERATOR(pg_catalog.=) 'pg_temp'"
						   " AND d.classid OPERATOR(pg_catalog.=) ANY ('{");
	for (int i = 0; i < lengthof(table_parts); i++)
		appendStringInfo(&buf, "%s%u", i > 0 ? "," : "", table_parts[i].classid);
	appendStringInfoString(&buf, "}'::pg_catalog.oid[]))");
	return buf.data;
}

/*
 * Inserts the rows of one command, as the owner of the drift table (as a
 * SECURITY DEFINER function would, but knowing the caller's current_user
 * first) and in a restricted security context, in a subtransaction:
 * an error becomes a WARNING and the DDL goes on.  A cancel still
 * cancels.  Temporary objects and objects of extension scripts are left
 * out by the queries: by core's is_temporary for a dropped object, and by
 * drift_command_is_temporary for a command, which looks up the namespace
 * of the object (or of its table) by OID.  A view's own "_RETURN" rule
 * goes with the view, which is recorded (PostgreSQL 15 reports the rule's
 * drop too, 17 does not).
 */
static void
insert_rows(const char *tag, bool dropped)
{
	static SPIPlanPtr ddl_plan = NULL;
	static SPIPlanPtr drop_plan = NULL;
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	Oid			types[6] = {TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	char	   *statement = bounded_statement();
	Oid			save_userid;
	int			save_sec_context;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	values[0] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[1] = CStringGetTextDatum(GetUserNameFromId(save_userid, false));
	values[2] = CStringGetTextDatum(GetUserNameFromId(GetSessionUserId(), false));
	if (application_name != NULL && application_name[0] != '\0')
		values[3] = CStringGetTextDatum(application_name);
	else
		nulls[3] = 'n';
	if (statement != NULL)
		values[4] = CStringGetTextDatum(statement);
	else
		nulls[4] = 'n';
	values[5] = CStringGetTextDatum(tag);

	recording = true;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		SPIPlanPtr *plan = dropped ? &drop_plan : &ddl_plan;
		int			rc;

		SetUserIdAndSecContext(drift_owner(drift_relid()), save_sec_context |
							   SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_RESTRICTED_OPERATION);
		SPI_connect();
		if (*plan == NULL)
		{
			*plan = SPI_prepare(dropped ?
								psprintf("INSERT INTO " MM_SCHEMA "." DRIFT_TABLE
										 " (recorded_at, user_name, session_user_name,"
										 " application_name, client_addr, command_tag,"
										 " object_type, object_identity, statement)"
										 " SELECT $1, $2, $3, $4,"
										 " pg_catalog.inet_client_addr(), $6,"
										 " d.object_type, d.object_identity, $5"
										 " FROM pg_catalog.pg_event_trigger_dropped_objects() d"
										 " WHERE (d.original OR d.normal)"
										 " AND NOT d.is_temporary"
										 " AND NOT (d.object_type OPERATOR(pg_catalog.=) 'rule'"
										 " AND pg_catalog.starts_with(d.object_identity, '\"_RETURN\" on '))%s",
										 temporary_parts_dropped()) :
								"INSERT INTO " MM_SCHEMA "." DRIFT_TABLE
								" (recorded_at, user_name, session_user_name,"
								" application_name, client_addr, command_tag,"
								" object_type, object_identity, statement)"
								" SELECT $1, $2, $3, $4,"
								" pg_catalog.inet_client_addr(), c.command_tag,"
								" c.object_type, c.object_identity, $5"
								" FROM pg_catalog.pg_event_trigger_ddl_commands() c"
								" WHERE NOT c.in_extension"
								" AND NOT " MM_SCHEMA ".drift_is_temporary(c.command)",
								dropped ? 6 : 5, types);
			if (*plan == NULL || SPI_keepplan(*plan) != 0)
				elog(ERROR, "could not prepare the drift insert: %s",
					 SPI_result_code_string(SPI_result));
		}
		rc = SPI_execute_plan(*plan, values, nulls, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "drift insert failed: %s", SPI_result_code_string(rc));
		SPI_finish();
		SetUserIdAndSecContext(save_userid, save_sec_context);

		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		SetUserIdAndSecContext(save_userid, save_sec_context);
		recording = false;
		edata = subxact_catch_failure(oldcxt, oldowner);
		ereport(WARNING,
				(errmsg("could not record drift: %s", edata->message),
				 errdetail("The %s command itself was not affected.", tag),
				 errhint("Check the table %s.%s.", MM_SCHEMA, DRIFT_TABLE)));
	}
	PG_END_TRY();
	recording = false;
}

/* The text of the statement running, cut at DRIFT_STATEMENT_MAX bytes. */
static char *
bounded_statement(void)
{
	const char *sql = debug_query_string;
	int			len;

	if (sql == NULL)
		return NULL;
	len = strlen(sql);
	if (len <= DRIFT_STATEMENT_MAX)
		return pstrdup(sql);
	len = pg_mbcliplen(sql, len, DRIFT_STATEMENT_MAX);
	return psprintf("%.*s...", len, sql);
}

/* What a drift row changed: "ALTER TABLE public.users". */
static char *
row_what(const DriftRow *row)
{
	return psprintf("%s %s", row->command_tag,
					row->object_identity ? row->object_identity :
					row->object_type ? row->object_type : "");
}

/* Who made a drift row's change: "by alice (session bob) via psql". */
static char *
row_who(const DriftRow *row)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "by %s", row->user_name);
	if (strcmp(row->user_name, row->session_user_name) != 0)
		appendStringInfo(&buf, " (session %s)", row->session_user_name);
	if (row->application_name != NULL)
		appendStringInfo(&buf, " via %s", row->application_name);
	if (row->client_addr != NULL)
		appendStringInfo(&buf, " from %s", row->client_addr);
	return buf.data;
}

/* What, by whom and when: "ALTER TABLE public.users by alice at ...". */
static char *
row_summary(const DriftRow *row)
{
	return psprintf("%s by %s at %s", row_what(row), row->user_name,
					timestamptz_to_str(row->recorded_at));
}

/*
 * migrate_status(dir): a row of state "drift" for each unacknowledged
 * change, oldest first: the change as the file name, when as applied_at,
 * who and the statement as the error.
 */
void
drift_put_status_rows(ReturnSetInfo *rsinfo)
{
	ListCell   *lc;

	foreach(lc, load_rows_as_owner(-1))
	{
		const DriftRow *row = (const DriftRow *) lfirst(lc);
		Datum		values[6];
		bool		nulls[6] = {false, false, false, true, true, false};

		values[0] = CStringGetTextDatum(psprintf("drift: %s", row_what(row)));
		values[1] = CStringGetTextDatum("drift");
		values[2] = TimestampTzGetDatum(row->recorded_at);
		values[5] = CStringGetTextDatum(psprintf("%s: %s", row_who(row),
												 row->statement ? row->statement : ""));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * migrate_check(dir): appends "Drift: ..." naming the unacknowledged
 * changes (what, by whom, when; the first DRIFT_CHECK_NAMES) to detail,
 * and returns how many there are.
 */
int
drift_describe(StringInfo detail)
{
	List	   *rows = load_rows_as_owner(-1);
	ListCell   *lc;

	if (rows == NIL)
		return 0;

	appendStringInfo(detail, "%sDrift: ", detail->len > 0 ? " " : "");
	foreach(lc, rows)
	{
		if (foreach_current_index(lc) == DRIFT_CHECK_NAMES)
		{
			appendStringInfo(detail, "; and %d more",
							 list_length(rows) - DRIFT_CHECK_NAMES);
			break;
		}
		appendStringInfo(detail, "%s%s", foreach_current_index(lc) > 0 ? "; " : "",
						 row_summary((const DriftRow *) lfirst(lc)));
	}
	appendStringInfoChar(detail, '.');
	return list_length(rows);
}

/* migrate_check(dir): the error when the only trouble is drift. */
void
drift_refuse(int count, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg_plural("%d schema change was made outside the migrations",
						   "%d schema changes were made outside the migrations",
						   count, count),
			 errdetail("%s", detail),
			 errhint("Bring each change into a migration file or undo it, then acknowledge it with morgenmigrate.drift_acknowledge(note).")));
}

/*
 * The scanner's token number for an identifier.  It is a number of the
 * generated grammar, whose header not every PostgreSQL package installs,
 * so it is read off the scanner itself: a word that is no keyword scans as
 * an identifier.
 */
static int
ident_token(void)
{
	static int	token = 0;

	if (token == 0)
	{
		core_yy_extra_type yyextra;
		core_yyscan_t scanner;
		core_YYSTYPE yylval;
		YYLTYPE		yylloc;

		scanner = scanner_init("morgenmigrate_identifier", &yyextra,
							   &ScanKeywords, ScanKeywordTokens);
		token = core_yylex(&yylval, &yylloc, scanner);
		scanner_finish(scanner);
	}
	return token;
}

/*
 * The identifiers of a statement, as the parser sees them (unquoted ones
 * folded to lower case).
 */
static List *
statement_identifiers(const char *sql)
{
	core_yy_extra_type yyextra;
	core_yyscan_t scanner;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	List	   *names = NIL;
	int			tok;

	scanner = layout_quiet_scanner(sql, &yyextra);
	while ((tok = core_yylex(&yylval, &yylloc, scanner)) != 0)
	{
		if (tok == ident_token())
			names = lappend(names, pstrdup(yylval.str));
	}
	scanner_finish(scanner);
	return names;
}

/*
 * The names a drift row's object goes by in a statement: the identifiers
 * of its identity outside parentheses (no argument types), without the
 * schema that qualifies it, and for a column the table, not the column:
 * "public.users" gives users, "users_pkey on public.users" gives
 * users_pkey and users, "public.users.email" gives users.
 */
static List *
identity_names(const DriftRow *row)
{
	core_yy_extra_type yyextra;
	core_yyscan_t scanner;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	List	   *names = NIL;
	char	   *pending = NULL;
	bool		pending_qualified = false;
	int			prev = 0;
	int			depth = 0;
	int			tok;

	if (row->object_identity == NULL)
		return NIL;
	scanner = layout_quiet_scanner(row->object_identity, &yyextra);
	while ((tok = core_yylex(&yylval, &yylloc, scanner)) != 0)
	{
		/* an identifier is a schema when a dot follows and none precedes */
		if (pending != NULL && !(tok == '.' && !pending_qualified))
			names = lappend(names, pending);
		pending = NULL;
		if (tok == '(')
			depth++;
		else if (tok == ')')
			depth--;
		else if (tok == ident_token() && depth == 0)
		{
			pending = pstrdup(yylval.str);
			pending_qualified = (prev == '.');
		}
		prev = tok;
	}
	scanner_finish(scanner);
	if (pending != NULL)
		names = lappend(names, pending);
	if (row->object_type != NULL &&
		strcmp(row->object_type, "table column") == 0 && names != NIL)
		names = list_delete_last(names);
	return names;
}

/*
 * Adds to the error of a migration statement which unacknowledged drift
 * touched an object the statement names (or the error's table): the
 * migration may fail because the schema is not what the migrations made.
 *
 * This runs in the runner's error handling, where the error it explains
 * must come out as it is: sometimes before the failed transaction has
 * been rolled back (no subtransaction can start there, no catalog may be
 * read), sometimes under settings the failed file changed.  So it reads
 * nothing (the rows were read when the file began) and takes nothing but
 * memory, in a context of its own; and an error of its own (a statement
 * that does not scan under the settings of the moment, an identity
 * planted in the drift table that does not scan at all) is caught and
 * flushed right here, which is all the cleanup it needs, and the
 * explanation dropped with a DEBUG line.
 */
void
drift_explain_error(const char *sql, ErrorData *edata)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	MemoryContext volatile cxt = NULL;

	if (kept_rows == NIL || !in_migration)
		return;
	PG_TRY();
	{
		char	   *found;

		cxt = AllocSetContextCreate(oldcxt, "morgenmigrate drift explanation",
									ALLOCSET_DEFAULT_SIZES);
		MemoryContextSwitchTo(cxt);
		found = drift_touched(sql, edata->table_name);
		if (found != NULL)
			edata->detail = MemoryContextStrdup(oldcxt,
												psprintf("%s%sThe schema was changed outside the migrations, on what this statement names: %s.",
														 edata->detail ? edata->detail : "",
														 edata->detail ? "  " : "", found));
	}
	PG_CATCH();
	{
		ErrorData  *failure;

		MemoryContextSwitchTo(oldcxt);
		failure = CopyErrorData();
		FlushErrorState();
		ereport(DEBUG1,
				(errmsg_internal("could not explain the migration's error by drift: %s",
								 failure->message)));
		FreeErrorData(failure);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	if (cxt != NULL)
		MemoryContextDelete(cxt);
}

/*
 * The unacknowledged drift rows that touched what a statement names (or
 * table, the error's table), as "what by whom at when; ...", at most
 * DRIFT_ERROR_NAMES of them and how many more; NULL if none.
 */
static char *
drift_touched(const char *sql, const char *table)
{
	List	   *idents = statement_identifiers(sql);
	StringInfoData found;
	int			n = 0;
	ListCell   *lc;

	if (table != NULL)
		idents = lappend(idents, pstrdup(table));

	initStringInfo(&found);
	foreach(lc, kept_rows)
	{
		const DriftRow *row = (const DriftRow *) lfirst(lc);
		ListCell   *nc;

		foreach(nc, identity_names(row))
		{
			ListCell   *ic;
			bool		match = false;

			foreach(ic, idents)
				match |= strcmp((const char *) lfirst(nc),
								(const char *) lfirst(ic)) == 0;
			if (!match)
				continue;
			if (n < DRIFT_ERROR_NAMES)
				appendStringInfo(&found, "%s%s", n > 0 ? "; " : "",
								 row_summary(row));
			n++;
			break;
		}
	}
	if (n == 0)
		return NULL;
	if (n > DRIFT_ERROR_NAMES)
		appendStringInfo(&found, "; and %d more", n - DRIFT_ERROR_NAMES);
	return found.data;
}

/* drift_enable(): creates (or enables) the two event triggers. */
void
drift_triggers_create(void)
{
	require_superuser("enable");
	SPI_connect();
	ensure_trigger(DRIFT_TRIGGER_DDL, "ddl_command_end", "drift_record_ddl");
	ensure_trigger(DRIFT_TRIGGER_DROP, "sql_drop", "drift_record_drop");
	SPI_finish();
}

/* Creates an event trigger of the extension, or enables it if it exists. */
static void
ensure_trigger(const char *name, const char *event, const char *function)
{
	char	   *sql;

	if (OidIsValid(get_event_trigger_oid(name, true)))
		sql = psprintf("ALTER EVENT TRIGGER %s ENABLE", name);
	else
		sql = psprintf("CREATE EVENT TRIGGER %s ON %s EXECUTE FUNCTION %s.%s()",
					   name, event, MM_SCHEMA, function);
	if (SPI_execute(sql, false, 0) < 0)
		elog(ERROR, "could not run \"%s\"", sql);
}

/* drift_disable(): drops the two event triggers. */
void
drift_triggers_drop(void)
{
	require_superuser("disable");
	SPI_connect();
	if (SPI_execute("DROP EVENT TRIGGER IF EXISTS " DRIFT_TRIGGER_DDL, false, 0) < 0 ||
		SPI_execute("DROP EVENT TRIGGER IF EXISTS " DRIFT_TRIGGER_DROP, false, 0) < 0)
		elog(ERROR, "could not drop the drift event triggers");
	SPI_finish();
}

/* Event triggers are for superusers only: say so in our words. */
static void
require_superuser(const char *action)
{
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s drift recording", action),
				 errdetail("Drift is recorded by event triggers, which only superusers may create or drop."),
				 errhint("Ask a superuser to run SELECT morgenmigrate.drift_%s() in this database.",
						 action)));
}

/*
 * drift_acknowledge(note, up_to): marks the unacknowledged rows (all, or
 * those recorded up to up_to) as acknowledged now by the caller with the
 * note; returns how many.
 */
int64
drift_acknowledge_rows(const char *note, bool all, TimestampTz up_to)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[4] = {TIMESTAMPTZOID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', all ? 'n' : ' '};
	int64		count;
	int			rc;

	SPI_connect();
	if (plan == NULL)
	{
		plan = SPI_prepare("UPDATE " MM_SCHEMA "." DRIFT_TABLE
						   " SET acknowledged_at = $1, acknowledged_by = $2,"
						   " note = $3"
						   " WHERE acknowledged_at IS NULL"
						   " AND ($4 IS NULL"
						   " OR recorded_at OPERATOR(pg_catalog.<=) $4)",
						   4, types);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare the drift update: %s",
				 SPI_result_code_string(SPI_result));
	}
	values[0] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[1] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	values[2] = CStringGetTextDatum(note);
	values[3] = TimestampTzGetDatum(up_to);
	rc = SPI_execute_plan(plan, values, nulls, false, 0);
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "drift update failed: %s", SPI_result_code_string(rc));
	count = (int64) SPI_processed;
	SPI_finish();
	return count;
}
