/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  Running one statement at top level, in a dynamic background worker:
 *	  the statements no transaction block can hold (CREATE INDEX
 *	  CONCURRENTLY, VACUUM, ...) cannot run through SPI, not even in a
 *	  procedure after COMMIT.  migrate_run hands such a statement over to a
 *	  worker that connects as the caller, adopts the caller's settings and
 *	  roles, runs the statement as exec_simple_query would, and sends its
 *	  notices and error back through a shared memory queue.
 *
 * Every index the statement creates is marked, in the transaction that
 * creates it, with a security label of provider "morgenmigrate" naming the
 * migration (no SQL command can set one: no such provider is registered);
 * the mark goes once the statement has finished.  An INVALID index with
 * the mark is therefore the leftover of a build of ours that failed or was
 * interrupted (even by a crash), and only such an index is dropped before
 * a build starts over: never another session's, whatever its name.
 *
 * The hand-over follows parallel.c (ParallelWorkerMain) and the queue
 * follows src/test/modules/test_shm_mq.  The caller must hold no snapshot
 * while it waits, or a concurrent index build would wait for the caller.
 *
 * The worker watches its lock waits as the caller watches its own
 * (blockers.c); when its lock_timeout ends one, it sends the awaited lock
 * ahead of its error, and the caller names who held it as it does for a
 * lock timeout of its own statements.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_class.h"
#include "commands/seclabel.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "parser/analyze.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/ps_status.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "blockers.h"
#include "compat.h"
#include "morgenmigrate.h"
#include "progress.h"
#include "worker.h"


/* Set by a module above (drift.c): a worker is about to run its statement. */
WorkerHook	worker_start_hook = NULL;

#define MM_WORKER_MAGIC		0x6d6d7731	/* "mmw1" */
#define MM_KEY_FIXED		1
#define MM_KEY_SQL			2
#define MM_KEY_GUC			3
#define MM_KEY_QUEUE		4
#define MM_KEY_MIGRATION	5
#define MM_QUEUE_SIZE		(64 * 1024)

/* The worker's message ahead of its lock timeout: the lock it waited for. */
#define MM_MSG_LOCK_WAIT	'L'

/* How long a caller waits for a worker it asked to stop. */
#define MM_WORKER_STOP_WAIT_MS	60000

/*
 * The worker's deadlock_timeout, as a multiple of the caller's: a session
 * waiting for the migration lock re-runs its deadlock check every
 * deadlock_timeout, so it finds a cycle through the worker first.
 */
#define MM_WORKER_DEADLOCK_FACTOR	10

/* What the worker needs to become the caller. */
typedef struct WorkerFixed
{
	PGPROC	   *caller;			/* the lock group leader */
	int			caller_pid;
	Oid			database_id;
	WorkerIdentity identity;
	bool		completed;		/* set by the worker once it committed */
} WorkerFixed;

PGDLLEXPORT void morgenmigrate_worker_main(Datum main_arg);

static BackgroundWorkerHandle *running_worker = NULL;
static bool exit_hook_registered = false;

/* In the worker: the migration whose statement runs, and what it created. */
static const char *build_migration = NULL;
static List *marked_indexes = NIL;
static object_access_hook_type prev_object_access_hook = NULL;

/* The provider of the security label that marks an unfinished build. */
#define BUILD_MARK_PROVIDER	"morgenmigrate"

static dsm_segment *prepare_segment(const char *sql, const char *migration,
									shm_mq_handle **mqh, WorkerFixed **fixed);
static BackgroundWorkerHandle *launch_worker(dsm_segment *seg);
static ErrorData *relay_messages(shm_mq_handle *mqh);
static void terminate_worker_at_exit(int code, Datum arg);
static void send_lock_wait(void);
static void receive_lock_wait(StringInfo msg);
static void mark_created_index(ObjectAccessType access, Oid classId,
							   Oid objectId, int subId, void *arg);
static void unmark_created_indexes(void);

/*
 * Runs one statement at top level in a background worker and waits for
 * it.  Its notices are re-emitted here; its error is raised here with all
 * its fields, a position in the statement becoming an internal position
 * of it (so the caller's error context can turn it into a line).
 * Cancelling or terminating the caller stops the worker.  With a
 * migration name, the indexes the statement creates carry the build mark
 * until it has finished.
 */
