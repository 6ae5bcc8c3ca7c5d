--
-- Directive comments at the top of a file set limits for that file alone
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA directives_test;
SET search_path = directives_test;
SET lock_timeout = '42s';

-- lock_timeout=5s holds in 001 only; 002, without a directive, gets
-- morgenmigrate.lock_timeout (100ms by default); the caller sees 42s again
SHOW morgenmigrate.lock_timeout;
SHOW morgenmigrate.lock_retries;
SELECT filename, status FROM morgenmigrate.migrate_apply('@fixtures@/directives/limits');
SELECT * FROM limits_seen ORDER BY file;
SHOW lock_timeout;
TRUNCATE morgenmigrate.schema_migrations;
DROP TABLE limits_seen;

-- the setting changes what a file without a directive gets, never what a
-- directive says
SET morgenmigrate.lock_timeout = '2s';
SELECT filename, status FROM morgenmigrate.migrate_apply('@fixtures@/directives/limits');
SELECT * FROM limits_seen ORDER BY file;
TRUNCATE morgenmigrate.schema_migrations;
DROP TABLE limits_seen;

-- 0 leaves the caller's lock_timeout in force for such a file
SET morgenmigrate.lock_timeout = 0;
SELECT filename, status FROM morgenmigrate.migrate_apply('@fixtures@/directives/limits');
SELECT * FROM limits_seen ORDER BY file;
SHOW lock_timeout;
TRUNCATE morgenmigrate.schema_migrations;
RESET morgenmigrate.lock_timeout;

-- out-of-range values are refused by the setting itself (the message of a
-- duration's range differs between PostgreSQL versions: the SQLSTATE only)
\set VERBOSITY sqlstate
SET morgenmigrate.lock_timeout = -1;
\set VERBOSITY default
SET morgenmigrate.lock_retries = 101;
SET morgenmigrate.lock_retries = -1;
SHOW morgenmigrate.lock_timeout;
SHOW morgenmigrate.lock_retries;

-- statement_timeout=200ms limits the whole file: the error is the server's
-- own, with the file and line
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/directives/timeout');
SELECT to_regclass('after_slow') AS after_slow;
-- in non-atomic mode that is the file's failure, recorded like any other
SELECT filename, status, statements
  FROM morgenmigrate.migrate_apply('@fixtures@/directives/timeout', atomic => false);
SELECT filename, sqlstate, message, line FROM morgenmigrate.migration_errors;
-- and the caller's own statement_timeout is back in force afterwards
SET statement_timeout = '150ms';
SELECT pg_sleep(1);
RESET statement_timeout;

-- a directive comment after the first statement is only a comment: the
-- file gets morgenmigrate.lock_timeout
TRUNCATE morgenmigrate.schema_migrations, morgenmigrate.migration_errors;
SELECT filename, status FROM morgenmigrate.migrate_apply('@fixtures@/directives/late');
SELECT * FROM late;

-- an unknown directive or a bad value is a preflight error naming the line
TRUNCATE morgenmigrate.schema_migrations, morgenmigrate.migration_errors;
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/directives/unknown');
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/directives/bad_value');
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/directives/bad_retries');
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/directives/no_value');
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/directives/rewrite_value');
SELECT count(*) AS history FROM morgenmigrate.schema_migrations;
SELECT relname FROM pg_class
 WHERE relname IN ('typo', 'bad_value', 'bad_retries', 'no_value', 'rewrite_value');

SET client_min_messages = warning;
DROP SCHEMA directives_test CASCADE;
DROP EXTENSION morgenmigrate;
