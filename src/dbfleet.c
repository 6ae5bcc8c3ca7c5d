/*-------------------------------------------------------------------------
 *
 * dbfleet.c
 *	  One call over many databases of the cluster (databases =>
 *	  ARRAY[...]): a dynamic background worker per database connects to it
 *	  as the caller and runs there what a session of that database would
 *	  run (CALL migrate_run(dir), migrate_status(dir), migrate_check(dir)),
 *	  at most max_parallel at a time.  Its notices, its error and its rows
 *	  come back through a shared memory queue.
 *
 * A worker runs the call as SQL text at top level (worker.c's
 * exec_simple_query path), so that in its database it is exactly a CALL
 * of a session of its own: migrate_run commits after each file, hands
 * concurrent index builds to a worker of its own, checks EXECUTE and the
 * right to read the files, and records a failure in that database's
 * history.  A database without the extension, one the caller may not
 * connect to, and one for which no worker slot is free fail on their
 * own; the others go on.
 *
 * The caller's own database gets no worker: it is done first, in the
 * caller's session, as the single-database call would do it there.  A
 * worker there would not see what the caller's transaction did (a
 * migrate_apply earlier in it, a CREATE EXTENSION), and would wait for any
 * lock the caller holds (a LOCK TABLE or ALTER EXTENSION UPDATE of the
 * history in its transaction, pg_advisory_lock on the migration key or on
 * a key a migration file takes) while the caller waits for it: a cycle no
 * deadlock check sees, since the caller waits on its latch.  A worker of
 * another database can wait for the caller only through a lock of the
 * cluster's shared objects (its transaction renamed that database, say):
 * the caller looks, while it waits, whether a worker waits for it, and
 * fails that database then.
 *
 * The caller's identity (its login role, SET ROLE and current user) goes
 * to the worker, and so do its morgenmigrate.* settings (a guard such as
 * max_locked_bytes holds in every database as in the caller's); the other
 * settings are those a new session of the caller gets there.
 *
 * The launching, the queue and the stopping follow parallel.c; the caller
 * polls the queues of its workers without blocking, wakes up on its latch
 * (set by a worker's message, its start and its exit), and stops every
 * worker of its own when it fails, is cancelled or exits.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_database.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type_d.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/dest.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/wait_event.h"

#include "commands.h"
#include "compat.h"
#include "dbfleet.h"
#include "fleetutils.h"
#include "morgenmigrate.h"
#include "subxact.h"
#include "worker.h"

#define DBFLEET_MAGIC		0x6d6d6631	/* "mmf1" */
#define DBFLEET_KEY_FIXED	1
#define DBFLEET_KEY_SQL		2
#define DBFLEET_KEY_QUEUE	3
#define DBFLEET_KEY_SETTINGS	4
#define DBFLEET_KEY_COLUMNS	5
#define DBFLEET_QUEUE_SIZE	(64 * 1024)

/* How long a caller waits for a worker it asked to stop. */
#define DBFLEET_STOP_WAIT_MS	60000

/*
 * How long the caller sleeps at most between two looks at its workers; a
 * worker's message, start or exit wakes it earlier.
 */
#define DBFLEET_POLL_MS		1000

/* A row a worker sends: the message type of a DataRow. */
#define DBFLEET_ROW			'D'

/* What a worker needs: where to connect, as whom, and what to send back. */
typedef struct FleetWorkerFixed
{
	Oid			database_id;
	char		database[NAMEDATALEN];
	WorkerIdentity identity;
	int			encoding;		/* the caller's: of the statement and the replies */
	bool		rows;			/* send the statement's rows */
	char		function[NAMEDATALEN];	/* what the statement calls there */
	int			nargs;			/* of its (text) arguments */
	char		version[NAMEDATALEN];	/* the caller's version of the extension */
	Size		settings_len;	/* of its morgenmigrate.* settings */
	bool		completed;		/* set by the worker once it finished */
} FleetWorkerFixed;

/* A database of the call, and its worker while it runs. */
typedef struct FleetDatabase
{
	char	   *name;
	Oid			oid;
	bool		own;			/* the caller's: done in the caller's session */
	char	   *context;		/* the context line of its notices */
	ErrorData  *error;			/* why it failed, or NULL */
	dsm_segment *seg;
	shm_mq_handle *mqh;
	BackgroundWorkerHandle *handle; /* while its worker runs */
	FleetWorkerFixed *fixed;
} FleetDatabase;

/* What a worker calls in its database. */
typedef struct FleetCall
{
	const char *sql;			/* its statement: the schema, the directory
								 * and the target go into its %s */
	const char *function;		/* the extension's function it calls */
	int			nargs;			/* of its (text) arguments */
} FleetCall;

static const FleetCall run_call =
{"CALL %s.migrate_run(dir => %s, target => %s)", "migrate_run", 2};
static const FleetCall status_call =
{"SELECT * FROM %s.migrate_status(dir => %s)", "migrate_status", 1};
static const FleetCall check_call =
{"SELECT %s.migrate_check(dir => %s)", "migrate_check", 1};

/* One call over databases. */
typedef struct DbFleet
{
	const FleetCall *call;
	const char *path;
	const char *target;
	char	   *sql;			/* what each worker runs */
	StringInfoData settings;	/* the caller's morgenmigrate.* settings */
	char	   *version;		/* of the extension in the caller's database */
	char	   *columns;		/* the columns its rows are read as, or "" */
	int			max_parallel;
	List	   *databases;		/* FleetDatabase, by name */
	MemoryContext cxt;
	MemoryContext msgcxt;		/* of one notice */
	/* does the caller's own database, in its session */
	void		(*here) (struct DbFleet *fleet, FleetDatabase *db);
	void		(*finish) (struct DbFleet *fleet, FleetDatabase *db);	/* or NULL */
	ReturnSetInfo *rsinfo;		/* migrate_status's result, or NULL */
	FmgrInfo   *infuncs;		/* of its columns */
	Oid		   *typioparams;
	FleetFailures failures;
} DbFleet;