void
worker_execute(const char *sql, const char *migration)
{
	dsm_segment *seg;
	shm_mq_handle *mqh;
	WorkerFixed *fixed;
	ErrorData  *edata = NULL;
	MemoryContext oldcontext = CurrentMemoryContext;

	/* a snapshot held here would make a concurrent build wait for us */
	InvalidateCatalogSnapshot();
	if (TransactionIdIsValid(MyProc->xmin) || ActiveSnapshotSet())
		elog(ERROR, "morgenmigrate: cannot hand a statement to a worker while holding a snapshot");

	if (!exit_hook_registered)
	{
		before_shmem_exit(terminate_worker_at_exit, (Datum) 0);
		exit_hook_registered = true;
	}

	/*
	 * The worker joins our lock group, so that the deadlock detector sees a
	 * cycle through it: a session waiting for our migration lock while
	 * holding a snapshot that the worker's index build waits for.
	 */
	BecomeLockGroupLeader();
	seg = prepare_segment(sql, migration, &mqh, &fixed);
	running_worker = launch_worker(seg);
	shm_mq_set_handle(mqh, running_worker);

	PG_TRY();
	{
		/* morgenmigrate.progress shows the worker's index build */
		if (progress_tracking())
		{
			pid_t		pid;

			if (WaitForBackgroundWorkerStartup(running_worker, &pid) == BGWH_STARTED)
				progress_worker((int) pid);
		}
		edata = relay_messages(mqh);
		(void) WaitForBackgroundWorkerShutdown(running_worker);
		progress_worker(0);
	}
	PG_CATCH();
	{
		ErrorData  *stop_reason;
		pid_t		pid = 0;

		progress_worker(0);
		/*
		 * Our migration lock must outlive the worker: a run queued behind
		 * us would otherwise find the dying build's index.
		 */
		MemoryContextSwitchTo(oldcontext);
		stop_reason = CopyErrorData();
		FlushErrorState();
		if (!worker_stop(running_worker, MM_WORKER_STOP_WAIT_MS, true))
		{
			(void) GetBackgroundWorkerPid(running_worker, &pid);
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("background worker %d did not stop within %d seconds",
							(int) pid, MM_WORKER_STOP_WAIT_MS / 1000),
					 errdetail("It was asked to stop because: %s", stop_reason->message),
					 errhint("This session keeps the migration lock until the worker has stopped; the server log says what the worker does.")));
		}
		pfree(running_worker);
		running_worker = NULL;
		ReThrowError(stop_reason);
	}
	PG_END_TRY();

	pfree(running_worker);
	running_worker = NULL;

	if (edata == NULL && !fixed->completed)
	{
		dsm_detach(seg);
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("background worker exited before finishing the statement")));
	}
	dsm_detach(seg);

	if (edata != NULL)
	{
		/* a position in the statement, for the caller's error context */
		if (edata->cursorpos > 0)
		{
			edata->internalpos = edata->cursorpos;
			edata->internalquery = pstrdup(sql);
			edata->cursorpos = 0;
		}
		ThrowErrorData(edata);
	}
}

/* Creates the shared memory segment with everything the worker needs. */
static dsm_segment *
prepare_segment(const char *sql, const char *migration, shm_mq_handle **mqh,
				WorkerFixed **fixed)
{
	shm_toc_estimator e;
	Size		guclen = EstimateGUCStateSpace();
	Size		sqllen = strlen(sql) + 1;
	Size		migrationlen = migration ? strlen(migration) + 1 : 1;
	Size		size;
	dsm_segment *seg;
	shm_toc    *toc;
	char	   *space;
	shm_mq	   *mq;

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, sizeof(WorkerFixed));
	shm_toc_estimate_chunk(&e, sqllen);
	shm_toc_estimate_chunk(&e, guclen);
	shm_toc_estimate_chunk(&e, MM_QUEUE_SIZE);
	shm_toc_estimate_chunk(&e, migrationlen);
	shm_toc_estimate_keys(&e, 5);
	size = shm_toc_estimate(&e);

	seg = dsm_create(size, 0);
	toc = shm_toc_create(MM_WORKER_MAGIC, dsm_segment_address(seg), size);

	*fixed = shm_toc_allocate(toc, sizeof(WorkerFixed));
	(*fixed)->caller = MyProc;
	(*fixed)->caller_pid = MyProcPid;
	(*fixed)->database_id = MyDatabaseId;
	worker_identity_capture(&(*fixed)->identity);
	(*fixed)->completed = false;
	shm_toc_insert(toc, MM_KEY_FIXED, *fixed);

	space = shm_toc_allocate(toc, sqllen);
	memcpy(space, sql, sqllen);
	shm_toc_insert(toc, MM_KEY_SQL, space);

	space = shm_toc_allocate(toc, guclen);
	SerializeGUCState(guclen, space);
	shm_toc_insert(toc, MM_KEY_GUC, space);

	/* an empty name: nothing to mark */
	space = shm_toc_allocate(toc, migrationlen);
	memcpy(space, migration ? migration : "", migrationlen);
	shm_toc_insert(toc, MM_KEY_MIGRATION, space);

	mq = shm_mq_create(shm_toc_allocate(toc, MM_QUEUE_SIZE), MM_QUEUE_SIZE);
	shm_toc_insert(toc, MM_KEY_QUEUE, mq);
	shm_mq_set_receiver(mq, MyProc);
	*mqh = shm_mq_attach(mq, seg, NULL);
	return seg;
}

