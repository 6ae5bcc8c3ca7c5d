-- Other runners' migration directories, read as their runners define them:
-- what is read (migrate_layout), order, sections, statement blocks,
-- no-transaction files, down migrations, status, and the refusal of
-- malformed and mixed directories with nothing changed.
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA layouts_test;
SET search_path = layouts_test;
\set VERBOSITY terse
SET client_min_messages = notice;
\set base '@fixtures@/layouts'

-- goose: sections, case-insensitive annotations, a statement block without
-- its semicolon, NO TRANSACTION before or after Up
SELECT filename, layout, version, kind, up, down, in_transaction, runs
  FROM morgenmigrate.migrate_layout(:'base' || '/goose');
-- migrate_apply refuses the no-transaction files in its preflight, nothing runs
\set VERBOSITY default
SELECT * FROM morgenmigrate.migrate_apply(:'base' || '/goose');
\set VERBOSITY terse
SELECT count(*) AS history FROM morgenmigrate.schema_migrations;
SELECT to_regclass('goose_accounts') IS NULL AS nothing_created;
-- a rehearsal rehearses what runs in a transaction, and says which it cannot
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/goose', dry_run => true);
SELECT to_regclass('goose_accounts') IS NULL AS nothing_created;
-- up to the last transactional file: the down sections do not run
SELECT filename, status, statements
  FROM morgenmigrate.migrate_apply(:'base' || '/goose', target => '4');
SELECT column_name FROM information_schema.columns
 WHERE table_name = 'goose_accounts' ORDER BY ordinal_position;
-- the enum value added and used in one NO TRANSACTION file, the index built
-- concurrently: migrate_run
CALL morgenmigrate.migrate_run(:'base' || '/goose');
SELECT name, status, mood FROM goose_accounts;
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index
 WHERE indrelid = 'goose_accounts'::regclass ORDER BY 1;
SELECT filename, state FROM morgenmigrate.migrate_status(:'base' || '/goose');
-- a down section with DROP INDEX CONCURRENTLY: migrate_rollback refuses,
-- naming the procedure that runs it
\set VERBOSITY default
SELECT * FROM morgenmigrate.migrate_rollback(:'base' || '/goose');
\set VERBOSITY terse
CALL morgenmigrate.migrate_run_rollback(:'base' || '/goose', 2);
SELECT indexrelid::regclass AS index FROM pg_index
 WHERE indrelid = 'goose_accounts'::regclass ORDER BY 1;
SELECT count(*) AS great FROM goose_accounts WHERE mood = 'great';
-- down sections of transactional files
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/goose', target => 'base');
SELECT to_regclass('goose_accounts') IS NULL AS dropped,
       to_regtype('goose_mood') IS NULL AS type_dropped;
SELECT count(*) AS history FROM morgenmigrate.schema_migrations;

-- goose with a Go migration in its sequence: shown as external; apply stops
-- before anything runs, migrate_run applies what comes before it
SELECT filename, state, error FROM morgenmigrate.migrate_status(:'base' || '/goose_go');
SELECT * FROM morgenmigrate.migrate_apply(:'base' || '/goose_go');
SELECT count(*) AS history FROM morgenmigrate.schema_migrations;
CALL morgenmigrate.migrate_run(:'base' || '/goose_go');
SELECT filename, state FROM morgenmigrate.migrate_status(:'base' || '/goose_go');
\set VERBOSITY default
SELECT * FROM morgenmigrate.migrate_check(:'base' || '/goose_go');
CALL morgenmigrate.migrate_run(:'base' || '/goose_go');
\set VERBOSITY terse
-- recorded once goose has run it, the rest applies
SELECT morgenmigrate.migrate_baseline(:'base' || '/goose_go', target => '2');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/goose_go');
SELECT filename, state FROM morgenmigrate.migrate_status(:'base' || '/goose_go');
DROP TABLE goose_go_events;
TRUNCATE morgenmigrate.schema_migrations;

-- dbmate: a section without a final semicolon, transaction:false
SELECT filename, version, up, in_transaction, runs
  FROM morgenmigrate.migrate_layout(:'base' || '/dbmate');
CALL morgenmigrate.migrate_run(:'base' || '/dbmate');
SELECT column_name FROM information_schema.columns
 WHERE table_name = 'dbmate_users' ORDER BY ordinal_position;
