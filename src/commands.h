/*-------------------------------------------------------------------------
 *
 * commands.h
 *	  What each SQL-callable function of morgenmigrate does, once its
 *	  arguments are checked.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_COMMANDS_H
#define MORGENMIGRATE_COMMANDS_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/execnodes.h"
#include "utils/elog.h"

/* The options of migrate_apply. */
typedef struct ApplyOptions
{
	const char *target;			/* stop after this file or version, or NULL */
	int			steps;			/* at most this many files; -1: no limit */
	bool		dry_run;		/* rehearse and roll back */
	bool		atomic;			/* all or nothing */
} ApplyOptions;

extern void command_apply(const char *path, const ApplyOptions *options,
						  ReturnSetInfo *rsinfo);
extern void command_history(ReturnSetInfo *rsinfo);
extern void command_status(const char *path, ReturnSetInfo *rsinfo);
extern void command_status_files(const char *path, ReturnSetInfo *rsinfo);
extern void command_check(const char *path);
extern int	command_unapplied(const char *path, StringInfo detail);
extern void command_rollback(const char *path, int steps, const char *target,
							 ReturnSetInfo *rsinfo);
extern int	command_baseline(const char *path, const char *target);
extern void command_forget(const char *filename);
extern void command_repair(const char *path, ReturnSetInfo *rsinfo);
extern void command_run(const char *path, const char *target);
extern ErrorData *command_run_schema(const char *path, const char *target);
extern void command_run_rollback(const char *path, int steps,
								 const char *target);
extern void command_layout(const char *path, ReturnSetInfo *rsinfo);
extern void command_plan(const char *path, const char *target, int steps,
						 ReturnSetInfo *rsinfo);
extern void command_adopt(const char *path, const char *runner,
						  const char *table, bool dry_run,
						  ReturnSetInfo *rsinfo);

#endif							/* MORGENMIGRATE_COMMANDS_H */