/* Registers the worker; an error when no worker slot is free. */
static BackgroundWorkerHandle *
launch_worker(dsm_segment *seg)
{
	BackgroundWorkerHandle *handle;

	handle = worker_launch(seg, "morgenmigrate_worker_main",
						   "morgenmigrate worker");
	if (handle == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not start a background worker for a statement that cannot run inside a transaction block"),
				 errhint("Every such statement needs a free slot of max_worker_processes while it runs.")));
	return handle;
}

/*
 * Registers a dynamic background worker of this library that runs
 * function with the shared memory segment seg, this backend notified of
 * its start and exit; NULL when no worker slot is free.  The handle lives
 * in TopMemoryContext, to outlive an error (for the exit hooks).
 */
BackgroundWorkerHandle *
worker_launch(dsm_segment *seg, const char *function, const char *type)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	MemoryContext oldcontext;
	bool		ok;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "morgenmigrate");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(worker.bgw_name, BGW_MAXLEN, "%s for PID %d", type, MyProcPid);
	snprintf(worker.bgw_type, BGW_MAXLEN, "%s", type);
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;

	oldcontext = MemoryContextSwitchTo(TopMemoryContext);
	ok = RegisterDynamicBackgroundWorker(&worker, &handle);
	MemoryContextSwitchTo(oldcontext);
	return ok ? handle : NULL;
}

/*
 * Reads the worker's messages until it detaches: notices are re-emitted
 * here, the lock a lock timeout ended is taken as the caller's own wait,
 * the error (if any) is returned.
 */
static ErrorData *
relay_messages(shm_mq_handle *mqh)
{
	ErrorData  *error = NULL;

	for (;;)
	{
		Size		nbytes;
		void	   *data;
		StringInfoData msg;
		ErrorData  *edata;

		if (shm_mq_receive(mqh, &nbytes, &data, false) != SHM_MQ_SUCCESS)
			break;

		initStringInfo(&msg);
		appendBinaryStringInfo(&msg, data, nbytes);
		if (nbytes > 0 && ((char *) data)[0] == MM_MSG_LOCK_WAIT)
		{
			(void) pq_getmsgbyte(&msg);
			receive_lock_wait(&msg);
		}
		else if ((edata = worker_message(&msg, NULL)) != NULL && error == NULL)
			error = edata;
		pfree(msg.data);
	}
	return error;
}

/*
 * One message a worker sent through pq_redirect_to_shm_mq: a notice is
 * re-emitted here, with context (if not NULL) as the outermost line of its
 * context, saying where it comes from; an error is returned as the worker
 * raised it (at most ERROR: the worker's death is not a reason for ours);
 * NULL for anything else.
 */
ErrorData *
worker_message(StringInfo msg, const char *context)
{
	char		msgtype = pq_getmsgbyte(msg);
	ErrorData	edata;

	if (msgtype != 'E' && msgtype != 'N')
		return NULL;
	memset(&edata, 0, sizeof(edata));
	pq_parse_errornotice(msg, &edata);
	edata.elevel = Min(edata.elevel, ERROR);
	if (edata.elevel >= ERROR)
	{
		ErrorData  *error = palloc(sizeof(ErrorData));

		memcpy(error, &edata, sizeof(ErrorData));
		return error;
	}
	if (context != NULL)
		edata.context = edata.context ? psprintf("%s\n%s", edata.context, context) :
			pstrdup(context);
	ThrowErrorData(&edata);
	return NULL;
}

