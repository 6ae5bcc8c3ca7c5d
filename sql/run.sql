--
-- CALL migrate_run: one transaction per file, like Flyway; a failing file
-- is recorded and committed, then raised
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA run_test;
SET search_path = run_test;

-- a later file uses an enum value an earlier file added: in one atomic call
-- that fails, and the hint names migrate_run
SELECT * FROM morgenmigrate.migrate_apply('/tmp/morgenmigrate-regress/enum');
SELECT count(*) AS history FROM morgenmigrate.schema_migrations;
-- migrate_run commits after each file, so it works
CALL morgenmigrate.migrate_run('/tmp/morgenmigrate-regress/enum');
SELECT * FROM standups;
SELECT filename, kind FROM morgenmigrate.schema_migrations ORDER BY filename;
TRUNCATE morgenmigrate.schema_migrations;

-- the third file fails: the first two stay committed, the failure is
-- recorded, and the CALL raises the file's error
CALL morgenmigrate.migrate_run('/tmp/morgenmigrate-regress/run');
SELECT * FROM jobs ORDER BY id;
SELECT filename FROM morgenmigrate.schema_migrations ORDER BY filename;
SELECT filename, sqlstate, message, detail, line FROM morgenmigrate.migration_errors;
SELECT to_regclass('after_jobs') AS after_jobs;
-- the session-level lock is released on the error path
SELECT count(*) AS advisory_locks FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid();

-- fixed, the next run applies the rest and clears the failure
DELETE FROM jobs WHERE id = 1;
CALL morgenmigrate.migrate_run('/tmp/morgenmigrate-regress/run');
SELECT filename FROM morgenmigrate.schema_migrations ORDER BY filename;
SELECT count(*) AS failures FROM morgenmigrate.migration_errors;
SELECT count(*) AS advisory_locks FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid();

-- inside a transaction block it cannot commit, and says so
BEGIN;
CALL morgenmigrate.migrate_run('/tmp/morgenmigrate-regress/run');
ROLLBACK;
-- nor from a function (a DO block at top level may commit, and so may it)
CREATE FUNCTION deploy() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    CALL morgenmigrate.migrate_run('/tmp/morgenmigrate-regress/run');
END
$$;
SELECT deploy();
DO $$ BEGIN CALL morgenmigrate.migrate_run('/tmp/morgenmigrate-regress/run'); END $$;

SET client_min_messages = warning;
DROP SCHEMA run_test CASCADE;
DROP EXTENSION morgenmigrate;
