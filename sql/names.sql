--
-- File names are recorded as text: a migration whose name is not valid
-- UTF-8 is refused by every function, naming the file by its bytes
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA names_test;
SET search_path = names_test;

SELECT filename, status FROM morgenmigrate.migrate_apply('@fixtures@/badname', atomic => false);
SELECT filename, state FROM morgenmigrate.migrate_status('@fixtures@/badname');
CALL morgenmigrate.migrate_run('@fixtures@/badname');
SELECT morgenmigrate.migrate_baseline('@fixtures@/badname');
\set VERBOSITY sqlstate
SELECT filename FROM morgenmigrate.migrate_apply('@fixtures@/badname');
\set VERBOSITY default
-- nothing ran, nothing was recorded
SELECT to_regclass('badname_first') AS first, to_regclass('badname_ran') AS ran,
       count(*) AS history
  FROM morgenmigrate.schema_migrations;

SET client_min_messages = warning;
DROP SCHEMA names_test CASCADE;
DROP EXTENSION morgenmigrate;