/*
 * Asks a worker to stop and waits until it has exited, at most timeout_ms;
 * tells whether it did.  A cancel does not end the wait (what the worker
 * still does must be over before the caller lets go of its lock); when
 * interruptible, a terminate does (the exit hook waits again).
 */
bool
worker_stop(BackgroundWorkerHandle *handle, long timeout_ms,
			bool interruptible)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												  timeout_ms);
	bool		stopped = false;

	TerminateBackgroundWorker(handle);
	HOLD_CANCEL_INTERRUPTS();
	for (;;)
	{
		pid_t		pid;
		long		left;
		BgwHandleStatus status = GetBackgroundWorkerPid(handle, &pid);

		if (status == BGWH_STOPPED || status == BGWH_POSTMASTER_DIED)
		{
			stopped = true;
			break;
		}
		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end);
		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Min(left, 100), WAIT_EVENT_BGWORKER_SHUTDOWN);
		ResetLatch(MyLatch);
		if (interruptible)
			CHECK_FOR_INTERRUPTS();
	}
	RESUME_CANCEL_INTERRUPTS();
	return stopped;
}

/*
 * Tells whether a worker of this session that was asked to stop may still
 * run (it did not stop in time); forgets it once it has stopped.
 */
bool
worker_still_running(void)
{
	pid_t		pid;
	BgwHandleStatus status;

	if (running_worker == NULL)
		return false;
	status = GetBackgroundWorkerPid(running_worker, &pid);
	if (status == BGWH_STARTED || status == BGWH_NOT_YET_STARTED)
		return true;
	pfree(running_worker);
	running_worker = NULL;
	return false;
}

/*
 * before_shmem_exit hook: a caller that dies takes its worker along, and
 * waits a while for it, since its session lock goes when it exits.
 */
static void
terminate_worker_at_exit(int code, Datum arg)
{
	if (running_worker != NULL)
		(void) worker_stop(running_worker, 10000, false);
}

/*
 * The worker: becomes the caller (database, authenticated user, settings,
 * SET ROLE, current user and security context), runs the statement at top
 * level and exits.  Errors and notices go to the caller's queue.
 */
void
morgenmigrate_worker_main(Datum main_arg)
{
	shm_toc    *toc;
	WorkerFixed *fixed;
	char	   *sql;
	char	   *gucstate;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	CurrentMemoryContext = AllocSetContextCreate(TopMemoryContext,
												 "morgenmigrate worker",
												 ALLOCSET_DEFAULT_SIZES);

	toc = worker_attach(main_arg, MM_WORKER_MAGIC, MM_KEY_QUEUE);
	fixed = shm_toc_lookup(toc, MM_KEY_FIXED, false);
	sql = shm_toc_lookup(toc, MM_KEY_SQL, false);
	gucstate = shm_toc_lookup(toc, MM_KEY_GUC, false);
	build_migration = shm_toc_lookup(toc, MM_KEY_MIGRATION, false);

	/* before any heavyweight lock, as parallel workers do */
	if (!BecomeLockGroupMember(fixed->caller, fixed->caller_pid))
		return;

	BackgroundWorkerInitializeConnectionByOid(fixed->database_id,
											  fixed->identity.authenticated_user_id,
											  0);

	StartTransactionCommand();
	RestoreGUCState(gucstate);
	CommitTransactionCommand();

	/*
	 * Messages go to the caller unconverted (it converts them for its
	 * client): after RestoreGUCState, which brings the caller's
	 * client_encoding along.
	 */
	SetClientEncoding(GetDatabaseEncoding());
	SetConfigOption("deadlock_timeout",
					psprintf("%d", DeadlockTimeout <= INT_MAX / MM_WORKER_DEADLOCK_FACTOR ?
							 DeadlockTimeout * MM_WORKER_DEADLOCK_FACTOR : INT_MAX),
					PGC_SUSET, PGC_S_SESSION);

	/*
	 * No parallel workers: they join their leader's lock group, and this
	 * worker, a member of its caller's group, cannot lead one; a parallel
	 * index build of a big table would wait forever for the lock its own
	 * leader holds.
	 */
	SetConfigOption("max_parallel_maintenance_workers", "0",
					PGC_SUSET, PGC_S_SESSION);
	SetConfigOption("max_parallel_workers_per_gather", "0",
					PGC_SUSET, PGC_S_SESSION);

	worker_identity_assume(&fixed->identity);
	SetConfigOption("application_name", "morgenmigrate worker",
					PGC_USERSET, PGC_S_SESSION);

	if (worker_start_hook != NULL)
		worker_start_hook();
	if (build_migration[0] != '\0')
	{
		prev_object_access_hook = object_access_hook;
		object_access_hook = mark_created_index;
	}
	PG_TRY();
	{
		blockers_watch();
		worker_execute_top_level(sql, NULL);
		blockers_unwatch();
	}
	PG_CATCH();
	{
		blockers_unwatch();
		send_lock_wait();
		PG_RE_THROW();
	}
	PG_END_TRY();
	unmark_created_indexes();
	fixed->completed = true;
}

