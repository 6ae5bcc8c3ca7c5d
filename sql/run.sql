--
-- CALL migrate_run: one transaction per file, like Flyway; a failing file
-- is recorded and committed, then raised
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA run_test;
SET search_path = run_test;

-- a later file uses an enum value an earlier file added to a type an
-- earlier call created: in one atomic call that fails, and the hint names
-- migrate_run (were the type created in the same transaction, PostgreSQL
-- 17 and later would let the transaction use the value)
SELECT filename, status FROM morgenmigrate.migrate_apply('@fixtures@/enum', target => '1');
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/enum');
SELECT filename FROM morgenmigrate.schema_migrations;
-- migrate_run commits after each file, so it works
CALL morgenmigrate.migrate_run('@fixtures@/enum');
SELECT * FROM standups;
SELECT filename, kind FROM morgenmigrate.schema_migrations ORDER BY filename;
TRUNCATE morgenmigrate.schema_migrations;

-- the third file fails: the first two stay committed, the failure is
-- recorded, and the CALL raises the file's error
CALL morgenmigrate.migrate_run('@fixtures@/run');
SELECT * FROM jobs ORDER BY id;
SELECT filename FROM morgenmigrate.schema_migrations ORDER BY filename;
SELECT filename, sqlstate, message, detail, line FROM morgenmigrate.migration_errors;
SELECT to_regclass('after_jobs') AS after_jobs;
-- the session-level lock is released on the error path
SELECT count(*) AS advisory_locks FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid();

-- fixed, the next run applies the rest and clears the failure
DELETE FROM jobs WHERE id = 1;
CALL morgenmigrate.migrate_run('@fixtures@/run');
SELECT filename FROM morgenmigrate.schema_migrations ORDER BY filename;
SELECT count(*) AS failures FROM morgenmigrate.migration_errors;
SELECT count(*) AS advisory_locks FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid();

-- inside a transaction block it cannot commit, and says so
BEGIN;
CALL morgenmigrate.migrate_run('@fixtures@/run');
ROLLBACK;
-- nor from a function (a DO block at top level may commit, and so may it)
CREATE FUNCTION deploy() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    CALL morgenmigrate.migrate_run('@fixtures@/run');
END
$$;
SELECT deploy();
DO $$ BEGIN CALL morgenmigrate.migrate_run('@fixtures@/run'); END $$;

SET client_min_messages = warning;
DROP SCHEMA run_test CASCADE;
DROP EXTENSION morgenmigrate;

--
-- Statements no transaction block can hold: migrate_apply refuses
-- them with a hint naming migrate_run, the rehearsal lists them as not
-- rehearsable, and migrate_run runs them at top level in a background worker
--
RESET client_min_messages;
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA run_test;
SET search_path = run_test;
SET maintenance_work_mem = '64MB';
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/toplevel');
SELECT filename, status, statements, locks
  FROM morgenmigrate.migrate_apply('@fixtures@/toplevel', dry_run => true);
SELECT count(*) AS history FROM morgenmigrate.schema_migrations;

-- 003 fails: a unique index over duplicate codes.  001 and 002 stay, and so
-- does what 003 committed before its failing statement; the error has every
-- field of the worker's error and the file's line (its schema, table and
-- constraint fields: TAP test 048, where PostgreSQL's source location that
-- VERBOSITY verbose adds can be left out)
CALL morgenmigrate.migrate_run('@fixtures@/toplevel');
\echo :LAST_ERROR_SQLSTATE
SELECT filename FROM morgenmigrate.schema_migrations ORDER BY filename;
SELECT filename, sqlstate, message, detail, line FROM morgenmigrate.migration_errors;
SELECT indexrelid::regclass AS index, indisvalid, indisunique
  FROM pg_index WHERE indrelid = 'events'::regclass ORDER BY 1;
SELECT to_regclass('code_audit') AS code_audit;
-- the file's SET held for its later statements, and ended with the file
SELECT * FROM events_seen;
SHOW maintenance_work_mem;
SHOW lock_timeout;
SELECT pg_stat_get_last_analyze_time('events'::regclass) IS NOT NULL AS analyzed;

-- with the data fixed, the next run drops the INVALID index the failed build
-- left, builds it again and records the file
DELETE FROM events WHERE id = 1001;
CALL morgenmigrate.migrate_run('@fixtures@/toplevel');
SELECT indexrelid::regclass AS index, indisvalid, indisunique
  FROM pg_index WHERE indrelid = 'events'::regclass ORDER BY 1;
SELECT filename FROM morgenmigrate.schema_migrations ORDER BY filename;
SELECT count(*) AS failures FROM morgenmigrate.migration_errors;
SELECT count(*) AS workers_left FROM pg_stat_activity WHERE backend_type = 'morgenmigrate worker';

SET client_min_messages = warning;
DROP SCHEMA run_test CASCADE;
DROP EXTENSION morgenmigrate;
