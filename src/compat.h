/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every difference between the PostgreSQL releases morgenmigrate
 *	  supports (15, 16, 17 and 18), in one place: the .c files call one
 *	  name on every version, and supporting the next release means
 *	  changing this file.
 *
 * Every PG_VERSION_NUM test of the extension is here; a check in
 * scripts/check-release.sh fails CI when one appears elsewhere.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MORGENMIGRATE_COMPAT_H
#define MORGENMIGRATE_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 150000
#error "morgenmigrate needs PostgreSQL 15 or later"
#endif

#include "fmgr.h"

/*
 * The library exports its entry points only: the SQL-callable functions,
 * their info records, _PG_init, the magic block and the background
 * workers' main functions, which the server finds by name.  16's PGXS
 * builds with -fvisibility=hidden and defines PGDLLEXPORT to export; 15
 * defines it empty, so the Makefile adds -fvisibility=hidden and this
 * defines it.  Every other function stays out of the server's global
 * symbol namespace (a library is loaded RTLD_GLOBAL, where a function of
 * ours named like another library's would bind in its place) and needs no
 * symbol lookup when the library is loaded.
 */
#if PG_VERSION_NUM < 160000 && defined(__GNUC__)
#undef PGDLLEXPORT
#define PGDLLEXPORT __attribute__((visibility("default")))
#endif

/*
 * PG_FUNCTION_INFO_V1() that exports the function itself, as 16's does
 * (15's exports only the info record).
 */
#define mm_function_info_v1(funcname) \
	PG_FUNCTION_INFO_V1(funcname); \
	extern PGDLLEXPORT Datum funcname(PG_FUNCTION_ARGS)

/*
 * 15.1 renamed SetSingleFuncCall() to InitMaterializedSRF(); 15.0 has only
 * the old name.
 */
#if PG_VERSION_NUM < 150001
#define InitMaterializedSRF(fcinfo, flags) SetSingleFuncCall(fcinfo, flags)
#endif

/*
 * PortalRun() without run_once, which PostgreSQL 18 dropped: every caller
 * here runs its portal once, to completion.
 */
#if PG_VERSION_NUM >= 180000
#define mm_portal_run(portal, count, isTopLevel, dest, altdest, qc) \
	PortalRun(portal, count, isTopLevel, dest, altdest, qc)
#else
#define mm_portal_run(portal, count, isTopLevel, dest, altdest, qc) \
	PortalRun(portal, count, isTopLevel, true, dest, altdest, qc)
#endif

/*
 * The session's settings as an array sorted by name: 16 made
 * get_guc_variables() count them itself (and dropped
 * GetNumConfigOptions()).  Needs utils/guc_tables.h.
 */
#if PG_VERSION_NUM >= 160000
#define mm_guc_variables(nvars) get_guc_variables(nvars)
#else
#define mm_guc_variables(nvars) \
	(*(nvars) = GetNumConfigOptions(), get_guc_variables())
#endif

/* LockHeldByMe() with its orstronger argument of 17, false before. */
#if PG_VERSION_NUM >= 170000
#define mm_lock_held_by_me(tag, mode) LockHeldByMe(tag, mode, false)
#else
#define mm_lock_held_by_me(tag, mode) LockHeldByMe(tag, mode)
#endif

/* 18 replaced pg_attribute_noreturn() after a declaration by pg_noreturn before it. */
#if PG_VERSION_NUM >= 180000
#define mm_noreturn pg_noreturn
#define mm_noreturn_after
#else
#define mm_noreturn
#define mm_noreturn_after pg_attribute_noreturn()
#endif

/*
 * 16 gave stringToQualifiedNameList() a context to save errors in; without
 * one it raises them, as before.
 */
#if PG_VERSION_NUM >= 160000
#define mm_qualified_name_list(string) stringToQualifiedNameList(string, NULL)
#else
#define mm_qualified_name_list(string) stringToQualifiedNameList(string)
#endif

/* This backend's local transaction id: 17 moved it into MyProc->vxid. */
#if PG_VERSION_NUM >= 170000
#define mm_local_transaction_id (MyProc->vxid.lxid)
#else
#define mm_local_transaction_id (MyProc->lxid)
#endif

