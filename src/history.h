/*-------------------------------------------------------------------------
 *
 * history.h
 *	  Every query on the history: schema_migrations and migration_errors,
 *	  or a tenant schema's own history tables.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_HISTORY_H
#define MORGENMIGRATE_HISTORY_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/elog.h"

/* One row of schema_migrations. */
typedef struct HistoryRow
{
	char	   *filename;
	TimestampTz applied_at;
	char	   *checksum;
	int64		duration;		/* microseconds */
	bool		baseline;		/* kind = 'baseline' */
	bool		adopted;		/* kind = 'adopted' */
} HistoryRow;

/* One row of migration_errors. */
typedef struct FailureRow
{
	char	   *filename;
	TimestampTz failed_at;
	char	   *sqlstate;
	char	   *message;
	char	   *detail;
	char	   *hint;
	int			line;			/* 0 when unknown */
} FailureRow;

/* Both tables, each sorted by file name for lookups. */
typedef struct History
{
	int			nrows;
	HistoryRow *rows;
	int			nfailures;
	FailureRow *failures;
	int			nfingerprints;	/* history_load_fingerprints: what earlier
								 * sessions proved of one directory's files */
	struct FileFingerprint *fingerprints;
} History;

/*
 * Set by a module above (drift.c) to hear that the history's own DDL (a
 * tenant's history tables) begins, or has ended.
 */
typedef void (*HistoryHook) (void);
extern HistoryHook history_ddl_begin_hook;
extern HistoryHook history_ddl_end_hook;

extern void history_set_schema(const char *schema);
extern const char *history_errors_table(void);
extern History *history_load(void);
extern List *history_in_apply_order(const History *history);
extern HistoryRow *history_find(const History *history, const char *filename);
extern FailureRow *history_find_failure(const History *history,
										const char *filename);
extern void history_record(const char *filename, const char *checksum,
						   TimestampTz applied_at, int64 duration,
						   bool baseline);
extern void history_record_adopted(const char *filename, const char *checksum,
								   TimestampTz applied_at);
extern bool history_forget(const char *filename);
extern void history_set_checksum(const char *filename, const char *checksum);
extern void history_record_failure(const char *filename, TimestampTz failed_at,
								   const ErrorData *edata, int line,
								   const char *blockers);
extern bool history_clear_failure(const char *filename);
extern struct FileFingerprint *history_load_fingerprints(const char *directory,
														 int *n);
extern void history_save_fingerprints(const char *directory,
									  const struct FileFingerprint *fps, int n);
extern char *failure_text(const FailureRow *failure);
extern Datum interval_datum(int64 usecs);

#endif							/* MORGENMIGRATE_HISTORY_H */
