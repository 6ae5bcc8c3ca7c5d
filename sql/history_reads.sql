--
-- A call reads the extension's history tables as a query of them reads
-- them: row security, an inheritance child, privileges on columns only,
-- no privilege at all and the call's own transaction give what the query
-- gives (the tables are read without a query where that changes nothing)
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA history_reads;
SET search_path = history_reads;
\set dir '@fixtures@/basic'

-- the first two files applied, the third pending
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir', steps => 2);
SELECT filename, state FROM morgenmigrate.migrate_status(:'dir');

CREATE ROLE mm_history_reader;
GRANT pg_read_server_files TO mm_history_reader;
GRANT USAGE ON SCHEMA morgenmigrate TO mm_history_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA morgenmigrate TO mm_history_reader;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA morgenmigrate TO mm_history_reader;

-- row security hides the first file's row from the role: pending for it,
-- applied for the superuser, whom it does not bind
ALTER TABLE morgenmigrate.schema_migrations ENABLE ROW LEVEL SECURITY;
CREATE POLICY hide_first ON morgenmigrate.schema_migrations FOR SELECT
 USING (filename OPERATOR(pg_catalog.<>) '1_create_teams.sql');
SET ROLE mm_history_reader;
SELECT filename, state FROM morgenmigrate.migrate_status(:'dir');
SELECT morgenmigrate.migrate_check(:'dir');
RESET ROLE;
SELECT filename, state FROM morgenmigrate.migrate_status(:'dir');
-- a failure hidden the same way
INSERT INTO morgenmigrate.migration_errors (filename, failed_at, sqlstate, message)
VALUES ('10_seed_teams.sql', now(), '42P01', 'relation "teams" does not exist');
ALTER TABLE morgenmigrate.migration_errors ENABLE ROW LEVEL SECURITY;
CREATE POLICY hide_all ON morgenmigrate.migration_errors FOR SELECT USING (false);
SET ROLE mm_history_reader;
SELECT filename, state, error FROM morgenmigrate.migrate_status(:'dir')
 WHERE filename = '10_seed_teams.sql';
RESET ROLE;
SELECT filename, state, error FROM morgenmigrate.migrate_status(:'dir')
 WHERE filename = '10_seed_teams.sql';
DELETE FROM morgenmigrate.migration_errors;
DROP POLICY hide_all ON morgenmigrate.migration_errors;
ALTER TABLE morgenmigrate.migration_errors DISABLE ROW LEVEL SECURITY;
DROP POLICY hide_first ON morgenmigrate.schema_migrations;
ALTER TABLE morgenmigrate.schema_migrations DISABLE ROW LEVEL SECURITY;

-- SELECT on the columns it reads is enough, as for the query
REVOKE SELECT ON morgenmigrate.schema_migrations FROM mm_history_reader;
GRANT SELECT (filename, applied_at, checksum, duration, kind)
   ON morgenmigrate.schema_migrations TO mm_history_reader;
SET ROLE mm_history_reader;
SELECT filename, state FROM morgenmigrate.migrate_status(:'dir');
RESET ROLE;
-- and without it the query's error, nothing changed
REVOKE SELECT ON morgenmigrate.schema_migrations FROM mm_history_reader;
SET ROLE mm_history_reader;
SELECT filename, state FROM morgenmigrate.migrate_status(:'dir');
RESET ROLE;
SELECT filename FROM morgenmigrate.schema_migrations ORDER BY filename;

-- rows of an inheritance child are rows of the history for the query
CREATE TABLE history_reads.more_history () INHERITS (morgenmigrate.schema_migrations);
INSERT INTO history_reads.more_history (filename, applied_at, checksum, duration, applied_by, kind)
SELECT '10_seed_teams.sql', now(),
       encode(sha256(pg_read_binary_file(:'dir' || '/10_seed_teams.sql')), 'hex'),
       '0', current_user, 'baseline';
SELECT filename, state FROM morgenmigrate.migrate_status(:'dir');
SELECT count(*) AS applied FROM morgenmigrate.migrate_apply(:'dir');
DROP TABLE history_reads.more_history;
SELECT filename, state FROM morgenmigrate.migrate_status(:'dir');

-- the call's own transaction: a row deleted in it is gone for the call, a
-- row added in it is there
BEGIN;
DELETE FROM morgenmigrate.schema_migrations WHERE filename = '2_create_members.sql';
SELECT filename, state FROM morgenmigrate.migrate_status(:'dir');
ROLLBACK;
BEGIN;
SELECT morgenmigrate.migrate_baseline(:'dir');
SELECT filename, state FROM morgenmigrate.migrate_status(:'dir');
ROLLBACK;
SELECT filename, state FROM morgenmigrate.migrate_status(:'dir');

SET client_min_messages = warning;
DROP SCHEMA history_reads CASCADE;
DROP EXTENSION morgenmigrate;
REVOKE pg_read_server_files FROM mm_history_reader;
DROP OWNED BY mm_history_reader;
DROP ROLE mm_history_reader;