SELECT enum_range(NULL::dbmate_role);
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/dbmate', steps => 2);
SELECT column_name FROM information_schema.columns
 WHERE table_name = 'dbmate_users' ORDER BY ordinal_position;
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/dbmate', target => 'base');
TRUNCATE morgenmigrate.schema_migrations;

-- sql-migrate: numeric order (10 after 2), a statement block, notransaction
SELECT filename, version, in_transaction
  FROM morgenmigrate.migrate_layout(:'base' || '/sql_migrate');
CALL morgenmigrate.migrate_run(:'base' || '/sql_migrate');
INSERT INTO sqlm_items VALUES (1, 'one');
SELECT sqlm_label(1);
SELECT filename FROM morgenmigrate.migrate_status() ORDER BY applied_at;
CALL morgenmigrate.migrate_run_rollback(:'base' || '/sql_migrate', target => 'base');
SELECT to_regclass('sqlm_items') IS NULL AS dropped;
TRUNCATE morgenmigrate.schema_migrations;

-- node-pg-migrate: any case, a file without markers is all up
SELECT filename, up, down FROM morgenmigrate.migrate_layout(:'base' || '/node_pg_migrate');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/node_pg_migrate');
SELECT body, author FROM npm_notes;
SELECT * FROM morgenmigrate.migrate_rollback(:'base' || '/node_pg_migrate');
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/node_pg_migrate', steps => 2);
SELECT column_name FROM information_schema.columns
 WHERE table_name = 'npm_notes' ORDER BY ordinal_position;
DROP TABLE npm_notes;
TRUNCATE morgenmigrate.schema_migrations;

-- golang-migrate: numeric order, down files
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/golang_migrate', target => '2');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/golang_migrate');
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/golang_migrate', target => '1');
SELECT column_name FROM information_schema.columns
 WHERE table_name = 'gm_teams' ORDER BY ordinal_position;
DROP TABLE gm_teams;
TRUNCATE morgenmigrate.schema_migrations;

-- Flyway: version order (1 < 1.1 < 2 < 2.1 < 3 < 4 < 10), repeatables last,
-- CREATE INDEX CONCURRENTLY and executeInTransaction=false run in steps
SELECT filename, version, kind, down, in_transaction
  FROM morgenmigrate.migrate_layout(:'base' || '/flyway');
SELECT * FROM morgenmigrate.migrate_apply(:'base' || '/flyway');
CALL morgenmigrate.migrate_run(:'base' || '/flyway');
SELECT filename FROM morgenmigrate.migrate_status() ORDER BY applied_at;
SELECT * FROM fw_order_totals;
SELECT enum_range(NULL::fw_status);
-- a repeatable migration runs again when it changes
SELECT filename, state FROM morgenmigrate.migrate_status(:'base' || '/flyway')
 WHERE filename LIKE 'R%';
UPDATE morgenmigrate.schema_migrations SET checksum = 'edited'
 WHERE filename = 'R__order_totals.sql';
SELECT filename, state FROM morgenmigrate.migrate_status(:'base' || '/flyway')
 WHERE filename LIKE 'R%';
SELECT * FROM morgenmigrate.migrate_check(:'base' || '/flyway');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/flyway');
SELECT filename, state FROM morgenmigrate.migrate_status(:'base' || '/flyway')
 WHERE filename LIKE 'R%';
-- targets are Flyway versions; U files undo, repeatables stay
SELECT * FROM morgenmigrate.migrate_rollback(:'base' || '/flyway', target => '2.1');
CALL morgenmigrate.migrate_run_rollback(:'base' || '/flyway', target => '2.1');
SELECT filename FROM morgenmigrate.migrate_status() ORDER BY applied_at;
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/flyway', target => '2.0');
SELECT column_name FROM information_schema.columns
 WHERE table_name = 'fw_lines' ORDER BY ordinal_position;
-- a down migration that fails leaves everything as it was
\set VERBOSITY default
SELECT * FROM morgenmigrate.migrate_rollback(:'base' || '/flyway', target => '1.1');
\set VERBOSITY terse
SELECT filename FROM morgenmigrate.migrate_status() ORDER BY applied_at;
DROP VIEW fw_order_totals;
DROP TABLE fw_lines, fw_orders;
TRUNCATE morgenmigrate.schema_migrations;

