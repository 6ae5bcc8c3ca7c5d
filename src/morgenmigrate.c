/*-------------------------------------------------------------------------
 *
 * morgenmigrate.c
 *	  The module's entry points: _PG_init with the settings, and the
 *	  SQL-callable functions, each of which checks its arguments and the
 *	  caller's rights, then hands over to commands.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_authid_d.h"
#include "catalog/pg_type_d.h"
#include "commands/defrem.h"
#include "commands/event_trigger.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/varlena.h"

#include "citus.h"
#include "commands.h"
#include "compat.h"
#include "context.h"
#include "dbfleet.h"
#include "drift.h"
#include "fleet.h"
#include "history.h"
#include "morgenmigrate.h"
#include "progress.h"
#include "push.h"
#include "runner.h"
#include "source.h"
#include "worker.h"


PG_MODULE_MAGIC;

char	   *mm_allowed_directories = NULL;
int			mm_max_file_size = 64 * 1024;
int			mm_max_push_size = 1024 * 1024;
int			mm_layout = LAYOUT_AUTO;
int			mm_lock_timeout = 100;
int			mm_lock_retries = 10;
int			mm_max_locked_bytes = -1;
bool		mm_trust_network_fingerprints = false;

/* What form of an SQL function was called (function_form). */
typedef struct FunctionForm
{
	bool		pushed;			/* its first argument: the pushed files */
	bool		schemas;		/* its second: schemas text[] */
	bool		databases;		/* its second: databases text[] */
} FunctionForm;

/* The values of morgenmigrate.layout. */

PGDLLEXPORT void _PG_init(void);

mm_function_info_v1(migrate_apply);
mm_function_info_v1(migrate_history);
mm_function_info_v1(migrate_status);
mm_function_info_v1(migrate_check);
mm_function_info_v1(migrate_rollback);
mm_function_info_v1(migrate_baseline);
mm_function_info_v1(migrate_forget);
mm_function_info_v1(migrate_repair);
mm_function_info_v1(migrate_run);
mm_function_info_v1(migrate_run_rollback);
mm_function_info_v1(migrate_layout);
mm_function_info_v1(migrate_adopt);
mm_function_info_v1(migrate_plan);
mm_function_info_v1(progress_slots);
mm_function_info_v1(drift_enable);
mm_function_info_v1(drift_disable);
mm_function_info_v1(drift_acknowledge);
mm_function_info_v1(drift_record_ddl);
mm_function_info_v1(drift_record_drop);
mm_function_info_v1(drift_is_temporary);

static char *text_arg(FunctionCallInfo fcinfo, int argno, const char *name,
					  bool required);
static bool bool_arg(FunctionCallInfo fcinfo, int argno, const char *name);
static int	steps_arg(FunctionCallInfo fcinfo, int argno);
static char *directory_arg(FunctionCallInfo fcinfo, int argno);
static const FunctionForm *function_form(FunctionCallInfo fcinfo);
static List *names_arg(FunctionCallInfo fcinfo, int argno, const char *name);
static int	max_parallel_arg(FunctionCallInfo fcinfo, int argno);
static void check_can_write_history(const char *funcname);
static ReturnSetInfo *begin_rows(FunctionCallInfo fcinfo);
static EventTriggerData *event_trigger_data(FunctionCallInfo fcinfo,
											const char *funcname);
static void rollback_args(FunctionCallInfo fcinfo, int *steps, char **target);
static void refuse_atomic_call(FunctionCallInfo fcinfo, const char *name,
							   const char *function);

/*
 * Defines the settings, and, when shared_preload_libraries loads the
 * library, asks for the shared memory of morgenmigrate.progress.
 * allowed_directories has no check hook on purpose: a value rejected when
 * the library loads would leave the default, which allows every
 * directory; instead a bad value refuses every directory when used
 * (source.c).
 */
