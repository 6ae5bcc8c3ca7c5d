-- golang-migrate's directory rules, as docs/layouts.md lists them: which
-- names are migrations, versions, the pairing of down files by version,
-- files run whole, and what a rollback runs.  Each case is a directory of
-- its own under layout_golang_migrate/; a refusal is checked by its
-- SQLSTATE, by the file it names and by the database and history being as
-- they were.
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA layout_golang_migrate_test;
SET search_path = layout_golang_migrate_test;
\set VERBOSITY terse
SET client_min_messages = warning;
\set base '@fixtures@/layout_golang_migrate'
\i sql/include/layout_helpers.sql

-- Only names of the form VERSION_name.up.EXT / VERSION_name.down.EXT are
-- migrations, with the case as written: seed.sql, a forgotten ".up", an
-- upper-case ".UP", a hidden file, a file in a subdirectory and a name
-- without a leading version are ignored, never run.  Left to itself,
-- morgenmigrate cannot tell such a directory from a plain one with a
-- NAME.up.sql file (where seed.sql is a migration): it refuses it, naming
-- a file of each, until morgenmigrate.layout says which it is
SELECT * FROM refused(:'base' || '/ignored_names', '2_forgot_the_up.sql')
 WHERE call = 'layout';
SET morgenmigrate.layout = 'golang-migrate';
-- migrate_layout says of every entry why it is, or is not, a migration
SELECT filename, layout, version, kind, why
  FROM morgenmigrate.migrate_layout(:'base' || '/ignored_names');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/ignored_names');
SELECT * FROM state();
SELECT filename, state FROM morgenmigrate.migrate_status(:'base' || '/ignored_names');
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/ignored_names');
SELECT * FROM state();
SELECT reset();
RESET morgenmigrate.layout;

-- whatever follows ".up." or ".down." is run as SQL, as golang-migrate
-- hands any such file to the database
SELECT filename, version, kind
  FROM morgenmigrate.migrate_layout(:'base' || '/any_extension');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/any_extension');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/any_extension', steps => 2);
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/any_extension');
SELECT * FROM state();
SELECT reset();

-- a down file belongs to its version, whatever its name says after the
-- version
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/down_by_version');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/down_by_version');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/down_by_version');
SELECT * FROM state();
SELECT reset();

-- the files carry no markers: a comment that reads like another runner's
-- section marker is a comment, and the whole file runs
SELECT filename, up, down
  FROM morgenmigrate.migrate_layout(:'base' || '/marker_comments');
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/marker_comments');
SELECT * FROM state();
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/marker_comments');
SELECT * FROM state();
SELECT reset();

-- rolling back a version that has no down file runs nothing and forgets it:
-- golang-migrate steps over it to the version before
SELECT filename, status FROM morgenmigrate.migrate_apply(:'base' || '/no_down');
SELECT filename, status FROM morgenmigrate.migrate_rollback(:'base' || '/no_down');
SELECT * FROM state();
SELECT filename, state FROM morgenmigrate.migrate_status(:'base' || '/no_down');
SELECT reset();

-- refused before anything runs, nothing recorded or created: two files of
-- one version and direction (1 and 01 are one version), which golang-migrate
-- refuses too; a down file without its up file, whose down part
-- golang-migrate would run on a rollback past that version; a version too
-- large for golang-migrate, which it skips without a word
SELECT d AS dir, r.*
  FROM (VALUES ('duplicate_version', '01_also_one.up.sql'),
               ('down_only', '2_lost_its_up.down.sql'),
               ('version_overflow', '99999999999999999999_huge.up.sql')) AS c(d, f),
       LATERAL refused(:'base' || '/' || d, f) AS r;

DROP SCHEMA layout_golang_migrate_test CASCADE;
DROP EXTENSION morgenmigrate;
