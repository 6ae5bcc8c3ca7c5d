--
-- target and steps, rollback with down files, and the round trip
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA lifecycle_test;
SET search_path = lifecycle_test;
\set dir '@fixtures@/lifecycle'
-- the directory mixes NAME.sql and NAME.up.sql up files: read as plain (in
-- the automatic layout, .up.sql beside other .sql files is refused, since
-- golang-migrate would skip the other files)
SET morgenmigrate.layout = 'plain';

-- Alembic's "upgrade +1": one file at a time
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir', steps => 1);
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir', steps => 0);
-- "upgrade <rev>": up to a file name, a name without .sql, or a version
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir', target => '002_create_members');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir', target => '3');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir', target => '004_add_team_slug.sql');
-- a target already applied is not an error; an unknown one is, and a
-- negative steps
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir', target => '1');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir', target => '099');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir', steps => -1);
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir', dry_run => NULL);
-- the rest
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir');
SELECT filename, state FROM morgenmigrate.migrate_status(:'dir');

-- "downgrade -1" of a migration without a down file: an error before
-- anything runs
SELECT * FROM morgenmigrate.migrate_rollback(:'dir', steps => 2);
SELECT count(*) AS history FROM morgenmigrate.schema_migrations;
SELECT to_regclass('audit') IS NOT NULL AS audit_kept;

-- without 010, "downgrade -1" runs the newest down file
SELECT morgenmigrate.migrate_forget('010_create_audit.sql');
DROP TABLE audit;
SELECT filename, status, statements FROM morgenmigrate.migrate_rollback(:'dir');
SELECT attname FROM pg_attribute WHERE attrelid = 'teams'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
-- "downgrade <rev>": everything applied after 002 (NAME.up.sql pairs with
-- NAME.down.sql)
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'dir', target => '002');
SELECT count(*) AS teams FROM teams;
SELECT filename FROM morgenmigrate.schema_migrations ORDER BY filename;
-- an unknown target
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'dir', target => '007');

-- a failing down file leaves everything as it was (all or nothing)
INSERT INTO teams VALUES (7, 'x');
CREATE TABLE blocker (team_id int REFERENCES teams (id));
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'dir', target => 'base');
SELECT filename FROM morgenmigrate.schema_migrations ORDER BY filename;
SELECT to_regclass('members') IS NOT NULL AS members, to_regclass('teams') IS NOT NULL AS teams;
DROP TABLE blocker;

-- "downgrade base": everything, newest first
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'dir', target => 'base');
SELECT count(*) AS history FROM morgenmigrate.schema_migrations;
SELECT count(*) AS tables FROM pg_class WHERE relnamespace = 'lifecycle_test'::regnamespace;

-- and up again, the same schema
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir', target => '004');
SELECT attname FROM pg_attribute WHERE attrelid = 'teams'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT * FROM teams ORDER BY id;

-- a version target with two files of that version stops after the last
TRUNCATE morgenmigrate.schema_migrations;
SELECT filename, status FROM morgenmigrate.migrate_apply('@fixtures@/versions', target => '1');
SELECT filename, state FROM morgenmigrate.migrate_status('@fixtures@/versions');

-- a version target names the last file of that version in version order,
-- whatever the order they were applied in: 003_a applied again after 004_c
TRUNCATE morgenmigrate.schema_migrations;
\set dir '@fixtures@/rollback_target'
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir');
SELECT morgenmigrate.migrate_forget('003_a.sql');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'dir');
SELECT filename FROM morgenmigrate.migrate_status() ORDER BY applied_at;
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'dir', target => '3');
SELECT filename FROM morgenmigrate.migrate_status() ORDER BY applied_at;

SET client_min_messages = warning;
DROP SCHEMA lifecycle_test CASCADE;
DROP EXTENSION morgenmigrate;