/*
 * The number a backend's temporary relation files carry in their names
 * (this backend's, and none): 17 numbered backends by their PGPROC
 * (ProcNumber) instead of BackendId.
 */
#if PG_VERSION_NUM >= 170000
#define mm_my_backend_number MyProcNumber
#define mm_no_backend_number INVALID_PROC_NUMBER
#else
#define mm_my_backend_number MyBackendId
#define mm_no_backend_number InvalidBackendId
#endif

/*
 * This backend's place in the array of PGPROCs, counted from 0: below
 * MaxBackends for every regular backend and background worker.  17 made
 * it MyProcNumber and dropped PGPROC.pgprocno.  Needs storage/proc.h.
 */
#if PG_VERSION_NUM >= 170000
#define mm_my_proc_index ((int) MyProcNumber)
#else
#define mm_my_proc_index (MyProc->pgprocno)
#endif

/*
 * The path of a relation file as a palloc'd string: 18's
 * GetRelationPath() returns a struct holding it.  Needs common/relpath.h.
 */
#if PG_VERSION_NUM >= 180000
#define mm_relation_path(db, spc, number, backend, fork) \
	pstrdup(GetRelationPath(db, spc, number, backend, fork).str)
#else
#define mm_relation_path(db, spc, number, backend, fork) \
	GetRelationPath(db, spc, number, backend, fork)
#endif

/*
 * Whether a column's GENERATED ALWAYS AS constraint stores its values: 18
 * added virtual generated columns (and made them the default); before,
 * every generated column is stored.
 */
#if PG_VERSION_NUM >= 180000
#define mm_generated_is_stored(constraint) \
	((constraint)->generated_kind == ATTRIBUTE_GENERATED_STORED)
#else
#define mm_generated_is_stored(constraint) true
#endif

/* Whether a constraint is enforced: 18 added NOT ENFORCED ones. */
#if PG_VERSION_NUM >= 180000
#define mm_constraint_enforced(constraint) ((constraint)->is_enforced)
#else
#define mm_constraint_enforced(constraint) true
#endif

/*
 * ALTER TABLE ... ALTER COLUMN ... SET EXPRESSION, which 17 added (it
 * rewrites the table); -1, which no subcommand has, before.
 */
#if PG_VERSION_NUM >= 170000
#define MM_AT_SET_EXPRESSION AT_SetExpression
#else
#define MM_AT_SET_EXPRESSION (-1)
#endif

/*
 * Whether a role has a privilege on a database: 16 replaced
 * pg_database_aclcheck() by object_aclcheck() on any catalog.  Needs
 * catalog/pg_database.h and utils/acl.h.
 */
#if PG_VERSION_NUM >= 160000
#define mm_database_aclcheck(dbid, roleid, mode) \
	object_aclcheck(DatabaseRelationId, dbid, roleid, mode)
#else
#define mm_database_aclcheck(dbid, roleid, mode) \
	pg_database_aclcheck(dbid, roleid, mode)
#endif

/*
 * Whether a role may execute a function: 16 replaced pg_proc_aclcheck()
 * by object_aclcheck() on any catalog.  Needs catalog/pg_proc.h and
 * utils/acl.h.
 */
#if PG_VERSION_NUM >= 160000
#define mm_proc_aclcheck(procid, roleid, mode) \
	object_aclcheck(ProcedureRelationId, procid, roleid, mode)
#else
#define mm_proc_aclcheck(procid, roleid, mode) \
	pg_proc_aclcheck(procid, roleid, mode)
#endif

/*
 * Whether a role may look up objects in a schema: 16 replaced
 * pg_namespace_aclcheck() by object_aclcheck() on any catalog.  Needs
 * catalog/pg_namespace.h and utils/acl.h.
 */
#if PG_VERSION_NUM >= 160000
#define mm_namespace_aclcheck(nspid, roleid, mode) \
	object_aclcheck(NamespaceRelationId, nspid, roleid, mode)
#else
#define mm_namespace_aclcheck(nspid, roleid, mode) \
	pg_namespace_aclcheck(nspid, roleid, mode)
#endif

#endif							/* MORGENMIGRATE_COMPAT_H */
