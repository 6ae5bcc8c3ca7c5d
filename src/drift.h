/*-------------------------------------------------------------------------
 *
 * drift.h
 *	  Drift: schema changes made in the database outside the migrations,
 *	  recorded by event triggers into morgenmigrate.drift, shown by
 *	  migrate_status(dir) and refused by migrate_check(dir) until
 *	  acknowledged.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_DRIFT_H
#define MORGENMIGRATE_DRIFT_H

#include "postgres.h"

#include "commands/event_trigger.h"
#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "nodes/execnodes.h"
#include "tcop/deparse_utility.h"
#include "utils/elog.h"

/* The runner: what runs between these is a migration's, not drift. */
extern void drift_migration_begin(void);
extern void drift_migration_end(void);

/* The background worker of migrate_run: nothing it runs is drift. */
extern void drift_ignore_backend(void);

/* Adds to a migration's error what drift touched the same objects. */
extern void drift_explain_error(const char *sql, ErrorData *edata);

/* The event trigger functions' work (ddl_command_end and sql_drop). */
extern void drift_record_event(EventTriggerData *trigdata, bool dropped);
extern bool drift_command_is_temporary(const CollectedCommand *cmd);

/* migrate_status(dir) and migrate_check(dir); callers are in SPI. */
extern void drift_put_status_rows(ReturnSetInfo *rsinfo);
extern int	drift_describe(StringInfo detail);
extern void drift_refuse(int count, const char *detail);

/* drift_enable(), drift_disable(), drift_acknowledge(note, up_to). */
extern void drift_triggers_create(void);
extern void drift_triggers_drop(void);
extern int64 drift_acknowledge_rows(const char *note, bool all,
								   TimestampTz up_to);

#endif							/* MORGENMIGRATE_DRIFT_H */