void
_PG_init(void)
{
	DefineCustomStringVariable("morgenmigrate.allowed_directories",
							   "Directories that migrations may be read from.",
							   "A comma-separated list of absolute paths; a migration "
							   "directory must be one of them or lie below one.  "
							   "Empty allows every directory.",
							   &mm_allowed_directories,
							   "",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("morgenmigrate.max_file_size",
							"Largest migration file that morgenmigrate reads.",
							NULL,
							&mm_max_file_size,
							64 * 1024,
							1,
							(int) (MaxAllocSize / 1024) - 1,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("morgenmigrate.max_push_size",
							"Most that the migration files of one push may hold together.",
							"The files sent over the connection to one call, in a table.",
							&mm_max_push_size,
							1024 * 1024,
							1,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("morgenmigrate.layout",
							 "Layout of the migration directories: which runner wrote them.",
							 "auto reads the layout from the names and markers of the files; "
							 "a runner's name requires its layout and refuses anything else.",
							 &mm_layout,
							 LAYOUT_AUTO,
							 layout_setting_options(),
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("morgenmigrate.lock_timeout",
							"lock_timeout of a migration file that sets none with a directive.",
							"0 leaves the caller's lock_timeout in force.",
							&mm_lock_timeout,
							100,
							0,
							INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("morgenmigrate.lock_retries",
							"Retries after a lock timeout of a migration file that sets none with a directive.",
							NULL,
							&mm_lock_retries,
							10,
							0,
							100,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("morgenmigrate.max_locked_bytes",
							"Largest relation a migration may read whole under a lock that blocks writes.",
							"A migration that would scan, rewrite or index a larger relation so "
							"is refused before anything runs, unless its file says "
							"allow-locked-rewrite.  -1 allows any size.",
							&mm_max_locked_bytes,
							-1,
							-1,
							INT_MAX,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("morgenmigrate.trust_network_fingerprints",
							 "Trusts the fingerprints of migration files on network file systems.",
							 "A session takes a file as unchanged while its device, inode, "
							 "size and times are as when it was proved; only on the local "
							 "file systems of Linux is that sure, so on any other (network, "
							 "FUSE, unknown) every file is read unless this is on.",
							 &mm_trust_network_fingerprints,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	MarkGUCPrefixReserved("morgenmigrate");

	if (process_shared_preload_libraries_in_progress)
		progress_preload();

	/* drift hears of the migrations the modules below run */
	runner_begin_hook = drift_migration_begin;
	runner_end_hook = drift_migration_end;
	history_ddl_begin_hook = drift_migration_begin;
	history_ddl_end_hook = drift_migration_end;
	context_explain_hook = drift_explain_error;
	worker_start_hook = drift_ignore_backend;
}

/* A text argument as a C string; NULL is an error when required. */
static char *
text_arg(FunctionCallInfo fcinfo, int argno, const char *name, bool required)
{
	if (PG_ARGISNULL(argno))
	{
		if (required)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument \"%s\" must not be null", name)));
		return NULL;
	}
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/* A boolean argument that must not be NULL. */
static bool
bool_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"%s\" must not be null", name)));
	return PG_GETARG_BOOL(argno);
}

/* The steps argument: -1 for NULL (no limit); negative is an error. */
static int
steps_arg(FunctionCallInfo fcinfo, int argno)
{
	int			steps;

	if (PG_ARGISNULL(argno))
		return -1;
	steps = PG_GETARG_INT32(argno);
	if (steps < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"steps\" must not be negative")));
	return steps;
}

/*
 * The migration directory argument, checked: the caller may read server
 * files, the path is absolute, a directory, and allowed.  In a function's
 * push form the argument is the table of the files sent over the
 * connection, which become the directory of the call (push.c): no file of
 * the server is read, so neither the right to read them nor
 * morgenmigrate.allowed_directories is needed, only EXECUTE on the form.
 */
static char *
directory_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *dir;

	if (function_form(fcinfo)->pushed)
	{
		if (PG_ARGISNULL(argno))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument \"%s\" must not be null", "files")));
		return push_open(PG_GETARG_OID(argno));
	}

	dir = text_arg(fcinfo, argno, "dir", true);
	if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read migration files"),
				 errdetail("Only roles with privileges of the \"%s\" role may read migration files.",
						   "pg_read_server_files")));

	return migration_dir_check(dir);
}