/* Sends a statement's rows to the caller, as text in its encoding. */
typedef struct RowSender
{
	DestReceiver pub;
	int			encoding;
	FmgrInfo   *outfuncs;
} RowSender;

PGDLLEXPORT void morgenmigrate_fleet_worker_main(Datum main_arg);

/* The workers of this backend that may still run, for the exit hook. */
static List *running_handles = NIL;
static bool exit_hook_registered = false;

static void begin_fleet(DbFleet *fleet, const FleetCall *call, List *names,
						int max_parallel, const char *path,
						const char *target);
static char *extension_version(void);
static void capture_settings(StringInfo buf);
static void apply_settings(const char *data, Size len, int encoding);
static Oid	extension_function(const char *function, int nargs);
static char *result_columns(TupleDesc desc, int first);
static void refuse_other_version(const FleetWorkerFixed *fixed,
								 const char *version, const char *columns);
static ErrorData *make_error(int sqlerrcode, const char *message,
							 const char *hint);
static ErrorData *connect_refusal(Oid dboid, const char *name);
static void run_fleet(DbFleet *fleet);
static bool start_worker(DbFleet *fleet, FleetDatabase *db);
static bool read_worker(DbFleet *fleet, FleetDatabase *db);
static void end_worker(FleetDatabase *db);
static void stop_workers(DbFleet *fleet);
static void stop_workers_at_exit(int code, Datum arg);
static void refuse_waits_for_caller(DbFleet *fleet);
static bool waits_for_caller(int pid);
static void put_row(DbFleet *fleet, FleetDatabase *db, StringInfo msg);
static void add_failures(DbFleet *fleet, bool with_detail);
static void finish_run(DbFleet *fleet, FleetDatabase *db);
static void finish_status(DbFleet *fleet, FleetDatabase *db);
static void run_here(DbFleet *fleet, FleetDatabase *db);
static void here_context(void *arg);
static ErrorData *here_refusal(DbFleet *fleet);
static void here_run(DbFleet *fleet, FleetDatabase *db);
static void here_status(DbFleet *fleet, FleetDatabase *db);
static void here_status_rows(void *arg);
static void here_check(DbFleet *fleet, FleetDatabase *db);
static void here_check_call(void *arg);
static DestReceiver *row_sender(int encoding);
static void row_sender_startup(DestReceiver *self, int operation,
							   TupleDesc typeinfo);
static bool row_sender_receive(TupleTableSlot *slot, DestReceiver *self);
static void row_sender_shutdown(DestReceiver *self);
static void row_sender_destroy(DestReceiver *self);

/*
 * Begins a call over the databases it names, sorted by name, each once; a
 * database that does not exist refuses the call before anything runs.
 * One the caller may not connect to fails on its own, without a worker;
 * the caller's own is done in its session, and needs no connection.
 * Each worker's statement calls the extension's function there, with the
 * directory (and target) as literals.
 */
static void
begin_fleet(DbFleet *fleet, const FleetCall *call, List *names,
			int max_parallel, const char *path, const char *target)
{
	ListCell   *lc;

	memset(fleet, 0, sizeof(DbFleet));
	fleet->call = call;
	fleet->path = path;
	fleet->target = target;
	fleet->sql = psprintf(call->sql, quote_identifier(MM_SCHEMA),
						  quote_literal_cstr(path),
						  target ? quote_literal_cstr(target) : "NULL");
	fleet->max_parallel = max_parallel;
	fleet->cxt = AllocSetContextCreate(CurrentMemoryContext,
									   "morgenmigrate fleet of databases",
									   ALLOCSET_DEFAULT_SIZES);
	fleet->msgcxt = AllocSetContextCreate(fleet->cxt,
										  "morgenmigrate fleet message",
										  ALLOCSET_DEFAULT_SIZES);
	fleetutils_failures_init(&fleet->failures, "database");
	fleet->version = extension_version();
	if (fleet->version == NULL)
		fleet->version = "";
	fleet->columns = "";
	capture_settings(&fleet->settings);
	foreach(lc, fleetutils_names(names, "database"))
	{
		const char *name = (const char *) lfirst(lc);
		FleetDatabase *db = palloc0(sizeof(FleetDatabase));

		db->name = pstrdup(name);
		db->oid = get_database_oid(name, false);
		db->own = db->oid == MyDatabaseId;
		if (db->own)
			db->context = psprintf("morgenmigrate fleet in database \"%s\", in the caller's session",
								   name);
		else
		{
			db->context = psprintf("morgenmigrate fleet worker in database \"%s\"",
								   name);
			db->error = connect_refusal(db->oid, name);
		}
		fleet->databases = lappend(fleet->databases, db);
	}
}

/*
 * The version of the extension installed in this database, or NULL when
 * it is not installed.
 */
static char *
extension_version(void)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	char	   *version = NULL;

	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("morgenmigrate"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		datum = heap_getattr(tuple, Anum_pg_extension_extversion,
										 RelationGetDescr(rel), &isnull);

		if (!isnull)
			version = TextDatumGetCString(datum);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return version;
}

/*
 * The morgenmigrate.* settings the caller's session chose (SET, or its
 * connection's options), each with the context and role that set it (as
 * core hands a parallel worker its settings): its name, then its value as
 * text in this database's encoding.  What the session did not choose (a
 * default, the configuration file, the caller's database's or role's
 * ALTER ... SET) is not sent: each database's own settings stay its own,
 * as a new session there would get them.
 */
static void
capture_settings(StringInfo buf)
{
	int			nvars;
	struct config_generic **vars = mm_guc_variables(&nvars);

	initStringInfo(buf);
	for (int i = 0; i < nvars; i++)
	{
		const char *name = vars[i]->name;
		const char *value;

		if (strncmp(name, "morgenmigrate.", strlen("morgenmigrate.")) != 0 ||
			(vars[i]->flags & GUC_CUSTOM_PLACEHOLDER) != 0 ||
			(vars[i]->source != PGC_S_SESSION && vars[i]->source != PGC_S_CLIENT))
			continue;
		value = GetConfigOption(name, false, false);
		pq_sendint32(buf, (int32) vars[i]->scontext);
		pq_sendint32(buf, (int32) vars[i]->srole);
		pq_sendint32(buf, strlen(name));
		pq_sendbytes(buf, name, strlen(name));
		pq_sendint32(buf, strlen(value));
		pq_sendbytes(buf, value, strlen(value));
	}
}

