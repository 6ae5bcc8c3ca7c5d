--
-- dry_run => true: every pending file runs for real against the current
-- data and is rolled back; the rows say which locks each file took
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA rehearsal_test;
SET search_path = rehearsal_test;
CREATE TABLE teams (id int PRIMARY KEY, name text);
CREATE TABLE members (id int PRIMARY KEY, team_id int REFERENCES teams (id));
INSERT INTO teams VALUES (1, 'core');

-- beside the locks, what migrate_plan says of the statements that do more
-- than change the catalog (sizes vary with the server: masked)
SELECT filename, status, statements,
       regexp_replace(locks::text, '[0-9.]+ (bytes|kB|MB)', '(size)', 'g') AS locks
  FROM morgenmigrate.migrate_apply('@fixtures@/rehearsal', dry_run => true);

-- nothing stayed: no column, no index, no table, no history
SELECT attname FROM pg_attribute WHERE attrelid = 'members'::regclass AND attnum > 0 ORDER BY attnum;
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'teams'::regclass;
SELECT to_regclass('team_stats') AS team_stats;
SELECT count(*) AS history FROM morgenmigrate.schema_migrations;

-- a failing rehearsal reports the error as a real run would
ALTER TABLE members ADD COLUMN nickname text;
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/rehearsal', dry_run => true);
-- and in non-atomic mode as a failed row with a WARNING, recording nothing
SELECT filename, status, statements, locks
  FROM morgenmigrate.migrate_apply('@fixtures@/rehearsal', dry_run => true, atomic => false);
SELECT count(*) AS failures FROM morgenmigrate.migration_errors;
ALTER TABLE members DROP COLUMN nickname;

-- the real run afterwards applies the same files
SELECT filename, status FROM morgenmigrate.migrate_apply('@fixtures@/rehearsal');
SELECT filename, status FROM morgenmigrate.migrate_apply('@fixtures@/rehearsal', dry_run => true);

SET client_min_messages = warning;
DROP SCHEMA rehearsal_test CASCADE;
DROP EXTENSION morgenmigrate;
