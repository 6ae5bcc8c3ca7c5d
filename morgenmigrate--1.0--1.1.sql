/* morgenmigrate--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION morgenmigrate UPDATE TO '1.1'" to load this file. \quit
-- Layouts (1.1): what is read from a directory, and rollbacks that commit
-- after each down migration.
CREATE FUNCTION @extschema@.migrate_layout(dir text)
RETURNS TABLE (filename text, layout text, version text, kind text,
               up text, down text, in_transaction boolean, runs text,
               why text)
AS 'MODULE_PATHNAME', 'migrate_layout'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_layout(text) IS
    'what is read from a migration directory: layout, versions, up and down parts, transactions, and why each entry is or is not a migration';

CREATE PROCEDURE @extschema@.migrate_run_rollback(
    dir    text,
    steps  integer DEFAULT 1,
    target text DEFAULT NULL)
AS 'MODULE_PATHNAME', 'migrate_run_rollback'
LANGUAGE C;

COMMENT ON PROCEDURE @extschema@.migrate_run_rollback(text, integer, text) IS
    'run the down migrations of the newest applied migrations, committing after each';

REVOKE ALL ON FUNCTION @extschema@.migrate_layout(text) FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@.migrate_run_rollback(text, integer, text) FROM PUBLIC;

-- Drift: schema changes made outside the migrations.  drift_enable() creates
-- two event triggers (not members of the extension, so that pg_dump keeps
-- them and pg_restore creates them after everything else) that record each
-- DDL command not run by a migration here; migrate_status(dir) shows what is
-- not acknowledged and migrate_check(dir) refuses it.
CREATE SEQUENCE @extschema@.drift_id_seq;

CREATE TABLE @extschema@.drift (
    id                bigint PRIMARY KEY
                      DEFAULT nextval('@extschema@.drift_id_seq'),
    recorded_at       timestamptz NOT NULL,
    user_name         text NOT NULL,
    session_user_name text NOT NULL,
    application_name  text,
    client_addr       inet,
    command_tag       text NOT NULL,
    object_type       text,
    object_identity   text,
    statement         text,
    acknowledged_at   timestamptz,
    acknowledged_by   text,
    note              text
);

CREATE INDEX drift_unacknowledged ON @extschema@.drift (id)
    WHERE acknowledged_at IS NULL;

COMMENT ON TABLE @extschema@.drift IS
    'DDL run outside the migrations, one row per object, until acknowledged';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.drift', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.drift_id_seq', '');

CREATE FUNCTION @extschema@.drift_record_ddl()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'drift_record_ddl'
LANGUAGE C;

COMMENT ON FUNCTION @extschema@.drift_record_ddl() IS
    'ddl_command_end event trigger: records DDL run outside the migrations';

CREATE FUNCTION @extschema@.drift_record_drop()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'drift_record_drop'
LANGUAGE C;

COMMENT ON FUNCTION @extschema@.drift_record_drop() IS
    'sql_drop event trigger: records objects dropped outside the migrations';

CREATE FUNCTION @extschema@.drift_is_temporary(pg_catalog.pg_ddl_command)
RETURNS boolean
AS 'MODULE_PATHNAME', 'drift_is_temporary'
LANGUAGE C STABLE STRICT;

COMMENT ON FUNCTION @extschema@.drift_is_temporary(pg_catalog.pg_ddl_command) IS
    'for the ddl_command_end event trigger: whether a command changed only temporary objects';

CREATE FUNCTION @extschema@.drift_enable()
RETURNS void
AS 'MODULE_PATHNAME', 'drift_enable'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.drift_enable() IS
    'record DDL run outside the migrations in this database (superuser)';

CREATE FUNCTION @extschema@.drift_disable()
RETURNS void
AS 'MODULE_PATHNAME', 'drift_disable'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.drift_disable() IS
    'stop recording DDL run outside the migrations (superuser)';

CREATE FUNCTION @extschema@.drift_acknowledge(note text,
                                               up_to timestamptz DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'drift_acknowledge'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.drift_acknowledge(text, timestamptz) IS
    'accept the drift recorded so far, or up to a time, with a note';

REVOKE ALL ON FUNCTION @extschema@.drift_record_ddl() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.drift_record_drop() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.drift_is_temporary(pg_catalog.pg_ddl_command) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.drift_enable() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.drift_disable() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.drift_acknowledge(text, timestamptz) FROM PUBLIC;

-- Adoption (1.1): switch a database from another runner by recording what
-- that runner applied, read from its history table.  Its rows have kind
-- 'adopted'.
ALTER TABLE @extschema@.schema_migrations
    DROP CONSTRAINT schema_migrations_kind_check,
    ADD CONSTRAINT schema_migrations_kind_check
        CHECK (kind IN ('applied', 'baseline', 'adopted'));
CREATE FUNCTION @extschema@.migrate_adopt(
    dir           text,
    runner        text DEFAULT NULL,
    history_table text DEFAULT NULL,
    dry_run       boolean DEFAULT false)
RETURNS TABLE (filename text, action text, applied_at timestamptz)
AS 'MODULE_PATHNAME', 'migrate_adopt'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_adopt(text, text, text, boolean) IS
    'record as applied what the runner the database was migrated with applied';

REVOKE ALL ON FUNCTION @extschema@.migrate_adopt(text, text, text, boolean) FROM PUBLIC;

-- Blockers (1.1): who held the lock a failed file's last lock timeout
-- waited for.
ALTER TABLE @extschema@.migration_errors ADD COLUMN blockers jsonb;

-- Knowing the cost (1.1): what each pending statement would lock, read,
-- rewrite or build, on relations of what size, and who is in its way now;
-- nothing runs.
CREATE FUNCTION @extschema@.migrate_plan(
    dir    text,
    target text DEFAULT NULL,
    steps  integer DEFAULT NULL)
RETURNS TABLE (filename text, line integer, command text, relation regclass,
               lock_mode text, effect text, relation_bytes bigint,
               blocks text, blockers integer[], advice text)
AS 'MODULE_PATHNAME', 'migrate_plan'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_plan(text, text, integer) IS
    'what each statement of the pending migrations would lock, read, rewrite or build, without running anything';

REVOKE ALL ON FUNCTION @extschema@.migrate_plan(text, text, integer) FROM PUBLIC;

-- Progress (1.1): every running migrate_apply, migrate_run and rollback of
-- the cluster, from shared memory (needs shared_preload_libraries).
CREATE FUNCTION @extschema@.progress_slots(
    OUT pid integer, OUT datid oid, OUT operation text, OUT directory text,
    OUT files_done integer, OUT files_total integer, OUT filename text,
    OUT line integer, OUT command text, OUT started_at timestamptz,
    OUT file_started_at timestamptz, OUT state text, OUT worker_pid integer,
    OUT waiting_for_lock boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'progress_slots'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.progress_slots() IS
    'for the view morgenmigrate.progress: the running migration calls, as their backends last wrote them';

CREATE VIEW @extschema@.progress AS
    SELECT s.pid, d.datname AS database, s.operation, s.directory,
           s.files_done, s.files_total, s.filename, s.line, s.command,
           s.started_at, s.file_started_at,
           CASE WHEN s.waiting_for_lock THEN 'waiting for lock'
                ELSE s.state END AS state,
           CASE WHEN w.wait_event_type = 'Lock'
                THEN (pg_catalog.pg_blocking_pids(w.pid))[1] END AS waiting_for_pid,
           s.worker_pid,
           i.phase AS index_phase,
           i.blocks_done AS index_blocks_done,
           i.blocks_total AS index_blocks_total
      FROM @extschema@.progress_slots() s
      JOIN pg_catalog.pg_stat_activity a ON a.pid = s.pid
      LEFT JOIN pg_catalog.pg_stat_activity w
             ON w.pid = coalesce(s.worker_pid, s.pid)
      LEFT JOIN pg_catalog.pg_stat_progress_create_index i
             ON i.pid = coalesce(s.worker_pid, s.pid)
      LEFT JOIN pg_catalog.pg_database d ON d.oid = s.datid;

COMMENT ON VIEW @extschema@.progress IS
    'every running migrate_apply, migrate_run and rollback of the cluster: file, line, command, state';

REVOKE ALL ON FUNCTION @extschema@.progress_slots() FROM PUBLIC;
REVOKE ALL ON @extschema@.progress FROM PUBLIC;

-- Push (1.1): the same functions for migration files sent over the
-- connection.  Each takes, instead of a directory of the server, a table
-- of the caller's holding the files: path (bytea, a name's bytes, or text)
-- and content (bytea; NULL for a subdirectory).  No file of the server is
-- read, so the push forms need neither pg_read_server_files nor
-- morgenmigrate.allowed_directories: only EXECUTE, granted to nobody here.
CREATE FUNCTION @extschema@.migrate_apply(
    files    regclass,
    target   text DEFAULT NULL,
    steps    integer DEFAULT NULL,
    dry_run  boolean DEFAULT false,
    atomic   boolean DEFAULT true)
RETURNS TABLE (filename text, status text, statements integer,
               duration interval, locks text[])
AS 'MODULE_PATHNAME', 'migrate_apply'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_apply(regclass, text, integer, boolean, boolean) IS
    'apply the pending migration files pushed into a table';

CREATE FUNCTION @extschema@.migrate_status(files regclass)
RETURNS TABLE (filename text, state text, applied_at timestamptz,
               duration interval, checksum text, error text)
AS 'MODULE_PATHNAME', 'migrate_status'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_status(regclass) IS
    'every migration file pushed into a table and every history row, with its state';

CREATE FUNCTION @extschema@.migrate_check(files regclass)
RETURNS void
AS 'MODULE_PATHNAME', 'migrate_check'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_check(regclass) IS
    'raise an error unless every migration pushed into a table is applied unchanged';

CREATE FUNCTION @extschema@.migrate_rollback(
    files  regclass,
    steps  integer DEFAULT 1,
    target text DEFAULT NULL)
RETURNS TABLE (filename text, status text, statements integer,
               duration interval)
AS 'MODULE_PATHNAME', 'migrate_rollback'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_rollback(regclass, integer, text) IS
    'run the pushed down files of the newest applied migrations';

CREATE FUNCTION @extschema@.migrate_baseline(files regclass, target text DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'migrate_baseline'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_baseline(regclass, text) IS
    'record pushed migration files as applied without running them';

CREATE FUNCTION @extschema@.migrate_repair(files regclass)
RETURNS TABLE (filename text, action text)
AS 'MODULE_PATHNAME', 'migrate_repair'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_repair(regclass) IS
    'accept edited pushed migration files and clear recorded failures';

CREATE PROCEDURE @extschema@.migrate_run(files regclass, target text DEFAULT NULL)
AS 'MODULE_PATHNAME', 'migrate_run'
LANGUAGE C;

COMMENT ON PROCEDURE @extschema@.migrate_run(regclass, text) IS
    'apply the pending migration files pushed into a table, committing after each';

CREATE PROCEDURE @extschema@.migrate_run_rollback(
    files  regclass,
    steps  integer DEFAULT 1,
    target text DEFAULT NULL)
AS 'MODULE_PATHNAME', 'migrate_run_rollback'
LANGUAGE C;

COMMENT ON PROCEDURE @extschema@.migrate_run_rollback(regclass, integer, text) IS
    'run the pushed down migrations of the newest applied migrations, committing after each';

CREATE FUNCTION @extschema@.migrate_layout(files regclass)
RETURNS TABLE (filename text, layout text, version text, kind text,
               up text, down text, in_transaction boolean, runs text,
               why text)
AS 'MODULE_PATHNAME', 'migrate_layout'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_layout(regclass) IS
    'what is read from migration files pushed into a table';

CREATE FUNCTION @extschema@.migrate_adopt(
    files         regclass,
    runner        text DEFAULT NULL,
    history_table text DEFAULT NULL,
    dry_run       boolean DEFAULT false)
RETURNS TABLE (filename text, action text, applied_at timestamptz)
AS 'MODULE_PATHNAME', 'migrate_adopt'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_adopt(regclass, text, text, boolean) IS
    'record as applied what another runner applied, for migration files pushed into a table';

CREATE FUNCTION @extschema@.migrate_plan(
    files  regclass,
    target text DEFAULT NULL,
    steps  integer DEFAULT NULL)
RETURNS TABLE (filename text, line integer, command text, relation regclass,
               lock_mode text, effect text, relation_bytes bigint,
               blocks text, blockers integer[], advice text)
AS 'MODULE_PATHNAME', 'migrate_plan'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_plan(regclass, text, integer) IS
    'what each statement of the pending migrations pushed into a table would lock, read, rewrite or build, without running anything';

REVOKE ALL ON FUNCTION @extschema@.migrate_apply(regclass, text, integer, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_plan(regclass, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_status(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_check(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_rollback(regclass, integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_baseline(regclass, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_repair(regclass) FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@.migrate_run(regclass, text) FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@.migrate_run_rollback(regclass, integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_layout(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_adopt(regclass, text, text, boolean) FROM PUBLIC;

-- Fleets (1.1): the same functions over many tenant schemas in one call.
-- Each schema is migrated with the search_path of its files set to it and
-- its own history, in tables the first write makes in the schema itself
-- (morgenmigrate_history and morgenmigrate_errors), under its own lock.
-- The rows say which schema each is about.  In the forms of migrate_apply
-- and migrate_plan, target comes last, so that every position after the
-- schemas takes the type the form without schemas takes there: a call of
-- 1.0's form with literals and NULLs by position, migrate_apply(dir, NULL,
-- NULL), still finds that form alone.
CREATE FUNCTION @extschema@.migrate_apply(
    dir      text,
    schemas  text[],
    steps    integer DEFAULT NULL,
    dry_run  boolean DEFAULT false,
    atomic   boolean DEFAULT true,
    target   text DEFAULT NULL)
RETURNS TABLE (schema text, filename text, status text, statements integer,
               duration interval, locks text[])
AS 'MODULE_PATHNAME', 'migrate_apply'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_apply(text, text[], integer, boolean, boolean, text) IS
    'apply the pending migration files of a directory in each of the schemas, all or nothing';

CREATE FUNCTION @extschema@.migrate_apply(
    files    regclass,
    schemas  text[],
    steps    integer DEFAULT NULL,
    dry_run  boolean DEFAULT false,
    atomic   boolean DEFAULT true,
    target   text DEFAULT NULL)
RETURNS TABLE (schema text, filename text, status text, statements integer,
               duration interval, locks text[])
AS 'MODULE_PATHNAME', 'migrate_apply'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_apply(regclass, text[], integer, boolean, boolean, text) IS
    'apply the pending migration files pushed into a table in each of the schemas, all or nothing';

CREATE FUNCTION @extschema@.migrate_status(dir text, schemas text[])
RETURNS TABLE (schema text, filename text, state text, applied_at timestamptz,
               duration interval, checksum text, error text)
AS 'MODULE_PATHNAME', 'migrate_status'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_status(text, text[]) IS
    'every migration file of a directory and every history row of each of the schemas, with its state';

CREATE FUNCTION @extschema@.migrate_status(files regclass, schemas text[])
RETURNS TABLE (schema text, filename text, state text, applied_at timestamptz,
               duration interval, checksum text, error text)
AS 'MODULE_PATHNAME', 'migrate_status'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_status(regclass, text[]) IS
    'every migration file pushed into a table and every history row of each of the schemas, with its state';

CREATE FUNCTION @extschema@.migrate_check(dir text, schemas text[])
RETURNS void
AS 'MODULE_PATHNAME', 'migrate_check'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_check(text, text[]) IS
    'raise an error unless every migration of a directory is applied unchanged in each of the schemas';

CREATE FUNCTION @extschema@.migrate_check(files regclass, schemas text[])
RETURNS void
AS 'MODULE_PATHNAME', 'migrate_check'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_check(regclass, text[]) IS
    'raise an error unless every migration pushed into a table is applied unchanged in each of the schemas';

CREATE PROCEDURE @extschema@.migrate_run(dir text, schemas text[], target text DEFAULT NULL)
AS 'MODULE_PATHNAME', 'migrate_run'
LANGUAGE C;

COMMENT ON PROCEDURE @extschema@.migrate_run(text, text[], text) IS
    'apply the pending migration files of a directory in each of the schemas, committing after each file';

CREATE PROCEDURE @extschema@.migrate_run(files regclass, schemas text[], target text DEFAULT NULL)
AS 'MODULE_PATHNAME', 'migrate_run'
LANGUAGE C;

COMMENT ON PROCEDURE @extschema@.migrate_run(regclass, text[], text) IS
    'apply the pending migration files pushed into a table in each of the schemas, committing after each file';

CREATE FUNCTION @extschema@.migrate_plan(
    dir     text,
    schemas text[],
    steps   integer DEFAULT NULL,
    target  text DEFAULT NULL)
RETURNS TABLE (schema text, filename text, line integer, command text,
               relation regclass, lock_mode text, effect text,
               relation_bytes bigint, blocks text, blockers integer[],
               advice text)
AS 'MODULE_PATHNAME', 'migrate_plan'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_plan(text, text[], integer, text) IS
    'what each statement of the pending migrations of a directory would cost in each of the schemas, without running anything';

CREATE FUNCTION @extschema@.migrate_plan(
    files   regclass,
    schemas text[],
    steps   integer DEFAULT NULL,
    target  text DEFAULT NULL)
RETURNS TABLE (schema text, filename text, line integer, command text,
               relation regclass, lock_mode text, effect text,
               relation_bytes bigint, blocks text, blockers integer[],
               advice text)
AS 'MODULE_PATHNAME', 'migrate_plan'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_plan(regclass, text[], integer, text) IS
    'what each statement of the pending migrations pushed into a table would cost in each of the schemas, without running anything';

REVOKE ALL ON FUNCTION @extschema@.migrate_apply(text, text[], integer, boolean, boolean, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_apply(regclass, text[], integer, boolean, boolean, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_status(text, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_status(regclass, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_check(text, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_check(regclass, text[]) FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@.migrate_run(text, text[], text) FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@.migrate_run(regclass, text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_plan(text, text[], integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_plan(regclass, text[], integer, text) FROM PUBLIC;

-- What a migration file was proved to hold, so that a new session can take
-- the file as unchanged while its device, inode, size and times are as they
-- were, instead of reading and hashing it again (README, "Fingerprints").
-- A cache, not history: pg_dump leaves it out (a restored database's files
-- have other inodes), and losing it costs one reading of every file.
CREATE TABLE @extschema@.file_fingerprints (
    directory text NOT NULL,
    filename  text NOT NULL,
    device    bigint NOT NULL,
    inode     bigint NOT NULL,
    size      bigint NOT NULL,
    mtime_ns  bigint NOT NULL,
    ctime_ns  bigint NOT NULL,
    checksum  text NOT NULL,
    facts     bytea NOT NULL,
    PRIMARY KEY (directory, filename)
);

COMMENT ON TABLE @extschema@.file_fingerprints IS
    'what each migration file was proved to hold, while its inode, size and times stay as they were';

-- forgetting, rolling back or repairing a migration drops its fingerprints
-- in every directory, by its name alone
CREATE INDEX file_fingerprints_filename
    ON @extschema@.file_fingerprints (filename);

-- Fleets of databases (1.1): migrate_run, migrate_status and migrate_check
-- over databases of the cluster in one call.  A background worker per
-- database connects to it as the caller and runs the call there, at most
-- max_parallel at a time; each database needs the extension.  The push
-- forms refuse: pushed files are in a table of the caller's session, which
-- a worker in another database cannot read.
CREATE PROCEDURE @extschema@.migrate_run(
    dir          text,
    databases    text[],
    target       text DEFAULT NULL,
    max_parallel integer DEFAULT 2)
AS 'MODULE_PATHNAME', 'migrate_run'
LANGUAGE C;

COMMENT ON PROCEDURE @extschema@.migrate_run(text, text[], text, integer) IS
    'apply the pending migration files of a directory in each of the databases, committing after each file';

CREATE PROCEDURE @extschema@.migrate_run(
    files        regclass,
    databases    text[],
    target       text DEFAULT NULL,
    max_parallel integer DEFAULT 2)
AS 'MODULE_PATHNAME', 'migrate_run'
LANGUAGE C;

COMMENT ON PROCEDURE @extschema@.migrate_run(regclass, text[], text, integer) IS
    'refuses: pushed migration files cannot be run in other databases';

CREATE FUNCTION @extschema@.migrate_status(
    dir          text,
    databases    text[],
    max_parallel integer DEFAULT 2)
RETURNS TABLE (database text, filename text, state text, applied_at timestamptz,
               duration interval, checksum text, error text)
AS 'MODULE_PATHNAME', 'migrate_status'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_status(text, text[], integer) IS
    'every migration file of a directory and every history row of each of the databases, with its state';

CREATE FUNCTION @extschema@.migrate_status(
    files        regclass,
    databases    text[],
    max_parallel integer DEFAULT 2)
RETURNS TABLE (database text, filename text, state text, applied_at timestamptz,
               duration interval, checksum text, error text)
AS 'MODULE_PATHNAME', 'migrate_status'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_status(regclass, text[], integer) IS
    'refuses: pushed migration files cannot be read in other databases';

CREATE FUNCTION @extschema@.migrate_check(
    dir          text,
    databases    text[],
    max_parallel integer DEFAULT 2)
RETURNS void
AS 'MODULE_PATHNAME', 'migrate_check'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_check(text, text[], integer) IS
    'raise an error unless every migration of a directory is applied unchanged in each of the databases';

CREATE FUNCTION @extschema@.migrate_check(
    files        regclass,
    databases    text[],
    max_parallel integer DEFAULT 2)
RETURNS void
AS 'MODULE_PATHNAME', 'migrate_check'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_check(regclass, text[], integer) IS
    'refuses: pushed migration files cannot be read in other databases';

REVOKE ALL ON PROCEDURE @extschema@.migrate_run(text, text[], text, integer) FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@.migrate_run(regclass, text[], text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_status(text, text[], integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_status(regclass, text[], integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_check(text, text[], integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_check(regclass, text[], integer) FROM PUBLIC;
