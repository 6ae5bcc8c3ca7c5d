-- dbmate's directory rules, as docs/layouts.md lists them: which files are
-- migrations, versions and order, markers, sections run without a
-- transaction, other runners' markers, and what a rollback runs.  Each case
-- is a directory of its own under layout_dbmate/; a refusal is checked by
-- its SQLSTATE, by the file it names and by the database and history being
-- as they were.  (More of dbmate: sql/layouts.sql.)
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA layout_dbmate_test;
SET search_path = layout_dbmate_test;
\set VERBOSITY terse
SET client_min_messages = warning;
\set base '@fixtures@/layout_dbmate'

\i sql/include/layout_helpers.sql

-- a migration is a file whose name starts with digits and ends in .sql,
-- NAME.down.sql too; its version is the digits as written; the order is
-- the names' bytes (10 before 20 before 9); seed.sql, README.md and the
-- subdirectory are not read.  A rollback takes the last applied migration
-- in that order.
SELECT filename, layout, version, kind, why
  FROM morgenmigrate.migrate_layout(:'base' || '/order');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/order');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/order');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/order', target => 'base');
SELECT * FROM state();
SELECT reset();

-- a directory of NAME.down.sql files alone is dbmate's when they carry its
-- markers: each is a migration
SELECT filename, layout, version, kind
  FROM morgenmigrate.migrate_layout(:'base' || '/down_names');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/down_names');
SELECT * FROM state();
SELECT reset();

-- 1 and 01 are two versions, and a target names a version as written
SELECT filename, version FROM morgenmigrate.migrate_layout(:'base' || '/versions');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/versions', target => '01');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/versions', target => '1');
SELECT * FROM state();
SELECT reset();

-- a version of any length: dbmate's history keeps it in a varchar without
-- a length on PostgreSQL, so a version of 129 digits, longer than the
-- varchar(128) of dbmate before 2.27, applies and rolls back as any other
SELECT length(version) FROM morgenmigrate.migrate_layout(:'base' || '/long_version');
SELECT left(filename, 20) AS filename, status FROM morgenmigrate.migrate_apply(:'base' || '/long_version');
SELECT * FROM state();
SELECT left(filename, 20) AS filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/long_version');
SELECT * FROM state();
SELECT reset();

-- the last applied in the order of the names, not the last to run: 10_late
-- sorts before 2_step, and dbmate rolls back 2_step
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/rollback_order/first');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/rollback_order/second');
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/rollback_order/second');
SELECT * FROM state();
SELECT reset();

-- transaction:false: dbmate sends the section in one batch, which the
-- server runs as one transaction: when its second statement fails, the
-- first is not committed either; migrate_apply's refusal says so
\set VERBOSITY default
SELECT * FROM morgenmigrate.migrate_apply(:'base' || '/no_transaction_batch');
\set VERBOSITY terse
SELECT filename, in_transaction, runs
  FROM morgenmigrate.migrate_layout(:'base' || '/no_transaction_batch');
CALL morgenmigrate.migrate_run(:'base' || '/no_transaction_batch');
SELECT * FROM state();
SELECT filename, state FROM morgenmigrate.migrate_status(:'base' || '/no_transaction_batch');
SELECT reset();

-- ... so such a section cannot hold CREATE INDEX CONCURRENTLY beside other
-- statements (refused before anything runs); alone, it runs outside any
-- transaction
SELECT * FROM refused(:'base' || '/no_transaction_concurrently', '2_index.sql');
\set VERBOSITY sqlstate
CALL morgenmigrate.migrate_run(:'base' || '/no_transaction_concurrently');
\set VERBOSITY terse
SELECT * FROM state();
CALL morgenmigrate.migrate_run(:'base' || '/concurrently_alone');
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index
 WHERE indrelid = 'layout_log'::regclass AND NOT indisprimary;
SELECT reset();