/*
 * In the worker: takes on the caller's morgenmigrate.* settings, each as
 * a SET in the context and by the role that set it in the caller's
 * session; one that cannot be set here fails the database.
 */
static void
apply_settings(const char *data, Size len, int encoding)
{
	StringInfoData buf;

	buf.data = (char *) data;
	buf.len = len;
	buf.maxlen = len;
	buf.cursor = 0;
	while (buf.cursor < buf.len)
	{
		GucContext	scontext = (GucContext) pq_getmsgint(&buf, 4);
		Oid			srole = (Oid) pq_getmsgint(&buf, 4);
		int			namelen = pq_getmsgint(&buf, 4);
		char	   *name = pnstrdup(pq_getmsgbytes(&buf, namelen), namelen);
		int			valuelen = pq_getmsgint(&buf, 4);
		char	   *value = pnstrdup(pq_getmsgbytes(&buf, valuelen), valuelen);

		(void) set_config_option_ext(name,
									 pg_any_to_server(value, valuelen, encoding),
									 scontext, PGC_S_SESSION, srole,
									 GUC_ACTION_SET, true, ERROR, false);
	}
}

/*
 * The extension's function of that name with nargs text arguments, or
 * InvalidOid.
 */
static Oid
extension_function(const char *function, int nargs)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};

	Assert(nargs <= lengthof(argtypes));
	return GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid,
						   CStringGetDatum(function),
						   PointerGetDatum(buildoidvector(argtypes, nargs)),
						   ObjectIdGetDatum(get_namespace_oid(MM_SCHEMA, false)));
}

/*
 * The columns of a row type from its column first on, as the rows of a
 * worker are read: "(name type, ...)", dropped columns left out, each type
 * named with its schema (a type of the extension has another OID in each
 * database, the same name).
 */
static char *
result_columns(TupleDesc desc, int first)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '(');
	for (int i = first; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		appendStringInfo(&buf, "%s%s %s", buf.len > 1 ? ", " : "",
						 quote_identifier(NameStr(att->attname)),
						 format_type_extended(att->atttypid, -1,
											  FORMAT_TYPE_FORCE_QUALIFY));
	}
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/*
 * In the worker: refuses a database whose extension lacks the function the
 * statement calls there, or whose function returns rows of other columns
 * (names and types) than the caller reads them as (columns, "" when it
 * reads none): the caller reads each value of a row with the input
 * function of its own column's type, so a column of another type there
 * would be misread (an integer read as an interval of that many seconds)
 * or fail the whole call, whatever the version says.  An older version
 * whose function is there, with these columns, is served by this library
 * as it is.
 */
static void
refuse_other_version(const FleetWorkerFixed *fixed, const char *version,
					 const char *columns)
{
	Oid			proc = extension_function(fixed->function, fixed->nargs);
	Oid			rettype;
	TupleDesc	desc = NULL;
	char	   *returns;

	if (!OidIsValid(proc))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"%s\" in database \"%s\" is version %s, this call needs version %s",
						"morgenmigrate", fixed->database, version, fixed->version),
				 errdetail("It has no function %s.%s with %d text argument(s).",
						   MM_SCHEMA, fixed->function, fixed->nargs),
				 errhint("Update it there with ALTER EXTENSION morgenmigrate UPDATE, or leave the database out.")));
	if (*columns == '\0')
		return;
	if (get_func_result_type(proc, &rettype, &desc) == TYPEFUNC_COMPOSITE)
		returns = result_columns(desc, 0);
	else
		returns = format_type_extended(rettype, -1, FORMAT_TYPE_FORCE_QUALIFY);
	if (strcmp(returns, columns) == 0)
		return;
	if (strcmp(version, fixed->version) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"%s\" in database \"%s\" is version %s, this call needs version %s",
						"morgenmigrate", fixed->database, version, fixed->version),
				 errdetail("Its function %s.%s returns %s; this call reads %s.",
						   MM_SCHEMA, fixed->function, returns, columns),
				 errhint("Update it there with ALTER EXTENSION morgenmigrate UPDATE, or leave the database out.")));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("function %s.%s in database \"%s\" returns other columns than this call reads",
					MM_SCHEMA, fixed->function, fixed->database),
			 errdetail("It returns %s; this call reads %s.", returns, columns),
			 errhint("The extension there is version %s, as here, but the function was changed: restore it as version %s defines it, or leave the database out.",
					 version, fixed->version)));
}

/* An error of ours, as a worker's comes back. */
static ErrorData *
make_error(int sqlerrcode, const char *message, const char *hint)
{
	ErrorData  *edata = palloc0(sizeof(ErrorData));

	edata->elevel = ERROR;
	edata->sqlerrcode = sqlerrcode;
	edata->message = pstrdup(message);
	edata->hint = hint ? pstrdup(hint) : NULL;
	return edata;
}

/*
 * Why the caller's worker may not connect to a database (the database
 * allows no connections, or the caller's login role lacks CONNECT), or
 * NULL.  The worker connects as the login role, and the server checks
 * CONNECT for that role only, as for a session that logs in and then SETs
 * ROLE: so the pre-check asks about the same role, not the current one.
 */
static ErrorData *
connect_refusal(Oid dboid, const char *name)
{
	HeapTuple	tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(dboid));
	bool		allowconn;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for database %u", dboid);
	allowconn = ((Form_pg_database) GETSTRUCT(tuple))->datallowconn;
	ReleaseSysCache(tuple);
	if (!allowconn)
		return make_error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
						  psprintf("database \"%s\" is not currently accepting connections", name),
						  NULL);
	if (mm_database_aclcheck(dboid, GetAuthenticatedUserId(), ACL_CONNECT) != ACLCHECK_OK)
		return make_error(ERRCODE_INSUFFICIENT_PRIVILEGE,
						  psprintf("permission denied to connect to database \"%s\"", name),
						  "Grant CONNECT on the database to the role the caller logged in as, or leave the database out.");
	return NULL;
}

