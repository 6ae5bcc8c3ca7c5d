/*-------------------------------------------------------------------------
 *
 * progress.c
 *	  What each running migrate_apply, migrate_run or rollback is doing, in
 *	  shared memory that any session can read (the morgenmigrate.progress
 *	  view): one slot per backend, in the order of the PGPROC array, each
 *	  written by its own backend only, once per file and once per
 *	  statement.
 *
 * The slots follow the backend status array of backend_status.c: a
 * writer bumps a change counter before and after it writes (odd while it
 * writes), a reader copies a slot and starts over when the counter moved
 * or was odd; nobody waits for a lock.  The area is requested at server
 * start (shmem_request_hook, shmem_startup_hook), so the library must be
 * in shared_preload_libraries; loaded later, it tracks nothing, and the
 * view says why on first use.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_authid_d.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/wait_event.h"

#include "compat.h"
#include "progress.h"
#include "script.h"

#define PROGRESS_NAME_LEN		256
#define PROGRESS_COMMAND_LEN	64

/* What one backend's call is doing. */
typedef struct ProgressSlot
{
	uint32		changecount;	/* odd while the backend writes */
	int			pid;			/* 0: no call runs */
	Oid			database;
	Oid			userid;
	ProgressCall call;
	ProgressState state;
	int			files_done;
	int			files_total;	/* -1 until known */
	int			line;			/* of the running statement; 0: none */
	int			worker_pid;		/* the background worker running it, or 0 */
	TimestampTz started_at;
	TimestampTz file_started_at;	/* 0 before the first file */
	char		directory[MAXPGPATH];
	char		filename[PROGRESS_NAME_LEN];
	char		command[PROGRESS_COMMAND_LEN];
} ProgressSlot;

/* The shared area: a slot per backend (MaxBackends). */
typedef struct ProgressShared
{
	int			nslots;
	ProgressSlot slots[FLEXIBLE_ARRAY_MEMBER];
} ProgressShared;

static ProgressShared *shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* This backend's slot while a call is tracked, and how deep calls nest. */
static ProgressSlot *my_slot = NULL;
static int	depth = 0;
static bool exit_hook_registered = false;
static bool told_not_loaded = false;

/* Where the running file's lines were counted to. */
static ScriptCursor cursor;

/* A writer's bracket around changing its slot. */
#define BEGIN_WRITE(slot) \
	do { (slot)->changecount++; pg_write_barrier(); } while (0)
#define END_WRITE(slot) \
	do { pg_write_barrier(); (slot)->changecount++; } while (0)

static Size shared_size(void);
static void request_shmem(void);
static void startup_shmem(void);
static void clear_at_exit(int code, Datum arg);
static void copy_text(char *dest, const char *src, int size);
static bool read_slot(volatile ProgressSlot *slot, ProgressSlot *copy);
static const char *call_name(ProgressCall call);
static const char *state_name(ProgressState state);

/*
 * From _PG_init while shared_preload_libraries loads the library: asks for
 * the shared area, which startup_shmem sets up.
 */
void
progress_preload(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = request_shmem;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = startup_shmem;
}

/* The bytes of the shared area. */
static Size
shared_size(void)
{
	return add_size(offsetof(ProgressShared, slots),
					mul_size(MaxBackends, sizeof(ProgressSlot)));
}

/* shmem_request_hook: reserves the shared area. */
static void
request_shmem(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(shared_size());
}

