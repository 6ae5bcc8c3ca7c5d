--
-- Settings and transactions: what a file sets ends with the file, the
-- caller's settings are untouched, and the transaction modes that could
-- miss another session's work are refused before anything is read
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA settings_test;
SET search_path = settings_test;
SET work_mem = '4MB';
SET maintenance_work_mem = '16MB';
SET application_name = 'settings_test';

-- 001 sets work_mem, SET LOCAL maintenance_work_mem, set_config() and
-- search_path; 002 sees none of it
SELECT filename, status, statements
  FROM morgenmigrate.migrate_apply('@fixtures@/settings');
SELECT * FROM seen_in_001;
SELECT * FROM seen_in_002;
-- nor does the caller
SELECT current_setting('work_mem') AS work_mem,
       current_setting('maintenance_work_mem') AS maintenance_work_mem,
       current_setting('application_name') AS application_name,
       current_setting('search_path') AS search_path;

-- the same inside the caller's transaction block
TRUNCATE morgenmigrate.schema_migrations;
DROP TABLE seen_in_001, seen_in_002;
BEGIN;
SELECT count(*) FROM morgenmigrate.migrate_apply('@fixtures@/settings');
SELECT current_setting('work_mem') AS work_mem,
       current_setting('search_path') AS search_path;
COMMIT;

-- a file that sets something and then fails, inside a caller that catches
-- the error and goes on: the setting is gone with the failed call
DO $$
BEGIN
    PERFORM morgenmigrate.migrate_apply('@fixtures@/settings_error');
EXCEPTION WHEN division_by_zero THEN
    RAISE NOTICE 'caught; work_mem is %', current_setting('work_mem');
END
$$;
SHOW work_mem;

-- while a file runs, pg_stat_activity.query names it, k of n
TRUNCATE morgenmigrate.schema_migrations;
SELECT filename, status
  FROM morgenmigrate.migrate_apply('@fixtures@/progress');
SELECT * FROM progress_seen;
-- and afterwards the caller's own query is back
SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid();

-- REPEATABLE READ and SERIALIZABLE callers are refused: their snapshot would
-- miss migrations another session applied while they waited for the lock
TRUNCATE morgenmigrate.schema_migrations;
DROP TABLE progress_seen;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/progress');
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/progress');
ROLLBACK;
-- so is a read-only transaction
BEGIN READ ONLY;
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/progress');
ROLLBACK;
-- reading the status is fine in any of them
BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY;
SELECT filename, state FROM morgenmigrate.migrate_status('@fixtures@/progress');
ROLLBACK;
SELECT to_regclass('progress_seen') AS created, count(*) AS history
  FROM morgenmigrate.schema_migrations;

SET client_min_messages = warning;
DROP SCHEMA settings_test CASCADE;
DROP EXTENSION morgenmigrate;