/*
 * Does the caller's own database first, in its session; then runs the
 * fleet's statement in each other database, in a worker of its own, at
 * most max_parallel at a time; fleet->finish (if any) is called for each
 * database once its worker has exited (or once it failed without one).
 * When no worker slot is free, the next database waits for one of this
 * call's workers to exit; with none of them running, it fails.  An error
 * here (a cancel too) stops every worker before it is raised.
 */
static void
run_fleet(DbFleet *fleet)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(fleet->cxt);
	ListCell   *next = list_head(fleet->databases);
	int			running = 0;
	TimestampTz looked = GetCurrentTimestamp();

	if (!exit_hook_registered)
	{
		before_shmem_exit(stop_workers_at_exit, (Datum) 0);
		exit_hook_registered = true;
	}
	PG_TRY();
	{
		ListCell   *lc;

		foreach(lc, fleet->databases)
		{
			FleetDatabase *db = (FleetDatabase *) lfirst(lc);

			if (db->own)
				run_here(fleet, db);
		}
		while (next != NULL || running > 0)
		{
			bool		finished = false;

			while (next != NULL && running < fleet->max_parallel)
			{
				FleetDatabase *db = (FleetDatabase *) lfirst(next);

				if (db->own)
				{
					next = lnext(fleet->databases, next);
					continue;
				}
				if (db->error == NULL && !start_worker(fleet, db))
				{
					if (running > 0)
						break;
					db->error = make_error(ERRCODE_INSUFFICIENT_RESOURCES,
										   "no background worker slot was free",
										   "Each database of the call needs a free slot of max_worker_processes while its worker runs.");
				}
				next = lnext(fleet->databases, next);
				if (db->handle != NULL)
					running++;
				else if (fleet->finish != NULL)
					fleet->finish(fleet, db);
			}
			foreach(lc, fleet->databases)
			{
				FleetDatabase *db = (FleetDatabase *) lfirst(lc);

				if (db->handle != NULL && read_worker(fleet, db))
				{
					end_worker(db);
					running--;
					if (fleet->finish != NULL)
						fleet->finish(fleet, db);
					finished = true;
				}
			}
			if (!finished && running > 0)
			{
				/* a worker's concurrent index build here waits for snapshots */
				InvalidateCatalogSnapshot();
				(void) WaitLatch(MyLatch,
								 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								 DBFLEET_POLL_MS, PG_WAIT_EXTENSION);
				ResetLatch(MyLatch);
				if (TimestampDifferenceExceeds(looked, GetCurrentTimestamp(),
											   DBFLEET_POLL_MS))
				{
					refuse_waits_for_caller(fleet);
					looked = GetCurrentTimestamp();
				}
			}
			CHECK_FOR_INTERRUPTS();
		}
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(fleet->cxt);
		stop_workers(fleet);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Starts the worker of a database; false when no worker slot is free.
 */
static bool
start_worker(DbFleet *fleet, FleetDatabase *db)
{
	shm_toc_estimator e;
	Size		sqllen = strlen(fleet->sql) + 1;
	Size		settingslen = fleet->settings.len + 1;
	Size		columnslen = strlen(fleet->columns) + 1;
	Size		size;
	dsm_segment *seg;
	shm_toc    *toc;
	char	   *space;
	shm_mq	   *mq;
	MemoryContext oldcxt;

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, sizeof(FleetWorkerFixed));
	shm_toc_estimate_chunk(&e, sqllen);
	shm_toc_estimate_chunk(&e, settingslen);
	shm_toc_estimate_chunk(&e, columnslen);
	shm_toc_estimate_chunk(&e, DBFLEET_QUEUE_SIZE);
	shm_toc_estimate_keys(&e, 5);
	size = shm_toc_estimate(&e);

	seg = dsm_create(size, 0);
	toc = shm_toc_create(DBFLEET_MAGIC, dsm_segment_address(seg), size);

	db->fixed = shm_toc_allocate(toc, sizeof(FleetWorkerFixed));
	memset(db->fixed, 0, sizeof(FleetWorkerFixed));
	db->fixed->database_id = db->oid;
	strlcpy(db->fixed->database, db->name, NAMEDATALEN);
	worker_identity_capture(&db->fixed->identity);
	db->fixed->encoding = GetDatabaseEncoding();
	db->fixed->rows = fleet->rsinfo != NULL;
	strlcpy(db->fixed->function, fleet->call->function, NAMEDATALEN);
	db->fixed->nargs = fleet->call->nargs;
	strlcpy(db->fixed->version, fleet->version, NAMEDATALEN);
	db->fixed->settings_len = fleet->settings.len;
	shm_toc_insert(toc, DBFLEET_KEY_FIXED, db->fixed);

	space = shm_toc_allocate(toc, sqllen);
	memcpy(space, fleet->sql, sqllen);
	shm_toc_insert(toc, DBFLEET_KEY_SQL, space);

	/* its length is the fixed part's; the byte more keeps it non-empty */
	space = shm_toc_allocate(toc, settingslen);
	memcpy(space, fleet->settings.data, settingslen);
	shm_toc_insert(toc, DBFLEET_KEY_SETTINGS, space);

	space = shm_toc_allocate(toc, columnslen);
	memcpy(space, fleet->columns, columnslen);
	shm_toc_insert(toc, DBFLEET_KEY_COLUMNS, space);

	mq = shm_mq_create(shm_toc_allocate(toc, DBFLEET_QUEUE_SIZE),
					   DBFLEET_QUEUE_SIZE);
	shm_toc_insert(toc, DBFLEET_KEY_QUEUE, mq);
	shm_mq_set_receiver(mq, MyProc);
	db->mqh = shm_mq_attach(mq, seg, NULL);

	db->handle = worker_launch(seg, "morgenmigrate_fleet_worker_main",
							   "morgenmigrate fleet worker");
	if (db->handle == NULL)
	{
		dsm_detach(seg);
		db->mqh = NULL;
		db->fixed = NULL;
		return false;
	}
	db->seg = seg;
	shm_mq_set_handle(db->mqh, db->handle);
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	running_handles = lappend(running_handles, db->handle);
	MemoryContextSwitchTo(oldcxt);
	return true;
}

