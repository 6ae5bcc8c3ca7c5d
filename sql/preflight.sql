--
-- The preflight: every pending file is read and checked before anything
-- runs; a statement that cannot run inside a migration refuses the whole
-- call with its file, line, SQLSTATE and a hint, and nothing changes.
--
CREATE EXTENSION morgenmigrate;
CREATE SCHEMA preflight_test;
SET search_path = preflight_test;

-- Applies a set in non-atomic mode (where a file that ran would stay
-- applied) and reports the error and whether anything changed.
CREATE FUNCTION refused(setname text,
    OUT code text, OUT message text, OUT hint text, OUT context text,
    OUT first_file_ran boolean, OUT history bigint)
LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        PERFORM morgenmigrate.migrate_apply(
            '@fixtures@/preflight/' || setname, atomic => false);
        code := 'none';
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE,
            message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT,
            context = PG_EXCEPTION_CONTEXT;
        context := split_part(context, E'\n', 1);
    END;
    first_file_ran := to_regclass('preflight_test.preflight_first') IS NOT NULL;
    SELECT count(*) INTO history FROM morgenmigrate.schema_migrations;
END
$$;

\x on
SELECT c AS construct, r.*
  FROM unnest(ARRAY[
      'create_index_concurrently', 'drop_index_concurrently',
      'reindex_concurrently', 'reindex_schema', 'vacuum', 'cluster_all',
      'create_database', 'drop_database', 'create_tablespace',
      'drop_tablespace', 'alter_system', 'alter_database_tablespace',
      'detach_concurrently', 'discard_all', 'create_subscription',
      'alter_subscription_refresh', 'commit', 'rollback', 'savepoint',
      'prepare_transaction', 'commit_prepared', 'begin_with_options',
      'copy_from_stdin', 'copy_to_stdout']) AS c,
       LATERAL refused(c) AS r;
\x off

-- the sets above hold every construct there is a fixture for
SELECT count(*) FROM pg_ls_dir('@fixtures@/preflight');

-- a BEGIN ... COMMIT (or START TRANSACTION ... END) around a whole file is
-- accepted and skipped; the words COMMIT, VACUUM and CONCURRENTLY inside
-- strings, comments, function bodies and DO blocks are just text; COPY from
-- a server file is fine
SELECT filename, status, statements
  FROM morgenmigrate.migrate_apply('@fixtures@/preflight_ok');
SELECT maintenance_note();
SELECT * FROM wrapped;
SELECT count(*) > 0 AS copied FROM copied;
SELECT to_regclass('started') IS NOT NULL AS started;

SET client_min_messages = warning;
DROP SCHEMA preflight_test CASCADE;
DROP EXTENSION morgenmigrate;
