--
-- migrate_status, migrate_check, migrate_baseline, migrate_forget and
-- migrate_repair over every state a file can be in
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA status_test;
SET search_path = status_test;

-- a working copy of the set, to edit and delete files in (psql's \! runs
-- as the OS user running the tests, who staged the fixtures)
\! cp -R @fixtures@/status @fixtures@/scratch/status && chmod -R a+rX @fixtures@/scratch/status
\set dir '@fixtures@/scratch/status'

-- before anything: every file pending, the down file without an up file
-- an orphan
SELECT filename, state, applied_at, checksum, error
  FROM morgenmigrate.migrate_status(:'dir');
SELECT morgenmigrate.migrate_check(:'dir');

-- three applied; 004 recorded without running (its table exists already)
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir', steps => 3);
CREATE TABLE status_d (id int);
SELECT morgenmigrate.migrate_baseline(:'dir', target => '004');
SELECT filename, kind, duration FROM morgenmigrate.schema_migrations
 WHERE kind = 'baseline';
-- 005 fails (status_a is empty) and is recorded, in non-atomic mode
SELECT filename, status, statements
  FROM morgenmigrate.migrate_apply(:'dir', atomic => false);
SELECT filename, sqlstate, message, line FROM morgenmigrate.migration_errors;

-- 002 edited, 003 deleted
\! echo "-- edited after it was applied" >> @fixtures@/scratch/status/002_create_b.sql
\! rm @fixtures@/scratch/status/003_create_c.sql

-- every state at once
SELECT filename, state, applied_at IS NOT NULL AS has_applied_at,
       checksum IS NOT NULL AS has_checksum, error
  FROM morgenmigrate.migrate_status(:'dir');
-- the history alone, in apply order, with the failure last
SELECT filename, state, error FROM morgenmigrate.migrate_status();

-- an edited applied file refuses the run, naming it; nothing is applied
SELECT * FROM morgenmigrate.migrate_apply(:'dir');
SELECT count(*) AS history FROM morgenmigrate.schema_migrations;

-- the readiness check lists what is not applied as it stands
SELECT morgenmigrate.migrate_check(:'dir');

-- repair accepts the edit and clears the failure
SELECT * FROM morgenmigrate.migrate_repair(:'dir');
SELECT checksum = encode(sha256(pg_read_binary_file(:'dir' || '/002_create_b.sql')), 'hex')
       AS checksum_updated
  FROM morgenmigrate.schema_migrations WHERE filename = '002_create_b.sql';
SELECT count(*) AS failures FROM morgenmigrate.migration_errors;
SELECT * FROM morgenmigrate.migrate_repair(:'dir');
SELECT morgenmigrate.migrate_check(:'dir');

-- with data, 005 applies; only the missing file remains, as a WARNING
INSERT INTO status_a VALUES (1);
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir');
SELECT morgenmigrate.migrate_check(:'dir');

-- forgetting a row (the manual revert) makes the file pending again
SELECT morgenmigrate.migrate_forget('005_needs_data.sql');
SELECT filename, state FROM morgenmigrate.migrate_status(:'dir')
 WHERE filename = '005_needs_data.sql';
SELECT morgenmigrate.migrate_forget('005_needs_data.sql');
SELECT morgenmigrate.migrate_forget(NULL);
-- deleting the row by hand works the same
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir');
DELETE FROM morgenmigrate.schema_migrations WHERE filename = '005_needs_data.sql';
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir');

-- baseline of an already applied set adds nothing
SELECT morgenmigrate.migrate_baseline(:'dir');
-- an unknown target
SELECT morgenmigrate.migrate_baseline(:'dir', target => '042');
SELECT count(*) AS history FROM morgenmigrate.schema_migrations;

SET client_min_messages = warning;
DROP SCHEMA status_test CASCADE;
DROP EXTENSION morgenmigrate;
