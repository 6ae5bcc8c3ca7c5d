/*-------------------------------------------------------------------------
 *
 * context.h
 *	  The error context of a running migration: its file and line.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_CONTEXT_H
#define MORGENMIGRATE_CONTEXT_H

#include "postgres.h"

#include "utils/elog.h"

#include "migration.h"

/* The statement running, for the error context callback. */
typedef struct ContextPlace
{
	const MigrationScript *script;
	const MigrationStatement *stmt; /* NULL between statements */
	int			line;			/* stmt's line, 0 until first needed */
	const char *phase;			/* what runs when stmt is NULL, or NULL */
} ContextPlace;

/*
 * What a module above may add to a migration's error (the statement that
 * failed, and the error), registered by it; it must never raise an error.
 */
typedef void (*ContextExplainHook) (const char *sql, ErrorData *edata);
extern ContextExplainHook context_explain_hook;

extern void context_callback(void *arg);
extern int	context_annotate(ContextPlace *place, ErrorData *edata);

#endif							/* MORGENMIGRATE_CONTEXT_H */