/*
 * Takes what a database's worker sent so far, without waiting: notices are
 * re-emitted, rows kept, the first error kept as the database's.  Tells
 * whether the worker has gone (it detached, or never started).  Only what
 * is kept stays in the fleet's memory: a run of hours relays many notices.
 */
static bool
read_worker(DbFleet *fleet, FleetDatabase *db)
{
	for (;;)
	{
		Size		nbytes;
		void	   *data;
		StringInfoData msg;
		shm_mq_result res;
		MemoryContext oldcxt;

		/* a worker streaming many rows must not delay a cancel */
		CHECK_FOR_INTERRUPTS();
		res = shm_mq_receive(db->mqh, &nbytes, &data, true);
		if (res == SHM_MQ_WOULD_BLOCK)
			return false;
		if (res != SHM_MQ_SUCCESS)
			return true;
		/* an error is kept; a notice goes, a row is copied */
		oldcxt = MemoryContextSwitchTo(nbytes > 0 && ((char *) data)[0] == 'E' ?
									   fleet->cxt : fleet->msgcxt);
		initStringInfo(&msg);
		appendBinaryStringInfo(&msg, data, nbytes);
		if (nbytes > 0 && msg.data[0] == DBFLEET_ROW)
			put_row(fleet, db, &msg);
		else
		{
			ErrorData  *edata = worker_message(&msg, db->context);

			if (edata != NULL && db->error == NULL)
				db->error = edata;
		}
		pfree(msg.data);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(fleet->msgcxt);
	}
}

/*
 * Once a database's worker has gone: waits until it has exited, and makes
 * an error of its end when it neither finished nor said why.
 */
static void
end_worker(FleetDatabase *db)
{
	(void) WaitForBackgroundWorkerShutdown(db->handle);
	if (db->error == NULL && !db->fixed->completed)
		db->error = make_error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
							   psprintf("the background worker for database \"%s\" exited before it finished", db->name),
							   "The server log says why.");
	running_handles = list_delete_ptr(running_handles, db->handle);
	pfree(db->handle);
	db->handle = NULL;
	dsm_detach(db->seg);
	db->seg = NULL;
	db->mqh = NULL;
	db->fixed = NULL;
}

/*
 * Stops every worker of the fleet that still runs, and waits for each (at
 * most DBFLEET_STOP_WAIT_MS): a cancelled call leaves no worker behind.
 */
static void
stop_workers(DbFleet *fleet)
{
	ListCell   *lc;

	foreach(lc, fleet->databases)
	{
		FleetDatabase *db = (FleetDatabase *) lfirst(lc);

		if (db->handle != NULL)
			TerminateBackgroundWorker(db->handle);
	}
	foreach(lc, fleet->databases)
	{
		FleetDatabase *db = (FleetDatabase *) lfirst(lc);

		if (db->handle == NULL)
			continue;
		if (!worker_stop(db->handle, DBFLEET_STOP_WAIT_MS, true))
			continue;			/* the exit hook tries again */
		running_handles = list_delete_ptr(running_handles, db->handle);
		pfree(db->handle);
		db->handle = NULL;
	}
}

/*
 * before_shmem_exit hook: a caller that dies (pg_terminate_backend) takes
 * its workers along.
 */
static void
stop_workers_at_exit(int code, Datum arg)
{
	ListCell   *lc;

	foreach(lc, running_handles)
		TerminateBackgroundWorker((BackgroundWorkerHandle *) lfirst(lc));
	foreach(lc, running_handles)
		(void) worker_stop((BackgroundWorkerHandle *) lfirst(lc), 10000, false);
}

/*
 * Fails each database whose worker waits for a lock this session holds,
 * and stops its worker: this session waits for the worker, so neither
 * would ever go on, and no deadlock check sees it (this session waits on
 * its latch, not on a lock).  Each worker starts in another database than
 * this session's, whose locks are the worker's alone; it can wait for
 * this session only through a shared object (this session's transaction
 * renamed the worker's database, or locked a shared catalog), directly or
 * behind other sessions that wait for this one.
 */
static void
refuse_waits_for_caller(DbFleet *fleet)
{
	ListCell   *lc;

	foreach(lc, fleet->databases)
	{
		FleetDatabase *db = (FleetDatabase *) lfirst(lc);
		pid_t		pid;
		MemoryContext oldcxt;
		bool		waits;

		if (db->handle == NULL || db->error != NULL ||
			GetBackgroundWorkerPid(db->handle, &pid) != BGWH_STARTED)
			continue;
		/* looked at every second while a worker waits: keep nothing */
		oldcxt = MemoryContextSwitchTo(fleet->msgcxt);
		waits = waits_for_caller(pid);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(fleet->msgcxt);
		if (!waits)
			continue;
		db->error = make_error(ERRCODE_LOCK_NOT_AVAILABLE,
							   psprintf("the worker for database \"%s\" would wait for a lock this session holds",
										db->name),
							   "End the transaction that took the lock before the call, or leave the database out.");
		db->error->detail = pstrdup("This session waits for its worker, so neither would ever go on.");
		TerminateBackgroundWorker(db->handle);
	}
}

/*
 * Whether the backend pid waits for a lock that this session holds, or
 * that a session holds which waits, in turn, for this one (as
 * pg_blocking_pids tells, for the whole lock group of each).  Only a
 * backend that waits for a lock is looked at further.
 */