/* shmem_startup_hook: creates the shared area, or finds it. */
static void
startup_shmem(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("morgenmigrate progress", shared_size(), &found);
	if (!found)
	{
		memset(shared, 0, shared_size());
		shared->nslots = MaxBackends;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Tells whether this backend's call shows in the view. */
bool
progress_tracking(void)
{
	return my_slot != NULL && depth == 1;
}

/*
 * A call begins: its slot shows it from now on.  A call inside a call
 * (a migration that calls migrate_apply) leaves the outer one's slot
 * alone.  Every progress_begin must be matched by progress_end, however
 * the call ends.
 */
void
progress_begin(ProgressCall call, const char *directory)
{
	int			index = mm_my_proc_index;
	ProgressSlot *slot;

	if (++depth > 1 || shared == NULL || index < 0 || index >= shared->nslots)
		return;
	if (!exit_hook_registered)
	{
		before_shmem_exit(clear_at_exit, (Datum) 0);
		exit_hook_registered = true;
	}
	slot = &shared->slots[index];
	BEGIN_WRITE(slot);
	slot->pid = MyProcPid;
	slot->database = MyDatabaseId;
	slot->userid = GetUserId();
	slot->call = call;
	slot->state = PROGRESS_RUNNING;
	slot->files_done = 0;
	slot->files_total = -1;
	slot->line = 0;
	slot->worker_pid = 0;
	slot->started_at = GetCurrentTimestamp();
	slot->file_started_at = 0;
	copy_text(slot->directory, directory, sizeof(slot->directory));
	slot->filename[0] = '\0';
	slot->command[0] = '\0';
	END_WRITE(slot);
	my_slot = slot;
	memset(&cursor, 0, sizeof(cursor));
}

/* The call ends (or fails): its slot is free again. */
void
progress_end(void)
{
	if (depth == 0 || --depth > 0 || my_slot == NULL)
		return;
	BEGIN_WRITE(my_slot);
	my_slot->pid = 0;
	END_WRITE(my_slot);
	my_slot = NULL;
}

/* before_shmem_exit: a backend that ends in a call frees its slot. */
static void
clear_at_exit(int code, Datum arg)
{
	depth = Min(depth, 1);
	progress_end();
}

/* A file of the call begins: done files of total, by its name. */
void
progress_file(const char *filename, int done, int total)
{
	if (!progress_tracking())
		return;
	BEGIN_WRITE(my_slot);
	my_slot->files_done = done;
	my_slot->files_total = total;
	my_slot->file_started_at = GetCurrentTimestamp();
	my_slot->line = 0;
	my_slot->worker_pid = 0;
	my_slot->state = PROGRESS_RUNNING;
	copy_text(my_slot->filename, filename, sizeof(my_slot->filename));
	my_slot->command[0] = '\0';
	END_WRITE(my_slot);
	memset(&cursor, 0, sizeof(cursor));
}

/*
 * A statement of the running file begins: its line and command, and
 * whether it builds an index.
 */
void
progress_statement(const MigrationScript *script,
				   const MigrationStatement *stmt)
{
	int			line;
	const char *command;

	if (!progress_tracking())
		return;
	line = script_statement_line_from(script, stmt, &cursor);
	command = stmt->command ? stmt->command : "";
	BEGIN_WRITE(my_slot);
	my_slot->line = line;
	my_slot->worker_pid = 0;
	my_slot->state = strcmp(command, "CREATE INDEX") == 0 ||
		strcmp(command, "REINDEX") == 0 ?
		PROGRESS_BUILDING_INDEX : PROGRESS_RUNNING;
	copy_text(my_slot->command, command, sizeof(my_slot->command));
	END_WRITE(my_slot);
}

/* What the call does now. */
void
progress_state(ProgressState state)
{
	if (!progress_tracking())
		return;
	BEGIN_WRITE(my_slot);
	my_slot->state = state;
	END_WRITE(my_slot);
}

/* The background worker that runs the statement now (0: none). */
void
progress_worker(int pid)
{
	if (!progress_tracking())
		return;
	BEGIN_WRITE(my_slot);
	my_slot->worker_pid = pid;
	END_WRITE(my_slot);
}

/* Copies a name into a slot's field, cut at a character boundary. */
static void
copy_text(char *dest, const char *src, int size)
{
	int			len = pg_mbcliplen(src, strlen(src), size - 1);

	memcpy(dest, src, len);
	dest[len] = '\0';
}

/*
 * Copies a slot as its backend last wrote it whole; false when no call
 * runs there.
 */
static bool
read_slot(volatile ProgressSlot *slot, ProgressSlot *copy)
{
	for (;;)
	{
		uint32		before = slot->changecount;
		uint32		after;

		pg_read_barrier();
		memcpy(copy, (ProgressSlot *) slot, sizeof(ProgressSlot));
		pg_read_barrier();
		after = slot->changecount;
		if (before == after && (before & 1) == 0)
			break;
		CHECK_FOR_INTERRUPTS();
	}
	return copy->pid != 0;
}

/* The name of a call, as the view shows it. */
static const char *
call_name(ProgressCall call)
{
	switch (call)
	{
		case PROGRESS_APPLY:
			return "migrate_apply";
		case PROGRESS_REHEARSAL:
			return "migrate_apply (dry run)";
		case PROGRESS_ROLLBACK:
			return "migrate_rollback";
		case PROGRESS_RUN:
			return "migrate_run";
		case PROGRESS_RUN_ROLLBACK:
			return "migrate_run_rollback";
	}
	return "?";
}

/* The name of a state, as the view shows it. */
static const char *
state_name(ProgressState state)
{
	switch (state)
	{
		case PROGRESS_RUNNING:
			return "running";
		case PROGRESS_BUILDING_INDEX:
			return "building index";
		case PROGRESS_SLEEPING:
			return "sleeping between retries";
	}
	return "?";
}

/*
 * Whether backend pid (0: none) waits for a heavyweight lock now, read
 * from its PGPROC as pg_stat_activity reads it, but for every caller:
 * pg_stat_activity hides the wait of another role's session, and the
 * state of a call is shown to every role that may read the view.
 */
static bool
waits_for_lock(int pid)
{
	PGPROC	   *proc;

	if (pid == 0)
		return false;
	proc = BackendPidGetProc(pid);
	return proc != NULL &&
		(*((volatile uint32 *) &proc->wait_event_info) & 0xFF000000) == PG_WAIT_LOCK;
}

/*
 * The rows of the running calls of the whole cluster.  A role sees the
 * details (directory, files, statement) of its own calls, or of every
 * call with the privileges of pg_read_all_stats, as pg_stat_activity
 * shows queries; of other calls only that they run, and their state,
 * waiting for a lock included (of the backend or of its worker).  Without
 * the shared area, nothing, and a NOTICE on the first use in the session
 * saying why.
 */
void
progress_put_rows(ReturnSetInfo *rsinfo)
{
	bool		all = has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);

	if (shared == NULL)
	{
		if (!told_not_loaded)
			ereport(NOTICE,
					(errmsg("morgenmigrate.progress is empty because morgenmigrate is not in shared_preload_libraries"),
					 errdetail("The progress of running migrations is kept in shared memory, which a library must ask for when the server starts."),
					 errhint("Add morgenmigrate to shared_preload_libraries in postgresql.conf and restart the server.")));
		told_not_loaded = true;
		return;
	}
	for (int i = 0; i < shared->nslots; i++)
	{
		ProgressSlot copy;
		Datum		values[14];
		bool		nulls[14];
		bool		details;

		if (!read_slot(&shared->slots[i], &copy))
			continue;
		details = all || has_privs_of_role(GetUserId(), copy.userid);
		memset(nulls, true, sizeof(nulls));
		values[0] = Int32GetDatum(copy.pid);
		values[1] = ObjectIdGetDatum(copy.database);
		values[2] = CStringGetTextDatum(call_name(copy.call));
		values[11] = CStringGetTextDatum(state_name(copy.state));
		values[13] = BoolGetDatum(waits_for_lock(copy.pid) ||
								  waits_for_lock(copy.worker_pid));
		nulls[0] = nulls[1] = nulls[2] = nulls[11] = nulls[13] = false;
		if (details)
		{
			values[3] = CStringGetTextDatum(copy.directory);
			values[4] = Int32GetDatum(copy.files_done);
			values[5] = Int32GetDatum(copy.files_total);
			values[6] = CStringGetTextDatum(copy.filename);
			values[7] = Int32GetDatum(copy.line);
			values[8] = CStringGetTextDatum(copy.command);
			values[9] = TimestampTzGetDatum(copy.started_at);
			values[10] = TimestampTzGetDatum(copy.file_started_at);
			values[12] = Int32GetDatum(copy.worker_pid);
			nulls[3] = nulls[4] = nulls[9] = false;
			nulls[5] = copy.files_total < 0;
			nulls[6] = copy.filename[0] == '\0';
			nulls[7] = copy.line <= 0;
			nulls[8] = copy.command[0] == '\0';
			nulls[10] = copy.file_started_at == 0;
			nulls[12] = copy.worker_pid == 0;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}
