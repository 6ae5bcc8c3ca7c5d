/*-------------------------------------------------------------------------
 *
 * adopt.h
 *	  Reading another runner's history table, to adopt what it applied.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_ADOPT_H
#define MORGENMIGRATE_ADOPT_H

#include "postgres.h"

#include "plan.h"

/* What migrate_adopt does with one migration file. */
typedef enum AdoptAction
{
	ADOPT_RECORD,				/* the old runner applied it: record it */
	ADOPT_RECORDED,				/* morgenmigrate's history has it already */
	ADOPT_PENDING				/* nobody applied it: it stays pending */
} AdoptAction;

/* One migration file and what adoption does with it. */
typedef struct AdoptStep
{
	const MigrationEntry *entry;
	AdoptAction action;
	bool		known_time;		/* the old runner's table says when */
	TimestampTz applied_at;		/* ADOPT_RECORD: when it applied it */
} AdoptStep;

/* Where the old history is: the runner and its table, once settled. */
typedef struct AdoptSource
{
	const char *runner;			/* given, or detected */
	const char *table;			/* given, or found; schema-qualified */
} AdoptSource;

extern List *adopt_plan(const MigrationDir *dir, List *entries,
						AdoptSource *source);

#endif							/* MORGENMIGRATE_ADOPT_H */