static bool
waits_for_caller(int pid)
{
	PGPROC	   *proc = BackendPidGetProc(pid);
	List	   *todo;
	List	   *seen = NIL;

	if (proc == NULL ||
		(proc->wait_event_info & 0xFF000000) != PG_WAIT_LOCK)
		return false;
	todo = list_make1_int(pid);
	while (todo != NIL && list_length(seen) < MaxBackends)
	{
		int			waiter = linitial_int(todo);
		ArrayType  *blockers;
		Datum	   *elems;
		int			nelems;

		todo = list_delete_first(todo);
		if (list_member_int(seen, waiter))
			continue;
		seen = lappend_int(seen, waiter);
		blockers = DatumGetArrayTypeP(DirectFunctionCall1(pg_blocking_pids,
														  Int32GetDatum(waiter)));
		deconstruct_array(blockers, INT4OID, sizeof(int32), true, TYPALIGN_INT,
						  &elems, NULL, &nelems);
		for (int i = 0; i < nelems; i++)
		{
			if (DatumGetInt32(elems[i]) == MyProcPid)
				return true;
			todo = lappend_int(todo, DatumGetInt32(elems[i]));
		}
	}
	return false;
}

/*
 * A row of migrate_status that a worker sent: the database's name first,
 * then its columns, read as text in this database's encoding, straight
 * into the call's result (which spills to a temporary file past
 * work_mem).  A row of another shape fails its database, not the call.
 */
static void
put_row(DbFleet *fleet, FleetDatabase *db, StringInfo msg)
{
	TupleDesc	desc = fleet->rsinfo->setDesc;
	Datum	   *values = palloc0(sizeof(Datum) * desc->natts);
	bool	   *nulls = palloc0(sizeof(bool) * desc->natts);
	int			natts;

	(void) pq_getmsgbyte(msg);
	natts = pq_getmsgint(msg, 2);
	if (natts != desc->natts - 1)
	{
		if (db->error == NULL)
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(fleet->cxt);

			db->error = make_error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
								   psprintf("migrate_status of database \"%s\" returned %d columns, expected %d",
											db->name, natts, desc->natts - 1),
								   "Update the extension there with ALTER EXTENSION morgenmigrate UPDATE, or leave the database out.");
			MemoryContextSwitchTo(oldcxt);
		}
		return;
	}
	for (int i = 1; i < desc->natts; i++)
	{
		int			len = pq_getmsgint(msg, 4);

		nulls[i] = len < 0;
		if (len >= 0)
			values[i] = InputFunctionCall(&fleet->infuncs[i],
										  pnstrdup(pq_getmsgbytes(msg, len), len),
										  fleet->typioparams[i],
										  TupleDescAttr(desc, i)->atttypmod);
	}
	pq_getmsgend(msg);
	fleetutils_put_row(fleet->rsinfo, db->name, values, nulls);
}

/*
 * The failures of the call, in the order of the databases' names, each
 * error with_detail with its detail.
 */
static void
add_failures(DbFleet *fleet, bool with_detail)
{
	ListCell   *lc;

	foreach(lc, fleet->databases)
	{
		FleetDatabase *db = (FleetDatabase *) lfirst(lc);

		if (db->error != NULL)
			fleetutils_add_failure(&fleet->failures, db->name,
								   db->error->sqlerrcode,
								   fleetutils_error_text(db->error, with_detail));
	}
	fleetutils_end_failures(&fleet->failures);
}

/*
 * migrate_run, once a database is done: a NOTICE when it is migrated, a
 * WARNING naming its failure otherwise.
 */
static void
finish_run(DbFleet *fleet, FleetDatabase *db)
{
	if (db->error == NULL)
	{
		ereport(NOTICE,
				(errmsg("migrations of database \"%s\" are done", db->name)));
		return;
	}
	fleetutils_warn_failure("database", db->name, db->error);
}

/*
 * Does the caller's own database in the caller's session, as the
 * single-database call would do it there: it sees what the caller's
 * transaction did and never waits for the caller's own locks.  Its
 * notices say where they come from, as a worker's do; its error, as a
 * worker's, does not.
 */
static void
run_here(DbFleet *fleet, FleetDatabase *db)
{
	ErrorContextCallback cb;

	cb.callback = here_context;
	cb.arg = db->context;
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	fleet->here(fleet, db);
	error_context_stack = cb.previous;
	if (db->error != NULL && db->error->context != NULL)
	{
		char	   *context = db->error->context;
		size_t		len = strlen(context);
		size_t		ours = strlen(db->context);

		if (len == ours && strcmp(context, db->context) == 0)
			db->error->context = NULL;
		else if (len > ours && context[len - ours - 1] == '\n' &&
				 strcmp(context + len - ours, db->context) == 0)
			context[len - ours - 1] = '\0';
	}
	if (fleet->finish != NULL)
		fleet->finish(fleet, db);
}

/* Error context of the caller's own database. */
static void
here_context(void *arg)
{
	errcontext("%s", (const char *) arg);
}

/*
 * Why the caller may not call here what a worker would call in its
 * database (the function is gone, or the caller may not execute it), or
 * NULL: the caller's own database is done by this library directly.
 */
static ErrorData *
here_refusal(DbFleet *fleet)
{
	const char *kind = fleet->call == &run_call ? "procedure" : "function";
	Oid			proc = extension_function(fleet->call->function,
										  fleet->call->nargs);

	if (!OidIsValid(proc))
		return make_error(ERRCODE_UNDEFINED_FUNCTION,
						  psprintf("%s %s.%s(%s) does not exist", kind,
								   MM_SCHEMA, fleet->call->function,
								   fleet->call->nargs == 2 ? "text, text" : "text"),
						  NULL);
	if (mm_proc_aclcheck(proc, GetUserId(), ACL_EXECUTE) != ACLCHECK_OK)
		return make_error(ERRCODE_INSUFFICIENT_PRIVILEGE,
						  psprintf("permission denied for %s %s", kind,
								   fleet->call->function),
						  NULL);
	return NULL;
}

/*
 * CALL migrate_run(dir, target) of the caller's own database: each file
 * committed, a failing one recorded in its history and returned.
 */