/*
 * The form of the function called, read from its pg_proc row once per
 * FmgrInfo (kept in fn_extra, as core's functions keep what they look up
 * for their call site): whether its first argument is the table of pushed
 * files, and whether its second is the tenant schemas or the databases.
 * The push form with databases refuses here: the pushed files are in a
 * temporary table of this session, which a worker connected to another
 * database cannot read.
 */
static const FunctionForm *
function_form(FunctionCallInfo fcinfo)
{
	FunctionForm *form = (FunctionForm *) fcinfo->flinfo->fn_extra;
	HeapTuple	tuple;
	Oid		   *types;
	char	  **names;
	char	   *modes;
	int			nargs;

	if (form != NULL)
		return form;
	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for function %u",
			 fcinfo->flinfo->fn_oid);
	nargs = get_func_arg_info(tuple, &types, &names, &modes);
	form = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(FunctionForm));
	form->pushed = nargs > 0 && types[0] == REGCLASSOID;
	form->databases = nargs > 1 && names != NULL &&
		strcmp(names[1], "databases") == 0;
	form->schemas = nargs > 1 && !form->databases && types[1] == TEXTARRAYOID;
	ReleaseSysCache(tuple);
	if (form->databases && form->pushed)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("pushed migration files cannot be run in other databases"),
				 errdetail("The pushed files are in a table of this session, which the background worker connected to another database cannot read."),
				 errhint("Push the files in a session of each database, or give the databases a directory of the server.")));
	fcinfo->flinfo->fn_extra = form;
	return form;
}

/*
 * The schemas or databases argument (name): a list of names, none of them
 * NULL, in an array of one dimension (deconstruct_array would read a
 * matrix's elements as one list).
 */
static List *
names_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	ArrayType  *array;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *names = NIL;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"%s\" must not be null", name)));
	array = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("argument \"%s\" must be a one-dimensional array", name),
				 errdetail("It has %d dimensions.", ARR_NDIM(array))));
	deconstruct_array(array, TEXTOID, -1, false,
					  TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument \"%s\" must not hold a null", name)));
		names = lappend(names, TextDatumGetCString(elems[i]));
	}
	return names;
}

/* The max_parallel argument: how many workers at a time, at least 1. */
static int
max_parallel_arg(FunctionCallInfo fcinfo, int argno)
{
	int			n;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"%s\" must not be null", "max_parallel")));
	n = PG_GETARG_INT32(argno);
	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"%s\" must be at least 1", "max_parallel"),
				 errdetail("It is how many databases are migrated at a time, each by a background worker of its own.")));
	return n;
}

/*
 * Refuses to change the history where it cannot be done safely: on a
 * standby (before anything is read), in a read-only transaction, and
 * under a transaction snapshot that would not see what another session
 * applied while this one waited for the lock.
 */
static void
check_can_write_history(const char *funcname)
{
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot run %s() during recovery", funcname),
				 errdetail("This server is a standby; its schema changes only by replication."),
				 errhint("Run migrations on the primary server.")));
	PreventCommandIfReadOnly(psprintf("%s()", funcname));
	citus_refuse_on_worker(funcname);
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("%s() requires the READ COMMITTED isolation level",
						funcname),
				 errdetail("A transaction in REPEATABLE READ or SERIALIZABLE mode would not see migrations that another session applied while it waited."),
				 errhint("Call it outside an explicit REPEATABLE READ or SERIALIZABLE transaction.")));
}

/* Sets up a set-returning function's result as a tuplestore. */
static ReturnSetInfo *
begin_rows(FunctionCallInfo fcinfo)
{
	InitMaterializedSRF(fcinfo, 0);
	return (ReturnSetInfo *) fcinfo->resultinfo;
}

/*
 * migrate_apply(dir, target, steps, dry_run, atomic): applies (or
 * rehearses) the pending files of a directory; the fleet form
 * migrate_apply(dir, schemas, steps, dry_run, atomic, target) in each of
 * the schemas.
 */
