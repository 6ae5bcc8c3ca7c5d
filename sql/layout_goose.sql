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

-- refused before anything runs, nothing recorded or created:
-- a *.sql file without a version (goose refuses the directory), version 0,
-- a version written with a sign, two files of one version (1 and 01), a
-- byte-order mark before the up annotation (goose reads it as SQL before
-- "-- +goose Up"), a statement after an empty statement block (goose drops
-- it), and a line-ending semicolon inside a string literal (goose would
-- send half a statement)
SELECT d AS dir, r.*
  FROM (VALUES ('non_numeric', 'seed.sql'),
               ('version_zero', '0_create_log.sql'),
               ('signed_version', '+2_signed.sql'),
               ('duplicate_version', '01_also_one.sql'),
               ('bom', '1_create_log.sql'),
               ('empty_block', '1_create_log.sql'),
               ('split_inside_literal', '1_create_log.sql')) AS c(d, f),
       LATERAL refused(:'base' || '/' || d, f) AS r;

DROP SCHEMA layout_goose_test CASCADE;
DROP EXTENSION morgenmigrate;
