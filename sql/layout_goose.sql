-- goose's directory rules, as docs/layouts.md lists them: which files are
-- migrations, versions and order, annotations, statement splitting, files
-- without a transaction, and what a rollback runs.  Each case is a directory
-- of its own under layout_goose/; a refusal is checked by its SQLSTATE, by
-- the file it names and by the database and history being as they were.
-- (Malformed annotations, ENVSUB and Go migrations: sql/layouts.sql.)
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA layout_goose_test;
SET search_path = layout_goose_test;
\set VERBOSITY terse
SET client_min_messages = warning;
\set base '@fixtures@/layout_goose'

\i sql/include/layout_helpers.sql

-- versions are the numbers before the first underscore, in numeric order
-- (leading zeros ignored); other files and subdirectories are not read
SELECT filename, layout, version, kind
  FROM morgenmigrate.migrate_layout(:'base' || '/order');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/order');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/order', target => 'base');
SELECT * FROM state();

SELECT reset();

-- annotations: "+goose" is matched with its case, the word after it
-- without; "-- +GOOSE Down" is a comment, so the up section goes on; a
-- statement block may end without a semicolon
SELECT filename, up, down
  FROM morgenmigrate.migrate_layout(:'base' || '/annotations');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/annotations');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/annotations');
SELECT * FROM state();

SELECT reset();

-- an unterminated last statement in the down section: goose parses only
-- the direction it runs, so the up section applies; the rollback is refused
-- with nothing changed
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/down_unterminated');
SELECT * FROM state();
SELECT * FROM refusal(format('SELECT * FROM morgenmigrate.migrate_rollback(%L)',
                             :'base' || '/down_unterminated'), '1_create_log.sql');
SELECT reset();

-- rolling back a file without a down section runs nothing and forgets it,
-- as goose does
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/no_down');
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/no_down');
SELECT * FROM state();
SELECT filename, state FROM morgenmigrate.migrate_status(:'base' || '/no_down');
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/no_down');
SELECT * FROM state();

SELECT reset();

-- NO TRANSACTION: goose sends what lies between two line-ending semicolons
-- in one round trip, which the server runs as one transaction; when it
-- fails, the statements sent before it stay, the ones sent with it do not
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/no_transaction_chunks', target => '1');
CALL morgenmigrate.migrate_run(:'base' || '/no_transaction_chunks');
SELECT * FROM state();
SELECT filename, state FROM morgenmigrate.migrate_status(:'base' || '/no_transaction_chunks');
SELECT reset();

-- ... and such a chunk cannot hold a statement that must run outside a
-- transaction beside others, which the server refuses in goose's round
-- trip: refused before anything runs
SELECT * FROM refusal(format('SELECT * FROM morgenmigrate.migrate_layout(%L)',
                             :'base' || '/chunk_concurrently'), '2_index_and_more.sql');
\set VERBOSITY sqlstate
CALL morgenmigrate.migrate_run(:'base' || '/chunk_concurrently');
\set VERBOSITY terse
SELECT * FROM state();
SELECT reset();

-- *.go files with a version are Go migrations only goose can run; goose
-- skips one of version 0, one without a version and Go test files
SELECT filename, version, kind, why
  FROM morgenmigrate.migrate_layout(:'base' || '/go_names');

-- goose reads hidden files too, as Go's glob matches them: a hidden *.go
-- file has no version goose can read (".2" is no number), and goose skips
-- it, as it skips a file that is no *.sql or *.go file
SELECT filename, version, kind
  FROM morgenmigrate.migrate_layout(:'base' || '/hidden_ignored');

-- refused before anything runs, nothing recorded or created:
-- a *.sql file without a version (goose refuses the directory), version 0,
-- a version written with a sign, two files of one version (1 and 01), a
-- byte-order mark before the up annotation (goose reads it as SQL before
-- "-- +goose Up"), a statement after an empty statement block (goose drops
-- it), and a line-ending semicolon inside a string literal or a BEGIN
-- ATOMIC body (goose would send half a statement); a statement left without
-- its semicolon before a statement block (goose would send it glued to the
-- block), even a comment after a line of blanks (goose keeps it as a
-- statement without its semicolon and refuses the file going up); an
-- annotation inside a statement (goose drops its line from the statement);
-- a NAME.down.sql beside NAME.sql (to goose, a second file of version 1);
-- a hidden *.sql file (goose reads it and refuses the directory: ".2" is no
-- version); a subdirectory named as a migration file (2_subdir.sql/,
-- 2_backfill.go/), which goose lists with the files and fails on, and a
-- link to a directory so named (goose lists it, and fails on it, the same)
SELECT d AS dir, r.*
  FROM (VALUES ('non_numeric', 'seed.sql'),
               ('version_zero', '0_create_log.sql'),
               ('signed_version', '+2_signed.sql'),
               ('duplicate_version', '01_also_one.sql'),
               ('bom', '1_create_log.sql'),
               ('empty_block', '1_create_log.sql'),
               ('split_inside_literal', '1_create_log.sql'),
               ('split_inside_body', '1_create_log.sql'),
               ('merge_before_block', '1_create_log.sql'),
               ('blank_then_comment', '1_create_log.sql'),
               ('annotation_in_statement', '1_create_log.sql'),
               ('down_file', '1_create_log.down.sql'),
               ('hidden_sql', '.2_hidden.sql'),
               ('sql_subdir', '2_subdir.sql'),
               ('go_subdir', '2_backfill.go'),
               ('link_to_dir', '2_linked.sql')) AS c(d, f),
       LATERAL refused(:'base' || '/' || d, f) AS r;
\set VERBOSITY default
SELECT * FROM morgenmigrate.migrate_status(:'base' || '/hidden_sql');
SELECT * FROM morgenmigrate.migrate_status(:'base' || '/sql_subdir');
SELECT * FROM morgenmigrate.migrate_status(:'base' || '/link_to_dir');
\set VERBOSITY terse

-- a link to a directory of another name is skipped, as goose skips it (it
-- lists only *.sql and *.go names)
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/link_to_other');
SELECT * FROM state();
SELECT reset();

DROP SCHEMA layout_goose_test CASCADE;
DROP EXTENSION morgenmigrate;