-- a section without transaction:false (transaction:FALSE is not it) runs
-- in dbmate's transaction, where CREATE INDEX CONCURRENTLY fails: refused
-- by migrate_apply and migrate_run alike, with nothing changed
\set VERBOSITY default
SELECT * FROM morgenmigrate.migrate_apply(:'base' || '/concurrently_in_transaction');
CALL morgenmigrate.migrate_run(:'base' || '/concurrently_in_transaction');
\set VERBOSITY terse
SELECT * FROM state();
SELECT reset();

-- other runners' markers are comments in a dbmate file, as dbmate reads
-- them: goose's and sql-migrate's in comments, string literals and block
-- comments, node-pg-migrate's; the file runs as dbmate runs it
SELECT filename, layout, up, down
  FROM morgenmigrate.migrate_layout(:'base' || '/other_markers');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/other_markers');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/other_markers');
SELECT * FROM state();
SELECT reset();

-- while the layout is being detected, a file whose markers make a
-- migration of dbmate and one of sql-migrate (a -- +migrate Up in a block
-- comment) is the runner's the other files are for; alone, it is refused
SELECT filename, layout, up, down
  FROM morgenmigrate.migrate_layout(:'base' || '/ambiguous');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/ambiguous');
SELECT * FROM state();
SELECT reset();
\set VERBOSITY default
SELECT * FROM morgenmigrate.migrate_layout(:'base' || '/ambiguous_alone');
\set VERBOSITY terse
SELECT * FROM refused(:'base' || '/ambiguous_alone', '1_create_log.sql');

-- a marker whose "--" and "migrate:down" stand on two lines is a marker to
-- dbmate, which sends its second line to the server: the up section ends
-- before it, and the rollback is refused with nothing changed
SELECT filename, up, down
  FROM morgenmigrate.migrate_layout(:'base' || '/split_marker');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/split_marker');
SELECT * FROM refusal(format('SELECT * FROM morgenmigrate.migrate_rollback(%L)',
                             :'base' || '/split_marker'), '1_create_log.sql');
SELECT reset();

-- dbmate's lines end at LF alone, the server's comments at a carriage
-- return too: after "-- migrate:up" and a lone carriage return, the rest
-- of the line runs with the up section, as dbmate sends it, and after
-- "-- migrate:down" with the down section
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/cr_marker');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/cr_marker');
SELECT * FROM state();
SELECT reset();

-- a carriage return between "--" and "migrate:up" leaves "migrate:up" to
-- the server, which fails on it where dbmate sends it: refused before
-- anything runs, nothing recorded or created
\set VERBOSITY default
SELECT * FROM morgenmigrate.migrate_layout(:'base' || '/cr_in_marker');
\set VERBOSITY terse
SELECT * FROM refused(:'base' || '/cr_in_marker', '2_cr_in_marker.sql');

-- a down marker before the up marker is one more comment to dbmate
SELECT filename, up, down
  FROM morgenmigrate.migrate_layout(:'base' || '/down_before_up');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/down_before_up');
SELECT * FROM state();
SELECT reset();

-- refused before anything runs, nothing recorded or created: two files of
-- one version (dbmate would run the second and fail to record it), a
-- byte-order mark (dbmate reads it as a statement before -- migrate:up), a
-- file without -- migrate:up, a file whose only markers are misspelt
-- (dbmate finds no up section; as plain SQL its down part would run too),
-- a file whose only markers are goose's, and a link to a directory named
-- as a migration (dbmate lists it as a file, and fails on it when it comes
-- to run it)
SELECT d AS dir, r.*
  FROM (VALUES ('duplicate_version', '1_step.sql'),
               ('bom', '1_create_log.sql'),
               ('no_up', '1_create_log.sql'),
               ('misspelt', '1_create_log.sql'),
               ('foreign_file', '2_goose.sql'),
               ('link_to_dir', '2_linked.sql')) AS c(d, f),
       LATERAL refused(:'base' || '/' || d, f) AS r;

-- a link to a directory of another name is skipped, as dbmate skips it
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/link_to_other');
SELECT * FROM state();
SELECT reset();

DROP SCHEMA layout_dbmate_test CASCADE;
DROP EXTENSION morgenmigrate;
