--
-- Deferred constraints are checked at the end of each file, before the file
-- counts as applied or rehearsed, and the failure names the file
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA deferred_test;
SET search_path = deferred_test;

-- atomic: the error names 003, and nothing of the call stays
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/deferred');
SELECT to_regclass('parents') AS parents, count(*) AS history
  FROM morgenmigrate.schema_migrations;

-- a rehearsal reports the failing file instead of "rehearsed"
SELECT filename, status, statements
  FROM morgenmigrate.migrate_apply('@fixtures@/deferred', dry_run => true);
SELECT filename, status, statements
  FROM morgenmigrate.migrate_apply('@fixtures@/deferred', dry_run => true,
                                   atomic => false);
SELECT to_regclass('parents') AS parents, count(*) AS history
  FROM morgenmigrate.schema_migrations;

-- non-atomic: 001 and 002 stay applied (a later file still gets deferred
-- checks at its own end), 003 is the failure, and the commit succeeds
SELECT filename, status, statements
  FROM morgenmigrate.migrate_apply('@fixtures@/deferred', atomic => false);
SELECT filename FROM morgenmigrate.schema_migrations ORDER BY filename;
SELECT filename, sqlstate, message, line FROM morgenmigrate.migration_errors;
SELECT * FROM kids ORDER BY parent_id;
SELECT to_regclass('deferred_after') AS deferred_after;

-- migrate_run: the failure is recorded and raised with the file's name
TRUNCATE morgenmigrate.schema_migrations, morgenmigrate.migration_errors;
DROP TABLE IF EXISTS kids, parents;
CALL morgenmigrate.migrate_run('@fixtures@/deferred');
SELECT filename FROM morgenmigrate.schema_migrations ORDER BY filename;
SELECT filename, sqlstate, message, line FROM morgenmigrate.migration_errors;
SELECT * FROM kids ORDER BY parent_id;
SELECT to_regclass('deferred_after') AS deferred_after;

-- a constraint made deferrable by a file, in a session that found no
-- deferrable trigger in the database when it began: still checked at the
-- end of that file
TRUNCATE morgenmigrate.schema_migrations, morgenmigrate.migration_errors;
DROP TABLE kids, parents;
\c
SET search_path = deferred_test;
SELECT count(*) AS deferrable_triggers FROM pg_trigger WHERE tgdeferrable;
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/deferred_later');
SELECT to_regclass('later_parents') AS later_parents, to_regclass('later_after') AS later_after;

SET client_min_messages = warning;
DROP SCHEMA deferred_test CASCADE;
DROP EXTENSION morgenmigrate;