static void
here_run(DbFleet *fleet, FleetDatabase *db)
{
	db->error = here_refusal(fleet);
	if (db->error == NULL)
		db->error = command_run_schema(fleet->path, fleet->target);
}

/* What here_status_rows works on. */
typedef struct HereRows
{
	DbFleet    *fleet;
	FleetDatabase *db;
} HereRows;

/*
 * migrate_status(dir) of the caller's own database, its rows put into the
 * call's result after its name; an error there is its unavailable row.
 */
static void
here_status(DbFleet *fleet, FleetDatabase *db)
{
	HereRows	h = {fleet, db};

	db->error = here_refusal(fleet);
	if (db->error == NULL)
		db->error = subxact_failure_of(here_status_rows, &h);
}

/*
 * The rows of migrate_status(dir) in this session, in a result of its own
 * (the call's columns but the first), then into the call's result.
 */
static void
here_status_rows(void *arg)
{
	HereRows   *h = (HereRows *) arg;
	ReturnSetInfo *rsinfo = h->fleet->rsinfo;
	int			natts = rsinfo->setDesc->natts - 1;
	ReturnSetInfo one = *rsinfo;
	TupleTableSlot *slot;
	Datum	   *values = palloc(sizeof(Datum) * (natts + 1));
	bool	   *nulls = palloc(sizeof(bool) * (natts + 1));

	one.setDesc = CreateTemplateTupleDesc(natts);
	for (int i = 1; i <= natts; i++)
		TupleDescCopyEntry(one.setDesc, i, rsinfo->setDesc, i + 1);
	one.setResult = tuplestore_begin_heap(false, false, work_mem);
	command_status(h->fleet->path, &one);

	slot = MakeSingleTupleTableSlot(one.setDesc, &TTSOpsMinimalTuple);
	while (tuplestore_gettupleslot(one.setResult, true, false, slot))
	{
		slot_getallattrs(slot);
		memcpy(values + 1, slot->tts_values, sizeof(Datum) * natts);
		memcpy(nulls + 1, slot->tts_isnull, sizeof(bool) * natts);
		fleetutils_put_row(rsinfo, h->db->name, values, nulls);
	}
	ExecDropSingleTupleTableSlot(slot);
	tuplestore_end(one.setResult);
}

/*
 * migrate_check(dir) of the caller's own database: its error, if any, is
 * the database's.
 */
static void
here_check(DbFleet *fleet, FleetDatabase *db)
{
	db->error = here_refusal(fleet);
	if (db->error == NULL)
		db->error = subxact_failure_of(here_check_call, fleet);
}

/* command_check of the fleet's directory, for subxact_failure_of. */
static void
here_check_call(void *arg)
{
	command_check(((DbFleet *) arg)->path);
}

/*
 * CALL migrate_run(dir, databases => ...): runs CALL migrate_run(dir,
 * target) in each database, each committing after each file; a database
 * that fails stops at its failing file (recorded in its own history) and
 * the others go on.  At the end, one error names each failed database,
 * its file and its error; what the others applied stays committed.
 */
void
dbfleet_run(const char *path, List *names, const char *target,
			int max_parallel)
{
	DbFleet		fleet;

	begin_fleet(&fleet, &run_call, names, max_parallel, path, target);
	fleet.here = here_run;
	fleet.finish = finish_run;
	if (fleet.databases == NIL)
	{
		MemoryContextDelete(fleet.cxt);
		return;
	}

	/*
	 * Wait without a snapshot and without what this transaction holds, as
	 * migrate_run waits for its lock.
	 */
	SPI_connect_ext(SPI_OPT_NONATOMIC);
	SPI_commit();
	SPI_finish();
	InvalidateCatalogSnapshot();

	run_fleet(&fleet);
	add_failures(&fleet, false);
	fleetutils_raise_run(&fleet.failures, list_length(fleet.databases),
						 "The other databases are migrated and committed; a failing file is recorded in its database's morgenmigrate.migration_errors.");
	MemoryContextDelete(fleet.cxt);
}

/*
 * migrate_status, once a database is done: a database whose status could
 * not be read has a row of state "unavailable" saying why.
 */
static void
finish_status(DbFleet *fleet, FleetDatabase *db)
{
	TupleDesc	desc = fleet->rsinfo->setDesc;
	Datum	   *values;
	bool	   *nulls;

	if (db->error == NULL)
		return;
	values = palloc0(sizeof(Datum) * desc->natts);
	nulls = palloc(sizeof(bool) * desc->natts);
	memset(nulls, true, sizeof(bool) * desc->natts);
	values[2] = CStringGetTextDatum("unavailable");
	values[desc->natts - 1] = CStringGetTextDatum(db->error->message);
	nulls[2] = nulls[desc->natts - 1] = false;
	fleetutils_put_row(fleet->rsinfo, db->name, values, nulls);
	pfree(values);
	pfree(nulls);
}

/*
 * migrate_status(dir, databases => ...): each database's migrate_status
 * rows, its name first, put into the result as its worker sends them
 * (the rows of databases whose workers run at the same time may
 * interleave).  A database whose status cannot be read (no extension, no
 * CONNECT, an error) has one row of state "unavailable" saying why.
 */
void
dbfleet_status(const char *path, List *names, int max_parallel,
			   ReturnSetInfo *rsinfo)
{
	DbFleet		fleet;
	TupleDesc	desc = rsinfo->setDesc;

	begin_fleet(&fleet, &status_call, names, max_parallel, path, NULL);
	fleet.rsinfo = rsinfo;
	fleet.columns = result_columns(desc, 1);
	fleet.here = here_status;
	fleet.finish = finish_status;
	fleet.infuncs = palloc0(sizeof(FmgrInfo) * desc->natts);
	fleet.typioparams = palloc0(sizeof(Oid) * desc->natts);
	for (int i = 0; i < desc->natts; i++)
	{
		Oid			infunc;

		getTypeInputInfo(TupleDescAttr(desc, i)->atttypid, &infunc,
						 &fleet.typioparams[i]);
		fmgr_info(infunc, &fleet.infuncs[i]);
	}

	run_fleet(&fleet);
	MemoryContextDelete(fleet.cxt);
}

