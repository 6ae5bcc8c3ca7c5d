-- postgrator's directory rules, as docs/layouts.md lists them: which files
-- are migrations, versions and order, files run in one batch, other
-- runners' markers, and what a rollback runs.  Each case is a directory of
-- its own under layout_postgrator/; a refusal is checked by its SQLSTATE,
-- by the file it names and by the database and history being as they
-- were.  (More of postgrator: sql/layouts.sql.)
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA layout_postgrator_test;
SET search_path = layout_postgrator_test;
\set VERBOSITY terse
SET client_min_messages = warning;
\set base '@fixtures@/layout_postgrator'

\i sql/include/layout_helpers.sql

-- the version is the text before the first dot as JavaScript's Number()
-- reads it (001 is 1, 1e1 is 10, 0x0C is 12), in numeric order; a name
-- whose version is no number is skipped, as postgrator skips it; a
-- rollback takes the highest version first
SELECT filename, layout, version, kind, down, why
  FROM morgenmigrate.migrate_layout(:'base' || '/versions');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/versions');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/versions');
SELECT * FROM state();
SELECT reset();

-- a directory of names postgrator skips is postgrator's all the same, and
-- nothing of it runs, whether its layout is detected or set
SELECT filename, layout, kind FROM morgenmigrate.migrate_layout(:'base' || '/skipped_only');
SET morgenmigrate.layout = 'postgrator';
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/skipped_only');
RESET morgenmigrate.layout;
SELECT * FROM state();

-- subdirectories postgrator lists but does not read, as their names do not
-- end in .sql, .js, .cjs or .mjs with that case (notes, old.SQL), or which
-- it does not list (.hidden.sql), are ignored, and the rest applies
SELECT filename, kind, why FROM morgenmigrate.migrate_layout(:'base' || '/other_subdirs');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/other_subdirs');
SELECT * FROM state();
SELECT reset();

-- rolling back a version without an undo file is refused: postgrator runs
-- nothing and keeps the version recorded, so its database stays there
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/versions', target => '10');
SELECT * FROM refusal(format('SELECT * FROM morgenmigrate.migrate_rollback(%L)',
                             :'base' || '/versions'), '1e1.do.ten.sql');
SELECT reset();

-- other runners' markers are comments in postgrator's files, which
-- postgrator runs whole: a lone -- migrate:down, a -- +goose Down before
-- any -- +goose Up, a comment that reads like node-pg-migrate's marker
SELECT filename, layout, up, down
  FROM morgenmigrate.migrate_layout(:'base' || '/markers');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/markers');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/markers');
SELECT * FROM state();
SELECT reset();

-- postgrator sends a file in one batch, which the server runs as one
-- transaction: CREATE INDEX CONCURRENTLY beside other statements is
-- refused before anything runs; alone, it runs outside any transaction
SELECT * FROM refused(:'base' || '/batch', '2.do.index.sql');
\set VERBOSITY sqlstate
CALL morgenmigrate.migrate_run(:'base' || '/batch');
\set VERBOSITY terse
SELECT * FROM state();
SELECT filename, in_transaction, runs
  FROM morgenmigrate.migrate_layout(:'base' || '/concurrently_alone');
CALL morgenmigrate.migrate_run(:'base' || '/concurrently_alone');
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index
 WHERE indrelid = 'layout_log'::regclass AND NOT indisprimary;
SELECT reset();

-- a byte-order mark in an undo file, which postgrator sends to the server:
-- the do file applies, the rollback is refused with nothing changed
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/bom_undo');
SELECT * FROM refusal(format('SELECT * FROM morgenmigrate.migrate_rollback(%L)',
                             :'base' || '/bom_undo'), '1.undo.create-log.sql');
SELECT reset();

-- JavaScript migrations only postgrator can run; a JavaScript undo file too
SELECT filename, version, kind, down, why
  FROM morgenmigrate.migrate_layout(:'base' || '/scripts');

-- an SQL undo file undoes the JavaScript do file of its version, as
-- postgrator pairs them by version: once the JavaScript migration is run by
-- postgrator and recorded, the rollback runs the undo file
SELECT filename, kind, down
  FROM morgenmigrate.migrate_layout(:'base' || '/script_sql_undo');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/script_sql_undo', target => '1');
SELECT morgenmigrate.migrate_baseline(:'base' || '/script_sql_undo', target => '2');
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/script_sql_undo');
SELECT * FROM state();
SELECT reset();

-- versions beyond 2^53 - 1 that JavaScript reads and writes back as they
-- are (17 digits of a UTC time to the millisecond, 20240101120000000, held
-- exactly by a double): postgrator runs and records them, and so does
-- morgenmigrate; the rollback runs the undo file of the highest
SELECT filename, version, down
  FROM morgenmigrate.migrate_layout(:'base' || '/big_versions');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/big_versions');
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/big_versions');
SELECT * FROM state();
SELECT reset();

-- refused before anything runs, nothing recorded or created: a byte-order
-- mark (postgrator sends it to the server, which fails on it), two files
-- of one version (10 and 1e1), names postgrator reads but never runs (version
-- 0, the action DO, 5.0.do.x.sql whose action is "0"), names postgrator
-- would run and then record under another version or fail to record (a
-- fraction, a version beyond 2^53 - 1 that JavaScript reads or writes back
-- as another number, a quote in the name), an undo file
-- without its do file, a JavaScript one too (postgrator would run it when
-- it rolls back past it),
-- a file that is a goose migration (postgrator would run its down section
-- too), a directory named as a .sql or JavaScript file, named as a
-- migration or not, and a link to a directory so named (postgrator reads
-- every such entry and fails on it before anything runs), and two undo
-- files of one version, a JavaScript one among them (postgrator refuses
-- two of one version and action, whatever their extension, before anything
-- runs)
SELECT d AS dir, r.*
  FROM (VALUES ('bom', '1.do.create-log.sql'),
               ('duplicate_version', '1e1.do.b.sql'),
               ('zero', '000.do.zero.sql'),
               ('action_case', '3.DO.shout.sql'),
               ('dotted_version', '5.0.do.five.sql'),
               ('fraction', '5e-1.do.half.sql'),
               ('too_large', '9007199254740993.do.big.sql'),
               ('too_large_17', '20240101120000001.do.odd-millisecond.sql'),
               ('quote', '2.do.it''s.sql'),
               ('orphan_undo', '2.undo.gone.sql'),
               ('orphan_script_undo', '2.undo.gone.cjs'),
               ('goose_file', '2.do.goose.sql'),
               ('sql_subdir', '2.do.subdir.sql'),
               ('script_subdir', 'helpers.mjs'),
               ('link_to_dir', '2.do.linked.sql'),
               ('script_undo_twice', '01.undo.create-log.cjs'),
               ('scripts_undo_twice', '2.undo.backfill.mjs')) AS c(d, f),
       LATERAL refused(:'base' || '/' || d, f) AS r;
-- the refusal of a directory named as a file says why
\set VERBOSITY default
SELECT * FROM morgenmigrate.migrate_status(:'base' || '/sql_subdir');
SELECT * FROM morgenmigrate.migrate_status(:'base' || '/script_undo_twice');
SELECT * FROM morgenmigrate.migrate_status(:'base' || '/link_to_dir');
\set VERBOSITY terse

-- a link to a directory of another name is skipped, as postgrator skips it
-- (its extension is none of .sql, .js, .cjs and .mjs)
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/link_to_other');
SELECT * FROM state();
SELECT reset();

DROP SCHEMA layout_postgrator_test CASCADE;
DROP EXTENSION morgenmigrate;
