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

-- repeatables run in the order of their descriptions, not of their names,
-- with case: R__Zeta ("Zeta") before R__a_b ("a b"), before R__a.b ("a.b"),
-- which its name puts first, before R__alpha
SELECT filename, kind
  FROM morgenmigrate.migrate_layout(:'base' || '/repeatable_description');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/repeatable_description');
SELECT * FROM state();
SELECT reset();

-- descriptions compare as Java compares strings, by UTF-16 code units: a character above U+FFFF (a surrogate
-- pair) comes before one of U+E000..U+FFFF, which its UTF-8 bytes and its
-- code point put after
SELECT filename, kind
  FROM morgenmigrate.migrate_layout(:'base' || '/repeatable_utf16');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/repeatable_utf16');
SELECT * FROM state();
SELECT reset();

-- a repeatable without a description: R__.sql is one to Flyway, whose
-- description is empty, and runs
SELECT filename, version, kind
  FROM morgenmigrate.migrate_layout(:'base' || '/repeatable_empty_description');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/repeatable_empty_description');
SELECT * FROM state();
SELECT reset();

-- Flyway records a version, as it writes it ("_" as "."), in a column of
-- 50 characters: a version of 50 is applied as any other
SELECT filename, version
  FROM morgenmigrate.migrate_layout(:'base' || '/version_fifty');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/version_fifty');
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
-- and a change of its text is a change: it runs again
SELECT filename, state FROM morgenmigrate.migrate_status(:'base' || '/repeatable_lines/third');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/repeatable_lines/third');
SELECT * FROM state();
SELECT reset();

-- so is an applied versioned migration: other line breaks and line ends
-- (CRLF, CR) are no change, as for Flyway's validation; an edit is
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/versioned_lines/first');
SELECT filename, state FROM morgenmigrate.migrate_status(:'base' || '/versioned_lines/second');
SELECT filename, state FROM morgenmigrate.migrate_status(:'base' || '/versioned_lines/third');
SELECT reset();

-- migrate_adopt compares a repeatable with Flyway's last run of it as
-- Flyway's CRC-32 does, over its lines (a lone CR ends a line too), and
-- what it records compares the same way afterwards: the repeatable Flyway
-- ran is adopted, and applied
CREATE TABLE flyway_schema_history (
    installed_rank int PRIMARY KEY, version varchar(50),
    description varchar(200) NOT NULL, type varchar(20) NOT NULL,
    script varchar(1000) NOT NULL, checksum int,
    installed_by varchar(100) NOT NULL,
    installed_on timestamp NOT NULL DEFAULT now(),
    execution_time int NOT NULL, success boolean NOT NULL);
INSERT INTO flyway_schema_history VALUES
    (1, '1', 'create log', 'SQL', 'V1__create_log.sql', -1719032065, 'app',
     '2024-01-01 09:00', 5, true),
    (2, NULL, 'log', 'SQL', 'R__log.sql', 1315819025, 'app',
     '2024-01-02 09:00', 5, true);
SELECT filename, action
  FROM morgenmigrate.migrate_adopt(:'base' || '/adopt_lines', runner => 'flyway');
SELECT filename, state FROM morgenmigrate.migrate_status(:'base' || '/adopt_lines');
DROP TABLE flyway_schema_history;
SELECT reset();

-- a script migration (V2__backfill.sh) is a migration only Flyway can run:
-- it is listed as external, and nothing runs past it
SELECT filename, version, kind
  FROM morgenmigrate.migrate_layout(:'base' || '/script_migration');
SELECT * FROM refusal(format('SELECT * FROM morgenmigrate.migrate_apply(%L)',
                             :'base' || '/script_migration'), 'V2__backfill.sh');
SELECT reset();

-- so is a file without an extension, and a repeatable script (among the
-- repeatables, by description); a name whose last dot Flyway takes for an
-- extension (V2.5__dotted) is no script, and Flyway reads no Java undo
-- migration from a directory
SELECT filename, version, kind, why
  FROM morgenmigrate.migrate_layout(:'base' || '/script_kinds');

-- a config file named after its script in other letters (v1__x.SQL.conf)
-- is the script's, as Flyway finds it
SELECT filename, in_transaction
  FROM morgenmigrate.migrate_layout(:'base' || '/conf_names');

-- executeInTransaction in a script's config file lets it mix statements:
-- with false, each statement runs on its own
SELECT filename, in_transaction
  FROM morgenmigrate.migrate_layout(:'base' || '/mixed_conf');
CALL morgenmigrate.migrate_run(:'base' || '/mixed_conf');
SELECT * FROM state();
SELECT to_regclass('layout_log_what') IS NOT NULL AS index_built;
SELECT reset();

-- an undo script's placeholders are refused when it would run (in
-- comments too), unless its own config file turns them off
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/placeholder_undo');
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/placeholder_undo');
SELECT * FROM state();
SELECT * FROM refusal(format('SELECT * FROM morgenmigrate.migrate_rollback(%L)',
                             :'base' || '/placeholder_undo'), 'U1__create_log.sql');
SELECT reset();

-- refused before anything runs, nothing recorded or created:
-- a placeholder, which Flyway replaces and the server cannot; two
-- repeatables of one description; a script with statements that need a
-- transaction beside one that cannot have one, which Flyway refuses; names
-- Flyway skips without a word (one underscore; R.sql and a program named R,
-- no longer than their prefix and suffix); a callback, which Flyway runs
-- around every migrate; a baseline migration; a version longer than the
-- 50 characters Flyway's history holds, which Flyway would run and then
-- fail to record
SELECT d AS dir, r.*
  FROM (VALUES ('placeholder', 'V2__placeholder.sql'),
               ('duplicate_repeatable', 'R__a'),
               ('mixed_transaction', 'V1__create_log.sql'),
               ('misnamed', 'V2_one_underscore.sql'),
               ('repeatable_bare', 'R.sql'),
               ('repeatable_bare_script', '"R"'),
               ('callback', 'afterMigrate.sql'),
               ('baseline', 'B2__baseline.sql'),
               ('version_too_long', 'V20240102120000_001_002_003_004_005_006_007_008_0010__fifty_one.sql')) AS c(d, f),
       LATERAL refused(:'base' || '/' || d, f) AS r;
-- the refusals of R.sql and of a version too long say why
\set VERBOSITY default
SELECT * FROM morgenmigrate.migrate_status(:'base' || '/repeatable_bare');
SELECT * FROM morgenmigrate.migrate_status(:'base' || '/version_too_long');
\set VERBOSITY terse
-- migrate_run, which runs a file without a transaction statement by
-- statement, refuses the mixed script too
\set VERBOSITY sqlstate
CALL morgenmigrate.migrate_run(:'base' || '/mixed_transaction');
\set VERBOSITY terse
SELECT * FROM state();

-- refused too: a callback that is a program (afterMigrate.sh); two config
-- files of one script, of which Flyway reads one; a setting Flyway
-- refuses (executeInTransaction=no)
SELECT d AS dir, r.*
  FROM (VALUES ('callback_script', 'afterMigrate.sh'),
               ('two_confs', 'V1__create_log.sql'),
               ('conf_bad_value', 'V1__create_log.sql.conf')) AS c(d, f),
       LATERAL refused(:'base' || '/' || d, f) AS r;

DROP SCHEMA layout_flyway_test CASCADE;
DROP EXTENSION morgenmigrate;