/*
 * migrate_check(dir, databases => ...): one error naming each database
 * that is not up to date with the directory (what its migrate_check
 * said), or that could not be checked; quiet when every database is.
 */
void
dbfleet_check(const char *path, List *names, int max_parallel)
{
	DbFleet		fleet;

	begin_fleet(&fleet, &check_call, names, max_parallel, path, NULL);
	fleet.here = here_check;
	run_fleet(&fleet);
	add_failures(&fleet, true);
	if (fleet.failures.count > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg_plural("%d database of %d is not up to date with \"%s\" or could not be checked",
							   "%d databases of %d are not up to date with \"%s\" or could not be checked",
							   fleet.failures.count, fleet.failures.count,
							   list_length(fleet.databases), path),
				 errdetail("%s", fleet.failures.detail.data),
				 errhint("Apply them with CALL morgenmigrate.migrate_run() with the same databases.")));
	MemoryContextDelete(fleet.cxt);
}

/*
 * The worker: connects to its database as the caller's login role, takes
 * on the caller's SET ROLE and current user and its morgenmigrate.*
 * settings, refuses a database without the extension, runs the statement at top level and exits.  Notices, the
 * error and the rows go to the caller's queue, in the caller's encoding.
 */
void
morgenmigrate_fleet_worker_main(Datum main_arg)
{
	MemoryContext cxt;
	shm_toc    *toc;
	FleetWorkerFixed *fixed;
	char	   *sql;
	char	   *version;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	cxt = AllocSetContextCreate(TopMemoryContext,
								"morgenmigrate fleet worker",
								ALLOCSET_DEFAULT_SIZES);
	CurrentMemoryContext = cxt;

	toc = worker_attach(main_arg, DBFLEET_MAGIC, DBFLEET_KEY_QUEUE);
	fixed = shm_toc_lookup(toc, DBFLEET_KEY_FIXED, false);
	sql = shm_toc_lookup(toc, DBFLEET_KEY_SQL, false);

	BackgroundWorkerInitializeConnectionByOid(fixed->database_id,
											  fixed->identity.authenticated_user_id,
											  0);

	StartTransactionCommand();
	version = extension_version();
	/* messages go out in the caller's encoding, which it expects */
	SetConfigOption("client_encoding", pg_encoding_to_char(fixed->encoding),
					PGC_USERSET, PGC_S_SESSION);
	sql = MemoryContextStrdup(cxt, pg_any_to_server(sql, strlen(sql),
													fixed->encoding));
	if (version == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"%s\" is not installed in database \"%s\"",
						"morgenmigrate", fixed->database),
				 errhint("Install it there with CREATE EXTENSION morgenmigrate, or leave the database out.")));
	refuse_other_version(fixed, version,
						 shm_toc_lookup(toc, DBFLEET_KEY_COLUMNS, false));
	apply_settings(shm_toc_lookup(toc, DBFLEET_KEY_SETTINGS, false),
				   fixed->settings_len, fixed->encoding);
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);

	/* rows go out as text the caller reads whatever its own settings */
	if (fixed->rows)
	{
		SetConfigOption("datestyle", "ISO", PGC_USERSET, PGC_S_SESSION);
		SetConfigOption("intervalstyle", "postgres", PGC_USERSET, PGC_S_SESSION);
	}
	SetConfigOption("application_name", "morgenmigrate fleet worker",
					PGC_USERSET, PGC_S_SESSION);
	worker_identity_assume(&fixed->identity);

	worker_execute_top_level(sql, fixed->rows ?
							 row_sender(fixed->encoding) : NULL);
	fixed->completed = true;
}

/* A DestReceiver that sends each row to the caller's queue. */
static DestReceiver *
row_sender(int encoding)
{
	RowSender  *self = palloc0(sizeof(RowSender));

	self->pub.receiveSlot = row_sender_receive;
	self->pub.rStartup = row_sender_startup;
	self->pub.rShutdown = row_sender_shutdown;
	self->pub.rDestroy = row_sender_destroy;
	self->pub.mydest = DestNone;
	self->encoding = encoding;
	return (DestReceiver *) self;
}

/* rStartup of the row sender: the output function of each column. */
static void
row_sender_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	RowSender  *sender = (RowSender *) self;

	sender->outfuncs = palloc0(sizeof(FmgrInfo) * typeinfo->natts);
	for (int i = 0; i < typeinfo->natts; i++)
	{
		Oid			outfunc;
		bool		isvarlena;

		getTypeOutputInfo(TupleDescAttr(typeinfo, i)->atttypid, &outfunc,
						  &isvarlena);
		fmgr_info(outfunc, &sender->outfuncs[i]);
	}
}

/*
 * receiveSlot of the row sender: the row as a DataRow message, each
 * column its length (-1 for NULL) and its text in the caller's encoding.
 */
static bool
row_sender_receive(TupleTableSlot *slot, DestReceiver *self)
{
	RowSender  *sender = (RowSender *) self;
	TupleDesc	desc = slot->tts_tupleDescriptor;
	StringInfoData buf;

	slot_getallattrs(slot);
	pq_beginmessage(&buf, DBFLEET_ROW);
	pq_sendint16(&buf, desc->natts);
	for (int i = 0; i < desc->natts; i++)
	{
		char	   *text;
		int			len;

		if (slot->tts_isnull[i])
		{
			pq_sendint32(&buf, -1);
			continue;
		}
		text = OutputFunctionCall(&sender->outfuncs[i], slot->tts_values[i]);
		len = strlen(text);
		text = pg_server_to_any(text, len, sender->encoding);
		len = strlen(text);
		pq_sendint32(&buf, len);
		pq_sendbytes(&buf, text, len);
	}
	pq_endmessage(&buf);
	return true;
}

/* rShutdown of the row sender: nothing to flush. */
static void
row_sender_shutdown(DestReceiver *self)
{
}

/* rDestroy of the row sender. */
static void
row_sender_destroy(DestReceiver *self)
{
	pfree(self);
}
