-- sql-migrate's directory rules, as docs/layouts.md lists them: which files
-- are migrations, their order, commands, statement splitting, what
-- sql-migrate drops from a file, files without a transaction, and what a
-- rollback runs.  Each case is a directory of its own under
-- layout_sql_migrate/; a refusal is checked by its SQLSTATE, by the file it
-- names and by the database and history being as they were.
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA layout_sql_migrate_test;
SET search_path = layout_sql_migrate_test;
\set VERBOSITY terse
SET client_min_messages = warning;
\set base '@fixtures@/layout_sql_migrate'

\i sql/include/layout_helpers.sql

-- every *.sql file (with that case) is a migration, NAME.down.sql too;
-- numeric prefixes as numbers, then names byte by byte (02 before 2),
-- names without a number last; a rollback takes the one that sorts last
SELECT filename, layout, version, kind
  FROM morgenmigrate.migrate_layout(:'base' || '/order');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/order');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/order');
SELECT * FROM state();
SELECT reset();

-- text before Up is not run; "-- " comment lines between statements are
-- dropped by sql-migrate and comments to the server; "--  +migrate Down"
-- (two blanks) is a comment; words after a command are ignored; a block
-- keeps its semicolons; CRLF line ends are line ends
SELECT filename, up, down
  FROM morgenmigrate.migrate_layout(:'base' || '/commands');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/commands');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/commands', target => 'base');
SELECT * FROM state();
SELECT reset();

-- rolling back a file without a Down section runs nothing and forgets it,
-- as sql-migrate does
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/no_down');
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/no_down');
SELECT * FROM state();
SELECT reset();

-- a rollback takes the applied migration that sorts last, not the one
-- applied last: 3 was applied before 2 was added
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/rollback_order_first');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/rollback_order');
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/rollback_order');
SELECT * FROM state();
SELECT reset();

-- a word one byte shorter than 64 kB, with its line end, is one sql-migrate
-- reads: the statement ends at its semicolon, and applies
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/long_word_fits');
SELECT history, length(log) FROM state();
SELECT reset();

-- numeric prefixes of one number (0, 00, 000) run in the order of their
-- whole names, byte by byte, as sql-migrate sorts them: 000_create_log.sql
-- ("0" before "_"), 00_double.sql, 0_single.sql; a rollback takes the last
SELECT filename, version
  FROM morgenmigrate.migrate_layout(:'base' || '/zero_prefix');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/zero_prefix');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/zero_prefix');
SELECT * FROM state();
SELECT reset();

-- notransaction: sql-migrate sends the lines up to one that ends in a
-- semicolon in one round trip, which the server runs as one transaction;
-- when it fails, the chunks sent before it stay, the statements sent with
-- it do not
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/notransaction_chunks', target => '1');
CALL morgenmigrate.migrate_run(:'base' || '/notransaction_chunks');
SELECT * FROM state();
SELECT reset();

-- ... and such a chunk cannot hold a statement that must run outside a
-- transaction beside others, which the server refuses in sql-migrate's
-- round trip: refused before anything runs
SELECT * FROM refusal(format('SELECT * FROM morgenmigrate.migrate_layout(%L)',
                             :'base' || '/chunk_concurrently'), '2_index_and_more.sql');
\set VERBOSITY sqlstate
CALL morgenmigrate.migrate_run(:'base' || '/chunk_concurrently');
\set VERBOSITY terse
SELECT * FROM state();
SELECT reset();

-- a fault in the Down section refuses only the rollback: a line that ends
-- in a semicolon inside a DO body
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/down_split');
SELECT * FROM refusal(format('SELECT * FROM morgenmigrate.migrate_rollback(%L)',
                             :'base' || '/down_split'), '1_create_log.sql');
SELECT reset();

-- refused before anything runs, nothing recorded or created:
-- a "-- " line inside a string (sql-migrate drops it from the string), a
-- CRLF line end inside a string (sql-migrate drops the carriage return);
-- a "-- " line with a statement after a lone carriage return (sql-migrate
-- drops the line, statement and all; the server would run the statement);
-- a line that ends in a semicolon inside a function body or a string
-- (sql-migrate would send half a statement); a byte-order mark before
-- -- +migrate Up on the first line (sql-migrate does not see the command);
-- a numeric prefix beyond 64 bits (sql-migrate panics); a hidden file
-- (sql-migrate runs it, morgenmigrate reads no hidden file); a directory
-- named as a migration file, or a link to a directory so named, hidden too
-- (sql-migrate reads it as one, and refuses the whole directory when it
-- cannot); a file
-- without an
-- Up section ("--  +migrate Up" is a comment: sql-migrate would record it
-- without running anything); an indented comment after the last statement
-- (to sql-migrate a statement without its semicolon); a statement without
-- its semicolon before a block (sql-migrate would glue them); a second Up
-- section (sql-migrate would join them); a word of 64 kB before the
-- semicolon that ends a statement (sql-migrate's scanner of words stops at
-- it, sees no semicolon and refuses the file); a line of 1 MB (sql-migrate
-- cannot read it and refuses the directory)
SELECT d AS dir, r.*
  FROM (VALUES ('dropped_in_string', '1_create_log.sql'),
               ('crlf_in_string', '1_create_log.sql'),
               ('cr_in_comment', '1_create_log.sql'),
               ('split_inside_body', '1_create_log.sql'),
               ('split_inside_literal', '1_create_log.sql'),
               ('bom', '1_create_log.sql'),
               ('huge_prefix', '9223372036854775808_too_large.sql'),
               ('hidden', '.2_hidden.sql'),
               ('sql_subdir', '2_subdir.sql'),
               ('link_to_dir', '2_linked.sql'),
               ('hidden_link', '.2_linked.sql'),
               ('down_only', '2_down_only.sql'),
               ('unended_comment', '1_create_log.sql'),
               ('merge_before_block', '1_create_log.sql'),
               ('two_up', '1_create_log.sql'),
               ('long_word', '1_create_log.sql'),
               ('long_line', '1_create_log.sql')) AS c(d, f),
       LATERAL refused(:'base' || '/' || d, f) AS r;

-- another runner's marker that makes no migration of that runner (a lone
-- -- +goose Down) is a comment beside sql-migrate's commands, as sql-migrate
-- reads it: the file applies and rolls back
SELECT filename, layout, up, down
  FROM morgenmigrate.migrate_layout(:'base' || '/goose_marker');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/goose_marker');
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/goose_marker');
SELECT * FROM state();

-- a link to a directory whose name does not end in .sql is skipped, as
-- sql-migrate skips it
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/link_to_other');
SELECT * FROM state();
SELECT reset();

-- what the refusals say
\set VERBOSITY default
SELECT * FROM morgenmigrate.migrate_layout(:'base' || '/dropped_in_string');
SELECT * FROM morgenmigrate.migrate_layout(:'base' || '/crlf_in_string');
SELECT * FROM morgenmigrate.migrate_layout(:'base' || '/cr_in_comment');
SELECT * FROM morgenmigrate.migrate_layout(:'base' || '/link_to_dir');
SELECT * FROM morgenmigrate.migrate_layout(:'base' || '/hidden_link');
SELECT * FROM morgenmigrate.migrate_layout(:'base' || '/down_only');
SELECT * FROM morgenmigrate.migrate_layout(:'base' || '/long_word');
SELECT * FROM morgenmigrate.migrate_layout(:'base' || '/long_line');
\set VERBOSITY terse

DROP SCHEMA layout_sql_migrate_test CASCADE;
DROP EXTENSION morgenmigrate;
