-- node-pg-migrate's directory rules, as docs/layouts.md lists them: which
-- files are migrations, their order, how the markers cut a file, how the
-- layout is told, and what is refused.  Each case is a directory of its own
-- under layout_node_pg_migrate/; a refusal is checked by its SQLSTATE, by
-- the file it names and by the database and history being as they were.
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA layout_node_pg_migrate_test;
SET search_path = layout_node_pg_migrate_test;
\set VERBOSITY terse
SET client_min_messages = warning;
\set base '@fixtures@/layout_node_pg_migrate'

\i sql/include/layout_helpers.sql

-- order: the leading number, a 17-digit one as a UTC time (2024-01-01
-- before 1800000000000, a day of 2027); "-" after the number as good as
-- "_"; names of one number as localeCompare orders them: punctuation
-- ignored, lower case first (a, B; ab, a_c); x.SQL is an SQL migration
SELECT filename, layout, version, kind
  FROM morgenmigrate.migrate_layout(:'base' || '/order');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/order');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/order');
SELECT * FROM state();
SELECT reset();

-- JavaScript and TypeScript migrations (.mts and .cts too) only
-- node-pg-migrate can run; hidden files and subdirectories are not read
SELECT filename, layout, kind, why
  FROM morgenmigrate.migrate_layout(:'base' || '/names');

-- the markers as node-pg-migrate finds them: blanks and dashes after the
-- "--", any case, even over two lines ("--" above "-- Up Migration");
-- "-- Upmigration" is none; a part runs from where node-pg-migrate's search
-- finds its marker (the blank line above it too) to the other marker
SELECT filename, up, down
  FROM morgenmigrate.migrate_layout(:'base' || '/spellings');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/spellings');
SELECT * FROM state();
SELECT reset();

-- only the first line that reads like an up marker counts: a second one
-- is a comment inside the up part
SELECT filename, up, down
  FROM morgenmigrate.migrate_layout(:'base' || '/second_up');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/second_up');
SELECT * FROM state();
SELECT reset();

-- a byte-order mark before a comment line is not sent: the file applies
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/bom_after_comment');
SELECT * FROM state();
SELECT reset();

-- each file keeps its text when node-pg-migrate's order moves it (the
-- 17-digit name sorts first): a's part starts at its own line 2
SELECT filename, up, down
  FROM morgenmigrate.migrate_layout(:'base' || '/detached');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/detached');
SELECT * FROM state();
SELECT reset();

-- no markers at all: node-pg-migrate's names (13- or 17-digit numbers and
-- "_") say the layout, so the 17-digit name sorts as a time
SELECT filename, layout, version
  FROM morgenmigrate.migrate_layout(:'base' || '/names_only');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/names_only');
SELECT * FROM state();
SELECT reset();

-- NAME.down.sql is the migration NAME.down to node-pg-migrate, run before
-- NAME.sql ("add.down" sorts before "add.sql"); with the layout set it runs
-- so, otherwise it is refused below
SET morgenmigrate.layout = 'node-pg-migrate';
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/down_name');
SELECT * FROM state();
RESET morgenmigrate.layout;
SELECT reset();

-- node-pg-migrate writes a migration's name into its history as it is,
-- between quotes: a backslash stays a backslash there (with
-- standard_conforming_strings on, PostgreSQL's default), so such a name
-- applies and rolls back as any other, recorded as it is
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/backslash');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/backslash');
SELECT * FROM state();
SELECT reset();

-- a migration without a down part cannot be rolled back (node-pg-migrate
-- refuses it too): nothing changes
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/no_down');
SELECT * FROM refusal(format('SELECT * FROM morgenmigrate.migrate_rollback(%L)',
                             :'base' || '/no_down'), '1700000001000_forward.sql');
SELECT reset();

-- refused before anything runs, nothing recorded or created:
-- a file node-pg-migrate cannot load (README.md) or order (no number, a
-- 17-digit number that is no time); a byte-order mark before the up
-- marker, which node-pg-migrate would send; a line that reads like a
-- marker inside a string (node-pg-migrate would cut it in two); two
-- names of one number equal but for punctuation, or told apart only
-- beyond ASCII; two files of one name; NAME.down.sql where the layout is
-- not set, and a plain pair of NAME.sql and NAME.down.sql among
-- node-pg-migrate's names; a file with sql-migrate's markers; a name
-- holding a quote, an SQL or a JavaScript migration's (node-pg-migrate
-- writes it into its history unescaped, fails there and rolls back all it
-- ran); a link to a directory (node-pg-migrate lists it, whatever its name,
-- as a file, and fails on it)
SELECT d AS dir, r.*
  FROM (VALUES ('unloadable', 'README.md'),
               ('no_number', 'seed.sql'),
               ('bad_utc', '20241301000000000_thirteenth_month.sql'),
               ('bom', '1700000000000_create_log.sql'),
               ('marker_in_string', '1700000000000_create_log.sql'),
               ('tie_punctuation', '1700000001000_a_b.sql'),
               ('tie_unicode', '1700000001000_ete.sql'),
               ('same_name', '1700000001000_x.js'),
               ('down_name', '1700000001000_add.down.sql'),
               ('names_only_down', '1700000000000_create_log.down.sql'),
               ('other_runner', '1700000000000_create_log.sql'),
               ('quote', '1700000001000_it''s.sql'),
               ('quote_script', '1700000001000_it''s.js'),
               ('link_to_dir', '1700000001000_shared.sql')) AS c(d, f),
       LATERAL refused(:'base' || '/' || d, f) AS r;

-- what the refusals say
\set VERBOSITY default
SELECT * FROM morgenmigrate.migrate_layout(:'base' || '/tie_punctuation');
SELECT * FROM morgenmigrate.migrate_layout(:'base' || '/marker_in_string');
SELECT * FROM morgenmigrate.migrate_layout(:'base' || '/names_only_down');
SELECT * FROM morgenmigrate.migrate_status(:'base' || '/quote');
\set VERBOSITY terse

DROP SCHEMA layout_node_pg_migrate_test CASCADE;
DROP EXTENSION morgenmigrate;