/*
 * In the worker, while its error is being raised: if it is a lock timeout,
 * sends the caller the lock the timer saw it wait for, so that the caller
 * can name who held it (the worker's transaction has failed, and it exits
 * with the error: the caller can look, and has its own SPI).
 */
static void
send_lock_wait(void)
{
	LOCKTAG		tag;
	LOCKMODE	mode;
	StringInfoData msg;

	if (geterrcode() != ERRCODE_LOCK_NOT_AVAILABLE ||
		!blockers_noted_wait(&tag, &mode))
		return;
	pq_beginmessage(&msg, MM_MSG_LOCK_WAIT);
	pq_sendint32(&msg, tag.locktag_field1);
	pq_sendint32(&msg, tag.locktag_field2);
	pq_sendint32(&msg, tag.locktag_field3);
	pq_sendint16(&msg, tag.locktag_field4);
	pq_sendbyte(&msg, tag.locktag_type);
	pq_sendbyte(&msg, tag.locktag_lockmethodid);
	pq_sendint32(&msg, mode);
	pq_endmessage(&msg);
}

/* In the caller: takes the lock wait its worker sent as its own. */
static void
receive_lock_wait(StringInfo msg)
{
	LOCKTAG		tag;
	LOCKMODE	mode;

	memset(&tag, 0, sizeof(tag));
	tag.locktag_field1 = pq_getmsgint(msg, 4);
	tag.locktag_field2 = pq_getmsgint(msg, 4);
	tag.locktag_field3 = pq_getmsgint(msg, 4);
	tag.locktag_field4 = pq_getmsgint(msg, 2);
	tag.locktag_type = pq_getmsgbyte(msg);
	tag.locktag_lockmethodid = pq_getmsgbyte(msg);
	mode = pq_getmsgint(msg, 4);
	pq_getmsgend(msg);
	blockers_note_wait(&tag, mode);
}

/*
 * object_access_hook of the worker: marks each index the statement creates,
 * in the transaction that creates it, so the mark is there as soon as the
 * index is, whatever happens to the worker afterwards.
 */
static void
mark_created_index(ObjectAccessType access, Oid classId, Oid objectId,
				   int subId, void *arg)
{
	Relation	rel;
	bool		is_index;
	ObjectAddress index;
	MemoryContext oldcontext;

	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
	if (access != OAT_POST_CREATE || classId != RelationRelationId ||
		subId != 0)
		return;

	/* the catalog rows are not visible yet; the relcache entry is */
	rel = RelationIdGetRelation(objectId);
	if (!RelationIsValid(rel))
		return;
	is_index = rel->rd_rel->relkind == RELKIND_INDEX;
	RelationClose(rel);
	if (!is_index)
		return;

	ObjectAddressSet(index, RelationRelationId, objectId);
	SetSecurityLabel(&index, BUILD_MARK_PROVIDER,
					 psprintf("unfinished build of migration \"%s\"",
							  build_migration));
	oldcontext = MemoryContextSwitchTo(TopMemoryContext);
	marked_indexes = lappend_oid(marked_indexes, objectId);
	MemoryContextSwitchTo(oldcontext);
}

/* Once the statement has finished, takes the build mark off what it created. */
static void
unmark_created_indexes(void)
{
	ListCell   *lc;

	if (marked_indexes == NIL)
		return;
	StartTransactionCommand();
	foreach(lc, marked_indexes)
	{
		ObjectAddress index;

		ObjectAddressSet(index, RelationRelationId, lfirst_oid(lc));
		SetSecurityLabel(&index, BUILD_MARK_PROVIDER, NULL);
	}
	CommitTransactionCommand();
}

