-- Flyway's directory rules, as docs/layouts.md lists them: which files are
-- migrations, versions and order, repeatables, undo migrations and their
-- pairing by version, script config files, placeholders, transactions and
-- what a rollback runs.  Each case is a directory of its own under
-- layout_flyway/; a refusal is checked by its SQLSTATE, by the file it names
-- and by the database and history being as they were.
-- (More of Flyway: sql/layouts.sql.)
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA layout_flyway_test;
SET search_path = layout_flyway_test;
\set VERBOSITY terse
SET client_min_messages = warning;
\set base '@fixtures@/layout_flyway'
\i sql/include/layout_helpers.sql

-- versions compare as numbers part by part (1.1 < 1.2 < 1.10 < 2 < 3 < 10),
-- "_" reads as ".", the description may be left out, the suffix is matched
-- in any case; repeatables come after every versioned migration, by
-- description; other files are not read
SELECT filename, version, kind
  FROM morgenmigrate.migrate_layout(:'base' || '/order');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/order');
SELECT * FROM state();
SELECT reset();

-- an undo migration undoes the versioned migration of the same version, as
-- a version, not as text: U1.0 undoes V1, U002 undoes V2
SELECT filename, version, down
  FROM morgenmigrate.migrate_layout(:'base' || '/undo_by_value');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/undo_by_value');
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/undo_by_value');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/undo_by_value');
SELECT * FROM state();
SELECT reset();

-- an undo migration's own .sql.conf: executeInTransaction=false runs the
-- undo outside a transaction
SELECT filename, version, down, in_transaction
  FROM morgenmigrate.migrate_layout(:'base' || '/undo_conf');
CALL morgenmigrate.migrate_run(:'base' || '/undo_conf');
SELECT * FROM refusal(format('SELECT * FROM morgenmigrate.migrate_rollback(%L)',
                             :'base' || '/undo_conf'), 'what_index.sql');
CALL morgenmigrate.migrate_run_rollback(:'base' || '/undo_conf');
SELECT * FROM state();
SELECT to_regclass('layout_log_what') IS NULL AS index_dropped;
SELECT reset();

-- a .sql.conf whose script is gone is read by nobody: Flyway does not see it
SELECT filename, in_transaction
  FROM morgenmigrate.migrate_layout(:'base' || '/orphan_conf');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/orphan_conf');
SELECT reset();

-- placeholderReplacement=false: the script runs as written, "${...}" and all
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/placeholder_off');
SELECT * FROM state();
SELECT reset();

-- a script's config file is found whatever the case of its name, and it is
-- a Java properties file: "key value" and "key: value" set a key too
SELECT filename, in_transaction
  FROM morgenmigrate.migrate_layout(:'base' || '/conf_case');
SELECT filename, in_transaction
  FROM morgenmigrate.migrate_layout(:'base' || '/conf_properties');

-- a repeatable migration runs again when its text changes as Flyway sees
-- it: line breaks and blank lines are no change
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/repeatable_lines/first');
SELECT filename, state FROM morgenmigrate.migrate_status(:'base' || '/repeatable_lines/second');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/repeatable_lines/second');
SELECT * FROM state();
SELECT reset();

-- a script migration (V2__backfill.sh) is a migration only Flyway can run:
-- it is listed as external, and nothing runs past it
SELECT filename, version, kind
  FROM morgenmigrate.migrate_layout(:'base' || '/script_migration');
SELECT * FROM refusal(format('SELECT * FROM morgenmigrate.migrate_apply(%L)',
                             :'base' || '/script_migration'), 'V2__backfill.sh');
SELECT reset();

-- refused before anything runs, nothing recorded or created:
-- a placeholder, which Flyway replaces and the server cannot; two
-- repeatables of one description; a script with statements that need a
-- transaction beside one that cannot have one, which Flyway refuses; a name
-- Flyway skips without a word (one underscore); a callback, which Flyway
-- runs around every migrate; a baseline migration
SELECT d AS dir, r.*
  FROM (VALUES ('placeholder', 'V2__placeholder.sql'),
               ('duplicate_repeatable', 'R__a'),
               ('mixed_transaction', 'V1__create_log.sql'),
               ('misnamed', 'V2_one_underscore.sql'),
               ('callback', 'afterMigrate.sql'),
               ('baseline', 'B2__baseline.sql')) AS c(d, f),
       LATERAL refused(:'base' || '/' || d, f) AS r;
-- migrate_run, which runs a file without a transaction statement by
-- statement, refuses the mixed script too
\set VERBOSITY sqlstate
CALL morgenmigrate.migrate_run(:'base' || '/mixed_transaction');
\set VERBOSITY terse
SELECT * FROM state();

DROP SCHEMA layout_flyway_test CASCADE;
DROP EXTENSION morgenmigrate;
