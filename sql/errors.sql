--
-- An error inside a migration keeps its SQLSTATE, message, detail and hint,
-- gains CONTEXT: migration "NAME", line N, and leaves the database and the
-- history as they were
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA errors_test;
SET search_path = errors_test;
\set VERBOSITY default
\set SHOW_CONTEXT always

-- a runtime error on line 8 of the second file: the first file's table and
-- the third file are not there afterwards
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/errors');
SELECT count(*) AS tables FROM pg_class WHERE relnamespace = 'errors_test'::regnamespace;
SELECT count(*) AS history FROM morgenmigrate.schema_migrations;
SELECT count(*) AS failures FROM morgenmigrate.migration_errors;

-- the same error, caught, with every field
DO $$
DECLARE
    state text; msg text; ctx text;
BEGIN
    PERFORM morgenmigrate.migrate_apply('@fixtures@/errors');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            ctx = PG_EXCEPTION_CONTEXT;
    RAISE NOTICE 'sqlstate %, message %', state, msg;
    RAISE NOTICE 'context: %', split_part(ctx, E'\n', 1);
END
$$;

-- a syntax error in the middle of a file is found before anything runs:
-- its line, and no cursor into the caller's query
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/syntax');
SELECT count(*) AS tables FROM pg_class WHERE relnamespace = 'errors_test'::regnamespace;
SELECT count(*) AS history FROM morgenmigrate.schema_migrations;

-- detail and SQLSTATE of a unique violation
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/details');
-- a DO block's own SQLSTATE, detail and hint (the SQLSTATE from psql's
-- variable: VERBOSITY verbose would add PostgreSQL's own source location,
-- which changes with every release)
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/raise');
\echo :LAST_ERROR_SQLSTATE
-- a syntax error inside a plpgsql function body points at its line
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/funcbody');
-- psql meta-commands are not SQL
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/meta');
-- files that open with comments (the parser is given a file from its first
-- token): the lines still count from the top of the file, and a comment
-- that is never closed is still the scanner's error
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/comments_first');
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/comments_first_syntax');
SELECT * FROM morgenmigrate.migrate_apply('@fixtures@/comments_first_unterminated');

-- none of it left anything behind
SELECT count(*) AS tables FROM pg_class WHERE relnamespace = 'errors_test'::regnamespace;
SELECT count(*) AS functions FROM pg_proc WHERE pronamespace = 'errors_test'::regnamespace;
SELECT count(*) AS history FROM morgenmigrate.schema_migrations;

-- a caller's own context is kept around the migration's
CREATE FUNCTION deploy() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM morgenmigrate.migrate_apply('@fixtures@/errors');
END
$$;
SELECT deploy();

SET client_min_messages = warning;
DROP SCHEMA errors_test CASCADE;
DROP EXTENSION morgenmigrate;