/*
 * Tells whether an index carries the build mark a worker put on it when a
 * migration's statement created it.
 */
bool
worker_build_marked(Oid indexoid)
{
	ObjectAddress index;

	ObjectAddressSet(index, RelationRelationId, indexoid);
	return GetSecurityLabel(&index, BUILD_MARK_PROVIDER) != NULL;
}

/*
 * Runs exactly one statement at top level, the way exec_simple_query in
 * src/backend/tcop/postgres.c does, its rows going to receiver (NULL:
 * discarded).
 */
void
worker_execute_top_level(const char *sql, DestReceiver *receiver)
{
	MemoryContext statement_context = CurrentMemoryContext;
	List	   *parsetrees;
	RawStmt    *parsetree;
	CommandTag	commandTag;
	List	   *querytrees;
	List	   *plantrees;
	bool		snapshot_set = false;
	Portal		portal;
	QueryCompletion qc;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	/* as MessageContext does: the statement outlives the transactions it commits */
	MemoryContextSwitchTo(statement_context);
	debug_query_string = sql;
	pgstat_report_activity(STATE_RUNNING, sql);

	parsetrees = pg_parse_query(sql);
	if (list_length(parsetrees) != 1)
		elog(ERROR, "morgenmigrate worker expects exactly one statement");
	parsetree = linitial_node(RawStmt, parsetrees);
	commandTag = CreateCommandTag(parsetree->stmt);
	set_ps_display(GetCommandTagName(commandTag));

	if (analyze_requires_snapshot(parsetree))
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		snapshot_set = true;
	}
	querytrees = pg_analyze_and_rewrite_fixedparams(parsetree, sql, NULL, 0,
													NULL);
	plantrees = pg_plan_queries(querytrees, sql, CURSOR_OPT_PARALLEL_OK, NULL);
	if (snapshot_set)
		PopActiveSnapshot();

	portal = CreatePortal("", true, true);
	portal->visible = false;
	PortalDefineQuery(portal, NULL, sql, commandTag, plantrees, NULL);
	PortalStart(portal, NULL, 0, InvalidSnapshot);
	if (receiver == NULL)
		receiver = CreateDestReceiver(DestNone);
	(void) mm_portal_run(portal, FETCH_ALL, true, receiver, receiver, &qc);
	receiver->rDestroy(receiver);
	PortalDrop(portal, false);

	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	debug_query_string = NULL;
}

/*
 * In a worker: maps the shared memory segment its launcher gave it (as
 * main_arg), checks it is one of magic, and sends its messages from now
 * on to the queue under queue_key.  Returns the table of contents.
 */
shm_toc *
worker_attach(Datum main_arg, uint64 magic, uint64 queue_key)
{
	dsm_segment *seg;
	shm_toc    *toc;
	shm_mq	   *mq;
	shm_mq_handle *mqh;

	/* without a resource owner the mapping lasts until the worker exits */
	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not map the shared memory of a morgenmigrate worker")));
	toc = shm_toc_attach(magic, dsm_segment_address(seg));
	if (toc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("invalid shared memory of a morgenmigrate worker")));
	mq = shm_toc_lookup(toc, queue_key, false);
	shm_mq_set_sender(mq, MyProc);
	mqh = shm_mq_attach(mq, seg, NULL);
	pq_redirect_to_shm_mq(seg, mqh);
	return toc;
}

/* Records who this backend is: the identity a worker of it takes on. */
void
worker_identity_capture(WorkerIdentity *identity)
{
	identity->authenticated_user_id = GetAuthenticatedUserId();
	identity->outer_user_id = GetCurrentRoleId();
	GetUserIdAndSecContext(&identity->current_user_id, &identity->sec_context);
}

/*
 * In a worker connected as the authenticated user: takes on the SET ROLE,
 * current user and security context of the backend that launched it.
 */
void
worker_identity_assume(const WorkerIdentity *identity)
{
	bool		role_is_superuser = false;

	if (OidIsValid(identity->outer_user_id))
	{
		StartTransactionCommand();
		role_is_superuser = superuser_arg(identity->outer_user_id);
		CommitTransactionCommand();
	}
	SetCurrentRoleId(identity->outer_user_id, role_is_superuser);
	SetUserIdAndSecContext(identity->current_user_id, identity->sec_context);
}