Datum
migrate_apply(PG_FUNCTION_ARGS)
{
	ApplyOptions options;
	char	   *path;
	bool		fleet = function_form(fcinfo)->schemas;

	check_can_write_history("migrate_apply");
	path = directory_arg(fcinfo, 0);
	/* the fleet form has schemas in target's place, and target last */
	options.target = text_arg(fcinfo, fleet ? 5 : 1, "target", false);
	options.steps = steps_arg(fcinfo, 2);
	options.dry_run = bool_arg(fcinfo, 3, "dry_run");
	options.atomic = bool_arg(fcinfo, 4, "atomic");

	if (fleet)
		fleet_apply(path, names_arg(fcinfo, 1, "schemas"), &options, begin_rows(fcinfo));
	else
		command_apply(path, &options, begin_rows(fcinfo));
	return (Datum) 0;
}

/* migrate_status(): the history and recorded failures, in apply order. */
Datum
migrate_history(PG_FUNCTION_ARGS)
{
	citus_refuse_on_worker("migrate_status");
	command_history(begin_rows(fcinfo));
	return (Datum) 0;
}

/*
 * migrate_status(dir): every file and history row with its state; the
 * fleet forms migrate_status(dir, schemas) of each schema and
 * migrate_status(dir, databases, max_parallel) of each database.
 */
Datum
migrate_status(PG_FUNCTION_ARGS)
{
	char	   *path;

	citus_refuse_on_worker("migrate_status");
	if (function_form(fcinfo)->databases)
	{
		List	   *databases = names_arg(fcinfo, 1, "databases");
		int			max_parallel = max_parallel_arg(fcinfo, 2);

		dbfleet_status(directory_arg(fcinfo, 0), databases, max_parallel,
					   begin_rows(fcinfo));
		return (Datum) 0;
	}
	path = directory_arg(fcinfo, 0);
	if (function_form(fcinfo)->schemas)
		fleet_status(path, names_arg(fcinfo, 1, "schemas"), begin_rows(fcinfo));
	else
		command_status(path, begin_rows(fcinfo));
	return (Datum) 0;
}

/*
 * migrate_check(dir): an error unless everything is applied, unchanged;
 * the fleet forms migrate_check(dir, schemas) in every schema and
 * migrate_check(dir, databases, max_parallel) in every database.
 */
Datum
migrate_check(PG_FUNCTION_ARGS)
{
	char	   *path;

	citus_refuse_on_worker("migrate_check");
	if (function_form(fcinfo)->databases)
	{
		List	   *databases = names_arg(fcinfo, 1, "databases");
		int			max_parallel = max_parallel_arg(fcinfo, 2);

		dbfleet_check(directory_arg(fcinfo, 0), databases, max_parallel);
		PG_RETURN_VOID();
	}
	path = directory_arg(fcinfo, 0);
	if (function_form(fcinfo)->schemas)
		fleet_check(path, names_arg(fcinfo, 1, "schemas"));
	else
		command_check(path);
	PG_RETURN_VOID();
}

/* migrate_rollback(dir, steps, target): runs down files, newest first. */
Datum
migrate_rollback(PG_FUNCTION_ARGS)
{
	char	   *path;
	char	   *target;
	int			steps;

	check_can_write_history("migrate_rollback");
	path = directory_arg(fcinfo, 0);
	rollback_args(fcinfo, &steps, &target);

	command_rollback(path, steps, target, begin_rows(fcinfo));
	return (Datum) 0;
}

/* migrate_baseline(dir, target): records files without running them. */
Datum
migrate_baseline(PG_FUNCTION_ARGS)
{
	char	   *path;

	check_can_write_history("migrate_baseline");
	path = directory_arg(fcinfo, 0);
	PG_RETURN_INT32(command_baseline(path, text_arg(fcinfo, 1, "target", false)));
}

