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

/*
 * A table's rows in a few numbers that any change to them changes: how
 * many there are, and the sum and the exclusive or of a hash of each
 * row's bytes (so that the order of the rows does not count); and what
 * those bytes are read as, the table's columns.
 */
typedef struct TableDigest
{
	Oid			relid;
	uint64		columns;		/* a hash of the table's columns: their
								 * numbers, names, types and collations */
	uint64		count;
	uint64		sum;
	uint64		xor;
	bool		usable;			/* false: a row's value is kept out of line */
} TableDigest;

/* Both tables of the database's history, as read under one call. */
typedef struct HistoryDigest
{
	bool		valid;			/* read directly, every row digested */
	TableDigest rows;
	TableDigest failures;
} HistoryDigest;

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
	HistoryDigest digest;		/* of the rows read, where valid */
} History;

/*
 * Set by a module above (drift.c) to hear that the history's own DDL (a
 * tenant's history tables) begins, or has ended.
 */
typedef void (*HistoryHook) (void);
extern HistoryHook history_ddl_begin_hook;
extern HistoryHook history_ddl_end_hook;

extern void history_set_schema(const char *schema);
extern bool history_of_database(void);
extern const char *history_errors_table(void);
extern History *history_load(void);
extern bool history_digest(HistoryDigest *digest);
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
extern bool history_load_proof(const char *directory,
							   struct FileFingerprint *fp);
extern bool history_save_fingerprints(const char *directory,
									  const struct FileFingerprint *fps, int n);
extern char *failure_text(const FailureRow *failure);
extern Datum interval_datum(int64 usecs);

#endif							/* MORGENMIGRATE_HISTORY_H */