-- Flyway pairs an undo with its migration by version as a number:
-- U1.0 undoes V1, U02.01.0 undoes V2.1
SELECT filename, version, down
  FROM morgenmigrate.migrate_layout(:'base' || '/flyway_undo_version');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/flyway_undo_version');
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/flyway_undo_version', target => 'base');
SELECT to_regclass('fwu_accounts') IS NULL AS dropped,
       count(*) AS history FROM morgenmigrate.schema_migrations;

-- diesel: one directory per migration, run_in_transaction = false
SELECT filename, version, up, down, in_transaction, runs
  FROM morgenmigrate.migrate_layout(:'base' || '/diesel');
CALL morgenmigrate.migrate_run(:'base' || '/diesel', target => '20200201000000');
SELECT filename FROM morgenmigrate.migrate_status() ORDER BY applied_at;
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index
 WHERE indrelid = 'diesel_posts'::regclass ORDER BY 1;
CALL morgenmigrate.migrate_run_rollback(:'base' || '/diesel', target => 'base');
SELECT to_regclass('diesel_posts') IS NULL AS dropped;
TRUNCATE morgenmigrate.schema_migrations;

-- postgrator: do and undo files, a file of several BEGIN ... COMMIT blocks
SELECT filename, version, down, runs FROM morgenmigrate.migrate_layout(:'base' || '/postgrator');
SELECT filename, status, statements FROM morgenmigrate.migrate_apply(:'base' || '/postgrator');
SELECT * FROM pg_products ORDER BY id;
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/postgrator', target => 'base');
CALL morgenmigrate.migrate_run(:'base' || '/postgrator');
SELECT * FROM pg_products ORDER BY id;
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/postgrator', target => 'base');
TRUNCATE morgenmigrate.schema_migrations;

-- forcing a layout: plain refuses a file with markers
SET morgenmigrate.layout = 'plain';
SELECT * FROM morgenmigrate.migrate_status(:'base' || '/dbmate');
SET morgenmigrate.layout = 'flyway';
SELECT * FROM morgenmigrate.migrate_status(:'base' || '/goose');
SET morgenmigrate.layout = 'goose';
SELECT filename, state FROM morgenmigrate.migrate_status(:'base' || '/goose');
RESET morgenmigrate.layout;

-- malformed and mixed directories: refused before anything runs, with the
-- file and line, and nothing recorded or created (unaligned: some messages
-- name the directory of the fixtures, whose length changes from run to run)
CREATE FUNCTION refused(dir text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM morgenmigrate.migrate_apply(dir);
    RETURN 'applied';
EXCEPTION WHEN OTHERS THEN
    RETURN format('%s: %s', SQLSTATE, SQLERRM);
END
$$;
\pset format unaligned
SELECT d AS dir, refused(:'base' || '/malformed/' || d) AS error,
       to_regclass('malformed_marker') IS NULL AS nothing_created,
       (SELECT count(*) FROM morgenmigrate.schema_migrations) AS history
  FROM unnest(ARRAY['goose_no_up', 'goose_two_down', 'goose_open_block',
                    'goose_no_semicolon', 'goose_unmarked', 'dbmate_no_down',
                    'dbmate_two_down', 'dbmate_sql_first', 'sql_migrate_unknown',
                    'node_down_only', 'mixed_markers', 'mixed_names',
                    'two_runners', 'flyway_conf', 'flyway_same_version',
                    'diesel_no_up', 'flyway_in_goose', 'envsub',
                    'flyway_subdir', 'dbmate_up_names']) AS d;
\pset format aligned
-- with the detail, hint and context line naming the file and line
\set VERBOSITY default
SELECT * FROM morgenmigrate.migrate_status(:'base' || '/malformed/goose_open_block');
SELECT * FROM morgenmigrate.migrate_status(:'base' || '/malformed/mixed_markers');
SELECT * FROM morgenmigrate.migrate_status(:'base' || '/malformed/goose_unmarked');
-- names of golang-migrate with dbmate's markers: the names win, and the
-- hint says how to have dbmate's rules read the directory
SELECT * FROM morgenmigrate.migrate_status(:'base' || '/malformed/dbmate_up_names');
SET morgenmigrate.layout = 'dbmate';
SELECT filename, state FROM morgenmigrate.migrate_status(:'base' || '/malformed/dbmate_up_names');
RESET morgenmigrate.layout;
SELECT * FROM morgenmigrate.migrate_apply(:'base' || '/goose');
\set VERBOSITY terse
DROP FUNCTION refused(text);

SET client_min_messages = warning;
DROP SCHEMA layouts_test CASCADE;
DROP EXTENSION morgenmigrate;
