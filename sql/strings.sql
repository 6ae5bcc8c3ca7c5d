--
-- standard_conforming_strings decides where a statement ends: what the
-- preflight split and checked must be exactly what runs, so a file may not
-- change it
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA strings_test;
SET search_path = strings_test;
CREATE TABLE victim (id int);
SET standard_conforming_strings = off;
SET escape_string_warning = off;

-- a SET of it is refused by the preflight, before anything runs
SELECT filename, status FROM morgenmigrate.migrate_apply('@fixtures@/strings/set');
CALL morgenmigrate.migrate_run('@fixtures@/strings/set');
SELECT to_regclass('victim') AS victim, count(*) AS history
  FROM morgenmigrate.schema_migrations;
TRUNCATE morgenmigrate.schema_migrations;

-- a change the preflight cannot see (set_config) stops the file before its
-- next statement runs
SELECT filename, status FROM morgenmigrate.migrate_apply('@fixtures@/strings/set_config');
SELECT to_regclass('victim') AS victim, count(*) AS history
  FROM morgenmigrate.schema_migrations;
SHOW standard_conforming_strings;
CALL morgenmigrate.migrate_run('@fixtures@/strings/set_config');
SELECT to_regclass('victim') AS victim, count(*) AS history
  FROM morgenmigrate.schema_migrations;
SELECT filename, sqlstate, line FROM morgenmigrate.migration_errors;
SHOW standard_conforming_strings;
TRUNCATE morgenmigrate.schema_migrations, morgenmigrate.migration_errors;

-- and in a file run statement by statement
CALL morgenmigrate.migrate_run('@fixtures@/strings/steps');
SELECT to_regclass('victim') AS victim, count(*) AS history
  FROM morgenmigrate.schema_migrations;
SELECT filename, sqlstate, line FROM morgenmigrate.migration_errors;
SHOW standard_conforming_strings;

RESET standard_conforming_strings;
RESET escape_string_warning;
SET client_min_messages = warning;
DROP SCHEMA strings_test CASCADE;
DROP EXTENSION morgenmigrate;