/* migrate_forget(filename): deletes one history row. */
Datum
migrate_forget(PG_FUNCTION_ARGS)
{
	check_can_write_history("migrate_forget");
	command_forget(text_arg(fcinfo, 0, "filename", true));
	PG_RETURN_VOID();
}

/* migrate_repair(dir): accepts edited files, clears recorded failures. */
Datum
migrate_repair(PG_FUNCTION_ARGS)
{
	char	   *path;

	check_can_write_history("migrate_repair");
	path = directory_arg(fcinfo, 0);
	command_repair(path, begin_rows(fcinfo));
	return (Datum) 0;
}

/*
 * CALL migrate_run(dir, target): applies the pending files, committing
 * after each; the fleet forms migrate_run(dir, schemas, target) in each of
 * the schemas and migrate_run(dir, databases, target, max_parallel) in
 * each of the databases.  Only a CALL outside a transaction block can
 * commit.
 */
Datum
migrate_run(PG_FUNCTION_ARGS)
{
	const FunctionForm *form;
	char	   *path;
	char	   *target;

	refuse_atomic_call(fcinfo, "migrate_run", "migrate_apply");
	check_can_write_history("migrate_run");
	form = function_form(fcinfo);
	if (form->databases)
	{
		List	   *databases = names_arg(fcinfo, 1, "databases");
		int			max_parallel = max_parallel_arg(fcinfo, 3);

		target = text_arg(fcinfo, 2, "target", false);
		dbfleet_run(directory_arg(fcinfo, 0), databases, target,
					max_parallel);
		PG_RETURN_VOID();
	}
	path = directory_arg(fcinfo, 0);
	target = text_arg(fcinfo, form->schemas ? 2 : 1, "target", false);
	if (form->schemas)
		fleet_run(path, names_arg(fcinfo, 1, "schemas"), target);
	else
		command_run(path, target);
	PG_RETURN_VOID();
}

/*
 * CALL migrate_run_rollback(dir, steps, target): runs down migrations,
 * newest first, committing after each; down migrations that must run
 * outside a transaction run statement by statement.
 */
Datum
migrate_run_rollback(PG_FUNCTION_ARGS)
{
	char	   *path;
	int			steps;
	char	   *target;

	refuse_atomic_call(fcinfo, "migrate_run_rollback", "migrate_rollback");
	check_can_write_history("migrate_run_rollback");
	path = directory_arg(fcinfo, 0);
	rollback_args(fcinfo, &steps, &target);
	command_run_rollback(path, steps, target);
	PG_RETURN_VOID();
}

/*
 * The steps and target arguments of a rollback: steps may be NULL only
 * when a target is given.
 */
static void
rollback_args(FunctionCallInfo fcinfo, int *steps, char **target)
{
	*steps = steps_arg(fcinfo, 1);
	*target = text_arg(fcinfo, 2, "target", false);
	if (*steps < 0 && *target == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"steps\" must not be null without a target")));
}

/*
 * Refuses a procedure that commits when it is called inside a transaction
 * block, pointing at the function that runs inside one.
 */
static void
refuse_atomic_call(FunctionCallInfo fcinfo, const char *name,
				   const char *function)
{
	if (fcinfo->context == NULL || !IsA(fcinfo->context, CallContext) ||
		castNode(CallContext, fcinfo->context)->atomic)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("%s() cannot run inside a transaction block", name),
				 errdetail("It commits after each migration file."),
				 errhint("CALL it as a statement of its own, outside BEGIN and COMMIT, or use morgenmigrate.%s(), which runs inside the caller's transaction.",
						 function)));
}

/* migrate_layout(dir): what is read from a directory, per migration. */
Datum
migrate_layout(PG_FUNCTION_ARGS)
{
	char	   *path = directory_arg(fcinfo, 0);

	command_layout(path, begin_rows(fcinfo));
	return (Datum) 0;
}

/*
 * migrate_adopt(dir, runner, history_table, dry_run): records what the
 * runner the database was migrated with applied.
 */
