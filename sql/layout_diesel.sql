-- diesel's directory rules, as docs/layouts.md lists them: which
-- subdirectories are migrations, versions and order, metadata.toml, empty
-- files, files run in one batch, and what a rollback runs.  Each case is a
-- directory of its own under layout_diesel/; a refusal is checked by its
-- SQLSTATE, by the file it names and by the database and history being as
-- they were.  (More of diesel: sql/layouts.sql.)
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA layout_diesel_test;
SET search_path = layout_diesel_test;
\set VERBOSITY terse
SET client_min_messages = warning;
\set base '@fixtures@/layout_diesel'
\i sql/include/layout_helpers.sql

-- every subdirectory that is not hidden and holds up.sql is a migration,
-- whatever its name: the version is the name up to its first "_" without
-- its dashes, and versions are ordered as text (so "seed" comes last);
-- files beside the directories and hidden directories are not read
SELECT filename, version, down, why
  FROM morgenmigrate.migrate_layout(:'base' || '/names');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/names');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/names', steps => 2);
SELECT * FROM state();
SELECT reset();

-- diesel records a version in a column of 50 characters: a version of 50
-- characters (its dashes do not count, and é is one character) is applied
-- and rolled back as any other
SELECT filename, version
  FROM morgenmigrate.migrate_layout(:'base' || '/version_fifty');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/version_fifty');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/version_fifty');
SELECT * FROM state();
SELECT reset();

-- an empty subdirectory is no migration
SELECT filename, version, kind, why
  FROM morgenmigrate.migrate_layout(:'base' || '/empty_dir');

-- metadata.toml: run_in_transaction = false runs the migration without a
-- transaction; a metadata.toml without the key means false too; other keys
-- are not read, and run_in_transaction under a [table] header is another
-- key
SELECT filename, in_transaction
  FROM morgenmigrate.migrate_layout(:'base' || '/metadata');

-- a missing down.sql is refused when it would run, and so is an empty one;
-- nothing changes
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/no_down');
SELECT * FROM refusal(format('SELECT * FROM morgenmigrate.migrate_rollback(%L)',
                             :'base' || '/no_down'), '2020-01-02-000000_no_down');
SELECT reset();
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/empty_down');
SELECT * FROM refusal(format('SELECT * FROM morgenmigrate.migrate_rollback(%L)',
                             :'base' || '/empty_down'), '2020-01-02-000000_empty_down');
SELECT reset();

-- without a transaction, diesel sends up.sql in one batch, which the server
-- runs as one transaction: a failure commits none of it
SELECT filename, in_transaction, runs
  FROM morgenmigrate.migrate_layout(:'base' || '/no_transaction_batch');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/no_transaction_batch', target => '20200101000000');
CALL morgenmigrate.migrate_run(:'base' || '/no_transaction_batch');
SELECT * FROM state();
SELECT reset();

-- diesel reverts the highest version applied, not the last one applied:
-- 2020-01-02 applied after 2020-01-03 is not the first to go
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/rollback_order/first');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/rollback_order/second');
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/rollback_order/second');
SELECT * FROM state();
SELECT reset();

-- a subdirectory holding up.sql beside migration files of the directory's
-- own is a diesel migration beside another layout's: refused, naming one
-- of each; with a layout of migration files set by hand, the subdirectory
-- is no migration
\set VERBOSITY default
SELECT * FROM morgenmigrate.migrate_status(:'base' || '/flat_with_fixtures');
\set VERBOSITY terse
SELECT * FROM refused(:'base' || '/flat_with_fixtures', 'fixtures');
SET morgenmigrate.layout = 'plain';
SELECT filename, layout, kind, why
  FROM morgenmigrate.migrate_layout(:'base' || '/flat_with_fixtures');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/flat_with_fixtures');
SELECT * FROM state();
SELECT reset();
-- but a directory of diesel migrations alone is not laid out for plain
SELECT * FROM refusal(format('SELECT * FROM morgenmigrate.migrate_status(%L)',
                             :'base' || '/names'), 'layout_diesel/names');
RESET morgenmigrate.layout;

-- refused before anything runs, nothing recorded or created: a non-empty
-- subdirectory without up.sql, which diesel refuses; an empty up.sql, which
-- diesel refuses to run, and one of comments only, which the server
-- answers as an empty query, a failure to diesel; a metadata.toml diesel
-- cannot read (a line that is not TOML, a key set twice), or whose
-- run_in_transaction is no boolean, where diesel falls back to a
-- transaction without a word, and one morgenmigrate does not read (an
-- array); a batch without a transaction that holds CREATE INDEX
-- CONCURRENTLY and more, which the server refuses in diesel's one batch;
-- two directories of one version, of which diesel would drop one without a
-- word; a migration file beside the directories; a version longer than the
-- 50 characters diesel's history holds, which diesel would run and then
-- fail to record
SELECT d AS dir, r.*
  FROM (VALUES ('unknown_dir', 'notes'),
               ('empty_up', '2020-01-02-000000_empty'),
               ('comments_up', '2020-01-02-000000_comments'),
               ('metadata_unparsable', 'metadata.toml'),
               ('metadata_twice', 'metadata.toml'),
               ('metadata_string', 'metadata.toml'),
               ('metadata_array', 'metadata.toml'),
               ('no_transaction_concurrently', '2020-01-02-000000_index_and_more'),
               ('duplicate_version', '20200101000000_b'),
               ('top_level_sql', '001_schema.sql'),
               ('version_too_long', '2020-01-02-000000-café-crème-brûlée-déjà-vu-à-la-carte-reprises_fifty_one')) AS c(d, f),
       LATERAL refused(:'base' || '/' || d, f) AS r;
\set VERBOSITY default
SELECT * FROM morgenmigrate.migrate_status(:'base' || '/version_too_long');
\set VERBOSITY terse
-- migrate_run, which runs a file without a transaction statement by
-- statement, refuses the batch with CREATE INDEX CONCURRENTLY too
\set VERBOSITY sqlstate
CALL morgenmigrate.migrate_run(:'base' || '/no_transaction_concurrently');
\set VERBOSITY terse
SELECT * FROM state();

-- a down.sql without a transaction is one batch too: DROP INDEX
-- CONCURRENTLY among other statements refuses the rollback before
-- anything runs, while an up.sql of CREATE INDEX CONCURRENTLY alone runs
CALL morgenmigrate.migrate_run(:'base' || '/no_transaction_down_batch');
\set VERBOSITY sqlstate
CALL morgenmigrate.migrate_run_rollback(:'base' || '/no_transaction_down_batch');
\set VERBOSITY terse
SELECT * FROM state();
SELECT to_regclass('layout_log_what') IS NOT NULL AS index_kept;
SELECT reset();

DROP SCHEMA layout_diesel_test CASCADE;
DROP EXTENSION morgenmigrate;
