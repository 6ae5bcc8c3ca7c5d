--
-- migrate_apply in its default, atomic mode: what a first deploy and every
-- later deploy rely on
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA apply_test;
SET search_path = apply_test;

-- everything lives in schema morgenmigrate; the history is dumped by pg_dump
SELECT extnamespace::regnamespace AS schema, extrelocatable,
       extconfig::regclass[] AS dumped
  FROM pg_extension WHERE extname = 'morgenmigrate';
SELECT attname, format_type(atttypid, atttypmod), attnotnull
  FROM pg_attribute
 WHERE attrelid = 'morgenmigrate.schema_migrations'::regclass AND attnum > 0
 ORDER BY attnum;
-- (NOT NULL is attnotnull above; PostgreSQL 18 also lists it here)
SELECT pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid = 'morgenmigrate.schema_migrations'::regclass AND contype <> 'n'
 ORDER BY conname;

-- nothing applied yet
SELECT * FROM morgenmigrate.migrate_status();

-- 1, 2, then 10 (version order); README.md, notes.txt, .hidden.sql and the
-- directory archive.sql are not migrations
SELECT filename, status, statements, locks
  FROM morgenmigrate.migrate_apply('@fixtures@/basic');

-- the schema they made
SELECT relname, relkind FROM pg_class
 WHERE relnamespace = 'apply_test'::regnamespace ORDER BY relname;
SELECT team_count();

-- one history row per file, by the caller, with the file's SHA-256
SELECT filename, kind, applied_by = current_user AS by_caller,
       duration > '0'::interval AS timed, checksum
  FROM morgenmigrate.schema_migrations ORDER BY applied_at;
SELECT s.filename
  FROM morgenmigrate.schema_migrations s
 WHERE s.checksum <> encode(sha256(pg_read_binary_file(
           '@fixtures@/basic/' || s.filename)), 'hex');

-- running it again, and ten times more, applies nothing
SELECT count(*) FROM morgenmigrate.migrate_apply('@fixtures@/basic');
SELECT count(*) FROM generate_series(1, 10),
       LATERAL morgenmigrate.migrate_apply('@fixtures@/basic');
SELECT count(*) FROM morgenmigrate.schema_migrations;

-- applied_at is the clock time each file finished, not the transaction's
-- start: inside one transaction the rows still come out in order
SET client_min_messages = warning;
DROP SCHEMA apply_test CASCADE;
RESET client_min_messages;
CREATE SCHEMA apply_test;
TRUNCATE morgenmigrate.schema_migrations;
BEGIN;
SELECT now() AS started \gset
SELECT count(*) FROM morgenmigrate.migrate_apply('@fixtures@/basic');
SELECT count(DISTINCT applied_at) AS distinct_times,
       bool_and(applied_at > :'started'::timestamptz) AS after_start
  FROM morgenmigrate.schema_migrations;
SELECT array_agg(filename ORDER BY applied_at) FROM morgenmigrate.schema_migrations;
COMMIT;

-- the order of files of a directory is version order: digit runs compare as
-- numbers, the rest byte by byte
SELECT filename, state FROM morgenmigrate.migrate_status('@fixtures@/basic');

-- empty files and files of comments only apply as no-ops and are recorded
TRUNCATE morgenmigrate.schema_migrations;
SELECT filename, status, statements
  FROM morgenmigrate.migrate_apply('@fixtures@/empty');
SELECT filename, kind FROM morgenmigrate.schema_migrations ORDER BY filename;

SET client_min_messages = warning;
DROP SCHEMA apply_test CASCADE;
RESET client_min_messages;
DROP EXTENSION morgenmigrate;