Datum
migrate_adopt(PG_FUNCTION_ARGS)
{
	char	   *path;
	char	   *runner;
	char	   *table;
	bool		dry_run;

	check_can_write_history("migrate_adopt");
	path = directory_arg(fcinfo, 0);
	runner = text_arg(fcinfo, 1, "runner", false);
	table = text_arg(fcinfo, 2, "history_table", false);
	dry_run = bool_arg(fcinfo, 3, "dry_run");
	command_adopt(path, runner, table, dry_run, begin_rows(fcinfo));
	return (Datum) 0;
}

/*
 * migrate_plan(dir, target, steps): what each statement of the pending
 * files would cost, without running anything; the fleet form
 * migrate_plan(dir, schemas, ...) in each of the schemas.  It changes nothing, so it
 * also works on a standby and in a read-only transaction.
 */
Datum
migrate_plan(PG_FUNCTION_ARGS)
{
	bool		fleet = function_form(fcinfo)->schemas;
	char	   *path = directory_arg(fcinfo, 0);

	/* the fleet form has schemas in target's place, and target last */
	char	   *target = text_arg(fcinfo, fleet ? 3 : 1, "target", false);
	int			steps = steps_arg(fcinfo, 2);

	citus_refuse_on_worker("migrate_plan");
	if (fleet)
		fleet_plan(path, names_arg(fcinfo, 1, "schemas"), target, steps,
				   begin_rows(fcinfo));
	else
		command_plan(path, target, steps, begin_rows(fcinfo));
	return (Datum) 0;
}

/*
 * progress_slots(): the running migration calls of the cluster, for the
 * morgenmigrate.progress view.
 */
Datum
progress_slots(PG_FUNCTION_ARGS)
{
	progress_put_rows(begin_rows(fcinfo));
	return (Datum) 0;
}

/* drift_enable(): records drift in this database from now on. */
Datum
drift_enable(PG_FUNCTION_ARGS)
{
	check_can_write_history("drift_enable");
	drift_triggers_create();
	PG_RETURN_VOID();
}

/* drift_disable(): stops recording drift in this database. */
Datum
drift_disable(PG_FUNCTION_ARGS)
{
	check_can_write_history("drift_disable");
	drift_triggers_drop();
	PG_RETURN_VOID();
}

/*
 * drift_acknowledge(note, up_to): accepts the drift recorded so far (or
 * up to up_to) with a note; returns how many changes it accepted.
 */
Datum
drift_acknowledge(PG_FUNCTION_ARGS)
{
	char	   *note;

	check_can_write_history("drift_acknowledge");
	note = text_arg(fcinfo, 0, "note", true);
	if (note[strspn(note, " \t\r\n")] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"note\" must not be empty"),
				 errhint("Say why the change is accepted, for whoever reads the drift table next.")));
	PG_RETURN_INT64(drift_acknowledge_rows(note, PG_ARGISNULL(1),
										   PG_ARGISNULL(1) ? 0 :
										   PG_GETARG_TIMESTAMPTZ(1)));
}

/* The checks of an event trigger function; its event trigger data. */
static EventTriggerData *
event_trigger_data(FunctionCallInfo fcinfo, const char *funcname)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s() can only be called by an event trigger", funcname)));
	return (EventTriggerData *) fcinfo->context;
}

/* The ddl_command_end event trigger: records DDL made outside migrations. */
Datum
drift_record_ddl(PG_FUNCTION_ARGS)
{
	drift_record_event(event_trigger_data(fcinfo, "drift_record_ddl"), false);
	PG_RETURN_VOID();
}

/* The sql_drop event trigger: records objects dropped outside migrations. */
Datum
drift_record_drop(PG_FUNCTION_ARGS)
{
	drift_record_event(event_trigger_data(fcinfo, "drift_record_drop"), true);
	PG_RETURN_VOID();
}

/*
 * drift_is_temporary(command): for the ddl_command_end recording, whether
 * a command pg_event_trigger_ddl_commands() reports changed only temporary
 * objects (a pg_ddl_command comes only from that function).
 */
Datum
drift_is_temporary(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(drift_command_is_temporary((const CollectedCommand *)
											  PG_GETARG_POINTER(0)));
}
