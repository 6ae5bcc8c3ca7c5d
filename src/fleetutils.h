/*-------------------------------------------------------------------------
 *
 * fleetutils.h
 *	  What a call over many tenant schemas (fleet.c) and a call over many
 *	  databases (dbfleet.c) share: the names it works on, its rows after
 *	  each one's name, and the one error naming each one that failed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_FLEETUTILS_H
#define MORGENMIGRATE_FLEETUTILS_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/execnodes.h"
#include "nodes/pg_list.h"

/* The members of a fleet that failed, for one error naming each. */
typedef struct FleetFailures
{
	const char *kind;			/* "schema" or "database" */
	StringInfoData detail;		/* "Schema "a": what. Schema "b": what." */
	int			count;
	int			sqlerrcode;		/* of the first */
} FleetFailures;

extern List *fleetutils_names(List *names, const char *kind);
extern void fleetutils_put_row(ReturnSetInfo *rsinfo, const char *name,
							   Datum *values, bool *nulls);
extern void fleetutils_failures_init(FleetFailures *failures,
									 const char *kind);
extern char *fleetutils_error_text(const ErrorData *edata, bool with_detail);
extern void fleetutils_add_failure(FleetFailures *failures, const char *name,
								   int sqlerrcode, const char *what);
extern void fleetutils_end_failures(FleetFailures *failures);
extern void fleetutils_warn_failure(const char *kind, const char *name,
									const ErrorData *edata);
extern void fleetutils_raise_run(const FleetFailures *failures, int total,
								 const char *hint);

#endif							/* MORGENMIGRATE_FLEETUTILS_H */
