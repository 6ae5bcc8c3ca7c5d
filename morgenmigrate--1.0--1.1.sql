/* morgenmigrate--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION morgenmigrate UPDATE TO '1.1'" to load this file. \quit
-- Layouts (1.1): what is read from a directory, and rollbacks that commit
-- after each down migration.
CREATE FUNCTION @extschema@.migrate_layout(dir text)
RETURNS TABLE (filename text, layout text, version text, kind text,
               up text, down text, in_transaction boolean, runs text)
AS 'MODULE_PATHNAME', 'migrate_layout'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.migrate_layout(text) IS
    'what is read from a migration directory: layout, versions, up and down parts, transactions';

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
